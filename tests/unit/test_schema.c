/* Unit tests for common/schema.c: Pinot schema parsing, defaults, rejections and the canonical
 * JSON round trip. */
#include "common/schema.h"
#include "common/jsonw.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char full_schema[] =
    "{\"schemaName\":\"all\","
    "\"dimensionFieldSpecs\":["
    "{\"name\":\"i\",\"dataType\":\"INT\"},"
    "{\"name\":\"l\",\"dataType\":\"LONG\",\"singleValueField\":true},"
    "{\"name\":\"f\",\"dataType\":\"FLOAT\"},"
    "{\"name\":\"d\",\"dataType\":\"DOUBLE\"},"
    "{\"name\":\"b\",\"dataType\":\"BOOLEAN\"},"
    "{\"name\":\"t\",\"dataType\":\"TIMESTAMP\"},"
    "{\"name\":\"s\",\"dataType\":\"STRING\"},"
    "{\"name\":\"y\",\"dataType\":\"BYTES\"},"
    "{\"name\":\"tags\",\"dataType\":\"STRING\",\"singleValueField\":false}],"
    "\"metricFieldSpecs\":["
    "{\"name\":\"mi\",\"dataType\":\"INT\"},"
    "{\"name\":\"ml\",\"dataType\":\"LONG\"},"
    "{\"name\":\"mf\",\"dataType\":\"FLOAT\"},"
    "{\"name\":\"md\",\"dataType\":\"DOUBLE\"},"
    "{\"name\":\"my\",\"dataType\":\"BYTES\"}],"
    "\"dateTimeFieldSpecs\":["
    "{\"name\":\"ts\",\"dataType\":\"LONG\",\"format\":\"1:MILLISECONDS:EPOCH\","
    "\"granularity\":\"1:MILLISECONDS\"},"
    "{\"name\":\"tt\",\"dataType\":\"TIMESTAMP\",\"format\":\"TIMESTAMP\","
    "\"granularity\":\"1:SECONDS\"},"
    "{\"name\":\"day\",\"dataType\":\"STRING\","
    "\"format\":\"1:DAYS:SIMPLE_DATE_FORMAT:yyyy-MM-dd HH:mm\",\"granularity\":\"DAYS|1\"}]}";

static schema *parse_ok(const char *json)
{
    char err[512] = "";
    schema *s = schema_parse(json, strlen(json), "t.json", err, sizeof err);
    if (!s) fail_msg("unexpected error: %s", err);
    return s;
}

static void test_names_and_widths(void **state)
{
    (void)state;
    assert_string_equal(schema_type_name(SCHEMA_INT), "INT");
    assert_string_equal(schema_type_name(SCHEMA_BYTES), "BYTES");
    assert_string_equal(schema_type_name(SCHEMA_TYPE__COUNT), "?");
    assert_string_equal(schema_role_name(SCHEMA_METRIC), "metric");
    assert_string_equal(schema_role_name(SCHEMA_DATETIME), "dateTime");
    assert_int_equal(schema_type_width(SCHEMA_INT), 4);
    assert_int_equal(schema_type_width(SCHEMA_LONG), 8);
    assert_int_equal(schema_type_width(SCHEMA_FLOAT), 4);
    assert_int_equal(schema_type_width(SCHEMA_DOUBLE), 8);
    assert_int_equal(schema_type_width(SCHEMA_BOOLEAN), 4);
    assert_int_equal(schema_type_width(SCHEMA_TIMESTAMP), 8);
    assert_int_equal(schema_type_width(SCHEMA_STRING), 0);
    assert_int_equal(schema_type_width(SCHEMA_BYTES), 0);
    assert_int_equal(schema_type_width(SCHEMA_TYPE__COUNT), 0);
    for (int t = 0; t <= SCHEMA_TYPE__COUNT; t++)
        assert_int_equal(schema_type_is_var((schema_type)t),
                         t == SCHEMA_STRING || t == SCHEMA_BYTES);
}

/* One value per type, as `segment dump` writes it (real_point false) and as the canonical
 * schema text writes a default (real_point true: reals keep a '.'). */
static void test_value_json(void **state)
{
    (void)state;
    schema_value v[10];
    memset(v, 0, sizeof v);
    v[0].u.i32 = -7;
    v[1].u.i64 = INT64_C(-9223372036854775807) - 1;
    v[2].u.f32 = 1.0f;
    v[3].u.f64 = 0.1;
    v[4].u.i32 = 1;
    v[5].u.i64 = 1714557700000;
    v[6].u.bytes.ptr = (const uint8_t *)"a\"b";
    v[6].u.bytes.len = 3;
    v[7].u.bytes.ptr = (const uint8_t *)"\x00\xfe";
    v[7].u.bytes.len = 2;
    v[8].u.f64 = -INFINITY;
    v[9].u.f32 = 3e38f;
    const schema_type t[10] = {SCHEMA_INT,     SCHEMA_LONG,      SCHEMA_FLOAT,  SCHEMA_DOUBLE,
                               SCHEMA_BOOLEAN, SCHEMA_TIMESTAMP, SCHEMA_STRING, SCHEMA_BYTES,
                               SCHEMA_DOUBLE,  SCHEMA_FLOAT};
    for (int point = 0; point < 2; point++) {
        jsonw w;
        jsonw_init(&w);
        jsonw_arr_begin(&w);
        for (int i = 0; i < 10; i++)
            schema_value_json(&w, t[i], &v[i], point);
        schema_value_json(&w, SCHEMA_TYPE__COUNT, &v[0], point);
        jsonw_arr_end(&w);
        assert_string_equal(w.buf, point ? "[-7,-9223372036854775808,1.0,0.1,true,1714557700000,"
                                           "\"a\\\"b\",\"00fe\",\"-Infinity\",3e+38,null]"
                                         : "[-7,-9223372036854775808,1,0.1,true,1714557700000,"
                                           "\"a\\\"b\",\"00fe\",\"-Infinity\",3e+38,null]");
        jsonw_free(&w);
    }
}

static void test_happy_path_order_and_defaults(void **state)
{
    (void)state;
    schema *s = parse_ok(full_schema);
    assert_string_equal(s->name, "all");
    assert_int_equal(s->nfields, 17);
    static const char *const order[] = {"i",  "l",  "f",  "d",  "b",  "t",  "s",  "y",  "tags",
                                        "mi", "ml", "mf", "md", "my", "ts", "tt", "day"};
    for (int i = 0; i < 17; i++) {
        assert_string_equal(s->fields[i].name, order[i]);
        assert_int_equal(schema_find(s, order[i]), i);
        assert_false(s->fields[i].default_explicit);
    }
    assert_int_equal(schema_find(s, "nope"), -1);
    const schema_field *f = s->fields;
    /* dimension defaults */
    assert_int_equal(f[0].type, SCHEMA_INT);
    assert_int_equal(f[0].role, SCHEMA_DIMENSION);
    assert_int_equal(f[0].default_null.u.i32, INT32_MIN);
    assert_true(f[1].default_null.u.i64 == INT64_MIN);
    assert_true(isinf(f[2].default_null.u.f32) && f[2].default_null.u.f32 < 0);
    assert_true(isinf(f[3].default_null.u.f64) && f[3].default_null.u.f64 < 0);
    assert_int_equal(f[4].default_null.u.i32, 0);
    assert_true(f[5].default_null.u.i64 == 0);
    assert_int_equal(f[6].default_null.u.bytes.len, 4);
    assert_memory_equal(f[6].default_null.u.bytes.ptr, "null", 4);
    assert_non_null(f[7].default_null.u.bytes.ptr);
    assert_int_equal(f[7].default_null.u.bytes.len, 0);
    assert_true(f[0].single_value);
    assert_false(f[8].single_value);
    assert_int_equal(f[8].type, SCHEMA_STRING);
    /* metric defaults */
    for (int i = 9; i < 14; i++)
        assert_int_equal(f[i].role, SCHEMA_METRIC);
    assert_int_equal(f[9].default_null.u.i32, 0);
    assert_true(f[10].default_null.u.i64 == 0);
    assert_true(f[11].default_null.u.f32 == 0.0f);
    assert_true(f[12].default_null.u.f64 == 0.0);
    assert_int_equal(f[13].type, SCHEMA_BYTES);
    assert_int_equal(f[13].default_null.u.bytes.len, 0);
    /* dateTime */
    assert_int_equal(f[14].role, SCHEMA_DATETIME);
    assert_true(f[14].default_null.u.i64 == INT64_MIN);
    assert_string_equal(f[14].format, "1:MILLISECONDS:EPOCH");
    assert_string_equal(f[14].granularity, "1:MILLISECONDS");
    assert_true(f[15].default_null.u.i64 == 0);
    assert_memory_equal(f[16].default_null.u.bytes.ptr, "null", 4);
    assert_string_equal(f[16].format, "1:DAYS:SIMPLE_DATE_FORMAT:yyyy-MM-dd HH:mm");
    assert_null(f[0].format);
    assert_null(f[0].granularity);
    schema_free(s);
}

static void test_explicit_defaults(void **state)
{
    (void)state;
    schema *s = parse_ok(
        "{\"schemaName\":\"x\",\"dimensionFieldSpecs\":["
        "{\"name\":\"i\",\"dataType\":\"INT\",\"defaultNullValue\":0},"
        "{\"name\":\"i2\",\"dataType\":\"INT\",\"defaultNullValue\":\"-5\"},"
        "{\"name\":\"l\",\"dataType\":\"LONG\",\"defaultNullValue\":\"9223372036854775807\"},"
        "{\"name\":\"l2\",\"dataType\":\"LONG\",\"defaultNullValue\":-9223372036854775808},"
        "{\"name\":\"f\",\"dataType\":\"FLOAT\",\"defaultNullValue\":1.5},"
        "{\"name\":\"f2\",\"dataType\":\"FLOAT\",\"defaultNullValue\":\"Infinity\"},"
        "{\"name\":\"d\",\"dataType\":\"DOUBLE\",\"defaultNullValue\":\"NaN\"},"
        "{\"name\":\"d2\",\"dataType\":\"DOUBLE\",\"defaultNullValue\":\"0.1\"},"
        "{\"name\":\"d3\",\"dataType\":\"DOUBLE\",\"defaultNullValue\":7},"
        "{\"name\":\"b\",\"dataType\":\"BOOLEAN\",\"defaultNullValue\":true},"
        "{\"name\":\"b2\",\"dataType\":\"BOOLEAN\",\"defaultNullValue\":\"TRUE\"},"
        "{\"name\":\"b3\",\"dataType\":\"BOOLEAN\",\"defaultNullValue\":1},"
        "{\"name\":\"t\",\"dataType\":\"TIMESTAMP\",\"defaultNullValue\":\"2024-02-29 "
        "03:04:05.5\"},"
        "{\"name\":\"t2\",\"dataType\":\"TIMESTAMP\",\"defaultNullValue\":\"1970-01-01T00:00:01Z\"}"
        ","
        "{\"name\":\"s\",\"dataType\":\"STRING\",\"defaultNullValue\":\"unknown\"},"
        "{\"name\":\"s2\",\"dataType\":\"STRING\",\"defaultNullValue\":42},"
        "{\"name\":\"y\",\"dataType\":\"BYTES\",\"defaultNullValue\":\"00fFa0\"},"
        "{\"name\":\"n\",\"dataType\":\"INT\",\"defaultNullValue\":null}],"
        "\"metricFieldSpecs\":[{\"name\":\"m\",\"dataType\":\"LONG\",\"defaultNullValue\":-1}]}");
    const schema_field *f = s->fields;
    assert_true(f[0].default_explicit);
    assert_int_equal(f[0].default_null.u.i32, 0);
    assert_int_equal(f[1].default_null.u.i32, -5);
    assert_true(f[2].default_null.u.i64 == INT64_MAX);
    assert_true(f[3].default_null.u.i64 == INT64_MIN);
    assert_true(f[4].default_null.u.f32 == 1.5f);
    assert_true(isinf(f[5].default_null.u.f32) && f[5].default_null.u.f32 > 0);
    assert_true(isnan(f[6].default_null.u.f64));
    assert_true(f[7].default_null.u.f64 == 0.1);
    assert_true(f[8].default_null.u.f64 == 7.0);
    assert_int_equal(f[9].default_null.u.i32, 1);
    assert_int_equal(f[10].default_null.u.i32, 1);
    assert_int_equal(f[11].default_null.u.i32, 1);
    /* 2024-02-29 = 19782 days after the epoch */
    assert_true(f[12].default_null.u.i64 ==
                19782LL * 86400000 + (3 * 3600 + 4 * 60 + 5) * 1000LL + 500);
    assert_true(f[13].default_null.u.i64 == 1000);
    assert_int_equal(f[14].default_null.u.bytes.len, 7);
    assert_string_equal((const char *)f[14].default_null.u.bytes.ptr, "unknown");
    assert_string_equal((const char *)f[15].default_null.u.bytes.ptr, "42");
    assert_int_equal(f[16].default_null.u.bytes.len, 3);
    assert_memory_equal(f[16].default_null.u.bytes.ptr, "\x00\xff\xa0", 3);
    assert_false(f[17].default_explicit); /* null = not given */
    assert_int_equal(f[17].default_null.u.i32, INT32_MIN);
    assert_true(f[18].default_null.u.i64 == -1);
    schema_free(s);
}

static void test_valid_time_formats(void **state)
{
    (void)state;
    static const char *const ok[][2] = {{"EPOCH", "1:MILLISECONDS"},
                                        {"EPOCH|SECONDS", "SECONDS|1"},
                                        {"EPOCH|MINUTES|5", "5:MINUTES"},
                                        {"5:MINUTES:EPOCH", "15:MINUTES"},
                                        {"1:MILLISECONDS:TIMESTAMP", "1:DAYS"},
                                        {"SIMPLE_DATE_FORMAT|yyyyMMdd", "1:DAYS"},
                                        {"SIMPLE_DATE_FORMAT|yyyy-MM-dd|UTC", "1:HOURS"},
                                        {"1:DAYS:SIMPLE_DATE_FORMAT:yyyyMMdd", "1:NANOSECONDS"}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char json[512];
        snprintf(json, sizeof json,
                 "{\"schemaName\":\"x\",\"dateTimeFieldSpecs\":[{\"name\":\"t\",\"dataType\":"
                 "\"LONG\",\"format\":\"%s\",\"granularity\":\"%s\"}]}",
                 ok[i][0], ok[i][1]);
        schema_free(parse_ok(json));
    }
}

static void expect_error(const char *json, const char *want)
{
    char err[512] = "";
    schema *s = schema_parse(json, strlen(json), "schema.json", err, sizeof err);
    if (s) {
        schema_free(s);
        fail_msg("accepted: %s", json);
    }
    if (!strstr(err, want)) fail_msg("error \"%s\" lacks \"%s\" for %s", err, want, json);
    assert_true(strncmp(err, "schema.json: ", 13) == 0);
}

#define DIM(x) "{\"schemaName\":\"x\",\"dimensionFieldSpecs\":[" x "]}"
#define MET(x) "{\"schemaName\":\"x\",\"metricFieldSpecs\":[" x "]}"
#define DTF(x) "{\"schemaName\":\"x\",\"dateTimeFieldSpecs\":[" x "]}"

static void test_rejections(void **state)
{
    (void)state;
    expect_error("", "schema: empty file");
    expect_error("  \n\t", "schema: empty file");
    expect_error("{\"schemaName\":", "invalid JSON");
    expect_error("{\"schemaName\":\"x\"} trailing", "invalid JSON");
    expect_error("{\"schemaName\":\"x\",\"schemaName\":\"y\"}", "invalid JSON");
    expect_error("[1,2]", "top level must be a JSON object");
    expect_error("{\"dimensionFieldSpecs\":[{\"name\":\"a\",\"dataType\":\"INT\"}]}",
                 "schema.json: schemaName: missing required key");
    expect_error("{\"schemaName\":\"\"}", "schemaName: expected a non-empty string");
    expect_error("{\"schemaName\":5}", "schemaName: expected a non-empty string");
    expect_error("{\"schemaName\":\"x\"}", "schema: no fields");
    expect_error("{\"schemaName\":\"x\",\"bogus\":1}", "schema.json: bogus: unsupported key");
    expect_error("{\"schemaName\":\"x\",\"timeFieldSpec\":{}}", "timeFieldSpec: unsupported key");
    expect_error("{\"schemaName\":\"x\",\"primaryKeyColumns\":[\"b\"],\"dimensionFieldSpecs\":"
                 "[{\"name\":\"a\",\"dataType\":\"INT\"}]}",
                 "primaryKeyColumns[0]: not a column of the schema");
    expect_error("{\"schemaName\":\"x\",\"primaryKeyColumns\":\"a\",\"dimensionFieldSpecs\":"
                 "[{\"name\":\"a\",\"dataType\":\"INT\"}]}",
                 "primaryKeyColumns: expected an array");
    expect_error("{\"schemaName\":\"x\",\"dimensionFieldSpecs\":[{\"name\":\"a\",\"dataType\":"
                 "\"STRING\",\"maxLength\":0}]}",
                 "maxLength: expected an integer from 1");
    expect_error("{\"schemaName\":\"x\",\"dimensionFieldSpecs\":[{\"name\":\"a\",\"dataType\":"
                 "\"STRING\",\"maxLength\":\"9\"}]}",
                 "maxLength: expected an integer from 1");
    expect_error("{\"schemaName\":\"x\",\"dimensionFieldSpecs\":[{\"name\":\"a\",\"dataType\":"
                 "\"STRING\",\"maxLengthExceedStrategy\":\"DEFAULT\"}]}",
                 "expected TRIM_LENGTH, SUBSTITUTE_DEFAULT_VALUE, ERROR or NO_ACTION");
    expect_error("{\"schemaName\":\"x\",\"dimensionFieldSpecs\":[{\"name\":\"a\",\"dataType\":"
                 "\"STRING\",\"notNull\":1}]}",
                 "notNull: expected true or false");
    expect_error("{\"schemaName\":\"x\",\"dimensionFieldSpecs\":[{\"name\":\"a\",\"dataType\":"
                 "\"STRING\",\"fieldType\":\"METRIC\"}]}",
                 "fieldType: expected \"DIMENSION\" in dimensionFieldSpecs");
    expect_error("{\"schemaName\":\"x\",\"enableColumnBasedNullHandling\":1,"
                 "\"dimensionFieldSpecs\":[{\"name\":\"a\",\"dataType\":\"STRING\"}]}",
                 "enableColumnBasedNullHandling: expected true or false");
    expect_error("{\"schemaName\":\"x\",\"metricFieldSpecs\":[{\"name\":\"a\",\"dataType\":"
                 "\"JSON\"}]}",
                 "JSON field \"a\" must be a dimension");
    expect_error("{\"schemaName\":\"x\",\"dimensionFieldSpecs\":[{\"name\":\"a\",\"dataType\":"
                 "\"JSON\",\"singleValueField\":false}]}",
                 "JSON field \"a\" must be single-value");
    expect_error("{\"schemaName\":\"x\",\"dimensionFieldSpecs\":[{\"name\":\"a\",\"dataType\":"
                 "\"STRING\",\"transformFunction\":\"groovy({a}, a)\"}]}",
                 "transformFunction: \"groovy({a}, a)\": Groovy functions are not supported");
    expect_error("{\"schemaName\":\"x\",\"dimensionFieldSpecs\":[{\"name\":\"a\",\"dataType\":"
                 "\"STRING\",\"transformFunction\":7}]}",
                 "transformFunction: expected a string");
    expect_error("{\"schemaName\":\"x\",\"dimensionFieldSpecs\":{}}",
                 "dimensionFieldSpecs: expected an array");
    expect_error(DIM("5"), "dimensionFieldSpecs[0]: expected an object");
    expect_error(DIM("{\"dataType\":\"INT\"}"),
                 "dimensionFieldSpecs[0].name: missing required key");
    expect_error(DIM("{\"name\":\"\",\"dataType\":\"INT\"}"), "[0].name: expected a non-empty");
    expect_error(DIM("{\"name\":\"a\"}"), "dimensionFieldSpecs[0].dataType: missing required key");
    expect_error(DIM("{\"name\":\"a\",\"dataType\":\"INT\"},{\"name\":\"b\",\"dataType\":\"MAP\"}"),
                 "schema.json: dimensionFieldSpecs[1].dataType: unsupported type \"MAP\"");
    expect_error(DIM("{\"name\":\"a\",\"dataType\":\"STRUCT\"}"), "unsupported type \"STRUCT\"");
    expect_error(DIM("{\"name\":\"a\",\"dataType\":\"int\"}"), "unsupported type \"int\"");
    expect_error(DIM("{\"name\":\"a\",\"dataType\":3}"), "dataType: expected a string");
    expect_error(DIM("{\"name\":\"a\",\"dataType\":\"INT\",\"maxLen\":10}"),
                 "dimensionFieldSpecs[0].maxLen: unsupported key");
    expect_error(DIM("{\"name\":\"a\",\"dataType\":\"INT\",\"format\":\"EPOCH\"}"),
                 "dimensionFieldSpecs[0].format: unsupported key");
    expect_error(DIM("{\"name\":\"a\",\"dataType\":\"INT\",\"singleValueField\":\"no\"}"),
                 "singleValueField: expected true or false");
    expect_error(
        DIM("{\"name\":\"a\",\"dataType\":\"INT\"},{\"name\":\"a\",\"dataType\":\"LONG\"}"),
        "dimensionFieldSpecs[1].name: duplicate field name \"a\"");
    expect_error("{\"schemaName\":\"x\",\"dimensionFieldSpecs\":[{\"name\":\"a\",\"dataType\":"
                 "\"INT\"}],\"metricFieldSpecs\":[{\"name\":\"a\",\"dataType\":\"INT\"}]}",
                 "metricFieldSpecs[0].name: duplicate field name \"a\"");
    /* metrics */
    expect_error(MET("{\"name\":\"m\",\"dataType\":\"STRING\"}"),
                 "metricFieldSpecs[0].dataType: metric \"m\" must be INT, LONG, FLOAT, DOUBLE or "
                 "BYTES, not STRING");
    expect_error(MET("{\"name\":\"m\",\"dataType\":\"BOOLEAN\"}"), "not BOOLEAN");
    expect_error(MET("{\"name\":\"m\",\"dataType\":\"TIMESTAMP\"}"), "not TIMESTAMP");
    expect_error(MET("{\"name\":\"m\",\"dataType\":\"INT\",\"singleValueField\":false}"),
                 "metricFieldSpecs[0].singleValueField: multi-value metric \"m\"");
    /* date-time */
    expect_error(DTF("{\"name\":\"t\",\"dataType\":\"LONG\",\"singleValueField\":false,"
                     "\"format\":\"EPOCH\",\"granularity\":\"1:DAYS\"}"),
                 "multi-value dateTime \"t\"");
    expect_error(DTF("{\"name\":\"t\",\"dataType\":\"DOUBLE\",\"format\":\"EPOCH\","
                     "\"granularity\":\"1:DAYS\"}"),
                 "dateTime field \"t\" must be INT, LONG, TIMESTAMP or STRING, not DOUBLE");
    expect_error(DTF("{\"name\":\"t\",\"dataType\":\"LONG\",\"granularity\":\"1:DAYS\"}"),
                 "dateTimeFieldSpecs[0].format: missing required key");
    expect_error(DTF("{\"name\":\"t\",\"dataType\":\"LONG\",\"format\":\"EPOCH\"}"),
                 "dateTimeFieldSpecs[0].granularity: missing required key");
    static const char *const bad_formats[] = {"1:MILLIS:EPOCH",     "0:SECONDS:EPOCH",
                                              "EPOCH|SECONDS|x",    "1:SECONDS:SIMPLE_DATE_FORMAT",
                                              "SIMPLE_DATE_FORMAT", "TIMESTAMP|x",
                                              "1:SECONDS",          "ISO8601",
                                              "x:SECONDS:EPOCH",    "1:SECONDS:EPOCH:extra"};
    for (size_t i = 0; i < sizeof bad_formats / sizeof bad_formats[0]; i++) {
        char json[256];
        snprintf(json, sizeof json,
                 DTF("{\"name\":\"t\",\"dataType\":\"LONG\",\"format\":\"%s\",\"granularity\":"
                     "\"1:DAYS\"}"),
                 bad_formats[i]);
        expect_error(json, "dateTimeFieldSpecs[0].format: field \"t\": invalid format");
    }
    static const char *const bad_gran[] = {"1", "DAYS", "0:DAYS", "1:WEEKS", "DAYS|0", "1:DAYS:x"};
    for (size_t i = 0; i < sizeof bad_gran / sizeof bad_gran[0]; i++) {
        char json[256];
        snprintf(json, sizeof json,
                 DTF("{\"name\":\"t\",\"dataType\":\"LONG\",\"format\":\"EPOCH\",\"granularity\":"
                     "\"%s\"}"),
                 bad_gran[i]);
        expect_error(json, "granularity: field \"t\": invalid granularity");
    }
}

static void test_bad_defaults(void **state)
{
    (void)state;
    static const char *const bad[][2] = {{"INT", "2147483648"},
                                         {"INT", "1.5"},
                                         {"INT", "\"abc\""},
                                         {"INT", "\"1x\""},
                                         {"INT", "true"},
                                         {"INT", "[]"},
                                         {"LONG", "\"\""},
                                         {"LONG", "1e3"},
                                         {"LONG", "\"99999999999999999999\""},
                                         {"FLOAT", "1e39"},
                                         {"FLOAT", "\"inf\""},
                                         {"FLOAT", "\"0x10\""},
                                         {"DOUBLE", "true"},
                                         {"DOUBLE", "\"1.5.\""},
                                         {"DOUBLE", "\"-\""},
                                         {"BOOLEAN", "2"},
                                         {"BOOLEAN", "\"yes\""},
                                         {"TIMESTAMP", "\"2023-02-29 00:00:00\""},
                                         {"TIMESTAMP", "\"2024-01-01 24:00:00\""},
                                         {"TIMESTAMP", "\"2024-01-01\""},
                                         {"TIMESTAMP", "\"2024-01-01 00:00:00Z\""},
                                         {"TIMESTAMP", "\"-024-02-29 03:04:05\""},
                                         {"TIMESTAMP", "\"2024-01-01 +1:00:00\""},
                                         {"TIMESTAMP", "\"2024-01-01\\u00010\""},
                                         {"TIMESTAMP", "\"2024-01-01 00:00:00.\""},
                                         {"STRING", "1.5"},
                                         {"STRING", "false"},
                                         {"BYTES", "\"abc\""},
                                         {"BYTES", "\"zz\""},
                                         {"BYTES", "12"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char json[256];
        snprintf(json, sizeof json,
                 DIM("{\"name\":\"a\",\"dataType\":\"INT\"},{\"name\":\"col\",\"dataType\":\"%s\","
                     "\"defaultNullValue\":%s}"),
                 bad[i][0], bad[i][1]);
        expect_error(json, "dimensionFieldSpecs[1].defaultNullValue: field \"col\": ");
    }
    expect_error(DIM("{\"name\":\"a\",\"dataType\":\"INT\",\"defaultNullValue\":4294967296}"),
                 "out of range for INT");
}

static void assert_schema_equal(const schema *a, const schema *b)
{
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->nfields, b->nfields);
    for (uint32_t i = 0; i < a->nfields; i++) {
        const schema_field *x = &a->fields[i], *y = &b->fields[i];
        assert_string_equal(x->name, y->name);
        assert_int_equal(x->type, y->type);
        assert_int_equal(x->role, y->role);
        assert_int_equal(x->single_value, y->single_value);
        assert_int_equal(x->default_explicit, y->default_explicit);
        if (x->type == SCHEMA_STRING || x->type == SCHEMA_BYTES) {
            assert_int_equal(x->default_null.u.bytes.len, y->default_null.u.bytes.len);
            assert_memory_equal(x->default_null.u.bytes.ptr, y->default_null.u.bytes.ptr,
                                x->default_null.u.bytes.len);
        } else {
            assert_memory_equal(&x->default_null, &y->default_null, schema_type_width(x->type));
        }
        assert_true((x->format == NULL) == (y->format == NULL));
        if (x->format) assert_string_equal(x->format, y->format);
        assert_true((x->granularity == NULL) == (y->granularity == NULL));
        if (x->granularity) assert_string_equal(x->granularity, y->granularity);
    }
}

static void round_trip(const char *json)
{
    schema *a = parse_ok(json);
    size_t la, lb;
    char *ja = schema_to_json(a, &la);
    assert_int_equal(strlen(ja), la);
    schema *b = parse_ok(ja);
    assert_schema_equal(a, b);
    char *jb = schema_to_json(b, &lb);
    assert_int_equal(la, lb);
    assert_string_equal(ja, jb);
    free(ja);
    free(jb);
    schema_free(a);
    schema_free(b);
}

static void test_round_trip(void **state)
{
    (void)state;
    round_trip(full_schema);
    round_trip(DIM("{\"name\":\"d1\",\"dataType\":\"DOUBLE\",\"defaultNullValue\":0.1},"
                   "{\"name\":\"d2\",\"dataType\":\"DOUBLE\",\"defaultNullValue\":1e300},"
                   "{\"name\":\"d3\",\"dataType\":\"DOUBLE\",\"defaultNullValue\":5e-324},"
                   "{\"name\":\"d4\",\"dataType\":\"DOUBLE\",\"defaultNullValue\":-0.0},"
                   "{\"name\":\"d5\",\"dataType\":\"DOUBLE\",\"defaultNullValue\":\"NaN\"},"
                   "{\"name\":\"d6\",\"dataType\":\"DOUBLE\",\"defaultNullValue\":\"-Infinity\"},"
                   "{\"name\":\"d7\",\"dataType\":\"DOUBLE\",\"defaultNullValue\":"
                   "0.30000000000000004},"
                   "{\"name\":\"f1\",\"dataType\":\"FLOAT\",\"defaultNullValue\":0.1},"
                   "{\"name\":\"f2\",\"dataType\":\"FLOAT\",\"defaultNullValue\":3.4028234e38},"
                   "{\"name\":\"f3\",\"dataType\":\"FLOAT\",\"defaultNullValue\":1e-45},"
                   "{\"name\":\"f4\",\"dataType\":\"FLOAT\",\"defaultNullValue\":16777217},"
                   "{\"name\":\"s\",\"dataType\":\"STRING\",\"defaultNullValue\":"
                   "\"q\\\"\\\\\\n\\u0001\\u00e9\"},"
                   "{\"name\":\"y\",\"dataType\":\"BYTES\",\"defaultNullValue\":\"DEADbeef\"},"
                   "{\"name\":\"b\",\"dataType\":\"BOOLEAN\",\"defaultNullValue\":\"1\"},"
                   "{\"name\":\"t\",\"dataType\":\"TIMESTAMP\",\"defaultNullValue\":-5},"
                   "{\"name\":\"n\\u00e9\",\"dataType\":\"STRING\",\"singleValueField\":false}"));
    /* A pseudo-random sweep of doubles and floats through the shortest-text printer. */
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 2000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double d;
        float f;
        uint32_t fb = (uint32_t)(x >> 32);
        memcpy(&d, &x, sizeof d);
        memcpy(&f, &fb, sizeof f);
        if (isnan(d) || isinf(d) || isnan(f) || isinf(f)) continue;
        char json[256];
        snprintf(json, sizeof json,
                 MET("{\"name\":\"d\",\"dataType\":\"DOUBLE\",\"defaultNullValue\":%.17g},"
                     "{\"name\":\"f\",\"dataType\":\"FLOAT\",\"defaultNullValue\":%.9g}"),
                 d, (double)f);
        schema *a = parse_ok(json);
        assert_memory_equal(&a->fields[0].default_null.u.f64, &d, 8);
        assert_memory_equal(&a->fields[1].default_null.u.f32, &f, 4);
        schema_free(a);
        round_trip(json);
    }
}

static void test_canonical_text(void **state)
{
    (void)state;
    /* Key order in the input does not matter; the output order is fixed. */
    schema *s = parse_ok("{\"metricFieldSpecs\":[{\"dataType\":\"DOUBLE\",\"name\":\"p\","
                         "\"defaultNullValue\":0.1}],\"schemaName\":\"ev\","
                         "\"dateTimeFieldSpecs\":[{\"granularity\":\"1:MILLISECONDS\",\"format\":"
                         "\"1:MILLISECONDS:EPOCH\",\"name\":\"ts\",\"dataType\":\"LONG\"}],"
                         "\"dimensionFieldSpecs\":[{\"name\":\"u\",\"dataType\":\"STRING\","
                         "\"singleValueField\":false},{\"name\":\"f\",\"dataType\":\"FLOAT\","
                         "\"defaultNullValue\":\"-Infinity\"},{\"name\":\"z\",\"dataType\":"
                         "\"DOUBLE\",\"defaultNullValue\":100}]}");
    char *j = schema_to_json(s, NULL);
    assert_string_equal(
        j, "{\"schemaName\":\"ev\",\"dimensionFieldSpecs\":[{\"name\":\"u\",\"dataType\":"
           "\"STRING\",\"singleValueField\":false},{\"name\":\"f\",\"dataType\":\"FLOAT\","
           "\"singleValueField\":true,\"defaultNullValue\":\"-Infinity\"},{\"name\":\"z\","
           "\"dataType\":\"DOUBLE\",\"singleValueField\":true,\"defaultNullValue\":100.0}],"
           "\"metricFieldSpecs\":[{\"name\":\"p\",\"dataType\":\"DOUBLE\",\"defaultNullValue\":"
           "0.1}],\"dateTimeFieldSpecs\":[{\"name\":\"ts\",\"dataType\":\"LONG\",\"format\":"
           "\"1:MILLISECONDS:EPOCH\",\"granularity\":\"1:MILLISECONDS\"}]}");
    free(j);
    schema_free(s);
}

static void test_load(void **state)
{
    (void)state;
    char err[512];
    assert_null(schema_load("/nonexistent/dir/s.json", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/dir/s.json: "));
    assert_non_null(strstr(err, "No such file"));

    char path[] = "/tmp/test_schema_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_null(schema_load(path, err, sizeof err));
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "empty file"));
    assert_int_equal(write(fd, full_schema, strlen(full_schema)), (ssize_t)strlen(full_schema));
    close(fd);
    schema *s = schema_load(path, err, sizeof err);
    assert_non_null(s);
    assert_int_equal(s->nfields, 17);
    schema_free(s);
    unlink(path);
    schema_free(NULL);

    /* Example schema shipped in deploy/examples, when the tree is at hand. */
    const char *data = getenv("SLUICE_TEST_DATA");
    if (data) {
        char ex[1024];
        snprintf(ex, sizeof ex, "%s/../../deploy/examples/events_schema.json", data);
        s = schema_load(ex, err, sizeof err);
        if (!s) fail_msg("%s", err);
        assert_string_equal(s->name, "events");
        schema_free(s);
    }
}

/* Every fault of a schema is reported in one run, a line each, whichever field it is in. */
static void test_every_error_in_one_run(void **state)
{
    (void)state;
    const char *json =
        "{\"schemaName\":\"s\",\"primaryKeyColumns\":[\"zz\"],\"extra\":1,"
        "\"dimensionFieldSpecs\":[{\"name\":\"a\",\"dataType\":\"JSONB\"},"
        "{\"name\":\"b\",\"dataType\":\"STRING\"},{\"name\":\"b\",\"dataType\":\"INT\"},"
        "{\"name\":\"c\",\"dataType\":\"INT\",\"maxLen\":5}],"
        "\"dateTimeFieldSpecs\":[{\"name\":\"t\",\"dataType\":\"LONG\",\"format\":\"x\","
        "\"granularity\":\"1:DAYS\"}]}";
    char err[4096] = "";
    schema *sc = schema_parse(json, strlen(json), "s.json", err, sizeof err);
    assert_null(sc);
    static const char *const want[] = {
        "s.json: primaryKeyColumns[0]: not a column of the schema",
        "s.json: extra: unsupported key",
        "s.json: dimensionFieldSpecs[0].dataType:",
        "s.json: dimensionFieldSpecs[2].name: duplicate field name \"b\"",
        "s.json: dimensionFieldSpecs[3].maxLen: unsupported key",
        "s.json: dateTimeFieldSpecs[0].format:",
    };
    int lines = 1;
    for (const char *p = err; *p; p++)
        lines += *p == '\n';
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(err, want[i])) fail_msg("missing \"%s\" in:\n%s", want[i], err);
    if (lines != (int)(sizeof want / sizeof want[0])) fail_msg("%d lines:\n%s", lines, err);
}

/* Pinot's carried and sanitization keys: primaryKeyColumns, notNull, fieldType, maxLength,
 * maxLengthExceedStrategy are read, and written back only when given */
static void test_carried_and_sanitization_keys(void **state)
{
    (void)state;
    const char *json =
        "{\"schemaName\":\"s\",\"dimensionFieldSpecs\":["
        "{\"name\":\"id\",\"dataType\":\"STRING\",\"fieldType\":\"DIMENSION\",\"notNull\":true},"
        "{\"name\":\"b\",\"dataType\":\"BYTES\",\"maxLength\":4,"
        "\"maxLengthExceedStrategy\":\"ERROR\"},"
        "{\"name\":\"s\",\"dataType\":\"STRING\",\"maxLength\":10,\"notNull\":false}],"
        "\"dateTimeFieldSpecs\":[{\"name\":\"t\",\"dataType\":\"LONG\",\"fieldType\":"
        "\"DATE_TIME\",\"format\":\"EPOCH\",\"granularity\":\"1:MILLISECONDS\"}],"
        "\"primaryKeyColumns\":[\"id\",\"t\"]}";
    schema *s = parse_ok(json);
    assert_int_equal(s->nprimary_keys, 2);
    assert_int_equal(s->primary_keys[0], 0);
    assert_int_equal(s->primary_keys[1], 3);
    assert_true(s->fields[0].not_null);
    assert_int_equal(s->fields[0].max_length, 0); /* Pinot's 512 */
    assert_int_equal(s->fields[0].max_strategy, SCHEMA_MAXLEN_DEFAULT);
    assert_int_equal(s->fields[1].max_length, 4);
    assert_int_equal(s->fields[1].max_strategy, SCHEMA_MAXLEN_ERROR);
    assert_string_equal(schema_maxlen_name(s->fields[1].max_strategy), "ERROR");
    size_t len;
    char *out = schema_to_json(s, &len);
    assert_non_null(strstr(out, "\"name\":\"id\",\"dataType\":\"STRING\",\"singleValueField\":true,"
                                "\"notNull\":true}"));
    assert_non_null(strstr(out, "\"maxLength\":4,\"maxLengthExceedStrategy\":\"ERROR\""));
    assert_non_null(strstr(out, "\"maxLength\":10,\"notNull\":false}"));
    assert_non_null(strstr(out, "\"primaryKeyColumns\":[\"id\",\"t\"]"));
    assert_null(strstr(out, "fieldType"));
    schema *again = parse_ok(out); /* what is written reads back the same */
    size_t len2;
    char *out2 = schema_to_json(again, &len2);
    assert_int_equal(len, len2);
    assert_memory_equal(out, out2, len);
    free(out);
    free(out2);
    schema_free(again);
    schema_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_carried_and_sanitization_keys),
        cmocka_unit_test(test_names_and_widths),
        cmocka_unit_test(test_value_json),
        cmocka_unit_test(test_happy_path_order_and_defaults),
        cmocka_unit_test(test_explicit_defaults),
        cmocka_unit_test(test_valid_time_formats),
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_bad_defaults),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_canonical_text),
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_every_error_in_one_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
