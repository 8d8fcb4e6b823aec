/* Backfill with lineage (DESIGN §10, docs/batch.md "Backfill with lineage"): Pinot's segment
 * replacement protocol over the table's lineage node (completion/lineage.h).
 *
 *   POST /segments/<t>/startReplaceSegments[?type=OFFLINE|REALTIME][&forceCleanup=true]
 *        {"segmentsFrom":[...],"segmentsTo":[...]}      -> {"segmentLineageEntryId":"<id>"}
 *   (the segmentsTo are pushed: POST /v2/segments places them OFFLINE, downloaded and not
 *    served, while the entry is IN_PROGRESS)
 *   POST /segments/<t>/endReplaceSegments?segmentLineageEntryId=<id>
 *   POST /segments/<t>/revertReplaceSegments?segmentLineageEntryId=<id>
 *   GET  /segments/<t>/lineage
 *
 * The end is one multi-op on the lineage node and the assignment: the entry COMPLETED, every
 * segmentsTo ONLINE, every segmentsFrom out of the assignment. Each sidecar then serves the
 * segmentsTo it already holds and deletes the segmentsFrom only once all of them are in place
 * (completion/replica.c), so a reader never sees fewer rows than either side. A revert is the
 * same with the roles swapped: the segmentsTo leave the assignment, the segmentsFrom stay. The
 * records and store copies of what left are deleted after the switch, and again by the repair
 * round (ctl__lineage_cleanup) should the controller die in between; an IN_PROGRESS entry left
 * by a client that died stays invisible to readers until it is ended, reverted, or reverted by
 * a new start with forceCleanup=true (`sluice push --replace` sends it: the retry of a failed
 * backfill).
 *
 * Threads: the handlers run on the HTTP thread and hand the work to the workers (ctl_jobs.c);
 * concurrent calls on one table are ordered by the lineage node's version (compare-and-set,
 * retried). */
#include "completion/ctl_int.h"
#include "common/clock.h"
#include "common/jsonw.h"
#include "common/sl_err.h"
#include "common/xalloc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

typedef enum ctl_lin_op { CTL_LIN_START = 0, CTL_LIN_END, CTL_LIN_REVERT, CTL_LIN_GET } ctl_lin_op;

/* Longest an end waits for its segmentsTo to be staged on their sidecars, then 409. */
#define CTL_LIN_STAGE_WAIT_MS 30000u

/* What a lineage job needs, copied from the request. */
typedef struct ctl_lin_call {
    ctl_lin_op op;
    char *table; /* as in the URL */
    int type;    /* ?type=, -1 when absent */
    char *id;    /* ?segmentLineageEntryId= */
    bool force;  /* start: ?forceCleanup=true; end: ?force=true (no wait for staging) */
    char *body;  /* start: the request */
    size_t blen;
} ctl_lin_call;

static void ctl__lin_call_free(void *p)
{
    ctl_lin_call *k = p;
    free(k->table);
    free(k->id);
    free(k->body);
    free(k);
}

static void ctl__lin_id(char *buf)
{
    unsigned char r[LINEAGE_ID_LEN / 2] = {0};
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) { /* never on Linux >= 3.17 */
        uint64_t t = sl_clock_wall_ms() ^ ((uint64_t)sl_clock_mono_ms() << 20);
        memcpy(r, &t, sizeof t);
    }
    for (size_t i = 0; i < sizeof r; i++)
        snprintf(buf + 2 * i, 3, "%02x", r[i]);
}

/* Whether a serves segment somewhere (ONLINE on one instance at least). */
static bool ctl__served(assign *a, const char *segment)
{
    const assign_seg *s = assign_find(a, segment);
    for (uint32_t i = 0; s && i < s->inst.n; i++)
        if (s->state[i] == ASSIGN_ONLINE) return true;
    return false;
}

/* Delete the record and the store's copy of a segment that left the assignment, as long as
 * the lineage and the assignment are still at the versions the decision read (a new
 * replacement that reuses the name, or a push of it, moves one of them first). */
static void ctl__lin_drop(ctl *c, zk *z, const char *table, const char *segment, int32_t lver,
                          int32_t aver)
{
    char err[256];
    int rc = cstore_segment_delete_checked(c->cs, z, table, segment, lver, aver);
    if (rc == SL_ENOENT) rc = 0; /* gone already; the store's copy may not be */
    if (rc) {
        if (rc != SL_ECONFLICT)
            SL_WARN("controller", "table %s: record of replaced segment %s not deleted: %s", table,
                    segment, sluice_strerror(rc));
        return; /* the repair round looks again */
    }
    rc = segstore_remove(c->store, table, segment, err, sizeof err);
    if (rc && rc != SL_ENOENT)
        SL_WARN("controller", "table %s: store copy of replaced segment %s not deleted: %s", table,
                segment, err);
    else
        SL_INFO("controller", "table %s: replaced segment %s deleted", table, segment);
}

/* Two JSON arrays of segment names of the start's body; false (reason in err) if not. */
static bool ctl__lin_names(json_t *root, const char *key, const char ***out, size_t *n, char *err,
                           size_t errlen)
{
    json_t *arr = json_object_get(root, key);
    if (!json_is_array(arr)) {
        snprintf(err, errlen, "%s: an array of segment names", key);
        return false;
    }
    *n = json_array_size(arr);
    if (*n > LINEAGE_MAX_SEGMENTS) {
        snprintf(err, errlen, "%s: more than %d segments", key, LINEAGE_MAX_SEGMENTS);
        return false;
    }
    *out = sl_xcalloc(*n ? *n : 1, sizeof **out);
    for (size_t i = 0; i < *n; i++) {
        json_t *s = json_array_get(arr, i);
        if (!json_is_string(s) || !segname_valid_any(json_string_value(s))) {
            snprintf(err, errlen, "%s[%zu]: not a segment name", key, i);
            return false;
        }
        (*out)[i] = json_string_value(s);
    }
    return true;
}

/* Whether segment may be a segmentsTo of table t: a pushed name of its kind. */
static bool ctl__lin_to_ok(const ctl_table *t, const char *key, const char *segment)
{
    segname sn;
    if (segname_parse(segment, &sn) == 0) return false; /* completion's */
    if (strcmp(segment, CTL_RESERVED_SEGMENT) == 0) return false;
    if (t->cfg->type == TCFG_OFFLINE) return true;
    return segname_parse_uploaded_realtime(segment, &sn) == 0 && strcmp(sn.table, key) == 0;
}

/* The reply of an accepted call: {"segmentLineageEntryId": id}. */
static void ctl__lin_reply(httpd_resp *resp, const char *id, const char *state)
{
    jsonw w;
    jsonw_init(&w);
    jsonw_obj_begin(&w);
    jsonw_key(&w, "segmentLineageEntryId");
    jsonw_cstr(&w, id);
    jsonw_key(&w, "state");
    jsonw_cstr(&w, state);
    jsonw_obj_end(&w);
    jsonw_text(&w, "\n", 1);
    httpd_resp_body(resp, 200, "application/json", w.buf, w.len, HTTPD_TAKE);
}

/* start: check the names against what the table serves, add the entry (reverting overlapping
 * IN_PROGRESS ones under forceCleanup) and take their leftovers out of the assignment. */
static unsigned ctl__lin_start(ctl *c, zk *z, const ctl_lin_call *k, const ctl_table *t,
                               const char *key, char *id, char *err, size_t errlen)
{
    char **cl = NULL, ***cleanup = &cl;
    size_t ncl = 0, *ncleanup = &ncl;
    json_error_t je;
    json_t *root = json_loadb(k->body ? k->body : "", k->blen, 0, &je);
    const char **from = NULL, **to = NULL;
    size_t nfrom = 0, nto = 0;
    unsigned status = 400;
    if (!json_is_object(root)) {
        snprintf(err, errlen, "body: %s", root ? "not a JSON object" : je.text);
        goto out;
    }
    if (!ctl__lin_names(root, "segmentsFrom", &from, &nfrom, err, errlen) ||
        !ctl__lin_names(root, "segmentsTo", &to, &nto, err, errlen))
        goto out;
    for (size_t i = 0; i < nto; i++)
        if (!ctl__lin_to_ok(t, key, to[i])) {
            snprintf(err, errlen, "segmentsTo %s: not a name a push can give a segment of %s",
                     to[i], key);
            goto out;
        }
    status = 503;
    for (int attempt = 0; attempt < CTL_COMMIT_RETRIES; attempt++) {
        lineage l;
        int32_t lv, av;
        assign a;
        int rc = cstore_lineage_get(c->cs, z, key, &l, &lv, err, errlen);
        if (rc) {
            status = rc == SL_ECORRUPT ? 500 : 503;
            break;
        }
        if (ctl__get_assign(c, z, key, &a, &av)) {
            lineage_free(&l);
            snprintf(err, errlen, "assignment of %s unreadable", key);
            break;
        }
        const char *bad = NULL;
        for (size_t i = 0; i < nfrom && !bad; i++)
            if (!segname_is_uploaded(from[i]) || !ctl__served(&a, from[i])) bad = from[i];
        if (bad)
            snprintf(err, errlen, "segmentsFrom %s: not a served pushed segment of %s", bad, key);
        for (size_t i = 0; i < nto && !bad; i++)
            if (ctl__served(&a, to[i])) {
                bad = to[i];
                snprintf(err, errlen, "segmentsTo %s: exists in table %s", bad, key);
            }
        if (bad) {
            status = 400;
        } else {
            ctl__lin_id(id);
            for (size_t i = 0; i < *ncleanup; i++)
                free((*cleanup)[i]);
            *ncleanup = 0;
            rc = lineage_start(&l, id, from, nfrom, to, nto, k->force, (int64_t)sl_clock_wall_ms(),
                               cleanup, ncleanup, err, errlen);
            if (rc) status = rc == SL_ELIMIT ? 400 : 409;
        }
        if (!bad && !rc) {
            bool moved = false;
            for (size_t i = 0; i < *ncleanup; i++)
                moved |= assign_remove(&a, (*cleanup)[i]) == 0;
            lineage_prune(&l);
            rc = cstore_lineage_set(c->cs, z, key, &l, lv, moved ? &a : NULL, av);
            if (rc == 0)
                status = 0;
            else
                snprintf(err, errlen, "lineage of %s not written: %s", key, sluice_strerror(rc));
        }
        lineage_free(&l);
        assign_free(&a);
        if (status != 503 || (rc != SL_ECONFLICT && rc != SL_EEXIST && rc != SL_ENOENT)) break;
    }
out:
    for (size_t i = 0; i < ncl; i++)
        free(cl[i]);
    free(cl);
    free(from);
    free(to);
    json_decref(root);
    return status;
}

/* Whether every segmentsTo of entry id is held by each live instance it is placed on
 * (reported STAGED, or ONLINE): 0 yes (or nothing to wait for: no such entry, or not
 * IN_PROGRESS; the move answers those), 1 not yet (why says which), or the HTTP status of a
 * ZooKeeper failure. As Pinot's end waits for the new segments to be ONLINE in the external
 * view: after the switch each sidecar serves them by a rename. An instance that is not live
 * fetches them when it is back. */
static unsigned ctl__lin_staged(ctl *c, zk *z, const char *key, const char *id, char *why,
                                size_t cap)
{
    lineage l;
    assign a;
    char err[256];
    if (cstore_lineage_get(c->cs, z, key, &l, NULL, err, sizeof err)) return 503;
    const lineage_entry *e = lineage_find(&l, id);
    if (!e || e->state != LINEAGE_IN_PROGRESS) {
        lineage_free(&l);
        return 0;
    }
    if (ctl__get_assign(c, z, key, &a, NULL)) {
        lineage_free(&l);
        return 503;
    }
    char **live = NULL;
    size_t nlive = 0;
    unsigned out = cstore_instances(c->cs, z, &live, &nlive) ? 503 : 0;
    for (size_t i = 0; i < e->nto && !out; i++) {
        const assign_seg *as = assign_find(&a, e->to[i]);
        for (uint32_t j = 0; as && j < as->inst.n && !out; j++) {
            bool up = false;
            for (size_t k = 0; k < nlive && !up; k++)
                up = strcmp(live[k], as->inst.id[j]) == 0;
            if (!up) continue;
            json_t *rep = NULL;
            int g = cstore_replica_get(c->cs, z, key, as->inst.id[j], &rep);
            if (g && g != SL_ENOENT) {
                out = 503;
                break;
            }
            const char *st = json_string_value(json_object_get(rep, as->segment));
            if (!st || (strcmp(st, "STAGED") != 0 && strcmp(st, "ONLINE") != 0)) {
                snprintf(why, cap, "segment %s is not staged on %s yet (%s)", as->segment,
                         as->inst.id[j], st ? st : "not reported");
                out = 1;
            }
            json_decref(rep); /* st is not used past here */
        }
    }
    zk_free_strings(live, nlive);
    assign_free(&a);
    lineage_free(&l);
    return out;
}

/* end or revert: the entry's one move and the assignment's switch, in one multi-op. state
 * (16 bytes) gets the entry's state after it. */
static unsigned ctl__lin_finish(ctl *c, zk *z, const ctl_lin_call *k, const ctl_table *t,
                                const char *key, char *state, char *err, size_t errlen)
{
    lineage_state want = k->op == CTL_LIN_END ? LINEAGE_COMPLETED : LINEAGE_REVERTED;
    unsigned status = 503;
    for (int attempt = 0; attempt < CTL_COMMIT_RETRIES; attempt++) {
        lineage l;
        int32_t lv, av;
        assign a;
        int rc = cstore_lineage_get(c->cs, z, key, &l, &lv, err, errlen);
        if (rc) return rc == SL_ECORRUPT ? 500 : 503;
        lineage_entry *e = lineage_find(&l, k->id);
        if (!e || e->state != LINEAGE_IN_PROGRESS) { /* a repeated call of the same move is a
                                                      * retry whose reply was lost: 200 */
            status = !e ? 404 : e->state == want ? 0 : 409;
            if (!e)
                snprintf(err, errlen, "no lineage entry %s in table %s", k->id, key);
            else if (status)
                snprintf(err, errlen, "lineage entry %s is %s", k->id,
                         lineage_state_name(e->state));
            if (e) snprintf(state, 16, "%s", lineage_state_name(e->state));
            lineage_free(&l);
            return status;
        }
        if (ctl__get_assign(c, z, key, &a, &av)) {
            lineage_free(&l);
            snprintf(err, errlen, "assignment of %s unreadable", key);
            return 503;
        }
        status = 0;
        char **live = NULL;
        size_t nlive = 0;
        if (want == LINEAGE_COMPLETED && cstore_instances(c->cs, z, &live, &nlive) != 0) {
            snprintf(err, errlen, "live instances unreadable");
            status = 503; /* never a switch that places the new segments nowhere */
        }
        for (size_t i = 0; want == LINEAGE_COMPLETED && i < e->nto && !status; i++) {
            segmeta m;
            char why[256];
            if (ctl__read_meta(c, z, key, e->to[i], &m, NULL, why, sizeof why) != 0 ||
                m.status != SEGMETA_UPLOADED) {
                snprintf(err, errlen, "segmentsTo %s has not been pushed", e->to[i]);
                status = 400;
                break;
            }
            assign_seg *as = assign_find(&a, e->to[i]);
            if (as && !as->inst.n) { /* placed on nobody (no live sidecar at its push) */
                assign_remove(&a, e->to[i]);
                as = NULL;
            }
            if (!as) {
                ctl__push_place(&a, t->cfg, e->to[i], live, nlive, ASSIGN_ONLINE);
            } else {
                for (uint32_t j = 0; j < as->inst.n; j++)
                    as->state[j] = ASSIGN_ONLINE;
            }
        }
        if (!status) {
            char **out = want == LINEAGE_COMPLETED ? e->from : e->to;
            size_t nout = want == LINEAGE_COMPLETED ? e->nfrom : e->nto;
            for (size_t i = 0; i < nout; i++)
                assign_remove(&a, out[i]);
            lineage_move(e, want, (int64_t)sl_clock_wall_ms());
            lineage_prune(&l);
            rc = cstore_lineage_set(c->cs, z, key, &l, lv, &a, av);
            if (rc) {
                status = 503;
                snprintf(err, errlen, "lineage of %s not written: %s", key, sluice_strerror(rc));
            } else {
                snprintf(state, 16, "%s", lineage_state_name(want));
            }
        }
        zk_free_strings(live, nlive);
        lineage_free(&l);
        assign_free(&a);
        if (status != 503 || (rc != SL_ECONFLICT && rc != SL_EEXIST && rc != SL_ENOENT)) break;
    }
    return status;
}

/* Worker: one lineage call. */
static void ctl__lineage_job(ctl *c, void *arg, httpd_resp *resp)
{
    ctl_lin_call *k = arg;
    char key[SL_IDENT_MAX + 1], err[1024] = "", id[LINEAGE_ID_LEN + 1] = "", state[16] = "";
    zk *z = ctl__zk(c);
    int rc = ctl__push_table_key(c, z, k->table, k->type, key);
    const ctl_table *t = rc == 0 ? ctl__table(c, z, key) : NULL;
    unsigned status;
    if (!t) {
        status = rc == SL_ENOENT ? 404 : 503;
        snprintf(err, sizeof err, "table %s: %s", k->table,
                 rc == SL_ENOENT ? "not found" : "unreadable");
    } else if (k->op == CTL_LIN_GET) {
        lineage l;
        rc = cstore_lineage_get(c->cs, z, key, &l, NULL, err, sizeof err);
        ctl__zk_done(c);
        if (rc) {
            ctl__json_error(resp, rc == SL_ECORRUPT ? 500 : 503,
                            err[0] ? err : sluice_strerror(rc));
            return;
        }
        size_t len;
        char *j = lineage_to_json(&l, &len);
        lineage_free(&l);
        j = sl_xrealloc(j, len + 2);
        j[len++] = '\n';
        httpd_resp_body(resp, 200, "application/json", j, len, HTTPD_TAKE);
        return;
    } else if (k->op == CTL_LIN_START) {
        status = ctl__lin_start(c, z, k, t, key, id, err, sizeof err);
        snprintf(state, sizeof state, "IN_PROGRESS");
    } else {
        snprintf(id, sizeof id, "%s", k->id);
        status = 0;
        /* an end waits (bounded) until the new segments are staged where they are placed;
         * force=true switches at once. ZooKeeper is let go between looks. */
        int64_t until = sl_clock_mono_ms() + (int64_t)CTL_LIN_STAGE_WAIT_MS;
        while (k->op == CTL_LIN_END && !k->force &&
               (status = ctl__lin_staged(c, z, key, k->id, err, sizeof err)) == 1 &&
               sl_clock_mono_ms() < until) {
            ctl__zk_done(c);
            sl_clock_sleep_ms(200);
            z = ctl__zk(c);
        }
        if (status == 1) status = 409; /* err says which segment where: retry the end */
        if (!status) status = ctl__lin_finish(c, z, k, t, key, state, err, sizeof err);
    }
    /* what left the assignment: its records and store copies (version-checked) */
    if (!status && k->op != CTL_LIN_GET) ctl__lineage_cleanup(c, z, key);
    ctl__zk_done(c);
    if (status) {
        ctl__json_error(resp, status, err);
        return;
    }
    SL_INFO("controller", "table %s: lineage entry %s %s", key, id, state);
    ctl__lin_reply(resp, id, state);
}

/* The handlers: parameters copied, the work on a worker. */
static void ctl__lineage_call(httpd_req *req, httpd_resp *resp, ctl *c, ctl_lin_op op)
{
    if (ctl__reply_ready(req, resp)) return;
    if (ctl__not_running(c, resp)) return;
    if (op != CTL_LIN_GET && ctl__redirect_to_leader(c, req, resp)) return;
    const char *table = httpd_req_param(req, "table"), *ty = httpd_req_query(req, "type");
    const char *id = httpd_req_query(req, "segmentLineageEntryId");
    const char *force = httpd_req_query(req, "forceCleanup");
    if (!segname_valid_table(table)) {
        ctl__json_error(resp, 400, "invalid table name");
        return;
    }
    int type = -1;
    if (ty && strcasecmp(ty, "OFFLINE") == 0)
        type = TCFG_OFFLINE;
    else if (ty && strcasecmp(ty, "REALTIME") == 0)
        type = TCFG_REALTIME;
    else if (ty) {
        ctl__json_error(resp, 400, "type: OFFLINE or REALTIME");
        return;
    }
    if ((op == CTL_LIN_END || op == CTL_LIN_REVERT) && (!id || strlen(id) != LINEAGE_ID_LEN)) {
        ctl__json_error(resp, 400, "segmentLineageEntryId: a lineage entry id");
        return;
    }
    ctl_lin_call *k = sl_xcalloc(1, sizeof *k);
    k->op = op;
    k->table = sl_xstrdup(table);
    k->type = type;
    k->id = id ? sl_xstrdup(id) : NULL;
    if (op == CTL_LIN_END) force = httpd_req_query(req, "force");
    k->force = force && strcasecmp(force, "true") == 0;
    if (op == CTL_LIN_START) {
        const char *b = httpd_req_body(req, &k->blen);
        k->body = sl_xmalloc(k->blen + 1);
        if (k->blen) memcpy(k->body, b, k->blen);
        k->body[k->blen] = 0;
    }
    ctl__reply_later(c, req, resp, ctl__lineage_job, k, ctl__lin_call_free);
}

void ctl__lineage_start_post(httpd_req *req, httpd_resp *resp, void *ctx)
{
    ctl__lineage_call(req, resp, ctx, CTL_LIN_START);
}

void ctl__lineage_end_post(httpd_req *req, httpd_resp *resp, void *ctx)
{
    ctl__lineage_call(req, resp, ctx, CTL_LIN_END);
}

void ctl__lineage_revert_post(httpd_req *req, httpd_resp *resp, void *ctx)
{
    ctl__lineage_call(req, resp, ctx, CTL_LIN_REVERT);
}

void ctl__lineage_get(httpd_req *req, httpd_resp *resp, void *ctx)
{
    ctl__lineage_call(req, resp, ctx, CTL_LIN_GET);
}

void ctl__lineage_cleanup(ctl *c, zk *z, const char *table)
{
    lineage l;
    char err[256];
    int32_t lver, aver;
    if (cstore_lineage_get(c->cs, z, table, &l, &lver, err, sizeof err)) return;
    if (!l.n) {
        lineage_free(&l);
        return;
    }
    assign a;
    char **names = NULL;
    size_t n = 0;
    if (ctl__get_assign(c, z, table, &a, &aver)) {
        lineage_free(&l);
        return;
    }
    if (cstore_segments(c->cs, z, table, &names, &n) == 0) {
        for (size_t i = 0; i < n; i++) {
            if (assign_find(&a, names[i])) continue; /* still placed: never dropped */
            bool left = false;
            for (size_t e = 0; e < l.n && !left; e++) {
                const lineage_entry *x = &l.e[e];
                char *const *side = x->state == LINEAGE_COMPLETED  ? x->from
                                    : x->state == LINEAGE_REVERTED ? x->to
                                                                   : NULL;
                size_t ns = x->state == LINEAGE_COMPLETED  ? x->nfrom
                            : x->state == LINEAGE_REVERTED ? x->nto
                                                           : 0;
                for (size_t s = 0; s < ns && !left; s++)
                    left = strcmp(side[s], names[i]) == 0;
            }
            /* a name pushed again since (a new entry's, or a plain push) is placed: kept above */
            if (left && !lineage_pending_to(&l, names[i]))
                ctl__lin_drop(c, z, table, names[i], lver, aver);
        }
        zk_free_strings(names, n);
    }
    assign_free(&a);
    lineage_free(&l);
}
