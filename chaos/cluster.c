/* A local cluster of real processes for the chaos runner (cluster.h).
 *
 * Each process is a child started with fork/execv of the sluice binary, its stdout and stderr
 * appended to <work>/<name>.log. Readiness is read from the log lines a start writes after the
 * log's size at the start (a log spans restarts): "sub=controller started ... url=U",
 * "sub=sidecar started ... http=H:P" and "sub=replica registered", then GET /health. */
#include "chaos/cluster.h"
#include "common/clock.h"
#include "common/fsutil.h"
#include "common/httpc.h"
#include "common/sl_err.h"
#include "common/xalloc.h"
#include "consumer/kmeta.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CCL_UP_TIMEOUT_MS 30000
#define CCL_ARGS_MAX 64

typedef enum ccl_kind { CCL_KAFKA, CCL_CONTROLLER, CCL_SIDECAR } ccl_kind;

typedef struct ccl_proc {
    char name[8];      /* "kafka", "c1", "s2" */
    ccl_kind kind;
    int index;         /* 1-based for controllers and sidecars */
    pid_t pid;         /* 0: not running */
    bool stopped;      /* seen stopped (WUNTRACED) and not continued since */
    char log[PATH_MAX];
    char url[128];     /* http://127.0.0.1:P once up */
    int port;          /* P of the first start: a restart keeps it, as a real deployment does */
    char *sets[CCL_MAX_SETS]; /* extra --set values, owned */
    int nsets;
} ccl_proc;

struct ccl {
    ccl_opts o;
    char work[CCL_PATH_MAX]; /* ccl_opts.work, at most 2047 bytes (cmd_chaos checks) */
    char zk_connect[64];
    char bootstrap[512];
    int kafka_ctl_port;
    char table[129], topic[256];
    char table_file[PATH_MAX];
    char store_uri[PATH_MAX + 16];
    ccl_proc kafka;
    ccl_proc ctl[CCL_CONTROLLERS];
    ccl_proc side[CCL_SIDECARS];
    char dirs[CCL_CONTROLLERS + CCL_SIDECARS][PATH_MAX];
    pid_t load_pid;
    hist *h;
};

/* ---- ZooKeeper ----------------------------------------------------------------------- */

/* Run zk-start.sh with args and adopt its ZK_PORT/ZK_PID/ZK_CONNECT lines. */
static int ccl__zk_run(ccl_zk *z, const char *args, char *err, size_t errlen)
{
    char cmd[3 * PATH_MAX];
    snprintf(cmd, sizeof cmd, "bash '%s' %s '%s' 2>>'%s/zk-start.err'", z->script, args, z->dir,
             z->dir);
    FILE *p = popen(cmd, "r");
    if (!p) return sl_fail(err, errlen, SL_EIO, "cannot run %s: %s", z->script, strerror(errno));
    char line[256];
    int port = 0;
    long pid = 0;
    char connect[64] = "";
    while (fgets(line, sizeof line, p)) {
        if (sscanf(line, "ZK_PORT=%d", &port) == 1) continue;
        if (sscanf(line, "ZK_PID=%ld", &pid) == 1) continue;
        if (sscanf(line, "ZK_CONNECT=%63s", connect) == 1) continue;
    }
    int st = pclose(p);
    if (st != 0 || port <= 0 || pid <= 0 || !connect[0])
        return sl_fail(err, errlen, SL_EIO, "ZooKeeper did not start (see %s/zk.log)", z->dir);
    z->port = port;
    z->pid = (pid_t)pid;
    snprintf(z->connect, sizeof z->connect, "%s", connect);
    return 0;
}

int ccl_zk_start(ccl_zk *z, const char *script, const char *dir, char *err, size_t errlen)
{
    memset(z, 0, sizeof *z);
    snprintf(z->script, sizeof z->script, "%s", script);
    snprintf(z->dir, sizeof z->dir, "%s", dir);
    int rc = fsutil_mkdirs(dir, err, errlen);
    return rc ? rc : ccl__zk_run(z, "", err, errlen);
}

void ccl_zk_stop(ccl_zk *z)
{
    char err[256];
    if (z->pid) ccl__zk_run(z, "--stop", err, sizeof err); /* prints nothing: the rc is moot */
    z->pid = 0;
}

int ccl_zk_restart(ccl_zk *z, char *err, size_t errlen)
{
    ccl_zk_stop(z);
    char args[32];
    snprintf(args, sizeof args, "--port %d", z->port);
    return ccl__zk_run(z, args, err, errlen);
}

void ccl_zk_pause(ccl_zk *z, bool pause)
{
    if (z->pid) kill(z->pid, pause ? SIGSTOP : SIGCONT);
}

/* ---- processes ----------------------------------------------------------------------- */

static ccl_proc *ccl__proc(ccl *c, const char *who)
{
    if (strcmp(who, "kafka") == 0) return &c->kafka;
    for (int i = 0; i < CCL_CONTROLLERS; i++)
        if (strcmp(c->ctl[i].name, who) == 0) return &c->ctl[i];
    for (int i = 0; i < CCL_SIDECARS; i++)
        if (strcmp(c->side[i].name, who) == 0) return &c->side[i];
    return NULL;
}

static off_t ccl__size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : 0;
}

/* The text of path from offset on (NUL-terminated, caller frees), or NULL. */
static char *ccl__since(const char *path, off_t off)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    off_t end = lseek(fd, 0, SEEK_END);
    if (end < off) off = 0;
    size_t n = (size_t)(end - off);
    char *buf = sl_xmalloc(n + 1);
    ssize_t got = pread(fd, buf, n, off);
    close(fd);
    buf[got > 0 ? got : 0] = '\0';
    return buf;
}

/* fork + execv of argv with stdout/stderr appended to log. Returns the PID or -1. */
static pid_t ccl__spawn(const char *const *argv, const char *log)
{
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0) dup2(null, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(fd);
    return pid;
}

static void ccl__argv_common(const ccl *c, const char **a, int *n, char bufs[][PATH_MAX + 64],
                             int *nb)
{
    snprintf(bufs[*nb], sizeof bufs[0], "cluster.name=%s", c->o.cluster);
    a[(*n)++] = "--set";
    a[(*n)++] = bufs[(*nb)++];
    snprintf(bufs[*nb], sizeof bufs[0], "zk.connect=%s", c->zk_connect);
    a[(*n)++] = "--set";
    a[(*n)++] = bufs[(*nb)++];
    a[(*n)++] = "--set";
    a[(*n)++] = "http.bind=127.0.0.1";
}

/* Whether p's extra sets give the key of kv ("key=value"): then its default is left out (a
 * key given twice is refused at start). */
static bool ccl__overridden(const ccl_proc *p, const char *kv)
{
    size_t n = strcspn(kv, "=") + 1;
    for (int i = 0; i < p->nsets; i++)
        if (strncmp(p->sets[i], kv, n) == 0) return true;
    return false;
}

/* Start p (not running) and return once its start is up, or an error. */
static int ccl__launch(ccl *c, ccl_proc *p, char *err, size_t errlen)
{
    const char *a[CCL_ARGS_MAX];
    char bufs[8][PATH_MAX + 64];
    int n = 0, nb = 0;
    a[n++] = c->o.exe;
    a[n++] = p->kind == CCL_SIDECAR ? "sidecar" : "controller";
    ccl__argv_common(c, a, &n, bufs, &nb);
    if (!ccl__overridden(p, "zk.session.timeout=3s")) { /* short: sessions expire in seconds */
        a[n++] = "--set";
        a[n++] = "zk.session.timeout=3s";
    }
    const char *dir = c->dirs[p->kind == CCL_SIDECAR ? CCL_CONTROLLERS + p->index - 1
                                                     : p->index - 1];
    if (p->kind == CCL_SIDECAR) {
        snprintf(bufs[nb], sizeof bufs[0], "instance.id=sidecar-%d", p->index);
        a[n++] = "--set";
        a[n++] = bufs[nb++];
        a[n++] = "--set";
        a[n++] = "mode=cluster";
        if (!ccl__overridden(p, "consumer.threads=1")) {
            a[n++] = "--set";
            a[n++] = "consumer.threads=1";
        }
    } else {
        snprintf(bufs[nb], sizeof bufs[0], "instance.id=%s", p->name);
        a[n++] = "--set";
        a[n++] = bufs[nb++];
        static const char *const defaults[] = {"completion.hold.time=1s",
                                               "completion.commit.timeout=20s"};
        for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
            if (!ccl__overridden(p, defaults[i])) {
                a[n++] = "--set";
                a[n++] = defaults[i];
            }
        snprintf(bufs[nb], sizeof bufs[0], "deepstore.uri=%s", c->store_uri);
        a[n++] = "--set";
        a[n++] = bufs[nb++];
    }
    snprintf(bufs[nb], sizeof bufs[0], "data.dir=%s", dir);
    a[n++] = "--set";
    a[n++] = bufs[nb++];
    snprintf(bufs[nb], sizeof bufs[0], "http.port=%d", p->port);
    a[n++] = "--set";
    a[n++] = bufs[nb++];
    for (int i = 0; i < p->nsets; i++) {
        a[n++] = "--set";
        a[n++] = p->sets[i];
    }
    a[n] = NULL;
    off_t off = ccl__size(p->log);
    p->pid = ccl__spawn(a, p->log);
    p->stopped = false;
    p->url[0] = '\0';
    if (p->pid < 0) {
        p->pid = 0;
        return sl_fail(err, errlen, SL_EIO, "%s: cannot start: %s", p->name, strerror(errno));
    }
    hist_add(c->h, "start", p->name, "pid %d", (int)p->pid);
    const char *ready = p->kind == CCL_SIDECAR ? "sub=replica registered" : "sub=controller started";
    const char *addr = p->kind == CCL_SIDECAR ? "http=" : "url=";
    httpc *h = httpc_new();
    int64_t deadline = sl_clock_mono_ms() + CCL_UP_TIMEOUT_MS;
    int rc = SL_ETIMEDOUT;
    while (sl_clock_mono_ms() < deadline) {
        int st;
        if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
            p->pid = 0;
            rc = sl_fail(err, errlen, SL_EIO, "%s exited at start (see %s)", p->name, p->log);
            break;
        }
        char *text = ccl__since(p->log, off);
        const char *s = text ? strstr(text, p->kind == CCL_SIDECAR ? "sub=sidecar started"
                                                                 : "sub=controller started")
                             : NULL;
        const char *u = s ? strstr(s, addr) : NULL;
        if (u && (!text || strstr(text, ready))) {
            u += strlen(addr);
            size_t len = strcspn(u, " \n");
            if (p->kind == CCL_SIDECAR)
                snprintf(p->url, sizeof p->url, "http://%.*s", (int)len, u);
            else
                snprintf(p->url, sizeof p->url, "%.*s", (int)len, u);
        }
        free(text);
        if (p->url[0]) {
            char url[192];
            httpc_resp r;
            httpc_resp_init(&r, 1 << 16);
            snprintf(url, sizeof url, "%s/health", p->url);
            bool ok = httpc_request(h, "GET", url, NULL, NULL, 0, 2000, &r) == 0 && r.status == 200;
            httpc_resp_free(&r);
            if (ok) {
                const char *colon = strrchr(p->url, ':');
                if (colon && !p->port) p->port = atoi(colon + 1);
                rc = 0;
                break;
            }
        }
        sl_clock_sleep_ms(100);
    }
    httpc_free(h);
    if (rc == SL_ETIMEDOUT)
        rc = sl_fail(err, errlen, rc, "%s not up within %d s (see %s)", p->name,
                     CCL_UP_TIMEOUT_MS / 1000, p->log);
    return rc;
}

static void ccl__set_sets(ccl_proc *p, const char *const *sets)
{
    for (int i = 0; i < p->nsets; i++) free(p->sets[i]);
    p->nsets = 0;
    for (int i = 0; sets && sets[i] && p->nsets < CCL_MAX_SETS; i++)
        p->sets[p->nsets++] = sl_xstrdup(sets[i]);
}

/* SIGTERM (SIGCONT first: a stopped process cannot act on it), then SIGKILL after ms. */
static void ccl__terminate(pid_t pid, int64_t ms)
{
    if (pid <= 0) return;
    kill(pid, SIGCONT);
    kill(pid, SIGTERM);
    int64_t deadline = sl_clock_mono_ms() + ms;
    int st;
    while (sl_clock_mono_ms() < deadline) {
        if (waitpid(pid, &st, WNOHANG) == pid) return;
        sl_clock_sleep_ms(50);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
}

/* ---- the table ----------------------------------------------------------------------- */

/* Set key=value (value NULL: remove key) in every stream config map of the table config t
 * (Pinot keeps them in tableIndexConfig.streamConfigs or
 * ingestionConfig.streamIngestionConfig.streamConfigMaps). */
static void ccl__stream_set(json_t *t, const char *key, const char *value)
{
    json_t *all[65];
    size_t n = 0, i;
    json_t *sc = json_object_get(json_object_get(t, "tableIndexConfig"), "streamConfigs");
    if (json_is_object(sc)) all[n++] = sc;
    json_t *maps = json_object_get(json_object_get(json_object_get(t, "ingestionConfig"),
                                                   "streamIngestionConfig"),
                                   "streamConfigMaps");
    json_t *m;
    json_array_foreach(maps, i, m) if (json_is_object(m) && n < 65) all[n++] = m;
    for (i = 0; i < n; i++) {
        if (value) json_object_set_new(all[i], key, json_string(value));
        else json_object_del(all[i], key);
    }
}

static const char *ccl__stream_get(json_t *t, const char *key)
{
    json_t *sc = json_object_get(json_object_get(t, "tableIndexConfig"), "streamConfigs");
    const char *v = json_string_value(json_object_get(sc, key));
    if (v) return v;
    json_t *maps = json_object_get(json_object_get(json_object_get(t, "ingestionConfig"),
                                                   "streamIngestionConfig"),
                                   "streamConfigMaps");
    return json_string_value(json_object_get(json_array_get(maps, 0), key));
}

/* Read the user's table config, point it at this run's broker with 3 replicas and the run's
 * thresholds, and write it to c->table_file; learn the table and topic names. */
static int ccl__table_file(ccl *c, char *err, size_t errlen)
{
    json_error_t je;
    json_t *t = json_load_file(c->o.table_config, 0, &je);
    if (!json_is_object(t)) {
        json_decref(t);
        return sl_fail(err, errlen, SL_EINVAL, "%s: line %d: %s", c->o.table_config, je.line,
                       je.text);
    }
    const char *name = json_string_value(json_object_get(t, "tableName"));
    const char *topic = ccl__stream_get(t, "stream.kafka.topic.name");
    if (!name || !topic) {
        json_decref(t);
        return sl_fail(err, errlen, SL_EINVAL, "%s: no tableName or stream.kafka.topic.name",
                       c->o.table_config);
    }
    snprintf(c->table, sizeof c->table, "%s", name);
    size_t tl = strlen(c->table);
    if (tl > 9 && strcmp(c->table + tl - 9, "_REALTIME") == 0) c->table[tl - 9] = '\0';
    snprintf(c->topic, sizeof c->topic, "%s", topic);
    json_t *seg = json_object_get(t, "segmentsConfig");
    if (!json_is_object(seg)) json_object_set_new(t, "segmentsConfig", seg = json_object());
    json_object_set_new(seg, "replication", json_string("3"));
    ccl__stream_set(t, "stream.kafka.broker.list", c->bootstrap);
    ccl__stream_set(t, "realtime.segment.flush.threshold.time", c->o.flush_time);
    if (c->o.flush_rows < 0) { /* the time threshold alone ends segments */
        ccl__stream_set(t, "realtime.segment.flush.threshold.rows", NULL);
        ccl__stream_set(t, "realtime.segment.flush.threshold.segment.size", NULL);
    } else if (c->o.flush_rows > 0) {
        char rows[32];
        snprintf(rows, sizeof rows, "%lld", (long long)c->o.flush_rows);
        ccl__stream_set(t, "realtime.segment.flush.threshold.rows", rows);
        ccl__stream_set(t, "realtime.segment.flush.threshold.segment.size", NULL);
    }
    snprintf(c->table_file, sizeof c->table_file, "%s/table.json", c->work);
    int rc = json_dump_file(t, c->table_file, JSON_INDENT(2));
    json_decref(t);
    return rc ? sl_fail(err, errlen, SL_EIO, "%s: cannot write", c->table_file) : 0;
}

/* `sluice table add` against the leader; retried while no controller leads yet. */
static int ccl__table_add(ccl *c, char *err, size_t errlen)
{
    int64_t deadline = sl_clock_mono_ms() + CCL_UP_TIMEOUT_MS;
    char log[PATH_MAX];
    snprintf(log, sizeof log, "%s/table-add.log", c->work);
    for (int tries = 0; tries < 5 && sl_clock_mono_ms() < deadline;) {
        const char *leader = ccl_leader(c);
        if (leader) {
            tries++; /* a refused config is refused again: a few tries, not the deadline */
            const char *a[] = {c->o.exe, "table", "add", "--controller", ccl__proc(c, leader)->url,
                               "--table-config", c->table_file, "--schema", c->o.schema, NULL};
            pid_t pid = ccl__spawn(a, log);
            int st = 0;
            if (pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0) {
                hist_add(c->h, "table", leader, "added %s (topic %s, %d partitions)", c->table,
                         c->topic, c->o.partitions);
                return 0;
            }
        }
        sl_clock_sleep_ms(500);
    }
    return sl_fail(err, errlen, SL_ETIMEDOUT, "table add failed (see %s)", log);
}

/* ---- public -------------------------------------------------------------------------- */

static int ccl__kafka_start(ccl *c, char *err, size_t errlen)
{
    char topic[300], bfile[PATH_MAX], cfile[PATH_MAX];
    snprintf(topic, sizeof topic, "%s:%d", c->topic, c->o.partitions);
    snprintf(bfile, sizeof bfile, "%s/kafka.bootstrap", c->work);
    snprintf(cfile, sizeof cfile, "%s/kafka.ctl", c->work);
    const char *a[] = {c->o.exe,       "kafka-mock",  "--brokers",        "3",   "--topic",
                       topic,          "--bootstrap-file", bfile,         "--control-port", "0",
                       "--control-file", cfile,        NULL};
    c->kafka.pid = ccl__spawn(a, c->kafka.log);
    if (c->kafka.pid < 0) {
        c->kafka.pid = 0;
        return sl_fail(err, errlen, SL_EIO, "kafka-mock: cannot start");
    }
    int64_t deadline = sl_clock_mono_ms() + 15000;
    while (sl_clock_mono_ms() < deadline) {
        uint8_t *b = NULL, *k = NULL;
        size_t bl = 0, kl = 0;
        char e[128];
        if (fsutil_read_file(bfile, &b, &bl, e, sizeof e) == 0 &&
            fsutil_read_file(cfile, &k, &kl, e, sizeof e) == 0 && bl && kl) {
            snprintf(c->bootstrap, sizeof c->bootstrap, "%.*s", (int)strcspn((char *)b, "\n"),
                     (char *)b);
            const char *colon = strrchr((char *)k, ':');
            c->kafka_ctl_port = colon ? atoi(colon + 1) : 0;
            free(b);
            free(k);
            hist_add(c->h, "start", "kafka", "pid %d bootstrap %s", (int)c->kafka.pid,
                     c->bootstrap);
            return 0;
        }
        free(b);
        free(k);
        sl_clock_sleep_ms(100);
    }
    return sl_fail(err, errlen, SL_ETIMEDOUT, "kafka-mock did not start (see %s)", c->kafka.log);
}

ccl *ccl_start(const ccl_opts *o, const ccl_zk *z, hist *h, char *err, size_t errlen)
{
    ccl *c = sl_xcalloc(1, sizeof *c);
    c->o = *o;
    c->h = h;
    snprintf(c->work, sizeof c->work, "%s", o->work);
    snprintf(c->zk_connect, sizeof c->zk_connect, "%s", z->connect);
    snprintf(c->store_uri, sizeof c->store_uri, "file://%s/store", o->work);
    snprintf(c->kafka.name, sizeof c->kafka.name, "kafka");
    snprintf(c->kafka.log, sizeof c->kafka.log, "%s/kafka.log", o->work);
    /* c1, c2 then s1..s3: dirs[] holds their data dirs in that order */
    for (int k = 0; k < CCL_CONTROLLERS + CCL_SIDECARS; k++) {
        bool side = k >= CCL_CONTROLLERS;
        int i = side ? k - CCL_CONTROLLERS : k;
        ccl_proc *p = side ? &c->side[i] : &c->ctl[i];
        char letter = side ? 's' : 'c';
        snprintf(p->name, sizeof p->name, "%c%d", letter, i + 1);
        p->kind = side ? CCL_SIDECAR : CCL_CONTROLLER;
        p->index = i + 1;
        snprintf(p->log, sizeof p->log, "%s/%c%d.log", o->work, letter, i + 1);
        snprintf(c->dirs[k], sizeof c->dirs[k], "%s/%c%d", o->work, letter, i + 1);
        ccl__set_sets(p, side ? o->sidecar_sets[i] : o->controller_sets);
    }
    char store[PATH_MAX + 8];
    snprintf(store, sizeof store, "%s/store", o->work);
    int rc = fsutil_mkdirs(store, err, errlen);
    /* the table file first: it names the topic kafka-mock must create */
    if (!rc) {
        json_error_t je;
        json_t *t = json_load_file(o->table_config, 0, &je);
        const char *topic = t ? ccl__stream_get(t, "stream.kafka.topic.name") : NULL;
        snprintf(c->topic, sizeof c->topic, "%s", topic ? topic : "");
        json_decref(t);
        if (!c->topic[0])
            rc = sl_fail(err, errlen, SL_EINVAL, "%s: no stream.kafka.topic.name", o->table_config);
    }
    if (!rc) rc = ccl__kafka_start(c, err, errlen);
    if (!rc) rc = ccl__table_file(c, err, errlen);
    for (int i = 0; !rc && i < CCL_CONTROLLERS; i++) rc = ccl__launch(c, &c->ctl[i], err, errlen);
    for (int i = 0; !rc && i < CCL_SIDECARS; i++) rc = ccl__launch(c, &c->side[i], err, errlen);
    if (!rc) rc = ccl__table_add(c, err, errlen); /* replication 3 needs the sidecars first */
    if (rc) {
        ccl_free(c);
        return NULL;
    }
    return c;
}

bool ccl_signal(ccl *c, const char *who, int sig)
{
    ccl_proc *p = ccl__proc(c, who);
    if (!p || !p->pid || (sig == SIGCONT && !p->stopped)) return false;
    if (kill(p->pid, sig) != 0) return false;
    if (sig == SIGSTOP) p->stopped = true;
    if (sig == SIGCONT) p->stopped = false;
    if (sig == SIGKILL) {
        int st;
        waitpid(p->pid, &st, 0);
        p->pid = 0;
    }
    hist_add(c->h, "signal", who, "%s", strsignal(sig));
    return true;
}

void ccl_stop(ccl *c, const char *who)
{
    ccl_proc *p = ccl__proc(c, who);
    if (!p || !p->pid) return;
    ccl__terminate(p->pid, 10000);
    p->pid = 0;
    p->stopped = false;
    hist_add(c->h, "stop", who, "SIGTERM");
}

int ccl_restart(ccl *c, const char *who, const char *const *sets, char *err, size_t errlen)
{
    ccl_proc *p = ccl__proc(c, who);
    if (!p || p->kind == CCL_KAFKA)
        return sl_fail(err, errlen, SL_EINVAL, "%s: cannot be restarted", who);
    if (p->pid) {
        ccl__terminate(p->pid, 10000);
        p->pid = 0;
    }
    if (sets) ccl__set_sets(p, sets);
    hist_add(c->h, "restart", who, "%d extra settings", p->nsets);
    return ccl__launch(c, p, err, errlen);
}

void ccl_poll(ccl *c, ccl_event_fn fn, void *ctx)
{
    ccl_proc *all[1 + CCL_CONTROLLERS + CCL_SIDECARS];
    int n = 0;
    all[n++] = &c->kafka;
    for (int i = 0; i < CCL_CONTROLLERS; i++) all[n++] = &c->ctl[i];
    for (int i = 0; i < CCL_SIDECARS; i++) all[n++] = &c->side[i];
    for (int i = 0; i < n; i++) {
        ccl_proc *p = all[i];
        int st;
        if (!p->pid || waitpid(p->pid, &st, WNOHANG | WUNTRACED) != p->pid) continue;
        if (WIFSTOPPED(st)) {
            if (p->stopped) continue; /* our own SIGSTOP */
            p->stopped = true;
            hist_add(c->h, "stopped", p->name, "stopped itself (signal %d)", WSTOPSIG(st));
            if (fn) fn(ctx, p->name, true, st);
            continue;
        }
        hist_add(c->h, "exited", p->name, WIFEXITED(st) ? "exit %d" : "killed by signal %d",
                 WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
        p->pid = 0;
        if (fn) fn(ctx, p->name, false, st);
    }
}

bool ccl_running(const ccl *c, const char *who)
{
    const ccl_proc *p = ccl__proc((ccl *)c, who);
    return p && p->pid;
}

const char *ccl_leader(ccl *c)
{
    httpc *h = httpc_new();
    const char *leader = NULL;
    for (int i = 0; i < CCL_CONTROLLERS && !leader; i++) {
        ccl_proc *p = &c->ctl[i];
        if (!p->pid || p->stopped || !p->url[0]) continue;
        char url[192];
        snprintf(url, sizeof url, "%s/health", p->url);
        httpc_resp r;
        httpc_resp_init(&r, 1 << 16);
        if (httpc_request(h, "GET", url, NULL, NULL, 0, 2000, &r) == 0 && r.status == 200 &&
            r.body && strstr(r.body, "\"leader\":true"))
            leader = p->name;
        httpc_resp_free(&r);
    }
    httpc_free(h);
    return leader;
}

int ccl_kafka(ccl *c, const char *cmd, char *reply, size_t cap)
{
    if (cap) reply[0] = '\0';
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return SL_EIO;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)c->kafka_ctl_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int rc = SL_ETRANSIENT;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
        char line[512];
        int n = snprintf(line, sizeof line, "%s\n", cmd);
        if (write(fd, line, (size_t)n) == n) {
            size_t got = 0;
            while (got + 1 < cap) {
                ssize_t r = read(fd, reply + got, cap - 1 - got);
                if (r <= 0) break;
                got += (size_t)r;
                if (memchr(reply, '\n', got)) break;
            }
            if (cap) reply[got < cap ? got : cap - 1] = '\0';
            reply[strcspn(reply, "\n")] = '\0';
            rc = strncmp(reply, "ok", 2) == 0 ? 0 : SL_EINVAL;
        }
    }
    close(fd);
    hist_add(c->h, "kafka", "kafka", "%s -> %s", cmd, reply);
    return rc;
}

int ccl_load(ccl *c, int64_t start_id, int64_t rows, int rate)
{
    char r[32], k[32], rt[32], p[16], log[PATH_MAX];
    snprintf(r, sizeof r, "%lld", (long long)rows);
    snprintf(k, sizeof k, "%lld", (long long)start_id);
    snprintf(rt, sizeof rt, "%d", rate);
    snprintf(p, sizeof p, "%d", c->o.partitions);
    snprintf(log, sizeof log, "%s/loadgen.log", c->work);
    const char *a[] = {c->o.exe, "loadgen", "--bootstrap", c->bootstrap, "--topic", c->topic,
                       "--rows", r, "--start-id", k, "--rate", rt, "--partitions", p,
                       "--timeout", "120",
                       c->o.load_schema ? "--schema" : NULL, c->o.load_schema, NULL};
    c->load_pid = ccl__spawn(a, log);
    hist_add(c->h, "load", "loadgen", "ids %lld..%lld at %d rows/s", (long long)start_id,
             (long long)(start_id + rows - 1), rate);
    return c->load_pid > 0 ? 0 : SL_EIO;
}

int ccl_load_wait(ccl *c, int timeout_s)
{
    if (c->load_pid <= 0) return SL_ESTATE;
    int64_t deadline = sl_clock_mono_ms() + (int64_t)timeout_s * 1000;
    int st;
    while (sl_clock_mono_ms() < deadline) {
        if (waitpid(c->load_pid, &st, WNOHANG) == c->load_pid) {
            c->load_pid = 0;
            bool ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
            hist_add(c->h, "load", "loadgen", ok ? "delivered" : "failed (status %d)", st);
            return ok ? 0 : SL_EIO;
        }
        sl_clock_sleep_ms(100);
    }
    ccl__terminate(c->load_pid, 2000);
    c->load_pid = 0;
    hist_add(c->h, "load", "loadgen", "not delivered within %d s", timeout_s);
    return SL_ETIMEDOUT;
}

bool ccl_load_pause(ccl *c, bool pause)
{
    if (c->load_pid <= 0 || kill(c->load_pid, pause ? SIGSTOP : SIGCONT) != 0) return false;
    hist_add(c->h, pause ? "fault" : "heal", "loadgen", pause ? "paused" : "continued");
    return true;
}

int ccl_watermarks(ccl *c, int32_t partition, int64_t *low, int64_t *high)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", c->bootstrap, errstr, sizeof errstr)) {
        rd_kafka_conf_destroy(conf);
        return SL_EINVAL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        return SL_EIO;
    }
    int rc = kmeta_watermarks(rk, c->topic, partition, 5000, low, high);
    rd_kafka_destroy(rk);
    return rc;
}

static void ccl__delivered(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) (*(size_t *)opaque)++;
}

size_t ccl_produce_raw(ccl *c, int32_t partition, const char *const *values, const size_t *lens,
                       size_t n)
{
    size_t delivered = 0;
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", c->bootstrap, errstr, sizeof errstr) ||
        rd_kafka_conf_set(conf, "message.max.bytes", "8000000", errstr, sizeof errstr) ||
        rd_kafka_conf_set(conf, "enable.idempotence", "true", errstr, sizeof errstr)) {
        rd_kafka_conf_destroy(conf);
        return 0;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, ccl__delivered);
    rd_kafka_conf_set_opaque(conf, &delivered);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char key[32];
        int kl = snprintf(key, sizeof key, "bad-%zu", i);
        rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(c->topic), RD_KAFKA_V_PARTITION(partition),
                          RD_KAFKA_V_KEY(key, (size_t)kl),
                          RD_KAFKA_V_VALUE((void *)values[i], lens[i]),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        rd_kafka_poll(rk, 0);
    }
    rd_kafka_flush(rk, 30000);
    rd_kafka_destroy(rk);
    hist_add(c->h, "produce", "kafka", "%zu raw messages to partition %d, %zu delivered", n,
             (int)partition, delivered);
    return delivered;
}

const char *ccl_bootstrap(const ccl *c) { return c->bootstrap; }
const char *ccl_table(const ccl *c) { return c->table; }
const char *ccl_topic(const ccl *c) { return c->topic; }
int ccl_partitions(const ccl *c) { return c->o.partitions; }
const char *ccl_store_dir(const ccl *c) { return c->store_uri + strlen("file://"); }

const char *ccl_url(ccl *c, const char *who)
{
    const ccl_proc *p = ccl__proc(c, who);
    return p ? p->url : NULL;
}

const char *ccl_log(ccl *c, const char *who)
{
    const ccl_proc *p = ccl__proc(c, who);
    return p ? p->log : NULL;
}

const char *ccl_data_dir(const ccl *c, const char *who)
{
    for (int i = 0; i < CCL_SIDECARS; i++)
        if (strcmp(c->side[i].name, who) == 0) return c->dirs[CCL_CONTROLLERS + i];
    for (int i = 0; i < CCL_CONTROLLERS; i++)
        if (strcmp(c->ctl[i].name, who) == 0) return c->dirs[i];
    return NULL;
}

void ccl_free(ccl *c)
{
    if (!c) return;
    if (c->load_pid > 0) ccl__terminate(c->load_pid, 2000);
    for (int i = 0; i < CCL_SIDECARS; i++) ccl__terminate(c->side[i].pid, 10000);
    for (int i = 0; i < CCL_CONTROLLERS; i++) ccl__terminate(c->ctl[i].pid, 10000);
    ccl__terminate(c->kafka.pid, 5000);
    for (int i = 0; i < CCL_CONTROLLERS; i++) ccl__set_sets(&c->ctl[i], NULL);
    for (int i = 0; i < CCL_SIDECARS; i++) ccl__set_sets(&c->side[i], NULL);
    free(c);
}
