/* The controller (see controller.h for the contract). Its ZooKeeper state (DESIGN §5) is
 * read and written through the cluster store (cluster_store.h), which owns the layout.
 *
 * Locking: `mu` guards the state machine table; it is never held across a ZooKeeper call,
 * a file operation or a network call. A machine that is committing is pinned by a
 * reference so a leadership loss (which drops every machine) cannot free it under the
 * committing thread. `zk_lock` (rwlock) guards the ZooKeeper handle, which the ticker
 * replaces after a session expiry. */
#include "completion/controller.h"
#include "common/diskstate.h"
#include "common/jsonw.h"
#include "common/log.h"
#include "common/schema.h"
#include "common/sl_err.h"
#include "common/table_config.h"
#include "completion/assign.h"
#include "completion/cluster_store.h"
#include "completion/rpc.h"
#include "completion/segmeta.h"
#include "completion/segstore.h"
#include "completion/zk.h"
#include "consumer/flush.h"
#include "consumer/kmeta.h"
#include "segment/seg_reader.h"
#include "segment/segname.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CTL_TICK_MS 100
#define CTL_COMMIT_RETRIES 8
#define CTL_TABLE_BODY_MAX (1u << 20)
#define CTL_FSM_IDLE_MS (10 * 60 * 1000) /* forget a COMMITTED machine after this */
#define CTL_KAFKA_TIMEOUT_MS 3000 /* POST /tables: the whole Kafka metadata read */
#define STR_(x) #x
#define STR(x) STR_(x)
#define CTL_HWM_TIMEOUT_MS 2000   /* one watermark query confirming a reported offset */
#define CTL_HWM_MIN_GAP_MS 1000   /* ask Kafka at most once a second per segment */

/* One segment's state machine and what the controller knows to check its messages against
 * (see "input checks"): the segment's start offset, the instances the assignment lists for
 * it, and the highest offset Kafka confirmed for its partition. */
typedef struct ctl_fsm {
    char segment[SEGNAME_MAX];
    char table[SEGNAME_TABLE_MAX + 1];
    cfsm *f;
    int refs;       /* pinned by a thread that dropped mu */
    bool dead;      /* dropped from the table (leadership lost) */
    uint64_t touched_ms;
    int32_t partition;
    int64_t start_offset;
    int64_t known_high;       /* offsets up to this are known to exist in Kafka */
    uint64_t high_asked_ms;   /* when Kafka was last asked */
    assign_list members;      /* instances the assignment lists for the segment */
} ctl_fsm;

typedef struct ctl_table {
    char name[SEGNAME_TABLE_MAX + 1];
    schema *schema;
    tcfg *cfg;
    pthread_mutex_t rk_mu; /* creates rk once */
    rd_kafka_t *rk;        /* watermark queries; NULL until the first */
} ctl_table;

struct ctl {
    ctl_opts o;
    char advertise[512];
    _Atomic bool running; /* ZooKeeper connected once and the ticker started */
    cstore *cs; /* the cluster's ZooKeeper layout; immutable */
    pthread_rwlock_t zk_lock;
    zk *z;
    zk_election *el;
    _Atomic bool expired;
    _Atomic bool leader;
    pthread_mutex_t mu; /* fsms, tables, leader_url */
    char leader_url[512];
    ctl_fsm **fsms;
    size_t nfsms, capfsms;
    ctl_table **tables; /* each allocated once and never moved: callers keep the pointer */
    size_t ntables;
    segstore *store;
    httpd *http;
    pthread_t ticker;
    _Atomic bool stop;
    uint64_t next_repair_ms;
    metrics_family *m_rpcs, *m_rpc_seconds;
    metrics_counter *m_commits, *m_commit_fail;
    metrics_gauge *m_leader;
    diskstate *disk; /* the segment store's disk, for /health and /metrics */
    sl_log_limit *loglim; /* lines a hostile client or a bad record would repeat */
};

static uint64_t ctl__now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static double ctl__mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- ZooKeeper access ------------------------------------------------------------------ */

static zk *ctl__zk(ctl *c)
{
    pthread_rwlock_rdlock(&c->zk_lock);
    return c->z;
}

static void ctl__zk_done(ctl *c)
{
    pthread_rwlock_unlock(&c->zk_lock);
}

/* Read and decode a segment's metadata; a record that does not decode is SL_ECORRUPT with
 * the reason in err (*version is set for it too, so repair can replace it). */
static int ctl__read_meta(ctl *c, zk *z, const char *table, const char *seg, segmeta *m,
                          int32_t *version, char *err, size_t errlen)
{
    return cstore_segment_get(c->cs, z, table, seg, m, version, err, errlen);
}

static int ctl__get_meta(ctl *c, zk *z, const char *table, const char *seg, segmeta *m,
                         int32_t *version)
{
    char err[256];
    int rc = ctl__read_meta(c, z, table, seg, m, version, err, sizeof err);
    if (rc == SL_ECORRUPT)
        SL_LOG_LIMITED(c->loglim, "record.unreadable", SL_LOG_ERROR, "controller",
                       "unreadable segment record table=%s segment=%s err=\"%s\"", table, seg,
                       err);
    return rc;
}

static int ctl__get_assign(ctl *c, zk *z, const char *table, assign *a, int32_t *version)
{
    char err[256];
    int rc = cstore_assign_get(c->cs, z, table, a, version, err, sizeof err);
    if (rc == SL_ECORRUPT) {
        char path[ZK_PATH_MAX];
        cstore_path(c->cs, CSTORE_ASSIGNMENT, table, NULL, path, sizeof path);
        SL_ERROR("controller", "bad assignment path=%s err=%s", path, err);
    }
    return rc;
}

static bool ctl__instance_live(ctl *c, zk *z, const char *id)
{
    return cstore_instance_exists(c->cs, z, id) == 0;
}

/* The table's config and schema, parsed once and cached (tables are immutable). */
static const ctl_table *ctl__table(ctl *c, zk *z, const char *name)
{
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->ntables; i++)
        if (strcmp(c->tables[i]->name, name) == 0) {
            pthread_mutex_unlock(&c->mu);
            return c->tables[i];
        }
    pthread_mutex_unlock(&c->mu);
    char err[512];
    char *sj = NULL, *tj = NULL;
    size_t sl, tl;
    ctl_table t = {0};
    snprintf(t.name, sizeof t.name, "%s", name);
    if (cstore_table_read(c->cs, z, name, &tj, &tl, &sj, &sl)) goto fail;
    if (!(t.schema = schema_parse(sj, sl, "zookeeper schema", err, sizeof err)) ||
        !(t.cfg = tcfg_parse(tj, tl, "zookeeper config", t.schema, err, sizeof err))) {
        SL_ERROR("controller", "table %s: stored config unusable: %s", name, err);
        goto fail;
    }
    free(sj);
    free(tj);
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->ntables; i++) /* another thread loaded it meanwhile */
        if (strcmp(c->tables[i]->name, name) == 0) {
            ctl_table *r = c->tables[i];
            pthread_mutex_unlock(&c->mu);
            tcfg_free(t.cfg);
            schema_free(t.schema);
            return r;
        }
    c->tables = realloc(c->tables, (c->ntables + 1) * sizeof *c->tables);
    ctl_table *r = malloc(sizeof *r);
    if (!c->tables || !r) abort();
    *r = t;
    pthread_mutex_init(&r->rk_mu, NULL);
    c->tables[c->ntables++] = r;
    pthread_mutex_unlock(&c->mu);
    return r;
fail:
    free(sj);
    free(tj);
    tcfg_free(t.cfg);
    schema_free(t.schema);
    return NULL;
}

/* ---- next segments ------------------------------------------------------------------ */

/* Metadata of segment seq+1 of prev's partition starting at `start`, thresholds learned
 * from prev when it was committed with rows/size. */
static void ctl__next_meta(const ctl_table *t, const segmeta *prev, int64_t start, int64_t rows,
                           int64_t size, uint64_t now, segmeta *next)
{
    memset(next, 0, sizeof *next);
    snprintf(next->table, sizeof next->table, "%s", prev->table);
    next->partition = prev->partition;
    next->sequence = prev->sequence + 1;
    segname_format(next->segment, sizeof next->segment, prev->table, prev->partition,
                   next->sequence, (int64_t)now);
    next->status = SEGMETA_IN_PROGRESS;
    next->start_offset = start;
    next->end_offset = next->num_rows = -1;
    next->creation_time_ms = (int64_t)now;
    next->flush_time_ms = (int64_t)t->cfg->flush_time_ms;
    flush_tuner tu = {.target_bytes = t->cfg->flush_size_bytes, .rows_per_byte = prev->rows_per_byte};
    if (rows > 0 && size > 0) flush_learn(&tu, (uint64_t)rows, (uint64_t)size);
    next->rows_per_byte = tu.rows_per_byte;
    next->flush_rows = t->cfg->flush_size_bytes ? (int64_t)flush_next_rows(&tu)
                                                : (int64_t)t->cfg->flush_rows;
}

/* ---- input checks -----------------------------------------------------------------------
 * Every completion RPC is checked against what the controller knows before its state machine
 * sees it, because any process that reaches the port can send one:
 *   - the instance must be one that the assignment lists for the segment;
 *   - the offset must lie in [the segment's start, the partition's high watermark]; Kafka is
 *     asked (at most once a second per segment) when a report goes beyond what it confirmed;
 *   - rows must lie in [0, offset - start]: a Kafka offset holds at most one row;
 *   - CommitEnd's file must say what the request says (ctl__check_upload).
 * A refused message gets FAILED with the reason and changes no state. */

/* A librdkafka handle for the table's brokers (consumer properties passed through, but not
 * group.id: these are metadata reads). NULL with the reason, naming the brokers, in err. */
static rd_kafka_t *ctl__kafka_open(const tcfg *t, char *err, size_t errlen)
{
    kmeta_prop props[64];
    size_t np = 0;
    for (uint32_t i = 0; i < t->nprops && np < 64; i++)
        if (strcmp(t->props[i].key, "group.id") != 0)
            props[np++] = (kmeta_prop){t->props[i].key, t->props[i].value};
    char e[512];
    rd_kafka_t *rk = kmeta_open(t->broker_list, props, np, e, sizeof e);
    if (!rk) snprintf(err, errlen, "brokers %s: %s", t->broker_list, e);
    return rk;
}

/* High watermark of the table's partition. Returns 0, or SL_ETRANSIENT with the reason. */
static int ctl__high_watermark(ctl *c, const char *table, int32_t partition, int64_t *high,
                               char *why, size_t whylen)
{
    zk *z = ctl__zk(c);
    ctl_table *t = (ctl_table *)ctl__table(c, z, table);
    ctl__zk_done(c);
    if (!t) {
        snprintf(why, whylen, "table %s has no usable config", table);
        return SL_ETRANSIENT;
    }
    pthread_mutex_lock(&t->rk_mu);
    if (!t->rk) t->rk = ctl__kafka_open(t->cfg, why, whylen);
    rd_kafka_t *rk = t->rk;
    pthread_mutex_unlock(&t->rk_mu);
    int64_t low;
    if (!rk || kmeta_watermarks(rk, t->cfg->topic, partition, CTL_HWM_TIMEOUT_MS, &low, high)) {
        if (rk)
            snprintf(why, whylen, "Kafka (brokers %s) did not confirm partition %d's offsets; "
                                  "retry", t->cfg->broker_list, (int)partition);
        return SL_ETRANSIENT;
    }
    return 0;
}

static bool ctl__member_locked(const ctl_fsm *e, const char *id)
{
    for (uint32_t i = 0; i < e->members.n; i++)
        if (strcmp(e->members.id[i], id) == 0) return true;
    return false;
}

/* Called with mu held and e pinned; drops mu around ZooKeeper and Kafka calls. Returns 0 when
 * the message may reach the state machine, else an error with the reason in why. */
static int ctl__check_msg(ctl *c, ctl_fsm *e, const char *table, rpc_method meth,
                          const rpc_req *r, uint64_t now, char *why, size_t whylen)
{
    if (!ctl__member_locked(e, r->instance)) { /* the assignment may have moved (repair) */
        pthread_mutex_unlock(&c->mu);
        assign a;
        assign_list l = {0};
        zk *z = ctl__zk(c);
        bool got = ctl__get_assign(c, z, table, &a, NULL) == 0;
        ctl__zk_done(c);
        if (got) {
            assign_seg *as = assign_find(&a, e->segment);
            if (as) l = as->inst;
            assign_free(&a);
        }
        pthread_mutex_lock(&c->mu);
        if (got) e->members = l;
        if (!ctl__member_locked(e, r->instance)) {
            snprintf(why, whylen, "instance %s is not a replica of segment %s", r->instance,
                     e->segment);
            return SL_EINVAL;
        }
    }
    if (r->offset < e->start_offset) {
        snprintf(why, whylen, "offset %" PRId64 " is before the segment's start %" PRId64,
                 r->offset, e->start_offset);
        return SL_EINVAL;
    }
    if ((meth == RPC_SEGMENT_CONSUMED || meth == RPC_COMMIT_END) &&
        (r->rows < 0 || r->rows > r->offset - e->start_offset)) {
        snprintf(why, whylen, "%" PRId64 " rows cannot come from offsets [%" PRId64 ", %" PRId64 ")",
                 r->rows, e->start_offset, r->offset);
        return SL_EINVAL;
    }
    if (r->offset <= e->known_high) return 0;
    if (now < e->high_asked_ms + CTL_HWM_MIN_GAP_MS) {
        snprintf(why, whylen, "offset %" PRId64 " is beyond what Kafka confirmed (%" PRId64 "); retry",
                 r->offset, e->known_high);
        return SL_ETRANSIENT;
    }
    e->high_asked_ms = now;
    pthread_mutex_unlock(&c->mu);
    int64_t high = -1;
    int rc = ctl__high_watermark(c, table, e->partition, &high, why, whylen);
    pthread_mutex_lock(&c->mu);
    if (rc) return rc;
    if (high > e->known_high) e->known_high = high;
    if (r->offset > e->known_high) {
        snprintf(why, whylen, "offset %" PRId64 " is beyond partition %d's high watermark %" PRId64,
                 r->offset, (int)e->partition, e->known_high);
        return SL_EINVAL;
    }
    return 0;
}

/* The uploaded (now promoted) file must be the segment the request describes: its own name,
 * table, partition, sequence and offsets, and the request's rows, size and CRC. */
static int ctl__check_upload(ctl *c, const char *table, const rpc_req *r, const segmeta *m,
                             char *why, size_t whylen)
{
    char path[PATH_MAX], err[256];
    if (segstore_path(c->store, table, r->segment, path, sizeof path) != 0) {
        snprintf(why, whylen, "no path for the uploaded file");
        return SL_EINVAL;
    }
    int rc = 0;
    seg_reader *rd = seg_reader_open(path, &rc, err, sizeof err);
    if (!rd) {
        snprintf(why, whylen, "uploaded file unreadable: %s", err);
        return rc ? rc : SL_EIO;
    }
    const char *what = NULL;
    if (strcmp(seg_reader_name(rd), r->segment) || strcmp(seg_reader_table(rd), table))
        what = "name or table";
    else if (seg_reader_partition(rd) != m->partition || seg_reader_sequence(rd) != m->sequence)
        what = "partition or sequence";
    else if (seg_reader_start_offset(rd) != m->start_offset)
        what = "start offset";
    else if (seg_reader_end_offset(rd) != r->offset)
        what = "end offset";
    else if (seg_reader_rows(rd) != (uint64_t)r->rows)
        what = "row count";
    else if (seg_reader_size(rd) != (uint64_t)r->size_bytes)
        what = "size";
    else if (seg_reader_crc(rd) != r->crc)
        what = "crc";
    if (what)
        snprintf(why, whylen, "uploaded file's %s differs from the CommitEnd (file: rows=%" PRIu64
                              " offsets [%" PRId64 ", %" PRId64 ") crc=%" PRIu32 ")",
                 what, seg_reader_rows(rd), seg_reader_start_offset(rd),
                 seg_reader_end_offset(rd), seg_reader_crc(rd));
    seg_reader_close(rd);
    return what ? SL_EINVAL : 0;
}

/* ---- the commit ---------------------------------------------------------------------- */

static void ctl__fault(ctl *c, ctl_fault at)
{
    if (c->o.fault != at) return;
    if (at == CTL_FAULT_STALL_BEFORE_MULTI) {
        SL_WARN("controller", "test fault: stalling %" PRIu64 " ms before the commit multi-op",
                c->o.fault_stall_ms);
        usleep((useconds_t)(c->o.fault_stall_ms * 1000));
        return;
    }
    SL_WARN("controller", "test fault: exiting at %s",
            at == CTL_FAULT_CRASH_BEFORE_MULTI ? "crash_before_multi" : "crash_after_multi");
    _exit(86);
}

/* Verify the upload and commit in ZooKeeper with one multi-op. Returns 0 or an error with
 * the reason in why. */
static int ctl__commit(ctl *c, const char *table, const rpc_req *r, char *why, size_t whylen)
{
    char loc[512], err[256];
    int rc = segstore_promote(c->store, table, r->segment, r->crc, loc, sizeof loc, err, sizeof err);
    if (rc) {
        snprintf(why, whylen, "uploaded file not accepted: %s", err);
        return rc;
    }
    char url[sizeof(((segmeta *)0)->download_url)];
    if (snprintf(url, sizeof url, "%s/segments/%s/%s", c->advertise, table, r->segment) >=
        (int)sizeof url) {
        snprintf(why, whylen, "download URL too long");
        segstore_unpromote(c->store, table, r->segment, r->crc, err, sizeof err);
        return SL_EINVAL;
    }
    zk *z = ctl__zk(c);
    const ctl_table *t = ctl__table(c, z, table);
    rc = SL_ENOENT;
    if (!t) {
        snprintf(why, whylen, "table %s has no usable config", table);
        goto out;
    }
    for (int attempt = 0; attempt < CTL_COMMIT_RETRIES; attempt++) {
        segmeta m, next;
        int32_t vm, va;
        assign a;
        if ((rc = ctl__get_meta(c, z, table, r->segment, &m, &vm))) {
            snprintf(why, whylen, "segment metadata unreadable: %s", sluice_strerror(rc));
            goto out;
        }
        if (m.status != SEGMETA_IN_PROGRESS) { /* a retry after an unknown outcome */
            rc = m.crc == r->crc && m.end_offset == r->offset ? 0 : SL_ECONFLICT;
            if (rc) snprintf(why, whylen, "segment already %s", segmeta_status_name(m.status));
            goto out;
        }
        if (attempt == 0 && (rc = ctl__check_upload(c, table, r, &m, why, whylen))) goto out;
        if ((rc = ctl__get_assign(c, z, table, &a, &va))) {
            snprintf(why, whylen, "assignment unreadable: %s", sluice_strerror(rc));
            goto out;
        }
        uint64_t now = ctl__now();
        ctl__next_meta(t, &m, r->offset, r->rows, r->size_bytes, now, &next);
        m.status = SEGMETA_DONE;
        m.end_offset = r->offset;
        m.num_rows = r->rows;
        m.crc = r->crc;
        m.size_bytes = r->size_bytes;
        memcpy(m.download_url, url, sizeof url);
        snprintf(m.committer, sizeof m.committer, "%s", r->instance);
        m.commit_time_ms = (int64_t)now;
        assign_seg *as = assign_find(&a, r->segment);
        if (as)
            for (uint32_t i = 0; i < as->inst.n; i++)
                if (as->state[i] == ASSIGN_CONSUMING) as->state[i] = ASSIGN_ONLINE;
        if ((uint32_t)m.partition < a.npart && !assign_find(&a, next.segment))
            assign_add(&a, next.segment, &a.part[m.partition], ASSIGN_CONSUMING);
        ctl__fault(c, CTL_FAULT_CRASH_BEFORE_MULTI);
        ctl__fault(c, CTL_FAULT_STALL_BEFORE_MULTI);
        int failed = -1;
        rc = cstore_commit(c->cs, z, table, &m, vm, &next, &a, va, &failed);
        assign_free(&a);
        if (rc == 0) {
            ctl__fault(c, CTL_FAULT_CRASH_AFTER_MULTI);
            SL_INFO("controller", "committed segment=%s end=%" PRId64 " rows=%" PRId64
                                  " crc=%" PRIu32 " committer=%s next=%s start=%" PRId64
                                  " flush_rows=%" PRId64,
                    r->segment, r->offset, r->rows, r->crc, r->instance, next.segment,
                    next.start_offset, next.flush_rows);
            goto out;
        }
        if (rc == SL_ETRANSIENT || (rc == SL_ECONFLICT && failed == CSTORE_OP_ASSIGNMENT) ||
            (rc == SL_EEXIST && failed == CSTORE_OP_NEXT && attempt == 0)) {
            SL_WARN("controller", "commit multi-op retry segment=%s rc=%s failed_op=%d",
                    r->segment, sluice_strerror(rc), failed);
            if (rc == SL_ETRANSIENT) usleep(200000);
            continue;
        }
        snprintf(why, whylen, "commit multi-op failed at op %d: %s", failed, sluice_strerror(rc));
        goto out;
    }
    snprintf(why, whylen, "commit multi-op kept conflicting");
    rc = SL_ECONFLICT;
out:
    if (rc) { /* undo the promote only while ZooKeeper shows the commit did not happen: an
               * unknown outcome or a retried CommitEnd may have committed it already */
        segmeta m;
        int grc = ctl__get_meta(c, z, table, r->segment, &m, NULL);
        if (grc == 0 && m.status == SEGMETA_IN_PROGRESS && atomic_load(&c->leader))
            segstore_unpromote(c->store, table, r->segment, r->crc, err, sizeof err);
    }
    ctl__zk_done(c);
    return rc;
}

/* ---- state machines ---------------------------------------------------------------------- */

static void ctl__fsm_unref(ctl_fsm *e)
{
    if (--e->refs == 0 && e->dead) {
        cfsm_free(e->f);
        free(e);
    }
}

/* Remove machine i from the table and mark it dead; whoever holds a pin frees it. */
static ctl_fsm *ctl__fsm_detach_locked(ctl *c, size_t i)
{
    ctl_fsm *e = c->fsms[i];
    c->fsms[i] = c->fsms[--c->nfsms];
    e->dead = true;
    return e;
}

static void ctl__fsm_drop_locked(ctl *c, size_t i)
{
    ctl_fsm *e = ctl__fsm_detach_locked(c, i);
    e->refs++;
    ctl__fsm_unref(e); /* frees it unless a thread holds a pin */
}

static ctl_fsm *ctl__fsm_find_locked(ctl *c, const char *segment)
{
    for (size_t i = 0; i < c->nfsms; i++)
        if (strcmp(c->fsms[i]->segment, segment) == 0) return c->fsms[i];
    return NULL;
}

/* The machine for segment, built from ZooKeeper when missing. Returns it with mu held, or
 * NULL (mu not held) and the reason in why. */
static ctl_fsm *ctl__fsm_get(ctl *c, const char *table, const char *segment, uint64_t now,
                             char *why, size_t whylen)
{
    pthread_mutex_lock(&c->mu);
    ctl_fsm *e = ctl__fsm_find_locked(c, segment);
    if (e) return e;
    pthread_mutex_unlock(&c->mu);
    zk *z = ctl__zk(c);
    segmeta m;
    assign a;
    assign_list members = {0};
    int rc = ctl__get_meta(c, z, table, segment, &m, NULL);
    cfsm *f = NULL;
    if (rc) {
        snprintf(why, whylen, "unknown segment %s (%s)", segment, sluice_strerror(rc));
    } else if (ctl__get_assign(c, z, table, &a, NULL) != 0) {
        snprintf(why, whylen, "assignment of table %s unreadable", table);
    } else {
        assign_seg *s = assign_find(&a, segment);
        if (s) members = s->inst;
        if (m.status != SEGMETA_IN_PROGRESS) {
            f = cfsm_new_committed(segment, m.end_offset, m.crc, m.download_url, m.committer,
                                   &c->o.fsm, now);
        } else {
            const char *live[ASSIGN_MAX_REPLICAS];
            size_t nlive = 0;
            for (uint32_t i = 0; s && i < s->inst.n; i++)
                if (ctl__instance_live(c, z, s->inst.id[i])) live[nlive++] = s->inst.id[i];
            f = cfsm_new(segment, live, nlive, &c->o.fsm, now);
        }
        assign_free(&a);
    }
    ctl__zk_done(c);
    if (!f) return NULL;
    pthread_mutex_lock(&c->mu);
    if ((e = ctl__fsm_find_locked(c, segment))) { /* another thread built it meanwhile */
        cfsm_free(f);
        return e;
    }
    e = calloc(1, sizeof *e);
    if (!e) abort();
    snprintf(e->segment, sizeof e->segment, "%s", segment);
    snprintf(e->table, sizeof e->table, "%s", table);
    e->f = f;
    e->touched_ms = now;
    e->partition = m.partition;
    e->start_offset = m.start_offset;
    e->known_high = m.status != SEGMETA_IN_PROGRESS ? m.end_offset : m.start_offset;
    e->members = members;
    if (c->nfsms == c->capfsms) {
        c->capfsms = c->capfsms ? c->capfsms * 2 : 64;
        c->fsms = realloc(c->fsms, c->capfsms * sizeof *c->fsms);
        if (!c->fsms) abort();
    }
    c->fsms[c->nfsms++] = e;
    return e;
}

static void ctl__drop_all_fsms(ctl *c)
{
    pthread_mutex_lock(&c->mu);
    while (c->nfsms) ctl__fsm_drop_locked(c, c->nfsms - 1);
    pthread_mutex_unlock(&c->mu);
}

/* Halve the row threshold of an IN_PROGRESS segment whose build failed deterministically. */
static void ctl__halve_threshold(ctl *c, const char *table, const rpc_req *r)
{
    zk *z = ctl__zk(c);
    segmeta m;
    int32_t v;
    if (ctl__get_meta(c, z, table, r->segment, &m, &v) == 0 && m.status == SEGMETA_IN_PROGRESS) {
        int64_t old = m.flush_rows > 0 ? m.flush_rows : r->rows;
        int64_t half = (r->rows > 0 && r->rows < old ? r->rows : old) / 2;
        m.flush_rows = half > 1 ? half : 1;
        if (cstore_segment_set(c->cs, z, table, r->segment, &m, v) == 0)
            SL_WARN("controller", "deterministic build failure segment=%s instance=%s: "
                                  "flush rows %" PRId64 " -> %" PRId64,
                    r->segment, r->instance, old, m.flush_rows);
    }
    ctl__zk_done(c);
}

/* ---- HTTP: completion RPCs ------------------------------------------------------------- */

static void ctl__reply_rpc(httpd_resp *resp, const rpc_resp *rr)
{
    uint8_t *buf;
    size_t len;
    char err[128];
    if (rpc_resp_encode(rr, &buf, &len, err, sizeof err) != 0) {
        httpd_resp_text(resp, 500, "cannot encode reply: %s\n", err);
        return;
    }
    httpd_resp_body(resp, 200, RPC_CONTENT_TYPE, buf, len, HTTPD_TAKE);
}

static void ctl__twirp_error(httpd_resp *resp, rpc_twirp_code code, const char *msg)
{
    size_t len;
    char *body = rpc_error_body(code, msg, &len);
    httpd_resp_body(resp, rpc_twirp_http_status(code), "application/json", body, len, HTTPD_TAKE);
}

/* Handlers that need ZooKeeper answer 503 until ctl_run finished. */
static bool ctl__not_running(const ctl *c, httpd_resp *resp)
{
    if (atomic_load(&c->running)) return false;
    httpd_resp_text(resp, 503, "controller starting\n");
    return true;
}

static void ctl__rpc(httpd_req *req, httpd_resp *resp, void *ctx)
{
    ctl *c = ctx;
    if (ctl__not_running(c, resp)) return;
    double t0 = ctl__mono();
    rpc_method meth;
    if (rpc_method_parse(httpd_req_param(req, "method"), &meth) != 0) {
        ctl__twirp_error(resp, RPC_TWIRP_BAD_ROUTE, "no such method");
        return;
    }
    const char *ctype = httpd_req_header(req, "Content-Type");
    if (!rpc_ctype_is_protobuf(ctype)) { /* never parse JSON (or anything else) as protobuf */
        char msg[512]; /* the text (~175 bytes) and at most 200 of the header: never cut */
        snprintf(msg, sizeof msg,
                 "unsupported Content-Type %s%.200s%s: this server speaks Twirp's protobuf "
                 "encoding only (Content-Type: " RPC_CONTENT_TYPE
                 "); Twirp's JSON mapping (application/json) is not supported",
                 ctype ? "'" : "(none)", ctype ? ctype : "", ctype ? "'" : "");
        size_t len;
        char *body = rpc_error_body(RPC_TWIRP_BAD_ROUTE, msg, &len);
        httpd_resp_body(resp, 415, "application/json", body, len, HTTPD_TAKE);
        return;
    }
    size_t blen;
    const void *body = httpd_req_body(req, &blen);
    rpc_req r;
    char err[512];
    if (rpc_req_decode(body, blen, &r, err, sizeof err) != 0) {
        ctl__twirp_error(resp, RPC_TWIRP_MALFORMED, err);
        return;
    }
    if (rpc_req_check(meth, &r, err, sizeof err) != 0) {
        ctl__twirp_error(resp, RPC_TWIRP_INVALID_ARGUMENT, err);
        return;
    }
    rpc_resp rr;
    memset(&rr, 0, sizeof rr);
    if (!atomic_load(&c->leader)) {
        rr.status = RPC_STATUS_NOT_LEADER;
        pthread_mutex_lock(&c->mu);
        snprintf(rr.leader_url, sizeof rr.leader_url, "%s", c->leader_url);
        pthread_mutex_unlock(&c->mu);
        snprintf(rr.message, sizeof rr.message, "not the leader");
        ctl__reply_rpc(resp, &rr);
        return;
    }
    segname sn;
    segname_parse(r.segment, &sn); /* validated by rpc_req_decode */
    static const cfsm_msg_kind kinds[RPC_METHOD__COUNT] = {
        [RPC_SEGMENT_CONSUMED] = CFSM_MSG_CONSUMED, [RPC_COMMIT_START] = CFSM_MSG_COMMIT_START,
        [RPC_COMMIT_END] = CFSM_MSG_COMMIT_END, [RPC_EXTEND_BUILD_TIME] = CFSM_MSG_EXTEND,
        [RPC_STOPPED_CONSUMING] = CFSM_MSG_STOPPED};
    cfsm_msg m = {.kind = kinds[meth], .instance = r.instance, .offset = r.offset,
                  .reason = (int)r.reason, .crc = r.crc, .rows = r.rows,
                  .size_bytes = r.size_bytes, .location = r.location,
                  .extra_seconds = r.extra_seconds};
    uint64_t now = ctl__now();
    cfsm_reply fr;
    ctl_fsm *e = ctl__fsm_get(c, sn.table, r.segment, now, err, sizeof err);
    if (!e) {
        rr.status = RPC_STATUS_FAILED;
        snprintf(rr.message, sizeof rr.message, "%s", err);
        ctl__reply_rpc(resp, &rr);
        return;
    }
    e->refs++; /* pinned until the end: the checks and the commit drop mu */
    int bad = ctl__check_msg(c, e, sn.table, meth, &r, now, err, sizeof err);
    if (bad || e->dead) {
        ctl__fsm_unref(e);
        pthread_mutex_unlock(&c->mu);
        if (bad && bad != SL_ETRANSIENT)
            SL_LOG_LIMITED(c->loglim, "rpc.refused", SL_LOG_WARN, "controller",
                           "refused rpc=%s segment=%s instance=%s why=\"%s\"",
                    rpc_method_name(meth), r.segment, r.instance, err);
        rr.status = RPC_STATUS_FAILED;
        snprintf(rr.message, sizeof rr.message, "%s", bad ? err : "leadership lost");
        ctl__reply_rpc(resp, &rr);
        return;
    }
    if (meth == RPC_STOPPED_CONSUMING && r.reason == RPC_REASON_ERROR && r.build_millis > 0) {
        pthread_mutex_unlock(&c->mu);
        ctl__halve_threshold(c, sn.table, &r);
        pthread_mutex_lock(&c->mu);
    }
    cfsm_state before = cfsm_get_state(e->f);
    e->touched_ms = now;
    if (!e->dead && cfsm_on_msg(e->f, &m, now, &fr) == CFSM_ACT_COMMIT) {
        pthread_mutex_unlock(&c->mu);
        char why[512] = "";
        int rc = ctl__commit(c, sn.table, &r, why, sizeof why);
        metrics_counter_add(rc ? c->m_commit_fail : c->m_commits, 1);
        pthread_mutex_lock(&c->mu);
        if (e->dead) {
            memset(&fr, 0, sizeof fr);
            fr.status = CFSM_FAILED;
            fr.why = "leadership lost during the commit";
        } else {
            cfsm_commit_done(e->f, rc == 0, why, ctl__now(), &fr);
        }
        if (rc) SL_WARN("controller", "commit failed segment=%s why=\"%s\"", r.segment, why);
    } else if (e->dead) {
        memset(&fr, 0, sizeof fr);
        fr.status = CFSM_FAILED;
        fr.why = "leadership lost";
    }
    bool changed = !e->dead && cfsm_get_state(e->f) != before;
    if (!e->dead && cfsm_done(e->f)) { /* ABORTED: forget it; the next message rebuilds */
        for (size_t i = 0; i < c->nfsms; i++)
            if (c->fsms[i] == e) {
                ctl__fsm_detach_locked(c, i); /* our pin frees it just below */
                break;
            }
    }
    ctl__fsm_unref(e); /* may free e */
    pthread_mutex_unlock(&c->mu);
    if (changed && c->http) httpd_wake(c->http);
    if (fr.wait && httpd_req_wait(req, (unsigned)c->o.longpoll_ms)) return;
    rr.status = (rpc_status)fr.status;
    rr.offset = fr.offset > 0 ? fr.offset : 0;
    rr.build_seconds = fr.build_seconds;
    rr.crc = fr.crc;
    snprintf(rr.segment_location, sizeof rr.segment_location, "%s", fr.location);
    snprintf(rr.message, sizeof rr.message, "%s", fr.why ? fr.why : "");
    const char *labels[] = {rpc_method_name(meth), rpc_status_name(rr.status)};
    metrics_counter_add(metrics_counter_with(c->m_rpcs, labels), 1);
    const char *ml[] = {rpc_method_name(meth)};
    metrics_histogram_observe(metrics_histogram_with(c->m_rpc_seconds, ml), ctl__mono() - t0);
    ctl__reply_rpc(resp, &rr);
}

/* ---- HTTP: segment store ------------------------------------------------------------------ */

static void ctl__upload_abort(void *state)
{
    segstore_upload_abort(state);
}

/* An upload is taken only for a segment that ZooKeeper shows consuming: not for a table or
 * segment that does not exist (404) nor for one already committed (409), and nothing is
 * written before this is known. Returns 0, or the HTTP status with the reason in err. */
static unsigned ctl__upload_allowed(ctl *c, const char *table, const char *segment, char *err,
                                    size_t errlen)
{
    segname sn;
    if (!segname_valid_table(table) || segname_parse(segment, &sn) != 0 ||
        strcmp(sn.table, table) != 0) {
        snprintf(err, errlen, "not a segment name of table %s", table);
        return 400;
    }
    if (!atomic_load(&c->running)) {
        snprintf(err, errlen, "controller starting");
        return 503;
    }
    zk *z = ctl__zk(c);
    segmeta m;
    unsigned status = 0;
    int rc = ctl__get_meta(c, z, table, segment, &m, NULL);
    if (rc == SL_ENOENT) {
        bool table_exists = cstore_table_exists(c->cs, z, table) == 0;
        snprintf(err, errlen, table_exists ? "no such segment %s" : "no such table %s",
                 table_exists ? segment : table);
        status = 404;
    } else if (rc) {
        snprintf(err, errlen, "segment metadata unreadable: %s", sluice_strerror(rc));
        status = 503;
    } else if (m.status != SEGMETA_IN_PROGRESS) {
        snprintf(err, errlen, "segment %s is already %s", segment, segmeta_status_name(m.status));
        status = 409;
    }
    ctl__zk_done(c);
    return status;
}

/* Answer a failed upload: a full store is 507 Insufficient Storage (the committer backs off
 * and retries; nothing is wrong with its file), a failing one 500; both are logged once per
 * kind per minute through the disk state, every other failure with `status`. */
static void ctl__upload_failed(ctl *c, httpd_req *req, httpd_resp *resp, int rc, const char *err,
                               unsigned status)
{
    if (sl_err_is_disk(rc)) {
        diskstate_fail(c->disk, "upload", httpd_req_param(req, "segment"), rc, err, ctl__now());
        status = rc == SL_ENOSPACE ? 507 : 500;
    }
    httpd_resp_text(resp, status, "%s\n", err);
}

static int ctl__upload_stream(httpd_req *req, const void *data, size_t len, httpd_resp *resp,
                              void *ctx)
{
    ctl *c = ctx;
    char err[512];
    if (!data) {
        unsigned refuse = ctl__upload_allowed(c, httpd_req_param(req, "table"),
                                              httpd_req_param(req, "segment"), err, sizeof err);
        if (refuse) {
            httpd_resp_text(resp, refuse, "%s\n", err);
            return 1;
        }
        segstore_upload *u;
        int rc = segstore_upload_begin(c->store, httpd_req_param(req, "table"),
                                       httpd_req_param(req, "segment"), &u, err, sizeof err);
        if (rc) {
            ctl__upload_failed(c, req, resp, rc, err, rc == SL_EINVAL ? 400 : 500);
            return 1;
        }
        httpd_req_set_state(req, u, ctl__upload_abort);
        return 0;
    }
    int rc = segstore_upload_write(httpd_req_state(req), data, len, err, sizeof err);
    if (rc) {
        ctl__upload_failed(c, req, resp, rc, err, rc == SL_ELIMIT ? 413 : 500);
        return 1;
    }
    return 0;
}

static void ctl__upload_done(httpd_req *req, httpd_resp *resp, void *ctx)
{
    ctl *c = ctx;
    segstore_upload *u = httpd_req_state(req);
    if (!u) {
        httpd_resp_text(resp, 500, "upload state lost\n");
        return;
    }
    httpd_req_set_state(req, NULL, NULL); /* finish consumes u */
    char err[512];
    uint32_t crc;
    int rc = segstore_upload_finish(u, &crc, err, sizeof err);
    if (rc) {
        ctl__upload_failed(c, req, resp, rc, err,
                           rc == SL_ECORRUPT || rc == SL_ETRUNC || rc == SL_EINVAL ? 400 : 500);
        return;
    }
    diskstate_ok(c->disk, "upload", ctl__now());
    jsonw w;
    jsonw_init(&w);
    jsonw_obj_begin(&w);
    jsonw_key(&w, "location");
    char url[768];
    snprintf(url, sizeof url, "%s/segments/%s/%s", c->advertise,
             httpd_req_param(req, "table"), httpd_req_param(req, "segment"));
    jsonw_cstr(&w, url);
    jsonw_key(&w, "crc");
    jsonw_u64(&w, crc);
    jsonw_obj_end(&w);
    httpd_resp_body(resp, 200, "application/json", w.buf, w.len, HTTPD_TAKE);
}

static void ctl__download(httpd_req *req, httpd_resp *resp, void *ctx)
{
    ctl *c = ctx;
    int fd;
    uint64_t size;
    int rc = segstore_open_committed(c->store, httpd_req_param(req, "table"),
                                     httpd_req_param(req, "segment"), &fd, &size);
    if (rc) {
        httpd_resp_text(resp, rc == SL_EINVAL ? 400 : 404, "no such committed segment\n");
        return;
    }
    httpd_resp_fd(resp, 200, "application/octet-stream", fd, 0, size);
}

/* ---- HTTP: tables --------------------------------------------------------------------- */

static bool ctl__redirect_to_leader(ctl *c, httpd_req *req, httpd_resp *resp)
{
    if (atomic_load(&c->leader)) return false;
    char loc[1024];
    pthread_mutex_lock(&c->mu);
    bool known = c->leader_url[0] != '\0';
    snprintf(loc, sizeof loc, "%s%s", c->leader_url, httpd_req_path(req));
    pthread_mutex_unlock(&c->mu);
    if (!known) {
        httpd_resp_text(resp, 503, "no controller leads right now; retry\n");
        return true;
    }
    httpd_resp_header(resp, "Location", loc);
    httpd_resp_text(resp, 307, "not the leader: %s\n", loc);
    return true;
}

static void ctl__json_error(httpd_resp *resp, unsigned status, const char *msg)
{
    jsonw w;
    jsonw_init(&w);
    jsonw_obj_begin(&w);
    jsonw_key(&w, "error");
    jsonw_cstr(&w, msg);
    jsonw_obj_end(&w);
    jsonw_text(&w, "\n", 1);
    httpd_resp_body(resp, status, "application/json", w.buf, w.len, HTTPD_TAKE);
}

/* Create a table: validate, read Kafka offsets, place partitions, one multi-op. */
static void ctl__tables_post(httpd_req *req, httpd_resp *resp, void *ctx)
{
    ctl *c = ctx;
    if (ctl__not_running(c, resp)) return;
    if (ctl__redirect_to_leader(c, req, resp)) return;
    size_t blen;
    const char *body = httpd_req_body(req, &blen);
    json_error_t je;
    json_t *root = json_loadb(body ? body : "", blen, 0, &je);
    json_t *tj = root ? json_object_get(root, "tableConfig") : NULL;
    json_t *sj = root ? json_object_get(root, "schema") : NULL;
    char err[1024], *tstr = NULL, *sstr = NULL;
    schema *s = NULL;
    tcfg *t = NULL;
    rd_kafka_t *rk = NULL;
    int64_t *starts = NULL;
    char **inst = NULL;
    size_t ninst = 0;
    assign a = {0};
    zk *z = NULL;
    if (!json_is_object(tj) || !json_is_object(sj)) {
        ctl__json_error(resp, 400, root ? "body must be {\"tableConfig\":{...},\"schema\":{...}}"
                                        : je.text);
        goto done;
    }
    tstr = json_dumps(tj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    sstr = json_dumps(sj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!(s = schema_parse(sstr, strlen(sstr), "schema", err, sizeof err)) ||
        !(t = tcfg_parse(tstr, strlen(tstr), "tableConfig", s, err, sizeof err))) {
        ctl__json_error(resp, 400, err);
        goto done;
    }
    z = ctl__zk(c);
    if (cstore_table_exists(c->cs, z, t->table_name) == 0) {
        snprintf(err, sizeof err, "table %s already exists", t->table_name);
        ctl__json_error(resp, 409, err);
        goto done;
    }
    int nparts = 0;
    if (t->type == TCFG_REALTIME) {
        /* one deadline for all of Kafka: a wrong broker list answers within seconds */
        double deadline = ctl__mono() + CTL_KAFKA_TIMEOUT_MS / 1000.0;
        if (!(rk = ctl__kafka_open(t, err, sizeof err))) {
            ctl__json_error(resp, 400, err);
            goto done;
        }
        int rc = kmeta_partition_count(rk, t->topic, CTL_KAFKA_TIMEOUT_MS, &nparts);
        if (rc) {
            snprintf(err, sizeof err, "topic %s %s at brokers %s (stream.kafka.broker.list)",
                     t->topic,
                     rc == SL_ENOENT ? "does not exist"
                                     : "metadata unavailable within " STR(CTL_KAFKA_TIMEOUT_MS) " ms",
                     t->broker_list);
            ctl__json_error(resp, rc == SL_ENOENT ? 400 : 502, err); /* 502: Kafka failed */
            goto done;
        }
        starts = calloc((size_t)nparts, sizeof *starts);
        if (!starts) abort();
        for (int p = 0; p < nparts; p++) {
            int64_t low, high;
            int left_ms = (int)((deadline - ctl__mono()) * 1000);
            if (left_ms < 1 || kmeta_watermarks(rk, t->topic, p, left_ms, &low, &high)) {
                snprintf(err, sizeof err,
                         "offsets of %s partition %d unavailable at brokers %s within %d ms",
                         t->topic, p, t->broker_list, CTL_KAFKA_TIMEOUT_MS);
                ctl__json_error(resp, 502, err);
                goto done;
            }
            starts[p] = t->offset_reset == TCFG_RESET_LARGEST ? high : low;
        }
        if (cstore_instances(c->cs, z, &inst, &ninst) != 0) ninst = 0;
        if (assign_plan(&a, (const char *const *)inst, ninst, (uint32_t)nparts, t->replication)) {
            snprintf(err, sizeof err, "replication %u needs %u live sidecars, %zu are registered",
                     t->replication, t->replication, ninst);
            ctl__json_error(resp, 409, err);
            goto done;
        }
    }
    /* everything in one multi-op: the table exists whole or not at all */
    const char *tn = t->table_name;
    segmeta *segs = calloc(nparts ? (size_t)nparts : 1, sizeof *segs);
    if (!segs) abort();
    uint64_t now = ctl__now();
    for (int p = 0; p < nparts; p++) {
        segmeta *m = &segs[p];
        *m = (segmeta){.partition = p, .status = SEGMETA_IN_PROGRESS, .start_offset = starts[p],
                       .end_offset = -1, .num_rows = -1, .creation_time_ms = (int64_t)now,
                       .flush_time_ms = (int64_t)t->flush_time_ms,
                       .flush_rows = t->flush_size_bytes ? FLUSH_INITIAL_ROWS
                                                         : (int64_t)t->flush_rows};
        snprintf(m->table, sizeof m->table, "%s", tn);
        segname_format(m->segment, sizeof m->segment, tn, p, 0, (int64_t)now);
        assign_add(&a, m->segment, &a.part[p], ASSIGN_CONSUMING);
    }
    int rc = cstore_table_create(c->cs, z, tn, tstr, sstr, segs, (size_t)nparts, &a, NULL);
    free(segs);
    if (rc) {
        snprintf(err, sizeof err, "creating table %s in ZooKeeper failed: %s", tn,
                 sluice_strerror(rc));
        ctl__json_error(resp, rc == SL_EEXIST ? 409 : 503, err);
        goto done;
    }
    SL_INFO("controller", "table created table=%s type=%s partitions=%d replication=%u", tn,
            t->type == TCFG_REALTIME ? "REALTIME" : "OFFLINE", nparts, t->replication);
    jsonw w;
    jsonw_init(&w);
    jsonw_obj_begin(&w);
    jsonw_key(&w, "table");
    jsonw_cstr(&w, tn);
    jsonw_key(&w, "partitions");
    jsonw_i64(&w, nparts);
    jsonw_obj_end(&w);
    jsonw_text(&w, "\n", 1);
    httpd_resp_body(resp, 201, "application/json", w.buf, w.len, HTTPD_TAKE);
done:
    if (z) ctl__zk_done(c);
    if (rk) rd_kafka_destroy(rk);
    zk_free_strings(inst, ninst);
    assign_free(&a);
    free(starts);
    free(tstr);
    free(sstr);
    tcfg_free(t);
    schema_free(s);
    json_decref(root);
}

static void ctl__tables_get(httpd_req *req, httpd_resp *resp, void *ctx)
{
    (void)req;
    ctl *c = ctx;
    if (ctl__not_running(c, resp)) return;
    char **names = NULL;
    size_t n = 0;
    zk *z = ctl__zk(c);
    int rc = cstore_tables(c->cs, z, &names, &n);
    ctl__zk_done(c);
    if (rc && rc != SL_ENOENT) {
        ctl__json_error(resp, 503, sluice_strerror(rc));
        return;
    }
    jsonw w;
    jsonw_init(&w);
    jsonw_arr_begin(&w);
    for (size_t i = 0; i < n; i++) jsonw_cstr(&w, names[i]);
    jsonw_arr_end(&w);
    jsonw_text(&w, "\n", 1);
    zk_free_strings(names, n);
    httpd_resp_body(resp, 200, "application/json", w.buf, w.len, HTTPD_TAKE);
}

typedef struct ctl_listed {
    segmeta m;       /* for a corrupt record: only segment, partition and sequence (its name) */
    char error[256]; /* non-empty: the record does not decode (repair rewrites it) */
} ctl_listed;

static int ctl__listed_cmp(const void *x, const void *y)
{
    const segmeta *a = &((const ctl_listed *)x)->m, *b = &((const ctl_listed *)y)->m;
    if (a->partition != b->partition) return a->partition < b->partition ? -1 : 1;
    return a->sequence < b->sequence ? -1 : a->sequence > b->sequence;
}

/* DESIGN §3: JSON array of segments with the replicas' states (reported state when the
 * sidecar has reported one, else the assignment's target state). `?partition=N` narrows
 * it to one partition. */
static void ctl__segments_get(httpd_req *req, httpd_resp *resp, void *ctx)
{
    ctl *c = ctx;
    if (ctl__not_running(c, resp)) return;
    const char *table = httpd_req_param(req, "table");
    if (!segname_valid_table(table)) {
        ctl__json_error(resp, 400, "invalid table name");
        return;
    }
    char **names = NULL, **reps = NULL;
    size_t n = 0, nreps = 0;
    zk *z = ctl__zk(c);
    int rc = cstore_segments(c->cs, z, table, &names, &n);
    if (rc) {
        ctl__zk_done(c);
        ctl__json_error(resp, rc == SL_ENOENT ? 404 : 503,
                        rc == SL_ENOENT ? "no such table" : sluice_strerror(rc));
        return;
    }
    /* ?partition=N reads only that partition's segments (names carry the partition) */
    const char *pq = httpd_req_query(req, "partition");
    long want = -1;
    if (pq) {
        char *end;
        want = strtol(pq, &end, 10);
        if (*end || want < 0 || want > INT32_MAX) {
            ctl__zk_done(c);
            zk_free_strings(names, n);
            ctl__json_error(resp, 400, "partition must be a partition number");
            return;
        }
    }
    ctl_listed *l = calloc(n ? n : 1, sizeof *l);
    if (!l) abort();
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        segname sn;
        if (want >= 0 && (segname_parse(names[i], &sn) != 0 || sn.partition != want)) continue;
        int grc = ctl__read_meta(c, z, table, names[i], &l[k].m, NULL, l[k].error,
                                 sizeof l[k].error);
        if (grc == SL_ECORRUPT && segname_parse(names[i], &sn) == 0) {
            /* reported in the list, never hidden and never a 503: repair rewrites it */
            memset(&l[k].m, 0, sizeof l[k].m);
            snprintf(l[k].m.segment, sizeof l[k].m.segment, "%s", names[i]);
            l[k].m.partition = sn.partition;
            l[k].m.sequence = sn.sequence;
            if (!l[k].error[0]) snprintf(l[k].error, sizeof l[k].error, "unreadable record");
            k++;
        } else if (grc == 0) {
            l[k].error[0] = 0;
            k++;
        } else if (grc != SL_ENOENT) { /* never answer with a silently shortened list */
            ctl__zk_done(c);
            zk_free_strings(names, n);
            free(l);
            ctl__json_error(resp, 503, sluice_strerror(grc));
            return;
        }
    }
    qsort(l, k, sizeof *l, ctl__listed_cmp);
    assign a = {0};
    ctl__get_assign(c, z, table, &a, NULL);
    /* reported states: replicas/<id> = {"<segment>":"STATE",...} */
    cstore_replica_ids(c->cs, z, table, &reps, &nreps);
    json_t **reported = calloc(nreps ? nreps : 1, sizeof *reported);
    if (!reported) abort();
    for (size_t i = 0; i < nreps; i++) cstore_replica_get(c->cs, z, table, reps[i], &reported[i]);
    ctl__zk_done(c);
    jsonw w;
    jsonw_init(&w);
    jsonw_arr_begin(&w);
    for (size_t i = 0; i < k; i++) {
        if (l[i].error[0]) {
            jsonw_obj_begin(&w);
            jsonw_key(&w, "segment");
            jsonw_cstr(&w, l[i].m.segment);
            jsonw_key(&w, "partition");
            jsonw_i64(&w, l[i].m.partition);
            jsonw_key(&w, "sequence");
            jsonw_i64(&w, l[i].m.sequence);
            jsonw_key(&w, "status");
            jsonw_cstr(&w, "CORRUPT");
            static const char *const nulls[] = {"startOffset", "endOffset", "numRows", "crc",
                                                "downloadUrl"};
            for (size_t j = 0; j < sizeof nulls / sizeof nulls[0]; j++) {
                jsonw_key(&w, nulls[j]);
                jsonw_null(&w);
            }
            jsonw_key(&w, "error");
            jsonw_cstr(&w, l[i].error);
        } else {
            segmeta_json_open(&l[i].m, &w);
        }
        jsonw_key(&w, "replicas");
        jsonw_obj_begin(&w);
        assign_seg *as = assign_find(&a, l[i].m.segment);
        for (uint32_t j = 0; as && j < as->inst.n; j++) {
            const char *st = assign_state_name(as->state[j]);
            for (size_t r = 0; r < nreps; r++) {
                json_t *v = reported[r] && strcmp(reps[r], as->inst.id[j]) == 0
                                ? json_object_get(reported[r], l[i].m.segment)
                                : NULL;
                if (json_is_string(v)) st = json_string_value(v);
            }
            jsonw_key(&w, as->inst.id[j]);
            jsonw_cstr(&w, st);
        }
        jsonw_obj_end(&w);
        jsonw_obj_end(&w);
    }
    jsonw_arr_end(&w);
    jsonw_text(&w, "\n", 1);
    for (size_t i = 0; i < nreps; i++) json_decref(reported[i]);
    free(reported);
    zk_free_strings(reps, nreps);
    zk_free_strings(names, n);
    assign_free(&a);
    free(l);
    httpd_resp_body(resp, 200, "application/json", w.buf, w.len, HTTPD_TAKE);
}

/* GET /tables/<t>/segments/<segment>: the whole metadata record as JSON (operators, tests). */
static void ctl__segment_get(httpd_req *req, httpd_resp *resp, void *ctx)
{
    ctl *c = ctx;
    if (ctl__not_running(c, resp)) return;
    const char *table = httpd_req_param(req, "table"), *seg = httpd_req_param(req, "segment");
    segname sn;
    if (segname_parse(seg, &sn) != 0 || strcmp(sn.table, table) != 0) {
        ctl__json_error(resp, 400, "not a segment name of this table");
        return;
    }
    segmeta m;
    zk *z = ctl__zk(c);
    int rc = ctl__get_meta(c, z, table, seg, &m, NULL);
    ctl__zk_done(c);
    if (rc) {
        ctl__json_error(resp, rc == SL_ENOENT ? 404 : 503, sluice_strerror(rc));
        return;
    }
    jsonw w;
    jsonw_init(&w);
    segmeta_json_full(&m, &w);
    jsonw_text(&w, "\n", 1);
    httpd_resp_body(resp, 200, "application/json", w.buf, w.len, HTTPD_TAKE);
}

static void ctl__health(httpd_req *req, httpd_resp *resp, void *ctx)
{
    (void)req;
    ctl *c = ctx;
    if (ctl__not_running(c, resp)) return;
    zk *z = ctl__zk(c);
    bool connected = z && zk_session_state(z) == ZK_SESSION_CONNECTED;
    ctl__zk_done(c);
    jsonw w;
    jsonw_init(&w);
    jsonw_obj_begin(&w);
    jsonw_key(&w, "instance");
    jsonw_cstr(&w, c->o.instance_id);
    jsonw_key(&w, "disk");
    bool disk_bad = diskstate_json(c->disk, &w);
    jsonw_key(&w, "status"); /* a full store alone: still 200 (docs/http.md) */
    jsonw_cstr(&w, !connected ? "zookeeper-disconnected" : disk_bad ? "degraded" : "ok");
    jsonw_key(&w, "leader");
    jsonw_bool(&w, atomic_load(&c->leader));
    jsonw_key(&w, "leaderUrl");
    pthread_mutex_lock(&c->mu);
    if (c->leader_url[0]) jsonw_cstr(&w, c->leader_url); else jsonw_null(&w);
    pthread_mutex_unlock(&c->mu);
    jsonw_obj_end(&w);
    jsonw_text(&w, "\n", 1);
    httpd_resp_body(resp, connected ? 200 : 503, "application/json", w.buf, w.len, HTTPD_TAKE);
}

static void ctl__metrics(httpd_req *req, httpd_resp *resp, void *ctx)
{
    (void)req;
    ctl *c = ctx;
    size_t len;
    char *text = metrics_render(c->o.metrics, &len);
    httpd_resp_body(resp, 200, "text/plain; version=0.0.4; charset=utf-8", text, len, HTTPD_TAKE);
}

static const httpd_route ctl_route_table[] = {
    {"POST", RPC_ROUTE_PATTERN, ctl__rpc, RPC_MAX_BODY, 0, NULL},
    {"PUT", "/segments/{table}/{segment}", ctl__upload_done, SEGSTORE_DEFAULT_MAX_UPLOAD,
     HTTPD_STREAM_BODY, ctl__upload_stream},
    {"GET", "/segments/{table}/{segment}", ctl__download, 0, 0, NULL},
    {"GET", "/tables", ctl__tables_get, 0, 0, NULL},
    {"POST", "/tables", ctl__tables_post, CTL_TABLE_BODY_MAX, 0, NULL},
    {"GET", "/tables/{table}/segments", ctl__segments_get, 0, 0, NULL},
    {"GET", "/tables/{table}/segments/{segment}", ctl__segment_get, 0, 0, NULL},
    {"GET", "/health", ctl__health, 0, 0, NULL},
    {"GET", "/metrics", ctl__metrics, 0, 0, NULL},
};

const httpd_route *ctl_routes(size_t *n)
{
    *n = sizeof ctl_route_table / sizeof ctl_route_table[0];
    return ctl_route_table;
}

/* ---- leadership, session ------------------------------------------------------------------ */

static void ctl__on_leader(void *ctx, bool is_leader, const char *leader_data)
{
    ctl *c = ctx;
    bool was = atomic_exchange(&c->leader, is_leader);
    pthread_mutex_lock(&c->mu);
    snprintf(c->leader_url, sizeof c->leader_url, "%s", leader_data ? leader_data : "");
    pthread_mutex_unlock(&c->mu);
    metrics_gauge_set(c->m_leader, is_leader);
    if (was != is_leader)
        SL_INFO("controller", "leadership instance=%s leader=%s leader_url=%s", c->o.instance_id,
                is_leader ? "yes" : "no", leader_data ? leader_data : "-");
    if (was && !is_leader) ctl__drop_all_fsms(c); /* a new leader may commit from here on */
    if (!was && is_leader) c->next_repair_ms = ctl__now() + c->o.repair_interval_ms;
}

static void ctl__on_session(void *ctx, zk_session_event ev)
{
    ctl *c = ctx;
    if (ev == ZK_SESSION_EXPIRED) {
        atomic_store(&c->leader, false);
        atomic_store(&c->expired, true);
    }
}

/* Open a session and join the election; with zk_lock held for writing. */
static int ctl__connect(ctl *c, char *err, size_t errlen)
{
    zk_opts zo = {.on_session = ctl__on_session, .ctx = c};
    c->z = zk_open(c->o.zk_connect, c->o.zk_session_timeout_ms, &zo, err, errlen);
    if (!c->z) return SL_ETRANSIENT;
    cstore_ensure_base(c->cs, c->z);
    int rc = 0;
    c->el = cstore_election_join(c->cs, c->z, c->advertise, ctl__on_leader, c, &rc);
    if (!c->el) {
        snprintf(err, errlen, "cannot join the controller election: %s", sluice_strerror(rc));
        zk_close(c->z);
        c->z = NULL;
        return rc ? rc : SL_EIO;
    }
    atomic_store(&c->expired, false);
    return 0;
}

static void ctl__disconnect(ctl *c)
{
    if (c->el) zk_election_leave(c->el);
    c->el = NULL;
    zk_close(c->z);
    c->z = NULL;
}

/* ---- repair ---------------------------------------------------------------------------- */

/* A segment record that does not decode is rewritten from what is known for certain: the
 * committed file in the store (its own metadata says offsets, rows and CRC) makes it DONE;
 * without one, a record whose predecessor is DONE becomes IN_PROGRESS at that segment's end
 * (the chain invariant). Anything else is left for an operator, and stays reported as
 * CORRUPT by the listing. The write is conditioned on the version read. */
static void ctl__repair_record(ctl *c, zk *z, const ctl_table *t, const char *table,
                               const char *name, int32_t version, char **names, size_t n,
                               uint64_t now)
{
    segname sn;
    if (segname_parse(name, &sn) != 0) return;
    segmeta m;
    memset(&m, 0, sizeof m);
    const char *how = NULL;
    char path[PATH_MAX], err[256];
    seg_reader *rd = NULL;
    if (segstore_path(c->store, table, name, path, sizeof path) == 0 && access(path, F_OK) == 0)
        rd = seg_reader_open(path, NULL, err, sizeof err);
    if (rd && strcmp(seg_reader_name(rd), name) == 0 && seg_reader_partition(rd) == sn.partition &&
        seg_reader_sequence(rd) == sn.sequence && seg_reader_start_offset(rd) >= 0 &&
        seg_reader_end_offset(rd) >= seg_reader_start_offset(rd)) {
        snprintf(m.segment, sizeof m.segment, "%s", name);
        snprintf(m.table, sizeof m.table, "%s", table);
        m.partition = sn.partition;
        m.sequence = sn.sequence;
        m.status = SEGMETA_DONE;
        m.start_offset = seg_reader_start_offset(rd);
        m.end_offset = seg_reader_end_offset(rd);
        m.num_rows = (int64_t)seg_reader_rows(rd);
        m.crc = seg_reader_crc(rd);
        m.size_bytes = (int64_t)seg_reader_size(rd);
        if (snprintf(m.download_url, sizeof m.download_url, "%s/segments/%s/%s", c->advertise,
                     table, name) < (int)sizeof m.download_url)
            how = "DONE from the committed file";
        m.creation_time_ms = sn.time_ms;
        m.commit_time_ms = (int64_t)now;
        m.flush_rows = (int64_t)t->cfg->flush_rows;
        m.flush_time_ms = (int64_t)t->cfg->flush_time_ms;
    } else if (sn.sequence > 0) {
        for (size_t i = 0; i < n && !how; i++) {
            segname pn;
            segmeta prev;
            if (segname_parse(names[i], &pn) || pn.partition != sn.partition ||
                pn.sequence != sn.sequence - 1 ||
                ctl__read_meta(c, z, table, names[i], &prev, NULL, err, sizeof err) ||
                prev.status == SEGMETA_IN_PROGRESS)
                continue;
            ctl__next_meta(t, &prev, prev.end_offset, prev.num_rows, prev.size_bytes, now, &m);
            snprintf(m.segment, sizeof m.segment, "%s", name); /* the name replicas know */
            how = "IN_PROGRESS at its predecessor's end";
        }
    }
    seg_reader_close(rd);
    if (!how) {
        SL_LOG_LIMITED(c->loglim, "repair.unrebuildable", SL_LOG_ERROR, "controller",
                       "repair table=%s segment=%s: record unreadable and not rebuildable (no "
                       "committed file, no committed predecessor)",
                       table, name);
        return;
    }
    int rc = cstore_segment_set(c->cs, z, table, name, &m, version);
    if (rc == 0)
        SL_WARN("controller", "repair table=%s segment=%s: unreadable record rewritten as %s "
                              "start=%" PRId64,
                table, name, how, m.start_offset);
}

/* One table: a partition whose newest segment is DONE without a successor gets one; a
 * partition whose consuming segment lost every replica (gone or ERROR) gets a fresh segment
 * from that segment's start offset on live instances. Nothing younger than the commit
 * budget is touched; every write is one version-checked multi-op. */
static void ctl__repair_table(ctl *c, zk *z, const char *table, uint64_t now)
{
    const ctl_table *t = ctl__table(c, z, table);
    if (!t || t->cfg->type != TCFG_REALTIME) return;
    char **names = NULL, **live = NULL;
    size_t n = 0, nlive = 0;
    if (cstore_segments(c->cs, z, table, &names, &n)) return;
    cstore_instances(c->cs, z, &live, &nlive);
    for (size_t i = 0; i < n; i++) { /* unreadable records first: the rest relies on them */
        segmeta m;
        int32_t v;
        char err[256];
        if (ctl__read_meta(c, z, table, names[i], &m, &v, err, sizeof err) == SL_ECORRUPT)
            ctl__repair_record(c, z, t, table, names[i], v, names, n, now);
    }
    assign a;
    int32_t va;
    if (ctl__get_assign(c, z, table, &a, &va)) goto out;
    for (uint32_t p = 0; p < a.npart; p++) {
        segmeta newest, m;
        int32_t vnewest = -1, v;
        bool found = false;
        for (size_t i = 0; i < n; i++) {
            segname sn;
            if (segname_parse(names[i], &sn) || (uint32_t)sn.partition != p) continue;
            if (found && sn.sequence <= newest.sequence) continue;
            if (ctl__get_meta(c, z, table, names[i], &m, &v) == 0) {
                newest = m;
                vnewest = v;
                found = true;
            }
        }
        if (!found) continue;
        uint64_t budget = c->o.fsm.commit_budget_ms;
        segmeta next;
        const char *why = NULL;
        assign_list inst = a.part[p];
        if (newest.status != SEGMETA_IN_PROGRESS) {
            if (now < (uint64_t)newest.commit_time_ms + budget) continue;
            ctl__next_meta(t, &newest, newest.end_offset, newest.num_rows, newest.size_bytes, now,
                           &next);
            why = "committed segment has no successor";
        } else {
            if (now < (uint64_t)newest.creation_time_ms + budget) continue;
            assign_seg *as = assign_find(&a, newest.segment);
            bool any_alive = false;
            for (uint32_t j = 0; as && j < as->inst.n; j++) {
                bool up = false;
                for (size_t k = 0; k < nlive; k++) up |= strcmp(live[k], as->inst.id[j]) == 0;
                any_alive |= up && as->state[j] != ASSIGN_ERROR && as->state[j] != ASSIGN_OFFLINE;
            }
            if (any_alive) continue;
            assign plan = {0};
            if (assign_plan(&plan, (const char *const *)live, nlive, a.npart, t->cfg->replication)) {
                SL_WARN("controller", "repair table=%s partition=%u: not enough live sidecars",
                        table, p);
                continue;
            }
            inst = plan.part[p];
            a.part[p] = inst;
            assign_free(&plan);
            for (uint32_t j = 0; as && j < as->inst.n; j++) as->state[j] = ASSIGN_OFFLINE;
            ctl__next_meta(t, &newest, newest.start_offset, 0, 0, now, &next);
            next.rows_per_byte = newest.rows_per_byte;
            why = "every replica of the consuming segment is gone or in ERROR";
        }
        assign_seg *stale = assign_find(&a, next.segment); /* a deleted segment's entry */
        if (stale) {
            stale->inst = inst;
            for (uint32_t j = 0; j < inst.n; j++) stale->state[j] = ASSIGN_CONSUMING;
        } else {
            assign_add(&a, next.segment, &inst, ASSIGN_CONSUMING);
        }
        int rc = cstore_repair(c->cs, z, table, newest.segment, vnewest, &next, &a, va, NULL);
        if (rc == 0) {
            va++;
            SL_WARN("controller", "repair table=%s partition=%u created=%s start=%" PRId64 " why=\"%s\"",
                    table, p, next.segment, next.start_offset, why);
        } else {
            SL_INFO("controller", "repair table=%s partition=%u skipped: %s", table, p,
                    sluice_strerror(rc));
            break; /* the assignment moved on: next round re-reads it */
        }
    }
    assign_free(&a);
out:
    zk_free_strings(names, n);
    zk_free_strings(live, nlive);
}

static void ctl__repair(ctl *c, uint64_t now)
{
    char **tables = NULL;
    size_t n = 0;
    zk *z = ctl__zk(c);
    if (z && cstore_tables(c->cs, z, &tables, &n) == 0)
        for (size_t i = 0; i < n && atomic_load(&c->leader); i++) ctl__repair_table(c, z, tables[i], now);
    ctl__zk_done(c);
    zk_free_strings(tables, n);
    int removed = segstore_gc(c->store, 3600 * 1000, (int64_t)now);
    if (removed > 0) SL_INFO("controller", "segment store gc removed=%d", removed);
}

/* ---- ticker ------------------------------------------------------------------------------ */

static void *ctl__ticker(void *arg)
{
    ctl *c = arg;
    while (!atomic_load(&c->stop)) {
        usleep(CTL_TICK_MS * 1000);
        uint64_t now = ctl__now();
        if (atomic_load(&c->expired)) { /* a dead session: re-open and re-join */
            char err[256];
            SL_WARN("controller", "zookeeper session expired: reconnecting");
            pthread_rwlock_wrlock(&c->zk_lock);
            ctl__disconnect(c);
            int rc = ctl__connect(c, err, sizeof err);
            pthread_rwlock_unlock(&c->zk_lock);
            if (rc) {
                SL_ERROR("controller", "zookeeper reconnect failed: %s", err);
                atomic_store(&c->expired, true);
                sleep(1);
            }
            continue;
        }
        bool changed = false;
        pthread_mutex_lock(&c->mu);
        for (size_t i = 0; i < c->nfsms;) {
            ctl_fsm *e = c->fsms[i];
            changed |= cfsm_tick(e->f, now);
            bool idle = cfsm_get_state(e->f) == CFSM_COMMITTED && now > e->touched_ms + CTL_FSM_IDLE_MS;
            if ((cfsm_done(e->f) || idle) && !e->refs)
                ctl__fsm_drop_locked(c, i);
            else
                i++;
        }
        pthread_mutex_unlock(&c->mu);
        if (changed && c->http) httpd_wake(c->http);
        if (atomic_load(&c->leader) && now >= c->next_repair_ms) {
            c->next_repair_ms = now + c->o.repair_interval_ms;
            ctl__repair(c, now);
        }
    }
    return NULL;
}

/* ---- public -------------------------------------------------------------------------------- */

ctl *ctl_new(const ctl_opts *o, char *err, size_t errlen)
{
    ctl *c = calloc(1, sizeof *c);
    if (!c) abort();
    c->o = *o;
    if (!(c->cs = cstore_new(o->cluster))) {
        snprintf(err, errlen, "cluster name too long for a ZooKeeper path");
        free(c);
        return NULL;
    }
    pthread_rwlock_init(&c->zk_lock, NULL);
    pthread_mutex_init(&c->mu, NULL);
    static const char *const ms[] = {"method", "status"};
    static const char *const mm[] = {"method"};
    static const double rpc_bounds[] = {0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5};
    c->m_rpcs = metrics_family_new(o->metrics, METRICS_COUNTER, "sluice_completion_rpcs_total",
                                   "Completion RPCs answered, by method and status", ms, 2);
    c->m_rpc_seconds = metrics_histogram_new(o->metrics, "sluice_completion_rpc_seconds",
                                             "Completion RPC handling time (long-polls excluded)",
                                             mm, 1, rpc_bounds,
                                             sizeof rpc_bounds / sizeof rpc_bounds[0]);
    c->m_commits = metrics_counter_with(
        metrics_family_new(o->metrics, METRICS_COUNTER, "sluice_commits_total",
                           "Segments committed by this controller", NULL, 0),
        NULL);
    c->m_commit_fail = metrics_counter_with(
        metrics_family_new(o->metrics, METRICS_COUNTER, "sluice_commit_failures_total",
                           "Commits that failed (upload check or ZooKeeper)", NULL, 0),
        NULL);
    c->m_leader = metrics_gauge_with(
        metrics_family_new(o->metrics, METRICS_GAUGE, "sluice_controller_is_leader",
                           "1 while this controller leads", NULL, 0),
        NULL);
    c->disk = diskstate_new(o->metrics);
    c->loglim = sl_log_limit_new(0);
    if (segstore_open(o->store, NULL, &c->store, err, errlen) != 0) {
        cstore_free(c->cs);
        diskstate_free(c->disk);
        sl_log_limit_free(c->loglim);
        pthread_mutex_destroy(&c->mu);
        pthread_rwlock_destroy(&c->zk_lock);
        free(c);
        return NULL;
    }
    return c;
}

int ctl_run(ctl *c, httpd *h, const char *advertise_url, char *err, size_t errlen)
{
    snprintf(c->advertise, sizeof c->advertise, "%s", advertise_url);
    c->http = h;
    pthread_rwlock_wrlock(&c->zk_lock);
    int rc = ctl__connect(c, err, errlen);
    pthread_rwlock_unlock(&c->zk_lock);
    if (rc) return rc;
    if (pthread_create(&c->ticker, NULL, ctl__ticker, c)) {
        snprintf(err, errlen, "cannot start the ticker thread");
        return SL_EIO;
    }
    atomic_store(&c->running, true);
    return 0;
}

bool ctl_is_leader(const ctl *c)
{
    return atomic_load(&c->leader);
}

void ctl_stop(ctl *c)
{
    if (!c) return;
    atomic_store(&c->stop, true);
    if (atomic_load(&c->running)) pthread_join(c->ticker, NULL);
    pthread_rwlock_wrlock(&c->zk_lock);
    ctl__disconnect(c);
    pthread_rwlock_unlock(&c->zk_lock);
    ctl__drop_all_fsms(c);
    free(c->fsms);
    for (size_t i = 0; i < c->ntables; i++) {
        if (c->tables[i]->rk) rd_kafka_destroy(c->tables[i]->rk);
        pthread_mutex_destroy(&c->tables[i]->rk_mu);
        tcfg_free(c->tables[i]->cfg);
        schema_free(c->tables[i]->schema);
        free(c->tables[i]);
    }
    free(c->tables);
    segstore_close(c->store);
    cstore_free(c->cs);
    diskstate_free(c->disk);
    sl_log_limit_free(c->loglim);
    pthread_mutex_destroy(&c->mu);
    pthread_rwlock_destroy(&c->zk_lock);
    free(c);
}
