/* Disk state tracker (see diskstate.h).
 *
 * Invariant: state == OK exactly when since_ms == 0; errors counts the failures since the
 * condition began. The limiter's kinds are "<op>.<kind>"; when the condition clears they are
 * reset, so a disk that fills again is reported at once rather than up to a minute later. */
#include "common/diskstate.h"
#include "common/sl_err.h"
#include "common/xalloc.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DISKSTATE_OP_MAX 16
#define DISKSTATE_ERR_MAX 384

struct diskstate {
    pthread_mutex_t mu;
    diskstate_state state;
    uint64_t since_ms;
    uint64_t errors;
    char op[DISKSTATE_OP_MAX];
    char last[DISKSTATE_ERR_MAX];
    sl_log_limit *lim;
    metrics_family *m_errors;
    metrics_gauge *m_full;
};

static const char *const diskstate_names[] = {
    [DISKSTATE_OK] = "ok", [DISKSTATE_FULL] = "full", [DISKSTATE_FAILING] = "failing"};

diskstate *diskstate_new(metrics_registry *m)
{
    diskstate *d = sl_xcalloc(1, sizeof *d);
    pthread_mutex_init(&d->mu, NULL);
    d->lim = sl_log_limit_new(0);
    if (m) {
        static const char *const labels[] = {"op", "kind"};
        d->m_errors = metrics_family_new(m, METRICS_COUNTER, "sluice_disk_errors_total",
                                         "Local writes that failed because of the disk (full, "
                                         "I/O error, read-only); each is retried with backoff",
                                         labels, 2);
        metrics_family *full = metrics_family_new(
            m, METRICS_GAUGE, "sluice_disk_full",
            "1 while local writes fail with no space left on device (ENOSPC, EDQUOT)", NULL, 0);
        d->m_full = full ? metrics_gauge_with(full, NULL) : NULL;
    }
    return d;
}

void diskstate_free(diskstate *d)
{
    if (!d) return;
    sl_log_limit_free(d->lim);
    pthread_mutex_destroy(&d->mu);
    free(d);
}

const char *diskstate_kind(int err)
{
    return err == SL_ENOSPACE ? "enospc" : err == SL_EDISK ? "eio" : "other";
}

static void diskstate__iso(uint64_t ms, char *buf, size_t cap)
{
    time_t t = (time_t)(ms / 1000u);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, cap - n, ".%03uZ", (unsigned)(ms % 1000u));
}

void diskstate_fail(diskstate *d, const char *op, const char *subject, int err, const char *what,
                    uint64_t now_ms)
{
    if (!d) return;
    const char *kind = diskstate_kind(err);
    diskstate_state to = err == SL_ENOSPACE ? DISKSTATE_FULL : DISKSTATE_FAILING;
    pthread_mutex_lock(&d->mu);
    bool began = d->state == DISKSTATE_OK;
    if (began) {
        d->since_ms = now_ms ? now_ms : 1;
        d->errors = 0;
    }
    d->state = to;
    d->errors++;
    snprintf(d->op, sizeof d->op, "%s", op);
    snprintf(d->last, sizeof d->last, "%s", what && *what ? what : sluice_strerror(err));
    pthread_mutex_unlock(&d->mu);
    if (d->m_errors) {
        const char *lv[] = {op, kind};
        metrics_counter_add(metrics_counter_with(d->m_errors, lv), 1);
    }
    if (d->m_full) metrics_gauge_set(d->m_full, to == DISKSTATE_FULL);
    char lk[SL_LOG_LIMIT_KIND_MAX];
    snprintf(lk, sizeof lk, "%s.%s", op, kind);
    SL_LOG_LIMITED(d->lim, lk, SL_LOG_ERROR, "disk",
                   "%s failed%s%s err=\"%s\" disk=%s: environmental, retried with backoff "
                   "(nothing is lost, no threshold changes)",
                   op, subject ? " segment=" : "", subject ? subject : "",
                   what && *what ? what : sluice_strerror(err), diskstate_names[to]);
}

void diskstate_ok(diskstate *d, const char *op, uint64_t now_ms)
{
    if (!d) return;
    pthread_mutex_lock(&d->mu);
    if (d->state == DISKSTATE_OK) {
        pthread_mutex_unlock(&d->mu);
        return;
    }
    diskstate_state was = d->state;
    uint64_t since = d->since_ms, errors = d->errors;
    char last_op[DISKSTATE_OP_MAX];
    memcpy(last_op, d->op, sizeof last_op);
    d->state = DISKSTATE_OK;
    d->since_ms = 0;
    d->errors = 0;
    d->last[0] = '\0';
    pthread_mutex_unlock(&d->mu);
    if (d->m_full) metrics_gauge_set(d->m_full, 0);
    static const char *const kinds[] = {"enospc", "eio", "other"};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        char lk[SL_LOG_LIMIT_KIND_MAX];
        snprintf(lk, sizeof lk, "%s.%s", last_op, kinds[i]);
        sl_log_limit_reset(d->lim, lk);
    }
    SL_INFO("disk",
            "%s succeeded: disk %s condition cleared after %" PRIu64 " ms and %" PRIu64
            " failed writes",
            op, diskstate_names[was], now_ms > since ? now_ms - since : 0, errors);
}

diskstate_state diskstate_get(diskstate *d)
{
    if (!d) return DISKSTATE_OK;
    pthread_mutex_lock(&d->mu);
    diskstate_state s = d->state;
    pthread_mutex_unlock(&d->mu);
    return s;
}

bool diskstate_json(diskstate *d, jsonw *w)
{
    jsonw_obj_begin(w);
    jsonw_key(w, "state");
    if (!d) {
        jsonw_cstr(w, diskstate_names[DISKSTATE_OK]);
        jsonw_obj_end(w);
        return false;
    }
    pthread_mutex_lock(&d->mu);
    diskstate_state s = d->state;
    jsonw_cstr(w, diskstate_names[s]);
    if (s != DISKSTATE_OK) {
        char iso[40];
        diskstate__iso(d->since_ms, iso, sizeof iso);
        jsonw_key(w, "since");
        jsonw_cstr(w, iso);
        jsonw_key(w, "sinceMs");
        jsonw_u64(w, d->since_ms);
        jsonw_key(w, "op");
        jsonw_cstr(w, d->op);
        jsonw_key(w, "errors");
        jsonw_u64(w, d->errors);
        jsonw_key(w, "lastError");
        jsonw_cstr(w, d->last);
    }
    pthread_mutex_unlock(&d->mu);
    jsonw_obj_end(w);
    return s != DISKSTATE_OK;
}

sl_log_limit *diskstate_log_limit(diskstate *d)
{
    return d ? d->lim : NULL;
}
