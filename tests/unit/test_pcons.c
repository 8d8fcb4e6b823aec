/* Partition consumer state without Kafka: thresholds (rows, time, end offset), redelivery,
 * gaps, malformed messages (counted, dead-lettered, offsets still advance), data loss. */
#include "consumer/pcons.h"
#include "common/clock.h"
#include "common/schema.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

static const char schema_json[] =
    "{\"schemaName\":\"t\",\"dimensionFieldSpecs\":[{\"name\":\"id\",\"dataType\":\"LONG\"}],"
    "\"metricFieldSpecs\":[],\"dateTimeFieldSpecs\":[]}";

typedef struct fixture {
    schema *s;
    metrics_registry *reg;
    cmetrics cm;
    pcons_table t;
    char dlq_path[64];
    dlq *d;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char err[256];
    f->s = schema_parse(schema_json, sizeof schema_json - 1, "test", err, sizeof err);
    assert_non_null(f->s);
    f->reg = metrics_new();
    assert_int_equal(cmetrics_register(&f->cm, f->reg), 0);
    snprintf(f->dlq_path, sizeof f->dlq_path, "/tmp/test_pcons_dlq.%d", (int)getpid());
    unlink(f->dlq_path);
    f->d = dlq_open(f->dlq_path, err, sizeof err);
    assert_non_null(f->d);
    f->t = (pcons_table){.table = "t", .schema = f->s, .dead_letter = f->d, .metrics = &f->cm};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    dlq_close(f->d);
    unlink(f->dlq_path);
    metrics_free(f->reg);
    schema_free(f->s);
    free(f);
    return 0;
}

static bool feed(pcons *p, int64_t off, const char *msg)
{
    return pcons_on_message(p, off, (const uint8_t *)msg, strlen(msg));
}

static void test_row_threshold_and_redelivery(void **state)
{
    fixture *f = *state;
    pcons *p = pcons_new(&f->t, 3);
    assert_int_equal(pcons_get_state(p), PCONS_IDLE);
    pcons_limits lim = {.rows = 3, .end_offset = -1};
    pcons_start_segment(p, 0, "t__3__0__20240101T0000Z", 100, 1000, &lim);
    assert_int_equal(pcons_get_state(p), PCONS_CONSUMING);
    assert_false(feed(p, 99, "{\"id\":0}")); /* below the start: a redelivery, ignored */
    assert_false(feed(p, 100, "{\"id\":1}"));
    assert_false(feed(p, 100, "{\"id\":1}")); /* redelivered */
    assert_false(feed(p, 101, "{\"id\":2}"));
    assert_true(feed(p, 105, "{\"id\":3}")); /* a gap moves next; third row fills it */
    assert_int_equal(pcons_get_state(p), PCONS_FULL);
    assert_int_equal(pcons_end_reason(p), PCONS_END_ROWS);
    assert_int_equal(pcons_next_offset(p), 106);
    assert_int_equal(mseg_rows(pcons_segment(p)), 3);
    assert_false(feed(p, 106, "{\"id\":4}")); /* FULL: ignored until the next segment */
    assert_int_equal(metrics_counter_get(pcons_get_stats(p)->rows), 3);
    pcons_start_segment(p, 1, "t__3__1__20240101T0000Z", 106, 2000, &lim);
    assert_int_equal(mseg_rows(pcons_segment(p)), 0);
    assert_int_equal(pcons_seq(p), 1);
    assert_string_equal(pcons_segment_name(p), "t__3__1__20240101T0000Z");
    pcons_free(p);
}

static void test_malformed_counted_and_dead_lettered(void **state)
{
    fixture *f = *state;
    pcons *p = pcons_new(&f->t, 0);
    pcons_limits lim = {.rows = 10, .end_offset = -1};
    pcons_start_segment(p, 0, "t__0__0__20240101T0000Z", 0, 0, &lim);
    assert_false(feed(p, 0, "not json"));
    assert_false(feed(p, 1, "[1]"));
    assert_false(feed(p, 2, "{\"id\":\"x\"}"));
    assert_false(feed(p, 3, "{\"id\":7}"));
    assert_int_equal(pcons_next_offset(p), 4); /* bad messages still advance the offset */
    assert_int_equal(mseg_rows(pcons_segment(p)), 1);
    pcons_stats *st = pcons_get_stats(p);
    assert_int_equal(metrics_counter_get(st->bad[ROWDEC_MALFORMED_JSON]), 1);
    assert_int_equal(metrics_counter_get(st->bad[ROWDEC_NOT_OBJECT]), 1);
    assert_int_equal(metrics_counter_get(st->bad[ROWDEC_WRONG_TYPE]), 1);
    FILE *in = fopen(f->dlq_path, "r");
    assert_non_null(in);
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, in))
        n++;
    fclose(in);
    assert_int_equal(n, 3);
    assert_non_null(strstr(line, "\"offset\":2,\"reason\":\"wrong_type\""));
    pcons_free(p);
}

static void test_time_threshold(void **state)
{
    fixture *f = *state;
    pcons *p = pcons_new(&f->t, 0);
    pcons_limits lim = {.time_ms = 1000, .end_offset = -1};
    pcons_start_segment(p, 0, "t__0__0__20240101T0000Z", 0, 10000, &lim);
    assert_false(pcons_tick(p, 10999));
    assert_false(pcons_tick(p, 11000)); /* empty at the deadline: extended, not flushed */
    assert_int_equal(pcons_get_state(p), PCONS_CONSUMING);
    assert_false(feed(p, 0, "{\"id\":1}"));
    assert_false(pcons_tick(p, 11999));
    assert_true(pcons_tick(p, 12000));
    assert_int_equal(pcons_end_reason(p), PCONS_END_TIME);
    pcons_free(p);
}

static void test_end_offset(void **state)
{
    fixture *f = *state;
    pcons *p = pcons_new(&f->t, 0);
    pcons_limits lim = {.rows = 100, .end_offset = 2};
    pcons_start_segment(p, 0, "t__0__0__20240101T0000Z", 0, 0, &lim);
    assert_false(feed(p, 0, "{\"id\":1}"));
    assert_true(feed(p, 1, "{\"id\":2}"));
    assert_int_equal(pcons_end_reason(p), PCONS_END_OFFSET);
    assert_int_equal(pcons_next_offset(p), 2);
    /* a gap that jumps past the end stops exactly at the end, without the message */
    lim.end_offset = 5;
    pcons_start_segment(p, 1, "t__0__1__20240101T0000Z", 2, 0, &lim);
    assert_true(feed(p, 9, "{\"id\":3}"));
    assert_int_equal(pcons_next_offset(p), 5);
    assert_int_equal(mseg_rows(pcons_segment(p)), 0);
    /* a segment that starts at its end offset is full at once */
    pcons_start_segment(p, 2, "t__0__2__20240101T0000Z", 5, 0, &lim);
    assert_int_equal(pcons_get_state(p), PCONS_FULL);
    pcons_free(p);
}

/* Force commit: only the segment asked for ends (an empty one too), at the next tick; a request
 * for a segment that already rolled does nothing. */
static void test_force_request(void **state)
{
    fixture *f = *state;
    pcons *p = pcons_new(&f->t, 0);
    pcons_limits lim = {.rows = 100, .end_offset = -1};
    pcons_start_segment(p, 0, "t__0__0__20240101T0000Z", 0, 0, &lim);
    assert_false(pcons_tick(p, 1)); /* nothing asked */
    pcons_request_force(p, 0);
    assert_true(pcons_tick(p, 2));
    assert_int_equal(pcons_end_reason(p), PCONS_END_FORCE);
    assert_int_equal(mseg_rows(pcons_segment(p)), 0);
    pcons_start_segment(p, 1, "t__0__1__20240101T0000Z", 0, 0, &lim);
    assert_false(pcons_tick(p, 3)); /* the request was for segment 0, and was used */
    pcons_request_force(p, 0);      /* a late request for the rolled segment */
    assert_false(feed(p, 0, "{\"id\":1}"));
    assert_false(pcons_tick(p, 4));
    assert_int_equal(pcons_get_state(p), PCONS_CONSUMING);
    pcons_request_force(p, 1);
    assert_true(pcons_tick(p, 5));
    assert_int_equal(pcons_next_offset(p), 1);
    /* pcons_roll: the FULL rows move out, the next segment starts at the end */
    pcons_frozen fz = {0};
    pcons_roll(p, &fz, 2, "t__0__2__20240101T0000Z", 1, 0, &lim);
    assert_non_null(fz.seg);
    assert_int_equal(mseg_rows(fz.seg), 1);
    assert_int_equal(fz.start, 0);
    assert_int_equal(fz.end, 1);
    assert_int_equal(fz.seq, 1);
    assert_int_equal(fz.why, PCONS_END_FORCE);
    assert_string_equal(fz.name, "t__0__1__20240101T0000Z");
    assert_int_equal(pcons_get_state(p), PCONS_CONSUMING);
    assert_int_equal(mseg_rows(pcons_segment(p)), 0);
    pcons_frozen_free(&fz);
    assert_null(fz.seg);
    pcons_free(p);
}

static void test_data_loss_and_error(void **state)
{
    fixture *f = *state;
    pcons *p = pcons_new(&f->t, 0);
    pcons_limits lim = {.rows = 100, .end_offset = -1};
    pcons_start_segment(p, 0, "t__0__0__20240101T0000Z", 10, 0, &lim);
    pcons_data_loss(p, 10, 50);
    assert_int_equal(pcons_next_offset(p), 50);
    assert_int_equal(metrics_counter_get(pcons_get_stats(p)->lost_messages), 40);
    assert_int_equal(metrics_counter_get(pcons_get_stats(p)->lost_ranges), 1);
    pcons_data_loss(p, 50, 50); /* empty range: nothing */
    assert_int_equal(metrics_counter_get(pcons_get_stats(p)->lost_ranges), 1);
    pcons_fail(p, "test");
    assert_int_equal(pcons_get_state(p), PCONS_ERROR);
    assert_string_equal(pcons_state_name(PCONS_ERROR), "ERROR");
    assert_false(feed(p, 50, "{\"id\":1}"));
    pcons_start_segment(p, 1, "t__0__1__20240101T0000Z", 50, 0, &lim); /* ERROR -> CONSUMING */
    assert_int_equal(pcons_get_state(p), PCONS_CONSUMING);
    pcons_force_full(p);
    assert_int_equal(pcons_end_reason(p), PCONS_END_FORCE);
    pcons_free(p);
}

/* sluice_partition_lag_seconds: the age of the last consumed message while behind, 0 when
 * caught up or when no message had a timestamp. */
static void test_lag_seconds(void **state)
{
    fixture *f = *state;
    pcons *p = pcons_new(&f->t, 5);
    pcons_limits lim = {.rows = 1000, .end_offset = -1};
    pcons_start_segment(p, 0, "t__5__0__20240101T0000Z", 100, 0, &lim);
    pcons_stats *st = pcons_get_stats(p);
    char *text = metrics_render(f->reg, NULL);
    assert_non_null(strstr(text, "sluice_partition_lag_seconds{table=\"t\",partition=\"5\"} 0\n"));
    free(text);
    atomic_store(&st->high_watermark, 150); /* 50 behind, the last message 42 s old */
    atomic_store(&st->last_msg_ms, (int64_t)sl_clock_wall_ms() - 42000);
    text = metrics_render(f->reg, NULL);
    const char *v = strstr(text, "sluice_partition_lag_seconds{table=\"t\",partition=\"5\"} ");
    assert_non_null(v);
    double secs =
        strtod(v + strlen("sluice_partition_lag_seconds{table=\"t\",partition=\"5\"} "), NULL);
    assert_true(secs >= 41.9 && secs < 60);
    assert_non_null(strstr(text, "sluice_partition_lag{table=\"t\",partition=\"5\"} 50\n"));
    free(text);
    atomic_store(&st->high_watermark, 100); /* caught up */
    text = metrics_render(f->reg, NULL);
    assert_non_null(strstr(text, "sluice_partition_lag_seconds{table=\"t\",partition=\"5\"} 0\n"));
    free(text);
    pcons_free(p);
}

static void test_metrics_series_removed(void **state)
{
    fixture *f = *state;
    pcons *p = pcons_new(&f->t, 7);
    char *text = metrics_render(f->reg, NULL);
    assert_non_null(strstr(text, "sluice_rows_consumed_total{table=\"t\",partition=\"7\"} 0"));
    free(text);
    pcons_free(p);
    text = metrics_render(f->reg, NULL);
    assert_null(strstr(text, "partition=\"7\""));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_row_threshold_and_redelivery, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_counted_and_dead_lettered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_time_threshold, setup, teardown),
        cmocka_unit_test_setup_teardown(test_end_offset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lag_seconds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_force_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_loss_and_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_series_removed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
