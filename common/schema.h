/* Pinot schema (dimensionFieldSpecs, metricFieldSpecs, dateTimeFieldSpecs) as Sluice holds it.
 *
 * A schema is immutable once loaded and is shared read-only by every thread. Field order is
 * the order of the JSON arrays, dimensions first, then metrics, then date-time fields: that
 * order is the column order of every segment and must therefore never depend on hashing. */
#ifndef SL_SCHEMA_H
#define SL_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum schema_type {
    SCHEMA_INT = 0,   /* int32 */
    SCHEMA_LONG,      /* int64 */
    SCHEMA_FLOAT,     /* float (IEEE binary32) */
    SCHEMA_DOUBLE,    /* double */
    SCHEMA_BOOLEAN,   /* stored as int32 0/1, as Pinot does */
    SCHEMA_TIMESTAMP, /* int64 milliseconds since the epoch */
    SCHEMA_STRING,    /* UTF-8 bytes */
    SCHEMA_BYTES,     /* raw bytes (hex string in JSON) */
    SCHEMA_TYPE__COUNT
} schema_type;

typedef enum schema_role {
    SCHEMA_DIMENSION = 0,
    SCHEMA_METRIC,
    SCHEMA_DATETIME,
    SCHEMA_ROLE__COUNT
} schema_role;

/* Pinot's maxLengthExceedStrategy: what a STRING or BYTES value longer than its field's
 * maxLength (or, for STRING, holding a NUL character) becomes. */
typedef enum schema_maxlen {
    SCHEMA_MAXLEN_DEFAULT = 0,        /* Pinot's: TRIM_LENGTH for STRING, NO_ACTION for BYTES */
    SCHEMA_MAXLEN_TRIM_LENGTH,        /* cut at maxLength (and STRING at its first NUL) */
    SCHEMA_MAXLEN_SUBSTITUTE_DEFAULT, /* SUBSTITUTE_DEFAULT_VALUE: the default null value */
    SCHEMA_MAXLEN_ERROR,              /* the row is rejected */
    SCHEMA_MAXLEN_NO_ACTION,          /* kept (a STRING with a NUL is still cut there) */
    SCHEMA_MAXLEN__COUNT
} schema_maxlen;

/* Pinot's FieldSpec.DEFAULT_MAX_LENGTH. */
#define SCHEMA_DEFAULT_MAX_LENGTH 512u

/* A single typed value. Strings and bytes point at memory owned by whoever produced the
 * value (the schema for defaults, the decoder's row for decoded values). */
typedef struct schema_value {
    union {
        int32_t i32; /* INT, BOOLEAN */
        int64_t i64; /* LONG, TIMESTAMP */
        float f32;   /* FLOAT */
        double f64;  /* DOUBLE */
        struct {
            const uint8_t *ptr;
            uint32_t len;
        } bytes; /* STRING, BYTES */
    } u;
} schema_value;

typedef struct schema_field {
    char *name; /* owned by the schema */
    schema_type type;
    schema_role role;
    bool single_value;         /* false: multi-value column */
    bool default_explicit;     /* defaultNullValue was given in the JSON */
    schema_value default_null; /* Pinot's default, or the explicit one (bytes owned by schema) */
    char *format;              /* dateTimeFieldSpecs "format", or NULL; owned */
    char *granularity;         /* dateTimeFieldSpecs "granularity", or NULL; owned */
    /* sanitization (Pinot's SanitizationTransformer, STRING and BYTES): maxLength, 0 for
     * Pinot's SCHEMA_DEFAULT_MAX_LENGTH, counted in UTF-16 code units for STRING (as Java
     * counts) and in bytes for BYTES; maxLengthExceedStrategy, SCHEMA_MAXLEN_DEFAULT unless
     * given. Zero-initialised fields therefore behave as Pinot's defaults. */
    uint32_t max_length;
    schema_maxlen max_strategy;
    /* notNull: with column-based null handling (schema.column_nulls) a notNull column
     * records no nulls (its null values are stored as the default, unmarked), as Pinot writes
     * no null vector for it */
    bool not_null, not_null_explicit;
    /* dataType JSON: stored as a STRING column holding each value's canonical JSON text
     * (jsonw_canonical); single-value dimensions only, as in Pinot. */
    bool json;
    /* dataType BIG_DECIMAL: stored as a BYTES column holding each value as Pinot serializes a
     * BigDecimal (common/bigdec.h); single-value only; its default is 0 */
    bool big_decimal;
    /* Pinot's field-level "transformFunction" (the older form of an ingestion transform;
     * docs/transforms.md): its text and its compiled expression, both owned, or NULL. The
     * decoder runs it as it runs ingestionConfig.transformConfigs, which take precedence. */
    char *transform_text;
    struct xform_expr *transform;
} schema_field;

typedef struct schema {
    char *name; /* schemaName; owned */
    uint32_t nfields;
    schema_field *fields; /* owned array */
    /* primaryKeyColumns (carried: kept for the servers; no upsert here), field indexes */
    uint32_t *primary_keys; /* owned, or NULL */
    uint32_t nprimary_keys;
    /* enableColumnBasedNullHandling: nulls are recorded only in columns not marked notNull
     * (schema_records_nulls); otherwise in every column */
    bool column_nulls, column_nulls_explicit;
} schema;

/* Whether field i of s records its nulls in the segment's null bitmap. */
static inline bool schema_records_nulls(const schema *s, uint32_t i)
{
    return !(s->column_nulls && s->fields[i].not_null);
}

/* Whether f's date-time format is EPOCH or TIMESTAMP; then a time of ms milliseconds since the
 * epoch is ms * *mul / *div in that format (truncated, as Java's TimeUnit converts). */
bool schema_time_scale(const schema_field *f, int64_t *mul, int64_t *div);

/* Whether f's date-time format is SIMPLE_DATE_FORMAT; then its pattern into buf (cap bytes)
 * and *zone the time zone the format names (borrowed from f), or NULL. */
bool schema_sdf_pattern(const schema_field *f, char *buf, size_t cap, const char **zone);

/* Pinot's name of a maxLengthExceedStrategy ("TRIM_LENGTH", ...). */
const char *schema_maxlen_name(schema_maxlen m);

/* Name of a type as Pinot spells it ("INT", ...). */
const char *schema_type_name(schema_type t);
/* Name of a role ("dimension", "metric", "dateTime"). */
const char *schema_role_name(schema_role r);
/* Fixed storage width in bytes of a type, or 0 for STRING/BYTES (and an unknown type). */
uint32_t schema_type_width(schema_type t);
/* Whether values of the type have a variable length (STRING, BYTES). */
bool schema_type_is_var(schema_type t);

struct jsonw;
/* Write one value of type t as JSON: INT, LONG and TIMESTAMP as integers, BOOLEAN as true or
 * false, FLOAT and DOUBLE in the shortest text that reads back to the same value (non-finite
 * ones as the strings "Infinity", "-Infinity", "NaN"), STRING as text, BYTES as lowercase hex,
 * an unknown type as null. With real_point a finite FLOAT or DOUBLE always shows a '.' or an
 * exponent ("1.0", never "1"), as the canonical schema text writes defaults. */
void schema_value_json(struct jsonw *w, schema_type t, const schema_value *v, bool real_point);

/* A BIG_DECIMAL value (its serialized bytes) as Java's BigDecimal text into buf (cap bytes,
 * NUL-terminated); false when the bytes are not a serialized BigDecimal or buf is too small.
 * schema_big_decimal_json writes that text as a JSON string (the bytes' hex if they are not). */
bool schema_big_decimal_text(const schema_value *v, char *buf, size_t cap);
void schema_big_decimal_json(struct jsonw *w, const schema_value *v);

/* Parse a schema from JSON text. On error returns NULL and writes "KEY: REASON" into
 * err (errlen bytes). `source` names the file in messages. Caller frees with schema_free. */
schema *schema_parse(const char *json, size_t len, const char *source, char *err, size_t errlen);

/* Load and parse a schema file. Errors are "FILE: KEY: REASON". Caller frees with schema_free. */
schema *schema_load(const char *path, char *err, size_t errlen);

/* Index of the field called name, or -1. */
int schema_find(const schema *s, const char *name);

/* Canonical JSON of the schema (fixed key order, no whitespace variation), as stored in
 * segment metadata. Caller frees with free(). *len receives the length (no NUL counted). */
char *schema_to_json(const schema *s, size_t *len);

void schema_free(schema *s);

#endif
