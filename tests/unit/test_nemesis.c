/* The chaos scenarios' table and the seeded randomness that makes a run reproducible: names are
 * unique and found, every scenario has a schedule and says what it does, a knob scenario names
 * the log line that proves its fault, and one seed always draws the same numbers (another seed
 * others). The schedules themselves run real clusters: integration.test_chaos. */
#include "chaos/nemesis.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

static void test_table(void **state)
{
    (void)state;
    size_t n;
    const nem_scenario *s = nem_scenarios(&n);
    assert_true(n >= 25);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(s[i].name);
        assert_true(strlen(s[i].summary) > 10);
        assert_non_null(s[i].run);
        assert_ptr_equal(nem_find(s[i].name), &s[i]);
        for (size_t j = i + 1; j < n; j++) assert_string_not_equal(s[i].name, s[j].name);
        bool knob = s[i].sidecar_sets && strstr(s[i].sidecar_sets[0], "test.commit.fault");
        if (knob) assert_non_null(s[i].proof);
    }
    assert_string_equal(s[0].name, "none");
    assert_null(nem_find("nosuch"));
    assert_null(nem_find(""));
}

static void test_seeded(void **state)
{
    (void)state;
    uint64_t a = 42, b = 42, c = 43;
    uint64_t first = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = nem_rand(&a), y = nem_rand(&b), z = nem_rand(&c);
        assert_int_equal(x, y);
        if (i == 0) first = x;
        else assert_int_not_equal(x, first); /* it moves */
        assert_int_not_equal(x, z);           /* another seed, another stream */
    }
    uint64_t zero = 0;
    assert_int_not_equal(nem_rand(&zero), 0); /* seed 0 is a seed like any other */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_seeded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
