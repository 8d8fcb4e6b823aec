/* Segment store: upload -> pending -> promote -> download, the never-overwrite guard of Pinot
 * #14786 (a different-CRC upload after the commit stays pending and promote is a conflict),
 * rejected uploads (garbage, truncated, flipped byte, a file for another segment, over the
 * cap) leaving no file, names rejected before any path exists, unpromote, the scrub's
 * quarantine and its restore (a copy written through the upload's fd, published only with the
 * expected CRC), gc, concurrent uploads from threads, and deepstore.uri parsing. Each test gets
 * a fresh root under /tmp. */
#include "common/clock.h"
#include "common/fsutil.h"
#include "common/sl_err.h"
#include "completion/segstore.h"
#include "segment/seg_builder.h"
#include "segment/seg_reader.h"
#include "seg_test_src.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define TABLE "events"
#define SEG12 "events__3__12__20240102T0304Z"
#define SEG13 "events__3__13__20240102T0304Z"

typedef struct fx {
    char root[64];
    char tdir[128];
    segstore *s;
    uint8_t *a, *b, *c; /* SEG12, SEG12 with other offsets (another CRC), SEG13 */
    size_t alen, blen, clen;
} fx;

static uint8_t *build(const char *name, int64_t seq, int64_t start, size_t *len)
{
    ts_src *t = ts_fixture_small();
    seg_meta_in m = ts_fixture_meta;
    m.name = name;
    m.sequence = seq;
    m.start_offset = start;
    m.end_offset = start + 6;
    uint8_t *buf;
    char err[256];
    assert_int_equal(seg_build_mem(ts_view(t, "ts"), &m, &buf, len, err, sizeof err), 0);
    ts_free(t);
    return buf;
}

static uint32_t trailer(const uint8_t *b, size_t len)
{
    return (uint32_t)b[len - 4] | (uint32_t)b[len - 3] << 8 | (uint32_t)b[len - 2] << 16 |
           (uint32_t)b[len - 1] << 24;
}

static int setup(void **state)
{
    fx *f = sl_xcalloc(1, sizeof *f);
    snprintf(f->root, sizeof f->root, "/tmp/segstore-test-XXXXXX");
    assert_non_null(mkdtemp(f->root));
    snprintf(f->tdir, sizeof f->tdir, "%s/%s", f->root, TABLE);
    char err[256];
    assert_int_equal(segstore_open(f->root, NULL, &f->s, err, sizeof err), 0);
    f->a = build(SEG12, 12, 1000, &f->alen);
    f->b = build(SEG12, 12, 2000, &f->blen);
    f->c = build(SEG13, 13, 1006, &f->clen);
    assert_int_not_equal(trailer(f->a, f->alen), trailer(f->b, f->blen));
    *state = f;
    return 0;
}


static int teardown(void **state)
{
    fx *f = *state;
    segstore_close(f->s);
    fsutil_remove_tree(f->root, NULL, 0);
    free(f->a), free(f->b), free(f->c), free(f);
    return 0;
}

/* Entries of dir whose name contains sub ("" counts all); -1 when dir is missing. */
static int count(const char *dir, const char *sub)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strstr(e->d_name, sub)) n++;
    closedir(d);
    return n;
}

/* Upload buf in 100-byte chunks; returns finish's result. */
static int upload(segstore *s, const char *table, const char *seg, const uint8_t *buf,
                  size_t len, uint32_t *crc)
{
    segstore_upload *u;
    char err[256];
    int rc = segstore_upload_begin(s, table, seg, &u, err, sizeof err);
    if (rc) return rc;
    for (size_t off = 0; off < len; off += 100) {
        rc = segstore_upload_write(u, buf + off, len - off < 100 ? len - off : 100, err, sizeof err);
        if (rc) {
            segstore_upload_abort(u);
            return rc;
        }
    }
    return segstore_upload_finish(u, crc, NULL, err, sizeof err);
}

static void assert_committed(fx *f, const char *seg, const uint8_t *want, size_t wlen)
{
    int fd;
    uint64_t size;
    assert_int_equal(segstore_open_committed(f->s, TABLE, seg, &fd, &size), 0);
    assert_int_equal(size, wlen);
    uint8_t *got = sl_xcalloc(wlen + 1, 1);
    assert_int_equal(pread(fd, got, wlen + 1, 0), (ssize_t)wlen);
    assert_memory_equal(got, want, wlen);
    free(got);
    close(fd);
}

static void test_happy_path(void **state)
{
    fx *f = *state;
    uint32_t crc = 0;
    char loc[4096], err[256], path[4096], want[4200];
    assert_int_equal(upload(f->s, TABLE, SEG12, f->a, f->alen, &crc), 0);
    assert_int_equal(crc, trailer(f->a, f->alen));
    assert_int_equal(count(f->tdir, ".pending."), 1);
    assert_int_equal(count(f->tdir, ".up."), 0);
    int fd;
    uint64_t size;
    assert_int_equal(segstore_open_committed(f->s, TABLE, SEG12, &fd, &size), SL_ENOENT);
    assert_int_equal(segstore_promote(f->s, TABLE, SEG12, crc, loc, sizeof loc, err, sizeof err), 0);
    assert_int_equal(segstore_path(f->s, TABLE, SEG12, path, sizeof path), 0);
    snprintf(want, sizeof want, "file://%s", path);
    assert_string_equal(loc, want);
    assert_int_equal(segstore_path(f->s, TABLE, SEG12, path, 10), SL_ELIMIT);
    assert_int_equal(count(f->tdir, ""), 1); /* only the committed file */
    assert_committed(f, SEG12, f->a, f->alen);
    /* a retried CommitEnd: same CRC again is fine */
    assert_int_equal(segstore_promote(f->s, TABLE, SEG12, crc, NULL, 0, err, sizeof err), 0);
    assert_committed(f, SEG12, f->a, f->alen);
}

static void test_promote_wrong_crc(void **state)
{
    fx *f = *state;
    uint32_t crc;
    char err[256];
    assert_int_equal(upload(f->s, TABLE, SEG12, f->a, f->alen, &crc), 0);
    assert_int_equal(segstore_promote(f->s, TABLE, SEG12, crc ^ 1, NULL, 0, err, sizeof err),
                     SL_ENOENT);
    assert_non_null(strstr(err, "no verified upload"));
    assert_int_equal(count(f->tdir, ".pending."), 1);
    int fd;
    uint64_t size;
    assert_int_equal(segstore_open_committed(f->s, TABLE, SEG12, &fd, &size), SL_ENOENT);
}

/* Pinot #14786: a late replica's different file must never replace the committed one. */
static void test_no_overwrite_after_commit(void **state)
{
    fx *f = *state;
    uint32_t ca, cb;
    char err[256];
    assert_int_equal(upload(f->s, TABLE, SEG12, f->a, f->alen, &ca), 0);
    assert_int_equal(segstore_promote(f->s, TABLE, SEG12, ca, NULL, 0, err, sizeof err), 0);
    assert_int_equal(upload(f->s, TABLE, SEG12, f->b, f->blen, &cb), 0);
    assert_int_not_equal(ca, cb);
    assert_int_equal(count(f->tdir, ".pending."), 1);
    assert_int_equal(segstore_promote(f->s, TABLE, SEG12, cb, NULL, 0, err, sizeof err),
                     SL_ECONFLICT);
    assert_int_equal(segstore_unpromote(f->s, TABLE, SEG12, cb, err, sizeof err), SL_ECONFLICT);
    assert_committed(f, SEG12, f->a, f->alen);
}

/* A zombie committer and the real one upload the same segment at once. */
static void test_interleaved_uploads(void **state)
{
    fx *f = *state;
    segstore_upload *ua, *ub;
    char err[256];
    uint32_t ca, cb;
    assert_int_equal(segstore_upload_begin(f->s, TABLE, SEG12, &ua, err, sizeof err), 0);
    assert_int_equal(segstore_upload_begin(f->s, TABLE, SEG12, &ub, err, sizeof err), 0);
    assert_int_equal(count(f->tdir, ".up."), 2);
    size_t half = f->alen / 2;
    assert_int_equal(segstore_upload_write(ua, f->a, half, err, sizeof err), 0);
    assert_int_equal(segstore_upload_write(ub, f->b, f->blen, err, sizeof err), 0);
    assert_int_equal(segstore_upload_write(ua, f->a + half, f->alen - half, err, sizeof err), 0);
    assert_int_equal(segstore_upload_finish(ub, &cb, NULL, err, sizeof err), 0);
    assert_int_equal(segstore_upload_finish(ua, &ca, NULL, err, sizeof err), 0);
    assert_int_equal(count(f->tdir, ".pending."), 2);
    assert_int_equal(segstore_promote(f->s, TABLE, SEG12, ca, NULL, 0, err, sizeof err), 0);
    assert_int_equal(count(f->tdir, ""), 1); /* the other pending copy is gone */
    assert_committed(f, SEG12, f->a, f->alen);
}

static void test_rejected_uploads(void **state)
{
    fx *f = *state;
    uint32_t crc = 0xdeadbeef;
    uint8_t garbage[3000];
    uint64_t seed = 7;
    for (size_t i = 0; i < sizeof garbage; i++) garbage[i] = (uint8_t)ts_rng(&seed);
    int rc = upload(f->s, TABLE, SEG12, garbage, sizeof garbage, &crc);
    assert_true(rc == SL_ECORRUPT || rc == SL_ETRUNC);
    assert_int_equal(upload(f->s, TABLE, SEG12, f->a, f->alen / 2, &crc), SL_ETRUNC);
    uint8_t *flip = sl_xcalloc(f->alen, 1);
    memcpy(flip, f->a, f->alen);
    flip[f->alen / 2] ^= 0x10;
    assert_int_equal(upload(f->s, TABLE, SEG12, flip, f->alen, &crc), SL_ECORRUPT);
    free(flip);
    assert_int_equal(upload(f->s, TABLE, SEG12, f->a, 0, &crc), SL_ETRUNC);
    /* a valid file, but for segment 12, PUT under segment 13's URL */
    assert_int_equal(upload(f->s, TABLE, SEG13, f->a, f->alen, &crc), SL_EINVAL);
    assert_int_equal(crc, 0xdeadbeef); /* untouched on failure */
    assert_int_equal(count(f->tdir, ""), 0);
}

static void test_bad_names(void **state)
{
    fx *f = *state;
    static const char *const bad[][2] = {
        {TABLE, "../x"},
        {TABLE, "a b"},
        {TABLE, ".hidden"},
        {"other", SEG12},
        {"../etc", SEG12},
        {TABLE, "events__3__12__20240102T0304Z/../../x"},
        {"", SEG12},
        {TABLE, ""},
        {"a/b", "a/b__1__2__20240102T0304Z"},
        {TABLE, "other__3__12__20240102T0304Z"},
    };
    segstore_upload *u = (segstore_upload *)1;
    char err[256], buf[4096];
    int fd;
    uint64_t size;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *t = bad[i][0], *sg = bad[i][1];
        assert_int_equal(segstore_upload_begin(f->s, t, sg, &u, err, sizeof err), SL_EINVAL);
        assert_null(u);
        assert_int_equal(segstore_promote(f->s, t, sg, 1, NULL, 0, err, sizeof err), SL_EINVAL);
        assert_int_equal(segstore_unpromote(f->s, t, sg, 1, err, sizeof err), SL_EINVAL);
        assert_int_equal(segstore_open_committed(f->s, t, sg, &fd, &size), SL_EINVAL);
        assert_int_equal(segstore_path(f->s, t, sg, buf, sizeof buf), SL_EINVAL);
    }
    assert_int_equal(count(f->root, ""), 0); /* not even a table directory */
}

static void test_size_cap_and_abort(void **state)
{
    fx *f = *state;
    segstore *s;
    char err[256];
    segstore_opts o = {.max_upload_bytes = 1000};
    assert_int_equal(segstore_open(f->root, &o, &s, err, sizeof err), 0);
    assert_int_equal(segstore_max_upload(s), 1000);
    assert_int_equal(segstore_max_upload(f->s), SEGSTORE_DEFAULT_MAX_UPLOAD);
    segstore_upload *u;
    assert_int_equal(segstore_upload_begin(s, TABLE, SEG12, &u, err, sizeof err), 0);
    assert_int_equal(segstore_upload_write(u, f->a, 600, err, sizeof err), 0);
    assert_int_equal(segstore_upload_write(u, f->a, 400, err, sizeof err), 0);
    assert_int_equal(segstore_upload_write(u, f->a, 1, err, sizeof err), SL_ELIMIT);
    assert_int_equal(segstore_upload_write(u, f->a, 1, err, sizeof err), SL_ESTATE);
    assert_int_equal(segstore_upload_finish(u, NULL, NULL, err, sizeof err), SL_ESTATE);
    assert_int_equal(count(f->tdir, ""), 0);
    /* abort removes the temporary */
    assert_int_equal(segstore_upload_begin(s, TABLE, SEG12, &u, err, sizeof err), 0);
    assert_int_equal(segstore_upload_write(u, f->a, 10, err, sizeof err), 0);
    assert_int_equal(count(f->tdir, ".up."), 1);
    segstore_upload_abort(u);
    assert_int_equal(count(f->tdir, ""), 0);
    segstore_upload_abort(NULL);
    segstore_close(s);
}

static void test_unpromote(void **state)
{
    fx *f = *state;
    uint32_t crc;
    char err[256];
    assert_int_equal(segstore_unpromote(f->s, TABLE, SEG12, 1, err, sizeof err), SL_ENOENT);
    assert_int_equal(upload(f->s, TABLE, SEG12, f->a, f->alen, &crc), 0);
    assert_int_equal(segstore_promote(f->s, TABLE, SEG12, crc, NULL, 0, err, sizeof err), 0);
    assert_int_equal(segstore_unpromote(f->s, TABLE, SEG12, crc ^ 1, err, sizeof err),
                     SL_ECONFLICT);
    assert_int_equal(segstore_unpromote(f->s, TABLE, SEG12, crc, err, sizeof err), 0);
    int fd;
    uint64_t size;
    assert_int_equal(segstore_open_committed(f->s, TABLE, SEG12, &fd, &size), SL_ENOENT);
    assert_int_equal(count(f->tdir, ".pending."), 1);
    /* after a failed ZooKeeper commit another committer's file can now win */
    uint32_t cb;
    assert_int_equal(upload(f->s, TABLE, SEG12, f->b, f->blen, &cb), 0);
    assert_int_equal(segstore_promote(f->s, TABLE, SEG12, cb, NULL, 0, err, sizeof err), 0);
    assert_committed(f, SEG12, f->b, f->blen);
    assert_int_equal(count(f->tdir, ""), 1);
}

/* The scrub's path: the bad committed file is moved aside (kept, a second one beside it), and
 * a copy written through the upload's fd is published only with the committed CRC. */
static void test_quarantine_and_restore(void **state)
{
    fx *f = *state;
    uint32_t crc;
    char err[256], moved[4096], qdir[256], want[4200];
    snprintf(qdir, sizeof qdir, "%s/" SEGSTORE_QUARANTINE, f->tdir);
    assert_int_equal(
        segstore_quarantine(f->s, TABLE, SEG12, NULL, moved, sizeof moved, err, sizeof err),
        SL_ENOENT);
    assert_int_equal(upload(f->s, TABLE, SEG12, f->a, f->alen, &crc), 0);
    assert_int_equal(segstore_promote(f->s, TABLE, SEG12, crc, NULL, 0, err, sizeof err), 0);
    char path[4096];
    struct stat checked; /* what the scrub checked */
    assert_int_equal(segstore_path(f->s, TABLE, SEG12, path, sizeof path), 0);
    assert_int_equal(stat(path, &checked), 0);
    assert_int_equal(segstore_quarantine(f->s, TABLE, SEG12, &checked, moved, sizeof moved, err,
                                         sizeof err),
                     0);
    snprintf(want, sizeof want, "%s/%s.seg", qdir, SEG12);
    assert_string_equal(moved, want);
    int fd;
    uint64_t size;
    assert_int_equal(segstore_open_committed(f->s, TABLE, SEG12, &fd, &size), SL_ENOENT);
    /* a copy with another CRC is refused and leaves nothing behind */
    for (int good = 0; good < 2; good++) {
        const uint8_t *b = good ? f->a : f->b;
        size_t len = good ? f->alen : f->blen;
        segstore_upload *u;
        assert_int_equal(segstore_upload_begin(f->s, TABLE, SEG12, &u, err, sizeof err), 0);
        segstore_upload_expect_crc(u, crc);
        assert_int_equal(fsutil_write_fd(segstore_upload_fd(u), b, len, NULL), 0);
        uint32_t got = 0;
        assert_int_equal(segstore_upload_finish(u, &got, NULL, err, sizeof err),
                         good ? 0 : SL_ECORRUPT);
        assert_int_equal(count(f->tdir, ".pending."), good);
        assert_int_equal(count(f->tdir, ".up."), 0);
    }
    assert_int_equal(segstore_promote(f->s, TABLE, SEG12, crc, NULL, 0, err, sizeof err), 0);
    assert_committed(f, SEG12, f->a, f->alen);
    /* the copy promoted since is not the file that was checked: left alone */
    assert_int_equal(segstore_quarantine(f->s, TABLE, SEG12, &checked, moved, sizeof moved, err,
                                         sizeof err),
                     SL_ECONFLICT);
    assert_committed(f, SEG12, f->a, f->alen);
    /* a second quarantine keeps the first file */
    assert_int_equal(
        segstore_quarantine(f->s, TABLE, SEG12, NULL, moved, sizeof moved, err, sizeof err), 0);
    snprintf(want, sizeof want, "%s/%s.seg.1", qdir, SEG12);
    assert_string_equal(moved, want);
    assert_int_equal(count(qdir, SEG12), 2);
    /* gc never touches quarantine/ */
    assert_true(segstore_gc(f->s, 0, sl_clock_wall_ms() + 3600 * 1000) >= 0);
    assert_int_equal(count(qdir, SEG12), 2);
    assert_int_equal(segstore_quarantine(f->s, TABLE, "../x", NULL, NULL, 0, err, sizeof err),
                     SL_EINVAL);
}

static void test_gc(void **state)
{
    fx *f = *state;
    uint32_t crc;
    char err[256], foreign[256];
    assert_int_equal(upload(f->s, TABLE, SEG13, f->c, f->clen, &crc), 0);
    assert_int_equal(segstore_promote(f->s, TABLE, SEG13, crc, NULL, 0, err, sizeof err), 0);
    assert_int_equal(upload(f->s, TABLE, SEG12, f->a, f->alen, &crc), 0); /* pending */
    segstore_upload *u; /* an abandoned temporary */
    assert_int_equal(segstore_upload_begin(f->s, TABLE, SEG12, &u, err, sizeof err), 0);
    assert_int_equal(segstore_upload_write(u, f->a, 10, err, sizeof err), 0);
    snprintf(foreign, sizeof foreign, "%s/%s.seg.up.notours", f->tdir, SEG12);
    FILE *fp = fopen(foreign, "w");
    assert_non_null(fp);
    fclose(fp);
    int64_t now = (int64_t)sl_clock_wall_ms();
    assert_int_equal(count(f->tdir, ""), 4);
    assert_int_equal(segstore_gc(f->s, 60000, now), 0); /* all fresh */
    assert_int_equal(count(f->tdir, ""), 4);
    assert_int_equal(segstore_gc(f->s, 60000, now + 120000), 2);
    assert_int_equal(count(f->tdir, ".pending."), 0);
    assert_int_equal(count(f->tdir, ".up."), 1); /* the foreign file stays */
    assert_committed(f, SEG13, f->c, f->clen);
    assert_int_equal(segstore_upload_finish(u, NULL, NULL, err, sizeof err),
                     SL_ENOENT); /* temp gone */
    assert_int_equal(segstore_gc(f->s, 0, now + 120000), 0);
}

typedef struct thr {
    fx *f;
    int idx;
    int rc;
} thr;

static void *upload_thread(void *arg)
{
    thr *t = arg;
    char name[64], err[256];
    uint32_t crc;
    size_t len;
    snprintf(name, sizeof name, "events__%d__0__20240102T0304Z", t->idx);
    uint8_t *buf = build(name, 0, 0, &len);
    t->rc = upload(t->f->s, TABLE, name, buf, len, &crc);
    if (!t->rc) t->rc = segstore_promote(t->f->s, TABLE, name, crc, NULL, 0, err, sizeof err);
    free(buf);
    return NULL;
}

static void test_concurrent(void **state)
{
    fx *f = *state;
    thr t[6];
    pthread_t th[6];
    for (int i = 0; i < 6; i++) {
        t[i] = (thr){f, i, -100};
        assert_int_equal(pthread_create(&th[i], NULL, upload_thread, &t[i]), 0);
    }
    for (int i = 0; i < 6; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(t[i].rc, 0);
    }
    assert_int_equal(count(f->tdir, ".seg"), 6);
    assert_int_equal(count(f->tdir, ".pending."), 0);
}

static void test_open_uri(void **state)
{
    fx *f = *state;
    segstore *s = NULL;
    char uri[256], err[256];
    snprintf(uri, sizeof uri, "file://%s/deep/store", f->root);
    assert_int_equal(segstore_open(uri, NULL, &s, err, sizeof err), 0);
    char want[256];
    snprintf(want, sizeof want, "%s/deep/store", f->root);
    assert_string_equal(segstore_root(s), want);
    segstore_close(s);
    snprintf(uri, sizeof uri, "FILE://localhost%s", f->root);
    assert_int_equal(segstore_open(uri, NULL, &s, err, sizeof err), 0);
    assert_string_equal(segstore_root(s), f->root);
    segstore_close(s);
    static const char *const bad[] = {"http://host/x", "webhdfs://nn/x", "s3://bucket",
                                      "file://relative/x", "file:///tmp/../etc",
                                      "file:///tmp/a%2e", "file:///tmp/x?y", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s = (segstore *)1;
        assert_int_equal(segstore_open(bad[i], NULL, &s, err, sizeof err), SL_EINVAL);
        assert_null(s);
        assert_non_null(strstr(err, "deepstore.uri"));
    }
    assert_int_equal(segstore_open("/proc/version/x", NULL, &s, err, sizeof err), SL_EIO);
}

/* A push (DESIGN §10): the name comes from the file, the file may name the raw table of
 * <raw>_OFFLINE, nothing is visible before finish, a refresh replaces the committed file in
 * one rename, a removal deletes it; completion's names are never replaced or removed. */
static void test_push_replace_remove(void **state)
{
    fx *f = *state;
    char err[256], odir[160];
    snprintf(odir, sizeof odir, "%s/" TABLE "_OFFLINE", f->root);
    size_t l1, l2;
    uint8_t *p1 = build("push_1", -1, 0, &l1), *p2 = build("push_1", -1, 500, &l2);
    segstore_upload *u;
    assert_int_equal(segstore_upload_begin(f->s, TABLE "_OFFLINE", NULL, &u, err, sizeof err), 0);
    assert_int_equal(segstore_upload_write(u, p1, l1, err, sizeof err), 0);
    segstore_info info;
    assert_int_equal(segstore_upload_check(u, &info, err, sizeof err), 0);
    assert_string_equal(info.segment, "push_1");
    assert_int_equal(info.crc, trailer(p1, l1));
    assert_int_equal(info.size, l1);
    assert_int_equal(count(odir, ".pending."), 0); /* checked, not visible */
    segstore_upload_abort(u);
    assert_int_equal(count(odir, ""), 0); /* an abort after a check leaves nothing */
    uint32_t crc;
    assert_int_equal(upload(f->s, TABLE "_OFFLINE", NULL, p1, l1, &crc), 0);
    assert_int_equal(
        segstore_replace(f->s, TABLE "_OFFLINE", "push_1", crc, NULL, 0, err, sizeof err), 0);
    char path[PATH_MAX];
    assert_int_equal(segstore_path(f->s, TABLE "_OFFLINE", "push_1", path, sizeof path), 0);
    uint32_t have;
    assert_int_equal(seg_reader_trailer(path, &have), 0);
    assert_int_equal(have, trailer(p1, l1));
    /* a refresh: a reader that had the old file open keeps reading the old bytes */
    int fd;
    uint64_t size;
    assert_int_equal(segstore_open_committed(f->s, TABLE "_OFFLINE", "push_1", &fd, &size), 0);
    assert_int_equal(upload(f->s, TABLE "_OFFLINE", NULL, p2, l2, &crc), 0);
    assert_int_equal(
        segstore_replace(f->s, TABLE "_OFFLINE", "push_1", crc, NULL, 0, err, sizeof err), 0);
    assert_int_equal(seg_reader_trailer(path, &have), 0);
    assert_int_equal(have, trailer(p2, l2));
    uint8_t b[4];
    assert_int_equal(pread(fd, b, 4, (off_t)size - 4), 4);
    assert_memory_equal(b, p1 + l1 - 4, 4);
    close(fd);
    assert_int_equal(count(odir, ".pending."), 0);
    assert_int_equal(
        segstore_replace(f->s, TABLE "_OFFLINE", "push_1", 12345, NULL, 0, err, sizeof err),
        SL_ENOENT); /* no such verified upload */
    assert_int_equal(segstore_remove(f->s, TABLE "_OFFLINE", "push_1", err, sizeof err), 0);
    assert_int_equal(segstore_remove(f->s, TABLE "_OFFLINE", "push_1", err, sizeof err), SL_ENOENT);
    assert_int_equal(count(odir, ""), 0);
    /* completion's files: never replaced, never removed */
    assert_int_equal(upload(f->s, TABLE, SEG12, f->a, f->alen, &crc), 0);
    assert_int_equal(segstore_replace(f->s, TABLE, SEG12, crc, NULL, 0, err, sizeof err),
                     SL_EINVAL);
    assert_int_equal(segstore_remove(f->s, TABLE, SEG12, err, sizeof err), SL_EINVAL);
    /* a push's file must name this table (or its raw name) */
    assert_int_equal(upload(f->s, "other_OFFLINE", NULL, p1, l1, &crc), SL_EINVAL);
    free(p1);
    free(p2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_happy_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_promote_wrong_crc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_overwrite_after_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interleaved_uploads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejected_uploads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_size_cap_and_abort, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unpromote, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quarantine_and_restore, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_uri, setup, teardown),
        cmocka_unit_test_setup_teardown(test_push_replace_remove, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
