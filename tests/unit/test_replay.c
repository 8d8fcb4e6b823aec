/* Replay against an in-process mock cluster (chaos/kmock): a range is cut by the table's row
 * threshold into a chain that ends exactly at --to, with every row the message Kafka holds at
 * its offset; two replays of one plan build the same bytes; an exact plan rebuilds segments
 * under their names (an empty one included) with the CRCs of the range replay; bad plans are
 * refused before anything is consumed. */
#include "chaos/kmock.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/schema.h"
#include "common/sl_err.h"
#include "common/table_config.h"
#include "consumer/replay.h"
#include "segment/seg_reader.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <librdkafka/rdkafka.h>

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NMSG 2500
#define T_2024 1704067200000LL /* 20240101T0000Z */

static const char schema_json[] =
    "{\"schemaName\":\"t\",\"dimensionFieldSpecs\":[{\"name\":\"id\",\"dataType\":\"LONG\"},"
    "{\"name\":\"s\",\"dataType\":\"STRING\"}]}";

typedef struct fx {
    kmock *m;
    schema *s;
    tcfg *t;
    char dir[PATH_MAX];
} fx;

static void produce(fx *f, int32_t partition, int n)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    assert_int_equal(rd_kafka_conf_set(conf, "bootstrap.servers", kmock_bootstraps(f->m), errstr,
                                       sizeof errstr), RD_KAFKA_CONF_OK);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    assert_non_null(rk);
    for (int i = 0; i < n; i++) {
        char v[96];
        /* every 97th message is malformed: counted, not stored, its offset still covered */
        int len = i % 97 == 50 ? snprintf(v, sizeof v, "{not json")
                               : snprintf(v, sizeof v, "{\"id\":%d,\"s\":\"p%d-%d\"}", i,
                                          (int)partition, i);
        assert_int_equal(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("t"),
                                           RD_KAFKA_V_PARTITION(partition),
                                           RD_KAFKA_V_VALUE(v, (size_t)len),
                                           RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END),
                         0);
    }
    assert_int_equal(rd_kafka_flush(rk, 10000), 0);
    rd_kafka_destroy(rk);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    char err[512];
    sl_log_threshold = SL_LOG_ERROR;
    f->m = kmock_new(1, err, sizeof err);
    if (!f->m) fail_msg("kmock_new: %s", err);
    assert_int_equal(kmock_topic_create(f->m, "t", 2, 1, err, sizeof err), 0);
    produce(f, 0, NMSG);
    produce(f, 1, 10);
    f->s = schema_parse(schema_json, strlen(schema_json), "schema", err, sizeof err);
    assert_non_null(f->s);
    char cfg[1024];
    snprintf(cfg, sizeof cfg,
             "{\"tableName\":\"t\",\"tableType\":\"REALTIME\",\"segmentsConfig\":{\"replication\":"
             "\"1\"},\"tableIndexConfig\":{\"streamConfigs\":{\"streamType\":\"kafka\","
             "\"stream.kafka.topic.name\":\"t\",\"stream.kafka.broker.list\":\"%s\","
             "\"stream.kafka.decoder.class.name\":"
             "\"org.apache.pinot.plugin.stream.kafka.KafkaJSONMessageDecoder\","
             "\"realtime.segment.flush.threshold.rows\":\"1000\"}}}",
             kmock_bootstraps(f->m));
    f->t = tcfg_parse(cfg, strlen(cfg), "table", f->s, err, sizeof err);
    if (!f->t) fail_msg("tcfg_parse: %s", err);
    snprintf(f->dir, sizeof f->dir, "/tmp/test_replay.%d", (int)getpid());
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    char why[256];
    fsutil_remove_tree(f->dir, why, sizeof why);
    tcfg_free(f->t);
    schema_free(f->s);
    kmock_destroy(f->m);
    free(f);
    return 0;
}

static replay *run(fx *f, const replay_part *parts, size_t n, const char *sub)
{
    char err[512], out[PATH_MAX + 32];
    snprintf(out, sizeof out, "%s/%s", f->dir, sub);
    replay_opts o = {.engine = {.data_dir = out, .workers = 2}, .schema = f->s, .table = f->t,
                     .parts = parts, .nparts = n};
    replay *r = replay_start(&o, err, sizeof err);
    if (!r) fail_msg("replay_start: %s", err);
    assert_true(replay_wait(r, 30000));
    return r;
}

/* The rows of a published file: offset-order ids, checked against what was produced. */
static void check_rows(fx *f, const char *sub, const replay_built *b)
{
    char path[PATH_MAX * 2];
    snprintf(path, sizeof path, "%s/%s/t/%s.seg", f->dir, sub, b->name);
    int e = 0;
    char msg[256];
    seg_reader *rd = seg_reader_open(path, &e, msg, sizeof msg);
    if (!rd) fail_msg("%s: %s", path, msg);
    assert_int_equal(seg_reader_crc(rd), b->crc);
    uint64_t row = 0;
    for (int64_t off = b->start; off < b->end; off++) {
        if (off % 97 == 50) continue; /* malformed */
        schema_value v;
        assert_int_equal(seg_reader_value(rd, 0, row, &v), 0);
        assert_int_equal(v.u.i64, off);
        row++;
    }
    assert_int_equal(row, seg_reader_rows(rd));
    assert_int_equal(row, b->rows);
    seg_reader_close(rd);
}

static void test_range_cut_by_rows(void **state)
{
    fx *f = *state;
    replay_part p[] = {{.partition = 0, .from = 300, .to = 2400, .sequence = 7, .time_ms = T_2024},
                       {.partition = 1, .from = 10, .to = 10, .time_ms = T_2024}};
    replay *r = run(f, p, 2, "a");
    replay_stat st;
    replay_progress(r, &st);
    assert_int_equal(st.parts_done, 2);
    assert_int_equal(st.parts_failed, 0);
    assert_int_equal(st.offsets_done, 2100);
    assert_int_equal(st.offsets_total, 2100);
    assert_int_equal(st.lost_messages, 0);
    replay_built *b = NULL;
    size_t n = replay_results(r, &b);
    assert_int_equal(n, 3); /* 1000 rows, 1000 rows, the rest up to 2400 */
    int64_t at = 300;
    uint64_t rows = 0;
    for (size_t i = 0; i < n; i++) {
        char want[128];
        snprintf(want, sizeof want, "t__0__%d__20240101T0000Z", 7 + (int)i);
        assert_string_equal(b[i].name, want);
        assert_int_equal(b[i].start, at);
        at = b[i].end;
        if (i < 2) assert_int_equal(b[i].rows, 1000);
        rows += b[i].rows;
        check_rows(f, "a", &b[i]);
    }
    assert_int_equal(at, 2400);
    assert_int_equal(rows, st.rows);
    assert_true(st.malformed > 0);
    assert_int_equal(rows + st.malformed, 2100);

    /* the same plan again: the same bytes */
    replay *r2 = run(f, p, 2, "b");
    replay_built *b2 = NULL;
    assert_int_equal(replay_results(r2, &b2), n);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(b2[i].name, b[i].name);
        assert_int_equal(b2[i].crc, b[i].crc);
    }

    /* an exact plan of the same segments, an empty one after them: the same CRCs */
    replay_seg segs[4];
    for (size_t i = 0; i < n; i++)
        segs[i] = (replay_seg){b[i].name, b[i].sequence, b[i].start, b[i].end};
    segs[3] = (replay_seg){"t__0__10__20240101T0000Z", 10, 2400, 2400};
    replay_part pe = {.partition = 0, .segs = segs, .nsegs = 4};
    replay *r3 = run(f, &pe, 1, "c");
    replay_built *b3 = NULL;
    assert_int_equal(replay_results(r3, &b3), 4);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(b3[i].crc, b[i].crc);
    assert_int_equal(b3[3].rows, 0);
    assert_int_equal(b3[3].start, 2400);
    assert_int_equal(b3[3].end, 2400);
    free(b);
    free(b2);
    free(b3);
    replay_stop(r);
    replay_stop(r2);
    replay_stop(r3);
}

static void test_bad_plans_refused(void **state)
{
    fx *f = *state;
    char err[512], out[PATH_MAX + 8];
    snprintf(out, sizeof out, "%s/x", f->dir);
    replay_seg gap[] = {{"t__0__0__20240101T0000Z", 0, 0, 100}, {"t__0__1__20240101T0000Z", 1, 101, 200}};
    replay_seg other[] = {{"u__0__0__20240101T0000Z", 0, 0, 100}};
    replay_seg wrongp[] = {{"t__1__0__20240101T0000Z", 0, 0, 100}};
    struct {
        replay_part p[2];
        size_t n;
        const char *want;
    } cases[] = {
        {{{.partition = 0, .segs = gap, .nsegs = 2}}, 1, "starts at 101"},
        {{{.partition = 0, .segs = other, .nsegs = 1}}, 1, "is not one of it"},
        {{{.partition = 0, .segs = wrongp, .nsegs = 1}}, 1, "is not one of it"},
        {{{.partition = 0, .from = 10, .to = 5}}, 1, "not a range"},
        {{{.partition = 0, .from = 0, .to = 5}, {.partition = 0, .from = 0, .to = 5}}, 2, "twice"},
        {{{.partition = 9, .from = 0, .to = 5}}, 1, "has no partition 9"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        replay_opts o = {.engine = {.data_dir = out, .workers = 1}, .schema = f->s, .table = f->t,
                         .parts = cases[i].p, .nparts = cases[i].n};
        err[0] = '\0';
        replay *r = replay_start(&o, err, sizeof err);
        assert_null(r);
        if (!strstr(err, cases[i].want)) fail_msg("case %zu: %s", i, err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_range_cut_by_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_plans_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
