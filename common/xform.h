/* Ingestion transforms (Pinot's `ingestionConfig.transformConfigs`, DESIGN §9 of the table
 * config subset, docs/transforms.md): an expression in Pinot's inbuilt function language,
 * compiled once when the table config loads and evaluated per row by the decoder.
 *
 *   expr    := and {OR and}
 *   and     := not {AND not}
 *   not     := NOT not | cmp
 *   cmp     := add [(= | != | <> | < | <= | > | >=) add | IS [NOT] NULL
 *                   | [NOT] IN '(' expr {',' expr} ')' | [NOT] BETWEEN add AND add]
 *   add     := mul {(+ | -) mul}        mul := unary {(* | / | %) unary}
 *   unary   := - unary | primary
 *   primary := NUMBER | 'string' (a quote doubled inside) | TRUE | FALSE | NULL | column
 *            | "quoted column" | function '(' [expr {',' expr}] ')' | '(' expr ')'
 *
 * The operators are Pinot's functions (equals, ..., and, or, not, isNull, in, plus, ...), so
 * they follow the same rules; keywords match in any case.
 *
 * Function names are matched as Pinot matches them: case-insensitively, underscores ignored.
 * The functions are Pinot's date-time, string, JSON and arithmetic families (the list is
 * xform_functions() and docs/transforms.md); any other name, Groovy included, is refused when
 * the config loads, and so are now() and ago(), whose value depends on the clock (replicas
 * would build different bytes). Evaluation is deterministic: the same inputs give the same
 * value on every host (times are UTC unless a time zone offset is given).
 *
 * Values: NULL, LONG, DOUBLE, BOOL, STRING, JSON (the raw text of an object or array) and
 * BYTES (a BYTES column's value is its bytes; a STRING column given BYTES gets their hex).
 * A function given a NULL argument returns NULL (Pinot's rule for non-nullable parameters),
 * except those with a default argument (jsonPathString/Long/Double with 3 arguments), which
 * return the default. An argument of the wrong kind is converted as Pinot's PinotDataType does
 * (a numeric string to a number, a number to its text); a conversion or a function that fails
 * is an error for the row.
 *
 * A compiled expression is immutable and shared by every thread; an xform_ctx (its scratch
 * memory for strings made by functions) belongs to one thread. */
#ifndef SL_XFORM_H
#define SL_XFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum xform_kind {
    XFORM_NULL = 0,
    XFORM_LONG,
    XFORM_DOUBLE,
    XFORM_BOOL,
    XFORM_STRING, /* UTF-8 bytes s[0..len) */
    XFORM_JSON,   /* JSON text of an object or an array, s[0..len) */
    XFORM_BYTES,  /* raw bytes s[0..len) (the geospatial functions' serialized geometries) */
    XFORM_ARRAY,  /* a Java array (split, jsonPathArray): elems[0..len), none of them an ARRAY */
} xform_kind;

typedef struct xform_val {
    xform_kind kind;
    int64_t i;     /* LONG; BOOL 0/1 */
    double d;      /* DOUBLE */
    const char *s; /* STRING, JSON: borrowed (the record's, the expression's or the ctx's) */
    uint32_t len;
    const struct xform_val *elems; /* ARRAY: in the ctx's scratch memory */
} xform_val;

typedef struct xform_expr xform_expr;
typedef struct xform_ctx xform_ctx;

/* Compile text. NULL with the reason in err (a name not supported, a bad literal pattern, a
 * syntax error with its position). Caller frees with xform_free. */
xform_expr *xform_parse(const char *text, char *err, size_t errlen);
void xform_free(xform_expr *e);

/* The columns the expression reads, each once, in order of first appearance; names are
 * owned by e. Evaluation takes their values in this order. */
uint32_t xform_ninputs(const xform_expr *e);
const char *xform_input(const xform_expr *e, uint32_t i);

/* Scratch memory for the strings functions make: valid until the next xform_ctx_reset. */
xform_ctx *xform_ctx_new(void);
void xform_ctx_reset(xform_ctx *cx);
void xform_ctx_free(xform_ctx *cx);
/* A copy of p[0..n) in cx's scratch memory (valid until the next reset). */
const char *xform_ctx_copy(xform_ctx *cx, const void *p, size_t n);
/* n bytes of cx's scratch memory, uninitialised (valid until the next reset). */
char *xform_ctx_alloc(xform_ctx *cx, size_t n);

/* Evaluate e with in[i] the value of input i. 0 with *out (pointing into in, e or cx), or
 * -1 with the reason in err. */
int xform_eval(const xform_expr *e, const xform_val *in, xform_ctx *cx, xform_val *out, char *err,
               size_t errlen);

/* The supported function names, comma-separated (static). */
const char *xform_functions(void);

/* Milliseconds since the epoch of text parsed with a Joda/Java date-time pattern (UTC unless
 * the text carries an offset). 0, or -1 with the reason. Also for SIMPLE_DATE_FORMAT. */
int xform_parse_time(const char *pattern, const char *text, size_t len, int64_t *ms, char *err,
                     size_t errlen);
/* Whether pattern uses only the letters xform_parse_time and xform_format_time know; false
 * with the reason. */
bool xform_pattern_ok(const char *pattern, char *err, size_t errlen);
/* ms formatted with pattern in UTC into buf (cap bytes, NUL-terminated); returns the length. */
size_t xform_format_time(const char *pattern, int64_t ms, char *buf, size_t cap);

#endif
