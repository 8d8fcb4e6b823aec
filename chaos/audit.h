/* The invariant checker of `sluice audit` (DESIGN §8, §11): facts in, violations out.
 *
 * An audit_model holds what was observed of a cluster (or of a standalone sidecar's data dir):
 * per table and partition the segment records in sequence order with their ZooKeeper stats,
 * each sidecar's copy of each segment, the segment store's copy, Kafka's watermarks and, with
 * --deep, the result of rebuilding each committed segment from the messages Kafka holds.
 * Gathering is chaos/probe.c's job; this module is pure (the time is in the model), so every
 * check is unit-tested on hand-made histories that break it (tests/unit/test_audit.c).
 *
 *   I1 chain         sequences 0..n without a hole; each segment starts where the last
 *                    committed one ended (an abandoned IN_PROGRESS one is skipped by its
 *                    replacement, which starts at the same offset); DONE ends >= starts
 *   I2 exactly once  rows <= offsets of each DONE segment, committed offsets within Kafka's
 *                    end; --deep: the rebuild from Kafka has the committed CRC (so every row
 *                    is the message Kafka holds at that offset, malformed ones counted)
 *   I3 equality      every copy a sidecar holds verifies and has the committed CRC; a replica
 *                    that records ONLINE holds the file
 *   I4 one committer a DONE record names its committer and did not change after the commit
 *                    (its mzxid is its successor's czxid: the commit's one transaction)
 *   I5 liveness      the newest segment of each partition is IN_PROGRESS, CONSUMING on a live
 *                    instance, and not older than its time threshold plus the commit budget
 *                    while Kafka has messages for it
 *   I6 durability    every DONE segment is readable with its CRC from the store or a peer
 *
 * What could not be observed (a sidecar down, Kafka unreachable, messages already deleted by
 * retention) is not a violation: it is listed as unverified, with the reason. */
#ifndef SL_AUDIT_H
#define SL_AUDIT_H

#include "common/jsonw.h"
#include "completion/segmeta.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define AUDIT_ID_MAX 129
#define AUDIT_WHY_MAX 512

typedef enum audit_inv {
    AUDIT_I1 = 1,
    AUDIT_I2,
    AUDIT_I3,
    AUDIT_I4,
    AUDIT_I5,
    AUDIT_I6,
    AUDIT_INV__END
} audit_inv;

/* Whether something was observed, and what. */
typedef enum audit_seen {
    AUDIT_UNSEEN = 0, /* not looked at (not asked for, or not applicable) */
    AUDIT_OK,         /* looked at: as it must be */
    AUDIT_BAD,        /* looked at: not as it must be (why says how) */
    AUDIT_UNKNOWN,    /* could not be looked at (why says why) */
} audit_seen;

/* One sidecar's file of a segment (I3). */
typedef struct audit_copy {
    char instance[AUDIT_ID_MAX];
    bool reachable;          /* the sidecar answered its listing */
    bool present;            /* it holds <segment>.seg */
    bool valid;              /* ... which verifies */
    uint32_t crc;            /* its CRC when valid */
    bool recorded_online;    /* tables/<t>/replicas/<instance> says ONLINE for this segment */
    char why[AUDIT_WHY_MAX]; /* the sidecar's error for an invalid file, or why unreachable */
} audit_copy;

typedef struct audit_seg {
    segmeta m;       /* the record (zeroed but for m.segment when record_bad) */
    bool record_bad; /* the record does not decode */
    char record_why[AUDIT_WHY_MAX];
    bool has_stat; /* czxid/mzxid known (cluster mode) */
    int64_t czxid, mzxid;
    int32_t version;    /* the record's data version */
    audit_copy *copies; /* owned */
    size_t ncopies;
    audit_seen store; /* I6: the store's copy downloaded and verified with the CRC */
    char store_why[AUDIT_WHY_MAX];
    audit_seen deep; /* I2 --deep: rebuilt from Kafka with the committed CRC */
    char deep_why[AUDIT_WHY_MAX];
    uint64_t deep_messages, deep_malformed;
} audit_seg;

typedef struct audit_part {
    int32_t partition;
    audit_seg *segs; /* owned, ascending sequence */
    size_t nsegs;
    bool kafka_known; /* the watermarks below were read */
    int64_t low, high;
    char kafka_why[AUDIT_WHY_MAX];
    /* I5, cluster mode: instances the assignment lists CONSUMING for the newest segment, and
     * how many of them are registered (live) */
    uint32_t consuming_on, consuming_live;
} audit_part;

typedef struct audit_table {
    char name[AUDIT_ID_MAX];
    audit_part *parts; /* owned, ascending partition */
    size_t nparts;
    /* cluster mode, from the assignment: consumption paused by the operator, or the table
     * being bootstrapped by `sluice replay` (then I5 expects no progress) */
    int64_t paused_ms, bootstrap_ms;
} audit_table;

typedef struct audit_model {
    bool cluster;             /* false: a standalone data dir (no I3, I4, I5; I6 is the files) */
    int64_t now_ms;           /* the time the facts were read */
    int64_t commit_budget_ms; /* I5 slack after a segment's time threshold */
    audit_table *tables;      /* owned */
    size_t ntables;
} audit_model;

/* Grow-by-one helpers for the gatherer and the tests: a zeroed new element, owned by its
 * parent (freed by audit_model_free). */
audit_table *audit_add_table(audit_model *m, const char *name);
audit_part *audit_add_part(audit_table *t, int32_t partition);
audit_seg *audit_add_seg(audit_part *p);
audit_copy *audit_add_copy(audit_seg *s, const char *instance);

/* Sort each partition's segments by sequence (records that do not decode last). */
void audit_model_sort(audit_model *m);

void audit_model_free(audit_model *m);

typedef struct audit_violation {
    audit_inv inv;
    char table[AUDIT_ID_MAX];
    int32_t partition;           /* -1: the table */
    char segment[192];           /* "" when it concerns the partition */
    char instance[AUDIT_ID_MAX]; /* "" unless a replica is to blame */
    char why[AUDIT_WHY_MAX];
} audit_violation;

typedef struct audit_report {
    uint64_t checked[AUDIT_INV__END]; /* facts checked per invariant */
    audit_violation *violations;      /* owned */
    size_t nviolations;
    audit_violation *unverified; /* what could not be checked, and why; owned */
    size_t nunverified;
    uint64_t malformed; /* --deep: malformed messages in committed ranges */
    uint64_t rebuilt;   /* --deep: segments rebuilt from Kafka with their CRC */
    uint64_t segments, partitions, tables;
} audit_report;

/* Check every invariant over m into r (zeroed first). Pure. */
void audit_check(const audit_model *m, audit_report *r);

/* "I1 chain", ... */
const char *audit_inv_name(audit_inv i);

/* The human report: one row per invariant (checked, violations), then each violation and each
 * unverified fact on its own line, then the verdict. */
void audit_report_text(const audit_report *r, FILE *out);

/* The same as one JSON object: {"verdict":"ok|violations","invariants":{"I1":{"name",
 * "checked","violations"},...},"violations":[...],"unverified":[...],"tables","partitions",
 * "segments","rebuiltFromKafka","malformedMessages"}. */
void audit_report_json(const audit_report *r, jsonw *w);

void audit_report_free(audit_report *r);

#endif
