/* Ingestion transforms (common/xform.h) and their use by the decoder: each function against
 * values worked out from Pinot's definitions (DateTimeFunctions, StringFunctions,
 * JsonFunctions, ArithmeticFunctions), NULL propagation, conversions, bad expressions, and the
 * decoder applying a table's transformConfigs. */
#include "common/table_config.h"
#include "common/xform.h"
#include "consumer/mseg.h"
#include "consumer/rowdec.h"

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* A value may point into its expression (a literal): expressions live until done(). */
/* What Kafka says of the next message: no partition, no headers. */
static void set_msg(rowdec *d, int64_t ms, const void *key, size_t keylen, int64_t offset)
{
    rowdec_msg m = {.ms = ms, .key = key, .keylen = keylen, .offset = offset, .partition = -1};
    rowdec_set_message(d, &m);
}

static xform_expr *kept[256];
static size_t nkept;

static void done(xform_ctx *cx)
{
    while (nkept)
        xform_free(kept[--nkept]);
    xform_ctx_free(cx);
}

/* Evaluate text with in[i] the value of its i-th input (in order of first appearance). */
static xform_val eval_in(xform_ctx *cx, const char *text, const xform_val *in, int want_rc,
                         char *err, size_t errlen)
{
    char perr[512];
    xform_expr *e = xform_parse(text, perr, sizeof perr);
    if (!e) fail_msg("%s: %s", text, perr);
    xform_val out = {0};
    int rc = xform_eval(e, in, cx, &out, err, errlen);
    if (rc != want_rc) fail_msg("%s: rc %d (%s), want %d", text, rc, err, want_rc);
    assert_true(nkept < sizeof kept / sizeof kept[0]);
    kept[nkept++] = e;
    return out;
}

static int64_t eval_long(xform_ctx *cx, const char *text, const xform_val *in)
{
    char err[256] = "";
    xform_val v = eval_in(cx, text, in, 0, err, sizeof err);
    if (v.kind != XFORM_LONG) fail_msg("%s: kind %d, want LONG", text, (int)v.kind);
    return v.i;
}

static double eval_double(xform_ctx *cx, const char *text, const xform_val *in)
{
    char err[256] = "";
    xform_val v = eval_in(cx, text, in, 0, err, sizeof err);
    if (v.kind != XFORM_DOUBLE) fail_msg("%s: kind %d, want DOUBLE", text, (int)v.kind);
    return v.d;
}

static void want_str(xform_ctx *cx, const char *text, const xform_val *in, const char *want)
{
    char err[256] = "";
    xform_val v = eval_in(cx, text, in, 0, err, sizeof err);
    if (v.kind != XFORM_STRING) fail_msg("%s: kind %d, want STRING", text, (int)v.kind);
    if (v.len != strlen(want) || memcmp(v.s, want, v.len))
        fail_msg("%s: \"%.*s\", want \"%s\"", text, (int)v.len, v.s, want);
}

static void want_null(xform_ctx *cx, const char *text, const xform_val *in)
{
    char err[256] = "";
    xform_val v = eval_in(cx, text, in, 0, err, sizeof err);
    if (v.kind != XFORM_NULL) fail_msg("%s: kind %d, want NULL", text, (int)v.kind);
}

static void want_fail(xform_ctx *cx, const char *text, const xform_val *in, const char *why)
{
    char err[256] = "";
    eval_in(cx, text, in, -1, err, sizeof err);
    if (!strstr(err, why)) fail_msg("%s: error \"%s\" lacks \"%s\"", text, err, why);
}

static xform_val S(const char *s)
{
    return (xform_val){.kind = XFORM_STRING, .s = s, .len = (uint32_t)strlen(s)};
}
static xform_val J(const char *s)
{
    return (xform_val){.kind = XFORM_JSON, .s = s, .len = (uint32_t)strlen(s)};
}
static xform_val L(int64_t x)
{
    return (xform_val){.kind = XFORM_LONG, .i = x};
}

static void test_date_time(void **state)
{
    (void)state;
    xform_ctx *cx = xform_ctx_new();
    xform_val in[2] = {L(19675), L(0)};
    /* 19675 days = 2023-11-14 */
    assert_int_equal(eval_long(cx, "fromEpochDays(d)", in), INT64_C(1699920000000));
    assert_int_equal(eval_long(cx, "from_epoch_days(d)", in), INT64_C(1699920000000));
    assert_int_equal(eval_long(cx, "FROMEPOCHHOURS(d)", in), INT64_C(19675) * 3600000);
    assert_int_equal(eval_long(cx, "fromEpochMinutesBucket(d, 5)", in), INT64_C(19675) * 5 * 60000);
    in[0] = L(INT64_C(1700000123450)); /* 2023-11-14T22:15:23.450Z */
    assert_int_equal(eval_long(cx, "toEpochSeconds(t)", in), INT64_C(1700000123));
    assert_int_equal(eval_long(cx, "toEpochMinutes(t)", in), INT64_C(28333335));
    assert_int_equal(eval_long(cx, "toEpochHours(t)", in), INT64_C(472222));
    assert_int_equal(eval_long(cx, "toEpochDays(t)", in), 19675);
    assert_int_equal(eval_long(cx, "toEpochSecondsRounded(t, 10)", in), INT64_C(1700000120));
    assert_int_equal(eval_long(cx, "toEpochMinutesBucket(t, 15)", in), INT64_C(28333335) / 15);
    assert_int_equal(eval_long(cx, "round(t, 1000)", in), INT64_C(1700000123000));
    assert_int_equal(eval_long(cx, "year(t)", in), 2023);
    assert_int_equal(eval_long(cx, "month(t)", in), 11);
    assert_int_equal(eval_long(cx, "dayOfMonth(t)", in), 14);
    assert_int_equal(eval_long(cx, "hour(t)", in), 22);
    assert_int_equal(eval_long(cx, "minute(t)", in), 15);
    assert_int_equal(eval_long(cx, "second(t)", in), 23);
    assert_int_equal(eval_long(cx, "millisecond(t)", in), 450);
    assert_int_equal(eval_long(cx, "dayOfWeek(t)", in), 2); /* a Tuesday */
    assert_int_equal(eval_long(cx, "dayOfYear(t)", in), 318);
    assert_int_equal(eval_long(cx, "quarter(t)", in), 4);
    assert_int_equal(eval_long(cx, "dateTrunc('DAY', t)", in), INT64_C(1699920000000));
    assert_int_equal(eval_long(cx, "dateTrunc('hour', t)", in), INT64_C(1699999200000));
    assert_int_equal(eval_long(cx, "dateTrunc('WEEK', t)", in),
                     INT64_C(1699833600000)); /* Mon 13 */
    assert_int_equal(eval_long(cx, "dateTrunc('MONTH', t)", in), INT64_C(1698796800000));
    assert_int_equal(eval_long(cx, "dateTrunc('QUARTER', t)", in), INT64_C(1696118400000));
    assert_int_equal(eval_long(cx, "dateTrunc('YEAR', t)", in), INT64_C(1672531200000));
    want_fail(cx, "dateTrunc('fortnight', t)", in, "unknown");
    /* before the epoch: floors, not truncations, for the calendar */
    in[0] = L(-1);
    assert_int_equal(eval_long(cx, "year(t)", in), 1969);
    assert_int_equal(eval_long(cx, "dateTrunc('DAY', t)", in), -86400000);
    assert_int_equal(eval_long(cx, "toEpochSeconds(t)", in), 0); /* Java's TimeUnit truncates */
    want_str(cx, "toDateTime(t, 'yyyy-MM-dd HH:mm:ss.SSS')", in, "1969-12-31 23:59:59.999");
    /* numeric strings convert */
    in[0] = S("19675");
    assert_int_equal(eval_long(cx, "fromEpochDays(d)", in), INT64_C(1699920000000));
    in[0] = S("tomorrow");
    want_fail(cx, "fromEpochDays(d)", in, "\"tomorrow\" is not a number");
    /* NULL in, NULL out */
    in[0] = (xform_val){.kind = XFORM_NULL};
    want_null(cx, "fromEpochDays(d)", in);
    want_null(cx, "toDateTime(t, 'yyyy')", in);
    done(cx);
}

static void test_date_time_patterns(void **state)
{
    (void)state;
    xform_ctx *cx = xform_ctx_new();
    xform_val in[1];
    /* Pinot's githubEvents example: fromDateTime(created_at, 'yyyy-MM-dd''T''HH:mm:ssZ') */
    in[0] = S("2021-07-21T00:00:01Z");
    assert_int_equal(eval_long(cx, "fromDateTime(c, 'yyyy-MM-dd''T''HH:mm:ssZ')", in),
                     INT64_C(1626825601000));
    in[0] = S("2021-07-21T02:00:01+02:00");
    assert_int_equal(eval_long(cx, "fromDateTime(c, 'yyyy-MM-dd''T''HH:mm:ssZ')", in),
                     INT64_C(1626825601000));
    in[0] = S("2021-07-20T19:00:01-0500");
    assert_int_equal(eval_long(cx, "fromDateTime(c, 'yyyy-MM-dd''T''HH:mm:ssZ')", in),
                     INT64_C(1626825601000));
    in[0] = S("20240229");
    assert_int_equal(eval_long(cx, "fromDateTime(c, 'yyyyMMdd')", in), INT64_C(1709164800000));
    in[0] = S("20230229");
    want_fail(cx, "fromDateTime(c, 'yyyyMMdd')", in, "no such day");
    in[0] = S("14 Nov 2023 10:15 PM");
    assert_int_equal(eval_long(cx, "fromDateTime(c, 'dd MMM yyyy hh:mm a')", in),
                     INT64_C(1700000100000));
    in[0] = S("Tue, 14 November 2023 22:15:23.4");
    assert_int_equal(eval_long(cx, "fromDateTime(c, 'EEE, dd MMMM yyyy HH:mm:ss.S')", in),
                     INT64_C(1700000123400));
    in[0] = S("2023-11-14");
    assert_int_equal(eval_long(cx, "fromDateTime(c, 'yyyy-MM-dd', 'UTC')", in),
                     INT64_C(1699920000000));
    want_fail(cx, "fromDateTime(c, 'yyyy-MM-dd', 'America/Los_Angeles')", in, "UTC");
    in[0] = S("2023-11-14 junk");
    want_fail(cx, "fromDateTime(c, 'yyyy-MM-dd')", in, "text after the pattern");
    in[0] = S("yesterday");
    want_fail(cx, "fromDateTime(c, 'yyyy-MM-dd')", in, "does not match");
    in[0] = L(INT64_C(1700000123450));
    want_str(cx, "toDateTime(t, 'yyyy-MM-dd''T''HH:mm:ss.SSSZ')", in,
             "2023-11-14T22:15:23.450+0000");
    want_str(cx, "toDateTime(t, 'EEEE dd MMMM yy hh a')", in, "Tuesday 14 November 23 10 PM");
    want_str(cx, "toDateTime(t, 'EEE MMM d H:m:s')", in, "Tue Nov 14 22:15:23");
    /* what formats parses back */
    char buf[64];
    size_t n = xform_format_time("yyyyMMddHHmmssSSS", INT64_C(1700000123450), buf, sizeof buf);
    int64_t back;
    char err[128];
    assert_int_equal(xform_parse_time("yyyyMMddHHmmssSSS", buf, n, &back, err, sizeof err), 0);
    assert_int_equal(back, INT64_C(1700000123450));
    assert_false(xform_pattern_ok("yyyy-ww", err, sizeof err));
    assert_non_null(strstr(err, "'w'"));
    char perr[256];
    assert_null(xform_parse("fromDateTime(c, 'yyyy-QQ')", perr, sizeof perr));
    done(cx);
}

static void test_strings(void **state)
{
    (void)state;
    xform_ctx *cx = xform_ctx_new();
    xform_val in[3] = {S("  Hello World \t"), S("lo"), S("LO")};
    want_str(cx, "lower(s)", in, "  hello world \t");
    want_str(cx, "upper(s)", in, "  HELLO WORLD \t");
    want_str(cx, "trim(s)", in, "Hello World");
    want_str(cx, "ltrim(s)", in, "Hello World \t");
    want_str(cx, "rtrim(s)", in, "  Hello World \t"); /* Pinot's rtrim: spaces only */
    want_str(cx, "replace(s, a, b)", in, "  HelLO World \t");
    want_str(cx, "concat(a, b)", (xform_val[]){S("lo"), S("LO")}, "loLO");
    want_str(cx, "concat(s, 12)", in, "  Hello World \t12");
    assert_int_equal(eval_long(cx, "length(s)", in), 15);
    in[0] = S("caf\xc3\xa9 \xf0\x9f\x98\x80!"); /* café 😀!: 8 UTF-16 units */
    assert_int_equal(eval_long(cx, "length(s)", in), 8);
    want_str(cx, "substr(s, 1, 4)", in, "af\xc3\xa9");
    want_str(cx, "substr(s, 5)", in, "\xf0\x9f\x98\x80!");
    want_str(cx, "substr(s, 0, -1)", in, "caf\xc3\xa9 \xf0\x9f\x98\x80!");
    want_str(cx, "substr(s, -1)", in, "!");
    want_str(cx, "substr(s, 3, 100)", in, "\xc3\xa9 \xf0\x9f\x98\x80!");
    want_str(cx, "substr(s, 6, 2)", in, "");
    want_str(cx, "substring(s, 1, 3)", in, "caf");
    want_str(cx, "reverse(s)", in,
             "!\xf0\x9f\x98\x80 \xc3\xa9"
             "fac");
    in[0] = S("abcabc");
    want_str(cx, "replace(s, 'bc', 'X')", in, "aXaX");
    want_str(cx, "replace(s, '', 'X')", in, "abcabc");
    char err[64];
    xform_val v = eval_in(cx, "startsWith(s, 'ab')", in, 0, err, sizeof err);
    assert_true(v.kind == XFORM_BOOL && v.i == 1);
    v = eval_in(cx, "endsWith(s, 'ab')", in, 0, err, sizeof err);
    assert_true(v.kind == XFORM_BOOL && v.i == 0);
    v = eval_in(cx, "contains(s, 'ca')", in, 0, err, sizeof err);
    assert_true(v.kind == XFORM_BOOL && v.i == 1);
    /* literals: a doubled quote is a quote; "quoted" names are columns */
    want_str(cx, "concat('it''s', \"s\")", in, "it'sabcabc");
    in[0] = (xform_val){.kind = XFORM_NULL};
    want_null(cx, "lower(s)", in);
    want_null(cx, "concat(s, 'x')", in);
    done(cx);
}

static void test_json(void **state)
{
    (void)state;
    xform_ctx *cx = xform_ctx_new();
    const char *doc = "{ \"head\" : \"abc\\u00e9\" , \"n\": 12, \"f\": 1.5, \"b\": true,"
                      " \"z\": null, \"commits\": [ {\"url\": \"u0\"}, {\"url\": \"u1\"} ],"
                      " \"o\": { \"k\" : [1, 2] } }";
    xform_val in[2] = {J(doc), S(doc)};
    want_str(cx, "jsonPathString(p, '$.head')", in, "abc\xc3\xa9");
    want_str(cx, "jsonPathString(p, '$.commits[1].url')", in, "u1");
    want_str(cx, "jsonPathString(p, '$[''commits''][0][\"url\"]')", in, "u0");
    want_str(cx, "jsonPathString(p, '$.n')", in, "12");
    want_str(cx, "jsonPathString(p, '$.b')", in, "true");
    want_str(cx, "jsonPathString(p, '$.o')", in, "{\"k\":[1,2]}");
    want_null(cx, "jsonPathString(p, '$.nosuch')", in);
    want_null(cx, "jsonPathString(p, '$.z')", in);
    want_str(cx, "jsonPathString(p, '$.nosuch', 'dflt')", in, "dflt");
    want_str(cx, "jsonPathString(s, '$.head')", in, "abc\xc3\xa9"); /* a string holding JSON */
    assert_int_equal(eval_long(cx, "jsonPathLong(p, '$.n')", in), 12);
    assert_int_equal(eval_long(cx, "jsonPathLong(p, '$.f')", in), 1);
    assert_int_equal(eval_long(cx, "jsonPathLong(p, '$.b')", in), 1);
    assert_int_equal(eval_long(cx, "jsonPathLong(p, '$.nosuch')", in), INT64_MIN);
    assert_int_equal(eval_long(cx, "jsonPathLong(p, '$.head', 7)", in), 7);
    assert_true(eval_double(cx, "jsonPathDouble(p, '$.f')", in) == 1.5);
    assert_true(eval_double(cx, "jsonPathDouble(p, '$.nosuch', 2.5)", in) == 2.5);
    /* Jackson's re-serialization: \u00e9 is written as UTF-8 */
    want_str(cx, "jsonFormat(p)", in,
             "{\"head\":\"abc\xc3\xa9\",\"n\":12,\"f\":1.5,\"b\":true,\"z\":null,"
             "\"commits\":[{\"url\":\"u0\"},{\"url\":\"u1\"}],\"o\":{\"k\":[1,2]}}");
    want_str(cx, "jsonFormat(s)", (xform_val[]){S("say \"hi\"")}, "\"say \\\"hi\\\"\"");
    want_str(cx, "jsonFormat(n)", (xform_val[]){L(42)}, "42");
    in[0] = S("{not json");
    want_fail(cx, "jsonPathString(p, '$.a')", in, "not JSON");
    want_str(cx, "jsonPathString(p, '$.a', 'd')", in, "d");
    in[0] = (xform_val){.kind = XFORM_NULL};
    want_str(cx, "jsonPathString(p, '$.a', 'd')", in, "d"); /* a NULL document: the default */
    want_null(cx, "jsonPathString(p, '$.a')", in);
    done(cx);
}

/* An ARRAY result: its elements written as "s:TEXT", "l:N", "d:X", "b:0/1", "j:TEXT" or
 * "null", joined by '|', must equal want. */
static void want_array(xform_ctx *cx, const char *text, const xform_val *in, const char *want)
{
    char err[256] = "", got[1024] = "";
    xform_val v = eval_in(cx, text, in, 0, err, sizeof err);
    if (v.kind != XFORM_ARRAY) fail_msg("%s: kind %d, want ARRAY", text, (int)v.kind);
    size_t n = 0;
    for (uint32_t k = 0; k < v.len; k++) {
        const xform_val *e = &v.elems[k];
        const char *sep = k ? "|" : "";
        if (e->kind == XFORM_STRING || e->kind == XFORM_JSON)
            n += (size_t)snprintf(got + n, sizeof got - n, "%s%c:%.*s", sep,
                                  e->kind == XFORM_STRING ? 's' : 'j', (int)e->len, e->s);
        else if (e->kind == XFORM_LONG || e->kind == XFORM_BOOL)
            n += (size_t)snprintf(got + n, sizeof got - n, "%s%c:%lld", sep,
                                  e->kind == XFORM_LONG ? 'l' : 'b', (long long)e->i);
        else if (e->kind == XFORM_DOUBLE)
            n += (size_t)snprintf(got + n, sizeof got - n, "%sd:%g", sep, e->d);
        else
            n += (size_t)snprintf(got + n, sizeof got - n, "%snull", sep);
    }
    if (strcmp(got, want)) fail_msg("%s: [%s], want [%s]", text, got, want);
}

/* split (StringUtils.splitByWholeSeparator, as Pinot calls it) and jsonPathArray
 * (JsonPath with SUPPRESS_EXCEPTIONS, then convertObjectToArray). */
static void test_multi_value_functions(void **state)
{
    (void)state;
    xform_ctx *cx = xform_ctx_new();
    xform_val in[1] = {S("a,b,c")};
    want_array(cx, "split(s, ',')", in, "s:a|s:b|s:c");
    want_array(cx, "stringToArray(s, ',')", in, "s:a|s:b|s:c");
    want_array(cx, "split(s, ',', 2)", in, "s:a|s:b,c");
    want_array(cx, "split(s, ',', 0)", in, "s:a|s:b|s:c");
    want_array(cx, "split(s, ',', 1)", in, "s:a,b,c");
    want_array(cx, "split(s, ';')", in, "s:a,b,c");
    in[0] = S(",,a,,b,"); /* leading and doubled delimiters vanish; a trailing one does not */
    want_array(cx, "split(s, ',')", in, "s:a|s:b|s:");
    in[0] = S("ab-!-cd-!-ef");
    want_array(cx, "split(s, '-!-')", in, "s:ab|s:cd|s:ef");
    in[0] = S("");
    want_array(cx, "split(s, ',')", in, "");
    in[0] = S(",");
    want_array(cx, "split(s, ',')", in, "s:");
    in[0] = S("  ab \t de\xe3\x80\x80"
              "fg\xc2\xa0h  "); /* U+3000 splits, U+00A0 does not */
    want_array(cx, "split(s, '')", in, "s:ab|s:de|s:fg\xc2\xa0h");
    want_array(cx, "split(s, '', 2)", in,
               "s:ab|s:de\xe3\x80\x80"
               "fg\xc2\xa0h  ");
    in[0] = S("x\xc3\xa9y\xc3\xa9z");
    want_array(cx, "split(s, '\xc3\xa9')", in, "s:x|s:y|s:z");
    in[0] = (xform_val){.kind = XFORM_NULL};
    want_null(cx, "split(s, ',')", in);
    in[0] = S("a,b");
    want_fail(cx, "lower(split(s, ','))", in, "argument 1 is multi-value");

    const char *doc = "{\"tags\": [\"x\", null, \"y\"], \"n\": [1, 2.5, true, {\"k\": 1}, [3]],"
                      " \"one\": \"solo\", \"items\": [{\"id\": 1}, {\"no\": 2}, {\"id\": 3}],"
                      " \"o\": {\"a\": 1, \"b\": \"t\"}, \"e\": []}";
    in[0] = J(doc);
    want_array(cx, "jsonPathArray(p, '$.tags')", in, "s:x|null|s:y");
    want_array(cx, "jsonPathArray(p, '$.n')", in, "l:1|d:2.5|b:1|j:{\"k\":1}|j:[3]");
    want_array(cx, "jsonPathArray(p, '$.one')", in, "s:solo");
    want_array(cx, "jsonPathArray(p, '$.items[*].id')", in, "l:1|l:3");
    want_array(cx, "jsonPathArray(p, '$.items[1].no')", in, "l:2");
    want_array(cx, "jsonPathArray(p, '$.o.*')", in, "l:1|s:t");
    want_array(cx, "jsonPathArray(p, '$.items[*].nosuch')", in, "");
    want_array(cx, "jsonPathArray(p, '$.e')", in, "");
    want_null(cx, "jsonPathArray(p, '$.nosuch')", in);
    want_str(cx, "jsonPathString(p, '$.items[*].id')", in, "[1,3]");
    in[0] = S(doc); /* a string holding the document */
    want_array(cx, "jsonPathArray(p, '$.items[*].id')", in, "l:1|l:3");
    in[0] = S("[not json");
    want_fail(cx, "jsonPathArray(p, '$.a')", in, "not JSON");
    done(cx);
}

static void test_arithmetic_and_literals(void **state)
{
    (void)state;
    xform_ctx *cx = xform_ctx_new();
    xform_val in[2] = {L(7), S("2.5")};
    assert_true(eval_double(cx, "plus(a, b)", in) == 9.5);
    assert_true(eval_double(cx, "minus(a, b)", in) == 4.5);
    assert_true(eval_double(cx, "times(a, b)", in) == 17.5);
    assert_true(eval_double(cx, "divide(a, 2)", in) == 3.5);
    assert_true(eval_double(cx, "mod(a, 4)", in) == 3.0);
    assert_true(eval_double(cx, "abs(-3)", in) == 3.0);
    assert_true(eval_double(cx, "floor(b)", (xform_val[]){S("2.5")}) == 2.0);
    assert_true(eval_double(cx, "ceil(b)", (xform_val[]){S("2.5")}) == 3.0);
    assert_true(eval_double(cx, "sqrt(16)", in) == 4.0);
    assert_true(eval_double(cx, "times(plus(a, 1), minus(b, 0.5))", in) == 16.0);
    /* Pinot's example: a constant transform */
    assert_int_equal(eval_long(cx, "1704067200000", in), INT64_C(1704067200000));
    assert_true(eval_double(cx, " -1.5e3 ", in) == -1500.0);
    want_str(cx, "'a constant'", in, "a constant");
    in[1] = S("x");
    want_fail(cx, "plus(a, b)", in, "\"x\" is not a number");
    char err[512];
    static const char *const bad[][2] = {
        {"", "an expression expected"},
        {"plus(a, b", "expected ',' or ')'"},
        {"plus(a b)", "expected ',' or ')'"},
        {"'open", "an unterminated quote"},
        {"lower(a) x", "text after the expression"},
        {"lower()", "takes 1 to 1 arguments, not 0"},
        {"ago('PT1H')", "reads the clock"},
        {"groovy({a}, a)", "Groovy functions are not supported"},
        {"stAsText(stPoint(a, b))", "function stAsText is not supported"},
        {"1.2.3", "a malformed number"},
        {"#", "unexpected character"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        xform_expr *e = xform_parse(bad[i][0], err, sizeof err);
        if (e) fail_msg("accepted: %s", bad[i][0]);
        if (!strstr(err, bad[i][1])) fail_msg("%s: \"%s\" lacks \"%s\"", bad[i][0], err, bad[i][1]);
    }
    /* inputs: each once, in order */
    xform_expr *e = xform_parse("concat(b, concat(a, b))", err, sizeof err);
    assert_int_equal(xform_ninputs(e), 2);
    assert_string_equal(xform_input(e, 0), "b");
    assert_string_equal(xform_input(e, 1), "a");
    xform_free(e);
    done(cx);
}

/* The decoder applies a table's transforms: only to a destination the message lacks or gives
 * as null; reading fields the schema lacks; a failure rejects the row, or with
 * continueOnError leaves the column null (its default). */
static void test_decoder_applies_transforms(void **state)
{
    (void)state;
    static const char schema_json[] =
        "{\"schemaName\":\"s\",\"dimensionFieldSpecs\":[{\"name\":\"who\",\"dataType\":\"STRING\"},"
        "{\"name\":\"head\",\"dataType\":\"STRING\"}],"
        "\"dateTimeFieldSpecs\":[{\"name\":\"ts\",\"dataType\":\"TIMESTAMP\",\"format\":"
        "\"1:MILLISECONDS:TIMESTAMP\",\"granularity\":\"1:SECONDS\"},{\"name\":\"created_at\","
        "\"dataType\":\"STRING\",\"format\":\"1:SECONDS:SIMPLE_DATE_FORMAT:yyyy-MM-dd'T'HH:mm:"
        "ssZ\","
        "\"granularity\":\"1:HOURS\"}]}";
    static const char table_json[] =
        "{\"tableName\":\"t\",\"tableType\":\"OFFLINE\",\"ingestionConfig\":{\"transformConfigs\":["
        "{\"columnName\":\"ts\",\"transformFunction\":\"fromDateTime(created_at, "
        "'yyyy-MM-dd''T''HH:mm:ssZ')\"},"
        "{\"columnName\":\"who\",\"transformFunction\":\"upper(jsonPathString(actor, "
        "'$.login'))\"},"
        "{\"columnName\":\"head\",\"transformFunction\":\"jsonPathString(payload, "
        "'$.head')\"}]%s}}";
    char err[1024], tj[2048];
    schema *s = schema_parse(schema_json, strlen(schema_json), "s", err, sizeof err);
    assert_non_null(s);
    for (int coe = 0; coe < 2; coe++) {
        snprintf(tj, sizeof tj, table_json, coe ? ",\"continueOnError\":true" : "");
        tcfg *t = tcfg_parse(tj, strlen(tj), "t", s, err, sizeof err);
        if (!t) fail_msg("%s", err);
        rowdec *d = rowdec_new_cfg(s, t, 0);
        const row *r;
        const char *m1 = "{\"created_at\":\"2021-07-21T00:00:01Z\",\"actor\":{\"login\":\"ada\"},"
                         "\"payload\":{\"head\":\"c0ffee\"}}";
        assert_int_equal(rowdec_decode(d, (const uint8_t *)m1, strlen(m1), &r), ROWDEC_OK);
        assert_int_equal(r->cols[2].v.u.i64, INT64_C(1626825601000));
        assert_false(r->cols[2].is_null);
        assert_int_equal(r->cols[0].v.u.bytes.len, 3);
        assert_memory_equal(r->cols[0].v.u.bytes.ptr, "ADA", 3);
        assert_memory_equal(r->cols[1].v.u.bytes.ptr, "c0ffee", 6);
        /* a value the message gives is kept (Pinot does not overwrite it) */
        const char *m2 = "{\"created_at\":\"2021-07-21T00:00:01Z\",\"ts\":5,\"who\":\"me\"}";
        assert_int_equal(rowdec_decode(d, (const uint8_t *)m2, strlen(m2), &r), ROWDEC_OK);
        assert_int_equal(r->cols[2].v.u.i64, 5);
        assert_memory_equal(r->cols[0].v.u.bytes.ptr, "me", 2);
        assert_true(r->cols[1].is_null); /* no payload: NULL in, NULL out: the default */
        /* a null is replaced */
        const char *m3 = "{\"created_at\":\"2021-07-21T00:00:01Z\",\"ts\":null}";
        assert_int_equal(rowdec_decode(d, (const uint8_t *)m3, strlen(m3), &r), ROWDEC_OK);
        assert_int_equal(r->cols[2].v.u.i64, INT64_C(1626825601000));
        /* a failing transform: the row is rejected, or the column is null */
        const char *m4 = "{\"created_at\":\"yesterday\"}";
        rowdec_reason why = rowdec_decode(d, (const uint8_t *)m4, strlen(m4), &r);
        if (!coe) {
            assert_int_equal(why, ROWDEC_TRANSFORM);
            assert_string_equal(rowdec_error_field(d), "ts");
            assert_non_null(strstr(rowdec_error_detail(d), "transform of ts: fromdatetime:"));
        } else {
            assert_int_equal(why, ROWDEC_OK);
            assert_true(r->cols[2].is_null);
        }
        rowdec_free(d);
        tcfg_free(t);
    }
    schema_free(s);
}

/* A SIMPLE_DATE_FORMAT time column: every value must match its pattern; the config refuses a
 * pattern Sluice cannot read and a time zone other than UTC. */
static void test_sdf_time_column(void **state)
{
    (void)state;
    static const char schema_fmt[] =
        "{\"schemaName\":\"s\",\"dimensionFieldSpecs\":[{\"name\":\"id\",\"dataType\":\"LONG\"}],"
        "\"dateTimeFieldSpecs\":[{\"name\":\"day\",\"dataType\":\"STRING\",\"format\":\"%s\","
        "\"granularity\":\"1:DAYS\"}]}";
    static const char table_json[] = "{\"tableName\":\"t\",\"tableType\":\"OFFLINE\","
                                     "\"segmentsConfig\":{\"timeColumnName\":\"day\"}}";
    static const char *const cases[][2] = {
        {"1:DAYS:SIMPLE_DATE_FORMAT:yyyyMMdd", NULL},
        {"SIMPLE_DATE_FORMAT|yyyyMMdd", NULL},
        {"SIMPLE_DATE_FORMAT|yyyyMMdd|UTC", NULL},
        {"SIMPLE_DATE_FORMAT|yyyyMMdd|America/New_York", "time zone America/New_York: only UTC"},
        {"1:DAYS:SIMPLE_DATE_FORMAT:yyyyww", "the letter 'w' is not supported"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char sj[512], err[1024];
        snprintf(sj, sizeof sj, schema_fmt, cases[k][0]);
        schema *s = schema_parse(sj, strlen(sj), "s", err, sizeof err);
        if (!s) fail_msg("%s: %s", cases[k][0], err);
        tcfg *t = tcfg_parse(table_json, strlen(table_json), "t", s, err, sizeof err);
        if (cases[k][1]) {
            assert_null(t);
            if (!strstr(err, cases[k][1])) fail_msg("\"%s\" lacks \"%s\"", err, cases[k][1]);
            schema_free(s);
            continue;
        }
        if (!t) fail_msg("%s: %s", cases[k][0], err);
        rowdec *d = rowdec_new_cfg(s, t, 0);
        const row *r;
        const char *ok = "{\"id\":1,\"day\":\"20240229\"}",
                   *bad = "{\"id\":2,\"day\":\"yesterday\"}",
                   *none = "{\"id\":3,\"day\":\"20230229\"}", *missing = "{\"id\":4}";
        assert_int_equal(rowdec_decode(d, (const uint8_t *)ok, strlen(ok), &r), ROWDEC_OK);
        assert_int_equal(rowdec_decode(d, (const uint8_t *)bad, strlen(bad), &r),
                         ROWDEC_WRONG_TYPE);
        assert_string_equal(rowdec_error_field(d), "day");
        assert_non_null(strstr(rowdec_error_detail(d), "time column"));
        assert_int_equal(rowdec_decode(d, (const uint8_t *)none, strlen(none), &r),
                         ROWDEC_WRONG_TYPE); /* no 29 February in 2023 */
        /* a missing value takes the default null value, as any column */
        assert_int_equal(rowdec_decode(d, (const uint8_t *)missing, strlen(missing), &r),
                         ROWDEC_OK);
        assert_true(r->cols[1].is_null);
        rowdec_free(d);
        /* without the table config (no time column) nothing is checked */
        d = rowdec_new(s, 0);
        assert_int_equal(rowdec_decode(d, (const uint8_t *)bad, strlen(bad), &r), ROWDEC_OK);
        rowdec_free(d);
        tcfg_free(t);
        schema_free(s);
    }
}

/* A missing or null time value takes the message's Kafka time in the column's format (the
 * same on every replica, never the clock); without a message time, the default. */
static void test_time_from_message(void **state)
{
    (void)state;
    static const struct {
        const char *type, *format;
        int64_t want;
        const char *want_s;
    } cases[] = {
        {"LONG", "1:SECONDS:EPOCH", INT64_C(1700000123), NULL},
        {"LONG", "EPOCH|DAYS", 19675, NULL},
        {"LONG", "EPOCH", INT64_C(1700000123450), NULL},
        {"TIMESTAMP", "1:MILLISECONDS:TIMESTAMP", INT64_C(1700000123450), NULL},
        {"INT", "1:HOURS:EPOCH", 472222, NULL},
        {"LONG", "5:MINUTES:EPOCH", INT64_C(5666667), NULL},
        {"LONG", "EPOCH|MICROSECONDS|1", INT64_C(1700000123450000), NULL},
        {"STRING", "SIMPLE_DATE_FORMAT|yyyy-MM-dd HH:mm", 0, "2023-11-14 22:15"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char sj[512], err[1024];
        snprintf(sj, sizeof sj,
                 "{\"schemaName\":\"s\",\"dimensionFieldSpecs\":[{\"name\":\"id\",\"dataType\":"
                 "\"LONG\"}],\"dateTimeFieldSpecs\":[{\"name\":\"t\",\"dataType\":\"%s\","
                 "\"format\":\"%s\",\"granularity\":\"1:SECONDS\"}]}",
                 cases[k].type, cases[k].format);
        schema *s = schema_parse(sj, strlen(sj), "s", err, sizeof err);
        if (!s) fail_msg("%s", err);
        static const char tj[] = "{\"tableName\":\"t\",\"tableType\":\"OFFLINE\","
                                 "\"segmentsConfig\":{\"timeColumnName\":\"t\"}}";
        tcfg *t = tcfg_parse(tj, strlen(tj), "t", s, err, sizeof err);
        if (!t) fail_msg("%s", err);
        rowdec *d = rowdec_new_cfg(s, t, 0);
        const row *r;
        const char *missing = "{\"id\":1}", *null_t = "{\"id\":1,\"t\":null}";
        for (int m = 0; m < 2; m++) {
            const char *msg = m ? null_t : missing;
            set_msg(d, INT64_C(1700000123450), NULL, 0, -1);
            assert_int_equal(rowdec_decode(d, (const uint8_t *)msg, strlen(msg), &r), ROWDEC_OK);
            const row_col *c = &r->cols[1];
            assert_true(c->is_null); /* the input had none */
            if (cases[k].want_s) {
                if (c->v.u.bytes.len != strlen(cases[k].want_s) ||
                    memcmp(c->v.u.bytes.ptr, cases[k].want_s, c->v.u.bytes.len))
                    fail_msg("%s: \"%.*s\"", cases[k].format, (int)c->v.u.bytes.len,
                             (const char *)c->v.u.bytes.ptr);
            } else if (!strcmp(cases[k].type, "INT")) {
                assert_int_equal(c->v.u.i32, cases[k].want);
            } else {
                assert_int_equal(c->v.u.i64, cases[k].want);
            }
        }
        /* no message time: the default null value */
        set_msg(d, INT64_MIN, NULL, 0, -1);
        assert_int_equal(rowdec_decode(d, (const uint8_t *)missing, strlen(missing), &r),
                         ROWDEC_OK);
        assert_memory_equal(&r->cols[1].v, &s->fields[1].default_null, sizeof r->cols[1].v);
        rowdec_free(d);
        tcfg_free(t);
        schema_free(s);
    }
}

/* Evaluate text with the inputs a, s and d (by name, whatever their order in text) taken
 * from named[0], named[1], named[2]. */
static bool eval_bool(xform_ctx *cx, const char *text, const xform_val *named)
{
    char err[256];
    xform_val in[3];
    xform_expr *e = xform_parse(text, err, sizeof err);
    if (!e) fail_msg("%s: %s", text, err);
    for (uint32_t k = 0; k < xform_ninputs(e) && k < 3; k++) {
        const char *nm = xform_input(e, k);
        in[k] = named[!strcmp(nm, "a") ? 0 : !strcmp(nm, "s") ? 1 : 2];
    }
    xform_free(e);
    xform_val v = eval_in(cx, text, in, 0, err, sizeof err);
    if (v.kind != XFORM_BOOL) fail_msg("%s: a %d, not a boolean", text, v.kind);
    return v.i != 0;
}

/* The filter language: Pinot's comparison and logic functions and the SQL operators that map
 * to them, with SQL's precedence; NULL in, NULL out (isNull aside). */
static void test_operators(void **state)
{
    (void)state;
    xform_ctx *cx = xform_ctx_new();
    xform_val in[3] = {L(5), S("abc"), {.kind = XFORM_DOUBLE, .d = 2.5}}; /* a, s, d */
    static const struct {
        const char *text;
        bool want;
    } cases[] = {
        {"a = 5", true},
        {"a <> 5", false},
        {"a != 4", true},
        {"a > 4 AND a < 6", true},
        {"a >= 5 AND a <= 5", true},
        {"a < 5 OR s = 'abc'", true},
        {"NOT a = 5", false},
        {"NOT (a = 5 OR a = 6)", false},
        {"a = 5 OR a = 6 AND a = 7", true}, /* AND before OR */
        {"(a = 5 OR a = 6) AND a = 7", false},
        {"a + 1 * 2 = 7", true}, /* * before + */
        {"(a + 1) * 2 = 12", true},
        {"a - 1 - 1 = 3", true}, /* left to right */
        {"-a = -5", true},
        {"a % 3 = 2", true},
        {"d * 2 = a", true}, /* 5.0 = 5 */
        {"a = '5'", true},   /* a numeric string against a number */
        {"s > 'abb' AND s < 'abd'", true},
        {"s = 'ABC'", false},
        {"a IN (1, 5, 9)", true},
        {"a NOT IN (1, 9)", true},
        {"s IN ('x', 'abc')", true},
        {"a BETWEEN 5 AND 6", true},
        {"a BETWEEN 6 AND 9", false},
        {"a NOT BETWEEN 1 AND 2", true},
        {"s IS NOT NULL", true},
        {"s IS NULL", false},
        {"equals(a, 5)", true},
        {"greaterThanOrEqual(d, 2.5)", true},
        {"and(a = 5, s = 'abc', d < 3)", true},
        {"or(false, not(true))", false},
        {"in(s, 'q', 'abc')", true},
        {"startsWith(s, 'ab') AND length(s) = 3", true},
        {"upper(s) = 'ABC' and a=5", true}, /* keywords in any case */
        {"true", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (eval_bool(cx, cases[i].text, in) != cases[i].want)
            fail_msg("%s: not %d", cases[i].text, cases[i].want);
    /* NULL: comparisons and logic give NULL, IS NULL sees it */
    xform_val nul[1] = {{.kind = XFORM_NULL}};
    want_null(cx, "a = 5", nul);
    want_null(cx, "a = 5 OR 1 = 1", nul);
    assert_true(eval_bool(cx, "a IS NULL", nul));
    assert_false(eval_bool(cx, "isNotNull(a)", nul));
    want_null(cx, "null", nul);
    /* failures */
    xform_val str[1] = {S("abc")};
    want_fail(cx, "a > 1", str, "\"abc\" is not a number");
    want_fail(cx, "a AND true", str, "a string is not a boolean");
    char err[512];
    static const char *const bad[][2] = {
        {"a = ", "an expression expected"},
        {"a IS 5", "expected NULL after IS"},
        {"a IN 1", "expected '(' after IN"},
        {"a IN (1, 2", "expected ',' or ')'"},
        {"a BETWEEN 1 OR 2", "expected AND in BETWEEN"},
        {"(a = 1", "expected ')'"},
        {"a AND", "an expression expected"},
        {"upper(s) BETWEEN 'a' AND 'b'", "BETWEEN needs a column or a number"},
        {"a IN (1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16)", "too many IN values"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        xform_expr *e = xform_parse(bad[i][0], err, sizeof err);
        if (e) fail_msg("accepted: %s", bad[i][0]);
        if (!strstr(err, bad[i][1])) fail_msg("%s: \"%s\" lacks \"%s\"", bad[i][0], err, bad[i][1]);
    }
    /* a deep chain of NOTs is bounded */
    char deep[400] = "";
    for (int k = 0; k < 40; k++)
        strcat(deep, "NOT ");
    strcat(deep, "true");
    assert_null(xform_parse(deep, err, sizeof err));
    assert_non_null(strstr(err, "nested too deeply"));
    done(cx);
}

/* Schema and table config from text (the test fails on an error). */
static void load(const char *sj, const char *tj, schema **s, tcfg **t)
{
    char err[2048];
    *s = schema_parse(sj, strlen(sj), "s", err, sizeof err);
    if (!*s) fail_msg("%s", err);
    *t = tj ? tcfg_parse(tj, strlen(tj), "t", *s, err, sizeof err) : NULL;
    if (tj && !*t) fail_msg("%s", err);
}

static const row *decode_ok(rowdec *d, const char *msg)
{
    const row *r;
    rowdec_reason why = rowdec_decode(d, (const uint8_t *)msg, strlen(msg), &r);
    if (why != ROWDEC_OK)
        fail_msg("%s: %s (%s)", msg, rowdec_reason_name(why), rowdec_error_detail(d));
    return r;
}

static void want_bytes(const row_col *c, const void *p, size_t n)
{
    if (c->v.u.bytes.len != n || memcmp(c->v.u.bytes.ptr, p, n)) {
        char hex[200] = "";
        for (uint32_t i = 0; i < c->v.u.bytes.len && i < 90; i++)
            snprintf(hex + 2 * i, 3, "%02x", c->v.u.bytes.ptr[i]);
        fail_msg("got %u bytes %s", c->v.u.bytes.len, hex);
    }
}

/* Pinot's geospatial functions: a point is its GeometrySerializer bytes (type byte, 0x80 for
 * a geography, then x and y as big-endian doubles). */
static void test_geo(void **state)
{
    (void)state;
    xform_ctx *cx = xform_ctx_new();
    char err[256];
    xform_val in[3] = {{.kind = XFORM_DOUBLE, .d = -122.4}, {.kind = XFORM_DOUBLE, .d = 37.8}};
    static const unsigned char point[17] = {0x00, 0xc0, 0x5e, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a,
                                            0x40, 0x42, 0xe6, 0x66, 0x66, 0x66, 0x66, 0x66};
    xform_val v = eval_in(cx, "stPoint(x, y)", in, 0, err, sizeof err);
    assert_int_equal(v.kind, XFORM_BYTES);
    assert_int_equal(v.len, 17);
    assert_memory_equal(v.s, point, 17);
    v = eval_in(cx, "toSphericalGeography(ST_Point(x, y))", in, 0, err, sizeof err);
    assert_int_equal((unsigned char)v.s[0], 0x80);
    assert_memory_equal(v.s + 1, point + 1, 16);
    v = eval_in(cx, "toGeometry(toSphericalGeography(stPoint(x, y)))", in, 0, err, sizeof err);
    assert_memory_equal(v.s, point, 17);
    in[2] = (xform_val){.kind = XFORM_BOOL, .i = 1};
    v = eval_in(cx, "stPoint(x, y, g)", in, 0, err, sizeof err);
    assert_int_equal((unsigned char)v.s[0], 0x80);
    /* strings convert as Pinot's DOUBLE parameters do; NULL in, NULL out */
    in[0] = S("-122.4");
    v = eval_in(cx, "stPoint(x, y)", in, 0, err, sizeof err);
    assert_memory_equal(v.s, point, 17);
    in[0] = (xform_val){.kind = XFORM_NULL};
    want_null(cx, "stPoint(x, y)", in);
    in[0] = S("west");
    want_fail(cx, "stPoint(x, y)", in, "\"west\" is not a number");
    want_fail(cx, "toSphericalGeography(x)", in, "not a serialized geometry");
    /* a STRING given bytes stores their hex */
    in[0] = (xform_val){.kind = XFORM_DOUBLE, .d = -122.4};
    want_str(cx, "concat(stPoint(x, y), '')", in, "00c05e99999999999a4042e66666666666");
    done(cx);
}

/* A schema field's own transformFunction (Pinot's older form) runs as a transformConfig does;
 * an ingestionConfig transform into the same column wins; a BYTES column takes BYTES. */
static void test_schema_field_transforms(void **state)
{
    (void)state;
    static const char sj[] =
        "{\"schemaName\":\"s\",\"dimensionFieldSpecs\":[{\"name\":\"lon\",\"dataType\":\"DOUBLE\"},"
        "{\"name\":\"lat\",\"dataType\":\"DOUBLE\"},{\"name\":\"loc\",\"dataType\":\"BYTES\","
        "\"transformFunction\":\"toSphericalGeography(stPoint(lon,lat))\"},"
        "{\"name\":\"up\",\"dataType\":\"STRING\",\"transformFunction\":\"upper(name)\"}]}";
    static const char tj[] =
        "{\"tableName\":\"t\",\"tableType\":\"OFFLINE\",\"ingestionConfig\":{\"transformConfigs\":"
        "[{\"columnName\":\"up\",\"transformFunction\":\"lower(name)\"}]}}";
    schema *s;
    tcfg *t;
    load(sj, tj, &s, &t);
    /* the canonical schema keeps the function, so a segment's metadata carries it */
    size_t len;
    char *canon = schema_to_json(s, &len);
    assert_non_null(
        strstr(canon, "\"transformFunction\":\"toSphericalGeography(stPoint(lon,lat))\""));
    free(canon);
    static const unsigned char geog[17] = {0x80, 0x40, 0x24, 0, 0, 0, 0, 0, 0,
                                           0xc0, 0x34, 0,    0, 0, 0, 0, 0};
    for (int with_cfg = 0; with_cfg < 2; with_cfg++) {
        rowdec *d = rowdec_new_cfg(s, with_cfg ? t : NULL, 0);
        const row *r = decode_ok(d, "{\"lon\":10,\"lat\":-20,\"name\":\"Ada\"}");
        want_bytes(&r->cols[2], geog, 17);
        want_bytes(&r->cols[3], with_cfg ? "ada" : "ADA", 3);
        /* a value in the message is kept */
        r = decode_ok(d, "{\"lon\":10,\"lat\":-20,\"loc\":\"ff\",\"up\":\"x\"}");
        want_bytes(&r->cols[2], "\xff", 1);
        want_bytes(&r->cols[3], "x", 1);
        /* a NULL input gives NULL: the default (empty bytes), marked null */
        r = decode_ok(d, "{\"lon\":10}");
        assert_true(r->cols[2].is_null);
        assert_int_equal(r->cols[2].v.u.bytes.len, 0);
        rowdec_free(d);
    }
    tcfg_free(t);
    schema_free(s);
}

/* rowTimeValueCheck (Pinot's TimeValidationTransformer): a time outside 1971-01-01 to
 * 2071-01-01 rejects the row, or under continueOnError becomes null and then the Kafka time. */
static void test_row_time_check(void **state)
{
    (void)state;
    static const char *const formats[] = {"1:MILLISECONDS:EPOCH", "1:SECONDS:EPOCH",
                                          "1:DAYS:EPOCH"};
    static const int64_t per_ms[] = {1, 1000, 86400000}; /* ms per unit */
    for (size_t f = 0; f < 3; f++) {
        char sj[512], tj[512];
        snprintf(sj, sizeof sj,
                 "{\"schemaName\":\"s\",\"dimensionFieldSpecs\":[{\"name\":\"id\",\"dataType\":"
                 "\"INT\"}],\"dateTimeFieldSpecs\":[{\"name\":\"t\",\"dataType\":\"LONG\","
                 "\"format\":\"%s\",\"granularity\":\"1:SECONDS\"}]}",
                 formats[f]);
        for (int coe = 0; coe < 2; coe++) {
            snprintf(
                tj, sizeof tj,
                "{\"tableName\":\"t\",\"tableType\":\"OFFLINE\",\"segmentsConfig\":"
                "{\"timeColumnName\":\"t\"},\"ingestionConfig\":{\"rowTimeValueCheck\":true%s}}",
                coe ? ",\"continueOnError\":true" : "");
            schema *s;
            tcfg *t;
            load(sj, tj, &s, &t);
            rowdec *d = rowdec_new_cfg(s, t, 0);
            int64_t lo = INT64_C(31536000000) / per_ms[f], hi = INT64_C(3187296000000) / per_ms[f];
            const int64_t good[] = {lo, hi, INT64_C(1700000000000) / per_ms[f]};
            const int64_t bad[] = {lo - 1, hi + 1, 0, -1, INT64_MAX};
            char msg[128];
            const row *r;
            for (size_t i = 0; i < 3; i++) {
                snprintf(msg, sizeof msg, "{\"t\":%" PRId64 "}", good[i]);
                r = decode_ok(d, msg);
                assert_int_equal(r->cols[1].v.u.i64, good[i]);
            }
            for (size_t i = 0; i < 5; i++) {
                if (f == 2 && bad[i] == INT64_MAX) continue; /* days past INT64 ms: saturates */
                snprintf(msg, sizeof msg, "{\"t\":%" PRId64 "}", bad[i]);
                set_msg(d, INT64_C(1700000123450), NULL, 0, 7);
                rowdec_reason why = rowdec_decode(d, (const uint8_t *)msg, strlen(msg), &r);
                if (!coe) {
                    if (why != ROWDEC_TIME_RANGE) fail_msg("%s %s: %d", formats[f], msg, why);
                    assert_string_equal(rowdec_reason_name(why), "time_out_of_range");
                    assert_non_null(strstr(rowdec_error_detail(d), "outside 1971-01-01"));
                } else {
                    assert_int_equal(why, ROWDEC_OK);
                    assert_true(r->cols[1].is_null);
                    assert_int_equal(r->cols[1].v.u.i64, INT64_C(1700000123450) / per_ms[f]);
                }
            }
            /* without a message time the null keeps the default */
            if (coe) {
                set_msg(d, INT64_MIN, NULL, 0, -1);
                r = decode_ok(d, "{\"t\":0}");
                assert_int_equal(r->cols[1].v.u.i64, INT64_MIN);
            }
            rowdec_free(d);
            tcfg_free(t);
            schema_free(s);
        }
    }
}

/* stream.kafka.metadata.populate: __key, __metadata$offset and __metadata$recordTimestamp
 * take the message's key (UTF-8, bad bytes as U+FFFD), offset and timestamp. */
static void test_metadata_populate(void **state)
{
    (void)state;
    static const char sj[] = "{\"schemaName\":\"s\",\"dimensionFieldSpecs\":[{\"name\":\"__key\","
                             "\"dataType\":\"STRING\"},"
                             "{\"name\":\"__metadata$offset\",\"dataType\":\"LONG\"},"
                             "{\"name\":\"__metadata$recordTimestamp\",\"dataType\":\"STRING\"},"
                             "{\"name\":\"v\",\"dataType\":\"INT\"}]}";
    static const char tj[] =
        "{\"tableName\":\"t\",\"tableType\":\"REALTIME\",\"tableIndexConfig\":{\"streamConfigs\":"
        "{\"stream.kafka.topic.name\":\"e\",\"stream.kafka.broker.list\":\"h:1\","
        "\"stream.kafka.metadata.populate\":\"true\"}}}";
    schema *s;
    tcfg *t;
    load(sj, tj, &s, &t);
    rowdec *d = rowdec_new_cfg(s, t, 0);
    set_msg(d, INT64_C(1700000000123), "k\xffy\xc3\xa9", 5, 42);
    const row *r = decode_ok(d, "{\"v\":1,\"__key\":\"mine\"}");
    want_bytes(&r->cols[0], "k\xef\xbf\xbdy\xc3\xa9", 7);
    assert_int_equal(r->cols[1].v.u.i64, 42);
    want_bytes(&r->cols[2], "1700000000123", 13);
    assert_int_equal(r->cols[3].v.u.i32, 1);
    /* no key, no timestamp: nulls */
    set_msg(d, INT64_MIN, NULL, 0, 43);
    r = decode_ok(d, "{\"v\":2}");
    assert_true(r->cols[0].is_null);
    assert_int_equal(r->cols[1].v.u.i64, 43);
    assert_true(r->cols[2].is_null);
    rowdec_free(d);
    /* without populate the message's own values are read */
    tcfg_free(t);
    d = rowdec_new_cfg(s, NULL, 0);
    set_msg(d, 5, "k", 1, 9);
    r = decode_ok(d, "{\"__key\":\"mine\",\"__metadata$offset\":3}");
    want_bytes(&r->cols[0], "mine", 4);
    assert_int_equal(r->cols[1].v.u.i64, 3);
    rowdec_free(d);
    schema_free(s);
}

/* stream.kafka.metadata.populate with Kafka headers, the partition and the value size, as
 * Pinot's consumer puts them in the row: a header's bytes are hex in a STRING column and raw
 * in a BYTES one, the last header of a name wins, a null or absent header is null, a BYTES
 * __key keeps its bytes; __metadata$recordSerializedValueSize is there populate or not; a
 * header column of another type is refused with the table config. */
static void test_metadata_headers(void **state)
{
    (void)state;
    static const char sj[] =
        "{\"schemaName\":\"s\",\"dimensionFieldSpecs\":["
        "{\"name\":\"__header$trace\",\"dataType\":\"STRING\"},"
        "{\"name\":\"__header$raw\",\"dataType\":\"BYTES\"},"
        "{\"name\":\"__header$none\",\"dataType\":\"STRING\"},"
        "{\"name\":\"__header$absent\",\"dataType\":\"STRING\"},"
        "{\"name\":\"__metadata$partition\",\"dataType\":\"INT\"},"
        "{\"name\":\"__metadata$recordSerializedValueSize\",\"dataType\":\"INT\"},"
        "{\"name\":\"__key\",\"dataType\":\"BYTES\"},"
        "{\"name\":\"v\",\"dataType\":\"INT\"}]}";
#define TJ(populate)                                                                               \
    "{\"tableName\":\"t\",\"tableType\":\"REALTIME\",\"tableIndexConfig\":{\"streamConfigs\":"     \
    "{\"stream.kafka.topic.name\":\"e\",\"stream.kafka.broker.list\":\"h:1\","                     \
    "\"stream.kafka.metadata.populate\":\"" populate "\"}}}"
    schema *s;
    tcfg *t;
    load(sj, TJ("true"), &s, &t);
    rowdec *d = rowdec_new_cfg(s, t, 0);
    assert_true(rowdec_wants_headers(d));
    const rowdec_header hs[] = {{"trace", 5, "ab", 2},
                                {"raw", 3, "\x00\x01\xff", 3},
                                {"trace", 5, "\x01\xff", 2},
                                {"none", 4, NULL, 0},
                                {"trac", 4, "x", 1}};
    rowdec_msg m = {.ms = 7,
                    .key = "\x00k",
                    .keylen = 2,
                    .offset = 3,
                    .partition = 12,
                    .headers = hs,
                    .nheaders = 5};
    rowdec_set_message(d, &m);
    const char *msg = "{\"v\":1,\"__header$absent\":\"mine\"}";
    const row *r = decode_ok(d, msg);
    want_bytes(&r->cols[0], "01ff", 4);
    want_bytes(&r->cols[1], "\x00\x01\xff", 3);
    assert_true(r->cols[2].is_null);
    assert_true(r->cols[3].is_null); /* Pinot's row holds the headers it got, not the value's */
    assert_int_equal(r->cols[4].v.u.i32, 12);
    assert_int_equal(r->cols[5].v.u.i32, (int32_t)strlen(msg));
    want_bytes(&r->cols[6], "\x00k", 2);
    assert_int_equal(r->cols[7].v.u.i32, 1);
    /* no headers at all, an empty header value */
    const rowdec_header empty[] = {{"raw", 3, "", 0}};
    m = (rowdec_msg){.ms = 7, .offset = 4, .partition = 0, .headers = empty, .nheaders = 1};
    rowdec_set_message(d, &m);
    r = decode_ok(d, "{\"v\":2}");
    assert_true(r->cols[0].is_null);
    assert_false(r->cols[1].is_null);
    assert_int_equal(r->cols[1].v.u.bytes.len, 0);
    assert_int_equal(r->cols[4].v.u.i32, 0);
    assert_int_equal(r->cols[5].v.u.i32, 7);
    assert_true(r->cols[6].is_null);
    rowdec_free(d);
    tcfg_free(t);

    /* populate off: only the value size is Kafka's; the rest comes from the message */
    char err[1024];
    t = tcfg_parse(TJ("false"), strlen(TJ("false")), "t", s, err, sizeof err);
    assert_non_null(t);
    d = rowdec_new_cfg(s, t, 0);
    assert_false(rowdec_wants_headers(d));
    rowdec_set_message(d, &(rowdec_msg){.ms = 7, .offset = 5, .partition = 3});
    r = decode_ok(d, "{\"v\":3,\"__metadata$partition\":9,\"__header$trace\":\"own\"}");
    want_bytes(&r->cols[0], "own", 3);
    assert_int_equal(r->cols[4].v.u.i32, 9);
    assert_int_equal(r->cols[5].v.u.i32, 55);
    rowdec_free(d);
    tcfg_free(t);
    schema_free(s);

    static const char bad[] = "{\"schemaName\":\"s\",\"dimensionFieldSpecs\":["
                              "{\"name\":\"__header$n\",\"dataType\":\"LONG\"}]}";
    s = schema_parse(bad, strlen(bad), "s", err, sizeof err);
    assert_non_null(s);
    assert_null(tcfg_parse(TJ("true"), strlen(TJ("true")), "t", s, err, sizeof err));
    assert_non_null(strstr(err, "column __header$n is a LONG"));
    t = tcfg_parse(TJ("false"), strlen(TJ("false")), "t", s, err, sizeof err);
    assert_non_null(t); /* without populate it is an ordinary column of the message */
    tcfg_free(t);
    schema_free(s);
#undef TJ
}

/* Multi-value transforms in the decoder: split and jsonPathArray fill multi-value columns
 * (null elements dropped, none at all is the default), a scalar fills one value, a
 * one-element result fills a single-value column and a longer one rejects the row; with
 * continueOnError the column is null instead. Elements convert to the column's type. */
static void test_decoder_multi_value_transforms(void **state)
{
    (void)state;
    static const char sj[] =
        "{\"schemaName\":\"s\",\"dimensionFieldSpecs\":["
        "{\"name\":\"tags\",\"dataType\":\"STRING\",\"singleValueField\":false},"
        "{\"name\":\"ids\",\"dataType\":\"INT\",\"singleValueField\":false},"
        "{\"name\":\"first\",\"dataType\":\"STRING\"},"
        "{\"name\":\"lone\",\"dataType\":\"STRING\",\"singleValueField\":false},"
        "{\"name\":\"csv\",\"dataType\":\"STRING\"},{\"name\":\"doc\",\"dataType\":\"STRING\"}]}";
#define MVT(coe)                                                                                   \
    "{\"tableName\":\"t\",\"tableType\":\"REALTIME\",\"ingestionConfig\":{"                        \
    "\"continueOnError\":" coe ",\"transformConfigs\":["                                           \
    "{\"columnName\":\"tags\",\"transformFunction\":\"split(csv, ',')\"},"                         \
    "{\"columnName\":\"ids\",\"transformFunction\":\"jsonPathArray(doc, '$.items[*].id')\"},"      \
    "{\"columnName\":\"first\",\"transformFunction\":\"split(csv, ';')\"},"                        \
    "{\"columnName\":\"lone\",\"transformFunction\":\"lower(csv)\"}],"                             \
    "\"streamIngestionConfig\":{\"streamConfigMaps\":[{\"stream.kafka.topic.name\":\"e\","         \
    "\"stream.kafka.broker.list\":\"h:1\"}]}}}"
    schema *s;
    tcfg *t;
    load(sj, MVT("false"), &s, &t);
    rowdec *d = rowdec_new_cfg(s, t, 0);
    const row *r = decode_ok(
        d, "{\"csv\":\"B,a,,c\",\"doc\":\"{\\\"items\\\":[{\\\"id\\\":7},{\\\"id\\\":null},"
           "{\\\"id\\\":\\\"8\\\"},{\\\"x\\\":1}]}\"}");
    assert_int_equal(r->cols[0].nvals, 3);
    want_bytes(&r->cols[0], "B", 1);
    assert_int_equal(r->cols[0].mv[2].u.bytes.len, 1);
    assert_memory_equal(r->cols[0].mv[2].u.bytes.ptr, "c", 1);
    assert_int_equal(r->cols[1].nvals, 2);
    assert_int_equal(r->cols[1].mv[0].u.i32, 7);
    assert_int_equal(r->cols[1].mv[1].u.i32, 8);
    want_bytes(&r->cols[2], "B,a,,c", 6); /* one token: the value */
    assert_int_equal(r->cols[3].nvals, 1);
    want_bytes(&r->cols[3], "b,a,,c", 6);
    /* the message's own values win; no match is the default null */
    r = decode_ok(d, "{\"csv\":\"\",\"doc\":\"{}\",\"tags\":[\"own\"]}");
    assert_int_equal(r->cols[0].nvals, 1);
    want_bytes(&r->cols[0], "own", 3);
    assert_true(r->cols[1].is_null);
    assert_true(r->cols[2].is_null); /* split("") is empty */
    /* two tokens for a single-value column */
    const row *bad;
    const char *two = "{\"csv\":\"x;y\",\"doc\":\"{}\"}";
    assert_int_equal(rowdec_decode(d, (const uint8_t *)two, strlen(two), &bad), ROWDEC_TRANSFORM);
    assert_non_null(strstr(rowdec_error_detail(d), "2 values for a single-value column"));
    const char *nan = "{\"csv\":\"x\",\"doc\":\"{\\\"items\\\":[{\\\"id\\\":\\\"q\\\"}]}\"}";
    assert_int_not_equal(rowdec_decode(d, (const uint8_t *)nan, strlen(nan), &bad), ROWDEC_OK);
    rowdec_free(d);
    tcfg_free(t);
    char err[512];
    t = tcfg_parse(MVT("true"), strlen(MVT("true")), "t", s, err, sizeof err);
    assert_non_null(t);
    d = rowdec_new_cfg(s, t, 0);
    r = decode_ok(d, "{\"csv\":\"x;y\",\"doc\":\"{}\"}"); /* continueOnError: null */
    assert_true(r->cols[2].is_null);
    assert_int_equal(r->cols[0].nvals, 1);
    rowdec_free(d);
    tcfg_free(t);
    schema_free(s);
#undef MVT
}

/* ingestionConfig.filterConfig: a message the filter is true for gives no row and no error;
 * the filter sees a transformed column's new value; a failing filter rejects the message, or
 * under continueOnError keeps it; NULL keeps it. */
static void test_filter_config(void **state)
{
    (void)state;
    static const char sj[] =
        "{\"schemaName\":\"s\",\"dimensionFieldSpecs\":[{\"name\":\"s\",\"dataType\":\"STRING\"},"
        "{\"name\":\"n\",\"dataType\":\"LONG\"}]}";
    for (int coe = 0; coe < 2; coe++) {
        char tj[1024];
        snprintf(tj, sizeof tj,
                 "{\"tableName\":\"t\",\"tableType\":\"OFFLINE\",\"ingestionConfig\":{"
                 "\"filterConfig\":{\"filterFunction\":\"s = 'drop' OR n > 10 OR raw < 0\"},"
                 "\"transformConfigs\":[{\"columnName\":\"n\",\"transformFunction\":"
                 "\"times(m, 2)\"}]%s}}",
                 coe ? ",\"continueOnError\":true" : "");
        schema *s;
        tcfg *t;
        load(sj, tj, &s, &t);
        rowdec *d = rowdec_new_cfg(s, t, 0);
        const row *r;
        static const struct {
            const char *msg;
            bool keep;
        } cases[] = {
            {"{\"s\":\"keep\",\"n\":1,\"raw\":1}", true},
            {"{\"s\":\"drop\",\"n\":1,\"raw\":1}", false},
            {"{\"s\":\"keep\",\"n\":11,\"raw\":1}", false},
            {"{\"s\":\"keep\",\"m\":6,\"raw\":1}", false}, /* n = 12: the transform's value */
            {"{\"s\":\"keep\",\"m\":5,\"raw\":1}", true},
            {"{\"s\":\"keep\",\"n\":1,\"raw\":-1}", false}, /* raw is not a column */
            {"{\"n\":1,\"raw\":1}", true},                  /* s NULL: the filter is NULL */
        };
        uint64_t dropped = 0;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            assert_int_equal(
                rowdec_decode(d, (const uint8_t *)cases[i].msg, strlen(cases[i].msg), &r),
                ROWDEC_OK);
            if ((r != NULL) != cases[i].keep) fail_msg("%s: kept %d", cases[i].msg, r != NULL);
            dropped += !cases[i].keep;
        }
        assert_int_equal(rowdec_filtered(d), dropped);
        const char *bad = "{\"s\":\"keep\",\"n\":1,\"raw\":\"x\"}";
        rowdec_reason why = rowdec_decode(d, (const uint8_t *)bad, strlen(bad), &r);
        if (!coe) {
            assert_int_equal(why, ROWDEC_TRANSFORM);
            assert_non_null(strstr(rowdec_error_detail(d), "filterFunction: "));
        } else {
            assert_int_equal(why, ROWDEC_OK);
            assert_non_null(r);
        }
        rowdec_free(d);
        tcfg_free(t);
        schema_free(s);
    }
    /* the config's mistakes, each named */
    static const char *const bad[][2] = {
        {"{\"filterFunction\":\"Groovy({x > 1}, x)\"}",
         "filterFunction: \"Groovy({x > 1}, x)\": Groovy"},
        {"{\"filterFunction\":5}", "filterFunction: expected a string"},
        {"{\"filterFunction\":\"a >\"}", "filterFunction: \"a >\": an expression expected"},
        {"{\"filterFunctoin\":\"a > 1\"}", "filterConfig.filterFunctoin: unsupported key"},
        {"[1]", "ingestionConfig.filterConfig: expected an object"},
        {"{\"filterFunction\":\"tags = 'x'\"}", "reads the multi-value column tags"},
    };
    schema *s;
    tcfg *t;
    load(
        "{\"schemaName\":\"s\",\"dimensionFieldSpecs\":[{\"name\":\"tags\",\"dataType\":\"STRING\","
        "\"singleValueField\":false}]}",
        NULL, &s, &t);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char tj[512], err[2048];
        snprintf(
            tj, sizeof tj,
            "{\"tableName\":\"t\",\"tableType\":\"OFFLINE\",\"ingestionConfig\":{\"filterConfig\":"
            "%s}}",
            bad[i][0]);
        t = tcfg_parse(tj, strlen(tj), "t", s, err, sizeof err);
        if (t) fail_msg("accepted: %s", bad[i][0]);
        if (!strstr(err, bad[i][1])) fail_msg("%s: \"%s\" lacks \"%s\"", bad[i][0], err, bad[i][1]);
    }
    schema_free(s);
}

/* A JSON column stores each value's canonical JSON text (Pinot's PinotDataType.toJson): an
 * object with its keys sorted, an array, number or boolean re-serialized; a string that is a
 * JSON document as that document (BigDecimals); any other string as a JSON string. Its default
 * maxLength strategy is NO_ACTION. */
static void test_json_column(void **state)
{
    (void)state;
    schema *s;
    tcfg *t;
    load("{\"schemaName\":\"s\",\"dimensionFieldSpecs\":[{\"name\":\"j\",\"dataType\":\"JSON\"},"
         "{\"name\":\"e\",\"dataType\":\"JSON\",\"maxLength\":8,\"maxLengthExceedStrategy\":"
         "\"ERROR\"}]}",
         NULL, &s, &t);
    assert_true(s->fields[0].json);
    assert_int_equal(s->fields[0].type, SCHEMA_STRING);
    size_t len;
    char *canon = schema_to_json(s, &len);
    assert_non_null(strstr(canon, "{\"name\":\"j\",\"dataType\":\"JSON\""));
    free(canon);
    static const char *const cases[][2] = {
        /* an object is a map: its keys sorted, its decimals doubles */
        {"{\"j\":{ \"b\" : [1.50, 1e2, -0], \"a\":\"x\\/\\u00e9\" }}",
         "{\"a\":\"x/\xc3\xa9\",\"b\":[1.5,100.0,0]}"},
        /* an array keeps its objects' key order */
        {"{\"j\":[{\"z\":1,\"a\":2}]}", "[{\"z\":1,\"a\":2}]"},
        /* a string of JSON is re-parsed with BigDecimals, keys in their order */
        {"{\"j\":\"{\\\"z\\\": 10.0, \\\"a\\\": 1.50}\"}", "{\"z\":1E+1,\"a\":1.5}"},
        {"{\"j\":[ ]}", "[]"},
        {"{\"j\":\"not json\"}", "\"not json\""},
        {"{\"j\":\"{\\\"k\\\": 2}\"}", "{\"k\":2}"},
        {"{\"j\":\"12\"}", "12"},
        {"{\"j\":\"say \\\"hi\\\"\\n\"}", "\"say \\\"hi\\\"\\n\""},
        {"{\"j\":12}", "12"},
        {"{\"j\":3.0e-5}", "3.0E-5"},
        {"{\"j\":true}", "true"},
    };
    rowdec *d = rowdec_new(s, 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const row *r = decode_ok(d, cases[i][0]);
        assert_false(r->cols[0].is_null);
        const row_col *c = &r->cols[0];
        if (c->v.u.bytes.len != strlen(cases[i][1]) ||
            memcmp(c->v.u.bytes.ptr, cases[i][1], c->v.u.bytes.len))
            fail_msg("%s: got %.*s want %s", cases[i][0], (int)c->v.u.bytes.len,
                     (const char *)c->v.u.bytes.ptr, cases[i][1]);
    }
    /* null and missing: the default "null", marked null */
    const row *r = decode_ok(d, "{\"j\":null}");
    assert_true(r->cols[0].is_null);
    want_bytes(&r->cols[0], "null", 4);
    /* longer than 512 is kept whole (NO_ACTION); an explicit ERROR strategy rejects */
    char big[1200];
    int n = snprintf(big, sizeof big, "{\"j\":\"");
    memset(big + n, 'a', 700);
    snprintf(big + n + 700, sizeof big - (size_t)n - 700, "\"}");
    r = decode_ok(d, big);
    assert_int_equal(r->cols[0].v.u.bytes.len, 702);
    const char *longe = "{\"e\":{\"key\":\"value\"}}";
    assert_int_equal(rowdec_decode(d, (const uint8_t *)longe, strlen(longe), &r), ROWDEC_TOO_LONG);
    rowdec_free(d);
    schema_free(s);
}

/* Column-based null handling: a notNull column records no nulls (Pinot writes no null vector
 * for it), a nullable one does; without it every column records its nulls. */
static void test_column_nulls(void **state)
{
    (void)state;
    for (int cb = 0; cb < 3; cb++) {
        char sj[512];
        snprintf(sj, sizeof sj,
                 "{\"schemaName\":\"s\",%s\"dimensionFieldSpecs\":[{\"name\":\"a\",\"dataType\":"
                 "\"INT\",\"notNull\":true},{\"name\":\"b\",\"dataType\":\"INT\"}]}",
                 cb == 0   ? ""
                 : cb == 1 ? "\"enableColumnBasedNullHandling\":false,"
                           : "\"enableColumnBasedNullHandling\":true,");
        schema *s;
        tcfg *t;
        load(sj, NULL, &s, &t);
        assert_int_equal(schema_records_nulls(s, 0), cb != 2);
        assert_true(schema_records_nulls(s, 1));
        size_t len;
        char *canon = schema_to_json(s, &len);
        assert_int_equal(strstr(canon, "\"enableColumnBasedNullHandling\":true") != NULL, cb == 2);
        free(canon);
        rowdec *d = rowdec_new(s, 0);
        mseg *m = mseg_new(s, NULL);
        assert_int_equal(mseg_append(m, decode_ok(d, "{}")), 0);
        assert_int_equal(mseg_read_is_null(m, 0, 0), cb != 2);
        assert_true(mseg_read_is_null(m, 1, 0));
        mseg_free(m);
        rowdec_free(d);
        schema_free(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_date_time),
        cmocka_unit_test(test_date_time_patterns),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_multi_value_functions),
        cmocka_unit_test(test_arithmetic_and_literals),
        cmocka_unit_test(test_decoder_applies_transforms),
        cmocka_unit_test(test_operators),
        cmocka_unit_test(test_filter_config),
        cmocka_unit_test(test_geo),
        cmocka_unit_test(test_json_column),
        cmocka_unit_test(test_column_nulls),
        cmocka_unit_test(test_schema_field_transforms),
        cmocka_unit_test(test_row_time_check),
        cmocka_unit_test(test_metadata_populate),
        cmocka_unit_test(test_metadata_headers),
        cmocka_unit_test(test_decoder_multi_value_transforms),
        cmocka_unit_test(test_sdf_time_column),
        cmocka_unit_test(test_time_from_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
