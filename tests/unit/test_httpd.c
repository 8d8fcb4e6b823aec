/* HTTP server: exact routing with path params, percent-decoding and traversal rejection,
 * 404/405, buffered bodies and their cap (Content-Length and chunked), streamed uploads to a
 * file, zero-copy file replies, a blocking handler beside /health, long-poll park/wake/expiry,
 * wake-ups addressed by key (a wake of one key leaves the others parked; a wake that came
 * after the decision to park is not lost), replies built away from their request,
 * cleanup of an aborted upload, start errors, stopping with a parked request, and connection
 * exhaustion: slow-header and idle clients (header deadline), eviction at the connection
 * limit, the per-address limit.
 * The client is raw sockets on 127.0.0.1 with timeouts, so the test never hangs. */
#include "common/clock.h"
#include "common/httpd.h"
#include "common/sl_err.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <setjmp.h>
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

#define ECHO_CAP 1024
#define UPLOAD_CAP (64u << 20)

typedef struct tctx {
    char dir[64];
    char upload_path[96];
    char file_path[96];
    atomic_int slow_entered, slow_done, uploads_freed, handler_calls;
    atomic_size_t max_chunk;
    atomic_bool decided;
    atomic_int key_calls[3]; /* /keyed/k0..k2: handler runs */
    atomic_bool key_decided[3];
    atomic_int open_calls; /* opens of the "parked" and "parkrefuse" streams */
    atomic_bool open_decided;
} tctx;

static tctx T;
static httpd *H;

/* ---- server side ---- */

static void h_health(httpd_req *req, httpd_resp *resp, void *ctx)
{
    (void)req;
    (void)ctx;
    httpd_resp_body(resp, 200, "text/plain", "ok\n", 3, HTTPD_STATIC);
}

static void h_seg_get(httpd_req *req, httpd_resp *resp, void *ctx)
{
    (void)ctx;
    const char *v = httpd_req_query(req, "v"), *x = httpd_req_header(req, "x-test");
    httpd_resp_text(resp, 200, "table=%s segment=%s v=%s x=%s", httpd_req_param(req, "table"),
                    httpd_req_param(req, "segment"), v ? v : "-", x ? x : "-");
    httpd_resp_header(resp, "X-Reply", "yes");
}

static void h_echo(httpd_req *req, httpd_resp *resp, void *ctx)
{
    (void)ctx;
    size_t len;
    const void *b = httpd_req_body(req, &len);
    if (httpd_req_body_received(req) != len) { /* no cmocka asserts on server threads */
        httpd_resp_text(resp, 500, "length mismatch");
        return;
    }
    httpd_resp_body(resp, 200, "application/octet-stream", b, len, HTTPD_COPY);
}

static void h_file(httpd_req *req, httpd_resp *resp, void *ctx)
{
    (void)req;
    tctx *t = ctx;
    int fd = open(t->file_path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        httpd_resp_text(resp, 500, "open failed");
        return;
    }
    httpd_resp_fd(resp, 200, "application/octet-stream", fd, 0, (uint64_t)st.st_size);
}

static void h_slow(httpd_req *req, httpd_resp *resp, void *ctx)
{
    (void)req;
    tctx *t = ctx;
    atomic_store(&t->slow_entered, 1);
    usleep(1000 * 1000);
    atomic_store(&t->slow_done, 1);
    httpd_resp_text(resp, 200, "slow");
}

static void h_none(httpd_req *req, httpd_resp *resp, void *ctx)
{
    (void)req;
    (void)resp;
    (void)ctx; /* forgets to reply: the server must answer 500 */
}

/* Long-poll: answers once T.decided is set, or "hold" after ?hold= ms (default 3000). */
static void h_twirp(httpd_req *req, httpd_resp *resp, void *ctx)
{
    tctx *t = ctx;
    atomic_fetch_add(&t->handler_calls, 1);
    const char *hold = httpd_req_query(req, "hold");
    if (!atomic_load(&t->decided) && httpd_req_wait(req, hold ? (unsigned)atoi(hold) : 3000))
        return;
    httpd_resp_text(resp, 200, "%s %s", httpd_req_param(req, "method"),
                    atomic_load(&t->decided) ? "decided" : "hold");
}

/* Long-poll on a key: /keyed/kN parks on "kN" until key_decided[N] (hold ?hold= ms, default
 * 3000, "forever" for HTTPD_WAIT_FOREVER). ?since=S parks as for a decision made when the
 * wake sequence was S (httpd_req_wait_key_since). */
static void h_keyed(httpd_req *req, httpd_resp *resp, void *ctx)
{
    tctx *t = ctx;
    const char *key = httpd_req_param(req, "key");
    int n = key[0] == 'k' && key[1] >= '0' && key[1] <= '2' && !key[2] ? key[1] - '0' : -1;
    if (n < 0) {
        httpd_resp_text(resp, 404, "no such key");
        return;
    }
    int calls = atomic_fetch_add(&t->key_calls[n], 1) + 1;
    const char *hold = httpd_req_query(req, "hold"), *since = httpd_req_query(req, "since");
    unsigned ms = !hold                          ? 3000
                  : strcmp(hold, "forever") == 0 ? HTTPD_WAIT_FOREVER
                                                 : (unsigned)atoi(hold);
    /* with since, the first run parks as the earlier decision said, whatever holds now */
    bool parked = since && calls == 1
                      ? httpd_req_wait_key_since(req, ms, key, strtoull(since, NULL, 10))
                      : !atomic_load(&t->key_decided[n]) && httpd_req_wait_key(req, ms, key);
    if (parked) return;
    httpd_resp_text(resp, 200, "%s %s %d", key,
                    atomic_load(&t->key_decided[n]) ? "decided" : "hold", calls);
}

/* A reply built on a detached httpd_resp and moved into the request's. */
static void h_moved(httpd_req *req, httpd_resp *resp, void *ctx)
{
    (void)req;
    (void)ctx;
    httpd_resp *r = httpd_resp_new();
    httpd_resp_text(r, 202, "built elsewhere");
    httpd_resp_header(r, "X-Moved", "yes");
    httpd_resp_text(resp, 500, "overwritten by the move");
    httpd_resp_move(resp, r);
    httpd_resp_free(httpd_resp_new()); /* one never moved */
}

typedef struct upload {
    int fd;
    uint64_t n;
    bool fail_after_first;
} upload;

static void upload_free(void *p)
{
    upload *u = p;
    if (u->fd >= 0) close(u->fd);
    free(u);
    atomic_fetch_add(&T.uploads_freed, 1);
}

static int s_upload(httpd_req *req, const void *data, size_t len, httpd_resp *resp, void *ctx)
{
    tctx *t = ctx;
    const char *table = httpd_req_param(req, "table");
    if (!data) {
        bool park = strcmp(table, "parked") == 0, refuse = strcmp(table, "parkrefuse") == 0;
        if (park || refuse) { /* wait for a decision before the body is read */
            atomic_fetch_add(&t->open_calls, 1);
            if (!atomic_load(&t->open_decided)) {
                httpd_req_wait_key(req, HTTPD_WAIT_FOREVER, "open");
                return 0;
            }
            if (refuse) {
                httpd_resp_text(resp, 403, "refused after waiting");
                return -1;
            }
        }
        if (strcmp(table, "forbidden") == 0) {
            httpd_resp_text(resp, 403, "no uploads here");
            return -1;
        }
        upload *u = calloc(1, sizeof *u);
        u->fail_after_first = strcmp(table, "failing") == 0;
        u->fd = open(t->upload_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        httpd_req_set_state(req, u, upload_free);
        if (u->fd < 0) {
            httpd_resp_text(resp, 500, "open failed");
            return -1;
        }
        return 0;
    }
    upload *u = httpd_req_state(req);
    size_t m = atomic_load(&t->max_chunk);
    if (len > m) atomic_store(&t->max_chunk, len);
    if (u->fail_after_first && u->n > 0) {
        httpd_resp_text(resp, 507, "disk full");
        return -1;
    }
    for (size_t off = 0; off < len;) {
        ssize_t w = write(u->fd, (const char *)data + off, len - off);
        if (w <= 0) {
            httpd_resp_text(resp, 500, "write failed");
            return -1;
        }
        off += (size_t)w;
    }
    u->n += len;
    return 0;
}

static void h_upload_done(httpd_req *req, httpd_resp *resp, void *ctx)
{
    (void)ctx;
    upload *u = httpd_req_state(req);
    if (httpd_req_body(req, NULL) != NULL) {
        httpd_resp_text(resp, 500, "stream route has a buffered body");
        return;
    }
    httpd_resp_text(resp, 201, "{\"bytes\":%llu,\"declared\":%lld}", (unsigned long long)u->n,
                    (long long)httpd_req_content_length(req));
}

static const httpd_route routes[] = {
    {"GET", "/health", h_health, 0, 0, NULL, HTTPD_PUBLIC},
    {"GET", "/segments/{table}/{segment}", h_seg_get, 0, 0, NULL, HTTPD_PUBLIC},
    {"PUT", "/segments/{table}/{segment}", h_upload_done, UPLOAD_CAP, HTTPD_STREAM_BODY, s_upload,
     HTTPD_PUBLIC},
    {"POST", "/echo", h_echo, ECHO_CAP, 0, NULL, HTTPD_PUBLIC},
    {"GET", "/file", h_file, 0, 0, NULL, HTTPD_PUBLIC},
    {"GET", "/slow", h_slow, 0, 0, NULL, HTTPD_PUBLIC},
    {"GET", "/none", h_none, 0, 0, NULL, HTTPD_PUBLIC},
    {"POST", "/twirp/sluice.v1.Completion/{method}", h_twirp, 4096, 0, NULL, HTTPD_PUBLIC},
    {"GET", "/keyed/{key}", h_keyed, 0, 0, NULL, HTTPD_PUBLIC},
    {"GET", "/moved", h_moved, 0, 0, NULL, HTTPD_PUBLIC},
};

/* ---- client side ---- */

typedef struct hresp {
    int status;
    char head[4096];
    char *body;
    size_t len;
} hresp;

static int cl_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

static int cl_send(int fd, const void *buf, size_t len)
{
    for (size_t off = 0; off < len;) {
        ssize_t n = send(fd, (const char *)buf + off, len - off, MSG_NOSIGNAL);
        if (n <= 0) return -1;
        off += (size_t)n;
    }
    return 0;
}

static int cl_sendf(int fd, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return cl_send(fd, buf, (size_t)n);
}

/* Header value from r->head (case-insensitive name), copied into out; false if absent. */
static bool hdr(const hresp *r, const char *name, char *out, size_t outlen)
{
    const char *p = r->head;
    size_t nl = strlen(name);
    while ((p = strstr(p, "\r\n")) != NULL) {
        p += 2;
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            p += nl + 1;
            while (*p == ' ')
                p++;
            size_t n = strcspn(p, "\r");
            snprintf(out, outlen, "%.*s", (int)n, p);
            return true;
        }
    }
    return false;
}

/* Read one response (skipping 100 Continue). Returns 0, or -1 on EOF/timeout/garbage. */
static int cl_read(int fd, hresp *r, bool head_only)
{
    memset(r, 0, sizeof *r);
    size_t hl = 0;
    for (;;) {
        if (hl + 1 >= sizeof r->head) return -1;
        ssize_t n = recv(fd, r->head + hl, 1, 0); /* byte by byte: never read past the head */
        if (n <= 0) return -1;
        hl++;
        r->head[hl] = '\0';
        if (hl >= 4 && memcmp(r->head + hl - 4, "\r\n\r\n", 4) == 0) {
            if (strncmp(r->head, "HTTP/1.1 100", 12) == 0) {
                hl = 0;
                continue;
            }
            break;
        }
    }
    if (sscanf(r->head, "HTTP/1.%*d %d", &r->status) != 1) return -1;
    char cl[32];
    if (!hdr(r, "Content-Length", cl, sizeof cl)) return -1;
    size_t want = head_only ? 0 : strtoull(cl, NULL, 10);
    r->body = malloc(want + 1);
    while (r->len < want) {
        ssize_t n = recv(fd, r->body + r->len, want - r->len, 0);
        if (n <= 0) return -1;
        r->len += (size_t)n;
    }
    r->body[r->len] = '\0';
    return 0;
}

/* One request on a fresh connection. */
static hresp req1(const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    int fd = cl_connect(httpd_port(H));
    assert_int_equal(cl_send(fd, buf, (size_t)n), 0);
    hresp r;
    assert_int_equal(cl_read(fd, &r, strncmp(buf, "HEAD ", 5) == 0), 0);
    close(fd);
    return r;
}

static void expect_status(const char *path, int status)
{
    hresp r = req1("GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
    if (r.status != status) fprintf(stderr, "path %s: status %d want %d\n", path, r.status, status);
    assert_int_equal(r.status, status);
    free(r.body);
}

/* Per-request state is released when MHD finishes the request, which may be just after the
 * client has read the reply: wait for the count instead of reading it once. */
static void wait_freed(int want)
{
    int64_t deadline = sl_clock_mono_ms() + 5000;
    while (atomic_load(&T.uploads_freed) < want && sl_clock_mono_ms() < deadline)
        usleep(2000);
    assert_int_equal(atomic_load(&T.uploads_freed), want);
}

static uint8_t pattern_byte(size_t i)
{
    return (uint8_t)((i * 2654435761u) >> 13);
}

static bool no_reply_yet(int fd);

/* ---- tests ---- */

static void test_get_params_and_query(void **state)
{
    (void)state;
    hresp r = req1("GET /segments/events/events__0__1__20250101T0000Z?v=a%%20b&w HTTP/1.1\r\n"
                   "Host: x\r\nX-Test: hdr\r\n\r\n");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "table=events segment=events__0__1__20250101T0000Z v=a b x=hdr");
    char v[64];
    assert_true(hdr(&r, "X-Reply", v, sizeof v));
    assert_string_equal(v, "yes");
    free(r.body);
    /* Percent-decoding applies to each segment once. */
    r = req1("GET /segments/my%%20table/s%%41g%%2541 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "table=my table segment=sAg%41 v=- x=-");
    free(r.body);
    /* HEAD is served by the GET route, without a body. */
    r = req1("HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, 0);
    free(r.body);
}

static void test_bad_paths(void **state)
{
    (void)state;
    expect_status("/segments/t/..%2Fx", 400);
    expect_status("/segments/t/a%2Fb", 400);
    expect_status("/segments/t/a%2fb", 400);
    expect_status("/segments/t/..", 400);
    expect_status("/segments/%2e%2e/x", 400);
    expect_status("/segments/t/.", 400);
    expect_status("/segments/t/a%00b", 400);
    expect_status("/segments/t/%zz", 400);
    expect_status("/segments/t/%4", 400);
    expect_status("/segments/t/%", 400);
}

static void test_not_found(void **state)
{
    (void)state;
    expect_status("/nope", 404);
    expect_status("/healthz", 404); /* no prefix matching */
    expect_status("/health/", 404); /* nor trailing-slash folding */
    expect_status("/health/x", 404);
    expect_status("/segments/t", 404);
    expect_status("/segments/t/s/extra", 404);
    expect_status("/segments/t/", 404); /* a capture is never empty */
    expect_status("//health", 404);
    expect_status("/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s", 404);
    expect_status("/", 404);
}

static void test_method_not_allowed(void **state)
{
    (void)state;
    hresp r = req1("DELETE /health HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(r.status, 405);
    char allow[128];
    assert_true(hdr(&r, "Allow", allow, sizeof allow));
    assert_string_equal(allow, "GET, HEAD");
    free(r.body);
    r = req1("POST /segments/t/s HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    assert_int_equal(r.status, 405);
    assert_true(hdr(&r, "Allow", allow, sizeof allow));
    assert_string_equal(allow, "GET, HEAD, PUT");
    free(r.body);
}

static void test_body_cap(void **state)
{
    (void)state;
    static char body[ECHO_CAP + 1];
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (char)('a' + i % 26);
    /* Exactly at the cap: echoed. */
    int fd = cl_connect(httpd_port(H));
    assert_int_equal(
        cl_sendf(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", ECHO_CAP), 0);
    assert_int_equal(cl_send(fd, body, ECHO_CAP), 0);
    hresp r;
    assert_int_equal(cl_read(fd, &r, false), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, ECHO_CAP);
    assert_memory_equal(r.body, body, ECHO_CAP);
    free(r.body);
    /* Keep-alive: a second request on the same connection, empty body. */
    assert_int_equal(cl_sendf(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"),
                     0);
    assert_int_equal(cl_read(fd, &r, false), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, 0);
    free(r.body);
    close(fd);

    /* Over the cap by Content-Length: 413 before any body byte is sent. */
    r = req1("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", ECHO_CAP + 1);
    assert_int_equal(r.status, 413);
    free(r.body);
    r = req1("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999\r\n\r\n");
    assert_int_equal(r.status, 413);
    free(r.body);
    /* A GET route accepts no body at all. */
    r = req1("GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n");
    assert_int_equal(r.status, 413);
    free(r.body);

    /* Chunked within the cap: echoed; chunked beyond it: 413. */
    fd = cl_connect(httpd_port(H));
    assert_int_equal(cl_sendf(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
                                  "\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"),
                     0);
    assert_int_equal(cl_read(fd, &r, false), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "hello world");
    free(r.body);
    close(fd);
    fd = cl_connect(httpd_port(H));
    assert_int_equal(cl_sendf(fd, "POST /echo HTTP/1.1\r\nHost: x\r\n"
                                  "Transfer-Encoding: chunked\r\n\r\n"),
                     0);
    for (int i = 0; i < 3; i++) { /* 3 x 500 bytes > 1024 */
        assert_int_equal(cl_sendf(fd, "%x\r\n", 500), 0);
        assert_int_equal(cl_send(fd, body, 500), 0);
        assert_int_equal(cl_sendf(fd, "\r\n"), 0);
    }
    assert_int_equal(cl_sendf(fd, "0\r\n\r\n"), 0);
    assert_int_equal(cl_read(fd, &r, false), 0);
    assert_int_equal(r.status, 413);
    free(r.body);
    close(fd);
}

static void test_stream_upload(void **state)
{
    (void)state;
    const size_t total = 5u << 20;
    uint8_t *data = malloc(total);
    for (size_t i = 0; i < total; i++)
        data[i] = pattern_byte(i);
    atomic_store(&T.max_chunk, 0);
    int freed0 = atomic_load(&T.uploads_freed);
    int fd = cl_connect(httpd_port(H));
    assert_int_equal(cl_sendf(fd,
                              "PUT /segments/events/seg0 HTTP/1.1\r\nHost: x\r\n"
                              "Content-Length: %zu\r\n\r\n",
                              total),
                     0);
    for (size_t off = 0; off < total; off += 100000)
        assert_int_equal(cl_send(fd, data + off, total - off < 100000 ? total - off : 100000), 0);
    hresp r;
    assert_int_equal(cl_read(fd, &r, false), 0);
    assert_int_equal(r.status, 201);
    char want[64];
    snprintf(want, sizeof want, "{\"bytes\":%zu,\"declared\":%zu}", total, total);
    assert_string_equal(r.body, want);
    free(r.body);
    close(fd);
    /* The bytes on disk are exactly the upload, and it arrived in small chunks. */
    FILE *f = fopen(T.upload_path, "rb");
    assert_non_null(f);
    uint8_t *got = malloc(total + 1);
    assert_int_equal(fread(got, 1, total + 1, f), total);
    fclose(f);
    assert_memory_equal(got, data, total);
    free(got);
    assert_true(atomic_load(&T.max_chunk) > 0);
    assert_true(atomic_load(&T.max_chunk) <= 256 * 1024);
    wait_freed(freed0 + 1);

    /* Rejected by the stream at the headers: 403 without reading the body. */
    r = req1("PUT /segments/forbidden/s HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n");
    assert_int_equal(r.status, 403);
    assert_string_equal(r.body, "no uploads here");
    free(r.body);
    /* Over the stream cap: 413, the stream never starts. */
    r = req1("PUT /segments/t/s HTTP/1.1\r\nHost: x\r\nContent-Length: %u\r\n\r\n", UPLOAD_CAP + 1);
    assert_int_equal(r.status, 413);
    free(r.body);
    /* The stream fails mid-body: its reply is sent once the body is in. */
    fd = cl_connect(httpd_port(H));
    assert_int_equal(cl_sendf(fd, "PUT /segments/failing/s HTTP/1.1\r\nHost: x\r\n"
                                  "Content-Length: 200000\r\n\r\n"),
                     0);
    assert_int_equal(cl_send(fd, data, 200000), 0);
    assert_int_equal(cl_read(fd, &r, false), 0);
    assert_int_equal(r.status, 507);
    free(r.body);
    close(fd);
    wait_freed(freed0 + 2); /* the first upload's and this one's; "forbidden" set none */

    /* Client vanishes mid-upload: the per-request state is still released. */
    freed0 = atomic_load(&T.uploads_freed);
    fd = cl_connect(httpd_port(H));
    assert_int_equal(cl_sendf(fd,
                              "PUT /segments/events/seg1 HTTP/1.1\r\nHost: x\r\n"
                              "Content-Length: %zu\r\n\r\n",
                              total),
                     0);
    assert_int_equal(cl_send(fd, data, 300000), 0);
    close(fd);
    wait_freed(freed0 + 1);
    free(data);
}

/* A stream route's open parks the request before its body is read (HTTPD_WAIT_FOREVER, on a
 * key): nothing is answered or stored until its key is woken; then it is called again and
 * either takes the whole body or refuses it. */
static void test_stream_open_parks(void **state)
{
    (void)state;
    const size_t total = 64u << 10;
    uint8_t *data = malloc(total);
    for (size_t i = 0; i < total; i++)
        data[i] = pattern_byte(i + 7);
    atomic_store(&T.open_calls, 0);
    atomic_store(&T.open_decided, false);
    int fd = cl_connect(httpd_port(H));
    assert_int_equal(cl_sendf(fd,
                              "PUT /segments/parked/seg0 HTTP/1.1\r\nHost: x\r\n"
                              "Content-Length: %zu\r\n\r\n",
                              total),
                     0);
    assert_int_equal(cl_send(fd, data, total), 0);
    int64_t deadline = sl_clock_mono_ms() + 3000;
    while (atomic_load(&T.open_calls) < 1 && sl_clock_mono_ms() < deadline)
        usleep(1000);
    assert_int_equal(atomic_load(&T.open_calls), 1);
    expect_status("/health", 200);
    usleep(100000);
    assert_int_equal(atomic_load(&T.open_calls), 1);
    assert_true(no_reply_yet(fd));
    httpd_wake_key(H, "other"); /* not its key */
    usleep(50000);
    assert_int_equal(atomic_load(&T.open_calls), 1);
    atomic_store(&T.open_decided, true);
    httpd_wake_key(H, "open");
    hresp r;
    assert_int_equal(cl_read(fd, &r, false), 0);
    assert_int_equal(r.status, 201);
    char want[64];
    snprintf(want, sizeof want, "{\"bytes\":%zu,\"declared\":%zu}", total, total);
    assert_string_equal(r.body, want);
    free(r.body);
    close(fd);
    assert_int_equal(atomic_load(&T.open_calls), 2);
    FILE *f = fopen(T.upload_path, "rb");
    assert_non_null(f);
    uint8_t *got = malloc(total + 1);
    assert_int_equal(fread(got, 1, total + 1, f), total);
    fclose(f);
    assert_memory_equal(got, data, total);
    free(got);
    /* parked, then refused: the reply comes without the body being taken */
    atomic_store(&T.open_calls, 0);
    atomic_store(&T.open_decided, false);
    fd = cl_connect(httpd_port(H));
    assert_int_equal(cl_sendf(fd,
                              "PUT /segments/parkrefuse/seg0 HTTP/1.1\r\nHost: x\r\n"
                              "Content-Length: %zu\r\n\r\n",
                              total),
                     0);
    assert_int_equal(cl_send(fd, data, total), 0);
    deadline = sl_clock_mono_ms() + 3000;
    while (atomic_load(&T.open_calls) < 1 && sl_clock_mono_ms() < deadline)
        usleep(1000);
    assert_int_equal(atomic_load(&T.open_calls), 1);
    atomic_store(&T.open_decided, true);
    httpd_wake_key(H, "open");
    assert_int_equal(cl_read(fd, &r, false), 0);
    assert_int_equal(r.status, 403);
    assert_string_equal(r.body, "refused after waiting");
    free(r.body);
    close(fd);
    free(data);
}

static void test_file_download(void **state)
{
    (void)state;
    const size_t total = 300 * 1024 + 7;
    FILE *f = fopen(T.file_path, "wb");
    for (size_t i = 0; i < total; i++)
        fputc(pattern_byte(i * 7), f);
    fclose(f);
    hresp r = req1("GET /file HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, total);
    for (size_t i = 0; i < total; i++)
        assert_int_equal((uint8_t)r.body[i], pattern_byte(i * 7));
    char ct[64];
    assert_true(hdr(&r, "Content-Type", ct, sizeof ct));
    assert_string_equal(ct, "application/octet-stream");
    free(r.body);
    r = req1("HEAD /file HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(r.status, 200);
    char cl[32];
    assert_true(hdr(&r, "Content-Length", cl, sizeof cl));
    assert_int_equal(strtoull(cl, NULL, 10), total);
    free(r.body);
    /* A handler that gives no reply yields 500, not a hung connection. */
    expect_status("/none", 500);
}

static void test_blocking_handler_does_not_block_pool(void **state)
{
    (void)state;
    atomic_store(&T.slow_entered, 0);
    atomic_store(&T.slow_done, 0);
    int slow = cl_connect(httpd_port(H));
    assert_int_equal(cl_sendf(slow, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
    int64_t deadline = sl_clock_mono_ms() + 3000;
    while (!atomic_load(&T.slow_entered) && sl_clock_mono_ms() < deadline)
        usleep(1000);
    assert_true(atomic_load(&T.slow_entered));
    int64_t t0 = sl_clock_mono_ms();
    expect_status("/health", 200);
    assert_true(sl_clock_mono_ms() - t0 < 500);
    assert_false(atomic_load(&T.slow_done)); /* answered while the slow one still ran */
    hresp r;
    assert_int_equal(cl_read(slow, &r, false), 0);
    assert_string_equal(r.body, "slow");
    free(r.body);
    close(slow);
}

static void test_long_poll(void **state)
{
    (void)state;
    /* Expiry: no decision within ?hold=300 -> "hold" after >= 300 ms. */
    atomic_store(&T.decided, false);
    int64_t t0 = sl_clock_mono_ms();
    hresp r = req1("POST /twirp/sluice.v1.Completion/SegmentConsumed?hold=300 HTTP/1.1\r\n"
                   "Host: x\r\nContent-Length: 3\r\n\r\nabc");
    int64_t took = sl_clock_mono_ms() - t0;
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "SegmentConsumed hold");
    assert_true(took >= 290 && took < 2000);
    free(r.body);

    /* Park more requests than the pool has threads; /health still answers; a wake releases
     * them all with the decision, long before their 3 s hold. */
    enum { N = 6 };
    int fds[N];
    atomic_store(&T.handler_calls, 0);
    for (int i = 0; i < N; i++) {
        fds[i] = cl_connect(httpd_port(H));
        assert_int_equal(cl_sendf(fds[i], "POST /twirp/sluice.v1.Completion/CommitStart "
                                          "HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"),
                         0);
    }
    int64_t deadline = sl_clock_mono_ms() + 3000;
    while (atomic_load(&T.handler_calls) < N && sl_clock_mono_ms() < deadline)
        usleep(1000);
    assert_int_equal(atomic_load(&T.handler_calls), N);
    t0 = sl_clock_mono_ms();
    expect_status("/health", 200);
    assert_true(sl_clock_mono_ms() - t0 < 500);
    httpd_wake(H); /* nothing decided yet: they look again and park again */
    usleep(50000);
    atomic_store(&T.decided, true);
    t0 = sl_clock_mono_ms();
    httpd_wake(H);
    for (int i = 0; i < N; i++) {
        assert_int_equal(cl_read(fds[i], &r, false), 0);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.body, "CommitStart decided");
        free(r.body);
        close(fds[i]);
    }
    assert_true(sl_clock_mono_ms() - t0 < 1000);
    assert_true(atomic_load(&T.handler_calls) >= 2 * N);
    atomic_store(&T.decided, false);
}

static void wait_calls(int n, int want)
{
    int64_t deadline = sl_clock_mono_ms() + 3000;
    while (atomic_load(&T.key_calls[n]) < want && sl_clock_mono_ms() < deadline)
        usleep(1000);
    assert_int_equal(atomic_load(&T.key_calls[n]), want);
}

/* Nothing to read on fd yet (the request is still parked). */
static bool no_reply_yet(int fd)
{
    char c;
    ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

static void keyed_reset(void)
{
    for (int i = 0; i < 3; i++) {
        atomic_store(&T.key_calls[i], 0);
        atomic_store(&T.key_decided[i], false);
    }
}

/* A wake addressed to k0 answers the request parked on k0 and leaves the one parked on k1
 * alone: its handler is not even run again. A wake of k1 reaches it; httpd_wake reaches every
 * key, a HTTPD_WAIT_FOREVER wait included. */
static void test_wake_by_key(void **state)
{
    (void)state;
    keyed_reset();
    int a = cl_connect(httpd_port(H)), b = cl_connect(httpd_port(H)), f = cl_connect(httpd_port(H));
    assert_int_equal(cl_sendf(a, "GET /keyed/k0?hold=5000 HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
    assert_int_equal(cl_sendf(b, "GET /keyed/k1?hold=5000 HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
    assert_int_equal(cl_sendf(f, "GET /keyed/k2?hold=forever HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
    wait_calls(0, 1);
    wait_calls(1, 1);
    wait_calls(2, 1);
    atomic_store(&T.key_decided[0], true);
    atomic_store(&T.key_decided[1], true); /* k1 would answer too, if it were woken */
    int64_t t0 = sl_clock_mono_ms();
    httpd_wake_key(H, "k0");
    hresp r;
    assert_int_equal(cl_read(a, &r, false), 0);
    assert_true(sl_clock_mono_ms() - t0 < 1000);
    assert_string_equal(r.body, "k0 decided 2");
    free(r.body);
    close(a);
    usleep(200000);
    assert_int_equal(atomic_load(&T.key_calls[1]), 1); /* not run again: still parked */
    assert_true(no_reply_yet(b));
    httpd_wake_key(H, "k-none"); /* a key nobody waits on */
    httpd_wake_key(H, "k1");
    assert_int_equal(cl_read(b, &r, false), 0);
    assert_string_equal(r.body, "k1 decided 2");
    free(r.body);
    close(b);
    /* the forever wait is still parked (past the default 3 s hold would not matter either) */
    assert_int_equal(atomic_load(&T.key_calls[2]), 1);
    assert_true(no_reply_yet(f));
    httpd_wake(H); /* not decided: runs again and parks again */
    wait_calls(2, 2);
    usleep(50000);
    assert_true(no_reply_yet(f));
    atomic_store(&T.key_decided[2], true);
    httpd_wake(H);
    assert_int_equal(cl_read(f, &r, false), 0);
    assert_string_equal(r.body, "k2 decided 3");
    free(r.body);
    close(f);
    keyed_reset();
}

/* A decision made earlier, on another thread (the sequence read before it is `since`), then a
 * wake of its key, then the park: the handler is run again at once instead of parking for
 * the hold time, which a wake that came before the run began would otherwise be lost to. */
static void test_wake_since_decision(void **state)
{
    (void)state;
    keyed_reset();
    uint64_t since = httpd_wake_seq(H);
    httpd_wake_key(H, "k0"); /* after the "decision", before the request parks */
    atomic_store(&T.key_decided[0], true);
    int64_t t0 = sl_clock_mono_ms();
    hresp r = req1("GET /keyed/k0?hold=3000&since=%llu HTTP/1.1\r\nHost: x\r\n\r\n",
                   (unsigned long long)since);
    assert_true(sl_clock_mono_ms() - t0 < 1000);
    assert_string_equal(r.body, "k0 decided 2");
    free(r.body);
    /* a wake of another key since then does not count */
    keyed_reset();
    since = httpd_wake_seq(H);
    httpd_wake_key(H, "k1");
    t0 = sl_clock_mono_ms();
    r = req1("GET /keyed/k0?hold=300&since=%llu HTTP/1.1\r\nHost: x\r\n\r\n",
             (unsigned long long)since);
    assert_true(sl_clock_mono_ms() - t0 >= 290);
    assert_string_equal(r.body, "k0 hold 2");
    free(r.body);
    keyed_reset();
}

static void test_moved_reply(void **state)
{
    (void)state;
    hresp r = req1("GET /moved HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(r.status, 202);
    assert_string_equal(r.body, "built elsewhere");
    char v[16];
    assert_true(hdr(&r, "X-Moved", v, sizeof v));
    assert_string_equal(v, "yes");
    free(r.body);
}

static void test_start_errors(void **state)
{
    (void)state;
    char err[256] = "";
    static const httpd_route bad1[] = {{"GET", "health", h_health, 0, 0, NULL, HTTPD_PUBLIC}};
    static const httpd_route bad2[] = {{"GET", "/a/{}", h_health, 0, 0, NULL, HTTPD_PUBLIC}};
    static const httpd_route bad3[] = {{"GET", "/a/{x-y}", h_health, 0, 0, NULL, HTTPD_PUBLIC}};
    static const httpd_route bad4[] = {{"GET", "/a/b%2F", h_health, 0, 0, NULL, HTTPD_PUBLIC}};
    static const httpd_route bad5[] = {
        {"PUT", "/a", h_health, 10, HTTPD_STREAM_BODY, NULL, HTTPD_PUBLIC}};
    static const httpd_route bad6[] = {{"GET", "/a", NULL, 0, 0, NULL, HTTPD_PUBLIC}};
    const httpd_route *bads[] = {bad1, bad2, bad3, bad4, bad5, bad6};
    for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
        err[0] = '\0';
        assert_null(httpd_start("127.0.0.1", 0, bads[i], 1, NULL, NULL, err, sizeof err));
        assert_non_null(strstr(err, "bad route"));
    }
    assert_null(httpd_start("not-an-ip", 0, routes, 1, NULL, NULL, err, sizeof err));
    assert_non_null(strstr(err, "bad bind address"));
    /* The port is taken by the running server. */
    assert_null(httpd_start("127.0.0.1", httpd_port(H), routes, 1, NULL, NULL, err, sizeof err));
    assert_non_null(strstr(err, "cannot listen"));
}

static void test_stop_with_parked_request(void **state)
{
    (void)state;
    char err[256];
    httpd_opts o = {.threads = 2, .conn_limit = 16, .timeout_s = 5};
    httpd *h2 = httpd_start("127.0.0.1", 0, routes, sizeof routes / sizeof routes[0], &T, &o, err,
                            sizeof err);
    assert_non_null(h2);
    assert_int_not_equal(httpd_port(h2), httpd_port(H));
    atomic_store(&T.handler_calls, 0);
    int fd = cl_connect(httpd_port(h2));
    assert_int_equal(cl_sendf(fd, "POST /twirp/sluice.v1.Completion/CommitEnd?hold=20000 "
                                  "HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"),
                     0);
    int64_t deadline = sl_clock_mono_ms() + 3000;
    while (atomic_load(&T.handler_calls) < 1 && sl_clock_mono_ms() < deadline)
        usleep(1000);
    assert_int_equal(atomic_load(&T.handler_calls), 1);
    int64_t t0 = sl_clock_mono_ms();
    httpd_stop(h2);
    assert_true(sl_clock_mono_ms() - t0 < 3000);
    /* The parked client was answered 503 before its socket closed, not left hanging. */
    hresp r;
    assert_int_equal(cl_read(fd, &r, false), 0);
    assert_int_equal(r.status, 503);
    free(r.body);
    close(fd);
    httpd_stop(NULL);
}

/* ---- connection exhaustion ---- */

/* Raw clients from `src` (127.0.0.x) that connect and then send nothing or a byte at a time. */
typedef struct junk {
    int fd;
    bool slow, open;
    int64_t t_open, t_close;
    size_t sent;
} junk;

static int junk_connect(uint16_t port, const char *src)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    assert_int_equal(inet_pton(AF_INET, src, &sa.sin_addr), 1);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    assert_true(rc == 0 || errno == EINPROGRESS);
    return fd;
}

/* Open n connections, every `slow_every`-th of them slow (0 = none slow). */
static junk *junk_open(uint16_t port, const char *src, size_t n, size_t slow_every)
{
    junk *j = calloc(n, sizeof *j);
    for (size_t i = 0; i < n; i++) {
        j[i].fd = junk_connect(port, src);
        j[i].slow = slow_every && i % slow_every == 0;
        j[i].open = true;
        j[i].t_open = sl_clock_mono_ms();
    }
    return j;
}

static const char JUNK_HEAD[] = "GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ";

/* Send the slow ones their next byte; note which ones the server closed. Returns open ones. */
static size_t junk_step(junk *j, size_t n)
{
    size_t open = 0;
    for (size_t i = 0; i < n; i++) {
        if (!j[i].open) continue;
        char b[64];
        ssize_t r = recv(j[i].fd, b, sizeof b, 0);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
            close(j[i].fd);
            j[i].open = false;
            j[i].t_close = sl_clock_mono_ms();
            continue;
        }
        if (j[i].slow) {
            char c = j[i].sent < sizeof JUNK_HEAD - 1 ? JUNK_HEAD[j[i].sent] : 'a';
            if (send(j[i].fd, &c, 1, MSG_NOSIGNAL) == 1) j[i].sent++;
        }
        open++;
    }
    return open;
}

static void junk_close(junk *j, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (j[i].open) close(j[i].fd);
    free(j);
}

/* GET /health on a fresh connection from 127.0.0.1; returns the time it took in ms. */
static int64_t probe_health(uint16_t port)
{
    int64_t t0 = sl_clock_mono_ms();
    int fd = cl_connect(port);
    assert_int_equal(cl_sendf(fd, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
    hresp r;
    assert_int_equal(cl_read(fd, &r, false), 0);
    assert_int_equal(r.status, 200);
    free(r.body);
    close(fd);
    return sl_clock_mono_ms() - t0;
}

/* Room for the test's clients and the server's sockets in this one process. */
static size_t fit_fds(size_t want_clients)
{
    struct rlimit rl;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    rlim_t need = 2 * want_clients + 2 * 256;
    if (rl.rlim_cur < need) {
        rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    size_t fit = rl.rlim_cur > 1024 ? (size_t)(rl.rlim_cur - 512) / 2 : 256;
    return fit < want_clients ? fit : want_clients;
}

/* 500 slow-header and 500 idle connections (the slowloris): a normal request is
 * still answered at once, and every one of them is closed by the header deadline although
 * the slow ones keep sending (MHD's idle timeout alone would never fire for them). */
static void test_slow_and_idle_clients(void **state)
{
    (void)state;
    size_t n = fit_fds(1000);
    char err[256];
    httpd_opts o = {.threads = 2, .header_timeout_ms = 1500};
    httpd *h2 = httpd_start("127.0.0.1", 0, routes, sizeof routes / sizeof routes[0], &T, &o, err,
                            sizeof err);
    assert_non_null(h2);
    uint16_t port = httpd_port(h2);
    junk *j = junk_open(port, "127.0.0.1", n, 2);
    int64_t t0 = sl_clock_mono_ms(), worst = 0;
    size_t open = n;
    int probes = 0;
    while (sl_clock_mono_ms() - t0 < 5000) {
        open = junk_step(j, n);
        if (sl_clock_mono_ms() - t0 > 300 * (probes + 1) &&
            sl_clock_mono_ms() - t0 < 1300) { /* while all are open */
            int64_t took = probe_health(port);
            if (took > worst) worst = took;
            probes++;
        }
        if (open == 0) break;
        usleep(100 * 1000); /* the slow ones send a byte every 100 ms */
    }
    fprintf(stderr,
            "# %zu slow+idle connections: %d probes, slowest %lld ms; all closed after "
            "%lld ms\n",
            n, probes, (long long)worst, (long long)(sl_clock_mono_ms() - t0));
    assert_true(probes >= 2);
    assert_true(worst < 2000);
    assert_int_equal(open, 0);
    for (size_t i = 0; i < n; i++) { /* by the deadline: not before it, not long after */
        int64_t d = j[i].t_close - j[i].t_open;
        if (d < 1300 || d > 3000)
            fprintf(stderr, "conn %zu closed after %lld ms\n", i, (long long)d);
        assert_true(d >= 1300 && d <= 3000);
    }
    httpd_stats st;
    httpd_get_stats(h2, &st);
    assert_true(st.header_timeouts >= n);
    assert_int_equal(st.refused, 0);
    junk_close(j, n);
    /* A kept-alive connection that goes quiet is closed by the same deadline. */
    int fd = cl_connect(port);
    assert_int_equal(cl_sendf(fd, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
    hresp r;
    assert_int_equal(cl_read(fd, &r, false), 0);
    free(r.body);
    int64_t t1 = sl_clock_mono_ms();
    char b;
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    assert_int_equal(recv(fd, &b, 1, 0), 0);
    assert_true(sl_clock_mono_ms() - t1 >= 1300 && sl_clock_mono_ms() - t1 < 3000);
    close(fd);
    httpd_stop(h2);
}

/* At the connection limit a newcomer takes the place of the oldest waiting connection, so
 * idle sockets cannot lock real requests out even before the header deadline. */
static void test_limit_evicts_oldest_waiting(void **state)
{
    (void)state;
    char err[256];
    httpd_opts o = {.threads = 2, .conn_limit = 64, .header_timeout_ms = 20000};
    httpd *h2 = httpd_start("127.0.0.1", 0, routes, sizeof routes / sizeof routes[0], &T, &o, err,
                            sizeof err);
    assert_non_null(h2);
    uint16_t port = httpd_port(h2);
    size_t n = 300;
    junk *j = junk_open(port, "127.0.0.1", n, 3);
    int64_t deadline = sl_clock_mono_ms() + 3000;
    size_t open = n;
    while (sl_clock_mono_ms() < deadline && (open = junk_step(j, n)) > 64 + 8)
        usleep(50 * 1000);
    assert_true(open <= 64 + 8); /* the limit, plus what concurrent accepts overshoot */
    int64_t worst = 0;
    for (int i = 0; i < 5; i++) {
        int64_t took = probe_health(port);
        if (took > worst) worst = took;
    }
    assert_true(worst < 2000);
    for (size_t i = 0; i < 64; i++) /* the oldest went first */
        assert_false(j[i].open);
    httpd_stats st;
    httpd_get_stats(h2, &st);
    assert_true(st.evicted >= n - 64);
    assert_true(st.connections <= 64);
    junk_close(j, n);
    httpd_stop(h2);
}

/* Requests in progress (here: parked long-polls) are never evicted; the per-address limit
 * bounds how many one address holds, and other addresses are still served. */
static void test_per_ip_limit(void **state)
{
    (void)state;
    char err[256];
    httpd_opts o = {.threads = 2, .conn_limit = 64, .per_ip_limit = 4};
    httpd *h2 = httpd_start("127.0.0.1", 0, routes, sizeof routes / sizeof routes[0], &T, &o, err,
                            sizeof err);
    assert_non_null(h2);
    uint16_t port = httpd_port(h2);
    atomic_store(&T.decided, false);
    atomic_store(&T.handler_calls, 0);
    int lp[4];
    for (int i = 0; i < 4; i++) {
        lp[i] = cl_connect(port);
        assert_int_equal(cl_sendf(lp[i], "POST /twirp/sluice.v1.Completion/CommitEnd?hold=8000 "
                                         "HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"),
                         0);
    }
    int64_t deadline = sl_clock_mono_ms() + 3000;
    while (atomic_load(&T.handler_calls) < 4 && sl_clock_mono_ms() < deadline)
        usleep(1000);
    assert_int_equal(atomic_load(&T.handler_calls), 4);
    /* A fifth connection from 127.0.0.1 is refused: accepted and closed without a reply. */
    int fd = cl_connect(port);
    cl_sendf(fd, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    hresp r;
    assert_int_equal(cl_read(fd, &r, false), -1);
    close(fd);
    /* Another address is served. */
    fd = junk_connect(port, "127.0.0.2");
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    assert_int_equal(cl_sendf(fd, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
    assert_int_equal(cl_read(fd, &r, false), 0);
    assert_int_equal(r.status, 200);
    free(r.body);
    close(fd);
    httpd_stats st;
    httpd_get_stats(h2, &st);
    assert_true(st.refused >= 1);
    /* The long-polls were untouched: deciding answers them. */
    atomic_store(&T.decided, true);
    httpd_wake(h2);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(cl_read(lp[i], &r, false), 0);
        assert_string_equal(r.body, "CommitEnd decided");
        free(r.body);
        close(lp[i]);
    }
    atomic_store(&T.decided, false);
    httpd_stop(h2);
}

static int setup(void **state)
{
    (void)state;
    snprintf(T.dir, sizeof T.dir, "/tmp/test_httpd.XXXXXX");
    if (!mkdtemp(T.dir)) return -1;
    snprintf(T.upload_path, sizeof T.upload_path, "%s/upload.bin", T.dir);
    snprintf(T.file_path, sizeof T.file_path, "%s/file.bin", T.dir);
    char err[256];
    H = httpd_start("127.0.0.1", 0, routes, sizeof routes / sizeof routes[0], &T, NULL, err,
                    sizeof err);
    if (!H) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return httpd_port(H) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    httpd_stop(H);
    unlink(T.upload_path);
    unlink(T.file_path);
    rmdir(T.dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_params_and_query),
        cmocka_unit_test(test_bad_paths),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_method_not_allowed),
        cmocka_unit_test(test_body_cap),
        cmocka_unit_test(test_stream_upload),
        cmocka_unit_test(test_stream_open_parks),
        cmocka_unit_test(test_file_download),
        cmocka_unit_test(test_blocking_handler_does_not_block_pool),
        cmocka_unit_test(test_long_poll),
        cmocka_unit_test(test_wake_by_key),
        cmocka_unit_test(test_wake_since_decision),
        cmocka_unit_test(test_moved_reply),
        cmocka_unit_test(test_start_errors),
        cmocka_unit_test(test_stop_with_parked_request),
        cmocka_unit_test(test_slow_and_idle_clients),
        cmocka_unit_test(test_limit_evicts_oldest_waiting),
        cmocka_unit_test(test_per_ip_limit),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
