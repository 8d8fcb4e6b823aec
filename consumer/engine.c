/* The sidecar engine (see engine.h for the contract).
 *
 * The pools call the engine's handlers with the table as context; the engine finds the
 * partition of a pcons (a scan under mu: once per full segment or tick, never per message)
 * and passes it to the policy. Partitions are freed only by engine_free and after a group's
 * on_revoke, so a policy may keep pointers to them (its completion queue does). */
#include "consumer/engine.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/sl_err.h"
#include "consumer/cmetrics.h"
#include "consumer/dlq.h"
#include "consumer/mseg.h"
#include "segment/seg_reader.h"
#include "segment/segname.h"
#include "common/xalloc.h"
#include "common/clock.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct engine_table {
    engine *e;
    const schema *schema;
    const tcfg *cfg;
    bool owned; /* schema and cfg are the table's: freed with it */
    char name[SL_IDENT_MAX + 1]; /* the table's key (tcfg_key): <raw>_OFFLINE for OFFLINE */
    char dir[PATH_MAX];
    char group_id[256];
    pcons_table pt;
    cpool *pool;
};

struct engine_part {
    engine_table *t;
    int32_t partition;
    pcons *p;
    void *ctx; /* the policy's area, allocated with the partition */
};

struct engine {
    engine_opts o;
    engine_policy pol;
    cmetrics cm;
    dlq *dead_letter;
    diskstate *disk; /* o.disk or own_disk */
    diskstate *own_disk;
    pthread_mutex_t mu; /* guards tables and parts */
    engine_table **tables;
    size_t ntables;
    engine_part **parts;
    size_t nparts, capparts;
    /* the scrub thread */
    pthread_t scrubber;
    bool scrubbing;      /* the thread runs */
    pthread_mutex_t smu; /* guards stopping; scv wakes the scrubber to stop */
    pthread_cond_t scv;
    bool stopping;
    metrics_family *m_scrubbed, *m_corrupt;
};

/* ---- the pools' handlers (workers) ----------------------------------------------------- */

static cpool_full_action engine__on_full(void *ctx, cpool_worker *w, pcons *p)
{
    engine_table *t = ctx;
    engine_part *ep = pcons_owner(p); /* engine_part_add set it */
    return ep ? t->e->pol.on_full(t->e->pol.ctx, w, ep) : CPOOL_HOLD;
}

static void engine__on_tick(void *ctx, cpool_worker *w, pcons *p, bool held)
{
    engine_table *t = ctx;
    if (!t->e->pol.on_tick) return;
    engine_part *ep = pcons_owner(p); /* engine_part_add set it */
    if (ep) t->e->pol.on_tick(t->e->pol.ctx, w, ep, held);
}

static pcons *engine__on_assign(void *ctx, cpool_worker *w, const char *topic, int32_t partition,
                                int64_t committed)
{
    (void)topic;
    engine_table *t = ctx;
    engine_part *ep = t->e->pol.on_assign(t->e->pol.ctx, w, t, partition, committed);
    return ep ? ep->p : NULL;
}

static void engine__part_free(engine *e, engine_part *ep)
{
    pthread_mutex_lock(&e->mu);
    for (size_t i = 0; i < e->nparts; i++) {
        if (e->parts[i] == ep) {
            e->parts[i] = e->parts[--e->nparts];
            break;
        }
    }
    pthread_mutex_unlock(&e->mu);
    pcons_free(ep->p);
    free(ep->ctx);
    free(ep);
}

static void engine__on_revoke(void *ctx, cpool_worker *w, pcons *p)
{
    engine_table *t = ctx;
    engine_part *ep = pcons_owner(p); /* engine_part_add set it */
    if (!ep) return;
    if (t->e->pol.on_revoke) t->e->pol.on_revoke(t->e->pol.ctx, w, ep);
    engine__part_free(t->e, ep);
}

/* ---- tables ------------------------------------------------------------------------ */

/* Remove what an earlier process left half-done: a publish interrupted by a crash
 * (`<name>.seg.tmp.<rand>`), a local build or a download not yet published (`.seg.build`,
 * `.seg.download.<n>`, and their temporaries). Only `<name>.seg` is ever published. */
static void engine__clean_temps(const engine *e, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strstr(de->d_name, ".seg.")) continue;
        char path[PATH_MAX];
        int n = snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (n <= 0 || n >= (int)sizeof path) continue;
        if (unlink(path) == 0) SL_INFO(e->o.log_tag, "removed abandoned temp file=%s", path);
    }
    closedir(d);
}

static void engine__table_free(engine_table *t)
{
    cpool_free(t->pool);
    if (t->owned) {
        tcfg_free((tcfg *)t->cfg); /* owned: handed over as the engine's to free */
        schema_free((schema *)t->schema);
    }
    free(t);
}

engine_table *engine_table_add(engine *e, const schema *s, const tcfg *cfg, bool owned,
                               const char *group_id, char *err, size_t errlen)
{
    engine_table *t = sl_xcalloc(1, sizeof *t);
    t->e = e;
    t->schema = s;
    t->cfg = cfg;
    t->owned = owned;
    if (tcfg_key(cfg, t->name, sizeof t->name)) {
        snprintf(err, errlen, "tableName %s: too long with its _OFFLINE", cfg->table_name);
        goto fail;
    }
    int n = snprintf(t->dir, sizeof t->dir, "%s/%s", e->o.data_dir, t->name);
    if (n <= 0 || n >= (int)sizeof t->dir) {
        snprintf(err, errlen, "data.dir: path too long for table %s", t->name);
        goto fail;
    }
    char why[PATH_MAX + 64];
    if (fsutil_mkdirs(t->dir, why, sizeof why) != 0) {
        sl_fail(err, errlen, SL_EIO, "data.dir: %s", why);
        goto fail;
    }
    engine__clean_temps(e, t->dir);
    if (group_id) snprintf(t->group_id, sizeof t->group_id, "%s", group_id);
    t->pt = (pcons_table){.table = cfg->table_name,
                          .schema = s,
                          .no_dictionary = cfg->no_dictionary,
                          .time_column = cfg->time_column,
                          .cfg = cfg,
                          .max_message_bytes = e->o.max_message_bytes,
                          .dead_letter = e->dead_letter,
                          .metrics = &e->cm,
                          .perturb_row = e->o.perturb_row};
    if (cfg->type == TCFG_OFFLINE) goto added; /* pushed segments only: nothing consumes */
    /* librdkafka properties: the table's stream consumer props (group.id is the pool's own
     * option), then the sidecar's kafka.* */
    size_t nprops = cfg->nprops + e->o.nprops;
    cpool_prop *props = sl_xcalloc(nprops ? nprops : 1, sizeof *props);
    size_t k = 0;
    for (uint32_t i = 0; i < cfg->nprops; i++)
        if (strcmp(cfg->props[i].key, "group.id") != 0)
            props[k++] = (cpool_prop){cfg->props[i].key, cfg->props[i].value};
    for (size_t i = 0; i < e->o.nprops; i++)
        props[k++] = e->o.props[i];
    cpool_opts po = {.workers = e->o.workers,
                     .bootstrap = cfg->broker_list,
                     .props = props,
                     .nprops = k,
                     .fail_on_data_loss = e->o.fail_on_data_loss,
                     .group_id = group_id ? t->group_id : NULL,
                     .topic = cfg->topic};
    cpool_handler h = {.ctx = t,
                       .on_full = engine__on_full,
                       .on_tick = engine__on_tick,
                       .on_assign = group_id ? engine__on_assign : NULL,
                       .on_revoke = group_id ? engine__on_revoke : NULL};
    t->pool = cpool_new(&po, &h, err, errlen);
    free(props); /* cpool_new copied the settings into its handles */
    if (!t->pool) goto fail;
added:
    pthread_mutex_lock(&e->mu);
    e->tables = sl_xrealloc(e->tables, (e->ntables + 1) * sizeof *e->tables);
    e->tables[e->ntables++] = t;
    pthread_mutex_unlock(&e->mu);
    return t;
fail:
    engine__table_free(t);
    return NULL;
}

engine_table *engine_table_find(engine *e, const char *name)
{
    engine_table *t = NULL;
    pthread_mutex_lock(&e->mu);
    for (size_t i = 0; i < e->ntables && !t; i++)
        if (strcmp(e->tables[i]->name, name) == 0) t = e->tables[i];
    pthread_mutex_unlock(&e->mu);
    return t;
}

engine *engine_table_engine(const engine_table *t)
{
    return t->e;
}
const char *engine_table_name(const engine_table *t)
{
    return t->name;
}
const char *engine_table_dir(const engine_table *t)
{
    return t->dir;
}
const tcfg *engine_table_cfg(const engine_table *t)
{
    return t->cfg;
}
const schema *engine_table_schema(const engine_table *t)
{
    return t->schema;
}

int engine_table_partitions(engine_table *t, int *count)
{
    return cpool_partition_count(t->pool, t->cfg->topic, count);
}

int engine_table_watermarks(engine_table *t, int32_t partition, int64_t *low, int64_t *high)
{
    return cpool_query_watermarks(t->pool, t->cfg->topic, partition, low, high);
}

int engine_table_offsets(engine_table *t, const int32_t *partitions, size_t n, bool latest,
                         int64_t *out)
{
    return cpool_query_offsets(t->pool, t->cfg->topic, partitions, n, latest, out);
}

/* ---- partitions ------------------------------------------------------------------------ */

engine_part *engine_part_add(engine *e, engine_table *t, int32_t partition, size_t ctx_size)
{
    engine_part *ep = sl_xcalloc(1, sizeof *ep);
    ep->ctx = sl_xcalloc(1, ctx_size);
    ep->t = t;
    ep->partition = partition;
    ep->p = pcons_new(&t->pt, partition);
    pcons_set_owner(ep->p, ep);
    pthread_mutex_lock(&e->mu);
    if (e->nparts == e->capparts) {
        e->capparts = e->capparts ? e->capparts * 2 : 16;
        e->parts = sl_xrealloc(e->parts, e->capparts * sizeof *e->parts);
    }
    e->parts[e->nparts++] = ep;
    pthread_mutex_unlock(&e->mu);
    return ep;
}

int engine_part_consume(engine_part *ep)
{
    return cpool_add(ep->t->pool, ep->t->cfg->topic, ep->p);
}

engine_part *engine_part_find(engine *e, const engine_table *t, int32_t partition)
{
    engine_part *ep = NULL;
    pthread_mutex_lock(&e->mu);
    for (size_t i = 0; i < e->nparts && !ep; i++)
        if (e->parts[i]->t == t && e->parts[i]->partition == partition) ep = e->parts[i];
    pthread_mutex_unlock(&e->mu);
    return ep;
}

int engine_part_call(engine_part *ep, void (*fn)(void *arg, cpool_worker *w), void *arg)
{
    return cpool_call(ep->t->pool, ep->p, fn, arg);
}

engine_table *engine_part_table(const engine_part *ep)
{
    return ep->t;
}
int32_t engine_part_partition(const engine_part *ep)
{
    return ep->partition;
}
pcons *engine_part_pcons(const engine_part *ep)
{
    return ep->p;
}
void *engine_part_ctx(const engine_part *ep)
{
    return ep->ctx;
}

/* ---- files ------------------------------------------------------------------------- */

bool engine_seg_path(const engine_table *t, const char *segment, const char *suffix, char *buf)
{
    int n = snprintf(buf, PATH_MAX, "%s/%s.seg%s", t->dir, segment, suffix);
    return n > 0 && n < PATH_MAX;
}

/* Build rows m of ep's segment `meta` into `<table>/<segment>.seg<suffix>` (engine_build). */
static int engine__build(engine *e, engine_part *ep, const mseg *m, seg_meta_in meta,
                         const char *suffix, engine_built *out)
{
    const char *table = ep->t->cfg->table_name;
    char plabel[16], err[256];
    snprintf(plabel, sizeof plabel, "%d", (int)ep->partition);
    const char *tp[] = {table, plabel};
    meta.table = table;
    meta.partition = ep->partition;
    memset(out, 0, sizeof *out);
    if (!engine_seg_path(ep->t, meta.name, suffix, out->path)) {
        SL_ERROR(e->o.log_tag, "segment path too long dir=%s segment=%s", ep->t->dir, meta.name);
        return SL_EINVAL;
    }
    out->rows = mseg_rows(m);
    double t0 = sl_clock_mono_s();
    int rc = mseg_build_file(m, ep->t->cfg->time_column, &meta, out->path, &out->crc, &out->size,
                             err, sizeof err);
    sl_clock_sleep_ms((int64_t)e->o.build_delay_ms); /* test knob */
    out->seconds = sl_clock_mono_s() - t0;
    if (rc != 0) {
        metrics_counter_add(metrics_counter_with(e->cm.build_fail, tp), 1);
        if (sl_err_is_deterministic(rc)) /* the rows: a retry fails alike */
            SL_ERROR(e->o.log_tag, "segment build failed table=%s partition=%d segment=%s err=%s",
                     table, (int)ep->partition, meta.name, err);
        else /* the disk: the rows stay in memory until it is usable again */
            diskstate_fail(e->disk, "build", meta.name, rc, err, sl_clock_wall_ms());
        return rc;
    }
    diskstate_ok(e->disk, "build", sl_clock_wall_ms());
    metrics_counter_add(metrics_counter_with(e->cm.builds, tp), 1);
    metrics_histogram_observe(metrics_histogram_with(e->cm.build_seconds, tp), out->seconds);
    return 0;
}

int engine_build(engine *e, engine_part *ep, const char *suffix, engine_built *out)
{
    pcons *p = ep->p;
    seg_meta_in meta = {.name = pcons_segment_name(p),
                        .sequence = pcons_seq(p),
                        .start_offset = pcons_start_offset(p),
                        .end_offset = pcons_next_offset(p)};
    return engine__build(e, ep, pcons_segment(p), meta, suffix, out);
}

int engine_build_frozen(engine *e, engine_part *ep, const pcons_frozen *f, const char *suffix,
                        engine_built *out)
{
    seg_meta_in meta = {
        .name = f->name, .sequence = f->seq, .start_offset = f->start, .end_offset = f->end};
    return engine__build(e, ep, f->seg, meta, suffix, out);
}

int engine_publish(engine_table *t, const char *segment, const char *from)
{
    char to[PATH_MAX], err[256];
    if (!engine_seg_path(t, segment, "", to)) return SL_EINVAL;
    if (rename(from, to) != 0) {
        int e = errno;
        SL_ERROR(t->e->o.log_tag, "publish failed file=%s err=%s", to, strerror(e));
        int rc = fsutil_errno_err(e);
        return rc == SL_ENOENT ? SL_EIO : rc; /* the directory is gone: an I/O error here */
    }
    return fsutil_fsync_parent_dir(to, err, sizeof err);
}

int engine_quarantine(const engine_table *t, const char *segment, const char *why)
{
    const char *tag = t->e->o.log_tag;
    char from[PATH_MAX] = "", qdir[PATH_MAX], to[PATH_MAX], name[SL_SEGNAME_MAX + 8], e[256];
    int n = snprintf(qdir, sizeof qdir, "%s/quarantine", t->dir);
    snprintf(name, sizeof name, "%s.seg", segment);
    if (!engine_seg_path(t, segment, "", from) || n <= 0 || n >= (int)sizeof qdir) {
        errno = ENAMETOOLONG;
        goto fail;
    }
    if (fsutil_move_aside(from, qdir, name, to) != 0) goto fail;
    if (fsutil_fsync_parent_dir(to, e, sizeof e) || fsutil_fsync_parent_dir(from, e, sizeof e))
        SL_WARN(tag, "fsync after quarantine failed: %s", e);
    segname sn;
    int partition = segname_parse(segment, &sn) == 0 ? (int)sn.partition : -1;
    SL_ERROR(tag,
             "segment file quarantined table=%s partition=%d segment=%s moved_to=%s "
             "reason=\"%s\"",
             t->cfg->table_name, partition, segment, to, why);
    return 0;
fail:;
    int saved = errno;
    SL_ERROR(tag, "cannot quarantine segment file=%s err=%s reason=\"%s\"", from, strerror(saved),
             why);
    errno = saved;
    return SL_EIO;
}

int engine_segment_path(engine *e, const char *table, const char *segment, char *buf, size_t cap)
{
    engine_table *t = engine_table_find(e, table);
    if (!t) return SL_ENOENT;
    segname sn;
    if (!segname_valid_any(segment) ||
        (segname_parse(segment, &sn) == 0 && strcmp(sn.table, table) != 0))
        return SL_EINVAL;
    char path[PATH_MAX];
    if (!engine_seg_path(t, segment, "", path) || strlen(path) >= cap) return SL_EINVAL;
    memcpy(buf, path, strlen(path) + 1);
    return 0;
}

static int engine__name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of t's published files (valid segment names whose file is <name>.seg: the
 * table's consumed segments and its pushed ones), sorted; caller frees each and the array. */
static char **engine__published(const engine_table *t, size_t *count)
{
    const char *table = t->name;
    char **names = NULL;
    size_t n = 0, cap = 0;
    DIR *d = opendir(t->dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        char name[SL_SEGNAME_MAX];
        segname sn;
        if (!segname_any_of_file(de->d_name, name) ||
            (segname_parse(name, &sn) == 0 && strcmp(sn.table, table) != 0))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            names = sl_xrealloc(names, cap * sizeof *names);
        }
        names[n++] = sl_xstrdup(name);
    }
    if (d) closedir(d);
    if (n) qsort(names, n, sizeof *names, engine__name_cmp);
    *count = n;
    return names;
}

int engine_list_files(engine *e, const char *table, bool verify, jsonw *w)
{
    engine_table *t = engine_table_find(e, table);
    if (!t) return SL_ENOENT;
    size_t n = 0;
    char **names = engine__published(t, &n);
    jsonw_arr_begin(w);
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX], msg[256];
        struct stat st;
        if (!engine_seg_path(t, names[i], "", path) || stat(path, &st) != 0) {
            free(names[i]);
            continue; /* gone since the listing */
        }
        jsonw_obj_begin(w);
        jsonw_key(w, "segment");
        jsonw_cstr(w, names[i]);
        jsonw_key(w, "size");
        jsonw_u64(w, (uint64_t)st.st_size);
        if (verify) {
            int err = 0;
            seg_reader *r = seg_reader_open(path, &err, msg, sizeof msg);
            jsonw_key(w, "crc");
            if (r) {
                jsonw_u64(w, seg_reader_crc(r));
                seg_reader_close(r);
            } else {
                jsonw_null(w);
                jsonw_key(w, "error");
                jsonw_cstr(w, msg);
            }
        }
        jsonw_obj_end(w);
        free(names[i]);
    }
    jsonw_arr_end(w);
    free(names);
    return 0;
}

/* ---- health, life ------------------------------------------------------------------ */

int engine_health(engine *e, jsonw *w)
{
    int errors = 0;
    jsonw_arr_begin(w);
    pthread_mutex_lock(&e->mu);
    for (size_t i = 0; i < e->nparts; i++) {
        const engine_part *ep = e->parts[i];
        pcons_stats *st = pcons_get_stats(ep->p);
        bool error = false;
        const char *state = e->pol.state(e->pol.ctx, ep, &error);
        errors += error;
        jsonw_obj_begin(w);
        jsonw_key(w, "table");
        jsonw_cstr(w, ep->t->cfg->table_name);
        jsonw_key(w, "partition");
        jsonw_i64(w, ep->partition);
        jsonw_key(w, "state");
        jsonw_cstr(w, state);
        jsonw_key(w, "nextOffset");
        jsonw_i64(w, atomic_load_explicit(&st->next_offset, memory_order_relaxed));
        jsonw_key(w, "highWatermark");
        jsonw_i64(w, atomic_load_explicit(&st->high_watermark, memory_order_relaxed));
        jsonw_key(w, "consumingRows");
        jsonw_u64(w, atomic_load_explicit(&st->segment_rows, memory_order_relaxed));
        if (e->pol.health_fields) e->pol.health_fields(e->pol.ctx, ep, w);
        jsonw_obj_end(w);
    }
    pthread_mutex_unlock(&e->mu);
    jsonw_arr_end(w);
    return errors;
}

diskstate *engine_disk(engine *e)
{
    return e->disk;
}

/* ---- the scrub --------------------------------------------------------------------- */

/* Wait up to ms (0: not at all) unless stopping; true when the engine stops. */
static bool engine__scrub_wait(engine *e, uint64_t ms)
{
    pthread_mutex_lock(&e->smu);
    if (ms && !e->stopping) {
        struct timespec ts = sl_clock_ts((int64_t)(sl_clock_wall_ms() + ms));
        while (!e->stopping && pthread_cond_timedwait(&e->scv, &e->smu, &ts) == 0) {
        }
    }
    bool stop = e->stopping;
    pthread_mutex_unlock(&e->smu);
    return stop;
}

/* Verify one published file; a bad one is counted, quarantined and handed to the policy.
 * Returns the bytes read. */
static uint64_t engine__scrub_file(engine *e, engine_table *t, const char *segment)
{
    char path[PATH_MAX], msg[256];
    struct stat st;
    if (!engine_seg_path(t, segment, "", path) || stat(path, &st) != 0) return 0; /* gone */
    const char *tl[] = {t->cfg->table_name};
    int err = 0;
    seg_reader *r = seg_reader_open(path, &err, msg, sizeof msg);
    metrics_counter_add(metrics_counter_with(e->m_scrubbed, tl), 1);
    if (r) {
        seg_reader_close(r);
        return (uint64_t)st.st_size;
    }
    if (err == SL_ENOENT) return 0; /* replaced or removed meanwhile */
    metrics_counter_add(metrics_counter_with(e->m_corrupt, tl), 1);
    char why[320];
    snprintf(why, sizeof why, "scrub: fails verification (%s): %s", sluice_strerror(err), msg);
    if (engine_quarantine(t, segment, why) == 0 && e->pol.on_corrupt)
        e->pol.on_corrupt(e->pol.ctx, t, segment);
    return (uint64_t)st.st_size;
}

static void *engine__scrub_main(void *arg)
{
    engine *e = arg;
    while (!engine__scrub_wait(e, e->o.scrub_interval_ms)) {
        pthread_mutex_lock(&e->mu);
        size_t ntables = e->ntables; /* tables are only added: the first n stay valid */
        pthread_mutex_unlock(&e->mu);
        uint64_t files = 0, bytes = 0;
        for (size_t i = 0; i < ntables; i++) {
            pthread_mutex_lock(&e->mu);
            engine_table *t = e->tables[i];
            pthread_mutex_unlock(&e->mu);
            size_t n = 0;
            char **names = engine__published(t, &n);
            bool stop = false;
            for (size_t k = 0; k < n; k++) {
                if (!stop) {
                    uint64_t b = engine__scrub_file(e, t, names[k]);
                    bytes += b;
                    files++;
                    /* the I/O budget: a file of b bytes is followed by b / rate seconds */
                    uint64_t pause = e->o.scrub_rate ? b * 1000u / e->o.scrub_rate : 0;
                    stop = engine__scrub_wait(e, pause);
                }
                free(names[k]);
            }
            free(names);
            if (stop) return NULL;
        }
        SL_DEBUG(e->o.log_tag, "scrub pass files=%" PRIu64 " bytes=%" PRIu64, files, bytes);
    }
    return NULL;
}

engine *engine_new(const engine_opts *o, const engine_policy *pol, char *err, size_t errlen)
{
    engine *e = sl_xcalloc(1, sizeof *e);
    e->o = *o;
    if (!e->o.log_tag) e->o.log_tag = "engine";
    e->pol = *pol;
    pthread_mutex_init(&e->mu, NULL);
    pthread_mutex_init(&e->smu, NULL);
    pthread_cond_init(&e->scv, NULL);
    e->disk = o->disk ? o->disk : (e->own_disk = diskstate_new(NULL));
    if (cmetrics_register(&e->cm, o->metrics) != 0) {
        snprintf(err, errlen, "consumer metrics already registered");
        goto fail;
    }
    if (o->dead_letter_path && !(e->dead_letter = dlq_open(o->dead_letter_path, err, errlen)))
        goto fail;
    if (o->scrub_interval_ms) {
        static const char *const tl[] = {"table"};
        e->m_scrubbed =
            metrics_family_new(o->metrics, METRICS_COUNTER, "sluice_segments_scrubbed_total",
                               "Published segment files re-verified by the scrub", tl, 1);
        e->m_corrupt =
            metrics_family_new(o->metrics, METRICS_COUNTER, "sluice_segments_corrupt_total",
                               "Published segment files the scrub found corrupt "
                               "(quarantined, then healed where a copy exists)",
                               tl, 1);
        int prc = pthread_create(&e->scrubber, NULL, engine__scrub_main, e);
        if (prc) {
            snprintf(err, errlen, "cannot start the scrub thread: %s", strerror(prc));
            goto fail;
        }
        e->scrubbing = true;
    }
    return e;
fail:
    engine_free(e);
    return NULL;
}

void engine_free(engine *e)
{
    if (!e) return;
    if (e->scrubbing) {
        pthread_mutex_lock(&e->smu);
        e->stopping = true;
        pthread_cond_broadcast(&e->scv);
        pthread_mutex_unlock(&e->smu);
        pthread_join(e->scrubber, NULL);
    }
    /* the workers first (a group revokes its partitions through on_revoke meanwhile), with
     * mu free: the handlers take it */
    for (size_t i = 0; i < e->ntables; i++) {
        cpool_free(e->tables[i]->pool);
        e->tables[i]->pool = NULL;
    }
    while (e->nparts)
        engine__part_free(e, e->parts[e->nparts - 1]);
    for (size_t i = 0; i < e->ntables; i++)
        engine__table_free(e->tables[i]);
    free(e->parts);
    free(e->tables);
    dlq_close(e->dead_letter);
    diskstate_free(e->own_disk);
    pthread_mutex_destroy(&e->mu);
    pthread_mutex_destroy(&e->smu);
    pthread_cond_destroy(&e->scv);
    free(e);
}
