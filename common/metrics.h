/* Prometheus metrics: a registry owned by one process context, rendered in text format 0.0.4.
 *
 * A family (name, help, type, FIXED label names) is registered once; each combination of label
 * values is a child, created once (under the registry mutex) and kept by the caller. Updating a
 * child is one relaxed atomic operation: no lookup, no lock, no allocation, so a partition
 * consumer can count every row. Children are cache-line aligned so two partitions' counters
 * never share a line.
 *
 * Ordering: families render in registration order, children in creation order. A histogram's
 * _count is the sum of its buckets read at render time, so `+Inf` bucket == _count always.
 *
 * Lifetimes: a child lives until metrics_child_remove() or metrics_free(). Removing a child
 * frees it at once, so the caller must first make sure no other thread still updates it
 * (stop the partition's consumer, then remove its children). A callback gauge is never called
 * after metrics_child_remove() returns, so its argument may be freed then.
 *
 * Threads: every function may be called from any thread. Registration, child creation, removal
 * and rendering serialize on the registry mutex; updates take no lock. */
#ifndef SL_METRICS_H
#define SL_METRICS_H

#include <stddef.h>
#include <stdint.h>

typedef struct metrics_registry metrics_registry;
typedef struct metrics_family metrics_family;
typedef struct metrics_counter metrics_counter;
typedef struct metrics_gauge metrics_gauge;
typedef struct metrics_histogram metrics_histogram;

typedef enum metrics_type {
    METRICS_COUNTER,     /* int64, only grows: metrics_counter_add */
    METRICS_COUNTER_F64, /* double, only grows: metrics_counter_add_f64 */
    METRICS_GAUGE,       /* int64: metrics_gauge_set / _add, or a callback child */
    METRICS_GAUGE_F64,   /* double: metrics_gauge_set_f64 / _add_f64, or a callback child */
    METRICS_HISTOGRAM,   /* fixed buckets: register with metrics_histogram_new */
} metrics_type;

/* Value of a callback-backed gauge child, called at render time under the registry mutex:
 * it must be quick and must not call back into this registry. */
typedef double (*metrics_gauge_cb)(void *arg);

/* A new empty registry; caller frees with metrics_free. */
metrics_registry *metrics_new(void);

/* Free the registry, its families and all children (every child pointer becomes invalid). */
void metrics_free(metrics_registry *r);

/* Register a counter or gauge family. name must match [a-zA-Z_:][a-zA-Z0-9_:]*, label names
 * [a-zA-Z_][a-zA-Z0-9_]* (not starting with "__", no duplicates). Strings are copied.
 * Returns NULL (and logs why) on an invalid name, a name already registered, or
 * type == METRICS_HISTOGRAM. The family is owned by the registry. */
metrics_family *metrics_family_new(metrics_registry *r, metrics_type type, const char *name,
                                   const char *help, const char *const *label_names,
                                   size_t nlabels);

/* Register a histogram family with upper bounds `bounds` (strictly increasing, finite; the
 * +Inf bucket is implicit; 1..64 of them; copied). Label "le" is reserved. NULL on bad input. */
metrics_family *metrics_histogram_new(metrics_registry *r, const char *name, const char *help,
                                      const char *const *label_names, size_t nlabels,
                                      const double *bounds, size_t nbounds);

/* The child of family f for label values `values` (exactly the family's label count; may be
 * NULL when it has none), created at 0 on first use and returned again afterwards. Values are
 * copied; any bytes are allowed (escaped when rendered). The pointer is owned by the registry
 * and valid until metrics_child_remove or metrics_free. NULL if f has another type, a value
 * is NULL, or the child exists as a callback gauge. */
metrics_counter *metrics_counter_with(metrics_family *f, const char *const *values);
metrics_gauge *metrics_gauge_with(metrics_family *f, const char *const *values);
metrics_histogram *metrics_histogram_with(metrics_family *f, const char *const *values);

/* Add a callback-backed child to a gauge family (int or f64): its value is fn(arg) at render
 * time (e.g. lag read from another thread's atomics, or RSS). arg stays owned by the caller and
 * must outlive the child. Returns 0, SL_EEXIST if a child with these values exists, or
 * SL_EINVAL (not a gauge family, NULL fn or value). */
int metrics_gauge_fn(metrics_family *f, const char *const *values, metrics_gauge_cb fn, void *arg);

/* Remove and free the child with these label values (any type). No other thread may use the
 * child's pointer once this is called. Returns 0 or SL_ENOENT. */
int metrics_child_remove(metrics_family *f, const char *const *values);

/* Hot path: one relaxed atomic each. Using a child of the wrong type is a bug (asserts).
 * metrics_counter_add_f64 ignores negative and NaN amounts (a counter never goes down). */
void metrics_counter_add(metrics_counter *c, uint64_t n);
void metrics_counter_add_f64(metrics_counter *c, double v);
void metrics_gauge_set(metrics_gauge *g, int64_t v);
void metrics_gauge_add(metrics_gauge *g, int64_t delta);
void metrics_gauge_set_f64(metrics_gauge *g, double v);
void metrics_gauge_add_f64(metrics_gauge *g, double delta);
void metrics_histogram_observe(metrics_histogram *h, double v);

/* Current values (relaxed reads), for tests and for code that reports a metric elsewhere. */
int64_t metrics_counter_get(const metrics_counter *c);
double metrics_counter_get_f64(const metrics_counter *c);
int64_t metrics_gauge_get(const metrics_gauge *g);
double metrics_gauge_get_f64(const metrics_gauge *g);

/* Render every family in Prometheus text format 0.0.4 (serve with Content-Type
 * "text/plain; version=0.0.4; charset=utf-8"). Returns a NUL-terminated buffer of *len bytes
 * (len may be NULL); caller frees with free(). Calls the gauge callbacks. */
char *metrics_render(metrics_registry *r, size_t *len);

/* Format a sample value as Prometheus' Go client does (strconv 'g' with shortest round-trip
 * digits: exponent form below 1e-4 and from 1e6 on, e.g. "0.005", "123456", "1e+06";
 * "+Inf", "-Inf", "NaN"). buf needs 32 bytes. Returns the length written. */
size_t metrics_fmt_double(char *buf, double v);

#endif
