/* CRC-32C: published vectors (RFC 3720 appendix B.4, the "123456789" check value), chaining,
 * and agreement of the SSE4.2 and table implementations on every length/alignment mix. */
#include "segment/crc32c.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

typedef uint32_t (*crc_fn)(uint32_t, const void *, size_t);

static void check_vectors(crc_fn f)
{
    uint8_t buf[32];
    assert_int_equal(f(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(f(0, "", 0), 0u);
    assert_int_equal(f(0, "a", 1), 0xC1D04330u);
    memset(buf, 0, sizeof buf);
    assert_int_equal(f(0, buf, 32), 0x8A9136AAu);
    memset(buf, 0xFF, sizeof buf);
    assert_int_equal(f(0, buf, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++) buf[i] = (uint8_t)i;
    assert_int_equal(f(0, buf, 32), 0x46DD794Eu);
    for (int i = 0; i < 32; i++) buf[i] = (uint8_t)(31 - i);
    assert_int_equal(f(0, buf, 32), 0x113FDB5Cu);
    /* iSCSI SCSI Read (10) command PDU from RFC 3720 B.4 */
    static const uint8_t pdu[48] = {0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00,
                                    0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00,
                                    0x00, 0x18, 0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                    0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    assert_int_equal(f(0, pdu, sizeof pdu), 0xD9963A56u);
}

static void test_vectors_sw(void **state)
{
    (void)state;
    check_vectors(crc32c_sw);
}

static void test_vectors_hw(void **state)
{
    (void)state;
    if (!crc32c_hw_available()) skip();
    check_vectors(crc32c_hw);
}

static void test_vectors_dispatch(void **state)
{
    (void)state;
    check_vectors(crc32c_update);
}

/* Splitting the input anywhere and chaining gives the one-shot value. */
static void test_chaining(void **state)
{
    (void)state;
    uint8_t buf[200];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)(i * 131 + 7);
    uint32_t whole = crc32c_update(0, buf, sizeof buf);
    for (size_t cut = 0; cut <= sizeof buf; cut++) {
        assert_int_equal(crc32c_update(crc32c_update(0, buf, cut), buf + cut, sizeof buf - cut), whole);
        assert_int_equal(crc32c_sw(crc32c_sw(0, buf, cut), buf + cut, sizeof buf - cut), whole);
    }
    /* changing any one byte changes the value */
    for (size_t i = 0; i < sizeof buf; i++) {
        buf[i] ^= 0x10;
        assert_int_not_equal(crc32c_update(0, buf, sizeof buf), whole);
        buf[i] ^= 0x10;
    }
}

/* Hardware and table paths agree on all lengths 0..300 at all 8 alignments, and on 1 MiB. */
static void test_sw_hw_agree(void **state)
{
    (void)state;
    if (!crc32c_hw_available()) skip();
    size_t big = 1 << 20;
    uint8_t *buf = malloc(big + 8);
    assert_non_null(buf);
    uint64_t s = 42;
    for (size_t i = 0; i < big + 8; i++) {
        s = s * 6364136223846793005ull + 1;
        buf[i] = (uint8_t)(s >> 56);
    }
    for (size_t a = 0; a < 8; a++)
        for (size_t n = 0; n <= 300; n++)
            assert_int_equal(crc32c_hw(0x12345678u, buf + a, n), crc32c_sw(0x12345678u, buf + a, n));
    assert_int_equal(crc32c_hw(0, buf + 3, big), crc32c_sw(0, buf + 3, big));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors_sw),  cmocka_unit_test(test_vectors_hw),
        cmocka_unit_test(test_vectors_dispatch), cmocka_unit_test(test_chaining),
        cmocka_unit_test(test_sw_hw_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
