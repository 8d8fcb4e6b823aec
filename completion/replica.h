/* Cluster-mode sidecar: replicas driven by the controller's completion protocol (DESIGN §4).
 *
 * The sidecar registers its instance znode, watches the tables' assignments and consumes the
 * segments assigned to it as CONSUMING (start offset and thresholds from the segment's
 * metadata). When a segment is full the partition is held and a completion thread runs the
 * replica state machine (completion/rsm.h, which checks every move) against the controller
 * leader:
 *
 *   CONSUMING -> HOLDING -> CATCHING_UP -> HOLDING           (CATCH_UP: consume up to o, report)
 *   HOLDING -> COMMITTING | RETAINING | DISCARDED -> ONLINE   (COMMIT, KEEP, DISCARD)
 *   COMMITTING -> HOLDING                                     (refused or unreachable: again)
 *   COMMITTING | RETAINING | DISCARDED -> HOLDING             (disk failure: back-off, rows kept)
 *   COMMITTING | RETAINING | DISCARDED -> ERROR               (StoppedConsuming, retried in 10 s)
 *   ONLINE | ERROR -> CONSUMING                               (the next segment, or the retry)
 *
 * COMMIT builds, CommitStart, uploads, CommitEnd; KEEP builds locally and compares the CRC
 * with the committed one (a mismatch is divergence: logged, counted, healed by download);
 * DISCARD downloads (segment store first, then peers) and checks the CRC before publishing.
 * A full or failing disk is not an ERROR: the partition stays HOLDING with its rows (a
 * committer first gives its commit up with StoppedConsuming, without build_millis, so the
 * threshold is kept) and reports again after a backoff of 1 s doubling to 60 s; the
 * condition is in the disk state (replica_opts.disk) and logged once per kind per minute.
 * Each state change of a segment on this instance is written to tables/<t>/replicas/<id>.
 * On restart the data dir is reconciled with ZooKeeper: committed files with the right CRC
 * are kept, missing or wrong ones downloaded, the consuming segment restarts at its start.
 *
 * This is the cluster policy of the sidecar engine (consumer/engine.h), which owns the tables,
 * the partitions, the builds, the paths and the health listing.
 *
 * Threads: one control thread (assignment reconciliation), a few completion threads, and the
 * consumer pools' workers; a partition is touched by its worker while consuming and by one
 * completion thread while held, never by both. */
#ifndef SL_REPLICA_H
#define SL_REPLICA_H

#include "completion/rfault.h"
#include "consumer/engine.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct replica replica;

typedef struct replica_opts {
    engine_opts engine;          /* data dir, workers, Kafka properties, test knobs, ... */
    const char *cluster;
    const char *zk_connect;
    unsigned zk_session_timeout_ms;
    const char *instance_id;
    const char *host;            /* advertised in the instance znode */
    uint16_t port;               /* this sidecar's HTTP port (peer downloads) */
    int completion_threads;
    rfault_kind fault;           /* test knob: test.commit.fault (completion/rfault.h) */
    bool keep_skip_crc;          /* test knob, a broken build on purpose: KEEP publishes the
                                    local build whatever its CRC (audit I3 must notice) */
    const char *fetch_ca_file, *fetch_netrc_file; /* fetcher.https.ca.file, fetcher.netrc.file
                                                     (httpc_set_fetch_auth), or NULL */
    const char *token; /* auth.token.file's token: sent to the controllers and peers; NULL:
                          none */
    bool tls;          /* this sidecar serves HTTPS: registered with "scheme":"https" */
    const char *tls_ca_file, *tls_cert_file, *tls_key_file; /* httpc_set_tls of its calls to
                                                              the cluster, or NULL */
} replica_opts;

/* Connect to ZooKeeper, register, reconcile the data dir and start consuming. NULL with the
 * reason in err. Stop with replica_stop. */
replica *replica_start(const replica_opts *o, char *err, size_t errlen);

/* The engine, for /health and /segments (owned by r). Any thread. */
engine *replica_engine(replica *r);

/* Stop everything (consuming segments are dropped; they restart from ZooKeeper). NULL is a
 * no-op. */
void replica_stop(replica *r);

#endif
