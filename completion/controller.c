/* The controller object (controller.h is the contract): its lifecycle from ctl_new to
 * ctl_stop, the ZooKeeper session and the leader election it joins, the table cache, the
 * ticker that drives deadlines, session re-opening and the repair loop, and the route
 * table. The jobs live beside it, sharing ctl_int.h: the completion manager
 * (ctl_completion.c), the admin API (ctl_admin.c), repair (ctl_repair.c) and the store
 * scrub (ctl_scrub.c). Its
 * ZooKeeper state (DESIGN §5) is read and written through the cluster store
 * (cluster_store.h), which owns the layout.
 *
 * Lifecycle (ctl_state; docs/protocol.md "Controller lifecycle"). One atomic int, written
 * only by ctl__set_state, which checks every move against ctl__legal and logs it:
 *
 *   CREATED --ctl_run--> CONNECTING --ctl_run: session open, election joined--> FOLLOWER
 *   CONNECTING --ctl__on_leader: elected before ctl_run returned--> LEADER
 *   FOLLOWER <--ctl__on_leader: elected / leadership lost--> LEADER
 *   FOLLOWER, LEADER --ctl__on_session: session expired--> EXPIRED
 *   EXPIRED --ctl__ticker: dead session closed--> RECONNECTING
 *   RECONNECTING --ctl__ticker: session re-opened, election joined--> FOLLOWER
 *   RECONNECTING --ctl__on_leader: elected--> LEADER
 *   RECONNECTING --ctl__ticker: re-open failed / ctl__on_session: expired again--> EXPIRED
 *   every state but STOPPING, STOPPED --ctl_stop--> STOPPING --ctl_stop--> STOPPED
 *
 * Invariants:
 *   CREATED       the store is open and the metrics registered; no session (z == NULL), no
 *                 ticker; handlers that need ZooKeeper answer 503 (ctl__not_running).
 *   CONNECTING    ctl_run holds zk_lock for writing while it opens the first session and
 *                 joins the election; handlers still answer 503. A ctl_run that fails stays
 *                 here until ctl_stop. The election may report before ctl_run returns.
 *   FOLLOWER      a session and an election entry; another controller (or none) leads:
 *                 completion RPCs get NOT_LEADER with leader_url, admin writes a 307. The
 *                 machines were dropped on leaving LEADER (a handler that read LEADER just
 *                 before may still add one; nothing reaches it until LEADER again).
 *   LEADER        the election says this controller leads (it fences itself at once when
 *                 the connection drops, so LEADER -> FOLLOWER comes first): it builds and
 *                 runs the state machines, commits, creates tables and repairs.
 *   EXPIRED       the session is dead (every call on z fails) or z is NULL after a failed
 *                 re-open; not leading, machines dropped as for FOLLOWER; the ticker
 *                 re-opens it at its next tick.
 *   RECONNECTING  the ticker holds zk_lock for writing: the dead session is closed (no
 *                 callback of it runs any more) and a new one is being opened and joined.
 *   STOPPING      ctl_stop, after ctl_shutdown joined the ticker and the workers (the HTTP
 *                 server is stopped by then); no event moves the state.
 *   STOPPED       election left, session closed, machines dropped; c is freed next.
 * Readers that only need "do I lead" or "may I serve" read the state lock-free
 * (ctl__leads, ctl__serving); what a move publishes (leader_url, the session) is guarded
 * by mu or zk_lock as before. */
#include "completion/ctl_int.h"
#include "completion/deepstore.h"
#include "common/sl_err.h"
#include "completion/rpc.h"
#include "common/xalloc.h"
#include "common/clock.h"

#include <assert.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- lifecycle ------------------------------------------------------------------------ */

static const char *const ctl__state_names[CTL_STATE__COUNT] = {
    [CTL_CREATED] = "CREATED",   [CTL_CONNECTING] = "CONNECTING",
    [CTL_FOLLOWER] = "FOLLOWER", [CTL_LEADER] = "LEADER",
    [CTL_EXPIRED] = "EXPIRED",   [CTL_RECONNECTING] = "RECONNECTING",
    [CTL_STOPPING] = "STOPPING", [CTL_STOPPED] = "STOPPED",
};

/* ctl__legal[from][to]: the moves of the diagram above, and no other. */
static const bool ctl__legal[CTL_STATE__COUNT][CTL_STATE__COUNT] = {
    [CTL_CREATED] = {[CTL_CONNECTING] = true, [CTL_STOPPING] = true},
    [CTL_CONNECTING] = {[CTL_FOLLOWER] = true, [CTL_LEADER] = true, [CTL_STOPPING] = true},
    [CTL_FOLLOWER] = {[CTL_LEADER] = true, [CTL_EXPIRED] = true, [CTL_STOPPING] = true},
    [CTL_LEADER] = {[CTL_FOLLOWER] = true, [CTL_EXPIRED] = true, [CTL_STOPPING] = true},
    [CTL_EXPIRED] = {[CTL_RECONNECTING] = true, [CTL_STOPPING] = true},
    [CTL_RECONNECTING] =
        {[CTL_FOLLOWER] = true, [CTL_LEADER] = true, [CTL_EXPIRED] = true, [CTL_STOPPING] = true},
    [CTL_STOPPING] = {[CTL_STOPPED] = true},
};

const char *ctl__state_name(ctl_state s)
{
    return (unsigned)s < CTL_STATE__COUNT ? ctl__state_names[s] : "?";
}

bool ctl__state_legal(ctl_state from, ctl_state to)
{
    return (unsigned)from < CTL_STATE__COUNT && (unsigned)to < CTL_STATE__COUNT &&
           ctl__legal[from][to];
}

bool ctl__moves_legal(unsigned from, ctl_state to)
{
    if (!from || (from & ~CTL_ST_ALL)) return false;
    for (unsigned s = 0; s < CTL_STATE__COUNT; s++)
        if ((from & CTL_ST(s)) && !ctl__state_legal((ctl_state)s, to)) return false;
    return true;
}

bool ctl__set_state(ctl *c, unsigned from, ctl_state to, const char *why)
{
    bool legal = ctl__moves_legal(from, to);
    assert(legal);
    if (!legal) {
        for (unsigned s = 0; s < CTL_STATE__COUNT; s++)
            if ((from & CTL_ST(s)) && !ctl__state_legal((ctl_state)s, to))
                SL_ERROR("controller",
                         "illegal lifecycle transition instance=%s %s -> %s "
                         "why=\"%s\": refused",
                         c->o.instance_id, ctl__state_name((ctl_state)s), ctl__state_name(to), why);
        return false;
    }
    int cur = atomic_load_explicit(&c->state, memory_order_acquire);
    do {
        if (!((unsigned)from & CTL_ST(cur))) return false;
    } while (!atomic_compare_exchange_weak_explicit(&c->state, &cur, (int)to, memory_order_acq_rel,
                                                    memory_order_acquire));
    SL_INFO("controller", "lifecycle instance=%s %s -> %s why=\"%s\"", c->o.instance_id,
            ctl__state_name((ctl_state)cur), ctl__state_name(to), why);
    return true;
}

bool ctl__serving(const ctl *c)
{
    return !(CTL_ST(ctl__state(c)) & (CTL_ST(CTL_CREATED) | CTL_ST(CTL_CONNECTING)));
}

/* ---- ZooKeeper access ------------------------------------------------------------------ */

zk *ctl__zk(ctl *c)
{
    pthread_rwlock_rdlock(&c->zk_lock);
    return c->z;
}

void ctl__zk_done(ctl *c)
{
    pthread_rwlock_unlock(&c->zk_lock);
}

/* Read and decode a segment's metadata; a record that does not decode is SL_ECORRUPT with
 * the reason in err (*version is set for it too, so repair can replace it). */
int ctl__read_meta(ctl *c, zk *z, const char *table, const char *seg, segmeta *m, int32_t *version,
                   char *err, size_t errlen)
{
    return cstore_segment_get(c->cs, z, table, seg, m, version, err, errlen);
}

int ctl__get_meta(ctl *c, zk *z, const char *table, const char *seg, segmeta *m, int32_t *version)
{
    char err[256];
    int rc = ctl__read_meta(c, z, table, seg, m, version, err, sizeof err);
    if (rc == SL_ECORRUPT)
        SL_LOG_LIMITED(c->loglim, "record.unreadable", SL_LOG_ERROR, "controller",
                       "unreadable segment record table=%s segment=%s err=\"%s\"", table, seg, err);
    return rc;
}

int ctl__get_assign(ctl *c, zk *z, const char *table, assign *a, int32_t *version)
{
    char err[256];
    int rc = cstore_assign_get(c->cs, z, table, a, version, err, sizeof err);
    if (rc == SL_ECORRUPT) {
        char path[ZK_PATH_MAX];
        cstore_path(c->cs, CSTORE_ASSIGNMENT, table, NULL, path, sizeof path);
        SL_ERROR("controller", "bad assignment path=%s err=%s", path, err);
    }
    return rc;
}

/* The table's config and schema, parsed once and cached (tables are immutable). */
const ctl_table *ctl__table(ctl *c, zk *z, const char *name)
{
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->ntables; i++)
        if (strcmp(c->tables[i]->name, name) == 0) {
            pthread_mutex_unlock(&c->mu);
            return c->tables[i];
        }
    pthread_mutex_unlock(&c->mu);
    char err[512];
    char *sj = NULL, *tj = NULL;
    size_t sl, tl;
    ctl_table t = {0};
    snprintf(t.name, sizeof t.name, "%s", name);
    if (cstore_table_read(c->cs, z, name, &tj, &tl, &sj, &sl)) goto fail;
    if (tcfg_parse_pair(sj, sl, "zookeeper schema", tj, tl, "zookeeper config", &t.schema, &t.cfg,
                        err, sizeof err) != 0) {
        SL_ERROR("controller", "table %s: stored config unusable: %s", name, err);
        goto fail;
    }
    free(sj);
    free(tj);
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->ntables; i++) /* another thread loaded it meanwhile */
        if (strcmp(c->tables[i]->name, name) == 0) {
            ctl_table *r = c->tables[i];
            pthread_mutex_unlock(&c->mu);
            tcfg_free(t.cfg);
            schema_free(t.schema);
            return r;
        }
    c->tables = sl_xrealloc(c->tables, (c->ntables + 1) * sizeof *c->tables);
    ctl_table *r = sl_xmalloc(sizeof *r);
    *r = t;
    pthread_mutex_init(&r->rk_mu, NULL);
    c->tables[c->ntables++] = r;
    pthread_mutex_unlock(&c->mu);
    return r;
fail:
    free(sj);
    free(tj);
    tcfg_free(t.cfg);
    schema_free(t.schema);
    return NULL;
}

int ctl__table_key(ctl *c, zk *z, const char *name, char *key)
{
    snprintf(key, SL_IDENT_MAX + 1, "%s", name);
    if (!segname_valid_table(name)) return SL_EINVAL;
    int rc = cstore_table_exists(c->cs, z, name);
    if (rc != SL_ENOENT) return rc;
    char alt[SL_IDENT_MAX + 16];
    size_t n = strlen(name), m = strlen("_REALTIME");
    if (n > m && strcmp(name + n - m, "_REALTIME") == 0)
        snprintf(alt, sizeof alt, "%.*s", (int)(n - m), name); /* Pinot's name with its type */
    else
        snprintf(alt, sizeof alt, "%s_OFFLINE", name); /* a bare name of an OFFLINE table */
    if (strlen(alt) > SL_IDENT_MAX || !segname_valid_table(alt)) return SL_ENOENT;
    rc = cstore_table_exists(c->cs, z, alt);
    if (rc == 0) memcpy(key, alt, strlen(alt) + 1); /* fits: checked above */
    return rc;
}

bool ctl__not_running(const ctl *c, httpd_resp *resp)
{
    if (ctl__serving(c)) return false;
    httpd_resp_text(resp, 503, "controller starting\n");
    return true;
}

/* ---- leadership, session ------------------------------------------------------------------ */

/* The election's report (zk dispatcher thread). Elected: FOLLOWER, or a session being
 * opened, -> LEADER; not leader: LEADER -> FOLLOWER. A report in any other state (EXPIRED:
 * the dead session's; STOPPING) moves nothing; leader_url and the gauge follow every one. */
static void ctl__on_leader(void *ctx, bool is_leader, const char *leader_data)
{
    ctl *c = ctx;
    bool moved = is_leader ? ctl__set_state(c, CTL_ELECTED_FROM, CTL_LEADER, "elected")
                           : ctl__set_state(c, CTL_ST(CTL_LEADER), CTL_FOLLOWER, "leadership lost");
    pthread_mutex_lock(&c->mu);
    snprintf(c->leader_url, sizeof c->leader_url, "%s", leader_data ? leader_data : "");
    pthread_mutex_unlock(&c->mu);
    metrics_gauge_set(c->m_leader, is_leader);
    if (moved)
        SL_INFO("controller", "leadership instance=%s leader=%s leader_url=%s", c->o.instance_id,
                is_leader ? "yes" : "no", leader_data ? leader_data : "-");
    if (moved && !is_leader) ctl__drop_all_fsms(c); /* a new leader may commit from here on */
    if (moved && is_leader)
        atomic_store(&c->next_repair_ms, sl_clock_wall_ms() + c->o.repair_interval_ms);
}

/* Session events (zk dispatcher thread): an expiry hands the session to the ticker. An
 * expiry while CONNECTING is not acted on (ctl_run has just opened the session; it was not
 * acted on before the lifecycle was explicit either). */
static void ctl__on_session(void *ctx, zk_session_event ev)
{
    ctl *c = ctx;
    if (ev != ZK_SESSION_EXPIRED) return;
    /* the election fences a leader on the disconnect that precedes an expiry, so LEADER is
     * normally gone already; if not, its machines go as on any leadership loss */
    if (ctl__set_state(c, CTL_ST(CTL_LEADER), CTL_EXPIRED, "zookeeper session expired"))
        ctl__drop_all_fsms(c);
    else
        ctl__set_state(c, CTL_EXPIRY_FROM & ~CTL_ST(CTL_LEADER), CTL_EXPIRED,
                       "zookeeper session expired");
}

/* Open a session and join the election; with zk_lock held for writing. */
static int ctl__connect(ctl *c, char *err, size_t errlen)
{
    zk_opts zo = {.on_session = ctl__on_session, .ctx = c};
    c->z = zk_open(c->o.zk_connect, c->o.zk_session_timeout_ms, &zo, err, errlen);
    if (!c->z) return SL_ETRANSIENT;
    cstore_ensure_base(c->cs, c->z);
    int rc = 0;
    c->el = cstore_election_join(c->cs, c->z, c->advertise, ctl__on_leader, c, &rc);
    if (!c->el) {
        snprintf(err, errlen, "cannot join the controller election: %s", sluice_strerror(rc));
        zk_close(c->z);
        c->z = NULL;
        return rc ? rc : SL_EIO;
    }
    return 0;
}

static void ctl__disconnect(ctl *c)
{
    if (c->el) zk_election_leave(c->el);
    c->el = NULL;
    zk_close(c->z);
    c->z = NULL;
}

/* ---- ticker ------------------------------------------------------------------------------ */

static void *ctl__ticker(void *arg)
{
    ctl *c = arg;
    while (!atomic_load(&c->quit)) {
        sl_clock_sleep_ms(CTL_TICK_MS);
        uint64_t now = sl_clock_wall_ms();
        if (ctl__state(c) == CTL_EXPIRED) { /* a dead session: re-open and re-join */
            char err[256];
            SL_WARN("controller", "zookeeper session expired: reconnecting");
            pthread_rwlock_wrlock(&c->zk_lock);
            ctl__disconnect(c); /* after it, no callback of the dead session runs */
            int rc = 0;
            if (ctl__set_state(c, CTL_ST(CTL_EXPIRED), CTL_RECONNECTING, "dead session closed")) {
                rc = ctl__connect(c, err, sizeof err);
                if (rc == 0) /* unless the election reported (LEADER) or it expired again */
                    ctl__set_state(c, CTL_ST(CTL_RECONNECTING), CTL_FOLLOWER,
                                   "session re-opened, election joined");
            }
            pthread_rwlock_unlock(&c->zk_lock);
            if (rc) {
                SL_ERROR("controller", "zookeeper reconnect failed: %s", err);
                ctl__set_state(c, CTL_ST(CTL_RECONNECTING), CTL_EXPIRED, "reconnect failed");
                sleep(1);
            }
            continue;
        }
        ctl__fsms_tick(c, now); /* wakes the long-polls of the segments that changed */
        uint64_t due = atomic_load(&c->next_repair_ms);
        if (ctl__leads(c) && now >= due &&
            atomic_compare_exchange_strong(&c->next_repair_ms, &due, now + c->o.repair_interval_ms))
            ctl__repair(c, now); /* unless an election set a new time since the load */
    }
    return NULL;
}

/* Access (DESIGN §12): completion RPCs and commit uploads are an instance's, checked against
 * its id by the handlers; every GET a reader's; what changes a table an admin's (the zero
 * value: a route added without a level is admin-only). */
static const httpd_route ctl_route_table[] = {
    {"POST", RPC_ROUTE_PATTERN, ctl__rpc, RPC_MAX_BODY, 0, NULL, HTTPD_INSTANCE},
    {"PUT", "/segments/{table}/{segment}", ctl__upload_done, SEGSTORE_DEFAULT_MAX_UPLOAD,
     HTTPD_STREAM_BODY, ctl__upload_stream, HTTPD_INSTANCE},
    {"GET", "/segments/{table}/lineage", ctl__lineage_get, 0, 0, NULL,
     HTTPD_READ}, /* before the download */
    {"GET", "/segments/{table}/{segment}", ctl__download, 0, 0, NULL, HTTPD_READ},
    {"POST", "/segments/{table}/startReplaceSegments", ctl__lineage_start_post, CTL_TABLE_BODY_MAX,
     0, NULL, HTTPD_ADMIN},
    {"POST", "/segments/{table}/endReplaceSegments", ctl__lineage_end_post, 0, 0, NULL,
     HTTPD_ADMIN},
    {"POST", "/segments/{table}/revertReplaceSegments", ctl__lineage_revert_post, 0, 0, NULL,
     HTTPD_ADMIN},
    {"POST", "/v2/segments", ctl__push_done, SEGSTORE_DEFAULT_MAX_UPLOAD, HTTPD_STREAM_BODY,
     ctl__push_stream, HTTPD_ADMIN},
    {"POST", "/segments/{table}/{segment}/reingest", ctl__reingest_post, 0, 0, NULL, HTTPD_ADMIN},
    {"POST", "/segments/{table}/{segment}/bootstrapCommit", ctl__bootstrap_commit_post, 0, 0, NULL,
     HTTPD_ADMIN},
    {"GET", "/tables", ctl__tables_get, 0, 0, NULL, HTTPD_READ},
    {"POST", "/tables", ctl__tables_post, CTL_TABLE_BODY_MAX, 0, NULL, HTTPD_ADMIN},
    {"GET", "/tables/forceCommitStatus/{jobId}", ctl__force_commit_status_get, 0, 0, NULL,
     HTTPD_READ},
    {"POST", "/tables/{table}/forceCommit", ctl__force_commit_post, 0, 0, NULL, HTTPD_ADMIN},
    {"POST", "/tables/{table}/pauseConsumption", ctl__pause_post, 0, 0, NULL, HTTPD_ADMIN},
    {"POST", "/tables/{table}/resumeConsumption", ctl__resume_post, 0, 0, NULL, HTTPD_ADMIN},
    {"GET", "/tables/{table}/pauseStatus", ctl__pause_status_get, 0, 0, NULL, HTTPD_READ},
    {"GET", "/tables/{table}", ctl__table_get, 0, 0, NULL, HTTPD_READ},
    {"GET", "/tables/{table}/schema", ctl__table_schema_get, 0, 0, NULL, HTTPD_READ},
    {"GET", "/tables/{table}/timeBoundary", ctl__time_boundary_get, 0, 0, NULL, HTTPD_READ},
    {"GET", "/tables/{table}/segments", ctl__segments_get, 0, 0, NULL, HTTPD_READ},
    {"GET", "/tables/{table}/segments/{segment}", ctl__segment_get, 0, 0, NULL, HTTPD_READ},
    {"GET", "/tables/{table}/consumingSegmentsInfo", ctl__consuming_info_get, 0, 0, NULL,
     HTTPD_READ},
    {"GET", "/ui", ctl__ui_get, 0, 0, NULL,
     HTTPD_PUBLIC}, /* the page only: its data needs a token */
    {"GET", "/health", ctl__health, 0, 0, NULL, HTTPD_PUBLIC},
    {"GET", "/metrics", ctl__metrics, 0, 0, NULL, HTTPD_READ},
};

const httpd_route *ctl_routes(size_t *n)
{
    *n = sizeof ctl_route_table / sizeof ctl_route_table[0];
    return ctl_route_table;
}

/* ---- public -------------------------------------------------------------------------------- */

/* What ctl_new makes before the store: freed on its failure and by ctl_stop. */
static void ctl__free_base(ctl *c)
{
    deepstore_close(c->deep);
    cstore_free(c->cs);
    diskstate_free(c->disk);
    sl_log_limit_free(c->loglim);
    pthread_cond_destroy(&c->scrub_cv);
    pthread_mutex_destroy(&c->scrub_mu);
    pthread_cond_destroy(&c->jobs_cv);
    pthread_mutex_destroy(&c->jobs_mu);
    pthread_mutex_destroy(&c->mu);
    pthread_rwlock_destroy(&c->zk_lock);
    free(c);
}

ctl *ctl_new(const ctl_opts *o, char *err, size_t errlen)
{
    ctl *c = sl_xcalloc(1, sizeof *c);
    c->o = *o;
    atomic_init(&c->state, CTL_CREATED);
    if (!(c->cs = cstore_new(o->cluster))) {
        snprintf(err, errlen, "cluster name too long for a ZooKeeper path");
        free(c);
        return NULL;
    }
    pthread_rwlock_init(&c->zk_lock, NULL);
    pthread_mutex_init(&c->mu, NULL);
    pthread_mutex_init(&c->jobs_mu, NULL);
    pthread_cond_init(&c->jobs_cv, NULL);
    pthread_mutex_init(&c->scrub_mu, NULL);
    pthread_cond_init(&c->scrub_cv, NULL);
    static const char *const ms[] = {"method", "status"};
    static const char *const mm[] = {"method"};
    static const double rpc_bounds[] = {0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5};
    c->m_rpcs = metrics_family_new(o->metrics, METRICS_COUNTER, "sluice_completion_rpcs_total",
                                   "Completion RPCs answered, by method and status", ms, 2);
    c->m_rpc_seconds =
        metrics_histogram_new(o->metrics, "sluice_completion_rpc_seconds",
                              "Completion RPC handling time (long-polls excluded)", mm, 1,
                              rpc_bounds, sizeof rpc_bounds / sizeof rpc_bounds[0]);
    c->m_commits =
        metrics_counter_with(metrics_family_new(o->metrics, METRICS_COUNTER, "sluice_commits_total",
                                                "Segments committed by this controller", NULL, 0),
                             NULL);
    c->m_commit_fail = metrics_counter_with(
        metrics_family_new(o->metrics, METRICS_COUNTER, "sluice_commit_failures_total",
                           "Commits that failed (upload check or ZooKeeper)", NULL, 0),
        NULL);
    c->m_leader = metrics_gauge_with(metrics_family_new(o->metrics, METRICS_GAUGE,
                                                        "sluice_controller_is_leader",
                                                        "1 while this controller leads", NULL, 0),
                                     NULL);
    c->disk = diskstate_new(o->metrics);
    c->loglim = sl_log_limit_new(0);
    segstore_opts so = {0};
    if (o->deep &&
        deepstore_open(o->deep, o->fetch_ca_file, o->fetch_netrc_file, &c->deep, err, errlen) != 0)
        goto fail;
    so.deep = c->deep;
    if (segstore_open(o->store, &so, &c->store, err, errlen) != 0) goto fail;
    return c;
fail:
    ctl__free_base(c);
    return NULL;
}

int ctl_run(ctl *c, httpd *h, const char *advertise_url, char *err, size_t errlen)
{
    if (!ctl__set_state(c, CTL_ST(CTL_CREATED), CTL_CONNECTING, "ctl_run")) {
        return sl_fail(err, errlen, SL_ESTATE, "ctl_run called twice");
    }
    snprintf(c->advertise, sizeof c->advertise, "%s", advertise_url);
    c->http = h;
    int rc = ctl__workers_start(c, err, errlen);
    if (rc) return rc;
    pthread_rwlock_wrlock(&c->zk_lock);
    rc = ctl__connect(c, err, errlen);
    pthread_rwlock_unlock(&c->zk_lock);
    if (rc) return rc;
    if (pthread_create(&c->ticker, NULL, ctl__ticker, c)) {
        return sl_fail(err, errlen, SL_EIO, "cannot start the ticker thread");
    }
    c->ticker_up = true;
    if ((rc = ctl__scrub_start(c, err, errlen))) return rc;
    /* unless the election already reported this controller as the leader */
    ctl__set_state(c, CTL_ST(CTL_CONNECTING), CTL_FOLLOWER, "session open, election joined");
    return 0;
}

bool ctl_is_leader(const ctl *c)
{
    return ctl__leads(c);
}

void ctl_shutdown(ctl *c)
{
    if (!c) return;
    atomic_store(&c->quit, true);
    if (c->ticker_up) pthread_join(c->ticker, NULL);
    c->ticker_up = false;
    ctl__scrub_stop(c);
    ctl__workers_stop(c);
}

void ctl_stop(ctl *c)
{
    if (!c) return;
    ctl_shutdown(c);
    ctl__set_state(c, CTL_STOP_FROM, CTL_STOPPING, "ctl_stop");
    pthread_rwlock_wrlock(&c->zk_lock);
    ctl__disconnect(c);
    pthread_rwlock_unlock(&c->zk_lock);
    ctl__drop_all_fsms(c);
    ctl__set_state(c, CTL_ST(CTL_STOPPING), CTL_STOPPED,
                   "ticker joined, session closed, machines dropped");
    free(c->fsms);
    for (size_t i = 0; i < c->ntables; i++) {
        if (c->tables[i]->rk) rd_kafka_destroy(c->tables[i]->rk);
        pthread_mutex_destroy(&c->tables[i]->rk_mu);
        tcfg_free(c->tables[i]->cfg);
        schema_free(c->tables[i]->schema);
        free(c->tables[i]);
    }
    free(c->tables);
    for (size_t i = 0; i < c->npushing; i++)
        free(c->pushing[i]);
    free(c->pushing);
    segstore_close(c->store);
    ctl__free_base(c);
}
