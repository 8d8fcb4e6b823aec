/* Completion state machine: the controller's decisions for ONE consuming segment.
 *
 * Pure logic (DESIGN §4): no clock reads, no I/O, no locks. The owner (the controller's
 * completion manager) feeds it the replicas' messages with the current time, ticks it, and
 * performs the commit itself when the machine asks for it (CFSM_ACT_COMMIT: verify the
 * uploaded file, run the ZooKeeper multi-op, then report with cfsm_commit_done). Every
 * decision is therefore unit-testable without sleeping; docs/protocol.md has the table.
 *
 *   HOLDING --winner picked--> COMMITTER_DECIDED --winner told COMMIT--> COMMITTER_NOTIFIED
 *   COMMITTER_NOTIFIED --CommitStart--> COMMITTER_UPLOADING --CommitEnd--> COMMITTING
 *   COMMITTING --commit done--> COMMITTED           any (but COMMITTED) --fault--> ABORTED
 *
 * @locality: one thread at a time (the owner serializes access with its own lock). */
#ifndef SL_CFSM_H
#define SL_CFSM_H

#include "common/limits.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Replicas one machine hears from: the awaited set (at most SL_MAX_REPLICATION) and as many
 * again that joined the assignment while the segment was completing (a repair replacing
 * replicas). Instance ids are at most SL_IDENT_MAX bytes. */
#define CFSM_MAX_REPLICAS (2 * SL_MAX_REPLICATION)
#define CFSM_LOCATION_MAX 512

typedef enum cfsm_state {
    CFSM_HOLDING = 0,
    CFSM_COMMITTER_DECIDED,
    CFSM_COMMITTER_NOTIFIED,
    CFSM_COMMITTER_UPLOADING,
    CFSM_COMMITTING,
    CFSM_COMMITTED,
    CFSM_ABORTED,
    CFSM_STATE__COUNT
} cfsm_state;

/* Message kinds: the five RPCs of the wire. */
typedef enum cfsm_msg_kind {
    CFSM_MSG_CONSUMED = 0,
    CFSM_MSG_COMMIT_START,
    CFSM_MSG_COMMIT_END,
    CFSM_MSG_EXTEND,
    CFSM_MSG_STOPPED,
    CFSM_MSG__COUNT
} cfsm_msg_kind;

/* Reply statuses; numbering matches the wire's Status enum. */
typedef enum cfsm_status {
    CFSM_HOLD = 1,
    CFSM_CATCH_UP = 2,
    CFSM_COMMIT = 3,
    CFSM_KEEP = 4,
    CFSM_DISCARD = 5,
    CFSM_FAILED = 7,
    CFSM_COMMIT_CONTINUE = 8,
    CFSM_COMMIT_SUCCESS = 9,
    CFSM_PROCESSED = 10,
} cfsm_status;

/* Stop reason that lets a lone reporter win at once (wire REASON_ROW_LIMIT). */
#define CFSM_REASON_ROW_LIMIT 1

typedef struct cfsm_cfg {
    uint64_t hold_ms;           /* wait for all replicas' reports at most this long (3000) */
    uint64_t notify_ms;         /* a decided winner must come for its COMMIT within (10000) */
    uint64_t commit_budget_ms;  /* build + upload + CommitEnd budget from COMMIT (120000) */
    uint64_t max_commit_ms;     /* ExtendBuildTime never pushes past COMMIT + this (1800000) */
    bool pauseless;             /* DESIGN §9: the decision is fixed in ZooKeeper (N COMMITTING,
                                   N+1 open) before anyone is told; the table's setting */
} cfsm_cfg;

/* Defaults of DESIGN §4. */
extern const cfsm_cfg cfsm_default_cfg;

typedef struct cfsm_msg {
    cfsm_msg_kind kind;
    const char *instance;
    int64_t offset;         /* next offset the replica would consume */
    int reason;             /* wire StopReason */
    uint32_t crc;           /* CommitEnd */
    int64_t rows;           /* CommitEnd */
    int64_t size_bytes;     /* CommitEnd */
    const char *location;   /* CommitEnd: where the upload went */
    int32_t extra_seconds;  /* ExtendBuildTime */
} cfsm_msg;

typedef struct cfsm_reply {
    cfsm_status status;
    int64_t offset;        /* CATCH_UP target, COMMIT offset, or the committed end offset */
    int32_t build_seconds; /* COMMIT/PROCESSED(extend): seconds left in the commit budget */
    uint32_t crc;          /* KEEP / COMMIT_SUCCESS: committed CRC */
    char location[CFSM_LOCATION_MAX]; /* KEEP / DISCARD: the committed file */
    bool wait;             /* HOLD with no decision yet: a long-poll may park and ask again */
    const char *why;       /* static text for logs and the reply message */
} cfsm_reply;

/* What the owner must do after a message. */
typedef enum cfsm_action {
    CFSM_ACT_NONE = 0,
    CFSM_ACT_COMMIT, /* verify the upload against the CommitEnd, commit in ZooKeeper, then
                        call cfsm_commit_done; the reply is filled by cfsm_commit_done */
    CFSM_ACT_FIX,    /* pauseless: the winner is decided; fix N's end offset in ZooKeeper
                        (N COMMITTING, N+1 IN_PROGRESS at it: one multi-op), call
                        cfsm_fix_done, then hand the message in again for its reply (*out
                        holds a HOLD for when the fix cannot be made) */
} cfsm_action;

typedef struct cfsm cfsm;

/* New machine in HOLDING for `segment` whose replicas are `replicas` (copied; the live
 * assigned instances whose reports are awaited). Caller frees with cfsm_free. */
cfsm *cfsm_new(const char *segment, const char *const *replicas, size_t nreplicas,
               const cfsm_cfg *cfg, uint64_t now_ms);

/* New machine in COMMITTED, rebuilt from ZooKeeper after a leader change. */
cfsm *cfsm_new_committed(const char *segment, int64_t end_offset, uint32_t crc,
                         const char *location, const char *committer, const cfsm_cfg *cfg,
                         uint64_t now_ms);

/* New pauseless machine in HOLDING whose end offset is already fixed at end_offset (N is
 * COMMITTING in ZooKeeper: a leader change, or the machine of a failed committer was
 * dropped). Only a replica at end_offset can win; those behind catch up to it, those beyond
 * wait for the commit (then DISCARD). */
cfsm *cfsm_new_fixed(const char *segment, const char *const *replicas, size_t nreplicas,
                     int64_t end_offset, const cfsm_cfg *cfg, uint64_t now_ms);

/* Handle one message; fills *out (unless CFSM_ACT_COMMIT is returned). */
cfsm_action cfsm_on_msg(cfsm *f, const cfsm_msg *m, uint64_t now_ms, cfsm_reply *out);

/* Report the commit the owner performed after CFSM_ACT_COMMIT: ok -> COMMITTED and
 * COMMIT_SUCCESS in *out; !ok -> ABORTED and FAILED with `why`. */
void cfsm_commit_done(cfsm *f, bool ok, const char *why, uint64_t now_ms, cfsm_reply *out);

/* Report the fix the owner performed after CFSM_ACT_FIX: ok -> the end offset is fixed at the
 * winning offset; !ok -> ABORTED (nothing was written: the next message rebuilds). */
void cfsm_fix_done(cfsm *f, bool ok, const char *why);

/* Whether a pauseless machine has decided a winner whose offset is not fixed yet. */
bool cfsm_needs_fix(const cfsm *f);

/* The fixed end offset, or -1 (not pauseless, or not fixed yet). */
int64_t cfsm_fixed_end(const cfsm *f);

/* Deadlines: picks the winner when the hold window ends, aborts a winner that never came
 * or a commit past its budget. Returns true when the state changed. */
bool cfsm_tick(cfsm *f, uint64_t now_ms);

/* Replace the awaited replica set (assignment or liveness changed). */
void cfsm_set_replicas(cfsm *f, const char *const *replicas, size_t n, uint64_t now_ms);

cfsm_state cfsm_get_state(const cfsm *f);
const char *cfsm_state_name(cfsm_state s);
const char *cfsm_status_name(cfsm_status s);
const char *cfsm_msg_name(cfsm_msg_kind k);
const char *cfsm_segment(const cfsm *f);
const char *cfsm_winner(const cfsm *f);  /* "" until decided */
int64_t cfsm_winning_offset(const cfsm *f); /* -1 until decided */
/* True once the machine is ABORTED: the owner drops it; the next message rebuilds one. */
bool cfsm_done(const cfsm *f);

void cfsm_free(cfsm *f);

#endif
