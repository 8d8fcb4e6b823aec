/* Avro field scanner: one Kafka message holding one Avro record in Avro's binary encoding ->
 * the values of the wanted top-level fields, as Pinot's SimpleAvroMessageDecoder (a writer
 * schema in the config) and KafkaConfluentSchemaRegistryAvroMessageDecoder (Confluent's wire
 * format: a 0 byte, the schema id as 4 big-endian bytes, then the record; the schema comes
 * from the registry's GET /schemas/ids/<id>, cached) read it, and as Pinot's
 * AvroRecordExtractor converts the values. docs/stream-decoders.md has the rules; rowdec does
 * the type coercion, as for JSON.
 *
 * avro-c parses the schemas; the binary decoding is this module's own, because a message is
 * hostile input: every length, count, branch and symbol index is checked against the bytes
 * left and the schema before it is used, nesting is bounded, and nothing is allocated from a
 * size the message states.
 *
 * Values are jsonscan_val: null, boolean, int and long (INT64), float and double (DOUBLE,
 * with Java's toString as text), string and enum (STRING), bytes and fixed (BYTES), a record
 * or a map (OBJECT: its JSON text), an array (LIST of its elements for a multi-value field,
 * else ARRAY: its JSON text); a union is its branch's value. A top-level field's logical type
 * (decimal, timestamp-*, date, time-*, uuid; the schema's JSON says it, avro-c does not) is
 * converted as Pinot's AvroRecordExtractor converts it: a decimal is an exact BIGNUM, the
 * others an INT64 (epoch ms, days, ms of the day) with Java's text of the value, a fixed uuid
 * its STRING (docs/stream-decoders.md, "Logical types").
 *
 * Every pointer in a value stays valid until the next avroscan_run. A scanner is used by one
 * thread at a time (it may block in a registry request on a schema id it has not seen). */
#ifndef SL_AVROSCAN_H
#define SL_AVROSCAN_H

#include "common/table_config.h"
#include "consumer/scanvals.h"

#include <stddef.h>
#include <stdint.h>

typedef struct avroscan avroscan;

typedef enum avroscan_status {
    AVROSCAN_OK = 0,
    AVROSCAN_MALFORMED, /* the bytes are not a record of the schema (or no Confluent header) */
    AVROSCAN_NO_SCHEMA, /* the registry did not give the message's schema (cached briefly) */
} avroscan_status;

/* New scanner for n wanted fields (names[i], lens[i] bytes, copied; flags[i] as jsonscan's)
 * for table config t (borrowed: t->decoder is TCFG_DECODER_AVRO or _AVRO_REGISTRY, and t
 * outlives the scanner). NULL with the reason in err when the configured schema does not
 * parse (tcfg has checked it, so only for a config not made by tcfg). */
avroscan *avroscan_new(const char *const *names, const uint32_t *lens, const uint8_t *flags,
                       uint32_t n, const tcfg *t, char *err, size_t errlen);

avroscan_status avroscan_run(avroscan *s, const uint8_t *msg, size_t len);

/* From now on a run reads msg where it lies instead of copying it: msg must stay unchanged
 * until the next run, as the values point into it. For records read one after another from
 * a larger buffer (an object container file's block), with avroscan_used. */
void avroscan_in_place(avroscan *s);

/* After a successful run: its whole record as JSON text, the rules of a nested record's (for
 * complexTypeConfig, which unnests the record as it does a JSON message). Owned by the
 * scanner, valid until the next run; NULL only if the record cannot be read again. */
const char *avroscan_record_json(avroscan *s, size_t *len);

/* After a successful run: the bytes its record took from the front of msg. */
size_t avroscan_used(const avroscan *s);

/* The values of the last successful run, valid until the next one: a wanted field the
 * record's schema lacks is JSONSCAN_ABSENT. */
const scanvals *avroscan_vals(const avroscan *s);

/* After a failed run: what was wrong ("" after success). Owned by the scanner. */
const char *avroscan_error_text(const avroscan *s);

void avroscan_free(avroscan *s);

#endif
