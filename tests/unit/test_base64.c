/* Base64: the RFC 4648 vectors, a round trip of every length 0..10 (and of all 256 byte
 * values), the encoded and decoded sizes, and every kind of invalid text the strict decoder
 * refuses: bad length, foreign characters, misplaced padding, non-zero padding bits. */
#include "common/base64.h"
#include "common/sl_err.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

static void test_rfc4648_vectors(void **s)
{
    (void)s;
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const coded[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                        "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        char out[16];
        size_t n = sl_base64_encode((const uint8_t *)plain[i], strlen(plain[i]), out);
        assert_int_equal(n, strlen(coded[i]));
        assert_int_equal(n, sl_base64_encoded_len(strlen(plain[i])));
        assert_string_equal(out, coded[i]);
        uint8_t back[16];
        size_t m = 99;
        assert_int_equal(sl_base64_decode(coded[i], n, back, &m), 0);
        assert_int_equal(m, strlen(plain[i]));
        assert_memory_equal(back, plain[i], m);
    }
}

static void test_round_trip_lengths(void **s)
{
    (void)s;
    uint8_t in[11];
    for (size_t len = 0; len <= 10; len++) {
        for (size_t i = 0; i < len; i++)
            in[i] = (uint8_t)(0xA5 ^ (i * 37 + len * 11)); /* all bits */
        char text[32];
        memset(text, '#', sizeof text);
        size_t n = sl_base64_encode(in, len, text);
        assert_int_equal(n, 4 * ((len + 2) / 3));
        assert_int_equal(text[n], '\0');
        assert_true(sl_base64_decoded_max(n) >= len);
        uint8_t out[16];
        size_t m = 99;
        assert_int_equal(sl_base64_decode(text, n, out, &m), 0);
        assert_int_equal(m, len);
        if (len) assert_memory_equal(out, in, len);
    }
    uint8_t all[256], back[258];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    char text[400];
    size_t n = sl_base64_encode(all, sizeof all, text);
    assert_int_equal(n, 344);
    size_t m = 0;
    assert_int_equal(sl_base64_decode(text, n, back, &m), 0);
    assert_int_equal(m, 256);
    assert_memory_equal(back, all, 256);
}

static void test_invalid(void **s)
{
    (void)s;
    static const struct {
        const char *text;
        size_t len; /* 0: strlen(text) */
    } bad[] = {
        {"Z", 0},        {"Zg", 0},       {"Zg=", 0},   {"Zm9vY", 0}, /* not a multiple of 4 */
        {"Zm9v!A==", 0}, {"Zm 9", 0},     {"Zm9\n", 0}, {"Zm\0v", 4}, /* foreign characters */
        {"====", 0},     {"Z===", 0},     {"=Zg=", 0},  {"Zg=a", 0},  /* misplaced padding */
        {"Zg==Zg==", 0}, {"Zm8=Zm9v", 0},                             /* padding before the end */
        {"Zh==", 0},     {"Zm9=", 0},                                 /* padding bits not zero */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t out[16];
        size_t m = 99;
        size_t len = bad[i].len ? bad[i].len : strlen(bad[i].text);
        assert_int_equal(sl_base64_decode(bad[i].text, len, out, &m), SL_EINVAL);
        assert_int_equal(m, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_vectors),
        cmocka_unit_test(test_round_trip_lengths),
        cmocka_unit_test(test_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
