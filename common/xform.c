/* Ingestion transforms: the parser, the evaluator and Pinot's inbuilt functions (xform.h). */
#include "common/xform.h"
#include "common/jsonw.h"
#include "common/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define XF_MAX_ARGS 16 /* in(x, v1, ..., v15) */
#define XF_MAX_DEPTH 32
#define XF_JSON_MAX_DEPTH 256 /* path segments followed (a path may be a message's value) */
#define XF_BLOCK 4096

/* ---- scratch memory -------------------------------------------------------------------- */

typedef struct xf_blk {
    struct xf_blk *next;
    size_t cap, used;
    char data[];
} xf_blk;

struct xform_ctx {
    xf_blk *head; /* the block being filled; older ones follow */
};

xform_ctx *xform_ctx_new(void)
{
    return sl_xcalloc(1, sizeof(xform_ctx));
}

void xform_ctx_reset(xform_ctx *cx)
{
    if (!cx->head) return;
    xf_blk *b = cx->head->next; /* keep one block: most rows need no more */
    while (b) {
        xf_blk *n = b->next;
        free(b);
        b = n;
    }
    cx->head->next = NULL;
    cx->head->used = 0;
}

void xform_ctx_free(xform_ctx *cx)
{
    if (!cx) return;
    xform_ctx_reset(cx);
    free(cx->head);
    free(cx);
}

static char *xf_alloc(xform_ctx *cx, size_t n)
{
    if (!cx->head || cx->head->cap - cx->head->used < n) {
        size_t cap = n > XF_BLOCK ? n : XF_BLOCK;
        xf_blk *b = sl_xmalloc(sizeof *b + cap);
        b->cap = cap;
        b->used = 0;
        b->next = cx->head;
        cx->head = b;
    }
    char *p = cx->head->data + cx->head->used;
    cx->head->used += n;
    return p;
}

/* Room for n (>= 1) values in cx, aligned for them (xf_alloc's bytes are not). */
static xform_val *xf_alloc_vals(xform_ctx *cx, size_t n)
{
    const size_t al = _Alignof(xform_val);
    if (cx->head) {
        size_t u = (cx->head->used + al - 1) & ~(al - 1);
        cx->head->used = u < cx->head->cap ? u : cx->head->cap;
    }
    return (xform_val *)(void *)xf_alloc(cx, n * sizeof(xform_val));
}

char *xform_ctx_alloc(xform_ctx *cx, size_t n)
{
    return xf_alloc(cx, n);
}

const char *xform_ctx_copy(xform_ctx *cx, const void *p, size_t n)
{
    char *o = xf_alloc(cx, n);
    if (n) memcpy(o, p, n);
    return o;
}

/* ---- values ----------------------------------------------------------------------------- */

static locale_t xf_c_locale;
static pthread_once_t xf_locale_once = PTHREAD_ONCE_INIT;
static void xf_locale_init(void)
{
    xf_c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

static int xf_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int xf_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static const char *xf_kind_name(xform_kind k)
{
    static const char *const n[] = {"null",   "long", "double", "boolean",
                                    "string", "json", "bytes",  "array"};
    return (unsigned)k <= XFORM_ARRAY ? n[k] : "?";
}

/* Java's (long) cast of a double: truncation, NaN 0, saturation. */
static int64_t xf_d2l(double d)
{
    if (isnan(d)) return 0;
    if (d >= 9223372036854775807.0) return INT64_MAX;
    if (d <= -9223372036854775808.0) return INT64_MIN;
    return (int64_t)d;
}

/* s[0..n) without surrounding whitespace as a NUL-terminated string in buf; false if empty
 * or longer than cap - 1. */
static bool xf_trimmed(const char *s, size_t n, char *buf, size_t cap)
{
    while (n && isspace((unsigned char)*s))
        s++, n--;
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    if (n == 0 || n >= cap) return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return true;
}

static bool xf_parse_long(const char *s, size_t n, int64_t *out)
{
    char buf[40], *end;
    if (!xf_trimmed(s, n, buf, sizeof buf)) return false;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (errno || *end) return false;
    *out = v;
    return true;
}

static bool xf_parse_double(const char *s, size_t n, double *out)
{
    char buf[400], *end;
    if (!xf_trimmed(s, n, buf, sizeof buf)) return false;
    pthread_once(&xf_locale_once, xf_locale_init);
    double v = strtod_l(buf, &end, xf_c_locale);
    if (*end) return false;
    *out = v;
    return true;
}

static int xf_as_double(const xform_val *v, double *x, char *err, size_t errlen)
{
    switch (v->kind) {
    case XFORM_LONG:
    case XFORM_BOOL:
        *x = (double)v->i;
        return 0;
    case XFORM_DOUBLE:
        *x = v->d;
        return 0;
    case XFORM_STRING:
        if (xf_parse_double(v->s, v->len, x)) return 0;
        return xf_fail(err, errlen, "\"%.*s\" is not a number", (int)(v->len < 60 ? v->len : 60),
                       v->s);
    default:
        return xf_fail(err, errlen, "a %s is not a number", xf_kind_name(v->kind));
    }
}

/* A long from any number (a double truncates, as Java's (long) cast) or numeric string. */
static int xf_as_long(const xform_val *v, int64_t *x, char *err, size_t errlen)
{
    if (v->kind == XFORM_LONG || v->kind == XFORM_BOOL) {
        *x = v->i;
        return 0;
    }
    if (v->kind == XFORM_STRING && xf_parse_long(v->s, v->len, x)) return 0; /* exact */
    double d = 0;
    if (xf_as_double(v, &d, err, errlen)) return -1;
    *x = xf_d2l(d);
    return 0;
}

/* Java's String.valueOf of a number (the decoder's shortest round-trip text for doubles). */
static void xf_as_string(const xform_val *v, xform_ctx *cx, const char **s, uint32_t *len)
{
    char buf[48];
    size_t n;
    switch (v->kind) {
    case XFORM_STRING:
    case XFORM_JSON:
        *s = v->s;
        *len = v->len;
        return;
    case XFORM_BOOL:
        *s = v->i ? "true" : "false";
        *len = v->i ? 4 : 5;
        return;
    case XFORM_DOUBLE:
        n = jsonw_fmt_f64(buf, v->d);
        break;
    case XFORM_BYTES: { /* Pinot's BYTES to STRING: lowercase hex */
        static const char hex[] = "0123456789abcdef";
        char *h = xf_alloc(cx, (size_t)v->len * 2);
        for (uint32_t i = 0; i < v->len; i++) {
            h[2 * i] = hex[(unsigned char)v->s[i] >> 4];
            h[2 * i + 1] = hex[(unsigned char)v->s[i] & 15];
        }
        *s = h;
        *len = v->len * 2;
        return;
    }
    default:
        n = (size_t)snprintf(buf, sizeof buf, "%" PRId64, v->i);
        break;
    }
    char *p = xf_alloc(cx, n);
    memcpy(p, buf, n);
    *s = p;
    *len = (uint32_t)n;
}

static xform_val xf_long(int64_t x)
{
    return (xform_val){.kind = XFORM_LONG, .i = x};
}
static xform_val xf_double(double x)
{
    return (xform_val){.kind = XFORM_DOUBLE, .d = x};
}
static xform_val xf_str(const char *s, uint32_t n)
{
    return (xform_val){.kind = XFORM_STRING, .s = s, .len = n};
}

/* ---- calendar (proleptic Gregorian, UTC) ---------------------------------------------------- */

static int64_t xf_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void xf_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int64_t xf_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

typedef struct xf_tm {
    int64_t year;
    int month, day, hour, minute, second, milli, wday; /* wday: 1 Monday .. 7 Sunday */
} xf_tm;

static void xf_breakdown(int64_t ms, xf_tm *t)
{
    int64_t days = xf_floor_div(ms, 86400000);
    int64_t rem = ms - days * 86400000;
    xf_civil_from_days(days, &t->year, &t->month, &t->day);
    t->hour = (int)(rem / 3600000);
    t->minute = (int)(rem / 60000 % 60);
    t->second = (int)(rem / 1000 % 60);
    t->milli = (int)(rem % 1000);
    t->wday = (int)(days + 3 - xf_floor_div(days + 3, 7) * 7) + 1; /* 1970-01-01: Thursday */
}

static const char *const xf_months[] = {"January",   "February", "March",    "April",
                                        "May",       "June",     "July",     "August",
                                        "September", "October",  "November", "December"};
static const char *const xf_days[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                      "Friday", "Saturday", "Sunday"};

/* ---- date-time patterns (Joda / java.text letters) ------------------------------------------ */

/* One pattern token: a run of one letter, or literal text. */
typedef struct xf_tok {
    char letter; /* 0: literal */
    int count;
    const char *lit;
    size_t litlen;
    char litbuf[64];
} xf_tok;

static const char xf_letters[] = "yMdHhmsSaZXEzkK";

/* Next token of pattern at *p; false at the end. Literal quotes: '' is a quote. */
static bool xf_next_tok(const char **p, xf_tok *t, bool *bad, char *badc)
{
    const char *s = *p;
    *bad = false;
    if (!*s) return false;
    memset(t, 0, sizeof *t);
    if (isalpha((unsigned char)*s)) {
        char c = *s;
        if (!strchr(xf_letters, c)) {
            *bad = true;
            *badc = c;
        }
        t->letter = c;
        while (*s == c)
            s++, t->count++;
    } else if (*s == '\'') {
        s++;
        size_t n = 0;
        if (*s == '\'') { /* '' outside a quote: one quote */
            t->litbuf[n++] = '\'';
            s++;
        } else {
            while (*s) {
                if (*s == '\'' && s[1] == '\'') {
                    if (n < sizeof t->litbuf) t->litbuf[n++] = '\'';
                    s += 2;
                } else if (*s == '\'') {
                    s++;
                    break;
                } else {
                    if (n < sizeof t->litbuf) t->litbuf[n++] = *s;
                    s++;
                }
            }
        }
        t->lit = t->litbuf;
        t->litlen = n;
    } else {
        t->lit = s;
        while (*s && !isalpha((unsigned char)*s) && *s != '\'')
            s++;
        t->litlen = (size_t)(s - t->lit);
    }
    *p = s;
    return true;
}

bool xform_pattern_ok(const char *pattern, char *err, size_t errlen)
{
    xf_tok t;
    bool bad;
    char c;
    const char *p = pattern;
    while (xf_next_tok(&p, &t, &bad, &c))
        if (bad) {
            snprintf(err, errlen, "date-time pattern \"%s\": the letter '%c' is not supported",
                     pattern, c);
            return false;
        }
    return true;
}

static bool xf_numeric(char c, int count)
{
    return c && c != 'a' && c != 'Z' && c != 'X' && c != 'E' && c != 'z' &&
           !(c == 'M' && count >= 3);
}

int xform_parse_time(const char *pattern, const char *text, size_t len, int64_t *ms, char *err,
                     size_t errlen)
{
    int64_t year = 1970, offset_ms = 0;
    int month = 1, day = 1, hour = 0, minute = 0, second = 0, milli = 0, pm = -1, hour12 = -1;
    const char *p = pattern, *s = text, *end = text + len;
    xf_tok t, nt;
    bool bad;
    char c;
    while (xf_next_tok(&p, &t, &bad, &c)) {
        if (bad) return xf_fail(err, errlen, "pattern letter '%c' not supported", c);
        if (!t.letter) {
            if ((size_t)(end - s) < t.litlen || memcmp(s, t.lit, t.litlen) != 0)
                return xf_fail(err, errlen, "\"%.*s\" does not match the pattern \"%s\"",
                               (int)(len < 80 ? len : 80), text, pattern);
            s += t.litlen;
            continue;
        }
        if (xf_numeric(t.letter, t.count)) {
            /* adjacent numeric fields (yyyyMMdd) take exactly their width */
            const char *q = p;
            bool fixed = xf_next_tok(&q, &nt, &bad, &c) && xf_numeric(nt.letter, nt.count);
            int maxw = fixed ? t.count : (t.letter == 'y' ? 9 : t.letter == 'S' ? 9 : 2);
            if (t.letter == 'y' && t.count == 2) maxw = 2;
            bool neg = false;
            if (t.letter == 'y' && s < end && (*s == '-' || *s == '+') && !fixed) {
                neg = *s == '-';
                s++;
            }
            int64_t v = 0;
            int w = 0;
            while (s < end && w < maxw && isdigit((unsigned char)*s))
                v = v * 10 + (*s++ - '0'), w++;
            if (w == 0 || (fixed && w != t.count))
                return xf_fail(err, errlen, "\"%.*s\" does not match the pattern \"%s\"",
                               (int)(len < 80 ? len : 80), text, pattern);
            if (neg) v = -v;
            switch (t.letter) {
            case 'y':
                year = t.count == 2 && w == 2 ? 2000 + v : v;
                break;
            case 'M':
                month = (int)v;
                break;
            case 'd':
                day = (int)v;
                break;
            case 'H':
            case 'k':
                hour = (int)(t.letter == 'k' && v == 24 ? 0 : v);
                break;
            case 'h':
            case 'K':
                hour12 = (int)(v % 12);
                break;
            case 'm':
                minute = (int)v;
                break;
            case 's':
                second = (int)v;
                break;
            case 'S': { /* a fraction of a second: its first three digits are milliseconds */
                int64_t f = v;
                for (int k = w; k < 3; k++)
                    f *= 10;
                for (int k = 3; k < w; k++)
                    f /= 10;
                milli = (int)f;
                break;
            }
            }
            continue;
        }
        switch (t.letter) {
        case 'M': { /* month name, long or short */
            int found = 0;
            for (int k = 0; k < 12 && !found; k++) {
                size_t full = strlen(xf_months[k]);
                if ((size_t)(end - s) >= full && strncasecmp(s, xf_months[k], full) == 0)
                    month = k + 1, s += full, found = 1;
                else if ((size_t)(end - s) >= 3 && strncasecmp(s, xf_months[k], 3) == 0)
                    month = k + 1, s += 3, found = 1;
            }
            if (!found) return xf_fail(err, errlen, "no month name in \"%.*s\"", (int)len, text);
            break;
        }
        case 'E': { /* a day name: read, not checked against the date */
            int found = 0;
            for (int k = 0; k < 7 && !found; k++) {
                size_t full = strlen(xf_days[k]);
                if ((size_t)(end - s) >= full && strncasecmp(s, xf_days[k], full) == 0)
                    s += full, found = 1;
                else if ((size_t)(end - s) >= 3 && strncasecmp(s, xf_days[k], 3) == 0)
                    s += 3, found = 1;
            }
            if (!found) return xf_fail(err, errlen, "no day name in \"%.*s\"", (int)len, text);
            break;
        }
        case 'a':
            if ((size_t)(end - s) >= 2 && strncasecmp(s, "AM", 2) == 0)
                pm = 0;
            else if ((size_t)(end - s) >= 2 && strncasecmp(s, "PM", 2) == 0)
                pm = 1;
            else
                return xf_fail(err, errlen, "no AM/PM in \"%.*s\"", (int)len, text);
            s += 2;
            break;
        case 'z': /* zone names: only the ones without rules */
            if ((size_t)(end - s) >= 3 && (strncmp(s, "UTC", 3) == 0 || strncmp(s, "GMT", 3) == 0))
                s += 3;
            else
                return xf_fail(err, errlen, "only UTC and GMT zone names are read");
            break;
        default: /* Z, X: Z, or +hh, +hhmm, +hh:mm */
            if (s < end && *s == 'Z') {
                s++;
                break;
            }
            if (s >= end || (*s != '+' && *s != '-'))
                return xf_fail(err, errlen, "no time zone offset in \"%.*s\"", (int)len, text);
            {
                int sign = *s++ == '-' ? -1 : 1, hh = 0, mm = 0, w = 0;
                while (s < end && w < 2 && isdigit((unsigned char)*s))
                    hh = hh * 10 + (*s++ - '0'), w++;
                if (w != 2) return xf_fail(err, errlen, "bad offset in \"%.*s\"", (int)len, text);
                if (s < end && *s == ':') s++;
                w = 0;
                while (s < end && w < 2 && isdigit((unsigned char)*s))
                    mm = mm * 10 + (*s++ - '0'), w++;
                offset_ms = sign * (hh * 3600000LL + mm * 60000LL);
            }
        }
    }
    if (s != end)
        return xf_fail(err, errlen, "\"%.*s\" has text after the pattern \"%s\"",
                       (int)(len < 80 ? len : 80), text, pattern);
    if (hour12 >= 0) hour = hour12 + (pm == 1 ? 12 : 0);
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
        return xf_fail(err, errlen, "\"%.*s\": a field is out of range", (int)len, text);
    int64_t days = xf_days_from_civil(year, month, day);
    int64_t y2;
    int m2, d2;
    xf_civil_from_days(days, &y2, &m2, &d2);
    if (m2 != month || d2 != day)
        return xf_fail(err, errlen, "\"%.*s\": no such day", (int)len, text);
    *ms =
        days * 86400000 + hour * 3600000LL + minute * 60000LL + second * 1000LL + milli - offset_ms;
    return 0;
}

size_t xform_format_time(const char *pattern, int64_t ms, char *buf, size_t cap)
{
    xf_tm tm;
    xf_breakdown(ms, &tm);
    size_t o = 0;
    const char *p = pattern;
    xf_tok t;
    bool bad;
    char c;
#define XF_PUT(str, n)                                                                             \
    do {                                                                                           \
        for (size_t k_ = 0; k_ < (size_t)(n) && o + 1 < cap; k_++)                                 \
            buf[o++] = (str)[k_];                                                                  \
    } while (0)
    while (xf_next_tok(&p, &t, &bad, &c)) {
        char num[32];
        int n = 0;
        if (!t.letter) {
            XF_PUT(t.lit, t.litlen);
            continue;
        }
        switch (t.letter) {
        case 'y':
            n = t.count == 2 ? snprintf(num, sizeof num, "%02d", (int)((tm.year % 100 + 100) % 100))
                             : snprintf(num, sizeof num, "%0*" PRId64, t.count, tm.year);
            break;
        case 'M':
            if (t.count >= 3) {
                const char *nm = xf_months[tm.month - 1];
                XF_PUT(nm, t.count == 3 ? 3 : strlen(nm));
                continue;
            }
            n = snprintf(num, sizeof num, "%0*d", t.count, tm.month);
            break;
        case 'd':
            n = snprintf(num, sizeof num, "%0*d", t.count, tm.day);
            break;
        case 'H':
            n = snprintf(num, sizeof num, "%0*d", t.count, tm.hour);
            break;
        case 'k':
            n = snprintf(num, sizeof num, "%0*d", t.count, tm.hour ? tm.hour : 24);
            break;
        case 'h':
            n = snprintf(num, sizeof num, "%0*d", t.count, tm.hour % 12 ? tm.hour % 12 : 12);
            break;
        case 'K':
            n = snprintf(num, sizeof num, "%0*d", t.count, tm.hour % 12);
            break;
        case 'm':
            n = snprintf(num, sizeof num, "%0*d", t.count, tm.minute);
            break;
        case 's':
            n = snprintf(num, sizeof num, "%0*d", t.count, tm.second);
            break;
        case 'S': { /* the first `count` digits of the fraction */
            char f[16];
            snprintf(f, sizeof f, "%03d000000000", tm.milli);
            n = snprintf(num, sizeof num, "%.*s", t.count < 12 ? t.count : 12, f);
            break;
        }
        case 'a':
            n = snprintf(num, sizeof num, "%s", tm.hour < 12 ? "AM" : "PM");
            break;
        case 'E': {
            const char *nm = xf_days[tm.wday - 1];
            XF_PUT(nm, t.count <= 3 ? 3 : strlen(nm));
            continue;
        }
        case 'X':
            n = snprintf(num, sizeof num, "Z");
            break;
        case 'z':
            n = snprintf(num, sizeof num, "UTC");
            break;
        default:
            n = snprintf(num, sizeof num, t.count >= 2 ? "+00:00" : "+0000");
            break; /* Z */
        }
        XF_PUT(num, n);
    }
#undef XF_PUT
    if (cap) buf[o] = '\0';
    return o;
}

/* ---- JSON text: validate, compact, and follow a path --------------------------------------- */

static const char *xf_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* The end of the JSON string starting at p (at its opening quote), or NULL. */
static const char *xf_skip_string(const char *p, const char *e)
{
    for (p++; p < e; p++) {
        if (*p == '\\') {
            if (++p >= e) return NULL;
        } else if (*p == '"') {
            return p + 1;
        } else if ((unsigned char)*p < 0x20) {
            return NULL;
        }
    }
    return NULL;
}

/* The end of the JSON value at p, or NULL when it is not one. */
static const char *xf_skip_value(const char *p, const char *e, int depth)
{
    p = xf_ws(p, e);
    if (p >= e || depth > 64) return NULL;
    if (*p == '"') return xf_skip_string(p, e);
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        bool obj = *p == '{';
        p = xf_ws(p + 1, e);
        if (p < e && *p == close) return p + 1;
        for (;;) {
            if (obj) {
                if (p >= e || *p != '"' || !(p = xf_skip_string(p, e))) return NULL;
                p = xf_ws(p, e);
                if (p >= e || *p != ':') return NULL;
                p++;
            }
            if (!(p = xf_skip_value(p, e, depth + 1))) return NULL;
            p = xf_ws(p, e);
            if (p < e && *p == ',') {
                p = xf_ws(p + 1, e);
                continue;
            }
            return p < e && *p == close ? p + 1 : NULL;
        }
    }
    const char *s = p;
    while (p < e && (isalnum((unsigned char)*p) || *p == '-' || *p == '+' || *p == '.'))
        p++;
    if (p == s) return NULL;
    size_t n = (size_t)(p - s);
    if ((n == 4 && !memcmp(s, "true", 4)) || (n == 5 && !memcmp(s, "false", 5)) ||
        (n == 4 && !memcmp(s, "null", 4)))
        return p;
    double d = 0;
    return xf_parse_double(s, n, &d) ? p : NULL;
}

/* The four hex digits at p as a number, or -1. */
static long xf_hex4(const char *p)
{
    long v = 0;
    for (int k = 0; k < 4; k++) {
        int h = (unsigned char)p[k];
        if (!isxdigit(h)) return -1;
        v = v * 16 + (isdigit(h) ? h - '0' : tolower(h) - 'a' + 10);
    }
    return v;
}

/* Unescape the JSON string at [p, e) (with its quotes) into cx. */
static int xf_unescape(const char *p, const char *e, xform_ctx *cx, xform_val *out)
{
    static const char from[] = "bfnrt", to[] = "\b\f\n\r\t";
    char *o = xf_alloc(cx, (size_t)(e - p));
    size_t n = 0;
    for (p++, e--; p < e; p++) {
        if (*p != '\\') {
            o[n++] = *p;
            continue;
        }
        p++;
        const char *k = strchr(from, *p);
        if (*p && k) {
            o[n++] = to[k - from];
        } else if (*p == 'u') {
            long cp = e - p >= 5 ? xf_hex4(p + 1) : -1;
            if (cp < 0) return -1;
            p += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && e - p >= 7 && p[1] == '\\' && p[2] == 'u') {
                long lo = xf_hex4(p + 3);
                if (lo >= 0xDC00 && lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    p += 6;
                }
            }
            n += jsonw_utf8_put(o + n, (uint32_t)cp);
        } else {
            o[n++] = *p; /* \" \\ \/ */
        }
    }
    *out = xf_str(o, (uint32_t)n);
    return 0;
}

/* The JSON value at [p, e) as Jackson writes it once parsed (jsonw_canonical: compact, keys in
 * their order, strings escaped again, numbers as Java prints them) into cx; the text as it is
 * if it is not one JSON value (the callers checked it is). */
static xform_val xf_compact(const char *p, const char *e, xform_ctx *cx)
{
    jsonw w;
    jsonw_init(&w);
    const char *o;
    size_t n;
    if (jsonw_canonical(&w, p, (size_t)(e - p), 0) == 0) {
        o = xform_ctx_copy(cx, w.buf, w.len);
        n = w.len;
    } else {
        o = p;
        n = (size_t)(e - p);
    }
    jsonw_free(&w);
    return (xform_val){.kind = (n && o[0] == '{') || (n && o[0] == '[') ? XFORM_JSON : XFORM_STRING,
                       .s = o,
                       .len = (uint32_t)n};
}

/* The values a JSON path reaches (xf_json_walk), in document order. */
typedef struct xf_matches {
    const char **v; /* start, end of each; malloc'd */
    size_t n, cap;
    bool wild; /* the path has a wildcard: its result is a list whatever it matches */
} xf_matches;

static void xf_match_add(xf_matches *m, const char *vs, const char *ve)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 8;
        m->v = sl_xrealloc(m->v, m->cap * 2 * sizeof *m->v);
    }
    m->v[2 * m->n] = vs;
    m->v[2 * m->n + 1] = ve;
    m->n++;
}

/* Follow a JSON path (after the "$": .name, ['name'], [n], and the wildcards [*] and .* for
 * every element or member value) through the value [p, end), adding each value it reaches to
 * m. 0, or -1 for a value that is not JSON. A segment it does not know leads nowhere. */
static int xf_json_walk(const char *p, const char *end, const char *path, xf_matches *m, int depth)
{
    p = xf_ws(p, end);
    if (!*path) {
        xf_match_add(m, p, end);
        return 0;
    }
    if (depth > XF_JSON_MAX_DEPTH) return 0;
    char key[256];
    size_t klen = 0;
    long idx = -1;
    bool all = false;
    if (path[0] == '.' && path[1] == '*') {
        all = true;
        path += 2;
    } else if (path[0] == '[' && path[1] == '*' && path[2] == ']') {
        all = true;
        path += 3;
    } else if (*path == '.') {
        path++;
        while (*path && *path != '.' && *path != '[' && klen < sizeof key)
            key[klen++] = *path++;
    } else if (*path == '[' && (path[1] == '\'' || path[1] == '"')) {
        char q = path[1];
        path += 2;
        while (*path && *path != q && klen < sizeof key)
            key[klen++] = *path++;
        if (*path != q || path[1] != ']') return 0;
        path += 2;
    } else if (*path == '[') {
        char *x;
        idx = strtol(path + 1, &x, 10);
        if (x == path + 1 || *x != ']' || idx < 0) return 0;
        path = x + 1;
    } else {
        return 0;
    }
    m->wild |= all;
    if (p >= end || (*p != '[' && *p != '{')) return 0;
    bool arr = *p == '[';
    if (idx >= 0 && !arr) return 0;
    if (idx < 0 && !all && arr) return 0;
    p = xf_ws(p + 1, end);
    for (long k = 0; p < end && *p != ']' && *p != '}'; k++) {
        const char *ks = p, *ke = NULL;
        if (!arr) {
            if (*p != '"' || !(ke = xf_skip_string(p, end))) return -1;
            p = xf_ws(ke, end);
            if (p >= end || *p != ':') return -1;
            p = xf_ws(p + 1, end);
        }
        const char *ve = xf_skip_value(p, end, 0);
        if (!ve) return -1;
        /* keys compared as written (an escaped key does not match its plain spelling) */
        bool hit = all || (arr ? k == idx
                               : (size_t)(ke - ks - 2) == klen && memcmp(ks + 1, key, klen) == 0);
        if (hit && xf_json_walk(p, ve, path, m, depth + 1)) return -1;
        if (hit && !all) return 0;
        p = xf_ws(ve, end);
        if (p < end && *p == ',') p = xf_ws(p + 1, end);
    }
    return 0;
}

/* The values the path ("$...", its text) reaches in the JSON text doc, into m (the caller
 * frees m->v). 0, or -1 for a document that is not JSON or a path not starting at "$". */
static int xf_json_path(const xform_val *doc, const xform_val *pathv, xform_ctx *cx,
                        xf_matches *m)
{
    const char *path;
    uint32_t pl;
    xf_as_string(pathv, cx, &path, &pl);
    char *pz = xf_alloc(cx, pl + 1);
    memcpy(pz, path, pl);
    pz[pl] = '\0';
    if (*pz != '$') return -1;
    const char *p = xf_ws(doc->s, doc->s + doc->len);
    const char *end = xf_skip_value(p, doc->s + doc->len, 0);
    if (!end) return -1;
    return xf_json_walk(p, end, pz + 1, m, 0);
}

/* ---- functions ---------------------------------------------------------------------------- */

typedef int (*xf_impl)(const xform_val *a, uint32_t n, xform_ctx *cx, xform_val *out, intptr_t arg,
                       char *err, size_t errlen);

typedef struct xf_fn {
    const char *name; /* canonical: lower case, no underscores */
    uint8_t min, max; /* arguments */
    bool nullable;    /* called with NULL arguments (else a NULL argument gives NULL) */
    xf_impl impl;
    intptr_t arg;    /* a unit or a variant */
    int pattern_arg; /* >= 0: that literal argument is a date-time pattern (checked at load) */
} xf_fn;

#define XF_ARGS                                                                                    \
    const xform_val *a, uint32_t n, xform_ctx *cx, xform_val *out, intptr_t arg, char *err,        \
        size_t errlen
#define XF_UNUSED (void)a, (void)n, (void)cx, (void)out, (void)arg, (void)err, (void)errlen

static int f_from_epoch(XF_ARGS)
{
    XF_UNUSED;
    int64_t x = 0, b = 1;
    if (xf_as_long(&a[0], &x, err, errlen) || (n > 1 && xf_as_long(&a[1], &b, err, errlen)))
        return -1;
    *out = xf_long(x * b * arg);
    return 0;
}

static int f_to_epoch(XF_ARGS) /* arg: unit ms; n == 2: rounded (variant 0) or bucket (1) */
{
    XF_UNUSED;
    int64_t ms = 0, r = 1;
    if (xf_as_long(&a[0], &ms, err, errlen) || (n > 1 && xf_as_long(&a[1], &r, err, errlen)))
        return -1;
    int64_t unit = arg & 0xffffffffffLL, bucket = arg >> 40;
    if (r == 0) return xf_fail(err, errlen, "division by zero");
    int64_t v = ms / unit; /* Java's TimeUnit conversion truncates */
    *out = xf_long(n == 1 ? v : bucket ? v / r : v / r * r);
    return 0;
}

static int f_round(XF_ARGS)
{
    XF_UNUSED;
    int64_t v = 0, r = 0;
    if (xf_as_long(&a[0], &v, err, errlen) || xf_as_long(&a[1], &r, err, errlen)) return -1;
    if (r == 0) return xf_fail(err, errlen, "division by zero");
    *out = xf_long(v / r * r);
    return 0;
}

static bool xf_utc_zone(const xform_val *z)
{
    static const char *const ok[] = {"UTC", "GMT", "Z", "Etc/UTC", "+00:00", "UTC+00:00"};
    for (size_t k = 0; k < sizeof ok / sizeof ok[0]; k++)
        if (z->kind == XFORM_STRING && z->len == strlen(ok[k]) && !memcmp(z->s, ok[k], z->len))
            return true;
    return false;
}

static int f_from_datetime(XF_ARGS)
{
    XF_UNUSED;
    const char *s, *pat;
    uint32_t sl, pl;
    xf_as_string(&a[0], cx, &s, &sl);
    xf_as_string(&a[1], cx, &pat, &pl);
    if (n > 2 && !xf_utc_zone(&a[2]))
        return xf_fail(err, errlen, "time zones other than UTC are not supported");
    char *pz = xf_alloc(cx, pl + 1);
    memcpy(pz, pat, pl);
    pz[pl] = '\0';
    int64_t ms = 0;
    if (xform_parse_time(pz, s, sl, &ms, err, errlen)) return -1;
    *out = xf_long(ms);
    return 0;
}

static int f_to_datetime(XF_ARGS)
{
    XF_UNUSED;
    int64_t ms = 0;
    const char *pat;
    uint32_t pl;
    if (xf_as_long(&a[0], &ms, err, errlen)) return -1;
    xf_as_string(&a[1], cx, &pat, &pl);
    if (n > 2 && !xf_utc_zone(&a[2]))
        return xf_fail(err, errlen, "time zones other than UTC are not supported");
    char *pz = xf_alloc(cx, pl + 1);
    memcpy(pz, pat, pl);
    pz[pl] = '\0';
    char buf[256];
    size_t len = xform_format_time(pz, ms, buf, sizeof buf);
    char *o = xf_alloc(cx, len);
    memcpy(o, buf, len);
    *out = xf_str(o, (uint32_t)len);
    return 0;
}

static int f_date_trunc(XF_ARGS)
{
    XF_UNUSED;
    const char *u;
    uint32_t ul;
    int64_t ms = 0;
    xf_as_string(&a[0], cx, &u, &ul);
    if (xf_as_long(&a[1], &ms, err, errlen)) return -1;
    static const struct {
        const char *name;
        int64_t ms;
    } fixed[] = {{"millisecond", 1},
                 {"second", 1000},
                 {"minute", 60000},
                 {"hour", 3600000},
                 {"day", 86400000}};
    for (size_t k = 0; k < sizeof fixed / sizeof fixed[0]; k++)
        if (ul == strlen(fixed[k].name) && !strncasecmp(u, fixed[k].name, ul)) {
            *out = xf_long(xf_floor_div(ms, fixed[k].ms) * fixed[k].ms);
            return 0;
        }
    xf_tm tm;
    xf_breakdown(ms, &tm);
    int64_t days = xf_floor_div(ms, 86400000);
    if (ul == 4 && !strncasecmp(u, "week", 4))
        days -= tm.wday - 1; /* ISO weeks: Monday */
    else if (ul == 5 && !strncasecmp(u, "month", 5))
        days = xf_days_from_civil(tm.year, tm.month, 1);
    else if (ul == 7 && !strncasecmp(u, "quarter", 7))
        days = xf_days_from_civil(tm.year, (tm.month - 1) / 3 * 3 + 1, 1);
    else if (ul == 4 && !strncasecmp(u, "year", 4))
        days = xf_days_from_civil(tm.year, 1, 1);
    else
        return xf_fail(err, errlen, "dateTrunc unit \"%.*s\" unknown", (int)ul, u);
    *out = xf_long(days * 86400000);
    return 0;
}

static int f_field(XF_ARGS) /* year, month, ... of a time in ms */
{
    XF_UNUSED;
    int64_t ms = 0;
    if (xf_as_long(&a[0], &ms, err, errlen)) return -1;
    xf_tm tm;
    xf_breakdown(ms, &tm);
    int64_t days = xf_floor_div(ms, 86400000);
    int64_t v;
    switch (arg) {
    case 0:
        v = tm.year;
        break;
    case 1:
        v = tm.month;
        break;
    case 2:
        v = tm.day;
        break;
    case 3:
        v = tm.hour;
        break;
    case 4:
        v = tm.minute;
        break;
    case 5:
        v = tm.second;
        break;
    case 6:
        v = tm.milli;
        break;
    case 7:
        v = tm.wday;
        break;
    case 8:
        v = days - xf_days_from_civil(tm.year, 1, 1) + 1;
        break;
    default:
        v = (tm.month - 1) / 3 + 1;
        break;
    }
    *out = xf_long(v);
    return 0;
}

static int f_case(XF_ARGS) /* arg 0 lower, 1 upper: ASCII letters (docs/transforms.md) */
{
    XF_UNUSED;
    const char *s;
    uint32_t l;
    xf_as_string(&a[0], cx, &s, &l);
    char *o = xf_alloc(cx, l);
    for (uint32_t k = 0; k < l; k++)
        o[k] = (char)(arg ? toupper((unsigned char)s[k]) : tolower((unsigned char)s[k]));
    *out = xf_str(o, l);
    return 0;
}

static int f_trim(XF_ARGS) /* arg 0 both ends, whitespace and controls (Java trim); 1 left,
                            * 2 right, spaces only (Pinot's ltrim/rtrim) */
{
    XF_UNUSED;
    const char *s;
    uint32_t l;
    xf_as_string(&a[0], cx, &s, &l);
    uint32_t b = 0, e = l;
    if (arg != 2)
        while (b < e && (arg == 0 ? (unsigned char)s[b] <= ' ' : s[b] == ' '))
            b++;
    if (arg != 1)
        while (e > b && (arg == 0 ? (unsigned char)s[e - 1] <= ' ' : s[e - 1] == ' '))
            e--;
    *out = xf_str(s + b, e - b);
    return 0;
}

/* UTF-16 code units of the UTF-8 character starting with byte c */
static uint32_t xf_u16(unsigned char c)
{
    return c >= 0xF0 ? 2 : 1;
}
static uint32_t xf_u8len(unsigned char c)
{
    return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}
static int64_t xf_units(const char *s, uint32_t l)
{
    int64_t u = 0;
    for (uint32_t k = 0; k < l; k += xf_u8len((unsigned char)s[k]))
        u += xf_u16((unsigned char)s[k]);
    return u;
}
/* The byte offset of UTF-16 unit index idx (clamped; never inside a character). */
static uint32_t xf_byte_at(const char *s, uint32_t l, int64_t idx)
{
    uint32_t k = 0;
    int64_t u = 0;
    while (k < l && u < idx) {
        u += xf_u16((unsigned char)s[k]);
        k += xf_u8len((unsigned char)s[k]);
    }
    return k > l ? l : k;
}

static int f_length(XF_ARGS)
{
    XF_UNUSED;
    const char *s;
    uint32_t l;
    xf_as_string(&a[0], cx, &s, &l);
    *out = xf_long(xf_units(s, l));
    return 0;
}

static int f_substr(XF_ARGS) /* arg 0: substr (0-based, end; -1 = to the end, negative from
                              * the end); 1: substring (1-based, length) */
{
    XF_UNUSED;
    const char *s;
    uint32_t l;
    int64_t b = 0, e;
    xf_as_string(&a[0], cx, &s, &l);
    int64_t total = xf_units(s, l);
    if (xf_as_long(&a[1], &b, err, errlen)) return -1;
    if (arg == 1) b -= 1;
    e = total;
    if (n > 2) {
        int64_t x = 0;
        if (xf_as_long(&a[2], &x, err, errlen)) return -1;
        if (arg == 1)
            e = b + x;
        else if (x != -1)
            e = x;
    }
    /* StringUtils.substring: negative indexes count from the end, then clamp */
    if (b < 0) b += total;
    if (e < 0) e += total;
    if (b < 0) b = 0;
    if (e > total) e = total;
    if (b > e) b = e;
    uint32_t bs = xf_byte_at(s, l, b), es = xf_byte_at(s, l, e);
    *out = xf_str(s + bs, es - bs);
    return 0;
}

static int f_concat(XF_ARGS)
{
    XF_UNUSED;
    const char *x, *y;
    uint32_t xl, yl;
    xf_as_string(&a[0], cx, &x, &xl);
    xf_as_string(&a[1], cx, &y, &yl);
    char *o = xf_alloc(cx, (size_t)xl + yl);
    memcpy(o, x, xl);
    memcpy(o + xl, y, yl);
    *out = xf_str(o, xl + yl);
    return 0;
}

static int f_replace(XF_ARGS)
{
    XF_UNUSED;
    const char *s, *f, *r;
    uint32_t sl, fl, rl;
    xf_as_string(&a[0], cx, &s, &sl);
    xf_as_string(&a[1], cx, &f, &fl);
    xf_as_string(&a[2], cx, &r, &rl);
    if (fl == 0) {
        *out = xf_str(s, sl);
        return 0;
    }
    size_t count = 0;
    for (uint32_t k = 0; k + fl <= sl;)
        if (!memcmp(s + k, f, fl))
            count++, k += fl;
        else
            k++;
    char *o = xf_alloc(cx, sl + count * rl);
    size_t m = 0;
    for (uint32_t k = 0; k < sl;) {
        if (k + fl <= sl && !memcmp(s + k, f, fl)) {
            memcpy(o + m, r, rl);
            m += rl;
            k += fl;
        } else {
            o[m++] = s[k++];
        }
    }
    *out = xf_str(o, (uint32_t)m);
    return 0;
}

static int f_reverse(XF_ARGS) /* by character, as Java's StringBuilder.reverse */
{
    XF_UNUSED;
    const char *s;
    uint32_t l;
    xf_as_string(&a[0], cx, &s, &l);
    char *o = xf_alloc(cx, l);
    for (uint32_t k = 0; k < l;) {
        uint32_t c = xf_u8len((unsigned char)s[k]);
        if (k + c > l) c = l - k;
        memcpy(o + l - k - c, s + k, c);
        k += c;
    }
    *out = xf_str(o, l);
    return 0;
}

static int f_match(XF_ARGS) /* arg 0 startsWith, 1 endsWith, 2 contains */
{
    XF_UNUSED;
    const char *s, *t;
    uint32_t sl, tl;
    xf_as_string(&a[0], cx, &s, &sl);
    xf_as_string(&a[1], cx, &t, &tl);
    bool r = false;
    if (tl <= sl) {
        if (arg == 0)
            r = !memcmp(s, t, tl);
        else if (arg == 1)
            r = !memcmp(s + sl - tl, t, tl);
        else
            for (uint32_t k = 0; k + tl <= sl && !r; k++)
                r = !memcmp(s + k, t, tl);
    }
    *out = (xform_val){.kind = XFORM_BOOL, .i = r};
    return 0;
}

/* Jackson's text of a value (JsonUtils.objectToString). */
static int f_json_format(XF_ARGS)
{
    XF_UNUSED;
    if (a[0].kind == XFORM_JSON) {
        const char *e = xf_skip_value(a[0].s, a[0].s + a[0].len, 0);
        if (!e) return xf_fail(err, errlen, "not JSON");
        *out = xf_compact(a[0].s, a[0].s + a[0].len, cx);
        out->kind = XFORM_STRING;
        return 0;
    }
    if (a[0].kind != XFORM_STRING) {
        xf_as_string(&a[0], cx, &out->s, &out->len);
        out->kind = XFORM_STRING;
        return 0;
    }
    jsonw w;
    jsonw_init(&w);
    jsonw_str(&w, a[0].s, a[0].len);
    char *o = xf_alloc(cx, w.len);
    memcpy(o, w.buf, w.len);
    *out = xf_str(o, (uint32_t)w.len);
    jsonw_free(&w);
    return 0;
}

/* jsonStringToListOrMap(s): a string holding a JSON array or object (after Java's trim) as
 * that JSON value, anything else NULL (Pinot's JsonFunctions); a JSON value stays as it is. */
static int f_json_list_or_map(XF_ARGS)
{
    XF_UNUSED;
    if (a[0].kind == XFORM_JSON) {
        *out = a[0];
        return 0;
    }
    *out = (xform_val){.kind = XFORM_NULL};
    if (a[0].kind != XFORM_STRING) return 0;
    const char *p = a[0].s, *e = a[0].s + a[0].len;
    while (p < e && (unsigned char)*p <= ' ')
        p++;
    while (e > p && (unsigned char)e[-1] <= ' ')
        e--;
    if (p == e || (*p != '[' && *p != '{')) return 0;
    const char *end = xf_skip_value(p, e, 0);
    if (!end || end != e) return 0; /* not one JSON document: Pinot's parse fails, null */
    *out = xf_compact(p, e, cx);
    out->kind = XFORM_JSON;
    return 0;
}

/* The JSON value [vs, ve) as a value: a string unescaped, null, a boolean, an object or array
 * as its compact text (JSON), a number as a long when it is one, else a double. 0, or -1 with
 * the reason. */
static int xf_json_value(const char *vs, const char *ve, xform_ctx *cx, xform_val *v, char *err,
                         size_t errlen)
{
    size_t vl = (size_t)(ve - vs);
    if (*vs == '"') {
        if (xf_unescape(vs, ve, cx, v)) return xf_fail(err, errlen, "bad string");
    } else if (vl == 4 && !memcmp(vs, "null", 4)) {
        *v = (xform_val){.kind = XFORM_NULL};
    } else if (vl == 4 && !memcmp(vs, "true", 4)) {
        *v = (xform_val){.kind = XFORM_BOOL, .i = 1};
    } else if (vl == 5 && !memcmp(vs, "false", 5)) {
        *v = (xform_val){.kind = XFORM_BOOL, .i = 0};
    } else if (*vs == '{' || *vs == '[') {
        *v = xf_compact(vs, ve, cx);
    } else {
        int64_t x = 0;
        double dd = 0;
        if (xf_parse_long(vs, vl, &x))
            *v = xf_long(x);
        else if (xf_parse_double(vs, vl, &dd))
            *v = xf_double(dd);
        else
            return xf_fail(err, errlen, "bad number");
    }
    return 0;
}

/* jsonPathString/Long/Double (arg 0/1/2); with 3 arguments the third is the default for a
 * NULL document, a path that leads nowhere, or a value that does not convert. */
static int f_json_path(XF_ARGS)
{
    XF_UNUSED;
    bool dflt = n > 2;
    xform_val d = dflt ? a[2] : (xform_val){.kind = XFORM_NULL};
    if (!dflt && arg == 1) d = xf_long(INT64_MIN);
    if (!dflt && arg == 2) d = xf_double(NAN);
    if (arg == 1 && dflt) {
        int64_t x = 0;
        if (xf_as_long(&a[2], &x, err, errlen)) return -1;
        d = xf_long(x);
    } else if (arg == 2 && dflt) {
        double x = 0;
        if (xf_as_double(&a[2], &x, err, errlen)) return -1;
        d = xf_double(x);
    }
    *out = d;
    if (a[0].kind != XFORM_JSON && a[0].kind != XFORM_STRING) return 0;
    const char *vs = NULL, *ve = NULL;
    xf_matches m = {0};
    int r = xf_json_path(&a[0], &a[1], cx, &m);
    if (r == 0 && m.n == 1 && !m.wild) {
        vs = m.v[0];
        ve = m.v[1];
    } else if (r == 0 && m.wild) { /* a list: its JSON text */
        size_t tl = 2;
        for (size_t k = 0; k < m.n; k++)
            tl += (size_t)(m.v[2 * k + 1] - m.v[2 * k]) + 1;
        char *t = xf_alloc(cx, tl), *q = t;
        *q++ = '[';
        for (size_t k = 0; k < m.n; k++) {
            if (k) *q++ = ',';
            memcpy(q, m.v[2 * k], (size_t)(m.v[2 * k + 1] - m.v[2 * k]));
            q += m.v[2 * k + 1] - m.v[2 * k];
        }
        *q++ = ']';
        vs = t;
        ve = q;
    }
    free(m.v);
    if (r < 0) {
        if (dflt) return 0;
        return xf_fail(err, errlen, "jsonPath: the document is not JSON");
    }
    if (!vs) return 0; /* leads nowhere */
    xform_val v;
    if (xf_json_value(vs, ve, cx, &v, err, errlen)) return dflt ? 0 : -1;
    if (v.kind == XFORM_NULL) return 0;
    if (arg == 0 && (v.kind == XFORM_LONG || v.kind == XFORM_DOUBLE))
        v = xf_str(vs, (uint32_t)(ve - vs)); /* the number as written */
    char e2[64];
    if (arg == 0) {
        if (v.kind == XFORM_JSON) v.kind = XFORM_STRING;
        xf_as_string(&v, cx, &out->s, &out->len);
        out->kind = XFORM_STRING;
    } else if (arg == 1) {
        int64_t x = 0;
        if (v.kind == XFORM_DOUBLE)
            x = xf_d2l(v.d);
        else if (v.kind == XFORM_STRING ? !xf_parse_long(v.s, v.len, &x)
                                        : xf_as_long(&v, &x, e2, sizeof e2))
            return dflt ? 0 : xf_fail(err, errlen, "jsonPathLong: not a long");
        *out = xf_long(x);
    } else {
        double x = 0;
        if (xf_as_double(&v, &x, e2, sizeof e2))
            return dflt ? 0 : xf_fail(err, errlen, "jsonPathDouble: not a number");
        *out = xf_double(x);
    }
    return 0;
}

/* jsonPathArray(doc, path): the values the path reaches as an array (Pinot's
 * convertObjectToArray: a list's elements, a lone value as one element); NULL when a path
 * without a wildcard leads nowhere; an empty array when a wildcard matches nothing. */
static int f_json_path_array(XF_ARGS)
{
    XF_UNUSED;
    *out = (xform_val){.kind = XFORM_NULL};
    if (a[0].kind != XFORM_JSON && a[0].kind != XFORM_STRING) return 0;
    xf_matches m = {0};
    if (xf_json_path(&a[0], &a[1], cx, &m)) {
        free(m.v);
        return xf_fail(err, errlen, "jsonPath: the document is not JSON");
    }
    /* a path without a wildcard that reaches one array: its elements */
    const char *ls = NULL, *le = NULL;
    if (!m.wild && m.n == 1 && *m.v[0] == '[') {
        ls = m.v[0];
        le = m.v[1];
        m.n = 0;
        const char *q = xf_ws(ls + 1, le);
        while (q < le && *q != ']') {
            const char *e2 = xf_skip_value(q, le, 0);
            xf_match_add(&m, q, e2);
            q = xf_ws(e2, le);
            if (q < le && *q == ',') q = xf_ws(q + 1, le);
        }
    } else if (!m.wild && m.n == 0) {
        free(m.v);
        return 0;
    }
    xform_val *el = xf_alloc_vals(cx, m.n ? m.n : 1);
    for (size_t k = 0; k < m.n; k++)
        if (xf_json_value(m.v[2 * k], m.v[2 * k + 1], cx, &el[k], err, errlen)) {
            free(m.v);
            return -1;
        }
    *out = (xform_val){.kind = XFORM_ARRAY, .elems = el, .len = (uint32_t)m.n};
    free(m.v);
    return 0;
}

/* Java's Character.isWhitespace of the UTF-8 character at s[0..n) (its length in *cl). */
static bool xf_java_space(const char *s, uint32_t n, uint32_t *cl)
{
    unsigned char c = (unsigned char)s[0];
    *cl = xf_u8len(c);
    if (*cl > n) *cl = n;
    if (c < 0x80) return (c >= 9 && c <= 13) || (c >= 28 && c <= 32);
    uint32_t u = 0;
    if (*cl == 2) u = (uint32_t)(c & 0x1F) << 6 | ((unsigned char)s[1] & 0x3F);
    if (*cl == 3)
        u = (uint32_t)(c & 0x0F) << 12 | ((uint32_t)((unsigned char)s[1] & 0x3F) << 6) |
            ((unsigned char)s[2] & 0x3F);
    /* the space separators but the no-break ones, and the line and paragraph separators */
    return u == 0x1680 || (u >= 0x2000 && u <= 0x2006) || (u >= 0x2008 && u <= 0x200A) ||
           u == 0x2028 || u == 0x2029 || u == 0x205F || u == 0x3000;
}

/* split(input, delimiter[, limit]) (also stringToArray): Apache Commons'
 * StringUtils.splitByWholeSeparator, as Pinot calls it: empty tokens between delimiters are
 * dropped, but a delimiter at the very end leaves one empty last token; an empty delimiter
 * splits on runs of whitespace; with limit > 0 the limit-th token is the rest of the input. */
static int f_split(XF_ARGS)
{
    XF_UNUSED;
    const char *s, *d;
    uint32_t sl, dl;
    int64_t lim = 0;
    xf_as_string(&a[0], cx, &s, &sl);
    xf_as_string(&a[1], cx, &d, &dl);
    if (n > 2 && xf_as_long(&a[2], &lim, err, errlen)) return -1;
    /* room for every token: one more than the delimiters, or than half the input for
     * whitespace (a token and a separator each take a byte at least) */
    size_t most = (size_t)sl / 2 + 1;
    if (dl) {
        most = 1;
        for (const char *h = s; (h = memmem(h, (size_t)(s + sl - h), d, dl)); h += dl)
            most++;
    }
    xform_val *el = xf_alloc_vals(cx, most);
    uint32_t k = 0;
    if (dl == 0) { /* tokens of non-whitespace */
        uint32_t i = 0;
        while (i < sl) {
            uint32_t cl;
            while (i < sl && xf_java_space(s + i, sl - i, &cl))
                i += cl;
            if (i >= sl) break;
            uint32_t st = i;
            if (lim > 0 && k + 1 == (uint64_t)lim) {
                el[k++] = xf_str(s + st, sl - st);
                break;
            }
            while (i < sl && !xf_java_space(s + i, sl - i, &cl))
                i += cl;
            el[k++] = xf_str(s + st, i - st);
        }
    } else {
        uint32_t beg = 0, end = 0;
        int64_t count = 0;
        while (sl > 0 && end < sl) {
            const char *hit = memmem(s + beg, sl - beg, d, dl);
            if (!hit) {
                el[k++] = xf_str(s + beg, sl - beg);
                break;
            }
            end = (uint32_t)(hit - s);
            if (end > beg) {
                if (++count == lim) {
                    el[k++] = xf_str(s + beg, sl - beg);
                    break;
                }
                el[k++] = xf_str(s + beg, end - beg);
            }
            beg = end + dl;
        }
    }
    *out = (xform_val){.kind = XFORM_ARRAY, .elems = el, .len = k};
    return 0;
}

static int f_arith(XF_ARGS) /* arg: + - * / % abs ceil floor sqrt */
{
    XF_UNUSED;
    double x = 0, y = 0;
    if (xf_as_double(&a[0], &x, err, errlen) || (n > 1 && xf_as_double(&a[1], &y, err, errlen)))
        return -1;
    double r;
    switch (arg) {
    case '+':
        r = x + y;
        break;
    case '-':
        r = x - y;
        break;
    case '*':
        r = x * y;
        break;
    case '/':
        r = x / y;
        break; /* Java doubles: division by zero is infinity or NaN */
    case '%':
        r = fmod(x, y);
        break;
    case 'a':
        r = fabs(x);
        break;
    case 'c':
        r = ceil(x);
        break;
    case 'f':
        r = floor(x);
        break;
    default:
        r = sqrt(x);
        break;
    }
    *out = xf_double(r);
    return 0;
}

/* ---- comparison and logic (Pinot's filter functions; the SQL operators map to them) -------- */

static bool xf_is_number(const xform_val *v)
{
    return v->kind == XFORM_LONG || v->kind == XFORM_DOUBLE || v->kind == XFORM_BOOL;
}

/* a <=> b into *c (-1, 0, 1; 2 when a NaN makes them unordered). Two numbers compare as
 * numbers (exactly as longs when both are), a number and a numeric string too; two strings
 * (or JSON texts, or bytes) compare bytewise. A number and a non-numeric string fail. */
static int xf_compare(const xform_val *a, const xform_val *b, int *c, char *err, size_t errlen)
{
    if (a->kind == XFORM_LONG && b->kind == XFORM_LONG) {
        *c = (a->i > b->i) - (a->i < b->i);
        return 0;
    }
    if (xf_is_number(a) || xf_is_number(b)) {
        double x = 0, y = 0;
        if (xf_as_double(a, &x, err, errlen) || xf_as_double(b, &y, err, errlen)) return -1;
        *c = x < y ? -1 : x > y ? 1 : x == y ? 0 : 2;
        return 0;
    }
    uint32_t n = a->len < b->len ? a->len : b->len;
    int m = n ? memcmp(a->s, b->s, n) : 0;
    *c = m ? (m > 0) - (m < 0) : (a->len > b->len) - (a->len < b->len);
    return 0;
}

static int f_cmp(XF_ARGS) /* arg: '=' '!' '<' 'l' (<=) '>' 'g' (>=) */
{
    XF_UNUSED;
    int c;
    if (xf_compare(&a[0], &a[1], &c, err, errlen)) return -1;
    bool r = arg == '='   ? c == 0
             : arg == '!' ? c != 0
             : arg == '<' ? c == -1
             : arg == 'l' ? c == -1 || c == 0
             : arg == '>' ? c == 1
                          : c == 1 || c == 0;
    *out = (xform_val){.kind = XFORM_BOOL, .i = r};
    return 0;
}

static int xf_as_bool(const xform_val *v, bool *b, char *err, size_t errlen)
{
    if (v->kind == XFORM_BOOL || v->kind == XFORM_LONG) {
        *b = v->i != 0;
        return 0;
    }
    if (v->kind == XFORM_STRING && (v->len == 4 || v->len == 5) &&
        (!strncasecmp(v->s, "true", v->len) || !strncasecmp(v->s, "false", v->len))) {
        *b = v->len == 4;
        return 0;
    }
    return xf_fail(err, errlen, "a %s is not a boolean", xf_kind_name(v->kind));
}

static int f_logic(XF_ARGS) /* arg: '&' and, '|' or, '!' not */
{
    XF_UNUSED;
    bool r = arg == '&';
    for (uint32_t k = 0; k < n; k++) {
        bool b = false;
        if (xf_as_bool(&a[k], &b, err, errlen)) return -1;
        r = arg == '&' ? r && b : arg == '|' ? r || b : !b;
    }
    *out = (xform_val){.kind = XFORM_BOOL, .i = r};
    return 0;
}

static int f_is_null(XF_ARGS) /* arg 1: isNull, 0: isNotNull */
{
    XF_UNUSED;
    *out = (xform_val){.kind = XFORM_BOOL, .i = (a[0].kind == XFORM_NULL) == (arg == 1)};
    return 0;
}

static int f_in(XF_ARGS) /* in(x, v1, ...): x equals one of the values */
{
    XF_UNUSED;
    for (uint32_t k = 1; k < n; k++) {
        int c;
        if (xf_compare(&a[0], &a[k], &c, err, errlen)) return -1;
        if (c == 0) {
            *out = (xform_val){.kind = XFORM_BOOL, .i = 1};
            return 0;
        }
    }
    *out = (xform_val){.kind = XFORM_BOOL, .i = 0};
    return 0;
}

#define XF_S 1000LL
#define XF_MI 60000LL
#define XF_H 3600000LL
#define XF_D 86400000LL
#define XF_BUCKET (1LL << 40)

/* ---- geospatial (Pinot's StFunctions over its GeometrySerializer format) -------------------
 * A point is 17 bytes: a type byte (0 = POINT, with 0x80 set for a geography, SRID 4326), then
 * x and y as big-endian IEEE doubles (Kryo's Output); an empty point has NaN coordinates.
 * Only points are made here (stPoint); toSphericalGeography and toGeometry flip the geography
 * bit of any serialized geometry, which is all Pinot's re-serialization changes. */

#define XF_GEO_POINT 0
#define XF_GEO_GEOGRAPHY 0x80u
#define XF_GEO_TYPES 7 /* POINT .. GEOMETRY_COLLECTION */

static void xf_put_be_double(unsigned char *p, double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(u >> (56 - 8 * i));
}

static int f_st_point(XF_ARGS) /* stPoint(x, y[, isGeography]) */
{
    XF_UNUSED;
    double x = 0, y = 0;
    if (xf_as_double(&a[0], &x, err, errlen) || xf_as_double(&a[1], &y, err, errlen)) return -1;
    bool geog = false;
    if (n > 2) {
        if (a[2].kind == XFORM_BOOL || a[2].kind == XFORM_LONG) {
            geog = a[2].i != 0;
        } else if (a[2].kind == XFORM_STRING) {
            geog = a[2].len == 4 && strncasecmp(a[2].s, "true", 4) == 0;
        } else {
            return xf_fail(err, errlen, "stPoint: isGeography must be a boolean");
        }
    }
    unsigned char *p = (unsigned char *)xf_alloc(cx, 17);
    p[0] = (unsigned char)(XF_GEO_POINT | (geog ? XF_GEO_GEOGRAPHY : 0));
    xf_put_be_double(p + 1, x);
    xf_put_be_double(p + 9, y);
    *out = (xform_val){.kind = XFORM_BYTES, .s = (const char *)p, .len = 17};
    return 0;
}

static int f_geography(XF_ARGS) /* arg 1: toSphericalGeography, 0: toGeometry */
{
    XF_UNUSED;
    const xform_val *g = &a[0];
    if (g->kind != XFORM_BYTES || g->len < 1 || ((unsigned char)g->s[0] & 0x7f) >= XF_GEO_TYPES)
        return xf_fail(err, errlen, "%s: not a serialized geometry",
                       arg ? "toSphericalGeography" : "toGeometry");
    unsigned char *p = (unsigned char *)xf_alloc(cx, g->len);
    memcpy(p, g->s, g->len);
    p[0] = (unsigned char)((p[0] & 0x7f) | (arg ? XF_GEO_GEOGRAPHY : 0));
    *out = (xform_val){.kind = XFORM_BYTES, .s = (const char *)p, .len = g->len};
    return 0;
}

static const xf_fn xf_fns[] = {
    {"fromepochseconds", 1, 1, false, f_from_epoch, XF_S, -1},
    {"fromepochminutes", 1, 1, false, f_from_epoch, XF_MI, -1},
    {"fromepochhours", 1, 1, false, f_from_epoch, XF_H, -1},
    {"fromepochdays", 1, 1, false, f_from_epoch, XF_D, -1},
    {"fromepochsecondsbucket", 2, 2, false, f_from_epoch, XF_S, -1},
    {"fromepochminutesbucket", 2, 2, false, f_from_epoch, XF_MI, -1},
    {"fromepochhoursbucket", 2, 2, false, f_from_epoch, XF_H, -1},
    {"fromepochdaysbucket", 2, 2, false, f_from_epoch, XF_D, -1},
    {"toepochseconds", 1, 1, false, f_to_epoch, XF_S, -1},
    {"toepochminutes", 1, 1, false, f_to_epoch, XF_MI, -1},
    {"toepochhours", 1, 1, false, f_to_epoch, XF_H, -1},
    {"toepochdays", 1, 1, false, f_to_epoch, XF_D, -1},
    {"toepochsecondsrounded", 2, 2, false, f_to_epoch, XF_S, -1},
    {"toepochminutesrounded", 2, 2, false, f_to_epoch, XF_MI, -1},
    {"toepochhoursrounded", 2, 2, false, f_to_epoch, XF_H, -1},
    {"toepochdaysrounded", 2, 2, false, f_to_epoch, XF_D, -1},
    {"toepochsecondsbucket", 2, 2, false, f_to_epoch, XF_S | XF_BUCKET, -1},
    {"toepochminutesbucket", 2, 2, false, f_to_epoch, XF_MI | XF_BUCKET, -1},
    {"toepochhoursbucket", 2, 2, false, f_to_epoch, XF_H | XF_BUCKET, -1},
    {"toepochdaysbucket", 2, 2, false, f_to_epoch, XF_D | XF_BUCKET, -1},
    {"fromdatetime", 2, 3, false, f_from_datetime, 0, 1},
    {"todatetime", 2, 3, false, f_to_datetime, 0, 1},
    {"datetrunc", 2, 2, false, f_date_trunc, 0, -1},
    {"round", 2, 2, false, f_round, 0, -1},
    {"year", 1, 1, false, f_field, 0, -1},
    {"month", 1, 1, false, f_field, 1, -1},
    {"dayofmonth", 1, 1, false, f_field, 2, -1},
    {"day", 1, 1, false, f_field, 2, -1},
    {"hour", 1, 1, false, f_field, 3, -1},
    {"minute", 1, 1, false, f_field, 4, -1},
    {"second", 1, 1, false, f_field, 5, -1},
    {"millisecond", 1, 1, false, f_field, 6, -1},
    {"dayofweek", 1, 1, false, f_field, 7, -1},
    {"dow", 1, 1, false, f_field, 7, -1},
    {"dayofyear", 1, 1, false, f_field, 8, -1},
    {"doy", 1, 1, false, f_field, 8, -1},
    {"quarter", 1, 1, false, f_field, 9, -1},
    {"lower", 1, 1, false, f_case, 0, -1},
    {"upper", 1, 1, false, f_case, 1, -1},
    {"trim", 1, 1, false, f_trim, 0, -1},
    {"ltrim", 1, 1, false, f_trim, 1, -1},
    {"rtrim", 1, 1, false, f_trim, 2, -1},
    {"length", 1, 1, false, f_length, 0, -1},
    {"substr", 2, 3, false, f_substr, 0, -1},
    {"substring", 2, 3, false, f_substr, 1, -1},
    {"concat", 2, 2, false, f_concat, 0, -1},
    {"replace", 3, 3, false, f_replace, 0, -1},
    {"reverse", 1, 1, false, f_reverse, 0, -1},
    {"startswith", 2, 2, false, f_match, 0, -1},
    {"endswith", 2, 2, false, f_match, 1, -1},
    {"contains", 2, 2, false, f_match, 2, -1},
    {"jsonformat", 1, 1, false, f_json_format, 0, -1},
    {"jsonstringtolistormap", 1, 1, false, f_json_list_or_map, 0, -1},
    {"jsonpathstring", 2, 3, true, f_json_path, 0, -1},
    {"jsonpathlong", 2, 3, true, f_json_path, 1, -1},
    {"jsonpathdouble", 2, 3, true, f_json_path, 2, -1},
    {"jsonpatharray", 2, 2, false, f_json_path_array, 0, -1},
    {"split", 2, 3, false, f_split, 0, -1},
    {"stringtoarray", 2, 3, false, f_split, 0, -1},
    {"plus", 2, 2, false, f_arith, '+', -1},
    {"add", 2, 2, false, f_arith, '+', -1},
    {"minus", 2, 2, false, f_arith, '-', -1},
    {"sub", 2, 2, false, f_arith, '-', -1},
    {"times", 2, 2, false, f_arith, '*', -1},
    {"mult", 2, 2, false, f_arith, '*', -1},
    {"divide", 2, 2, false, f_arith, '/', -1},
    {"div", 2, 2, false, f_arith, '/', -1},
    {"mod", 2, 2, false, f_arith, '%', -1},
    {"abs", 1, 1, false, f_arith, 'a', -1},
    {"ceil", 1, 1, false, f_arith, 'c', -1},
    {"floor", 1, 1, false, f_arith, 'f', -1},
    {"sqrt", 1, 1, false, f_arith, 's', -1},
    {"stpoint", 2, 3, false, f_st_point, 0, -1},
    {"equals", 2, 2, false, f_cmp, '=', -1},
    {"notequals", 2, 2, false, f_cmp, '!', -1},
    {"lessthan", 2, 2, false, f_cmp, '<', -1},
    {"lessthanorequal", 2, 2, false, f_cmp, 'l', -1},
    {"greaterthan", 2, 2, false, f_cmp, '>', -1},
    {"greaterthanorequal", 2, 2, false, f_cmp, 'g', -1},
    {"and", 2, XF_MAX_ARGS, false, f_logic, '&', -1},
    {"or", 2, XF_MAX_ARGS, false, f_logic, '|', -1},
    {"not", 1, 1, false, f_logic, '!', -1},
    {"isnull", 1, 1, true, f_is_null, 1, -1},
    {"isnotnull", 1, 1, true, f_is_null, 0, -1},
    {"in", 2, XF_MAX_ARGS, false, f_in, 0, -1},
    {"tosphericalgeography", 1, 1, false, f_geography, 1, -1},
    {"togeometry", 1, 1, false, f_geography, 0, -1},
};

const char *xform_functions(void)
{
    return "fromEpochSeconds/Minutes/Hours/Days[Bucket], toEpochSeconds/Minutes/Hours/Days"
           "[Rounded|Bucket], fromDateTime, toDateTime, dateTrunc, round, year, month, "
           "dayOfMonth (day), hour, minute, second, millisecond, dayOfWeek (dow), dayOfYear "
           "(doy), quarter, lower, upper, trim, ltrim, rtrim, length, substr, substring, "
           "concat, replace, reverse, startsWith, endsWith, contains, jsonFormat, "
           "jsonStringToListOrMap, "
           "jsonPathString, jsonPathLong, jsonPathDouble, jsonPathArray, split (stringToArray), "
           "plus (add), minus (sub), times "
           "(mult), divide (div), mod, abs, ceil, floor, sqrt, stPoint, toSphericalGeography, "
           "toGeometry, equals, notEquals, lessThan[OrEqual], greaterThan[OrEqual], and, or, not, "
           "isNull, isNotNull, in; the operators = != <> < <= > >= + - * / % AND OR NOT IS [NOT] "
           "NULL [NOT] IN (...) [NOT] BETWEEN ... AND ...";
}

/* ---- the expression ------------------------------------------------------------------------ */

typedef enum xf_op { XF_LIT, XF_COL, XF_CALL } xf_op;

typedef struct xf_node {
    xf_op op;
    xform_val lit; /* XF_LIT: its string bytes in litbuf */
    char *litbuf;
    uint32_t col;    /* XF_COL: the input's index */
    const xf_fn *fn; /* XF_CALL */
    uint32_t nargs;
    struct xf_node *args[XF_MAX_ARGS];
} xf_node;

struct xform_expr {
    xf_node *root;
    char **inputs;
    uint32_t ninputs;
};

typedef struct xf_parser {
    const char *text, *p;
    xform_expr *e;
    char *err;
    size_t errlen;
    int depth;
} xf_parser;

static void xf_node_free(xf_node *n)
{
    if (!n) return;
    for (uint32_t k = 0; k < n->nargs; k++)
        xf_node_free(n->args[k]);
    free(n->litbuf);
    free(n);
}

void xform_free(xform_expr *e)
{
    if (!e) return;
    xf_node_free(e->root);
    for (uint32_t k = 0; k < e->ninputs; k++)
        free(e->inputs[k]);
    free(e->inputs);
    free(e);
}

uint32_t xform_ninputs(const xform_expr *e)
{
    return e->ninputs;
}

const char *xform_input(const xform_expr *e, uint32_t i)
{
    return i < e->ninputs ? e->inputs[i] : NULL;
}

static xf_node *xf_perr(xf_parser *x, const char *what)
{
    snprintf(x->err, x->errlen, "\"%s\": %s at offset %d", x->text, what, (int)(x->p - x->text));
    return NULL;
}

static uint32_t xf_input_index(xform_expr *e, const char *name, size_t n)
{
    for (uint32_t k = 0; k < e->ninputs; k++)
        if (strlen(e->inputs[k]) == n && !memcmp(e->inputs[k], name, n)) return k;
    e->inputs = sl_xrealloc(e->inputs, (e->ninputs + 1) * sizeof *e->inputs);
    e->inputs[e->ninputs] = sl_xmemdupz(name, n);
    return e->ninputs++;
}

static bool xf_ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '$' || c == '.';
}

static xf_node *xf_parse_expr(xf_parser *x);

/* Whether the word kw (upper case) is next, as a whole word in any case; skips it if so. */
static bool xf_keyword(xf_parser *x, const char *kw)
{
    while (isspace((unsigned char)*x->p))
        x->p++;
    size_t n = strlen(kw);
    if (strncasecmp(x->p, kw, n) != 0 || xf_ident_char(x->p[n])) return false;
    x->p += n;
    return true;
}

static bool xf_is_keyword(const char *s, size_t n)
{
    static const char *const kws[] = {"AND", "OR", "NOT", "IS", "IN", "BETWEEN", NULL};
    for (int k = 0; kws[k]; k++)
        if (strlen(kws[k]) == n && !strncasecmp(s, kws[k], n)) return true;
    return false;
}

static const xf_fn *xf_fn_named(const char *canon)
{
    for (size_t k = 0; k < sizeof xf_fns / sizeof xf_fns[0]; k++)
        if (!strcmp(canon, xf_fns[k].name)) return &xf_fns[k];
    return NULL;
}

/* The call fn(args[0..n)) for an operator; the arguments pass to it. */
static xf_node *xf_call(const char *fn, xf_node **args, uint32_t n)
{
    xf_node *nd = sl_xcalloc(1, sizeof *nd);
    nd->op = XF_CALL;
    nd->fn = xf_fn_named(fn);
    nd->nargs = n;
    memcpy(nd->args, args, n * sizeof *args);
    return nd;
}
static xf_node *xf_call2(const char *fn, xf_node *a, xf_node *b)
{
    xf_node *args[2] = {a, b};
    return xf_call(fn, args, 2);
}

static xf_node *xf_parse_primary(xf_parser *x)
{
    while (isspace((unsigned char)*x->p))
        x->p++;
    if (++x->depth > XF_MAX_DEPTH) return xf_perr(x, "nested too deeply");
    xf_node *nd = sl_xcalloc(1, sizeof *nd);
    const char *s = x->p;
    if (*s == '(') { /* a parenthesized expression */
        free(nd);
        x->p++;
        nd = xf_parse_expr(x);
        if (!nd) return NULL;
        while (isspace((unsigned char)*x->p))
            x->p++;
        if (*x->p != ')') {
            xf_node_free(nd);
            return xf_perr(x, "expected ')'");
        }
        x->p++;
        x->depth--;
        return nd;
    }
    if (isdigit((unsigned char)*s) || ((*s == '-' || *s == '+') && isdigit((unsigned char)s[1]))) {
        const char *q = s + 1;
        while (isdigit((unsigned char)*q) || *q == '.' || *q == 'e' || *q == 'E' ||
               ((*q == '-' || *q == '+') && (q[-1] == 'e' || q[-1] == 'E')))
            q++;
        nd->op = XF_LIT;
        int64_t v;
        double d = 0;
        if (xf_parse_long(s, (size_t)(q - s), &v))
            nd->lit = xf_long(v);
        else if (xf_parse_double(s, (size_t)(q - s), &d))
            nd->lit = xf_double(d);
        else {
            free(nd);
            return xf_perr(x, "a malformed number");
        }
        x->p = q;
    } else if (*s == '\'' || *s == '"') { /* 'string' or "column", the quote doubled inside */
        char q = *s;
        size_t cap = strlen(s), n = 0;
        char *buf = sl_xmalloc(cap + 1);
        const char *r = s + 1;
        for (;;) {
            if (!*r) {
                free(buf);
                free(nd);
                x->p = r;
                return xf_perr(x, "an unterminated quote");
            }
            if (*r == q && r[1] == q) {
                buf[n++] = q;
                r += 2;
            } else if (*r == q) {
                r++;
                break;
            } else {
                buf[n++] = *r++;
            }
        }
        buf[n] = '\0';
        x->p = r;
        if (q == '\'') {
            nd->op = XF_LIT;
            nd->litbuf = buf;
            nd->lit = xf_str(buf, (uint32_t)n);
        } else {
            nd->op = XF_COL;
            nd->col = xf_input_index(x->e, buf, n);
            free(buf);
        }
    } else if (xf_ident_char(*s)) {
        const char *q = s;
        while (xf_ident_char(*q))
            q++;
        size_t n = (size_t)(q - s);
        x->p = q;
        while (isspace((unsigned char)*x->p))
            x->p++;
        if (*x->p != '(' && xf_is_keyword(s, n)) {
            free(nd);
            x->p = s;
            return xf_perr(x, "an expression expected");
        } else if (*x->p != '(' && (n == 4 || n == 5) &&
                   (!strncasecmp(s, "true", n) || !strncasecmp(s, "false", n))) {
            nd->op = XF_LIT;
            nd->lit = (xform_val){.kind = XFORM_BOOL, .i = n == 4};
        } else if (*x->p != '(' && n == 4 && !strncasecmp(s, "null", 4)) {
            nd->op = XF_LIT;
            nd->lit = (xform_val){.kind = XFORM_NULL};
        } else if (*x->p != '(') {
            nd->op = XF_COL;
            nd->col = xf_input_index(x->e, s, n);
        } else {
            char canon[64];
            size_t cn = 0;
            for (size_t k = 0; k < n && cn + 1 < sizeof canon; k++)
                if (s[k] != '_') canon[cn++] = (char)tolower((unsigned char)s[k]);
            canon[cn] = '\0';
            if (!strcmp(canon, "groovy")) {
                free(nd);
                snprintf(x->err, x->errlen,
                         "\"%s\": Groovy functions are not supported (use Pinot's inbuilt "
                         "functions: %s)",
                         x->text, xform_functions());
                return NULL;
            }
            if (!strcmp(canon, "now") || !strcmp(canon, "ago")) {
                free(nd);
                snprintf(x->err, x->errlen,
                         "\"%s\": %.*s() reads the clock: replicas would store different rows",
                         x->text, (int)n, s);
                return NULL;
            }
            nd->fn = xf_fn_named(canon);
            if (!nd->fn) {
                free(nd);
                snprintf(x->err, x->errlen,
                         "\"%s\": function %.*s is not supported (supported: %s)", x->text, (int)n,
                         s, xform_functions());
                return NULL;
            }
            nd->op = XF_CALL;
            x->p++;
            while (isspace((unsigned char)*x->p))
                x->p++;
            if (*x->p != ')')
                for (;;) {
                    if (nd->nargs == XF_MAX_ARGS) {
                        xf_node_free(nd);
                        return xf_perr(x, "too many arguments");
                    }
                    xf_node *a = xf_parse_expr(x);
                    if (!a) {
                        xf_node_free(nd);
                        return NULL;
                    }
                    nd->args[nd->nargs++] = a;
                    while (isspace((unsigned char)*x->p))
                        x->p++;
                    if (*x->p == ',') {
                        x->p++;
                        continue;
                    }
                    break;
                }
            if (*x->p != ')') {
                xf_node_free(nd);
                return xf_perr(x, "expected ',' or ')'");
            }
            x->p++;
            if (nd->nargs < nd->fn->min || nd->nargs > nd->fn->max) {
                snprintf(x->err, x->errlen, "\"%s\": %.*s takes %u to %u arguments, not %u",
                         x->text, (int)n, s, nd->fn->min, nd->fn->max, nd->nargs);
                xf_node_free(nd);
                return NULL;
            }
            int pa = nd->fn->pattern_arg;
            if (pa >= 0 && (uint32_t)pa < nd->nargs && nd->args[pa]->op == XF_LIT &&
                nd->args[pa]->lit.kind == XFORM_STRING &&
                !xform_pattern_ok(nd->args[pa]->litbuf, x->err, x->errlen)) {
                xf_node_free(nd);
                return NULL;
            }
        }
    } else {
        free(nd);
        return xf_perr(x, *s ? "unexpected character" : "an expression expected");
    }
    x->depth--;
    return nd;
}

/* unary := '-' unary | primary */
static xf_node *xf_parse_unary(xf_parser *x)
{
    while (isspace((unsigned char)*x->p))
        x->p++;
    if (*x->p == '-' && !isdigit((unsigned char)x->p[1])) {
        x->p++;
        if (++x->depth > XF_MAX_DEPTH) return xf_perr(x, "nested too deeply");
        xf_node *a = xf_parse_unary(x);
        if (!a) return NULL;
        x->depth--;
        xf_node *zero = sl_xcalloc(1, sizeof *zero);
        zero->op = XF_LIT;
        zero->lit = xf_long(0);
        return xf_call2("minus", zero, a);
    }
    return xf_parse_primary(x);
}

/* A left-associative chain of the operators ops (one character each) over next, as fns. */
static xf_node *xf_parse_chain(xf_parser *x, xf_node *(*next)(xf_parser *), const char *ops,
                               const char *const *fns)
{
    xf_node *l = next(x);
    while (l) {
        while (isspace((unsigned char)*x->p))
            x->p++;
        const char *o = *x->p ? strchr(ops, *x->p) : NULL;
        if (!o) break;
        x->p++;
        xf_node *r = next(x);
        if (!r) {
            xf_node_free(l);
            return NULL;
        }
        l = xf_call2(fns[o - ops], l, r);
    }
    return l;
}

static xf_node *xf_parse_mul(xf_parser *x)
{
    static const char *const fns[] = {"times", "divide", "mod"};
    return xf_parse_chain(x, xf_parse_unary, "*/%", fns);
}

static xf_node *xf_parse_add(xf_parser *x)
{
    static const char *const fns[] = {"plus", "minus"};
    return xf_parse_chain(x, xf_parse_mul, "+-", fns);
}

/* cmp := add [op add | IS [NOT] NULL | [NOT] IN (e, ...) | [NOT] BETWEEN add AND add] */
static xf_node *xf_parse_cmp(xf_parser *x)
{
    static const struct {
        const char *op, *fn;
    } ops[] = {{"<=", "lessthanorequal"}, {">=", "greaterthanorequal"},
               {"<>", "notequals"},       {"!=", "notequals"},
               {"=", "equals"},           {"<", "lessthan"},
               {">", "greaterthan"}};
    xf_node *l = xf_parse_add(x);
    if (!l) return NULL;
    while (isspace((unsigned char)*x->p))
        x->p++;
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        size_t n = strlen(ops[k].op);
        if (strncmp(x->p, ops[k].op, n)) continue;
        x->p += n;
        xf_node *r = xf_parse_add(x);
        if (!r) {
            xf_node_free(l);
            return NULL;
        }
        return xf_call2(ops[k].fn, l, r);
    }
    if (xf_keyword(x, "IS")) {
        bool neg = xf_keyword(x, "NOT");
        if (!xf_keyword(x, "NULL")) {
            xf_node_free(l);
            return xf_perr(x, "expected NULL after IS");
        }
        return xf_call(neg ? "isnotnull" : "isnull", &l, 1);
    }
    const char *mark = x->p;
    bool neg = xf_keyword(x, "NOT");
    if (xf_keyword(x, "IN")) {
        xf_node *args[XF_MAX_ARGS] = {l};
        uint32_t n = 1;
        while (isspace((unsigned char)*x->p))
            x->p++;
        if (*x->p != '(') {
            xf_node_free(l);
            return xf_perr(x, "expected '(' after IN");
        }
        x->p++;
        for (;;) {
            xf_node *v = n < XF_MAX_ARGS ? xf_parse_expr(x) : xf_perr(x, "too many IN values");
            if (!v) {
                for (uint32_t k = 0; k < n; k++)
                    xf_node_free(args[k]);
                return NULL;
            }
            args[n++] = v;
            while (isspace((unsigned char)*x->p))
                x->p++;
            if (*x->p != ',') break;
            x->p++;
        }
        xf_node *in = xf_call("in", args, n);
        if (*x->p != ')') {
            xf_node_free(in);
            return xf_perr(x, "expected ',' or ')'");
        }
        x->p++;
        return neg ? xf_call("not", &in, 1) : in;
    }
    if (xf_keyword(x, "BETWEEN")) { /* l >= lo AND l <= hi, l evaluated twice */
        xf_node *lo = xf_parse_add(x), *hi = NULL;
        if (lo && !xf_keyword(x, "AND")) {
            xf_node_free(lo);
            lo = xf_perr(x, "expected AND in BETWEEN");
        }
        if (lo) hi = xf_parse_add(x);
        if (!hi) {
            xf_node_free(lo);
            xf_node_free(l);
            return NULL;
        }
        /* the column node is small and holds no strings: copy it for the second test */
        xf_node *l2 = NULL;
        if (l->op == XF_COL || (l->op == XF_LIT && l->lit.kind != XFORM_STRING)) {
            l2 = sl_xcalloc(1, sizeof *l2);
            *l2 = *l;
        } else {
            xf_node_free(lo);
            xf_node_free(hi);
            xf_node_free(l);
            return xf_perr(x, "BETWEEN needs a column or a number on its left");
        }
        xf_node *both = xf_call2("and", xf_call2("greaterthanorequal", l, lo),
                                 xf_call2("lessthanorequal", l2, hi));
        return neg ? xf_call("not", &both, 1) : both;
    }
    if (neg) x->p = mark; /* a NOT that starts no IN or BETWEEN is not ours */
    return l;
}

/* not := NOT not | cmp */
static xf_node *xf_parse_not(xf_parser *x)
{
    if (xf_keyword(x, "NOT")) {
        if (++x->depth > XF_MAX_DEPTH) return xf_perr(x, "nested too deeply");
        xf_node *a = xf_parse_not(x);
        if (!a) return NULL;
        x->depth--;
        return xf_call("not", &a, 1);
    }
    return xf_parse_cmp(x);
}

/* A left-associative chain of the keyword kw over next, as fn. */
static xf_node *xf_parse_kwchain(xf_parser *x, xf_node *(*next)(xf_parser *), const char *kw,
                                 const char *fn)
{
    xf_node *l = next(x);
    while (l && xf_keyword(x, kw)) {
        xf_node *r = next(x);
        if (!r) {
            xf_node_free(l);
            return NULL;
        }
        l = xf_call2(fn, l, r);
    }
    return l;
}

static xf_node *xf_parse_and(xf_parser *x)
{
    return xf_parse_kwchain(x, xf_parse_not, "AND", "and");
}

/* expr := and {OR and}: SQL's precedence, OR lowest, then AND, NOT, comparisons, + -, * / % */
static xf_node *xf_parse_expr(xf_parser *x)
{
    return xf_parse_kwchain(x, xf_parse_and, "OR", "or");
}

xform_expr *xform_parse(const char *text, char *err, size_t errlen)
{
    xform_expr *e = sl_xcalloc(1, sizeof *e);
    xf_parser x = {.text = text, .p = text, .e = e, .err = err, .errlen = errlen};
    e->root = xf_parse_expr(&x);
    if (e->root) {
        while (isspace((unsigned char)*x.p))
            x.p++;
        if (*x.p) {
            xf_perr(&x, "text after the expression");
            xf_node_free(e->root);
            e->root = NULL;
        }
    }
    if (!e->root) {
        xform_free(e);
        return NULL;
    }
    return e;
}

static int xf_eval_node(const xf_node *nd, const xform_val *in, xform_ctx *cx, xform_val *out,
                        char *err, size_t errlen)
{
    if (nd->op == XF_LIT) {
        *out = nd->lit;
        return 0;
    }
    if (nd->op == XF_COL) {
        *out = in[nd->col];
        return 0;
    }
    xform_val a[XF_MAX_ARGS];
    for (uint32_t k = 0; k < nd->nargs; k++) {
        if (xf_eval_node(nd->args[k], in, cx, &a[k], err, errlen)) return -1;
        if (a[k].kind == XFORM_NULL && !nd->fn->nullable) {
            *out = (xform_val){.kind = XFORM_NULL};
            return 0;
        }
        if (a[k].kind == XFORM_ARRAY) /* no function here takes a multi-value argument */
            return xf_fail(err, errlen, "%s: argument %u is multi-value: not supported",
                           nd->fn->name, k + 1);
    }
    if (nd->fn->impl(a, nd->nargs, cx, out, nd->fn->arg, err, errlen)) {
        char why[256];
        snprintf(why, sizeof why, "%s", err);
        snprintf(err, errlen, "%s: %s", nd->fn->name, why);
        return -1;
    }
    return 0;
}

int xform_eval(const xform_expr *e, const xform_val *in, xform_ctx *cx, xform_val *out, char *err,
               size_t errlen)
{
    return xf_eval_node(e->root, in, cx, out, err, errlen);
}
