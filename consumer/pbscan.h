/* Protocol Buffers field scanner: one Kafka message holding one protobuf message of the type
 * the table names (descriptorFile, protoClassName: common/pbdesc.h) -> the values of the
 * wanted top-level fields, as Pinot's ProtoBufMessageDecoder and ProtoBufRecordExtractor give
 * them (docs/stream-decoders.md#protocol-buffers); rowdec does the type coercion.
 *
 * Values: bool (BOOL), the 32- and 64-bit integers (INT64, unsigned ones as Java's signed
 * int and long read them), float and double (DOUBLE, Java's toString as text), string
 * (STRING), bytes (BYTES), an enum (STRING: its name), a message or a map (OBJECT: the JSON
 * text of its set fields), a repeated field (LIST of its elements for a multi-value column,
 * else ARRAY: its JSON text). An unset field with presence is null; one without (a proto3
 * scalar) is its default.
 *
 * The wire format is read as protobuf's parser reads it: the last value of a singular field
 * wins, the occurrences of a message field merge, repeated scalars may be packed or not,
 * unknown fields are skipped. Every length is checked against the bytes left; nesting is
 * bounded. Pointers in values stay valid until the next pbscan_run. One thread at a time. */
#ifndef SL_PBSCAN_H
#define SL_PBSCAN_H

#include "common/pbdesc.h"
#include "consumer/scanvals.h"

#include <stddef.h>
#include <stdint.h>

typedef struct pbscan pbscan;

/* New scanner for n wanted fields (names[i], lens[i] bytes, copied; flags[i] as jsonscan's)
 * of message type msg of d (borrowed: it must outlive the scanner). */
pbscan *pbscan_new(const char *const *names, const uint32_t *lens, const uint8_t *flags, uint32_t n,
                   const pbdesc *d, int msg);

/* Read msg[0..len). 0, or -1 when the bytes are not a message of the type (see
 * pbscan_error_text). */
int pbscan_run(pbscan *s, const uint8_t *msg, size_t len);

/* The values of the last successful run, valid until the next one: a wanted field the type
 * lacks is JSONSCAN_ABSENT. */
const scanvals *pbscan_vals(const pbscan *s);
/* The last successful run's whole message as JSON, for complexTypeConfig (consumer/cplxscan.h):
 * its set fields in declaration order, nested messages as objects, repeated fields as arrays,
 * maps as objects, enums by name, bytes as their text, as the nested-message columns are
 * written. *len its length; valid until the next run. */
const char *pbscan_record_json(pbscan *s, size_t *len);
const char *pbscan_error_text(const pbscan *s);

void pbscan_free(pbscan *s);

#endif
