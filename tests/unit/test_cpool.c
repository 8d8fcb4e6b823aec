/* The consumer pool against an in-process mock cluster (chaos/kmock): cpool_call runs on the
 * worker that owns the partition, also in group mode where Kafka, not the partition number,
 * decides which worker that is; a partition no worker consumes is refused (SL_ENOENT) without
 * running the function; messages reach their own partition among hundreds. */
#include "chaos/kmock.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/schema.h"
#include "common/sl_err.h"
#include "consumer/cmetrics.h"
#include "consumer/cpool.h"
#include "consumer/pcons.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <librdkafka/rdkafka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NPART 4

static const char schema_json[] =
    "{\"schemaName\":\"t\",\"dimensionFieldSpecs\":[{\"name\":\"id\",\"dataType\":\"LONG\"}]}";

typedef struct fx {
    kmock *m;
    schema *s;
    metrics_registry *reg;
    cmetrics cm;
    pcons_table pt;
    pthread_mutex_t mu;
    pcons *p[NPART];            /* by partition, made by on_assign */
    cpool_worker *owner[NPART]; /* the worker on_assign ran on */
    int assigned;
} fx;

static cpool_full_action on_full(void *ctx, cpool_worker *w, pcons *p)
{
    (void)ctx, (void)w, (void)p;
    return CPOOL_HOLD;
}

static pcons *on_assign(void *ctx, cpool_worker *w, const char *topic, int32_t partition,
                        int64_t committed)
{
    (void)topic;
    fx *f = ctx;
    assert_true(partition >= 0 && partition < NPART);
    pcons *p = pcons_new(&f->pt, partition);
    pcons_limits lim = {.rows = 1000000, .end_offset = -1};
    char name[64];
    snprintf(name, sizeof name, "t__%d__0__20240101T0000Z", (int)partition);
    pcons_start_segment(p, 0, name, committed < 0 ? 0 : committed, 0, &lim);
    pthread_mutex_lock(&f->mu);
    f->p[partition] = p;
    f->owner[partition] = w;
    f->assigned++;
    pthread_mutex_unlock(&f->mu);
    return p;
}

static void on_revoke(void *ctx, cpool_worker *w, pcons *p)
{
    (void)w;
    fx *f = ctx;
    pthread_mutex_lock(&f->mu);
    int32_t part = pcons_partition(p);
    if (f->p[part] == p) {
        f->p[part] = NULL;
        f->assigned--;
    }
    pthread_mutex_unlock(&f->mu);
    pcons_free(p);
}

typedef struct call_arg {
    cpool_worker *ran_on;
    int runs;
} call_arg;

static void record(void *arg, cpool_worker *w)
{
    call_arg *a = arg;
    a->ran_on = w;
    a->runs++;
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    char err[256];
    f->m = kmock_new(1, err, sizeof err);
    if (!f->m) fail_msg("kmock_new: %s", err);
    assert_int_equal(kmock_topic_create(f->m, "t", NPART, 1, err, sizeof err), 0);
    f->s = schema_parse(schema_json, strlen(schema_json), "s", err, sizeof err);
    f->reg = metrics_new();
    assert_int_equal(cmetrics_register(&f->cm, f->reg), 0);
    f->pt = (pcons_table){.table = "t", .schema = f->s, .metrics = &f->cm};
    pthread_mutex_init(&f->mu, NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    kmock_destroy(f->m);
    metrics_free(f->reg);
    schema_free(f->s);
    pthread_mutex_destroy(&f->mu);
    free(f);
    return 0;
}

static void test_call_in_group_mode_runs_on_the_owner(void **state)
{
    fx *f = *state;
    cpool_prop props[] = {{"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "500"}};
    cpool_opts o = {.workers = 2,
                    .bootstrap = kmock_bootstraps(f->m),
                    .props = props,
                    .nprops = 2,
                    .group_id = "g",
                    .topic = "t"};
    cpool_handler h = {
        .ctx = f, .on_full = on_full, .on_assign = on_assign, .on_revoke = on_revoke};
    char err[256];
    cpool *c = cpool_new(&o, &h, err, sizeof err);
    if (!c) fail_msg("cpool_new: %s", err);
    /* both workers joined and the group spread the partitions (bounded wait) */
    int assigned = 0;
    for (int i = 0; i < 600 && assigned < NPART; i++) {
        usleep(50000);
        pthread_mutex_lock(&f->mu);
        assigned = f->assigned;
        pthread_mutex_unlock(&f->mu);
    }
    assert_int_equal(assigned, NPART);
    /* the group may still move partitions while the second member joins: wait until the
     * assignment stood still for a second */
    cpool_worker *seen[NPART];
    for (int stable = 0, tries = 0; stable < 20 && tries < 600; tries++) {
        pthread_mutex_lock(&f->mu);
        bool same = f->assigned == NPART && memcmp(seen, f->owner, sizeof seen) == 0;
        memcpy(seen, f->owner, sizeof seen);
        pthread_mutex_unlock(&f->mu);
        stable = same ? stable + 1 : 0;
        usleep(50000);
    }
    bool two_workers = false;
    for (int p = 0; p < NPART; p++) {
        pthread_mutex_lock(&f->mu);
        pcons *pc = f->p[p];
        cpool_worker *owner = f->owner[p];
        pthread_mutex_unlock(&f->mu);
        assert_non_null(pc);
        two_workers |= owner != seen[0];
        call_arg a = {0};
        assert_int_equal(cpool_call(c, pc, record, &a), 0);
        assert_int_equal(a.runs, 1);
        assert_ptr_equal(a.ran_on, owner); /* not partition % workers */
    }
    if (!two_workers) /* one member took everything: nothing shows the owner lookup */
        print_message("note: the group gave every partition to one worker\n");
    /* a pcons no worker consumes: refused, not run */
    pcons *stray = pcons_new(&f->pt, 1);
    call_arg a = {0};
    assert_int_equal(cpool_call(c, stray, record, &a), SL_ENOENT);
    assert_int_equal(a.runs, 0);
    cpool_free(c); /* revokes the rest through on_revoke */
    pcons_free(stray);
    assert_int_equal(f->assigned, 0);
}

static void test_call_lowlevel_unknown_partition(void **state)
{
    fx *f = *state;
    cpool_opts o = {.workers = 2, .bootstrap = kmock_bootstraps(f->m)};
    cpool_handler h = {.ctx = f, .on_full = on_full};
    char err[256];
    cpool *c = cpool_new(&o, &h, err, sizeof err);
    if (!c) fail_msg("cpool_new: %s", err);
    pcons *p = pcons_new(&f->pt, 3);
    pcons_limits lim = {.rows = 10, .end_offset = -1};
    pcons_start_segment(p, 0, "t__3__0__20240101T0000Z", 0, 0, &lim);
    call_arg a = {0};
    assert_int_equal(cpool_call(c, p, record, &a), SL_ENOENT); /* not added yet */
    assert_int_equal(a.runs, 0);
    assert_int_equal(cpool_add(c, "t", p), 0);
    assert_int_equal(cpool_call(c, p, record, &a), 0);
    assert_int_equal(a.runs, 1);
    cpool_remove(c, p);
    assert_int_equal(cpool_call(c, p, record, &a), SL_ENOENT);
    assert_int_equal(a.runs, 1);
    cpool_free(c);
    pcons_free(p);
}

/* n messages into partition of topic. */
static void produce_to(fx *f, const char *topic, int32_t partition, int n)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    assert_int_equal(
        rd_kafka_conf_set(conf, "bootstrap.servers", kmock_bootstraps(f->m), errstr, sizeof errstr),
        RD_KAFKA_CONF_OK);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    assert_non_null(rk);
    for (int i = 0; i < n; i++)
        assert_int_equal(
            rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
                              RD_KAFKA_V_VALUE("{\"id\":1}", 8),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END),
            0);
    assert_int_equal(rd_kafka_flush(rk, 10000), 0);
    rd_kafka_destroy(rk);
}

static void produce_n(fx *f, int32_t partition, int n)
{
    produce_to(f, "t", partition, n);
}

/* The batched look-up (one request per leader) agrees with the per-partition watermarks, while
 * a worker consumes; a partition the topic does not have is unknown (-1), not made up. */
static void test_batched_offsets(void **state)
{
    fx *f = *state;
    for (int32_t p = 0; p < NPART; p++)
        produce_n(f, p, 3 * p);
    cpool_opts o = {.workers = 2, .bootstrap = kmock_bootstraps(f->m)};
    cpool_handler h = {.ctx = f, .on_full = on_full};
    char err[256];
    cpool *c = cpool_new(&o, &h, err, sizeof err);
    if (!c) fail_msg("cpool_new: %s", err);
    pcons *busy = pcons_new(&f->pt, 0); /* a consuming partition: its worker's fetch parks */
    pcons_limits lim = {.rows = 1000000, .end_offset = -1};
    pcons_start_segment(busy, 0, "t__0__0__20240101T0000Z", 0, 0, &lim);
    assert_int_equal(cpool_add(c, "t", busy), 0);
    int32_t parts[NPART] = {3, 1, 0, 2};
    int64_t first[NPART], last[NPART];
    assert_int_equal(cpool_query_offsets(c, "t", parts, NPART, false, first), 0);
    assert_int_equal(cpool_query_offsets(c, "t", parts, NPART, true, last), 0);
    for (int i = 0; i < NPART; i++) {
        int64_t low, high;
        assert_int_equal(cpool_query_watermarks(c, "t", parts[i], &low, &high), 0);
        assert_int_equal(first[i], low);
        assert_int_equal(last[i], high);
        assert_int_equal(last[i], 3 * parts[i]);
        assert_int_equal(first[i], 0);
    }
    int32_t bad[2] = {1, 99};
    int64_t out[2];
    assert_int_equal(cpool_query_offsets(c, "t", bad, 2, true, out), SL_ETRANSIENT);
    assert_int_equal(out[1], -1);
    assert_int_equal(cpool_query_offsets(c, "t", bad, 0, true, out), 0); /* nothing to ask */
    cpool_remove(c, busy);
    cpool_free(c);
    pcons_free(busy);
}

/* Every message reaches its own partition's consumer when a worker holds hundreds of them and
 * two topics share partition numbers (the pool's partition index), also after partitions were
 * removed (the index is rebuilt): partition k of "many" gets k % 3 + 1 messages, partition k
 * of "t" 5 + k; each consumer's next offset must be its own partition's end. */
static void test_routing_many_partitions(void **state)
{
    fx *f = *state;
    enum { MANY = 300 };
    char err[256];
    assert_int_equal(kmock_topic_create(f->m, "many", MANY, 1, err, sizeof err), 0);
    for (int32_t k = 0; k < MANY; k++)
        produce_to(f, "many", k, k % 3 + 1);
    for (int32_t p = 0; p < NPART; p++)
        produce_n(f, p, 5 + p);

    cpool_opts o = {.workers = 2, .bootstrap = kmock_bootstraps(f->m)};
    cpool_handler h = {.ctx = f, .on_full = on_full};
    cpool *c = cpool_new(&o, &h, err, sizeof err);
    if (!c) fail_msg("cpool_new: %s", err);
    pcons_limits lim = {.rows = 1000000, .end_offset = -1};
    pcons *many[MANY], *t[NPART];
    for (int32_t k = 0; k < MANY; k++) {
        many[k] = pcons_new(&f->pt, k);
        pcons_start_segment(many[k], 0, "t__0__0__20240101T0000Z", 0, 0, &lim);
        assert_int_equal(cpool_add(c, "many", many[k]), 0);
    }
    for (int32_t k = 0; k < MANY; k += 7) { /* some leave before anything is consumed */
        cpool_remove(c, many[k]);
        pcons_free(many[k]);
        many[k] = NULL;
    }
    for (int32_t p = 0; p < NPART; p++) {
        t[p] = pcons_new(&f->pt, p);
        pcons_start_segment(t[p], 0, "t__0__0__20240101T0000Z", 0, 0, &lim);
        assert_int_equal(cpool_add(c, "t", t[p]), 0);
    }
    bool all = false;
    for (int tries = 0; tries < 300 && !all; tries++) {
        all = true;
        for (int32_t k = 0; k < MANY && all; k++)
            all = !many[k] || pcons_next_offset(many[k]) == k % 3 + 1;
        for (int32_t p = 0; p < NPART && all; p++)
            all = pcons_next_offset(t[p]) == 5 + p;
        if (!all) usleep(20000);
    }
    for (int32_t k = 0; k < MANY; k++)
        if (many[k] && pcons_next_offset(many[k]) != k % 3 + 1)
            fail_msg("many/%d: next offset %lld, want %d", (int)k,
                     (long long)pcons_next_offset(many[k]), k % 3 + 1);
    for (int32_t p = 0; p < NPART; p++)
        assert_int_equal(pcons_next_offset(t[p]), 5 + p);
    for (int32_t k = 0; k < MANY; k++)
        if (many[k]) cpool_remove(c, many[k]);
    for (int32_t p = 0; p < NPART; p++)
        cpool_remove(c, t[p]);
    cpool_free(c);
    for (int32_t k = 0; k < MANY; k++)
        pcons_free(many[k]);
    for (int32_t p = 0; p < NPART; p++)
        pcons_free(t[p]);
}

int main(void)
{
    sl_log_threshold = SL_LOG_ERROR;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_call_in_group_mode_runs_on_the_owner, setup, teardown),
        cmocka_unit_test_setup_teardown(test_call_lowlevel_unknown_partition, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batched_offsets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_routing_many_partitions, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
