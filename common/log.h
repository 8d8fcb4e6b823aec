/* Logging keyed by subsystem: `ts level=... sub=... msg key=value ...` lines on stderr.
 *
 * SL_LOG checks the level before any formatting, so a disabled line costs one compare.
 * The level is process-wide configuration (set once at start), not mutable state.
 *
 * A condition that repeats while it is retried (a full disk, a failing download) is logged
 * through a limiter (SL_LOG_LIMITED): one line per kind per interval, the next one saying how
 * many were held back, so a retry loop cannot flood the log. */
#ifndef SL_LOG_H
#define SL_LOG_H

#include <stdbool.h>
#include <stdint.h>

typedef enum sl_log_level { SL_LOG_ERROR = 0, SL_LOG_WARN, SL_LOG_INFO, SL_LOG_DEBUG } sl_log_level;

extern sl_log_level sl_log_threshold;

/* Set the threshold; "error", "warn", "info" or "debug". Returns 0 or SL_EINVAL. */
int sl_log_set_level(const char *name);

void sl_log__emit(sl_log_level lvl, const char *sub, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define SL_LOG(lvl, sub, ...)                                                                      \
    do {                                                                                           \
        if ((lvl) <= sl_log_threshold) sl_log__emit((lvl), (sub), __VA_ARGS__);                    \
    } while (0)
/* ---- rate-limited lines ----
 * A limiter remembers, per kind (a short string chosen by the caller, e.g. "build.enospc"),
 * when a line of that kind last passed: lines within interval_ms after it are counted instead
 * of written. Up to SL_LOG_LIMIT_KINDS kinds; a new kind beyond that replaces the one that
 * passed longest ago. The owner creates and frees it; any thread may use it (one mutex). */
#define SL_LOG_LIMIT_KINDS 32
#define SL_LOG_LIMIT_KIND_MAX 48 /* longer kinds are compared by their first 47 bytes */
typedef struct sl_log_limit sl_log_limit;

/* A limiter (interval_ms 0 = one minute). Caller frees with sl_log_limit_free. */
sl_log_limit *sl_log_limit_new(uint64_t interval_ms);
void sl_log_limit_free(sl_log_limit *l);

/* Whether a line of kind may be written at now_ms (monotonic ms). When it may, *suppressed
 * (may be NULL) gets how many lines of that kind were held back since the last one. */
bool sl_log_limit_pass(sl_log_limit *l, const char *kind, uint64_t now_ms, uint64_t *suppressed);

/* Forget kind: its next line passes at once (a condition that cleared and may come back). */
void sl_log_limit_reset(sl_log_limit *l, const char *kind);

void sl_log__limited(sl_log_limit *l, const char *kind, sl_log_level lvl, const char *sub,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* SL_LOG through limiter l (never NULL) under kind: the line gets " kind=K" and, when lines
 * were held back, " suppressed=N" appended. */
#define SL_LOG_LIMITED(l, kind, lvl, sub, ...)                                                     \
    do {                                                                                           \
        if ((lvl) <= sl_log_threshold) sl_log__limited((l), (kind), (lvl), (sub), __VA_ARGS__);   \
    } while (0)

#define SL_ERROR(sub, ...) SL_LOG(SL_LOG_ERROR, sub, __VA_ARGS__)
#define SL_WARN(sub, ...) SL_LOG(SL_LOG_WARN, sub, __VA_ARGS__)
#define SL_INFO(sub, ...) SL_LOG(SL_LOG_INFO, sub, __VA_ARGS__)
#define SL_DEBUG(sub, ...) SL_LOG(SL_LOG_DEBUG, sub, __VA_ARGS__)

#endif
