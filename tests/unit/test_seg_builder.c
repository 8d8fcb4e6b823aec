/* Segment builder: round trips of every type and encoding through seg_reader, dictionary
 * order and statistics against an independent reference, determinism under permuted /
 * duplicated / unused dictionary ids and garbage past the last row, source validation, and
 * atomic file publication (success, missing directory, failed rename, failed write). */
#include "common/fsutil.h"
#include "common/schema.h"
#include "common/sl_err.h"
#include "segment/crc32c.h"
#include "segment/seg_builder.h"
#include "segment/seg_format.h"
#include "segment/seg_reader.h"
#include "seg_test_src.h"

#include <dirent.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

static const seg_meta_in meta0 = {"t__0__0__20240101T0000Z", "t", 0, 0, 0, 100};

/* ---- reference semantics (written independently of the builder) ---- */

/* Total order of docs/segment-format.md, from the values rather than from key tricks. */
static int ref_cmp_double(double a, double b)
{
    bool na = isnan(a), nb = isnan(b);
    if (na || nb) {
        if (!nb) return 1;
        if (!na) return -1;
        uint64_t x, y;
        memcpy(&x, &a, 8);
        memcpy(&y, &b, 8);
        bool sx = x >> 63, sy = y >> 63;
        if (sx != sy) return sx ? 1 : -1;         /* +NaNs before -NaNs */
        if (x == y) return 0;
        return sx ? (x > y ? -1 : 1) : (x < y ? -1 : 1); /* +: ascending bits, -: descending */
    }
    if (a < b) return -1;
    if (a > b) return 1;
    bool sa = signbit(a), sb = signbit(b);
    return sa == sb ? 0 : (sa ? -1 : 1);
}

static int ref_cmp_float(float a, float b)
{
    bool na = isnan(a), nb = isnan(b);
    if (na || nb) {
        if (!nb) return 1;
        if (!na) return -1;
        uint32_t x, y;
        memcpy(&x, &a, 4);
        memcpy(&y, &b, 4);
        bool sx = x >> 31, sy = y >> 31;
        if (sx != sy) return sx ? 1 : -1;
        if (x == y) return 0;
        return sx ? (x > y ? -1 : 1) : (x < y ? -1 : 1);
    }
    if (a < b) return -1;
    if (a > b) return 1;
    bool sa = signbit(a), sb = signbit(b);
    return sa == sb ? 0 : (sa ? -1 : 1);
}

static int ref_cmp(schema_type t, const schema_value *a, const schema_value *b)
{
    switch (t) {
    case SCHEMA_INT:
    case SCHEMA_BOOLEAN: return (a->u.i32 > b->u.i32) - (a->u.i32 < b->u.i32);
    case SCHEMA_LONG:
    case SCHEMA_TIMESTAMP: return (a->u.i64 > b->u.i64) - (a->u.i64 < b->u.i64);
    case SCHEMA_FLOAT: return ref_cmp_float(a->u.f32, b->u.f32);
    case SCHEMA_DOUBLE: return ref_cmp_double(a->u.f64, b->u.f64);
    default: {
        uint32_t m = a->u.bytes.len < b->u.bytes.len ? a->u.bytes.len : b->u.bytes.len;
        int c = m ? memcmp(a->u.bytes.ptr, b->u.bytes.ptr, m) : 0;
        if (c) return c < 0 ? -1 : 1;
        return (a->u.bytes.len > b->u.bytes.len) - (a->u.bytes.len < b->u.bytes.len);
    }
    }
}

static bool same_value(schema_type t, const schema_value *a, const schema_value *b)
{
    switch (t) {
    case SCHEMA_INT:
    case SCHEMA_BOOLEAN:
    case SCHEMA_FLOAT: return memcmp(&a->u.i32, &b->u.i32, 4) == 0;
    case SCHEMA_LONG:
    case SCHEMA_TIMESTAMP:
    case SCHEMA_DOUBLE: return memcmp(&a->u.i64, &b->u.i64, 8) == 0;
    default:
        return a->u.bytes.len == b->u.bytes.len &&
               (a->u.bytes.len == 0 || memcmp(a->u.bytes.ptr, b->u.bytes.ptr, a->u.bytes.len) == 0);
    }
}

/* Value v (flat index) of column col of the source. */
static schema_value src_value(const ts_src *t, uint32_t col, uint64_t v)
{
    const ts_col *c = &t->c[col];
    schema_type ty = t->fields[col].type;
    const void *e = ts_vec_at(&c->vals, v);
    if (t->scols[col].dict) e = ts_vec_at(&c->dict, *(const uint32_t *)e);
    schema_value out;
    memset(&out, 0, sizeof out);
    if (schema_type_is_var(ty)) {
        const seg_bytes *b = e;
        out.u.bytes.ptr = b->ptr;
        out.u.bytes.len = b->len;
    } else {
        memcpy(&out, e, ts_esz(ty));
    }
    return out;
}

static schema_type g_sort_type;
static int qsort_cmp(const void *a, const void *b) { return ref_cmp(g_sort_type, a, b); }

static uint64_t src_nvals(const ts_src *t, uint32_t col, uint64_t rows)
{
    if (t->fields[col].single_value) return rows;
    return rows ? *(const uint32_t *)ts_vec_at(&t->c[col].mv_end, rows - 1) : 0;
}

/* Check everything a reader can say about the segment against the source's first `rows`. */
static void check_segment(const ts_src *t, uint64_t rows, const uint8_t *buf, size_t len)
{
    char msg[256];
    int err = 0;
    seg_reader *r = seg_reader_open_mem(buf, len, &err, msg, sizeof msg);
    if (!r) fail_msg("open: %s (%d)", msg, err);
    assert_int_equal(seg_verify_mem(buf, len, msg, sizeof msg), 0);
    assert_int_equal(seg_reader_rows(r), rows);
    assert_int_equal(seg_reader_ncols(r), t->sch.nfields);
    uint32_t trailer;
    memcpy(&trailer, buf + len - 4, 4);
    assert_int_equal(seg_reader_crc(r), trailer);
    /* format version 2: the header CRC is that of the 64-byte header with its CRC field zero;
     * the trailer that of every byte before it (DESIGN §3). Written out here rather than
     * through seg_format.h, as an independent check. */
    uint32_t version, hcrc;
    memcpy(&version, buf + SEG_FMT_H_VERSION, 4);
    memcpy(&hcrc, buf + SEG_FMT_H_HEADER_CRC, 4);
    assert_int_equal(version, 2);
    static const uint8_t zero4[4];
    assert_int_equal(hcrc, crc32c_update(crc32c_update(0, buf, 60), zero4, 4));
    assert_int_equal(trailer, crc32c_update(0, buf, len - 4));
    assert_int_equal(seg_reader_size(r), len);
    schema_value *mv = calloc(64, sizeof *mv);
    for (uint32_t col = 0; col < t->sch.nfields; col++) {
        const schema_field *f = &t->fields[col];
        const seg_col_info *ci = seg_reader_col(r, col);
        assert_non_null(ci);
        assert_string_equal(ci->name, f->name);
        assert_int_equal(seg_reader_find_col(r, f->name), (int)col);
        assert_int_equal(ci->type, f->type);
        assert_int_equal(ci->single_value, f->single_value);
        assert_int_equal(ci->dict, t->scols[col].dict);
        uint64_t nv = src_nvals(t, col, rows);
        assert_int_equal(ci->n_values, nv);
        /* values, row by row */
        for (uint64_t row = 0; row < rows; row++) {
            if (f->single_value) {
                schema_value got, want = src_value(t, col, row);
                assert_int_equal(seg_reader_value(r, col, row, &got), 0);
                if (!same_value(f->type, &got, &want))
                    fail_msg("column %s row %llu differs", f->name, (unsigned long long)row);
                assert_int_equal(seg_reader_mv(r, col, row, mv, 64), SL_EINVAL);
            } else {
                uint32_t a = row ? *(const uint32_t *)ts_vec_at(&t->c[col].mv_end, row - 1) : 0;
                uint32_t b = *(const uint32_t *)ts_vec_at(&t->c[col].mv_end, row);
                assert_int_equal(seg_reader_mv(r, col, row, mv, 64), b - a);
                for (uint32_t k = 0; k < b - a && k < 64; k++) {
                    schema_value want = src_value(t, col, a + k);
                    if (!same_value(f->type, &mv[k], &want))
                        fail_msg("column %s row %llu value %u differs", f->name,
                                 (unsigned long long)row, k);
                }
                schema_value got;
                assert_int_equal(seg_reader_value(r, col, row, &got), SL_EINVAL);
            }
            const ts_col *c = &t->c[col];
            bool null = c->any_null && ((*(const uint64_t *)ts_vec_at(&c->nulls, row / 64) >> (row & 63)) & 1);
            assert_int_equal(seg_reader_is_null(r, col, row), null);
        }
        /* statistics against a sorted copy of all values */
        uint64_t nulls = 0;
        for (uint64_t row = 0; row < rows; row++) nulls += seg_reader_is_null(r, col, row);
        assert_int_equal(ci->null_count, nulls);
        schema_value *all = calloc(nv ? nv : 1, sizeof *all);
        for (uint64_t v = 0; v < nv; v++) all[v] = src_value(t, col, v);
        g_sort_type = f->type;
        qsort(all, nv, sizeof *all, qsort_cmp);
        uint64_t distinct = nv ? 1 : 0;
        for (uint64_t v = 1; v < nv; v++) distinct += !same_value(f->type, &all[v], &all[v - 1]);
        assert_int_equal(ci->cardinality, distinct);
        assert_int_equal(ci->has_minmax, nv > 0);
        if (nv) {
            assert_true(same_value(f->type, &ci->min, &all[0]));
            assert_true(same_value(f->type, &ci->max, &all[nv - 1]));
        }
        if (ci->dict) {
            uint32_t want_bits = 1;
            while (((uint64_t)1 << want_bits) < ci->cardinality) want_bits++;
            assert_int_equal(ci->bits, want_bits);
            /* dictionary = the distinct values, strictly ascending */
            uint64_t k = 0;
            for (uint32_t id = 0; id < ci->cardinality; id++) {
                schema_value d;
                assert_int_equal(seg_reader_dict_value(r, col, id, &d), 0);
                while (k < nv && k > 0 && same_value(f->type, &all[k], &all[k - 1])) k++;
                assert_true(k < nv);
                if (!same_value(f->type, &d, &all[k]))
                    fail_msg("column %s: dictionary entry %u is not the %u-th distinct value", f->name, id, id);
                k++;
            }
            schema_value d;
            assert_int_equal(seg_reader_dict_value(r, col, ci->cardinality, &d), SL_EINVAL);
        } else {
            assert_int_equal(ci->bits, 0);
        }
        free(all);
    }
    free(mv);
    seg_reader_close(r);
}

static void build(const ts_src *t, const seg_src *src, uint8_t **buf, size_t *len)
{
    char err[256] = "";
    (void)t;
    int rc = seg_build_mem(src, &meta0, buf, len, err, sizeof err);
    if (rc) fail_msg("build failed: %s (%d)", err, rc);
}

static void roundtrip(ts_src *t, const char *time_col)
{
    uint8_t *buf;
    size_t len;
    const seg_src *src = ts_view(t, time_col);
    build(t, src, &buf, &len);
    check_segment(t, t->rows, buf, len);
    free(buf);
}

/* ---- tests ---- */

static void test_fixture_small(void **state)
{
    (void)state;
    ts_src *t = ts_fixture_small();
    const seg_src *src = ts_view(t, "ts");
    uint8_t *buf;
    size_t len;
    char err[256];
    assert_int_equal(seg_build_mem(src, &ts_fixture_meta, &buf, &len, err, sizeof err), 0);
    assert_int_equal(len % 8, 4); /* 8-aligned data then the 4-byte trailer */
    assert_memory_equal(buf, "SLUICESG", 8);
    check_segment(t, t->rows, buf, len);
    seg_reader *r = seg_reader_open_mem(buf, len, NULL, NULL, 0);
    assert_non_null(r);
    assert_string_equal(seg_reader_name(r), ts_fixture_meta.name);
    assert_string_equal(seg_reader_table(r), "events");
    assert_int_equal(seg_reader_partition(r), 3);
    assert_int_equal(seg_reader_sequence(r), 12);
    assert_int_equal(seg_reader_start_offset(r), 1000);
    assert_int_equal(seg_reader_end_offset(r), 1006);
    assert_int_equal(seg_reader_time_column(r), 8);
    int64_t tmin = 0, tmax = 0;
    assert_true(seg_reader_time_range(r, &tmin, &tmax));
    assert_int_equal(tmin, 1700000000000ll);
    assert_int_equal(tmax, 1700000005000ll);
    size_t jl;
    const char *json = seg_reader_schema_json(r, &jl);
    size_t wl;
    char *want = schema_to_json(&t->sch, &wl);
    assert_int_equal(jl, wl);
    assert_string_equal(json, want);
    free(want);
    /* the null row of "country" holds the default and is flagged */
    int c = seg_reader_find_col(r, "country");
    assert_true(seg_reader_is_null(r, (uint32_t)c, 3));
    assert_false(seg_reader_is_null(r, (uint32_t)c, 2));
    assert_int_equal(seg_reader_col(r, (uint32_t)c)->null_count, 1);
    assert_int_equal(seg_reader_col(r, (uint32_t)seg_reader_find_col(r, "ts"))->null_count, 0);
    seg_reader_close(r);
    free(buf);
    ts_free(t);
}

static const schema_type all_types[] = {SCHEMA_INT,     SCHEMA_LONG,      SCHEMA_FLOAT,
                                        SCHEMA_DOUBLE,  SCHEMA_BOOLEAN,   SCHEMA_TIMESTAMP,
                                        SCHEMA_STRING,  SCHEMA_BYTES};

static schema_value random_value(schema_type t, uint64_t *s, char *strbuf)
{
    schema_value v;
    memset(&v, 0, sizeof v);
    uint64_t x = ts_rng(s), pick = x % 16;
    switch (t) {
    case SCHEMA_INT: {
        static const int32_t ex[] = {INT32_MIN, INT32_MAX, 0, -1, 1};
        v.u.i32 = pick < 5 ? ex[pick] : (int32_t)(x >> 40) - (1 << 23);
        break;
    }
    case SCHEMA_BOOLEAN: v.u.i32 = (int32_t)(x >> 40) & 1; break;
    case SCHEMA_LONG:
    case SCHEMA_TIMESTAMP: {
        static const int64_t ex[] = {INT64_MIN, INT64_MAX, 0, -1, 1};
        v.u.i64 = pick < 5 ? ex[pick] : (int64_t)(x >> 20) - ((int64_t)1 << 43);
        break;
    }
    case SCHEMA_FLOAT: {
        static const float ex[] = {INFINITY, -INFINITY, -0.0f, 0.0f, FLT_TRUE_MIN, -FLT_MIN, FLT_MAX, NAN};
        v.u.f32 = pick < 8 ? ex[pick] : (float)((int64_t)(x >> 44) - 500000) / 64.0f;
        break;
    }
    case SCHEMA_DOUBLE: {
        static const double ex[] = {INFINITY, -INFINITY, -0.0, 0.0, DBL_TRUE_MIN, -DBL_TRUE_MIN, DBL_MAX, -NAN};
        v.u.f64 = pick < 8 ? ex[pick] : (double)((int64_t)(x >> 30) - ((int64_t)1 << 33)) / 1024.0;
        break;
    }
    default: {
        static const char *const ex[] = {"", "a", "a\0", "\xf0\x9f\x98\x80", "user_00000000",
                                         "user_00000000x", "\xff\xfe"};
        static const uint32_t exl[] = {0, 1, 2, 4, 13, 14, 2};
        if (pick < 7) {
            memcpy(strbuf, ex[pick], exl[pick]);
            v.u.bytes.len = exl[pick];
        } else {
            v.u.bytes.len = (uint32_t)snprintf(strbuf, 64, "user_%08llu", (unsigned long long)(x >> 50));
        }
        v.u.bytes.ptr = (const uint8_t *)strbuf;
    }
    }
    return v;
}

/* Every type x {dictionary, raw} x {single, multi-value}, with extremes, nulls and empty
 * multi-value rows, over 3000 rows. */
static void test_all_types_roundtrip(void **state)
{
    (void)state;
    static char names[64][32];
    ts_src *t = ts_new();
    int n = 0;
    for (size_t ti = 0; ti < sizeof all_types / sizeof all_types[0]; ti++)
        for (int dict = 0; dict < 2; dict++)
            for (int sv = 0; sv < 2; sv++) {
                snprintf(names[n], sizeof names[n], "c_%s_%s_%s", "t", dict ? "dict" : "raw", sv ? "sv" : "mv");
                names[n][2] = (char)('0' + ti);
                ts_col_add(t, names[n], all_types[ti], sv, dict);
                n++;
            }
    uint64_t s = 7;
    static char strs[64][TS_MAXV][64];
    for (int row = 0; row < 3000; row++) {
        ts_val v[64];
        for (int c = 0; c < n; c++) {
            schema_type ty = t->fields[c].type;
            memset(&v[c], 0, sizeof v[c]);
            v[c].null = ts_rng(&s) % 10 == 0;
            v[c].n = t->fields[c].single_value ? 1 : (uint32_t)(ts_rng(&s) % 4);
            uint32_t k = v[c].n ? v[c].n : 1;
            for (uint32_t j = 0; j < k; j++) v[c].v[j] = random_value(ty, &s, strs[c][j]);
        }
        ts_row(t, v);
    }
    roundtrip(t, NULL);
    ts_free(t);
}

/* Exact dictionary order of the extreme values of each numeric type. */
static void test_extreme_order(void **state)
{
    (void)state;
    ts_src *t = ts_new();
    ts_col_add(t, "i", SCHEMA_INT, true, true);
    ts_col_add(t, "l", SCHEMA_LONG, true, true);
    ts_col_add(t, "f", SCHEMA_FLOAT, true, true);
    ts_col_add(t, "d", SCHEMA_DOUBLE, true, true);
    uint64_t qnan = 0x7FF8000000000000ull, qnan_payload = 0x7FF8000000000001ull,
             neg_nan = 0xFFF8000000000000ull;
    double dn[3];
    memcpy(&dn[0], &qnan, 8);
    memcpy(&dn[1], &qnan_payload, 8);
    memcpy(&dn[2], &neg_nan, 8);
    /* expected ascending order */
    const int32_t wi[] = {INT32_MIN, -1, 0, 1, INT32_MAX};
    const int64_t wl[] = {INT64_MIN, INT32_MIN - 1ll, -1, 0, INT64_MAX};
    const float wf[] = {-INFINITY, -FLT_MAX, -FLT_TRUE_MIN, -0.0f, 0.0f, FLT_TRUE_MIN, 1.0f, INFINITY, NAN};
    const double wd[] = {-INFINITY, -DBL_MAX, -1.0, -DBL_TRUE_MIN, -0.0, 0.0, DBL_TRUE_MIN,
                         DBL_MIN, DBL_MAX, INFINITY, dn[0], dn[1], dn[2]};
    const int order[] = {7, 2, 11, 0, 12, 5, 9, 3, 10, 1, 6, 4, 8}; /* insertion order */
    for (int k = 0; k < 13; k++) {
        int j = order[k];
        ts_val v[4] = {tv_i32(wi[j % 5]), tv_i64(wl[j % 5]), tv_f32(wf[j % 9]), tv_f64(wd[j])};
        ts_row(t, v);
    }
    uint8_t *buf;
    size_t len;
    build(t, ts_view(t, NULL), &buf, &len);
    check_segment(t, t->rows, buf, len);
    seg_reader *r = seg_reader_open_mem(buf, len, NULL, NULL, 0);
    assert_non_null(r);
    schema_value v;
    assert_int_equal(seg_reader_col(r, 0)->cardinality, 5);
    for (uint32_t id = 0; id < 5; id++) {
        assert_int_equal(seg_reader_dict_value(r, 0, id, &v), 0);
        assert_int_equal(v.u.i32, wi[id]);
        assert_int_equal(seg_reader_dict_value(r, 1, id, &v), 0);
        assert_int_equal(v.u.i64, wl[id]);
    }
    assert_int_equal(seg_reader_col(r, 2)->cardinality, 9);
    for (uint32_t id = 0; id < 9; id++) {
        assert_int_equal(seg_reader_dict_value(r, 2, id, &v), 0);
        assert_memory_equal(&v.u.f32, &wf[id], 4);
    }
    assert_int_equal(seg_reader_col(r, 3)->cardinality, 13);
    for (uint32_t id = 0; id < 13; id++) {
        assert_int_equal(seg_reader_dict_value(r, 3, id, &v), 0);
        assert_memory_equal(&v.u.f64, &wd[id], 8);
    }
    assert_int_equal(seg_reader_col(r, 0)->min.u.i32, INT32_MIN);
    assert_int_equal(seg_reader_col(r, 0)->max.u.i32, INT32_MAX);
    assert_int_equal(seg_reader_col(r, 1)->min.u.i64, INT64_MIN);
    assert_true(isinf(seg_reader_col(r, 3)->min.u.f64) && seg_reader_col(r, 3)->min.u.f64 < 0);
    assert_memory_equal(&seg_reader_col(r, 3)->max.u.f64, &neg_nan, 8);
    seg_reader_close(r);
    free(buf);
    ts_free(t);
}

/* Bytewise unsigned order, a prefix first, embedded NULs, unicode, long shared prefixes. */
static void test_string_order(void **state)
{
    (void)state;
    ts_src *t = ts_new();
    ts_col_add(t, "s", SCHEMA_STRING, true, true);
    ts_col_add(t, "b", SCHEMA_BYTES, false, true);
    static const struct {
        const char *s;
        uint32_t len;
    } want[] = {{"", 0},
                {"\0", 1},
                {"\0\0", 2},
                {"a", 1},
                {"a\0", 2},
                {"a\0\0\0\0\0\0\0\0", 9},
                {"abcdefgh", 8},
                {"abcdefgh\0", 9},
                {"abcdefghabcdefgh", 16},
                {"abcdefghabcdefgh\x01", 17},
                {"abcdefghabcdefghi", 17},
                {"abcdefgi", 8},
                {"b", 1},
                {"z", 1},
                {"\xc3\xa9", 2},
                {"\xe6\x97\xa5\xe6\x9c\xac", 6},
                {"\xf0\x9f\x98\x80", 4},
                {"\xff", 1}};
    const int n = (int)(sizeof want / sizeof want[0]);
    for (int k = 0; k < n; k++) {
        int j = (k * 7 + 3) % n; /* scrambled insertion order */
        ts_val v[2] = {tv_bytes(want[j].s, want[j].len), {.n = 2}};
        v[1].v[0] = tv_bytes(want[j].s, want[j].len).v[0];
        v[1].v[1] = tv_bytes(want[(j + 1) % n].s, want[(j + 1) % n].len).v[0];
        ts_row(t, v);
    }
    uint8_t *buf;
    size_t len;
    build(t, ts_view(t, NULL), &buf, &len);
    check_segment(t, t->rows, buf, len);
    seg_reader *r = seg_reader_open_mem(buf, len, NULL, NULL, 0);
    for (uint32_t col = 0; col < 2; col++) {
        assert_int_equal(seg_reader_col(r, col)->cardinality, n);
        for (int id = 0; id < n; id++) {
            schema_value v;
            assert_int_equal(seg_reader_dict_value(r, col, (uint32_t)id, &v), 0);
            assert_int_equal(v.u.bytes.len, want[id].len);
            if (want[id].len) assert_memory_equal(v.u.bytes.ptr, want[id].s, want[id].len);
        }
    }
    seg_reader_close(r);
    free(buf);
    ts_free(t);
}

/* A large dictionary with long common prefixes and random tails (exercises the MSD sort's
 * recursion and tail loop) and a raw column of the same strings. */
static void test_string_sort_stress(void **state)
{
    (void)state;
    ts_src *t = ts_new();
    ts_col_add(t, "s", SCHEMA_STRING, true, true);
    ts_col_add(t, "raw", SCHEMA_STRING, true, false);
    uint64_t s = 99;
    char buf[200];
    for (int row = 0; row < 30000; row++) {
        uint64_t x = ts_rng(&s);
        int len = 0;
        switch (x % 5) {
        case 0: len = snprintf(buf, sizeof buf, "user_%09llu", (unsigned long long)(x >> 40)); break;
        case 1: len = snprintf(buf, sizeof buf, "%048llu", (unsigned long long)(x >> 46)); break;
        case 2: /* a chain of strings each extending the previous by a few bytes */
            len = (int)((x >> 20) % 120);
            memset(buf, 'q', (size_t)len);
            break;
        case 3:
            len = (int)((x >> 8) % 12);
            for (int i = 0; i < len; i++) buf[i] = (char)(ts_rng(&s) & 3);
            break;
        default: len = snprintf(buf, sizeof buf, "https://example.com/a/b/c/%llx", (unsigned long long)(x >> 48)); break;
        }
        ts_val v[2] = {tv_bytes(buf, (uint32_t)len), tv_bytes(buf, (uint32_t)len)};
        ts_row(t, v);
    }
    roundtrip(t, NULL);
    ts_free(t);
}

static void test_zero_rows(void **state)
{
    (void)state;
    ts_src *t = ts_new();
    for (size_t ti = 0; ti < 8; ti++) {
        static char names[32][16];
        for (int k = 0; k < 4; k++) {
            snprintf(names[ti * 4 + (size_t)k], 16, "c%zu_%d", ti, k);
            ts_col_add(t, names[ti * 4 + (size_t)k], all_types[ti], k & 1, k & 2);
        }
    }
    uint8_t *buf;
    size_t len;
    build(t, ts_view(t, "c1_0"), &buf, &len);
    check_segment(t, 0, buf, len);
    seg_reader *r = seg_reader_open_mem(buf, len, NULL, NULL, 0);
    assert_int_equal(seg_reader_rows(r), 0);
    assert_int_equal(seg_reader_time_column(r), 4);
    assert_false(seg_reader_time_range(r, NULL, NULL));
    schema_value v;
    assert_int_equal(seg_reader_value(r, 0, 0, &v), SL_EINVAL);
    assert_false(seg_reader_col(r, 0)->has_minmax);
    seg_reader_close(r);
    free(buf);
    ts_free(t);
}

static void test_one_row(void **state)
{
    (void)state;
    ts_src *t = ts_new();
    ts_col_add(t, "s", SCHEMA_STRING, true, true);
    ts_col_add(t, "l", SCHEMA_LONG, true, false);
    ts_col_add(t, "m", SCHEMA_INT, false, true);
    ts_col_add(t, "n", SCHEMA_DOUBLE, true, true);
    ts_val v[4] = {tv_str("only"), tv_i64(-5), {.n = 3}, tv_null(tv_f64(0.0))};
    v[2].v[0].u.i32 = 9;
    v[2].v[1].u.i32 = -9;
    v[2].v[2].u.i32 = 9;
    ts_row(t, v);
    roundtrip(t, "l");
    ts_free(t);
}

/* 40000 rows: three source chunks, null words spanning chunk boundaries of the values. */
static void test_many_chunks(void **state)
{
    (void)state;
    ts_src *t = ts_new();
    ts_col_add(t, "ts", SCHEMA_LONG, true, false);
    ts_col_add(t, "dim", SCHEMA_STRING, true, true);
    ts_col_add(t, "mv", SCHEMA_INT, false, true);
    ts_col_add(t, "raw_mv", SCHEMA_STRING, false, false);
    ts_col_add(t, "metric", SCHEMA_DOUBLE, true, true);
    uint64_t s = 5;
    char str[32], str2[4][32];
    for (int row = 0; row < 40000; row++) {
        ts_val v[5];
        v[0] = tv_i64(1700000000000ll + row);
        snprintf(str, sizeof str, "d%llu", (unsigned long long)(ts_rng(&s) % 700));
        v[1] = row % 97 == 0 ? tv_null(tv_str("null")) : tv_str(str);
        v[2] = (ts_val){.n = (uint32_t)(ts_rng(&s) % 4)};
        for (uint32_t k = 0; k < v[2].n; k++) v[2].v[k].u.i32 = (int32_t)(ts_rng(&s) % 5000);
        v[3] = (ts_val){.n = (uint32_t)(ts_rng(&s) % 3)};
        for (uint32_t k = 0; k < v[3].n; k++) {
            v[3].v[k].u.bytes.len = (uint32_t)snprintf(str2[k], 32, "x%llu", (unsigned long long)(ts_rng(&s) % 50));
            v[3].v[k].u.bytes.ptr = (const uint8_t *)str2[k];
        }
        v[4] = tv_f64((double)(ts_rng(&s) % 100000) / 100.0);
        ts_row(t, v);
    }
    roundtrip(t, "ts");
    ts_free(t);
}

/* Packed widths at and around powers of two, up to 17 bits. */
static void test_bit_widths(void **state)
{
    (void)state;
    const uint32_t cards[] = {1, 2, 3, 4, 5, 7, 8, 9, 255, 256, 257, 65536, 65537, 70001};
    for (size_t ci = 0; ci < sizeof cards / sizeof cards[0]; ci++) {
        ts_src *t = ts_new();
        ts_col_add(t, "v", SCHEMA_INT, true, true);
        ts_col_add(t, "m", SCHEMA_LONG, false, true);
        uint32_t card = cards[ci];
        uint32_t rows = card < 1000 ? 1000 : card;
        for (uint32_t row = 0; row < rows; row++) {
            ts_val v[2] = {tv_i32((int32_t)((row * 2654435761u) % card) - 3), {.n = 2}};
            v[1].v[0].u.i64 = (int64_t)(row % card) * 1000003;
            v[1].v[1].u.i64 = (int64_t)((row + 1) % card) * 1000003;
            ts_row(t, v);
        }
        roundtrip(t, NULL);
        ts_free(t);
    }
}

static void build_expect(const seg_src *src, uint8_t **buf, size_t *len)
{
    char err[256] = "";
    int rc = seg_build_mem(src, &meta0, buf, len, err, sizeof err);
    if (rc) fail_msg("build failed: %s", err);
}

static ts_src *random_table(uint64_t seed, int rows)
{
    ts_src *t = ts_new();
    ts_col_add(t, "ts", SCHEMA_TIMESTAMP, true, false);
    ts_col_add(t, "country", SCHEMA_STRING, true, true);
    ts_col_add(t, "user", SCHEMA_STRING, true, true);
    ts_col_add(t, "tags", SCHEMA_STRING, false, true);
    ts_col_add(t, "clicks", SCHEMA_INT, true, true);
    ts_col_add(t, "price", SCHEMA_DOUBLE, true, true);
    ts_col_add(t, "ratio", SCHEMA_FLOAT, false, true);
    ts_col_add(t, "flag", SCHEMA_BOOLEAN, true, true);
    ts_col_add(t, "id", SCHEMA_LONG, true, false);
    ts_col_add(t, "blob", SCHEMA_BYTES, true, true);
    uint64_t s = seed;
    char c[16], u[32], tg[4][8], bl[8];
    for (int row = 0; row < rows; row++) {
        ts_val v[10];
        v[0] = tv_i64(1700000000000ll + (int64_t)(ts_rng(&s) % 3600000));
        snprintf(c, sizeof c, "c%llu", (unsigned long long)(ts_rng(&s) % 40));
        v[1] = tv_str(c);
        snprintf(u, sizeof u, "user_%llu", (unsigned long long)(ts_rng(&s) % 5000));
        v[2] = ts_rng(&s) % 50 == 0 ? tv_null(tv_str("null")) : tv_str(u);
        v[3] = (ts_val){.n = (uint32_t)(ts_rng(&s) % 4)};
        for (uint32_t k = 0; k < v[3].n; k++) {
            snprintf(tg[k], 8, "t%llu", (unsigned long long)(ts_rng(&s) % 12));
            v[3].v[k] = tv_str(tg[k]).v[0];
        }
        v[4] = tv_i32((int32_t)(ts_rng(&s) % 100));
        v[5] = tv_f64((double)(ts_rng(&s) % 20000) / 7.0 - 1000.0);
        v[6] = (ts_val){.n = 2};
        v[6].v[0].u.f32 = (float)(ts_rng(&s) % 9) - 4.0f;
        v[6].v[1].u.f32 = -0.0f;
        v[7] = tv_i32((int32_t)(ts_rng(&s) & 1));
        v[8] = tv_i64((int64_t)ts_rng(&s));
        for (int k = 0; k < 8; k++) bl[k] = (char)(ts_rng(&s) % 3);
        v[9] = tv_bytes(bl, (uint32_t)(ts_rng(&s) % 9));
        ts_row(t, v);
    }
    return t;
}

/* The bytes depend on the rows only: not on dictionary id order, unused entries, or
 * duplicate dictionary values. */
static void test_determinism_dict_order(void **state)
{
    (void)state;
    ts_src *t = random_table(11, 20000);
    uint8_t *a, *b, *c;
    size_t al, bl, cl;
    build_expect(ts_view(t, "ts"), &a, &al);
    check_segment(t, t->rows, a, al);
    for (uint32_t col = 0; col < t->sch.nfields; col++) ts_permute_dict(t, col, 1000 + col, 37);
    build_expect(ts_view(t, "ts"), &b, &bl);
    assert_int_equal(al, bl);
    assert_memory_equal(a, b, al);
    for (uint32_t col = 0; col < t->sch.nfields; col++) ts_dup_dict(t, col);
    build_expect(ts_view(t, "ts"), &c, &cl);
    assert_int_equal(al, cl);
    assert_memory_equal(a, c, al);
    /* a second, independently filled source with the same rows gives the same bytes too */
    ts_src *t2 = random_table(11, 20000);
    uint8_t *d;
    size_t dl;
    build_expect(ts_view(t2, "ts"), &d, &dl);
    assert_int_equal(al, dl);
    assert_memory_equal(a, d, al);
    /* and a different row changes them */
    ts_src *t3 = random_table(12, 20000);
    uint8_t *e;
    size_t el;
    build_expect(ts_view(t3, "ts"), &e, &el);
    assert_true(el != al || memcmp(a, e, al) != 0);
    free(a);
    free(b);
    free(c);
    free(d);
    free(e);
    ts_free(t);
    ts_free(t2);
    ts_free(t3);
}

/* A view of the first N rows of a longer source (what a build over a growing mutable segment
 * sees: dictionary entries, values, null bits past row N) equals a build of exactly N rows. */
static void test_determinism_prefix(void **state)
{
    (void)state;
    const int n = 16500; /* not a multiple of 64 and past the first chunk */
    ts_src *longer = random_table(21, n + 700);
    ts_src *exact = random_table(21, n);
    /* the extra rows are all null in the user column, so null bits follow row n */
    uint8_t *a, *b;
    size_t al, bl;
    build_expect(ts_view(exact, "ts"), &a, &al);
    seg_src view = *ts_view(longer, "ts");
    for (uint32_t col = 0; col < longer->sch.nfields; col++) {
        ts_col *c = &longer->c[col];
        for (uint64_t r = (uint64_t)n; r < longer->rows; r++)
            *(uint64_t *)ts_vec_at(&c->nulls, r / 64) |= (uint64_t)1 << (r & 63);
    }
    view = *ts_view(longer, "ts");
    view.rows = (uint64_t)n;
    build_expect(&view, &b, &bl);
    assert_int_equal(al, bl);
    assert_memory_equal(a, b, al);
    check_segment(exact, (uint64_t)n, b, bl);
    free(a);
    free(b);
    ts_free(longer);
    ts_free(exact);
}

static void test_nulls(void **state)
{
    (void)state;
    ts_src *t = ts_new();
    ts_col_add(t, "all_null", SCHEMA_STRING, true, true);
    ts_col_add(t, "edges", SCHEMA_LONG, true, false);
    ts_col_add(t, "none", SCHEMA_INT, true, true);
    for (int row = 0; row < 130; row++) {
        ts_val v[3] = {tv_null(tv_str("null")), tv_i64(row),
                       tv_i32(row % 3)};
        if (row == 0 || row == 63 || row == 64 || row == 129) v[1].null = true;
        ts_row(t, v);
    }
    t->c[2].any_null = true; /* a bitmap with no bit set: same as no bitmap */
    uint8_t *a, *b;
    size_t al, bl;
    build_expect(ts_view(t, NULL), &a, &al);
    check_segment(t, t->rows, a, al);
    seg_reader *r = seg_reader_open_mem(a, al, NULL, NULL, 0);
    assert_int_equal(seg_reader_col(r, 0)->null_count, 130);
    assert_int_equal(seg_reader_col(r, 1)->null_count, 4);
    assert_int_equal(seg_reader_col(r, 2)->null_count, 0);
    assert_true(seg_reader_is_null(r, 1, 64));
    assert_false(seg_reader_is_null(r, 1, 65));
    assert_false(seg_reader_is_null(r, 1, 130)); /* out of range */
    assert_false(seg_reader_is_null(r, 9, 0));
    seg_reader_close(r);
    t->c[2].any_null = false;
    build_expect(ts_view(t, NULL), &b, &bl);
    assert_int_equal(al, bl);
    assert_memory_equal(a, b, al);
    free(a);
    free(b);
    ts_free(t);
}

/* Raw columns report the exact distinct count: bit-identical values are one value, -0.0 and
 * +0.0 are two. */
static void test_raw_cardinality(void **state)
{
    (void)state;
    ts_src *t = ts_new();
    ts_col_add(t, "l", SCHEMA_LONG, true, false);
    ts_col_add(t, "d", SCHEMA_DOUBLE, true, false);
    ts_col_add(t, "s", SCHEMA_STRING, true, false);
    ts_col_add(t, "f", SCHEMA_FLOAT, false, false);
    const double ds[] = {0.0, -0.0, NAN, NAN, 1.0, 1.0};
    const char *ss[] = {"", "a", "", "b", "a", "a\0"};
    for (int row = 0; row < 600; row++) {
        ts_val v[4] = {tv_i64(row % 17 - 8), tv_f64(ds[row % 6]), tv_bytes(ss[row % 6], row % 6 == 5 ? 2 : (uint32_t)strlen(ss[row % 6])), {.n = 1}};
        v[3].v[0].u.f32 = (float)(row % 5);
        ts_row(t, v);
    }
    uint8_t *a;
    size_t al;
    build_expect(ts_view(t, NULL), &a, &al);
    check_segment(t, t->rows, a, al);
    seg_reader *r = seg_reader_open_mem(a, al, NULL, NULL, 0);
    assert_int_equal(seg_reader_col(r, 0)->cardinality, 17);
    assert_int_equal(seg_reader_col(r, 0)->min.u.i64, -8);
    assert_int_equal(seg_reader_col(r, 0)->max.u.i64, 8);
    assert_int_equal(seg_reader_col(r, 1)->cardinality, 4);
    assert_int_equal(seg_reader_col(r, 2)->cardinality, 4);
    assert_int_equal(seg_reader_col(r, 2)->min.u.bytes.len, 0);
    assert_int_equal(seg_reader_col(r, 2)->max.u.bytes.len, 1);
    assert_memory_equal(seg_reader_col(r, 2)->max.u.bytes.ptr, "b", 1);
    assert_int_equal(seg_reader_col(r, 3)->cardinality, 5);
    seg_reader_close(r);
    free(a);
    ts_free(t);
}

static void test_time_range(void **state)
{
    (void)state;
    ts_src *t = ts_new();
    ts_col_add(t, "day", SCHEMA_STRING, true, true);
    ts_col_add(t, "ms", SCHEMA_LONG, true, true);
    ts_col_add(t, "sec", SCHEMA_INT, true, false);
    /* SIMPLE_DATE_FORMAT columns, dictionary and raw: the instants in ms of their earliest and
     * latest values the pattern reads ("soon" it does not) */
    for (int k = 0; k < 3; k++) {
        int c = ts_col_add(t,
                           k == 0   ? "sdf"
                           : k == 1 ? "sdfraw"
                                    : "nodates",
                           SCHEMA_STRING, true, k != 1);
        t->fields[c].role = SCHEMA_DATETIME;
        t->fields[c].format = (char *)"1:DAYS:SIMPLE_DATE_FORMAT:yyyy-MM-dd";
        t->fields[c].granularity = (char *)"1:DAYS";
    }
    static const char *const days[] = {"2024-01-05", "soon", "2024-01-09", "2023-12-31"};
    for (int row = 0; row < 10; row++) {
        ts_val v[6] = {tv_str("2024-01-01"),  tv_i64(5000 - row * 10),     tv_i32(-row),
                       tv_str(days[row % 4]), tv_str(days[(row + 1) % 4]), tv_str("soon")};
        ts_row(t, v);
    }
    const int64_t d1231 = 1703980800000LL, d0109 = 1704758400000LL;
    const struct {
        const char *col;
        int32_t idx;
        bool range;
        int64_t lo, hi;
    } cases[] = {{NULL, -1, false, 0, 0},        {"day", 0, false, 0, 0},
                 {"ms", 1, true, 4910, 5000},    {"sec", 2, true, -9, 0},
                 {"sdf", 3, true, d1231, d0109}, {"sdfraw", 4, true, d1231, d0109},
                 {"nodates", 5, false, 0, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t *a;
        size_t al;
        build_expect(ts_view(t, cases[i].col), &a, &al);
        seg_reader *r = seg_reader_open_mem(a, al, NULL, NULL, 0);
        assert_int_equal(seg_reader_time_column(r), cases[i].idx);
        int64_t lo = 77, hi = 77;
        assert_int_equal(seg_reader_time_range(r, &lo, &hi), cases[i].range);
        if (cases[i].range) {
            assert_int_equal(lo, cases[i].lo);
            assert_int_equal(hi, cases[i].hi);
        } else {
            assert_int_equal(lo, 77);
        }
        seg_reader_close(r);
        free(a);
    }
    ts_free(t);
}

static void test_bad_source(void **state)
{
    (void)state;
    char err[256];
    uint8_t *out = (uint8_t *)&err;
    size_t len = 99;
    ts_src *t = ts_fixture_small();
    seg_src v = *ts_view(t, "ts");
    seg_src_col cols[TS_MAXC];
    memcpy(cols, v.cols, sizeof cols);
    v.cols = cols;

    /* dictionary id out of range */
    cols[0].cardinality = 2; /* ids 0..3 are used */
    assert_int_equal(seg_build_mem(&v, &meta0, &out, &len, err, sizeof err), SL_EINVAL);
    assert_non_null(strstr(err, "country"));
    assert_null(out);
    assert_int_equal(len, 0);
    memcpy(cols, t->scols, sizeof cols);

    /* values but no dictionary */
    cols[2].cardinality = 0;
    assert_int_equal(seg_build_mem(&v, &meta0, &out, &len, err, sizeof err), SL_EINVAL);
    memcpy(cols, t->scols, sizeof cols);

    /* single-value column shorter than the rows */
    cols[4].n_values = 5;
    assert_int_equal(seg_build_mem(&v, &meta0, &out, &len, err, sizeof err), SL_EINVAL);
    assert_non_null(strstr(err, "price"));
    memcpy(cols, t->scols, sizeof cols);

    /* multi-value offsets past the values, then decreasing */
    cols[7].n_values = 3;
    assert_int_equal(seg_build_mem(&v, &meta0, &out, &len, err, sizeof err), SL_EINVAL);
    memcpy(cols, t->scols, sizeof cols);
    uint32_t *ends = ts_vec_at(&t->c[7].mv_end, 2);
    uint32_t saved = *ends;
    *ends = 0;
    assert_int_equal(seg_build_mem(&v, &meta0, &out, &len, err, sizeof err), SL_EINVAL);
    assert_non_null(strstr(err, "decreases"));
    *ends = saved;

    /* unknown time column, missing metadata, too many rows */
    v.time_column = "nope";
    assert_int_equal(seg_build_mem(&v, &meta0, &out, &len, err, sizeof err), SL_EINVAL);
    assert_non_null(strstr(err, "nope"));
    v.time_column = "ts";
    seg_meta_in m = meta0;
    m.name = NULL;
    assert_int_equal(seg_build_mem(&v, &m, &out, &len, err, sizeof err), SL_EINVAL);
    v.rows = (uint64_t)UINT32_MAX + 1;
    assert_int_equal(seg_build_mem(&v, &meta0, &out, &len, err, sizeof err), SL_ELIMIT);
    v.rows = t->rows;
    /* and the untouched view still builds */
    assert_int_equal(seg_build_mem(&v, &meta0, &out, &len, err, sizeof err), 0);
    free(out);
    ts_free(t);
}

/* ---- files ---- */

static char tmpdir[256];

static int setup_dir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_seg_builder.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int rm_rf(const char *path)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    return system(cmd);
}

static int teardown_dir(void **state)
{
    (void)state;
    return rm_rf(tmpdir) == 0 ? 0 : -1;
}

/* Names in dir (excluding . and ..), joined by '|'. */
static void list_dir(const char *dir, char *out, size_t outlen)
{
    out[0] = 0;
    struct dirent **ents;
    int n = scandir(dir, &ents, NULL, alphasort);
    assert_true(n >= 0);
    for (int i = 0; i < n; i++) {
        if (strcmp(ents[i]->d_name, ".") && strcmp(ents[i]->d_name, "..")) {
            strncat(out, ents[i]->d_name, outlen - strlen(out) - 1);
            strncat(out, "|", outlen - strlen(out) - 1);
        }
        free(ents[i]);
    }
    free(ents);
}

static void test_build_file(void **state)
{
    (void)state;
    ts_src *t = ts_fixture_small();
    const seg_src *src = ts_view(t, "ts");
    char path[512], err[256], names[1024];
    snprintf(path, sizeof path, "%s/s1.seg", tmpdir);
    uint32_t crc = 0;
    uint64_t size = 0;
    assert_int_equal(seg_build_file(src, &ts_fixture_meta, path, &crc, &size, err, sizeof err), 0);
    list_dir(tmpdir, names, sizeof names);
    assert_string_equal(names, "s1.seg|"); /* no temporary left behind */
    uint8_t *mem;
    size_t len;
    assert_int_equal(seg_build_mem(src, &ts_fixture_meta, &mem, &len, err, sizeof err), 0);
    assert_int_equal(size, len);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal((uint64_t)st.st_size, len);
    assert_int_equal(seg_verify_file(path, err, sizeof err), 0);
    seg_reader *r = seg_reader_open(path, NULL, NULL, 0);
    assert_non_null(r);
    assert_int_equal(seg_reader_crc(r), crc);
    size_t fl;
    assert_memory_equal(seg_reader_bytes(r, &fl), mem, len);
    seg_reader_close(r);
    /* replacing an existing file is atomic too; NULL outputs are allowed */
    ts_val extra[9];
    memset(extra, 0, sizeof extra);
    extra[1].n = 0;
    extra[7].n = 1;
    ts_row(t, extra);
    assert_int_equal(seg_build_file(ts_view(t, "ts"), &ts_fixture_meta, path, NULL, NULL, err, sizeof err), 0);
    list_dir(tmpdir, names, sizeof names);
    assert_string_equal(names, "s1.seg|");
    r = seg_reader_open(path, NULL, NULL, 0);
    assert_int_equal(seg_reader_rows(r), 7);
    seg_reader_close(r);
    unlink(path);
    free(mem);
    ts_free(t);
}

static void test_build_file_failures(void **state)
{
    (void)state;
    ts_src *t = ts_fixture_small();
    const seg_src *src = ts_view(t, "ts");
    char path[512], err[256] = "", names[1024];

    /* 1. directory missing: nothing created */
    snprintf(path, sizeof path, "%s/missing/s.seg", tmpdir);
    assert_int_equal(seg_build_file(src, &ts_fixture_meta, path, NULL, NULL, err, sizeof err), SL_ENOENT);
    assert_non_null(strstr(err, "missing"));
    list_dir(tmpdir, names, sizeof names);
    assert_string_equal(names, "");

    /* 2. rename fails (a non-empty directory sits at the path): the temporary is removed and
     *    the directory is untouched */
    snprintf(path, sizeof path, "%s/taken", tmpdir);
    assert_int_equal(mkdir(path, 0755), 0);
    char inner[600];
    snprintf(inner, sizeof inner, "%s/keep", path);
    FILE *f = fopen(inner, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(seg_build_file(src, &ts_fixture_meta, path, NULL, NULL, err, sizeof err), SL_EIO);
    assert_non_null(strstr(err, "rename"));
    list_dir(tmpdir, names, sizeof names);
    assert_string_equal(names, "taken|");
    list_dir(path, names, sizeof names);
    assert_string_equal(names, "keep|");

    /* 3. write fails (file size limit, in a child so the limit does not leak): no temporary,
     *    nothing at the path */
    snprintf(path, sizeof path, "%s/big.seg", tmpdir);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {100, 100};
        setrlimit(RLIMIT_FSIZE, &rl);
        char e[256];
        int rc = seg_build_file(src, &ts_fixture_meta, path, NULL, NULL, e, sizeof e);
        _exit(rc == SL_EIO && strstr(e, "write") ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    list_dir(tmpdir, names, sizeof names);
    assert_string_equal(names, "taken|");
    rm_rf(path);
    snprintf(path, sizeof path, "%s/taken", tmpdir);
    rm_rf(path);
    ts_free(t);
}

/* A full disk is SL_ENOSPACE (environmental: retried with the same rows), never the
 * deterministic SL_ELIMIT/SL_EINVAL that would halve a flush threshold; nothing is left. */
static void test_build_file_disk_full(void **state)
{
    (void)state;
    ts_src *t = ts_fixture_small();
    const seg_src *src = ts_view(t, "ts");
    char path[512], err[256] = "", names[1024];
    snprintf(path, sizeof path, "%s/s.seg", tmpdir);
    fsutil_fault_configure(NULL, 0, 1); /* the first publication fails with ENOSPC */
    int rc = seg_build_file(src, &ts_fixture_meta, path, NULL, NULL, err, sizeof err);
    assert_int_equal(rc, SL_ENOSPACE);
    assert_false(sl_err_is_deterministic(rc));
    assert_non_null(strstr(err, "No space left on device"));
    list_dir(tmpdir, names, sizeof names);
    assert_string_equal(names, "");
    uint32_t crc = 0;
    assert_int_equal(seg_build_file(src, &ts_fixture_meta, path, &crc, NULL, err, sizeof err), 0);
    fsutil_fault_configure(NULL, -1, 0);
    list_dir(tmpdir, names, sizeof names);
    assert_string_equal(names, "s.seg|");
    rm_rf(path);
    ts_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_small),
        cmocka_unit_test(test_all_types_roundtrip),
        cmocka_unit_test(test_extreme_order),
        cmocka_unit_test(test_string_order),
        cmocka_unit_test(test_string_sort_stress),
        cmocka_unit_test(test_zero_rows),
        cmocka_unit_test(test_one_row),
        cmocka_unit_test(test_many_chunks),
        cmocka_unit_test(test_bit_widths),
        cmocka_unit_test(test_determinism_dict_order),
        cmocka_unit_test(test_determinism_prefix),
        cmocka_unit_test(test_nulls),
        cmocka_unit_test(test_raw_cardinality),
        cmocka_unit_test(test_time_range),
        cmocka_unit_test(test_bad_source),
        cmocka_unit_test_setup_teardown(test_build_file, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_build_file_failures, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_build_file_disk_full, setup_dir, teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
