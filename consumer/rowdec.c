/* JSON row decoder: Pinot's per-type semantics applied to the values jsonscan found.
 *
 * jsonscan (simdjson On-Demand) parses the message once and hands back one tagged value per
 * schema field; this file turns each into the column's type following the coercion table in
 * docs/json-decoding.md. Every rule there is implemented in coerce() and its helpers, and
 * tested row by row in tests/unit/test_rowdec.c: change the three together.
 *
 * Invariants:
 * - No allocation per message once the buffers have grown to the largest message seen: the
 *   row, the multi-value array and the BYTES buffer are sized from the message length before
 *   the fields are decoded, so pointers handed out in the row never move during a decode.
 * - String values point into the scanner's buffers (or at the schema's defaults, or at static
 *   "true"/"false"); BYTES values into this decoder's buffer. All valid until the next decode.
 * - A rejected message leaves nothing behind: the next decode starts from scratch.
 * - Number text is parsed with the "C" locale, never the process locale. */
#include "consumer/rowdec.h"

#include "common/xalloc.h"
#include "common/bigdec.h"
#include "common/jsonw.h"
#include "consumer/avroscan.h"
#include "consumer/cplxscan.h"
#include "consumer/csvscan.h"
#include "consumer/jsonscan.h"
#include "consumer/pbscan.h"
#include "consumer/registry.h"

#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ROWDEC_DEFAULT_MAX ((size_t)1 << 20)
#define ROWDEC_HARD_MAX ((size_t)1 << 30) /* lengths in a row are uint32 */

struct rowdec {
    const schema *s;
    size_t max_bytes;
    tcfg_decoder fmt; /* which scanner reads the messages: one of these three */
    jsonscan *scan;
    csvscan *csv;
    avroscan *avro;
    pbscan *pb;
    registry *reg;      /* KafkaConfluentSchemaRegistryJsonMessageDecoder: the schemas' registry */
    const scanvals *sv; /* the values of whichever of those four reads them; NULL: jsonscan's */
    cplxscan *cplx; /* complexTypeConfig: the values (jsonscan still validates the JSON) */
    uint32_t cplx_row, cplx_rows; /* the message's row being decoded, and its rows */
    size_t msg_bytes;             /* the message's length, for the rows after the first */
    const char **names;           /* the schema's field names, for jsonscan */
    uint32_t *lens;
    uint8_t *flags;

    row out;
    row_col *cols;
    schema_value *mv; /* multi-value values of the current row */
    size_t mv_cap, mv_used;
    uint8_t *bytes; /* decoded BYTES values of the current row */
    size_t bytes_cap, bytes_used;
    char *scratch; /* NUL-terminated copy of a numeric string for strtod */
    size_t scratch_cap;
    locale_t c_locale;

    int err_field;
    char detail[192];

    /* ingestion transforms (rowdec_new_cfg): per transform its inputs' scan indexes; the
     * scanner also looks for inputs the schema lacks (indexes >= nfields) */
    uint32_t nxf;               /* transforms: ingestionConfig's, then the schema fields' */
    uint32_t *xf_field;         /* per transform its destination field */
    const xform_expr **xf_expr; /* borrowed from the tcfg or the schema */
    bool *xf_always;            /* an enricher's: written whatever the message holds */
    bool xf_continue;           /* ingestionConfig.continueOnError (transforms, time check) */
    uint32_t **xf_in;
    /* the table's filterConfig (borrowed from the tcfg), its inputs' scan indexes, and the
     * messages it dropped */
    const xform_expr *filter;
    uint32_t *filter_in;
    uint64_t filtered;
    xform_val *xf_args;
    xform_ctx *xcx;     /* per-message scratch: transforms' strings, JSON columns' text */
    jsonw jw;           /* a JSON column's canonical text, before its copy into xcx */
    jsonscan_val *over; /* per field: the transform's value, used when has_over */
    bool *has_over;
    /* a SIMPLE_DATE_FORMAT time column (rowdec_new_cfg): each value must match its pattern */
    int time_col;
    char time_pattern[256];
    /* the time column a missing value of is the message's Kafka time (rowdec_new_cfg) */
    int fill_col;
    bool fill_sdf;              /* formatted with time_pattern */
    int64_t fill_mul, fill_div; /* else EPOCH/TIMESTAMP: ms * mul / div */
    int64_t msg_time_ms;        /* INT64_MIN: none */
    /* ingestionConfig.rowTimeValueCheck: the time column (fill_col) must lie in Pinot's valid
     * range; out of it, the row is rejected, or with continueOnError the value is null */
    bool time_check;
    /* stream.kafka.metadata.populate (rowdec_set_message): per field the message metadata it
     * takes (rowdec_meta), or NULL when the table does not populate */
    uint8_t *meta_col;
    bool wants_headers; /* a __header$NAME column: its name is the field's after the '$' */
    bool meta_dest;     /* a transform writes a metadata column (put_metadata overrides it) */
    const void *msg_key;
    size_t msg_keylen;
    int64_t msg_offset;
    int32_t msg_partition;
    const rowdec_header *msg_headers;
    size_t msg_nheaders;
    size_t msg_len;     /* the message value's bytes (__metadata$recordSerializedValueSize) */
    char fill_buf[128]; /* a formatted time */
    /* the elements of transforms' multi-value results (split, jsonPathArray): an over value
     * of kind LIST indexes these, not the scanner's */
    jsonscan_val *xel;
    size_t nxel, xel_cap;
};

typedef enum rowdec_meta {
    ROWDEC_META_NONE = 0,
    ROWDEC_META_KEY,       /* __key */
    ROWDEC_META_OFFSET,    /* __metadata$offset */
    ROWDEC_META_TIME,      /* __metadata$recordTimestamp */
    ROWDEC_META_PARTITION, /* __metadata$partition */
    ROWDEC_META_SIZE,      /* __metadata$recordSerializedValueSize (Pinot adds it always) */
    ROWDEC_META_HEADER,    /* __header$NAME */
} rowdec_meta;

#define ROWDEC_HEADER_PREFIX "__header$"

static const char *const reason_names[ROWDEC_REASON__COUNT] = {
    [ROWDEC_OK] = "ok",
    [ROWDEC_MALFORMED_JSON] = "malformed_json",
    [ROWDEC_NOT_OBJECT] = "not_object",
    [ROWDEC_WRONG_TYPE] = "wrong_type",
    [ROWDEC_OVERFLOW] = "overflow",
    [ROWDEC_INVALID_UTF8] = "invalid_utf8",
    [ROWDEC_OVERSIZED] = "oversized",
    [ROWDEC_EMPTY] = "empty",
    [ROWDEC_TOO_LONG] = "too_long",
    [ROWDEC_TRANSFORM] = "transform_failed",
    [ROWDEC_TIME_RANGE] = "time_out_of_range",
    [ROWDEC_MALFORMED_CSV] = "malformed_csv",
    [ROWDEC_MALFORMED_AVRO] = "malformed_avro",
    [ROWDEC_NO_SCHEMA] = "schema_unavailable",
    [ROWDEC_MALFORMED_PROTOBUF] = "malformed_protobuf",
};

/* Own copy of the type names: the decoder must not depend on the schema loader. */
static const char *const type_names[SCHEMA_TYPE__COUNT] = {
    [SCHEMA_INT] = "INT",       [SCHEMA_LONG] = "LONG",       [SCHEMA_FLOAT] = "FLOAT",
    [SCHEMA_DOUBLE] = "DOUBLE", [SCHEMA_BOOLEAN] = "BOOLEAN", [SCHEMA_TIMESTAMP] = "TIMESTAMP",
    [SCHEMA_STRING] = "STRING", [SCHEMA_BYTES] = "BYTES",
};

static const char *const kind_names[] = {
    [JSONSCAN_ABSENT] = "absent", [JSONSCAN_NULL] = "null",      [JSONSCAN_BOOL] = "boolean",
    [JSONSCAN_INT64] = "integer", [JSONSCAN_UINT64] = "integer", [JSONSCAN_DOUBLE] = "number",
    [JSONSCAN_BIGNUM] = "number", [JSONSCAN_STRING] = "string",  [JSONSCAN_OBJECT] = "object",
    [JSONSCAN_ARRAY] = "array",   [JSONSCAN_LIST] = "array",     [JSONSCAN_BYTES] = "bytes",
};

static const char *type_name(schema_type t)
{
    return (unsigned)t < SCHEMA_TYPE__COUNT ? type_names[t] : "?";
}

static const char *kind_name(uint8_t k)
{
    return k < sizeof kind_names / sizeof kind_names[0] ? kind_names[k] : "?";
}

const char *rowdec_reason_name(rowdec_reason r)
{
    if ((unsigned)r >= ROWDEC_REASON__COUNT) return "unknown";
    return reason_names[r];
}

/* The scan index of an input column: the schema field, or an extra wanted name. */
static uint32_t xf_scan_index(rowdec *d, const char *name, uint32_t *nnames)
{
    for (uint32_t i = 0; i < *nnames; i++)
        if (!strcmp(d->names[i], name)) return i;
    d->names = sl_xrealloc(d->names, (*nnames + 1) * sizeof *d->names);
    d->lens = sl_xrealloc(d->lens, (*nnames + 1) * sizeof *d->lens);
    d->flags = sl_xrealloc(d->flags, *nnames + 1);
    d->names[*nnames] = name;
    d->lens[*nnames] = (uint32_t)strlen(name);
    d->flags[*nnames] = 0;
    return (*nnames)++;
}

rowdec *rowdec_new(const schema *s, size_t max_message_bytes)
{
    return rowdec_new_as(s, NULL, TCFG_DECODER_JSON, max_message_bytes);
}

rowdec *rowdec_new_cfg(const schema *s, const tcfg *t, size_t max_message_bytes)
{
    return rowdec_new_as(s, t, t ? t->decoder : TCFG_DECODER_JSON, max_message_bytes);
}

rowdec *rowdec_new_as(const schema *s, const tcfg *t, tcfg_decoder fmt, size_t max_message_bytes)
{
    rowdec *d = sl_xcalloc(1, sizeof *d);
    d->fmt = t ? fmt : TCFG_DECODER_JSON;
    d->s = s;
    d->max_bytes = max_message_bytes ? max_message_bytes : ROWDEC_DEFAULT_MAX;
    if (d->max_bytes > ROWDEC_HARD_MAX) d->max_bytes = ROWDEC_HARD_MAX;

    uint32_t n = s->nfields;
    d->names = sl_xmalloc((n ? n : 1) * sizeof *d->names);
    d->lens = sl_xmalloc((n ? n : 1) * sizeof *d->lens);
    d->flags = sl_xmalloc(n ? n : 1);
    for (uint32_t i = 0; i < n; i++) {
        d->names[i] = s->fields[i].name;
        d->lens[i] = (uint32_t)strlen(s->fields[i].name);
        d->flags[i] = s->fields[i].single_value ? 0 : JSONSCAN_F_LIST;
    }
    uint32_t nnames = n, maxin = 1;
    /* ingestionConfig's transforms, then each schema field's own transformFunction for a
     * column none of those writes (Pinot's precedence) */
    uint32_t nx = t ? t->ntransforms + t->nenrich : 0;
    for (uint32_t i = 0; i < n; i++)
        nx += s->fields[i].transform != NULL;
    if (nx) {
        d->xf_field = sl_xcalloc(nx, sizeof *d->xf_field);
        d->xf_expr = sl_xcalloc(nx, sizeof *d->xf_expr);
        d->xf_always = sl_xcalloc(nx, sizeof *d->xf_always);
        /* enrichmentConfigs' generated columns first (Pinot runs enrichers before the
         * transformers), always written; those that feed the complex-type transform are
         * cplxscan's */
        for (uint32_t j = 0; t && j < t->nenrich; j++) {
            if (t->enrich[j].pre_complex) continue;
            d->xf_field[d->nxf] = (uint32_t)t->enrich[j].field;
            d->xf_always[d->nxf] = true;
            d->xf_expr[d->nxf++] = t->enrich[j].expr;
        }
        for (uint32_t j = 0; t && j < t->ntransforms; j++) {
            d->xf_field[d->nxf] = t->transforms[j].field;
            d->xf_expr[d->nxf++] = t->transforms[j].expr;
        }
        for (uint32_t i = 0; i < n; i++) {
            bool covered = false;
            for (uint32_t j = 0; t && j < t->ntransforms; j++)
                covered |= t->transforms[j].field == i;
            for (uint32_t j = 0; t && j < t->nenrich; j++)
                covered |= t->enrich[j].field == (int)i && !t->enrich[j].pre_complex;
            if (!s->fields[i].transform || covered) continue;
            d->xf_field[d->nxf] = i;
            d->xf_expr[d->nxf++] = s->fields[i].transform;
        }
        d->xf_in = sl_xcalloc(d->nxf, sizeof *d->xf_in);
        for (uint32_t j = 0; j < d->nxf; j++) {
            uint32_t k = xform_ninputs(d->xf_expr[j]);
            if (k > maxin) maxin = k;
            d->xf_in[j] = sl_xcalloc(k ? k : 1, sizeof **d->xf_in);
            for (uint32_t i = 0; i < k; i++)
                d->xf_in[j][i] = xf_scan_index(d, xform_input(d->xf_expr[j], i), &nnames);
        }
    }
    if (t && t->filter) {
        d->filter = t->filter;
        uint32_t k = xform_ninputs(t->filter);
        if (k > maxin) maxin = k;
        d->filter_in = sl_xcalloc(k ? k : 1, sizeof *d->filter_in);
        for (uint32_t i = 0; i < k; i++)
            d->filter_in[i] = xf_scan_index(d, xform_input(t->filter, i), &nnames);
    }
    d->xf_args = sl_xcalloc(maxin, sizeof *d->xf_args); /* the most inputs of any expression */
    static const char *const meta_names[] = {[ROWDEC_META_KEY] = "__key",
                                             [ROWDEC_META_OFFSET] = "__metadata$offset",
                                             [ROWDEC_META_TIME] = "__metadata$recordTimestamp",
                                             [ROWDEC_META_PARTITION] = "__metadata$partition",
                                             [ROWDEC_META_SIZE] =
                                                 "__metadata$recordSerializedValueSize"};
    for (uint32_t i = 0; t && i < n; i++) {
        int k = ROWDEC_META_NONE;
        for (int j = ROWDEC_META_KEY; j <= ROWDEC_META_SIZE; j++)
            if (!strcmp(s->fields[i].name, meta_names[j])) k = j;
        if (!strncmp(s->fields[i].name, ROWDEC_HEADER_PREFIX, strlen(ROWDEC_HEADER_PREFIX)))
            k = ROWDEC_META_HEADER;
        if (k != ROWDEC_META_SIZE && !t->metadata_populate) k = ROWDEC_META_NONE;
        if (k == ROWDEC_META_NONE) continue;
        if (!d->meta_col) d->meta_col = sl_xcalloc(n, 1);
        d->meta_col[i] = (uint8_t)k;
        d->wants_headers |= k == ROWDEC_META_HEADER;
    }
    for (uint32_t j = 0; d->meta_col && j < d->nxf; j++)
        d->meta_dest |= d->meta_col[d->xf_field[j]] != ROWDEC_META_NONE;
    if (nx || d->meta_col) {
        d->over = sl_xcalloc(n ? n : 1, sizeof *d->over);
        d->has_over = sl_xcalloc(n ? n : 1, sizeof *d->has_over);
    }
    d->xcx = xform_ctx_new();
    d->msg_offset = -1;
    d->msg_partition = -1;
    if (d->fmt == TCFG_DECODER_CSV) {
        d->csv = csvscan_new(d->names, d->lens, nnames, &t->csv);
        d->sv = csvscan_vals(d->csv);
    } else if (d->fmt == TCFG_DECODER_AVRO || d->fmt == TCFG_DECODER_AVRO_REGISTRY) {
        char why[256];
        if (!(d->avro = avroscan_new(d->names, d->lens, d->flags, nnames, t, why, sizeof why))) {
            fprintf(stderr, "rowdec: %s\n", why); /* tcfg checked the schema */
            abort();
        }
        d->sv = avroscan_vals(d->avro);
        if (t->complex) { /* the record unnested as its JSON is */
            d->cplx = cplxscan_new(d->names, d->lens, d->flags, nnames, t);
            d->sv = cplxscan_vals(d->cplx);
        }
    } else if (d->fmt == TCFG_DECODER_PROTOBUF) {
        d->pb = pbscan_new(d->names, d->lens, d->flags, nnames, t->pb, t->pb_msg);
        d->sv = pbscan_vals(d->pb);
        if (t->complex) { /* the message unnested as its JSON is */
            d->cplx = cplxscan_new(d->names, d->lens, d->flags, nnames, t);
            d->sv = cplxscan_vals(d->cplx);
        }
    } else {
        if (d->fmt == TCFG_DECODER_JSON_REGISTRY)
            d->reg = registry_new(t->registry_url, t->registry_userinfo);
        d->scan = jsonscan_new(d->names, d->lens, d->flags, nnames);
        if (t && t->complex) {
            d->cplx = cplxscan_new(d->names, d->lens, d->flags, nnames, t);
            d->sv = cplxscan_vals(d->cplx);
        }
    }
    d->time_col = d->fill_col = -1;
    d->msg_time_ms = INT64_MIN;
    int tc = t && t->time_column ? schema_find(s, t->time_column) : -1;
    const char *zone;
    if (tc >= 0 && s->fields[tc].type == SCHEMA_STRING && s->fields[tc].single_value &&
        schema_sdf_pattern(&s->fields[tc], d->time_pattern, sizeof d->time_pattern, &zone)) {
        d->time_col = d->fill_col = tc;
        d->fill_sdf = true;
    } else if (tc >= 0 && s->fields[tc].single_value && s->fields[tc].type != SCHEMA_STRING &&
               schema_time_scale(&s->fields[tc], &d->fill_mul, &d->fill_div)) {
        d->fill_col = tc;
    }
    d->time_check = t && t->row_time_check && d->fill_col >= 0;
    d->xf_continue = t && t->continue_on_error;

    d->cols = sl_xcalloc(n, sizeof *d->cols);
    d->out.ncols = n;
    d->out.cols = d->cols;

    d->c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    if (d->c_locale == (locale_t)0) {
        fprintf(stderr, "rowdec: cannot create the C locale\n");
        abort();
    }
    d->err_field = -1;
    return d;
}

void rowdec_free(rowdec *d)
{
    if (!d) return;
    jsonscan_free(d->scan);
    csvscan_free(d->csv);
    avroscan_free(d->avro);
    pbscan_free(d->pb);
    registry_free(d->reg);
    cplxscan_free(d->cplx);
    free(d->names);
    free(d->lens);
    free(d->flags);
    free(d->cols);
    free(d->mv);
    free(d->bytes);
    free(d->scratch);
    freelocale(d->c_locale);
    for (uint32_t j = 0; j < d->nxf; j++)
        free(d->xf_in[j]);
    free(d->xf_in);
    free(d->xf_field);
    free(d->xf_expr);
    free(d->xf_always);
    free(d->xf_args);
    xform_ctx_free(d->xcx);
    jsonw_free(&d->jw);
    free(d->over);
    free(d->has_over);
    free(d->meta_col);
    free(d->xel);
    free(d->filter_in);
    free(d);
}

const char *rowdec_error_field(const rowdec *d)
{
    if (d->err_field < 0) return "";
    return d->s->fields[d->err_field].name;
}

const char *rowdec_error_detail(const rowdec *d)
{
    return d->detail;
}

/* ---- the scanners' values ------------------------------------------------------------- */

/* Wanted field i's value in the last message (row), from whichever scanner reads them. */
static const jsonscan_val *field_val(const rowdec *d, uint32_t i)
{
    return d->sv ? scanvals_get(d->sv, i) : jsonscan_get(d->scan, i);
}

static const jsonscan_val *field_elems(const rowdec *d)
{
    return d->sv ? d->sv->elems : jsonscan_elems(d->scan);
}

static uint32_t field_nelems(const rowdec *d)
{
    return d->sv ? d->sv->nelems : jsonscan_nelems(d->scan);
}

/* ---- rejection helpers ------------------------------------------------------------------ */

static rowdec_reason wrong_type(rowdec *d, const schema_field *f, const jsonscan_val *v)
{
    snprintf(d->detail, sizeof d->detail, "cannot convert %s%s to %s", d->scan ? "JSON " : "",
             kind_name(v->kind), type_name(f->type));
    return ROWDEC_WRONG_TYPE;
}

static rowdec_reason overflow(rowdec *d, const schema_field *f, const jsonscan_val *v)
{
    if (v->text && v->len > 0)
        snprintf(d->detail, sizeof d->detail, "%.*s does not fit %s",
                 v->len > 64 ? 64 : (int)v->len, v->text, type_name(f->type));
    else
        snprintf(d->detail, sizeof d->detail, "value does not fit %s", type_name(f->type));
    return ROWDEC_OVERFLOW;
}

/* ---- text parsers (strings holding numbers, booleans, times, hex) -------------------------- */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Integer string as Java's Long.parseLong takes it: [+-]?[0-9]+, nothing else (no spaces).
 * Returns 0 ok, 1 not an integer string, 2 out of int64 range. */
static int parse_int_text(const char *p, size_t n, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (i < n && (p[i] == '+' || p[i] == '-')) {
        neg = p[i] == '-';
        i++;
    }
    if (i == n) return 1;
    uint64_t mag = 0;
    bool big = false;
    for (; i < n; i++) {
        if (!is_digit(p[i])) return 1;
        unsigned dig = (unsigned)(p[i] - '0');
        if (mag > (UINT64_MAX - dig) / 10)
            big = true;
        else
            mag = mag * 10 + dig;
    }
    if (big) return 2;
    if (neg) {
        if (mag > (uint64_t)INT64_MAX + 1) return 2;
        *out = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
    } else {
        if (mag > (uint64_t)INT64_MAX) return 2;
        *out = (int64_t)mag;
    }
    return 0;
}

/* Decimal number string: [+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)? . This is
 * Java's Double.parseDouble minus what JSON producers never mean (hex, NaN, Infinity, the
 * d/f suffixes, surrounding spaces). */
static bool decimal_syntax_ok(const char *p, size_t n)
{
    size_t i = 0, mant = 0;
    if (i < n && (p[i] == '+' || p[i] == '-')) i++;
    while (i < n && is_digit(p[i]))
        i++, mant++;
    if (i < n && p[i] == '.') {
        i++;
        while (i < n && is_digit(p[i]))
            i++, mant++;
    }
    if (mant == 0) return false;
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-')) i++;
        if (i == n || !is_digit(p[i])) return false;
        while (i < n && is_digit(p[i]))
            i++;
    }
    return i == n;
}

static const char *scratch_copy(rowdec *d, const char *p, size_t n)
{
    if (n + 1 > d->scratch_cap) {
        d->scratch_cap = n + 1 > 64 ? n + 1 : 64;
        d->scratch = sl_xrealloc(d->scratch, d->scratch_cap);
    }
    memcpy(d->scratch, p, n);
    d->scratch[n] = '\0';
    return d->scratch;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned dd)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + dd - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool digits(const char *p, size_t k, unsigned *out)
{
    unsigned v = 0;
    for (size_t i = 0; i < k; i++) {
        if (!is_digit(p[i])) return false;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    *out = v;
    return true;
}

/* 'yyyy-MM-ddTHH:mm:ss[.S..S][Z]' (ISO-8601) or 'yyyy-MM-dd HH:mm:ss[.S..S][Z]' (SQL), UTC,
 * 1 to 9 fraction digits truncated to milliseconds. */
static bool parse_datetime(const char *p, size_t n, int64_t *ms)
{
    unsigned y, mo, dd, h, mi, sec, frac = 0;
    if (n < 19) return false;
    if (!digits(p, 4, &y) || p[4] != '-' || !digits(p + 5, 2, &mo) || p[7] != '-' ||
        !digits(p + 8, 2, &dd) || (p[10] != 'T' && p[10] != ' ') || !digits(p + 11, 2, &h) ||
        p[13] != ':' || !digits(p + 14, 2, &mi) || p[16] != ':' || !digits(p + 17, 2, &sec))
        return false;
    size_t i = 19;
    if (i < n && p[i] == '.') {
        i++;
        size_t nd = 0;
        while (i < n && is_digit(p[i])) {
            if (nd < 3) frac = frac * 10 + (unsigned)(p[i] - '0');
            nd++, i++;
        }
        if (nd == 0 || nd > 9) return false;
        for (size_t k = nd; k < 3; k++)
            frac *= 10;
    }
    if (i < n && p[i] == 'Z') i++;
    if (i != n) return false;
    static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo < 1 || mo > 12 || dd < 1 || dd > mdays[mo - 1] + (mo == 2 && leap) || h > 23 ||
        mi > 59 || sec > 59)
        return false;
    int64_t days = days_from_civil((int64_t)y, mo, dd);
    *ms = ((days * 24 + h) * 60 + mi) * 60000 + (int64_t)sec * 1000 + frac;
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* ---- numeric coercions --------------------------------------------------------------------- */

/* Any JSON number (or a boolean, as 1/0) as a double. 0 ok, else the reason. */
static rowdec_reason number_as_double(rowdec *d, const schema_field *f, const jsonscan_val *v,
                                      double *out)
{
    switch (v->kind) {
    case JSONSCAN_INT64:
        *out = (double)v->v.i64;
        return ROWDEC_OK;
    case JSONSCAN_UINT64:
        *out = (double)v->v.u64;
        return ROWDEC_OK;
    case JSONSCAN_DOUBLE:
        *out = v->v.f64;
        return ROWDEC_OK;
    case JSONSCAN_BIGNUM: {
        /* The literal is followed by a delimiter in the scanner's buffer, but copy anyway:
         * strtod must never depend on what happens to follow. */
        double x = strtod_l(scratch_copy(d, v->text, v->len), NULL, d->c_locale);
        if (isinf(x)) return overflow(d, f, v);
        *out = x;
        return ROWDEC_OK;
    }
    case JSONSCAN_BOOL:
        *out = v->v.b ? 1.0 : 0.0;
        return ROWDEC_OK;
    default:
        return wrong_type(d, f, v);
    }
}

/* INT, LONG and TIMESTAMP: integers within [min, -min-1]; fractions truncate toward zero
 * (Java's Number.intValue()/longValue()), but out of range is an error, never a wrap or a
 * clamp. `min` is INT32_MIN or INT64_MIN. */
static rowdec_reason to_integer(rowdec *d, const schema_field *f, const jsonscan_val *v,
                                int64_t min, bool allow_bool, bool allow_datetime, int64_t *out)
{
    int64_t max = -(min + 1);
    switch (v->kind) {
    case JSONSCAN_INT64:
        if (v->v.i64 < min || v->v.i64 > max) return overflow(d, f, v);
        *out = v->v.i64;
        return ROWDEC_OK;
    case JSONSCAN_UINT64:
        return overflow(d, f, v);
    case JSONSCAN_BIGNUM:
        if (v->int_literal) /* an integer beyond 64 bits: never rounded into range */
            return overflow(d, f, v);
        /* 1e400 overflows below, 1e-400 is 0 */
        __attribute__((fallthrough));
    case JSONSCAN_DOUBLE: {
        double x;
        rowdec_reason r = number_as_double(d, f, v, &x);
        if (r != ROWDEC_OK) return r;
        double t = trunc(x);
        /* -(double)min is exactly 2^31 or 2^63: the first value past max. */
        if (!(t >= (double)min && t < -(double)min)) return overflow(d, f, v);
        *out = (int64_t)t;
        return ROWDEC_OK;
    }
    case JSONSCAN_BOOL:
        if (!allow_bool) return wrong_type(d, f, v);
        *out = v->v.b ? 1 : 0;
        return ROWDEC_OK;
    case JSONSCAN_STRING: {
        int64_t x;
        int rc = parse_int_text(v->text, v->len, &x);
        if (rc == 0) {
            if (x < min || x > max) return overflow(d, f, v);
            *out = x;
            return ROWDEC_OK;
        }
        if (rc == 2) return overflow(d, f, v);
        if (allow_datetime && parse_datetime(v->text, v->len, out)) return ROWDEC_OK;
        return wrong_type(d, f, v);
    }
    default:
        return wrong_type(d, f, v);
    }
}

static rowdec_reason to_double(rowdec *d, const schema_field *f, const jsonscan_val *v, bool single,
                               schema_value *out)
{
    if (v->kind == JSONSCAN_STRING) {
        if (!decimal_syntax_ok(v->text, v->len)) return wrong_type(d, f, v);
        const char *z = scratch_copy(d, v->text, v->len);
        if (single) {
            /* Direct decimal -> binary32, as Java's Float.parseFloat (no double rounding). */
            float x = strtof_l(z, NULL, d->c_locale);
            if (isinf(x)) return overflow(d, f, v);
            out->u.f32 = x;
        } else {
            double x = strtod_l(z, NULL, d->c_locale);
            if (isinf(x)) return overflow(d, f, v);
            out->u.f64 = x;
        }
        return ROWDEC_OK;
    }
    double x;
    rowdec_reason r = number_as_double(d, f, v, &x);
    if (r != ROWDEC_OK) return r;
    if (single) {
        float y = (float)x;
        if (isinf(y)) return overflow(d, f, v);
        out->u.f32 = y;
    } else {
        out->u.f64 = x;
    }
    return ROWDEC_OK;
}

static rowdec_reason to_boolean(rowdec *d, const schema_field *f, const jsonscan_val *v,
                                schema_value *out)
{
    switch (v->kind) {
    case JSONSCAN_BOOL:
        out->u.i32 = v->v.b ? 1 : 0;
        return ROWDEC_OK;
    case JSONSCAN_INT64:
        if (v->v.i64 != 0 && v->v.i64 != 1) return wrong_type(d, f, v);
        out->u.i32 = (int32_t)v->v.i64;
        return ROWDEC_OK;
    case JSONSCAN_STRING:
        if (v->len == 4 && strncasecmp(v->text, "true", 4) == 0)
            out->u.i32 = 1;
        else if (v->len == 5 && strncasecmp(v->text, "false", 5) == 0)
            out->u.i32 = 0;
        else if (v->len == 1 && (v->text[0] == '0' || v->text[0] == '1'))
            out->u.i32 = v->text[0] - '0';
        else
            return wrong_type(d, f, v);
        return ROWDEC_OK;
    default:
        return wrong_type(d, f, v);
    }
}

/* Bytes as the lowercase hex text a BYTES column reads and a STRING one stores (Pinot's
 * BytesUtils.toHexString: a Kafka header's bytes, a BYTES key, a transform's bytes). */
static void hex_text(rowdec *d, const uint8_t *b, size_t len, jsonscan_val *v)
{
    static const char hex[] = "0123456789abcdef";
    char *h = xform_ctx_alloc(d->xcx, len * 2 + 1);
    for (size_t i = 0; i < len; i++) {
        h[2 * i] = hex[b[i] >> 4];
        h[2 * i + 1] = hex[b[i] & 15];
    }
    v->kind = JSONSCAN_STRING;
    v->text = h;
    v->len = (uint32_t)(len * 2);
}

static rowdec_reason to_string(rowdec *d, const schema_field *f, const jsonscan_val *v,
                               schema_value *out)
{
    switch (v->kind) {
    case JSONSCAN_BOOL:
        out->u.bytes.ptr = (const uint8_t *)(v->v.b ? "true" : "false");
        out->u.bytes.len = v->v.b ? 4 : 5;
        return ROWDEC_OK;
    case JSONSCAN_INT64:
    case JSONSCAN_UINT64:
    case JSONSCAN_DOUBLE:
    case JSONSCAN_BIGNUM:
    case JSONSCAN_STRING:
    case JSONSCAN_OBJECT:
    case JSONSCAN_ARRAY:
        /* numbers: the literal as written; objects/arrays: the raw JSON text */
        out->u.bytes.ptr = (const uint8_t *)v->text;
        out->u.bytes.len = v->len;
        return ROWDEC_OK;
    case JSONSCAN_BYTES: { /* Pinot's byte[] as a STRING: its hex */
        jsonscan_val h;
        hex_text(d, (const uint8_t *)v->text, v->len, &h);
        out->u.bytes.ptr = (const uint8_t *)h.text;
        out->u.bytes.len = h.len;
        return ROWDEC_OK;
    }
    default:
        return wrong_type(d, f, v);
    }
}

static rowdec_reason to_bytes(rowdec *d, const schema_field *f, const jsonscan_val *v,
                              schema_value *out)
{
    if (v->kind == JSONSCAN_BYTES) { /* raw bytes: room was reserved in rowdec_decode */
        uint8_t *dst = d->bytes + d->bytes_used;
        if (v->len) memcpy(dst, v->text, v->len);
        out->u.bytes.ptr = dst;
        out->u.bytes.len = v->len;
        d->bytes_used += v->len;
        return ROWDEC_OK;
    }
    if (v->kind != JSONSCAN_STRING || v->len % 2 != 0) return wrong_type(d, f, v);
    /* capacity was reserved in rowdec_decode: half the message length bounds every value */
    uint8_t *dst = d->bytes + d->bytes_used;
    for (uint32_t i = 0; i < v->len; i += 2) {
        int hi = hexval(v->text[i]), lo = hexval(v->text[i + 1]);
        if (hi < 0 || lo < 0) return wrong_type(d, f, v);
        dst[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    out->u.bytes.ptr = dst;
    out->u.bytes.len = v->len / 2;
    d->bytes_used += v->len / 2;
    return ROWDEC_OK;
}

/* A JSON column's value (Pinot's PinotDataType.toJson): an object as its canonical JSON text
 * with sorted keys (the decoder's map, MapUtils' sorted writer), an array, a number or a
 * boolean as its canonical text; a string that is one JSON document as that document's
 * canonical text with decimals as BigDecimals (stringToJsonNodeWithBigDecimal), any other
 * string as a JSON string literal. The text lives in the per-message scratch memory. */
static rowdec_reason to_json(rowdec *d, const schema_field *f, const jsonscan_val *v,
                             schema_value *out)
{
    jsonw_reset(&d->jw);
    switch (v->kind) {
    case JSONSCAN_BOOL:
        jsonw_bool(&d->jw, v->v.b);
        break;
    case JSONSCAN_INT64:
    case JSONSCAN_UINT64:
    case JSONSCAN_DOUBLE:
    case JSONSCAN_BIGNUM:
    case JSONSCAN_ARRAY:
        if (jsonw_canonical(&d->jw, v->text, v->len, 0)) return wrong_type(d, f, v);
        break;
    case JSONSCAN_OBJECT: /* a map: Pinot writes it with its keys sorted */
        if (jsonw_canonical(&d->jw, v->text, v->len, JSONW_CANON_SORT_KEYS))
            return wrong_type(d, f, v);
        break;
    case JSONSCAN_BYTES: /* Jackson writes a byte[] as a base64 string */
        jsonw_base64(&d->jw, (const uint8_t *)v->text, v->len);
        break;
    case JSONSCAN_STRING: /* re-parsed as a JsonNode, with BigDecimals */
        if (jsonw_canonical(&d->jw, v->text, v->len, JSONW_CANON_DECIMAL))
            jsonw_canonical_str(&d->jw, v->text, v->len);
        break;
    default:
        return wrong_type(d, f, v);
    }
    out->u.bytes.ptr =
        (const uint8_t *)xform_ctx_copy(d->xcx, d->jw.len ? d->jw.buf : "", d->jw.len);
    out->u.bytes.len = (uint32_t)d->jw.len;
    return ROWDEC_OK;
}

/* A BIG_DECIMAL column's value, serialized as Pinot does (common/bigdec.h), converted as
 * PinotDataType does: an integer exactly (scale 0), a decimal through the double the JSON
 * decoder reads (new BigDecimal(Double.toString(d)): 1.5, 1.0E20), a string exactly as
 * BigDecimal(String) reads it (trimmed), a boolean as 1 or 0. The bytes live in the
 * per-message scratch memory. */
static rowdec_reason to_big_decimal(rowdec *d, const schema_field *f, const jsonscan_val *v,
                                    schema_value *out)
{
    char num[48];
    const char *txt = v->text;
    size_t n = v->len;
    switch (v->kind) {
    case JSONSCAN_BOOL:
        txt = v->v.b ? "1" : "0";
        n = 1;
        break;
    case JSONSCAN_INT64:
    case JSONSCAN_UINT64:
        break;
    case JSONSCAN_BIGNUM:
        if (!v->int_literal && !v->exact) { /* past a double's range: Infinity, which
                                             * BigDecimal refuses */
            snprintf(d->detail, sizeof d->detail, "%.*s does not fit BIG_DECIMAL",
                     (int)(v->len < 60 ? v->len : 60), v->text);
            return ROWDEC_OVERFLOW;
        }
        break;
    case JSONSCAN_DOUBLE:
        txt = num;
        n = jsonw_fmt_java_f64(num, v->v.f64);
        break;
    case JSONSCAN_STRING:
        while (n && (unsigned char)*txt <= ' ') /* Java's trim */
            txt++, n--;
        while (n && (unsigned char)txt[n - 1] <= ' ')
            n--;
        break;
    default:
        return wrong_type(d, f, v);
    }
    char *dig = xform_ctx_alloc(d->xcx, n + 1);
    bigdec b;
    if (bigdec_parse(txt, n, dig, n + 1, &b)) return wrong_type(d, f, v);
    size_t cap = b.ndigits / 2 + 8;
    uint8_t *bytes = (uint8_t *)xform_ctx_alloc(d->xcx, cap);
    size_t len = bigdec_serialize(&b, bytes, cap);
    if (!len) {
        snprintf(d->detail, sizeof d->detail, "BIG_DECIMAL scale %" PRId32 " does not fit 16 bits",
                 b.scale);
        return ROWDEC_OVERFLOW;
    }
    out->u.bytes.ptr = bytes;
    out->u.bytes.len = (uint32_t)len;
    return ROWDEC_OK;
}

/* Pinot's sanitization of a STRING or BYTES value v (SanitizationTransformerUtils): a STRING
 * is cut at its first NUL and at maxLength UTF-16 code units (Java's String length; a
 * supplementary character the cut would split is dropped whole, where Java would leave half
 * of it), a BYTES value at maxLength bytes; what a changed value becomes is the field's
 * strategy's: the cut value, the default null value, a rejected row, or (NO_ACTION) the value
 * as it was, unless a STRING held a NUL. */
/* maxLength and NUL trimming of a STRING/BYTES value; nul_free: the value is known to hold
 * no NUL byte (jsonscan_val.nul_free), so it is not searched for one. */
static rowdec_reason sanitize(rowdec *d, const schema_field *f, schema_value *v, bool nul_free)
{
    const uint8_t *p = v->u.bytes.ptr;
    uint32_t len = v->u.bytes.len, cut = len;
    uint32_t max = f->max_length ? f->max_length : SCHEMA_DEFAULT_MAX_LENGTH;
    schema_maxlen how = f->max_strategy;
    if (how == SCHEMA_MAXLEN_DEFAULT) /* Pinot's: TRIM_LENGTH for STRING, NO_ACTION for the rest */
        how = f->type == SCHEMA_STRING && !f->json ? SCHEMA_MAXLEN_TRIM_LENGTH
                                                   : SCHEMA_MAXLEN_NO_ACTION;
    if (how == SCHEMA_MAXLEN_NO_ACTION && (f->type == SCHEMA_BYTES || f->json)) return ROWDEC_OK;
    bool nul = false;
    if (f->type == SCHEMA_STRING) {
        /* UTF-16 units never outnumber UTF-8 bytes: a short value can only hold a NUL */
        const uint8_t *z = len && !nul_free ? memchr(p, 0, len) : NULL;
        nul = z != NULL;
        if (nul) cut = (uint32_t)(z - p);
        if (cut > max) {
            uint32_t units = 0, i = 0;
            while (i < cut) {
                uint32_t n = p[i] < 0x80 ? 1 : p[i] < 0xE0 ? 2 : p[i] < 0xF0 ? 3 : 4;
                uint32_t u = n == 4 ? 2 : 1; /* a surrogate pair in UTF-16 */
                if (units + u > max) break;
                units += u;
                i += n;
            }
            cut = i;
        }
    } else if (len > max) {
        cut = max;
    }
    if (cut == len) return ROWDEC_OK;
    switch (how) {
    case SCHEMA_MAXLEN_TRIM_LENGTH:
        v->u.bytes.len = cut;
        return ROWDEC_OK;
    case SCHEMA_MAXLEN_SUBSTITUTE_DEFAULT:
        *v = f->default_null;
        return ROWDEC_OK;
    case SCHEMA_MAXLEN_ERROR:
        if (nul)
            snprintf(d->detail, sizeof d->detail, "STRING value holds a NUL character");
        else
            snprintf(d->detail, sizeof d->detail, "%s value exceeds maxLength %" PRIu32,
                     type_name(f->type), max);
        return ROWDEC_TOO_LONG;
    default: /* NO_ACTION */
        if (nul) v->u.bytes.len = cut;
        return ROWDEC_OK;
    }
}

/* One non-null JSON value -> one value of the field's type (the coercion table). */
static rowdec_reason coerce(rowdec *d, const schema_field *f, const jsonscan_val *v,
                            schema_value *out)
{
    int64_t x;
    rowdec_reason r;
    switch (f->type) {
    case SCHEMA_INT:
        if ((r = to_integer(d, f, v, INT32_MIN, true, false, &x)) == ROWDEC_OK)
            out->u.i32 = (int32_t)x;
        return r;
    case SCHEMA_LONG:
        if ((r = to_integer(d, f, v, INT64_MIN, true, false, &x)) == ROWDEC_OK) out->u.i64 = x;
        return r;
    case SCHEMA_TIMESTAMP:
        if ((r = to_integer(d, f, v, INT64_MIN, false, true, &x)) == ROWDEC_OK) out->u.i64 = x;
        return r;
    case SCHEMA_FLOAT:
        return to_double(d, f, v, true, out);
    case SCHEMA_DOUBLE:
        return to_double(d, f, v, false, out);
    case SCHEMA_BOOLEAN:
        return to_boolean(d, f, v, out);
    case SCHEMA_STRING:
        if ((r = f->json ? to_json(d, f, v, out) : to_string(d, f, v, out)) != ROWDEC_OK) return r;
        return sanitize(d, f, out, v->nul_free && !f->json);
    case SCHEMA_BYTES:
        if (f->big_decimal) return to_big_decimal(d, f, v, out); /* Pinot does not sanitize it */
        if ((r = to_bytes(d, f, v, out)) != ROWDEC_OK) return r;
        return sanitize(d, f, out, false);
    default:
        return wrong_type(d, f, v);
    }
}

/* ---- fields and rows ----------------------------------------------------------------------- */

static void set_default(row_col *c, const schema_field *f)
{
    c->is_null = true;
    c->nvals = 1;
    c->v = f->default_null;
    c->mv = &f->default_null;
}

/* Bytes as Java's new String(bytes, UTF_8) reads them: each byte of an invalid sequence
 * becomes U+FFFD. The text lives in the per-message scratch memory. */
static void utf8_text(rowdec *d, const uint8_t *p, size_t n, jsonscan_val *v)
{
    char *o = xform_ctx_alloc(d->xcx, n * 3 + 1);
    v->text = o;
    v->len = (uint32_t)jsonw_utf8_java(p, n, o);
}

void rowdec_set_message(rowdec *d, const rowdec_msg *m)
{
    d->msg_time_ms = m->ms;
    d->msg_key = m->key;
    d->msg_keylen = m->keylen;
    d->msg_offset = m->offset;
    d->msg_partition = m->partition;
    d->msg_headers = m->headers;
    d->msg_nheaders = m->nheaders;
}

bool rowdec_wants_headers(const rowdec *d)
{
    return d->wants_headers;
}

/* The message's header of that name, the last one given (Pinot's row keeps the last), or
 * NULL. */
static const rowdec_header *find_header(const rowdec *d, const char *name)
{
    size_t nl = strlen(name);
    for (size_t j = d->msg_nheaders; j-- > 0;) {
        const rowdec_header *h = &d->msg_headers[j];
        if (h->namelen == nl && memcmp(h->name, name, nl) == 0) return h;
    }
    return NULL;
}

/* stream.kafka.metadata.populate: the message's key, headers, offset, partition and
 * timestamp as the values of the metadata columns (over any value the message carries:
 * Pinot puts them in last). Numbers are decimal text; the key is UTF-8 text (hex for a BYTES
 * column, whose raw bytes Pinot keeps); a header's value is its bytes, hex as Pinot converts
 * them to STRING. */
static void put_metadata(rowdec *d)
{
    for (uint32_t i = 0; i < d->s->nfields; i++) {
        if (d->meta_col[i] == ROWDEC_META_NONE) continue;
        jsonscan_val *v = &d->over[i];
        const schema_field *f = &d->s->fields[i];
        char buf[24];
        int n = -1;
        memset(v, 0, sizeof *v);
        d->has_over[i] = true;
        v->kind = JSONSCAN_NULL;
        if (d->meta_col[i] == ROWDEC_META_KEY) {
            if (d->msg_key && f->type == SCHEMA_BYTES)
                hex_text(d, d->msg_key, d->msg_keylen, v);
            else if (d->msg_key) {
                v->kind = JSONSCAN_STRING;
                utf8_text(d, (const uint8_t *)d->msg_key, d->msg_keylen, v);
            }
            continue;
        }
        if (d->meta_col[i] == ROWDEC_META_HEADER) {
            const rowdec_header *h = find_header(d, f->name + strlen(ROWDEC_HEADER_PREFIX));
            if (h && h->value) hex_text(d, h->value, h->len, v);
            continue;
        }
        if (d->meta_col[i] == ROWDEC_META_OFFSET && d->msg_offset >= 0)
            n = snprintf(buf, sizeof buf, "%" PRId64, d->msg_offset);
        if (d->meta_col[i] == ROWDEC_META_TIME && d->msg_time_ms != INT64_MIN)
            n = snprintf(buf, sizeof buf, "%" PRId64, d->msg_time_ms);
        if (d->meta_col[i] == ROWDEC_META_PARTITION && d->msg_partition >= 0)
            n = snprintf(buf, sizeof buf, "%" PRId32, d->msg_partition);
        if (d->meta_col[i] == ROWDEC_META_SIZE) n = snprintf(buf, sizeof buf, "%zu", d->msg_len);
        v->kind = n < 0 ? JSONSCAN_NULL : JSONSCAN_STRING;
        if (n >= 0) {
            v->text = xform_ctx_copy(d->xcx, buf, (size_t)n);
            v->len = (uint32_t)n;
        }
    }
}

/* The time column, missing in the message: its value is the message's Kafka time in the
 * column's format (Pinot would take the clock, and replicas would differ). */
static void fill_time(rowdec *d, row_col *c, const schema_field *f)
{
    int64_t ms = d->msg_time_ms;
    if (d->fill_sdf) {
        size_t n = xform_format_time(d->time_pattern, ms, d->fill_buf, sizeof d->fill_buf);
        c->v.u.bytes.ptr = (const uint8_t *)d->fill_buf;
        c->v.u.bytes.len = (uint32_t)n;
    } else {
        /* ms * mul / div without overflow for the ms a Kafka timestamp can hold */
        int64_t x = d->fill_mul == 1 ? ms / d->fill_div : ms * d->fill_mul / d->fill_div;
        if (f->type == SCHEMA_INT) {
            if (x < INT32_MIN || x > INT32_MAX) return; /* does not fit: the default stays */
            c->v.u.i32 = (int32_t)x;
        } else {
            c->v.u.i64 = x;
        }
    }
    c->mv = &c->v;
}

/* Pinot's TimeUtils valid range: [1971-01-01, 2071-01-01] UTC, in ms. */
#define ROWDEC_TIME_VALID_MIN_MS 31536000000LL
#define ROWDEC_TIME_VALID_MAX_MS 3187296000000LL

/* rowTimeValueCheck (Pinot's TimeValidationTransformer) of the time column's decoded value:
 * its instant in ms must lie in the valid range. Out of it the row is rejected, or under
 * continueOnError the value becomes null, which (as a missing value) takes the message's
 * Kafka time when there is one. */
static rowdec_reason check_time(rowdec *d, row_col *c, const schema_field *f)
{
    int64_t ms;
    char why[160];
    if (d->fill_sdf) {
        if (xform_parse_time(d->time_pattern, (const char *)c->v.u.bytes.ptr, c->v.u.bytes.len, &ms,
                             why, sizeof why))
            return ROWDEC_OK; /* the format check reports it */
    } else {
        int64_t x = f->type == SCHEMA_INT ? c->v.u.i32 : c->v.u.i64;
        /* the column is ms * mul / div: back to ms, saturating */
        __int128 w = (__int128)x * d->fill_div / d->fill_mul;
        ms = w > INT64_MAX ? INT64_MAX : w < INT64_MIN ? INT64_MIN : (int64_t)w;
    }
    if (ms >= ROWDEC_TIME_VALID_MIN_MS && ms <= ROWDEC_TIME_VALID_MAX_MS) return ROWDEC_OK;
    if (!d->xf_continue) {
        snprintf(d->detail, sizeof d->detail,
                 "time column %s: %" PRId64 " ms is outside 1971-01-01 to 2071-01-01", f->name, ms);
        return ROWDEC_TIME_RANGE;
    }
    set_default(c, f);
    if (d->msg_time_ms != INT64_MIN) fill_time(d, c, f);
    return ROWDEC_OK;
}

/* A message's value as a transform's input. */
static xform_val xf_input(const jsonscan_val *v)
{
    switch (v->kind) {
    case JSONSCAN_BOOL:
        return (xform_val){.kind = XFORM_BOOL, .i = v->v.b};
    case JSONSCAN_INT64:
        return (xform_val){.kind = XFORM_LONG, .i = v->v.i64};
    case JSONSCAN_UINT64:
        return (xform_val){.kind = XFORM_DOUBLE, .d = (double)v->v.u64};
    case JSONSCAN_DOUBLE:
        return (xform_val){.kind = XFORM_DOUBLE, .d = v->v.f64};
    case JSONSCAN_BIGNUM:
    case JSONSCAN_STRING:
        return (xform_val){.kind = XFORM_STRING, .s = v->text, .len = v->len};
    case JSONSCAN_OBJECT:
    case JSONSCAN_ARRAY:
        return (xform_val){.kind = XFORM_JSON, .s = v->text, .len = v->len};
    case JSONSCAN_BYTES:
        return (xform_val){.kind = XFORM_BYTES, .s = v->text, .len = v->len};
    default:
        return (xform_val){.kind = XFORM_NULL};
    }
}

/* A transform's value as the JSON value the decoder converts (numbers get their text). */
static void xf_output(rowdec *d, const xform_val *x, jsonscan_val *v)
{
    memset(v, 0, sizeof *v);
    char buf[48];
    size_t n;
    switch (x->kind) {
    case XFORM_NULL:
        v->kind = JSONSCAN_NULL;
        return;
    case XFORM_BOOL:
        v->kind = JSONSCAN_BOOL;
        v->v.b = x->i != 0;
        return;
    case XFORM_STRING:
        v->kind = JSONSCAN_STRING;
        v->text = x->s;
        v->len = x->len;
        return;
    case XFORM_BYTES:
        hex_text(d, (const uint8_t *)x->s, x->len, v);
        return;
    case XFORM_ARRAY: {
        if (d->nxel + x->len > d->xel_cap) {
            d->xel_cap = (d->nxel + x->len) * 2;
            d->xel = sl_xrealloc(d->xel, d->xel_cap * sizeof *d->xel);
        }
        size_t first = d->nxel;
        d->nxel += x->len;
        for (uint32_t k = 0; k < x->len; k++) /* an element is never an array */
            xf_output(d, &x->elems[k], &d->xel[first + k]);
        v->kind = JSONSCAN_LIST;
        v->v.list.first = (uint32_t)first;
        v->v.list.count = x->len;
        return;
    }
    case XFORM_JSON:
        v->kind = x->len && x->s[0] == '[' ? JSONSCAN_ARRAY : JSONSCAN_OBJECT;
        v->text = x->s;
        v->len = x->len;
        return;
    case XFORM_LONG:
        v->kind = JSONSCAN_INT64;
        v->v.i64 = x->i;
        v->int_literal = true;
        n = (size_t)snprintf(buf, sizeof buf, "%" PRId64, x->i);
        break;
    default:
        v->kind = JSONSCAN_DOUBLE;
        v->v.f64 = x->d;
        n = jsonw_fmt_f64(buf, x->d);
        break;
    }
    /* the text lives in the transforms' scratch memory, reset once per message */
    v->text = xform_ctx_copy(d->xcx, buf, n);
    v->len = (uint32_t)n;
}

/* The table's filter over the message (its fields, a transformed column's new value): true
 * drops it. A failure rejects it, or under continueOnError keeps it (Pinot's record is kept). */
static rowdec_reason run_filter(rowdec *d, bool *drop)
{
    *drop = false;
    for (uint32_t k = 0; k < xform_ninputs(d->filter); k++) {
        uint32_t i = d->filter_in[k];
        bool own = i < d->s->nfields && d->has_over && d->has_over[i];
        d->xf_args[k] = xf_input(own ? &d->over[i] : field_val(d, i));
    }
    xform_val out;
    char why[160];
    if (xform_eval(d->filter, d->xf_args, d->xcx, &out, why, sizeof why)) {
        if (d->xf_continue) return ROWDEC_OK;
        snprintf(d->detail, sizeof d->detail, "filterFunction: %s", why);
        return ROWDEC_TRANSFORM;
    }
    *drop = out.kind == XFORM_BOOL && out.i;
    return ROWDEC_OK;
}

uint64_t rowdec_filtered(const rowdec *d)
{
    return d->filtered;
}

/* Run the table's transforms over the scanned message: each destination the message lacks
 * (absent or null) gets its expression's value. */
static rowdec_reason run_transforms(rowdec *d)
{
    d->nxel = 0;
    for (uint32_t j = 0; j < d->nxf; j++) {
        uint32_t i = d->xf_field[j];
        const jsonscan_val *v = field_val(d, i);
        d->has_over[i] = false;
        if (!d->xf_always[j] && v->kind != JSONSCAN_ABSENT && v->kind != JSONSCAN_NULL)
            continue; /* Pinot keeps it */
        const xform_expr *e = d->xf_expr[j];
        for (uint32_t k = 0; k < xform_ninputs(e); k++) {
            uint32_t in = d->xf_in[j][k]; /* a metadata column: Kafka's value (put_metadata) */
            bool meta = d->meta_col && in < d->s->nfields && d->meta_col[in] != ROWDEC_META_NONE;
            d->xf_args[k] = xf_input(meta ? &d->over[in] : field_val(d, in));
        }
        xform_val out;
        char why[160];
        if (xform_eval(e, d->xf_args, d->xcx, &out, why, sizeof why)) {
            if (!d->xf_continue) {
                d->err_field = (int)i;
                snprintf(d->detail, sizeof d->detail, "transform of %s: %s", d->s->fields[i].name,
                         why);
                return ROWDEC_TRANSFORM;
            }
            out = (xform_val){.kind = XFORM_NULL};
        }
        xf_output(d, &out, &d->over[i]);
        d->has_over[i] = true;
    }
    return ROWDEC_OK;
}

static rowdec_reason decode_field(rowdec *d, uint32_t i)
{
    const schema_field *f = &d->s->fields[i];
    const jsonscan_val *v = d->has_over && d->has_over[i] ? &d->over[i] : field_val(d, i);
    row_col *c = &d->cols[i];

    if (v->kind == JSONSCAN_ABSENT || v->kind == JSONSCAN_NULL) {
        set_default(c, f);
        if ((int)i == d->fill_col && d->msg_time_ms != INT64_MIN) fill_time(d, c, f);
        return ROWDEC_OK;
    }
    bool over = d->has_over && d->has_over[i];
    if (f->single_value && v->kind == JSONSCAN_LIST && !over) {
        /* a CSV cell split at the multi-value delimiter (always >= 2 values): Pinot cannot
         * read one value from them */
        snprintf(d->detail, sizeof d->detail, "%u values for a single-value column",
                 v->v.list.count);
        return ROWDEC_WRONG_TYPE;
    }
    if (f->single_value && v->kind == JSONSCAN_LIST && over) {
        /* a transform's multi-value result: one value is the value (Pinot standardizes a
         * one-element array), none is null, more cannot go in one value (under
         * continueOnError: null, as for any failing transform) */
        if (v->v.list.count > 1 && !d->xf_continue) {
            snprintf(d->detail, sizeof d->detail,
                     "transform of %s: %u values for a single-value column", f->name,
                     v->v.list.count);
            return ROWDEC_TRANSFORM;
        }
        if (v->v.list.count != 1 || d->xel[v->v.list.first].kind == JSONSCAN_NULL) {
            set_default(c, f);
            return ROWDEC_OK;
        }
        v = &d->xel[v->v.list.first];
    }
    c->is_null = false;
    if (f->single_value) {
        c->nvals = 1;
        c->mv = &c->v;
        rowdec_reason r = coerce(d, f, v, &c->v);
        int64_t ms;
        char why[160];
        if (r == ROWDEC_OK && (int)i == d->time_col &&
            xform_parse_time(d->time_pattern, (const char *)c->v.u.bytes.ptr, c->v.u.bytes.len, &ms,
                             why, sizeof why)) {
            snprintf(d->detail, sizeof d->detail, "time column: %s", why);
            return ROWDEC_WRONG_TYPE;
        }
        if (r == ROWDEC_OK && d->time_check && (int)i == d->fill_col) r = check_time(d, c, f);
        return r;
    }

    /* Multi-value: room for every element was reserved before the first field. */
    schema_value *base = d->mv + d->mv_used;
    uint32_t n = 0;
    if (v->kind == JSONSCAN_LIST) {
        const jsonscan_val *el = (over ? d->xel : field_elems(d)) + v->v.list.first;
        for (uint32_t k = 0; k < v->v.list.count; k++) {
            if (el[k].kind == JSONSCAN_NULL) continue; /* Pinot drops null elements */
            if (el[k].kind == JSONSCAN_ARRAY) {
                snprintf(d->detail, sizeof d->detail, "nested array in multi-value %s column",
                         type_name(f->type));
                return ROWDEC_WRONG_TYPE;
            }
            rowdec_reason r = coerce(d, f, &el[k], &base[n]);
            if (r != ROWDEC_OK) return r;
            n++;
        }
        if (n == 0) { /* [] or [null, ...] */
            set_default(c, f);
            return ROWDEC_OK;
        }
    } else {
        rowdec_reason r = coerce(d, f, v, &base[0]);
        if (r != ROWDEC_OK) return r;
        n = 1;
    }
    d->mv_used += n;
    c->nvals = n;
    c->mv = base;
    c->v = base[0];
    return ROWDEC_OK;
}

static rowdec_reason decode_row(rowdec *d, size_t len, const row **out);

rowdec_reason rowdec_decode(rowdec *d, const uint8_t *msg, size_t len, const row **out)
{
    *out = NULL;
    d->err_field = -1;
    d->detail[0] = '\0';
    if (d->xcx) xform_ctx_reset(d->xcx); /* the previous row's strings */
    d->cplx_row = 0;
    d->cplx_rows = 1;
    if (len == 0) {
        snprintf(d->detail, sizeof d->detail, "empty message");
        return ROWDEC_EMPTY;
    }
    if (len > d->max_bytes) {
        snprintf(d->detail, sizeof d->detail, "%zu bytes > limit %zu", len, d->max_bytes);
        return ROWDEC_OVERSIZED;
    }

    size_t whole = len; /* the message's length, Confluent's header included */
    if (d->reg) { /* Confluent's JSON Schema wire format: the schema must exist; not checked */
        int32_t id;
        const char *text, *type;
        size_t tl;
        if (registry_wire(msg, len, &id, &msg, &len)) {
            snprintf(d->detail, sizeof d->detail, "unknown magic byte: not Confluent's format");
            return ROWDEC_MALFORMED_JSON;
        }
        if (registry_schema(d->reg, id, &text, &tl, &type, d->detail, sizeof d->detail))
            return ROWDEC_NO_SCHEMA;
        if (strcmp(type, "JSON") != 0) {
            snprintf(d->detail, sizeof d->detail,
                     "schema id %" PRId32 " is a %.16s schema, not JSON", id, type);
            return ROWDEC_NO_SCHEMA;
        }
    }
    if (d->csv && csvscan_run(d->csv, msg, len)) {
        snprintf(d->detail, sizeof d->detail, "%s", csvscan_error_text(d->csv));
        return ROWDEC_MALFORMED_CSV;
    }
    if (d->pb && pbscan_run(d->pb, msg, len)) {
        snprintf(d->detail, sizeof d->detail, "%s", pbscan_error_text(d->pb));
        return ROWDEC_MALFORMED_PROTOBUF;
    }
    avroscan_status ast = d->avro ? avroscan_run(d->avro, msg, len) : AVROSCAN_OK;
    if (ast != AVROSCAN_OK) {
        snprintf(d->detail, sizeof d->detail, "%s", avroscan_error_text(d->avro));
        return ast == AVROSCAN_NO_SCHEMA ? ROWDEC_NO_SCHEMA : ROWDEC_MALFORMED_AVRO;
    }
    jsonscan_status st = d->scan ? jsonscan_run(d->scan, msg, len) : JSONSCAN_OK;
    if (st != JSONSCAN_OK) {
        d->err_field = jsonscan_error_index(d->scan);
        snprintf(d->detail, sizeof d->detail, "%s", jsonscan_error_text(d->scan));
        switch (st) {
        case JSONSCAN_NOT_OBJECT:
            return ROWDEC_NOT_OBJECT;
        case JSONSCAN_INVALID_UTF8:
            return ROWDEC_INVALID_UTF8;
        default:
            return ROWDEC_MALFORMED_JSON;
        }
    }
    d->msg_bytes = whole;
    if (d->cplx) {
        const uint8_t *cm = msg;
        size_t cl = len;
        if (d->avro && !(cm = (const uint8_t *)avroscan_record_json(d->avro, &cl))) {
            snprintf(d->detail, sizeof d->detail, "the record cannot be read as JSON");
            return ROWDEC_MALFORMED_AVRO;
        }
        if (d->pb) cm = (const uint8_t *)pbscan_record_json(d->pb, &cl);
        cplxscan_status cs = cplxscan_run(d->cplx, cm, cl);
        if (cs != CPLXSCAN_OK) {
            snprintf(d->detail, sizeof d->detail, "%s", cplxscan_error_text(d->cplx));
            return cs == CPLXSCAN_NOT_OBJECT                          ? ROWDEC_NOT_OBJECT
                   : cs == CPLXSCAN_TOO_MANY || cs == CPLXSCAN_ENRICH ? ROWDEC_TRANSFORM
                                                                      : ROWDEC_MALFORMED_JSON;
        }
        d->cplx_rows = cplxscan_rows(d->cplx);
    }
    return decode_row(d, whole, out);
}

int rowdec_csv_load(rowdec *d, const uint8_t *text, size_t len, char *err, size_t errlen)
{
    if (csvscan_load(d->csv, text, len) == 0) return 0;
    snprintf(err, errlen, "%s", csvscan_error_text(d->csv));
    return -1;
}

rowdec_reason rowdec_csv_next(rowdec *d, const row **out, bool *end)
{
    *out = NULL;
    *end = false;
    d->err_field = -1;
    d->detail[0] = '\0';
    if (d->xcx) xform_ctx_reset(d->xcx);
    int rc = csvscan_next(d->csv);
    const char *span;
    size_t n;
    csvscan_span(d->csv, &span, &n);
    if (rc < 0) {
        snprintf(d->detail, sizeof d->detail, "%s", csvscan_error_text(d->csv));
        return ROWDEC_MALFORMED_CSV;
    }
    if (rc == 0) {
        *end = true;
        return ROWDEC_OK;
    }
    if (n > d->max_bytes) {
        snprintf(d->detail, sizeof d->detail, "%zu bytes > limit %zu", n, d->max_bytes);
        return ROWDEC_OVERSIZED;
    }
    d->cplx_row = 0;
    d->cplx_rows = 1;
    d->msg_bytes = n;
    return decode_row(d, n, out);
}

void rowdec_csv_span(const rowdec *d, const char **p, size_t *n)
{
    csvscan_span(d->csv, p, n);
}

void rowdec_avro_in_place(rowdec *d)
{
    avroscan_in_place(d->avro);
}

size_t rowdec_used(const rowdec *d)
{
    return avroscan_used(d->avro);
}

uint32_t rowdec_rows(const rowdec *d)
{
    return d->cplx_rows;
}

bool rowdec_next(rowdec *d, rowdec_reason *why, const row **out)
{
    *out = NULL;
    if (!d->cplx || d->cplx_row + 1 >= d->cplx_rows) return false;
    d->err_field = -1;
    d->detail[0] = '\0';
    xform_ctx_reset(d->xcx); /* the previous row's strings */
    cplxscan_select(d->cplx, ++d->cplx_row);
    *why = decode_row(d, d->msg_bytes, out);
    return true;
}

/* The pipeline after the scan, for the selected row: transforms, metadata, the filter, the
 * coercion of every field. */
static rowdec_reason decode_row(rowdec *d, size_t len, const row **out)
{
    d->nxel = 0;
    d->msg_len = len;
    /* the metadata columns first, so that transforms read Kafka's values (Pinot's decoder
     * adds them to the row before the transformers), and again after a transform that wrote
     * one: they are put last */
    if (d->meta_col) put_metadata(d);
    if (d->nxf) {
        rowdec_reason r = run_transforms(d);
        if (r != ROWDEC_OK) return r;
        if (d->meta_dest) put_metadata(d);
    }
    if (d->filter) {
        bool drop;
        rowdec_reason r = run_filter(d, &drop);
        if (r != ROWDEC_OK) return r;
        if (drop) {
            d->filtered++;
            return ROWDEC_OK; /* *out stays NULL */
        }
    }
    /* Reserve before decoding so no pointer in the row moves: every multi-value value is an
     * element (the scanner's or a transform's) or a lone scalar/default (<= elements +
     * fields), and every BYTES value is at most half of a string that lies inside the message
     * or is a transform's value. */
    size_t need_mv = (size_t)field_nelems(d) + d->nxel + d->s->nfields;
    if (need_mv > d->mv_cap) {
        d->mv_cap = need_mv * 2;
        d->mv = sl_xrealloc(d->mv, d->mv_cap * sizeof *d->mv);
    }
    d->mv_used = 0;
    d->bytes_used = 0;
    size_t need_bytes = len / 2 + 1;
    if (d->sv) { /* not jsonscan: raw BYTES values, and strings not from the message */
        need_bytes = 1;
        for (uint32_t i = 0; i < d->s->nfields; i++)
            need_bytes += field_val(d, i)->len;
        for (uint32_t k = 0; k < field_nelems(d); k++)
            need_bytes += field_elems(d)[k].len;
    }
    if (d->has_over) {
        for (uint32_t i = 0; i < d->s->nfields; i++) /* a transform's hex lies outside */
            if (d->has_over[i] && d->over[i].kind == JSONSCAN_STRING)
                need_bytes += d->over[i].len / 2;
    }
    for (size_t k = 0; k < d->nxel; k++)
        if (d->xel[k].kind == JSONSCAN_STRING) need_bytes += d->xel[k].len / 2;
    if (need_bytes > d->bytes_cap) {
        d->bytes_cap = need_bytes * 2;
        d->bytes = sl_xrealloc(d->bytes, d->bytes_cap);
    }

    for (uint32_t i = 0; i < d->s->nfields; i++) {
        rowdec_reason r = decode_field(d, i);
        if (r != ROWDEC_OK) {
            d->err_field = (int)i;
            return r;
        }
    }
    *out = &d->out;
    return ROWDEC_OK;
}
