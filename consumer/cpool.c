/* Consumer pool (see cpool.h for the contract).
 *
 * Each worker thread owns: one rd_kafka_t consumer, its consumer queue, and a small table
 * of the partitions assigned to it. Other threads never touch those; they enqueue a command
 * (add, remove, call) and wake the worker with rd_kafka_queue_yield, then wait for it to be
 * done. The worker loop: run commands, consume a batch (up to CPOOL_BATCH messages or
 * tick_ms), feed each message to its pcons, then tick every partition (time thresholds,
 * lag). A FULL pcons goes to the handler on this thread; HOLD pauses the partition in
 * librdkafka so no more messages arrive until cpool_seek_resume.
 *
 * Fetch tuning: librdkafka 2.0.2 backs a partition off (fetch.error.backoff.ms) whenever
 * its prefetch queue is over queued.min.messages or queued.max.messages.kbytes, even after
 * the application drained it (DESIGN §7). The queue is bounded by bytes (kbytes below) and
 * the message-count bound is set out of the way, with a short error backoff. */
#include "consumer/cpool.h"
#include "consumer/kmeta.h"
#include "common/log.h"
#include "common/sl_err.h"
#include "common/xalloc.h"
#include "common/clock.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#define CPOOL_BATCH 4096
#define CPOOL_QUERY_TIMEOUT_MS 5000
#define CPOOL_WARM_TIMEOUT_MS                                                                      \
    1000 /* a worker's own metadata request: it consumes nothing meanwhile */

typedef enum cpool__cmd_kind { CPOOL_CMD_ADD, CPOOL_CMD_REMOVE, CPOOL_CMD_CALL } cpool__cmd_kind;

typedef struct cpool__cmd {
    cpool__cmd_kind kind;
    pcons *p;
    const char *topic;
    void (*fn)(void *arg, cpool_worker *w);
    void *arg;
    int rc;
    bool done;
    struct cpool__cmd *next;
} cpool__cmd;

typedef struct cpool__part {
    pcons *p;
    char *topic;
    int32_t partition;
    bool held; /* paused in librdkafka until cpool_seek_resume */
} cpool__part;

struct cpool_worker {
    cpool *c;
    int idx;
    pthread_t thread;
    rd_kafka_t *rk;
    rd_kafka_queue_t *q;
    pthread_mutex_t mu; /* guards cmds and done flags */
    pthread_cond_t cv;
    cpool__cmd *cmds_head, *cmds_tail;
    cpool__part *parts;
    size_t nparts, capparts;
    size_t last;     /* index of the last partition a message went to (batches are per partition) */
    uint32_t *index; /* parts by partition number: open addressing, part index + 1 (0 =
                      * empty), at most half full, so a message finds its partition in
                      * O(1) among thousands instead of a scan with a strcmp each */
    uint32_t index_mask; /* slots - 1 */
};

/* Group mode: which worker the group gave a partition to (Kafka decides, not the partition
 * number), for cpool_call from other threads. Written by the workers as they adopt and drop
 * partitions, under owners_mu. */
typedef struct cpool__owner_ent {
    const pcons *p;
    int w;
} cpool__owner_ent;

struct cpool {
    cpool_opts o;
    cpool_handler h;
    int n;
    cpool_worker *w;
    rd_kafka_t *meta; /* offset and metadata look-ups: its own connections, so that a query
                         never waits behind a worker's parked Fetch (fetch.wait.max.ms) */
    _Atomic bool stop;
    pthread_mutex_t owners_mu;
    cpool__owner_ent *owners;
    size_t nowners, capowners;
};

/* ---- partition table (worker thread only) ----------------------------------------- */

static uint32_t cpool__slot(int32_t partition, uint32_t mask)
{
    uint32_t h = (uint32_t)partition * 0x9E3779B1u;
    return (h ^ (h >> 16)) & mask;
}

static void cpool__index_insert(cpool_worker *w, size_t i)
{
    uint32_t j = cpool__slot(w->parts[i].partition, w->index_mask);
    while (w->index[j])
        j = (j + 1) & w->index_mask;
    w->index[j] = (uint32_t)i + 1;
}

/* Index every partition again (after a removal moved one, or to grow). */
static void cpool__index_rebuild(cpool_worker *w)
{
    uint32_t slots = 16;
    while (slots < 2 * w->nparts + 2)
        slots *= 2;
    free(w->index);
    w->index = sl_xcalloc(slots, sizeof *w->index);
    w->index_mask = slots - 1;
    for (size_t i = 0; i < w->nparts; i++)
        cpool__index_insert(w, i);
}

static cpool__part *cpool__find(cpool_worker *w, const char *topic, int32_t partition)
{
    if (w->last < w->nparts && w->parts[w->last].partition == partition &&
        strcmp(w->parts[w->last].topic, topic) == 0)
        return &w->parts[w->last];
    if (!w->index) return NULL;
    for (uint32_t j = cpool__slot(partition, w->index_mask); w->index[j];
         j = (j + 1) & w->index_mask) {
        size_t i = w->index[j] - 1;
        if (w->parts[i].partition == partition && strcmp(w->parts[i].topic, topic) == 0) {
            w->last = i;
            return &w->parts[i];
        }
    }
    return NULL;
}

static cpool__part *cpool__find_p(cpool_worker *w, const pcons *p)
{
    for (size_t i = 0; i < w->nparts; i++)
        if (w->parts[i].p == p) return &w->parts[i];
    return NULL;
}

static cpool__part *cpool__part_add(cpool_worker *w, const char *topic, pcons *p)
{
    if (w->nparts == w->capparts) {
        w->capparts = w->capparts ? w->capparts * 2 : 8;
        w->parts = sl_xrealloc(w->parts, w->capparts * sizeof *w->parts);
    }
    cpool__part *pt = &w->parts[w->nparts++];
    pt->p = p;
    pt->topic = sl_xstrdup(topic);
    pt->partition = pcons_partition(p);
    pt->held = false;
    if (!w->index || 2 * w->nparts + 2 > (size_t)w->index_mask + 1)
        cpool__index_rebuild(w);
    else
        cpool__index_insert(w, w->nparts - 1);
    cpool *c = w->c;
    if (c->o.group_id) {
        pthread_mutex_lock(&c->owners_mu);
        if (c->nowners == c->capowners) {
            c->capowners = c->capowners ? c->capowners * 2 : 8;
            c->owners = sl_xrealloc(c->owners, c->capowners * sizeof *c->owners);
        }
        c->owners[c->nowners++] = (cpool__owner_ent){p, w->idx};
        pthread_mutex_unlock(&c->owners_mu);
    }
    return pt;
}

static void cpool__part_del(cpool_worker *w, cpool__part *pt)
{
    cpool *c = w->c;
    if (c->o.group_id) {
        pthread_mutex_lock(&c->owners_mu);
        for (size_t i = 0; i < c->nowners; i++) {
            if (c->owners[i].p == pt->p) {
                c->owners[i] = c->owners[--c->nowners];
                break;
            }
        }
        pthread_mutex_unlock(&c->owners_mu);
    }
    free(pt->topic);
    *pt = w->parts[--w->nparts];
    w->last = 0;
    cpool__index_rebuild(w);
}

static rd_kafka_topic_partition_list_t *cpool__one(const cpool__part *pt, int64_t offset)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, pt->topic, pt->partition)->offset = offset;
    return l;
}

static void cpool__pause(cpool_worker *w, cpool__part *pt)
{
    rd_kafka_topic_partition_list_t *l = cpool__one(pt, RD_KAFKA_OFFSET_INVALID);
    rd_kafka_pause_partitions(w->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    pt->held = true;
}

/* Fetch pt again from offset, unpaused: unassign and assign it anew. (A seek does not
 * restart a partition whose fetcher stopped on an out-of-range error, and a fresh assignment
 * drops anything prefetched at the old position.) */
static int cpool__reassign(cpool_worker *w, cpool__part *pt, int64_t offset)
{
    rd_kafka_topic_partition_list_t *l = cpool__one(pt, offset);
    rd_kafka_error_t *e = rd_kafka_incremental_unassign(w->rk, l);
    if (!e) e = rd_kafka_incremental_assign(w->rk, l);
    /* the pause is a property of the partition object, which outlives the assignment */
    if (!e && pt->held) rd_kafka_resume_partitions(w->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    pt->held = false;
    if (e) {
        SL_WARN("consumer", "reassign failed topic=%s partition=%d offset=%" PRId64 " err=%s",
                pt->topic, pt->partition, offset, rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        return SL_ETRANSIENT;
    }
    return 0;
}

/* ---- FULL segments ------------------------------------------------------------------ */

/* Hand a FULL pcons to the handler; true when the partition may go on consuming. */
static bool cpool__full(cpool_worker *w, cpool__part *pt)
{
    cpool_full_action act = w->c->h.on_full(w->c->h.ctx, w, pt->p);
    if (act == CPOOL_HOLD || pcons_get_state(pt->p) != PCONS_CONSUMING) {
        cpool__pause(w, pt);
        return false;
    }
    return true;
}

static void cpool__feed(cpool_worker *w, cpool__part *pt, const rd_kafka_message_t *m)
{
    pcons_set_message(pt->p, m);
    bool full = pcons_on_message(pt->p, m->offset, m->payload, m->len);
    while (full) {
        if (!cpool__full(w, pt)) return;
        /* rolled: the next segment may have been FULL from the start, or this message may
         * belong to it (pcons ignores it when the previous segment already holds it) */
        full = pcons_get_state(pt->p) == PCONS_FULL ||
               pcons_on_message(pt->p, m->offset, m->payload, m->len);
    }
}

/* ---- Kafka errors ----------------------------------------------------------------- */

static void cpool__offset_out_of_range(cpool_worker *w, cpool__part *pt)
{
    /* Held (FULL, in completion): a fetch issued before the pause met the gap. The partition
     * stays paused; the segment that next consumes (cpool_seek_resume at its start offset)
     * meets the gap itself and reports it, once. Reporting here would count it twice, and a
     * reassign would resume a held partition. */
    if (pt->held) return;
    int64_t low = -1, high = -1;
    int64_t next = pcons_next_offset(pt->p);
    if (kmeta_watermarks(w->rk, pt->topic, pt->partition, CPOOL_QUERY_TIMEOUT_MS, &low, &high)) {
        low = next; /* retry from where we were */
    } else if (next < low) {
        pcons_data_loss(pt->p, next, low);
        if (w->c->o.fail_on_data_loss) {
            pcons_fail(pt->p, "data loss and consumer.data.loss = fail");
            cpool__pause(w, pt);
            return;
        }
    } else if (next > high) {
        pcons_fail(pt->p, "consumer offset is beyond the end of the partition");
        cpool__pause(w, pt);
        return;
    } else {
        low = next; /* in range after all (leader change race): fetch again */
    }
    cpool__reassign(w, pt, low);
}

static void cpool__error_msg(cpool_worker *w, const rd_kafka_message_t *m)
{
    cpool__part *pt = m->rkt ? cpool__find(w, rd_kafka_topic_name(m->rkt), m->partition) : NULL;
    if (pt && (m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET ||
               m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE)) {
        cpool__offset_out_of_range(w, pt);
        return;
    }
    /* everything else is transient for a consumer: librdkafka retries it */
    SL_WARN("consumer", "kafka error worker=%d topic=%s partition=%d err=%s", w->idx,
            m->rkt ? rd_kafka_topic_name(m->rkt) : "-", m->partition, rd_kafka_err2str(m->err));
}

/* librdkafka's own log lines, in our format (syslog levels: 3 error, 4 warning, 6 info). */
static void cpool__log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    sl_log_level lvl = level <= 3 ? SL_LOG_ERROR : level <= 5 ? SL_LOG_WARN : SL_LOG_DEBUG;
    SL_LOG(lvl, "kafka", "client=%s fac=%s msg=\"%s\"", rd_kafka_name(rk), fac, buf);
}

static void cpool__error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk;
    cpool_worker *w = opaque;
    SL_WARN("consumer", "kafka worker=%d err=%s reason=%s", w->idx,
            rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

/* ---- highlevel: group rebalances ------------------------------------------------- */

static void cpool__rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                             rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    cpool_worker *w = opaque;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        rd_kafka_committed(rk, parts, CPOOL_QUERY_TIMEOUT_MS);
        for (int i = 0; i < parts->cnt; i++) {
            rd_kafka_topic_partition_t *tp = &parts->elems[i];
            int64_t committed = tp->offset >= 0 ? tp->offset : -1;
            pcons *p = w->c->h.on_assign(w->c->h.ctx, w, tp->topic, tp->partition, committed);
            if (!p) {
                tp->offset = RD_KAFKA_OFFSET_END; /* not ours to consume; stay idle */
                continue;
            }
            cpool__part_add(w, tp->topic, p);
            tp->offset = pcons_next_offset(p);
            SL_INFO("consumer", "group assigned worker=%d topic=%s partition=%d offset=%" PRId64,
                    w->idx, tp->topic, tp->partition, tp->offset);
        }
        rd_kafka_assign(rk, parts);
    } else {
        for (int i = 0; i < parts->cnt; i++) {
            cpool__part *pt = cpool__find(w, parts->elems[i].topic, parts->elems[i].partition);
            if (!pt) continue;
            w->c->h.on_revoke(w->c->h.ctx, w, pt->p);
            cpool__part_del(w, pt);
        }
        rd_kafka_assign(rk, NULL);
    }
}

/* ---- commands ----------------------------------------------------------------------- */

static int cpool__do_add(cpool_worker *w, const char *topic, pcons *p)
{
    /* The first partition of a topic on this worker: its handle asks for the topic's metadata
     * now. Otherwise the fetcher of a handle that never asked waits for librdkafka's next
     * periodic refresh (up to a second) before it knows the partition's leader. */
    bool known = false;
    for (size_t i = 0; i < w->nparts && !known; i++)
        known = strcmp(w->parts[i].topic, topic) == 0;
    int count;
    if (!known && kmeta_partition_count(w->rk, topic, CPOOL_WARM_TIMEOUT_MS, &count) != 0)
        SL_WARN("consumer",
                "no metadata for topic=%s yet on worker=%d: its fetches start "
                "after librdkafka's own refresh",
                topic, w->idx);
    cpool__part *pt = cpool__part_add(w, topic, p);
    rd_kafka_topic_partition_list_t *l = cpool__one(pt, pcons_next_offset(p));
    rd_kafka_error_t *e = rd_kafka_incremental_assign(w->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e) {
        SL_ERROR("consumer", "assign failed topic=%s partition=%d err=%s", topic,
                 pcons_partition(p), rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        cpool__part_del(w, pt);
        return SL_ETRANSIENT;
    }
    if (pcons_get_state(p) == PCONS_FULL) cpool__full(w, pt);
    return 0;
}

static void cpool__do_remove(cpool_worker *w, pcons *p)
{
    cpool__part *pt = cpool__find_p(w, p);
    if (!pt) return;
    rd_kafka_topic_partition_list_t *l = cpool__one(pt, RD_KAFKA_OFFSET_INVALID);
    rd_kafka_error_t *e = rd_kafka_incremental_unassign(w->rk, l);
    if (e) rd_kafka_error_destroy(e);
    rd_kafka_topic_partition_list_destroy(l);
    cpool__part_del(w, pt);
}

static void cpool__run_cmds(cpool_worker *w)
{
    pthread_mutex_lock(&w->mu);
    cpool__cmd *cmd = w->cmds_head;
    w->cmds_head = w->cmds_tail = NULL;
    pthread_mutex_unlock(&w->mu);
    while (cmd) {
        cpool__cmd *next = cmd->next;
        switch (cmd->kind) {
        case CPOOL_CMD_ADD:
            cmd->rc = cpool__do_add(w, cmd->topic, cmd->p);
            break;
        case CPOOL_CMD_REMOVE:
            cpool__do_remove(w, cmd->p);
            break;
        case CPOOL_CMD_CALL: /* p may have been revoked since the caller looked it up */
            cmd->rc = cpool__find_p(w, cmd->p) ? (cmd->fn(cmd->arg, w), 0) : SL_ENOENT;
            break;
        }
        pthread_mutex_lock(&w->mu);
        cmd->done = true;
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->mu);
        cmd = next;
    }
}

/* Enqueue cmd on w and wait until the worker ran it. */
static int cpool__submit(cpool_worker *w, cpool__cmd *cmd)
{
    cmd->done = false;
    cmd->next = NULL;
    pthread_mutex_lock(&w->mu);
    if (w->cmds_tail)
        w->cmds_tail->next = cmd;
    else
        w->cmds_head = cmd;
    w->cmds_tail = cmd;
    pthread_mutex_unlock(&w->mu);
    rd_kafka_queue_yield(w->q);
    pthread_mutex_lock(&w->mu);
    while (!cmd->done)
        pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
    return cmd->rc;
}

/* ---- worker loop ------------------------------------------------------------------- */

static void cpool__tick(cpool_worker *w)
{
    uint64_t now = sl_clock_wall_ms();
    for (size_t i = 0; i < w->nparts; i++) {
        cpool__part *pt = &w->parts[i];
        int64_t low, high;
        if (rd_kafka_get_watermark_offsets(w->rk, pt->topic, pt->partition, &low, &high) ==
                RD_KAFKA_RESP_ERR_NO_ERROR &&
            high >= 0)
            atomic_store_explicit(&pcons_get_stats(pt->p)->high_watermark, high,
                                  memory_order_relaxed);
        if (!pt->held && pcons_tick(pt->p, now)) cpool__full(w, pt);
        if (w->c->h.on_tick) w->c->h.on_tick(w->c->h.ctx, w, pt->p, pt->held);
    }
}

static void *cpool__worker_main(void *arg)
{
    cpool_worker *w = arg;
    rd_kafka_message_t **msgs = sl_xmalloc(CPOOL_BATCH * sizeof *msgs);
    int tick_ms = (int)(w->c->o.tick_ms ? w->c->o.tick_ms : 100);
    uint64_t last_tick = 0;
    while (!atomic_load(&w->c->stop)) {
        cpool__run_cmds(w);
        ssize_t n = rd_kafka_consume_batch_queue(w->q, tick_ms, msgs, CPOOL_BATCH);
        for (ssize_t i = 0; i < n; i++) {
            rd_kafka_message_t *m = msgs[i];
            if (m->err) {
                cpool__error_msg(w, m);
            } else {
                cpool__part *pt = cpool__find(w, rd_kafka_topic_name(m->rkt), m->partition);
                if (pt && !pt->held) cpool__feed(w, pt, m);
            }
            rd_kafka_message_destroy(m);
        }
        uint64_t now = sl_clock_wall_ms();
        if (now - last_tick >= (uint64_t)tick_ms) {
            last_tick = now;
            cpool__tick(w);
        }
    }
    free(msgs);
    /* leave the group from the thread that owns the handle, so the revoke runs here and the
     * group rebalances at once instead of waiting out this member's session timeout */
    if (w->c->o.group_id) rd_kafka_consumer_close(w->rk);
    cpool__run_cmds(w); /* release anyone still waiting */
    return NULL;
}

/* ---- public --------------------------------------------------------------------------- */

static int cpool__set(rd_kafka_conf_t *conf, const char *k, const char *v, char *err, size_t errlen)
{
    char e[256];
    if (rd_kafka_conf_set(conf, k, v, e, sizeof e) != RD_KAFKA_CONF_OK) {
        return sl_fail(err, errlen, SL_EINVAL, "kafka.%s: %s", k, e);
    }
    return 0;
}

/* Our consumer settings; see the file comment for the fetch tuning. */
static const cpool_prop cpool__defaults[] = {
    {"enable.auto.commit", "false"},         {"enable.auto.offset.store", "false"},
    {"auto.offset.reset", "error"}, /* out-of-range must surface as data loss */
    {"enable.partition.eof", "false"},       {"fetch.wait.max.ms", "100"},
    {"fetch.error.backoff.ms", "20"},        {"queued.min.messages", "10000000"},
    {"queued.max.messages.kbytes", "65536"}, {"max.partition.fetch.bytes", "4194304"},
    {"fetch.max.bytes", "67108864"},         {"receive.message.max.bytes", "100000000"},
    {"socket.nagle.disable", "true"},
};

const cpool_prop *cpool_defaults(size_t *n)
{
    *n = sizeof cpool__defaults / sizeof cpool__defaults[0];
    return cpool__defaults;
}

/* The configuration of a worker handle: bootstrap (when known), client id, our defaults, the
 * group, then o's properties, which may override ours. NULL with "kafka.KEY: reason" in err;
 * *bad gets the index of the o->props entry librdkafka refused (o->nprops: one of ours). */
static rd_kafka_conf_t *cpool__conf(const cpool_opts *o, const char *client_id, size_t *bad,
                                    char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    *bad = o->nprops;
    if ((o->bootstrap && cpool__set(conf, "bootstrap.servers", o->bootstrap, err, errlen)) ||
        cpool__set(conf, "client.id", client_id, err, errlen))
        goto fail;
    for (size_t i = 0; i < sizeof cpool__defaults / sizeof cpool__defaults[0]; i++)
        if (cpool__set(conf, cpool__defaults[i].key, cpool__defaults[i].value, err, errlen))
            goto fail;
    /* librdkafka's consumer queue and assign() need a group even when we never join one
     * (lowlevel mode only assigns, and auto-commit is off, so nothing is ever committed) */
    if (cpool__set(conf, "group.id", o->group_id ? o->group_id : "sluice-lowlevel", err, errlen))
        goto fail;
    for (size_t i = 0; i < o->nprops; i++)
        if (cpool__set(conf, o->props[i].key, o->props[i].value, err, errlen)) {
            *bad = i;
            goto fail;
        }
    return conf;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

static rd_kafka_t *cpool__handle(cpool *c, cpool_worker *w, char *err, size_t errlen)
{
    char id[64];
    size_t bad;
    snprintf(id, sizeof id, "sluice-w%d", w->idx);
    rd_kafka_conf_t *conf = cpool__conf(&c->o, id, &bad, err, errlen);
    if (!conf) return NULL;
    rd_kafka_conf_set_opaque(conf, w);
    rd_kafka_conf_set_error_cb(conf, cpool__error_cb);
    rd_kafka_conf_set_log_cb(conf, cpool__log_cb);
    if (c->o.group_id) rd_kafka_conf_set_rebalance_cb(conf, cpool__rebalance);
    char e[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof e);
    if (rk) return rk; /* conf now belongs to rk */
    snprintf(err, errlen, "kafka consumer: %s", e);
    rd_kafka_conf_destroy(conf);
    return NULL;
}

/* The look-up handle: the consumers' settings (security, ...), no group membership. */
static rd_kafka_t *cpool__meta_handle(cpool *c, char *err, size_t errlen)
{
    size_t bad;
    cpool_opts o = c->o;
    o.group_id = NULL;
    rd_kafka_conf_t *conf = cpool__conf(&o, "sluice-meta", &bad, err, errlen);
    if (!conf) return NULL;
    rd_kafka_conf_set_log_cb(conf, cpool__log_cb);
    char e[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof e);
    if (rk) return rk;
    snprintf(err, errlen, "kafka consumer: %s", e);
    rd_kafka_conf_destroy(conf);
    return NULL;
}

static void cpool__quiet_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk, (void)level, (void)fac, (void)buf; /* a scratch handle has nothing to report */
}

int cpool_check_props(const cpool_prop *props, size_t nprops, size_t *bad, char *err, size_t errlen)
{
    size_t dummy;
    if (!bad) bad = &dummy;
    cpool_opts o = {.props = props, .nprops = nprops};
    rd_kafka_conf_t *conf = cpool__conf(&o, "sluice-check", bad, err, errlen);
    if (!conf) return SL_EINVAL;
    rd_kafka_conf_set_log_cb(conf, cpool__quiet_log_cb);
    char e[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof e);
    if (!rk) {
        snprintf(err, errlen, "kafka consumer: %s", e);
        rd_kafka_conf_destroy(conf);
        return SL_EINVAL;
    }
    rd_kafka_destroy(rk); /* never connected: no bootstrap servers */
    return 0;
}

cpool *cpool_new(const cpool_opts *o, const cpool_handler *h, char *err, size_t errlen)
{
    cpool *c = sl_xcalloc(1, sizeof *c);
    c->o = *o;
    c->h = *h;
    pthread_mutex_init(&c->owners_mu, NULL);
    c->n = o->workers > 0 ? o->workers : 1;
    c->w = sl_xcalloc((size_t)c->n, sizeof *c->w);
    int started = 0;
    if (!(c->meta = cpool__meta_handle(c, err, errlen))) goto fail;
    for (int i = 0; i < c->n; i++) {
        cpool_worker *w = &c->w[i];
        w->c = c;
        w->idx = i;
        pthread_mutex_init(&w->mu, NULL);
        pthread_cond_init(&w->cv, NULL);
        if (!(w->rk = cpool__handle(c, w, err, errlen))) goto fail;
        rd_kafka_poll_set_consumer(w->rk);
        w->q = rd_kafka_queue_get_consumer(w->rk);
        if (o->group_id) {
            rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
            rd_kafka_topic_partition_list_add(l, o->topic, RD_KAFKA_PARTITION_UA);
            rd_kafka_resp_err_t e = rd_kafka_subscribe(w->rk, l);
            rd_kafka_topic_partition_list_destroy(l);
            if (e) {
                snprintf(err, errlen, "subscribe %s: %s", o->topic, rd_kafka_err2str(e));
                goto fail;
            }
        }
    }
    for (; started < c->n; started++) {
        int prc = pthread_create(&c->w[started].thread, NULL, cpool__worker_main, &c->w[started]);
        if (prc) {
            snprintf(err, errlen, "cannot start worker thread: %s", strerror(prc));
            goto fail;
        }
    }
    return c;
fail:
    atomic_store(&c->stop, true);
    for (int i = 0; i < started; i++)
        pthread_join(c->w[i].thread, NULL);
    for (int i = 0; i < c->n; i++) {
        if (c->w[i].q) rd_kafka_queue_destroy(c->w[i].q);
        if (c->w[i].rk) rd_kafka_destroy(c->w[i].rk);
        pthread_mutex_destroy(&c->w[i].mu);
        pthread_cond_destroy(&c->w[i].cv);
    }
    if (c->meta) rd_kafka_destroy(c->meta);
    free(c->w);
    free(c->owners);
    pthread_mutex_destroy(&c->owners_mu);
    free(c);
    return NULL;
}

/* The worker that owns p: by partition number (lowlevel), or as the group assigned it (NULL
 * when no worker has it). */
static cpool_worker *cpool__owner(cpool *c, const pcons *p)
{
    if (!c->o.group_id) return &c->w[(uint32_t)pcons_partition(p) % (uint32_t)c->n];
    cpool_worker *w = NULL;
    pthread_mutex_lock(&c->owners_mu);
    for (size_t i = 0; i < c->nowners && !w; i++)
        if (c->owners[i].p == p) w = &c->w[c->owners[i].w];
    pthread_mutex_unlock(&c->owners_mu);
    return w;
}

int cpool_add(cpool *c, const char *topic, pcons *p)
{
    cpool__cmd cmd = {.kind = CPOOL_CMD_ADD, .p = p, .topic = topic};
    return cpool__submit(cpool__owner(c, p), &cmd);
}

void cpool_remove(cpool *c, pcons *p)
{
    cpool__cmd cmd = {.kind = CPOOL_CMD_REMOVE, .p = p};
    cpool_worker *w = cpool__owner(c, p);
    if (w) cpool__submit(w, &cmd);
}

int cpool_call(cpool *c, pcons *p, void (*fn)(void *arg, cpool_worker *w), void *arg)
{
    cpool__cmd cmd = {.kind = CPOOL_CMD_CALL, .p = p, .fn = fn, .arg = arg};
    cpool_worker *w = cpool__owner(c, p);
    return w ? cpool__submit(w, &cmd) : SL_ENOENT;
}

int cpool_seek_resume(cpool_worker *w, pcons *p, int64_t offset)
{
    cpool__part *pt = cpool__find_p(w, p);
    return pt ? cpool__reassign(w, pt, offset) : SL_ENOENT;
}

int cpool_commit(cpool_worker *w, pcons *p, int64_t offset)
{
    cpool__part *pt = cpool__find_p(w, p);
    if (!pt) return SL_ENOENT;
    rd_kafka_topic_partition_list_t *l = cpool__one(pt, offset);
    rd_kafka_resp_err_t e = rd_kafka_commit(w->rk, l, 0);
    rd_kafka_topic_partition_list_destroy(l);
    if (e) {
        SL_WARN("consumer", "offset commit failed topic=%s partition=%d offset=%" PRId64 " err=%s",
                pt->topic, pt->partition, offset, rd_kafka_err2str(e));
        return SL_ETRANSIENT;
    }
    return 0;
}

int cpool_query_watermarks(cpool *c, const char *topic, int32_t partition, int64_t *low,
                           int64_t *high)
{
    return kmeta_watermarks(c->meta, topic, partition, CPOOL_QUERY_TIMEOUT_MS, low, high);
}

int cpool_query_offsets(cpool *c, const char *topic, const int32_t *partitions, size_t n,
                        bool latest, int64_t *out)
{
    return kmeta_offsets(c->meta, topic, partitions, n, latest, CPOOL_QUERY_TIMEOUT_MS, out);
}

int cpool_partition_count(cpool *c, const char *topic, int *count)
{
    return kmeta_partition_count(c->meta, topic, CPOOL_QUERY_TIMEOUT_MS, count);
}

void cpool_free(cpool *c)
{
    if (!c) return;
    atomic_store(&c->stop, true);
    for (int i = 0; i < c->n; i++)
        rd_kafka_queue_yield(c->w[i].q);
    for (int i = 0; i < c->n; i++)
        pthread_join(c->w[i].thread, NULL);
    for (int i = 0; i < c->n; i++) {
        cpool_worker *w = &c->w[i];
        rd_kafka_queue_destroy(w->q);
        rd_kafka_destroy(w->rk);
        for (size_t j = 0; j < w->nparts; j++)
            free(w->parts[j].topic);
        free(w->parts);
        free(w->index);
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
    }
    rd_kafka_destroy(c->meta);
    free(c->w);
    free(c->owners);
    pthread_mutex_destroy(&c->owners_mu);
    free(c);
}
