/* libFuzzer target for the JSON row decoder (rowdec_decode over jsonscan/simdjson) and the
 * mutable segment it feeds.
 *
 * A fixed schema with every column type, single- and multi-value. Each input is decoded by a
 * decoder with a small message limit (so the oversized path is reachable), twice (the second
 * run must give the same reason: decoding is deterministic and leaves no state), and by one
 * with the default 1 MiB limit whose accepted rows are appended into a mutable segment, read
 * back and compared with the decoded row. Every 64 rows the segment is built, verified and
 * read back once more. A JSON column's value must be a JSON document itself, and a
 * BIG_DECIMAL's bytes must read back to a decimal that serializes to the same bytes. The
 * sanitizers see any bad pointer or length on the whole path. */
#include "common/bigdec.h"
#include "common/jsonw.h"
#include "consumer/mseg.h"
#include "consumer/rowdec.h"
#include "segment/seg_builder.h"
#include "segment/seg_reader.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    schema_type type;
    bool sv;
} fields[] = {
    {"i", SCHEMA_INT, true},       {"l", SCHEMA_LONG, true},        {"f", SCHEMA_FLOAT, true},
    {"d", SCHEMA_DOUBLE, true},    {"b", SCHEMA_BOOLEAN, true},     {"t", SCHEMA_TIMESTAMP, true},
    {"s", SCHEMA_STRING, true},    {"y", SCHEMA_BYTES, true},       {"mi", SCHEMA_INT, false},
    {"ml", SCHEMA_LONG, false},    {"mf", SCHEMA_FLOAT, false},     {"md", SCHEMA_DOUBLE, false},
    {"mb", SCHEMA_BOOLEAN, false}, {"mt", SCHEMA_TIMESTAMP, false}, {"ms", SCHEMA_STRING, false},
    {"my", SCHEMA_BYTES, false},   {"j", SCHEMA_STRING, true},      {"bd", SCHEMA_BYTES, true},
};
#define NF (sizeof fields / sizeof fields[0])

static schema *build_schema(void)
{
    schema *s = calloc(1, sizeof *s);
    s->name = "fuzz";
    s->nfields = NF;
    s->fields = calloc(NF, sizeof *s->fields);
    for (size_t k = 0; k < NF; k++) {
        schema_field *f = &s->fields[k];
        f->name = (char *)fields[k].name;
        f->type = fields[k].type;
        f->single_value = fields[k].sv;
        f->json = strcmp(f->name, "j") == 0;         /* a JSON column */
        f->big_decimal = strcmp(f->name, "bd") == 0; /* a BIG_DECIMAL column */
        if (f->big_decimal) {
            f->default_null.u.bytes.ptr = (const uint8_t *)"\0\0\0"; /* BigDecimal.ZERO */
            f->default_null.u.bytes.len = 3;
        } else if (f->type == SCHEMA_STRING) {
            f->default_null.u.bytes.ptr = (const uint8_t *)"null";
            f->default_null.u.bytes.len = 4;
        } else if (f->type == SCHEMA_BYTES) {
            f->default_null.u.bytes.ptr = (const uint8_t *)"";
        }
    }
    return s;
}

/* Half the columns without a dictionary, so raw and dictionary storage both see the input. */
static const bool no_dict[NF] = {[1] = true, [3] = true, [6] = true, [7] = true, [14] = true};

static bool same_value(schema_type t, const schema_value *a, const schema_value *b)
{
    if (t == SCHEMA_STRING || t == SCHEMA_BYTES)
        return a->u.bytes.len == b->u.bytes.len &&
               (a->u.bytes.len == 0 || memcmp(a->u.bytes.ptr, b->u.bytes.ptr, a->u.bytes.len) == 0);
    if (schema_type_width(t) == 4) return a->u.i32 == b->u.i32;
    return a->u.i64 == b->u.i64;
}

/* Values of row i as the segment (mutable or built) holds them, compared with the decoded row.
 * For the built segment rd is non-NULL and m NULL. */
static void check_row(const schema *s, const mseg *m, const seg_reader *rd, uint64_t i,
                      const row *want)
{
    schema_value got[64];
    for (uint32_t c = 0; c < s->nfields; c++) {
        const row_col *col = &want->cols[c];
        schema_type t = s->fields[c].type;
        uint32_t n;
        if (s->fields[c].single_value) {
            n = 1;
            if (m)
                mseg_read_value(m, c, i, &got[0]);
            else if (seg_reader_value(rd, c, i, &got[0]) != 0)
                abort();
        } else {
            int64_t k = m ? mseg_read_mv(m, c, i, got, 64) : seg_reader_mv(rd, c, i, got, 64);
            if (k != col->nvals) abort();
            n = col->nvals < 64 ? col->nvals : 64;
        }
        for (uint32_t j = 0; j < n; j++)
            if (!same_value(t, &got[j], s->fields[c].single_value ? &col->v : &col->mv[j])) abort();
        bool null = m ? mseg_read_is_null(m, c, i) : seg_reader_is_null(rd, c, i);
        if (null != col->is_null) abort();
    }
}

/* The rows appended so far are kept as their JSON inputs so the built segment can be checked
 * against a fresh decode of each. */
#define SEG_ROWS 8
static struct {
    mseg *m;
    uint8_t *msg[SEG_ROWS];
    size_t len[SEG_ROWS];
    uint32_t n;
} acc;

static void build_and_check(const schema *s, rowdec *big)
{
    seg_src src;
    seg_src_col cols[NF];
    mseg_src(acc.m, &src, cols);
    seg_meta_in meta = {.name = "fuzz__0__0__20260101T0000Z",
                        .table = "fuzz",
                        .partition = 0,
                        .sequence = 0,
                        .start_offset = 0,
                        .end_offset = acc.n};
    uint8_t *out = NULL;
    size_t len = 0;
    char err[256];
    if (seg_build_mem(&src, &meta, &out, &len, err, sizeof err) != 0 ||
        seg_verify_mem(out, len, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_rowdec: %s\n", err);
        abort();
    }
    seg_reader *rd = seg_reader_open_mem(out, len, NULL, err, sizeof err);
    if (!rd || seg_reader_rows(rd) != acc.n) abort();
    for (uint32_t i = 0; i < acc.n; i++) {
        const row *r;
        if (rowdec_decode(big, acc.msg[i], acc.len[i], &r) != ROWDEC_OK) abort();
        check_row(s, NULL, rd, i, r);
        free(acc.msg[i]);
    }
    seg_reader_close(rd);
    free(out);
    mseg_free(acc.m);
    acc.m = NULL;
    acc.n = 0;
}

/* The JSON and BIG_DECIMAL columns' own invariants (see the top). */
static void check_special(const row *r, const schema *s)
{
    for (uint32_t c = 0; c < r->ncols; c++) {
        const schema_field *f = &s->fields[c];
        const schema_value *v = &r->cols[c].v;
        if (f->json && !r->cols[c].is_null) {
            jsonw w;
            jsonw_init(&w);
            if (jsonw_canonical(&w, (const char *)v->u.bytes.ptr, v->u.bytes.len, 0)) abort();
            jsonw_free(&w);
        }
        if (f->big_decimal) {
            static char dig[BIGDEC_MAX_DIGITS], txt[BIGDEC_MAX_DIGITS + BIGDEC_TEXT_EXTRA],
                dig2[BIGDEC_MAX_DIGITS + BIGDEC_TEXT_EXTRA];
            static uint8_t again[BIGDEC_MAX_DIGITS];
            bigdec b, b2;
            if (bigdec_deserialize(v->u.bytes.ptr, v->u.bytes.len, dig, sizeof dig, &b)) abort();
            size_t n = bigdec_to_string(&b, txt, sizeof txt);
            if (!n || bigdec_parse(txt, n, dig2, sizeof dig2, &b2)) abort();
            size_t m = bigdec_serialize(&b2, again, sizeof again);
            if (m != v->u.bytes.len || memcmp(again, v->u.bytes.ptr, m)) abort();
        }
    }
}

static uint64_t touch(const row *r, const schema *s)
{
    check_special(r, s);
    uint64_t h = 0;
    for (uint32_t c = 0; c < r->ncols; c++) {
        const row_col *col = &r->cols[c];
        if (col->nvals < 1 || (s->fields[c].single_value && col->nvals != 1)) abort();
        for (uint32_t k = 0; k < col->nvals; k++) {
            const schema_value *v = &col->mv[k];
            schema_type t = s->fields[c].type;
            if (t == SCHEMA_STRING || t == SCHEMA_BYTES) {
                for (uint32_t j = 0; j < v->u.bytes.len; j++)
                    h = h * 31 + v->u.bytes.ptr[j];
            } else {
                h = h * 31 + (uint64_t)v->u.i64;
            }
        }
    }
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static schema *s;
    static rowdec *d, *big;
    if (!s) {
        s = build_schema();
        d = rowdec_new(s, 4096);
        big = rowdec_new(s, 0);
    }
    const row *r;
    rowdec_reason first = rowdec_decode(d, data, size, &r);
    uint64_t h1 = 0;
    if (first == ROWDEC_OK)
        h1 = touch(r, s);
    else if (r != NULL || rowdec_error_field(d) == NULL)
        abort();
    rowdec_reason again = rowdec_decode(d, data, size, &r);
    if (again != first) abort();
    if (again == ROWDEC_OK && touch(r, s) != h1) abort();

    if (rowdec_decode(big, data, size, &r) != ROWDEC_OK) return 0;
    if (!acc.m) acc.m = mseg_new(s, no_dict);
    if (mseg_append(acc.m, r) != 0) abort();
    check_row(s, acc.m, NULL, acc.n, r);
    acc.msg[acc.n] = malloc(size ? size : 1);
    memcpy(acc.msg[acc.n], data, size);
    acc.len[acc.n++] = size;
    if (acc.n == SEG_ROWS) build_and_check(s, big);
    return 0;
}
