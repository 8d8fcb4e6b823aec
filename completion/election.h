/* Leader election over a zk session (DESIGN §5: controllers/; the cluster store names the
 * directory): one EPHEMERAL|SEQUENTIAL node per participant, the lowest sequence leads.
 * Built on zk.c's dispatcher: on_change runs there, under the same rules as other zk
 * callbacks (zk.h "Threads"), and the handle's session events fence it. */
#ifndef SL_ELECTION_H
#define SL_ELECTION_H

#include "completion/zk.h"

#include <stdbool.h>

typedef struct zk_election zk_election;

/* Join the election under `dir` (created if missing): an EPHEMERAL|SEQUENTIAL node
 * dir/n_<session>_<k>_<seq> holding my_data (e.g. "http://127.0.0.1:9000"). The lowest
 * sequence is the leader. Every participant watches dir's children, so all of them learn a
 * leader change promptly (controllers are few, so the herd effect does not matter).
 *
 * Fencing: on DISCONNECTED (detected by the client at 2/3 of the session timeout, before the
 * server can expire the session and elect someone else) the election reports not-leader AT
 * ONCE, from the library's event thread, before any callback runs; leader data becomes
 * unknown (NULL). After a reconnect to the same session it is re-evaluated. After EXPIRED it
 * stays not-leader: the owner re-opens the session and joins again. Leadership is still only
 * advisory: ZooKeeper writes by a leader must be version-conditioned.
 *
 * on_change(ctx, is_leader, leader_data) runs on the dispatcher whenever either value changes
 * (leader_data is NULL when unknown; borrowed for the call). May be NULL. Returns NULL on
 * error (*err set if err is non-NULL). Caller frees with zk_election_leave. */
zk_election *zk_election_join(zk *z, const char *dir, const char *my_data,
                              void (*on_change)(void *ctx, bool is_leader, const char *leader_data),
                              void *ctx, int *err);

/* The data of the current leader of the election under dir, for a process that does not
 * take part (a sidecar looking for the controller leader): reads the participants and the
 * lowest one's data. *data is malloc'ed (caller frees) or NULL when nobody leads.
 * Returns 0 or an error. */
int zk_election_peek(zk *z, const char *dir, char **data);

/* True while this participant is the leader of a connected session. Lock-free. */
bool zk_election_is_leader(zk_election *e);

/* The current leader's data (malloc'ed copy, caller frees), or NULL if unknown. */
char *zk_election_leader_data(zk_election *e);

/* Leave: delete our node (the next participant takes over at once) and free e. Returns the
 * delete's result; on error the node still goes away with the session. e is freed either way.
 * on_change is not called after it returns (it may wait for a running one, as zk_unwatch). */
int zk_election_leave(zk_election *e);

#endif
