/* Cluster-mode sidecar (see replica.h for the contract; the state machine is completion/rsm.h).
 *
 * This file performs what the replica state machine decides (rsm_on_reply, rsm_on_result,
 * rsm_may_start): the RPCs, builds, downloads and waits; every state change goes through
 * r_set_state (rsm_transition, which refuses an illegal move) or r_start_state (rsm_start).
 *
 * Ownership of a partition (rpart) moves between threads by state: while CONSUMING or
 * CATCHING_UP its pcons belongs to the consumer-pool worker; from HOLDING until ONLINE or
 * ERROR it belongs to the one completion thread that took its job; while ONLINE or ERROR
 * the control thread may start its next segment, which it does on the worker through
 * cpool_call. `mu` guards the tables, the partition list and the job queue, never I/O. */
#include "completion/replica.h"
#include "consumer/flush.h"
#include "completion/rclient.h"
#include "common/diskstate.h"
#include "common/httpc.h"
#include "common/log.h"
#include "common/schema.h"
#include "common/sl_err.h"
#include "common/table_config.h"
#include "completion/assign.h"
#include "completion/cluster_store.h"
#include "completion/rpc.h"
#include "completion/rsm.h"
#include "completion/segfetch.h"
#include "completion/segmeta.h"
#include "completion/zk.h"
#include "consumer/engine.h"
#include "consumer/pcons.h"
#include "consumer/replay.h"
#include "common/fsutil.h"
#include <errno.h>
#include "segment/seg_reader.h"
#include "segment/segname.h"
#include "common/xalloc.h"
#include "common/clock.h"

#include <dirent.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A table this instance hosts: the engine's table, and the watch on its assignment. */
typedef struct rtable {
    char name[SL_IDENT_MAX + 1]; /* the key: <raw>_OFFLINE for an OFFLINE table */
    engine_table *et;
    uint64_t watch_id;
    int32_t pushed_version; /* the assignment version whose pushed segments are in place */
    bool pushed_retry;      /* ... not all of them: the next pass tries again */
} rtable;

typedef struct rpart rpart;

/* One segment's completion on this instance: rpart.cur, the segment the partition consumes
 * (CONSUMING .. ONLINE | ERROR), or rpart.prev, under pauseless completion (DESIGN §9) the
 * segment N that completes in the background while the partition consumes N+1. */
typedef struct rseg {
    rpart *rp;
    rsm sm;                  /* its state; changed only by r_set_state and r_start_state */
    segmeta meta;            /* the segment (prev: its COMMITTING record, end offset fixed) */
    uint64_t job_due_ms;     /* a queued completion waits until then (disk backoff); under mu */
    bool job_disk_wait;      /* ... or until the local disk state is OK again; under mu */
    sl_backoff disk_backoff; /* environmental failures of this segment's completion */
    int64_t built_offset;    /* a build of meta.segment up to this offset is at built_path */
    uint32_t built_crc;
    uint64_t built_rows;
    char built_path[PATH_MAX];
    pcons_frozen frozen; /* prev: the rows rolled out of the pcons; empty: rebuilt from Kafka */
} rseg;

/* The policy's state of one partition (the engine part's area). cur and prev change owner
 * as replica.h says; the roll (cur -> prev, N+1 -> cur) and prev_active are under mu. */
struct rpart {
    engine_part *ep;
    rtable *t;
    int32_t partition;
    pcons *p; /* engine_part_pcons(ep) */
    rseg cur;
    rseg prev;
    bool prev_active; /* prev is in use (at most two mutable segments); under mu */
    bool forced;      /* a force commit was asked of segment forced_seq (control thread) */
    int64_t forced_seq;
    uint64_t prev_failed_ms; /* prev ended in ERROR then: a rebuild waits RSM_ERROR_RETRY_MS */
};

struct replica {
    replica_opts o;
    cstore *cs; /* the cluster's ZooKeeper layout; immutable */
    zk *z;
    _Atomic bool expired;
    _Atomic bool republish; /* a state record failed (session expired...): the next reconcile
                               writes the ONLINE records again */
    pthread_mutex_t mu;
    pthread_cond_t cv; /* control: dirty; completion: jobs */
    engine *e;         /* the tables, partitions, builds and files */
    rtable **tables;   /* control thread only */
    size_t ntables;
    rseg **jobs;
    size_t njobs, capjobs;
    rpart **parts; /* every partition made (freed with the engine); under mu */
    size_t nparts;
    bool dirty;
    bool first_reconcile_done;
    rclient *rc;              /* the link to the leading controller */
    pthread_mutex_t state_mu; /* serializes replicas/<id> read-modify-writes */
    pthread_rwlock_t zk_lock; /* z: read-held by every call off the control thread; the
                                 control thread swaps z under the write lock */
    pthread_t control;
    bool control_started;
    pthread_t *completers;
    int ncompleters;
    _Atomic bool stop;
    _Atomic bool fault_fired; /* test.commit.fault fires once in the process's life */
    metrics_family *m_divergence, *m_decisions, *m_downloads;
    metrics_family *m_bg_segments, *m_bg_bytes; /* pauseless: segments completing behind */
    diskstate *disk;                            /* the engine's */
    sl_log_limit *lim;     /* repeated non-disk failures (download sources, a full store) */
    sl_backoff dl_backoff; /* control thread: restart downloads after a disk failure */
};

static void r_signal(replica *r)
{
    pthread_mutex_lock(&r->mu);
    r->dirty = true;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

/* ZooKeeper watch: something changed; the control thread re-reads it. */
static void r_watch_cb(void *ctx, const char *path)
{
    (void)path;
    r_signal(ctx);
}

/* The ZooKeeper handle for one call from any thread. After a session expiry the control
 * thread swaps z for a new handle and closes the old one; a caller holds the read lock across
 * its call so the handle it uses cannot be closed under it. The control thread, the only
 * writer of z, uses it without the lock. */
static zk *r_zk(replica *r)
{
    pthread_rwlock_rdlock(&r->zk_lock);
    return r->z;
}

static void r_zk_done(replica *r)
{
    pthread_rwlock_unlock(&r->zk_lock);
}

/* The leader's URL as ZooKeeper holds it (rclient's peek). */
static char *r_peek_leader(void *ctx)
{
    replica *r = ctx;
    char *url = NULL;
    cstore_leader_peek(r->cs, r_zk(r), &url);
    r_zk_done(r);
    return url;
}

/* ---- replica state, in memory and in ZooKeeper -------------------------------------- */

/* Record `st` of `segment` in tables/<t>/replicas/<me> ({"<segment>":"<STATE>",...}). */
static void r_publish_state(replica *r, const rtable *t, const char *segment, const char *st)
{
    pthread_mutex_lock(&r->state_mu);
    int rc = cstore_replica_record(r->cs, r_zk(r), t->name, r->o.instance_id, segment, st);
    r_zk_done(r);
    if (rc) {
        SL_WARN("replica", "cannot record state segment=%s state=%s err=%s", segment, st,
                sluice_strerror(rc));
        atomic_store(&r->republish, true);
    }
    pthread_mutex_unlock(&r->state_mu);
}

typedef struct r_enter_ctx {
    replica *r;
    rseg *s;
} r_enter_ctx;

/* rsm's enter hook: a legal move to a published state is recorded first. Once ONLINE or
 * ERROR is visible the control thread may move the partition on to the next segment
 * (cur.meta changes), and the record must name this one. */
static void r_on_enter(void *ctx, rsm_state to)
{
    r_enter_ctx *c = ctx;
    if (rsm_published(to))
        r_publish_state(c->r, c->s->rp->t, c->s->meta.segment, rsm_state_name(to));
}

/* The one place a started segment's state changes: checked by the legality table, recorded
 * when published, logged. False (and nothing done) for an illegal move. */
static bool r_set_state(replica *r, rseg *s, rsm_state to)
{
    r_enter_ctx c = {r, s};
    rsm_who who = {s->rp->t->name, s->rp->partition, s->meta.segment};
    return rsm_transition(&s->sm, to, &who, sl_clock_wall_ms(), r_on_enter, &c);
}

/* A new machine (a partition's first segment, N+1 after a roll, a rebuild): NEW ->
 * CONSUMING, recorded. */
static void r_start_state(replica *r, rseg *s)
{
    r_enter_ctx c = {r, s};
    rsm_who who = {s->rp->t->name, s->rp->partition, s->meta.segment};
    rsm_start(&s->sm, &who, sl_clock_wall_ms(), r_on_enter, &c);
}

/* A fresh slot for segment m (no machine started, nothing built). */
static void r_seg_reset(rseg *s, rpart *rp, const segmeta *m)
{
    memset(s, 0, sizeof *s);
    s->rp = rp;
    s->meta = *m;
    s->built_offset = -1;
}

/* The suffix of a replacement's segmentsTo held back until the switch (DESIGN §10). */
#define R_STAGED ".staged"

/* Wait until at_ms (a decision's time; now or past: no wait). */
static void r_sleep_until(uint64_t at_ms)
{
    sl_clock_sleep_ms((int64_t)at_ms - (int64_t)sl_clock_wall_ms());
}

/* ---- files ------------------------------------------------------------------------- */

/* Download url as segment of t, verified and published (segfetch_url). */
static int r_download(replica *r, httpc *h, const rtable *t, const char *segment, const char *url,
                      uint32_t expect_crc, const char *as)
{
    int rc = segfetch_url(h, t->et, segment, url, expect_crc, as, r->disk, r->lim);
    if (rc == 0) {
        const char *tl[] = {t->name};
        metrics_counter_add(metrics_counter_with(r->m_downloads, tl), 1);
    }
    return rc;
}

/* Download a committed segment as `<segment>.seg<suffix>` (segfetch_url): the segment store
 * first, then the peers that hold it. A full
 * or failing local disk ends the search at once (every other source would fail alike). */
static int r_fetch_committed(replica *r, httpc *h, const rtable *t, const segmeta *m,
                             const char *suffix)
{
    char leader[512], url[1024];
    rclient_leader(r->rc, leader, sizeof leader);
    if (!leader[0]) { /* no RPC yet (a sidecar just started on an empty data dir): ZooKeeper's */
        char *peek = r_peek_leader(r);
        snprintf(leader, sizeof leader, "%s", peek ? peek : "");
        free(peek);
    }
    /* a METADATA push's URI is the user's server: it never sees this sidecar's token or
     * certificate (a controller that is not the leader any more answers 401 to it, and the
     * leader's copy follows) */
    size_t ll = strlen(leader);
    bool ours = ll && strncmp(m->download_url, leader, ll) == 0 && m->download_url[ll] == '/';
    httpc_set_external(h, !ours);
    int drc = m->download_url[0] ? r_download(r, h, t, m->segment, m->download_url, m->crc, suffix)
                                 : SL_ENOENT;
    httpc_set_external(h, false);
    if (drc == 0 || sl_err_is_disk(drc)) return drc;
    /* the URL names the controller that committed it; the leader of now serves the same
     * store when it is shared (deepstore.uri) */
    if (leader[0]) {
        snprintf(url, sizeof url, "%s/segments/%s/%s", leader, t->name, m->segment);
        if (strcmp(url, m->download_url) != 0) {
            drc = r_download(r, h, t, m->segment, url, m->crc, suffix);
            if (drc == 0 || sl_err_is_disk(drc)) return drc;
        }
    }
    assign a;
    char err[256];
    int rc = cstore_assign_get(r->cs, r_zk(r), t->name, &a, NULL, err, sizeof err);
    r_zk_done(r);
    if (rc) return rc; /* ZooKeeper's error: never a disk one, so the caller gives up (O7/O10) */
    rc = SL_ENOENT;
    assign_seg *as = assign_find(&a, m->segment);
    for (uint32_t i = 0; as && rc && !sl_err_is_disk(rc) && i < as->inst.n; i++) {
        if (strcmp(as->inst.id[i], r->o.instance_id) == 0) continue;
        char base[300];
        int arc = cstore_instance_url(r->cs, r_zk(r), as->inst.id[i], base, sizeof base);
        r_zk_done(r);
        if (arc == 0) {
            char url[1024];
            snprintf(url, sizeof url, "%s/segments/%s/%s", base, t->name, m->segment);
            rc = r_download(r, h, t, m->segment, url, m->crc, suffix);
        }
    }
    assign_free(&a);
    return rc;
}

/* Whether s is a partition's background completion (rpart.prev). */
static bool r_is_prev(const rseg *s)
{
    return s == &s->rp->prev;
}

/* The offset s ends at: the consuming segment's next offset, or prev's fixed end. */
static int64_t r_seg_end(const rseg *s)
{
    return r_is_prev(s) ? s->meta.end_offset : pcons_next_offset(s->rp->p);
}

/* Rebuild prev's [start, end) from Kafka into its build path: its rows are not here (the
 * sidecar restarted, or its completion failed) and nobody may hold them. The replay runs the
 * engine's own consumer and builder under the segment's name (consumer/replay.h), so the
 * bytes are those of any replica's build. 0, SL_ETRANSIENT (Kafka, or stopping), or
 * SL_ECONFLICT when retention removed part of the range (those rows are gone for good). */
static int r_rebuild(replica *r, rseg *s)
{
    rpart *rp = s->rp;
    char out[PATH_MAX], from[PATH_MAX + 2 * SL_SEGNAME_MAX], to[PATH_MAX], err[512];
    /* ".rebuild" cannot be a table name (identifiers do not start with a dot) */
    snprintf(out, sizeof out, "%s/.rebuild", r->o.engine.data_dir);
    if (!engine_seg_path(rp->t->et, s->meta.segment, ".build", to)) return SL_EINVAL;
    snprintf(from, sizeof from, "%s/%s/%s.seg", out, rp->t->name, s->meta.segment);
    replay_seg seg = {.name = s->meta.segment,
                      .sequence = s->meta.sequence,
                      .start = s->meta.start_offset,
                      .end = s->meta.end_offset};
    replay_part part = {.partition = rp->partition, .segs = &seg, .nsegs = 1};
    replay_opts ro = {.engine = r->o.engine,
                      .schema = engine_table_schema(rp->t->et),
                      .table = engine_table_cfg(rp->t->et),
                      .parts = &part,
                      .nparts = 1};
    ro.engine.data_dir = out;
    ro.engine.workers = 1;
    ro.engine.dead_letter_path = NULL; /* the consuming segment wrote them already */
    ro.engine.scrub_interval_ms = 0;
    ro.engine.disk = NULL;
    ro.engine.log_tag = "rebuild";
    SL_INFO("replica", "rebuilding segment=%s offsets [%" PRId64 ", %" PRId64 ") from Kafka",
            s->meta.segment, s->meta.start_offset, s->meta.end_offset);
    replay *rp_ = replay_start(&ro, err, sizeof err);
    if (!rp_) {
        SL_WARN("replica", "rebuild of segment=%s cannot start: %s", s->meta.segment, err);
        return SL_ETRANSIENT;
    }
    bool ended = false;
    while (!atomic_load(&r->stop) && !(ended = replay_wait(rp_, 500))) {
    }
    replay_built *b = NULL;
    size_t nb = replay_results(rp_, &b);
    replay_stat st;
    replay_progress(rp_, &st);
    int rc = 0;
    if (!ended || nb != 1 || st.parts_failed) {
        SL_WARN("replica", "rebuild of segment=%s did not finish: %s", s->meta.segment,
                ended ? replay_error(rp_) : "stopping");
        rc = SL_ETRANSIENT;
    } else if (st.lost_messages) {
        SL_ERROR("replica",
                 "rebuild of segment=%s: retention removed %" PRIu64
                 " of its messages: it cannot be rebuilt",
                 s->meta.segment, st.lost_messages);
        rc = SL_ECONFLICT;
    } else if (rename(from, to) != 0) {
        rc = fsutil_errno_err(errno);
    } else {
        s->built_offset = s->meta.end_offset;
        s->built_crc = b[0].crc;
        s->built_rows = b[0].rows;
        memcpy(s->built_path, to, sizeof to);
    }
    free(b);
    replay_stop(rp_);
    return rc;
}

/* Build s locally (reusing a build of the same offset) into `<segment>.seg.build`: the held
 * consuming segment from its pcons, prev from its rolled rows, or from Kafka when it has none.
 * Returns 0 or engine_build's error: deterministic (the rows, logged as an error) or
 * environmental (disk full, I/O error, ...: reported to the disk state). */
static int r_build(replica *r, rseg *s, uint32_t *crc, uint64_t *size)
{
    rpart *rp = s->rp;
    int64_t end = r_seg_end(s);
    char path[PATH_MAX];
    if (!engine_seg_path(rp->t->et, s->meta.segment, ".build", path)) return SL_EINVAL;
    struct stat st;
    if (s->built_offset == end && strcmp(s->built_path, path) == 0 && stat(path, &st) == 0) {
        *crc = s->built_crc;
        *size = (uint64_t)st.st_size;
        return 0;
    }
    if (r_is_prev(s) && !s->frozen.seg) {
        int rc = r_rebuild(r, s);
        if (rc == 0 && stat(s->built_path, &st) != 0) rc = fsutil_errno_err(errno);
        if (rc) return rc;
        *crc = s->built_crc;
        *size = (uint64_t)st.st_size;
        return 0;
    }
    engine_built b;
    int rc = r_is_prev(s) ? engine_build_frozen(r->e, rp->ep, &s->frozen, ".build", &b)
                          : engine_build(r->e, rp->ep, ".build", &b);
    if (rc) return rc;
    *crc = b.crc;
    *size = b.size;
    s->built_offset = end;
    s->built_crc = b.crc;
    s->built_rows = b.rows;
    memcpy(s->built_path, b.path, sizeof b.path);
    return 0;
}

/* ---- the completion client --------------------------------------------------------- */

typedef struct catchup_arg {
    rpart *rp;
    int64_t offset;
} catchup_arg;

static void r_catchup_fn(void *arg, cpool_worker *w)
{
    catchup_arg *a = arg;
    pcons_catch_up(a->rp->p, a->offset);
    if (pcons_get_state(a->rp->p) == PCONS_CONSUMING)
        cpool_seek_resume(w, a->rp->p, pcons_next_offset(a->rp->p));
}

/* COMMIT: build (with a lease extender), CommitStart, upload, CommitEnd. Returns 0 once
 * committed and published; the build's own error when it failed (rq->build_millis > 0 only
 * for a deterministic one); SL_ENOSPACE when the controller's store is full (507);
 * SL_ECONFLICT or SL_ETRANSIENT when the controller refused or could not be reached. */
static int r_commit(replica *r, httpc *h, rseg *s, rpc_req *rq, int32_t budget_s)
{
    rpart *rp = s->rp;
    uint32_t crc;
    uint64_t size;
    rclient_lease *lease = rclient_lease_start(r->rc, rq, budget_s);
    int64_t t0 = sl_clock_mono_ms();
    int rc = r_build(r, s, &crc, &size);
    int64_t t1 = sl_clock_mono_ms();
    rclient_lease_end(lease);
    rq->build_millis = t1 - t0;
    if (rc) {
        /* build_millis > 0 in StoppedConsuming makes the controller halve the threshold:
         * only rows that cannot be built may do that, never a full or failing disk */
        if (!sl_err_is_deterministic(rc))
            rq->build_millis = 0;
        else if (rq->build_millis < 1)
            rq->build_millis = 1;
        return rc;
    }
    rfault_at(r->o.fault, RFAULT_AT_BEFORE_COMMIT_START, &r->fault_fired, s->meta.segment);
    rpc_resp rs;
    if (rclient_call(r->rc, h, RPC_COMMIT_START, rq, &rs) ||
        rs.status != RPC_STATUS_COMMIT_CONTINUE)
        return SL_ECONFLICT;
    char leader[512], url[1024];
    rclient_leader(r->rc, leader, sizeof leader);
    snprintf(url, sizeof url, "%s/segments/%s/%s", leader, rp->t->name, s->meta.segment);
    httpc_resp ur;
    httpc_resp_init(&ur, 1 << 16);
    t0 = sl_clock_mono_ms();
    rc = httpc_put_file(h, url, s->built_path, 300000, &ur);
    long upload_ms = (long)(sl_clock_mono_ms() - t0);
    bool uploaded = rc == 0 && ur.status == 200;
    bool store_full = rc == 0 && ur.status == 507; /* Insufficient Storage */
    if (store_full)
        SL_LOG_LIMITED(r->lim, "upload.enospc", SL_LOG_WARN, "replica",
                       "upload refused: the controller's segment store is full segment=%s %s",
                       s->meta.segment, ur.body ? ur.body : "");
    else if (!uploaded)
        SL_WARN("replica", "upload failed segment=%s status=%ld %s", s->meta.segment, ur.status,
                ur.body ? ur.body : "");
    httpc_resp_free(&ur);
    if (!uploaded) return store_full ? SL_ENOSPACE : SL_ETRANSIENT;
    rfault_at(r->o.fault, RFAULT_AT_AFTER_UPLOAD, &r->fault_fired, s->meta.segment);
    rq->crc = crc;
    rq->size_bytes = (int64_t)size;
    snprintf(rq->location, sizeof rq->location, "%s", url);
    /* the same moment as after_upload: pauseless completion (DESIGN §9) moves the partition
     * on at the decision, the upload and CommitEnd still follow each other */
    rfault_at(r->o.fault, RFAULT_AT_BEFORE_COMMIT_END, &r->fault_fired, s->meta.segment);
    if (rclient_call(r->rc, h, RPC_COMMIT_END, rq, &rs) || rs.status != RPC_STATUS_COMMIT_SUCCESS)
        return SL_ECONFLICT;
    SL_INFO("replica", "committed segment=%s build_ms=%lld upload_ms=%ld bytes=%" PRIu64,
            s->meta.segment, (long long)rq->build_millis, upload_ms, size);
    return engine_publish(rp->t->et, s->meta.segment, s->built_path);
}

/* KEEP: build locally and compare with the committed CRC; heal a divergence by download.
 * A build that failed on a full or failing disk returns its error (the caller retries later:
 * a download would need the same disk); one that failed on its rows downloads. */
static int r_keep(replica *r, httpc *h, rseg *s, const rpc_resp *rs)
{
    rpart *rp = s->rp;
    uint32_t crc = 0;
    uint64_t size;
    int brc = r_build(r, s, &crc, &size);
    rfault_at(r->o.fault, RFAULT_AT_DURING_KEEP, &r->fault_fired, s->meta.segment);
    if (brc == 0 && (crc == rs->crc || r->o.keep_skip_crc)) {
        if (crc != rs->crc)
            SL_WARN("replica",
                    "test knob: publishing a divergent build segment=%s local_crc=%" PRIu32
                    " committed_crc=%" PRIu32,
                    s->meta.segment, crc, rs->crc);
        return engine_publish(rp->t->et, s->meta.segment, s->built_path);
    }
    if (sl_err_is_disk(brc)) return brc;
    if (brc == 0) {
        const char *tp[] = {rp->t->name};
        metrics_counter_add(metrics_counter_with(r->m_divergence, tp), 1);
        SL_ERROR("replica",
                 "divergence table=%s segment=%s local_crc=%" PRIu32 " committed_crc=%" PRIu32
                 ": healing by download",
                 rp->t->name, s->meta.segment, crc, rs->crc);
    } else {
        SL_WARN("replica", "local build failed segment=%s err=%s: downloading the committed copy",
                s->meta.segment, sluice_strerror(brc));
    }
    unlink(s->built_path);
    s->built_offset = -1;
    segmeta m = s->meta;
    m.crc = rs->crc;
    if (strlen(rs->segment_location) < sizeof m.download_url)
        memcpy(m.download_url, rs->segment_location, strlen(rs->segment_location) + 1);
    return r_fetch_committed(r, h, rp->t, &m, "");
}

/* DISCARD: take the committed copy (its CRC from ZooKeeper). */
static int r_discard(replica *r, httpc *h, rseg *s)
{
    rpart *rp = s->rp;
    char err[256];
    segmeta m;
    int rc =
        cstore_segment_get(r->cs, r_zk(r), rp->t->name, s->meta.segment, &m, NULL, err, sizeof err);
    r_zk_done(r);
    if (rc) return rc; /* as in r_fetch_committed */
    if (!segmeta_committed(&m)) return SL_ESTATE;
    rfault_at(r->o.fault, RFAULT_AT_DURING_DISCARD, &r->fault_fired, s->meta.segment);
    return r_fetch_committed(r, h, rp->t, &m, "");
}

static void r_decision(replica *r, const rseg *s, const char *d)
{
    const char *l[] = {s->rp->t->name, d};
    metrics_counter_add(metrics_counter_with(r->m_decisions, l), 1);
}

/* RSM_DO_BACKOFF, an environmental failure of rp's completion: the partition stays HOLDING
 * with its rows and the job comes back after the backoff (1 s doubling to 60 s), or as soon as
 * the local disk is usable again when the failure was local (some other write succeeded
 * meanwhile). Returns when it is due. */
static uint64_t r_disk_retry(replica *r, rseg *s, int rc)
{
    uint64_t now = sl_clock_wall_ms();
    uint64_t due = rsm_backoff(&s->disk_backoff, now);
    bool local = diskstate_get(r->disk) != DISKSTATE_OK; /* else the controller's store */
    pthread_mutex_lock(&r->mu);
    s->job_disk_wait = local;
    pthread_mutex_unlock(&r->mu);
    SL_DEBUG("replica", "segment=%s retry in %" PRIu64 " ms after err=%s", s->meta.segment,
             due - now, sluice_strerror(rc));
    if (rsm_get(&s->sm) != RSM_CONSUMING) r_set_state(r, s, RSM_HOLDING); /* a rebuild stays */
    return due;
}

static pcons_limits r_limits(const segmeta *m)
{
    pcons_limits lim = {.rows = m->flush_rows > 0 ? (uint64_t)m->flush_rows : 0,
                        .time_ms = m->flush_time_ms > 0 ? (uint64_t)m->flush_time_ms : 0,
                        .end_offset = -1};
    if (!lim.rows && !lim.time_ms) lim.rows = FLUSH_DEFAULT_ROWS;
    return lim;
}

/* ---- pauseless completion (DESIGN §9) ----------------------------------------------------- */

/* The segment a worker starts on rp (r_start_fn, r_roll_fn). */
typedef struct start_arg {
    rpart *rp;
    segmeta m;
} start_arg;

static void r_roll_fn(void *arg, cpool_worker *w)
{
    start_arg *a = arg;
    pcons_limits lim = r_limits(&a->m);
    pcons_roll(a->rp->p, &a->rp->prev.frozen, a->m.sequence, a->m.segment, a->m.start_offset,
               (uint64_t)a->m.creation_time_ms, &lim);
    cpool_seek_resume(w, a->rp->p, a->m.start_offset);
}

/* The segments a partition holds in memory for completions behind its consuming one. */
static void r_bg_account(replica *r, const rpart *rp, int64_t segments, int64_t bytes)
{
    const char *tl[] = {rp->t->name};
    metrics_gauge_add(metrics_gauge_with(r->m_bg_segments, tl), segments);
    metrics_gauge_add(metrics_gauge_with(r->m_bg_bytes, tl), bytes);
}

/* The completion thread holds cur (HOLDING at `end`): when the controller fixed N's end offset
 * there (N COMMITTING, N+1 IN_PROGRESS at it and assigned here CONSUMING), roll: N's machine,
 * rows and build move to prev, cur becomes N+1 (NEW -> CONSUMING) and the worker consumes it
 * at once, while this thread goes on completing N. Returns whether it rolled. */
static bool r_roll(replica *r, rpart *rp, int64_t end)
{
    char err[256];
    segmeta m, next = {0};
    assign a;
    bool found = false;
    zk *z = r_zk(r);
    int rc =
        cstore_segment_get(r->cs, z, rp->t->name, rp->cur.meta.segment, &m, NULL, err, sizeof err);
    if (rc == 0 && m.status == SEGMETA_COMMITTING && m.end_offset == end &&
        cstore_assign_get(r->cs, z, rp->t->name, &a, NULL, err, sizeof err) == 0) {
        for (size_t i = 0; i < a.nseg && !found; i++) {
            segname sn;
            if (segname_parse(a.seg[i].segment, &sn) || sn.partition != rp->partition ||
                sn.sequence != m.sequence + 1)
                continue;
            for (uint32_t k = 0; k < a.seg[i].inst.n && !found; k++)
                found = strcmp(a.seg[i].inst.id[k], r->o.instance_id) == 0 &&
                        a.seg[i].state[k] == ASSIGN_CONSUMING &&
                        cstore_segment_get(r->cs, z, rp->t->name, a.seg[i].segment, &next, NULL,
                                           err, sizeof err) == 0 &&
                        next.status == SEGMETA_IN_PROGRESS && next.start_offset == end;
        }
        assign_free(&a);
    }
    r_zk_done(r);
    if (!found) return false;
    pthread_mutex_lock(&r->mu);
    if (rp->prev_active) { /* cannot happen: cur's job waits for prev (r_completer) */
        pthread_mutex_unlock(&r->mu);
        return false;
    }
    rp->prev = rp->cur;
    rp->prev.meta = m;
    memset(&rp->prev.frozen, 0, sizeof rp->prev.frozen);
    rp->prev_active = true;
    r_seg_reset(&rp->cur, rp, &next);
    pthread_mutex_unlock(&r->mu);
    r_start_state(r, &rp->cur);
    start_arg ra = {rp, next};
    if (engine_part_call(rp->ep, r_roll_fn, &ra) != 0) /* stopping: prev would rebuild */
        SL_WARN("replica", "segment=%s: no worker to roll on", m.segment);
    if (rp->prev.frozen.seg)
        r_bg_account(r, rp, 1, (int64_t)mseg_memory_bytes(rp->prev.frozen.seg));
    SL_INFO("replica",
            "pauseless: segment=%s end=%" PRId64 " completes in the background; consuming "
            "segment=%s from %" PRId64,
            m.segment, end, next.segment, next.start_offset);
    return true;
}

/* prev's completion is over (ONLINE, or ERROR): free its rows, and let cur's completion (which
 * waits for it) and the control thread go on. */
static void r_prev_release(replica *r, rpart *rp)
{
    rseg *s = &rp->prev;
    if (s->frozen.seg) r_bg_account(r, rp, -1, -(int64_t)mseg_memory_bytes(s->frozen.seg));
    pcons_frozen_free(&s->frozen);
    if (s->built_path[0]) unlink(s->built_path); /* published: gone already; else stale */
    s->built_path[0] = '\0';
    pthread_mutex_lock(&r->mu);
    rp->prev_active = false;
    if (rsm_get(&s->sm) == RSM_ERROR) rp->prev_failed_ms = sl_clock_wall_ms();
    pthread_mutex_unlock(&r->mu);
    r_signal(r);
}

/* One segment's completion on a completion thread: report, let the state machine decide on
 * the reply (rsm_on_reply) and on the result of the action (rsm_on_result), perform what it
 * says. *sp is the consuming segment, held, or prev; a roll moves the job from cur to prev
 * (*sp says which it ended on). Returns 0 when the job is over (ONLINE, ERROR, or consuming
 * again to catch up), or the time at which it must run again (see r_disk_retry). */
static uint64_t r_complete(replica *r, httpc *h, rseg **sp)
{
    static const rpc_reason reasons[] = {[PCONS_END_NONE] = RPC_REASON_UNSPECIFIED,
                                         [PCONS_END_ROWS] = RPC_REASON_ROW_LIMIT,
                                         [PCONS_END_TIME] = RPC_REASON_TIME_LIMIT,
                                         [PCONS_END_SIZE] = RPC_REASON_SIZE_LIMIT,
                                         [PCONS_END_OFFSET] = RPC_REASON_END_OF_PARTITION,
                                         [PCONS_END_FORCE] = RPC_REASON_FORCE_COMMIT};
    rseg *s = *sp;
    rpart *rp = s->rp;
    if (r_is_prev(s) && rsm_get(&s->sm) == RSM_CONSUMING) { /* a rebuild from Kafka */
        uint32_t crc;
        uint64_t size;
        int rc = r_build(r, s, &crc, &size);
        if (rc == SL_ECONFLICT || sl_err_is_deterministic(rc)) { /* it can never be built */
            r_set_state(r, s, RSM_ERROR);
            r_prev_release(r, rp);
            return 0;
        }
        if (rc) return r_disk_retry(r, s, rc);
        r_set_state(r, s, RSM_HOLDING);
    }
    while (!atomic_load(&r->stop)) {
        rpc_req rq;
        rpc_resp rs;
        memset(&rq, 0, sizeof rq);
        snprintf(rq.segment, sizeof rq.segment, "%s", s->meta.segment);
        snprintf(rq.instance, sizeof rq.instance, "%s", r->o.instance_id);
        rq.offset = r_seg_end(s);
        const mseg *rows = r_is_prev(s) ? s->frozen.seg : pcons_segment(rp->p);
        rq.reason = r_is_prev(s)
                        ? (s->frozen.seg ? reasons[s->frozen.why] : RPC_REASON_END_OF_PARTITION)
                        : reasons[pcons_end_reason(rp->p)];
        rq.rows = rows ? (int64_t)mseg_rows(rows) : (int64_t)s->built_rows;
        rq.memory_bytes = rows ? (int64_t)mseg_memory_bytes(rows) : 0;
        bool replied = rclient_call(r->rc, h, RPC_SEGMENT_CONSUMED, &rq, &rs) == 0;
        rsm_step st = rsm_on_reply(replied, replied ? rs.status : RPC_STATUS_UNSPECIFIED,
                                   replied ? rs.offset : -1, rq.offset, sl_clock_wall_ms());
        /* pauseless: once N's end is fixed at this offset (COMMIT, or a HOLD naming it), N+1
         * consumes while N completes */
        if (!r_is_prev(s) && replied &&
            (rs.status == RPC_STATUS_COMMIT ||
             (rs.status == RPC_STATUS_HOLD && rs.offset == rq.offset && rq.offset > 0)) &&
            engine_table_cfg(rp->t->et)->pauseless && r_roll(r, rp, rq.offset)) {
            *sp = s = &rp->prev;
            /* not the committer: build now, beside the committer's build, so that KEEP only
             * compares the CRC (a failure here is met again, and handled, by KEEP) */
            uint32_t crc;
            uint64_t size;
            if (rs.status == RPC_STATUS_HOLD) r_build(r, s, &crc, &size);
        }
        if (r_is_prev(s) && st.act == RSM_DO_CATCH_UP) /* prev is at the fixed end already */
            st = (rsm_step){.next = RSM_HOLDING,
                            .act = RSM_DO_REPORT,
                            .at_ms = sl_clock_wall_ms() + RSM_UNKNOWN_REPLY_MS};
        int rc;
        switch (st.act) {
        case RSM_DO_CATCH_UP: {
            r_decision(r, s, st.decision);
            sl_backoff_reset(&s->disk_backoff);
            r_set_state(r, s, st.next);
            catchup_arg a = {rp, st.offset};
            engine_part_call(rp->ep, r_catchup_fn, &a);
            return 0; /* the partition consumes again; FULL brings it back here */
        }
        case RSM_DO_COMMIT:
            r_set_state(r, s, st.next);
            rc = r_commit(r, h, s, &rq, rs.build_seconds);
            break;
        case RSM_DO_KEEP:
            r_set_state(r, s, st.next);
            rc = r_keep(r, h, s, &rs);
            break;
        case RSM_DO_DISCARD:
            r_set_state(r, s, st.next);
            rc = r_discard(r, h, s);
            break;
        default: /* RSM_DO_REPORT: HOLD, no reply, or nothing usable yet */
            r_sleep_until(st.at_ms);
            continue;
        }
        rsm_step out = rsm_on_result(st.next, rc);
        if (out.act == RSM_DO_REPORT) { /* the commit was refused: report again at once */
            r_set_state(r, s, out.next);
            continue;
        }
        /* giving the segment up (ERROR), or a commit up (a disk failure), is reported with
         * StoppedConsuming; build_millis > 0 only when the rows could not be built, so the
         * controller halves the threshold; a failing disk never does that */
        if (out.stopped) {
            rq.reason = RPC_REASON_ERROR;
            if (out.zero_build_millis) rq.build_millis = 0;
            rclient_call(r->rc, h, RPC_STOPPED_CONSUMING, &rq, &rs);
        }
        if (out.act == RSM_DO_BACKOFF) return r_disk_retry(r, s, rc);
        /* RSM_DO_DONE: ONLINE, or ERROR (restarted from the segment's start later) */
        if (out.decision) r_decision(r, s, out.decision);
        if (out.reset_backoff) sl_backoff_reset(&s->disk_backoff);
        r_set_state(r, s, out.next);
        if (r_is_prev(s)) r_prev_release(r, rp);
        return 0;
    }
    return 0;
}

/* Queue s's completion to run at due_ms (0 = now) on a completion thread. */
static void r_enqueue(replica *r, rseg *s, uint64_t due_ms)
{
    pthread_mutex_lock(&r->mu);
    if (!due_ms) s->job_disk_wait = false;
    if (r->njobs == r->capjobs) {
        r->capjobs = r->capjobs ? r->capjobs * 2 : 16;
        r->jobs = sl_xrealloc(r->jobs, r->capjobs * sizeof *r->jobs);
    }
    s->job_due_ms = due_ms;
    r->jobs[r->njobs++] = s;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static void *r_completer(void *arg)
{
    replica *r = arg;
    httpc *h = httpc_new();
    httpc_set_fetch_auth(h, r->o.fetch_ca_file, r->o.fetch_netrc_file); /* a pushed URI */
    httpc_set_bearer(h, r->o.token); /* the cluster's servers; never a pushed URI's */
    httpc_set_tls(h, r->o.tls_ca_file, r->o.tls_cert_file, r->o.tls_key_file);
    pthread_mutex_lock(&r->mu);
    while (!atomic_load(&r->stop)) {
        /* the first job that is due, in queue order; else sleep until the earliest one (at
         * most 1 s while a job waits for the local disk, whose recovery nothing signals). A
         * consuming segment's job waits while its partition's prev completes (at most two
         * mutable segments per partition): prev's end wakes it. */
        uint64_t now = sl_clock_wall_ms(), wake = UINT64_MAX;
        size_t pick = r->njobs;
        bool disk_ok = diskstate_get(r->disk) == DISKSTATE_OK;
        for (size_t i = 0; i < r->njobs && pick == r->njobs; i++) {
            const rseg *j = r->jobs[i];
            if (!r_is_prev(j) && j->rp->prev_active) continue;
            if (j->job_due_ms <= now || (j->job_disk_wait && disk_ok))
                pick = i;
            else if (j->job_due_ms < wake)
                wake = j->job_due_ms;
            if (j->job_disk_wait && wake > now + 1000) wake = now + 1000;
        }
        if (pick == r->njobs) {
            if (wake == UINT64_MAX) {
                pthread_cond_wait(&r->cv, &r->mu);
            } else {
                struct timespec ts = {.tv_sec = (time_t)(wake / 1000u),
                                      .tv_nsec = (long)(wake % 1000u) * 1000000L};
                pthread_cond_timedwait(&r->cv, &r->mu, &ts);
            }
            continue;
        }
        rseg *s = r->jobs[pick];
        memmove(r->jobs + pick, r->jobs + pick + 1, (--r->njobs - pick) * sizeof *r->jobs);
        pthread_mutex_unlock(&r->mu);
        uint64_t again = r_complete(r, h, &s);
        if (again && !atomic_load(&r->stop))
            r_enqueue(r, s, again); /* still HOLDING: the disk is retried later */
        else
            r_signal(r); /* ONLINE or ERROR: the control thread moves it on */
        pthread_mutex_lock(&r->mu);
    }
    pthread_mutex_unlock(&r->mu);
    httpc_free(h);
    return NULL;
}

/* ---- consumer pool callbacks (worker threads) ---------------------------------------- */

static cpool_full_action r_on_full(void *ctx, cpool_worker *w, engine_part *ep)
{
    (void)w;
    replica *r = ctx;
    rpart *rp = engine_part_ctx(ep);
    r_set_state(r, &rp->cur, RSM_HOLDING);
    r_enqueue(r, &rp->cur, 0);
    return CPOOL_HOLD;
}

static void r_start_fn(void *arg, cpool_worker *w)
{
    start_arg *a = arg;
    pcons_limits lim = r_limits(&a->m);
    pcons_start_segment(a->rp->p, a->m.sequence, a->m.segment, a->m.start_offset,
                        (uint64_t)a->m.creation_time_ms, &lim);
    cpool_seek_resume(w, a->rp->p, a->m.start_offset);
}

/* ---- control: reconcile the data dir and the partitions with ZooKeeper ------------------- */

static rtable *r_table(replica *r, const char *name)
{
    for (size_t i = 0; i < r->ntables; i++)
        if (strcmp(r->tables[i]->name, name) == 0) return r->tables[i];
    char err[512];
    char *sj = NULL, *tj = NULL;
    size_t sl, tl;
    if (cstore_table_read(r->cs, r->z, name, &tj, &tl, &sj, &sl)) return NULL;
    schema *sch;
    tcfg *cfg;
    tcfg_parse_pair(sj, sl, "zookeeper schema", tj, tl, "zookeeper config", &sch, &cfg, err,
                    sizeof err);
    free(sj);
    free(tj);
    if (!cfg) {
        SL_ERROR("replica", "table %s: unusable config: %s", name, err);
        schema_free(sch);
        return NULL;
    }
    engine_table *et = engine_table_add(r->e, sch, cfg, true, NULL, err, sizeof err);
    if (!et) {
        SL_ERROR("replica", "table %s: %s", name, err);
        return NULL;
    }
    rtable *t = sl_xcalloc(1, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->et = et;
    t->pushed_version = -2; /* no version read yet */
    cstore_watch_assignment(r->cs, r->z, name, r_watch_cb, r, &t->watch_id);
    r->tables = sl_xrealloc(r->tables, (r->ntables + 1) * sizeof *r->tables);
    r->tables[r->ntables++] = t;
    SL_INFO("replica", "table %s: watching its assignment", name);
    return t;
}

static rpart *r_part(replica *r, const rtable *t, int32_t partition)
{
    engine_part *ep = engine_part_find(r->e, t->et, partition);
    return ep ? engine_part_ctx(ep) : NULL;
}

/* A committed segment this instance must hold: keep a file with the right CRC, fetch it
 * otherwise. Files are checked by CRC once per process, then by existence. */
static void r_ensure_file(replica *r, httpc *h, rtable *t, const char *segment, bool check_crc,
                          bool republish)
{
    char path[PATH_MAX];
    if (!engine_seg_path(t->et, segment, "", path)) return;
    struct stat st;
    bool have = stat(path, &st) == 0;
    if (have && !check_crc) {
        if (republish) r_publish_state(r, t, segment, rsm_state_name(RSM_ONLINE));
        return;
    }
    char err[256];
    segmeta m;
    if (cstore_segment_get(r->cs, r->z, t->name, segment, &m, NULL, err, sizeof err) ||
        !segmeta_committed(&m)) {
        if (republish) atomic_store(&r->republish, true); /* its record is still owed */
        return;
    }
    uint32_t crc;
    bool ok = have && segfetch_file_crc(path, &crc) == 0 && crc == m.crc;
    if (!ok && !sl_backoff_due(&r->dl_backoff, sl_clock_wall_ms())) {
        if (republish) atomic_store(&r->republish, true);
        return; /* the disk failed: later */
    }
    if (have && !ok)
        SL_WARN("replica", "local file of %s has the wrong CRC: replacing it", segment);
    if (!ok) {
        int frc = r_fetch_committed(r, h, t, &m, "");
        ok = frc == 0;
        if (sl_err_is_disk(frc)) /* one backoff for the whole disk, not one per segment */
            sl_backoff_fail(&r->dl_backoff, sl_clock_wall_ms(), 0, 0);
        else if (ok)
            sl_backoff_reset(&r->dl_backoff);
    }
    /* a committed segment's record, not a partition's state: no machine moves */
    r_publish_state(r, t, segment, rsm_state_name(ok ? RSM_ONLINE : RSM_ERROR));
}

/* Whether segment is one that rp's completion threads are working on (cur HOLDING ..
 * DISCARDED, or an active prev): that thread publishes the file itself (on KEEP its own
 * build) or ends in ERROR, after which a reconcile fetches it; a download now would race it
 * for the same file. Control thread; mu guards the roll that rewrites cur and prev. */
static bool r_completing(replica *r, const rpart *rp, const char *segment)
{
    if (!rp) return false;
    pthread_mutex_lock(&r->mu);
    bool busy = rp->prev_active && strcmp(rp->prev.meta.segment, segment) == 0;
    if (!busy && strcmp(rp->cur.meta.segment, segment) == 0) {
        rsm_state st = rsm_get(&rp->cur.sm);
        busy =
            st == RSM_HOLDING || st == RSM_COMMITTING || st == RSM_RETAINING || st == RSM_DISCARDED;
    }
    pthread_mutex_unlock(&r->mu);
    return busy;
}

/* Pauseless: segment m is COMMITTING (its end fixed) and assigned here CONSUMING, but this
 * instance holds no rows of it (a restart, or its completion failed): rebuild it from Kafka
 * as prev while cur consumes on. Control thread; nothing happens while prev is busy, or
 * within RSM_ERROR_RETRY_MS of a prev that failed. */
static void r_maybe_rebuild(replica *r, rpart *rp, const segmeta *m)
{
    uint64_t now = sl_clock_wall_ms();
    pthread_mutex_lock(&r->mu);
    bool busy = rp->prev_active || strcmp(rp->cur.meta.segment, m->segment) == 0 ||
                (rp->prev_failed_ms && now < rp->prev_failed_ms + RSM_ERROR_RETRY_MS);
    if (!busy) {
        r_seg_reset(&rp->prev, rp, m);
        rp->prev_active = true;
    }
    pthread_mutex_unlock(&r->mu);
    if (busy) return;
    r_start_state(r, &rp->prev);
    r_enqueue(r, &rp->prev, 0);
}

/* A pushed segment assigned here (DESIGN §10) in state st: ONLINE, keep a file whose trailer
 * is the record's CRC, else serve the staged copy of that CRC (one rename: a replacement's
 * switch), else fetch the committed copy (store, leader, peers; verified before it replaces
 * the old file in one rename, so a reader has the old bytes or the new); OFFLINE (a
 * replacement's segmentsTo, not served until the switch), the same into the staged file,
 * reported STAGED.
 * Returns false when it is not in place. */
static bool r_ensure_pushed(replica *r, httpc *h, rtable *t, const char *segment, assign_state st,
                            bool republish)
{
    char path[PATH_MAX], staged[PATH_MAX], err[256];
    segmeta m;
    const char *as = st == ASSIGN_OFFLINE ? R_STAGED : "";
    if (!engine_seg_path(t->et, segment, "", path) ||
        !engine_seg_path(t->et, segment, R_STAGED, staged))
        return false;
    if (cstore_segment_get(r->cs, r->z, t->name, segment, &m, NULL, err, sizeof err) ||
        m.status != SEGMETA_UPLOADED)
        return false;
    /* what the replicas record reports: STAGED (held, not served) tells a replacement's client
     * the file is here, which the assignment's target OFFLINE cannot */
    const char *done = st == ASSIGN_OFFLINE ? "STAGED" : assign_state_name(st);
    uint32_t have;
    if (seg_reader_trailer(*as ? staged : path, &have) == 0 && have == m.crc) {
        if (republish) r_publish_state(r, t, segment, done);
        return true;
    }
    if (!*as && seg_reader_trailer(staged, &have) == 0 && have == m.crc &&
        engine_publish(t->et, segment, staged) == 0) {
        r_publish_state(r, t, segment, done);
        return true;
    }
    if (!sl_backoff_due(&r->dl_backoff, sl_clock_wall_ms())) return false; /* the disk failed */
    int frc = r_fetch_committed(r, h, t, &m, as);
    if (sl_err_is_disk(frc))
        sl_backoff_fail(&r->dl_backoff, sl_clock_wall_ms(), 0, 0);
    else if (frc == 0)
        sl_backoff_reset(&r->dl_backoff);
    r_publish_state(r, t, segment, frc == 0 ? done : rsm_state_name(RSM_ERROR));
    return frc == 0;
}

/* The target state a lists segment has on this instance, or -1 when none. */
static int r_target(const replica *r, const assign *a, size_t seg)
{
    for (uint32_t i = 0; i < a->seg[seg].inst.n; i++)
        if (strcmp(a->seg[seg].inst.id[i], r->o.instance_id) == 0) return (int)a->seg[seg].state[i];
    return -1;
}

/* Delete a pushed segment's file at path (served or staged) that is no longer assigned here
 * in that role. false when it stays. */
static bool r_drop_pushed_file(rtable *t, const char *name, const char *path, bool staged)
{
    char err[256];
    if (unlink(path) != 0 && errno != ENOENT) {
        SL_WARN("replica", "cannot delete segment file=%s err=%s", path, strerror(errno));
        return false;
    }
    fsutil_fsync_parent_dir(path, err, sizeof err);
    SL_INFO("replica", "table %s: segment %s%s is no longer assigned here: deleted", t->name, name,
            staged ? " (staged)" : "");
    return true;
}

/* Whether pushed file `name`, no longer assigned here, must stay a while: a completed
 * replacement took it out, and one of that replacement's new segments placed here is not in
 * place yet (missing: the names of those), so its rows are still served from the old file. */
static bool r_keep_replaced(const lineage *l, const char *name, char *const *missing,
                            size_t nmissing)
{
    for (size_t e = 0; e < l->n; e++) {
        const lineage_entry *x = &l->e[e];
        bool from = false;
        for (size_t k = 0; x->state == LINEAGE_COMPLETED && k < x->nfrom && !from; k++)
            from = strcmp(x->from[k], name) == 0;
        for (size_t k = 0; from && k < x->nto; k++)
            for (size_t m = 0; m < nmissing; m++)
                if (strcmp(x->to[k], missing[m]) == 0) return true;
    }
    return false;
}

/* The pushed segments of t, once per assignment version (a push, a refresh or a replacement's
 * switch rewrites it) or until all are in place: each one assigned here is held with its
 * record's CRC (served when ONLINE, staged when OFFLINE), and a pushed file no longer assigned
 * here is deleted (its state record dropped) unless a completed replacement's new segments
 * placed here are not all in place yet (r_keep_replaced): a replacement's old files leave a
 * sidecar only after its new ones are served there, whatever other segments are doing. */
static void r_reconcile_pushed(replica *r, httpc *h, rtable *t, const assign *a, int32_t version,
                               bool republish)
{
    if (version == t->pushed_version && !t->pushed_retry && !republish) return;
    bool all = true;
    char **missing = NULL; /* assigned here, not in place */
    size_t nmissing = 0;
    for (size_t i = 0; i < a->nseg; i++) {
        int st = segname_is_uploaded(a->seg[i].segment) ? r_target(r, a, i) : -1;
        if ((st == ASSIGN_ONLINE || st == ASSIGN_OFFLINE) &&
            !r_ensure_pushed(r, h, t, a->seg[i].segment, (assign_state)st, republish)) {
            all = false;
            missing = sl_xrealloc(missing, (nmissing + 1) * sizeof *missing);
            missing[nmissing++] = a->seg[i].segment; /* borrowed from a */
        }
    }
    lineage l = {0};
    bool have_lineage = false;
    DIR *d = opendir(engine_table_dir(t->et));
    struct dirent *de;
    while (d && (de = readdir(d))) {
        char name[SL_SEGNAME_MAX + 8], file[SL_SEGNAME_MAX + 16], path[PATH_MAX], err[256];
        size_t len = strlen(de->d_name), sl = strlen(R_STAGED);
        bool staged = len > sl && strcmp(de->d_name + len - sl, R_STAGED) == 0;
        snprintf(file, sizeof file, "%.*s", (int)(staged ? len - sl : len), de->d_name);
        if (!segname_any_of_file(file, name) || !segname_is_uploaded(name)) continue;
        assign_seg *as = assign_find((assign *)a, name);
        int st = as ? r_target(r, a, (size_t)(as - a->seg)) : -1;
        if (st == (staged ? ASSIGN_OFFLINE : ASSIGN_ONLINE)) continue;
        if (staged && st == ASSIGN_ONLINE) continue; /* served now: ensure renamed or replaced it */
        if (!staged && nmissing) {                   /* the lineage decides, read once */
            if (!have_lineage) {
                have_lineage =
                    cstore_lineage_get(r->cs, r_zk(r), t->name, &l, NULL, err, sizeof err) == 0;
                r_zk_done(r);
            }
            if (!have_lineage || r_keep_replaced(&l, name, missing, nmissing)) {
                all = false;
                continue;
            }
        }
        if (!engine_seg_path(t->et, name, staged ? R_STAGED : "", path)) continue;
        if (!r_drop_pushed_file(t, name, path, staged)) {
            all = false;
            continue;
        }
        if (st >= 0) continue; /* still assigned here in the other role: its state stays */
        pthread_mutex_lock(&r->state_mu);
        int rc = cstore_replica_record(r->cs, r_zk(r), t->name, r->o.instance_id, name, NULL);
        r_zk_done(r);
        pthread_mutex_unlock(&r->state_mu);
        if (rc) all = false;
    }
    if (d) closedir(d);
    lineage_free(&l);
    free(missing);
    t->pushed_version = version;
    t->pushed_retry = !all;
}

static bool r_reconcile_table(replica *r, httpc *h, rtable *t, bool first, bool republish)
{
    char err[256];
    assign a;
    int32_t aver;
    if (cstore_assign_get(r->cs, r->z, t->name, &a, &aver, err, sizeof err)) return false;
    r_reconcile_pushed(r, h, t, &a, aver, first || republish);
    for (uint32_t p = 0; p < a.npart; p++) {
        const char *consuming = NULL, *older[4];
        size_t nolder = 0;
        int64_t best = -1;
        rpart *rp = r_part(r, t, (int32_t)p);
        for (size_t s = 0; s < a.nseg; s++) {
            segname sn;
            if (segname_parse(a.seg[s].segment, &sn) || (uint32_t)sn.partition != p) continue;
            for (uint32_t i = 0; i < a.seg[s].inst.n; i++) {
                if (strcmp(a.seg[s].inst.id[i], r->o.instance_id) != 0) continue;
                if (a.seg[s].state[i] == ASSIGN_ONLINE) {
                    if (!r_completing(r, rp, a.seg[s].segment))
                        r_ensure_file(r, h, t, a.seg[s].segment, first, republish);
                    else if (republish) /* its record may be the one that failed: next pass */
                        atomic_store(&r->republish, true);
                }
                if (a.seg[s].state[i] != ASSIGN_CONSUMING) continue;
                if (sn.sequence > best) {
                    if (consuming && nolder < 4) older[nolder++] = consuming;
                    best = sn.sequence;
                    consuming = a.seg[s].segment;
                } else if (nolder < 4) {
                    older[nolder++] = a.seg[s].segment;
                }
            }
        }
        if (!consuming) continue;
        segmeta m;
        /* already on it, or still completing the previous segment (rsm S1..S4) */
        bool start = true;
        if (rp) {
            pthread_mutex_lock(&r->mu); /* a roll rewrites cur */
            start = rsm_may_start(&rp->cur.sm, strcmp(rp->cur.meta.segment, consuming) == 0,
                                  sl_clock_wall_ms());
            pthread_mutex_unlock(&r->mu);
        }
        if (start &&
            (cstore_segment_get(r->cs, r->z, t->name, consuming, &m, NULL, err, sizeof err) ||
             m.status != SEGMETA_IN_PROGRESS))
            start = false;
        if (start && !rp) {
            engine_part *ep = engine_part_add(r->e, t->et, (int32_t)p, sizeof(rpart));
            rp = engine_part_ctx(ep);
            rp->ep = ep;
            rp->t = t;
            rp->partition = (int32_t)p;
            rp->p = engine_part_pcons(ep);
            r_seg_reset(&rp->cur, rp, &m);
            pthread_mutex_lock(&r->mu);
            r->parts = sl_xrealloc(r->parts, (r->nparts + 1) * sizeof *r->parts);
            r->parts[r->nparts++] = rp;
            pthread_mutex_unlock(&r->mu);
            pcons_limits lim = r_limits(&m);
            pcons_start_segment(rp->p, m.sequence, m.segment, m.start_offset,
                                (uint64_t)m.creation_time_ms, &lim);
            r_start_state(r, &rp->cur);
            if (engine_part_consume(ep) != 0)
                SL_ERROR("replica", "cannot consume %s partition %u",
                         engine_table_cfg(t->et)->topic, p);
        } else if (start) {
            rseg *c = &rp->cur;                          /* ONLINE or ERROR: the control thread's */
            if (c->built_path[0]) unlink(c->built_path); /* a stale build of the old segment */
            c->built_path[0] = '\0';
            c->built_offset = -1;
            sl_backoff_reset(&c->disk_backoff);
            pthread_mutex_lock(&r->mu);
            c->meta = m;
            pthread_mutex_unlock(&r->mu);
            r_set_state(r, c, RSM_CONSUMING);
            start_arg sa = {rp, m};
            engine_part_call(rp->ep, r_start_fn, &sa);
        }
        /* force commit: the assignment asks for the consuming segment to end now */
        if (rp) {
            char name[SL_SEGNAME_MAX];
            pthread_mutex_lock(&r->mu);
            const char *job = assign_force_job(&a, rp->cur.meta.segment);
            int64_t seq = rp->cur.meta.sequence;
            bool ask = job && rsm_get(&rp->cur.sm) == RSM_CONSUMING &&
                       !(rp->forced && rp->forced_seq == seq);
            if (ask) {
                rp->forced = true;
                rp->forced_seq = seq;
                memcpy(name, rp->cur.meta.segment, sizeof name);
            }
            pthread_mutex_unlock(&r->mu);
            if (ask) {
                pcons_request_force(rp->p, seq);
                SL_INFO("replica", "force commit job=%s segment=%s: it ends at the next tick", job,
                        name);
            }
        }
        /* pauseless: an older consuming segment whose end is fixed, and whose rows this
         * instance does not hold, is rebuilt from Kafka */
        for (size_t i = 0; rp && i < nolder; i++) {
            segmeta om;
            if (!r_completing(r, rp, older[i]) &&
                cstore_segment_get(r->cs, r->z, t->name, older[i], &om, NULL, err, sizeof err) ==
                    0 &&
                om.status == SEGMETA_COMMITTING)
                r_maybe_rebuild(r, rp, &om);
        }
    }
    assign_free(&a);
    return true;
}

static int r_register(replica *r, char *err, size_t errlen)
{
    cstore_ensure_base(r->cs, r->z);
    int rc = cstore_instance_register(r->cs, r->z, r->o.instance_id, r->o.host, (unsigned)r->o.port,
                                      r->o.tls, true);
    if (rc) {
        char self[ZK_PATH_MAX];
        cstore_path(r->cs, CSTORE_INSTANCE, NULL, r->o.instance_id, self, sizeof self);
        snprintf(err, errlen, "cannot register %s: %s", self, sluice_strerror(rc));
    }
    uint64_t id;
    cstore_watch_tables(r->cs, r->z, r_watch_cb, r, &id);
    return rc;
}

static void r_on_session(void *ctx, zk_session_event ev)
{
    replica *r = ctx;
    if (ev == ZK_SESSION_EXPIRED) atomic_store(&r->expired, true);
    r_signal(r);
}

static void *r_control(void *arg)
{
    replica *r = arg;
    httpc *h = httpc_new();
    httpc_set_fetch_auth(h, r->o.fetch_ca_file, r->o.fetch_netrc_file); /* a pushed URI */
    httpc_set_bearer(h, r->o.token); /* the cluster's servers; never a pushed URI's */
    httpc_set_tls(h, r->o.tls_ca_file, r->o.tls_cert_file, r->o.tls_key_file);
    while (!atomic_load(&r->stop)) {
        pthread_mutex_lock(&r->mu);
        if (!r->dirty) {
            struct timespec ts = sl_clock_ts((int64_t)sl_clock_wall_ms() + 1000);
            pthread_cond_timedwait(&r->cv, &r->mu, &ts);
        }
        r->dirty = false;
        pthread_mutex_unlock(&r->mu);
        if (atomic_load(&r->stop)) break;
        if (atomic_load(&r->expired)) {
            char err[256];
            SL_WARN("replica", "zookeeper session expired: reconnecting");
            zk_opts zo = {.on_session = r_on_session, .ctx = r};
            zk *nz = zk_open(r->o.zk_connect, r->o.zk_session_timeout_ms, &zo, err, sizeof err);
            if (!nz) continue;
            pthread_rwlock_wrlock(&r->zk_lock); /* waits for calls in flight on the old one */
            zk *old = r->z;
            r->z = nz;
            pthread_rwlock_unlock(&r->zk_lock);
            zk_close(old);
            for (size_t i = 0; i < r->ntables; i++)
                cstore_watch_assignment(r->cs, r->z, r->tables[i]->name, r_watch_cb, r,
                                        &r->tables[i]->watch_id);
            atomic_store(&r->expired, !!r_register(r, err, sizeof err));
        }
        char **names = NULL;
        size_t n = 0;
        bool republish = atomic_exchange(&r->republish, false);
        bool whole = cstore_tables(r->cs, r->z, &names, &n) == 0;
        if (whole) {
            for (size_t i = 0; i < n; i++) {
                rtable *t = r_table(r, names[i]);
                if (t && !r_reconcile_table(r, h, t, !r->first_reconcile_done, republish))
                    whole = false;
            }
            r->first_reconcile_done = true;
        }
        /* a pass that could not read everything (a session just re-opened) republishes on
         * the next one: a failed state record must not be forgotten */
        if (!whole && republish) atomic_store(&r->republish, true);
        zk_free_strings(names, n);
    }
    httpc_free(h);
    return NULL;
}

/* ---- public ---------------------------------------------------------------------------- */

/* The scrub quarantined a rotten published file: the next reconcile finds it missing and
 * downloads the committed copy (r_ensure_file; a pushed segment's, r_ensure_pushed, runs again
 * only for a new assignment or a republish: one is asked for, the scrub thread never touches
 * the control thread's tables). */
static void r_on_corrupt(void *ctx, engine_table *t, const char *segment)
{
    replica *r = ctx;
    (void)t;
    SL_WARN("replica", "segment=%s failed the scrub: fetching the committed copy", segment);
    if (segname_is_uploaded(segment)) atomic_store(&r->republish, true);
    r_signal(r);
}

static const char *r_state(void *ctx, const engine_part *ep, bool *error)
{
    (void)ctx;
    const rpart *rp = engine_part_ctx(ep);
    rsm_state st = rsm_get(&rp->cur.sm);
    *error = st == RSM_ERROR;
    return rsm_state_name(st);
}

/* /health: the segment completing behind the consuming one (pauseless), if any. */
static void r_health_fields(void *ctx, const engine_part *ep, jsonw *w)
{
    replica *r = ctx;
    const rpart *rp = engine_part_ctx(ep);
    pthread_mutex_lock(&r->mu);
    if (rp->prev_active) {
        jsonw_key(w, "completingSegment");
        jsonw_cstr(w, rp->prev.meta.segment);
        jsonw_key(w, "completingState");
        jsonw_cstr(w, rsm_state_name(rsm_get(&rp->prev.sm)));
    }
    pthread_mutex_unlock(&r->mu);
}

/* Free r once no thread of its own runs (none started, or all joined). */
static void r_free(replica *r)
{
    rclient_free(r->rc);
    for (size_t i = 0; i < r->ntables; i++)
        zk_unwatch(r->z, r->tables[i]->watch_id);
    for (size_t i = 0; i < r->nparts; i++)
        pcons_frozen_free(&r->parts[i]->prev.frozen);
    engine_free(r->e); /* joins the consumer workers, frees the partitions and tables */
    free(r->parts);
    for (size_t i = 0; i < r->ntables; i++)
        free(r->tables[i]);
    zk_close(r->z);
    cstore_free(r->cs);
    sl_log_limit_free(r->lim);
    free(r->tables);
    free(r->jobs);
    free(r->completers);
    pthread_mutex_destroy(&r->mu);
    pthread_mutex_destroy(&r->state_mu);
    pthread_rwlock_destroy(&r->zk_lock);
    pthread_cond_destroy(&r->cv);
    free(r);
}

replica *replica_start(const replica_opts *o, char *err, size_t errlen)
{
    replica *r = sl_xcalloc(1, sizeof *r);
    r->o = *o;
    if ((unsigned)o->fault >= RFAULT__COUNT) r->o.fault = RFAULT_NONE;
    if (o->keep_skip_crc)
        SL_WARN("replica", "test knob: test.keep.skip.crc is on: KEEP publishes the local build "
                           "without comparing its CRC with the committed one");
    if (!(r->cs = cstore_new(o->cluster))) {
        snprintf(err, errlen, "cluster name too long for a ZooKeeper path");
        free(r);
        return NULL;
    }
    rclient_opts ro = {.peek = r_peek_leader,
                       .ctx = r,
                       .stop = &r->stop,
                       .token = r->o.token,
                       .tls_ca_file = r->o.tls_ca_file,
                       .tls_cert_file = r->o.tls_cert_file,
                       .tls_key_file = r->o.tls_key_file};
    r->rc = rclient_new(&ro);
    pthread_mutex_init(&r->mu, NULL);
    pthread_mutex_init(&r->state_mu, NULL);
    pthread_rwlock_init(&r->zk_lock, NULL);
    pthread_cond_init(&r->cv, NULL);
    static const char *const tl[] = {"table"};
    static const char *const td[] = {"table", "decision"};
    r->m_divergence =
        metrics_family_new(o->engine.metrics, METRICS_COUNTER, "sluice_replica_divergence_total",
                           "KEEP builds whose CRC differed from the committed one", tl, 1);
    r->m_decisions =
        metrics_family_new(o->engine.metrics, METRICS_COUNTER, "sluice_replica_completions_total",
                           "Segment completions by the controller's decision", td, 2);
    r->m_downloads =
        metrics_family_new(o->engine.metrics, METRICS_COUNTER, "sluice_segment_downloads_total",
                           "Committed segments downloaded and published (DISCARD, "
                           "a healed divergence, a missing or rotten file)",
                           tl, 1);
    r->m_bg_segments = metrics_family_new(
        o->engine.metrics, METRICS_GAUGE, "sluice_replica_completing_segments",
        "Pauseless completion: segments whose rows are held in memory while they complete "
        "behind the consuming one (at most one per partition)",
        tl, 1);
    r->m_bg_bytes =
        metrics_family_new(o->engine.metrics, METRICS_GAUGE, "sluice_replica_completing_bytes",
                           "Memory of the segments counted by "
                           "sluice_replica_completing_segments",
                           tl, 1);
    r->lim = sl_log_limit_new(0);
    engine_policy pol = {.ctx = r,
                         .on_full = r_on_full,
                         .state = r_state,
                         .health_fields = r_health_fields,
                         .on_corrupt = r_on_corrupt};
    engine_opts eo = o->engine;
    eo.log_tag = "replica";
    if (!(r->e = engine_new(&eo, &pol, err, errlen))) goto fail;
    r->disk = engine_disk(r->e);
    zk_opts zo = {.on_session = r_on_session, .ctx = r};
    if (!(r->z = zk_open(o->zk_connect, o->zk_session_timeout_ms, &zo, err, errlen))) goto fail;
    if (r_register(r, err, errlen)) goto fail;
    r->ncompleters = o->completion_threads > 0 ? o->completion_threads : 2;
    r->completers = sl_xcalloc((size_t)r->ncompleters, sizeof *r->completers);
    r->dirty = true;
    for (int i = 0; i < r->ncompleters; i++) {
        int prc = pthread_create(&r->completers[i], NULL, r_completer, r);
        if (prc != 0) {
            snprintf(err, errlen, "cannot start completion thread %d: %s", i, strerror(prc));
            r->ncompleters = i;
            goto fail_threads;
        }
    }
    int prc = pthread_create(&r->control, NULL, r_control, r);
    if (prc != 0) {
        snprintf(err, errlen, "cannot start the control thread: %s", strerror(prc));
        goto fail_threads;
    }
    r->control_started = true;
    SL_INFO("replica", "registered instance=%s host=%s port=%u", o->instance_id, o->host,
            (unsigned)o->port);
    return r;
fail_threads:
    replica_stop(r);
    return NULL;
fail:
    r_free(r);
    return NULL;
}

engine *replica_engine(replica *r)
{
    return r->e;
}

void replica_stop(replica *r)
{
    if (!r) return;
    atomic_store(&r->stop, true);
    pthread_mutex_lock(&r->mu);
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    if (r->control_started) pthread_join(r->control, NULL);
    for (int i = 0; i < r->ncompleters; i++)
        pthread_join(r->completers[i], NULL);
    r_free(r);
}
