/* Mutable segment: the append-only, columnar, in-memory segment a partition consumer fills.
 *
 * One writer thread appends rows (mseg_append); any number of reader threads may read the
 * rows published so far (mseg_rows, mseg_read_*) while appends continue: a reader always
 * sees a consistent prefix, because every cell of row n is written before the row count is
 * released to n + 1, and storage never moves under a published row.
 *
 * Dictionary columns keep a dictionary (values in first-seen order) and a forward index of
 * dictionary ids; noDictionary columns keep raw values. All memory comes from one jemalloc
 * arena per segment, so mseg_free releases it at once, however many allocations it made
 * (jemalloc has at most 4096 arenas: beyond them, and in sanitizer builds, a segment's
 * allocations are listed and freed one by one instead).
 *
 * The writer builds the immutable segment from mseg_src(), a zero-copy view (segment/
 * seg_src.h); the view is valid until the next append or mseg_free. */
#ifndef SL_MSEG_H
#define SL_MSEG_H

#include "common/schema.h"
#include "consumer/row.h"
#include "segment/seg_builder.h"
#include "segment/seg_src.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Most rows one mutable segment accepts; appends beyond return SL_ELIMIT. */
#define MSEG_MAX_ROWS ((uint64_t)1 << 31)

typedef struct mseg mseg;

/* New empty segment for schema s (borrowed: must outlive the segment). no_dictionary has
 * one flag per schema field (true = raw column) or is NULL (all dictionary). Caller frees
 * with mseg_free. @locality: any thread; the creating thread becomes the writer. */
mseg *mseg_new(const schema *s, const bool *no_dictionary);

/* New empty segment with like's schema and dictionary choices, whose hash tables, id widths,
 * first chunks and value-heap blocks start at the sizes like reached, so the next segment
 * of a partition neither re-hashes nor re-copies on its way to the same size. Sizes only:
 * the rows, and so the built bytes, do not depend on them. like is borrowed (read, not
 * kept; it may be frozen and building on another thread). Caller frees with mseg_free.
 * @locality: any thread; the creating thread becomes the writer. */
mseg *mseg_new_like(const mseg *like);

/* Ingestion aggregation (Pinot's ingestionConfig.aggregationConfigs): the columns whose op is
 * not MSEG_AGG_NONE are metrics, the others the group key. An appended row whose key columns
 * all equal an earlier row's (the same values, null or not) is merged into that row, its
 * metrics combined into the earlier row's in append order (SUM wraps for INT and LONG; a
 * COUNT is a SUM of 1s given by the caller); otherwise it is a new row. Metrics are never
 * null (a null arrives as the column's default value). The result depends only on the rows
 * and their order. */
typedef enum mseg_agg { MSEG_AGG_NONE = 0, MSEG_AGG_SUM, MSEG_AGG_MIN, MSEG_AGG_MAX } mseg_agg;

/* Turn aggregation on for m, before its first append: ops has one mseg_agg per schema field
 * (copied). Every field must be single-value and every aggregated one a raw (no-dictionary)
 * INT, LONG, TIMESTAMP, FLOAT or DOUBLE column; SL_EINVAL otherwise (nothing changed).
 * mseg_new_like carries it over. @locality: writer thread only. */
int mseg_set_aggregation(mseg *m, const uint8_t *ops);

/* Append one row (r->ncols == schema nfields). Copies every value it keeps. Returns 0, or
 * SL_ELIMIT when the segment is full (MSEG_MAX_ROWS rows or 2^32 multi-values in a column);
 * the segment is unchanged on error. With aggregation the row may be merged into an earlier
 * one (mseg_rows does not grow then). @locality: writer thread only. */
int mseg_append(mseg *m, const row *r);

/* Rows published so far. @locality: any thread. */
uint64_t mseg_rows(const mseg *m);

/* Bytes of memory the segment holds (chunks, dictionaries, hash tables, value heaps).
 * @locality: any thread (an approximate, monotonically growing figure). */
size_t mseg_memory_bytes(const mseg *m);

/* Fill a build view of the published rows: src and cols (schema nfields entries) are
 * caller-owned; the view borrows the segment's storage. @locality: writer thread only. */
void mseg_src(const mseg *m, seg_src *src, seg_src_col *cols);

/* Build the published rows into one immutable segment file at path, atomically
 * (seg_build_file: crc/size may be NULL; its errors, with the reason in err). time_column
 * names the column whose range goes into the metadata (NULL: none); meta is borrowed. The one
 * way a mutable segment becomes a file, for the sidecar and the CLI alike. @locality: writer
 * thread only. */
int mseg_build_file(const mseg *m, const char *time_column, const seg_meta_in *meta,
                    const char *path, uint32_t *crc, uint64_t *size, char *err, size_t errlen);

/* Reader access to published row `row` (< a value returned by mseg_rows) of column col.
 * STRING/BYTES results point into the segment, valid until mseg_free.
 * mseg_read_value: single-value columns. mseg_read_mv: multi-value columns; writes up to cap
 * values and returns the row's value count. @locality: any thread. */
void mseg_read_value(const mseg *m, uint32_t col, uint64_t row, schema_value *out);
uint32_t mseg_read_mv(const mseg *m, uint32_t col, uint64_t row, schema_value *out, uint32_t cap);
bool mseg_read_is_null(const mseg *m, uint32_t col, uint64_t row);

/* Frees everything the segment holds. No reader may still use it. Its jemalloc arena is
 * reset and kept (up to 256 of them) for the next mseg_new, so later segments reuse the
 * pages this one faulted in, until jemalloc's decay returns them to the system. */
void mseg_free(mseg *m);

#endif
