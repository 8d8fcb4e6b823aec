/* A local Sluice cluster for `sluice chaos` (DESIGN §11): ZooKeeper (Debian's server, through
 * deploy/zk-start.sh), kafka-mock, two controllers and three cluster-mode sidecars, every one a
 * real process on 127.0.0.1 under a work dir, started from the sluice binary itself.
 *
 * The ZooKeeper server is shared by the runs of one `chaos run` (each run is its own cluster
 * name, so its own namespace); everything else belongs to one run. Processes are addressed by
 * name: "zk", "kafka", "c1", "c2", "s1".."s3". Every process this module starts is a child of
 * the runner (ZooKeeper: recorded by PID in its dir) and is stopped by ccl_free by PID.
 * @locality: one thread (the runner). */
#ifndef SL_CLUSTER_H
#define SL_CLUSTER_H

#include "chaos/history.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CCL_CONTROLLERS 2
#define CCL_SIDECARS 3
#define CCL_MAX_SETS 8
#define CCL_PATH_MAX 2048 /* the longest work dir, ZooKeeper dir or script path */

/* A private ZooKeeper server (deploy/zk-start.sh DIR). */
typedef struct ccl_zk {
    char dir[CCL_PATH_MAX];
    char script[CCL_PATH_MAX];
    char connect[64];
    int port;
    pid_t pid;
} ccl_zk;

/* Start a server under dir with script (deploy/zk-start.sh). 0, or an error with the reason. */
int ccl_zk_start(ccl_zk *z, const char *script, const char *dir, char *err, size_t errlen);
/* Stop it (zk-start.sh --stop: SIGCONT, TERM, KILL); the data stays for a restart. */
void ccl_zk_stop(ccl_zk *z);
/* Start it again on its port with its data. 0 or an error. */
int ccl_zk_restart(ccl_zk *z, char *err, size_t errlen);
/* SIGSTOP / SIGCONT the server. */
void ccl_zk_pause(ccl_zk *z, bool pause);

typedef struct ccl_opts {
    const char *exe;          /* the sluice binary */
    const char *work;         /* this run's directory (created) */
    const char *cluster;      /* cluster.name */
    const char *table_config; /* the table's config file (a Pinot REALTIME config) */
    const char *schema;       /* its schema */
    const char *load_schema;  /* rows of this schema for the load (loadgen --schema), or NULL:
                               * the example events */
    int partitions;           /* of the topic */
    int64_t flush_rows;       /* the table's row threshold (0: keep the config's; -1: none) */
    const char *flush_time;   /* the time threshold, e.g. "4s" */
    /* extra `--set k=v` of each process (NULL-terminated lists; NULL: none) */
    const char *const *sidecar_sets[CCL_SIDECARS];
    const char *const *controller_sets;
} ccl_opts;

typedef struct ccl ccl;

/* Start kafka-mock, the controllers and the sidecars against z, add the table, and wait until
 * every process is up. Returns the cluster (caller frees with ccl_free) or NULL with the
 * reason; on NULL everything started was stopped. Events go to h. */
ccl *ccl_start(const ccl_opts *o, const ccl_zk *z, hist *h, char *err, size_t errlen);

/* Send sig to the named process ("c1", "s2", "kafka"); false when it is not running (or, for
 * SIGCONT, not stopped). SIGKILL also reaps it. */
bool ccl_signal(ccl *c, const char *who, int sig);

/* Stop the named process cleanly (SIGTERM, SIGKILL after 10 s) and reap it. */
void ccl_stop(ccl *c, const char *who);

/* Start the named process again (after it exited or was killed), with its extra sets replaced
 * by sets when sets is not NULL (NULL-terminated; an empty list clears them). Waits until it is
 * up. 0 or an error. A process still running is killed first (SIGKILL). */
int ccl_restart(ccl *c, const char *who, const char *const *sets, char *err, size_t errlen);

/* What ccl_poll found: who exited (status as waitpid gives it) or stopped itself. */
typedef void (*ccl_event_fn)(void *ctx, const char *who, bool stopped, int status);

/* Reap children that exited or stopped by themselves (a knob's _exit or SIGSTOP, or a crash):
 * each is recorded in the history and given to fn (may be NULL) once. */
void ccl_poll(ccl *c, ccl_event_fn fn, void *ctx);

/* Whether the named process runs (not exited; a stopped one runs). */
bool ccl_running(const ccl *c, const char *who);

/* Name of the controller that leads ("c1"/"c2") or NULL when none answers as leader. */
const char *ccl_leader(ccl *c);

/* One line to kafka-mock's control port (e.g. "broker-down all"); its reply into reply. 0 when
 * the mock answered "ok ...". */
int ccl_kafka(ccl *c, const char *cmd, char *reply, size_t cap);

/* Produce rows [start_id, start_id + rows) of the example events, or of o->load_schema
 * (sluice loadgen, in the background, `rate` rows per second). ccl_load_wait waits for the last one started: 0 when
 * every row was delivered. */
int ccl_load(ccl *c, int64_t start_id, int64_t rows, int rate);
int ccl_load_wait(ccl *c, int timeout_s);

/* Pause (SIGSTOP) or continue the background load of ccl_load; false when none runs. */
bool ccl_load_pause(ccl *c, bool pause);

/* Partition's low and high watermarks in Kafka now. 0 or an error (Kafka did not answer). */
int ccl_watermarks(ccl *c, int32_t partition, int64_t *low, int64_t *high);

/* Produce n raw messages (values[i] of lens[i] bytes, keys "bad-<i>") to partition of the
 * run's topic, in order, and wait for their delivery. Returns how many were delivered. For
 * input no decoder accepts: malformed JSON, empty values, values over the sidecars'
 * consumer.max.message.bytes. */
size_t ccl_produce_raw(ccl *c, int32_t partition, const char *const *values, const size_t *lens,
                       size_t n);

/* Paths and addresses of the run. */
const char *ccl_bootstrap(const ccl *c);
const char *ccl_table(const ccl *c);
const char *ccl_topic(const ccl *c);
int ccl_partitions(const ccl *c);
/* The data dir of sidecar "sN" (or of controller "cN"), NULL for another name. */
const char *ccl_data_dir(const ccl *c, const char *who);
/* The HTTP address ("http://127.0.0.1:P") of process who, "" before it first came up, NULL
 * for an unknown name. */
const char *ccl_url(ccl *c, const char *who);
/* The log file of process who ("<work>/<who>.log"), NULL for an unknown name. */
const char *ccl_log(ccl *c, const char *who);
/* The controllers' shared segment store (deepstore.uri). */
const char *ccl_store_dir(const ccl *c);

/* Stop every process of the run by PID (SIGTERM, then SIGKILL after a few seconds), free c.
 * ZooKeeper (shared) is left running. */
void ccl_free(ccl *c);

#endif
