/* The audit checker on hand-made histories: a clean cluster passes, and each invariant is
 * broken on purpose and must be named (with its table, partition, segment and evidence);
 * what could not be observed is unverified, never a pass nor a violation. */
#include "chaos/audit.h"
#include "common/jsonw.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1700000000000LL
#define MIN 60000LL

/* A DONE segment seq of partition 0 over [start, end), committed by s1 in transaction zx; its
 * successor is created by the same transaction. */
static audit_seg *done(audit_part *p, int64_t seq, int64_t start, int64_t end, int64_t zx)
{
    audit_seg *s = audit_add_seg(p);
    segmeta *m = &s->m;
    snprintf(m->segment, sizeof m->segment, "ev__%d__%lld__20240101T0000Z", (int)p->partition,
             (long long)seq);
    snprintf(m->table, sizeof m->table, "ev");
    m->partition = p->partition;
    m->sequence = seq;
    m->status = SEGMETA_DONE;
    m->start_offset = start;
    m->end_offset = end;
    m->num_rows = end - start;
    m->crc = 1000u + (uint32_t)seq;
    snprintf(m->committer, sizeof m->committer, "s1");
    m->creation_time_ms = NOW - 10 * MIN;
    m->flush_time_ms = 5 * MIN;
    s->has_stat = true;
    s->czxid = zx - 1;
    s->mzxid = zx;
    s->store = AUDIT_OK;
    for (int i = 1; i <= 3; i++) {
        char id[8];
        snprintf(id, sizeof id, "s%d", i);
        audit_copy *c = audit_add_copy(s, id);
        c->reachable = c->present = c->valid = c->recorded_online = true;
        c->crc = m->crc;
    }
    return s;
}

static audit_seg *consuming(audit_part *p, int64_t seq, int64_t start, int64_t zx)
{
    audit_seg *s = audit_add_seg(p);
    segmeta *m = &s->m;
    snprintf(m->segment, sizeof m->segment, "ev__%d__%lld__20240101T0000Z", (int)p->partition,
             (long long)seq);
    m->partition = p->partition;
    m->sequence = seq;
    m->status = SEGMETA_IN_PROGRESS;
    m->start_offset = start;
    m->end_offset = m->num_rows = -1;
    m->creation_time_ms = NOW - MIN;
    m->flush_time_ms = 5 * MIN;
    s->has_stat = true;
    s->czxid = s->mzxid = zx;
    return s;
}

/* ev/0: 0 [0,100) 1 [100,250) 2 consuming at 250; Kafka [0, 300) */
static void clean(audit_model *m)
{
    memset(m, 0, sizeof *m);
    m->cluster = true;
    m->now_ms = NOW;
    m->commit_budget_ms = 2 * MIN;
    audit_table *t = audit_add_table(m, "ev");
    audit_part *p = audit_add_part(t, 0);
    done(p, 0, 0, 100, 0x11);
    done(p, 1, 100, 250, 0x12);
    consuming(p, 2, 250, 0x12);
    p->segs[1].czxid = 0x11;
    p->kafka_known = true;
    p->low = 0;
    p->high = 300;
    p->consuming_on = 3;
    p->consuming_live = 3;
}

static audit_part *P0(audit_model *m)
{
    return &m->tables[0].parts[0];
}

/* Exactly one violation of inv whose evidence contains `what`. */
static void expect_one(const audit_model *m, audit_inv inv, const char *what)
{
    audit_report r;
    audit_check(m, &r);
    for (size_t i = 0; i < r.nviolations; i++)
        print_message("  I%d %s: %s\n", (int)r.violations[i].inv, r.violations[i].segment,
                      r.violations[i].why);
    assert_int_equal(r.nviolations, 1);
    assert_int_equal(r.violations[0].inv, inv);
    assert_string_equal(r.violations[0].table, "ev");
    assert_int_equal(r.violations[0].partition, 0);
    if (!strstr(r.violations[0].why, what))
        fail_msg("evidence '%s' lacks '%s'", r.violations[0].why, what);
    audit_report_free(&r);
}

static void test_clean_history_passes(void **state)
{
    (void)state;
    audit_model m;
    clean(&m);
    audit_report r;
    audit_check(&m, &r);
    assert_int_equal(r.nviolations, 0);
    assert_int_equal(r.nunverified, 0);
    for (int i = AUDIT_I1; i < AUDIT_INV__END; i++)
        assert_true(r.checked[i] > 0);
    assert_int_equal(r.segments, 3);
    jsonw w;
    jsonw_init(&w);
    audit_report_json(&r, &w);
    jsonw_text(&w, "", 1);
    assert_non_null(strstr(w.buf, "\"verdict\":\"ok\""));
    assert_non_null(strstr(w.buf, "\"I3\":{\"name\":\"replica equality\",\"checked\":6"));
    jsonw_free(&w);
    audit_report_free(&r);
    audit_model_free(&m);
}

static void test_I1_gap_overlap_hole_corrupt(void **state)
{
    (void)state;
    audit_model m;
    clean(&m);
    P0(&m)->segs[1].m.start_offset = 104; /* 4 offsets never committed */
    P0(&m)->segs[1].m.num_rows = 146;
    expect_one(&m, AUDIT_I1, "a gap of 4 offsets");
    P0(&m)->segs[1].m.start_offset = 90;
    expect_one(&m, AUDIT_I1, "an overlap of 10 offsets");
    audit_model_free(&m);
    clean(&m);
    P0(&m)->segs[1].m.sequence = 5; /* 1..4 lost */
    P0(&m)->segs[2].m.sequence = 6;
    expect_one(&m, AUDIT_I1, "a segment is missing");
    audit_model_free(&m);
    clean(&m);
    P0(&m)->segs[1].record_bad = true;
    snprintf(P0(&m)->segs[1].record_why, AUDIT_WHY_MAX, "bad protobuf");
    audit_model_sort(&m);
    audit_report r;
    audit_check(&m, &r);
    bool named = false;
    for (size_t i = 0; i < r.nviolations; i++)
        named |= r.violations[i].inv == AUDIT_I1 && strstr(r.violations[i].why, "unreadable");
    assert_true(named);
    audit_report_free(&r);
    audit_model_free(&m);
}

static void test_I1_abandoned_segment_is_not_a_gap(void **state)
{
    (void)state;
    audit_model m;
    clean(&m);
    /* repair: sequence 2 abandoned IN_PROGRESS at 250, sequence 3 consumes from 250 */
    audit_part *p = P0(&m);
    consuming(p, 3, 250, 0x13);
    p->segs[2].m.creation_time_ms = NOW - 30 * MIN;
    audit_report r;
    audit_check(&m, &r);
    assert_int_equal(r.nviolations, 0);
    audit_report_free(&r);
    audit_model_free(&m);
}

static void test_I2_rows_kafka_deep(void **state)
{
    (void)state;
    audit_model m;
    clean(&m);
    P0(&m)->segs[0].m.num_rows = 101;
    expect_one(&m, AUDIT_I2, "101 rows in 100 offsets");
    P0(&m)->segs[0].m.num_rows = 100;
    P0(&m)->high = 200; /* committed past the partition's end */
    expect_one(&m, AUDIT_I2, "ends at 200");
    P0(&m)->high = 300;
    P0(&m)->segs[1].deep = AUDIT_BAD;
    snprintf(P0(&m)->segs[1].deep_why, AUDIT_WHY_MAX, "row 7 (offset 107) differs");
    expect_one(&m, AUDIT_I2, "offset 107");
    /* deleted by retention: unverified, not a violation, not a pass */
    P0(&m)->segs[1].deep = AUDIT_UNKNOWN;
    snprintf(P0(&m)->segs[1].deep_why, AUDIT_WHY_MAX, "offsets below 180 deleted");
    audit_report r;
    audit_check(&m, &r);
    assert_int_equal(r.nviolations, 0);
    assert_int_equal(r.nunverified, 1);
    assert_int_equal(r.unverified[0].inv, AUDIT_I2);
    audit_report_free(&r);
    audit_model_free(&m);
}

static void test_I3_divergent_rotten_missing(void **state)
{
    (void)state;
    audit_model m;
    clean(&m);
    P0(&m)->segs[1].copies[2].crc = 77;
    expect_one(&m, AUDIT_I3, "crc 77 where 1001 was committed");
    P0(&m)->segs[1].copies[2].crc = 1001;
    P0(&m)->segs[0].copies[1].valid = false;
    snprintf(P0(&m)->segs[0].copies[1].why, AUDIT_WHY_MAX, "checksum mismatch");
    expect_one(&m, AUDIT_I3, "fails verification: checksum mismatch");
    P0(&m)->segs[0].copies[1].valid = true;
    P0(&m)->segs[0].copies[0].present = false;
    expect_one(&m, AUDIT_I3, "records ONLINE but holds no file");
    P0(&m)->segs[0].copies[0].recorded_online = false; /* not there yet, and says so: fine */
    audit_report r;
    audit_check(&m, &r);
    assert_int_equal(r.nviolations, 0);
    audit_report_free(&r);
    P0(&m)->segs[0].copies[0].reachable = false; /* down: unverified */
    audit_check(&m, &r);
    assert_int_equal(r.nviolations, 0);
    assert_int_equal(r.nunverified, 1);
    assert_string_equal(r.unverified[0].instance, "s1");
    audit_report_free(&r);
    audit_model_free(&m);
}

static void test_I4_rewritten_record_and_no_committer(void **state)
{
    (void)state;
    audit_model m;
    clean(&m);
    P0(&m)->segs[0].mzxid = 0x40; /* written again after the commit (a second commit) */
    expect_one(&m, AUDIT_I4, "changed after its commit");
    P0(&m)->segs[0].mzxid = 0x11;
    P0(&m)->segs[1].m.committer[0] = '\0';
    expect_one(&m, AUDIT_I4, "without a committer");
    audit_model_free(&m);
}

static void test_I5_stuck_unassigned_dead(void **state)
{
    (void)state;
    audit_model m;
    clean(&m);
    P0(&m)->segs[2].m.creation_time_ms = NOW - 8 * MIN; /* 5 min threshold + 2 min budget */
    expect_one(&m, AUDIT_I5, "consuming for 480 s with 50 messages waiting");
    P0(&m)->high = 250; /* nothing to consume: an empty segment may wait */
    audit_report r;
    audit_check(&m, &r);
    assert_int_equal(r.nviolations, 0);
    audit_report_free(&r);
    P0(&m)->high = 300;
    P0(&m)->segs[2].m.creation_time_ms = NOW;
    P0(&m)->consuming_live = 0;
    expect_one(&m, AUDIT_I5, "is registered");
    P0(&m)->consuming_on = 0;
    expect_one(&m, AUDIT_I5, "no instance is assigned");
    P0(&m)->consuming_on = P0(&m)->consuming_live = 3;
    P0(&m)->nsegs = 2; /* the consuming record is gone */
    expect_one(&m, AUDIT_I5, "no consuming segment");
    /* paused by the operator, or being bootstrapped: no progress expected, said so */
    for (int k = 0; k < 2; k++) {
        m.tables[0].paused_ms = k == 0 ? NOW : 0;
        m.tables[0].bootstrap_ms = k == 1 ? NOW : 0;
        audit_check(&m, &r);
        assert_int_equal(r.nviolations, 0);
        assert_int_equal(r.nunverified, 1);
        assert_int_equal(r.unverified[0].inv, AUDIT_I5);
        assert_non_null(strstr(r.unverified[0].why, k == 0 ? "paused" : "bootstrapped"));
        audit_report_free(&r);
    }
    m.tables[0].bootstrap_ms = 0;
    P0(&m)->nsegs = 3;
    audit_model_free(&m);
}

static void test_I6_store_and_peers(void **state)
{
    (void)state;
    audit_model m;
    clean(&m);
    audit_seg *s = &P0(&m)->segs[0];
    s->store = AUDIT_BAD;
    snprintf(s->store_why, AUDIT_WHY_MAX, "copy has crc 5");
    audit_report r;
    audit_check(&m, &r); /* peers still hold it: durable, the store's copy noted */
    assert_int_equal(r.nviolations, 0);
    assert_int_equal(r.nunverified, 1);
    assert_int_equal(r.unverified[0].inv, AUDIT_I6);
    audit_report_free(&r);
    for (size_t k = 0; k < s->ncopies; k++) {
        s->copies[k].present = false;
        s->copies[k].recorded_online = false;
    }
    expect_one(&m, AUDIT_I6, "no readable copy: the store's copy has crc 5");
    audit_model_free(&m);
}

static void test_standalone_files(void **state)
{
    (void)state;
    audit_model m;
    clean(&m);
    m.cluster = false; /* no replicas, no committer records, no liveness */
    audit_part *p = P0(&m);
    p->nsegs = 2;
    p->segs[1].m.committer[0] = '\0';
    p->segs[1].copies[0].crc = 3;
    audit_report r;
    audit_check(&m, &r);
    assert_int_equal(r.nviolations, 0);
    assert_int_equal(r.checked[AUDIT_I3] + r.checked[AUDIT_I4] + r.checked[AUDIT_I5], 0);
    audit_report_free(&r);
    p->segs[0].store = AUDIT_BAD;
    snprintf(p->segs[0].store_why, AUDIT_WHY_MAX, "fails verification: truncated");
    expect_one(&m, AUDIT_I6, "the file fails verification: truncated");
    audit_model_free(&m);
}

static void test_text_report(void **state)
{
    (void)state;
    audit_model m;
    clean(&m);
    P0(&m)->segs[1].copies[2].crc = 77;
    audit_report r;
    audit_check(&m, &r);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    audit_report_text(&r, f);
    fclose(f);
    assert_non_null(strstr(buf, "I3 replica equality"));
    assert_non_null(strstr(buf, "VIOLATION I3 table=ev partition=0 "
                                "segment=ev__0__1__20240101T0000Z instance=s3: the replica's "
                                "file has crc 77"));
    assert_non_null(strstr(buf, "verdict: VIOLATIONS (1 violations, 0 unverified)"));
    free(buf);
    audit_report_free(&r);
    audit_model_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_history_passes),
        cmocka_unit_test(test_I1_gap_overlap_hole_corrupt),
        cmocka_unit_test(test_I1_abandoned_segment_is_not_a_gap),
        cmocka_unit_test(test_I2_rows_kafka_deep),
        cmocka_unit_test(test_I3_divergent_rotten_missing),
        cmocka_unit_test(test_I4_rewritten_record_and_no_committer),
        cmocka_unit_test(test_I5_stuck_unassigned_dead),
        cmocka_unit_test(test_I6_store_and_peers),
        cmocka_unit_test(test_standalone_files),
        cmocka_unit_test(test_text_report),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
