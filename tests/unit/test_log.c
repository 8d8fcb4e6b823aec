/* Rate-limited logging: one line per kind per interval, the held-back count reported. */
#include "common/log.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

static void test_once_per_kind_per_interval(void **s)
{
    (void)s;
    sl_log_limit *l = sl_log_limit_new(60000);
    uint64_t sup = 99;
    assert_true(sl_log_limit_pass(l, "build.enospc", 1000, &sup));
    assert_int_equal(sup, 0);
    for (int i = 0; i < 78; i++)
        assert_false(sl_log_limit_pass(l, "build.enospc", 1000 + i, NULL));
    assert_true(sl_log_limit_pass(l, "download.enospc", 1500, &sup)); /* another kind */
    assert_int_equal(sup, 0);
    assert_false(sl_log_limit_pass(l, "build.enospc", 60999, NULL));
    assert_true(sl_log_limit_pass(l, "build.enospc", 61000, &sup));
    assert_int_equal(sup, 79);
    assert_false(sl_log_limit_pass(l, "build.enospc", 61001, NULL));
    sl_log_limit_reset(l, "build.enospc"); /* the condition cleared: next one passes */
    assert_true(sl_log_limit_pass(l, "build.enospc", 61002, &sup));
    assert_int_equal(sup, 0);
    sl_log_limit_free(l);
}

static void test_many_kinds_evict_oldest(void **s)
{
    (void)s;
    sl_log_limit *l = sl_log_limit_new(0); /* one minute */
    char k[32];
    for (int i = 0; i < SL_LOG_LIMIT_KINDS; i++) {
        snprintf(k, sizeof k, "kind%d", i);
        assert_true(sl_log_limit_pass(l, k, 100 + (uint64_t)i, NULL));
    }
    for (int i = 0; i < SL_LOG_LIMIT_KINDS; i++) {
        snprintf(k, sizeof k, "kind%d", i);
        assert_false(sl_log_limit_pass(l, k, 1000, NULL));
    }
    assert_true(sl_log_limit_pass(l, "newcomer", 2000, NULL)); /* replaces kind0 */
    assert_false(sl_log_limit_pass(l, "newcomer", 2001, NULL));
    assert_true(sl_log_limit_pass(l, "kind0", 2002, NULL)); /* forgotten: passes again */
    sl_log_limit_free(l);
}

static void test_macro_suppresses_lines(void **s)
{
    (void)s;
    /* the macro writes to stderr: redirect it to a file and count lines */
    char path[] = "/tmp/sluice-log.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    sl_log_limit *l = sl_log_limit_new(60000);
    for (int i = 0; i < 50; i++)
        SL_LOG_LIMITED(l, "download.enospc", SL_LOG_WARN, "test", "download failed n=%d", i);
    SL_LOG_LIMITED(l, "build.enospc", SL_LOG_WARN, "test", "build failed");
    SL_LOG_LIMITED(l, "build.enospc", SL_LOG_DEBUG, "test", "below the threshold");
    dup2(saved, 2);
    close(saved);
    sl_log_limit_free(l);
    char buf[4096] = "";
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    assert_true(n > 0);
    close(fd);
    unlink(path);
    int lines = 0;
    for (char *p = buf; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 2);
    assert_non_null(strstr(buf, "download failed n=0 kind=download.enospc"));
    assert_null(strstr(buf, "n=1 "));
    assert_non_null(strstr(buf, "build failed kind=build.enospc"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_once_per_kind_per_interval),
        cmocka_unit_test(test_many_kinds_evict_oldest),
        cmocka_unit_test(test_macro_suppresses_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
