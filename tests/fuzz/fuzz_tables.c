/* libFuzzer target for the schema and table config parsers (common/schema.c, table_config.c).
 *
 * Input: a schema JSON, optionally followed by "\n---\n" and a table config JSON. An accepted
 * schema must survive the canonical round trip: to_json must parse back, and printing the
 * re-parsed schema must give the same bytes (the text is part of every segment). The table
 * config is then parsed against it; a rejection must come with a message. */
#include "common/schema.h"
#include "common/table_config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const char *sep = memmem(text, size, "\n---\n", 5);
    size_t slen = sep ? (size_t)(sep - text) : size;
    char err[512];
    err[0] = '\0';
    schema *s = schema_parse(text, slen, "fuzz", err, sizeof err);
    if (!s) {
        if (!err[0]) abort(); /* every rejection names its reason */
        return 0;
    }
    size_t l1, l2;
    char *j1 = schema_to_json(s, &l1);
    schema *s2 = schema_parse(j1, l1, "canonical", err, sizeof err);
    if (!s2) {
        fprintf(stderr, "canonical JSON rejected: %s\n%s\n", err, j1);
        abort();
    }
    char *j2 = schema_to_json(s2, &l2);
    if (l1 != l2 || memcmp(j1, j2, l1) != 0 || s2->nfields != s->nfields) abort();
    if (sep) {
        err[0] = '\0';
        const char *t = sep + 5;
        tcfg *tc = tcfg_parse(t, size - (size_t)(t - text), "fuzz", s, err, sizeof err);
        if (!tc && !err[0]) abort();
        if (tc && tc->nfields != s->nfields) abort();
        tcfg_free(tc);
    }
    free(j1);
    free(j2);
    schema_free(s2);
    schema_free(s);
    return 0;
}
