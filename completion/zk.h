/* ZooKeeper access for the controller and the sidecars: a small synchronous layer over
 * libzookeeper_mt (Debian's 3.8 C client), one context object per session, no globals.
 *
 * Session model. zk_open() returns once a session is established. The client reconnects by
 * itself after a connection loss; while it is disconnected every call fails fast with
 * SL_ETRANSIENT. If the server expires the session the handle is dead for good: every call
 * returns SL_ESTATE, ephemeral nodes and watches are gone, and the owner must zk_close() it
 * and zk_open() a new one, then re-create its ephemeral nodes, watches and election entries.
 * There is no transparent re-open: a new session is a new identity, and only the owner knows
 * what it had registered under the old one.
 *
 * Writes and unknown outcomes. SL_ETRANSIENT from a write (create, set, delete, multi) means
 * the connection was lost while the request was in flight: the write may or may not have
 * happened. Callers re-read and decide; version-conditioned writes (set/delete/multi with an
 * expected version) make the retry safe. Reads are not linearizable (a server may lag), so
 * correctness must rest on versioned conditional writes, never on "I read it, so it holds".
 *
 * Threads. Every function is thread-safe unless noted. Callbacks (session events, watches,
 * election changes) run on ONE dispatcher thread owned by the handle, one at a time, never on
 * libzookeeper's own threads. A callback may call the synchronous zk_* functions (including
 * zk_unwatch and zk_election_leave), but must not call zk_close, and every callback delays
 * the others of the same handle: signal the owner's thread for anything slow.
 *
 * Errors: 0 ok, or SL_ENOENT (no node), SL_EEXIST (node exists), SL_ECONFLICT (version
 * mismatch, or delete of a node with children), SL_ETRANSIENT (disconnected / outcome unknown),
 * SL_ESTATE (session expired or handle closing), SL_EINVAL (bad path or argument),
 * SL_ELIMIT (data or result too large), SL_ETIMEDOUT (zk_open found no session in time),
 * SL_EIO (anything else from the client library; logged). */
#ifndef SL_ZK_H
#define SL_ZK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct zk zk;

/* Largest value zk_create/zk_set/zk_multi write, and the largest request a zk_multi may add
 * up to. The server's jute.maxbuffer (0xfffff) bounds a whole request, path and header
 * included; a bigger one makes it drop the connection (a DISCONNECTED flap for everyone on
 * the handle), so the limit is checked here, with room for a maximal path. zk_get reads any
 * value the server holds (up to 1 MiB). */
#define ZK_DATA_MAX (1024u * 1024u - 2048u)
#define ZK_PATH_MAX 1024u          /* longest path accepted, including a sequence suffix */

typedef enum zk_session_event {
    ZK_SESSION_CONNECTED = 1, /* session usable (also sent for the first connection) */
    ZK_SESSION_DISCONNECTED,  /* connection lost, session may still be alive; calls fail fast */
    ZK_SESSION_EXPIRED,       /* session gone (or auth failed): close the handle and re-open */
} zk_session_event;

typedef struct zk_opts {
    /* Session state changes, on the dispatcher thread. May be NULL. */
    void (*on_session)(void *ctx, zk_session_event ev);
    void *ctx;
    /* How long zk_open waits for the first session; 0 = the session timeout (at least 2 s). */
    unsigned connect_timeout_ms;
} zk_opts;

/* Connect to `connect` ("host:port[,host:port]") asking for the given session timeout (the
 * server clamps it into [2, 20] ticks unless configured otherwise) and wait until the session
 * is established. `o` may be NULL. On failure returns NULL and writes a message into err
 * (if errlen > 0). Caller owns the handle and frees it with zk_close. */
zk *zk_open(const char *connect, unsigned session_timeout_ms, const zk_opts *o, char *err,
            size_t errlen);

/* End the session (its ephemeral nodes go at once), stop the dispatcher and free everything,
 * including watches and elections still registered (their handles become invalid). No callback
 * runs after zk_close returns. Not from a callback. NULL is a no-op. */
void zk_close(zk *z);

/* Current session state as last reported by the client library; EXPIRED also after close
 * started. */
zk_session_event zk_session_state(zk *z);

/* Negotiated session timeout in ms (0 when not connected). */
unsigned zk_session_timeout_ms(zk *z);

/* ---- data ---------------------------------------------------------------------------- */

/* Read a node. On success *data is a malloc'ed copy of the value (caller frees; it has an
 * extra NUL after the *len bytes so text can be used directly; never NULL on success), and
 * *version its data version (version may be NULL). */
int zk_get(zk *z, const char *path, uint8_t **data, size_t *len, int32_t *version);

/* A node's version and transaction ids: czxid is the transaction that created it, mzxid the
 * last one that changed its data (the ops of one zk_multi share one zxid). */
typedef struct zk_stat {
    int32_t version;
    int64_t czxid, mzxid;
    int64_t ctime_ms, mtime_ms;
} zk_stat;

/* zk_get, with the node's stat into *st. */
int zk_get_stat(zk *z, const char *path, uint8_t **data, size_t *len, zk_stat *st);

/* 0 if the node exists (its data version in *version if non-NULL), SL_ENOENT if not. */
int zk_exists(zk *z, const char *path, int32_t *version);

enum { ZK_EPHEMERAL = 1, ZK_SEQUENTIAL = 2 };

/* Create a node with the given value (data may be NULL when len is 0). flags: 0 or
 * ZK_EPHEMERAL and/or ZK_SEQUENTIAL. If created is non-NULL the actual path (with the
 * sequence suffix) is written there; cap must then hold strlen(path) + 11 bytes (checked
 * before anything is sent). The parent must exist (SL_ENOENT otherwise). */
int zk_create(zk *z, const char *path, const void *data, size_t len, int flags, char *created,
              size_t cap);

/* mkdir -p: create every missing node of path with empty data; existing ones are fine. */
int zk_ensure_path(zk *z, const char *path);

/* Replace a node's value if its version is expected_version (-1 = any). new_version may be
 * NULL. SL_ECONFLICT when the version differs, SL_ENOENT when the node is missing. */
int zk_set(zk *z, const char *path, const void *data, size_t len, int32_t expected_version,
           int32_t *new_version);

/* Delete a node if its version is `version` (-1 = any). SL_ECONFLICT if it has children or
 * the version differs. */
int zk_delete(zk *z, const char *path, int32_t version);

/* Delete a node and everything below it, regardless of versions (tests, `table delete`).
 * Retries a few times if children appear meanwhile. SL_ENOENT if path does not exist;
 * SL_EINVAL for "/" and /zookeeper. */
int zk_delete_recursive(zk *z, const char *path);

/* Names (not paths) of the children, sorted by strcmp. *names is a malloc'ed array of n
 * malloc'ed strings (NULL when n == 0); free with zk_free_strings. */
int zk_children(zk *z, const char *path, char ***names, size_t *n);
void zk_free_strings(char **names, size_t n);

/* ---- multi ----------------------------------------------------------------------------- */

typedef enum zk_op_type { ZK_OP_CREATE = 1, ZK_OP_SET, ZK_OP_DELETE, ZK_OP_CHECK } zk_op_type;

/* One step of a zk_multi. The pointers are borrowed for the duration of the call. */
typedef struct zk_op {
    zk_op_type type;
    const char *path;
    const void *data; /* CREATE, SET */
    size_t len;
    int flags;       /* CREATE: ZK_EPHEMERAL / ZK_SEQUENTIAL */
    int32_t version; /* SET, DELETE, CHECK: expected version, -1 = any (CHECK -1: exists) */
} zk_op;

static inline zk_op zk_op_create(const char *path, const void *data, size_t len, int flags)
{
    return (zk_op){.type = ZK_OP_CREATE, .path = path, .data = data, .len = len, .flags = flags};
}
static inline zk_op zk_op_set(const char *path, const void *data, size_t len, int32_t version)
{
    return (zk_op){.type = ZK_OP_SET, .path = path, .data = data, .len = len, .version = version};
}
static inline zk_op zk_op_delete(const char *path, int32_t version)
{
    return (zk_op){.type = ZK_OP_DELETE, .path = path, .version = version};
}
static inline zk_op zk_op_check(const char *path, int32_t version)
{
    return (zk_op){.type = ZK_OP_CHECK, .path = path, .version = version};
}

#define ZK_MULTI_MAX 256 /* ops per zk_multi */

/* Apply all n ops atomically, or none. The ops' data and paths together must stay within
 * ZK_DATA_MAX (SL_ELIMIT otherwise, nothing sent). On an op failure returns that op's error (SL_ENOENT,
 * SL_EEXIST, SL_ECONFLICT, ...) and sets *failed_op (if non-NULL) to its index; otherwise
 * *failed_op is -1. SL_ETRANSIENT: all or nothing happened, unknown which: re-read. */
int zk_multi(zk *z, const zk_op *ops, size_t n, int *failed_op);

/* ---- watches ------------------------------------------------------------------------------ */

typedef enum zk_watch_kind {
    ZK_WATCH_DATA = 1, /* the node is created, deleted, or its value changes */
    ZK_WATCH_CHILDREN, /* a child is added or removed (or the node itself appears/goes) */
} zk_watch_kind;

/* Persistent watch: cb(ctx, path) runs on the dispatcher after every change of `path` until
 * zk_unwatch. The module re-arms the one-shot ZooKeeper watch before calling cb, so a change
 * made after cb starts always produces another call; several quick changes may coalesce into
 * one call. cb should re-read what it cares about (or signal its owner to). Across a
 * disconnection within the same session ZooKeeper keeps the watch and reports what it missed;
 * if re-arming failed while disconnected, the watch is re-armed on reconnect and cb is called
 * once then. The path need not exist. *id (for zk_unwatch) is never 0. The watch is armed before
 * zk_watch returns. */
int zk_watch(zk *z, const char *path, zk_watch_kind kind, void (*cb)(void *ctx, const char *path),
             void *ctx, uint64_t *id);

/* Remove a watch. Once it returns, cb will not run again for it (when called from the
 * watch's own callback, after that callback returns); so it may wait for a running cb: do
 * not call it holding a lock that cb takes. SL_ENOENT for an unknown id. */
int zk_unwatch(zk *z, uint64_t id);

#endif
