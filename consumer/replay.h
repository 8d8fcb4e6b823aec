/* Replay: rebuild segments from a Kafka offset range, at full speed, with the sidecar's own
 * engine (consumer pool, decoder, builder), so the files are byte for byte what a sidecar
 * would build from the same rows under the same names (DESIGN §9, docs/replay.md).
 *
 * Each partition of a replay is one of two plans:
 *  - a range [from, to) cut into segments by the table's thresholds (rows, or the learned
 *    rows of a target size; the time threshold is wall-clock and means nothing here): segment
 *    k+1 starts exactly where k ended, the last one ends at `to` whatever its size;
 *  - a list of exact segments (name, sequence, [start, end)), one after the other with no gap:
 *    `sluice replay --verify` rebuilds committed segments this way.
 * Files are published as `<out>/<table>/<segment>.seg` (fsync-ed, renamed), the layout of a
 * standalone sidecar's data dir, so `sluice audit --data-dir` and `segment verify` read them.
 * Offsets that retention removed are counted and logged as exact ranges, as the sidecar does
 * (pcons_data_loss), and the replay goes on from the earliest offset still held.
 *
 * Part states: RUNNING --last segment published--> DONE;  RUNNING --build failed--> FAILED.
 * Threads: the engine's workers consume and build; replay_wait/progress/results from the
 * thread that started the replay (or any thread: the state is under a mutex). */
#ifndef SL_REPLAY_H
#define SL_REPLAY_H

#include "common/schema.h"
#include "common/table_config.h"
#include "consumer/engine.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct replay replay;

/* One exact segment of a plan. */
typedef struct replay_seg {
    const char *name;  /* a segment name of the table (segname.h) */
    int64_t sequence;
    int64_t start, end; /* [start, end), start <= end */
} replay_seg;

/* One partition's plan: segs (nsegs > 0, each starting where the previous ended), or the
 * range [from, to) cut by the thresholds, the first segment numbered `sequence` and every
 * name carrying the minute time_ms. */
typedef struct replay_part {
    int32_t partition;
    const replay_seg *segs; /* borrowed until replay_start returns */
    size_t nsegs;
    int64_t from, to;
    int64_t sequence;
    int64_t time_ms;
} replay_part;

typedef struct replay_opts {
    engine_opts engine;       /* data_dir is the output dir; workers, Kafka properties, ... */
    const schema *schema;     /* borrowed, outlives the replay */
    const tcfg *table;        /* borrowed, outlives the replay; a REALTIME table */
    const replay_part *parts; /* copied */
    size_t nparts;
} replay_opts;

/* A published segment. */
typedef struct replay_built {
    char name[128];
    int32_t partition;
    int64_t sequence, start, end;
    uint64_t rows, size;
    uint32_t crc;
} replay_built;

typedef struct replay_stat {
    int64_t offsets_done, offsets_total; /* over every part */
    uint64_t rows;                       /* rows built or being built */
    uint64_t segments;                   /* published */
    uint64_t lost_messages, lost_ranges; /* retention removed them before they were read */
    uint64_t malformed;                  /* messages counted, not stored (decoder reasons) */
    size_t parts_done, parts_failed, nparts;
} replay_stat;

/* Check the plans (a partition the topic lacks, a plan with a gap or going backwards),
 * create the output dir and start consuming every part. NULL with the reason in err. Caller
 * stops with replay_stop. */
replay *replay_start(const replay_opts *o, char *err, size_t errlen);

/* Wait until every part is DONE or FAILED, or timeout_ms passed (< 0: no limit). Returns
 * whether every part ended. */
bool replay_wait(replay *r, int timeout_ms);

/* A snapshot of the progress. */
void replay_progress(replay *r, replay_stat *st);

/* The published segments so far, by partition then sequence, into *out (caller frees);
 * returns how many. */
size_t replay_results(replay *r, replay_built **out);

/* The first failure's reason, or "" (owned by r). */
const char *replay_error(replay *r);

/* Stop consuming (a build in progress finishes) and free everything. NULL is a no-op. */
void replay_stop(replay *r);

#endif
