/* Replica state machine: one test per row of docs/protocol.md's replica tables (legality T*,
 * replies P*, results O*, restarts S*; the row ids are in the names), time passed in. */
#include "completion/rsm.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

static const rsm_who WHO = {.table = "t", .partition = 0, .segment = "t__0__5__20240101T0000Z"};

/* The enter hook: counts calls and remembers the last state it was told about. */
typedef struct hook {
    int calls;
    rsm_state last;
} hook;

static void on_enter(void *ctx, rsm_state to)
{
    hook *h = ctx;
    h->calls++;
    h->last = to;
}

/* A started machine driven to `s` through legal moves only. */
static void at(rsm *m, rsm_state s)
{
    static const rsm_state path[RSM__COUNT][4] = {
        [RSM_CONSUMING] = {RSM__COUNT},
        [RSM_HOLDING] = {RSM_HOLDING, RSM__COUNT},
        [RSM_CATCHING_UP] = {RSM_HOLDING, RSM_CATCHING_UP, RSM__COUNT},
        [RSM_COMMITTING] = {RSM_HOLDING, RSM_COMMITTING, RSM__COUNT},
        [RSM_RETAINING] = {RSM_HOLDING, RSM_RETAINING, RSM__COUNT},
        [RSM_DISCARDED] = {RSM_HOLDING, RSM_DISCARDED, RSM__COUNT},
        [RSM_ONLINE] = {RSM_HOLDING, RSM_COMMITTING, RSM_ONLINE, RSM__COUNT},
        [RSM_ERROR] = {RSM_HOLDING, RSM_COMMITTING, RSM_ERROR, RSM__COUNT}};
    memset(m, 0, sizeof *m);
    rsm_start(m, &WHO, 1, NULL, NULL);
    for (int i = 0; path[s][i] != RSM__COUNT; i++)
        assert_true(rsm_transition(m, path[s][i], &WHO, 1, NULL, NULL));
    assert_int_equal(rsm_get(m), s);
}

/* A legal move from -> to: allowed by the table, the hook runs first, the state and its time
 * are stored. */
static void legal(rsm_state from, rsm_state to)
{
    rsm m;
    at(&m, from);
    hook h = {0};
    assert_true(rsm_legal(from, to));
    assert_true(rsm_transition(&m, to, &WHO, 777, on_enter, &h));
    assert_int_equal(rsm_get(&m), to);
    assert_int_equal(atomic_load(&m.since_ms), 777);
    assert_int_equal(h.calls, 1);
    assert_int_equal(h.last, to);
}

/* An illegal move: refused by the table and, in a release build, by rsm_transition (no hook,
 * no change). A debug build asserts instead, which is the point: only the table is checked. */
static void illegal(rsm_state from, rsm_state to)
{
    assert_false(rsm_legal(from, to));
#ifdef NDEBUG
    rsm m;
    at(&m, from);
    hook h = {0};
    assert_false(rsm_transition(&m, to, &WHO, 777, on_enter, &h));
    assert_int_equal(rsm_get(&m), from);
    assert_int_equal(atomic_load(&m.since_ms), 1);
    assert_int_equal(h.calls, 0);
#endif
}

/* ---- the legality table ------------------------------------------------------------- */

static void test_names(void **s)
{
    (void)s;
    static const char *const want[] = {"CONSUMING", "HOLDING", "CATCHING_UP", "COMMITTING",
                                       "RETAINING", "DISCARDED", "ONLINE", "ERROR"};
    for (int i = 0; i < RSM__COUNT; i++) assert_string_equal(rsm_state_name(i), want[i]);
    assert_string_equal(rsm_state_name(RSM__COUNT), "?");
    assert_string_equal(rsm_state_name((rsm_state)-1), "?");
    for (int i = 0; i < RSM__COUNT; i++)
        assert_int_equal(rsm_published(i), i == RSM_CONSUMING || i == RSM_ONLINE || i == RSM_ERROR);
}

/* T1: a new partition enters CONSUMING; the hook (the ZooKeeper record) runs first. */
static void test_t1_start(void **s)
{
    (void)s;
    rsm m;
    memset(&m, 0, sizeof m);
    hook h = {0};
    rsm_start(&m, &WHO, 42, on_enter, &h);
    assert_int_equal(rsm_get(&m), RSM_CONSUMING);
    assert_int_equal(atomic_load(&m.since_ms), 42);
    assert_int_equal(h.calls, 1);
    assert_int_equal(h.last, RSM_CONSUMING);
}

/* A machine that was never started refuses every move, even one the table allows. */
static void test_t1_not_started(void **s)
{
    (void)s;
#ifdef NDEBUG
    rsm m;
    memset(&m, 0, sizeof m);
    assert_false(rsm_transition(&m, RSM_HOLDING, &WHO, 5, NULL, NULL));
    assert_int_equal(rsm_get(&m), RSM_CONSUMING);
#endif
}

static void test_t2_consuming_holding(void **s) { (void)s; legal(RSM_CONSUMING, RSM_HOLDING); }
static void test_t3_holding_catching_up(void **s) { (void)s; legal(RSM_HOLDING, RSM_CATCHING_UP); }
static void test_t4_holding_committing(void **s) { (void)s; legal(RSM_HOLDING, RSM_COMMITTING); }
static void test_t5_holding_retaining(void **s) { (void)s; legal(RSM_HOLDING, RSM_RETAINING); }
static void test_t6_holding_discarded(void **s) { (void)s; legal(RSM_HOLDING, RSM_DISCARDED); }
static void test_t7_catching_up_holding(void **s) { (void)s; legal(RSM_CATCHING_UP, RSM_HOLDING); }
static void test_t8_committing_online(void **s) { (void)s; legal(RSM_COMMITTING, RSM_ONLINE); }
static void test_t9_committing_holding(void **s) { (void)s; legal(RSM_COMMITTING, RSM_HOLDING); }
static void test_t10_committing_error(void **s) { (void)s; legal(RSM_COMMITTING, RSM_ERROR); }
static void test_t11_retaining_online(void **s) { (void)s; legal(RSM_RETAINING, RSM_ONLINE); }
static void test_t12_retaining_holding(void **s) { (void)s; legal(RSM_RETAINING, RSM_HOLDING); }
static void test_t13_retaining_error(void **s) { (void)s; legal(RSM_RETAINING, RSM_ERROR); }
static void test_t14_discarded_online(void **s) { (void)s; legal(RSM_DISCARDED, RSM_ONLINE); }
static void test_t15_discarded_holding(void **s) { (void)s; legal(RSM_DISCARDED, RSM_HOLDING); }
static void test_t16_discarded_error(void **s) { (void)s; legal(RSM_DISCARDED, RSM_ERROR); }
static void test_t17_online_consuming(void **s) { (void)s; legal(RSM_ONLINE, RSM_CONSUMING); }
static void test_t18_error_consuming(void **s) { (void)s; legal(RSM_ERROR, RSM_CONSUMING); }
/* T19: pauseless, a segment rebuilt from Kafka that can never be built (retention took part of
 * its range, or its rows cannot be built) is given up. */
static void test_t19_consuming_error(void **s) { (void)s; legal(RSM_CONSUMING, RSM_ERROR); }

/* The table has exactly the 18 moves above: every other pair (self-moves included) is refused. */
static void test_table_is_closed(void **s)
{
    (void)s;
    int n = 0;
    for (int f = 0; f < RSM__COUNT; f++)
        for (int t = 0; t < RSM__COUNT; t++) n += rsm_legal(f, t);
    assert_int_equal(n, 18);
    for (int f = 0; f < RSM__COUNT; f++) assert_false(rsm_legal(f, f));
    assert_false(rsm_legal(RSM__COUNT, RSM_CONSUMING));
    assert_false(rsm_legal(RSM_CONSUMING, RSM__COUNT));
}

/* A sample of refused moves, each one a bug the old setter would have let through. */
static void test_illegal_sample(void **s)
{
    (void)s;
    illegal(RSM_CONSUMING, RSM_ONLINE);     /* a segment published without completing */
    illegal(RSM_CONSUMING, RSM_COMMITTING); /* committing without a COMMIT */
    illegal(RSM_HOLDING, RSM_ONLINE);       /* ONLINE without a file */
    illegal(RSM_HOLDING, RSM_ERROR);        /* ERROR only after an action failed */
    illegal(RSM_HOLDING, RSM_HOLDING);
    illegal(RSM_CATCHING_UP, RSM_COMMITTING);
    illegal(RSM_COMMITTING, RSM_RETAINING);
    illegal(RSM_RETAINING, RSM_COMMITTING);
    illegal(RSM_ONLINE, RSM_HOLDING);       /* a published segment is never held again */
    illegal(RSM_ONLINE, RSM_ERROR);
    illegal(RSM_ERROR, RSM_ONLINE);
    illegal(RSM_ERROR, RSM_HOLDING);
    illegal(RSM_CONSUMING, RSM_CONSUMING);  /* the start is rsm_start, once */
}

/* ---- replies to SegmentConsumed (HOLDING) ------------------------------------------- */

static void want_report(rsm_step st, const char *row, uint64_t at_ms)
{
    assert_string_equal(st.row, row);
    assert_int_equal(st.next, RSM_HOLDING);
    assert_int_equal(st.act, RSM_DO_REPORT);
    assert_int_equal(st.at_ms, at_ms);
    assert_false(st.stopped);
    assert_false(st.reset_backoff);
    assert_null(st.decision);
}

/* P1: no reply at all (r_rpc gave up): report again at once. */
static void test_p1_no_reply(void **s)
{
    (void)s;
    want_report(rsm_on_reply(false, RPC_STATUS_COMMIT, 0, 100, 5000), "P1", 5000);
}

/* P2: HOLD (the controller long-polled already): report again at once. */
static void test_p2_hold(void **s)
{
    (void)s;
    want_report(rsm_on_reply(true, RPC_STATUS_HOLD, -1, 100, 5000), "P2", 5000);
}

/* P3: CATCH_UP to an offset that is not ahead: stay HOLDING, ask again in 500 ms. */
static void test_p3_catch_up_not_ahead(void **s)
{
    (void)s;
    want_report(rsm_on_reply(true, RPC_STATUS_CATCH_UP, 100, 100, 5000), "P3", 5500);
    want_report(rsm_on_reply(true, RPC_STATUS_CATCH_UP, 90, 100, 5000), "P3", 5500);
}

/* P4: CATCH_UP(o > next): CATCHING_UP to o, back-off forgotten, counted "catch_up". */
static void test_p4_catch_up(void **s)
{
    (void)s;
    rsm_step st = rsm_on_reply(true, RPC_STATUS_CATCH_UP, 150, 100, 5000);
    assert_string_equal(st.row, "P4");
    assert_int_equal(st.next, RSM_CATCHING_UP);
    assert_int_equal(st.act, RSM_DO_CATCH_UP);
    assert_int_equal(st.offset, 150);
    assert_true(st.reset_backoff);
    assert_string_equal(st.decision, "catch_up");
    assert_true(rsm_legal(RSM_HOLDING, st.next));
}

static void want_action(rsm_step st, const char *row, rsm_state next, rsm_action act)
{
    assert_string_equal(st.row, row);
    assert_int_equal(st.next, next);
    assert_int_equal(st.act, act);
    assert_false(st.stopped);
    assert_false(st.reset_backoff);
    assert_null(st.decision); /* counted when it succeeds */
    assert_true(rsm_legal(RSM_HOLDING, next));
}

/* P5: COMMIT -> COMMITTING. */
static void test_p5_commit(void **s)
{
    (void)s;
    want_action(rsm_on_reply(true, RPC_STATUS_COMMIT, 100, 100, 5000), "P5", RSM_COMMITTING,
                RSM_DO_COMMIT);
}

/* P6: KEEP -> RETAINING. */
static void test_p6_keep(void **s)
{
    (void)s;
    want_action(rsm_on_reply(true, RPC_STATUS_KEEP, 100, 100, 5000), "P6", RSM_RETAINING,
                RSM_DO_KEEP);
}

/* P7: DISCARD -> DISCARDED. */
static void test_p7_discard(void **s)
{
    (void)s;
    want_action(rsm_on_reply(true, RPC_STATUS_DISCARD, 90, 100, 5000), "P7", RSM_DISCARDED,
                RSM_DO_DISCARD);
}

/* P8: any other status (FAILED, PROCESSED, unknown): stay HOLDING, ask again in 300 ms. */
static void test_p8_other(void **s)
{
    (void)s;
    want_report(rsm_on_reply(true, RPC_STATUS_FAILED, 0, 100, 5000), "P8", 5300);
    want_report(rsm_on_reply(true, RPC_STATUS_UNSPECIFIED, 0, 100, 5000), "P8", 5300);
    want_report(rsm_on_reply(true, RPC_STATUS_COMMIT_SUCCESS, 0, 100, 5000), "P8", 5300);
}

/* ---- results of COMMITTING / RETAINING / DISCARDED ---------------------------------- */

static void want_online(rsm_state doing, const char *row, const char *decision)
{
    rsm_step st = rsm_on_result(doing, 0);
    assert_string_equal(st.row, row);
    assert_int_equal(st.next, RSM_ONLINE);
    assert_int_equal(st.act, RSM_DO_DONE);
    assert_false(st.stopped);
    assert_true(st.reset_backoff);
    assert_string_equal(st.decision, decision);
    assert_true(rsm_legal(doing, st.next));
}

static void want_error(rsm_state doing, int rc, const char *row)
{
    rsm_step st = rsm_on_result(doing, rc);
    assert_string_equal(st.row, row);
    assert_int_equal(st.next, RSM_ERROR);
    assert_int_equal(st.act, RSM_DO_DONE);
    assert_true(st.stopped);
    assert_false(st.zero_build_millis); /* a build that failed on its rows says how long */
    assert_true(st.reset_backoff);
    assert_null(st.decision);
    assert_true(rsm_legal(doing, st.next));
}

static void want_backoff(rsm_state doing, int rc, const char *row, bool stopped)
{
    rsm_step st = rsm_on_result(doing, rc);
    assert_string_equal(st.row, row);
    assert_int_equal(st.next, RSM_HOLDING);
    assert_int_equal(st.act, RSM_DO_BACKOFF);
    assert_int_equal(st.stopped, stopped);
    assert_int_equal(st.zero_build_millis, stopped); /* the threshold is never halved */
    assert_false(st.reset_backoff);
    assert_null(st.decision);
    assert_true(rsm_legal(doing, st.next));
}

/* O1: committed and published -> ONLINE, counted "commit". */
static void test_o1_committed(void **s) { (void)s; want_online(RSM_COMMITTING, "O1", "commit"); }

/* O2: CommitStart/CommitEnd refused, or the controller unreachable -> HOLDING, report at once. */
static void test_o2_commit_refused(void **s)
{
    (void)s;
    static const int codes[] = {SL_ECONFLICT, SL_ENOTLEADER, SL_ETRANSIENT, SL_ETIMEDOUT};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        rsm_step st = rsm_on_result(RSM_COMMITTING, codes[i]);
        want_report(st, "O2", 0);
        assert_true(rsm_legal(RSM_COMMITTING, st.next));
    }
}

/* O3: the build failed on its rows -> ERROR with StoppedConsuming(build_millis). */
static void test_o3_commit_build_failed(void **s)
{
    (void)s;
    want_error(RSM_COMMITTING, SL_ELIMIT, "O3");
    want_error(RSM_COMMITTING, SL_EINVAL, "O3");
}

/* O4: the disk or the controller's store failed -> StoppedConsuming without build_millis,
 * HOLDING with the back-off. */
static void test_o4_commit_disk(void **s)
{
    (void)s;
    want_backoff(RSM_COMMITTING, SL_ENOSPACE, "O4", true);
    want_backoff(RSM_COMMITTING, SL_EDISK, "O4", true);
    want_backoff(RSM_COMMITTING, SL_EIO, "O4", true);
}

/* O5: KEEP: CRC equal (or healed by download) -> ONLINE, counted "keep". */
static void test_o5_kept(void **s) { (void)s; want_online(RSM_RETAINING, "O5", "keep"); }

/* O6: KEEP: the local disk failed -> HOLDING with the back-off, no StoppedConsuming. */
static void test_o6_keep_disk(void **s)
{
    (void)s;
    want_backoff(RSM_RETAINING, SL_ENOSPACE, "O6", false);
    want_backoff(RSM_RETAINING, SL_EDISK, "O6", false);
}

/* O7: KEEP: no file (the healing download failed otherwise) -> ERROR. */
static void test_o7_keep_failed(void **s)
{
    (void)s;
    want_error(RSM_RETAINING, SL_ENOENT, "O7");
    want_error(RSM_RETAINING, SL_ECORRUPT, "O7");
}

/* O8: DISCARD: downloaded with the committed CRC -> ONLINE, counted "discard". */
static void test_o8_downloaded(void **s) { (void)s; want_online(RSM_DISCARDED, "O8", "discard"); }

/* O9: DISCARD: the local disk failed -> HOLDING with the back-off. */
static void test_o9_discard_disk(void **s)
{
    (void)s;
    want_backoff(RSM_DISCARDED, SL_ENOSPACE, "O9", false);
}

/* O10: DISCARD: no source had it (or ZooKeeper failed) -> ERROR. */
static void test_o10_discard_failed(void **s)
{
    (void)s;
    want_error(RSM_DISCARDED, SL_ENOENT, "O10");
    want_error(RSM_DISCARDED, SL_ETRANSIENT, "O10");
    want_error(RSM_DISCARDED, SL_ESTATE, "O10");
}

/* The back-off of O4/O6/O9: 1 s doubling to 60 s from the time passed in. */
static void test_backoff(void **s)
{
    (void)s;
    sl_backoff b = {0};
    assert_int_equal(rsm_backoff(&b, 10000), 11000);
    assert_int_equal(rsm_backoff(&b, 11000), 13000);
    assert_int_equal(rsm_backoff(&b, 13000), 17000);
    for (int i = 0; i < 10; i++) rsm_backoff(&b, 20000);
    assert_int_equal(rsm_backoff(&b, 20000), 80000);
}

/* ---- restarts (the control thread) --------------------------------------------------- */

/* S1: another segment is assigned CONSUMING: ONLINE or ERROR partitions start it at once. */
static void test_s1_next_segment(void **s)
{
    (void)s;
    rsm m;
    at(&m, RSM_ONLINE);
    assert_true(rsm_may_start(&m, false, 1));
    at(&m, RSM_ERROR);
    assert_true(rsm_may_start(&m, false, 1));
}

/* S2: ... a partition still completing its segment (or consuming) does not. */
static void test_s2_still_completing(void **s)
{
    (void)s;
    rsm m;
    for (int st = RSM_CONSUMING; st <= RSM_DISCARDED; st++) {
        at(&m, st);
        assert_false(rsm_may_start(&m, false, 1000000));
    }
}

/* S3: the same segment in ERROR restarts RSM_ERROR_RETRY_MS after entering ERROR. */
static void test_s3_error_retry(void **s)
{
    (void)s;
    rsm m;
    at(&m, RSM_HOLDING);
    assert_true(rsm_transition(&m, RSM_DISCARDED, &WHO, 100, NULL, NULL));
    assert_true(rsm_transition(&m, RSM_ERROR, &WHO, 2000, NULL, NULL));
    assert_false(rsm_may_start(&m, true, 2000));
    assert_false(rsm_may_start(&m, true, 2000 + RSM_ERROR_RETRY_MS - 1));
    assert_true(rsm_may_start(&m, true, 2000 + RSM_ERROR_RETRY_MS));
}

/* S4: the same segment in any other state: already on it. */
static void test_s4_already_on_it(void **s)
{
    (void)s;
    rsm m;
    for (int st = RSM_CONSUMING; st <= RSM_ONLINE; st++) {
        at(&m, st);
        assert_false(rsm_may_start(&m, true, 1000000));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_t1_start),
        cmocka_unit_test(test_t1_not_started),
        cmocka_unit_test(test_t2_consuming_holding),
        cmocka_unit_test(test_t3_holding_catching_up),
        cmocka_unit_test(test_t4_holding_committing),
        cmocka_unit_test(test_t5_holding_retaining),
        cmocka_unit_test(test_t6_holding_discarded),
        cmocka_unit_test(test_t7_catching_up_holding),
        cmocka_unit_test(test_t8_committing_online),
        cmocka_unit_test(test_t9_committing_holding),
        cmocka_unit_test(test_t10_committing_error),
        cmocka_unit_test(test_t11_retaining_online),
        cmocka_unit_test(test_t12_retaining_holding),
        cmocka_unit_test(test_t13_retaining_error),
        cmocka_unit_test(test_t14_discarded_online),
        cmocka_unit_test(test_t15_discarded_holding),
        cmocka_unit_test(test_t16_discarded_error),
        cmocka_unit_test(test_t17_online_consuming),
        cmocka_unit_test(test_t18_error_consuming),
        cmocka_unit_test(test_t19_consuming_error),
        cmocka_unit_test(test_table_is_closed),
        cmocka_unit_test(test_illegal_sample),
        cmocka_unit_test(test_p1_no_reply),
        cmocka_unit_test(test_p2_hold),
        cmocka_unit_test(test_p3_catch_up_not_ahead),
        cmocka_unit_test(test_p4_catch_up),
        cmocka_unit_test(test_p5_commit),
        cmocka_unit_test(test_p6_keep),
        cmocka_unit_test(test_p7_discard),
        cmocka_unit_test(test_p8_other),
        cmocka_unit_test(test_o1_committed),
        cmocka_unit_test(test_o2_commit_refused),
        cmocka_unit_test(test_o3_commit_build_failed),
        cmocka_unit_test(test_o4_commit_disk),
        cmocka_unit_test(test_o5_kept),
        cmocka_unit_test(test_o6_keep_disk),
        cmocka_unit_test(test_o7_keep_failed),
        cmocka_unit_test(test_o8_downloaded),
        cmocka_unit_test(test_o9_discard_disk),
        cmocka_unit_test(test_o10_discard_failed),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_s1_next_segment),
        cmocka_unit_test(test_s2_still_completing),
        cmocka_unit_test(test_s3_error_retry),
        cmocka_unit_test(test_s4_already_on_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
