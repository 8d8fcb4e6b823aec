/* Complex-type scanner (consumer/cplxscan.h).
 *
 * Pinot flattens every nested object into the record, then unnests. Flattening everything
 * would cost a column per path of every message; instead each wanted column's name is
 * resolved against the parsed document when a row is selected: a row is the document plus
 * the elements it unnested (bindings, "payload.commits" -> one commit object), and a name is
 * looked up in the longest binding it extends, else from the top, one object key per step
 * (a key may hold the delimiter itself: every key that prefixes the rest of the name is
 * tried). That gives the values Pinot's flattened record holds under those names. */
#include "consumer/cplxscan.h"

#include "common/jsonw.h"
#include "common/xalloc.h"
#include "common/xform.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cplx_bind {
    uint32_t field; /* index into x->unnest */
    json_t *val;    /* the element (borrowed from the document) */
} cplx_bind;

typedef struct cplx_row {
    uint32_t first, count; /* its bindings in s->binds */
} cplx_row;

struct cplxscan {
    const tcfg *t;
    const tcfg_complex *x;
    xform_val *args; /* a pre-complex enricher's inputs */
    uint32_t n;
    char **names; /* per wanted field the name it has before prefixesToRename, or NULL when
                   * no column of the record can carry it (it starts with a renamed prefix) */
    uint8_t *flags;
    size_t dlen; /* the delimiter's length */
    json_t *doc;
    cplx_row *rows;
    uint32_t nrows, rows_cap;
    cplx_bind *binds;
    size_t nbinds, binds_cap;
    scanvals sv;   /* the values of the message (the selected row) */
    xform_ctx *cx; /* the selected row's texts */
    char err[192];
};

cplxscan *cplxscan_new(const char *const *names, const uint32_t *lens, const uint8_t *flags,
                       uint32_t n, const tcfg *t)
{
    cplxscan *s = sl_xcalloc(1, sizeof *s);
    const tcfg_complex *x = t->complex;
    s->t = t;
    s->x = x;
    uint32_t maxin = 1;
    for (uint32_t j = 0; j < t->nenrich; j++)
        if (xform_ninputs(t->enrich[j].expr) > maxin) maxin = xform_ninputs(t->enrich[j].expr);
    s->args = sl_xcalloc(maxin, sizeof *s->args);
    s->n = n;
    s->dlen = strlen(x->delimiter);
    s->names = sl_xcalloc(n ? n : 1, sizeof *s->names);
    s->flags = sl_xcalloc(n ? n : 1, 1);
    scanvals_init(&s->sv, n);
    for (uint32_t i = 0; i < n; i++) {
        s->flags[i] = flags ? flags[i] : 0;
        const char *w = NULL;
        char *orig = NULL;
        for (uint32_t r = 0; r < x->nrename && !orig; r++) { /* renamed: back to its name */
            size_t rl = strlen(x->rename[r].value);
            if (lens[i] >= rl && memcmp(names[i], x->rename[r].value, rl) == 0)
                orig = sl_xasprintf("%s%.*s", x->rename[r].key, (int)(lens[i] - rl), names[i] + rl);
        }
        if (!orig) {
            bool renamed_away = false;
            for (uint32_t r = 0; r < x->nrename; r++) {
                size_t pl = strlen(x->rename[r].key);
                renamed_away |= lens[i] >= pl && memcmp(names[i], x->rename[r].key, pl) == 0;
            }
            if (!renamed_away) w = names[i];
        }
        s->names[i] = orig ? orig : w ? sl_xmemdupz(w, lens[i]) : NULL;
    }
    s->cx = xform_ctx_new();
    return s;
}

void cplxscan_free(cplxscan *s)
{
    if (!s) return;
    for (uint32_t i = 0; i < s->n; i++)
        free(s->names[i]);
    free(s->names);
    free(s->flags);
    scanvals_free(&s->sv);
    free(s->rows);
    free(s->binds);
    json_decref(s->doc);
    xform_ctx_free(s->cx);
    free(s->args);
    free(s);
}

uint32_t cplxscan_rows(const cplxscan *s)
{
    return s->nrows;
}

const scanvals *cplxscan_vals(const cplxscan *s)
{
    return &s->sv;
}

const char *cplxscan_error_text(const cplxscan *s)
{
    return s->err;
}

/* ---- names ----------------------------------------------------------------------------- */

/* name[0..len) in the flattened object o: o's key equal to it, or a key that with the
 * delimiter prefixes it, and the rest inside that key's object. NULL when none. */
static json_t *in_object(const cplxscan *s, json_t *o, const char *name, size_t len, int depth)
{
    if (!json_is_object(o) || depth > 64) return NULL;
    const char *k;
    size_t kl;
    json_t *v;
    json_t *exact = NULL;
    json_object_keylen_foreach(o, k, kl, v)
    {
        if (kl == len && memcmp(k, name, len) == 0) exact = v;
    }
    if (exact) return exact;
    json_object_keylen_foreach(o, k, kl, v)
    {
        if (kl + s->dlen < len && memcmp(k, name, kl) == 0 &&
            memcmp(name + kl, s->x->delimiter, s->dlen) == 0) {
            json_t *r = in_object(s, v, name + kl + s->dlen, len - kl - s->dlen, depth + 1);
            if (r) return r;
        }
    }
    return NULL;
}

/* name's value in row r: inside the longest unnested field it is or extends, else from the
 * top. A field that unnested an object element is no value itself (Pinot removes it). */
static json_t *lookup(const cplxscan *s, const cplx_row *r, const char *name, bool *absent)
{
    size_t len = strlen(name), best = 0;
    const cplx_bind *b = NULL;
    *absent = false;
    for (uint32_t j = 0; j < r->count; j++) {
        const cplx_bind *c = &s->binds[r->first + j];
        const char *f = s->x->unnest[c->field];
        size_t fl = strlen(f);
        if (fl < best || fl > len || memcmp(f, name, fl) != 0) continue;
        if (fl < len && (len - fl <= s->dlen || memcmp(name + fl, s->x->delimiter, s->dlen)))
            continue;
        best = fl;
        b = c;
    }
    if (!b) return in_object(s, s->doc, name, len, 0);
    if (best == len) {
        if (json_is_object(b->val)) {
            *absent = true;
            return NULL;
        }
        return b->val;
    }
    return in_object(s, b->val, name + best + s->dlen, len - best - s->dlen, 0);
}

/* ---- values ---------------------------------------------------------------------------- */

static void dump(cplxscan *s, json_t *j, jsonscan_val *v, uint8_t kind)
{
    char *t = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    v->kind = kind;
    v->len = (uint32_t)strlen(t);
    v->text = xform_ctx_copy(s->cx, t, v->len);
    free(t);
}

static bool primitive(const json_t *j)
{
    return !json_is_object(j) && !json_is_array(j);
}

/* A JSON value as the scanners' tagged value; list: a multi-value field's. */
static void value(cplxscan *s, json_t *j, jsonscan_val *v, bool list)
{
    memset(v, 0, sizeof *v);
    char num[48];
    size_t n;
    switch (json_typeof(j)) {
    case JSON_NULL:
        v->kind = JSONSCAN_NULL;
        return;
    case JSON_TRUE:
    case JSON_FALSE:
        v->kind = JSONSCAN_BOOL;
        v->v.b = json_is_true(j);
        return;
    case JSON_INTEGER:
        v->kind = JSONSCAN_INT64;
        v->int_literal = true;
        v->v.i64 = json_integer_value(j);
        n = (size_t)snprintf(num, sizeof num, "%" PRId64, v->v.i64);
        v->text = xform_ctx_copy(s->cx, num, n);
        v->len = (uint32_t)n;
        return;
    case JSON_REAL: /* as the double Jackson reads, in Java's form */
        v->kind = JSONSCAN_DOUBLE;
        v->v.f64 = json_real_value(j);
        n = jsonw_fmt_java_f64(num, v->v.f64);
        v->text = xform_ctx_copy(s->cx, num, n);
        v->len = (uint32_t)n;
        return;
    case JSON_STRING:
        v->kind = JSONSCAN_STRING;
        v->text = json_string_value(j);
        v->len = (uint32_t)json_string_length(j);
        return;
    case JSON_OBJECT:
        dump(s, j, v, JSONSCAN_OBJECT);
        return;
    case JSON_ARRAY: {
        size_t sz = json_array_size(j);
        /* a collection not unnested: its JSON text (jsonFormat) unless it holds primitives */
        if (s->x->all_to_json || (sz && !primitive(json_array_get(j, 0)))) {
            dump(s, j, v, JSONSCAN_STRING);
            return;
        }
        if (!list) {
            dump(s, j, v, JSONSCAN_ARRAY);
            return;
        }
        uint32_t first = s->sv.nelems;
        for (size_t k = 0; k < sz; k++) {
            jsonscan_val e;
            json_t *ej = json_array_get(j, k);
            if (primitive(ej))
                value(s, ej, &e, false);
            else
                dump(s, ej, &e, json_is_array(ej) ? JSONSCAN_ARRAY : JSONSCAN_OBJECT);
            *scanvals_push(&s->sv) = e;
        }
        v->kind = JSONSCAN_LIST;
        v->v.list.first = first;
        v->v.list.count = (uint32_t)sz;
        return;
    }
    }
}

void cplxscan_select(cplxscan *s, uint32_t k)
{
    xform_ctx_reset(s->cx);
    s->sv.nelems = 0;
    const cplx_row *r = &s->rows[k];
    for (uint32_t i = 0; i < s->n; i++) {
        bool absent = true;
        json_t *j = s->names[i] ? lookup(s, r, s->names[i], &absent) : NULL;
        if (!j)
            s->sv.vals[i] = (jsonscan_val){.kind = JSONSCAN_ABSENT};
        else
            value(s, j, &s->sv.vals[i], s->flags[i] & JSONSCAN_F_LIST);
    }
}

/* ---- enrichers before the complex-type transform ------------------------------------- */

/* A top-level JSON value as an expression's input. */
static xform_val as_input(cplxscan *s, json_t *j)
{
    jsonscan_val v;
    if (!j) return (xform_val){.kind = XFORM_NULL};
    value(s, j, &v, false);
    switch (v.kind) {
    case JSONSCAN_BOOL:
        return (xform_val){.kind = XFORM_BOOL, .i = v.v.b};
    case JSONSCAN_INT64:
        return (xform_val){.kind = XFORM_LONG, .i = v.v.i64};
    case JSONSCAN_DOUBLE:
        return (xform_val){.kind = XFORM_DOUBLE, .d = v.v.f64};
    case JSONSCAN_STRING:
        return (xform_val){.kind = XFORM_STRING, .s = v.text, .len = v.len};
    case JSONSCAN_OBJECT:
    case JSONSCAN_ARRAY:
        return (xform_val){.kind = XFORM_JSON, .s = v.text, .len = v.len};
    default:
        return (xform_val){.kind = XFORM_NULL};
    }
}

/* An expression's value as a JSON value of the document (new reference), or NULL for none. */
static json_t *as_json(const xform_val *x)
{
    switch (x->kind) {
    case XFORM_BOOL:
        return json_boolean(x->i);
    case XFORM_LONG:
        return json_integer(x->i);
    case XFORM_DOUBLE:
        return json_real(x->d);
    case XFORM_STRING:
        return json_stringn_nocheck(x->s, x->len);
    case XFORM_BYTES: { /* Pinot's byte[] as text: its hex */
        static const char hex[] = "0123456789abcdef";
        char *h = sl_xmalloc(2 * (size_t)x->len + 1);
        for (uint32_t i = 0; i < x->len; i++) {
            h[2 * i] = hex[(uint8_t)x->s[i] >> 4];
            h[2 * i + 1] = hex[(uint8_t)x->s[i] & 15];
        }
        json_t *j = json_stringn(h, 2 * (size_t)x->len);
        free(h);
        return j;
    }
    case XFORM_JSON:
        return json_loadb(x->s, x->len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    case XFORM_ARRAY: {
        json_t *a = json_array();
        for (uint32_t i = 0; i < x->len; i++) {
            json_t *e = as_json(&x->elems[i]);
            json_array_append_new(a, e ? e : json_null());
        }
        return a;
    }
    default:
        return NULL;
    }
}

/* The generateColumn enrichers that run before the complex-type transform: each sets its
 * field of the document to its expression's value over the document's top-level fields. */
static int enrich(cplxscan *s)
{
    const tcfg *t = s->t;
    for (uint32_t j = 0; j < t->nenrich; j++) {
        const tcfg_enrich *e = &t->enrich[j];
        if (!e->pre_complex) continue;
        for (uint32_t k = 0; k < xform_ninputs(e->expr); k++)
            s->args[k] = as_input(s, json_object_get(s->doc, xform_input(e->expr, k)));
        xform_val out;
        char why[160];
        if (xform_eval(e->expr, s->args, s->cx, &out, why, sizeof why)) {
            if (t->continue_on_error) continue;
            snprintf(s->err, sizeof s->err, "enricher of %.40s: %.120s", e->column, why);
            return -1;
        }
        json_t *v = as_json(&out);
        if (v)
            json_object_set_new(s->doc, e->column, v);
        else
            json_object_del(s->doc, e->column);
    }
    return 0;
}

/* ---- unnesting ------------------------------------------------------------------------- */

static cplx_bind *bind_room(cplxscan *s, size_t more)
{
    if (s->nbinds + more > s->binds_cap) {
        s->binds_cap = (s->nbinds + more) * 2;
        s->binds = sl_xrealloc(s->binds, s->binds_cap * sizeof *s->binds);
    }
    return s->binds + s->nbinds;
}

static cplx_row *new_row(cplxscan *s)
{
    if (s->nrows == s->rows_cap) {
        s->rows_cap = s->rows_cap ? s->rows_cap * 2 : 16;
        s->rows = sl_xrealloc(s->rows, s->rows_cap * sizeof *s->rows);
    }
    return &s->rows[s->nrows++];
}

/* Unnest field f over the rows so far: a row whose f is a non-empty array becomes one row
 * per element; any other row stays. */
static int unnest(cplxscan *s, uint32_t f)
{
    uint32_t before = s->nrows;
    cplx_row *old = sl_xmalloc((before ? before : 1) * sizeof *old);
    memcpy(old, s->rows, before * sizeof *old);
    s->nrows = 0;
    int rc = 0;
    for (uint32_t i = 0; i < before && !rc; i++) {
        bool absent;
        json_t *a = lookup(s, &old[i], s->x->unnest[f], &absent);
        size_t sz = json_is_array(a) ? json_array_size(a) : 0;
        if (!sz) {
            *new_row(s) = old[i];
            continue;
        }
        if (s->nrows + sz > CPLXSCAN_MAX_ROWS) {
            snprintf(s->err, sizeof s->err, "unnesting %s gives more than %d rows", s->x->unnest[f],
                     CPLXSCAN_MAX_ROWS);
            rc = -1;
            break;
        }
        for (size_t k = 0; k < sz; k++) {
            cplx_bind *b = bind_room(s, old[i].count + 1);
            memmove(b, s->binds + old[i].first, old[i].count * sizeof *b);
            b[old[i].count] = (cplx_bind){f, json_array_get(a, k)};
            cplx_row *r = new_row(s);
            r->first = (uint32_t)s->nbinds;
            r->count = old[i].count + 1;
            s->nbinds += r->count;
        }
    }
    free(old);
    return rc;
}

cplxscan_status cplxscan_run(cplxscan *s, const uint8_t *msg, size_t len)
{
    s->err[0] = '\0';
    s->nrows = 0;
    s->nbinds = 0;
    json_decref(s->doc);
    json_error_t je;
    s->doc = json_loadb((const char *)msg, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (!s->doc) {
        snprintf(s->err, sizeof s->err, "%.150s (at byte %d)", je.text, je.position);
        return CPLXSCAN_MALFORMED;
    }
    if (!json_is_object(s->doc)) {
        snprintf(s->err, sizeof s->err, "the top level is not an object");
        return CPLXSCAN_NOT_OBJECT;
    }
    if (enrich(s)) return CPLXSCAN_ENRICH;
    *new_row(s) = (cplx_row){0, 0};
    for (uint32_t f = 0; f < s->x->nunnest; f++)
        if (unnest(s, f)) return CPLXSCAN_TOO_MANY;
    cplxscan_select(s, 0);
    return CPLXSCAN_OK;
}
