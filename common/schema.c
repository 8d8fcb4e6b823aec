/* Pinot schema JSON -> struct schema, and the canonical JSON written into segment metadata.
 *
 * Role: the one place that decides what a schema means. Everything downstream (decoder,
 * mutable segment, builder, reader) trusts a `schema` blindly, so this parser rejects by name
 * every key, type or value Sluice cannot honour; nothing is silently ignored.
 *
 * Invariants of a parsed schema:
 *  - fields are dimensions, then metrics, then date-time fields, each in JSON array order;
 *  - names are non-empty and unique; metrics are INT/LONG/FLOAT/DOUBLE/BYTES; date-time fields
 *    are INT/LONG/TIMESTAMP/STRING with a valid format and granularity; only dimensions may be
 *    multi-value;
 *  - every field has a default null value (Pinot's, or the explicit one); STRING and BYTES
 *    defaults are heap copies owned by the schema (STRING ones NUL-terminated), never NULL.
 *
 * schema_to_json writes only what was given (an implicit default is not written), with a fixed
 * key order and the shortest round-tripping number text, so parse(to_json(s)) == s and the
 * text is byte-stable: it is part of every segment's bytes. */
#include "common/schema.h"
#include "common/bigdec.h"
#include "common/xform.h"
#include "common/jsonw.h"
#include "common/sl_err.h"
#include "common/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCHEMA_MAX_FILE (16u << 20) /* a schema is a few KB; refuse to slurp anything huge */

static const char *const type_names[SCHEMA_TYPE__COUNT] = {
    "INT", "LONG", "FLOAT", "DOUBLE", "BOOLEAN", "TIMESTAMP", "STRING", "BYTES"};
static const uint32_t type_widths[SCHEMA_TYPE__COUNT] = {4, 8, 4, 8, 4, 8, 0, 0};
static const char *const role_names[SCHEMA_ROLE__COUNT] = {"dimension", "metric", "dateTime"};
static const char *const role_keys[SCHEMA_ROLE__COUNT] = {"dimensionFieldSpecs", "metricFieldSpecs",
                                                          "dateTimeFieldSpecs"};
static const char *const maxlen_names[SCHEMA_MAXLEN__COUNT] = {
    "DEFAULT", "TRIM_LENGTH", "SUBSTITUTE_DEFAULT_VALUE", "ERROR", "NO_ACTION"};
/* Pinot's FieldSpec.FieldType of each role (a "fieldType" key must agree with its list) */
static const char *const role_field_types[SCHEMA_ROLE__COUNT] = {"DIMENSION", "METRIC",
                                                                 "DATE_TIME"};
static const char *const time_units[] = {"NANOSECONDS", "MICROSECONDS", "MILLISECONDS", "SECONDS",
                                         "MINUTES",     "HOURS",        "DAYS"};

const char *schema_type_name(schema_type t)
{
    return (unsigned)t < SCHEMA_TYPE__COUNT ? type_names[t] : "?";
}

const char *schema_maxlen_name(schema_maxlen m)
{
    return (unsigned)m < SCHEMA_MAXLEN__COUNT ? maxlen_names[m] : "?";
}

const char *schema_role_name(schema_role r)
{
    return (unsigned)r < SCHEMA_ROLE__COUNT ? role_names[r] : "?";
}

uint32_t schema_type_width(schema_type t)
{
    return (unsigned)t < SCHEMA_TYPE__COUNT ? type_widths[t] : 0;
}

bool schema_type_is_var(schema_type t)
{
    return t == SCHEMA_STRING || t == SCHEMA_BYTES;
}

int schema_find(const schema *s, const char *name)
{
    for (uint32_t i = 0; i < s->nfields; i++)
        if (s->fields[i].name && strcmp(s->fields[i].name, name) == 0) return (int)i;
    return -1;
}

/* ---- default null values ---- */

/* Pinot's defaults (FieldSpec.DEFAULT_*_NULL_VALUE_OF_*). */
static void pinot_default(schema_field *f)
{
    schema_value *v = &f->default_null;
    bool metric = f->role == SCHEMA_METRIC;
    switch (f->type) {
    case SCHEMA_INT:
        v->u.i32 = metric ? 0 : INT32_MIN;
        break;
    case SCHEMA_LONG:
        v->u.i64 = metric ? 0 : INT64_MIN;
        break;
    case SCHEMA_FLOAT:
        v->u.f32 = metric ? 0.0f : -INFINITY;
        break;
    case SCHEMA_DOUBLE:
        v->u.f64 = metric ? 0.0 : -INFINITY;
        break;
    case SCHEMA_BOOLEAN:
        v->u.i32 = 0;
        break;
    case SCHEMA_TIMESTAMP:
        v->u.i64 = 0;
        break;
    case SCHEMA_STRING:
        v->u.bytes.ptr = (const uint8_t *)sl_xmemdupz("null", 4);
        v->u.bytes.len = 4;
        break;
    case SCHEMA_BYTES:
    default:
        if (f->big_decimal) { /* BigDecimal.ZERO: scale 0, the one byte 0 */
            v->u.bytes.ptr = sl_xcalloc(1, 3);
            v->u.bytes.len = 3;
            break;
        }
        v->u.bytes.ptr = (const uint8_t *)sl_xmemdupz("", 0);
        v->u.bytes.len = 0;
        break;
    }
}

/* A BIG_DECIMAL's serialized bytes from a defaultNullValue given as a decimal string or an
 * integer; false if it is neither. */
static bool parse_big_decimal_default(const json_t *v, schema_value *out)
{
    char txt[64], dig[64];
    if (json_is_integer(v))
        snprintf(txt, sizeof txt, "%lld", (long long)json_integer_value(v));
    else if (!json_is_string(v) || json_string_length(v) >= sizeof txt)
        return false;
    else
        snprintf(txt, sizeof txt, "%s", json_string_value(v));
    bigdec d;
    uint8_t b[64];
    size_t n;
    if (bigdec_parse(txt, strlen(txt), dig, sizeof dig, &d) ||
        !(n = bigdec_serialize(&d, b, sizeof b)))
        return false;
    uint8_t *p = sl_xmalloc(n);
    memcpy(p, b, n);
    out->u.bytes.ptr = p;
    out->u.bytes.len = (uint32_t)n;
    return true;
}

/* Strict decimal integer: [+-]digits, nothing else. */
static bool parse_i64_text(const char *s, int64_t *out)
{
    const char *p = s;
    if (*p == '+' || *p == '-') p++;
    if (!isdigit((unsigned char)*p)) return false;
    for (const char *q = p; *q; q++)
        if (!isdigit((unsigned char)*q)) return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno == ERANGE || *end) return false;
    *out = v;
    return true;
}

/* Java Double.parseDouble's decimal syntax (no hex, no "inf"), plus Java's special names. */
static bool parse_double_text(const char *s, double *out)
{
    if (strcmp(s, "Infinity") == 0 || strcmp(s, "+Infinity") == 0) return *out = INFINITY, true;
    if (strcmp(s, "-Infinity") == 0) return *out = -INFINITY, true;
    if (strcmp(s, "NaN") == 0) return *out = NAN, true;
    const char *p = s;
    if (*p == '+' || *p == '-') p++;
    size_t digits = 0;
    while (isdigit((unsigned char)*p))
        p++, digits++;
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p))
            p++, digits++;
    }
    if (digits == 0) return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!isdigit((unsigned char)*p)) return false;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p) return false;
    *out = strtod(s, NULL); /* overflow gives +-HUGE_VAL, i.e. infinity, as Java does */
    return true;
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* "YYYY-MM-DD HH:MM:SS[.fff]" or with 'T' and an optional 'Z', read as UTC (Pinot reads the
 * JVM's zone; a replica-independent answer matters more here). */
static bool parse_timestamp_text(const char *s, int64_t *out)
{
    /* fixed layout "YYYY-MM-DD?HH:MM:SS", digits exactly where shown (no signs, no blanks) */
    static const char layout[] = "dddd-dd-dd?dd:dd:dd";
    for (int i = 0; layout[i]; i++) {
        if (layout[i] == 'd'   ? !isdigit((unsigned char)s[i])
            : layout[i] == '?' ? s[i] == '\0'
                               : s[i] != layout[i])
            return false;
    }
    const int n = 19;
    char sep = s[10];
    if (sep != ' ' && sep != 'T') return false;
#define NUM2(i) ((unsigned)(s[i] - '0') * 10 + (unsigned)(s[(i) + 1] - '0'))
    unsigned y = NUM2(0) * 100 + NUM2(2), mo = NUM2(5), d = NUM2(8), h = NUM2(11), mi = NUM2(14),
             se = NUM2(17);
#undef NUM2
    static const unsigned mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap) ||
        h > 23 || mi > 59 || se > 59)
        return false;
    int64_t ms = 0;
    const char *p = s + n;
    if (*p == '.') {
        int k = 0;
        for (p++; isdigit((unsigned char)*p); p++, k++)
            if (k < 3) ms = ms * 10 + (*p - '0');
        if (k == 0) return false;
        for (; k < 3; k++)
            ms *= 10;
    }
    if (*p == 'Z' && sep == 'T') p++;
    if (*p) return false;
    int64_t days = days_from_civil(y, (int)mo, (int)d);
    *out = ((days * 24 + h) * 60 + mi) * 60000 + (int64_t)se * 1000 + ms;
    return true;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Explicit defaultNullValue for type t. On failure returns false with the reason in why. */
static bool parse_default(const json_t *v, schema_type t, schema_value *out, char *why,
                          size_t whylen)
{
    const char *txt = json_is_string(v) ? json_string_value(v) : NULL;
    int64_t i;
    double d;
    switch (t) {
    case SCHEMA_INT:
    case SCHEMA_LONG:
    case SCHEMA_TIMESTAMP:
        if (json_is_integer(v))
            i = json_integer_value(v);
        else if (!txt || !(parse_i64_text(txt, &i) ||
                           (t == SCHEMA_TIMESTAMP && parse_timestamp_text(txt, &i))))
            goto bad;
        if (t == SCHEMA_INT) {
            if (i < INT32_MIN || i > INT32_MAX) {
                snprintf(why, whylen, "defaultNullValue %" PRId64 " out of range for INT", i);
                return false;
            }
            out->u.i32 = (int32_t)i;
        } else {
            out->u.i64 = i;
        }
        return true;
    case SCHEMA_FLOAT:
    case SCHEMA_DOUBLE:
        if (json_is_integer(v))
            d = (double)json_integer_value(v);
        else if (json_is_real(v))
            d = json_real_value(v);
        else if (!txt || !parse_double_text(txt, &d))
            goto bad;
        if (t == SCHEMA_DOUBLE) {
            out->u.f64 = d;
            return true;
        }
        /* Same path (double, then float) whatever the JSON spelling, so that the canonical
         * text, which jansson reads as a double, gives back exactly this float. */
        out->u.f32 = (float)d;
        if (isinf(out->u.f32) && !isinf(d)) {
            snprintf(why, whylen, "defaultNullValue out of range for FLOAT");
            return false;
        }
        return true;
    case SCHEMA_BOOLEAN:
        if (json_is_boolean(v)) {
            out->u.i32 = json_is_true(v);
        } else if (json_is_integer(v) &&
                   (json_integer_value(v) == 0 || json_integer_value(v) == 1)) {
            out->u.i32 = (int32_t)json_integer_value(v);
        } else if (txt && (strcasecmp(txt, "true") == 0 || strcmp(txt, "1") == 0)) {
            out->u.i32 = 1;
        } else if (txt && (strcasecmp(txt, "false") == 0 || strcmp(txt, "0") == 0)) {
            out->u.i32 = 0;
        } else {
            goto bad;
        }
        return true;
    case SCHEMA_STRING: {
        char num[32];
        if (json_is_integer(v)) {
            snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
            txt = num;
        }
        if (!txt) goto bad;
        size_t n = json_is_string(v) ? json_string_length(v) : strlen(txt);
        if (n > UINT32_MAX) goto bad;
        out->u.bytes.ptr = (const uint8_t *)sl_xmemdupz(txt, n);
        out->u.bytes.len = (uint32_t)n;
        return true;
    }
    case SCHEMA_BYTES: {
        if (!txt) goto bad;
        size_t n = json_string_length(v);
        if (n % 2 || n / 2 > UINT32_MAX) goto bad;
        uint8_t *b = sl_xmalloc(n / 2 + 1);
        for (size_t k = 0; k < n / 2; k++) {
            int hi = hexval(txt[2 * k]), lo = hexval(txt[2 * k + 1]);
            if (hi < 0 || lo < 0) {
                free(b);
                goto bad;
            }
            b[k] = (uint8_t)(hi << 4 | lo);
        }
        out->u.bytes.ptr = b;
        out->u.bytes.len = (uint32_t)(n / 2);
        return true;
    }
    default:
        break;
    }
bad:
    snprintf(why, whylen, "defaultNullValue is not a valid %s%s", type_names[t],
             t == SCHEMA_BYTES ? " (expected a hex string)" : "");
    return false;
}

/* ---- date-time format and granularity (Pinot DateTimeFormatSpec / GranularitySpec) ---- */

static bool is_unit(const char *s, size_t n)
{
    for (size_t i = 0; i < sizeof time_units / sizeof time_units[0]; i++)
        if (strlen(time_units[i]) == n && memcmp(time_units[i], s, n) == 0) return true;
    return false;
}

static bool is_size(const char *s, size_t n)
{
    if (n == 0 || n > 9 || s[0] == '0') return false;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i])) return false;
    return true;
}

/* Split s at sep into at most max parts; returns the number of parts. The last part keeps any
 * further separators (a SIMPLE_DATE_FORMAT pattern may contain ':'). */
static int split(const char *s, char sep, int max, const char **part, size_t *len)
{
    int n = 0;
    while (n < max - 1) {
        const char *e = strchr(s, sep);
        if (!e) break;
        part[n] = s, len[n++] = (size_t)(e - s);
        s = e + 1;
    }
    part[n] = s, len[n++] = strlen(s);
    return n;
}

#define PART_IS(k, lit) (len[k] == sizeof(lit) - 1 && memcmp(part[k], lit, len[k]) == 0)

static bool valid_format(const char *f)
{
    const char *part[4];
    size_t len[4];
    if (strchr(f, '|') || !strchr(f, ':')) { /* new style: EPOCH|unit|size, TIMESTAMP, ... */
        int n = split(f, '|', 3, part, len);
        if (PART_IS(0, "EPOCH"))
            return n == 1 || (is_unit(part[1], len[1]) && (n == 2 || is_size(part[2], len[2])));
        if (PART_IS(0, "TIMESTAMP")) return n == 1;
        if (PART_IS(0, "SIMPLE_DATE_FORMAT")) return n >= 2 && len[1] > 0;
        return false;
    }
    int n = split(f, ':', 4, part, len); /* old style: size:unit:EPOCH|TIMESTAMP|SDF:pattern */
    if (n < 3 || !is_size(part[0], len[0]) || !is_unit(part[1], len[1])) return false;
    if (PART_IS(2, "EPOCH") || PART_IS(2, "TIMESTAMP")) return n == 3;
    return PART_IS(2, "SIMPLE_DATE_FORMAT") && n == 4 && len[3] > 0;
}

bool schema_time_scale(const schema_field *f, int64_t *mul, int64_t *div)
{
    static const int64_t unit_ms[] = {0, 0, 1, 1000, 60000, 3600000, 86400000};
    const char *part[4];
    size_t len[4];
    const char *unit = "MILLISECONDS";
    size_t ulen = 12;
    int64_t size = 1;
    if (!f->format) return false;
    if (strchr(f->format, '|') || !strchr(f->format, ':')) {
        int n = split(f->format, '|', 3, part, len);
        if (PART_IS(0, "TIMESTAMP") && n == 1) {
            *mul = *div = 1;
            return true;
        }
        if (!PART_IS(0, "EPOCH")) return false;
        if (n > 1) unit = part[1], ulen = len[1];
        if (n > 2) size = strtoll(part[2], NULL, 10);
    } else {
        int n = split(f->format, ':', 4, part, len);
        if (n != 3 || !(PART_IS(2, "EPOCH") || PART_IS(2, "TIMESTAMP"))) return false;
        if (PART_IS(2, "TIMESTAMP")) {
            *mul = *div = 1;
            return true;
        }
        size = strtoll(part[0], NULL, 10);
        unit = part[1], ulen = len[1];
    }
    for (size_t i = 0; i < sizeof time_units / sizeof time_units[0]; i++) {
        if (strlen(time_units[i]) != ulen || memcmp(time_units[i], unit, ulen) != 0) continue;
        *mul = i == 0 ? 1000000 : i == 1 ? 1000 : 1; /* nano-, microseconds */
        *div = (unit_ms[i] ? unit_ms[i] : 1) * (size > 0 ? size : 1);
        return true;
    }
    return false;
}

bool schema_sdf_pattern(const schema_field *f, char *buf, size_t cap, const char **zone)
{
    const char *part[4];
    size_t len[4];
    *zone = NULL;
    if (!f->format) return false;
    if (strchr(f->format, '|') || !strchr(f->format, ':')) {
        int n = split(f->format, '|', 3, part, len);
        if (!PART_IS(0, "SIMPLE_DATE_FORMAT") || n < 2) return false;
        if (n == 3) *zone = part[2];
        snprintf(buf, cap, "%.*s", (int)len[1], part[1]);
        return true;
    }
    int n = split(f->format, ':', 4, part, len);
    if (n != 4 || !PART_IS(2, "SIMPLE_DATE_FORMAT")) return false;
    snprintf(buf, cap, "%.*s", (int)len[3], part[3]);
    return true;
}

static bool valid_granularity(const char *g)
{
    const char *part[2];
    size_t len[2];
    if (split(g, ':', 2, part, len) == 2 && is_size(part[0], len[0]) && is_unit(part[1], len[1]))
        return true;
    return split(g, '|', 2, part, len) == 2 && is_unit(part[0], len[0]) && is_size(part[1], len[1]);
}

/* ---- parsing ---- */

static bool key_in(const char *key, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(key, *list) == 0) return true;
    return false;
}

static void field_free(schema_field *f)
{
    free(f->name);
    free(f->format);
    free(f->granularity);
    free(f->transform_text);
    xform_free(f->transform);
    if (f->type == SCHEMA_STRING || f->type == SCHEMA_BYTES)
        free((void *)f->default_null.u.bytes.ptr);
}

void schema_free(schema *s)
{
    if (!s) return;
    for (uint32_t i = 0; i < s->nfields; i++)
        field_free(&s->fields[i]);
    free(s->fields);
    free(s->name);
    free(s->primary_keys);
    free(s);
}

/* Fills f from spec (path = "dimensionFieldSpecs[2]"). Returns false with err set; f then owns
 * whatever it got so far and is freed by the caller. */
static bool parse_field(const json_t *spec, schema_role role, const char *path, schema_field *f,
                        const char *src, char *err, size_t errlen)
{
    static const char *const common_keys[] = {"name",
                                              "dataType",
                                              "singleValueField",
                                              "defaultNullValue",
                                              "maxLength",
                                              "maxLengthExceedStrategy",
                                              "notNull",
                                              "fieldType",
                                              "transformFunction",
                                              NULL};
    static const char *const dt_keys[] = {"format", "granularity", NULL};
    char key[300], why[160];
    f->role = role;
    f->single_value = true;
    f->type = SCHEMA_TYPE__COUNT; /* so field_free does not free a default not yet set */
    if (!json_is_object(spec)) {
        sl_fail_at(err, errlen, SL_EINVAL, src, path, "expected an object");
        return false;
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)spec, k, v)
    {
        if (!key_in(k, common_keys) && !(role == SCHEMA_DATETIME && key_in(k, dt_keys))) {
            snprintf(key, sizeof key, "%s.%s", path, k);
            sl_fail_at(err, errlen, SL_EINVAL, src, key, "unsupported key");
            return false;
        }
    }
    const json_t *name = json_object_get(spec, "name");
    snprintf(key, sizeof key, "%s.name", path);
    if (!name) return sl_fail_at(err, errlen, SL_EINVAL, src, key, "missing required key"), false;
    if (!json_is_string(name) || json_string_length(name) == 0 ||
        strlen(json_string_value(name)) != json_string_length(name))
        return sl_fail_at(err, errlen, SL_EINVAL, src, key, "expected a non-empty string"), false;
    f->name = sl_xmemdupz(json_string_value(name), json_string_length(name));

    const json_t *dt = json_object_get(spec, "dataType");
    snprintf(key, sizeof key, "%s.dataType", path);
    if (!dt) return sl_fail_at(err, errlen, SL_EINVAL, src, key, "missing required key"), false;
    if (!json_is_string(dt))
        return sl_fail_at(err, errlen, SL_EINVAL, src, key, "expected a string"), false;
    schema_type t = SCHEMA_TYPE__COUNT;
    for (int i = 0; i < SCHEMA_TYPE__COUNT; i++)
        if (strcmp(json_string_value(dt), type_names[i]) == 0) t = (schema_type)i;
    if (strcmp(json_string_value(dt), "BIG_DECIMAL") == 0) { /* bytes, as Pinot stores it */
        if (role == SCHEMA_DATETIME)
            return sl_fail_at(err, errlen, SL_EINVAL, src, key,
                              "dateTime field \"%s\" must be INT, LONG, TIMESTAMP or STRING, "
                              "not BIG_DECIMAL",
                              f->name),
                   false;
        t = SCHEMA_BYTES;
        f->big_decimal = true;
    }
    if (strcmp(json_string_value(dt), "JSON") == 0) { /* Pinot stores JSON as STRING */
        if (role != SCHEMA_DIMENSION)
            return sl_fail_at(err, errlen, SL_EINVAL, src, key,
                              "JSON field \"%s\" must be a dimension (as in Pinot)", f->name),
                   false;
        t = SCHEMA_STRING;
        f->json = true;
    }
    if (t == SCHEMA_TYPE__COUNT)
        return sl_fail_at(err, errlen, SL_EINVAL, src, key, "unsupported type \"%s\"",
                          json_string_value(dt)),
               false;
    if (role == SCHEMA_METRIC &&
        (t == SCHEMA_BOOLEAN || t == SCHEMA_TIMESTAMP || t == SCHEMA_STRING))
        return sl_fail_at(err, errlen, SL_EINVAL, src, key,
                          "metric \"%s\" must be INT, LONG, FLOAT, DOUBLE or BYTES, not %s",
                          f->name, type_names[t]),
               false;
    if (role == SCHEMA_DATETIME && t != SCHEMA_INT && t != SCHEMA_LONG && t != SCHEMA_TIMESTAMP &&
        t != SCHEMA_STRING)
        return sl_fail_at(err, errlen, SL_EINVAL, src, key,
                          "dateTime field \"%s\" must be INT, LONG, TIMESTAMP or STRING, not %s",
                          f->name, type_names[t]),
               false;

    const json_t *sv = json_object_get(spec, "singleValueField");
    if (sv) {
        snprintf(key, sizeof key, "%s.singleValueField", path);
        if (!json_is_boolean(sv))
            return sl_fail_at(err, errlen, SL_EINVAL, src, key, "expected true or false"), false;
        f->single_value = json_is_true(sv);
        if (!f->single_value && (f->json || f->big_decimal))
            return sl_fail_at(err, errlen, SL_EINVAL, src, key,
                              "%s field \"%s\" must be single-value",
                              f->json ? "JSON" : "BIG_DECIMAL", f->name),
                   false;
        if (!f->single_value && role != SCHEMA_DIMENSION)
            return sl_fail_at(err, errlen, SL_EINVAL, src, key,
                              "multi-value %s \"%s\": only dimensions may be "
                              "multi-value",
                              role_names[role], f->name),
                   false;
    }

    const json_t *dn = json_object_get(spec, "defaultNullValue");
    if (dn && !json_is_null(dn)) {
        snprintf(key, sizeof key, "%s.defaultNullValue", path);
        if (f->big_decimal ? !parse_big_decimal_default(dn, &f->default_null)
                           : !parse_default(dn, t, &f->default_null, why, sizeof why)) {
            if (f->big_decimal)
                snprintf(why, sizeof why,
                         "defaultNullValue is not a valid BIG_DECIMAL (a decimal "
                         "string or an integer)");
            return sl_fail_at(err, errlen, SL_EINVAL, src, key, "field \"%s\": %s", f->name, why),
                   false;
        }
        f->default_explicit = true;
    } else {
        f->type = t;
        pinot_default(f);
    }
    f->type = t;

    /* sanitization: Pinot's defaults (zero) unless given */
    const json_t *ml = json_object_get(spec, "maxLength");
    if (ml) {
        snprintf(key, sizeof key, "%s.maxLength", path);
        if (!json_is_integer(ml) || json_integer_value(ml) < 1 ||
            json_integer_value(ml) > INT32_MAX)
            return sl_fail_at(err, errlen, SL_EINVAL, src, key,
                              "expected an integer from 1 to 2147483647"),
                   false;
        f->max_length = (uint32_t)json_integer_value(ml);
    }
    const json_t *ms = json_object_get(spec, "maxLengthExceedStrategy");
    if (ms) {
        snprintf(key, sizeof key, "%s.maxLengthExceedStrategy", path);
        int found = -1;
        for (int i = SCHEMA_MAXLEN_TRIM_LENGTH; json_is_string(ms) && i < SCHEMA_MAXLEN__COUNT; i++)
            if (strcmp(json_string_value(ms), maxlen_names[i]) == 0) found = i;
        if (found < 0)
            return sl_fail_at(err, errlen, SL_EINVAL, src, key,
                              "expected TRIM_LENGTH, SUBSTITUTE_DEFAULT_VALUE, ERROR or "
                              "NO_ACTION"),
                   false;
        f->max_strategy = (schema_maxlen)found;
    }
    const json_t *nn = json_object_get(spec, "notNull");
    if (nn) { /* Jackson also reads "true"/"false" as booleans: Pinot's examples use both */
        snprintf(key, sizeof key, "%s.notNull", path);
        const char *ns = json_is_string(nn) ? json_string_value(nn) : NULL;
        if (!json_is_boolean(nn) && !(ns && (!strcmp(ns, "true") || !strcmp(ns, "false"))))
            return sl_fail_at(err, errlen, SL_EINVAL, src, key, "expected true or false"), false;
        f->not_null = json_is_true(nn) || (ns && !strcmp(ns, "true"));
        f->not_null_explicit = true;
    }
    const json_t *tf = json_object_get(spec, "transformFunction");
    if (tf && !json_is_null(tf)) {
        snprintf(key, sizeof key, "%s.transformFunction", path);
        char xwhy[512];
        if (!json_is_string(tf))
            return sl_fail_at(err, errlen, SL_EINVAL, src, key, "expected a string"), false;
        if (!(f->transform = xform_parse(json_string_value(tf), xwhy, sizeof xwhy)))
            return sl_fail_at(err, errlen, SL_EINVAL, src, key, "%s", xwhy), false;
        f->transform_text = sl_xstrdup(json_string_value(tf));
    }
    const json_t *ft = json_object_get(spec, "fieldType");
    if (ft) {
        snprintf(key, sizeof key, "%s.fieldType", path);
        if (!json_is_string(ft) || strcmp(json_string_value(ft), role_field_types[role]) != 0)
            return sl_fail_at(err, errlen, SL_EINVAL, src, key, "expected \"%s\" in %s",
                              role_field_types[role], role_keys[role]),
                   false;
    }

    if (role == SCHEMA_DATETIME) {
        for (int i = 0; dt_keys[i]; i++) {
            const json_t *x = json_object_get(spec, dt_keys[i]);
            snprintf(key, sizeof key, "%s.%s", path, dt_keys[i]);
            if (!x)
                return sl_fail_at(err, errlen, SL_EINVAL, src, key, "missing required key"), false;
            if (!json_is_string(x) || strlen(json_string_value(x)) != json_string_length(x))
                return sl_fail_at(err, errlen, SL_EINVAL, src, key, "expected a string"), false;
            const char *s = json_string_value(x);
            if (i == 0 ? !valid_format(s) : !valid_granularity(s))
                return sl_fail_at(err, errlen, SL_EINVAL, src, key,
                                  "field \"%s\": invalid %s \"%s\"", f->name, dt_keys[i], s),
                       false;
            *(i == 0 ? &f->format : &f->granularity) = sl_xstrdup(s);
        }
    }
    return true;
}

schema *schema_parse(const char *json, size_t len, const char *source, char *err, size_t errlen)
{
    static const char *const top_keys[] = {"schemaName",
                                           "dimensionFieldSpecs",
                                           "metricFieldSpecs",
                                           "dateTimeFieldSpecs",
                                           "enableColumnBasedNullHandling",
                                           "primaryKeyColumns",
                                           NULL};
    schema *s = NULL;
    json_t *root = NULL;
    json_error_t jerr;
    char key[64];
    size_t i;
    for (i = 0; i < len && isspace((unsigned char)json[i]); i++)
        ;
    if (i == len) {
        sl_fail_at(err, errlen, SL_EINVAL, source, "schema", "empty file");
        goto fail;
    }
    root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(key, sizeof key, "line %d column %d", jerr.line, jerr.column);
        sl_fail_at(err, errlen, SL_EINVAL, source, key, "invalid JSON: %s", jerr.text);
        goto fail;
    }
    if (!json_is_object(root)) {
        sl_fail_at(err, errlen, SL_EINVAL, source, "schema", "top level must be a JSON object");
        goto fail;
    }
    /* from here on every fault is reported, a line each, before giving up */
    int nerr = 0;
    const char *k;
    json_t *v;
    json_object_foreach(root, k, v)
    {
        if (!key_in(k, top_keys)) sl_fail_append(err, errlen, &nerr, source, k, "unsupported key");
    }
    const json_t *nh = json_object_get(root, "enableColumnBasedNullHandling");
    if (nh && !json_is_null(nh) && !json_is_boolean(nh))
        sl_fail_append(err, errlen, &nerr, source, "enableColumnBasedNullHandling",
                       "expected true or false");
    const json_t *name = json_object_get(root, "schemaName");
    if (!name)
        sl_fail_append(err, errlen, &nerr, source, "schemaName", "missing required key");
    else if (!json_is_string(name) || json_string_length(name) == 0 ||
             strlen(json_string_value(name)) != json_string_length(name))
        sl_fail_append(err, errlen, &nerr, source, "schemaName", "expected a non-empty string");
    size_t total = 0;
    for (int r = 0; r < SCHEMA_ROLE__COUNT; r++) {
        const json_t *arr = json_object_get(root, role_keys[r]);
        if (arr && !json_is_null(arr) && !json_is_array(arr))
            sl_fail_append(err, errlen, &nerr, source, role_keys[r], "expected an array");
        total += json_array_size(arr);
    }
    if (total == 0 && !nerr) {
        sl_fail_append(err, errlen, &nerr, source, "schema", "no fields");
        goto fail;
    }
    if (total > UINT32_MAX) {
        sl_fail_append(err, errlen, &nerr, source, "schema", "too many fields");
        goto fail;
    }
    s = sl_xcalloc(1, sizeof *s);
    s->name = json_is_string(name) ? sl_xmemdupz(json_string_value(name), json_string_length(name))
                                   : sl_xmemdupz("", 0);
    s->fields = sl_xmalloc((total ? total : 1) * sizeof *s->fields);
    memset(s->fields, 0, (total ? total : 1) * sizeof *s->fields);
    s->nfields = 0;
    for (int r = 0; r < SCHEMA_ROLE__COUNT; r++) {
        const json_t *arr = json_object_get(root, role_keys[r]);
        for (size_t j = 0; j < json_array_size(arr); j++) {
            char path[64], why[1024];
            snprintf(path, sizeof path, "%s[%zu]", role_keys[r], j);
            schema_field *f = &s->fields[s->nfields++];
            if (!parse_field(json_array_get(arr, j), (schema_role)r, path, f, NULL, why,
                             sizeof why)) {
                /* why is "KEY: REASON" */
                size_t kl = strcspn(why, ":");
                char fkey[300];
                snprintf(fkey, sizeof fkey, "%.*s", (int)kl, why);
                sl_fail_append(err, errlen, &nerr, source, fkey, "%s",
                               why[kl] ? why + kl + (why[kl + 1] == ' ' ? 2 : 1) : "");
                continue;
            }
            int dup =
                schema_find(&(schema){.nfields = s->nfields - 1, .fields = s->fields}, f->name);
            if (dup >= 0) {
                snprintf(path + strlen(path), sizeof path - strlen(path), ".name");
                sl_fail_append(err, errlen, &nerr, source, path, "duplicate field name \"%s\"",
                               f->name);
            }
        }
    }
    /* primaryKeyColumns: carried for the servers (no upsert here), each a field's name */
    const json_t *pk = json_object_get(root, "primaryKeyColumns");
    if (pk && !json_is_array(pk))
        sl_fail_append(err, errlen, &nerr, source, "primaryKeyColumns",
                       "expected an array of column names");
    if (json_array_size(pk)) {
        s->primary_keys = sl_xcalloc(json_array_size(pk), sizeof *s->primary_keys);
        for (size_t j = 0; j < json_array_size(pk); j++) {
            const json_t *e = json_array_get(pk, j);
            int at = json_is_string(e) ? schema_find(s, json_string_value(e)) : -1;
            if (at < 0) {
                char pkey[64];
                snprintf(pkey, sizeof pkey, "primaryKeyColumns[%zu]", j);
                sl_fail_append(err, errlen, &nerr, source, pkey, "not a column of the schema");
                continue;
            }
            s->primary_keys[s->nprimary_keys++] = (uint32_t)at;
        }
    }
    if (json_is_boolean(nh)) {
        s->column_nulls = json_is_true(nh);
        s->column_nulls_explicit = true;
    }
    if (nerr) goto fail;
    json_decref(root);
    return s;
fail:
    json_decref(root);
    schema_free(s);
    return NULL;
}

schema *schema_load(const char *path, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "rb");
    char *buf = NULL;
    if (!fp) {
        sl_fail_at(err, errlen, SL_EINVAL, NULL, path, "%s", strerror(errno));
        return NULL;
    }
    size_t cap = 4096, len = 0;
    buf = sl_xmalloc(cap);
    for (;;) {
        size_t n = fread(buf + len, 1, cap - len, fp);
        len += n;
        if (n == 0) break;
        if (len == cap) {
            if (cap >= SCHEMA_MAX_FILE) {
                sl_fail_at(err, errlen, SL_EINVAL, NULL, path, "file larger than %u bytes",
                           SCHEMA_MAX_FILE);
                goto fail;
            }
            cap *= 2;
            buf = sl_xrealloc(buf, cap);
        }
    }
    if (ferror(fp)) {
        sl_fail_at(err, errlen, SL_EINVAL, NULL, path, "read error: %s", strerror(errno));
        goto fail;
    }
    fclose(fp);
    schema *s = schema_parse(buf, len, path, err, errlen);
    free(buf);
    return s;
fail:
    fclose(fp);
    free(buf);
    return NULL;
}

/* ---- canonical JSON ---- */

/* A real in the shortest round-trip text. With point, ".0" is added when that text would look
 * like an integer: jansson keeps reals and integers apart, so the canonical schema text reads
 * back as a real. Non-finite values are the quoted names jsonw writes. */
static void schema__real(jsonw *w, double d, bool is_float, bool point)
{
    if (!point || !isfinite(d)) {
        if (is_float)
            jsonw_f32(w, (float)d);
        else
            jsonw_f64(w, d);
        return;
    }
    char num[40];
    size_t n = is_float ? jsonw_fmt_f32(num, (float)d) : jsonw_fmt_f64(num, d);
    if (!strpbrk(num, ".eE")) {
        memcpy(num + n, ".0", 3);
        n += 2;
    }
    jsonw_raw(w, num, n);
}

void schema_value_json(jsonw *w, schema_type t, const schema_value *v, bool real_point)
{
    switch (t) {
    case SCHEMA_INT:
        jsonw_i64(w, v->u.i32);
        break;
    case SCHEMA_BOOLEAN:
        jsonw_bool(w, v->u.i32 != 0);
        break;
    case SCHEMA_LONG:
    case SCHEMA_TIMESTAMP:
        jsonw_i64(w, v->u.i64);
        break;
    case SCHEMA_FLOAT:
        schema__real(w, v->u.f32, true, real_point);
        break;
    case SCHEMA_DOUBLE:
        schema__real(w, v->u.f64, false, real_point);
        break;
    case SCHEMA_STRING:
        jsonw_str(w, (const char *)v->u.bytes.ptr, v->u.bytes.len);
        break;
    case SCHEMA_BYTES:
        jsonw_hex(w, v->u.bytes.ptr, v->u.bytes.len);
        break;
    default:
        jsonw_null(w);
    }
}

char *schema_to_json(const schema *s, size_t *len)
{
    jsonw w;
    jsonw_init(&w);
    jsonw_obj_begin(&w);
    jsonw_key(&w, "schemaName");
    jsonw_cstr(&w, s->name);
    for (int r = 0; r < SCHEMA_ROLE__COUNT; r++) {
        jsonw_key(&w, role_keys[r]);
        jsonw_arr_begin(&w);
        for (uint32_t i = 0; i < s->nfields; i++) {
            const schema_field *f = &s->fields[i];
            if (f->role != (schema_role)r) continue;
            jsonw_obj_begin(&w);
            jsonw_key(&w, "name");
            jsonw_cstr(&w, f->name);
            jsonw_key(&w, "dataType");
            jsonw_cstr(&w, f->json ? "JSON" : f->big_decimal ? "BIG_DECIMAL" : type_names[f->type]);
            if (f->role == SCHEMA_DIMENSION) {
                jsonw_key(&w, "singleValueField");
                jsonw_bool(&w, f->single_value);
            }
            if (f->default_explicit) {
                jsonw_key(&w, "defaultNullValue");
                if (f->big_decimal)
                    schema_big_decimal_json(&w, &f->default_null);
                else
                    schema_value_json(&w, f->type, &f->default_null, true);
            }
            if (f->format) {
                jsonw_key(&w, "format");
                jsonw_cstr(&w, f->format);
            }
            if (f->granularity) {
                jsonw_key(&w, "granularity");
                jsonw_cstr(&w, f->granularity);
            }
            if (f->max_length) {
                jsonw_key(&w, "maxLength");
                jsonw_u64(&w, f->max_length);
            }
            if (f->max_strategy != SCHEMA_MAXLEN_DEFAULT) {
                jsonw_key(&w, "maxLengthExceedStrategy");
                jsonw_cstr(&w, maxlen_names[f->max_strategy]);
            }
            if (f->not_null_explicit) {
                jsonw_key(&w, "notNull");
                jsonw_bool(&w, f->not_null);
            }
            if (f->transform_text) {
                jsonw_key(&w, "transformFunction");
                jsonw_cstr(&w, f->transform_text);
            }
            jsonw_obj_end(&w);
        }
        jsonw_arr_end(&w);
    }
    if (s->column_nulls_explicit) {
        jsonw_key(&w, "enableColumnBasedNullHandling");
        jsonw_bool(&w, s->column_nulls);
    }
    if (s->nprimary_keys) {
        jsonw_key(&w, "primaryKeyColumns");
        jsonw_arr_begin(&w);
        for (uint32_t i = 0; i < s->nprimary_keys; i++)
            jsonw_cstr(&w, s->fields[s->primary_keys[i]].name);
        jsonw_arr_end(&w);
    }
    jsonw_obj_end(&w);
    if (len) *len = w.len;
    return w.buf; /* ownership passes to the caller */
}

bool schema_big_decimal_text(const schema_value *v, char *buf, size_t cap)
{
    char dig[BIGDEC_MAX_DIGITS];
    bigdec d;
    if (bigdec_deserialize(v->u.bytes.ptr, v->u.bytes.len, dig, sizeof dig, &d)) return false;
    return bigdec_to_string(&d, buf, cap) > 0;
}

void schema_big_decimal_json(struct jsonw *w, const schema_value *v)
{
    char txt[BIGDEC_MAX_DIGITS + BIGDEC_TEXT_EXTRA];
    if (schema_big_decimal_text(v, txt, sizeof txt))
        jsonw_cstr(w, txt);
    else
        jsonw_hex(w, v->u.bytes.ptr, v->u.bytes.len); /* not a serialized BigDecimal */
}
