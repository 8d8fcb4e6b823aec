/* The segment value order (docs/segment-format.md "Sort order") and its sorts: keys of every
 * fixed type ascend with the value (float specials and NaNs included) and unkey back to the
 * stored bits, seg_sort_keys reports whether a run ascends, the pair sort is stable, the u64
 * sort sorts, and the byte-string sort gives memcmp order with a proper prefix first on
 * inputs long enough to take the radix path. */
#include "segment/seg_sort.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static uint64_t bits_f64(double d)
{
    uint64_t b;
    memcpy(&b, &d, 8);
    return b;
}

static uint64_t bits_f32(float f)
{
    uint32_t b;
    memcpy(&b, &f, 4);
    return b;
}

static void test_keys_follow_the_value_order(void **s)
{
    (void)s;
    /* ascending in the format's order, NaNs last: +NaN by payload, then -NaN */
    const uint64_t nan_p = 0x7FF8000000000000ull, nan_p2 = 0x7FF8000000000001ull;
    const uint64_t nan_n = 0xFFF8000000000000ull;
    const uint64_t d[] = {bits_f64(-INFINITY),
                          bits_f64(-1e300),
                          bits_f64(-1.0),
                          bits_f64(-0.0),
                          bits_f64(0.0),
                          bits_f64(1e-300),
                          bits_f64(2.5),
                          bits_f64(INFINITY),
                          nan_p,
                          nan_p2,
                          nan_n};
    for (size_t i = 1; i < sizeof d / sizeof d[0]; i++)
        assert_true(seg_sort_key(SCHEMA_DOUBLE, d[i - 1]) < seg_sort_key(SCHEMA_DOUBLE, d[i]));
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++)
        assert_true(seg_sort_unkey(SCHEMA_DOUBLE, seg_sort_key(SCHEMA_DOUBLE, d[i])) == d[i]);
    const uint64_t f[] = {bits_f32(-INFINITY), bits_f32(-3.0f),  bits_f32(-0.0f),
                          bits_f32(0.0f),      bits_f32(1e-40f), bits_f32(7.0f),
                          bits_f32(INFINITY),  0x7FC00000u,      0xFFC00000u};
    for (size_t i = 1; i < sizeof f / sizeof f[0]; i++)
        assert_true(seg_sort_key(SCHEMA_FLOAT, f[i - 1]) < seg_sort_key(SCHEMA_FLOAT, f[i]));
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        assert_true(seg_sort_unkey(SCHEMA_FLOAT, seg_sort_key(SCHEMA_FLOAT, f[i])) == f[i]);
    /* integers: numeric order; unkey gives INT sign-extended, LONG as stored */
    const int32_t iv[] = {INT32_MIN, -1, 0, 1, INT32_MAX};
    for (size_t i = 0; i < 5; i++) {
        uint64_t k = seg_sort_key(SCHEMA_INT, (uint32_t)iv[i]);
        if (i) assert_true(seg_sort_key(SCHEMA_INT, (uint32_t)iv[i - 1]) < k);
        assert_true(seg_sort_unkey(SCHEMA_INT, k) == (uint64_t)(int64_t)iv[i]);
        assert_true(seg_sort_key(SCHEMA_BOOLEAN, (uint32_t)iv[i]) == k);
    }
    const int64_t lv[] = {INT64_MIN, -5, 0, 5, INT64_MAX};
    for (size_t i = 0; i < 5; i++) {
        uint64_t k = seg_sort_key(SCHEMA_LONG, (uint64_t)lv[i]);
        if (i) assert_true(seg_sort_key(SCHEMA_LONG, (uint64_t)lv[i - 1]) < k);
        assert_true(seg_sort_unkey(SCHEMA_TIMESTAMP, k) == (uint64_t)lv[i]);
    }
    assert_true(seg_sort_unkey(SCHEMA_STRING, 42) == 0);
}

static void test_bulk_keys(void **s)
{
    (void)s;
    const float up[] = {-2.0f, -0.0f, 0.0f, 3.0f};
    uint64_t out[4], prev = 0;
    assert_true(seg_sort_keys(SCHEMA_FLOAT, up, 4, out, &prev));
    assert_true(prev == out[3]);
    for (int i = 0; i < 4; i++) assert_true(out[i] == seg_sort_key(SCHEMA_FLOAT, bits_f32(up[i])));
    const float more[] = {1.0f}; /* below the previous chunk's last key */
    assert_false(seg_sort_keys(SCHEMA_FLOAT, more, 1, out, &prev));
    const int64_t lv[] = {3, 3, -1};
    prev = 0;
    assert_false(seg_sort_keys(SCHEMA_LONG, lv, 3, out, &prev));
    prev = 0;
    assert_true(seg_sort_keys(SCHEMA_LONG, lv, 2, out, &prev)); /* equal keys ascend */
}

static void test_pairs_and_u64(void **s)
{
    (void)s;
    enum { N = 5000 };
    seg_sort_pair *a = malloc(N * sizeof *a), *t = malloc(N * sizeof *t);
    uint64_t *k = malloc(N * sizeof *k), *kt = malloc(N * sizeof *kt);
    uint64_t x = 88172645463325252ull;
    for (uint32_t i = 0; i < N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        a[i].k = x % 97 * 0x0101010101010101ull; /* many equal keys: stability shows */
        a[i].v = i;
        k[i] = x;
    }
    seg_sort_pair *r = seg_sort_pairs(a, t, N);
    for (uint32_t i = 1; i < N; i++) {
        assert_true(r[i - 1].k <= r[i].k);
        if (r[i - 1].k == r[i].k) assert_true(r[i - 1].v < r[i].v);
    }
    uint64_t *rk = seg_sort_u64(k, kt, N);
    for (uint32_t i = 1; i < N; i++) assert_true(rk[i - 1] <= rk[i]);
    seg_sort_pair few[3] = {{5, 0, 0}, {1, 1, 0}, {5, 2, 0}}; /* the insertion-sort path */
    r = seg_sort_pairs(few, t, 3);
    assert_true(r[0].v == 1 && r[1].v == 0 && r[2].v == 2);
    free(a);
    free(t);
    free(k);
    free(kt);
}

static void test_strings(void **s)
{
    (void)s;
    assert_true(seg_sort_bytes_cmp((const uint8_t *)"a", 1, (const uint8_t *)"a\0", 2) < 0);
    assert_true(seg_sort_bytes_cmp((const uint8_t *)"ab", 2, (const uint8_t *)"b", 1) < 0);
    assert_true(seg_sort_bytes_cmp(NULL, 0, (const uint8_t *)"", 0) == 0);
    assert_true(seg_sort_bytes_cmp((const uint8_t *)"\xff", 1, (const uint8_t *)"\x01", 1) > 0);
    /* long shared prefixes, proper prefixes and high bytes, enough for the radix path */
    enum { N = 600 };
    static char text[N][40];
    seg_sort_str a[N], tmp[N];
    seg_sort_pair s1[N], s2[N];
    for (uint32_t i = 0; i < N; i++) {
        int len =
            snprintf(text[i], sizeof text[i], "common-prefix-0123456789-%u", (i * 7919u) % 211);
        if (i % 5 == 0) len = 14 + (int)(i % 11); /* a prefix of the others */
        if (i % 7 == 0) text[i][len - 1] = (char)0xE9;
        a[i] = (seg_sort_str){(const uint8_t *)text[i], (uint32_t)len, i};
    }
    seg_sort_strs(a, N, s1, s2, tmp);
    for (uint32_t i = 1; i < N; i++)
        assert_true(seg_sort_bytes_cmp(a[i - 1].p, a[i - 1].len, a[i].p, a[i].len) <= 0);
    bool seen[N] = {false}; /* a permutation of the input */
    for (uint32_t i = 0; i < N; i++) {
        assert_false(seen[a[i].id]);
        seen[a[i].id] = true;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_follow_the_value_order),
        cmocka_unit_test(test_bulk_keys),
        cmocka_unit_test(test_pairs_and_u64),
        cmocka_unit_test(test_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
