/* Cluster store, pure parts: every node's path (docs/zookeeper.md is the reference), the
 * encoding `sluice zk dump` picks for a relative path, cluster names, and paths that do not
 * fit ZK_PATH_MAX (refused, never truncated). */
#include "completion/cluster_store.h"
#include "common/sl_err.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void expect_path(const cstore *s, cstore_node node, const char *table, const char *name,
                        const char *want)
{
    char buf[ZK_PATH_MAX];
    assert_int_equal(cstore_path(s, node, table, name, buf, sizeof buf), 0);
    assert_string_equal(buf, want);
}

static void test_paths(void **state)
{
    (void)state;
    cstore *s = cstore_new("c1");
    assert_non_null(s);
    assert_string_equal(cstore_root(s), "/sluice/c1");
    expect_path(s, CSTORE_ROOT, NULL, NULL, "/sluice/c1");
    expect_path(s, CSTORE_CONTROLLERS, NULL, NULL, "/sluice/c1/controllers");
    expect_path(s, CSTORE_INSTANCES, NULL, NULL, "/sluice/c1/instances");
    expect_path(s, CSTORE_INSTANCE, NULL, "sidecar-1", "/sluice/c1/instances/sidecar-1");
    expect_path(s, CSTORE_TABLES, NULL, NULL, "/sluice/c1/tables");
    expect_path(s, CSTORE_TABLE, "events", NULL, "/sluice/c1/tables/events");
    expect_path(s, CSTORE_CONFIG, "events", NULL, "/sluice/c1/tables/events/config");
    expect_path(s, CSTORE_SCHEMA, "events", NULL, "/sluice/c1/tables/events/schema");
    expect_path(s, CSTORE_SEGMENTS, "events", NULL, "/sluice/c1/tables/events/segments");
    expect_path(s, CSTORE_SEGMENT, "events", "events__0__1__20240101T0003Z",
                "/sluice/c1/tables/events/segments/events__0__1__20240101T0003Z");
    expect_path(s, CSTORE_ASSIGNMENT, "events", NULL, "/sluice/c1/tables/events/assignment");
    expect_path(s, CSTORE_REPLICAS, "events", NULL, "/sluice/c1/tables/events/replicas");
    expect_path(s, CSTORE_REPLICA, "events", "sidecar-2",
                "/sluice/c1/tables/events/replicas/sidecar-2");
    expect_path(s, CSTORE_LINEAGE, "events", NULL, "/sluice/c1/tables/events/lineage");
    cstore_free(s);
}

static void test_refusals(void **state)
{
    (void)state;
    cstore *s = cstore_new("c1");
    char buf[ZK_PATH_MAX];
    /* a missing argument is refused, not printed as "(null)" or "" */
    assert_int_equal(cstore_path(s, CSTORE_TABLE, NULL, NULL, buf, sizeof buf), SL_EINVAL);
    assert_int_equal(cstore_path(s, CSTORE_SEGMENT, "t", NULL, buf, sizeof buf), SL_EINVAL);
    assert_int_equal(cstore_path(s, CSTORE_INSTANCE, NULL, NULL, buf, sizeof buf), SL_EINVAL);
    assert_int_equal(cstore_path(s, (cstore_node)99, "t", "n", buf, sizeof buf), SL_EINVAL);
    /* too long: refused whole */
    char small[16];
    assert_int_equal(cstore_path(s, CSTORE_TABLES, NULL, NULL, small, sizeof small), SL_ELIMIT);
    char *big = malloc(ZK_PATH_MAX + 1);
    assert_non_null(big);
    memset(big, 'a', ZK_PATH_MAX);
    big[ZK_PATH_MAX] = '\0';
    assert_int_equal(cstore_path(s, CSTORE_TABLE, big, NULL, buf, sizeof buf), SL_ELIMIT);
    assert_null(cstore_new(big));
    cstore_free(s);
    free(big);
}

static void test_encodings(void **state)
{
    (void)state;
    assert_int_equal(cstore_encoding_of("controllers/n_0000000001"), CSTORE_ENC_ELECTION);
    assert_int_equal(cstore_encoding_of("controllers"), CSTORE_ENC_JSON);
    assert_int_equal(cstore_encoding_of("tables/t/segments/t__0__0__20240101T0000Z"),
                     CSTORE_ENC_SEGMETA);
    assert_int_equal(cstore_encoding_of("tables/t/segments"), CSTORE_ENC_JSON);
    assert_int_equal(cstore_encoding_of("tables/t/assignment"), CSTORE_ENC_JSON);
    assert_int_equal(cstore_encoding_of("tables/t/replicas/s1"), CSTORE_ENC_JSON);
    assert_int_equal(cstore_encoding_of("instances/s1"), CSTORE_ENC_JSON);
    assert_int_equal(cstore_encoding_of("tables/t/segments/x/y"), CSTORE_ENC_JSON);
}

static void test_cluster_names(void **state)
{
    (void)state;
    assert_true(cstore_cluster_name_ok("prod-1"));
    assert_false(cstore_cluster_name_ok(""));
    assert_false(cstore_cluster_name_ok(NULL));
    assert_false(cstore_cluster_name_ok("a/b"));
    assert_false(cstore_cluster_name_ok("."));
    assert_false(cstore_cluster_name_ok(".."));
    assert_true(cstore_cluster_name_ok("..."));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_encodings),
        cmocka_unit_test(test_cluster_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
