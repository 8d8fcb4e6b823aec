/* Identifier grammar (common/ident.h): what table names, cluster.name and instance.id accept. */
#include "common/ident.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

static void test_accepts(void **s)
{
    (void)s;
    const char *good[] = {"events", "a", "A-b.c_d", "t1", "9", "-", "a_b", "a.b", "x-"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (!ident_valid(good[i])) fail_msg("refused: %s", good[i]);
}

static void test_refuses(void **s)
{
    (void)s;
    const char *bad[] = {"", "_a", "a_", ".a", "a.", "a__b", "a/b", "..", "a b", "a:b", "é"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (ident_valid(bad[i])) fail_msg("accepted: %s", bad[i]);
}

static void test_length(void **s)
{
    (void)s;
    char name[SL_IDENT_MAX + 2];
    memset(name, 'a', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    assert_false(ident_valid(name)); /* SL_IDENT_MAX + 1 */
    name[SL_IDENT_MAX] = '\0';
    assert_true(ident_valid(name));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts),
        cmocka_unit_test(test_refuses),
        cmocka_unit_test(test_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
