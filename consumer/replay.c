/* Replay (see replay.h for the contract): the replay policy of the sidecar engine.
 *
 * Everything that touches a partition runs on the consumer-pool worker that owns it: on_full
 * builds and publishes the segment, then starts the next one of the plan or, after the last,
 * holds the partition and marks the part DONE. Segment names and limits come from the plan
 * only, never from the clock, so two replays of one plan build the same bytes. */
#include "consumer/replay.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/sl_err.h"
#include "common/xalloc.h"
#include "consumer/flush.h"
#include "consumer/pcons.h"
#include "segment/segname.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef enum rp_state { RP_RUNNING = 0, RP_DONE, RP_FAILED, RP__COUNT } rp_state;

static const char *const rp_state_names[RP__COUNT] = {"RUNNING", "DONE", "FAILED"};

/* The policy's state of one partition (the engine part's area). */
typedef struct rp_part {
    replay *r;
    engine_part *ep;
    replay_part plan;     /* segs points at rp_part.segs */
    replay_seg *segs;     /* owned copy (names in names[]) */
    char **names;
    size_t next_seg;      /* plan mode: index of the consuming segment */
    flush_tuner tuner;    /* threshold mode with a target size */
    _Atomic int state;    /* rp_state */
} rp_part;

struct replay {
    engine *e;
    engine_table *t;
    metrics_registry *metrics; /* own: a replay is not a server */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    rp_part **parts;
    size_t nparts;
    size_t ended;
    replay_built *built;
    size_t nbuilt, capbuilt;
    char error[512];
};

/* ---- segments ---------------------------------------------------------------------- */

static int64_t rp_first(const rp_part *p) { return p->plan.nsegs ? p->segs[0].start : p->plan.from; }
static int64_t rp_last(const rp_part *p)
{
    return p->plan.nsegs ? p->segs[p->plan.nsegs - 1].end : p->plan.to;
}

/* The rows of a threshold-mode segment: the table's, as a sidecar would cut it. */
static uint64_t rp_rows(const rp_part *p)
{
    const tcfg *t = engine_table_cfg(engine_part_table(p->ep));
    if (t->flush_size_bytes) return flush_next_rows(&p->tuner);
    return t->flush_rows ? t->flush_rows : FLUSH_DEFAULT_ROWS;
}

/* Start the segment that begins at `start` with sequence seq (threshold mode) or the plan's
 * next one. The creation time passed to pcons is 0: no time threshold applies. */
static void rp_start_segment(rp_part *p, int64_t seq, int64_t start)
{
    pcons *pc = engine_part_pcons(p->ep);
    char name[SL_SEGNAME_MAX];
    pcons_limits lim = {.end_offset = p->plan.to};
    if (p->plan.nsegs) {
        const replay_seg *s = &p->segs[p->next_seg];
        snprintf(name, sizeof name, "%s", s->name);
        seq = s->sequence;
        start = s->start;
        lim.end_offset = s->end;
    } else {
        segname_format(name, sizeof name, engine_table_name(engine_part_table(p->ep)),
                       p->plan.partition, seq, p->plan.time_ms);
        lim.rows = rp_rows(p);
    }
    pcons_start_segment(pc, seq, name, start, 0, &lim);
    pcons_tick(pc, 0); /* an empty segment of a plan is FULL at once */
}

static void rp_end(rp_part *p, rp_state st, const char *why)
{
    replay *r = p->r;
    atomic_store(&p->state, st);
    pthread_mutex_lock(&r->mu);
    if (st == RP_FAILED && !r->error[0])
        snprintf(r->error, sizeof r->error, "partition %d: %s", (int)p->plan.partition, why);
    r->ended++;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    SL_INFO("replay", "partition=%d RUNNING -> %s%s%s", (int)p->plan.partition,
            rp_state_names[st], why ? " why=" : "", why ? why : "");
}

static void rp_record(rp_part *p, const engine_built *b)
{
    replay *r = p->r;
    pcons *pc = engine_part_pcons(p->ep);
    pthread_mutex_lock(&r->mu);
    if (r->nbuilt == r->capbuilt) {
        r->capbuilt = r->capbuilt ? 2 * r->capbuilt : 64;
        r->built = sl_xrealloc(r->built, r->capbuilt * sizeof *r->built);
    }
    replay_built *o = &r->built[r->nbuilt++];
    snprintf(o->name, sizeof o->name, "%s", pcons_segment_name(pc));
    o->partition = p->plan.partition;
    o->sequence = pcons_seq(pc);
    o->start = pcons_start_offset(pc);
    o->end = pcons_next_offset(pc);
    o->rows = b->rows;
    o->size = b->size;
    o->crc = b->crc;
    pthread_mutex_unlock(&r->mu);
}

/* Build and publish the full segment, then roll to the next one (building at once the empty
 * segments of a plan, FULL as they start) or end the part. */
static cpool_full_action rp_on_full(void *ctx, cpool_worker *w, engine_part *ep)
{
    replay *r = ctx;
    (void)w;
    rp_part *p = engine_part_ctx(ep);
    pcons *pc = engine_part_pcons(ep);
    while (atomic_load(&p->state) == RP_RUNNING && pcons_get_state(pc) == PCONS_FULL) {
        engine_built b;
        int rc = engine_build(r->e, ep, "", &b);
        if (rc != 0) {
            char why[256];
            snprintf(why, sizeof why, "segment %s: build failed: %s", pcons_segment_name(pc),
                     sluice_strerror(rc));
            rp_end(p, RP_FAILED, why);
            break;
        }
        flush_learn(&p->tuner, b.rows, b.size);
        rp_record(p, &b);
        int64_t end = pcons_next_offset(pc);
        SL_INFO("replay", "segment published table=%s partition=%d segment=%s rows=%" PRIu64
                          " start=%" PRId64 " end=%" PRId64 " bytes=%" PRIu64 " crc=%" PRIu32,
                engine_table_name(engine_part_table(ep)), (int)p->plan.partition,
                pcons_segment_name(pc), b.rows, pcons_start_offset(pc), end, b.size, b.crc);
        bool last = p->plan.nsegs ? p->next_seg + 1 >= p->plan.nsegs : end >= p->plan.to;
        if (last) {
            rp_end(p, RP_DONE, NULL);
            break;
        }
        if (p->plan.nsegs) p->next_seg++;
        rp_start_segment(p, pcons_seq(pc) + 1, end);
    }
    return atomic_load(&p->state) == RP_RUNNING ? CPOOL_CONTINUE : CPOOL_HOLD;
}

static const char *rp_state_of(void *ctx, const engine_part *ep, bool *error)
{
    (void)ctx;
    const rp_part *p = engine_part_ctx(ep);
    int st = atomic_load(&p->state);
    *error = st == RP_FAILED;
    return rp_state_names[st];
}

/* ---- plans ------------------------------------------------------------------------- */

static int rp_check(const replay_part *pp, const char *table, char *err, size_t errlen)
{
    if (pp->nsegs == 0) {
        if (pp->from < 0 || pp->to < pp->from || pp->sequence < 0) {
            snprintf(err, errlen, "partition %d: not a range: [%" PRId64 ", %" PRId64 ")",
                     (int)pp->partition, pp->from, pp->to);
            return SL_EINVAL;
        }
        char name[SL_SEGNAME_MAX];
        if (segname_format(name, sizeof name, table, pp->partition, pp->sequence, pp->time_ms)) {
            snprintf(err, errlen, "partition %d: no segment name for sequence %" PRId64,
                     (int)pp->partition, pp->sequence);
            return SL_EINVAL;
        }
        return 0;
    }
    for (size_t i = 0; i < pp->nsegs; i++) {
        const replay_seg *s = &pp->segs[i];
        segname sn;
        if (!s->name || segname_parse(s->name, &sn) || strcmp(sn.table, table) != 0 ||
            sn.partition != pp->partition || s->start < 0 || s->end < s->start) {
            snprintf(err, errlen, "partition %d: segment %s is not one of it", (int)pp->partition,
                     s->name ? s->name : "(null)");
            return SL_EINVAL;
        }
        if (i && s->start != pp->segs[i - 1].end) {
            snprintf(err, errlen, "partition %d: segment %s starts at %" PRId64
                                  " where the one before ended at %" PRId64,
                     (int)pp->partition, s->name, s->start, pp->segs[i - 1].end);
            return SL_EINVAL;
        }
    }
    return 0;
}

/* ---- public ------------------------------------------------------------------------ */

replay *replay_start(const replay_opts *o, char *err, size_t errlen)
{
    replay *r = sl_xcalloc(1, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cv, &ca);
    pthread_condattr_destroy(&ca);
    r->metrics = metrics_new();
    engine_policy pol = {.ctx = r, .on_full = rp_on_full, .state = rp_state_of};
    engine_opts eo = o->engine;
    eo.log_tag = "replay";
    eo.metrics = r->metrics;
    eo.scrub_interval_ms = 0;
    const tcfg *t = o->table;
    for (size_t i = 0; i < o->nparts; i++)
        for (size_t j = 0; j < i; j++)
            if (o->parts[i].partition == o->parts[j].partition) {
                snprintf(err, errlen, "partition %d is given twice", (int)o->parts[i].partition);
                goto fail;
            }
    for (size_t i = 0; i < o->nparts; i++)
        if (rp_check(&o->parts[i], t->table_name, err, errlen)) goto fail;
    if (!(r->e = engine_new(&eo, &pol, err, errlen))) goto fail;
    if (!(r->t = engine_table_add(r->e, o->schema, t, false, NULL, err, errlen))) goto fail;
    int count = 0;
    int rc = engine_table_partitions(r->t, &count);
    if (rc != 0) {
        snprintf(err, errlen, "stream.kafka.topic.name: topic %s %s at %s", t->topic,
                 rc == SL_ENOENT ? "does not exist" : "metadata unavailable", t->broker_list);
        goto fail;
    }
    r->parts = sl_xcalloc(o->nparts ? o->nparts : 1, sizeof *r->parts);
    for (size_t i = 0; i < o->nparts; i++) {
        const replay_part *pp = &o->parts[i];
        if (pp->partition < 0 || pp->partition >= count) {
            snprintf(err, errlen, "topic %s has no partition %d (it has %d)", t->topic,
                     (int)pp->partition, count);
            goto fail;
        }
        engine_part *ep = engine_part_add(r->e, r->t, pp->partition, sizeof(rp_part));
        rp_part *p = engine_part_ctx(ep);
        r->parts[r->nparts++] = p;
        p->r = r;
        p->ep = ep;
        p->plan = *pp;
        p->tuner.target_bytes = t->flush_size_bytes;
        if (pp->nsegs) {
            p->segs = sl_xcalloc(pp->nsegs, sizeof *p->segs);
            p->names = sl_xcalloc(pp->nsegs, sizeof *p->names);
            for (size_t k = 0; k < pp->nsegs; k++) {
                p->segs[k] = pp->segs[k];
                p->segs[k].name = p->names[k] = sl_xstrdup(pp->segs[k].name);
            }
            p->plan.segs = p->segs;
        }
        if (rp_first(p) == rp_last(p) && !pp->nsegs) { /* nothing to read */
            rp_end(p, RP_DONE, NULL);
            continue;
        }
        rp_start_segment(p, pp->sequence, rp_first(p));
        if (pcons_get_state(engine_part_pcons(ep)) == PCONS_FULL) {
            /* an empty first segment of a plan: built here, before any worker owns it */
            if (rp_on_full(r, NULL, ep) == CPOOL_HOLD) continue;
        }
        if (atomic_load(&p->state) == RP_RUNNING && engine_part_consume(ep) != 0) {
            snprintf(err, errlen, "cannot assign %s partition %d", t->topic, (int)pp->partition);
            goto fail;
        }
    }
    SL_INFO("replay", "replaying table=%s topic=%s partitions=%zu workers=%d", t->table_name,
            t->topic, o->nparts, eo.workers);
    return r;
fail:
    replay_stop(r);
    return NULL;
}

bool replay_wait(replay *r, int timeout_ms)
{
    struct timespec until = sl_clock_ts(sl_clock_mono_ms() + timeout_ms);
    pthread_mutex_lock(&r->mu);
    int rc = 0;
    while (r->ended < r->nparts && rc == 0)
        rc = timeout_ms < 0 ? pthread_cond_wait(&r->cv, &r->mu)
                            : pthread_cond_timedwait(&r->cv, &r->mu, &until);
    bool done = r->ended >= r->nparts;
    pthread_mutex_unlock(&r->mu);
    return done;
}

void replay_progress(replay *r, replay_stat *st)
{
    memset(st, 0, sizeof *st);
    pthread_mutex_lock(&r->mu);
    st->nparts = r->nparts;
    st->segments = r->nbuilt;
    for (size_t i = 0; i < r->nbuilt; i++)
        st->rows += r->built[i].rows;
    for (size_t i = 0; i < r->nparts; i++) {
        rp_part *p = r->parts[i];
        pcons *pc = engine_part_pcons(p->ep);
        pcons_stats *ps = pcons_get_stats(pc);
        int s = atomic_load(&p->state);
        int64_t first = rp_first(p), last = rp_last(p);
        int64_t next = atomic_load(&ps->next_offset);
        if (s == RP_DONE || next > last) next = last;
        if (next < first) next = first;
        st->offsets_total += last - first;
        st->offsets_done += next - first;
        if (s == RP_RUNNING) st->rows += atomic_load(&ps->segment_rows);
        st->parts_done += s == RP_DONE;
        st->parts_failed += s == RP_FAILED;
        st->lost_messages += (uint64_t)metrics_counter_get(ps->lost_messages);
        st->lost_ranges += (uint64_t)metrics_counter_get(ps->lost_ranges);
        for (int k = 0; k < ROWDEC_REASON__COUNT; k++)
            if (ps->bad[k]) st->malformed += (uint64_t)metrics_counter_get(ps->bad[k]);
    }
    pthread_mutex_unlock(&r->mu);
}

static int rp_built_cmp(const void *a, const void *b)
{
    const replay_built *x = a, *y = b;
    if (x->partition != y->partition) return x->partition < y->partition ? -1 : 1;
    return x->sequence < y->sequence ? -1 : x->sequence > y->sequence;
}

size_t replay_results(replay *r, replay_built **out)
{
    pthread_mutex_lock(&r->mu);
    size_t n = r->nbuilt;
    *out = sl_xcalloc(n ? n : 1, sizeof **out);
    if (n) memcpy(*out, r->built, n * sizeof **out);
    pthread_mutex_unlock(&r->mu);
    qsort(*out, n, sizeof **out, rp_built_cmp);
    return n;
}

const char *replay_error(replay *r) { return r->error; }

void replay_stop(replay *r)
{
    if (!r) return;
    /* the engine frees the parts' areas: keep what they own until then */
    size_t n = r->nparts;
    char ***names = sl_xcalloc(n ? n : 1, sizeof *names);
    replay_seg **segs = sl_xcalloc(n ? n : 1, sizeof *segs);
    size_t *nsegs = sl_xcalloc(n ? n : 1, sizeof *nsegs);
    for (size_t i = 0; i < n; i++) {
        names[i] = r->parts[i]->names;
        segs[i] = r->parts[i]->segs;
        nsegs[i] = r->parts[i]->plan.nsegs;
    }
    engine_free(r->e); /* joins the workers */
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; names[i] && k < nsegs[i]; k++)
            free(names[i][k]);
        free(names[i]);
        free(segs[i]);
    }
    free(names);
    free(segs);
    free(nsegs);
    metrics_free(r->metrics);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(r->parts);
    free(r->built);
    free(r);
}
