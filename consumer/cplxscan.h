/* Complex-type scanner: one JSON message under a table's ingestionConfig.complexTypeConfig ->
 * one or more rows of wanted-field values, as Pinot's ComplexTypeTransformer makes them
 * (docs/transforms.md#complex-types):
 * - a nested object's fields are columns named by their path joined with the delimiter
 *   ("group.group_city"), the object itself stays a column too;
 * - each element of a field to unnest (an array) becomes a row of its own, whose columns
 *   under that field's name are the element's (its own nested objects flattened in turn); an
 *   empty, missing or non-array value leaves the row as it is; several fields unnest in order,
 *   each over the rows of the ones before;
 * - an array that is not unnested stays a list when its elements are primitive, else (and
 *   with collectionNotUnnestedToJson ALL always) it is its JSON text;
 * - prefixesToRename renames the flattened columns whose name starts with a prefix;
 * - first, the table's preComplexTypeTransform generateColumn enrichers set top-level fields
 *   (jsonStringToListOrMap(x) makes a JSON string an array to unnest).
 *
 * The values are jsonscan_val, as the other scanners give them: rowdec coerces them. The
 * message is parsed with jansson (the whole document is kept, as the flattening needs it).
 *
 * Every pointer in a value stays valid until the next cplxscan_run; a selected row's values
 * until the next cplxscan_select. A scanner is used by one thread at a time. */
#ifndef SL_CPLXSCAN_H
#define SL_CPLXSCAN_H

#include "common/table_config.h"
#include "consumer/scanvals.h"

#include <stddef.h>
#include <stdint.h>

/* Most rows one message may unnest into. */
#define CPLXSCAN_MAX_ROWS 65536

typedef struct cplxscan cplxscan;

typedef enum cplxscan_status {
    CPLXSCAN_OK = 0,
    CPLXSCAN_MALFORMED,  /* not JSON (or an integer past 64 bits, which jansson refuses) */
    CPLXSCAN_NOT_OBJECT, /* valid JSON whose top level is not an object */
    CPLXSCAN_TOO_MANY,   /* unnesting gives more than CPLXSCAN_MAX_ROWS rows */
    CPLXSCAN_ENRICH,     /* a preComplexTypeTransform enricher failed (no continueOnError) */
} cplxscan_status;

/* New scanner for n wanted fields (names[i], lens[i] bytes, copied; flags[i] as jsonscan's)
 * under t's complexTypeConfig, after t's preComplexTypeTransform enrichers (t borrowed: it
 * must outlive the scanner; t->complex is set). Caller frees with cplxscan_free. */
cplxscan *cplxscan_new(const char *const *names, const uint32_t *lens, const uint8_t *flags,
                       uint32_t n, const tcfg *t);

/* Parse msg[0..len) and unnest it; then row 0 is selected. */
cplxscan_status cplxscan_run(cplxscan *s, const uint8_t *msg, size_t len);

/* Rows the last successful run gives (>= 1). */
uint32_t cplxscan_rows(const cplxscan *s);

/* Make row k (< cplxscan_rows) the one cplxscan_vals gives. */
void cplxscan_select(cplxscan *s, uint32_t k);

/* The selected row's values (JSONSCAN_ABSENT: the row has none), valid until the next select
 * or run. */
const scanvals *cplxscan_vals(const cplxscan *s);

/* After a failed run: what was wrong ("" after success). Owned by the scanner. */
const char *cplxscan_error_text(const cplxscan *s);

void cplxscan_free(cplxscan *s);

#endif
