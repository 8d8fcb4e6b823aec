/* Exact decimals (common/bigdec.h) against values worked out from java.math.BigDecimal:
 * BigDecimal(String), toString(), stripTrailingZeros() and Pinot's BigDecimalUtils.serialize
 * (16-bit scale, then BigInteger.toByteArray()), and the BIG_DECIMAL column in the decoder. */
#include "common/bigdec.h"
#include "common/schema.h"
#include "consumer/rowdec.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static bigdec parse_ok(const char *s, char *buf, size_t cap)
{
    bigdec d;
    if (bigdec_parse(s, strlen(s), buf, cap, &d)) fail_msg("refused: %s", s);
    return d;
}

static void test_text(void **state)
{
    (void)state;
    static const char *const cases[][3] = {
        /* input, toString(), stripTrailingZeros().toString() */
        {"1.50", "1.50", "1.5"},
        {"-1.50", "-1.50", "-1.5"},
        {"+7", "7", "7"},
        {"0", "0", "0"},
        {"0.00", "0.00", "0"},
        {"-0.0", "0.0", "0"},
        {"100", "100", "1E+2"},
        {"1e2", "1E+2", "1E+2"},
        {"1.0E20", "1.0E+20", "1E+20"},
        {"0.000001", "0.000001", "0.000001"},
        {"0.0000001", "1E-7", "1E-7"},
        {"0.00000012", "1.2E-7", "1.2E-7"},
        {"123.456e-2", "1.23456", "1.23456"},
        {"-1.5e3", "-1.5E+3", "-1.5E+3"},
        {".5", "0.5", "0.5"},
        {"5.", "5", "5"},
        {"007.50", "7.50", "7.5"},
        {"12345678901234567890.123456789", "12345678901234567890.123456789",
         "12345678901234567890.123456789"},
        {"0E+3", "0E+3", "0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[128], out[160];
        bigdec d = parse_ok(cases[i][0], buf, sizeof buf);
        bigdec_to_string(&d, out, sizeof out);
        if (strcmp(out, cases[i][1]))
            fail_msg("%s: toString %s, want %s", cases[i][0], out, cases[i][1]);
        bigdec_strip(&d);
        bigdec_to_string(&d, out, sizeof out);
        if (strcmp(out, cases[i][2]))
            fail_msg("%s: stripped %s, want %s", cases[i][0], out, cases[i][2]);
    }
    static const char *const bad[] = {"",     "-",     ".",        "1e",  "1e+",
                                      "abc",  "1.2.3", "Infinity", "NaN", "1e2147483648",
                                      "0x10", "1 2",   "--1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char buf[64];
        bigdec d;
        if (!bigdec_parse(bad[i], strlen(bad[i]), buf, sizeof buf, &d))
            fail_msg("accepted: %s", bad[i]);
    }
    /* toString needs its room; a tiny number is scientific, so it never needs its scale */
    char buf[64], out[64];
    bigdec d = parse_ok("1e-2000000000", buf, sizeof buf);
    assert_int_equal(bigdec_to_string(&d, out, sizeof out), strlen("1E-2000000000"));
    assert_string_equal(out, "1E-2000000000");
    assert_int_equal(bigdec_to_string(&d, out, 4), 0);
}

static void test_serialize(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *hex; /* BigDecimalUtils.serialize */
    } cases[] = {
        {"0", "000000"},         {"1", "000001"},
        {"-1", "0000ff"},        {"127", "00007f"},
        {"128", "00000080"},     {"-128", "000080"},
        {"-129", "0000ff7f"},    {"255", "000000ff"},
        {"256", "00000100"},     {"1.5", "00010f"},
        {"-1.50", "0002ff6a"},   {"1E+2", "fffe01"},
        {"65535", "000000ffff"}, {"-65536", "0000ff0000"},
        {"1.0E+20", "ffed0a"},   {"18446744073709551615", "000000ffffffffffffffff"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[64], hex[128] = "", back[64], txt[96];
        uint8_t b[64];
        bigdec d = parse_ok(cases[i].text, buf, sizeof buf);
        size_t n = bigdec_serialize(&d, b, sizeof b);
        for (size_t k = 0; k < n; k++)
            snprintf(hex + 2 * k, 3, "%02x", b[k]);
        if (strcmp(hex, cases[i].hex))
            fail_msg("%s: %s, want %s", cases[i].text, hex, cases[i].hex);
        bigdec e;
        assert_int_equal(bigdec_deserialize(b, n, back, sizeof back, &e), 0);
        bigdec_to_string(&e, txt, sizeof txt);
        assert_string_equal(txt, cases[i].text); /* the round trip keeps the scale */
    }
    /* a scale past 16 bits does not serialize; short bytes do not deserialize */
    char buf[64];
    uint8_t b[64];
    bigdec d = parse_ok("1e-40000", buf, sizeof buf);
    assert_int_equal(bigdec_serialize(&d, b, sizeof b), 0);
    d = parse_ok("123456", buf, sizeof buf);
    assert_int_equal(bigdec_serialize(&d, b, 3), 0);
    assert_int_equal(bigdec_deserialize(b, 2, buf, sizeof buf, &d), -1);
    /* a long value: 300 nines round-trip */
    char nines[301], dig[400], back[400], txt[420];
    memset(nines, '9', 300);
    nines[300] = '\0';
    uint8_t big[200];
    d = parse_ok(nines, dig, sizeof dig);
    size_t n = bigdec_serialize(&d, big, sizeof big);
    assert_true(n > 100 && n < 140);
    bigdec e;
    assert_int_equal(bigdec_deserialize(big, n, back, sizeof back, &e), 0);
    bigdec_to_string(&e, txt, sizeof txt);
    assert_string_equal(txt, nines);
}

/* The decoder's BIG_DECIMAL column: an integer exactly, a decimal through its double, a
 * string exactly; the default 0; a bad string rejected; a defaultNullValue in the schema. */
static void test_column(void **state)
{
    (void)state;
    static const char sj[] =
        "{\"schemaName\":\"b\",\"metricFieldSpecs\":[{\"name\":\"v\",\"dataType\":\"BIG_DECIMAL\"},"
        "{\"name\":\"w\",\"dataType\":\"BIG_DECIMAL\",\"defaultNullValue\":\"-1.50\"}]}";
    char err[512];
    schema *s = schema_parse(sj, strlen(sj), "s", err, sizeof err);
    if (!s) fail_msg("%s", err);
    assert_true(s->fields[0].big_decimal);
    assert_int_equal(s->fields[0].type, SCHEMA_BYTES);
    char txt[128];
    assert_true(schema_big_decimal_text(&s->fields[0].default_null, txt, sizeof txt));
    assert_string_equal(txt, "0");
    assert_true(schema_big_decimal_text(&s->fields[1].default_null, txt, sizeof txt));
    assert_string_equal(txt, "-1.50");
    size_t len;
    char *canon = schema_to_json(s, &len);
    assert_non_null(strstr(
        canon, "{\"name\":\"w\",\"dataType\":\"BIG_DECIMAL\",\"defaultNullValue\":\"-1.50\"}"));
    free(canon);
    rowdec *d = rowdec_new(s, 0);
    static const char *const cases[][2] = {
        {"{\"v\":12}", "12"},
        {"{\"v\":0.1}", "0.1"},      /* Double.toString(0.1) */
        {"{\"v\":1e20}", "1.0E+20"}, /* BigDecimal("1.0E20") */
        {"{\"v\":\"0.10000000000000000555\"}", "0.10000000000000000555"},
        {"{\"v\":\" 7.00 \"}", "7.00"},
        {"{\"v\":99999999999999999999999}", "99999999999999999999999"},
        {"{\"v\":false}", "0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const row *r;
        assert_int_equal(rowdec_decode(d, (const uint8_t *)cases[i][0], strlen(cases[i][0]), &r),
                         ROWDEC_OK);
        assert_true(schema_big_decimal_text(&r->cols[0].v, txt, sizeof txt));
        if (strcmp(txt, cases[i][1])) fail_msg("%s: %s, want %s", cases[i][0], txt, cases[i][1]);
    }
    const row *r;
    const char *m = "{}";
    assert_int_equal(rowdec_decode(d, (const uint8_t *)m, strlen(m), &r), ROWDEC_OK);
    assert_true(r->cols[1].is_null);
    assert_true(schema_big_decimal_text(&r->cols[1].v, txt, sizeof txt));
    assert_string_equal(txt, "-1.50");
    m = "{\"v\":\"ten\"}";
    assert_int_equal(rowdec_decode(d, (const uint8_t *)m, strlen(m), &r), ROWDEC_WRONG_TYPE);
    m = "{\"v\":{\"a\":1}}";
    assert_int_equal(rowdec_decode(d, (const uint8_t *)m, strlen(m), &r), ROWDEC_WRONG_TYPE);
    m = "{\"v\":\"1e-40000\"}";
    assert_int_equal(rowdec_decode(d, (const uint8_t *)m, strlen(m), &r), ROWDEC_OVERFLOW);
    m = "{\"v\":1e400}";
    assert_int_equal(rowdec_decode(d, (const uint8_t *)m, strlen(m), &r), ROWDEC_OVERFLOW);
    rowdec_free(d);
    schema_free(s);
    /* the schema's mistakes */
    static const char *const bad[][2] = {
        {"{\"schemaName\":\"b\",\"dimensionFieldSpecs\":[{\"name\":\"v\",\"dataType\":\"BIG_"
         "DECIMAL\","
         "\"singleValueField\":false}]}",
         "BIG_DECIMAL field \"v\" must be single-value"},
        {"{\"schemaName\":\"b\",\"dimensionFieldSpecs\":[{\"name\":\"v\",\"dataType\":\"BIG_"
         "DECIMAL\","
         "\"defaultNullValue\":\"x\"}]}",
         "defaultNullValue is not a valid BIG_DECIMAL"},
        {"{\"schemaName\":\"b\",\"dateTimeFieldSpecs\":[{\"name\":\"v\",\"dataType\":\"BIG_"
         "DECIMAL\","
         "\"format\":\"EPOCH\",\"granularity\":\"1:SECONDS\"}]}",
         "not BIG_DECIMAL"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        schema *x = schema_parse(bad[i][0], strlen(bad[i][0]), "s", err, sizeof err);
        if (x) fail_msg("accepted: %s", bad[i][0]);
        if (!strstr(err, bad[i][1])) fail_msg("\"%s\" lacks \"%s\"", err, bad[i][1]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_serialize),
        cmocka_unit_test(test_column),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
