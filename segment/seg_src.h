/* The columnar input of a segment build: a read-only view of chunked column arrays.
 *
 * The mutable segment (consumer/) exposes its columns through this view and the builder
 * (segment/) consumes it, so neither knows the other's internals. Every array is split in
 * chunks of SEG_CHUNK elements; element i lives at chunks[i >> SEG_CHUNK_SHIFT]
 * [i & SEG_CHUNK_MASK]. Chunks never move once written, which is what lets a reader on
 * another thread see a consistent prefix while the writer appends.
 *
 * Element types by column kind (T = the column's storage type from schema_type: int32_t for
 * INT/BOOLEAN, int64_t for LONG/TIMESTAMP, float, double, seg_bytes for STRING/BYTES):
 *   dictionary column: dict_chunks[id] is a T (unsorted: ids are in first-seen order),
 *                      val_chunks[v] is an id stored 4, 1 or 2 bytes wide, chosen per chunk:
 *                      the low 2 bits of the chunk pointer say which (SEG_SRC_ID_* tags;
 *                      0 = uint32_t, so a plain aligned uint32_t array is a valid chunk),
 *                      the pointer with those bits cleared is the chunk;
 *   raw column:        val_chunks[v] is a T.
 *   single-value:      value v belongs to row v (n_values == rows).
 *   multi-value:       row r owns values [mv_end(r-1), mv_end(r)), mv_end(-1) = 0.
 *   nulls:             bit (r & 63) of null_chunks word (r >> 6) set = row r was null or
 *                      missing in the input (its stored value is the default null value). */
#ifndef SL_SEG_SRC_H
#define SL_SEG_SRC_H

#include "common/schema.h"

#include <stdbool.h>
#include <stdint.h>

/* 4096 elements: a vector's last chunk is its only slack, so small segments stay small (at
 * 16384, a 25 k-row segment held 31 % empty room in every column). In memory only: the file
 * format does not depend on it. */
#define SEG_CHUNK_SHIFT 12
#define SEG_CHUNK ((uint32_t)1 << SEG_CHUNK_SHIFT)
#define SEG_CHUNK_MASK (SEG_CHUNK - 1)
/* null bitmap: one uint64 word per 64 rows, SEG_CHUNK words per chunk */

typedef struct seg_bytes {
    const uint8_t *ptr;
    uint32_t len;
} seg_bytes;

typedef struct seg_src_col {
    const schema_field *field;
    bool dict;                            /* dictionary-encoded in the source */
    uint32_t cardinality;                 /* dict: number of ids */
    const void *const *dict_chunks;       /* dict: values by id */
    const void *const *val_chunks;        /* per value: uint32 id or raw T */
    const uint32_t *const *mv_end_chunks; /* multi-value only: per row, exclusive end index */
    const uint64_t *const *null_chunks;   /* null bitmap words, or NULL when no row is null */
    uint64_t n_values;                    /* total values (== rows for single-value) */
} seg_src_col;

/* Segment identity, stored in the metadata section. Strings borrowed for the build. */
typedef struct seg_meta_in {
    const char *name;     /* segment name */
    const char *table;    /* table name */
    int32_t partition;    /* -1 when not from a stream partition */
    int64_t sequence;     /* -1 when not a realtime segment */
    int64_t start_offset; /* -1 when not from a stream */
    int64_t end_offset;   /* exclusive; -1 when not from a stream */
} seg_meta_in;

typedef struct seg_src {
    const schema *schema;    /* columns in schema field order */
    const char *time_column; /* or NULL */
    uint64_t rows;
    const seg_src_col *cols; /* schema->nfields entries */
} seg_src;

#define SEG_SRC_AT(chunks, T, i) (((const T *)(chunks)[(i) >> SEG_CHUNK_SHIFT])[(i)&SEG_CHUNK_MASK])

/* Id width tags of dictionary val_chunks (low 2 bits of each chunk pointer). */
#define SEG_SRC_ID_U32 0u
#define SEG_SRC_ID_U8 1u
#define SEG_SRC_ID_U16 2u
#define SEG_SRC_ID_TAG_MASK ((uintptr_t)3u)

static inline unsigned seg_src_id_tag(const void *chunk)
{
    return (unsigned)((uintptr_t)chunk & SEG_SRC_ID_TAG_MASK);
}

static inline const void *seg_src_id_base(const void *chunk)
{
    return (const void *)((uintptr_t)chunk & ~SEG_SRC_ID_TAG_MASK);
}

/* Id at position j of one tagged chunk. */
static inline uint32_t seg_src_id_in(const void *chunk, uint32_t j)
{
    const void *b = seg_src_id_base(chunk);
    switch (seg_src_id_tag(chunk)) {
    case SEG_SRC_ID_U8:
        return ((const uint8_t *)b)[j];
    case SEG_SRC_ID_U16:
        return ((const uint16_t *)b)[j];
    default:
        return ((const uint32_t *)b)[j];
    }
}

/* Widen chunk's first n ids into out (n <= SEG_CHUNK); returns out, or the chunk itself when
 * it already holds uint32_t ids (no copy). */
static inline const uint32_t *seg_src_ids(const void *chunk, uint32_t n, uint32_t *out)
{
    const void *b = seg_src_id_base(chunk);
    switch (seg_src_id_tag(chunk)) {
    case SEG_SRC_ID_U8:
        for (uint32_t j = 0; j < n; j++)
            out[j] = ((const uint8_t *)b)[j];
        return out;
    case SEG_SRC_ID_U16:
        for (uint32_t j = 0; j < n; j++)
            out[j] = ((const uint16_t *)b)[j];
        return out;
    default:
        return (const uint32_t *)b;
    }
}

#endif
