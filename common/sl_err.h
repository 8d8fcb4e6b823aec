/* Error codes shared by every module.
 *
 * One convention everywhere: 0 is success, a negative SL_E* value is an error, and
 * sluice_strerror() gives its text. Each error maps to the action a caller should take
 * (sl_err_action), so retry loops do not grow their own ad-hoc classification. */
#ifndef SL_ERR_H
#define SL_ERR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum sl_err {
    SL_OK = 0,
    SL_EINVAL = -1,    /* bad argument or bad input */
    SL_ENOMEM = -2,    /* resource limit (never malloc failure: that aborts) */
    SL_EIO = -3,       /* read/write/fsync failed */
    SL_ENOENT = -4,    /* no such file / key / segment */
    SL_ECORRUPT = -5,  /* structure or checksum is wrong */
    SL_ETRUNC = -6,    /* input ends early */
    SL_EFORMAT = -7,   /* unsupported version or feature */
    SL_ETIMEDOUT = -8, /* deadline passed */
    SL_ETRANSIENT = -9, /* temporary failure of a peer; retry */
    SL_ELIMIT = -10,   /* a configured bound was exceeded */
    SL_ESTATE = -11,   /* operation illegal in the current state */
    SL_EEXIST = -12,   /* already exists */
    SL_ENOTLEADER = -13, /* ask the leader instead */
    SL_ECONFLICT = -14,  /* compare-and-set lost */
    SL_ENOSPACE = -15,   /* no space left on the file system (ENOSPC, EDQUOT) */
    SL_EDISK = -16,      /* the file system failed (EIO, EROFS) */
} sl_err;

typedef enum sl_err_action {
    SL_ACT_NONE = 0,
    SL_ACT_RETRY,     /* try the same thing again after a backoff */
    SL_ACT_REFRESH,   /* re-read state (leader, metadata) and retry */
    SL_ACT_PERMANENT, /* this request will never succeed */
    SL_ACT_FATAL,     /* the process cannot continue correctly */
} sl_err_action;

/* The action of each code (sl_err_action_of), the one place retry loops ask:
 *   NONE       SL_OK
 *   RETRY      SL_ETIMEDOUT, SL_ETRANSIENT (a peer or the connection), SL_EIO, SL_ENOSPACE,
 *              SL_EDISK (the environment; sl_err_is_disk tells the disk apart, for a backoff
 *              shared by everything on it), SL_ENOMEM (a resource limit, which frees up)
 *   REFRESH    SL_ENOTLEADER (find the leader again), SL_ECONFLICT (a compare-and-set lost:
 *              read the state again, then retry)
 *   PERMANENT  SL_EINVAL, SL_ENOENT, SL_ECORRUPT, SL_ETRUNC, SL_EFORMAT, SL_ELIMIT, SL_ESTATE,
 *              SL_EEXIST and unknown codes: the same request fails again. SL_ESTATE from a
 *              ZooKeeper handle whose session expired is permanent for that handle; its owner
 *              opens a new one (zk.h).
 *   FATAL      none today: nothing returned by a call leaves the process unable to go on
 *              (allocation failure aborts instead, common/xalloc.h).
 * A caller may know more than the code (a create that lost to another's is a lost
 * compare-and-set; a corrupt download from one source may be fine from the next) and says so
 * where it decides. */
/* Static text for an error code; never NULL. */
const char *sluice_strerror(int err);

/* ---- error messages ----
 * A failing function fills the caller's message buffer and returns its code in one statement:
 *   return sl_fail(err, errlen, SL_EINVAL, "partition %d out of range", p);
 * The text is cut to fit errlen bytes (always NUL-terminated); err may be NULL or errlen 0,
 * then only the code is returned. */
int sl_fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int sl_vfail(char *err, size_t errlen, int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

/* The same for a fault in an input file, naming where it is: "SOURCE: KEY: REASON", or
 * "KEY: REASON" when source is NULL (schema and table-config messages). */
int sl_fail_at(char *err, size_t errlen, int code, const char *source, const char *key,
               const char *fmt, ...) __attribute__((format(printf, 6, 7)));
int sl_vfail_at(char *err, size_t errlen, int code, const char *source, const char *key,
                const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));

/* The same, appended as one more line of err, for a check that reports every fault of an input
 * in one run: *nerr counts the faults so far (0 writes the first line). Returns SL_EINVAL. */
int sl_fail_append(char *err, size_t errlen, int *nerr, const char *source, const char *key,
                   const char *fmt, ...) __attribute__((format(printf, 6, 7)));
int sl_vfail_append(char *err, size_t errlen, int *nerr, const char *source, const char *key,
                    const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));

/* What a caller should do about err (the table above). */
sl_err_action sl_err_action_of(int err);

/* The disk itself is the problem (SL_ENOSPACE, SL_EDISK): environmental, not the data's fault;
 * retry with a backoff once space or the device is back. */
bool sl_err_is_disk(int err);

/* A segment build or publish failed because of the rows themselves (SL_ELIMIT: a bound of the
 * format; SL_EINVAL: inconsistent input): the same rows fail again however often they are
 * retried, so only this kind may shrink a flush threshold. Every other failure (disk full, I/O
 * error, a missing directory, ...) is the environment's and is retried as it is. */
bool sl_err_is_deterministic(int err);

/* Exponential backoff of one retried operation: base, doubling per consecutive failure, capped.
 * The caller owns it (zero-initialised = no failure yet) and passes the time in. */
typedef struct sl_backoff {
    uint32_t failures;   /* consecutive failures so far */
    uint64_t next_ms;    /* no new attempt before this */
} sl_backoff;

#define SL_BACKOFF_BASE_MS 1000u
#define SL_BACKOFF_MAX_MS 60000u

/* Record a failure at now_ms: the next attempt is due after base_ms << (failures - 1), at most
 * max_ms (0s mean SL_BACKOFF_BASE_MS / SL_BACKOFF_MAX_MS). Returns that delay in ms. */
uint64_t sl_backoff_fail(sl_backoff *b, uint64_t now_ms, uint64_t base_ms, uint64_t max_ms);

/* Whether an attempt may be made at now_ms. */
bool sl_backoff_due(const sl_backoff *b, uint64_t now_ms);

/* Success: forget the failures. */
void sl_backoff_reset(sl_backoff *b);

#endif
