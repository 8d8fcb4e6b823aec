/* Avro field scanner (consumer/avroscan.h).
 *
 * A schema is compiled once into a plan: per top-level field of the record, the wanted field
 * it fills (or -1: its value is only skipped, but still checked). A run walks the record's
 * fields in schema order, reading Avro's binary encoding (zig-zag varints, length-prefixed
 * strings and bytes, blocked arrays and maps, union branch indexes) with a bounds check on
 * every read. Nested records, maps and non-list arrays are written as JSON text. */
#include "consumer/avroscan.h"
#include "common/bigdec.h"
#include "consumer/registry.h"

#include "common/clock.h"
#include "common/jsonw.h"
#include "common/xalloc.h"
#include "common/xform.h"

#include <avro.h>
#include <jansson.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define AVRO_MAX_DEPTH 28         /* nested containers (the JSON writer allows 32) */
#define AVRO_MAX_ELEMS (1u << 20) /* array and map entries in one message */
#define AVRO_CACHE REGISTRY_CACHE /* registry schemas compiled and kept */

/* A top-level field's logical type (Avro spec "Logical Types"), as Pinot's AvroRecordExtractor
 * converts it; an annotation on the wrong base type is ignored, as Avro's Java library does. */
typedef enum avro_lt_kind {
    LT_NONE = 0,
    LT_DECIMAL,     /* bytes or fixed: BigDecimal(unscaled, scale) */
    LT_TS_MILLIS,   /* long: Timestamp */
    LT_TS_MICROS,   /* long: Timestamp */
    LT_TS_NANOS,    /* long: Timestamp */
    LT_DATE,        /* int: LocalDate */
    LT_TIME_MILLIS, /* int: LocalTime */
    LT_TIME_MICROS, /* long: LocalTime */
    LT_UUID,        /* string or fixed(16): UUID */
} avro_lt_kind;

typedef struct avro_lt {
    uint8_t kind;  /* avro_lt_kind */
    int32_t scale; /* LT_DECIMAL */
} avro_lt;

#define AVRO_LT_BRANCHES 8 /* union branches whose logical types are known */

/* A compiled writer schema. */
typedef struct avro_plan {
    int32_t id; /* registry id; -1 for the configured schema */
    avro_schema_t schema;
    int32_t *want;    /* per record field: the wanted field, or -1 */
    avro_lt *lt;      /* per record field and union branch (AVRO_LT_BRANCHES each) */
    int64_t retry_at; /* a failed fetch (schema NULL): when to ask again */
    char why[128];
} avro_plan;

struct avroscan {
    const tcfg *t;
    uint32_t n;
    char **names;
    uint32_t *lens;
    uint8_t *flags;
    avro_plan *plans; /* the configured schema, or the registry's, most recent last */
    uint32_t nplans;
    scanvals sv; /* the values of the message (the selected row) */
    uint32_t budget;
    uint8_t *buf; /* the message's copy */
    size_t cap;
    bool in_place;          /* avroscan_in_place: read the caller's bytes, no copy */
    const uint8_t *start;   /* where the last run began (used = p - start) */
    const uint8_t *rec;     /* the last run's record (after any header) */
    avro_schema_t rec_schema; /* ... and its schema (borrowed from its plan) */
    const uint8_t *p, *end; /* reading position */
    xform_ctx *cx;          /* per-message text: numbers, JSON of nested values, fixed-up strings */
    jsonw jw;
    registry *reg; /* the Confluent decoder's schema registry */
    char err[192];
};

/* The logical type of a field type's JSON t (an object with "logicalType", or not). */
static avro_lt logical_of(const json_t *t)
{
    avro_lt lt = {LT_NONE, 0};
    const char *name = json_string_value(json_object_get(t, "logicalType"));
    const char *base = json_string_value(json_object_get(t, "type"));
    if (!name || !base) return lt;
    static const struct {
        const char *name, *base, *base2;
        avro_lt_kind kind;
    } known[] = {{"decimal", "bytes", "fixed", LT_DECIMAL},
                 {"timestamp-millis", "long", NULL, LT_TS_MILLIS},
                 {"timestamp-micros", "long", NULL, LT_TS_MICROS},
                 {"timestamp-nanos", "long", NULL, LT_TS_NANOS},
                 {"date", "int", NULL, LT_DATE},
                 {"time-millis", "int", NULL, LT_TIME_MILLIS},
                 {"time-micros", "long", NULL, LT_TIME_MICROS},
                 {"uuid", "string", "fixed", LT_UUID}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (strcmp(name, known[i].name) != 0) continue;
        if (strcmp(base, known[i].base) != 0 && !(known[i].base2 && !strcmp(base, known[i].base2)))
            return lt;
        if (known[i].kind == LT_DECIMAL) { /* precision > 0, 0 <= scale <= precision */
            json_t *pj = json_object_get(t, "precision"), *sj = json_object_get(t, "scale");
            json_int_t pr = json_is_integer(pj) ? json_integer_value(pj) : 0;
            json_int_t sc = json_is_integer(sj) ? json_integer_value(sj) : 0;
            if (pr <= 0 || sc < 0 || sc > pr || (sj && !json_is_integer(sj))) return lt;
            lt.scale = (int32_t)sc;
        }
        if (known[i].kind == LT_UUID && !strcmp(base, "fixed") &&
            json_integer_value(json_object_get(t, "size")) != 16)
            return lt;
        lt.kind = (uint8_t)known[i].kind;
    }
    return lt;
}

static int compile(avroscan *s, avro_plan *pl, avro_schema_t sc, const char *json, size_t jlen,
                   char *err, size_t errlen)
{
    if (avro_typeof(sc) != AVRO_RECORD) {
        snprintf(err, errlen, "the Avro schema is a %s, not a record", avro_schema_type_name(sc));
        return -1;
    }
    size_t nf = avro_schema_record_size(sc);
    pl->schema = sc;
    pl->want = sl_xcalloc(nf ? nf : 1, sizeof *pl->want);
    pl->lt = sl_xcalloc((nf ? nf : 1) * AVRO_LT_BRANCHES, sizeof *pl->lt);
    /* avro-c keeps no logical types: they come from the schema's JSON, field by field */
    json_error_t je;
    json_t *doc = json_loadb(json, jlen, 0, &je);
    json_t *fields = json_object_get(doc, "fields");
    for (size_t f = 0; f < nf && json_array_size(fields) == nf; f++) {
        json_t *t = json_object_get(json_array_get(fields, f), "type");
        if (json_is_array(t))
            for (size_t b = 0; b < json_array_size(t) && b < AVRO_LT_BRANCHES; b++)
                pl->lt[f * AVRO_LT_BRANCHES + b] = logical_of(json_array_get(t, b));
        else
            pl->lt[f * AVRO_LT_BRANCHES] = logical_of(t);
    }
    json_decref(doc);
    for (size_t f = 0; f < nf; f++) {
        const char *name = avro_schema_record_field_name(sc, (int)f);
        pl->want[f] = -1;
        for (uint32_t i = 0; i < s->n && pl->want[f] < 0; i++)
            if (strlen(name) == s->lens[i] && memcmp(name, s->names[i], s->lens[i]) == 0)
                pl->want[f] = (int32_t)i;
    }
    return 0;
}

avroscan *avroscan_new(const char *const *names, const uint32_t *lens, const uint8_t *flags,
                       uint32_t n, const tcfg *t, char *err, size_t errlen)
{
    avroscan *s = sl_xcalloc(1, sizeof *s);
    s->t = t;
    s->n = n;
    s->names = sl_xcalloc(n ? n : 1, sizeof *s->names);
    s->lens = sl_xcalloc(n ? n : 1, sizeof *s->lens);
    s->flags = sl_xcalloc(n ? n : 1, 1);
    scanvals_init(&s->sv, n);
    for (uint32_t i = 0; i < n; i++) {
        s->names[i] = sl_xmemdupz(names[i], lens[i]);
        s->lens[i] = lens[i];
        s->flags[i] = flags ? flags[i] : 0;
    }
    s->cx = xform_ctx_new();
    jsonw_init(&s->jw);
    s->plans = sl_xcalloc(t->decoder == TCFG_DECODER_AVRO ? 1 : AVRO_CACHE, sizeof *s->plans);
    if (t->decoder == TCFG_DECODER_AVRO) {
        avro_schema_t sc;
        if (!t->avro_schema ||
            avro_schema_from_json_length(t->avro_schema, strlen(t->avro_schema), &sc)) {
            snprintf(err, errlen, "not an Avro schema: %s", avro_strerror());
            avroscan_free(s);
            return NULL;
        }
        s->plans[0].id = -1;
        if (compile(s, &s->plans[0], sc, t->avro_schema, strlen(t->avro_schema), err, errlen)) {
            avro_schema_decref(sc);
            avroscan_free(s);
            return NULL;
        }
        s->nplans = 1;
    } else {
        s->reg = registry_new(t->registry_url, t->registry_userinfo);
    }
    return s;
}

void avroscan_free(avroscan *s)
{
    if (!s) return;
    for (uint32_t i = 0; i < s->nplans; i++) {
        if (s->plans[i].schema) avro_schema_decref(s->plans[i].schema);
        free(s->plans[i].want);
        free(s->plans[i].lt);
    }
    free(s->plans);
    for (uint32_t i = 0; i < s->n; i++)
        free(s->names[i]);
    free(s->names);
    free(s->lens);
    free(s->flags);
    scanvals_free(&s->sv);
    free(s->buf);
    xform_ctx_free(s->cx);
    jsonw_free(&s->jw);
    registry_free(s->reg);
    free(s);
}

const scanvals *avroscan_vals(const avroscan *s)
{
    return &s->sv;
}

const char *avroscan_error_text(const avroscan *s)
{
    return s->err;
}

/* ---- the registry ---------------------------------------------------------------------- */

/* Schema id's plan: cached, or compiled from what the registry gives (consumer/registry). */
static avro_plan *registry_plan(avroscan *s, int32_t id)
{
    int64_t now = sl_clock_mono_ms();
    for (uint32_t i = 0; i < s->nplans; i++) {
        avro_plan *pl = &s->plans[i];
        if (pl->id != id) continue;
        if (pl->schema || now < pl->retry_at) return pl;
        free(pl->want); /* a failure whose time is up: ask again in its place */
        free(pl->lt);
        memmove(pl, pl + 1, (s->nplans - i - 1) * sizeof *pl);
        s->nplans--;
        break;
    }
    if (s->nplans == AVRO_CACHE) { /* the oldest goes */
        if (s->plans[0].schema) avro_schema_decref(s->plans[0].schema);
        free(s->plans[0].want);
        free(s->plans[0].lt);
        memmove(s->plans, s->plans + 1, (AVRO_CACHE - 1) * sizeof *s->plans);
        s->nplans--;
    }
    avro_plan *pl = &s->plans[s->nplans++];
    memset(pl, 0, sizeof *pl);
    pl->id = id;
    pl->retry_at = now + REGISTRY_RETRY_MS;
    const char *text, *type;
    size_t len;
    avro_schema_t sc;
    if (registry_schema(s->reg, id, &text, &len, &type, pl->why, sizeof pl->why)) {
    } else if (strcmp(type, "AVRO") != 0) {
        snprintf(pl->why, sizeof pl->why, "schema id %" PRId32 " is a %.16s schema, not Avro", id,
                 type);
    } else if (avro_schema_from_json_length(text, len, &sc)) {
        snprintf(pl->why, sizeof pl->why, "schema id %" PRId32 ": not an Avro schema: %.60s", id,
                 avro_strerror());
    } else if (compile(s, pl, sc, text, len, pl->why, sizeof pl->why)) {
        avro_schema_decref(sc);
    } else {
        pl->why[0] = '\0';
    }
    return pl;
}

/* ---- binary decoding ------------------------------------------------------------------- */

static int bad(avroscan *s, const char *what)
{
    snprintf(s->err, sizeof s->err, "%s at byte %zu", what, (size_t)(s->p - s->start));
    return -1;
}

static int read_long(avroscan *s, int64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (s->p >= s->end) return bad(s, "the record ends inside a number");
        uint8_t b = *s->p++;
        v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) {
            *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
            return 0;
        }
    }
    return bad(s, "a number longer than 10 bytes");
}

/* A length (string, bytes) that must fit in what is left. */
static int read_len(avroscan *s, size_t *out)
{
    int64_t n;
    if (read_long(s, &n)) return -1;
    if (n < 0 || (uint64_t)n > (uint64_t)(s->end - s->p))
        return bad(s, "a length past the end of the record");
    *out = (size_t)n;
    return 0;
}

static avro_schema_t resolve(avro_schema_t sc)
{
    while (avro_typeof(sc) == AVRO_LINK)
        sc = avro_schema_link_target(sc);
    return sc;
}

/* The number of entries of the next array or map block (0: the end); a negative count is
 * followed by the block's byte size, which is read and not trusted. */
static int block_count(avroscan *s, uint64_t *out)
{
    int64_t c, size;
    if (read_long(s, &c)) return -1;
    if (c < 0) {
        if (c == INT64_MIN || read_long(s, &size)) return bad(s, "a bad block count");
        c = -c;
    }
    if ((uint64_t)c > s->budget) return bad(s, "more array or map entries than allowed");
    s->budget -= (uint32_t)c;
    *out = (uint64_t)c;
    return 0;
}

static const char *text_copy(avroscan *s, const char *p, size_t n)
{
    return xform_ctx_copy(s->cx, p, n);
}

/* A string's bytes as Java reads them (invalid UTF-8 becomes U+FFFD), in per-message text. */
static void string_val(avroscan *s, const uint8_t *p, size_t n, jsonscan_val *v)
{
    char *o = xform_ctx_alloc(s->cx, n * 3 + 1);
    v->kind = JSONSCAN_STRING;
    v->text = o;
    v->len = (uint32_t)jsonw_utf8_java(p, n, o);
}

static void number_text(avroscan *s, jsonscan_val *v, const char *txt, size_t n)
{
    v->text = text_copy(s, txt, n);
    v->len = (uint32_t)n;
}

static int value(avroscan *s, avro_schema_t sc, int depth, jsonscan_val *v, bool list);

/* The value of schema sc as JSON into s->jw (a nested value): bytes as base64 (Jackson's
 * byte[]), non-finite numbers as strings. */
static int json_value(avroscan *s, avro_schema_t sc, int depth)
{
    sc = resolve(sc);
    if (depth > AVRO_MAX_DEPTH) return bad(s, "values nested too deep");
    int64_t x;
    size_t n;
    switch (avro_typeof(sc)) {
    case AVRO_RECORD: {
        jsonw_obj_begin(&s->jw);
        size_t nf = avro_schema_record_size(sc);
        for (size_t f = 0; f < nf; f++) {
            jsonw_key(&s->jw, avro_schema_record_field_name(sc, (int)f));
            if (json_value(s, avro_schema_record_field_get_by_index(sc, (int)f), depth + 1))
                return -1;
        }
        jsonw_obj_end(&s->jw);
        return 0;
    }
    case AVRO_MAP:
    case AVRO_ARRAY: {
        bool map = avro_typeof(sc) == AVRO_MAP;
        avro_schema_t item = map ? avro_schema_map_values(sc) : avro_schema_array_items(sc);
        map ? jsonw_obj_begin(&s->jw) : jsonw_arr_begin(&s->jw);
        for (;;) {
            uint64_t c;
            if (block_count(s, &c)) return -1;
            if (c == 0) break;
            for (uint64_t k = 0; k < c; k++) {
                if (map) {
                    if (read_len(s, &n)) return -1;
                    char *key = xform_ctx_alloc(s->cx, n * 3 + 1);
                    size_t kl = jsonw_utf8_java(s->p, n, key);
                    key[kl] = '\0';
                    s->p += n;
                    jsonw_key(&s->jw, key);
                }
                if (json_value(s, item, depth + 1)) return -1;
            }
        }
        map ? jsonw_obj_end(&s->jw) : jsonw_arr_end(&s->jw);
        return 0;
    }
    case AVRO_UNION: {
        if (read_long(s, &x)) return -1;
        if (x < 0 || (size_t)x >= avro_schema_union_size(sc))
            return bad(s, "a union branch the schema does not have");
        return json_value(s, avro_schema_union_branch(sc, (int)x), depth + 1);
    }
    default: {
        jsonscan_val v;
        if (value(s, sc, depth, &v, false)) return -1;
        scanvals_json_scalar(&s->jw, &v);
        return 0;
    }
    }
}

/* A nested value as JSON text of kind OBJECT or ARRAY in per-message text. */
static int nested(avroscan *s, avro_schema_t sc, int depth, jsonscan_val *v)
{
    jsonw_reset(&s->jw);
    if (json_value(s, sc, depth)) return -1;
    memset(v, 0, sizeof *v);
    v->kind = avro_typeof(resolve(sc)) == AVRO_ARRAY ? JSONSCAN_ARRAY : JSONSCAN_OBJECT;
    v->text = text_copy(s, s->jw.buf, s->jw.len);
    v->len = (uint32_t)s->jw.len;
    return 0;
}

/* One value of schema sc into v; list: v is a multi-value field's, so an array becomes a LIST
 * of its elements. */
static int value(avroscan *s, avro_schema_t sc, int depth, jsonscan_val *v, bool list)
{
    sc = resolve(sc);
    if (depth > AVRO_MAX_DEPTH) return bad(s, "values nested too deep");
    memset(v, 0, sizeof *v);
    int64_t x;
    size_t n;
    char num[48];
    switch (avro_typeof(sc)) {
    case AVRO_NULL:
        v->kind = JSONSCAN_NULL;
        return 0;
    case AVRO_BOOLEAN:
        if (s->p >= s->end) return bad(s, "the record ends inside a boolean");
        v->kind = JSONSCAN_BOOL;
        v->v.b = *s->p++ == 1; /* as Java's BinaryDecoder reads it */
        return 0;
    case AVRO_INT32:
    case AVRO_INT64:
        if (read_long(s, &x)) return -1;
        if (avro_typeof(sc) == AVRO_INT32 && (x < INT32_MIN || x > INT32_MAX))
            return bad(s, "an int past 32 bits");
        v->kind = JSONSCAN_INT64;
        v->int_literal = true;
        v->v.i64 = x;
        number_text(s, v, num, jsonw_fmt_i64(num, x));
        return 0;
    case AVRO_FLOAT: {
        if (s->end - s->p < 4) return bad(s, "the record ends inside a float");
        float f;
        memcpy(&f, s->p, 4); /* little-endian, as this machine */
        s->p += 4;
        v->kind = JSONSCAN_DOUBLE;
        v->v.f64 = f;
        number_text(s, v, num, jsonw_fmt_java_f32(num, f));
        return 0;
    }
    case AVRO_DOUBLE: {
        if (s->end - s->p < 8) return bad(s, "the record ends inside a double");
        double d;
        memcpy(&d, s->p, 8);
        s->p += 8;
        v->kind = JSONSCAN_DOUBLE;
        v->v.f64 = d;
        number_text(s, v, num, jsonw_fmt_java_f64(num, d));
        return 0;
    }
    case AVRO_STRING:
        if (read_len(s, &n)) return -1;
        string_val(s, s->p, n, v);
        s->p += n;
        return 0;
    case AVRO_BYTES:
    case AVRO_FIXED:
        if (avro_typeof(sc) == AVRO_BYTES) {
            if (read_len(s, &n)) return -1;
        } else {
            int64_t fs = avro_schema_fixed_size(sc);
            if (fs < 0 || fs > s->end - s->p) return bad(s, "the record ends inside a fixed");
            n = (size_t)fs;
        }
        v->kind = JSONSCAN_BYTES;
        v->text = (const char *)s->p;
        v->len = (uint32_t)n;
        s->p += n;
        return 0;
    case AVRO_ENUM: {
        if (read_long(s, &x)) return -1;
        if (x < 0 || x >= avro_schema_enum_number_of_symbols(sc))
            return bad(s, "an enum symbol the schema does not have");
        const char *sym = avro_schema_enum_get(sc, (int)x);
        v->kind = JSONSCAN_STRING;
        v->text = sym;
        v->len = (uint32_t)strlen(sym);
        v->nul_free = true;
        return 0;
    }
    case AVRO_UNION:
        if (read_long(s, &x)) return -1;
        if (x < 0 || (size_t)x >= avro_schema_union_size(sc))
            return bad(s, "a union branch the schema does not have");
        return value(s, avro_schema_union_branch(sc, (int)x), depth + 1, v, list);
    case AVRO_ARRAY:
        if (list) {
            avro_schema_t item = avro_schema_array_items(sc);
            uint32_t count = 0;
            /* elements go to a list of their own first: a nested value may add elements */
            for (;;) {
                uint64_t c;
                if (block_count(s, &c)) return -1;
                if (c == 0) break;
                for (uint64_t k = 0; k < c; k++) {
                    jsonscan_val e;
                    avro_schema_t it = resolve(item);
                    int rc = avro_typeof(it) == AVRO_ARRAY || avro_typeof(it) == AVRO_RECORD ||
                                     avro_typeof(it) == AVRO_MAP
                                 ? nested(s, it, depth + 1, &e)
                                 : value(s, it, depth + 1, &e, false);
                    if (rc) return -1;
                    if (e.kind == JSONSCAN_LIST) return bad(s, "a nested list"); /* never */
                    *scanvals_push(&s->sv) = e;
                    count++;
                }
            }
            v->kind = JSONSCAN_LIST;
            v->v.list.first = s->sv.nelems - count;
            v->v.list.count = count;
            return 0;
        }
        return nested(s, sc, depth, v);
    case AVRO_RECORD:
    case AVRO_MAP:
        return nested(s, sc, depth, v);
    default:
        return bad(s, "a schema type the decoder does not know");
    }
}

/* floor(a / b) and its remainder in [0, b), for b > 0 (Java's floorDiv and floorMod). */
static int64_t floor_div(int64_t a, int64_t b, int64_t *mod)
{
    int64_t q = a / b, r = a % b;
    if (r < 0) {
        q--;
        r += b;
    }
    *mod = r;
    return q;
}

/* Java's java.sql.Timestamp.toString of (secs, nanos), in UTC: "2024-05-06 07:08:09.5". */
static size_t timestamp_text(int64_t secs, int64_t nanos, char *out, size_t cap)
{
    time_t t = (time_t)secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = strftime(out, cap, "%Y-%m-%d %H:%M:%S", &tm);
    char frac[16];
    int k = snprintf(frac, sizeof frac, "%09lld", (long long)nanos);
    while (k > 1 && frac[k - 1] == '0')
        k--;
    return n + (size_t)snprintf(out + n, cap - n, ".%.*s", k, frac);
}

/* Java's LocalTime.toString of nanos since midnight: HH:mm, then :ss, then the fraction in
 * groups of 3 digits, each only when not zero. */
static size_t time_text(int64_t nanos, char *out, size_t cap)
{
    int64_t secs = nanos / 1000000000, ns = nanos % 1000000000;
    int n =
        snprintf(out, cap, "%02lld:%02lld", (long long)(secs / 3600), (long long)(secs / 60 % 60));
    if (secs % 60 || ns) n += snprintf(out + n, cap - (size_t)n, ":%02lld", (long long)(secs % 60));
    if (ns % 1000000 == 0 && ns)
        n += snprintf(out + n, cap - (size_t)n, ".%03lld", (long long)(ns / 1000000));
    else if (ns % 1000 == 0 && ns)
        n += snprintf(out + n, cap - (size_t)n, ".%06lld", (long long)(ns / 1000));
    else if (ns)
        n += snprintf(out + n, cap - (size_t)n, ".%09lld", (long long)ns);
    return (size_t)n;
}

/* v (the field's physical value) as Pinot's AvroRecordExtractor converts its logical type: a
 * decimal a BigDecimal (its Java text, a number to the column), a timestamp a Timestamp (epoch
 * ms to a number column, its text to a STRING one), a date a LocalDate (epoch days; ISO
 * text), a time a LocalTime (ms since midnight; its text), a fixed uuid its text. 0, or -1
 * for a decimal too long to hold. */
static int apply_logical(avroscan *s, const avro_lt *lt, jsonscan_val *v)
{
    char buf[96];
    size_t n = 0;
    int64_t x = v->v.i64, mod, secs;
    switch (lt->kind) {
    case LT_DECIMAL: {
        if (v->kind != JSONSCAN_BYTES || v->len > BIGDEC_MAX_DIGITS / 3)
            return v->kind == JSONSCAN_BYTES ? bad(s, "a decimal longer than 1365 bytes") : 0;
        /* Pinot's serialized form is the scale (16 bits) and then Avro's very bytes */
        uint8_t *ser = (uint8_t *)xform_ctx_alloc(s->cx, v->len + 3);
        ser[0] = (uint8_t)((uint32_t)lt->scale >> 8);
        ser[1] = (uint8_t)lt->scale;
        memcpy(ser + 2, v->text, v->len);
        if (v->len == 0) ser[2] = 0; /* BigInteger of no bytes: 0 */
        size_t cap = 3 * (v->len + 3) + BIGDEC_TEXT_EXTRA;
        char *digits = xform_ctx_alloc(s->cx, cap), *text = xform_ctx_alloc(s->cx, cap);
        bigdec d;
        if (bigdec_deserialize(ser, v->len ? v->len + 2 : 3, digits, cap, &d) ||
            !(n = bigdec_to_string(&d, text, cap)))
            return bad(s, "a decimal that does not convert");
        v->kind = JSONSCAN_BIGNUM;
        v->int_literal = false;
        v->exact = true;
        v->text = text;
        v->len = (uint32_t)n;
        return 0;
    }
    case LT_TS_MILLIS:
    case LT_TS_MICROS:
    case LT_TS_NANOS: {
        if (v->kind != JSONSCAN_INT64) return 0;
        int64_t per_sec = lt->kind == LT_TS_MILLIS   ? 1000
                          : lt->kind == LT_TS_MICROS ? 1000000
                                                     : 1000000000;
        secs = floor_div(x, per_sec, &mod);
        int64_t nanos = mod * (1000000000 / per_sec);
        v->v.i64 = secs * 1000 + nanos / 1000000; /* Timestamp.getTime() */
        n = timestamp_text(secs, nanos, buf, sizeof buf);
        break;
    }
    case LT_DATE: {
        if (v->kind != JSONSCAN_INT64) return 0;
        time_t t = (time_t)(x * 86400);
        struct tm tm;
        gmtime_r(&t, &tm);
        n = strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
        break;
    }
    case LT_TIME_MILLIS:
    case LT_TIME_MICROS:
        if (v->kind != JSONSCAN_INT64 || x < 0 ||
            x >= 86400LL * (lt->kind == LT_TIME_MILLIS ? 1000 : 1000000))
            return v->kind == JSONSCAN_INT64 ? bad(s, "a time of day out of range") : 0;
        n = time_text(lt->kind == LT_TIME_MILLIS ? x * 1000000 : x * 1000, buf, sizeof buf);
        v->v.i64 = lt->kind == LT_TIME_MILLIS ? x : x / 1000; /* Pinot keeps ms of the day */
        break;
    case LT_UUID:
        if (v->kind != JSONSCAN_BYTES || v->len != 16) return 0; /* a string uuid is its text */
        for (int i = 0; i < 16; i++)
            n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%02x",
                                  i == 4 || i == 6 || i == 8 || i == 10 ? "-" : "",
                                  (unsigned char)v->text[i]);
        v->kind = JSONSCAN_STRING;
        v->nul_free = true;
        break;
    default:
        return 0;
    }
    v->text = text_copy(s, buf, n);
    v->len = (uint32_t)n;
    return 0;
}

avroscan_status avroscan_run(avroscan *s, const uint8_t *msg, size_t len)
{
    s->err[0] = '\0';
    s->budget = AVRO_MAX_ELEMS;
    xform_ctx_reset(s->cx);
    if (s->in_place) {
        s->p = s->start = msg;
        s->end = msg + len;
    } else {
        if (len + 1 > s->cap) {
            s->cap = len + 1;
            s->buf = sl_xrealloc(s->buf, s->cap);
        }
        memcpy(s->buf, msg, len);
        s->p = s->start = s->buf;
        s->end = s->buf + len;
    }
    avro_plan *pl = &s->plans[0];
    if (s->t->decoder == TCFG_DECODER_AVRO) {
        if (len < s->t->avro_skip) {
            snprintf(s->err, sizeof s->err, "%zu bytes, fewer than leading.bytes.to.strip %" PRIu32,
                     len, s->t->avro_skip);
            return AVROSCAN_MALFORMED;
        }
        s->p += s->t->avro_skip;
    } else {
        int32_t id;
        const uint8_t *body;
        size_t blen;
        if (registry_wire(s->p, len, &id, &body, &blen)) {
            snprintf(s->err, sizeof s->err, "unknown magic byte: not Confluent's Avro format");
            return AVROSCAN_MALFORMED;
        }
        s->p = body;
        pl = registry_plan(s, id);
        if (!pl->schema) {
            snprintf(s->err, sizeof s->err, "%s", pl->why);
            return AVROSCAN_NO_SCHEMA;
        }
    }
    scanvals_clear(&s->sv, JSONSCAN_ABSENT);
    s->rec = s->p;
    s->rec_schema = pl->schema;
    size_t nf = avro_schema_record_size(pl->schema);
    for (size_t f = 0; f < nf; f++) {
        avro_schema_t fs = avro_schema_record_field_get_by_index(pl->schema, (int)f);
        int32_t w = pl->want[f];
        jsonscan_val scratch;
        jsonscan_val *v = w >= 0 ? &s->sv.vals[w] : &scratch;
        const avro_lt *lt = &pl->lt[f * AVRO_LT_BRANCHES];
        if (avro_typeof(fs) == AVRO_UNION) { /* the branch, here: its logical type is known */
            int64_t x;
            if (read_long(s, &x)) return AVROSCAN_MALFORMED;
            if (x < 0 || (size_t)x >= avro_schema_union_size(fs)) {
                bad(s, "a union branch the schema does not have");
                return AVROSCAN_MALFORMED;
            }
            static const avro_lt none = {LT_NONE, 0};
            lt = x < AVRO_LT_BRANCHES ? &lt[x] : &none;
            fs = avro_schema_union_branch(fs, (int)x);
        }
        if (value(s, fs, 1, v, w >= 0 && (s->flags[w] & JSONSCAN_F_LIST)))
            return AVROSCAN_MALFORMED;
        if (lt->kind && w >= 0 && apply_logical(s, lt, v)) return AVROSCAN_MALFORMED;
    }
    return AVROSCAN_OK; /* bytes after the record are ignored, as Java's reader does */
}

const char *avroscan_record_json(avroscan *s, size_t *len)
{
    const uint8_t *end = s->p;
    s->p = s->rec;
    s->budget = AVRO_MAX_ELEMS;
    jsonw_reset(&s->jw);
    int rc = json_value(s, s->rec_schema, 0);
    s->p = end; /* the record read once already: the same bytes, the same end */
    if (rc) return NULL;
    *len = s->jw.len;
    return s->jw.buf;
}

void avroscan_in_place(avroscan *s)
{
    s->in_place = true;
}

size_t avroscan_used(const avroscan *s)
{
    return (size_t)(s->p - s->start);
}
