/* The segment format's value order (docs/segment-format.md "Sort order") and the sorts that
 * put dictionaries in it.
 *
 * Fixed-width values map to 64-bit keys whose unsigned order is the value order: integers
 * with the sign bit flipped; floats by the classic sign-flip total order on their bits,
 * rotated so every NaN sorts after +inf:
 *   -inf < ... < -0.0 < +0.0 < ... < +inf < +NaNs (by payload) < -NaNs.
 * The map is a bijection, so equal keys mean identical bits. STRING and BYTES are ordered by
 * unsigned memcmp, a proper prefix first. The builder sorts by these keys (LSD radix sort;
 * an MSD sort on 8-byte big-endian prefixes for byte strings, both linear in practice) and the
 * reader checks files against the same order.
 *
 * @locality: any thread. Pure functions; the sorts work in the caller's buffers and allocate
 * only their digit counts. */
#ifndef SL_SEG_SORT_H
#define SL_SEG_SORT_H

#include "common/schema.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Order key of one fixed-width value of type t from its stored bits (4-byte types in the low
 * 32 bits). Inline: the reader calls it per value. */
static inline uint64_t seg_sort_key(schema_type t, uint64_t bits)
{
    switch (t) {
    case SCHEMA_INT:
    case SCHEMA_BOOLEAN: return (uint32_t)bits ^ 0x80000000u;
    case SCHEMA_FLOAT: {
        uint32_t b = (uint32_t)bits, k = (b >> 31) ? ~b : (b | 0x80000000u);
        return (uint32_t)(k - 0x007FFFFFu);
    }
    case SCHEMA_DOUBLE: {
        uint64_t k = (bits >> 63) ? ~bits : (bits | 0x8000000000000000ull);
        return k - 0x000FFFFFFFFFFFFFull;
    }
    default: return bits ^ 0x8000000000000000ull; /* LONG, TIMESTAMP */
    }
}

/* Key -> value bits as the column directory stores min/max (INT and BOOLEAN sign-extended,
 * FLOAT zero-extended); 0 for a type without keys. */
uint64_t seg_sort_unkey(schema_type t, uint64_t k);

/* Keys of m fixed-width values of type t at src (stored as the column stores them) into
 * out. *prev is the key before the first (0 at the start) and gets the last one. Returns
 * whether the keys ascend (non-strictly) from *prev on. */
bool seg_sort_keys(schema_type t, const void *src, uint32_t m, uint64_t *out, uint64_t *prev);

/* Unsigned memcmp order of two byte strings, a proper prefix first; a NULL pointer is fine
 * with a zero length. */
static inline int seg_sort_bytes_cmp(const uint8_t *a, uint32_t alen, const uint8_t *b,
                                     uint32_t blen)
{
    int c = alen && blen ? memcmp(a, b, alen < blen ? alen : blen) : 0;
    if (c) return c;
    return (alen > blen) - (alen < blen);
}

/* A key and the index of what it belongs to. */
typedef struct seg_sort_pair {
    uint64_t k;
    uint32_t v;
    uint32_t pad;
} seg_sort_pair;

/* Sort a[0..n) by k, stably (equal keys keep their order), using tmp (n entries) as scratch.
 * Returns whichever of a and tmp holds the result. */
seg_sort_pair *seg_sort_pairs(seg_sort_pair *a, seg_sort_pair *tmp, size_t n);

/* Sort the keys a[0..n) ascending, using tmp (n entries); returns whichever of a and tmp
 * holds the result. */
uint64_t *seg_sort_u64(uint64_t *a, uint64_t *tmp, size_t n);

/* A byte string to sort and the index it came from. */
typedef struct seg_sort_str {
    const uint8_t *p;
    uint32_t len;
    uint32_t id;
} seg_sort_str;

/* Sort a[0..n) in place by seg_sort_bytes_cmp; s1, s2 and tmp are scratch of n entries
 * each. Recursion depth stays below log2(n). */
void seg_sort_strs(seg_sort_str *a, size_t n, seg_sort_pair *s1, seg_sort_pair *s2,
                   seg_sort_str *tmp);

#endif
