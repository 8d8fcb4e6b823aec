/* The sidecar engine: the tables and partitions one sidecar consumes, whichever mode drives it.
 *
 * The engine owns what both modes share:
 *  - each table: its schema and config, its directory `<data.dir>/<table>/` (created, and
 *    cleared of the temporaries a crash left: every `<segment>.seg.*`), its consumer pool
 *    (the table's stream properties, then the sidecar's `kafka.*` ones);
 *  - each partition: its pcons on the table's pool, and a zeroed area of the policy's own
 *    per-partition state (engine_part_ctx), freed with it;
 *  - the build of a full segment into a file (metrics, disk state, the build-delay knob) and
 *    its atomic publication as `<table>/<segment>.seg`;
 *  - the segment file paths, and the health listing of the partitions;
 *  - the scrub: every scrub_interval_ms one thread re-verifies each published file (the full
 *    check of `sluice segment verify`), reading at most scrub_rate bytes per second; a file
 *    that fails (bit rot, a cut file) is counted (sluice_segments_corrupt_total), logged and
 *    moved to quarantine/, and the policy is told (on_corrupt) so it can heal it.
 * What happens when a segment is full, on every tick, when a consumer group hands a partition
 * over or takes it away, and what state a partition is in, is the mode's policy
 * (engine_policy), implemented twice: consumer/standalone.c (the published files are the
 * checkpoint) and completion/replica.c (the completion protocol with the controller).
 *
 * Threads: the pools' workers run the policy's callbacks (on_full, on_tick, on_assign,
 * on_revoke) for the partitions they own; tables and partitions may be added from any thread
 * that is not a worker; engine_health and engine_segment_path from any thread. The engine's
 * mutex guards its table and partition lists only, never I/O. */
#ifndef SL_ENGINE_H
#define SL_ENGINE_H

#include "common/diskstate.h"
#include "common/jsonw.h"
#include "common/metrics.h"
#include "common/schema.h"
#include "common/table_config.h"
#include "consumer/cpool.h"
#include "consumer/pcons.h"

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct engine engine;
typedef struct engine_table engine_table;
typedef struct engine_part engine_part;

/* The mode. Callbacks run on the worker that owns the partition unless said otherwise. */
typedef struct engine_policy {
    void *ctx;
    /* ep's segment is FULL: roll it (CPOOL_CONTINUE) or hold the partition (CPOOL_HOLD). */
    cpool_full_action (*on_full)(void *ctx, cpool_worker *w, engine_part *ep);
    /* Optional: every tick, with whether ep is held (paused). */
    void (*on_tick)(void *ctx, cpool_worker *w, engine_part *ep, bool held);
    /* Group tables only: the group gave this worker `partition`, whose committed offset is
     * `committed` (-1 = none). Return a partition made with engine_part_add and started
     * (pcons CONSUMING), or NULL to leave it alone. */
    engine_part *(*on_assign)(void *ctx, cpool_worker *w, engine_table *t, int32_t partition,
                              int64_t committed);
    /* Group tables only: ep is being taken away (cpool_commit still works); the engine frees
     * it when this returns. */
    void (*on_revoke)(void *ctx, cpool_worker *w, engine_part *ep);
    /* Any thread, under the engine's mutex: ep's state name for /health, and whether it is an
     * error (counted: /health answers 503). */
    const char *(*state)(void *ctx, const engine_part *ep, bool *error);
    /* Optional, as state: further fields of ep's /health entry (jsonw_key + value pairs). */
    void (*health_fields)(void *ctx, const engine_part *ep, jsonw *w);
    /* Optional, on the scrub thread: t's published `segment` failed its periodic verification
     * and was moved to quarantine/ (engine_quarantine); e.g. fetch a good copy again. */
    void (*on_corrupt)(void *ctx, engine_table *t, const char *segment);
} engine_policy;

typedef struct engine_opts {
    const char *data_dir;
    int workers;                 /* consumer threads per table (>= 1) */
    const cpool_prop *props;     /* the sidecar's kafka.* properties (applied after the table's) */
    size_t nprops;
    bool fail_on_data_loss;
    const char *dead_letter_path; /* or NULL */
    size_t max_message_bytes;    /* 0 = decoder default */
    int64_t perturb_row;         /* test knob: alter row N (1-based) of every segment; 0 off */
    uint64_t build_delay_ms;     /* test knob: a build takes this much longer */
    uint64_t scrub_interval_ms;  /* re-verify every published file this often; 0 = never */
    uint64_t scrub_rate;         /* bytes per second the scrub reads at most; 0 = unlimited */
    metrics_registry *metrics;   /* borrowed */
    diskstate *disk;             /* borrowed: where disk failures are reported; NULL = own */
    const char *log_tag;         /* subsystem of the engine's log lines ("standalone", ...) */
} engine_opts;

/* New engine with no table. Registers the consumer metric families in o->metrics and opens
 * the dead-letter sink. NULL with the reason in err. opts strings and the policy are
 * borrowed until engine_free. */
engine *engine_new(const engine_opts *o, const engine_policy *pol, char *err, size_t errlen);

/* The disk state builds report to (o->disk, or the engine's own). */
diskstate *engine_disk(engine *e);

/* Add a table: create and clean its directory `<data.dir>/<key>` (tcfg_key), start its
 * consumer pool (a consumer group when group_id is non-NULL: partitions then come through
 * on_assign). An OFFLINE table gets no pool: it holds pushed segments only, and has no
 * partitions. owned: the engine frees s and t with the table (also when this fails); else
 * they are borrowed and must outlive the engine. NULL with the reason in err. */
engine_table *engine_table_add(engine *e, const schema *s, const tcfg *t, bool owned,
                               const char *group_id, char *err, size_t errlen);

/* The table called name, or NULL. Any thread. */
engine_table *engine_table_find(engine *e, const char *name); /* by key */
;

engine *engine_table_engine(const engine_table *t);
const char *engine_table_name(const engine_table *t); /* the key (tcfg_key) */
const char *engine_table_dir(const engine_table *t);
const tcfg *engine_table_cfg(const engine_table *t);
const schema *engine_table_schema(const engine_table *t);

/* Number of partitions of the table's topic (blocks up to 5 s): 0, SL_ENOENT or
 * SL_ETRANSIENT (cpool_partition_count). Any thread. */
int engine_table_partitions(engine_table *t, int *count);

/* Low and high watermark of partition (blocks up to 5 s): 0 or SL_ETRANSIENT. Any thread. */
int engine_table_watermarks(engine_table *t, int32_t partition, int64_t *low, int64_t *high);

/* The start offset auto.offset.reset gives (earliest, or latest when `latest`) of each of n
 * partitions into out, in one batched look-up: 0 or SL_ETRANSIENT (cpool_query_offsets). */
int engine_table_offsets(engine_table *t, const int32_t *partitions, size_t n, bool latest,
                         int64_t *out);

/* New partition of t (pcons IDLE) with a zeroed policy area of ctx_size bytes; owned by the
 * engine (freed by engine_free, or after on_revoke). The caller starts its first segment on
 * engine_part_pcons and, for a table without a group, hands it to the pool with
 * engine_part_consume. Any thread except a worker, or a worker inside on_assign. */
engine_part *engine_part_add(engine *e, engine_table *t, int32_t partition, size_t ctx_size);

/* Lowlevel: start consuming ep from its pcons's next offset. 0 or SL_EINVAL. */
int engine_part_consume(engine_part *ep);

/* The partition `partition` of t, or NULL. Any thread. */
engine_part *engine_part_find(engine *e, const engine_table *t, int32_t partition);

/* Run fn(arg, w) on the worker that owns ep, and wait: 0, or SL_ENOENT when no worker consumes
 * ep (fn not run; cpool_call). Not on a worker. */
int engine_part_call(engine_part *ep, void (*fn)(void *arg, cpool_worker *w), void *arg);

engine_table *engine_part_table(const engine_part *ep);
int32_t engine_part_partition(const engine_part *ep);
pcons *engine_part_pcons(const engine_part *ep);
void *engine_part_ctx(const engine_part *ep);

/* What a build made. */
typedef struct engine_built {
    char path[PATH_MAX]; /* the file written */
    uint32_t crc;        /* its CRC-32C trailer */
    uint64_t size;       /* its length */
    uint64_t rows;
    double seconds;      /* build time */
} engine_built;

/* Build ep's FULL segment (name, sequence and start offset from its pcons; end = its next
 * offset) into `<table>/<segment>.seg<suffix>`, atomically; "" publishes it at once. Counts
 * the build in the metrics; a failure is logged (deterministic: the rows) or reported to the
 * disk state (environmental: the disk). Returns 0 or the builder's error
 * (seg_build_file). On ep's current owner (its worker, or the thread holding it). */
int engine_build(engine *e, engine_part *ep, const char *suffix, engine_built *out);

/* As engine_build, for a segment taken out of ep's pcons by pcons_roll (f borrowed). On the
 * thread that owns f. */
int engine_build_frozen(engine *e, engine_part *ep, const pcons_frozen *f, const char *suffix,
                        engine_built *out);

/* Publish the file `from` (a verified segment in t's directory) as segment's file: rename,
 * fsync the directory. 0, SL_EINVAL (path too long) or the file error (fsutil_errno_err). */
int engine_publish(engine_table *t, const char *segment, const char *from);

/* Move segment's published file into `<table dir>/quarantine/` (never over an earlier file
 * there: a second one gets a ".N" suffix), durably, and log why. 0 or SL_EIO (logged, errno
 * set). Any thread. */
int engine_quarantine(const engine_table *t, const char *segment, const char *why);

/* `<table dir>/<segment>.seg<suffix>` into buf (PATH_MAX bytes); false when it does not fit. */
bool engine_seg_path(const engine_table *t, const char *segment, const char *suffix, char *buf);

/* The published file of `segment` of `table`, for GET /segments: 0; SL_ENOENT when the engine
 * consumes no such table; SL_EINVAL when segment is not a segment name of it. Any thread. */
int engine_segment_path(engine *e, const char *table, const char *segment, char *buf,
                        size_t cap);

/* The published files of `table` as a JSON array into w, by name: {"segment", "size"} and, with
 * verify, "crc" (the CRC-32C trailer) of each file that passes the full check of `sluice segment
 * verify`, or "crc": null and "error" for one that does not (bit rot, a cut file). 0, or
 * SL_ENOENT when the engine consumes no such table (nothing written). Any thread; verify reads
 * every file. */
int engine_list_files(engine *e, const char *table, bool verify, jsonw *w);

/* The partitions as a JSON array into w (table, partition, state, nextOffset, highWatermark,
 * consumingRows, then the policy's fields); returns how many are in error. Any thread. */
int engine_health(engine *e, jsonw *w);

/* Stop every pool (joins the workers; group tables revoke through on_revoke), then free the
 * partitions, the tables and everything the engine opened. NULL is a no-op. Not on a worker;
 * the policy must no longer run anything on the engine's partitions. */
void engine_free(engine *e);

#endif
