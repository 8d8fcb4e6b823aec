/* `sluice chaos` (DESIGN §11): run a local cluster under faults and check the invariants.
 *
 *   sluice chaos list
 *   sluice chaos run (--scenario NAME|all | --random) [--seed S] [--runs N] [--duration D]
 *                    [--rate R] [--table-config T --schema S] [--work DIR]
 *
 * One run: a local cluster (chaos/cluster.c) on the shared ZooKeeper, seeded data from
 * loadgen for --duration, the scenario's nemesis (chaos/nemesis.c) during the load, heal,
 * quiescence (every partition committed up to Kafka's end on all three replicas), then the
 * audit with --deep (chaos/probe.c, chaos/audit.c). One verdict row per run with the seed that
 * reproduces it and its history file. Exit 0 when every run passed (or was skipped), 1 when a
 * run failed or never injected its fault, 2 on a usage error or when the cluster cannot run. */
#include "chaos/audit.h"
#include "chaos/cluster.h"
#include "chaos/history.h"
#include "chaos/nemesis.h"
#include "chaos/probe.h"
#include "common/clock.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/sl_err.h"
#include "common/table_config.h"
#include "src/cmds.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHAOS_QUIESCE_MS 60000 /* after the heal: every partition committed up to Kafka's end */
#define CHAOS_PARTITIONS 2
#define CHAOS_FLUSH_ROWS 2500
#define CHAOS_MAX_JOBS 8
#define CHAOS_LINE_MAX 4096 /* one result line: PIPE_BUF, so that a write is atomic */
#define CHAOS_MAX_KINDS 64  /* fault kinds in the closing summary (scenarios, random faults) */

static const char chaos_usage[] =
    "usage: sluice chaos list\n"
    "       sluice chaos run (--scenario NAME|all | --random) [--seed S] [--runs N]\n"
    "                        [--duration D] [--rate R] [--table-config T.json --schema S.json]\n"
    "                        [--work DIR] [--jobs J] [--sidecar-set K=V]... [--controller-set K=V]...\n"
    "\n"
    "Starts a local cluster (ZooKeeper, kafka-mock, two controllers, three sidecars) per run,\n"
    "streams seeded events for --duration (default 20s) at --rate rows/s (default 1500), applies\n"
    "the scenario's faults, heals, waits until every partition has committed up to Kafka's end\n"
    "on every replica, runs `sluice audit --deep`, and prints one verdict row per run: PASS, FAIL\n"
    "(a violation, a crash, or no quiescence), INCONCLUSIVE (the fault never happened), ERROR.\n"
    "--scenario all runs every named scenario once; --random composes 1-3 faults per run from\n"
    "the seed (--runs N, default 1). Run k uses seed S+k-1: `--seed` of a row reproduces it.\n"
    "Each run's history (JSON lines: every operation and fault with its time), logs and audit\n"
    "report are kept under --work (default a new /tmp/sluice-chaos.XXXXXX).\n"
    "--jobs J runs J clusters at once (default 1), each job with its own ZooKeeper; rows come\n"
    "in the order runs end. Runs that wait out sessions leave cores idle, but every cluster\n"
    "is 8 processes: more jobs than cores makes the timing of faults less exact.\n"
    "--sidecar-set and --controller-set add a setting to every sidecar or controller (e.g. a\n"
    "hidden test knob that breaks the build on purpose, to see the suite catch it).\n"
    "\n"
    "exit status: 0 every run passed (or was SKIPPED: a fault this machine cannot make);\n"
    "1 a run failed or was inconclusive; 2 usage or setup\n";

static volatile sig_atomic_t chaos_stop;
static void chaos_on_signal(int sig)
{
    (void)sig;
    chaos_stop = 1;
}

typedef struct chaos_cfg {
    const char *exe;
    char home[CCL_PATH_MAX - 32]; /* the tree with deploy/zk-start.sh and deploy/examples */
    char work[CCL_PATH_MAX / 2];
    const char *table_config, *schema;
    char default_table[PATH_MAX + 64], default_schema[PATH_MAX + 64];
    int64_t duration_ms;
    int rate;
    /* --sidecar-set / --controller-set: settings of every process of that kind (a build broken
     * on purpose, to show the suite catches it) */
    const char *sidecar_sets[CCL_MAX_SETS / 2 + 1], *controller_sets[CCL_MAX_SETS / 2 + 1];
    int nsidecar_sets, ncontroller_sets;
} chaos_cfg;

typedef struct chaos_result {
    const char *verdict;
    size_t violations, unverified;
    unsigned injected, crashes;
    double secs;
    char history[PATH_MAX];
    char why[640]; /* room for "audit: " and an error of the audit's size */
    char kinds[256]; /* the faults that happened, "kind:count,...", or "" */
} chaos_result;

static bool chaos_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The tree holding deploy/: $SLUICE_HOME, or the binary's parent's parent (build/sluice in a
 * checkout), or /usr/share/sluice. */
static int chaos_home(chaos_cfg *c)
{
    char exe[PATH_MAX], probe[PATH_MAX + 64];
    const char *env = getenv("SLUICE_HOME");
    if (env && *env) {
        snprintf(c->home, sizeof c->home, "%s", env);
        snprintf(probe, sizeof probe, "%s/deploy/zk-start.sh", c->home);
        return chaos_file(probe) ? 0 : -1;
    }
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        for (int up = 0; up < 2; up++) {
            char *s = strrchr(exe, '/');
            if (!s) break;
            *s = '\0';
            snprintf(probe, sizeof probe, "%s/deploy/zk-start.sh", exe);
            if (chaos_file(probe) && strlen(exe) < sizeof c->home) {
                memcpy(c->home, exe, strlen(exe) + 1);
                return 0;
            }
        }
    }
    snprintf(c->home, sizeof c->home, "/usr/share/sluice");
    snprintf(probe, sizeof probe, "%s/deploy/zk-start.sh", c->home);
    return chaos_file(probe) ? 0 : -1;
}

static int chaos_list(void)
{
    size_t n;
    const nem_scenario *s = nem_scenarios(&n);
    printf("%-36s %s\n", "SCENARIO", "WHAT HAPPENS");
    for (size_t i = 0; i < n; i++) printf("%-36s %s\n", s[i].name, s[i].summary);
    printf("%-36s %s\n", "(--random)",
           "1-3 of: kill, pause or session expiry of a sidecar; kill or pause of the leading "
           "controller; ZooKeeper restart or pause; brokers down; leader change; Kafka RTT");
    return 0;
}

/* Every partition committed up to Kafka's end, every DONE segment on all three replicas with
 * the committed CRC and recorded ONLINE. */
static bool chaos_quiet(const audit_model *m, char *why, size_t cap)
{
    if (m->ntables == 0) return snprintf(why, cap, "no table"), false;
    for (size_t t = 0; t < m->ntables; t++)
        for (size_t p = 0; p < m->tables[t].nparts; p++) {
            const audit_part *ap = &m->tables[t].parts[p];
            if (!ap->kafka_known)
                return snprintf(why, cap, "partition %d: Kafka not known", ap->partition), false;
            int64_t end = -1;
            for (size_t s = 0; s < ap->nsegs; s++) {
                const audit_seg *sg = &ap->segs[s];
                if (sg->m.status != SEGMETA_DONE) continue;
                end = sg->m.end_offset;
                if (sg->ncopies < CCL_SIDECARS)
                    return snprintf(why, cap, "%s: %zu replicas", sg->m.segment, sg->ncopies),
                           false;
                for (size_t k = 0; k < sg->ncopies; k++) {
                    const audit_copy *cp = &sg->copies[k];
                    const char *miss = !cp->reachable         ? "not reachable"
                                       : !cp->present         ? "no file"
                                       : !cp->valid           ? "file not verifying"
                                       : cp->crc != sg->m.crc ? "another CRC"
                                       : !cp->recorded_online ? "not recorded ONLINE"
                                                              : NULL;
                    if (miss)
                        return snprintf(why, cap,
                                        "%.100s: %.64s not yet ONLINE with its CRC (%s%s%.200s)",
                                        sg->m.segment, cp->instance, miss, cp->why[0] ? ": " : "",
                                        cp->why),
                               false;
                }
            }
            if (end < ap->high)
                return snprintf(why, cap, "partition %d committed to %" PRId64 " of %" PRId64,
                                ap->partition, end, ap->high),
                       false;
        }
    return true;
}

/* Any log of the run containing text (a knob's proof line). */
static bool chaos_logged(const char *dir, const char *text)
{
    char cmd[PATH_MAX + 256];
    snprintf(cmd, sizeof cmd, "grep -qF -- '%s' '%s'/*.log 2>/dev/null", text, dir);
    return system(cmd) == 0;
}

static void chaos_run_one(const chaos_cfg *cfg, ccl_zk *zk, const nem_scenario *sc,
                          uint64_t seed, int k, chaos_result *res)
{
    memset(res, 0, sizeof *res);
    double t0 = sl_clock_mono_s();
    const char *name = sc ? sc->name : "random";
    char dir[PATH_MAX / 2], cluster[64], err[512] = "";
    snprintf(dir, sizeof dir, "%s/run-%d-%s", cfg->work, k, name);
    snprintf(cluster, sizeof cluster, "chaos-%d-%d", (int)getpid(), k);
    /* a run of an earlier invocation with the same --work: its logs would be read as this one's */
    fsutil_remove_tree(dir, NULL, 0);
    mkdir(dir, 0755);
    snprintf(res->history, sizeof res->history, "%s/history.jsonl", dir);
    hist *h = hist_open(res->history);
    hist_add(h, "run", name, "seed %" PRIu64 ", cluster %s", seed, cluster);
    ccl_opts o = {.exe = cfg->exe, .work = dir, .cluster = cluster,
                  .table_config = cfg->table_config, .schema = cfg->schema,
                  .load_schema = cfg->schema == cfg->default_schema ? NULL : cfg->schema,
                  .partitions = CHAOS_PARTITIONS,
                  .flush_rows = sc && sc->flush_rows ? sc->flush_rows : CHAOS_FLUSH_ROWS,
                  .flush_time = "4s"};
    /* the scenario's settings, then the user's (--sidecar-set, --controller-set) */
    const char *side[CCL_MAX_SETS + 1] = {0}, *s3[CCL_MAX_SETS + 1] = {0},
               *ctl[CCL_MAX_SETS + 1] = {0};
    int ns = 0, n3 = 0, nc = 0;
    const char *const *lists[][2] = {
        {sc ? sc->sidecar_sets : NULL, cfg->sidecar_sets},
        {sc ? sc->sidecar3_sets : NULL, NULL},
        {sc ? sc->controller_sets : NULL, cfg->controller_sets}};
    for (int l = 0; l < 2; l++)
        for (int i = 0; lists[0][l] && lists[0][l][i] && ns < CCL_MAX_SETS; i++)
            side[ns++] = s3[n3++] = lists[0][l][i];
    for (int i = 0; lists[1][0] && lists[1][0][i] && n3 < CCL_MAX_SETS; i++)
        s3[n3++] = lists[1][0][i];
    for (int l = 0; l < 2; l++)
        for (int i = 0; lists[2][l] && lists[2][l][i] && nc < CCL_MAX_SETS; i++)
            ctl[nc++] = lists[2][l][i];
    o.sidecar_sets[0] = o.sidecar_sets[1] = side;
    o.sidecar_sets[2] = s3;
    o.controller_sets = ctl;
    int64_t duration_ms = sc && sc->min_duration_ms > cfg->duration_ms ? sc->min_duration_ms
                                                                        : cfg->duration_ms;
    nem_run r = {.zk = zk, .h = h, .rng = seed, .window_ms = duration_ms};
    ccl *c = ccl_start(&o, zk, h, err, sizeof err);
    if (!c) {
        res->verdict = "ERROR";
        snprintf(res->why, sizeof res->why, "%s", err);
        goto out;
    }
    int64_t rows = (int64_t)cfg->rate * duration_ms / 1000;
    ccl_load(c, 0, rows, cfg->rate);
    r.c = c;
    int rc = sc ? sc->run(&r) : nem_random(&r);
    if (!rc) rc = nem_heal(&r);
    int lrc = ccl_load_wait(c, 150);
    if (rc || lrc) {
        res->verdict = "ERROR";
        snprintf(res->why, sizeof res->why, rc ? "the cluster could not be healed"
                                               : "loadgen could not deliver every row");
        goto out;
    }
    /* a knob that changes bytes rather than exiting or stopping proves itself in the log */
    if (sc && sc->proof && r.injected == 0 && chaos_logged(dir, sc->proof)) r.injected++;
    if (r.skipped[0]) {
        res->verdict = "SKIPPED";
        snprintf(res->why, sizeof res->why, "%s", r.skipped);
        goto out;
    }
    /* quiescence: poll without --deep until every partition committed everything; short
     * network timeouts, so that a process a knob stops meanwhile is continued on time (the
     * supervisor runs between polls) */
    probe_opts po = {.zk_connect = zk->connect, .cluster = cluster, .work_dir = dir,
                     .commit_budget_ms = 60000, .timeout_ms = 2000};
    int64_t deadline = sl_clock_mono_ms() + CHAOS_QUIESCE_MS;
    bool quiet = false;
    char why[512] = "";
    while (!quiet && !chaos_stop && sl_clock_mono_ms() < deadline) {
        nem_supervise(&r); /* a knob may fire after the heal: its process comes back */
        audit_model m;
        if (probe_cluster(&po, &m, err, sizeof err) == 0) quiet = chaos_quiet(&m, why, sizeof why);
        else snprintf(why, sizeof why, "%s", err);
        audit_model_free(&m);
        if (!quiet) sl_clock_sleep_ms(1000);
    }
    if (!quiet && chaos_stop) { /* SIGINT/SIGTERM: no verdict on a run cut short */
        res->verdict = "ERROR";
        snprintf(res->why, sizeof res->why, "interrupted before the cluster was quiet");
        goto out;
    }
    hist_add(h, "quiesce", "", quiet ? "every partition committed on every replica"
                                     : "not quiet: %s", why);
    po.deep = true;
    po.timeout_ms = 10000; /* the audit itself: the default network timeout */
    audit_model m;
    audit_report ar;
    memset(&ar, 0, sizeof ar);
    if (probe_cluster(&po, &m, err, sizeof err) != 0) {
        res->verdict = "ERROR";
        snprintf(res->why, sizeof res->why, "audit: %s", err);
        audit_model_free(&m);
        goto out;
    }
    audit_check(&m, &ar);
    char apath[PATH_MAX];
    snprintf(apath, sizeof apath, "%s/audit.txt", dir);
    FILE *af = fopen(apath, "w");
    if (af) {
        audit_report_text(&ar, af);
        fclose(af);
    }
    res->violations = ar.nviolations + (r.violated[0] ? 1 : 0);
    res->unverified = ar.nunverified;
    res->injected = r.injected;
    if (sc && r.injected) snprintf(res->kinds, sizeof res->kinds, "%s:%u", sc->name, r.injected);
    else snprintf(res->kinds, sizeof res->kinds, "%s", r.kinds);
    res->crashes = r.crashes;
    hist_add(h, "audit", "", "%zu violations, %zu unverified, %" PRIu64 " rebuilt from Kafka",
             ar.nviolations, ar.nunverified, ar.rebuilt);
    if (res->violations || r.crashes || !quiet) {
        res->verdict = "FAIL";
        snprintf(res->why, sizeof res->why, "%s",
                 r.violated[0]    ? r.violated
                 : ar.nviolations ? ar.violations[0].why
                 : r.crashes    ? "a process crashed (see the history)"
                                : why);
    } else if (sc && strcmp(sc->name, "none") != 0 && !r.injected) {
        res->verdict = "INCONCLUSIVE";
        snprintf(res->why, sizeof res->why, "the fault never happened%s%s",
                 r.why_not[0] ? ": " : "", r.why_not);
    } else {
        res->verdict = "PASS";
    }
    audit_report_free(&ar);
    audit_model_free(&m);
out:
    ccl_free(c);
    nem_cleanup(&r);
    res->secs = sl_clock_mono_s() - t0;
    hist_add(h, "verdict", name, "%s %s", res->verdict, res->why);
    hist_close(h);
}

/* Job j of jobs: its own ZooKeeper (<work>/zk, or zk-<j+1> beyond the first), runs k = j,
 * j + jobs, ... < total, each reported on fd as one line "VERDICT row[\\nwhy]\n" (one write,
 * so that the jobs' lines never interleave). Exit status: 0, or 2 when ZooKeeper did not
 * start. */
static int chaos_job(const chaos_cfg *cfg, const nem_scenario *one, bool random, uint64_t seed,
                     long total, int j, int jobs, int fd)
{
    ccl_zk zk;
    char zdir[CCL_PATH_MAX], script[CCL_PATH_MAX], err[512];
    if (j == 0) snprintf(zdir, sizeof zdir, "%s/zk", cfg->work);
    else snprintf(zdir, sizeof zdir, "%s/zk-%d", cfg->work, j + 1);
    snprintf(script, sizeof script, "%s/deploy/zk-start.sh", cfg->home);
    if (ccl_zk_start(&zk, script, zdir, err, sizeof err)) {
        fprintf(stderr, "sluice chaos: %s\n", err);
        return 2;
    }
    size_t nsc;
    const nem_scenario *all = nem_scenarios(&nsc);
    for (long k = j; k < total && !chaos_stop; k += jobs) {
        const nem_scenario *sc = random ? NULL : one ? one : &all[k % (long)nsc];
        uint64_t s = seed + (uint64_t)k;
        chaos_result res;
        chaos_run_one(cfg, &zk, sc, s, (int)k + 1, &res);
        for (char *c = res.why; *c; c++)
            if (*c == '\n') *c = ' ';
        char line[CHAOS_LINE_MAX];
        int n = snprintf(line, sizeof line, "%s %s %-4ld %-36s %-8" PRIu64 " %-12s %6zu %6zu %6u %6.0f  %s%s%.700s\n",
                         res.verdict, res.kinds[0] ? res.kinds : "-", k + 1, sc ? sc->name : "random", s, res.verdict,
                         res.violations, res.unverified, res.injected, res.secs, res.history,
                         res.why[0] ? "\\n    " : "", res.why);
        if (n >= (int)sizeof line) {
            n = (int)sizeof line - 1;
            line[n - 1] = '\n';
        }
        if (write(fd, line, (size_t)n) != n) break;
    }
    ccl_zk_stop(&zk);
    return 0;
}

static int chaos_bad_usage(const char *what)
{
    fprintf(stderr, "sluice chaos: %s\n%s", what, chaos_usage);
    return 2;
}

static int chaos_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"scenario", required_argument, 0, 's'}, {"random", no_argument, 0, 'R'},
        {"seed", required_argument, 0, 'S'},     {"runs", required_argument, 0, 'n'},
        {"duration", required_argument, 0, 'd'}, {"rate", required_argument, 0, 'r'},
        {"table-config", required_argument, 0, 'T'}, {"schema", required_argument, 0, 'C'},
        {"work", required_argument, 0, 'w'},     {"help", no_argument, 0, 'h'},
        {"sidecar-set", required_argument, 0, 'x'}, {"controller-set", required_argument, 0, 'y'},
        {"jobs", required_argument, 0, 'j'},     {0, 0, 0, 0}};
    chaos_cfg cfg = {.duration_ms = 20000, .rate = 1500};
    const char *scenario = NULL, *work = NULL;
    bool random = false;
    uint64_t seed = (uint64_t)sl_clock_wall_ms() % 1000000;
    long runs = 1;
    int jobs = 1;
    optind = 1;
    for (int ch; (ch = getopt_long(argc, argv, "h", opts, NULL)) != -1;) {
        char *end;
        uint64_t v;
        switch (ch) {
        case 's': scenario = optarg; break;
        case 'R': random = true; break;
        case 'S':
            errno = 0;
            seed = strtoull(optarg, &end, 10);
            if (errno || *end || !*optarg) return chaos_bad_usage("--seed: not a number");
            break;
        case 'n':
            runs = strtol(optarg, &end, 10);
            if (*end || runs < 1 || runs > 100000) return chaos_bad_usage("--runs: 1 to 100000");
            break;
        case 'd':
            if (tcfg_parse_duration(optarg, &v) || v < 5000 || v > 3600000)
                return chaos_bad_usage("--duration: from 5s to 1h");
            cfg.duration_ms = (int64_t)v;
            break;
        case 'r':
            cfg.rate = (int)strtol(optarg, &end, 10);
            if (*end || cfg.rate < 10 || cfg.rate > 100000)
                return chaos_bad_usage("--rate: 10 to 100000 rows per second");
            break;
        case 'j':
            jobs = (int)strtol(optarg, &end, 10);
            if (*end || jobs < 1 || jobs > CHAOS_MAX_JOBS)
                return chaos_bad_usage("--jobs: 1 to 8");
            break;
        case 'T': cfg.table_config = optarg; break;
        case 'C': cfg.schema = optarg; break;
        case 'w': work = optarg; break;
        case 'x':
        case 'y': {
            const char **l = ch == 'x' ? cfg.sidecar_sets : cfg.controller_sets;
            int *n = ch == 'x' ? &cfg.nsidecar_sets : &cfg.ncontroller_sets;
            if (*n == CCL_MAX_SETS / 2 || !strchr(optarg, '=') || *optarg == '=')
                return chaos_bad_usage("--sidecar-set/--controller-set: KEY=VALUE, at most 4");
            l[(*n)++] = optarg;
            break;
        }
        case 'h': fputs(chaos_usage, stdout); return 0;
        default: fputs(chaos_usage, stderr); return 2;
        }
    }
    if (optind < argc) return chaos_bad_usage("unexpected argument");
    if (!!scenario == random) return chaos_bad_usage("one of --scenario NAME|all or --random");
    if (!cfg.table_config != !cfg.schema)
        return chaos_bad_usage("--table-config and --schema go together");
    const nem_scenario *one = NULL;
    if (scenario && strcmp(scenario, "all") != 0 && !(one = nem_find(scenario))) {
        fprintf(stderr, "sluice chaos: unknown scenario %s (see sluice chaos list)\n", scenario);
        return 2;
    }
    if (chaos_home(&cfg)) {
        fprintf(stderr, "sluice chaos: deploy/zk-start.sh not found next to the binary, in "
                        "$SLUICE_HOME or /usr/share/sluice\n");
        return 2;
    }
    if (!cfg.table_config) {
        snprintf(cfg.default_table, sizeof cfg.default_table,
                 "%s/deploy/examples/events_table.json", cfg.home);
        snprintf(cfg.default_schema, sizeof cfg.default_schema,
                 "%s/deploy/examples/events_schema.json", cfg.home);
        cfg.table_config = cfg.default_table;
        cfg.schema = cfg.default_schema;
    }
    static char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return chaos_bad_usage("cannot find the sluice binary (/proc/self/exe)");
    exe[n] = '\0';
    cfg.exe = exe;
    if (work) {
        if (strlen(work) >= sizeof cfg.work - 64) return chaos_bad_usage("--work: path too long");
        snprintf(cfg.work, sizeof cfg.work, "%s", work);
        char why[CCL_PATH_MAX + 64];
        if (fsutil_mkdirs(work, why, sizeof why)) {
            fprintf(stderr, "sluice chaos: --work: %s\n", why);
            return 2;
        }
    } else {
        snprintf(cfg.work, sizeof cfg.work, "/tmp/sluice-chaos.XXXXXX");
        if (!mkdtemp(cfg.work)) {
            fprintf(stderr, "sluice chaos: mkdtemp: %s\n", strerror(errno));
            return 2;
        }
    }
    /* no SA_RESTART in the parent: a signal interrupts its read of the pipe, so that it can
     * pass the stop on to the jobs (each finishes the run it is in) */
    struct sigaction sa = {.sa_handler = chaos_on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    sl_log_set_level("error");
    size_t nsc;
    nem_scenarios(&nsc);
    long total = one || random ? runs : (long)nsc * runs;
    if (jobs > total) jobs = (int)total;
    printf("sluice chaos: %ld run(s), seed %" PRIu64 ", %d job(s), work %s\n", total, seed, jobs,
           cfg.work);
    printf("%-4s %-36s %-8s %-12s %6s %6s %6s %6s  %s\n", "RUN", "SCENARIO", "SEED", "VERDICT",
           "VIOL", "UNVER", "FAULTS", "SECS", "HISTORY");
    fflush(stdout);
    /* one child per job, each with its own ZooKeeper (a scenario may stop or pause it), taking
     * runs j, j + jobs, ...; each finished run comes back as one line on the pipe */
    int pfd[2];
    /* close-on-exec: what a job starts (ZooKeeper outlives its script) must not hold the write
     * end, or the parent would wait for EOF as long as that process lives */
    if (pipe2(pfd, O_CLOEXEC) != 0) {
        fprintf(stderr, "sluice chaos: pipe: %s\n", strerror(errno));
        return 2;
    }
    pid_t kids[CHAOS_MAX_JOBS];
    int nkids = 0;
    for (int j = 0; j < jobs; j++) {
        pid_t pid = fork();
        if (pid == 0) {
            close(pfd[0]);
            signal(SIGINT, chaos_on_signal); /* a job's own calls restart after a signal */
            signal(SIGTERM, chaos_on_signal);
            _exit(chaos_job(&cfg, one, random, seed, total, j, jobs, pfd[1]));
        }
        if (pid < 0) {
            fprintf(stderr, "sluice chaos: fork: %s\n", strerror(errno));
            break;
        }
        kids[nkids++] = pid;
    }
    close(pfd[1]);
    int exit_rc = nkids < jobs ? 2 : 0;
    long pass = 0, fail = 0, skipped = 0;
    FILE *in = fdopen(pfd[0], "r");
    char line[CHAOS_LINE_MAX];
    /* faults by kind over every run, for the closing summary */
    char kind_name[CHAOS_MAX_KINDS][64];
    long kind_count[CHAOS_MAX_KINDS] = {0};
    int nkinds = 0;
    long violations = 0;
    bool forwarded = false;
    for (;;) {
        if (chaos_stop && !forwarded) { /* pass a SIGINT/SIGTERM on to the jobs, once */
            for (int i = 0; i < nkids; i++) kill(kids[i], SIGTERM);
            forwarded = true;
        }
        if (!in) break;
        errno = 0;
        if (!fgets(line, sizeof line, in)) {
            if (errno == EINTR) {
                clearerr(in);
                continue;
            }
            break;
        }
        char verdict[16], kinds[256];
        int off = 0;
        if (sscanf(line, "%15s %255s %n", verdict, kinds, &off) != 2) continue;
        /* KINDS: kind:count,... ("-": none) */
        for (char *save = NULL, *kd = strtok_r(kinds, ",", &save); kd && strcmp(kd, "-") != 0;
             kd = strtok_r(NULL, ",", &save)) {
            char *colon = strrchr(kd, ':');
            long cnt = colon ? strtol(colon + 1, NULL, 10) : 1;
            if (colon) *colon = '\0';
            int i = 0;
            while (i < nkinds && strcmp(kind_name[i], kd) != 0) i++;
            if (i == nkinds && nkinds < CHAOS_MAX_KINDS)
                snprintf(kind_name[nkinds++], sizeof kind_name[0], "%s", kd);
            if (i < nkinds) kind_count[i] += cnt;
        }
        size_t viol = 0;
        sscanf(line + off, "%*s %*s %*s %*s %zu", &viol);
        violations += (long)viol;
        for (char *nl; (nl = strstr(line + off, "\\n"));) memcpy(nl, "\n ", 2); /* row, why */
        fputs(line + off, stdout);
        fflush(stdout);
        if (strcmp(verdict, "PASS") == 0) pass++;
        else if (strcmp(verdict, "SKIPPED") == 0) skipped++;
        else {
            fail++;
            if (exit_rc == 0) exit_rc = strcmp(verdict, "ERROR") == 0 ? 2 : 1;
        }
    }
    if (in) fclose(in);
    for (int i = 0; i < nkids; i++) {
        int st;
        while (waitpid(kids[i], &st, 0) < 0 && errno == EINTR) continue;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) exit_rc = exit_rc ? exit_rc : 2;
    }
    if (pass + skipped + fail < total && !chaos_stop && !exit_rc) exit_rc = 2;
    printf("sluice chaos: faults injected by kind:");
    for (int i = 0; i < nkinds; i++) printf(" %s %ld%s", kind_name[i], kind_count[i], i + 1 < nkinds ? "," : "");
    printf("%s; violations %ld\n", nkinds ? "" : " none", violations);
    printf("sluice chaos: %ld passed, %ld skipped, %ld not%s\n", pass, skipped, fail,
           chaos_stop ? " (interrupted)" : "");
    return chaos_stop && !exit_rc ? 2 : exit_rc;
}

int cmd_chaos_main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fputs(chaos_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "list") == 0) return argc == 2 ? chaos_list() : chaos_bad_usage("list takes no argument");
    if (strcmp(argv[1], "run") == 0) return chaos_run(argc - 1, argv + 1);
    return chaos_bad_usage("unknown subcommand (list or run)");
}
