/* The sidecar engine without a broker: table directories (created, cleared of temporaries),
 * segment paths (unknown table, bad names), the build of a partition's segment and its
 * publication (read back row by row, counted in the metrics), a full disk (reported, then
 * cleared), the health listing with a policy's states and fields, and ownership of borrowed
 * and owned tables (ASan/LSan check the frees). The pools point at a closed loopback port:
 * nothing here needs Kafka, partitions are fed through their pcons directly. */
#include "common/diskstate.h"
#include "common/fsutil.h"
#include "common/jsonw.h"
#include "common/metrics.h"
#include "common/schema.h"
#include "common/sl_err.h"
#include "common/table_config.h"
#include "consumer/engine.h"
#include "segment/seg_reader.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char schema_json[] =
    "{\"schemaName\":\"ev\",\"dimensionFieldSpecs\":["
    "{\"name\":\"user\",\"dataType\":\"STRING\"},{\"name\":\"n\",\"dataType\":\"LONG\"}],"
    "\"dateTimeFieldSpecs\":[{\"name\":\"ts\",\"dataType\":\"LONG\","
    "\"format\":\"1:MILLISECONDS:EPOCH\",\"granularity\":\"1:MILLISECONDS\"}]}";

static const char table_json[] =
    "{\"tableName\":\"ev_REALTIME\",\"tableType\":\"REALTIME\",\"segmentsConfig\":"
    "{\"timeColumnName\":\"ts\",\"replication\":\"1\"},\"tableIndexConfig\":{\"streamConfigs\":"
    "{\"streamType\":\"kafka\",\"stream.kafka.topic.name\":\"ev\","
    "\"stream.kafka.broker.list\":\"127.0.0.1:1\"}}}";

typedef struct fx {
    char dir[256]; /* the data dir: <tmp>/a/data (not created yet) */
    char tmp[128];
    schema *s;
    tcfg *t;
    metrics_registry *m;
    diskstate *disk;
    engine *e;
    int errors_for; /* partition the policy reports in error (-1: none) */
} fx;

static cpool_full_action pol_full(void *ctx, cpool_worker *w, engine_part *ep)
{
    (void)ctx, (void)w, (void)ep;
    return CPOOL_HOLD;
}

static const char *pol_state(void *ctx, const engine_part *ep, bool *error)
{
    fx *f = ctx;
    *error = engine_part_partition(ep) == f->errors_for;
    return *error ? "BROKEN" : "FINE";
}

static void pol_fields(void *ctx, const engine_part *ep, jsonw *w)
{
    (void)ctx;
    jsonw_key(w, "extra");
    jsonw_i64(w, *(const int *)engine_part_ctx(ep));
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    snprintf(f->tmp, sizeof f->tmp, "/tmp/test_engine.%d", (int)getpid());
    snprintf(f->dir, sizeof f->dir, "%s/a/data", f->tmp); /* nested: created on demand */
    char err[512];
    f->s = schema_parse(schema_json, strlen(schema_json), "s.json", err, sizeof err);
    assert_non_null(f->s);
    f->t = tcfg_parse(table_json, strlen(table_json), "t.json", f->s, err, sizeof err);
    if (!f->t) fail_msg("%s", err);
    f->m = metrics_new();
    f->disk = diskstate_new(NULL);
    f->errors_for = -1;
    engine_policy pol = {.ctx = f, .on_full = pol_full, .state = pol_state,
                         .health_fields = pol_fields};
    engine_opts o = {.data_dir = f->dir, .workers = 1, .metrics = f->m, .disk = f->disk,
                     .log_tag = "test"};
    f->e = engine_new(&o, &pol, err, sizeof err);
    assert_non_null(f->e);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    engine_free(f->e);
    tcfg_free(f->t);
    schema_free(f->s);
    diskstate_free(f->disk);
    metrics_free(f->m);
    assert_int_equal(fsutil_remove_tree(f->tmp, NULL, 0), 0);
    fsutil_fault_configure(NULL, -1, 0);
    free(f);
    return 0;
}

static bool exists(const char *dir, const char *name)
{
    char p[PATH_MAX + 300];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &st) == 0;
}

static void touch(const char *dir, const char *name)
{
    char p[PATH_MAX + 300];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *fp = fopen(p, "w");
    assert_non_null(fp);
    fputs("x", fp);
    fclose(fp);
}

static engine_table *add_table(fx *f)
{
    char err[512] = "";
    engine_table *t = engine_table_add(f->e, f->s, f->t, false, NULL, err, sizeof err);
    if (!t) fail_msg("engine_table_add: %s", err);
    return t;
}

/* A partition of t with segment seq 0 at offset 100 and `rows` rows fed, FULL at `rows`. */
static engine_part *fed_part(fx *f, engine_table *t, int32_t partition, int rows)
{
    engine_part *ep = engine_part_add(f->e, t, partition, sizeof(int));
    *(int *)engine_part_ctx(ep) = 40 + partition;
    char name[64];
    snprintf(name, sizeof name, "ev__%d__0__20240101T0000Z", (int)partition);
    pcons_limits lim = {.rows = (uint64_t)rows, .end_offset = -1};
    pcons *p = engine_part_pcons(ep);
    pcons_start_segment(p, 0, name, 100, 1000, &lim);
    for (int i = 0; i < rows; i++) {
        char msg[128];
        int n = snprintf(msg, sizeof msg, "{\"user\":\"u%d\",\"n\":%d,\"ts\":%d}", i % 3, i * 7,
                         1000 + i);
        pcons_on_message(p, 100 + i, (const uint8_t *)msg, (size_t)n);
    }
    assert_int_equal(pcons_get_state(p), rows ? PCONS_FULL : PCONS_CONSUMING);
    return ep;
}

static void test_table_dir_created_and_cleaned(void **state)
{
    fx *f = *state;
    /* a crash left temporaries of every kind beside a published file and the quarantine */
    char tdir[PATH_MAX + 8];
    snprintf(tdir, sizeof tdir, "%s/ev", f->dir);
    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, "mkdir -p %s/quarantine", tdir);
    assert_int_equal(system(cmd), 0);
    const char *junk[] = {"ev__0__1__20240101T0000Z.seg.tmp.a1b2",
                          "ev__0__1__20240101T0000Z.seg.build",
                          "ev__0__1__20240101T0000Z.seg.build.tmp.x9",
                          "ev__0__1__20240101T0000Z.seg.download"};
    for (size_t i = 0; i < 4; i++) touch(tdir, junk[i]);
    touch(tdir, "ev__0__0__20240101T0000Z.seg");
    engine_table *t = add_table(f);
    assert_string_equal(engine_table_dir(t), tdir);
    assert_string_equal(engine_table_name(t), "ev");
    for (size_t i = 0; i < 4; i++) assert_false(exists(tdir, junk[i]));
    assert_true(exists(tdir, "ev__0__0__20240101T0000Z.seg"));
    assert_true(exists(tdir, "quarantine"));
    assert_ptr_equal(engine_table_find(f->e, "ev"), t);
    assert_null(engine_table_find(f->e, "other"));
}

static void test_table_dir_unusable(void **state)
{
    fx *f = *state;
    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, "mkdir -p %s/a && touch %s", f->tmp, f->dir); /* a file */
    assert_int_equal(system(cmd), 0);
    char err[512] = "";
    /* owned: freed by the engine although the table is refused (LSan checks) */
    char e2[256];
    schema *s = schema_parse(schema_json, strlen(schema_json), "s.json", e2, sizeof e2);
    tcfg *t = tcfg_parse(table_json, strlen(table_json), "t.json", s, e2, sizeof e2);
    assert_null(engine_table_add(f->e, s, t, true, NULL, err, sizeof err));
    assert_non_null(strstr(err, "data.dir: cannot create"));
    assert_null(engine_table_find(f->e, "ev"));
}

static void test_segment_paths(void **state)
{
    fx *f = *state;
    char buf[PATH_MAX];
    assert_int_equal(engine_segment_path(f->e, "ev", "ev__0__0__20240101T0000Z", buf, sizeof buf),
                     SL_ENOENT); /* no table yet */
    engine_table *t = add_table(f);
    assert_int_equal(engine_segment_path(f->e, "ev", "ev__0__0__20240101T0000Z", buf, sizeof buf),
                     0);
    char want[PATH_MAX + 64];
    snprintf(want, sizeof want, "%s/ev/ev__0__0__20240101T0000Z.seg", f->dir);
    assert_string_equal(buf, want);
    assert_int_equal(engine_segment_path(f->e, "ev", "../../etc/passwd", buf, sizeof buf),
                     SL_EINVAL);
    assert_int_equal(engine_segment_path(f->e, "ev", "xx__0__0__20240101T0000Z", buf, sizeof buf),
                     SL_EINVAL); /* another table's name */
    assert_int_equal(engine_segment_path(f->e, "ev", "ev__0__0__20240101T0000Z", buf, 8),
                     SL_EINVAL); /* does not fit */
    assert_int_equal(engine_segment_path(f->e, "zz", "zz__0__0__20240101T0000Z", buf, sizeof buf),
                     SL_ENOENT);
    char p[PATH_MAX];
    assert_true(engine_seg_path(t, "s", ".build", p));
    snprintf(want, sizeof want, "%s/ev/s.seg.build", f->dir);
    assert_string_equal(p, want);
}

static void test_build_and_publish(void **state)
{
    fx *f = *state;
    engine_table *t = add_table(f);
    engine_part *ep = fed_part(f, t, 2, 5);
    assert_ptr_equal(engine_part_find(f->e, t, 2), ep);
    assert_null(engine_part_find(f->e, t, 3));
    engine_built b;
    assert_int_equal(engine_build(f->e, ep, ".build", &b), 0);
    assert_int_equal(b.rows, 5);
    assert_true(exists(engine_table_dir(t), "ev__2__0__20240101T0000Z.seg.build"));
    assert_false(exists(engine_table_dir(t), "ev__2__0__20240101T0000Z.seg"));
    assert_int_equal(engine_publish(t, "ev__2__0__20240101T0000Z", b.path), 0);
    assert_false(exists(engine_table_dir(t), "ev__2__0__20240101T0000Z.seg.build"));
    char path[PATH_MAX];
    assert_int_equal(engine_segment_path(f->e, "ev", "ev__2__0__20240101T0000Z", path, sizeof path),
                     0);
    int e = 0;
    char msg[256];
    seg_reader *r = seg_reader_open(path, &e, msg, sizeof msg);
    if (!r) fail_msg("%s", msg);
    assert_int_equal(seg_reader_crc(r), b.crc);
    assert_int_equal(seg_reader_size(r), b.size);
    assert_int_equal(seg_reader_rows(r), 5);
    assert_int_equal(seg_reader_partition(r), 2);
    assert_int_equal(seg_reader_start_offset(r), 100);
    assert_int_equal(seg_reader_end_offset(r), 105);
    int64_t lo, hi;
    assert_true(seg_reader_time_range(r, &lo, &hi));
    assert_int_equal(lo, 1000);
    assert_int_equal(hi, 1004);
    int cu = seg_reader_find_col(r, "user"), cn = seg_reader_find_col(r, "n");
    for (uint64_t i = 0; i < 5; i++) { /* the rows themselves, not only a CRC */
        schema_value v;
        char want[8];
        snprintf(want, sizeof want, "u%d", (int)(i % 3));
        assert_int_equal(seg_reader_value(r, (uint32_t)cu, i, &v), 0);
        assert_int_equal(v.u.bytes.len, strlen(want));
        assert_memory_equal(v.u.bytes.ptr, want, v.u.bytes.len);
        assert_int_equal(seg_reader_value(r, (uint32_t)cn, i, &v), 0);
        assert_int_equal(v.u.i64, (int64_t)i * 7);
    }
    seg_reader_close(r);
    size_t len;
    char *text = metrics_render(f->m, &len);
    assert_non_null(strstr(text, "sluice_segments_built_total{table=\"ev\",partition=\"2\"} 1"));
    free(text);
    /* a missing source is an error, not a crash */
    assert_int_not_equal(engine_publish(t, "ev__2__0__20240101T0000Z", b.path), 0);
}

static void test_build_on_full_disk(void **state)
{
    fx *f = *state;
    engine_table *t = add_table(f);
    engine_part *ep = fed_part(f, t, 0, 3);
    char full[256];
    snprintf(full, sizeof full, "%s/full", f->tmp);
    touch(f->tmp, "full");
    fsutil_fault_configure(full, -1, 0);
    engine_built b;
    assert_int_equal(engine_build(f->e, ep, "", &b), SL_ENOSPACE);
    assert_int_equal(diskstate_get(f->disk), DISKSTATE_FULL);
    assert_false(exists(engine_table_dir(t), "ev__0__0__20240101T0000Z.seg"));
    size_t len;
    char *text = metrics_render(f->m, &len);
    assert_non_null(
        strstr(text, "sluice_segment_build_failures_total{table=\"ev\",partition=\"0\"} 1"));
    free(text);
    unlink(full); /* room again: the same rows build, the state clears */
    assert_int_equal(engine_build(f->e, ep, "", &b), 0);
    assert_int_equal(diskstate_get(f->disk), DISKSTATE_OK);
    assert_true(exists(engine_table_dir(t), "ev__0__0__20240101T0000Z.seg"));
}

static void test_health(void **state)
{
    fx *f = *state;
    engine_table *t = add_table(f);
    fed_part(f, t, 0, 2);
    fed_part(f, t, 1, 0);
    f->errors_for = 1;
    jsonw w;
    jsonw_init(&w);
    assert_int_equal(engine_health(f->e, &w), 1);
    jsonw_text(&w, "", 1);
    assert_non_null(strstr(w.buf, "{\"table\":\"ev\",\"partition\":0,\"state\":\"FINE\","
                                  "\"nextOffset\":102,\"highWatermark\":"));
    assert_non_null(strstr(w.buf, "\"consumingRows\":2,\"extra\":40}"));
    assert_non_null(strstr(w.buf, "\"partition\":1,\"state\":\"BROKEN\",\"nextOffset\":100"));
    assert_non_null(strstr(w.buf, "\"consumingRows\":0,\"extra\":41}"));
    jsonw_free(&w);
    f->errors_for = -1;
    jsonw_init(&w);
    assert_int_equal(engine_health(f->e, &w), 0);
    jsonw_free(&w);
}

static void test_list_files(void **state)
{
    fx *f = *state;
    jsonw w;
    jsonw_init(&w);
    assert_int_equal(engine_list_files(f->e, "ev", true, &w), SL_ENOENT);
    assert_int_equal(w.len, 0);
    engine_table *t = add_table(f);
    engine_built b1, b0;
    assert_int_equal(engine_build(f->e, fed_part(f, t, 1, 2), "", &b1), 0);
    assert_int_equal(engine_build(f->e, fed_part(f, t, 0, 3), "", &b0), 0);
    touch(engine_table_dir(t), "other__0__0__20240101T0000Z.seg"); /* not this table's */
    touch(engine_table_dir(t), "ev__0__9__20240101T0000Z.seg.build"); /* not published */
    jsonw_reset(&w);
    assert_int_equal(engine_list_files(f->e, "ev", false, &w), 0);
    jsonw_text(&w, "", 1);
    char want[512];
    snprintf(want, sizeof want,
             "[{\"segment\":\"ev__0__0__20240101T0000Z\",\"size\":%llu},"
             "{\"segment\":\"ev__1__0__20240101T0000Z\",\"size\":%llu}]",
             (unsigned long long)b0.size, (unsigned long long)b1.size);
    assert_string_equal(w.buf, want);
    /* bit rot in one file: its CRC is withheld and the reason given; the other still verifies */
    FILE *fp = fopen(b1.path, "r+b");
    assert_non_null(fp);
    fseek(fp, 40, SEEK_SET);
    int c = fgetc(fp);
    fseek(fp, 40, SEEK_SET);
    fputc(c ^ 0x01, fp);
    fclose(fp);
    jsonw_reset(&w);
    assert_int_equal(engine_list_files(f->e, "ev", true, &w), 0);
    jsonw_text(&w, "", 1);
    snprintf(want, sizeof want, "{\"segment\":\"ev__0__0__20240101T0000Z\",\"size\":%llu,\"crc\":%u}",
             (unsigned long long)b0.size, (unsigned)b0.crc);
    assert_non_null(strstr(w.buf, want));
    snprintf(want, sizeof want, "{\"segment\":\"ev__1__0__20240101T0000Z\",\"size\":%llu,\"crc\":null,\"error\":",
             (unsigned long long)b1.size);
    assert_non_null(strstr(w.buf, want));
    jsonw_free(&w);
}

typedef struct scrub_seen {
    pthread_mutex_t mu;
    char segment[128];
    int calls;
} scrub_seen;

static void pol_corrupt(void *ctx, engine_table *t, const char *segment)
{
    (void)t;
    scrub_seen *s = ctx;
    pthread_mutex_lock(&s->mu);
    snprintf(s->segment, sizeof s->segment, "%s", segment);
    s->calls++;
    pthread_mutex_unlock(&s->mu);
}

static const char *pol_state_fine(void *ctx, const engine_part *ep, bool *error)
{
    (void)ctx, (void)ep;
    *error = false;
    return "FINE";
}

/* The scrub re-verifies every published file: a flipped byte is found, counted, quarantined
 * and reported to the policy; the good file stays. */
static void test_scrub_finds_bit_rot(void **state)
{
    fx *f = *state;
    scrub_seen seen = {.mu = PTHREAD_MUTEX_INITIALIZER};
    engine_policy pol = {.ctx = &seen, .on_full = pol_full, .state = pol_state_fine,
                         .on_corrupt = pol_corrupt};
    char dir[300];
    snprintf(dir, sizeof dir, "%s/scrub", f->tmp);
    metrics_registry *m = metrics_new();
    engine_opts o = {.data_dir = dir, .workers = 1, .metrics = m, .disk = f->disk,
                     .scrub_interval_ms = 50, .scrub_rate = 1 << 30};
    char err[512];
    engine *e = engine_new(&o, &pol, err, sizeof err);
    assert_non_null(e);
    engine_table *t = engine_table_add(e, f->s, f->t, false, NULL, err, sizeof err);
    assert_non_null(t);
    engine_built good, bad;
    engine_part *p0 = engine_part_add(e, t, 0, sizeof(int));
    engine_part *p1 = engine_part_add(e, t, 1, sizeof(int));
    pcons_limits lim = {.rows = 2, .end_offset = -1};
    pcons_start_segment(engine_part_pcons(p0), 0, "ev__0__0__20240101T0000Z", 0, 0, &lim);
    pcons_start_segment(engine_part_pcons(p1), 0, "ev__1__0__20240101T0000Z", 0, 0, &lim);
    for (int i = 0; i < 2; i++) {
        const char *msg = "{\"user\":\"a\",\"n\":1,\"ts\":5}";
        pcons_on_message(engine_part_pcons(p0), i, (const uint8_t *)msg, strlen(msg));
        pcons_on_message(engine_part_pcons(p1), i, (const uint8_t *)msg, strlen(msg));
    }
    assert_int_equal(engine_build(e, p0, "", &good), 0);
    assert_int_equal(engine_build(e, p1, "", &bad), 0);
    FILE *fp = fopen(bad.path, "r+b");
    fseek(fp, 30, SEEK_SET);
    int c = fgetc(fp);
    fseek(fp, 30, SEEK_SET);
    fputc(c ^ 0x20, fp);
    fclose(fp);
    int calls = 0;
    for (int i = 0; i < 100 && !calls; i++) { /* bounded: 5 s */
        usleep(50000);
        pthread_mutex_lock(&seen.mu);
        calls = seen.calls;
        pthread_mutex_unlock(&seen.mu);
    }
    assert_int_equal(calls, 1);
    assert_string_equal(seen.segment, "ev__1__0__20240101T0000Z");
    assert_false(exists(engine_table_dir(t), "ev__1__0__20240101T0000Z.seg"));
    assert_true(exists(engine_table_dir(t), "quarantine/ev__1__0__20240101T0000Z.seg"));
    assert_true(exists(engine_table_dir(t), "ev__0__0__20240101T0000Z.seg"));
    usleep(200000); /* more passes: the good file is never touched, nothing reported twice */
    pthread_mutex_lock(&seen.mu);
    assert_int_equal(seen.calls, 1);
    pthread_mutex_unlock(&seen.mu);
    size_t len;
    char *text = metrics_render(m, &len);
    assert_non_null(strstr(text, "sluice_segments_corrupt_total{table=\"ev\"} 1"));
    assert_non_null(strstr(text, "sluice_segments_scrubbed_total{table=\"ev\"}"));
    free(text);
    engine_free(e); /* stops the scrub thread promptly */
    metrics_free(m);
}

static void test_dead_letter_unwritable(void **state)
{
    (void)state;
    engine_policy pol = {.on_full = pol_full, .state = pol_state};
    metrics_registry *m = metrics_new();
    engine_opts o = {.data_dir = "/tmp", .workers = 1, .metrics = m,
                     .dead_letter_path = "/nonexistent/dir/dlq.jsonl"};
    char err[512] = "";
    assert_null(engine_new(&o, &pol, err, sizeof err));
    assert_true(err[0] != '\0');
    metrics_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_table_dir_created_and_cleaned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_table_dir_unusable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_segment_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_build_and_publish, setup, teardown),
        cmocka_unit_test_setup_teardown(test_build_on_full_disk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_health, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scrub_finds_bit_rot, setup, teardown),
        cmocka_unit_test(test_dead_letter_unwritable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
