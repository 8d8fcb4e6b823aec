/* Value order keys and radix sorts of the segment builder (see seg_sort.h). */
#include "segment/seg_sort.h"

#include "common/xalloc.h"

#include <stdlib.h>

/* ---- order-preserving keys ---- */

/* Keys of m values of the constant type T (element type E) from src: one loop per type, so
 * the switch in seg_sort_key folds away. */
#define SEG_SORT__KEYS(T, E)                                                                       \
    do {                                                                                           \
        const E *v = src;                                                                          \
        for (uint32_t i = 0; i < m; i++) {                                                         \
            uint64_t k = seg_sort_key((T), v[i]);                                                  \
            asc &= k >= p;                                                                         \
            out[i] = p = k;                                                                        \
        }                                                                                          \
    } while (0)

bool seg_sort_keys(schema_type t, const void *src, uint32_t m, uint64_t *out, uint64_t *prev)
{
    uint64_t p = *prev;
    bool asc = true;
    switch (t) {
    case SCHEMA_INT:
    case SCHEMA_BOOLEAN: SEG_SORT__KEYS(SCHEMA_INT, uint32_t); break;
    case SCHEMA_LONG:
    case SCHEMA_TIMESTAMP: SEG_SORT__KEYS(SCHEMA_LONG, uint64_t); break;
    case SCHEMA_FLOAT: SEG_SORT__KEYS(SCHEMA_FLOAT, uint32_t); break;
    case SCHEMA_DOUBLE: SEG_SORT__KEYS(SCHEMA_DOUBLE, uint64_t); break;
    default: break;
    }
    *prev = p;
    return asc;
}

uint64_t seg_sort_unkey(schema_type t, uint64_t k)
{
    switch (t) {
    case SCHEMA_INT:
    case SCHEMA_BOOLEAN: return (uint64_t)(int64_t)(int32_t)(uint32_t)(k ^ 0x80000000u);
    case SCHEMA_LONG:
    case SCHEMA_TIMESTAMP: return k ^ 0x8000000000000000ull;
    case SCHEMA_FLOAT: {
        uint32_t b = (uint32_t)k + 0x007FFFFFu;
        return (b >> 31) ? (b & 0x7FFFFFFFu) : ~b;
    }
    case SCHEMA_DOUBLE: {
        uint64_t b = k + 0x000FFFFFFFFFFFFFull;
        return (b >> 63) ? (b & 0x7FFFFFFFFFFFFFFFull) : ~b;
    }
    default: return 0;
    }
}

/* ---- radix sorts (LSD, 8-bit digits, digits equal across all keys are skipped) ---- */

static void seg_sort__isort_pairs(seg_sort_pair *a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        seg_sort_pair x = a[i];
        size_t j = i;
        while (j > 0 && (a[j - 1].k > x.k || (a[j - 1].k == x.k && a[j - 1].v > x.v))) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = x;
    }
}

seg_sort_pair *seg_sort_pairs(seg_sort_pair *a, seg_sort_pair *tmp, size_t n)
{
    if (n <= 48) {
        seg_sort__isort_pairs(a, n);
        return a;
    }
    size_t(*cnt)[256] = sl_xcalloc(8, sizeof *cnt);
    for (size_t i = 0; i < n; i++) {
        uint64_t k = a[i].k;
        for (int d = 0; d < 8; d++) cnt[d][(k >> (8 * d)) & 0xFF]++;
    }
    seg_sort_pair *src = a, *dst = tmp;
    for (int d = 0; d < 8; d++) {
        unsigned sh = 8u * (unsigned)d;
        if (cnt[d][(src[0].k >> sh) & 0xFF] == n) continue;
        size_t sum = 0;
        for (int b = 0; b < 256; b++) {
            size_t c = cnt[d][b];
            cnt[d][b] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) dst[cnt[d][(src[i].k >> sh) & 0xFF]++] = src[i];
        seg_sort_pair *t = src;
        src = dst;
        dst = t;
    }
    free(cnt);
    return src;
}

uint64_t *seg_sort_u64(uint64_t *a, uint64_t *tmp, size_t n)
{
    size_t(*cnt)[256] = sl_xcalloc(8, sizeof *cnt);
    for (size_t i = 0; i < n; i++) {
        uint64_t k = a[i];
        for (int d = 0; d < 8; d++) cnt[d][(k >> (8 * d)) & 0xFF]++;
    }
    uint64_t *src = a, *dst = tmp;
    for (int d = 0; d < 8 && n > 0; d++) {
        unsigned sh = 8u * (unsigned)d;
        if (cnt[d][(src[0] >> sh) & 0xFF] == n) continue;
        size_t sum = 0;
        for (int b = 0; b < 256; b++) {
            size_t c = cnt[d][b];
            cnt[d][b] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) dst[cnt[d][(src[i] >> sh) & 0xFF]++] = src[i];
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    free(cnt);
    return src;
}

/* ---- byte-string sort: unsigned memcmp order, a proper prefix first ---- */

/* Big-endian 8 bytes of s from depth, zero padded: unsigned order of keys = memcmp order. */
static inline uint64_t seg_sort__str_key(const seg_sort_str *s, uint32_t depth)
{
    uint64_t w = 0;
    if (s->len >= depth + 8) {
        memcpy(&w, s->p + depth, 8);
    } else if (s->len > depth) {
        memcpy(&w, s->p + depth, s->len - depth);
    }
    return __builtin_bswap64(w);
}

static void seg_sort__isort_str(seg_sort_str *a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        seg_sort_str x = a[i];
        size_t j = i;
        while (j > 0 && seg_sort_bytes_cmp(a[j - 1].p, a[j - 1].len, x.p, x.len) > 0) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = x;
    }
}

/* Sorts a[0..n), whose first `depth` bytes are all equal. Within a run of equal 8-byte keys,
 * strings that end inside the key are prefixes of the others and go first (ordered by
 * length); the rest continue at depth + 8. Every run but the largest is sorted recursively
 * and the largest by looping, so recursion depth stays below log2(n). */
static void seg_sort__strs(seg_sort_str *a, size_t n, uint32_t depth, seg_sort_pair *s1,
                           seg_sort_pair *s2, seg_sort_str *tmp)
{
    for (;;) {
        if (n <= 24) {
            seg_sort__isort_str(a, n);
            return;
        }
        for (size_t i = 0; i < n; i++) {
            s1[i].k = seg_sort__str_key(&a[i], depth);
            s1[i].v = (uint32_t)i;
        }
        seg_sort_pair *s = seg_sort_pairs(s1, s2, n);
        for (size_t i = 0; i < n; i++) tmp[i] = a[s[i].v];
        memcpy(a, tmp, n * sizeof *a);
        /* s[] keeps the sorted keys; children only touch scratch at their own offsets. */
        size_t big_lo = 0, big_n = 0;
        size_t i = 0;
        while (i < n) {
            size_t j = i + 1;
            while (j < n && s[j].k == s[i].k) j++;
            if (j - i > 1) {
                /* stable partition of the run: finished strings first */
                size_t nf = 0, k = 0;
                for (size_t x = i; x < j; x++)
                    if (a[x].len <= depth + 8) tmp[nf++] = a[x];
                k = nf;
                for (size_t x = i; x < j; x++)
                    if (a[x].len > depth + 8) tmp[k++] = a[x];
                size_t nu = k - nf;
                memcpy(a + i, tmp, (j - i) * sizeof *a);
                seg_sort__isort_str(a + i, nf); /* equal content: ordered by length */
                if (nu > 1) {
                    if (nu > big_n) {
                        if (big_n > 1)
                            seg_sort__strs(a + big_lo, big_n, depth + 8, s1 + big_lo, s2 + big_lo,
                                           tmp + big_lo);
                        big_lo = i + nf;
                        big_n = nu;
                    } else {
                        seg_sort__strs(a + i + nf, nu, depth + 8, s1 + i + nf, s2 + i + nf,
                                       tmp + i + nf);
                    }
                }
            }
            i = j;
        }
        if (big_n <= 1) return;
        a += big_lo;
        s1 += big_lo;
        s2 += big_lo;
        tmp += big_lo;
        n = big_n;
        depth += 8;
    }
}

void seg_sort_strs(seg_sort_str *a, size_t n, seg_sort_pair *s1, seg_sort_pair *s2,
                   seg_sort_str *tmp)
{
    seg_sort__strs(a, n, 0, s1, s2, tmp);
}
