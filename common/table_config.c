/* Pinot table config JSON -> struct tcfg, validated against the table's schema.
 *
 * Role: decide what a table config means, once, so that the consumer, the controller and the
 * tools never look at JSON. The subset is documented in docs/tables.md; this file is its
 * implementation and the two must move together.
 *
 * Rules that shape the code:
 *  - Every key is understood, carried (Pinot's query side and operations: accepted, listed in
 *    tcfg.carried, applied by nothing here; carried_keys) or rejected by name ("KEY:
 *    unsupported key"), and every rejection of a run is reported, a line each. The one
 *    leniency: a Pinot key Sluice does not implement is accepted when its value configures
 *    nothing (null, {}, [] or objects of those, e.g. "tenants": {}), because Pinot's own
 *    tools emit such empty sections and accepting them ignores no setting.
 *  - The stream config map lives in one of two places (the older tableIndexConfig.streamConfigs
 *    or ingestionConfig.streamIngestionConfig.streamConfigMaps[0]); both at once is an error.
 *  - Flush thresholds follow Pinot: rows "0" means size autotune (default target 200 MiB);
 *    rows > 0 together with a segment size is a conflict, not a silent precedence rule.
 *  - Defaults when a key is absent are Pinot's: replication 1, auto.offset.reset largest,
 *    consumer type lowlevel, the JSON decoder. */
#include "common/table_config.h"
#include "common/limits.h"
#include "common/pbdesc.h"
#include "common/sl_err.h"
#include "common/xalloc.h"

#include <avro.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TCFG_MAX_FILE (16u << 20)
#define TCFG_MAX_FLUSH_ROWS 2147483647ull         /* rows in a segment are 32-bit */
#define TCFG_AUTOTUNE_DEFAULT_SIZE (200ull << 20) /* Pinot's default segment size target */

#define PROP_PREFIX "stream.kafka.consumer.prop."

#define DECODER_PROP_PREFIX "stream.kafka.decoder.prop."

/* Pinot's decoder class names and what reads each. */
static const struct {
    const char *name;
    tcfg_decoder decoder;
} decoders[] = {
    {"org.apache.pinot.plugin.inputformat.json.JSONMessageDecoder", TCFG_DECODER_JSON},
    {"org.apache.pinot.plugin.stream.kafka.KafkaJSONMessageDecoder", TCFG_DECODER_JSON},
    {"org.apache.pinot.plugin.inputformat.csv.CSVMessageDecoder", TCFG_DECODER_CSV},
    {"org.apache.pinot.plugin.inputformat.avro.SimpleAvroMessageDecoder", TCFG_DECODER_AVRO},
    {"org.apache.pinot.plugin.inputformat.avro.confluent."
     "KafkaConfluentSchemaRegistryAvroMessageDecoder",
     TCFG_DECODER_AVRO_REGISTRY},
    {"org.apache.pinot.plugin.inputformat.protobuf.ProtoBufMessageDecoder", TCFG_DECODER_PROTOBUF},
    {"org.apache.pinot.plugin.inputformat.json.confluent."
     "KafkaConfluentSchemaRegistryJsonMessageDecoder",
     TCFG_DECODER_JSON_REGISTRY},
};
static const char *const consumer_factories[] = {
    "org.apache.pinot.plugin.stream.kafka20.KafkaConsumerFactory",
    "org.apache.pinot.plugin.stream.kafka30.KafkaConsumerFactory",
    "org.apache.pinot.plugin.stream.kafka09.KafkaConsumerFactory",
    "org.apache.pinot.core.realtime.impl.kafka.KafkaConsumerFactory",
    "org.apache.pinot.core.realtime.impl.kafka2.KafkaConsumerFactory",
    NULL};

/* ---- carried keys --------------------------------------------------------------------- */

static bool is_false(const json_t *v)
{
    return json_is_false(v) ||
           (json_is_string(v) && strcasecmp(json_string_value(v), "false") == 0);
}
/* FULL upsert keeps every row in the segments (the servers mark the replaced ones with their
 * primary-key index); PARTIAL merges each row with the key's previous one before storing it. */
static bool upsert_rows_kept(const json_t *v)
{
    const json_t *m = json_is_object(v) ? json_object_get(v, "mode") : NULL;
    return json_is_string(m) &&
           (strcmp(json_string_value(m), "NONE") == 0 || strcmp(json_string_value(m), "FULL") == 0);
}
static bool any_bool(const json_t *v)
{
    return json_is_boolean(v) ||
           (json_is_string(v) && (strcasecmp(json_string_value(v), "true") == 0 ||
                                  strcasecmp(json_string_value(v), "false") == 0));
}
static bool dedup_off(const json_t *v)
{
    return json_is_object(v) && is_false(json_object_get(v, "dedupEnabled"));
}

/* Pinot keys that tune its query side or its operations and change no stored row: accepted,
 * listed in tcfg.carried, never applied. A key with a condition is carried only with the value
 * that changes nothing (`when` says which); another value is refused with that reason. */
typedef struct carried_key {
    const char *path; /* dotted: section.key */
    bool (*ok)(const json_t *v);
    const char *when;
} carried_key;

static const carried_key carried_keys[] = {
    {"tenants", NULL, NULL},
    {"routing", NULL, NULL},
    {"query", NULL, NULL},
    {"quota", NULL, NULL},
    {"task", NULL, NULL},
    {"metadata", NULL, NULL},
    {"tierConfigs", NULL, NULL},
    {"tableSamplers", NULL, NULL},
    {"isMaterializedView", NULL, NULL},
    {"instanceAssignmentConfigMap", NULL, NULL},
    {"instancePartitionsMap", NULL, NULL},
    {"segmentAssignmentConfigMap", NULL, NULL},
    {"upsertConfig", upsert_rows_kept,
     "only with \"mode\" NONE or FULL (PARTIAL merges rows with earlier ones: not supported)"},
    {"dedupConfig", dedup_off, "only with \"dedupEnabled\": false (deduplication drops rows)"},
    {"isDimTable", any_bool, "only as true or false"},
    {"segmentsConfig.segmentPushType", NULL, NULL},
    {"segmentsConfig.segmentPushFrequency", NULL, NULL},
    {"segmentsConfig.retentionTimeUnit", NULL, NULL},
    {"segmentsConfig.retentionTimeValue", NULL, NULL},
    {"segmentsConfig.timeType", NULL, NULL},
    {"segmentsConfig.segmentAssignmentStrategy", NULL, NULL},
    {"segmentsConfig.deletedSegmentsRetentionPeriod", NULL, NULL},
    {"segmentsConfig.minimizeDataMovement", NULL, NULL},
    {"segmentsConfig.peerSegmentDownloadScheme", NULL, NULL},
    {"segmentsConfig.replicaGroupStrategyConfig", NULL, NULL},
    {"tableIndexConfig.loadMode", NULL, NULL},
    {"tableIndexConfig.invertedIndexColumns", NULL, NULL},
    {"tableIndexConfig.createInvertedIndexDuringSegmentGeneration", NULL, NULL},
    {"tableIndexConfig.autoGeneratedInvertedIndex", NULL, NULL},
    {"tableIndexConfig.rangeIndexColumns", NULL, NULL},
    {"tableIndexConfig.rangeIndexVersion", NULL, NULL},
    {"tableIndexConfig.bloomFilterColumns", NULL, NULL},
    {"tableIndexConfig.bloomFilterConfigs", NULL, NULL},
    {"tableIndexConfig.onHeapDictionaryColumns", NULL, NULL},
    {"tableIndexConfig.varLengthDictionaryColumns", NULL, NULL},
    {"tableIndexConfig.jsonIndexColumns", NULL, NULL},
    {"tableIndexConfig.jsonIndexConfigs", NULL, NULL},
    {"tableIndexConfig.starTreeIndexConfigs", NULL, NULL},
    {"tableIndexConfig.enableDefaultStarTree", NULL, NULL},
    {"tableIndexConfig.enableDynamicStarTreeCreation", NULL, NULL},
    {"tableIndexConfig.segmentPartitionConfig", NULL, NULL},
    {"tableIndexConfig.columnMinMaxValueGeneratorMode", NULL, NULL},
    {"tableIndexConfig.optimizeDictionary", NULL, NULL},
    {"tableIndexConfig.optimizeDictionaryForMetrics", NULL, NULL},
    {"tableIndexConfig.noDictionarySizeRatioThreshold", NULL, NULL},
    {"tableIndexConfig.segmentFormatVersion", NULL, NULL},
    {"tableIndexConfig.tierOverwrites", NULL, NULL},
    {"tableIndexConfig.multiColumnTextIndexConfig", NULL, NULL},
    {"tableIndexConfig.segmentNameGeneratorType", NULL, NULL},
    {"tableIndexConfig.columnMajorSegmentBuilderEnabled", NULL, NULL},
    /* every segment records its nulls (the null bitmap) whatever this says: the query side's */
    {"tableIndexConfig.nullHandlingEnabled", any_bool, "only as true or false"},
    {"tableIndexConfig.aggregateMetrics", is_false, "only false (aggregating metrics merges rows)"},
    /* Sluice never fails a build for its time range (a partition would stop): rows are kept in
     * range by rowTimeValueCheck instead */
    {"ingestionConfig.segmentTimeValueCheck", any_bool, "only as true or false"},
    /* Sluice's builds have no precheck to retry: a segment that cannot build is an error */
    {"ingestionConfig.retryOnSegmentBuildPrecheckFailure", any_bool, "only as true or false"},
    /* misplaced in some of Pinot's own examples (its place is segmentPartitionConfig), where
     * Pinot ignores it; carried so that they load as they are */
    {"tableIndexConfig.columnPartitionMap", NULL, NULL},
    {"tableIndexConfig.skipSegmentPreprocess", NULL, NULL},
    {"tableIndexConfig.optimizeDictionaryType", NULL, NULL},
    /* a server-side memory guard in some of Pinot's examples; nothing here reads it */
    {"ingestionConfig.streamIngestionConfig.oomProtection", NULL, NULL},
    {NULL, NULL, NULL}};

typedef struct pctx {
    const char *src;
    char *err;
    size_t errlen;
    int nerr; /* errors recorded so far: each one is a line of err */
    tcfg *t;  /* where carried keys are listed (NULL: not yet made) */
    /* the schema failed: check only what does not need it (column names are not checked) */
    bool noschema;
} pctx;

/* Append "SOURCE: KEY: REASON" as a line of the context's buffer, so that one run reports every
 * key and value it refuses; returns SL_EINVAL (-1) so that callers can `return fail(...)`. */
static int fail(pctx *c, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(pctx *c, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sl_vfail_append(c->err, c->errlen, &c->nerr, c->src, key, fmt, ap);
    va_end(ap);
    return SL_EINVAL;
}

static bool key_in(const char *key, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(key, *list) == 0) return true;
    return false;
}

/* null, {}, [] and containers of only those: a section that sets nothing. */
static bool configures_nothing(const json_t *v)
{
    if (json_is_null(v)) return true;
    if (json_is_array(v)) return json_array_size(v) == 0;
    if (!json_is_object(v)) return false;
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x)
    {
        if (!configures_nothing(x)) return false;
    }
    return true;
}

/* Rejects every key of obj outside `known` (unless it configures nothing). */
static int check_keys(pctx *c, const json_t *obj, const char *path, const char *const *known)
{
    const char *k;
    json_t *v;
    int rc = 0;
    json_object_foreach((json_t *)obj, k, v)
    {
        if (key_in(k, known) || configures_nothing(v)) continue;
        char key[256];
        snprintf(key, sizeof key, "%s%s%s", path, *path ? "." : "", k);
        const carried_key *ck = carried_keys;
        while (ck->path && strcmp(ck->path, key) != 0)
            ck++;
        if (!ck->path) {
            rc = fail(c, key, "unsupported key");
        } else if (ck->ok && !ck->ok(v)) {
            rc = fail(c, key, "accepted %s", ck->when);
        } else if (c->t) {
            c->t->carried =
                sl_xrealloc(c->t->carried, (c->t->ncarried + 1) * sizeof *c->t->carried);
            c->t->carried[c->t->ncarried++] = sl_xstrdup(key);
        }
    }
    return rc;
}

/* ---- durations and sizes ---- */

static bool mul_add(uint64_t *acc, uint64_t a, uint64_t mult)
{
    uint64_t p;
    if (__builtin_mul_overflow(a, mult, &p)) return false;
    return !__builtin_add_overflow(*acc, p, acc);
}

/* Digits at *p into *v (no sign, no overflow); advances *p. */
static bool read_uint(const char **p, uint64_t *v)
{
    const char *s = *p;
    if (!isdigit((unsigned char)*s)) return false;
    uint64_t x = 0;
    for (; isdigit((unsigned char)*s); s++)
        if (__builtin_mul_overflow(x, 10, &x) ||
            __builtin_add_overflow(x, (uint64_t)(*s - '0'), &x))
            return false;
    *p = s;
    *v = x;
    return true;
}

int tcfg_parse_duration(const char *text, uint64_t *ms)
{
    static const struct {
        const char *name;
        uint64_t ms;
    } units[] = {{"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1}};
    const int nunits = (int)(sizeof units / sizeof units[0]);
    if (!text || !*text) return SL_EINVAL;
    const char *p = text;
    uint64_t total = 0, v;
    if (!read_uint(&p, &v)) return SL_EINVAL;
    if (!*p) return *ms = v, 0; /* bare number: milliseconds */
    int last = -1; /* units must appear once each, largest first: "1h30m", not "30m1h" */
    for (;;) {
        int u = -1;
        for (int i = nunits - 1; i >= 0; i--) { /* "ms" before "m" */
            size_t n = strlen(units[i].name);
            if (strncasecmp(p, units[i].name, n) == 0 && !isalpha((unsigned char)p[n])) {
                u = i;
                p += n;
                break;
            }
        }
        if (u <= last || !mul_add(&total, v, units[u].ms)) return SL_EINVAL;
        last = u;
        if (!*p) break;
        if (!read_uint(&p, &v)) return SL_EINVAL;
    }
    *ms = total;
    return 0;
}

int tcfg_parse_size(const char *text, uint64_t *bytes)
{
    if (!text) return SL_EINVAL;
    const char *p = text;
    uint64_t v, mult = 1, out = 0;
    if (!read_uint(&p, &v)) return SL_EINVAL;
    switch (toupper((unsigned char)*p)) {
    case 'K':
        mult = 1ull << 10, p++;
        break;
    case 'M':
        mult = 1ull << 20, p++;
        break;
    case 'G':
        mult = 1ull << 30, p++;
        break;
    case 'T':
        mult = 1ull << 40, p++;
        break;
    default:
        break;
    }
    if (toupper((unsigned char)*p) == 'B') p++;
    if (*p || !mul_add(&out, v, mult)) return SL_EINVAL;
    *bytes = out;
    return 0;
}

/* ---- sections ---- */

/* A JSON string, or an integer written as text (Pinot's maps are string -> string, but JSON
 * authors write "replication": 3). Returns false for anything else. */
static bool scalar_text(const json_t *v, char *buf, size_t n)
{
    if (json_is_string(v)) {
        if (strlen(json_string_value(v)) != json_string_length(v)) return false;
        snprintf(buf, n, "%s", json_string_value(v));
        return json_string_length(v) < n;
    }
    if (json_is_integer(v)) {
        snprintf(buf, n, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return true;
    }
    return false;
}

static int parse_replication(pctx *c, const json_t *v, const char *key, uint32_t *out)
{
    char txt[32];
    const char *p = txt;
    uint64_t n;
    if (!scalar_text(v, txt, sizeof txt) || !read_uint(&p, &n) || *p || n < 1)
        return fail(c, key, "expected an integer in [1, %d]", SL_MAX_REPLICATION);
    if (n > SL_MAX_REPLICATION)
        return fail(c, key, "%" PRIu64 " replicas per partition; Sluice supports at most %d", n,
                    SL_MAX_REPLICATION);
    *out = (uint32_t)n;
    return 0;
}

static int parse_segments_config(pctx *c, const json_t *sc, const schema *s, tcfg *t)
{
    static const char *const known[] = {"replication", "replicasPerPartition", "timeColumnName",
                                        "schemaName", NULL};
    if (!json_is_object(sc)) return fail(c, "segmentsConfig", "expected an object");
    int before = c->nerr;
    check_keys(c, sc, "segmentsConfig", known);
    uint32_t rep = 0, rpp = 0;
    const json_t *x = json_object_get(sc, "replication");
    if (x) parse_replication(c, x, "segmentsConfig.replication", &rep);
    x = json_object_get(sc, "replicasPerPartition");
    if (x) parse_replication(c, x, "segmentsConfig.replicasPerPartition", &rpp);
    if (rep && rpp && rep != rpp)
        fail(c, "segmentsConfig.replicasPerPartition",
             "%u disagrees with segmentsConfig.replication %u", rpp, rep);
    t->replication = rep ? rep : rpp ? rpp : 1;

    x = json_object_get(sc, "schemaName");
    if (x && !json_is_string(x)) {
        fail(c, "segmentsConfig.schemaName", "expected a string");
    } else if (x && !c->noschema && strcmp(json_string_value(x), s->name) != 0) {
        fail(c, "segmentsConfig.schemaName",
             "\"%s\" does not match the schema's name "
             "\"%s\"",
             json_string_value(x), s->name);
    }
    if (c->nerr > before) return -1;
    x = json_object_get(sc, "timeColumnName");
    if (x && !json_is_null(x)) {
        if (!json_is_string(x))
            return fail(c, "segmentsConfig.timeColumnName", "expected a string");
        const char *col = json_string_value(x);
        int i = schema_find(s, col);
        if (c->noschema) return 0;
        if (i < 0)
            return fail(c, "segmentsConfig.timeColumnName",
                        "\"%s\" is not a column of schema \"%s\"", col, s->name);
        if (s->fields[i].role != SCHEMA_DATETIME)
            return fail(c, "segmentsConfig.timeColumnName",
                        "\"%s\" is a %s; the time column must be in dateTimeFieldSpecs", col,
                        schema_role_name(s->fields[i].role));
        /* a SIMPLE_DATE_FORMAT time column is parsed (rows that do not match are rejected,
         * the segment's time range is in ms): its pattern must be one Sluice reads, in UTC */
        char pat[256], why[300];
        const char *zone;
        if (schema_sdf_pattern(&s->fields[i], pat, sizeof pat, &zone)) {
            if (zone && strcmp(zone, "UTC") && strcmp(zone, "GMT") && strcmp(zone, "Z"))
                return fail(c, "segmentsConfig.timeColumnName",
                            "time column \"%s\": time zone %s: only UTC is supported", col, zone);
            if (!xform_pattern_ok(pat, why, sizeof why))
                return fail(c, "segmentsConfig.timeColumnName", "time column \"%s\": %s", col, why);
        }
        t->time_column = sl_xstrdup(col);
    }
    return 0;
}

static int parse_no_dictionary(pctx *c, const json_t *arr, const schema *s, tcfg *t)
{
    const char *key = "tableIndexConfig.noDictionaryColumns";
    if (!arr || json_is_null(arr)) return 0;
    if (!json_is_array(arr)) return fail(c, key, "expected an array of column names");
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *e = json_array_get(arr, i);
        char k[128];
        snprintf(k, sizeof k, "%s[%zu]", key, i);
        if (!json_is_string(e)) return fail(c, k, "expected a column name");
        if (c->noschema) continue;
        int f = schema_find(s, json_string_value(e));
        if (f < 0)
            return fail(c, k, "\"%s\" is not a column of schema \"%s\"", json_string_value(e),
                        s->name);
        if (t->no_dictionary[f]) return fail(c, k, "\"%s\" listed twice", json_string_value(e));
        t->no_dictionary[f] = true;
    }
    return 0;
}

/* fieldConfigList: encodingType RAW is a no-dictionary column (DICTIONARY, the default, is
 * refused for a column noDictionaryColumns names); the index settings of an entry are Pinot's
 * query side, carried as "fieldConfigList". Runs after parse_no_dictionary. */
static int parse_field_configs(pctx *c, const json_t *arr, const schema *s, tcfg *t)
{
    static const char *const entry_keys[] = {
        "name",       "encodingType",     "indexType",       "indexTypes",     "indexes",
        "properties", "compressionCodec", "timestampConfig", "tierOverwrites", NULL};
    if (!arr || configures_nothing(arr)) return 0;
    if (!json_is_array(arr)) return fail(c, "fieldConfigList", "expected an array");
    int before = c->nerr;
    bool *seen = sl_xcalloc(s->nfields ? s->nfields : 1, sizeof *seen);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *e = json_array_get(arr, i);
        char k[128];
        snprintf(k, sizeof k, "fieldConfigList[%zu]", i);
        if (!json_is_object(e)) {
            fail(c, k, "expected an object");
            continue;
        }
        const char *ek;
        json_t *ev;
        json_object_foreach((json_t *)e, ek, ev)
        {
            if (!key_in(ek, entry_keys)) {
                char kk[256];
                snprintf(kk, sizeof kk, "%s.%s", k, ek);
                fail(c, kk, "unsupported key");
            }
        }
        const json_t *name = json_object_get(e, "name");
        int f = json_is_string(name) ? schema_find(s, json_string_value(name)) : -1;
        const json_t *enc = json_object_get(e, "encodingType");
        const char *ev_s = json_is_string(enc) ? json_string_value(enc) : NULL;
        if (enc && !json_is_null(enc) &&
            (!ev_s || (strcmp(ev_s, "RAW") && strcmp(ev_s, "DICTIONARY")))) {
            fail(c, k, "encodingType: expected RAW or DICTIONARY");
            continue;
        }
        if (c->noschema && json_is_string(name)) continue;
        if (f < 0) {
            fail(c, k, "name: %s is not a column of schema \"%s\"",
                 json_is_string(name) ? json_string_value(name) : "(missing)", s->name);
            continue;
        }
        if (seen[f]) {
            fail(c, k, "\"%s\" listed twice", s->fields[f].name);
            continue;
        }
        seen[f] = true;
        if (ev_s && strcmp(ev_s, "RAW") == 0) {
            t->no_dictionary[f] = true;
        } else if (ev_s && t->no_dictionary[f]) {
            fail(c, k,
                 "encodingType DICTIONARY for \"%s\", which "
                 "tableIndexConfig.noDictionaryColumns lists",
                 s->fields[f].name);
        }
    }
    free(seen);
    if (c->nerr > before) return -1;
    t->carried = sl_xrealloc(t->carried, (t->ncarried + 1) * sizeof *t->carried);
    t->carried[t->ncarried++] = sl_xstrdup("fieldConfigList");
    return 0;
}

/* ingestionConfig.transformConfigs: [{"columnName", "transformFunction"}, ...], each
 * destination a single-value schema column given once, each expression compiled
 * (common/xform.h); an expression may not read another entry's destination (Pinot orders
 * such chains; Sluice refuses them). */
static void parse_transforms(pctx *c, const json_t *arr, const schema *s, tcfg *t)
{
    static const char *const keys[] = {"columnName", "transformFunction", NULL};
    if (!arr || json_is_null(arr)) return;
    if (!json_is_array(arr)) {
        fail(c, "ingestionConfig.transformConfigs", "expected an array");
        return;
    }
    t->transforms = sl_xcalloc(json_array_size(arr) + 1, sizeof *t->transforms);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *e = json_array_get(arr, i);
        char k[128], why[1024];
        snprintf(k, sizeof k, "ingestionConfig.transformConfigs[%zu]", i);
        if (!json_is_object(e)) {
            fail(c, k, "expected an object");
            continue;
        }
        check_keys(c, e, k, keys);
        const json_t *col = json_object_get(e, "columnName");
        const json_t *fn = json_object_get(e, "transformFunction");
        int f = json_is_string(col) ? schema_find(s, json_string_value(col)) : -1;
        if (c->noschema && json_is_string(col)) {
            xform_expr *x =
                json_is_string(fn) ? xform_parse(json_string_value(fn), why, sizeof why) : NULL;
            if (!x)
                fail(c, k, "transformFunction: %s", json_is_string(fn) ? why : "expected a string");
            xform_free(x);
            continue;
        }
        if (f < 0) {
            fail(c, k, "columnName: %s is not a column of schema \"%s\"",
                 json_is_string(col) ? json_string_value(col) : "(missing)", s->name);
            continue;
        }
        bool dup = false;
        for (uint32_t j = 0; j < t->ntransforms; j++)
            dup |= t->transforms[j].field == (uint32_t)f;
        if (dup) {
            fail(c, k, "columnName: %s is transformed twice", s->fields[f].name);
            continue;
        }
        if (!json_is_string(fn)) {
            fail(c, k, "transformFunction: expected a string");
            continue;
        }
        xform_expr *x = xform_parse(json_string_value(fn), why, sizeof why);
        if (!x) {
            fail(c, k, "transformFunction: %s", why);
            continue;
        }
        t->transforms[t->ntransforms++] = (tcfg_transform){(uint32_t)f, x};
    }
    for (uint32_t j = 0; j < t->ntransforms; j++)
        for (uint32_t i = 0; i < xform_ninputs(t->transforms[j].expr); i++) {
            int in = schema_find(s, xform_input(t->transforms[j].expr, i));
            if (in >= 0 && !s->fields[in].single_value)
                fail(c, "ingestionConfig.transformConfigs",
                     "the transform of %s reads the multi-value column %s: not supported",
                     s->fields[t->transforms[j].field].name, s->fields[in].name);
        }
    for (uint32_t j = 0; j < t->ntransforms; j++)
        for (uint32_t i = 0; i < xform_ninputs(t->transforms[j].expr); i++)
            for (uint32_t k2 = 0; k2 < t->ntransforms; k2++)
                if (k2 != j && !strcmp(xform_input(t->transforms[j].expr, i),
                                       s->fields[t->transforms[k2].field].name))
                    fail(c, "ingestionConfig.transformConfigs",
                         "the transform of %s reads %s, which another transform writes: chained "
                         "transforms are not supported",
                         s->fields[t->transforms[j].field].name,
                         s->fields[t->transforms[k2].field].name);
}

/* ingestionConfig.aggregationConfigs: [{"columnName", "aggregationFunction"}, ...], Pinot's
 * ingestion aggregation of REALTIME tables: SUM(field), MIN(field), MAX(field) or COUNT(*)
 * into a raw (noDictionaryColumns) single-value numeric metric, every metric aggregated, every
 * column single-value; rows equal in all the other columns merge (consumer/mseg.h). Each entry
 * becomes a transform giving its column the source field (the constant 1 for COUNT). */
static void parse_aggregations(pctx *c, const json_t *arr, const schema *s, tcfg *t)
{
    static const char *const keys[] = {"columnName", "aggregationFunction", NULL};
    const char *k0 = "ingestionConfig.aggregationConfigs";
    if (!arr || json_is_null(arr) || (json_is_array(arr) && json_array_size(arr) == 0)) return;
    if (!json_is_array(arr)) {
        fail(c, k0, "expected an array");
        return;
    }
    if (c->noschema) return;
    if (t->type != TCFG_REALTIME) {
        fail(c, k0,
             "ingestion aggregation applies to REALTIME tables (Pinot rolls OFFLINE "
             "segments up with its MergeRollupTask)");
        return;
    }
    uint8_t *agg = sl_xcalloc(s->nfields ? s->nfields : 1, 1);
    t->transforms = sl_xrealloc(t->transforms, (t->ntransforms + json_array_size(arr) + 1) *
                                                   sizeof *t->transforms);
    bool ok = true;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *e = json_array_get(arr, i);
        char k[128], why[512], fn[64], arg[256];
        snprintf(k, sizeof k, "%s[%zu]", k0, i);
        if (!json_is_object(e)) {
            ok = (fail(c, k, "expected an object"), false);
            continue;
        }
        check_keys(c, e, k, keys);
        const json_t *col = json_object_get(e, "columnName");
        const json_t *af = json_object_get(e, "aggregationFunction");
        int f = json_is_string(col) ? schema_find(s, json_string_value(col)) : -1;
        if (f < 0) {
            ok = (fail(c, k, "columnName: %s is not a column of schema \"%s\"",
                       json_is_string(col) ? json_string_value(col) : "(missing)", s->name),
                  false);
            continue;
        }
        const schema_field *fd = &s->fields[f];
        const char *text = json_is_string(af) ? json_string_value(af) : "";
        /* NAME(ARG): a function name, one argument (a field name, or * for COUNT) */
        const char *lp = strchr(text, '('), *rp = strrchr(text, ')');
        size_t nl = lp ? (size_t)(lp - text) : 0, al = lp && rp > lp ? (size_t)(rp - lp - 1) : 0;
        while (nl && text[nl - 1] == ' ')
            nl--;
        const char *ab = lp ? lp + 1 : "";
        while (al && *ab == ' ')
            ab++, al--;
        while (al && ab[al - 1] == ' ')
            al--;
        if (!lp || !rp || rp[1] || nl == 0 || nl >= sizeof fn || al == 0 || al >= sizeof arg) {
            ok = (fail(c, k,
                       "aggregationFunction: expected FUNCTION(field), e.g. SUM(price) or "
                       "COUNT(*), not \"%s\"",
                       text),
                  false);
            continue;
        }
        memcpy(fn, text, nl);
        fn[nl] = '\0';
        memcpy(arg, ab, al);
        arg[al] = '\0';
        uint8_t op = strcasecmp(fn, "SUM") == 0 || strcasecmp(fn, "COUNT") == 0 ? 1
                     : strcasecmp(fn, "MIN") == 0                               ? 2
                     : strcasecmp(fn, "MAX") == 0                               ? 3
                                                                                : 0;
        bool count = strcasecmp(fn, "COUNT") == 0;
        bool star = strcmp(arg, "*") == 0;
        bool ident = !star;
        for (const char *q = arg; *q && ident; q++)
            ident = isalnum((unsigned char)*q) || *q == '_' || *q == '.' || *q == '$';
        if (!op) {
            ok = (fail(c, k, "aggregationFunction: %s is not supported (SUM, MIN, MAX, COUNT)", fn),
                  false);
        } else if (count != star || (!count && !ident)) {
            ok = (fail(c, k, "aggregationFunction: %s takes %s", fn,
                       count ? "* (COUNT(*))" : "one field name"),
                  false);
        } else if (fd->role != SCHEMA_METRIC || !fd->single_value ||
                   (fd->type != SCHEMA_INT && fd->type != SCHEMA_LONG && fd->type != SCHEMA_FLOAT &&
                    fd->type != SCHEMA_DOUBLE)) {
            ok = (fail(c, k,
                       "columnName: %s must be a single-value INT, LONG, FLOAT or DOUBLE metric",
                       fd->name),
                  false);
        } else if (!t->no_dictionary[f]) {
            ok = (fail(c, k,
                       "columnName: %s must be in tableIndexConfig.noDictionaryColumns "
                       "(an aggregated metric is written in place)",
                       fd->name),
                  false);
        } else if (agg[f]) {
            ok = (fail(c, k, "columnName: %s is aggregated twice", fd->name), false);
        } else {
            bool transformed = false;
            for (uint32_t j = 0; j < t->ntransforms; j++)
                transformed |= t->transforms[j].field == (uint32_t)f;
            char expr[300];
            snprintf(expr, sizeof expr, count ? "1" : "\"%s\"", arg);
            xform_expr *x = transformed ? NULL : xform_parse(expr, why, sizeof why);
            if (transformed)
                ok = (fail(c, k, "columnName: %s is also in transformConfigs", fd->name), false);
            else if (!x)
                ok = (fail(c, k, "aggregationFunction: %s", why), false);
            else {
                agg[f] = op;
                t->transforms[t->ntransforms++] = (tcfg_transform){(uint32_t)f, x};
            }
        }
    }
    for (uint32_t f = 0; f < s->nfields && ok; f++) {
        if (!s->fields[f].single_value)
            ok = (fail(c, k0,
                       "column %s is multi-value: rows with multi-value columns are not "
                       "aggregated",
                       s->fields[f].name),
                  false);
        else if (s->fields[f].role == SCHEMA_METRIC && !agg[f])
            ok = (fail(c, k0,
                       "metric %s has no aggregation: with aggregationConfigs every "
                       "metric must have one (Pinot's rule)",
                       s->fields[f].name),
                  false);
    }
    if (ok)
        t->agg = agg;
    else
        free(agg);
}

/* ingestionConfig.filterConfig: {"filterFunction": EXPR}, compiled; it may not read a
 * multi-value column. */
static void parse_filter(pctx *c, const json_t *fc, const schema *s, tcfg *t)
{
    static const char *const keys[] = {"filterFunction", NULL};
    const char *k = "ingestionConfig.filterConfig";
    if (!fc || json_is_null(fc)) return;
    if (!json_is_object(fc)) {
        fail(c, k, "expected an object");
        return;
    }
    check_keys(c, fc, k, keys);
    const json_t *fn = json_object_get(fc, "filterFunction");
    if (!fn || json_is_null(fn)) return; /* no filter */
    char why[1024];
    if (!json_is_string(fn)) {
        fail(c, "ingestionConfig.filterConfig.filterFunction", "expected a string");
        return;
    }
    if (!(t->filter = xform_parse(json_string_value(fn), why, sizeof why))) {
        fail(c, "ingestionConfig.filterConfig.filterFunction", "%s", why);
        return;
    }
    for (uint32_t i = 0; i < xform_ninputs(t->filter); i++) {
        int in = schema_find(s, xform_input(t->filter, i));
        if (in >= 0 && !s->fields[in].single_value)
            fail(c, "ingestionConfig.filterConfig.filterFunction",
                 "reads the multi-value column %s: not supported", s->fields[in].name);
    }
}

/* An Avro writer schema for SimpleAvroMessageDecoder: it parses (avro-c) and is a record. */
static int avro_schema_check(const char *text, size_t len, char *why, size_t cap)
{
    avro_schema_t sc;
    if (avro_schema_from_json_length(text, len, &sc)) {
        snprintf(why, cap, "not an Avro schema: %s", avro_strerror());
        return SL_EINVAL;
    }
    int rc = avro_typeof(sc) == AVRO_RECORD ? 0 : SL_EINVAL;
    if (rc) snprintf(why, cap, "the Avro schema is a %s, not a record", avro_schema_type_name(sc));
    avro_schema_decref(sc);
    return rc;
}

/* One character of a decoder property: exactly one byte (Pinot takes charAt(0); a longer
 * value is more likely a mistake than a wish). */
static int decoder_char(pctx *c, const char *key, const char *val, int *out)
{
    if (strlen(val) != 1 || (unsigned char)val[0] >= 0x80)
        return fail(c, key, "\"%s\": expected one ASCII character", val);
    *out = (unsigned char)val[0];
    return 0;
}

static int decoder_bool(pctx *c, const char *key, const char *val, bool *out)
{
    if (strcasecmp(val, "true") == 0)
        *out = true;
    else if (strcasecmp(val, "false") == 0)
        *out = false;
    else
        return fail(c, key, "\"%s\": expected true or false", val);
    return 0;
}

/* The CSV header: Commons' StringUtils.split(header, delimiter) as Pinot calls it, so with no
 * delimiter property it splits on whitespace; empty names are dropped. */
static void csv_header(tcfg_csv *o, const char *text, const char *seps)
{
    o->header = sl_xcalloc(strlen(text) / 2 + 1, sizeof *o->header);
    for (const char *p = text; *p;) {
        size_t skip = seps ? strspn(p, seps) : 0;
        while (!seps && p[skip] && strchr(" \t\n\r\f\v", p[skip]))
            skip++;
        p += skip;
        if (!*p) break;
        size_t n = 0;
        while (p[n] && (seps ? !strchr(seps, p[n]) : !strchr(" \t\n\r\f\v", p[n])))
            n++;
        o->header[o->nheader++] = sl_xmemdupz(p, n);
        p += n;
    }
}

/* A map member that is a decoder property: its name after prefix, with key set to its
 * dotted path; NULL for any other member, and (reported) for a value that is no string. */
static const char *decoder_prop(pctx *c, const char *path, const char *prefix, const char *k,
                                const json_t *v, char *key, size_t cap)
{
    if (strncmp(k, prefix, strlen(prefix)) != 0) return NULL;
    snprintf(key, cap, "%s.%s", path, k);
    if (!json_is_string(v)) {
        fail(c, key, "expected a string");
        return NULL;
    }
    return k + strlen(prefix);
}

/* CSV properties by Pinot's names and Commons CSV's formats: CSVMessageDecoder's (members
 * prefixed stream.kafka.decoder.prop.) or, with reader, CSVRecordReaderConfig's (no prefix),
 * whose builder then sets the delimiter, quote and the two ignore flags over the format's,
 * with its own defaults, and splits multi-value cells at ';' unless told otherwise. */
static int parse_csv_props(pctx *c, const json_t *m, const char *path, const char *prefix,
                           bool reader, tcfg_csv *o)
{
    char key[512];
    snprintf(key, sizeof key, "%sfileFormat", prefix);
    const json_t *ff = json_object_get(m, key);
    const char *fmt = json_is_string(ff) ? json_string_value(ff) : "DEFAULT";
    /* Commons CSV's predefined formats, as far as reading goes */
    *o = (tcfg_csv){.delimiter = ',',
                    .quote = '"',
                    .escape = -1,
                    .comment = -1,
                    .mv_delimiter = -1,
                    .ignore_empty_lines = true};
    if (strcasecmp(fmt, "EXCEL") == 0 || strcasecmp(fmt, "RFC4180") == 0) {
        o->ignore_empty_lines = false;
    } else if (strcasecmp(fmt, "TDF") == 0) {
        o->delimiter = '\t';
        o->ignore_surrounding_spaces = true;
    } else if (strcasecmp(fmt, "MYSQL") == 0) {
        o->delimiter = '\t';
        o->quote = -1;
        o->escape = '\\';
        o->null_string = sl_xstrdup("\\N");
        o->ignore_empty_lines = false;
    } else if (strcasecmp(fmt, "DEFAULT") != 0) {
        snprintf(key, sizeof key, "%s.%sfileFormat", path, prefix);
        fail(c, key, "\"%s\": expected DEFAULT, EXCEL, RFC4180, TDF or MYSQL", fmt);
    }
    if (reader) {
        o->delimiter = ',';
        o->quote = '"';
        o->ignore_empty_lines = o->ignore_surrounding_spaces = true;
        o->mv_delimiter = ';';
    }
    snprintf(key, sizeof key, "%sdelimiter", prefix);
    const json_t *dj = json_object_get(m, key);
    const char *delim = json_is_string(dj) ? json_string_value(dj) : NULL;
    const char *k;
    json_t *v;
    int before = c->nerr;
    bool mv_enabled = true;
    json_object_foreach((json_t *)m, k, v)
    {
        const char *name = decoder_prop(c, path, prefix, k, v, key, sizeof key);
        if (!name) continue;
        const char *val = json_string_value(v);
        int ch = 0;
        if (strcmp(name, "fileFormat") == 0) {
        } else if (strcmp(name, "delimiter") == 0) {
            if (decoder_char(c, key, val, &ch) == 0) o->delimiter = (char)ch;
        } else if (strcmp(name, "header") == 0) {
            csv_header(o, val, delim);
            if (!o->nheader) fail(c, key, "names no column");
        } else if (strcmp(name, "commentMarker") == 0) {
            decoder_char(c, key, val, &o->comment);
        } else if (strcmp(name, "escapeCharacter") == 0) {
            decoder_char(c, key, val, &o->escape);
        } else if (strcmp(name, "quoteCharacter") == 0) {
            decoder_char(c, key, val, &o->quote);
        } else if (strcmp(name, "multiValueDelimiter") == 0) {
            decoder_char(c, key, val, &o->mv_delimiter);
        } else if (reader && strcmp(name, "multiValueDelimiterEnabled") == 0) {
            decoder_bool(c, key, val, &mv_enabled);
        } else if (reader && strcmp(name, "stopOnError") == 0) {
            decoder_bool(c, key, val, &o->stop_on_error);
        } else if (strcmp(name, "nullStringValue") == 0) {
            free(o->null_string);
            o->null_string = sl_xstrdup(val);
        } else if (strcmp(name, "skipHeader") == 0) {
            decoder_bool(c, key, val, &o->skip_header);
        } else if (strcmp(name, "ignoreEmptyLines") == 0) {
            decoder_bool(c, key, val, &o->ignore_empty_lines);
        } else if (strcmp(name, "ignoreSurroundingSpaces") == 0) {
            decoder_bool(c, key, val, &o->ignore_surrounding_spaces);
        } else if (strcmp(name, "quoteMode") == 0) { /* printing only, but the nullString */
            static const char *const modes[] = {"ALL",         "ALL_NON_NULL", "MINIMAL",
                                                "NON_NUMERIC", "NONE",         NULL};
            if (!key_in(val, modes))
                fail(c, key, "\"%s\": expected ALL, ALL_NON_NULL, MINIMAL, NON_NUMERIC or NONE",
                     val);
            o->strict_quote = !strcmp(val, "ALL_NON_NULL") || !strcmp(val, "NON_NUMERIC");
        } else if (strcmp(name, "recordSeparator") == 0) {
            /* printing only: reading ends a record at CR, LF or CRLF */
        } else {
            fail(c, key,
                 reader ? "unsupported key for CSVRecordReaderConfig"
                        : "unsupported key for CSVMessageDecoder");
        }
    }
    if (!mv_enabled) o->mv_delimiter = -1;
    if (c->nerr > before) return SL_EINVAL;
    snprintf(key, sizeof key, "%s.%sdelimiter", path, prefix);
    if (o->delimiter == '\n' || o->delimiter == '\r' || (int)o->delimiter == o->quote ||
        (int)o->delimiter == o->escape || (int)o->delimiter == o->comment)
        return fail(c, key,
                    "the delimiter must differ from the quote, escape and comment "
                    "characters and from CR and LF");
    if (o->quote >= 0 && (o->quote == o->escape || o->quote == o->comment)) {
        snprintf(key, sizeof key, "%s.%squoteCharacter", path, prefix);
        return fail(c, key, "must differ from the escape and comment characters");
    }
    return 0;
}

int tcfg_csv_reader(const json_t *m, const char *src, const char *path, tcfg_csv *o, char *err,
                    size_t errlen)
{
    err[0] = '\0';
    pctx c = {.src = src, .err = err, .errlen = errlen};
    int rc = parse_csv_props(&c, m, path, "", true, o);
    if (rc) tcfg_csv_free(o);
    return rc;
}

void tcfg_csv_free(tcfg_csv *o)
{
    free(o->null_string);
    for (uint32_t i = 0; i < o->nheader; i++)
        free(o->header[i]);
    free(o->header);
    o->null_string = NULL;
    o->header = NULL;
    o->nheader = 0;
}

/* The decoders of Confluent's wire format, whose schemas come from a registry. */
static bool registry_decoder(tcfg_decoder d)
{
    return d == TCFG_DECODER_AVRO_REGISTRY || d == TCFG_DECODER_JSON_REGISTRY;
}

/* The decoder's properties (stream.kafka.decoder.prop.*), for the decoder chosen. */
static int parse_decoder_props(pctx *c, const json_t *m, const char *path, tcfg *t)
{
    if (t->decoder == TCFG_DECODER_CSV)
        return parse_csv_props(c, m, path, DECODER_PROP_PREFIX, false, &t->csv);
    const char *k;
    json_t *v;
    int before = c->nerr;
    bool have = false;
    json_object_foreach((json_t *)m, k, v)
    {
        char key[512];
        const char *name = decoder_prop(c, path, DECODER_PROP_PREFIX, k, v, key, sizeof key);
        if (!name) continue;
        const char *val = json_string_value(v);
        if (t->decoder == TCFG_DECODER_AVRO && strcmp(name, "schema") == 0) {
            char why[256];
            if (avro_schema_check(val, json_string_length(v), why, sizeof why)) {
                fail(c, key, "%s", why);
                continue;
            }
            t->avro_schema = sl_xmemdupz(val, json_string_length(v));
            have = true;
        } else if (t->decoder == TCFG_DECODER_AVRO && strcmp(name, "leading.bytes.to.strip") == 0) {
            const char *p = val;
            uint64_t n;
            if (!read_uint(&p, &n) || *p || n > 1024) {
                fail(c, key, "\"%s\": expected a byte count in [0, 1024]", val);
                continue;
            }
            t->avro_skip = (uint32_t)n;
        } else if (t->decoder == TCFG_DECODER_PROTOBUF && strcmp(name, "descriptorFile") == 0) {
            char why[512];
            pbdesc_free(t->pb);
            if (pbdesc_load(val, &t->pb, why, sizeof why)) {
                fail(c, key, "%s", why);
                continue;
            }
            have = true;
        } else if (t->decoder == TCFG_DECODER_PROTOBUF && strcmp(name, "protoClassName") == 0) {
        } else if (registry_decoder(t->decoder) && strcmp(name, "schema.registry.rest.url") == 0) {
            if (strncmp(val, "http://", 7) != 0 && strncmp(val, "https://", 8) != 0) {
                fail(c, key, "\"%s\": expected an http:// or https:// URL", val);
                continue;
            }
            t->registry_url = sl_xstrdup(val);
            have = true;
        } else if (registry_decoder(t->decoder) &&
                   strcmp(name, "schema.registry.basic.auth.credentials.source") == 0) {
            if (strcmp(val, "USER_INFO") != 0)
                fail(c, key, "\"%s\": only USER_INFO is supported", val);
        } else if (registry_decoder(t->decoder) &&
                   strcmp(name, "schema.registry.basic.auth.user.info") == 0) {
            if (!strchr(val, ':')) {
                fail(c, key, "expected user:password");
                continue;
            }
            free(t->registry_userinfo);
            t->registry_userinfo = sl_xstrdup(val);
        } else if (t->decoder == TCFG_DECODER_JSON_REGISTRY &&
                   strcmp(name, "cached.schema.map.capacity") == 0) {
            const char *p = val;
            uint64_t n;
            if (!read_uint(&p, &n) || *p || n == 0)
                fail(c, key, "\"%s\": expected a positive count", val);
        } else {
            fail(c, key, "unsupported key for %s",
                 strrchr(t->decoder_class, '.') ? strrchr(t->decoder_class, '.') + 1
                                                : t->decoder_class);
        }
    }
    if (c->nerr > before) return SL_EINVAL;
    if (t->decoder == TCFG_DECODER_PROTOBUF && !have)
        return fail(c, path, "ProtoBufMessageDecoder needs " DECODER_PROP_PREFIX "descriptorFile");
    if (t->decoder == TCFG_DECODER_PROTOBUF) {
        const json_t *cn = json_object_get(m, DECODER_PROP_PREFIX "protoClassName");
        const char *name = json_is_string(cn) ? json_string_value(cn) : NULL;
        if ((t->pb_msg = pbdesc_find(t->pb, name)) < 0) {
            char key[512];
            snprintf(key, sizeof key, "%s." DECODER_PROP_PREFIX "protoClassName", path);
            return fail(c, key, "\"%s\": no such message in the descriptor file", name);
        }
    }
    if (t->decoder == TCFG_DECODER_AVRO && !have)
        return fail(c, path, "SimpleAvroMessageDecoder needs " DECODER_PROP_PREFIX "schema");
    if (registry_decoder(t->decoder) && !have)
        return fail(c, path, "%s needs " DECODER_PROP_PREFIX "schema.registry.rest.url",
                    strrchr(t->decoder_class, '.') + 1);
    return 0;
}

/* ingestionConfig.complexTypeConfig (Pinot's ComplexTypeTransformer): fieldsToUnnest,
 * delimiter, collectionNotUnnestedToJson, prefixesToRename. */
static void parse_complex(pctx *c, const json_t *ct, tcfg *t)
{
    static const char *const keys[] = {"fieldsToUnnest", "delimiter", "collectionNotUnnestedToJson",
                                       "prefixesToRename", NULL};
    const char *k = "ingestionConfig.complexTypeConfig";
    if (!ct || json_is_null(ct)) return;
    if (!json_is_object(ct)) {
        fail(c, k, "expected an object");
        return;
    }
    check_keys(c, ct, k, keys);
    tcfg_complex *x = sl_xcalloc(1, sizeof *x);
    t->complex = x;
    const json_t *d = json_object_get(ct, "delimiter");
    if (d && !json_is_null(d) &&
        (!json_is_string(d) || !json_string_length(d) ||
         strlen(json_string_value(d)) != json_string_length(d)))
        fail(c, "ingestionConfig.complexTypeConfig.delimiter", "expected a non-empty string");
    x->delimiter =
        sl_xstrdup(json_is_string(d) && json_string_length(d) ? json_string_value(d) : ".");
    const json_t *u = json_object_get(ct, "fieldsToUnnest");
    if (u && !json_is_null(u)) {
        if (!json_is_array(u)) {
            fail(c, "ingestionConfig.complexTypeConfig.fieldsToUnnest", "expected an array");
        } else {
            x->unnest = sl_xcalloc(json_array_size(u) + 1, sizeof *x->unnest);
            size_t i;
            const json_t *v;
            json_array_foreach(u, i, v)
            {
                if (!json_is_string(v) || !json_string_length(v)) {
                    fail(c, "ingestionConfig.complexTypeConfig.fieldsToUnnest",
                         "expected an array of field names");
                    continue;
                }
                x->unnest[x->nunnest++] = sl_xstrdup(json_string_value(v));
            }
        }
    }
    const json_t *m = json_object_get(ct, "collectionNotUnnestedToJson");
    if (m && !json_is_null(m)) {
        const char *mv = json_is_string(m) ? json_string_value(m) : "";
        if (strcmp(mv, "NON_PRIMITIVE") && strcmp(mv, "ALL"))
            fail(c, "ingestionConfig.complexTypeConfig.collectionNotUnnestedToJson",
                 "\"%s\": expected NON_PRIMITIVE or ALL (NONE, which hands a collection to a "
                 "column as it is, is not supported)",
                 mv);
        x->all_to_json = strcmp(mv, "ALL") == 0;
    }
    const json_t *r = json_object_get(ct, "prefixesToRename");
    if (r && !json_is_null(r)) {
        if (!json_is_object(r)) {
            fail(c, "ingestionConfig.complexTypeConfig.prefixesToRename", "expected an object");
            return;
        }
        x->rename = sl_xcalloc(json_object_size(r) + 1, sizeof *x->rename);
        const char *pk;
        const json_t *pv;
        json_object_foreach((json_t *)r, pk, pv)
        {
            if (!json_is_string(pv) || !*pk) {
                fail(c, "ingestionConfig.complexTypeConfig.prefixesToRename",
                     "expected {\"prefix\": \"replacement\", ...}");
                continue;
            }
            x->rename[x->nrename].key = sl_xstrdup(pk);
            x->rename[x->nrename++].value = sl_xstrdup(json_string_value(pv));
        }
    }
}

/* ingestionConfig.enrichmentConfigs: [{"enricherType", "properties", "preComplexTypeTransform"}]:
 * generateColumn (properties.fieldToFunctionMap {column: expression}) and noOp. A column is a
 * single-value schema column not also in transformConfigs, unless it feeds the complex-type
 * transform (preComplexTypeTransform with a complexTypeConfig: any name). Call after
 * parse_transforms and parse_complex. */
static void parse_enrich(pctx *c, const json_t *arr, const schema *s, tcfg *t)
{
    static const char *const keys[] = {"enricherType", "properties", "preComplexTypeTransform",
                                       NULL};
    if (!arr || json_is_null(arr)) return;
    if (!json_is_array(arr)) {
        fail(c, "ingestionConfig.enrichmentConfigs", "expected an array");
        return;
    }
    size_t i;
    const json_t *e;
    json_array_foreach(arr, i, e)
    {
        char k[128], fk[640], why[1024];
        snprintf(k, sizeof k, "ingestionConfig.enrichmentConfigs[%zu]", i);
        if (!json_is_object(e)) {
            fail(c, k, "expected an object");
            continue;
        }
        check_keys(c, e, k, keys);
        const json_t *ty = json_object_get(e, "enricherType");
        const char *type = json_is_string(ty) ? json_string_value(ty) : "";
        const json_t *pre = json_object_get(e, "preComplexTypeTransform");
        if (pre && !json_is_boolean(pre))
            fail(c, k, "preComplexTypeTransform: expected true or false");
        if (strcmp(type, "noOp") == 0) continue;
        if (strcmp(type, "generateColumn") != 0) {
            fail(c, k, "enricherType \"%s\": not supported (generateColumn, noOp)", type);
            continue;
        }
        const json_t *props = json_object_get(e, "properties");
        const json_t *map =
            json_is_object(props) ? json_object_get(props, "fieldToFunctionMap") : NULL;
        if (!json_is_object(map)) {
            fail(c, k, "properties.fieldToFunctionMap: expected {\"column\": \"expression\", ...}");
            continue;
        }
        const char *col;
        const json_t *fn;
        json_object_foreach((json_t *)map, col, fn)
        {
            snprintf(fk, sizeof fk, "%s.properties.fieldToFunctionMap.%s", k, col);
            xform_expr *x =
                json_is_string(fn) ? xform_parse(json_string_value(fn), why, sizeof why) : NULL;
            if (!x) {
                fail(c, fk, "%s", json_is_string(fn) ? why : "expected a string");
                continue;
            }
            bool feeds = json_is_true(pre) && t->complex;
            int f = schema_find(s, col);
            const char *bad = NULL;
            if (!c->noschema && !feeds && (f < 0 || !s->fields[f].single_value))
                bad = "not a single-value column (only a preComplexTypeTransform enricher of a "
                      "table with a complexTypeConfig may make other fields)";
            for (uint32_t j = 0; !bad && j < t->ntransforms; j++)
                if (f >= 0 && t->transforms[j].field == (uint32_t)f)
                    bad = "also in transformConfigs";
            for (uint32_t j = 0; !bad && j < t->nenrich; j++)
                if (!strcmp(t->enrich[j].column, col)) bad = "generated twice";
            if (bad) {
                fail(c, fk, "%s", bad);
                xform_free(x);
                continue;
            }
            t->enrich = sl_xrealloc(t->enrich, (t->nenrich + 1) * sizeof *t->enrich);
            t->enrich[t->nenrich++] = (tcfg_enrich){sl_xstrdup(col), x, f, feeds};
        }
    }
    /* a later step reads the message, not another's result: no chains */
    for (uint32_t j = 0; j < t->nenrich; j++) {
        if (t->enrich[j].pre_complex) continue;
        for (uint32_t a = 0; a < t->ntransforms; a++)
            for (uint32_t in = 0; in < xform_ninputs(t->transforms[a].expr); in++)
                if (!strcmp(xform_input(t->transforms[a].expr, in), t->enrich[j].column))
                    fail(c, "ingestionConfig.enrichmentConfigs",
                         "%s is generated and read by a transform: chained transforms are not "
                         "supported",
                         t->enrich[j].column);
    }
}

/* One stream config map (path names where it was found, for messages). */
static int parse_stream_map(pctx *c, const json_t *m, const char *path, tcfg *t)
{
    char key[512], val[8192];
    const char *k;
    json_t *v;
    bool have_rows = false, have_old_rows = false, have_size = false;
    if (!json_is_object(m)) return fail(c, path, "expected an object");
    t->offset_reset = TCFG_RESET_LARGEST;
    t->pauseless = true;
    t->consumer_type = TCFG_CONSUMER_LOWLEVEL;
    size_t nprops = 0;
    json_object_foreach((json_t *)m, k, v)
    {
        if (strncmp(k, PROP_PREFIX, strlen(PROP_PREFIX)) == 0) nprops++;
    }
    t->props = sl_xcalloc(nprops, sizeof *t->props);
    int before = c->nerr;
    json_object_foreach((json_t *)m, k, v)
    {
        snprintf(key, sizeof key, "%s.%s", path, k);
        if (strncmp(k, DECODER_PROP_PREFIX, strlen(DECODER_PROP_PREFIX)) == 0) {
            continue; /* read once the decoder is known (parse_decoder_props) */
        }
        if (!scalar_text(v, val, sizeof val)) {
            fail(c, key, "expected a string (of at most %zu bytes)", sizeof val - 1);
            continue;
        }
        if (strcmp(k, "streamType") == 0) {
            if (strcmp(val, "kafka") != 0) {
                fail(c, key, "unsupported stream type \"%s\" (only kafka)", val);
                continue;
            }
        } else if (strcmp(k, "stream.kafka.topic.name") == 0) {
            if (!*val) {
                fail(c, key, "empty topic name");
                continue;
            }
            t->topic = sl_xstrdup(val);
        } else if (strcmp(k, "stream.kafka.broker.list") == 0) {
            if (!*val) {
                fail(c, key, "empty broker list");
                continue;
            }
            t->broker_list = sl_xstrdup(val);
        } else if (strcmp(k, "stream.kafka.consumer.type") == 0) {
            if (strcasecmp(val, "lowlevel") == 0 || strcasecmp(val, "simple") == 0)
                t->consumer_type = TCFG_CONSUMER_LOWLEVEL;
            else if (strcasecmp(val, "highlevel") == 0)
                t->consumer_type = TCFG_CONSUMER_HIGHLEVEL;
            else {
                fail(c, key, "\"%s\": expected lowlevel or highlevel", val);
                continue;
            }
        } else if (strcmp(k, "stream.kafka.consumer.factory.class.name") == 0) {
            if (!key_in(val, consumer_factories)) {
                fail(c, key,
                     "unsupported consumer factory \"%s\" (Sluice consumes Kafka "
                     "itself; use a Pinot Kafka consumer factory name)",
                     val);
                continue;
            }
        } else if (strcmp(k, "stream.kafka.decoder.class.name") == 0) {
            size_t j = 0;
            while (j < sizeof decoders / sizeof decoders[0] && strcmp(val, decoders[j].name))
                j++;
            if (j == sizeof decoders / sizeof decoders[0]) {
                fail(c, key,
                     "\"%s\": not a supported decoder (JSONMessageDecoder, "
                     "KafkaJSONMessageDecoder, CSVMessageDecoder, SimpleAvroMessageDecoder, "
                     "KafkaConfluentSchemaRegistryAvroMessageDecoder, ProtoBufMessageDecoder)",
                     val);
                continue;
            }
            t->decoder_class = sl_xstrdup(val);
            t->decoder = decoders[j].decoder;
        } else if (strcmp(k, PROP_PREFIX "auto.offset.reset") == 0) {
            if (strcasecmp(val, "smallest") == 0 || strcasecmp(val, "earliest") == 0)
                t->offset_reset = TCFG_RESET_SMALLEST;
            else if (strcasecmp(val, "largest") == 0 || strcasecmp(val, "latest") == 0)
                t->offset_reset = TCFG_RESET_LARGEST;
            else {
                fail(c, key, "\"%s\": expected smallest or largest", val);
                continue;
            }
        } else if (strncmp(k, PROP_PREFIX, strlen(PROP_PREFIX)) == 0) {
            if (!k[strlen(PROP_PREFIX)]) {
                fail(c, key, "empty property name");
                continue;
            }
            /* one place names the brokers, so every error can name the ones really tried */
            if (strcmp(k + strlen(PROP_PREFIX), "bootstrap.servers") == 0 ||
                strcmp(k + strlen(PROP_PREFIX), "metadata.broker.list") == 0) {
                fail(c, key, "the brokers are set by stream.kafka.broker.list only");
                continue;
            }
            t->props[t->nprops].key = sl_xstrdup(k + strlen(PROP_PREFIX));
            t->props[t->nprops++].value = sl_xstrdup(val);
        } else if (strcmp(k, "realtime.segment.flush.threshold.rows") == 0 ||
                   strcmp(k, "realtime.segment.flush.threshold.size") == 0) {
            bool old = k[strlen(k) - 1] == 'e';
            const char *p = val;
            uint64_t rows;
            if (!read_uint(&p, &rows) || *p || rows > TCFG_MAX_FLUSH_ROWS) {
                fail(c, key, "\"%s\": expected a row count in [0, %llu]%s", val,
                     TCFG_MAX_FLUSH_ROWS,
                     old ? " (for bytes use realtime.segment.flush.threshold.segment.size)" : "");
                continue;
            }
            if (old ? have_rows : have_old_rows) {
                fail(c, key, "conflicts with realtime.segment.flush.threshold.%s",
                     old ? "rows" : "size");
                continue;
            }
            *(old ? &have_old_rows : &have_rows) = true;
            t->flush_rows = rows;
        } else if (strcmp(k, "realtime.segment.flush.threshold.time") == 0) {
            if (tcfg_parse_duration(val, &t->flush_time_ms) || t->flush_time_ms == 0) {
                fail(c, key, "\"%s\": expected a positive duration such as 6h, 90s, 1h30m", val);
                continue;
            }
        } else if (strcmp(k, "stream.kafka.partition.ids") == 0) {
            char why[256];
            free(t->partition_ids);
            t->partition_ids = NULL;
            if (tcfg_parse_partitions(val, "", &t->partition_ids, &t->npartition_ids, why,
                                      sizeof why)) {
                fail(c, key, "%s", why + 2); /* without the empty key's ": " */
                continue;
            }
        } else if (strcmp(k, "stream.kafka.metadata.populate") == 0 ||
                   strcmp(k, "realtime.segment.pauseless.enabled") == 0) {
            bool *flag = strcmp(k, "stream.kafka.metadata.populate") == 0 ? &t->metadata_populate
                                                                          : &t->pauseless;
            if (strcasecmp(val, "true") == 0)
                *flag = true;
            else if (strcasecmp(val, "false") == 0)
                *flag = false;
            else {
                fail(c, key, "\"%s\": expected true or false", val);
                continue;
            }
        } else if (strcmp(k, "realtime.segment.flush.threshold.segment.size") == 0) {
            if (tcfg_parse_size(val, &t->flush_size_bytes) || t->flush_size_bytes == 0) {
                fail(c, key, "\"%s\": expected a positive size such as 200M, 1G", val);
                continue;
            }
            have_size = true;
        } else {
            {
                fail(c, key, "unsupported key");
                continue;
            }
        }
    }
    if (c->nerr > before) return -1;
    if (have_size && t->flush_rows > 0) {
        snprintf(key, sizeof key, "%s.realtime.segment.flush.threshold.segment.size", path);
        return fail(c, key,
                    "conflicts with a non-zero realtime.segment.flush.threshold.%s "
                    "(set it to \"0\" for size autotune)",
                    have_rows ? "rows" : "size");
    }
    if ((have_rows || have_old_rows) && t->flush_rows == 0 && !have_size)
        t->flush_size_bytes = TCFG_AUTOTUNE_DEFAULT_SIZE;
    if (t->npartition_ids && t->consumer_type == TCFG_CONSUMER_HIGHLEVEL) {
        snprintf(key, sizeof key, "%s.stream.kafka.partition.ids", path);
        return fail(c, key, "a highlevel consumer takes the partitions its group assigns it");
    }
    if (!t->topic && t->type == TCFG_REALTIME)
        return fail(c, path, "missing required key stream.kafka.topic.name");
    if (!t->broker_list) return fail(c, path, "missing required key stream.kafka.broker.list");
    if (!t->decoder_class) t->decoder_class = sl_xstrdup(decoders[0].name);
    return parse_decoder_props(c, m, path, t);
}

static int parse_table_name(pctx *c, const json_t *root, tcfg *t)
{
    const json_t *ty = json_object_get(root, "tableType");
    if (!ty) return fail(c, "tableType", "missing required key");
    if (!json_is_string(ty)) return fail(c, "tableType", "expected REALTIME or OFFLINE");
    if (strcasecmp(json_string_value(ty), "REALTIME") == 0)
        t->type = TCFG_REALTIME;
    else if (strcasecmp(json_string_value(ty), "OFFLINE") == 0)
        t->type = TCFG_OFFLINE;
    else
        return fail(c, "tableType", "\"%s\": expected REALTIME or OFFLINE", json_string_value(ty));
    const json_t *dim = json_object_get(root, "isDimTable");
    if (t->type == TCFG_REALTIME && dim && !is_false(dim))
        fail(c, "isDimTable", "a dimension table is an OFFLINE table (as in Pinot)");
    t->dim_table = t->type == TCFG_OFFLINE && dim && !is_false(dim);
    const json_t *pf =
        json_object_get(json_object_get(root, "segmentsConfig"), "segmentPushFrequency");
    t->push_hourly = json_is_string(pf) && strcasecmp(json_string_value(pf), "HOURLY") == 0;

    const json_t *nm = json_object_get(root, "tableName");
    if (!nm) return fail(c, "tableName", "missing required key");
    if (!json_is_string(nm)) return fail(c, "tableName", "expected a string");
    char name[SL_IDENT_MAX + 16];
    if (json_string_length(nm) >= sizeof name)
        return fail(c, "tableName", "longer than %d characters", SL_IDENT_MAX);
    snprintf(name, sizeof name, "%s", json_string_value(nm));
    static const char *const sfx[] = {"_REALTIME", "_OFFLINE"};
    for (int i = 0; i < 2; i++) {
        size_t n = strlen(name), m = strlen(sfx[i]);
        if (n >= m && strcmp(name + n - m, sfx[i]) == 0) {
            if (i != (int)t->type)
                return fail(c, "tableName", "\"%s\" has the suffix of the other table type",
                            json_string_value(nm));
            name[n - m] = '\0';
        }
    }
    /* The name becomes a directory, a ZooKeeper node and the first part of segment names
     * ("<table>__<partition>__..."), hence the narrow alphabet and no "__". */
    size_t n = strlen(name);
    if (n == 0 || n > SL_IDENT_MAX)
        return fail(c, "tableName", "must have 1 to %d characters", SL_IDENT_MAX);
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && name[i] != '_' && name[i] != '-')
            return fail(c, "tableName", "\"%s\": only letters, digits, '_' and '-' are allowed",
                        name);
    if (strstr(name, "__"))
        return fail(c, "tableName", "\"%s\": \"__\" is reserved as the segment name separator",
                    name);
    t->table_name = sl_xstrdup(name);
    return 0;
}

/* tcfg_parse, its errors appended to the `prior` lines already in err; s NULL: the schema
 * failed, so only what does not need it is checked and the result is always NULL. */
static tcfg *tcfg__parse(const char *json, size_t len, const char *source, const schema *s,
                         char *err, size_t errlen, int prior)
{
    static const schema noschema = {.name = ""};
    static const char *const top[] = {
        "tableName",       "tableType", "segmentsConfig", "tableIndexConfig", "ingestionConfig",
        "fieldConfigList", NULL};
    static const char *const index_keys[] = {"noDictionaryColumns", "streamConfigs", NULL};
    static const char *const ingest_keys[] = {
        "streamIngestionConfig", "transformConfigs",   "continueOnError",
        "rowTimeValueCheck",     "filterConfig",       "complexTypeConfig",
        "enrichmentConfigs",     "aggregationConfigs", NULL};
    static const char *const sic_keys[] = {"streamConfigMaps", NULL};
    pctx c = {source, err, errlen, prior, NULL, !s};
    if (!s) s = &noschema;
    json_t *root = NULL;
    tcfg *t = NULL;
    json_error_t jerr;
    size_t i;
    for (i = 0; i < len && isspace((unsigned char)json[i]); i++)
        ;
    if (i == len) {
        fail(&c, "table config", "empty file");
        goto fail;
    }
    root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        char key[64];
        snprintf(key, sizeof key, "line %d column %d", jerr.line, jerr.column);
        fail(&c, key, "invalid JSON: %s", jerr.text);
        goto fail;
    }
    if (!json_is_object(root)) {
        fail(&c, "table config", "top level must be a JSON object");
        goto fail;
    }
    t = sl_xcalloc(1, sizeof *t);
    t->nfields = s->nfields;
    t->no_dictionary = sl_xcalloc(s->nfields ? s->nfields : 1, sizeof *t->no_dictionary);
    t->replication = 1;
    c.t = t;
    check_keys(&c, root, "", top); /* reported with whatever else is wrong */
    if (parse_table_name(&c, root, t)) goto fail;

    const json_t *sc = json_object_get(root, "segmentsConfig");
    if (sc) parse_segments_config(&c, sc, s, t);

    const json_t *old_map = NULL, *new_map = NULL;
    const json_t *tic = json_object_get(root, "tableIndexConfig");
    if (tic && !json_is_null(tic)) {
        if (!json_is_object(tic)) {
            fail(&c, "tableIndexConfig", "expected an object");
            goto fail;
        }
        check_keys(&c, tic, "tableIndexConfig", index_keys);
        parse_no_dictionary(&c, json_object_get(tic, "noDictionaryColumns"), s, t);
        old_map = json_object_get(tic, "streamConfigs");
    }
    parse_field_configs(&c, json_object_get(root, "fieldConfigList"), s, t);
    const json_t *ing = json_object_get(root, "ingestionConfig");
    if (ing && !json_is_null(ing)) {
        if (!json_is_object(ing)) {
            fail(&c, "ingestionConfig", "expected an object");
            goto fail;
        }
        check_keys(&c, ing, "ingestionConfig", ingest_keys);
        parse_transforms(&c, json_object_get(ing, "transformConfigs"), s, t);
        parse_aggregations(&c, json_object_get(ing, "aggregationConfigs"), s, t);
        parse_filter(&c, json_object_get(ing, "filterConfig"), s, t);
        parse_complex(&c, json_object_get(ing, "complexTypeConfig"), t);
        parse_enrich(&c, json_object_get(ing, "enrichmentConfigs"), s, t);
        const json_t *coe = json_object_get(ing, "continueOnError");
        if (coe && !json_is_boolean(coe))
            fail(&c, "ingestionConfig.continueOnError", "expected true or false");
        t->continue_on_error = json_is_true(coe);
        const json_t *rtc = json_object_get(ing, "rowTimeValueCheck");
        if (rtc && !json_is_boolean(rtc))
            fail(&c, "ingestionConfig.rowTimeValueCheck", "expected true or false");
        t->row_time_check = json_is_true(rtc);
        if (t->row_time_check && !t->time_column)
            fail(&c, "ingestionConfig.rowTimeValueCheck",
                 "needs segmentsConfig.timeColumnName (the column it checks)");
        const json_t *sic = json_object_get(ing, "streamIngestionConfig");
        if (sic && !json_is_null(sic)) {
            const char *p = "ingestionConfig.streamIngestionConfig";
            if (!json_is_object(sic)) {
                fail(&c, p, "expected an object");
                goto fail;
            }
            check_keys(&c, sic, p, sic_keys);
            const json_t *maps = json_object_get(sic, "streamConfigMaps");
            if (maps && !json_is_null(maps)) {
                p = "ingestionConfig.streamIngestionConfig.streamConfigMaps";
                if (!json_is_array(maps) || json_array_size(maps) != 1) {
                    fail(&c, p, "expected an array of exactly one stream config map");
                    goto fail;
                }
                new_map = json_array_get(maps, 0);
            }
        }
    }
    if (json_is_null(old_map)) old_map = NULL;
    if (old_map && new_map) {
        fail(&c, "tableIndexConfig.streamConfigs",
             "given together with ingestionConfig.streamIngestionConfig.streamConfigMaps; "
             "use one of them");
        goto fail;
    }
    const json_t *map = old_map ? old_map : new_map;
    const char *map_path = old_map ? "tableIndexConfig.streamConfigs"
                                   : "ingestionConfig.streamIngestionConfig.streamConfigMaps[0]";
    if (t->type == TCFG_OFFLINE && map) {
        fail(&c, map_path, "stream config given for an OFFLINE table");
        goto fail;
    }
    if (t->type == TCFG_REALTIME) {
        if (!map) {
            fail(&c, "ingestionConfig.streamIngestionConfig.streamConfigMaps",
                 "missing: a REALTIME table needs a stream config");
            goto fail;
        }
        parse_stream_map(&c, map, map_path, t);
    }
    if (t->complex && t->decoder == TCFG_DECODER_CSV)
        fail(&c, "ingestionConfig.complexTypeConfig",
             "only with a JSON, Avro or Protocol Buffers decoder (the stream's decoder is %s)",
             t->decoder_class);
    /* a header's value is bytes: Pinot converts them to STRING (hex) and BYTES only */
    for (uint32_t f = 0; t->metadata_populate && f < s->nfields; f++)
        if (!strncmp(s->fields[f].name, "__header$", 9) && s->fields[f].type != SCHEMA_STRING &&
            s->fields[f].type != SCHEMA_BYTES)
            fail(&c, "stream.kafka.metadata.populate",
                 "column %s is a %s: a Kafka header's value is bytes, stored only in a STRING "
                 "(as hex, as Pinot does) or BYTES column",
                 s->fields[f].name, schema_type_name(s->fields[f].type));
    if (c.nerr || c.noschema) goto fail;
    json_decref(root);
    return t;
fail:
    json_decref(root);
    tcfg_free(t);
    return NULL;
}

tcfg *tcfg_parse(const char *json, size_t len, const char *source, const schema *s, char *err,
                 size_t errlen)
{
    if (!s) {
        pctx c = {source, err, errlen, 0, NULL, true};
        fail(&c, "table config", "no schema to validate against");
        return NULL;
    }
    return tcfg__parse(json, len, source, s, err, errlen, 0);
}

/* The text of a file of at most TCFG_MAX_FILE bytes (caller frees), or NULL with the reason
 * appended to the c's errors. */
static char *tcfg__read(pctx *c, const char *path, size_t *lenp)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        fail(c, path, "%s", strerror(errno));
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = sl_xcalloc(cap, 1);
    for (;;) {
        size_t n = fread(buf + len, 1, cap - len, fp);
        len += n;
        if (n == 0) break;
        if (len == cap) {
            if (cap >= TCFG_MAX_FILE) {
                fail(c, path, "file larger than %u bytes", TCFG_MAX_FILE);
                goto fail;
            }
            cap *= 2;
            buf = sl_xrealloc(buf, cap);
        }
    }
    if (ferror(fp)) {
        fail(c, path, "read error: %s", strerror(errno));
        goto fail;
    }
    fclose(fp);
    *lenp = len;
    return buf;
fail:
    fclose(fp);
    free(buf);
    return NULL;
}

tcfg *tcfg_load(const char *path, const schema *s, char *err, size_t errlen)
{
    pctx c = {NULL, err, errlen, 0, NULL, false};
    size_t len;
    char *buf = tcfg__read(&c, path, &len);
    if (!buf) return NULL;
    tcfg *t = tcfg_parse(buf, len, path, s, err, errlen);
    free(buf);
    return t;
}

/* Errors already in err: its lines. */
static int tcfg__lines(const char *err)
{
    int n = *err ? 1 : 0;
    for (const char *p = err; *p; p++)
        n += *p == '\n';
    return n;
}

int tcfg_parse_pair(const char *sjson, size_t slen, const char *ssource, const char *tjson,
                    size_t tlen, const char *tsource, schema **s, tcfg **t, char *err,
                    size_t errlen)
{
    *t = NULL;
    err[0] = '\0';
    *s = schema_parse(sjson, slen, ssource, err, errlen);
    *t = tcfg__parse(tjson, tlen, tsource, *s, err, errlen, *s ? 0 : tcfg__lines(err));
    if (*t) return 0;
    schema_free(*s);
    *s = NULL;
    return SL_EINVAL;
}

int tcfg_load_pair(const char *schema_path, const char *table_path, schema **s, tcfg **t, char *err,
                   size_t errlen)
{
    *t = NULL;
    err[0] = '\0';
    *s = schema_load(schema_path, err, errlen);
    int prior = *s ? 0 : tcfg__lines(err);
    pctx c = {NULL, err, errlen, prior, NULL, false};
    size_t len;
    char *buf = tcfg__read(&c, table_path, &len);
    if (buf) *t = tcfg__parse(buf, len, table_path, *s, err, errlen, prior);
    free(buf);
    if (*t) return 0;
    schema_free(*s);
    *s = NULL;
    return SL_EINVAL;
}

int tcfg_key(const tcfg *t, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%s%s", t->table_name, t->type == TCFG_OFFLINE ? "_OFFLINE" : "");
    return n > 0 && (size_t)n < cap && n <= SL_IDENT_MAX ? 0 : SL_ELIMIT;
}

bool tcfg_consumes_partition(const tcfg *t, int32_t p)
{
    if (!t->npartition_ids) return true;
    for (size_t i = 0; i < t->npartition_ids; i++)
        if (t->partition_ids[i] == p) return true;
    return false;
}

void tcfg_free(tcfg *t)
{
    if (!t) return;
    for (uint32_t i = 0; i < t->ntransforms; i++)
        xform_free(t->transforms[i].expr);
    free(t->transforms);
    free(t->agg);
    free(t->table_name);
    free(t->time_column);
    free(t->no_dictionary);
    free(t->topic);
    free(t->broker_list);
    free(t->decoder_class);
    tcfg_csv_free(&t->csv);
    free(t->avro_schema);
    free(t->registry_url);
    free(t->registry_userinfo);
    pbdesc_free(t->pb);
    for (uint32_t i = 0; i < t->nenrich; i++) {
        free(t->enrich[i].column);
        xform_free(t->enrich[i].expr);
    }
    free(t->enrich);
    if (t->complex) {
        for (uint32_t i = 0; i < t->complex->nunnest; i++)
            free(t->complex->unnest[i]);
        free(t->complex->unnest);
        for (uint32_t i = 0; i < t->complex->nrename; i++) {
            free(t->complex->rename[i].key);
            free(t->complex->rename[i].value);
        }
        free(t->complex->rename);
        free(t->complex->delimiter);
        free(t->complex);
    }
    for (uint32_t i = 0; i < t->nprops; i++) {
        free(t->props[i].key);
        free(t->props[i].value);
    }
    free(t->props);
    free(t->partition_ids);
    xform_free(t->filter);
    for (uint32_t i = 0; i < t->ncarried; i++)
        free(t->carried[i]);
    free(t->carried);
    free(t);
}

void tcfg_carried_text(const tcfg *t, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < t->ncarried && n + 1 < cap; i++) {
        int w = snprintf(buf + n, cap - n, "%s%s", i ? ", " : "", t->carried[i]);
        if (w < 0) break;
        n += (size_t)w;
    }
}

static int tcfg__int32_cmp(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

int tcfg_parse_partitions(const char *text, const char *key, int32_t **out, size_t *n, char *err,
                          size_t errlen)
{
    *out = NULL;
    *n = 0;
    size_t cap = 0;
    const char *p = text;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p) break;
        char *end;
        errno = 0;
        long lo = strtol(p, &end, 10), hi = lo;
        bool ok = end != p && !errno && lo >= 0 && lo <= INT32_MAX;
        if (ok && *end == '-') { /* an inclusive range, as Pinot reads "0-399" */
            const char *q = end + 1;
            hi = strtol(q, &end, 10);
            ok = end != q && !errno && hi >= lo && hi <= INT32_MAX;
        }
        ok = ok && (!*end || *end == ',' || *end == ' ');
        char why[64] = "";
        if (!ok)
            snprintf(why, sizeof why, "is not a list of partition numbers and ranges");
        else if ((uint64_t)(hi - lo) + 1 + *n > TCFG_MAX_PARTITIONS)
            snprintf(why, sizeof why, "names more than %d partitions", TCFG_MAX_PARTITIONS);
        if (*why) {
            snprintf(err, errlen, "%s: '%s' %s", key, text, why);
            free(*out);
            *out = NULL;
            *n = 0;
            return SL_EINVAL;
        }
        for (long v = lo; v <= hi; v++) {
            if (*n == cap) {
                cap = cap ? cap * 2 : 16;
                *out = sl_xrealloc(*out, cap * sizeof **out);
            }
            (*out)[(*n)++] = (int32_t)v;
        }
        p = end;
    }
    if (*n == 0) return sl_fail(err, errlen, SL_EINVAL, "%s: empty list", key);
    /* sorted, each once (Pinot's KafkaPartitionSubsetUtils) */
    qsort(*out, *n, sizeof **out, tcfg__int32_cmp);
    size_t k = 0;
    for (size_t i = 0; i < *n; i++)
        if (k == 0 || (*out)[k - 1] != (*out)[i]) (*out)[k++] = (*out)[i];
    *n = k;
    return 0;
}
