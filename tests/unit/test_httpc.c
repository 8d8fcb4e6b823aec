/* HTTP client against an in-process common/httpd server on 127.0.0.1 (port 0): GET and POST
 * with Content-Type and Location captured, keep-alive reuse, body cap, streamed PUT of a file
 * much larger than the memory growth allowed (checksummed on the server), streamed download
 * to an fd with its cap and its non-2xx path, timeouts, connection refused, bad URLs, a cancel
 * ending a request that waits on a stalled peer, and the redirect rules: 307/308 re-send POST
 * and PUT bodies, 302 is not followed for POST, 303 turns into GET, loops are bounded, and
 * redirects are off by default. */
#include "common/clock.h"
#include "common/httpc.h"
#include "common/httpd.h"
#include "common/sl_err.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#define BIG_SIZE (4u << 20)     /* served by GET /big */
#define UPLOAD_SIZE (64u << 20) /* uploaded by the streaming test */
#define UPLOAD_CAP (128u << 20)

typedef struct tctx {
    char dir[64];
    char big_path[96];
    char up_path[96];  /* file the client uploads */
    char srv_path[96]; /* where the server writes it */
    char base[64];     /* "http://127.0.0.1:PORT" */
} tctx;

static tctx T;
static httpd *H;

static uint64_t fnv_step(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

#define FNV_INIT 14695981039346656037ull

static uint64_t fnv_file(const char *path, uint64_t *size)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    static uint8_t buf[1 << 16];
    uint64_t h = FNV_INIT, n = 0;
    ssize_t r;
    while ((r = read(fd, buf, sizeof buf)) > 0) {
        h = fnv_step(h, buf, (size_t)r);
        n += (uint64_t)r;
    }
    close(fd);
    *size = n;
    return h;
}

/* A file of n deterministic bytes, written 1 MiB at a time. */
static void make_file(const char *path, uint64_t n, uint32_t seed)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    static uint8_t buf[1 << 20];
    uint32_t x = seed;
    for (uint64_t off = 0; off < n;) {
        size_t k = n - off < sizeof buf ? (size_t)(n - off) : sizeof buf;
        for (size_t i = 0; i < k; i++) {
            x = x * 1664525u + 1013904223u;
            buf[i] = (uint8_t)(x >> 24);
        }
        assert_int_equal(write(fd, buf, k), (ssize_t)k);
        off += k;
    }
    close(fd);
}

static char *url(const char *path)
{
    static char b[256];
    snprintf(b, sizeof b, "%s%s", T.base, path);
    return b;
}

/* ---- server side (no cmocka asserts on server threads) ---- */

static void h_hello(httpd_req *req, httpd_resp *resp, void *ctx)
{
    (void)req;
    (void)ctx;
    httpd_resp_body(resp, 200, "text/plain", "hello", 5, HTTPD_STATIC);
}

/* Echoes the body with the request's Content-Type (routes exist only for POST, PUT, DELETE). */
static void h_echo(httpd_req *req, httpd_resp *resp, void *ctx)
{
    (void)ctx;
    size_t len;
    const void *b = httpd_req_body(req, &len);
    const char *ct = httpd_req_header(req, "content-type");
    httpd_resp_body(resp, 200, ct ? ct : "none", b, len, HTTPD_COPY);
}

static void h_big(httpd_req *req, httpd_resp *resp, void *ctx)
{
    (void)req;
    tctx *t = ctx;
    int fd = open(t->big_path, O_RDONLY);
    if (fd < 0) {
        httpd_resp_text(resp, 500, "open failed");
        return;
    }
    httpd_resp_fd(resp, 200, "application/octet-stream", fd, 0, BIG_SIZE);
}

static void h_status(httpd_req *req, httpd_resp *resp, void *ctx)
{
    (void)ctx;
    unsigned code = (unsigned)atoi(httpd_req_param(req, "code"));
    httpd_resp_text(resp, code, "status %u", code);
}

/* Long-poll that nobody wakes: answers after 3 s. */
static void h_slow(httpd_req *req, httpd_resp *resp, void *ctx)
{
    (void)ctx;
    if (httpd_req_wait(req, 3000)) return;
    httpd_resp_text(resp, 200, "late");
}

/* Redirects: /redir/{code}/{target} answers `code` with Location /{target} (relative), or
 * an absolute URL when target is "abs-echo". */
static void h_redir(httpd_req *req, httpd_resp *resp, void *ctx)
{
    tctx *t = ctx;
    unsigned code = (unsigned)atoi(httpd_req_param(req, "code"));
    const char *target = httpd_req_param(req, "target");
    char loc[160];
    if (strcmp(target, "abs-echo") == 0)
        snprintf(loc, sizeof loc, "%s/echo", t->base);
    else if (strcmp(target, "loop") == 0)
        snprintf(loc, sizeof loc, "/redir/%u/loop", code);
    else
        snprintf(loc, sizeof loc, "/%s", target);
    httpd_resp_text(resp, code, "go to %s", loc);
    httpd_resp_header(resp, "Location", loc);
}

typedef struct upload {
    int fd;
    uint64_t n, sum;
    int64_t max_chunk;
} upload;

static void upload_free(void *p)
{
    upload *u = p;
    if (u->fd >= 0) close(u->fd);
    free(u);
}

static int s_upload(httpd_req *req, const void *data, size_t len, httpd_resp *resp, void *ctx)
{
    tctx *t = ctx;
    if (!data) {
        upload *u = calloc(1, sizeof *u);
        u->sum = FNV_INIT;
        u->fd = open(t->srv_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        httpd_req_set_state(req, u, upload_free);
        if (u->fd < 0) {
            httpd_resp_text(resp, 500, "open failed");
            return -1;
        }
        return 0;
    }
    upload *u = httpd_req_state(req);
    for (size_t off = 0; off < len;) {
        ssize_t w = write(u->fd, (const char *)data + off, len - off);
        if (w <= 0) {
            httpd_resp_text(resp, 500, "write failed");
            return -1;
        }
        off += (size_t)w;
    }
    u->sum = fnv_step(u->sum, data, len);
    u->n += len;
    return 0;
}

static void h_upload_done(httpd_req *req, httpd_resp *resp, void *ctx)
{
    (void)ctx;
    upload *u = httpd_req_state(req);
    const char *ct = httpd_req_header(req, "content-type");
    httpd_resp_text(resp, 201, "{\"size\":%llu,\"sum\":%llu,\"type\":\"%s\"}",
                    (unsigned long long)u->n, (unsigned long long)u->sum, ct ? ct : "");
}

/* A non-leader: redirects the upload before reading its body. */
static int s_upload_redirect(httpd_req *req, const void *data, size_t len, httpd_resp *resp,
                             void *ctx)
{
    (void)req;
    (void)len;
    (void)ctx;
    if (data) return 0;
    httpd_resp_text(resp, 307, "ask the leader");
    httpd_resp_header(resp, "Location", "/upload");
    return -1;
}

static void h_never(httpd_req *req, httpd_resp *resp, void *ctx)
{
    (void)req;
    (void)ctx;
    httpd_resp_text(resp, 500, "stream callback should have answered");
}

static const httpd_route routes[] = {
    {"GET", "/hello", h_hello, 0, 0, NULL, HTTPD_PUBLIC},
    {"POST", "/echo", h_echo, 1 << 20, 0, NULL, HTTPD_PUBLIC},
    {"PUT", "/echo", h_echo, 1 << 20, 0, NULL, HTTPD_PUBLIC},
    {"DELETE", "/echo", h_echo, 0, 0, NULL, HTTPD_PUBLIC},
    {"GET", "/big", h_big, 0, 0, NULL, HTTPD_PUBLIC},
    {"GET", "/status/{code}", h_status, 0, 0, NULL, HTTPD_PUBLIC},
    {"GET", "/slow", h_slow, 0, 0, NULL, HTTPD_PUBLIC},
    {"GET", "/redir/{code}/{target}", h_redir, 0, 0, NULL, HTTPD_PUBLIC},
    {"POST", "/redir/{code}/{target}", h_redir, 1 << 20, 0, NULL, HTTPD_PUBLIC},
    {"PUT", "/upload", h_upload_done, UPLOAD_CAP, HTTPD_STREAM_BODY, s_upload, HTTPD_PUBLIC},
    {"PUT", "/upload-elsewhere", h_never, UPLOAD_CAP, HTTPD_STREAM_BODY, s_upload_redirect,
     HTTPD_PUBLIC},
};

/* ---- tests ---- */

static void test_get_and_post(void **state)
{
    (void)state;
    httpc *c = httpc_new();
    httpc_resp r;
    httpc_resp_init(&r, 0);
    assert_int_equal(httpc_request(c, "GET", url("/hello"), NULL, NULL, 0, 5000, &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, 5);
    assert_string_equal(r.body, "hello");
    assert_string_equal(r.content_type, "text/plain");
    assert_string_equal(r.url, url("/hello"));

    const char body[] = "{\"k\":\"v\"}\0binary";
    assert_int_equal(
        httpc_request(c, "POST", url("/echo"), "application/x-test", body, sizeof body, 5000, &r),
        0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, sizeof body);
    assert_memory_equal(r.body, body, sizeof body);
    assert_string_equal(r.content_type, "application/x-test");

    /* PUT and DELETE with in-memory bodies use their own method; no type means none sent. */
    assert_int_equal(httpc_request(c, "PUT", url("/echo"), NULL, "abc", 3, 5000, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "abc");
    assert_string_equal(r.content_type, "none");
    assert_int_equal(httpc_request(c, "DELETE", url("/echo"), NULL, NULL, 0, 5000, &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, 0);

    /* Keep-alive: all of the above went over one connection. */
    assert_int_equal(httpc_connections_opened(c), 1);

    /* Statuses are not errors; an unknown path is an ordinary 404 reply. */
    assert_int_equal(httpc_request(c, "GET", url("/nowhere"), NULL, NULL, 0, 5000, &r), 0);
    assert_int_equal(r.status, 404);
    /* HEAD gets no body. */
    assert_int_equal(httpc_request(c, "HEAD", url("/hello"), NULL, NULL, 0, 5000, &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, 0);
    httpc_resp_free(&r);
    httpc_free(c);
}

static void test_bad_requests(void **state)
{
    (void)state;
    httpc *c = httpc_new();
    httpc_resp r;
    httpc_resp_init(&r, 0);
    assert_int_equal(httpc_request(c, "GET", url("/hello"), NULL, "x", 1, 5000, &r), SL_EINVAL);
    assert_int_equal(httpc_request(c, "GET", "ftp://127.0.0.1/x", NULL, NULL, 0, 5000, &r),
                     SL_EINVAL);
    assert_true(r.error[0] != '\0');
    assert_int_equal(httpc_request(c, "GET", "http://[::1", NULL, NULL, 0, 5000, &r), SL_EINVAL);
    char longurl[HTTPC_LOCATION_MAX + 10];
    memset(longurl, 'a', sizeof longurl - 1);
    memcpy(longurl, "http://", 7);
    longurl[sizeof longurl - 1] = '\0';
    assert_int_equal(httpc_request(c, "GET", longurl, NULL, NULL, 0, 5000, &r), SL_EINVAL);
    httpc_resp_free(&r);
    httpc_free(c);
}

static void test_body_cap(void **state)
{
    (void)state;
    httpc *c = httpc_new();
    httpc_resp r;
    httpc_resp_init(&r, 1000);
    assert_int_equal(httpc_request(c, "GET", url("/big"), NULL, NULL, 0, 5000, &r), SL_ELIMIT);
    assert_int_equal(r.status, 200);
    assert_true(r.len <= 1000);
    assert_non_null(strstr(r.error, "cap"));
    /* Exactly at the cap is fine; one more is not. */
    char body[1001];
    memset(body, 'z', sizeof body);
    assert_int_equal(httpc_request(c, "POST", url("/echo"), NULL, body, 1000, 5000, &r), 0);
    assert_int_equal(r.len, 1000);
    assert_int_equal(httpc_request(c, "POST", url("/echo"), NULL, body, 1001, 5000, &r), SL_ELIMIT);
    /* The client still works after an aborted transfer. */
    assert_int_equal(httpc_request(c, "GET", url("/hello"), NULL, NULL, 0, 5000, &r), 0);
    assert_string_equal(r.body, "hello");
    httpc_resp_free(&r);
    httpc_free(c);
}

static long maxrss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static void test_put_file_streams(void **state)
{
    (void)state;
    make_file(T.up_path, UPLOAD_SIZE, 7);
    uint64_t size, sum = fnv_file(T.up_path, &size);
    assert_int_equal(size, UPLOAD_SIZE);

    httpc *c = httpc_new();
    httpc_resp r;
    httpc_resp_init(&r, 0);
    long rss0 = maxrss_kib();
    int64_t t0 = sl_clock_mono_ms();
    assert_int_equal(httpc_put_file(c, url("/upload"), T.up_path, 60000, &r), 0);
    int64_t dt = sl_clock_mono_ms() - t0;
    long grew = maxrss_kib() - rss0;
    assert_int_equal(r.status, 201);
    char want[160];
    snprintf(want, sizeof want, "{\"size\":%u,\"sum\":%llu,\"type\":\"application/octet-stream\"}",
             UPLOAD_SIZE, (unsigned long long)sum);
    assert_string_equal(r.body, want);
    uint64_t ssize, ssum = fnv_file(T.srv_path, &ssize);
    assert_int_equal(ssize, UPLOAD_SIZE);
    assert_true(ssum == sum);
    /* 64 MiB went through; neither side held it in memory. */
    assert_true(grew < 16 * 1024);
    fprintf(stderr, "# put_file: %u MiB in %lld ms, max RSS grew %ld KiB\n", UPLOAD_SIZE >> 20,
            (long long)dt, grew);

    /* Missing file, and a directory. */
    assert_int_equal(httpc_put_file(c, url("/upload"), "/nonexistent/x.seg", 5000, &r), SL_ENOENT);
    assert_int_equal(httpc_put_file(c, url("/upload"), T.dir, 5000, &r), SL_EIO);
    httpc_resp_free(&r);
    httpc_free(c);
}

static void test_put_file_redirect(void **state)
{
    (void)state;
    make_file(T.up_path, 3u << 20, 11);
    uint64_t size, sum = fnv_file(T.up_path, &size);
    httpc *c = httpc_new();
    httpc_resp r;
    httpc_resp_init(&r, 0);
    /* Redirects off: the 307 comes back as is. */
    assert_int_equal(httpc_put_file(c, url("/upload-elsewhere"), T.up_path, 10000, &r), 0);
    assert_int_equal(r.status, 307);
    assert_string_equal(r.location, "/upload");
    /* On: the whole file is sent again, from its start, to the Location. */
    httpc_set_redirects(c, 3);
    assert_int_equal(httpc_put_file(c, url("/upload-elsewhere"), T.up_path, 10000, &r), 0);
    assert_int_equal(r.status, 201);
    assert_int_equal(r.redirects, 1);
    assert_string_equal(r.url, url("/upload"));
    char want[160];
    snprintf(want, sizeof want, "{\"size\":%llu,\"sum\":%llu,", (unsigned long long)size,
             (unsigned long long)sum);
    assert_true(strncmp(r.body, want, strlen(want)) == 0);
    httpc_resp_free(&r);
    httpc_free(c);
}

static void test_get_to_fd(void **state)
{
    (void)state;
    char out[128];
    snprintf(out, sizeof out, "%s/download", T.dir);
    httpc *c = httpc_new();
    httpc_resp r;
    httpc_resp_init(&r, 0);

    int fd = open(out, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(httpc_get_to_fd(c, url("/big"), fd, BIG_SIZE, 10000, &r), 0);
    close(fd);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.downloaded, BIG_SIZE);
    assert_int_equal(r.len, 0); /* nothing of a 2xx body in memory */
    uint64_t n1, n2;
    assert_true(fnv_file(out, &n1) == fnv_file(T.big_path, &n2));
    assert_int_equal(n1, BIG_SIZE);

    /* Over the cap: SL_ELIMIT, at most the cap written. */
    fd = open(out, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_int_equal(httpc_get_to_fd(c, url("/big"), fd, 1u << 20, 10000, &r), SL_ELIMIT);
    struct stat st;
    fstat(fd, &st);
    assert_true(st.st_size <= (1 << 20));
    close(fd);

    /* A 404's body is an error text for the caller, not file content. */
    fd = open(out, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_int_equal(httpc_get_to_fd(c, url("/status/404"), fd, 0, 10000, &r), 0);
    assert_int_equal(r.status, 404);
    assert_int_equal(r.downloaded, 0);
    assert_string_equal(r.body, "status 404");
    fstat(fd, &st);
    assert_int_equal(st.st_size, 0);
    close(fd);

    /* Through a redirect (GET follows 302 too). */
    httpc_set_redirects(c, 2);
    fd = open(out, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_int_equal(httpc_get_to_fd(c, url("/redir/302/big"), fd, 0, 10000, &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.redirects, 1);
    assert_int_equal(r.downloaded, BIG_SIZE);
    fstat(fd, &st);
    assert_int_equal(st.st_size, BIG_SIZE);
    close(fd);

    /* A bad fd, and an fd that cannot be written (read-only). */
    assert_int_equal(httpc_get_to_fd(c, url("/big"), -1, 0, 10000, &r), SL_EINVAL);
    fd = open(out, O_RDONLY);
    assert_int_equal(httpc_get_to_fd(c, url("/big"), fd, 0, 10000, &r), SL_EIO);
    close(fd);

    /* A full disk (/dev/full: every write is ENOSPC) is SL_ENOSPACE, so the caller backs off
     * instead of reporting an I/O error. */
    fd = open("/dev/full", O_WRONLY);
    if (fd >= 0) {
        assert_int_equal(httpc_get_to_fd(c, url("/big"), fd, 0, 10000, &r), SL_ENOSPACE);
        assert_non_null(strstr(r.error, "No space left on device"));
        close(fd);
    }
    httpc_resp_free(&r);
    httpc_free(c);
}

static void test_timeout_and_refused(void **state)
{
    (void)state;
    httpc *c = httpc_new();
    httpc_resp r;
    httpc_resp_init(&r, 0);
    int64_t t0 = sl_clock_mono_ms();
    assert_int_equal(httpc_request(c, "GET", url("/slow"), NULL, NULL, 0, 300, &r), SL_ETIMEDOUT);
    int64_t dt = sl_clock_mono_ms() - t0;
    assert_true(dt >= 250 && dt < 2000);
    /* The same client goes on working (a new connection replaces the abandoned one). */
    assert_int_equal(httpc_request(c, "GET", url("/hello"), NULL, NULL, 0, 5000, &r), 0);
    assert_int_equal(r.status, 200);

    /* A port nobody listens on: bind one, close it, connect. */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &sl), 0);
    close(s);
    char dead[64];
    snprintf(dead, sizeof dead, "http://127.0.0.1:%u/hello", ntohs(sa.sin_port));
    assert_int_equal(httpc_request(c, "GET", dead, NULL, NULL, 0, 5000, &r), SL_ETRANSIENT);
    assert_int_equal(r.status, 0);
    assert_true(r.error[0] != '\0');
    httpc_resp_free(&r);
    httpc_free(c);
}

static void *cancel_later(void *arg)
{
    sl_clock_sleep_ms(200);
    atomic_store((_Atomic bool *)arg, true);
    return NULL;
}

/* A cancel ends a request that waits on a stalled peer well before its deadline. */
static void test_cancel(void **state)
{
    (void)state;
    httpc *c = httpc_new();
    _Atomic bool stop = false;
    httpc_set_cancel(c, &stop);
    httpc_resp r;
    httpc_resp_init(&r, 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, cancel_later, &stop), 0);
    int64_t t0 = sl_clock_mono_ms();
    assert_int_equal(httpc_request(c, "GET", url("/slow"), NULL, NULL, 0, 10000, &r), SL_ESTATE);
    int64_t dt = sl_clock_mono_ms() - t0;
    pthread_join(t, NULL);
    assert_true(dt >= 150 && dt < 2500);
    assert_non_null(strstr(r.error, "cancelled"));
    atomic_store(&stop, false); /* cleared: it works again */
    assert_int_equal(httpc_request(c, "GET", url("/hello"), NULL, NULL, 0, 5000, &r), 0);
    assert_int_equal(r.status, 200);
    httpc_resp_free(&r);
    httpc_free(c);
}

static void test_redirects(void **state)
{
    (void)state;
    httpc *c = httpc_new();
    httpc_resp r;
    httpc_resp_init(&r, 0);
    const char body[] = "{\"tableConfig\":{},\"schema\":{}}";

    /* Off by default: the redirect is the reply. */
    assert_int_equal(httpc_request(c, "POST", url("/redir/307/echo"), "application/json", body,
                                   strlen(body), 5000, &r),
                     0);
    assert_int_equal(r.status, 307);
    assert_string_equal(r.location, "/echo");
    assert_int_equal(r.redirects, 0);

    httpc_set_redirects(c, 4);
    /* 307 and 308, relative and absolute: POST re-sent with its body and type. */
    const char *paths[] = {"/redir/307/echo", "/redir/308/echo", "/redir/307/abs-echo",
                           "/redir/308/abs-echo"};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(httpc_request(c, "POST", url(paths[i]), "application/json", body,
                                       strlen(body), 5000, &r),
                         0);
        assert_int_equal(r.status, 200);
        assert_int_equal(r.redirects, 1);
        assert_string_equal(r.body, body);
        assert_string_equal(r.content_type, "application/json");
        assert_string_equal(r.url, url("/echo"));
    }
    /* 302 for a POST is not followed (curl would turn it into a body-less GET). */
    assert_int_equal(httpc_request(c, "POST", url("/redir/302/echo"), "application/json", body,
                                   strlen(body), 5000, &r),
                     0);
    assert_int_equal(r.status, 302);
    assert_int_equal(r.redirects, 0);
    /* 303 means "see other": GET it. */
    assert_int_equal(httpc_request(c, "POST", url("/redir/303/hello"), "application/json", body,
                                   strlen(body), 5000, &r),
                     0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "hello");
    /* GET follows 301/302. */
    assert_int_equal(httpc_request(c, "GET", url("/redir/301/hello"), NULL, NULL, 0, 5000, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "hello");
    /* A loop stops after the allowed number of hops. */
    assert_int_equal(httpc_request(c, "POST", url("/redir/307/loop"), NULL, "x", 1, 5000, &r),
                     SL_ELIMIT);
    assert_int_equal(r.redirects, 4);
    assert_non_null(strstr(r.error, "redirects"));
    httpc_resp_free(&r);
    httpc_free(c);
}

/* Two clients in one process keep separate handles and connections (no shared state). */
static void test_two_clients(void **state)
{
    (void)state;
    httpc *a = httpc_new(), *b = httpc_new();
    httpc_resp ra, rb;
    httpc_resp_init(&ra, 0);
    httpc_resp_init(&rb, 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(httpc_request(a, "POST", url("/echo"), NULL, "a", 1, 5000, &ra), 0);
        assert_int_equal(httpc_request(b, "POST", url("/echo"), NULL, "bb", 2, 5000, &rb), 0);
        assert_string_equal(ra.body, "a");
        assert_string_equal(rb.body, "bb");
    }
    assert_int_equal(httpc_connections_opened(a), 1);
    assert_int_equal(httpc_connections_opened(b), 1);
    httpc_resp_free(&ra);
    httpc_resp_free(&rb);
    httpc_free(a);
    httpc_free(b);
}

static int setup(void **state)
{
    (void)state;
    snprintf(T.dir, sizeof T.dir, "/tmp/test_httpc.XXXXXX");
    if (!mkdtemp(T.dir)) return -1;
    snprintf(T.big_path, sizeof T.big_path, "%s/big", T.dir);
    snprintf(T.up_path, sizeof T.up_path, "%s/up", T.dir);
    snprintf(T.srv_path, sizeof T.srv_path, "%s/srv", T.dir);
    make_file(T.big_path, BIG_SIZE, 3);
    char err[256];
    H = httpd_start("127.0.0.1", 0, routes, sizeof routes / sizeof routes[0], &T, NULL, err,
                    sizeof err);
    if (!H) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    snprintf(T.base, sizeof T.base, "http://127.0.0.1:%u", httpd_port(H));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    httpd_stop(H);
    const char *names[] = {"big", "up", "srv", "download"};
    char p[128];
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", T.dir, names[i]);
        unlink(p);
    }
    rmdir(T.dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_and_post),
        cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_body_cap),
        cmocka_unit_test(test_put_file_streams),
        cmocka_unit_test(test_put_file_redirect),
        cmocka_unit_test(test_get_to_fd),
        cmocka_unit_test(test_timeout_and_refused),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_redirects),
        cmocka_unit_test(test_two_clients),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
