/* Partition consumer state: one (table, partition)'s consuming segment.
 *
 * A pcons turns the messages of one partition, in offset order, into rows of its current
 * mutable segment and says when the segment is full (rows, time, size, or an explicit end
 * offset for CATCH_UP). It owns no thread and no Kafka handle: the consumer pool (cpool.h)
 * feeds it, so the logic is unit-testable with plain byte messages.
 *
 * Offsets: `next` is the offset of the next message the segment expects (an exclusive end).
 * A message below `next` is a redelivery and is ignored; a message above `next` is a gap
 * (compaction or transaction markers) and simply moves `next`; a data-loss event
 * (retention passed the consumer) is recorded explicitly with pcons_data_loss.
 *
 * Malformed messages never stop the partition: they are counted per reason, logged once per
 * reason per partition, and optionally written to the dead-letter sink; their offsets still
 * advance `next`, so they are accounted for, not lost.
 *
 * States (pcons_set_state is the one transition function):
 *   IDLE --pcons_start_segment--> CONSUMING --(threshold | end offset)--> FULL
 *   FULL --pcons_start_segment--> CONSUMING        any --pcons_fail--> ERROR
 *   ERROR --pcons_start_segment--> CONSUMING
 * @locality: one thread at a time (the owning worker); counters may be read from any thread. */
#ifndef SL_PCONS_H
#define SL_PCONS_H

#include "common/schema.h"
#include "consumer/cmetrics.h"
#include "consumer/dlq.h"
#include "consumer/mseg.h"
#include "consumer/rowdec.h"

#include <librdkafka/rdkafka.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum pcons_state {
    PCONS_IDLE = 0,
    PCONS_CONSUMING,
    PCONS_FULL,
    PCONS_ERROR,
    PCONS_STATE__COUNT
} pcons_state;

/* Why a segment ended; numbering matches the wire StopReason of DESIGN §4. */
typedef enum pcons_end {
    PCONS_END_NONE = 0,
    PCONS_END_ROWS = 1,
    PCONS_END_TIME = 2,
    PCONS_END_SIZE = 3,
    PCONS_END_OFFSET = 4, /* reached the requested end offset (CATCH_UP, replay) */
    PCONS_END_FORCE = 5,
} pcons_end;

/* Per-table settings shared by the table's partitions; borrowed, must outlive the pcons. */
typedef struct pcons_table {
    const char *table;
    const schema *schema;
    const bool *no_dictionary; /* per field, or NULL */
    const char *time_column;   /* or NULL */
    const tcfg *cfg;           /* the table config (its ingestion transforms), or NULL */
    size_t max_message_bytes;  /* 0 = decoder default */
    dlq *dead_letter;          /* or NULL */
    const cmetrics *metrics;   /* families the partitions' series go to */
    int64_t perturb_row;       /* test knob: alter the Nth row (1-based) of every segment; 0 off */
} pcons_table;

/* What a new segment must collect before it is full. 0 disables a criterion. */
typedef struct pcons_limits {
    uint64_t rows;
    uint64_t time_ms;    /* from the segment's creation time */
    uint64_t size_bytes; /* mutable-segment memory */
    int64_t end_offset;  /* stop when next reaches it; -1 = none */
} pcons_limits;

/* The partition's metric series (children of pcons_table.metrics), and the positions other
 * threads read. The counters (rows, bytes, bad[reason] = malformed messages, lost_ranges,
 * lost_messages) are updated by the owning thread only. */
typedef struct pcons_stats {
    metrics_counter *rows;
    metrics_counter *bytes;
    metrics_counter *filtered; /* messages the filterConfig dropped */
    metrics_counter *bad[ROWDEC_REASON__COUNT];
    metrics_counter *lost_ranges;
    metrics_counter *lost_messages;
    _Atomic int64_t next_offset;    /* offset the consuming segment expects next */
    _Atomic int64_t high_watermark; /* last known end of the partition (lag = hw - next) */
    _Atomic int64_t last_msg_ms;    /* Kafka timestamp of the last message fed, or -1 */
    _Atomic uint64_t segment_rows;  /* rows in the consuming segment */
    _Atomic uint64_t segment_bytes; /* its memory, sampled every 1024 rows */
} pcons_stats;

typedef struct pcons pcons;

/* New consumer for `partition` of table t (borrowed). Starts IDLE; registers the
 * partition's metric series (removed by pcons_free). Caller frees with pcons_free. */
pcons *pcons_new(const pcons_table *t, int32_t partition);

/* Start segment `seq` at start_offset, created at now_ms (the time threshold counts from
 * it). Drops any previous mutable segment (the caller has built what it needed from it).
 * name is copied. -> CONSUMING. */
void pcons_start_segment(pcons *p, int64_t seq, const char *name, int64_t start_offset,
                         uint64_t now_ms, const pcons_limits *lim);

/* A FULL segment taken out of its pcons by pcons_roll (pauseless completion, DESIGN §9): its
 * rows and identity, built later with engine_build_frozen. */
typedef struct pcons_frozen {
    mseg *seg;  /* owned; NULL: empty slot */
    char *name; /* owned */
    int64_t seq, start, end;
    pcons_end why;
} pcons_frozen;

/* Start segment `seq` at start_offset like pcons_start_segment, but hand the FULL segment's
 * rows to *out (which must be empty) instead of dropping them. p must be FULL with
 * start_offset == its next offset. -> CONSUMING. */
void pcons_roll(pcons *p, pcons_frozen *out, int64_t seq, const char *name, int64_t start_offset,
                uint64_t now_ms, const pcons_limits *lim);

/* Free a frozen segment's rows and name; *f becomes empty. Any thread that owns f. */
void pcons_frozen_free(pcons_frozen *f);

/* Feed the message at `offset`. Returns true when the segment became FULL with it (the
 * caller stops feeding until the next pcons_start_segment); messages fed while not
 * CONSUMING are ignored (false). */
bool pcons_on_message(pcons *p, int64_t offset, const uint8_t *payload, size_t len);

/* What Kafka says of the message fed next (m is borrowed until then): its timestamp, which a
 * missing time column value takes, and its key, offset, partition and headers (these parsed
 * only when a column reads them), which the metadata columns take (rowdec_set_message). The
 * one place a consumer and the deep audit's rebuild tell the decoder of a message, so that
 * both build the same rows. Worker thread. */
void pcons_set_message(pcons *p, const rd_kafka_message_t *m);

/* Time check: FULL on the time threshold (an empty segment instead extends its deadline by
 * one period, as Pinot does), or when the end offset was already reached. Returns true
 * when it became FULL. */
bool pcons_tick(pcons *p, uint64_t now_ms);

/* Record lost offsets [from, to) (retention overtook the consumer): counted, logged with the
 * exact range, written to the dead-letter sink as a data-loss record; next moves to `to`. */
void pcons_data_loss(pcons *p, int64_t from, int64_t to);

/* CATCH_UP: a FULL segment goes on consuming, keeping its rows, until next reaches
 * end_offset. -> CONSUMING (or stays FULL when it is already there). */
void pcons_catch_up(pcons *p, int64_t end_offset);

/* Force the consuming segment FULL now (shutdown). On the owning thread. */
void pcons_force_full(pcons *p);

/* Force commit (DESIGN §9), from any thread: the next pcons_tick makes segment `seq` FULL with
 * reason force, if it is still the consuming one then (an empty one too: the operator asked). */
void pcons_request_force(pcons *p, int64_t seq);

/* Mark the partition ERROR (logged with reason). */
void pcons_fail(pcons *p, const char *reason);

pcons_state pcons_get_state(const pcons *p); /* any thread */
const char *pcons_state_name(pcons_state s);
pcons_end pcons_end_reason(const pcons *p);
const char *pcons_end_name(pcons_end e);
int32_t pcons_partition(const pcons *p);
/* Who holds p (the engine's partition), for callbacks that get only p: set once after
 * pcons_new, before p is shared; NULL until then. */
void pcons_set_owner(pcons *p, void *owner);
void *pcons_owner(const pcons *p);
int64_t pcons_seq(const pcons *p);
const char *pcons_segment_name(const pcons *p); /* owned by p */
int64_t pcons_start_offset(const pcons *p);
int64_t pcons_next_offset(const pcons *p);
uint64_t pcons_created_ms(const pcons *p);
mseg *pcons_segment(pcons *p);          /* owned by p; NULL when IDLE */
pcons_stats *pcons_get_stats(pcons *p); /* owned by p */
const pcons_table *pcons_get_table(const pcons *p);

void pcons_free(pcons *p);

#endif
