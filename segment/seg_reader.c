/* Segment reader and verifier (see seg_reader.h, docs/segment-format.md).
 *
 * seg__parse() is the single validation path used by open, open_mem and verify. It reads the
 * buffer only through the SEG_RD_* macros (or after a seg__in() range check), which check
 * the offset against the valid region and jump to `parse_error` with the offset when it does
 * not fit, so a hostile file yields an error message and never an out-of-bounds read. Checks
 * run in an order that gives each damage its own code: magic (CORRUPT), file shorter than
 * the fixed header (TRUNC), header checksum (CORRUPT), version (FORMAT), recorded file
 * length (TRUNC when the file is shorter, CORRUPT when longer), CRC trailer (CORRUPT, with
 * seg_fmt_trailer_crc), then structure, then the contents
 * (seg__check_values, seg__check_time_range). The header checksum comes before the version
 * and the recorded length, so a damaged header is never mistaken for a truncated file or a
 * newer version.
 *
 * The content checks make every statistic a writer records checkable: dictionaries strictly
 * ascending in the format's sort order with every entry used, min/max exactly the smallest
 * and largest stored value, a raw column's cardinality its exact distinct count (hash set),
 * the metadata time range the time column's min/max. They run only after the structure is
 * known to be in bounds, so they read values with the accessors' own helpers.
 *
 * After parsing, every pointer kept in seg_rcol points at a section whose length matches
 * what the accessors will index, so row access needs no further checks than col/row ranges. */
#include "segment/seg_reader.h"

#include "common/sl_err.h"
#include "common/xalloc.h"
#include "common/xform.h"
#include "segment/seg_format.h"
#include "segment/seg_sort.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the segment reader loads host integers directly; add byte swaps for big-endian hosts"
#endif

typedef struct seg_rcol {
    seg_col_info info;
    uint32_t width; /* fixed types: 4 or 8 */
    bool var;
    const uint8_t *dict;  /* fixed values or u32 offsets[card+1] */
    const uint8_t *bytes; /* var data */
    const uint8_t *fwd;   /* packed ids, raw fixed values, or u32 offsets[n+1] */
    const uint8_t *mv;    /* u32 offsets[rows+1] */
    const uint8_t *nulls; /* u64 words */
} seg_rcol;

struct seg_reader {
    const uint8_t *buf;
    size_t len;
    void *map; /* non-NULL when we own an mmap of len bytes */
    uint64_t rows;
    uint32_t ncols;
    uint32_t crc;
    const char *name, *table, *schema_json;
    uint32_t schema_len;
    int32_t partition, time_col;
    int64_t sequence, start_offset, end_offset, time_min, time_max;
    bool time_range;
    seg_rcol *cols;
};

static inline uint32_t seg__ld32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
static inline uint64_t seg__ld64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* ---- bounds-checked parsing ---- */

typedef struct seg_parse {
    const uint8_t *buf;
    uint64_t end; /* reads must stay below this offset */
    char *msg;
    size_t msglen;
    int code;
} seg_parse;

static void seg__perr(seg_parse *p, int code, uint64_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void seg__perr(seg_parse *p, int code, uint64_t off, const char *fmt, ...)
{
    p->code = code;
    if (!p->msg || !p->msglen) return;
    int n = snprintf(p->msg, p->msglen, "offset %llu: ", (unsigned long long)off);
    if (n < 0 || (size_t)n >= p->msglen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->msg + n, p->msglen - (size_t)n, fmt, ap);
    va_end(ap);
}

/* Fail with `code` at `off` unless cond holds. */
#define SEG_CHECK(p, cond, code, off, ...)                                                         \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            seg__perr((p), (code), (off), __VA_ARGS__);                                            \
            goto parse_error;                                                                      \
        }                                                                                          \
    } while (0)
#define SEG_CORRUPT(p, cond, off, ...) SEG_CHECK(p, cond, SL_ECORRUPT, off, __VA_ARGS__)

/* [off, off+n) inside [0, p->end)? (overflow-safe) */
static inline bool seg__in(const seg_parse *p, uint64_t off, uint64_t n)
{
    return off <= p->end && n <= p->end - off;
}

#define SEG_RD_U8(p, off, out)                                                                     \
    do {                                                                                           \
        SEG_CORRUPT(p, seg__in(p, off, 1), off, "1-byte field past the end");                      \
        (out) = (p)->buf[off];                                                                     \
    } while (0)
#define SEG_RD_U32(p, off, out)                                                                    \
    do {                                                                                           \
        SEG_CORRUPT(p, seg__in(p, off, 4), off, "4-byte field past the end");                      \
        (out) = seg__ld32((p)->buf + (off));                                                       \
    } while (0)
#define SEG_RD_U64(p, off, out)                                                                    \
    do {                                                                                           \
        SEG_CORRUPT(p, seg__in(p, off, 8), off, "8-byte field past the end");                      \
        (out) = seg__ld64((p)->buf + (off));                                                       \
    } while (0)

static const char *const seg__sec_names[SEG_FMT_SEC__COUNT] = {"dictionary", "bytes", "forward",
                                                               "multi-value offsets", "nulls"};

/* A NUL-terminated string of len bytes at off with no NUL inside. */
static bool seg__cstr_ok(const seg_parse *p, uint64_t off, uint64_t len)
{
    if (len == UINT64_MAX || !seg__in(p, off, len + 1)) return false;
    if (p->buf[off + len] != 0) return false;
    return memchr(p->buf + off, 0, len) == NULL;
}

/* u32 offsets[n+1] at off: starts at 0, never decreases, ends at `last`. Returns the index of
 * the first bad entry, or UINT64_MAX when valid. */
static uint64_t seg__check_offsets(const uint8_t *o, uint64_t n, uint64_t last)
{
    if (seg__ld32(o) != 0) return 0;
    uint32_t prev = 0;
    for (uint64_t i = 1; i <= n; i++) {
        uint32_t v = seg__ld32(o + i * 4);
        if (v < prev) return i;
        prev = v;
    }
    return prev == last ? UINT64_MAX : n;
}

static inline uint32_t seg__unpack(const uint8_t *p, uint64_t i, unsigned bits)
{
    uint64_t bit = i * bits;
    const uint8_t *w = p + (bit >> 6) * 8;
    unsigned sh = (unsigned)(bit & 63);
    uint64_t v = seg__ld64(w) >> sh;
    if (sh + bits > 64) v |= seg__ld64(w + 8) << (64 - sh);
    return (uint32_t)(v & (bits == 32 ? 0xFFFFFFFFull : (((uint64_t)1 << bits) - 1)));
}

/* Largest id among n packed ids (the section holds ceil(n*bits/64) words). */
static uint32_t seg__max_packed(const uint8_t *p, uint64_t n, unsigned bits)
{
    uint32_t mx = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint32_t v = seg__unpack(p, i, bits);
        mx = v > mx ? v : mx;
    }
    return mx;
}

static schema_value seg__fixed_value(schema_type t, uint64_t bits)
{
    schema_value v;
    memset(&v, 0, sizeof v);
    switch (t) {
    case SCHEMA_INT:
    case SCHEMA_BOOLEAN: v.u.i32 = (int32_t)(uint32_t)bits; break;
    case SCHEMA_FLOAT: {
        uint32_t b = (uint32_t)bits;
        memcpy(&v.u.f32, &b, 4);
        break;
    }
    case SCHEMA_DOUBLE: memcpy(&v.u.f64, &bits, 8); break;
    default: v.u.i64 = (int64_t)bits; break;
    }
    return v;
}

/* ---- content checks (run once the column's structure is valid) ---- */

static inline uint64_t seg__ldw(const uint8_t *p, uint32_t width)
{
    return width == 4 ? seg__ld32(p) : seg__ld64(p);
}

/* Value i of a var column: file offset *off of its bytes and its length, from the u32
 * offsets o[] into the BYTES section at bytes_off. */
static inline uint32_t seg__var_at(const uint8_t *o, uint64_t i, uint64_t bytes_off, uint64_t *off)
{
    uint32_t a = seg__ld32(o + i * 4);
    *off = bytes_off + a;
    return seg__ld32(o + i * 4 + 4) - a;
}

static inline uint64_t seg__hash(const uint8_t *p, uint32_t len)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ len;
    while (len >= 8) {
        h = (h ^ seg__ld64(p)) * 0xFF51AFD7ED558CCDull;
        h ^= h >> 32;
        p += 8;
        len -= 8;
    }
    uint64_t w = 0;
    if (len) memcpy(&w, p, len);
    h = (h ^ w) * 0xC4CEB9FE1A85EC53ull;
    return h ^ (h >> 29);
}

/* Dictionary column: entries strictly ascending, each used by some value, min/max the first
 * and last entry. The ids are known to be < card (checked before). */
static int seg__check_dict(seg_parse *p, const seg_rcol *c, uint32_t i, uint64_t e, uint64_t min,
                           uint64_t max, uint32_t min_len, uint32_t max_len)
{
    const seg_col_info *ci = &c->info;
    const uint32_t card = ci->cardinality, w = c->width;
    const uint64_t dict_off = (uint64_t)(c->dict - p->buf);
    uint64_t *used = NULL;
    if (card == 0) return 0;
    if (c->var) {
        const uint64_t bytes_off = (uint64_t)(c->bytes - p->buf);
        uint64_t po, ko;
        uint32_t plen = seg__var_at(c->dict, 0, bytes_off, &po), klen;
        for (uint32_t k = 1; k < card; k++, po = ko, plen = klen) {
            klen = seg__var_at(c->dict, k, bytes_off, &ko);
            int cmp = seg_sort_bytes_cmp(p->buf + po, plen, p->buf + ko, klen);
            SEG_CORRUPT(p, cmp != 0, dict_off + (uint64_t)k * 4,
                        "column %u: dictionary entry %u duplicates entry %u", i, k, k - 1);
            SEG_CORRUPT(p, cmp < 0, dict_off + (uint64_t)k * 4,
                        "column %u: dictionary entry %u sorts before entry %u", i, k, k - 1);
        }
        uint64_t lo, hi;
        uint32_t lo_len = seg__var_at(c->dict, 0, bytes_off, &lo);
        uint32_t hi_len = seg__var_at(c->dict, card - 1, bytes_off, &hi);
        SEG_CORRUPT(p, min == lo && min_len == lo_len, e + SEG_FMT_C_MIN,
                    "column %u: min at %llu (%u bytes) is not the smallest value, dictionary "
                    "entry 0 at %llu (%u bytes)",
                    i, (unsigned long long)min, min_len, (unsigned long long)lo, lo_len);
        SEG_CORRUPT(p, max == hi && max_len == hi_len, e + SEG_FMT_C_MAX,
                    "column %u: max at %llu (%u bytes) is not the largest value, dictionary "
                    "entry %u at %llu (%u bytes)",
                    i, (unsigned long long)max, max_len, card - 1, (unsigned long long)hi, hi_len);
    } else {
        uint64_t prev = seg_sort_key(ci->type, seg__ldw(c->dict, w));
        for (uint32_t k = 1; k < card; k++) {
            uint64_t key = seg_sort_key(ci->type, seg__ldw(c->dict + (uint64_t)k * w, w));
            SEG_CORRUPT(p, key != prev, dict_off + (uint64_t)k * w,
                        "column %u: dictionary entry %u duplicates entry %u", i, k, k - 1);
            SEG_CORRUPT(p, key > prev, dict_off + (uint64_t)k * w,
                        "column %u: dictionary entry %u sorts before entry %u", i, k, k - 1);
            prev = key;
        }
        /* the directory holds INT/BOOLEAN sign-extended: compare the stored width only */
        uint64_t lo = seg__ldw(c->dict, w), hi = seg__ldw(c->dict + (uint64_t)(card - 1) * w, w);
        uint64_t mask = w == 4 ? 0xFFFFFFFFull : UINT64_MAX;
        SEG_CORRUPT(p, (min & mask) == lo, e + SEG_FMT_C_MIN,
                    "column %u: min 0x%llx is not the smallest value, dictionary entry 0 (0x%llx)",
                    i, (unsigned long long)min, (unsigned long long)lo);
        SEG_CORRUPT(p, (max & mask) == hi, e + SEG_FMT_C_MAX,
                    "column %u: max 0x%llx is not the largest value, dictionary entry %u (0x%llx)",
                    i, (unsigned long long)max, card - 1, (unsigned long long)hi);
    }
    /* every entry is used: the dictionary is exactly the set of stored values */
    used = sl_xcalloc(((uint64_t)card + 63) / 64, 8);
    for (uint64_t v = 0; v < ci->n_values; v++) {
        uint32_t id = seg__unpack(c->fwd, v, ci->bits);
        used[id >> 6] |= (uint64_t)1 << (id & 63);
    }
    for (uint32_t k = 0; k < card; k++)
        SEG_CORRUPT(p, (used[k >> 6] >> (k & 63)) & 1, dict_off + (uint64_t)k * (c->var ? 4 : w),
                    "column %u: dictionary entry %u is not used by any value", i, k);
    free(used);
    return 0;
parse_error:
    free(used);
    return p->code;
}

/* Raw column: min/max are the smallest and largest value (STRING/BYTES: their first
 * occurrence), the cardinality is the exact number of distinct values (bit patterns, bytes). */
static int seg__check_raw(seg_parse *p, const seg_rcol *c, uint32_t i, uint64_t e, uint64_t min,
                          uint64_t max, uint32_t min_len, uint32_t max_len)
{
    const seg_col_info *ci = &c->info;
    const uint64_t n = ci->n_values, card = ci->cardinality;
    const uint32_t w = c->width;
    const uint64_t fwd_off = (uint64_t)(c->fwd - p->buf);
    const uint64_t bytes_off = c->var ? (uint64_t)(c->bytes - p->buf) : 0;
    uint32_t *slots = NULL;
    if (n == 0) return 0;
    /* min / max */
    if (c->var) {
        uint64_t lo, hi, off;
        uint32_t lo_len = seg__var_at(c->fwd, 0, bytes_off, &lo), hi_len = lo_len, len;
        hi = lo;
        for (uint64_t v = 1; v < n; v++) {
            len = seg__var_at(c->fwd, v, bytes_off, &off);
            if (seg_sort_bytes_cmp(p->buf + off, len, p->buf + lo, lo_len) < 0) {
                lo = off;
                lo_len = len;
            } else if (seg_sort_bytes_cmp(p->buf + off, len, p->buf + hi, hi_len) > 0) {
                hi = off;
                hi_len = len;
            }
        }
        SEG_CORRUPT(p, min == lo && min_len == lo_len, e + SEG_FMT_C_MIN,
                    "column %u: min at %llu (%u bytes) is not the first smallest value, at %llu "
                    "(%u bytes)",
                    i, (unsigned long long)min, min_len, (unsigned long long)lo, lo_len);
        SEG_CORRUPT(p, max == hi && max_len == hi_len, e + SEG_FMT_C_MAX,
                    "column %u: max at %llu (%u bytes) is not the first largest value, at %llu "
                    "(%u bytes)",
                    i, (unsigned long long)max, max_len, (unsigned long long)hi, hi_len);
    } else {
        uint64_t klo = UINT64_MAX, khi = 0, lo = 0, hi = 0;
        for (uint64_t v = 0; v < n; v++) {
            uint64_t b = seg__ldw(c->fwd + v * w, w), k = seg_sort_key(ci->type, b);
            if (v == 0 || k < klo) {
                klo = k;
                lo = b;
            }
            if (v == 0 || k > khi) {
                khi = k;
                hi = b;
            }
        }
        uint64_t mask = w == 4 ? 0xFFFFFFFFull : UINT64_MAX;
        SEG_CORRUPT(p, (min & mask) == lo, e + SEG_FMT_C_MIN,
                    "column %u: min 0x%llx is not the smallest value 0x%llx", i,
                    (unsigned long long)min, (unsigned long long)lo);
        SEG_CORRUPT(p, (max & mask) == hi, e + SEG_FMT_C_MAX,
                    "column %u: max 0x%llx is not the largest value 0x%llx", i,
                    (unsigned long long)max, (unsigned long long)hi);
    }
    /* exact distinct count: open addressing on value indices (+1, 0 = empty), sized from the
     * recorded cardinality and abandoned as soon as it is exceeded */
    uint64_t cap = 16;
    while (cap < 2 * card + 2) cap <<= 1;
    slots = sl_xcalloc(cap, sizeof *slots);
    uint64_t distinct = 0;
    for (uint64_t v = 0; v < n; v++) {
        const uint8_t *vp;
        uint32_t len;
        if (c->var) {
            uint64_t off;
            len = seg__var_at(c->fwd, v, bytes_off, &off);
            vp = p->buf + off;
        } else {
            vp = c->fwd + v * w;
            len = w;
        }
        for (uint64_t h = seg__hash(vp, len) & (cap - 1);; h = (h + 1) & (cap - 1)) {
            uint32_t s = slots[h];
            if (s == 0) {
                SEG_CORRUPT(p, distinct < card, e + SEG_FMT_C_CARDINALITY,
                            "column %u: cardinality %llu, but value %llu (at %llu) is distinct "
                            "value %llu",
                            i, (unsigned long long)card, (unsigned long long)v,
                            (unsigned long long)(c->var ? (uint64_t)(vp - p->buf)
                                                        : fwd_off + v * w),
                            (unsigned long long)distinct + 1);
                slots[h] = (uint32_t)(v + 1);
                distinct++;
                break;
            }
            const uint8_t *op;
            uint32_t olen;
            if (c->var) {
                uint64_t off;
                olen = seg__var_at(c->fwd, s - 1, bytes_off, &off);
                op = p->buf + off;
            } else {
                op = c->fwd + (uint64_t)(s - 1) * w;
                olen = w;
            }
            if (olen == len && (len == 0 || memcmp(op, vp, len) == 0)) break;
        }
    }
    SEG_CORRUPT(p, distinct == card, e + SEG_FMT_C_CARDINALITY,
                "column %u: cardinality %llu, but %llu distinct values", i,
                (unsigned long long)card, (unsigned long long)distinct);
    free(slots);
    return 0;
parse_error:
    free(slots);
    return p->code;
}

/* A single-value STRING time column's SIMPLE_DATE_FORMAT pattern, from the schema the file
 * embeds; false when it has none (or the schema does not parse: checked elsewhere). */
static bool seg__sdf_pattern(const seg_reader *r, char *pat, size_t cap)
{
    char err[256];
    schema *s = schema_parse(r->schema_json, r->schema_len, "segment", err, sizeof err);
    if (!s) return false;
    int f = schema_find(s, r->cols[r->time_col].info.name);
    const char *zone;
    bool ok = f >= 0 && schema_sdf_pattern(&s->fields[f], pat, cap, &zone);
    schema_free(s);
    return ok;
}

/* The metadata time range is the time column's min/max when that column is INT/LONG/
 * TIMESTAMP and holds values, or when it is a SIMPLE_DATE_FORMAT STRING column the instants
 * (ms) of the earliest and latest of its values the pattern reads, if any does; otherwise the
 * flag is clear and both fields are 0. */
static int seg__check_time_range(seg_parse *p, const seg_reader *r)
{
    const uint64_t mo = seg__ld64(p->buf + SEG_FMT_H_META_OFF);
    const seg_col_info *ci = r->time_col >= 0 ? &r->cols[r->time_col].info : NULL;
    bool want = ci && ci->has_minmax &&
                (ci->type == SCHEMA_INT || ci->type == SCHEMA_LONG || ci->type == SCHEMA_TIMESTAMP);
    int64_t lo = 0, hi = 0;
    if (want) {
        lo = ci->type == SCHEMA_INT ? ci->min.u.i32 : ci->min.u.i64;
        hi = ci->type == SCHEMA_INT ? ci->max.u.i32 : ci->max.u.i64;
    }
    char pat[256];
    if (ci && ci->type == SCHEMA_STRING && ci->single_value &&
        seg__sdf_pattern(r, pat, sizeof pat)) {
        /* written before SIMPLE_DATE_FORMAT ranges were recorded: no range, both 0 */
        if (!r->time_range && r->time_min == 0 && r->time_max == 0) return 0;
        uint64_t n = ci->dict ? ci->cardinality : ci->n_values;
        for (uint64_t i = 0; i < n; i++) {
            schema_value v = {0};
            int rc = ci->dict ? seg_reader_dict_value(r, (uint32_t)r->time_col, (uint32_t)i, &v)
                              : seg_reader_value(r, (uint32_t)r->time_col, i, &v);
            int64_t ms;
            char why[8];
            if (rc || xform_parse_time(pat, (const char *)v.u.bytes.ptr, v.u.bytes.len, &ms, why,
                                       sizeof why))
                continue;
            if (!want || ms < lo) lo = ms;
            if (!want || ms > hi) hi = ms;
            want = true;
        }
    }
    SEG_CORRUPT(p, r->time_range == want, mo + SEG_FMT_M_FLAGS,
                "time range flag %s, but time column %d %s", r->time_range ? "set" : "clear",
                r->time_col, want ? "has a time range" : "has none");
    SEG_CORRUPT(p, r->time_min == lo && r->time_max == hi, mo + SEG_FMT_M_TIME_MIN,
                "time range [%lld, %lld] is not time column %d's min/max [%lld, %lld]",
                (long long)r->time_min, (long long)r->time_max, r->time_col, (long long)lo,
                (long long)hi);
    return 0;
parse_error:
    return p->code;
}

static int seg__parse_col(seg_parse *p, seg_reader *r, uint32_t i, uint64_t hdr_len)
{
    seg_rcol *c = &r->cols[i];
    const uint64_t e = seg__ld64(p->buf + SEG_FMT_H_COLDIR_OFF) + (uint64_t)i * SEG_FMT_COL_LEN;
    uint64_t name_off, nvals, nulls, min, max;
    uint32_t name_len, card, min_len, max_len, res1;
    uint8_t type, flags, bits, res0;
    SEG_RD_U64(p, e + SEG_FMT_C_NAME_OFF, name_off);
    SEG_RD_U32(p, e + SEG_FMT_C_NAME_LEN, name_len);
    SEG_RD_U8(p, e + SEG_FMT_C_TYPE, type);
    SEG_RD_U8(p, e + SEG_FMT_C_FLAGS, flags);
    SEG_RD_U8(p, e + SEG_FMT_C_BITS, bits);
    SEG_RD_U8(p, e + SEG_FMT_C_RESERVED0, res0);
    SEG_RD_U32(p, e + SEG_FMT_C_CARDINALITY, card);
    SEG_RD_U32(p, e + SEG_FMT_C_MIN_LEN, min_len);
    SEG_RD_U32(p, e + SEG_FMT_C_MAX_LEN, max_len);
    SEG_RD_U32(p, e + SEG_FMT_C_RESERVED1, res1);
    SEG_RD_U64(p, e + SEG_FMT_C_NVALUES, nvals);
    SEG_RD_U64(p, e + SEG_FMT_C_NULL_COUNT, nulls);
    SEG_RD_U64(p, e + SEG_FMT_C_MIN, min);
    SEG_RD_U64(p, e + SEG_FMT_C_MAX, max);

    SEG_CORRUPT(p, name_off >= hdr_len && seg__cstr_ok(p, name_off, name_len), e,
                "column %u: name at %llu (length %u) is out of bounds or not NUL-terminated", i,
                (unsigned long long)name_off, name_len);
    SEG_CORRUPT(p, type < SCHEMA_TYPE__COUNT, e + SEG_FMT_C_TYPE, "column %u: unknown type %u", i,
                type);
    SEG_CORRUPT(p, (flags & ~SEG_FMT_CF__ALL) == 0 && res0 == 0 && res1 == 0, e + SEG_FMT_C_FLAGS,
                "column %u: unknown flags 0x%x or non-zero reserved field", i, flags);
    const schema_type t = (schema_type)type;
    const bool sv = flags & SEG_FMT_CF_SINGLE_VALUE, dict = flags & SEG_FMT_CF_DICT;
    const bool var = schema_type_is_var(t);
    const uint32_t width = schema_type_width(t);
    if (dict)
        SEG_CORRUPT(p, bits >= 1 && bits <= 32 && (uint64_t)card <= ((uint64_t)1 << bits),
                    e + SEG_FMT_C_BITS, "column %u: bit width %u invalid for cardinality %u", i,
                    bits, card);
    else
        SEG_CORRUPT(p, bits == 0, e + SEG_FMT_C_BITS, "column %u: raw column with bit width %u",
                    i, bits);
    if (sv)
        SEG_CORRUPT(p, nvals == r->rows, e + SEG_FMT_C_NVALUES,
                    "column %u: %llu values for %llu rows", i, (unsigned long long)nvals,
                    (unsigned long long)r->rows);
    else
        SEG_CORRUPT(p, nvals <= UINT32_MAX, e + SEG_FMT_C_NVALUES, "column %u: %llu values", i,
                    (unsigned long long)nvals);
    SEG_CORRUPT(p, card <= nvals && (nvals == 0 || card > 0), e + SEG_FMT_C_CARDINALITY,
                "column %u: cardinality %u for %llu values", i, card, (unsigned long long)nvals);
    SEG_CORRUPT(p, nulls <= r->rows && (nulls > 0) == !!(flags & SEG_FMT_CF_HAS_NULLS),
                e + SEG_FMT_C_NULL_COUNT, "column %u: null count %llu inconsistent", i,
                (unsigned long long)nulls);
    const bool has_minmax = flags & SEG_FMT_CF_HAS_MINMAX;
    SEG_CORRUPT(p, has_minmax == (nvals > 0), e + SEG_FMT_C_FLAGS,
                "column %u: min/max flag inconsistent with %llu values", i,
                (unsigned long long)nvals);

    /* sections: presence, alignment, bounds, exact length */
    uint64_t off[SEG_FMT_SEC__COUNT], len[SEG_FMT_SEC__COUNT], want[SEG_FMT_SEC__COUNT];
    bool present[SEG_FMT_SEC__COUNT] = {dict, var, true, !sv, nulls > 0};
    want[SEG_FMT_SEC_DICT] = var ? ((uint64_t)card + 1) * 4 : (uint64_t)card * width;
    want[SEG_FMT_SEC_BYTES] = 0; /* checked against the offsets below */
    if (dict)
        want[SEG_FMT_SEC_FWD] = (nvals * bits + 63) / 64 * 8;
    else if (var)
        want[SEG_FMT_SEC_FWD] = (nvals + 1) * 4;
    else
        want[SEG_FMT_SEC_FWD] = nvals * width;
    want[SEG_FMT_SEC_MV] = (r->rows + 1) * 4;
    want[SEG_FMT_SEC_NULLS] = (r->rows + 63) / 64 * 8;
    for (int s = 0; s < SEG_FMT_SEC__COUNT; s++) {
        uint64_t so = e + SEG_FMT_C_SECTIONS + 16 * (uint64_t)s;
        SEG_RD_U64(p, so, off[s]);
        SEG_RD_U64(p, so + 8, len[s]);
        if (!present[s]) {
            SEG_CORRUPT(p, off[s] == 0 && len[s] == 0, so, "column %u: unexpected %s section", i,
                        seg__sec_names[s]);
            continue;
        }
        SEG_CORRUPT(p, off[s] % SEG_FMT_ALIGN == 0 && off[s] >= hdr_len && seg__in(p, off[s], len[s]),
                    so, "column %u: %s section [%llu, +%llu) misaligned or out of bounds", i,
                    seg__sec_names[s], (unsigned long long)off[s], (unsigned long long)len[s]);
        if (s != SEG_FMT_SEC_BYTES)
            SEG_CORRUPT(p, len[s] == want[s], so + 8,
                        "column %u: %s section is %llu bytes, expected %llu", i,
                        seg__sec_names[s], (unsigned long long)len[s], (unsigned long long)want[s]);
    }
    c->dict = dict ? p->buf + off[SEG_FMT_SEC_DICT] : NULL;
    c->bytes = var ? p->buf + off[SEG_FMT_SEC_BYTES] : NULL;
    c->fwd = p->buf + off[SEG_FMT_SEC_FWD];
    c->mv = sv ? NULL : p->buf + off[SEG_FMT_SEC_MV];
    c->nulls = nulls ? p->buf + off[SEG_FMT_SEC_NULLS] : NULL;

    /* offset arrays */
    uint64_t bad;
    if (var) {
        const uint8_t *o = dict ? c->dict : c->fwd;
        uint64_t n = dict ? card : nvals;
        bad = seg__check_offsets(o, n, len[SEG_FMT_SEC_BYTES]);
        SEG_CORRUPT(p, bad == UINT64_MAX, (uint64_t)(o - p->buf) + (bad == UINT64_MAX ? 0 : bad) * 4,
                    "column %u: byte offset %llu decreasing or not ending at %llu", i,
                    (unsigned long long)bad, (unsigned long long)len[SEG_FMT_SEC_BYTES]);
    } else {
        SEG_CORRUPT(p, len[SEG_FMT_SEC_BYTES] == 0, e + SEG_FMT_C_SECTIONS + 24,
                    "column %u: bytes section on a fixed-width column", i);
    }
    if (!sv) {
        bad = seg__check_offsets(c->mv, r->rows, nvals);
        SEG_CORRUPT(p, bad == UINT64_MAX, off[SEG_FMT_SEC_MV] + (bad == UINT64_MAX ? 0 : bad) * 4,
                    "column %u: multi-value offset of row %llu decreasing or not ending at %llu",
                    i, (unsigned long long)bad, (unsigned long long)nvals);
    }
    /* every packed id must index the dictionary */
    if (dict && nvals > 0 && (uint64_t)card < ((uint64_t)1 << bits)) {
        uint32_t mx = seg__max_packed(c->fwd, nvals, bits);
        SEG_CORRUPT(p, mx < card, off[SEG_FMT_SEC_FWD], "column %u: dictionary id %u >= cardinality %u",
                    i, mx, card);
    }
    /* null bitmap: count matches, no bits past the last row */
    if (nulls) {
        uint64_t words = (r->rows + 63) / 64, cnt = 0;
        for (uint64_t w = 0; w < words; w++) cnt += (uint64_t)__builtin_popcountll(seg__ld64(c->nulls + w * 8));
        uint64_t last = seg__ld64(c->nulls + (words - 1) * 8);
        bool tail_ok = (r->rows & 63) == 0 || (last >> (r->rows & 63)) == 0;
        SEG_CORRUPT(p, cnt == nulls && tail_ok, off[SEG_FMT_SEC_NULLS],
                    "column %u: null bitmap has %llu bits set, header says %llu", i,
                    (unsigned long long)cnt, (unsigned long long)nulls);
    }
    /* min / max */
    memset(&c->info, 0, sizeof c->info);
    if (has_minmax && var) {
        SEG_CORRUPT(p, min >= hdr_len && seg__in(p, min, min_len) && max >= hdr_len &&
                           seg__in(p, max, max_len),
                    e + SEG_FMT_C_MIN, "column %u: min/max bytes out of bounds", i);
        c->info.min.u.bytes.ptr = p->buf + min;
        c->info.min.u.bytes.len = min_len;
        c->info.max.u.bytes.ptr = p->buf + max;
        c->info.max.u.bytes.len = max_len;
    } else if (has_minmax) {
        bool ok = min_len == 0 && max_len == 0;
        if (width == 4 && t != SCHEMA_FLOAT)
            ok = ok && (int64_t)min == (int32_t)(uint32_t)min && (int64_t)max == (int32_t)(uint32_t)max;
        if (t == SCHEMA_FLOAT) ok = ok && (min >> 32) == 0 && (max >> 32) == 0;
        SEG_CORRUPT(p, ok, e + SEG_FMT_C_MIN, "column %u: min/max do not fit the type", i);
        c->info.min = seg__fixed_value(t, min);
        c->info.max = seg__fixed_value(t, max);
    } else {
        SEG_CORRUPT(p, min == 0 && max == 0 && min_len == 0 && max_len == 0, e + SEG_FMT_C_MIN,
                    "column %u: min/max set on an empty column", i);
    }
    c->info.name = (const char *)p->buf + name_off;
    c->info.type = t;
    c->info.single_value = sv;
    c->info.dict = dict;
    c->info.has_minmax = has_minmax;
    c->info.bits = bits;
    c->info.cardinality = card;
    c->info.n_values = nvals;
    c->info.null_count = nulls;
    c->width = width;
    c->var = var;
    if (dict) return seg__check_dict(p, c, i, e, min, max, min_len, max_len);
    return seg__check_raw(p, c, i, e, min, max, min_len, max_len);
parse_error:
    return p->code;
}

static int seg__parse_meta(seg_parse *p, seg_reader *r, uint64_t hdr_len)
{
    uint64_t mo = seg__ld64(p->buf + SEG_FMT_H_META_OFF);
    uint64_t ml = seg__ld32(p->buf + SEG_FMT_H_META_LEN);
    SEG_CORRUPT(p, mo % SEG_FMT_ALIGN == 0 && mo >= hdr_len && ml >= SEG_FMT_META_FIXED_LEN &&
                       seg__in(p, mo, ml),
                SEG_FMT_H_META_OFF, "metadata section [%llu, +%llu) out of bounds",
                (unsigned long long)mo, (unsigned long long)ml);
    uint32_t part, tcol, nl, tl, sl, mflags;
    uint64_t seq, so, eo, tmin, tmax;
    SEG_RD_U32(p, mo + SEG_FMT_M_PARTITION, part);
    SEG_RD_U32(p, mo + SEG_FMT_M_TIME_COL, tcol);
    SEG_RD_U64(p, mo + SEG_FMT_M_SEQUENCE, seq);
    SEG_RD_U64(p, mo + SEG_FMT_M_START_OFFSET, so);
    SEG_RD_U64(p, mo + SEG_FMT_M_END_OFFSET, eo);
    SEG_RD_U64(p, mo + SEG_FMT_M_TIME_MIN, tmin);
    SEG_RD_U64(p, mo + SEG_FMT_M_TIME_MAX, tmax);
    SEG_RD_U32(p, mo + SEG_FMT_M_NAME_LEN, nl);
    SEG_RD_U32(p, mo + SEG_FMT_M_TABLE_LEN, tl);
    SEG_RD_U32(p, mo + SEG_FMT_M_SCHEMA_LEN, sl);
    SEG_RD_U32(p, mo + SEG_FMT_M_FLAGS, mflags);
    uint64_t need = (uint64_t)SEG_FMT_META_FIXED_LEN + nl + 1 + tl + 1 + sl + 1;
    SEG_CORRUPT(p, need <= ml, mo + SEG_FMT_M_NAME_LEN,
                "metadata strings (%llu bytes) exceed the section (%llu)",
                (unsigned long long)need, (unsigned long long)ml);
    uint64_t s = mo + SEG_FMT_META_FIXED_LEN;
    SEG_CORRUPT(p, seg__cstr_ok(p, s, nl), s, "segment name not NUL-terminated");
    r->name = (const char *)p->buf + s;
    s += (uint64_t)nl + 1;
    SEG_CORRUPT(p, seg__cstr_ok(p, s, tl), s, "table name not NUL-terminated");
    r->table = (const char *)p->buf + s;
    s += (uint64_t)tl + 1;
    SEG_CORRUPT(p, seg__cstr_ok(p, s, sl), s, "schema text not NUL-terminated");
    r->schema_json = (const char *)p->buf + s;
    r->schema_len = sl;
    int32_t tc = (int32_t)tcol;
    SEG_CORRUPT(p, tc >= -1 && (tc < 0 || (uint32_t)tc < r->ncols), mo + SEG_FMT_M_TIME_COL,
                "time column %d out of range", tc);
    SEG_CORRUPT(p, (mflags & ~SEG_FMT_MF__ALL) == 0 && (!(mflags & SEG_FMT_MF_TIME_RANGE) || tc >= 0),
                mo + SEG_FMT_M_FLAGS, "metadata flags 0x%x invalid", mflags);
    r->partition = (int32_t)part;
    r->time_col = tc;
    r->sequence = (int64_t)seq;
    r->start_offset = (int64_t)so;
    r->end_offset = (int64_t)eo;
    r->time_range = mflags & SEG_FMT_MF_TIME_RANGE;
    r->time_min = (int64_t)tmin;
    r->time_max = (int64_t)tmax;
    return 0;
parse_error:
    return p->code;
}

/* Validate buf[0..len) completely and fill r. Returns 0 or an SL_E* code with p->msg set. */
static int seg__parse(seg_parse *p, seg_reader *r, uint64_t len)
{
    const uint8_t *b = p->buf;
    p->end = len;
    if (len < SEG_FMT_MAGIC_LEN) {
        SEG_CORRUPT(p, memcmp(b, SEG_FMT_MAGIC, len) == 0, 0, "not a segment (bad magic)");
        SEG_CHECK(p, false, SL_ETRUNC, len, "file ends inside the header (%llu bytes)",
                  (unsigned long long)len);
    }
    SEG_CORRUPT(p, memcmp(b, SEG_FMT_MAGIC, SEG_FMT_MAGIC_LEN) == 0, 0, "not a segment (bad magic)");
    SEG_CHECK(p, len >= SEG_FMT_HDR_LEN, SL_ETRUNC, len, "file ends inside the header (%llu bytes)",
              (unsigned long long)len);
    uint32_t version = seg__ld32(b + SEG_FMT_H_VERSION); /* trusted once the header CRC is */
    uint32_t hcrc = seg__ld32(b + SEG_FMT_H_HEADER_CRC);
    uint32_t hcalc = seg_fmt_header_crc(b, version);
    SEG_CORRUPT(p, hcrc == hcalc, SEG_FMT_H_HEADER_CRC,
                "header checksum mismatch (stored 0x%08x, computed 0x%08x)", hcrc, hcalc);
    SEG_CHECK(p, version == SEG_FMT_VERSION_1 || version == SEG_FMT_VERSION_2, SL_EFORMAT,
              SEG_FMT_H_VERSION, "unsupported segment version %u (this build reads %u to %u)",
              version, SEG_FMT_VERSION_1, SEG_FMT_VERSION);
    const uint64_t hdr_len = seg__ld32(b + SEG_FMT_H_HEADER_LEN);
    SEG_CORRUPT(p, hdr_len == SEG_FMT_HDR_LEN, SEG_FMT_H_HEADER_LEN,
                "header length %llu invalid for version %u", (unsigned long long)hdr_len, version);
    uint64_t file_len = seg__ld64(b + SEG_FMT_H_FILE_LEN);
    SEG_CORRUPT(p, file_len >= hdr_len + SEG_FMT_TRAILER_LEN, SEG_FMT_H_FILE_LEN,
                "recorded file length %llu too small", (unsigned long long)file_len);
    SEG_CHECK(p, file_len <= len, SL_ETRUNC, len,
              "truncated: header records %llu bytes, only %llu present",
              (unsigned long long)file_len, (unsigned long long)len);
    SEG_CORRUPT(p, file_len == len, file_len, "%llu unexpected bytes after the recorded end",
                (unsigned long long)(len - file_len));
    const uint64_t data_end = file_len - SEG_FMT_TRAILER_LEN;
    uint32_t crc = seg__ld32(b + data_end), calc = seg_fmt_trailer_crc(b, data_end);
    SEG_CORRUPT(p, crc == calc, data_end, "CRC-32C mismatch (stored 0x%08x, computed 0x%08x)",
                crc, calc);
    r->crc = crc;
    p->end = data_end; /* from here on, structures live before the trailer */

    uint32_t ncols, hflags;
    uint64_t coldir;
    SEG_RD_U64(p, SEG_FMT_H_ROWS, r->rows);
    SEG_RD_U32(p, SEG_FMT_H_NCOLS, ncols);
    SEG_RD_U32(p, SEG_FMT_H_FLAGS, hflags);
    SEG_RD_U64(p, SEG_FMT_H_COLDIR_OFF, coldir);
    SEG_CORRUPT(p, hflags == 0, SEG_FMT_H_FLAGS, "unknown header flags 0x%x", hflags);
    SEG_CORRUPT(p, r->rows <= SEG_FMT_MAX_ROWS, SEG_FMT_H_ROWS, "row count %llu too large",
                (unsigned long long)r->rows);
    SEG_CORRUPT(p, ncols <= SEG_FMT_MAX_COLS, SEG_FMT_H_NCOLS, "column count %u too large", ncols);
    SEG_CORRUPT(p, coldir % SEG_FMT_ALIGN == 0 && coldir >= hdr_len &&
                       seg__in(p, coldir, (uint64_t)ncols * SEG_FMT_COL_LEN),
                SEG_FMT_H_COLDIR_OFF, "column directory at %llu (%u columns) out of bounds",
                (unsigned long long)coldir, ncols);
    r->ncols = ncols;
    r->cols = sl_xcalloc(ncols, sizeof *r->cols);
    if (seg__parse_meta(p, r, hdr_len)) return p->code;
    for (uint32_t i = 0; i < ncols; i++)
        if (seg__parse_col(p, r, i, hdr_len)) return p->code;
    return seg__check_time_range(p, r);
parse_error:
    return p->code;
}

/* ---- open / close / verify ---- */

static seg_reader *seg__open_buf(const uint8_t *buf, size_t len, void *map, int *err,
                                 char *errbuf, size_t errlen)
{
    seg_reader *r = sl_xcalloc(1, sizeof *r);
    r->buf = buf;
    r->len = len;
    seg_parse p = {.buf = buf, .msg = errbuf, .msglen = errlen, .code = 0};
    int rc = seg__parse(&p, r, len);
    if (rc) {
        free(r->cols);
        free(r);
        if (err) *err = rc;
        return NULL;
    }
    r->map = map;
    if (err) *err = 0;
    return r;
}

seg_reader *seg_reader_open_mem(const uint8_t *buf, size_t len, int *err, char *errbuf,
                                size_t errlen)
{
    static const uint8_t empty[1];
    return seg__open_buf(len ? buf : empty, len, NULL, err, errbuf, errlen);
}

seg_reader *seg_reader_open(const char *path, int *err, char *errbuf, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int code;
    if (fd < 0) {
        code = errno == ENOENT || errno == ENOTDIR ? SL_ENOENT : SL_EIO;
        if (errbuf && errlen) snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
        goto fail;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        code = SL_EIO;
        if (errbuf && errlen) snprintf(errbuf, errlen, "%s: not a readable regular file", path);
        close(fd);
        goto fail;
    }
    size_t len = (size_t)st.st_size;
    if (len == 0) {
        close(fd);
        return seg_reader_open_mem(NULL, 0, err, errbuf, errlen); /* reports the truncation */
    }
    void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (map == MAP_FAILED) {
        code = SL_EIO;
        if (errbuf && errlen) snprintf(errbuf, errlen, "%s: mmap: %s", path, strerror(e));
        goto fail;
    }
    seg_reader *r = seg__open_buf(map, len, map, err, errbuf, errlen);
    if (!r) munmap(map, len);
    return r;
fail:
    if (err) *err = code;
    return NULL;
}

void seg_reader_close(seg_reader *r)
{
    if (!r) return;
    if (r->map) munmap(r->map, r->len);
    free(r->cols);
    free(r);
}

int seg_verify_mem(const uint8_t *buf, size_t len, char *msg, size_t msglen)
{
    int err = 0;
    seg_reader *r = seg_reader_open_mem(buf, len, &err, msg, msglen);
    if (!r) return err;
    seg_reader_close(r);
    if (msg && msglen) snprintf(msg, msglen, "ok");
    return 0;
}

int seg_verify_file(const char *path, char *msg, size_t msglen)
{
    int err = 0;
    seg_reader *r = seg_reader_open(path, &err, msg, msglen);
    if (!r) return err;
    seg_reader_close(r);
    if (msg && msglen) snprintf(msg, msglen, "ok");
    return 0;
}

/* ---- accessors ---- */

const char *seg_reader_name(const seg_reader *r) { return r->name; }
const char *seg_reader_table(const seg_reader *r) { return r->table; }
int32_t seg_reader_partition(const seg_reader *r) { return r->partition; }
int64_t seg_reader_sequence(const seg_reader *r) { return r->sequence; }
int64_t seg_reader_start_offset(const seg_reader *r) { return r->start_offset; }
int64_t seg_reader_end_offset(const seg_reader *r) { return r->end_offset; }
uint64_t seg_reader_rows(const seg_reader *r) { return r->rows; }
uint32_t seg_reader_crc(const seg_reader *r) { return r->crc; }
uint64_t seg_reader_size(const seg_reader *r) { return r->len; }
uint32_t seg_reader_ncols(const seg_reader *r) { return r->ncols; }
int32_t seg_reader_time_column(const seg_reader *r) { return r->time_col; }

const uint8_t *seg_reader_bytes(const seg_reader *r, size_t *len)
{
    if (len) *len = r->len;
    return r->buf;
}

const char *seg_reader_schema_json(const seg_reader *r, size_t *len)
{
    if (len) *len = r->schema_len;
    return r->schema_json;
}

bool seg_reader_time_range(const seg_reader *r, int64_t *min, int64_t *max)
{
    if (!r->time_range) return false;
    if (min) *min = r->time_min;
    if (max) *max = r->time_max;
    return true;
}

const seg_col_info *seg_reader_col(const seg_reader *r, uint32_t col)
{
    return col < r->ncols ? &r->cols[col].info : NULL;
}

int seg_reader_find_col(const seg_reader *r, const char *name)
{
    for (uint32_t i = 0; i < r->ncols; i++)
        if (strcmp(r->cols[i].info.name, name) == 0) return (int)i;
    return -1;
}

/* Entry id of a dictionary (validated: id < cardinality). */
static inline void seg__dict_at(const seg_rcol *c, uint32_t id, schema_value *out)
{
    if (c->var) {
        uint32_t a = seg__ld32(c->dict + (uint64_t)id * 4), b = seg__ld32(c->dict + (uint64_t)id * 4 + 4);
        out->u.bytes.ptr = c->bytes + a;
        out->u.bytes.len = b - a;
    } else if (c->width == 4) {
        memcpy(&out->u.i32, c->dict + (uint64_t)id * 4, 4);
    } else {
        memcpy(&out->u.i64, c->dict + (uint64_t)id * 8, 8);
    }
}

/* Value i of the column's flat value array (i < n_values). */
static inline void seg__value_at(const seg_rcol *c, uint64_t i, schema_value *out)
{
    if (c->info.dict) {
        seg__dict_at(c, seg__unpack(c->fwd, i, c->info.bits), out);
    } else if (c->var) {
        uint32_t a = seg__ld32(c->fwd + i * 4), b = seg__ld32(c->fwd + i * 4 + 4);
        out->u.bytes.ptr = c->bytes + a;
        out->u.bytes.len = b - a;
    } else if (c->width == 4) {
        memcpy(&out->u.i32, c->fwd + i * 4, 4);
    } else {
        memcpy(&out->u.i64, c->fwd + i * 8, 8);
    }
}

int seg_reader_value(const seg_reader *r, uint32_t col, uint64_t row, schema_value *out)
{
    if (col >= r->ncols || row >= r->rows || !r->cols[col].info.single_value) return SL_EINVAL;
    seg__value_at(&r->cols[col], row, out);
    return 0;
}

int64_t seg_reader_mv(const seg_reader *r, uint32_t col, uint64_t row, schema_value *out,
                      uint32_t cap)
{
    if (col >= r->ncols || row >= r->rows || r->cols[col].info.single_value) return SL_EINVAL;
    const seg_rcol *c = &r->cols[col];
    uint32_t a = seg__ld32(c->mv + row * 4), b = seg__ld32(c->mv + row * 4 + 4);
    for (uint32_t k = 0; k < b - a && k < cap; k++) seg__value_at(c, (uint64_t)a + k, &out[k]);
    return (int64_t)(b - a);
}

bool seg_reader_is_null(const seg_reader *r, uint32_t col, uint64_t row)
{
    if (col >= r->ncols || row >= r->rows || !r->cols[col].nulls) return false;
    return (seg__ld64(r->cols[col].nulls + (row >> 6) * 8) >> (row & 63)) & 1;
}

int seg_reader_dict_value(const seg_reader *r, uint32_t col, uint32_t id, schema_value *out)
{
    if (col >= r->ncols || !r->cols[col].info.dict || id >= r->cols[col].info.cardinality)
        return SL_EINVAL;
    seg__dict_at(&r->cols[col], id, out);
    return 0;
}

int seg_reader_trailer(const char *path, uint32_t *crc)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return errno == ENOENT ? SL_ENOENT : SL_EIO;
    struct stat st;
    uint8_t b[4];
    int rc = 0;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        rc = SL_EIO;
    else if (st.st_size < 4)
        rc = SL_ECORRUPT;
    else if (pread(fd, b, 4, st.st_size - 4) != 4)
        rc = SL_EIO;
    else
        *crc = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    close(fd);
    return rc;
}
