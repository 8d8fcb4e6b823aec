/* The values a message scanner gives (csvscan, avroscan, pbscan, cplxscan): per wanted field
 * one tagged value (jsonscan_val, the decoders' common currency), and the element storage
 * that LIST values index (v.list.first, v.list.count). rowdec reads every such scanner through
 * this one view; only jsonscan, simdjson's C++ face, keeps its own.
 *
 * A scanvals belongs to its scanner and is used by one thread at a time. */
#ifndef SL_SCANVALS_H
#define SL_SCANVALS_H

#include "common/jsonw.h"
#include "consumer/jsonscan.h"

#include <stdint.h>

typedef struct scanvals {
    jsonscan_val *vals; /* n of them; owned */
    uint32_t n;
    jsonscan_val *elems; /* owned */
    uint32_t nelems, cap;
} scanvals;

/* n values, all ABSENT, and no elements. Free with scanvals_free. */
void scanvals_init(scanvals *v, uint32_t n);
void scanvals_free(scanvals *v);

/* Every value set to kind (JSONSCAN_ABSENT or JSONSCAN_NULL) and no elements: a new message. */
void scanvals_clear(scanvals *v, uint8_t kind);

/* Room for one more element, at the end (v->elems may move: keep indexes, not pointers). */
jsonscan_val *scanvals_push(scanvals *v);

/* A scalar value (null, boolean, number, string, bytes) as JSON inside a nested value's text,
 * as Jackson writes Pinot's Java value: a number its text, a non-finite one as a string, bytes
 * as base64 (a byte[]). */
void scanvals_json_scalar(jsonw *w, const jsonscan_val *v);

/* Value i (ABSENT past the end). */
const jsonscan_val *scanvals_get(const scanvals *v, uint32_t i);

#endif
