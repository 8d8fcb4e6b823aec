/* Clocks (see clock.h). */
#include "common/clock.h"

#include <errno.h>

static struct timespec sl_clock__now(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts); /* cannot fail for these two clocks */
    return ts;
}

uint64_t sl_clock_wall_ms(void)
{
    struct timespec ts = sl_clock__now(CLOCK_REALTIME);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int64_t sl_clock_mono_ms(void)
{
    struct timespec ts = sl_clock__now(CLOCK_MONOTONIC);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double sl_clock_mono_s(void)
{
    struct timespec ts = sl_clock__now(CLOCK_MONOTONIC);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct timespec sl_clock_ts(int64_t ms)
{
    if (ms < 0) ms = 0;
    return (struct timespec){.tv_sec = (time_t)(ms / 1000),
                             .tv_nsec = (long)(ms % 1000) * 1000000L};
}

void sl_clock_sleep_ms(int64_t ms)
{
    if (ms <= 0) return;
    struct timespec now = sl_clock__now(CLOCK_MONOTONIC);
    int64_t end_ns = (int64_t)now.tv_nsec + (ms % 1000) * 1000000;
    struct timespec until = {.tv_sec =
                                 now.tv_sec + (time_t)(ms / 1000) + (time_t)(end_ns / 1000000000),
                             .tv_nsec = (long)(end_ns % 1000000000)};
    /* an absolute deadline: a signal handler in between does not stretch or cut the sleep */
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR) {
    }
}
