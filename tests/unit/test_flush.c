/* Flush autotune: initial threshold, learning, smoothing, bounds. */
#include "consumer/flush.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

static void test_initial_and_learn(void **state)
{
    (void)state;
    flush_tuner t = {.target_bytes = 200u << 20};
    assert_int_equal(flush_next_rows(&t), FLUSH_INITIAL_ROWS);
    flush_learn(&t, 0, 100); /* ignored */
    assert_int_equal(flush_next_rows(&t), FLUSH_INITIAL_ROWS);
    flush_learn(&t, 100000, 10u << 20); /* 100k rows in 10 MiB -> 2M rows in 200 MiB */
    assert_int_equal(flush_next_rows(&t), 2000000);
    flush_learn(&t, 100000, 20u << 20); /* half the ratio, weighted 0.1 */
    assert_int_equal(flush_next_rows(&t), 1900000);
}

static void test_bounds(void **state)
{
    (void)state;
    flush_tuner t = {.target_bytes = 1000};
    flush_learn(&t, 1, 1000000);
    assert_int_equal(flush_next_rows(&t), FLUSH_MIN_ROWS);
    flush_tuner u = {.target_bytes = 1ull << 40};
    flush_learn(&u, 1000, 1);
    assert_int_equal(flush_next_rows(&u), FLUSH_MAX_ROWS);
    flush_tuner none = {.target_bytes = 0, .rows_per_byte = 0.5};
    assert_int_equal(flush_next_rows(&none), FLUSH_INITIAL_ROWS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_initial_and_learn),
        cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
