/* Test fixture for the segment tests: builds a seg_src view (chunked arrays, first-seen
 * dictionary ids, multi-value end offsets, null bitmaps) from plain rows, the way the mutable
 * segment does, plus helpers that disturb the view without changing its rows (permuted or
 * duplicated dictionary ids, unused dictionary entries, garbage past the last row).
 *
 * Header-only (static functions) so test_seg_builder.c and test_seg_reader.c share it. Not
 * thread-safe; one ts_src per test. Allocation failure aborts. */
#ifndef SL_SEG_TEST_SRC_H
#define SL_SEG_TEST_SRC_H

#include "common/schema.h"
#include "common/xalloc.h"
#include "segment/seg_builder.h"
#include "segment/seg_src.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TS_MAXC 40
/* every helper is optional for a given test file */
#define TS_FN static __attribute__((unused))
#define TS_MAXV 8

/* ---- chunked vector ---- */

typedef struct ts_vec {
    void **chunks;
    size_t nchunks;
    size_t esz;
    uint64_t n;
} ts_vec;

TS_FN void *ts_vec_at(const ts_vec *v, uint64_t i)
{
    return (char *)v->chunks[i >> SEG_CHUNK_SHIFT] + (i & SEG_CHUNK_MASK) * v->esz;
}

TS_FN void ts_vec_reserve(ts_vec *v, uint64_t n)
{
    while ((uint64_t)v->nchunks * SEG_CHUNK < n) {
        v->chunks = sl_xrealloc(v->chunks, (v->nchunks + 1) * sizeof *v->chunks);
        v->chunks[v->nchunks++] = sl_xcalloc(SEG_CHUNK, v->esz);
    }
}

TS_FN void *ts_vec_push(ts_vec *v)
{
    ts_vec_reserve(v, v->n + 1);
    return ts_vec_at(v, v->n++);
}

TS_FN void ts_vec_free(ts_vec *v)
{
    for (size_t i = 0; i < v->nchunks; i++) free(v->chunks[i]);
    free(v->chunks);
    memset(v, 0, sizeof *v);
}

/* ---- source ---- */

typedef struct ts_col {
    ts_vec dict;   /* T by id */
    ts_vec vals;   /* uint32 id (dict) or T (raw) */
    ts_vec mv_end; /* uint32 per row (multi-value) */
    ts_vec nulls;  /* uint64 words */
    bool any_null;
    uint32_t *slots; /* open addressing: id + 1, 0 = empty */
    uint64_t nslots;
} ts_col;

typedef struct ts_src {
    schema sch;
    schema_field fields[TS_MAXC];
    ts_col c[TS_MAXC];
    seg_src_col scols[TS_MAXC];
    seg_src view;
    uint64_t rows;
    uint8_t **strs; /* owned copies of STRING/BYTES values */
    size_t nstrs, capstrs;
} ts_src;

/* One column's input for one row. Single-value columns use v[0] and ignore n. */
typedef struct ts_val {
    bool null;
    uint32_t n;
    schema_value v[TS_MAXV];
} ts_val;

/* Bytes of one stored element: the fixed width, or a seg_bytes (STRING, BYTES, unknown). */
TS_FN size_t ts_esz(schema_type t)
{
    uint32_t w = schema_type_width(t);
    return w ? w : sizeof(seg_bytes);
}

TS_FN ts_src *ts_new(void)
{
    ts_src *t = sl_xcalloc(1, sizeof *t);
    t->sch.name = (char *)"testschema";
    t->sch.fields = t->fields;
    return t;
}

TS_FN int ts_col_add(ts_src *t, const char *name, schema_type type, bool sv, bool dict)
{
    uint32_t i = t->sch.nfields++;
    schema_field *f = &t->fields[i];
    f->name = (char *)name;
    f->type = type;
    f->role = type == SCHEMA_TIMESTAMP ? SCHEMA_DATETIME
                                       : (type == SCHEMA_DOUBLE ? SCHEMA_METRIC : SCHEMA_DIMENSION);
    f->single_value = sv;
    ts_col *c = &t->c[i];
    c->dict.esz = ts_esz(type);
    c->vals.esz = dict ? 4 : ts_esz(type);
    c->mv_end.esz = 4;
    c->nulls.esz = 8;
    t->scols[i].dict = dict;
    return (int)i;
}

TS_FN const uint8_t *ts_keep_bytes(ts_src *t, const uint8_t *p, uint32_t len)
{
    if (t->nstrs == t->capstrs) {
        t->capstrs = t->capstrs ? t->capstrs * 2 : 64;
        t->strs = sl_xrealloc(t->strs, t->capstrs * sizeof *t->strs);
    }
    uint8_t *d = sl_xcalloc(len + 1, 1);
    if (len) memcpy(d, p, len);
    t->strs[t->nstrs++] = d;
    return d;
}

TS_FN void ts_store(ts_src *t, schema_type type, void *dst, const schema_value *v)
{
    switch (type) {
    case SCHEMA_INT:
    case SCHEMA_BOOLEAN: memcpy(dst, &v->u.i32, 4); break;
    case SCHEMA_FLOAT: memcpy(dst, &v->u.f32, 4); break;
    case SCHEMA_LONG:
    case SCHEMA_TIMESTAMP: memcpy(dst, &v->u.i64, 8); break;
    case SCHEMA_DOUBLE: memcpy(dst, &v->u.f64, 8); break;
    default: {
        seg_bytes b = {ts_keep_bytes(t, v->u.bytes.ptr, v->u.bytes.len), v->u.bytes.len};
        memcpy(dst, &b, sizeof b);
    }
    }
}

TS_FN uint64_t ts_hash_elem(schema_type type, const void *e)
{
    const uint8_t *p;
    size_t n;
    if (schema_type_is_var(type)) {
        const seg_bytes *b = e;
        p = b->ptr;
        n = b->len;
    } else {
        p = e;
        n = ts_esz(type);
    }
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

TS_FN bool ts_elem_eq(schema_type type, const void *a, const void *b)
{
    if (schema_type_is_var(type)) {
        const seg_bytes *x = a, *y = b;
        return x->len == y->len && (x->len == 0 || memcmp(x->ptr, y->ptr, x->len) == 0);
    }
    return memcmp(a, b, ts_esz(type)) == 0;
}

TS_FN void ts_rehash(ts_src *t, uint32_t col)
{
    ts_col *c = &t->c[col];
    schema_type type = t->fields[col].type;
    free(c->slots);
    c->nslots = 64;
    while (c->nslots < c->dict.n * 2 + 2) c->nslots *= 2;
    c->slots = sl_xcalloc(c->nslots, sizeof *c->slots);
    for (uint64_t id = 0; id < c->dict.n; id++) {
        uint64_t h = ts_hash_elem(type, ts_vec_at(&c->dict, id)) & (c->nslots - 1);
        while (c->slots[h]) h = (h + 1) & (c->nslots - 1);
        c->slots[h] = (uint32_t)id + 1;
    }
}

/* First-seen id of value elem in column col, adding it when new. */
TS_FN uint32_t ts_dict_id(ts_src *t, uint32_t col, const void *elem)
{
    ts_col *c = &t->c[col];
    schema_type type = t->fields[col].type;
    if (c->nslots < c->dict.n * 2 + 2) ts_rehash(t, col);
    uint64_t h = ts_hash_elem(type, elem) & (c->nslots - 1);
    while (c->slots[h]) {
        if (ts_elem_eq(type, ts_vec_at(&c->dict, c->slots[h] - 1), elem)) return c->slots[h] - 1;
        h = (h + 1) & (c->nslots - 1);
    }
    uint32_t id = (uint32_t)c->dict.n;
    memcpy(ts_vec_push(&c->dict), elem, c->dict.esz);
    c->slots[h] = id + 1;
    return id;
}

TS_FN void ts_push_value(ts_src *t, uint32_t col, const schema_value *v)
{
    ts_col *c = &t->c[col];
    schema_type type = t->fields[col].type;
    if (t->scols[col].dict) {
        uint8_t elem[sizeof(seg_bytes) > 8 ? sizeof(seg_bytes) : 8] = {0};
        ts_store(t, type, elem, v);
        uint32_t id = ts_dict_id(t, col, elem);
        memcpy(ts_vec_push(&c->vals), &id, 4);
    } else {
        ts_store(t, type, ts_vec_push(&c->vals), v);
    }
}

/* Append one row: vals[i] for column i. */
TS_FN void ts_row(ts_src *t, const ts_val *vals)
{
    uint64_t r = t->rows;
    for (uint32_t i = 0; i < t->sch.nfields; i++) {
        ts_col *c = &t->c[i];
        if (t->fields[i].single_value) {
            ts_push_value(t, i, &vals[i].v[0]);
        } else {
            for (uint32_t k = 0; k < vals[i].n; k++) ts_push_value(t, i, &vals[i].v[k]);
            uint32_t end = (uint32_t)c->vals.n;
            memcpy(ts_vec_push(&c->mv_end), &end, 4);
        }
        while (c->nulls.n <= r / 64) ts_vec_push(&c->nulls);
        if (vals[i].null) {
            *(uint64_t *)ts_vec_at(&c->nulls, r / 64) |= (uint64_t)1 << (r & 63);
            c->any_null = true;
        }
    }
    t->rows++;
}

/* The seg_src view of everything appended so far. Valid until the next change to t. */
TS_FN const seg_src *ts_view(ts_src *t, const char *time_column)
{
    for (uint32_t i = 0; i < t->sch.nfields; i++) {
        ts_col *c = &t->c[i];
        seg_src_col *s = &t->scols[i];
        s->field = &t->fields[i];
        s->cardinality = (uint32_t)c->dict.n;
        s->dict_chunks = (const void *const *)c->dict.chunks;
        s->val_chunks = (const void *const *)c->vals.chunks;
        s->mv_end_chunks = t->fields[i].single_value ? NULL : (const uint32_t *const *)c->mv_end.chunks;
        s->null_chunks = c->any_null ? (const uint64_t *const *)c->nulls.chunks : NULL;
        s->n_values = c->vals.n;
    }
    t->view.schema = &t->sch;
    t->view.time_column = time_column;
    t->view.rows = t->rows;
    t->view.cols = t->scols;
    return &t->view;
}

TS_FN uint64_t ts_rng(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    uint64_t x = *s;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

/* Renumber column col's dictionary with a random permutation and append `unused` entries
 * that no value references (copies of random existing values, so they are duplicates).
 * The rows are unchanged, so the built segment must not change. */
TS_FN void ts_permute_dict(ts_src *t, uint32_t col, uint64_t seed, uint32_t unused)
{
    ts_col *c = &t->c[col];
    uint64_t n = c->dict.n;
    if (!t->scols[col].dict || n == 0) return;
    uint32_t *perm = sl_xcalloc(n, sizeof *perm);
    for (uint64_t i = 0; i < n; i++) perm[i] = (uint32_t)i;
    for (uint64_t i = n - 1; i > 0; i--) {
        uint64_t j = ts_rng(&seed) % (i + 1);
        uint32_t x = perm[i];
        perm[i] = perm[j];
        perm[j] = x;
    }
    ts_vec nd = {.esz = c->dict.esz};
    ts_vec_reserve(&nd, n + unused);
    nd.n = n;
    for (uint64_t i = 0; i < n; i++) memcpy(ts_vec_at(&nd, perm[i]), ts_vec_at(&c->dict, i), nd.esz);
    for (uint32_t k = 0; k < unused; k++)
        memcpy(ts_vec_push(&nd), ts_vec_at(&c->dict, ts_rng(&seed) % n), nd.esz);
    for (uint64_t v = 0; v < c->vals.n; v++) {
        uint32_t *id = ts_vec_at(&c->vals, v);
        *id = perm[*id];
    }
    ts_vec_free(&c->dict);
    c->dict = nd;
    free(c->slots);
    c->slots = NULL;
    c->nslots = 0;
    free(perm);
}

/* Give every used dictionary value a second id and point every other reference to it: the
 * same rows through a dictionary with duplicate values. */
TS_FN void ts_dup_dict(ts_src *t, uint32_t col)
{
    ts_col *c = &t->c[col];
    uint64_t n = c->dict.n;
    if (!t->scols[col].dict) return;
    ts_vec_reserve(&c->dict, 2 * n);
    for (uint64_t i = 0; i < n; i++) memcpy(ts_vec_at(&c->dict, n + i), ts_vec_at(&c->dict, i), c->dict.esz);
    c->dict.n = 2 * n;
    for (uint64_t v = 1; v < c->vals.n; v += 2) {
        uint32_t *id = ts_vec_at(&c->vals, v);
        *id += (uint32_t)n;
    }
    free(c->slots);
    c->slots = NULL;
    c->nslots = 0;
}

TS_FN void ts_free(ts_src *t)
{
    if (!t) return;
    for (uint32_t i = 0; i < t->sch.nfields; i++) {
        ts_vec_free(&t->c[i].dict);
        ts_vec_free(&t->c[i].vals);
        ts_vec_free(&t->c[i].mv_end);
        ts_vec_free(&t->c[i].nulls);
        free(t->c[i].slots);
    }
    for (size_t i = 0; i < t->nstrs; i++) free(t->strs[i]);
    free(t->strs);
    free(t);
}

/* ---- value constructors ---- */

TS_FN ts_val tv_i32(int32_t x) { ts_val v = {.n = 1}; v.v[0].u.i32 = x; return v; }
TS_FN ts_val tv_i64(int64_t x) { ts_val v = {.n = 1}; v.v[0].u.i64 = x; return v; }
TS_FN ts_val tv_f32(float x) { ts_val v = {.n = 1}; v.v[0].u.f32 = x; return v; }
TS_FN ts_val tv_f64(double x) { ts_val v = {.n = 1}; v.v[0].u.f64 = x; return v; }
TS_FN ts_val tv_str(const char *s)
{
    ts_val v = {.n = 1};
    v.v[0].u.bytes.ptr = (const uint8_t *)s;
    v.v[0].u.bytes.len = (uint32_t)strlen(s);
    return v;
}
TS_FN ts_val tv_bytes(const void *p, uint32_t len)
{
    ts_val v = {.n = 1};
    v.v[0].u.bytes.ptr = p;
    v.v[0].u.bytes.len = len;
    return v;
}
TS_FN ts_val tv_null(ts_val v)
{
    v.null = true;
    return v;
}

/* The small fixture every segment test shares (and the fuzz corpus seeds are built from):
 * 6 rows, 9 columns covering every type, dictionary and raw, single and multi-value, nulls. */
TS_FN ts_src *ts_fixture_small(void)
{
    ts_src *t = ts_new();
    ts_col_add(t, "country", SCHEMA_STRING, true, true);
    ts_col_add(t, "tags", SCHEMA_STRING, false, true);
    ts_col_add(t, "clicks", SCHEMA_INT, true, true);
    ts_col_add(t, "ok", SCHEMA_BOOLEAN, true, true);
    ts_col_add(t, "price", SCHEMA_DOUBLE, true, false);
    ts_col_add(t, "ratio", SCHEMA_FLOAT, true, true);
    ts_col_add(t, "blob", SCHEMA_BYTES, true, false);
    ts_col_add(t, "ids", SCHEMA_LONG, false, false);
    ts_col_add(t, "ts", SCHEMA_TIMESTAMP, true, false);
    static const char *const countries[] = {"fr", "de", "fr", "", "\xc3\xa9t\xc3\xa9", "de"};
    for (int r = 0; r < 6; r++) {
        ts_val v[9];
        v[0] = r == 3 ? tv_null(tv_str("")) : tv_str(countries[r]);
        v[1] = (ts_val){.n = (uint32_t)(r % 3)};
        for (uint32_t k = 0; k < v[1].n; k++) {
            static const char *const tags[] = {"b", "a", "c"};
            v[1].v[k].u.bytes.ptr = (const uint8_t *)tags[(r + k) % 3];
            v[1].v[k].u.bytes.len = 1;
        }
        v[2] = tv_i32(r * 7 - 10);
        v[3] = tv_i32(r & 1);
        v[4] = r == 2 ? tv_null(tv_f64(0.0)) : tv_f64(1.5 * r - 2.25);
        v[5] = tv_f32(r % 2 ? -0.0f : 0.25f * (float)r);
        static const uint8_t blob[] = {0, 1, 2, 0xff};
        v[6] = tv_bytes(blob, (uint32_t)(r % 5));
        v[7] = (ts_val){.n = (uint32_t)(r % 2 + 1)};
        v[7].v[0].u.i64 = r * 1000;
        v[7].v[1].u.i64 = -r;
        v[8] = tv_i64(1700000000000ll + 1000 * r);
        ts_row(t, v);
    }
    return t;
}

static const seg_meta_in ts_fixture_meta __attribute__((unused)) = {
    .name = "events__3__12__20240102T0304Z",
    .table = "events",
    .partition = 3,
    .sequence = 12,
    .start_offset = 1000,
    .end_offset = 1006,
};

#endif
