/* Segment downloads against a real HTTP server on loopback (common/httpd): the committed bytes
 * are published; another CRC, a flipped byte, a cut file, a 404 and an unreachable server are
 * refused with their own error and leave neither the segment nor a download file behind; a
 * vanished table directory is a local I/O error; threads fetching the same segment at once
 * each publish the whole file. The segment served is built by the engine from rows. */
#include "common/diskstate.h"
#include "common/fsutil.h"
#include "common/httpc.h"
#include "common/httpd.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/schema.h"
#include "common/sl_err.h"
#include "common/table_config.h"
#include "completion/segfetch.h"
#include "consumer/engine.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char schema_json[] =
    "{\"schemaName\":\"ev\",\"dimensionFieldSpecs\":[{\"name\":\"n\",\"dataType\":\"LONG\"}]}";
static const char table_json[] =
    "{\"tableName\":\"ev\",\"tableType\":\"REALTIME\",\"segmentsConfig\":{\"replication\":\"1\"},"
    "\"tableIndexConfig\":{\"streamConfigs\":{\"streamType\":\"kafka\","
    "\"stream.kafka.topic.name\":\"ev\",\"stream.kafka.broker.list\":\"127.0.0.1:1\"}}}";
#define SEG "ev__0__0__20240101T0000Z"

static uint8_t *G_bytes; /* the committed segment */
static size_t G_len;
static uint32_t G_crc;

static void h_seg(httpd_req *req, httpd_resp *resp, void *ctx)
{
    (void)ctx;
    const char *kind = httpd_req_param(req, "kind");
    if (strcmp(kind, "good") == 0) {
        httpd_resp_body(resp, 200, "application/octet-stream", G_bytes, G_len, HTTPD_STATIC);
    } else if (strcmp(kind, "flip") == 0 || strcmp(kind, "cut") == 0) {
        uint8_t *b = malloc(G_len);
        memcpy(b, G_bytes, G_len);
        size_t len = G_len;
        if (kind[0] == 'f') b[G_len / 2] ^= 0x10;
        else len = G_len - 7;
        httpd_resp_body(resp, 200, "application/octet-stream", b, len, HTTPD_TAKE);
    } else {
        httpd_resp_text(resp, 404, "no such segment\n");
    }
}

static const httpd_route routes[] = {{"GET", "/s/{kind}", h_seg, 0, 0, NULL, HTTPD_PUBLIC}};

typedef struct fx {
    char tmp[128], dir[192];
    schema *s;
    tcfg *t;
    metrics_registry *m;
    diskstate *disk;
    sl_log_limit *lim;
    engine *e;
    engine_table *et;
    httpd *srv;
    httpc *h;
    char base[64];
} fx;

static cpool_full_action pol_full(void *ctx, cpool_worker *w, engine_part *ep)
{
    (void)ctx, (void)w, (void)ep;
    return CPOOL_HOLD;
}

static const char *pol_state(void *ctx, const engine_part *ep, bool *error)
{
    (void)ctx, (void)ep;
    *error = false;
    return "X";
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    snprintf(f->tmp, sizeof f->tmp, "/tmp/test_segfetch.%d", (int)getpid());
    snprintf(f->dir, sizeof f->dir, "%s/data", f->tmp);
    char err[512];
    f->s = schema_parse(schema_json, strlen(schema_json), "s.json", err, sizeof err);
    f->t = tcfg_parse(table_json, strlen(table_json), "t.json", f->s, err, sizeof err);
    if (!f->t) fail_msg("%s", err);
    f->m = metrics_new();
    f->disk = diskstate_new(NULL);
    f->lim = sl_log_limit_new(0);
    engine_policy pol = {.on_full = pol_full, .state = pol_state};
    engine_opts o = {.data_dir = f->dir, .workers = 1, .metrics = f->m, .disk = f->disk};
    f->e = engine_new(&o, &pol, err, sizeof err);
    f->et = engine_table_add(f->e, f->s, f->t, false, NULL, err, sizeof err);
    assert_non_null(f->et);
    if (!G_bytes) { /* build the committed segment once, from rows */
        engine_part *ep = engine_part_add(f->e, f->et, 0, 1);
        pcons_limits lim = {.rows = 50, .end_offset = -1};
        pcons *p = engine_part_pcons(ep);
        pcons_start_segment(p, 0, SEG, 0, 1000, &lim);
        for (int i = 0; i < 50; i++) {
            char msg[64];
            int n = snprintf(msg, sizeof msg, "{\"n\":%d}", i * i);
            pcons_on_message(p, i, (const uint8_t *)msg, (size_t)n);
        }
        engine_built b;
        assert_int_equal(engine_build(f->e, ep, ".src", &b), 0);
        assert_int_equal(fsutil_read_file(b.path, &G_bytes, &G_len, err, sizeof err), 0);
        G_crc = b.crc;
        unlink(b.path);
    }
    f->srv = httpd_start("127.0.0.1", 0, routes, 1, NULL, NULL, err, sizeof err);
    assert_non_null(f->srv);
    snprintf(f->base, sizeof f->base, "http://127.0.0.1:%u/s", (unsigned)httpd_port(f->srv));
    f->h = httpc_new();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    httpc_free(f->h);
    httpd_stop(f->srv);
    engine_free(f->e);
    tcfg_free(f->t);
    schema_free(f->s);
    sl_log_limit_free(f->lim);
    diskstate_free(f->disk);
    metrics_free(f->m);
    fsutil_fault_configure(NULL, -1, 0);
    assert_int_equal(fsutil_remove_tree(f->tmp, NULL, 0), 0);
    free(f);
    return 0;
}

static bool have(const fx *f, const char *suffix)
{
    char p[PATH_MAX];
    struct stat st;
    assert_true(engine_seg_path(f->et, SEG, suffix, p));
    return stat(p, &st) == 0;
}

/* Files in the table directory other than the published segment (download files left). */
static int leftovers(const fx *f)
{
    char p[PATH_MAX];
    assert_true(engine_seg_path(f->et, SEG, "", p));
    *strrchr(p, '/') = '\0';
    DIR *d = opendir(p);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *de; (de = readdir(d));)
        if (de->d_name[0] != '.' && strcmp(de->d_name, SEG ".seg") != 0) n++;
    closedir(d);
    return n;
}

static int fetch(fx *f, const char *kind, uint32_t crc)
{
    char url[128];
    snprintf(url, sizeof url, "%s/%s", f->base, kind);
    return segfetch_url(f->h, f->et, SEG, url, crc, "", f->disk, f->lim);
}

static void test_committed_bytes_published(void **state)
{
    fx *f = *state;
    assert_int_equal(fetch(f, "good", G_crc), 0);
    assert_true(have(f, ""));
    assert_int_equal(leftovers(f), 0);
    char p[PATH_MAX];
    engine_seg_path(f->et, SEG, "", p);
    uint32_t crc = 0;
    assert_int_equal(segfetch_file_crc(p, &crc), 0);
    assert_int_equal(crc, G_crc);
    uint8_t *b;
    size_t len;
    char err[256];
    assert_int_equal(fsutil_read_file(p, &b, &len, err, sizeof err), 0);
    assert_int_equal(len, G_len);
    assert_memory_equal(b, G_bytes, len);
    free(b);
    assert_int_equal(diskstate_get(f->disk), DISKSTATE_OK);
}

static void test_refusals_leave_nothing(void **state)
{
    fx *f = *state;
    assert_int_equal(fetch(f, "good", G_crc + 1), SL_ECORRUPT); /* another CRC was committed */
    assert_false(have(f, ""));
    assert_int_equal(leftovers(f), 0);
    assert_int_not_equal(fetch(f, "flip", G_crc), 0);
    assert_false(have(f, ""));
    assert_int_not_equal(fetch(f, "cut", G_crc), 0);
    assert_false(have(f, ""));
    assert_int_equal(fetch(f, "missing", G_crc), SL_ENOENT);
    assert_false(have(f, ""));
    assert_int_equal(leftovers(f), 0);
    int rc =
        segfetch_url(f->h, f->et, SEG, "http://127.0.0.1:1/s/good", G_crc, "", f->disk, f->lim);
    assert_int_not_equal(rc, 0);
    assert_false(sl_err_is_disk(rc)); /* the network, not the disk */
    assert_false(have(f, ""));
    assert_int_equal(diskstate_get(f->disk), DISKSTATE_OK);
    char p[PATH_MAX];
    engine_seg_path(f->et, SEG, "", p);
    uint32_t crc;
    assert_int_not_equal(segfetch_file_crc(p, &crc), 0); /* missing */
}

/* A replacement's segmentsTo is held back: published as <seg>.seg.staged, never as the served
 * file, and a bad one leaves neither. */
static void test_staged(void **state)
{
    fx *f = *state;
    char url[128], p[PATH_MAX];
    snprintf(url, sizeof url, "%s/good", f->base);
    assert_int_equal(segfetch_url(f->h, f->et, SEG, url, G_crc + 1, ".staged", f->disk, f->lim),
                     SL_ECORRUPT);
    assert_true(engine_seg_path(f->et, SEG, ".staged", p));
    assert_int_not_equal(access(p, F_OK), 0);
    assert_int_equal(segfetch_url(f->h, f->et, SEG, url, G_crc, ".staged", f->disk, f->lim), 0);
    assert_false(have(f, "")); /* not served */
    uint32_t crc = 0;
    assert_int_equal(segfetch_file_crc(p, &crc), 0);
    assert_int_equal(crc, G_crc);
    assert_int_equal(leftovers(f), 1); /* the staged file alone: no download temporaries */
}

typedef struct racer {
    fx *f;
    int failures;
} racer;

static void *race_main(void *arg)
{
    racer *r = arg;
    httpc *h = httpc_new();
    char url[128];
    snprintf(url, sizeof url, "%s/good", r->f->base);
    for (int i = 0; i < 25; i++)
        if (segfetch_url(h, r->f->et, SEG, url, G_crc, "", r->f->disk, r->f->lim) != 0)
            r->failures++;
    httpc_free(h);
    return NULL;
}

/* A KEEP healing a divergence and the reconcile finding the file missing download the same
 * segment at once: neither may truncate the file the other is verifying (that was a SIGBUS),
 * and every fetch publishes the whole committed file. */
static void test_concurrent_fetches(void **state)
{
    fx *f = *state;
    enum { N = 4 };
    pthread_t t[N];
    racer r[N];
    for (int i = 0; i < N; i++) {
        r[i] = (racer){.f = f};
        assert_int_equal(pthread_create(&t[i], NULL, race_main, &r[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(r[i].failures, 0);
    }
    assert_int_equal(leftovers(f), 0);
    char p[PATH_MAX], err[256];
    engine_seg_path(f->et, SEG, "", p);
    uint8_t *b;
    size_t len;
    assert_int_equal(fsutil_read_file(p, &b, &len, err, sizeof err), 0);
    assert_int_equal(len, G_len);
    assert_memory_equal(b, G_bytes, len);
    free(b);
}

static void test_table_dir_gone(void **state)
{
    fx *f = *state;
    char ev[256];
    snprintf(ev, sizeof ev, "%s/ev", f->dir);
    assert_int_equal(fsutil_remove_tree(ev, NULL, 0), 0);
    /* the directory the engine made is gone: a local I/O error, not a missing segment (which
     * would send the caller to the next source) */
    assert_int_equal(fetch(f, "good", G_crc), SL_EIO);
    assert_false(have(f, ""));
}

int main(void)
{
    sl_log_threshold = SL_LOG_ERROR;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_committed_bytes_published, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals_leave_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_staged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_fetches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_table_dir_gone, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    free(G_bytes);
    return rc;
}
