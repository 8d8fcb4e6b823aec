/* YAML -> a jansson DOM, for the YAML files users bring from Pinot (a job spec): libyaml's
 * event parser builds mappings as objects, sequences as arrays and scalars as strings (a job
 * spec's values are strings to Pinot's Jackson reader too; callers convert), except a plain
 * `null`, `~` or empty scalar, which is JSON null.
 *
 * Only the first document is read. Anchors and aliases, and non-string mapping keys, are
 * refused with the line, as is nesting deeper than 64. */
#ifndef SL_YAMLJSON_H
#define SL_YAMLJSON_H

#include <jansson.h>
#include <stddef.h>

/* Parse text[0..len) (src names it in errors). A new reference (caller json_decref-s it), or
 * NULL with "src:LINE: reason" in err. An empty document is an empty object. */
json_t *yamljson_parse(const char *text, size_t len, const char *src, char *err, size_t errlen);

#endif
