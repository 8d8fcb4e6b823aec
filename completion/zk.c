/* ZooKeeper session, data calls and persistent watches (see zk.h); the leader election on
 * top of them is election.c, which shares the internals in zk_int.h.
 *
 * Threads. libzookeeper_mt runs an I/O thread and a completion thread per handle. Watchers
 * (session events and per-path events) run on the completion thread, where a synchronous ZK
 * call must never be made, and where user code would delay every other event. So the two
 * watcher functions here only update a few fields under z->mu and append an item to a queue;
 * a dispatcher thread of our own drains the queue, makes whatever synchronous calls are
 * needed (re-arming a watch, re-evaluating an election) and runs the user's callbacks.
 *
 * Locks. z->mu guards the session state, the queue, the watch and election lists and each
 * election's truth (leader flag and leader data). It is never held across a ZK call, so the
 * completion thread never waits behind a slow request. e->eval_mu serialises evaluations of
 * one election (join on the caller's thread, then the dispatcher); it is held across ZK calls
 * but no libzookeeper thread ever takes it.
 *
 * Object lifetime. ZooKeeper watchers carry an id, not a pointer: a watcher that fires after
 * its watch was removed finds nothing and is dropped. The dispatcher marks the object it is
 * working on in z->busy; removal from another thread waits until the dispatcher is done with
 * it, and removal from inside that object's own callback leaves it to the dispatcher to free
 * ("zombie"). Hence "no callback after zk_unwatch / zk_election_leave returns".
 *
 * Session states (z->state), all changed in zk__on_session on the completion thread:
 *   DISCONNECTED (initial) -> CONNECTED              first session (zk_open waits for it)
 *   CONNECTED -> DISCONNECTED                        connection lost: epoch++, elections
 *                                                    report not-leader immediately
 *   DISCONNECTED -> CONNECTED                        same session back: re-arm, re-evaluate
 *   any -> EXPIRED                                   terminal: epoch++, everything fails
 * The epoch lets an election evaluation that started before a disconnect notice that its
 * reads are stale and refuse to claim leadership. */
#include "completion/zk_int.h"

#include "common/clock.h"
#include "common/log.h"
#include "common/sl_err.h"
#include "common/xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zookeeper/zookeeper.h>

#define SUB "zk"
#define READ_MAX (1024u * 1024u)  /* a value the server holds fits in its 1 MiB buffer */
#define OP_OVERHEAD 64u           /* per multi op: header, lengths, ACL, flags */

static const char *const session_names[] = {"?", "CONNECTED", "DISCONNECTED", "EXPIRED"};

/* ---- helpers --------------------------------------------------------------------------- */

bool zk__on_dispatcher(zk *z)
{
    return z->disp_started && pthread_equal(pthread_self(), z->disp);
}

/* Map a libzookeeper return code onto sl_err; see zk.h for the meaning of each. */
int zk__map_err(int rc)
{
    switch (rc) {
    case ZOK: return 0;
    case ZNONODE: return SL_ENOENT;
    case ZNODEEXISTS: return SL_EEXIST;
    case ZBADVERSION:
    case ZNOTEMPTY: return SL_ECONFLICT;
    case ZCONNECTIONLOSS:
    case ZOPERATIONTIMEOUT:
    case ZNEWCONFIGNOQUORUM:
    case ZRECONFIGINPROGRESS: return SL_ETRANSIENT;
    case ZSESSIONEXPIRED:
    case ZINVALIDSTATE:
    case ZAUTHFAILED:
    case ZCLOSING:
    case ZSESSIONMOVED:
    case ZSESSIONCLOSEDREQUIRESASLAUTH: return SL_ESTATE;
    case ZBADARGUMENTS:
    case ZINVALIDACL:
    case ZNOCHILDRENFOREPHEMERALS:
    case ZNOAUTH:
    case ZEPHEMERALONLOCALSESSION: return SL_EINVAL;
    case ZMARSHALLINGERROR: return SL_ELIMIT;
    case ZUNIMPLEMENTED: return SL_EFORMAT;
    default: return SL_EIO;
    }
}

static int zk_err(int rc, const char *op, const char *path)
{
    int e = zk__map_err(rc);
    if (e == SL_EIO || e == SL_EINVAL || e == SL_ELIMIT || e == SL_EFORMAT)
        SL_WARN(SUB, "call failed op=%s path=%s zrc=%d err=\"%s\"", op, path, rc, zerror(rc));
    else if (e != 0)
        SL_DEBUG(SUB, "call failed op=%s path=%s zrc=%d err=\"%s\"", op, path, rc, zerror(rc));
    return e;
}

/* Paths: absolute, no empty component, no trailing slash (except "/"), bounded. The client
 * library checks the rest ("." and ".." components, control characters). */
int zk__check_path(const char *path)
{
    if (!path || path[0] != '/') return SL_EINVAL;
    size_t n = strnlen(path, ZK_PATH_MAX);
    if (n >= ZK_PATH_MAX) return SL_EINVAL;
    if (n > 1 && path[n - 1] == '/') return SL_EINVAL;
    if (strstr(path, "//")) return SL_EINVAL;
    return 0;
}

/* 0 when calls can be made, SL_ETRANSIENT while disconnected, SL_ESTATE when dead. */
int zk__ready(zk *z)
{
    if (!z) return SL_EINVAL;
    pthread_mutex_lock(&z->mu);
    int rc = z->closing || z->state == ZK_SESSION_EXPIRED ? SL_ESTATE
             : z->state == ZK_SESSION_CONNECTED          ? 0
                                                         : SL_ETRANSIENT;
    pthread_mutex_unlock(&z->mu);
    return rc;
}

/* Append an item; caller holds z->mu. */
void zk__enqueue(zk *z, item_kind kind, zk_session_event ev, uint64_t id)
{
    zk__item *it = sl_xcalloc(1, sizeof *it);
    it->kind = kind;
    it->ev = ev;
    it->id = id;
    if (z->qtail)
        z->qtail->next = it;
    else
        z->qhead = it;
    z->qtail = it;
    pthread_cond_signal(&z->qcv);
}

static zk__watch *find_watch(zk *z, uint64_t id)
{
    for (zk__watch *w = z->watches; w; w = w->next)
        if (w->id == id) return w;
    return NULL;
}

/* Wait (z->mu held) until the dispatcher is not working on obj. From the dispatcher itself
 * the caller is inside obj's callback at most, which the zombie flag handles. */
void zk__wait_not_busy(zk *z, const void *obj)
{
    if (zk__on_dispatcher(z)) return;
    while (z->busy == obj) pthread_cond_wait(&z->cv, &z->mu);
}

static void free_watch(zk__watch *w)
{
    if (!w) return;
    free(w->path);
    free(w);
}

/* ---- libzookeeper callbacks (completion thread: no ZK calls, no user code) -------------- */

static void zk__on_watch(zhandle_t *zh, int type, int state, const char *path, void *wctx)
{
    (void)state;
    (void)path;
    if (type == ZOO_SESSION_EVENT) return; /* handled by zk__on_session */
    zk *z = (zk *)zoo_get_context(zh);
    uint64_t id = (uint64_t)(uintptr_t)wctx;
    pthread_mutex_lock(&z->mu);
    zk__watch *w = find_watch(z, id);
    if (w && !w->queued && !z->closing) {
        w->queued = true;
        zk__enqueue(z, ITEM_WATCH, 0, id);
    }
    pthread_mutex_unlock(&z->mu);
}

static void zk__on_session(zhandle_t *zh, int type, int state, const char *path, void *wctx)
{
    (void)path;
    (void)wctx;
    if (type != ZOO_SESSION_EVENT) return; /* we never set default-watcher watches */
    zk *z = (zk *)zoo_get_context(zh);
    zk_session_event next;
    if (state == ZOO_CONNECTED_STATE)
        next = ZK_SESSION_CONNECTED;
    else if (state == ZOO_CONNECTING_STATE || state == ZOO_ASSOCIATING_STATE)
        next = ZK_SESSION_DISCONNECTED;
    else if (state == ZOO_EXPIRED_SESSION_STATE || state == ZOO_AUTH_FAILED_STATE)
        next = ZK_SESSION_EXPIRED;
    else
        return;
    pthread_mutex_lock(&z->mu);
    if (next == z->state || z->state == ZK_SESSION_EXPIRED) {
        pthread_mutex_unlock(&z->mu);
        return;
    }
    zk_session_event prev = z->state;
    z->state = next;
    if (next == ZK_SESSION_CONNECTED) {
        int t = zoo_recv_timeout(zh);
        z->timeout_ms = t > 0 ? (unsigned)t : 0;
    } else {
        /* Fencing: stop claiming leadership before anything else can run. */
        z->epoch++;
        z->timeout_ms = 0;
        zk__elections_fence_locked(z);
    }
    if (!z->closing) {
        zk__enqueue(z, ITEM_SESSION, next, 0);
        if (next != ZK_SESSION_CONNECTED)
            zk__elections_enqueue_locked(z, ITEM_NOTIFY);
    }
    pthread_cond_broadcast(&z->cv);
    pthread_mutex_unlock(&z->mu);
    SL_INFO(SUB, "session %s -> %s state=%d", session_names[prev], session_names[next], state);
}

/* libzookeeper's own log lines ("...:ZOO_ERROR@func@line: text"). While a server is down the
 * client retries every few tens of ms and logs an error each time, so errors are passed on at
 * info level at most once a second (the callback has no context: the limiter is per process,
 * like the library's logging itself) and everything else at debug. Our own session-state
 * lines say what matters. */
static void zk__log(const char *msg)
{
    static _Atomic int64_t last_error_ms;
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r')) n--;
    sl_log_level lvl = SL_LOG_DEBUG;
    if (strstr(msg, "ZOO_ERROR@")) {
        int64_t now = sl_clock_mono_ms(), last = atomic_load(&last_error_ms);
        if (now - last >= 1000 && atomic_compare_exchange_strong(&last_error_ms, &last, now))
            lvl = SL_LOG_INFO;
    }
    SL_LOG(lvl, "zkclient", "%.*s", (int)n, msg);
}

/* ---- data calls ------------------------------------------------------------------------- */

int zk_exists(zk *z, const char *path, int32_t *version)
{
    int rc = zk__check_path(path);
    if (rc) return rc;
    if ((rc = zk__ready(z))) return rc;
    struct Stat st;
    int zr = zoo_exists(z->zh, path, 0, &st);
    if (zr != ZOK) return zk_err(zr, "exists", path);
    if (version) *version = st.version;
    return 0;
}

int zk_get(zk *z, const char *path, uint8_t **data, size_t *len, int32_t *version)
{
    zk_stat st = {0};
    int rc = zk_get_stat(z, path, data, len, &st);
    if (rc == 0 && version) *version = st.version;
    return rc;
}

int zk_get_stat(zk *z, const char *path, uint8_t **data, size_t *len, zk_stat *out)
{
    if (!data || !len) return SL_EINVAL;
    *data = NULL;
    *len = 0;
    int rc = zk__check_path(path);
    if (rc) return rc;
    if ((rc = zk__ready(z))) return rc;
    int cap = 4096;
    /* The value may grow between the attempts; each retry uses the size just reported. */
    for (int attempt = 0; attempt < 4; attempt++) {
        char *buf = sl_xcalloc(1, (size_t)cap + 1);
        int blen = cap;
        struct Stat st;
        int zr = zoo_get(z->zh, path, 0, buf, &blen, &st);
        if (zr != ZOK) {
            free(buf);
            return zk_err(zr, "get", path);
        }
        if (st.dataLength > cap) {
            free(buf);
            if ((uint32_t)st.dataLength > READ_MAX) {
                SL_WARN(SUB, "value too large path=%s bytes=%d", path, st.dataLength);
                return SL_ELIMIT;
            }
            cap = st.dataLength;
            continue;
        }
        if (blen < 0) blen = 0; /* null data */
        buf[blen] = 0;
        *data = (uint8_t *)buf;
        *len = (size_t)blen;
        *out = (zk_stat){.version = st.version, .czxid = st.czxid, .mzxid = st.mzxid,
                         .ctime_ms = st.ctime, .mtime_ms = st.mtime};
        return 0;
    }
    return SL_ECONFLICT;
}

static int create_flags(int flags)
{
    bool eph = flags & ZK_EPHEMERAL, seq = flags & ZK_SEQUENTIAL;
    return eph && seq ? ZOO_EPHEMERAL_SEQUENTIAL
           : eph      ? ZOO_EPHEMERAL
           : seq      ? ZOO_PERSISTENT_SEQUENTIAL
                      : ZOO_PERSISTENT;
}

int zk_create(zk *z, const char *path, const void *data, size_t len, int flags, char *created,
              size_t cap)
{
    int rc = zk__check_path(path);
    if (rc) return rc;
    if (flags & ~(ZK_EPHEMERAL | ZK_SEQUENTIAL)) return SL_EINVAL;
    if (!data && len) return SL_EINVAL;
    if (len > ZK_DATA_MAX) return SL_ELIMIT;
    size_t need = strlen(path) + 1 + ((flags & ZK_SEQUENTIAL) ? SEQ_DIGITS : 0);
    if (created && cap < need) return SL_EINVAL;
    if ((rc = zk__ready(z))) return rc;
    char buf[ZK_PATH_MAX + SEQ_DIGITS + 2];
    int zr = zoo_create(z->zh, path, data ? (const char *)data : "", (int)len,
                        &ZOO_OPEN_ACL_UNSAFE, create_flags(flags), buf, (int)sizeof buf);
    if (zr != ZOK) return zk_err(zr, "create", path);
    if (created) snprintf(created, cap, "%s", buf);
    return 0;
}

int zk_ensure_path(zk *z, const char *path)
{
    int rc = zk__check_path(path);
    if (rc) return rc;
    rc = zk_exists(z, path, NULL);
    if (rc != SL_ENOENT) return rc;
    char buf[ZK_PATH_MAX];
    size_t n = strlen(path);
    for (size_t i = 1; i <= n; i++) {
        if (i < n && path[i] != '/') continue;
        memcpy(buf, path, i);
        buf[i] = 0;
        int zr = zoo_create(z->zh, buf, "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0);
        if (zr != ZOK && zr != ZNODEEXISTS) return zk_err(zr, "create", buf);
    }
    return 0;
}

int zk_set(zk *z, const char *path, const void *data, size_t len, int32_t expected_version,
           int32_t *new_version)
{
    int rc = zk__check_path(path);
    if (rc) return rc;
    if (!data && len) return SL_EINVAL;
    if (len > ZK_DATA_MAX) return SL_ELIMIT;
    if (expected_version < -1) return SL_EINVAL;
    if ((rc = zk__ready(z))) return rc;
    struct Stat st;
    int zr = zoo_set2(z->zh, path, data ? (const char *)data : "", (int)len, expected_version, &st);
    if (zr != ZOK) return zk_err(zr, "set", path);
    if (new_version) *new_version = st.version;
    return 0;
}

int zk_delete(zk *z, const char *path, int32_t version)
{
    int rc = zk__check_path(path);
    if (rc) return rc;
    if (version < -1 || strcmp(path, "/") == 0) return SL_EINVAL;
    if ((rc = zk__ready(z))) return rc;
    int zr = zoo_delete(z->zh, path, version);
    return zr == ZOK ? 0 : zk_err(zr, "delete", path);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int zk_children(zk *z, const char *path, char ***names, size_t *n)
{
    if (!names || !n) return SL_EINVAL;
    *names = NULL;
    *n = 0;
    int rc = zk__check_path(path);
    if (rc) return rc;
    if ((rc = zk__ready(z))) return rc;
    struct String_vector sv = {0, NULL};
    int zr = zoo_get_children(z->zh, path, 0, &sv);
    if (zr != ZOK) return zk_err(zr, "children", path);
    if (sv.count > 0) {
        char **out = sl_xcalloc((size_t)sv.count, sizeof *out);
        for (int32_t i = 0; i < sv.count; i++) out[i] = sl_xstrdup(sv.data[i]);
        qsort(out, (size_t)sv.count, sizeof *out, cmp_str);
        *names = out;
        *n = (size_t)sv.count;
    }
    deallocate_String_vector(&sv);
    return 0;
}

void zk_free_strings(char **names, size_t n)
{
    if (!names) return;
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
}

static int delete_tree(zk *z, const char *path)
{
    for (int attempt = 0; attempt < 5; attempt++) {
        char **names;
        size_t n;
        int rc = zk_children(z, path, &names, &n);
        if (rc) return rc;
        size_t plen = strlen(path);
        for (size_t i = 0; i < n && rc == 0; i++) {
            size_t need = plen + 1 + strlen(names[i]) + 1;
            if (need > ZK_PATH_MAX) {
                rc = SL_ELIMIT;
                break;
            }
            char child[ZK_PATH_MAX];
            snprintf(child, sizeof child, "%s/%s", path, names[i]);
            rc = delete_tree(z, child);
            if (rc == SL_ENOENT) rc = 0; /* someone else removed it: fine */
        }
        zk_free_strings(names, n);
        if (rc) return rc;
        rc = zk_delete(z, path, -1);
        /* SL_ECONFLICT (a child appeared meanwhile): list the children again */
        if (sl_err_action_of(rc) != SL_ACT_REFRESH) return rc;
    }
    return SL_ECONFLICT;
}

int zk_delete_recursive(zk *z, const char *path)
{
    int rc = zk__check_path(path);
    if (rc) return rc;
    if (strcmp(path, "/") == 0 ||
        (strncmp(path, "/zookeeper", 10) == 0 && (path[10] == 0 || path[10] == '/')))
        return SL_EINVAL; /* everything, or the server's own subtree */
    return delete_tree(z, path);
}

int zk_multi(zk *z, const zk_op *ops, size_t n, int *failed_op)
{
    if (failed_op) *failed_op = -1;
    if (!ops || n == 0 || n > ZK_MULTI_MAX) return SL_EINVAL;
    for (size_t i = 0; i < n; i++) {
        const zk_op *o = &ops[i];
        int rc = zk__check_path(o->path);
        if (rc == 0 && (o->type == ZK_OP_CREATE || o->type == ZK_OP_SET)) {
            if (!o->data && o->len) rc = SL_EINVAL;
            if (o->len > ZK_DATA_MAX) rc = SL_ELIMIT;
        }
        if (rc == 0 && o->type == ZK_OP_CREATE && (o->flags & ~(ZK_EPHEMERAL | ZK_SEQUENTIAL)))
            rc = SL_EINVAL;
        if (rc == 0 && o->type != ZK_OP_CREATE && o->version < -1) rc = SL_EINVAL;
        if (rc == 0 && (o->type < ZK_OP_CREATE || o->type > ZK_OP_CHECK)) rc = SL_EINVAL;
        if (rc) {
            if (failed_op) *failed_op = (int)i;
            return rc;
        }
    }
    size_t total = 0;
    for (size_t i = 0; i < n; i++) total += ops[i].len + strlen(ops[i].path) + OP_OVERHEAD;
    if (total > ZK_DATA_MAX) return SL_ELIMIT;
    int rc = zk__ready(z);
    if (rc) return rc;
    zoo_op_t *zops = sl_xcalloc(n, sizeof *zops);
    zoo_op_result_t *res = sl_xcalloc(n, sizeof *res);
    struct Stat *stats = sl_xcalloc(n, sizeof *stats);
    for (size_t i = 0; i < n; i++) {
        const zk_op *o = &ops[i];
        const char *d = o->data ? (const char *)o->data : "";
        switch (o->type) {
        case ZK_OP_CREATE:
            zoo_create_op_init(&zops[i], o->path, d, (int)o->len, &ZOO_OPEN_ACL_UNSAFE,
                               create_flags(o->flags), NULL, 0);
            break;
        case ZK_OP_SET: zoo_set_op_init(&zops[i], o->path, d, (int)o->len, o->version, &stats[i]); break;
        case ZK_OP_DELETE: zoo_delete_op_init(&zops[i], o->path, o->version); break;
        case ZK_OP_CHECK: zoo_check_op_init(&zops[i], o->path, o->version); break;
        }
    }
    int zr = zoo_multi(z->zh, (int)n, zops, res);
    if (zr != ZOK) {
        /* The failing op carries the server's reason; the ops after it say
         * RUNTIMEINCONSISTENCY and the ones before it ZOK (rolled back). */
        for (size_t i = 0; i < n; i++) {
            if (res[i].err != ZOK && res[i].err != ZRUNTIMEINCONSISTENCY) {
                if (failed_op) *failed_op = (int)i;
                zr = res[i].err;
                break;
            }
        }
        rc = zk_err(zr, "multi", ops[failed_op && *failed_op >= 0 ? *failed_op : 0].path);
    }
    free(stats);
    free(res);
    free(zops);
    return rc;
}

/* ---- watches ------------------------------------------------------------------------------ */

/* Register the one-shot ZooKeeper watch for w. A data watch uses exists(), which also works
 * for a missing node. A children watch needs the node: if it is missing, an exists watch
 * waits for its creation, and the next arm switches to children. */
static int arm(zk *z, const char *path, zk_watch_kind kind, uint64_t id)
{
    int rc = zk__ready(z);
    if (rc) return rc;
    void *wctx = (void *)(uintptr_t)id;
    struct Stat st;
    if (kind == ZK_WATCH_DATA) {
        int zr = zoo_wexists(z->zh, path, zk__on_watch, wctx, &st);
        return zr == ZOK || zr == ZNONODE ? 0 : zk_err(zr, "watch", path);
    }
    for (int attempt = 0; attempt < 3; attempt++) {
        struct String_vector sv = {0, NULL};
        int zr = zoo_wget_children(z->zh, path, zk__on_watch, wctx, &sv);
        if (zr == ZOK) {
            deallocate_String_vector(&sv);
            return 0;
        }
        if (zr != ZNONODE) return zk_err(zr, "watch", path);
        zr = zoo_wexists(z->zh, path, zk__on_watch, wctx, &st);
        if (zr == ZNONODE) return 0;
        if (zr != ZOK) return zk_err(zr, "watch", path);
        /* created in between: try the children watch again */
    }
    return SL_ECONFLICT;
}

int zk__watch_add(zk *z, const char *path, zk_watch_kind kind,
                     void (*cb)(void *ctx, const char *path), void *ctx, uint64_t election_id,
                     uint64_t *id)
{
    int rc = zk__check_path(path);
    if (rc) return rc;
    if (kind != ZK_WATCH_DATA && kind != ZK_WATCH_CHILDREN) return SL_EINVAL;
    if ((rc = zk__ready(z))) return rc;
    zk__watch *w = sl_xcalloc(1, sizeof *w);
    w->path = sl_xstrdup(path);
    w->kind = kind;
    w->cb = cb;
    w->ctx = ctx;
    w->election_id = election_id;
    pthread_mutex_lock(&z->mu);
    w->id = ++z->next_id;
    w->next = z->watches;
    z->watches = w;
    pthread_mutex_unlock(&z->mu);
    /* Listed before arming, so an event that fires at once finds it. */
    rc = arm(z, w->path, kind, w->id);
    if (rc) {
        zk_unwatch(z, w->id);
        return rc;
    }
    pthread_mutex_lock(&z->mu);
    w->armed = true;
    pthread_mutex_unlock(&z->mu);
    *id = w->id;
    return 0;
}

int zk_watch(zk *z, const char *path, zk_watch_kind kind, void (*cb)(void *ctx, const char *path),
             void *ctx, uint64_t *id)
{
    if (!cb || !id) return SL_EINVAL;
    return zk__watch_add(z, path, kind, cb, ctx, 0, id);
}

int zk_unwatch(zk *z, uint64_t id)
{
    if (!z) return SL_EINVAL;
    pthread_mutex_lock(&z->mu);
    zk__watch **pp = &z->watches;
    while (*pp && (*pp)->id != id) pp = &(*pp)->next;
    zk__watch *w = *pp;
    if (!w) {
        pthread_mutex_unlock(&z->mu);
        return SL_ENOENT;
    }
    *pp = w->next;
    zk__wait_not_busy(z, w);
    bool defer = z->busy == w; /* inside its own callback: the dispatcher frees it */
    if (defer) w->zombie = true;
    pthread_mutex_unlock(&z->mu);
    /* libzookeeper keeps its registration until the next event on the path (then finds no
     * watch with this id and drops it) or the session ends. zoo_remove_watches is not used:
     * it can also drop the server-side watch that another watch of ours on the same path
     * still relies on. */
    if (!defer) free_watch(w);
    return 0;
}

/* ---- dispatcher --------------------------------------------------------------------------- */

/* A watch fired (or must be re-armed after a reconnect): re-arm first, so a change made while
 * the callback runs is not missed, then run the callback, or re-evaluate its election. */
static void process_watch(zk *z, uint64_t id)
{
    pthread_mutex_lock(&z->mu);
    zk__watch *w = find_watch(z, id);
    if (!w || z->closing) {
        pthread_mutex_unlock(&z->mu);
        return;
    }
    w->queued = false;
    z->busy = w; /* w->path, kind and id stay valid and unchanged while busy */
    pthread_mutex_unlock(&z->mu);

    int rc = arm(z, w->path, w->kind, w->id);
    pthread_mutex_lock(&z->mu);
    w->armed = rc == 0;
    bool run = !w->zombie && !z->closing;
    if (run && w->election_id && zk__election_listed_locked(z, w->election_id))
        zk__enqueue(z, ITEM_EVAL, 0, w->election_id);
    pthread_mutex_unlock(&z->mu);
    if (rc)
        SL_INFO(SUB, "watch not re-armed path=%s err=\"%s\" (retried after reconnect)", w->path,
                sluice_strerror(rc));
    if (run && !w->election_id) w->cb(w->ctx, w->path);

    pthread_mutex_lock(&z->mu);
    z->busy = NULL;
    bool zombie = w->zombie;
    pthread_cond_broadcast(&z->cv);
    pthread_mutex_unlock(&z->mu);
    if (zombie) free_watch(w);
}

static void process_session(zk *z, zk_session_event ev)
{
    pthread_mutex_lock(&z->mu);
    bool skip = z->closing;
    void (*cb)(void *, zk_session_event) = z->on_session;
    void *ctx = z->ctx;
    pthread_mutex_unlock(&z->mu);
    if (!skip && cb) cb(ctx, ev);
    if (ev != ZK_SESSION_CONNECTED) return;
    /* Back in the same session: ZooKeeper re-registers armed watches itself and delivers
     * what they missed; watches whose re-arm failed are armed again here, and every election
     * is re-evaluated. */
    pthread_mutex_lock(&z->mu);
    if (!z->closing && z->state == ZK_SESSION_CONNECTED) {
        for (zk__watch *w = z->watches; w; w = w->next) {
            if (!w->armed && !w->queued) {
                w->queued = true;
                zk__enqueue(z, ITEM_WATCH, 0, w->id);
            }
        }
        zk__elections_enqueue_locked(z, ITEM_EVAL);
    }
    pthread_mutex_unlock(&z->mu);
}

static void *dispatcher(void *arg)
{
    zk *z = arg;
    pthread_mutex_lock(&z->mu);
    for (;;) {
        while (!z->qhead && !z->disp_stop) pthread_cond_wait(&z->qcv, &z->mu);
        if (z->disp_stop) break;
        zk__item *it = z->qhead;
        z->qhead = it->next;
        if (!z->qhead) z->qtail = NULL;
        pthread_mutex_unlock(&z->mu);
        switch (it->kind) {
        case ITEM_SESSION: process_session(z, it->ev); break;
        case ITEM_WATCH: process_watch(z, it->id); break;
        case ITEM_EVAL:
        case ITEM_NOTIFY: zk__election_process(z, it->kind, it->id); break;
        }
        free(it);
        pthread_mutex_lock(&z->mu);
    }
    pthread_mutex_unlock(&z->mu);
    return NULL;
}

/* ---- session -------------------------------------------------------------------------------- */

zk *zk_open(const char *connect, unsigned session_timeout_ms, const zk_opts *o, char *err,
            size_t errlen)
{
    if (err && errlen) err[0] = 0;
    if (!connect || !connect[0] || strlen(connect) > 4096 || session_timeout_ms == 0 ||
        session_timeout_ms > 3600000u) {
        sl_fail(err, errlen, SL_EINVAL, "zk_open: bad arguments (connect=%s timeout=%u)",
                connect ? connect : "(null)", session_timeout_ms);
        return NULL;
    }
    zk *z = sl_xcalloc(1, sizeof *z);
    pthread_mutex_init(&z->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&z->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_cond_init(&z->qcv, NULL);
    z->state = ZK_SESSION_DISCONNECTED;
    if (o) {
        z->on_session = o->on_session;
        z->ctx = o->ctx;
    }
    unsigned wait_ms = o && o->connect_timeout_ms ? o->connect_timeout_ms : session_timeout_ms;
    if (wait_ms < 2000 && !(o && o->connect_timeout_ms)) wait_ms = 2000;

    if (pthread_create(&z->disp, NULL, dispatcher, z) != 0) {
        sl_fail(err, errlen, SL_EIO, "zk_open: cannot start the dispatcher thread");
        goto fail_thread;
    }
    z->disp_started = true;

    z->zh = zookeeper_init2(connect, zk__on_session, (int)session_timeout_ms, NULL, z, 0, zk__log);
    if (!z->zh) {
        sl_fail(err, errlen, SL_EIO, "zookeeper_init(%s) failed: %s", connect, strerror(errno));
        goto fail_init;
    }

    int64_t deadline = sl_clock_mono_ms() + wait_ms;
    pthread_mutex_lock(&z->mu);
    while (z->state != ZK_SESSION_CONNECTED && z->state != ZK_SESSION_EXPIRED) {
        if (sl_clock_mono_ms() >= deadline) break;
        struct timespec ts = sl_clock_ts(deadline); /* z->cv is on CLOCK_MONOTONIC */
        pthread_cond_timedwait(&z->cv, &z->mu, &ts);
    }
    zk_session_event st = z->state;
    unsigned negotiated = z->timeout_ms;
    pthread_mutex_unlock(&z->mu);
    if (st != ZK_SESSION_CONNECTED) {
        sl_fail(err, errlen, SL_ETIMEDOUT, "no ZooKeeper session with %s within %u ms", connect,
                wait_ms);
        goto fail_session;
    }
    const clientid_t *cid = zoo_client_id(z->zh);
    SL_INFO(SUB, "session open connect=%s session=0x%" PRIx64 " timeout_ms=%u", connect,
            (uint64_t)(cid ? cid->client_id : 0), negotiated);
    return z;

fail_session:
fail_init:
    zk_close(z);
    return NULL;
fail_thread:
    pthread_cond_destroy(&z->qcv);
    pthread_cond_destroy(&z->cv);
    pthread_mutex_destroy(&z->mu);
    free(z);
    return NULL;
}

void zk_close(zk *z)
{
    if (!z) return;
    if (zk__on_dispatcher(z)) {
        SL_ERROR(SUB, "zk_close called from a zk callback: would join its own thread");
        abort();
    }
    pthread_mutex_lock(&z->mu);
    z->closing = true;
    z->disp_stop = true;
    pthread_cond_signal(&z->qcv);
    pthread_cond_broadcast(&z->cv);
    pthread_mutex_unlock(&z->mu);
    /* The dispatcher finishes its current item (its ZK calls now fail fast) and exits. */
    if (z->disp_started) pthread_join(z->disp, NULL);
    z->disp_started = false;
    /* Ends the session; the library's threads are joined when it returns. */
    if (z->zh) zookeeper_close(z->zh);
    for (zk__item *it = z->qhead, *nx; it; it = nx) {
        nx = it->next;
        free(it);
    }
    for (zk__watch *w = z->watches, *nx; w; w = nx) {
        nx = w->next;
        free_watch(w);
    }
    zk__elections_free_all(z);
    pthread_cond_destroy(&z->qcv);
    pthread_cond_destroy(&z->cv);
    pthread_mutex_destroy(&z->mu);
    free(z);
}

zk_session_event zk_session_state(zk *z)
{
    if (!z) return ZK_SESSION_EXPIRED;
    pthread_mutex_lock(&z->mu);
    zk_session_event s = z->closing ? ZK_SESSION_EXPIRED : z->state;
    pthread_mutex_unlock(&z->mu);
    return s;
}

unsigned zk_session_timeout_ms(zk *z)
{
    if (!z) return 0;
    pthread_mutex_lock(&z->mu);
    unsigned t = z->state == ZK_SESSION_CONNECTED ? z->timeout_ms : 0;
    pthread_mutex_unlock(&z->mu);
    return t;
}
