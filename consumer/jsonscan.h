/* JSON field scanner: the C face of simdjson's On-Demand API (consumer/jsonscan.cpp is the
 * project's only C++ translation unit).
 *
 * A scanner is built once per schema from the list of wanted top-level field names. For each
 * message it parses the JSON once, walks the top-level object's fields in order, looks every
 * key (after unescaping) up in a small open-addressing hash of the wanted names, and records
 * the value of each wanted field as a tagged jsonscan_val. It does no type coercion: that is
 * rowdec's job.
 *
 * Invariants:
 * - The whole message is validated, including the values of fields nobody asked for, so a
 *   message is either valid JSON (OK / NOT_OBJECT) or rejected (MALFORMED / INVALID_UTF8),
 *   as a full JSON parser (Pinot's Jackson) would decide.
 * - The last occurrence of a duplicate key wins.
 * - Every pointer in a jsonscan_val points into memory owned by the scanner (its padded copy
 *   of the message, or simdjson's string buffer) and stays valid until the next jsonscan_run
 *   on the same scanner. No allocation happens per message once buffers have grown to the
 *   largest message seen.
 * - A scanner is used by one thread at a time. */
#ifndef SL_JSONSCAN_H
#define SL_JSONSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#define JSONSCAN_NOEXCEPT noexcept /* C++ callers: nothing here throws */
#else
#define JSONSCAN_NOEXCEPT
#endif

typedef struct jsonscan jsonscan;

typedef enum jsonscan_status {
    JSONSCAN_OK = 0,
    JSONSCAN_MALFORMED,    /* not valid JSON (syntax, bad escape, trailing content, too deep) */
    JSONSCAN_NOT_OBJECT,   /* valid JSON whose top level is an array or a scalar */
    JSONSCAN_INVALID_UTF8, /* invalid UTF-8 bytes, or a \u escape with a lone surrogate */
} jsonscan_status;

typedef enum jsonscan_kind {
    JSONSCAN_ABSENT = 0, /* the field is not in the message */
    JSONSCAN_NULL,
    JSONSCAN_BOOL,   /* v.b */
    JSONSCAN_INT64,  /* integer literal in int64 range: v.i64 */
    JSONSCAN_UINT64, /* integer literal in [2^63, 2^64): v.u64 */
    JSONSCAN_DOUBLE, /* literal with a fraction or an exponent, within binary64: v.f64 */
    JSONSCAN_BIGNUM, /* well-formed literal outside those ranges (2^64, 1e400): text only */
    JSONSCAN_STRING, /* text/len: the unescaped UTF-8 bytes */
    JSONSCAN_OBJECT, /* text/len: the raw JSON text as written */
    JSONSCAN_ARRAY,  /* text/len: the raw JSON text as written (not a list field, or nested) */
    JSONSCAN_LIST,   /* list field given an array: v.list indexes jsonscan_elems() */
    JSONSCAN_BYTES,  /* text/len: raw bytes (never from JSON: Avro's bytes and fixed) */
} jsonscan_kind;

typedef struct jsonscan_val {
    uint8_t kind;     /* jsonscan_kind */
    bool int_literal; /* numbers: written without fraction or exponent ("12", not "12.0") */
    bool exact;       /* BIGNUM: the text is an exact decimal that a double's range holds (an
                       * Avro decimal), not a number past that range */
    bool nul_free;    /* text cannot hold a NUL byte: it is the message's own bytes (JSON
                       * has no raw NUL), or there is no text; false for a string that was
                       * unescaped (a \u0000 is a NUL) and for any value made elsewhere */
    uint32_t len;     /* bytes at text */
    const char *text; /* numbers: the literal as written; STRING/OBJECT/ARRAY: see kind */
    union {
        bool b;
        int64_t i64;
        uint64_t u64;
        double f64;
        struct {
            uint32_t first; /* index of the first element in jsonscan_elems() */
            uint32_t count; /* elements, in array order (may be 0) */
        } list;
    } v;
} jsonscan_val;

/* Flags per wanted field. */
#define JSONSCAN_F_LIST 0x1u /* a JSON array becomes a LIST of element values (multi-value) */

/* New scanner for n wanted fields. names[i] (lens[i] bytes, need not be NUL-terminated) is
 * copied; flags[i] is a JSONSCAN_F_* mask (flags may be NULL). When a name repeats, the first
 * index wins. Caller frees with jsonscan_free. */
jsonscan *jsonscan_new(const char *const *names, const uint32_t *lens, const uint8_t *flags,
                       uint32_t n) JSONSCAN_NOEXCEPT;

/* Parse msg[0..len) (any len; the scanner copies it into its padded buffer). Returns
 * JSONSCAN_OK when the message is a valid JSON object; then jsonscan_get() gives the values. */
jsonscan_status jsonscan_run(jsonscan *s, const uint8_t *msg, size_t len) JSONSCAN_NOEXCEPT;

/* Value of wanted field i from the last successful run: kind JSONSCAN_ABSENT when the
 * message did not have it. Owned by the scanner, valid until the next run. */
const jsonscan_val *jsonscan_get(const jsonscan *s, uint32_t i) JSONSCAN_NOEXCEPT;

/* Element storage of LIST values: elements of v are jsonscan_elems(s)[v.list.first + k].
 * Elements are never LIST (nested arrays are ARRAY). Owned by the scanner, valid until the
 * next run. */
const jsonscan_val *jsonscan_elems(const jsonscan *s) JSONSCAN_NOEXCEPT;

/* Number of elements stored by the last run (an upper bound of any list's count). */
uint32_t jsonscan_nelems(const jsonscan *s) JSONSCAN_NOEXCEPT;

/* After a failed run: index of the wanted field whose value was malformed, or -1 when the
 * fault is elsewhere (structure, unknown field, bytes before any key). */
int jsonscan_error_index(const jsonscan *s) JSONSCAN_NOEXCEPT;

/* After a failed run: simdjson's static description of the fault ("" after success). */
const char *jsonscan_error_text(const jsonscan *s) JSONSCAN_NOEXCEPT;

/* Writes the simdjson kernels in use into buf (len bytes), e.g. "stage1=icelake walk=fallback":
 * stage 1 (UTF-8 check, structure index) is picked at run time for the CPU, the On-Demand walk
 * at compile time for the build target. For logs and the benchmark. */
void jsonscan_kernel(char *buf, size_t len) JSONSCAN_NOEXCEPT;

void jsonscan_free(jsonscan *s) JSONSCAN_NOEXCEPT;

#ifdef __cplusplus
}
#endif

#endif
