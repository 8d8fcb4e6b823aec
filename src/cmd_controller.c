/* `sluice controller --config FILE [--set key=value ...]`: completion coordinator, segment
 * store front and admin API (completion/controller.h). */
#include "common/auth.h"
#include "common/config.h"
#include "common/fsutil.h"
#include "common/httpd.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/sl_err.h"
#include "completion/controller.h"
#include "completion/deepstore.h"
#include "src/cmds.h"

#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONTROLLER_MAX_SETS 256

typedef struct controller_conf {
    char *cluster_name;
    char *zk_connect;
    uint64_t zk_session_timeout;
    char *instance_id;
    int64_t http_port;
    char *http_bind;
    char *http_advertise;
    int64_t http_threads;
    int64_t http_max_conns, http_max_conns_per_ip;
    uint64_t http_header_timeout;
    char *data_dir;
    char *deepstore_uri;
    char *fetch_ca, *fetch_netrc;
    char *auth_tokens, *auth_token;
    bool auth_disabled;
    char *tls_cert, *tls_key, *tls_client_ca, *tls_ca;
    uint64_t hold_time;
    uint64_t notify_time;
    uint64_t commit_timeout;
    uint64_t commit_max;
    uint64_t longpoll;
    uint64_t repair_interval;
    uint64_t scrub_interval, scrub_rate;
    int log_level;
    int fault;
    uint64_t fault_stall;
    bool commit_twice;
    uint64_t push_stall;
    char *disk_full_file;
    int64_t fsync_eio_after;
    int64_t fsync_eio_count;
} controller_conf;

#define OFF(m) offsetof(controller_conf, m)
static const config_enum_value ctl_levels[] = {
    {"error", 0}, {"warn", 0}, {"info", 0}, {"debug", 0}, {NULL, 0}};
static const config_enum_value ctl_faults[] = {{"none", 0},
                                               {"crash_before_multi", 0},
                                               {"stall_before_multi", 0},
                                               {"crash_after_multi", 0},
                                               {NULL, 0}};

static const config_def controller_defs[] = {
    {"cluster.name", CONFIG_STRING, OFF(cluster_name), 0, 0, NULL,
     "Name of the Sluice cluster (ZooKeeper root /sluice/<cluster>)",
     CONFIG_REQUIRED_CONTROLLER | CONFIG_NAME, NULL},
    {"zk.connect", CONFIG_STRING, OFF(zk_connect), 0, 0, NULL,
     "ZooKeeper connect string, e.g. 127.0.0.1:2181", CONFIG_REQUIRED_CONTROLLER, NULL},
    {"zk.session.timeout", CONFIG_DURATION_MS, OFF(zk_session_timeout), 1000, 600000, "10s",
     "ZooKeeper session timeout (a leader that loses its session stops acting at once)", 0, NULL},
    {"instance.id", CONFIG_STRING, OFF(instance_id), 0, 0, NULL, "This controller's instance id",
     CONFIG_REQUIRED_CONTROLLER | CONFIG_NAME, NULL},
    {"http.port", CONFIG_INT64, OFF(http_port), 0, 65535, NULL,
     "HTTP port of the RPC, segment and admin API (0 = any free port)", CONFIG_REQUIRED_CONTROLLER,
     NULL},
    {"http.bind", CONFIG_STRING, OFF(http_bind), 0, 0, "127.0.0.1",
     "Address the HTTP server binds (0.0.0.0: every IPv4 address, which needs auth.tokens.file "
     "or auth.disabled)",
     0, NULL},
    {"http.advertise", CONFIG_STRING, OFF(http_advertise), 0, 0, NULL,
     "Base URL other processes reach this controller at (default http://<bind>:<port>, with "
     "127.0.0.1 for 0.0.0.0)",
     0, NULL},
    {"http.threads", CONFIG_INT64, OFF(http_threads), 1, 64, "4", "HTTP worker threads", 0, NULL},
    CMD_HTTP_LIMIT_ROWS,
    CMD_FETCHER_ROWS,
    CMD_AUTH_ROWS,
    CMD_TLS_ROWS,
    {"data.dir", CONFIG_STRING, OFF(data_dir), 0, 0, NULL,
     "Local directory; the segment store when deepstore.uri is not set", CONFIG_REQUIRED_CONTROLLER,
     NULL},
    {"deepstore.uri", CONFIG_STRING, OFF(deepstore_uri), 0, 0, NULL,
     "Segment store on shared storage: file:///path, the store every controller commits into; "
     "or a deep store that mirrors data.dir's store, webhdfs://[user@]host:port/path "
     "(swebhdfs:// over TLS) or http(s)://host[:port]/path (WebDAV PUT, GET, DELETE): each "
     "committed or pushed file is acknowledged once it is there, and a file missing locally is "
     "fetched back from it. Default: data.dir alone",
     0, NULL},
    {"completion.hold.time", CONFIG_DURATION_MS, OFF(hold_time), 0, 600000, "3s",
     "How long the first report waits for the other replicas before a winner is picked", 0, NULL},
    {"completion.notify.time", CONFIG_DURATION_MS, OFF(notify_time), 100, 600000, "10s",
     "How long a decided winner has to come for its COMMIT", 0, NULL},
    {"completion.commit.timeout", CONFIG_DURATION_MS, OFF(commit_timeout), 100, 3600000, "120s",
     "Commit budget (build + upload + CommitEnd) from COMMIT", 0, NULL},
    {"completion.commit.max", CONFIG_DURATION_MS, OFF(commit_max), 100, 86400000, "30m",
     "Longest a commit may take with ExtendBuildTime extensions", 0, NULL},
    {"completion.longpoll", CONFIG_DURATION_MS, OFF(longpoll), 0, 60000, "5s",
     "How long a HOLD reply is held open waiting for a decision", 0, NULL},
    {"repair.interval", CONFIG_DURATION_MS, OFF(repair_interval), 100, 86400000, "10s",
     "Period of the leader's repair loop", 0, NULL},
    {"store.scrub.interval", CONFIG_DURATION_MS, OFF(scrub_interval), 0, 30ull * 86400000, "1h",
     "The leader re-verifies every committed file of the segment store this often (0 = never); "
     "a file that fails, has another CRC than its ZooKeeper record or is missing is counted, "
     "logged, moved to <table>/quarantine/ in the store and downloaded again from a sidecar",
     0, NULL},
    {"store.scrub.rate", CONFIG_SIZE_BYTES, OFF(scrub_rate), 0, 1ull << 40, "64M",
     "Bytes per second the store scrub reads at most (0 = unlimited)", 0, NULL},
    {"log.level", CONFIG_ENUM, OFF(log_level), 0, 0, "info", "error, warn, info or debug", 0,
     ctl_levels},
    {"test.commit.fault", CONFIG_ENUM, OFF(fault), 0, 0, "none",
     "Test knob: fail at a named point of the commit", CONFIG_HIDDEN, ctl_faults},
    {"test.commit.stall", CONFIG_DURATION_MS, OFF(fault_stall), 0, 3600000, "30s",
     "Test knob: length of stall_before_multi", CONFIG_HIDDEN, NULL},
    {"test.commit.twice", CONFIG_BOOL, OFF(commit_twice), 0, 0, "false",
     "Test knob, a broken build on purpose: write each DONE segment record again right after "
     "its commit",
     CONFIG_HIDDEN, NULL},
    {"test.push.stall", CONFIG_DURATION_MS, OFF(push_stall), 0, 3600000, "0",
     "Test knob: a verified push holds its segment's name this long before it is recorded "
     "(a second push of the name meanwhile is 409)",
     CONFIG_HIDDEN, NULL},
    {"test.fsync.eio.after", CONFIG_INT64, OFF(fsync_eio_after), -1, INT64_MAX, "-1",
     "Test knob: fsyncs of file data (every upload into the segment store) numbered from this one "
     "(0-based) fail with "
     "EIO; -1 = off",
     CONFIG_HIDDEN, NULL},
    {"test.fsync.eio.count", CONFIG_INT64, OFF(fsync_eio_count), 0, INT64_MAX, "0",
     "Test knob: how many fsyncs test.fsync.eio.after fails (0 = all)", CONFIG_HIDDEN, NULL},
    {"test.disk.full.file", CONFIG_STRING, OFF(disk_full_file), 0, 0, NULL,
     "Test knob: while this file exists, every write into the segment store fails with ENOSPC",
     CONFIG_HIDDEN, NULL},
};
#undef OFF
#define CONTROLLER_NDEFS (sizeof controller_defs / sizeof controller_defs[0])

static const char controller_usage[] =
    "usage: sluice controller --config FILE [--set key=value ...] [--check-config]\n"
    "       sluice controller --help-config [--format markdown|properties]\n"
    "\n"
    "Runs a controller: the completion coordinator (on the elected leader), the segment store\n"
    "and the admin API. --help-config lists every key.\n";

int cmd_controller_main(int argc, char **argv)
{
    const char *config_path;
    char *sets[CONTROLLER_MAX_SETS];
    size_t nsets;
    bool check;
    int ac = config_args(argc, argv, controller_defs, CONTROLLER_NDEFS, "sluice controller",
                         controller_usage, &config_path, sets, &nsets, CONTROLLER_MAX_SETS, &check);
    if (ac >= 0) return ac;
    controller_conf conf;
    char err[1024];
    if (config_load(controller_defs, CONTROLLER_NDEFS, &conf, CONFIG_ROLE_CONTROLLER, config_path,
                    sets, nsets, err, sizeof err) != 0) {
        fprintf(stderr, "sluice controller: config: %s\n", err);
        return 1;
    }
    sl_log_threshold = (sl_log_level)conf.log_level;
    auth *tokens = NULL;
    char *token = NULL;
    char e2[512];
    int arc = auth_server_open(conf.http_bind, conf.auth_tokens, conf.auth_disabled, &tokens, e2,
                               sizeof e2);
    if (!arc && conf.auth_token) {
        char why[400];
        arc = auth_token_read(conf.auth_token, &token, why, sizeof why);
        if (arc) snprintf(e2, sizeof e2, "auth.token.file: %s", why);
    }
    if (arc) {
        fprintf(stderr, "sluice controller: config: %s\n", e2);
        auth_close(tokens);
        config_free(controller_defs, CONTROLLER_NDEFS, &conf);
        return 1;
    }
    if (check) { /* --check-config: the keys validated (bounds, names, files), nothing started */
        deepstore *d = NULL;
        int drc = deepstore_is_uri(conf.deepstore_uri)
                      ? deepstore_open(conf.deepstore_uri, conf.fetch_ca, conf.fetch_netrc, &d, e2,
                                       sizeof e2)
                      : 0;
        deepstore_close(d);
        auth_close(tokens);
        free(token);
        config_free(controller_defs, CONTROLLER_NDEFS, &conf);
        if (drc)
            fprintf(stderr, "sluice controller: config: %s\n", e2);
        else
            printf("sluice controller: config ok\n");
        return drc ? 1 : 0;
    }
    int rc = 1;
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP); /* the tokens file again */
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    fsutil_fault_configure(conf.disk_full_file, -1, 0);
    fsutil_fault_fsync_configure(conf.fsync_eio_after, (uint64_t)conf.fsync_eio_count);
    metrics_registry *metrics = metrics_new();
    ctl_opts o = {
        .cluster = conf.cluster_name,
        .zk_connect = conf.zk_connect,
        .zk_session_timeout_ms = (unsigned)conf.zk_session_timeout,
        .instance_id = conf.instance_id,
        /* a WebHDFS or HTTP deep store mirrors the local store (data.dir); a file:// one is
         * shared by every controller and is the store */
        .store = conf.deepstore_uri && !deepstore_is_uri(conf.deepstore_uri) ? conf.deepstore_uri
                                                                             : conf.data_dir,
        .deep = deepstore_is_uri(conf.deepstore_uri) ? conf.deepstore_uri : NULL,
        .store_shared = conf.deepstore_uri != NULL && !deepstore_is_uri(conf.deepstore_uri),
        .fsm = {.hold_ms = conf.hold_time,
                .notify_ms = conf.notify_time,
                .commit_budget_ms = conf.commit_timeout,
                .max_commit_ms = conf.commit_max},
        .longpoll_ms = conf.longpoll,
        .repair_interval_ms = conf.repair_interval,
        .scrub_interval_ms = conf.scrub_interval,
        .scrub_rate = conf.scrub_rate,
        .fault = (ctl_fault)conf.fault,
        .fault_stall_ms = conf.fault_stall,
        .commit_twice = conf.commit_twice,
        .push_stall_ms = conf.push_stall,
        .fetch_ca_file = conf.fetch_ca,
        .fetch_netrc_file = conf.fetch_netrc,
        .token = token,
        .tls_ca_file = conf.tls_ca,
        .tls_cert_file = conf.tls_cert,
        .tls_key_file = conf.tls_key,
        .metrics = metrics,
    };
    httpd *h = NULL;
    ctl *c = ctl_new(&o, err, sizeof err);
    if (!c) {
        fprintf(stderr, "sluice controller: %s\n", err);
        goto done;
    }
    size_t nroutes;
    const httpd_route *routes = ctl_routes(&nroutes);
    httpd_opts ho = {.threads = (unsigned)conf.http_threads,
                     .conn_limit = (unsigned)conf.http_max_conns,
                     .per_ip_limit = (unsigned)conf.http_max_conns_per_ip,
                     .header_timeout_ms = (unsigned)conf.http_header_timeout,
                     .auth = tokens,
                     .tls_cert = conf.tls_cert,
                     .tls_key = conf.tls_key,
                     .tls_client_ca = conf.tls_client_ca};
    h = httpd_start(conf.http_bind, (uint16_t)conf.http_port, routes, nroutes, c, &ho, err,
                    sizeof err);
    if (!h) {
        fprintf(stderr, "sluice controller: http.port: %s\n", err);
        goto done;
    }
    char advertise[512];
    if (conf.http_advertise)
        snprintf(advertise, sizeof advertise, "%s", conf.http_advertise);
    else
        snprintf(advertise, sizeof advertise, "%s://%s:%u", httpd_tls(h) ? "https" : "http",
                 strcmp(conf.http_bind, "0.0.0.0") == 0 ? "127.0.0.1" : conf.http_bind,
                 (unsigned)httpd_port(h));
    if (ctl_run(c, h, advertise, err, sizeof err) != 0) {
        fprintf(stderr, "sluice controller: zk.connect: %s\n", err);
        goto done;
    }
    SL_INFO("controller", "started instance=%s url=%s cluster=%s zk=%s store=%s auth=%s",
            conf.instance_id, advertise, conf.cluster_name, conf.zk_connect, o.store,
            tokens ? "tokens" : "off");
    int sig = 0;
    while (sigwait(&sigs, &sig) == 0 && sig == SIGHUP) {
        auth_sighup(tokens);
        httpd_tls_sighup(h);
    }
    SL_INFO("controller", "stopping signal=%d", sig);
    rc = 0;
done:
    ctl_shutdown(c); /* its threads wake parked requests: they end before the server */
    httpd_stop(h);
    ctl_stop(c);
    metrics_free(metrics);
    auth_close(tokens);
    free(token);
    config_free(controller_defs, CONTROLLER_NDEFS, &conf);
    return rc;
}
