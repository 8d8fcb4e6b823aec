/* Unit tests for common/table_config.c: both stream-config locations, defaults, autotune
 * rules, every rejection, durations and sizes. */
#include "common/schema.h"
#include "common/sl_err.h"
#include "common/table_config.h"
#include "common/limits.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char schema_json[] =
    "{\"schemaName\":\"events\",\"dimensionFieldSpecs\":["
    "{\"name\":\"user\",\"dataType\":\"STRING\"},"
    "{\"name\":\"tags\",\"dataType\":\"STRING\",\"singleValueField\":false},"
    "{\"name\":\"session\",\"dataType\":\"LONG\"}],"
    "\"metricFieldSpecs\":[{\"name\":\"price\",\"dataType\":\"DOUBLE\"}],"
    "\"dateTimeFieldSpecs\":[{\"name\":\"ts\",\"dataType\":\"LONG\","
    "\"format\":\"1:MILLISECONDS:EPOCH\",\"granularity\":\"1:MILLISECONDS\"}]}";

static schema *S;

static int setup(void **state)
{
    (void)state;
    char err[256];
    S = schema_parse(schema_json, strlen(schema_json), "s.json", err, sizeof err);
    return S ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    schema_free(S);
    return 0;
}

static tcfg *parse_ok(const char *json)
{
    char err[512] = "";
    tcfg *t = tcfg_parse(json, strlen(json), "t.json", S, err, sizeof err);
    if (!t) fail_msg("unexpected error: %s", err);
    return t;
}

static void expect_error(const char *json, const char *want)
{
    char err[512] = "";
    tcfg *t = tcfg_parse(json, strlen(json), "table.json", S, err, sizeof err);
    if (t) {
        tcfg_free(t);
        fail_msg("accepted: %s", json);
    }
    if (!strstr(err, want)) fail_msg("error \"%s\" lacks \"%s\"\nfor %s", err, want, json);
    assert_true(strncmp(err, "table.json: ", 12) == 0);
}

/* Table config with the newer stream location; X is extra stream-map entries. */
#define NEWMAP(x)                                                                                  \
    "{\"tableName\":\"events\",\"tableType\":\"REALTIME\",\"ingestionConfig\":"                    \
    "{\"streamIngestionConfig\":{\"streamConfigMaps\":[{\"stream.kafka.topic.name\":\"ev\","       \
    "\"stream.kafka.broker.list\":\"h:9092\"" x "}]}}}"
/* Older location; X is extra top-level keys (after tableIndexConfig). */
#define OLDMAP(x)                                                                                  \
    "{\"tableName\":\"events\",\"tableType\":\"REALTIME\",\"tableIndexConfig\":"                   \
    "{\"streamConfigs\":{\"stream.kafka.topic.name\":\"ev\","                                      \
    "\"stream.kafka.broker.list\":\"h:9092\"}}" x "}"

static void test_new_location_and_defaults(void **state)
{
    (void)state;
    tcfg *t = parse_ok(NEWMAP(""));
    assert_string_equal(t->table_name, "events");
    assert_int_equal(t->type, TCFG_REALTIME);
    assert_int_equal(t->replication, 1);
    assert_null(t->time_column);
    assert_int_equal(t->nfields, 5);
    for (int i = 0; i < 5; i++)
        assert_false(t->no_dictionary[i]);
    assert_string_equal(t->topic, "ev");
    assert_string_equal(t->broker_list, "h:9092");
    assert_int_equal(t->offset_reset, TCFG_RESET_LARGEST); /* Pinot's default */
    assert_int_equal(t->consumer_type, TCFG_CONSUMER_LOWLEVEL);
    assert_string_equal(t->decoder_class,
                        "org.apache.pinot.plugin.inputformat.json.JSONMessageDecoder");
    assert_true(t->flush_rows == 0 && t->flush_time_ms == 0 && t->flush_size_bytes == 0);
    assert_int_equal(t->nprops, 0);
    tcfg_free(t);
}

static void test_old_location_full(void **state)
{
    (void)state;
    tcfg *t = parse_ok(
        "{\"tableName\":\"events_REALTIME\",\"tableType\":\"realtime\","
        "\"segmentsConfig\":{\"replication\":3,\"replicasPerPartition\":\"3\","
        "\"timeColumnName\":\"ts\",\"schemaName\":\"events\"},"
        "\"tenants\":{},\"metadata\":{\"customConfigs\":{}},\"routing\":null,"
        "\"tableIndexConfig\":{\"noDictionaryColumns\":[\"ts\",\"tags\",\"price\"],"
        "\"invertedIndexColumns\":[],"
        "\"streamConfigs\":{\"streamType\":\"kafka\",\"stream.kafka.topic.name\":\"ev\","
        "\"stream.kafka.broker.list\":\"a:1,b:2\",\"stream.kafka.consumer.type\":\"simple\","
        "\"stream.kafka.consumer.factory.class.name\":"
        "\"org.apache.pinot.plugin.stream.kafka30.KafkaConsumerFactory\","
        "\"stream.kafka.decoder.class.name\":"
        "\"org.apache.pinot.plugin.stream.kafka.KafkaJSONMessageDecoder\","
        "\"stream.kafka.consumer.prop.auto.offset.reset\":\"earliest\","
        "\"stream.kafka.consumer.prop.security.protocol\":\"SASL_SSL\","
        "\"stream.kafka.consumer.prop.fetch.max.bytes\":1048576,"
        "\"realtime.segment.flush.threshold.size\":\"5000\","
        "\"realtime.segment.flush.threshold.time\":\"1h30m\"}}}");
    assert_string_equal(t->table_name, "events");
    assert_int_equal(t->replication, 3);
    assert_string_equal(t->time_column, "ts");
    assert_true(t->no_dictionary[4] && t->no_dictionary[1] && t->no_dictionary[3]);
    assert_false(t->no_dictionary[0] || t->no_dictionary[2]);
    assert_string_equal(t->broker_list, "a:1,b:2");
    assert_int_equal(t->offset_reset, TCFG_RESET_SMALLEST);
    assert_int_equal(t->consumer_type, TCFG_CONSUMER_LOWLEVEL);
    assert_string_equal(t->decoder_class,
                        "org.apache.pinot.plugin.stream.kafka.KafkaJSONMessageDecoder");
    assert_int_equal(t->nprops, 2);
    assert_string_equal(t->props[0].key, "security.protocol");
    assert_string_equal(t->props[0].value, "SASL_SSL");
    assert_string_equal(t->props[1].key, "fetch.max.bytes");
    assert_string_equal(t->props[1].value, "1048576");
    assert_true(t->flush_rows == 5000);
    assert_true(t->flush_time_ms == 90 * 60 * 1000);
    assert_true(t->flush_size_bytes == 0);
    tcfg_free(t);

    t = parse_ok(NEWMAP(",\"stream.kafka.consumer.type\":\"HighLevel\","
                        "\"stream.kafka.consumer.prop.auto.offset.reset\":\"smallest\""));
    assert_int_equal(t->consumer_type, TCFG_CONSUMER_HIGHLEVEL);
    assert_int_equal(t->offset_reset, TCFG_RESET_SMALLEST);
    tcfg_free(t);
    t = parse_ok(NEWMAP(",\"stream.kafka.consumer.prop.auto.offset.reset\":\"latest\""));
    assert_int_equal(t->offset_reset, TCFG_RESET_LARGEST);
    tcfg_free(t);
}

/* stream.kafka.partition.ids: the partitions a table consumes, each once. */
static void test_partition_ids(void **state)
{
    (void)state;
    /* sorted and each once, ranges inclusive, as Pinot reads them */
    tcfg *t = parse_ok(NEWMAP(",\"stream.kafka.partition.ids\":\"7, 1,2-4,3\""));
    assert_int_equal(t->npartition_ids, 5);
    static const int32_t want[] = {1, 2, 3, 4, 7};
    for (int i = 0; i < 5; i++)
        assert_int_equal(t->partition_ids[i], want[i]);
    tcfg_free(t);
    t = parse_ok(NEWMAP(",\"stream.kafka.partition.ids\":\"0-9999\""));
    assert_int_equal(t->npartition_ids, 10000);
    assert_int_equal(t->partition_ids[9999], 9999);
    tcfg_free(t);
    t = parse_ok(NEWMAP(",\"stream.kafka.partition.ids\":0"));
    assert_int_equal(t->npartition_ids, 1);
    assert_int_equal(t->partition_ids[0], 0);
    tcfg_free(t);
    t = parse_ok(NEWMAP(""));
    assert_null(t->partition_ids);
    tcfg_free(t);
    expect_error(NEWMAP(",\"stream.kafka.partition.ids\":\"a\""),
                 "stream.kafka.partition.ids: 'a' is not a list of partition numbers and ranges");
    expect_error(NEWMAP(",\"stream.kafka.partition.ids\":\"5-3\""), "is not a list of partition");
    expect_error(NEWMAP(",\"stream.kafka.partition.ids\":\"0-65536\""),
                 "names more than 65536 partitions");
    expect_error(NEWMAP(",\"stream.kafka.partition.ids\":\"-1\""), "is not a list of partition");
    expect_error(NEWMAP(",\"stream.kafka.partition.ids\":\"2147483648\""), "is not a list");
    expect_error(NEWMAP(",\"stream.kafka.partition.ids\":\" , \""),
                 "stream.kafka.partition.ids: empty list");
    expect_error(NEWMAP(",\"stream.kafka.partition.ids\":\"1\",\"stream.kafka.consumer.type\":"
                        "\"highlevel\""),
                 "partition.ids: a highlevel consumer takes the partitions its group assigns");
    int32_t *p;
    size_t n;
    char err[256];
    assert_int_equal(tcfg_parse_partitions("7 8", "partitions", &p, &n, err, sizeof err), 0);
    assert_int_equal(n, 2);
    free(p);
    assert_int_equal(tcfg_parse_partitions("7,x", "partitions", &p, &n, err, sizeof err),
                     SL_EINVAL);
    assert_string_equal(err, "partitions: '7,x' is not a list of partition numbers and ranges");
    assert_null(p);
}

static void test_flush_thresholds(void **state)
{
    (void)state;
    tcfg *t = parse_ok(NEWMAP(",\"realtime.segment.flush.threshold.rows\":\"0\","
                              "\"realtime.segment.flush.threshold.segment.size\":\"150M\""));
    assert_true(t->flush_rows == 0 && t->flush_size_bytes == 150ull << 20);
    tcfg_free(t);
    t = parse_ok(NEWMAP(",\"realtime.segment.flush.threshold.rows\":\"0\""));
    assert_true(t->flush_rows == 0 && t->flush_size_bytes == 200ull << 20);
    tcfg_free(t);
    t = parse_ok(NEWMAP(",\"realtime.segment.flush.threshold.segment.size\":\"1G\""));
    assert_true(t->flush_rows == 0 && t->flush_size_bytes == 1ull << 30);
    tcfg_free(t);
    t = parse_ok(NEWMAP(",\"realtime.segment.flush.threshold.rows\":100000,"
                        "\"realtime.segment.flush.threshold.time\":\"6h\""));
    assert_true(t->flush_rows == 100000 && t->flush_time_ms == 6 * 3600000ull);
    assert_true(t->flush_size_bytes == 0);
    tcfg_free(t);
    t = parse_ok(NEWMAP(",\"realtime.segment.flush.threshold.rows\":\"2147483647\""));
    assert_true(t->flush_rows == 2147483647ull);
    tcfg_free(t);
}

static void test_offline(void **state)
{
    (void)state;
    tcfg *t = parse_ok("{\"tableName\":\"events_OFFLINE\",\"tableType\":\"OFFLINE\","
                       "\"segmentsConfig\":{\"replication\":\"2\"}}");
    assert_string_equal(t->table_name, "events");
    assert_int_equal(t->type, TCFG_OFFLINE);
    assert_int_equal(t->replication, 2);
    assert_null(t->topic);
    assert_null(t->broker_list);
    tcfg_free(t);
}

static void test_example_files(void **state)
{
    (void)state;
    const char *data = getenv("SLUICE_TEST_DATA");
    /* ctest always sets it (tests/CMakeLists.txt): unset, the run is misconfigured, not done */
    if (!data) fail_msg("SLUICE_TEST_DATA unset: the example files cannot be found");
    char sp[1024], tp[1024], err[512];
    snprintf(sp, sizeof sp, "%s/../../deploy/examples/events_schema.json", data);
    snprintf(tp, sizeof tp, "%s/../../deploy/examples/events_table.json", data);
    schema *s = schema_load(sp, err, sizeof err);
    if (!s) fail_msg("%s", err);
    tcfg *t = tcfg_load(tp, s, err, sizeof err);
    if (!t) fail_msg("%s", err);
    static const char *const names[] = {"ts",      "user", "country",    "device",
                                        "event",   "tags", "latency_ms", "price",
                                        "session", "flag", "event_id"};
    assert_int_equal(s->nfields, 11);
    for (int i = 0; i < 11; i++)
        assert_true(schema_find(s, names[i]) >= 0);
    assert_false(s->fields[schema_find(s, "tags")].single_value);
    assert_string_equal(t->table_name, "events");
    assert_string_equal(t->topic, "events");
    assert_string_equal(t->time_column, "ts");
    assert_true(t->flush_rows == 100000 && t->flush_time_ms == 6 * 3600000ull);
    static const char *const raw[] = {"ts", "event_id", "session", "price"};
    int nraw = 0;
    for (uint32_t i = 0; i < t->nfields; i++)
        nraw += t->no_dictionary[i];
    assert_int_equal(nraw, 4);
    for (int i = 0; i < 4; i++)
        assert_true(t->no_dictionary[schema_find(s, raw[i])]);
    tcfg_free(t);
    schema_free(s);
}

static void test_rejections(void **state)
{
    (void)state;
    const char *nm = "ingestionConfig.streamIngestionConfig.streamConfigMaps[0]";
    (void)nm;
    expect_error("", "table config: empty file");
    expect_error("{\"tableName\":", "invalid JSON");
    expect_error("[]", "top level must be a JSON object");
    expect_error("{\"tableType\":\"REALTIME\"}", "tableName: missing required key");
    expect_error("{\"tableName\":\"x\"}", "tableType: missing required key");
    expect_error("{\"tableName\":\"x\",\"tableType\":\"HYBRID\"}", "tableType: \"HYBRID\"");
    expect_error("{\"tableName\":5,\"tableType\":\"OFFLINE\"}", "tableName: expected a string");
    expect_error("{\"tableName\":\"x_REALTIME\",\"tableType\":\"OFFLINE\"}",
                 "tableName: \"x_REALTIME\" has the suffix of the other table type");
    expect_error("{\"tableName\":\"a.b\",\"tableType\":\"OFFLINE\"}", "only letters, digits");
    expect_error("{\"tableName\":\"a__b\",\"tableType\":\"OFFLINE\"}", "\"__\" is reserved");
    expect_error("{\"tableName\":\"_OFFLINE\",\"tableType\":\"OFFLINE\"}", "1 to 128");
    expect_error("{\"tableName\":\"\",\"tableType\":\"OFFLINE\"}", "1 to 128 characters");
    /* unsupported sections, by name */
    expect_error(NEWMAP("") "x", "invalid JSON");
    expect_error(
        NEWMAP(",\"stream.kafka.consumer.prop.bootstrap.servers\":\"h:1\""),
        "consumer.prop.bootstrap.servers: the brokers are set by stream.kafka.broker.list");
    expect_error(NEWMAP(",\"stream.kafka.consumer.prop.metadata.broker.list\":\"h:1\""),
                 "the brokers are set by stream.kafka.broker.list only");
    expect_error(OLDMAP(",\"tenantz\":{\"broker\":\"b\"}"), "table.json: tenantz: unsupported key");
    expect_error(OLDMAP(",\"upsertConfig\":{\"mode\":\"PARTIAL\"}"),
                 "upsertConfig: accepted only with \"mode\" NONE or FULL (PARTIAL merges rows");
    expect_error(OLDMAP(",\"dedupConfig\":{\"dedupEnabled\":true}"),
                 "dedupConfig: accepted only with \"dedupEnabled\": false");
    expect_error(OLDMAP(",\"isDimTable\":true"),
                 "isDimTable: a dimension table is an OFFLINE table");
    expect_error(OLDMAP(",\"isDimTable\":\"yes\""), "isDimTable: accepted only as true or false");
    expect_error(OLDMAP(",\"ingestionConfig\":{\"rowTimeValueCheck\":\"on\"}"),
                 "ingestionConfig.rowTimeValueCheck: expected true or false");
    expect_error(OLDMAP(",\"ingestionConfig\":{\"rowTimeValueCheck\":true}"),
                 "ingestionConfig.rowTimeValueCheck: needs segmentsConfig.timeColumnName");
    expect_error(NEWMAP(",\"stream.kafka.metadata.populate\":\"yes\""),
                 "stream.kafka.metadata.populate: \"yes\": expected true or false");
    expect_error(OLDMAP(",\"segmentsConfig\":[]"), "segmentsConfig: expected an object");
    expect_error(OLDMAP(",\"segmentsConfig\":{\"replication\":\"0\"}"),
                 "segmentsConfig.replication: expected an integer in [1, 16]");
    expect_error(OLDMAP(",\"segmentsConfig\":{\"replication\":\"three\"}"),
                 "segmentsConfig.replication: expected an integer");
    expect_error(OLDMAP(",\"segmentsConfig\":{\"replication\":1.5}"), "replication: expected");
    expect_error(OLDMAP(",\"segmentsConfig\":{\"replicasPerPartition\":\"-1\"}"),
                 "replicasPerPartition: expected");
    expect_error(OLDMAP(",\"segmentsConfig\":{\"replication\":2,\"replicasPerPartition\":\"3\"}"),
                 "replicasPerPartition: 3 disagrees with segmentsConfig.replication 2");
    expect_error(
        OLDMAP(",\"segmentsConfig\":{\"schemaName\":\"other\"}"),
        "segmentsConfig.schemaName: \"other\" does not match the schema's name \"events\"");
    expect_error(OLDMAP(",\"segmentsConfig\":{\"timeColumnName\":\"nope\"}"),
                 "segmentsConfig.timeColumnName: \"nope\" is not a column of schema \"events\"");
    expect_error(OLDMAP(",\"segmentsConfig\":{\"timeColumnName\":\"session\"}"),
                 "\"session\" is a dimension; the time column must be in dateTimeFieldSpecs");
    /* tableIndexConfig */
    expect_error("{\"tableName\":\"e\",\"tableType\":\"OFFLINE\",\"tableIndexConfig\":"
                 "{\"loadMode\":\"MMAP\",\"sortedColumn\":[\"user\"]}}",
                 "tableIndexConfig.sortedColumn: unsupported key");
    expect_error("{\"tableName\":\"e\",\"tableType\":\"OFFLINE\",\"tableIndexConfig\":"
                 "{\"nullHandlingEnabled\":\"sometimes\"}}",
                 "tableIndexConfig.nullHandlingEnabled: accepted only as true or false");
    expect_error("{\"tableName\":\"e\",\"tableType\":\"OFFLINE\",\"tableIndexConfig\":"
                 "{\"noDictionaryColumns\":[\"user\",\"nope\"]}}",
                 "tableIndexConfig.noDictionaryColumns[1]: \"nope\" is not a column");
    expect_error("{\"tableName\":\"e\",\"tableType\":\"OFFLINE\",\"tableIndexConfig\":"
                 "{\"noDictionaryColumns\":[\"user\",\"user\"]}}",
                 "noDictionaryColumns[1]: \"user\" listed twice");
    expect_error("{\"tableName\":\"e\",\"tableType\":\"OFFLINE\",\"tableIndexConfig\":"
                 "{\"noDictionaryColumns\":\"user\"}}",
                 "noDictionaryColumns: expected an array");
    expect_error("{\"tableName\":\"e\",\"tableType\":\"OFFLINE\",\"tableIndexConfig\":"
                 "{\"noDictionaryColumns\":[3]}}",
                 "noDictionaryColumns[0]: expected a column name");
    expect_error("{\"tableName\":\"e\",\"tableType\":\"OFFLINE\",\"tableIndexConfig\":5}",
                 "tableIndexConfig: expected an object");
    /* stream config placement */
    expect_error("{\"tableName\":\"e\",\"tableType\":\"REALTIME\"}",
                 "missing: a REALTIME table needs a stream config");
    expect_error("{\"tableName\":\"e\",\"tableType\":\"OFFLINE\",\"tableIndexConfig\":"
                 "{\"streamConfigs\":{\"stream.kafka.topic.name\":\"x\"}}}",
                 "tableIndexConfig.streamConfigs: stream config given for an OFFLINE table");
    expect_error(OLDMAP(",\"ingestionConfig\":{\"streamIngestionConfig\":{\"streamConfigMaps\":"
                        "[{\"stream.kafka.topic.name\":\"x\"}]}}"),
                 "tableIndexConfig.streamConfigs: given together with ingestionConfig");
    expect_error("{\"tableName\":\"e\",\"tableType\":\"REALTIME\",\"ingestionConfig\":"
                 "{\"streamIngestionConfig\":{\"streamConfigMaps\":[{},{}]}}}",
                 "streamConfigMaps: expected an array of exactly one stream config map");
    expect_error("{\"tableName\":\"e\",\"tableType\":\"REALTIME\",\"ingestionConfig\":"
                 "{\"streamIngestionConfig\":{\"streamConfigMaps\":[]}}}",
                 "streamConfigMaps: expected an array of exactly one");
    expect_error("{\"tableName\":\"e\",\"tableType\":\"REALTIME\",\"ingestionConfig\":"
                 "{\"streamIngestionConfig\":{\"streamConfigMaps\":[5]}}}",
                 "streamConfigMaps[0]: expected an object");
    expect_error("{\"tableName\":\"e\",\"tableType\":\"REALTIME\",\"ingestionConfig\":"
                 "{\"transformConfigs\":[{\"columnName\":\"a\"}]}}",
                 "ingestionConfig.transformConfigs[0]: columnName: a is not a column");
    expect_error("{\"tableName\":\"e\",\"tableType\":\"REALTIME\",\"ingestionConfig\":"
                 "{\"aggregationConfigs\":[{\"columnName\":\"x\"}]}}",
                 "ingestionConfig.aggregationConfigs[0]: columnName: x is not a column");
    expect_error("{\"tableName\":\"e\",\"tableType\":\"REALTIME\",\"ingestionConfig\":"
                 "{\"streamIngestionConfig\":{\"columnMajorSegmentBuilderEnabled\":true}}}",
                 "ingestionConfig.streamIngestionConfig.columnMajorSegmentBuilderEnabled: "
                 "unsupported key");
    /* stream map keys */
    expect_error("{\"tableName\":\"e\",\"tableType\":\"REALTIME\",\"tableIndexConfig\":"
                 "{\"streamConfigs\":{\"stream.kafka.broker.list\":\"h:1\"}}}",
                 "tableIndexConfig.streamConfigs: missing required key stream.kafka.topic.name");
    expect_error("{\"tableName\":\"e\",\"tableType\":\"REALTIME\",\"tableIndexConfig\":"
                 "{\"streamConfigs\":{\"stream.kafka.topic.name\":\"t\"}}}",
                 "missing required key stream.kafka.broker.list");
    expect_error(NEWMAP(",\"streamType\":\"kinesis\""),
                 "streamConfigMaps[0].streamType: unsupported stream type \"kinesis\"");
    expect_error(NEWMAP(",\"stream.kafka.consumer.type\":\"fancy\""),
                 "stream.kafka.consumer.type: \"fancy\": expected lowlevel or highlevel");
    expect_error(NEWMAP(",\"stream.kafka.consumer.factory.class.name\":\"com.x.Factory\""),
                 "stream.kafka.consumer.factory.class.name: unsupported consumer factory");
    expect_error(NEWMAP(",\"stream.kafka.decoder.class.name\":"
                        "\"org.apache.pinot.plugin.inputformat.avro.KafkaAvroMessageDecoder\""),
                 "stream.kafka.decoder.class.name: \"org.apache.pinot.plugin.inputformat.avro."
                 "KafkaAvroMessageDecoder\": not a supported decoder");
    expect_error(NEWMAP(",\"stream.kafka.consumer.prop.auto.offset.reset\":\"3d\""),
                 "auto.offset.reset: \"3d\": expected smallest or largest");
    expect_error(NEWMAP(",\"stream.kafka.consumer.prop.\":\"x\""), "empty property name");
    expect_error(NEWMAP(",\"stream.kafka.decoder.prop.x\":\"y\""),
                 "streamConfigMaps[0].stream.kafka.decoder.prop.x: unsupported key");
    expect_error(NEWMAP(",\"realtime.segment.flush.desired.size\":\"1M\""),
                 "realtime.segment.flush.desired.size: unsupported key");
    expect_error(NEWMAP(",\"stream.kafka.topic.name2\":true"), "expected a string");
    expect_error(NEWMAP(",\"stream.kafka.consumer.prop.x\":{}"), "expected a string");
    expect_error(NEWMAP(",\"realtime.segment.flush.threshold.rows\":\"-1\""),
                 "flush.threshold.rows: \"-1\": expected a row count");
    expect_error(NEWMAP(",\"realtime.segment.flush.threshold.rows\":\"2147483648\""),
                 "expected a row count in [0, 2147483647]");
    expect_error(NEWMAP(",\"realtime.segment.flush.threshold.size\":\"200M\""),
                 "(for bytes use realtime.segment.flush.threshold.segment.size)");
    expect_error(NEWMAP(",\"realtime.segment.flush.threshold.rows\":\"5\","
                        "\"realtime.segment.flush.threshold.size\":\"5\""),
                 "threshold.size: conflicts with realtime.segment.flush.threshold.rows");
    expect_error(NEWMAP(",\"realtime.segment.flush.threshold.rows\":\"1000\","
                        "\"realtime.segment.flush.threshold.segment.size\":\"100M\""),
                 "segment.size: conflicts with a non-zero realtime.segment.flush.threshold.rows");
    expect_error(NEWMAP(",\"realtime.segment.flush.threshold.time\":\"6 hours\""),
                 "threshold.time: \"6 hours\": expected a positive duration");
    expect_error(NEWMAP(",\"realtime.segment.flush.threshold.time\":\"0\""),
                 "expected a positive duration");
    expect_error(NEWMAP(",\"realtime.segment.flush.threshold.segment.size\":\"0\""),
                 "segment.size: \"0\": expected a positive size");
    expect_error(NEWMAP(",\"realtime.segment.flush.threshold.segment.size\":\"1.5G\""),
                 "expected a positive size");
    expect_error(NEWMAP(",\"stream.kafka.topic.name\":\"\""), "invalid JSON"); /* duplicate key */
}

static void test_no_schema_and_load(void **state)
{
    (void)state;
    char err[256];
    const char *j = NEWMAP("");
    assert_null(tcfg_parse(j, strlen(j), "t.json", NULL, err, sizeof err));
    assert_non_null(strstr(err, "no schema"));
    assert_null(tcfg_load("/nonexistent/t.json", S, err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/t.json: No such file"));
    char path[] = "/tmp/test_tcfg_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_null(tcfg_load(path, S, err, sizeof err));
    assert_non_null(strstr(err, "empty file"));
    assert_int_equal(write(fd, j, strlen(j)), (ssize_t)strlen(j));
    close(fd);
    tcfg *t = tcfg_load(path, S, err, sizeof err);
    assert_non_null(t);
    assert_string_equal(t->topic, "ev");
    tcfg_free(t);
    tcfg_free(NULL);
    unlink(path);
}

/* The replication limit (SL_MAX_REPLICATION, common/limits.h) is what the assignment and the
 * completion state machine hold: SL_MAX_REPLICATION loads, one more is refused at load with
 * the key, the value and the limit named. */
static void test_replication_limit(void **state)
{
    (void)state;
    char js[1024], err[256], want[160];
    snprintf(js, sizeof js, OLDMAP(",\"segmentsConfig\":{\"replication\":\"%d\"}"),
             SL_MAX_REPLICATION);
    tcfg *t = parse_ok(js);
    assert_int_equal(t->replication, SL_MAX_REPLICATION);
    tcfg_free(t);
    snprintf(want, sizeof want,
             "segmentsConfig.replication: %d replicas per partition; Sluice supports at most %d",
             SL_MAX_REPLICATION + 1, SL_MAX_REPLICATION);
    snprintf(js, sizeof js, OLDMAP(",\"segmentsConfig\":{\"replication\":%d}"),
             SL_MAX_REPLICATION + 1);
    expect_error(js, want);
    expect_error(OLDMAP(",\"segmentsConfig\":{\"replicasPerPartition\":\"64\"}"),
                 "segmentsConfig.replicasPerPartition: 64 replicas per partition; Sluice "
                 "supports at most 16");
    expect_error(OLDMAP(",\"segmentsConfig\":{\"replication\":\"99999999999999999999\"}"),
                 "segmentsConfig.replication: expected an integer in [1, 16]");
    /* from a file, as `sluice table add`, the controller and the sidecar load it */
    char path[] = "/tmp/test_tcfg_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    snprintf(js, sizeof js, OLDMAP(",\"segmentsConfig\":{\"replication\":\"%d\"}"),
             SL_MAX_REPLICATION + 1);
    assert_int_equal(write(fd, js, strlen(js)), (ssize_t)strlen(js));
    close(fd);
    assert_null(tcfg_load(path, S, err, sizeof err));
    snprintf(want, sizeof want, "%s: segmentsConfig.replication: %d replicas per partition", path,
             SL_MAX_REPLICATION + 1);
    assert_non_null(strstr(err, want));
    unlink(path);
}

static void test_durations(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        uint64_t ms;
    } ok[] = {{"0", 0},           {"500", 500},
              {"500ms", 500},     {"90s", 90000},
              {"15m", 900000},    {"6h", 21600000},
              {"2d", 172800000},  {"6H", 21600000},
              {"1h30m", 5400000}, {"1d2h3m4s5ms", 93784005},
              {"10MS", 10},       {"18446744073709551615", UINT64_MAX}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        uint64_t ms = 12345;
        if (tcfg_parse_duration(ok[i].in, &ms) != 0) fail_msg("rejected %s", ok[i].in);
        if (ms != ok[i].ms) fail_msg("%s -> %llu", ok[i].in, (unsigned long long)ms);
    }
    static const char *const bad[] = {"",
                                      "-1s",
                                      "h",
                                      "6 h",
                                      " 6h",
                                      "6h ",
                                      "6x",
                                      "6hh",
                                      "1.5h",
                                      "30m1h",
                                      "1h1h",
                                      "6hours",
                                      "6min",
                                      "+5s",
                                      "18446744073709551616",
                                      "213503982334602d",
                                      "5s5",
                                      "ms"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t ms = 777;
        if (tcfg_parse_duration(bad[i], &ms) != SL_EINVAL) fail_msg("accepted \"%s\"", bad[i]);
        assert_true(ms == 777);
    }
    assert_int_equal(tcfg_parse_duration(NULL, &(uint64_t){0}), SL_EINVAL);
}

static void test_sizes(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        uint64_t b;
    } ok[] = {{"0", 0},
              {"1000", 1000},
              {"512K", 512 << 10},
              {"200M", 200ull << 20},
              {"1G", 1ull << 30},
              {"2T", 2ull << 40},
              {"200MB", 200ull << 20},
              {"64k", 64 << 10},
              {"7b", 7},
              {"16777215T", 16777215ull << 40}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        uint64_t b = 1;
        if (tcfg_parse_size(ok[i].in, &b) != 0) fail_msg("rejected %s", ok[i].in);
        if (b != ok[i].b) fail_msg("%s -> %llu", ok[i].in, (unsigned long long)b);
    }
    static const char *const bad[] = {"",       "-1", "M",     "1.5G",      "200 M",
                                      "200MiB", "1X", "10MBB", "16777216T", "18446744073709551616",
                                      " 1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t b = 9;
        if (tcfg_parse_size(bad[i], &b) != SL_EINVAL) fail_msg("accepted \"%s\"", bad[i]);
        assert_true(b == 9);
    }
    assert_int_equal(tcfg_parse_size(NULL, &(uint64_t){0}), SL_EINVAL);
}

/* Every refused key and value of a config is reported in one run, a line each, whichever
 * section it is in; a config with one mistake still gets exactly one line. */
static void test_every_error_in_one_run(void **state)
{
    (void)state;
    const char *json =
        "{\"tableName\":\"events\",\"tableType\":\"REALTIME\",\"routingz\":{\"x\":1},"
        "\"upsertConfig\":{\"mode\":\"PARTIAL\"},"
        "\"segmentsConfig\":{\"retentionTimeUnitz\":\"DAYS\",\"replication\":\"0\","
        "\"schemaName\":\"other\",\"segmentPushTypo\":\"APPEND\"},"
        "\"tableIndexConfig\":{\"loadMod\":\"MMAP\",\"noDictionaryColumns\":[\"nope\"]},"
        "\"ingestionConfig\":{\"streamIngestionConfig\":{\"streamConfigMaps\":[{"
        "\"streamType\":\"kinesis\",\"stream.kafka.topic.name\":\"ev\","
        "\"stream.kafka.broker.list\":\"h:9092\",\"stream.kafka.consumer.type\":\"odd\","
        "\"stream.kafka.hlc.zk.connect.string\":\"z\"}]}}}";
    char err[4096] = "";
    tcfg *t = tcfg_parse(json, strlen(json), "table.json", S, err, sizeof err);
    assert_null(t);
    static const char *const want[] = {
        "table.json: routingz: unsupported key",
        "table.json: upsertConfig: accepted only with",
        "table.json: segmentsConfig.retentionTimeUnitz: unsupported key",
        "table.json: segmentsConfig.segmentPushTypo: unsupported key",
        "table.json: segmentsConfig.replication:",
        "table.json: segmentsConfig.schemaName: \"other\" does not match",
        "table.json: tableIndexConfig.loadMod: unsupported key",
        "table.json: tableIndexConfig.noDictionaryColumns[0]: \"nope\" is not a column",
        "streamConfigMaps[0].streamType: unsupported stream type \"kinesis\"",
        "streamConfigMaps[0].stream.kafka.consumer.type: \"odd\": expected lowlevel",
        "streamConfigMaps[0].stream.kafka.hlc.zk.connect.string: unsupported key",
    };
    int lines = 1;
    for (const char *p = err; *p; p++)
        lines += *p == '\n';
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(err, want[i])) fail_msg("missing \"%s\" in:\n%s", want[i], err);
    if (lines != (int)(sizeof want / sizeof want[0])) fail_msg("%d lines:\n%s", lines, err);

    char one[512] = "";
    const char *single = NEWMAP(",\"stream.kafka.typo\":\"1\"");
    assert_null(tcfg_parse(single, strlen(single), "table.json", S, one, sizeof one));
    assert_null(strchr(one, '\n'));
    assert_non_null(strstr(one, "stream.kafka.typo: unsupported key"));
}

/* ingestionConfig.aggregationConfigs: Pinot's rollup, on a schema without multi-value columns */
static void test_aggregation_configs(void **state)
{
    (void)state;
    static const char sj[] =
        "{\"schemaName\":\"sales\",\"dimensionFieldSpecs\":[{\"name\":\"product\",\"dataType\":"
        "\"STRING\"}],\"metricFieldSpecs\":[{\"name\":\"n\",\"dataType\":\"LONG\"},{\"name\":"
        "\"total\",\"dataType\":\"DOUBLE\"},{\"name\":\"lo\",\"dataType\":\"INT\"}],"
        "\"dateTimeFieldSpecs\":[{\"name\":\"day\",\"dataType\":\"LONG\",\"format\":"
        "\"1:DAYS:EPOCH\",\"granularity\":\"1:DAYS\"}]}";
    char err[1024] = "";
    schema *s = schema_parse(sj, strlen(sj), "s.json", err, sizeof err);
    assert_non_null(s);
#define AGG(raw, aggs)                                                                             \
    "{\"tableName\":\"sales\",\"tableType\":\"REALTIME\",\"tableIndexConfig\":{"                   \
    "\"noDictionaryColumns\":[" raw "]},\"ingestionConfig\":{\"aggregationConfigs\":[" aggs "],"   \
    "\"streamIngestionConfig\":{\"streamConfigMaps\":[{\"stream.kafka.topic.name\":\"ev\","        \
    "\"stream.kafka.broker.list\":\"h:9092\"}]}}}"
#define ALLRAW "\"n\",\"total\",\"lo\""
#define GOOD                                                                                       \
    "{\"columnName\":\"n\",\"aggregationFunction\":\"COUNT(*)\"},{\"columnName\":\"total\","       \
    "\"aggregationFunction\":\"sum( price )\"},{\"columnName\":\"lo\",\"aggregationFunction\":"    \
    "\"MIN(low)\"}"
    const char *ok = AGG(ALLRAW, GOOD);
    tcfg *t = tcfg_parse(ok, strlen(ok), "t.json", s, err, sizeof err);
    if (!t) fail_msg("%s", err);
    assert_non_null(t->agg);
    assert_int_equal(t->agg[0], 0);                            /* product: the key */
    assert_int_equal(t->agg[1], 1);                            /* n: COUNT = SUM of 1s */
    assert_int_equal(t->agg[2], 1);                            /* total: SUM */
    assert_int_equal(t->agg[3], 2);                            /* lo: MIN */
    assert_int_equal(t->agg[4], 0);                            /* day: the key */
    assert_int_equal(t->ntransforms, 3);                       /* each metric gets its source */
    assert_int_equal(xform_ninputs(t->transforms[0].expr), 0); /* COUNT: the constant 1 */
    assert_string_equal(xform_input(t->transforms[1].expr, 0), "price");
    assert_string_equal(xform_input(t->transforms[2].expr, 0), "low");
    tcfg_free(t);
    static const char *const bad[][2] = {
        {AGG(ALLRAW, "{\"columnName\":\"n\",\"aggregationFunction\":\"COUNT(*)\"}"),
         "metric total has no aggregation"},
        {AGG("\"n\",\"lo\"", GOOD), "total must be in tableIndexConfig.noDictionaryColumns"},
        {AGG(ALLRAW, GOOD ",{\"columnName\":\"product\",\"aggregationFunction\":\"MAX(x)\"}"),
         "product must be a single-value INT, LONG, FLOAT or DOUBLE metric"},
        {AGG(ALLRAW, GOOD ",{\"columnName\":\"n\",\"aggregationFunction\":\"SUM(x)\"}"),
         "n is aggregated twice"},
        {AGG(ALLRAW, "{\"columnName\":\"n\",\"aggregationFunction\":\"DISTINCTCOUNTHLL(u)\"}"),
         "DISTINCTCOUNTHLL is not supported (SUM, MIN, MAX, COUNT)"},
        {AGG(ALLRAW, "{\"columnName\":\"n\",\"aggregationFunction\":\"COUNT(x)\"}"),
         "COUNT takes * (COUNT(*))"},
        {AGG(ALLRAW, "{\"columnName\":\"n\",\"aggregationFunction\":\"SUM(*)\"}"),
         "SUM takes one field name"},
        {AGG(ALLRAW, "{\"columnName\":\"n\",\"aggregationFunction\":\"SUM(a+b)\"}"),
         "SUM takes one field name"},
        {AGG(ALLRAW, "{\"columnName\":\"n\",\"aggregationFunction\":\"SUM\"}"),
         "expected FUNCTION(field)"},
        {AGG(ALLRAW, "{\"columnName\":\"n\",\"aggregationFunction\":\"SUM(x) y\"}"),
         "expected FUNCTION(field)"},
        {AGG(ALLRAW, "{\"columnName\":\"nope\",\"aggregationFunction\":\"SUM(x)\"}"),
         "columnName: nope is not a column"},
        {AGG(ALLRAW, "{\"columnName\":\"n\",\"aggregationFunction\":\"SUM(x)\",\"x\":1}"),
         "aggregationConfigs[0].x: unsupported key"},
        {AGG(ALLRAW, "5"), "aggregationConfigs[0]: expected an object"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        t = tcfg_parse(bad[i][0], strlen(bad[i][0]), "t.json", s, err, sizeof err);
        if (t) fail_msg("accepted case %zu", i);
        if (!strstr(err, bad[i][1])) fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err, bad[i][1]);
    }
    /* an OFFLINE table: Pinot rolls those up with a task, not at ingestion */
    static const char off[] =
        "{\"tableName\":\"sales\",\"tableType\":\"OFFLINE\",\"tableIndexConfig\":{"
        "\"noDictionaryColumns\":[" ALLRAW "]},\"ingestionConfig\":{\"aggregationConfigs\":[" GOOD
        "]}}";
    t = tcfg_parse(off, strlen(off), "t.json", s, err, sizeof err);
    assert_null(t);
    assert_non_null(strstr(err, "ingestion aggregation applies to REALTIME tables"));
    /* and the events schema of the other tests has a multi-value column */
    static const char mv[] =
        "{\"tableName\":\"events\",\"tableType\":\"REALTIME\",\"tableIndexConfig\":{"
        "\"noDictionaryColumns\":[\"price\"]},\"ingestionConfig\":{\"aggregationConfigs\":["
        "{\"columnName\":\"price\",\"aggregationFunction\":\"SUM(p)\"}],"
        "\"streamIngestionConfig\":{\"streamConfigMaps\":[{\"stream.kafka.topic.name\":\"ev\","
        "\"stream.kafka.broker.list\":\"h:9092\"}]}}}";
    expect_error(mv,
                 "column tags is multi-value: rows with multi-value columns are not aggregated");
    schema_free(s);
#undef AGG
#undef ALLRAW
#undef GOOD
}

/* Pinot's query-side and operations keys are accepted, listed as carried in the order met,
 * and change nothing that is parsed; fieldConfigList RAW makes a no-dictionary column. */
/* Transform of ingestionConfig.transformConfigs */
#define XF(list)                                                                                   \
    "{\"tableName\":\"events\",\"tableType\":\"REALTIME\",\"ingestionConfig\":{" list              \
    "\"streamIngestionConfig\":{\"streamConfigMaps\":[{\"stream.kafka.topic.name\":\"ev\","        \
    "\"stream.kafka.broker.list\":\"h:9092\"}]}}}"

static void test_transform_configs(void **state)
{
    (void)state;
    tcfg *t = parse_ok(XF("\"transformConfigs\":[{\"columnName\":\"ts\",\"transformFunction\":"
                          "\"fromEpochDays(days)\"},{\"columnName\":\"user\","
                          "\"transformFunction\":\"lower(\\\"User Name\\\")\"}],"
                          "\"continueOnError\":true,"));
    assert_int_equal(t->ntransforms, 2);
    assert_int_equal(t->transforms[0].field, 4); /* ts */
    assert_string_equal(xform_input(t->transforms[0].expr, 0), "days");
    assert_string_equal(xform_input(t->transforms[1].expr, 0), "User Name");
    assert_true(t->continue_on_error);
    tcfg_free(t);
    static const char *const bad[][2] = {
        {"\"transformConfigs\":{},", "transformConfigs: expected an array"},
        {"\"transformConfigs\":[{\"columnName\":\"ts\"}],", "transformFunction: expected a string"},
        {"\"transformConfigs\":[{\"columnName\":\"ts\",\"transformFunction\":\"now()\"}],",
         "reads the clock"},
        {"\"transformConfigs\":[{\"columnName\":\"ts\",\"transformFunction\":"
         "\"Groovy({days * 86400000}, days)\"}],",
         "Groovy functions are not supported"},
        {"\"transformConfigs\":[{\"columnName\":\"ts\",\"transformFunction\":\"nosuch(x)\"}],",
         "function nosuch is not supported"},
        {"\"transformConfigs\":[{\"columnName\":\"user\",\"transformFunction\":\"lower(tags)\"}],",
         "reads the multi-value column tags"},
        {"\"transformConfigs\":[{\"columnName\":\"ts\",\"transformFunction\":\"x\"},"
         "{\"columnName\":\"ts\",\"transformFunction\":\"y\"}],",
         "ts is transformed twice"},
        {"\"transformConfigs\":[{\"columnName\":\"ts\",\"transformFunction\":\"session\"},"
         "{\"columnName\":\"session\",\"transformFunction\":\"y\"}],",
         "chained transforms are not supported"},
        {"\"transformConfigs\":[{\"columnName\":\"user\",\"transformFunction\":\"upper(tags)\"}],",
         "reads the multi-value column tags"},
        {"\"transformConfigs\":[{\"columnName\":\"ts\",\"transformFunction\":"
         "\"fromDateTime(d, 'yyyy-QQ')\"}],",
         "the letter 'Q' is not supported"},
        {"\"transformConfigs\":[{\"columnName\":\"ts\",\"transformFunction\":\"plus(1)\"}],",
         "takes 2 to 2 arguments, not 1"},
        {"\"transformConfigs\":[{\"columnName\":\"ts\",\"transformFunction\":\"lower(a\"}],",
         "expected ',' or ')'"},
        {"\"continueOnError\":1,", "continueOnError: expected true or false"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char json[2048];
        snprintf(json, sizeof json,
                 "{\"tableName\":\"events\",\"tableType\":\"REALTIME\",\"ingestionConfig\":{%s"
                 "\"streamIngestionConfig\":{\"streamConfigMaps\":[{\"stream.kafka.topic.name\":"
                 "\"ev\",\"stream.kafka.broker.list\":\"h:9092\"}]}}}",
                 bad[i][0]);
        expect_error(json, bad[i][1]);
    }
}

static void test_carried_keys(void **state)
{
    (void)state;
    tcfg *t = parse_ok(
        OLDMAP(",\"tenants\":{\"broker\":\"DefaultTenant\",\"server\":\"DefaultTenant\"},"
               "\"routing\":{\"instanceSelectorType\":\"strictReplicaGroup\"},"
               "\"metadata\":{\"customConfigs\":{\"a\":\"b\"}},\"quota\":{\"storage\":\"1G\"},"
               "\"upsertConfig\":{\"mode\":\"FULL\"},\"dedupConfig\":{\"dedupEnabled\":false},"
               "\"isDimTable\":false,\"ingestionConfig\":{\"segmentTimeValueCheck\":true},"
               "\"segmentsConfig\":{\"retentionTimeUnit\":\"DAYS\",\"retentionTimeValue\":\"5\","
               "\"segmentPushType\":\"APPEND\",\"replication\":\"2\"},"
               "\"fieldConfigList\":[{\"name\":\"user\",\"encodingType\":\"RAW\","
               "\"indexTypes\":[\"TEXT\"]},{\"name\":\"session\",\"encodingType\":\"DICTIONARY\","
               "\"indexes\":{\"inverted\":{}}}]"));
    char text[1024];
    tcfg_carried_text(t, text, sizeof text);
    static const char *const want[] = {"tenants",
                                       "routing",
                                       "metadata",
                                       "quota",
                                       "upsertConfig",
                                       "dedupConfig",
                                       "isDimTable",
                                       "ingestionConfig.segmentTimeValueCheck",
                                       "segmentsConfig.retentionTimeUnit",
                                       "segmentsConfig.retentionTimeValue",
                                       "segmentsConfig.segmentPushType",
                                       "fieldConfigList"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(text, want[i])) fail_msg("\"%s\" not carried: %s", want[i], text);
    assert_int_equal(t->ncarried, sizeof want / sizeof want[0]);
    assert_int_equal(t->replication, 2);
    assert_true(t->no_dictionary[schema_find(S, "user")]);
    assert_false(t->no_dictionary[schema_find(S, "session")]);
    tcfg_free(t);
    /* every segment records its nulls: Pinot's switch for them changes nothing here */
    t = parse_ok("{\"tableName\":\"e\",\"tableType\":\"OFFLINE\",\"isDimTable\":true,"
                 "\"tableIndexConfig\":{\"nullHandlingEnabled\":true,"
                 "\"columnPartitionMap\":{\"user\":{\"numPartitions\":2}}}}");
    tcfg_carried_text(t, text, sizeof text);
    assert_string_equal(text, "isDimTable, tableIndexConfig.nullHandlingEnabled, "
                              "tableIndexConfig.columnPartitionMap");
    tcfg_free(t);
    t = parse_ok(NEWMAP(""));
    tcfg_carried_text(t, text, sizeof text);
    assert_string_equal(text, "");
    tcfg_free(t);
    expect_error(OLDMAP(",\"fieldConfigList\":[{\"name\":\"nope\"}]"),
                 "fieldConfigList[0]: name: nope is not a column");
    expect_error(OLDMAP(",\"fieldConfigList\":[{\"name\":\"user\",\"encodingType\":\"LZ4\"}]"),
                 "encodingType: expected RAW or DICTIONARY");
    expect_error(OLDMAP(",\"fieldConfigList\":[{\"name\":\"user\",\"transform\":\"x\"}]"),
                 "fieldConfigList[0].transform: unsupported key");
    expect_error(
        "{\"tableName\":\"e\",\"tableType\":\"OFFLINE\",\"tableIndexConfig\":"
        "{\"noDictionaryColumns\":[\"user\"]},\"fieldConfigList\":[{\"name\":\"user\","
        "\"encodingType\":\"DICTIONARY\"}]}",
        "encodingType DICTIONARY for \"user\", which tableIndexConfig.noDictionaryColumns");
}

/* A schema that fails does not hide the table config's errors: both are reported in one run,
 * the config checked for all that needs no schema (its column names are not judged against a
 * schema that failed), from texts and from files. */
static void test_schema_and_table_errors_in_one_run(void **state)
{
    (void)state;
    const char *bad_schema = "{\"schemaName\":\"events\",\"dimensionFieldSpecs\":["
                             "{\"name\":\"user\",\"dataType\":\"STRNG\"},"
                             "{\"name\":\"n\",\"dataType\":\"INT\",\"bogus\":1}]}";
    const char *bad_table =
        "{\"tableName\":\"events\",\"tableType\":\"REALTIME\",\"typo\":1,"
        "\"segmentsConfig\":{\"timeColumnName\":\"ts\",\"schemaName\":\"whatever\"},"
        "\"tableIndexConfig\":{\"noDictionaryColumns\":[\"user\"]},"
        "\"fieldConfigList\":[{\"name\":\"n\",\"encodingType\":\"ZIP\"},{\"name\":\"user\"}],"
        "\"ingestionConfig\":{\"transformConfigs\":[{\"columnName\":\"n\","
        "\"transformFunction\":\"nosuch(user)\"},{\"columnName\":\"user\","
        "\"transformFunction\":\"lower(user)\"}],"
        "\"streamIngestionConfig\":{\"streamConfigMaps\":[{\"stream.kafka.topic.name\":\"ev\","
        "\"stream.kafka.broker.list\":\"h:9092\",\"stream.kafka.typo\":\"1\"}]}}}";
    static const char *const want[] = {
        "s.json: dimensionFieldSpecs[0].dataType: unsupported type \"STRNG\"",
        "s.json: dimensionFieldSpecs[1].bogus: unsupported key",
        "t.json: typo: unsupported key",
        "t.json: fieldConfigList[0]: encodingType: expected RAW or DICTIONARY",
        "t.json: ingestionConfig.transformConfigs[0]: transformFunction:",
        "stream.kafka.typo: unsupported key",
    };
    const size_t nwant = sizeof want / sizeof want[0];
    char err[4096];
    schema *s = (schema *)1;
    tcfg *t = (tcfg *)1;
    assert_int_equal(tcfg_parse_pair(bad_schema, strlen(bad_schema), "s.json", bad_table,
                                     strlen(bad_table), "t.json", &s, &t, err, sizeof err),
                     SL_EINVAL);
    assert_null(s);
    assert_null(t);
    int lines = 1;
    for (const char *p = err; *p; p++)
        lines += *p == '\n';
    for (size_t i = 0; i < nwant; i++)
        if (!strstr(err, want[i])) fail_msg("missing \"%s\" in:\n%s", want[i], err);
    if (lines != (int)nwant) fail_msg("%d lines:\n%s", lines, err);

    /* a good schema: the pair loads, and the table's column names are judged again */
    assert_int_equal(tcfg_parse_pair(schema_json, strlen(schema_json), "s.json", NEWMAP(""),
                                     strlen(NEWMAP("")), "t.json", &s, &t, err, sizeof err),
                     0);
    assert_string_equal(s->name, "events");
    assert_string_equal(t->topic, "ev");
    tcfg_free(t);
    schema_free(s);
    const char *unknown_col = XF("\"transformConfigs\":[{\"columnName\":\"nope\","
                                 "\"transformFunction\":\"lower(user)\"}],");
    assert_int_equal(tcfg_parse_pair(schema_json, strlen(schema_json), "s.json", unknown_col,
                                     strlen(unknown_col), "t.json", &s, &t, err, sizeof err),
                     SL_EINVAL);
    assert_non_null(strstr(err, "t.json: ingestionConfig.transformConfigs[0]: columnName: nope is "
                                "not a column"));
    assert_null(strchr(err, '\n'));

    /* from files: an unreadable schema and a bad table config, both named */
    char tpath[] = "/tmp/test_tcfg_pair_XXXXXX";
    int fd = mkstemp(tpath);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, bad_table, strlen(bad_table)), (ssize_t)strlen(bad_table));
    close(fd);
    assert_int_equal(tcfg_load_pair("/nonexistent/s.json", tpath, &s, &t, err, sizeof err),
                     SL_EINVAL);
    assert_null(s);
    assert_null(t);
    assert_non_null(strstr(err, "/nonexistent/s.json"));
    assert_non_null(strstr(err, ": typo: unsupported key"));
    assert_non_null(strstr(err, "stream.kafka.typo: unsupported key"));
    assert_int_equal(
        tcfg_load_pair("/nonexistent/s.json", "/nonexistent/t.json", &s, &t, err, sizeof err),
        SL_EINVAL);
    assert_non_null(strstr(err, "/nonexistent/t.json"));
    unlink(tpath);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_location_and_defaults),
        cmocka_unit_test(test_old_location_full),
        cmocka_unit_test(test_flush_thresholds),
        cmocka_unit_test(test_partition_ids),
        cmocka_unit_test(test_offline),
        cmocka_unit_test(test_example_files),
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_no_schema_and_load),
        cmocka_unit_test(test_replication_limit),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_every_error_in_one_run),
        cmocka_unit_test(test_schema_and_table_errors_in_one_run),
        cmocka_unit_test(test_transform_configs),
        cmocka_unit_test(test_aggregation_configs),
        cmocka_unit_test(test_carried_keys),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
