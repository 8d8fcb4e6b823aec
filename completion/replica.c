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
#include "segment/segname.h"
#include "common/xalloc.h"
#include "common/clock.h"

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

/* A table this instance consumes: the engine's table, and the watch on its assignment. */
typedef struct rtable {
    char name[SL_IDENT_MAX + 1];
    engine_table *et;
    uint64_t watch_id;
} rtable;

/* The policy's state of one partition (the engine part's area). */
typedef struct rpart {
    engine_part *ep;
    rtable *t;
    int32_t partition;
    pcons *p;              /* engine_part_pcons(ep) */
    rsm sm;                /* its state; changed only by r_set_state and r_start_state */
    segmeta meta;          /* the segment being consumed or completed */
    uint64_t job_due_ms;   /* a queued completion waits until then (disk backoff); under mu */
    bool job_disk_wait;    /* ... or until the local disk state is OK again; under mu */
    sl_backoff disk_backoff; /* environmental failures of this segment's completion */
    int64_t built_offset;  /* a build of meta.segment up to this offset is at built_path */
    uint32_t built_crc;
    char built_path[PATH_MAX];
} rpart;

struct replica {
    replica_opts o;
    cstore *cs;             /* the cluster's ZooKeeper layout; immutable */
    zk *z;
    _Atomic bool expired;
    _Atomic bool republish; /* a state record failed (session expired...): the next reconcile
                               writes the ONLINE records again */
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* control: dirty; completion: jobs */
    engine *e;              /* the tables, partitions, builds and files */
    rtable **tables;        /* control thread only */
    size_t ntables;
    rpart **jobs;
    size_t njobs, capjobs;
    bool dirty;
    bool first_reconcile_done;
    rclient *rc;            /* the link to the leading controller */
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
    diskstate *disk;      /* the engine's */
    sl_log_limit *lim;    /* repeated non-disk failures (download sources, a full store) */
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
    rpart *rp;
} r_enter_ctx;

/* rsm's enter hook: a legal move to a published state is recorded first. Once ONLINE or
 * ERROR is visible the control thread may move rp on to the next segment (rp->meta changes),
 * and the record must name this one. */
static void r_on_enter(void *ctx, rsm_state to)
{
    r_enter_ctx *c = ctx;
    if (rsm_published(to))
        r_publish_state(c->r, c->rp->t, c->rp->meta.segment, rsm_state_name(to));
}

/* The one place a started partition's state changes: checked by the legality table, recorded
 * when published, logged. False (and nothing done) for an illegal move. */
static bool r_set_state(replica *r, rpart *rp, rsm_state to)
{
    r_enter_ctx c = {r, rp};
    rsm_who who = {rp->t->name, rp->partition, rp->meta.segment};
    return rsm_transition(&rp->sm, to, &who, sl_clock_wall_ms(), r_on_enter, &c);
}

/* A new partition's first segment: NEW -> CONSUMING, recorded. */
static void r_start_state(replica *r, rpart *rp)
{
    r_enter_ctx c = {r, rp};
    rsm_who who = {rp->t->name, rp->partition, rp->meta.segment};
    rsm_start(&rp->sm, &who, sl_clock_wall_ms(), r_on_enter, &c);
}

/* Wait until at_ms (a decision's time; now or past: no wait). */
static void r_sleep_until(uint64_t at_ms)
{
    sl_clock_sleep_ms((int64_t)at_ms - (int64_t)sl_clock_wall_ms());
}

/* ---- files ------------------------------------------------------------------------- */

/* Download url as segment of t, verified and published (segfetch_url). */
static int r_download(replica *r, httpc *h, const rtable *t, const char *segment,
                      const char *url, uint32_t expect_crc)
{
    int rc = segfetch_url(h, t->et, segment, url, expect_crc, r->disk, r->lim);
    if (rc == 0) {
        const char *tl[] = {t->name};
        metrics_counter_add(metrics_counter_with(r->m_downloads, tl), 1);
    }
    return rc;
}

/* Download a committed segment: the segment store first, then the peers that hold it. A full
 * or failing local disk ends the search at once (every other source would fail alike). */
static int r_fetch_committed(replica *r, httpc *h, const rtable *t, const segmeta *m)
{
    int drc = m->download_url[0] ? r_download(r, h, t, m->segment, m->download_url, m->crc)
                                 : SL_ENOENT;
    if (drc == 0 || sl_err_is_disk(drc)) return drc;
    /* the URL names the controller that committed it; the leader of now serves the same
     * store when it is shared (deepstore.uri) */
    char leader[512], url[1024];
    rclient_leader(r->rc, leader, sizeof leader);
    if (leader[0]) {
        snprintf(url, sizeof url, "%s/segments/%s/%s", leader, t->name, m->segment);
        if (strcmp(url, m->download_url) != 0) {
            drc = r_download(r, h, t, m->segment, url, m->crc);
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
        char host[256];
        int64_t port;
        int arc = cstore_instance_addr(r->cs, r_zk(r), as->inst.id[i], host, sizeof host, &port);
        r_zk_done(r);
        if (arc == 0) {
            char url[1024];
            snprintf(url, sizeof url, "http://%s:%lld/segments/%s/%s", host, (long long)port,
                     t->name, m->segment);
            rc = r_download(r, h, t, m->segment, url, m->crc);
        }
    }
    assign_free(&a);
    return rc;
}

/* Build the held segment locally (reusing a build of the same offset) into `<segment>.seg.build`.
 * Returns 0 or engine_build's error: deterministic (the rows, logged as an error) or
 * environmental (disk full, I/O error, ...: reported to the disk state). */
static int r_build(replica *r, rpart *rp, uint32_t *crc, uint64_t *size)
{
    int64_t end = pcons_next_offset(rp->p);
    char path[PATH_MAX];
    if (!engine_seg_path(rp->t->et, rp->meta.segment, ".build", path)) return SL_EINVAL;
    struct stat st;
    if (rp->built_offset == end && strcmp(rp->built_path, path) == 0 && stat(path, &st) == 0) {
        *crc = rp->built_crc;
        *size = (uint64_t)st.st_size;
        return 0;
    }
    engine_built b;
    int rc = engine_build(r->e, rp->ep, ".build", &b);
    if (rc) return rc;
    *crc = b.crc;
    *size = b.size;
    rp->built_offset = end;
    rp->built_crc = b.crc;
    memcpy(rp->built_path, b.path, sizeof b.path);
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
static int r_commit(replica *r, httpc *h, rpart *rp, rpc_req *rq, int32_t budget_s)
{
    uint32_t crc;
    uint64_t size;
    rclient_lease *lease = rclient_lease_start(r->rc, rq, budget_s);
    int64_t t0 = sl_clock_mono_ms();
    int rc = r_build(r, rp, &crc, &size);
    int64_t t1 = sl_clock_mono_ms();
    rclient_lease_end(lease);
    rq->build_millis = t1 - t0;
    if (rc) {
        /* build_millis > 0 in StoppedConsuming makes the controller halve the threshold:
         * only rows that cannot be built may do that, never a full or failing disk */
        if (!sl_err_is_deterministic(rc)) rq->build_millis = 0;
        else if (rq->build_millis < 1) rq->build_millis = 1;
        return rc;
    }
    rfault_at(r->o.fault, RFAULT_AT_BEFORE_COMMIT_START, &r->fault_fired, rp->meta.segment);
    rpc_resp rs;
    if (rclient_call(r->rc, h, RPC_COMMIT_START, rq, &rs) || rs.status != RPC_STATUS_COMMIT_CONTINUE)
        return SL_ECONFLICT;
    char leader[512], url[1024];
    rclient_leader(r->rc, leader, sizeof leader);
    snprintf(url, sizeof url, "%s/segments/%s/%s", leader, rp->t->name, rp->meta.segment);
    httpc_resp ur;
    httpc_resp_init(&ur, 1 << 16);
    t0 = sl_clock_mono_ms();
    rc = httpc_put_file(h, url, rp->built_path, 300000, &ur);
    long upload_ms = (long)(sl_clock_mono_ms() - t0);
    bool uploaded = rc == 0 && ur.status == 200;
    bool store_full = rc == 0 && ur.status == 507; /* Insufficient Storage */
    if (store_full)
        SL_LOG_LIMITED(r->lim, "upload.enospc", SL_LOG_WARN, "replica",
                       "upload refused: the controller's segment store is full segment=%s %s",
                       rp->meta.segment, ur.body ? ur.body : "");
    else if (!uploaded)
        SL_WARN("replica", "upload failed segment=%s status=%ld %s", rp->meta.segment, ur.status,
                ur.body ? ur.body : "");
    httpc_resp_free(&ur);
    if (!uploaded) return store_full ? SL_ENOSPACE : SL_ETRANSIENT;
    rfault_at(r->o.fault, RFAULT_AT_AFTER_UPLOAD, &r->fault_fired, rp->meta.segment);
    rq->crc = crc;
    rq->size_bytes = (int64_t)size;
    snprintf(rq->location, sizeof rq->location, "%s", url);
    /* the same moment as after_upload for now; with pauseless completion (DESIGN §9) the
     * upload and CommitEnd come apart, and so do the two points */
    rfault_at(r->o.fault, RFAULT_AT_BEFORE_COMMIT_END, &r->fault_fired, rp->meta.segment);
    if (rclient_call(r->rc, h, RPC_COMMIT_END, rq, &rs) || rs.status != RPC_STATUS_COMMIT_SUCCESS)
        return SL_ECONFLICT;
    SL_INFO("replica", "committed segment=%s build_ms=%lld upload_ms=%ld bytes=%" PRIu64,
            rp->meta.segment, (long long)rq->build_millis, upload_ms, size);
    return engine_publish(rp->t->et, rp->meta.segment, rp->built_path);
}

/* KEEP: build locally and compare with the committed CRC; heal a divergence by download.
 * A build that failed on a full or failing disk returns its error (the caller retries later:
 * a download would need the same disk); one that failed on its rows downloads. */
static int r_keep(replica *r, httpc *h, rpart *rp, const rpc_resp *rs)
{
    uint32_t crc = 0;
    uint64_t size;
    int brc = r_build(r, rp, &crc, &size);
    rfault_at(r->o.fault, RFAULT_AT_DURING_KEEP, &r->fault_fired, rp->meta.segment);
    if (brc == 0 && (crc == rs->crc || r->o.keep_skip_crc)) {
        if (crc != rs->crc)
            SL_WARN("replica",
                    "test knob: publishing a divergent build segment=%s local_crc=%" PRIu32
                    " committed_crc=%" PRIu32,
                    rp->meta.segment, crc, rs->crc);
        return engine_publish(rp->t->et, rp->meta.segment, rp->built_path);
    }
    if (sl_err_is_disk(brc)) return brc;
    if (brc == 0) {
        const char *tp[] = {rp->t->name};
        metrics_counter_add(metrics_counter_with(r->m_divergence, tp), 1);
        SL_ERROR("replica", "divergence table=%s segment=%s local_crc=%" PRIu32
                            " committed_crc=%" PRIu32 ": healing by download",
                 rp->t->name, rp->meta.segment, crc, rs->crc);
    } else {
        SL_WARN("replica", "local build failed segment=%s err=%s: downloading the committed copy",
                rp->meta.segment, sluice_strerror(brc));
    }
    unlink(rp->built_path);
    rp->built_offset = -1;
    segmeta m = rp->meta;
    m.crc = rs->crc;
    if (strlen(rs->segment_location) < sizeof m.download_url)
        memcpy(m.download_url, rs->segment_location, strlen(rs->segment_location) + 1);
    return r_fetch_committed(r, h, rp->t, &m);
}

/* DISCARD: take the committed copy (its CRC from ZooKeeper). */
static int r_discard(replica *r, httpc *h, rpart *rp)
{
    char err[256];
    segmeta m;
    int rc = cstore_segment_get(r->cs, r_zk(r), rp->t->name, rp->meta.segment, &m, NULL, err,
                                sizeof err);
    r_zk_done(r);
    if (rc) return rc; /* as in r_fetch_committed */
    if (!segmeta_committed(&m)) return SL_ESTATE;
    rfault_at(r->o.fault, RFAULT_AT_DURING_DISCARD, &r->fault_fired, rp->meta.segment);
    return r_fetch_committed(r, h, rp->t, &m);
}

static void r_decision(replica *r, const rpart *rp, const char *d)
{
    const char *l[] = {rp->t->name, d};
    metrics_counter_add(metrics_counter_with(r->m_decisions, l), 1);
}

/* RSM_DO_BACKOFF, an environmental failure of rp's completion: the partition stays HOLDING
 * with its rows and the job comes back after the backoff (1 s doubling to 60 s), or as soon as
 * the local disk is usable again when the failure was local (some other write succeeded
 * meanwhile). Returns when it is due. */
static uint64_t r_disk_retry(replica *r, rpart *rp, int rc)
{
    uint64_t now = sl_clock_wall_ms();
    uint64_t due = rsm_backoff(&rp->disk_backoff, now);
    bool local = diskstate_get(r->disk) != DISKSTATE_OK; /* else the controller's store */
    pthread_mutex_lock(&r->mu);
    rp->job_disk_wait = local;
    pthread_mutex_unlock(&r->mu);
    SL_DEBUG("replica", "segment=%s retry in %" PRIu64 " ms after err=%s", rp->meta.segment,
             due - now, sluice_strerror(rc));
    r_set_state(r, rp, RSM_HOLDING);
    return due;
}

/* One held segment on a completion thread: report, let the state machine decide on the reply
 * (rsm_on_reply) and on the result of the action (rsm_on_result), perform what it says.
 * Returns 0 when the job is over (ONLINE, ERROR, or consuming again to catch up), or the time
 * at which it must run again (an environmental failure: see r_disk_retry). */
static uint64_t r_complete(replica *r, httpc *h, rpart *rp)
{
    static const rpc_reason reasons[] = {
        [PCONS_END_NONE] = RPC_REASON_UNSPECIFIED, [PCONS_END_ROWS] = RPC_REASON_ROW_LIMIT,
        [PCONS_END_TIME] = RPC_REASON_TIME_LIMIT,  [PCONS_END_SIZE] = RPC_REASON_SIZE_LIMIT,
        [PCONS_END_OFFSET] = RPC_REASON_END_OF_PARTITION, [PCONS_END_FORCE] = RPC_REASON_FORCE_COMMIT};
    while (!atomic_load(&r->stop)) {
        rpc_req rq;
        rpc_resp rs;
        memset(&rq, 0, sizeof rq);
        snprintf(rq.segment, sizeof rq.segment, "%s", rp->meta.segment);
        snprintf(rq.instance, sizeof rq.instance, "%s", r->o.instance_id);
        rq.offset = pcons_next_offset(rp->p);
        rq.reason = reasons[pcons_end_reason(rp->p)];
        rq.rows = (int64_t)mseg_rows(pcons_segment(rp->p));
        rq.memory_bytes = (int64_t)mseg_memory_bytes(pcons_segment(rp->p));
        bool replied = rclient_call(r->rc, h, RPC_SEGMENT_CONSUMED, &rq, &rs) == 0;
        rsm_step st = rsm_on_reply(replied, replied ? rs.status : RPC_STATUS_UNSPECIFIED,
                                   replied ? rs.offset : -1, rq.offset, sl_clock_wall_ms());
        int rc;
        switch (st.act) {
        case RSM_DO_CATCH_UP: {
            r_decision(r, rp, st.decision);
            sl_backoff_reset(&rp->disk_backoff);
            r_set_state(r, rp, st.next);
            catchup_arg a = {rp, st.offset};
            engine_part_call(rp->ep, r_catchup_fn, &a);
            return 0; /* the partition consumes again; FULL brings it back here */
        }
        case RSM_DO_COMMIT:
            r_set_state(r, rp, st.next);
            rc = r_commit(r, h, rp, &rq, rs.build_seconds);
            break;
        case RSM_DO_KEEP:
            r_set_state(r, rp, st.next);
            rc = r_keep(r, h, rp, &rs);
            break;
        case RSM_DO_DISCARD:
            r_set_state(r, rp, st.next);
            rc = r_discard(r, h, rp);
            break;
        default: /* RSM_DO_REPORT: HOLD, no reply, or nothing usable yet */
            r_sleep_until(st.at_ms);
            continue;
        }
        rsm_step out = rsm_on_result(st.next, rc);
        if (out.act == RSM_DO_REPORT) { /* the commit was refused: report again at once */
            r_set_state(r, rp, out.next);
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
        if (out.act == RSM_DO_BACKOFF) return r_disk_retry(r, rp, rc);
        /* RSM_DO_DONE: ONLINE, or ERROR (restarted from the segment's start later) */
        if (out.decision) r_decision(r, rp, out.decision);
        if (out.reset_backoff) sl_backoff_reset(&rp->disk_backoff);
        r_set_state(r, rp, out.next);
        return 0;
    }
    return 0;
}

/* Queue rp's completion to run at due_ms (0 = now) on a completion thread. */
static void r_enqueue(replica *r, rpart *rp, uint64_t due_ms)
{
    pthread_mutex_lock(&r->mu);
    if (!due_ms) rp->job_disk_wait = false;
    if (r->njobs == r->capjobs) {
        r->capjobs = r->capjobs ? r->capjobs * 2 : 16;
        r->jobs = sl_xrealloc(r->jobs, r->capjobs * sizeof *r->jobs);
    }
    rp->job_due_ms = due_ms;
    r->jobs[r->njobs++] = rp;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static void *r_completer(void *arg)
{
    replica *r = arg;
    httpc *h = httpc_new();
    pthread_mutex_lock(&r->mu);
    while (!atomic_load(&r->stop)) {
        /* the first job that is due, in queue order; else sleep until the earliest one (at
         * most 1 s while a job waits for the local disk, whose recovery nothing signals) */
        uint64_t now = sl_clock_wall_ms(), wake = UINT64_MAX;
        size_t pick = r->njobs;
        bool disk_ok = diskstate_get(r->disk) == DISKSTATE_OK;
        for (size_t i = 0; i < r->njobs && pick == r->njobs; i++) {
            const rpart *j = r->jobs[i];
            if (j->job_due_ms <= now || (j->job_disk_wait && disk_ok)) pick = i;
            else if (j->job_due_ms < wake) wake = j->job_due_ms;
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
        rpart *rp = r->jobs[pick];
        memmove(r->jobs + pick, r->jobs + pick + 1, (--r->njobs - pick) * sizeof *r->jobs);
        pthread_mutex_unlock(&r->mu);
        uint64_t again = r_complete(r, h, rp);
        if (again && !atomic_load(&r->stop))
            r_enqueue(r, rp, again); /* still HOLDING: the disk is retried later */
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
    r_set_state(r, rp, RSM_HOLDING);
    r_enqueue(r, rp, 0);
    return CPOOL_HOLD;
}

typedef struct start_arg {
    rpart *rp;
    segmeta m;
} start_arg;

static pcons_limits r_limits(const segmeta *m)
{
    pcons_limits lim = {.rows = m->flush_rows > 0 ? (uint64_t)m->flush_rows : 0,
                        .time_ms = m->flush_time_ms > 0 ? (uint64_t)m->flush_time_ms : 0,
                        .end_offset = -1};
    if (!lim.rows && !lim.time_ms) lim.rows = FLUSH_DEFAULT_ROWS;
    return lim;
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
    schema *sch = schema_parse(sj, sl, "zookeeper schema", err, sizeof err);
    tcfg *cfg = sch ? tcfg_parse(tj, tl, "zookeeper config", sch, err, sizeof err) : NULL;
    free(sj);
    free(tj);
    if (!cfg || cfg->type != TCFG_REALTIME) {
        if (!cfg) SL_ERROR("replica", "table %s: unusable config: %s", name, err);
        tcfg_free(cfg);
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
        !segmeta_committed(&m))
        return;
    uint32_t crc;
    bool ok = have && segfetch_file_crc(path, &crc) == 0 && crc == m.crc;
    if (!ok && !sl_backoff_due(&r->dl_backoff, sl_clock_wall_ms()))
        return; /* the disk failed: later */
    if (have && !ok) SL_WARN("replica", "local file of %s has the wrong CRC: replacing it", segment);
    if (!ok) {
        int frc = r_fetch_committed(r, h, t, &m);
        ok = frc == 0;
        if (sl_err_is_disk(frc)) /* one backoff for the whole disk, not one per segment */
            sl_backoff_fail(&r->dl_backoff, sl_clock_wall_ms(), 0, 0);
        else if (ok)
            sl_backoff_reset(&r->dl_backoff);
    }
    /* a committed segment's record, not a partition's state: no machine moves */
    r_publish_state(r, t, segment, rsm_state_name(ok ? RSM_ONLINE : RSM_ERROR));
}

/* Whether segment is the one rp's completion thread is working on (HOLDING .. DISCARDED):
 * that thread publishes the file itself (on KEEP its own build) or ends in ERROR, after which
 * a reconcile fetches it; a download now would race it for the same file. Control thread
 * (rp->meta's writer). */
static bool r_completing(const rpart *rp, const char *segment)
{
    if (!rp || strcmp(rp->meta.segment, segment) != 0) return false;
    rsm_state st = rsm_get(&rp->sm);
    return st == RSM_HOLDING || st == RSM_COMMITTING || st == RSM_RETAINING ||
           st == RSM_DISCARDED;
}

/* Returns false when t's assignment could not be read (nothing was reconciled). */
static bool r_reconcile_table(replica *r, httpc *h, rtable *t, bool first, bool republish)
{
    char err[256];
    assign a;
    if (cstore_assign_get(r->cs, r->z, t->name, &a, NULL, err, sizeof err)) return false;
    for (uint32_t p = 0; p < a.npart; p++) {
        const char *consuming = NULL;
        int64_t best = -1;
        rpart *rp = r_part(r, t, (int32_t)p);
        for (size_t s = 0; s < a.nseg; s++) {
            segname sn;
            if (segname_parse(a.seg[s].segment, &sn) || (uint32_t)sn.partition != p) continue;
            for (uint32_t i = 0; i < a.seg[s].inst.n; i++) {
                if (strcmp(a.seg[s].inst.id[i], r->o.instance_id) != 0) continue;
                if (a.seg[s].state[i] == ASSIGN_ONLINE) {
                    if (!r_completing(rp, a.seg[s].segment))
                        r_ensure_file(r, h, t, a.seg[s].segment, first, republish);
                    else if (republish) /* its record may be the one that failed: next pass */
                        atomic_store(&r->republish, true);
                }
                if (a.seg[s].state[i] == ASSIGN_CONSUMING && sn.sequence > best) {
                    best = sn.sequence;
                    consuming = a.seg[s].segment;
                }
            }
        }
        if (!consuming) continue;
        /* already on it, or still completing the previous segment (rsm S1..S4) */
        if (rp &&
            !rsm_may_start(&rp->sm, strcmp(rp->meta.segment, consuming) == 0, sl_clock_wall_ms()))
            continue;
        segmeta m;
        if (cstore_segment_get(r->cs, r->z, t->name, consuming, &m, NULL, err, sizeof err) ||
            m.status != SEGMETA_IN_PROGRESS)
            continue;
        if (!rp) {
            engine_part *ep = engine_part_add(r->e, t->et, (int32_t)p, sizeof(rpart));
            rp = engine_part_ctx(ep);
            rp->ep = ep;
            rp->t = t;
            rp->partition = (int32_t)p;
            rp->built_offset = -1;
            rp->p = engine_part_pcons(ep);
            rp->meta = m;
            pcons_limits lim = r_limits(&m);
            pcons_start_segment(rp->p, m.sequence, m.segment, m.start_offset,
                                (uint64_t)m.creation_time_ms, &lim);
            r_start_state(r, rp);
            if (engine_part_consume(ep) != 0)
                SL_ERROR("replica", "cannot consume %s partition %u",
                         engine_table_cfg(t->et)->topic, p);
            continue;
        }
        if (rp->built_path[0]) unlink(rp->built_path); /* a stale build of the old segment */
        rp->built_path[0] = '\0';
        rp->built_offset = -1;
        sl_backoff_reset(&rp->disk_backoff);
        rp->meta = m;
        r_set_state(r, rp, RSM_CONSUMING);
        start_arg sa = {rp, m};
        engine_part_call(rp->ep, r_start_fn, &sa);
    }
    assign_free(&a);
    return true;
}

static int r_register(replica *r, char *err, size_t errlen)
{
    cstore_ensure_base(r->cs, r->z);
    int rc = cstore_instance_register(r->cs, r->z, r->o.instance_id, r->o.host,
                                      (unsigned)r->o.port, true);
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
 * downloads the committed copy (r_ensure_file). */
static void r_on_corrupt(void *ctx, engine_table *t, const char *segment)
{
    (void)t;
    SL_WARN("replica", "segment=%s failed the scrub: fetching the committed copy", segment);
    r_signal(ctx);
}

static const char *r_state(void *ctx, const engine_part *ep, bool *error)
{
    (void)ctx;
    const rpart *rp = engine_part_ctx(ep);
    rsm_state st = rsm_get(&rp->sm);
    *error = st == RSM_ERROR;
    return rsm_state_name(st);
}

/* Free r once no thread of its own runs (none started, or all joined). */
static void r_free(replica *r)
{
    rclient_free(r->rc);
    for (size_t i = 0; i < r->ntables; i++) zk_unwatch(r->z, r->tables[i]->watch_id);
    engine_free(r->e); /* joins the consumer workers, frees the partitions and tables */
    for (size_t i = 0; i < r->ntables; i++) free(r->tables[i]);
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
    rclient_opts ro = {.peek = r_peek_leader, .ctx = r, .stop = &r->stop};
    r->rc = rclient_new(&ro);
    pthread_mutex_init(&r->mu, NULL);
    pthread_mutex_init(&r->state_mu, NULL);
    pthread_rwlock_init(&r->zk_lock, NULL);
    pthread_cond_init(&r->cv, NULL);
    static const char *const tl[] = {"table"};
    static const char *const td[] = {"table", "decision"};
    r->m_divergence = metrics_family_new(o->engine.metrics, METRICS_COUNTER,
                                         "sluice_replica_divergence_total",
                                         "KEEP builds whose CRC differed from the committed one",
                                         tl, 1);
    r->m_decisions = metrics_family_new(o->engine.metrics, METRICS_COUNTER,
                                        "sluice_replica_completions_total",
                                        "Segment completions by the controller's decision", td, 2);
    r->m_downloads = metrics_family_new(o->engine.metrics, METRICS_COUNTER,
                                        "sluice_segment_downloads_total",
                                        "Committed segments downloaded and published (DISCARD, "
                                        "a healed divergence, a missing or rotten file)",
                                        tl, 1);
    r->lim = sl_log_limit_new(0);
    engine_policy pol = {.ctx = r, .on_full = r_on_full, .state = r_state,
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

engine *replica_engine(replica *r) { return r->e; }

void replica_stop(replica *r)
{
    if (!r) return;
    atomic_store(&r->stop, true);
    pthread_mutex_lock(&r->mu);
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    if (r->control_started) pthread_join(r->control, NULL);
    for (int i = 0; i < r->ncompleters; i++) pthread_join(r->completers[i], NULL);
    r_free(r);
}
