/* Exact decimals as Pinot's BIG_DECIMAL holds them (java.math.BigDecimal): a sign, the decimal
 * digits of the unscaled value and a scale, the value being unscaled x 10^-scale.
 *
 * Pinot stores a BIG_DECIMAL value as BigDecimalUtils.serialize writes it: the scale as a
 * big-endian 16-bit two's complement number, then the unscaled value's minimal big-endian
 * two's complement bytes (BigInteger.toByteArray). Text is Java's: BigDecimal(String) reads
 * it, toString() writes it (plain, or scientific when the scale is negative or the number
 * small). A bigdec owns no memory; its digits live in a caller's buffer. */
#ifndef SL_BIGDEC_H
#define SL_BIGDEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Most digits a value may have (Pinot has no bound; a JSON message or a segment does). */
#define BIGDEC_MAX_DIGITS 4096

typedef struct bigdec {
    bool neg;           /* never set for zero */
    uint32_t ndigits;   /* >= 1; digits[0] != '0' unless the value is 0 */
    const char *digits; /* ASCII '0'..'9', not NUL-terminated; borrowed */
    int32_t scale;      /* within int16 for a value that serializes */
} bigdec;

/* Read Java's BigDecimal text s[0..n) ([+-]digits[.digits][(e|E)[+-]digits], or .digits), the
 * digits copied into buf (cap >= n + 1). 0, or -1 for anything else (Infinity and NaN too) or
 * a value past BIGDEC_MAX_DIGITS or an int32 scale. */
int bigdec_parse(const char *s, size_t n, char *buf, size_t cap, bigdec *out);

/* Remove the unscaled value's trailing zeros (BigDecimal.stripTrailingZeros): 1.50 is 1.5,
 * 100 is 1E+2, 0.00 is 0. */
void bigdec_strip(bigdec *d);

/* Java's BigDecimal.toString of d into buf (cap >= ndigits + BIGDEC_TEXT_EXTRA,
 * NUL-terminated); returns the length, or 0 when cap is too small. */
#define BIGDEC_TEXT_EXTRA 24u
size_t bigdec_to_string(const bigdec *d, char *buf, size_t cap);

/* Pinot's serialized bytes of d into out (cap >= ndigits / 2 + 4); returns their count, or 0
 * when the scale does not fit 16 bits or cap is too small. */
size_t bigdec_serialize(const bigdec *d, uint8_t *out, size_t cap);

/* The value of Pinot's serialized bytes p[0..n), its digits written into buf (cap bytes:
 * 3 * n is enough). 0, or -1 when n < 3 or cap is too small. */
int bigdec_deserialize(const uint8_t *p, size_t n, char *buf, size_t cap, bigdec *out);

#endif
