/* Deterministic synthetic events: the rows `sluice loadgen` produces, regenerated anywhere.
 *
 * Every event is a pure function of (seed, id): no clock, no global state, no allocation, so
 * loadgen, the benchmarks and the exactly-once checks all derive the very same bytes and can
 * tell exactly which rows a partition must hold. `id` is the event_id; `loadgen --start-id K
 * --rows N` produces ids K .. K+N-1, so two runs [0,N) and [N,2N) equal one run [0,2N).
 *
 * Fields (deploy/examples/events_schema.json; JSON order is this order):
 *   ts LONG/TIMESTAMP millis = EVGEN_TS_BASE + id * EVGEN_TS_STEP
 *   user STRING "u<0..99999>", country STRING (50 ISO codes), device STRING (5 values),
 *   event STRING (10 names), tags multi-value STRING (0..3 distinct tags),
 *   latency_ms INT, price DOUBLE (2 decimals), session LONG, flag BOOLEAN,
 *   event_id LONG = id (unique).
 * Kafka key: event_id in decimal. Partition: evgen_partition() (loadgen --partitions P, the
 * partition is set explicitly) or evgen_partition_murmur2() (no --partitions: librdkafka's
 * murmur2_random partitioner, the Java client's default, hashes the key). */
#ifndef SL_EVGEN_H
#define SL_EVGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EVGEN_TS_BASE INT64_C(1700000000000)
#define EVGEN_TS_STEP 10
#define EVGEN_USERS 100000u
#define EVGEN_MAX_TAGS 3
#define EVGEN_ID_MAX (UINT64_C(1) << 50) /* ids must be below this (ts stays far from overflow) */
#define EVGEN_JSON_MAX 512               /* a buffer this large always holds one row + NUL */
#define EVGEN_KEY_MAX 24                 /* a buffer this large always holds one key + NUL */

/* One event as values. Strings point at static tables (never freed) or into the struct. */
typedef struct evgen_row {
    int64_t ts;          /* epoch millis */
    char user[16];       /* "u12345" */
    const char *country; /* "DE" */
    const char *device;
    const char *event;
    uint32_t ntags;                   /* 0..EVGEN_MAX_TAGS */
    const char *tags[EVGEN_MAX_TAGS]; /* distinct, in generation order */
    int32_t latency_ms;
    int64_t price_cents; /* price = price_cents / 100 */
    double price;        /* == price_cents / 100.0, as JSON parsing yields */
    int64_t session;
    bool flag;
    int64_t event_id; /* == id */
} evgen_row;

/* Fill *out with event `id` of stream `seed`. id < EVGEN_ID_MAX (larger ids are reduced
 * modulo EVGEN_ID_MAX). */
void evgen_row_make(uint64_t seed, uint64_t id, evgen_row *out);

/* Format a row as one compact JSON object (no newline) into buf (cap bytes, NUL-terminated
 * when cap > 0). Strings are written unescaped: a hand-made row must keep to the generator's
 * alphabet (no quotes, backslashes or control bytes). Returns the JSON length; a return >= cap
 * means buf was too small and holds a truncated prefix, as snprintf does. EVGEN_JSON_MAX always
 * suffices. */
size_t evgen_row_format(const evgen_row *r, char *buf, size_t cap);

/* evgen_row_make + evgen_row_format: the exact Kafka message value of event `id`. */
size_t evgen_row_json(uint64_t seed, uint64_t id, char *buf, size_t cap);

/* The Kafka key of event `id` (decimal event_id) into buf; same return rule as above. */
size_t evgen_key(uint64_t id, char *buf, size_t cap);

/* Partition of event `id` when loadgen sets it explicitly (--partitions P): id % P.
 * Returns -1 when partitions < 1. */
int32_t evgen_partition(uint64_t id, int32_t partitions);

/* Partition of event `id` when the key is hashed by murmur2 (Kafka's Java default and
 * librdkafka's "murmur2"/"murmur2_random" partitioners): (murmur2(key) & 0x7fffffff) % P.
 * Returns -1 when partitions < 1. */
int32_t evgen_partition_murmur2(uint64_t id, int32_t partitions);

/* Kafka's murmur2 of a byte string (seed 0x9747b28c), as the partitioners compute it. */
uint32_t evgen_murmur2(const void *data, size_t len);

#endif
