/* Batch input files -> rows: a JSON, CSV or Avro object container file read as Pinot's
 * batch record readers read it (docs/batch-inputs.md), each record decoded by rowdec, so a
 * file's rows get the same coercions, transforms, filter and per-reason rejects as a stream's.
 *
 * Invariants:
 * - A bad record is a reject with its reason and the reading goes on (a CSV file at the next
 *   line, an Avro file at the next block: the rest of a block whose record does not decode is
 *   rejected record by record, so the count is exact; a record that decodes but whose value
 *   its column refuses is that row's reject only); only a file that cannot be read as its
 *   format at all (no header, a wrong magic, a corrupt block frame) is an error.
 * - complexTypeConfig unnests JSON and Avro records (a CSV file refuses it).
 * - Nothing is allocated from a size the file states: counts and lengths are checked against
 *   the bytes there are, and a block inflates to at most FILESRC_MAX_BLOCK bytes.
 * - A gzip-compressed file (its magic bytes, as Pinot's readers check) is inflated first.
 * - A source is used by one thread at a time. */
#ifndef SL_FILESRC_H
#define SL_FILESRC_H

#include "common/schema.h"
#include "common/table_config.h"
#include "consumer/rowdec.h"

#include <stddef.h>
#include <stdint.h>

#define FILESRC_MAX_BLOCK ((size_t)1 << 30)

typedef enum filesrc_format {
    FILESRC_NONE = -1,
    FILESRC_JSON = 0, /* JSON objects one after another (a line each, or pretty), or an array */
    FILESRC_CSV,      /* a header record, then one record per row */
    FILESRC_AVRO,     /* an Avro object container file: codecs null, deflate, snappy, zstandard */
} filesrc_format;

/* The format a name gives (--input-format, a job spec's recordReaderSpec.dataFormat: "json",
 * "csv", "avro", any case), or FILESRC_NONE. */
filesrc_format filesrc_format_named(const char *name);
/* The format a path's extension gives (.json .jsonl .ndjson, .csv .tsv, .avro; a trailing .gz
 * is looked through), or FILESRC_NONE. */
filesrc_format filesrc_format_of_path(const char *path);

typedef struct filesrc filesrc;

/* Open path ("-": stdin) in format fmt, for schema s and table config t (both borrowed and
 * outliving the source; t may be NULL). csv (borrowed likewise; NULL: CSVRecordReaderConfig's
 * defaults) gives a CSV file's reading options. NULL with the reason in err when the file
 * cannot be read or is not a file of its format. Caller frees with filesrc_free. */
filesrc *filesrc_open(const char *path, filesrc_format fmt, const schema *s, const tcfg *t,
                      const tcfg_csv *csv, char *err, size_t errlen);

typedef enum filesrc_status {
    FILESRC_END = 0, /* no more records */
    FILESRC_ROW,     /* *r is the next row (owned by the source, valid until the next call) */
    FILESRC_REJECT,  /* a record (or one of its unnested rows) was refused: *why says why */
    FILESRC_ERROR,   /* the file is corrupt past this point: filesrc_error says how */
} filesrc_status;

/* The next row. Records the table's filterConfig drops are skipped (rowdec_filtered of
 * filesrc_rowdec counts them). */
filesrc_status filesrc_next(filesrc *f, const row **r, rowdec_reason *why);

/* After a row or a reject: where its record is (a JSON file's line number "12", a CSV file's
 * "record 12", an Avro file's "block 3 record 40": printed as "FILE:WHERE:"), and the
 * record's text for a rejects file (a JSON line or a CSV record; NULL for Avro's binary). Both
 * owned by the source, valid until the next call. */
const char *filesrc_where(filesrc *f);
const char *filesrc_text(const filesrc *f, size_t *len);

/* After FILESRC_ERROR: what is wrong, with the byte offset. Owned by the source. */
const char *filesrc_error(const filesrc *f);

/* The source's decoder (error field and detail of a reject, filtered count). Borrowed. */
rowdec *filesrc_rowdec(filesrc *f);

void filesrc_free(filesrc *f);

#endif
