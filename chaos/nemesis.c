/* Fault scenarios of the chaos runner (nemesis.h).
 *
 * Every schedule waits through nem__wait, which also supervises: a process that exited on its
 * own (a knob's exit at a protocol step, or a crash) is restarted without its knobs after
 * NEM_RESTART_MS, one that stopped itself (a knob's SIGSTOP) is continued after NEM_PAUSE_MS,
 * and an exit that is neither a knob's (status 86) nor ours is counted as a crash. */
#include "chaos/nemesis.h"
#include "common/clock.h"
#include "common/fsutil.h"
#include "common/httpc.h"
#include "common/sl_err.h"
#include "common/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#define NEM_RESTART_MS 2000 /* a process that exited by itself is restarted after this */
#define NEM_PAUSE_MS 5000   /* one that stopped itself is continued after this */
#define NEM_KNOB_EXIT 86    /* the exit status of the test knobs' exits */
#define NEM_SESSION_MS 3000 /* zk.session.timeout of every process (chaos/cluster.c) */

typedef struct nem__pending {
    char who[8];
    bool stopped;   /* continue it (else restart it) */
    int64_t due_ms; /* monotonic */
} nem__pending;

typedef struct nem__sup {
    nem_run *r;
    nem__pending p[8];
    int n;
} nem__sup;

static nem__sup *nem__sups(nem_run *r)
{
    /* one supervisor per run, kept beside the run by address (the runner is one thread) */
    static nem__sup s;
    if (s.r != r) s = (nem__sup){.r = r};
    return &s;
}

static void nem__event(void *ctx, const char *who, bool stopped, int status)
{
    nem__sup *s = ctx;
    if (!stopped && !(WIFEXITED(status) && WEXITSTATUS(status) == NEM_KNOB_EXIT)) {
        s->r->crashes++;
        hist_add(s->r->h, "crash", who, "exited by itself with status %d", status);
    } else {
        s->r->injected++;
    }
    if (s->n == (int)(sizeof s->p / sizeof s->p[0])) return;
    nem__pending *p = &s->p[s->n++];
    snprintf(p->who, sizeof p->who, "%s", who);
    p->stopped = stopped;
    p->due_ms = sl_clock_mono_ms() + (stopped ? NEM_PAUSE_MS : NEM_RESTART_MS);
}

static const char *const nem__no_sets[] = {NULL};

int nem_supervise(nem_run *r)
{
    nem__sup *s = nem__sups(r);
    ccl_poll(r->c, nem__event, s);
    int64_t now = sl_clock_mono_ms();
    for (int i = 0; i < s->n;) {
        nem__pending *p = &s->p[i];
        if (p->due_ms > now) {
            i++;
            continue;
        }
        int rc = 0;
        char err[512];
        if (p->stopped) {
            ccl_signal(r->c, p->who, SIGCONT);
        } else if (strcmp(p->who, "kafka") != 0) {
            rc = ccl_restart(r->c, p->who, nem__no_sets, err, sizeof err);
            if (rc) hist_add(r->h, "error", p->who, "%s", err);
        }
        s->p[i] = s->p[--s->n];
        if (rc) return rc;
    }
    return 0;
}

/* Wait ms, supervising. */
static int nem__wait(nem_run *r, int64_t ms)
{
    int64_t end = sl_clock_mono_ms() + ms;
    for (;;) {
        int rc = nem_supervise(r);
        if (rc) return rc;
        int64_t left = end - sl_clock_mono_ms();
        if (left <= 0) return 0;
        sl_clock_sleep_ms(left < 100 ? left : 100);
    }
}

uint64_t nem_rand(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static const char *nem__sidecar(nem_run *r)
{
    static const char *const s[] = {"s1", "s2", "s3"};
    return s[nem_rand(&r->rng) % 3];
}

/* A time inside the first half of the window, so that the fault heals while data still flows. */
static int64_t nem__early(nem_run *r)
{
    int64_t span = r->window_ms / 2 > 1000 ? r->window_ms / 2 : 1000;
    return 1000 + (int64_t)(nem_rand(&r->rng) % (uint64_t)span);
}

static int nem__restart(nem_run *r, const char *who)
{
    char err[512];
    int rc = ccl_restart(r->c, who, NULL, err, sizeof err);
    if (rc) hist_add(r->h, "error", who, "%s", err);
    return rc;
}

/* ---- faults (each applies one fault and heals it) -------------------------------------- */

static int f_kill(nem_run *r, const char *who, int64_t down_ms)
{
    if (!ccl_signal(r->c, who, SIGKILL)) return 0;
    r->injected++;
    int rc = nem__wait(r, down_ms);
    return rc ? rc : nem__restart(r, who);
}

static int f_pause(nem_run *r, const char *who, int64_t ms)
{
    if (!ccl_signal(r->c, who, SIGSTOP)) return 0;
    r->injected++;
    int rc = nem__wait(r, ms);
    ccl_signal(r->c, who, SIGCONT);
    return rc;
}

static int f_kill_sidecar(nem_run *r)
{
    return f_kill(r, nem__sidecar(r), 2000);
}
static int f_pause_sidecar(nem_run *r)
{
    return f_pause(r, nem__sidecar(r), 4000);
}
/* paused past its session: ZooKeeper expires it, its ephemeral registration goes */
static int f_expire_sidecar(nem_run *r)
{
    return f_pause(r, nem__sidecar(r), 3 * NEM_SESSION_MS);
}

/* The leading controller's name into who (8 bytes); false (and why_not) when none leads. */
static bool nem__leader(nem_run *r, char *who)
{
    const char *l = ccl_leader(r->c);
    if (!l) {
        snprintf(r->why_not, sizeof r->why_not, "no controller led when the fault was due");
        return false;
    }
    snprintf(who, 8, "%s", l);
    return true;
}

static int f_kill_leader(nem_run *r)
{
    char who[8];
    return nem__leader(r, who) ? f_kill(r, who, 3000) : 0;
}

/* paused past its session: the standby takes over while the old leader still believes it
 * leads (a zombie) until it wakes and finds its session gone */
static int f_pause_leader(nem_run *r)
{
    char who[8];
    return nem__leader(r, who) ? f_pause(r, who, 3 * NEM_SESSION_MS) : 0;
}

static int f_controllers_down(nem_run *r)
{
    bool a = ccl_signal(r->c, "c1", SIGKILL), b = ccl_signal(r->c, "c2", SIGKILL);
    if (!a && !b) return 0;
    r->injected++;
    int rc = nem__wait(r, 25000); /* longer than the commit budget (20 s) */
    if (!rc) rc = nem__restart(r, "c1");
    if (!rc) rc = nem__restart(r, "c2");
    return rc;
}

static int f_zk_restart(nem_run *r)
{
    ccl_zk_stop(r->zk);
    hist_add(r->h, "fault", "zk", "stopped");
    r->injected++;
    int rc = nem__wait(r, 5000);
    char err[512];
    int zrc = ccl_zk_restart(r->zk, err, sizeof err);
    hist_add(r->h, "heal", "zk", zrc ? "restart failed: %s" : "restarted%s", zrc ? err : "");
    return rc ? rc : zrc;
}

static int f_zk_pause(nem_run *r)
{
    ccl_zk_pause(r->zk, true);
    hist_add(r->h, "fault", "zk", "paused (SIGSTOP)");
    r->injected++;
    int rc = nem__wait(r, 4000);
    ccl_zk_pause(r->zk, false);
    hist_add(r->h, "heal", "zk", "continued");
    return rc;
}

static int f_kafka(nem_run *r, const char *fault, const char *heal, int64_t ms)
{
    char reply[256];
    if (ccl_kafka(r->c, fault, reply, sizeof reply) == 0) r->injected++;
    int rc = nem__wait(r, ms);
    ccl_kafka(r->c, heal, reply, sizeof reply);
    return rc;
}

static int f_broker_down(nem_run *r)
{
    return f_kafka(r, "broker-down all", "broker-up all", 5000);
}
static int f_rtt(nem_run *r)
{
    return f_kafka(r, "rtt all 250", "rtt all 0", 8000);
}

static int f_leader_change(nem_run *r)
{
    char cmd[320], reply[256];
    int n = 0;
    for (int p = 0; p < 64; p++) {
        snprintf(cmd, sizeof cmd, "leader %s %d %d", ccl_topic(r->c), p,
                 (int)(2 + nem_rand(&r->rng) % 2));
        if (ccl_kafka(r->c, cmd, reply, sizeof reply) != 0) break;
        n++;
    }
    if (n) r->injected++;
    return nem__wait(r, 4000);
}

/* Flip one byte in the middle of the oldest file of who (a sidecar's published files, or
 * "store": the controllers' segment store): its scrub (segment.scrub.interval,
 * store.scrub.interval) must find it and bring the committed copy back. */
static int f_flip_byte(nem_run *r, const char *who)
{
    char dir[PATH_MAX], path[PATH_MAX + 256] = "";
    snprintf(dir, sizeof dir, "%s/%s",
             strcmp(who, "store") == 0 ? ccl_store_dir(r->c) : ccl_data_dir(r->c, who),
             ccl_table(r->c));
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l > 4 && strcmp(de->d_name + l - 4, ".seg") == 0 &&
            (!path[0] || strcmp(de->d_name, strrchr(path, '/') + 1) < 0))
            snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
    }
    if (d) closedir(d);
    if (!path[0]) {
        snprintf(r->why_not, sizeof r->why_not, "%s had published no file yet", who);
        return 0;
    }
    FILE *f = fopen(path, "r+b");
    if (!f) return 0;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    long at = size / 2;
    fseek(f, at, SEEK_SET);
    int b = fgetc(f);
    fseek(f, at, SEEK_SET);
    fputc(b ^ 0x20, f);
    fclose(f);
    r->injected++;
    hist_add(r->h, "fault", who, "flipped byte %ld of %s", at, path);
    return nem__wait(r, 6000);
}

static int f_empty_data_dir(nem_run *r)
{
    const char *who = nem__sidecar(r);
    ccl_stop(r->c, who);
    char err[PATH_MAX + 64] = "";
    int rc = fsutil_remove_tree(ccl_data_dir(r->c, who), err, sizeof err);
    hist_add(r->h, rc ? "error" : "fault", who, "data dir emptied%s%s", rc ? ": " : "", err);
    r->injected++;
    return nem__restart(r, who);
}

/* Input no decoder accepts, mixed into each partition: malformed JSON, an empty value, binary
 * bytes, a JSON value that is not an object, and a value larger than the sidecars'
 * consumer.max.message.bytes (1 MiB). Each is counted by the sidecars and by audit --deep;
 * none may stop a partition or shift a row. */
static int f_malformed(nem_run *r)
{
    static const size_t big = (1u << 20) + 4096;
    char *huge = sl_xmalloc(big);
    memset(huge, 'x', big);
    memcpy(huge, "{\"user\":\"", 9);
    memcpy(huge + big - 2, "\"}", 2);
    const char *const v[] = {"{not json", "", "\xff\xfe\x00\x01", "[1,2,3]", "{\"ts\":", huge};
    const size_t len[] = {9, 0, 4, 7, 6, big};
    size_t n = sizeof v / sizeof v[0], total = 0;
    int parts = ccl_partitions(r->c);
    for (int32_t p = 0; p < parts; p++)
        total += ccl_produce_raw(r->c, p, v, len, n);
    free(huge);
    if (total == (size_t)parts * n)
        r->injected++;
    else
        snprintf(r->why_not, sizeof r->why_not, "%zu of %zu raw messages delivered", total,
                 (size_t)parts * n);
    return 0;
}

/* Disk full, for real: the data dir of who ("s2", or "store" for the controllers' shared
 * store) moved onto a tmpfs of its size plus 8 MiB, filled up to 64 KiB, for 8 s while the
 * processes run, then the filler removed. Needs CAP_SYS_ADMIN; without it the run is
 * SKIPPED. The tmpfs stays mounted (with the data) until nem_cleanup. */
static int f_disk_full(nem_run *r, const char *who)
{
    bool store = strcmp(who, "store") == 0;
    const char *procs[] = {store ? "c1" : who, store ? "c2" : NULL};
    char dir[PATH_MAX], old[PATH_MAX + 8], cmd[3 * PATH_MAX];
    snprintf(dir, sizeof dir, "%s", store ? ccl_store_dir(r->c) : ccl_data_dir(r->c, who));
    snprintf(old, sizeof old, "%s.disk", dir);
    for (int i = 0; i < 2; i++)
        if (procs[i]) ccl_stop(r->c, procs[i]);
    snprintf(cmd, sizeof cmd, "du -sk '%s' | cut -f1", dir);
    FILE *p = popen(cmd, "r");
    long kb = 0;
    if (p) {
        if (fscanf(p, "%ld", &kb) != 1) kb = 0;
        pclose(p);
    }
    char opts[64];
    snprintf(opts, sizeof opts, "size=%ldk", kb + 8192);
    int rc = 0;
    if (rename(dir, old) != 0 || mkdir(dir, 0755) != 0 ||
        mount("tmpfs", dir, "tmpfs", 0, opts) != 0) {
        snprintf(r->skipped, sizeof r->skipped, "cannot mount a tmpfs for %s's data: %s", who,
                 strerror(errno));
        rmdir(dir);
        rename(old, dir);
    } else {
        snprintf(r->mounts[store], sizeof r->mounts[0], "%s", dir);
        snprintf(cmd, sizeof cmd, "cp -a '%s'/. '%s'/", old, dir);
        rc = system(cmd) == 0 ? 0 : SL_EIO;
        struct statvfs vs;
        char filler[PATH_MAX + 16];
        snprintf(filler, sizeof filler, "%s/.filler", dir);
        if (!rc && statvfs(dir, &vs) == 0) {
            unsigned long long avail = (unsigned long long)vs.f_bavail * vs.f_frsize;
            snprintf(cmd, sizeof cmd, "head -c %llu /dev/zero > '%s'",
                     avail > 65536 ? avail - 65536 : 0, filler);
            rc = system(cmd) == 0 ? 0 : SL_EIO;
        }
        hist_add(r->h, "fault", who, "data dir on a full tmpfs (%s)", opts);
        r->injected++;
        for (int i = 0; !rc && i < 2; i++)
            if (procs[i]) rc = nem__restart(r, procs[i]);
        if (!rc) rc = nem__wait(r, 8000);
        unlink(filler);
        hist_add(r->h, "heal", who, "filler removed");
    }
    for (int i = 0; !rc && i < 2; i++)
        if (procs[i] && !ccl_running(r->c, procs[i])) rc = nem__restart(r, procs[i]);
    return rc;
}

static int f_disk_full_sidecar(nem_run *r)
{
    return f_disk_full(r, "s2");
}
static int f_disk_full_store(nem_run *r)
{
    return f_disk_full(r, "store");
}

void nem_cleanup(nem_run *r)
{
    for (int i = 0; i < 2; i++)
        if (r->mounts[i][0] && umount2(r->mounts[i], MNT_DETACH) != 0)
            hist_add(r->h, "error", r->mounts[i], "umount: %s", strerror(errno));
}

/* ---- retention overtaking the replicas ------------------------------------------------------ */

#define NEM_TRIM_PARTITION 0
#define NEM_TRIM_MESSAGES 12        /* 6 MiB of incompressible values: more than the */
#define NEM_TRIM_BYTES (512 * 1024) /* mock's 5 MiB per partition (DESIGN §7) */
#define NEM_TRIM_DRAIN_MS 20000     /* for the replicas to reach the partition's end */
#define NEM_TRIM_REPORT_MS 15000    /* for every replica to report the loss */

/* Sidecar who's next offset for partition p while it is CONSUMING it (its /health), or -1. */
static int64_t nem__consuming_at(nem_run *r, const char *who, int32_t p)
{
    const char *base = ccl_url(r->c, who);
    if (!base || !base[0]) return -1;
    char url[192];
    snprintf(url, sizeof url, "%s/health", base);
    httpc *h = httpc_new();
    httpc_resp resp;
    httpc_resp_init(&resp, 1 << 20);
    int64_t next = -1;
    if (httpc_request(h, "GET", url, NULL, NULL, 0, 2000, &resp) == 0 && resp.body) {
        json_t *root = json_loads(resp.body, 0, NULL);
        json_t *parts = json_object_get(root, "partitions");
        size_t i;
        json_t *e;
        json_array_foreach(parts, i, e)
        {
            const char *t = json_string_value(json_object_get(e, "table"));
            const char *st = json_string_value(json_object_get(e, "state"));
            if (t && st && strcmp(t, ccl_table(r->c)) == 0 && strcmp(st, "CONSUMING") == 0 &&
                json_integer_value(json_object_get(e, "partition")) == p)
                next = json_integer_value(json_object_get(e, "nextOffset"));
        }
        json_decref(root);
    }
    httpc_resp_free(&resp);
    httpc_free(h);
    return next;
}

/* The data-loss ranges sidecar who logged for partition p (its log's "data_loss" lines): the
 * first cap into from/to; returns how many there are. */
static int nem__losses(nem_run *r, const char *who, int32_t p, int64_t *from, int64_t *to, int cap)
{
    FILE *f = fopen(ccl_log(r->c, who), "r");
    if (!f) return 0;
    char prefix[160], line[1024];
    snprintf(prefix, sizeof prefix, "data_loss table=%s partition=%d from=", ccl_table(r->c),
             (int)p);
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        const char *at = strstr(line, prefix);
        long long a, b;
        if (!at || sscanf(at + strlen(prefix), "%lld to=%lld", &a, &b) != 2) continue;
        if (n < cap) {
            from[n] = a;
            to[n] = b;
        }
        n++;
    }
    fclose(f);
    return n;
}

/* Retention passes every replica: with the load paused and every replica at the partition's
 * end H, all three sidecars are stopped (and H checked again, for a message the load still had
 * in flight), the load runs for a second, and 6 MiB of
 * incompressible (malformed) values are produced, so that the mock trims the oldest offsets up
 * to L > H: rows of the load that no replica read. Continued, each replica
 * must find the gap and report exactly [H, L), the same range on all three (then the load
 * goes on). A different or missing report is a violation. */
static int f_retention(nem_run *r)
{
    static const char *const side[] = {"s1", "s2", "s3"};
    const int32_t p = NEM_TRIM_PARTITION;
    int rc = 0;
    int64_t low = -1, high = -1, next = -1;
    if (!ccl_load_pause(r->c, true)) {
        snprintf(r->why_not, sizeof r->why_not, "no load to pause");
        return 0;
    }
    bool drained = false;
    for (int64_t end = sl_clock_mono_ms() + NEM_TRIM_DRAIN_MS;
         !rc && !drained && sl_clock_mono_ms() < end;) {
        rc = nem__wait(r, 500);
        if (rc || ccl_watermarks(r->c, p, &low, &high)) continue;
        drained = true;
        for (int i = 0; i < 3 && drained; i++)
            drained = (next = nem__consuming_at(r, side[i], p)) == high;
        if (!drained) continue;
        for (int i = 0; i < 3; i++)
            ccl_signal(r->c, side[i], SIGSTOP);
        /* a message the paused load still had in flight may have landed after the look, and
         * a replica read it before it stopped: stopped they must be at the partition's end */
        int64_t low1 = -1, high1 = -1;
        if (!ccl_watermarks(r->c, p, &low1, &high1) && high1 == high) break;
        drained = false;
        for (int i = 0; i < 3; i++)
            ccl_signal(r->c, side[i], SIGCONT);
    }
    if (rc || !drained) {
        if (!rc)
            snprintf(r->why_not, sizeof r->why_not,
                     "the replicas did not reach partition %d's end %" PRId64 " within %d s (one "
                     "was at %" PRId64 ")",
                     (int)p, high, NEM_TRIM_DRAIN_MS / 1000, next);
        ccl_load_pause(r->c, false);
        return rc;
    }
    const char *v[NEM_TRIM_MESSAGES];
    size_t len[NEM_TRIM_MESSAGES];
    char *buf = sl_xmalloc((size_t)NEM_TRIM_MESSAGES * NEM_TRIM_BYTES);
    for (size_t i = 0; i < (size_t)NEM_TRIM_MESSAGES * NEM_TRIM_BYTES; i += 8) {
        uint64_t x = nem_rand(&r->rng);
        memcpy(buf + i, &x, 8);
    }
    for (int i = 0; i < NEM_TRIM_MESSAGES; i++) {
        v[i] = buf + (size_t)i * NEM_TRIM_BYTES;
        len[i] = NEM_TRIM_BYTES;
    }
    /* every replica is stopped at H; rows nobody reads: a second of the load, then the
     * values that push them out */
    ccl_load_pause(r->c, false);
    rc = nem__wait(r, 1000);
    ccl_load_pause(r->c, true);
    size_t sent = ccl_produce_raw(r->c, p, v, len, NEM_TRIM_MESSAGES);
    free(buf);
    int64_t low2 = -1, high2 = -1;
    int wrc = ccl_watermarks(r->c, p, &low2, &high2);
    for (int i = 0; i < 3; i++)
        ccl_signal(r->c, side[i], SIGCONT);
    if (wrc || sent != NEM_TRIM_MESSAGES || low2 <= high) {
        snprintf(r->why_not, sizeof r->why_not,
                 "retention did not pass the replicas: %zu of %d values delivered, low watermark "
                 "%" PRId64 " with the replicas at %" PRId64,
                 sent, NEM_TRIM_MESSAGES, low2, high);
        ccl_load_pause(r->c, false);
        return 0;
    }
    r->injected++;
    hist_add(r->h, "fault", "kafka",
             "retention removed offsets [%" PRId64 ", %" PRId64 ") of partition %d while every "
             "replica was stopped at %" PRId64,
             low, low2, (int)p, high);
    int64_t from[4], to[4];
    int n[3] = {0};
    for (int64_t end = sl_clock_mono_ms() + NEM_TRIM_REPORT_MS; !rc && sl_clock_mono_ms() < end;) {
        bool all = true;
        for (int i = 0; i < 3; i++)
            all &= (n[i] = nem__losses(r, side[i], p, from, to, 4)) > 0;
        if (all) break;
        rc = nem__wait(r, 500);
    }
    for (int i = 0; i < 3 && !rc && !r->violated[0]; i++) {
        n[i] = nem__losses(r, side[i], p, from, to, 4);
        if (n[i] != 1 || from[0] != high || to[0] != low2)
            snprintf(r->violated, sizeof r->violated,
                     "%s reported %d data-loss range(s) of partition %d (the first [%" PRId64
                     ", %" PRId64 ")) where retention removed [%" PRId64 ", %" PRId64
                     ") past every replica",
                     side[i], n[i], (int)p, n[i] ? from[0] : -1, n[i] ? to[0] : -1, high, low2);
    }
    if (!rc && r->violated[0])
        hist_add(r->h, "violation", "", "%s", r->violated);
    else if (!rc)
        hist_add(r->h, "check", "",
                 "every replica reported the data loss [%" PRId64 ", %" PRId64 ") of partition %d",
                 high, low2, (int)p);
    ccl_load_pause(r->c, false);
    return rc;
}

static int f_rolling_restart(nem_run *r)
{
    for (int i = 1; i <= CCL_SIDECARS; i++) {
        char who[8];
        snprintf(who, sizeof who, "s%d", i);
        int rc = nem__restart(r, who); /* SIGTERM, then a normal start */
        if (rc) return rc;
        r->injected++;
        rc = nem__wait(r, 2000);
        if (rc) return rc;
    }
    return 0;
}

/* ---- schedules ----------------------------------------------------------------------------- */

/* Wait until the fault is due, apply it, then supervise for the rest of the window. */
#define NEM_AT(fn)                                                                                 \
    static int s_##fn(nem_run *r)                                                                  \
    {                                                                                              \
        int64_t t0 = sl_clock_mono_ms(), at = nem__early(r);                                       \
        int rc = nem__wait(r, at);                                                                 \
        if (!rc) rc = fn(r);                                                                       \
        int64_t left = r->window_ms - (sl_clock_mono_ms() - t0);                                   \
        return rc ? rc : nem__wait(r, left > 0 ? left : 0);                                        \
    }
NEM_AT(f_kill_sidecar)
NEM_AT(f_pause_sidecar)
NEM_AT(f_expire_sidecar)
NEM_AT(f_kill_leader)
NEM_AT(f_pause_leader)
NEM_AT(f_controllers_down)
NEM_AT(f_zk_restart)
NEM_AT(f_zk_pause)
NEM_AT(f_broker_down)
NEM_AT(f_rtt)
NEM_AT(f_leader_change)
NEM_AT(f_empty_data_dir)
NEM_AT(f_rolling_restart)
NEM_AT(f_retention)
NEM_AT(f_malformed)
NEM_AT(f_disk_full_sidecar)
NEM_AT(f_disk_full_store)
#undef NEM_AT

/* The flip waits for a published file: late in the window. */
static int nem__flip_late(nem_run *r, const char *who)
{
    int64_t t0 = sl_clock_mono_ms();
    int rc = nem__wait(r, r->window_ms / 2 + 2000);
    if (!rc) rc = f_flip_byte(r, who);
    int64_t left = r->window_ms - (sl_clock_mono_ms() - t0);
    return rc ? rc : nem__wait(r, left > 0 ? left : 0);
}

static int s_flip_replica(nem_run *r)
{
    return nem__flip_late(r, "s2");
}
static int s_flip_store(nem_run *r)
{
    return nem__flip_late(r, "store");
}

/* Knob scenarios and the baseline: the faults come from the processes' own settings; the
 * supervisor restarts and continues them. */
static int s_supervise(nem_run *r)
{
    return nem__wait(r, r->window_ms);
}

/* Replica divergence: s3 builds different bytes; counted as injected when it says so. A
 * committer that builds wrong bytes commits them (no replica can prove it wrong: that is what
 * audit --deep finds, as I2), so s3 is kept from committing: it fetches in 1.5 s batches and
 * reports its segments' ends after the others, and the first reporter on a row limit wins. */
static const char *const k_perturb[] = {"test.perturb.row=2", "kafka.fetch.wait.max.ms=1500",
                                        "kafka.fetch.min.bytes=100000000", NULL};
/* the replicas stay stopped for a few seconds: longer than the runs' 3 s sessions on a loaded
 * machine, and an expiry is not the fault this scenario is about */
static const char *const k_long_session[] = {"zk.session.timeout=15s", NULL};
static const char *const k_slow_fetch[] = {"kafka.fetch.wait.max.ms=1500",
                                           "kafka.fetch.min.bytes=100000000", NULL};
static const char *const k_scrub[] = {"segment.scrub.interval=2s", NULL};
static const char *const k_store_scrub[] = {"store.scrub.interval=2s", NULL};
#define KNOB(v) static const char *const k_##v[] = {"test.commit.fault=" #v, NULL};
KNOB(exit_before_commit_start)
KNOB(exit_after_upload)
KNOB(exit_before_commit_end)
KNOB(stop_before_commit_start)
KNOB(stop_after_upload)
KNOB(stop_before_commit_end)
KNOB(exit_during_keep)
KNOB(stop_during_keep)
KNOB(exit_during_discard)
KNOB(stop_during_discard)
#undef KNOB
/* fsync EIO: s3's second to fourth fsyncs (builds, downloads) fail; the controllers' first
 * two (uploads into the store). Each failed file is discarded and written again. */
static const char *const k_fsync_eio_sidecar[] = {"test.fsync.eio.after=1",
                                                  "test.fsync.eio.count=3", NULL};
static const char *const k_fsync_eio_store[] = {"test.fsync.eio.after=0", "test.fsync.eio.count=2",
                                                NULL};
static const char *const k_crash_before_multi[] = {"test.commit.fault=crash_before_multi", NULL};
static const char *const k_crash_after_multi[] = {"test.commit.fault=crash_after_multi", NULL};
static const char *const k_stall_before_multi[] = {"test.commit.fault=stall_before_multi",
                                                   "test.commit.stall=5s", NULL};

#define SIDECAR_KNOB(name, knob, what)                                                             \
    {                                                                                              \
        name, what, k_##knob, NULL, NULL, s_supervise, "test knob: ", 0, 0                         \
    }
/* DISCARD goes to a replica that reports an offset beyond the committed end: segments end on
 * the time threshold alone (replicas stop at different offsets) and the controller decides on
 * the first report (no hold), so a replica ahead of the first reporter is told DISCARD. s3
 * fetches in 1.5 s batches, so that whenever it reports first the other two are ahead, and the
 * load lasts at least 12 s: three segment ends per partition to reach the step in. */
static const char *const k_no_hold[] = {"completion.hold.time=0s", NULL};
#define DISCARD_KNOB(name, knob, what)                                                             \
    {                                                                                              \
        name, what, k_##knob, k_no_hold, k_slow_fetch, s_supervise, "test knob: ", -1, 12000       \
    }

static const nem_scenario nem__all[] = {
    {"none", "no fault: the baseline every other scenario is compared with", NULL, NULL, NULL,
     s_supervise, NULL, 0, 0},
    {"kill-sidecar", "kill -9 of a random sidecar mid-stream, restarted 2 s later", NULL, NULL,
     NULL, s_f_kill_sidecar, NULL, 0, 0},
    {"pause-sidecar", "SIGSTOP of a random sidecar for 4 s: it misses a segment's end", NULL, NULL,
     NULL, s_f_pause_sidecar, NULL, 0, 0},
    {"sidecar-session-expiry",
     "a sidecar paused for 9 s, past its 3 s ZooKeeper session: the session expires", NULL, NULL,
     NULL, s_f_expire_sidecar, NULL, 0, 0},
    SIDECAR_KNOB("kill-committer-before-commit-start", exit_before_commit_start,
                 "the committer exits (as kill -9) after its build, before CommitStart"),
    SIDECAR_KNOB("kill-committer-after-upload", exit_after_upload,
                 "the committer exits after uploading, before CommitEnd"),
    SIDECAR_KNOB("kill-committer-before-commit-end", exit_before_commit_end,
                 "the committer exits right before sending CommitEnd"),
    SIDECAR_KNOB("stop-committer-before-commit-start", stop_before_commit_start,
                 "the committer stops (SIGSTOP) before CommitStart, continued 5 s later"),
    SIDECAR_KNOB("stop-committer-after-upload", stop_after_upload,
                 "the committer stops after uploading, continued 5 s later"),
    SIDECAR_KNOB("stop-committer-before-commit-end", stop_before_commit_end,
                 "the committer stops right before CommitEnd, continued 5 s later"),
    SIDECAR_KNOB("kill-replica-during-keep", exit_during_keep,
                 "a replica told KEEP exits before publishing its build"),
    SIDECAR_KNOB("stop-replica-during-keep", stop_during_keep,
                 "a replica told KEEP stops before publishing, continued 5 s later"),
    DISCARD_KNOB("kill-replica-during-discard", exit_during_discard,
                 "a replica told DISCARD exits before downloading"),
    DISCARD_KNOB("stop-replica-during-discard", stop_during_discard,
                 "a replica told DISCARD stops before downloading, continued 5 s later"),
    {"kill-leader-controller", "kill -9 of the leading controller, restarted 3 s later", NULL, NULL,
     NULL, s_f_kill_leader, NULL, 0, 0},
    {"pause-leader-controller",
     "the leading controller paused for 9 s, past its ZooKeeper session (a zombie leader)", NULL,
     NULL, NULL, s_f_pause_leader, NULL, 0, 0},
    {"controller-crash-before-multi",
     "the leader exits between its ZooKeeper read and the commit multi-op", NULL,
     k_crash_before_multi, NULL, s_supervise, "test fault: exiting at crash_before_multi", 0, 0},
    {"controller-crash-after-multi",
     "the leader exits right after the commit multi-op, before replying", NULL, k_crash_after_multi,
     NULL, s_supervise, "test fault: exiting at crash_after_multi", 0, 0},
    {"controller-stall-before-multi",
     "every commit stalls 5 s between the leader's ZooKeeper read and the multi-op", NULL,
     k_stall_before_multi, NULL, s_supervise, "test fault: stalling", 0, 0},
    {"controllers-down", "both controllers down for 25 s, longer than the 20 s commit budget", NULL,
     NULL, NULL, s_f_controllers_down, NULL, 0, 0},
    {"zk-restart", "ZooKeeper stopped for 5 s and restarted with its data", NULL, NULL, NULL,
     s_f_zk_restart, NULL, 0, 0},
    {"zk-pause", "ZooKeeper paused (SIGSTOP) for 4 s", NULL, NULL, NULL, s_f_zk_pause, NULL, 0, 0},
    {"broker-down", "every Kafka broker down for 5 s", NULL, NULL, NULL, s_f_broker_down, NULL, 0,
     0},
    {"leader-change", "every partition's Kafka leader moved to another broker", NULL, NULL, NULL,
     s_f_leader_change, NULL, 0, 0},
    {"kafka-rtt", "250 ms added to every Kafka round trip for 8 s", NULL, NULL, NULL, s_f_rtt, NULL,
     0, 0},
    {"replica-diverges", "sidecar s3 builds different bytes (test.perturb.row): healed by CRC",
     NULL, NULL, k_perturb, s_supervise, "test knob: perturbed", 0, 0},
    {"flip-byte-replica",
     "a byte flipped in a published file of s2: the scrub finds it, the committed copy returns",
     k_scrub, NULL, NULL, s_flip_replica, NULL, 0, 0},
    {"flip-byte-store",
     "a byte flipped in a file of the controllers' store: the leader's scrub finds it and "
     "restores the committed copy from a sidecar",
     NULL, k_store_scrub, NULL, s_flip_store, NULL, 0, 0},
    {"empty-data-dir", "a sidecar restarted with an empty data dir", NULL, NULL, NULL,
     s_f_empty_data_dir, NULL, 0, 0},
    {"rolling-restart", "every sidecar restarted in turn (SIGTERM, start)", NULL, NULL, NULL,
     s_f_rolling_restart, NULL, 0, 0},
    {"retention-overtakes-replicas",
     "every replica stopped at partition 0's end while retention trims past it: each reports "
     "the same exact data-loss range",
     k_long_session, NULL, NULL, s_f_retention, NULL, 0, 0},
    {"disk-full-sidecar", "s2's data dir on a full tmpfs for 8 s (needs root: SKIPPED without)",
     NULL, NULL, NULL, s_f_disk_full_sidecar, NULL, 0, 0},
    {"disk-full-store",
     "the controllers' store on a full tmpfs for 8 s (needs root: SKIPPED without)", NULL, NULL,
     NULL, s_f_disk_full_store, NULL, 0, 0},
    {"fsync-eio-sidecar",
     "s3's 2nd to 4th fsyncs (builds, downloads) fail with EIO (test.fsync.eio): rewritten", NULL,
     NULL, k_fsync_eio_sidecar, s_supervise, "test.fsync.eio: injected", 0, 0},
    {"fsync-eio-store",
     "the controllers' first two fsyncs of uploads fail with EIO (test.fsync.eio): retried", NULL,
     k_fsync_eio_store, NULL, s_supervise, "test.fsync.eio: injected", 0, 0},
    {"malformed-messages",
     "malformed JSON, empty, binary and oversized (> 1 MiB) messages mixed into every partition",
     NULL, NULL, NULL, s_f_malformed, NULL, 0, 0},
};
#undef SIDECAR_KNOB
#undef DISCARD_KNOB

const nem_scenario *nem_scenarios(size_t *n)
{
    *n = sizeof nem__all / sizeof nem__all[0];
    return nem__all;
}

const nem_scenario *nem_find(const char *name)
{
    for (size_t i = 0; i < sizeof nem__all / sizeof nem__all[0]; i++)
        if (strcmp(nem__all[i].name, name) == 0) return &nem__all[i];
    return NULL;
}

int nem_random(nem_run *r)
{
    static int (*const faults[])(nem_run *) = {
        f_kill_sidecar, f_pause_sidecar, f_expire_sidecar, f_kill_leader, f_pause_leader,
        f_zk_restart,   f_zk_pause,      f_broker_down,    f_rtt,         f_leader_change,
    };
    static const char *const names[] = {"kill-sidecar",
                                        "pause-sidecar",
                                        "sidecar-session-expiry",
                                        "kill-leader-controller",
                                        "pause-leader-controller",
                                        "zk-restart",
                                        "zk-pause",
                                        "broker-down",
                                        "kafka-rtt",
                                        "leader-change"};
    int64_t t0 = sl_clock_mono_ms();
    int k = 1 + (int)(nem_rand(&r->rng) % 3);
    int rc = 0;
    for (int i = 0; i < k && !rc; i++) {
        size_t f = nem_rand(&r->rng) % (sizeof faults / sizeof faults[0]);
        int64_t gap = (int64_t)(nem_rand(&r->rng) % 3000);
        hist_add(r->h, "nemesis", names[f], "fault %d of %d in %" PRId64 " ms", i + 1, k, gap);
        rc = nem__wait(r, gap);
        unsigned before = r->injected;
        if (!rc) rc = faults[f](r);
        size_t used = strlen(r->kinds);
        if (r->injected > before && used + strlen(names[f]) + 16 < sizeof r->kinds)
            snprintf(r->kinds + used, sizeof r->kinds - used, "%s%s:%u", used ? "," : "", names[f],
                     r->injected - before);
    }
    int64_t left = r->window_ms - (sl_clock_mono_ms() - t0);
    return rc ? rc : nem__wait(r, left > 0 ? left : 0);
}

int nem_heal(nem_run *r)
{
    char reply[256], err[512];
    ccl_zk_pause(r->zk, false);
    if (!r->zk->pid && ccl_zk_restart(r->zk, err, sizeof err)) return SL_EIO;
    ccl_kafka(r->c, "broker-up all", reply, sizeof reply);
    ccl_kafka(r->c, "rtt all 0", reply, sizeof reply);
    ccl_load_pause(r->c, false);
    /* what the supervisor still holds, at once */
    nem__sup *s = nem__sups(r);
    for (int i = 0; i < s->n; i++)
        s->p[i].due_ms = 0;
    int rc = nem_supervise(r);
    static const char *const all[] = {"c1", "c2", "s1", "s2", "s3"};
    for (size_t i = 0; !rc && i < sizeof all / sizeof all[0]; i++) {
        ccl_signal(r->c, all[i], SIGCONT);
        if (!ccl_running(r->c, all[i])) rc = nem__restart(r, all[i]);
    }
    hist_add(r->h, "heal", "", rc ? "failed" : "every process running");
    return rc;
}
