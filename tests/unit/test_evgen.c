/* Event generator: determinism, seed sensitivity, unique ids, value domains, JSON that parses
 * (jansson) with the types deploy/examples/events_schema.json declares, snprintf-style
 * truncation, and partition functions that agree with librdkafka's own partitioners. */
#include "chaos/evgen.h"

#include <jansson.h>
#include <librdkafka/rdkafka.h>

#include <regex.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define NROWS 100000

static void test_deterministic(void **state)
{
    (void)state;
    char a[EVGEN_JSON_MAX], b[EVGEN_JSON_MAX];
    for (uint64_t id = 0; id < 2000; id++) {
        size_t la = evgen_row_json(42, id, a, sizeof a);
        size_t lb = evgen_row_json(42, id, b, sizeof b);
        assert_int_equal(la, lb);
        assert_int_equal(la, strlen(a));
        assert_memory_equal(a, b, la + 1);
        /* The row form formats to the same bytes as the one-shot call. */
        evgen_row r;
        evgen_row_make(42, id, &r);
        lb = evgen_row_format(&r, b, sizeof b);
        assert_int_equal(la, lb);
        assert_string_equal(a, b);
    }
    /* Generation order does not matter: row 7 is the same before and after other rows. */
    evgen_row_json(5, 7, a, sizeof a);
    for (uint64_t id = 100; id > 0; id--)
        evgen_row_json(5, id * 1000, b, sizeof b);
    evgen_row_json(5, 7, b, sizeof b);
    assert_string_equal(a, b);
    /* A pinned row: the stream is a contract (other tests regenerate it), so any change to
     * the generator must be deliberate and show up here. */
    evgen_row_json(1, 1, a, sizeof a);
    assert_string_equal(a, "{\"ts\":1700000000010,\"user\":\"u25718\",\"country\":\"IL\","
                           "\"device\":\"android_phone\",\"event\":\"add_to_cart\",\"tags\":["
                           "\"experiment:checkout_b\",\"campaign:spring_sale_2024\"],"
                           "\"latency_ms\":147,\"price\":17.99,\"session\":9992070656785,"
                           "\"flag\":false,\"event_id\":1}");
}

static void test_seeds_differ(void **state)
{
    (void)state;
    char a[EVGEN_JSON_MAX], b[EVGEN_JSON_MAX];
    int same_user = 0;
    for (uint64_t id = 0; id < 2000; id++) {
        evgen_row ra, rb;
        evgen_row_json(1, id, a, sizeof a);
        evgen_row_json(2, id, b, sizeof b);
        assert_string_not_equal(a, b);
        evgen_row_make(1, id, &ra);
        evgen_row_make(2, id, &rb);
        /* ids and timestamps are the stream position, the same for every seed */
        assert_int_equal(ra.event_id, rb.event_id);
        assert_int_equal(ra.ts, rb.ts);
        same_user += strcmp(ra.user, rb.user) == 0;
    }
    assert_true(same_user < 5); /* 1 in 100000 per row by chance */
    /* Neighbouring seeds and ids are not shifted copies of each other. */
    evgen_row_json(1, 2, a, sizeof a);
    evgen_row_json(2, 1, b, sizeof b);
    assert_string_not_equal(strchr(a, 'u'), strchr(b, 'u'));
}

static int in_list(const char *s, const char **seen, int *nseen, int max)
{
    for (int i = 0; i < *nseen; i++)
        if (strcmp(seen[i], s) == 0) return 0;
    if (*nseen < max) seen[(*nseen)++] = s;
    return 1;
}

static void test_ids_and_domains(void **state)
{
    (void)state;
    const char *countries[64], *devices[8], *events[16], *tags[32];
    int nc = 0, nd = 0, ne = 0, nt = 0, ntags_seen[EVGEN_MAX_TAGS + 1] = {0}, flags[2] = {0};
    static unsigned char user_seen[EVGEN_USERS];
    uint64_t distinct_users = 0, total_len = 0;
    size_t max_len = 0;
    char buf[EVGEN_JSON_MAX];

    memset(user_seen, 0, sizeof user_seen);
    for (uint64_t id = 1000; id < 1000 + NROWS; id++) {
        evgen_row r;
        evgen_row_make(9, id, &r);
        assert_int_equal(r.event_id, (int64_t)id);
        assert_int_equal(r.ts, EVGEN_TS_BASE + (int64_t)id * EVGEN_TS_STEP);
        assert_int_equal(r.user[0], 'u');
        char *end;
        unsigned long u = strtoul(r.user + 1, &end, 10);
        assert_int_equal(*end, '\0');
        assert_true(u < EVGEN_USERS);
        distinct_users += !user_seen[u];
        user_seen[u] = 1;
        assert_int_equal(strlen(r.country), 2);
        in_list(r.country, countries, &nc, 64);
        in_list(r.device, devices, &nd, 8);
        in_list(r.event, events, &ne, 16);
        assert_true(r.ntags <= EVGEN_MAX_TAGS);
        ntags_seen[r.ntags]++;
        for (uint32_t t = 0; t < r.ntags; t++) {
            in_list(r.tags[t], tags, &nt, 32);
            for (uint32_t v = 0; v < t; v++)
                assert_string_not_equal(r.tags[t], r.tags[v]);
        }
        assert_true(r.latency_ms >= 1 && r.latency_ms < 10401);
        assert_true(r.price_cents >= 0 && r.price_cents < 100000);
        assert_true(r.price == (double)r.price_cents / 100.0);
        assert_true(r.session >= INT64_C(1000000000000));
        flags[r.flag]++;
        size_t len = evgen_row_format(&r, buf, sizeof buf);
        total_len += len;
        if (len > max_len) max_len = len;
    }
    assert_int_equal(nc, 50);
    assert_int_equal(nd, 5);
    assert_int_equal(ne, 10);
    assert_int_equal(nt, 16);
    for (int k = 0; k <= EVGEN_MAX_TAGS; k++)
        assert_true(ntags_seen[k] > NROWS / 8);
    assert_true(flags[0] > NROWS / 3 && flags[1] > NROWS / 3);
    assert_true(distinct_users > 55000); /* ~63% of 100k users appear in 100k draws */
    double avg = (double)total_len / NROWS;
    print_message("rows=%d avg_json_bytes=%.1f max=%zu distinct_users=%llu\n", NROWS, avg, max_len,
                  (unsigned long long)distinct_users);
    assert_true(avg > 200 && avg < 300);
    assert_true(max_len < EVGEN_JSON_MAX);
}

/* Types each schema dataType allows in the row JSON. */
static int json_matches(const char *type, json_t *v)
{
    if (strcmp(type, "INT") == 0)
        return json_is_integer(v) && json_integer_value(v) >= INT32_MIN &&
               json_integer_value(v) <= INT32_MAX;
    if (strcmp(type, "LONG") == 0 || strcmp(type, "TIMESTAMP") == 0) return json_is_integer(v);
    if (strcmp(type, "DOUBLE") == 0 || strcmp(type, "FLOAT") == 0) return json_is_number(v);
    if (strcmp(type, "BOOLEAN") == 0) return json_is_boolean(v);
    if (strcmp(type, "STRING") == 0 || strcmp(type, "BYTES") == 0) return json_is_string(v);
    return 0;
}

static json_t *load_schema(void)
{
    char path[4096];
    const char *env = getenv("SLUICE_EVENTS_SCHEMA");
    const char *data = getenv("SLUICE_TEST_DATA");
    if (env)
        snprintf(path, sizeof path, "%s", env);
    else if (data)
        snprintf(path, sizeof path, "%s/../../deploy/examples/events_schema.json", data);
    else
        snprintf(path, sizeof path, "deploy/examples/events_schema.json");
    json_error_t jerr;
    json_t *s = json_load_file(path, 0, &jerr);
    if (!s) print_error("cannot load %s: %s (line %d)\n", path, jerr.text, jerr.line);
    return s;
}

static void test_json_matches_schema(void **state)
{
    (void)state;
    static const char *const spec_lists[] = {"dimensionFieldSpecs", "metricFieldSpecs",
                                             "dateTimeFieldSpecs"};
    json_t *schema = load_schema();
    assert_non_null(schema);
    regex_t price_re;
    assert_int_equal(regcomp(&price_re, "\"price\":[0-9]+\\.[0-9]{2},", REG_EXTENDED), 0);

    char buf[EVGEN_JSON_MAX];
    for (uint64_t id = 0; id < 3000; id++) {
        uint64_t big = id < 1500 ? id : EVGEN_ID_MAX - 1 - (id - 1500);
        size_t len = evgen_row_json(77, big, buf, sizeof buf);
        json_error_t jerr;
        json_t *row = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!row)
            fail_msg("row %llu does not parse: %s: %s", (unsigned long long)big, jerr.text, buf);
        assert_int_equal(regexec(&price_re, buf, 0, NULL, 0), 0);

        size_t nfields = 0;
        for (size_t l = 0; l < 3; l++) {
            json_t *specs = json_object_get(schema, spec_lists[l]);
            size_t i;
            json_t *spec;
            json_array_foreach(specs, i, spec)
            {
                const char *name = json_string_value(json_object_get(spec, "name"));
                const char *type = json_string_value(json_object_get(spec, "dataType"));
                json_t *sv = json_object_get(spec, "singleValueField");
                assert_non_null(name);
                assert_non_null(type);
                json_t *v = json_object_get(row, name);
                if (!v) fail_msg("row lacks schema field '%s': %s", name, buf);
                nfields++;
                if (sv && json_is_false(sv)) {
                    assert_true(json_is_array(v));
                    assert_true(json_array_size(v) <= EVGEN_MAX_TAGS);
                    size_t k;
                    json_t *e;
                    json_array_foreach(v, k, e)
                    {
                        if (!json_matches(type, e))
                            fail_msg("field '%s' element is not %s: %s", name, type, buf);
                    }
                } else if (!json_matches(type, v)) {
                    fail_msg("field '%s' is not %s: %s", name, type, buf);
                }
            }
        }
        /* No field outside the schema, and the schema is the 11 fields of the contract. */
        assert_int_equal(nfields, 11);
        assert_int_equal(json_object_size(row), nfields);
        assert_int_equal(json_integer_value(json_object_get(row, "event_id")), (json_int_t)big);
        json_decref(row);
    }
    regfree(&price_re);
    json_decref(schema);
}

static void test_truncation(void **state)
{
    (void)state;
    char full[EVGEN_JSON_MAX], small[16];
    size_t n = evgen_row_json(3, 12345, full, sizeof full);
    memset(small, 'X', sizeof small);
    size_t m = evgen_row_json(3, 12345, small, sizeof small);
    assert_int_equal(m, n);
    assert_int_equal(small[sizeof small - 1], '\0');
    assert_memory_equal(small, full, sizeof small - 1);
    assert_int_equal(evgen_row_json(3, 12345, NULL, 0), n);

    char key[EVGEN_KEY_MAX];
    assert_int_equal(evgen_key(12345, key, sizeof key), 5);
    assert_string_equal(key, "12345");
    assert_int_equal(evgen_key(EVGEN_ID_MAX - 1, key, sizeof key), 16);
    assert_int_equal(evgen_key(987, key, 2), 3);
    assert_string_equal(key, "9");

    /* A hand-made row with a negative price still formats as a JSON number. */
    evgen_row r;
    evgen_row_make(3, 1, &r);
    r.price_cents = -105;
    evgen_row_format(&r, full, sizeof full);
    assert_non_null(strstr(full, "\"price\":-1.05,"));
}

static void test_partitions(void **state)
{
    (void)state;
    /* Kafka's own murmur2 test vectors (Java client UtilsTest). */
    assert_int_equal((int32_t)evgen_murmur2("21", 2), -973932308);
    assert_int_equal((int32_t)evgen_murmur2("foobar", 6), -790332482);
    assert_int_equal((int32_t)evgen_murmur2("a-little-bit-long-string", 24), -985981536);
    assert_int_equal((int32_t)evgen_murmur2("a-little-bit-longer-string", 26), -1486304829);
    assert_int_equal((int32_t)evgen_murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", 48),
                     -58897971);
    assert_int_equal((int32_t)evgen_murmur2("abc", 3), 479470107);

    static const int32_t counts[] = {1, 2, 3, 4, 7, 16, 64};
    char key[EVGEN_KEY_MAX];
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        int32_t p = counts[c];
        for (uint64_t id = 0; id < 5000; id++) {
            assert_int_equal(evgen_partition(id, p), (int32_t)(id % (uint64_t)p));
            size_t klen = evgen_key(id, key, sizeof key);
            /* murmur2 ignores the topic and opaques; the key decides. */
            int32_t want = rd_kafka_msg_partitioner_murmur2(NULL, key, klen, p, NULL, NULL);
            assert_int_equal(evgen_partition_murmur2(id, p), want);
        }
    }
    assert_int_equal(evgen_partition(5, 0), -1);
    assert_int_equal(evgen_partition_murmur2(5, -3), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic),   cmocka_unit_test(test_seeds_differ),
        cmocka_unit_test(test_ids_and_domains), cmocka_unit_test(test_json_matches_schema),
        cmocka_unit_test(test_truncation),      cmocka_unit_test(test_partitions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
