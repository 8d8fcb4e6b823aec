/* Error codes: the disk classes, what is deterministic, the action of every code, the message
 * helpers (sl_fail, sl_fail_at) and the retry backoff schedule. */
#include "common/sl_err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

static void test_disk_codes(void **s)
{
    (void)s;
    assert_true(sl_err_is_disk(SL_ENOSPACE));
    assert_true(sl_err_is_disk(SL_EDISK));
    assert_false(sl_err_is_disk(SL_EIO));
    assert_false(sl_err_is_disk(SL_ELIMIT));
    assert_int_equal(sl_err_action_of(SL_ENOSPACE), SL_ACT_RETRY);
    assert_int_equal(sl_err_action_of(SL_EDISK), SL_ACT_RETRY);
    assert_string_equal(sluice_strerror(SL_ENOSPACE), "no space left on device");
    assert_string_not_equal(sluice_strerror(SL_EDISK), sluice_strerror(SL_EIO));
    assert_string_not_equal(sluice_strerror(SL_EDISK), "unknown error");
}

static void test_deterministic(void **s)
{
    (void)s;
    assert_true(sl_err_is_deterministic(SL_ELIMIT));
    assert_true(sl_err_is_deterministic(SL_EINVAL));
    const int env[] = {SL_ENOSPACE, SL_EDISK, SL_EIO, SL_ENOENT, SL_ETRANSIENT, SL_OK};
    for (size_t i = 0; i < sizeof env / sizeof env[0]; i++)
        assert_false(sl_err_is_deterministic(env[i]));
}

/* Every code has the action the retry loops rely on (the table in sl_err.h). */
static void test_actions(void **s)
{
    (void)s;
    static const struct {
        int err;
        sl_err_action act;
    } want[] = {
        {SL_OK, SL_ACT_NONE},           {SL_ETIMEDOUT, SL_ACT_RETRY},
        {SL_ETRANSIENT, SL_ACT_RETRY},  {SL_EIO, SL_ACT_RETRY},
        {SL_ENOSPACE, SL_ACT_RETRY},    {SL_EDISK, SL_ACT_RETRY},
        {SL_ENOMEM, SL_ACT_RETRY},      {SL_ENOTLEADER, SL_ACT_REFRESH},
        {SL_ECONFLICT, SL_ACT_REFRESH}, {SL_EINVAL, SL_ACT_PERMANENT},
        {SL_ENOENT, SL_ACT_PERMANENT},  {SL_ECORRUPT, SL_ACT_PERMANENT},
        {SL_ETRUNC, SL_ACT_PERMANENT},  {SL_EFORMAT, SL_ACT_PERMANENT},
        {SL_ELIMIT, SL_ACT_PERMANENT},  {SL_ESTATE, SL_ACT_PERMANENT},
        {SL_EEXIST, SL_ACT_PERMANENT},  {-12345, SL_ACT_PERMANENT},
        {7, SL_ACT_PERMANENT},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        if (sl_err_action_of(want[i].err) != want[i].act)
            fail_msg("%d (%s): action %d, want %d", want[i].err, sluice_strerror(want[i].err),
                     (int)sl_err_action_of(want[i].err), (int)want[i].act);
    }
    /* every code from SL_EINVAL down is listed above: a new code must be classified */
    for (int e = SL_EINVAL; e >= SL_EDISK; e--)
        assert_string_not_equal(sluice_strerror(e), "unknown error");
    assert_string_equal(sluice_strerror(SL_EDISK - 1), "unknown error");
}

static void test_fail(void **s)
{
    (void)s;
    char err[16];
    assert_int_equal(sl_fail(err, sizeof err, SL_ENOENT, "no %s %d", "segment", 7), SL_ENOENT);
    assert_string_equal(err, "no segment 7");
    /* cut to fit, always terminated */
    assert_int_equal(sl_fail(err, sizeof err, SL_EINVAL, "%s", "0123456789abcdefghij"), SL_EINVAL);
    assert_string_equal(err, "0123456789abcde");
    /* no buffer: only the code */
    assert_int_equal(sl_fail(NULL, 0, SL_ELIMIT, "x"), SL_ELIMIT);
    err[0] = 'q';
    assert_int_equal(sl_fail(err, 0, SL_EIO, "not written"), SL_EIO);
    assert_int_equal(err[0], 'q');
    assert_int_equal(sl_fail(err, sizeof err, 0, "ok"), 0);
    assert_string_equal(err, "ok");
}

static void test_fail_at(void **s)
{
    (void)s;
    char err[128];
    assert_int_equal(sl_fail_at(err, sizeof err, SL_EINVAL, "t.json", "segmentsConfig.replication",
                                "expected an integer in [1, %d]", 16),
                     SL_EINVAL);
    assert_string_equal(err, "t.json: segmentsConfig.replication: expected an integer in [1, 16]");
    assert_int_equal(sl_fail_at(err, sizeof err, SL_EINVAL, NULL, "schemaName", "missing"),
                     SL_EINVAL);
    assert_string_equal(err, "schemaName: missing");
    char small[8];
    assert_int_equal(sl_fail_at(small, sizeof small, SL_ECORRUPT, "src", "key", "why"),
                     SL_ECORRUPT);
    assert_string_equal(small, "src: ke");
    assert_int_equal(sl_fail_at(NULL, 0, SL_EIO, "src", "key", "why"), SL_EIO);
}

static void test_backoff(void **s)
{
    (void)s;
    sl_backoff b = {0};
    assert_true(sl_backoff_due(&b, 0));
    const uint64_t want[] = {1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000};
    uint64_t now = 5000;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_int_equal(sl_backoff_fail(&b, now, 0, 0), want[i]);
        assert_false(sl_backoff_due(&b, now + want[i] - 1));
        assert_true(sl_backoff_due(&b, now + want[i]));
        now += want[i];
    }
    for (int i = 0; i < 100; i++)
        assert_int_equal(sl_backoff_fail(&b, now, 0, 0), 60000);
    sl_backoff_reset(&b);
    assert_true(sl_backoff_due(&b, 0));
    assert_int_equal(sl_backoff_fail(&b, now, 10, 25), 10);
    assert_int_equal(sl_backoff_fail(&b, now, 10, 25), 20);
    assert_int_equal(sl_backoff_fail(&b, now, 10, 25), 25);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_disk_codes), cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_actions),    cmocka_unit_test(test_fail),
        cmocka_unit_test(test_fail_at),    cmocka_unit_test(test_backoff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
