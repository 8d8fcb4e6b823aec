/* Error texts and the error -> action map (see sl_err.h). */
#include "common/sl_err.h"

#include <stdio.h>
#include <string.h>

const char *sluice_strerror(int err)
{
    switch ((sl_err)err) {
    case SL_OK: return "success";
    case SL_EINVAL: return "invalid argument or input";
    case SL_ENOMEM: return "resource limit reached";
    case SL_EIO: return "I/O error";
    case SL_ENOENT: return "not found";
    case SL_ECORRUPT: return "corrupt data";
    case SL_ETRUNC: return "truncated data";
    case SL_EFORMAT: return "unsupported format or version";
    case SL_ETIMEDOUT: return "timed out";
    case SL_ETRANSIENT: return "transient failure";
    case SL_ELIMIT: return "limit exceeded";
    case SL_ESTATE: return "illegal in current state";
    case SL_EEXIST: return "already exists";
    case SL_ENOTLEADER: return "not the leader";
    case SL_ECONFLICT: return "concurrent modification";
    case SL_ENOSPACE: return "no space left on device";
    case SL_EDISK: return "disk failure (I/O error or read-only file system)";
    }
    return "unknown error";
}

int sl_vfail(char *err, size_t errlen, int code, const char *fmt, va_list ap)
{
    if (err && errlen) vsnprintf(err, errlen, fmt, ap);
    return code;
}

int sl_fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sl_vfail(err, errlen, code, fmt, ap);
    va_end(ap);
    return code;
}

int sl_vfail_at(char *err, size_t errlen, int code, const char *source, const char *key,
                const char *fmt, va_list ap)
{
    if (!err || !errlen) return code;
    char why[512];
    vsnprintf(why, sizeof why, fmt, ap);
    if (source)
        snprintf(err, errlen, "%s: %s: %s", source, key, why);
    else
        snprintf(err, errlen, "%s: %s", key, why);
    return code;
}

int sl_fail_at(char *err, size_t errlen, int code, const char *source, const char *key,
               const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sl_vfail_at(err, errlen, code, source, key, fmt, ap);
    va_end(ap);
    return code;
}

int sl_vfail_append(char *err, size_t errlen, int *nerr, const char *source, const char *key,
                    const char *fmt, va_list ap)
{
    if (err && errlen) {
        size_t used = *nerr ? strlen(err) : 0;
        if (used + 2 < errlen) {
            if (*nerr) err[used++] = '\n';
            sl_vfail_at(err + used, errlen - used, SL_EINVAL, source, key, fmt, ap);
        }
    }
    (*nerr)++;
    return SL_EINVAL;
}

int sl_fail_append(char *err, size_t errlen, int *nerr, const char *source, const char *key,
                   const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sl_vfail_append(err, errlen, nerr, source, key, fmt, ap);
    va_end(ap);
    return SL_EINVAL;
}

sl_err_action sl_err_action_of(int err)
{
    switch ((sl_err)err) {
    case SL_OK: return SL_ACT_NONE;
    case SL_ETIMEDOUT:
    case SL_ETRANSIENT:
    case SL_EIO:
    case SL_ENOSPACE:
    case SL_EDISK:
    case SL_ENOMEM: return SL_ACT_RETRY; /* a resource limit, never a failed malloc */
    case SL_ENOTLEADER:
    case SL_ECONFLICT: return SL_ACT_REFRESH;
    case SL_EINVAL:
    case SL_ENOENT:
    case SL_ECORRUPT:
    case SL_ETRUNC:
    case SL_EFORMAT:
    case SL_ELIMIT:
    case SL_ESTATE:
    case SL_EEXIST: return SL_ACT_PERMANENT;
    }
    return SL_ACT_PERMANENT; /* an unknown code: do not loop on it */
}

bool sl_err_is_disk(int err)
{
    return err == SL_ENOSPACE || err == SL_EDISK;
}

bool sl_err_is_deterministic(int err)
{
    return err == SL_ELIMIT || err == SL_EINVAL;
}

uint64_t sl_backoff_fail(sl_backoff *b, uint64_t now_ms, uint64_t base_ms, uint64_t max_ms)
{
    if (!base_ms) base_ms = SL_BACKOFF_BASE_MS;
    if (!max_ms) max_ms = SL_BACKOFF_MAX_MS;
    uint32_t shift = b->failures < 32 ? b->failures : 32;
    uint64_t delay = shift >= 32 || base_ms > (max_ms >> shift) ? max_ms : base_ms << shift;
    if (delay > max_ms) delay = max_ms;
    if (b->failures < UINT32_MAX) b->failures++;
    b->next_ms = now_ms + delay;
    return delay;
}

bool sl_backoff_due(const sl_backoff *b, uint64_t now_ms)
{
    return b->failures == 0 || now_ms >= b->next_ms;
}

void sl_backoff_reset(sl_backoff *b)
{
    b->failures = 0;
    b->next_ms = 0;
}
