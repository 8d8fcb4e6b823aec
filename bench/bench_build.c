/* Segment build speed: a 10-column segment of 1M rows (synthetic, realistic cardinalities)
 * built from a seg_src view on one core, best of N runs; then the reader's open (full
 * validation incl. CRC) and a scan of every value through seg_reader_value.
 *
 * Columns: ts LONG raw (arrival order with jitter, so not sorted), country STRING dict (200),
 * device STRING dict (8), browser STRING dict (30), user_id STRING dict (200k), clicks INT
 * dict (1000), latency_ms INT dict (5000), price DOUBLE dict (100k), is_mobile BOOLEAN dict,
 * event_id LONG raw (unique random 64-bit).
 *
 * usage: bench_build [ROWS] [RUNS]   (defaults 1000000 and 5) */
#include "common/clock.h"
#include "common/schema.h"
#include "common/xalloc.h"
#include "segment/seg_builder.h"
#include "segment/seg_reader.h"
#include "segment/seg_src.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NCOLS 10

static uint64_t rng(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    uint64_t x = *s;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

/* Chunked array of n elements of size esz. */
static void **chunks_new(uint64_t n, size_t esz)
{
    uint64_t nc = (n + SEG_CHUNK - 1) / SEG_CHUNK;
    void **c = sl_xcalloc(nc, sizeof *c);
    for (uint64_t i = 0; i < nc; i++) c[i] = sl_xcalloc(SEG_CHUNK, esz);
    return c;
}

#define AT(chunks, T, i) (((T *)(chunks)[(i) >> SEG_CHUNK_SHIFT])[(i)&SEG_CHUNK_MASK])

typedef struct dictcol {
    uint32_t universe;   /* possible values */
    int64_t *first_id;   /* value index -> first-seen id, or -1 */
    uint32_t card;
    void **dict;
    void **vals;
} dictcol;

/* Assign first-seen ids as the mutable segment would. Value k of the universe is produced by
 * make(k, elem). */
static void dict_fill(dictcol *d, uint64_t rows, size_t esz, uint64_t *s, double skew,
                      void (*make)(uint32_t k, void *elem, void *ctx), void *ctx)
{
    d->first_id = sl_xcalloc(d->universe, sizeof *d->first_id);
    memset(d->first_id, 0xff, d->universe * sizeof *d->first_id);
    d->dict = chunks_new(d->universe, esz);
    d->vals = chunks_new(rows, 4);
    for (uint64_t r = 0; r < rows; r++) {
        uint64_t x = rng(s);
        uint32_t k = (uint32_t)(x % d->universe);
        if (skew > 0 && (x >> 60) < 12) k = (uint32_t)(k * skew); /* favour small k (popular values) */
        if (d->first_id[k] < 0) {
            d->first_id[k] = d->card;
            make(k, (char *)d->dict[d->card >> SEG_CHUNK_SHIFT] + (d->card & SEG_CHUNK_MASK) * esz, ctx);
            d->card++;
        }
        AT(d->vals, uint32_t, r) = (uint32_t)d->first_id[k];
    }
}

typedef struct strpool {
    char *buf;
    size_t used, cap;
    const char *fmt;
} strpool;

static void make_str(uint32_t k, void *elem, void *ctx)
{
    strpool *p = ctx;
    if (p->used + 64 > p->cap) abort();
    int n = snprintf(p->buf + p->used, 64, p->fmt, k);
    seg_bytes b = {(const uint8_t *)p->buf + p->used, (uint32_t)n};
    memcpy(elem, &b, sizeof b);
    p->used += (size_t)n;
}

static void make_int(uint32_t k, void *elem, void *ctx)
{
    (void)ctx;
    int32_t v = (int32_t)k;
    memcpy(elem, &v, 4);
}

static void make_price(uint32_t k, void *elem, void *ctx)
{
    (void)ctx;
    double v = (double)k / 100.0;
    memcpy(elem, &v, 8);
}

int main(int argc, char **argv)
{
    uint64_t rows = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    int runs = argc > 2 ? atoi(argv[2]) : 5;
    if (runs < 1) runs = 1;
    static const struct {
        const char *name;
        schema_type type;
        bool dict;
    } spec[NCOLS] = {
        {"ts", SCHEMA_LONG, false},          {"country", SCHEMA_STRING, true},
        {"device", SCHEMA_STRING, true},     {"browser", SCHEMA_STRING, true},
        {"user_id", SCHEMA_STRING, true},    {"clicks", SCHEMA_INT, true},
        {"latency_ms", SCHEMA_INT, true},    {"price", SCHEMA_DOUBLE, true},
        {"is_mobile", SCHEMA_BOOLEAN, true}, {"event_id", SCHEMA_LONG, false},
    };
    schema_field fields[NCOLS];
    memset(fields, 0, sizeof fields);
    for (int i = 0; i < NCOLS; i++) {
        fields[i].name = (char *)spec[i].name;
        fields[i].type = spec[i].type;
        fields[i].role = spec[i].type == SCHEMA_STRING || spec[i].type == SCHEMA_BOOLEAN ? SCHEMA_DIMENSION
                                                                                       : SCHEMA_METRIC;
        fields[i].single_value = true;
    }
    fields[0].role = SCHEMA_DATETIME;
    schema sch = {.name = (char *)"bench", .nfields = NCOLS, .fields = fields};

    /* ---- source ---- */
    uint64_t s = 12345;
    seg_src_col cols[NCOLS];
    memset(cols, 0, sizeof cols);
    void **ts = chunks_new(rows, 8), **eid = chunks_new(rows, 8);
    for (uint64_t r = 0; r < rows; r++) {
        AT(ts, int64_t, r) = 1700000000000ll + (int64_t)(r / 2) + (int64_t)(rng(&s) % 2000);
        AT(eid, int64_t, r) = (int64_t)rng(&s);
    }
    static const uint32_t universe[NCOLS] = {0, 200, 8, 30, 200000, 1000, 5000, 100000, 2, 0};
    static const char *const fmts[NCOLS] = {NULL, "country_%03u", "device_%u", "browser-%u",
                                            "user_%07u", NULL, NULL, NULL, NULL, NULL};
    strpool pool = {.cap = 64u << 20};
    pool.buf = sl_xcalloc(pool.cap, 1);
    dictcol dc[NCOLS];
    memset(dc, 0, sizeof dc);
    for (int i = 0; i < NCOLS; i++) {
        cols[i].field = &fields[i];
        cols[i].dict = spec[i].dict;
        cols[i].n_values = rows;
        if (!spec[i].dict) {
            cols[i].val_chunks = (const void *const *)(i == 0 ? ts : eid);
            continue;
        }
        dc[i].universe = universe[i];
        if (spec[i].type == SCHEMA_STRING) {
            pool.fmt = fmts[i];
            dict_fill(&dc[i], rows, sizeof(seg_bytes), &s, i == 4 ? 0.05 : 0.2, make_str, &pool);
        } else if (spec[i].type == SCHEMA_DOUBLE) {
            dict_fill(&dc[i], rows, 8, &s, 0.1, make_price, NULL);
        } else {
            dict_fill(&dc[i], rows, 4, &s, 0.1, make_int, NULL);
        }
        cols[i].cardinality = dc[i].card;
        cols[i].dict_chunks = (const void *const *)dc[i].dict;
        cols[i].val_chunks = (const void *const *)dc[i].vals;
    }
    seg_src src = {.schema = &sch, .time_column = "ts", .rows = rows, .cols = cols};
    seg_meta_in meta = {"bench__0__0__20240101T0000Z", "bench", 0, 0, 0, (int64_t)rows};

    /* ---- build ---- */
    double best = 1e30;
    uint8_t *buf = NULL;
    size_t len = 0;
    uint32_t crc0 = 0;
    for (int k = 0; k < runs; k++) {
        uint8_t *b;
        size_t l;
        char err[256];
        double t0 = sl_clock_mono_s();
        int rc = seg_build_mem(&src, &meta, &b, &l, err, sizeof err);
        double dt = sl_clock_mono_s() - t0;
        if (rc) {
            fprintf(stderr, "build failed: %s\n", err);
            return 1;
        }
        uint32_t crc;
        memcpy(&crc, b + l - 4, 4);
        if (k == 0) crc0 = crc;
        if (crc != crc0) {
            fprintf(stderr, "nondeterministic build: crc %08x then %08x\n", crc0, crc);
            return 1;
        }
        if (dt < best) best = dt;
        free(buf);
        buf = b;
        len = l;
    }

    /* ---- open (full validation) and scan ---- */
    double best_open = 1e30, best_scan = 1e30;
    uint64_t sink = 0;
    for (int k = 0; k < runs; k++) {
        double t0 = sl_clock_mono_s();
        char msg[256];
        int err;
        seg_reader *r = seg_reader_open_mem(buf, len, &err, msg, sizeof msg);
        double t1 = sl_clock_mono_s();
        if (!r) {
            fprintf(stderr, "open failed: %s\n", msg);
            return 1;
        }
        schema_value v;
        for (uint32_t c = 0; c < NCOLS; c++)
            for (uint64_t row = 0; row < rows; row++) {
                seg_reader_value(r, c, row, &v);
                sink += (uint64_t)v.u.i64;
            }
        double t2 = sl_clock_mono_s();
        seg_reader_close(r);
        if (t1 - t0 < best_open) best_open = t1 - t0;
        if (t2 - t1 < best_scan) best_scan = t2 - t1;
    }

    printf("segment build: %d columns, best of %d runs, one thread (crc %08x)\n", NCOLS, runs, crc0);
    printf("%-22s %10s %12s %10s %14s %10s\n", "case", "rows", "bytes", "seconds", "rows/s", "bytes/row");
    printf("%-22s %10llu %12zu %10.4f %14.0f %10.2f\n", "build (seg_build_mem)", (unsigned long long)rows,
           len, best, (double)rows / best, (double)len / (double)rows);
    printf("%-22s %10llu %12zu %10.4f %14.0f %10.2f\n", "open+validate", (unsigned long long)rows, len,
           best_open, (double)rows / best_open, (double)len / (double)rows);
    printf("%-22s %10llu %12zu %10.4f %14.0f %10.2f\n", "scan (10 cols, value)", (unsigned long long)rows,
           len, best_scan, (double)rows / best_scan, (double)len / (double)rows);
    printf("cardinalities:");
    for (int i = 0; i < NCOLS; i++)
        if (spec[i].dict) printf(" %s=%u", spec[i].name, dc[i].card);
    printf("  (checksum %llu)\n", (unsigned long long)(sink & 0xFFFF));

    free(buf);
    for (int i = 0; i < NCOLS; i++) {
        if (!spec[i].dict) continue;
        for (uint64_t c = 0; c < (dc[i].universe + SEG_CHUNK - 1) / SEG_CHUNK; c++) free(dc[i].dict[c]);
        for (uint64_t c = 0; c < (rows + SEG_CHUNK - 1) / SEG_CHUNK; c++) free(dc[i].vals[c]);
        free(dc[i].dict);
        free(dc[i].vals);
        free(dc[i].first_id);
    }
    for (uint64_t c = 0; c < (rows + SEG_CHUNK - 1) / SEG_CHUNK; c++) {
        free(ts[c]);
        free(eid[c]);
    }
    free(ts);
    free(eid);
    free(pool.buf);
    return 0;
}
