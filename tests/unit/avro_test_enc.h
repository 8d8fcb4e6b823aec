/* Avro's binary encoding for the unit tests that write Avro bytes by hand. */
#ifndef SL_AVRO_TEST_ENC_H
#define SL_AVRO_TEST_ENC_H

#include <stddef.h>
#include <stdint.h>

/* v as Avro's zig-zag varint (a long) at p; returns its length (at most 10). */
static inline size_t avro_test_long(uint8_t *p, int64_t v)
{
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    size_t n = 0;
    while (z > 0x7f) {
        p[n++] = (uint8_t)(z | 0x80);
        z >>= 7;
    }
    p[n++] = (uint8_t)z;
    return n;
}

#endif
