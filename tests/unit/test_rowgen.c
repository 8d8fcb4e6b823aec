/* Rows for any schema (chaos/rowgen): determinism, every field present with its type, the
 * extremes each type promises, date-time fields in each supported format (old and new
 * spellings, EPOCH units and SIMPLE_DATE_FORMAT letters), and every row accepted by Sluice's
 * own JSON decoder with the very values the JSON holds. */
#include "chaos/rowgen.h"
#include "common/jsonw.h"
#include "common/schema.h"
#include "consumer/rowdec.h"

#include <jansson.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define NROWS 20000

static const char alltypes[] =
    "{\"schemaName\":\"a\",\"dimensionFieldSpecs\":["
    "{\"name\":\"s\",\"dataType\":\"STRING\"},{\"name\":\"i\",\"dataType\":\"INT\"},"
    "{\"name\":\"l\",\"dataType\":\"LONG\"},{\"name\":\"f\",\"dataType\":\"FLOAT\"},"
    "{\"name\":\"d\",\"dataType\":\"DOUBLE\"},{\"name\":\"b\",\"dataType\":\"BOOLEAN\"},"
    "{\"name\":\"by\",\"dataType\":\"BYTES\"},"
    "{\"name\":\"tags\",\"dataType\":\"STRING\",\"singleValueField\":false},"
    "{\"name\":\"nums\",\"dataType\":\"INT\",\"singleValueField\":false}],"
    "\"metricFieldSpecs\":[{\"name\":\"m\",\"dataType\":\"DOUBLE\"}],"
    "\"dateTimeFieldSpecs\":[{\"name\":\"ts\",\"dataType\":\"TIMESTAMP\","
    "\"format\":\"1:MILLISECONDS:TIMESTAMP\",\"granularity\":\"1:MILLISECONDS\"}]}";

static const char times[] =
    "{\"schemaName\":\"t\",\"dateTimeFieldSpecs\":["
    "{\"name\":\"ms\",\"dataType\":\"LONG\",\"format\":\"1:MILLISECONDS:EPOCH\",\"granularity\":"
    "\"1:MILLISECONDS\"},"
    "{\"name\":\"sec\",\"dataType\":\"LONG\",\"format\":\"1:SECONDS:EPOCH\",\"granularity\":\"1:"
    "SECONDS\"},"
    "{\"name\":\"days\",\"dataType\":\"INT\",\"format\":\"1:DAYS:EPOCH\",\"granularity\":\"1:"
    "DAYS\"},"
    "{\"name\":\"min5\",\"dataType\":\"LONG\",\"format\":\"5:MINUTES:EPOCH\",\"granularity\":\"5:"
    "MINUTES\"},"
    "{\"name\":\"hours\",\"dataType\":\"LONG\",\"format\":\"EPOCH|HOURS|1\",\"granularity\":\"1:"
    "HOURS\"},"
    "{\"name\":\"sdf\",\"dataType\":\"STRING\",\"format\":\"1:DAYS:SIMPLE_DATE_FORMAT:yyyyMMdd\","
    "\"granularity\":\"1:DAYS\"},"
    "{\"name\":\"sdf2\",\"dataType\":\"STRING\",\"format\":\"SIMPLE_DATE_FORMAT|yyyy-MM-dd'T'HH:mm:"
    "ss.SSS\",\"granularity\":\"1:MILLISECONDS\"},"
    "{\"name\":\"sdf3\",\"dataType\":\"STRING\",\"format\":\"SIMPLE_DATE_FORMAT|dd MMM yyyy hh:mm a Z\",\"granularity\":\"1:MINUTES\"},"
    "{\"name\":\"tsf\",\"dataType\":\"TIMESTAMP\",\"format\":\"TIMESTAMP\",\"granularity\":\"1:"
    "MILLISECONDS\"}]}";

static schema *load(const char *json)
{
    char err[256];
    schema *s = schema_parse(json, strlen(json), "test", err, sizeof err);
    if (!s) fail_msg("schema: %s", err);
    return s;
}

static json_t *row_json(const rowgen *g, uint64_t seed, uint64_t id, jsonw *w)
{
    jsonw_reset(w);
    rowgen_row(g, seed, id, w);
    json_error_t je;
    json_t *o = json_loadb(w->buf, w->len, 0, &je);
    if (!o) fail_msg("row %llu does not parse: %s: %s", (unsigned long long)id, je.text, w->buf);
    return o;
}

static void test_deterministic(void **state)
{
    (void)state;
    schema *s = load(alltypes);
    rowgen *g = rowgen_new(s), *h = rowgen_new(s);
    jsonw a, b;
    jsonw_init(&a);
    jsonw_init(&b);
    size_t differ = 0;
    for (uint64_t id = 0; id < 2000; id++) {
        jsonw_reset(&a);
        jsonw_reset(&b);
        rowgen_row(g, 7, id, &a);
        rowgen_row(h, 7, id, &b); /* another generator, same inputs */
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.buf, b.buf, a.len);
        jsonw_reset(&b);
        rowgen_row(g, 8, id, &b);
        differ += a.len != b.len || memcmp(a.buf, b.buf, a.len) != 0;
    }
    assert_true(differ > 1990); /* the seed matters */
    jsonw_free(&a);
    jsonw_free(&b);
    rowgen_free(g);
    rowgen_free(h);
    schema_free(s);
}

/* Every field, its JSON type, and the extremes seen over NROWS rows. */
static void test_types_and_extremes(void **state)
{
    (void)state;
    schema *s = load(alltypes);
    rowgen *g = rowgen_new(s);
    jsonw w;
    jsonw_init(&w);
    bool int_min = false, int_max = false, long_min = false, long_max = false, empty = false,
         longstr = false, escaped = false, mv_sizes[4] = {0}, bytes0 = false, bytes16 = false,
         t = false, f = false;
    for (uint64_t id = 0; id < NROWS; id++) {
        json_t *o = row_json(g, 1, id, &w);
        assert_int_equal(json_object_size(o), s->nfields);
        json_int_t iv = json_integer_value(json_object_get(o, "i"));
        assert_true(json_is_integer(json_object_get(o, "i")));
        assert_true(iv >= INT32_MIN && iv <= INT32_MAX);
        int_min |= iv == INT32_MIN;
        int_max |= iv == INT32_MAX;
        json_int_t lv = json_integer_value(json_object_get(o, "l"));
        long_min |= lv == INT64_MIN;
        long_max |= lv == INT64_MAX;
        assert_true(json_is_number(json_object_get(o, "f")));
        assert_true(json_is_number(json_object_get(o, "d")));
        assert_true(json_is_boolean(json_object_get(o, "b")));
        t |= json_is_true(json_object_get(o, "b"));
        f |= json_is_false(json_object_get(o, "b"));
        const char *str = json_string_value(json_object_get(o, "s"));
        assert_non_null(str);
        size_t sl = json_string_length(json_object_get(o, "s"));
        empty |= sl == 0;
        longstr |= sl == 1000;
        escaped |= strchr(str, '"') && strchr(str, '\\') && strstr(str, "\xc3\xa9");
        const char *by = json_string_value(json_object_get(o, "by"));
        assert_non_null(by);
        assert_true(strlen(by) % 2 == 0 && strlen(by) <= 32);
        assert_int_equal(strspn(by, "0123456789abcdef"), strlen(by));
        bytes0 |= !*by;
        bytes16 |= strlen(by) == 32;
        json_t *tags = json_object_get(o, "tags"), *nums = json_object_get(o, "nums");
        assert_true(json_is_array(tags) && json_is_array(nums));
        assert_true(json_array_size(tags) <= 3);
        mv_sizes[json_array_size(tags)] = true;
        assert_int_equal(json_integer_value(json_object_get(o, "ts")),
                         ROWGEN_TS_BASE + (int64_t)id * ROWGEN_TS_STEP);
        json_decref(o);
    }
    assert_true(int_min && int_max && long_min && long_max);
    assert_true(empty && longstr && escaped && bytes0 && bytes16 && t && f);
    for (int k = 0; k < 4; k++)
        assert_true(mv_sizes[k]);
    jsonw_free(&w);
    rowgen_free(g);
    schema_free(s);
}

static void test_time_formats(void **state)
{
    (void)state;
    schema *s = load(times);
    rowgen *g = rowgen_new(s);
    jsonw w;
    jsonw_init(&w);
    /* id 12345: 1700000123450 ms = 2023-11-14T22:15:23.450Z */
    json_t *o = row_json(g, 1, 12345, &w);
    assert_int_equal(json_integer_value(json_object_get(o, "ms")), INT64_C(1700000123450));
    assert_int_equal(json_integer_value(json_object_get(o, "sec")), INT64_C(1700000123));
    assert_int_equal(json_integer_value(json_object_get(o, "days")), 19675);
    assert_int_equal(json_integer_value(json_object_get(o, "min5")),
                     INT64_C(1700000123450) / 300000);
    assert_int_equal(json_integer_value(json_object_get(o, "hours")), INT64_C(472222));
    assert_string_equal(json_string_value(json_object_get(o, "sdf")), "20231114");
    assert_string_equal(json_string_value(json_object_get(o, "sdf2")), "2023-11-14T22:15:23.450");
    assert_string_equal(json_string_value(json_object_get(o, "sdf3")), "14 Nov 2023 10:15 PM +0000");
    assert_int_equal(json_integer_value(json_object_get(o, "tsf")), INT64_C(1700000123450));
    json_decref(o);
    /* time moves forward with the id */
    o = row_json(g, 1, 12346, &w);
    assert_int_equal(json_integer_value(json_object_get(o, "ms")), INT64_C(1700000123460));
    json_decref(o);
    jsonw_free(&w);
    rowgen_free(g);
    schema_free(s);
}

/* Sluice's decoder accepts every row, with the values the JSON holds. */
static void test_decoder_accepts(void **state)
{
    (void)state;
    schema *s = load(alltypes);
    rowgen *g = rowgen_new(s);
    rowdec *d = rowdec_new(s, 0);
    jsonw w;
    jsonw_init(&w);
    for (uint64_t id = 0; id < NROWS; id++) {
        json_t *o = row_json(g, 3, id, &w);
        const row *r = NULL;
        rowdec_reason why = rowdec_decode(d, (const uint8_t *)w.buf, w.len, &r);
        if (why != ROWDEC_OK)
            fail_msg("row %llu rejected: %s %s: %s", (unsigned long long)id,
                     rowdec_reason_name(why), rowdec_error_detail(d), w.buf);
        for (uint32_t i = 0; i < s->nfields; i++) {
            const schema_field *fd = &s->fields[i];
            const row_col *c = &r->cols[i];
            json_t *v = json_object_get(o, fd->name);
            if (!fd->single_value) {
                size_t n = json_array_size(v);
                assert_int_equal(c->nvals, n ? n : 1); /* [] is [default] */
                continue;
            }
            switch (fd->type) {
            case SCHEMA_INT:
                assert_int_equal(c->v.u.i32, json_integer_value(v));
                break;
            case SCHEMA_LONG:
            case SCHEMA_TIMESTAMP:
                assert_int_equal(c->v.u.i64, json_integer_value(v));
                break;
            case SCHEMA_BOOLEAN:
                assert_int_equal(c->v.u.i32, json_is_true(v));
                break;
            case SCHEMA_DOUBLE:
                assert_true(c->v.u.f64 == json_number_value(v));
                break;
            case SCHEMA_FLOAT:
                assert_true(c->v.u.f32 == (float)json_number_value(v));
                break;
            case SCHEMA_STRING: {
                /* the generator's long strings are ASCII without NUL: Pinot cuts them at
                 * maxLength (512 unless given) */
                size_t want = json_string_length(v);
                uint32_t max = fd->max_length ? fd->max_length : SCHEMA_DEFAULT_MAX_LENGTH;
                if (want > max) want = max;
                assert_int_equal(c->v.u.bytes.len, want);
                assert_memory_equal(c->v.u.bytes.ptr, json_string_value(v), c->v.u.bytes.len);
                break;
            }
            case SCHEMA_BYTES:
                assert_int_equal(c->v.u.bytes.len * 2, json_string_length(v));
                break;
            default:
                break;
            }
        }
        json_decref(o);
    }
    jsonw_free(&w);
    rowdec_free(d);
    rowgen_free(g);
    schema_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_types_and_extremes),
        cmocka_unit_test(test_time_formats),
        cmocka_unit_test(test_decoder_accepts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
