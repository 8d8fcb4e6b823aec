/* Mutable segment: appends, dictionaries, raw columns, multi-value, nulls, the build view,
 * chunk growth, and a reader thread that must always see a consistent prefix. */
#include "consumer/mseg.h"
#include "common/sl_err.h"

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

/* A schema built by hand so this test does not depend on the JSON loader. */
static schema_field mkfield(const char *name, schema_type t, bool sv)
{
    schema_field f;
    memset(&f, 0, sizeof f);
    f.name = (char *)name;
    f.type = t;
    f.single_value = sv;
    return f;
}

enum { C_LONG, C_STR, C_INT, C_DBL, C_BYTES_RAW, C_MV, C_FLOAT, C_NCOLS };

static schema_field fields[C_NCOLS];
static schema sch = {.name = "t", .nfields = C_NCOLS, .fields = fields};
static const bool raw_flags[C_NCOLS] = {[C_LONG] = true, [C_BYTES_RAW] = true};

static void init_schema(void)
{
    fields[C_LONG] = mkfield("ts", SCHEMA_LONG, true);
    fields[C_STR] = mkfield("user", SCHEMA_STRING, true);
    fields[C_INT] = mkfield("n", SCHEMA_INT, true);
    fields[C_DBL] = mkfield("price", SCHEMA_DOUBLE, true);
    fields[C_BYTES_RAW] = mkfield("blob", SCHEMA_BYTES, true);
    fields[C_MV] = mkfield("tags", SCHEMA_STRING, false);
    fields[C_FLOAT] = mkfield("f", SCHEMA_FLOAT, true);
}

/* Row i's deterministic content; strings are formatted into the caller's buffers. */
typedef struct trow {
    row r;
    row_col cols[C_NCOLS];
    schema_value mv[3];
    char user[32], blob[32], tag[3][16];
} trow;

static void make_row(trow *t, uint64_t i)
{
    memset(t, 0, sizeof *t);
    t->r.ncols = C_NCOLS;
    t->r.cols = t->cols;
    for (int c = 0; c < C_NCOLS; c++)
        t->cols[c].nvals = 1;
    t->cols[C_LONG].v.u.i64 = (int64_t)(1700000000000ULL + i);
    snprintf(t->user, sizeof t->user, "user%llu", (unsigned long long)(i % 97));
    t->cols[C_STR].v.u.bytes.ptr = (const uint8_t *)t->user;
    t->cols[C_STR].v.u.bytes.len = (uint32_t)strlen(t->user);
    t->cols[C_INT].v.u.i32 = (int32_t)(i % 7) - 3;
    t->cols[C_DBL].v.u.f64 = (double)(i % 11) * 0.25;
    snprintf(t->blob, sizeof t->blob, "b%llu", (unsigned long long)i);
    t->cols[C_BYTES_RAW].v.u.bytes.ptr = (const uint8_t *)t->blob;
    t->cols[C_BYTES_RAW].v.u.bytes.len = (uint32_t)(i % 5 == 0 ? 0 : strlen(t->blob));
    uint32_t k = (uint32_t)(i % 3) + 1;
    for (uint32_t j = 0; j < k; j++) {
        snprintf(t->tag[j], sizeof t->tag[j], "t%u", (unsigned)((i + j) % 4));
        t->mv[j].u.bytes.ptr = (const uint8_t *)t->tag[j];
        t->mv[j].u.bytes.len = (uint32_t)strlen(t->tag[j]);
    }
    t->cols[C_MV].nvals = k;
    t->cols[C_MV].mv = t->mv;
    t->cols[C_FLOAT].v.u.f32 = i % 13 == 0 ? -0.0f : (float)i;
    t->cols[C_FLOAT].is_null = (i % 13 == 0);
}

static void check_row(const mseg *m, uint64_t i)
{
    trow t;
    make_row(&t, i);
    schema_value v, mv[8];
    mseg_read_value(m, C_LONG, i, &v);
    assert_int_equal(v.u.i64, t.cols[C_LONG].v.u.i64);
    mseg_read_value(m, C_STR, i, &v);
    assert_int_equal(v.u.bytes.len, t.cols[C_STR].v.u.bytes.len);
    assert_memory_equal(v.u.bytes.ptr, t.user, v.u.bytes.len);
    mseg_read_value(m, C_INT, i, &v);
    assert_int_equal(v.u.i32, t.cols[C_INT].v.u.i32);
    mseg_read_value(m, C_DBL, i, &v);
    assert_true(v.u.f64 == t.cols[C_DBL].v.u.f64);
    mseg_read_value(m, C_BYTES_RAW, i, &v);
    assert_int_equal(v.u.bytes.len, t.cols[C_BYTES_RAW].v.u.bytes.len);
    if (v.u.bytes.len) assert_memory_equal(v.u.bytes.ptr, t.blob, v.u.bytes.len);
    uint32_t k = mseg_read_mv(m, C_MV, i, mv, 8);
    assert_int_equal(k, t.cols[C_MV].nvals);
    for (uint32_t j = 0; j < k; j++) {
        assert_int_equal(mv[j].u.bytes.len, strlen(t.tag[j]));
        assert_memory_equal(mv[j].u.bytes.ptr, t.tag[j], mv[j].u.bytes.len);
    }
    assert_int_equal(mseg_read_is_null(m, C_FLOAT, i), i % 13 == 0);
    assert_false(mseg_read_is_null(m, C_STR, i));
}

static void test_append_and_read(void **state)
{
    (void)state;
    mseg *m = mseg_new(&sch, raw_flags);
    assert_int_equal(mseg_rows(m), 0);
    const uint64_t n = 3 * SEG_CHUNK + 123; /* spans chunks and grows chunk 0 */
    trow t;
    for (uint64_t i = 0; i < n; i++) {
        make_row(&t, i);
        assert_int_equal(mseg_append(m, &t.r), 0);
    }
    assert_int_equal(mseg_rows(m), n);
    for (uint64_t i = 0; i < n; i += 7)
        check_row(m, i);
    check_row(m, n - 1);
    assert_true(mseg_memory_bytes(m) > 0);
    mseg_free(m);
}

/* More segments at once than jemalloc has arenas (4096), as a sidecar with 10,000 partitions
 * holds: the ones beyond the arenas list their allocations, and every one holds its rows. */
static void test_more_segments_than_arenas(void **state)
{
    (void)state;
    enum { N = 5000, ROWS = 40 };
    mseg **m = calloc(N, sizeof *m);
    assert_non_null(m);
    trow t;
    for (int s = 0; s < N; s++) {
        m[s] = mseg_new(&sch, raw_flags);
        for (uint64_t i = 0; i < ROWS; i++) {
            make_row(&t, (uint64_t)s + i);
            assert_int_equal(mseg_append(m[s], &t.r), 0);
        }
    }
    for (int s = 0; s < N; s += 499) {
        assert_int_equal(mseg_rows(m[s]), ROWS);
        for (uint64_t i = 0; i < ROWS; i++) {
            schema_value v;
            make_row(&t, (uint64_t)s + i);
            mseg_read_value(m[s], C_LONG, i, &v);
            assert_int_equal(v.u.i64, t.cols[C_LONG].v.u.i64);
        }
    }
    for (int s = 0; s < N; s++)
        mseg_free(m[s]);
    free(m);
    mseg *again = mseg_new(&sch, raw_flags); /* arenas were given back */
    make_row(&t, 1);
    assert_int_equal(mseg_append(again, &t.r), 0);
    mseg_free(again);
}

static void test_view(void **state)
{
    (void)state;
    mseg *m = mseg_new(&sch, raw_flags);
    trow t;
    const uint64_t n = SEG_CHUNK + 10;
    for (uint64_t i = 0; i < n; i++) {
        make_row(&t, i);
        assert_int_equal(mseg_append(m, &t.r), 0);
    }
    seg_src src;
    seg_src_col cols[C_NCOLS];
    mseg_src(m, &src, cols);
    assert_int_equal(src.rows, n);
    assert_ptr_equal(src.schema, &sch);
    /* dictionary: 97 distinct users, ids in first-seen order */
    assert_true(cols[C_STR].dict);
    assert_int_equal(cols[C_STR].cardinality, 97);
    assert_int_equal(seg_src_id_in(cols[C_STR].val_chunks[0], 0), 0);
    assert_int_equal(seg_src_id_in(cols[C_STR].val_chunks[0], 98), 1);
    assert_int_equal(seg_src_id_tag(cols[C_STR].val_chunks[0]), SEG_SRC_ID_U8); /* 97 ids */
    const seg_bytes *b = &SEG_SRC_AT(cols[C_STR].dict_chunks, seg_bytes, 5);
    assert_int_equal(b->len, 5);
    assert_memory_equal(b->ptr, "user5", 5);
    assert_int_equal(cols[C_INT].cardinality, 7);
    /* raw column */
    assert_false(cols[C_LONG].dict);
    assert_int_equal(SEG_SRC_AT(cols[C_LONG].val_chunks, int64_t, SEG_CHUNK + 3),
                     1700000000000LL + SEG_CHUNK + 3);
    /* multi-value: rows hold 1, 2, 3, 1, ... values */
    assert_non_null(cols[C_MV].mv_end_chunks);
    assert_int_equal(SEG_SRC_AT(cols[C_MV].mv_end_chunks, uint32_t, 0), 1);
    assert_int_equal(SEG_SRC_AT(cols[C_MV].mv_end_chunks, uint32_t, 2), 6);
    assert_int_equal(cols[C_MV].cardinality, 4);
    /* nulls: only the float column has any */
    assert_null(cols[C_STR].null_chunks);
    assert_non_null(cols[C_FLOAT].null_chunks);
    assert_int_equal(SEG_SRC_AT(cols[C_FLOAT].null_chunks, uint64_t, 0) & 1, 1);
    assert_int_equal((SEG_SRC_AT(cols[C_FLOAT].null_chunks, uint64_t, 0) >> 13) & 1, 1);
    assert_int_equal((SEG_SRC_AT(cols[C_FLOAT].null_chunks, uint64_t, 0) >> 1) & 1, 0);
    mseg_free(m);
}

/* Float dictionary keys are bit patterns: -0.0 and +0.0 are distinct values. */
static void test_float_keys(void **state)
{
    (void)state;
    mseg *m = mseg_new(&sch, NULL);
    trow t;
    make_row(&t, 13); /* -0.0 */
    assert_int_equal(mseg_append(m, &t.r), 0);
    make_row(&t, 13);
    t.cols[C_FLOAT].v.u.f32 = 0.0f;
    assert_int_equal(mseg_append(m, &t.r), 0);
    seg_src src;
    seg_src_col cols[C_NCOLS];
    mseg_src(m, &src, cols);
    assert_int_equal(cols[C_FLOAT].cardinality, 2);
    assert_int_equal(cols[C_BYTES_RAW].cardinality, 1); /* no-dict flags NULL: all dict */
    mseg_free(m);
}

static void test_empty_segment_view(void **state)
{
    (void)state;
    mseg *m = mseg_new(&sch, raw_flags);
    seg_src src;
    seg_src_col cols[C_NCOLS];
    mseg_src(m, &src, cols);
    assert_int_equal(src.rows, 0);
    for (int c = 0; c < C_NCOLS; c++) {
        assert_int_equal(cols[c].n_values, 0);
        assert_null(cols[c].null_chunks);
    }
    mseg_free(m);
}

/* Dictionary ids start one byte wide and widen (1 -> 2 -> 4 bytes) as the dictionary grows,
 * inside a chunk and at chunk boundaries; every id must survive the re-copies. */
static void test_id_widths(void **state)
{
    (void)state;
    const uint64_t n = 70000 + SEG_CHUNK; /* > 65536 distinct ints, then repeats */
    mseg *m = mseg_new(&sch, raw_flags);
    trow t;
    for (uint64_t i = 0; i < n; i++) {
        make_row(&t, i);
        t.cols[C_INT].v.u.i32 = (int32_t)(i < 70000 ? i : i % 300);
        assert_int_equal(mseg_append(m, &t.r), 0);
    }
    seg_src src;
    seg_src_col cols[C_NCOLS];
    mseg_src(m, &src, cols);
    assert_int_equal(cols[C_INT].cardinality, 70000);
    for (uint64_t i = 0; i < n; i++) {
        uint32_t id = seg_src_id_in(cols[C_INT].val_chunks[i >> SEG_CHUNK_SHIFT],
                                    (uint32_t)(i & SEG_CHUNK_MASK));
        uint32_t want = (uint32_t)(i < 70000 ? i : i % 300);
        if (id != want) fail_msg("row %llu: id %u, want %u", (unsigned long long)i, id, want);
        schema_value v;
        mseg_read_value(m, C_INT, i, &v);
        assert_int_equal(v.u.i32, (int32_t)want);
    }
    assert_int_equal(seg_src_id_tag(cols[C_INT].val_chunks[0]), SEG_SRC_ID_U16);
    assert_int_equal(seg_src_id_tag(cols[C_INT].val_chunks[65536 >> SEG_CHUNK_SHIFT]),
                     SEG_SRC_ID_U32);
    mseg_free(m);
}

/* Fill m with rows [from, to); column C_INT gets `ints` distinct values. */
static void fill_rows(mseg *m, uint64_t from, uint64_t to, uint64_t ints)
{
    trow t;
    for (uint64_t i = from; i < to; i++) {
        make_row(&t, i);
        t.cols[C_INT].v.u.i32 = (int32_t)(i % ints);
        assert_int_equal(mseg_append(m, &t.r), 0);
    }
}

/* The file a segment builds, read back whole (caller frees). */
static uint8_t *built_bytes(const mseg *m, const char *path, size_t *n)
{
    char err[256];
    seg_meta_in meta = {.table = "t",
                        .name = "t__0__0__20260101T0000Z",
                        .partition = 0,
                        .sequence = 0,
                        .start_offset = 0,
                        .end_offset = (int64_t)mseg_rows(m)};
    assert_int_equal(mseg_build_file(m, "ts", &meta, path, NULL, NULL, err, sizeof err), 0);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    rewind(f);
    uint8_t *b = malloc(*n);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, *n, f), *n);
    fclose(f);
    remove(path);
    return b;
}

/* A segment sized like its predecessor (wide ids, big hash tables and chunks from the start,
 * on the predecessor's reset arena) holds the same rows and builds the same bytes as a fresh
 * one, whether the new rows need more room than the predecessor had or much less. */
static void test_new_like(void **state)
{
    (void)state;
    const uint64_t big = 70000 + SEG_CHUNK, small = 300;
    mseg *prev = mseg_new(&sch, raw_flags);
    fill_rows(prev, 0, big, 70000);
    for (int round = 0; round < 2; round++) {
        uint64_t n = round == 0 ? small : 2 * big, ints = round == 0 ? 5 : 100000;
        mseg *like = mseg_new_like(prev);
        mseg_free(prev); /* its arena is reset and pooled; `like` may get it next time */
        mseg *fresh = mseg_new(&sch, raw_flags);
        fill_rows(like, 0, n, ints);
        fill_rows(fresh, 0, n, ints);
        assert_int_equal(mseg_rows(like), n);
        for (uint64_t i = 0; i < n; i += 997) {
            schema_value v;
            mseg_read_value(like, C_INT, i, &v);
            assert_int_equal(v.u.i32, (int32_t)(i % ints));
            mseg_read_value(like, C_LONG, i, &v);
            assert_int_equal(v.u.i64, (int64_t)(1700000000000ULL + i));
        }
        char path[] = "/tmp/test_mseg_like_XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        close(fd);
        size_t na, nb;
        uint8_t *a = built_bytes(like, path, &na), *b = built_bytes(fresh, path, &nb);
        assert_int_equal(na, nb);
        assert_memory_equal(a, b, na);
        free(a);
        free(b);
        mseg_free(fresh);
        prev = like;
    }
    mseg_free(prev);
}

/* Long strings that share their first 8 bytes go through the full comparison. */
static void test_long_strings(void **state)
{
    (void)state;
    mseg *m = mseg_new(&sch, raw_flags);
    trow t;
    char buf[64];
    for (uint64_t i = 0; i < 3000; i++) {
        make_row(&t, i);
        snprintf(buf, sizeof buf, "same-prefix-%llu", (unsigned long long)(i % 1000));
        t.cols[C_STR].v.u.bytes.ptr = (const uint8_t *)buf;
        t.cols[C_STR].v.u.bytes.len = (uint32_t)strlen(buf);
        assert_int_equal(mseg_append(m, &t.r), 0);
    }
    seg_src src;
    seg_src_col cols[C_NCOLS];
    mseg_src(m, &src, cols);
    assert_int_equal(cols[C_STR].cardinality, 1000);
    schema_value v;
    mseg_read_value(m, C_STR, 2999, &v);
    assert_int_equal(v.u.bytes.len, strlen("same-prefix-999"));
    assert_memory_equal(v.u.bytes.ptr, "same-prefix-999", v.u.bytes.len);
    mseg_free(m);
}

typedef struct reader_arg {
    const mseg *m;
    _Atomic int done;
    uint64_t checks;
} reader_arg;

static void *reader_main(void *p)
{
    reader_arg *a = p;
    while (!a->done) {
        uint64_t n = mseg_rows(a->m);
        if (n == 0) continue;
        check_row(a->m, n - 1);       /* the newest published row is complete */
        check_row(a->m, (n - 1) / 2); /* and older ones are untouched */
        a->checks++;
    }
    return NULL;
}

static void test_concurrent_reader(void **state)
{
    (void)state;
    mseg *m = mseg_new(&sch, raw_flags);
    reader_arg a = {.m = m};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, reader_main, &a), 0);
    trow t;
    for (uint64_t i = 0; i < 200000; i++) {
        make_row(&t, i);
        assert_int_equal(mseg_append(m, &t.r), 0);
    }
    a.done = 1;
    pthread_join(th, NULL);
    assert_true(a.checks > 0);
    mseg_free(m);
}

/* ---- ingestion aggregation (mseg_set_aggregation) ---------------------------------- */

enum { A_DIM, A_DAY, A_NULLDIM, A_SUM_L, A_SUM_D, A_MIN_I, A_MAX_F, A_NCOLS };
static schema_field afields[A_NCOLS];
static schema asch = {.name = "a", .nfields = A_NCOLS, .fields = afields};
static const bool araw[A_NCOLS] = {
    [A_SUM_L] = true, [A_SUM_D] = true, [A_MIN_I] = true, [A_MAX_F] = true};
static const uint8_t aops[A_NCOLS] = {[A_SUM_L] = MSEG_AGG_SUM,
                                      [A_SUM_D] = MSEG_AGG_SUM,
                                      [A_MIN_I] = MSEG_AGG_MIN,
                                      [A_MAX_F] = MSEG_AGG_MAX};

typedef struct arow {
    row r;
    row_col cols[A_NCOLS];
    char dim[16];
} arow;

/* Input i: dimension "d<i%5>", day i%3, a dimension null on every 4th, metrics of i. */
static void make_arow(arow *a, uint64_t i)
{
    memset(a, 0, sizeof *a);
    a->r.ncols = A_NCOLS;
    a->r.cols = a->cols;
    for (int c = 0; c < A_NCOLS; c++)
        a->cols[c].nvals = 1;
    snprintf(a->dim, sizeof a->dim, "d%u", (unsigned)(i % 5));
    a->cols[A_DIM].v.u.bytes.ptr = (const uint8_t *)a->dim;
    a->cols[A_DIM].v.u.bytes.len = (uint32_t)strlen(a->dim);
    a->cols[A_DAY].v.u.i64 = (int64_t)(i % 3);
    a->cols[A_NULLDIM].v.u.i32 = 0; /* the default: the null and the value 0 are two keys */
    a->cols[A_NULLDIM].is_null = i % 4 == 0;
    a->cols[A_SUM_L].v.u.i64 = (int64_t)i;
    a->cols[A_SUM_D].v.u.f64 = (double)i * 0.5;
    a->cols[A_MIN_I].v.u.i32 = (int32_t)(1000 - i);
    a->cols[A_MAX_F].v.u.f32 = (float)i;
}

static void init_aschema(void)
{
    afields[A_DIM] = mkfield("dim", SCHEMA_STRING, true);
    afields[A_DAY] = mkfield("day", SCHEMA_LONG, true);
    afields[A_NULLDIM] = mkfield("k", SCHEMA_INT, true);
    afields[A_SUM_L] = mkfield("n", SCHEMA_LONG, true);
    afields[A_SUM_D] = mkfield("sum", SCHEMA_DOUBLE, true);
    afields[A_MIN_I] = mkfield("lo", SCHEMA_INT, true);
    afields[A_MAX_F] = mkfield("hi", SCHEMA_FLOAT, true);
}

/* The groups computed here the slow way: key = (i%5, i%3, i%4==0), first-seen order. */
static void test_aggregation(void **state)
{
    (void)state;
    init_aschema();
    const uint64_t n = 20000; /* many more inputs than groups, and a table that grows */
    mseg *m = mseg_new(&asch, araw);
    assert_int_equal(mseg_set_aggregation(m, aops), 0);
    assert_int_equal(mseg_set_aggregation(m, aops), SL_ESTATE); /* once */
    int key_row[60];
    for (int k = 0; k < 60; k++)
        key_row[k] = -1;
    int64_t want_n[60] = {0}, want_lo[60];
    double want_sum[60] = {0};
    float want_hi[60];
    int nrows = 0, order[60];
    for (uint64_t i = 0; i < n; i++) {
        arow a;
        make_arow(&a, i);
        assert_int_equal(mseg_append(m, &a.r), 0);
        int k = (int)(i % 5) * 12 + (int)(i % 3) * 4 + (i % 4 == 0 ? 1 : 0);
        if (key_row[k] < 0) {
            key_row[k] = nrows;
            order[nrows++] = k;
            want_lo[k] = 1000 - (int64_t)i;
            want_hi[k] = (float)i;
        }
        want_n[k] += (int64_t)i;
        want_sum[k] += (double)i * 0.5;
        if (1000 - (int64_t)i < want_lo[k]) want_lo[k] = 1000 - (int64_t)i;
        if ((float)i > want_hi[k]) want_hi[k] = (float)i;
    }
    /* 5 x 3 x 2 combinations, but (i%3, i%4==0) and i%5 are not independent enough to hide
     * any: every one of the 30 occurs in 20000 inputs */
    assert_int_equal(mseg_rows(m), (uint64_t)nrows);
    assert_int_equal(nrows, 30);
    for (int r = 0; r < nrows; r++) {
        int k = order[r];
        schema_value v;
        mseg_read_value(m, A_SUM_L, (uint64_t)r, &v);
        assert_int_equal(v.u.i64, want_n[k]);
        mseg_read_value(m, A_SUM_D, (uint64_t)r, &v);
        assert_true(v.u.f64 == want_sum[k]); /* the same additions in the same order */
        mseg_read_value(m, A_MIN_I, (uint64_t)r, &v);
        assert_int_equal(v.u.i32, want_lo[k]);
        mseg_read_value(m, A_MAX_F, (uint64_t)r, &v);
        assert_true(v.u.f32 == want_hi[k]);
        assert_int_equal(mseg_read_is_null(m, A_NULLDIM, (uint64_t)r), k % 2 == 1);
        assert_false(mseg_read_is_null(m, A_SUM_L, (uint64_t)r)); /* metrics never null */
    }
    /* the next segment of the partition rolls up the same way, and builds the same bytes */
    mseg *next = mseg_new_like(m);
    for (uint64_t i = 0; i < n; i++) {
        arow a;
        make_arow(&a, i);
        assert_int_equal(mseg_append(next, &a.r), 0);
    }
    assert_int_equal(mseg_rows(next), 30);
    char p1[64], p2[64], err[256];
    snprintf(p1, sizeof p1, "/tmp/sluice-agg-%d-1.seg", (int)getpid());
    snprintf(p2, sizeof p2, "/tmp/sluice-agg-%d-2.seg", (int)getpid());
    seg_meta_in meta = {.name = "a__0__0__20260101T0000Z",
                        .table = "a",
                        .partition = 0,
                        .sequence = 0,
                        .start_offset = 0,
                        .end_offset = (int64_t)n};
    uint32_t c1, c2;
    assert_int_equal(mseg_build_file(m, "day", &meta, p1, &c1, NULL, err, sizeof err), 0);
    assert_int_equal(mseg_build_file(next, "day", &meta, p2, &c2, NULL, err, sizeof err), 0);
    assert_int_equal(c1, c2);
    unlink(p1);
    unlink(p2);
    mseg_free(next);
    mseg_free(m);
}

static void test_aggregation_refused(void **state)
{
    (void)state;
    init_aschema();
    static const bool dict_metric[A_NCOLS] = {
        [A_SUM_D] = true, [A_MIN_I] = true, [A_MAX_F] = true}; /* n keeps its dictionary */
    mseg *m = mseg_new(&asch, dict_metric);
    assert_int_equal(mseg_set_aggregation(m, aops), SL_EINVAL);
    mseg_free(m);
    uint8_t on_string[A_NCOLS] = {[A_DIM] = MSEG_AGG_SUM};
    m = mseg_new(&asch, araw);
    assert_int_equal(mseg_set_aggregation(m, on_string), SL_EINVAL);
    uint8_t bad_op[A_NCOLS] = {[A_SUM_L] = 9};
    assert_int_equal(mseg_set_aggregation(m, bad_op), SL_EINVAL);
    mseg_free(m);
    init_schema(); /* the first schema has a multi-value column */
    static const uint8_t ops7[C_NCOLS] = {[C_LONG] = MSEG_AGG_SUM};
    m = mseg_new(&sch, raw_flags);
    assert_int_equal(mseg_set_aggregation(m, ops7), SL_EINVAL);
    mseg_free(m);
}

int main(void)
{
    init_schema();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_and_read),
        cmocka_unit_test(test_view),
        cmocka_unit_test(test_float_keys),
        cmocka_unit_test(test_empty_segment_view),
        cmocka_unit_test(test_id_widths),
        cmocka_unit_test(test_new_like),
        cmocka_unit_test(test_long_strings),
        cmocka_unit_test(test_concurrent_reader),
        cmocka_unit_test(test_more_segments_than_arenas),
        cmocka_unit_test(test_aggregation),
        cmocka_unit_test(test_aggregation_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
