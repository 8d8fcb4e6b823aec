/* Segment reader and verifier: opens a segment file (mmap) or a borrowed buffer, validates
 * all of it up front, then serves metadata, column statistics and row values.
 *
 * Validation covers the header (magic, version 1 or 2, header checksum, recorded file length),
 * the CRC-32C trailer (by the rule of the file's version), every structure: section bounds
 * and alignment, bit widths (1..32), every packed dictionary id (< cardinality), every offset
 * array (non-decreasing, ending at its data's length), null bitmaps (popcount = null count),
 * NUL-terminated names; and the contents: dictionaries strictly ascending with every entry
 * used, min/max, raw cardinalities (exact) and the time range as recorded. After a
 * successful open no accessor can read outside the buffer, whatever the file contained;
 * accessors check only their arguments (column, row). A truncated file (shorter than its
 * header says) is SL_ETRUNC, a damaged one SL_ECORRUPT, an unknown version SL_EFORMAT.
 *
 * Segment files are immutable and replaced only by rename (fsutil), never rewritten in place:
 * like any mmap, truncating a file under an open reader would fault.
 *
 * A seg_reader is immutable after open: any number of threads may read it concurrently.
 * Strings and bytes returned (names, schema JSON, STRING/BYTES values) point into the
 * mapping or borrowed buffer and stay valid until seg_reader_close. */
#ifndef SL_SEG_READER_H
#define SL_SEG_READER_H

#include "common/schema.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct seg_reader seg_reader;

/* Per-column description; owned by the reader. */
typedef struct seg_col_info {
    const char *name;     /* NUL-terminated, in the mapping */
    schema_type type;
    bool single_value;
    bool dict;            /* dictionary-encoded (false: raw values) */
    bool has_minmax;      /* false only when the column holds no values */
    uint8_t bits;         /* packed dictionary id width (0 for raw columns) */
    uint32_t cardinality; /* distinct values (exact, also for raw columns) */
    uint64_t n_values;    /* values stored; == rows for single-value columns */
    uint64_t null_count;  /* rows marked null (they hold the default null value) */
    schema_value min, max; /* valid when has_minmax; sort order of docs/segment-format.md */
} seg_col_info;

/* Open and validate the segment file at path (read-only mmap). Returns NULL on failure with
 * *err set (SL_ENOENT, SL_EIO, SL_ETRUNC, SL_ECORRUPT, SL_EFORMAT) and errbuf (errlen bytes)
 * saying what and at which offset; err and errbuf may be NULL. Close with seg_reader_close. */
seg_reader *seg_reader_open(const char *path, int *err, char *errbuf, size_t errlen);

/* Same over buf[0..len), which is borrowed: it must stay valid and unchanged until
 * seg_reader_close. Any alignment is fine. */
seg_reader *seg_reader_open_mem(const uint8_t *buf, size_t len, int *err, char *errbuf,
                                size_t errlen);

/* Release the reader (and unmap the file). NULL is a no-op. */
void seg_reader_close(seg_reader *r);

/* Full structural and CRC check of a segment in memory / in a file. Returns 0 only when the
 * segment is valid; otherwise SL_ETRUNC, SL_ECORRUPT, SL_EFORMAT (or SL_ENOENT/SL_EIO for
 * the file) with msg (msglen bytes) saying what and at which offset. */
int seg_verify_mem(const uint8_t *buf, size_t len, char *msg, size_t msglen);
int seg_verify_file(const char *path, char *msg, size_t msglen);

/* Segment metadata. Strings are NUL-terminated and owned by the reader. */
const char *seg_reader_name(const seg_reader *r);
const char *seg_reader_table(const seg_reader *r);
int32_t seg_reader_partition(const seg_reader *r);
int64_t seg_reader_sequence(const seg_reader *r);
int64_t seg_reader_start_offset(const seg_reader *r);
int64_t seg_reader_end_offset(const seg_reader *r); /* exclusive */
uint64_t seg_reader_rows(const seg_reader *r);
uint32_t seg_reader_crc(const seg_reader *r);       /* the CRC-32C trailer */
uint64_t seg_reader_size(const seg_reader *r);      /* file length in bytes */
/* The whole segment as bytes (the mapping or the borrowed buffer), e.g. to upload it. */
const uint8_t *seg_reader_bytes(const seg_reader *r, size_t *len);
/* Schema as stored (canonical JSON text, NUL-terminated); *len gets its length if non-NULL. */
const char *seg_reader_schema_json(const seg_reader *r, size_t *len);
/* Index of the time column in the columns, or -1 when the segment has none. */
int32_t seg_reader_time_column(const seg_reader *r);
/* Time range (min/max of the time column) when the time column is INT/LONG/TIMESTAMP and
 * holds values: sets *min and *max (either may be NULL) and returns true; else false. */
bool seg_reader_time_range(const seg_reader *r, int64_t *min, int64_t *max);

/* Columns, in schema order. */
uint32_t seg_reader_ncols(const seg_reader *r);
/* Description of column col (owned by the reader), or NULL when col >= ncols. */
const seg_col_info *seg_reader_col(const seg_reader *r, uint32_t col);
/* Index of the column called name, or -1. */
int seg_reader_find_col(const seg_reader *r, const char *name);

/* Value of a single-value column at row. Returns 0, or SL_EINVAL when col/row is out of
 * range or the column is multi-value. STRING/BYTES point into the segment. */
int seg_reader_value(const seg_reader *r, uint32_t col, uint64_t row, schema_value *out);

/* Values of a multi-value column at row: writes the first min(count, cap) into out and
 * returns count (so a caller can retry with a bigger array), or SL_EINVAL when col/row is
 * out of range or the column is single-value. */
int64_t seg_reader_mv(const seg_reader *r, uint32_t col, uint64_t row, schema_value *out,
                      uint32_t cap);

/* Whether row was null in the input (it then holds the default null value). False for an
 * out-of-range col/row. */
bool seg_reader_is_null(const seg_reader *r, uint32_t col, uint64_t row);

/* Dictionary entry id (0 <= id < cardinality, ascending order) of a dictionary column.
 * Returns 0 or SL_EINVAL. */
int seg_reader_dict_value(const seg_reader *r, uint32_t col, uint32_t id, schema_value *out);

/* The CRC trailer (last 4 bytes, little-endian: the segment's crc) of the file at path,
 * without reading the rest: what a file claims to be, for a cheap comparison with a record
 * (a full check is seg_reader_open). Returns 0, SL_ENOENT, SL_ECORRUPT (shorter than a
 * trailer) or SL_EIO. */
int seg_reader_trailer(const char *path, uint32_t *crc);

#endif
