/* Clocks: the wall clock agrees with time(2), the monotonic clock never goes back and its ms
 * and s readings agree, sleeping waits at least as long as asked (and not absurdly longer),
 * and sl_clock_ts splits milliseconds into a normalized timespec. */
#include "common/clock.h"

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <time.h>
#include <cmocka.h>

static void test_wall(void **s)
{
    (void)s;
    /* time(2) reads a coarse clock that may lag the precise one by a tick: a second of slack */
    uint64_t before = (uint64_t)time(NULL) * 1000u;
    uint64_t ms = sl_clock_wall_ms();
    uint64_t after = (uint64_t)time(NULL) * 1000u + 2000u;
    assert_true(ms >= before && ms < after);
    assert_true(ms > UINT64_C(1600000000000)); /* after 2020: milliseconds, not seconds */
}

static void test_mono(void **s)
{
    (void)s;
    int64_t prev = sl_clock_mono_ms();
    for (int i = 0; i < 100000; i++) {
        int64_t now = sl_clock_mono_ms();
        assert_true(now >= prev);
        prev = now;
    }
    double a = sl_clock_mono_s();
    int64_t m = sl_clock_mono_ms();
    double b = sl_clock_mono_s();
    assert_true(b >= a);
    /* the same clock: ms within a millisecond of the seconds read around it */
    assert_true((double)m >= a * 1000.0 - 1.0 && (double)m <= b * 1000.0 + 1.0);
}

static void test_sleep(void **s)
{
    (void)s;
    int64_t t0 = sl_clock_mono_ms();
    sl_clock_sleep_ms(50);
    int64_t dt = sl_clock_mono_ms() - t0;
    assert_true(dt >= 50);
    assert_true(dt < 5000); /* a loaded machine is slow, not that slow */
    t0 = sl_clock_mono_ms();
    sl_clock_sleep_ms(0);
    sl_clock_sleep_ms(-5);
    assert_true(sl_clock_mono_ms() - t0 < 1000);
    double s0 = sl_clock_mono_s();
    sl_clock_sleep_ms(1001); /* crosses a second boundary of the deadline arithmetic */
    assert_true(sl_clock_mono_s() - s0 >= 1.0); /* (1.001 less a double's rounding) */
}

static void test_ts(void **s)
{
    (void)s;
    struct timespec ts = sl_clock_ts(1234567);
    assert_int_equal(ts.tv_sec, 1234);
    assert_int_equal(ts.tv_nsec, 567000000L);
    ts = sl_clock_ts(999);
    assert_int_equal(ts.tv_sec, 0);
    assert_int_equal(ts.tv_nsec, 999000000L);
    ts = sl_clock_ts(-7);
    assert_int_equal(ts.tv_sec, 0);
    assert_int_equal(ts.tv_nsec, 0);
    /* a timed wait on a CLOCK_MONOTONIC condition variable ends at the deadline */
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_t cv;
    pthread_cond_init(&cv, &ca);
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    int64_t t0 = sl_clock_mono_ms();
    pthread_mutex_lock(&mu);
    struct timespec until = sl_clock_ts(t0 + 30);
    int rc;
    while ((rc = pthread_cond_timedwait(&cv, &mu, &until)) == 0) {
    }
    pthread_mutex_unlock(&mu);
    int64_t dt = sl_clock_mono_ms() - t0;
    assert_true(dt >= 29 && dt < 5000);
    pthread_cond_destroy(&cv);
    pthread_condattr_destroy(&ca);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wall),
        cmocka_unit_test(test_mono),
        cmocka_unit_test(test_sleep),
        cmocka_unit_test(test_ts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
