/* `sluice audit` (DESIGN §11): check the invariants of DESIGN §8 on a live cluster, or on a
 * standalone sidecar's data dir, and say which broke, with the evidence.
 *
 * The facts are read by chaos/probe.c (read-only), judged by chaos/audit.c. Exit 0 when no
 * invariant is violated, 1 when one is, 2 when the cluster cannot be audited (or a usage
 * error). What could not be observed is listed as unverified and does not change the exit. */
#include "common/auth.h"
#include "chaos/audit.h"
#include "chaos/probe.h"
#include "common/jsonw.h"
#include "common/log.h"
#include "common/sl_err.h"
#include "common/table_config.h"
#include "src/cmds.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define AUDIT_DEFAULT_BUDGET_MS (2 * 60 * 1000) /* slack after a segment's time threshold */

static const char audit_usage[] =
    "usage: sluice audit --zk ZK --cluster C [--table T] [--kafka BOOTSTRAP] [--deep] [--json]\n"
    "       sluice audit --data-dir D --table-config T.json --schema S.json [--kafka BOOTSTRAP]\n"
    "                    [--deep] [--json]\n"
    "options: [--commit-budget DURATION] [--timeout DURATION] [--work DIR]\n"
    "         [--max-message-bytes SIZE] [--token-file F] [--ca-file F] [--cert F --key F]\n"
    "\n"
    "Checks the invariants of DESIGN §8 and prints one row per invariant, then each violation\n"
    "(table, partition, segment, instance and the evidence) and each fact it could not check:\n"
    "  I1 chain           each partition's committed segments follow each other, no gap or "
    "overlap\n"
    "  I2 exactly once    committed offsets are within Kafka's; --deep re-reads every message and\n"
    "                     rebuilds each committed segment from them: it must have the committed "
    "CRC\n"
    "  I3 replica equality  every sidecar's copy verifies and has the committed CRC\n"
    "  I4 one committer   DONE records name their committer and never changed after the commit\n"
    "  I5 liveness        every partition has a consuming segment on a live instance, not older\n"
    "                     than its time threshold plus --commit-budget (default 2m) while Kafka\n"
    "                     has messages for it\n"
    "  I6 durability      every DONE segment downloads from the store (or a peer) with its CRC\n"
    "With --data-dir the files of a standalone sidecar are audited (I1, I2, I6).\n"
    "--kafka overrides the table config's broker list; --json prints one JSON object instead;\n"
    "--max-message-bytes is the sidecars' consumer.max.message.bytes (default 1M) for --deep.\n"
    "\n"
    "exit status: 0 no violation; 1 violations; 2 cannot audit (ZooKeeper, the table) or usage\n";

static int audit_bad_usage(const char *what)
{
    fprintf(stderr, "sluice audit: %s\n%s", what, audit_usage);
    return 2;
}

static int audit_main(int argc, char **argv, const auth_cli *cred)
{
    static const struct option opts[] = {
        {"zk", required_argument, 0, 'z'},           {"cluster", required_argument, 0, 'c'},
        {"table", required_argument, 0, 't'},        {"kafka", required_argument, 0, 'k'},
        {"deep", no_argument, 0, 'd'},               {"json", no_argument, 0, 'j'},
        {"data-dir", required_argument, 0, 'D'},     {"table-config", required_argument, 0, 'T'},
        {"schema", required_argument, 0, 'S'},       {"commit-budget", required_argument, 0, 'b'},
        {"timeout", required_argument, 0, 'o'},      {"work", required_argument, 0, 'w'},
        {"max-message-bytes", required_argument, 0, 'm'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    probe_opts po = {.commit_budget_ms = AUDIT_DEFAULT_BUDGET_MS, .cred = cred};
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        uint64_t v;
        switch (c) {
        case 'z': po.zk_connect = optarg; break;
        case 'c': po.cluster = optarg; break;
        case 't': po.table = optarg; break;
        case 'k': po.kafka = optarg; break;
        case 'd': po.deep = true; break;
        case 'j': json = true; break;
        case 'D': po.data_dir = optarg; break;
        case 'T': po.table_config = optarg; break;
        case 'S': po.schema = optarg; break;
        case 'w': po.work_dir = optarg; break;
        case 'b':
            if (tcfg_parse_duration(optarg, &v) || v > INT32_MAX)
                return audit_bad_usage("--commit-budget: not a duration (e.g. 90s, 5m)");
            po.commit_budget_ms = (int64_t)v;
            break;
        case 'o':
            if (tcfg_parse_duration(optarg, &v) || v < 100 || v > 600000)
                return audit_bad_usage("--timeout: a duration from 100ms to 10m");
            po.timeout_ms = (int)v;
            break;
        case 'm':
            if (tcfg_parse_size(optarg, &v) || v < 1 || v > (1u << 30))
                return audit_bad_usage("--max-message-bytes: a size from 1 to 1G");
            po.max_message_bytes = (size_t)v;
            break;
        case 'h': fputs(audit_usage, stdout); return 0;
        default: fputs(audit_usage, stderr); return 2;
        }
    }
    if (optind < argc) return audit_bad_usage("unexpected argument");
    bool standalone = po.data_dir || po.table_config || po.schema;
    if (standalone && (!po.data_dir || !po.table_config || !po.schema))
        return audit_bad_usage("--data-dir, --table-config and --schema go together");
    if (standalone && (po.zk_connect || po.cluster || po.table))
        return audit_bad_usage("--data-dir audits one standalone table: no --zk, --cluster, --table");
    if (!standalone && (!po.zk_connect || !po.cluster))
        return audit_bad_usage("--zk and --cluster are required (or --data-dir ...)");
    po.progress = !json && isatty(STDERR_FILENO);
    if (!po.progress) sl_log_threshold = SL_LOG_ERROR; /* quiet unless something is wrong */
    else sl_log_threshold = SL_LOG_WARN;

    audit_model m;
    char err[1024] = "";
    int rc = standalone ? probe_data_dir(&po, &m, err, sizeof err)
                        : probe_cluster(&po, &m, err, sizeof err);
    if (rc) {
        fprintf(stderr, "sluice audit: cannot audit: %s\n", err[0] ? err : sluice_strerror(rc));
        audit_model_free(&m);
        return 2;
    }
    audit_report r;
    audit_check(&m, &r);
    if (json) {
        jsonw w;
        jsonw_init(&w);
        audit_report_json(&r, &w);
        jsonw_text(&w, "\n", 1);
        fwrite(w.buf, 1, w.len, stdout);
        jsonw_free(&w);
    } else {
        audit_report_text(&r, stdout);
    }
    int exit_code = r.nviolations ? 1 : 0;
    audit_report_free(&r);
    audit_model_free(&m);
    return exit_code;
}

int cmd_audit_main(int argc, char **argv)
{
    return auth_cli_main(argc, argv, "sluice audit", audit_main);
}
