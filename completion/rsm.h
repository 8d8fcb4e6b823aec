/* Replica state machine: the sidecar's states for ONE partition in cluster mode (DESIGN §4;
 * the tables are in docs/protocol.md, "Replica state machine").
 *
 * Pure logic, like cfsm: no clock reads, no I/O, no locks, no sleeping. The owner
 * (completion/replica.c) asks it what to do with a controller's reply or with the result of
 * a commit, a KEEP or a DISCARD (rsm_on_reply, rsm_on_result), performs the RPCs, builds,
 * downloads and waits itself, and moves the state with rsm_transition, the one place a
 * partition's state changes.
 *
 *   (new) --rsm_start--> CONSUMING --threshold--> HOLDING
 *   HOLDING --CATCH_UP(o > next)--> CATCHING_UP --o reached--> HOLDING
 *   HOLDING --COMMIT--> COMMITTING --committed--> ONLINE
 *   HOLDING --KEEP--> RETAINING --CRC equal, or healed by download--> ONLINE
 *   HOLDING --DISCARD--> DISCARDED --downloaded, CRC checked--> ONLINE
 *   COMMITTING --refused / unreachable--> HOLDING            (reports again at once)
 *   COMMITTING | RETAINING | DISCARDED --disk failure--> HOLDING  (back-off 1 s .. 60 s)
 *   COMMITTING | RETAINING | DISCARDED --no file can be produced--> ERROR
 *   ONLINE --next segment--> CONSUMING      ERROR --next segment, or 10 s later--> CONSUMING
 *
 * @locality: rsm_transition is called by the thread that owns the partition in its current
 * state (replica.c says which); rsm_get and rsm_may_start from any thread. */
#ifndef SL_RSM_H
#define SL_RSM_H

#include "common/sl_err.h"
#include "completion/rpc.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum rsm_state {
    RSM_CONSUMING = 0,
    RSM_HOLDING,
    RSM_CATCHING_UP,
    RSM_COMMITTING,
    RSM_RETAINING,
    RSM_DISCARDED,
    RSM_ONLINE,
    RSM_ERROR,
    RSM__COUNT
} rsm_state;

/* An ERROR partition restarts its segment from the start this long after entering ERROR. */
#define RSM_ERROR_RETRY_MS 10000u
/* A HOLDING replica whose CATCH_UP target is not ahead of it asks again after this. */
#define RSM_CATCH_UP_BEHIND_MS 500u
/* ... and after a reply it cannot use (FAILED, an unknown status). */
#define RSM_UNKNOWN_REPLY_MS 300u

/* One partition's machine. The owner embeds it zero-initialised (CONSUMING, not started) and
 * changes it only through rsm_start and rsm_transition. */
typedef struct rsm {
    _Atomic int state;          /* rsm_state */
    _Atomic uint64_t since_ms;  /* when the current state was entered */
    _Atomic bool started;       /* rsm_start was called */
} rsm;

/* Who a machine belongs to, for its log lines. */
typedef struct rsm_who {
    const char *table;
    int32_t partition;
    const char *segment; /* the segment the move is about */
} rsm_who;

/* Called by rsm_start/rsm_transition once a move is known to be legal, before the new state
 * is stored (visible to other threads): replica.c records a published state there. */
typedef void rsm_enter_fn(void *ctx, rsm_state to);

const char *rsm_state_name(rsm_state s); /* "CONSUMING", ...; "?" out of range */

/* Whether `to` is written to tables/<t>/replicas/<instance> (CONSUMING, ONLINE, ERROR). */
bool rsm_published(rsm_state to);

/* The legality table: whether from -> to is a move of the diagram above. */
bool rsm_legal(rsm_state from, rsm_state to);

/* A new partition enters CONSUMING (logged "NEW -> CONSUMING"); once per machine (a second
 * call is refused like an illegal move). */
void rsm_start(rsm *m, const rsm_who *who, uint64_t now_ms, rsm_enter_fn *enter, void *ctx);

/* The one transition function: a legal move calls enter(ctx, to) (may be NULL), stores `to`
 * with since_ms = now_ms and logs "table= partition= segment= A -> B"; an illegal one is
 * refused (assert in debug builds, an error line in release) and returns false. */
bool rsm_transition(rsm *m, rsm_state to, const rsm_who *who, uint64_t now_ms,
                    rsm_enter_fn *enter, void *ctx);

rsm_state rsm_get(const rsm *m);

/* The control thread's question for a partition whose assignment names `segment` CONSUMING
 * here: may it (re)start consuming it now? same_segment: the machine is already about it. */
bool rsm_may_start(const rsm *m, bool same_segment, uint64_t now_ms);

/* What the owner does next. */
typedef enum rsm_action {
    RSM_DO_REPORT = 0, /* send SegmentConsumed again, not before at_ms */
    RSM_DO_CATCH_UP,   /* consume again up to `offset`; the completion job ends */
    RSM_DO_COMMIT,     /* build, CommitStart, upload, CommitEnd; then rsm_on_result */
    RSM_DO_KEEP,       /* build locally, compare the CRC, heal by download; then rsm_on_result */
    RSM_DO_DISCARD,    /* download the committed copy; then rsm_on_result */
    RSM_DO_BACKOFF,    /* stay HOLDING with the rows; the job comes back at rsm_backoff() */
    RSM_DO_DONE,       /* ONLINE or ERROR: the job is over, the control thread moves on */
} rsm_action;

typedef struct rsm_step {
    rsm_state next;         /* the state to move to (the current one: stay) */
    rsm_action act;
    int64_t offset;         /* RSM_DO_CATCH_UP: the target */
    uint64_t at_ms;         /* RSM_DO_REPORT: not before this (0 or past: at once) */
    bool stopped;           /* first send StoppedConsuming(reason ERROR) */
    bool zero_build_millis; /* ... without build_millis: the controller keeps the threshold */
    bool reset_backoff;     /* forget the disk back-off of the segment */
    const char *decision;   /* completion counted by this label, or NULL */
    const char *row;        /* the docs/protocol.md row id, for tests and logs */
} rsm_step;

/* HOLDING: the controller's reply to SegmentConsumed(next). replied false: no reply at all
 * (the RPC gave up after its own retries). target: the reply's offset. */
rsm_step rsm_on_reply(bool replied, rpc_status status, int64_t target, int64_t next,
                      uint64_t now_ms);

/* COMMITTING, RETAINING or DISCARDED: the action ended with rc (0 = the file is published). */
rsm_step rsm_on_result(rsm_state doing, int rc);

/* RSM_DO_BACKOFF: record the failure in b at now_ms; returns when the job is due again. */
uint64_t rsm_backoff(sl_backoff *b, uint64_t now_ms);

#endif
