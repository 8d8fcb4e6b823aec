/* Prometheus metrics registry (see metrics.h).
 *
 * Layout: the registry holds an array of families in registration order; each family holds an
 * array of child pointers in creation order. Both arrays change only under r->mu. A child is a
 * separately allocated, 64-byte aligned block whose first words are its atomics, so the hot
 * path touches one cache line that no other child shares.
 *
 * Values: int counters and gauges live in `ival`; double ones, and a histogram's sum, live in
 * `fbits` as the IEEE-754 bit pattern, updated with a compare-and-swap loop (C11 has no
 * atomic add on doubles). Histogram buckets count non-cumulatively (one atomic add per
 * observation) and are summed into cumulative form at render time. */
#include "common/metrics.h"

#include "common/log.h"
#include "common/sl_err.h"
#include "common/xalloc.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define METRICS_MAX_BOUNDS 64
#define METRICS_MAX_LABELS 16
#define METRICS_CACHE_LINE 64

typedef struct metrics_child {
    _Atomic int64_t ival;
    _Atomic uint64_t fbits;
    _Atomic uint64_t *buckets; /* histogram: nbounds + 1 counters, the last is +Inf */
    metrics_gauge_cb fn;       /* callback gauge, else NULL */
    void *fn_arg;
    char **values; /* nlabels owned copies */
    const struct metrics_family *fam;
} metrics_child;

/* The public child types wrap the one internal layout, so each API takes only its own kind. */
struct metrics_counter {
    metrics_child c;
};
struct metrics_gauge {
    metrics_child c;
};
struct metrics_histogram {
    metrics_child c;
};

struct metrics_family {
    metrics_registry *reg;
    metrics_type type;
    char *name;
    char *help;
    char **labels;
    size_t nlabels;
    double *bounds;
    size_t nbounds;
    metrics_child **children; /* in creation order: the exposition's order; NULL: removed */
    size_t nchildren, cap;
    size_t nremoved;          /* NULL entries in children, squeezed out when half are */
    size_t *slots;            /* hash index of children by label values: index + 1, 0 empty */
    size_t nslots;            /* a power of two, at least twice nchildren (or 0) */
};

struct metrics_registry {
    pthread_mutex_t mu;
    metrics_family **fams;
    size_t nfams, cap;
};

static uint64_t metrics__dbits(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

static double metrics__bitsd(uint64_t b)
{
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
}

metrics_registry *metrics_new(void)
{
    metrics_registry *r = sl_xmalloc(sizeof *r);
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    return r;
}

static void metrics__child_free(const metrics_family *f, metrics_child *ch)
{
    for (size_t i = 0; i < f->nlabels; i++)
        free(ch->values[i]);
    free(ch->values);
    free((void *)ch->buckets);
    free(ch);
}

static void metrics__family_free(metrics_family *f)
{
    for (size_t i = 0; i < f->nchildren; i++)
        if (f->children[i]) metrics__child_free(f, f->children[i]);
    for (size_t i = 0; i < f->nlabels; i++)
        free(f->labels[i]);
    free(f->labels);
    free(f->children);
    free(f->slots);
    free(f->bounds);
    free(f->name);
    free(f->help);
    free(f);
}

void metrics_free(metrics_registry *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->nfams; i++)
        metrics__family_free(r->fams[i]);
    free(r->fams);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

static bool metrics__valid_name(const char *s, bool colon_ok)
{
    if (!s || !*s) return false;
    for (const char *p = s; *p; p++) {
        char c = *p;
        bool alpha =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_ok && c == ':');
        if (!alpha && !(p != s && c >= '0' && c <= '9')) return false;
    }
    return true;
}

/* Validate and copy the common parts; r->mu held. NULL on bad input (logged). */
static metrics_family *metrics__family_make(metrics_registry *r, metrics_type type,
                                            const char *name, const char *help,
                                            const char *const *label_names, size_t nlabels)
{
    if (!metrics__valid_name(name, true)) {
        SL_ERROR("metrics", "invalid metric name name=%s", name ? name : "(null)");
        return NULL;
    }
    if (nlabels > METRICS_MAX_LABELS || (nlabels && !label_names)) {
        SL_ERROR("metrics", "bad label list metric=%s nlabels=%zu", name, nlabels);
        return NULL;
    }
    for (size_t i = 0; i < nlabels; i++) {
        const char *l = label_names[i];
        if (!metrics__valid_name(l, false) || strncmp(l, "__", 2) == 0 ||
            (type == METRICS_HISTOGRAM && strcmp(l, "le") == 0)) {
            SL_ERROR("metrics", "invalid label name metric=%s label=%s", name, l ? l : "(null)");
            return NULL;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(label_names[j], l) == 0) {
                SL_ERROR("metrics", "duplicate label metric=%s label=%s", name, l);
                return NULL;
            }
        }
    }
    for (size_t i = 0; i < r->nfams; i++) {
        if (strcmp(r->fams[i]->name, name) == 0) {
            SL_ERROR("metrics", "metric registered twice name=%s", name);
            return NULL;
        }
    }
    metrics_family *f = sl_xmalloc(sizeof *f);
    memset(f, 0, sizeof *f);
    f->reg = r;
    f->type = type;
    f->name = sl_xstrdup(name);
    f->help = sl_xstrdup(help ? help : "");
    f->nlabels = nlabels;
    f->labels = sl_xmalloc(nlabels * sizeof *f->labels);
    for (size_t i = 0; i < nlabels; i++)
        f->labels[i] = sl_xstrdup(label_names[i]);
    return f;
}

static void metrics__family_append(metrics_registry *r, metrics_family *f)
{
    if (r->nfams == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->fams = sl_xrealloc(r->fams, r->cap * sizeof *r->fams);
    }
    r->fams[r->nfams++] = f;
}

metrics_family *metrics_family_new(metrics_registry *r, metrics_type type, const char *name,
                                   const char *help, const char *const *label_names, size_t nlabels)
{
    if (type != METRICS_COUNTER && type != METRICS_COUNTER_F64 && type != METRICS_GAUGE &&
        type != METRICS_GAUGE_F64) {
        SL_ERROR("metrics", "use metrics_histogram_new for histograms name=%s",
                 name ? name : "(null)");
        return NULL;
    }
    pthread_mutex_lock(&r->mu);
    metrics_family *f = metrics__family_make(r, type, name, help, label_names, nlabels);
    if (f) metrics__family_append(r, f);
    pthread_mutex_unlock(&r->mu);
    return f;
}

metrics_family *metrics_histogram_new(metrics_registry *r, const char *name, const char *help,
                                      const char *const *label_names, size_t nlabels,
                                      const double *bounds, size_t nbounds)
{
    if (!bounds || nbounds == 0 || nbounds > METRICS_MAX_BOUNDS) {
        SL_ERROR("metrics", "histogram needs 1..%d bounds name=%s", METRICS_MAX_BOUNDS,
                 name ? name : "(null)");
        return NULL;
    }
    for (size_t i = 0; i < nbounds; i++) {
        if (!isfinite(bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1]))) {
            SL_ERROR("metrics", "histogram bounds must be finite and increasing name=%s",
                     name ? name : "(null)");
            return NULL;
        }
    }
    pthread_mutex_lock(&r->mu);
    metrics_family *f =
        metrics__family_make(r, METRICS_HISTOGRAM, name, help, label_names, nlabels);
    if (f) {
        f->nbounds = nbounds;
        f->bounds = sl_xmalloc(nbounds * sizeof *f->bounds);
        memcpy(f->bounds, bounds, nbounds * sizeof *f->bounds);
        metrics__family_append(r, f);
    }
    pthread_mutex_unlock(&r->mu);
    return f;
}

static uint64_t metrics__hash(const metrics_family *f, const char *const *values)
{
    uint64_t h = UINT64_C(1469598103934665603); /* FNV-1a, a 0xff between values */
    for (size_t k = 0; k < f->nlabels; k++) {
        for (const unsigned char *c = (const unsigned char *)values[k]; *c; c++)
            h = (h ^ *c) * UINT64_C(1099511628211);
        h = (h ^ 0xff) * UINT64_C(1099511628211);
    }
    return h;
}

static bool metrics__same(const metrics_family *f, const metrics_child *ch,
                          const char *const *values)
{
    for (size_t k = 0; k < f->nlabels; k++)
        if (strcmp(ch->values[k], values[k]) != 0) return false;
    return true;
}

/* Rebuild the hash index for at least `want` children (after growth or a removal). */
static void metrics__reindex(metrics_family *f, size_t want)
{
    size_t n = 16;
    while (n < 2 * want) n *= 2;
    free(f->slots);
    f->slots = sl_xcalloc(n, sizeof *f->slots);
    f->nslots = n;
    for (size_t i = 0; i < f->nchildren; i++) {
        if (!f->children[i]) continue;
        size_t at = (size_t)metrics__hash(f, (const char *const *)f->children[i]->values) & (n - 1);
        while (f->slots[at]) at = (at + 1) & (n - 1);
        f->slots[at] = i + 1;
    }
}

/* Index of the child with these values, or -1; f->reg->mu held. A family has one child per
 * partition a sidecar consumes: thousands, so a hash index rather than a scan. */
static ssize_t metrics__find(const metrics_family *f, const char *const *values)
{
    if (!f->nslots) return -1;
    size_t at = (size_t)metrics__hash(f, values) & (f->nslots - 1);
    for (; f->slots[at]; at = (at + 1) & (f->nslots - 1))
        if (f->children[f->slots[at] - 1] &&
            metrics__same(f, f->children[f->slots[at] - 1], values))
            return (ssize_t)(f->slots[at] - 1);
    return -1;
}

static bool metrics__values_ok(const metrics_family *f, const char *const *values)
{
    if (f->nlabels && !values) return false;
    for (size_t i = 0; i < f->nlabels; i++)
        if (!values[i]) return false;
    return true;
}

/* Find or create; with fn != NULL create a callback child and fail if one exists. */
static metrics_child *metrics__child_get(metrics_family *f, const char *const *values,
                                         metrics_gauge_cb fn, void *arg, int *err)
{
    *err = SL_EINVAL;
    if (!metrics__values_ok(f, values)) {
        SL_ERROR("metrics", "missing label value metric=%s", f->name);
        return NULL;
    }
    metrics_registry *r = f->reg;
    metrics_child *ch = NULL;
    pthread_mutex_lock(&r->mu);
    ssize_t at = metrics__find(f, values);
    if (at >= 0) {
        ch = f->children[at];
        if (fn || ch->fn) { /* a callback child has no atomics to hand out */
            *err = SL_EEXIST;
            ch = NULL;
        } else {
            *err = 0;
        }
        goto done;
    }
    size_t chlen = (sizeof *ch + METRICS_CACHE_LINE - 1) / METRICS_CACHE_LINE * METRICS_CACHE_LINE;
    ch = aligned_alloc(METRICS_CACHE_LINE, chlen);
    if (!ch) sl_xoom(chlen);
    memset(ch, 0, sizeof *ch);
    atomic_init(&ch->ival, 0);
    atomic_init(&ch->fbits, metrics__dbits(0.0));
    ch->fam = f;
    ch->fn = fn;
    ch->fn_arg = arg;
    ch->values = sl_xmalloc(f->nlabels * sizeof *ch->values);
    for (size_t i = 0; i < f->nlabels; i++)
        ch->values[i] = sl_xstrdup(values[i]);
    if (f->type == METRICS_HISTOGRAM) {
        ch->buckets = sl_xmalloc((f->nbounds + 1) * sizeof *ch->buckets);
        for (size_t i = 0; i <= f->nbounds; i++)
            atomic_init(&ch->buckets[i], 0);
    }
    if (f->nchildren == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 4;
        f->children = sl_xrealloc(f->children, f->cap * sizeof *f->children);
    }
    f->children[f->nchildren++] = ch;
    if (2 * f->nchildren > f->nslots) {
        metrics__reindex(f, f->nchildren);
    } else {
        size_t at = (size_t)metrics__hash(f, values) & (f->nslots - 1);
        while (f->slots[at]) at = (at + 1) & (f->nslots - 1);
        f->slots[at] = f->nchildren;
    }
    *err = 0;
done:
    pthread_mutex_unlock(&r->mu);
    return ch;
}

metrics_counter *metrics_counter_with(metrics_family *f, const char *const *values)
{
    int err;
    if (f->type != METRICS_COUNTER && f->type != METRICS_COUNTER_F64) return NULL;
    return (metrics_counter *)metrics__child_get(f, values, NULL, NULL, &err);
}

metrics_gauge *metrics_gauge_with(metrics_family *f, const char *const *values)
{
    int err;
    if (f->type != METRICS_GAUGE && f->type != METRICS_GAUGE_F64) return NULL;
    return (metrics_gauge *)metrics__child_get(f, values, NULL, NULL, &err);
}

metrics_histogram *metrics_histogram_with(metrics_family *f, const char *const *values)
{
    int err;
    if (f->type != METRICS_HISTOGRAM) return NULL;
    return (metrics_histogram *)metrics__child_get(f, values, NULL, NULL, &err);
}

int metrics_gauge_fn(metrics_family *f, const char *const *values, metrics_gauge_cb fn, void *arg)
{
    int err;
    if ((f->type != METRICS_GAUGE && f->type != METRICS_GAUGE_F64) || !fn) return SL_EINVAL;
    metrics__child_get(f, values, fn, arg, &err);
    return err;
}

int metrics_child_remove(metrics_family *f, const char *const *values)
{
    if (!metrics__values_ok(f, values)) return SL_EINVAL;
    metrics_registry *r = f->reg;
    pthread_mutex_lock(&r->mu);
    ssize_t at = metrics__find(f, values);
    if (at < 0) {
        pthread_mutex_unlock(&r->mu);
        return SL_ENOENT;
    }
    metrics_child *ch = f->children[at];
    /* O(1): the entry becomes a hole (its slot stays, skipped by find), and the holes are
     * squeezed out once they are half the array, so removing every child of a family of
     * 70,000 (a sidecar with 10,000 partitions stopping) is linear, not quadratic */
    f->children[at] = NULL;
    if (2 * ++f->nremoved > f->nchildren) {
        size_t k = 0;
        for (size_t i = 0; i < f->nchildren; i++)
            if (f->children[i]) f->children[k++] = f->children[i];
        f->nchildren = k;
        f->nremoved = 0;
        metrics__reindex(f, k);
    }
    pthread_mutex_unlock(&r->mu);
    metrics__child_free(f, ch);
    return 0;
}

/* ---- hot path ---- */

static void metrics__fadd(_Atomic uint64_t *bits, double v)
{
    uint64_t old = atomic_load_explicit(bits, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(bits, &old,
                                                  metrics__dbits(metrics__bitsd(old) + v),
                                                  memory_order_relaxed, memory_order_relaxed)) {
    }
}

void metrics_counter_add(metrics_counter *c, uint64_t n)
{
    assert(c->c.fam->type == METRICS_COUNTER);
    atomic_fetch_add_explicit(&c->c.ival, (int64_t)n, memory_order_relaxed);
}

void metrics_counter_add_f64(metrics_counter *c, double v)
{
    assert(c->c.fam->type == METRICS_COUNTER_F64);
    if (!(v > 0)) return; /* negative or NaN: a counter never goes down */
    metrics__fadd(&c->c.fbits, v);
}

void metrics_gauge_set(metrics_gauge *g, int64_t v)
{
    assert(g->c.fam->type == METRICS_GAUGE && !g->c.fn);
    atomic_store_explicit(&g->c.ival, v, memory_order_relaxed);
}

void metrics_gauge_add(metrics_gauge *g, int64_t delta)
{
    assert(g->c.fam->type == METRICS_GAUGE && !g->c.fn);
    atomic_fetch_add_explicit(&g->c.ival, delta, memory_order_relaxed);
}

void metrics_gauge_set_f64(metrics_gauge *g, double v)
{
    assert(g->c.fam->type == METRICS_GAUGE_F64 && !g->c.fn);
    atomic_store_explicit(&g->c.fbits, metrics__dbits(v), memory_order_relaxed);
}

void metrics_gauge_add_f64(metrics_gauge *g, double delta)
{
    assert(g->c.fam->type == METRICS_GAUGE_F64 && !g->c.fn);
    metrics__fadd(&g->c.fbits, delta);
}

void metrics_histogram_observe(metrics_histogram *h, double v)
{
    const metrics_family *f = h->c.fam;
    assert(f->type == METRICS_HISTOGRAM);
    /* Bucket i counts bounds[i-1] < v <= bounds[i]; NaN falls into +Inf like Go's client. */
    size_t lo = 0, hi = f->nbounds;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v <= f->bounds[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    atomic_fetch_add_explicit(&h->c.buckets[lo], 1, memory_order_relaxed);
    metrics__fadd(&h->c.fbits, v);
}

int64_t metrics_counter_get(const metrics_counter *c)
{
    return atomic_load_explicit(&((metrics_counter *)c)->c.ival, memory_order_relaxed);
}

double metrics_counter_get_f64(const metrics_counter *c)
{
    return metrics__bitsd(
        atomic_load_explicit(&((metrics_counter *)c)->c.fbits, memory_order_relaxed));
}

int64_t metrics_gauge_get(const metrics_gauge *g)
{
    return atomic_load_explicit(&((metrics_gauge *)g)->c.ival, memory_order_relaxed);
}

double metrics_gauge_get_f64(const metrics_gauge *g)
{
    return metrics__bitsd(
        atomic_load_explicit(&((metrics_gauge *)g)->c.fbits, memory_order_relaxed));
}

/* ---- exposition ---- */

size_t metrics_fmt_double(char *buf, double v)
{
    if (isnan(v)) return (size_t)sprintf(buf, "NaN");
    if (isinf(v)) return (size_t)sprintf(buf, v > 0 ? "+Inf" : "-Inf");
    if (v == 0) return (size_t)sprintf(buf, signbit(v) ? "-0" : "0");
    /* Shortest digit count that reads back exactly, found through %e. */
    char e[32];
    int p = 1;
    for (; p < 17; p++) {
        snprintf(e, sizeof e, "%.*e", p - 1, v);
        if (strtod(e, NULL) == v) break;
    }
    snprintf(e, sizeof e, "%.*e", p - 1, v);
    int exp = atoi(strchr(e, 'e') + 1);
    /* Go's 'g' with shortest precision switches to exponent form at exp < -4 || exp >= 6
     * (strconv/ftoa.go: "if precision was the shortest possible, use precision 6"). */
    if (exp < -4 || exp >= 6) {
        memcpy(buf, e, strlen(e) + 1);
        return strlen(buf);
    }
    int decimals = p - 1 - exp;
    return (size_t)sprintf(buf, "%.*f", decimals > 0 ? decimals : 0, v);
}

typedef struct metrics_buf {
    char *p;
    size_t len, cap;
} metrics_buf;

static void metrics__put(metrics_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->p = sl_xrealloc(b->p, cap);
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void metrics__puts(metrics_buf *b, const char *s)
{
    metrics__put(b, s, strlen(s));
}

/* Escape per the text format: HELP escapes backslash and newline; label values also '"'. */
static void metrics__put_escaped(metrics_buf *b, const char *s, bool quote)
{
    const char *run = s;
    for (; *s; s++) {
        const char *rep = NULL;
        if (*s == '\\')
            rep = "\\\\";
        else if (*s == '\n')
            rep = "\\n";
        else if (quote && *s == '"')
            rep = "\\\"";
        if (!rep) continue;
        metrics__put(b, run, (size_t)(s - run));
        metrics__puts(b, rep);
        run = s + 1;
    }
    metrics__put(b, run, (size_t)(s - run));
}

/* `name{l1="v1",...,extra}` where extra is an already formatted `le="..."` or NULL. */
static void metrics__put_series(metrics_buf *b, const metrics_family *f, const char *suffix,
                                const metrics_child *ch, const char *le)
{
    metrics__puts(b, f->name);
    if (suffix) metrics__puts(b, suffix);
    if (f->nlabels == 0 && !le) return;
    metrics__puts(b, "{");
    for (size_t i = 0; i < f->nlabels; i++) {
        if (i) metrics__puts(b, ",");
        metrics__puts(b, f->labels[i]);
        metrics__puts(b, "=\"");
        metrics__put_escaped(b, ch->values[i], true);
        metrics__puts(b, "\"");
    }
    if (le) {
        if (f->nlabels) metrics__puts(b, ",");
        metrics__puts(b, "le=\"");
        metrics__puts(b, le);
        metrics__puts(b, "\"");
    }
    metrics__puts(b, "}");
}

static void metrics__put_f64(metrics_buf *b, double v)
{
    char num[32];
    metrics__put(b, num, metrics_fmt_double(num, v));
}

static void metrics__put_i64(metrics_buf *b, int64_t v)
{
    char num[32];
    metrics__put(b, num, (size_t)snprintf(num, sizeof num, "%" PRId64, v));
}

static void metrics__render_child(metrics_buf *b, const metrics_family *f, metrics_child *ch)
{
    if (f->type == METRICS_HISTOGRAM) {
        uint64_t cum = 0;
        char le[32];
        for (size_t i = 0; i <= f->nbounds; i++) {
            cum += atomic_load_explicit(&ch->buckets[i], memory_order_relaxed);
            if (i < f->nbounds)
                metrics_fmt_double(le, f->bounds[i]);
            else
                strcpy(le, "+Inf");
            metrics__put_series(b, f, "_bucket", ch, le);
            metrics__puts(b, " ");
            metrics__put_i64(b, (int64_t)cum);
            metrics__puts(b, "\n");
        }
        metrics__put_series(b, f, "_sum", ch, NULL);
        metrics__puts(b, " ");
        metrics__put_f64(b, metrics__bitsd(atomic_load_explicit(&ch->fbits, memory_order_relaxed)));
        metrics__puts(b, "\n");
        metrics__put_series(b, f, "_count", ch, NULL);
        metrics__puts(b, " ");
        metrics__put_i64(b, (int64_t)cum);
        metrics__puts(b, "\n");
        return;
    }
    metrics__put_series(b, f, NULL, ch, NULL);
    metrics__puts(b, " ");
    if (ch->fn)
        metrics__put_f64(b, ch->fn(ch->fn_arg));
    else if (f->type == METRICS_COUNTER || f->type == METRICS_GAUGE)
        metrics__put_i64(b, atomic_load_explicit(&ch->ival, memory_order_relaxed));
    else
        metrics__put_f64(b, metrics__bitsd(atomic_load_explicit(&ch->fbits, memory_order_relaxed)));
    metrics__puts(b, "\n");
}

static const char *metrics__type_name(metrics_type t)
{
    switch (t) {
    case METRICS_COUNTER:
    case METRICS_COUNTER_F64:
        return "counter";
    case METRICS_GAUGE:
    case METRICS_GAUGE_F64:
        return "gauge";
    case METRICS_HISTOGRAM:
        return "histogram";
    }
    return "untyped";
}

char *metrics_render(metrics_registry *r, size_t *len)
{
    metrics_buf b = {0};
    metrics__put(&b, "", 0); /* an empty registry still renders as "" */
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->nfams; i++) {
        const metrics_family *f = r->fams[i];
        metrics__puts(&b, "# HELP ");
        metrics__puts(&b, f->name);
        metrics__puts(&b, " ");
        metrics__put_escaped(&b, f->help, false);
        metrics__puts(&b, "\n# TYPE ");
        metrics__puts(&b, f->name);
        metrics__puts(&b, " ");
        metrics__puts(&b, metrics__type_name(f->type));
        metrics__puts(&b, "\n");
        for (size_t k = 0; k < f->nchildren; k++)
            if (f->children[k]) metrics__render_child(&b, f, f->children[k]);
    }
    pthread_mutex_unlock(&r->mu);
    if (len) *len = b.len;
    return b.p;
}
