/* `sluice table add | segments | force-commit | pause | resume | reingest` (DESIGN §3, §9):
 * the admin client of a controller.
 *
 * add validates both files locally with the same loaders the controller and the sidecar use
 * (schema_load, tcfg_load), so a mistake is reported with the file and the key before any
 * network traffic; then it POSTs `{"tableConfig":<T.json>,"schema":<S.json>}` with the two
 * files' text spliced in unchanged (no re-serialisation that could reformat numbers).
 *
 * Leader discovery: the user may name any controller. A non-leader answers admin requests
 * `307 Temporary Redirect` with `Location: <leader URL><same path>`; httpc follows it with the
 * same method and body. A non-leader that cannot redirect (no leader known yet, or an older
 * one) may answer 421 or 503 with `{"leader":"http://host:port"}`; then the request is sent
 * again to that base URL with the same path. Both are bounded by MAX_HOPS. A 503 without a
 * hint (no leader elected yet) is retried for up to NO_LEADER_WAIT_MS. */
#include "common/auth.h"
#include "common/clock.h"
#include "common/fsutil.h"
#include "common/httpc.h"
#include "common/schema.h"
#include "common/sl_err.h"
#include "common/table_config.h"
#include "common/xalloc.h"
#include "segment/segname.h"
#include "src/cmds.h"

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_HOPS 5
#define DEFAULT_TIMEOUT_S 30
#define SEGMENTS_MAX_BODY (256u << 20)
#define URL_MAX 2048
#define NO_LEADER_WAIT_MS 10000L /* how long a 503 without a leader hint is retried */
#define NO_LEADER_RETRY_MS 500L

static const char table_usage[] =
    "usage: sluice table add --controller URL --table-config T.json --schema S.json\n"
    "                        [--timeout SECONDS]\n"
    "       sluice table segments --controller URL --table NAME [--pretty] [--timeout SECONDS]\n"
    "       sluice table force-commit --controller URL --table NAME [--partitions 0,3]\n"
    "                        [--wait SECONDS] [--timeout SECONDS]\n"
    "       sluice table pause --controller URL --table NAME [--timeout SECONDS]\n"
    "       sluice table resume --controller URL --table NAME\n"
    "                        [--consume-from lastConsumed|smallest|largest] [--timeout SECONDS]\n"
    "       sluice table reingest --controller URL --table NAME --segment SEGMENT\n"
    "                        [--timeout SECONDS]\n"
    "\n"
    "add       check the table config and schema locally (errors name the file and the key),\n"
    "          then create the table: POST URL/tables with\n"
    "          {\"tableConfig\":<T.json>,\"schema\":<S.json>}\n"
    "segments  print the table's segments, the JSON array of GET URL/tables/NAME/segments\n"
    "          (as received; --pretty indents it)\n"
    "force-commit  end the consuming segments of the table (or of these partitions) now:\n"
    "          POST URL/tables/NAME/forceCommit; prints the job id and the segments; with\n"
    "          --wait, polls GET URL/tables/forceCommitStatus/<job> until every one of them\n"
    "          is committed (exit 1 when SECONDS pass first)\n"
    "pause     stop consuming: POST URL/tables/NAME/pauseConsumption (the consuming segments\n"
    "          are committed now, none opens after them); prints the pause status\n"
    "resume    consume again: POST URL/tables/NAME/resumeConsumption?consumeFrom=..., from\n"
    "          where each partition's last segment ended (lastConsumed, the default) or\n"
    "          from Kafka's earliest (smallest) or latest (largest) offset; prints the status\n"
    "reingest  rebuild a committed segment whose stored copy is lost from Kafka, stored only\n"
    "          with the committed CRC: POST URL/segments/NAME/SEGMENT/reingest\n"
    "\n"
    "Every subcommand takes --token-file F (a bearer token, DESIGN §12; default:\n"
    "$SLUICE_TOKEN_FILE) for a controller with auth.tokens.file, --ca-file F for an https://\n"
    "one ($SLUICE_CA_FILE), and --cert F --key F for one that wants a client certificate.\n"
    "URL is any controller (\"http://host:port\"). A controller that is not the leader\n"
    "answers `307 Temporary Redirect` with `Location: <leader URL><same path>`, or 421/503\n"
    "with {\"leader\":\"http://host:port\"}; the request, body included, is sent again to the\n"
    "leader (at most 5 hops). A 503 without a leader (an election under way) is retried\n"
    "for up to 10 s. --timeout bounds each request (default 30 s).\n"
    "\n"
    "exit status: 0 ok; 1 invalid file or server error (the server's message is printed);\n"
    "2 usage error\n";

/* The server's explanation in an error reply: "error", "message" or "msg" of a JSON object,
 * else the body itself (first line, cut). */
static void server_message(const httpc_resp *r, char *out, size_t cap)
{
    out[0] = '\0';
    if (!r->body || r->len == 0) return;
    json_t *root = json_loadb(r->body, r->len, 0, NULL);
    static const char *const keys[] = {"error", "message", "msg"};
    for (size_t i = 0; root && json_is_object(root) && i < 3; i++) {
        json_t *v = json_object_get(root, keys[i]);
        if (json_is_string(v)) {
            snprintf(out, cap, "%s", json_string_value(v));
            json_decref(root);
            return;
        }
    }
    json_decref(root);
    size_t n = strcspn(r->body, "\r\n");
    snprintf(out, cap, "%.*s", (int)(n < 500 ? n : 500), r->body);
}

/* A 421/503 leader hint: {"leader":"http(s)://..."}. Returns true and the URL (no trailing
 * '/') in out. */
static bool leader_hint(const httpc_resp *r, char *out, size_t cap)
{
    if ((r->status != 421 && r->status != 503) || !r->body) return false;
    json_t *root = json_loadb(r->body, r->len, 0, NULL);
    json_t *v = root ? json_object_get(root, "leader") : NULL;
    bool ok = false;
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = strlen(s);
        while (n > 0 && s[n - 1] == '/')
            n--;
        ok = (strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0) && n < cap;
        for (size_t i = 0; ok && i < n; i++)
            ok = s[i] > 0x20 && s[i] < 0x7f;
        if (ok) {
            memcpy(out, s, n);
            out[n] = '\0';
        }
    }
    json_decref(root);
    return ok;
}

/* Send one admin request to the leader, starting at controller. Returns 0 with the final
 * reply in r (any status), or a transport error (message already printed). */
static int admin_request(httpc *c, const char *cmd, const char *method, const char *controller,
                         const char *path, const char *body, size_t len, long timeout_ms,
                         httpc_resp *r)
{
    char base[URL_MAX], url[URL_MAX * 2];
    size_t n = strlen(controller);
    while (n > 0 && controller[n - 1] == '/')
        n--;
    if (n >= sizeof base) {
        fprintf(stderr, "sluice table %s: --controller URL too long\n", cmd);
        return SL_EINVAL;
    }
    memcpy(base, controller, n);
    base[n] = '\0';
    httpc_set_redirects(c, MAX_HOPS);
    int64_t t0 = sl_clock_mono_ms();
    long wait_budget = timeout_ms < NO_LEADER_WAIT_MS ? timeout_ms : NO_LEADER_WAIT_MS;
    bool said_waiting = false;
    for (int hop = 0;;) {
        snprintf(url, sizeof url, "%s%s", base, path);
        int rc = httpc_request(c, method, url, body ? "application/json" : NULL, body, len,
                               timeout_ms, r);
        if (rc) {
            fprintf(stderr, "sluice table %s: %s (%s)\n", cmd, r->error, sluice_strerror(rc));
            return rc;
        }
        char leader[URL_MAX];
        bool hint = leader_hint(r, leader, sizeof leader) && strcmp(leader, base) != 0;
        if (hint && hop < MAX_HOPS) {
            fprintf(stderr, "sluice table %s: %s is not the leader; asking %s\n", cmd, base,
                    leader);
            memcpy(base, leader, strlen(leader) + 1);
            hop++;
            continue;
        }
        /* 503 without a hint: an election is under way (or the leader is starting). The
         * request was not processed, so it is sent again for a few seconds. */
        if (r->status != 503 || hint || sl_clock_mono_ms() - t0 + NO_LEADER_RETRY_MS > wait_budget)
            return 0;
        if (!said_waiting)
            fprintf(stderr,
                    "sluice table %s: %s: HTTP 503, no leader yet; retrying for up to "
                    "%ld s\n",
                    cmd, url, wait_budget / 1000);
        said_waiting = true;
        sl_clock_sleep_ms(NO_LEADER_RETRY_MS);
    }
}

static int report_http_error(const char *cmd, const httpc_resp *r)
{
    char msg[1024];
    server_message(r, msg, sizeof msg);
    fprintf(stderr, "sluice table %s: %s: HTTP %ld%s%s\n", cmd, r->url, r->status,
            msg[0] ? ": " : "", msg);
    return 1;
}

static int parse_seconds(const char *cmd, const char *opt, const char *s, long *ms)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v <= 0 || v > 86400) {
        fprintf(stderr, "sluice table %s: %s wants 1..86400 seconds, not '%s'\n", cmd, opt, s);
        return -1;
    }
    *ms = v * 1000;
    return 0;
}

/* Read a JSON object file as text; it must parse as one object and nothing else. */
static char *read_json_object(const char *path, size_t *len)
{
    char err[512];
    uint8_t *buf;
    if (fsutil_read_file(path, &buf, len, err, sizeof err) != 0) {
        fprintf(stderr, "sluice table add: %s\n", err);
        return NULL;
    }
    json_error_t jerr;
    json_t *root = json_loadb((const char *)buf, *len, 0, &jerr);
    bool ok = root && json_is_object(root);
    json_decref(root);
    if (!ok) {
        fprintf(stderr, "sluice table add: %s: not a JSON object\n", path);
        free(buf);
        return NULL;
    }
    return (char *)buf;
}

static int cmd_add(int argc, char **argv, const auth_cli *cred)
{
    const char *controller = NULL, *tpath = NULL, *spath = NULL;
    long timeout_ms = DEFAULT_TIMEOUT_S * 1000L;
    static const struct option opts[] = {{"controller", required_argument, 0, 'c'},
                                         {"table-config", required_argument, 0, 't'},
                                         {"schema", required_argument, 0, 's'},
                                         {"timeout", required_argument, 0, 'T'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'c':
            controller = optarg;
            break;
        case 't':
            tpath = optarg;
            break;
        case 's':
            spath = optarg;
            break;
        case 'T':
            if (parse_seconds("add", "--timeout", optarg, &timeout_ms)) return 2;
            break;
        case 'h':
            fputs(table_usage, stdout);
            return 0;
        default:
            fputs(table_usage, stderr);
            return 2;
        }
    }
    if (!controller || !tpath || !spath || optind != argc) {
        fputs("sluice table add: --controller, --table-config and --schema are required\n", stderr);
        fputs(table_usage, stderr);
        return 2;
    }

    int rc = 1;
    char err[4096]; /* every refused key of a config, a line each */
    schema *s = NULL;
    tcfg *t = NULL;
    char *ttext = NULL, *stext = NULL, *body = NULL;
    size_t tlen = 0, slen = 0;
    httpc *c = NULL;
    httpc_resp r;
    httpc_resp_init(&r, 0);

    if (tcfg_load_pair(spath, tpath, &s, &t, err, sizeof err) != 0) {
        fprintf(stderr, "sluice table add: %s\n", err);
        goto done;
    }
    if (t->ncarried) {
        tcfg_carried_text(t, err, sizeof err);
        fprintf(stderr, "sluice table add: %s: accepted, not used by ingestion: %s\n", tpath, err);
    }
    if (!(ttext = read_json_object(tpath, &tlen)) || !(stext = read_json_object(spath, &slen)))
        goto done;
    static const char k1[] = "{\"tableConfig\":", k2[] = ",\"schema\":", k3[] = "}";
    size_t blen = strlen(k1) + tlen + strlen(k2) + slen + strlen(k3);
    body = sl_xmalloc(blen + 1);
    snprintf(body, blen + 1, "%s%s%s%s%s", k1, ttext, k2, stext, k3);

    c = httpc_new();
    auth_cli_apply(cred, c);
    if (admin_request(c, "add", "POST", controller, "/tables", body, blen, timeout_ms, &r))
        goto done;
    if (r.status < 200 || r.status >= 300) {
        rc = report_http_error("add", &r);
        goto done;
    }
    if (r.len)
        printf("%s%s", r.body, r.body[r.len - 1] == '\n' ? "" : "\n");
    else
        printf("table %s created\n", t->table_name);
    rc = 0;
done:
    httpc_resp_free(&r);
    httpc_free(c);
    free(body);
    free(ttext);
    free(stext);
    tcfg_free(t);
    schema_free(s);
    return rc;
}

/* After a subcommand's options: --controller and --table given, no operand left, a valid
 * table name. -1 when all is well, else the exit status (the error printed). */
static int need_controller_table(const char *cmd, const char *controller, const char *table,
                                 int argc)
{
    if (!controller || !table || optind != argc) {
        fprintf(stderr, "sluice table %s: --controller and --table are required\n", cmd);
        fputs(table_usage, stderr);
        return 2;
    }
    if (!segname_valid_table(table)) {
        fprintf(stderr, "sluice table %s: '%s' is not a valid table name\n", cmd, table);
        return 1;
    }
    return -1;
}

static int cmd_segments(int argc, char **argv, const auth_cli *cred)
{
    const char *controller = NULL, *table = NULL;
    long timeout_ms = DEFAULT_TIMEOUT_S * 1000L;
    bool pretty = false;
    static const struct option opts[] = {{"controller", required_argument, 0, 'c'},
                                         {"table", required_argument, 0, 't'},
                                         {"pretty", no_argument, 0, 'p'},
                                         {"timeout", required_argument, 0, 'T'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'c':
            controller = optarg;
            break;
        case 't':
            table = optarg;
            break;
        case 'p':
            pretty = true;
            break;
        case 'T':
            if (parse_seconds("segments", "--timeout", optarg, &timeout_ms)) return 2;
            break;
        case 'h':
            fputs(table_usage, stdout);
            return 0;
        default:
            fputs(table_usage, stderr);
            return 2;
        }
    }
    int bad = need_controller_table("segments", controller, table, argc);
    if (bad >= 0) return bad;

    int rc = 1;
    httpc *c = httpc_new();
    auth_cli_apply(cred, c);
    httpc_resp r;
    httpc_resp_init(&r, SEGMENTS_MAX_BODY);
    json_t *root = NULL;
    char path[SL_IDENT_MAX + 32];
    snprintf(path, sizeof path, "/tables/%s/segments", table); /* the grammar needs no escaping */
    if (admin_request(c, "segments", "GET", controller, path, NULL, 0, timeout_ms, &r)) goto done;
    if (r.status != 200) {
        rc = report_http_error("segments", &r);
        goto done;
    }
    json_error_t jerr;
    root = json_loadb(r.body ? r.body : "", r.len, 0, &jerr);
    if (!root || !json_is_array(root)) {
        fprintf(stderr, "sluice table segments: %s: reply is not a JSON array%s%s\n", r.url,
                root ? "" : ": ", root ? "" : jerr.text);
        goto done;
    }
    if (pretty) {
        if (json_dumpf(root, stdout, JSON_INDENT(2)) != 0) goto done;
        putchar('\n');
    } else {
        fwrite(r.body, 1, r.len, stdout);
        if (r.body[r.len - 1] != '\n') putchar('\n');
    }
    rc = fflush(stdout) == 0 ? 0 : 1;
done:
    json_decref(root);
    httpc_resp_free(&r);
    httpc_free(c);
    return rc;
}

/* GET /tables/forceCommitStatus/<job>: how many of its segments are not committed, or -1. */
static long force_left(httpc *c, const char *controller, const char *job, long timeout_ms)
{
    char path[160];
    snprintf(path, sizeof path, "/tables/forceCommitStatus/%s", job);
    httpc_resp r;
    httpc_resp_init(&r, 1u << 20);
    long left = -1;
    if (admin_request(c, "force-commit", "GET", controller, path, NULL, 0, timeout_ms, &r) == 0) {
        if (r.status == 200) {
            json_t *root = json_loadb(r.body ? r.body : "", r.len, 0, NULL);
            json_t *n = json_object_get(root, "numberOfSegmentsYetToBeCommitted");
            if (json_is_integer(n)) left = (long)json_integer_value(n);
            json_decref(root);
        } else {
            report_http_error("force-commit", &r);
        }
    }
    httpc_resp_free(&r);
    return left;
}

static int cmd_force_commit(int argc, char **argv, const auth_cli *cred)
{
    const char *controller = NULL, *table = NULL, *partitions = NULL;
    long timeout_ms = DEFAULT_TIMEOUT_S * 1000L, wait_ms = -1;
    static const struct option opts[] = {{"controller", required_argument, 0, 'c'},
                                         {"table", required_argument, 0, 't'},
                                         {"partitions", required_argument, 0, 'p'},
                                         {"wait", required_argument, 0, 'w'},
                                         {"timeout", required_argument, 0, 'T'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'c':
            controller = optarg;
            break;
        case 't':
            table = optarg;
            break;
        case 'p':
            partitions = optarg;
            break;
        case 'w':
            if (parse_seconds("force-commit", "--wait", optarg, &wait_ms)) return 2;
            break;
        case 'T':
            if (parse_seconds("force-commit", "--timeout", optarg, &timeout_ms)) return 2;
            break;
        case 'h':
            fputs(table_usage, stdout);
            return 0;
        default:
            fputs(table_usage, stderr);
            return 2;
        }
    }
    int bad = need_controller_table("force-commit", controller, table, argc);
    if (bad >= 0) return bad;
    if (partitions && strspn(partitions, "0123456789,") != strlen(partitions)) {
        fprintf(stderr,
                "sluice table force-commit: --partitions %s: expected numbers separated "
                "by commas\n",
                partitions);
        return 2;
    }
    int rc = 1;
    httpc *c = httpc_new();
    auth_cli_apply(cred, c);
    httpc_resp r;
    httpc_resp_init(&r, 1u << 20);
    json_t *root = NULL;
    char path[SL_IDENT_MAX + 600];
    snprintf(path, sizeof path, "/tables/%s/forceCommit%s%.500s", table,
             partitions ? "?partitions=" : "", partitions ? partitions : "");
    if (admin_request(c, "force-commit", "POST", controller, path, "", 0, timeout_ms, &r))
        goto done;
    if (r.status != 200) {
        rc = report_http_error("force-commit", &r);
        goto done;
    }
    root = json_loadb(r.body ? r.body : "", r.len, 0, NULL);
    const char *job = json_string_value(json_object_get(root, "jobId"));
    json_t *segs = json_object_get(root, "segments");
    if (!job || !json_is_array(segs)) {
        fprintf(stderr, "sluice table force-commit: %s: reply has no jobId\n", r.url);
        goto done;
    }
    printf("job %s: %zu consuming segment(s) asked to commit now\n", job, json_array_size(segs));
    size_t i;
    json_t *s;
    json_array_foreach(segs, i, s) printf("  %s\n", json_string_value(s));
    fflush(stdout);
    rc = 0;
    if (wait_ms < 0) goto done;
    int64_t deadline = sl_clock_mono_ms() + wait_ms;
    long left;
    while ((left = force_left(c, controller, job, timeout_ms)) != 0) {
        if (sl_clock_mono_ms() >= deadline) {
            fprintf(stderr,
                    "sluice table force-commit: job %s: %ld segment(s) not committed "
                    "after the wait\n",
                    job, left);
            rc = 1;
            goto done;
        }
        sl_clock_sleep_ms(200);
    }
    printf("job %s: every segment committed\n", job);
done:
    json_decref(root);
    httpc_resp_free(&r);
    httpc_free(c);
    return rc;
}

typedef enum table_op { OP_PAUSE, OP_RESUME, OP_REINGEST } table_op;

/* pause | resume | reingest: POST and print what the controller answers (the pause status,
 * or the reingested segment). */
static int cmd_table_op(int argc, char **argv, table_op op, const auth_cli *cred)
{
    static const char *const names[] = {"pause", "resume", "reingest"};
    const char *cmd = names[op];
    bool resume = op == OP_RESUME;
    const char *controller = NULL, *table = NULL, *from = NULL, *segment = NULL;
    long timeout_ms = DEFAULT_TIMEOUT_S * 1000L;
    static const struct option opts[] = {{"controller", required_argument, 0, 'c'},
                                         {"table", required_argument, 0, 't'},
                                         {"consume-from", required_argument, 0, 'f'},
                                         {"segment", required_argument, 0, 's'},
                                         {"timeout", required_argument, 0, 'T'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'c':
            controller = optarg;
            break;
        case 't':
            table = optarg;
            break;
        case 'f':
            if (!resume) {
                fprintf(stderr, "sluice table %s: --consume-from is an option of resume\n", cmd);
                return 2;
            }
            from = optarg;
            break;
        case 's':
            if (op != OP_REINGEST) {
                fprintf(stderr, "sluice table %s: --segment is an option of reingest\n", cmd);
                return 2;
            }
            segment = optarg;
            break;
        case 'T':
            if (parse_seconds(cmd, "--timeout", optarg, &timeout_ms)) return 2;
            break;
        case 'h':
            fputs(table_usage, stdout);
            return 0;
        default:
            fputs(table_usage, stderr);
            return 2;
        }
    }
    int bad = need_controller_table(cmd, controller, table, argc);
    if (bad >= 0) return bad;
    if (from && strcmp(from, "lastConsumed") && strcmp(from, "smallest") &&
        strcmp(from, "largest")) {
        fprintf(stderr,
                "sluice table resume: --consume-from %s: expected lastConsumed, smallest "
                "or largest\n",
                from);
        return 2;
    }
    segname sn;
    if (op == OP_REINGEST &&
        (!segment || segname_parse(segment, &sn) || strcmp(sn.table, table) != 0)) {
        fprintf(stderr, "sluice table reingest: --segment wants a segment name of table %s\n",
                table);
        return 2;
    }
    char path[SL_IDENT_MAX + SL_SEGNAME_MAX + 96];
    if (op == OP_REINGEST)
        snprintf(path, sizeof path, "/segments/%s/%s/reingest", table, segment);
    else
        snprintf(path, sizeof path, "/tables/%s/%s%s%s", table,
                 resume ? "resumeConsumption" : "pauseConsumption", from ? "?consumeFrom=" : "",
                 from ? from : "");
    httpc *c = httpc_new();
    auth_cli_apply(cred, c);
    httpc_resp r;
    httpc_resp_init(&r, 1u << 20);
    int rc = 1;
    if (admin_request(c, cmd, "POST", controller, path, "", 0, timeout_ms, &r) == 0) {
        if (r.status == 200) {
            fwrite(r.body, 1, r.len, stdout);
            rc = fflush(stdout) == 0 ? 0 : 1;
        } else {
            rc = report_http_error(cmd, &r);
        }
    }
    httpc_resp_free(&r);
    httpc_free(c);
    return rc;
}

static int table_main(int argc, char **argv, const auth_cli *cred)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(table_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    int rc = 2;
    if (strcmp(argv[1], "add") == 0)
        rc = cmd_add(argc - 1, argv + 1, cred);
    else if (strcmp(argv[1], "segments") == 0)
        rc = cmd_segments(argc - 1, argv + 1, cred);
    else if (strcmp(argv[1], "force-commit") == 0)
        rc = cmd_force_commit(argc - 1, argv + 1, cred);
    else if (strcmp(argv[1], "pause") == 0)
        rc = cmd_table_op(argc - 1, argv + 1, OP_PAUSE, cred);
    else if (strcmp(argv[1], "resume") == 0)
        rc = cmd_table_op(argc - 1, argv + 1, OP_RESUME, cred);
    else if (strcmp(argv[1], "reingest") == 0)
        rc = cmd_table_op(argc - 1, argv + 1, OP_REINGEST, cred);
    else {
        fprintf(stderr, "sluice table: unknown subcommand '%s'\n", argv[1]);
        fputs(table_usage, stderr);
    }
    return rc;
}

int cmd_table_main(int argc, char **argv)
{
    return auth_cli_main(argc, argv, "sluice table", table_main);
}
