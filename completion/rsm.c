/* Replica state machine (see rsm.h for the diagram; the tables are in docs/protocol.md).
 *
 * State invariants, and the function of completion/replica.c that enters each state:
 *   CONSUMING    the partition's consumer-pool worker owns its pcons and appends rows of the
 *                segment (rsm_start from r_reconcile_table for a new partition; ONLINE/ERROR
 *                -> CONSUMING from r_reconcile_table for the next segment or a retry).
 *   HOLDING      the pcons is FULL and paused, its rows kept; exactly one completion job for
 *                it is queued or running (r_on_full from CONSUMING / CATCHING_UP; r_complete
 *                from COMMITTING / RETAINING / DISCARDED when the action must be tried again).
 *   CATCHING_UP  the worker consumes again up to the controller's offset; no job is queued;
 *                the next FULL brings it back to HOLDING (r_complete, reply CATCH_UP).
 *   COMMITTING   the completion thread builds, uploads and commits (r_complete, COMMIT).
 *   RETAINING    the completion thread builds locally to compare CRCs (r_complete, KEEP).
 *   DISCARDED    the completion thread downloads the committed copy (r_complete, DISCARD).
 *   ONLINE       the committed file is published; the job is over (r_complete).
 *   ERROR        no committed file could be produced, StoppedConsuming was sent; since_ms
 *                is when, and the segment restarts RSM_ERROR_RETRY_MS later (r_complete).
 * CONSUMING, ONLINE and ERROR are recorded in ZooKeeper (rsm_published) by the enter hook,
 * before the state is stored: once ONLINE or ERROR is visible the control thread may move
 * the partition to its next segment, and the record must name this one.
 * Only rsm_start and rsm_transition store `state`. */
#include "completion/rsm.h"
#include "common/log.h"

#include <assert.h>
#include <stddef.h>

static const char *const rsm_names[RSM__COUNT] = {
    [RSM_CONSUMING] = "CONSUMING",   [RSM_HOLDING] = "HOLDING",
    [RSM_CATCHING_UP] = "CATCHING_UP", [RSM_COMMITTING] = "COMMITTING",
    [RSM_RETAINING] = "RETAINING",   [RSM_DISCARDED] = "DISCARDED",
    [RSM_ONLINE] = "ONLINE",         [RSM_ERROR] = "ERROR"};

/* The legality table (rows T2..T19 of docs/protocol.md; T1 is rsm_start). */
static const bool rsm_table[RSM__COUNT][RSM__COUNT] = {
    [RSM_CONSUMING] = {[RSM_HOLDING] = true, [RSM_ERROR] = true},
    [RSM_HOLDING] = {[RSM_CATCHING_UP] = true, [RSM_COMMITTING] = true, [RSM_RETAINING] = true,
                     [RSM_DISCARDED] = true},
    [RSM_CATCHING_UP] = {[RSM_HOLDING] = true},
    [RSM_COMMITTING] = {[RSM_ONLINE] = true, [RSM_HOLDING] = true, [RSM_ERROR] = true},
    [RSM_RETAINING] = {[RSM_ONLINE] = true, [RSM_HOLDING] = true, [RSM_ERROR] = true},
    [RSM_DISCARDED] = {[RSM_ONLINE] = true, [RSM_HOLDING] = true, [RSM_ERROR] = true},
    [RSM_ONLINE] = {[RSM_CONSUMING] = true},
    [RSM_ERROR] = {[RSM_CONSUMING] = true},
};

const char *rsm_state_name(rsm_state s)
{
    return (unsigned)s < RSM__COUNT ? rsm_names[s] : "?";
}

bool rsm_published(rsm_state to)
{
    return to == RSM_CONSUMING || to == RSM_ONLINE || to == RSM_ERROR;
}

bool rsm_legal(rsm_state from, rsm_state to)
{
    return (unsigned)from < RSM__COUNT && (unsigned)to < RSM__COUNT && rsm_table[from][to];
}

rsm_state rsm_get(const rsm *m)
{
    return (rsm_state)atomic_load(&m->state);
}

static void rsm__store(rsm *m, rsm_state to, uint64_t now_ms)
{
    atomic_store(&m->since_ms, now_ms); /* before the state: a reader of ERROR sees its time */
    atomic_store(&m->state, (int)to);
}

void rsm_start(rsm *m, const rsm_who *who, uint64_t now_ms, rsm_enter_fn *enter, void *ctx)
{
    bool again = atomic_exchange(&m->started, true);
    assert(!again);
    if (again) {
        SL_ERROR("replica", "illegal transition table=%s partition=%d segment=%s NEW -> %s",
                 who->table, who->partition, who->segment, rsm_names[RSM_CONSUMING]);
        return;
    }
    if (enter) enter(ctx, RSM_CONSUMING);
    SL_INFO("replica", "table=%s partition=%d segment=%s NEW -> %s", who->table, who->partition,
            who->segment, rsm_names[RSM_CONSUMING]);
    rsm__store(m, RSM_CONSUMING, now_ms);
}

bool rsm_transition(rsm *m, rsm_state to, const rsm_who *who, uint64_t now_ms,
                    rsm_enter_fn *enter, void *ctx)
{
    rsm_state from = rsm_get(m);
    bool ok = atomic_load(&m->started) && rsm_legal(from, to);
    assert(ok);
    if (!ok) {
        SL_ERROR("replica", "illegal transition table=%s partition=%d segment=%s %s -> %s",
                 who->table, who->partition, who->segment, rsm_state_name(from),
                 rsm_state_name(to));
        return false;
    }
    if (enter) enter(ctx, to);
    SL_INFO("replica", "table=%s partition=%d segment=%s %s -> %s", who->table, who->partition,
            who->segment, rsm_names[from], rsm_names[to]);
    rsm__store(m, to, now_ms);
    return true;
}

bool rsm_may_start(const rsm *m, bool same_segment, uint64_t now_ms)
{
    rsm_state s = rsm_get(m);
    if (same_segment) /* S3 / S4: only an ERROR whose wait is over starts it again */
        return s == RSM_ERROR && now_ms >= atomic_load(&m->since_ms) + RSM_ERROR_RETRY_MS;
    return s == RSM_ONLINE || s == RSM_ERROR; /* S1 / S2: else still completing the last one */
}

/* ---- decisions ----------------------------------------------------------------------- */

static rsm_step rsm__report(const char *row, uint64_t at_ms)
{
    return (rsm_step){.next = RSM_HOLDING, .act = RSM_DO_REPORT, .at_ms = at_ms, .row = row};
}

rsm_step rsm_on_reply(bool replied, rpc_status status, int64_t target, int64_t next,
                      uint64_t now_ms)
{
    if (!replied) return rsm__report("P1", now_ms); /* the RPC waited between its attempts */
    switch (status) {
    case RPC_STATUS_HOLD: return rsm__report("P2", now_ms); /* the controller long-polled */
    case RPC_STATUS_CATCH_UP:
        if (target <= next) return rsm__report("P3", now_ms + RSM_CATCH_UP_BEHIND_MS);
        return (rsm_step){.next = RSM_CATCHING_UP, .act = RSM_DO_CATCH_UP, .offset = target,
                          .reset_backoff = true, .decision = "catch_up", .row = "P4"};
    case RPC_STATUS_COMMIT:
        return (rsm_step){.next = RSM_COMMITTING, .act = RSM_DO_COMMIT, .row = "P5"};
    case RPC_STATUS_KEEP:
        return (rsm_step){.next = RSM_RETAINING, .act = RSM_DO_KEEP, .row = "P6"};
    case RPC_STATUS_DISCARD:
        return (rsm_step){.next = RSM_DISCARDED, .act = RSM_DO_DISCARD, .row = "P7"};
    default: return rsm__report("P8", now_ms + RSM_UNKNOWN_REPLY_MS);
    }
}

rsm_step rsm_on_result(rsm_state doing, int rc)
{
    static const char *const decision[RSM__COUNT] = {
        [RSM_COMMITTING] = "commit", [RSM_RETAINING] = "keep", [RSM_DISCARDED] = "discard"};
    static const char *const rows[RSM__COUNT][4] = {
        [RSM_COMMITTING] = {"O1", "O2", "O3", "O4"},
        [RSM_RETAINING] = {"O5", "O6", "O7", "-"},
        [RSM_DISCARDED] = {"O8", "O9", "O10", "-"}};
    assert(doing == RSM_COMMITTING || doing == RSM_RETAINING || doing == RSM_DISCARDED);
    if (doing != RSM_COMMITTING && doing != RSM_RETAINING && doing != RSM_DISCARDED)
        return (rsm_step){.next = doing, .act = RSM_DO_DONE, .row = "-"};
    const char *const *row = rows[doing];
    if (rc == 0) /* O1 / O5 / O8: the committed file is published */
        return (rsm_step){.next = RSM_ONLINE, .act = RSM_DO_DONE, .reset_backoff = true,
                          .decision = decision[doing], .row = row[0]};
    /* no file could be produced: StoppedConsuming, ERROR, restarted later from the start
     * (build_millis > 0 only after a build that failed on its rows: the controller halves) */
    rsm_step error = {.next = RSM_ERROR, .act = RSM_DO_DONE, .stopped = true,
                      .reset_backoff = true, .row = row[2]};
    if (doing == RSM_COMMITTING) {
        /* O2: refused (a REFRESH code), or the controller unreachable or slow; a local
         * resource (disk, memory) that would fail again is O4 */
        sl_err_action act = sl_err_action_of(rc);
        if (act == SL_ACT_REFRESH || rc == SL_ETRANSIENT || rc == SL_ETIMEDOUT)
            return rsm__report(row[1], 0);
        if (sl_err_is_deterministic(rc)) return error; /* O3 */
        /* O4: the disk (here, or the controller's store) failed, not the rows: give the commit
         * up at once so that a replica with a usable disk can commit; keep the rows */
        return (rsm_step){.next = RSM_HOLDING, .act = RSM_DO_BACKOFF, .stopped = true,
                          .zero_build_millis = true, .row = row[3]};
    }
    if (sl_err_is_disk(rc)) /* O6 / O9: committed already, nobody waits for this replica */
        return (rsm_step){.next = RSM_HOLDING, .act = RSM_DO_BACKOFF, .row = row[1]};
    return error; /* O7 / O10 */
}

uint64_t rsm_backoff(sl_backoff *b, uint64_t now_ms)
{
    return now_ms + sl_backoff_fail(b, now_ms, 0, 0);
}
