/* HTTP client on one libcurl easy handle (see httpc.h for the contract).
 *
 * Redirects are followed here, not by curl's CURLOPT_FOLLOWLOCATION, because the rules we
 * need differ from curl's: a 307/308 must re-send the body for every method (curl can only
 * replay a body it holds in memory, and an upload must be rewound), and a POST/PUT answered
 * 301/302/303 must NOT become a body-less GET. Each hop is a fresh curl_easy_perform on the
 * same handle; CURLINFO_REDIRECT_URL gives the Location already resolved against the request
 * URL, so relative Locations need no parsing of our own.
 *
 * A reply body goes either to the in-memory buffer (capped by resp->max_body) or, for
 * httpc_get_to_fd with a 2xx status, straight to the caller's fd. The choice is made at the
 * first body byte of each hop from the status curl has already parsed; an interim
 * "100 Continue" has no body, so it never makes that choice. */
#include "common/httpc.h"

#include "common/clock.h"
#include "common/fsutil.h"
#include "common/sl_err.h"
#include "common/xalloc.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CONNECT_TIMEOUT_MS 10000L

struct httpc {
    CURL *h;
    unsigned max_redirects;
    const _Atomic bool *cancel; /* httpc_set_cancel; NULL: never */
    const char *const *headers; /* httpc_set_headers; borrowed, NULL-terminated, or NULL */
    const char *ca_file, *netrc_file; /* httpc_set_fetch_auth; borrowed, or NULL */
    char *bearer;                     /* "Authorization: Bearer <token>" (owned), or NULL */
    const char *tls_ca, *tls_cert, *tls_key; /* httpc_set_tls; borrowed, or NULL */
    bool external; /* httpc_set_external: a user's server, not the cluster */
    uint64_t connections;
    char errbuf[CURL_ERROR_SIZE];
};

/* What the request sends. */
typedef enum body_kind { BODY_NONE, BODY_MEM, BODY_FILE } body_kind;

/* State of one call (all its hops), shared with the curl callbacks. */
typedef struct xfer {
    httpc *c;
    httpc_resp *resp;
    /* request */
    const char *method;
    const char *content_type;
    body_kind kind;
    const void *mem;
    size_t mem_len;
    int in_fd; /* BODY_FILE */
    uint64_t in_size, in_off;
    /* reply sink */
    int out_fd;       /* httpc_get_to_fd, else -1 */
    uint64_t out_max; /* 0 = no cap */
    bool decided, to_fd;
    /* failure causes curl only sees as "callback said no" */
    bool over_cap, io_error, cancelled;
    int io_rc; /* io_error: its class (SL_ENOSPACE, SL_EDISK, SL_EIO) */
    char io_what[128];
} xfer;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_OK;

static void curl_global_once(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void copy_str(char *dst, size_t cap, const char *src, size_t n)
{
    if (n >= cap) { /* too long to keep whole: a cut URL or type would mislead, keep none */
        dst[0] = '\0';
        return;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* ---- responses ---- */

void httpc_resp_init(httpc_resp *resp, size_t max_body)
{
    memset(resp, 0, sizeof *resp);
    resp->max_body = max_body ? max_body : HTTPC_DEFAULT_MAX_BODY;
}

void httpc_resp_free(httpc_resp *resp)
{
    free(resp->body);
    resp->body = NULL;
    resp->len = 0;
}

/* Forget the previous reply (keeps the buffer and the cap). */
static void resp_clear(httpc_resp *r)
{
    if (r->max_body == 0) r->max_body = HTTPC_DEFAULT_MAX_BODY;
    r->status = 0;
    r->len = 0;
    if (r->body) r->body[0] = '\0';
    r->location[0] = r->content_type[0] = '\0';
    r->error[0] = '\0';
}

/* ---- client ---- */

httpc *httpc_new(void)
{
    pthread_once(&curl_once, curl_global_once);
    if (curl_init_rc != CURLE_OK) {
        fprintf(stderr, "sluice: curl_global_init failed: %s\n", curl_easy_strerror(curl_init_rc));
        abort();
    }
    httpc *c = sl_xcalloc(1, sizeof *c);
    c->h = curl_easy_init();
    if (!c->h) {
        fprintf(stderr, "sluice: curl_easy_init failed\n");
        abort();
    }
    return c;
}

void httpc_free(httpc *c)
{
    if (!c) return;
    curl_easy_cleanup(c->h);
    httpc_set_bearer(c, NULL);
    free(c);
}

void httpc_set_redirects(httpc *c, unsigned n)
{
    c->max_redirects = n;
}

unsigned httpc_redirects(const httpc *c)
{
    return c->max_redirects;
}

void httpc_set_fetch_auth(httpc *c, const char *ca_file, const char *netrc_file)
{
    c->ca_file = ca_file;
    c->netrc_file = netrc_file;
}

void httpc_set_cancel(httpc *c, const _Atomic bool *flag)
{
    c->cancel = flag;
}

uint64_t httpc_connections_opened(const httpc *c)
{
    return c->connections;
}

/* ---- curl callbacks ---- */

/* Header lines, status lines included. A status line starts a new reply (after a redirect
 * hop or an interim 100), so the headers kept so far belong to an earlier one. */
static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    xfer *x = ud;
    size_t len = size * n, l = len;
    while (l > 0 && (p[l - 1] == '\n' || p[l - 1] == '\r'))
        l--;
    if (l >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        x->resp->location[0] = x->resp->content_type[0] = '\0';
        return len;
    }
    static const struct {
        const char *name;
        size_t off, cap;
    } keep[] = {
        {"location", offsetof(httpc_resp, location), HTTPC_LOCATION_MAX},
        {"content-type", offsetof(httpc_resp, content_type), HTTPC_CTYPE_MAX},
    };
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        size_t nl = strlen(keep[i].name);
        if (l > nl && p[nl] == ':' && strncasecmp(p, keep[i].name, nl) == 0) {
            const char *v = p + nl + 1;
            size_t vl = l - nl - 1;
            while (vl > 0 && (*v == ' ' || *v == '\t'))
                v++, vl--;
            while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
                vl--;
            copy_str((char *)x->resp + keep[i].off, keep[i].cap, v, vl);
        }
    }
    return len;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    xfer *x = ud;
    httpc_resp *r = x->resp;
    size_t len = size * n;
    if (!x->decided) {
        long status = 0;
        curl_easy_getinfo(x->c->h, CURLINFO_RESPONSE_CODE, &status);
        x->to_fd = x->out_fd >= 0 && status >= 200 && status < 300;
        x->decided = true;
    }
    if (x->to_fd) {
        if (x->out_max &&
            (r->downloaded + len < r->downloaded || r->downloaded + len > x->out_max)) {
            x->over_cap = true;
            return 0;
        }
        int e = 0, rc = fsutil_write_fd(x->out_fd, p, len, &e);
        if (rc) {
            x->io_error = true;
            x->io_rc = rc;
            snprintf(x->io_what, sizeof x->io_what, "writing the download: %s", strerror(e));
            return 0;
        }
        r->downloaded += len;
        return len;
    }
    if (len > r->max_body || r->len > r->max_body - len) {
        x->over_cap = true;
        return 0;
    }
    r->body = sl_xrealloc(r->body, r->len + len + 1);
    memcpy(r->body + r->len, p, len);
    r->len += len;
    r->body[r->len] = '\0';
    return len;
}

/* curl calls it often while data moves and about once a second while it waits (connecting,
 * a stalled peer): the bound on how long a cancel takes. */
static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    xfer *x = ud;
    x->cancelled = atomic_load(x->c->cancel);
    return x->cancelled;
}

static size_t on_read(char *buf, size_t size, size_t n, void *ud)
{
    xfer *x = ud;
    size_t want = size * n;
    if (x->in_off >= x->in_size) return 0;
    if (want > x->in_size - x->in_off) want = (size_t)(x->in_size - x->in_off);
    ssize_t got;
    do
        got = pread(x->in_fd, buf, want, (off_t)x->in_off);
    while (got < 0 && errno == EINTR);
    if (got <= 0) { /* an error, or the file shrank under us: its length was already sent */
        x->io_error = true;
        x->io_rc = SL_EIO;
        snprintf(x->io_what, sizeof x->io_what, "reading the upload: %s",
                 got < 0 ? strerror(errno) : "file shrank while being sent");
        return CURL_READFUNC_ABORT;
    }
    x->in_off += (uint64_t)got;
    return (size_t)got;
}

static int on_seek(void *ud, curl_off_t off, int origin)
{
    xfer *x = ud;
    if (origin != SEEK_SET || off < 0 || (uint64_t)off > x->in_size) return CURL_SEEKFUNC_FAIL;
    x->in_off = (uint64_t)off;
    return CURL_SEEKFUNC_OK;
}

/* ---- the request loop ---- */

static int map_curl(const xfer *x, CURLcode rc)
{
    if (x->over_cap) return SL_ELIMIT;
    if (x->io_error) return x->io_rc ? x->io_rc : SL_EIO;
    if (x->cancelled) return SL_ESTATE;
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        return SL_ETIMEDOUT;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return SL_ETRANSIENT;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_BAD_FUNCTION_ARGUMENT:
        return SL_EINVAL;
    case CURLE_TOO_MANY_REDIRECTS:
    case CURLE_FILESIZE_EXCEEDED:
        return SL_ELIMIT;
    default:
        return SL_EIO;
    }
}

static bool follows(const char *method, long status)
{
    if (status == 307 || status == 308 || status == 303) return true; /* 303: as a GET */
    if (status == 301 || status == 302)
        return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    return false;
}

/* Set up the handle for one hop. Returns the header list (caller frees) via *hdrs. */
static void setup_hop(xfer *x, const char *url, long remaining_ms, struct curl_slist **hdrs)
{
    httpc *c = x->c;
    CURL *h = c->h;
    curl_easy_reset(h);
    c->errbuf[0] = '\0';
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for DNS timeouts */
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "sluice");
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    /* the cluster's servers: its CA and this process's certificate (mTLS); a user's URI: the
     * fetchers' CA only */
    const char *ca = !c->external && c->tls_ca ? c->tls_ca : c->ca_file;
    if (ca) curl_easy_setopt(h, CURLOPT_CAINFO, ca);
    if (!c->external && c->tls_cert) {
        curl_easy_setopt(h, CURLOPT_SSLCERT, c->tls_cert);
        curl_easy_setopt(h, CURLOPT_SSLKEY, c->tls_key ? c->tls_key : c->tls_cert);
    }
    if (c->netrc_file) { /* per hop: a redirect to another host takes that host's entry */
        curl_easy_setopt(h, CURLOPT_NETRC, (long)CURL_NETRC_OPTIONAL);
        curl_easy_setopt(h, CURLOPT_NETRC_FILE, c->netrc_file);
    }
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, remaining_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     remaining_ms > 0 && remaining_ms < CONNECT_TIMEOUT_MS ? remaining_ms
                                                                           : CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
    if (c->cancel) {
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
    }

    struct curl_slist *l = NULL;
    char ct[HTTPC_CTYPE_MAX + 16];
    if (x->content_type)
        snprintf(ct, sizeof ct, "Content-Type: %s", x->content_type);
    else
        snprintf(ct, sizeof ct, "Content-Type:"); /* drop curl's form-urlencoded default */
    switch (x->kind) {
    case BODY_NONE:
        if (strcmp(x->method, "HEAD") == 0) {
            curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        } else {
            curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
            if (strcmp(x->method, "GET") != 0)
                curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, x->method);
        }
        break;
    case BODY_MEM:
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->mem_len);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, x->mem ? x->mem : "");
        if (strcmp(x->method, "POST") != 0) curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, x->method);
        l = curl_slist_append(l, ct);
        /* Small bodies: no 100-continue round trip (curl would wait up to 1 s for it). */
        l = curl_slist_append(l, "Expect:");
        break;
    case BODY_FILE:
        /* Large bodies keep curl's Expect: 100-continue, so a server that refuses or
         * redirects answers before hundreds of MiB are sent. */
        x->in_off = 0;
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)x->in_size);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, x);
        curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
        curl_easy_setopt(h, CURLOPT_SEEKDATA, x);
        if (strcmp(x->method, "PUT") != 0) curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, x->method);
        l = curl_slist_append(l, ct);
        break;
    }
    for (const char *const *e = c->headers; e && *e; e++)
        l = curl_slist_append(l, *e);
    if (c->bearer && !c->external) l = curl_slist_append(l, c->bearer);
    if (l) curl_easy_setopt(h, CURLOPT_HTTPHEADER, l);
    *hdrs = l;
}

static int run(xfer *x, const char *url0, long timeout_ms)
{
    httpc *c = x->c;
    httpc_resp *r = x->resp;
    resp_clear(r);
    r->downloaded = 0;
    r->redirects = 0;
    size_t ulen = strlen(url0);
    if (ulen >= HTTPC_LOCATION_MAX) {
        return sl_fail(r->error, sizeof r->error, SL_EINVAL, "URL longer than %d bytes",
                       HTTPC_LOCATION_MAX - 1);
    }
    char url[HTTPC_LOCATION_MAX];
    memcpy(url, url0, ulen + 1);
    int64_t deadline = timeout_ms > 0 ? sl_clock_mono_ms() + timeout_ms : 0;

    for (;;) {
        long remaining = 0;
        if (deadline) {
            remaining = (long)(deadline - sl_clock_mono_ms());
            if (remaining <= 0) {
                return sl_fail(r->error, sizeof r->error, SL_ETIMEDOUT,
                               "%s: deadline passed after %u redirects", url, r->redirects);
            }
        }
        resp_clear(r);
        x->decided = x->to_fd = false;
        struct curl_slist *hdrs = NULL;
        setup_hop(x, url, remaining, &hdrs);
        CURLcode rc = curl_easy_perform(c->h);
        long nconn = 0;
        curl_easy_getinfo(c->h, CURLINFO_NUM_CONNECTS, &nconn);
        c->connections += (uint64_t)nconn;
        curl_slist_free_all(hdrs);
        curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &r->status);
        copy_str(r->url, sizeof r->url, url, strlen(url));
        if (rc != CURLE_OK) {
            int e = map_curl(x, rc);
            if (x->over_cap)
                return sl_fail(r->error, sizeof r->error, e,
                               "%s: reply body over its cap of %llu bytes", url,
                               (unsigned long long)(x->to_fd ? x->out_max : r->max_body));
            if (x->io_error)
                return sl_fail(r->error, sizeof r->error, e, "%s: %s", url, x->io_what);
            if (x->cancelled) return sl_fail(r->error, sizeof r->error, e, "%s: cancelled", url);
            return sl_fail(r->error, sizeof r->error, e, "%s: %s", url,
                           c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
        }
        if (!follows(x->method, r->status)) return 0;
        if (c->max_redirects == 0) return 0;
        char *next = NULL;
        curl_easy_getinfo(c->h, CURLINFO_REDIRECT_URL, &next);
        if (!next) return 0; /* a 3xx without Location: the caller sees it as it is */
        if (r->redirects >= c->max_redirects) {
            return sl_fail(r->error, sizeof r->error, SL_ELIMIT, "%s: more than %u redirects", url,
                           c->max_redirects);
        }
        size_t nl = strlen(next);
        if (nl >= sizeof url) {
            return sl_fail(r->error, sizeof r->error, SL_EINVAL, "%s: redirect Location too long",
                           url);
        }
        memmove(url, next, nl + 1);
        r->redirects++;
        if (r->status == 303 && strcmp(x->method, "HEAD") != 0) {
            x->method = "GET"; /* "see other": fetch the result, do not repeat the action */
            x->kind = BODY_NONE;
        }
    }
}

int httpc_request(httpc *c, const char *method, const char *url, const char *content_type,
                  const void *body, size_t len, long timeout_ms, httpc_resp *out)
{
    xfer x = {.c = c,
              .resp = out,
              .method = method,
              .content_type = content_type,
              .in_fd = -1,
              .out_fd = -1};
    bool bodyless = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    if (bodyless && len > 0) {
        resp_clear(out);
        return sl_fail(out->error, sizeof out->error, SL_EINVAL, "%s request with a body", method);
    }
    /* DELETE and friends without a body are sent without one (no Content-Length: 0). */
    x.kind = bodyless || (len == 0 && strcmp(method, "POST") != 0 && strcmp(method, "PUT") != 0)
                 ? BODY_NONE
                 : BODY_MEM;
    x.mem = body;
    x.mem_len = len;
    return run(&x, url, timeout_ms);
}

void httpc_set_headers(httpc *c, const char *const *headers)
{
    c->headers = headers;
}

void httpc_set_bearer(httpc *c, const char *token)
{
    if (c->bearer) memset(c->bearer, 0, strlen(c->bearer));
    free(c->bearer);
    c->bearer = NULL;
    if (!token || !*token) return;
    size_t n = strlen("Authorization: Bearer ") + strlen(token) + 1;
    c->bearer = sl_xmalloc(n);
    snprintf(c->bearer, n, "Authorization: Bearer %s", token);
}

void httpc_set_tls(httpc *c, const char *ca_file, const char *cert_file, const char *key_file)
{
    c->tls_ca = ca_file;
    c->tls_cert = cert_file;
    c->tls_key = key_file;
}

void httpc_set_external(httpc *c, bool external)
{
    c->external = external;
}

int httpc_put_file(httpc *c, const char *url, const char *path, long timeout_ms, httpc_resp *out)
{
    return httpc_send_file(c, "PUT", url, path, timeout_ms, out);
}

int httpc_send_file(httpc *c, const char *method, const char *url, const char *path,
                    long timeout_ms, httpc_resp *out)
{
    xfer x = {.c = c,
              .resp = out,
              .method = method,
              .content_type = "application/octet-stream",
              .kind = BODY_FILE,
              .out_fd = -1};
    x.in_fd = open(path, O_RDONLY | O_CLOEXEC);
    if (x.in_fd < 0) {
        int e = errno;
        resp_clear(out);
        return sl_fail(out->error, sizeof out->error, e == ENOENT ? SL_ENOENT : SL_EIO, "%s: %s",
                       path, strerror(e));
    }
    struct stat st;
    if (fstat(x.in_fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        resp_clear(out);
        close(x.in_fd);
        return sl_fail(out->error, sizeof out->error, SL_EIO, "%s: not a readable regular file",
                       path);
    }
    x.in_size = (uint64_t)st.st_size;
    int rc = run(&x, url, timeout_ms);
    close(x.in_fd);
    return rc;
}

int httpc_get_to_fd(httpc *c, const char *url, int fd, uint64_t max_bytes, long timeout_ms,
                    httpc_resp *out)
{
    if (fd < 0) {
        resp_clear(out);
        return sl_fail(out->error, sizeof out->error, SL_EINVAL, "bad file descriptor");
    }
    xfer x = {.c = c,
              .resp = out,
              .method = "GET",
              .kind = BODY_NONE,
              .in_fd = -1,
              .out_fd = fd,
              .out_max = max_bytes};
    return run(&x, url, timeout_ms);
}
