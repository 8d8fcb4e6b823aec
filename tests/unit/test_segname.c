/* Segment name grammar: format/parse round trip, every rejection, and which directory entries
 * are published segment files. */
#include "segment/segname.h"
#include "common/sl_err.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

static void test_round_trip(void **state)
{
    (void)state;
    char buf[SL_SEGNAME_MAX];
    /* 2023-11-14T22:13:20Z = 1700000000000 ms */
    assert_int_equal(segname_format(buf, sizeof buf, "events", 3, 17, 1700000000000LL), 0);
    assert_string_equal(buf, "events__3__17__20231114T2213Z");
    segname n;
    assert_int_equal(segname_parse(buf, &n), 0);
    assert_string_equal(n.table, "events");
    assert_int_equal(n.partition, 3);
    assert_int_equal(n.sequence, 17);
    assert_int_equal(n.time_ms, 1699999980000LL); /* truncated to the minute */
    assert_int_equal(segname_format(buf, sizeof buf, "my_table-1.v2", 0, 0, 0), 0);
    assert_int_equal(segname_parse(buf, &n), 0);
    assert_string_equal(n.table, "my_table-1.v2");
    assert_int_equal(segname_parse("t1__2147483647__9007199254740992__20240229T2359Z", &n), 0);
    assert_string_equal(n.table, "t1");
    assert_int_equal(n.partition, 2147483647);
}

static void test_rejections(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "events",
        "events__1__2",
        "events__1__2__20231114T2213",
        "events__01__2__20231114T2213Z",       /* leading zero */
        "events__1__02__20231114T2213Z",
        "events__-1__2__20231114T2213Z",
        "events__2147483648__2__20231114T2213Z", /* partition overflow */
        "events__1__2__20231314T2213Z",        /* month 13 */
        "events__1__2__20230229T2213Z",        /* not a leap year */
        "events__1__2__20231114T2460Z",
        "events__1__2__20231114X2213Z",
        "ev__ents__1__2__20231114T2213Z",      /* "__" inside the table */
        "_events__1__2__20231114T2213Z",
        "../x__1__2__20231114T2213Z",          /* traversal characters */
        "a/b__1__2__20231114T2213Z",
        "ev ents__1__2__20231114T2213Z",
        "__1__2__20231114T2213Z",
        "events__1____20231114T2213Z",
        "events__1__2__20231114T2213Z.seg",
    };
    segname n;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (segname_parse(bad[i], &n) != SL_EINVAL) fail_msg("accepted: %s", bad[i]);
    }
    char buf[SL_SEGNAME_MAX];
    assert_int_equal(segname_format(buf, sizeof buf, "a__b", 0, 0, 0), SL_EINVAL);
    assert_int_equal(segname_format(buf, sizeof buf, "t", -1, 0, 0), SL_EINVAL);
    assert_int_equal(segname_format(buf, sizeof buf, "t", 0, -1, 0), SL_EINVAL);
    assert_int_equal(segname_format(buf, 10, "table", 0, 0, 0), SL_EINVAL); /* too small */
    char longname[SL_IDENT_MAX + 2];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_false(segname_valid_table(longname));
    longname[SL_IDENT_MAX] = '\0';
    assert_true(segname_valid_table(longname));
}

static void test_of_file(void **state)
{
    (void)state;
    char name[SL_SEGNAME_MAX];
    segname n;
    assert_true(segname_of_file("ev__3__17__20231114T2213Z.seg", "ev", name, &n));
    assert_string_equal(name, "ev__3__17__20231114T2213Z");
    assert_int_equal(n.partition, 3);
    assert_int_equal(n.sequence, 17);
    /* another table, temporaries, other suffixes, bad names, the shortest and longest */
    assert_false(segname_of_file("ev__3__17__20231114T2213Z.seg", "ev2", name, &n));
    assert_false(segname_of_file("ev__3__17__20231114T2213Z.seg.build", "ev", name, &n));
    assert_false(segname_of_file("ev__3__17__20231114T2213Z.seg.download.4", "ev", name, &n));
    assert_false(segname_of_file("ev__3__17__20231114T2213Z", "ev", name, &n));
    assert_false(segname_of_file("ev__03__17__20231114T2213Z.seg", "ev", name, &n));
    assert_false(segname_of_file(".seg", "ev", name, &n));
    assert_false(segname_of_file("", "ev", name, &n));
    char big[SL_SEGNAME_MAX + 8];
    memset(big, 'a', sizeof big);
    memcpy(big + sizeof big - 5, ".seg", 5);
    assert_false(segname_of_file(big, "ev", name, &n)); /* longer than any name */
}

/* Uploaded (pushed) names: the whitelist at its edges (0, 1, 255, 256 bytes), never "." or
 * "..", and which of them are not completion's. */
static void test_uploaded_names(void **state)
{
    (void)state;
    char name[SL_SEGNAME_MAX + 8];
    assert_true(segname_valid_any("a"));
    assert_true(segname_valid_any("airlineStats_OFFLINE_16071_16071_0"));
    assert_true(segname_valid_any("x.y-z_1"));
    assert_true(segname_valid_any("ev__3__17__20231114T2213Z")); /* realtime names too */
    static const char *const bad[] = {"",    ".",    "..", ".hidden", "a/b",
                                      "a b", "a%2e", "ä",  "a\nb",    "a:b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(segname_valid_any(bad[i]));
    memset(name, 'a', 255);
    name[255] = '\0';
    assert_true(segname_valid_any(name)); /* the longest */
    name[255] = 'a';
    name[256] = '\0';
    assert_false(segname_valid_any(name));
    assert_true(segname_is_uploaded("billing_0"));
    assert_false(segname_is_uploaded("ev__3__17__20231114T2213Z"));
    assert_false(segname_is_uploaded("../x"));
    /* Pinot's uploaded-realtime grammar */
    segname n;
    assert_int_equal(segname_parse_uploaded_realtime("up__ev__3__20231114T2213Z__part-1", &n), 0);
    assert_string_equal(n.table, "ev");
    assert_int_equal(n.partition, 3);
    assert_int_equal(n.sequence, -1);
    assert_int_equal(n.time_ms, 1699999980000LL);
    static const char *const badrt[] = {
        "ev__3__17__20231114T2213Z",       /* a realtime name */
        "__ev__3__20231114T2213Z__s",      /* empty prefix */
        "up__ev__3__20231114T2213Z__",     /* empty suffix */
        "up__ev__03__20231114T2213Z__s",   /* leading zero */
        "up__ev__3__20231314T2213Z__s",    /* month 13 */
        "up__ev__3__20231114T2213Z__s__t", /* six parts */
        "up__e v__3__20231114T2213Z__s",   /* outside the whitelist */
        "billing_0",
    };
    for (size_t i = 0; i < sizeof badrt / sizeof badrt[0]; i++)
        assert_int_equal(segname_parse_uploaded_realtime(badrt[i], &n), SL_EINVAL);
    assert_true(segname_any_of_file("billing_0.seg", name));
    assert_string_equal(name, "billing_0");
    assert_false(segname_any_of_file("billing_0.seg.download.3", name));
    assert_false(segname_any_of_file(".seg", name));
    assert_false(segname_any_of_file("_push.seg.up.0123456789abcdef", name));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_of_file),
        cmocka_unit_test(test_uploaded_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
