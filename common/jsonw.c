/* JSON writer (see jsonw.h). */
#include "common/jsonw.h"

#include "common/base64.h"
#include "common/bigdec.h"
#include "common/xalloc.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void jsonw__reserve(jsonw *w, size_t more)
{
    if (w->len + more + 1 <= w->cap) return;
    size_t cap = w->cap ? w->cap : 256;
    while (cap < w->len + more + 1)
        cap *= 2;
    w->buf = sl_xrealloc(w->buf, cap);
    w->cap = cap;
}

void jsonw_text(jsonw *w, const char *s, size_t len)
{
    jsonw__reserve(w, len);
    memcpy(w->buf + w->len, s, len);
    w->len += len;
    w->buf[w->len] = '\0';
}

/* Comma before a value or key unless it is the first in its container or follows a key. */
static void jsonw__sep(jsonw *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->depth > 0) {
        if (!w->first[w->depth - 1]) jsonw_text(w, ",", 1);
        w->first[w->depth - 1] = false;
    }
}

void jsonw_init(jsonw *w)
{
    memset(w, 0, sizeof *w);
}

void jsonw_free(jsonw *w)
{
    free(w->buf);
    memset(w, 0, sizeof *w);
}

void jsonw_reset(jsonw *w)
{
    w->len = 0;
    if (w->buf) w->buf[0] = '\0';
    w->depth = 0;
    w->after_key = false;
}

static void jsonw__open(jsonw *w, char c)
{
    jsonw__sep(w);
    jsonw_text(w, &c, 1);
    if (w->depth < JSONW_MAX_DEPTH) w->first[w->depth] = true;
    w->depth++;
}

static void jsonw__close(jsonw *w, char c)
{
    w->depth--;
    jsonw_text(w, &c, 1);
}

void jsonw_obj_begin(jsonw *w)
{
    jsonw__open(w, '{');
}
void jsonw_obj_end(jsonw *w)
{
    jsonw__close(w, '}');
}
void jsonw_arr_begin(jsonw *w)
{
    jsonw__open(w, '[');
}
void jsonw_arr_end(jsonw *w)
{
    jsonw__close(w, ']');
}

static void jsonw__escaped(jsonw *w, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    jsonw__reserve(w, len + 2);
    w->buf[w->len++] = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            jsonw__reserve(w, 2);
            w->buf[w->len++] = (char)c;
            continue;
        }
        char esc[7] = {'\\', 0};
        size_t n = 2;
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
        }
        jsonw_text(w, esc, n);
    }
    jsonw_text(w, "\"", 1);
}

void jsonw_text_hex(jsonw *w, const uint8_t *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    jsonw__reserve(w, 2 * n);
    for (size_t i = 0; i < n; i++) {
        w->buf[w->len++] = hex[p[i] >> 4];
        w->buf[w->len++] = hex[p[i] & 15];
    }
    w->buf[w->len] = '\0';
}

void jsonw_hex(jsonw *w, const uint8_t *p, size_t n)
{
    jsonw__sep(w);
    jsonw_text(w, "\"", 1);
    jsonw_text_hex(w, p, n);
    jsonw_text(w, "\"", 1);
}

void jsonw_base64(jsonw *w, const uint8_t *p, size_t n)
{
    jsonw__sep(w);
    size_t m = sl_base64_encoded_len(n);
    jsonw__reserve(w, m + 2);
    w->buf[w->len++] = '"';
    w->len += sl_base64_encode(p, n, w->buf + w->len); /* writes a NUL after, inside the room */
    jsonw_text(w, "\"", 1);
}

void jsonw_key(jsonw *w, const char *key)
{
    jsonw__sep(w);
    jsonw__escaped(w, key, strlen(key));
    jsonw_text(w, ":", 1);
    w->after_key = true;
}

void jsonw_str(jsonw *w, const char *s, size_t len)
{
    jsonw__sep(w);
    jsonw__escaped(w, s, len);
}

void jsonw_cstr(jsonw *w, const char *s)
{
    jsonw_str(w, s, strlen(s));
}

size_t jsonw_fmt_u64(char *buf, uint64_t v)
{
    char t[20];
    size_t n = 0;
    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        buf[i] = t[n - 1 - i];
    buf[n] = '\0';
    return n;
}

size_t jsonw_fmt_i64(char *buf, int64_t v)
{
    if (v >= 0) return jsonw_fmt_u64(buf, (uint64_t)v);
    buf[0] = '-';
    return 1 + jsonw_fmt_u64(buf + 1, -(uint64_t)v); /* INT64_MIN too: unsigned negation */
}

void jsonw_i64(jsonw *w, int64_t v)
{
    char b[24];
    jsonw__sep(w);
    jsonw_text(w, b, jsonw_fmt_i64(b, v));
}

void jsonw_u64(jsonw *w, uint64_t v)
{
    char b[24];
    jsonw__sep(w);
    jsonw_text(w, b, jsonw_fmt_u64(b, v));
}

static size_t jsonw__nonfinite(char *buf, double v)
{
    const char *s = isnan(v) ? "NaN" : v < 0 ? "-Infinity" : "Infinity";
    strcpy(buf, s);
    return strlen(s);
}

/* The shortest %g text with `prec` digits uses an exponent from 1e`prec` on ("1e+02" for
 * 100); between 1e-5 and 1e17 the same digits without an exponent read better ("100"). */
static size_t jsonw__plain(char *buf, double v, int prec, int n, bool is_float)
{
    double a = fabs(v);
    if (!strchr(buf, 'e') || a < 1e-5 || a >= 1e17) return (size_t)n;
    int exp10 = (int)floor(log10(a));
    int decimals = prec - 1 - exp10;
    char alt[48];
    int m = snprintf(alt, sizeof alt, "%.*f", decimals > 0 ? decimals : 0, v);
    bool back = is_float ? strtof(alt, NULL) == (float)v : strtod(alt, NULL) == v;
    if (m > 0 && m < 32 && back) {
        memcpy(buf, alt, (size_t)m + 1);
        return (size_t)m;
    }
    return (size_t)n;
}

size_t jsonw_fmt_f64(char *buf, double v)
{
    if (!isfinite(v)) return jsonw__nonfinite(buf, v);
    int n = 0, prec = 1;
    for (; prec <= 17; prec++) {
        n = snprintf(buf, 32, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    return jsonw__plain(buf, v, prec, n, false);
}

size_t jsonw_fmt_f32(char *buf, float v)
{
    if (!isfinite(v)) return jsonw__nonfinite(buf, v);
    int n = 0, prec = 1;
    for (; prec <= 9; prec++) {
        n = snprintf(buf, 32, "%.*g", prec, (double)v);
        if (strtof(buf, NULL) == v) break;
    }
    return jsonw__plain(buf, (double)v, prec, n, true);
}

static void jsonw__number(jsonw *w, const char *b, size_t n)
{
    jsonw__sep(w);
    if (b[0] == 'N' || b[0] == 'I' || (b[0] == '-' && b[1] == 'I'))
        jsonw__escaped(w, b, n);
    else
        jsonw_text(w, b, n);
}

void jsonw_f64(jsonw *w, double v)
{
    char b[32];
    size_t n = jsonw_fmt_f64(b, v);
    jsonw__number(w, b, n);
}

void jsonw_f32(jsonw *w, float v)
{
    char b[32];
    size_t n = jsonw_fmt_f32(b, v);
    jsonw__number(w, b, n);
}

void jsonw_bool(jsonw *w, bool v)
{
    jsonw__sep(w);
    jsonw_text(w, v ? "true" : "false", v ? 4 : 5);
}

void jsonw_null(jsonw *w)
{
    jsonw__sep(w);
    jsonw_text(w, "null", 4);
}

void jsonw_raw(jsonw *w, const char *json, size_t len)
{
    jsonw__sep(w);
    jsonw_text(w, json, len);
}

/* ---- canonical form (jsonw_canonical) ------------------------------------------------------ */

#define JSONW__CANON_DEPTH 256

typedef struct jsonw__canon {
    const char *p, *e;
    jsonw *w;
    unsigned flags; /* JSONW_CANON_* */
} jsonw__canon;

static void jsonw__canon_ws(jsonw__canon *c)
{
    while (c->p < c->e && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int jsonw__canon_hex4(const char *p, const char *e)
{
    if (e - p < 4) return -1;
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char ch = p[i];
        int d = ch >= '0' && ch <= '9'   ? ch - '0'
                : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                         : -1;
        if (d < 0) return -1;
        v = v << 4 | d;
    }
    return v;
}

size_t jsonw_utf8_put(char *out, uint32_t cp)
{
    size_t n = 0;
    if (cp < 0x80) {
        out[n++] = (char)cp;
    } else if (cp < 0x800) {
        out[n++] = (char)(0xC0 | cp >> 6);
        out[n++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out[n++] = (char)(0xE0 | cp >> 12);
        out[n++] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[n++] = (char)(0x80 | (cp & 0x3F));
    } else {
        out[n++] = (char)(0xF0 | cp >> 18);
        out[n++] = (char)(0x80 | (cp >> 12 & 0x3F));
        out[n++] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[n++] = (char)(0x80 | (cp & 0x3F));
    }
    return n;
}

static void jsonw__canon_char(jsonw *w, uint32_t cp)
{
    static const char hex[] = "0123456789ABCDEF"; /* Jackson's */
    char b[8];
    size_t n = 0;
    if (cp == '"' || cp == '\\') {
        b[n++] = '\\';
        b[n++] = (char)cp;
    } else if (cp < 0x20) {
        static const char shortesc[] = "btnvfr"; /* 8..13; \v has no short form */
        b[n++] = '\\';
        if (cp >= 8 && cp <= 13 && cp != 11) {
            b[n++] = shortesc[cp - 8];
        } else {
            memcpy(b + n, "u00", 3);
            n += 3;
            b[n++] = hex[cp >> 4];
            b[n++] = hex[cp & 15];
        }
    } else {
        n = jsonw_utf8_put(b, cp);
    }
    jsonw_text(w, b, n);
}

static int jsonw__canon_string(jsonw__canon *c)
{
    c->p++; /* the opening quote */
    jsonw_text(c->w, "\"", 1);
    while (c->p < c->e) {
        unsigned char ch = (unsigned char)*c->p;
        if (ch == '"') {
            c->p++;
            jsonw_text(c->w, "\"", 1);
            return 0;
        }
        if (ch < 0x20) return -1; /* raw control characters are not JSON */
        if (ch != '\\') {
            /* copy a run of plain bytes (UTF-8 is copied as is) */
            const char *s = c->p;
            while (c->p < c->e && *c->p != '"' && *c->p != '\\' && (unsigned char)*c->p >= 0x20)
                c->p++;
            jsonw_text(c->w, s, (size_t)(c->p - s));
            continue;
        }
        if (c->e - c->p < 2) return -1;
        char x = c->p[1];
        c->p += 2;
        uint32_t cp;
        switch (x) {
        case '"':
            cp = '"';
            break;
        case '\\':
            cp = '\\';
            break;
        case '/':
            cp = '/';
            break;
        case 'b':
            cp = '\b';
            break;
        case 'f':
            cp = '\f';
            break;
        case 'n':
            cp = '\n';
            break;
        case 'r':
            cp = '\r';
            break;
        case 't':
            cp = '\t';
            break;
        case 'u': {
            int hi = jsonw__canon_hex4(c->p, c->e);
            if (hi < 0) return -1;
            c->p += 4;
            cp = (uint32_t)hi;
            if (hi >= 0xDC00 && hi <= 0xDFFF) return -1; /* a lone low surrogate */
            if (hi >= 0xD800 && hi <= 0xDBFF) {
                if (c->e - c->p < 6 || c->p[0] != '\\' || c->p[1] != 'u') return -1;
                int lo = jsonw__canon_hex4(c->p + 2, c->e);
                if (lo < 0xDC00 || lo > 0xDFFF) return -1;
                c->p += 6;
                cp = 0x10000 + (((uint32_t)hi - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
            }
            break;
        }
        default:
            return -1;
        }
        jsonw__canon_char(c->w, cp);
    }
    return -1;
}

/* Java's Double.toString of v (finite) into buf (>= 40 bytes): the shortest digits that read
 * back to v, laid out plain ("100.0", "0.001") for 1e-3 <= |v| < 1e7 and in Java's
 * scientific form ("1.0E7", "1.5E-5") outside. */
static size_t jsonw__fmt_java(char *buf, double v, bool single)
{
    if (isnan(v)) return (size_t)snprintf(buf, 40, "NaN");
    if (isinf(v)) return (size_t)snprintf(buf, 40, "%s", v < 0 ? "-Infinity" : "Infinity");
    if (v == 0) return (size_t)snprintf(buf, 40, "%s", signbit(v) ? "-0.0" : "0.0");
    char e[40];
    int prec = 1;
    for (; prec <= 17; prec++) {
        snprintf(e, sizeof e, "%.*e", prec - 1, v);
        if (single ? strtof(e, NULL) == (float)v : strtod(e, NULL) == v) break;
    }
    /* e is [-]d[.ddd]e[+-]xx: collect the digits and the exponent */
    char dig[24];
    int nd = 0, exp10;
    const char *q = e;
    bool neg = *q == '-';
    if (neg) q++;
    for (; *q && *q != 'e'; q++)
        if (*q != '.') dig[nd++] = *q;
    exp10 = atoi(q + 1);
    while (nd > 1 && dig[nd - 1] == '0')
        nd--;
    size_t n = 0;
    if (neg) buf[n++] = '-';
    double a = fabs(v);
    if (a >= 1e-3 && a < 1e7) {
        if (exp10 >= 0) {
            for (int i = 0; i <= exp10; i++)
                buf[n++] = i < nd ? dig[i] : '0';
            buf[n++] = '.';
            if (nd > exp10 + 1)
                for (int i = exp10 + 1; i < nd; i++)
                    buf[n++] = dig[i];
            else
                buf[n++] = '0';
        } else {
            buf[n++] = '0';
            buf[n++] = '.';
            for (int i = 0; i < -exp10 - 1; i++)
                buf[n++] = '0';
            for (int i = 0; i < nd; i++)
                buf[n++] = dig[i];
        }
    } else {
        buf[n++] = dig[0];
        buf[n++] = '.';
        if (nd > 1)
            for (int i = 1; i < nd; i++)
                buf[n++] = dig[i];
        else
            buf[n++] = '0';
        n += (size_t)snprintf(buf + n, 40 - n, "E%d", exp10);
    }
    buf[n] = '\0';
    return n;
}

size_t jsonw_fmt_java_f64(char *buf, double v)
{
    return jsonw__fmt_java(buf, v, false);
}

size_t jsonw_fmt_java_f32(char *buf, float v)
{
    return jsonw__fmt_java(buf, v, true);
}

size_t jsonw_utf8_java(const uint8_t *p, size_t n, char *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        uint8_t c = p[i];
        if (c < 0x80) { /* the common case: ASCII */
            out[k++] = (char)c;
            i++;
            continue;
        }
        size_t len = (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        bool ok = len > 0 && i + len <= n;
        for (size_t j = 1; ok && j < len; j++)
            ok = (p[i + j] & 0xC0) == 0x80;
        if (ok) { /* no overlong forms, surrogates or code points past U+10FFFF */
            static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
            uint32_t cp = c & (0x7Fu >> len);
            for (size_t j = 1; j < len; j++)
                cp = cp << 6 | (p[i + j] & 0x3Fu);
            ok = cp >= min[len] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
        }
        if (ok) {
            memcpy(out + k, p + i, len);
            k += len;
            i += len;
        } else {
            memcpy(out + k, "\xEF\xBF\xBD", 3);
            k += 3;
            i++;
        }
    }
    return k;
}

/* Java's new BigDecimal(text).stripTrailingZeros().toString() of the JSON number s[0..n) into
 * w ("1.5", "1E+1", "0"); -1 for an exponent Java cannot hold. */
static int jsonw__bigdec(jsonw *w, const char *s, size_t n)
{
    char small[128], *dig = n < sizeof small ? small : sl_xmalloc(n + 1);
    bigdec d;
    int rc = bigdec_parse(s, n, dig, n + 1, &d);
    if (rc == 0) {
        bigdec_strip(&d);
        size_t cap = d.ndigits + BIGDEC_TEXT_EXTRA;
        char *txt = sl_xmalloc(cap);
        jsonw_text(w, txt, bigdec_to_string(&d, txt, cap));
        free(txt);
    }
    if (dig != small) free(dig);
    return rc;
}

/* A number as Jackson writes the node it parsed: an integer literal as its integer (-0 is 0),
 * one with a fraction or an exponent as the double it reads as, in Java's form. */
static int jsonw__canon_number(jsonw__canon *c)
{
    const char *s = c->p;
    if (c->p < c->e && *c->p == '-') c->p++;
    if (c->p >= c->e) return -1;
    if (*c->p == '0') {
        c->p++;
    } else if (*c->p >= '1' && *c->p <= '9') {
        while (c->p < c->e && *c->p >= '0' && *c->p <= '9')
            c->p++;
    } else {
        return -1;
    }
    if (c->p < c->e && *c->p == '.') {
        c->p++;
        const char *d = c->p;
        while (c->p < c->e && *c->p >= '0' && *c->p <= '9')
            c->p++;
        if (c->p == d) return -1;
    }
    if (c->p < c->e && (*c->p == 'e' || *c->p == 'E')) {
        c->p++;
        if (c->p < c->e && (*c->p == '+' || *c->p == '-')) c->p++;
        const char *d = c->p;
        while (c->p < c->e && *c->p >= '0' && *c->p <= '9')
            c->p++;
        if (c->p == d) return -1;
    }
    size_t len = (size_t)(c->p - s);
    const char *frac = memchr(s, '.', len);
    bool real = frac || memchr(s, 'e', len) || memchr(s, 'E', len);
    if (!real) {
        bool zero = len == 2 && s[0] == '-' && s[1] == '0';
        jsonw_text(c->w, zero ? "0" : s, zero ? 1 : len);
        return 0;
    }
    if (c->flags & JSONW_CANON_DECIMAL) return jsonw__bigdec(c->w, s, len);
    char small[128], out[48];
    char *tmp = len < sizeof small ? small : sl_xmalloc(len + 1);
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    double v = strtod(tmp, NULL);
    if (tmp != small) free(tmp);
    if (!isfinite(v)) { /* Jackson's default writes the overflowed double quoted */
        jsonw_text(c->w, v < 0 ? "\"-Infinity\"" : "\"Infinity\"", v < 0 ? 11 : 10);
        return 0;
    }
    jsonw_text(c->w, out, jsonw_fmt_java_f64(out, v));
    return 0;
}

static int jsonw__canon_value(jsonw__canon *c, int depth);

/* The next byte a canonical key text stands for (its escapes decoded), or -1 at its end. */
static int jsonw__key_byte(const char **p, const char *e)
{
    if (*p >= e) return -1;
    unsigned char ch = (unsigned char)*(*p)++;
    if (ch != '\\' || *p >= e) return ch;
    char x = *(*p)++;
    switch (x) {
    case 'b':
        return '\b';
    case 'f':
        return '\f';
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 't':
        return '\t';
    case 'u': { /* canonical text escapes only control characters this way */
        int v = jsonw__canon_hex4(*p, e);
        *p += 4;
        return v;
    }
    default:
        return (unsigned char)x;
    }
}

typedef struct jsonw__member {
    size_t k, klen, v, vlen; /* key (quoted, canonical) and value text in the scratch buffer */
    size_t order;            /* position in the input */
} jsonw__member;

static int jsonw__member_cmp(const void *a, const void *b, void *buf)
{
    const jsonw__member *x = a, *y = b;
    const char *p = (const char *)buf + x->k + 1, *pe = (const char *)buf + x->k + x->klen - 1;
    const char *q = (const char *)buf + y->k + 1, *qe = (const char *)buf + y->k + y->klen - 1;
    for (;;) {
        int u = jsonw__key_byte(&p, pe), v = jsonw__key_byte(&q, qe);
        if (u != v) return u < v ? -1 : 1;
        if (u < 0) break;
    }
    return x->order < y->order ? -1 : x->order > y->order;
}

static bool jsonw__same_key(const jsonw__member *x, const jsonw__member *y, const char *buf)
{
    return x->klen == y->klen && !memcmp(buf + x->k, buf + y->k, x->klen);
}

/* An object with its keys sorted (JSONW_CANON_SORT_KEYS): the members are written into a
 * scratch buffer, sorted by key, and the last of equal keys kept (a map's put). */
static int jsonw__canon_sorted(jsonw__canon *c, int depth)
{
    jsonw tmp, *out = c->w;
    jsonw_init(&tmp);
    c->w = &tmp;
    jsonw__member *m = NULL;
    size_t nm = 0, cap = 0;
    int rc = -1;
    c->p++; /* '{' */
    jsonw__canon_ws(c);
    if (c->p < c->e && *c->p == '}') {
        c->p++;
    } else {
        for (;;) {
            jsonw__canon_ws(c);
            size_t k = tmp.len;
            if (c->p >= c->e || *c->p != '"' || jsonw__canon_string(c)) goto done;
            size_t v = tmp.len;
            jsonw__canon_ws(c);
            if (c->p >= c->e || *c->p != ':') goto done;
            c->p++;
            if (jsonw__canon_value(c, depth + 1)) goto done;
            if (nm == cap) {
                cap = cap ? cap * 2 : 8;
                m = sl_xrealloc(m, cap * sizeof *m);
            }
            m[nm] = (jsonw__member){k, v - k, v, tmp.len - v, nm};
            nm++;
            jsonw__canon_ws(c);
            if (c->p >= c->e) goto done;
            if (*c->p == '}') {
                c->p++;
                break;
            }
            if (*c->p != ',') goto done;
            c->p++;
        }
    }
    if (nm) qsort_r(m, nm, sizeof *m, jsonw__member_cmp, tmp.buf);
    jsonw_text(out, "{", 1);
    bool first = true;
    for (size_t i = 0; i < nm; i++) {
        if (i + 1 < nm && jsonw__same_key(&m[i], &m[i + 1], tmp.buf)) continue;
        if (!first) jsonw_text(out, ",", 1);
        first = false;
        jsonw_text(out, tmp.buf + m[i].k, m[i].klen);
        jsonw_text(out, ":", 1);
        jsonw_text(out, tmp.buf + m[i].v, m[i].vlen);
    }
    jsonw_text(out, "}", 1);
    rc = 0;
done:
    c->w = out;
    free(m);
    jsonw_free(&tmp);
    return rc;
}

static int jsonw__canon_value(jsonw__canon *c, int depth)
{
    jsonw__canon_ws(c);
    if (c->p >= c->e) return -1;
    char ch = *c->p;
    if (ch == '{' && (c->flags & JSONW_CANON_SORT_KEYS)) {
        if (depth >= JSONW__CANON_DEPTH) return -1;
        return jsonw__canon_sorted(c, depth);
    }
    if (ch == '{' || ch == '[') {
        if (depth >= JSONW__CANON_DEPTH) return -1;
        char close = ch == '{' ? '}' : ']';
        jsonw_text(c->w, &ch, 1);
        c->p++;
        jsonw__canon_ws(c);
        if (c->p < c->e && *c->p == close) {
            c->p++;
            jsonw_text(c->w, &close, 1);
            return 0;
        }
        for (;;) {
            if (ch == '{') {
                jsonw__canon_ws(c);
                if (c->p >= c->e || *c->p != '"' || jsonw__canon_string(c)) return -1;
                jsonw__canon_ws(c);
                if (c->p >= c->e || *c->p != ':') return -1;
                c->p++;
                jsonw_text(c->w, ":", 1);
            }
            if (jsonw__canon_value(c, depth + 1)) return -1;
            jsonw__canon_ws(c);
            if (c->p >= c->e) return -1;
            if (*c->p == close) {
                c->p++;
                jsonw_text(c->w, &close, 1);
                return 0;
            }
            if (*c->p != ',') return -1;
            c->p++;
            jsonw_text(c->w, ",", 1);
        }
    }
    if (ch == '"') return jsonw__canon_string(c);
    static const char *const lits[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
        size_t l = strlen(lits[i]);
        if ((size_t)(c->e - c->p) >= l && memcmp(c->p, lits[i], l) == 0) {
            c->p += l;
            jsonw_text(c->w, lits[i], l);
            return 0;
        }
    }
    return jsonw__canon_number(c);
}

int jsonw_canonical(jsonw *w, const char *p, size_t n, unsigned flags)
{
    size_t mark = w->len;
    int depth = w->depth;
    bool after_key = w->after_key;
    bool first = depth > 0 && depth <= JSONW_MAX_DEPTH ? w->first[depth - 1] : false;
    jsonw__sep(w);
    jsonw__canon c = {p, p + n, w, flags};
    if (jsonw__canon_value(&c, 0) == 0) {
        jsonw__canon_ws(&c);
        if (c.p == c.e) return 0;
    }
    /* not one document: undo what was written, the separator included */
    w->len = mark;
    if (w->buf) w->buf[mark] = '\0';
    w->after_key = after_key;
    if (depth > 0 && depth <= JSONW_MAX_DEPTH) w->first[depth - 1] = first;
    return -1;
}

void jsonw_canonical_str(jsonw *w, const char *s, size_t n)
{
    jsonw__sep(w);
    jsonw_text(w, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch == '"' || ch == '\\')
            jsonw__canon_char(w, ch);
        else
            jsonw_text(w, &s[i], 1);
    }
    jsonw_text(w, "\"", 1);
}
