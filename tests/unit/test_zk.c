/* ZooKeeper layer against a REAL server: tests/integration/test_zk.sh (ctest
 * integration.test_zk) starts one and runs this program with SLUICE_ZK_CONNECT and
 * SLUICE_ZK_PID set. Without them the program fails rather than skip; `test_zk --no-server`
 * runs only the tests that need no server (error mapping, zk_open refusals and its deadline,
 * NULL handles), which is how ctest registers it as unit.test_zk_no_server, ASan included.
 * Covered with a server: versions and compare-and-set, multi
 * all-or-nothing with the failing index, ephemeral nodes vanishing with their session, sorted
 * children, persistent data and children watches (including re-reads and removal from inside
 * a callback), a three-way election with hand-over, fencing on a frozen server (not-leader
 * reported before the DISCONNECTED callback, leadership back after the thaw), and session
 * expiry of a stopped client (forked) with failover to the survivor. Bad input everywhere.
 * Every wait polls against a deadline. */
#include "common/clock.h"
#include "completion/election.h"
#include "completion/zk.h"
#include "common/sl_err.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zookeeper/zookeeper.h>
#include <cmocka.h>

int zk__map_err(int rc); /* internal, exported for this test */

static const char *CONNECT; /* SLUICE_ZK_CONNECT */
static pid_t ZK_PID;        /* SLUICE_ZK_PID: the server, for freeze tests */

/* Poll pred(arg) every 10 ms until it holds or timeout_ms passes. */
static bool wait_until(bool (*pred)(void *), void *arg, int timeout_ms)
{
    int64_t end = sl_clock_mono_ms() + timeout_ms;
    while (!pred(arg)) {
        if (sl_clock_mono_ms() > end) return false;
        sl_clock_sleep_ms(10);
    }
    return true;
}

/* main() runs the server tests only with SLUICE_ZK_CONNECT set; a server test that finds no
 * server fails, it never skips. */
#define NEED_SERVER()                                                                              \
    do {                                                                                           \
        if (!CONNECT) fail_msg("SLUICE_ZK_CONNECT unset: a server test cannot run");               \
    } while (0)

static zk *open_or_fail(unsigned timeout_ms, const zk_opts *o)
{
    char err[256];
    zk *z = zk_open(CONNECT, timeout_ms, o, err, sizeof err);
    if (!z) fail_msg("zk_open: %s", err);
    return z;
}

/* A test's private subtree: /t<pid>_<name>. */
static void root_path(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "/t%d_%s", (int)getpid(), name);
}

static void path_of(char *out, size_t cap, const char *root, const char *rel)
{
    int n = snprintf(out, cap, "%s/%s", root, rel);
    assert_true(n > 0 && (size_t)n < cap);
}

/* ---- no server needed ----------------------------------------------------------------------- */

static void test_map_err(void **state)
{
    (void)state;
    assert_int_equal(zk__map_err(ZOK), 0);
    assert_int_equal(zk__map_err(ZNONODE), SL_ENOENT);
    assert_int_equal(zk__map_err(ZNODEEXISTS), SL_EEXIST);
    assert_int_equal(zk__map_err(ZBADVERSION), SL_ECONFLICT);
    assert_int_equal(zk__map_err(ZNOTEMPTY), SL_ECONFLICT);
    assert_int_equal(zk__map_err(ZCONNECTIONLOSS), SL_ETRANSIENT);
    assert_int_equal(zk__map_err(ZOPERATIONTIMEOUT), SL_ETRANSIENT);
    assert_int_equal(zk__map_err(ZSESSIONEXPIRED), SL_ESTATE);
    assert_int_equal(zk__map_err(ZINVALIDSTATE), SL_ESTATE);
    assert_int_equal(zk__map_err(ZCLOSING), SL_ESTATE);
    assert_int_equal(zk__map_err(ZBADARGUMENTS), SL_EINVAL);
    assert_int_equal(zk__map_err(ZMARSHALLINGERROR), SL_ELIMIT);
    assert_int_equal(zk__map_err(ZSYSTEMERROR), SL_EIO);
    assert_int_equal(zk__map_err(-12345), SL_EIO);
}

static void test_open_errors(void **state)
{
    (void)state;
    char err[256];
    assert_null(zk_open(NULL, 2000, NULL, err, sizeof err));
    assert_non_null(strstr(err, "bad arguments"));
    assert_null(zk_open("", 2000, NULL, err, sizeof err));
    assert_null(zk_open("127.0.0.1:2181", 0, NULL, err, sizeof err));
    assert_null(zk_open("127.0.0.1:2181", 0, NULL, NULL, 0)); /* no err buffer: fine */
    /* Nothing listens on port 1: zk_open gives up at its deadline, not later. */
    zk_opts o = {.connect_timeout_ms = 700};
    int64_t t0 = sl_clock_mono_ms();
    assert_null(zk_open("127.0.0.1:1", 4000, &o, err, sizeof err));
    int64_t took = sl_clock_mono_ms() - t0;
    assert_true(took >= 600 && took < 3000);
    assert_non_null(strstr(err, "no ZooKeeper session"));
    /* NULL handles */
    zk_close(NULL);
    assert_int_equal(zk_session_state(NULL), ZK_SESSION_EXPIRED);
    assert_int_equal(zk_exists(NULL, "/", NULL), SL_EINVAL);
    assert_false(zk_election_is_leader(NULL));
    assert_null(zk_election_leader_data(NULL));
    assert_int_equal(zk_election_leave(NULL), SL_EINVAL);
    zk_free_strings(NULL, 0);
}

/* ---- data ------------------------------------------------------------------------------------- */

static void test_bad_input(void **state)
{
    (void)state;
    NEED_SERVER();
    zk *z = open_or_fail(4000, NULL);
    uint8_t *d;
    size_t n;
    char longp[ZK_PATH_MAX + 8];
    memset(longp, 'a', sizeof longp - 1);
    longp[0] = '/';
    longp[sizeof longp - 1] = 0;
    const char *bad[] = {"", "a/b", "/a/", "//a", "/a//b", longp, NULL};
    for (int i = 0; bad[i]; i++) {
        assert_int_equal(zk_get(z, bad[i], &d, &n, NULL), SL_EINVAL);
        assert_int_equal(zk_exists(z, bad[i], NULL), SL_EINVAL);
        assert_int_equal(zk_create(z, bad[i], "x", 1, 0, NULL, 0), SL_EINVAL);
        assert_int_equal(zk_set(z, bad[i], "x", 1, -1, NULL), SL_EINVAL);
        assert_int_equal(zk_delete(z, bad[i], -1), SL_EINVAL);
        assert_int_equal(zk_ensure_path(z, bad[i]), SL_EINVAL);
    }
    assert_int_equal(zk_get(z, NULL, &d, &n, NULL), SL_EINVAL);
    assert_int_equal(zk_get(z, "/", NULL, &n, NULL), SL_EINVAL);
    /* the client library rejects "." components */
    assert_int_equal(zk_create(z, "/a/./b", "x", 1, 0, NULL, 0), SL_EINVAL);
    assert_int_equal(zk_create(z, "/x", NULL, 3, 0, NULL, 0), SL_EINVAL);
    assert_int_equal(zk_create(z, "/x", "x", 1, 8, NULL, 0), SL_EINVAL);
    assert_int_equal(zk_set(z, "/x", "x", 1, -2, NULL), SL_EINVAL);
    assert_int_equal(zk_delete(z, "/", -1), SL_EINVAL);
    assert_int_equal(zk_delete_recursive(z, "/"), SL_EINVAL);
    assert_int_equal(zk_delete_recursive(z, "/zookeeper"), SL_EINVAL);
    assert_int_equal(zk_delete_recursive(z, "/zookeeper/quota"), SL_EINVAL);
    char **names;
    assert_int_equal(zk_children(z, "/", NULL, &n), SL_EINVAL);
    assert_int_equal(zk_children(z, "/", &names, NULL), SL_EINVAL);
    /* too large: refused before anything is sent */
    uint8_t *big = calloc(1, ZK_DATA_MAX + 1);
    assert_int_equal(zk_create(z, "/toobig", big, ZK_DATA_MAX + 1, 0, NULL, 0), SL_ELIMIT);
    assert_int_equal(zk_set(z, "/toobig", big, ZK_DATA_MAX + 1, -1, NULL), SL_ELIMIT);
    free(big);
    assert_int_equal(zk_exists(z, "/toobig", NULL), SL_ENOENT);
    /* sequential create with a too small result buffer: refused, nothing created */
    char tiny[8];
    char root[64];
    root_path(root, sizeof root, "bad");
    assert_int_equal(zk_create(z, root, NULL, 0, 0, NULL, 0), 0);
    char sp[96];
    path_of(sp, sizeof sp, root, "s_");
    assert_int_equal(zk_create(z, sp, "x", 1, ZK_SEQUENTIAL, tiny, sizeof tiny), SL_EINVAL);
    size_t nn = 99;
    assert_int_equal(zk_children(z, root, &names, &nn), 0);
    assert_int_equal(nn, 0);
    assert_null(names);
    /* multi */
    int failed = 7;
    zk_op ok1 = zk_op_check("/", -1);
    assert_int_equal(zk_multi(z, NULL, 1, &failed), SL_EINVAL);
    assert_int_equal(failed, -1);
    assert_int_equal(zk_multi(z, &ok1, 0, &failed), SL_EINVAL);
    assert_int_equal(zk_multi(z, &ok1, ZK_MULTI_MAX + 1, &failed), SL_EINVAL);
    zk_op badops[3] = {zk_op_check("/", -1), zk_op_set("/x", "y", 1, -1), zk_op_delete("x", 0)};
    assert_int_equal(zk_multi(z, badops, 3, &failed), SL_EINVAL);
    assert_int_equal(failed, 2);
    badops[2] = (zk_op){.type = (zk_op_type)99, .path = "/x"};
    assert_int_equal(zk_multi(z, badops, 3, &failed), SL_EINVAL);
    assert_int_equal(failed, 2);
    /* watches and elections */
    uint64_t id;
    assert_int_equal(zk_watch(z, "/x", ZK_WATCH_DATA, NULL, NULL, &id), SL_EINVAL);
    assert_int_equal(zk_unwatch(z, 424242), SL_ENOENT);
    int err = 0;
    assert_null(zk_election_join(z, "relative", "d", NULL, NULL, &err));
    assert_int_equal(err, SL_EINVAL);
    assert_null(zk_election_join(z, "/el", NULL, NULL, NULL, &err));
    assert_int_equal(err, SL_EINVAL);
    assert_int_equal(zk_delete_recursive(z, root), 0);
    zk_close(z);
}

static void test_crud_versions(void **state)
{
    (void)state;
    NEED_SERVER();
    zk *z = open_or_fail(4000, NULL);
    assert_int_equal(zk_session_state(z), ZK_SESSION_CONNECTED);
    assert_true(zk_session_timeout_ms(z) >= 1000);
    char root[64], p[128], q[128];
    root_path(root, sizeof root, "crud");
    path_of(p, sizeof p, root, "a/b/c");
    assert_int_equal(zk_exists(z, root, NULL), SL_ENOENT);
    assert_int_equal(zk_ensure_path(z, p), 0);
    assert_int_equal(zk_ensure_path(z, p), 0); /* idempotent */
    int32_t v = -5;
    assert_int_equal(zk_exists(z, p, &v), 0);
    assert_int_equal(v, 0);

    path_of(p, sizeof p, root, "x");
    char created[160];
    assert_int_equal(zk_create(z, p, "hello", 5, 0, created, sizeof created), 0);
    assert_string_equal(created, p);
    assert_int_equal(zk_create(z, p, "again", 5, 0, NULL, 0), SL_EEXIST);
    uint8_t *d = NULL;
    size_t n = 0;
    assert_int_equal(zk_get(z, p, &d, &n, &v), 0);
    assert_int_equal(n, 5);
    assert_memory_equal(d, "hello", 5);
    assert_int_equal(d[5], 0); /* NUL after the value */
    assert_int_equal(v, 0);
    free(d);

    int32_t nv = -1;
    assert_int_equal(zk_set(z, p, "v1", 2, 0, &nv), 0);
    assert_int_equal(nv, 1);
    /* a stale writer loses: compare-and-set */
    assert_int_equal(zk_set(z, p, "stale", 5, 0, &nv), SL_ECONFLICT);
    assert_int_equal(zk_get(z, p, &d, &n, &v), 0);
    assert_int_equal(v, 1);
    assert_memory_equal(d, "v1", 2);
    free(d);
    assert_int_equal(zk_set(z, p, "any", 3, -1, &nv), 0);
    assert_int_equal(nv, 2);
    assert_int_equal(zk_set(z, p, NULL, 0, 2, &nv), 0); /* empty value */
    assert_int_equal(zk_get(z, p, &d, &n, &v), 0);
    assert_int_equal(n, 0);
    assert_non_null(d);
    assert_int_equal(v, 3);
    free(d);

    path_of(q, sizeof q, root, "nope");
    assert_int_equal(zk_get(z, q, &d, &n, &v), SL_ENOENT);
    assert_null(d);
    assert_int_equal(zk_set(z, q, "x", 1, -1, NULL), SL_ENOENT);
    assert_int_equal(zk_delete(z, q, -1), SL_ENOENT);
    path_of(q, sizeof q, root, "nope/child");
    assert_int_equal(zk_create(z, q, "x", 1, 0, NULL, 0), SL_ENOENT); /* no parent */

    assert_int_equal(zk_delete(z, p, 1), SL_ECONFLICT); /* wrong version */
    assert_int_equal(zk_delete(z, p, 3), 0);
    assert_int_equal(zk_exists(z, p, NULL), SL_ENOENT);
    path_of(p, sizeof p, root, "a");
    assert_int_equal(zk_delete(z, p, -1), SL_ECONFLICT); /* has children */

    /* sequential: 10-digit suffix, increasing */
    path_of(p, sizeof p, root, "s_");
    char s1[160], s2[160];
    assert_int_equal(zk_create(z, p, "1", 1, ZK_SEQUENTIAL, s1, strlen(p) + 11), 0);
    assert_int_equal(zk_create(z, p, "2", 1, ZK_SEQUENTIAL, s2, sizeof s2), 0);
    assert_int_equal(strlen(s1), strlen(p) + 10);
    assert_true(strcmp(s1, s2) < 0);

    if (getenv("SLUICE_ZK_LEAVE_MARK")) { /* for test_zk.sh's restart check */
        zk_delete_recursive(z, "/zk-test-mark");
        assert_int_equal(zk_create(z, "/zk-test-mark", "persisted", 9, 0, NULL, 0), 0);
    }
    assert_int_equal(zk_delete_recursive(z, root), 0);
    assert_int_equal(zk_exists(z, root, NULL), SL_ENOENT);
    assert_int_equal(zk_delete_recursive(z, root), SL_ENOENT);
    zk_close(z);
}

static void test_large_value(void **state)
{
    (void)state;
    NEED_SERVER();
    zk *z = open_or_fail(4000, NULL);
    char root[64], p[600];
    root_path(root, sizeof root, "large");
    assert_int_equal(zk_ensure_path(z, root), 0);
    /* the largest value, under a long path: the whole request still fits the server's
     * 0xfffff-byte buffer */
    int pl = snprintf(p, sizeof p, "%s/", root);
    memset(p + pl, 'p', sizeof p - (size_t)pl - 1);
    p[sizeof p - 1] = 0;
    size_t len = ZK_DATA_MAX;
    uint8_t *big = malloc(len);
    for (size_t i = 0; i < len; i++) big[i] = (uint8_t)(i * 131 + 7);
    assert_int_equal(zk_create(z, p, big, len, 0, NULL, 0), 0);
    uint8_t *d = NULL;
    size_t n = 0;
    assert_int_equal(zk_get(z, p, &d, &n, NULL), 0); /* first buffer is 4 KiB: retried */
    assert_int_equal(n, len);
    assert_memory_equal(d, big, len);
    free(d);
    /* a multi whose ops add up to too much is refused before sending: nothing changes and
     * the connection does not flap */
    char a[128], b[128];
    path_of(a, sizeof a, root, "a");
    path_of(b, sizeof b, root, "b");
    zk_op ops[2] = {zk_op_create(a, big, len / 2, 0), zk_op_create(b, big, len / 2, 0)};
    int failed = 0;
    assert_int_equal(zk_multi(z, ops, 2, &failed), SL_ELIMIT);
    assert_int_equal(failed, -1);
    ops[1].len = len / 4;
    assert_int_equal(zk_multi(z, ops, 2, &failed), 0);
    assert_int_equal(zk_exists(z, b, NULL), 0);
    assert_int_equal(zk_session_state(z), ZK_SESSION_CONNECTED);
    assert_int_equal(zk_delete_recursive(z, root), 0);
    free(big);
    zk_close(z);
}

static void test_children_sorted(void **state)
{
    (void)state;
    NEED_SERVER();
    zk *z = open_or_fail(4000, NULL);
    char root[64], p[128];
    root_path(root, sizeof root, "kids");
    assert_int_equal(zk_ensure_path(z, root), 0);
    const char *add[] = {"c", "a", "b", "aa", "B"};
    for (int i = 0; i < 5; i++) {
        path_of(p, sizeof p, root, add[i]);
        assert_int_equal(zk_create(z, p, NULL, 0, 0, NULL, 0), 0);
    }
    char **names = NULL;
    size_t n = 0;
    assert_int_equal(zk_children(z, root, &names, &n), 0);
    assert_int_equal(n, 5);
    const char *want[] = {"B", "a", "aa", "b", "c"};
    for (int i = 0; i < 5; i++) assert_string_equal(names[i], want[i]);
    zk_free_strings(names, n);
    path_of(p, sizeof p, root, "missing");
    assert_int_equal(zk_children(z, p, &names, &n), SL_ENOENT);
    assert_null(names);
    assert_int_equal(n, 0);
    assert_int_equal(zk_delete_recursive(z, root), 0);
    zk_close(z);
}

/* ---- multi ------------------------------------------------------------------------------------- */

static void test_multi(void **state)
{
    (void)state;
    NEED_SERVER();
    zk *z = open_or_fail(4000, NULL);
    char root[64], a[128], b[128], c[128], gone[128];
    root_path(root, sizeof root, "multi");
    path_of(a, sizeof a, root, "a");
    path_of(b, sizeof b, root, "b");
    path_of(c, sizeof c, root, "c");
    path_of(gone, sizeof gone, root, "gone");
    assert_int_equal(zk_ensure_path(z, root), 0);
    assert_int_equal(zk_create(z, a, "a0", 2, 0, NULL, 0), 0);
    assert_int_equal(zk_create(z, gone, "g", 1, 0, NULL, 0), 0);

    /* A failing CHECK at the end leaves nothing changed: the create, the set and the delete
     * before it are rolled back. */
    int failed = 0;
    zk_op ops[4] = {zk_op_create(b, "b0", 2, 0), zk_op_set(a, "a1", 2, 0),
                    zk_op_delete(gone, -1), zk_op_check(a, 5)};
    assert_int_equal(zk_multi(z, ops, 4, &failed), SL_ECONFLICT);
    assert_int_equal(failed, 3);
    assert_int_equal(zk_exists(z, b, NULL), SL_ENOENT);
    assert_int_equal(zk_exists(z, gone, NULL), 0);
    uint8_t *d;
    size_t n;
    int32_t v;
    assert_int_equal(zk_get(z, a, &d, &n, &v), 0);
    assert_memory_equal(d, "a0", 2);
    assert_int_equal(v, 0);
    free(d);

    /* NODEEXISTS in the middle: SL_EEXIST with its index, nothing applied */
    zk_op ops2[3] = {zk_op_set(a, "zz", 2, -1), zk_op_create(gone, "x", 1, 0),
                     zk_op_create(c, "c", 1, 0)};
    assert_int_equal(zk_multi(z, ops2, 3, &failed), SL_EEXIST);
    assert_int_equal(failed, 1);
    assert_int_equal(zk_exists(z, c, NULL), SL_ENOENT);
    assert_int_equal(zk_exists(z, a, &v), 0);
    assert_int_equal(v, 0);

    /* missing node */
    zk_op ops3[1] = {zk_op_set(c, "c", 1, -1)};
    assert_int_equal(zk_multi(z, ops3, 1, &failed), SL_ENOENT);
    assert_int_equal(failed, 0);

    /* all good: everything applied */
    zk_op ops4[4] = {zk_op_check(a, 0), zk_op_set(a, "a1", 2, 0), zk_op_create(b, "b0", 2, 0),
                     zk_op_delete(gone, 0)};
    assert_int_equal(zk_multi(z, ops4, 4, &failed), 0);
    assert_int_equal(failed, -1);
    assert_int_equal(zk_get(z, a, &d, &n, &v), 0);
    assert_memory_equal(d, "a1", 2);
    assert_int_equal(v, 1);
    free(d);
    assert_int_equal(zk_exists(z, b, NULL), 0);
    assert_int_equal(zk_exists(z, gone, NULL), SL_ENOENT);
    assert_int_equal(zk_multi(z, ops4, 1, NULL), SL_ECONFLICT); /* failed_op may be NULL */
    assert_int_equal(zk_delete_recursive(z, root), 0);
    zk_close(z);
}

/* ---- ephemeral ---------------------------------------------------------------------------------- */

typedef struct exists_arg {
    zk *z;
    const char *path;
    int want; /* 0 or SL_ENOENT */
} exists_arg;

static bool exists_is(void *p)
{
    exists_arg *a = p;
    return zk_exists(a->z, a->path, NULL) == a->want;
}

static void test_ephemeral(void **state)
{
    (void)state;
    NEED_SERVER();
    zk *owner = open_or_fail(4000, NULL), *other = open_or_fail(4000, NULL);
    char root[64], p[128];
    root_path(root, sizeof root, "eph");
    assert_int_equal(zk_ensure_path(owner, root), 0);
    path_of(p, sizeof p, root, "me");
    assert_int_equal(zk_create(owner, p, "x", 1, ZK_EPHEMERAL, NULL, 0), 0);
    assert_int_equal(zk_exists(other, p, NULL), 0);
    char child[160];
    path_of(child, sizeof child, p, "kid");
    assert_int_equal(zk_create(owner, child, NULL, 0, 0, NULL, 0), SL_EINVAL); /* no children */
    zk_close(owner); /* ends the session: the node goes at once, no timeout wait */
    exists_arg ea = {other, p, SL_ENOENT};
    assert_true(wait_until(exists_is, &ea, 2000));
    assert_int_equal(zk_delete_recursive(other, root), 0);
    zk_close(other);
}

/* ---- watches ------------------------------------------------------------------------------------ */

typedef struct wrec {
    atomic_int calls;
    atomic_int last_len; /* value length read inside the callback (-1: no node) */
    zk *z;
    uint64_t self_id;
    atomic_bool unwatch_self;
    atomic_bool on_dispatcher_ok;
} wrec;

static void on_data(void *ctx, const char *path)
{
    wrec *r = ctx;
    /* synchronous calls are allowed on the dispatcher */
    uint8_t *d = NULL;
    size_t n = 0;
    int rc = zk_get(r->z, path, &d, &n, NULL);
    atomic_store(&r->last_len, rc == 0 ? (int)n : -1);
    free(d);
    if (atomic_load(&r->unwatch_self)) {
        atomic_store(&r->on_dispatcher_ok, zk_unwatch(r->z, r->self_id) == 0);
    }
    atomic_fetch_add(&r->calls, 1);
}

typedef struct calls_arg {
    wrec *r;
    int want;
} calls_arg;

static bool calls_reach(void *p)
{
    calls_arg *a = p;
    return atomic_load(&a->r->calls) >= a->want;
}

static void test_watches(void **state)
{
    (void)state;
    NEED_SERVER();
    zk *z = open_or_fail(4000, NULL), *w2 = open_or_fail(4000, NULL);
    char root[64], p[128], k[128];
    root_path(root, sizeof root, "watch");
    assert_int_equal(zk_ensure_path(z, root), 0);
    path_of(p, sizeof p, root, "node");

    /* data watch on a node that does not exist yet; changes come from another session */
    wrec dr = {.z = z};
    atomic_init(&dr.calls, 0);
    atomic_init(&dr.last_len, -2);
    uint64_t did = 0;
    assert_int_equal(zk_watch(z, p, ZK_WATCH_DATA, on_data, &dr, &did), 0);
    assert_true(did != 0);
    calls_arg ca = {&dr, 1};
    assert_int_equal(zk_create(w2, p, "abc", 3, 0, NULL, 0), 0);
    assert_true(wait_until(calls_reach, &ca, 3000));
    assert_int_equal(atomic_load(&dr.last_len), 3);
    /* persistent: every further change fires again */
    for (int i = 2; i <= 4; i++) {
        char val[16];
        int vl = snprintf(val, sizeof val, "%0*d", i * 2, 7);
        assert_int_equal(zk_set(w2, p, val, (size_t)vl, -1, NULL), 0);
        ca.want = i;
        assert_true(wait_until(calls_reach, &ca, 3000));
        assert_int_equal(atomic_load(&dr.last_len), i * 2);
    }
    assert_int_equal(zk_delete(w2, p, -1), 0);
    ca.want = 5;
    assert_true(wait_until(calls_reach, &ca, 3000));
    assert_int_equal(atomic_load(&dr.last_len), -1);
    /* removed: no more calls */
    assert_int_equal(zk_unwatch(z, did), 0);
    assert_int_equal(zk_unwatch(z, did), SL_ENOENT);
    int before = atomic_load(&dr.calls);
    assert_int_equal(zk_create(w2, p, "x", 1, 0, NULL, 0), 0);
    assert_int_equal(zk_set(w2, p, "y", 1, -1, NULL), 0);
    sl_clock_sleep_ms(300); /* a negative check: give a wrong callback time to show up */
    assert_int_equal(atomic_load(&dr.calls), before);

    /* children watch: adds and removals, not value changes */
    wrec cr = {.z = z};
    atomic_init(&cr.calls, 0);
    uint64_t cid = 0;
    assert_int_equal(zk_watch(z, root, ZK_WATCH_CHILDREN, on_data, &cr, &cid), 0);
    path_of(k, sizeof k, root, "kid");
    assert_int_equal(zk_create(w2, k, NULL, 0, 0, NULL, 0), 0);
    calls_arg cc = {&cr, 1};
    assert_true(wait_until(calls_reach, &cc, 3000));
    assert_int_equal(zk_delete(w2, k, -1), 0);
    cc.want = 2;
    assert_true(wait_until(calls_reach, &cc, 3000));
    assert_int_equal(zk_set(w2, p, "zzz", 3, -1, NULL), 0); /* a child's value: no call */
    sl_clock_sleep_ms(300);
    assert_int_equal(atomic_load(&cr.calls), 2);

    /* a watch removing itself from its own callback: one call, then silence */
    wrec sr = {.z = z};
    atomic_init(&sr.calls, 0);
    atomic_init(&sr.unwatch_self, true);
    assert_int_equal(zk_watch(z, p, ZK_WATCH_DATA, on_data, &sr, &sr.self_id), 0);
    assert_int_equal(zk_set(w2, p, "1", 1, -1, NULL), 0);
    calls_arg sc = {&sr, 1};
    assert_true(wait_until(calls_reach, &sc, 3000));
    assert_true(atomic_load(&sr.on_dispatcher_ok));
    assert_int_equal(zk_set(w2, p, "2", 1, -1, NULL), 0);
    sl_clock_sleep_ms(300);
    assert_int_equal(atomic_load(&sr.calls), 1);
    assert_int_equal(zk_unwatch(z, sr.self_id), SL_ENOENT);

    /* children watch on a missing node: fires when it appears, then tracks its children */
    wrec mr = {.z = z};
    atomic_init(&mr.calls, 0);
    uint64_t mid = 0;
    char late[128];
    path_of(late, sizeof late, root, "late");
    assert_int_equal(zk_watch(z, late, ZK_WATCH_CHILDREN, on_data, &mr, &mid), 0);
    assert_int_equal(zk_create(w2, late, NULL, 0, 0, NULL, 0), 0);
    calls_arg mc = {&mr, 1};
    assert_true(wait_until(calls_reach, &mc, 3000));
    path_of(k, sizeof k, late, "k");
    assert_int_equal(zk_create(w2, k, NULL, 0, 0, NULL, 0), 0);
    mc.want = 2;
    assert_true(wait_until(calls_reach, &mc, 3000));

    /* zk_close with watches still registered frees them; cid and mid stay registered */
    (void)cid;
    (void)mid;
    assert_int_equal(zk_delete_recursive(w2, root), 0);
    zk_close(z);
    zk_close(w2);
}

/* ---- election ----------------------------------------------------------------------------------- */

typedef struct part {
    zk *z;
    _Atomic(zk_election *) e; /* read by on_session on the dispatcher */
    char data[64];
    atomic_int changes;
    atomic_bool last_leader;
    atomic_int sessions[4];          /* count per zk_session_event */
    atomic_int leader_at_disconnect; /* is_leader seen inside the DISCONNECTED callback */
    pthread_mutex_t mu;
    char last_data[64]; /* leader_data of the last on_change, "" for NULL */
} part;

static void on_change(void *ctx, bool is_leader, const char *leader_data)
{
    part *p = ctx;
    pthread_mutex_lock(&p->mu);
    snprintf(p->last_data, sizeof p->last_data, "%s", leader_data ? leader_data : "");
    pthread_mutex_unlock(&p->mu);
    atomic_store(&p->last_leader, is_leader);
    atomic_fetch_add(&p->changes, 1);
}

static void on_session(void *ctx, zk_session_event ev)
{
    part *p = ctx;
    if (ev == ZK_SESSION_DISCONNECTED && p->e)
        atomic_store(&p->leader_at_disconnect, zk_election_is_leader(p->e) ? 1 : 0);
    atomic_fetch_add(&p->sessions[ev], 1);
}

static void part_init(part *p, int i, unsigned timeout_ms)
{
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    atomic_init(&p->leader_at_disconnect, -1);
    snprintf(p->data, sizeof p->data, "http://127.0.0.1:%d", 9000 + i);
    zk_opts o = {.on_session = on_session, .ctx = p};
    p->z = open_or_fail(timeout_ms, &o);
}

static void part_join(part *p, const char *dir)
{
    int err = 0;
    p->e = zk_election_join(p->z, dir, p->data, on_change, p, &err);
    if (!p->e) fail_msg("join: %s", sluice_strerror(err));
}

static void part_done(part *p)
{
    if (p->e) zk_election_leave(p->e);
    p->e = NULL;
    zk_close(p->z);
    pthread_mutex_destroy(&p->mu);
}

static bool leader_data_is(part *p, const char *want)
{
    char *d = zk_election_leader_data(p->e);
    bool ok = want ? d && strcmp(d, want) == 0 : d == NULL;
    free(d);
    return ok;
}

static bool cb_data_is(part *p, const char *want)
{
    pthread_mutex_lock(&p->mu);
    bool ok = strcmp(p->last_data, want) == 0;
    pthread_mutex_unlock(&p->mu);
    return ok;
}

typedef struct lead_arg {
    part *ps;
    int n, want; /* want: index of the expected sole leader */
} lead_arg;

/* Exactly one leader, the expected one, and everyone (state and callbacks) agrees on its data. */
static bool sole_leader(void *p)
{
    lead_arg *a = p;
    for (int i = 0; i < a->n; i++) {
        part *q = &a->ps[i];
        if (!q->e) continue;
        if (zk_election_is_leader(q->e) != (i == a->want)) return false;
        if (!leader_data_is(q, a->ps[a->want].data)) return false;
        if (atomic_load(&q->last_leader) != (i == a->want)) return false;
        if (!cb_data_is(q, a->ps[a->want].data)) return false;
    }
    return true;
}

static void test_election_three(void **state)
{
    (void)state;
    NEED_SERVER();
    part ps[3];
    char dir[64];
    root_path(dir, sizeof dir, "election");
    for (int i = 0; i < 3; i++) part_init(&ps[i], i, 4000);
    for (int i = 0; i < 3; i++) part_join(&ps[i], dir); /* dir is created by the first join */
    assert_true(zk_election_is_leader(ps[0].e)); /* decided before join returns */
    lead_arg la = {ps, 3, 0};
    assert_true(wait_until(sole_leader, &la, 3000));
    char **names;
    size_t n;
    assert_int_equal(zk_children(ps[0].z, dir, &names, &n), 0);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++) assert_int_equal(strncmp(names[i], "n_", 2), 0);
    zk_free_strings(names, n);

    /* the leader leaves: the next in line takes over, and the third hears of it */
    int64_t t0 = sl_clock_mono_ms();
    assert_int_equal(zk_election_leave(ps[0].e), 0);
    ps[0].e = NULL;
    la.want = 1;
    assert_true(wait_until(sole_leader, &la, 2000));
    print_message("hand-over after leave: %lld ms\n", (long long)(sl_clock_mono_ms() - t0));

    /* the new leader's session ends without leaving: its node goes with it */
    t0 = sl_clock_mono_ms();
    zk_election *orphan = ps[1].e;
    (void)orphan; /* zk_close frees elections still joined */
    ps[1].e = NULL;
    zk_close(ps[1].z);
    ps[1].z = NULL;
    la.want = 2;
    assert_true(wait_until(sole_leader, &la, 2000));
    print_message("hand-over after session close: %lld ms\n", (long long)(sl_clock_mono_ms() - t0));

    /* a participant joining late is not the leader */
    part late;
    part_init(&late, 7, 4000);
    part_join(&late, dir);
    assert_false(zk_election_is_leader(late.e));
    assert_true(leader_data_is(&late, ps[2].data));
    part_done(&late);

    assert_int_equal(zk_election_leave(ps[2].e), 0);
    ps[2].e = NULL;
    assert_int_equal(zk_children(ps[2].z, dir, &names, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(zk_delete_recursive(ps[2].z, dir), 0);
    part_done(&ps[0]);
    part_done(&ps[2]);
    pthread_mutex_destroy(&ps[1].mu);
}

/* ---- faults: frozen server, expired session ------------------------------------------------------ */

static bool not_leader(void *p)
{
    return !zk_election_is_leader(((part *)p)->e);
}

static bool is_leader(void *p)
{
    return zk_election_is_leader(((part *)p)->e);
}

static bool reconnected(void *p)
{
    return atomic_load(&((part *)p)->sessions[ZK_SESSION_CONNECTED]) >= 2;
}

static void test_election_server_frozen(void **state)
{
    (void)state;
    NEED_SERVER();
    if (ZK_PID <= 0) fail_msg("SLUICE_ZK_PID unset: the server cannot be frozen");
    /* 6 s sessions: the client notices the silence after ~4 s (2/3), well before the server
     * could expire anyone once it runs again, so the same sessions come back. */
    const unsigned session = 6000;
    part ps[2];
    char dir[64];
    root_path(dir, sizeof dir, "frozen");
    for (int i = 0; i < 2; i++) part_init(&ps[i], i, session);
    for (int i = 0; i < 2; i++) part_join(&ps[i], dir);
    lead_arg la = {ps, 2, 0};
    assert_true(wait_until(sole_leader, &la, 3000));

    assert_int_equal(kill(ZK_PID, SIGSTOP), 0);
    int64_t t0 = sl_clock_mono_ms();
    bool lost = wait_until(not_leader, &ps[0], (int)session);
    int64_t took = sl_clock_mono_ms() - t0;
    /* read everything while still frozen, then thaw before asserting */
    int at_cb_wait_ok = 0;
    for (int i = 0; i < 100 && atomic_load(&ps[0].sessions[ZK_SESSION_DISCONNECTED]) == 0; i++)
        sl_clock_sleep_ms(10);
    at_cb_wait_ok = atomic_load(&ps[0].sessions[ZK_SESSION_DISCONNECTED]);
    bool data_unknown = leader_data_is(&ps[0], NULL);
    int64_t c0 = sl_clock_mono_ms();
    int get_rc = zk_exists(ps[0].z, dir, NULL);
    int64_t call_ms = sl_clock_mono_ms() - c0;
    zk_session_event st = zk_session_state(ps[0].z);
    kill(ZK_PID, SIGCONT);

    print_message("leader stepped down %lld ms after the server froze\n", (long long)took);
    assert_true(lost);
    assert_true(took <= (int64_t)session * 2 / 3 + 1500);
    assert_true(at_cb_wait_ok >= 1);
    /* not-leader was already visible inside the DISCONNECTED callback */
    assert_int_equal(atomic_load(&ps[0].leader_at_disconnect), 0);
    assert_true(data_unknown);
    assert_int_equal(get_rc, SL_ETRANSIENT); /* fails fast while disconnected */
    assert_true(call_ms < 100);
    assert_int_equal(st, ZK_SESSION_DISCONNECTED);

    /* same session back: leadership re-evaluated, same leader */
    assert_true(wait_until(reconnected, &ps[0], 8000));
    assert_true(wait_until(is_leader, &ps[0], 5000));
    assert_true(wait_until(sole_leader, &la, 5000));
    assert_int_equal(atomic_load(&ps[0].sessions[ZK_SESSION_EXPIRED]), 0);
    assert_int_equal(zk_session_state(ps[0].z), ZK_SESSION_CONNECTED);

    assert_int_equal(zk_election_leave(ps[1].e), 0);
    ps[1].e = NULL;
    assert_int_equal(zk_election_leave(ps[0].e), 0);
    ps[0].e = NULL;
    assert_int_equal(zk_delete_recursive(ps[0].z, dir), 0);
    for (int i = 0; i < 2; i++) part_done(&ps[i]);
}

/* The child: a 2 s session that joins the election first (so it leads) and owns an
 * ephemeral node; the parent freezes it past the timeout. Exit code = what went wrong. */
static int expire_child(int ready_fd, const char *dir, const char *eph)
{
    part p;
    memset(&p, 0, sizeof p);
    pthread_mutex_init(&p.mu, NULL);
    snprintf(p.data, sizeof p.data, "child");
    zk_opts o = {.on_session = on_session, .ctx = &p};
    char err[256];
    p.z = zk_open(CONNECT, 2000, &o, err, sizeof err);
    if (!p.z) return 10;
    if (zk_create(p.z, eph, "x", 1, ZK_EPHEMERAL, NULL, 0) != 0) return 11;
    int jerr;
    p.e = zk_election_join(p.z, dir, p.data, on_change, &p, &jerr);
    if (!p.e || !zk_election_is_leader(p.e)) return 12;
    if (write(ready_fd, "r", 1) != 1) return 13;
    /* parent SIGSTOPs us here and SIGCONTs after the server expired the session */
    int64_t end = sl_clock_mono_ms() + 30000;
    while (atomic_load(&p.sessions[ZK_SESSION_EXPIRED]) == 0) {
        if (sl_clock_mono_ms() > end) return 14;
        sl_clock_sleep_ms(10);
    }
    if (zk_election_is_leader(p.e)) return 15;
    if (zk_session_state(p.z) != ZK_SESSION_EXPIRED) return 16;
    if (zk_exists(p.z, "/", NULL) != SL_ESTATE) return 17;
    if (zk_create(p.z, eph, "x", 1, 0, NULL, 0) != SL_ESTATE) return 18;
    zk_election_leave(p.e); /* SL_ESTATE: node went with the session; frees e */
    zk_close(p.z);
    return 0;
}

static bool node_gone(void *p)
{
    exists_arg *a = p;
    return zk_exists(a->z, a->path, NULL) == SL_ENOENT;
}

static void test_session_expiry(void **state)
{
    (void)state;
    NEED_SERVER();
    char dir[64], eph[96];
    root_path(dir, sizeof dir, "expiry");
    snprintf(eph, sizeof eph, "/t%d_expiry_eph", (int)getpid());
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    /* fork before this process opens any session: the child starts single-threaded */
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        close(fds[0]);
        _exit(expire_child(fds[1], dir, eph));
    }
    close(fds[1]);
    char c;
    ssize_t r = read(fds[0], &c, 1); /* blocks until the child is ready or dies */
    close(fds[0]);
    if (r != 1) {
        int st;
        waitpid(child, &st, 0);
        fail_msg("child failed before freezing: exit %d", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    }
    part me;
    part_init(&me, 1, 4000);
    part_join(&me, dir);
    assert_false(zk_election_is_leader(me.e));
    assert_true(leader_data_is(&me, "child"));

    assert_int_equal(kill(child, SIGSTOP), 0);
    int64_t t0 = sl_clock_mono_ms();
    exists_arg ea = {me.z, eph, SL_ENOENT};
    bool gone = wait_until(node_gone, &ea, 10000);
    int64_t expired_ms = sl_clock_mono_ms() - t0;
    bool took_over = gone && wait_until(is_leader, &me, 3000);
    kill(child, SIGCONT);
    int st = -1;
    int64_t end = sl_clock_mono_ms() + 30000;
    pid_t w;
    while ((w = waitpid(child, &st, WNOHANG)) == 0 && sl_clock_mono_ms() < end)
        sl_clock_sleep_ms(20);
    if (w == 0) {
        kill(child, SIGKILL);
        waitpid(child, &st, 0);
    }
    print_message("stopped client's session expired after %lld ms\n", (long long)expired_ms);
    assert_true(gone);
    assert_true(took_over);
    assert_true(leader_data_is(&me, me.data));
    assert_int_equal(w, child);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);

    assert_int_equal(zk_election_leave(me.e), 0);
    me.e = NULL;
    assert_int_equal(zk_delete_recursive(me.z, dir), 0);
    part_done(&me);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest offline[] = {
        cmocka_unit_test(test_map_err),
        cmocka_unit_test(test_open_errors),
    };
    const struct CMUnitTest server[] = {
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_crud_versions),
        cmocka_unit_test(test_large_value),
        cmocka_unit_test(test_children_sorted),
        cmocka_unit_test(test_multi),
        cmocka_unit_test(test_ephemeral),
        cmocka_unit_test(test_watches),
        cmocka_unit_test(test_election_three),
        cmocka_unit_test(test_election_server_frozen),
        cmocka_unit_test(test_session_expiry),
    };
    bool no_server = argc == 2 && strcmp(argv[1], "--no-server") == 0;
    if (argc > 1 && !no_server) {
        fprintf(stderr, "usage: test_zk [--no-server]\n");
        return 2;
    }
    if (no_server) return cmocka_run_group_tests_name("zk, no server", offline, NULL, NULL) != 0;
    CONNECT = getenv("SLUICE_ZK_CONNECT");
    if (CONNECT && !CONNECT[0]) CONNECT = NULL;
    const char *pid = getenv("SLUICE_ZK_PID");
    ZK_PID = pid ? (pid_t)atoi(pid) : 0;
    if (!CONNECT || ZK_PID <= 0) {
        fprintf(stderr, "test_zk: the server tests need SLUICE_ZK_CONNECT and SLUICE_ZK_PID "
                        "(tests/integration/test_zk.sh starts a server and sets them); "
                        "--no-server runs only the tests that need none\n");
        return 1;
    }
    int failed = cmocka_run_group_tests_name("zk, no server", offline, NULL, NULL);
    failed += cmocka_run_group_tests_name("zk, real server", server, NULL, NULL);
    return failed != 0;
}
