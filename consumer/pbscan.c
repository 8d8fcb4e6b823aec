/* Protocol Buffers field scanner (consumer/pbscan.h).
 *
 * A run first checks the whole message as protobuf-java's parser and build() would: the wire
 * format at every level of the known message fields, proto3 strings valid UTF-8, proto2
 * required fields present. Then each wanted field is read from the top level: for a field,
 * every occurrence of its number with a compatible wire type counts (others are unknown
 * fields to the parser, as in Java). Nested messages are written as the JSON of their set
 * fields in declaration order. */
#include "consumer/pbscan.h"

#include "common/jsonw.h"
#include "common/xalloc.h"
#include "common/xform.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PBSCAN_MAX_DEPTH 14 /* nested messages: each may take two JSON levels of 32 */

struct pbscan {
    const pbdesc *d;
    int msg;
    uint32_t n;
    const pbdesc_field **fld; /* per wanted field its field of the message, or NULL */
    uint8_t *flags;
    scanvals sv; /* the values of the message (the selected row) */
    uint8_t *buf;
    size_t cap;
    xform_ctx *cx;
    jsonw jw;
    jsonw rec;  /* pbscan_record_json */
    size_t len; /* the last run's message */
    char err[192];
};

pbscan *pbscan_new(const char *const *names, const uint32_t *lens, const uint8_t *flags, uint32_t n,
                   const pbdesc *d, int msg)
{
    pbscan *s = sl_xcalloc(1, sizeof *s);
    s->d = d;
    s->msg = msg;
    s->n = n;
    s->fld = sl_xcalloc(n ? n : 1, sizeof *s->fld);
    s->flags = sl_xcalloc(n ? n : 1, 1);
    scanvals_init(&s->sv, n);
    const pbdesc_msg *m = &d->msgs[msg];
    for (uint32_t i = 0; i < n; i++) {
        s->flags[i] = flags ? flags[i] : 0;
        for (uint32_t f = 0; f < m->nfields && !s->fld[i]; f++)
            if (strlen(m->fields[f].name) == lens[i] &&
                !memcmp(m->fields[f].name, names[i], lens[i]))
                s->fld[i] = &m->fields[f];
    }
    s->cx = xform_ctx_new();
    jsonw_init(&s->jw);
    jsonw_init(&s->rec);
    return s;
}

void pbscan_free(pbscan *s)
{
    if (!s) return;
    free(s->fld);
    free(s->flags);
    scanvals_free(&s->sv);
    free(s->buf);
    xform_ctx_free(s->cx);
    jsonw_free(&s->jw);
    jsonw_free(&s->rec);
    free(s);
}

const scanvals *pbscan_vals(const pbscan *s)
{
    return &s->sv;
}

const char *pbscan_error_text(const pbscan *s)
{
    return s->err;
}

/* ---- scalars --------------------------------------------------------------------------- */

/* The wire type a field's one value has (a packed repeated field also comes as LEN). */
static unsigned wire_type(const pbdesc_field *f)
{
    switch (f->type) {
    case PBDESC_DOUBLE:
    case PBDESC_FIXED64:
    case PBDESC_SFIXED64:
        return PBDESC_WT_I64;
    case PBDESC_FLOAT:
    case PBDESC_FIXED32:
    case PBDESC_SFIXED32:
        return PBDESC_WT_I32;
    case PBDESC_STRING:
    case PBDESC_BYTES:
    case PBDESC_MESSAGE:
        return PBDESC_WT_LEN;
    default:
        return PBDESC_WT_VARINT;
    }
}

static bool packable(const pbdesc_field *f)
{
    return f->repeated && wire_type(f) != PBDESC_WT_LEN;
}

/* A number's value as Java holds it: the 32-bit types an int, the 64-bit ones a long
 * (unsigned ones reinterpreted), sint zig-zag decoded. */
static int64_t as_long(const pbdesc_field *f, uint64_t raw)
{
    switch (f->type) {
    case PBDESC_INT32:
    case PBDESC_UINT32:
    case PBDESC_FIXED32:
    case PBDESC_SFIXED32:
    case PBDESC_ENUM:
        return (int32_t)(uint32_t)raw;
    case PBDESC_SINT32:
        return (int32_t)((uint32_t)(raw >> 1) ^ -(uint32_t)(raw & 1));
    case PBDESC_SINT64:
        return (int64_t)((raw >> 1) ^ -(raw & 1));
    default:
        return (int64_t)raw;
    }
}

static double as_double(const pbdesc_field *f, uint64_t raw)
{
    if (f->type == PBDESC_FLOAT) {
        uint32_t b = (uint32_t)raw;
        float x;
        memcpy(&x, &b, 4);
        return x;
    }
    double x;
    memcpy(&x, &raw, 8);
    return x;
}

/* An enum value's name (Java names an unknown number UNKNOWN_ENUM_VALUE_<Enum>_<n>). */
static const char *enum_name(pbscan *s, const pbdesc_field *f, int32_t v, size_t *len)
{
    const pbdesc_enum *e = &s->d->enums[f->en];
    for (uint32_t i = 0; i < e->nvals; i++)
        if (e->vnums[i] == v) {
            *len = strlen(e->vnames[i]);
            return e->vnames[i];
        }
    char tmp[320];
    *len = (size_t)snprintf(tmp, sizeof tmp, "UNKNOWN_ENUM_VALUE_%.256s_%" PRId32, e->simple, v);
    if (*len >= sizeof tmp) *len = sizeof tmp - 1;
    return xform_ctx_copy(s->cx, tmp, *len);
}

/* A string's text: a proto2 string as Java decodes it (bad bytes become U+FFFD); proto3
 * strings were checked to be valid. */
static const char *string_text(pbscan *s, const uint8_t *p, size_t n, size_t *len)
{
    char *o = xform_ctx_alloc(s->cx, n * 3 + 1);
    *len = jsonw_utf8_java(p, n, o);
    return o;
}

/* One scalar value (not a message) of field f into v. raw: VARINT/I32/I64 bits; p/n: LEN. */
static void scalar_val(pbscan *s, const pbdesc_field *f, uint64_t raw, const uint8_t *p, size_t n,
                       jsonscan_val *v)
{
    char num[48];
    size_t k;
    memset(v, 0, sizeof *v);
    switch (f->type) {
    case PBDESC_BOOL:
        v->kind = JSONSCAN_BOOL;
        v->v.b = raw != 0;
        return;
    case PBDESC_DOUBLE:
    case PBDESC_FLOAT:
        v->kind = JSONSCAN_DOUBLE;
        v->v.f64 = as_double(f, raw);
        k = f->type == PBDESC_FLOAT ? jsonw_fmt_java_f32(num, (float)v->v.f64)
                                    : jsonw_fmt_java_f64(num, v->v.f64);
        v->text = xform_ctx_copy(s->cx, num, k);
        v->len = (uint32_t)k;
        return;
    case PBDESC_STRING:
        v->kind = JSONSCAN_STRING;
        v->text = string_text(s, p, n, &k);
        v->len = (uint32_t)k;
        return;
    case PBDESC_BYTES:
        v->kind = JSONSCAN_BYTES;
        v->text = (const char *)p;
        v->len = (uint32_t)n;
        return;
    case PBDESC_ENUM:
        v->kind = JSONSCAN_STRING;
        v->text = enum_name(s, f, (int32_t)as_long(f, raw), &k);
        v->len = (uint32_t)k;
        return;
    default:
        v->kind = JSONSCAN_INT64;
        v->int_literal = true;
        v->v.i64 = as_long(f, raw);
        k = jsonw_fmt_i64(num, v->v.i64);
        v->text = xform_ctx_copy(s->cx, num, k);
        v->len = (uint32_t)k;
        return;
    }
}

/* The bits of a field's default, when a message lacks it (a proto3 scalar, a map entry's
 * key or value): 0, or an enum's first value. */
static uint64_t default_raw(const pbscan *s, const pbdesc_field *f)
{
    if (f->type == PBDESC_ENUM && s->d->enums[f->en].nvals)
        return (uint32_t)s->d->enums[f->en].vnums[0];
    return 0;
}

/* ---- occurrences ----------------------------------------------------------------------- */

/* Calls back each value of field f in the message p[0..n) in order: an unpacked one, or each
 * of a packed run. */
typedef void (*each_fn)(pbscan *s, const pbdesc_field *f, uint64_t raw, const uint8_t *p, size_t n,
                        void *arg);

static void each_value(pbscan *s, const pbdesc_field *f, const uint8_t *p, size_t n, each_fn fn,
                       void *arg)
{
    const uint8_t *q = p, *end = p + n;
    pbdesc_item it;
    unsigned wt = wire_type(f);
    while (pbdesc_next(&q, end, &it) > 0) { /* validated: no error here */
        if (it.number != f->number) continue;
        if (it.wt == wt) {
            fn(s, f, it.v, it.p, it.len, arg);
        } else if (it.wt == PBDESC_WT_LEN && packable(f)) {
            const uint8_t *r = it.p, *re = it.p + it.len;
            while (r < re) {
                uint64_t raw = 0;
                if (wt == PBDESC_WT_VARINT) {
                    if (pbdesc_varint(&r, re, &raw)) break;
                } else {
                    size_t w = wt == PBDESC_WT_I64 ? 8 : 4;
                    if ((size_t)(re - r) < w) break;
                    for (size_t i = 0; i < w; i++)
                        raw |= (uint64_t)r[i] << (8 * i);
                    r += w;
                }
                fn(s, f, raw, NULL, 0, arg);
            }
        }
    }
}

typedef struct last_arg {
    bool seen;
    uint64_t raw;
    const uint8_t *p;
    size_t n;
} last_arg;

static void keep_last(pbscan *s, const pbdesc_field *f, uint64_t raw, const uint8_t *p, size_t n,
                      void *arg)
{
    (void)s, (void)f;
    last_arg *a = arg;
    *a = (last_arg){true, raw, p, n};
}

typedef struct merge_arg {
    const uint8_t *p; /* one occurrence: its bytes; several: their concatenation */
    size_t n;
    int count;
} merge_arg;

/* A message field's occurrences merge: parsing their concatenation is protobuf's merge. */
static void merge(pbscan *s, const pbdesc_field *f, uint64_t raw, const uint8_t *p, size_t n,
                  void *arg)
{
    (void)f, (void)raw;
    merge_arg *a = arg;
    if (a->count++ == 0) {
        a->p = p;
        a->n = n;
        return;
    }
    uint8_t *c = (uint8_t *)xform_ctx_alloc(s->cx, a->n + n + 1);
    memcpy(c, a->p, a->n);
    memcpy(c + a->n, p, n);
    a->p = c;
    a->n += n;
}

/* ---- JSON of a message ----------------------------------------------------------------- */

static void json_message(pbscan *s, int msg, const uint8_t *p, size_t n, int depth);

static void json_scalar(pbscan *s, const pbdesc_field *f, uint64_t raw, const uint8_t *p, size_t n)
{
    jsonscan_val v;
    scalar_val(s, f, raw, p, n, &v);
    scanvals_json_scalar(&s->jw, &v);
}

typedef struct json_each_arg {
    int depth;
} json_each_arg;

static void json_one(pbscan *s, const pbdesc_field *f, uint64_t raw, const uint8_t *p, size_t n,
                     void *arg)
{
    json_each_arg *a = arg;
    if (f->type == PBDESC_MESSAGE)
        json_message(s, f->msg, p, n, a->depth + 1);
    else
        json_scalar(s, f, raw, p, n);
}

/* A map entry's key as a JSON object key, and its value. */
static void json_entry(pbscan *s, const pbdesc_field *f, uint64_t raw, const uint8_t *p, size_t n,
                       void *arg)
{
    (void)raw;
    json_each_arg *a = arg;
    const pbdesc_msg *e = &s->d->msgs[f->msg];
    last_arg k = {0};
    each_value(s, &e->fields[0], p, n, keep_last, &k);
    jsonscan_val kv;
    if (k.seen)
        scalar_val(s, &e->fields[0], k.raw, k.p, k.n, &kv);
    else
        scalar_val(s, &e->fields[0], default_raw(s, &e->fields[0]), (const uint8_t *)"", 0, &kv);
    char *key = xform_ctx_alloc(s->cx, (kv.kind == JSONSCAN_BOOL ? 5 : kv.len) + 1);
    if (kv.kind == JSONSCAN_BOOL)
        strcpy(key, kv.v.b ? "true" : "false");
    else {
        memcpy(key, kv.text, kv.len);
        key[kv.len] = '\0';
    }
    jsonw_key(&s->jw, key);
    const pbdesc_field *vf = &e->fields[1];
    if (vf->type == PBDESC_MESSAGE) {
        merge_arg m = {0};
        each_value(s, vf, p, n, merge, &m);
        json_message(s, vf->msg, m.count ? m.p : (const uint8_t *)"", m.count ? m.n : 0,
                     a->depth + 1);
        return;
    }
    last_arg v = {0};
    each_value(s, vf, p, n, keep_last, &v);
    if (v.seen)
        json_scalar(s, vf, v.raw, v.p, v.n);
    else
        json_scalar(s, vf, default_raw(s, vf), (const uint8_t *)"", 0);
}

static void count_one(pbscan *s, const pbdesc_field *f, uint64_t raw, const uint8_t *p, size_t n,
                      void *arg)
{
    (void)s, (void)f, (void)raw, (void)p, (void)n;
    (*(uint32_t *)arg)++;
}

/* Is a proto3 scalar's value its default (not "set" for Java's getAllFields)? */
static bool is_default(const pbdesc_field *f, const last_arg *l)
{
    if (f->type == PBDESC_STRING || f->type == PBDESC_BYTES) return l->n == 0;
    if (f->type == PBDESC_DOUBLE || f->type == PBDESC_FLOAT) {
        double x = as_double(f, l->raw);
        return x == 0 && !signbit(x);
    }
    return as_long(f, l->raw) == 0;
}

static void json_message(pbscan *s, int msg, const uint8_t *p, size_t n, int depth)
{
    const pbdesc_msg *m = &s->d->msgs[msg];
    json_each_arg a = {depth};
    jsonw_obj_begin(&s->jw);
    for (uint32_t i = 0; i < m->nfields; i++) {
        const pbdesc_field *f = &m->fields[i];
        if (f->repeated) {
            uint32_t c = 0;
            each_value(s, f, p, n, count_one, &c);
            if (!c) continue;
            jsonw_key(&s->jw, f->name);
            bool map = f->type == PBDESC_MESSAGE && s->d->msgs[f->msg].map_entry;
            map ? jsonw_obj_begin(&s->jw) : jsonw_arr_begin(&s->jw);
            each_value(s, f, p, n, map ? json_entry : json_one, &a);
            map ? jsonw_obj_end(&s->jw) : jsonw_arr_end(&s->jw);
        } else if (f->type == PBDESC_MESSAGE) {
            merge_arg mg = {0};
            each_value(s, f, p, n, merge, &mg);
            if (!mg.count) continue;
            jsonw_key(&s->jw, f->name);
            json_message(s, f->msg, mg.p, mg.n, depth + 1);
        } else {
            last_arg l = {0};
            each_value(s, f, p, n, keep_last, &l);
            if (!l.seen || (!f->presence && is_default(f, &l))) continue;
            jsonw_key(&s->jw, f->name);
            json_scalar(s, f, l.raw, l.p, l.n);
        }
    }
    jsonw_obj_end(&s->jw);
}

const char *pbscan_record_json(pbscan *s, size_t *len)
{
    /* json_message writes into jw, whose text the nested-message values point into: the
     * record is written with rec in its place */
    jsonw keep = s->jw;
    s->jw = s->rec;
    jsonw_reset(&s->jw);
    json_message(s, s->msg, s->buf, s->len, 0);
    s->rec = s->jw;
    s->jw = keep;
    *len = s->rec.len;
    return s->rec.buf;
}

/* ---- checking -------------------------------------------------------------------------- */

static bool utf8_ok(const uint8_t *p, size_t n)
{
    char small[256];
    char *o = n * 3 + 1 <= sizeof small ? small : sl_xmalloc(n * 3 + 1);
    size_t k = jsonw_utf8_java(p, n, o);
    bool ok = k == n && memcmp(o, p, n) == 0;
    if (o != small) free(o);
    return ok;
}

/* The message p[0..n) of type msg as Java's parser and build() judge it. */
static int check(pbscan *s, int msg, const uint8_t *p, size_t n, int depth)
{
    if (depth > PBSCAN_MAX_DEPTH) {
        snprintf(s->err, sizeof s->err, "messages nested deeper than %d", PBSCAN_MAX_DEPTH);
        return -1;
    }
    const pbdesc_msg *m = &s->d->msgs[msg];
    const uint8_t *q = p, *end = p + n;
    pbdesc_item it;
    int rc;
    uint32_t nreq = 0;
    for (uint32_t i = 0; i < m->nfields; i++)
        nreq += m->fields[i].required;
    uint64_t seen_req = 0; /* the first 64 required fields, by their index */
    while ((rc = pbdesc_next(&q, end, &it)) > 0) {
        const pbdesc_field *f = pbdesc_field_by_number(m, it.number);
        if (!f || it.wt != wire_type(f)) continue; /* unknown to the parser */
        if (f->required) {
            uint32_t idx = (uint32_t)(f - m->fields), r = 0;
            for (uint32_t j = 0; j < idx; j++)
                r += m->fields[j].required;
            if (r < 64) seen_req |= 1ull << r;
        }
        if (f->type == PBDESC_MESSAGE && check(s, f->msg, it.p, it.len, depth + 1)) return -1;
        if (f->type == PBDESC_STRING && m->proto3 && !utf8_ok(it.p, it.len)) {
            snprintf(s->err, sizeof s->err, "field %.64s: a proto3 string that is not UTF-8",
                     f->name);
            return -1;
        }
    }
    if (rc < 0) {
        snprintf(s->err, sizeof s->err, "not a %.100s message: malformed wire format", m->name);
        return -1;
    }
    uint32_t want = nreq < 64 ? nreq : 64;
    if (want && seen_req != (want == 64 ? ~0ull : (1ull << want) - 1)) {
        snprintf(s->err, sizeof s->err, "%.100s: a required field is missing", m->name);
        return -1;
    }
    return 0;
}

/* ---- the top level --------------------------------------------------------------------- */

static void nested_text(pbscan *s, int msg, const uint8_t *p, size_t n, jsonscan_val *v)
{
    jsonw_reset(&s->jw);
    json_message(s, msg, p, n, 1);
    memset(v, 0, sizeof *v);
    v->kind = JSONSCAN_OBJECT;
    v->text = xform_ctx_copy(s->cx, s->jw.buf, s->jw.len);
    v->len = (uint32_t)s->jw.len;
}

static void list_elem(pbscan *s, const pbdesc_field *f, uint64_t raw, const uint8_t *p, size_t n,
                      void *arg)
{
    (void)arg;
    jsonscan_val v;
    if (f->type == PBDESC_MESSAGE)
        nested_text(s, f->msg, p, n, &v);
    else
        scalar_val(s, f, raw, p, n, &v);
    *scanvals_push(&s->sv) = v;
}

static void field_value(pbscan *s, const pbdesc_field *f, bool list, const uint8_t *p, size_t n,
                        jsonscan_val *v)
{
    memset(v, 0, sizeof *v);
    bool map = f->type == PBDESC_MESSAGE && s->d->msgs[f->msg].map_entry;
    if (f->repeated && list && !map) {
        uint32_t first = s->sv.nelems;
        each_value(s, f, p, n, list_elem, NULL);
        v->kind = JSONSCAN_LIST;
        v->v.list.first = first;
        v->v.list.count = s->sv.nelems - first;
        return;
    }
    if (f->repeated) { /* its JSON text: an array, or a map's object */
        json_each_arg a = {1};
        jsonw_reset(&s->jw);
        map ? jsonw_obj_begin(&s->jw) : jsonw_arr_begin(&s->jw);
        each_value(s, f, p, n, map ? json_entry : json_one, &a);
        map ? jsonw_obj_end(&s->jw) : jsonw_arr_end(&s->jw);
        v->kind = map ? JSONSCAN_OBJECT : JSONSCAN_ARRAY;
        v->text = xform_ctx_copy(s->cx, s->jw.buf, s->jw.len);
        v->len = (uint32_t)s->jw.len;
        return;
    }
    if (f->type == PBDESC_MESSAGE) {
        merge_arg m = {0};
        each_value(s, f, p, n, merge, &m);
        if (!m.count)
            v->kind = JSONSCAN_NULL;
        else
            nested_text(s, f->msg, m.p, m.n, v);
        return;
    }
    last_arg l = {0};
    each_value(s, f, p, n, keep_last, &l);
    if (l.seen)
        scalar_val(s, f, l.raw, l.p, l.n, v);
    else if (f->presence)
        v->kind = JSONSCAN_NULL;
    else
        scalar_val(s, f, default_raw(s, f), (const uint8_t *)"", 0, v);
}

int pbscan_run(pbscan *s, const uint8_t *msg, size_t len)
{
    s->err[0] = '\0';
    s->sv.nelems = 0;
    xform_ctx_reset(s->cx);
    if (len + 1 > s->cap) {
        s->cap = len + 1;
        s->buf = sl_xrealloc(s->buf, s->cap);
    }
    memcpy(s->buf, msg, len);
    s->len = len;
    if (check(s, s->msg, s->buf, len, 0)) return -1;
    for (uint32_t i = 0; i < s->n; i++) {
        if (!s->fld[i])
            s->sv.vals[i] = (jsonscan_val){.kind = JSONSCAN_ABSENT};
        else
            field_value(s, s->fld[i], s->flags[i] & JSONSCAN_F_LIST, s->buf, len, &s->sv.vals[i]);
    }
    return 0;
}
