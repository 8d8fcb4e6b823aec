/* The fact gatherer of `sluice audit`: reads a live cluster (ZooKeeper, the sidecars, the
 * segment store, Kafka) or a standalone sidecar's data dir into an audit_model for
 * chaos/audit.c to judge. It only reads: nothing it does changes the cluster.
 *
 * Per table: every segment record with its ZooKeeper stat; the assignment; each assigned
 * sidecar's listing with verified CRCs (GET /segments/<t>?crc=1) and its replicas/ record;
 * each DONE segment downloaded from its downloadUrl (or a peer) into the work dir and verified;
 * Kafka's watermarks; with deep, each DONE segment rebuilt from the messages Kafka holds at its
 * offsets, exactly as a sidecar builds it (pcons, mseg_build_file), and its CRC compared with
 * the committed one (on a difference, the first row that differs is named). */
#ifndef SL_PROBE_H
#define SL_PROBE_H

#include "common/auth.h"
#include "chaos/audit.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct probe_opts {
    /* cluster */
    const char *zk_connect;
    const char *cluster;
    /* standalone: the data dir and the table's files */
    const char *data_dir;
    const char *table_config;
    const char *schema;
    /* both */
    const char *table;          /* NULL: every table (cluster) */
    const char *kafka;          /* bootstrap servers; NULL: the table config's */
    bool deep;
    const char *work_dir;       /* downloads and rebuilds (deleted after); NULL: /tmp */
    size_t max_message_bytes;   /* the sidecars' consumer.max.message.bytes (0: 1 MiB) */
    int64_t commit_budget_ms;
    int timeout_ms;             /* per network call (0: 10 s) */
    bool progress;              /* a progress line on stderr (a terminal) */
    const auth_cli *cred;       /* token and TLS files for the controllers and sidecars, or
                                 * NULL */
} probe_opts;

/* Read the cluster (o->zk_connect, o->cluster) into m (zeroed first; free with
 * audit_model_free). Returns 0, or SL_ENOENT (no such table), SL_ETRANSIENT (ZooKeeper not
 * reachable) or SL_ECORRUPT (a table's config unreadable) with the reason in err: the
 * cluster cannot be audited. Facts that cannot be read are recorded as unknown in m. */
int probe_cluster(const probe_opts *o, audit_model *m, char *err, size_t errlen);

/* Read a standalone sidecar's data dir (o->data_dir, o->table_config, o->schema) into m, as
 * probe_cluster. SL_EINVAL for an unreadable config or schema, SL_ENOENT for a missing table
 * dir. */
int probe_data_dir(const probe_opts *o, audit_model *m, char *err, size_t errlen);

#endif
