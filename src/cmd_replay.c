/* `sluice replay` (DESIGN §9, docs/replay.md): rebuild segments from Kafka history.
 *
 *   range   --kafka B --table-config T --schema S --partition P --from O --to O --out DIR
 *           cuts [from, to) of each named partition into segments by the table's thresholds
 *           and publishes them in DIR/<table>/ (a standalone sidecar's layout).
 *   verify  --controller URL --table T [--segment NAME | --partition P] --verify
 *           rebuilds committed (DONE) segments from the offsets their records name, under
 *           their own names, and compares each CRC with the committed one.
 *   bootstrap --controller URL --table NEW --from-table T | --from-offsets smallest
 *           creates NEW bootstrapping (chains from T's first offsets or Kafka's earliest),
 *           replays each partition to Kafka's end, uploads and commits each segment as it is
 *           published (bootstrapCommit), then resumes NEW: it consumes in realtime from there.
 * All run on the replay engine (consumer/replay.h), every partition in parallel on a
 * bounded pool of consumer threads. Progress goes to a terminal once a second. */
#include "common/auth.h"
#include "common/clock.h"
#include "common/fsutil.h"
#include "common/httpc.h"
#include "common/log.h"
#include "common/schema.h"
#include "common/sl_err.h"
#include "common/table_config.h"
#include "common/xalloc.h"
#include "consumer/kmeta.h"
#include "consumer/replay.h"
#include "segment/segname.h"
#include "src/cmds.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RP_KAFKA_TIMEOUT_MS 5000
#define RP_HTTP_TIMEOUT_MS 30000L
#define RP_LISTING_MAX (256u << 20)
#define RP_MAX_WORKERS 64

static const char replay_usage[] =
    "usage: sluice replay --kafka BOOTSTRAP --table-config T.json --schema S.json\n"
    "                     --partition P[,P...]|all --from OFFSET --to OFFSET --out DIR\n"
    "                     [--sequence N] [--time yyyyMMddTHHmmZ] [common options]\n"
    "       sluice replay --controller URL --table T [--segment NAME | --partition P]\n"
    "                     --verify [--kafka BOOTSTRAP] [--out DIR] [common options]\n"
    "       sluice replay --controller URL --table NEW --from-table T | --from-offsets smallest\n"
    "                     [--table-config NEW.json --schema S.json] [--kafka BOOTSTRAP]\n"
    "                     [--out DIR] [common options]\n"
    "common options: [--workers N] [--max-message-bytes SIZE] [--timeout DURATION]\n"
    "                [--token-file F] [--ca-file F] [--cert F --key F] (DESIGN §12)\n"
    "\n"
    "The first form rebuilds [--from, --to) of each partition into segment files, cut by the\n"
    "table's flush thresholds (rows, or the learned rows of a target size; the time threshold\n"
    "does not apply), named <table>__<P>__<seq>__<time> from --sequence (default 0) with the\n"
    "minute --time (default: now), published in DIR/<table>/. OFFSET is a number, or smallest\n"
    "(earliest) for --from and largest (latest) for --to: the partition's offsets when the\n"
    "replay starts.\n"
    "The second form rebuilds the table's committed segments (one, one partition's, or all)\n"
    "from Kafka under their own names and compares each CRC with the committed one; --out\n"
    "keeps the rebuilt files (else they are deleted).\n"
    "The third form bootstraps the new table NEW from Kafka history: created with T's config\n"
    "(renamed) or the given one, each partition replayed from T's first offset (--from-table)\n"
    "or Kafka's earliest (--from-offsets smallest) to Kafka's end at the start, every segment\n"
    "committed as it is built; then NEW consumes in realtime from where the replay ended.\n"
    "Interrupted, the same command goes on from the last commit.\n"
    "--kafka overrides the table config's stream.kafka.broker.list. --workers is the number\n"
    "of consumer threads (default: the partitions, at most the CPUs). --max-message-bytes is\n"
    "the sidecars' consumer.max.message.bytes (default 1M). --timeout bounds the whole\n"
    "replay (default: none).\n"
    "\n"
    "exit status: range: 0 every offset replayed; 1 some offsets were no longer in Kafka\n"
    "(the exact ranges are logged, the rest is replayed); 2 cannot. verify: 0 every CRC\n"
    "identical; 1 some differ; 2 some could not be rebuilt (offsets gone, Kafka unreachable).\n"
    "bootstrap: 0 bootstrapped and consuming; 1 the same, some offsets were no longer in\n"
    "Kafka (logged); 2 cannot (the table stays bootstrapping).\n";

static volatile sig_atomic_t rp_interrupted;
static void rp_on_signal(int sig)
{
    (void)sig;
    rp_interrupted = 1;
}

static int rp_usage_error(const char *msg)
{
    fprintf(stderr, "sluice replay: %s\n%s", msg, replay_usage);
    return 2;
}

typedef struct rp_cli {
    const char *kafka, *table_config, *schema, *partitions, *from, *to, *out;
    const char *controller, *table, *segment;
    const char *from_table, *from_offsets; /* bootstrap */
    bool verify;
    int64_t sequence;
    int64_t time_ms;
    int workers;
    size_t max_message_bytes;
    int64_t timeout_ms; /* 0: none */
    const auth_cli *cred; /* --token-file, --ca-file, --cert, --key */
} rp_cli;

/* A symbolic or numeric offset: -2 smallest, -1 largest, else >= 0; false if neither. */
static bool rp_parse_offset(const char *s, bool is_from, int64_t *out)
{
    if (is_from && (!strcmp(s, "smallest") || !strcmp(s, "earliest")))
        *out = -2;
    else if (!is_from && (!strcmp(s, "largest") || !strcmp(s, "latest")))
        *out = -1;
    else {
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno || end == s || *end || v < 0) return false;
        *out = v;
    }
    return true;
}

/* "yyyyMMddTHHmmZ" as epoch ms, through the segment-name grammar. */
static bool rp_parse_time(const char *s, int64_t *ms)
{
    char name[SL_SEGNAME_MAX];
    segname sn;
    snprintf(name, sizeof name, "t__0__0__%s", s);
    if (segname_parse(name, &sn)) return false;
    *ms = sn.time_ms;
    return true;
}

/* Called about once a second while a replay runs, and once after it ended; false stops it. */
typedef bool (*rp_tick_fn)(void *ctx, replay *r);

/* Run the replay to its end, printing progress on a terminal. 0 ended, SL_ETIMEDOUT,
 * SL_ESTATE (interrupted), SL_EIO (tick returned false). */
static int rp_run(replay *r, int64_t timeout_ms, rp_tick_fn tick, void *ctx)
{
    bool tty = isatty(STDERR_FILENO);
    int64_t t0 = sl_clock_mono_ms(), last_done = 0, last_t = t0;
    double rate = 0;
    int rc = 0;
    for (;;) {
        bool done = replay_wait(r, 1000);
        if (tick && !tick(ctx, r)) {
            rc = SL_EIO;
            break;
        }
        if (done) break;
        int64_t now = sl_clock_mono_ms();
        if (rp_interrupted) {
            rc = SL_ESTATE;
            break;
        }
        if (timeout_ms && now - t0 > timeout_ms) {
            rc = SL_ETIMEDOUT;
            break;
        }
        if (!tty) continue;
        replay_stat st;
        replay_progress(r, &st);
        double dt = (double)(now - last_t) / 1000.0;
        double inst = dt > 0 ? (double)(st.offsets_done - last_done) / dt : 0;
        rate = rate ? 0.7 * rate + 0.3 * inst : inst;
        last_done = st.offsets_done;
        last_t = now;
        int64_t left = st.offsets_total - st.offsets_done;
        fprintf(stderr,
                "\rreplay: %zu/%zu partitions, %" PRId64 "/%" PRId64 " offsets (%.1f%%), %" PRIu64
                " rows, %" PRIu64 " segments, %.0f offsets/s, ETA %.0fs   ",
                st.parts_done + st.parts_failed, st.nparts, st.offsets_done, st.offsets_total,
                st.offsets_total ? 100.0 * (double)st.offsets_done / (double)st.offsets_total
                                 : 100.0,
                st.rows, st.segments, rate, rate > 0 ? (double)left / rate : 0.0);
    }
    if (tty) fputs("\r\033[K", stderr);
    return rc;
}

static void rp_engine_opts(const rp_cli *o, const char *out, size_t nparts, engine_opts *eo)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int w = o->workers ? o->workers : (int)(cpus > 0 ? cpus : 1);
    if ((size_t)w > nparts && nparts) w = (int)nparts;
    *eo = (engine_opts){.data_dir = out, .workers = w, .max_message_bytes = o->max_message_bytes};
}

static void rp_summary(replay *r, double secs, FILE *f)
{
    replay_stat st;
    replay_progress(r, &st);
    fprintf(f,
            "replayed %" PRId64 " offsets into %" PRIu64 " segments, %" PRIu64 " rows, in %.2f s"
            " (%.0f rows/s); malformed %" PRIu64 "; lost to retention %" PRIu64
            " messages in %" PRIu64 " ranges\n",
            st.offsets_done, st.segments, st.rows, secs, secs > 0 ? (double)st.rows / secs : 0.0,
            st.malformed, st.lost_messages, st.lost_ranges);
}

/* ---- range ----------------------------------------------------------------------------- */

static int rp_range(const rp_cli *o)
{
    int64_t from, to;
    if (!rp_parse_offset(o->from, true, &from))
        return rp_usage_error("--from: an offset or smallest");
    if (!rp_parse_offset(o->to, false, &to)) return rp_usage_error("--to: an offset or largest");
    if (from >= 0 && to >= 0 && to < from) return rp_usage_error("--to is before --from");
    char err[4096]; /* every refused key, a line each */
    schema *s;
    tcfg *t;
    tcfg_load_pair(o->schema, o->table_config, &s, &t, err, sizeof err);
    int ret = 2;
    rd_kafka_t *meta = NULL;
    replay *r = NULL;
    int32_t *parts = NULL;
    replay_part *plan = NULL;
    size_t n = 0;
    if (!t) {
        fprintf(stderr, "sluice replay: %s\n", err);
        goto out;
    }
    if (t->type != TCFG_REALTIME) {
        fprintf(stderr, "sluice replay: %s: not a REALTIME table (no stream to replay)\n",
                o->table_config);
        goto out;
    }
    if (o->kafka) {
        free(t->broker_list);
        t->broker_list = sl_xstrdup(o->kafka);
    }
    kmeta_prop props[64];
    size_t np = kmeta_props_of(t, props, 64);
    if (!(meta = kmeta_open(t->broker_list, props, np, err, sizeof err))) {
        fprintf(stderr, "sluice replay: Kafka %s: %s\n", t->broker_list, err);
        goto out;
    }
    int count = 0;
    int rc = kmeta_partition_count(meta, t->topic, RP_KAFKA_TIMEOUT_MS, &count);
    if (rc) {
        fprintf(stderr, "sluice replay: topic %s %s at %s\n", t->topic,
                rc == SL_ENOENT ? "does not exist" : "metadata unavailable", t->broker_list);
        goto out;
    }
    parts = sl_xcalloc((size_t)count + 1, sizeof *parts);
    if (!strcmp(o->partitions, "all")) {
        for (int i = 0; i < count; i++)
            parts[n++] = i;
    } else {
        for (const char *p = o->partitions; *p;) {
            char *end;
            errno = 0;
            long v = strtol(p, &end, 10);
            if (errno || end == p || v < 0 || v >= count || (*end && *end != ',') ||
                n >= (size_t)count) {
                fprintf(stderr, "sluice replay: --partition: topic %s has partitions 0..%d: %s\n",
                        t->topic, count - 1, o->partitions);
                goto out;
            }
            parts[n++] = (int32_t)v;
            p = *end ? end + 1 : end;
        }
    }
    plan = sl_xcalloc(n + 1, sizeof *plan);
    int64_t time_ms = o->time_ms >= 0 ? o->time_ms : (int64_t)sl_clock_wall_ms();
    for (size_t i = 0; i < n; i++) {
        int64_t low, high;
        if (kmeta_watermarks(meta, t->topic, parts[i], RP_KAFKA_TIMEOUT_MS, &low, &high)) {
            fprintf(stderr, "sluice replay: offsets of %s partition %d unavailable at %s\n",
                    t->topic, (int)parts[i], t->broker_list);
            goto out;
        }
        int64_t f = from == -2 ? low : from, e = to == -1 ? high : to;
        if (e > high) {
            fprintf(stderr, "sluice replay: --to %" PRId64 ": partition %d ends at %" PRId64 "\n",
                    e, (int)parts[i], high);
            goto out;
        }
        if (e < f) {
            fprintf(stderr,
                    "sluice replay: partition %d: --to %" PRId64 " is before --from %" PRId64 "\n",
                    (int)parts[i], e, f);
            goto out;
        }
        plan[i] = (replay_part){
            .partition = parts[i], .from = f, .to = e, .sequence = o->sequence, .time_ms = time_ms};
    }
    replay_opts ro = {.schema = s, .table = t, .parts = plan, .nparts = n};
    rp_engine_opts(o, o->out, n, &ro.engine);
    double t0 = sl_clock_mono_s();
    if (!(r = replay_start(&ro, err, sizeof err))) {
        fprintf(stderr, "sluice replay: %s\n", err);
        goto out;
    }
    rc = rp_run(r, o->timeout_ms, NULL, NULL);
    if (rc) {
        fprintf(stderr, "sluice replay: %s\n", rc == SL_ETIMEDOUT ? "timed out" : "interrupted");
        goto out;
    }
    replay_built *b = NULL;
    size_t nb = replay_results(r, &b);
    printf("%-44s %10s %12s %12s %10s %10s\n", "segment", "rows", "start", "end", "bytes", "crc");
    for (size_t i = 0; i < nb; i++)
        printf("%-44s %10" PRIu64 " %12" PRId64 " %12" PRId64 " %10" PRIu64 " %10" PRIu32 "\n",
               b[i].name, b[i].rows, b[i].start, b[i].end, b[i].size, b[i].crc);
    free(b);
    rp_summary(r, sl_clock_mono_s() - t0, stdout);
    replay_stat st;
    replay_progress(r, &st);
    if (st.parts_failed) {
        fprintf(stderr, "sluice replay: %s\n", replay_error(r));
        goto out;
    }
    ret = st.lost_messages ? 1 : 0;
out:
    replay_stop(r);
    if (meta) rd_kafka_destroy(meta);
    free(plan);
    free(parts);
    tcfg_free(t);
    schema_free(s);
    return ret;
}

/* The rebuilt files' dir into tmp: --out, or a new temporary dir (the caller removes it).
 * false with the reason in err (tmp then ""). */
static bool rp_out_dir(const rp_cli *o, char *tmp, size_t cap, char *err, size_t errlen)
{
    if (o->out) {
        snprintf(tmp, cap, "%s", o->out);
        return true;
    }
    snprintf(tmp, cap, "%s/sluice-replay.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(tmp)) return true;
    snprintf(err, errlen, "mkdtemp %.512s: %s", tmp, strerror(errno));
    tmp[0] = '\0';
    return false;
}

/* ---- verify ---------------------------------------------------------------------------- */

/* One committed segment to verify, from the controller's listing. */
typedef struct rp_target {
    char name[SL_SEGNAME_MAX];
    int32_t partition;
    int64_t sequence, start, end;
    uint32_t crc;
    const char *why; /* set: cannot be rebuilt (static string) */
    char whybuf[160];
    bool rebuilt;
    uint32_t got;
} rp_target;

static json_t *rp_get_json(httpc *h, const char *base, const char *path, char *err, size_t errlen)
{
    char url[4096];
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    snprintf(url, sizeof url, "%.*s%s", (int)n, base, path);
    httpc_resp r;
    httpc_resp_init(&r, RP_LISTING_MAX);
    int rc = httpc_request(h, "GET", url, NULL, NULL, 0, RP_HTTP_TIMEOUT_MS, &r);
    json_t *j = NULL;
    if (rc)
        snprintf(err, errlen, "GET %.300s: %.300s", url, r.error);
    else if (r.status != 200)
        snprintf(err, errlen, "GET %.300s: HTTP %ld: %.300s", url, r.status, r.body ? r.body : "");
    else if (!(j = json_loadb(r.body ? r.body : "", r.len, 0, NULL)))
        snprintf(err, errlen, "GET %.300s: not JSON", url);
    httpc_resp_free(&r);
    return j;
}

/* The table config and schema of a {"tableConfig", "schema"} object (GET /tables/<t>, or a
 * table being created), parsed; NULL with the reason in err. *s is the caller's to free
 * (also on failure, when set). */
static tcfg *rp_table_of(const json_t *tj, schema **s, char *err, size_t errlen)
{
    tcfg *t = NULL;
    char *sj = json_dumps(json_object_get(tj, "schema"), JSON_COMPACT);
    char *cj = json_dumps(json_object_get(tj, "tableConfig"), JSON_COMPACT);
    if (sj && cj)
        tcfg_parse_pair(sj, strlen(sj), "schema", cj, strlen(cj), "tableConfig", s, &t, err,
                        errlen);
    else
        snprintf(err, errlen, "no tableConfig and schema");
    free(sj);
    free(cj);
    return t;
}

static int rp_target_cmp(const void *a, const void *b)
{
    const rp_target *x = a, *y = b;
    if (x->partition != y->partition) return x->partition < y->partition ? -1 : 1;
    return x->sequence < y->sequence ? -1 : x->sequence > y->sequence;
}

/* The DONE segments the options name, sorted. NULL with the reason in err. */
static rp_target *rp_targets(const rp_cli *o, json_t *listing, int32_t partition, size_t *count,
                             char *err, size_t errlen)
{
    size_t n = 0;
    rp_target *ts = sl_xcalloc(json_array_size(listing) + 1, sizeof *ts);
    size_t i;
    json_t *e;
    json_array_foreach(listing, i, e)
    {
        const char *name = json_string_value(json_object_get(e, "segment"));
        const char *status = json_string_value(json_object_get(e, "status"));
        if (!name || !status || strcmp(status, "DONE") != 0) continue;
        if (o->segment && strcmp(name, o->segment) != 0) continue;
        json_int_t p = json_integer_value(json_object_get(e, "partition"));
        if (partition >= 0 && p != partition) continue;
        rp_target *t = &ts[n++];
        snprintf(t->name, sizeof t->name, "%s", name);
        t->partition = (int32_t)p;
        t->sequence = json_integer_value(json_object_get(e, "sequence"));
        t->start = json_integer_value(json_object_get(e, "startOffset"));
        t->end = json_integer_value(json_object_get(e, "endOffset"));
        t->crc = (uint32_t)json_integer_value(json_object_get(e, "crc"));
    }
    if (o->segment && n == 0) {
        snprintf(err, errlen, "table %s has no committed (DONE) segment %s", o->table, o->segment);
        free(ts);
        return NULL;
    }
    qsort(ts, n, sizeof *ts, rp_target_cmp);
    *count = n;
    return ts;
}

static int rp_verify(const rp_cli *o)
{
    int32_t partition = -1;
    if (o->partitions) {
        char *end;
        long v = strtol(o->partitions, &end, 10);
        if (end == o->partitions || *end || v < 0 || v > INT32_MAX)
            return rp_usage_error("--partition: one partition number with --verify");
        partition = (int32_t)v;
    }
    if (!segname_valid_table(o->table)) return rp_usage_error("--table: not a table name");
    char err[1024], path[512];
    int ret = 2;
    httpc *h = httpc_new();
    auth_cli_apply(o->cred, h);
    json_t *tj = NULL, *listing = NULL;
    schema *s = NULL;
    tcfg *t = NULL;
    rp_target *ts = NULL;
    rd_kafka_t *meta = NULL;
    replay *r = NULL;
    replay_part *plan = NULL;
    replay_seg *segs = NULL;
    char tmp[PATH_MAX] = "";
    size_t n = 0;
    snprintf(path, sizeof path, "/tables/%s", o->table);
    if (!(tj = rp_get_json(h, o->controller, path, err, sizeof err))) goto fail;
    if (!(t = rp_table_of(tj, &s, err, sizeof err))) goto fail;
    if (o->kafka) {
        free(t->broker_list);
        t->broker_list = sl_xstrdup(o->kafka);
    }
    snprintf(path, sizeof path, "/tables/%s/segments", o->table);
    if (!(listing = rp_get_json(h, o->controller, path, err, sizeof err))) goto fail;
    if (!(ts = rp_targets(o, listing, partition, &n, err, sizeof err))) goto fail;
    kmeta_prop props[64];
    size_t np = kmeta_props_of(t, props, 64);
    if (!(meta = kmeta_open(t->broker_list, props, np, err, sizeof err))) goto fail;
    /* which segments Kafka still holds; each partition's run of them must be unbroken */
    plan = sl_xcalloc(n + 1, sizeof *plan);
    segs = sl_xcalloc(n + 1, sizeof *segs);
    size_t nplan = 0, nsegs = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && ts[j].partition == ts[i].partition)
            j++;
        int64_t low = -1, high = -1;
        bool known = kmeta_watermarks(meta, t->topic, ts[i].partition, RP_KAFKA_TIMEOUT_MS, &low,
                                      &high) == 0;
        replay_part *pp = &plan[nplan];
        *pp = (replay_part){.partition = ts[i].partition, .segs = &segs[nsegs]};
        for (size_t k = i; k < j; k++) {
            rp_target *x = &ts[k];
            if (!known)
                x->why = "Kafka's offsets of the partition are unavailable";
            else if (x->start < low)
                x->why = "its offsets are no longer in Kafka (retention)";
            else if (x->end > high)
                x->why = "Kafka ends before its end offset";
            else if (pp->nsegs && segs[nsegs - 1].end != x->start)
                x->why = "not contiguous with the segment before it (see sluice audit)";
            if (x->why) continue;
            segs[nsegs++] = (replay_seg){x->name, x->sequence, x->start, x->end};
            pp->nsegs++;
        }
        if (pp->nsegs) nplan++;
        i = j;
    }
    if (nplan) {
        if (!rp_out_dir(o, tmp, sizeof tmp, err, sizeof err)) goto fail;
        replay_opts ro = {.schema = s, .table = t, .parts = plan, .nparts = nplan};
        rp_engine_opts(o, tmp, nplan, &ro.engine);
        double t0 = sl_clock_mono_s();
        if (!(r = replay_start(&ro, err, sizeof err))) goto fail;
        int rc = rp_run(r, o->timeout_ms, NULL, NULL);
        if (rc) {
            snprintf(err, sizeof err, "%s", rc == SL_ETIMEDOUT ? "timed out" : "interrupted");
            goto fail;
        }
        replay_stat st;
        replay_progress(r, &st);
        replay_built *b = NULL;
        size_t nb = replay_results(r, &b);
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < nb; k++)
                if (!strcmp(ts[i].name, b[k].name)) {
                    ts[i].rebuilt = true;
                    ts[i].got = b[k].crc;
                }
        free(b);
        for (size_t i = 0; i < n; i++) {
            if (ts[i].why || ts[i].rebuilt) continue;
            snprintf(ts[i].whybuf, sizeof ts[i].whybuf, "not rebuilt: %.140s",
                     replay_error(r)[0] ? replay_error(r) : "the replay ended before it");
            ts[i].why = ts[i].whybuf;
        }
        /* offsets trimmed while reading make a rebuild differ for a reason not its own */
        for (size_t i = 0; st.lost_messages && i < n; i++)
            if (ts[i].rebuilt && ts[i].got != ts[i].crc)
                ts[i].why = "offsets were removed by retention while reading";
        rp_summary(r, sl_clock_mono_s() - t0, stderr);
    }
    size_t same = 0, differ = 0, cannot = 0;
    printf("%-44s %12s %12s %10s %10s  %s\n", "segment", "start", "end", "committed", "rebuilt",
           "result");
    for (size_t i = 0; i < n; i++) {
        const rp_target *x = &ts[i];
        char got[16] = "-";
        if (x->rebuilt && !x->why) snprintf(got, sizeof got, "%" PRIu32, x->got);
        const char *res = x->why ? "CANNOT" : x->got == x->crc ? "IDENTICAL" : "DIFFERENT";
        printf("%-44s %12" PRId64 " %12" PRId64 " %10" PRIu32 " %10s  %s%s%s\n", x->name, x->start,
               x->end, x->crc, got, res, x->why ? ": " : "", x->why ? x->why : "");
        if (x->why)
            cannot++;
        else if (x->got == x->crc)
            same++;
        else
            differ++;
    }
    printf("%zu segments: %zu identical, %zu different, %zu cannot be rebuilt\n", n, same, differ,
           cannot);
    ret = differ ? 1 : cannot ? 2 : 0;
    goto out;
fail:
    fprintf(stderr, "sluice replay: cannot verify: %s\n", err);
out:
    replay_stop(r);
    if (tmp[0] && !o->out) {
        char why[256];
        fsutil_remove_tree(tmp, why, sizeof why);
    }
    if (meta) rd_kafka_destroy(meta);
    free(plan);
    free(segs);
    free(ts);
    tcfg_free(t);
    schema_free(s);
    json_decref(listing);
    json_decref(tj);
    httpc_free(h);
    return ret;
}

/* ---- bootstrap ------------------------------------------------------------------------- */

#define RP_CALL_TRIES 10
#define RP_UPLOAD_TIMEOUT_MS 600000L

/* A bootstrap in progress: the leading controller, and each partition's next sequence to
 * commit with the end offset of what is committed. */
typedef struct rp_boot {
    const rp_cli *o;
    httpc *h;
    char leader[512]; /* the leading controller's base URL, no trailing '/' */
    const char *dir;  /* the replay's output dir */
    size_t nparts;
    int64_t *next_seq, *end, *to; /* by partition */
    replay_built *done;           /* committed segments, in commit order */
    size_t ndone;
    char err[1024];
} rp_boot;

/* base with its trailing '/'s cut, into out. */
static void rp_base(const char *base, char *out, size_t cap)
{
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    snprintf(out, cap, "%.*s", (int)n, base);
}

/* The leader's URL from --controller's /health (its leaderUrl), waiting up to about 15 s for
 * an election. false with the reason in b->err. */
static bool rp_find_leader(rp_boot *b)
{
    char base[512], url[600];
    rp_base(b->o->controller, base, sizeof base);
    snprintf(url, sizeof url, "%s/health", base);
    for (int i = 0; i < 15 && !rp_interrupted; i++) {
        httpc_resp r;
        httpc_resp_init(&r, 0);
        int rc = httpc_request(b->h, "GET", url, NULL, NULL, 0, RP_HTTP_TIMEOUT_MS, &r);
        json_t *j = rc == 0 ? json_loadb(r.body ? r.body : "", r.len, 0, NULL) : NULL;
        const char *l = json_string_value(json_object_get(j, "leaderUrl"));
        if (l && (!strncmp(l, "http://", 7) || !strncmp(l, "https://", 8)))
            rp_base(l, b->leader, sizeof b->leader);
        if (rc)
            snprintf(b->err, sizeof b->err, "GET %s: %s", url, r.error);
        else
            snprintf(b->err, sizeof b->err, "GET %s: no leading controller", url);
        json_decref(j);
        httpc_resp_free(&r);
        if (b->leader[0]) return true;
        sl_clock_sleep_ms(1000);
    }
    return false;
}

/* One request to the leader (redirects followed), a file PUT when file is set. A transport
 * error or a 503 finds the leader again and retries, RP_CALL_TRIES times. 0 with the reply
 * in r (any status), or -1 with the reason in b->err. */
static int rp_call(rp_boot *b, const char *method, const char *path, const char *body,
                   const char *file, httpc_resp *r)
{
    for (int i = 0; i < RP_CALL_TRIES && !rp_interrupted; i++) {
        if (i > 0) {
            sl_clock_sleep_ms(1000);
            b->leader[0] = '\0';
            if (!rp_find_leader(b)) continue;
        }
        char url[4096];
        snprintf(url, sizeof url, "%s%s", b->leader, path);
        httpc_set_redirects(b->h, 3);
        int rc = file ? httpc_put_file(b->h, url, file, RP_UPLOAD_TIMEOUT_MS, r)
                      : httpc_request(b->h, method, url, body ? "application/json" : NULL, body,
                                      body ? strlen(body) : 0, RP_HTTP_TIMEOUT_MS, r);
        if (rc)
            snprintf(b->err, sizeof b->err, "%s %.300s: %.300s", method, url, r->error);
        else if (r->status == 503)
            snprintf(b->err, sizeof b->err, "%s %.300s: HTTP 503: %.300s", method, url,
                     r->body ? r->body : "");
        else
            return 0;
    }
    if (rp_interrupted) snprintf(b->err, sizeof b->err, "interrupted");
    return -1;
}

/* The reason of a refused request: its status and the server's text. */
static void rp_refused(rp_boot *b, const char *what, const httpc_resp *r)
{
    size_t n = r->body ? strcspn(r->body, "\n") : 0;
    snprintf(b->err, sizeof b->err, "%s: HTTP %ld: %.*s", what, r->status, (int)(n < 600 ? n : 600),
             r->body ? r->body : "");
}

/* Upload one replayed segment and commit it into the table's chain. */
static bool rp_commit_one(rp_boot *b, const replay_built *x, const char *table)
{
    char file[PATH_MAX], path[1024];
    snprintf(file, sizeof file, "%s/%s/%s.seg", b->dir, table, x->name);
    httpc_resp r;
    httpc_resp_init(&r, 0);
    bool ok = false;
    snprintf(path, sizeof path, "/segments/%s/%s", table, x->name);
    if (rp_call(b, "PUT", path, NULL, file, &r)) goto out;
    /* 409: committed already (a retry of a commit that happened); the commit says */
    if (r.status != 200 && r.status != 409) {
        rp_refused(b, x->name, &r);
        goto out;
    }
    snprintf(path, sizeof path,
             "/segments/%s/%s/bootstrapCommit?endOffset=%" PRId64 "&rows=%" PRIu64
             "&sizeBytes=%" PRIu64 "&crc=%" PRIu32,
             table, x->name, x->end, x->rows, x->size, x->crc);
    if (rp_call(b, "POST", path, "", NULL, &r)) goto out;
    if (r.status != 200) {
        rp_refused(b, x->name, &r);
        goto out;
    }
    ok = true;
    if (!b->o->out) unlink(file);
out:
    httpc_resp_free(&r);
    return ok;
}

/* rp_tick_fn: commit what the replay published, in order per partition. */
static bool rp_boot_tick(void *ctx, replay *r)
{
    rp_boot *b = ctx;
    replay_built *got = NULL;
    size_t n = replay_results(r, &got);
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        size_t k = (size_t)got[i].partition;
        if (k >= b->nparts || got[i].sequence != b->next_seq[k]) continue;
        ok = rp_commit_one(b, &got[i], b->o->table);
        if (!ok) break;
        b->next_seq[k]++;
        b->end[k] = got[i].end;
        b->done = sl_xrealloc(b->done, (b->ndone + 1) * sizeof *b->done);
        b->done[b->ndone++] = got[i];
    }
    free(got);
    return ok;
}

/* The new table's {"tableConfig", "schema"} from --table-config/--schema, or T's with its
 * name replaced; NULL with the reason. */
static json_t *rp_new_table(rp_boot *b, const json_t *from, char *err, size_t errlen)
{
    const rp_cli *o = b->o;
    json_t *tj = NULL;
    if (o->table_config) {
        json_error_t je;
        json_t *c = json_load_file(o->table_config, 0, &je);
        json_t *s = c ? json_load_file(o->schema, 0, &je) : NULL;
        if (!c || !s) {
            snprintf(err, errlen, "%s: %s", c ? o->schema : o->table_config, je.text);
            json_decref(c);
            return NULL;
        }
        const char *name = json_string_value(json_object_get(c, "tableName"));
        if (!name || strcmp(name, o->table) != 0) {
            snprintf(err, errlen, "%s: tableName is %s, not --table %s", o->table_config,
                     name ? name : "missing", o->table);
            json_decref(c);
            json_decref(s);
            return NULL;
        }
        tj = json_pack("{soso}", "tableConfig", c, "schema", s);
    } else {
        tj = json_deep_copy(from);
        json_object_set_new(json_object_get(tj, "tableConfig"), "tableName", json_string(o->table));
    }
    return tj;
}

/* The chain starts: T's first segment of each partition, or Kafka's earliest offsets. */
static int64_t *rp_start_offsets(rp_boot *b, const tcfg *t, rd_kafka_t *meta, int count,
                                 const tcfg *from_cfg, char *err, size_t errlen)
{
    int64_t *starts = sl_xcalloc((size_t)count, sizeof *starts);
    for (int p = 0; p < count; p++)
        starts[p] = -1;
    if (!b->o->from_table) {
        for (int p = 0; p < count; p++) {
            int64_t high;
            if (kmeta_watermarks(meta, t->topic, p, RP_KAFKA_TIMEOUT_MS, &starts[p], &high)) {
                snprintf(err, errlen, "offsets of %s partition %d unavailable at %s", t->topic, p,
                         t->broker_list);
                free(starts);
                return NULL;
            }
        }
        return starts;
    }
    if (strcmp(from_cfg->topic, t->topic) != 0) {
        snprintf(err, errlen,
                 "table %s reads topic %s, the new table %s: its offsets mean "
                 "nothing there",
                 b->o->from_table, from_cfg->topic, t->topic);
        free(starts);
        return NULL;
    }
    char path[512];
    snprintf(path, sizeof path, "/tables/%s/segments", b->o->from_table);
    json_t *ls = rp_get_json(b->h, b->leader, path, err, errlen);
    int64_t *seq = sl_xcalloc((size_t)count, sizeof *seq);
    size_t i;
    json_t *e;
    json_array_foreach(ls, i, e)
    {
        json_int_t p = json_integer_value(json_object_get(e, "partition"));
        json_int_t q = json_integer_value(json_object_get(e, "sequence"));
        json_t *so = json_object_get(e, "startOffset");
        if (p < 0 || p >= count || !json_is_integer(so)) continue;
        if (starts[p] < 0 || q < seq[p]) {
            starts[p] = json_integer_value(so);
            seq[p] = q;
        }
    }
    free(seq);
    for (int p = 0; ls && p < count; p++)
        if (starts[p] < 0) {
            snprintf(err, errlen, "table %s has no segment of partition %d", b->o->from_table, p);
            json_decref(ls);
            ls = NULL;
        }
    if (!ls) {
        free(starts);
        return NULL;
    }
    json_decref(ls);
    return starts;
}

static int rp_bootstrap(const rp_cli *o)
{
    if (!segname_valid_table(o->table)) return rp_usage_error("--table: not a table name");
    if (o->from_table && !segname_valid_table(o->from_table))
        return rp_usage_error("--from-table: not a table name");
    if (o->from_table && !strcmp(o->from_table, o->table))
        return rp_usage_error("--from-table names the new table itself");
    if (!o->from_table && (!o->from_offsets || strcmp(o->from_offsets, "smallest") != 0))
        return rp_usage_error("--from-offsets: only smallest (Kafka's earliest offsets)");
    if (!o->table_config != !o->schema)
        return rp_usage_error("--table-config and --schema go together");
    char err[1024], path[512];
    int ret = 2;
    rp_boot b = {.o = o, .h = httpc_new()};
    auth_cli_apply(o->cred, b.h);
    json_t *from = NULL, *tj = NULL, *listing = NULL;
    schema *s = NULL, *from_s = NULL;
    tcfg *t = NULL, *from_t = NULL;
    rd_kafka_t *meta = NULL;
    replay *r = NULL;
    replay_part *plan = NULL;
    int64_t *starts = NULL;
    char *body = NULL;
    char tmp[PATH_MAX] = "";
    httpc_resp hr;
    httpc_resp_init(&hr, RP_LISTING_MAX);
    if (!rp_find_leader(&b)) goto fail_b;
    snprintf(path, sizeof path, "/tables/%s", o->table);
    if (rp_call(&b, "GET", path, NULL, NULL, &hr)) goto fail_b;
    bool exists = hr.status == 200;
    if (exists) { /* an interrupted bootstrap goes on where its commits ended */
        if (o->table_config) {
            snprintf(err, sizeof err,
                     "table %s exists: its config is the controller's (no "
                     "--table-config)",
                     o->table);
            goto fail;
        }
        tj = json_loadb(hr.body ? hr.body : "", hr.len, 0, NULL);
        snprintf(path, sizeof path, "/tables/%s/pauseStatus", o->table);
        json_t *ps = rp_get_json(b.h, b.leader, path, err, sizeof err);
        bool boot = json_is_true(json_object_get(ps, "bootstrapping"));
        json_decref(ps);
        if (!boot) {
            snprintf(err, sizeof err,
                     "table %s exists and is not being bootstrapped (a bootstrap "
                     "creates its table)",
                     o->table);
            goto fail;
        }
        fprintf(stderr,
                "sluice replay: table %s is being bootstrapped: going on from its last "
                "commit\n",
                o->table);
    } else if (hr.status != 404) {
        rp_refused(&b, path, &hr);
        goto fail_b;
    } else {
        if (o->from_table) {
            snprintf(path, sizeof path, "/tables/%s", o->from_table);
            if (!(from = rp_get_json(b.h, b.leader, path, err, sizeof err))) goto fail;
            if (!(from_t = rp_table_of(from, &from_s, err, sizeof err))) goto fail;
        } else if (!o->table_config) {
            snprintf(err, sizeof err,
                     "a new table needs --table-config and --schema (or "
                     "--from-table T, whose config it copies)");
            goto fail;
        }
        if (!(tj = rp_new_table(&b, from, err, sizeof err))) goto fail;
    }
    if (!tj || !(t = rp_table_of(tj, &s, err, sizeof err))) {
        if (!tj) snprintf(err, sizeof err, "GET /tables/%s: not JSON", o->table);
        goto fail;
    }
    if (t->type != TCFG_REALTIME) {
        snprintf(err, sizeof err, "table %s is not a REALTIME table (no stream)", o->table);
        goto fail;
    }
    const char *brokers = o->kafka ? o->kafka : t->broker_list;
    kmeta_prop props[64];
    size_t np = kmeta_props_of(t, props, 64);
    if (!(meta = kmeta_open(brokers, props, np, err, sizeof err))) goto fail;
    int count = 0;
    if (kmeta_partition_count(meta, t->topic, RP_KAFKA_TIMEOUT_MS, &count)) {
        snprintf(err, sizeof err, "topic %s: metadata unavailable at %s", t->topic, brokers);
        goto fail;
    }
    if (!exists) {
        if (!(starts = rp_start_offsets(&b, t, meta, count, from_t, err, sizeof err))) goto fail;
        json_t *offs = json_array();
        for (int p = 0; p < count; p++)
            json_array_append_new(offs, json_integer(starts[p]));
        json_object_set_new(tj, "bootstrap", json_pack("{so}", "startOffsets", offs));
        body = json_dumps(tj, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (rp_call(&b, "POST", "/tables", body, NULL, &hr)) goto fail_b;
        if (hr.status != 201) {
            rp_refused(&b, "POST /tables", &hr);
            goto fail_b;
        }
        fprintf(stderr, "sluice replay: table %s created, bootstrapping from %s\n", o->table,
                o->from_table ? o->from_table : "Kafka's earliest offsets");
    }
    /* each partition's newest record is where its replay begins */
    snprintf(path, sizeof path, "/tables/%s/segments", o->table);
    if (!(listing = rp_get_json(b.h, b.leader, path, err, sizeof err))) goto fail;
    b.nparts = (size_t)count;
    b.next_seq = sl_xcalloc(b.nparts + 1, sizeof *b.next_seq);
    b.end = sl_xcalloc(b.nparts + 1, sizeof *b.end);
    b.to = sl_xcalloc(b.nparts + 1, sizeof *b.to);
    plan = sl_xcalloc(b.nparts + 1, sizeof *plan);
    size_t nplan = 0;
    for (int p = 0; p < count; p++) {
        json_t *tail = NULL, *e;
        size_t i;
        json_array_foreach(listing, i, e)
        {
            if (json_integer_value(json_object_get(e, "partition")) != p) continue;
            if (!tail || json_integer_value(json_object_get(e, "sequence")) >
                             json_integer_value(json_object_get(tail, "sequence")))
                tail = e;
        }
        const char *name = json_string_value(json_object_get(tail, "segment"));
        const char *st = json_string_value(json_object_get(tail, "status"));
        segname sn;
        if (!name || !st || strcmp(st, "IN_PROGRESS") != 0 || segname_parse(name, &sn)) {
            snprintf(err, sizeof err,
                     "partition %d: the newest segment %s is %s, not "
                     "IN_PROGRESS",
                     p, name ? name : "(none)", st ? st : "missing");
            goto fail;
        }
        int64_t low, high, from_o = json_integer_value(json_object_get(tail, "startOffset"));
        if (kmeta_watermarks(meta, t->topic, p, RP_KAFKA_TIMEOUT_MS, &low, &high)) {
            snprintf(err, sizeof err, "offsets of %s partition %d unavailable at %s", t->topic, p,
                     brokers);
            goto fail;
        }
        b.next_seq[p] = sn.sequence;
        b.end[p] = from_o;
        b.to[p] = high > from_o ? high : from_o;
        if (high > from_o)
            plan[nplan++] = (replay_part){.partition = p,
                                          .from = from_o,
                                          .to = high,
                                          .sequence = sn.sequence,
                                          .time_ms = sn.time_ms};
    }
    double t0 = sl_clock_mono_s();
    uint64_t lost = 0;
    if (nplan) {
        if (!rp_out_dir(o, tmp, sizeof tmp, err, sizeof err)) goto fail;
        b.dir = tmp;
        if (o->kafka) {
            free(t->broker_list);
            t->broker_list = sl_xstrdup(o->kafka);
        }
        replay_opts ro = {.schema = s, .table = t, .parts = plan, .nparts = nplan};
        rp_engine_opts(o, tmp, nplan, &ro.engine);
        if (!(r = replay_start(&ro, err, sizeof err))) goto fail;
        int rc = rp_run(r, o->timeout_ms, rp_boot_tick, &b);
        if (rc) {
            snprintf(err, sizeof err, "%s",
                     rc == SL_EIO         ? b.err
                     : rc == SL_ETIMEDOUT ? "timed out"
                                          : "interrupted");
            goto stopped;
        }
        replay_stat st;
        replay_progress(r, &st);
        if (st.parts_failed) {
            snprintf(err, sizeof err, "%s", replay_error(r));
            goto stopped;
        }
        lost = st.lost_messages;
        rp_summary(r, sl_clock_mono_s() - t0, stderr);
    }
    for (size_t k = 0; k < b.nparts; k++)
        if (b.end[k] != b.to[k]) {
            snprintf(err, sizeof err,
                     "partition %d: committed up to %" PRId64 ", the replay was "
                     "to reach %" PRId64,
                     (int)k, b.end[k], b.to[k]);
            goto stopped;
        }
    snprintf(path, sizeof path, "/tables/%s/resumeConsumption", o->table);
    if (rp_call(&b, "POST", path, "", NULL, &hr)) goto fail_b;
    if (hr.status != 200) {
        rp_refused(&b, path, &hr);
        goto fail_b;
    }
    printf("%-44s %10s %12s %12s %10s %10s\n", "segment", "rows", "start", "end", "bytes", "crc");
    for (size_t i = 0; i < b.ndone; i++)
        printf("%-44s %10" PRIu64 " %12" PRId64 " %12" PRId64 " %10" PRIu64 " %10" PRIu32 "\n",
               b.done[i].name, b.done[i].rows, b.done[i].start, b.done[i].end, b.done[i].size,
               b.done[i].crc);
    printf("table %s bootstrapped: %zu segments committed in %.2f s; consuming in realtime from",
           o->table, b.ndone, sl_clock_mono_s() - t0);
    for (size_t k = 0; k < b.nparts; k++)
        printf(" %d:%" PRId64, (int)k, b.end[k]);
    printf("\n");
    ret = lost ? 1 : 0;
    goto out;
stopped:
    fprintf(stderr,
            "sluice replay: bootstrap of %s stopped: %s\nsluice replay: the table stays "
            "bootstrapping with %zu segments committed; the same command goes on from there\n",
            o->table, err, b.ndone);
    goto out;
fail_b:
    snprintf(err, sizeof err, "%s", b.err);
fail:
    fprintf(stderr, "sluice replay: cannot bootstrap %s: %s\n", o->table, err);
out:
    replay_stop(r);
    if (tmp[0] && !o->out) {
        char why[256];
        fsutil_remove_tree(tmp, why, sizeof why);
    }
    if (meta) rd_kafka_destroy(meta);
    httpc_resp_free(&hr);
    free(body);
    free(starts);
    free(plan);
    free(b.next_seq);
    free(b.end);
    free(b.to);
    free(b.done);
    tcfg_free(t);
    tcfg_free(from_t);
    schema_free(s);
    schema_free(from_s);
    json_decref(from);
    json_decref(tj);
    json_decref(listing);
    httpc_free(b.h);
    return ret;
}

static int rp_main(int argc, char **argv, const auth_cli *cred)
{
    static const struct option opts[] = {{"kafka", required_argument, 0, 'k'},
                                         {"table-config", required_argument, 0, 'T'},
                                         {"schema", required_argument, 0, 'S'},
                                         {"partition", required_argument, 0, 'p'},
                                         {"from", required_argument, 0, 'f'},
                                         {"to", required_argument, 0, 't'},
                                         {"out", required_argument, 0, 'o'},
                                         {"sequence", required_argument, 0, 'q'},
                                         {"time", required_argument, 0, 'm'},
                                         {"controller", required_argument, 0, 'c'},
                                         {"table", required_argument, 0, 'n'},
                                         {"segment", required_argument, 0, 's'},
                                         {"verify", no_argument, 0, 'v'},
                                         {"workers", required_argument, 0, 'w'},
                                         {"max-message-bytes", required_argument, 0, 'M'},
                                         {"timeout", required_argument, 0, 'x'},
                                         {"help", no_argument, 0, 'h'},
                                         {"from-table", required_argument, 0, 'F'},
                                         {"from-offsets", required_argument, 0, 'O'},
                                         {0, 0, 0, 0}};
    rp_cli o = {.time_ms = -1, .cred = cred};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        uint64_t v;
        char *end;
        switch (c) {
        case 'k':
            o.kafka = optarg;
            break;
        case 'T':
            o.table_config = optarg;
            break;
        case 'S':
            o.schema = optarg;
            break;
        case 'p':
            o.partitions = optarg;
            break;
        case 'f':
            o.from = optarg;
            break;
        case 't':
            o.to = optarg;
            break;
        case 'o':
            o.out = optarg;
            break;
        case 'c':
            o.controller = optarg;
            break;
        case 'n':
            o.table = optarg;
            break;
        case 's':
            o.segment = optarg;
            break;
        case 'v':
            o.verify = true;
            break;
        case 'F':
            o.from_table = optarg;
            break;
        case 'O':
            o.from_offsets = optarg;
            break;
        case 'q':
            errno = 0;
            o.sequence = strtoll(optarg, &end, 10);
            if (errno || end == optarg || *end || o.sequence < 0 || o.sequence > (1LL << 53))
                return rp_usage_error("--sequence: a number from 0 to 2^53");
            break;
        case 'm':
            if (!rp_parse_time(optarg, &o.time_ms))
                return rp_usage_error("--time: a UTC minute yyyyMMddTHHmmZ, e.g. 20240101T0000Z");
            break;
        case 'w':
            errno = 0;
            v = strtoull(optarg, &end, 10);
            if (errno || end == optarg || *end || v < 1 || v > RP_MAX_WORKERS)
                return rp_usage_error("--workers: a number from 1 to 64");
            o.workers = (int)v;
            break;
        case 'M':
            if (tcfg_parse_size(optarg, &v) || v < 1 || v > (1u << 30))
                return rp_usage_error("--max-message-bytes: a size from 1 to 1G");
            o.max_message_bytes = (size_t)v;
            break;
        case 'x':
            if (tcfg_parse_duration(optarg, &v) || v < 100)
                return rp_usage_error("--timeout: a duration of at least 100ms (e.g. 90s, 5m)");
            o.timeout_ms = (int64_t)v;
            break;
        case 'h':
            fputs(replay_usage, stdout);
            return 0;
        default:
            fputs(replay_usage, stderr);
            return 2;
        }
    }
    if (optind < argc) return rp_usage_error("unexpected argument");
    bool boot = o.from_table || o.from_offsets;
    bool cluster = o.controller || o.table || o.segment || o.verify || boot;
    if (boot) {
        if (!o.controller || !o.table)
            return rp_usage_error("a bootstrap needs --controller and --table");
        if (o.from_table && o.from_offsets)
            return rp_usage_error("--from-table or --from-offsets, not both");
        if (o.verify || o.segment || o.partitions || o.from || o.to || o.time_ms >= 0 || o.sequence)
            return rp_usage_error("a bootstrap replays every partition from its start to Kafka's "
                                  "end: no --verify, --segment, --partition, --from, --to, "
                                  "--time, --sequence");
    } else if (cluster) {
        if (!o.verify)
            return rp_usage_error("--controller and --table go with --verify, --from-table or "
                                  "--from-offsets");
        if (!o.controller || !o.table)
            return rp_usage_error("--verify needs --controller and --table");
        if (o.segment && o.partitions) return rp_usage_error("--segment or --partition, not both");
        if (o.table_config || o.schema || o.from || o.to || o.time_ms >= 0 || o.sequence)
            return rp_usage_error("--verify reads the table and the offsets from the controller: "
                                  "no --table-config, --schema, --from, --to, --time, --sequence");
    } else if (!o.kafka || !o.table_config || !o.schema || !o.partitions || !o.from || !o.to ||
               !o.out) {
        return rp_usage_error("a range replay needs --kafka, --table-config, --schema, "
                              "--partition, --from, --to and --out");
    }
    sl_log_threshold = SL_LOG_WARN;
    struct sigaction sa = {.sa_handler = rp_on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    return boot ? rp_bootstrap(&o) : cluster ? rp_verify(&o) : rp_range(&o);
}

int cmd_replay_main(int argc, char **argv)
{
    return auth_cli_main(argc, argv, "sluice replay", rp_main);
}
