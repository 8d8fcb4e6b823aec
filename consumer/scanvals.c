/* A message scanner's values (consumer/scanvals.h). */
#include "consumer/scanvals.h"

#include "common/xalloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void scanvals_init(scanvals *v, uint32_t n)
{
    memset(v, 0, sizeof *v);
    v->n = n;
    v->vals = sl_xcalloc(n ? n : 1, sizeof *v->vals); /* zero: JSONSCAN_ABSENT */
}

void scanvals_free(scanvals *v)
{
    free(v->vals);
    free(v->elems);
    memset(v, 0, sizeof *v);
}

void scanvals_clear(scanvals *v, uint8_t kind)
{
    for (uint32_t i = 0; i < v->n; i++)
        v->vals[i] = (jsonscan_val){.kind = kind};
    v->nelems = 0;
}

jsonscan_val *scanvals_push(scanvals *v)
{
    if (v->nelems == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 64;
        v->elems = sl_xrealloc(v->elems, v->cap * sizeof *v->elems);
    }
    return &v->elems[v->nelems++];
}

void scanvals_json_scalar(jsonw *w, const jsonscan_val *v)
{
    switch (v->kind) {
    case JSONSCAN_NULL:
    case JSONSCAN_ABSENT:
        jsonw_null(w);
        break;
    case JSONSCAN_BOOL:
        jsonw_bool(w, v->v.b);
        break;
    case JSONSCAN_INT64:
        jsonw_i64(w, v->v.i64);
        break;
    case JSONSCAN_DOUBLE:
        if (isfinite(v->v.f64))
            jsonw_raw(w, v->text, v->len);
        else
            jsonw_str(w, v->text, v->len);
        break;
    case JSONSCAN_BYTES:
        jsonw_base64(w, (const uint8_t *)v->text, v->len);
        break;
    default: /* STRING */
        jsonw_str(w, v->text, v->len);
        break;
    }
}

const jsonscan_val *scanvals_get(const scanvals *v, uint32_t i)
{
    static const jsonscan_val absent = {.kind = JSONSCAN_ABSENT};
    return i < v->n ? &v->vals[i] : &absent;
}
