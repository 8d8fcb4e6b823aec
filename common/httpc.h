/* Small HTTP client on libcurl for the sidecar's completion client, segment uploads and
 * downloads, and the CLIs that talk to a controller.
 *
 * One `httpc` per thread: it holds one CURL easy handle, so consecutive requests to the same
 * host reuse the kept-alive connection (a completion long-poll loop does not pay a TCP
 * handshake per RPC). The handle is reset before every request, so no option of one request
 * leaks into the next; live connections survive the reset.
 *
 * HTTP statuses are not errors here: a request that got a reply returns 0 with resp->status
 * set (404, 503, ...), and the caller decides. The negative SL_E* codes are for the transport:
 *   SL_ETIMEDOUT   the deadline (timeout_ms) passed
 *   SL_ETRANSIENT  connection refused/reset, peer closed early, name not resolved
 *   SL_ELIMIT      reply body over its cap, or more than the allowed redirects
 *   SL_EIO         reading the upload file or writing the download fd failed
 *   SL_ENOSPACE, SL_EDISK   writing the download fd failed because the disk is full or
 *                  failing (fsutil_errno_err classes), so a caller can back off
 *   SL_EINVAL      malformed URL, unsupported scheme, bad arguments
 *   SL_ESTATE      cancelled (httpc_set_cancel)
 * resp->error gets a one-line description on failure.
 *
 * Redirects: with httpc_set_redirects(c, n) > 0, a 307 or 308 reply is followed for EVERY
 * method with the same method and the same body (a file upload is re-read from its start),
 * 303 See Other is followed with a body-less GET (as HTTP says), and 301/302 only by GET and
 * HEAD. A POST or PUT answered 301/302 is returned as is: curl would silently turn it into a
 * GET and drop the body, which for `POST /tables` means a request that looks successful and
 * created nothing. This is the
 * contract non-leader controllers follow: they answer admin requests `307 Temporary Redirect`
 * with `Location: <leader URL><same path>`. Relative Locations are resolved against the URL
 * that was requested.
 *
 * Only curl_global_init is process-wide (done once, pthread_once); there are no other globals.
 * @locality: an httpc and its responses belong to the thread that created them. */
#ifndef SL_HTTPC_H
#define SL_HTTPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct httpc httpc;

#define HTTPC_DEFAULT_MAX_BODY (1u << 20) /* reply bodies kept in memory */
#define HTTPC_LOCATION_MAX 2048
#define HTTPC_CTYPE_MAX 128
#define HTTPC_ERROR_MAX 256

/* The reply to one request. Initialise with httpc_resp_init before the first request; one
 * resp may be reused for several requests (each one replaces the previous contents). */
typedef struct httpc_resp {
    long status; /* HTTP status of the final reply; 0 when no reply arrived */
    char *body;  /* reply body, NUL-terminated (len excludes the NUL); owned by
                  * the resp, freed by httpc_resp_free; NULL when empty */
    size_t len;
    size_t max_body;     /* IN: cap on body; over it the request fails with SL_ELIMIT */
    uint64_t downloaded; /* httpc_get_to_fd: bytes written to the fd */
    char location[HTTPC_LOCATION_MAX];  /* Location header of the final reply, or "" */
    char content_type[HTTPC_CTYPE_MAX]; /* Content-Type of the final reply, or "" */
    char url[HTTPC_LOCATION_MAX];       /* URL that produced the final reply (after redirects) */
    unsigned redirects;                 /* redirects followed */
    char error[HTTPC_ERROR_MAX];        /* transport error text when a call returned < 0 */
} httpc_resp;

/* Zero resp and set its body cap (0 = HTTPC_DEFAULT_MAX_BODY). */
void httpc_resp_init(httpc_resp *resp, size_t max_body);
/* Free the body; resp can be reused (its max_body is kept). */
void httpc_resp_free(httpc_resp *resp);

/* A new client (no redirects followed, User-Agent "sluice"). Never NULL (allocation failure
 * aborts). Caller frees with httpc_free. */
httpc *httpc_new(void);
/* Close its connections and free it. NULL is a no-op. */
void httpc_free(httpc *c);
/* Follow up to n redirects per request (rules above); 0 (the default) returns 3xx replies. */
void httpc_set_redirects(httpc *c, unsigned n);
/* The redirects c follows now (httpc_set_redirects). */
unsigned httpc_redirects(const httpc *c);
/* For the segment fetchers (DESIGN §10): ca_file, a PEM bundle that https:// peers are
 * verified against instead of the system's (fetcher.https.ca.file), and netrc_file, a netrc
 * whose entry for a host gives the credentials sent to it (fetcher.netrc.file: no password in
 * a URL that ZooKeeper would record). Both borrowed until replaced; NULL: none. */
void httpc_set_fetch_auth(httpc *c, const char *ca_file, const char *netrc_file);
/* While *flag (borrowed; NULL, the default, turns it off) is true, every request of c stops
 * within about a second, even one waiting on a stalled peer, with SL_ESTATE: for a thread that
 * must end promptly on shutdown whatever its downloads are doing. */
void httpc_set_cancel(httpc *c, const _Atomic bool *flag);
/* Connections this client has opened so far (a new TCP/TLS connection, not a reused one). */
uint64_t httpc_connections_opened(const httpc *c);

/* One request with an in-memory body (body may be NULL when len is 0). method is "GET",
 * "HEAD", "POST", "PUT", "DELETE", ...; GET and HEAD take no body (SL_EINVAL otherwise).
 * content_type may be NULL. timeout_ms bounds the whole exchange including redirects
 * (0 = no deadline). The body is borrowed for the duration of the call. Returns 0 with
 * out->status set, or a negative SL_E* (see above). */
int httpc_request(httpc *c, const char *method, const char *url, const char *content_type,
                  const void *body, size_t len, long timeout_ms, httpc_resp *out);

/* PUT the file at path as the raw body (Content-Type application/octet-stream, with its
 * length), streamed from disk in chunks: the file is never held in memory. Reply as for
 * httpc_request. SL_ENOENT/SL_EIO when the file cannot be opened or read. */
int httpc_put_file(httpc *c, const char *url, const char *path, long timeout_ms, httpc_resp *out);

/* httpc_put_file with another method (POST: a segment push, DESIGN §10). */
int httpc_send_file(httpc *c, const char *method, const char *url, const char *path,
                    long timeout_ms, httpc_resp *out);

/* Extra request headers ("Name: value" each, NULL-terminated; borrowed until replaced) sent
 * with every request of c from now on; NULL sends none. */
void httpc_set_headers(httpc *c, const char *const *headers);

/* Send "Authorization: Bearer <token>" (DESIGN §12) with every request of c from now on, on
 * every hop of a redirect too (the controllers redirect to their leader); NULL or "" stops it.
 * The token is copied. It goes only to the cluster's own servers: see httpc_set_external. */
void httpc_set_bearer(httpc *c, const char *token);
/* HTTPS to the cluster's own servers (DESIGN §12): ca_file, the PEM bundle they are verified
 * against (tls.ca.file; NULL: the fetchers' CA, else the system's), and cert_file/key_file,
 * the certificate this process presents for mTLS (NULL: none). Borrowed until replaced. */
void httpc_set_tls(httpc *c, const char *ca_file, const char *cert_file, const char *key_file);
/* From now on c talks to a user's server (a METADATA push's URI, a deep store) while external
 * is true: no bearer token, no client certificate, the fetchers' CA (httpc_set_fetch_auth). */
void httpc_set_external(httpc *c, bool external);

/* GET url and stream a 2xx reply body into fd (written at its current position, which is
 * the caller's; fd stays open and owned by the caller). A non-2xx reply body goes to
 * out->body instead (capped by out->max_body) and nothing is written to fd. More than
 * max_bytes of body (0 = no cap) fails with SL_ELIMIT. After any failure fd may hold a
 * partial body: the caller truncates or discards it. out->downloaded counts bytes written. */
int httpc_get_to_fd(httpc *c, const char *url, int fd, uint64_t max_bytes, long timeout_ms,
                    httpc_resp *out);

#endif
