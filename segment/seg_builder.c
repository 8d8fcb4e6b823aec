/* Segment builder (see seg_builder.h, docs/segment-format.md).
 *
 * A build runs in three phases over the columns of the source view:
 *   1. analyse (seg__analyse_col): validate the column, count nulls, and for a dictionary
 *      column mark the ids actually used, sort their values and build the id -> sorted id
 *      remap; for a raw column compute the exact distinct count, min and max;
 *   2. lay out (seg__layout): every section's offset and length, so the file size is known;
 *   3. write (seg__write_col): fill one zeroed buffer of that size, then the CRCs (format
 *      version SEG_FMT_VERSION; the trailer from seg_fmt_trailer_crc, as every reader does).
 *
 * Determinism rests on three rules: dictionaries hold only values referenced by the first
 * `rows` rows, sorted by a total order on the value (never on the source id); every byte of
 * the buffer is either written or zero (calloc); nothing depends on time, host or memory
 * addresses. The order and the sorts (radix sorts over 64-bit order-preserving keys, an MSD
 * sort of byte strings) are segment/seg_sort.h.
 *
 * Hot loops run per source chunk (SEG_CHUNK values) with no per-value calls: the remap is an
 * array lookup and ids are bit-packed into a 64-bit accumulator. */
#include "segment/seg_builder.h"

#include "common/fsutil.h"
#include "common/sl_err.h"
#include "common/xalloc.h"
#include "common/xform.h"
#include "segment/seg_format.h"
#include "segment/seg_sort.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the segment writer stores host integers directly; add byte swaps for big-endian hosts"
#endif

/* ---- small helpers ---- */

static inline void seg__put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void seg__put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static inline uint64_t seg__round8(uint64_t n) { return (n + 7) & ~(uint64_t)7; }

/* ---- per-column analysis ---- */

typedef struct seg_col {
    const seg_src_col *sc;
    const schema_field *f;
    schema_type type;
    uint32_t width; /* 4 or 8; 0 for STRING/BYTES */
    bool sv, dict, var;
    uint64_t nvals;     /* values stored */
    uint32_t src_card;  /* dict: source ids */
    uint32_t card;      /* distinct values */
    uint8_t bits;       /* dict: packed id width */
    uint32_t *remap;    /* dict: source id -> sorted id (only used ids meaningful) */
    uint32_t *order;    /* dict: sorted id -> source id */
    uint64_t bytes_len; /* var: length of the BYTES section */
    uint64_t null_count;
    bool has_minmax;
    uint64_t min_bits, max_bits;   /* fixed types */
    uint64_t min_idx, max_idx;     /* var: sorted id (dict) or value index (raw) */
    uint32_t min_len, max_len;     /* var */
    uint64_t min_off, max_off;     /* var: file offsets, set while writing */
    uint64_t sec_off[SEG_FMT_SEC__COUNT], sec_len[SEG_FMT_SEC__COUNT];
    bool sec_present[SEG_FMT_SEC__COUNT];
    uint64_t name_off;
    uint32_t name_len;
} seg_col;

typedef struct seg_build {
    const seg_src *src;
    const seg_meta_in *meta;
    uint64_t rows;
    uint32_t ncols;
    seg_col *cols;
    char *schema_json;
    size_t schema_len;
    int32_t time_col;
    bool time_range;
    int64_t time_min, time_max;
    uint64_t coldir_off, meta_off, meta_len, data_end, file_len;
    char *err;
    size_t errlen;
} seg_build;

static inline uint32_t seg__chunk_len(uint64_t n, uint64_t base)
{
    return n - base < SEG_CHUNK ? (uint32_t)(n - base) : SEG_CHUNK;
}

static inline seg_bytes seg__src_bytes(const void *const *chunks, uint64_t i)
{
    return SEG_SRC_AT(chunks, seg_bytes, i);
}

static uint64_t seg__fixed_bits(const void *const *chunks, uint32_t width, uint64_t i)
{
    if (width == 4) return SEG_SRC_AT(chunks, uint32_t, i);
    return SEG_SRC_AT(chunks, uint64_t, i);
}

static uint64_t seg__count_nulls(const seg_col *c, uint64_t rows)
{
    if (!c->sc->null_chunks) return 0;
    uint64_t words = (rows + 63) / 64, n = 0;
    for (uint64_t w = 0; w < words; w++) {
        uint64_t x = SEG_SRC_AT(c->sc->null_chunks, uint64_t, w);
        if (w == words - 1 && (rows & 63)) x &= ((uint64_t)1 << (rows & 63)) - 1;
        n += (uint64_t)__builtin_popcountll(x);
    }
    return n;
}

static uint8_t seg__bits_for(uint32_t card)
{
    if (card <= 2) return 1;
    return (uint8_t)(32 - __builtin_clz(card - 1));
}

/* Dictionary column: used ids -> sorted, deduplicated dictionary and remap. */
static int seg__analyse_dict(seg_build *b, seg_col *c)
{
    const seg_src_col *sc = c->sc;
    const uint32_t card = sc->cardinality;
    int rc = 0;
    uint8_t *used = NULL;
    uint32_t *ids = NULL, *scratch = NULL;
    if (c->nvals > 0 && card == 0)
        return sl_fail(b->err, b->errlen, SL_EINVAL, "column %s: values but empty dictionary",
                       c->f->name);
    if (card > 0 && !sc->dict_chunks)
        return sl_fail(b->err, b->errlen, SL_EINVAL, "column %s: no dictionary chunks", c->f->name);
    used = sl_xcalloc(card, 1);
    scratch = sl_xmalloc((size_t)SEG_CHUNK * sizeof *scratch);
    for (uint64_t base = 0; base < c->nvals; base += SEG_CHUNK) {
        uint32_t m = seg__chunk_len(c->nvals, base);
        const uint32_t *v = seg_src_ids(sc->val_chunks[base >> SEG_CHUNK_SHIFT], m, scratch);
        for (uint32_t i = 0; i < m; i++) {
            uint32_t id = v[i];
            if (__builtin_expect(id >= card, 0)) {
                rc = sl_fail(b->err, b->errlen, SL_EINVAL,
                             "column %s: value %llu has dictionary id %u >= cardinality %u",
                             c->f->name, (unsigned long long)(base + i), id, card);
                goto done;
            }
            used[id] = 1;
        }
    }
    uint32_t nused = 0;
    ids = sl_xmalloc((size_t)card * sizeof *ids);
    for (uint32_t id = 0; id < card; id++)
        if (used[id]) ids[nused++] = id;
    c->remap = sl_xcalloc(card, sizeof *c->remap);
    c->order = sl_xmalloc((size_t)nused * sizeof *c->order);
    c->card = 0;
    if (!c->var) {
        seg_sort_pair *p = sl_xmalloc((size_t)nused * sizeof *p);
        seg_sort_pair *t = sl_xmalloc((size_t)nused * sizeof *t);
        for (uint32_t i = 0; i < nused; i++) {
            uint64_t bits = seg__fixed_bits(sc->dict_chunks, c->width, ids[i]), prev = 0;
            seg_sort_keys(c->type, &bits, 1, &p[i].k, &prev);
            p[i].v = ids[i];
            p[i].pad = 0;
        }
        seg_sort_pair *s = seg_sort_pairs(p, t, nused);
        for (uint32_t i = 0; i < nused; i++) {
            if (i == 0 || s[i].k != s[i - 1].k) c->order[c->card++] = s[i].v;
            c->remap[s[i].v] = c->card - 1;
        }
        if (c->card > 0) {
            c->min_bits = seg_sort_unkey(c->type, s[0].k);
            c->max_bits = seg_sort_unkey(c->type, s[nused - 1].k);
        }
        free(p);
        free(t);
    } else {
        seg_sort_str *a = sl_xmalloc((size_t)nused * sizeof *a);
        seg_sort_str *tmp = sl_xmalloc((size_t)nused * sizeof *tmp);
        seg_sort_pair *s1 = sl_xmalloc((size_t)nused * sizeof *s1);
        seg_sort_pair *s2 = sl_xmalloc((size_t)nused * sizeof *s2);
        for (uint32_t i = 0; i < nused; i++) {
            seg_bytes v = seg__src_bytes(sc->dict_chunks, ids[i]);
            a[i].p = v.len ? v.ptr : (const uint8_t *)"";
            a[i].len = v.len;
            a[i].id = ids[i];
        }
        seg_sort_strs(a, nused, s1, s2, tmp);
        uint64_t bytes = 0;
        for (uint32_t i = 0; i < nused; i++) {
            if (i == 0 || seg_sort_bytes_cmp(a[i].p, a[i].len, a[i - 1].p, a[i - 1].len) != 0) {
                c->order[c->card++] = a[i].id;
                bytes += a[i].len;
            }
            c->remap[a[i].id] = c->card - 1;
        }
        if (c->card > 0) {
            c->min_idx = 0;
            c->max_idx = c->card - 1;
            c->min_len = a[0].len;
            c->max_len = a[nused - 1].len;
        }
        c->bytes_len = bytes;
        free(a);
        free(tmp);
        free(s1);
        free(s2);
    }
    c->bits = seg__bits_for(c->card);
    c->has_minmax = c->card > 0;
done:
    free(scratch);
    free(used);
    free(ids);
    return rc;
}

/* Raw fixed-width column: exact distinct count, min and max via sorted keys. */
static void seg__analyse_raw_fixed(seg_col *c)
{
    uint64_t n = c->nvals;
    if (n == 0) return;
    uint64_t *k = sl_xmalloc(n * sizeof *k);
    bool asc = true;
    uint64_t prev = 0;
    for (uint64_t base = 0; base < n; base += SEG_CHUNK)
        asc &= seg_sort_keys(c->type, c->sc->val_chunks[base >> SEG_CHUNK_SHIFT],
                             seg__chunk_len(n, base), k + base, &prev);
    uint64_t *s = k, *t = NULL;
    if (!asc) { /* time columns usually arrive sorted: skip the sort then */
        t = sl_xmalloc(n * sizeof *t);
        s = seg_sort_u64(k, t, n);
    }
    uint64_t distinct = 1;
    for (uint64_t i = 1; i < n; i++) distinct += s[i] != s[i - 1];
    c->card = (uint32_t)distinct;
    c->min_bits = seg_sort_unkey(c->type, s[0]);
    c->max_bits = seg_sort_unkey(c->type, s[n - 1]);
    c->has_minmax = true;
    free(k);
    free(t);
}

static inline uint64_t seg__hash_bytes(const uint8_t *p, uint32_t len)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ len;
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xFF51AFD7ED558CCDull;
        h ^= h >> 32;
        p += 8;
        len -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, p, len);
    h = (h ^ w) * 0xC4CEB9FE1A85EC53ull;
    h ^= h >> 29;
    return h;
}

/* Raw STRING/BYTES column: byte total, exact distinct count (hash set on value indices,
 * compared bytewise), min and max (first occurrence). */
static int seg__analyse_raw_var(seg_build *b, seg_col *c)
{
    uint64_t n = c->nvals;
    if (n == 0) return 0;
    uint64_t cap = 16;
    while (cap < n * 2) cap <<= 1;
    uint32_t *slots = sl_xcalloc(cap, sizeof *slots); /* value index + 1, 0 = empty */
    uint64_t mask = cap - 1, bytes = 0;
    uint32_t distinct = 0;
    seg_bytes mn = {0}, mx = {0};
    for (uint64_t base = 0; base < n; base += SEG_CHUNK) {
        const seg_bytes *v = c->sc->val_chunks[base >> SEG_CHUNK_SHIFT];
        uint32_t m = seg__chunk_len(n, base);
        for (uint32_t i = 0; i < m; i++) {
            const uint8_t *p = v[i].len ? v[i].ptr : (const uint8_t *)"";
            uint32_t len = v[i].len;
            bytes += len;
            if (base + i == 0) {
                mn = mx = (seg_bytes){p, len};
            } else if (seg_sort_bytes_cmp(p, len, mn.ptr, mn.len) < 0) {
                mn = (seg_bytes){p, len};
                c->min_idx = base + i;
            } else if (seg_sort_bytes_cmp(p, len, mx.ptr, mx.len) > 0) {
                mx = (seg_bytes){p, len};
                c->max_idx = base + i;
            }
            uint64_t h = seg__hash_bytes(p, len) & mask;
            for (;;) {
                uint32_t s = slots[h];
                if (s == 0) {
                    slots[h] = (uint32_t)(base + i + 1);
                    distinct++;
                    break;
                }
                seg_bytes o = seg__src_bytes(c->sc->val_chunks, s - 1);
                if (o.len == len && (len == 0 || memcmp(o.ptr, p, len) == 0)) break;
                h = (h + 1) & mask;
            }
        }
    }
    free(slots);
    if (bytes > UINT32_MAX)
        return sl_fail(b->err, b->errlen, SL_ELIMIT, "column %s: %llu bytes of values > 4 GiB",
                       c->f->name, (unsigned long long)bytes);
    c->bytes_len = bytes;
    c->card = distinct;
    c->min_len = mn.len;
    c->max_len = mx.len;
    c->has_minmax = true;
    return 0;
}

static int seg__analyse_col(seg_build *b, seg_col *c)
{
    const seg_src_col *sc = c->sc;
    const char *name = c->f->name;
    if ((unsigned)c->type >= SCHEMA_TYPE__COUNT)
        return sl_fail(b->err, b->errlen, SL_EINVAL, "column %s: unknown type %d", name,
                       (int)c->type);
    if (c->sv) {
        if (sc->n_values < b->rows)
            return sl_fail(b->err, b->errlen, SL_EINVAL, "column %s: %llu values for %llu rows",
                           name, (unsigned long long)sc->n_values, (unsigned long long)b->rows);
        c->nvals = b->rows;
    } else {
        if (b->rows > 0 && !sc->mv_end_chunks)
            return sl_fail(b->err, b->errlen, SL_EINVAL, "column %s: no multi-value offsets", name);
        uint32_t prev = 0;
        for (uint64_t base = 0; base < b->rows; base += SEG_CHUNK) {
            const uint32_t *e = sc->mv_end_chunks[base >> SEG_CHUNK_SHIFT];
            uint32_t m = seg__chunk_len(b->rows, base);
            for (uint32_t i = 0; i < m; i++) {
                if (e[i] < prev)
                    return sl_fail(b->err, b->errlen, SL_EINVAL,
                                   "column %s: multi-value end of row %llu decreases", name,
                                   (unsigned long long)(base + i));
                prev = e[i];
            }
        }
        if (prev > sc->n_values)
            return sl_fail(b->err, b->errlen, SL_EINVAL,
                           "column %s: multi-value offsets past %llu values", name,
                           (unsigned long long)sc->n_values);
        c->nvals = prev;
    }
    if (c->nvals > 0 && !sc->val_chunks)
        return sl_fail(b->err, b->errlen, SL_EINVAL, "column %s: no value chunks", name);
    c->null_count = seg__count_nulls(c, b->rows);
    int rc = 0;
    if (c->dict)
        rc = seg__analyse_dict(b, c);
    else if (c->var)
        rc = seg__analyse_raw_var(b, c);
    else
        seg__analyse_raw_fixed(c);
    if (rc == 0 && c->var && c->bytes_len > UINT32_MAX)
        rc = sl_fail(b->err, b->errlen, SL_ELIMIT, "column %s: dictionary over 4 GiB", name);
    return rc;
}

/* ---- layout ---- */

static int seg__add(seg_build *b, uint64_t *off, uint64_t len)
{
    uint64_t r = seg__round8(len);
    if (r < len || *off + r < *off)
        return sl_fail(b->err, b->errlen, SL_ELIMIT, "segment larger than 2^64 bytes");
    *off += r;
    return 0;
}

static int seg__layout(seg_build *b)
{
    uint64_t off = SEG_FMT_HDR_LEN;
    b->coldir_off = off;
    off += (uint64_t)b->ncols * SEG_FMT_COL_LEN;
    b->meta_off = off;
    uint64_t m = SEG_FMT_META_FIXED_LEN + strlen(b->meta->name) + 1 + strlen(b->meta->table) + 1 +
                 b->schema_len + 1;
    for (uint32_t i = 0; i < b->ncols; i++) {
        seg_col *c = &b->cols[i];
        c->name_len = (uint32_t)strlen(c->f->name);
        c->name_off = b->meta_off + m;
        m += (uint64_t)c->name_len + 1;
    }
    if (m > UINT32_MAX) return sl_fail(b->err, b->errlen, SL_ELIMIT, "metadata section over 4 GiB");
    b->meta_len = m;
    off += seg__round8(m);
    for (uint32_t i = 0; i < b->ncols; i++) {
        seg_col *c = &b->cols[i];
        c->sec_present[SEG_FMT_SEC_DICT] = c->dict;
        c->sec_len[SEG_FMT_SEC_DICT] = c->var ? ((uint64_t)c->card + 1) * 4 : (uint64_t)c->card * c->width;
        c->sec_present[SEG_FMT_SEC_BYTES] = c->var;
        c->sec_len[SEG_FMT_SEC_BYTES] = c->bytes_len;
        c->sec_present[SEG_FMT_SEC_FWD] = true;
        if (c->dict)
            c->sec_len[SEG_FMT_SEC_FWD] = (c->nvals * c->bits + 63) / 64 * 8;
        else if (c->var)
            c->sec_len[SEG_FMT_SEC_FWD] = (c->nvals + 1) * 4;
        else
            c->sec_len[SEG_FMT_SEC_FWD] = c->nvals * c->width;
        c->sec_present[SEG_FMT_SEC_MV] = !c->sv;
        c->sec_len[SEG_FMT_SEC_MV] = (b->rows + 1) * 4;
        c->sec_present[SEG_FMT_SEC_NULLS] = c->null_count > 0;
        c->sec_len[SEG_FMT_SEC_NULLS] = (b->rows + 63) / 64 * 8;
        for (int s = 0; s < SEG_FMT_SEC__COUNT; s++) {
            if (!c->sec_present[s]) {
                c->sec_off[s] = c->sec_len[s] = 0;
                continue;
            }
            c->sec_off[s] = off;
            if (seg__add(b, &off, c->sec_len[s])) return SL_ELIMIT;
        }
    }
    b->data_end = off;
    b->file_len = off + SEG_FMT_TRAILER_LEN;
    if (b->file_len > (uint64_t)SIZE_MAX / 2)
        return sl_fail(b->err, b->errlen, SL_ELIMIT, "segment too large for memory");
    return 0;
}

/* ---- writing ---- */

static void seg__pack_ids(const seg_col *c, uint8_t *out)
{
    const unsigned bits = c->bits;
    const uint32_t *remap = c->remap;
    uint64_t acc = 0;
    unsigned fill = 0;
    uint8_t *o = out;
    uint32_t *scratch = sl_xmalloc((size_t)SEG_CHUNK * sizeof *scratch);
    for (uint64_t base = 0; base < c->nvals; base += SEG_CHUNK) {
        uint32_t m = seg__chunk_len(c->nvals, base);
        const uint32_t *ids = seg_src_ids(c->sc->val_chunks[base >> SEG_CHUNK_SHIFT], m, scratch);
        for (uint32_t i = 0; i < m; i++) {
            uint64_t v = remap[ids[i]];
            acc |= v << fill;
            fill += bits;
            if (fill >= 64) {
                seg__put64(o, acc);
                o += 8;
                fill -= 64;
                acc = v >> (bits - fill); /* the high bits that did not fit; 0 when none */
            }
        }
    }
    if (fill) seg__put64(o, acc);
    free(scratch);
}

static void seg__write_col(seg_build *b, seg_col *c, uint8_t *buf)
{
    const seg_src_col *sc = c->sc;
    if (c->dict) {
        uint8_t *d = buf + c->sec_off[SEG_FMT_SEC_DICT];
        if (!c->var) {
            for (uint32_t r = 0; r < c->card; r++) {
                uint64_t bits = seg__fixed_bits(sc->dict_chunks, c->width, c->order[r]);
                memcpy(d + (uint64_t)r * c->width, &bits, c->width); /* little-endian low bytes */
            }
        } else {
            uint8_t *bytes = buf + c->sec_off[SEG_FMT_SEC_BYTES];
            uint32_t pos = 0;
            for (uint32_t r = 0; r < c->card; r++) {
                seg_bytes v = seg__src_bytes(sc->dict_chunks, c->order[r]);
                seg__put32(d + (uint64_t)r * 4, pos);
                if (r == c->max_idx) c->max_off = c->sec_off[SEG_FMT_SEC_BYTES] + pos;
                if (v.len) memcpy(bytes + pos, v.ptr, v.len);
                pos += v.len;
            }
            seg__put32(d + (uint64_t)c->card * 4, pos);
            c->min_off = c->sec_off[SEG_FMT_SEC_BYTES];
        }
        seg__pack_ids(c, buf + c->sec_off[SEG_FMT_SEC_FWD]);
    } else if (!c->var) {
        uint8_t *o = buf + c->sec_off[SEG_FMT_SEC_FWD];
        for (uint64_t base = 0; base < c->nvals; base += SEG_CHUNK) {
            uint32_t m = seg__chunk_len(c->nvals, base);
            memcpy(o + base * c->width, sc->val_chunks[base >> SEG_CHUNK_SHIFT],
                   (size_t)m * c->width);
        }
    } else {
        uint8_t *offs = buf + c->sec_off[SEG_FMT_SEC_FWD];
        uint8_t *bytes = buf + c->sec_off[SEG_FMT_SEC_BYTES];
        uint32_t pos = 0;
        for (uint64_t base = 0; base < c->nvals; base += SEG_CHUNK) {
            const seg_bytes *v = sc->val_chunks[base >> SEG_CHUNK_SHIFT];
            uint32_t m = seg__chunk_len(c->nvals, base);
            for (uint32_t i = 0; i < m; i++) {
                seg__put32(offs + (base + i) * 4, pos);
                if (v[i].len) memcpy(bytes + pos, v[i].ptr, v[i].len);
                pos += v[i].len;
            }
        }
        seg__put32(offs + c->nvals * 4, pos);
        if (c->has_minmax) {
            uint32_t mn, mx;
            memcpy(&mn, offs + c->min_idx * 4, 4);
            memcpy(&mx, offs + c->max_idx * 4, 4);
            c->min_off = c->sec_off[SEG_FMT_SEC_BYTES] + mn;
            c->max_off = c->sec_off[SEG_FMT_SEC_BYTES] + mx;
        }
    }
    if (!c->sv) {
        uint8_t *o = buf + c->sec_off[SEG_FMT_SEC_MV];
        seg__put32(o, 0);
        for (uint64_t base = 0; base < b->rows; base += SEG_CHUNK)
            memcpy(o + 4 + base * 4, sc->mv_end_chunks[base >> SEG_CHUNK_SHIFT],
                   (size_t)seg__chunk_len(b->rows, base) * 4);
    }
    if (c->null_count > 0) {
        uint8_t *o = buf + c->sec_off[SEG_FMT_SEC_NULLS];
        uint64_t words = (b->rows + 63) / 64;
        for (uint64_t w = 0; w < words; w++) {
            uint64_t x = SEG_SRC_AT(sc->null_chunks, uint64_t, w);
            if (w == words - 1 && (b->rows & 63)) x &= ((uint64_t)1 << (b->rows & 63)) - 1;
            seg__put64(o + w * 8, x);
        }
    }

    /* directory entry */
    uint8_t *e = buf + b->coldir_off + (uint64_t)(c - b->cols) * SEG_FMT_COL_LEN;
    seg__put64(e + SEG_FMT_C_NAME_OFF, c->name_off);
    seg__put32(e + SEG_FMT_C_NAME_LEN, c->name_len);
    e[SEG_FMT_C_TYPE] = (uint8_t)c->type;
    e[SEG_FMT_C_FLAGS] = (uint8_t)((c->sv ? SEG_FMT_CF_SINGLE_VALUE : 0) |
                                   (c->dict ? SEG_FMT_CF_DICT : 0) |
                                   (c->null_count ? SEG_FMT_CF_HAS_NULLS : 0) |
                                   (c->has_minmax ? SEG_FMT_CF_HAS_MINMAX : 0));
    e[SEG_FMT_C_BITS] = c->dict ? c->bits : 0;
    seg__put32(e + SEG_FMT_C_CARDINALITY, c->card);
    seg__put64(e + SEG_FMT_C_NVALUES, c->nvals);
    seg__put64(e + SEG_FMT_C_NULL_COUNT, c->null_count);
    if (c->has_minmax) {
        if (c->var) {
            seg__put32(e + SEG_FMT_C_MIN_LEN, c->min_len);
            seg__put32(e + SEG_FMT_C_MAX_LEN, c->max_len);
            seg__put64(e + SEG_FMT_C_MIN, c->min_off);
            seg__put64(e + SEG_FMT_C_MAX, c->max_off);
        } else {
            seg__put64(e + SEG_FMT_C_MIN, c->min_bits);
            seg__put64(e + SEG_FMT_C_MAX, c->max_bits);
        }
    }
    for (int s = 0; s < SEG_FMT_SEC__COUNT; s++) {
        seg__put64(e + SEG_FMT_C_SECTIONS + 16 * s, c->sec_off[s]);
        seg__put64(e + SEG_FMT_C_SECTIONS + 16 * s + 8, c->sec_len[s]);
    }
    memcpy(buf + c->name_off, c->f->name, c->name_len + 1);
}

static void seg__write_meta(seg_build *b, uint8_t *buf)
{
    const seg_meta_in *mi = b->meta;
    uint8_t *m = buf + b->meta_off;
    size_t nl = strlen(mi->name), tl = strlen(mi->table);
    seg__put32(m + SEG_FMT_M_PARTITION, (uint32_t)mi->partition);
    seg__put32(m + SEG_FMT_M_TIME_COL, (uint32_t)b->time_col);
    seg__put64(m + SEG_FMT_M_SEQUENCE, (uint64_t)mi->sequence);
    seg__put64(m + SEG_FMT_M_START_OFFSET, (uint64_t)mi->start_offset);
    seg__put64(m + SEG_FMT_M_END_OFFSET, (uint64_t)mi->end_offset);
    seg__put64(m + SEG_FMT_M_TIME_MIN, b->time_range ? (uint64_t)b->time_min : 0);
    seg__put64(m + SEG_FMT_M_TIME_MAX, b->time_range ? (uint64_t)b->time_max : 0);
    seg__put32(m + SEG_FMT_M_NAME_LEN, (uint32_t)nl);
    seg__put32(m + SEG_FMT_M_TABLE_LEN, (uint32_t)tl);
    seg__put32(m + SEG_FMT_M_SCHEMA_LEN, (uint32_t)b->schema_len);
    seg__put32(m + SEG_FMT_M_FLAGS, b->time_range ? SEG_FMT_MF_TIME_RANGE : 0);
    uint8_t *p = m + SEG_FMT_META_FIXED_LEN;
    memcpy(p, mi->name, nl + 1);
    p += nl + 1;
    memcpy(p, mi->table, tl + 1);
    p += tl + 1;
    memcpy(p, b->schema_json, b->schema_len);
    p[b->schema_len] = 0;
}

static void seg__write_header(seg_build *b, uint8_t *buf)
{
    memcpy(buf + SEG_FMT_H_MAGIC, SEG_FMT_MAGIC, SEG_FMT_MAGIC_LEN);
    seg__put32(buf + SEG_FMT_H_VERSION, SEG_FMT_VERSION);
    seg__put32(buf + SEG_FMT_H_HEADER_LEN, SEG_FMT_HDR_LEN);
    seg__put64(buf + SEG_FMT_H_FILE_LEN, b->file_len);
    seg__put64(buf + SEG_FMT_H_ROWS, b->rows);
    seg__put32(buf + SEG_FMT_H_NCOLS, b->ncols);
    seg__put32(buf + SEG_FMT_H_FLAGS, 0);
    seg__put64(buf + SEG_FMT_H_COLDIR_OFF, b->coldir_off);
    seg__put64(buf + SEG_FMT_H_META_OFF, b->meta_off);
    seg__put32(buf + SEG_FMT_H_META_LEN, (uint32_t)b->meta_len);
    seg__put32(buf + SEG_FMT_H_HEADER_CRC, seg_fmt_header_crc(buf, SEG_FMT_VERSION));
}

/* ---- entry points ---- */

static int seg__check_inputs(seg_build *b)
{
    const seg_src *src = b->src;
    const seg_meta_in *mi = b->meta;
    if (!src || !src->schema || !mi || !mi->name || !mi->table)
        return sl_fail(b->err, b->errlen, SL_EINVAL, "missing source, schema or metadata");
    if (src->rows > SEG_FMT_MAX_ROWS)
        return sl_fail(b->err, b->errlen, SL_ELIMIT, "%llu rows > %u",
                       (unsigned long long)src->rows, SEG_FMT_MAX_ROWS);
    if (src->schema->nfields > SEG_FMT_MAX_COLS)
        return sl_fail(b->err, b->errlen, SL_ELIMIT, "%u columns > %u", src->schema->nfields,
                       SEG_FMT_MAX_COLS);
    if (src->schema->nfields > 0 && !src->cols)
        return sl_fail(b->err, b->errlen, SL_EINVAL, "source has no columns");
    b->time_col = -1;
    if (src->time_column) {
        for (uint32_t i = 0; i < src->schema->nfields; i++)
            if (strcmp(src->schema->fields[i].name, src->time_column) == 0) b->time_col = (int32_t)i;
        if (b->time_col < 0)
            return sl_fail(b->err, b->errlen, SL_EINVAL, "time column %s is not in the schema",
                           src->time_column);
    }
    return 0;
}

int seg_build_mem(const seg_src *src, const seg_meta_in *meta, uint8_t **out, size_t *out_len,
                  char *err, size_t errlen)
{
    seg_build b = {.src = src, .meta = meta, .err = err, .errlen = errlen};
    uint8_t *buf = NULL;
    *out = NULL;
    *out_len = 0;
    int rc = seg__check_inputs(&b);
    if (rc) return rc;
    b.rows = src->rows;
    b.ncols = src->schema->nfields;
    b.cols = sl_xcalloc(b.ncols, sizeof *b.cols);
    for (uint32_t i = 0; i < b.ncols; i++) {
        seg_col *c = &b.cols[i];
        c->sc = &src->cols[i];
        c->f = &src->schema->fields[i];
        c->type = c->f->type;
        c->width = schema_type_width(c->type);
        c->var = schema_type_is_var(c->type);
        c->sv = c->f->single_value;
        c->dict = c->sc->dict;
        rc = seg__analyse_col(&b, c);
        if (rc) goto fail;
    }
    if (b.time_col >= 0) {
        const seg_col *tc = &b.cols[b.time_col];
        char pat[256];
        const char *zone;
        if (tc->has_minmax && (tc->type == SCHEMA_INT || tc->type == SCHEMA_LONG ||
                               tc->type == SCHEMA_TIMESTAMP)) {
            b.time_range = true;
            b.time_min = (int64_t)tc->min_bits;
            b.time_max = (int64_t)tc->max_bits;
        } else if (tc->type == SCHEMA_STRING && tc->sv &&
                   schema_sdf_pattern(tc->f, pat, sizeof pat, &zone)) {
            /* a SIMPLE_DATE_FORMAT column: its distinct values' instants, in ms (as Pinot's
             * segment metadata keeps them); a value the pattern does not read is left out */
            const seg_src_col *sc = tc->sc;
            uint64_t n = sc->dict ? sc->cardinality : sc->n_values;
            for (uint64_t i = 0; i < n; i++) {
                seg_bytes v = sc->dict ? SEG_SRC_AT(sc->dict_chunks, seg_bytes, i)
                                       : SEG_SRC_AT(sc->val_chunks, seg_bytes, i);
                int64_t ms;
                char why[8];
                if (xform_parse_time(pat, (const char *)v.ptr, v.len, &ms, why, sizeof why))
                    continue;
                if (!b.time_range || ms < b.time_min) b.time_min = ms;
                if (!b.time_range || ms > b.time_max) b.time_max = ms;
                b.time_range = true;
            }
        }
    }
    b.schema_json = schema_to_json(src->schema, &b.schema_len);
    rc = seg__layout(&b);
    if (rc) goto fail;
    buf = sl_xcalloc(b.file_len, 1);
    for (uint32_t i = 0; i < b.ncols; i++) seg__write_col(&b, &b.cols[i], buf);
    seg__write_meta(&b, buf);
    seg__write_header(&b, buf);
    seg__put32(buf + b.data_end, seg_fmt_trailer_crc(buf, b.data_end));
    *out = buf;
    *out_len = b.file_len;
    buf = NULL;
fail:
    for (uint32_t i = 0; i < b.ncols; i++) {
        free(b.cols[i].remap);
        free(b.cols[i].order);
    }
    free(b.cols);
    free(b.schema_json);
    free(buf);
    return rc;
}

int seg_build_file(const seg_src *src, const seg_meta_in *meta, const char *path,
                   uint32_t *crc_out, uint64_t *size_out, char *err, size_t errlen)
{
    uint8_t *buf;
    size_t len;
    int rc = seg_build_mem(src, meta, &buf, &len, err, errlen);
    if (rc) return rc;
    rc = fsutil_publish(path, buf, len, err, errlen);
    if (rc == 0) {
        uint32_t crc;
        memcpy(&crc, buf + len - SEG_FMT_TRAILER_LEN, 4);
        if (crc_out) *crc_out = crc;
        if (size_out) *size_out = len;
    }
    free(buf);
    return rc;
}
