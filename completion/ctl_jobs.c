/* The controller's workers: CTL_WORKERS threads of its own that run whatever a request needs
 * and an HTTP thread must not wait for (a worker of the HTTP server owns every connection it
 * polls, so a handler that blocks stalls them all, common/httpd.h): the commit (file checks,
 * the ZooKeeper multi-op and its retries), Kafka look-ups, ZooKeeper reads and writes, fsync.
 *
 * A handler hands its work over with ctl__job_submit and returns: the request is parked on the
 * job's own key (no thread held, no hold time) and the worker that ran the job wakes that key
 * only. The handler then runs again, takes the job's memory back with ctl__job_take and
 * answers. Jobs run in the order they were submitted, at most CTL_WORKERS at once.
 *
 * A job's life, under c->jobs_mu:  QUEUED --a worker takes it--> RUNNING --fn returned--> DONE
 *                                  QUEUED --ctl__workers_stop--> CANCELLED (fn never runs)
 * It belongs to its request (the request's httpd state) until the handler takes it in DONE or
 * CANCELLED. A request that ends before (the server stopping, a client gone) leaves it an
 * orphan: a queued one still runs, and whoever finishes with it last frees it. The HTTP server
 * must outlive the workers: ctl_shutdown stops them before httpd_stop. */
#include "completion/ctl_int.h"
#include "common/sl_err.h"
#include "common/xalloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum ctl__job_phase { CTL__QUEUED, CTL__RUNNING, CTL__FINISHED } ctl__job_phase;

struct ctl_job {
    ctl_state_kind kind; /* CTL_STATE_JOB: first, as in every state a handler keeps */
    ctl_job *next;       /* c->jq_head: the queue */
    ctl *c;
    ctl_job_fn fn;
    void *arg; /* the handler's until it takes it; freed with arg_free */
    void (*arg_free)(void *arg);
    ctl__job_phase phase;
    bool cancelled; /* finished without running */
    bool orphan;    /* its request ended: whoever finishes with the job frees it */
    char key[40];   /* the request is parked on this key */
};

static void ctl__job_free(ctl_job *j)
{
    if (j->arg && j->arg_free) j->arg_free(j->arg);
    free(j);
}

/* The request's state free_fn: the request ended without taking the job back. Frees it now
 * unless a worker still has it (queued or running). */
static void ctl__job_orphan(void *state)
{
    ctl_job *j = state;
    ctl *c = j->c;
    pthread_mutex_lock(&c->jobs_mu);
    bool mine = j->phase == CTL__FINISHED;
    j->orphan = true;
    pthread_mutex_unlock(&c->jobs_mu);
    if (mine) ctl__job_free(j);
}

/* Mark j finished (run or cancelled) and wake its request, or free it when it is an orphan.
 * @locks c->jobs_mu (dropped and taken again around the wake) */
static void ctl__job_finish_locked(ctl *c, ctl_job *j)
{
    j->phase = CTL__FINISHED;
    if (j->orphan) {
        ctl__job_free(j);
        return;
    }
    char key[sizeof j->key];
    memcpy(key, j->key, sizeof key); /* j is the request's from here on */
    pthread_mutex_unlock(&c->jobs_mu);
    if (c->http) httpd_wake_key(c->http, key);
    pthread_mutex_lock(&c->jobs_mu);
}

static void *ctl__worker_main(void *arg)
{
    ctl *c = arg;
    pthread_mutex_lock(&c->jobs_mu);
    for (;;) {
        while (!c->jq_head && !c->jobs_stop)
            pthread_cond_wait(&c->jobs_cv, &c->jobs_mu);
        if (c->jobs_stop) break; /* what is still queued is cancelled by ctl__workers_stop */
        ctl_job *j = c->jq_head;
        c->jq_head = j->next;
        if (!c->jq_head) c->jq_tail = NULL;
        j->next = NULL;
        j->phase = CTL__RUNNING;
        pthread_mutex_unlock(&c->jobs_mu);
        j->fn(c, j->arg); /* the arg is the worker's while it runs: nobody else touches it */
        pthread_mutex_lock(&c->jobs_mu);
        ctl__job_finish_locked(c, j);
    }
    pthread_mutex_unlock(&c->jobs_mu);
    return NULL;
}

int ctl__workers_start(ctl *c, char *err, size_t errlen)
{
    for (; c->nworkers < CTL_WORKERS; c->nworkers++)
        if (pthread_create(&c->workers[c->nworkers], NULL, ctl__worker_main, c) != 0) {
            return sl_fail(err, errlen, SL_EIO, "cannot start the controller's worker threads");
        }
    return 0;
}

void ctl__workers_stop(ctl *c)
{
    pthread_mutex_lock(&c->jobs_mu);
    c->jobs_stop = true;
    pthread_cond_broadcast(&c->jobs_cv);
    while (c->jq_head) { /* never run: their requests answer 503 */
        ctl_job *j = c->jq_head;
        c->jq_head = j->next;
        j->next = NULL;
        j->cancelled = true;
        ctl__job_finish_locked(c, j);
    }
    c->jq_tail = NULL;
    pthread_mutex_unlock(&c->jobs_mu);
    for (unsigned i = 0; i < c->nworkers; i++)
        pthread_join(c->workers[i], NULL); /* after the job each one has in hand */
    c->nworkers = 0;
}

bool ctl__job_submit(ctl *c, httpd_req *req, ctl_job_fn fn, void *arg, void (*arg_free)(void *arg))
{
    ctl_job *j = sl_xcalloc(1, sizeof *j);
    j->kind = CTL_STATE_JOB;
    j->c = c;
    j->fn = fn;
    j->arg = arg;
    j->arg_free = arg_free;
    pthread_mutex_lock(&c->jobs_mu);
    if (c->jobs_stop || !c->nworkers) {
        pthread_mutex_unlock(&c->jobs_mu);
        ctl__job_free(j);
        return false;
    }
    snprintf(j->key, sizeof j->key, "ctl.job/%" PRIu64, ++c->job_seq);
    j->phase = CTL__QUEUED;
    if (c->jq_tail)
        c->jq_tail->next = j;
    else
        c->jq_head = j;
    c->jq_tail = j;
    pthread_cond_signal(&c->jobs_cv);
    pthread_mutex_unlock(&c->jobs_mu);
    /* parked after the handler returns; a job that finishes before is not lost (httpd runs the
     * handler again at once when its key was woken after this run began) */
    httpd_req_set_state(req, j, ctl__job_orphan);
    httpd_req_wait_key(req, HTTPD_WAIT_FOREVER, j->key);
    return true;
}

ctl_job_state ctl__job_take(httpd_req *req, void **arg)
{
    *arg = NULL;
    ctl_state_kind *kind = httpd_req_state(req); /* the first member of whatever it is */
    if (!kind || *kind != CTL_STATE_JOB) return CTL_JOB_NONE;
    ctl_job *j = (ctl_job *)kind;
    ctl *c = j->c;
    pthread_mutex_lock(&c->jobs_mu);
    bool finished = j->phase == CTL__FINISHED;
    pthread_mutex_unlock(&c->jobs_mu);
    if (!finished) { /* run again early (the server is stopping): park again */
        httpd_req_wait_key(req, HTTPD_WAIT_FOREVER, j->key);
        return CTL_JOB_PENDING;
    }
    httpd_req_set_state(req, NULL, NULL);
    ctl_job_state st = j->cancelled ? CTL_JOB_CANCELLED : CTL_JOB_DONE;
    if (st == CTL_JOB_DONE) {
        *arg = j->arg;
        j->arg = NULL;
    }
    ctl__job_free(j);
    return st;
}

/* ---- replies built on a worker ---- */

typedef struct ctl__reply_job {
    ctl_reply_fn fn;
    void *arg;
    void (*arg_free)(void *arg);
    httpd_resp *out;
} ctl__reply_job;

static void ctl__reply_job_free(void *p)
{
    ctl__reply_job *rj = p;
    if (rj->arg_free) rj->arg_free(rj->arg);
    httpd_resp_free(rj->out);
    free(rj);
}

static void ctl__reply_job_run(ctl *c, void *p)
{
    ctl__reply_job *rj = p;
    rj->out = httpd_resp_new();
    rj->fn(c, rj->arg, rj->out);
}

void ctl__reply_later(ctl *c, httpd_req *req, httpd_resp *resp, ctl_reply_fn fn, void *arg,
                      void (*arg_free)(void *arg))
{
    ctl__reply_job *rj = sl_xcalloc(1, sizeof *rj);
    rj->fn = fn;
    rj->arg = arg;
    rj->arg_free = arg_free;
    if (!ctl__job_submit(c, req, ctl__reply_job_run, rj, ctl__reply_job_free))
        httpd_resp_text(resp, 503, "server stopping\n");
}

bool ctl__reply_ready(httpd_req *req, httpd_resp *resp)
{
    ctl__reply_job *rj = NULL;
    switch (ctl__job_take(req, (void **)&rj)) {
    case CTL_JOB_NONE:
        return false;
    case CTL_JOB_PENDING:
        return true;
    case CTL_JOB_CANCELLED:
        httpd_resp_text(resp, 503, "server stopping\n");
        return true;
    case CTL_JOB_DONE:
        break;
    }
    httpd_resp_move(resp, rj->out);
    rj->out = NULL;
    ctl__reply_job_free(rj);
    return true;
}
