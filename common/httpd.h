/* Small HTTP server on libmicrohttpd for the controller's and sidecar's APIs (DESIGN.md §3).
 *
 * Routing is EXACT (rules in urlpath.h): a route is a method plus a pattern of literal segments
 * and `{name}` captures ("/segments/{table}/{segment}"); a request matches only if it has the
 * same number of segments and every literal is equal. There is no prefix or substring matching
 * (an unsecured-prefix list is how OpenMetadata CVE-2024-28255 happened). Each path segment is
 * percent-decoded once; a segment that decodes to something containing '/' or NUL, that is
 * "." or "..", or that has a malformed escape makes the request 400 before any handler runs.
 * Unknown path: 404. Known path, other method: 405 with an Allow header. HEAD is served by GET
 * routes (no body is sent).
 *
 * Bodies: each route has a cap (max_body). A Content-Length above it is answered 413 at once,
 * without reading the body. A chunked body is counted as it arrives; once over the cap its
 * bytes are discarded (never buffered) and the reply is 413; if the client keeps sending more
 * than HTTPD_DISCARD_MAX bytes past the cap, the connection is closed without a reply
 * (libmicrohttpd cannot reply in the middle of an upload). Routes flagged HTTPD_STREAM_BODY
 * are not buffered: their `stream` callback gets the body chunk by chunk (a segment upload of
 * up to max_body bytes is written to a file as it arrives).
 *
 * Threads and long-polls: MHD runs a pool of `threads` workers, each polling its connections
 * with poll(2); every callback runs on a worker. (Not epoll: MHD 0.9.75's edge-triggered loop
 * drops READ_READY after a short read, so a client that sends its last bytes and FIN together
 * is not seen to close until the idle timeout; the test of an aborted upload caught it.) A worker
 * owns all its connections, so a handler that blocks stalls every keep-alive connection on that
 * worker, not only its own. Handlers must therefore not block for long. Long-polls use
 * suspend/resume instead: a handler that cannot answer yet calls httpd_req_wait() and returns; the
 * connection is suspended (no thread held) and the handler is called again after httpd_wake() or
 * when the hold time has passed. A request parked on a key (httpd_req_wait_key) is woken only by
 * a wake of that key (httpd_wake_key) or of all: a controller parks a long-poll on its segment's
 * name, and a request whose work runs on another thread on that work's own key. The number of
 * concurrent long-polls is bounded only by the connection limits.
 *
 * Connection exhaustion (slowloris, idle sockets). A connection is WAITING while it has no
 * complete request header: from accept, and again from the end of each reply while kept alive.
 * - Header deadline (header_timeout_ms, default 10 s): a connection waiting longer is closed,
 *   however it trickles bytes (MHD's own timeout, timeout_s, is an idle timeout that every
 *   byte resets; it still bounds stalls inside a request: body upload, reply). It is also the
 *   keep-alive idle time.
 * - Limits: conn_limit connections in all, per_ip_limit per client address. A new connection
 *   at a limit closes the oldest waiting connection (of its address, for per_ip_limit) to
 *   take its place; only when every slot is inside a request (uploads, parked long-polls) is
 *   it refused (accepted and closed at once). So idle and slow-header connections cannot lock
 *   a real request out, and one address cannot hold more than per_ip_limit requests.
 *   Long-polls count: the controller holds one per partition in completion for each sidecar,
 *   so per_ip_limit must leave room for a host's sidecars' partitions.
 * - A slow client holds no thread: workers poll(2) all their sockets.
 * Admission is common/httpd_admit.h's (one module of its own, driven by this server).
 * httpd_start raises the soft RLIMIT_NOFILE when conn_limit needs it (or lowers conn_limit,
 * with a warning, to what the hard limit allows). Closures and refusals are counted
 * (httpd_get_stats) and summed up in one log line per 10 s, never one line per connection. */
#ifndef SL_HTTPD_H
#define SL_HTTPD_H

#include "common/auth.h"

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct httpd httpd;
typedef struct httpd_req httpd_req;   /* one request; valid only inside callbacks */
typedef struct httpd_resp httpd_resp; /* the reply being built for that request */

#define HTTPD_DISCARD_MAX (1u << 20)

/* Called when the request is complete (buffered body received, or stream finished). Fill resp
 * (status + body or file), or call httpd_req_wait() and leave it empty. A handler that does
 * neither makes the request a 500. ctx is httpd_start's ctx. */
typedef void (*httpd_handler)(httpd_req *req, httpd_resp *resp, void *ctx);

/* HTTPD_STREAM_BODY routes: called once with data == NULL, len == 0 when the headers are in
 * (open the destination here; reject early by filling resp), then for each chunk of the body
 * in order. Return 0 to continue; non-zero ends the request with resp (fill it; an empty resp
 * becomes 500) and the rest of the body is discarded (no handler runs then). The call with
 * data == NULL may also park the request before any of its body is read: call
 * httpd_req_wait_key (its hold time counts from the headers) and return 0; it is called again
 * with data == NULL once woken. */
typedef int (*httpd_stream_fn)(httpd_req *req, const void *data, size_t len, httpd_resp *resp,
                               void *ctx);

enum { HTTPD_STREAM_BODY = 1 };

/* Who may call a route when the server has a token table (httpd_opts.auth; DESIGN §12): a
 * request without a valid bearer token is 401 (with WWW-Authenticate), one whose role may not
 * call the route 403, both before any handler runs or any body is read. The zero value is the
 * strictest, so a route nobody classified is admin-only. Without a table every route is open. */
typedef enum httpd_access {
    HTTPD_ADMIN = 0, /* role admin */
    HTTPD_READ,      /* any valid token: admin, instance, reader */
    HTTPD_INSTANCE,  /* role instance; the handler checks the id (httpd_req_principal) */
    HTTPD_PUBLIC,    /* no token needed (/health) */
} httpd_access;

typedef struct httpd_route {
    const char *method;  /* "GET", "PUT", "POST", ... */
    const char *pattern; /* "/tables/{table}/segments"; literals may not contain '{', '%' */
    httpd_handler handler;
    uint64_t max_body; /* bytes; 0 = no body accepted */
    unsigned flags;    /* HTTPD_STREAM_BODY */
    httpd_stream_fn stream;
    httpd_access access;
} httpd_route;

#define HTTPD_DEFAULT_CONN_LIMIT 1024
#define HTTPD_DEFAULT_HEADER_TIMEOUT_MS 10000

typedef struct httpd_opts {
    unsigned threads;           /* worker pool size; 0 = 2 */
    unsigned conn_limit;        /* concurrent connections; 0 = HTTPD_DEFAULT_CONN_LIMIT */
    unsigned timeout_s;         /* max idle time between reads/writes, inside a request too;
                                 * 0 = 30 */
    unsigned per_ip_limit;      /* connections per client address; 0 = no limit (the
                                 * commands' http.max.connections.per.ip defaults to 512) */
    unsigned header_timeout_ms; /* max wait for a complete request header; 0 = 10 s */
    auth *auth;                 /* bearer tokens the routes' access is checked against;
                                 * borrowed for the server's life; NULL = no checks */
    const char *tls_cert;       /* PEM certificate chain: serve HTTPS (http.tls.cert); NULL:
                                 * plain HTTP */
    const char *tls_key;        /* its PEM private key (http.tls.key); with tls_cert */
    const char *tls_client_ca;  /* mTLS (http.tls.client.ca): every route but HTTPD_PUBLIC
                                 * needs a client certificate this PEM bundle signed (403
                                 * otherwise); with tokens, an instance token's CN must be its
                                 * instance id; NULL: no client certificates */
} httpd_opts;

/* Counters since httpd_start (connections: open now). */
typedef struct httpd_stats {
    uint64_t connections;     /* open, not counting those being closed by us */
    uint64_t header_timeouts; /* closed: no complete request header within header_timeout */
    uint64_t evicted;         /* closed to make room for a new connection at a limit */
    uint64_t refused;         /* new connections refused: at a limit, nothing evictable */
} httpd_stats;

/* Start serving routes (the table and its strings are copied) on bind_addr (IPv4 or IPv6
 * literal; NULL or "" = all IPv4 addresses) and port (0 = any free port, see httpd_port).
 * opts may be NULL for the defaults. ctx is passed to every callback. Returns the server, or
 * NULL with a message in err (bad route table, bad address, bind failure). Caller stops it with
 * httpd_stop. */
httpd *httpd_start(const char *bind_addr, uint16_t port, const httpd_route *routes, size_t nroutes,
                   void *ctx, const httpd_opts *opts, char *err, size_t errlen);

/* The port actually bound. */
uint16_t httpd_port(const httpd *h);

/* Whether h serves HTTPS. */
bool httpd_tls(const httpd *h);

/* SIGHUP: read tls_cert and tls_key again (nothing when h serves plain HTTP); new handshakes
 * use them, open connections keep theirs; a pair that fails to load is logged and the old one
 * stays. Any thread. */
void httpd_tls_sighup(httpd *h);

/* A snapshot of the connection counters (any thread). */
void httpd_get_stats(httpd *h, httpd_stats *out);

/* Stop: parked long-polls are resumed (a handler that would park again gets 503 instead),
 * connections are closed, the workers joined and h freed. Must not be called from a
 * callback. NULL is a no-op. */
void httpd_stop(httpd *h);

/* ---- request accessors (strings owned by the request, valid until the callback returns) ---- */
const char *httpd_req_method(const httpd_req *req);
/* The raw path as sent (not decoded), without the query string. */
const char *httpd_req_path(const httpd_req *req);
/* A decoded `{name}` capture of the route, or NULL. */
const char *httpd_req_param(const httpd_req *req, const char *name);
/* A decoded query-string argument ("?a=1&b=x%20y"), or NULL; "" for "?flag". */
const char *httpd_req_query(const httpd_req *req, const char *name);
/* The request's query arguments again as "?k=v&..." (percent-encoded) into buf, or "" when it
 * has none or they do not fit cap (for a redirect that must keep them). */
void httpd_req_query_string(const httpd_req *req, char *buf, size_t cap);
/* Who sent the request (its token's role and instance), or NULL when the server checks no
 * tokens or the route is HTTPD_PUBLIC. */
const auth_principal *httpd_req_principal(const httpd_req *req);
/* The instance a request speaks for, when the server knows: its instance token's id, else
 * its client certificate's CN; NULL when neither (no tokens, no mTLS). */
const char *httpd_req_instance(const httpd_req *req);
/* A request header, case-insensitive name, or NULL. */
const char *httpd_req_header(const httpd_req *req, const char *name);
/* The buffered body (NUL-terminated for convenience; len excludes the NUL); for stream routes
 * NULL. *len may be NULL. */
const void *httpd_req_body(const httpd_req *req, size_t *len);
/* Body bytes received so far (buffered or streamed). */
uint64_t httpd_req_body_received(const httpd_req *req);
/* Declared Content-Length, or -1 when absent (chunked). */
int64_t httpd_req_content_length(const httpd_req *req);
/* Per-request state for the callbacks (e.g. the upload fd). free_fn(state) runs when the
 * request ends for any reason (done, client gone, server stopping), so it must release
 * whatever a half-finished upload holds. Setting again frees nothing: the caller owns it. */
void httpd_req_set_state(httpd_req *req, void *state, void (*free_fn)(void *state));
void *httpd_req_state(const httpd_req *req);

/* ---- long-poll ---- */
/* Park the request until httpd_wake() or until hold_ms after the handler first ran, whichever
 * comes first; then the handler is called again with the same request (body kept). Returns
 * true when parked (the handler must return without filling resp), false when the hold time
 * has already passed (the handler must answer now). Use as:
 *     if (!decided && httpd_req_wait(req, 5000)) return;            */
bool httpd_req_wait(httpd_req *req, unsigned hold_ms);

/* hold_ms for a wait with no hold time: only a wake (or httpd_stop) ends it. */
#define HTTPD_WAIT_FOREVER UINT_MAX

/* As httpd_req_wait, parked on key (copied): httpd_wake_key with the same key wakes it, and
 * httpd_wake; a wake of another key does not. hold_ms may be HTTPD_WAIT_FOREVER (then it
 * always parks: for a request waiting on work another thread does and wakes it for). */
bool httpd_req_wait_key(httpd_req *req, unsigned hold_ms, const char *key);
/* As httpd_req_wait_key, for a decision made before this handler run (on another thread,
 * while the request was parked): since is httpd_wake_seq() as read before that decision, and
 * a wake of key after it makes the handler run again at once instead of parking. */
bool httpd_req_wait_key_since(httpd_req *req, unsigned hold_ms, const char *key, uint64_t since);
/* The wake sequence: every wake after this call is numbered higher (any thread). */
uint64_t httpd_wake_seq(httpd *h);

/* Call the handlers of all parked requests again (any thread). A wake that races with a
 * handler deciding to park is not lost: that handler is called again at once. */
void httpd_wake(httpd *h);
/* Call the handlers again of the requests parked on key, and only those (any thread; costs
 * the requests parked on keys that hash alike, not all of them). Not lost either when it
 * races a handler deciding to park on key. */
void httpd_wake_key(httpd *h, const char *key);

/* ---- responses: the last body/file setter wins ---- */
typedef enum httpd_own {
    HTTPD_COPY,   /* the body is copied now */
    HTTPD_TAKE,   /* takes ownership of a malloc'd body; freed with free() */
    HTTPD_STATIC, /* borrowed; must stay valid for the server's lifetime (string literals) */
} httpd_own;

/* A body reply; ctype may be NULL (no Content-Type). */
void httpd_resp_body(httpd_resp *resp, unsigned status, const char *ctype, const void *body,
                     size_t len, httpd_own own);
/* A short text/plain reply formatted like printf. */
void httpd_resp_text(httpd_resp *resp, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Send len bytes of fd from offset (sendfile, no copy). Takes ownership of fd: it is closed
 * when the reply is done or replaced. */
void httpd_resp_fd(httpd_resp *resp, unsigned status, const char *ctype, int fd, uint64_t offset,
                   uint64_t len);
/* Add a header (copied). Returns 0, or SL_ELIMIT past 8 headers, SL_EINVAL on CR/LF in it. */
int httpd_resp_header(httpd_resp *resp, const char *name, const char *value);

/* A reply built away from its request (on another thread, while the request is parked): fill
 * it with the setters above, then hand it to the request with httpd_resp_move. Caller owns it
 * until then (httpd_resp_free). */
httpd_resp *httpd_resp_new(void);
/* Replace resp's content (status, body or fd, headers) with from's, and free from. */
void httpd_resp_move(httpd_resp *resp, httpd_resp *from);
/* Free a reply from httpd_resp_new that was not moved. NULL is a no-op. */
void httpd_resp_free(httpd_resp *resp);

#endif
