/* Admission control of the HTTP server (common/httpd.c; the policy is httpd.h's "Connection
 * exhaustion"): which connections are taken, which are closed to make room, and which are
 * closed for taking too long to send a request header.
 *
 * It owns one record per TCP connection (from MHD's STARTED to CLOSED notification), the table
 * of connections per client address, and the list of connections WAITING for a complete
 * request header (oldest first). A new connection at a limit closes the oldest waiting one (of
 * its address, for the per-address limit); when none waits, every slot is inside a request and
 * the newcomer is refused. A connection is closed by shutting its socket down, from any thread:
 * its MHD worker then sees EOF and closes it as if the client had. Nothing here calls MHD.
 *
 * Locking: one mutex of its own guards everything; it is never held while calling out. httpd.c
 * calls in from MHD's workers (accept, connection start and end, request start and end) and
 * from its timer thread (header deadlines, the summary line). Counters go into the
 * httpd_stats of httpd.h. */
#ifndef SL_HTTPD_ADMIT_H
#define SL_HTTPD_ADMIT_H

#include "common/httpd.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct httpd_admit httpd_admit;
typedef struct httpd_admit_conn httpd_admit_conn; /* one connection's record */

/* New admission state: at most conn_limit connections, per_ip_limit per address (0 = no
 * limit), header_ms to send a request header; owner is the server's (httpd_admit_conn_owner).
 * Caller frees with httpd_admit_free. */
httpd_admit *httpd_admit_new(unsigned conn_limit, unsigned per_ip_limit, int64_t header_ms,
                             void *owner);

/* The owner given to httpd_admit_new, from one of its connections' records (a TLS handshake's
 * certificate callback has the connection only). */
void *httpd_admit_conn_owner(const httpd_admit_conn *hc);

/* Free it; every connection must have been closed (httpd_admit_closed). NULL is a no-op. */
void httpd_admit_free(httpd_admit *a);

/* The connection limit that fits the process's open-file limit: raises the soft RLIMIT_NOFILE
 * (up to the hard one) so that `limit` connections fit beside the process's other files, or
 * returns a lower limit, with a warning, when they cannot. */
unsigned httpd_admit_fit_fd_limit(unsigned limit);

/* MHD's accept policy, before the connection exists: true to take a connection from addr
 * (having closed a waiting one to make room when at a limit), false to refuse it. */
bool httpd_admit_accept(httpd_admit *a, const struct sockaddr *addr);

/* A connection started (socket fd, client addr, may be NULL): its record, which waits for a
 * request header from now on. *kick is set when the header deadline it adds is the earliest
 * (the timer must look again). The record is a's until httpd_admit_closed. */
httpd_admit_conn *httpd_admit_opened(httpd_admit *a, int fd, const struct sockaddr *addr,
                                     bool *kick);

/* The connection closed: its record is freed. */
void httpd_admit_closed(httpd_admit *a, httpd_admit_conn *hc);

/* A request header arrived: the connection no longer waits (it is never evicted nor timed
 * out while inside a request). */
void httpd_admit_wait_end(httpd_admit *a, httpd_admit_conn *hc);

/* A reply is done and the connection is kept alive: it waits for a header again from now.
 * Returns true when the deadline it adds is the earliest (the timer must look again). */
bool httpd_admit_wait_start(httpd_admit *a, httpd_admit_conn *hc);

/* Timer: close every connection waiting longer than the header deadline, write the summary
 * line when it is due (at most one per 10 s, only when something was closed or refused), and
 * return the next header deadline (INT64_MAX when nothing waits). Times are CLOCK_MONOTONIC
 * milliseconds, as the waiting list's (read under the lock when a connection starts waiting). */
int64_t httpd_admit_tick(httpd_admit *a, int64_t now_ms);

/* MHD refused a connection at its own limit (from its log callback, which MHD may call from
 * inside calls the server makes under its own locks: lock-free). Counted as refused. */
void httpd_admit_refused_by_mhd(httpd_admit *a);

/* A snapshot of the counters (connections: open now). Any thread. */
void httpd_admit_stats(httpd_admit *a, httpd_stats *out);

#endif
