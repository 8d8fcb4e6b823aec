/* Simulated replicas for controller tests and the completion benchmark.
 *
 *   simreplica register --zk Z --cluster C --instances s1,s2,s3
 *       create the instances' ephemeral znodes and hold the session until stdin closes or
 *       SIGTERM (sidecars that are "alive" as far as the controller knows)
 *   simreplica complete --zk Z --cluster C --controller URL --table T --instances s1,s2,s3
 *                       [--partitions P] [--rounds K] [--rows R] [--lag N]
 *       register, then drive K completions on each of P partitions over real HTTP: every
 *       replica is a thread speaking the wire protocol (long-polls included); the last
 *       replica lags N offsets behind (CATCH_UP). The committer builds a real segment from
 *       deterministic rows, uploads it, CommitStart, CommitEnd; the others get KEEP and
 *       compare their own build's CRC with the committed one. Prints a summary table and
 *       exits non-zero on any protocol violation (two committers, CRC mismatch, ...).
 *   simreplica rpc --controller URL --method M --segment S --instance I [--offset O]
 *                  [--reason R] [--rows N] [--build-millis MS] [--crc C] [--size B]
 *                  [--location URL] [--extra-seconds N]
 *       send one RPC and print the reply's status, offset and message (for edge cases and
 *       forged requests in tests)
 *   simreplica rtt ... (as rpc) [--rounds N]
 *       send the same RPC N times in a row and print the round trip p50/p99
 * Not a test by itself: tests/integration/test_controller.sh and bench/run.sh run it. */
#include "chaos/evgen.h"
#include "common/clock.h"
#include "common/httpc.h"
#include "common/jsonw.h"
#include "common/schema.h"
#include "common/sl_err.h"
#include "common/xalloc.h"
#include "completion/cluster_store.h"
#include "completion/rpc.h"
#include "completion/zk.h"
#include "consumer/mseg.h"
#include "consumer/rowdec.h"
#include "segment/seg_builder.h"

#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_PARTITIONS 256

typedef struct opts {
    const char *zk, *cluster, *controller, *table, *method, *segment;
    int64_t offset, build_millis, size;
    uint32_t crc;
    const char *location;
    int reason, extra_seconds;
    char ids[SL_MAX_REPLICATION][64];
    int nids;
    int partitions, rounds, lag;
    int64_t rows;
} opts;

typedef struct part {
    int p;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int arrived, generation;
    char segment[SL_SEGNAME_MAX];
    int64_t start;
    int64_t end; /* pauseless: a COMMITTING segment's fixed end offset, else -1 */
    int64_t seq;
    bool have;
    uint32_t committed_crc;
    int commits; /* COMMIT_SUCCESS replies this round */
} part;

static opts O;
static zk *Z; /* the replicas' session: also used to find the controller leader */
static cstore *CS; /* the cluster's ZooKeeper layout */
static schema *S;
static _Atomic int failures;
static _Atomic long n_rpcs, n_commits, n_keep, n_catchup, n_discard, n_hold, n_not_leader;
static pthread_mutex_t lat_mu = PTHREAD_MUTEX_INITIALIZER;
static double *lat;
static size_t nlat, caplat;

static void fail(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "simreplica: ");
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    atomic_fetch_add(&failures, 1);
}

static void record_latency(double s)
{
    pthread_mutex_lock(&lat_mu);
    if (nlat == caplat) {
        caplat = caplat ? caplat * 2 : 4096;
        lat = sl_xrealloc(lat, caplat * sizeof *lat);
    }
    lat[nlat++] = s;
    pthread_mutex_unlock(&lat_mu);
}

/* Segment [start, end) of partition p built from deterministic rows (every replica builds
 * the same bytes). Caller frees. */
static uint8_t *build(const char *name, int p, int64_t seq, int64_t start, int64_t end, size_t *len)
{
    rowdec *d = rowdec_new(S, 0);
    mseg *m = mseg_new(S, NULL);
    char buf[EVGEN_JSON_MAX];
    for (int64_t o = start; o < end; o++) {
        size_t n = evgen_row_json((uint64_t)p + 1, (uint64_t)o, buf, sizeof buf);
        const row *r;
        if (rowdec_decode(d, (const uint8_t *)buf, n, &r) == ROWDEC_OK) mseg_append(m, r);
    }
    seg_src src;
    seg_src_col *cols = sl_xcalloc(S->nfields, sizeof *cols);
    mseg_src(m, &src, cols);
    seg_meta_in meta = {.name = name, .table = O.table, .partition = p, .sequence = seq,
                        .start_offset = start, .end_offset = end};
    uint8_t *out = NULL;
    char err[256];
    if (seg_build_mem(&src, &meta, &out, len, err, sizeof err) != 0) fail("build: %s%s", err, "");
    free(cols);
    mseg_free(m);
    rowdec_free(d);
    return out;
}

static int call(httpc *h, char *base, rpc_method m, rpc_req *rq, rpc_resp *rs)
{
    for (int tries = 0; tries < 150; tries++) {
        double t0 = sl_clock_mono_s();
        int rc = rpc_call(h, base, m, rq, 15000, rs);
        double dt = sl_clock_mono_s() - t0;
        atomic_fetch_add(&n_rpcs, 1);
        if (rc == 0 && rs->status == RPC_STATUS_NOT_LEADER) atomic_fetch_add(&n_not_leader, 1);
        if (rc == 0 && rs->status == RPC_STATUS_NOT_LEADER && !rs->leader_url[0]) {
            sl_clock_sleep_ms(200); /* no leader known yet: ask again */
            continue;
        }
        if (rc == 0 && rs->status == RPC_STATUS_NOT_LEADER && rs->leader_url[0]) {
            if (strlen(rs->leader_url) < 512) memcpy(base, rs->leader_url, strlen(rs->leader_url) + 1);
            continue;
        }
        if (rc == 0 && (rs->status != RPC_STATUS_HOLD || dt < 0.05)) record_latency(dt);
        if (rc == 0) return 0;
        sl_err_action act = sl_err_action_of(rc);
        if (act != SL_ACT_RETRY && act != SL_ACT_REFRESH) { /* asking again cannot help */
            fail("%s: %s", rpc_method_name(m), rs->message);
            return -1;
        }
        sl_clock_sleep_ms(200); /* controller starting, or gone: ask ZooKeeper who leads now */
        char *leader = NULL;
        if (cstore_leader_peek(CS, Z, &leader) == 0 && leader && strlen(leader) < 512)
            memcpy(base, leader, strlen(leader) + 1);
        free(leader);
    }
    fail("%s: no answer from the controller (%s)", rpc_method_name(m), rs->message);
    return -1;
}

/* The oldest segment of partition p that is not committed (COMMITTING under pauseless
 * completion, else IN_PROGRESS) from GET /tables/<t>/segments. */
static bool current_segment(httpc *h, const char *base, part *pt)
{
    char url[1024];
    snprintf(url, sizeof url, "%s/tables/%s/segments?partition=%d", base, O.table, pt->p);
    httpc_resp r;
    httpc_resp_init(&r, 64u << 20);
    bool ok = false;
    if (httpc_request(h, "GET", url, NULL, NULL, 0, 10000, &r) == 0 && r.status == 200) {
        json_t *arr = json_loadb(r.body, r.len, 0, NULL);
        size_t i;
        json_t *s;
        json_array_foreach(arr, i, s) {
            if (json_integer_value(json_object_get(s, "partition")) != pt->p) continue;
            const char *st = json_string_value(json_object_get(s, "status"));
            bool fixed = st && strcmp(st, "COMMITTING") == 0;
            if (!fixed && (!st || strcmp(st, "IN_PROGRESS") != 0)) continue;
            int64_t seq = json_integer_value(json_object_get(s, "sequence"));
            if (ok && seq > pt->seq) continue;
            snprintf(pt->segment, sizeof pt->segment, "%s",
                     json_string_value(json_object_get(s, "segment")));
            pt->start = json_integer_value(json_object_get(s, "startOffset"));
            pt->end = fixed ? json_integer_value(json_object_get(s, "endOffset")) : -1;
            pt->seq = seq;
            ok = true;
        }
        json_decref(arr);
    }
    httpc_resp_free(&r);
    return ok;
}

/* All replicas of a partition meet here; the last one in runs fn. */
static void barrier(part *pt, void (*fn)(part *, httpc *, const char *), httpc *h, const char *base)
{
    pthread_mutex_lock(&pt->mu);
    int gen = pt->generation;
    if (++pt->arrived == O.nids) {
        if (fn) fn(pt, h, base);
        pt->arrived = 0;
        pt->generation++;
        pthread_cond_broadcast(&pt->cv);
    } else {
        while (gen == pt->generation) pthread_cond_wait(&pt->cv, &pt->mu);
    }
    pthread_mutex_unlock(&pt->mu);
}

static void next_round(part *pt, httpc *h, const char *base)
{
    if (pt->have && pt->commits != 1) fail("segment %s: %s successful commits", pt->segment,
                                            pt->commits ? "several" : "no");
    pt->commits = 0;
    pt->have = false;
    for (int i = 0; i < 100 && !pt->have; i++) {
        pt->have = current_segment(h, base, pt);
        if (!pt->have) sl_clock_sleep_ms(100);
    }
    if (!pt->have) fail("partition has no consuming segment%s%s", "", "");
}

typedef struct replica {
    int idx;
    part *pt;
} replica;

static void *replica_main(void *arg)
{
    replica *rp = arg;
    part *pt = rp->pt;
    const char *me = O.ids[rp->idx];
    httpc *h = httpc_new();
    char base[512];
    snprintf(base, sizeof base, "%s", O.controller);
    barrier(pt, next_round, h, base);
    for (int round = 0; round < O.rounds && pt->have && !atomic_load(&failures); round++) {
        rpc_req rq;
        rpc_resp rs;
        memset(&rq, 0, sizeof rq);
        snprintf(rq.segment, sizeof rq.segment, "%s", pt->segment);
        snprintf(rq.instance, sizeof rq.instance, "%s", me);
        int64_t off = pt->end >= 0 ? pt->end : pt->start + O.rows - (rp->idx == O.nids - 1 ? O.lag : 0);
        rq.reason = RPC_REASON_TIME_LIMIT; /* a lone row-limit report would win at once */
        for (bool done = false; !done && !atomic_load(&failures);) {
            rq.offset = off;
            rq.rows = off - pt->start;
            if (call(h, base, RPC_SEGMENT_CONSUMED, &rq, &rs)) break;
            switch (rs.status) {
            case RPC_STATUS_HOLD: atomic_fetch_add(&n_hold, 1); break;
            case RPC_STATUS_FAILED: sl_clock_sleep_ms(100); break;
            case RPC_STATUS_CATCH_UP:
                atomic_fetch_add(&n_catchup, 1);
                if (rs.offset <= off) fail("CATCH_UP to %s not ahead of the replica%s", "", "");
                off = rs.offset; /* a real replica consumes up to it */
                break;
            case RPC_STATUS_COMMIT: {
                size_t len;
                uint8_t *file = build(pt->segment, pt->p, pt->seq, pt->start, off, &len);
                uint32_t crc = (uint32_t)file[len - 4] | (uint32_t)file[len - 3] << 8 |
                               (uint32_t)file[len - 2] << 16 | (uint32_t)file[len - 1] << 24;
                if (call(h, base, RPC_COMMIT_START, &rq, &rs) || rs.status != RPC_STATUS_COMMIT_CONTINUE) {
                    free(file);
                    break; /* aborted: report again */
                }
                char url[1024];
                snprintf(url, sizeof url, "%s/segments/%s/%s", base, O.table, pt->segment);
                httpc_resp ur;
                httpc_resp_init(&ur, 1 << 16);
                int urc = httpc_request(h, "PUT", url, "application/octet-stream", file, len,
                                        30000, &ur);
                if (urc || ur.status != 200) fail("upload failed: %s %s", url, ur.body ? ur.body : "");
                httpc_resp_free(&ur);
                free(file);
                rq.crc = crc;
                rq.size_bytes = (int64_t)len;
                snprintf(rq.location, sizeof rq.location, "%s", url);
                if (call(h, base, RPC_COMMIT_END, &rq, &rs)) break;
                if (rs.status == RPC_STATUS_COMMIT_SUCCESS) {
                    atomic_fetch_add(&n_commits, 1);
                    pthread_mutex_lock(&pt->mu);
                    pt->commits++;
                    pt->committed_crc = crc;
                    pthread_mutex_unlock(&pt->mu);
                    done = true;
                }
                break;
            }
            case RPC_STATUS_KEEP: {
                size_t len;
                uint8_t *file = build(pt->segment, pt->p, pt->seq, pt->start, off, &len);
                uint32_t crc = (uint32_t)file[len - 4] | (uint32_t)file[len - 3] << 8 |
                               (uint32_t)file[len - 2] << 16 | (uint32_t)file[len - 1] << 24;
                free(file);
                if (crc != rs.crc) fail("KEEP build differs from the committed CRC on %s%s", me, "");
                atomic_fetch_add(&n_keep, 1);
                done = true;
                break;
            }
            case RPC_STATUS_DISCARD: atomic_fetch_add(&n_discard, 1); done = true; break;
            default: fail("unexpected status %s for %s", rpc_status_name(rs.status), me); done = true;
            }
        }
        barrier(pt, next_round, h, base);
    }
    httpc_free(h);
    return NULL;
}

static void parse_ids(const char *list)
{
    char *dup = sl_xstrdup(list), *save = NULL;
    for (char *t = strtok_r(dup, ",", &save); t && O.nids < SL_MAX_REPLICATION;
         t = strtok_r(NULL, ",", &save))
        snprintf(O.ids[O.nids++], sizeof O.ids[0], "%s", t);
    free(dup);
}

static zk *register_instances(void)
{
    char err[256];
    if (!(CS = cstore_new(O.cluster))) {
        fprintf(stderr, "simreplica: cluster name too long\n");
        exit(1);
    }
    zk *z = zk_open(O.zk, 10000, NULL, err, sizeof err);
    if (!z) {
        fprintf(stderr, "simreplica: zookeeper: %s\n", err);
        exit(1);
    }
    cstore_ensure(CS, z, CSTORE_INSTANCES);
    for (int i = 0; i < O.nids; i++) {
        int rc = cstore_instance_register(CS, z, O.ids[i], "127.0.0.1", 1, false, false);
        if (rc && rc != SL_EEXIST) {
            fprintf(stderr, "simreplica: register %s: %s\n", O.ids[i], sluice_strerror(rc));
            exit(1);
        }
    }
    return z;
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: simreplica register|complete --zk Z --cluster C --instances a,b,c ...\n");
        return 2;
    }
    const char *mode = argv[1];
    O.partitions = 1;
    O.rounds = 3;
    O.rows = 1000;
    O.offset = 0;
    O.cluster = "dev";
    for (int i = 2; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--zk")) O.zk = v;
        else if (!strcmp(k, "--cluster")) O.cluster = v;
        else if (!strcmp(k, "--controller")) O.controller = v;
        else if (!strcmp(k, "--table")) O.table = v;
        else if (!strcmp(k, "--instances")) parse_ids(v);
        else if (!strcmp(k, "--partitions")) O.partitions = atoi(v);
        else if (!strcmp(k, "--rounds")) O.rounds = atoi(v);
        else if (!strcmp(k, "--rows")) O.rows = atoll(v);
        else if (!strcmp(k, "--lag")) O.lag = atoi(v);
        else if (!strcmp(k, "--method")) O.method = v;
        else if (!strcmp(k, "--segment")) O.segment = v;
        else if (!strcmp(k, "--offset")) O.offset = atoll(v);
        else if (!strcmp(k, "--reason")) O.reason = atoi(v);
        else if (!strcmp(k, "--build-millis")) O.build_millis = atoll(v);
        else if (!strcmp(k, "--crc")) O.crc = (uint32_t)strtoul(v, NULL, 0);
        else if (!strcmp(k, "--size")) O.size = atoll(v);
        else if (!strcmp(k, "--location")) O.location = v;
        else if (!strcmp(k, "--extra-seconds")) O.extra_seconds = atoi(v);
        else {
            fprintf(stderr, "simreplica: unknown option %s\n", k);
            return 2;
        }
    }
    if (!strcmp(mode, "rpc") || !strcmp(mode, "rtt")) {
        rpc_method m;
        if (!O.controller || !O.method || !O.segment || O.nids != 1 ||
            rpc_method_parse(O.method, &m) != 0) {
            fprintf(stderr, "simreplica rpc: --controller, --method, --segment, --instances ID\n");
            return 2;
        }
        rpc_req rq;
        rpc_resp rs;
        memset(&rq, 0, sizeof rq);
        snprintf(rq.segment, sizeof rq.segment, "%s", O.segment);
        snprintf(rq.instance, sizeof rq.instance, "%s", O.ids[0]);
        rq.offset = O.offset;
        rq.reason = (rpc_reason)O.reason;
        rq.rows = O.rows;
        rq.build_millis = O.build_millis;
        rq.crc = O.crc;
        rq.size_bytes = O.size;
        rq.extra_seconds = O.extra_seconds;
        snprintf(rq.location, sizeof rq.location, "%s", O.location ? O.location : "");
        httpc *h = httpc_new();
        int rc = rpc_call(h, O.controller, m, &rq, 15000, &rs);
        if (rc == 0 && !strcmp(mode, "rtt")) { /* round trips of the same call, one at a time */
            int count = O.rounds > 0 ? O.rounds : 1000;
            double *t = sl_xcalloc((size_t)count, sizeof *t);
            for (int i = 0; i < count && rc == 0; i++) {
                double t0 = sl_clock_mono_s();
                rc = rpc_call(h, O.controller, m, &rq, 15000, &rs);
                t[i] = sl_clock_mono_s() - t0;
            }
            qsort(t, (size_t)count, sizeof *t, cmpd);
            printf("| RPC round trip, %s -> %s, %d sequential calls | p50 %.3f ms, p99 %.3f ms |\n",
                   O.method, rpc_status_name(rs.status), count, t[count / 2] * 1e3,
                   t[(int)(count * 0.99)] * 1e3);
            free(t);
        }
        httpc_free(h);
        if (rc) {
            fprintf(stderr, "simreplica rpc: %s\n", rs.message);
            return 1;
        }
        printf("%s %lld %s\n", rpc_status_name(rs.status), (long long)rs.offset, rs.message);
        return 0;
    }
    if (!O.zk || O.nids == 0) {
        fprintf(stderr, "simreplica: --zk and --instances are required\n");
        return 2;
    }
    zk *z = Z = register_instances();
    if (!strcmp(mode, "register")) {
        printf("ready\n");
        fflush(stdout);
        char buf[64];
        while (fgets(buf, sizeof buf, stdin)) {
        }
        zk_close(z);
        return 0;
    }
    if (strcmp(mode, "complete") || !O.controller || !O.table || O.partitions < 1 ||
        O.partitions > MAX_PARTITIONS) {
        fprintf(stderr, "simreplica: complete needs --controller, --table, 1..%d partitions\n",
                MAX_PARTITIONS);
        return 2;
    }
    char err[256];
    S = schema_load(getenv("SIMREPLICA_SCHEMA") ? getenv("SIMREPLICA_SCHEMA")
                                                 : "deploy/examples/events_schema.json",
                    err, sizeof err);
    if (!S) {
        fprintf(stderr, "simreplica: %s\n", err);
        return 2;
    }
    part *parts = sl_xcalloc((size_t)O.partitions, sizeof *parts);
    replica *reps = sl_xcalloc((size_t)O.partitions * (size_t)O.nids, sizeof *reps);
    pthread_t *th = sl_xcalloc((size_t)O.partitions * (size_t)O.nids, sizeof *th);
    double t0 = sl_clock_mono_s();
    for (int p = 0; p < O.partitions; p++) {
        parts[p].p = p;
        pthread_mutex_init(&parts[p].mu, NULL);
        pthread_cond_init(&parts[p].cv, NULL);
        for (int i = 0; i < O.nids; i++) {
            replica *r = &reps[p * O.nids + i];
            r->idx = i;
            r->pt = &parts[p];
            pthread_create(&th[p * O.nids + i], NULL, replica_main, r);
        }
    }
    for (int i = 0; i < O.partitions * O.nids; i++) pthread_join(th[i], NULL);
    double secs = sl_clock_mono_s() - t0;
    qsort(lat, nlat, sizeof *lat, cmpd);
    double p50 = nlat ? lat[nlat / 2] : 0, p99 = nlat ? lat[(size_t)((double)nlat * 0.99)] : 0;
    long completions = atomic_load(&n_commits);
    printf("| measure | value |\n|---|---|\n");
    printf("| partitions x rounds | %d x %d (%d replicas, %lld rows each) |\n", O.partitions,
           O.rounds, O.nids, (long long)O.rows);
    printf("| completions | %ld in %.2f s |\n", completions, secs);
    printf("| completions/s | %.1f |\n", completions / secs);
    printf("| RPCs | %ld (HOLD %ld, CATCH_UP %ld, KEEP %ld, DISCARD %ld) |\n",
           atomic_load(&n_rpcs), atomic_load(&n_hold), atomic_load(&n_catchup),
           atomic_load(&n_keep), atomic_load(&n_discard));
    printf("| RPC round trip p50 / p99 (not parked) | %.2f ms / %.2f ms |\n", p50 * 1e3, p99 * 1e3);
    printf("| NOT_LEADER replies followed | %ld |\n", atomic_load(&n_not_leader));
    printf("| protocol violations | %d |\n", atomic_load(&failures));
    schema_free(S);
    zk_close(z);
    return atomic_load(&failures) || completions != (long)O.partitions * O.rounds ? 1 : 0;
}
