/* The CSV and Avro stream decoders (consumer/csvscan, consumer/avroscan through rowdec):
 * Pinot's own CSVMessageDecoder test cases, Commons CSV's quoting rules, Avro records written
 * by avro-c (a real encoder) and hostile Avro bytes. */
#include "common/schema.h"
#include "common/table_config.h"
#include "consumer/rowdec.h"

#include <avro.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/avro_test_enc.h"

static const char csv_schema[] =
    "{\"schemaName\":\"s\",\"dimensionFieldSpecs\":["
    "{\"name\":\"name\",\"dataType\":\"STRING\"},"
    "{\"name\":\"age\",\"dataType\":\"INT\"},"
    "{\"name\":\"gender\",\"dataType\":\"STRING\"},"
    "{\"name\":\"subjects\",\"dataType\":\"STRING\",\"singleValueField\":false}]}";

/* A REALTIME table with the given decoder class and decoder properties (JSON members). */
static char *table(const char *cls, const char *props)
{
    char *t = NULL;
    if (asprintf(&t,
                 "{\"tableName\":\"t\",\"tableType\":\"REALTIME\",\"tableIndexConfig\":{"
                 "\"streamConfigs\":{\"stream.kafka.topic.name\":\"e\","
                 "\"stream.kafka.broker.list\":\"h:1\",\"stream.kafka.decoder.class.name\":"
                 "\"org.apache.pinot.plugin.inputformat.%s\"%s%s}}}",
                 cls, *props ? "," : "", props) < 0)
        abort();
    return t;
}

static void load(const char *sj, const char *cls, const char *props, schema **s, tcfg **t)
{
    char err[2048];
    *s = schema_parse(sj, strlen(sj), "s", err, sizeof err);
    if (!*s) fail_msg("%s", err);
    char *tj = table(cls, props);
    *t = tcfg_parse(tj, strlen(tj), "t", *s, err, sizeof err);
    free(tj);
    if (!*t) fail_msg("%s", err);
}

static const row *ok(rowdec *d, const void *msg, size_t len)
{
    const row *r;
    rowdec_reason why = rowdec_decode(d, msg, len, &r);
    if (why != ROWDEC_OK)
        fail_msg("%.*s: %s (%s)", (int)len, (const char *)msg, rowdec_reason_name(why),
                 rowdec_error_detail(d));
    return r;
}

/* A message given as text (a CSV line, a JSON document). */
static const row *csv(rowdec *d, const char *msg)
{
    return ok(d, msg, strlen(msg));
}

static void want_str(const row_col *c, const char *s)
{
    if (c->is_null) fail_msg("null, wanted \"%s\"", s);
    if (c->v.u.bytes.len != strlen(s) || memcmp(c->v.u.bytes.ptr, s, strlen(s)))
        fail_msg("\"%.*s\", wanted \"%s\"", (int)c->v.u.bytes.len, c->v.u.bytes.ptr, s);
}

static void want_mv(const row_col *c, uint32_t n, const char *const *vals)
{
    assert_false(c->is_null);
    assert_int_equal(c->nvals, n);
    for (uint32_t i = 0; i < n; i++) {
        row_col one = {.v = c->mv[i]};
        want_str(&one, vals[i]);
    }
}

static void reject(rowdec *d, const char *msg, rowdec_reason want)
{
    const row *r;
    rowdec_reason why = rowdec_decode(d, (const uint8_t *)msg, strlen(msg), &r);
    if (why != want)
        fail_msg("%s: %s (%s), wanted %s", msg, rowdec_reason_name(why), rowdec_error_detail(d),
                 rowdec_reason_name(want));
    assert_null(r);
}

#define STD_PROPS                                                                                  \
    "\"stream.kafka.decoder.prop.delimiter\":\";\","                                               \
    "\"stream.kafka.decoder.prop.multiValueDelimiter\":\",\","                                     \
    "\"stream.kafka.decoder.prop.escapeCharacter\":\"\\\\\""

/* Pinot's CSVMessageDecoderTest cases, with the values Pinot's assertions name. */
static void test_csv_pinot_cases(void **state)
{
    (void)state;
    schema *s;
    tcfg *t;
    load(csv_schema, "csv.CSVMessageDecoder",
         STD_PROPS ",\"stream.kafka.decoder.prop.header\":\"name;age;gender;subjects\"", &s, &t);
    rowdec *d = rowdec_new_cfg(s, t, 0);
    const row *r = csv(d, "Alice;18;F;maths,German,history");
    want_str(&r->cols[0], "Alice");
    assert_int_equal(r->cols[1].v.u.i32, 18);
    want_str(&r->cols[2], "F");
    want_mv(&r->cols[3], 3, (const char *const[]){"maths", "German", "history"});
    r = csv(d, "Alice;18;F;mat\\;hs"); /* testEscapeCharacter */
    want_mv(&r->cols[3], 1, (const char *const[]){"mat;hs"});
    /* one value after the split: the cell as it is, delimiters and all */
    r = csv(d, "Bob;;M;,maths,,");
    assert_true(r->cols[1].is_null);
    want_mv(&r->cols[3], 1, (const char *const[]){",maths,,"});
    /* fewer cells than the header: the rest null; more: ignored */
    r = csv(d, "Carol;7");
    assert_true(r->cols[2].is_null && r->cols[3].is_null);
    r = csv(d, "Dan;8;M;x;extra;more");
    want_str(&r->cols[0], "Dan");
    /* only the first record is read */
    r = csv(d, "Eve;9;F;a\nZed;10;M;b");
    want_str(&r->cols[0], "Eve");
    reject(d, "Eve;x;F;a", ROWDEC_WRONG_TYPE);
    rowdec_free(d);
    tcfg_free(t);
    schema_free(s);

    /* testNullString */
    load(csv_schema, "csv.CSVMessageDecoder",
         STD_PROPS ",\"stream.kafka.decoder.prop.header\":\"name;age;gender;subjects\","
                   "\"stream.kafka.decoder.prop.nullStringValue\":\"null\"",
         &s, &t);
    d = rowdec_new_cfg(s, t, 0);
    r = csv(d, "Alice;null;F;null");
    want_str(&r->cols[0], "Alice");
    assert_true(r->cols[1].is_null);
    assert_true(r->cols[3].is_null);
    rowdec_free(d);
    tcfg_free(t);
    schema_free(s);

    /* testHeaderFromRecord and testDefaultProps: the message's first record is the header */
    load(csv_schema, "csv.CSVMessageDecoder", "\"stream.kafka.decoder.prop.delimiter\":\",\"", &s,
         &t);
    d = rowdec_new_cfg(s, t, 0);
    r = csv(d, "name,age,gender\nAlice,18,F");
    want_str(&r->cols[0], "Alice");
    assert_int_equal(r->cols[1].v.u.i32, 18);
    want_str(&r->cols[2], "F");
    assert_true(r->cols[3].is_null);
    r = csv(d, "gender,name,name\r\nM,first,last"); /* a repeated name: its last column */
    want_str(&r->cols[0], "last");
    want_str(&r->cols[2], "M");
    reject(d, "name,age,gender", ROWDEC_MALFORMED_CSV); /* no data record */
    rowdec_free(d);
    tcfg_free(t);
    schema_free(s);

    /* testCommentMarker: a message that is only a comment has no record */
    load(csv_schema, "csv.CSVMessageDecoder",
         "\"stream.kafka.decoder.prop.header\":\"name,age,gender\","
         "\"stream.kafka.decoder.prop.delimiter\":\",\","
         "\"stream.kafka.decoder.prop.commentMarker\":\"#\"",
         &s, &t);
    d = rowdec_new_cfg(s, t, 0);
    reject(d, "#Alice,18,F", ROWDEC_MALFORMED_CSV);
    r = csv(d, "# a comment\nAlice,18,F");
    want_str(&r->cols[0], "Alice");
    rowdec_free(d);
    tcfg_free(t);
    schema_free(s);
}

/* Commons CSV's quoting: delimiters and newlines inside quotes, doubled quotes, whitespace
 * after a closing quote, and the errors. */
static void test_csv_quoting(void **state)
{
    (void)state;
    schema *s;
    tcfg *t;
    load(csv_schema, "csv.CSVMessageDecoder",
         "\"stream.kafka.decoder.prop.header\":\"name,age,gender\","
         "\"stream.kafka.decoder.prop.delimiter\":\",\"",
         &s, &t);
    rowdec *d = rowdec_new_cfg(s, t, 0);
    const row *r = csv(d, "\"Smith, J\",\"42\",\"two\nlines\"");
    want_str(&r->cols[0], "Smith, J");
    assert_int_equal(r->cols[1].v.u.i32, 42);
    want_str(&r->cols[2], "two\nlines");
    reject(d, "a,\"4\"\"2\",x", ROWDEC_WRONG_TYPE); /* 4"2 is not an INT */
    r = csv(d, "\"Smith, J\",42,\"two\r\nlines\"");
    want_str(&r->cols[2], "two\r\nlines");
    r = csv(d, "\"He said \"\"hi\"\"\"  ,1,\"\"");
    want_str(&r->cols[0], "He said \"hi\"");
    assert_true(r->cols[2].is_null); /* "" is empty: null, as Pinot's extractor makes it */
    r = csv(d, " a \"b\" ,2,");      /* a quote inside an unquoted cell is text; spaces are kept */
    want_str(&r->cols[0], " a \"b\" ");
    assert_true(r->cols[2].is_null);
    r = csv(d, "\n\nAlice,3,F"); /* leading empty lines are skipped (DEFAULT) */
    want_str(&r->cols[0], "Alice");
    r = csv(d, "caf\xc3\xa9,1,\xff"); /* invalid UTF-8: U+FFFD, as Java's reader */
    want_str(&r->cols[0], "caf\xc3\xa9");
    want_str(&r->cols[2], "\xef\xbf\xbd");
    reject(d, "\"open,1,F", ROWDEC_MALFORMED_CSV);
    reject(d, "\"a\"b,1,F", ROWDEC_MALFORMED_CSV);
    reject(d, "\n\n", ROWDEC_MALFORMED_CSV);
    rowdec_free(d);
    tcfg_free(t);
    schema_free(s);

    /* TDF: tabs, surrounding spaces trimmed; EXCEL keeps empty lines as records */
    load(csv_schema, "csv.CSVMessageDecoder",
         "\"stream.kafka.decoder.prop.header\":\"name age\","
         "\"stream.kafka.decoder.prop.fileFormat\":\"TDF\"",
         &s, &t);
    d = rowdec_new_cfg(s, t, 0);
    r = csv(d, "  Alice  \t 18 ");
    want_str(&r->cols[0], "Alice");
    assert_int_equal(r->cols[1].v.u.i32, 18);
    rowdec_free(d);
    tcfg_free(t);
    schema_free(s);
    load(csv_schema, "csv.CSVMessageDecoder",
         "\"stream.kafka.decoder.prop.header\":\"name,age\","
         "\"stream.kafka.decoder.prop.delimiter\":\",\","
         "\"stream.kafka.decoder.prop.fileFormat\":\"EXCEL\"",
         &s, &t);
    d = rowdec_new_cfg(s, t, 0);
    r = csv(d, "\nAlice,1");
    assert_true(r->cols[0].is_null && r->cols[1].is_null);
    rowdec_free(d);
    tcfg_free(t);
    schema_free(s);

    /* a header with no delimiter property is split at whitespace (Pinot's StringUtils.split):
     * "name,age" is one column, so nothing matches */
    load(csv_schema, "csv.CSVMessageDecoder", "\"stream.kafka.decoder.prop.header\":\"name,age\"",
         &s, &t);
    d = rowdec_new_cfg(s, t, 0);
    r = csv(d, "Alice,1");
    assert_true(r->cols[0].is_null && r->cols[1].is_null);
    rowdec_free(d);
    tcfg_free(t);
    schema_free(s);

    /* a multi-value split into a single-value column */
    load(csv_schema, "csv.CSVMessageDecoder",
         STD_PROPS ",\"stream.kafka.decoder.prop.header\":\"name;age;gender;subjects\"", &s, &t);
    d = rowdec_new_cfg(s, t, 0);
    reject(d, "Al,ice;1;F;x", ROWDEC_WRONG_TYPE);
    reject(d, "Alice;1;F;x\\", ROWDEC_MALFORMED_CSV); /* an escape at the end */
    rowdec_free(d);
    tcfg_free(t);
    schema_free(s);
}

/* Every bad decoder property is named in one run. */
static void test_decoder_config_errors(void **state)
{
    (void)state;
    char err[4096];
    schema *s = schema_parse(csv_schema, strlen(csv_schema), "s", err, sizeof err);
    char *tj = table("csv.CSVMessageDecoder", "\"stream.kafka.decoder.prop.fileFormat\":\"WEIRD\","
                                              "\"stream.kafka.decoder.prop.delimiter\":\";;\","
                                              "\"stream.kafka.decoder.prop.skipHeader\":\"yes\","
                                              "\"stream.kafka.decoder.prop.headr\":\"a\"");
    assert_null(tcfg_parse(tj, strlen(tj), "t", s, err, sizeof err));
    free(tj);
    assert_non_null(strstr(err, "fileFormat: \"WEIRD\""));
    assert_non_null(strstr(err, "delimiter: \";;\": expected one ASCII character"));
    assert_non_null(strstr(err, "skipHeader: \"yes\": expected true or false"));
    assert_non_null(strstr(err, "headr: unsupported key for CSVMessageDecoder"));

    tj = table("avro.SimpleAvroMessageDecoder", "\"stream.kafka.decoder.prop.schema\":\"{\\\"type"
                                                "\\\":\\\"string\\\"}\"");
    assert_null(tcfg_parse(tj, strlen(tj), "t", s, err, sizeof err));
    free(tj);
    assert_non_null(strstr(err, "the Avro schema is a string, not a record"));
    tj = table("avro.SimpleAvroMessageDecoder", "");
    assert_null(tcfg_parse(tj, strlen(tj), "t", s, err, sizeof err));
    free(tj);
    assert_non_null(strstr(err, "SimpleAvroMessageDecoder needs stream.kafka.decoder.prop.schema"));
    tj = table("avro.confluent.KafkaConfluentSchemaRegistryAvroMessageDecoder",
               "\"stream.kafka.decoder.prop.schema.registry.rest.url\":\"ftp://x\"");
    assert_null(tcfg_parse(tj, strlen(tj), "t", s, err, sizeof err));
    free(tj);
    assert_non_null(strstr(err, "expected an http:// or https:// URL"));
    tj = table("csv.CSVMessageDecoder",
               "\"stream.kafka.decoder.prop.header\":\"a\"}},"
               "\"ingestionConfig\":{\"complexTypeConfig\":{\"delimiter\":\"_\"");
    assert_null(tcfg_parse(tj, strlen(tj), "t", s, err, sizeof err));
    free(tj);
    assert_non_null(strstr(err, "complexTypeConfig: only with a JSON, Avro or Protocol Buffers"));
    tj = table("avro.KafkaAvroMessageDecoder", "");
    assert_null(tcfg_parse(tj, strlen(tj), "t", s, err, sizeof err));
    free(tj);
    assert_non_null(strstr(err, "not a supported decoder"));
    /* Confluent's JSON Schema decoder: the registry URL required, its capacity a count */
    tj = table("json.confluent.KafkaConfluentSchemaRegistryJsonMessageDecoder",
               "\"stream.kafka.decoder.prop.cached.schema.map.capacity\":\"none\"");
    assert_null(tcfg_parse(tj, strlen(tj), "t", s, err, sizeof err));
    free(tj);
    assert_non_null(strstr(err, "cached.schema.map.capacity: \"none\": expected a positive count"));
    tj = table("json.confluent.KafkaConfluentSchemaRegistryJsonMessageDecoder", "");
    assert_null(tcfg_parse(tj, strlen(tj), "t", s, err, sizeof err));
    free(tj);
    assert_non_null(strstr(err, "KafkaConfluentSchemaRegistryJsonMessageDecoder needs "
                                "stream.kafka.decoder.prop.schema.registry.rest.url"));
    tj = table("json.confluent.KafkaConfluentSchemaRegistryJsonMessageDecoder",
               "\"stream.kafka.decoder.prop.schema.registry.rest.url\":\"http://h:1\","
               "\"stream.kafka.decoder.prop.schema.registry.basic.auth.user.info\":\"u:p\"");
    tcfg *t = tcfg_parse(tj, strlen(tj), "t", s, err, sizeof err);
    free(tj);
    if (!t) fail_msg("%s", err);
    assert_int_equal(t->decoder, TCFG_DECODER_JSON_REGISTRY);
    assert_string_equal(t->registry_url, "http://h:1");
    assert_string_equal(t->registry_userinfo, "u:p");
    /* a message not in Confluent's format is malformed_json, before any registry request */
    rowdec *d = rowdec_new_cfg(s, t, 0);
    reject(d, "{\"name\":\"x\"}", ROWDEC_MALFORMED_JSON);
    assert_non_null(strstr(rowdec_error_detail(d), "unknown magic byte"));
    rowdec_free(d);
    tcfg_free(t);
    schema_free(s);
}

/* ---- Avro ---------------------------------------------------------------------------- */

static const char avro_writer_schema[] =
    "{\"type\":\"record\",\"name\":\"E\",\"fields\":["
    "{\"name\":\"id\",\"type\":\"int\"},"
    "{\"name\":\"skipped\",\"type\":{\"type\":\"map\",\"values\":\"string\"}},"
    "{\"name\":\"name\",\"type\":\"string\"},"
    "{\"name\":\"score\",\"type\":\"double\"},"
    "{\"name\":\"f\",\"type\":\"float\"},"
    "{\"name\":\"tags\",\"type\":{\"type\":\"array\",\"items\":\"string\"}},"
    "{\"name\":\"opt\",\"type\":[\"null\",\"string\"]},"
    "{\"name\":\"raw\",\"type\":\"bytes\"},"
    "{\"name\":\"fx\",\"type\":{\"type\":\"fixed\",\"name\":\"F2\",\"size\":2}},"
    "{\"name\":\"color\",\"type\":{\"type\":\"enum\",\"name\":\"C\",\"symbols\":[\"RED\","
    "\"GREEN\"]}},"
    "{\"name\":\"rec\",\"type\":{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\","
    "\"type\":\"long\"},{\"name\":\"b\",\"type\":\"bytes\"}]}},"
    "{\"name\":\"big\",\"type\":\"long\"},"
    "{\"name\":\"ok\",\"type\":\"boolean\"}]}";

static const char avro_table_schema[] =
    "{\"schemaName\":\"s\",\"dimensionFieldSpecs\":["
    "{\"name\":\"id\",\"dataType\":\"INT\"},"
    "{\"name\":\"name\",\"dataType\":\"STRING\"},"
    "{\"name\":\"score\",\"dataType\":\"DOUBLE\"},"
    "{\"name\":\"f\",\"dataType\":\"STRING\"},"
    "{\"name\":\"tags\",\"dataType\":\"STRING\",\"singleValueField\":false},"
    "{\"name\":\"opt\",\"dataType\":\"STRING\"},"
    "{\"name\":\"raw\",\"dataType\":\"BYTES\"},"
    "{\"name\":\"fx\",\"dataType\":\"STRING\"},"
    "{\"name\":\"color\",\"dataType\":\"STRING\"},"
    "{\"name\":\"rec\",\"dataType\":\"STRING\"},"
    "{\"name\":\"big\",\"dataType\":\"LONG\"},"
    "{\"name\":\"ok\",\"dataType\":\"BOOLEAN\"},"
    "{\"name\":\"absent\",\"dataType\":\"STRING\"}]}";

/* One record written by avro-c into buf; returns its length. */
static size_t write_record(char *buf, size_t cap, int with_opt, int ntags)
{
    avro_schema_t sc;
    assert_int_equal(
        avro_schema_from_json_length(avro_writer_schema, strlen(avro_writer_schema), &sc), 0);
    avro_value_iface_t *iface = avro_generic_class_from_schema(sc);
    avro_value_t rec, v, e;
    assert_int_equal(avro_generic_value_new(iface, &rec), 0);
    avro_value_get_by_name(&rec, "id", &v, NULL);
    avro_value_set_int(&v, -7);
    avro_value_get_by_name(&rec, "skipped", &v, NULL);
    avro_value_add(&v, "k", &e, NULL, NULL);
    avro_value_set_string(&e, "ignored");
    avro_value_get_by_name(&rec, "name", &v, NULL);
    avro_value_set_string(&v, "caf\xc3\xa9 \"q\"");
    avro_value_get_by_name(&rec, "score", &v, NULL);
    avro_value_set_double(&v, 2.5);
    avro_value_get_by_name(&rec, "f", &v, NULL);
    avro_value_set_float(&v, 0.1f);
    avro_value_get_by_name(&rec, "tags", &v, NULL);
    for (int i = 0; i < ntags; i++) {
        char tag[16];
        snprintf(tag, sizeof tag, "t%d", i);
        avro_value_append(&v, &e, NULL);
        avro_value_set_string(&e, tag);
    }
    avro_value_get_by_name(&rec, "opt", &v, NULL);
    avro_value_set_branch(&v, with_opt ? 1 : 0, &e);
    if (with_opt)
        avro_value_set_string(&e, "here");
    else
        avro_value_set_null(&e);
    avro_value_get_by_name(&rec, "raw", &v, NULL);
    avro_value_set_bytes(&v, (void *)"\x00\x01\xff", 3);
    avro_value_get_by_name(&rec, "fx", &v, NULL);
    avro_value_set_fixed(&v, (void *)"\xab\xcd", 2);
    avro_value_get_by_name(&rec, "color", &v, NULL);
    avro_value_set_enum(&v, 1);
    avro_value_get_by_name(&rec, "rec", &v, NULL);
    avro_value_get_by_name(&v, "a", &e, NULL);
    avro_value_set_long(&e, 9007199254740993LL);
    avro_value_get_by_name(&v, "b", &e, NULL);
    avro_value_set_bytes(&e, (void *)"hi", 2);
    avro_value_get_by_name(&rec, "big", &v, NULL);
    avro_value_set_long(&v, INT64_MIN);
    avro_value_get_by_name(&rec, "ok", &v, NULL);
    avro_value_set_boolean(&v, 1);
    avro_writer_t w = avro_writer_memory(buf, (int64_t)cap);
    assert_int_equal(avro_value_write(w, &rec), 0);
    size_t n = (size_t)avro_writer_tell(w);
    avro_writer_free(w);
    avro_value_decref(&rec);
    avro_value_iface_decref(iface);
    avro_schema_decref(sc);
    return n;
}

static char *avro_props(const char *extra)
{
    json_t *s = json_string(avro_writer_schema);
    char *esc = json_dumps(s, JSON_ENCODE_ANY);
    json_decref(s);
    char *p = NULL;
    if (asprintf(&p, "\"stream.kafka.decoder.prop.schema\":%s%s", esc, extra) < 0) abort();
    free(esc);
    return p;
}

static void test_avro_simple(void **state)
{
    (void)state;
    schema *s;
    tcfg *t;
    char *props = avro_props("");
    load(avro_table_schema, "avro.SimpleAvroMessageDecoder", props, &s, &t);
    free(props);
    rowdec *d = rowdec_new_cfg(s, t, 0);
    char buf[1024];
    size_t n = write_record(buf, sizeof buf, 1, 3);
    const row *r = ok(d, buf, n);
    assert_int_equal(r->cols[0].v.u.i32, -7);
    want_str(&r->cols[1], "caf\xc3\xa9 \"q\"");
    assert_true(r->cols[2].v.u.f64 == 2.5);
    want_str(&r->cols[3], "0.1"); /* Java's Float.toString */
    want_mv(&r->cols[4], 3, (const char *const[]){"t0", "t1", "t2"});
    want_str(&r->cols[5], "here");
    assert_int_equal(r->cols[6].v.u.bytes.len, 3);
    assert_memory_equal(r->cols[6].v.u.bytes.ptr, "\x00\x01\xff", 3);
    want_str(&r->cols[7], "abcd"); /* bytes in a STRING column: hex */
    want_str(&r->cols[8], "GREEN");
    want_str(&r->cols[9], "{\"a\":9007199254740993,\"b\":\"aGk=\"}");
    assert_true(r->cols[10].v.u.i64 == INT64_MIN);
    assert_int_equal(r->cols[11].v.u.i32, 1);
    assert_true(r->cols[12].is_null);
    /* null branch, an empty array */
    n = write_record(buf, sizeof buf, 0, 0);
    r = ok(d, buf, n);
    assert_true(r->cols[5].is_null);
    assert_true(r->cols[4].is_null);

    /* every truncation of a valid record is malformed, never a crash or a partial row */
    n = write_record(buf, sizeof buf, 1, 3);
    for (size_t k = 0; k < n; k++) {
        const row *x;
        assert_int_equal(rowdec_decode(d, (const uint8_t *)buf, k, &x),
                         k ? ROWDEC_MALFORMED_AVRO : ROWDEC_EMPTY);
        assert_null(x);
    }
    /* hostile counts and lengths: a string longer than the message, a union branch past
     * the schema's, 2^62 array entries */
    const row *x;
    const uint8_t huge_len[] = {0x0e, 0x00, 0xfe, 0xff, 0xff, 0xff, 0x0f};
    assert_int_equal(rowdec_decode(d, huge_len, sizeof huge_len, &x), ROWDEC_MALFORMED_AVRO);
    assert_non_null(strstr(rowdec_error_detail(d), "past the end"));
    rowdec_free(d);
    tcfg_free(t);
    schema_free(s);

    static const char nulls_schema[] =
        "{\"type\":\"record\",\"name\":\"N\",\"fields\":[{\"name\":\"u\",\"type\":[\"int\","
        "\"string\"]},{\"name\":\"ns\",\"type\":{\"type\":\"array\",\"items\":\"null\"}}]}";
    json_t *js = json_string(nulls_schema);
    char *esc = json_dumps(js, JSON_ENCODE_ANY);
    json_decref(js);
    char *p2 = NULL;
    assert_true(asprintf(&p2,
                         "\"stream.kafka.decoder.prop.schema\":%s,"
                         "\"stream.kafka.decoder.prop.leading.bytes.to.strip\":\"2\"",
                         esc) > 0);
    free(esc);
    load("{\"schemaName\":\"s\",\"dimensionFieldSpecs\":[{\"name\":\"u\",\"dataType\":\"STRING\"},"
         "{\"name\":\"ns\",\"dataType\":\"INT\",\"singleValueField\":false}]}",
         "avro.SimpleAvroMessageDecoder", p2, &s, &t);
    free(p2);
    d = rowdec_new_cfg(s, t, 0);
    const uint8_t good[] = {0xAA, 0xBB, 0x02, 0x04, 'h', 'i', 0x04, 0x00};
    r = ok(d, good, sizeof good);
    want_str(&r->cols[0], "hi");
    assert_true(r->cols[1].is_null); /* [null, null]: Pinot drops null elements */
    const uint8_t branch[] = {0xAA, 0xBB, 0x04, 0x00};
    assert_int_equal(rowdec_decode(d, branch, sizeof branch, &x), ROWDEC_MALFORMED_AVRO);
    assert_non_null(strstr(rowdec_error_detail(d), "union branch"));
    const uint8_t many[] = {0xAA, 0xBB, 0x00, 0x02, 0xfe, 0xff, 0xff,
                            0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x00};
    assert_int_equal(rowdec_decode(d, many, sizeof many, &x), ROWDEC_MALFORMED_AVRO);
    assert_non_null(strstr(rowdec_error_detail(d), "entries"));
    const uint8_t one[] = {0xAA};
    assert_int_equal(rowdec_decode(d, one, sizeof one, &x), ROWDEC_MALFORMED_AVRO);
    rowdec_free(d);
    tcfg_free(t);
    schema_free(s);
}

/* ---- complexTypeConfig --------------------------------------------------------------- */

/* Avro logical types, as Pinot's AvroRecordExtractor converts them (decimal to BigDecimal,
 * timestamps to Timestamp, date to LocalDate, time to LocalTime, fixed uuid to UUID), into
 * columns of each kind; an annotation on the wrong base type is ignored. */
static const char lt_writer[] =
    "{\"type\":\"record\",\"name\":\"L\",\"fields\":["
    "{\"name\":\"dec\",\"type\":{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":9,"
    "\"scale\":2}},"
    "{\"name\":\"decs\",\"type\":{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":9,"
    "\"scale\":2}},"
    "{\"name\":\"decd\",\"type\":{\"type\":\"fixed\",\"name\":\"F4\",\"size\":4,\"logicalType\":"
    "\"decimal\",\"precision\":9,\"scale\":3}},"
    "{\"name\":\"tsu\",\"type\":[\"null\",{\"type\":\"long\",\"logicalType\":\"timestamp-micros\"}]"
    "},"
    "{\"name\":\"tsus\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-micros\"}},"
    "{\"name\":\"day\",\"type\":{\"type\":\"int\",\"logicalType\":\"date\"}},"
    "{\"name\":\"days\",\"type\":{\"type\":\"int\",\"logicalType\":\"date\"}},"
    "{\"name\":\"tod\",\"type\":{\"type\":\"int\",\"logicalType\":\"time-millis\"}},"
    "{\"name\":\"id\",\"type\":{\"type\":\"fixed\",\"name\":\"U\",\"size\":16,\"logicalType\":"
    "\"uuid\"}},"
    "{\"name\":\"odd\",\"type\":{\"type\":\"string\",\"logicalType\":\"date\"}}]}";
static const char lt_table_schema[] =
    "{\"schemaName\":\"l\",\"dimensionFieldSpecs\":["
    "{\"name\":\"dec\",\"dataType\":\"BIG_DECIMAL\"},{\"name\":\"decs\",\"dataType\":\"STRING\"},"
    "{\"name\":\"decd\",\"dataType\":\"DOUBLE\"},{\"name\":\"tsu\",\"dataType\":\"TIMESTAMP\"},"
    "{\"name\":\"tsus\",\"dataType\":\"STRING\"},{\"name\":\"day\",\"dataType\":\"INT\"},"
    "{\"name\":\"days\",\"dataType\":\"STRING\"},{\"name\":\"tod\",\"dataType\":\"STRING\"},"
    "{\"name\":\"id\",\"dataType\":\"STRING\"},{\"name\":\"odd\",\"dataType\":\"STRING\"}]}";

static void test_avro_logical_types(void **state)
{
    (void)state;
    json_t *js = json_string(lt_writer);
    char *esc = json_dumps(js, JSON_ENCODE_ANY), *props = NULL;
    json_decref(js);
    if (asprintf(&props, "\"stream.kafka.decoder.prop.schema\":%s", esc) < 0) abort();
    free(esc);
    schema *s;
    tcfg *t;
    load(lt_table_schema, "avro.SimpleAvroMessageDecoder", props, &s, &t);
    free(props);
    rowdec *d = rowdec_new_cfg(s, t, 0);
    uint8_t m[256];
    size_t n = 0;
    n += avro_test_long(m + n, 2); /* dec: 12345 at scale 2 */
    m[n++] = 0x30;
    m[n++] = 0x39;
    n += avro_test_long(m + n, 2); /* decs: -123 (two's complement) at scale 2 */
    m[n++] = 0xff;
    m[n++] = 0x85;
    memcpy(m + n, "\x00\x00\x04\xd2", 4); /* decd: 1234 at scale 3 */
    n += 4;
    n += avro_test_long(m + n, 1); /* tsu: the long branch */
    n += avro_test_long(m + n, 1700000000123456LL);
    n += avro_test_long(m + n, -1500000); /* tsus: 1.5 s before the epoch */
    n += avro_test_long(m + n, 19000);    /* day */
    n += avro_test_long(m + n, 19000);    /* days */
    n += avro_test_long(m + n, 3723004);  /* tod: 01:02:03.004 */
    memcpy(m + n, "\x12\x34\x56\x78\x9a\xbc\xde\xf0\x01\x23\x45\x67\x89\xab\xcd\xef", 16);
    n += 16;
    n += avro_test_long(m + n, 3); /* odd: a "date" on a string is no logical type */
    memcpy(m + n, "abc", 3);
    n += 3;
    const row *r = ok(d, m, n);
    /* the BIG_DECIMAL column holds Pinot's serialized 123.45: scale 2, unscaled 12345 */
    assert_int_equal(r->cols[0].v.u.bytes.len, 4);
    assert_memory_equal(r->cols[0].v.u.bytes.ptr, "\x00\x02\x30\x39", 4);
    want_str(&r->cols[1], "-1.23");
    assert_true(r->cols[2].v.u.f64 == 1.234);
    assert_true(r->cols[3].v.u.i64 == 1700000000123LL); /* Timestamp.getTime() */
    want_str(&r->cols[4], "1969-12-31 23:59:58.5");
    assert_int_equal(r->cols[5].v.u.i32, 19000);
    want_str(&r->cols[6], "2022-01-08");
    want_str(&r->cols[7], "01:02:03.004");
    want_str(&r->cols[8], "12345678-9abc-def0-0123-456789abcdef");
    want_str(&r->cols[9], "abc");
    rowdec_free(d);
    tcfg_free(t);
    schema_free(s);
}

static const char cplx_schema[] =
    "{\"schemaName\":\"s\",\"dimensionFieldSpecs\":["
    "{\"name\":\"id\",\"dataType\":\"LONG\"},"
    "{\"name\":\"g.city\",\"dataType\":\"STRING\"},"
    "{\"name\":\"g.topics.key\",\"dataType\":\"STRING\"},"
    "{\"name\":\"g.topics.n.deep\",\"dataType\":\"INT\"},"
    "{\"name\":\"g.topics\",\"dataType\":\"STRING\"},"
    "{\"name\":\"g\",\"dataType\":\"JSON\"},"
    "{\"name\":\"tags\",\"dataType\":\"STRING\",\"singleValueField\":false},"
    "{\"name\":\"objs\",\"dataType\":\"STRING\"},"
    "{\"name\":\"a.b\",\"dataType\":\"INT\"}]}";

static tcfg *cplx_table(const schema *s, const char *complex, const char *extra)
{
    char tj[2048], err[2048];
    snprintf(tj, sizeof tj,
             "{\"tableName\":\"t\",\"tableType\":\"OFFLINE\",\"ingestionConfig\":{"
             "\"complexTypeConfig\":%s%s}}",
             complex, extra);
    tcfg *t = tcfg_parse(tj, strlen(tj), "t", s, err, sizeof err);
    if (!t) fail_msg("%s", err);
    return t;
}

/* All the rows of one message. */
static uint32_t all_rows(rowdec *d, const char *msg, const row **rows, char keys[][64])
{
    const row *r;
    rowdec_reason why = rowdec_decode(d, (const uint8_t *)msg, strlen(msg), &r);
    uint32_t n = 0;
    do {
        if (why != ROWDEC_OK)
            fail_msg("%s: row %u: %s (%s)", msg, n, rowdec_reason_name(why),
                     rowdec_error_detail(d));
        const row_col *c = &r->cols[2];
        snprintf(keys[n], 64, "%.*s", c->is_null ? 4 : (int)c->v.u.bytes.len,
                 c->is_null ? "null" : (const char *)c->v.u.bytes.ptr);
        rows[n++] = r;
    } while (rowdec_next(d, &why, &r));
    assert_int_equal(n, rowdec_rows(d));
    return n;
}

static void test_complex_unnest(void **state)
{
    (void)state;
    char err[2048];
    schema *s = schema_parse(cplx_schema, strlen(cplx_schema), "s", err, sizeof err);
    assert_non_null(s);
    tcfg *t = cplx_table(s, "{\"fieldsToUnnest\":[\"g.topics\"]}", "");
    rowdec *d = rowdec_new_cfg(s, t, 0);
    const row *rows[8];
    char keys[8][64];
    const char *msg =
        "{\"id\":1,\"g\":{\"city\":\"x\",\"topics\":[{\"key\":\"a\",\"n\":{\"deep\":5}},"
        "{\"key\":\"b\"}]},\"tags\":[\"p\",\"q\"],\"objs\":[{\"o\":1}],\"a.b\":7}";
    assert_int_equal(all_rows(d, msg, rows, keys), 2);
    assert_string_equal(keys[0], "a");
    assert_string_equal(keys[1], "b");
    /* the row is decoded when it is taken: check the last one, then the first again */
    const row *r = rows[1];
    assert_int_equal(r->cols[0].v.u.i64, 1);
    want_str(&r->cols[1], "x");
    assert_true(r->cols[3].is_null);
    assert_true(r->cols[4].is_null); /* the unnested field holds an object: no value */
    want_str(&r->cols[5], "{\"city\":\"x\",\"topics\":[{\"key\":\"a\",\"n\":{\"deep\":5}},"
                          "{\"key\":\"b\"}]}");               /* the object stays a column */
    want_mv(&r->cols[6], 2, (const char *const[]){"p", "q"}); /* primitives stay a list */
    want_str(&r->cols[7], "[{\"o\":1}]");                     /* objects: JSON text */
    assert_int_equal(r->cols[8].v.u.i32, 7);                  /* a key holding the delimiter */
    r = ok(d, msg, strlen(msg));
    assert_int_equal(r->cols[3].v.u.i32, 5);
    /* empty, missing, not an array: one row as it is */
    assert_int_equal(all_rows(d, "{\"id\":2,\"g\":{\"topics\":[]}}", rows, keys), 1);
    assert_string_equal(keys[0], "null");
    assert_int_equal(all_rows(d, "{\"id\":3}", rows, keys), 1);
    assert_int_equal(all_rows(d, "{\"id\":4,\"g\":{\"topics\":\"plain\"}}", rows, keys), 1);
    r = csv(d, "{\"id\":4,\"g\":{\"topics\":\"plain\"}}");
    want_str(&r->cols[4], "plain");
    /* primitive elements: the field itself takes each */
    assert_int_equal(all_rows(d, "{\"g\":{\"topics\":[1,2,3]}}", rows, keys), 3);
    r = csv(d, "{\"g\":{\"topics\":[1,2,3]}}");
    want_str(&r->cols[4], "1");
    /* a bad value in one row rejects that row only */
    r = NULL;
    const char *m1 = "{\"g\":{\"topics\":[{\"n\":{\"deep\":\"x\"}},{\"key\":\"k\"}]}}";
    rowdec_reason why = rowdec_decode(d, (const uint8_t *)m1, strlen(m1), &r);
    assert_int_equal(why, ROWDEC_WRONG_TYPE);
    assert_true(rowdec_next(d, &why, &r));
    assert_int_equal(why, ROWDEC_OK);
    want_str(&r->cols[2], "k");
    assert_false(rowdec_next(d, &why, &r));
    /* JSON validity is the JSON decoder's */
    const row *x;
    assert_int_equal(rowdec_decode(d, (const uint8_t *)"{\"g\":", 5, &x), ROWDEC_MALFORMED_JSON);
    assert_int_equal(rowdec_decode(d, (const uint8_t *)"[1]", 3, &x), ROWDEC_NOT_OBJECT);
    assert_int_equal(rowdec_decode(d, (const uint8_t *)"{\"id\":\"\xff\"}", 10, &x),
                     ROWDEC_INVALID_UTF8);
    rowdec_free(d);
    tcfg_free(t);

    /* two fields unnest into their product; a field under another unnests per element */
    t = cplx_table(s, "{\"fieldsToUnnest\":[\"tags\",\"g.topics\"]}", "");
    d = rowdec_new_cfg(s, t, 0);
    assert_int_equal(all_rows(d,
                              "{\"tags\":[\"p\",\"q\"],\"g\":{\"topics\":[{\"key\":\"a\"},"
                              "{\"key\":\"b\"},{\"key\":\"c\"}]}}",
                              rows, keys),
                     6);
    rowdec_free(d);
    tcfg_free(t);
    /* too many rows: the message is rejected, never half stored */
    t = cplx_table(s, "{\"fieldsToUnnest\":[\"tags\",\"objs\"]}", "");
    d = rowdec_new_cfg(s, t, 0);
    size_t cap = 2 * 300 * 4 + 64, n = 0;
    char *big = malloc(cap);
    n += (size_t)snprintf(big + n, cap - n, "{\"tags\":[");
    for (int i = 0; i < 300; i++)
        n += (size_t)snprintf(big + n, cap - n, "%s1", i ? "," : "");
    n += (size_t)snprintf(big + n, cap - n, "],\"objs\":[");
    for (int i = 0; i < 300; i++)
        n += (size_t)snprintf(big + n, cap - n, "%s2", i ? "," : "");
    n += (size_t)snprintf(big + n, cap - n, "]}");
    assert_int_equal(rowdec_decode(d, (const uint8_t *)big, n, &x), ROWDEC_TRANSFORM);
    assert_int_equal(rowdec_rows(d), 1);
    rowdec_reason w;
    assert_false(rowdec_next(d, &w, &x));
    free(big);
    rowdec_free(d);
    tcfg_free(t);
    schema_free(s);

    /* another delimiter, prefixesToRename, a nested unnest */
    static const char sj[] = "{\"schemaName\":\"s\",\"dimensionFieldSpecs\":["
                             "{\"name\":\"city\",\"dataType\":\"STRING\"},"
                             "{\"name\":\"g||xs||v\",\"dataType\":\"STRING\"},"
                             "{\"name\":\"g||xs||ys\",\"dataType\":\"INT\"},"
                             "{\"name\":\"g||city\",\"dataType\":\"STRING\"}]}";
    s = schema_parse(sj, strlen(sj), "s", err, sizeof err);
    assert_non_null(s);
    t = cplx_table(s,
                   "{\"fieldsToUnnest\":[\"g||xs\",\"g||xs||ys\"],\"delimiter\":\"||\","
                   "\"prefixesToRename\":{\"g||c\":\"c\"}}",
                   "");
    d = rowdec_new_cfg(s, t, 0);
    const char *m2 = "{\"g\":{\"city\":\"z\",\"xs\":[{\"v\":\"A\",\"ys\":[1,2]},{\"v\":\"B\"}]}}";
    r = ok(d, m2, strlen(m2));
    assert_int_equal(rowdec_rows(d), 3);
    want_str(&r->cols[0], "z");      /* g||city renamed to city */
    assert_true(r->cols[3].is_null); /* and gone under its old name */
    want_str(&r->cols[1], "A");
    assert_int_equal(r->cols[2].v.u.i32, 1);
    assert_true(rowdec_next(d, &w, &r));
    assert_int_equal(r->cols[2].v.u.i32, 2);
    assert_true(rowdec_next(d, &w, &r));
    want_str(&r->cols[1], "B");
    assert_true(r->cols[2].is_null);
    assert_false(rowdec_next(d, &w, &r));
    rowdec_free(d);
    tcfg_free(t);

    /* config errors, all in one run */
    char tj[512];
    snprintf(tj, sizeof tj,
             "{\"tableName\":\"t\",\"tableType\":\"OFFLINE\",\"ingestionConfig\":{"
             "\"complexTypeConfig\":{\"fieldsToUnnest\":\"x\",\"delimiter\":\"\","
             "\"collectionNotUnnestedToJson\":\"NONE\",\"unnest\":1}}}");
    assert_null(tcfg_parse(tj, strlen(tj), "t", s, err, sizeof err));
    assert_non_null(strstr(err, "fieldsToUnnest: expected an array"));
    assert_non_null(strstr(err, "delimiter: expected a non-empty string"));
    assert_non_null(strstr(err, "\"NONE\": expected NON_PRIMITIVE or ALL"));
    assert_non_null(strstr(err, "complexTypeConfig.unnest"));
    schema_free(s);
}

/* ---- Protocol Buffers ------------------------------------------------------------------ */

/* complexTypeConfig over Avro records (Pinot unnests an Avro record's maps and lists as it
 * does JSON's): a nested record flattened, an array of records unnested into rows. */
static void test_complex_avro(void **state)
{
    (void)state;
    const char writer[] =
        "{\"type\":\"record\",\"name\":\"E\",\"fields\":[{\"name\":\"id\",\"type\":\"long\"},"
        "{\"name\":\"g\",\"type\":{\"type\":\"record\",\"name\":\"G\",\"fields\":["
        "{\"name\":\"city\",\"type\":\"string\"},{\"name\":\"topics\",\"type\":{\"type\":"
        "\"array\",\"items\":{\"type\":\"record\",\"name\":\"T\",\"fields\":[{\"name\":\"key\","
        "\"type\":\"string\"}]}}}]}}]}";
    char err[2048];
    schema *s = schema_parse(cplx_schema, strlen(cplx_schema), "s", err, sizeof err);
    json_t *js = json_string(writer);
    char *esc = json_dumps(js, JSON_ENCODE_ANY), *tj = NULL;
    json_decref(js);
    if (asprintf(&tj,
                 "{\"tableName\":\"t\",\"tableType\":\"REALTIME\",\"tableIndexConfig\":{"
                 "\"streamConfigs\":{\"stream.kafka.topic.name\":\"e\","
                 "\"stream.kafka.broker.list\":\"h:1\",\"stream.kafka.decoder.class.name\":"
                 "\"org.apache.pinot.plugin.inputformat.avro.SimpleAvroMessageDecoder\","
                 "\"stream.kafka.decoder.prop.schema\":%s}},\"ingestionConfig\":{"
                 "\"complexTypeConfig\":{\"fieldsToUnnest\":[\"g.topics\"]}}}",
                 esc) < 0)
        abort();
    free(esc);
    tcfg *t = tcfg_parse(tj, strlen(tj), "t", s, err, sizeof err);
    free(tj);
    if (!t) fail_msg("%s", err);
    rowdec *d = rowdec_new_cfg(s, t, 0);
    uint8_t m[64];
    size_t n = 0;
    n += avro_test_long(m + n, 7);
    n += avro_test_long(m + n, 5);
    memcpy(m + n, "Paris", 5);
    n += 5;
    n += avro_test_long(m + n, 2); /* two topics */
    n += avro_test_long(m + n, 1);
    m[n++] = 'a';
    n += avro_test_long(m + n, 1);
    m[n++] = 'b';
    n += avro_test_long(m + n, 0);
    const row *r = ok(d, m, n);
    assert_int_equal(rowdec_rows(d), 2);
    assert_true(r->cols[0].v.u.i64 == 7);
    want_str(&r->cols[1], "Paris");
    want_str(&r->cols[2], "a");
    rowdec_reason why;
    assert_true(rowdec_next(d, &why, &r));
    assert_int_equal(why, ROWDEC_OK);
    want_str(&r->cols[1], "Paris");
    want_str(&r->cols[2], "b");
    assert_false(rowdec_next(d, &why, &r));
    rowdec_free(d);
    tcfg_free(t);
    schema_free(s);
}

static const char pb_schema[] =
    "{\"schemaName\":\"s\",\"dimensionFieldSpecs\":["
    "{\"name\":\"id\",\"dataType\":\"LONG\"},{\"name\":\"name\",\"dataType\":\"STRING\"},"
    "{\"name\":\"score\",\"dataType\":\"DOUBLE\"},{\"name\":\"ratio\",\"dataType\":\"STRING\"},"
    "{\"name\":\"ok\",\"dataType\":\"BOOLEAN\"},{\"name\":\"u32\",\"dataType\":\"LONG\"},"
    "{\"name\":\"s64\",\"dataType\":\"LONG\"},{\"name\":\"f32\",\"dataType\":\"INT\"},"
    "{\"name\":\"raw\",\"dataType\":\"BYTES\"},{\"name\":\"color\",\"dataType\":\"STRING\"},"
    "{\"name\":\"tags\",\"dataType\":\"STRING\",\"singleValueField\":false},"
    "{\"name\":\"counts\",\"dataType\":\"LONG\",\"singleValueField\":false},"
    "{\"name\":\"inner\",\"dataType\":\"STRING\"},{\"name\":\"attrs\",\"dataType\":\"JSON\"},"
    "{\"name\":\"maybe\",\"dataType\":\"INT\"},{\"name\":\"text\",\"dataType\":\"STRING\"},"
    "{\"name\":\"number\",\"dataType\":\"INT\"},"
    "{\"name\":\"items\",\"dataType\":\"STRING\",\"singleValueField\":false},"
    "{\"name\":\"missing\",\"dataType\":\"STRING\"}]}";

/* protoc-c --encode=sluice.test.Event tests/data/proto/events.proto of: id: 5 name: "café"
 * score: 2.5 ratio: 0.1 ok: true u32: 4294967295 s64: -3 f32: 9 raw: "\000\001\377"
 * color: BLUE tags: "a" tags: "b" counts: 1 counts: 2 inner { note: "n" nums: 1 nums: 2
 * child { note: "c" } } attrs { key: "k" value: 3 } maybe: 0 text: "t" items { note: "i1" }
 * items { note: "i2" } */
static const uint8_t pb_event[] =
    "\x08\x05\x12\x05\x63\x61\x66\xc3\xa9\x19\x00\x00\x00\x00\x00\x00\x04\x40\x25\xcd\xcc\xcc"
    "\x3d\x28\x01\x30\xff\xff\xff\xff\x0f\x38\x05\x45\x09\x00\x00\x00\x4a\x03\x00\x01\xff\x50"
    "\x02\x5a\x01\x61\x5a\x01\x62\x62\x02\x01\x02\x6a\x0c\x0a\x01\x6e\x12\x02\x01\x02\x1a\x03"
    "\x0a\x01\x63\x72\x05\x0a\x01\x6b\x10\x03\x78\x00\x82\x01\x01\x74\x92\x01\x04\x0a\x02\x69"
    "\x31\x92\x01\x04\x0a\x02\x69\x32";

static char *pb_props(const char *file, const char *cls)
{
    const char *dir = getenv("SLUICE_TEST_DATA");
    if (!dir) fail_msg("SLUICE_TEST_DATA unset: the descriptor files cannot be found");
    char *p = NULL;
    if (asprintf(&p, "\"stream.kafka.decoder.prop.descriptorFile\":\"%s/proto/%s\"%s%s%s", dir,
                 file, cls ? ",\"stream.kafka.decoder.prop.protoClassName\":\"" : "",
                 cls ? cls : "", cls ? "\"" : "") < 0)
        abort();
    return p;
}

/* complexTypeConfig over a protobuf message (Pinot reads a message's nested messages as
 * maps and repeated fields as lists, as it does JSON): the nested message flattened, the
 * repeated messages unnested into a row each, the rest of the message on every row. */
static void test_complex_protobuf(void **state)
{
    (void)state;
    static const char sj[] =
        "{\"schemaName\":\"s\",\"dimensionFieldSpecs\":["
        "{\"name\":\"id\",\"dataType\":\"LONG\"},{\"name\":\"name\",\"dataType\":\"STRING\"},"
        "{\"name\":\"inner.note\",\"dataType\":\"STRING\"},"
        "{\"name\":\"inner.child.note\",\"dataType\":\"STRING\"},"
        "{\"name\":\"inner.nums\",\"dataType\":\"INT\",\"singleValueField\":false},"
        "{\"name\":\"items.note\",\"dataType\":\"STRING\"},"
        "{\"name\":\"color\",\"dataType\":\"STRING\"}]}";
    char *props = pb_props("events.desc", "sluice.test.Event"), *cp = NULL;
    if (asprintf(&cp,
                 "%s}},\"ingestionConfig\":{\"complexTypeConfig\":{\"fieldsToUnnest\":"
                 "[\"items\"]",
                 props) < 0)
        abort();
    free(props);
    schema *s;
    tcfg *t;
    load(sj, "protobuf.ProtoBufMessageDecoder", cp, &s, &t);
    free(cp);
    rowdec *d = rowdec_new_cfg(s, t, 0);
    const row *r = ok(d, pb_event, sizeof pb_event - 1);
    assert_int_equal(rowdec_rows(d), 2);
    for (int k = 0; k < 2; k++) {
        if (k) {
            rowdec_reason why;
            assert_true(rowdec_next(d, &why, &r));
            assert_int_equal(why, ROWDEC_OK);
        }
        assert_int_equal(r->cols[0].v.u.i64, 5);
        want_str(&r->cols[1], "caf\xc3\xa9");
        want_str(&r->cols[2], "n");
        want_str(&r->cols[3], "c");
        assert_int_equal(r->cols[4].nvals, 2);
        assert_int_equal(r->cols[4].mv[1].u.i32, 2);
        want_str(&r->cols[5], k ? "i2" : "i1");
        want_str(&r->cols[6], "BLUE");
    }
    rowdec_reason why;
    assert_false(rowdec_next(d, &why, &r));
    /* only id set: one row (nothing to unnest), the nested fields absent */
    r = ok(d, "\x08\x07", 2);
    assert_int_equal(rowdec_rows(d), 1);
    assert_int_equal(r->cols[0].v.u.i64, 7);
    assert_true(r->cols[2].is_null);
    assert_true(r->cols[5].is_null);
    rowdec_free(d);
    tcfg_free(t);
    schema_free(s);
}

static void test_protobuf(void **state)
{
    (void)state;
    schema *s;
    tcfg *t;
    char *props = pb_props("events.desc", "sluice.test.Event");
    load(pb_schema, "protobuf.ProtoBufMessageDecoder", props, &s, &t);
    free(props);
    rowdec *d = rowdec_new_cfg(s, t, 0);
    size_t n = sizeof pb_event - 1;
    const row *r = ok(d, pb_event, n);
    assert_int_equal(r->cols[0].v.u.i64, 5);
    want_str(&r->cols[1], "caf\xc3\xa9");
    assert_true(r->cols[2].v.u.f64 == 2.5);
    want_str(&r->cols[3], "0.1"); /* a float's text: Java's Float.toString */
    assert_int_equal(r->cols[4].v.u.i32, 1);
    assert_int_equal(r->cols[5].v.u.i64, -1); /* a uint32 is Java's int */
    assert_int_equal(r->cols[6].v.u.i64, -3);
    assert_int_equal(r->cols[7].v.u.i32, 9);
    assert_int_equal(r->cols[8].v.u.bytes.len, 3);
    assert_memory_equal(r->cols[8].v.u.bytes.ptr, "\x00\x01\xff", 3);
    want_str(&r->cols[9], "BLUE");
    want_mv(&r->cols[10], 2, (const char *const[]){"a", "b"});
    assert_int_equal(r->cols[11].nvals, 2);
    assert_int_equal(r->cols[11].mv[1].u.i64, 2); /* packed, as proto3 writes them */
    want_str(&r->cols[12], "{\"note\":\"n\",\"nums\":[1,2],\"child\":{\"note\":\"c\"}}");
    want_str(&r->cols[13], "{\"k\":3}");
    assert_false(r->cols[14].is_null); /* proto3 optional, set to 0: 0 */
    assert_int_equal(r->cols[14].v.u.i32, 0);
    want_str(&r->cols[15], "t");
    assert_true(r->cols[16].is_null); /* the other oneof member: unset */
    want_mv(&r->cols[17], 2, (const char *const[]){"{\"note\":\"i1\"}", "{\"note\":\"i2\"}"});
    assert_true(r->cols[18].is_null);

    /* an empty message: proto3 scalars take their defaults, fields with presence are null */
    r = ok(d, "\x6a\x00", 2); /* inner {} only */
    assert_int_equal(r->cols[0].v.u.i64, 0);
    assert_false(r->cols[0].is_null);
    want_str(&r->cols[9], "RED");
    want_str(&r->cols[12], "{}");
    assert_true(r->cols[14].is_null);
    assert_true(r->cols[10].is_null); /* no tags */

    /* the last value of a singular field wins; message occurrences merge; an unknown field
     * is skipped; a wire type other than the field's is an unknown field */
    static const uint8_t merged[] = "\x08\x01\x08\x02"         /* id 1, then id 2 */
                                    "\x6a\x03\x0a\x01\x61"     /* inner { note: "a" } */
                                    "\x6a\x02\x12\x00"         /* inner { nums: [] } packed */
                                    "\x6a\x04\x1a\x02\x0a\x00" /* inner { child { note:"" }} */
                                    "\xf8\x07\x05"             /* field 127: unknown */
                                    "\x15\x01\x02\x03\x04";    /* id as I32: unknown */
    r = ok(d, merged, sizeof merged - 1);
    assert_int_equal(r->cols[0].v.u.i64, 2);
    want_str(&r->cols[12], "{\"note\":\"a\",\"child\":{}}");

    /* hostile bytes: every truncation, a length past the end, wire type 7, field 0 */
    const row *x;
    for (size_t k = 1; k < n; k++) {
        rowdec_reason w = rowdec_decode(d, pb_event, k, &x);
        /* a cut at a field's boundary is a shorter, valid message */
        if (w != ROWDEC_OK) assert_int_equal(w, ROWDEC_MALFORMED_PROTOBUF);
    }
    assert_int_equal(rowdec_decode(d, (const uint8_t *)"\x12\x7f\x61", 3, &x),
                     ROWDEC_MALFORMED_PROTOBUF);
    assert_int_equal(rowdec_decode(d, (const uint8_t *)"\x0f\x01", 2, &x),
                     ROWDEC_MALFORMED_PROTOBUF);
    assert_int_equal(rowdec_decode(d, (const uint8_t *)"\x00\x01", 2, &x),
                     ROWDEC_MALFORMED_PROTOBUF);
    assert_int_equal(rowdec_decode(d, (const uint8_t *)"\x12\x01\xff", 3, &x),
                     ROWDEC_MALFORMED_PROTOBUF); /* a proto3 string that is not UTF-8 */
    assert_non_null(strstr(rowdec_error_detail(d), "not UTF-8"));
    /* nesting past the bound */
    uint8_t deep[64];
    size_t dn = 0;
    for (int k = 0; k < 20; k++) { /* inner { child { child { ... */
        deep[dn++] = k ? 0x1a : 0x6a;
        deep[dn++] = (uint8_t)(2 * (20 - k - 1));
    }
    assert_int_equal(rowdec_decode(d, deep, dn, &x), ROWDEC_MALFORMED_PROTOBUF);
    assert_non_null(strstr(rowdec_error_detail(d), "nested deeper"));
    rowdec_free(d);
    tcfg_free(t);
    schema_free(s);

    /* proto2: a missing required field, presence, bad UTF-8 read as U+FFFD */
    props = pb_props("legacy.desc", NULL); /* the first message of the set */
    load("{\"schemaName\":\"s\",\"dimensionFieldSpecs\":[{\"name\":\"id\",\"dataType\":\"LONG\"},"
         "{\"name\":\"item\",\"dataType\":\"STRING\"},{\"name\":\"qty\",\"dataType\":\"INT\"}]}",
         "protobuf.ProtoBufMessageDecoder", props, &s, &t);
    free(props);
    d = rowdec_new_cfg(s, t, 0);
    r = ok(d, "\x08\x01\x12\x02\xff\x78", 6);
    want_str(&r->cols[1], "\xef\xbf\xbdx");
    assert_true(r->cols[2].is_null);
    assert_int_equal(rowdec_decode(d, (const uint8_t *)"\x12\x01x", 3, &x),
                     ROWDEC_MALFORMED_PROTOBUF);
    assert_non_null(strstr(rowdec_error_detail(d), "required"));
    rowdec_free(d);
    tcfg_free(t);

    /* config errors */
    char err[2048];
    char *tj = table("protobuf.ProtoBufMessageDecoder", "");
    assert_null(tcfg_parse(tj, strlen(tj), "t", s, err, sizeof err));
    free(tj);
    assert_non_null(strstr(err, "needs stream.kafka.decoder.prop.descriptorFile"));
    props = pb_props("events.desc", "sluice.test.Nope");
    tj = table("protobuf.ProtoBufMessageDecoder", props);
    free(props);
    assert_null(tcfg_parse(tj, strlen(tj), "t", s, err, sizeof err));
    free(tj);
    assert_non_null(strstr(err, "\"sluice.test.Nope\": no such message"));
    props = pb_props("events.proto", NULL); /* a .proto, not a descriptor set */
    tj = table("protobuf.ProtoBufMessageDecoder", props);
    free(props);
    assert_null(tcfg_parse(tj, strlen(tj), "t", s, err, sizeof err));
    free(tj);
    assert_non_null(strstr(err, "not a descriptor set"));
    tj = table("protobuf.ProtoBufMessageDecoder",
               "\"stream.kafka.decoder.prop.descriptorFile\":\"/nonexistent.desc\"");
    assert_null(tcfg_parse(tj, strlen(tj), "t", s, err, sizeof err));
    free(tj);
    assert_non_null(strstr(err, "cannot open the descriptor file"));
    schema_free(s);
}

/* ---- enrichmentConfigs (generateColumn) ---------------------------------------------- */

static void test_enrichment(void **state)
{
    (void)state;
    static const char sj[] = "{\"schemaName\":\"s\",\"dimensionFieldSpecs\":["
                             "{\"name\":\"a\",\"dataType\":\"STRING\"},"
                             "{\"name\":\"n\",\"dataType\":\"INT\"},"
                             "{\"name\":\"rec||name\",\"dataType\":\"STRING\"}]}";
    char err[2048];
    schema *s = schema_parse(sj, strlen(sj), "s", err, sizeof err);
    assert_non_null(s);
    /* a generated column is written whatever the message holds (Pinot's putValue) */
    tcfg *t = cplx_table(s,
                         "null,\"enrichmentConfigs\":[{\"enricherType\":\"generateColumn\","
                         "\"properties\":{\"fieldToFunctionMap\":{\"a\":\"upper(src)\"}}},"
                         "{\"enricherType\":\"noOp\",\"properties\":{}}]",
                         "");
    rowdec *d = rowdec_new_cfg(s, t, 0);
    const row *r = csv(d, "{\"a\":\"keep\",\"src\":\"x\",\"n\":1}");
    want_str(&r->cols[0], "X");
    r = csv(d, "{\"a\":\"keep\",\"n\":1}"); /* upper(null) is null: so is a */
    assert_true(r->cols[0].is_null);
    rowdec_free(d);
    tcfg_free(t);
    /* before the complex-type transform: Pinot's testUnnest, a JSON string made an array to
     * unnest */
    t = cplx_table(s,
                   "{\"fieldsToUnnest\":[\"rec\"],\"delimiter\":\"||\"},\"enrichmentConfigs\":[{"
                   "\"enricherType\":\"generateColumn\",\"preComplexTypeTransform\":true,"
                   "\"properties\":{\"fieldToFunctionMap\":{\"rec\":"
                   "\"jsonStringToListOrMap(data)\"}}}]",
                   "");
    d = rowdec_new_cfg(s, t, 0);
    const char *m = "{\"data\":\" [{\\\"name\\\":\\\"p\\\"},{\\\"name\\\":\\\"q\\\"}] \",\"n\":2}";
    r = ok(d, m, strlen(m));
    assert_int_equal(rowdec_rows(d), 2);
    want_str(&r->cols[2], "p");
    rowdec_reason w;
    assert_true(rowdec_next(d, &w, &r));
    want_str(&r->cols[2], "q");
    assert_int_equal(r->cols[1].v.u.i32, 2);
    r = csv(d, "{\"data\":\"not json\",\"n\":3}"); /* null: nothing to unnest, one row */
    assert_int_equal(rowdec_rows(d), 1);
    assert_true(r->cols[2].is_null);
    rowdec_free(d);
    tcfg_free(t);
    /* errors, all in one run */
    char tj[1024];
    snprintf(tj, sizeof tj,
             "{\"tableName\":\"t\",\"tableType\":\"OFFLINE\",\"ingestionConfig\":{"
             "\"transformConfigs\":[{\"columnName\":\"n\",\"transformFunction\":\"length(a)\"}],"
             "\"enrichmentConfigs\":[{\"enricherType\":\"clpEnricher\"},"
             "{\"enricherType\":\"generateColumn\",\"properties\":{\"fieldToFunctionMap\":{"
             "\"other\":\"upper(a)\",\"a\":\"lower(b)\",\"n\":\"length(b)\"}}}]}}");
    assert_null(tcfg_parse(tj, strlen(tj), "t", s, err, sizeof err));
    assert_non_null(strstr(err, "enricherType \"clpEnricher\": not supported"));
    assert_non_null(strstr(err, "fieldToFunctionMap.other: not a single-value column"));
    assert_non_null(strstr(err, "fieldToFunctionMap.n: also in transformConfigs"));
    assert_non_null(strstr(err, "a is generated and read by a transform"));
    schema_free(s);
}

/* Transforms and the filter read the Kafka metadata columns' values (Pinot's decoder puts them
 * into the row before the transformers). */
static void test_metadata_in_transforms(void **state)
{
    (void)state;
    static const char sj[] = "{\"schemaName\":\"s\",\"dimensionFieldSpecs\":["
                             "{\"name\":\"__key\",\"dataType\":\"STRING\"},"
                             "{\"name\":\"__metadata$partition\",\"dataType\":\"INT\"},"
                             "{\"name\":\"k\",\"dataType\":\"STRING\"},"
                             "{\"name\":\"v\",\"dataType\":\"INT\"}]}";
    char err[2048];
    schema *s = schema_parse(sj, strlen(sj), "s", err, sizeof err);
    assert_non_null(s);
    static const char tj[] =
        "{\"tableName\":\"t\",\"tableType\":\"REALTIME\",\"tableIndexConfig\":{\"streamConfigs\":"
        "{\"stream.kafka.topic.name\":\"e\",\"stream.kafka.broker.list\":\"h:1\","
        "\"stream.kafka.metadata.populate\":\"true\"}},\"ingestionConfig\":{"
        "\"transformConfigs\":[{\"columnName\":\"k\",\"transformFunction\":\"upper(__key)\"},"
        "{\"columnName\":\"v\",\"transformFunction\":\"__metadata$partition\"}],"
        "\"filterConfig\":{\"filterFunction\":\"\\\"__metadata$partition\\\" = 3\"}}}";
    tcfg *t = tcfg_parse(tj, strlen(tj), "t", s, err, sizeof err);
    if (!t) fail_msg("%s", err);
    rowdec *d = rowdec_new_cfg(s, t, 0);
    rowdec_msg m = {.ms = 1, .key = "ab", .keylen = 2, .offset = 9, .partition = 1};
    rowdec_set_message(d, &m);
    const row *r = csv(d, "{\"v\":1,\"k\":null,\"other\":\"zz\"}");
    want_str(&r->cols[2], "AB"); /* the key, not the message's (absent) __key */
    want_str(&r->cols[0], "ab");
    r = csv(d, "{\"k\":null}");
    assert_int_equal(r->cols[3].v.u.i32, 1); /* v from the partition */
    m.partition = 3;                         /* the filter reads the partition: dropped */
    rowdec_set_message(d, &m);
    r = (const row *)1;
    assert_int_equal(rowdec_decode(d, (const uint8_t *)"{\"v\":2}", 7, &r), ROWDEC_OK);
    assert_null(r);
    rowdec_free(d);
    tcfg_free(t);
    /* a transform's value for a metadata column: Kafka's is put over it */
    static const char tj2[] =
        "{\"tableName\":\"t\",\"tableType\":\"REALTIME\",\"tableIndexConfig\":{\"streamConfigs\":"
        "{\"stream.kafka.topic.name\":\"e\",\"stream.kafka.broker.list\":\"h:1\","
        "\"stream.kafka.metadata.populate\":\"true\"}},\"ingestionConfig\":{"
        "\"transformConfigs\":[{\"columnName\":\"__key\",\"transformFunction\":\"trim(o)\"}]}}";
    t = tcfg_parse(tj2, strlen(tj2), "t", s, err, sizeof err);
    if (!t) fail_msg("%s", err);
    d = rowdec_new_cfg(s, t, 0);
    m.partition = 1;
    rowdec_set_message(d, &m);
    r = csv(d, "{\"o\":\" zz \"}");
    want_str(&r->cols[0], "ab");
    rowdec_free(d);
    tcfg_free(t);
    schema_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_pinot_cases),        cmocka_unit_test(test_csv_quoting),
        cmocka_unit_test(test_decoder_config_errors),  cmocka_unit_test(test_avro_simple),
        cmocka_unit_test(test_avro_logical_types),     cmocka_unit_test(test_complex_avro),
        cmocka_unit_test(test_complex_unnest),         cmocka_unit_test(test_protobuf),
        cmocka_unit_test(test_complex_protobuf),       cmocka_unit_test(test_enrichment),
        cmocka_unit_test(test_metadata_in_transforms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
