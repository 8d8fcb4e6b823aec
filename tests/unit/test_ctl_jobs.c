/* The controller's workers (completion/ctl_jobs.c) on a real HTTP server with ONE thread: a
 * job that blocks does not block the server (another request is answered meanwhile), more
 * jobs than workers all run, each request is woken by its own job only, and stopping the
 * workers cancels the queued jobs (503) while the running ones finish. A bare struct ctl:
 * no ZooKeeper. */
#include "common/clock.h"
#include "completion/ctl_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

/* The jobs of the test wait on a gate the test opens. */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static bool gate_open;
static atomic_int running, ran, freed;

typedef struct tjob {
    char name[32];
    char result[64];
} tjob;

static void tjob_free(void *p)
{
    atomic_fetch_add(&freed, 1);
    free(p);
}

static void tjob_fn(ctl *c, void *arg)
{
    (void)c;
    tjob *j = arg;
    atomic_fetch_add(&running, 1);
    pthread_mutex_lock(&gate_mu);
    while (!gate_open)
        pthread_cond_wait(&gate_cv, &gate_mu);
    pthread_mutex_unlock(&gate_mu);
    snprintf(j->result, sizeof j->result, "%s done", j->name);
    atomic_fetch_add(&ran, 1);
}

static void set_gate(bool open)
{
    pthread_mutex_lock(&gate_mu);
    gate_open = open;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_mu);
}

static void h_health(httpd_req *req, httpd_resp *resp, void *ctx)
{
    (void)req;
    (void)ctx;
    httpd_resp_text(resp, 200, "ok");
}

static void h_job(httpd_req *req, httpd_resp *resp, void *ctx)
{
    ctl *c = ctx;
    tjob *j = NULL;
    switch (ctl__job_take(req, (void **)&j)) {
    case CTL_JOB_PENDING:
        return;
    case CTL_JOB_CANCELLED:
        httpd_resp_text(resp, 503, "cancelled");
        return;
    case CTL_JOB_DONE:
        httpd_resp_text(resp, 200, "%s", j->result);
        tjob_free(j);
        return;
    case CTL_JOB_NONE:
        break;
    }
    j = calloc(1, sizeof *j);
    snprintf(j->name, sizeof j->name, "%s", httpd_req_param(req, "name"));
    if (!ctl__job_submit(c, req, tjob_fn, j, tjob_free)) httpd_resp_text(resp, 503, "stopping");
}

static const httpd_route routes[] = {
    {"GET", "/health", h_health, 0, 0, NULL, HTTPD_PUBLIC},
    {"GET", "/job/{name}", h_job, 0, 0, NULL, HTTPD_PUBLIC},
};

static ctl *C;
static httpd *H;

static int cl_get(const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(httpd_port(H))};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    char buf[256];
    int n =
        snprintf(buf, sizeof buf, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
    assert_int_equal(send(fd, buf, (size_t)n, MSG_NOSIGNAL), n);
    return fd;
}

/* The whole reply (the server closes the connection): status, and the body into body. */
static int cl_reply(int fd, char *body, size_t cap)
{
    char buf[4096];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof buf - 1 && (n = recv(fd, buf + len, sizeof buf - 1 - len, 0)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    close(fd);
    int status = 0;
    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1) return -1;
    const char *b = strstr(buf, "\r\n\r\n");
    snprintf(body, cap, "%s", b ? b + 4 : "");
    return status;
}

static void wait_for(atomic_int *v, int want)
{
    int64_t deadline = sl_clock_mono_ms() + 5000;
    while (atomic_load(v) < want && sl_clock_mono_ms() < deadline)
        usleep(1000);
    assert_int_equal(atomic_load(v), want);
}

static int setup(void **state)
{
    (void)state;
    C = calloc(1, sizeof *C);
    pthread_mutex_init(&C->jobs_mu, NULL);
    pthread_cond_init(&C->jobs_cv, NULL);
    char err[256];
    httpd_opts o = {.threads = 1}; /* one HTTP thread: a handler that blocked would block all */
    H = httpd_start("127.0.0.1", 0, routes, sizeof routes / sizeof routes[0], C, &o, err,
                    sizeof err);
    if (!H) return -1;
    C->http = H;
    return ctl__workers_start(C, err, sizeof err);
}

static int teardown(void **state)
{
    (void)state;
    set_gate(true);
    ctl__workers_stop(C);
    httpd_stop(H);
    pthread_cond_destroy(&C->jobs_cv);
    pthread_mutex_destroy(&C->jobs_mu);
    free(C);
    return 0;
}

/* A job blocks on a worker; the one HTTP thread still answers /health at once; opening the
 * gate answers the job's request with the job's result. */
static void test_blocked_job_does_not_block_http(void **state)
{
    (void)state;
    atomic_store(&running, 0);
    atomic_store(&ran, 0);
    set_gate(false);
    int fd = cl_get("/job/a");
    wait_for(&running, 1);
    int64_t t0 = sl_clock_mono_ms();
    char body[256];
    assert_int_equal(cl_reply(cl_get("/health"), body, sizeof body), 200);
    assert_true(sl_clock_mono_ms() - t0 < 500);
    assert_int_equal(atomic_load(&ran), 0); /* answered while the job was still blocked */
    set_gate(true);
    assert_int_equal(cl_reply(fd, body, sizeof body), 200);
    assert_string_equal(body, "a done");
}

/* More jobs than workers: CTL_WORKERS run at once, the rest wait in the queue; each request
 * gets its own job's result. */
static void test_more_jobs_than_workers(void **state)
{
    (void)state;
    enum { N = CTL_WORKERS + 3 };
    atomic_store(&running, 0);
    atomic_store(&ran, 0);
    set_gate(false);
    int fds[N];
    char path[32], body[256];
    for (int i = 0; i < N; i++) {
        snprintf(path, sizeof path, "/job/j%d", i);
        fds[i] = cl_get(path);
    }
    wait_for(&running, CTL_WORKERS);
    usleep(100000);
    assert_int_equal(atomic_load(&running), CTL_WORKERS); /* the others are queued */
    set_gate(true);
    for (int i = 0; i < N; i++) {
        char want[32];
        snprintf(want, sizeof want, "j%d done", i);
        assert_int_equal(cl_reply(fds[i], body, sizeof body), 200);
        assert_string_equal(body, want);
    }
    assert_int_equal(atomic_load(&ran), N);
}

static void *stop_main(void *arg)
{
    ctl__workers_stop(arg);
    return NULL;
}

/* Stopping: the queued jobs never run and their requests get 503 at once, the running ones
 * finish and answer, every job's memory is freed, and a job submitted afterwards is refused. */
static void test_stop_cancels_queued(void **state)
{
    (void)state;
    enum { N = CTL_WORKERS + 2 };
    atomic_store(&running, 0);
    atomic_store(&ran, 0);
    atomic_store(&freed, 0);
    set_gate(false);
    int fds[N];
    char path[32], body[256];
    for (int i = 0; i < N; i++) {
        snprintf(path, sizeof path, "/job/s%d", i);
        fds[i] = cl_get(path);
        if (i < CTL_WORKERS) wait_for(&running, i + 1); /* the first ones are the running ones */
    }
    usleep(100000); /* the last two are queued */
    pthread_t th;
    pthread_create(&th, NULL, stop_main, C);
    for (int i = CTL_WORKERS; i < N; i++) {
        assert_int_equal(cl_reply(fds[i], body, sizeof body), 503);
        assert_string_equal(body, "cancelled");
    }
    assert_int_equal(atomic_load(&ran), 0);
    set_gate(true);
    pthread_join(th, NULL);
    for (int i = 0; i < CTL_WORKERS; i++) {
        assert_int_equal(cl_reply(fds[i], body, sizeof body), 200);
    }
    assert_int_equal(atomic_load(&ran), CTL_WORKERS);
    wait_for(&freed, N);
    assert_int_equal(cl_reply(cl_get("/job/late"), body, sizeof body), 503);
    assert_string_equal(body, "stopping");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blocked_job_does_not_block_http),
        cmocka_unit_test(test_more_jobs_than_workers),
        cmocka_unit_test(test_stop_cancels_queued),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
