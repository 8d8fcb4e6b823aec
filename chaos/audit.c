/* The invariant checker (see audit.h). Each check walks the model and adds what it checked and
 * what broke; none reads a clock, a file or the network. */
#include "chaos/audit.h"
#include "common/xalloc.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- the model --------------------------------------------------------------------- */

static void *audit__grow(void *arr, size_t *n, size_t size)
{
    arr = sl_xrealloc(arr, (*n + 1) * size);
    memset((char *)arr + *n * size, 0, size);
    (*n)++;
    return arr;
}

audit_table *audit_add_table(audit_model *m, const char *name)
{
    m->tables = audit__grow(m->tables, &m->ntables, sizeof *m->tables);
    audit_table *t = &m->tables[m->ntables - 1];
    snprintf(t->name, sizeof t->name, "%s", name);
    return t;
}

audit_part *audit_add_part(audit_table *t, int32_t partition)
{
    t->parts = audit__grow(t->parts, &t->nparts, sizeof *t->parts);
    audit_part *p = &t->parts[t->nparts - 1];
    p->partition = partition;
    p->low = p->high = -1;
    return p;
}

audit_seg *audit_add_seg(audit_part *p)
{
    p->segs = audit__grow(p->segs, &p->nsegs, sizeof *p->segs);
    return &p->segs[p->nsegs - 1];
}

audit_copy *audit_add_copy(audit_seg *s, const char *instance)
{
    s->copies = audit__grow(s->copies, &s->ncopies, sizeof *s->copies);
    audit_copy *c = &s->copies[s->ncopies - 1];
    snprintf(c->instance, sizeof c->instance, "%s", instance);
    return c;
}

static int audit__seg_cmp(const void *a, const void *b)
{
    const audit_seg *x = a, *y = b;
    if (x->record_bad != y->record_bad) return x->record_bad ? 1 : -1;
    if (x->m.sequence != y->m.sequence) return x->m.sequence < y->m.sequence ? -1 : 1;
    return strcmp(x->m.segment, y->m.segment);
}

void audit_model_sort(audit_model *m)
{
    for (size_t t = 0; t < m->ntables; t++)
        for (size_t p = 0; p < m->tables[t].nparts; p++) {
            audit_part *pp = &m->tables[t].parts[p];
            if (pp->nsegs) qsort(pp->segs, pp->nsegs, sizeof *pp->segs, audit__seg_cmp);
        }
}

void audit_model_free(audit_model *m)
{
    for (size_t t = 0; t < m->ntables; t++) {
        audit_table *tt = &m->tables[t];
        for (size_t p = 0; p < tt->nparts; p++) {
            for (size_t s = 0; s < tt->parts[p].nsegs; s++)
                free(tt->parts[p].segs[s].copies);
            free(tt->parts[p].segs);
        }
        free(tt->parts);
    }
    free(m->tables);
    memset(m, 0, sizeof *m);
}

/* ---- findings ---------------------------------------------------------------------- */

typedef struct audit__at {
    audit_report *r;
    const audit_table *t;
    const audit_part *p;
} audit__at;

static audit_violation *audit__add(audit_violation **arr, size_t *n, audit_inv inv,
                                   const audit__at *at, const char *segment, const char *instance,
                                   const char *fmt, va_list ap)
{
    *arr = audit__grow(*arr, n, sizeof **arr);
    audit_violation *v = &(*arr)[*n - 1];
    v->inv = inv;
    snprintf(v->table, sizeof v->table, "%s", at->t->name);
    v->partition = at->p ? at->p->partition : -1;
    snprintf(v->segment, sizeof v->segment, "%s", segment ? segment : "");
    snprintf(v->instance, sizeof v->instance, "%s", instance ? instance : "");
    vsnprintf(v->why, sizeof v->why, fmt, ap);
    return v;
}

__attribute__((format(printf, 5, 6))) static void audit__bad(const audit__at *at, audit_inv inv,
                                                             const char *segment,
                                                             const char *instance, const char *fmt,
                                                             ...)
{
    va_list ap;
    va_start(ap, fmt);
    audit__add(&at->r->violations, &at->r->nviolations, inv, at, segment, instance, fmt, ap);
    va_end(ap);
}

__attribute__((format(printf, 5, 6))) static void
audit__unverified(const audit__at *at, audit_inv inv, const char *segment, const char *instance,
                  const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    audit__add(&at->r->unverified, &at->r->nunverified, inv, at, segment, instance, fmt, ap);
    va_end(ap);
}

static bool audit__done(const audit_seg *s)
{
    return !s->record_bad && segmeta_committed(&s->m);
}

/* ---- the invariants ---------------------------------------------------------------- */

/* I1: the chain of one partition. */
static void audit__chain(const audit__at *at)
{
    const audit_part *p = at->p;
    int64_t expect_seq = 0, expect_start = -1;
    for (size_t i = 0; i < p->nsegs; i++) {
        const audit_seg *s = &p->segs[i];
        at->r->checked[AUDIT_I1]++;
        if (s->record_bad) {
            audit__bad(at, AUDIT_I1, s->m.segment, NULL, "record unreadable: %s", s->record_why);
            continue;
        }
        const segmeta *m = &s->m;
        if (m->sequence != expect_seq)
            audit__bad(at, AUDIT_I1, m->segment, NULL,
                       m->sequence > expect_seq
                           ? "sequence %" PRId64 " follows %" PRId64 ": a segment is missing"
                           : "sequence %" PRId64 " where %" PRId64 " was expected: a duplicate",
                       m->sequence, expect_seq);
        expect_seq = m->sequence + 1;
        if (expect_start >= 0 && m->start_offset != expect_start && m->consume_from[0]) {
            /* resumeConsumption's consumeFrom: the operator restarted the chain here */
            audit__unverified(at, AUDIT_I1, m->segment, NULL,
                              "resumed from %s at offset %" PRId64 " where the chain ended at "
                              "%" PRId64 ": %s of %" PRId64 " offsets, on purpose",
                              m->consume_from, m->start_offset, expect_start,
                              m->start_offset > expect_start ? "a gap" : "an overlap",
                              m->start_offset > expect_start ? m->start_offset - expect_start
                                                             : expect_start - m->start_offset);
        } else if (expect_start >= 0 && m->start_offset != expect_start)
            audit__bad(at, AUDIT_I1, m->segment, NULL,
                       "starts at offset %" PRId64 " where the chain ended at %" PRId64
                       ": %s of %" PRId64 " offsets",
                       m->start_offset, expect_start,
                       m->start_offset > expect_start ? "a gap" : "an overlap",
                       m->start_offset > expect_start ? m->start_offset - expect_start
                                                      : expect_start - m->start_offset);
        if (m->status == SEGMETA_COMMITTING) {
            /* pauseless: the end offset is fixed and the successor starts there */
            expect_start = m->end_offset;
            continue;
        }
        if (!audit__done(s)) {
            /* an abandoned IN_PROGRESS segment: its replacement starts where it started */
            if (expect_start < 0) expect_start = m->start_offset;
            continue;
        }
        if (m->end_offset < m->start_offset) {
            audit__bad(at, AUDIT_I1, m->segment, NULL,
                       "committed range [%" PRId64 ", %" PRId64 ") is not a range", m->start_offset,
                       m->end_offset);
            expect_start = m->start_offset;
            continue;
        }
        expect_start = m->end_offset;
    }
}

/* I2: exactly once, against Kafka. */
static void audit__once(const audit__at *at, bool cluster)
{
    const audit_part *p = at->p;
    int64_t last_end = -1;
    const char *last_seg = NULL;
    for (size_t i = 0; i < p->nsegs; i++) {
        const audit_seg *s = &p->segs[i];
        if (!audit__done(s)) continue;
        const segmeta *m = &s->m;
        at->r->checked[AUDIT_I2]++;
        if (m->num_rows < 0 || m->num_rows > m->end_offset - m->start_offset)
            audit__bad(at, AUDIT_I2, m->segment, NULL,
                       "%" PRId64 " rows in %" PRId64 " offsets [%" PRId64 ", %" PRId64 ")",
                       m->num_rows, m->end_offset - m->start_offset, m->start_offset,
                       m->end_offset);
        if (m->end_offset > last_end) {
            last_end = m->end_offset;
            last_seg = m->segment;
        }
        switch (s->deep) {
        case AUDIT_BAD:
            audit__bad(at, AUDIT_I2, m->segment, NULL, "%s", s->deep_why);
            break;
        case AUDIT_UNKNOWN:
            audit__unverified(at, AUDIT_I2, m->segment, NULL, "rows not compared: %s", s->deep_why);
            break;
        case AUDIT_OK:
            at->r->malformed += s->deep_malformed;
            at->r->rebuilt++;
            break;
        case AUDIT_UNSEEN:
            break;
        }
    }
    if (last_end < 0) return;
    if (!p->kafka_known) {
        audit__unverified(at, AUDIT_I2, NULL, NULL, "Kafka offsets not read: %s", p->kafka_why);
        return;
    }
    at->r->checked[AUDIT_I2]++;
    if (last_end > p->high)
        audit__bad(at, AUDIT_I2, last_seg, NULL,
                   "committed up to offset %" PRId64 " but the partition ends at %" PRId64,
                   last_end, p->high);
    (void)cluster;
}

/* I3: every copy has the committed CRC. */
static void audit__equal(const audit__at *at)
{
    const audit_part *p = at->p;
    for (size_t i = 0; i < p->nsegs; i++) {
        const audit_seg *s = &p->segs[i];
        if (!audit__done(s)) continue;
        for (size_t k = 0; k < s->ncopies; k++) {
            const audit_copy *c = &s->copies[k];
            if (!c->reachable) {
                audit__unverified(at, AUDIT_I3, s->m.segment, c->instance,
                                  "sidecar not reachable: %s", c->why);
                continue;
            }
            at->r->checked[AUDIT_I3]++;
            if (!c->present) {
                if (c->recorded_online)
                    audit__bad(at, AUDIT_I3, s->m.segment, c->instance,
                               "the replica records ONLINE but holds no file");
            } else if (!c->valid) {
                audit__bad(at, AUDIT_I3, s->m.segment, c->instance,
                           "the replica's file fails verification: %s", c->why);
            } else if (c->crc != s->m.crc) {
                audit__bad(at, AUDIT_I3, s->m.segment, c->instance,
                           "the replica's file has crc %" PRIu32 " where %" PRIu32 " was committed",
                           c->crc, s->m.crc);
            }
        }
    }
}

/* I4: one committer, and DONE records never change. */
static void audit__committer(const audit__at *at)
{
    const audit_part *p = at->p;
    for (size_t i = 0; i < p->nsegs; i++) {
        const audit_seg *s = &p->segs[i];
        if (!audit__done(s)) continue;
        at->r->checked[AUDIT_I4]++;
        if (!s->m.committer[0])
            audit__bad(at, AUDIT_I4, s->m.segment, NULL, "DONE without a committer");
        if (s->has_stat && s->m.commit_version) { /* pauseless: DONE came after N+1 */
            if (s->version != s->m.commit_version)
                audit__bad(at, AUDIT_I4, s->m.segment, NULL,
                           "the DONE record changed after its commit (ZooKeeper version %" PRId32
                           ", committed as version %" PRId32 ")",
                           s->version, s->m.commit_version);
            continue;
        }
        const audit_seg *next = i + 1 < p->nsegs ? &p->segs[i + 1] : NULL;
        if (!s->has_stat || !next || next->record_bad || !next->has_stat ||
            next->m.sequence != s->m.sequence + 1)
            continue; /* the chain check names a missing successor */
        if (s->mzxid != next->czxid)
            audit__bad(at, AUDIT_I4, s->m.segment, NULL,
                       "the DONE record changed after its commit (last written by transaction "
                       "%#" PRIx64 ", the commit that opened %s was %#" PRIx64 ")",
                       (uint64_t)s->mzxid, next->m.segment, (uint64_t)next->czxid);
    }
}

/* I5: each partition keeps committing. */
static void audit__live(const audit__at *at, int64_t now_ms, int64_t budget_ms)
{
    const audit_part *p = at->p;
    at->r->checked[AUDIT_I5]++;
    const audit_seg *s = p->nsegs ? &p->segs[p->nsegs - 1] : NULL;
    if (s && s->record_bad) return;                /* I1 names it */
    if (at->t->paused_ms || at->t->bootstrap_ms) { /* no progress is expected, on purpose */
        audit__unverified(at, AUDIT_I5, s ? s->m.segment : NULL, NULL,
                          at->t->bootstrap_ms ? "the table is being bootstrapped (sluice replay)"
                                              : "consumption is paused (pauseConsumption)");
        return;
    }
    if (!s || audit__done(s)) {
        audit__bad(at, AUDIT_I5, s ? s->m.segment : NULL, NULL,
                   "no consuming segment: the partition cannot commit again");
        return;
    }
    /* pauseless: a segment whose end was fixed (its successor opened then) must commit
     * within the commit budget */
    for (size_t i = 0; i + 1 < p->nsegs; i++) {
        const segmeta *c = &p->segs[i].m, *n = &p->segs[i + 1].m;
        if (p->segs[i].record_bad || c->status != SEGMETA_COMMITTING) continue;
        int64_t age = now_ms - n->creation_time_ms;
        if (age > budget_ms)
            audit__bad(at, AUDIT_I5, c->segment, NULL,
                       "COMMITTING for %" PRId64 " s (end offset %" PRId64
                       " fixed), past the commit budget: nobody commits it",
                       age / 1000, c->end_offset);
    }
    const segmeta *m = &s->m;
    if (p->consuming_on == 0)
        audit__bad(at, AUDIT_I5, m->segment, NULL, "no instance is assigned to consume it");
    else if (p->consuming_live == 0)
        audit__bad(at, AUDIT_I5, m->segment, NULL,
                   "none of the %" PRIu32 " instances assigned to consume it is registered",
                   p->consuming_on);
    if (m->flush_time_ms <= 0) return; /* a row threshold only: no time bound */
    if (!p->kafka_known) {
        audit__unverified(at, AUDIT_I5, m->segment, NULL, "Kafka offsets not read: %s",
                          p->kafka_why);
        return;
    }
    if (p->high <= m->start_offset) return; /* nothing to consume: an empty segment waits */
    int64_t age = now_ms - m->creation_time_ms;
    if (age > m->flush_time_ms + budget_ms)
        audit__bad(at, AUDIT_I5, m->segment, NULL,
                   "consuming for %" PRId64 " s with %" PRId64 " messages waiting; its time "
                   "threshold is %" PRId64 " s and the commit budget %" PRId64 " s",
                   age / 1000, p->high - m->start_offset, m->flush_time_ms / 1000,
                   budget_ms / 1000);
}

/* I6: every DONE segment can be read with its CRC. */
static void audit__durable(const audit__at *at, bool cluster)
{
    const audit_part *p = at->p;
    for (size_t i = 0; i < p->nsegs; i++) {
        const audit_seg *s = &p->segs[i];
        if (!audit__done(s)) continue;
        bool peer = false;
        for (size_t k = 0; k < s->ncopies && !peer; k++)
            peer = s->copies[k].reachable && s->copies[k].present && s->copies[k].valid &&
                   s->copies[k].crc == s->m.crc;
        if (s->store == AUDIT_UNSEEN && !peer) continue;
        at->r->checked[AUDIT_I6]++;
        if (s->store == AUDIT_OK || (cluster && peer)) {
            if (s->store == AUDIT_BAD || s->store == AUDIT_UNKNOWN)
                audit__unverified(at, AUDIT_I6, s->m.segment, NULL,
                                  "readable from a peer only; the store's copy: %s", s->store_why);
            continue;
        }
        if (s->store == AUDIT_UNKNOWN)
            audit__unverified(at, AUDIT_I6, s->m.segment, NULL, "store not reachable: %s",
                              s->store_why);
        else
            audit__bad(at, AUDIT_I6, s->m.segment, NULL,
                       cluster ? "no readable copy: the store's %s, and no peer has it"
                               : "the file %s",
                       s->store_why[0] ? s->store_why : "is missing");
    }
}

void audit_check(const audit_model *m, audit_report *r)
{
    memset(r, 0, sizeof *r);
    r->tables = m->ntables;
    for (size_t t = 0; t < m->ntables; t++) {
        const audit_table *tt = &m->tables[t];
        audit__at at = {r, tt, NULL};
        if (!tt->nparts) audit__unverified(&at, AUDIT_I1, NULL, NULL, "no partition to audit");
        for (size_t p = 0; p < tt->nparts; p++) {
            at.p = &tt->parts[p];
            r->partitions++;
            r->segments += at.p->nsegs;
            audit__chain(&at);
            audit__once(&at, m->cluster);
            audit__durable(&at, m->cluster);
            if (!m->cluster) continue;
            audit__equal(&at);
            audit__committer(&at);
            audit__live(&at, m->now_ms, m->commit_budget_ms);
        }
    }
}

void audit_report_free(audit_report *r)
{
    free(r->violations);
    free(r->unverified);
    memset(r, 0, sizeof *r);
}

/* ---- reports ----------------------------------------------------------------------- */

const char *audit_inv_name(audit_inv i)
{
    static const char *const names[AUDIT_INV__END] = {[AUDIT_I1] = "I1 chain",
                                                      [AUDIT_I2] = "I2 exactly once",
                                                      [AUDIT_I3] = "I3 replica equality",
                                                      [AUDIT_I4] = "I4 one committer",
                                                      [AUDIT_I5] = "I5 liveness",
                                                      [AUDIT_I6] = "I6 durability"};
    return i > 0 && i < AUDIT_INV__END ? names[i] : "?";
}

static size_t audit__count(const audit_report *r, audit_inv inv)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nviolations; i++)
        n += r->violations[i].inv == inv;
    return n;
}

static void audit__line(FILE *out, const char *kind, const audit_violation *v)
{
    fprintf(out, "%s I%d table=%s", kind, (int)v->inv, v->table);
    if (v->partition >= 0) fprintf(out, " partition=%d", (int)v->partition);
    if (v->segment[0]) fprintf(out, " segment=%s", v->segment);
    if (v->instance[0]) fprintf(out, " instance=%s", v->instance);
    fprintf(out, ": %s\n", v->why);
}

void audit_report_text(const audit_report *r, FILE *out)
{
    fprintf(out, "%-22s %9s %11s\n", "invariant", "checked", "violations");
    for (int i = AUDIT_I1; i < AUDIT_INV__END; i++)
        fprintf(out, "%-22s %9" PRIu64 " %11zu\n", audit_inv_name((audit_inv)i), r->checked[i],
                audit__count(r, (audit_inv)i));
    fprintf(out,
            "tables=%" PRIu64 " partitions=%" PRIu64 " segments=%" PRIu64
            " rebuilt_from_kafka=%" PRIu64 " malformed_messages=%" PRIu64 "\n",
            r->tables, r->partitions, r->segments, r->rebuilt, r->malformed);
    for (size_t i = 0; i < r->nviolations; i++)
        audit__line(out, "VIOLATION", &r->violations[i]);
    for (size_t i = 0; i < r->nunverified; i++)
        audit__line(out, "unverified", &r->unverified[i]);
    fprintf(out, "verdict: %s (%zu violations, %zu unverified)\n",
            r->nviolations ? "VIOLATIONS" : "ok", r->nviolations, r->nunverified);
}

static void audit__json_list(jsonw *w, const audit_violation *v, size_t n)
{
    jsonw_arr_begin(w);
    for (size_t i = 0; i < n; i++) {
        jsonw_obj_begin(w);
        char id[4];
        snprintf(id, sizeof id, "I%d", (int)v[i].inv);
        jsonw_key(w, "invariant");
        jsonw_cstr(w, id);
        jsonw_key(w, "table");
        jsonw_cstr(w, v[i].table);
        jsonw_key(w, "partition");
        if (v[i].partition >= 0)
            jsonw_i64(w, v[i].partition);
        else
            jsonw_null(w);
        jsonw_key(w, "segment");
        if (v[i].segment[0])
            jsonw_cstr(w, v[i].segment);
        else
            jsonw_null(w);
        jsonw_key(w, "instance");
        if (v[i].instance[0])
            jsonw_cstr(w, v[i].instance);
        else
            jsonw_null(w);
        jsonw_key(w, "evidence");
        jsonw_cstr(w, v[i].why);
        jsonw_obj_end(w);
    }
    jsonw_arr_end(w);
}

void audit_report_json(const audit_report *r, jsonw *w)
{
    jsonw_obj_begin(w);
    jsonw_key(w, "verdict");
    jsonw_cstr(w, r->nviolations ? "violations" : "ok");
    jsonw_key(w, "invariants");
    jsonw_obj_begin(w);
    for (int i = AUDIT_I1; i < AUDIT_INV__END; i++) {
        char id[4];
        snprintf(id, sizeof id, "I%d", i);
        jsonw_key(w, id);
        jsonw_obj_begin(w);
        jsonw_key(w, "name");
        jsonw_cstr(w, audit_inv_name((audit_inv)i) + 3);
        jsonw_key(w, "checked");
        jsonw_u64(w, r->checked[i]);
        jsonw_key(w, "violations");
        jsonw_u64(w, audit__count(r, (audit_inv)i));
        jsonw_obj_end(w);
    }
    jsonw_obj_end(w);
    jsonw_key(w, "violations");
    audit__json_list(w, r->violations, r->nviolations);
    jsonw_key(w, "unverified");
    audit__json_list(w, r->unverified, r->nunverified);
    jsonw_key(w, "tables");
    jsonw_u64(w, r->tables);
    jsonw_key(w, "partitions");
    jsonw_u64(w, r->partitions);
    jsonw_key(w, "segments");
    jsonw_u64(w, r->segments);
    jsonw_key(w, "rebuiltFromKafka");
    jsonw_u64(w, r->rebuilt);
    jsonw_key(w, "malformedMessages");
    jsonw_u64(w, r->malformed);
    jsonw_obj_end(w);
}
