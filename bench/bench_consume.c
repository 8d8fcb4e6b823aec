/* Consumer benchmark: how close standalone ingestion (Kafka -> published segment files) comes
 * to a bare librdkafka consume loop over the same data, what 16 partitions cost on 2 cores,
 * and what a consuming partition costs in memory.
 *
 * Everything is measured in ONE run, so the ratios compare figures taken seconds apart on the
 * same (noisy, shared) machine. Kafka is `sluice kafka-mock` in a child process, so its CPU
 * stays out of getrusage(RUSAGE_SELF); it is filled by `sluice loadgen` (zstd batches: the
 * mock keeps only the newest 5 MiB compressed per partition, about 100000 of these rows,
 * DESIGN §7). Nothing is timed while data is produced. Steps, in this order:
 *
 *  1. RSS first, while this process's heap is fresh (memory freed by earlier runs would hide
 *     growth): 16 partitions x 49152 rows (48 x 1024, so pcons' memory gauge, sampled every
 *     1024 rows, is exact at the end) consumed by a standalone (2 workers) whose flush
 *     threshold is above that; once every row sits in a consuming segment, (RSS - RSS
 *     before) / 16, again after jemalloc returned the pages it keeps after free (mostly
 *     librdkafka's fetch buffers), and sum(sluice_consuming_segment_bytes) / rows.
 *  2. One partition of N rows: (a) a bare loop, one handle with consumer/cpool.c's fetch
 *     settings, rd_kafka_consume_batch_queue until N messages were seen (touching a byte of
 *     each); (b) standalone_start on that partition with threshold N/4, until the 4th
 *     segment file is published. Alternated REPS times, best of each, ratio (b)/(a).
 *  3. 16 partitions x N rows, standalone with 2 workers and threshold N/2, until all 32
 *     files are published: rows/s, CPU seconds per million rows and peak RSS growth; the
 *     bare loop with 2 threads (8 partitions each, as the pool splits them) beside it.
 *  4. librdkafka fetch settings (DESIGN §7): step 3 again with 2.0.2's defaults, with only
 *     queued.min.messages at its default, and with larger byte bounds (a smaller one, 16 MiB,
 *     measured 3x slower end to end and was dropped to keep the run short). Steps 3 and 4
 *     run BC_MANY_REPS rounds in which the variants take turns; best of each.
 *
 * Prints a table (bench/benchlib.c, with the child processes and the mock broker); asserts no
 * figure. Exits 1 only when a measurement could not be taken (its line then says why). The
 * mock child is killed by PID and the temp dir removed on every exit path, SIGINT/SIGTERM
 * included; PR_SET_PDEATHSIG covers a crash of this process.
 *
 * usage: bench_consume [--sluice PATH] [--examples DIR] [--rows N] [--reps R]
 *   --sluice    the sluice binary (default: ../sluice next to this binary)
 *   --examples  dir with events_schema.json and events_table.json (default: deploy/examples
 *               under the current dir, else under the source tree this was built from)
 *   --rows      rows per partition (default 100000; more than the mock keeps is trimmed)
 *   --reps      repetitions of the one-partition pair, step 2 (default 3)
 *
 * usage: bench_consume --bare BOOTSTRAP --topic T --partitions P [--threads N]
 *   The bare loop alone, once, as its own process (bench/sidebyside.sh times it beside the
 *   other systems): every message of partitions 0..P-1 from their low watermarks, N handles
 *   (default 2, as the pool's workers); prints `rows=R seconds=S`. Exit 0, or 1 with why. */
#include "bench/benchlib.h"
#include "chaos/evgen.h"
#include "common/clock.h"
#include "common/jsonw.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/schema.h"
#include "common/table_config.h"
#include "common/xalloc.h"
#include "consumer/cpool.h"
#include "consumer/standalone.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#define BC_MANY 16            /* partitions of the multi-partition topic */
#define BC_RSS_ROWS 49152     /* rows per partition for the memory step (48 x 1024) */
#define BC_BATCH 4096         /* as CPOOL_BATCH */
#define BC_RUN_TIMEOUT_S 60.0 /* one measurement never waits longer than this */
#define BC_MANY_REPS 2        /* rounds of steps 3-4 (~25 s each; the budget is ~2 min) */

/* The bare loop uses cpool_defaults(), so it fetches exactly as the pool does and the ratio
 * compares consuming with consuming plus ingestion. */
#define BC_NPROPS(a) (sizeof(a) / sizeof((a)[0]))

/* The fetch-setting variants of step 4, applied over ours. */
typedef struct bc_variant {
    const char *name;
    const cpool_prop *props;
    size_t nprops;
} bc_variant;

static const cpool_prop bc_v_defaults[] = {
    {"queued.min.messages", "100000"}, /* librdkafka 2.0.2 defaults */
    {"queued.max.messages.kbytes", "65536"},
    {"fetch.error.backoff.ms", "500"},
};
static const cpool_prop bc_v_qmin[] = {{"queued.min.messages", "100000"}};
static const cpool_prop bc_v_kb128[] = {{"queued.max.messages.kbytes", "131072"}};
static const cpool_prop bc_v_kb256[] = {{"queued.max.messages.kbytes", "262144"}};

/* Set by SIGINT/SIGTERM; every wait loop checks it and unwinds through the normal cleanup.
 * (A signal flag is the one global a handler can use.) */
static volatile sig_atomic_t bc_interrupted;

/* Where the bare loop's payload sums end up (after the join), so the reads are not optimized
 * away. */
static volatile uint64_t bc_sink;

typedef struct bench {
    char sluice[PATH_MAX];
    char examples[PATH_MAX];
    char tmp[PATH_MAX]; /* our temp dir; removed at exit */
    benchlib_mock mock; /* kafka-mock: one:1 and many:BC_MANY */
    int64_t rows;       /* requested rows per partition */
    int reps;
    schema *schema;
    tcfg *table; /* the example table; topic, brokers and thresholds set per run */
    int runs;    /* standalone runs so far (names their data dirs) */
    benchlib_table results;
    /* --bare mode: the topic on the broker in mock.bootstrap */
    bool bare;
    char bare_topic[256];
    int bare_parts, bare_threads;
} bench;

/* ---- Kafka: the mock broker and loadgen (bench/benchlib.c) ---------------------------- */

/* `sluice loadgen` into our mock: rows events from start_id, partition = id % partitions. */
static int bc_loadgen(bench *b, const char *topic, int64_t rows, int partitions, int64_t start_id)
{
    return benchlib_loadgen(b->sluice, b->tmp, b->mock.bootstrap, topic, rows, partitions, start_id,
                            &bc_interrupted);
}

/* ---- bare librdkafka loop --------------------------------------------------------- */

static int bc_conf_set(rd_kafka_conf_t *c, const char *k, const char *v, char *err, size_t len)
{
    char e[256];
    if (rd_kafka_conf_set(c, k, v, e, sizeof e) == RD_KAFKA_CONF_OK) return 0;
    benchlib_fmt(err, len, "%s=%s: %s", k, v, e);
    return -1;
}

/* A consumer configured as the pool's, then `over` applied. NULL with the reason in err.
 * Caller destroys with rd_kafka_destroy. */
static rd_kafka_t *bc_consumer(const bench *b, const cpool_prop *over, size_t nover, char *err,
                               size_t errlen)
{
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    if (bc_conf_set(c, "bootstrap.servers", b->mock.bootstrap, err, errlen) ||
        bc_conf_set(c, "group.id", "bench-bare", err, errlen))
        goto fail;
    size_t ndef;
    const cpool_prop *def = cpool_defaults(&ndef);
    for (size_t i = 0; i < ndef; i++)
        if (bc_conf_set(c, def[i].key, def[i].value, err, errlen)) goto fail;
    for (size_t i = 0; i < nover; i++)
        if (bc_conf_set(c, over[i].key, over[i].value, err, errlen)) goto fail;
    char e[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, e, sizeof e);
    if (rk) return rk; /* c belongs to rk now */
    benchlib_fmt(err, errlen, "rd_kafka_new: %s", e);
fail:
    rd_kafka_conf_destroy(c);
    return NULL;
}

/* Low and high watermarks of partitions 0..n-1 of topic. */
static int bc_watermarks(const bench *b, const char *topic, int n, int64_t *low, int64_t *high)
{
    char err[256];
    rd_kafka_t *rk = bc_consumer(b, NULL, 0, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "bench_consume: %s\n", err);
        return -1;
    }
    int rc = 0;
    for (int p = 0; p < n && rc == 0; p++) {
        rd_kafka_resp_err_t e =
            rd_kafka_query_watermark_offsets(rk, topic, p, &low[p], &high[p], 5000);
        if (e) {
            fprintf(stderr, "bench_consume: watermarks of %s/%d: %s\n", topic, p,
                    rd_kafka_err2str(e));
            rc = -1;
        }
    }
    rd_kafka_destroy(rk);
    return rc;
}

typedef struct bc_bare_job {
    const bench *b;
    const char *topic;
    int32_t parts[BC_MANY];
    int64_t start[BC_MANY];
    size_t nparts;
    int64_t expect; /* messages to see */
    const cpool_prop *over;
    size_t nover;
    double deadline;
    /* results */
    int64_t seen;
    uint64_t sum;  /* of one byte of every payload */
    double t_done; /* monotonic time the last expected message arrived */
    char err[256]; /* empty when it worked */
} bc_bare_job;

/* One handle consuming its partitions from their start offsets until `expect` messages were
 * seen. Only the consuming is meant to be timed: close and destroy come after t_done. */
static void *bc_bare_main(void *arg)
{
    bc_bare_job *j = arg;
    rd_kafka_message_t *msgs[BC_BATCH];
    rd_kafka_t *rk = bc_consumer(j->b, j->over, j->nover, j->err, sizeof j->err);
    if (!rk) return NULL;
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(rk);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)j->nparts);
    for (size_t i = 0; i < j->nparts; i++)
        rd_kafka_topic_partition_list_add(l, j->topic, j->parts[i])->offset = j->start[i];
    rd_kafka_resp_err_t e = rd_kafka_assign(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e) {
        snprintf(j->err, sizeof j->err, "assign: %s", rd_kafka_err2str(e));
        goto done;
    }
    while (j->seen < j->expect) {
        if (bc_interrupted || sl_clock_mono_s() > j->deadline) {
            snprintf(j->err, sizeof j->err, "%s after %" PRId64 " of %" PRId64 " messages",
                     bc_interrupted ? "interrupted" : "timeout", j->seen, j->expect);
            break;
        }
        ssize_t n = rd_kafka_consume_batch_queue(q, 100, msgs, BC_BATCH);
        for (ssize_t i = 0; i < n; i++) {
            const rd_kafka_message_t *m = msgs[i];
            if (m->err) {
                fprintf(stderr, "bench_consume: bare loop: %s\n", rd_kafka_err2str(m->err));
            } else {
                j->seen++;
                if (m->len) j->sum += ((const uint8_t *)m->payload)[m->len / 2];
            }
            rd_kafka_message_destroy(msgs[i]);
        }
    }
    j->t_done = sl_clock_mono_s();
done:
    rd_kafka_queue_destroy(q);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return NULL;
}

/* The bare loop over partitions 0..nparts-1 of topic with `threads` handles (partition p on
 * handle p % threads, as the pool assigns them). Returns the seconds from the first
 * rd_kafka_new until every message was seen, or -1 with the reason in err. *cpu gets the
 * CPU seconds of the whole run (including the handles' teardown). */
static double bc_bare(const bench *b, const char *topic, int nparts, const int64_t *low,
                      const int64_t *high, int threads, const cpool_prop *over, size_t nover,
                      double *cpu, char *err, size_t errlen)
{
    bc_bare_job jobs[BC_MANY];
    pthread_t tids[BC_MANY];
    memset(jobs, 0, sizeof jobs);
    double t0 = sl_clock_mono_s(), c0 = benchlib_cpu_s();
    for (int t = 0; t < threads; t++) {
        bc_bare_job *j = &jobs[t];
        *j = (bc_bare_job){.b = b,
                           .topic = topic,
                           .over = over,
                           .nover = nover,
                           .deadline = t0 + BC_RUN_TIMEOUT_S};
        for (int p = t; p < nparts; p += threads) {
            j->parts[j->nparts] = p;
            j->start[j->nparts++] = low[p];
            j->expect += high[p] - low[p];
        }
    }
    int started = 0;
    for (; started < threads; started++)
        if (pthread_create(&tids[started], NULL, bc_bare_main, &jobs[started])) break;
    double t_end = t0;
    for (int t = 0; t < started; t++) {
        pthread_join(tids[t], NULL);
        bc_sink += jobs[t].sum;
        if (jobs[t].t_done > t_end) t_end = jobs[t].t_done;
    }
    *cpu = benchlib_cpu_s() - c0;
    if (started < threads) {
        snprintf(err, errlen, "cannot start a thread");
        return -1;
    }
    for (int t = 0; t < threads; t++) {
        if (jobs[t].err[0]) {
            benchlib_fmt(err, errlen, "%s", jobs[t].err); /* a message: cut is harmless */
            return -1;
        }
    }
    return t_end - t0;
}

/* ---- standalone runs ------------------------------------------------------------- */

typedef struct bc_sa {
    metrics_registry *metrics;
    standalone *s;
    char data_dir[PATH_MAX];
    char table_dir[PATH_MAX + 64];
} bc_sa;

static void bc_sa_stop(bc_sa *r)
{
    standalone_stop(r->s);
    r->s = NULL;
    metrics_free(r->metrics);
    r->metrics = NULL;
    if (r->data_dir[0]) benchlib_rm_tree(r->data_dir);
    r->data_dir[0] = '\0';
}

/* Start a standalone on partitions 0..nparts-1 of topic in a fresh data dir, flushing every
 * flush_rows rows; `over` are extra librdkafka properties (applied after the pool's). */
static int bc_sa_start(bench *b, bc_sa *r, const char *topic, int nparts, int workers,
                       uint64_t flush_rows, const cpool_prop *over, size_t nover, char *err,
                       size_t errlen)
{
    memset(r, 0, sizeof *r);
    tcfg *t = b->table;
    free(t->topic);
    free(t->broker_list);
    t->topic = sl_xstrdup(topic);
    t->broker_list = sl_xstrdup(b->mock.bootstrap);
    t->flush_rows = flush_rows;
    t->flush_time_ms = 6u * 3600u * 1000u; /* never the reason a segment ends here */
    t->flush_size_bytes = 0;
    t->offset_reset = TCFG_RESET_SMALLEST;
    t->consumer_type = TCFG_CONSUMER_LOWLEVEL;
    benchlib_fmt(r->data_dir, sizeof r->data_dir, "%s/data%d", b->tmp, b->runs++);
    snprintf(r->table_dir, sizeof r->table_dir, "%s/%s", r->data_dir, t->table_name);
    int32_t parts[BC_MANY];
    for (int p = 0; p < nparts; p++)
        parts[p] = p;
    r->metrics = metrics_new();
    standalone_opts o = {.engine = {.data_dir = r->data_dir,
                                    .workers = workers,
                                    .props = over,
                                    .nprops = nover,
                                    .metrics = r->metrics},
                         .schema = b->schema,
                         .table = t,
                         .partitions = parts,
                         .npartitions = (size_t)nparts};
    r->s = standalone_start(&o, err, errlen);
    if (!r->s) {
        bc_sa_stop(r);
        return -1;
    }
    return 0;
}

/* Published segment files (<name>.seg; temporaries are <name>.seg.tmp.*) in the table dir. */
static int bc_count_segments(const bc_sa *r)
{
    DIR *d = opendir(r->table_dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        n += len > 4 && strcmp(e->d_name + len - 4, ".seg") == 0;
    }
    closedir(d);
    return n;
}

/* Sum of every series of metric `family` in the registry's rendering. */
static double bc_metric_sum(metrics_registry *m, const char *family)
{
    size_t flen = strlen(family);
    char *text = metrics_render(m, NULL);
    double sum = 0;
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (strncmp(line, family, flen) == 0 && (line[flen] == '{' || line[flen] == ' ')) {
            size_t len = nl ? (size_t)(nl - line) : strlen(line);
            const char *sp = memrchr(line, ' ', len); /* the value ends the line */
            if (sp) sum += strtod(sp + 1, NULL);
        }
        line = nl ? nl + 1 : NULL;
    }
    free(text);
    return sum;
}

typedef enum bc_until { BC_UNTIL_SEGMENTS, BC_UNTIL_ROWS } bc_until;

/* Poll (1 ms) until `want` segment files are published or `want` rows sit in consuming
 * segments, keeping the highest RSS seen in *peak_rss (may be NULL). Returns the monotonic
 * time it happened, or -1 with the reason in err (timeout, a partition in ERROR,
 * interrupted). */
static double bc_sa_wait(bc_sa *r, bc_until until, int64_t want, double deadline, int64_t *peak_rss,
                         char *err, size_t errlen)
{
    double next_health = 0;
    for (;;) {
        double now = sl_clock_mono_s();
        if (peak_rss) {
            int64_t rss = benchlib_rss();
            if (rss > *peak_rss) *peak_rss = rss;
        }
        int64_t have = until == BC_UNTIL_SEGMENTS
                           ? bc_count_segments(r)
                           : (int64_t)bc_metric_sum(r->metrics, "sluice_consuming_segment_rows");
        if (have >= want) return now;
        if (bc_interrupted || now > deadline) {
            jsonw w;
            jsonw_init(&w);
            engine_health(standalone_engine(r->s), &w);
            benchlib_fmt(err, errlen, "%s with %" PRId64 " of %" PRId64 " %s; partitions: %s",
                         bc_interrupted ? "interrupted" : "timeout", have, want,
                         until == BC_UNTIL_SEGMENTS ? "segments published" : "rows consumed",
                         w.buf);
            jsonw_free(&w);
            return -1;
        }
        if (now >= next_health) {
            next_health = now + 0.1;
            jsonw w;
            jsonw_init(&w);
            int errors = engine_health(standalone_engine(r->s), &w);
            if (errors) benchlib_fmt(err, errlen, "partition in ERROR: %s", w.buf);
            jsonw_free(&w);
            if (errors) return -1;
        }
        sl_clock_sleep_ms(until == BC_UNTIL_SEGMENTS ? 1 : 5); /* rendering metrics costs more */
    }
}

/* Standalone from start until `segments` files are published. Returns seconds or -1; *cpu
 * gets the CPU seconds and *rss_growth the peak RSS during the run minus the RSS before it. */
static double bc_e2e(bench *b, const char *topic, int nparts, int workers, uint64_t flush_rows,
                     int segments, const cpool_prop *over, size_t nover, double *cpu,
                     int64_t *rss_growth, char *err, size_t errlen)
{
    bc_sa r;
    benchlib_purge(); /* a baseline without the previous run's freed pages */
    int64_t rss0 = benchlib_rss(), peak = rss0;
    double t0 = sl_clock_mono_s(), c0 = benchlib_cpu_s();
    if (bc_sa_start(b, &r, topic, nparts, workers, flush_rows, over, nover, err, errlen) != 0)
        return -1;
    double t1 =
        bc_sa_wait(&r, BC_UNTIL_SEGMENTS, segments, t0 + BC_RUN_TIMEOUT_S, &peak, err, errlen);
    *cpu = benchlib_cpu_s() - c0;
    *rss_growth = peak - rss0;
    bc_sa_stop(&r);
    return t1 < 0 ? -1 : t1 - t0;
}

/* ---- the steps ------------------------------------------------------------------- */

/* Step 1: memory of 16 consuming segments of BC_RSS_ROWS rows each. */
static void bc_step_rss(bench *b)
{
    const char *name = "RSS per partition (16 consuming segments)";
    int64_t low[BC_MANY], high[BC_MANY];
    char err[512];
    if (bc_watermarks(b, "many", BC_MANY, low, high) != 0) {
        benchlib_line_fail(&b->results, name, "no watermarks");
        return;
    }
    int64_t rows = 0;
    for (int p = 0; p < BC_MANY; p++)
        rows += high[p] - low[p];
    bc_sa r;
    int64_t rss0 = benchlib_rss();
    double t0 = sl_clock_mono_s();
    if (bc_sa_start(b, &r, "many", BC_MANY, 2, 10u * BC_RSS_ROWS, NULL, 0, err, sizeof err)) {
        benchlib_line_fail(&b->results, name, err);
        return;
    }
    double t1 = bc_sa_wait(&r, BC_UNTIL_ROWS, rows, t0 + BC_RUN_TIMEOUT_S, NULL, err, sizeof err);
    if (t1 < 0) {
        bc_sa_stop(&r);
        benchlib_line_fail(&b->results, name, err);
        return;
    }
    sl_clock_sleep_ms(300); /* prefetch queues drained */
    int64_t rss1 = benchlib_rss();
    benchlib_purge(); /* how much of the growth is live, how much fetch buffers already freed */
    int64_t rss2 = benchlib_rss();
    double seg_bytes = bc_metric_sum(r.metrics, "sluice_consuming_segment_bytes");
    double seg_rows = bc_metric_sum(r.metrics, "sluice_consuming_segment_rows");
    bc_sa_stop(&r);

    /* raw JSON size of the same rows, for scale */
    char buf[EVGEN_JSON_MAX];
    double json = 0;
    for (uint64_t id = 0; id < 10000; id++)
        json += (double)evgen_row_json(1, id, buf, sizeof buf);
    json /= 10000;

    const double mib = 1048576.0;
    benchlib_line *l = benchlib_line_add(&b->results, name);
    snprintf(l->rows, sizeof l->rows, "%" PRId64, rows);
    benchlib_fmt(l->note, sizeof l->note,
                 "%.1f MiB/partition: RSS %.1f -> %.1f MiB (+%.1f) with %d x %" PRId64
                 " rows consuming, 2 workers",
                 (double)(rss1 - rss0) / BC_MANY / mib, (double)rss0 / mib, (double)rss1 / mib,
                 (double)(rss1 - rss0) / mib, BC_MANY, rows / BC_MANY);
    l = benchlib_line_add(&b->results, "RSS per partition, allocator's free pages purged");
    snprintf(l->rows, sizeof l->rows, "%" PRId64, rows);
    benchlib_fmt(l->note, sizeof l->note,
                 "%.1f MiB/partition: RSS %.1f MiB (+%.1f) once jemalloc returned freed pages",
                 (double)(rss2 - rss0) / BC_MANY / mib, (double)rss2 / mib,
                 (double)(rss2 - rss0) / mib);
    l = benchlib_line_add(&b->results, "consuming segment memory per row");
    snprintf(l->rows, sizeof l->rows, "%.0f", seg_rows);
    snprintf(l->note, sizeof l->note,
             "%.1f B/row (sum sluice_consuming_segment_bytes %.1f MiB); raw JSON %.1f B/row",
             seg_rows > 0 ? seg_bytes / seg_rows : 0.0, seg_bytes / 1048576.0, json);
}

/* Step 2: one partition, bare loop vs end to end, alternating. */
static void bc_step_one(bench *b)
{
    int64_t low, high;
    char err[512];
    if (bc_watermarks(b, "one", 1, &low, &high) != 0 || high - low < 4) {
        benchlib_line_fail(&b->results, "1 partition", "no data in topic one");
        return;
    }
    int64_t n = high - low;
    uint64_t flush = (uint64_t)(n / 4); /* 4 segments; a remainder stays consuming */
    double best_a = -1, best_b = -1, cpu;
    char runs_a[96] = "", runs_b[96] = "";
    for (int rep = 0; rep < b->reps && !bc_interrupted; rep++) {
        double a = bc_bare(b, "one", 1, &low, &high, 1, NULL, 0, &cpu, err, sizeof err);
        if (a < 0) {
            benchlib_line_fail(&b->results, "1 partition: bare librdkafka loop", err);
            return;
        }
        int64_t rss;
        double e = bc_e2e(b, "one", 1, 1, flush, 4, NULL, 0, &cpu, &rss, err, sizeof err);
        if (e < 0) {
            benchlib_line_fail(&b->results, "1 partition: end to end (standalone)", err);
            return;
        }
        if (best_a < 0 || a < best_a) best_a = a;
        if (best_b < 0 || e < best_b) best_b = e;
        size_t la = strlen(runs_a), lb = strlen(runs_b);
        snprintf(runs_a + la, sizeof runs_a - la, "%s%.0f", rep ? ", " : "", (double)n / a);
        snprintf(runs_b + lb, sizeof runs_b - lb, "%s%.0f", rep ? ", " : "", (double)n / e);
    }
    if (best_a < 0 || best_b < 0) {
        benchlib_line_fail(&b->results, "1 partition", "interrupted");
        return;
    }
    char note[192];
    snprintf(note, sizeof note, "best of %d, our fetch settings; runs rows/s: %s", b->reps, runs_a);
    benchlib_line_timed(&b->results, "1 partition: bare librdkafka loop", n, best_a, note);
    snprintf(note, sizeof note, "best of %d, 4 segments of %" PRIu64 " published; runs: %s",
             b->reps, flush, runs_b);
    benchlib_line_timed(&b->results, "1 partition: end to end (standalone)", 4 * (int64_t)flush,
                        best_b, note);
    benchlib_line *l = benchlib_line_add(&b->results, "1 partition: ratio end to end / bare");
    double ratio = ((double)(4 * (int64_t)flush) / best_b) / ((double)n / best_a);
    snprintf(l->rate, sizeof l->rate, "%.2f", ratio);
    snprintf(l->note, sizeof l->note, "target >= 0.5");
}

/* One variant's figures over the repetitions of steps 3 and 4. */
typedef struct bc_best {
    double secs, cpu; /* the fastest run and its CPU seconds; secs < 0: none yet */
    int64_t rss;      /* the most RSS grew during any run (end to end only), bytes */
    char runs[96];    /* rows/s of every run */
    char err[192];    /* why a run failed, or empty */
} bc_best;

static void bc_best_add(bc_best *r, int rep, double secs, double cpu, int64_t rss, int64_t rows,
                        const char *err)
{
    if (rss > r->rss) r->rss = rss;
    if (secs < 0) {
        if (!r->err[0]) benchlib_fmt(r->err, sizeof r->err, "%s", err);
        return;
    }
    if (r->secs < 0 || secs < r->secs) {
        r->secs = secs;
        r->cpu = cpu;
    }
    size_t len = strlen(r->runs);
    benchlib_fmt(r->runs + len, sizeof r->runs - len, "%s%.0f", rep ? ", " : "",
                 (double)rows / secs);
}

static void bc_best_line(bench *b, const char *name, const bc_best *r, int64_t rows,
                         const char *what)
{
    if (r->err[0] || r->secs < 0) {
        benchlib_line_fail(&b->results, name, r->err[0] ? r->err : "not run (interrupted)");
        return;
    }
    char note[256], rss[48] = "";
    if (r->rss > 0)
        benchlib_fmt(rss, sizeof rss, "; peak RSS +%.0f MiB", (double)r->rss / 1048576.0);
    benchlib_fmt(note, sizeof note, "%s; CPU %.2f s = %.2f s per M rows%s; runs rows/s: %s", what,
                 r->cpu, r->cpu / ((double)rows / 1e6), rss, r->runs);
    benchlib_line_timed(&b->results, name, rows, r->secs, note);
}

/* Steps 3 and 4: 16 partitions on 2 cores with our fetch settings and the variants, each
 * end to end and bare; the variants take turns within each round so that slow phases of
 * the (shared) machine hit them alike. */
static void bc_step_many(bench *b)
{
    static const bc_variant variants[] = {
        {"ours", NULL, 0},
        {"2.0.2 defaults", bc_v_defaults, BC_NPROPS(bc_v_defaults)},
        {"qmin=100000", bc_v_qmin, BC_NPROPS(bc_v_qmin)},
        {"kbytes=131072", bc_v_kb128, BC_NPROPS(bc_v_kb128)},
        {"kbytes=262144", bc_v_kb256, BC_NPROPS(bc_v_kb256)},
    };
    enum { NV = BC_NPROPS(variants) };
    int64_t low[BC_MANY], high[BC_MANY];
    char err[512], name[64];
    if (bc_watermarks(b, "many", BC_MANY, low, high) != 0) {
        benchlib_line_fail(&b->results, "16 partitions", "no watermarks");
        return;
    }
    int64_t total = 0, minp = INT64_MAX;
    for (int p = 0; p < BC_MANY; p++) {
        total += high[p] - low[p];
        if (high[p] - low[p] < minp) minp = high[p] - low[p];
    }
    /* two segments per partition; a partition trimmed below 2 x flush would never finish */
    uint64_t flush = (uint64_t)(minp / 2);
    int64_t e2e_rows = 2 * BC_MANY * (int64_t)flush;
    bc_best e2e[NV], bare[NV];
    memset(e2e, 0, sizeof e2e);
    memset(bare, 0, sizeof bare);
    for (int v = 0; v < NV; v++)
        e2e[v].secs = bare[v].secs = -1;
    for (int rep = 0; rep < BC_MANY_REPS && !bc_interrupted; rep++) {
        for (int v = 0; v < NV && !bc_interrupted; v++) {
            const bc_variant *var = &variants[v];
            double cpu = 0;
            int64_t rss = 0;
            double e = bc_e2e(b, "many", BC_MANY, 2, flush, 2 * BC_MANY, var->props, var->nprops,
                              &cpu, &rss, err, sizeof err);
            bc_best_add(&e2e[v], rep, e, cpu, rss, e2e_rows, err);
            double a = bc_bare(b, "many", BC_MANY, low, high, 2, var->props, var->nprops, &cpu, err,
                               sizeof err);
            bc_best_add(&bare[v], rep, a, cpu, 0, total, err);
        }
    }
    for (int v = 0; v < NV; v++) {
        char props[128] = "", what[192];
        for (size_t i = 0, len = 0; i < variants[v].nprops && len < sizeof props; i++)
            len += (size_t)snprintf(props + len, sizeof props - len, ", %s=%s",
                                    variants[v].props[i].key, variants[v].props[i].value);
        benchlib_fmt(name, sizeof name, "16p end to end, 2 workers: %s", variants[v].name);
        benchlib_fmt(what, sizeof what, "best of %d%s; %d segments of %" PRIu64, BC_MANY_REPS,
                     props, 2 * BC_MANY, flush);
        bc_best_line(b, name, &e2e[v], e2e_rows, what);
        benchlib_fmt(name, sizeof name, "16p bare loop, 2 threads: %s", variants[v].name);
        benchlib_fmt(what, sizeof what, "best of %d%s", BC_MANY_REPS, props);
        bc_best_line(b, name, &bare[v], total, what);
        if (v == 0 && e2e[0].secs > 0 && bare[0].secs > 0) {
            benchlib_line *l = benchlib_line_add(&b->results, "16p ratio end to end / bare: ours");
            benchlib_fmt(l->rate, sizeof l->rate, "%.2f",
                         ((double)e2e_rows / e2e[0].secs) / ((double)total / bare[0].secs));
            benchlib_fmt(l->note, sizeof l->note, "no target: the bare loop decodes nothing");
        }
    }
}

/* ---- setup ----------------------------------------------------------------------- */

static void bc_on_signal(int sig)
{
    (void)sig;
    bc_interrupted = 1;
}

/* --bare: the loop once over an existing topic (its watermarks taken first, untimed). */
static int bc_bare_only(const bench *b)
{
    int64_t low[BC_MANY], high[BC_MANY], rows = 0;
    if (bc_watermarks(b, b->bare_topic, b->bare_parts, low, high) != 0) return 1;
    for (int p = 0; p < b->bare_parts; p++)
        rows += high[p] - low[p];
    char err[512];
    double cpu, secs = bc_bare(b, b->bare_topic, b->bare_parts, low, high, b->bare_threads, NULL, 0,
                               &cpu, err, sizeof err);
    if (secs < 0) {
        fprintf(stderr, "bench_consume: bare loop: %s\n", err);
        return 1;
    }
    printf("rows=%" PRId64 " seconds=%.3f\n", rows, secs);
    return 0;
}

static void bc_usage(FILE *out)
{
    fprintf(out, "usage: bench_consume [--sluice PATH] [--examples DIR] [--rows N] [--reps R]\n"
                 "Consumer benchmark: bare librdkafka loop vs standalone ingestion on a child\n"
                 "`sluice kafka-mock`; prints a table (see the top of bench/bench_consume.c).\n"
                 "       bench_consume --bare BOOTSTRAP --topic T --partitions P [--threads N]\n"
                 "The bare loop alone, once, on an existing topic: prints rows=R seconds=S.\n");
}

static int bc_parse_args(bench *b, int argc, char **argv)
{
    static const struct option opts[] = {
        {"sluice", required_argument, NULL, 's'},
        {"examples", required_argument, NULL, 'e'},
        {"rows", required_argument, NULL, 'n'},
        {"reps", required_argument, NULL, 'r'},
        {"bare", required_argument, NULL, 'b'},
        {"topic", required_argument, NULL, 't'},
        {"partitions", required_argument, NULL, 'p'},
        {"threads", required_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    benchlib_default_sluice(b->sluice, sizeof b->sluice);
    benchlib_default_examples(b->examples, sizeof b->examples);
    b->rows = 100000;
    b->reps = 3;
    b->bare_threads = 2;
    for (int c; (c = getopt_long(argc, argv, "h", opts, NULL)) != -1;) {
        char *end = NULL;
        switch (c) {
        case 's':
            snprintf(b->sluice, sizeof b->sluice, "%s", optarg);
            break;
        case 'e':
            snprintf(b->examples, sizeof b->examples, "%s", optarg);
            break;
        case 'n':
            b->rows = strtoll(optarg, &end, 10);
            if (*end || b->rows < BC_RSS_ROWS || b->rows > 10000000) {
                fprintf(stderr, "bench_consume: --rows must be %d..10000000\n", BC_RSS_ROWS);
                return 2;
            }
            break;
        case 'r':
            b->reps = (int)strtol(optarg, &end, 10);
            if (*end || b->reps < 1 || b->reps > 5) {
                fprintf(stderr, "bench_consume: --reps must be 1..5\n");
                return 2;
            }
            break;
        case 'b':
            b->bare = true;
            snprintf(b->mock.bootstrap, sizeof b->mock.bootstrap, "%s", optarg);
            break;
        case 't':
            snprintf(b->bare_topic, sizeof b->bare_topic, "%s", optarg);
            break;
        case 'p':
        case 'T': {
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > BC_MANY) {
                fprintf(stderr, "bench_consume: --%s must be 1..%d\n",
                        c == 'p' ? "partitions" : "threads", BC_MANY);
                return 2;
            }
            *(c == 'p' ? &b->bare_parts : &b->bare_threads) = (int)v;
            break;
        }
        case 'h':
            bc_usage(stdout);
            exit(0);
        default:
            bc_usage(stderr);
            return 2;
        }
    }
    if (optind < argc || (b->bare && (!b->bare_topic[0] || !b->bare_parts))) {
        bc_usage(stderr);
        return 2;
    }
    if (access(b->sluice, X_OK) != 0) {
        fprintf(stderr, "bench_consume: no sluice binary at %s (give --sluice)\n", b->sluice);
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    bench *b = sl_xcalloc(1, sizeof *b);
    int rc = bc_parse_args(b, argc, argv);
    if (rc) {
        free(b);
        return rc;
    }
    sl_log_set_level("warn");
    struct sigaction sa = {.sa_handler = bc_on_signal}; /* no SA_RESTART: waits end early */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (b->bare) {
        rc = bc_bare_only(b);
        free(b);
        return rc;
    }

    char err[512], path[PATH_MAX + 32];
    rc = 1;
    snprintf(b->tmp, sizeof b->tmp, "/tmp/bench_consume.XXXXXX");
    if (!mkdtemp(b->tmp)) {
        fprintf(stderr, "bench_consume: mkdtemp: %s\n", strerror(errno));
        b->tmp[0] = '\0';
        goto done;
    }
    snprintf(path, sizeof path, "%s/events_schema.json", b->examples);
    if (!(b->schema = schema_load(path, err, sizeof err))) goto bad_example;
    snprintf(path, sizeof path, "%s/events_table.json", b->examples);
    if (!(b->table = tcfg_load(path, b->schema, err, sizeof err))) goto bad_example;
    char many[32];
    snprintf(many, sizeof many, "many:%d", BC_MANY);
    const char *topics[] = {"one:1", many};
    if (benchlib_mock_start(&b->mock, b->sluice, b->tmp, topics, 2, &bc_interrupted) != 0)
        goto done;

    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    printf("bench_consume: librdkafka %s, %ld CPUs, kafka-mock pid %d at %s, %" PRId64
           " rows per partition\n",
           rd_kafka_version_str(), ncpu, (int)b->mock.pid, b->mock.bootstrap, b->rows);
    fflush(stdout);
    double t_start = sl_clock_mono_s();

    /* step 1 needs only the first BC_RSS_ROWS of each partition of many */
    int64_t first = (int64_t)BC_MANY * BC_RSS_ROWS;
    bool loaded = bc_loadgen(b, "many", first, BC_MANY, 0) == 0;
    if (loaded) bc_step_rss(b);
    loaded = loaded && !bc_interrupted &&
             bc_loadgen(b, "many", (int64_t)BC_MANY * b->rows - first, BC_MANY, first) == 0 &&
             bc_loadgen(b, "one", b->rows, 1, 0) == 0;
    if (loaded) bc_step_one(b);
    if (loaded && !bc_interrupted) bc_step_many(b);

    if (b->results.n) benchlib_table_print(&b->results);
    printf("bench_consume: %.0f s in all%s\n", sl_clock_mono_s() - t_start,
           bc_interrupted ? " (interrupted)"
           : loaded       ? ""
                          : " (loading the mock failed)");
    rc = b->results.failed || bc_interrupted || !loaded ? 1 : 0;
    goto done;
bad_example:
    fprintf(stderr, "bench_consume: %s (give --examples)\n", err);
done:
    benchlib_mock_stop(&b->mock);
    if (b->tmp[0]) benchlib_rm_tree(b->tmp);
    tcfg_free(b->table);
    schema_free(b->schema);
    free(b);
    return rc;
}
