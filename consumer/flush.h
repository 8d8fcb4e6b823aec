/* Size-based flush threshold autotune (Pinot's SegmentSizeBasedFlushThresholdUpdater idea).
 *
 * With a target segment size, the row threshold of the next segment is
 *   rows = target_bytes x rows_per_byte,
 * where rows_per_byte is learned from the segments built so far and smoothed
 * (ratio = 0.1 x newest + 0.9 x previous, the first observation taken as is), and the
 * result is bounded to [FLUSH_MIN_ROWS, FLUSH_MAX_ROWS]. A segment that ended on time with
 * fewer rows than asked says nothing about size, so it only contributes its ratio.
 * The state is three numbers, so callers persist it as they like (ZooKeeper in cluster
 * mode, the last segment file in standalone mode). Pure functions: any thread. */
#ifndef SL_FLUSH_H
#define SL_FLUSH_H

#include <stdint.h>

#define FLUSH_INITIAL_ROWS 100000u /* before anything was learned (Pinot's default) */
#define FLUSH_MIN_ROWS 1000u
#define FLUSH_MAX_ROWS 50000000u
/* Rows of a segment when the table sets no threshold at all (Pinot's default). */
#define FLUSH_DEFAULT_ROWS 5000000u

typedef struct flush_tuner {
    uint64_t target_bytes;  /* desired built segment size */
    double rows_per_byte;   /* learned ratio; 0 = nothing learned yet */
} flush_tuner;

/* Learn from a built segment of `rows` rows and `bytes` bytes (ignored when either is 0). */
void flush_learn(flush_tuner *t, uint64_t rows, uint64_t bytes);

/* Row threshold for the next segment. */
uint64_t flush_next_rows(const flush_tuner *t);

#endif
