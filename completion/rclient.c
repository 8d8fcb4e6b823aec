/* The completion client's link to the leading controller (rclient.h). */
#include "completion/rclient.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/sl_err.h"
#include "common/xalloc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RCLIENT_TIMEOUT_MS 12000
#define RCLIENT_EXTEND_S 120

struct rclient {
    rclient_opts o;
    pthread_mutex_t mu;
    char leader[512]; /* guarded by mu */
};

rclient *rclient_new(const rclient_opts *o)
{
    rclient *c = sl_xcalloc(1, sizeof *c);
    c->o = *o;
    pthread_mutex_init(&c->mu, NULL);
    return c;
}

void rclient_free(rclient *c)
{
    if (!c) return;
    pthread_mutex_destroy(&c->mu);
    free(c);
}

void rclient_leader(rclient *c, char *out, size_t cap)
{
    pthread_mutex_lock(&c->mu);
    snprintf(out, cap, "%s", c->leader);
    pthread_mutex_unlock(&c->mu);
}

/* Take hint (a NOT_LEADER reply's URL) as the leader, or ask ZooKeeper when there is none. */
static void rclient__refresh(rclient *c, const char *hint)
{
    char *url = NULL;
    if (!hint || !hint[0]) hint = url = c->o.peek(c->o.ctx);
    pthread_mutex_lock(&c->mu);
    int n = snprintf(c->leader, sizeof c->leader, "%s", hint ? hint : "");
    bool too_long = n < 0 || (size_t)n >= sizeof c->leader;
    if (too_long) c->leader[0] = '\0'; /* a cut URL could name another host: know no leader */
    pthread_mutex_unlock(&c->mu);
    if (too_long)
        SL_WARN("replica", "leader URL longer than %zu bytes ignored", sizeof c->leader - 1);
    free(url);
}

int rclient_call(rclient *c, httpc *h, rpc_method m, const rpc_req *rq, rpc_resp *rs)
{
    for (int attempt = 0; attempt < 3 && !atomic_load(c->o.stop); attempt++) {
        char url[512];
        rclient_leader(c, url, sizeof url);
        if (!url[0]) {
            rclient__refresh(c, NULL);
            rclient_leader(c, url, sizeof url);
            if (!url[0]) {
                sl_clock_sleep_ms(500);
                continue;
            }
        }
        int rc = rpc_call(h, url, m, rq, RCLIENT_TIMEOUT_MS, rs);
        if (rc == 0 && rs->status == RPC_STATUS_NOT_LEADER) {
            rclient__refresh(c, rs->leader_url);
            continue;
        }
        if (rc == 0) return 0;
        SL_WARN("replica", "rpc %s failed: %s", rpc_method_name(m), rs->message);
        sl_err_action act = sl_err_action_of(rc);
        if (act == SL_ACT_PERMANENT) return rc;
        rclient__refresh(c, NULL);
        if (act == SL_ACT_RETRY) sl_clock_sleep_ms(500); /* REFRESH: the new leader at once */
    }
    return SL_ETRANSIENT;
}

/* ---- the build-time lease ------------------------------------------------------------ */

struct rclient_lease {
    rclient *c;
    rpc_req rq;
    int32_t budget_s;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    pthread_t thread;
};

static void *rclient__lease_main(void *arg)
{
    rclient_lease *l = arg;
    httpc *h = httpc_new();
    httpc_set_bearer(h, l->c->o.token);
    httpc_set_tls(h, l->c->o.tls_ca_file, l->c->o.tls_cert_file, l->c->o.tls_key_file);
    int32_t left = l->budget_s > 0 ? l->budget_s : RCLIENT_EXTEND_S;
    pthread_mutex_lock(&l->mu);
    while (!l->done) {
        /* wake at 90% of what is left */
        struct timespec ts = sl_clock_ts((int64_t)sl_clock_wall_ms() + (int64_t)left * 900);
        if (pthread_cond_timedwait(&l->cv, &l->mu, &ts) == 0 || l->done) continue;
        pthread_mutex_unlock(&l->mu);
        rpc_req rq = l->rq;
        rq.extra_seconds = RCLIENT_EXTEND_S;
        rpc_resp rs;
        if (rclient_call(l->c, h, RPC_EXTEND_BUILD_TIME, &rq, &rs) == 0 &&
            rs.status == RPC_STATUS_PROCESSED) {
            left = rs.build_seconds;
            SL_INFO("replica", "build time extended segment=%s seconds_left=%d", rq.segment, left);
        } else {
            left = RCLIENT_EXTEND_S; /* try again later; the controller decides */
        }
        pthread_mutex_lock(&l->mu);
    }
    pthread_mutex_unlock(&l->mu);
    httpc_free(h);
    return NULL;
}

rclient_lease *rclient_lease_start(rclient *c, const rpc_req *rq, int32_t budget_s)
{
    rclient_lease *l = sl_xcalloc(1, sizeof *l);
    l->c = c;
    l->rq = *rq;
    l->budget_s = budget_s;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    if (pthread_create(&l->thread, NULL, rclient__lease_main, l) == 0) return l;
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    free(l);
    return NULL;
}

void rclient_lease_end(rclient_lease *l)
{
    if (!l) return;
    pthread_mutex_lock(&l->mu);
    l->done = true;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->thread, NULL);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    free(l);
}
