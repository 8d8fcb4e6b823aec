/* Segment push (DESIGN §10, docs/batch.md "Push"): POST /v2/segments, Pinot's upload route,
 * and the placement of pushed segments on sidecars.
 *
 *   POST /v2/segments?tableName=T[&tableType=OFFLINE|REALTIME]
 *     UPLOAD_TYPE: SEGMENT   the body is the segment file (the default)
 *                  URI       DOWNLOAD_URI names it; the controller fetches a copy into the store
 *                  METADATA  DOWNLOAD_URI names it; the controller verifies it there and
 *                            records the URI itself as where sidecars download it
 *     If-Match: <crc>        refused (412) when a current copy has another CRC
 *
 * A pushed segment is named by its file (`sluice segment build --name`, a job spec's name
 * generator): an OFFLINE table takes any name of the whitelist that is not a consumed
 * segment's, a REALTIME table only Pinot's uploaded-realtime names of one of its partitions.
 * The file is verified whole before anything is visible: the store's upload path checks
 * structure, CRC and that the file names this table. Then, for one name at a time per
 * controller (a second push of the name meanwhile is 409), the store's copy is swapped in with
 * one rename (segstore_replace) and the record (UPLOADED) and the assignment are written in
 * one multi-op. A refresh keeps the placement and rewrites the assignment, so the sidecars
 * that host it see the change (their assignment watch) and fetch the new CRC; readers of the
 * old file keep it until they have the new one verified.
 *
 * Placement: an OFFLINE segment goes to `replication` live sidecars, each time the one with
 * the fewest segments of the table (assign_fill: balanced, deterministic); a dimension table's
 * to every live sidecar; an uploaded-realtime segment to its partition's replicas. Sidecars
 * that are not up at the push are added by the repair round (ctl__push_top_up).
 *
 * Threads: the handlers run on the HTTP thread and never block; the admission (ZooKeeper) and
 * the finish (fetch, fsync, verification, ZooKeeper) are jobs on the workers (ctl_jobs.c).
 * `mu` guards the set of names being pushed. */
#include "completion/ctl_int.h"
#include "common/clock.h"
#include "common/httpc.h"
#include "common/jsonw.h"
#include "common/sl_err.h"
#include "common/xalloc.h"
#include "common/xform.h"
#include "completion/segfetch.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum ctl_push_mode { CTL_PUSH_SEGMENT = 0, CTL_PUSH_URI, CTL_PUSH_METADATA } ctl_push_mode;

static const char *const ctl_push_mode_names[] = {
    [CTL_PUSH_SEGMENT] = "SEGMENT", [CTL_PUSH_URI] = "URI", [CTL_PUSH_METADATA] = "METADATA"};

/* What the jobs of one push need, copied from the request. */
typedef struct ctl_push_call {
    char name[SL_IDENT_MAX + 1]; /* tableName as given */
    int type;                    /* -1: not given, else a tcfg_table_type */
    ctl_push_mode mode;
    char *uri; /* DOWNLOAD_URI (URI, METADATA) */
    bool has_if_match;
    uint32_t if_match;
    char key[SL_IDENT_MAX + 1]; /* the admission's answer: the table's key */
    unsigned status;            /* ... 0, or the HTTP status refusing the push */
    char err[512];
    segstore_upload *u; /* SEGMENT: the received body, until finished */
} ctl_push_call;

/* The request's state while a SEGMENT body streams in. */
typedef struct ctl_push_body {
    ctl_state_kind kind; /* CTL_STATE_PUSH */
    segstore_upload *u;  /* NULL for URI and METADATA, which take no body */
    ctl_push_call *k;
} ctl_push_body;

static void ctl__push_call_free(void *p)
{
    ctl_push_call *k = p;
    if (!k) return;
    segstore_upload_abort(k->u);
    free(k->uri);
    free(k);
}

static void ctl__push_body_free(void *p)
{
    ctl_push_body *b = p;
    segstore_upload_abort(b->u);
    ctl__push_call_free(b->k);
    free(b);
}

/* A reply in Pinot's shape: {"status": msg} (its clients print it), plus the error. */
static void ctl__push_fail(httpd_resp *resp, unsigned status, const char *msg)
{
    jsonw w;
    jsonw_init(&w);
    jsonw_obj_begin(&w);
    jsonw_key(&w, "code");
    jsonw_u64(&w, status);
    jsonw_key(&w, "error");
    jsonw_cstr(&w, msg);
    jsonw_obj_end(&w);
    jsonw_text(&w, "\n", 1);
    httpd_resp_body(resp, status, "application/json", w.buf, w.len, HTTPD_TAKE);
}

/* The request's parameters into a call, or the 400 that refuses them (msg in err). */
static unsigned ctl__push_params(httpd_req *req, ctl_push_call *k)
{
    const char *t = httpd_req_query(req, "tableName"), *ty = httpd_req_query(req, "tableType");
    const char *mode = httpd_req_header(req, "UPLOAD_TYPE"),
               *uri = httpd_req_header(req, "DOWNLOAD_URI");
    const char *im = httpd_req_header(req, "If-Match");
    if (!t || !segname_valid_table(t)) {
        snprintf(k->err, sizeof k->err, "tableName: missing or not a table name");
        return 400;
    }
    snprintf(k->name, sizeof k->name, "%s", t);
    k->type = -1;
    if (ty && strcasecmp(ty, "OFFLINE") == 0)
        k->type = TCFG_OFFLINE;
    else if (ty && strcasecmp(ty, "REALTIME") == 0)
        k->type = TCFG_REALTIME;
    else if (ty) {
        snprintf(k->err, sizeof k->err, "tableType: OFFLINE or REALTIME");
        return 400;
    }
    k->mode = CTL_PUSH_SEGMENT;
    if (mode) {
        size_t i = 0;
        while (i < 3 && strcasecmp(mode, ctl_push_mode_names[i]) != 0)
            i++;
        if (i == 3) {
            snprintf(k->err, sizeof k->err, "UPLOAD_TYPE: SEGMENT, URI or METADATA");
            return 400;
        }
        k->mode = (ctl_push_mode)i;
    }
    if (k->mode != CTL_PUSH_SEGMENT) {
        if (!uri || !*uri) {
            snprintf(k->err, sizeof k->err, "UPLOAD_TYPE %s needs the DOWNLOAD_URI header",
                     ctl_push_mode_names[k->mode]);
            return 400;
        }
        if (strlen(uri) >= sizeof((segmeta *)0)->download_url) {
            snprintf(k->err, sizeof k->err, "DOWNLOAD_URI: longer than %zu bytes",
                     sizeof((segmeta *)0)->download_url - 1);
            return 400;
        }
        k->uri = sl_xstrdup(uri);
    }
    if (im) { /* a CRC, as Pinot's clients send it: decimal, maybe quoted like an ETag */
        char buf[32];
        size_t n = strlen(im);
        if (n >= 2 && im[0] == '"' && im[n - 1] == '"') {
            im++;
            n -= 2;
        }
        char *end;
        snprintf(buf, sizeof buf, "%.*s", (int)(n < sizeof buf ? n : sizeof buf - 1), im);
        errno = 0;
        unsigned long long v = strtoull(buf, &end, 10);
        if (!n || n >= sizeof buf || *end || errno || v > UINT32_MAX || buf[0] == '-') {
            snprintf(k->err, sizeof k->err, "If-Match: a segment CRC (decimal)");
            return 400;
        }
        k->has_if_match = true;
        k->if_match = (uint32_t)v;
    }
    return 0;
}

int ctl__push_table_key(ctl *c, zk *z, const char *name, int type, char *key)
{
    char want[SL_IDENT_MAX + 16];
    size_t n = strlen(name);
    bool suffixed = (n > 8 && strcmp(name + n - 8, "_OFFLINE") == 0) ||
                    (n > 9 && strcmp(name + n - 9, "_REALTIME") == 0);
    /* the type names the half of a hybrid table; without it the name resolves as the table
     * routes do */
    if (type == TCFG_OFFLINE && !suffixed)
        snprintf(want, sizeof want, "%s_OFFLINE", name);
    else
        snprintf(want, sizeof want, "%s", name);
    int rc = strlen(want) > SL_IDENT_MAX ? SL_ENOENT : ctl__table_key(c, z, want, key);
    if (rc) return rc;
    const ctl_table *t = ctl__table(c, z, key);
    if (!t) return SL_ECORRUPT;
    return type >= 0 && (int)t->cfg->type != type ? SL_ENOENT : 0;
}

/* Worker: the table the push names, by its key; 404 when there is none of that type. */
static void ctl__push_admit(ctl *c, void *arg)
{
    ctl_push_call *k = arg;
    zk *z = ctl__zk(c);
    int rc = ctl__push_table_key(c, z, k->name, k->type, k->key);
    ctl__zk_done(c);
    if (rc == SL_ENOENT) {
        snprintf(k->err, sizeof k->err, "table %s%s%s not found", k->name,
                 k->type >= 0 ? " of type " : "",
                 k->type == TCFG_OFFLINE    ? "OFFLINE"
                 : k->type == TCFG_REALTIME ? "REALTIME"
                                            : "");
        k->status = 404;
    } else if (rc) {
        snprintf(k->err, sizeof k->err, "table %s unreadable: %s", k->name,
                 rc == SL_ECORRUPT ? "stored config unusable" : sluice_strerror(rc));
        k->status = 503;
    }
}

int ctl__push_stream(httpd_req *req, const void *data, size_t len, httpd_resp *resp, void *ctx)
{
    ctl *c = ctx;
    char err[512];
    if (data) {
        ctl_push_body *b = httpd_req_state(req);
        if (!b->u) {
            ctl__push_fail(resp, 400, "UPLOAD_TYPE URI and METADATA take no body");
            return 1;
        }
        int rc = segstore_upload_write(b->u, data, len, err, sizeof err);
        if (rc) {
            ctl__upload_failed(c, "push", resp, rc, err, rc == SL_ELIMIT ? 413 : 500);
            return 1;
        }
        return 0;
    }
    ctl_push_call *k = NULL;
    switch (ctl__job_take(req, (void **)&k)) {
    case CTL_JOB_PENDING:
        return 0;
    case CTL_JOB_CANCELLED:
        ctl__push_fail(resp, 503, "server stopping");
        return 1;
    case CTL_JOB_NONE: {
        if (!ctl__serving(c)) {
            ctl__push_fail(resp, 503, "controller starting");
            return 1;
        }
        if (ctl__redirect_to_leader(c, req, resp)) return 1;
        k = sl_xcalloc(1, sizeof *k);
        unsigned refuse = ctl__push_params(req, k);
        if (refuse) {
            ctl__push_fail(resp, refuse, k->err);
            ctl__push_call_free(k);
            return 1;
        }
        if (ctl__job_submit(c, req, ctl__push_admit, k, ctl__push_call_free)) return 0;
        ctl__push_fail(resp, 503, "server stopping");
        return 1;
    }
    case CTL_JOB_DONE:
        break;
    }
    if (k->status) {
        ctl__push_fail(resp, k->status, k->err);
        ctl__push_call_free(k);
        return 1;
    }
    ctl_push_body *b = sl_xcalloc(1, sizeof *b);
    b->kind = CTL_STATE_PUSH;
    b->k = k;
    if (k->mode == CTL_PUSH_SEGMENT) {
        int rc = segstore_upload_begin(c->store, k->key, NULL, &b->u, err, sizeof err);
        if (rc) {
            ctl__upload_failed(c, "push", resp, rc, err, 500);
            ctl__push_body_free(b);
            return 1;
        }
    }
    httpd_req_set_state(req, b, ctl__push_body_free);
    return 0;
}

/* ---- the finish -------------------------------------------------------------------------- */

/* Claim table/segment for this push: false when another push of it is in flight. */
static bool ctl__push_claim(ctl *c, const char *key, const char *segment, bool claim)
{
    char id[SL_IDENT_MAX + SL_SEGNAME_MAX + 2];
    snprintf(id, sizeof id, "%s/%s", key, segment);
    pthread_mutex_lock(&c->mu);
    size_t i = 0;
    while (i < c->npushing && strcmp(c->pushing[i], id) != 0)
        i++;
    bool ok = claim ? i == c->npushing : true;
    if (claim && ok) {
        c->pushing = sl_xrealloc(c->pushing, (c->npushing + 1) * sizeof *c->pushing);
        c->pushing[c->npushing++] = sl_xstrdup(id);
    } else if (!claim && i < c->npushing) {
        free(c->pushing[i]);
        c->pushing[i] = c->pushing[--c->npushing];
    }
    pthread_mutex_unlock(&c->mu);
    return ok;
}

/* Attempts of a push's record + assignment multi-op: parallel pushes into one table (sluice
 * push --parallel) all rewrite its assignment, and each round one of them wins. */
#define CTL_PUSH_RETRIES 64

/* How many sidecars an uploaded segment of t should be on, given nlive live ones. */
static uint32_t ctl__push_want(const tcfg *t, size_t nlive)
{
    return t->dim_table ? (uint32_t)(nlive < ASSIGN_MAX_HOSTS ? nlive : ASSIGN_MAX_HOSTS)
                        : t->replication;
}

void ctl__push_place(assign *a, const tcfg *t, const char *segment, char **live, size_t nlive,
                     assign_state st)
{
    static const assign_list none;
    segname sn;
    if (t->type == TCFG_REALTIME && segname_parse_uploaded_realtime(segment, &sn) == 0) {
        /* uploaded-realtime: the partition's replicas host it */
        assign_add(a, segment, (uint32_t)sn.partition < a->npart ? &a->part[sn.partition] : &none,
                   st);
    } else {
        assign_add(a, segment, &none, st);
        assign_fill(a, a->nseg - 1, (const char *const *)live, nlive, ctl__push_want(t, nlive), st);
    }
}

/* The record and the assignment entry of pushed segment info as one multi-op, retried on a
 * concurrent change of either (a commit of the table moves the assignment's version). A new
 * name is placed; a refresh keeps its place and its creation time. If-Match was checked
 * before the store's copy changed (the claim keeps other pushes of the name out). Returns 0
 * or the HTTP status refusing it, with the reason in err. */
static unsigned ctl__push_record(ctl *c, const ctl_push_call *k, const ctl_table *t,
                                 const segstore_info *info, int32_t partition, const char *url,
                                 bool *refreshed, char *err, size_t errlen)
{
    unsigned status = 503;
    zk *z = ctl__zk(c);
    for (int attempt = 0; attempt < CTL_PUSH_RETRIES; attempt++) {
        segmeta old, m = {0};
        int32_t ver = -1, aver = -1;
        char why[256] = "";
        int rc = ctl__read_meta(c, z, k->key, info->segment, &old, &ver, why, sizeof why);
        bool exists = rc == 0 || rc == SL_ECORRUPT; /* a corrupt record is replaced */
        if (rc && !exists && rc != SL_ENOENT) {
            snprintf(err, errlen, "segment record unreadable: %s", sluice_strerror(rc));
            break;
        }
        assign a;
        char **live = NULL;
        size_t nlive = 0;
        if (ctl__get_assign(c, z, k->key, &a, &aver)) {
            snprintf(err, errlen, "assignment of %s unreadable", k->key);
            break;
        }
        if (cstore_instances(c->cs, z, &live, &nlive) != 0) nlive = 0;
        /* a replacement's segmentsTo is placed OFFLINE: downloaded, not served, until the end;
         * one a revert dropped is never served (as Pinot's routing hides it). Read after the
         * assignment: a switch that lands in between moves the assignment's version, and the
         * multi-op below fails and reads both again. */
        lineage lin;
        assign_state st = ASSIGN_ONLINE;
        int lrc = cstore_lineage_get(c->cs, z, k->key, &lin, NULL, why, sizeof why);
        const lineage_entry *gone = NULL;
        if (lrc == 0) {
            if (lineage_pending_to(&lin, info->segment))
                st = ASSIGN_OFFLINE;
            else
                gone = lineage_reverted_to(&lin, info->segment);
            if (gone)
                snprintf(err, errlen,
                         "segment %s was reverted by lineage entry %s: push it under another name",
                         info->segment, gone->id);
            lineage_free(&lin);
        } else {
            snprintf(err, errlen, "lineage of %s unreadable: %s", k->key,
                     why[0] ? why : sluice_strerror(lrc));
        }
        if (lrc || gone) {
            status = lrc ? (lrc == SL_ECORRUPT ? 500 : 503) : 409;
            assign_free(&a);
            zk_free_strings(live, nlive);
            break;
        }
        snprintf(m.segment, sizeof m.segment, "%s", info->segment);
        snprintf(m.table, sizeof m.table, "%s", k->key);
        m.partition = partition;
        m.sequence = m.start_offset = m.end_offset = -1;
        m.status = SEGMETA_UPLOADED;
        m.num_rows = (int64_t)info->rows;
        m.crc = info->crc;
        m.size_bytes = (int64_t)info->size;
        m.commit_time_ms = (int64_t)sl_clock_wall_ms();
        m.creation_time_ms = rc == 0 ? old.creation_time_ms : m.commit_time_ms;
        m.has_time_range = info->has_time_range;
        m.min_time = info->min_time;
        m.max_time = info->max_time;
        memcpy(m.download_url, url, strlen(url) + 1); /* fits: checked by the caller */
        if (!assign_find(&a, m.segment)) ctl__push_place(&a, t->cfg, m.segment, live, nlive, st);
        rc = cstore_assign_open(c->cs, z, k->key, &m, exists ? &ver : NULL, 1, &a, aver);
        assign_free(&a);
        zk_free_strings(live, nlive);
        if (rc == 0) {
            *refreshed = exists;
            status = 0;
            break;
        }
        snprintf(err, errlen, "recording segment %s in ZooKeeper failed: %s", m.segment,
                 sluice_strerror(rc));
        if (rc != SL_ECONFLICT && rc != SL_EEXIST && rc != SL_ENOENT) break;
    }
    ctl__zk_done(c);
    return status;
}

static void ctl__push_reply(httpd_resp *resp, const ctl_push_call *k, const segstore_info *i,
                            const char *url, bool refreshed);

/* Worker: fetch (URI, METADATA), verify, check the name against the table, swap the store's
 * copy in and record it. */
static void ctl__push_finish(ctl *c, void *arg, httpd_resp *resp)
{
    ctl_push_call *k = arg;
    char err[1024], why[HTTPC_ERROR_MAX + 64];
    segstore_upload *u = k->u;
    k->u = NULL;
    int rc = 0;
    if (k->mode != CTL_PUSH_SEGMENT) {
        rc = segstore_upload_begin(c->store, k->key, NULL, &u, err, sizeof err);
        if (rc) {
            ctl__upload_failed(c, "push", resp, rc, err, 500);
            return;
        }
        httpc *h = httpc_new();
        httpc_set_fetch_auth(h, c->o.fetch_ca_file, c->o.fetch_netrc_file);
        rc = segfetch_get_fd(h, k->uri, segstore_upload_fd(u), why, sizeof why);
        httpc_free(h);
        if (rc) {
            segstore_upload_abort(u);
            snprintf(err, sizeof err, "DOWNLOAD_URI %s: %s", k->uri, why);
            if (sl_err_is_disk(rc))
                ctl__upload_failed(c, "push", resp, rc, err, 500);
            else
                ctl__push_fail(resp, rc == SL_ENOENT || rc == SL_EINVAL ? 400 : 502, err);
            return;
        }
    }
    /* verified, nothing visible yet: every refusal below leaves nothing behind */
    segstore_info info;
    rc = segstore_upload_check(u, &info, err, sizeof err);
    if (rc) {
        ctl__upload_failed(c, "push", resp, rc, err, sl_err_is_disk(rc) ? 500 : 400);
        goto out;
    }
    diskstate_ok(c->disk, "upload", sl_clock_wall_ms());
    zk *z = ctl__zk(c);
    const ctl_table *t = ctl__table(c, z, k->key);
    ctl__zk_done(c);
    if (!t) {
        ctl__push_fail(resp, 503, "table config unreadable");
        goto out;
    }
    /* the name decides what the segment is: a consumed segment's is never pushed */
    segname sn;
    int32_t partition = -1;
    if (segname_parse(info.segment, &sn) == 0) {
        snprintf(err, sizeof err,
                 "segment %s has a consumed segment's name: completion owns it, a push cannot "
                 "replace it",
                 info.segment);
        ctl__push_fail(resp, 403, err);
        goto out;
    }
    if (strcmp(info.segment, CTL_RESERVED_SEGMENT) == 0) {
        snprintf(err, sizeof err,
                 "segment name %s is reserved: GET /segments/<table>/%s is the table's lineage",
                 info.segment, info.segment);
        ctl__push_fail(resp, 400, err);
        goto out;
    }
    if (t->cfg->type == TCFG_REALTIME) {
        if (segname_parse_uploaded_realtime(info.segment, &sn) != 0 ||
            strcmp(sn.table, k->key) != 0) {
            snprintf(err, sizeof err,
                     "segment %s: a REALTIME table takes uploaded-realtime names "
                     "<prefix>__%s__<partition>__<yyyyMMddTHHmmZ>__<suffix>",
                     info.segment, k->key);
            ctl__push_fail(resp, 400, err);
            goto out;
        }
        partition = sn.partition;
        assign a;
        z = ctl__zk(c);
        int arc = ctl__get_assign(c, z, k->key, &a, NULL);
        ctl__zk_done(c);
        uint32_t np = arc ? 0 : a.npart;
        if (!arc) assign_free(&a);
        if (arc || (uint32_t)partition >= np) {
            snprintf(err, sizeof err, "segment %s: table %s has no partition %d", info.segment,
                     k->key, partition);
            ctl__push_fail(resp, arc ? 503 : 400, err);
            goto out;
        }
    }
    if (!ctl__push_claim(c, k->key, info.segment, true)) {
        snprintf(err, sizeof err, "segment %s of table %s is being pushed by another request",
                 info.segment, k->key);
        ctl__push_fail(resp, 409, err);
        goto out;
    }
    if (c->o.push_stall_ms) sl_clock_sleep_ms((int64_t)c->o.push_stall_ms); /* test.push.stall */
    char url[sizeof((segmeta *)0)->download_url];
    int ul = k->mode == CTL_PUSH_METADATA ? snprintf(url, sizeof url, "%s", k->uri)
                                          : snprintf(url, sizeof url, "%s/segments/%s/%s",
                                                     c->advertise, k->key, info.segment);
    unsigned status = 0;
    if (ul < 0 || (size_t)ul >= sizeof url) {
        snprintf(err, sizeof err, "segment %s: its download URL would pass %zu bytes", info.segment,
                 sizeof url - 1);
        status = 400;
    }
    bool refreshed = false;
    if (!status && k->has_if_match) { /* before the store's copy changes: a 412 leaves everything */
        segmeta old;
        z = ctl__zk(c);
        int mrc = ctl__read_meta(c, z, k->key, info.segment, &old, NULL, why, sizeof why);
        ctl__zk_done(c);
        if (mrc == 0 && old.crc != k->if_match) {
            snprintf(err, sizeof err, "If-Match: segment %s has crc %" PRIu32 ", not %" PRIu32,
                     info.segment, old.crc, k->if_match);
            status = 412;
        }
    }
    if (!status) { /* a name a revert dropped is refused before the store's copy changes */
        lineage lin;
        z = ctl__zk(c);
        int lrc = cstore_lineage_get(c->cs, z, k->key, &lin, NULL, why, sizeof why);
        ctl__zk_done(c);
        const lineage_entry *gone = lrc ? NULL : lineage_reverted_to(&lin, info.segment);
        if (lrc) {
            snprintf(err, sizeof err, "lineage of %s unreadable: %s", k->key, sluice_strerror(lrc));
            status = lrc == SL_ECORRUPT ? 500 : 503;
        } else if (gone) {
            snprintf(err, sizeof err,
                     "segment %s was reverted by lineage entry %s: push it under another name",
                     info.segment, gone->id);
            status = 409;
        }
        if (!lrc) lineage_free(&lin);
    }
    /* the copy first: a sidecar that sees the record must find the bytes */
    if (!status && k->mode != CTL_PUSH_METADATA) {
        rc = segstore_upload_finish(u, NULL, NULL, err, sizeof err);
        u = NULL; /* finish consumed it */
        if (!rc)
            rc = segstore_replace(c->store, k->key, info.segment, info.crc, NULL, 0, err,
                                  sizeof err);
        if (rc) status = sl_err_is_disk(rc) ? (rc == SL_ENOSPACE ? 507 : 500) : 500;
    }
    if (!status) {
        status = ctl__push_record(c, k, t, &info, partition, url, &refreshed, err, sizeof err);
        /* a revert that landed meanwhile (409): the copy of a name without a record goes */
        if (status == 409 && k->mode != CTL_PUSH_METADATA)
            segstore_remove(c->store, k->key, info.segment, why, sizeof why);
    }
    ctl__push_claim(c, k->key, info.segment, false);
    if (status) {
        ctl__push_fail(resp, status, err);
        goto out;
    }
    ctl__push_reply(resp, k, &info, url, refreshed);
out:
    segstore_upload_abort(u); /* a refusal, or METADATA's copy: the URI is the segment */
}

/* The 200 of a recorded push, in Pinot's shape plus what scripts need. */
static void ctl__push_reply(httpd_resp *resp, const ctl_push_call *k, const segstore_info *i,
                            const char *url, bool refreshed)
{
    char err[1024];
    SL_INFO("controller",
            "segment pushed table=%s segment=%s mode=%s crc=%" PRIu32 " rows=%" PRIu64 " %s",
            k->key, i->segment, ctl_push_mode_names[k->mode], i->crc, i->rows,
            refreshed ? "refreshed" : "new");
    jsonw w;
    jsonw_init(&w);
    jsonw_obj_begin(&w);
    jsonw_key(&w, "status");
    snprintf(err, sizeof err, "Successfully uploaded segment: %s of table: %s", i->segment, k->key);
    jsonw_cstr(&w, err);
    jsonw_key(&w, "table");
    jsonw_cstr(&w, k->key);
    jsonw_key(&w, "segment");
    jsonw_cstr(&w, i->segment);
    jsonw_key(&w, "crc");
    jsonw_u64(&w, i->crc);
    jsonw_key(&w, "numRows");
    jsonw_u64(&w, i->rows);
    jsonw_key(&w, "downloadUrl");
    jsonw_cstr(&w, url);
    jsonw_key(&w, "refreshed");
    jsonw_bool(&w, refreshed);
    jsonw_obj_end(&w);
    jsonw_text(&w, "\n", 1);
    httpd_resp_body(resp, 200, "application/json", w.buf, w.len, HTTPD_TAKE);
}

void ctl__push_done(httpd_req *req, httpd_resp *resp, void *ctx)
{
    ctl *c = ctx;
    if (ctl__reply_ready(req, resp)) return;
    ctl_push_body *b = httpd_req_state(req);
    if (!b || b->kind != CTL_STATE_PUSH) {
        ctl__push_fail(resp, 500, "push state lost");
        return;
    }
    httpd_req_set_state(req, NULL, NULL); /* the job takes the call and the upload */
    ctl_push_call *k = b->k;
    k->u = b->u;
    free(b);
    ctl__reply_later(c, req, resp, ctl__push_finish, k, ctl__push_call_free);
}

/* ---- the hybrid table's time boundary --------------------------------------------------- */

/* Worker: GET /tables/<t>/timeBoundary, as Pinot's broker computes it (TimeBoundaryManager):
 * the largest end time of the OFFLINE half's segments that some replica reports ONLINE, less
 * one push period (1 h for segmentPushFrequency HOURLY, else 1 day), in the time column's
 * format. arg is the raw table name (a `_OFFLINE`/`_REALTIME` suffix taken off). */
static void ctl__time_boundary(ctl *c, void *arg, httpd_resp *resp)
{
    char key[SL_IDENT_MAX + 16], msg[512];
    snprintf(key, sizeof key, "%s_OFFLINE", (const char *)arg);
    if (strlen(key) > SL_IDENT_MAX) {
        ctl__json_error(resp, 404, "no OFFLINE table of that name");
        return;
    }
    zk *z = ctl__zk(c);
    const ctl_table *t = ctl__table(c, z, key);
    int rc = t ? 0 : cstore_table_exists(c->cs, z, key);
    if (!t) {
        ctl__zk_done(c);
        ctl__json_error(resp, rc == SL_ENOENT ? 404 : 503,
                        rc == SL_ENOENT ? "no OFFLINE table of that name" : "table unreadable");
        return;
    }
    const char *tc = t->cfg->time_column;
    int fi = tc ? schema_find(t->schema, tc) : -1;
    if (fi < 0) {
        ctl__zk_done(c);
        ctl__json_error(resp, 404, "the OFFLINE table has no time column");
        return;
    }
    const schema_field *f = &t->schema->fields[fi];
    int64_t mul = 1, div = 1;
    char pat[128];
    const char *zone = NULL;
    bool sdf = schema_sdf_pattern(f, pat, sizeof pat, &zone); /* ranges are ms then */
    if (!sdf && !schema_time_scale(f, &mul, &div)) {
        ctl__zk_done(c);
        snprintf(msg, sizeof msg,
                 "time column %s: format not EPOCH, TIMESTAMP or SIMPLE_DATE_FORMAT", tc);
        ctl__json_error(resp, 500, msg);
        return;
    }
    assign a;
    if (ctl__get_assign(c, z, key, &a, NULL)) {
        ctl__zk_done(c);
        ctl__json_error(resp, 503, "assignment unreadable");
        return;
    }
    char **reps = NULL;
    size_t nreps = 0;
    /* a ZooKeeper error is 503, never a boundary computed from fewer segments */
    int zrc = cstore_replica_ids(c->cs, z, key, &reps, &nreps);
    if (zrc == SL_ENOENT) zrc = 0;
    json_t **rep = sl_xcalloc(nreps ? nreps : 1, sizeof *rep);
    for (size_t i = 0; i < nreps && !zrc; i++) {
        int g = cstore_replica_get(c->cs, z, key, reps[i], &rep[i]);
        if (g && g != SL_ENOENT) zrc = g;
    }
    bool any = false;
    __int128 max_ms = 0;
    for (size_t i = 0; i < a.nseg && !zrc; i++) {
        const assign_seg *as = &a.seg[i];
        bool online = false;
        for (uint32_t j = 0; j < as->inst.n && !online; j++)
            for (size_t r = 0; r < nreps && !online; r++) {
                json_t *v = rep[r] && strcmp(reps[r], as->inst.id[j]) == 0
                                ? json_object_get(rep[r], as->segment)
                                : NULL;
                online = as->state[j] == ASSIGN_ONLINE && json_is_string(v) &&
                         strcmp(json_string_value(v), "ONLINE") == 0;
            }
        segmeta m;
        int mrc = online ? ctl__read_meta(c, z, key, as->segment, &m, NULL, msg, sizeof msg) : 0;
        if (mrc && mrc != SL_ENOENT && mrc != SL_ECORRUPT) zrc = mrc;
        if (!online || mrc || !m.has_time_range) continue;
        /* the column's unit back to ms (Pinot: the segment's end time in ms) */
        __int128 ms = sdf ? (__int128)m.max_time : (__int128)m.max_time * div / mul;
        if (!any || ms > max_ms) max_ms = ms;
        any = true;
    }
    ctl__zk_done(c);
    for (size_t i = 0; i < nreps; i++)
        json_decref(rep[i]);
    free(rep);
    zk_free_strings(reps, nreps);
    assign_free(&a);
    if (zrc) {
        ctl__json_error(resp, 503, sluice_strerror(zrc));
        return;
    }
    if (!any) {
        ctl__json_error(resp, 404, "no ONLINE OFFLINE segment with a time range");
        return;
    }
    __int128 b = max_ms - (t->cfg->push_hourly ? 3600000 : 86400000);
    char val[128];
    if (sdf) {
        xform_format_time(pat, (int64_t)b, val, sizeof val);
    } else {
        __int128 x = b * mul / div; /* ms to the column's unit, truncated as Java's TimeUnit */
        snprintf(val, sizeof val, "%" PRId64, (int64_t)x);
    }
    jsonw w;
    jsonw_init(&w);
    jsonw_obj_begin(&w);
    jsonw_key(&w, "timeColumn");
    jsonw_cstr(&w, tc);
    jsonw_key(&w, "timeBoundary");
    jsonw_cstr(&w, val);
    jsonw_obj_end(&w);
    jsonw_text(&w, "\n", 1);
    httpd_resp_body(resp, 200, "application/json", w.buf, w.len, HTTPD_TAKE);
}

void ctl__time_boundary_get(httpd_req *req, httpd_resp *resp, void *ctx)
{
    ctl *c = ctx;
    if (ctl__reply_ready(req, resp)) return;
    if (ctl__not_running(c, resp)) return;
    const char *name = httpd_req_param(req, "table");
    if (!segname_valid_table(name)) {
        ctl__json_error(resp, 400, "invalid table name");
        return;
    }
    /* the hybrid table's raw name: either half's name with its type taken off */
    size_t n = strlen(name);
    if (n > 8 && strcmp(name + n - 8, "_OFFLINE") == 0)
        n -= 8;
    else if (n > 9 && strcmp(name + n - 9, "_REALTIME") == 0)
        n -= 9;
    char *raw = sl_xmalloc(n + 1);
    memcpy(raw, name, n);
    raw[n] = 0;
    ctl__reply_later(c, req, resp, ctl__time_boundary, raw, free);
}

/* ---- the repair round's part ------------------------------------------------------------ */

void ctl__push_top_up(ctl *c, zk *z, const char *table)
{
    const ctl_table *t = ctl__table(c, z, table);
    if (!t || t->cfg->type != TCFG_OFFLINE) return;
    assign a;
    int32_t aver;
    if (ctl__get_assign(c, z, table, &a, &aver)) return;
    char **live = NULL;
    size_t nlive = 0;
    uint32_t added = 0;
    if (cstore_instances(c->cs, z, &live, &nlive) == 0) {
        uint32_t want = ctl__push_want(t->cfg, nlive);
        lineage lin = {0};
        char err[256];
        /* unreadable: nothing placed, a segmentsTo might be placed ONLINE */
        if (cstore_lineage_get(c->cs, z, table, &lin, NULL, err, sizeof err)) want = 0;
        for (size_t i = 0; i < a.nseg && want; i++) {
            if (!segname_is_uploaded(a.seg[i].segment) || a.seg[i].inst.n >= want) continue;
            /* OFFLINE while a replacement's segmentsTo: downloaded, not served */
            assign_state st = a.seg[i].inst.n                              ? a.seg[i].state[0]
                              : lineage_pending_to(&lin, a.seg[i].segment) ? ASSIGN_OFFLINE
                                                                           : ASSIGN_ONLINE;
            added += assign_fill(&a, i, (const char *const *)live, nlive, want, st);
        }
        lineage_free(&lin);
    }
    /* no record changes: an assignment-only multi-op at the version read */
    if (added && cstore_assign_open(c->cs, z, table, NULL, NULL, 0, &a, aver) == 0)
        SL_INFO("controller", "table %s: %u replica(s) of pushed segments placed on sidecars",
                table, added);
    zk_free_strings(live, nlive);
    assign_free(&a);
}
