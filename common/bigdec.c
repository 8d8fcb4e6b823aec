/* Exact decimals, Pinot's BIG_DECIMAL (see bigdec.h). */
#include "common/bigdec.h"

#include <stdio.h>
#include <string.h>

int bigdec_parse(const char *s, size_t n, char *buf, size_t cap, bigdec *out)
{
    const char *p = s, *e = s + n;
    bool neg = false;
    if (p < e && (*p == '+' || *p == '-')) neg = *p++ == '-';
    size_t nd = 0, seen = 0;
    int64_t frac = 0;
    bool in_frac = false;
    for (; p < e && *p != 'e' && *p != 'E'; p++) {
        if (*p == '.' && !in_frac) {
            in_frac = true;
            continue;
        }
        if (*p < '0' || *p > '9') return -1;
        seen++;
        frac += in_frac;
        if (nd == 0 && *p == '0') continue; /* a leading zero */
        if (nd + 1 >= cap || nd >= BIGDEC_MAX_DIGITS) return -1;
        buf[nd++] = *p;
    }
    if (seen == 0) return -1;
    int64_t exp = 0;
    if (p < e) { /* the exponent */
        p++;
        bool eneg = p < e && *p == '-';
        if (p < e && (*p == '+' || *p == '-')) p++;
        if (p == e) return -1;
        for (; p < e; p++) {
            if (*p < '0' || *p > '9') return -1;
            exp = exp * 10 + (*p - '0');
            if (exp > INT32_MAX) return -1;
        }
        if (eneg) exp = -exp;
    }
    int64_t scale = frac - exp;
    if (scale > INT32_MAX || scale < INT32_MIN) return -1;
    if (nd == 0) buf[nd++] = '0';
    *out = (bigdec){.neg = neg && !(nd == 1 && buf[0] == '0'),
                    .ndigits = (uint32_t)nd,
                    .digits = buf,
                    .scale = (int32_t)scale};
    return 0;
}

void bigdec_strip(bigdec *d)
{
    if (d->ndigits == 1 && d->digits[0] == '0') {
        d->scale = 0; /* BigDecimal.ZERO */
        return;
    }
    while (d->ndigits > 1 && d->digits[d->ndigits - 1] == '0' && d->scale > INT32_MIN) {
        d->ndigits--;
        d->scale--;
    }
}

size_t bigdec_to_string(const bigdec *d, char *buf, size_t cap)
{
    int64_t nd = d->ndigits, scale = d->scale, adjusted = -scale + (nd - 1);
    /* plain only while adjusted >= -6, so at most 6 zeros come before the digits */
    if (cap < BIGDEC_TEXT_EXTRA + (size_t)nd) return 0;
    size_t k = 0;
    if (d->neg) buf[k++] = '-';
    if (scale == 0) {
        memcpy(buf + k, d->digits, (size_t)nd);
        k += (size_t)nd;
    } else if (scale > 0 && adjusted >= -6) { /* plain */
        if (nd > scale) {
            memcpy(buf + k, d->digits, (size_t)(nd - scale));
            k += (size_t)(nd - scale);
            buf[k++] = '.';
            memcpy(buf + k, d->digits + nd - scale, (size_t)scale);
            k += (size_t)scale;
        } else {
            buf[k++] = '0';
            buf[k++] = '.';
            memset(buf + k, '0', (size_t)(scale - nd));
            k += (size_t)(scale - nd);
            memcpy(buf + k, d->digits, (size_t)nd);
            k += (size_t)nd;
        }
    } else { /* scientific: d.dddE+n */
        buf[k++] = d->digits[0];
        if (nd > 1) {
            buf[k++] = '.';
            memcpy(buf + k, d->digits + 1, (size_t)(nd - 1));
            k += (size_t)(nd - 1);
        }
        k += (size_t)snprintf(buf + k, cap - k, "E%s%lld", adjusted >= 0 ? "+" : "",
                              (long long)adjusted);
    }
    buf[k] = '\0';
    return k;
}

size_t bigdec_serialize(const bigdec *d, uint8_t *out, size_t cap)
{
    if (d->scale > INT16_MAX || d->scale < INT16_MIN) return 0;
    /* the magnitude, little-endian, by repeated division of the decimal digits by 256 */
    uint8_t num[BIGDEC_MAX_DIGITS], mag[BIGDEC_MAX_DIGITS / 2 + 2];
    size_t nn = d->ndigits, m = 0;
    for (size_t i = 0; i < nn; i++)
        num[i] = (uint8_t)(d->digits[i] - '0');
    size_t start = 0;
    while (start < nn && num[start] == 0)
        start++;
    while (start < nn) {
        unsigned rem = 0;
        for (size_t i = start; i < nn; i++) {
            unsigned cur = rem * 10 + num[i];
            num[i] = (uint8_t)(cur / 256);
            rem = cur % 256;
        }
        mag[m++] = (uint8_t)rem;
        while (start < nn && num[start] == 0)
            start++;
    }
    if (m == 0) mag[m++] = 0;
    mag[m++] = 0; /* room for the sign */
    if (d->neg) { /* two's complement: invert, add one */
        unsigned carry = 1;
        for (size_t i = 0; i < m; i++) {
            unsigned v = (uint8_t)~mag[i] + carry;
            mag[i] = (uint8_t)v;
            carry = v >> 8;
        }
    }
    /* minimal: drop a leading 0x00 (0xFF) whose next byte's top bit is clear (set) */
    while (m > 1 && ((mag[m - 1] == 0x00 && !(mag[m - 2] & 0x80)) ||
                     (mag[m - 1] == 0xFF && (mag[m - 2] & 0x80))))
        m--;
    if (cap < m + 2) return 0;
    out[0] = (uint8_t)((uint16_t)d->scale >> 8);
    out[1] = (uint8_t)d->scale;
    for (size_t i = 0; i < m; i++)
        out[2 + i] = mag[m - 1 - i];
    return m + 2;
}

int bigdec_deserialize(const uint8_t *p, size_t n, char *buf, size_t cap, bigdec *out)
{
    if (n < 3 || n - 2 > BIGDEC_MAX_DIGITS / 2) return -1;
    int16_t scale = (int16_t)((uint16_t)p[0] << 8 | p[1]);
    uint8_t mag[BIGDEC_MAX_DIGITS / 2];
    size_t m = n - 2;
    bool neg = p[2] & 0x80;
    memcpy(mag, p + 2, m);
    if (neg) { /* the magnitude of a two's complement number: invert, add one (big-endian) */
        unsigned carry = 1;
        for (size_t i = m; i-- > 0;) {
            unsigned v = (uint8_t)~mag[i] + carry;
            mag[i] = (uint8_t)v;
            carry = v >> 8;
        }
    }
    /* decimal digits, little-endian, by repeated multiplication by 256 */
    size_t nd = 0;
    for (size_t i = 0; i < m; i++) {
        unsigned carry = mag[i];
        for (size_t k = 0; k < nd; k++) {
            unsigned v = (unsigned)(buf[k]) * 256 + carry;
            buf[k] = (char)(v % 10);
            carry = v / 10;
        }
        while (carry) {
            if (nd >= cap) return -1;
            buf[nd++] = (char)(carry % 10);
            carry /= 10;
        }
    }
    if (nd == 0) {
        if (cap < 1) return -1;
        buf[nd++] = 0;
    }
    for (size_t k = 0; k < nd / 2; k++) { /* most significant first, as text */
        char t = buf[k];
        buf[k] = buf[nd - 1 - k];
        buf[nd - 1 - k] = t;
    }
    for (size_t k = 0; k < nd; k++)
        buf[k] = (char)(buf[k] + '0');
    *out = (bigdec){.neg = neg, .ndigits = (uint32_t)nd, .digits = buf, .scale = scale};
    return 0;
}
