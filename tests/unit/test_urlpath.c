/* URL path decoding and exact route patterns: decoded segments, every refusal class, pattern
 * compilation errors, exact matching (no prefix, no trailing-slash folding) and captures. */
#include "common/urlpath.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* Split raw and join the segments with '|' into out; returns the split result. */
static int split_join(const char *raw, char *out, size_t outlen)
{
    char *dec = malloc(strlen(raw) + 2);
    const char *segs[URLPATH_MAX_SEGS];
    int n = urlpath_split(raw, dec, segs);
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (i) strncat(out, "|", outlen - strlen(out) - 1);
        strncat(out, segs[i], outlen - strlen(out) - 1);
    }
    free(dec);
    return n;
}

static void test_split(void **state)
{
    (void)state;
    static const struct {
        const char *raw, *want;
        int n;
    } ok[] = {
        {"/health", "health", 1},
        {"/", "", 1},
        {"/a/", "a|", 2},
        {"//a", "|a", 2},
        {"/segments/my%20table/s%41g", "segments|my table|sAg", 3},
        {"/s%252F", "s%2F", 1}, /* decoded once only */
        {"/a+b/%7e%7E", "a+b|~~", 2},
        {"/...", "...", 1}, /* three dots is a name, not a step */
        {"/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p", "a|b|c|d|e|f|g|h|i|j|k|l|m|n|o|p", 16},
    };
    char got[256];
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        assert_int_equal(split_join(ok[i].raw, got, sizeof got), ok[i].n);
        assert_string_equal(got, ok[i].want);
    }
    static const char *const bad[] = {
        "",          "health",   "*",      "http://h/x", "/segments/t/..%2Fx",
        "/t/a%2Fb",  "/t/a%2fb", "/..",    "/a/../b",    "/a/.",
        "/%2e%2e/x", "/%2E",     "/a%00b", "/%zz",       "/%4",
        "/%",        "/a\tb",    "/a\x7f", "/a%2",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(split_join(bad[i], got, sizeof got), URLPATH_EBAD);
    assert_int_equal(split_join("/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q", got, sizeof got),
                     URLPATH_ELONG);
}

static bool matches(const urlpath_pat *p, const char *raw)
{
    char dec[256];
    const char *segs[URLPATH_MAX_SEGS];
    int n = urlpath_split(raw, dec, segs);
    return n > 0 && urlpath_match(p, segs, (size_t)n);
}

static void test_patterns(void **state)
{
    (void)state;
    urlpath_pat p;
    assert_int_equal(urlpath_compile(&p, "/segments/{table}/{segment}"), 0);
    assert_int_equal(p.nseg, 3);
    assert_true(matches(&p, "/segments/t/s"));
    assert_true(matches(&p, "/segments/my%20t/s%2541"));
    assert_false(matches(&p, "/segments/t"));
    assert_false(matches(&p, "/segments/t/s/x"));
    assert_false(matches(&p, "/segments/t/")); /* empty capture */
    assert_false(matches(&p, "/segmentsx/t/s"));
    assert_false(matches(&p, "/Segments/t/s")); /* literals are case-sensitive */
    char dec[64];
    const char *segs[URLPATH_MAX_SEGS];
    int n = urlpath_split("/segments/my%20t/s1", dec, segs);
    assert_int_equal(n, 3);
    assert_string_equal(urlpath_param(&p, segs, "table"), "my t");
    assert_string_equal(urlpath_param(&p, segs, "segment"), "s1");
    assert_null(urlpath_param(&p, segs, "segments"));
    urlpath_pat_free(&p);

    assert_int_equal(urlpath_compile(&p, "/health"), 0);
    assert_true(matches(&p, "/health"));
    assert_true(matches(&p, "/h%65alth")); /* decoded before comparing */
    assert_false(matches(&p, "/health/"));
    assert_false(matches(&p, "/healthz"));
    assert_false(matches(&p, "/"));
    urlpath_pat_free(&p);

    static const char *const bad[] = {
        NULL,    "",      "health", "/{}",      "/{a-b}", "/a/{x}y",
        "/a%2F", "/a/..", "/.",     "/{a}/{a}", "/x{a}",  "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(urlpath_compile(&p, bad[i]), URLPATH_EBAD);
        assert_null(p.buf);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_patterns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
