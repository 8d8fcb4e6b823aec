/* Controller internals, shared by the controller's files and by nothing else (controller.h is
 * the public API). Each file owns one job and says so at its top:
 *   controller.c      the object: lifecycle, leadership and session, the ZooKeeper handle,
 *                     the table cache, the ticker, the route table and the public functions
 *   ctl_completion.c  the completion manager: state machine table, input checks, the
 *                     completion RPC handler and the commit
 *   ctl_admin.c       the admin API: tables, listings, segment records, health, metrics and
 *                     the segment store's upload and download routes
 *   ctl_repair.c      the repair loop and the rewriting of unreadable records
 *   ctl_push.c        segment push (POST /v2/segments) and the placement of pushed segments
 *   ctl_scrub.c       the store scrub: its thread re-verifies the committed files and heals
 *                     the bad ones from the sidecars
 *   ctl_jobs.c        the workers: the controller's own threads that run, for a parked
 *                     request, whatever may block (ZooKeeper, Kafka, the disk)
 * Every name here is prefixed ctl__.
 *
 * Locking: `mu` guards the state machine table, the table cache and leader_url; it is never
 * held across a ZooKeeper call, a file operation or a network call. A machine that is
 * committing is pinned by a reference so a leadership loss (which drops every machine)
 * cannot free it under the committing thread. `zk_lock` (rwlock) guards the ZooKeeper
 * handle, which the ticker replaces after a session expiry. The lifecycle state (ctl_state)
 * is one atomic int that only ctl__set_state writes and that handlers read without a lock.
 * `jobs_mu` guards the workers' queue (ctl_jobs.c). HTTP handlers never block: what needs
 * ZooKeeper, Kafka or the disk is a job. */
#ifndef SL_CTL_INT_H
#define SL_CTL_INT_H

#include "common/diskstate.h"
#include "common/httpd.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/schema.h"
#include "common/table_config.h"
#include "completion/assign.h"
#include "completion/cluster_store.h"
#include "completion/controller.h"
#include "completion/rpc.h"
#include "completion/segmeta.h"
#include "completion/segstore.h"
#include "completion/zk.h"
#include "consumer/kmeta.h"
#include "segment/segname.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define CTL_TICK_MS 100
#define CTL_COMMIT_RETRIES 8
#define CTL_TABLE_BODY_MAX (1u << 20)
#define CTL_FSM_IDLE_MS (10 * 60 * 1000) /* forget a COMMITTED machine after this */
#define CTL_REINGEST_MAX_S 600           /* a reingest's rebuild from Kafka, at most */
#define CTL_KAFKA_TIMEOUT_MS 3000        /* POST /tables: the whole Kafka metadata read */
#define CTL_HWM_TIMEOUT_MS 2000          /* one watermark query confirming a reported offset */
#define CTL_HWM_MIN_GAP_MS 1000          /* ask Kafka at most once a second per segment */
#define CTL_WORKERS 4                    /* ctl_jobs.c: the threads that run what may block */
#define CTL__BLOCKS 1 /* "would block": decided inline, stopped before any change */

/* One segment's state machine and what the controller knows to check its messages against
 * (ctl_completion.c "input checks"): the segment's start offset, the instances the
 * assignment lists for it, and the highest offset Kafka confirmed for its partition. */
typedef struct ctl_fsm {
    char segment[SL_SEGNAME_MAX];
    char table[SL_IDENT_MAX + 1];
    cfsm *f;
    int refs;  /* pinned by a thread that dropped mu */
    bool dead; /* dropped from the table (leadership lost) */
    uint64_t touched_ms;
    int32_t partition;
    int64_t start_offset;
    int64_t known_high;     /* offsets up to this are known to exist in Kafka */
    uint64_t high_asked_ms; /* when Kafka was last asked */
    assign_list members;    /* instances the assignment lists for the segment */
} ctl_fsm;

/* A table's stored config and schema, parsed once (tables are immutable). */
typedef struct ctl_table {
    char name[SL_IDENT_MAX + 1];
    schema *schema;
    tcfg *cfg;
    pthread_mutex_t rk_mu; /* creates rk once */
    rd_kafka_t *rk;        /* watermark queries; NULL until the first */
} ctl_table;

typedef struct ctl_job ctl_job; /* ctl_jobs.c */

/* What a controller handler keeps in its request's state (httpd_req_set_state) begins with
 * this, saying what it is: a job (ctl_jobs.c) or an upload being received (ctl_admin.c). */
typedef enum ctl_state_kind { CTL_STATE_JOB = 1, CTL_STATE_UPLOAD, CTL_STATE_PUSH } ctl_state_kind;

struct ctl {
    ctl_opts o;
    char advertise[512];
    _Atomic int state; /* ctl_state: only ctl__set_state writes it; read with ctl__state */
    cstore *cs;        /* the cluster's ZooKeeper layout; immutable */
    pthread_rwlock_t zk_lock;
    zk *z;
    zk_election *el;
    pthread_mutex_t mu; /* fsms, tables, leader_url */
    char leader_url[512];
    ctl_fsm **fsms;
    size_t nfsms, capfsms;
    ctl_table **tables; /* each allocated once and never moved: callers keep the pointer */
    size_t ntables;
    char **pushing; /* ctl_push.c: "<table>/<segment>" of each push being recorded; under mu */
    size_t npushing;
    segstore *store;
    struct deepstore *deep; /* ctl_opts.deep opened (the store mirrors into it), or NULL */
    httpd *http;
    pthread_t ticker;
    bool ticker_up;    /* ticker joinable; ctl_run and ctl_stop's thread only */
    _Atomic bool quit; /* ctl_shutdown: the ticker ends at its next tick, the scrub at once */
    /* ctl_jobs.c: the workers and their queue, under jobs_mu */
    pthread_mutex_t jobs_mu;
    pthread_cond_t jobs_cv; /* a job queued, or stopping */
    ctl_job *jq_head, *jq_tail;
    pthread_t workers[CTL_WORKERS];
    unsigned nworkers; /* started; ctl_run and ctl_shutdown's thread only */
    bool jobs_stop;
    uint64_t job_seq;
    /* when the next repair round is due: the election's callback (zk dispatcher) sets it one
     * interval after an election, the ticker moves it on after each round (compare-exchange,
     * so a round never overwrites a newer election's time) */
    _Atomic uint64_t next_repair_ms;
    /* ctl_scrub.c: the scrub thread; scrub_cv (under scrub_mu) ends its waits on quit */
    pthread_t scrubber;
    bool scrubbing; /* joinable; ctl_run and ctl_shutdown's thread only */
    pthread_mutex_t scrub_mu;
    pthread_cond_t scrub_cv;
    metrics_family *m_scrubbed, *m_scrub_corrupt;
    metrics_family *m_rpcs, *m_rpc_seconds;
    metrics_counter *m_commits, *m_commit_fail;
    metrics_gauge *m_leader;
    diskstate *disk;      /* the segment store's disk, for /health and /metrics */
    sl_log_limit *loglim; /* lines a hostile client or a bad record would repeat */
};

/* The controller's lifecycle (diagram, invariants and the function making each move at the
 * top of controller.c; the table in docs/protocol.md "Controller lifecycle"). */
typedef enum ctl_state {
    CTL_CREATED = 0,  /* ctl_new returned; no session, no ticker */
    CTL_CONNECTING,   /* ctl_run is opening the first session and joining the election */
    CTL_FOLLOWER,     /* session open, election joined, another controller (or none) leads */
    CTL_LEADER,       /* this controller leads */
    CTL_EXPIRED,      /* the session expired; the ticker re-opens it */
    CTL_RECONNECTING, /* the ticker closed the dead session and is opening a new one */
    CTL_STOPPING,     /* ctl_stop began */
    CTL_STOPPED,      /* ticker joined, session closed: c is freed next */
    CTL_STATE__COUNT
} ctl_state;

/* A set of states, as the `from` argument of ctl__set_state. */
#define CTL_ST(s) (1u << (s))
#define CTL_ST_ALL ((1u << CTL_STATE__COUNT) - 1u)

/* The states an event moves from (the rest ignore it), shared with the unit test. */
#define CTL_ELECTED_FROM (CTL_ST(CTL_CONNECTING) | CTL_ST(CTL_FOLLOWER) | CTL_ST(CTL_RECONNECTING))
#define CTL_EXPIRY_FROM (CTL_ST(CTL_FOLLOWER) | CTL_ST(CTL_LEADER) | CTL_ST(CTL_RECONNECTING))
#define CTL_STOP_FROM (CTL_ST_ALL & ~(CTL_ST(CTL_STOPPING) | CTL_ST(CTL_STOPPED)))

/* ---- controller.c: the lifecycle -------------------------------------------------------- */

const char *ctl__state_name(ctl_state s);
/* The legality table: true when from -> to is a move of the lifecycle. Pure. */
bool ctl__state_legal(ctl_state from, ctl_state to);
/* True when `from` is a non-empty set of states each of which may move to `to`. Pure. */
bool ctl__moves_legal(unsigned from, ctl_state to);
/* The one transition function: if c's state is in the set `from`, move it to `to` (atomic
 * with respect to every other move) and log `A -> B` with why. Returns false without moving
 * when the state is not in `from` (the event does not apply there: a callback that arrived
 * late, a stop that won the race). A `from` that holds an illegal predecessor of `to` is a
 * bug whatever the state at the time: refused, logged, asserted in debug builds. Any thread. */
bool ctl__set_state(ctl *c, unsigned from, ctl_state to, const char *why);

/* The state, lock-free (acquire: what the mover wrote before the move is visible). */
static inline ctl_state ctl__state(const ctl *c)
{
    return (ctl_state)atomic_load_explicit(&((ctl *)c)->state, memory_order_acquire);
}

static inline bool ctl__leads(const ctl *c)
{
    return ctl__state(c) == CTL_LEADER;
}

/* ---- controller.c: the ZooKeeper handle, reads, the table cache --------------------------- */

/* The current handle with zk_lock held for reading (NULL before the first session); pair
 * with ctl__zk_done. */
zk *ctl__zk(ctl *c);
void ctl__zk_done(ctl *c);
/* A segment's record; SL_ECORRUPT with the reason in err when it does not decode
 * (*version is set for it too, so repair can replace it). */
int ctl__read_meta(ctl *c, zk *z, const char *table, const char *seg, segmeta *m, int32_t *version,
                   char *err, size_t errlen);
/* ctl__read_meta, logging an unreadable record (at most once a minute). */
int ctl__get_meta(ctl *c, zk *z, const char *table, const char *seg, segmeta *m, int32_t *version);
/* The table's assignment; a corrupt one is logged. Caller frees a with assign_free. */
int ctl__get_assign(ctl *c, zk *z, const char *table, assign *a, int32_t *version);
/* The table's config and schema, cached for the controller's life (owned by c), or NULL
 * when the stored config is missing or unusable. */
const ctl_table *ctl__table(ctl *c, zk *z, const char *name);
/* The key (tcfg_key) of the table a URL names, into key (SL_IDENT_MAX + 1 bytes): name
 * itself when it exists, else Pinot's `<raw>_REALTIME` as the REALTIME table `<raw>`, or a
 * bare name as its OFFLINE table `<name>_OFFLINE` (so a job spec's tableConfigURI and
 * schemaURI of an OFFLINE table resolve). A hybrid table's bare name is its REALTIME half.
 * Returns 0, SL_ENOENT (key = name), SL_EINVAL or ZooKeeper's error. */
int ctl__table_key(ctl *c, zk *z, const char *name, char *key);
/* True once ctl_run has opened the first session (FOLLOWER and after). */
bool ctl__serving(const ctl *c);
/* Handlers that need ZooKeeper answer 503 (and get true) until ctl__serving. */
bool ctl__not_running(const ctl *c, httpd_resp *resp);

/* ---- ctl_completion.c ------------------------------------------------------------------- */

/* Metadata of segment seq+1 of prev's partition starting at `start`, thresholds learned
 * from prev when it was committed with rows/size. */
void ctl__next_meta(const ctl_table *t, const segmeta *prev, int64_t start, int64_t rows,
                    int64_t size, uint64_t now, segmeta *next);
/* CommitEnd's file: check the upload the request names (the pending copy with its CRC) against
 * the request and the segment's record m, and only then promote it to the committed file.
 * *promoted is set once it is (the caller undoes it if the commit fails later). Returns 0, or
 * an error with the reason in why; a file that fails is never published. Worker thread. */
int ctl__promote_checked(ctl *c, const char *table, const rpc_req *r, const segmeta *m,
                         bool *promoted, char *why, size_t whylen);
/* Commit a segment `sluice replay` built and uploaded for a bootstrapping table (DESIGN §9):
 * r names the segment, its end offset (offset), rows, size and CRC, and instance is who
 * committed it. The upload is checked as a CommitEnd's is; one multi-op makes the record DONE,
 * puts it ONLINE on the partition's instances (which download it) and creates its successor
 * IN_PROGRESS at the end offset, unassigned, named with the same minute. A retry of a commit
 * that happened is 0. SL_ESTATE when the table is not bootstrapping. Worker thread. */
int ctl__commit_replayed(ctl *c, const char *table, const rpc_req *r, char *why, size_t whylen);
/* A librdkafka handle for the table's brokers (metadata reads); caller destroys it. NULL
 * with the reason, naming the brokers, in err. */
rd_kafka_t *ctl__kafka_open(const tcfg *t, char *err, size_t errlen);
/* Tick every machine, dropping the finished and long-idle ones, and wake the requests parked
 * on each one that changed state (its segment's key); true when one did. Ticker thread. */
bool ctl__fsms_tick(ctl *c, uint64_t now);
/* Drop every machine (leadership lost, or stopping); a pinned one is freed by its pin. */
void ctl__drop_all_fsms(ctl *c);
/* POST /twirp/...: the completion RPCs. */
void ctl__rpc(httpd_req *req, httpd_resp *resp, void *ctx);

/* ---- ctl_jobs.c: the workers ----------------------------------------------------------- */

/* A job's body, on a controller worker: it may block (ZooKeeper, Kafka, the disk). arg is the
 * job's memory, the worker's while fn runs. */
typedef void (*ctl_job_fn)(ctl *c, void *arg);

typedef enum ctl_job_state {
    CTL_JOB_NONE = 0,  /* the request has no job: a fresh run of the handler */
    CTL_JOB_PENDING,   /* queued or running, and the handler ran early (the server stopping):
                        * the request is parked again; return without a reply */
    CTL_JOB_DONE,      /* it ran: *arg is the job's memory, now the caller's */
    CTL_JOB_CANCELLED, /* the workers stopped before it ran (its memory is freed): answer 503 */
} ctl_job_state;

/* Start the workers (ctl_run) / stop them: new jobs are refused, queued ones cancelled (their
 * requests woken), running ones waited for (ctl_shutdown). */
int ctl__workers_start(ctl *c, char *err, size_t errlen);
void ctl__workers_stop(ctl *c);
/* In a handler: queue fn(c, arg) and park req until it ran (on the job's own key, no hold
 * time); the handler returns without a reply and, called again, gets arg back from
 * ctl__job_take. Takes ownership of arg: arg_free(arg) (may be NULL) runs when it is not
 * taken back (the request ended first, or the job was cancelled). Returns false when the
 * workers are stopping: nothing queued, arg freed; answer 503. */
bool ctl__job_submit(ctl *c, httpd_req *req, ctl_job_fn fn, void *arg, void (*arg_free)(void *arg));
/* First thing in a handler that submits jobs: the state of req's job (see ctl_job_state). */
ctl_job_state ctl__job_take(httpd_req *req, void **arg);

/* A reply built on a worker: fn fills out (a detached reply, httpd_resp_new) from arg. */
typedef void (*ctl_reply_fn)(ctl *c, void *arg, httpd_resp *out);
/* In a handler: run fn(c, arg, out) on a worker, req parked, and answer with out. Takes arg
 * (arg_free, may be NULL, frees it after fn ran or when it never runs). Answers 503 itself when
 * the workers are stopping. */
void ctl__reply_later(ctl *c, httpd_req *req, httpd_resp *resp, ctl_reply_fn fn, void *arg,
                      void (*arg_free)(void *arg));
/* First thing in a handler that uses ctl__reply_later: true when it is done with this run
 * (the worker's reply moved into resp, or 503 for a cancelled job, or parked again), false
 * for a fresh run. */
bool ctl__reply_ready(httpd_req *req, httpd_resp *resp);

/* ---- ctl_admin.c: route handlers -------------------------------------------------------- */

/* A GET of /tables/<t>...: the name checked and resolved to its table's key, then fn(c, arg,
 * out) answers on a worker; ctl__call_table(arg) is that key there. */
void ctl__table_read(httpd_req *req, httpd_resp *resp, ctl *c, ctl_reply_fn fn);
const char *ctl__call_table(const void *arg);

/* A standby answers a request that only the leader may serve with 307 to the leader (or 503
 * while none is known): true when it did. */
bool ctl__redirect_to_leader(ctl *c, httpd_req *req, httpd_resp *resp);
/* {"error": msg} with status. */
void ctl__json_error(httpd_resp *resp, unsigned status, const char *msg);

/* ---- ctl_ops.c: realtime operations ------------------------------------------------------ */

/* POST /tables/{table}/forceCommit[?partitions=0,3] -> {"jobId", "segments"}. */
void ctl__force_commit_post(httpd_req *req, httpd_resp *resp, void *ctx);
/* GET /tables/forceCommitStatus/{jobId}. */
void ctl__force_commit_status_get(httpd_req *req, httpd_resp *resp, void *ctx);
/* POST /tables/{table}/pauseConsumption, POST /tables/{table}/resumeConsumption
 * [?consumeFrom=lastConsumed|smallest|largest], GET /tables/{table}/pauseStatus. */
void ctl__pause_post(httpd_req *req, httpd_resp *resp, void *ctx);
void ctl__resume_post(httpd_req *req, httpd_resp *resp, void *ctx);
void ctl__pause_status_get(httpd_req *req, httpd_resp *resp, void *ctx);
/* POST /segments/{table}/{segment}/reingest. */
void ctl__reingest_post(httpd_req *req, httpd_resp *resp, void *ctx);
/* POST /segments/{table}/{segment}/bootstrapCommit?endOffset=&rows=&sizeBytes=&crc=. */
void ctl__bootstrap_commit_post(httpd_req *req, httpd_resp *resp, void *ctx);

int ctl__upload_stream(httpd_req *req, const void *data, size_t len, httpd_resp *resp, void *ctx);
/* Answer a failed upload or push: a full store is 507 (logged once per kind per minute
 * through the disk state), a failing one 500, every other failure `status` with err. */
void ctl__upload_failed(ctl *c, const char *segment, httpd_resp *resp, int rc, const char *err,
                        unsigned status);
void ctl__upload_done(httpd_req *req, httpd_resp *resp, void *ctx);
void ctl__download(httpd_req *req, httpd_resp *resp, void *ctx);
void ctl__tables_get(httpd_req *req, httpd_resp *resp, void *ctx);
void ctl__table_get(httpd_req *req, httpd_resp *resp, void *ctx);
void ctl__table_schema_get(httpd_req *req, httpd_resp *resp, void *ctx);
void ctl__tables_post(httpd_req *req, httpd_resp *resp, void *ctx);
void ctl__segments_get(httpd_req *req, httpd_resp *resp, void *ctx);

/* ---- ctl_ui.c: the operator's page ---------------------------------------------------------- */

/* GET /ui: the embedded page (HTML, its script and styles; no other asset). */
void ctl__ui_get(httpd_req *req, httpd_resp *resp, void *ctx);
/* GET /tables/{table}/consumingSegmentsInfo: per consuming segment and replica, offsets, lag,
 * rows, malformed and lost messages (read from the sidecars' /metrics), divergence per sidecar. */
void ctl__consuming_info_get(httpd_req *req, httpd_resp *resp, void *ctx);
void ctl__segment_get(httpd_req *req, httpd_resp *resp, void *ctx);
void ctl__health(httpd_req *req, httpd_resp *resp, void *ctx);
void ctl__metrics(httpd_req *req, httpd_resp *resp, void *ctx);

/* ---- ctl_push.c: POST /v2/segments (DESIGN §10) -------------------------------------------- */

/* The key of the table a push or lineage call names: name as the table routes resolve it, or
 * with type (a tcfg_table_type, -1 for none) that half of a hybrid table. 0; SL_ENOENT (no
 * table of that type); SL_ECORRUPT (its stored config is unusable); ZooKeeper's error. */
int ctl__push_table_key(ctl *c, zk *z, const char *name, int type, char *key);
/* Place pushed segment (not in a yet) of table t in state st: an uploaded-realtime name on
 * its partition's replicas, any other on the table's replication (every sidecar, up to
 * ASSIGN_MAX_HOSTS, for a dimension table) of the live instances, least loaded first. */
void ctl__push_place(assign *a, const tcfg *t, const char *segment, char **live, size_t nlive,
                     assign_state st);
int ctl__push_stream(httpd_req *req, const void *data, size_t len, httpd_resp *resp, void *ctx);
void ctl__push_done(httpd_req *req, httpd_resp *resp, void *ctx);
/* ---- ctl_lineage.c: backfill with lineage (DESIGN §10) --------------------------------- */
/* The one name no pushed segment may take: GET /segments/<t>/lineage is the lineage's route. */
#define CTL_RESERVED_SEGMENT "lineage"
void ctl__lineage_start_post(httpd_req *req, httpd_resp *resp, void *ctx);
void ctl__lineage_end_post(httpd_req *req, httpd_resp *resp, void *ctx);
void ctl__lineage_revert_post(httpd_req *req, httpd_resp *resp, void *ctx);
void ctl__lineage_get(httpd_req *req, httpd_resp *resp, void *ctx);
/* The repair round's part: the records and store copies of segments that a finished
 * replacement took out of the assignment, deleted (a controller died after the switch). */
void ctl__lineage_cleanup(ctl *c, zk *z, const char *table);
/* GET /tables/<t>/timeBoundary: the hybrid table's time boundary (its OFFLINE half). */
void ctl__time_boundary_get(httpd_req *req, httpd_resp *resp, void *ctx);
/* The repair round's part: place the pushed segments of OFFLINE table `table` that have fewer
 * sidecars than they should (none was up at the push, a dimension table's new sidecar) on
 * live ones, in one assignment write. Ticker thread, zk_lock read-held. */
void ctl__push_top_up(ctl *c, zk *z, const char *table);

/* ---- ctl_repair.c ----------------------------------------------------------------------- */

/* One repair round over every table while this controller leads, then the store's GC.
 * Ticker thread. */
void ctl__repair(ctl *c, uint64_t now);

/* ---- ctl_scrub.c ------------------------------------------------------------------------ */

/* Start the scrub thread when o.scrub_interval_ms is not 0, registering its metrics (ctl_run).
 * Returns 0 or SL_EIO with the reason in err. */
int ctl__scrub_start(ctl *c, char *err, size_t errlen);
/* Wake and join it; c->quit must be set (ctl_shutdown). No-op when it was not started. */
void ctl__scrub_stop(ctl *c);

/* What the scrub makes of the store's file for a DONE record (ctl__scrub_verdict). */
typedef enum ctl_scrub_verdict {
    CTL_SCRUB_GOOD,   /* verifies, with the committed CRC */
    CTL_SCRUB_ABSENT, /* missing, and the record points at another controller's store */
    CTL_SCRUB_BAD,    /* fails verification, another CRC, or missing from this store */
} ctl_scrub_verdict;

/* Whether m's committed file belongs in this store: in a shared store (deepstore.uri) a
 * committed segment's always does and a pushed one's unless its download URL is not a
 * controller's (a METADATA push's URI); else when its download URL is under this controller's
 * advertised URL. Pure. */
bool ctl__scrub_ours(const segmeta *m, const char *advertise, bool shared);
/* The verdict on the file checked for m: vrc is 0 (it verifies, with CRC crc), SL_ENOENT
 * (missing) or the check's error with its message vmsg; ours as ctl__scrub_ours. For BAD, why
 * (cap bytes) gets the reason. Pure. */
ctl_scrub_verdict ctl__scrub_verdict(const segmeta *m, bool ours, int vrc, const char *vmsg,
                                     uint32_t crc, char *why, size_t cap);

#endif
