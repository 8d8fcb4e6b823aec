/* Log line formatting; one write(2) per line so lines from threads never interleave. The
 * limiter (sl_log_limit) is a small table under one mutex: lookups are linear over at most
 * SL_LOG_LIMIT_KINDS entries, which is cheap next to the I/O failure being reported. */
#include "common/log.h"
#include "common/clock.h"
#include "common/sl_err.h"
#include "common/xalloc.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

sl_log_level sl_log_threshold = SL_LOG_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

int sl_log_set_level(const char *name)
{
    for (int i = 0; i < (int)(sizeof level_names / sizeof level_names[0]); i++) {
        if (strcmp(name, level_names[i]) == 0) {
            sl_log_threshold = (sl_log_level)i;
            return 0;
        }
    }
    return SL_EINVAL;
}

/* One line: prefix, the formatted message, then suffix (may be NULL). */
static void sl_log__vemit(sl_log_level lvl, const char *sub, const char *suffix, const char *fmt,
                          va_list ap)
{
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s sub=%s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, level_names[lvl], sub);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2) len = sizeof line - 2;
    if (suffix) {
        size_t sl = strlen(suffix);
        if (sl > sizeof line - 2 - len) sl = sizeof line - 2 - len;
        memcpy(line + len, suffix, sl);
        len += sl;
    }
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}

void sl_log__emit(sl_log_level lvl, const char *sub, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sl_log__vemit(lvl, sub, NULL, fmt, ap);
    va_end(ap);
}

/* ---- rate-limited lines ---- */

typedef struct sl_log__kind {
    char kind[SL_LOG_LIMIT_KIND_MAX];
    bool used;
    uint64_t last_ms;    /* when a line of this kind last passed */
    uint64_t suppressed; /* held back since then */
} sl_log__kind;

struct sl_log_limit {
    pthread_mutex_t mu;
    uint64_t interval_ms;
    sl_log__kind k[SL_LOG_LIMIT_KINDS];
};

sl_log_limit *sl_log_limit_new(uint64_t interval_ms)
{
    sl_log_limit *l = sl_xcalloc(1, sizeof *l);
    pthread_mutex_init(&l->mu, NULL);
    l->interval_ms = interval_ms ? interval_ms : 60000;
    return l;
}

void sl_log_limit_free(sl_log_limit *l)
{
    if (!l) return;
    pthread_mutex_destroy(&l->mu);
    free(l);
}

/* The entry of kind, or NULL (with *oldest the one to replace, or a free one). Under mu. */
static sl_log__kind *sl_log__find(sl_log_limit *l, const char *kind, sl_log__kind **oldest)
{
    *oldest = NULL;
    for (int i = 0; i < SL_LOG_LIMIT_KINDS; i++) {
        sl_log__kind *e = &l->k[i];
        if (!e->used) {
            if (!*oldest || (*oldest)->used) *oldest = e;
            continue;
        }
        if (strncmp(e->kind, kind, sizeof e->kind - 1) == 0) return e;
        if (!*oldest || ((*oldest)->used && e->last_ms < (*oldest)->last_ms)) *oldest = e;
    }
    return NULL;
}

bool sl_log_limit_pass(sl_log_limit *l, const char *kind, uint64_t now_ms, uint64_t *suppressed)
{
    bool pass;
    pthread_mutex_lock(&l->mu);
    sl_log__kind *slot, *e = sl_log__find(l, kind, &slot);
    if (!e) {
        e = slot;
        memset(e, 0, sizeof *e);
        snprintf(e->kind, sizeof e->kind, "%s", kind);
        e->used = true;
        pass = true;
    } else {
        pass = now_ms - e->last_ms >= l->interval_ms || now_ms < e->last_ms;
    }
    if (pass) {
        if (suppressed) *suppressed = e->suppressed;
        e->suppressed = 0;
        e->last_ms = now_ms;
    } else {
        e->suppressed++;
    }
    pthread_mutex_unlock(&l->mu);
    return pass;
}

void sl_log_limit_reset(sl_log_limit *l, const char *kind)
{
    pthread_mutex_lock(&l->mu);
    sl_log__kind *slot, *e = sl_log__find(l, kind, &slot);
    if (e) e->used = false;
    pthread_mutex_unlock(&l->mu);
}

void sl_log__limited(sl_log_limit *l, const char *kind, sl_log_level lvl, const char *sub,
                     const char *fmt, ...)
{
    uint64_t held = 0;
    if (!sl_log_limit_pass(l, kind, (uint64_t)sl_clock_mono_ms(), &held)) return;
    char suffix[SL_LOG_LIMIT_KIND_MAX + 64];
    int n = snprintf(suffix, sizeof suffix, " kind=%s", kind);
    if (held && n > 0 && (size_t)n < sizeof suffix)
        snprintf(suffix + n, sizeof suffix - (size_t)n, " suppressed=%" PRIu64, held);
    va_list ap;
    va_start(ap, fmt);
    sl_log__vemit(lvl, sub, suffix, fmt, ap);
    va_end(ap);
}
