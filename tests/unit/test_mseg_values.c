/* Variable-length values through the whole path: mutable segment -> builder -> reader,
 * compared row by row with the input.
 *
 * Value lengths range from 0 to the largest message the row decoder accepts by default
 * (1 MiB), with every power of two and its neighbours included, for STRING and BYTES, with
 * and without a dictionary, single- and multi-value. This is the regression test of the
 * value-heap overflow (a value that did not fit the doubled heap block was copied past its
 * end), and it runs under ASan in tests/run.sh. A CRC check alone would not catch that kind
 * of bug: the CRC is computed over whatever bytes were stored. */
#include "consumer/mseg.h"
#include "segment/seg_builder.h"
#include "segment/seg_reader.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define MAX_LEN ((uint32_t)1 << 20) /* rowdec's default message limit */
#define MV_MAX 3

enum { C_SDICT, C_SRAW, C_YDICT, C_YRAW, C_SMV, C_YMV, C_NCOLS };

static schema_field fields[C_NCOLS];
static schema sch = {.name = "v", .nfields = C_NCOLS, .fields = fields};
static const bool raw_flags[C_NCOLS] = {[C_SRAW] = true, [C_YRAW] = true, [C_YMV] = true};

static void init_schema(void)
{
    static const char *names[C_NCOLS] = {"sd", "sr", "yd", "yr", "smv", "ymv"};
    for (int c = 0; c < C_NCOLS; c++) {
        memset(&fields[c], 0, sizeof fields[c]);
        fields[c].name = (char *)names[c];
        fields[c].type = (c == C_SDICT || c == C_SRAW || c == C_SMV) ? SCHEMA_STRING : SCHEMA_BYTES;
        fields[c].single_value = c != C_SMV && c != C_YMV;
        fields[c].role = SCHEMA_DIMENSION;
    }
}

/* splitmix64: a fixed, seedable sequence, so a failure names a reproducible seed. */
static uint64_t rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* One stored value: its length and the seed its bytes are generated from. Equal (len, seed)
 * pairs give equal bytes, so repeated values exercise dictionary hits on long values. */
typedef struct tval {
    uint32_t len;
    uint64_t seed;
} tval;

typedef struct trow {
    tval v[C_NCOLS][MV_MAX];
    uint32_t n[C_NCOLS];
} trow;

static void fill(uint8_t *dst, const tval *v, bool string)
{
    uint64_t s = v->seed;
    for (uint32_t i = 0; i < v->len; i++) {
        uint64_t r = rnd(&s);
        dst[i] = string ? (uint8_t)('a' + r % 26) : (uint8_t)r; /* BYTES: NULs included */
    }
}

/* The lengths every column must see: 0 .. MAX_LEN, each power of two and its neighbours. */
static uint32_t special_len(uint32_t k, bool *ok)
{
    uint32_t p = k / 3, d = k % 3; /* 2^p - 1, 2^p, 2^p + 1 */
    uint64_t len = ((uint64_t)1 << p) + d - 1;
    *ok = p <= 20 && len <= MAX_LEN;
    return (uint32_t)len;
}
#define N_SPECIAL (21 * 3)

/* Log-uniform length in [0, MAX_LEN]: most values short, some close to the limit. */
static uint32_t random_len(uint64_t *s)
{
    uint32_t bits = (uint32_t)(rnd(s) % 21);
    uint64_t len = bits ? (rnd(s) & (((uint64_t)1 << bits) - 1)) : 0;
    return len > MAX_LEN ? MAX_LEN : (uint32_t)len;
}

static void make_rows(trow *rows, uint32_t nrows, uint64_t seed)
{
    uint64_t s = seed;
    for (uint32_t r = 0; r < nrows; r++) {
        for (int c = 0; c < C_NCOLS; c++) {
            uint32_t n = fields[c].single_value ? 1 : (uint32_t)(rnd(&s) % (MV_MAX + 1));
            rows[r].n[c] = n;
            for (uint32_t j = 0; j < n; j++) {
                tval *v = &rows[r].v[c][j];
                bool ok = false;
                /* even seeds: rows 0..N_SPECIAL-1 walk the special lengths, shifted per
                 * column; odd seeds: random from the first row (a fresh segment's first
                 * long value is where a heap block is most likely too small) */
                uint32_t k = (r + (uint32_t)c * 7 + j) % N_SPECIAL;
                v->len = r < N_SPECIAL && seed % 2 == 0 ? special_len(k, &ok) : 0;
                if (!ok) v->len = random_len(&s);
                /* one value in four repeats an earlier one of the same column */
                if (r > 0 && rnd(&s) % 4 == 0) {
                    uint32_t pr = (uint32_t)(rnd(&s) % r);
                    if (rows[pr].n[c] > 0) {
                        *v = rows[pr].v[c][0];
                        continue;
                    }
                }
                v->seed = rnd(&s);
            }
        }
    }
}

/* Appends rows to m; every value's bytes live in one scratch buffer per column value,
 * released after the append (the mutable segment must copy them). */
static void append_rows(mseg *m, const trow *rows, uint32_t nrows)
{
    for (uint32_t r = 0; r < nrows; r++) {
        row_col cols[C_NCOLS];
        schema_value mv[C_NCOLS][MV_MAX];
        uint8_t *bufs[C_NCOLS][MV_MAX] = {{0}};
        memset(cols, 0, sizeof cols);
        for (int c = 0; c < C_NCOLS; c++) {
            for (uint32_t j = 0; j < rows[r].n[c]; j++) {
                const tval *v = &rows[r].v[c][j];
                bufs[c][j] = malloc(v->len ? v->len : 1);
                fill(bufs[c][j], v, fields[c].type == SCHEMA_STRING);
                mv[c][j].u.bytes.ptr = bufs[c][j];
                mv[c][j].u.bytes.len = v->len;
            }
            cols[c].nvals = rows[r].n[c];
            cols[c].mv = mv[c];
            if (fields[c].single_value) cols[c].v = mv[c][0];
        }
        row rw = {.ncols = C_NCOLS, .cols = cols};
        assert_int_equal(mseg_append(m, &rw), 0);
        for (int c = 0; c < C_NCOLS; c++)
            for (uint32_t j = 0; j < rows[r].n[c]; j++) free(bufs[c][j]);
    }
}

/* Compares one stored value with the expected one; returns false on a difference. */
static bool same(const schema_value *got, const tval *want, bool string, uint8_t *scratch)
{
    if (got->u.bytes.len != want->len) return false;
    fill(scratch, want, string);
    return want->len == 0 || memcmp(got->u.bytes.ptr, scratch, want->len) == 0;
}

/* Row-by-row comparison of the mutable segment and of the built file; returns the number of
 * rows that differ (0 expected), so a failure says how much was wrong. */
static uint32_t compare(const mseg *m, const seg_reader *rd, const trow *rows, uint32_t nrows)
{
    uint8_t *scratch = malloc(MAX_LEN + 1);
    uint32_t bad = 0;
    for (uint32_t r = 0; r < nrows; r++) {
        bool ok = true;
        for (int c = 0; c < C_NCOLS; c++) {
            bool str = fields[c].type == SCHEMA_STRING;
            schema_value mv[MV_MAX + 1], fv[MV_MAX + 1];
            uint32_t n = rows[r].n[c];
            if (fields[c].single_value) {
                mseg_read_value(m, (uint32_t)c, r, &mv[0]);
                assert_int_equal(seg_reader_value(rd, (uint32_t)c, r, &fv[0]), 0);
            } else {
                ok &= mseg_read_mv(m, (uint32_t)c, r, mv, MV_MAX + 1) == n;
                ok &= seg_reader_mv(rd, (uint32_t)c, r, fv, MV_MAX + 1) == (int64_t)n;
            }
            for (uint32_t j = 0; ok && j < n; j++) {
                ok &= same(&mv[j], &rows[r].v[c][j], str, scratch);
                ok &= same(&fv[j], &rows[r].v[c][j], str, scratch);
            }
        }
        bad += !ok;
    }
    free(scratch);
    return bad;
}

/* mseg -> build -> verify -> read back; the built bytes must also be identical for a second
 * mutable segment fed the same rows (determinism). */
static void roundtrip(const trow *rows, uint32_t nrows)
{
    uint8_t *out[2] = {NULL, NULL};
    size_t len[2] = {0, 0};
    mseg *m[2];
    for (int k = 0; k < 2; k++) {
        m[k] = mseg_new(&sch, raw_flags);
        append_rows(m[k], rows, nrows);
        seg_src src;
        seg_src_col cols[C_NCOLS];
        mseg_src(m[k], &src, cols);
        seg_meta_in meta = {.name = "v__0__0__20260101T0000Z", .table = "v", .partition = 0,
                            .sequence = 0, .start_offset = 0, .end_offset = nrows};
        char err[256] = "";
        int rc = seg_build_mem(&src, &meta, &out[k], &len[k], err, sizeof err);
        if (rc != 0) fail_msg("build: %s", err);
    }
    assert_int_equal(len[0], len[1]);
    assert_memory_equal(out[0], out[1], len[0]);
    char msg[256] = "";
    int vrc = seg_verify_mem(out[0], len[0], msg, sizeof msg);
    if (vrc != 0) fail_msg("verify: %s", msg);
    int err = 0;
    seg_reader *rd = seg_reader_open_mem(out[0], len[0], &err, msg, sizeof msg);
    if (!rd) fail_msg("open: %s", msg);
    assert_int_equal(seg_reader_rows(rd), nrows);
    uint32_t bad = compare(m[0], rd, rows, nrows);
    if (bad) fail_msg("%u of %u rows differ", bad, nrows);
    seg_reader_close(rd);
    for (int k = 0; k < 2; k++) {
        mseg_free(m[k]);
        free(out[k]);
    }
}

/* The reproduction as found: one 19,000-byte value, then 200 of 1,000 bytes. */
static void test_issue_case(void **state)
{
    (void)state;
    enum { N = 201 };
    trow *rows = calloc(N, sizeof *rows);
    for (uint32_t r = 0; r < N; r++)
        for (int c = 0; c < C_NCOLS; c++) {
            rows[r].n[c] = 1;
            rows[r].v[c][0].len = r == 0 ? 19000 : 1000;
            rows[r].v[c][0].seed = (uint64_t)r * 131 + (uint64_t)c;
        }
    roundtrip(rows, N);
    free(rows);
}

/* Every length from 0 to 9000 once: crosses the first heap blocks at every offset. */
static void test_every_small_len(void **state)
{
    (void)state;
    enum { N = 9001 };
    trow *rows = calloc(N, sizeof *rows);
    for (uint32_t r = 0; r < N; r++)
        for (int c = 0; c < C_NCOLS; c++) {
            rows[r].n[c] = fields[c].single_value ? 1 : 1 + r % MV_MAX;
            for (uint32_t j = 0; j < rows[r].n[c]; j++) {
                rows[r].v[c][j].len = (r + (uint32_t)c * 1000 + j * 3000) % N;
                rows[r].v[c][j].seed = (uint64_t)r << 8 | (uint64_t)c << 4 | j;
            }
        }
    roundtrip(rows, N);
    free(rows);
}

static void test_random_lengths(void **state)
{
    (void)state;
    const char *env = getenv("SLUICE_TEST_SEED");
    uint64_t base = env ? strtoull(env, NULL, 0) : 20261202;
    enum { N = 100 };
    trow *rows = calloc(N, sizeof *rows);
    for (uint64_t seed = base; seed < base + 8; seed++) {
        make_rows(rows, seed % 2 ? N / 4 : N, seed);
        print_message("seed %llu\n", (unsigned long long)seed);
        roundtrip(rows, seed % 2 ? N / 4 : N);
    }
    free(rows);
}

int main(void)
{
    init_schema();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_issue_case),
        cmocka_unit_test(test_every_small_len),
        cmocka_unit_test(test_random_lengths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
