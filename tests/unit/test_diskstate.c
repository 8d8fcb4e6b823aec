/* Disk state: enters FULL/FAILING on a failure (keeping "since"), clears on the next success,
 * and shows in the health JSON and the metrics. */
#include "common/diskstate.h"
#include "common/jsonw.h"
#include "common/metrics.h"
#include "common/sl_err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static char *json_of(diskstate *d, bool *bad)
{
    jsonw w;
    jsonw_init(&w);
    *bad = diskstate_json(d, &w);
    return w.buf; /* caller frees */
}

static void test_states_and_json(void **s)
{
    (void)s;
    metrics_registry *m = metrics_new();
    diskstate *d = diskstate_new(m);
    bool bad = true;
    char *j = json_of(d, &bad);
    assert_false(bad);
    assert_string_equal(j, "{\"state\":\"ok\"}");
    free(j);

    diskstate_fail(d, "build", "t__0__0__20240501T1000Z", SL_ENOSPACE,
                   "/d/t/x.seg.tmp.1: write: No space left on device", 1714557600123);
    diskstate_fail(d, "build", NULL, SL_ENOSPACE, "again", 1714557601000);
    assert_int_equal(diskstate_get(d), DISKSTATE_FULL);
    j = json_of(d, &bad);
    assert_true(bad);
    assert_non_null(strstr(j, "\"state\":\"full\""));
    assert_non_null(strstr(j, "\"since\":\"2024-05-01T10:00:00.123Z\"")); /* the first failure */
    assert_non_null(strstr(j, "\"sinceMs\":1714557600123"));
    assert_non_null(strstr(j, "\"errors\":2"));
    assert_non_null(strstr(j, "\"lastError\":\"again\""));
    free(j);
    char *text = metrics_render(m, NULL);
    assert_non_null(strstr(text, "sluice_disk_errors_total{op=\"build\",kind=\"enospc\"} 2"));
    assert_non_null(strstr(text, "sluice_disk_full 1"));
    free(text);

    diskstate_fail(d, "download", "seg", SL_EDISK, "Input/output error", 1714557602000);
    assert_int_equal(diskstate_get(d), DISKSTATE_FAILING);
    text = metrics_render(m, NULL);
    assert_non_null(strstr(text, "sluice_disk_errors_total{op=\"download\",kind=\"eio\"} 1"));
    assert_non_null(strstr(text, "sluice_disk_full 0"));
    free(text);

    diskstate_ok(d, "build", 1714557603000);
    assert_int_equal(diskstate_get(d), DISKSTATE_OK);
    j = json_of(d, &bad);
    assert_false(bad);
    assert_string_equal(j, "{\"state\":\"ok\"}");
    free(j);
    text = metrics_render(m, NULL);
    assert_non_null(strstr(text, "sluice_disk_full 0"));
    assert_non_null(strstr(text, "sluice_disk_errors_total{op=\"build\",kind=\"enospc\"} 2"));
    free(text);

    /* a new condition starts a new "since" */
    diskstate_fail(d, "upload", NULL, SL_EIO, NULL, 1714557700000);
    j = json_of(d, &bad);
    assert_non_null(strstr(j, "\"state\":\"failing\""));
    assert_non_null(strstr(j, "\"sinceMs\":1714557700000"));
    assert_non_null(strstr(j, "\"errors\":1"));
    assert_non_null(strstr(j, sluice_strerror(SL_EIO)));
    free(j);
    assert_string_equal(diskstate_kind(SL_EIO), "other");
    diskstate_free(d);
    metrics_free(m);
}

static void test_null_is_ok(void **s)
{
    (void)s;
    diskstate_fail(NULL, "build", NULL, SL_ENOSPACE, NULL, 1);
    diskstate_ok(NULL, "build", 2);
    assert_int_equal(diskstate_get(NULL), DISKSTATE_OK);
    bool bad = true;
    char *j = json_of(NULL, &bad);
    assert_false(bad);
    assert_string_equal(j, "{\"state\":\"ok\"}");
    free(j);
    diskstate *d = diskstate_new(NULL); /* no metrics */
    diskstate_fail(d, "build", NULL, SL_ENOSPACE, NULL, 1);
    assert_int_equal(diskstate_get(d), DISKSTATE_FULL);
    diskstate_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_states_and_json),
        cmocka_unit_test(test_null_is_ok),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
