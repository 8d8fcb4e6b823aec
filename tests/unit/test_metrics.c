/* Metrics registry: exact exposition text (labels, escaping, gauges, callback gauges,
 * histograms, ordering), number formatting, exact sums under concurrent updates, child
 * removal (and that a removed callback is never called again), and rejected registrations. */
#include "common/metrics.h"
#include "common/sl_err.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static double lag_cb(void *arg)
{
    int *calls = arg;
    (*calls)++;
    return 42;
}

static void test_render_exact(void **state)
{
    (void)state;
    metrics_registry *r = metrics_new();
    metrics_family *ev = metrics_family_new(r, METRICS_COUNTER, "sluice_events_total",
                                            "Events consumed.\nPer partition \\ table.",
                                            (const char *[]){"table", "partition"}, 2);
    assert_non_null(ev);
    metrics_counter *c3 = metrics_counter_with(ev, (const char *[]){"events", "3"});
    metrics_counter *cw = metrics_counter_with(ev, (const char *[]){"we\"ird\\x\ny", "0"});
    assert_non_null(c3);
    assert_non_null(cw);
    /* The same values give the same child, so callers may look up twice safely. */
    assert_ptr_equal(metrics_counter_with(ev, (const char *[]){"events", "3"}), c3);
    metrics_counter_add(c3, 5);
    metrics_counter_add(c3, 2);
    metrics_counter_add(cw, 1);

    metrics_family *up = metrics_family_new(r, METRICS_GAUGE, "sluice_up", "Up.", NULL, 0);
    metrics_gauge *g = metrics_gauge_with(up, NULL);
    metrics_gauge_set(g, 10);
    metrics_gauge_add(g, -9);

    metrics_family *ratio =
        metrics_family_new(r, METRICS_GAUGE_F64, "sluice_ratio", "Ratio.", NULL, 0);
    metrics_gauge *gr = metrics_gauge_with(ratio, NULL);
    metrics_gauge_set_f64(gr, 0.125);
    metrics_gauge_add_f64(gr, 0.125);

    metrics_family *lag = metrics_family_new(r, METRICS_GAUGE, "sluice_lag", "Lag.",
                                             (const char *[]){"partition"}, 1);
    int calls = 0;
    assert_int_equal(metrics_gauge_fn(lag, (const char *[]){"7"}, lag_cb, &calls), 0);

    metrics_family *cs =
        metrics_family_new(r, METRICS_COUNTER_F64, "sluice_cpu_seconds_total", "CPU.", NULL, 0);
    metrics_counter *cpu = metrics_counter_with(cs, NULL);
    metrics_counter_add_f64(cpu, 1.5);
    metrics_counter_add_f64(cpu, -3); /* ignored */

    metrics_family *bs =
        metrics_histogram_new(r, "sluice_build_seconds", "Build time.", (const char *[]){"table"},
                              1, (const double[]){0.1, 1, 10}, 3);
    assert_non_null(bs);
    metrics_histogram *h = metrics_histogram_with(bs, (const char *[]){"events"});
    metrics_histogram_observe(h, 0.05);
    metrics_histogram_observe(h, 0.1); /* upper bounds are inclusive */
    metrics_histogram_observe(h, 0.5);
    metrics_histogram_observe(h, 5);
    metrics_histogram_observe(h, 50);

    metrics_family *empty =
        metrics_family_new(r, METRICS_COUNTER, "sluice_empty_total", "No children.", NULL, 0);
    assert_non_null(empty);

    const char *want = "# HELP sluice_events_total Events consumed.\\nPer partition \\\\ table.\n"
                       "# TYPE sluice_events_total counter\n"
                       "sluice_events_total{table=\"events\",partition=\"3\"} 7\n"
                       "sluice_events_total{table=\"we\\\"ird\\\\x\\ny\",partition=\"0\"} 1\n"
                       "# HELP sluice_up Up.\n"
                       "# TYPE sluice_up gauge\n"
                       "sluice_up 1\n"
                       "# HELP sluice_ratio Ratio.\n"
                       "# TYPE sluice_ratio gauge\n"
                       "sluice_ratio 0.25\n"
                       "# HELP sluice_lag Lag.\n"
                       "# TYPE sluice_lag gauge\n"
                       "sluice_lag{partition=\"7\"} 42\n"
                       "# HELP sluice_cpu_seconds_total CPU.\n"
                       "# TYPE sluice_cpu_seconds_total counter\n"
                       "sluice_cpu_seconds_total 1.5\n"
                       "# HELP sluice_build_seconds Build time.\n"
                       "# TYPE sluice_build_seconds histogram\n"
                       "sluice_build_seconds_bucket{table=\"events\",le=\"0.1\"} 2\n"
                       "sluice_build_seconds_bucket{table=\"events\",le=\"1\"} 3\n"
                       "sluice_build_seconds_bucket{table=\"events\",le=\"10\"} 4\n"
                       "sluice_build_seconds_bucket{table=\"events\",le=\"+Inf\"} 5\n"
                       "sluice_build_seconds_sum{table=\"events\"} 55.65\n"
                       "sluice_build_seconds_count{table=\"events\"} 5\n"
                       "# HELP sluice_empty_total No children.\n"
                       "# TYPE sluice_empty_total counter\n";
    size_t len = 0;
    char *got = metrics_render(r, &len);
    assert_string_equal(got, want);
    assert_int_equal(len, strlen(want));
    assert_int_equal(calls, 1);
    free(got);
    assert_int_equal(metrics_counter_get(c3), 7);
    assert_int_equal(metrics_gauge_get(g), 1);
    assert_true(metrics_gauge_get_f64(gr) == 0.25);
    assert_true(metrics_counter_get_f64(cpu) == 1.5);
    metrics_free(r);
}

static void test_empty_registry(void **state)
{
    (void)state;
    metrics_registry *r = metrics_new();
    size_t len = 99;
    char *s = metrics_render(r, &len);
    assert_non_null(s);
    assert_int_equal(len, 0);
    assert_string_equal(s, "");
    free(s);
    metrics_free(r);
}

static void test_fmt_double(void **state)
{
    (void)state;
    static const struct {
        double v;
        const char *s;
    } cases[] = {
        {0, "0"},
        {1, "1"},
        {0.005, "0.005"},
        {2.5, "2.5"},
        {0.1, "0.1"},
        {100000, "100000"},
        {123456, "123456"},
        {1e6, "1e+06"},
        {1234567, "1.234567e+06"},
        {0.0001, "0.0001"},
        {0.00001, "1e-05"},
        {-7.25, "-7.25"},
        {1.0 / 3, "0.3333333333333333"},
        {9007199254740993.0, "9.007199254740992e+15"},
        {INFINITY, "+Inf"},
        {-INFINITY, "-Inf"},
        {NAN, "NaN"},
    };
    char buf[32];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = metrics_fmt_double(buf, cases[i].v);
        assert_string_equal(buf, cases[i].s);
        assert_int_equal(n, strlen(cases[i].s));
    }
}

#define NTHREADS 4
#define NITER 200000

typedef struct worker {
    metrics_counter *c;
    metrics_counter *cf;
    metrics_histogram *h;
    metrics_gauge *g;
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < NITER; i++) {
        metrics_counter_add(w->c, 3);
        metrics_counter_add_f64(w->cf, 0.5);
        metrics_histogram_observe(w->h, (i & 1) ? 0.25 : 4);
        metrics_gauge_add(w->g, (i & 1) ? 1 : -1);
    }
    return NULL;
}

static void test_concurrent_sums(void **state)
{
    (void)state;
    metrics_registry *r = metrics_new();
    metrics_family *fc = metrics_family_new(r, METRICS_COUNTER, "c_total", "c", NULL, 0);
    metrics_family *ff = metrics_family_new(r, METRICS_COUNTER_F64, "f_total", "f", NULL, 0);
    metrics_family *fg = metrics_family_new(r, METRICS_GAUGE, "g", "g", NULL, 0);
    metrics_family *fh = metrics_histogram_new(r, "h", "h", NULL, 0, (const double[]){1}, 1);
    worker w = {
        .c = metrics_counter_with(fc, NULL),
        .cf = metrics_counter_with(ff, NULL),
        .h = metrics_histogram_with(fh, NULL),
        .g = metrics_gauge_with(fg, NULL),
    };
    pthread_t th[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w), 0);
    /* Render while the writers run: it must not block them or crash. */
    for (int i = 0; i < 20; i++)
        free(metrics_render(r, NULL));
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);

    assert_int_equal(metrics_counter_get(w.c), (int64_t)NTHREADS * NITER * 3);
    assert_true(metrics_counter_get_f64(w.cf) == NTHREADS * NITER * 0.5);
    assert_int_equal(metrics_gauge_get(w.g), 0);
    char *s = metrics_render(r, NULL);
    char want[256], sum[32];
    metrics_fmt_double(sum, NTHREADS * NITER / 2 * 4.0 + NTHREADS * NITER / 2 * 0.25);
    snprintf(want, sizeof want,
             "h_bucket{le=\"1\"} %d\nh_bucket{le=\"+Inf\"} %d\nh_sum %s\nh_count %d\n",
             NTHREADS * NITER / 2, NTHREADS * NITER, sum, NTHREADS * NITER);
    assert_non_null(strstr(s, want));
    free(s);
    metrics_free(r);
}

static void test_remove(void **state)
{
    (void)state;
    metrics_registry *r = metrics_new();
    metrics_family *f = metrics_family_new(r, METRICS_COUNTER, "rows_total", "Rows.",
                                           (const char *[]){"partition"}, 1);
    metrics_family *lag =
        metrics_family_new(r, METRICS_GAUGE_F64, "lag", "Lag.", (const char *[]){"partition"}, 1);
    metrics_counter *a = metrics_counter_with(f, (const char *[]){"0"});
    metrics_counter *b = metrics_counter_with(f, (const char *[]){"1"});
    metrics_counter_add(a, 10);
    metrics_counter_add(b, 20);
    int calls = 0;
    assert_int_equal(metrics_gauge_fn(lag, (const char *[]){"1"}, lag_cb, &calls), 0);
    assert_int_equal(metrics_gauge_fn(lag, (const char *[]){"1"}, lag_cb, &calls), SL_EEXIST);
    /* A callback child hands out no atomics. */
    assert_null(metrics_gauge_with(lag, (const char *[]){"1"}));

    assert_int_equal(metrics_child_remove(f, (const char *[]){"0"}), 0);
    assert_int_equal(metrics_child_remove(f, (const char *[]){"0"}), SL_ENOENT);
    assert_int_equal(metrics_child_remove(lag, (const char *[]){"1"}), 0);
    char *s = metrics_render(r, NULL);
    assert_string_equal(s, "# HELP rows_total Rows.\n# TYPE rows_total counter\n"
                           "rows_total{partition=\"1\"} 20\n"
                           "# HELP lag Lag.\n# TYPE lag gauge\n");
    free(s);
    assert_int_equal(calls, 0); /* removed before any render: never called */

    /* Re-created after removal: a fresh child at 0, placed after the survivors. */
    a = metrics_counter_with(f, (const char *[]){"0"});
    assert_int_equal(metrics_counter_get(a), 0);
    metrics_counter_add(a, 1);
    s = metrics_render(r, NULL);
    assert_non_null(strstr(s, "rows_total{partition=\"1\"} 20\nrows_total{partition=\"0\"} 1\n"));
    free(s);
    metrics_free(r);
}

/* Thousands of children (one per partition): each label set finds its own child after growth
 * and after removals in the middle, and the exposition keeps creation order. */
static void test_many_children(void **state)
{
    (void)state;
    metrics_registry *r = metrics_new();
    static const char *const labels[] = {"table", "partition"};
    metrics_family *f = metrics_family_new(r, METRICS_COUNTER, "m_total", "h", labels, 2);
    enum { N = 10000 };
    char part[16];
    for (int i = 0; i < N; i++) {
        snprintf(part, sizeof part, "%d", i);
        const char *v[] = {i % 2 ? "a" : "b", part};
        metrics_counter_add(metrics_counter_with(f, v), (uint64_t)i);
    }
    for (int i = 0; i < N; i += 3) {
        snprintf(part, sizeof part, "%d", i);
        const char *v[] = {i % 2 ? "a" : "b", part};
        assert_int_equal(metrics_child_remove(f, v), 0);
        assert_int_equal(metrics_child_remove(f, v), SL_ENOENT);
    }
    for (int i = 0; i < N; i++) {
        snprintf(part, sizeof part, "%d", i);
        const char *v[] = {i % 2 ? "a" : "b", part};
        metrics_counter *c = metrics_counter_with(f, v); /* found, or made anew at 0 */
        assert_int_equal(metrics_counter_get(c), i % 3 == 0 ? 0 : i);
        const char *w[] = {i % 2 ? "b" : "a", part}; /* the other table: a child of its own */
        assert_int_equal(metrics_counter_get(metrics_counter_with(f, w)), 0);
    }
    size_t len;
    char *text = metrics_render(r, &len);
    const char *one = strstr(text, "m_total{table=\"a\",partition=\"1\"} 1\n");
    const char *two = strstr(text, "m_total{table=\"b\",partition=\"2\"} 2\n");
    assert_non_null(one);
    assert_non_null(two);
    assert_true(one < two); /* creation order */
    free(text);
    metrics_free(r);
}

static void test_bad_registrations(void **state)
{
    (void)state;
    metrics_registry *r = metrics_new();
    assert_non_null(metrics_family_new(r, METRICS_COUNTER, "ok:name_1", "x", NULL, 0));
    assert_null(metrics_family_new(r, METRICS_COUNTER, "ok:name_1", "dup", NULL, 0));
    assert_null(metrics_family_new(r, METRICS_COUNTER, "1bad", "x", NULL, 0));
    assert_null(metrics_family_new(r, METRICS_COUNTER, "bad-name", "x", NULL, 0));
    assert_null(metrics_family_new(r, METRICS_COUNTER, "", "x", NULL, 0));
    assert_null(metrics_family_new(r, METRICS_GAUGE, "g1", "x", (const char *[]){"a:b"}, 1));
    assert_null(metrics_family_new(r, METRICS_GAUGE, "g2", "x", (const char *[]){"__x"}, 1));
    assert_null(metrics_family_new(r, METRICS_GAUGE, "g3", "x", (const char *[]){"a", "a"}, 2));
    assert_null(metrics_family_new(r, METRICS_GAUGE, "g4", "x", NULL, 1));
    assert_null(metrics_family_new(r, METRICS_HISTOGRAM, "h0", "x", NULL, 0));
    assert_null(
        metrics_histogram_new(r, "h1", "x", (const char *[]){"le"}, 1, (const double[]){1}, 1));
    assert_null(metrics_histogram_new(r, "h2", "x", NULL, 0, (const double[]){1, 1}, 2));
    assert_null(metrics_histogram_new(r, "h3", "x", NULL, 0, (const double[]){2, 1}, 2));
    assert_null(metrics_histogram_new(r, "h4", "x", NULL, 0, (const double[]){NAN}, 1));
    assert_null(metrics_histogram_new(r, "h5", "x", NULL, 0, NULL, 0));
    /* Label "le" is fine outside histograms. */
    metrics_family *g = metrics_family_new(r, METRICS_GAUGE, "g5", "x", (const char *[]){"le"}, 1);
    assert_non_null(g);
    /* Wrong kind of child, missing values. */
    assert_null(metrics_counter_with(g, (const char *[]){"1"}));
    assert_null(metrics_histogram_with(g, (const char *[]){"1"}));
    assert_null(metrics_gauge_with(g, NULL));
    assert_null(metrics_gauge_with(g, (const char *[]){NULL}));
    assert_int_equal(metrics_gauge_fn(g, (const char *[]){"1"}, NULL, NULL), SL_EINVAL);
    assert_int_equal(metrics_child_remove(g, NULL), SL_EINVAL);
    metrics_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_exact), cmocka_unit_test(test_empty_registry),
        cmocka_unit_test(test_fmt_double),   cmocka_unit_test(test_concurrent_sums),
        cmocka_unit_test(test_remove),       cmocka_unit_test(test_many_children),
        cmocka_unit_test(test_bad_registrations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
