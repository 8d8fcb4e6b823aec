/* CSV field scanner: one Kafka message holding one CSV record -> the values of the wanted
 * fields, as Pinot's CSVMessageDecoder reads it (Commons CSV, then its CSVRecordExtractor).
 * docs/stream-decoders.md has the rules; rowdec does the type coercion, as for JSON.
 *
 * The values are jsonscan_val, the decoders' common tagged value: every cell is a STRING
 * (CSV is untyped) or null (an empty cell, a missing one, the nullStringValue), and with a
 * multiValueDelimiter a cell holding two or more values is a LIST of STRINGs.
 *
 * Invariants:
 * - Only the message's first record is read (after the header record when the config gives
 *   no header, and after a skipped one with skipHeader), as Pinot reads only the first.
 * - Every pointer in a value points into the scanner's own buffers and stays valid until the
 *   next csvscan_run; no allocation per message once they have grown to the largest message.
 * - A scanner is used by one thread at a time. */
#ifndef SL_CSVSCAN_H
#define SL_CSVSCAN_H

#include "common/table_config.h"
#include "consumer/scanvals.h"

#include <stddef.h>
#include <stdint.h>

typedef struct csvscan csvscan;

/* New scanner for n wanted fields (names[i], lens[i] bytes; copied) under the options o
 * (borrowed: it must outlive the scanner). Caller frees with csvscan_free. */
csvscan *csvscan_new(const char *const *names, const uint32_t *lens, uint32_t n, const tcfg_csv *o);

/* Read the record in msg[0..len). 0 when there is one; -1 when the text is not CSV (an
 * unterminated quote, text after a closing quote, an escape at the end) or holds no record,
 * with csvscan_error_text saying which. */
int csvscan_run(csvscan *s, const uint8_t *msg, size_t len);

/* The values of the last successful run, valid until the next one: a wanted field the record
 * has no cell for, or whose cell is empty, is JSONSCAN_NULL. */
const scanvals *csvscan_vals(const csvscan *s);

/* After a failed run: what was wrong ("" after success). Owned by the scanner. */
const char *csvscan_error_text(const csvscan *s);

/* Text mode, for a CSV file (Pinot's CSVRecordReader): the whole text[0..len) is converted
 * once, and its header record read unless the options give one (then skipHeader skips the
 * file's first record). -1 with csvscan_error_text when the text has no header, a header
 * column has no name, or a one-column header stands over records of several (Pinot's "header
 * does not contain the configured delimiter"). text may be freed after the call. */
int csvscan_load(csvscan *s, const uint8_t *text, size_t len);

/* Text mode: read the next record. 1 with its values (csvscan_vals); 0 at the end of the
 * text; -1 when it is no CSV record (csvscan_error_text), and the next call reads from the
 * line after the one the bad record began on, as Pinot's reader recovers. */
int csvscan_next(csvscan *s);

/* Text mode: the text of the record the last csvscan_next read or refused (as converted to
 * UTF-8), valid until the next call. */
void csvscan_span(const csvscan *s, const char **p, size_t *n);

void csvscan_free(csvscan *s);

#endif
