/* Completion state machine (see cfsm.h; the full table is docs/protocol.md).
 *
 * State invariants:
 *   HOLDING               no winner; reports accumulate (the first sets first_report_ms).
 *   COMMITTER_DECIDED     winner/win_offset set (cfsm__pick); the winner has not been told.
 *   COMMITTER_NOTIFIED    the winner got COMMIT (cfsm__consumed); commit_deadline_ms set.
 *   COMMITTER_UPLOADING   the winner sent CommitStart (cfsm__commit_start).
 *   COMMITTING            the winner sent CommitEnd; the owner is committing (cfsm__commit_end).
 *   COMMITTED             end_offset/crc/location are the committed segment (cfsm_commit_done,
 *                         or cfsm_new_committed after a leader change). Final.
 *   ABORTED               forgotten (cfsm__abort); the owner drops the machine. Final.
 * Pauseless machines (cfg.pauseless) add `fixed`: N's end offset is fixed in ZooKeeper at
 * fixed_end == win_offset (cfsm_fix_done after CFSM_ACT_FIX, or cfsm_new_fixed). A decided
 * pauseless machine that is not fixed tells nobody anything but HOLD until it is.
 * Only cfsm__set_state changes `state`. */
#include "completion/cfsm.h"
#include "common/log.h"
#include "common/xalloc.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const cfsm_cfg cfsm_default_cfg = {
    .hold_ms = 3000, .notify_ms = 10000, .commit_budget_ms = 120000, .max_commit_ms = 1800000};

typedef struct cfsm__rep {
    char id[SL_IDENT_MAX + 1];
    bool expected; /* in the awaited replica set */
    bool reported; /* sent SegmentConsumed since the machine started (or since it stopped) */
    bool excluded; /* sent StoppedConsuming and not reported since */
    int64_t offset;
    int reason;
    bool told_fixed; /* pauseless: was answered once at the fixed end (it moves on to N+1) */
} cfsm__rep;

struct cfsm {
    char segment[SL_SEGNAME_MAX];
    cfsm_cfg cfg;
    cfsm_state state;
    cfsm__rep reps[CFSM_MAX_REPLICAS];
    size_t nreps;
    bool any_report;
    uint64_t first_report_ms; /* valid when any_report */
    uint64_t decided_ms;
    uint64_t notified_ms;
    uint64_t commit_deadline_ms;
    char winner[SL_IDENT_MAX + 1];
    int64_t win_offset;
    bool fixed; /* pauseless: N is COMMITTING in ZooKeeper, ending at fixed_end */
    int64_t fixed_end;
    /* committed segment */
    int64_t end_offset;
    uint32_t crc;
    char location[CFSM_LOCATION_MAX];
    /* CommitEnd being committed by the owner */
    uint32_t pending_crc;
    char pending_location[CFSM_LOCATION_MAX];
};

static const char *const cfsm_state_names[CFSM_STATE__COUNT] = {
    [CFSM_HOLDING] = "HOLDING",
    [CFSM_COMMITTER_DECIDED] = "COMMITTER_DECIDED",
    [CFSM_COMMITTER_NOTIFIED] = "COMMITTER_NOTIFIED",
    [CFSM_COMMITTER_UPLOADING] = "COMMITTER_UPLOADING",
    [CFSM_COMMITTING] = "COMMITTING",
    [CFSM_COMMITTED] = "COMMITTED",
    [CFSM_ABORTED] = "ABORTED",
};

static const char *const cfsm_msg_names[CFSM_MSG__COUNT] = {
    [CFSM_MSG_CONSUMED] = "SegmentConsumed", [CFSM_MSG_COMMIT_START] = "CommitStart",
    [CFSM_MSG_COMMIT_END] = "CommitEnd",     [CFSM_MSG_EXTEND] = "ExtendBuildTime",
    [CFSM_MSG_STOPPED] = "StoppedConsuming",
};

const char *cfsm_state_name(cfsm_state s)
{
    return s < CFSM_STATE__COUNT ? cfsm_state_names[s] : "?";
}

const char *cfsm_msg_name(cfsm_msg_kind k)
{
    return k < CFSM_MSG__COUNT ? cfsm_msg_names[k] : "?";
}

const char *cfsm_status_name(cfsm_status s)
{
    switch (s) {
    case CFSM_HOLD:
        return "HOLD";
    case CFSM_CATCH_UP:
        return "CATCH_UP";
    case CFSM_COMMIT:
        return "COMMIT";
    case CFSM_KEEP:
        return "KEEP";
    case CFSM_DISCARD:
        return "DISCARD";
    case CFSM_FAILED:
        return "FAILED";
    case CFSM_COMMIT_CONTINUE:
        return "COMMIT_CONTINUE";
    case CFSM_COMMIT_SUCCESS:
        return "COMMIT_SUCCESS";
    case CFSM_PROCESSED:
        return "PROCESSED";
    }
    return "?";
}

/* The one transition function: legal moves only, each logged with the segment. */
static void cfsm__set_state(cfsm *f, cfsm_state to, const char *why)
{
    static const bool legal[CFSM_STATE__COUNT][CFSM_STATE__COUNT] = {
        [CFSM_HOLDING] = {[CFSM_COMMITTER_DECIDED] = true, [CFSM_ABORTED] = true},
        [CFSM_COMMITTER_DECIDED] = {[CFSM_COMMITTER_NOTIFIED] = true, [CFSM_ABORTED] = true},
        [CFSM_COMMITTER_NOTIFIED] = {[CFSM_COMMITTER_UPLOADING] = true, [CFSM_ABORTED] = true},
        [CFSM_COMMITTER_UPLOADING] = {[CFSM_COMMITTING] = true, [CFSM_ABORTED] = true},
        [CFSM_COMMITTING] = {[CFSM_COMMITTED] = true, [CFSM_ABORTED] = true},
    };
    assert(legal[f->state][to]);
    if (!legal[f->state][to]) {
        SL_ERROR("completion", "illegal transition segment=%s %s -> %s", f->segment,
                 cfsm_state_name(f->state), cfsm_state_name(to));
        return;
    }
    SL_INFO("completion", "segment=%s %s -> %s winner=%s offset=%" PRId64 " why=\"%s\"", f->segment,
            cfsm_state_name(f->state), cfsm_state_name(to), f->winner[0] ? f->winner : "-",
            f->win_offset, why);
    f->state = to;
}

/* ---- replies ---------------------------------------------------------------------- */

static void cfsm__reply(cfsm_reply *out, cfsm_status st, int64_t off, const char *why)
{
    memset(out, 0, sizeof *out);
    out->status = st;
    out->offset = off;
    out->why = why;
}

static void cfsm__hold(cfsm_reply *out, bool wait, const char *why)
{
    cfsm__reply(out, CFSM_HOLD, -1, why);
    out->wait = wait;
}

static int32_t cfsm__seconds_left(const cfsm *f, uint64_t now)
{
    return f->commit_deadline_ms > now ? (int32_t)((f->commit_deadline_ms - now + 999) / 1000) : 0;
}

/* After COMMITTED: KEEP at the end offset, CATCH_UP behind it, DISCARD beyond it. */
static void cfsm__after_commit(const cfsm *f, int64_t off, cfsm_reply *out)
{
    if (off == f->end_offset) {
        cfsm__reply(out, CFSM_KEEP, f->end_offset,
                    "committed at your offset: build and compare CRC");
        out->crc = f->crc;
    } else if (off < f->end_offset) {
        cfsm__reply(out, CFSM_CATCH_UP, f->end_offset, "committed ahead of you: catch up");
    } else {
        cfsm__reply(out, CFSM_DISCARD, f->end_offset, "committed behind you: download it");
    }
    snprintf(out->location, sizeof out->location, "%s", f->location);
}

/* ---- replicas ------------------------------------------------------------------------ */

static cfsm__rep *cfsm__rep_get(cfsm *f, const char *id, bool create)
{
    for (size_t i = 0; i < f->nreps; i++)
        if (strcmp(f->reps[i].id, id) == 0) return &f->reps[i];
    if (!create || f->nreps == CFSM_MAX_REPLICAS || strlen(id) > SL_IDENT_MAX) return NULL;
    cfsm__rep *r = &f->reps[f->nreps++];
    memset(r, 0, sizeof *r);
    snprintf(r->id, sizeof r->id, "%s", id);
    return r;
}

static void cfsm__abort(cfsm *f, const char *why)
{
    cfsm__set_state(f, CFSM_ABORTED, why);
}

/* Pick the winner when every awaited replica reported, the hold window has passed, or the
 * lone reporter `just` stopped on the row limit. Greatest offset wins; ties go to the
 * smallest instance id. Returns true when decided. */
static bool cfsm__pick(cfsm *f, uint64_t now, const cfsm__rep *just)
{
    size_t reported = 0;
    bool all = true;
    for (size_t i = 0; i < f->nreps; i++) {
        const cfsm__rep *r = &f->reps[i];
        if (r->excluded) continue;
        if (r->reported)
            reported++;
        else if (r->expected)
            all = false;
    }
    if (reported == 0) return false;
    bool window = now >= f->first_report_ms + f->cfg.hold_ms;
    bool lone = just && just->reason == CFSM_REASON_ROW_LIMIT && reported == 1;
    if (!all && !window && !lone) return false;
    const cfsm__rep *best = NULL;
    for (size_t i = 0; i < f->nreps; i++) {
        const cfsm__rep *r = &f->reps[i];
        if (r->excluded || !r->reported) continue;
        if (f->fixed && r->offset != f->fixed_end) continue; /* only a holder of [start, end) */
        if (!best || r->offset > best->offset ||
            (r->offset == best->offset && strcmp(r->id, best->id) < 0))
            best = r;
    }
    if (!best) return false; /* fixed: nobody at the end offset yet */
    snprintf(f->winner, sizeof f->winner, "%s", best->id);
    f->win_offset = best->offset;
    f->decided_ms = now;
    cfsm__set_state(f, CFSM_COMMITTER_DECIDED,
                    lone  ? "lone reporter on the row limit"
                    : all ? "every replica reported"
                          : "hold window passed");
    return true;
}

static bool cfsm__past_commit_deadline(cfsm *f, uint64_t now)
{
    if ((f->state == CFSM_COMMITTER_NOTIFIED || f->state == CFSM_COMMITTER_UPLOADING) &&
        now > f->commit_deadline_ms) {
        cfsm__abort(f, "commit budget exhausted");
        return true;
    }
    return false;
}

/* ---- messages ---------------------------------------------------------------------- */

/* Pauseless, F5: the first report at the fixed end after the fix is answered at once (no
 * long-poll) with HOLD(offset = the end), so that the replica consumes N+1 without waiting for
 * N's commit; its next report of N long-polls as usual. */
static bool cfsm__tell_fixed(cfsm *f, cfsm__rep *r, cfsm_reply *out)
{
    if (!f->fixed || r->offset != f->fixed_end || r->told_fixed) return false;
    r->told_fixed = true;
    cfsm__hold(out, false, "end offset fixed at your offset: consume the next segment");
    out->offset = f->fixed_end;
    return true;
}

bool cfsm_needs_fix(const cfsm *f)
{
    return f->cfg.pauseless && !f->fixed &&
           (f->state == CFSM_COMMITTER_DECIDED || f->state == CFSM_COMMITTER_NOTIFIED);
}

static cfsm_action cfsm__consumed(cfsm *f, const cfsm_msg *m, uint64_t now, cfsm_reply *out)
{
    if (f->state == CFSM_COMMITTED) {
        cfsm__after_commit(f, m->offset, out);
        return CFSM_ACT_NONE;
    }
    if (f->state == CFSM_ABORTED) {
        cfsm__hold(out, false, "aborted; report again");
        return CFSM_ACT_NONE;
    }
    cfsm__rep *r = cfsm__rep_get(f, m->instance, true);
    if (!r) {
        cfsm__reply(out, CFSM_FAILED, -1, "too many replicas or instance id too long");
        return CFSM_ACT_NONE;
    }
    bool is_winner = f->winner[0] && strcmp(f->winner, m->instance) == 0;
    r->excluded = false;
    r->reported = true;
    r->offset = m->offset;
    r->reason = m->reason;
    if (!f->any_report) {
        f->any_report = true;
        f->first_report_ms = now;
    }
    if (cfsm__past_commit_deadline(f, now)) {
        cfsm__hold(out, false, "commit budget exhausted; report again");
        return CFSM_ACT_NONE;
    }
    switch (f->state) {
    case CFSM_HOLDING:
        if (!cfsm__pick(f, now, r)) {
            if (f->fixed && m->offset < f->fixed_end)
                cfsm__reply(out, CFSM_CATCH_UP, f->fixed_end, "end offset fixed: catch up to it");
            else if (!cfsm__tell_fixed(f, r, out))
                cfsm__hold(out, true,
                           f->fixed ? "end offset fixed: waiting for its holders"
                                    : "waiting for the other replicas");
            return CFSM_ACT_NONE;
        }
        is_winner = strcmp(f->winner, m->instance) == 0;
        /* answer as in COMMITTER_DECIDED */
        __attribute__((fallthrough));
    case CFSM_COMMITTER_DECIDED:
    case CFSM_COMMITTER_NOTIFIED:
        if (cfsm_needs_fix(f)) { /* nobody hears of the decision before it is in ZooKeeper */
            cfsm__hold(out, true, "fixing the end offset");
            return CFSM_ACT_FIX;
        }
        if (is_winner) {
            if (m->offset != f->win_offset) {
                cfsm__abort(f, "winner reported a different offset");
                cfsm__hold(out, false, "winner moved; report again");
                return CFSM_ACT_NONE;
            }
            if (f->state == CFSM_COMMITTER_DECIDED) {
                f->notified_ms = now;
                f->commit_deadline_ms = now + f->cfg.commit_budget_ms;
                cfsm__set_state(f, CFSM_COMMITTER_NOTIFIED, "winner told to commit");
            }
            cfsm__reply(out, CFSM_COMMIT, f->win_offset, "you are the committer");
            out->build_seconds = cfsm__seconds_left(f, now);
            return CFSM_ACT_NONE;
        }
        if (m->offset > f->win_offset && f->state == CFSM_COMMITTER_DECIDED && !f->fixed) {
            cfsm__abort(f, "a replica beyond the winner reported before the winner was told");
            cfsm__hold(out, false, "winner changes; report again");
            return CFSM_ACT_NONE;
        }
        break;
    case CFSM_COMMITTER_UPLOADING:
    case CFSM_COMMITTING:
        if (is_winner) {
            cfsm__abort(f, "committer reported consumption during its commit");
            cfsm__hold(out, false, "commit abandoned; report again");
            return CFSM_ACT_NONE;
        }
        break;
    default:
        break;
    }
    if (m->offset < f->win_offset)
        cfsm__reply(out, CFSM_CATCH_UP, f->win_offset, "catch up to the winner");
    else if (!cfsm__tell_fixed(f, r, out))
        cfsm__hold(out, true, "another replica is committing");
    return CFSM_ACT_NONE;
}

static void cfsm__commit_start(cfsm *f, const cfsm_msg *m, uint64_t now, cfsm_reply *out)
{
    bool is_winner = f->winner[0] && strcmp(f->winner, m->instance) == 0;
    const cfsm__rep *r = cfsm__rep_get(f, m->instance, false);
    if (r && r->excluded) {
        cfsm__reply(out, CFSM_FAILED, -1, "instance stopped consuming");
        return;
    }
    if (cfsm__past_commit_deadline(f, now)) {
        cfsm__reply(out, CFSM_FAILED, -1, "commit budget exhausted");
        return;
    }
    if (!is_winner ||
        (f->state != CFSM_COMMITTER_NOTIFIED && f->state != CFSM_COMMITTER_UPLOADING)) {
        cfsm__reply(out, CFSM_FAILED, -1, "only the notified committer may start a commit");
        return;
    }
    if (m->offset != f->win_offset) {
        cfsm__abort(f, "CommitStart at a different offset");
        cfsm__reply(out, CFSM_FAILED, -1, "offset differs from the winning offset");
        return;
    }
    if (f->state == CFSM_COMMITTER_NOTIFIED)
        cfsm__set_state(f, CFSM_COMMITTER_UPLOADING, "commit started");
    cfsm__reply(out, CFSM_COMMIT_CONTINUE, f->win_offset, "upload, then CommitEnd");
    out->build_seconds = cfsm__seconds_left(f, now);
}

static cfsm_action cfsm__commit_end(cfsm *f, const cfsm_msg *m, uint64_t now, cfsm_reply *out)
{
    bool is_winner = f->winner[0] && strcmp(f->winner, m->instance) == 0;
    if (f->state == CFSM_COMMITTED) { /* an idempotent retry of the successful CommitEnd */
        if (is_winner && m->offset == f->end_offset && m->crc == f->crc) {
            cfsm__reply(out, CFSM_COMMIT_SUCCESS, f->end_offset, "already committed");
            out->crc = f->crc;
            snprintf(out->location, sizeof out->location, "%s", f->location);
        } else {
            cfsm__reply(out, CFSM_FAILED, -1, "segment already committed by another CommitEnd");
        }
        return CFSM_ACT_NONE;
    }
    const cfsm__rep *r = cfsm__rep_get(f, m->instance, false);
    if (r && r->excluded) {
        cfsm__reply(out, CFSM_FAILED, -1, "instance stopped consuming");
        return CFSM_ACT_NONE;
    }
    if (cfsm__past_commit_deadline(f, now)) {
        cfsm__reply(out, CFSM_FAILED, -1, "commit budget exhausted");
        return CFSM_ACT_NONE;
    }
    if (!is_winner || f->state != CFSM_COMMITTER_UPLOADING) {
        cfsm__reply(out, CFSM_FAILED, -1, "only the committer may end a started commit");
        return CFSM_ACT_NONE;
    }
    if (m->offset != f->win_offset) {
        cfsm__abort(f, "CommitEnd at a different offset");
        cfsm__reply(out, CFSM_FAILED, -1, "offset differs from the winning offset");
        return CFSM_ACT_NONE;
    }
    f->pending_crc = m->crc;
    snprintf(f->pending_location, sizeof f->pending_location, "%s", m->location ? m->location : "");
    cfsm__set_state(f, CFSM_COMMITTING, "CommitEnd received");
    return CFSM_ACT_COMMIT;
}

static void cfsm__extend(cfsm *f, const cfsm_msg *m, uint64_t now, cfsm_reply *out)
{
    bool is_winner = f->winner[0] && strcmp(f->winner, m->instance) == 0;
    if (cfsm__past_commit_deadline(f, now)) {
        cfsm__reply(out, CFSM_FAILED, -1, "commit budget exhausted");
        return;
    }
    if (!is_winner || m->offset != f->win_offset ||
        (f->state != CFSM_COMMITTER_NOTIFIED && f->state != CFSM_COMMITTER_UPLOADING)) {
        cfsm__reply(out, CFSM_FAILED, -1, "only the committer may extend its build time");
        return;
    }
    uint64_t cap = f->notified_ms + f->cfg.max_commit_ms;
    uint64_t want = now + (uint64_t)(m->extra_seconds > 0 ? m->extra_seconds : 0) * 1000u;
    if (f->commit_deadline_ms >= cap) {
        cfsm__reply(out, CFSM_FAILED, -1, "maximum commit time reached");
        return;
    }
    if (want > cap) want = cap;
    if (want > f->commit_deadline_ms) f->commit_deadline_ms = want;
    cfsm__reply(out, CFSM_PROCESSED, f->win_offset, "build time extended");
    out->build_seconds = cfsm__seconds_left(f, now);
}

static void cfsm__stopped(cfsm *f, const cfsm_msg *m, uint64_t now, cfsm_reply *out)
{
    cfsm__reply(out, CFSM_PROCESSED, -1, "excluded until it reports again");
    if (f->state == CFSM_COMMITTED || f->state == CFSM_ABORTED) return;
    cfsm__rep *r = cfsm__rep_get(f, m->instance, true);
    if (!r) return;
    r->excluded = true;
    r->reported = false;
    if (f->winner[0] && strcmp(f->winner, m->instance) == 0 && f->state != CFSM_COMMITTING) {
        cfsm__abort(f, "the winner stopped consuming");
        return;
    }
    if (f->state == CFSM_HOLDING) cfsm__pick(f, now, NULL);
}

/* ---- public ------------------------------------------------------------------------ */

cfsm *cfsm_new(const char *segment, const char *const *replicas, size_t nreplicas,
               const cfsm_cfg *cfg, uint64_t now_ms)
{
    cfsm *f = sl_xcalloc(1, sizeof *f);
    snprintf(f->segment, sizeof f->segment, "%s", segment);
    f->cfg = cfg ? *cfg : cfsm_default_cfg;
    f->state = CFSM_HOLDING;
    f->win_offset = -1;
    f->end_offset = -1;
    cfsm_set_replicas(f, replicas, nreplicas, now_ms);
    return f;
}

cfsm *cfsm_new_committed(const char *segment, int64_t end_offset, uint32_t crc,
                         const char *location, const char *committer, const cfsm_cfg *cfg,
                         uint64_t now_ms)
{
    cfsm *f = cfsm_new(segment, NULL, 0, cfg, now_ms);
    f->state = CFSM_COMMITTED;
    f->end_offset = f->win_offset = end_offset;
    f->crc = crc;
    snprintf(f->location, sizeof f->location, "%s", location ? location : "");
    snprintf(f->winner, sizeof f->winner, "%s", committer ? committer : "");
    return f;
}

cfsm_action cfsm_on_msg(cfsm *f, const cfsm_msg *m, uint64_t now_ms, cfsm_reply *out)
{
    switch (m->kind) {
    case CFSM_MSG_CONSUMED:
        return cfsm__consumed(f, m, now_ms, out);
    case CFSM_MSG_COMMIT_START:
        cfsm__commit_start(f, m, now_ms, out);
        break;
    case CFSM_MSG_COMMIT_END:
        return cfsm__commit_end(f, m, now_ms, out);
    case CFSM_MSG_EXTEND:
        cfsm__extend(f, m, now_ms, out);
        break;
    case CFSM_MSG_STOPPED:
        cfsm__stopped(f, m, now_ms, out);
        break;
    default:
        cfsm__reply(out, CFSM_FAILED, -1, "unknown message");
        break;
    }
    return CFSM_ACT_NONE;
}

cfsm *cfsm_new_fixed(const char *segment, const char *const *replicas, size_t nreplicas,
                     int64_t end_offset, const cfsm_cfg *cfg, uint64_t now_ms)
{
    cfsm *f = cfsm_new(segment, replicas, nreplicas, cfg, now_ms);
    f->cfg.pauseless = true;
    f->fixed = true;
    f->fixed_end = end_offset;
    return f;
}

void cfsm_fix_done(cfsm *f, bool ok, const char *why)
{
    if (!cfsm_needs_fix(f)) return;
    if (!ok) {
        cfsm__abort(f, why ? why : "the end offset could not be fixed");
        return;
    }
    f->fixed = true;
    f->fixed_end = f->win_offset;
    SL_INFO("completion", "segment=%s end offset fixed at %" PRId64 " winner=%s", f->segment,
            f->fixed_end, f->winner);
}

int64_t cfsm_fixed_end(const cfsm *f)
{
    return f->fixed ? f->fixed_end : -1;
}

void cfsm_commit_done(cfsm *f, bool ok, const char *why, uint64_t now_ms, cfsm_reply *out)
{
    (void)now_ms;
    if (f->state != CFSM_COMMITTING) {
        cfsm__reply(out, CFSM_FAILED, -1, "no commit in progress");
        return;
    }
    if (!ok) {
        cfsm__abort(f, why ? why : "commit failed");
        cfsm__reply(out, CFSM_FAILED, -1, why ? why : "commit failed");
        return;
    }
    f->end_offset = f->win_offset;
    f->crc = f->pending_crc;
    memcpy(f->location, f->pending_location, sizeof f->location);
    cfsm__set_state(f, CFSM_COMMITTED, "committed in ZooKeeper");
    cfsm__reply(out, CFSM_COMMIT_SUCCESS, f->end_offset, "committed");
    out->crc = f->crc;
    snprintf(out->location, sizeof out->location, "%s", f->location);
}

bool cfsm_tick(cfsm *f, uint64_t now_ms)
{
    switch (f->state) {
    case CFSM_HOLDING:
        return f->any_report && cfsm__pick(f, now_ms, NULL);
    case CFSM_COMMITTER_DECIDED:
        if (now_ms > f->decided_ms + f->cfg.notify_ms) {
            cfsm__abort(f, "the winner never came for its COMMIT");
            return true;
        }
        return false;
    case CFSM_COMMITTER_NOTIFIED:
    case CFSM_COMMITTER_UPLOADING:
        return cfsm__past_commit_deadline(f, now_ms);
    default:
        return false;
    }
}

void cfsm_set_replicas(cfsm *f, const char *const *replicas, size_t n, uint64_t now_ms)
{
    for (size_t i = 0; i < f->nreps; i++)
        f->reps[i].expected = false;
    for (size_t i = 0; i < n; i++) {
        cfsm__rep *r = cfsm__rep_get(f, replicas[i], true);
        if (r) r->expected = true;
    }
    if (f->state == CFSM_HOLDING && f->any_report) cfsm__pick(f, now_ms, NULL);
}

cfsm_state cfsm_get_state(const cfsm *f)
{
    return f->state;
}
const char *cfsm_segment(const cfsm *f)
{
    return f->segment;
}
const char *cfsm_winner(const cfsm *f)
{
    return f->winner;
}
int64_t cfsm_winning_offset(const cfsm *f)
{
    return f->win_offset;
}
bool cfsm_done(const cfsm *f)
{
    return f->state == CFSM_ABORTED;
}

void cfsm_free(cfsm *f)
{
    free(f);
}
