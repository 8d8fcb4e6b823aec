/* The cluster store: the one module that knows where the cluster's state lives in ZooKeeper
 * (DESIGN §5, docs/zookeeper.md) and how each node is encoded. Everyone else (controller,
 * replica, `sluice zk dump`, the chaos tools) asks it for typed values and never spells a
 * path.
 *
 *   /sluice/<cluster>/controllers/n_*          election entries (data: the controller URL)
 *                     instances/<id>           {"host":"127.0.0.1","port":8101}, ephemeral
 *                     tables/<t>/config        table config JSON
 *                     tables/<t>/schema        schema JSON
 *                     tables/<t>/segments/<s>  segmeta (protobuf)
 *                     tables/<t>/assignment    assign (JSON)
 *                     tables/<t>/replicas/<id> {"<segment>":"ONLINE",...}
 *                     tables/<t>/lineage       "{}"
 *
 * A cstore is the cluster root and nothing else: immutable after cstore_new, so any thread
 * may use it without a lock. It holds no ZooKeeper handle; every call takes the handle to
 * use, so an owner that replaces its session after an expiry (the controller under its
 * rwlock, the replica on its control thread) keeps its own locking and just passes the
 * current handle.
 *
 * Errors are those of zk.h (SL_ENOENT, SL_ECONFLICT, SL_ETRANSIENT, ...), plus SL_ECORRUPT
 * (with the reason in err) for a node whose value does not decode, and SL_ELIMIT for a path
 * that would not fit ZK_PATH_MAX. Multi-node changes are one zk_multi each: a table's
 * creation, a commit and a repair. */
#ifndef SL_CLUSTER_STORE_H
#define SL_CLUSTER_STORE_H

#include "completion/assign.h"
#include "completion/election.h"
#include "completion/lineage.h"
#include "completion/segmeta.h"
#include "completion/zk.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cstore cstore;

/* ---- paths (pure) ------------------------------------------------------------------------ */

typedef enum cstore_node {
    CSTORE_ROOT = 0,    /* /sluice/<cluster> */
    CSTORE_CONTROLLERS, /* .../controllers */
    CSTORE_INSTANCES,   /* .../instances */
    CSTORE_INSTANCE,    /* .../instances/<name> */
    CSTORE_TABLES,      /* .../tables */
    CSTORE_TABLE,       /* .../tables/<table> */
    CSTORE_CONFIG,      /* .../tables/<table>/config */
    CSTORE_SCHEMA,      /* .../tables/<table>/schema */
    CSTORE_SEGMENTS,    /* .../tables/<table>/segments */
    CSTORE_SEGMENT,     /* .../tables/<table>/segments/<name> */
    CSTORE_ASSIGNMENT,  /* .../tables/<table>/assignment */
    CSTORE_REPLICAS,    /* .../tables/<table>/replicas */
    CSTORE_REPLICA,     /* .../tables/<table>/replicas/<name> */
    CSTORE_LINEAGE,     /* .../tables/<table>/lineage */
    CSTORE_JOBS,        /* .../tables/<table>/jobs (created by the first job) */
    CSTORE_JOB,         /* .../tables/<table>/jobs/<id>: a controller job's record, JSON */
} cstore_node;

/* The store of cluster `cluster` (root /sluice/<cluster>). NULL if the root would not fit a
 * ZooKeeper path. Caller frees with cstore_free. */
cstore *cstore_new(const char *cluster);
void cstore_free(cstore *s);

/* "/sluice/<cluster>", borrowed for the store's lifetime. */
const char *cstore_root(const cstore *s);

/* Write the path of `node` into buf: `table` for the nodes below tables/<t>, `name` for an
 * instance, segment or replica (NULL where unused). 0, or SL_ELIMIT if it does not fit. */
int cstore_path(const cstore *s, cstore_node node, const char *table, const char *name, char *buf,
                size_t cap);

/* How `sluice zk dump` decodes a node, from its path relative to the root. */
typedef enum cstore_encoding {
    CSTORE_ENC_JSON = 0, /* config, schema, assignment, lineage, instances, replicas, unknown */
    CSTORE_ENC_ELECTION, /* controllers/<n>: the controller's URL as plain text */
    CSTORE_ENC_SEGMETA,  /* tables/<t>/segments/<s>: segmeta protobuf */
} cstore_encoding;
cstore_encoding cstore_encoding_of(const char *rel);

/* A cluster name usable as one path component: not empty, no '/', not "." or "..". */
bool cstore_cluster_name_ok(const char *cluster);

/* ---- base nodes, tables -------------------------------------------------------------------- */

/* mkdir -p of one node of the layout that takes no table or name (instances/, tables/). */
int cstore_ensure(const cstore *s, zk *z, cstore_node node);

/* Create instances/ and tables/ if missing (every process that joins the cluster). Returns
 * the first error, having tried both. */
int cstore_ensure_base(const cstore *s, zk *z);

/* 0 if table t exists, SL_ENOENT if not. */
int cstore_table_exists(const cstore *s, zk *z, const char *table);

/* Names of the tables (sorted). Free with zk_free_strings. */
int cstore_tables(const cstore *s, zk *z, char ***names, size_t *n);

/* The table's stored config and schema JSON (NUL-terminated, caller frees both; both NULL on
 * error). The schema is read first. */
int cstore_table_read(const cstore *s, zk *z, const char *table, char **config, size_t *config_len,
                      char **schema, size_t *schema_len);

/* Create a table in one multi-op: tables/<t> with config, schema, segments/, replicas/,
 * lineage ("{}"), the nseg segment records and the assignment. tables/ is created first if
 * missing. On an op failure *failed_op (may be NULL) is its index. */
int cstore_table_create(const cstore *s, zk *z, const char *table, const char *config_json,
                        const char *schema_json, const segmeta *segs, size_t nseg, const assign *a,
                        int *failed_op);

/* ---- segments ------------------------------------------------------------------------------- */

/* Read segments/<name>. SL_ECORRUPT with the reason in err when the record does not decode;
 * *version (may be NULL) is set then too, so a repair can replace it. */
int cstore_segment_get(const cstore *s, zk *z, const char *table, const char *name, segmeta *m,
                       int32_t *version, char *err, size_t errlen);

/* cstore_segment_get with the record's stat (version, creating and last-changing
 * transactions: a commit's multi-op sets segment N DONE and creates N+1 in one transaction,
 * so N's mzxid is N+1's czxid unless N changed after its commit). */
int cstore_segment_stat(const cstore *s, zk *z, const char *table, const char *name, segmeta *m,
                        zk_stat *st, char *err, size_t errlen);

/* Replace segments/<name> with m if its version is `version` (-1: any). */
int cstore_segment_set(const cstore *s, zk *z, const char *table, const char *name,
                       const segmeta *m, int32_t version);

/* Names of the table's segment records (sorted). Free with zk_free_strings. */
int cstore_segments(const cstore *s, zk *z, const char *table, char ***names, size_t *n);

/* Delete segments/<name> (any version) while the table's lineage and assignment are at
 * lineage_version and assign_version, as one multi-op: a replaced or reverted pushed segment's
 * record once it is out of the assignment, never one a later push placed again. 0, SL_ENOENT
 * (no such record), SL_ECONFLICT (either moved). */
int cstore_segment_delete_checked(const cstore *s, zk *z, const char *table, const char *name,
                                  int32_t lineage_version, int32_t assign_version);

/* ---- lineage (DESIGN §10) ----------------------------------------------------------------------
 */

/* Read and parse tables/<t>/lineage into *l (caller frees with lineage_free) and its
 * *version (may be NULL). A missing node is an empty lineage at version -1. SL_ECORRUPT with
 * the reason in err when it does not parse. */
int cstore_lineage_get(const cstore *s, zk *z, const char *table, lineage *l, int32_t *version,
                       char *err, size_t errlen);

/* Write l at version (-1: create the node) and, with a (may be NULL), the assignment at
 * assign_version, as one multi-op: the switch of a replacement. */
int cstore_lineage_set(const cstore *s, zk *z, const char *table, const lineage *l, int32_t version,
                       const assign *a, int32_t assign_version);

/* ---- assignment ------------------------------------------------------------------------------ */

/* Read and parse the assignment (caller frees *a with assign_free on success). SL_ECORRUPT
 * with the reason in err if it does not parse. */
int cstore_assign_get(const cstore *s, zk *z, const char *table, assign *a, int32_t *version,
                      char *err, size_t errlen);

/* Write segments/<segs[i].segment> for each of the n records (0 or more): create them, or,
 * with versions (n of them), set them at those versions; and set the assignment to `a` at
 * assign_version, as one multi-op (pause, resume, the end of a bootstrap: DESIGN §9). */
int cstore_assign_open(const cstore *s, zk *z, const char *table, const segmeta *segs,
                       const int32_t *versions, size_t n, const assign *a, int32_t assign_version);

/* Persistent data watch on the table's assignment (zk_watch). */
int cstore_watch_assignment(const cstore *s, zk *z, const char *table,
                            void (*cb)(void *ctx, const char *path), void *ctx, uint64_t *id);

/* Persistent children watch on tables/ (a table created or removed). */
int cstore_watch_tables(const cstore *s, zk *z, void (*cb)(void *ctx, const char *path), void *ctx,
                        uint64_t *id);

/* ---- the commit and repair multi-ops -----------------------------------------------------------
 */

/* Op indexes reported in *failed_op by cstore_commit and cstore_repair. */
enum { CSTORE_OP_SEGMENT = 0, CSTORE_OP_NEXT = 1, CSTORE_OP_ASSIGNMENT = 2 };

/* Commit segment N (DESIGN §4) as one multi-op: set segments/<done->segment> to `done` at
 * done_version, create segments/<next->segment>, set the assignment to `a` at
 * assign_version. *failed_op (may be NULL): the failing CSTORE_OP_*, -1 otherwise.
 * Pauseless completion (DESIGN §9) uses it twice: at the decision `done` is N's COMMITTING
 * record (end offset fixed) and next is N+1; at CommitEnd `done` is DONE and next is NULL
 * (N+1 exists already: two ops, N and the assignment). */
int cstore_commit(const cstore *s, zk *z, const char *table, const segmeta *done,
                  int32_t done_version, const segmeta *next, const assign *a,
                  int32_t assign_version, int *failed_op);

/* Repair a partition as one multi-op: check segments/<newest> is still at newest_version,
 * create segments/<next->segment>, set the assignment to `a` at assign_version. */
int cstore_repair(const cstore *s, zk *z, const char *table, const char *newest,
                  int32_t newest_version, const segmeta *next, const assign *a,
                  int32_t assign_version, int *failed_op);

/* Record controller job `id` of table (JSON) and set the assignment to `a` at assign_version,
 * as one multi-op (the jobs/ node is created first when missing). */
int cstore_job_create(const cstore *s, zk *z, const char *table, const char *id, const char *json,
                      const assign *a, int32_t assign_version);

/* The record of job `id` of table into *json (caller frees): 0, SL_ENOENT, or the error. */
int cstore_job_get(const cstore *s, zk *z, const char *table, const char *id, char **json,
                   size_t *len);

/* ---- instances --------------------------------------------------------------------------------
 */

/* Register instance id as an EPHEMERAL node holding {"host":"<host>","port":<port>}, and
 * "scheme":"https" when it serves HTTPS (tls). With replace, a node left by an earlier session
 * is deleted and the create retried; without, SL_EEXIST is returned. */
int cstore_instance_register(const cstore *s, zk *z, const char *id, const char *host,
                             unsigned port, bool tls, bool replace);

/* 0 if instance id is registered (live), SL_ENOENT if not. */
int cstore_instance_exists(const cstore *s, zk *z, const char *id);

/* Names of the registered instances (sorted). Free with zk_free_strings. */
int cstore_instances(const cstore *s, zk *z, char ***names, size_t *n);

/* The base URL instance id registered, "http://host:port" or "https://host:port", into url
 * (cap bytes). SL_ECORRUPT if the node does not hold one (or it does not fit). */
int cstore_instance_url(const cstore *s, zk *z, const char *id, char *url, size_t cap);

/* ---- replicas/<id> ------------------------------------------------------------------------------
 */

/* Record that instance id reached `state` for `segment` in tables/<t>/replicas/<id>
 * (read-modify-write at the version read, created on the first report; up to 5 attempts on a
 * conflict). 0 also when it was already recorded. A NULL state removes the segment's entry
 * (a pushed segment the instance no longer hosts). Callers serialise their own writes. */
int cstore_replica_record(const cstore *s, zk *z, const char *table, const char *id,
                          const char *segment, const char *state);

/* Names of the instances that have a replicas/ record in the table. Free with
 * zk_free_strings. */
int cstore_replica_ids(const cstore *s, zk *z, const char *table, char ***names, size_t *n);

/* The replicas/<id> record parsed as JSON (*obj: new reference, NULL if it is not JSON). */
int cstore_replica_get(const cstore *s, zk *z, const char *table, const char *id, json_t **obj);

/* ---- controllers/ ------------------------------------------------------------------------------
 */

/* Join the controller election with my_url as the entry's data (zk_election_join). */
zk_election *cstore_election_join(const cstore *s, zk *z, const char *my_url,
                                  void (*on_change)(void *ctx, bool is_leader,
                                                    const char *leader_url),
                                  void *ctx, int *err);

/* The leading controller's URL (malloc'ed, caller frees) or NULL when nobody leads. */
int cstore_leader_peek(const cstore *s, zk *z, char **url);

#endif
