/* Disk state of one process: environmental file-system failures, as /health and /metrics show.
 *
 * A full or failing disk is not the data's fault: builds, publishes, downloads and uploads that
 * hit it keep what they were writing and retry with a backoff (sl_backoff), and they report
 * each failure here. The state is OK, FULL (SL_ENOSPACE: ENOSPC, EDQUOT) or FAILING (any other
 * failure of a local write: SL_EDISK for EIO/EROFS, SL_EIO, ...); it leaves OK at the first
 * failure ("since" is kept while the condition lasts) and returns to OK at the next write that
 * succeeds. Metrics: sluice_disk_errors_total{op,kind} (kind "enospc", "eio" or "other") and
 * sluice_disk_full (1 while FULL). Failures are logged through a limiter, one line per
 * "<op>.<kind>" per minute, so a retry loop never floods the log.
 *
 * Threads: every function may be called from any thread (one mutex). */
#ifndef SL_DISKSTATE_H
#define SL_DISKSTATE_H

#include "common/jsonw.h"
#include "common/log.h"
#include "common/metrics.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct diskstate diskstate;

typedef enum diskstate_state {
    DISKSTATE_OK = 0,
    DISKSTATE_FULL,
    DISKSTATE_FAILING
} diskstate_state;

/* A new tracker in state OK, registering its metrics in m (borrowed; NULL = no metrics).
 * Caller frees with diskstate_free. */
diskstate *diskstate_new(metrics_registry *m);
void diskstate_free(diskstate *d);

/* The metric label of an error: "enospc" (SL_ENOSPACE), "eio" (SL_EDISK) or "other". */
const char *diskstate_kind(int err);

/* A local write of op ("build", "publish", "download", "upload") on subject (a segment name;
 * may be NULL) failed with err, text what (may be NULL), at now_ms (epoch ms). Counts it,
 * enters FULL or FAILING, and logs one rate-limited line. NULL is a no-op. */
void diskstate_fail(diskstate *d, const char *op, const char *subject, int err, const char *what,
                    uint64_t now_ms);

/* A write of op succeeded at now_ms: the condition, if any, is over (logged once). NULL is a
 * no-op. */
void diskstate_ok(diskstate *d, const char *op, uint64_t now_ms);

/* Current state (DISKSTATE_OK for NULL). */
diskstate_state diskstate_get(diskstate *d);

/* The disk object for /health, e.g. {"state":"full","since":"2024-05-01T10:00:00.000Z",
 * "sinceMs":1714557600000,"op":"build","errors":3,"lastError":"..."} ({"state":"ok"} while
 * OK, also for NULL). Returns true when the state is not OK. */
bool diskstate_json(diskstate *d, jsonw *w);

/* The limiter d logs through, for related lines of its callers (owned by d; never NULL for a
 * non-NULL d). */
sl_log_limit *diskstate_log_limit(diskstate *d);

#endif
