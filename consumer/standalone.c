/* Standalone ingestion (see standalone.h for the contract).
 *
 * Everything that touches a partition runs on the consumer-pool worker that owns it:
 * on_full builds, publishes and rolls; on_held_tick retries a failed build; in highlevel
 * mode on_assign/on_revoke create and drop the partition. The partition table itself is
 * guarded by a mutex only so that standalone_health can walk it from an HTTP thread. */
#include "consumer/standalone.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/sl_err.h"
#include "consumer/flush.h"
#include "consumer/pcons.h"
#include "segment/seg_builder.h"
#include "segment/seg_reader.h"
#include "segment/segname.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SA_RETRY_MS 5000 /* wait between attempts to build a segment whose rows failed */
#define SA_DEFAULT_ROWS 5000000u /* Pinot's default flush rows when no threshold is set */
#define SA_DEFAULT_TIME_MS (6u * 3600u * 1000u)

typedef struct sa_part {
    pcons *p;
    flush_tuner tuner;
    uint64_t retry_at_ms; /* a failed build is retried after this */
    sl_backoff disk_backoff; /* builds that failed on the disk: 1 s doubling to 60 s */
    int64_t durable;      /* highlevel: end offset of the newest published segment */
    int64_t committed;    /* highlevel: newest offset the group accepted */
    int quarantined;      /* files the restart checkpoint moved aside (reported by health) */
} sa_part;

struct standalone {
    standalone_opts o;
    char table_dir[PATH_MAX];
    char group_id[256];
    bool highlevel;
    pcons_table pt;
    cmetrics cm;
    dlq *dead_letter;
    cpool *pool;
    pthread_mutex_t mu; /* guards parts/nparts (health reads them from other threads) */
    sa_part **parts;
    size_t nparts, capparts;
    diskstate *own_disk; /* o.disk when the caller gave none */
};

/* <table_dir>/<name>.seg into buf (PATH_MAX); false when it does not fit. */
static bool sa_seg_path(const standalone *s, const char *name, char *buf)
{
    int n = snprintf(buf, PATH_MAX, "%s/%s.seg", s->table_dir, name);
    return n > 0 && n < PATH_MAX;
}

static uint64_t sa_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- checkpoint: the published files ------------------------------------------------ */

/* Remove temporaries of publishes that a crash interrupted (`<name>.seg.tmp.<rand>`). */
static void sa_clean_temps(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strstr(e->d_name, ".seg.tmp.")) continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (unlink(path) == 0) SL_INFO("standalone", "removed abandoned temp file=%s", path);
    }
    closedir(d);
}

/* One published file of a partition, as its name and its own metadata describe it. */
typedef struct sa_file {
    char name[SEGNAME_MAX]; /* file name without ".seg" */
    int64_t seq;            /* the sequence in the name */
    int64_t start, end;     /* the file's offsets [start, end) (valid when why is empty) */
    uint64_t rows, size;
    char why[512]; /* "" = verified and agrees with its name; else why it is unusable */
} sa_file;

static int sa_file_cmp(const void *a, const void *b)
{
    const sa_file *x = a, *y = b;
    if (x->seq != y->seq) return x->seq < y->seq ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* The published files of partition (by name), sorted by sequence; caller frees. */
static sa_file *sa_list(const standalone *s, int32_t partition, size_t *count)
{
    sa_file *f = NULL;
    size_t n = 0, cap = 0;
    DIR *d = opendir(s->table_dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || len - 4 >= SEGNAME_MAX || strcmp(e->d_name + len - 4, ".seg") != 0)
            continue;
        char name[SEGNAME_MAX];
        memcpy(name, e->d_name, len - 4);
        name[len - 4] = '\0';
        segname sn;
        if (segname_parse(name, &sn) != 0 || strcmp(sn.table, s->o.table->table_name) != 0 ||
            sn.partition != partition)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            f = realloc(f, cap * sizeof *f);
            if (!f) abort();
        }
        memset(&f[n], 0, sizeof f[n]);
        memcpy(f[n].name, name, len - 3);
        f[n].seq = sn.sequence;
        n++;
    }
    if (d) closedir(d);
    if (n) qsort(f, n, sizeof *f, sa_file_cmp);
    *count = n;
    return f;
}

/* Verify f's file (seg_reader_open runs the full structure and CRC check of
 * seg_verify_file, i.e. `sluice segment verify`) and compare its metadata with its name.
 * Fills f's offsets, or f->why. */
static void sa_inspect(const standalone *s, int32_t partition, sa_file *f)
{
    char path[PATH_MAX], msg[256];
    if (!sa_seg_path(s, f->name, path)) {
        snprintf(f->why, sizeof f->why, "path too long");
        return;
    }
    int err = 0;
    seg_reader *r = seg_reader_open(path, &err, msg, sizeof msg);
    if (!r) {
        snprintf(f->why, sizeof f->why, "fails verification (%s): %s", sluice_strerror(err), msg);
        return;
    }
    const char *table = s->o.table->table_name;
    f->start = seg_reader_start_offset(r);
    f->end = seg_reader_end_offset(r);
    f->rows = seg_reader_rows(r);
    f->size = seg_reader_size(r);
    if (strcmp(seg_reader_name(r), f->name) != 0 || strcmp(seg_reader_table(r), table) != 0 ||
        seg_reader_partition(r) != partition || seg_reader_sequence(r) != f->seq)
        snprintf(f->why, sizeof f->why,
                 "misnamed: the file holds segment %.*s (table %.*s, partition %d, sequence "
                 "%" PRId64 ")",
                 SEGNAME_MAX, seg_reader_name(r), SEGNAME_TABLE_MAX, seg_reader_table(r),
                 (int)seg_reader_partition(r), seg_reader_sequence(r));
    else if (f->start < 0 || f->end < f->start)
        snprintf(f->why, sizeof f->why, "offsets [%" PRId64 ", %" PRId64 ") are not a range",
                 f->start, f->end);
    seg_reader_close(r);
}

/* Move <name>.seg into <table_dir>/quarantine/ (never over an earlier file there: a second
 * one gets a ".N" suffix), durably. Returns 0 or SL_EIO, logged either way. */
static int sa_quarantine(const standalone *s, int32_t partition, const char *name,
                         const char *why)
{
    char from[PATH_MAX], qdir[PATH_MAX], to[PATH_MAX], e[256];
    int n = snprintf(qdir, sizeof qdir, "%s/quarantine", s->table_dir);
    if (!sa_seg_path(s, name, from) || n <= 0 || n >= (int)sizeof qdir) goto fail;
    if (mkdir(qdir, 0755) != 0 && errno != EEXIST) goto fail;
    for (int k = 0;; k++) {
        n = k ? snprintf(to, sizeof to, "%s/%s.seg.%d", qdir, name, k)
              : snprintf(to, sizeof to, "%s/%s.seg", qdir, name);
        if (n <= 0 || n >= (int)sizeof to || k == 1000) goto fail;
        if (link(from, to) == 0) break;
        if (errno != EEXIST) goto fail;
    }
    if (unlink(from) != 0) goto fail;
    if (fsutil_fsync_parent_dir(to, e, sizeof e) || fsutil_fsync_parent_dir(from, e, sizeof e))
        SL_WARN("standalone", "fsync after quarantine failed: %s", e);
    SL_ERROR("standalone",
             "segment file quarantined table=%s partition=%d segment=%s moved_to=%s "
             "reason=\"%s\"",
             s->o.table->table_name, (int)partition, name, to, why);
    return 0;
fail:;
    int saved = errno;
    SL_ERROR("standalone", "cannot quarantine segment file=%s err=%s reason=\"%s\"", from,
             strerror(saved), why);
    errno = saved;
    return SL_EIO;
}

/* The restart checkpoint of partition, from the files' own metadata. The files, in sequence
 * order from the oldest, must form a chain: each verified, agreeing with its name (segment
 * name, table, partition, sequence), sequence k+1 starting exactly where k ended. The chain
 * is cut at the first file that breaks it; that file and every later one are quarantined
 * (later ones too: keeping them would publish their offsets twice once consumption goes on
 * from the cut). Sets *next_seq to the sequence after the chain (the oldest file's when no
 * file is usable, 0 when there is none) and, when the chain is not empty, *start to its end
 * offset, learns the autotune ratio from its newest file and returns 1; 0 when the chain is
 * empty; SL_EIO with the reason in err when a file cannot be moved aside. */
static int sa_resume_point(standalone *s, int32_t partition, int64_t *next_seq, int64_t *start,
                           flush_tuner *tuner, int *quarantined, char *err, size_t errlen)
{
    size_t n = 0;
    sa_file *f = sa_list(s, partition, &n);
    const sa_file *last = NULL, *cut = NULL;
    *next_seq = n ? f[0].seq : 0;
    for (size_t i = 0; i < n; i++) {
        if (!cut) {
            sa_inspect(s, partition, &f[i]);
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
            snprintf(f[i].why, sizeof f[i].why, "after the cut at %.*s", SEGNAME_MAX, cut->name);
        }
        if (sa_quarantine(s, partition, f[i].name, f[i].why) != 0) {
            /* left in place it would be served and, if valid, published twice: refuse */
            snprintf(err, errlen, "%s: cannot move %s.seg to quarantine/ (%s)", s->table_dir,
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
                s->o.table->table_name, (int)partition, last->name, *start,
                (size_t)(last - f) + 1, cut ? " cut_at=" : "", cut ? cut->name : "");
    } else if (cut) {
        SL_WARN("standalone",
                "no usable segment table=%s partition=%d: starting sequence %" PRId64
                " from auto.offset.reset",
                s->o.table->table_name, (int)partition, *next_seq);
    }
    free(f);
    return last != NULL;
}

/* ---- segments -------------------------------------------------------------------- */

static pcons_limits sa_limits(const standalone *s, const sa_part *sp)
{
    const tcfg *t = s->o.table;
    pcons_limits lim = {.rows = t->flush_rows, .time_ms = t->flush_time_ms, .end_offset = -1};
    if (t->flush_size_bytes) lim.rows = flush_next_rows(&sp->tuner);
    if (!lim.rows && !lim.time_ms) {
        lim.rows = SA_DEFAULT_ROWS;
        lim.time_ms = SA_DEFAULT_TIME_MS;
    }
    return lim;
}

static void sa_start_segment(standalone *s, sa_part *sp, int64_t seq, int64_t start)
{
    char name[SEGNAME_MAX];
    uint64_t now = sa_now_ms();
    segname_format(name, sizeof name, s->o.table->table_name, pcons_partition(sp->p), seq,
                   (int64_t)now);
    pcons_limits lim = sa_limits(s, sp);
    pcons_start_segment(sp->p, seq, name, start, now, &lim);
}

/* Build and publish sp's FULL segment. Returns 0 or the builder's error. */
static int sa_build(standalone *s, sa_part *sp)
{
    pcons *p = sp->p;
    const schema *sch = s->o.schema;
    char plabel[16], path[PATH_MAX], err[256];
    snprintf(plabel, sizeof plabel, "%d", (int)pcons_partition(p));
    const char *tp[] = {s->o.table->table_name, plabel};
    seg_src src;
    seg_src_col *cols = calloc(sch->nfields ? sch->nfields : 1, sizeof *cols);
    if (!cols) abort();
    mseg_src(pcons_segment(p), &src, cols);
    src.time_column = s->o.table->time_column;
    seg_meta_in meta = {.name = pcons_segment_name(p),
                        .table = s->o.table->table_name,
                        .partition = pcons_partition(p),
                        .sequence = pcons_seq(p),
                        .start_offset = pcons_start_offset(p),
                        .end_offset = pcons_next_offset(p)};
    if (!sa_seg_path(s, meta.name, path)) {
        free(cols);
        SL_ERROR("standalone", "segment path too long dir=%s", s->table_dir);
        return SL_EINVAL;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint32_t crc = 0;
    uint64_t size = 0;
    int rc = seg_build_file(&src, &meta, path, &crc, &size, err, sizeof err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    free(cols);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (rc != 0) {
        metrics_counter_add(metrics_counter_with(s->cm.build_fail, tp), 1);
        if (sl_err_is_deterministic(rc)) /* the rows: retried, but they will fail alike */
            SL_ERROR("standalone", "segment build failed table=%s partition=%d segment=%s "
                                   "err=%s (retrying in %d ms)",
                     meta.table, meta.partition, meta.name, err, SA_RETRY_MS);
        else /* the disk: the rows stay in memory until it is usable again */
            diskstate_fail(s->o.disk, "build", meta.name, rc, err, sa_now_ms());
        return rc;
    }
    diskstate_ok(s->o.disk, "build", sa_now_ms());
    metrics_counter_add(metrics_counter_with(s->cm.builds, tp), 1);
    metrics_histogram_observe(metrics_histogram_with(s->cm.build_seconds, tp), secs);
    flush_learn(&sp->tuner, src.rows, size);
    SL_INFO("standalone", "segment published table=%s partition=%d segment=%s rows=%" PRIu64
                          " start=%" PRId64 " end=%" PRId64 " bytes=%" PRIu64 " crc=%" PRIu32
                          " build_s=%.3f reason=%s",
            meta.table, meta.partition, meta.name, src.rows, meta.start_offset, meta.end_offset,
            size, crc, secs, pcons_end_name(pcons_end_reason(p)));
    return 0;
}

static sa_part *sa_find(standalone *s, const pcons *p)
{
    for (size_t i = 0; i < s->nparts; i++)
        if (s->parts[i]->p == p) return s->parts[i];
    return NULL;
}

/* Build, publish, commit (highlevel) and roll; on the owning worker. A failed build keeps
 * the partition FULL with its rows: rows that cannot be built are retried every SA_RETRY_MS,
 * a full or failing disk with exponential backoff. */
static bool sa_complete(standalone *s, cpool_worker *w, sa_part *sp)
{
    int rc = sa_build(s, sp);
    if (rc != 0) {
        uint64_t now = sa_now_ms();
        sp->retry_at_ms = sl_err_is_deterministic(rc)
                              ? now + SA_RETRY_MS
                              : now + sl_backoff_fail(&sp->disk_backoff, now, 0, 0);
        return false;
    }
    sl_backoff_reset(&sp->disk_backoff);
    int64_t end = pcons_next_offset(sp->p);
    sp->durable = end;
    if (s->highlevel && cpool_commit(w, sp->p, end) == 0) sp->committed = end;
    sa_start_segment(s, sp, pcons_seq(sp->p) + 1, end);
    return true;
}

static cpool_full_action sa_on_full(void *ctx, cpool_worker *w, pcons *p)
{
    standalone *s = ctx;
    pthread_mutex_lock(&s->mu);
    sa_part *sp = sa_find(s, p);
    pthread_mutex_unlock(&s->mu);
    return sp && sa_complete(s, w, sp) ? CPOOL_CONTINUE : CPOOL_HOLD;
}

/* Every tick: retry a failed build (held partitions) or a failed offset commit. */
static void sa_on_tick(void *ctx, cpool_worker *w, pcons *p, bool held)
{
    standalone *s = ctx;
    pthread_mutex_lock(&s->mu);
    sa_part *sp = sa_find(s, p);
    pthread_mutex_unlock(&s->mu);
    if (!sp) return;
    if (s->highlevel && sp->durable > sp->committed && cpool_commit(w, p, sp->durable) == 0)
        sp->committed = sp->durable;
    if (!held || pcons_get_state(p) != PCONS_FULL || sa_now_ms() < sp->retry_at_ms) return;
    if (sa_complete(s, w, sp)) cpool_seek_resume(w, p, pcons_next_offset(p));
}

/* ---- partitions --------------------------------------------------------------------- */

/* New partition starting after its checkpoint, or at committed (highlevel, when later),
 * or where auto.offset.reset says. NULL with the reason in err when the start cannot be
 * resolved now. */
static sa_part *sa_part_new(standalone *s, int32_t partition, int64_t committed, char *err,
                            size_t errlen)
{
    sa_part *sp = calloc(1, sizeof *sp);
    if (!sp) abort();
    sp->tuner.target_bytes = s->o.table->flush_size_bytes;
    int64_t seq = 0, start = -1;
    int resumed = sa_resume_point(s, partition, &seq, &start, &sp->tuner, &sp->quarantined, err,
                                  errlen);
    if (resumed < 0) {
        free(sp);
        return NULL;
    }
    if (committed > start) start = committed;
    /* the group's own position: when the local files resume beyond it (a commit that failed
     * in a rebalance), the next tick commits the durable position */
    sp->durable = start;
    sp->committed = committed;
    if (!resumed && committed < 0) {
        int64_t low, high;
        if (cpool_query_watermarks(s->pool, s->o.table->topic, partition, &low, &high) != 0) {
            snprintf(err, errlen, "cannot read offsets of %s partition %d at %s",
                     s->o.table->topic, (int)partition, s->o.table->broker_list);
            free(sp);
            return NULL;
        }
        start = s->o.table->offset_reset == TCFG_RESET_LARGEST ? high : low;
    }
    sp->p = pcons_new(&s->pt, partition);
    sa_start_segment(s, sp, seq, start);
    pthread_mutex_lock(&s->mu);
    if (s->nparts == s->capparts) {
        s->capparts = s->capparts ? s->capparts * 2 : 16;
        s->parts = realloc(s->parts, s->capparts * sizeof *s->parts);
        if (!s->parts) abort();
    }
    s->parts[s->nparts++] = sp;
    pthread_mutex_unlock(&s->mu);
    return sp;
}

static void sa_part_free(standalone *s, sa_part *sp)
{
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->nparts; i++) {
        if (s->parts[i] == sp) {
            s->parts[i] = s->parts[--s->nparts];
            break;
        }
    }
    pthread_mutex_unlock(&s->mu);
    pcons_free(sp->p);
    free(sp);
}

static pcons *sa_on_assign(void *ctx, cpool_worker *w, const char *topic, int32_t partition,
                           int64_t committed)
{
    (void)w;
    (void)topic;
    standalone *s = ctx;
    char err[PATH_MAX + 256];
    sa_part *sp = sa_part_new(s, partition, committed, err, sizeof err);
    if (!sp) SL_ERROR("standalone", "partition=%d not consumed: %s", (int)partition, err);
    return sp ? sp->p : NULL;
}

static void sa_on_revoke(void *ctx, cpool_worker *w, pcons *p)
{
    standalone *s = ctx;
    pthread_mutex_lock(&s->mu);
    sa_part *sp = sa_find(s, p);
    pthread_mutex_unlock(&s->mu);
    if (!sp) return;
    /* last chance to hand the durable position to the partition's next owner */
    if (sp->durable > sp->committed) cpool_commit(w, p, sp->durable);
    sa_part_free(s, sp);
}

/* ---- public ------------------------------------------------------------------------ */

static int sa_mkdirs(const char *path, char *err, size_t errlen)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *q = tmp + 1; *q; q++) {
        if (*q != '/') continue;
        *q = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST) goto fail;
        *q = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST) goto fail;
    return 0;
fail:
    snprintf(err, errlen, "data.dir: cannot create %s: %s", tmp, strerror(errno));
    return SL_EIO;
}

standalone *standalone_start(const standalone_opts *o, char *err, size_t errlen)
{
    standalone *s = calloc(1, sizeof *s);
    if (!s) abort();
    s->o = *o;
    if (!s->o.disk) s->o.disk = s->own_disk = diskstate_new(NULL);
    const tcfg *t = o->table;
    pthread_mutex_init(&s->mu, NULL);
    snprintf(s->table_dir, sizeof s->table_dir, "%s/%s", o->data_dir, t->table_name);
    if (sa_mkdirs(s->table_dir, err, errlen) != 0) goto fail;
    sa_clean_temps(s->table_dir);
    if (cmetrics_register(&s->cm, o->metrics) != 0) {
        snprintf(err, errlen, "consumer metrics already registered");
        goto fail;
    }
    if (o->dead_letter_path && !(s->dead_letter = dlq_open(o->dead_letter_path, err, errlen)))
        goto fail;
    s->pt = (pcons_table){.table = t->table_name,
                          .schema = o->schema,
                          .no_dictionary = t->no_dictionary,
                          .time_column = t->time_column,
                          .max_message_bytes = o->max_message_bytes,
                          .dead_letter = s->dead_letter,
                          .metrics = &s->cm};
    /* librdkafka properties: the table's stream consumer props, then the sidecar's kafka.* */
    size_t nprops = t->nprops + o->nprops;
    cpool_prop *props = calloc(nprops ? nprops : 1, sizeof *props);
    if (!props) abort();
    size_t k = 0;
    const char *group = NULL;
    for (uint32_t i = 0; i < t->nprops; i++) {
        if (strcmp(t->props[i].key, "group.id") == 0) {
            group = t->props[i].value;
            continue;
        }
        props[k++] = (cpool_prop){t->props[i].key, t->props[i].value};
    }
    for (size_t i = 0; i < o->nprops; i++) props[k++] = o->props[i];
    s->highlevel = t->consumer_type == TCFG_CONSUMER_HIGHLEVEL;
    if (s->highlevel) snprintf(s->group_id, sizeof s->group_id, "%s", group ? group : t->table_name);
    cpool_opts po = {.workers = o->workers,
                     .bootstrap = t->broker_list,
                     .props = props,
                     .nprops = k,
                     .fail_on_data_loss = o->fail_on_data_loss,
                     .group_id = s->highlevel ? s->group_id : NULL,
                     .topic = t->topic};
    cpool_handler h = {.ctx = s,
                       .on_full = sa_on_full,
                       .on_assign = sa_on_assign,
                       .on_revoke = sa_on_revoke,
                       .on_tick = sa_on_tick};
    s->pool = cpool_new(&po, &h, err, errlen);
    free(props); /* cpool_new copied the librdkafka settings into its handles */
    if (!s->pool) goto fail;
    if (s->highlevel) {
        SL_INFO("standalone", "joined consumer group group=%s topic=%s", s->group_id, t->topic);
        return s;
    }
    int count = 0;
    int rc = cpool_partition_count(s->pool, t->topic, &count);
    if (rc != 0) {
        snprintf(err, errlen, "stream.kafka.topic.name: topic %s %s at %s", t->topic,
                 rc == SL_ENOENT ? "does not exist" : "metadata unavailable", t->broker_list);
        goto fail;
    }
    size_t n = o->partitions ? o->npartitions : (size_t)count;
    for (size_t i = 0; i < n; i++) {
        int32_t part = o->partitions ? o->partitions[i] : (int32_t)i;
        if (part < 0 || part >= count) {
            snprintf(err, errlen, "partitions: topic %s has no partition %d (it has %d)",
                     t->topic, (int)part, count);
            goto fail;
        }
        sa_part *sp = sa_part_new(s, part, -1, err, errlen);
        if (!sp) goto fail;
        if (cpool_add(s->pool, t->topic, sp->p) != 0) {
            snprintf(err, errlen, "cannot assign %s partition %d", t->topic, (int)part);
            goto fail;
        }
    }
    SL_INFO("standalone", "consuming table=%s topic=%s partitions=%zu workers=%d", t->table_name,
            t->topic, n, o->workers);
    return s;
fail:
    standalone_stop(s);
    return NULL;
}

int standalone_health(standalone *s, jsonw *w)
{
    int errors = 0;
    jsonw_arr_begin(w);
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->nparts; i++) {
        pcons *p = s->parts[i]->p;
        pcons_stats *st = pcons_get_stats(p);
        pcons_state state = pcons_get_state(p);
        errors += state == PCONS_ERROR;
        jsonw_obj_begin(w);
        jsonw_key(w, "partition");
        jsonw_i64(w, pcons_partition(p));
        jsonw_key(w, "state");
        jsonw_cstr(w, pcons_state_name(state));
        jsonw_key(w, "nextOffset");
        jsonw_i64(w, atomic_load_explicit(&st->next_offset, memory_order_relaxed));
        jsonw_key(w, "highWatermark");
        jsonw_i64(w, atomic_load_explicit(&st->high_watermark, memory_order_relaxed));
        jsonw_key(w, "consumingRows");
        jsonw_u64(w, atomic_load_explicit(&st->segment_rows, memory_order_relaxed));
        jsonw_key(w, "quarantinedFiles");
        jsonw_i64(w, s->parts[i]->quarantined);
        jsonw_obj_end(w);
    }
    pthread_mutex_unlock(&s->mu);
    jsonw_arr_end(w);
    return errors;
}

int standalone_segment_path(const standalone *s, const char *name, char *buf, size_t cap)
{
    segname sn;
    if (segname_parse(name, &sn) != 0 || strcmp(sn.table, s->o.table->table_name) != 0)
        return SL_EINVAL;
    char path[PATH_MAX];
    if (!sa_seg_path(s, name, path) || strlen(path) >= cap) return SL_EINVAL;
    memcpy(buf, path, strlen(path) + 1);
    return 0;
}

void standalone_stop(standalone *s)
{
    if (!s) return;
    cpool_free(s->pool); /* joins the workers; highlevel revokes through on_revoke */
    while (s->nparts) sa_part_free(s, s->parts[s->nparts - 1]);
    free(s->parts);
    dlq_close(s->dead_letter);
    diskstate_free(s->own_disk);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
