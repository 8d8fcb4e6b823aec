/* JSON writer: structure and commas, escaping, exact shortest numbers. */
#include "common/jsonw.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
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
    } d[] = {{100.0, "100"}, {0.1, "0.1"}, {-0.0, "-0"}, {1e300, "1e+300"}, {5e-324, "5e-324"},
             {1234.5, "1234.5"}, {0.000125, "0.000125"}, {1e17, "1e+17"}, {2.5e-6, "2.5e-06"}};
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_structure_and_escaping),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
