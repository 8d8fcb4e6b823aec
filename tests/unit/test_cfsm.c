/* Completion state machine: one test per row of docs/protocol.md's transition table (the
 * row ids are in the comments), with time passed in: nothing here sleeps. */
#include "completion/cfsm.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#define SEG "t__0__5__20240101T0000Z"
static const char *const R3[] = {"s1", "s2", "s3"};
static const cfsm_cfg CFG = {
    .hold_ms = 3000, .notify_ms = 10000, .commit_budget_ms = 120000, .max_commit_ms = 1800000};

static cfsm_reply send(cfsm *f, cfsm_msg_kind k, const char *inst, int64_t off, uint64_t now)
{
    cfsm_msg m = {.kind = k, .instance = inst, .offset = off, .reason = 2 /* time limit */};
    cfsm_reply r;
    assert_int_equal(cfsm_on_msg(f, &m, now, &r), CFSM_ACT_NONE);
    return r;
}

static cfsm_reply consumed(cfsm *f, const char *inst, int64_t off, uint64_t now)
{
    return send(f, CFSM_MSG_CONSUMED, inst, off, now);
}

/* A machine whose winner s2 at 100 was told to COMMIT (s1 at 90, s3 at 100). */
static cfsm *notified(uint64_t *now)
{
    cfsm *f = cfsm_new(SEG, R3, 3, &CFG, 1000);
    consumed(f, "s1", 90, 1000);
    consumed(f, "s3", 100, 1001);
    cfsm_reply r = consumed(f, "s2", 100, 1002); /* all reported: tie 100 -> smallest id s2 */
    assert_int_equal(r.status, CFSM_COMMIT);
    assert_int_equal(cfsm_get_state(f), CFSM_COMMITTER_NOTIFIED);
    *now = 1002;
    return f;
}

static cfsm *uploading(uint64_t *now)
{
    cfsm *f = notified(now);
    cfsm_reply r = send(f, CFSM_MSG_COMMIT_START, "s2", 100, *now + 10);
    assert_int_equal(r.status, CFSM_COMMIT_CONTINUE);
    *now += 10;
    return f;
}

static cfsm *committed(uint64_t *now)
{
    cfsm *f = uploading(now);
    cfsm_msg m = {.kind = CFSM_MSG_COMMIT_END,
                  .instance = "s2",
                  .offset = 100,
                  .crc = 77,
                  .location = "http://c/segments/t/" SEG};
    cfsm_reply r;
    assert_int_equal(cfsm_on_msg(f, &m, *now + 10, &r), CFSM_ACT_COMMIT);
    assert_int_equal(cfsm_get_state(f), CFSM_COMMITTING);
    cfsm_commit_done(f, true, NULL, *now + 20, &r);
    assert_int_equal(r.status, CFSM_COMMIT_SUCCESS);
    assert_int_equal(r.crc, 77);
    *now += 20;
    return f;
}

/* H1: a report while others are missing and the window is open -> HOLD (long-poll). */
static void test_h1_hold_until_all_report(void **s)
{
    (void)s;
    cfsm *f = cfsm_new(SEG, R3, 3, &CFG, 0);
    cfsm_reply r = consumed(f, "s1", 50, 1000);
    assert_int_equal(r.status, CFSM_HOLD);
    assert_true(r.wait);
    r = consumed(f, "s2", 60, 1500);
    assert_int_equal(r.status, CFSM_HOLD);
    assert_int_equal(cfsm_get_state(f), CFSM_HOLDING);
    cfsm_free(f);
}

/* H2: every live replica reported -> winner = greatest offset, told COMMIT at once. */
static void test_h2_all_reported_winner_commits(void **s)
{
    (void)s;
    cfsm *f = cfsm_new(SEG, R3, 3, &CFG, 0);
    consumed(f, "s1", 50, 1000);
    consumed(f, "s2", 70, 1001);
    cfsm_reply r = consumed(f, "s3", 60, 1002); /* laggard completes the set */
    assert_int_equal(r.status, CFSM_CATCH_UP);
    assert_int_equal(r.offset, 70);
    assert_int_equal(cfsm_get_state(f), CFSM_COMMITTER_DECIDED);
    assert_string_equal(cfsm_winner(f), "s2");
    r = consumed(f, "s2", 70, 1003);
    assert_int_equal(r.status, CFSM_COMMIT);
    assert_int_equal(r.offset, 70);
    assert_int_equal(r.build_seconds, 120);
    assert_int_equal(cfsm_get_state(f), CFSM_COMMITTER_NOTIFIED);
    cfsm_free(f);
}

/* H3: the hold window passes (tick) -> winner among those who reported. */
static void test_h3_window_passes(void **s)
{
    (void)s;
    cfsm *f = cfsm_new(SEG, R3, 3, &CFG, 0);
    consumed(f, "s1", 50, 1000);
    consumed(f, "s3", 80, 2000);
    assert_false(cfsm_tick(f, 3999));
    assert_true(cfsm_tick(f, 4000)); /* first report at 1000 + 3000 */
    assert_string_equal(cfsm_winner(f), "s3");
    assert_int_equal(cfsm_winning_offset(f), 80);
    cfsm_free(f);
}

/* H4: the lone reporter stopped on the row limit -> wins immediately. */
static void test_h4_lone_row_limit(void **s)
{
    (void)s;
    cfsm *f = cfsm_new(SEG, R3, 3, &CFG, 0);
    cfsm_msg m = {.kind = CFSM_MSG_CONSUMED,
                  .instance = "s3",
                  .offset = 1000,
                  .reason = CFSM_REASON_ROW_LIMIT};
    cfsm_reply r;
    cfsm_on_msg(f, &m, 5, &r);
    assert_int_equal(r.status, CFSM_COMMIT);
    assert_int_equal(r.offset, 1000);
    cfsm_free(f);
}

/* H5: a second reporter on the row limit does not short-circuit (only a lone one). */
static void test_h5_row_limit_not_lone(void **s)
{
    (void)s;
    cfsm *f = cfsm_new(SEG, R3, 3, &CFG, 0);
    consumed(f, "s1", 10, 0);
    cfsm_msg m = {
        .kind = CFSM_MSG_CONSUMED, .instance = "s2", .offset = 10, .reason = CFSM_REASON_ROW_LIMIT};
    cfsm_reply r;
    cfsm_on_msg(f, &m, 5, &r);
    assert_int_equal(r.status, CFSM_HOLD);
    cfsm_free(f);
}

/* H6: ties go to the smallest instance id, whatever the arrival order. */
static void test_h6_tie_smallest_id(void **s)
{
    (void)s;
    cfsm *f = cfsm_new(SEG, R3, 3, &CFG, 0);
    consumed(f, "s3", 100, 0);
    consumed(f, "s2", 100, 1);
    cfsm_reply r = consumed(f, "s1", 100, 2);
    assert_int_equal(r.status, CFSM_COMMIT); /* s1 completed the set and is the smallest */
    assert_string_equal(cfsm_winner(f), "s1");
    cfsm_free(f);
}

/* H7: StoppedConsuming excludes a replica: the others no longer wait for it. */
static void test_h7_stopped_excluded(void **s)
{
    (void)s;
    cfsm *f = cfsm_new(SEG, R3, 3, &CFG, 0);
    consumed(f, "s1", 10, 0);
    consumed(f, "s2", 20, 1);
    cfsm_reply r = send(f, CFSM_MSG_STOPPED, "s3", 0, 2);
    assert_int_equal(r.status, CFSM_PROCESSED);
    assert_int_equal(cfsm_get_state(f), CFSM_COMMITTER_DECIDED);
    assert_string_equal(cfsm_winner(f), "s2");
    cfsm_free(f);
}

/* H8: an excluded replica that reports again is counted again. */
static void test_h8_excluded_reports_again(void **s)
{
    (void)s;
    cfsm *f = cfsm_new(SEG, R3, 3, &CFG, 0);
    send(f, CFSM_MSG_STOPPED, "s3", 0, 0);
    consumed(f, "s3", 500, 1);
    consumed(f, "s1", 10, 2);
    cfsm_reply r = consumed(f, "s2", 20, 3);
    assert_int_equal(r.status, CFSM_CATCH_UP);
    assert_int_equal(r.offset, 500);
    assert_string_equal(cfsm_winner(f), "s3");
    cfsm_free(f);
}

/* D1: decided; a laggard -> CATCH_UP; a replica at the winning offset -> HOLD (wait). */
static void test_d1_decided_laggard_and_equal(void **s)
{
    (void)s;
    cfsm *f = cfsm_new(SEG, R3, 3, &CFG, 0);
    consumed(f, "s1", 10, 0);
    consumed(f, "s2", 20, 1);
    consumed(f, "s3", 20, 2); /* decided: s2 (tie with s3, smaller id) */
    cfsm_reply r = consumed(f, "s1", 15, 3);
    assert_int_equal(r.status, CFSM_CATCH_UP);
    assert_int_equal(r.offset, 20);
    r = consumed(f, "s3", 20, 4);
    assert_int_equal(r.status, CFSM_HOLD);
    assert_true(r.wait);
    cfsm_free(f);
}

/* D2: decided; a replica beyond the winner before the winner was told -> ABORTED. */
static void test_d2_decided_beyond_aborts(void **s)
{
    (void)s;
    cfsm *f = cfsm_new(SEG, R3, 3, &CFG, 0);
    consumed(f, "s1", 10, 0);
    assert_true(cfsm_tick(f, 3000)); /* s1 wins alone after the window */
    cfsm_reply r = consumed(f, "s2", 30, 3001);
    assert_int_equal(r.status, CFSM_HOLD);
    assert_true(cfsm_done(f));
    cfsm_free(f);
}

/* D3: the winner reports a different offset -> ABORTED. */
static void test_d3_winner_moved(void **s)
{
    (void)s;
    cfsm *f = cfsm_new(SEG, R3, 3, &CFG, 0);
    consumed(f, "s1", 10, 0);
    consumed(f, "s2", 20, 1);
    consumed(f, "s3", 5, 2);
    cfsm_reply r = consumed(f, "s2", 25, 3);
    assert_int_equal(r.status, CFSM_HOLD);
    assert_int_equal(cfsm_get_state(f), CFSM_ABORTED);
    cfsm_free(f);
}

/* D4: the winner never comes for its COMMIT within notify_ms -> ABORTED on tick. */
static void test_d4_winner_never_came(void **s)
{
    (void)s;
    cfsm *f = cfsm_new(SEG, R3, 3, &CFG, 0);
    consumed(f, "s1", 10, 0);
    consumed(f, "s2", 20, 1);
    consumed(f, "s3", 5, 2);
    assert_false(cfsm_tick(f, 10002));
    assert_true(cfsm_tick(f, 10003));
    assert_true(cfsm_done(f));
    cfsm_free(f);
}

/* N1: the notified winner asks again -> COMMIT again (same offset, remaining budget). */
static void test_n1_commit_resent(void **s)
{
    (void)s;
    uint64_t now;
    cfsm *f = notified(&now);
    cfsm_reply r = consumed(f, "s2", 100, now + 60000);
    assert_int_equal(r.status, CFSM_COMMIT);
    assert_int_equal(r.build_seconds, 60);
    cfsm_free(f);
}

/* N2: CommitStart from the winner at its offset -> COMMIT_CONTINUE, UPLOADING. */
static void test_n2_commit_start(void **s)
{
    (void)s;
    uint64_t now;
    cfsm *f = uploading(&now);
    assert_int_equal(cfsm_get_state(f), CFSM_COMMITTER_UPLOADING);
    cfsm_reply r = send(f, CFSM_MSG_COMMIT_START, "s2", 100, now + 1); /* idempotent retry */
    assert_int_equal(r.status, CFSM_COMMIT_CONTINUE);
    cfsm_free(f);
}

/* N3: CommitStart, ExtendBuildTime or CommitEnd from anyone but the winner -> FAILED. */
static void test_n3_only_winner(void **s)
{
    (void)s;
    uint64_t now;
    cfsm *f = notified(&now);
    assert_int_equal(send(f, CFSM_MSG_COMMIT_START, "s3", 100, now).status, CFSM_FAILED);
    assert_int_equal(send(f, CFSM_MSG_EXTEND, "s3", 100, now).status, CFSM_FAILED);
    assert_int_equal(send(f, CFSM_MSG_COMMIT_END, "s3", 100, now).status, CFSM_FAILED);
    assert_int_equal(send(f, CFSM_MSG_COMMIT_END, "s2", 100, now).status,
                     CFSM_FAILED); /* no start */
    assert_int_equal(cfsm_get_state(f), CFSM_COMMITTER_NOTIFIED);
    cfsm_free(f);
}

/* N4: CommitStart at a different offset -> FAILED and ABORTED. */
static void test_n4_commit_start_wrong_offset(void **s)
{
    (void)s;
    uint64_t now;
    cfsm *f = notified(&now);
    assert_int_equal(send(f, CFSM_MSG_COMMIT_START, "s2", 99, now).status, CFSM_FAILED);
    assert_true(cfsm_done(f));
    cfsm_free(f);
}

/* N5: ExtendBuildTime moves the deadline, capped at max_commit_ms after COMMIT. */
static void test_n5_extend(void **s)
{
    (void)s;
    uint64_t now;
    cfsm *f = notified(&now);
    cfsm_msg m = {.kind = CFSM_MSG_EXTEND, .instance = "s2", .offset = 100, .extra_seconds = 600};
    cfsm_reply r;
    cfsm_on_msg(f, &m, now + 100000, &r);
    assert_int_equal(r.status, CFSM_PROCESSED);
    assert_int_equal(r.build_seconds, 600);
    assert_false(cfsm_tick(f, now + 500000)); /* past the original 120 s budget: alive */
    m.extra_seconds = 100000;
    cfsm_on_msg(f, &m, now + 600000, &r);
    assert_int_equal(r.status, CFSM_PROCESSED);
    assert_int_equal(r.build_seconds, 1200); /* capped at COMMIT + 1800 s */
    cfsm_on_msg(f, &m, now + 700000, &r);
    assert_int_equal(r.status, CFSM_FAILED); /* at the cap already */
    assert_true(cfsm_tick(f, now + 1800001));
    assert_true(cfsm_done(f));
    cfsm_free(f);
}

/* N6: past the commit budget -> ABORTED (tick, or the next message). */
static void test_n6_commit_budget(void **s)
{
    (void)s;
    uint64_t now;
    cfsm *f = uploading(&now);
    cfsm_reply r = send(f, CFSM_MSG_COMMIT_END, "s2", 100, now + 130000);
    assert_int_equal(r.status, CFSM_FAILED);
    assert_true(cfsm_done(f));
    cfsm_free(f);
}

/* N7: during the commit, laggards CATCH_UP, equals and those beyond HOLD (wait). */
static void test_n7_others_during_commit(void **s)
{
    (void)s;
    uint64_t now;
    cfsm *f = uploading(&now);
    cfsm_reply r = consumed(f, "s1", 95, now);
    assert_int_equal(r.status, CFSM_CATCH_UP);
    assert_int_equal(r.offset, 100);
    r = consumed(f, "s3", 100, now);
    assert_int_equal(r.status, CFSM_HOLD);
    assert_true(r.wait);
    r = consumed(f, "s1", 120, now);
    assert_int_equal(r.status, CFSM_HOLD);
    cfsm_free(f);
}

/* N8: the committer reporting SegmentConsumed during its upload (it restarted) -> ABORTED. */
static void test_n8_committer_restarted(void **s)
{
    (void)s;
    uint64_t now;
    cfsm *f = uploading(&now);
    cfsm_reply r = consumed(f, "s2", 100, now);
    assert_int_equal(r.status, CFSM_HOLD);
    assert_true(cfsm_done(f));
    cfsm_free(f);
}

/* N9: the winner stops consuming before committing -> ABORTED. */
static void test_n9_winner_stopped(void **s)
{
    (void)s;
    uint64_t now;
    cfsm *f = notified(&now);
    assert_int_equal(send(f, CFSM_MSG_STOPPED, "s2", 0, now).status, CFSM_PROCESSED);
    assert_true(cfsm_done(f));
    cfsm_free(f);
}

/* U1: CommitEnd from the winner -> COMMITTING and the owner's commit; failure -> ABORTED. */
static void test_u1_commit_end_failure(void **s)
{
    (void)s;
    uint64_t now;
    cfsm *f = uploading(&now);
    cfsm_msg m = {.kind = CFSM_MSG_COMMIT_END, .instance = "s2", .offset = 100, .crc = 1};
    cfsm_reply r;
    assert_int_equal(cfsm_on_msg(f, &m, now, &r), CFSM_ACT_COMMIT);
    cfsm_commit_done(f, false, "uploaded file CRC differs", now, &r);
    assert_int_equal(r.status, CFSM_FAILED);
    assert_true(cfsm_done(f));
    cfsm_free(f);
}

/* U2: CommitEnd at another offset -> FAILED, ABORTED. */
static void test_u2_commit_end_wrong_offset(void **s)
{
    (void)s;
    uint64_t now;
    cfsm *f = uploading(&now);
    assert_int_equal(send(f, CFSM_MSG_COMMIT_END, "s2", 101, now).status, CFSM_FAILED);
    assert_true(cfsm_done(f));
    cfsm_free(f);
}

/* C1: after COMMITTED: KEEP at the end offset (with CRC), CATCH_UP behind, DISCARD beyond. */
static void test_c1_after_commit(void **s)
{
    (void)s;
    uint64_t now;
    cfsm *f = committed(&now);
    cfsm_reply r = consumed(f, "s3", 100, now);
    assert_int_equal(r.status, CFSM_KEEP);
    assert_int_equal(r.crc, 77);
    assert_string_equal(r.location, "http://c/segments/t/" SEG);
    r = consumed(f, "s1", 90, now);
    assert_int_equal(r.status, CFSM_CATCH_UP);
    assert_int_equal(r.offset, 100);
    r = consumed(f, "s4", 130, now);
    assert_int_equal(r.status, CFSM_DISCARD);
    assert_int_equal(r.offset, 100);
    assert_string_equal(r.location, "http://c/segments/t/" SEG);
    cfsm_free(f);
}

/* C2: a repeated CommitEnd after success -> COMMIT_SUCCESS, never a second commit. */
static void test_c2_commit_end_idempotent(void **s)
{
    (void)s;
    uint64_t now;
    cfsm *f = committed(&now);
    cfsm_msg m = {.kind = CFSM_MSG_COMMIT_END, .instance = "s2", .offset = 100, .crc = 77};
    cfsm_reply r;
    assert_int_equal(cfsm_on_msg(f, &m, now, &r), CFSM_ACT_NONE);
    assert_int_equal(r.status, CFSM_COMMIT_SUCCESS);
    m.crc = 78; /* a different build: refused */
    cfsm_on_msg(f, &m, now, &r);
    assert_int_equal(r.status, CFSM_FAILED);
    m.crc = 77;
    m.instance = "s3"; /* a zombie that is not the committer */
    cfsm_on_msg(f, &m, now, &r);
    assert_int_equal(r.status, CFSM_FAILED);
    assert_int_equal(cfsm_get_state(f), CFSM_COMMITTED);
    cfsm_free(f);
}

/* C3: a new leader rebuilds COMMITTED from ZooKeeper; the old committer's retry succeeds. */
static void test_c3_leader_change(void **s)
{
    (void)s;
    cfsm *f = cfsm_new_committed(SEG, 100, 77, "http://c/x", "s2", &CFG, 0);
    cfsm_msg m = {.kind = CFSM_MSG_COMMIT_END, .instance = "s2", .offset = 100, .crc = 77};
    cfsm_reply r;
    cfsm_on_msg(f, &m, 1, &r);
    assert_int_equal(r.status, CFSM_COMMIT_SUCCESS);
    assert_int_equal(consumed(f, "s1", 100, 2).status, CFSM_KEEP);
    assert_int_equal(send(f, CFSM_MSG_COMMIT_START, "s2", 100, 3).status, CFSM_FAILED);
    assert_int_equal(send(f, CFSM_MSG_STOPPED, "s1", 100, 3).status, CFSM_PROCESSED);
    cfsm_free(f);
}

/* C4: a new leader with no machine for an IN_PROGRESS segment starts fresh: a zombie
 * committer's CommitEnd (from the old leader's era) is refused. */
static void test_c4_zombie_after_failover(void **s)
{
    (void)s;
    cfsm *f = cfsm_new(SEG, R3, 3, &CFG, 0);
    assert_int_equal(send(f, CFSM_MSG_COMMIT_END, "s2", 100, 1).status, CFSM_FAILED);
    assert_int_equal(send(f, CFSM_MSG_COMMIT_START, "s2", 100, 1).status, CFSM_FAILED);
    assert_int_equal(cfsm_get_state(f), CFSM_HOLDING);
    cfsm_free(f);
}

/* A1: ABORTED answers HOLD (no wait) to everything; the owner then drops the machine. */
static void test_a1_aborted(void **s)
{
    (void)s;
    uint64_t now;
    cfsm *f = notified(&now);
    send(f, CFSM_MSG_STOPPED, "s2", 0, now); /* abort */
    cfsm_reply r = consumed(f, "s1", 100, now);
    assert_int_equal(r.status, CFSM_HOLD);
    assert_false(r.wait);
    assert_false(cfsm_tick(f, now + 1000000));
    cfsm_free(f);
}

/* R1: the awaited set shrinks (a replica died) -> the remaining reports decide. */
static void test_r1_replica_set_changes(void **s)
{
    (void)s;
    cfsm *f = cfsm_new(SEG, R3, 3, &CFG, 0);
    consumed(f, "s1", 10, 0);
    consumed(f, "s2", 11, 1);
    const char *two[] = {"s1", "s2"};
    cfsm_set_replicas(f, two, 2, 2);
    assert_int_equal(cfsm_get_state(f), CFSM_COMMITTER_DECIDED);
    assert_string_equal(cfsm_winner(f), "s2");
    assert_string_equal(cfsm_state_name(CFSM_COMMITTER_DECIDED), "COMMITTER_DECIDED");
    assert_string_equal(cfsm_status_name(CFSM_COMMIT_CONTINUE), "COMMIT_CONTINUE");
    assert_string_equal(cfsm_msg_name(CFSM_MSG_EXTEND), "ExtendBuildTime");
    cfsm_free(f);
}

/* ---- pauseless completion (DESIGN §9): rows F1..F9 ------------------------------------- */

static const cfsm_cfg PCFG = {.hold_ms = 3000,
                              .notify_ms = 10000,
                              .commit_budget_ms = 120000,
                              .max_commit_ms = 1800000,
                              .pauseless = true};

static cfsm_action consumed_act(cfsm *f, const char *inst, int64_t off, uint64_t now, cfsm_reply *r)
{
    cfsm_msg m = {.kind = CFSM_MSG_CONSUMED, .instance = inst, .offset = off, .reason = 2};
    return cfsm_on_msg(f, &m, now, r);
}

/* A pauseless machine decided (s2 at 100 wins; s1 at 90) but not fixed yet. */
static cfsm *p_decided(void)
{
    cfsm *f = cfsm_new(SEG, R3, 3, &PCFG, 1000);
    cfsm_reply r;
    assert_int_equal(consumed_act(f, "s1", 90, 1000, &r), CFSM_ACT_NONE);
    assert_int_equal(consumed_act(f, "s3", 100, 1001, &r), CFSM_ACT_NONE);
    /* F1: the winner rule is met: nobody is told before the end offset is fixed */
    assert_int_equal(consumed_act(f, "s2", 100, 1002, &r), CFSM_ACT_FIX);
    assert_int_equal(r.status, CFSM_HOLD);
    assert_int_equal(cfsm_get_state(f), CFSM_COMMITTER_DECIDED);
    assert_true(cfsm_needs_fix(f));
    assert_int_equal(cfsm_fixed_end(f), -1);
    return f;
}

/* F1 + F2: the decision waits for the fix; once fixed, the same message gets COMMIT. */
static void test_f1_f2_fix_then_commit(void **s)
{
    (void)s;
    cfsm *f = p_decided();
    cfsm_fix_done(f, true, NULL);
    assert_false(cfsm_needs_fix(f));
    assert_int_equal(cfsm_fixed_end(f), 100);
    cfsm_reply r;
    assert_int_equal(consumed_act(f, "s2", 100, 1003, &r), CFSM_ACT_NONE);
    assert_int_equal(r.status, CFSM_COMMIT);
    assert_int_equal(r.offset, 100);
    assert_int_equal(cfsm_get_state(f), CFSM_COMMITTER_NOTIFIED);
    /* the laggard catches up to the fixed end */
    assert_int_equal(consumed_act(f, "s1", 90, 1004, &r), CFSM_ACT_NONE);
    assert_int_equal(r.status, CFSM_CATCH_UP);
    assert_int_equal(r.offset, 100);
    cfsm_free(f);
}

/* F3: a fix that could not be written aborts the machine; nothing was told to anyone. */
static void test_f3_fix_failed(void **s)
{
    (void)s;
    cfsm *f = p_decided();
    cfsm_fix_done(f, false, "zookeeper down");
    assert_int_equal(cfsm_get_state(f), CFSM_ABORTED);
    assert_true(cfsm_done(f));
    cfsm_free(f);
}

/* F4: while the fix is pending every report asks for it again (the fix is idempotent). */
static void test_f4_fix_pending(void **s)
{
    (void)s;
    cfsm *f = p_decided();
    cfsm_reply r;
    assert_int_equal(consumed_act(f, "s3", 100, 1003, &r), CFSM_ACT_FIX);
    assert_int_equal(r.status, CFSM_HOLD);
    assert_int_equal(consumed_act(f, "s1", 90, 1003, &r), CFSM_ACT_FIX);
    cfsm_fix_done(f, true, NULL);
    cfsm_fix_done(f, true, NULL); /* a second fix of the same decision changes nothing */
    assert_int_equal(cfsm_fixed_end(f), 100);
    assert_int_equal(cfsm_get_state(f), CFSM_COMMITTER_DECIDED);
    cfsm_free(f);
}

/* F5: a replica at the fixed end hears it once at once (HOLD, offset = end, no long-poll), so
 * it consumes N+1; its next reports of N long-poll, and after the commit it gets KEEP. */
static void test_f5_told_fixed_once(void **s)
{
    (void)s;
    cfsm *f = p_decided();
    cfsm_fix_done(f, true, NULL);
    cfsm_reply r;
    assert_int_equal(consumed_act(f, "s3", 100, 1003, &r), CFSM_ACT_NONE);
    assert_int_equal(r.status, CFSM_HOLD);
    assert_false(r.wait);
    assert_int_equal(r.offset, 100);
    assert_int_equal(consumed_act(f, "s3", 100, 1004, &r), CFSM_ACT_NONE);
    assert_int_equal(r.status, CFSM_HOLD);
    assert_true(r.wait);
    assert_int_equal(consumed_act(f, "s2", 100, 1005, &r), CFSM_ACT_NONE);
    assert_int_equal(r.status, CFSM_COMMIT);
    cfsm_msg m = {.kind = CFSM_MSG_COMMIT_START, .instance = "s2", .offset = 100};
    assert_int_equal(cfsm_on_msg(f, &m, 1006, &r), CFSM_ACT_NONE);
    m = (cfsm_msg){
        .kind = CFSM_MSG_COMMIT_END, .instance = "s2", .offset = 100, .crc = 9, .location = "u"};
    assert_int_equal(cfsm_on_msg(f, &m, 1007, &r), CFSM_ACT_COMMIT);
    cfsm_commit_done(f, true, NULL, 1008, &r);
    assert_int_equal(r.status, CFSM_COMMIT_SUCCESS);
    assert_int_equal(consumed_act(f, "s3", 100, 1009, &r), CFSM_ACT_NONE);
    assert_int_equal(r.status, CFSM_KEEP);
    assert_int_equal(r.crc, 9);
    cfsm_free(f);
}

/* F6: a replica beyond the fixed end, before the winner was told, does not abort the decision
 * (the end is in ZooKeeper already): it waits, and gets DISCARD after the commit. */
static void test_f6_beyond_fixed_end(void **s)
{
    (void)s;
    cfsm *f = p_decided();
    cfsm_fix_done(f, true, NULL);
    cfsm_reply r;
    assert_int_equal(consumed_act(f, "s3", 130, 1003, &r), CFSM_ACT_NONE);
    assert_int_equal(r.status, CFSM_HOLD);
    assert_true(r.wait);
    assert_int_equal(cfsm_get_state(f), CFSM_COMMITTER_DECIDED);
    cfsm_free(f);
}

/* F7: a machine rebuilt from a COMMITTING record (leader change, or a dropped machine): those
 * behind catch up to the end, those beyond wait, and only a holder of [start, end) wins. */
static void test_f7_rebuilt_fixed(void **s)
{
    (void)s;
    cfsm *f = cfsm_new_fixed(SEG, R3, 3, 100, &CFG, 1000);
    assert_int_equal(cfsm_fixed_end(f), 100);
    cfsm_reply r;
    assert_int_equal(consumed_act(f, "s1", 80, 1000, &r), CFSM_ACT_NONE);
    assert_int_equal(r.status, CFSM_CATCH_UP);
    assert_int_equal(r.offset, 100);
    assert_int_equal(consumed_act(f, "s3", 120, 1001, &r), CFSM_ACT_NONE);
    assert_int_equal(r.status, CFSM_HOLD);
    assert_int_equal(cfsm_get_state(f), CFSM_HOLDING);
    /* s2 at the end: everyone reported, s2 is the only holder -> COMMIT, no second fix */
    assert_int_equal(consumed_act(f, "s2", 100, 1002, &r), CFSM_ACT_NONE);
    assert_int_equal(r.status, CFSM_COMMIT);
    assert_int_equal(r.offset, 100);
    cfsm_free(f);
}

/* F8: every replica reported and none holds the end: no winner, the machine keeps waiting; the
 * hold window passing does not pick one either. */
static void test_f8_no_holder(void **s)
{
    (void)s;
    cfsm *f = cfsm_new_fixed(SEG, R3, 3, 100, &CFG, 1000);
    cfsm_reply r;
    consumed_act(f, "s1", 80, 1000, &r);
    consumed_act(f, "s2", 90, 1000, &r);
    consumed_act(f, "s3", 140, 1000, &r);
    assert_int_equal(cfsm_get_state(f), CFSM_HOLDING);
    assert_false(cfsm_tick(f, 1000 + 60000));
    assert_int_equal(cfsm_get_state(f), CFSM_HOLDING);
    /* s1 caught up: the winner rule holds (all reported) with s1 the only holder */
    assert_int_equal(consumed_act(f, "s1", 100, 61001, &r), CFSM_ACT_NONE);
    assert_int_equal(r.status, CFSM_COMMIT);
    assert_string_equal(cfsm_winner(f), "s1");
    cfsm_free(f);
}

/* F9: the committer of a fixed machine is lost (its commit budget passes): the machine aborts
 * and the owner rebuilds it fixed, so another holder of [start, end) commits N. */
static void test_f9_committer_lost(void **s)
{
    (void)s;
    cfsm *f = p_decided();
    cfsm_fix_done(f, true, NULL);
    cfsm_reply r;
    consumed_act(f, "s2", 100, 1003, &r);
    assert_int_equal(r.status, CFSM_COMMIT);
    assert_true(cfsm_tick(f, 1003 + 120001));
    assert_true(cfsm_done(f));
    cfsm_free(f);
    f = cfsm_new_fixed(SEG, R3 + 1, 2, 100, &CFG, 200000); /* s1 and s2 gone; s3 left */
    consumed_act(f, "s3", 100, 200000, &r);
    assert_int_equal(r.status, CFSM_HOLD); /* s2 is still awaited until the window passes */
    assert_true(cfsm_tick(f, 203001));
    consumed_act(f, "s3", 100, 203002, &r);
    assert_int_equal(r.status, CFSM_COMMIT);
    assert_string_equal(cfsm_winner(f), "s3");
    cfsm_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_h1_hold_until_all_report),
        cmocka_unit_test(test_h2_all_reported_winner_commits),
        cmocka_unit_test(test_h3_window_passes),
        cmocka_unit_test(test_h4_lone_row_limit),
        cmocka_unit_test(test_h5_row_limit_not_lone),
        cmocka_unit_test(test_h6_tie_smallest_id),
        cmocka_unit_test(test_h7_stopped_excluded),
        cmocka_unit_test(test_h8_excluded_reports_again),
        cmocka_unit_test(test_d1_decided_laggard_and_equal),
        cmocka_unit_test(test_d2_decided_beyond_aborts),
        cmocka_unit_test(test_d3_winner_moved),
        cmocka_unit_test(test_d4_winner_never_came),
        cmocka_unit_test(test_n1_commit_resent),
        cmocka_unit_test(test_n2_commit_start),
        cmocka_unit_test(test_n3_only_winner),
        cmocka_unit_test(test_n4_commit_start_wrong_offset),
        cmocka_unit_test(test_n5_extend),
        cmocka_unit_test(test_n6_commit_budget),
        cmocka_unit_test(test_n7_others_during_commit),
        cmocka_unit_test(test_n8_committer_restarted),
        cmocka_unit_test(test_n9_winner_stopped),
        cmocka_unit_test(test_u1_commit_end_failure),
        cmocka_unit_test(test_u2_commit_end_wrong_offset),
        cmocka_unit_test(test_c1_after_commit),
        cmocka_unit_test(test_c2_commit_end_idempotent),
        cmocka_unit_test(test_c3_leader_change),
        cmocka_unit_test(test_c4_zombie_after_failover),
        cmocka_unit_test(test_a1_aborted),
        cmocka_unit_test(test_r1_replica_set_changes),
        cmocka_unit_test(test_f1_f2_fix_then_commit),
        cmocka_unit_test(test_f3_fix_failed),
        cmocka_unit_test(test_f4_fix_pending),
        cmocka_unit_test(test_f5_told_fixed_once),
        cmocka_unit_test(test_f6_beyond_fixed_end),
        cmocka_unit_test(test_f7_rebuilt_fixed),
        cmocka_unit_test(test_f8_no_holder),
        cmocka_unit_test(test_f9_committer_lost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
