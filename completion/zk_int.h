/* Internals shared by the ZooKeeper session layer (zk.c) and the leader election built on it
 * (election.c). Not for any other file: everything here is guarded by z->mu as zk.c's header
 * comment describes, and only those two files know the rules. */
#ifndef SL_ZK_INT_H
#define SL_ZK_INT_H

#include "completion/election.h"
#include "completion/zk.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <zookeeper/zookeeper.h>

#define SEQ_DIGITS 10 /* ZooKeeper appends %010d to sequential nodes */

typedef enum item_kind { ITEM_SESSION, ITEM_WATCH, ITEM_EVAL, ITEM_NOTIFY } item_kind;

typedef struct zk__item {
    struct zk__item *next;
    item_kind kind;
    zk_session_event ev; /* ITEM_SESSION */
    uint64_t id;         /* watch or election id */
} zk__item;

typedef struct zk__watch {
    struct zk__watch *next;
    uint64_t id;
    char *path;
    zk_watch_kind kind;
    void (*cb)(void *ctx, const char *path);
    void *ctx;
    uint64_t election_id; /* != 0: the children watch of that election, no user cb */
    bool armed;           /* a ZooKeeper watch is registered (else re-armed on reconnect) */
    bool queued;          /* an ITEM_WATCH for it is waiting: coalesce further events */
    bool zombie;          /* removed from its own callback: the dispatcher frees it */
} zk__watch;

struct zk {
    zhandle_t *zh;
    pthread_mutex_t mu;
    pthread_cond_t cv;  /* state changes, busy changes (CLOCK_MONOTONIC) */
    pthread_cond_t qcv; /* queue not empty / stop */
    zk_session_event state;
    bool closing;
    uint64_t epoch;
    unsigned timeout_ms;
    void (*on_session)(void *ctx, zk_session_event ev);
    void *ctx;
    pthread_t disp;
    bool disp_started, disp_stop;
    zk__item *qhead, *qtail;
    zk__watch *watches;
    zk_election *elections;
    uint64_t next_id;
    unsigned election_seq;
    void *busy; /* the watch or election the dispatcher is working on */
};

/* ---- zk.c, for election.c ------------------------------------------------------------ */

bool zk__on_dispatcher(zk *z);
int zk__check_path(const char *path);
int zk__ready(zk *z); /* 0, SL_ETRANSIENT while disconnected, SL_ESTATE when dead */
void zk__enqueue(zk *z, item_kind kind, zk_session_event ev, uint64_t id); /* z->mu held */
void zk__wait_not_busy(zk *z, const void *obj);                           /* z->mu held */
/* A persistent watch; with election_id != 0 its events re-evaluate that election instead
 * of calling cb. */
int zk__watch_add(zk *z, const char *path, zk_watch_kind kind,
                  void (*cb)(void *ctx, const char *path), void *ctx, uint64_t election_id,
                  uint64_t *id);

/* ---- election.c, for zk.c ------------------------------------------------------------ */

/* Connection lost or session gone (z->mu held, completion thread): every election stops
 * claiming leadership at once. */
void zk__elections_fence_locked(zk *z);
/* Queue `kind` (ITEM_EVAL or ITEM_NOTIFY) for every election; z->mu held. */
void zk__elections_enqueue_locked(zk *z, item_kind kind);
/* True if election id is still listed; z->mu held. */
bool zk__election_listed_locked(zk *z, uint64_t id);
/* Dispatcher: an ITEM_EVAL or ITEM_NOTIFY for election id. */
void zk__election_process(zk *z, item_kind kind, uint64_t id);
/* zk_close: free every election still listed (the dispatcher has stopped). */
void zk__elections_free_all(zk *z);

#endif
