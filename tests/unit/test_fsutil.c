/* fsutil: errno classes (a full or failing disk is told apart from other I/O errors), real
 * ENOSPC from /dev/full, the test fault (test.disk.full.*) that the integration tests use, and
 * a file moved aside without replacing one already there. */
#include "common/fsutil.h"
#include "common/sl_err.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

static char dir[64];

static int setup(void **s)
{
    (void)s;
    snprintf(dir, sizeof dir, "/tmp/sluice-fsutil.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **s)
{
    (void)s;
    fsutil_fault_configure(NULL, -1, 0);
    fsutil_fault_fsync_configure(-1, 0);
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (d) closedir(d);
    return rmdir(dir);
}

/* Entries of dir (sorted is not needed: the tests expect at most one). */
static int count_entries(void)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    if (d) closedir(d);
    return n;
}

static void put(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static void assert_holds(const char *path, const char *text)
{
    char buf[64] = "";
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_true(read(fd, buf, sizeof buf - 1) >= 0);
    close(fd);
    assert_string_equal(buf, text);
}

static void test_move_aside(void **s)
{
    (void)s;
    char from[128], q[128], to[PATH_MAX], want[PATH_MAX];
    snprintf(from, sizeof from, "%s/f.seg", dir);
    snprintf(q, sizeof q, "%s/q", dir);
    put(from, "one");
    assert_int_equal(fsutil_move_aside(from, q, "f.seg", to), 0);
    snprintf(want, sizeof want, "%s/f.seg", q);
    assert_string_equal(to, want);
    assert_int_equal(access(from, F_OK), -1);
    put(from, "two"); /* the name is taken: the second goes beside it */
    assert_int_equal(fsutil_move_aside(from, q, "f.seg", to), 0);
    snprintf(want, sizeof want, "%s/f.seg.1", q);
    assert_string_equal(to, want);
    assert_holds(to, "two");
    snprintf(want, sizeof want, "%s/f.seg", q);
    assert_holds(want, "one");
    assert_int_equal(fsutil_move_aside(from, q, "f.seg", to), SL_EIO); /* gone */
    assert_int_equal(errno, ENOENT);
    assert_string_equal(to, "");
    unlink(want);
    snprintf(want, sizeof want, "%s/f.seg.1", q);
    unlink(want);
    assert_int_equal(rmdir(q), 0);
}

static void test_errno_classes(void **s)
{
    (void)s;
    assert_int_equal(fsutil_errno_err(ENOSPC), SL_ENOSPACE);
    assert_int_equal(fsutil_errno_err(EDQUOT), SL_ENOSPACE);
    assert_int_equal(fsutil_errno_err(EIO), SL_EDISK);
    assert_int_equal(fsutil_errno_err(EROFS), SL_EDISK);
    assert_int_equal(fsutil_errno_err(ENOENT), SL_ENOENT);
    assert_int_equal(fsutil_errno_err(ENOTDIR), SL_ENOENT);
    assert_int_equal(fsutil_errno_err(EACCES), SL_EIO);
    assert_int_equal(fsutil_errno_err(EBADF), SL_EIO);
}

static void test_dev_full_is_enospace(void **s)
{
    (void)s;
    int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
    if (fd < 0) skip();
    int e = 0;
    char buf[4096] = {0};
    assert_int_equal(fsutil_write_fd(fd, buf, sizeof buf, &e), SL_ENOSPACE);
    assert_int_equal(e, ENOSPC);
    close(fd);
    fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    assert_int_equal(fsutil_write_fd(fd, buf, sizeof buf, &e), 0);
    assert_int_equal(e, 0);
    close(fd);
}

static void test_counted_fault(void **s)
{
    (void)s;
    char path[128], err[256];
    snprintf(path, sizeof path, "%s/f", dir);
    fsutil_fault_configure(NULL, 1, 2); /* publications 1 and 2 fail, 0 and 3 succeed */
    assert_int_equal(fsutil_publish(path, "a", 1, err, sizeof err), 0);
    for (int i = 0; i < 2; i++) {
        err[0] = 0;
        assert_int_equal(fsutil_publish(path, "bb", 2, err, sizeof err), SL_ENOSPACE);
        assert_non_null(strstr(err, "write"));
        assert_non_null(strstr(err, strerror(ENOSPC)));
        assert_int_equal(count_entries(), 1); /* the temporary is gone, the old file stays */
    }
    assert_int_equal(fsutil_publish(path, "ccc", 3, err, sizeof err), 0);
    uint8_t *data;
    size_t len;
    assert_int_equal(fsutil_read_file(path, &data, &len, err, sizeof err), 0);
    assert_int_equal(len, 3);
    free(data);
    fsutil_fault_configure(NULL, 0, 0); /* every publication from the first */
    for (int i = 0; i < 3; i++)
        assert_int_equal(fsutil_publish(path, "d", 1, err, sizeof err), SL_ENOSPACE);
    fsutil_fault_configure(NULL, -1, 0);
    assert_int_equal(fsutil_publish(path, "d", 1, err, sizeof err), 0);
}

/* fsync EIO: the failed publication leaves nothing behind (its temporary is not trusted), the
 * old file stays, and the next fsyncs succeed once the count is spent. */
static void test_fsync_eio(void **s)
{
    (void)s;
    char path[128], err[256];
    snprintf(path, sizeof path, "%s/e", dir);
    assert_int_equal(fsutil_publish(path, "old", 3, err, sizeof err), 0);
    fsutil_fault_fsync_configure(0, 2);
    for (int i = 0; i < 2; i++) {
        err[0] = 0;
        assert_int_equal(fsutil_publish(path, "new", 3, err, sizeof err), SL_EDISK);
        assert_non_null(strstr(err, "fsync"));
        assert_non_null(strstr(err, strerror(EIO)));
        assert_int_equal(count_entries(), 1);
    }
    uint8_t *data;
    size_t len;
    assert_int_equal(fsutil_read_file(path, &data, &len, err, sizeof err), 0);
    assert_memory_equal(data, "old", 3);
    free(data);
    assert_int_equal(fsutil_publish(path, "new", 3, err, sizeof err), 0);
    /* fsutil_fsync_fd itself: counted from the configuration, off with -1 */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    fsutil_fault_fsync_configure(1, 0);
    assert_int_equal(fsutil_fsync_fd(fd, path, err, sizeof err), 0);
    assert_int_equal(fsutil_fsync_fd(fd, path, err, sizeof err), SL_EDISK);
    assert_int_equal(fsutil_fsync_fd(fd, path, err, sizeof err), SL_EDISK);
    fsutil_fault_fsync_configure(-1, 0);
    assert_int_equal(fsutil_fsync_fd(fd, path, err, sizeof err), 0);
    close(fd);
}

/* rm -rf: nested directories go, a symbolic link is removed and not followed, a missing path
 * is no error. */
static void test_remove_tree(void **s)
{
    (void)s;
    char top[128], deep[160], file[192], outside[128], link[192], err[256];
    snprintf(top, sizeof top, "%s/tree", dir);
    snprintf(deep, sizeof deep, "%s/a/b", top);
    snprintf(file, sizeof file, "%s/f", deep);
    snprintf(outside, sizeof outside, "%s/keep", dir);
    snprintf(link, sizeof link, "%s/a/l", top);
    assert_int_equal(fsutil_mkdirs(deep, err, sizeof err), 0);
    assert_int_equal(fsutil_publish(file, "x", 1, err, sizeof err), 0);
    assert_int_equal(fsutil_publish(outside, "y", 1, err, sizeof err), 0);
    assert_int_equal(symlink(outside, link), 0);
    assert_int_equal(fsutil_remove_tree(top, err, sizeof err), 0);
    struct stat st;
    assert_int_not_equal(lstat(top, &st), 0);
    assert_int_equal(stat(outside, &st), 0);
    assert_int_equal(fsutil_remove_tree(top, err, sizeof err), 0);
    assert_int_equal(fsutil_remove_tree(outside, err, sizeof err), 0); /* a plain file */
    assert_int_not_equal(stat(outside, &st), 0);
}

static void test_switch_file(void **s)
{
    (void)s;
    char path[128], sw[128], err[256];
    snprintf(path, sizeof path, "%s/g", dir);
    snprintf(sw, sizeof sw, "%s/full", dir);
    fsutil_fault_configure(sw, -1, 0);
    assert_int_equal(fsutil_publish(path, "x", 1, err, sizeof err), 0); /* no switch yet */
    FILE *f = fopen(sw, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(fsutil_publish(path, "y", 1, err, sizeof err), SL_ENOSPACE);
    int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    int e = 0;
    assert_int_equal(fsutil_write_fd(fd, "z", 1, &e), SL_ENOSPACE);
    assert_int_equal(e, ENOSPC);
    unlink(sw); /* the disk is back */
    assert_int_equal(fsutil_write_fd(fd, "z", 1, &e), 0);
    close(fd);
    assert_int_equal(fsutil_publish(path, "w", 1, err, sizeof err), 0);
    assert_int_equal(count_entries(), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errno_classes),
        cmocka_unit_test(test_dev_full_is_enospace),
        cmocka_unit_test_setup_teardown(test_counted_fault, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fsync_eio, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove_tree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_switch_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_move_aside, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
