/* Partition consumer state (see pcons.h for the contract and the state diagram).
 *
 * The per-message path is: offset check -> rowdec_decode -> mseg_append -> threshold check.
 * It allocates nothing; counters are single-writer atomics updated with plain stores. */
#include "consumer/pcons.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "consumer/kmeta.h"
#include "consumer/rowdec.h"

#include <stdio.h>

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define PCONS_SIZE_CHECK_EVERY 1024 /* rows between mutable-segment memory readings */

struct pcons {
    const pcons_table *t;
    void *owner; /* pcons_set_owner */
    int32_t partition;
    pcons_state state;
    pcons_end end;
    rowdec *dec;
    rowdec_header *headers; /* the fed message's (pcons_set_message), owned */
    size_t hcap;
    mseg *seg;
    int64_t seq;
    char *name;
    int64_t start;
    int64_t next;
    uint64_t created_ms;
    uint64_t deadline_ms; /* 0 = no time threshold */
    pcons_limits lim;
    uint64_t seg_rows;
    uint32_t logged_reasons;   /* bit per rowdec_reason already logged */
    _Atomic int64_t force_seq; /* pcons_request_force: this segment ends at the next tick */
    char plabel[16];           /* partition number as a metric label */
    pcons_stats stats;
};

static const char *const pcons_state_names[PCONS_STATE__COUNT] = {[PCONS_IDLE] = "IDLE",
                                                                  [PCONS_CONSUMING] = "CONSUMING",
                                                                  [PCONS_FULL] = "FULL",
                                                                  [PCONS_ERROR] = "ERROR"};

static const char *const pcons_end_names[] = {
    [PCONS_END_NONE] = "none",         [PCONS_END_ROWS] = "row_limit",
    [PCONS_END_TIME] = "time_limit",   [PCONS_END_SIZE] = "size_limit",
    [PCONS_END_OFFSET] = "end_offset", [PCONS_END_FORCE] = "force"};

const char *pcons_state_name(pcons_state s)
{
    return s < PCONS_STATE__COUNT ? pcons_state_names[s] : "?";
}

const char *pcons_end_name(pcons_end e)
{
    return e <= PCONS_END_FORCE ? pcons_end_names[e] : "?";
}

/* The one place the state changes: checks legality and logs A -> B. */
static void pcons__set_state(pcons *p, pcons_state to)
{
    static const bool legal[PCONS_STATE__COUNT][PCONS_STATE__COUNT] = {
        [PCONS_IDLE] = {[PCONS_CONSUMING] = true, [PCONS_ERROR] = true},
        [PCONS_CONSUMING] = {[PCONS_FULL] = true, [PCONS_ERROR] = true},
        [PCONS_FULL] = {[PCONS_CONSUMING] = true, [PCONS_ERROR] = true},
        [PCONS_ERROR] = {[PCONS_CONSUMING] = true, [PCONS_ERROR] = true},
    };
    assert(legal[p->state][to]);
    if (!legal[p->state][to]) {
        SL_ERROR("consumer", "illegal transition table=%s partition=%d segment=%s %s -> %s",
                 p->t->table, p->partition, p->name ? p->name : "-", pcons_state_name(p->state),
                 pcons_state_name(to));
        return;
    }
    SL_DEBUG("consumer", "state table=%s partition=%d segment=%s %s -> %s", p->t->table,
             p->partition, p->name ? p->name : "-", pcons_state_name(p->state),
             pcons_state_name(to));
    __atomic_store_n(&p->state, to, __ATOMIC_RELEASE); /* health readers on other threads */
}

/* Callback gauges, read at render time from any thread. */
static double pcons__lag(void *arg)
{
    pcons *p = arg;
    int64_t hw = atomic_load_explicit(&p->stats.high_watermark, memory_order_relaxed);
    int64_t next = atomic_load_explicit(&p->stats.next_offset, memory_order_relaxed);
    return hw >= 0 && next >= 0 && hw > next ? (double)(hw - next) : 0;
}

/* Behind: how old the last consumed message is (its Kafka time against the wall clock). */
static double pcons__lag_seconds(void *arg)
{
    pcons *p = arg;
    int64_t last = atomic_load_explicit(&p->stats.last_msg_ms, memory_order_relaxed);
    if (pcons__lag(p) <= 0 || last < 0) return 0;
    int64_t age = (int64_t)sl_clock_wall_ms() - last;
    return age > 0 ? (double)age / 1000 : 0;
}

static double pcons__next(void *arg)
{
    return (double)atomic_load_explicit(&((pcons *)arg)->stats.next_offset, memory_order_relaxed);
}

static double pcons__seg_rows(void *arg)
{
    return (double)atomic_load_explicit(&((pcons *)arg)->stats.segment_rows, memory_order_relaxed);
}

static double pcons__seg_bytes(void *arg)
{
    return (double)atomic_load_explicit(&((pcons *)arg)->stats.segment_bytes, memory_order_relaxed);
}

static void pcons__metrics_new(pcons *p)
{
    const cmetrics *m = p->t->metrics;
    const char *tp[] = {p->t->table, p->plabel};
    p->stats.rows = metrics_counter_with(m->rows, tp);
    p->stats.bytes = metrics_counter_with(m->bytes, tp);
    p->stats.filtered = metrics_counter_with(m->filtered, tp);
    p->stats.lost_ranges = metrics_counter_with(m->lost_ranges, tp);
    p->stats.lost_messages = metrics_counter_with(m->lost_messages, tp);
    for (int r = ROWDEC_OK + 1; r < ROWDEC_REASON__COUNT; r++) {
        const char *tpr[] = {p->t->table, p->plabel, rowdec_reason_name((rowdec_reason)r)};
        p->stats.bad[r] = metrics_counter_with(m->bad, tpr);
    }
    metrics_gauge_fn(m->lag, tp, pcons__lag, p);
    metrics_gauge_fn(m->lag_seconds, tp, pcons__lag_seconds, p);
    metrics_gauge_fn(m->next_offset, tp, pcons__next, p);
    metrics_gauge_fn(m->seg_rows, tp, pcons__seg_rows, p);
    metrics_gauge_fn(m->seg_bytes, tp, pcons__seg_bytes, p);
}

static void pcons__metrics_free(pcons *p)
{
    const cmetrics *m = p->t->metrics;
    const char *tp[] = {p->t->table, p->plabel};
    metrics_family *fams[] = {m->rows,          m->bytes,    m->filtered,    m->lost_ranges,
                              m->lost_messages, m->lag,      m->lag_seconds, m->next_offset,
                              m->seg_rows,      m->seg_bytes};
    for (size_t i = 0; i < sizeof fams / sizeof fams[0]; i++)
        metrics_child_remove(fams[i], tp);
    for (int r = ROWDEC_OK + 1; r < ROWDEC_REASON__COUNT; r++) {
        const char *tpr[] = {p->t->table, p->plabel, rowdec_reason_name((rowdec_reason)r)};
        metrics_child_remove(m->bad, tpr);
    }
}

static inline void pcons__set_next(pcons *p, int64_t next)
{
    p->next = next;
    atomic_store_explicit(&p->stats.next_offset, next, memory_order_relaxed);
}

static void pcons__full(pcons *p, pcons_end why)
{
    p->end = why;
    pcons__set_state(p, PCONS_FULL);
    SL_INFO("consumer",
            "segment full table=%s partition=%d segment=%s reason=%s rows=%" PRIu64
            " start=%" PRId64 " end=%" PRId64,
            p->t->table, p->partition, p->name, pcons_end_name(why), p->seg_rows, p->start,
            p->next);
}

pcons *pcons_new(const pcons_table *t, int32_t partition)
{
    pcons *p = sl_xcalloc(1, sizeof *p);
    p->t = t;
    p->partition = partition;
    p->dec = rowdec_new_cfg(t->schema, t->cfg, t->max_message_bytes);
    p->seq = -1;
    p->start = p->next = -1;
    atomic_store(&p->force_seq, INT64_MIN); /* none */
    atomic_store(&p->stats.next_offset, -1);
    atomic_store(&p->stats.high_watermark, -1);
    atomic_store(&p->stats.last_msg_ms, -1);
    snprintf(p->plabel, sizeof p->plabel, "%d", (int)partition);
    pcons__metrics_new(p);
    return p;
}

/* Start a segment sized like `like` (the partition's previous segment, or NULL). */
static void pcons__start(pcons *p, const mseg *like, int64_t seq, const char *name,
                         int64_t start_offset, uint64_t now_ms, const pcons_limits *lim)
{
    mseg *prev = p->seg;
    if (!like) like = prev;
    p->seg = like ? mseg_new_like(like) : mseg_new(p->t->schema, p->t->no_dictionary);
    if (!like && p->t->cfg && p->t->cfg->agg) /* checked when the config loaded */
        mseg_set_aggregation(p->seg, p->t->cfg->agg);
    mseg_free(prev);
    free(p->name);
    p->name = sl_xstrdup(name);
    p->seq = seq;
    p->start = start_offset;
    pcons__set_next(p, start_offset);
    p->created_ms = now_ms;
    p->lim = *lim;
    p->deadline_ms = lim->time_ms ? now_ms + lim->time_ms : 0;
    p->seg_rows = 0;
    p->end = PCONS_END_NONE;
    atomic_store_explicit(&p->stats.segment_rows, 0, memory_order_relaxed);
    atomic_store_explicit(&p->stats.segment_bytes, mseg_memory_bytes(p->seg), memory_order_relaxed);
    pcons__set_state(p, PCONS_CONSUMING);
    SL_INFO("consumer",
            "segment start table=%s partition=%d segment=%s start=%" PRId64 " rows_limit=%" PRIu64
            " time_limit_ms=%" PRIu64 " end_offset=%" PRId64,
            p->t->table, p->partition, name, start_offset, lim->rows, lim->time_ms,
            lim->end_offset);
    if (lim->end_offset >= 0 && start_offset >= lim->end_offset) pcons__full(p, PCONS_END_OFFSET);
}

void pcons_start_segment(pcons *p, int64_t seq, const char *name, int64_t start_offset,
                         uint64_t now_ms, const pcons_limits *lim)
{
    pcons__start(p, NULL, seq, name, start_offset, now_ms, lim);
}

void pcons_roll(pcons *p, pcons_frozen *out, int64_t seq, const char *name, int64_t start_offset,
                uint64_t now_ms, const pcons_limits *lim)
{
    assert(p->state == PCONS_FULL && start_offset == p->next && !out->seg);
    *out = (pcons_frozen){.seg = p->seg,
                          .name = p->name,
                          .seq = p->seq,
                          .start = p->start,
                          .end = p->next,
                          .why = p->end};
    p->seg = NULL;
    p->name = NULL;
    pcons__start(p, out->seg, seq, name, start_offset, now_ms, lim);
}

void pcons_frozen_free(pcons_frozen *f)
{
    mseg_free(f->seg);
    free(f->name);
    memset(f, 0, sizeof *f);
}

/* Test knob: change one numeric value of this row so this replica builds other bytes. */
static void pcons__perturb(const pcons *p, const row *r)
{
    const schema *s = p->t->schema;
    for (uint32_t i = 0; i < r->ncols; i++) {
        row_col *c = (row_col *)&r->cols[i]; /* the decoder's own row buffer */
        if (!s->fields[i].single_value || c->is_null) continue;
        switch (s->fields[i].type) {
        case SCHEMA_INT:
            c->v.u.i32 += 1;
            break;
        case SCHEMA_LONG:
        case SCHEMA_TIMESTAMP:
            c->v.u.i64 += 1;
            break;
        case SCHEMA_DOUBLE:
            c->v.u.f64 += 1;
            break;
        default:
            continue;
        }
        SL_WARN("consumer", "test knob: perturbed column=%s row=%" PRIu64 " table=%s partition=%d",
                s->fields[i].name, p->seg_rows, p->t->table, p->partition);
        return;
    }
}

static void pcons__bad(pcons *p, int64_t offset, rowdec_reason why, const uint8_t *payload,
                       size_t len)
{
    metrics_counter_add(p->stats.bad[why], 1);
    if (!(p->logged_reasons & (1u << why))) {
        p->logged_reasons |= 1u << why;
        const char *field = rowdec_error_field(p->dec);
        SL_WARN("consumer",
                "malformed message table=%s partition=%d offset=%" PRId64
                " reason=%s field=%s (further ones of this reason are only counted)",
                p->t->table, p->partition, offset, rowdec_reason_name(why), *field ? field : "-");
    }
    if (p->t->dead_letter && dlq_write_bad(p->t->dead_letter, p->t->table, p->partition, offset,
                                           rowdec_reason_name(why), payload, len) != 0)
        SL_ERROR("consumer", "dead-letter write failed table=%s partition=%d offset=%" PRId64,
                 p->t->table, p->partition, offset);
}

void pcons_set_message(pcons *p, const rd_kafka_message_t *m)
{
    rowdec_msg rm = {.ms = kmeta_message_time(m),
                     .key = m->key,
                     .keylen = m->key_len,
                     .offset = m->offset,
                     .partition = m->partition};
    /* for the lag in seconds only: never part of a row */
    if (rm.ms >= 0) atomic_store_explicit(&p->stats.last_msg_ms, rm.ms, memory_order_relaxed);
    rd_kafka_headers_t *hs;
    if (rowdec_wants_headers(p->dec) && rd_kafka_message_headers(m, &hs) == 0) {
        size_t n = rd_kafka_header_cnt(hs);
        if (n > p->hcap) {
            p->hcap = n * 2;
            p->headers = sl_xrealloc(p->headers, p->hcap * sizeof *p->headers);
        }
        const char *name;
        const void *value;
        size_t len;
        for (size_t i = 0; i < n && rd_kafka_header_get_all(hs, i, &name, &value, &len) == 0; i++)
            p->headers[rm.nheaders++] = (rowdec_header){name, strlen(name), value, len};
        rm.headers = p->headers;
    }
    rowdec_set_message(p->dec, &rm);
}

bool pcons_on_message(pcons *p, int64_t offset, const uint8_t *payload, size_t len)
{
    if (p->state != PCONS_CONSUMING) return false;
    if (offset < p->next) return false; /* redelivered: already in this segment */
    if (p->lim.end_offset >= 0 && offset >= p->lim.end_offset) {
        /* a gap jumped past the end offset: the segment ends exactly at it */
        pcons__set_next(p, p->lim.end_offset);
        pcons__full(p, PCONS_END_OFFSET);
        return true;
    }
    metrics_counter_add(p->stats.bytes, len);
    const row *r;
    rowdec_reason why = rowdec_decode(p->dec, payload, len, &r);
    /* a message complexTypeConfig unnests into several rows goes in whole or not at all */
    if (rowdec_rows(p->dec) > 1 && mseg_rows(p->seg) + rowdec_rows(p->dec) > MSEG_MAX_ROWS) {
        pcons__full(p, PCONS_END_SIZE);
        return true;
    }
    do {
        if (why != ROWDEC_OK) {
            pcons__bad(p, offset, why, payload, len);
        } else if (!r) { /* the table's filter dropped it: consumed, not stored, not an error */
            metrics_counter_add(p->stats.filtered, 1);
        } else if ((p->t->perturb_row > 0 && (int64_t)p->seg_rows + 1 == p->t->perturb_row
                        ? pcons__perturb(p, r)
                        : (void)0),
                   mseg_append(p->seg, r) != 0) {
            /* the mutable segment is at its hard cap: end the segment before this message
             * (a message of several rows was checked against the row cap above) */
            pcons__full(p, PCONS_END_SIZE);
            return true;
        } else {
            p->seg_rows++;
            metrics_counter_add(p->stats.rows, 1);
            atomic_store_explicit(&p->stats.segment_rows, p->seg_rows, memory_order_relaxed);
        }
    } while (rowdec_next(p->dec, &why, &r));
    pcons__set_next(p, offset + 1);
    if (p->lim.end_offset >= 0 && p->next >= p->lim.end_offset) {
        pcons__full(p, PCONS_END_OFFSET);
        return true;
    }
    if (p->lim.rows && p->seg_rows >= p->lim.rows) {
        pcons__full(p, PCONS_END_ROWS);
        return true;
    }
    if (p->seg_rows % PCONS_SIZE_CHECK_EVERY == 0) {
        size_t mem = mseg_memory_bytes(p->seg);
        atomic_store_explicit(&p->stats.segment_bytes, mem, memory_order_relaxed);
        if (p->lim.size_bytes && mem >= p->lim.size_bytes) {
            pcons__full(p, PCONS_END_SIZE);
            return true;
        }
    }
    return false;
}

bool pcons_tick(pcons *p, uint64_t now_ms)
{
    if (p->state != PCONS_CONSUMING) return false;
    if (atomic_load(&p->force_seq) == p->seq) {
        atomic_store(&p->force_seq, INT64_MIN);
        pcons__full(p, PCONS_END_FORCE);
        return true;
    }
    if (p->lim.end_offset >= 0 && p->next >= p->lim.end_offset) {
        pcons__full(p, PCONS_END_OFFSET);
        return true;
    }
    if (!p->deadline_ms || now_ms < p->deadline_ms) return false;
    if (p->seg_rows == 0) { /* nothing to flush: wait another period rather than commit empty */
        p->deadline_ms = now_ms + p->lim.time_ms;
        return false;
    }
    pcons__full(p, PCONS_END_TIME);
    return true;
}

void pcons_data_loss(pcons *p, int64_t from, int64_t to)
{
    if (to <= from) return;
    metrics_counter_add(p->stats.lost_ranges, 1);
    metrics_counter_add(p->stats.lost_messages, (uint64_t)(to - from));
    SL_ERROR("consumer",
             "data_loss table=%s partition=%d from=%" PRId64 " to=%" PRId64 " messages=%" PRId64
             " (retention passed the consumer)",
             p->t->table, p->partition, from, to, to - from);
    if (p->t->dead_letter) dlq_write_loss(p->t->dead_letter, p->t->table, p->partition, from, to);
    if (p->state == PCONS_CONSUMING && to > p->next) pcons__set_next(p, to);
}

void pcons_catch_up(pcons *p, int64_t end_offset)
{
    if (p->state != PCONS_FULL) return;
    p->lim.end_offset = end_offset;
    p->lim.rows = 0; /* the end offset decides now */
    p->lim.time_ms = 0;
    p->deadline_ms = 0;
    p->end = PCONS_END_NONE;
    pcons__set_state(p, PCONS_CONSUMING);
    SL_INFO("consumer", "catch up table=%s partition=%d segment=%s from=%" PRId64 " to=%" PRId64,
            p->t->table, p->partition, p->name, p->next, end_offset);
    if (p->next >= end_offset) pcons__full(p, PCONS_END_OFFSET);
}

void pcons_request_force(pcons *p, int64_t seq)
{
    atomic_store(&p->force_seq, seq);
}

void pcons_force_full(pcons *p)
{
    if (p->state == PCONS_CONSUMING) pcons__full(p, PCONS_END_FORCE);
}

void pcons_fail(pcons *p, const char *reason)
{
    SL_ERROR("consumer", "partition error table=%s partition=%d segment=%s reason=%s", p->t->table,
             p->partition, p->name ? p->name : "-", reason);
    pcons__set_state(p, PCONS_ERROR);
}

pcons_state pcons_get_state(const pcons *p)
{
    return __atomic_load_n(&p->state, __ATOMIC_ACQUIRE);
}
pcons_end pcons_end_reason(const pcons *p)
{
    return p->end;
}
int32_t pcons_partition(const pcons *p)
{
    return p->partition;
}
void pcons_set_owner(pcons *p, void *owner)
{
    p->owner = owner;
}
void *pcons_owner(const pcons *p)
{
    return p->owner;
}
int64_t pcons_seq(const pcons *p)
{
    return p->seq;
}
const char *pcons_segment_name(const pcons *p)
{
    return p->name ? p->name : "";
}
int64_t pcons_start_offset(const pcons *p)
{
    return p->start;
}
int64_t pcons_next_offset(const pcons *p)
{
    return p->next;
}
uint64_t pcons_created_ms(const pcons *p)
{
    return p->created_ms;
}
mseg *pcons_segment(pcons *p)
{
    return p->seg;
}
pcons_stats *pcons_get_stats(pcons *p)
{
    return &p->stats;
}
const pcons_table *pcons_get_table(const pcons *p)
{
    return p->t;
}

void pcons_free(pcons *p)
{
    if (!p) return;
    pcons__metrics_free(p);
    mseg_free(p->seg);
    rowdec_free(p->dec);
    free(p->headers);
    free(p->name);
    free(p);
}
