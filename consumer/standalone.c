/* Standalone ingestion (see standalone.h for the contract): the standalone policy of the
 * sidecar engine.
 *
 * Everything that touches a partition runs on the consumer-pool worker that owns it:
 * on_full builds, publishes and rolls; on_tick retries a failed build or offset commit; in
 * highlevel mode on_assign creates the partition and on_revoke hands its durable position
 * to the group before the engine drops it. */
#include "consumer/standalone.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/sl_err.h"
#include "consumer/flush.h"
#include "consumer/pcons.h"
#include "segment/seg_reader.h"
#include "segment/segname.h"
#include "common/xalloc.h"
#include "common/clock.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SA_RETRY_MS 5000 /* wait between attempts to build a segment whose rows failed */
#define SA_DEFAULT_TIME_MS (6u * 3600u * 1000u)

/* The policy's state of one partition (the engine part's area). */
typedef struct sa_part {
    engine_part *ep;
    flush_tuner tuner;
    uint64_t retry_at_ms;    /* a failed build is retried after this */
    sl_backoff disk_backoff; /* builds that failed on the disk: 1 s doubling to 60 s */
    int64_t durable;         /* highlevel: end offset of the newest published segment */
    int64_t committed;       /* highlevel: newest offset the group accepted */
    _Atomic int quarantined; /* files moved aside: by the restart checkpoint, or the scrub */
} sa_part;

struct standalone {
    engine *e;
    engine_table *t;
    bool highlevel;
};

/* ---- checkpoint: the published files ------------------------------------------------ */

/* One published file of a partition, as its name and its own metadata describe it. */
typedef struct sa_file {
    char name[SL_SEGNAME_MAX]; /* file name without ".seg" */
    int64_t seq;               /* the sequence in the name */
    int64_t start, end;        /* the file's offsets [start, end) (valid when why is empty) */
    uint64_t rows, size;
    char why[512]; /* "" = verified and agrees with its name; else why it is unusable */
} sa_file;

/* A published file as the directory listing names it (small: a listing may hold every file
 * of 10,000 partitions). */
typedef struct sa_entry {
    char *name; /* file name without ".seg" */
    int32_t partition;
    int64_t seq;
} sa_entry;

static int sa_entry_cmp(const void *a, const void *b)
{
    const sa_entry *x = a, *y = b;
    if (x->partition != y->partition) return x->partition < y->partition ? -1 : 1;
    if (x->seq != y->seq) return x->seq < y->seq ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Every published file of the table (by name), sorted by partition, then sequence: the
 * directory is read once however many partitions start (a sidecar with 10,000 partitions
 * and their chains would otherwise read it 10,000 times). Caller frees with sa_list_free. */
static sa_entry *sa_list(const engine_table *t, size_t *count)
{
    sa_entry *f = NULL;
    size_t n = 0, cap = 0;
    DIR *d = opendir(engine_table_dir(t));
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char name[SL_SEGNAME_MAX];
        segname sn;
        if (!segname_of_file(e->d_name, engine_table_name(t), name, &sn)) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            f = sl_xrealloc(f, cap * sizeof *f);
        }
        f[n] = (sa_entry){.name = sl_xstrdup(name), .partition = sn.partition, .seq = sn.sequence};
        n++;
    }
    if (d) closedir(d);
    if (n) qsort(f, n, sizeof *f, sa_entry_cmp);
    *count = n;
    return f;
}

static void sa_list_free(sa_entry *f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(f[i].name);
    free(f);
}

/* The files of partition within all[0..n) (sa_list's order): *count of them from the result. */
static const sa_entry *sa_slice(const sa_entry *all, size_t n, int32_t partition, size_t *count)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (all[mid].partition < partition)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t end = lo;
    while (end < n && all[end].partition == partition)
        end++;
    *count = end - lo;
    return all ? all + lo : NULL;
}

/* Verify f's file (seg_reader_open runs the full structure and CRC check of
 * seg_verify_file, i.e. `sluice segment verify`) and compare its metadata with its name.
 * Fills f's offsets, or f->why. */
static void sa_inspect(const engine_table *t, int32_t partition, sa_file *f)
{
    char path[PATH_MAX], msg[256];
    if (!engine_seg_path(t, f->name, "", path)) {
        snprintf(f->why, sizeof f->why, "path too long");
        return;
    }
    int err = 0;
    seg_reader *r = seg_reader_open(path, &err, msg, sizeof msg);
    if (!r) {
        snprintf(f->why, sizeof f->why, "fails verification (%s): %s", sluice_strerror(err), msg);
        return;
    }
    const char *table = engine_table_name(t);
    f->start = seg_reader_start_offset(r);
    f->end = seg_reader_end_offset(r);
    f->rows = seg_reader_rows(r);
    f->size = seg_reader_size(r);
    if (strcmp(seg_reader_name(r), f->name) != 0 || strcmp(seg_reader_table(r), table) != 0 ||
        seg_reader_partition(r) != partition || seg_reader_sequence(r) != f->seq)
        snprintf(f->why, sizeof f->why,
                 "misnamed: the file holds segment %.*s (table %.*s, partition %d, sequence "
                 "%" PRId64 ")",
                 SL_SEGNAME_MAX, seg_reader_name(r), SL_IDENT_MAX, seg_reader_table(r),
                 (int)seg_reader_partition(r), seg_reader_sequence(r));
    else if (f->start < 0 || f->end < f->start)
        snprintf(f->why, sizeof f->why, "offsets [%" PRId64 ", %" PRId64 ") are not a range",
                 f->start, f->end);
    seg_reader_close(r);
}

/* The restart checkpoint of partition, from the files' own metadata. The files (mine[0..n),
 * the partition's slice of the listing), in sequence order from the oldest, must form a chain: each
 * verified, agreeing with its name (segment name, table, partition, sequence), sequence k+1
 * starting exactly where k ended. The chain is cut at the first file that breaks it; that file and
 * every later one are quarantined (later ones too: keeping them would publish their offsets twice
 * once consumption goes on from the cut). Sets *next_seq to the sequence after the chain (the
 * oldest file's when no file is usable, 0 when there is none) and, when the chain is not empty,
 * *start to its end offset, learns the autotune ratio from its newest file and returns 1; 0 when
 * the chain is empty; SL_EIO with the reason in err when a file cannot be moved aside. */
static int sa_resume_point(const engine_table *t, int32_t partition, const sa_entry *mine, size_t n,
                           int64_t *next_seq, int64_t *start, flush_tuner *tuner, int *quarantined,
                           char *err, size_t errlen)
{
    sa_file *f = sl_xcalloc(n ? n : 1, sizeof *f);
    for (size_t i = 0; i < n; i++) {
        snprintf(f[i].name, sizeof f[i].name, "%s", mine[i].name);
        f[i].seq = mine[i].seq;
    }
    const sa_file *last = NULL, *cut = NULL;
    *next_seq = n ? f[0].seq : 0;
    for (size_t i = 0; i < n; i++) {
        if (!cut) {
            sa_inspect(t, partition, &f[i]);
            if (!f[i].why[0] && f[i].seq != *next_seq)
                snprintf(f[i].why, sizeof f[i].why,
                         "sequence %" PRId64 " where %" PRId64 " was expected", f[i].seq,
                         *next_seq);
            else if (!f[i].why[0] && last && f[i].start != last->end)
                snprintf(f[i].why, sizeof f[i].why,
                         "starts at offset %" PRId64 " but %s ended at %" PRId64, f[i].start,
                         last->name, last->end);
            if (f[i].why[0]) {
                cut = &f[i];
            } else {
                last = &f[i];
                *next_seq = f[i].seq + 1;
                continue;
            }
        } else {
            snprintf(f[i].why, sizeof f[i].why, "after the cut at %.*s", SL_SEGNAME_MAX, cut->name);
        }
        if (engine_quarantine(t, f[i].name, f[i].why) != 0) {
            /* left in place it would be served and, if valid, published twice: refuse */
            snprintf(err, errlen, "%s: cannot move %s.seg to quarantine/ (%s)", engine_table_dir(t),
                     f[i].name, strerror(errno));
            free(f);
            return SL_EIO;
        }
        (*quarantined)++;
    }
    if (last) {
        *start = last->end;
        flush_learn(tuner, last->rows, last->size);
        SL_INFO("standalone",
                "resume table=%s partition=%d after=%s start=%" PRId64 " chain=%zu%s%s",
                engine_table_name(t), (int)partition, last->name, *start, (size_t)(last - f) + 1,
                cut ? " cut_at=" : "", cut ? cut->name : "");
    } else if (cut) {
        SL_WARN("standalone",
                "no usable segment table=%s partition=%d: starting sequence %" PRId64
                " from auto.offset.reset",
                engine_table_name(t), (int)partition, *next_seq);
    }
    int resumed = last != NULL;
    free(f);
    return resumed;
}

/* ---- segments -------------------------------------------------------------------- */

static pcons_limits sa_limits(const sa_part *sp)
{
    const tcfg *t = engine_table_cfg(engine_part_table(sp->ep));
    pcons_limits lim = {.rows = t->flush_rows, .time_ms = t->flush_time_ms, .end_offset = -1};
    if (t->flush_size_bytes) lim.rows = flush_next_rows(&sp->tuner);
    if (!lim.rows && !lim.time_ms) {
        lim.rows = FLUSH_DEFAULT_ROWS;
        lim.time_ms = SA_DEFAULT_TIME_MS;
    }
    return lim;
}

static void sa_start_segment(sa_part *sp, int64_t seq, int64_t start)
{
    char name[SL_SEGNAME_MAX];
    uint64_t now = sl_clock_wall_ms();
    pcons *p = engine_part_pcons(sp->ep);
    segname_format(name, sizeof name, engine_table_name(engine_part_table(sp->ep)),
                   pcons_partition(p), seq, (int64_t)now);
    pcons_limits lim = sa_limits(sp);
    pcons_start_segment(p, seq, name, start, now, &lim);
}

/* Build, publish, commit (highlevel) and roll; on the owning worker. A failed build keeps
 * the partition FULL with its rows: rows that cannot be built are retried every SA_RETRY_MS,
 * a full or failing disk with exponential backoff. */
static bool sa_complete(standalone *s, cpool_worker *w, sa_part *sp)
{
    pcons *p = engine_part_pcons(sp->ep);
    engine_built b;
    int rc = engine_build(s->e, sp->ep, "", &b);
    if (rc != 0) {
        uint64_t now = sl_clock_wall_ms();
        sp->retry_at_ms = sl_err_is_deterministic(rc)
                              ? now + SA_RETRY_MS
                              : now + sl_backoff_fail(&sp->disk_backoff, now, 0, 0);
        return false;
    }
    flush_learn(&sp->tuner, b.rows, b.size);
    SL_INFO("standalone",
            "segment published table=%s partition=%d segment=%s rows=%" PRIu64 " start=%" PRId64
            " end=%" PRId64 " bytes=%" PRIu64 " crc=%" PRIu32 " build_s=%.3f reason=%s",
            engine_table_name(engine_part_table(sp->ep)), (int)pcons_partition(p),
            pcons_segment_name(p), b.rows, pcons_start_offset(p), pcons_next_offset(p), b.size,
            b.crc, b.seconds, pcons_end_name(pcons_end_reason(p)));
    sl_backoff_reset(&sp->disk_backoff);
    int64_t end = pcons_next_offset(p);
    sp->durable = end;
    if (s->highlevel && cpool_commit(w, p, end) == 0) sp->committed = end;
    sa_start_segment(sp, pcons_seq(p) + 1, end);
    return true;
}

static cpool_full_action sa_on_full(void *ctx, cpool_worker *w, engine_part *ep)
{
    return sa_complete(ctx, w, engine_part_ctx(ep)) ? CPOOL_CONTINUE : CPOOL_HOLD;
}

/* Every tick: retry a failed build (held partitions) or a failed offset commit. */
static void sa_on_tick(void *ctx, cpool_worker *w, engine_part *ep, bool held)
{
    standalone *s = ctx;
    sa_part *sp = engine_part_ctx(ep);
    pcons *p = engine_part_pcons(ep);
    if (s->highlevel && sp->durable > sp->committed && cpool_commit(w, p, sp->durable) == 0)
        sp->committed = sp->durable;
    if (!held || pcons_get_state(p) != PCONS_FULL || sl_clock_wall_ms() < sp->retry_at_ms) return;
    if (sa_complete(s, w, sp)) cpool_seek_resume(w, p, pcons_next_offset(p));
}

/* ---- partitions --------------------------------------------------------------------- */

/* New partition starting after its checkpoint (from files: the table's sa_list, borrowed),
 * or at committed (highlevel, when later), or where auto.offset.reset says: `reset` when the
 * caller looked it up already (>= 0), else asked now. NULL with the reason in err when the
 * start cannot be resolved now (nothing is left behind then). */
static sa_part *sa_part_new(standalone *s, engine_table *et, int32_t partition, int64_t committed,
                            int64_t reset, const sa_entry *files, size_t nfiles, char *err,
                            size_t errlen)
{
    const tcfg *t = engine_table_cfg(et);
    sa_part tmp = {0};
    tmp.tuner.target_bytes = t->flush_size_bytes;
    int64_t seq = 0, start = -1;
    int quarantined = 0;
    size_t n;
    const sa_entry *mine = sa_slice(files, nfiles, partition, &n);
    int resumed = sa_resume_point(et, partition, mine, n, &seq, &start, &tmp.tuner, &quarantined,
                                  err, errlen);
    if (resumed < 0) return NULL;
    atomic_init(&tmp.quarantined, quarantined);
    if (committed > start) start = committed;
    /* the group's own position: when the local files resume beyond it (a commit that failed
     * in a rebalance), the next tick commits the durable position */
    tmp.durable = start;
    tmp.committed = committed;
    if (!resumed && committed < 0 && reset >= 0) {
        start = reset;
    } else if (!resumed && committed < 0) {
        int64_t low, high;
        if (engine_table_watermarks(et, partition, &low, &high) != 0) {
            snprintf(err, errlen, "cannot read offsets of %s partition %d at %s", t->topic,
                     (int)partition, t->broker_list);
            return NULL;
        }
        start = t->offset_reset == TCFG_RESET_LARGEST ? high : low;
    }
    engine_part *ep = engine_part_add(s->e, et, partition, sizeof(sa_part));
    sa_part *sp = engine_part_ctx(ep);
    *sp = tmp;
    sp->ep = ep;
    sa_start_segment(sp, seq, start);
    return sp;
}

static engine_part *sa_on_assign(void *ctx, cpool_worker *w, engine_table *t, int32_t partition,
                                 int64_t committed)
{
    (void)w;
    char err[PATH_MAX + 256];
    size_t n;
    sa_entry *files = sa_list(t, &n);
    sa_part *sp = sa_part_new(ctx, t, partition, committed, -1, files, n, err, sizeof err);
    sa_list_free(files, n);
    if (!sp) SL_ERROR("standalone", "partition=%d not consumed: %s", (int)partition, err);
    return sp ? sp->ep : NULL;
}

static void sa_on_revoke(void *ctx, cpool_worker *w, engine_part *ep)
{
    (void)ctx;
    sa_part *sp = engine_part_ctx(ep);
    /* last chance to hand the durable position to the partition's next owner */
    if (sp->durable > sp->committed) cpool_commit(w, engine_part_pcons(ep), sp->durable);
}

/* The scrub found a published file rotten and quarantined it: counted in the partition's
 * health. There is no other copy: the chain has a hole until a restart cuts it there and
 * consumes again from the file before it (docs/standalone.md). */
static void sa_on_corrupt(void *ctx, engine_table *t, const char *segment)
{
    (void)ctx;
    segname sn;
    if (segname_parse(segment, &sn) != 0) return;
    engine_part *ep = engine_part_find(engine_table_engine(t), t, sn.partition);
    if (ep) atomic_fetch_add(&((sa_part *)engine_part_ctx(ep))->quarantined, 1);
}

static const char *sa_state(void *ctx, const engine_part *ep, bool *error)
{
    (void)ctx;
    pcons_state st = pcons_get_state(engine_part_pcons(ep));
    *error = st == PCONS_ERROR;
    return pcons_state_name(st);
}

static void sa_health_fields(void *ctx, const engine_part *ep, jsonw *w)
{
    (void)ctx;
    const sa_part *sp = engine_part_ctx(ep);
    jsonw_key(w, "quarantinedFiles");
    jsonw_i64(w, atomic_load(&sp->quarantined));
}

/* ---- public ------------------------------------------------------------------------ */

standalone *standalone_start(const standalone_opts *o, char *err, size_t errlen)
{
    standalone *s = sl_xcalloc(1, sizeof *s);
    const tcfg *t = o->table;
    engine_policy pol = {.ctx = s,
                         .on_full = sa_on_full,
                         .on_tick = sa_on_tick,
                         .on_assign = sa_on_assign,
                         .on_revoke = sa_on_revoke,
                         .state = sa_state,
                         .health_fields = sa_health_fields,
                         .on_corrupt = sa_on_corrupt};
    engine_opts eo = o->engine;
    eo.log_tag = "standalone";
    if (!(s->e = engine_new(&eo, &pol, err, errlen))) goto fail;
    s->highlevel = t->consumer_type == TCFG_CONSUMER_HIGHLEVEL;
    const char *group = t->table_name;
    for (uint32_t i = 0; i < t->nprops; i++)
        if (strcmp(t->props[i].key, "group.id") == 0) group = t->props[i].value;
    if (!(s->t = engine_table_add(s->e, o->schema, t, false, s->highlevel ? group : NULL, err,
                                  errlen)))
        goto fail;
    const tcfg *cfg = engine_table_cfg(s->t);
    if (s->highlevel) {
        SL_INFO("standalone", "joined consumer group group=%s topic=%s", group, cfg->topic);
        return s;
    }
    int count = 0;
    int rc = engine_table_partitions(s->t, &count);
    if (rc != 0) {
        snprintf(err, errlen, "stream.kafka.topic.name: topic %s %s at %s", cfg->topic,
                 rc == SL_ENOENT ? "does not exist" : "metadata unavailable", cfg->broker_list);
        goto fail;
    }
    /* the sidecar's own list, else the table's stream.kafka.partition.ids, else every one */
    const int32_t *want = o->partitions ? o->partitions : cfg->partition_ids;
    size_t n = o->partitions ? o->npartitions : want ? cfg->npartition_ids : (size_t)count;
    const char *key = o->partitions ? "partitions" : "stream.kafka.partition.ids";
    int32_t *parts = sl_xcalloc(n ? n : 1, sizeof *parts);
    int64_t *reset = sl_xcalloc(n ? n : 1, sizeof *reset);
    for (size_t i = 0; i < n; i++) {
        parts[i] = want ? want[i] : (int32_t)i;
        if (parts[i] < 0 || parts[i] >= count) {
            snprintf(err, errlen, "%s: topic %s has no partition %d (it has %d)", key, cfg->topic,
                     (int)parts[i], count);
            goto fail_parts;
        }
        bool listed = !o->partitions || !cfg->partition_ids;
        for (size_t j = 0; !listed && j < cfg->npartition_ids; j++)
            listed = cfg->partition_ids[j] == parts[i];
        if (!listed) {
            snprintf(err, errlen,
                     "partitions: %d is not one of the table's stream.kafka.partition.ids",
                     (int)parts[i]);
            goto fail_parts;
        }
    }
    /* where auto.offset.reset starts each partition, in one look-up rather than one round
     * trip per partition (a partition left at -1 asks again for itself) */
    engine_table_offsets(s->t, parts, n, cfg->offset_reset == TCFG_RESET_LARGEST, reset);
    size_t nfiles;
    sa_entry *files = sa_list(s->t, &nfiles);
    for (size_t i = 0; i < n; i++) {
        sa_part *sp = sa_part_new(s, s->t, parts[i], -1, reset[i], files, nfiles, err, errlen);
        if (sp && engine_part_consume(sp->ep) != 0) {
            snprintf(err, errlen, "cannot assign %s partition %d", cfg->topic, (int)parts[i]);
            sp = NULL;
        }
        if (!sp) {
            sa_list_free(files, nfiles);
            goto fail_parts;
        }
    }
    sa_list_free(files, nfiles);
    free(parts);
    free(reset);
    SL_INFO("standalone", "consuming table=%s topic=%s partitions=%zu workers=%d", cfg->table_name,
            cfg->topic, n, o->engine.workers);
    return s;
fail_parts:
    free(parts);
    free(reset);
fail:
    standalone_stop(s);
    return NULL;
}

engine *standalone_engine(standalone *s)
{
    return s->e;
}

void standalone_stop(standalone *s)
{
    if (!s) return;
    engine_free(s->e); /* joins the workers; highlevel revokes through on_revoke */
    free(s);
}
