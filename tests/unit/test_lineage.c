/* Segment lineage: the JSON codec, the start rules, the one transition, pruning. */
#include "completion/lineage.h"
#include "common/sl_err.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define ID1 "0123456789abcdef0123456789abcdef"
#define ID2 "fedcba9876543210fedcba9876543210"
#define ID3 "00000000000000000000000000000003"

static void free_names(char **n, size_t k)
{
    for (size_t i = 0; i < k; i++)
        free(n[i]);
    free(n);
}

static void test_empty_and_roundtrip(void **s)
{
    (void)s;
    lineage l;
    char err[256];
    assert_int_equal(lineage_parse("{}", 2, &l, err, sizeof err), 0); /* a new table's node */
    assert_int_equal(l.n, 0);
    const char *from[] = {"a", "b"}, *to[] = {"c"};
    char **cl = NULL;
    size_t ncl = 0;
    assert_int_equal(
        lineage_start(&l, ID1, from, 2, to, 1, false, 1000, &cl, &ncl, err, sizeof err), 0);
    assert_int_equal(ncl, 0);
    size_t len;
    char *j = lineage_to_json(&l, &len);
    assert_string_equal(
        j, "{\"lineageEntries\":{\"" ID1 "\":{\"state\":\"IN_PROGRESS\","
           "\"segmentsFrom\":[\"a\",\"b\"],\"segmentsTo\":[\"c\"],\"timestamp\":1000}}}");
    lineage back;
    assert_int_equal(lineage_parse(j, len, &back, err, sizeof err), 0);
    size_t len2;
    char *j2 = lineage_to_json(&back, &len2);
    assert_string_equal(j, j2); /* the same lineage, the same bytes */
    assert_non_null(lineage_pending_to(&back, "c"));
    assert_null(lineage_pending_to(&back, "a"));
    free(j);
    free(j2);
    lineage_free(&l);
    lineage_free(&back);
}

static void test_corrupt(void **s)
{
    (void)s;
    static const char *const bad[] = {
        "not json",
        "[]",
        "{\"lineageEntries\":[]}",
        "{\"lineageEntries\":{\"short\":{\"state\":\"COMPLETED\",\"segmentsFrom\":[],"
        "\"segmentsTo\":[],\"timestamp\":1}}}",
        "{\"lineageEntries\":{\"" ID1
        "\":{\"state\":\"DONE\",\"segmentsFrom\":[],\"segmentsTo\":[],\"timestamp\":1}}}",
        "{\"lineageEntries\":{\"" ID1 "\":{\"state\":\"COMPLETED\",\"segmentsFrom\":[\"../"
                                      "x\"],\"segmentsTo\":[],\"timestamp\":1}}}",
        "{\"lineageEntries\":{\"" ID1
        "\":{\"state\":\"COMPLETED\",\"segmentsFrom\":[1],\"segmentsTo\":[],\"timestamp\":1}}}",
        "{\"lineageEntries\":{\"" ID1
        "\":{\"state\":\"COMPLETED\",\"segmentsFrom\":[],\"timestamp\":1}}}",
        "{\"lineageEntries\":{\"" ID1
        "\":{\"state\":\"COMPLETED\",\"segmentsFrom\":[],\"segmentsTo\":[],\"timestamp\":\"x\"}}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lineage l;
        char err[256] = "";
        assert_int_equal(lineage_parse(bad[i], strlen(bad[i]), &l, err, sizeof err), SL_ECORRUPT);
        assert_true(strlen(err) > 0);
        assert_int_equal(l.n, 0);
    }
}

static void test_start_rules(void **s)
{
    (void)s;
    lineage l = {0};
    char err[256], **cl = NULL;
    size_t ncl = 0;
    const char *from[] = {"a", "b"}, *to[] = {"c", "d"};
    assert_int_equal(lineage_start(&l, ID1, from, 2, to, 2, false, 1, &cl, &ncl, err, sizeof err),
                     0);
    /* a name on both sides, or twice on one */
    const char *dup[] = {"x", "x"}, *x[] = {"x"}, *y[] = {"y"};
    assert_int_equal(lineage_start(&l, ID2, dup, 2, y, 1, false, 2, &cl, &ncl, err, sizeof err),
                     SL_ECONFLICT);
    assert_int_equal(lineage_start(&l, ID2, x, 1, x, 1, false, 2, &cl, &ncl, err, sizeof err),
                     SL_ECONFLICT);
    /* overlapping an IN_PROGRESS entry on either side, without forceCleanup */
    const char *fa[] = {"a"}, *td[] = {"d"};
    assert_int_equal(lineage_start(&l, ID2, fa, 1, y, 1, false, 2, &cl, &ncl, err, sizeof err),
                     SL_ECONFLICT);
    assert_non_null(strstr(err, ID1));
    assert_int_equal(lineage_start(&l, ID2, x, 1, td, 1, false, 2, &cl, &ncl, err, sizeof err),
                     SL_ECONFLICT);
    assert_int_equal(l.n, 1); /* nothing changed */
    /* disjoint: fine */
    assert_int_equal(lineage_start(&l, ID2, x, 1, y, 1, false, 2, &cl, &ncl, err, sizeof err), 0);
    assert_int_equal(l.n, 2);
    lineage_free(&l);
}

static void test_force_cleanup(void **s)
{
    (void)s;
    lineage l = {0};
    char err[256], **cl = NULL;
    size_t ncl = 0;
    const char *from[] = {"a", "b"}, *to[] = {"c", "d"};
    assert_int_equal(lineage_start(&l, ID1, from, 2, to, 2, false, 1, &cl, &ncl, err, sizeof err),
                     0);
    /* the retry of a failed backfill reuses d and adds e: c is cleaned, d kept */
    const char *to2[] = {"d", "e"};
    assert_int_equal(lineage_start(&l, ID2, from, 2, to2, 2, true, 5, &cl, &ncl, err, sizeof err),
                     0);
    assert_int_equal(ncl, 1);
    assert_string_equal(cl[0], "c");
    lineage_entry *old = lineage_find(&l, ID1);
    assert_int_equal(old->state, LINEAGE_REVERTED);
    assert_int_equal(old->nto, 1);
    assert_string_equal(old->to[0], "c");
    assert_int_equal(old->timestamp_ms, 5);
    assert_int_equal(lineage_find(&l, ID2)->state, LINEAGE_IN_PROGRESS);
    assert_ptr_equal(lineage_pending_to(&l, "d"), lineage_find(&l, ID2));
    assert_null(lineage_pending_to(&l, "c"));
    /* c was dropped by the revert: never served; d is reused by the retry: not "reverted" */
    assert_ptr_equal(lineage_reverted_to(&l, "c"), lineage_find(&l, ID1));
    assert_null(lineage_reverted_to(&l, "d"));
    assert_null(lineage_reverted_to(&l, "a"));
    free_names(cl, ncl);
    lineage_free(&l);
}

static void test_moves(void **s)
{
    (void)s;
    lineage l = {0};
    char err[256], **cl = NULL;
    size_t ncl = 0;
    const char *from[] = {"a"}, *to[] = {"b"};
    assert_int_equal(lineage_start(&l, ID1, from, 1, to, 1, false, 1, &cl, &ncl, err, sizeof err),
                     0);
    lineage_entry *e = lineage_find(&l, ID1);
    assert_int_equal(lineage_move(e, LINEAGE_IN_PROGRESS, 2), SL_ESTATE);
    assert_int_equal(lineage_move(e, LINEAGE_COMPLETED, 3), 0);
    assert_int_equal(e->timestamp_ms, 3);
    assert_int_equal(lineage_move(e, LINEAGE_REVERTED, 4), SL_ESTATE); /* finished is final */
    assert_int_equal(lineage_move(e, LINEAGE_COMPLETED, 4), SL_ESTATE);
    assert_int_equal(e->state, LINEAGE_COMPLETED);
    assert_string_equal(lineage_state_name(e->state), "COMPLETED");
    assert_string_equal(lineage_state_name((lineage_state)99), "?");
    /* a completed entry no longer blocks a start on its names */
    assert_int_equal(lineage_start(&l, ID2, to, 1, from, 1, false, 5, &cl, &ncl, err, sizeof err),
                     0);
    lineage_free(&l);
}

static void test_prune_and_limits(void **s)
{
    (void)s;
    lineage l = {0};
    char err[256], **cl = NULL, id[LINEAGE_ID_LEN + 1], name[32], name2[32];
    size_t ncl = 0;
    for (int i = 0; i < LINEAGE_KEEP_FINISHED + 5; i++) {
        snprintf(id, sizeof id, "%032x", i);
        snprintf(name, sizeof name, "f%d", i);
        snprintf(name2, sizeof name2, "t%d", i);
        const char *f[] = {name}, *t[] = {name2};
        assert_int_equal(lineage_start(&l, id, f, 1, t, 1, false, i, &cl, &ncl, err, sizeof err),
                         0);
        if (i) assert_int_equal(lineage_move(&l.e[l.n - 1], LINEAGE_COMPLETED, i), 0);
    }
    lineage_prune(&l);
    /* entry 0 is IN_PROGRESS and stays; the oldest finished ones go */
    assert_int_equal(l.n, LINEAGE_KEEP_FINISHED + 1);
    assert_string_equal(l.e[0].id, "00000000000000000000000000000000");
    assert_string_equal(l.e[1].id, "00000000000000000000000000000005");
    lineage_free(&l);
    /* more than LINEAGE_MAX_SEGMENTS on a side */
    const char **many = calloc(LINEAGE_MAX_SEGMENTS + 1, sizeof *many);
    for (int i = 0; i <= LINEAGE_MAX_SEGMENTS; i++)
        many[i] = "m";
    const char *t[] = {"t"};
    assert_int_equal(lineage_start(&l, ID3, many, LINEAGE_MAX_SEGMENTS + 1, t, 1, false, 1, &cl,
                                   &ncl, err, sizeof err),
                     SL_ELIMIT);
    free(many);
    lineage_free(&l);
    /* by bytes: 1000 names of 250 bytes on each side do not fit; finished entries are pruned
     * by size, the IN_PROGRESS ones never */
    char **big = calloc(2 * LINEAGE_MAX_SEGMENTS, sizeof *big);
    for (int i = 0; i < 2 * LINEAGE_MAX_SEGMENTS; i++) {
        big[i] = malloc(251);
        memset(big[i], 'a' + i % 26, 240);
        snprintf(big[i] + 240, 11, "%010d", i);
    }
    assert_int_equal(lineage_start(&l, ID3, (const char *const *)big, LINEAGE_MAX_SEGMENTS,
                                   (const char *const *)big + LINEAGE_MAX_SEGMENTS,
                                   LINEAGE_MAX_SEGMENTS, false, 1, &cl, &ncl, err, sizeof err),
                     SL_ELIMIT);
    assert_non_null(strstr(err, "bytes of lineage"));
    lineage_free(&l);
    for (int k = 0; k < 8; k++) { /* 8 finished entries of 300 names: ~600 KB before pruning */
        snprintf(id, sizeof id, "%032x", k);
        const char *to1[] = {id};
        assert_int_equal(lineage_start(&l, id, (const char *const *)big + k * 100, 300, to1, 1,
                                       false, k, &cl, &ncl, err, sizeof err),
                         0);
        assert_int_equal(lineage_move(&l.e[l.n - 1], LINEAGE_COMPLETED, k), 0);
        lineage_prune(&l);
        size_t bytes;
        free(lineage_to_json(&l, &bytes));
        assert_true(bytes <= LINEAGE_MAX_BYTES);
    }
    assert_true(l.n < 8);
    assert_string_equal(l.e[l.n - 1].id, "00000000000000000000000000000007"); /* newest kept */
    lineage_free(&l);
    for (int i = 0; i < 2 * LINEAGE_MAX_SEGMENTS; i++)
        free(big[i]);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_and_roundtrip),
        cmocka_unit_test(test_corrupt),
        cmocka_unit_test(test_start_rules),
        cmocka_unit_test(test_force_cleanup),
        cmocka_unit_test(test_moves),
        cmocka_unit_test(test_prune_and_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
