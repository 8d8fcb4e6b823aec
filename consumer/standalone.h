/* Standalone ingestion: one table's partitions -> published segment files, no controller.
 *
 * For each partition a pcons consumes on the shared consumer pool; when a segment is full
 * the owning worker builds it and publishes `<data.dir>/<table>/<segment>.seg` atomically,
 * then starts the next segment exactly at the previous end offset. The published files
 * are the checkpoint, read from each file's own metadata, never from its name alone: on
 * start, a partition's files must form a chain from the oldest (verified, agreeing with
 * their names, sequence k+1 starting where k ended); the chain is cut at the first file
 * that breaks it, that file and all later ones are moved to `<table>/quarantine/` (kept
 * for inspection, logged, counted in health), and the partition resumes at the end of the
 * chain, so no offset is published twice; a partition with no usable file starts where
 * `auto.offset.reset` says (docs/standalone.md). With consumer.type highlevel
 * the partitions come from a Kafka consumer group instead, and the group's offset is
 * committed only after the segment holding the rows before it is durable.
 *
 * A build that fails on a full or failing disk (SL_ENOSPACE, SL_EDISK, ...) keeps the rows
 * in memory and is retried with a backoff of 1 s doubling to 60 s; the condition is reported
 * to opts.disk (health, metrics, one log line per kind per minute).
 *
 * Threads: the consumer pool's workers do all the consuming, building and retrying (of a
 * failed build or offset commit); standalone_health may be called from any thread. */
#ifndef SL_STANDALONE_H
#define SL_STANDALONE_H

#include "common/diskstate.h"
#include "common/jsonw.h"
#include "common/metrics.h"
#include "common/schema.h"
#include "common/table_config.h"
#include "consumer/cpool.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct standalone standalone;

typedef struct standalone_opts {
    const char *data_dir;
    const schema *schema;        /* borrowed, outlives the standalone */
    const tcfg *table;           /* borrowed, outlives the standalone */
    const int32_t *partitions;   /* lowlevel: partitions to consume; NULL = all of the topic */
    size_t npartitions;
    int workers;                 /* consumer threads (>= 1) */
    const cpool_prop *props;     /* extra librdkafka properties (kafka.* keys) */
    size_t nprops;
    bool fail_on_data_loss;
    const char *dead_letter_path; /* or NULL */
    size_t max_message_bytes;    /* 0 = decoder default */
    metrics_registry *metrics;   /* borrowed */
    diskstate *disk;             /* borrowed: where disk failures are reported (may be NULL) */
} standalone_opts;

/* Scan the data dir, resolve start offsets and start consuming. NULL with the reason in
 * err (bad Kafka settings, unknown topic, unreadable data dir). Caller stops with
 * standalone_stop. */
standalone *standalone_start(const standalone_opts *o, char *err, size_t errlen);

/* Partition states as JSON (an array) into w; returns how many partitions are in ERROR. */
int standalone_health(standalone *s, jsonw *w);

/* Stop consuming (a build in progress finishes and is published; consuming segments are
 * dropped: they are re-read from Kafka on the next start) and free everything. */
void standalone_stop(standalone *s);

/* The file of segment `name` of the table under data_dir, into buf. Returns 0, or
 * SL_EINVAL when name is not a valid segment name of this table. */
int standalone_segment_path(const standalone *s, const char *name, char *buf, size_t cap);

#endif
