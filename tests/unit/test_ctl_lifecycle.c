/* Controller lifecycle (completion/controller.c): one test per row of docs/protocol.md's
 * "Controller lifecycle" table (row ids in the names), every other move refused, and the one
 * transition function's semantics on a bare struct ctl: no ZooKeeper, no threads. */
#include "completion/ctl_int.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* The table as docs/protocol.md states it: from -> to. */
static const struct {
    const char *id;
    ctl_state from, to;
} ROWS[] = {
    {"L1", CTL_CREATED, CTL_CONNECTING},
    {"L2", CTL_CONNECTING, CTL_FOLLOWER},
    {"L3", CTL_CONNECTING, CTL_LEADER},
    {"L4", CTL_FOLLOWER, CTL_LEADER},
    {"L5", CTL_LEADER, CTL_FOLLOWER},
    {"L6", CTL_FOLLOWER, CTL_EXPIRED},
    {"L6", CTL_LEADER, CTL_EXPIRED},
    {"L7", CTL_EXPIRED, CTL_RECONNECTING},
    {"L8", CTL_RECONNECTING, CTL_FOLLOWER},
    {"L9", CTL_RECONNECTING, CTL_LEADER},
    {"L10", CTL_RECONNECTING, CTL_EXPIRED},
    {"L11", CTL_CREATED, CTL_STOPPING},
    {"L11", CTL_CONNECTING, CTL_STOPPING},
    {"L11", CTL_FOLLOWER, CTL_STOPPING},
    {"L11", CTL_LEADER, CTL_STOPPING},
    {"L11", CTL_EXPIRED, CTL_STOPPING},
    {"L11", CTL_RECONNECTING, CTL_STOPPING},
    {"L12", CTL_STOPPING, CTL_STOPPED},
};
#define NROWS (sizeof ROWS / sizeof ROWS[0])

static ctl *bare(ctl_state s)
{
    ctl *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->o.instance_id = "test";
    atomic_init(&c->state, (int)s);
    return c;
}

/* A row: the table allows it, and ctl__set_state makes it from exactly that state. */
static void row(const char *id, ctl_state from, ctl_state to)
{
    for (size_t i = 0; i < NROWS; i++)
        if (strcmp(ROWS[i].id, id) == 0 && ROWS[i].from == from && ROWS[i].to == to) {
            assert_true(ctl__state_legal(from, to));
            ctl *c = bare(from);
            assert_true(ctl__set_state(c, CTL_ST(from), to, id));
            assert_int_equal(ctl__state(c), to);
            free(c);
            return;
        }
    fail_msg("row %s %s -> %s is not in the table", id, ctl__state_name(from), ctl__state_name(to));
}

static void test_l1_run(void **s) { (void)s; row("L1", CTL_CREATED, CTL_CONNECTING); }
static void test_l2_joined(void **s) { (void)s; row("L2", CTL_CONNECTING, CTL_FOLLOWER); }
static void test_l3_elected_early(void **s) { (void)s; row("L3", CTL_CONNECTING, CTL_LEADER); }
static void test_l4_elected(void **s) { (void)s; row("L4", CTL_FOLLOWER, CTL_LEADER); }
static void test_l5_leadership_lost(void **s) { (void)s; row("L5", CTL_LEADER, CTL_FOLLOWER); }

static void test_l6_expired(void **s)
{
    (void)s;
    row("L6", CTL_FOLLOWER, CTL_EXPIRED);
    row("L6", CTL_LEADER, CTL_EXPIRED);
}

static void test_l7_dead_session_closed(void **s) { (void)s; row("L7", CTL_EXPIRED, CTL_RECONNECTING); }
static void test_l8_reopened(void **s) { (void)s; row("L8", CTL_RECONNECTING, CTL_FOLLOWER); }
static void test_l9_elected_on_reopen(void **s) { (void)s; row("L9", CTL_RECONNECTING, CTL_LEADER); }
static void test_l10_reopen_failed(void **s) { (void)s; row("L10", CTL_RECONNECTING, CTL_EXPIRED); }

static void test_l11_stop(void **s)
{
    (void)s;
    for (unsigned f = 0; f < CTL_STATE__COUNT; f++)
        if (CTL_STOP_FROM & CTL_ST(f)) row("L11", (ctl_state)f, CTL_STOPPING);
    assert_false(ctl__state_legal(CTL_STOPPING, CTL_STOPPING));
    assert_false(ctl__state_legal(CTL_STOPPED, CTL_STOPPING));
}

static void test_l12_stopped(void **s) { (void)s; row("L12", CTL_STOPPING, CTL_STOPPED); }

/* The table holds the rows and nothing else: every other pair (self-moves, leaving
 * STOPPED, EXPIRED -> LEADER from a dead session's report, ...) is illegal. */
static void test_nothing_else_is_legal(void **s)
{
    (void)s;
    for (unsigned f = 0; f < CTL_STATE__COUNT; f++)
        for (unsigned t = 0; t < CTL_STATE__COUNT; t++) {
            bool listed = false;
            for (size_t i = 0; i < NROWS; i++) listed |= ROWS[i].from == f && ROWS[i].to == t;
            if (ctl__state_legal((ctl_state)f, (ctl_state)t) != listed)
                fail_msg("%s -> %s: table says %d, docs say %d", ctl__state_name((ctl_state)f),
                         ctl__state_name((ctl_state)t),
                         ctl__state_legal((ctl_state)f, (ctl_state)t), listed);
        }
    assert_false(ctl__state_legal(CTL_STATE__COUNT, CTL_CREATED));
    assert_false(ctl__state_legal(CTL_CREATED, CTL_STATE__COUNT));
}

/* The sets the controller's events move from are legal as a whole (ctl__set_state asserts
 * that on every call, whatever the state at the time). */
static void test_event_sets_are_legal(void **s)
{
    (void)s;
    assert_true(ctl__moves_legal(CTL_ELECTED_FROM, CTL_LEADER));
    assert_true(ctl__moves_legal(CTL_EXPIRY_FROM, CTL_EXPIRED));
    assert_true(ctl__moves_legal(CTL_EXPIRY_FROM & ~CTL_ST(CTL_LEADER), CTL_EXPIRED));
    assert_true(ctl__moves_legal(CTL_STOP_FROM, CTL_STOPPING));
    assert_false(ctl__moves_legal(0, CTL_STOPPING));
    assert_false(ctl__moves_legal(CTL_ST_ALL, CTL_STOPPING));
    assert_false(ctl__moves_legal(CTL_ST(CTL_EXPIRED), CTL_LEADER));
    assert_false(ctl__moves_legal(1u << CTL_STATE__COUNT, CTL_STOPPING));
}

/* An event that does not apply in the current state moves nothing: a dead session's
 * election report in EXPIRED, a leadership loss while FOLLOWER, any event once STOPPING. */
static void test_event_outside_its_states_moves_nothing(void **s)
{
    (void)s;
    ctl *c = bare(CTL_EXPIRED);
    assert_false(ctl__set_state(c, CTL_ELECTED_FROM, CTL_LEADER, "stale report"));
    assert_int_equal(ctl__state(c), CTL_EXPIRED);
    assert_false(ctl__leads(c));
    atomic_store(&c->state, CTL_FOLLOWER);
    assert_false(ctl__set_state(c, CTL_ST(CTL_LEADER), CTL_FOLLOWER, "not leader"));
    assert_int_equal(ctl__state(c), CTL_FOLLOWER);
    atomic_store(&c->state, CTL_STOPPING);
    assert_false(ctl__set_state(c, CTL_ELECTED_FROM, CTL_LEADER, "late"));
    assert_false(ctl__set_state(c, CTL_EXPIRY_FROM, CTL_EXPIRED, "late"));
    assert_false(ctl__set_state(c, CTL_STOP_FROM, CTL_STOPPING, "twice"));
    assert_int_equal(ctl__state(c), CTL_STOPPING);
    free(c);
}

/* A whole life: start, lead, lose the session, re-open it, lead again, stop; what
 * ctl__serving (the 503 gate) and ctl__leads say at each step. */
static void test_a_whole_life(void **s)
{
    (void)s;
    ctl *c = bare(CTL_CREATED);
    assert_false(ctl__serving(c));
    assert_true(ctl__set_state(c, CTL_ST(CTL_CREATED), CTL_CONNECTING, "run"));
    assert_false(ctl__serving(c));
    assert_true(ctl__set_state(c, CTL_ELECTED_FROM, CTL_LEADER, "elected"));
    assert_true(ctl__serving(c) && ctl__leads(c));
    /* ctl_run's own move comes after the election's report and finds nothing to do */
    assert_false(ctl__set_state(c, CTL_ST(CTL_CONNECTING), CTL_FOLLOWER, "joined"));
    assert_true(ctl__set_state(c, CTL_ST(CTL_LEADER), CTL_FOLLOWER, "fenced"));
    assert_true(ctl__set_state(c, CTL_EXPIRY_FROM, CTL_EXPIRED, "expired"));
    assert_true(ctl__serving(c) && !ctl__leads(c));
    assert_true(ctl__set_state(c, CTL_ST(CTL_EXPIRED), CTL_RECONNECTING, "closed"));
    assert_true(ctl__set_state(c, CTL_ST(CTL_RECONNECTING), CTL_EXPIRED, "re-open failed"));
    assert_true(ctl__set_state(c, CTL_ST(CTL_EXPIRED), CTL_RECONNECTING, "closed"));
    assert_true(ctl__set_state(c, CTL_ST(CTL_RECONNECTING), CTL_FOLLOWER, "re-opened"));
    assert_true(ctl__set_state(c, CTL_ELECTED_FROM, CTL_LEADER, "elected"));
    assert_true(ctl__set_state(c, CTL_STOP_FROM, CTL_STOPPING, "stop"));
    assert_false(ctl__leads(c));
    assert_true(ctl__set_state(c, CTL_ST(CTL_STOPPING), CTL_STOPPED, "stopped"));
    free(c);
}

static void test_names(void **s)
{
    (void)s;
    static const char *const want[CTL_STATE__COUNT] = {
        "CREATED", "CONNECTING", "FOLLOWER", "LEADER", "EXPIRED", "RECONNECTING", "STOPPING",
        "STOPPED"};
    for (unsigned i = 0; i < CTL_STATE__COUNT; i++)
        assert_string_equal(ctl__state_name((ctl_state)i), want[i]);
    assert_string_equal(ctl__state_name(CTL_STATE__COUNT), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_l1_run),
        cmocka_unit_test(test_l2_joined),
        cmocka_unit_test(test_l3_elected_early),
        cmocka_unit_test(test_l4_elected),
        cmocka_unit_test(test_l5_leadership_lost),
        cmocka_unit_test(test_l6_expired),
        cmocka_unit_test(test_l7_dead_session_closed),
        cmocka_unit_test(test_l8_reopened),
        cmocka_unit_test(test_l9_elected_on_reopen),
        cmocka_unit_test(test_l10_reopen_failed),
        cmocka_unit_test(test_l11_stop),
        cmocka_unit_test(test_l12_stopped),
        cmocka_unit_test(test_nothing_else_is_legal),
        cmocka_unit_test(test_event_sets_are_legal),
        cmocka_unit_test(test_event_outside_its_states_moves_nothing),
        cmocka_unit_test(test_a_whole_life),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
