/* The WebHDFS deep store's URIs: what is accepted, and the REST calls they become (the
 * transfers themselves run against the WebHDFS test responder: integration.test_deepstore). */
#include "completion/deepstore.h"
#include "completion/segfetch.h"
#include "common/sl_err.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

static void test_rest_urls(void **s)
{
    (void)s;
    char out[512];
    assert_int_equal(segfetch_webhdfs_rest("webhdfs://nn:9870/a/b.seg", "OPEN", out, sizeof out),
                     0);
    assert_string_equal(out, "http://nn:9870/webhdfs/v1/a/b.seg?op=OPEN");
    assert_int_equal(
        segfetch_webhdfs_rest("swebhdfs://etl@nn:9871/a/b%20c.seg", "DELETE", out, sizeof out), 0);
    assert_string_equal(out, "https://nn:9871/webhdfs/v1/a/b%20c.seg?op=DELETE&user.name=etl");
    static const char *const bad[] = {
        "webhdfs://nn:9870",          /* no path */
        "webhdfs:///a",               /* no host */
        "webhdfs://nn/a?op=DELETE",   /* a query */
        "webhdfs://nn/a#x",           /* a fragment */
        "webhdfs://x&doas=root@nn/a", /* a parameter smuggled in as the user */
        "webhdfs://u:pw@nn/a",        /* a password */
        "webhdfs://nn/a b",           /* a space */
        "webhdfs://nn/a%2",           /* a broken escape */
        "webhdfs://nn/a&op=DELETE",   /* a parameter smuggled in the path */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (segfetch_webhdfs_rest(bad[i], "OPEN", out, sizeof out) != SL_EINVAL)
            fail_msg("accepted %s as %s", bad[i], out);
    char small[16];
    assert_int_equal(
        segfetch_webhdfs_rest("webhdfs://nn:9870/a/b.seg", "OPEN", small, sizeof small),
        SL_EINVAL); /* never truncated */
}

static void test_open(void **s)
{
    (void)s;
    char err[256];
    deepstore *d = NULL;
    assert_true(deepstore_is_uri("webhdfs://nn:9870/x"));
    assert_true(deepstore_is_uri("SWEBHDFS://nn:9870/x"));
    assert_false(deepstore_is_uri("file:///x"));
    assert_false(deepstore_is_uri(NULL));
    assert_int_equal(deepstore_open("webhdfs://etl@nn:9870/warehouse/sluice/", "/ca.pem", NULL, &d,
                                    err, sizeof err),
                     0);
    deepstore_close(d);
    d = NULL;
    assert_int_equal(deepstore_open("webhdfs://nn:9870", NULL, NULL, &d, err, sizeof err),
                     SL_EINVAL);
    assert_null(d);
    assert_non_null(strstr(err, "deepstore.uri"));
    assert_int_equal(deepstore_open("s3://bucket/x", NULL, NULL, &d, err, sizeof err), SL_EINVAL);
    /* HTTP (WebDAV PUT/DELETE): a host and a path, no query, fragment or credentials */
    assert_true(deepstore_is_uri("https://dav.example:8443/segments"));
    assert_int_equal(
        deepstore_open("https://dav.example:8443/segments/", NULL, "/netrc", &d, err, sizeof err),
        0);
    deepstore_close(d);
    static const char *const bad_http[] = {
        "http://",         "http:///x",          "http://host",    "http://host/x?sig=1",
        "http://host/x#f", "http://u:pw@host/x", "http://host/a b"};
    for (size_t i = 0; i < sizeof bad_http / sizeof bad_http[0]; i++) {
        d = NULL;
        if (deepstore_open(bad_http[i], NULL, NULL, &d, err, sizeof err) != SL_EINVAL)
            fail_msg("accepted %s", bad_http[i]);
        assert_null(d);
    }
    deepstore_close(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_rest_urls),
                                       cmocka_unit_test(test_open)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
