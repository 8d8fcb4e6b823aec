/* Row decoder: one Kafka message (a JSON object, or with the table's decoder a CSV or Avro
 * record or a protobuf message: docs/stream-decoders.md) -> a row of the table's schema (or,
 * under complexTypeConfig, several: rowdec_next).
 *
 * Semantics follow Pinot's JSON decoder (docs/json-decoding.md has the coercion table):
 * unknown fields are ignored, a missing or null field takes the field's default null value
 * and is marked null, a multi-value field takes a JSON array (a scalar is a one-element list,
 * an empty array or null is [default]). STRING and BYTES values are then sanitized as Pinot's
 * SanitizationTransformer does (maxLength, NUL characters, maxLengthExceedStrategy). A row
 * that cannot be decoded is rejected with one
 * reason code; the decoder never aborts and never returns a partial row.
 *
 * A decoder is used by one thread at a time. JSON parsing is simdjson, reached through
 * consumer/jsonscan.h; consumer/csvscan.h, avroscan.h, pbscan.h and cplxscan.h read the others into
 * the same tagged values, so one coercion table serves them all. */
#ifndef SL_ROWDEC_H
#define SL_ROWDEC_H

#include "common/schema.h"
#include "common/table_config.h"
#include "consumer/row.h"

#include <stddef.h>
#include <stdint.h>

typedef enum rowdec_reason {
    ROWDEC_OK = 0,
    ROWDEC_MALFORMED_JSON,     /* not valid JSON */
    ROWDEC_NOT_OBJECT,         /* valid JSON whose top level is not an object */
    ROWDEC_WRONG_TYPE,         /* a field's JSON type cannot become the column's type */
    ROWDEC_OVERFLOW,           /* a number does not fit the column's type */
    ROWDEC_INVALID_UTF8,       /* the message is not valid UTF-8 */
    ROWDEC_OVERSIZED,          /* message longer than the configured maximum */
    ROWDEC_EMPTY,              /* zero-length message (a tombstone) */
    ROWDEC_TOO_LONG,           /* a value over its maxLength, or a STRING with a NUL, under the
                                * field's maxLengthExceedStrategy ERROR */
    ROWDEC_TRANSFORM,          /* an ingestion transform failed (without continueOnError) */
    ROWDEC_TIME_RANGE,         /* rowTimeValueCheck: the time column's value is outside 1971-2071
                                * (without continueOnError) */
    ROWDEC_MALFORMED_CSV,      /* CSVMessageDecoder: not a CSV record (docs/stream-decoders.md) */
    ROWDEC_MALFORMED_AVRO,     /* the Avro decoders: not a record of the writer schema */
    ROWDEC_NO_SCHEMA,          /* the schema registry did not give the message's schema */
    ROWDEC_MALFORMED_PROTOBUF, /* ProtoBufMessageDecoder: not a message of the type */
    ROWDEC_REASON__COUNT
} rowdec_reason;

typedef struct rowdec rowdec;

/* Stable lower-case name of a reason ("malformed_json", ...), used in metrics and logs. */
const char *rowdec_reason_name(rowdec_reason r);

/* New decoder for schema s (borrowed; must outlive the decoder). max_message_bytes bounds
 * the accepted message size (0 = 1 MiB default). Caller frees with rowdec_free. */
rowdec *rowdec_new(const schema *s, size_t max_message_bytes);
/* The same, with the table's ingestion transforms (t->transforms, docs/transforms.md; t may be
 * NULL): a destination column whose value the message lacks or gives as null takes the value
 * of its expression over the message's fields, converted as a JSON value of that kind would
 * be. t (and s) must outlive the decoder. */
rowdec *rowdec_new_cfg(const schema *s, const tcfg *t, size_t max_message_bytes);
/* The same, with the messages in format fmt rather than t's decoder's (a JSON-lines file read
 * for a table whose stream is CSV or Avro). t may be NULL: then fmt is JSON. */
rowdec *rowdec_new_as(const schema *s, const tcfg *t, tcfg_decoder fmt, size_t max_message_bytes);

/* Decode msg[0..len). On ROWDEC_OK *out points at a row owned by the decoder, valid until the
 * next call. On any other reason *out is NULL and rowdec_error_field() names the offending
 * field when there is one. In the row, every column's mv points at its nvals values (for a
 * single-value column mv == &v); a null column holds the field's default_null. */
rowdec_reason rowdec_decode(rowdec *d, const uint8_t *msg, size_t len, const row **out);
/* (ROWDEC_OK with *out NULL: the table's filterConfig dropped the message: no row and no
 * error; rowdec_filtered() counts them.) */

/* For a CSV decoder (fmt TCFG_DECODER_CSV): a whole CSV file's text, read record by record
 * by rowdec_csv_next (csvscan's text mode: its header, Pinot's checks of it). 0, or -1 with
 * the reason in err when the file has no usable header. */
int rowdec_csv_load(rowdec *d, const uint8_t *text, size_t len, char *err, size_t errlen);
/* The loaded text's next record, as rowdec_decode gives a message's row (ROWDEC_MALFORMED_CSV
 * for a record that is no CSV; reading goes on at the next line); *end set (and ROWDEC_OK,
 * *out NULL) after the last. */
rowdec_reason rowdec_csv_next(rowdec *d, const row **out, bool *end);
/* The text of the record rowdec_csv_next read last (UTF-8), valid until the next call. */
void rowdec_csv_span(const rowdec *d, const char **p, size_t *n);

/* For a decoder of Avro records (fmt TCFG_DECODER_AVRO, t->avro_skip 0): each message is a
 * run of records read where it lies (it must stay unchanged until the next decode), and
 * rowdec_decode decodes the first; after ROWDEC_OK, rowdec_used is the bytes it took. For an
 * Avro object container file's blocks (consumer/filesrc). */
void rowdec_avro_in_place(rowdec *d);
size_t rowdec_used(const rowdec *d);

/* Rows the last message decoded gives: 1, or under complexTypeConfig the rows its unnested
 * fields make (each decoded and judged on its own: rowdec_decode gives the first). */
uint32_t rowdec_rows(const rowdec *d);
/* After rowdec_decode (and every row taken): the message's next row, as rowdec_decode gives
 * one (*why, *out). false when the message has no more. */
bool rowdec_next(rowdec *d, rowdec_reason *why, const row **out);

/* Messages the table's filterConfig has dropped since the decoder was made. */
uint64_t rowdec_filtered(const rowdec *d);

/* Field name of the last rejection, or "" (owned by the decoder). */
const char *rowdec_error_field(const rowdec *d);
/* A Kafka message header: its name (not NUL-terminated) and value (NULL: a null value). */
typedef struct rowdec_header {
    const char *name;
    size_t namelen;
    const void *value;
    size_t len;
} rowdec_header;

/* What Kafka says of a message besides its value. */
typedef struct rowdec_msg {
    int64_t ms;      /* its timestamp, ms since the epoch; INT64_MIN: none */
    const void *key; /* NULL: none */
    size_t keylen;
    int64_t offset;               /* -1: unknown */
    int32_t partition;            /* -1: unknown */
    const rowdec_header *headers; /* in the message's order; only read if rowdec_wants_headers */
    size_t nheaders;
} rowdec_msg;

/* What Kafka says of the message the next rowdec_decode reads (m is copied; what it points
 * to is borrowed until that decode).
 * - With a table config (rowdec_new_cfg) whose time column is absent or null in a message,
 *   the column takes the timestamp in its format (EPOCH, TIMESTAMP or SIMPLE_DATE_FORMAT),
 *   never the clock: every replica reads the same timestamp. The row still records the
 *   column as null.
 * - With stream.kafka.metadata.populate, the schema's columns `__key`,
 *   `__metadata$offset`, `__metadata$partition`, `__metadata$recordTimestamp` and
 *   `__header$NAME` take the key (as UTF-8 text; its bytes in a BYTES column), the offset,
 *   partition and timestamp (as decimal text) and the last header called NAME (its bytes: hex
 *   text in a STRING column, as Pinot converts them), as Pinot's Kafka consumer adds them to
 *   the row. `__metadata$recordSerializedValueSize` takes the value's length, populate or
 *   not, as in Pinot. */
void rowdec_set_message(rowdec *d, const rowdec_msg *m);

/* Whether the decoder reads the messages' headers (a `__header$NAME` column with
 * metadata.populate): a caller that must parse them first can skip that otherwise. */
bool rowdec_wants_headers(const rowdec *d);

/* One-line description of the last rejection for logs and reject files ("cannot convert JSON
 * string to INT", simdjson's message for malformed JSON, ...), or "" after success. Owned by
 * the decoder, valid until the next call. */
const char *rowdec_error_detail(const rowdec *d);

void rowdec_free(rowdec *d);

#endif
