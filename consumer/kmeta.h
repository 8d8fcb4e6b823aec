/* Kafka metadata queries shared by the consumer pool and the controller: partition count
 * and watermarks of a topic. Blocking (bounded by timeout_ms); thread-safe on one handle. */
#ifndef SL_KMETA_H
#define SL_KMETA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/table_config.h"

#include <librdkafka/rdkafka.h>

typedef struct kmeta_prop {
    const char *key;
    const char *value;
} kmeta_prop;

/* The table's consumer properties (stream.kafka.consumer.prop.*) but group.id, borrowed from
 * t, into out (at most cap); returns how many. For a handle that joins no group. */
size_t kmeta_props_of(const tcfg *t, kmeta_prop *out, size_t cap);

/* A short-lived consumer handle for metadata queries against brokers, with extra
 * librdkafka properties (SASL, SSL, ...). NULL with the reason in err. Free with
 * rd_kafka_destroy. */
rd_kafka_t *kmeta_open(const char *brokers, const kmeta_prop *props, size_t nprops, char *err,
                       size_t errlen);

/* A consumed message's Kafka timestamp in ms, or INT64_MIN when it has none. */
int64_t kmeta_message_time(const rd_kafka_message_t *m);

/* Partition count of topic. Returns 0, SL_ENOENT (no such topic) or SL_ETRANSIENT. */
int kmeta_partition_count(rd_kafka_t *rk, const char *topic, int timeout_ms, int *count);

/* Low and high watermark of one partition from its leader. Returns 0 or SL_ETRANSIENT. */
int kmeta_watermarks(rd_kafka_t *rk, const char *topic, int32_t partition, int timeout_ms,
                     int64_t *low, int64_t *high);

/* The earliest (latest = false) or latest offset of each of n partitions of topic, in out[i],
 * in one ListOffsets request per leader (rd_kafka_offsets_for_times with Kafka's -2/-1
 * timestamps). Returns 0, or SL_ETRANSIENT when any partition could not be answered (out is
 * then partly filled, -1 where unknown). */
int kmeta_offsets(rd_kafka_t *rk, const char *topic, const int32_t *partitions, size_t n,
                  bool latest, int timeout_ms, int64_t *out);

#endif
