/* JSON writer (see jsonw.h). */
#include "common/jsonw.h"

#include "common/base64.h"
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
    while (cap < w->len + more + 1) cap *= 2;
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

void jsonw_obj_begin(jsonw *w) { jsonw__open(w, '{'); }
void jsonw_obj_end(jsonw *w) { jsonw__close(w, '}'); }
void jsonw_arr_begin(jsonw *w) { jsonw__open(w, '['); }
void jsonw_arr_end(jsonw *w) { jsonw__close(w, ']'); }

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
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
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

void jsonw_cstr(jsonw *w, const char *s) { jsonw_str(w, s, strlen(s)); }

void jsonw_i64(jsonw *w, int64_t v)
{
    char b[24];
    jsonw__sep(w);
    jsonw_text(w, b, (size_t)snprintf(b, sizeof b, "%" PRId64, v));
}

void jsonw_u64(jsonw *w, uint64_t v)
{
    char b[24];
    jsonw__sep(w);
    jsonw_text(w, b, (size_t)snprintf(b, sizeof b, "%" PRIu64, v));
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
