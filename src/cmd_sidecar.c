/* `sluice sidecar --config FILE [--set key=value ...]`: the per-host ingestion process.
 *
 * Modes (config key `mode`): `cluster` (the default) registers in ZooKeeper and consumes the
 * segments the controller assigns, completing each through the completion protocol
 * (completion/replica.h); `standalone` consumes one table's partitions into segment files
 * with no controller (consumer/standalone.h).
 *
 * HTTP (libmicrohttpd): GET /health, GET /metrics, GET /segments/<table>[?crc=1] (the
 * published files), GET /segments/<table>/<segment>.
 * SIGTERM/SIGINT stop it cleanly: a segment being built is finished and published; the
 * consuming segments are dropped (they are re-read from Kafka on restart). */
#include "common/auth.h"
#include "common/config.h"
#include "common/diskstate.h"
#include "common/fsutil.h"
#include "common/httpd.h"
#include "common/jsonw.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/schema.h"
#include "common/sl_err.h"
#include "common/table_config.h"
#include "completion/replica.h"
#include "consumer/standalone.h"
#include "segment/segname.h"
#include "src/cmds.h"
#include "common/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SIDECAR_MAX_SETS 256

enum { SIDECAR_MODE_CLUSTER = 0, SIDECAR_MODE_STANDALONE };
enum { SIDECAR_LOSS_CONTINUE = 0, SIDECAR_LOSS_FAIL };

typedef struct sidecar_conf {
    char *cluster_name;
    char *zk_connect;
    uint64_t zk_session_timeout;
    int64_t http_port;
    char *http_advertise_host;
    int64_t completion_threads;
    int64_t perturb_row;
    uint64_t build_delay;
    char *disk_full_file;
    int64_t fsync_eio_after;
    int64_t fsync_eio_count;
    int64_t disk_full_after;
    int64_t disk_full_count;
    int commit_fault; /* index into sidecar_faults == rfault_kind */
    bool keep_skip_crc;
    char *fetch_ca, *fetch_netrc;
    char *auth_tokens, *auth_token;
    bool auth_disabled;
    char *tls_cert, *tls_key, *tls_client_ca, *tls_ca;
    char *http_bind;
    int64_t http_threads;
    int64_t http_max_conns, http_max_conns_per_ip;
    uint64_t http_header_timeout;
    char *data_dir;
    char *instance_id;
    int mode;
    char *table_config;
    char *table_schema;
    char *partitions;
    int64_t consumer_threads;
    int data_loss;
    char *dead_letter;
    uint64_t max_message_bytes;
    uint64_t scrub_interval, scrub_rate;
    int log_level; /* index into sidecar_levels == sl_log_level */
    config_kvs kafka;
} sidecar_conf;

#define OFF(m) offsetof(sidecar_conf, m)
static const config_enum_value sidecar_modes[] = {
    {"cluster", CONFIG_ROLE_CLUSTERED}, {"standalone", CONFIG_ROLE_STANDALONE}, {NULL, 0}};
static const config_enum_value sidecar_loss[] = {{"continue", 0}, {"fail", 0}, {NULL, 0}};
static const config_enum_value sidecar_levels[] = {
    {"error", 0}, {"warn", 0}, {"info", 0}, {"debug", 0}, {NULL, 0}};
/* in the order of rfault_kind (completion/rfault.h) */
static const config_enum_value sidecar_faults[] = {{"none", 0},
                                                   {"exit_before_commit_start", 0},
                                                   {"exit_after_upload", 0},
                                                   {"exit_before_commit_end", 0},
                                                   {"stop_before_commit_start", 0},
                                                   {"stop_after_upload", 0},
                                                   {"stop_before_commit_end", 0},
                                                   {"exit_during_keep", 0},
                                                   {"stop_during_keep", 0},
                                                   {"exit_during_discard", 0},
                                                   {"stop_during_discard", 0},
                                                   {NULL, 0}};
_Static_assert(sizeof sidecar_faults / sizeof sidecar_faults[0] == RFAULT__COUNT + 1,
               "one test.commit.fault value per rfault_kind");

static const config_def sidecar_defs[] = {
    {"cluster.name", CONFIG_STRING, OFF(cluster_name), 0, 0, NULL,
     "Name of the Sluice cluster (ZooKeeper root /sluice/<cluster>)",
     CONFIG_REQUIRED_SIDECAR | CONFIG_NAME, NULL},
    {"zk.connect", CONFIG_STRING, OFF(zk_connect), 0, 0, NULL,
     "ZooKeeper connect string, e.g. 127.0.0.1:2181 (not used in standalone mode)",
     CONFIG_REQUIRED_CLUSTERED, NULL},
    {"zk.session.timeout", CONFIG_DURATION_MS, OFF(zk_session_timeout), 1000, 600000, "10s",
     "ZooKeeper session timeout (cluster mode)", 0, NULL},
    {"instance.id", CONFIG_STRING, OFF(instance_id), 0, 0, NULL,
     "This sidecar's instance id (unique in the cluster)", CONFIG_REQUIRED_SIDECAR | CONFIG_NAME,
     NULL},
    {"mode", CONFIG_ENUM, OFF(mode), 0, 0, "cluster",
     "cluster: driven by the controller; standalone: one table, no controller", 0, sidecar_modes},
    {"http.port", CONFIG_INT64, OFF(http_port), 0, 65535, NULL,
     "HTTP port for /health, /metrics and /segments (0 = any free port)", CONFIG_REQUIRED_SIDECAR,
     NULL},
    {"http.bind", CONFIG_STRING, OFF(http_bind), 0, 0, "127.0.0.1",
     "Address the HTTP server binds (0.0.0.0: every IPv4 address, which needs auth.tokens.file "
     "or auth.disabled)",
     0, NULL},
    {"http.threads", CONFIG_INT64, OFF(http_threads), 1, 64, "2", "HTTP worker threads", 0, NULL},
    CMD_HTTP_LIMIT_ROWS,
    CMD_FETCHER_ROWS,
    CMD_AUTH_ROWS,
    CMD_TLS_ROWS,
    {"http.advertise.host", CONFIG_STRING, OFF(http_advertise_host), 0, 0, NULL,
     "Host peers and controllers reach this sidecar at (default: http.bind, or 127.0.0.1 for "
     "0.0.0.0)",
     0, NULL},
    {"data.dir", CONFIG_STRING, OFF(data_dir), 0, 0, NULL,
     "Directory of published segments: <data.dir>/<table>/<segment>.seg", CONFIG_REQUIRED_SIDECAR,
     NULL},
    {"table.config", CONFIG_STRING, OFF(table_config), 0, 0, NULL,
     "Standalone: path of the Pinot table config JSON", CONFIG_REQUIRED_STANDALONE, NULL},
    {"table.schema", CONFIG_STRING, OFF(table_schema), 0, 0, NULL,
     "Standalone: path of the Pinot schema JSON", CONFIG_REQUIRED_STANDALONE, NULL},
    {"partitions", CONFIG_STRING, OFF(partitions), 0, 0, NULL,
     "Standalone: comma-separated partitions to consume (default: the table's "
     "stream.kafka.partition.ids, else all of the topic)",
     0, NULL},
    {"consumer.threads", CONFIG_INT64, OFF(consumer_threads), 0, 256, "0",
     "Consumer worker threads shared by all partitions (0 = number of CPUs)", 0, NULL},
    {"consumer.data.loss", CONFIG_ENUM, OFF(data_loss), 0, 0, "continue",
     "When retention deleted offsets not yet consumed: continue (record the lost range and "
     "go on from the earliest offset) or fail (the partition goes to ERROR)",
     0, sidecar_loss},
    {"consumer.dead.letter.file", CONFIG_STRING, OFF(dead_letter), 0, 0, NULL,
     "JSON-lines file receiving malformed messages (base64) and data-loss ranges", 0, NULL},
    {"consumer.max.message.bytes", CONFIG_SIZE_BYTES, OFF(max_message_bytes), 1, 1 << 30, "1M",
     "Messages larger than this are rejected as oversized", 0, NULL},
    {"consumer.completion.threads", CONFIG_INT64, OFF(completion_threads), 1, 256, "8",
     "Cluster mode: segment completions in flight at once (each thread mostly waits on the "
     "controller's long-polls; fewer than the partitions completing together delays them)",
     0, NULL},
    {"segment.scrub.interval", CONFIG_DURATION_MS, OFF(scrub_interval), 0, 30ull * 86400000, "1h",
     "Re-verify every published segment file this often (0 = never); a file that fails is "
     "counted, logged, moved to <table>/quarantine/ and, in cluster mode, downloaded again",
     0, NULL},
    {"segment.scrub.rate", CONFIG_SIZE_BYTES, OFF(scrub_rate), 0, 1ull << 40, "64M",
     "Bytes per second the scrub reads at most (0 = unlimited)", 0, NULL},
    {"log.level", CONFIG_ENUM, OFF(log_level), 0, 0, "info", "error, warn, info or debug", 0,
     sidecar_levels},
    {"test.build.delay", CONFIG_DURATION_MS, OFF(build_delay), 0, 3600000, "0",
     "Test knob: every segment build takes this much longer", CONFIG_HIDDEN, NULL},
    {"test.perturb.row", CONFIG_INT64, OFF(perturb_row), 0, INT64_MAX, "0",
     "Test knob: alter the Nth row (1-based) of every segment this sidecar builds", CONFIG_HIDDEN,
     NULL},
    {"test.fsync.eio.after", CONFIG_INT64, OFF(fsync_eio_after), -1, INT64_MAX, "-1",
     "Test knob: fsyncs of file data (every segment file, download or upload) numbered from this "
     "one (0-based) fail with "
     "EIO; -1 = off",
     CONFIG_HIDDEN, NULL},
    {"test.fsync.eio.count", CONFIG_INT64, OFF(fsync_eio_count), 0, INT64_MAX, "0",
     "Test knob: how many fsyncs test.fsync.eio.after fails (0 = all)", CONFIG_HIDDEN, NULL},
    {"test.disk.full.file", CONFIG_STRING, OFF(disk_full_file), 0, 0, NULL,
     "Test knob: while this file exists, every segment, download or upload write fails with "
     "ENOSPC",
     CONFIG_HIDDEN, NULL},
    {"test.disk.full.after", CONFIG_INT64, OFF(disk_full_after), -1, INT64_MAX, "-1",
     "Test knob: publications (builds) numbered from this one (0-based) fail with ENOSPC; "
     "-1 = off",
     CONFIG_HIDDEN, NULL},
    {"test.disk.full.count", CONFIG_INT64, OFF(disk_full_count), 0, INT64_MAX, "0",
     "Test knob: how many publications test.disk.full.after fails (0 = all)", CONFIG_HIDDEN, NULL},
    {"test.commit.fault", CONFIG_ENUM, OFF(commit_fault), 0, 0, "none",
     "Test knob (cluster mode): exit (_exit 86) or stop (SIGSTOP) once, at a named point of "
     "the segment completion",
     CONFIG_HIDDEN, sidecar_faults},
    {"test.keep.skip.crc", CONFIG_BOOL, OFF(keep_skip_crc), 0, 0, "false",
     "Test knob, a broken build on purpose: on KEEP publish the local build without comparing "
     "its CRC with the committed one",
     CONFIG_HIDDEN, NULL},
    {"kafka.", CONFIG_STRING, OFF(kafka), 0, 0, NULL,
     "Any librdkafka consumer property, passed through (kafka.security.protocol, "
     "kafka.sasl.mechanism, kafka.ssl.ca.location, ...)",
     CONFIG_PREFIX, NULL},
};
#undef OFF
#define SIDECAR_NDEFS (sizeof sidecar_defs / sizeof sidecar_defs[0])

static const char sidecar_usage[] =
    "usage: sluice sidecar --config FILE [--set key=value ...] [--check-config]\n"
    "       sluice sidecar --help-config [--format markdown|properties]\n"
    "\n"
    "Runs the ingestion sidecar. Every config key can be given in FILE (key = value) or as\n"
    "--set key=value (which wins). --help-config lists every key.\n";

typedef struct sidecar {
    sidecar_conf conf;
    char table[SL_IDENT_MAX + 1]; /* standalone: the table's name */
    metrics_registry *metrics;
    standalone *sa; /* standalone mode */
    replica *rep;   /* cluster mode */
    engine *engine; /* the mode's; published once it runs */
    diskstate *disk;
    httpd *http;
    auth *tokens; /* auth.tokens.file: who may call this sidecar; NULL: anyone */
    char *token;  /* auth.token.file: this sidecar's own; NULL: none */
} sidecar;

/* ---- HTTP ---------------------------------------------------------------------------- */

/* Handlers answer 503 until the mode's engine is running (HTTP is bound first). */
static bool sidecar_starting(const sidecar *sc, httpd_resp *resp)
{
    if (__atomic_load_n(&sc->engine, __ATOMIC_ACQUIRE)) return false;
    httpd_resp_text(resp, 503, "starting\n");
    return true;
}

static void sidecar_health(httpd_req *req, httpd_resp *resp, void *ctx)
{
    (void)req;
    sidecar *sc = ctx;
    if (sidecar_starting(sc, resp)) return;
    jsonw w;
    jsonw_init(&w);
    jsonw_obj_begin(&w);
    jsonw_key(&w, "instance");
    jsonw_cstr(&w, sc->conf.instance_id);
    jsonw_key(&w, "mode");
    jsonw_cstr(&w, sidecar_modes[sc->conf.mode].name);
    if (sc->table[0]) {
        jsonw_key(&w, "table");
        jsonw_cstr(&w, sc->table);
    }
    jsonw_key(&w, "partitions");
    int errors = engine_health(sc->engine, &w);
    jsonw_key(&w, "disk");
    bool disk_bad = diskstate_json(sc->disk, &w);
    jsonw_key(&w, "status");
    jsonw_cstr(&w, errors || disk_bad ? "degraded" : "ok");
    jsonw_obj_end(&w);
    jsonw_text(&w, "\n", 1);
    /* a full disk alone stays 200: the process is alive and keeps its rows until the disk is
     * back (docs/http.md); restarting it would only lose them */
    httpd_resp_body(resp, errors ? 503 : 200, "application/json", w.buf, w.len, HTTPD_TAKE);
}

static void sidecar_metrics(httpd_req *req, httpd_resp *resp, void *ctx)
{
    (void)req;
    sidecar *sc = ctx;
    size_t len;
    char *text = metrics_render(sc->metrics, &len);
    httpd_resp_body(resp, 200, "text/plain; version=0.0.4; charset=utf-8", text, len, HTTPD_TAKE);
}

static void sidecar_segment(httpd_req *req, httpd_resp *resp, void *ctx)
{
    sidecar *sc = ctx;
    if (sidecar_starting(sc, resp)) return;
    const char *table = httpd_req_param(req, "table");
    const char *name = httpd_req_param(req, "segment");
    char path[PATH_MAX];
    int prc = engine_segment_path(sc->engine, table, name, path, sizeof path);
    if (prc == SL_ENOENT) {
        httpd_resp_text(resp, 404, "no such table: %s\n", table);
        return;
    }
    if (prc != 0) {
        httpd_resp_text(resp, 400, "not a segment name of table %s: %s\n", table, name);
        return;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0) close(fd);
        httpd_resp_text(resp, 404, "no such segment: %s\n", name);
        return;
    }
    httpd_resp_fd(resp, 200, "application/octet-stream", fd, 0, (uint64_t)st.st_size);
}

/* GET /segments/<table>[?crc=1]: the published files, with ?crc=1 each verified (sluice audit). */
static void sidecar_segment_list(httpd_req *req, httpd_resp *resp, void *ctx)
{
    sidecar *sc = ctx;
    if (sidecar_starting(sc, resp)) return;
    const char *table = httpd_req_param(req, "table");
    const char *crc = httpd_req_query(req, "crc");
    bool verify = crc && strcmp(crc, "0") != 0 && strcmp(crc, "false") != 0;
    jsonw w;
    jsonw_init(&w);
    if (engine_list_files(sc->engine, table, verify, &w) != 0) {
        jsonw_free(&w);
        httpd_resp_text(resp, 404, "no such table: %s\n", table);
        return;
    }
    jsonw_text(&w, "\n", 1);
    httpd_resp_body(resp, 200, "application/json", w.buf, w.len, HTTPD_TAKE);
}

static const httpd_route sidecar_routes[] = {
    {"GET", "/segments/{table}", sidecar_segment_list, 0, 0, NULL, HTTPD_READ},
    {"GET", "/health", sidecar_health, 0, 0, NULL, HTTPD_PUBLIC},
    {"GET", "/metrics", sidecar_metrics, 0, 0, NULL, HTTPD_READ},
    {"GET", "/segments/{table}/{segment}", sidecar_segment, 0, 0, NULL, HTTPD_READ},
};

/* ---- start-up ------------------------------------------------------------------------ */

int cmd_sidecar_main(int argc, char **argv)
{
    const char *config_path;
    char *sets[SIDECAR_MAX_SETS];
    size_t nsets;
    bool check;
    int ac = config_args(argc, argv, sidecar_defs, SIDECAR_NDEFS, "sluice sidecar", sidecar_usage,
                         &config_path, sets, &nsets, SIDECAR_MAX_SETS, &check);
    if (ac >= 0) return ac;

    sidecar sc;
    memset(&sc, 0, sizeof sc);
    char err[4096]; /* every refused key of a config, a line each */
    int rc = 1;
    int32_t *parts = NULL;
    size_t nparts = 0;
    cpool_prop *props = NULL;
    schema *sch = NULL; /* standalone: lent to the standalone engine */
    tcfg *table = NULL;
    if (config_load(sidecar_defs, SIDECAR_NDEFS, &sc.conf, CONFIG_ROLE_SIDECAR, config_path, sets,
                    nsets, err, sizeof err) != 0) {
        fprintf(stderr, "sluice sidecar: config: %s\n", err);
        return 1;
    }
    sl_log_threshold = (sl_log_level)sc.conf.log_level;
    if (sc.conf.mode == SIDECAR_MODE_STANDALONE &&
        tcfg_load_pair(sc.conf.table_schema, sc.conf.table_config, &sch, &table, err, sizeof err) !=
            0) {
        fprintf(stderr, "sluice sidecar: %s\n", err);
        goto done;
    }
    if (table && table->ncarried) {
        tcfg_carried_text(table, err, sizeof err);
        SL_INFO("sidecar", "table config keys accepted, not used by ingestion file=%s keys=\"%s\"",
                sc.conf.table_config, err);
    }
    if (table && table->type != TCFG_REALTIME) {
        fprintf(stderr, "sluice sidecar: %s: tableType: a sidecar consumes REALTIME tables\n",
                sc.conf.table_config);
        goto done;
    }
    if (sc.conf.partitions && tcfg_parse_partitions(sc.conf.partitions, "partitions", &parts,
                                                    &nparts, err, sizeof err) != 0) {
        fprintf(stderr, "sluice sidecar: config: %s\n", err);
        goto done;
    }
    props = sl_xcalloc(sc.conf.kafka.n ? sc.conf.kafka.n : 1, sizeof *props);
    for (size_t i = 0; i < sc.conf.kafka.n; i++)
        props[i] = (cpool_prop){sc.conf.kafka.items[i].key, sc.conf.kafka.items[i].value};
    /* both modes, before anything starts: cluster mode would otherwise meet a bad property
     * only when its first table is assigned, and then retry it forever */
    size_t bad;
    if (cpool_check_props(props, sc.conf.kafka.n, &bad, err, sizeof err) != 0) {
        int line = bad < sc.conf.kafka.n ? sc.conf.kafka.items[bad].line : -1;
        if (line > 0)
            fprintf(stderr, "sluice sidecar: config: %s:%d: %s\n", config_path, line, err);
        else
            fprintf(stderr, "sluice sidecar: config: %s%s\n", line == 0 ? "--set " : "", err);
        goto done;
    }

    if (auth_server_open(sc.conf.http_bind, sc.conf.auth_tokens, sc.conf.auth_disabled, &sc.tokens,
                         err, sizeof err) != 0) {
        fprintf(stderr, "sluice sidecar: config: %s\n", err);
        goto done;
    }
    if (sc.conf.auth_token) {
        char why[512];
        if (auth_token_read(sc.conf.auth_token, &sc.token, why, sizeof why) != 0) {
            fprintf(stderr, "sluice sidecar: config: auth.token.file: %s\n", why);
            goto done;
        }
    }
    if (check) { /* --check-config: everything above validated, nothing started */
        printf("sluice sidecar: config ok\n");
        rc = 0;
        goto done;
    }
    /* every thread started from here on inherits the blocked signals; main waits for them */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP); /* the tokens file again */
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    fsutil_fault_configure(sc.conf.disk_full_file, sc.conf.disk_full_after,
                           (uint64_t)sc.conf.disk_full_count);
    fsutil_fault_fsync_configure(sc.conf.fsync_eio_after, (uint64_t)sc.conf.fsync_eio_count);
    sc.metrics = metrics_new();
    sc.disk = diskstate_new(sc.metrics);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    engine_opts eo = {
        .data_dir = sc.conf.data_dir,
        .workers =
            sc.conf.consumer_threads ? (int)sc.conf.consumer_threads : (int)(ncpu > 0 ? ncpu : 1),
        .props = props,
        .nprops = sc.conf.kafka.n,
        .fail_on_data_loss = sc.conf.data_loss == SIDECAR_LOSS_FAIL,
        .dead_letter_path = sc.conf.dead_letter,
        .max_message_bytes = sc.conf.max_message_bytes,
        .perturb_row = sc.conf.perturb_row,
        .build_delay_ms = sc.conf.build_delay,
        .scrub_interval_ms = sc.conf.scrub_interval,
        .scrub_rate = sc.conf.scrub_rate,
        .metrics = sc.metrics,
        .disk = sc.disk,
    };
    /* HTTP first: cluster mode advertises the bound port in its instance znode */
    httpd_opts ho = {.threads = (unsigned)sc.conf.http_threads,
                     .conn_limit = (unsigned)sc.conf.http_max_conns,
                     .per_ip_limit = (unsigned)sc.conf.http_max_conns_per_ip,
                     .header_timeout_ms = (unsigned)sc.conf.http_header_timeout,
                     .auth = sc.tokens,
                     .tls_cert = sc.conf.tls_cert,
                     .tls_key = sc.conf.tls_key,
                     .tls_client_ca = sc.conf.tls_client_ca};
    sc.http =
        httpd_start(sc.conf.http_bind, (uint16_t)sc.conf.http_port, sidecar_routes,
                    sizeof sidecar_routes / sizeof sidecar_routes[0], &sc, &ho, err, sizeof err);
    if (!sc.http) {
        fprintf(stderr, "sluice sidecar: http.port: %s\n", err);
        goto done;
    }
    if (sc.conf.mode == SIDECAR_MODE_STANDALONE) {
        snprintf(sc.table, sizeof sc.table, "%s", table->table_name);
        standalone_opts so = {.engine = eo,
                              .schema = sch,
                              .table = table,
                              .partitions = parts,
                              .npartitions = nparts};
        if (!(sc.sa = standalone_start(&so, err, sizeof err))) {
            fprintf(stderr, "sluice sidecar: %s\n", err);
            goto done;
        }
        __atomic_store_n(&sc.engine, standalone_engine(sc.sa), __ATOMIC_RELEASE);
    } else {
        const char *host = sc.conf.http_advertise_host                 ? sc.conf.http_advertise_host
                           : strcmp(sc.conf.http_bind, "0.0.0.0") == 0 ? "127.0.0.1"
                                                                       : sc.conf.http_bind;
        replica_opts ro = {.engine = eo,
                           .cluster = sc.conf.cluster_name,
                           .zk_connect = sc.conf.zk_connect,
                           .zk_session_timeout_ms = (unsigned)sc.conf.zk_session_timeout,
                           .instance_id = sc.conf.instance_id,
                           .host = host,
                           .port = httpd_port(sc.http),
                           .completion_threads = (int)sc.conf.completion_threads,
                           .fault = (rfault_kind)sc.conf.commit_fault,
                           .keep_skip_crc = sc.conf.keep_skip_crc,
                           .fetch_ca_file = sc.conf.fetch_ca,
                           .fetch_netrc_file = sc.conf.fetch_netrc,
                           .token = sc.token,
                           .tls = httpd_tls(sc.http),
                           .tls_ca_file = sc.conf.tls_ca,
                           .tls_cert_file = sc.conf.tls_cert,
                           .tls_key_file = sc.conf.tls_key};
        if (!(sc.rep = replica_start(&ro, err, sizeof err))) {
            fprintf(stderr, "sluice sidecar: zk.connect: %s\n", err);
            goto done;
        }
        __atomic_store_n(&sc.engine, replica_engine(sc.rep), __ATOMIC_RELEASE);
    }
    SL_INFO("sidecar", "started instance=%s mode=%s http=%s:%u data_dir=%s auth=%s",
            sc.conf.instance_id, sidecar_modes[sc.conf.mode].name, sc.conf.http_bind,
            (unsigned)httpd_port(sc.http), sc.conf.data_dir, sc.tokens ? "tokens" : "off");
    int sig = 0;
    while (sigwait(&sigs, &sig) == 0 && sig == SIGHUP) {
        auth_sighup(sc.tokens);
        httpd_tls_sighup(sc.http);
    }
    SL_INFO("sidecar", "stopping signal=%d", sig);
    rc = 0;
done:
    httpd_stop(sc.http);
    standalone_stop(sc.sa);
    replica_stop(sc.rep);
    diskstate_free(sc.disk);
    metrics_free(sc.metrics);
    tcfg_free(table);
    schema_free(sch);
    free(parts);
    free(props);
    auth_close(sc.tokens);
    free(sc.token);
    config_free(sidecar_defs, SIDECAR_NDEFS, &sc.conf);
    return rc;
}
