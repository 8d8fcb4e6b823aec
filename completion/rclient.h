/* The completion client's link to the leading controller (DESIGN §4): the leader's URL, each
 * RPC to it, and the build-time lease of a committer.
 *
 * The URL is learnt from ZooKeeper (through the caller's peek) and from the NOT_LEADER replies
 * that name the new leader; an RPC follows them, finds the leader again after a transport
 * failure, and gives up after three attempts. While a committer builds, a lease thread asks for
 * more time (ExtendBuildTime) each time 90% of the granted budget has passed.
 * @locality: any thread (the URL is guarded by the client's own mutex). */
#ifndef SL_RCLIENT_H
#define SL_RCLIENT_H

#include "common/httpc.h"
#include "completion/rpc.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The leader's URL as ZooKeeper holds it (caller frees), or NULL when none is known. */
typedef char *(*rclient_peek_fn)(void *ctx);

typedef struct rclient_opts {
    rclient_peek_fn peek;
    void *ctx;
    const atomic_bool *stop; /* the owner's stop flag: no retry once it is set */
    const char *token;       /* bearer token of the lease thread's calls (borrowed), or NULL;
                                the callers' handles carry their own (httpc_set_bearer) */
    const char *tls_ca_file, *tls_cert_file, *tls_key_file; /* its httpc_set_tls, or NULL */
} rclient_opts;

typedef struct rclient rclient;

/* A client with no leader known yet (the first call peeks). Caller frees with rclient_free. */
rclient *rclient_new(const rclient_opts *o);
void rclient_free(rclient *c);

/* The leader's base URL into out ("" when none is known). */
void rclient_leader(rclient *c, char *out, size_t cap);

/* One RPC to the leader. Returns 0 (a reply in *rs), the error of a request that cannot succeed
 * (sl_err_action_of: PERMANENT, e.g. refused as malformed), or SL_ETRANSIENT after three
 * failed attempts. h is the calling thread's. */
int rclient_call(rclient *c, httpc *h, rpc_method m, const rpc_req *rq, rpc_resp *rs);

/* The lease of a committer building rq's segment with budget_s seconds granted (0: the
 * default). Returns NULL when no thread could be started (the build then runs without one). */
typedef struct rclient_lease rclient_lease;
rclient_lease *rclient_lease_start(rclient *c, const rpc_req *rq, int32_t budget_s);
/* End the lease (the build is over) and free it; NULL: nothing. */
void rclient_lease_end(rclient_lease *l);

#endif
