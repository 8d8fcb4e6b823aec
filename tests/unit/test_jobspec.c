/* Pinot's job spec (common/jobspec, common/yamljson): YAML to keys, every bad key in one run,
 * Java's glob syntax for file patterns, and each segment name generator's names. */
#include "common/jobspec.h"
#include "common/yamljson.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define BASE                                                                                       \
    "jobType: SegmentCreation\n"                                                                   \
    "inputDirURI: 'file:///data/in'\n"                                                             \
    "outputDirURI: out\n"                                                                          \
    "recordReaderSpec:\n"                                                                          \
    "  dataFormat: CSV\n"                                                                          \
    "tableSpec:\n"                                                                                 \
    "  tableName: t_OFFLINE\n"

static jobspec *parse(const char *y, char *err, size_t n)
{
    return jobspec_parse(y, strlen(y), "job.yaml", err, n);
}

static void test_yaml(void **state)
{
    (void)state;
    char err[512];
    const char y[] = "a: 'x'\nb:\n  - 1\n  - ~\nc:\nd: {e: \"f\"}\n";
    json_t *j = yamljson_parse(y, strlen(y), "y", err, sizeof err);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "a")), "x");
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "b"), 0)), "1");
    assert_true(json_is_null(json_array_get(json_object_get(j, "b"), 1)));
    assert_true(json_is_null(json_object_get(j, "c")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "d"), "e")), "f");
    json_decref(j);
    const char anchors[] = "a: &x 1\nb: *x\n", open_list[] = "a: [1\n";
    assert_null(yamljson_parse(anchors, strlen(anchors), "y", err, sizeof err));
    assert_non_null(strstr(err, "y:1: anchors"));
    assert_null(yamljson_parse(open_list, strlen(open_list), "y", err, sizeof err));
    assert_non_null(strstr(err, "y:"));
    j = yamljson_parse("", 0, "y", err, sizeof err);
    assert_true(json_is_object(j) && json_object_size(j) == 0);
    json_decref(j);
}

static void test_parse(void **state)
{
    (void)state;
    char err[4096];
    jobspec *j = parse(BASE "includeFileNamePattern: 'glob:**/*.{csv,tsv}'\n"
                            "excludeFileNamePattern: 'regex:.*/skip_[0-9]+\\.csv'\n"
                            "recordReaderSpec2: x\n",
                       err, sizeof err);
    assert_null(j); /* the typo */
    assert_non_null(strstr(err, "recordReaderSpec2: unknown key"));
    j = parse(BASE "includeFileNamePattern: 'glob:**/*.{csv,tsv}'\n"
                   "excludeFileNamePattern: 'regex:.*/skip_[0-9]+[.]csv'\n",
              err, sizeof err);
    if (!j) fail_msg("%s", err);
    assert_string_equal(j->input_dir, "/data/in");
    assert_string_equal(j->table_name, "t");
    assert_string_equal(j->data_format, "csv");
    assert_int_equal(j->csv.delimiter, ',');
    assert_int_equal(j->csv.mv_delimiter, ';');
    assert_int_equal(regexec(&j->include, "/a/b/x.csv", 0, NULL, 0), 0);
    assert_int_equal(regexec(&j->include, "/a/x.tsv", 0, NULL, 0), 0);
    assert_int_not_equal(regexec(&j->include, "/a/x.csv.bak", 0, NULL, 0), 0);
    assert_int_equal(regexec(&j->exclude, "/a/skip_12.csv", 0, NULL, 0), 0);
    assert_int_not_equal(regexec(&j->exclude, "/a/skip_x.csv", 0, NULL, 0), 0);
    jobspec_free(j);

    /* one-star globs do not cross directories (Java's PathMatcher on the absolute path) */
    j = parse(BASE "includeFileNamePattern: 'glob:/data/*.csv'\n", err, sizeof err);
    assert_int_equal(regexec(&j->include, "/data/a.csv", 0, NULL, 0), 0);
    assert_int_not_equal(regexec(&j->include, "/data/x/a.csv", 0, NULL, 0), 0);
    jobspec_free(j);

    /* every bad key and value in one run */
    assert_null(parse("jobType: Nope\ninputDirURI: hdfs://x/y\nsearchRecursively: maybe\n"
                      "includeFileNamePattern: '*.csv'\nrecordReaderSpec:\n  dataFormat: orc\n"
                      "tableSpec: {}\nsegmentNameGeneratorSpec:\n  type: uploadedRealtime\n"
                      "  configs:\n    append.uuid.to.segment.name: 'true'\n"
                      "pushJobSpec:\n  pushAttempts: '0'\n",
                      err, sizeof err));
    const char *want[] = {"jobType: \"Nope\"",
                          "inputDirURI: \"hdfs://x/y\": only local",
                          "outputDirURI: required",
                          "searchRecursively: \"maybe\"",
                          "includeFileNamePattern: \"*.csv\": expected glob:",
                          "recordReaderSpec.dataFormat: \"orc\"",
                          "tableSpec.tableName: required",
                          "append.uuid.to.segment.name",
                          "segment.partitionId: required",
                          "segment.name.prefix: required",
                          "pushJobSpec.pushAttempts"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(err, want[i])) fail_msg("missing \"%s\" in:\n%s", want[i], err);
    /* CSV reader configs go through the table config's CSV rules */
    assert_null(parse("jobType: SegmentCreation\ninputDirURI: in\noutputDirURI: out\n"
                      "recordReaderSpec:\n  dataFormat: csv\n  configs:\n    delimiter: '||'\n"
                      "tableSpec:\n  tableName: t\n",
                      err, sizeof err));
    assert_non_null(strstr(err, "recordReaderSpec.configs.delimiter"));
}

/* A push jobType needs the controller; its URI prefix and suffix are kept. */
static void test_push_types(void **state)
{
    (void)state;
    char err[1024];
    const char *nocluster =
        "jobType: SegmentCreationAndTarPush\ninputDirURI: in\noutputDirURI: out\n"
        "recordReaderSpec:\n  dataFormat: csv\ntableSpec:\n  tableName: t\n";
    assert_null(parse(nocluster, err, sizeof err));
    assert_non_null(strstr(err, "pinotClusterSpecs[0].controllerURI"));
    const char *meta =
        "jobType: SegmentCreationAndMetadataPush\ninputDirURI: in\noutputDirURI: out\n"
        "recordReaderSpec:\n  dataFormat: csv\ntableSpec:\n  tableName: t\n"
        "pinotClusterSpecs:\n  - controllerURI: 'http://127.0.0.1:9000'\n"
        "pushJobSpec:\n  pushAttempts: 4\n  pushRetryIntervalMillis: 250\n  pushParallelism: 3\n"
        "  segmentUriPrefix: 'file://'\n  segmentUriSuffix: ''\n";
    jobspec *j = parse(meta, err, sizeof err);
    if (!j) fail_msg("%s", err);
    assert_int_equal(j->type, JOBSPEC_CREATE_META_PUSH);
    assert_string_equal(j->controller_uri, "http://127.0.0.1:9000");
    assert_int_equal(j->push_attempts, 4);
    assert_int_equal(j->push_retry_ms, 250);
    assert_int_equal(j->push_parallel, 3);
    assert_string_equal(j->uri_prefix, "file://");
    assert_string_equal(j->uri_suffix, "");
    jobspec_free(j);
}

static void name_of(const char *extra, const jobspec_name_in *in, const char *want)
{
    char err[2048], y[2048], out[256];
    snprintf(y, sizeof y, "%s%s", BASE, extra);
    jobspec *j = parse(y, err, sizeof err);
    if (!j) fail_msg("%s", err);
    int rc = jobspec_segment_name(j, in, out, sizeof out, err, sizeof err);
    jobspec_free(j);
    if (!want) {
        assert_int_not_equal(rc, 0);
        return;
    }
    if (rc) fail_msg("%s", err);
    assert_string_equal(out, want);
}

static void test_names(void **state)
{
    (void)state;
    jobspec_name_in in = {.table_with_type = "t_OFFLINE",
                          .raw_table = "t",
                          .input = "/data/in/2024/05/t_2024-05-06.csv",
                          .seq = 3,
                          .min_text = "19849",
                          .max_text = "19850",
                          .min_ms = 19849LL * 86400000,
                          .max_ms = 19850LL * 86400000 + 3600000 * 5,
                          .have_ms = true,
                          .now_ms = 1700000000000LL};
    name_of("", &in, "t_OFFLINE_19849_19850_3");
    name_of(
        "segmentNameGeneratorSpec:\n  type: simple\n  configs:\n"
        "    segment.name.prefix: p\n    segment.name.postfix: x\n    exclude.sequence.id: true\n",
        &in, "p_19849_19850_x");
    name_of("segmentNameGeneratorSpec:\n  configs:\n    exclude.time.in.segment.name: 'true'\n",
            &in, "t_OFFLINE_3");
    name_of("segmentNameGeneratorSpec:\n  type: normalizedDate\n", &in,
            "t_OFFLINE_2024-05-06_2024-05-07_3");
    in.push_frequency = "HOURLY";
    name_of("segmentNameGeneratorSpec:\n  type: normalizedDate\n", &in,
            "t_OFFLINE_2024-05-06-00_2024-05-07-05_3");
    in.push_type = "REFRESH";
    name_of("segmentNameGeneratorSpec:\n  type: normalizedDate\n", &in, "t_OFFLINE_3");
    in.push_type = NULL;
    name_of("segmentNameGeneratorSpec:\n  type: fixed\n  configs:\n    segment.name: one\n", &in,
            "one");
    name_of("segmentNameGeneratorSpec:\n  type: inputFile\n  configs:\n"
            "    file.path.pattern: '.*/([0-9]+)/([0-9]+)/.*'\n"
            "    segment.name.template: 'm_${filePathPattern:\\2}_${filePathPattern:\\1}'\n",
            &in, "m_05_2024");
    name_of("segmentNameGeneratorSpec:\n  type: inputFile\n  configs:\n"
            "    file.path.pattern: 'nomatch'\n    segment.name.template: x\n",
            &in, "data_in_2024_05_t_2024-05-06_csv");
    name_of("segmentNameGeneratorSpec:\n  type: uploadedRealtime\n  configs:\n"
            "    segment.name.prefix: up\n    segment.partitionId: '2'\n",
            &in, "up__t__2__20231114T2213Z__3");
    /* a time value with characters no name may hold */
    in.min_text = "2024-05-06 00:00";
    name_of("", &in, NULL);
    /* normalizedDate of an APPEND table needs the time in ms */
    in.have_ms = false;
    name_of("segmentNameGeneratorSpec:\n  type: normalizedDate\n", &in, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yaml),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_push_types),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
