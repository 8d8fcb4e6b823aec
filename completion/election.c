/* Leader election (see election.h) on top of zk.c's session, watches and dispatcher.
 *
 * Each participant owns one EPHEMERAL|SEQUENTIAL node dir/n_<session>_<k>_<seq>; the lowest
 * sequence leads. An election's truth (leader flag, leader data) is written under z->mu; the
 * session layer clears it the moment the connection drops (zk__elections_fence_locked, on
 * the library's completion thread, before any callback) and the epoch makes an evaluation
 * that straddled a disconnect refuse to claim leadership. e->eval_mu serialises the
 * evaluations of one election (join on the caller's thread, then the dispatcher); it is held
 * across ZK calls but no libzookeeper thread ever takes it. Lifetime follows zk.c's rules:
 * the dispatcher marks what it works on in z->busy, and an election left from inside its own
 * callback is freed by the dispatcher ("zombie"). */
#include "completion/election.h"
#include "completion/zk_int.h"

#include "common/log.h"
#include "common/sl_err.h"
#include "common/xalloc.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUB "zk"

struct zk_election {
    zk *z;
    struct zk_election *next;
    uint64_t id;
    char *dir;
    char *my_data;
    char prefix[48]; /* n_<session>_<k>_ : finds our node even if a create's reply was lost */
    char my_name[96]; /* our node's name once known, "" otherwise */
    void (*on_change)(void *ctx, bool is_leader, const char *leader_data);
    void *ctx;
    uint64_t watch_id;
    pthread_mutex_t eval_mu;
    /* truth, written under z->mu */
    atomic_bool leader;
    char *leader_data;
    /* last values given to on_change (dispatcher only) */
    bool rep_valid, rep_leader;
    char *rep_data;
    bool leaving;      /* the owner called leave: no more on_change */
    bool leave_active; /* leave() is running on the owner's thread: dispatcher keeps off */
    bool zombie;
};

static zk_election *find_election(zk *z, uint64_t id)
{
    for (zk_election *e = z->elections; e; e = e->next)
        if (e->id == id) return e;
    return NULL;
}

static void free_election(zk_election *e)
{
    if (!e) return;
    pthread_mutex_destroy(&e->eval_mu);
    free(e->dir);
    free(e->my_data);
    free(e->leader_data);
    free(e->rep_data);
    free(e);
}

/* ---- election ----------------------------------------------------------------------------- */

/* Sequence number of an election node name, or -1 if the name is not one of ours. */
static int64_t node_seq(const char *name)
{
    size_t n = strlen(name);
    if (strncmp(name, "n_", 2) != 0 || n < 2 + SEQ_DIGITS) return -1;
    int64_t v = 0;
    for (size_t i = n - SEQ_DIGITS; i < n; i++) {
        if (name[i] < '0' || name[i] > '9') return -1;
        v = v * 10 + (name[i] - '0');
    }
    return v;
}

static int join_path(char *out, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= cap ? SL_ELIMIT : 0;
}

int zk_election_peek(zk *z, const char *dir, char **data)
{
    *data = NULL;
    for (int attempt = 0; attempt < 3; attempt++) { /* the leader may leave between reads */
        char **names = NULL;
        size_t n = 0;
        int rc = zk_children(z, dir, &names, &n);
        if (rc) return rc;
        const char *lead = NULL;
        int64_t lead_seq = -1;
        for (size_t i = 0; i < n; i++) {
            int64_t sq = node_seq(names[i]);
            if (sq >= 0 && (!lead || sq < lead_seq)) {
                lead = names[i];
                lead_seq = sq;
            }
        }
        char path[ZK_PATH_MAX];
        rc = lead ? join_path(path, sizeof path, dir, lead) : SL_ENOENT;
        zk_free_strings(names, n);
        if (rc == SL_ENOENT) return lead ? SL_ENOENT : 0; /* nobody leads */
        if (rc) return rc;
        uint8_t *d;
        size_t len;
        rc = zk_get(z, path, &d, &len, NULL);
        if (rc == SL_ENOENT) continue;
        if (rc) return rc;
        *data = (char *)d; /* NUL-terminated by zk_get */
        return 0;
    }
    return SL_ETRANSIENT;
}

/* Work out who leads: list the participants, create our node if we have none (adopting one
 * whose create reply was lost), read the leader's data, and publish the result unless the
 * connection dropped meanwhile (epoch). Failures leave the truth at not-leader. */
static int election_eval(zk_election *e)
{
    zk *z = e->z;
    int rc = 0;
    pthread_mutex_lock(&e->eval_mu);
    for (int attempt = 0; attempt < 6; attempt++) {
        pthread_mutex_lock(&z->mu);
        uint64_t epoch = z->epoch;
        bool dead = e->leaving;
        pthread_mutex_unlock(&z->mu);
        if (dead) {
            rc = SL_ESTATE; /* being left: nothing to decide */
            break;
        }
        char **names = NULL;
        size_t n = 0;
        rc = zk_children(z, e->dir, &names, &n);
        if (rc) break;
        const char *lead = NULL, *mine = NULL, *adopt = NULL;
        int64_t lead_seq = -1;
        for (size_t i = 0; i < n; i++) {
            int64_t s = node_seq(names[i]);
            if (s < 0) continue;
            if (!lead || s < lead_seq) {
                lead = names[i];
                lead_seq = s;
            }
            if (e->my_name[0] && strcmp(names[i], e->my_name) == 0) mine = names[i];
            if (strncmp(names[i], e->prefix, strlen(e->prefix)) == 0) adopt = names[i];
        }
        if (!mine) {
            if (adopt && strlen(adopt) < sizeof e->my_name) {
                snprintf(e->my_name, sizeof e->my_name, "%s", adopt);
            } else {
                /* no node of ours (first join, lost create, or deleted by hand): create */
                e->my_name[0] = 0;
                char path[ZK_PATH_MAX], made[ZK_PATH_MAX + SEQ_DIGITS + 2];
                rc = join_path(path, sizeof path, e->dir, e->prefix);
                if (rc == 0)
                    rc = zk_create(z, path, e->my_data, strlen(e->my_data),
                                   ZK_EPHEMERAL | ZK_SEQUENTIAL, made, sizeof made);
                if (rc == 0) {
                    const char *base = strrchr(made, '/');
                    base = base ? base + 1 : made;
                    size_t bl = strlen(base); /* prefix + 10 digits: always fits */
                    if (bl < sizeof e->my_name) {
                        memcpy(e->my_name, base, bl + 1);
                        SL_INFO(SUB, "election joined dir=%s node=%s", e->dir, e->my_name);
                    }
                }
            }
            zk_free_strings(names, n);
            if (rc) break;
            continue; /* list again with our node in it */
        }
        bool is_leader = strcmp(lead, mine) == 0;
        char *data = NULL;
        if (is_leader) {
            data = sl_xstrdup(e->my_data);
        } else {
            char path[ZK_PATH_MAX];
            uint8_t *v = NULL;
            size_t vlen = 0;
            rc = join_path(path, sizeof path, e->dir, lead);
            if (rc == 0) rc = zk_get(z, path, &v, &vlen, NULL);
            if (rc == SL_ENOENT) { /* the leader left between the two reads */
                zk_free_strings(names, n);
                continue;
            }
            data = (char *)v; /* NUL-terminated by zk_get */
        }
        zk_free_strings(names, n);
        if (rc) {
            free(data);
            break;
        }
        pthread_mutex_lock(&z->mu);
        if (z->epoch == epoch && z->state == ZK_SESSION_CONNECTED && !z->closing && !e->leaving) {
            bool was = atomic_load(&e->leader);
            atomic_store(&e->leader, is_leader);
            free(e->leader_data);
            e->leader_data = data;
            data = NULL;
            if (was != is_leader)
                SL_INFO(SUB, "election dir=%s node=%s leader=%s", e->dir, e->my_name,
                        is_leader ? "self" : lead);
        }
        pthread_mutex_unlock(&z->mu);
        free(data);
        rc = 0;
        goto out;
    }
    if (rc == 0) rc = SL_ECONFLICT; /* membership kept changing under us */
    /* Could not decide: claim nothing. */
    pthread_mutex_lock(&z->mu);
    atomic_store(&e->leader, false);
    free(e->leader_data);
    e->leader_data = NULL;
    pthread_mutex_unlock(&z->mu);
out:
    pthread_mutex_unlock(&e->eval_mu);
    return rc;
}

/* Tell the owner if (leader, data) differs from what it was last told. Dispatcher only. */
static void election_notify(zk *z, zk_election *e)
{
    pthread_mutex_lock(&z->mu);
    if (e->leaving || z->closing) {
        pthread_mutex_unlock(&z->mu);
        return;
    }
    bool leader = atomic_load(&e->leader);
    char *data = e->leader_data ? sl_xstrdup(e->leader_data) : NULL;
    bool changed = !e->rep_valid || leader != e->rep_leader ||
                   (data == NULL) != (e->rep_data == NULL) ||
                   (data && strcmp(data, e->rep_data) != 0);
    if (changed) {
        e->rep_valid = true;
        e->rep_leader = leader;
        free(e->rep_data);
        e->rep_data = data ? sl_xstrdup(data) : NULL;
    }
    pthread_mutex_unlock(&z->mu);
    if (changed && e->on_change) e->on_change(e->ctx, leader, data);
    free(data);
}

/* Delete every node with our prefix (the known one, or one whose create reply was lost). */
static int election_remove_node(zk_election *e)
{
    char **names = NULL;
    size_t n = 0;
    int rc = zk_children(e->z, e->dir, &names, &n);
    if (rc == SL_ENOENT) return 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (strncmp(names[i], e->prefix, strlen(e->prefix)) != 0) continue;
        char path[ZK_PATH_MAX];
        rc = join_path(path, sizeof path, e->dir, names[i]);
        if (rc == 0) rc = zk_delete(e->z, path, -1);
        if (rc == SL_ENOENT) rc = 0;
    }
    zk_free_strings(names, n);
    if (rc == 0) e->my_name[0] = 0;
    return rc;
}

/* Unlink e and free it now, or leave it to the dispatcher if it is inside e's callback. */
static void election_unlink_free(zk *z, zk_election *e)
{
    pthread_mutex_lock(&z->mu);
    zk_election **pp = &z->elections;
    while (*pp && *pp != e) pp = &(*pp)->next;
    if (*pp) *pp = e->next;
    bool defer = z->busy == e;
    if (defer) e->zombie = true;
    pthread_mutex_unlock(&z->mu);
    if (!defer) free_election(e);
}

zk_election *zk_election_join(zk *z, const char *dir, const char *my_data,
                              void (*on_change)(void *ctx, bool is_leader, const char *leader_data),
                              void *ctx, int *err)
{
    int rc = zk__check_path(dir);
    if (rc == 0 && (!my_data || strlen(my_data) > ZK_DATA_MAX)) rc = SL_EINVAL;
    if (rc == 0 && strlen(dir) + 1 + 48 + SEQ_DIGITS >= ZK_PATH_MAX) rc = SL_EINVAL;
    if (rc == 0) rc = zk__ready(z);
    if (rc == 0) rc = zk_ensure_path(z, dir);
    if (rc) {
        if (err) *err = rc;
        return NULL;
    }
    zk_election *e = sl_xcalloc(1, sizeof *e);
    e->z = z;
    e->dir = sl_xstrdup(dir);
    e->my_data = sl_xstrdup(my_data);
    e->on_change = on_change;
    e->ctx = ctx;
    pthread_mutex_init(&e->eval_mu, NULL);
    atomic_init(&e->leader, false);
    const clientid_t *cid = zoo_client_id(z->zh);
    pthread_mutex_lock(&z->mu);
    e->id = ++z->next_id;
    snprintf(e->prefix, sizeof e->prefix, "n_%016" PRIx64 "_%08x_",
             (uint64_t)(cid ? cid->client_id : 0), ++z->election_seq);
    e->next = z->elections;
    z->elections = e;
    pthread_mutex_unlock(&z->mu);

    /* Watch first, then evaluate: a change between the two still triggers a re-evaluation. */
    rc = zk__watch_add(z, dir, ZK_WATCH_CHILDREN, NULL, NULL, e->id, &e->watch_id);
    if (rc) goto fail_watch;
    rc = election_eval(e);
    if (rc) goto fail_eval;
    pthread_mutex_lock(&z->mu);
    zk__enqueue(z, ITEM_NOTIFY, 0, e->id);
    pthread_mutex_unlock(&z->mu);
    return e;

fail_eval:
    SL_WARN(SUB, "election join failed dir=%s step=evaluate err=\"%s\"", dir, sluice_strerror(rc));
    if (err) *err = rc;
    zk_election_leave(e);
    return NULL;
fail_watch:
    SL_WARN(SUB, "election join failed dir=%s step=watch err=\"%s\"", dir, sluice_strerror(rc));
    if (err) *err = rc;
    election_unlink_free(z, e);
    return NULL;
}

bool zk_election_is_leader(zk_election *e)
{
    return e && atomic_load(&e->leader);
}

char *zk_election_leader_data(zk_election *e)
{
    if (!e) return NULL;
    pthread_mutex_lock(&e->z->mu);
    char *d = e->leader_data ? sl_xstrdup(e->leader_data) : NULL;
    pthread_mutex_unlock(&e->z->mu);
    return d;
}

int zk_election_leave(zk_election *e)
{
    if (!e) return SL_EINVAL;
    zk *z = e->z;
    pthread_mutex_lock(&z->mu);
    e->leaving = true;
    e->leave_active = true;
    atomic_store(&e->leader, false);
    free(e->leader_data);
    e->leader_data = NULL;
    zk__wait_not_busy(z, e);
    pthread_mutex_unlock(&z->mu);
    if (e->watch_id) zk_unwatch(z, e->watch_id);
    e->watch_id = 0;
    /* e->eval_mu: an evaluation on this thread's behalf is over; the dispatcher keeps off. */
    int rc = election_remove_node(e);
    if (rc == 0 || rc == SL_ESTATE) { /* gone, or gone with the session */
        if (rc == 0) SL_INFO(SUB, "election left dir=%s", e->dir);
        election_unlink_free(z, e);
        return rc;
    }
    /* Connection trouble: our node may outlive this call and would block the election for
     * everyone until the session ends. Keep e (owner-less) so the dispatcher deletes the node
     * after the next reconnect; zk_close frees it otherwise. */
    SL_WARN(SUB, "election leave deferred dir=%s err=\"%s\"", e->dir, sluice_strerror(rc));
    pthread_mutex_lock(&z->mu);
    e->leave_active = false;
    pthread_mutex_unlock(&z->mu);
    return rc;
}

void zk__election_process(zk *z, item_kind kind, uint64_t id)
{
    pthread_mutex_lock(&z->mu);
    zk_election *e = find_election(z, id);
    if (!e || z->closing || e->leave_active) {
        pthread_mutex_unlock(&z->mu);
        return;
    }
    z->busy = e;
    bool leaving = e->leaving;
    pthread_mutex_unlock(&z->mu);

    if (leaving) {
        /* owner-less after a failed leave: delete the node once the connection is back */
        if (kind == ITEM_EVAL) {
            int rc = election_remove_node(e);
            if (rc == 0 || rc == SL_ESTATE) {
                SL_INFO(SUB, "election left dir=%s (deferred)", e->dir);
                election_unlink_free(z, e); /* busy: marks it zombie */
            }
        }
    } else {
        if (kind == ITEM_EVAL) {
            int rc = election_eval(e);
            if (rc && rc != SL_ETRANSIENT && rc != SL_ESTATE)
                SL_WARN(SUB, "election evaluation failed dir=%s err=\"%s\"", e->dir,
                        sluice_strerror(rc));
        }
        election_notify(z, e);
    }

    pthread_mutex_lock(&z->mu);
    z->busy = NULL;
    bool zombie = e->zombie;
    pthread_cond_broadcast(&z->cv);
    pthread_mutex_unlock(&z->mu);
    if (zombie) free_election(e);
}

/* ---- hooks for zk.c ------------------------------------------------------------------------ */

void zk__elections_fence_locked(zk *z)
{
    for (zk_election *e = z->elections; e; e = e->next) {
        atomic_store(&e->leader, false);
        free(e->leader_data);
        e->leader_data = NULL;
    }
}

void zk__elections_enqueue_locked(zk *z, item_kind kind)
{
    for (zk_election *e = z->elections; e; e = e->next) zk__enqueue(z, kind, 0, e->id);
}

bool zk__election_listed_locked(zk *z, uint64_t id)
{
    return find_election(z, id) != NULL;
}

void zk__elections_free_all(zk *z)
{
    for (zk_election *e = z->elections, *nx; e; e = nx) {
        nx = e->next;
        if (!e->leaving) SL_WARN(SUB, "zk_close: election dir=%s was not left", e->dir);
        free_election(e);
    }
    z->elections = NULL;
}
