/* A decoded row: one typed value (or value list) per schema field, in schema field order.
 *
 * Produced by the row decoder (rowdec_decode) and consumed by mseg_append. Value bytes and
 * multi-value arrays live in storage owned by the producer and stay valid until its next
 * decode; the mutable segment copies what it keeps. */
#ifndef SL_ROW_H
#define SL_ROW_H

#include "common/schema.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct row_col {
    bool is_null;           /* missing or null in the input: the value is the default null value */
    uint32_t nvals;         /* single-value: 1; multi-value: number of values (>= 1) */
    schema_value v;         /* single-value: the value */
    const schema_value *mv; /* multi-value: nvals values */
} row_col;

typedef struct row {
    uint32_t ncols;  /* == schema nfields */
    row_col *cols;   /* ncols entries */
} row;

#endif
