/* CommitEnd's file (ctl__promote_checked, completion/ctl_completion.c): the upload is checked
 * against the request and the segment's record BEFORE it is promoted, so a file that fails is
 * never published under the committed name, not even for a moment: an inotify watch on the
 * store's table directory sees every name created there. Also: a good upload is promoted and
 * served, a retry after a promote that was not undone checks the committed copy, and a
 * CommitEnd with no upload says so. A bare struct ctl over a real segment store: no
 * ZooKeeper. */
#include "common/fsutil.h"
#include "common/xalloc.h"
#include "common/sl_err.h"
#include "completion/ctl_int.h"
#include "segment/seg_builder.h"
#include "seg_test_src.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#define TABLE "events"
#define SEG "events__3__12__20240102T0304Z"

typedef struct fx {
    char root[64], tdir[128];
    ctl c;
    uint8_t *file;
    size_t len;
    uint32_t crc;
    int in; /* inotify on tdir */
} fx;

static int setup(void **state)
{
    fx *f = sl_xcalloc(1, sizeof *f);
    snprintf(f->root, sizeof f->root, "/tmp/ctl-commit-test-XXXXXX");
    assert_non_null(mkdtemp(f->root));
    snprintf(f->tdir, sizeof f->tdir, "%s/%s", f->root, TABLE);
    char err[256];
    assert_int_equal(segstore_open(f->root, NULL, &f->c.store, err, sizeof err), 0);
    ts_src *t = ts_fixture_small(); /* SEG: partition 3, sequence 12, offsets [1000, 1006) */
    assert_int_equal(
        seg_build_mem(ts_view(t, "ts"), &ts_fixture_meta, &f->file, &f->len, err, sizeof err), 0);
    ts_free(t);
    const uint8_t *b = f->file + f->len - 4;
    f->crc = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    /* the committer's upload: pending under its CRC */
    segstore_upload *u;
    assert_int_equal(segstore_upload_begin(f->c.store, TABLE, SEG, &u, err, sizeof err), 0);
    assert_int_equal(segstore_upload_write(u, f->file, f->len, err, sizeof err), 0);
    uint32_t crc;
    assert_int_equal(segstore_upload_finish(u, &crc, NULL, err, sizeof err), 0);
    assert_int_equal(crc, f->crc);
    f->in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    assert_true(f->in >= 0);
    assert_true(inotify_add_watch(f->in, f->tdir, IN_CREATE | IN_MOVED_TO) >= 0);
    *state = f;
    return 0;
}


static int teardown(void **state)
{
    fx *f = *state;
    close(f->in);
    segstore_close(f->c.store);
    fsutil_remove_tree(f->root, NULL, 0);
    free(f->file);
    free(f);
    return 0;
}

/* What the CommitEnd of the honest committer says. */
static rpc_req honest(const fx *f)
{
    rpc_req r;
    memset(&r, 0, sizeof r);
    snprintf(r.segment, sizeof r.segment, "%s", SEG);
    snprintf(r.instance, sizeof r.instance, "s1");
    r.offset = 1006;
    r.rows = 6;
    r.crc = f->crc;
    r.size_bytes = (int64_t)f->len;
    return r;
}

/* The segment's record as ZooKeeper has it while consuming. */
static segmeta record(void)
{
    segmeta m;
    memset(&m, 0, sizeof m);
    snprintf(m.segment, sizeof m.segment, "%s", SEG);
    snprintf(m.table, sizeof m.table, "%s", TABLE);
    m.partition = 3;
    m.sequence = 12;
    m.status = SEGMETA_IN_PROGRESS;
    m.start_offset = 1000;
    m.end_offset = m.num_rows = -1;
    return m;
}

/* How many times the committed name appeared in the table directory since the last call. */
static int committed_name_events(fx *f)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    int n = 0;
    ssize_t len;
    while ((len = read(f->in, buf, sizeof buf)) > 0)
        for (char *p = buf; p < buf + len;) {
            struct inotify_event *e = (struct inotify_event *)p;
            if (e->len && strcmp(e->name, SEG ".seg") == 0) n++;
            p += sizeof *e + e->len;
        }
    return n;
}

static bool is_committed(fx *f)
{
    int fd;
    uint64_t size;
    if (segstore_open_committed(f->c.store, TABLE, SEG, &fd, &size) != 0) return false;
    close(fd);
    return true;
}

static void test_good_upload_is_promoted(void **state)
{
    fx *f = *state;
    rpc_req r = honest(f);
    segmeta m = record();
    bool promoted = false;
    char why[512] = "";
    assert_int_equal(ctl__promote_checked(&f->c, TABLE, &r, &m, &promoted, why, sizeof why), 0);
    assert_true(promoted);
    assert_true(is_committed(f));
    assert_int_equal(committed_name_events(f), 1);
    /* a retry after a promote that was not undone checks the committed copy, promotes nothing */
    promoted = false;
    assert_int_equal(ctl__promote_checked(&f->c, TABLE, &r, &m, &promoted, why, sizeof why), 0);
    assert_true(promoted);
    assert_int_equal(committed_name_events(f), 0);
}

/* Each way the file can disagree with the request or the record: refused, and the committed
 * name never appears, not even for a moment; the upload stays pending. */
static void test_bad_upload_is_never_published(void **state)
{
    fx *f = *state;
    static const struct {
        const char *what;
        int field;
    } cases[] = {{"row count", 0},
                 {"end offset", 1},
                 {"size", 2},
                 {"partition or sequence", 3},
                 {"start offset", 4}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rpc_req r = honest(f);
        segmeta m = record();
        switch (cases[i].field) {
        case 0:
            r.rows = 5;
            break;
        case 1:
            r.offset = 1007;
            break;
        case 2:
            r.size_bytes++;
            break;
        case 3:
            m.sequence = 13;
            break;
        case 4:
            m.start_offset = 999;
            break;
        }
        bool promoted = true;
        char why[512] = "";
        assert_int_equal(ctl__promote_checked(&f->c, TABLE, &r, &m, &promoted, why, sizeof why),
                         SL_EINVAL);
        assert_false(promoted);
        if (!strstr(why, cases[i].what)) fail_msg("case %zu: why=\"%s\"", i, why);
        assert_int_equal(committed_name_events(f), 0);
        assert_false(is_committed(f));
    }
    char pending[PATH_MAX];
    snprintf(pending, sizeof pending, "%s/%s.seg.pending.%08x", f->tdir, SEG, (unsigned)f->crc);
    assert_int_equal(access(pending, F_OK), 0);
    /* and the honest CommitEnd still commits it */
    rpc_req r = honest(f);
    segmeta m = record();
    bool promoted = false;
    char why[512];
    assert_int_equal(ctl__promote_checked(&f->c, TABLE, &r, &m, &promoted, why, sizeof why), 0);
    assert_true(is_committed(f));
}

static void test_no_upload_with_that_crc(void **state)
{
    fx *f = *state;
    rpc_req r = honest(f);
    r.crc ^= 1;
    segmeta m = record();
    bool promoted = true;
    char why[512] = "";
    assert_int_equal(ctl__promote_checked(&f->c, TABLE, &r, &m, &promoted, why, sizeof why),
                     SL_ENOENT);
    assert_false(promoted);
    assert_non_null(strstr(why, "no verified upload"));
    assert_int_equal(committed_name_events(f), 0);
    assert_false(is_committed(f));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_good_upload_is_promoted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_upload_is_never_published, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_upload_with_that_crc, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
