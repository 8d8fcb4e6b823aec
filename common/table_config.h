/* Pinot table config (the subset Sluice supports), validated against its schema.
 *
 * Unsupported keys are rejected by name; nothing is silently ignored. Immutable once loaded. */
#ifndef SL_TABLE_CONFIG_H
#define SL_TABLE_CONFIG_H

#include "common/schema.h"
#include "common/xform.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum tcfg_table_type { TCFG_REALTIME = 0, TCFG_OFFLINE } tcfg_table_type;
typedef enum tcfg_offset_reset { TCFG_RESET_SMALLEST = 0, TCFG_RESET_LARGEST } tcfg_offset_reset;
typedef enum tcfg_consumer_type {
    TCFG_CONSUMER_LOWLEVEL = 0,
    TCFG_CONSUMER_HIGHLEVEL
} tcfg_consumer_type;

/* One pass-through property (stream.kafka.consumer.prop.X = V, minus auto.offset.reset). */
typedef struct tcfg_prop {
    char *key;   /* librdkafka property name; owned */
    char *value; /* owned */
} tcfg_prop;

/* The stream's message decoder (stream.kafka.decoder.class.name, by Pinot's class names). */
typedef enum tcfg_decoder {
    TCFG_DECODER_JSON = 0,      /* JSONMessageDecoder, KafkaJSONMessageDecoder */
    TCFG_DECODER_CSV,           /* CSVMessageDecoder: t->csv */
    TCFG_DECODER_AVRO,          /* SimpleAvroMessageDecoder: t->avro_schema */
    TCFG_DECODER_AVRO_REGISTRY, /* KafkaConfluentSchemaRegistryAvroMessageDecoder */
    TCFG_DECODER_PROTOBUF,      /* ProtoBufMessageDecoder: t->pb, t->pb_msg */
    TCFG_DECODER_JSON_REGISTRY, /* KafkaConfluentSchemaRegistryJsonMessageDecoder */
} tcfg_decoder;

/* CSVMessageDecoder's properties (stream.kafka.decoder.prop.*, docs/stream-decoders.md), with
 * the chosen fileFormat's defaults filled in. A character option is -1 when unset. */
typedef struct tcfg_csv {
    char delimiter;
    int quote, escape, comment;
    int mv_delimiter;  /* multiValueDelimiter: -1 leaves values unsplit (Pinot's default) */
    char *null_string; /* owned, or NULL */
    char **header;     /* owned; NULL: each message's first record names the columns */
    uint32_t nheader;
    bool skip_header; /* with a header: the message's first record is skipped */
    bool ignore_empty_lines, ignore_surrounding_spaces;
    bool strict_quote; /* quoteMode ALL_NON_NULL or NON_NUMERIC: a quoted nullString is text */
    bool stop_on_error; /* a file reader's stopOnError: a bad record ends the file */
} tcfg_csv;

struct json_t;
/* Pinot's CSVRecordReaderConfig (a job spec's recordReaderSpec.configs; string members by
 * Pinot's names, no prefix) -> o, with the batch reader's defaults (delimiter ',', quote '"',
 * empty lines and surrounding spaces ignored, multi-value cells split at ';'). src and path
 * name the file and the map in errors. 0, or SL_EINVAL with every refused member in err, a
 * line each (o then holds nothing). The caller frees o with tcfg_csv_free. */
int tcfg_csv_reader(const struct json_t *m, const char *src, const char *path, tcfg_csv *o,
                    char *err, size_t errlen);
/* Free what o owns (o itself is the caller's); o is left empty. */
void tcfg_csv_free(tcfg_csv *o);

/* ingestionConfig.complexTypeConfig (docs/transforms.md#complex-types): nested objects are
 * flattened into columns named by their path joined with the delimiter, and each element of
 * a field to unnest becomes a row of its own. */
typedef struct tcfg_complex {
    char **unnest; /* fieldsToUnnest, in order (flattened names); owned */
    uint32_t nunnest;
    char *delimiter;   /* owned; default "." */
    bool all_to_json;  /* collectionNotUnnestedToJson ALL (default NON_PRIMITIVE) */
    tcfg_prop *rename; /* prefixesToRename: key = prefix, value = its replacement; owned */
    uint32_t nrename;
} tcfg_complex;

/* One column of an ingestionConfig.enrichmentConfigs generateColumn enricher: its value is
 * always the expression's (docs/transforms.md#enrichment). */
typedef struct tcfg_enrich {
    char *column;     /* owned */
    xform_expr *expr; /* owned */
    int field;        /* its schema field, or -1 (only before the complex-type transform) */
    bool pre_complex; /* preComplexTypeTransform with a complexTypeConfig: it feeds that */
} tcfg_enrich;

/* One ingestionConfig.transformConfigs entry: the destination column and its expression. */
typedef struct tcfg_transform {
    uint32_t field;   /* schema field index: single-value */
    xform_expr *expr; /* owned */
} tcfg_transform;

typedef struct tcfg {
    char *table_name; /* owned; without any _REALTIME/_OFFLINE suffix */
    tcfg_table_type type;
    uint32_t replication; /* >= 1 */
    bool dim_table;       /* OFFLINE isDimTable: every segment on every sidecar */
    bool push_hourly;     /* segmentsConfig.segmentPushFrequency HOURLY (the time boundary) */
    char *time_column;    /* owned, or NULL */
    bool *no_dictionary;  /* owned; per schema field index: true = raw (no dictionary) */
    uint32_t nfields;     /* length of no_dictionary (== schema nfields) */
    /* stream config (REALTIME only; zero/NULL for OFFLINE) */
    char *topic;       /* owned */
    char *broker_list; /* owned */
    tcfg_offset_reset offset_reset;
    tcfg_consumer_type consumer_type;
    char *decoder_class; /* owned; the decoder's class name as configured */
    tcfg_decoder decoder;
    tcfg_csv csv;              /* TCFG_DECODER_CSV */
    char *avro_schema;         /* TCFG_DECODER_AVRO: the writer schema's JSON text; owned */
    uint32_t avro_skip;        /* TCFG_DECODER_AVRO: leading.bytes.to.strip */
    char *registry_url;        /* the _REGISTRY decoders: schema.registry.rest.url; owned */
    char *registry_userinfo;   /* its basic.auth.user.info ("user:password"), or NULL; owned */
    struct pbdesc *pb;         /* TCFG_DECODER_PROTOBUF: the descriptorFile's types; owned */
    int pb_msg;                /* ... and the message type (protoClassName) in it */
    uint64_t flush_rows;       /* 0 = not set */
    uint64_t flush_time_ms;    /* 0 = not set */
    uint64_t flush_size_bytes; /* 0 = not set (enables autotune when set) */
    bool pauseless;            /* realtime.segment.pauseless.enabled (default true, DESIGN §9) */
    /* stream.kafka.partition.ids: the topic's partitions this table consumes, sorted, each
     * once (owned), or NULL for all of them */
    int32_t *partition_ids;
    size_t npartition_ids;
    bool metadata_populate; /* stream.kafka.metadata.populate: the __key / __metadata$...
                             * columns take the message's metadata (rowdec_set_message) */
    uint32_t nprops;
    tcfg_prop *props; /* owned array */
    /* Pinot keys accepted but not used by ingestion (query side, operations), as dotted paths
     * in the order met ("tenants", "tableIndexConfig.loadMode", ...); owned. The stored config
     * keeps them verbatim for the servers that use them. */
    char **carried;
    uint32_t ncarried;
    /* ingestionConfig.transformConfigs (docs/transforms.md), in config order; no entry reads
     * another's destination. continue_on_error: ingestionConfig.continueOnError (a failing
     * transform leaves its column null instead of rejecting the row). */
    tcfg_transform *transforms; /* owned */
    uint32_t ntransforms;
    /* ingestionConfig.aggregationConfigs (REALTIME): per schema field its mseg_agg
     * (consumer/mseg.h: 0 none, 1 SUM, 2 MIN, 3 MAX; a COUNT(*) is a SUM of the constant 1
     * that a transform gives), or NULL: rows are not merged. Owned. Each aggregated column
     * also has a transform (above) giving it the aggregated source field. */
    uint8_t *agg;
    bool continue_on_error;
    /* ingestionConfig.filterConfig.filterFunction (docs/transforms.md#filters): a row for which
     * it is true is dropped (counted, not an error); owned, or NULL */
    xform_expr *filter;
    tcfg_complex *complex; /* owned, or NULL: no complexTypeConfig */
    tcfg_enrich *enrich;   /* enrichmentConfigs' generateColumn columns, in order; owned */
    uint32_t nenrich;
    /* ingestionConfig.rowTimeValueCheck: the time column must lie in 1971-2071 (rowdec) */
    bool row_time_check;
} tcfg;

/* Parse a table config from JSON text, validated against schema s (which must outlive
 * nothing: the tcfg copies what it needs). On error NULL and "SOURCE: KEY: REASON" in err.
 * Caller frees with tcfg_free. */
tcfg *tcfg_parse(const char *json, size_t len, const char *source, const schema *s, char *err,
                 size_t errlen);

/* Load and parse a table config file. Caller frees with tcfg_free. */
tcfg *tcfg_load(const char *path, const schema *s, char *err, size_t errlen);

/* A schema and the table config that uses it, from JSON texts (tcfg_parse_pair) or files
 * (tcfg_load_pair). err gets every refused key of both, a line each: when the schema fails,
 * the table config is still checked for everything that does not need the schema. 0 with *s
 * and *t (the caller frees both), or SL_EINVAL with both NULL. */
int tcfg_parse_pair(const char *sjson, size_t slen, const char *ssource, const char *tjson,
                    size_t tlen, const char *tsource, schema **s, tcfg **t, char *err,
                    size_t errlen);
int tcfg_load_pair(const char *schema_path, const char *table_path, schema **s, tcfg **t, char *err,
                   size_t errlen);

/* Parse a duration such as "6h", "90s", "15m", "2d", "500ms" (bare number = milliseconds).
 * Returns 0 and *ms, or SL_EINVAL. */
int tcfg_parse_duration(const char *text, uint64_t *ms);

/* Parse a size such as "200M", "1G", "512K", "1000" (bytes; K/M/G are powers of 1024).
 * Returns 0 and *bytes, or SL_EINVAL. */
int tcfg_parse_size(const char *text, uint64_t *bytes);

/* Most partitions a list (tcfg_parse_partitions) may name. */
#define TCFG_MAX_PARTITIONS 65536

/* Parse a partition list "0,1, 5-7" (numbers 0..INT32_MAX and inclusive ranges, separated by
 * commas or spaces; at most TCFG_MAX_PARTITIONS) into the sorted partitions, each once, as
 * Pinot reads stream.kafka.partition.ids. Returns 0 with *out (caller frees) and *n, or
 * SL_EINVAL with "KEY: REASON" in err. */
int tcfg_parse_partitions(const char *text, const char *key, int32_t **out, size_t *n, char *err,
                          size_t errlen);

/* The carried keys as one line, "a, b, c" (empty when none), into buf. */
void tcfg_carried_text(const tcfg *t, char *buf, size_t cap);

/* The name the cluster keys table t by (ZooKeeper, the segment store, sidecars' data dirs,
 * URLs; DESIGN §10): a REALTIME table's raw name, an OFFLINE table's `<raw>_OFFLINE`, so the
 * two halves of a hybrid table never share a node or a directory. Into buf (cap bytes):
 * 0, or SL_ELIMIT when it would pass SL_IDENT_MAX. */
int tcfg_key(const tcfg *t, char *buf, size_t cap);

/* Whether the table consumes topic partition p: every one, or one of
 * stream.kafka.partition.ids. */
bool tcfg_consumes_partition(const tcfg *t, int32_t p);

void tcfg_free(tcfg *t);

#endif
