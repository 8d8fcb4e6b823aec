/* Allocation that aborts on failure: every wrapper returns usable memory (size 0 included),
 * calloc zeroes, memdupz copies NULs and terminates, and a failed or overflowing request ends
 * the process with SIGABRT after "sluice: out of memory" on stderr. */
#include "common/xalloc.h"

#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

static void test_sizes(void **s)
{
    (void)s;
    void *z = sl_xmalloc(0); /* size 0: a unique pointer, never NULL */
    void *z2 = sl_xmalloc(0);
    assert_non_null(z);
    assert_ptr_not_equal(z, z2);
    free(z);
    free(z2);
    unsigned char *c = sl_xcalloc(1000, 3);
    for (size_t i = 0; i < 3000; i++)
        assert_int_equal(c[i], 0);
    c[2999] = 7;
    c = sl_xrealloc(c, 100000);
    assert_int_equal(c[2999], 7); /* kept across the move */
    free(sl_xcalloc(0, 8));
    free(sl_xcalloc(8, 0));
    free(c);
    free(sl_xrealloc(NULL, 0));
}

static void test_strings(void **s)
{
    (void)s;
    char *d = sl_xstrdup("table");
    assert_string_equal(d, "table");
    free(d);
    char *e = sl_xmemdupz("a\0b", 3); /* exactly n bytes, NULs included, then a NUL */
    assert_memory_equal(e, "a\0b\0", 4);
    free(e);
    e = sl_xmemdupz(NULL, 0);
    assert_string_equal(e, "");
    free(e);
    char *f = sl_xasprintf("%s=%d", "rows", 42);
    assert_string_equal(f, "rows=42");
    free(f);
}

/* Run fn in a child; returns its wait status, and its stderr in err. */
static int in_child(void (*fn)(void), char *err, size_t cap)
{
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(pfd[1], STDERR_FILENO);
        close(pfd[0]);
        fn();
        _exit(0); /* not reached when the allocation fails */
    }
    close(pfd[1]);
    size_t len = 0;
    ssize_t n;
    while (len + 1 < cap && (n = read(pfd[0], err + len, cap - 1 - len)) > 0)
        len += (size_t)n;
    err[len] = '\0';
    close(pfd[0]);
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return st;
}

static void calloc_overflow(void)
{
    (void)sl_xcalloc(SIZE_MAX / 2, 3);
}
static void malloc_huge(void)
{
    (void)sl_xmalloc(SIZE_MAX - 4096);
}
static void memdupz_huge(void)
{
    (void)sl_xmemdupz("", SIZE_MAX);
}

static void test_failure_aborts(void **s)
{
    (void)s;
    char err[512];
    /* n * size overflows: refused before any allocator sees it, in every build */
    int st = in_child(calloc_overflow, err, sizeof err);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
    assert_non_null(strstr(err, "sluice: out of memory"));
    st = in_child(memdupz_huge, err, sizeof err);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
    assert_non_null(strstr(err, "sluice: out of memory"));
    /* an impossible size: the allocator returns NULL (under ASan it reports the size itself
     * and exits; either way the process ends and never gets the NULL) */
    st = in_child(malloc_huge, err, sizeof err);
#ifdef SLUICE_SANITIZE
    assert_false(WIFEXITED(st) && WEXITSTATUS(st) == 0);
#else
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
    assert_non_null(strstr(err, "sluice: out of memory ("));
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_failure_aborts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
