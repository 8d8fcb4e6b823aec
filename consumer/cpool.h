/* Consumer pool: a fixed number of worker threads that consume any number of partitions.
 *
 * Threads do not grow with partitions (Pinot's thread-per-partition leaves cores idle): each
 * worker owns one librdkafka consumer handle and the partitions assigned to it, polls them
 * in batches, and feeds every message to its partition's pcons on that same thread. When a
 * pcons becomes FULL the worker calls the owner's on_full handler, still on its thread,
 * which either rolls the segment at once (standalone: build, publish, start the next one)
 * or holds the partition (cluster mode: the completion protocol decides later, and resumes
 * it through cpool_call).
 *
 * Two ways to get partitions:
 *  - lowlevel (default): cpool_add assigns a (topic, partition) explicitly from a start
 *    offset; no consumer group, no offset commits: the segment files are the checkpoint.
 *  - highlevel: every worker handle joins `group_id` and subscribes to the topic; Kafka
 *    spreads partitions over the workers (of this and other sidecars); on_assign creates
 *    the pcons from the group's committed offset and cpool_commit stores an offset only
 *    after the segment holding the rows before it is durable.
 *
 * Kafka faults: transient errors (broker down, leader change, timeouts) are retried inside
 * librdkafka and only logged here; the fetch position never moves backwards or skips, and
 * pcons ignores redelivered offsets. An offset that retention already deleted becomes an
 * explicit data-loss range [next, low watermark) and consumption goes on from the low
 * watermark, or the partition goes to ERROR when loss is configured as fatal. */
#ifndef SL_CPOOL_H
#define SL_CPOOL_H

#include "consumer/pcons.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cpool cpool;
typedef struct cpool_worker cpool_worker;

typedef enum cpool_full_action {
    CPOOL_CONTINUE = 0, /* the handler started the next segment: keep feeding */
    CPOOL_HOLD,         /* pause the partition until a cpool_call resumes it */
} cpool_full_action;

typedef struct cpool_handler {
    void *ctx;
    /* A partition's segment became FULL. Runs on the owning worker. */
    cpool_full_action (*on_full)(void *ctx, cpool_worker *w, pcons *p);
    /* highlevel only: the group gave this worker (topic, partition), whose committed offset
     * is `committed` (-1 = none). Return a pcons in CONSUMING state (owned by the caller;
     * the pool borrows it until on_revoke), or NULL to leave the partition alone. */
    pcons *(*on_assign)(void *ctx, cpool_worker *w, const char *topic, int32_t partition,
                        int64_t committed);
    /* highlevel only: the partition is being taken away (cpool_commit still works inside);
     * after it returns the pool no longer uses p. */
    void (*on_revoke)(void *ctx, cpool_worker *w, pcons *p);
    /* Optional: called every tick for each partition, on its worker, with whether it is held
     * (paused); e.g. to retry a failed build and cpool_seek_resume it, or a failed commit. */
    void (*on_tick)(void *ctx, cpool_worker *w, pcons *p, bool held);
} cpool_handler;

typedef struct cpool_prop {
    const char *key;
    const char *value;
} cpool_prop;

/* The librdkafka settings every worker handle starts from (opts props are applied after
 * them); static, n entries. Exposed so a benchmark's bare consumer can use the same ones. */
const cpool_prop *cpool_defaults(size_t *n);

typedef struct cpool_opts {
    int workers;                /* >= 1 */
    const char *bootstrap;      /* broker list */
    const cpool_prop *props;    /* librdkafka properties applied last (may override ours) */
    size_t nprops;
    bool fail_on_data_loss;     /* true: lost offsets put the partition in ERROR */
    const char *group_id;       /* highlevel mode when non-NULL */
    const char *topic;          /* highlevel: topic to subscribe */
    uint32_t tick_ms;           /* poll timeout and time-threshold check period; 0 = 100 */
} cpool_opts;

/* Check librdkafka properties as cpool_new would apply them (after our defaults, on a scratch
 * consumer handle that is created and destroyed without connecting), so that a process can
 * refuse bad `kafka.*` settings at start even before it knows its brokers. Returns 0, or
 * SL_EINVAL with "kafka.KEY: reason" (or "kafka consumer: reason" for a combination
 * librdkafka refuses) in err and the index of the refused entry in *bad (nprops when no single
 * entry is to blame; bad may be NULL). Any thread. */
int cpool_check_props(const cpool_prop *props, size_t nprops, size_t *bad, char *err,
                      size_t errlen);

/* Create the workers and their Kafka handles (threads start at once). NULL with a reason in
 * err on a bad property. Borrows handler and opts strings until cpool_free. */
cpool *cpool_new(const cpool_opts *o, const cpool_handler *h, char *err, size_t errlen);

/* lowlevel: consume (topic, partition) from p's next offset on the worker partition %
 * workers. p must be CONSUMING; the pool borrows it until cpool_remove. Any thread. */
int cpool_add(cpool *c, const char *topic, pcons *p);

/* Stop consuming p's partition; returns once its worker no longer touches p. Any thread
 * except a worker. */
void cpool_remove(cpool *c, pcons *p);

/* Run fn(arg, w) on the worker that owns p (by partition number, or in highlevel mode the one
 * the group gave it to), and wait for it. Returns 0, or SL_ENOENT (fn not run) when no worker
 * consumes p (never added, removed, or revoked by the group). Any thread except a worker. */
int cpool_call(cpool *c, pcons *p, void (*fn)(void *arg, cpool_worker *w), void *arg);

/* On the worker (inside a handler or a cpool_call function): fetch p's partition again
 * from `offset`, unpaused, dropping anything prefetched (after a HOLD, or to move it). */
int cpool_seek_resume(cpool_worker *w, pcons *p, int64_t offset);

/* On the worker, highlevel: commit `offset` (the next offset to consume) for p's partition
 * to the group, synchronously. Returns 0 or SL_ETRANSIENT. */
int cpool_commit(cpool_worker *w, pcons *p, int64_t offset);

/* Ask the partition leader for the low and high watermark (blocks up to 5 s). Any thread.
 * Returns 0 or SL_ETRANSIENT. */
int cpool_query_watermarks(cpool *c, const char *topic, int32_t partition, int64_t *low,
                           int64_t *high);

/* The earliest (latest = false) or latest offset of each of n partitions into out, batched:
 * one request per leader (blocks up to 5 s). Any thread. Returns 0 or SL_ETRANSIENT (out has
 * -1 where unknown). Like every look-up of the pool, on its own handle: never behind a
 * worker's parked Fetch. */
int cpool_query_offsets(cpool *c, const char *topic, const int32_t *partitions, size_t n,
                        bool latest, int64_t *out);

/* Number of partitions of topic from the cluster metadata (blocks up to 5 s). Any thread.
 * Returns 0, SL_ENOENT (no such topic) or SL_ETRANSIENT. */
int cpool_partition_count(cpool *c, const char *topic, int *count);

/* Stop all workers (joins them) and free the handles. The pcons are the caller's. */
void cpool_free(cpool *c);

#endif
