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

void csvscan_free(csvscan *s);

#endif
