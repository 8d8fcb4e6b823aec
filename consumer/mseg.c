/* Mutable segment (see mseg.h for the contract).
 *
 * Storage is a set of chunked vectors (mseg__cvec): a directory of chunk pointers, chunks of
 * SEG_CHUNK elements, the layout of segment/seg_src.h so the builder reads it in place.
 * Chunk 0 starts small and doubles up to SEG_CHUNK elements so that a segment with a few
 * rows does not pay for full chunks; a grown chunk 0 (or directory) is copied and the old
 * copy is kept until mseg_free, because a reader may still be reading it.
 *
 * Publication order (the consistent-prefix guarantee): the writer writes every cell of row
 * n, including directory and chunk-pointer updates, then store-releases rows = n + 1.
 * A reader load-acquires rows first and only then loads directory and chunk pointers, so
 * whatever version it sees holds every published element. Null bitmap words are the only
 * cells a reader may read while the writer changes them; they are accessed atomically.
 *
 * Dictionaries map a value to its id with an open-addressing hash table that only the writer
 * touches; ids are dense and in first-seen order (the builder sorts them). */
#include "consumer/mseg.h"
#include "common/sl_err.h"
#include "common/xalloc.h"

#include <jemalloc/jemalloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK0_MIN 256u        /* first capacity of chunk 0, in elements */
#define HEAP_BLOCK_MIN 4096u   /* first value-heap block */
#define HEAP_BLOCK_MAX 262144u /* value-heap blocks stop doubling here */
#define DIR_MIN 8u
#define TAB_HINT_MAX (1u << 24) /* a hinted hash table starts at most this many slots */
#define ARENA_POOL_MAX 256u     /* reset arenas kept for the next segments */

/* Arenas of freed segments, reset (every allocation discarded, the pages kept by jemalloc
 * as dirty until its decay returns them), for the next mseg_new: a segment that follows
 * another writes into warm pages instead of faulting in fresh ones. */
static pthread_mutex_t mseg__pool_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned mseg__pool[ARENA_POOL_MAX];
static unsigned mseg__npool;

typedef struct mseg__cvec {
    void **dir;       /* chunk pointers; swapped whole (release) when it grows */
    uint32_t dir_cap; /* entries in dir */
    uint32_t width;   /* element size in bytes (of the current chunk) */
    uint32_t tag;     /* id vectors: SEG_SRC_ID_* of the current chunk, kept in dir's low bits */
    uint32_t cap0;    /* elements allocated in chunk 0 */
    uint32_t first;   /* capacity chunk 0 starts at (0: CHUNK0_MIN) */
    uint64_t len;     /* elements written (writer's view) */
    uint64_t limit;   /* len may grow to this without allocating */
    uint8_t *cur;     /* chunk holding element len */
} mseg__cvec;

/* Hash table entry. For STRING/BYTES the entry alone decides equality of values up to 8
 * bytes long (prefix + exact length), so the common short dimension values never touch the
 * value heap on a lookup; longer ones compare bytes only after prefix, length and 20 hash
 * bits matched. */
typedef struct mseg__dent {
    uint64_t key; /* fixed types: the value's bits; bytes: first 8 bytes, zero-padded */
    uint32_t id1; /* id + 1; 0 = empty slot */
    uint32_t tag; /* bytes: min(len, 4095) << 20 | 20 bits of the hash; fixed: 0 */
} mseg__dent;

#define MSEG_TAG_LEN_MAX 4095u

typedef struct mseg__col {
    const schema_field *field;
    bool dict;
    bool var;           /* STRING/BYTES */
    uint32_t width;     /* storage width: 4, 8 or sizeof(seg_bytes) */
    mseg__cvec vals;    /* ids (dict) or raw values */
    mseg__cvec mv_end;  /* multi-value: per-row exclusive end */
    mseg__cvec nulls;   /* bitmap words, allocated at the first null */
    bool records_nulls; /* schema_records_nulls: false for a notNull column under
                         * column-based null handling */
    /* dictionary */
    mseg__cvec dvals; /* values by id */
    mseg__dent *tab;  /* writer-only hash table */
    uint32_t tab_mask;
    uint32_t card;
    uint64_t hash; /* mseg_append: this row's value's slot hash, computed ahead (prefetch) */
} mseg__col;

typedef struct mseg__alloc { /* list mode: one allocation's header */
    struct mseg__alloc *next, *prev;
} mseg__alloc;

struct mseg {
    const schema *schema;
    unsigned arena; /* jemalloc arena holding everything below, when `arena_ok` */
    bool arena_ok;  /* false: jemalloc has no arena left (it has at most 4096, and a
                     * sidecar may hold more consuming segments than that), or a
                     * sanitizer build: every allocation is on `allocs` instead */
    mseg__col *cols;
    _Atomic uint64_t rows; /* published row count */
    uint64_t nrows;        /* writer's row count */
    _Atomic size_t mem;    /* bytes allocated */
    uint8_t *heap;         /* value heap: current block */
    size_t heap_left;
    size_t heap_block;
    mseg__alloc *allocs; /* plain malloc (sanitizer builds: so that ASan sees overflows) */
    /* ingestion aggregation (mseg_set_aggregation): per field its mseg_agg, or NULL; the
     * groups' table maps a key's hash to its row (open addressing, at most half full) */
    uint8_t *agg;
    struct mseg__gent *gtab;
    uint32_t gmask;
    uint64_t ngroups;
};

typedef struct mseg__gent {
    uint64_t h;    /* the group key's hash */
    uint32_t row1; /* its row + 1; 0 = empty slot */
} mseg__gent;

static void mseg__group_table(mseg *m, uint32_t cap);

/* ---- allocation ------------------------------------------------------------------ */

static void *mseg__alloc_bytes(mseg *m, size_t n)
{
    void *p;
    if (!m->arena_ok) {
        mseg__alloc *a = sl_xmalloc(sizeof *a + n);
        a->prev = NULL;
        a->next = m->allocs;
        if (m->allocs) m->allocs->prev = a;
        m->allocs = a;
        p = a + 1;
    } else {
        p = mallocx(n ? n : 1, MALLOCX_ARENA(m->arena) | MALLOCX_TCACHE_NONE);
        if (!p) sl_xoom(n);
    }
    atomic_fetch_add_explicit(&m->mem, n, memory_order_relaxed);
    return p;
}

/* Writer-private memory (hash tables) can be returned early; shared memory never is. */
static void mseg__free_private(mseg *m, void *p, size_t n)
{
    atomic_fetch_sub_explicit(&m->mem, n, memory_order_relaxed);
    if (m->arena_ok) {
        dallocx(p, MALLOCX_TCACHE_NONE);
        return;
    }
    mseg__alloc *a = (mseg__alloc *)p - 1; /* list mode: off the list, really freed */
    if (a->prev)
        a->prev->next = a->next;
    else
        m->allocs = a->next;
    if (a->next) a->next->prev = a->prev;
    free(a);
}

/* ---- chunked vectors -------------------------------------------------------------- */

/* first: capacity of chunk 0 when it is first allocated (0: CHUNK0_MIN). */
static void mseg__cvec_init(mseg__cvec *cv, uint32_t width, uint32_t first)
{
    memset(cv, 0, sizeof *cv);
    cv->width = width;
    cv->first = first;
}

/* The chunk-0 capacity for a vector that will hold about as many elements as one of `like`
 * held (0 when there is no such vector: the default). */
static uint32_t mseg__first_cap(const mseg__cvec *like)
{
    if (!like || like->len <= CHUNK0_MIN) return 0;
    uint32_t c = CHUNK0_MIN;
    while (c < SEG_CHUNK && c < like->len)
        c *= 2;
    return c;
}

/* Make room for element cv->len: grow chunk 0, the directory, or add a chunk. */
static void mseg__cvec_grow(mseg *m, mseg__cvec *cv, bool zero)
{
    uint64_t k = cv->len >> SEG_CHUNK_SHIFT;
    if (k >= cv->dir_cap) {
        uint32_t ncap = cv->dir_cap ? cv->dir_cap * 2 : DIR_MIN;
        while (ncap <= k)
            ncap *= 2;
        void **nd = mseg__alloc_bytes(m, (size_t)ncap * sizeof(void *));
        memset(nd, 0, (size_t)ncap * sizeof(void *));
        if (cv->dir_cap) memcpy(nd, cv->dir, (size_t)cv->dir_cap * sizeof(void *));
        __atomic_store_n(&cv->dir, nd, __ATOMIC_RELEASE); /* old directory stays valid */
        cv->dir_cap = ncap;
    }
    uint8_t *chunk;
    if (k == 0) {
        uint32_t ncap0 = cv->cap0 ? cv->cap0 * 2 : cv->first ? cv->first : CHUNK0_MIN;
        if (ncap0 > SEG_CHUNK) ncap0 = SEG_CHUNK;
        chunk = mseg__alloc_bytes(m, (size_t)ncap0 * cv->width);
        if (cv->cap0) memcpy(chunk, cv->cur, (size_t)cv->cap0 * cv->width);
        if (zero)
            memset(chunk + (size_t)cv->cap0 * cv->width, 0, (size_t)(ncap0 - cv->cap0) * cv->width);
        cv->cap0 = ncap0;
        cv->limit = ncap0;
    } else {
        chunk = mseg__alloc_bytes(m, (size_t)SEG_CHUNK * cv->width);
        if (zero) memset(chunk, 0, (size_t)SEG_CHUNK * cv->width);
        cv->limit = (k + 1) << SEG_CHUNK_SHIFT;
    }
    __atomic_store_n(&cv->dir[k], (void *)((uintptr_t)chunk | cv->tag), __ATOMIC_RELEASE);
    cv->cur = chunk;
}

/* Slot for the next element; the caller writes it. */
static inline void *mseg__cvec_push(mseg *m, mseg__cvec *cv)
{
    if (cv->len >= cv->limit) mseg__cvec_grow(m, cv, false);
    void *p = cv->cur + (size_t)(cv->len & SEG_CHUNK_MASK) * cv->width;
    cv->len++;
    return p;
}

/* Element i, for readers (i below the published prefix) and for the writer. Not for id
 * vectors, whose width varies by chunk (mseg__id_at). */
static inline const void *mseg__cvec_at(const mseg__cvec *cv, uint64_t i)
{
    void **dir = __atomic_load_n(&cv->dir, __ATOMIC_ACQUIRE);
    const uint8_t *chunk = __atomic_load_n(&dir[i >> SEG_CHUNK_SHIFT], __ATOMIC_ACQUIRE);
    return chunk + (size_t)(i & SEG_CHUNK_MASK) * cv->width;
}

/* ---- id vectors: dictionary ids 1, 2 or 4 bytes wide, chosen per chunk ---------------
 * A chunk starts at the width the dictionary's size needs and is widened (copied; the old
 * copy stays valid for readers) when a larger id arrives. Low-cardinality columns thus cost
 * one byte per value instead of four. */

static inline uint32_t mseg__tag_width(uint32_t tag)
{
    return tag == SEG_SRC_ID_U8 ? 1 : tag == SEG_SRC_ID_U16 ? 2 : 4;
}

static inline uint32_t mseg__tag_for(uint32_t id)
{
    return id < 256 ? SEG_SRC_ID_U8 : id < 65536 ? SEG_SRC_ID_U16 : SEG_SRC_ID_U32;
}

/* Re-copy the current chunk at the width of tag (wider than the current one). */
static void mseg__ids_widen(mseg *m, mseg__cvec *cv, uint32_t tag)
{
    uint64_t k = cv->len >> SEG_CHUNK_SHIFT; /* the chunk that receives element len */
    uint32_t cap = k ? SEG_CHUNK : cv->cap0, n = (uint32_t)(cv->len - (k << SEG_CHUNK_SHIFT));
    uint32_t w = mseg__tag_width(tag);
    uint8_t *chunk = mseg__alloc_bytes(m, (size_t)cap * w);
    const void *old = (const void *)((uintptr_t)cv->cur | cv->tag);
    for (uint32_t j = 0; j < n; j++) {
        uint32_t id = seg_src_id_in(old, j);
        if (w == 2)
            ((uint16_t *)chunk)[j] = (uint16_t)id;
        else
            ((uint32_t *)chunk)[j] = id;
    }
    cv->tag = tag;
    cv->width = w;
    cv->cur = chunk;
    __atomic_store_n(&cv->dir[k], (void *)((uintptr_t)chunk | tag), __ATOMIC_RELEASE);
}

static inline void mseg__ids_push(mseg *m, mseg__cvec *cv, uint32_t id, uint32_t card)
{
    if (cv->len >= cv->limit) {
        if (cv->len & SEG_CHUNK_MASK || cv->len == 0) {
            mseg__cvec_grow(m, cv, false); /* chunk 0 doubling keeps its width */
        } else { /* a fresh chunk starts at the width the dictionary needs now */
            cv->tag = mseg__tag_for(card ? card - 1 : 0);
            cv->width = mseg__tag_width(cv->tag);
            mseg__cvec_grow(m, cv, false);
        }
    }
    if (mseg__tag_width(mseg__tag_for(id)) > cv->width) mseg__ids_widen(m, cv, mseg__tag_for(id));
    uint8_t *p = cv->cur + (size_t)(cv->len & SEG_CHUNK_MASK) * cv->width;
    if (cv->width == 1)
        *p = (uint8_t)id;
    else if (cv->width == 2)
        memcpy(p, &(uint16_t){(uint16_t)id}, 2);
    else
        memcpy(p, &id, 4);
    cv->len++;
}

static inline uint32_t mseg__id_at(const mseg__cvec *cv, uint64_t i)
{
    void **dir = __atomic_load_n(&cv->dir, __ATOMIC_ACQUIRE);
    const void *chunk = __atomic_load_n(&dir[i >> SEG_CHUNK_SHIFT], __ATOMIC_ACQUIRE);
    return seg_src_id_in(chunk, (uint32_t)(i & SEG_CHUNK_MASK));
}

/* ---- values --------------------------------------------------------------------- */

static inline uint64_t mseg__mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static uint64_t mseg__hash_bytes(const uint8_t *p, uint32_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ n;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ mseg__mix64(w)) * 0x9E3779B97F4A7C15ULL;
        p += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, p, n);
    return mseg__mix64(h ^ w ^ ((uint64_t)n << 56));
}

/* The bits that identify a fixed-width value (its dictionary key). */
static inline uint64_t mseg__fixed_key(schema_type t, const schema_value *v)
{
    switch (t) {
    case SCHEMA_INT:
    case SCHEMA_BOOLEAN:
        return (uint32_t)v->u.i32;
    case SCHEMA_FLOAT: {
        uint32_t b;
        memcpy(&b, &v->u.f32, 4);
        return b;
    }
    case SCHEMA_DOUBLE: {
        uint64_t b;
        memcpy(&b, &v->u.f64, 8);
        return b;
    }
    default:
        return (uint64_t)v->u.i64;
    }
}

static const uint8_t *mseg__heap_copy(mseg *m, const uint8_t *p, uint32_t n)
{
    if (n == 0) return (const uint8_t *)"";
    if (n > m->heap_left) {
        if (n >= HEAP_BLOCK_MAX / 4) { /* large values get their own block */
            uint8_t *own = mseg__alloc_bytes(m, n);
            memcpy(own, p, n);
            return own;
        }
        /* Blocks double towards HEAP_BLOCK_MAX, but a block must also hold the value that
         * asked for it: n < HEAP_BLOCK_MAX / 4 here, so the loop ends below the cap. */
        size_t blk = m->heap_block ? m->heap_block * 2 : HEAP_BLOCK_MIN;
        while (blk < n)
            blk *= 2;
        m->heap_block = blk > HEAP_BLOCK_MAX ? HEAP_BLOCK_MAX : blk;
        m->heap = mseg__alloc_bytes(m, m->heap_block);
        m->heap_left = m->heap_block;
    }
    uint8_t *dst = m->heap;
    memcpy(dst, p, n);
    m->heap += n;
    m->heap_left -= n;
    return dst;
}

static void mseg__store(mseg *m, const mseg__col *c, void *dst, const schema_value *v)
{
    if (c->var) {
        seg_bytes b = {mseg__heap_copy(m, v->u.bytes.ptr, v->u.bytes.len), v->u.bytes.len};
        memcpy(dst, &b, sizeof b);
    } else if (c->width == 4) {
        memcpy(dst, &v->u.i32, 4); /* i32 and f32 share the union's first bytes */
    } else {
        memcpy(dst, &v->u.i64, 8);
    }
}

/* Table slot hash of an entry's value (fixed: its bits; bytes: its contents). */
static inline uint64_t mseg__slot_hash(const mseg__col *c, uint64_t key, const uint8_t *p,
                                       uint32_t n)
{
    return c->var ? mseg__hash_bytes(p, n) : mseg__mix64(key);
}

/* Replace c's hash table by one of ncap slots (a power of two, above 4/3 of the entries). */
static void mseg__tab_resize(mseg *m, mseg__col *c, uint32_t ncap)
{
    mseg__dent *nt = mseg__alloc_bytes(m, (size_t)ncap * sizeof *nt);
    memset(nt, 0, (size_t)ncap * sizeof *nt);
    if (c->tab) {
        for (uint32_t i = 0; i <= c->tab_mask; i++) {
            if (!c->tab[i].id1) continue;
            uint64_t h;
            if (c->var) {
                const seg_bytes *b = mseg__cvec_at(&c->dvals, c->tab[i].id1 - 1);
                h = mseg__slot_hash(c, 0, b->ptr, b->len);
            } else {
                h = mseg__slot_hash(c, c->tab[i].key, NULL, 0);
            }
            uint32_t j = (uint32_t)h & (ncap - 1);
            while (nt[j].id1)
                j = (j + 1) & (ncap - 1);
            nt[j] = c->tab[i];
        }
        mseg__free_private(m, c->tab, (size_t)(c->tab_mask + 1) * sizeof *nt);
    }
    c->tab = nt;
    c->tab_mask = ncap - 1;
}

/* The slot hash of v in c's dictionary. */
static inline uint64_t mseg__value_hash(const mseg__col *c, const schema_value *v)
{
    return c->var ? mseg__hash_bytes(v->u.bytes.ptr, v->u.bytes.len)
                  : mseg__mix64(mseg__fixed_key(c->field->type, v));
}

/* Dictionary id of v, whose slot hash is h, inserting it when new. */
static uint32_t mseg__dict_id(mseg *m, mseg__col *c, const schema_value *v, uint64_t h)
{
    uint64_t key;
    uint32_t tag = 0, len = 0;
    const uint8_t *ptr = NULL;
    if (c->var) {
        ptr = v->u.bytes.ptr;
        len = v->u.bytes.len;
        key = 0;
        memcpy(&key, ptr, len < 8 ? len : 8);
        tag = (len < MSEG_TAG_LEN_MAX ? len : MSEG_TAG_LEN_MAX) << 20 | (uint32_t)(h >> 44);
    } else {
        key = mseg__fixed_key(c->field->type, v);
    }
    uint32_t j = (uint32_t)h & c->tab_mask;
    for (;; j = (j + 1) & c->tab_mask) {
        mseg__dent *e = &c->tab[j];
        if (!e->id1) break;
        if (e->key != key || e->tag != tag) continue;
        if (len <= 8) return e->id1 - 1; /* fixed types, or bytes decided by the entry */
        const seg_bytes *b = mseg__cvec_at(&c->dvals, e->id1 - 1);
        if (b->len == len && memcmp(b->ptr, ptr, len) == 0) return e->id1 - 1;
    }
    uint32_t id = c->card++;
    mseg__store(m, c, mseg__cvec_push(m, &c->dvals), v);
    c->tab[j].key = key;
    c->tab[j].tag = tag;
    c->tab[j].id1 = id + 1;
    /* at most 3/4 full: half-full tables were most of a small segment's memory (the user
     * column of a 25 k-row events segment: 1 MiB, 42 B a row) */
    if ((uint64_t)c->card * 4 > (uint64_t)(c->tab_mask + 1) * 3)
        mseg__tab_resize(m, c, (c->tab_mask + 1) * 2);
    return id;
}

/* Append v to c; h is its slot hash when c has a dictionary. */
static inline void mseg__put(mseg *m, mseg__col *c, const schema_value *v, uint64_t h)
{
    if (c->dict) {
        uint32_t id = mseg__dict_id(m, c, v, h);
        mseg__ids_push(m, &c->vals, id, c->card);
    } else {
        mseg__store(m, c, mseg__cvec_push(m, &c->vals), v);
    }
}

static void mseg__set_null(mseg *m, mseg__col *c, uint64_t row)
{
    uint64_t word = row >> 6;
    while (c->nulls.len <= word) {
        if (c->nulls.len >= c->nulls.limit) mseg__cvec_grow(m, &c->nulls, true);
        __atomic_store_n(&c->nulls.len, c->nulls.len + 1, __ATOMIC_RELEASE); /* zeroed */
    }
    _Atomic uint64_t *w = (_Atomic uint64_t *)mseg__cvec_at(&c->nulls, word);
    atomic_fetch_or_explicit(w, (uint64_t)1 << (row & 63), memory_order_relaxed);
}

/* ---- public ---------------------------------------------------------------------- */

#ifndef SLUICE_SANITIZE /* sanitizer builds list their allocations instead */
static bool mseg__arena_take(unsigned *a)
{
    pthread_mutex_lock(&mseg__pool_mu);
    bool pooled = mseg__npool > 0;
    if (pooled) *a = mseg__pool[--mseg__npool];
    pthread_mutex_unlock(&mseg__pool_mu);
    size_t sz = sizeof *a;
    return pooled || mallctl("arenas.create", a, &sz, NULL, 0) == 0;
}
#endif

/* Discard everything in arena a and keep it for the next segment (or destroy it when the
 * pool is full). No thread cache holds its memory: every call passes MALLOCX_TCACHE_NONE. */
static void mseg__arena_give(unsigned a)
{
    char name[64];
    snprintf(name, sizeof name, "arena.%u.reset", a);
    bool kept = false;
    if (mallctl(name, NULL, NULL, NULL, 0) == 0) {
        pthread_mutex_lock(&mseg__pool_mu);
        if (mseg__npool < ARENA_POOL_MAX) {
            mseg__pool[mseg__npool++] = a;
            kept = true;
        }
        pthread_mutex_unlock(&mseg__pool_mu);
    }
    if (kept) return;
    snprintf(name, sizeof name, "arena.%u.destroy", a);
    mallctl(name, NULL, NULL, NULL, 0);
}

/* A segment whose dictionary choices are no_dictionary's, or like's when like is given;
 * sized from like (see mseg_new_like). */
static mseg *mseg__new(const schema *s, const bool *no_dictionary, const mseg *like)
{
    mseg *m = sl_xcalloc(1, sizeof *m);
    m->schema = s;
#ifndef SLUICE_SANITIZE
    m->arena_ok = mseg__arena_take(&m->arena);
#endif
    if (like && like->heap_block >= 2 * HEAP_BLOCK_MIN) m->heap_block = like->heap_block / 2;
    m->cols = mseg__alloc_bytes(m, (size_t)s->nfields * sizeof *m->cols);
    for (uint32_t i = 0; i < s->nfields; i++) {
        mseg__col *c = &m->cols[i];
        const mseg__col *lc = like ? &like->cols[i] : NULL;
        memset(c, 0, sizeof *c);
        c->field = &s->fields[i];
        c->dict = lc ? lc->dict : !(no_dictionary && no_dictionary[i]);
        c->records_nulls = schema_records_nulls(s, i);
        c->var = schema_type_is_var(c->field->type);
        c->width = c->var ? (uint32_t)sizeof(seg_bytes) : schema_type_width(c->field->type);
        mseg__cvec_init(&c->vals, c->dict ? 1 : c->width, mseg__first_cap(lc ? &lc->vals : NULL));
        mseg__cvec_init(&c->mv_end, 4, mseg__first_cap(lc ? &lc->mv_end : NULL));
        mseg__cvec_init(&c->nulls, 8, 0);
        mseg__cvec_init(&c->dvals, c->width, mseg__first_cap(lc ? &lc->dvals : NULL));
        if (!c->dict) continue;
        /* ids start as wide as the last segment's dictionary needed (no re-copy), and the
         * hash table as large as it grew (no re-hash) */
        c->vals.tag = mseg__tag_for(lc && lc->card ? lc->card - 1 : 0);
        c->vals.width = mseg__tag_width(c->vals.tag);
        uint32_t slots = lc ? lc->tab_mask + 1 : 64;
        mseg__tab_resize(m, c, slots < TAB_HINT_MAX ? slots : TAB_HINT_MAX);
    }
    return m;
}

mseg *mseg_new(const schema *s, const bool *no_dictionary)
{
    return mseg__new(s, no_dictionary, NULL);
}

mseg *mseg_new_like(const mseg *like)
{
    mseg *m = mseg__new(like->schema, NULL, like);
    if (like->agg) {
        mseg_set_aggregation(m, like->agg); /* valid: like took the same ops */
        if (like->gmask > m->gmask) mseg__group_table(m, like->gmask + 1);
    }
    return m;
}

static void mseg__read_cell(const mseg__col *c, uint64_t v, schema_value *out)
{
    const void *p =
        c->dict ? mseg__cvec_at(&c->dvals, mseg__id_at(&c->vals, v)) : mseg__cvec_at(&c->vals, v);
    if (c->var) {
        const seg_bytes *b = p;
        out->u.bytes.ptr = b->ptr;
        out->u.bytes.len = b->len;
    } else if (c->width == 4) {
        memcpy(&out->u.i32, p, 4);
    } else {
        memcpy(&out->u.i64, p, 8);
    }
}

/* ---- ingestion aggregation ------------------------------------------------------------ */

static bool mseg__null_at(const mseg__col *c, uint64_t row)
{
    uint64_t word = row >> 6;
    if (word >= __atomic_load_n(&c->nulls.len, __ATOMIC_ACQUIRE)) return false;
    const _Atomic uint64_t *w = (const _Atomic uint64_t *)mseg__cvec_at(&c->nulls, word);
    return (atomic_load_explicit(w, memory_order_relaxed) >> (row & 63)) & 1;
}

/* The hash of r's group key (every column that is not aggregated). */
static uint64_t mseg__group_hash(const mseg *m, const row *r)
{
    uint64_t h = 0x243F6A8885A308D3ULL;
    for (uint32_t i = 0; i < m->schema->nfields; i++) {
        if (m->agg[i]) continue;
        const mseg__col *c = &m->cols[i];
        const row_col *rc = &r->cols[i];
        uint64_t vh =
            rc->is_null && c->records_nulls ? 0x5BD1E9955BD1E995ULL : mseg__value_hash(c, &rc->v);
        h = mseg__mix64(h ^ vh) + i;
    }
    return h;
}

/* Whether row `at` has r's values in every key column. */
static bool mseg__group_eq(const mseg *m, uint64_t at, const row *r)
{
    for (uint32_t i = 0; i < m->schema->nfields; i++) {
        if (m->agg[i]) continue;
        const mseg__col *c = &m->cols[i];
        const row_col *rc = &r->cols[i];
        if (c->records_nulls && mseg__null_at(c, at) != rc->is_null) return false;
        schema_value v;
        mseg__read_cell(c, at, &v);
        if (c->var) {
            if (v.u.bytes.len != rc->v.u.bytes.len ||
                (v.u.bytes.len && memcmp(v.u.bytes.ptr, rc->v.u.bytes.ptr, v.u.bytes.len)))
                return false;
        } else if (mseg__fixed_key(c->field->type, &v) != mseg__fixed_key(c->field->type, &rc->v)) {
            return false;
        }
    }
    return true;
}

/* Combine r's metrics into row `at` (raw fixed-width cells, written in place). */
static void mseg__group_update(mseg *m, uint64_t at, const row *r)
{
    for (uint32_t i = 0; i < m->schema->nfields; i++) {
        mseg_agg op = (mseg_agg)m->agg[i];
        if (!op) continue;
        mseg__col *c = &m->cols[i];
        uint8_t *p = (uint8_t *)mseg__cvec_at(&c->vals, at);
        const schema_value *v = &r->cols[i].v;
        /* a (the row's), b (the message's): SUM, MIN or MAX of the two, written back */
#define MSEG__COMBINE(T, B, SUM)                                                                   \
    do {                                                                                           \
        T a, b = (B), x;                                                                           \
        memcpy(&a, p, sizeof a);                                                                   \
        x = op == MSEG_AGG_SUM ? (SUM) : op == MSEG_AGG_MIN ? (b < a ? b : a) : (b > a ? b : a);   \
        memcpy(p, &x, sizeof x);                                                                   \
    } while (0)
        switch (c->field->type) {
        case SCHEMA_INT: /* integer sums wrap, as Java's do */
            MSEG__COMBINE(int32_t, v->u.i32, (int32_t)((uint32_t)a + (uint32_t)b));
            break;
        case SCHEMA_FLOAT:
            MSEG__COMBINE(float, v->u.f32, a + b);
            break;
        case SCHEMA_DOUBLE:
            MSEG__COMBINE(double, v->u.f64, a + b);
            break;
        default: /* LONG, TIMESTAMP */
            MSEG__COMBINE(int64_t, v->u.i64, (int64_t)((uint64_t)a + (uint64_t)b));
            break;
        }
#undef MSEG__COMBINE
    }
}

static void mseg__group_table(mseg *m, uint32_t cap)
{
    mseg__gent *nt = mseg__alloc_bytes(m, (size_t)cap * sizeof *nt);
    memset(nt, 0, (size_t)cap * sizeof *nt);
    for (uint32_t i = 0; m->gtab && i <= m->gmask; i++) {
        if (!m->gtab[i].row1) continue;
        uint32_t j = (uint32_t)m->gtab[i].h & (cap - 1);
        while (nt[j].row1)
            j = (j + 1) & (cap - 1);
        nt[j] = m->gtab[i];
    }
    if (m->gtab) mseg__free_private(m, m->gtab, (size_t)(m->gmask + 1) * sizeof *nt);
    m->gtab = nt;
    m->gmask = cap - 1;
}

int mseg_set_aggregation(mseg *m, const uint8_t *ops)
{
    const schema *s = m->schema;
    if (m->nrows || m->agg) return SL_ESTATE;
    for (uint32_t i = 0; i < s->nfields; i++) {
        const mseg__col *c = &m->cols[i];
        if (!c->field->single_value) return SL_EINVAL;
        if (ops[i] > MSEG_AGG_MAX) return SL_EINVAL;
        if (ops[i] && (c->dict || c->var || c->field->type == SCHEMA_BOOLEAN)) return SL_EINVAL;
    }
    m->agg = mseg__alloc_bytes(m, s->nfields ? s->nfields : 1);
    memcpy(m->agg, ops, s->nfields);
    for (uint32_t i = 0; i < s->nfields; i++)
        if (ops[i]) m->cols[i].records_nulls = false; /* a metric is never null */
    mseg__group_table(m, 1024);
    return 0;
}

int mseg_append(mseg *m, const row *r)
{
    const uint32_t n = m->schema->nfields;
    if (m->nrows >= MSEG_MAX_ROWS) return SL_ELIMIT;
    for (uint32_t i = 0; i < n; i++) {
        const mseg__col *c = &m->cols[i];
        if (!c->field->single_value && c->vals.len + r->cols[i].nvals > UINT32_MAX)
            return SL_ELIMIT;
    }
    uint64_t gh = 0;
    if (m->agg) { /* a row of a known group is merged into it */
        gh = mseg__group_hash(m, r);
        for (uint32_t j = (uint32_t)gh & m->gmask; m->gtab[j].row1; j = (j + 1) & m->gmask)
            if (m->gtab[j].h == gh && mseg__group_eq(m, m->gtab[j].row1 - 1, r)) {
                mseg__group_update(m, m->gtab[j].row1 - 1, r);
                return 0;
            }
    }
    /* every single-value dictionary's slot is fetched before any is probed: a row's lookups
     * in large tables are cache misses, and this overlaps them instead of taking them one by
     * one (the inserts, and so the ids, are the same) */
    for (uint32_t i = 0; i < n; i++) {
        mseg__col *c = &m->cols[i];
        if (!c->dict || !c->field->single_value) continue;
        c->hash = mseg__value_hash(c, &r->cols[i].v);
        __builtin_prefetch(&c->tab[(uint32_t)c->hash & c->tab_mask]);
    }
    for (uint32_t i = 0; i < n; i++) {
        mseg__col *c = &m->cols[i];
        const row_col *rc = &r->cols[i];
        if (c->field->single_value) {
            mseg__put(m, c, &rc->v, c->hash);
        } else {
            for (uint32_t j = 0; j < rc->nvals; j++)
                mseg__put(m, c, &rc->mv[j], c->dict ? mseg__value_hash(c, &rc->mv[j]) : 0);
            *(uint32_t *)mseg__cvec_push(m, &c->mv_end) = (uint32_t)c->vals.len;
        }
        if (rc->is_null && c->records_nulls) mseg__set_null(m, c, m->nrows);
    }
    if (m->agg) {
        uint32_t j = (uint32_t)gh & m->gmask;
        while (m->gtab[j].row1)
            j = (j + 1) & m->gmask;
        m->gtab[j] = (mseg__gent){gh, (uint32_t)m->nrows + 1};
        if (++m->ngroups * 2 > (uint64_t)m->gmask + 1) mseg__group_table(m, (m->gmask + 1) * 2);
    }
    m->nrows++;
    atomic_store_explicit(&m->rows, m->nrows, memory_order_release);
    return 0;
}

uint64_t mseg_rows(const mseg *m)
{
    return atomic_load_explicit(&m->rows, memory_order_acquire);
}

size_t mseg_memory_bytes(const mseg *m)
{
    return atomic_load_explicit(&m->mem, memory_order_relaxed);
}

void mseg_src(const mseg *m, seg_src *src, seg_src_col *cols)
{
    src->schema = m->schema;
    src->time_column = NULL;
    src->rows = m->nrows;
    src->cols = cols;
    for (uint32_t i = 0; i < m->schema->nfields; i++) {
        const mseg__col *c = &m->cols[i];
        seg_src_col *o = &cols[i];
        memset(o, 0, sizeof *o);
        o->field = c->field;
        o->dict = c->dict;
        o->cardinality = c->card;
        o->dict_chunks = (const void *const *)c->dvals.dir;
        o->val_chunks = (const void *const *)c->vals.dir;
        o->mv_end_chunks = c->field->single_value ? NULL : (const uint32_t *const *)c->mv_end.dir;
        o->null_chunks = c->nulls.len ? (const uint64_t *const *)c->nulls.dir : NULL;
        o->n_values = c->vals.len;
    }
}

int mseg_build_file(const mseg *m, const char *time_column, const seg_meta_in *meta,
                    const char *path, uint32_t *crc, uint64_t *size, char *err, size_t errlen)
{
    seg_src src;
    seg_src_col *cols = sl_xcalloc(m->schema->nfields ? m->schema->nfields : 1, sizeof *cols);
    mseg_src(m, &src, cols);
    src.time_column = time_column;
    int rc = seg_build_file(&src, meta, path, crc, size, err, errlen);
    free(cols);
    return rc;
}

void mseg_read_value(const mseg *m, uint32_t col, uint64_t row, schema_value *out)
{
    mseg__read_cell(&m->cols[col], row, out);
}

uint32_t mseg_read_mv(const mseg *m, uint32_t col, uint64_t row, schema_value *out, uint32_t cap)
{
    const mseg__col *c = &m->cols[col];
    uint32_t end = *(const uint32_t *)mseg__cvec_at(&c->mv_end, row);
    uint32_t begin = row ? *(const uint32_t *)mseg__cvec_at(&c->mv_end, row - 1) : 0;
    for (uint32_t j = 0; j < end - begin && j < cap; j++)
        mseg__read_cell(c, begin + j, &out[j]);
    return end - begin;
}

bool mseg_read_is_null(const mseg *m, uint32_t col, uint64_t row)
{
    const mseg__col *c = &m->cols[col];
    /* nulls.len may be read while the writer grows it; words beyond a published row's
     * word were zero when that row was published, so a stale length is harmless. */
    uint64_t words = __atomic_load_n(&c->nulls.len, __ATOMIC_ACQUIRE);
    if ((row >> 6) >= words) return false;
    const _Atomic uint64_t *w = mseg__cvec_at(&c->nulls, row >> 6);
    return (atomic_load_explicit(w, memory_order_relaxed) >> (row & 63)) & 1;
}

void mseg_free(mseg *m)
{
    if (!m) return;
    for (mseg__alloc *a = m->allocs, *next; a; a = next) {
        next = a->next;
        free(a);
    }
    if (m->arena_ok) mseg__arena_give(m->arena);
    free(m);
}
