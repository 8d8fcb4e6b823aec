/* Flush threshold autotune (see flush.h). */
#include "consumer/flush.h"

#define FLUSH_NEW_WEIGHT 0.1

void flush_learn(flush_tuner *t, uint64_t rows, uint64_t bytes)
{
    if (!rows || !bytes) return;
    double r = (double)rows / (double)bytes;
    t->rows_per_byte =
        t->rows_per_byte > 0 ? FLUSH_NEW_WEIGHT * r + (1 - FLUSH_NEW_WEIGHT) * t->rows_per_byte : r;
}

uint64_t flush_next_rows(const flush_tuner *t)
{
    if (t->rows_per_byte <= 0 || !t->target_bytes) return FLUSH_INITIAL_ROWS;
    double rows = (double)t->target_bytes * t->rows_per_byte;
    if (rows < FLUSH_MIN_ROWS) return FLUSH_MIN_ROWS;
    if (rows > FLUSH_MAX_ROWS) return FLUSH_MAX_ROWS;
    return (uint64_t)rows;
}
