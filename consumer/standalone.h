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
 * This is the standalone policy of the sidecar engine (consumer/engine.h), which owns the
 * table, the partitions, the builds, the paths and the health listing.
 *
 * Threads: the consumer pool's workers do all the consuming, building and retrying (of a
 * failed build or offset commit). */
#ifndef SL_STANDALONE_H
#define SL_STANDALONE_H

#include "common/schema.h"
#include "common/table_config.h"
#include "consumer/engine.h"

#include <stddef.h>
#include <stdint.h>

typedef struct standalone standalone;

typedef struct standalone_opts {
    engine_opts engine;          /* data dir, workers, Kafka properties, ... */
    const schema *schema;        /* borrowed, outlives the standalone */
    const tcfg *table;           /* borrowed, outlives the standalone; a REALTIME table */
    const int32_t *partitions;   /* lowlevel: partitions to consume; NULL = all of the topic */
    size_t npartitions;
} standalone_opts;

/* Scan the data dir, resolve start offsets and start consuming. NULL with the reason in
 * err (bad Kafka settings, unknown topic, unreadable data dir). Caller stops with
 * standalone_stop. */
standalone *standalone_start(const standalone_opts *o, char *err, size_t errlen);

/* The engine, for /health and /segments (owned by s). Any thread. */
engine *standalone_engine(standalone *s);

/* Stop consuming (a build in progress finishes and is published; consuming segments are
 * dropped: they are re-read from Kafka on the next start) and free everything. NULL is a
 * no-op. */
void standalone_stop(standalone *s);

#endif
