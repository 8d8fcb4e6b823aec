/* Realtime operations on a table (DESIGN §9, Pinot's names): force commit and its status,
 * pause and resume of consumption, and the reingest of a lost committed segment (below).
 *
 * POST /tables/<t>/forceCommit[?partitions=0,3] records a job (tables/<t>/jobs/<id>: its
 * segments and submission time) and, in the same multi-op, asks for each consuming segment of
 * those partitions to end now (the assignment's forceCommit map: segment -> job). Each replica
 * consuming one ends it at its next tick (reason REASON_FORCE_COMMIT) and reports it; the
 * completion then runs as any other, so the furthest replica commits, never a laggard. The
 * request is removed by the segment's fix (pauseless) or commit. GET
 * /tables/forceCommitStatus/<id> reads the job back and says which of its segments are
 * committed. Both run on a controller worker (ZooKeeper). */
#include "completion/ctl_int.h"
#include "common/jsonw.h"
#include "common/sl_err.h"
#include "common/xalloc.h"
#include "common/clock.h"

#include "common/fsutil.h"
#include "consumer/replay.h"
#include "segment/seg_reader.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <unistd.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define CTL_JOB_ID_MAX 63

typedef struct ctl_op_call {
    char *table;    /* {table}, or NULL */
    char *job;      /* {jobId}, or NULL */
    char *segment;  /* {segment}, or NULL */
    char *query;    /* its query argument (?partitions=, ?consumeFrom=), or NULL */
    rpc_req commit; /* bootstrapCommit: the replayed segment's facts */
} ctl_op_call;

static char *ctl__op_dup(const char *s)
{
    return s ? sl_xstrdup(s) : NULL;
}

static void ctl__op_free(void *p)
{
    ctl_op_call *k = p;
    free(k->table);
    free(k->job);
    free(k->segment);
    free(k->query);
    free(k);
}

static ctl_op_call *ctl__op_new(httpd_req *req)
{
    ctl_op_call *k = sl_xcalloc(1, sizeof *k);
    k->table = ctl__op_dup(httpd_req_param(req, "table"));
    k->job = ctl__op_dup(httpd_req_param(req, "jobId"));
    k->segment = ctl__op_dup(httpd_req_param(req, "segment"));
    k->query = ctl__op_dup(httpd_req_query(req, "partitions"));
    return k;
}

/* ?partitions=0,3 into want[0..npart) (NULL: all). Returns 0, or SL_EINVAL with the reason. */
static int ctl__parse_partitions(const char *list, uint32_t npart, bool *want, char *err,
                                 size_t errlen)
{
    for (uint32_t p = 0; p < npart; p++)
        want[p] = list == NULL;
    if (!list) return 0;
    const char *s = list;
    do {
        char *end;
        long p = strtol(s, &end, 10);
        if (end == s || (*end && *end != ',') || p < 0 || p >= (long)npart)
            return sl_fail(err, errlen, SL_EINVAL,
                           "partitions=%.64s: expected partition numbers in [0, %u) separated "
                           "by commas",
                           list, npart);
        want[p] = true;
        s = *end ? end + 1 : end;
    } while (*s);
    return 0;
}

/* A random job id, 32 hex digits (a UUID's entropy). */
static void ctl__job_id(char *buf, size_t cap)
{
    unsigned char r[16] = {0};
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) { /* never on Linux >= 3.17 */
        uint64_t t = sl_clock_wall_ms() ^ ((uint64_t)sl_clock_mono_ms() << 20);
        memcpy(r, &t, sizeof t);
    }
    size_t n = 0;
    for (size_t i = 0; i < sizeof r && n + 2 < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%02x", r[i]);
}

/* The REALTIME table an operation names, or NULL after answering 404/400/503. */
static const ctl_table *ctl__op_table(ctl *c, zk *z, const char *table, httpd_resp *resp)
{
    char err[256];
    const ctl_table *t = z ? ctl__table(c, z, table) : NULL;
    if (!t) {
        bool exists = z && cstore_table_exists(c->cs, z, table) == 0;
        snprintf(err, sizeof err, exists ? "table %s has no usable config" : "no such table %s",
                 table);
        ctl__json_error(resp, exists ? 503 : 404, err);
        return NULL;
    }
    if (t->cfg->type != TCFG_REALTIME) {
        snprintf(err, sizeof err, "table %s is not a REALTIME table: nothing consumes", table);
        ctl__json_error(resp, 400, err);
        return NULL;
    }
    return t;
}

/* A table `sluice replay` is bootstrapping consumes nothing: a force commit or a pause is a
 * 409 (frees a then). */
static bool ctl__refuse_bootstrapping(const char *table, assign *a, httpd_resp *resp)
{
    if (!a->bootstrap_ms) return false;
    assign_free(a);
    char err[256];
    snprintf(err, sizeof err,
             "table %s is being bootstrapped by sluice replay: nothing consumes until it "
             "resumes",
             table);
    ctl__json_error(resp, 409, err);
    return true;
}

/* Worker: POST /tables/<t>/forceCommit. */
static void ctl__force_commit(ctl *c, void *arg, httpd_resp *resp)
{
    const ctl_op_call *k = arg;
    char err[512], job[CTL_JOB_ID_MAX + 1];
    zk *z = ctl__zk(c);
    bool *want = NULL;
    if (!ctl__op_table(c, z, k->table, resp)) goto out;
    for (int attempt = 0; attempt < CTL_COMMIT_RETRIES; attempt++) {
        assign a;
        int32_t va;
        if (ctl__get_assign(c, z, k->table, &a, &va)) {
            ctl__json_error(resp, 503, "assignment unreadable; retry");
            goto out;
        }
        if (ctl__refuse_bootstrapping(k->table, &a, resp)) goto out;
        free(want);
        want = sl_xcalloc(a.npart ? a.npart : 1, sizeof *want);
        if (ctl__parse_partitions(k->query, a.npart, want, err, sizeof err)) {
            assign_free(&a);
            ctl__json_error(resp, 400, err);
            goto out;
        }
        ctl__job_id(job, sizeof job);
        jsonw segs;
        jsonw_init(&segs);
        jsonw_arr_begin(&segs);
        size_t nseg = 0;
        for (size_t s = 0; s < a.nseg; s++) {
            segname sn;
            segmeta m;
            bool consuming = false;
            for (uint32_t i = 0; i < a.seg[s].inst.n; i++)
                consuming |= a.seg[s].state[i] == ASSIGN_CONSUMING;
            if (!consuming || segname_parse(a.seg[s].segment, &sn) ||
                (uint32_t)sn.partition >= a.npart || !want[sn.partition] ||
                ctl__get_meta(c, z, k->table, a.seg[s].segment, &m, NULL) ||
                m.status != SEGMETA_IN_PROGRESS)
                continue;
            assign_force_add(&a, a.seg[s].segment, job);
            jsonw_cstr(&segs, a.seg[s].segment);
            nseg++;
        }
        jsonw_arr_end(&segs);
        jsonw w;
        jsonw_init(&w);
        jsonw_obj_begin(&w);
        jsonw_key(&w, "jobId");
        jsonw_cstr(&w, job);
        jsonw_key(&w, "jobType");
        jsonw_cstr(&w, "FORCE_COMMIT");
        jsonw_key(&w, "tableName");
        jsonw_cstr(&w, k->table);
        jsonw_key(&w, "submissionTimeMs");
        jsonw_i64(&w, (int64_t)sl_clock_wall_ms());
        jsonw_key(&w, "segments");
        jsonw_text(&w, segs.buf, segs.len);
        jsonw_obj_end(&w);
        free(segs.buf);
        char *rec = strndup(w.buf, w.len);
        int rc = rec ? cstore_job_create(c->cs, z, k->table, job, rec, &a, va) : SL_ENOMEM;
        free(rec);
        assign_free(&a);
        if (rc == 0) {
            SL_INFO("controller", "force commit table=%s job=%s segments=%zu", k->table, job, nseg);
            jsonw_text(&w, "\n", 1);
            httpd_resp_body(resp, 200, "application/json", w.buf, w.len, HTTPD_TAKE);
            goto out;
        }
        free(w.buf);
        if (sl_err_action_of(rc) != SL_ACT_REFRESH && sl_err_action_of(rc) != SL_ACT_RETRY) {
            snprintf(err, sizeof err, "recording the job failed: %s", sluice_strerror(rc));
            ctl__json_error(resp, 503, err);
            goto out;
        }
    }
    ctl__json_error(resp, 503, "the assignment kept changing; retry");
out:
    free(want);
    if (z) ctl__zk_done(c);
}

void ctl__force_commit_post(httpd_req *req, httpd_resp *resp, void *ctx)
{
    ctl *c = ctx;
    if (ctl__reply_ready(req, resp)) return;
    if (ctl__not_running(c, resp)) return;
    if (!segname_valid_table(httpd_req_param(req, "table"))) {
        ctl__json_error(resp, 400, "invalid table name");
        return;
    }
    if (ctl__redirect_to_leader(c, req, resp)) return;
    ctl__reply_later(c, req, resp, ctl__force_commit, ctl__op_new(req), ctl__op_free);
}

/* Worker: GET /tables/forceCommitStatus/<id>: the job's record, found under the table that
 * holds it, with each segment's state now. */
static void ctl__force_commit_status(ctl *c, void *arg, httpd_resp *resp)
{
    const ctl_op_call *k = arg;
    char err[256];
    char **tables = NULL, *rec = NULL;
    size_t nt = 0, len = 0;
    json_t *job = NULL;
    zk *z = ctl__zk(c);
    int rc = z ? cstore_tables(c->cs, z, &tables, &nt) : SL_ETRANSIENT;
    const char *table = NULL;
    for (size_t i = 0; rc == 0 && i < nt && !table; i++) {
        int g = cstore_job_get(c->cs, z, tables[i], k->job, &rec, &len);
        if (g == 0)
            table = tables[i];
        else if (g != SL_ENOENT)
            rc = g;
    }
    if (rc && rc != SL_ENOENT) {
        ctl__json_error(resp, 503, "ZooKeeper unreadable; retry");
        goto out;
    }
    if (!table || !(job = json_loadb(rec, len, 0, NULL)) ||
        !json_is_array(json_object_get(job, "segments"))) {
        snprintf(err, sizeof err, table ? "job %s: record unreadable" : "no such job %s", k->job);
        ctl__json_error(resp, table ? 500 : 404, err);
        goto out;
    }
    jsonw w;
    jsonw_init(&w);
    jsonw_obj_begin(&w);
    jsonw_key(&w, "jobId");
    jsonw_cstr(&w, k->job);
    jsonw_key(&w, "jobType");
    jsonw_cstr(&w, "FORCE_COMMIT");
    jsonw_key(&w, "tableName");
    jsonw_cstr(&w, table);
    jsonw_key(&w, "submissionTimeMs");
    jsonw_i64(&w, json_integer_value(json_object_get(job, "submissionTimeMs")));
    jsonw_key(&w, "segmentsForceCommitted");
    jsonw_arr_begin(&w);
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(job, "segments"), i, s) jsonw_cstr(&w, json_string_value(s));
    jsonw_arr_end(&w);
    jsonw_key(&w, "segmentsYetToBeCommitted");
    jsonw_arr_begin(&w);
    size_t left = 0;
    json_array_foreach(json_object_get(job, "segments"), i, s)
    {
        segmeta m;
        const char *name = json_string_value(s);
        if (name && ctl__get_meta(c, z, table, name, &m, NULL) == 0 && segmeta_committed(&m))
            continue;
        jsonw_cstr(&w, name ? name : "");
        left++;
    }
    jsonw_arr_end(&w);
    jsonw_key(&w, "numberOfSegmentsYetToBeCommitted");
    jsonw_i64(&w, (int64_t)left);
    jsonw_obj_end(&w);
    jsonw_text(&w, "\n", 1);
    httpd_resp_body(resp, 200, "application/json", w.buf, w.len, HTTPD_TAKE);
out:
    json_decref(job);
    free(rec);
    zk_free_strings(tables, nt);
    if (z) ctl__zk_done(c);
}

void ctl__force_commit_status_get(httpd_req *req, httpd_resp *resp, void *ctx)
{
    ctl *c = ctx;
    if (ctl__reply_ready(req, resp)) return;
    if (ctl__not_running(c, resp)) return;
    const char *id = httpd_req_param(req, "jobId");
    size_t n = id ? strlen(id) : 0;
    bool ok = n > 0 && n <= CTL_JOB_ID_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = (id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'z') ||
             (id[i] >= 'A' && id[i] <= 'Z') || id[i] == '-';
    if (!ok) {
        ctl__json_error(resp, 400, "a job id is 1 to 63 letters, digits or '-'");
        return;
    }
    ctl__reply_later(c, req, resp, ctl__force_commit_status, ctl__op_new(req), ctl__op_free);
}

/* ---- pause and resume (Pinot's pauseConsumption / resumeConsumption / pauseStatus) ------- */

/* {"pauseFlag","pausedSinceMs","consumingSegments"} of table from assignment a into w: the
 * segments not committed yet that some instance still consumes (or completes). */
static void ctl__pause_json(ctl *c, zk *z, const char *table, const assign *a, jsonw *w)
{
    jsonw_obj_begin(w);
    jsonw_key(w, "tableName");
    jsonw_cstr(w, table);
    jsonw_key(w, "pauseFlag");
    jsonw_bool(w, a->paused_ms != 0);
    jsonw_key(w, "pausedSinceMs");
    if (a->paused_ms)
        jsonw_i64(w, a->paused_ms);
    else
        jsonw_null(w);
    jsonw_key(w, "bootstrapping");
    jsonw_bool(w, a->bootstrap_ms != 0);
    jsonw_key(w, "consumingSegments");
    jsonw_arr_begin(w);
    for (size_t s = 0; s < a->nseg; s++) {
        segmeta m;
        bool consuming = false;
        for (uint32_t i = 0; i < a->seg[s].inst.n; i++)
            consuming |= a->seg[s].state[i] == ASSIGN_CONSUMING;
        if (consuming && ctl__get_meta(c, z, table, a->seg[s].segment, &m, NULL) == 0 &&
            !segmeta_committed(&m))
            jsonw_cstr(w, a->seg[s].segment);
    }
    jsonw_arr_end(w);
    jsonw_obj_end(w);
    jsonw_text(w, "\n", 1);
}

/* Worker: GET /tables/<t>/pauseStatus. */
static void ctl__pause_status(ctl *c, void *arg, httpd_resp *resp)
{
    const ctl_op_call *k = arg;
    zk *z = ctl__zk(c);
    assign a;
    if (ctl__op_table(c, z, k->table, resp)) {
        if (ctl__get_assign(c, z, k->table, &a, NULL)) {
            ctl__json_error(resp, 503, "assignment unreadable; retry");
        } else {
            jsonw w;
            jsonw_init(&w);
            ctl__pause_json(c, z, k->table, &a, &w);
            assign_free(&a);
            httpd_resp_body(resp, 200, "application/json", w.buf, w.len, HTTPD_TAKE);
        }
    }
    if (z) ctl__zk_done(c);
}

/* Worker: POST /tables/<t>/pauseConsumption: paused in the assignment, and every consuming
 * segment asked to end now (as a force commit); its commit opens no successor. */
static void ctl__pause(ctl *c, void *arg, httpd_resp *resp)
{
    const ctl_op_call *k = arg;
    zk *z = ctl__zk(c);
    if (!ctl__op_table(c, z, k->table, resp)) goto out;
    for (int attempt = 0; attempt < CTL_COMMIT_RETRIES; attempt++) {
        assign a;
        int32_t va;
        if (ctl__get_assign(c, z, k->table, &a, &va)) {
            ctl__json_error(resp, 503, "assignment unreadable; retry");
            goto out;
        }
        if (ctl__refuse_bootstrapping(k->table, &a, resp)) goto out;
        if (!a.paused_ms) a.paused_ms = (int64_t)sl_clock_wall_ms();
        for (size_t s = 0; s < a.nseg; s++) {
            segmeta m;
            bool consuming = false;
            for (uint32_t i = 0; i < a.seg[s].inst.n; i++)
                consuming |= a.seg[s].state[i] == ASSIGN_CONSUMING;
            if (consuming && ctl__get_meta(c, z, k->table, a.seg[s].segment, &m, NULL) == 0 &&
                m.status == SEGMETA_IN_PROGRESS)
                assign_force_add(&a, a.seg[s].segment, "pauseConsumption");
        }
        int rc = cstore_assign_open(c->cs, z, k->table, NULL, NULL, 0, &a, va);
        if (rc == 0) {
            SL_INFO("controller", "consumption paused table=%s", k->table);
            jsonw w;
            jsonw_init(&w);
            ctl__pause_json(c, z, k->table, &a, &w);
            assign_free(&a);
            httpd_resp_body(resp, 200, "application/json", w.buf, w.len, HTTPD_TAKE);
            goto out;
        }
        assign_free(&a);
        if (sl_err_action_of(rc) != SL_ACT_REFRESH && sl_err_action_of(rc) != SL_ACT_RETRY) {
            ctl__json_error(resp, 503, sluice_strerror(rc));
            goto out;
        }
    }
    ctl__json_error(resp, 503, "the assignment kept changing; retry");
out:
    if (z) ctl__zk_done(c);
}

/* The end of a bootstrap: each partition's newest record (IN_PROGRESS, where the replay
 * ended) into tails[*n] with its version, its creation time now (the time threshold and the
 * audit's liveness count from the resume; its name keeps the bootstrap's minute), and
 * CONSUMING on the partition's instances in a. 0, or an error answered. */
static int ctl__bootstrap_tails(ctl *c, zk *z, const char *table, assign *a, uint64_t now,
                                segmeta *tails, int32_t *versions, size_t *n, httpd_resp *resp)
{
    char **names = NULL, err[512];
    size_t nn = 0;
    int rc = cstore_segments(c->cs, z, table, &names, &nn);
    if (rc) {
        ctl__json_error(resp, 503, "segment records unreadable; retry");
        return rc;
    }
    for (uint32_t p = 0; p < a->npart && !rc; p++) {
        const char *newest = NULL;
        int64_t best = -1;
        for (size_t i = 0; i < nn; i++) {
            segname sn;
            if (segname_parse(names[i], &sn) == 0 && (uint32_t)sn.partition == p &&
                sn.sequence > best) {
                best = sn.sequence;
                newest = names[i];
            }
        }
        segmeta *m = &tails[*n];
        if (!newest) continue;
        if ((rc = ctl__get_meta(c, z, table, newest, m, &versions[*n]))) {
            ctl__json_error(resp, 503, "a segment record is unreadable; retry");
        } else if (m->status != SEGMETA_IN_PROGRESS) {
            snprintf(err, sizeof err, "partition %u: the newest segment %s is %s, not IN_PROGRESS",
                     p, m->segment, segmeta_status_name(m->status));
            ctl__json_error(resp, 409, err);
            rc = SL_ESTATE;
        } else {
            m->creation_time_ms = (int64_t)now;
            assign_add(a, m->segment, &a->part[p], ASSIGN_CONSUMING);
            (*n)++;
        }
    }
    zk_free_strings(names, nn);
    return rc;
}

/* Worker: POST /tables/<t>/resumeConsumption?consumeFrom=lastConsumed|smallest|largest. Each
 * partition whose newest segment is committed gets its successor, at that segment's end
 * (lastConsumed, the default) or at Kafka's earliest or latest offset (the record says so:
 * the chain restarts there on purpose). A partition still completing a segment resumes from
 * it (lastConsumed: its commit opens the successor); with smallest or largest it is a 409. */
static void ctl__resume(ctl *c, void *arg, httpd_resp *resp)
{
    const ctl_op_call *k = arg;
    const char *from = k->query;
    bool last = !from || strcmp(from, "lastConsumed") == 0;
    bool smallest = from && strcmp(from, "smallest") == 0;
    char err[512];
    rd_kafka_t *rk = NULL;
    segmeta *open = NULL;
    int32_t *versions = NULL; /* the end of a bootstrap: the tails' record versions */
    zk *z = NULL;
    if (!last && !smallest && strcmp(from, "largest") != 0) {
        snprintf(err, sizeof err, "consumeFrom=%.64s: expected lastConsumed, smallest or largest",
                 from);
        ctl__json_error(resp, 400, err);
        goto out;
    }
    z = ctl__zk(c);
    const ctl_table *t = ctl__op_table(c, z, k->table, resp);
    if (!t) goto out;
    if (!last && !(rk = ctl__kafka_open(t->cfg, err, sizeof err))) {
        ctl__json_error(resp, 502, err);
        goto out;
    }
    for (int attempt = 0; attempt < CTL_COMMIT_RETRIES; attempt++) {
        assign a;
        int32_t va;
        if (ctl__get_assign(c, z, k->table, &a, &va)) {
            ctl__json_error(resp, 503, "assignment unreadable; retry");
            goto out;
        }
        free(open);
        free(versions);
        versions = NULL;
        open = sl_xcalloc(a.npart ? a.npart : 1, sizeof *open);
        size_t nopen = 0;
        uint64_t now = sl_clock_wall_ms();
        if (a.bootstrap_ms) {
            if (!last) {
                assign_free(&a);
                ctl__json_error(resp, 409,
                                "the table is being bootstrapped: it resumes where the replay "
                                "ended (consumeFrom=lastConsumed)");
                goto out;
            }
            versions = sl_xcalloc(a.npart ? a.npart : 1, sizeof *versions);
            if (ctl__bootstrap_tails(c, z, k->table, &a, now, open, versions, &nopen, resp)) {
                assign_free(&a);
                goto out;
            }
            a.bootstrap_ms = 0;
        }
        for (uint32_t p = 0; p < a.npart && !versions; p++) {
            const char *newest = NULL;
            int64_t best = -1;
            for (size_t s = 0; s < a.nseg; s++) {
                segname sn;
                if (segname_parse(a.seg[s].segment, &sn) == 0 && (uint32_t)sn.partition == p &&
                    sn.sequence > best) {
                    best = sn.sequence;
                    newest = a.seg[s].segment;
                }
            }
            segmeta m;
            if (!newest || ctl__get_meta(c, z, k->table, newest, &m, NULL)) continue;
            if (!segmeta_committed(&m)) {
                if (last) continue; /* consuming, or its commit opens the successor */
                assign_free(&a);
                snprintf(err, sizeof err,
                         "partition %u: segment %s is still %s; resume once it is committed, "
                         "or with consumeFrom=lastConsumed",
                         p, m.segment, segmeta_status_name(m.status));
                ctl__json_error(resp, 409, err);
                goto out;
            }
            int64_t start = m.end_offset, low, high;
            if (!last) {
                if (kmeta_watermarks(rk, t->cfg->topic, (int32_t)p, CTL_KAFKA_TIMEOUT_MS, &low,
                                     &high)) {
                    assign_free(&a);
                    snprintf(err, sizeof err, "offsets of %s partition %u unavailable at %s",
                             t->cfg->topic, p, t->cfg->broker_list);
                    ctl__json_error(resp, 502, err);
                    goto out;
                }
                start = smallest ? low : high;
            }
            segmeta *n = &open[nopen++];
            ctl__next_meta(t, &m, start, m.num_rows, m.size_bytes, now, n);
            if (start != m.end_offset)
                snprintf(n->consume_from, sizeof n->consume_from, "%s", from);
            assign_add(&a, n->segment, &a.part[p], ASSIGN_CONSUMING);
        }
        a.paused_ms = 0;
        int rc = cstore_assign_open(c->cs, z, k->table, open, versions, nopen, &a, va);
        if (rc == 0) {
            SL_INFO("controller", "consumption resumed table=%s consumeFrom=%s partitions=%zu",
                    k->table, from ? from : "lastConsumed", nopen);
            jsonw w;
            jsonw_init(&w);
            ctl__pause_json(c, z, k->table, &a, &w);
            assign_free(&a);
            httpd_resp_body(resp, 200, "application/json", w.buf, w.len, HTTPD_TAKE);
            goto out;
        }
        assign_free(&a);
        if (sl_err_action_of(rc) != SL_ACT_REFRESH && sl_err_action_of(rc) != SL_ACT_RETRY &&
            rc != SL_EEXIST) {
            ctl__json_error(resp, 503, sluice_strerror(rc));
            goto out;
        }
    }
    ctl__json_error(resp, 503, "the assignment kept changing; retry");
out:
    free(open);
    free(versions);
    if (rk) rd_kafka_destroy(rk);
    if (z) ctl__zk_done(c);
}

/* The handlers: a valid table name; pause and resume on the leader. */
static void ctl__op_route(httpd_req *req, httpd_resp *resp, ctl *c, ctl_reply_fn fn, bool leader,
                          const char *query)
{
    if (ctl__reply_ready(req, resp)) return;
    if (ctl__not_running(c, resp)) return;
    if (!segname_valid_table(httpd_req_param(req, "table"))) {
        ctl__json_error(resp, 400, "invalid table name");
        return;
    }
    if (leader && ctl__redirect_to_leader(c, req, resp)) return;
    ctl_op_call *k = ctl__op_new(req);
    free(k->query);
    k->query = ctl__op_dup(query ? httpd_req_query(req, query) : NULL);
    ctl__reply_later(c, req, resp, fn, k, ctl__op_free);
}

void ctl__pause_post(httpd_req *req, httpd_resp *resp, void *ctx)
{
    ctl__op_route(req, resp, ctx, ctl__pause, true, NULL);
}

void ctl__resume_post(httpd_req *req, httpd_resp *resp, void *ctx)
{
    ctl__op_route(req, resp, ctx, ctl__resume, true, "consumeFrom");
}

void ctl__pause_status_get(httpd_req *req, httpd_resp *resp, void *ctx)
{
    ctl__op_route(req, resp, ctx, ctl__pause_status, false, NULL);
}

/* ---- reingest (Pinot's name): a committed segment whose every stored copy is lost --------- */

/* Store the verified file `path` (crc) as segment's committed file, through the commit's own
 * path (an upload, then the no-replace promote). 0 or the error with its reason in err. */
static int ctl__store_file(ctl *c, const char *table, const char *segment, const char *path,
                           uint32_t crc, char *err, size_t errlen)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = fsutil_read_file(path, &buf, &len, err, errlen);
    segstore_upload *u = NULL;
    if (rc == 0) rc = segstore_upload_begin(c->store, table, segment, &u, err, errlen);
    if (rc == 0) {
        segstore_upload_expect_crc(u, crc);
        rc = segstore_upload_write(u, buf, len, err, errlen);
        if (rc)
            segstore_upload_abort(u);
        else /* frees u */
            rc = segstore_upload_finish(u, NULL, NULL, err, errlen);
    }
    free(buf);
    if (rc == 0) rc = segstore_promote(c->store, table, segment, crc, NULL, 0, err, errlen);
    return rc;
}

/* Worker: POST /segments/<t>/<segment>/reingest. The segment must be committed and the store's
 * copy missing or bad; its [start, end) is rebuilt from Kafka by the replay engine under its
 * own name (consumer/replay.h: the sidecar's consumer and builder, so the bytes are the
 * replicas'), and stored only when its CRC is the committed one. The sidecars that miss it
 * then download it as any committed file. */
static void ctl__reingest(ctl *c, void *arg, httpd_resp *resp)
{
    const ctl_op_call *k = arg;
    char err[768], dir[PATH_MAX], file[PATH_MAX + 2 * SL_SEGNAME_MAX];
    replay *rp = NULL;
    replay_built *b = NULL;
    dir[0] = '\0';
    zk *z = ctl__zk(c);
    const ctl_table *t = ctl__op_table(c, z, k->table, resp);
    segmeta m;
    if (!t) goto out;
    int rc = ctl__get_meta(c, z, k->table, k->segment, &m, NULL);
    ctl__zk_done(c);
    z = NULL;
    if (rc) {
        snprintf(err, sizeof err, rc == SL_ENOENT ? "no such segment %s" : "segment %s: %s",
                 k->segment, sluice_strerror(rc));
        ctl__json_error(resp, rc == SL_ENOENT ? 404 : 503, err);
        goto out;
    }
    if (!segmeta_committed(&m)) {
        snprintf(err, sizeof err, "segment %s is %s: only a committed segment is reingested",
                 k->segment, segmeta_status_name(m.status));
        ctl__json_error(resp, 409, err);
        goto out;
    }
    char path[PATH_MAX], msg[256];
    seg_reader *have = segstore_path(c->store, k->table, k->segment, path, sizeof path) == 0
                           ? seg_reader_open(path, NULL, msg, sizeof msg)
                           : NULL;
    bool good = have && seg_reader_crc(have) == m.crc;
    seg_reader_close(have);
    if (good) {
        snprintf(err, sizeof err, "the segment store holds a good copy of %s (crc %" PRIu32 ")",
                 k->segment, m.crc);
        ctl__json_error(resp, 409, err);
        goto out;
    }
    snprintf(dir, sizeof dir, "%s/.reingest", segstore_root(c->store));
    replay_seg seg = {
        .name = m.segment, .sequence = m.sequence, .start = m.start_offset, .end = m.end_offset};
    replay_part part = {.partition = m.partition, .segs = &seg, .nsegs = 1};
    replay_opts ro = {.engine = {.data_dir = dir, .workers = 1, .log_tag = "reingest"},
                      .schema = t->schema,
                      .table = t->cfg,
                      .parts = &part,
                      .nparts = 1};
    SL_INFO("controller", "reingest table=%s segment=%s offsets [%" PRId64 ", %" PRId64 ")",
            k->table, m.segment, m.start_offset, m.end_offset);
    if (!(rp = replay_start(&ro, err, sizeof err))) {
        ctl__json_error(resp, 502, err);
        goto out;
    }
    bool ended = false;
    for (int waited = 0; !atomic_load(&c->quit) && waited < CTL_REINGEST_MAX_S * 2 &&
                         !(ended = replay_wait(rp, 500));
         waited++) {
    }
    size_t nb = replay_results(rp, &b);
    replay_stat st;
    replay_progress(rp, &st);
    snprintf(file, sizeof file, "%s/%s/%s.seg", dir, k->table, m.segment);
    if (!ended || nb != 1 || st.parts_failed) {
        snprintf(err, sizeof err, "the rebuild from Kafka did not finish: %s",
                 ended ? replay_error(rp) : "time or the controller ran out");
        ctl__json_error(resp, 502, err);
    } else if (st.lost_messages) {
        snprintf(err, sizeof err,
                 "retention removed %" PRIu64 " of the segment's messages from Kafka: it cannot "
                 "be rebuilt",
                 st.lost_messages);
        ctl__json_error(resp, 410, err);
    } else if (b[0].crc != m.crc) {
        snprintf(err, sizeof err,
                 "the rebuilt file has crc %" PRIu32 ", the committed one %" PRIu32
                 ": not stored (Kafka no longer holds the same messages)",
                 b[0].crc, m.crc);
        ctl__json_error(resp, 409, err);
    } else {
        char qerr[256];
        /* a bad file under the name is moved aside first, as the store scrub does */
        segstore_quarantine(c->store, k->table, m.segment, NULL, NULL, 0, qerr, sizeof qerr);
        if ((rc = ctl__store_file(c, k->table, m.segment, file, m.crc, err, sizeof err))) {
            ctl__json_error(resp, sl_err_is_disk(rc) ? 507 : 500, err);
        } else {
            SL_WARN("controller",
                    "reingested table=%s segment=%s rows=%" PRIu64 " crc=%" PRIu32
                    ": rebuilt from Kafka with the committed CRC",
                    k->table, m.segment, b[0].rows, m.crc);
            jsonw w;
            jsonw_init(&w);
            jsonw_obj_begin(&w);
            jsonw_key(&w, "segment");
            jsonw_cstr(&w, m.segment);
            jsonw_key(&w, "crc");
            jsonw_u64(&w, m.crc);
            jsonw_key(&w, "rows");
            jsonw_u64(&w, b[0].rows);
            jsonw_key(&w, "sizeBytes");
            jsonw_u64(&w, b[0].size);
            jsonw_obj_end(&w);
            jsonw_text(&w, "\n", 1);
            httpd_resp_body(resp, 200, "application/json", w.buf, w.len, HTTPD_TAKE);
        }
    }
    unlink(file);
out:
    free(b);
    replay_stop(rp);
    if (z) ctl__zk_done(c);
}

/* A POST /segments/{table}/{segment}/...: false once answered (the job's reply, not
 * running, or not a segment name of the table). */
static bool ctl__segment_route(httpd_req *req, httpd_resp *resp, ctl *c)
{
    if (ctl__reply_ready(req, resp)) return false;
    if (ctl__not_running(c, resp)) return false;
    segname sn;
    const char *table = httpd_req_param(req, "table"), *seg = httpd_req_param(req, "segment");
    if (!segname_valid_table(table) || !seg || segname_parse(seg, &sn) ||
        strcmp(sn.table, table) != 0) {
        ctl__json_error(resp, 400, "not a segment name of this table");
        return false;
    }
    return true;
}

void ctl__reingest_post(httpd_req *req, httpd_resp *resp, void *ctx)
{
    ctl *c = ctx;
    if (!ctl__segment_route(req, resp, c)) return;
    if (ctl__redirect_to_leader(c, req, resp)) return;
    ctl__reply_later(c, req, resp, ctl__reingest, ctl__op_new(req), ctl__op_free);
}

/* ---- the commit of a replayed segment (`sluice replay` bootstrapping a table) ----------- */

/* Worker: POST /segments/<t>/<segment>/bootstrapCommit?endOffset=&rows=&sizeBytes=&crc=, after
 * the segment's upload (PUT /segments/<t>/<segment>). Only while the table is bootstrapping;
 * the file is checked against these facts and the record as a CommitEnd's is. */
static void ctl__bootstrap_commit(ctl *c, void *arg, httpd_resp *resp)
{
    const ctl_op_call *k = arg;
    char why[768];
    zk *z = ctl__zk(c);
    assign a;
    if (!ctl__op_table(c, z, k->table, resp)) goto out;
    if (ctl__get_assign(c, z, k->table, &a, NULL)) {
        ctl__json_error(resp, 503, "assignment unreadable; retry");
        goto out;
    }
    bool boot = a.bootstrap_ms != 0;
    assign_free(&a);
    if (!boot) {
        snprintf(why, sizeof why, "table %s is not being bootstrapped", k->table);
        ctl__json_error(resp, 409, why);
        goto out;
    }
    ctl__zk_done(c);
    z = NULL;
    int rc = ctl__commit_replayed(c, k->table, &k->commit, why, sizeof why);
    if (rc) {
        unsigned st = rc == SL_ENOENT                         ? 404
                      : rc == SL_EINVAL || rc == SL_ECORRUPT  ? 400
                      : rc == SL_ECONFLICT || rc == SL_ESTATE ? 409
                      : sl_err_is_disk(rc)                    ? 507
                                                              : 503;
        ctl__json_error(resp, st, why);
        goto out;
    }
    segname sn;
    char next[SL_SEGNAME_MAX];
    segname_parse(k->commit.segment, &sn);
    segname_format(next, sizeof next, k->table, sn.partition, sn.sequence + 1, sn.time_ms);
    SL_INFO("controller",
            "bootstrap commit table=%s segment=%s end=%" PRId64 " rows=%" PRId64 " crc=%" PRIu32,
            k->table, k->commit.segment, k->commit.offset, k->commit.rows, k->commit.crc);
    jsonw w;
    jsonw_init(&w);
    jsonw_obj_begin(&w);
    jsonw_key(&w, "segment");
    jsonw_cstr(&w, k->commit.segment);
    jsonw_key(&w, "crc");
    jsonw_u64(&w, k->commit.crc);
    jsonw_key(&w, "next");
    jsonw_cstr(&w, next);
    jsonw_key(&w, "nextStartOffset");
    jsonw_i64(&w, k->commit.offset);
    jsonw_obj_end(&w);
    jsonw_text(&w, "\n", 1);
    httpd_resp_body(resp, 200, "application/json", w.buf, w.len, HTTPD_TAKE);
out:
    if (z) ctl__zk_done(c);
}

/* ?name= as an integer in [lo, hi]; false if absent or not one. */
static bool ctl__query_i64(httpd_req *req, const char *name, int64_t lo, int64_t hi, int64_t *out)
{
    const char *v = httpd_req_query(req, name);
    if (!v || !*v) return false;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || *end || x < lo || x > hi) return false;
    *out = x;
    return true;
}

void ctl__bootstrap_commit_post(httpd_req *req, httpd_resp *resp, void *ctx)
{
    ctl *c = ctx;
    if (!ctl__segment_route(req, resp, c)) return;
    rpc_req r = {.reason = RPC_REASON_ROW_LIMIT};
    int64_t crc = 0;
    if (!ctl__query_i64(req, "endOffset", 0, INT64_MAX, &r.offset) ||
        !ctl__query_i64(req, "rows", 0, INT64_MAX, &r.rows) ||
        !ctl__query_i64(req, "sizeBytes", 1, INT64_MAX, &r.size_bytes) ||
        !ctl__query_i64(req, "crc", 0, UINT32_MAX, &crc)) {
        ctl__json_error(resp, 400,
                        "expected ?endOffset=N&rows=N&sizeBytes=N&crc=N (the uploaded "
                        "file's end offset, rows, size and CRC-32C)");
        return;
    }
    r.crc = (uint32_t)crc;
    snprintf(r.segment, sizeof r.segment, "%s", httpd_req_param(req, "segment"));
    snprintf(r.instance, sizeof r.instance, "sluice-replay");
    if (ctl__redirect_to_leader(c, req, resp)) return;
    ctl_op_call *k = ctl__op_new(req);
    k->commit = r;
    ctl__reply_later(c, req, resp, ctl__bootstrap_commit, k, ctl__op_free);
}
