/* Error codes: the disk classes, what is deterministic, and the retry backoff schedule. */
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
        cmocka_unit_test(test_disk_codes),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_backoff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
