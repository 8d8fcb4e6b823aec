/* Assignment JSON model and placement; segment metadata codec. */
#include "completion/assign.h"
#include "completion/segmeta.h"
#include "common/sl_err.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void test_plan_balanced_deterministic(void **s)
{
    (void)s;
    const char *live[] = {"s3", "s1", "s4", "s2"};
    assign a = {0};
    assert_int_equal(assign_plan(&a, live, 4, 8, 3), 0);
    int count[4] = {0};
    for (uint32_t p = 0; p < 8; p++) {
        assert_int_equal(a.part[p].n, 3);
        for (uint32_t i = 0; i < 3; i++)
            count[a.part[p].id[i][1] - '1']++;
        assert_string_not_equal(a.part[p].id[0], a.part[p].id[1]);
    }
    for (int i = 0; i < 4; i++)
        assert_int_equal(count[i], 6);          /* 8*3/4 */
    assert_string_equal(a.part[0].id[0], "s1"); /* sorted, not input order */
    assert_string_equal(a.part[1].id[0], "s2");
    assert_int_equal(assign_plan(&a, live, 2, 1, 3), SL_EINVAL); /* too few instances */
    assign_free(&a);
}

static void test_json_round_trip(void **s)
{
    (void)s;
    const char *live[] = {"a", "b"};
    assign a = {0};
    assert_int_equal(assign_plan(&a, live, 2, 2, 2), 0);
    assign_add(&a, "t__0__0__20240101T0000Z", &a.part[0], ASSIGN_ONLINE);
    assign_seg *sg = assign_add(&a, "t__0__1__20240101T0000Z", &a.part[0], ASSIGN_CONSUMING);
    sg->state[1] = ASSIGN_ERROR;
    size_t len;
    char *js = assign_to_json(&a, &len);
    assert_string_equal(js,
                        "{\"partitions\":{\"0\":[\"a\",\"b\"],\"1\":[\"b\",\"a\"]},\"segments\":"
                        "{\"t__0__0__20240101T0000Z\":{\"a\":\"ONLINE\",\"b\":\"ONLINE\"},"
                        "\"t__0__1__20240101T0000Z\":{\"a\":\"CONSUMING\",\"b\":\"ERROR\"}}}");
    assign b;
    char err[128];
    assert_int_equal(assign_parse(js, len, &b, err, sizeof err), 0);
    size_t len2;
    char *js2 = assign_to_json(&b, &len2);
    assert_string_equal(js, js2);
    assert_non_null(assign_find(&b, "t__0__1__20240101T0000Z"));
    assert_int_equal(assign_remove(&b, "t__0__0__20240101T0000Z"), 0);
    assert_int_equal(assign_remove(&b, "t__0__0__20240101T0000Z"), SL_ENOENT);
    assert_int_equal(b.nseg, 1);
    free(js);
    free(js2);
    assign_free(&a);
    assign_free(&b);
}

static void test_json_rejects(void **s)
{
    (void)s;
    static const char *const bad[] = {
        "",
        "[]",
        "{\"partitions\":{}}",
        "{\"partitions\":{\"x\":[]},\"segments\":{}}",
        "{\"partitions\":{\"0\":[1]},\"segments\":{}}",
        "{\"partitions\":{},\"segments\":{\"s\":{\"a\":\"BOGUS\"}}}",
        "{\"partitions\":{\"5\":[\"a\"]},\"segments\":{}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assign a;
        char err[128];
        if (assign_parse(bad[i], strlen(bad[i]), &a, err, sizeof err) != SL_ECORRUPT)
            fail_msg("accepted: %s", bad[i]);
    }
}

/* Force commit requests (DESIGN §9): kept through a parse, replaced per segment, gone with
 * the segment, written only when there is one; a malformed map is refused. */
static void test_force_commit_map(void **s)
{
    (void)s;
    const char *live[] = {"a"};
    assign a = {0};
    assert_int_equal(assign_plan(&a, live, 1, 1, 1), 0);
    assign_add(&a, "t__0__0__20240101T0000Z", &a.part[0], ASSIGN_CONSUMING);
    size_t len;
    char *js = assign_to_json(&a, &len);
    assert_null(strstr(js, "forceCommit"));
    free(js);
    assert_null(assign_force_job(&a, "t__0__0__20240101T0000Z"));
    assign_force_add(&a, "t__0__0__20240101T0000Z", "job1");
    assign_force_add(&a, "t__0__0__20240101T0000Z", "job2"); /* a later job replaces it */
    assert_int_equal(a.nforce, 1);
    js = assign_to_json(&a, &len);
    assert_non_null(strstr(js, "\"forceCommit\":{\"t__0__0__20240101T0000Z\":\"job2\"}"));
    assign b;
    char err[128];
    assert_int_equal(assign_parse(js, len, &b, err, sizeof err), 0);
    assert_string_equal(assign_force_job(&b, "t__0__0__20240101T0000Z"), "job2");
    assert_int_equal(assign_remove(&b, "t__0__0__20240101T0000Z"), 0);
    assert_null(assign_force_job(&b, "t__0__0__20240101T0000Z"));
    assign_force_add(&a, "t__0__1__20240101T0000Z", "job3");
    assign_force_remove(&a, "t__0__0__20240101T0000Z");
    assert_int_equal(a.nforce, 1);
    assert_string_equal(a.force[0].segment, "t__0__1__20240101T0000Z");
    free(js);
    assign_free(&a);
    assign_free(&b);
    static const char *const bad[] = {
        "{\"partitions\":{},\"segments\":{},\"forceCommit\":[]}",
        "{\"partitions\":{},\"segments\":{},\"forceCommit\":{\"s\":1}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assign x;
        if (assign_parse(bad[i], strlen(bad[i]), &x, err, sizeof err) != SL_ECORRUPT)
            fail_msg("accepted: %s", bad[i]);
    }
}

/* pausedSinceMs and bootstrapSinceMs: written only when set, read back, bad values refused */
static void test_paused_and_bootstrap_marks(void **s)
{
    (void)s;
    const char *live[] = {"a"};
    assign a = {0}, b;
    char err[128];
    size_t len;
    assert_int_equal(assign_plan(&a, live, 1, 1, 1), 0);
    char *js = assign_to_json(&a, &len);
    assert_null(strstr(js, "pausedSinceMs"));
    assert_null(strstr(js, "bootstrapSinceMs"));
    free(js);
    a.paused_ms = 1700000000000;
    a.bootstrap_ms = 1700000000123;
    js = assign_to_json(&a, &len);
    assert_int_equal(assign_parse(js, len, &b, err, sizeof err), 0);
    assert_int_equal(b.paused_ms, 1700000000000);
    assert_int_equal(b.bootstrap_ms, 1700000000123);
    free(js);
    assign_free(&a);
    assign_free(&b);
    static const char *const bad[] = {
        "{\"partitions\":{},\"segments\":{},\"bootstrapSinceMs\":0}",
        "{\"partitions\":{},\"segments\":{},\"bootstrapSinceMs\":\"1\"}",
        "{\"partitions\":{},\"segments\":{},\"pausedSinceMs\":-5}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assign x;
        if (assign_parse(bad[i], strlen(bad[i]), &x, err, sizeof err) != SL_ECORRUPT)
            fail_msg("accepted: %s", bad[i]);
    }
}

static void test_segmeta_round_trip_and_validation(void **s)
{
    (void)s;
    segmeta m = {.partition = 3,
                 .sequence = 7,
                 .status = SEGMETA_DONE,
                 .start_offset = 10,
                 .end_offset = 20,
                 .num_rows = 9,
                 .crc = 0xdeadbeef,
                 .creation_time_ms = 5,
                 .flush_rows = 100,
                 .rows_per_byte = 0.25};
    strcpy(m.segment, "ev__3__7__20240101T0000Z");
    strcpy(m.table, "ev");
    strcpy(m.download_url, "http://c/segments/ev/ev__3__7__20240101T0000Z");
    strcpy(m.committer, "s1");
    uint8_t *buf;
    size_t len;
    assert_int_equal(segmeta_encode(&m, &buf, &len), 0);
    segmeta d;
    char err[128];
    assert_int_equal(segmeta_decode(buf, len, &d, err, sizeof err), 0);
    assert_memory_equal(&m, &d, sizeof m);
    free(buf);
    /* the name must agree with the fields */
    m.partition = 4;
    segmeta_encode(&m, &buf, &len);
    assert_int_equal(segmeta_decode(buf, len, &d, err, sizeof err), SL_ECORRUPT);
    free(buf);
    m.partition = 3;
    m.end_offset = 5; /* DONE must end at or after its start */
    segmeta_encode(&m, &buf, &len);
    assert_int_equal(segmeta_decode(buf, len, &d, err, sizeof err), SL_ECORRUPT);
    free(buf);
    assert_int_equal(segmeta_decode((const uint8_t *)"\xff\xff\xff", 3, &d, err, sizeof err),
                     SL_ECORRUPT);
    jsonw w;
    jsonw_init(&w);
    m.status = SEGMETA_IN_PROGRESS;
    segmeta_json_open(&m, &w);
    jsonw_obj_end(&w);
    assert_non_null(strstr(w.buf,
                           "\"status\":\"IN_PROGRESS\",\"startOffset\":10,\"endOffset\":null,"
                           "\"numRows\":null,\"crc\":null"));
    jsonw_free(&w);
    /* pauseless: COMMITTING has its end offset, no rows, CRC or URL yet; its commit version
     * round-trips */
    m.status = SEGMETA_COMMITTING;
    m.end_offset = 20;
    m.num_rows = -1;
    m.commit_version = 3;
    assert_false(segmeta_committed(&m));
    assert_int_equal(segmeta_encode(&m, &buf, &len), 0);
    assert_int_equal(segmeta_decode(buf, len, &d, err, sizeof err), 0);
    assert_int_equal(d.status, SEGMETA_COMMITTING);
    assert_int_equal(d.commit_version, 3);
    free(buf);
    jsonw_init(&w);
    segmeta_json_open(&m, &w);
    jsonw_obj_end(&w);
    assert_non_null(strstr(w.buf, "\"status\":\"COMMITTING\",\"startOffset\":10,\"endOffset\":20,"
                                  "\"numRows\":null,\"crc\":null,\"downloadUrl\":null"));
    jsonw_free(&w);
    m.end_offset = 5; /* COMMITTING must end at or after its start too */
    segmeta_encode(&m, &buf, &len);
    assert_int_equal(segmeta_decode(buf, len, &d, err, sizeof err), SL_ECORRUPT);
    free(buf);
    m.status = (segmeta_status)5; /* unknown */
    m.end_offset = 20;
    segmeta_encode(&m, &buf, &len);
    assert_int_equal(segmeta_decode(buf, len, &d, err, sizeof err), SL_ECORRUPT);
    free(buf);
}

/* Pushed segments: each goes to the least-loaded live instances, ties to the smaller id, the
 * same for the same input; never twice on one instance; as many as there are. */
/* A dimension table's segment is on every live sidecar, past SL_MAX_REPLICATION: the host
 * lists grow, survive JSON, copy deeply, and a hostile list past ASSIGN_MAX_HOSTS is refused. */
static void test_many_hosts(void **s)
{
    (void)s;
    enum { N = 100 };
    char names[N][16];
    const char *live[N];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "s%03d", i);
        live[i] = names[i];
    }
    static const assign_list none;
    assign a = {0};
    assign_add(&a, "dim_0", &none, ASSIGN_ONLINE);
    assert_int_equal(assign_fill(&a, 0, live, N, N, ASSIGN_ONLINE), N);
    assign_add(&a, "dim_1", &none, ASSIGN_ONLINE); /* may move a->seg: pointers are re-found */
    assert_int_equal(assign_fill(&a, 1, live, N, N, ASSIGN_OFFLINE), N);
    assert_int_equal(assign_find(&a, "dim_0")->inst.n, N);
    size_t len;
    char *j = assign_to_json(&a, &len);
    assign b;
    char err[256];
    assert_int_equal(assign_parse(j, len, &b, err, sizeof err), 0);
    assign_seg *d1 = assign_find(&b, "dim_1");
    assert_non_null(d1);
    assert_int_equal(d1->inst.n, N);
    assert_int_equal(d1->state[N - 1], ASSIGN_OFFLINE);
    size_t len2;
    char *j2 = assign_to_json(&b, &len2);
    assert_string_equal(j, j2);
    /* a partition-sized copy holds the first SL_MAX_REPLICATION, by value */
    assign_list l;
    assign_seg_list(d1, &l);
    assert_int_equal(l.n, SL_MAX_REPLICATION);
    assert_int_equal(assign_remove(&b, "dim_0"), 0);
    assert_int_equal(assign_find(&b, "dim_1")->inst.n, N);
    assign_free(&b); /* l stays valid: it is a copy */
    assert_string_equal(l.id[0], assign_find(&a, "dim_1")->inst.id[0]);
    free(j);
    free(j2);
    assign_free(&a);
    /* one more than ASSIGN_MAX_HOSTS on one segment is refused */
    size_t cap = 64 + (size_t)(ASSIGN_MAX_HOSTS + 1) * 24;
    char *big = malloc(cap);
    size_t o = (size_t)snprintf(big, cap, "{\"partitions\":{},\"segments\":{\"d\":{");
    for (int i = 0; i <= ASSIGN_MAX_HOSTS; i++)
        o += (size_t)snprintf(big + o, cap - o, "%s\"h%d\":\"ONLINE\"", i ? "," : "", i);
    o += (size_t)snprintf(big + o, cap - o, "}}}");
    assert_int_equal(assign_parse(big, o, &b, err, sizeof err), SL_ECORRUPT);
    free(big);
}

static void test_fill_balanced(void **s)
{
    (void)s;
    const char *live[] = {"s3", "s1", "s2"};
    static const assign_list none;
    assign a = {0};
    for (int i = 0; i < 6; i++) {
        char name[16];
        snprintf(name, sizeof name, "seg_%d", i);
        assign_add(&a, name, &none, ASSIGN_ONLINE);
        assert_int_equal(assign_fill(&a, a.nseg - 1, live, 3, 2, ASSIGN_ONLINE), 2);
        assert_string_not_equal(a.seg[i].inst.id[0], a.seg[i].inst.id[1]);
        assert_int_equal(a.seg[i].state[1], ASSIGN_ONLINE);
    }
    int count[3] = {0};
    for (size_t i = 0; i < a.nseg; i++)
        for (uint32_t k = 0; k < a.seg[i].inst.n; k++)
            count[a.seg[i].inst.id[k][1] - '1']++;
    for (int i = 0; i < 3; i++)
        assert_int_equal(count[i], 4); /* 6 x 2 / 3 */
    assert_string_equal(a.seg[0].inst.id[0], "s1");
    assert_string_equal(a.seg[0].inst.id[1], "s2");
    assert_string_equal(a.seg[1].inst.id[0], "s3"); /* the least loaded first */
    /* topping up: only what is missing, only instances it is not on */
    assert_int_equal(assign_fill(&a, 0, live, 3, 2, ASSIGN_ONLINE), 0);
    assert_int_equal(assign_fill(&a, 0, live, 3, 5, ASSIGN_ONLINE), 1); /* 3 live: at most 3 */
    assert_int_equal(a.seg[0].inst.n, 3);
    assert_int_equal(assign_fill(&a, 1, live, 0, 3, ASSIGN_ONLINE), 0); /* nobody live */
    size_t l1, l2;
    char *j1 = assign_to_json(&a, &l1);
    assign b = {0};
    for (int i = 0; i < 6; i++) { /* the same input, another order of live: the same result */
        const char *live2[] = {"s2", "s3", "s1"};
        char name[16];
        snprintf(name, sizeof name, "seg_%d", i);
        assign_add(&b, name, &none, ASSIGN_ONLINE);
        assign_fill(&b, b.nseg - 1, live2, 3, 2, ASSIGN_ONLINE);
    }
    assign_fill(&b, 0, live, 3, 5, ASSIGN_ONLINE);
    char *j2 = assign_to_json(&b, &l2);
    assert_string_equal(j1, j2);
    free(j1);
    free(j2);
    assign_free(&a);
    assign_free(&b);
}

/* A pushed segment's record: no chain position; anything else of a consumed segment's is
 * refused; the listing prints nulls. */
static void test_segmeta_uploaded(void **s)
{
    (void)s;
    segmeta m = {.partition = -1,
                 .sequence = -1,
                 .status = SEGMETA_UPLOADED,
                 .start_offset = -1,
                 .end_offset = -1,
                 .num_rows = 694,
                 .crc = 7,
                 .has_time_range = true,
                 .min_time = 16071,
                 .max_time = 16072};
    strcpy(m.segment, "billing_0");
    strcpy(m.table, "billing_OFFLINE");
    uint8_t *buf;
    size_t len;
    segmeta d;
    char err[128];
    assert_int_equal(segmeta_encode(&m, &buf, &len), 0);
    assert_int_equal(segmeta_decode(buf, len, &d, err, sizeof err), 0);
    assert_memory_equal(&m, &d, sizeof m);
    free(buf);
    jsonw w;
    jsonw_init(&w);
    segmeta_json_full(&m, &w);
    assert_non_null(strstr(w.buf, "\"partition\":null,\"sequence\":null,\"status\":\"UPLOADED\","
                                  "\"startOffset\":null,\"endOffset\":null,\"numRows\":694"));
    assert_non_null(strstr(w.buf, "\"minTime\":16071,\"maxTime\":16072"));
    jsonw_free(&w);
    segmeta bad[4];
    for (int i = 0; i < 4; i++)
        bad[i] = m;
    bad[0].status = SEGMETA_DONE;
    bad[1].start_offset = 0;
    bad[2].partition = 0; /* an OFFLINE name has no partition */
    bad[3].num_rows = -1;
    for (int i = 0; i < 4; i++) {
        segmeta_encode(&bad[i], &buf, &len);
        assert_int_equal(segmeta_decode(buf, len, &d, err, sizeof err), SL_ECORRUPT);
        free(buf);
    }
    /* uploaded-realtime: the name's partition and table */
    strcpy(m.segment, "up__ev__2__20240101T0000Z__x");
    strcpy(m.table, "ev");
    m.partition = 2;
    segmeta_encode(&m, &buf, &len);
    assert_int_equal(segmeta_decode(buf, len, &d, err, sizeof err), 0);
    free(buf);
    strcpy(m.table, "other");
    segmeta_encode(&m, &buf, &len);
    assert_int_equal(segmeta_decode(buf, len, &d, err, sizeof err), SL_ECORRUPT);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_balanced_deterministic),
        cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_json_rejects),
        cmocka_unit_test(test_force_commit_map),
        cmocka_unit_test(test_paused_and_bootstrap_marks),
        cmocka_unit_test(test_segmeta_round_trip_and_validation),
        cmocka_unit_test(test_fill_balanced),
        cmocka_unit_test(test_many_hosts),
        cmocka_unit_test(test_segmeta_uploaded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
