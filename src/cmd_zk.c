/* `sluice zk dump`: the cluster's ZooKeeper state (DESIGN §5) as one JSON object.
 *
 * The object maps each node's path, relative to /sluice/<cluster>, to its value decoded by
 * where the node sits in the layout:
 *   controllers/<n>                    election entry: its data as a string (the leader URL)
 *   tables/<t>/segments/<segment>      segment metadata protobuf, printed as the controller's
 *                                      GET /tables/<t>/segments/<segment> does (segmeta_json_full)
 *   anything else (config, schema, assignment, lineage, instances/<id>, replicas/<id>, and
 *   nodes this tool does not know)     JSON, embedded as a value
 * A node with no data is null; a value that does not decode as expected is
 * {"base64":"..."} and a warning naming the node goes to stderr, so a corrupt record is shown
 * rather than hidden. Nodes come depth first in sorted order, one per line, so the output is
 * both valid JSON and greppable.
 *
 * The dump is not a snapshot: ZooKeeper has no multi-node read, so a node created or deleted
 * while the tree is walked may or may not appear (a node that vanishes between the listing
 * and the read is skipped). Nothing is printed unless the whole walk succeeded. */
#include "common/jsonw.h"
#include "common/log.h"
#include "common/sl_err.h"
#include "common/xalloc.h"
#include "completion/cluster_store.h"
#include "completion/segmeta.h"
#include "completion/zk.h"
#include "src/cmds.h"

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ZKDUMP_SESSION_MS 10000u
#define ZKDUMP_DEFAULT_TIMEOUT_S 10
#define ZKDUMP_MAX_DEPTH 32 /* the layout is 4 deep; anything much deeper is not ours */

static const char zk_usage[] =
    "usage: sluice zk dump --zk HOST:PORT --cluster NAME [--path REL] [--timeout SECONDS]\n"
    "\n"
    "dump  print the subtree /sluice/NAME[/REL] as ONE JSON object mapping each node's path\n"
    "      (relative to /sluice/NAME) to its decoded value, one node per line:\n"
    "        controllers/<n>                 the election entry's data (leader URL) as a string\n"
    "        tables/<t>/segments/<segment>   segment metadata, decoded from protobuf\n"
    "        everything else                 embedded JSON (config, schema, assignment,\n"
    "                                        lineage, instances/<id>, replicas/<id>)\n"
    "      A node with no data is null; a value that does not decode is {\"base64\":\"...\"}\n"
    "      (and a warning naming it goes to stderr). With --path the node REL itself is\n"
    "      included; /sluice/NAME itself holds no data and is not. The walk is not atomic:\n"
    "      nodes changing meanwhile may or may not appear.\n"
    "\n"
    "--timeout bounds the wait for a ZooKeeper session (default 10 s).\n"
    "\n"
    "exit status: 0 ok; 1 ZooKeeper error or no such cluster/path; 2 usage error\n";

typedef struct zkdump {
    zk *z;
    size_t rootlen;  /* strlen("/sluice/<cluster>") */
    jsonw out;       /* the whole object, printed only at the end */
    size_t nodes;
} zkdump;

static void zkd_base64(jsonw *w, const uint8_t *data, size_t len)
{
    jsonw_obj_begin(w);
    jsonw_key(w, "base64");
    jsonw_base64(w, data, len);
    jsonw_obj_end(w);
}

static bool zkd_is_ws(uint8_t c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* Embed a JSON text as one value on one line. A valid JSON text has no raw control bytes
 * inside its strings, so every newline, CR or tab in it is whitespace between tokens and can
 * become a space: the value is kept byte for byte otherwise (numbers are not reformatted, as
 * a re-serialisation by jansson would). Returns false if data is not JSON. */
static bool zkd_json(jsonw *w, const uint8_t *data, size_t len, char *why, size_t whylen)
{
    json_error_t je;
    json_t *v = json_loadb((const char *)data, len, JSON_DECODE_ANY, &je);
    if (!v) {
        snprintf(why, whylen, "not JSON: %s at byte %d", je.text, je.position);
        return false;
    }
    json_decref(v);
    size_t a = 0, b = len;
    while (a < b && zkd_is_ws(data[a])) a++;
    while (b > a && zkd_is_ws(data[b - 1])) b--;
    char *flat = sl_xmalloc(b - a + 1);
    for (size_t i = a; i < b; i++) {
        char ch = (char)data[i];
        flat[i - a] = (ch == '\n' || ch == '\r' || ch == '\t') ? ' ' : ch;
    }
    jsonw_raw(w, flat, b - a);
    free(flat);
    return true;
}

/* Write the decoded value of the node `rel` (data/len) into w. */
static void zkd_value(zkdump *d, const char *rel, const uint8_t *data, size_t len)
{
    jsonw *w = &d->out;
    char why[256] = "";
    if (len == 0) {
        jsonw_null(w);
        return;
    }
    switch (cstore_encoding_of(rel)) { /* where it sits in the layout */
    case CSTORE_ENC_ELECTION: {
        /* jansson's UTF-8 check: JSON text must be valid UTF-8 */
        json_t *s = json_stringn((const char *)data, len);
        if (s) {
            json_decref(s);
            jsonw_str(w, (const char *)data, len);
            return;
        }
        snprintf(why, sizeof why, "election data is not UTF-8 text");
        break;
    }
    case CSTORE_ENC_SEGMETA: {
        segmeta m;
        if (segmeta_decode(data, len, &m, why, sizeof why) == 0) {
            const char *leaf = strrchr(rel, '/') + 1;
            if (strcmp(leaf, m.segment) != 0)
                fprintf(stderr, "sluice zk dump: warning: %s holds the metadata of segment %s\n",
                        rel, m.segment);
            segmeta_json_full(&m, w);
            return;
        }
        break;
    }
    case CSTORE_ENC_JSON:
        if (zkd_json(w, data, len, why, sizeof why)) return;
        break;
    }
    fprintf(stderr, "sluice zk dump: warning: %s (%zu bytes) shown as base64: %s\n", rel, len, why);
    zkd_base64(w, data, len);
}

/* Visit `path` and, depth first, its children. A node that vanished meanwhile is skipped.
 * Returns 0 or the error of the failing call (printed here). */
static int zkd_walk(zkdump *d, const char *path, bool print_self, int depth)
{
    if (depth > ZKDUMP_MAX_DEPTH) {
        fprintf(stderr, "sluice zk dump: %s: deeper than %d levels\n", path, ZKDUMP_MAX_DEPTH);
        return SL_ELIMIT;
    }
    char **kids = NULL;
    size_t nkids = 0;
    int rc;
    if (print_self) {
        uint8_t *data = NULL;
        size_t len = 0;
        rc = zk_get(d->z, path, &data, &len, NULL);
        if (rc == SL_ENOENT) return 0;
        if (rc) goto fail_read;
        const char *rel = path + d->rootlen + 1;
        jsonw_text(&d->out, d->nodes ? ",\n  " : "\n  ", d->nodes ? 4 : 3);
        jsonw_cstr(&d->out, rel);
        jsonw_text(&d->out, ": ", 2);
        zkd_value(d, rel, data, len);
        free(data);
        d->nodes++;
    }
    rc = zk_children(d->z, path, &kids, &nkids);
    if (rc == SL_ENOENT) return 0;
    if (rc) goto fail_read;
    for (size_t i = 0; i < nkids && rc == 0; i++) {
        char child[ZK_PATH_MAX + 1];
        if ((size_t)snprintf(child, sizeof child, "%s/%s", path, kids[i]) >= sizeof child) {
            fprintf(stderr, "sluice zk dump: %s/%s: path too long\n", path, kids[i]);
            rc = SL_ELIMIT;
            break;
        }
        rc = zkd_walk(d, child, true, depth + 1);
    }
    zk_free_strings(kids, nkids);
    return rc;
fail_read:
    fprintf(stderr, "sluice zk dump: reading %s: %s\n", path, sluice_strerror(rc));
    return rc;
}

/* "a/b/" or "/a/b" -> "a/b" in out; refuses empty, "." and ".." components. */
static bool zkd_clean_rel(const char *in, char *out, size_t cap)
{
    while (*in == '/') in++;
    size_t n = strlen(in);
    while (n > 0 && in[n - 1] == '/') n--;
    if (n == 0 || n >= cap) return false;
    memcpy(out, in, n);
    out[n] = '\0';
    for (const char *p = out; *p;) {
        size_t l = strcspn(p, "/");
        if (l == 0 || (l == 1 && p[0] == '.') || (l == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        p += l;
        if (*p == '/') p++;
    }
    return true;
}

static int zk_dump(int argc, char **argv)
{
    const char *connect = NULL, *cluster = NULL, *relarg = NULL;
    long timeout_s = ZKDUMP_DEFAULT_TIMEOUT_S;
    static const struct option opts[] = {{"zk", required_argument, NULL, 'z'},
                                         {"cluster", required_argument, NULL, 'c'},
                                         {"path", required_argument, NULL, 'p'},
                                         {"timeout", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    optind = 1;
    opterr = 0;
    for (int ch; (ch = getopt_long(argc, argv, "h", opts, NULL)) != -1;) {
        char *end;
        switch (ch) {
        case 'z': connect = optarg; break;
        case 'c': cluster = optarg; break;
        case 'p': relarg = optarg; break;
        case 't':
            timeout_s = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || timeout_s < 1 || timeout_s > 3600) {
                fprintf(stderr, "sluice zk dump: --timeout: '%s' is not 1..3600 seconds\n", optarg);
                return 2;
            }
            break;
        case 'h': fputs(zk_usage, stdout); return 0;
        default:
            fprintf(stderr, "sluice zk dump: unexpected argument '%s'\n%s", argv[optind - 1],
                    zk_usage);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "sluice zk dump: unexpected argument '%s'\n%s", argv[optind], zk_usage);
        return 2;
    }
    if (!connect || !cluster) {
        fprintf(stderr, "sluice zk dump: --zk and --cluster are required\n%s", zk_usage);
        return 2;
    }
    if (!cstore_cluster_name_ok(cluster)) {
        fprintf(stderr, "sluice zk dump: --cluster: '%s' is not a cluster name\n", cluster);
        return 2;
    }
    char rel[ZK_PATH_MAX], start[ZK_PATH_MAX + 1];
    if (relarg && !zkd_clean_rel(relarg, rel, sizeof rel)) {
        fprintf(stderr, "sluice zk dump: --path: '%s' is not a relative node path\n", relarg);
        return 2;
    }
    cstore *cs = cstore_new(cluster);
    const char *root = cs ? cstore_root(cs) : "";
    if (!cs || (size_t)snprintf(start, sizeof start, "%s%s%s", root, relarg ? "/" : "",
                                relarg ? rel : "") >= sizeof start) {
        fprintf(stderr, "sluice zk dump: path too long\n");
        cstore_free(cs);
        return 2;
    }

    /* the zk layer's session lines are for daemons; a tool shows only trouble */
    if (sl_log_threshold > SL_LOG_WARN) sl_log_threshold = SL_LOG_WARN;
    char err[512];
    zk_opts zo = {.connect_timeout_ms = (unsigned)timeout_s * 1000u};
    zkdump d = {.rootlen = strlen(root)};
    jsonw_init(&d.out);
    int rc = 1;
    d.z = zk_open(connect, ZKDUMP_SESSION_MS, &zo, err, sizeof err);
    if (!d.z) {
        fprintf(stderr, "sluice zk dump: ZooKeeper %s: %s\n", connect, err);
        goto done;
    }
    int zrc = zk_exists(d.z, start, NULL);
    if (zrc == SL_ENOENT) {
        fprintf(stderr, "sluice zk dump: no node %s (%s)\n", start,
                relarg ? "no such path in this cluster" : "no such cluster");
        goto done;
    }
    if (zrc) {
        fprintf(stderr, "sluice zk dump: reading %s: %s\n", start, sluice_strerror(zrc));
        goto done;
    }
    jsonw_text(&d.out, "{", 1);
    if (zkd_walk(&d, start, relarg != NULL, 0) != 0) goto done;
    jsonw_text(&d.out, d.nodes ? "\n}\n" : "}\n", d.nodes ? 3 : 2);
    if (fwrite(d.out.buf, 1, d.out.len, stdout) != d.out.len || fflush(stdout) != 0) {
        fprintf(stderr, "sluice zk dump: writing the output failed\n");
        goto done;
    }
    rc = 0;
done:
    zk_close(d.z);
    jsonw_free(&d.out);
    cstore_free(cs);
    return rc;
}

int cmd_zk_main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(zk_usage, stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        fputs(zk_usage, stdout);
        return 0;
    }
    if (!strcmp(argv[1], "dump")) return zk_dump(argc - 1, argv + 1);
    fprintf(stderr, "sluice zk: unknown subcommand '%s'\n%s", argv[1], zk_usage);
    return 2;
}
