/* Clocks: the wall clock and the monotonic clock as numbers, and sleeping.
 *
 * Two clocks, for two jobs. The wall clock (CLOCK_REALTIME) is for times that leave the
 * process or must agree across hosts: segment records, log lines, the wall-clock deadlines of
 * the completion protocol. The monotonic clock (CLOCK_MONOTONIC) is for durations and local
 * timeouts, which must not jump when the wall clock is set. A caller keeps the kind it had.
 * Decision logic takes `now` as an argument and never reads these itself (STYLE.md).
 * @locality: any thread (no state). */
#ifndef SL_CLOCK_H
#define SL_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Wall clock: milliseconds since the Unix epoch (CLOCK_REALTIME). */
uint64_t sl_clock_wall_ms(void);

/* Monotonic clock in milliseconds (CLOCK_MONOTONIC; an arbitrary origin, never goes back).
 * Signed, so that `deadline - now` is negative once the deadline has passed. */
int64_t sl_clock_mono_ms(void);

/* Monotonic clock in seconds, with nanosecond resolution (durations, rates). */
double sl_clock_mono_s(void);

/* The absolute time ms (milliseconds of whichever clock the caller means) as a timespec, for
 * pthread_cond_timedwait: sl_clock_ts(sl_clock_mono_ms() + 500) for a condition variable on
 * CLOCK_MONOTONIC (pthread_condattr_setclock), sl_clock_ts(sl_clock_wall_ms() + 500) for the
 * default CLOCK_REALTIME one. A negative ms gives the epoch (a wait that ends at once). */
struct timespec sl_clock_ts(int64_t ms);

/* Sleep ms milliseconds of the monotonic clock (nothing for ms <= 0); a signal does not end
 * the sleep early. */
void sl_clock_sleep_ms(int64_t ms);

#endif
