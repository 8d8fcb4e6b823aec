/* The controller: completion coordinator, segment store front and admin API (DESIGN §1, §3-§5).
 *
 * Every controller serves reads (tables, segment listings, segment downloads); the one that
 * leads the ZooKeeper election (controllers/) also runs the completion state machines
 * (completion/cfsm.h), creates tables, runs the repair loop and scrubs the segment store.
 * Non-leaders answer RPCs with NOT_LEADER + the leader's URL and redirect admin writes (307 to
 * the same path on the leader). Leadership is dropped the moment the ZooKeeper connection is
 * lost, and every ZooKeeper write is conditioned on the version it read, so a paused old leader
 * cannot overwrite what a new one wrote.
 *
 * A commit is ONE zoo_multi: segment N -> DONE (end offset, crc, rows, url), segment N+1
 * created IN_PROGRESS at N's end offset with the next flush threshold, and the assignment
 * moving N's replicas CONSUMING -> ONLINE and N+1's to CONSUMING.
 *
 * Threads: HTTP workers call the handlers, which never block: whatever needs ZooKeeper, Kafka
 * or the disk (the commit, table creation, listings, watermark checks) runs on the
 * controller's own workers while the request is parked; a ticker thread drives deadlines,
 * long-poll wake-ups, session re-opening and the repair loop; a scrub thread re-verifies the
 * store. Stop in this order: ctl_shutdown, httpd_stop, ctl_stop. */
#ifndef SL_CONTROLLER_H
#define SL_CONTROLLER_H

#include "common/httpd.h"
#include "common/metrics.h"
#include "completion/cfsm.h"

#include <stddef.h>
#include <stdint.h>

typedef struct ctl ctl;

/* Named failure points for tests (DESIGN §7 test knobs). */
typedef enum ctl_fault {
    CTL_FAULT_NONE = 0,
    CTL_FAULT_CRASH_BEFORE_MULTI, /* _exit between the ZooKeeper read and the commit multi-op */
    CTL_FAULT_STALL_BEFORE_MULTI, /* sleep fault_stall_ms there (a paused leader) */
    CTL_FAULT_CRASH_AFTER_MULTI,  /* _exit after the multi-op, before replying */
} ctl_fault;

typedef struct ctl_opts {
    const char *cluster;
    const char *zk_connect;
    unsigned zk_session_timeout_ms;
    const char *instance_id;
    const char *store; /* segment store: a directory or a file:// URI */
    const char *deep;  /* deepstore.uri webhdfs://...: the store (a directory) mirrored there
                          (completion/deepstore.h), or NULL */
    bool store_shared; /* deepstore.uri: every controller commits into this store */
    cfsm_cfg fsm;
    uint64_t longpoll_ms; /* longest a HOLD is held open */
    uint64_t repair_interval_ms;
    uint64_t scrub_interval_ms; /* re-verify the store this often while leading; 0 = never */
    uint64_t scrub_rate;        /* bytes per second the scrub reads at most; 0 = unlimited */
    ctl_fault fault;
    uint64_t fault_stall_ms;
    uint64_t push_stall_ms; /* test knob: a claimed push waits this long before its record */
    bool commit_twice; /* test knob, a broken build on purpose: each DONE record is written a
                          second time after its commit (audit I4 must notice) */
    const char *fetch_ca_file, *fetch_netrc_file; /* fetcher.https.ca.file, fetcher.netrc.file
                                                     (httpc_set_fetch_auth), or NULL */
    const char *token; /* auth.token.file's token: sent to the sidecars the store scrub heals
                          from; NULL: none */
    const char *tls_ca_file, *tls_cert_file, *tls_key_file; /* httpc_set_tls of those calls */
    metrics_registry *metrics; /* borrowed */
} ctl_opts;

/* Open the segment store and register the metrics; the controller answers 503 until
 * ctl_run. Two steps because the HTTP server (whose ctx is the ctl) must be bound before
 * the advertised URL, which names its port, is known. NULL with the reason in err. Strings
 * in o are borrowed until ctl_stop. Stop with ctl_stop. */
ctl *ctl_new(const ctl_opts *o, char *err, size_t errlen);

/* The HTTP routes; their ctx must be the ctl. The table is static. */
const httpd_route *ctl_routes(size_t *n);

/* Connect to ZooKeeper, join the election under advertise_url (copied; the base URL others
 * reach this controller at) and start the ticker. h is the server the routes run on (for
 * long-poll wake-ups). Returns 0 or an error with the reason in err. */
int ctl_run(ctl *c, httpd *h, const char *advertise_url, char *err, size_t errlen);

/* True while this controller leads. Any thread. */
bool ctl_is_leader(const ctl *c);

/* Stop the controller's own threads (the ticker; the workers: queued jobs are cancelled and
 * their requests answered 503, running ones finish), after which nothing of c touches the
 * HTTP server: call it before httpd_stop. Handlers still run (what needs a worker answers
 * 503). ctl_stop calls it if it was not. NULL is a no-op. */
void ctl_shutdown(ctl *c);

/* Stop (ctl_shutdown if it was not called), leave the election, close ZooKeeper and the
 * store, free c. The HTTP server must be stopped first, its handlers use c. */
void ctl_stop(ctl *c);

#endif
