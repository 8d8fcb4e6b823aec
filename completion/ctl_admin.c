/* The admin API (DESIGN §3, docs/http.md): table creation (POST /tables, leader only; the
 * others redirect to it), the table list, segment listings with the replicas' states, one
 * segment's record, /health, /metrics, and the segment store's routes (PUT of a committer's
 * upload, GET of a committed file). Every controller serves the reads. It owns no state of
 * its own: it reads ZooKeeper through the cluster store and writes only a new table.
 *
 * Threads: a handler checks on its HTTP thread what needs nothing (names, leadership,
 * redirects) and hands the rest, ZooKeeper, Kafka and fsync, to a worker (ctl_jobs.c:
 * ctl__reply_later builds the reply there, the request parked meanwhile). An upload's body is
 * streamed to its temporary file on the HTTP thread; its admission (ZooKeeper, before the body
 * is read) and its finish (fsync, full verification) are jobs. */
#include "completion/ctl_int.h"
#include "common/jsonw.h"
#include "common/sl_err.h"
#include "consumer/flush.h"
#include "common/xalloc.h"
#include "common/clock.h"

#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STR_(x) #x
#define STR(x) STR_(x)

/* ---- what a job needs of its request, copied (the worker never touches the request) ---- */

typedef struct ctl_call {
    char *table, *segment; /* the route's captures, or NULL */
    char *partition;       /* ?partition=, or NULL when absent */
    char *body;            /* the buffered body (POST /tables), NUL-terminated */
    size_t blen;
    segstore_upload *u; /* PUT: the received upload, until finished; aborted if never */
    unsigned status;    /* PUT's admission: 0 (taken) or the HTTP status refusing it */
    ctl_reply_fn then;  /* a table read: what answers once the table's name is resolved */
    char *uploader;     /* PUT with tokens: the instance whose token sent it, else NULL */
    char err[512];      /* ... and why */
} ctl_call;

static char *ctl__strdup(const char *s)
{
    if (!s) return NULL;
    char *d = sl_xstrdup(s);
    return d;
}

/* The request's captures and query (and its body when with_body). Freed with ctl__call_free. */
static ctl_call *ctl__call_new(httpd_req *req, bool with_body)
{
    ctl_call *k = sl_xcalloc(1, sizeof *k);
    k->table = ctl__strdup(httpd_req_param(req, "table"));
    k->segment = ctl__strdup(httpd_req_param(req, "segment"));
    k->partition = ctl__strdup(httpd_req_query(req, "partition"));
    k->uploader = ctl__strdup(httpd_req_instance(req));
    if (with_body) {
        const char *b = httpd_req_body(req, &k->blen);
        k->body = sl_xmalloc(k->blen + 1);
        if (k->blen) memcpy(k->body, b, k->blen);
        k->body[k->blen] = '\0';
    }
    return k;
}

static void ctl__call_free(void *p)
{
    ctl_call *k = p;
    segstore_upload_abort(k->u);
    free(k->table);
    free(k->segment);
    free(k->partition);
    free(k->uploader);
    free(k->body);
    free(k);
}

/* ---- HTTP: segment store ------------------------------------------------------------------ */

/* The request's state while the body streams in (a ctl_state_kind first: not a job). */
typedef struct ctl_upload {
    ctl_state_kind kind; /* CTL_STATE_UPLOAD */
    segstore_upload *u;
} ctl_upload;

static void ctl__upload_abort(void *state)
{
    ctl_upload *up = state;
    segstore_upload_abort(up->u);
    free(up);
}

/* An upload is taken only for a segment that ZooKeeper shows consuming: not for a table or
 * segment that does not exist (404) nor for one already committed (409), and nothing is
 * written before this is known. ctl__upload_precheck is what needs no ZooKeeper (on the
 * HTTP thread), ctl__upload_allowed the rest (a worker). Each returns 0, or the HTTP status
 * with the reason in err. */
static unsigned ctl__upload_precheck(ctl *c, const char *table, const char *segment, char *err,
                                     size_t errlen)
{
    segname sn;
    if (!segname_valid_table(table) || segname_parse(segment, &sn) != 0 ||
        strcmp(sn.table, table) != 0) {
        snprintf(err, errlen, "not a segment name of table %s", table);
        return 400;
    }
    if (!ctl__serving(c)) {
        snprintf(err, errlen, "controller starting");
        return 503;
    }
    return 0;
}

/* A commit upload with tokens comes from a replica of the segment (DESIGN §12): whichever the
 * controller elects, the committer is one of them. */
static unsigned ctl__uploader_allowed(ctl *c, zk *z, const char *table, const char *segment,
                                      const char *uploader, char *err, size_t errlen)
{
    assign a;
    if (ctl__get_assign(c, z, table, &a, NULL) != 0) {
        snprintf(err, errlen, "assignment of %s unreadable", table);
        return 503;
    }
    assign_seg *as = assign_find(&a, segment);
    bool member = false;
    for (uint32_t i = 0; as && i < as->inst.n && !member; i++)
        member = strcmp(as->inst.id[i], uploader) == 0;
    assign_free(&a);
    if (member) return 0;
    snprintf(err, errlen, "instance %s is not a replica of segment %s", uploader, segment);
    return 403;
}

static unsigned ctl__upload_allowed(ctl *c, const char *table, const char *segment,
                                    const char *uploader, char *err, size_t errlen)
{
    zk *z = ctl__zk(c);
    segmeta m;
    unsigned status = 0;
    int rc = ctl__get_meta(c, z, table, segment, &m, NULL);
    if (rc == SL_ENOENT) {
        bool table_exists = cstore_table_exists(c->cs, z, table) == 0;
        snprintf(err, errlen, table_exists ? "no such segment %s" : "no such table %s",
                 table_exists ? segment : table);
        status = 404;
    } else if (rc) {
        snprintf(err, errlen, "segment metadata unreadable: %s", sluice_strerror(rc));
        status = 503;
    } else if (segmeta_committed(&m)) { /* IN_PROGRESS, or COMMITTING (pauseless) */
        snprintf(err, errlen, "segment %s is already %s", segment, segmeta_status_name(m.status));
        status = 409;
    } else if (uploader) {
        status = ctl__uploader_allowed(c, z, table, segment, uploader, err, errlen);
    }
    ctl__zk_done(c);
    return status;
}

/* Worker: the admission's ZooKeeper reads. */
static void ctl__upload_admit(ctl *c, void *arg)
{
    ctl_call *k = arg;
    k->status = ctl__upload_allowed(c, k->table, k->segment, k->uploader, k->err, sizeof k->err);
}

/* (ctl_int.h) A full store is 507 Insufficient Storage: the committer backs off and
 * retries; nothing is wrong with its file. */
void ctl__upload_failed(ctl *c, const char *segment, httpd_resp *resp, int rc, const char *err,
                        unsigned status)
{
    if (sl_err_is_disk(rc)) {
        diskstate_fail(c->disk, "upload", segment, rc, err, sl_clock_wall_ms());
        status = rc == SL_ENOSPACE ? 507 : 500;
    }
    httpd_resp_text(resp, status, "%s\n", err);
}

/* The body's stream. Its open (data == NULL) parks the request while a worker reads what
 * ZooKeeper says of the segment, and is called again with the answer: refused, or the upload
 * begins, before a byte of the body is read. */
int ctl__upload_stream(httpd_req *req, const void *data, size_t len, httpd_resp *resp, void *ctx)
{
    ctl *c = ctx;
    char err[512];
    if (!data) {
        ctl_call *k = NULL;
        switch (ctl__job_take(req, (void **)&k)) {
        case CTL_JOB_PENDING:
            return 0;
        case CTL_JOB_CANCELLED:
            httpd_resp_text(resp, 503, "server stopping\n");
            return 1;
        case CTL_JOB_NONE: {
            unsigned refuse = ctl__upload_precheck(
                c, httpd_req_param(req, "table"), httpd_req_param(req, "segment"), err, sizeof err);
            if (refuse) {
                httpd_resp_text(resp, refuse, "%s\n", err);
                return 1;
            }
            if (ctl__job_submit(c, req, ctl__upload_admit, ctl__call_new(req, false),
                                ctl__call_free))
                return 0;
            httpd_resp_text(resp, 503, "server stopping\n");
            return 1;
        }
        case CTL_JOB_DONE:
            break;
        }
        unsigned refuse = k->status;
        if (refuse) httpd_resp_text(resp, refuse, "%s\n", k->err);
        ctl__call_free(k);
        if (refuse) return 1;
        segstore_upload *u;
        int rc = segstore_upload_begin(c->store, httpd_req_param(req, "table"),
                                       httpd_req_param(req, "segment"), &u, err, sizeof err);
        if (rc) {
            ctl__upload_failed(c, httpd_req_param(req, "segment"), resp, rc, err,
                               rc == SL_EINVAL ? 400 : 500);
            return 1;
        }
        ctl_upload *up = sl_xmalloc(sizeof *up);
        *up = (ctl_upload){.kind = CTL_STATE_UPLOAD, .u = u};
        httpd_req_set_state(req, up, ctl__upload_abort);
        return 0;
    }
    int rc =
        segstore_upload_write(((ctl_upload *)httpd_req_state(req))->u, data, len, err, sizeof err);
    if (rc) {
        ctl__upload_failed(c, httpd_req_param(req, "segment"), resp, rc, err,
                           rc == SL_ELIMIT ? 413 : 500);
        return 1;
    }
    return 0;
}

/* Worker: fsync, verify and publish the received upload as pending (seconds for a big file). */
static void ctl__upload_finish(ctl *c, void *arg, httpd_resp *resp)
{
    ctl_call *k = arg;
    segstore_upload *u = k->u;
    k->u = NULL; /* finish consumes u */
    char err[512];
    uint32_t crc;
    int rc = segstore_upload_finish(u, &crc, NULL, err, sizeof err);
    if (rc) {
        ctl__upload_failed(c, k->segment, resp, rc, err,
                           rc == SL_ECORRUPT || rc == SL_ETRUNC || rc == SL_EINVAL ? 400 : 500);
        return;
    }
    diskstate_ok(c->disk, "upload", sl_clock_wall_ms());
    jsonw w;
    jsonw_init(&w);
    jsonw_obj_begin(&w);
    jsonw_key(&w, "location");
    char url[768];
    snprintf(url, sizeof url, "%s/segments/%s/%s", c->advertise, k->table, k->segment);
    jsonw_cstr(&w, url);
    jsonw_key(&w, "crc");
    jsonw_u64(&w, crc);
    jsonw_obj_end(&w);
    httpd_resp_body(resp, 200, "application/json", w.buf, w.len, HTTPD_TAKE);
}

void ctl__upload_done(httpd_req *req, httpd_resp *resp, void *ctx)
{
    ctl *c = ctx;
    if (ctl__reply_ready(req, resp)) return;
    ctl_upload *up = httpd_req_state(req);
    if (!up || up->kind != CTL_STATE_UPLOAD || !up->u) {
        httpd_resp_text(resp, 500, "upload state lost\n");
        return;
    }
    httpd_req_set_state(req, NULL, NULL); /* the job takes u */
    ctl_call *k = ctl__call_new(req, false);
    k->u = up->u;
    free(up);
    ctl__reply_later(c, req, resp, ctl__upload_finish, k, ctl__call_free);
}

void ctl__download(httpd_req *req, httpd_resp *resp, void *ctx)
{
    ctl *c = ctx;
    int fd;
    uint64_t size;
    int rc = segstore_open_committed(c->store, httpd_req_param(req, "table"),
                                     httpd_req_param(req, "segment"), &fd, &size);
    if (rc) {
        httpd_resp_text(resp, rc == SL_EINVAL ? 400 : 404, "no such committed segment\n");
        return;
    }
    httpd_resp_fd(resp, 200, "application/octet-stream", fd, 0, size);
}

/* ---- HTTP: tables --------------------------------------------------------------------- */

bool ctl__redirect_to_leader(ctl *c, httpd_req *req, httpd_resp *resp)
{
    if (ctl__leads(c)) return false;
    char loc[1024], qs[512];
    httpd_req_query_string(req, qs, sizeof qs); /* ?partitions=... must reach the leader */
    pthread_mutex_lock(&c->mu);
    bool known = c->leader_url[0] != '\0';
    snprintf(loc, sizeof loc, "%s%s%s", c->leader_url, httpd_req_path(req), qs);
    pthread_mutex_unlock(&c->mu);
    if (!known) {
        httpd_resp_text(resp, 503, "no controller leads right now; retry\n");
        return true;
    }
    httpd_resp_header(resp, "Location", loc);
    httpd_resp_text(resp, 307, "not the leader: %s\n", loc);
    return true;
}

void ctl__json_error(httpd_resp *resp, unsigned status, const char *msg)
{
    jsonw w;
    jsonw_init(&w);
    jsonw_obj_begin(&w);
    jsonw_key(&w, "error");
    jsonw_cstr(&w, msg);
    jsonw_obj_end(&w);
    jsonw_text(&w, "\n", 1);
    httpd_resp_body(resp, status, "application/json", w.buf, w.len, HTTPD_TAKE);
}

/* Worker: create a table: validate, read Kafka offsets, place partitions, one multi-op. */
static void ctl__table_create(ctl *c, void *arg, httpd_resp *resp)
{
    const ctl_call *k = arg;
    json_error_t je;
    json_t *root = json_loadb(k->body, k->blen, 0, &je);
    json_t *tj = root ? json_object_get(root, "tableConfig") : NULL;
    json_t *sj = root ? json_object_get(root, "schema") : NULL;
    char err[4096], *tstr = NULL, *sstr = NULL;
    schema *s = NULL;
    tcfg *t = NULL;
    rd_kafka_t *rk = NULL;
    int64_t *starts = NULL;
    char **inst = NULL;
    size_t ninst = 0;
    assign a = {0};
    zk *z = NULL;
    if (!json_is_object(tj) || !json_is_object(sj)) {
        ctl__json_error(resp, 400,
                        root ? "body must be {\"tableConfig\":{...},\"schema\":{...}}" : je.text);
        goto done;
    }
    tstr = json_dumps(tj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    sstr = json_dumps(sj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (tcfg_parse_pair(sstr, strlen(sstr), "schema", tstr, strlen(tstr), "tableConfig", &s, &t,
                        err, sizeof err) != 0) {
        ctl__json_error(resp, 400, err);
        goto done;
    }
    /* `sluice replay` bootstraps a table (DESIGN §9): its chains start at the offsets it
     * names, and nothing is consumed until the resume that ends the bootstrap */
    json_t *boot = json_object_get(root, "bootstrap");
    json_t *boot_offsets = boot ? json_object_get(boot, "startOffsets") : NULL;
    if (boot && (t->type != TCFG_REALTIME || !json_is_array(boot_offsets))) {
        ctl__json_error(resp, 400,
                        t->type != TCFG_REALTIME
                            ? "bootstrap: only a REALTIME table is bootstrapped from Kafka"
                            : "bootstrap must be {\"startOffsets\":[offset of partition 0, ...]}");
        goto done;
    }
    char key[SL_IDENT_MAX + 1]; /* an OFFLINE table is <raw>_OFFLINE (tcfg_key) */
    if (tcfg_key(t, key, sizeof key)) {
        ctl__json_error(resp, 400, "tableName: too long for an OFFLINE table's <name>_OFFLINE");
        goto done;
    }
    z = ctl__zk(c);
    if (cstore_table_exists(c->cs, z, key) == 0) {
        snprintf(err, sizeof err, "table %s already exists", key);
        ctl__json_error(resp, 409, err);
        goto done;
    }
    int nparts = 0;
    if (t->type == TCFG_REALTIME) {
        /* one deadline for all of Kafka: a wrong broker list answers within seconds */
        double deadline = sl_clock_mono_s() + CTL_KAFKA_TIMEOUT_MS / 1000.0;
        if (!(rk = ctl__kafka_open(t, err, sizeof err))) {
            ctl__json_error(resp, 400, err);
            goto done;
        }
        int rc = kmeta_partition_count(rk, t->topic, CTL_KAFKA_TIMEOUT_MS, &nparts);
        if (rc) {
            snprintf(
                err, sizeof err, "topic %s %s at brokers %s (stream.kafka.broker.list)", t->topic,
                rc == SL_ENOENT ? "does not exist"
                                : "metadata unavailable within " STR(CTL_KAFKA_TIMEOUT_MS) " ms",
                t->broker_list);
            ctl__json_error(resp, rc == SL_ENOENT ? 400 : 502, err); /* 502: Kafka failed */
            goto done;
        }
        /* stream.kafka.partition.ids: only those partitions get a chain (the others have an
         * empty one: nothing opens, repairs or audits them) */
        for (size_t i = 0; i < t->npartition_ids; i++)
            if (t->partition_ids[i] >= nparts) {
                snprintf(err, sizeof err,
                         "stream.kafka.partition.ids: topic %s has %d partitions, no partition "
                         "%d",
                         t->topic, nparts, (int)t->partition_ids[i]);
                ctl__json_error(resp, 400, err);
                goto done;
            }
        if (boot && json_array_size(boot_offsets) != (size_t)nparts) {
            snprintf(err, sizeof err,
                     "bootstrap.startOffsets has %zu offsets; topic %s has %d "
                     "partitions",
                     json_array_size(boot_offsets), t->topic, nparts);
            ctl__json_error(resp, 400, err);
            goto done;
        }
        starts = sl_xcalloc((size_t)nparts, sizeof *starts);
        for (int p = 0; p < nparts; p++) {
            int64_t low, high;
            int left_ms = (int)((deadline - sl_clock_mono_s()) * 1000);
            if (left_ms < 1 || kmeta_watermarks(rk, t->topic, p, left_ms, &low, &high)) {
                snprintf(err, sizeof err,
                         "offsets of %s partition %d unavailable at brokers %s within %d ms",
                         t->topic, p, t->broker_list, CTL_KAFKA_TIMEOUT_MS);
                ctl__json_error(resp, 502, err);
                goto done;
            }
            starts[p] = t->offset_reset == TCFG_RESET_LARGEST ? high : low;
            if (!boot) continue;
            json_t *o = json_array_get(boot_offsets, (size_t)p);
            /* below the low watermark is allowed: the replay reports what retention took */
            if (!json_is_integer(o) || json_integer_value(o) < 0 || json_integer_value(o) > high) {
                snprintf(err, sizeof err,
                         "bootstrap.startOffsets[%d]: an offset from 0 to partition %d's end "
                         "%" PRId64,
                         p, p, high);
                ctl__json_error(resp, 400, err);
                goto done;
            }
            starts[p] = (int64_t)json_integer_value(o);
        }
        if (cstore_instances(c->cs, z, &inst, &ninst) != 0) ninst = 0;
        if (assign_plan(&a, (const char *const *)inst, ninst, (uint32_t)nparts, t->replication)) {
            snprintf(err, sizeof err, "replication %u needs %u live sidecars, %zu are registered",
                     t->replication, t->replication, ninst);
            ctl__json_error(resp, 409, err);
            goto done;
        }
    }
    /* everything in one multi-op: the table exists whole or not at all */
    const char *tn = key;
    segmeta *segs = sl_xcalloc(nparts ? (size_t)nparts : 1, sizeof *segs);
    uint64_t now = sl_clock_wall_ms();
    size_t nsegs = 0;
    for (int p = 0; p < nparts; p++) {
        if (!tcfg_consumes_partition(t, p)) continue;
        segmeta *m = &segs[nsegs++];
        *m = (segmeta){.partition = p,
                       .status = SEGMETA_IN_PROGRESS,
                       .start_offset = starts[p],
                       .end_offset = -1,
                       .num_rows = -1,
                       .creation_time_ms = (int64_t)now,
                       .flush_time_ms = (int64_t)t->flush_time_ms,
                       .flush_rows =
                           t->flush_size_bytes ? FLUSH_INITIAL_ROWS : (int64_t)t->flush_rows};
        snprintf(m->table, sizeof m->table, "%s", tn);
        segname_format(m->segment, sizeof m->segment, tn, p, 0, (int64_t)now);
        if (!boot) assign_add(&a, m->segment, &a.part[p], ASSIGN_CONSUMING);
    }
    if (boot) a.bootstrap_ms = (int64_t)now;
    int rc = cstore_table_create(c->cs, z, tn, tstr, sstr, segs, nsegs, &a, NULL);
    free(segs);
    if (rc) {
        snprintf(err, sizeof err, "creating table %s in ZooKeeper failed: %s", tn,
                 sluice_strerror(rc));
        ctl__json_error(resp, rc == SL_EEXIST ? 409 : 503, err);
        goto done;
    }
    SL_INFO("controller", "table created table=%s type=%s partitions=%d replication=%u%s", tn,
            t->type == TCFG_REALTIME ? "REALTIME" : "OFFLINE", nparts, t->replication,
            boot ? " bootstrapping" : "");
    jsonw w;
    jsonw_init(&w);
    jsonw_obj_begin(&w);
    jsonw_key(&w, "table");
    jsonw_cstr(&w, tn);
    jsonw_key(&w, "partitions");
    jsonw_i64(&w, nparts);
    jsonw_obj_end(&w);
    jsonw_text(&w, "\n", 1);
    httpd_resp_body(resp, 201, "application/json", w.buf, w.len, HTTPD_TAKE);
done:
    if (z) ctl__zk_done(c);
    if (rk) rd_kafka_destroy(rk);
    zk_free_strings(inst, ninst);
    assign_free(&a);
    free(starts);
    free(tstr);
    free(sstr);
    tcfg_free(t);
    schema_free(s);
    json_decref(root);
}

void ctl__tables_post(httpd_req *req, httpd_resp *resp, void *ctx)
{
    ctl *c = ctx;
    if (ctl__reply_ready(req, resp)) return;
    if (ctl__not_running(c, resp)) return;
    if (ctl__redirect_to_leader(c, req, resp)) return;
    ctl__reply_later(c, req, resp, ctl__table_create, ctl__call_new(req, true), ctl__call_free);
}

/* Worker: the table names. */
static void ctl__tables_list(ctl *c, void *arg, httpd_resp *resp)
{
    (void)arg;
    char **names = NULL;
    size_t n = 0;
    zk *z = ctl__zk(c);
    int rc = cstore_tables(c->cs, z, &names, &n);
    ctl__zk_done(c);
    if (rc && rc != SL_ENOENT) {
        ctl__json_error(resp, 503, sluice_strerror(rc));
        return;
    }
    jsonw w;
    jsonw_init(&w);
    jsonw_arr_begin(&w);
    for (size_t i = 0; i < n; i++)
        jsonw_cstr(&w, names[i]);
    jsonw_arr_end(&w);
    jsonw_text(&w, "\n", 1);
    zk_free_strings(names, n);
    httpd_resp_body(resp, 200, "application/json", w.buf, w.len, HTTPD_TAKE);
}

void ctl__tables_get(httpd_req *req, httpd_resp *resp, void *ctx)
{
    ctl *c = ctx;
    if (ctl__reply_ready(req, resp)) return;
    if (ctl__not_running(c, resp)) return;
    ctl__reply_later(c, req, resp, ctl__tables_list, NULL, NULL);
}

/* The table's stored config and schema (both the caller's to free), or an error reply. */
static int ctl__table_docs(ctl *c, const ctl_call *k, httpd_resp *resp, char **config, size_t *clen,
                           char **schema, size_t *slen)
{
    zk *z = ctl__zk(c);
    int rc = cstore_table_read(c->cs, z, k->table, config, clen, schema, slen);
    ctl__zk_done(c);
    if (rc)
        ctl__json_error(resp, rc == SL_ENOENT ? 404 : 503,
                        rc == SL_ENOENT ? "no such table" : sluice_strerror(rc));
    return rc;
}

/* Worker: the table's stored config and schema, as POST /tables takes them. */
static void ctl__table_record(ctl *c, void *arg, httpd_resp *resp)
{
    char *config = NULL, *schema = NULL;
    size_t clen = 0, slen = 0;
    if (ctl__table_docs(c, arg, resp, &config, &clen, &schema, &slen)) return;
    jsonw w;
    jsonw_init(&w);
    jsonw_obj_begin(&w);
    jsonw_key(&w, "tableConfig");
    jsonw_raw(&w, config, clen);
    jsonw_key(&w, "schema");
    jsonw_raw(&w, schema, slen);
    jsonw_obj_end(&w);
    jsonw_text(&w, "\n", 1);
    free(config);
    free(schema);
    httpd_resp_body(resp, 200, "application/json", w.buf, w.len, HTTPD_TAKE);
}

/* Worker: the table's stored schema alone (Pinot's GET /tables/<t>/schema, which job specs'
 * schemaURI names). */
static void ctl__table_schema(ctl *c, void *arg, httpd_resp *resp)
{
    char *config = NULL, *schema = NULL;
    size_t clen = 0, slen = 0;
    if (ctl__table_docs(c, arg, resp, &config, &clen, &schema, &slen)) return;
    free(config);
    httpd_resp_body(resp, 200, "application/json", schema, slen, HTTPD_TAKE);
}

/* Worker: the URL's table name made the table's key (ctl__table_key: `t_REALTIME`, or a bare
 * OFFLINE name), then the read itself. An unknown name is left for the read to refuse. */
static void ctl__table_resolved(ctl *c, void *arg, httpd_resp *resp)
{
    ctl_call *k = arg;
    char key[SL_IDENT_MAX + 1];
    zk *z = ctl__zk(c);
    int rc = ctl__table_key(c, z, k->table, key);
    ctl__zk_done(c);
    if (rc == 0 && strcmp(key, k->table) != 0) {
        free(k->table);
        k->table = sl_xstrdup(key);
    }
    k->then(c, k, resp);
}

const char *ctl__call_table(const void *arg)
{
    return ((const ctl_call *)arg)->table;
}

void ctl__table_read(httpd_req *req, httpd_resp *resp, ctl *c, ctl_reply_fn fn)
{
    if (ctl__reply_ready(req, resp)) return;
    if (ctl__not_running(c, resp)) return;
    if (!segname_valid_table(httpd_req_param(req, "table"))) {
        ctl__json_error(resp, 400, "invalid table name");
        return;
    }
    ctl_call *k = ctl__call_new(req, false);
    k->then = fn;
    ctl__reply_later(c, req, resp, ctl__table_resolved, k, ctl__call_free);
}

/* GET /tables/<t> */
void ctl__table_get(httpd_req *req, httpd_resp *resp, void *ctx)
{
    ctl__table_read(req, resp, ctx, ctl__table_record);
}

/* GET /tables/<t>/schema */
void ctl__table_schema_get(httpd_req *req, httpd_resp *resp, void *ctx)
{
    ctl__table_read(req, resp, ctx, ctl__table_schema);
}

typedef struct ctl_listed {
    segmeta m;       /* for a corrupt record: only segment, partition and sequence (its name) */
    char error[256]; /* non-empty: the record does not decode (repair rewrites it) */
} ctl_listed;

static int ctl__listed_cmp(const void *x, const void *y)
{
    const segmeta *a = &((const ctl_listed *)x)->m, *b = &((const ctl_listed *)y)->m;
    if (a->partition != b->partition) return a->partition < b->partition ? -1 : 1;
    if (a->sequence != b->sequence) return a->sequence < b->sequence ? -1 : 1;
    return strcmp(a->segment, b->segment); /* pushed segments: no sequence, by name */
}

/* Worker: DESIGN §3: JSON array of segments with the replicas' states (reported state when
 * the sidecar has reported one, else the assignment's target state). `?partition=N` narrows
 * it to one partition. */
static void ctl__segments_list(ctl *c, void *arg, httpd_resp *resp)
{
    const ctl_call *call = arg;
    const char *table = call->table;
    char **names = NULL, **reps = NULL;
    size_t n = 0, nreps = 0;
    zk *z = ctl__zk(c);
    int rc = cstore_segments(c->cs, z, table, &names, &n);
    if (rc) {
        ctl__zk_done(c);
        ctl__json_error(resp, rc == SL_ENOENT ? 404 : 503,
                        rc == SL_ENOENT ? "no such table" : sluice_strerror(rc));
        return;
    }
    /* ?partition=N reads only that partition's segments (names carry the partition) */
    const char *pq = call->partition;
    long want = -1;
    if (pq) {
        char *end;
        want = strtol(pq, &end, 10);
        /* digits only: "", " 1", "+1" and a value cut short by a NUL are not partitions */
        if (*end || end == pq || pq[0] < '0' || pq[0] > '9' || want < 0 || want > INT32_MAX) {
            ctl__zk_done(c);
            zk_free_strings(names, n);
            ctl__json_error(resp, 400, "partition must be a partition number");
            return;
        }
    }
    ctl_listed *l = sl_xcalloc(n ? n : 1, sizeof *l);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        /* the partition and sequence a name carries (a pushed OFFLINE segment's: none) */
        segname sn = {.partition = -1, .sequence = -1};
        bool named = segname_parse(names[i], &sn) == 0 ||
                     segname_parse_uploaded_realtime(names[i], &sn) == 0;
        if (want >= 0 && (!named || sn.partition != want)) continue;
        int grc =
            ctl__read_meta(c, z, table, names[i], &l[k].m, NULL, l[k].error, sizeof l[k].error);
        if (grc == SL_ECORRUPT && segname_valid_any(names[i])) {
            /* reported in the list, never hidden and never a 503: repair rewrites it */
            memset(&l[k].m, 0, sizeof l[k].m);
            snprintf(l[k].m.segment, sizeof l[k].m.segment, "%s", names[i]);
            l[k].m.partition = named ? sn.partition : -1;
            l[k].m.sequence = named ? sn.sequence : -1;
            if (!l[k].error[0]) snprintf(l[k].error, sizeof l[k].error, "unreadable record");
            k++;
        } else if (grc == 0) {
            l[k].error[0] = 0;
            k++;
        } else if (grc != SL_ENOENT) { /* never answer with a silently shortened list */
            ctl__zk_done(c);
            zk_free_strings(names, n);
            free(l);
            ctl__json_error(resp, 503, sluice_strerror(grc));
            return;
        }
    }
    qsort(l, k, sizeof *l, ctl__listed_cmp);
    assign a = {0};
    ctl__get_assign(c, z, table, &a, NULL);
    /* reported states: replicas/<id> = {"<segment>":"STATE",...} */
    cstore_replica_ids(c->cs, z, table, &reps, &nreps);
    json_t **reported = sl_xcalloc(nreps ? nreps : 1, sizeof *reported);
    for (size_t i = 0; i < nreps; i++)
        cstore_replica_get(c->cs, z, table, reps[i], &reported[i]);
    ctl__zk_done(c);
    jsonw w;
    jsonw_init(&w);
    jsonw_arr_begin(&w);
    for (size_t i = 0; i < k; i++) {
        if (l[i].error[0]) {
            jsonw_obj_begin(&w);
            jsonw_key(&w, "segment");
            jsonw_cstr(&w, l[i].m.segment);
            jsonw_key(&w, "partition");
            if (l[i].m.partition >= 0)
                jsonw_i64(&w, l[i].m.partition);
            else
                jsonw_null(&w);
            jsonw_key(&w, "sequence");
            if (l[i].m.sequence >= 0)
                jsonw_i64(&w, l[i].m.sequence);
            else
                jsonw_null(&w);
            jsonw_key(&w, "status");
            jsonw_cstr(&w, "CORRUPT");
            static const char *const nulls[] = {"startOffset", "endOffset", "numRows", "crc",
                                                "downloadUrl"};
            for (size_t j = 0; j < sizeof nulls / sizeof nulls[0]; j++) {
                jsonw_key(&w, nulls[j]);
                jsonw_null(&w);
            }
            jsonw_key(&w, "error");
            jsonw_cstr(&w, l[i].error);
        } else {
            segmeta_json_open(&l[i].m, &w);
        }
        jsonw_key(&w, "replicas");
        jsonw_obj_begin(&w);
        assign_seg *as = assign_find(&a, l[i].m.segment);
        for (uint32_t j = 0; as && j < as->inst.n; j++) {
            const char *st = assign_state_name(as->state[j]);
            for (size_t r = 0; r < nreps; r++) {
                json_t *v = reported[r] && strcmp(reps[r], as->inst.id[j]) == 0
                                ? json_object_get(reported[r], l[i].m.segment)
                                : NULL;
                if (json_is_string(v)) st = json_string_value(v);
            }
            jsonw_key(&w, as->inst.id[j]);
            jsonw_cstr(&w, st);
        }
        jsonw_obj_end(&w);
        jsonw_obj_end(&w);
    }
    jsonw_arr_end(&w);
    jsonw_text(&w, "\n", 1);
    for (size_t i = 0; i < nreps; i++)
        json_decref(reported[i]);
    free(reported);
    zk_free_strings(reps, nreps);
    zk_free_strings(names, n);
    assign_free(&a);
    free(l);
    httpd_resp_body(resp, 200, "application/json", w.buf, w.len, HTTPD_TAKE);
}

void ctl__segments_get(httpd_req *req, httpd_resp *resp, void *ctx)
{
    ctl__table_read(req, resp, ctx, ctl__segments_list);
}

/* Worker: one segment's whole metadata record as JSON (operators, tests). */
static void ctl__segment_record(ctl *c, void *arg, httpd_resp *resp)
{
    const ctl_call *k = arg;
    const char *table = k->table, *seg = k->segment;
    segmeta m;
    zk *z = ctl__zk(c);
    int rc = ctl__get_meta(c, z, table, seg, &m, NULL);
    ctl__zk_done(c);
    if (rc) {
        ctl__json_error(resp, rc == SL_ENOENT ? 404 : 503, sluice_strerror(rc));
        return;
    }
    jsonw w;
    jsonw_init(&w);
    segmeta_json_full(&m, &w);
    jsonw_text(&w, "\n", 1);
    httpd_resp_body(resp, 200, "application/json", w.buf, w.len, HTTPD_TAKE);
}

/* GET /tables/<t>/segments/<segment> */
void ctl__segment_get(httpd_req *req, httpd_resp *resp, void *ctx)
{
    ctl *c = ctx;
    if (ctl__reply_ready(req, resp)) return;
    if (ctl__not_running(c, resp)) return;
    const char *table = httpd_req_param(req, "table"), *seg = httpd_req_param(req, "segment");
    segname sn;
    if (!segname_valid_any(seg) || (segname_parse(seg, &sn) == 0 && strcmp(sn.table, table))) {
        ctl__json_error(resp, 400, "not a segment name of this table");
        return;
    }
    ctl__table_read(req, resp, c, ctl__segment_record);
}

void ctl__health(httpd_req *req, httpd_resp *resp, void *ctx)
{
    (void)req;
    ctl *c = ctx;
    if (ctl__not_running(c, resp)) return;
    zk *z = ctl__zk(c);
    bool connected = z && zk_session_state(z) == ZK_SESSION_CONNECTED;
    ctl__zk_done(c);
    jsonw w;
    jsonw_init(&w);
    jsonw_obj_begin(&w);
    jsonw_key(&w, "instance");
    jsonw_cstr(&w, c->o.instance_id);
    jsonw_key(&w, "disk");
    bool disk_bad = diskstate_json(c->disk, &w);
    jsonw_key(&w, "status"); /* a full store alone: still 200 (docs/http.md) */
    jsonw_cstr(&w, !connected ? "zookeeper-disconnected" : disk_bad ? "degraded" : "ok");
    jsonw_key(&w, "leader");
    jsonw_bool(&w, ctl__leads(c));
    jsonw_key(&w, "leaderUrl");
    pthread_mutex_lock(&c->mu);
    if (c->leader_url[0])
        jsonw_cstr(&w, c->leader_url);
    else
        jsonw_null(&w);
    pthread_mutex_unlock(&c->mu);
    jsonw_obj_end(&w);
    jsonw_text(&w, "\n", 1);
    httpd_resp_body(resp, connected ? 200 : 503, "application/json", w.buf, w.len, HTTPD_TAKE);
}

void ctl__metrics(httpd_req *req, httpd_resp *resp, void *ctx)
{
    (void)req;
    ctl *c = ctx;
    size_t len;
    char *text = metrics_render(c->o.metrics, &len);
    httpd_resp_body(resp, 200, "text/plain; version=0.0.4; charset=utf-8", text, len, HTTPD_TAKE);
}
