/* Deterministic rows for any Pinot schema: what `sluice loadgen --schema` and `sluice chaos
 * --schema` produce when the table is the user's own rather than the example events.
 *
 * Row `id` of stream `seed` is a pure function of (seed, id, the schema): one JSON object with
 * every field of the schema, in schema order. Values by type, drawn from a hash of (seed, id,
 * field index) so that no field's values follow another's:
 *   INT, LONG      mostly in [-1000000, 1000000], 1 row in 32 an extreme (MIN, MAX, 0, -1)
 *   FLOAT, DOUBLE  a value with up to 3 decimals in [-1e6, 1e6], written so it parses back
 *                  to the same binary value
 *   BOOLEAN        true or false
 *   STRING         "<field>-<0..999>"; 1 row in 32 empty, 1 in 64 with a quote, a backslash
 *                  and a non-ASCII letter (escaped as JSON wants), 1 in 128 of 1000 bytes
 *   BYTES          0 to 16 random bytes as lower-case hex
 *   TIMESTAMP      epoch millis ROWGEN_TS_BASE + id * ROWGEN_TS_STEP
 * A multi-value dimension is an array of 0 to 3 such values. A date-time field follows its
 * format: EPOCH ("1:MILLISECONDS:EPOCH", "EPOCH|SECONDS|1", any of MILLISECONDS, SECONDS,
 * MINUTES, HOURS, DAYS and a size) gives the row's time in that unit, TIMESTAMP
 * ("1:MILLISECONDS:TIMESTAMP", "TIMESTAMP") its epoch millis; SIMPLE_DATE_FORMAT
 * ("1:DAYS:SIMPLE_DATE_FORMAT:yyyyMMdd", "SIMPLE_DATE_FORMAT|yyyy-MM-dd HH:mm:ss") gives it
 * formatted in UTC with the letters y M (MMM, MMMM: month names) d H h a m s S Z X (others kept
 * literally); anything else gets the
 * value of its type. The time advances with id, as a stream's does. Kafka key: id in decimal.
 * @locality: any thread; a rowgen is read-only after rowgen_new. */
#ifndef SL_ROWGEN_H
#define SL_ROWGEN_H

#include "common/jsonw.h"
#include "common/schema.h"

#include <stdint.h>

#define ROWGEN_TS_BASE INT64_C(1700000000000)
#define ROWGEN_TS_STEP 10

typedef struct rowgen rowgen;

/* A generator for schema s (borrowed: it must outlive the generator). Free with rowgen_free. */
rowgen *rowgen_new(const schema *s);
void rowgen_free(rowgen *g);

/* Write row `id` of stream `seed` into w (appended: the caller resets w between rows). */
void rowgen_row(const rowgen *g, uint64_t seed, uint64_t id, jsonw *w);

#endif
