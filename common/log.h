/* Logging keyed by subsystem: `ts level=... sub=... msg key=value ...` lines on stderr.
 *
 * SL_LOG checks the level before any formatting, so a disabled line costs one compare.
 * The level is process-wide configuration (set once at start), not mutable state. */
#ifndef SL_LOG_H
#define SL_LOG_H

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
#define SL_ERROR(sub, ...) SL_LOG(SL_LOG_ERROR, sub, __VA_ARGS__)
#define SL_WARN(sub, ...) SL_LOG(SL_LOG_WARN, sub, __VA_ARGS__)
#define SL_INFO(sub, ...) SL_LOG(SL_LOG_INFO, sub, __VA_ARGS__)
#define SL_DEBUG(sub, ...) SL_LOG(SL_LOG_DEBUG, sub, __VA_ARGS__)

#endif
