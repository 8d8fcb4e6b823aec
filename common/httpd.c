/* HTTP server on libmicrohttpd (see httpd.h for the contract). This file owns the server's
 * life (start, stop), routing, request bodies, handler runs, the replies, and long-poll parking
 * with its timer thread; which connections are taken, evicted or timed out waiting for a
 * header is httpd_admit.c's (the timer thread drives its deadlines).
 *
 * Request life, as MHD drives it (all on the connection's worker thread):
 *   uri_log callback        -> httpd_req allocated with a copy of the RAW path (MHD decodes the
 *                              url it hands the access handler, which would hide "%2F")
 *   access, phase NEW       -> decode + route (400/404/405), Content-Length cap (413); an early
 *                              reply here makes MHD skip the body and close
 *   access, phase OPEN      -> a stream route's open: it refuses (an early reply, as above),
 *                              goes on to the body, or parks the request before its body is
 *                              read (MHD calls again, still before the body, once resumed)
 *   access, upload data     -> buffer, stream, or count-and-discard once over the cap
 *   access, phase DONE      -> 413 / stream error reply, else the handler; the handler either
 *                              fills resp or parks the request (MHD_suspend_connection)
 *   completed callback      -> httpd_req freed, user state free_fn called
 *
 * Parking: parked requests sit on h->parked under h->mu, the keyed ones also on the chain of
 * their key's bucket (h->kparked). A wake resumes them at once from the waking thread:
 * httpd_wake every one, httpd_wake_key those of its key only (found through the bucket); the
 * timer thread resumes those whose hold time is over; MHD then calls the access handler again
 * and the handler re-runs. Every wake takes the next number of h->seq and records it (all_gen,
 * or its bucket's key_gen); a handler about to park is run again instead when a wake that
 * concerns it came after the run began (or after the decision it reports, `since`), so a wake
 * racing a decision to park is never lost.
 * Invariants: a request is on h->parked iff its connection is suspended, and on its bucket's
 * chain too iff it has a key; nothing is parked once h->stopping is set (httpd_stop resumes
 * all first), which MHD_stop_daemon requires. */
#include "common/httpd.h"

#include "common/httpd_admit.h"
#include "common/fsutil.h"
#include "common/tlscred.h"
#include "common/log.h"
#include "common/sl_err.h"
#include "common/urlpath.h"
#include "common/xalloc.h"
#include "common/clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HTTPD_MAX_HEADERS 8
#define HTTPD_WAKE_BUCKETS 512 /* keyed parked requests, hashed by key */

typedef struct httpd__route {
    httpd_route r; /* r.method is `method`; r.pattern is not kept */
    char *method;
    urlpath_pat pat;
} httpd__route;

enum { RESP_NONE, RESP_BUF, RESP_FD };

struct httpd_resp {
    unsigned status; /* 0 = not filled */
    int kind;
    void *body; /* RESP_BUF; owned unless borrowed */
    size_t len;
    bool borrowed;
    int fd; /* RESP_FD; owned */
    uint64_t off, flen;
    char *ctype;
    char *hname[HTTPD_MAX_HEADERS], *hval[HTTPD_MAX_HEADERS];
    size_t nh;
};

enum { PH_NEW, PH_OPEN, PH_BODY, PH_DONE }; /* PH_OPEN: a stream route's open, may park */

struct httpd_req {
    httpd *h;
    struct MHD_Connection *conn;
    const httpd__route *route;
    const char *method;
    char *raw; /* raw path, no query */
    char *dec; /* decoded segments, NUL-separated; segs point here */
    const char *segs[URLPATH_MAX_SEGS];
    int phase;
    int64_t content_length;
    uint64_t received, discarded;
    char *body;
    size_t body_cap;
    bool over_cap, stream_failed, wait_asked;
    bool draining; /* resumed by httpd_stop; h->ndraining counts it until it completes */
    bool authed;   /* principal is the sender's (a token matched) */
    auth_principal principal;
    char peer_cn[TLSCRED_CN_MAX]; /* mTLS: the verified client certificate's CN, else "" */
    httpd_resp resp;
    void *state;
    void (*state_free)(void *state);
    int64_t first_ms, deadline_ms; /* deadline INT64_MAX: HTTPD_WAIT_FOREVER */
    uint64_t seen_gen;             /* h->seq when this handler run began */
    uint64_t since;           /* the decision's h->seq, when older (httpd_req_wait_key_since) */
    char *wait_key;           /* parked on this key (NULL: only httpd_wake wakes it) */
    uint32_t wait_bucket;     /* its bucket in h->kparked and h->key_gen */
    httpd_req *pnext, *pprev; /* h->parked */
    httpd_req *knext, *kprev; /* h->kparked[wait_bucket] */
    httpd_admit_conn *hc;     /* its connection's record (NULL if MHD gave none) */
};

struct httpd {
    struct MHD_Daemon *d;
    httpd__route *routes;
    size_t nroutes;
    void *ctx;
    uint16_t port;
    pthread_mutex_t mu;
    pthread_cond_t cv;       /* timer thread: a new deadline (parked, or a header's) */
    pthread_cond_t drain_cv; /* httpd_stop: ndraining dropped */
    size_t ndraining;
    pthread_t timer;
    bool timer_started, stopping;
    uint64_t seq;                           /* wake sequence: each wake takes the next number */
    uint64_t all_gen;                       /* the last httpd_wake's number */
    uint64_t key_gen[HTTPD_WAKE_BUCKETS];   /* the last httpd_wake_key's number, per bucket */
    httpd_req *parked;                      /* every parked request */
    httpd_req *kparked[HTTPD_WAKE_BUCKETS]; /* the keyed ones, by their key's bucket */
    _Atomic bool starting;
    char start_err[160]; /* last MHD message while starting */
    httpd_admit *admit;  /* connection limits, eviction, header deadline (httpd_admit.c) */
    auth *auth;          /* httpd_opts.auth: borrowed, or NULL */
    tlscred *tls;        /* HTTPS: the certificate handshakes get; NULL: plain HTTP */
    char *client_ca;     /* mTLS: the PEM trust MHD verifies client certificates against */
    _Atomic uint64_t refused_auth; /* 401 and 403 answers, summed up in the log */
};

/* ---- responses ---- */

static void httpd__resp_clear_body(httpd_resp *rp)
{
    if (rp->kind == RESP_BUF && !rp->borrowed) free(rp->body);
    if (rp->kind == RESP_FD && rp->fd >= 0) close(rp->fd);
    free(rp->ctype);
    rp->kind = RESP_NONE;
    rp->body = NULL;
    rp->fd = -1;
    rp->ctype = NULL;
}

static void httpd__resp_free(httpd_resp *rp)
{
    httpd__resp_clear_body(rp);
    for (size_t i = 0; i < rp->nh; i++) {
        free(rp->hname[i]);
        free(rp->hval[i]);
    }
    rp->nh = 0;
}

void httpd_resp_body(httpd_resp *rp, unsigned status, const char *ctype, const void *body,
                     size_t len, httpd_own own)
{
    httpd__resp_clear_body(rp);
    rp->status = status;
    rp->kind = RESP_BUF;
    rp->len = len;
    rp->borrowed = own == HTTPD_STATIC;
    if (own == HTTPD_COPY) {
        rp->body = sl_xmalloc(len);
        if (len) memcpy(rp->body, body, len);
    } else {
        rp->body = (void *)body;
    }
    rp->ctype = ctype ? sl_xstrdup(ctype) : NULL;
}

void httpd_resp_text(httpd_resp *rp, unsigned status, const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) sl_xoom(strlen(fmt));
    httpd_resp_body(rp, status, "text/plain; charset=utf-8", s, (size_t)n, HTTPD_TAKE);
}

void httpd_resp_fd(httpd_resp *rp, unsigned status, const char *ctype, int fd, uint64_t offset,
                   uint64_t len)
{
    httpd__resp_clear_body(rp);
    rp->status = status;
    rp->kind = RESP_FD;
    rp->fd = fd;
    rp->off = offset;
    rp->flen = len;
    rp->ctype = ctype ? sl_xstrdup(ctype) : NULL;
}

int httpd_resp_header(httpd_resp *rp, const char *name, const char *value)
{
    if (rp->nh == HTTPD_MAX_HEADERS) return SL_ELIMIT;
    if (!*name || strpbrk(name, "\r\n:") || strpbrk(value, "\r\n")) return SL_EINVAL;
    rp->hname[rp->nh] = sl_xstrdup(name);
    rp->hval[rp->nh] = sl_xstrdup(value);
    rp->nh++;
    return 0;
}

httpd_resp *httpd_resp_new(void)
{
    httpd_resp *rp = sl_xmalloc(sizeof *rp);
    memset(rp, 0, sizeof *rp);
    rp->fd = -1;
    return rp;
}

void httpd_resp_free(httpd_resp *rp)
{
    if (!rp) return;
    httpd__resp_free(rp);
    free(rp);
}

void httpd_resp_move(httpd_resp *rp, httpd_resp *from)
{
    httpd__resp_free(rp);
    *rp = *from;
    free(from);
}

/* Hand resp to MHD. Ownership of the body or fd moves to the MHD response. */
static enum MHD_Result httpd__send(httpd_req *req)
{
    httpd_resp *rp = &req->resp;
    struct MHD_Response *mr = NULL;
    if (rp->status < 100 || rp->status > 599 || rp->kind == RESP_NONE) {
        if (rp->status || rp->kind != RESP_NONE)
            SL_ERROR("httpd", "handler gave an invalid reply path=%s status=%u", req->raw,
                     rp->status);
        else
            SL_ERROR("httpd", "handler gave no reply path=%s", req->raw);
        static const char msg[] = "internal error: no reply\n";
        httpd_resp_body(rp, 500, "text/plain; charset=utf-8", msg, sizeof msg - 1, HTTPD_STATIC);
    }
    if (rp->kind == RESP_FD) {
        mr = MHD_create_response_from_fd_at_offset64(rp->flen, rp->fd, rp->off);
        if (mr) rp->fd = -1; /* MHD closes it now */
    } else if (rp->borrowed) {
        mr = MHD_create_response_from_buffer(rp->len, rp->body, MHD_RESPMEM_PERSISTENT);
    } else {
        mr = MHD_create_response_from_buffer_with_free_callback(rp->len, rp->body, &free);
        if (mr) rp->body = NULL;
    }
    if (!mr) {
        SL_ERROR("httpd", "cannot create reply path=%s", req->raw);
        return MHD_NO; /* closes the connection; the completed callback frees resp */
    }
    if (rp->ctype) MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, rp->ctype);
    for (size_t i = 0; i < rp->nh; i++)
        MHD_add_response_header(mr, rp->hname[i], rp->hval[i]);
    enum MHD_Result ret = MHD_queue_response(req->conn, rp->status, mr);
    MHD_destroy_response(mr);
    return ret;
}

static enum MHD_Result httpd__send_error(httpd_req *req, unsigned status, const char *text)
{
    httpd_resp_body(&req->resp, status, "text/plain; charset=utf-8", text, strlen(text),
                    HTTPD_STATIC);
    return httpd__send(req);
}

/* ---- routing ---- */

/* Route the request (phase NEW). Returns the route or NULL after queueing 400/404/405. */
static const httpd__route *httpd__route_req(httpd *h, httpd_req *req, enum MHD_Result *ret)
{
    req->dec = sl_xmalloc(strlen(req->raw) + 2);
    int n = urlpath_split(req->raw, req->dec, req->segs);
    if (n == URLPATH_EBAD) {
        SL_WARN("httpd", "bad request path rejected method=%s", req->method);
        *ret = httpd__send_error(req, 400, "bad path\n");
        return NULL;
    }
    const char *m = strcmp(req->method, "HEAD") == 0 ? "GET" : req->method;
    char allow[128] = "";
    size_t alen = 0;
    for (size_t i = 0; n > 0 && i < h->nroutes; i++) {
        const httpd__route *rt = &h->routes[i];
        if (!urlpath_match(&rt->pat, req->segs, (size_t)n)) continue;
        if (strcmp(rt->r.method, m) == 0) return rt;
        if (!strstr(allow, rt->r.method) && alen + strlen(rt->r.method) + 8 < sizeof allow) {
            alen += (size_t)snprintf(allow + alen, sizeof allow - alen, "%s%s", alen ? ", " : "",
                                     rt->r.method);
            if (strcmp(rt->r.method, "GET") == 0)
                alen += (size_t)snprintf(allow + alen, sizeof allow - alen, ", HEAD");
        }
    }
    if (alen) {
        httpd_resp_header(&req->resp, MHD_HTTP_HEADER_ALLOW, allow);
        *ret = httpd__send_error(req, 405, "method not allowed\n");
        return NULL;
    }
    *ret = httpd__send_error(req, 404, "not found\n");
    return NULL;
}

/* The token check of a routed request (phase NEW): 0 to go on, else the 401 or 403 queued in
 * *ret. The header's value is never logged. */
static int httpd__authorize(httpd *h, httpd_req *req, const httpd__route *rt, enum MHD_Result *ret)
{
    if (rt->r.access == HTTPD_PUBLIC || (!h->auth && !h->client_ca)) return 0;
    unsigned status = 403;
    if (h->client_ca) { /* mTLS: a verified certificate first, whatever the token */
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
        char why[256] = "no TLS session";
        if (!ci || !tlscred_peer((gnutls_session_t)ci->tls_session, req->peer_cn,
                                 sizeof req->peer_cn, why, sizeof why)) {
            req->peer_cn[0] = '\0';
            httpd_resp_text(&req->resp, 403, "forbidden: %s (mTLS: http.tls.client.ca)\n", why);
            *ret = httpd__send(req);
            goto refused;
        }
        if (!h->auth) return 0;
    }
    const char *hv =
        MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!auth_check(h->auth, hv, &req->principal)) {
        status = 401;
        httpd_resp_header(&req->resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                          hv ? "Bearer realm=\"sluice\", error=\"invalid_token\""
                             : "Bearer realm=\"sluice\"");
        *ret = httpd__send_error(req, 401,
                                 hv ? "unauthorized: the bearer token is not valid\n"
                                    : "unauthorized: a bearer token is required\n");
        goto refused;
    }
    auth_role r = req->principal.role;
    bool ok = r == AUTH_ROLE_ADMIN ? rt->r.access != HTTPD_INSTANCE
              : r == AUTH_ROLE_INSTANCE
                  ? rt->r.access == HTTPD_READ || rt->r.access == HTTPD_INSTANCE
                  : rt->r.access == HTTPD_READ;
    /* mTLS and an instance token: the certificate must be that instance's */
    bool cn_ok = !req->peer_cn[0] || r != AUTH_ROLE_INSTANCE ||
                 strcmp(req->peer_cn, req->principal.instance) == 0;
    if (ok && cn_ok) {
        req->authed = true;
        return 0;
    }
    if (!ok)
        httpd_resp_text(&req->resp, 403, "forbidden: role %s may not %s %s\n", auth_role_name(r),
                        req->method, req->raw);
    else
        httpd_resp_text(&req->resp, 403,
                        "forbidden: the client certificate's CN %s is not instance %s\n",
                        req->peer_cn, req->principal.instance);
    *ret = httpd__send(req);
refused:;
    uint64_t n = atomic_fetch_add(&h->refused_auth, 1) + 1;
    if ((n & (n - 1)) == 0) /* 1, 2, 4, 8, ...: a flood of bad tokens is not a flood of lines */
        SL_WARN("httpd", "refused status=%u method=%s path=%s (%" PRIu64 " refused so far)", status,
                req->method, req->raw, n);
    return -1;
}

/* MHD_OPTION_HTTPS_CERT_CALLBACK: each handshake takes the certificate in force now (a SIGHUP
 * may have swapped it). The session's pointer is its connection (MHD sets it), whose socket
 * context is our admission record, whose owner is the server. */
static int httpd__tls_cert(gnutls_session_t s, const gnutls_datum_t *req_ca_dn, int nreqs,
                           const gnutls_pk_algorithm_t *algos, int nalgos, gnutls_pcert_st **pcert,
                           unsigned int *npcert, gnutls_privkey_t *key)
{
    (void)req_ca_dn, (void)nreqs, (void)algos, (void)nalgos;
    struct MHD_Connection *conn = gnutls_session_get_ptr(s);
    const union MHD_ConnectionInfo *ci =
        conn ? MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT) : NULL;
    httpd_admit_conn *hc = ci ? ci->socket_context : NULL;
    httpd *h = hc ? httpd_admit_conn_owner(hc) : NULL;
    return h && h->tls ? tlscred_retrieve(h->tls, pcert, npcert, key) : -1;
}

/* HTTPS (o->tls_*) into h: the certificate, and the client CA's PEM for mTLS. */
static bool httpd__tls_open(httpd *h, const httpd_opts *o, char *err, size_t errlen)
{
    if (!o->tls_cert) {
        if (!o->tls_key && !o->tls_client_ca) return true;
        snprintf(err, errlen, "http.tls.cert: needed with %s",
                 o->tls_key ? "http.tls.key" : "http.tls.client.ca");
        return false;
    }
    if (!o->tls_key) {
        snprintf(err, errlen, "http.tls.key: needed with http.tls.cert");
        return false;
    }
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        snprintf(err, errlen, "http.tls.cert: this libmicrohttpd was built without TLS");
        return false;
    }
    if (!(h->tls = tlscred_open(o->tls_cert, o->tls_key, err, errlen))) return false;
    if (o->tls_client_ca) {
        uint8_t *pem = NULL;
        size_t len = 0;
        char why[256];
        if (fsutil_read_file(o->tls_client_ca, &pem, &len, why, sizeof why) != 0) {
            snprintf(err, errlen, "http.tls.client.ca: %s", why);
            return false;
        }
        h->client_ca = sl_xrealloc(pem, len + 1);
        h->client_ca[len] = '\0';
        if (!strstr(h->client_ca, "-----BEGIN CERTIFICATE-----")) {
            snprintf(err, errlen, "http.tls.client.ca: %s: no PEM certificate in it",
                     o->tls_client_ca);
            return false;
        }
    }
    return true;
}

bool httpd_tls(const httpd *h)
{
    return h->tls != NULL;
}

void httpd_tls_sighup(httpd *h)
{
    if (!h || !h->tls) return;
    char err[512], cn[TLSCRED_CN_MAX];
    if (tlscred_reload(h->tls, err, sizeof err) != 0) {
        SL_ERROR("httpd", "SIGHUP: %s: the previous certificate stays in force", err);
        return;
    }
    tlscred_subject(h->tls, cn, sizeof cn);
    SL_INFO("httpd", "SIGHUP: certificate re-read cn=%s", cn[0] ? cn : "(none)");
}

/* Compile one route (strings copied); false with a message on a bad one. */
static bool httpd__compile(httpd__route *rt, const httpd_route *src, char *err, size_t errlen)
{
    memset(rt, 0, sizeof *rt);
    if (!src->method || !*src->method || !src->handler ||
        ((src->flags & HTTPD_STREAM_BODY) && !src->stream) ||
        urlpath_compile(&rt->pat, src->pattern) != 0) {
        snprintf(err, errlen, "httpd: bad route %s %s", src->method ? src->method : "(null)",
                 src->pattern ? src->pattern : "(null)");
        return false;
    }
    rt->r = *src;
    rt->r.method = rt->method = sl_xstrdup(src->method);
    rt->r.pattern = NULL; /* compiled into pat */
    return true;
}

/* ---- connections (admission is httpd_admit.c's) ---- */

/* MHD_OPTION_ACCEPT_POLICY_CALLBACK, on the accepting worker before the connection exists. */
static enum MHD_Result httpd__accept_policy(void *cls, const struct sockaddr *addr,
                                            socklen_t addrlen)
{
    httpd *h = cls;
    (void)addrlen;
    return httpd_admit_accept(h->admit, addr) ? MHD_YES : MHD_NO;
}

/* The timer sleeps until the earliest deadline it knows: a new, earlier header deadline must
 * wake it (taking mu orders this after the timer's computation of its sleep). */
static void httpd__kick_timer(httpd *h)
{
    pthread_mutex_lock(&h->mu);
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

/* MHD_OPTION_NOTIFY_CONNECTION: a connection record lives from STARTED to CLOSED. */
static void httpd__notify_conn(void *cls, struct MHD_Connection *conn, void **socket_context,
                               enum MHD_ConnectionNotificationCode code)
{
    httpd *h = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *fi =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        const union MHD_ConnectionInfo *ai =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        bool kick = false;
        *socket_context = httpd_admit_opened(h->admit, fi ? fi->connect_fd : -1,
                                             ai ? ai->client_addr : NULL, &kick);
        if (kick) httpd__kick_timer(h);
        return;
    }
    if (!*socket_context) return;
    httpd_admit_closed(h->admit, *socket_context);
    *socket_context = NULL;
}

void httpd_get_stats(httpd *h, httpd_stats *out)
{
    httpd_admit_stats(h->admit, out);
}

/* ---- request phases ---- */

static void *httpd__uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
    httpd_req *req = sl_xmalloc(sizeof *req);
    memset(req, 0, sizeof *req);
    req->h = cls;
    req->conn = conn;
    req->resp.fd = -1;
    req->content_length = -1;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    req->hc = ci ? ci->socket_context : NULL;
    size_t n = uri ? strcspn(uri, "?") : 0;
    req->raw = sl_xmalloc(n + 1);
    if (n) memcpy(req->raw, uri, n);
    req->raw[n] = '\0';
    return req;
}

static void httpd__completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                             enum MHD_RequestTerminationCode toe)
{
    (void)cls; /* == req->h */
    (void)conn;
    httpd_req *req = *con_cls;
    if (!req) return;
    httpd *h = req->h;
    if (req->draining) {
        pthread_mutex_lock(&h->mu);
        h->ndraining--;
        pthread_cond_signal(&h->drain_cv);
        pthread_mutex_unlock(&h->mu);
    }
    /* Kept alive: the header deadline runs again for the next request (if the connection is
     * closing instead, CLOSED takes it off the list at once). */
    if (req->hc && httpd_admit_wait_start(h->admit, req->hc)) httpd__kick_timer(h);
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && req->phase != PH_NEW)
        SL_DEBUG("httpd", "request ended early path=%s reason=%d", req->raw, (int)toe);
    if (req->state_free) req->state_free(req->state);
    httpd__resp_free(&req->resp);
    free(req->body);
    free(req->raw);
    free(req->dec);
    free(req->wait_key);
    free(req);
    *con_cls = NULL;
}

static enum MHD_Result httpd__run(httpd *h, httpd_req *req);

static enum MHD_Result httpd__on_headers(httpd *h, httpd_req *req)
{
    enum MHD_Result ret = MHD_YES;
    if (req->hc) httpd_admit_wait_end(h->admit, req->hc);
    const httpd__route *rt = httpd__route_req(h, req, &ret);
    if (!rt) return ret;
    req->route = rt;
    if (httpd__authorize(h, req, rt, &ret)) return ret;
    const char *cl =
        MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(cl, &end, 10);
        if (errno || end == cl || *end || v > INT64_MAX)
            return httpd__send_error(req, 400, "bad content-length\n");
        req->content_length = (int64_t)v;
        if (v > rt->r.max_body) return httpd__send_error(req, 413, "body too large\n");
    }
    if (rt->r.flags & HTTPD_STREAM_BODY) { /* the stream's open, which may park */
        req->phase = PH_OPEN;
        req->first_ms = sl_clock_mono_ms();
        return httpd__run(h, req);
    }
    req->phase = PH_BODY;
    return MHD_YES;
}

static enum MHD_Result httpd__on_data(httpd *h, httpd_req *req, const char *data, size_t n)
{
    const httpd_route *r = &req->route->r;
    req->received += n;
    if (!req->over_cap && !req->stream_failed && req->received > r->max_body) {
        req->over_cap = true;
        free(req->body); /* release the memory now: the reply is 413 whatever follows */
        req->body = NULL;
        req->body_cap = 0;
        SL_WARN("httpd", "body over cap path=%s cap=%" PRIu64, req->raw, r->max_body);
    }
    if (req->over_cap || req->stream_failed) {
        req->discarded += n;
        return req->discarded > HTTPD_DISCARD_MAX ? MHD_NO : MHD_YES;
    }
    if (r->flags & HTTPD_STREAM_BODY) {
        if (r->stream(req, data, n, &req->resp, h->ctx)) req->stream_failed = true;
        return MHD_YES;
    }
    size_t have = (size_t)(req->received - n);
    if (req->received + 1 > req->body_cap) {
        size_t cap = req->body_cap ? req->body_cap : 4096;
        while (cap < req->received + 1)
            cap *= 2;
        if (cap > r->max_body + 1) cap = (size_t)r->max_body + 1;
        req->body = sl_xrealloc(req->body, cap);
        req->body_cap = cap;
    }
    memcpy(req->body + have, data, n);
    req->body[req->received] = '\0';
    return MHD_YES;
}

/* True when a wake that the park of req must not miss happened after `since`: a wake of
 * every request, or of req's key (its bucket's: a collision costs one more run, never a lost
 * wake). @locks h->mu */
static bool httpd__woken_since(const httpd *h, const httpd_req *req, uint64_t since)
{
    return h->all_gen > since || (req->wait_key && h->key_gen[req->wait_bucket] > since);
}

/* Link a request whose connection was just suspended into h->parked and its key's bucket.
 * @locks h->mu */
static void httpd__park(httpd *h, httpd_req *req)
{
    req->pprev = NULL;
    req->pnext = h->parked;
    if (h->parked) h->parked->pprev = req;
    h->parked = req;
    if (req->wait_key) {
        httpd_req **b = &h->kparked[req->wait_bucket];
        req->kprev = NULL;
        req->knext = *b;
        if (*b) (*b)->kprev = req;
        *b = req;
    }
    if (req->deadline_ms != INT64_MAX) pthread_cond_signal(&h->cv); /* a new deadline */
}

/* Run the handler (PH_DONE) or a stream route's open (PH_OPEN) until it answers, goes on
 * (an open that neither fails nor waits: the body is read next), or parks. */
static enum MHD_Result httpd__run(httpd *h, httpd_req *req)
{
    for (;;) {
        pthread_mutex_lock(&h->mu);
        req->seen_gen = h->seq;
        pthread_mutex_unlock(&h->mu);
        req->wait_asked = false;
        free(req->wait_key);
        req->wait_key = NULL;
        if (req->phase == PH_OPEN) {
            if (req->route->r.stream(req, NULL, 0, &req->resp, h->ctx)) {
                req->phase = PH_BODY;
                req->stream_failed = true;
                return httpd__send(req);
            }
            if (!req->wait_asked) {
                req->phase = PH_BODY;
                return MHD_YES;
            }
        } else {
            req->route->r.handler(req, &req->resp, h->ctx);
            if (!req->wait_asked || req->resp.status) return httpd__send(req);
        }
        pthread_mutex_lock(&h->mu);
        if (h->stopping) {
            pthread_mutex_unlock(&h->mu);
            return httpd__send_error(req, 503, "server stopping\n");
        }
        uint64_t since = req->since < req->seen_gen ? req->since : req->seen_gen;
        if (httpd__woken_since(h, req, since)) { /* woken while the handler ran: look again */
            pthread_mutex_unlock(&h->mu);
            continue;
        }
        MHD_suspend_connection(req->conn);
        httpd__park(h, req);
        pthread_mutex_unlock(&h->mu);
        return MHD_YES;
    }
}

static enum MHD_Result httpd__access(void *cls, struct MHD_Connection *conn, const char *url,
                                     const char *method, const char *version,
                                     const char *upload_data, size_t *upload_data_size,
                                     void **con_cls)
{
    httpd *h = cls;
    (void)url; /* already decoded by MHD: routing uses the raw copy from httpd__uri_log */
    (void)version;
    httpd_req *req = *con_cls;
    if (!req) return MHD_NO; /* no uri callback: cannot happen with MHD 0.9.75 */
    req->conn = conn;
    req->method = method;
    if (req->phase == PH_NEW) return httpd__on_headers(h, req);
    if (req->phase == PH_OPEN) return httpd__run(h, req); /* resumed before the body */
    if (*upload_data_size) {
        enum MHD_Result ret = httpd__on_data(h, req, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return ret;
    }
    if (req->phase == PH_BODY) {
        req->phase = PH_DONE;
        req->first_ms = sl_clock_mono_ms();
        if (req->over_cap) return httpd__send_error(req, 413, "body too large\n");
        if (req->stream_failed) return httpd__send(req);
    }
    return httpd__run(h, req);
}

/* ---- long-poll: parking, wake-ups, the timer ---- */

/* Resume a parked request: MHD calls the access handler again (any thread may resume).
 * @locks h->mu */
static void httpd__unpark(httpd *h, httpd_req *req)
{
    if (req->pprev)
        req->pprev->pnext = req->pnext;
    else
        h->parked = req->pnext;
    if (req->pnext) req->pnext->pprev = req->pprev;
    req->pnext = req->pprev = NULL;
    if (req->wait_key) {
        if (req->kprev)
            req->kprev->knext = req->knext;
        else
            h->kparked[req->wait_bucket] = req->knext;
        if (req->knext) req->knext->kprev = req->kprev;
        req->knext = req->kprev = NULL;
    }
    MHD_resume_connection(req->conn);
}

/* Resumes the parked requests whose hold time is over, and drives admission's deadlines. */
static void *httpd__timer_main(void *arg)
{
    httpd *h = arg;
    pthread_mutex_lock(&h->mu);
    while (!h->stopping) {
        int64_t now = sl_clock_mono_ms(), next = httpd_admit_tick(h->admit, now);
        for (httpd_req *req = h->parked, *nx; req; req = nx) {
            nx = req->pnext;
            if (req->deadline_ms <= now)
                httpd__unpark(h, req);
            else if (req->deadline_ms < next)
                next = req->deadline_ms;
        }
        if (next > now + 10000) next = now + 10000; /* the next summary line, if any */
        struct timespec ts = {.tv_sec = next / 1000, .tv_nsec = (next % 1000) * 1000000};
        pthread_cond_timedwait(&h->cv, &h->mu, &ts);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

static uint32_t httpd__key_bucket(const char *key)
{
    uint32_t x = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        x = (x ^ *p) * 16777619u;
    return x % HTTPD_WAKE_BUCKETS;
}

bool httpd_req_wait_key_since(httpd_req *req, unsigned hold_ms, const char *key, uint64_t since)
{
    int64_t deadline = INT64_MAX;
    if (hold_ms != HTTPD_WAIT_FOREVER) {
        deadline = req->first_ms + (int64_t)hold_ms;
        if (sl_clock_mono_ms() >= deadline) return false;
    }
    req->wait_asked = true;
    req->deadline_ms = deadline;
    req->since = since;
    free(req->wait_key);
    req->wait_key = key ? sl_xstrdup(key) : NULL;
    req->wait_bucket = key ? httpd__key_bucket(key) : 0;
    return true;
}

bool httpd_req_wait_key(httpd_req *req, unsigned hold_ms, const char *key)
{
    return httpd_req_wait_key_since(req, hold_ms, key, UINT64_MAX);
}

bool httpd_req_wait(httpd_req *req, unsigned hold_ms)
{
    return httpd_req_wait_key_since(req, hold_ms, NULL, UINT64_MAX);
}

uint64_t httpd_wake_seq(httpd *h)
{
    pthread_mutex_lock(&h->mu);
    uint64_t seq = h->seq;
    pthread_mutex_unlock(&h->mu);
    return seq;
}

void httpd_wake(httpd *h)
{
    pthread_mutex_lock(&h->mu);
    h->all_gen = ++h->seq;
    while (h->parked)
        httpd__unpark(h, h->parked);
    pthread_mutex_unlock(&h->mu);
}

void httpd_wake_key(httpd *h, const char *key)
{
    uint32_t b = httpd__key_bucket(key);
    pthread_mutex_lock(&h->mu);
    h->key_gen[b] = ++h->seq;
    for (httpd_req *req = h->kparked[b], *nx; req; req = nx) {
        nx = req->knext;
        if (strcmp(req->wait_key, key) == 0) httpd__unpark(h, req);
    }
    pthread_mutex_unlock(&h->mu);
}

/* ---- request accessors ---- */

const char *httpd_req_method(const httpd_req *req)
{
    return req->method;
}

const char *httpd_req_path(const httpd_req *req)
{
    return req->raw;
}

const char *httpd_req_param(const httpd_req *req, const char *name)
{
    return req->route ? urlpath_param(&req->route->pat, req->segs, name) : NULL;
}

const char *httpd_req_query(const httpd_req *req, const char *name)
{
    const char *v = NULL;
    if (MHD_lookup_connection_value_n(req->conn, MHD_GET_ARGUMENT_KIND, name, strlen(name), &v,
                                      NULL) != MHD_YES)
        return NULL;
    return v ? v : "";
}

typedef struct httpd__qs {
    char *buf;
    size_t cap, len;
    bool over;
} httpd__qs;

static void httpd__qs_put(httpd__qs *q, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s && !q->over; s++) {
        unsigned char ch = (unsigned char)*s;
        bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                     (ch >= '0' && ch <= '9') || strchr("-._~,", ch);
        size_t need = plain ? 1 : 3;
        if (q->len + need >= q->cap) {
            q->over = true;
            break;
        }
        if (plain) {
            q->buf[q->len++] = (char)ch;
        } else {
            q->buf[q->len++] = '%';
            q->buf[q->len++] = hex[ch >> 4];
            q->buf[q->len++] = hex[ch & 15];
        }
    }
}

static enum MHD_Result httpd__qs_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind;
    httpd__qs *q = cls;
    if (q->len + 1 >= q->cap) q->over = true;
    if (q->over) return MHD_NO;
    char sep = q->len ? '&' : '?';
    q->buf[q->len++] = sep;
    httpd__qs_put(q, key);
    if (value) {
        if (q->len + 1 >= q->cap)
            q->over = true;
        else
            q->buf[q->len++] = '=';
        httpd__qs_put(q, value);
    }
    return q->over ? MHD_NO : MHD_YES;
}

void httpd_req_query_string(const httpd_req *req, char *buf, size_t cap)
{
    if (!cap) return;
    httpd__qs q = {buf, cap, 0, false};
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, httpd__qs_arg, &q);
    buf[q.over ? 0 : q.len] = '\0';
}

const auth_principal *httpd_req_principal(const httpd_req *req)
{
    return req->authed ? &req->principal : NULL;
}

const char *httpd_req_instance(const httpd_req *req)
{
    if (req->authed)
        return req->principal.role == AUTH_ROLE_INSTANCE ? req->principal.instance : "";
    return req->peer_cn[0] ? req->peer_cn : NULL; /* mTLS without tokens: the certificate's */
}

const char *httpd_req_header(const httpd_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const void *httpd_req_body(const httpd_req *req, size_t *len)
{
    bool stream = req->route && (req->route->r.flags & HTTPD_STREAM_BODY);
    if (len) *len = stream ? 0 : (size_t)req->received;
    if (stream) return NULL;
    return req->body ? req->body : "";
}

uint64_t httpd_req_body_received(const httpd_req *req)
{
    return req->received;
}

int64_t httpd_req_content_length(const httpd_req *req)
{
    return req->content_length;
}

void httpd_req_set_state(httpd_req *req, void *state, void (*free_fn)(void *state))
{
    req->state = state;
    req->state_free = free_fn;
}

void *httpd_req_state(const httpd_req *req)
{
    return req->state;
}

/* ---- lifecycle ---- */

static void httpd__mhd_log(void *cls, const char *fmt, va_list ap)
{
    httpd *h = cls;
    char msg[sizeof h->start_err];
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    if (atomic_load(&h->starting)) memcpy(h->start_err, msg, sizeof msg); /* no workers yet */
    /* One line per refused connection would let a flood flood the log: count it for the
     * summary line instead (no lock here: MHD may log from inside calls made under h->mu). */
    if (strncmp(msg, "Server reached connection limit", 31) == 0) {
        httpd_admit_refused_by_mhd(h->admit);
        return;
    }
    /* A client gone in the middle of a request, or a socket we shut down (header deadline,
     * eviction): routine, and as many as there are connections. */
    if (strncmp(msg, "Connection socket is closed when reading", 40) == 0 ||
        strncmp(msg, "Socket has been disconnected when reading", 41) == 0 ||
        strncmp(msg, "Connection was closed by remote side", 36) == 0) {
        SL_DEBUG("httpd", "libmicrohttpd: %s", msg);
        return;
    }
    SL_WARN("httpd", "libmicrohttpd: %s", msg);
}

static void httpd__free(httpd *h)
{
    for (size_t i = 0; i < h->nroutes; i++) {
        free(h->routes[i].method);
        urlpath_pat_free(&h->routes[i].pat);
    }
    free(h->routes);
    httpd_admit_free(h->admit); /* every record is closed once MHD closed every connection */
    tlscred_free(h->tls);
    free(h->client_ca);
    pthread_cond_destroy(&h->cv);
    pthread_cond_destroy(&h->drain_cv);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

httpd *httpd_start(const char *bind_addr, uint16_t port, const httpd_route *routes, size_t nroutes,
                   void *ctx, const httpd_opts *opts, char *err, size_t errlen)
{
    httpd_opts o = opts ? *opts : (httpd_opts){0};
    if (!o.threads) o.threads = 2;
    if (!o.conn_limit) o.conn_limit = HTTPD_DEFAULT_CONN_LIMIT;
    if (!o.timeout_s) o.timeout_s = 30;
    if (!o.header_timeout_ms) o.header_timeout_ms = HTTPD_DEFAULT_HEADER_TIMEOUT_MS;
    o.conn_limit = httpd_admit_fit_fd_limit(o.conn_limit);
    httpd *h = sl_xmalloc(sizeof *h);
    memset(h, 0, sizeof *h);
    h->ctx = ctx;
    h->auth = o.auth;
    h->admit = httpd_admit_new(o.conn_limit, o.per_ip_limit, o.header_timeout_ms, h);
    pthread_mutex_init(&h->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&h->cv, &ca);
    pthread_cond_init(&h->drain_cv, &ca);
    pthread_condattr_destroy(&ca);
    h->routes = sl_xmalloc(nroutes * sizeof *h->routes);
    for (; h->nroutes < nroutes; h->nroutes++) {
        if (!httpd__compile(&h->routes[h->nroutes], &routes[h->nroutes], err, errlen))
            goto fail_routes;
    }

    if (!httpd__tls_open(h, &o, err, errlen)) goto fail_routes;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG | (h->tls ? MHD_USE_TLS : 0);
    struct MHD_OptionItem tls_ops[3] = {{MHD_OPTION_END, 0, NULL}};
    if (h->tls) {
        tls_ops[0] =
            (struct MHD_OptionItem){MHD_OPTION_HTTPS_CERT_CALLBACK, 0, (void *)&httpd__tls_cert};
        if (h->client_ca) /* MHD asks each client for a certificate verified against it */
            tls_ops[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, h->client_ca};
    }
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    if (!bind_addr || !*bind_addr) {
        s4->sin_family = AF_INET;
        s4->sin_addr.s_addr = htonl(INADDR_ANY);
        s4->sin_port = htons(port);
    } else if (inet_pton(AF_INET, bind_addr, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons(port);
    } else if (inet_pton(AF_INET6, bind_addr, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(port);
        flags |= MHD_USE_IPv6;
    } else {
        snprintf(err, errlen, "httpd: bad bind address %s", bind_addr);
        goto fail_routes;
    }
    /* MHD's own limit sits above ours: it must leave room for sockets we shut down that their
     * worker has not closed yet, and it is split evenly between the workers (one that is full
     * stops accepting while the others go on). The per-address limit is ours alone (MHD's
     * would refuse before httpd__accept_policy could make room). */
    unsigned mhd_limit = o.conn_limit + o.conn_limit / 4 + 4 * o.threads;
    atomic_store(&h->starting, true);
    /* The logger goes first so MHD routes even option-parsing messages through it. */
    h->d = MHD_start_daemon(
        flags, port, &httpd__accept_policy, h, &httpd__access, h, MHD_OPTION_EXTERNAL_LOGGER,
        &httpd__mhd_log, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, o.threads, MHD_OPTION_CONNECTION_LIMIT, mhd_limit,
        MHD_OPTION_CONNECTION_TIMEOUT, o.timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)(64 * 1024), MHD_OPTION_NOTIFY_COMPLETED, &httpd__completed, h,
        MHD_OPTION_NOTIFY_CONNECTION, &httpd__notify_conn, h, MHD_OPTION_URI_LOG_CALLBACK,
        &httpd__uri_log, h, MHD_OPTION_ARRAY, tls_ops, MHD_OPTION_END);
    atomic_store(&h->starting, false);
    if (!h->d) {
        snprintf(err, errlen, "httpd: cannot listen on %s:%u: %s",
                 bind_addr && *bind_addr ? bind_addr : "0.0.0.0", port,
                 h->start_err[0] ? h->start_err : "libmicrohttpd refused to start");
        goto fail_routes;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = di ? di->port : port;
    if (pthread_create(&h->timer, NULL, httpd__timer_main, h) != 0) {
        snprintf(err, errlen, "httpd: cannot start the long-poll timer thread");
        goto fail_daemon;
    }
    h->timer_started = true;
    SL_INFO("httpd",
            "listening addr=%s port=%u threads=%u max_connections=%u per_ip=%u "
            "header_timeout_ms=%u tls=%s tokens=%s",
            bind_addr && *bind_addr ? bind_addr : "0.0.0.0", h->port, o.threads, o.conn_limit,
            o.per_ip_limit, o.header_timeout_ms,
            !h->tls        ? "off"
            : h->client_ca ? "mtls"
                           : "on",
            h->auth ? "on" : "off");
    return h;

fail_daemon:
    MHD_stop_daemon(h->d);
fail_routes:
    httpd__free(h);
    return NULL;
}

uint16_t httpd_port(const httpd *h)
{
    return h->port;
}

void httpd_stop(httpd *h)
{
    if (!h) return;
    pthread_mutex_lock(&h->mu);
    h->stopping = true;
    /* Parked requests run once more (parking again answers 503). MHD_stop_daemon would close
     * their sockets before that reply is out, so wait a little for them to complete. */
    while (h->parked) {
        h->parked->draining = true;
        h->ndraining++;
        httpd__unpark(h, h->parked);
    }
    pthread_cond_signal(&h->cv);
    int64_t deadline = sl_clock_mono_ms() + 2000;
    while (h->ndraining > 0 && sl_clock_mono_ms() < deadline) {
        struct timespec ts = {.tv_sec = deadline / 1000, .tv_nsec = (deadline % 1000) * 1000000};
        pthread_cond_timedwait(&h->drain_cv, &h->mu, &ts);
    }
    if (h->ndraining) SL_WARN("httpd", "stopping with unanswered long-polls n=%zu", h->ndraining);
    pthread_mutex_unlock(&h->mu);
    if (h->timer_started) pthread_join(h->timer, NULL);
    MHD_stop_daemon(h->d); /* every connection is CLOSED-notified: the address table empties */
    httpd__free(h);
}
