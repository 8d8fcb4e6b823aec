/* JSON writer: structure and commas, escaping, exact shortest numbers. */
#include "common/jsonw.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void test_structure_and_escaping(void **s)
{
    (void)s;
    jsonw w;
    jsonw_init(&w);
    jsonw_obj_begin(&w);
    jsonw_key(&w, "a");
    jsonw_arr_begin(&w);
    jsonw_i64(&w, -9223372036854775807LL - 1);
    jsonw_u64(&w, 18446744073709551615ULL);
    jsonw_bool(&w, true);
    jsonw_null(&w);
    jsonw_arr_end(&w);
    jsonw_key(&w, "s\"");
    jsonw_str(&w, "q\"b\\n\n\t\x01\xc3\xa9", 10);
    jsonw_key(&w, "r");
    jsonw_raw(&w, "{}", 2);
    jsonw_obj_end(&w);
    assert_string_equal(w.buf, "{\"a\":[-9223372036854775808,18446744073709551615,true,null],"
                               "\"s\\\"\":\"q\\\"b\\\\n\\n\\t\\u0001\xc3\xa9\",\"r\":{}}");
    jsonw_reset(&w);
    jsonw_arr_begin(&w);
    jsonw_arr_end(&w);
    assert_string_equal(w.buf, "[]");
    jsonw_free(&w);
}

static void test_numbers(void **s)
{
    (void)s;
    static const struct {
        double v;
        const char *text;
    } d[] = {{100.0, "100"},         {0.1, "0.1"},       {-0.0, "-0"},
             {1e300, "1e+300"},      {5e-324, "5e-324"}, {1234.5, "1234.5"},
             {0.000125, "0.000125"}, {1e17, "1e+17"},    {2.5e-6, "2.5e-06"}};
    char buf[32];
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
        jsonw_fmt_f64(buf, d[i].v);
        assert_string_equal(buf, d[i].text);
        assert_true(strtod(buf, NULL) == d[i].v);
    }
    jsonw_fmt_f32(buf, 1e-45f);
    assert_string_equal(buf, "1e-45");
    jsonw_fmt_f32(buf, 3.4028235e38f);
    assert_true(strtof(buf, NULL) == 3.4028235e38f);
    jsonw_fmt_f32(buf, 0.1f);
    assert_string_equal(buf, "0.1");
    jsonw w;
    jsonw_init(&w);
    jsonw_arr_begin(&w);
    jsonw_f64(&w, INFINITY);
    jsonw_f64(&w, -INFINITY);
    jsonw_f32(&w, NAN);
    jsonw_arr_end(&w);
    assert_string_equal(w.buf, "[\"Infinity\",\"-Infinity\",\"NaN\"]");
    jsonw_free(&w);
}

static void test_bytes(void **s)
{
    (void)s;
    jsonw w;
    jsonw_init(&w);
    jsonw_arr_begin(&w);
    jsonw_hex(&w, (const uint8_t *)"\x00\xab\xff", 3);
    jsonw_hex(&w, NULL, 0);
    jsonw_base64(&w, (const uint8_t *)"foob", 4);
    jsonw_base64(&w, NULL, 0);
    jsonw_arr_end(&w);
    jsonw_text(&w, " ", 1);
    jsonw_text_hex(&w, (const uint8_t *)"\x10\x0f", 2);
    assert_string_equal(w.buf, "[\"00abff\",\"\",\"Zm9vYg==\",\"\"] 100f");
    assert_int_equal(w.len, strlen(w.buf));
    jsonw_free(&w);
}

/* jsonw_canonical: Jackson's re-serialization of a parsed document (what a Pinot JSON column
 * stores), and the refusal of what is not one JSON document. */
static void test_canonical(void **s)
{
    (void)s;
    static const char *const ok[][2] = {
        {" { \"b\" : [ 1 , 2 ] , \"a\" : { } } ", "{\"b\":[1,2],\"a\":{}}"}, /* key order kept */
        {"[]", "[]"},
        {"\"x\\/y\"", "\"x/y\""},                           /* \/ is not re-escaped */
        {"\"\\u00e9\\u20ac\"", "\"\xc3\xa9\xe2\x82\xac\""}, /* \uXXXX decoded to UTF-8 */
        {"\"\\ud83d\\ude00\"", "\"\xf0\x9f\x98\x80\""},     /* a surrogate pair */
        {"\"\\u0001\\u001f\\n\\t\\b\\f\\r\\u000b\"", "\"\\u0001\\u001F\\n\\t\\b\\f\\r\\u000B\""},
        {"\"q\\\"b\\\\\"", "\"q\\\"b\\\\\""},
        {"-0", "0"},
        {"12345678901234567890123", "12345678901234567890123"}, /* BigInteger: as written */
        {"1.50", "1.5"},
        {"1e2", "100.0"},
        {"-2.5E-3", "-0.0025"},
        {"1e-4", "1.0E-4"},
        {"9999999.0", "9999999.0"},
        {"1e7", "1.0E7"},
        {"123456789.125", "1.23456789125E8"},
        {"0.0", "0.0"},
        {"-0.0", "-0.0"},
        {"1e400", "\"Infinity\""},
        {"true", "true"},
        {"null", "null"},
    };
    jsonw w;
    jsonw_init(&w);
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        jsonw_reset(&w);
        if (jsonw_canonical(&w, ok[i][0], strlen(ok[i][0]), 0)) fail_msg("refused: %s", ok[i][0]);
        if (strcmp(w.buf, ok[i][1])) fail_msg("%s: got %s, want %s", ok[i][0], w.buf, ok[i][1]);
    }
    static const char *const bad[] = {"",
                                      "  ",
                                      "{",
                                      "[1,]",
                                      "{\"a\"}",
                                      "{\"a\":1,}",
                                      "01",
                                      "1.",
                                      ".5",
                                      "1e",
                                      "+1",
                                      "tru",
                                      "\"open",
                                      "\"\\x\"",
                                      "\"\\ud800\"",
                                      "\"\\udc00\"",
                                      "\"\\ud800\\u0041\"",
                                      "\"a\nb\"",
                                      "1 2",
                                      "{} x",
                                      "NaN"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        jsonw_reset(&w);
        if (!jsonw_canonical(&w, bad[i], strlen(bad[i]), 0))
            fail_msg("accepted: %s -> %s", bad[i], w.buf);
        assert_int_equal(w.len, 0);
    }
    /* nesting: 256 levels are a document, 257 are refused */
    char deep[600];
    for (int d = 256; d <= 257; d++) {
        memset(deep, '[', (size_t)d);
        memset(deep + d, ']', (size_t)d);
        jsonw_reset(&w);
        assert_int_equal(jsonw_canonical(&w, deep, (size_t)(2 * d), JSONW_CANON_SORT_KEYS),
                         d == 256 ? 0 : -1);
    }
    /* sorted keys at every level (a Pinot JSON column's map), the last of equal keys kept */
    static const char *const sorted[][2] = {
        {"{\"b\":1,\"a\":{\"d\":[{\"z\":1,\"y\":2}],\"c\":2},\"a2\":0}",
         "{\"a\":{\"c\":2,\"d\":[{\"y\":2,\"z\":1}]},\"a2\":0,\"b\":1}"},
        {"{\"a\":1,\"b\":2,\"a\":3}", "{\"a\":3,\"b\":2}"},
        {"{\"a\":1,\"\\u0001\":2,\"\\\"\":3,\"\\u00e9\":4}",
         "{\"\\u0001\":2,\"\\\"\":3,\"a\":1,\"\xc3\xa9\":4}"},
        {"{ }", "{}"},
    };
    for (size_t i = 0; i < sizeof sorted / sizeof sorted[0]; i++) {
        jsonw_reset(&w);
        assert_int_equal(
            jsonw_canonical(&w, sorted[i][0], strlen(sorted[i][0]), JSONW_CANON_SORT_KEYS), 0);
        if (strcmp(w.buf, sorted[i][1]))
            fail_msg("%s: got %s, want %s", sorted[i][0], w.buf, sorted[i][1]);
    }
    jsonw_reset(&w);
    assert_int_equal(jsonw_canonical(&w, "{\"a\":1,}", 7, JSONW_CANON_SORT_KEYS), -1);
    assert_int_equal(w.len, 0);
    /* BigDecimals (a JSON string re-parsed by Pinot): Java's stripTrailingZeros().toString() */
    static const char *const dec[][2] = {
        {"1.50", "1.5"},
        {"10.0", "1E+1"},
        {"1e2", "1E+2"},
        {"0.0", "0"},
        {"-0.0", "0"},
        {"0.000001", "0.000001"},
        {"0.0000001", "1E-7"},
        {"123.456e-2", "1.23456"},
        {"-1.5e3", "-1.5E+3"},
        {"12", "12"},
        {"[2.50,{\"x\":0.10}]", "[2.5,{\"x\":0.1}]"},
        {"120.5E1", "1205"},
    };
    for (size_t i = 0; i < sizeof dec / sizeof dec[0]; i++) {
        jsonw_reset(&w);
        assert_int_equal(jsonw_canonical(&w, dec[i][0], strlen(dec[i][0]), JSONW_CANON_DECIMAL), 0);
        if (strcmp(w.buf, dec[i][1])) fail_msg("%s: got %s, want %s", dec[i][0], w.buf, dec[i][1]);
    }
    jsonw_reset(&w);
    assert_int_equal(jsonw_canonical(&w, "1e2147483648", 12, JSONW_CANON_DECIMAL), -1);
    /* inside a container, a refused value leaves the container as it was */
    jsonw_reset(&w);
    jsonw_arr_begin(&w);
    jsonw_i64(&w, 1);
    assert_int_equal(jsonw_canonical(&w, "{", 1, 0), -1);
    assert_int_equal(jsonw_canonical(&w, " 2 ", 3, 0), 0);
    jsonw_canonical_str(&w, "a\"\x01", 3);
    jsonw_arr_end(&w);
    assert_string_equal(w.buf, "[1,2,\"a\\\"\\u0001\"]");
    jsonw_free(&w);
}

/* Java's Double.toString and Float.toString: shortest digits, Java's layout, Java's names of
 * the non-finite values. */
static void test_java_numbers(void **state)
{
    (void)state;
    char b[48];
    static const struct {
        double v;
        const char *d, *f;
    } cases[] = {{0.1, "0.1", "0.1"},
                 {100, "100.0", "100.0"},
                 {1e7, "1.0E7", "1.0E7"},
                 {1.5e-5, "1.5E-5", "1.5E-5"},
                 {-0.0, "-0.0", "-0.0"},
                 {0.001, "0.001", "0.001"},
                 {NAN, "NaN", "NaN"},
                 {INFINITY, "Infinity", "Infinity"},
                 {-INFINITY, "-Infinity", "-Infinity"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(jsonw_fmt_java_f64(b, cases[i].v), strlen(cases[i].d));
        assert_string_equal(b, cases[i].d);
        assert_int_equal(jsonw_fmt_java_f32(b, (float)cases[i].v), strlen(cases[i].f));
        assert_string_equal(b, cases[i].f);
    }
    jsonw_fmt_java_f64(b, (double)0.1f); /* the float 0.1 as a double */
    assert_string_equal(b, "0.10000000149011612");
}

/* The printf-free integer formatters print what printf prints, at every extreme. */
static void test_fmt_integers(void **state)
{
    (void)state;
    const int64_t iv[] = {
        0,   1,         -1,        9,         10,        -10,           99,
        100, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN, INT64_MIN + 1, 1234567890123LL};
    char a[32], b[32];
    for (size_t i = 0; i < sizeof iv / sizeof iv[0]; i++) {
        size_t n = jsonw_fmt_i64(a, iv[i]);
        snprintf(b, sizeof b, "%" PRId64, iv[i]);
        assert_string_equal(a, b);
        assert_int_equal(n, strlen(b));
    }
    const uint64_t uv[] = {0, 9, 10, UINT64_MAX, (uint64_t)INT64_MAX + 1};
    for (size_t i = 0; i < sizeof uv / sizeof uv[0]; i++) {
        size_t n = jsonw_fmt_u64(a, uv[i]);
        snprintf(b, sizeof b, "%" PRIu64, uv[i]);
        assert_string_equal(a, b);
        assert_int_equal(n, strlen(b));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_structure_and_escaping),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_bytes),
        cmocka_unit_test(test_canonical),
        cmocka_unit_test(test_java_numbers),
        cmocka_unit_test(test_fmt_integers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
