/* Unit tests for common/config.c with a test table covering every type, bounds, enums with
 * roles, required keys, hidden knobs and prefix pass-through. */
#include "common/config.h"
#include "common/sl_err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct tconf {
    char *cluster;
    char *zk;
    int64_t port;
    bool verbose;
    uint64_t timeout_ms;
    uint64_t buf_bytes;
    int mode;
    char *table_config;
    int64_t knob;
    config_kvs kafka;
    char *note;
    int64_t retries;
} tconf;

static const config_enum_value modes[] = {
    {"cluster", CONFIG_ROLE_CLUSTERED}, {"standalone", CONFIG_ROLE_STANDALONE}, {NULL, 0}};

#define OFF(m) offsetof(tconf, m)
static const config_def defs[] = {
    {"cluster.name", CONFIG_STRING, OFF(cluster), 0, 0, NULL, "Cluster name",
     CONFIG_REQUIRED_SIDECAR | CONFIG_REQUIRED_CONTROLLER, NULL},
    {"zk.connect", CONFIG_STRING, OFF(zk), 0, 0, NULL, "ZooKeeper host:port list",
     CONFIG_REQUIRED_CONTROLLER | CONFIG_REQUIRED_CLUSTERED, NULL},
    {"http.port", CONFIG_INT64, OFF(port), 1, 65535, "8080", "HTTP port", 0, NULL},
    {"verbose", CONFIG_BOOL, OFF(verbose), 0, 0, "false", "Log more", 0, NULL},
    {"commit.timeout", CONFIG_DURATION_MS, OFF(timeout_ms), 1000, 3600000, "2m", "Commit budget", 0,
     NULL},
    {"buffer.size", CONFIG_SIZE_BYTES, OFF(buf_bytes), 4096, 1 << 30, "64M", "Buffer | bytes", 0,
     NULL},
    {"mode", CONFIG_ENUM, OFF(mode), 0, 0, "cluster", "Run mode", 0, modes},
    {"table.config", CONFIG_STRING, OFF(table_config), 0, 0, NULL, "Table config path",
     CONFIG_REQUIRED_STANDALONE, NULL},
    {"test.fail.nth.upload", CONFIG_INT64, OFF(knob), 0, INT64_MAX, "0", "Fail the Nth upload",
     CONFIG_HIDDEN, NULL},
    {"kafka.", CONFIG_STRING, OFF(kafka), 0, 0, NULL, "librdkafka property", CONFIG_PREFIX, NULL},
    {"note", CONFIG_STRING, OFF(note), 0, 0, "hello", "Free text", 0, NULL},
    {"retries", CONFIG_INT64, OFF(retries), -1, INT64_MAX, "3", "Retries (-1 = forever)", 0, NULL},
};
#define NDEFS (sizeof defs / sizeof defs[0])

static char tmp_path[64];

static const char *write_file(const char *text)
{
    strcpy(tmp_path, "/tmp/test_config_XXXXXX");
    int fd = mkstemp(tmp_path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return tmp_path;
}

/* Loads text (NULL = no file) and the sets; returns the rc, err in err. */
static int load(tconf *t, unsigned roles, const char *text, char *const *sets, size_t nsets,
                char *err, size_t errlen)
{
    memset(t, 0xa5, sizeof *t); /* config_load must not read the target */
    const char *path = text ? write_file(text) : NULL;
    int rc = config_load(defs, NDEFS, t, roles, path, sets, nsets, err, errlen);
    if (path) unlink(path);
    if (rc) { /* nothing left allocated */
        assert_null(t->cluster);
        assert_null(t->zk);
        assert_null(t->note);
        assert_null(t->kafka.items);
    }
    return rc;
}

static void expect_fail(unsigned roles, const char *text, char *const *sets, size_t nsets,
                        const char *want)
{
    tconf t;
    char err[512] = "";
    int rc = load(&t, roles, text, sets, nsets, err, sizeof err);
    if (rc == 0) {
        config_free(defs, NDEFS, &t);
        fail_msg("accepted: %s", text ? text : "(sets)");
    }
    if (!strstr(err, want)) fail_msg("error \"%s\" lacks \"%s\"", err, want);
}

static void test_defs_valid(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(config_check_defs(defs, NDEFS, err, sizeof err), 0);
    static const config_def dup[] = {{"a", CONFIG_INT64, 0, 0, 0, "1", "x", 0, NULL},
                                     {"a", CONFIG_INT64, 0, 0, 0, "1", "x", 0, NULL}};
    assert_int_equal(config_check_defs(dup, 2, err, sizeof err), SL_EINVAL);
    assert_non_null(strstr(err, "a: defined twice"));
    static const config_def req_def[] = {
        {"a", CONFIG_STRING, 0, 0, 0, "x", "x", CONFIG_REQUIRED_SIDECAR, NULL}};
    assert_int_equal(config_check_defs(req_def, 1, err, sizeof err), SL_EINVAL);
    assert_non_null(strstr(err, "required key with a default"));
    static const config_def bad_def[] = {{"a", CONFIG_INT64, 0, 1, 10, "11", "x", 0, NULL}};
    assert_int_equal(config_check_defs(bad_def, 1, err, sizeof err), SL_EINVAL);
    assert_non_null(strstr(err, "a: default: 11 out of range [1, 10]"));
    static const config_def no_vals[] = {{"a", CONFIG_ENUM, 0, 0, 0, "x", "x", 0, NULL}};
    assert_int_equal(config_check_defs(no_vals, 1, err, sizeof err), SL_EINVAL);
    static const config_def bad_prefix[] = {
        {"kafka", CONFIG_STRING, 0, 0, 0, NULL, "x", CONFIG_PREFIX, NULL}};
    assert_int_equal(config_check_defs(bad_prefix, 1, err, sizeof err), SL_EINVAL);
    static const config_def minmax[] = {{"a", CONFIG_INT64, 0, 5, 1, NULL, "x", 0, NULL}};
    assert_int_equal(config_check_defs(minmax, 1, err, sizeof err), SL_EINVAL);
    static const config_def nodesc[] = {{"a", CONFIG_INT64, 0, 0, 0, NULL, NULL, 0, NULL}};
    assert_int_equal(config_check_defs(nodesc, 1, err, sizeof err), SL_EINVAL);
    /* config_load refuses a bad table before touching the target */
    tconf t;
    assert_int_equal(config_load(dup, 2, &t, 0, NULL, NULL, 0, err, sizeof err), SL_EINVAL);
}

static void test_defaults_and_sets(void **state)
{
    (void)state;
    tconf t;
    char err[256] = "";
    char *sets[] = {"cluster.name=c1", " zk.connect = 127.0.0.1:2181 "};
    assert_int_equal(load(&t, CONFIG_ROLE_SIDECAR, NULL, sets, 2, err, sizeof err), 0);
    assert_string_equal(t.cluster, "c1");
    assert_string_equal(t.zk, "127.0.0.1:2181");
    assert_true(t.port == 8080);
    assert_false(t.verbose);
    assert_true(t.timeout_ms == 120000);
    assert_true(t.buf_bytes == 64ull << 20);
    assert_int_equal(t.mode, 0);
    assert_null(t.table_config);
    assert_true(t.knob == 0);
    assert_int_equal(t.kafka.n, 0);
    assert_null(t.kafka.items);
    assert_string_equal(t.note, "hello");
    assert_true(t.retries == 3);
    config_free(defs, NDEFS, &t);
    assert_null(t.cluster);
    assert_null(t.note);
}

static void test_file_syntax(void **state)
{
    (void)state;
    tconf t;
    char err[256] = "";
    const char *text = "# a comment\n"
                       "! another comment\n"
                       "\n"
                       "   \t\n"
                       "cluster.name = prod-1\n"
                       "zk.connect=zk1:2181,zk2:2181\n"
                       "http.port: 9000\n"
                       "verbose   YES\n"
                       "commit.timeout = 1h\r\n"
                       "  buffer.size = 512K   \n"
                       "mode = cluster\n"
                       "note = a # not a comment \\\n"
                       "       continued \\\\\n"
                       "kafka.security.protocol = SASL_SSL\n"
                       "kafka.sasl.jaas.config = x username=\"u\" pw=a:b\n"
                       "test.fail.nth.upload = 3\n"
                       "retries = -1\n"
                       "kafka.client.id = \\u00e9\\t\\ \n"
                       "kafka.sasl\\=odd\\:key = v";
    assert_int_equal(load(&t, CONFIG_ROLE_CONTROLLER, text, NULL, 0, err, sizeof err), 0);
    assert_string_equal(t.cluster, "prod-1");
    assert_string_equal(t.zk, "zk1:2181,zk2:2181");
    assert_true(t.port == 9000);
    assert_true(t.verbose);
    assert_true(t.timeout_ms == 3600000);
    assert_true(t.buf_bytes == 512 * 1024);
    assert_string_equal(t.note, "a # not a comment continued \\");
    assert_true(t.knob == 3);
    assert_true(t.retries == -1);
    assert_int_equal(t.kafka.n, 4);
    assert_string_equal(t.kafka.items[0].key, "security.protocol");
    assert_string_equal(t.kafka.items[0].value, "SASL_SSL");
    assert_int_equal(t.kafka.items[0].line, 14);
    assert_string_equal(t.kafka.items[1].key, "sasl.jaas.config");
    assert_string_equal(t.kafka.items[1].value, "x username=\"u\" pw=a:b");
    assert_string_equal(t.kafka.items[2].key, "client.id");
    assert_string_equal(t.kafka.items[2].value, "\xc3\xa9\t "); /* escaped blank kept */
    assert_string_equal(t.kafka.items[3].key, "sasl=odd:key");
    assert_string_equal(t.kafka.items[3].value, "v");
    config_free(defs, NDEFS, &t);
    assert_int_equal(t.kafka.n, 0);
    assert_null(t.kafka.items);
}

static void test_set_overrides_file(void **state)
{
    (void)state;
    tconf t;
    char err[256] = "";
    const char *text = "cluster.name = a\nzk.connect = z\nhttp.port = 1\nkafka.acks = 1\n"
                       "note = from-file\n";
    char *sets[] = {"http.port=2", "kafka.acks=all", "kafka.linger.ms=5", "note="};
    assert_int_equal(load(&t, CONFIG_ROLE_SIDECAR, text, sets, 4, err, sizeof err), 0);
    assert_true(t.port == 2);
    assert_int_equal(t.kafka.n, 2);
    assert_string_equal(t.kafka.items[0].value, "all");
    assert_int_equal(t.kafka.items[0].line, 0);
    assert_string_equal(t.kafka.items[1].key, "linger.ms");
    assert_string_equal(t.note, "");
    config_free(defs, NDEFS, &t);
}

static void test_roles_and_required(void **state)
{
    (void)state;
    tconf t;
    char err[256] = "";
    /* standalone: zk.connect not needed, table.config is */
    expect_fail(CONFIG_ROLE_SIDECAR, "cluster.name = c\nmode = standalone\n", NULL, 0,
                ": missing required key \"table.config\" (required for: standalone mode)");
    char *sets[] = {"table.config=/t.json"};
    assert_int_equal(load(&t, CONFIG_ROLE_SIDECAR, "cluster.name = c\nmode = standalone\n", sets, 1,
                          err, sizeof err),
                     0);
    assert_int_equal(t.mode, 1);
    assert_null(t.zk);
    assert_string_equal(t.table_config, "/t.json");
    config_free(defs, NDEFS, &t);
    /* cluster mode (default): zk.connect needed */
    expect_fail(CONFIG_ROLE_SIDECAR, "cluster.name = c\n", NULL, 0,
                "missing required key \"zk.connect\" (required for: cluster mode)");
    expect_fail(CONFIG_ROLE_CONTROLLER, "zk.connect = z\n", NULL, 0,
                "missing required key \"cluster.name\" (required for: controller)");
    expect_fail(CONFIG_ROLE_SIDECAR, NULL, NULL, 0, "missing required key \"cluster.name\"");
    /* an empty value does not satisfy a required key */
    expect_fail(CONFIG_ROLE_CONTROLLER, "cluster.name =\nzk.connect = z\n", NULL, 0,
                "missing required key \"cluster.name\"");
    /* roles also come from a defaulted enum: mode defaults to cluster, which needs zk */
    expect_fail(0, "", NULL, 0, "missing required key \"zk.connect\" (required for: cluster mode)");
    assert_int_equal(load(&t, 0, "mode = standalone\ntable.config = x\n", NULL, 0, err, sizeof err),
                     0);
    assert_null(t.cluster);
    config_free(defs, NDEFS, &t);
}

static void test_errors(void **state)
{
    (void)state;
    char path_line[128];
    tconf t;
    char err[512];
    expect_fail(0, "http.port = 70000\n", NULL, 0, ": http.port: 70000 out of range [1, 65535]");
    /* exact text, with FILE:LINE */
    memset(err, 0, sizeof err);
    assert_int_equal(load(&t, 0, "# c\n\nhttp.port = 0\n", NULL, 0, err, sizeof err), SL_EINVAL);
    snprintf(path_line, sizeof path_line, "%s:3: ", tmp_path);
    assert_true(strncmp(err, path_line, strlen(path_line)) == 0);
    assert_string_equal(err + strlen(path_line), "http.port: 0 out of range [1, 65535]");

    expect_fail(0, "http.port = 80x\n", NULL, 0, "http.port: \"80x\" is not an integer");
    expect_fail(0, "http.port = 99999999999999999999\n", NULL, 0, "is not an integer");
    expect_fail(0, "http.port =\n", NULL, 0, "http.port: \"\" is not an integer");
    expect_fail(0, "verbose = maybe\n", NULL, 0, "verbose: \"maybe\" is not a boolean");
    expect_fail(0, "commit.timeout = 5 minutes\n", NULL, 0,
                "commit.timeout: \"5 minutes\" is not a duration");
    expect_fail(0, "commit.timeout = 2h\n", NULL, 0, "commit.timeout: 2h out of range [1s, 1h]");
    expect_fail(0, "commit.timeout = 999\n", NULL, 0, "999 out of range [1s, 1h]");
    expect_fail(0, "buffer.size = 2G\n", NULL, 0, "buffer.size: 2G out of range [4K, 1G]");
    expect_fail(0, "buffer.size = -1\n", NULL, 0, "buffer.size: \"-1\" is not a size");
    expect_fail(0, "retries = -2\n", NULL, 0, "retries: -2 out of range (minimum -1)");
    expect_fail(0, "mode = cloud\n", NULL, 0, "mode: \"cloud\" is not one of: cluster, standalone");
    expect_fail(0, "mode = Cluster\n", NULL, 0, "is not one of");
    expect_fail(0, "a = 1\nhttp.prot = 1\n", NULL, 0, ":1: unknown key \"a\"");
    expect_fail(0, "http.prot = 1\n", NULL, 0,
                ":1: unknown key \"http.prot\" (did you mean \"http.port\"?)");
    /* hidden knobs are accepted but never suggested */
    assert_int_equal(load(&t, 0, "test.fail.nth.uplaod = 1\n", NULL, 0, err, sizeof err),
                     SL_EINVAL);
    assert_non_null(strstr(err, "unknown key \"test.fail.nth.uplaod\""));
    assert_null(strstr(err, "did you mean"));
    expect_fail(0, "http.port = 1\nverbose = true\nhttp.port = 2\n", NULL, 0,
                ":3: http.port: duplicate key (first at line 1)");
    expect_fail(0, "kafka.acks = 1\nkafka.acks = 2\n", NULL, 0,
                ":2: kafka.acks: duplicate key (first at line 1)");
    expect_fail(0, "kafka. = 1\n", NULL, 0, "kafka.: empty property name after the prefix");
    expect_fail(0, "justakey\n", NULL, 0, ":1: malformed line \"justakey\" (expected key = value)");
    expect_fail(0, "http.port = 1\n  = value\n", NULL, 0, ":2: malformed line (empty key)");
    expect_fail(0, "= value\n", NULL, 0, ":1: malformed line (empty key)");
    expect_fail(0, "note = \\u12\n", NULL, 0, ":1: malformed \\u escape");
    expect_fail(0, "note = \\u0000\n", NULL, 0, "malformed \\u escape");
    expect_fail(0, "note = \\ud800\n", NULL, 0, "malformed \\u escape");
    /* a continuation keeps the first line's number */
    expect_fail(0, "note = a \\\n b\nhttp.port = \\\n  x\n", NULL, 0, ":3: http.port: \"x\"");

    char *s1[] = {"http.port=1", "http.port=2"};
    expect_fail(0, NULL, s1, 2, "--set http.port: given twice");
    char *s2[] = {"kafka.acks=1", "kafka.acks=2"};
    expect_fail(0, NULL, s2, 2, "--set kafka.acks: given twice");
    char *s3[] = {"http.port"};
    expect_fail(0, NULL, s3, 1, "--set \"http.port\": expected key=value");
    char *s4[] = {"=5"};
    expect_fail(0, NULL, s4, 1, "expected key=value");
    char *s5[] = {"nope=5"};
    expect_fail(0, NULL, s5, 1, "--set unknown key \"nope\"");
    char *s6[] = {"http.port=70000"};
    expect_fail(0, NULL, s6, 1, "--set http.port: 70000 out of range [1, 65535]");
    char *s7[] = {"  =5"};
    expect_fail(0, NULL, s7, 1, "expected key=value");

    assert_int_equal(
        config_load(defs, NDEFS, &t, 0, "/nonexistent/x.conf", NULL, 0, err, sizeof err),
        SL_ENOENT);
    assert_string_equal(err, "/nonexistent/x.conf: No such file or directory");
    assert_null(t.note);
}

static void test_find(void **state)
{
    (void)state;
    assert_string_equal(config_find(defs, NDEFS, "http.port")->name, "http.port");
    assert_string_equal(config_find(defs, NDEFS, "kafka.sasl.mechanism")->name, "kafka.");
    assert_null(config_find(defs, NDEFS, "http"));
    assert_null(config_find(defs, NDEFS, "kafka"));
}

static char *capture(int markdown)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    if (markdown)
        assert_int_equal(config_write_markdown(defs, NDEFS, f), 0);
    else
        config_print_help(defs, NDEFS, f);
    fclose(f);
    return buf;
}

static void test_help_and_markdown(void **state)
{
    (void)state;
    char *h = capture(0);
    assert_non_null(
        strstr(h, "  http.port  (integer, in [1, 65535]; default: 8080)\n      HTTP port\n"));
    assert_non_null(strstr(h, "  cluster.name  (string; required for: sidecar, controller)\n"));
    assert_non_null(strstr(h, "  commit.timeout  (duration, in [1s, 1h]; default: 2m)"));
    assert_non_null(strstr(h, "  buffer.size  (size, in [4K, 1G]; default: 64M)"));
    assert_non_null(strstr(h, "  mode  (one of cluster, standalone; default: cluster)"));
    assert_non_null(strstr(h, "  kafka.*  (string (any kafka.* key, passed through))"));
    assert_non_null(strstr(h, "  retries  (integer, at least -1; default: 3)"));
    assert_null(strstr(h, "test.fail"));
    free(h);
    char *m = capture(1);
    assert_true(
        strncmp(m, "| key | type | default | required for | description |\n|---|---|---|---|---|\n",
                strlen("| key | type | default | required for | description |\n")) == 0);
    assert_non_null(
        strstr(m, "\n| `http.port` | integer, in [1, 65535] | `8080` |  | HTTP port |\n"));
    assert_non_null(strstr(
        m,
        "\n| `zk.connect` | string |  | controller, cluster mode | ZooKeeper host:port list |\n"));
    assert_non_null(strstr(m, "| Buffer \\| bytes |"));
    assert_non_null(strstr(m, "\n| `kafka.*` |"));
    assert_null(strstr(m, "test.fail"));
    /* one row per visible key */
    int rows = 0;
    for (const char *p = m; (p = strstr(p, "\n| `")); p++)
        rows++;
    assert_int_equal(rows, (int)NDEFS - 1);
    free(m);
}

/* CONFIG_NAME: the segment-name table grammar, refused at load with file, line and key. */
typedef struct nconf {
    char *id;
} nconf;

static const config_def name_defs[] = {
    {"instance.id", CONFIG_STRING, offsetof(nconf, id), 0, 0, NULL, "Instance id",
     CONFIG_REQUIRED_SIDECAR | CONFIG_NAME, NULL},
};

static int load_name(const char *text, const char *set, char *err, size_t errlen)
{
    nconf t;
    char buf[512];
    snprintf(buf, sizeof buf, "instance.id=%s", set ? set : "");
    char *sets[] = {buf};
    const char *path = text ? write_file(text) : NULL;
    int rc = config_load(name_defs, 1, &t, CONFIG_ROLE_SIDECAR, path, sets, set ? 1 : 0, err,
                         errlen);
    if (path) unlink(path);
    if (rc == 0) config_free(name_defs, 1, &t);
    return rc;
}

static void test_name_keys(void **state)
{
    (void)state;
    char err[512], long_id[201], max_id[129];
    memset(long_id, 'a', 200), long_id[200] = '\0';
    memset(max_id, 'b', 128), max_id[128] = '\0';
    const char *const good[] = {"s1", "sidecar-1", "a.b_c-D", "0", max_id};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (load_name(NULL, good[i], err, sizeof err) != 0) fail_msg("%s refused: %s", good[i], err);
    const struct {
        const char *id, *want;
    } bad[] = {
        {"side car", "--set instance.id: \"side car\": character ' ' is not allowed"},
        {"a/b", "character '/' is not allowed"},
        {"..", "\"..\" must not start or end with '_' or '.'"},
        {"_a", "must not start or end"},
        {"a.", "must not start or end"},
        {"a__b", "\"__\" is reserved"},
        {"caf\xc3\xa9", "is not allowed"},
        {long_id, "is 200 characters long (at most 128)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(load_name(NULL, bad[i].id, err, sizeof err), SL_EINVAL);
        if (!strstr(err, bad[i].want)) fail_msg("error \"%s\" lacks \"%s\"", err, bad[i].want);
    }
    /* from a file: FILE:LINE: KEY; empty is "missing", as for any required string */
    assert_int_equal(load_name("# c\ninstance.id = side car\n", NULL, err, sizeof err), SL_EINVAL);
    assert_non_null(strstr(err, ":2: instance.id: \"side car\": character ' '"));
    assert_int_equal(load_name("instance.id =\n", NULL, err, sizeof err), SL_EINVAL);
    assert_non_null(strstr(err, "missing required key \"instance.id\""));
    /* the table: NAME only on strings, a default must be a valid name */
    static const config_def not_str[] = {
        {"a", CONFIG_INT64, 0, 0, 0, "1", "x", CONFIG_NAME, NULL}};
    assert_int_equal(config_check_defs(not_str, 1, err, sizeof err), SL_EINVAL);
    static const config_def bad_default[] = {
        {"a", CONFIG_STRING, 0, 0, 0, "a b", "x", CONFIG_NAME, NULL}};
    assert_int_equal(config_check_defs(bad_default, 1, err, sizeof err), SL_EINVAL);
    assert_non_null(strstr(err, "a: default: "));
    /* help and docs say what a name is */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(config_write_markdown(name_defs, 1, f), 0);
    fclose(f);
    assert_non_null(strstr(buf, "| `instance.id` | name: 1 to 128 of A-Z a-z 0-9 _ . -"));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defs_valid),
        cmocka_unit_test(test_defaults_and_sets),
        cmocka_unit_test(test_file_syntax),
        cmocka_unit_test(test_set_overrides_file),
        cmocka_unit_test(test_roles_and_required),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_help_and_markdown),
        cmocka_unit_test(test_name_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
