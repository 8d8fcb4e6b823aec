/* Base64 (see base64.h). */
#include "common/base64.h"
#include "common/sl_err.h"

#include <stdbool.h>

static const char sl_base64__tab[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t sl_base64_encoded_len(size_t n)
{
    return 4 * ((n + 2) / 3);
}

size_t sl_base64_encode(const uint8_t *in, size_t len, char *out)
{
    const char *tab = sl_base64__tab;
    size_t o = 0, i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = tab[v >> 18];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = tab[(v >> 6) & 63];
        out[o++] = tab[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0);
        out[o++] = tab[v >> 18];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
    return o;
}

size_t sl_base64_decoded_max(size_t len)
{
    return 3 * (len / 4);
}

/* The 6-bit value of c, or -1. */
static int sl_base64__val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

int sl_base64_decode(const char *in, size_t len, uint8_t *out, size_t *outlen)
{
    *outlen = 0;
    if (len % 4) return SL_EINVAL;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 4) {
        bool last = i + 4 == len;
        /* '=' only in the last group: "xx==" or "xxx=" */
        size_t pad = last && in[i + 3] == '=' ? (in[i + 2] == '=' ? 2 : 1) : 0;
        uint32_t v = 0;
        for (size_t k = 0; k < 4; k++) {
            int d = k < 4 - pad ? sl_base64__val((unsigned char)in[i + k]) : 0;
            if (d < 0) return SL_EINVAL;
            v = v << 6 | (uint32_t)d;
        }
        out[o++] = (uint8_t)(v >> 16);
        if (pad < 2) out[o++] = (uint8_t)(v >> 8);
        if (pad < 1) out[o++] = (uint8_t)v;
        /* the bits the padding drops must be zero (one text per byte string) */
        if ((pad == 2 && (v & 0xFFFF)) || (pad == 1 && (v & 0xFF))) return SL_EINVAL;
    }
    *outlen = o;
    return 0;
}
