/* libFuzzer target for the JSON row decoder (rowdec_decode over jsonscan/simdjson).
 *
 * A fixed schema with every column type, single- and multi-value, and a small message limit
 * so the oversized path is reachable. Each input is decoded twice by the same decoder (the
 * second run must give the same reason: decoding is deterministic and leaves no state), and
 * every accepted row is read completely so the sanitizers see any bad pointer or length. */
#include "consumer/rowdec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    schema_type type;
    bool sv;
} fields[] = {
    {"i", SCHEMA_INT, true},       {"l", SCHEMA_LONG, true},        {"f", SCHEMA_FLOAT, true},
    {"d", SCHEMA_DOUBLE, true},    {"b", SCHEMA_BOOLEAN, true},     {"t", SCHEMA_TIMESTAMP, true},
    {"s", SCHEMA_STRING, true},    {"y", SCHEMA_BYTES, true},       {"mi", SCHEMA_INT, false},
    {"ml", SCHEMA_LONG, false},    {"mf", SCHEMA_FLOAT, false},     {"md", SCHEMA_DOUBLE, false},
    {"mb", SCHEMA_BOOLEAN, false}, {"mt", SCHEMA_TIMESTAMP, false}, {"ms", SCHEMA_STRING, false},
    {"my", SCHEMA_BYTES, false},
};
#define NF (sizeof fields / sizeof fields[0])

static schema *build_schema(void)
{
    schema *s = calloc(1, sizeof *s);
    s->name = "fuzz";
    s->nfields = NF;
    s->fields = calloc(NF, sizeof *s->fields);
    for (size_t k = 0; k < NF; k++) {
        schema_field *f = &s->fields[k];
        f->name = (char *)fields[k].name;
        f->type = fields[k].type;
        f->single_value = fields[k].sv;
        if (f->type == SCHEMA_STRING) {
            f->default_null.u.bytes.ptr = (const uint8_t *)"null";
            f->default_null.u.bytes.len = 4;
        } else if (f->type == SCHEMA_BYTES) {
            f->default_null.u.bytes.ptr = (const uint8_t *)"";
        }
    }
    return s;
}

static uint64_t touch(const row *r, const schema *s)
{
    uint64_t h = 0;
    for (uint32_t c = 0; c < r->ncols; c++) {
        const row_col *col = &r->cols[c];
        if (col->nvals < 1 || (s->fields[c].single_value && col->nvals != 1)) abort();
        for (uint32_t k = 0; k < col->nvals; k++) {
            const schema_value *v = &col->mv[k];
            schema_type t = s->fields[c].type;
            if (t == SCHEMA_STRING || t == SCHEMA_BYTES) {
                for (uint32_t j = 0; j < v->u.bytes.len; j++)
                    h = h * 31 + v->u.bytes.ptr[j];
            } else {
                h = h * 31 + (uint64_t)v->u.i64;
            }
        }
    }
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static schema *s;
    static rowdec *d;
    if (!s) {
        s = build_schema();
        d = rowdec_new(s, 4096);
    }
    const row *r;
    rowdec_reason first = rowdec_decode(d, data, size, &r);
    uint64_t h1 = 0;
    if (first == ROWDEC_OK)
        h1 = touch(r, s);
    else if (r != NULL || rowdec_error_field(d) == NULL)
        abort();
    rowdec_reason again = rowdec_decode(d, data, size, &r);
    if (again != first) abort();
    if (again == ROWDEC_OK && touch(r, s) != h1) abort();
    return 0;
}
