/* The fact gatherer of sluice audit (see probe.h).
 *
 * Every network read is bounded (o->timeout_ms). A fact that cannot be read is recorded with
 * its reason as unknown; only what prevents auditing at all (ZooKeeper, the table's own
 * records) fails the probe. Downloads go to `<work>/sluice-audit.<pid>.<n>` and are removed
 * as soon as they were checked. */
#include "chaos/probe.h"
#include "common/httpc.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/schema.h"
#include "common/sl_err.h"
#include "common/table_config.h"
#include "completion/assign.h"
#include "completion/cluster_store.h"
#include "completion/zk.h"
#include "consumer/cmetrics.h"
#include "consumer/kmeta.h"
#include "consumer/mseg.h"
#include "consumer/pcons.h"
#include "segment/seg_reader.h"
#include "segment/segname.h"
#include "common/xalloc.h"
#include "common/clock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PROBE_MAX_SEGMENT_BYTES (4ull << 30)

/* What one probe run shares: options, the table being read, Kafka handles. */
typedef struct probe {
    const probe_opts *o;
    int timeout_ms;
    httpc *h;
    const schema *schema; /* the current table's */
    const tcfg *cfg;
    const char *brokers;
    rd_kafka_t *meta; /* watermarks (lazy) */
    char meta_err[256];
    unsigned ntmp;
    metrics_registry *reg; /* pcons needs metric families for the rebuilds */
    cmetrics cm;
} probe;

static void probe__tmp_path(probe *pr, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/sluice-audit.%d.%u", pr->o->work_dir ? pr->o->work_dir : "/tmp",
             (int)getpid(), pr->ntmp++);
}

/* ---- Kafka ----------------------------------------------------------------------------- */

static void probe__watermarks(probe *pr, audit_part *p)
{
    if (!pr->meta && !pr->meta_err[0]) {
        kmeta_prop props[64];
        size_t n = kmeta_props_of(pr->cfg, props, 64);
        pr->meta = kmeta_open(pr->brokers, props, n, pr->meta_err, sizeof pr->meta_err);
        if (!pr->meta && !pr->meta_err[0]) snprintf(pr->meta_err, sizeof pr->meta_err, "?");
    }
    if (!pr->meta) {
        snprintf(p->kafka_why, sizeof p->kafka_why, "%s: %s", pr->brokers, pr->meta_err);
        return;
    }
    int rc =
        kmeta_watermarks(pr->meta, pr->cfg->topic, p->partition, pr->timeout_ms, &p->low, &p->high);
    if (rc == 0)
        p->kafka_known = true;
    else
        snprintf(p->kafka_why, sizeof p->kafka_why, "%s partition %d at %s: %s", pr->cfg->topic,
                 (int)p->partition, pr->brokers, sluice_strerror(rc));
}

/* A consumer assigned to the table's partition at `from` (no group, no commits). */
static rd_kafka_t *probe__consumer(probe *pr, int32_t partition, int64_t from, char *err,
                                   size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char e[256];
    kmeta_prop props[64];
    size_t n = kmeta_props_of(pr->cfg, props, 64);
    const struct {
        const char *k, *v;
    } base[] = {{"bootstrap.servers", pr->brokers}, {"group.id", "sluice-audit"},
                {"enable.auto.commit", "false"},    {"enable.partition.eof", "true"},
                {"client.id", "sluice-audit"},      {"log_level", "3"}};
    for (size_t i = 0; i < sizeof base / sizeof base[0]; i++)
        if (rd_kafka_conf_set(conf, base[i].k, base[i].v, e, sizeof e) != RD_KAFKA_CONF_OK) {
            snprintf(err, errlen, "%s: %.200s", base[i].k, e);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    for (size_t i = 0; i < n; i++)
        if (rd_kafka_conf_set(conf, props[i].key, props[i].value, e, sizeof e) !=
            RD_KAFKA_CONF_OK) {
            snprintf(err, errlen, "%.50s: %.200s", props[i].key, e);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof e);
    if (!rk) {
        snprintf(err, errlen, "%s", e);
        return NULL;
    }
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, pr->cfg->topic, partition)->offset = from;
    rd_kafka_resp_err_t ae = rd_kafka_assign(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (ae) {
        snprintf(err, errlen, "assign: %s", rd_kafka_err2str(ae));
        rd_kafka_destroy(rk);
        return NULL;
    }
    return rk;
}

/* ---- deep: rebuild a committed segment from Kafka ------------------------------------------ */

static bool probe__same_value(schema_type t, const schema_value *a, const schema_value *b)
{
    switch (t) {
    case SCHEMA_STRING:
    case SCHEMA_BYTES:
        return a->u.bytes.len == b->u.bytes.len &&
               (!a->u.bytes.len || memcmp(a->u.bytes.ptr, b->u.bytes.ptr, a->u.bytes.len) == 0);
    case SCHEMA_INT:
    case SCHEMA_BOOLEAN:
        return a->u.i32 == b->u.i32;
    case SCHEMA_FLOAT:
        return memcmp(&a->u.f32, &b->u.f32, sizeof a->u.f32) == 0;
    case SCHEMA_DOUBLE:
        return memcmp(&a->u.f64, &b->u.f64, sizeof a->u.f64) == 0;
    default:
        return a->u.i64 == b->u.i64;
    }
}

/* The first row that differs between the committed file and the rebuild, as evidence. */
static void probe__first_diff(const char *committed, const char *rebuilt, const int64_t *offsets,
                              uint64_t noffsets, char *why, size_t cap)
{
    int e1 = 0, e2 = 0;
    char m1[128], m2[128];
    seg_reader *a = seg_reader_open(committed, &e1, m1, sizeof m1);
    seg_reader *b = seg_reader_open(rebuilt, &e2, m2, sizeof m2);
    if (!a || !b) {
        snprintf(why, cap, "rebuilt from Kafka with another CRC (cannot compare rows: %s)",
                 a ? m2 : m1);
        goto done;
    }
    uint64_t ra = seg_reader_rows(a), rb = seg_reader_rows(b);
    uint64_t n = ra < rb ? ra : rb;
    for (uint64_t row = 0; row < n; row++) {
        for (uint32_t c = 0; c < seg_reader_ncols(a) && c < seg_reader_ncols(b); c++) {
            const seg_col_info *ci = seg_reader_col(a, c);
            bool same = seg_reader_is_null(a, c, row) == seg_reader_is_null(b, c, row);
            if (same && ci->single_value) {
                schema_value va, vb;
                same = seg_reader_value(a, c, row, &va) == 0 &&
                       seg_reader_value(b, c, row, &vb) == 0 &&
                       probe__same_value(ci->type, &va, &vb);
            } else if (same) {
                schema_value va[64], vb[64];
                int64_t na = seg_reader_mv(a, c, row, va, 64),
                        nb = seg_reader_mv(b, c, row, vb, 64);
                same = na == nb && na >= 0;
                for (int64_t k = 0; same && k < na && k < 64; k++)
                    same = probe__same_value(ci->type, &va[k], &vb[k]);
            }
            if (!same) {
                snprintf(why, cap,
                         "stored row %" PRIu64 " differs from the message Kafka holds at offset "
                         "%" PRId64 " (column %s)",
                         row, row < noffsets ? offsets[row] : (int64_t)-1, ci->name);
                goto done;
            }
        }
    }
    if (ra != rb)
        snprintf(why, cap, "%" PRIu64 " rows stored where Kafka's messages make %" PRIu64, ra, rb);
    else
        snprintf(why, cap, "rebuilt from Kafka with another CRC (same rows: the metadata differs)");
done:
    seg_reader_close(a);
    seg_reader_close(b);
}

/* Rebuild s from Kafka and compare with the committed copy at `committed`. */
static void probe__deep(probe *pr, audit_part *p, audit_seg *s, const char *committed)
{
    const segmeta *m = &s->m;
    if (!p->kafka_known) {
        s->deep = AUDIT_UNKNOWN;
        snprintf(s->deep_why, sizeof s->deep_why, "Kafka offsets not read: %.400s", p->kafka_why);
        return;
    }
    if (p->low > m->start_offset) {
        s->deep = AUDIT_UNKNOWN;
        snprintf(s->deep_why, sizeof s->deep_why,
                 "offsets [%" PRId64 ", %" PRId64 ") are no longer in Kafka (retention)",
                 m->start_offset, p->low < m->end_offset ? p->low : m->end_offset);
        return;
    }
    char err[256];
    rd_kafka_t *rk = probe__consumer(pr, p->partition, m->start_offset, err, sizeof err);
    if (!rk) {
        s->deep = AUDIT_UNKNOWN;
        snprintf(s->deep_why, sizeof s->deep_why, "Kafka consumer: %s", err);
        return;
    }
    pcons_table pt = {.table = pr->cfg->table_name,
                      .schema = pr->schema,
                      .no_dictionary = pr->cfg->no_dictionary,
                      .time_column = pr->cfg->time_column,
                      .max_message_bytes = pr->o->max_message_bytes,
                      .metrics = &pr->cm};
    pcons *pc = pcons_new(&pt, p->partition);
    pcons_limits lim = {.end_offset = m->end_offset};
    pcons_start_segment(pc, m->sequence, m->segment, m->start_offset, 0, &lim);
    pcons_tick(pc, 0); /* an empty range is FULL at once */
    int64_t *offsets = NULL;
    size_t noff = 0, capoff = 0;
    int64_t deadline = (int64_t)sl_clock_wall_ms() + 4 * (int64_t)pr->timeout_ms;
    const char *stop = NULL;
    while (pcons_get_state(pc) == PCONS_CONSUMING && !stop) {
        if ((int64_t)sl_clock_wall_ms() > deadline) {
            stop = "timed out reading Kafka";
            break;
        }
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(rk, 200);
        if (!msg) continue;
        if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            stop = "Kafka ended before the segment's end offset";
        } else if (msg->err) {
            if (msg->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE)
                stop = "offsets deleted by retention while reading";
        } else {
            uint64_t before = mseg_rows(pcons_segment(pc));
            /* what the replicas' consumers gave their decoder (cpool__feed) */
            pcons_set_message(pc, msg);
            pcons_on_message(pc, msg->offset, msg->payload, msg->len);
            s->deep_messages++;
            if (mseg_rows(pcons_segment(pc)) > before) {
                if (noff == capoff) {
                    capoff = capoff ? capoff * 2 : 1024;
                    offsets = sl_xrealloc(offsets, capoff * sizeof *offsets);
                }
                offsets[noff++] = msg->offset;
            } else if (msg->offset < m->end_offset && msg->offset >= m->start_offset) {
                s->deep_malformed++;
            }
        }
        rd_kafka_message_destroy(msg);
    }
    rd_kafka_destroy(rk);
    if (stop && pcons_get_state(pc) != PCONS_FULL) {
        s->deep = AUDIT_UNKNOWN;
        snprintf(s->deep_why, sizeof s->deep_why,
                 "%s (at offset %" PRId64 " of [%" PRId64 ", %" PRId64 "))", stop,
                 pcons_next_offset(pc), m->start_offset, m->end_offset);
        goto out;
    }
    char path[PATH_MAX];
    probe__tmp_path(pr, path, sizeof path);
    seg_meta_in meta = {.name = m->segment,
                        .table = pr->cfg->table_name,
                        .partition = p->partition,
                        .sequence = m->sequence,
                        .start_offset = m->start_offset,
                        .end_offset = m->end_offset};
    uint32_t crc = 0;
    int rc = mseg_build_file(pcons_segment(pc), pr->cfg->time_column, &meta, path, &crc, NULL, err,
                             sizeof err);
    if (rc) {
        s->deep = AUDIT_UNKNOWN;
        snprintf(s->deep_why, sizeof s->deep_why, "rebuild failed: %s", err);
    } else if (crc == m->crc) {
        s->deep = AUDIT_OK;
    } else {
        s->deep = AUDIT_BAD;
        probe__first_diff(committed, path, offsets, noff, s->deep_why, sizeof s->deep_why);
    }
    unlink(path);
out:
    free(offsets);
    pcons_free(pc);
}

/* ---- the store's copy ---------------------------------------------------------------------- */

/* Download url into path and check it is a valid segment with crc. AUDIT_OK, AUDIT_BAD (it
 * answered with something else) or AUDIT_UNKNOWN (it could not be asked). */
static audit_seen probe__fetch(probe *pr, const char *url, const char *path, uint32_t crc,
                               char *why, size_t cap)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(why, cap, "%s: %s", path, strerror(errno));
        return AUDIT_UNKNOWN;
    }
    httpc_resp resp;
    httpc_resp_init(&resp, 4096);
    int rc = httpc_get_to_fd(pr->h, url, fd, PROBE_MAX_SEGMENT_BYTES, 10L * pr->timeout_ms, &resp);
    close(fd);
    audit_seen seen = AUDIT_OK;
    if (rc) {
        snprintf(why, cap, "%s: %s", url, resp.error[0] ? resp.error : sluice_strerror(rc));
        seen = AUDIT_UNKNOWN;
    } else if (resp.status != 200) {
        snprintf(why, cap, "%s answered HTTP %ld", url, resp.status);
        seen = AUDIT_BAD;
    } else {
        int e = 0;
        char msg[200];
        seg_reader *r = seg_reader_open(path, &e, msg, sizeof msg);
        if (!r) {
            snprintf(why, cap, "copy at %s fails verification: %s", url, msg);
            seen = AUDIT_BAD;
        } else {
            if (seg_reader_crc(r) != crc) {
                snprintf(why, cap, "copy at %s has crc %" PRIu32 " where %" PRIu32 " was committed",
                         url, seg_reader_crc(r), crc);
                seen = AUDIT_BAD;
            }
            seg_reader_close(r);
        }
    }
    httpc_resp_free(&resp);
    return seen;
}

/* ---- the cluster --------------------------------------------------------------------------- */

typedef struct probe__listing {
    char instance[AUDIT_ID_MAX];
    char base[300]; /* http://host:port, "" when the address is unknown */
    json_t *files;  /* the sidecar's GET /segments/<t>?crc=1, or NULL */
    json_t *record; /* its replicas/<id> record, or NULL */
    char why[AUDIT_WHY_MAX];
} probe__listing;

static probe__listing *probe__listing_of(probe__listing *ls, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ls[i].instance, id) == 0) return &ls[i];
    return NULL;
}

static void probe__read_listing(probe *pr, const cstore *cs, zk *z, const char *table,
                                probe__listing *l)
{
    int rc = cstore_instance_url(cs, z, l->instance, l->base, sizeof l->base);
    if (rc) {
        l->base[0] = '\0';
        snprintf(l->why, sizeof l->why, "not registered (%s)", sluice_strerror(rc));
    } else {
        char url[600];
        snprintf(url, sizeof url, "%s/segments/%s?crc=1", l->base, table);
        httpc_resp resp;
        httpc_resp_init(&resp, 64u << 20);
        rc = httpc_request(pr->h, "GET", url, NULL, NULL, 0, 10L * pr->timeout_ms, &resp);
        json_error_t je;
        if (rc)
            snprintf(l->why, sizeof l->why, "%.300s: %.200s", url, resp.error);
        else if (resp.status != 200)
            snprintf(l->why, sizeof l->why, "%.400s answered HTTP %ld", url, resp.status);
        else if (!(l->files = json_loadb(resp.body ? resp.body : "", resp.len, 0, &je)) ||
                 !json_is_array(l->files))
            snprintf(l->why, sizeof l->why, "%.400s: not a JSON array", url);
        if (l->files && !json_is_array(l->files)) {
            json_decref(l->files);
            l->files = NULL;
        }
        httpc_resp_free(&resp);
    }
    cstore_replica_get(cs, z, table, l->instance, &l->record);
}

/* Fill c from instance l's listing for segment. */
static void probe__copy(const probe__listing *l, const char *segment, audit_copy *c)
{
    c->reachable = l && l->files;
    if (!c->reachable) {
        snprintf(c->why, sizeof c->why, "%s", l ? l->why : "no listing");
        return;
    }
    json_t *rec = l->record ? json_object_get(l->record, segment) : NULL;
    c->recorded_online = json_is_string(rec) && strcmp(json_string_value(rec), "ONLINE") == 0;
    size_t i;
    json_t *f;
    json_array_foreach(l->files, i, f)
    {
        if (!json_is_string(json_object_get(f, "segment")) ||
            strcmp(json_string_value(json_object_get(f, "segment")), segment) != 0)
            continue;
        c->present = true;
        json_t *crc = json_object_get(f, "crc");
        c->valid = json_is_integer(crc);
        if (c->valid) c->crc = (uint32_t)json_integer_value(crc);
        const char *e = json_string_value(json_object_get(f, "error"));
        snprintf(c->why, sizeof c->why, "%s", e ? e : "");
        return;
    }
}

/* The store's copy of s, then any peer that lists it valid: downloaded, verified (I6) and,
 * with deep, compared with Kafka (I2). */
static void probe__committed_copy(probe *pr, audit_part *p, audit_seg *s, probe__listing *ls,
                                  size_t nls, const char *table)
{
    char path[PATH_MAX];
    probe__tmp_path(pr, path, sizeof path);
    if (s->m.download_url[0]) {
        s->store =
            probe__fetch(pr, s->m.download_url, path, s->m.crc, s->store_why, sizeof s->store_why);
    } else {
        s->store = AUDIT_BAD;
        snprintf(s->store_why, sizeof s->store_why, "DONE record has no downloadUrl");
    }
    bool have = s->store == AUDIT_OK;
    for (size_t k = 0; !have && pr->o->deep && k < s->ncopies; k++) {
        const audit_copy *c = &s->copies[k];
        probe__listing *l = probe__listing_of(ls, nls, c->instance);
        if (!c->valid || c->crc != s->m.crc || !l || !l->base[0]) continue;
        char url[800], why[AUDIT_WHY_MAX];
        snprintf(url, sizeof url, "%s/segments/%s/%s", l->base, table, s->m.segment);
        have = probe__fetch(pr, url, path, s->m.crc, why, sizeof why) == AUDIT_OK;
    }
    if (pr->o->deep) {
        if (have) {
            probe__deep(pr, p, s, path);
        } else {
            s->deep = AUDIT_UNKNOWN;
            snprintf(s->deep_why, sizeof s->deep_why, "no copy with the committed CRC to compare");
        }
    }
    unlink(path);
}

static audit_part *probe__part(audit_table *t, int32_t partition)
{
    for (size_t i = 0; i < t->nparts; i++)
        if (t->parts[i].partition == partition) return &t->parts[i];
    return audit_add_part(t, partition);
}

static int probe__table(probe *pr, const cstore *cs, zk *z, const char *table, audit_model *m,
                        char *err, size_t errlen)
{
    char *tj = NULL, *sj = NULL;
    size_t tl, sl;
    int rc = cstore_table_read(cs, z, table, &tj, &tl, &sj, &sl);
    if (rc) {
        snprintf(err, errlen, "table %s: %s", table, sluice_strerror(rc));
        return rc;
    }
    char e[512];
    schema *sch = schema_parse(sj, sl, "zookeeper schema", e, sizeof e);
    tcfg *cfg = sch ? tcfg_parse(tj, tl, "zookeeper config", sch, e, sizeof e) : NULL;
    free(tj);
    free(sj);
    if (!cfg) {
        snprintf(err, errlen, "table %s: %s", table, e);
        schema_free(sch);
        return SL_ECORRUPT;
    }
    pr->schema = sch;
    pr->cfg = cfg;
    pr->brokers = pr->o->kafka ? pr->o->kafka : cfg->broker_list;
    audit_table *t = audit_add_table(m, table);
    assign a;
    memset(&a, 0, sizeof a);
    bool have_assign = cstore_assign_get(cs, z, table, &a, NULL, e, sizeof e) == 0;
    if (have_assign) {
        t->paused_ms = a.paused_ms;
        t->bootstrap_ms = a.bootstrap_ms;
    }
    for (uint32_t i = 0; have_assign && i < a.npart; i++) /* stream.kafka.partition.ids: those */
        if (tcfg_consumes_partition(cfg, (int32_t)i)) probe__part(t, (int32_t)i);
    char **names = NULL;
    size_t n = 0;
    cstore_segments(cs, z, table, &names, &n);
    for (size_t i = 0; i < n; i++) {
        segname sn;
        if (segname_parse(names[i], &sn) != 0) continue;
        audit_seg *s = audit_add_seg(probe__part(t, sn.partition));
        zk_stat st;
        int src = cstore_segment_stat(cs, z, table, names[i], &s->m, &st, s->record_why,
                                      sizeof s->record_why);
        if (src == SL_ECORRUPT || (src == 0 && strcmp(s->m.segment, names[i]) != 0)) {
            s->record_bad = true;
            if (src == 0)
                snprintf(s->record_why, sizeof s->record_why, "holds segment %s", s->m.segment);
        }
        if (src == 0 || src == SL_ECORRUPT) {
            s->has_stat = true;
            s->czxid = st.czxid;
            s->mzxid = st.mzxid;
            s->version = st.version;
        } else {
            s->record_bad = true;
            snprintf(s->record_why, sizeof s->record_why, "read: %s", sluice_strerror(src));
        }
        snprintf(s->m.segment, sizeof s->m.segment, "%s", names[i]);
        s->m.partition = sn.partition;
        if (s->record_bad) s->m.sequence = sn.sequence;
    }
    zk_free_strings(names, n);
    audit_model_sort(m);
    /* the sidecars' listings, once per instance */
    probe__listing *ls = NULL;
    size_t nls = 0;
    for (size_t k = 0; k < a.nseg; k++)
        for (uint32_t i = 0; i < a.seg[k].inst.n; i++) {
            if (probe__listing_of(ls, nls, a.seg[k].inst.id[i])) continue;
            ls = sl_xrealloc(ls, (nls + 1) * sizeof *ls);
            memset(&ls[nls], 0, sizeof ls[nls]);
            snprintf(ls[nls].instance, sizeof ls[nls].instance, "%s", a.seg[k].inst.id[i]);
            probe__read_listing(pr, cs, z, table, &ls[nls++]);
        }
    for (size_t pi = 0; pi < t->nparts; pi++) {
        audit_part *p = &t->parts[pi];
        probe__watermarks(pr, p);
        for (size_t si = 0; si < p->nsegs; si++) {
            audit_seg *s = &p->segs[si];
            if (s->record_bad) continue;
            assign_seg *as = have_assign ? assign_find(&a, s->m.segment) : NULL;
            bool newest = si + 1 == p->nsegs;
            if (!segmeta_committed(&s->m)) { /* IN_PROGRESS, or COMMITTING: no CRC yet */
                for (uint32_t i = 0; newest && as && i < as->inst.n; i++) {
                    if (as->state[i] != ASSIGN_CONSUMING) continue;
                    p->consuming_on++;
                    p->consuming_live += cstore_instance_exists(cs, z, as->inst.id[i]) == 0;
                }
                continue;
            }
            for (uint32_t i = 0; as && i < as->inst.n; i++)
                probe__copy(probe__listing_of(ls, nls, as->inst.id[i]), s->m.segment,
                            audit_add_copy(s, as->inst.id[i]));
            if (pr->o->progress)
                fprintf(stderr, "\raudit: %s partition %d segment %zu/%zu", table,
                        (int)p->partition, si + 1, p->nsegs);
            probe__committed_copy(pr, p, s, ls, nls, table);
        }
    }
    if (pr->o->progress) fputc('\n', stderr);
    for (size_t i = 0; i < nls; i++) {
        json_decref(ls[i].files);
        json_decref(ls[i].record);
    }
    free(ls);
    assign_free(&a);
    if (pr->meta) rd_kafka_destroy(pr->meta);
    pr->meta = NULL;
    pr->meta_err[0] = '\0';
    tcfg_free(cfg);
    schema_free(sch);
    pr->cfg = NULL;
    pr->schema = NULL;
    return 0;
}

static void probe__init(probe *pr, const probe_opts *o, audit_model *m)
{
    memset(pr, 0, sizeof *pr);
    memset(m, 0, sizeof *m);
    pr->o = o;
    pr->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 10000;
    pr->h = httpc_new();
    if (o->cred) auth_cli_apply(o->cred, pr->h);
    pr->reg = metrics_new();
    cmetrics_register(&pr->cm, pr->reg);
    m->now_ms = (int64_t)sl_clock_wall_ms();
    m->commit_budget_ms = o->commit_budget_ms;
}

static void probe__done(probe *pr)
{
    httpc_free(pr->h);
    metrics_free(pr->reg);
}

int probe_cluster(const probe_opts *o, audit_model *m, char *err, size_t errlen)
{
    probe pr;
    probe__init(&pr, o, m);
    m->cluster = true;
    cstore *cs = cstore_new(o->cluster);
    zk *z = NULL;
    int rc = 0;
    char **names = NULL;
    size_t n = 0;
    if (!cs) {
        snprintf(err, errlen, "cluster name too long for a ZooKeeper path");
        rc = SL_EINVAL;
        goto done;
    }
    if (!(z = zk_open(o->zk_connect, (unsigned)(pr.timeout_ms > 4000 ? pr.timeout_ms : 4000), NULL,
                      err, errlen))) {
        rc = SL_ETRANSIENT;
        goto done;
    }
    if (o->table) {
        if ((rc = cstore_table_exists(cs, z, o->table)) != 0) {
            snprintf(err, errlen, "table %s: %s", o->table,
                     rc == SL_ENOENT ? "no such table in this cluster" : sluice_strerror(rc));
            goto done;
        }
        rc = probe__table(&pr, cs, z, o->table, m, err, errlen);
        goto done;
    }
    if ((rc = cstore_tables(cs, z, &names, &n)) != 0) {
        snprintf(err, errlen, "cluster %s: %s", o->cluster,
                 rc == SL_ENOENT ? "no such cluster in ZooKeeper" : sluice_strerror(rc));
        goto done;
    }
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = probe__table(&pr, cs, z, names[i], m, err, errlen);
done:
    zk_free_strings(names, n);
    zk_close(z);
    cstore_free(cs);
    probe__done(&pr);
    return rc;
}

/* ---- a standalone data dir ------------------------------------------------------------------- */

int probe_data_dir(const probe_opts *o, audit_model *m, char *err, size_t errlen)
{
    probe pr;
    probe__init(&pr, o, m);
    schema *sch = schema_load(o->schema, err, errlen);
    tcfg *cfg = sch ? tcfg_load(o->table_config, sch, err, errlen) : NULL;
    int rc = 0;
    DIR *d = NULL;
    if (!cfg) {
        rc = SL_EINVAL;
        goto done;
    }
    pr.schema = sch;
    pr.cfg = cfg;
    pr.brokers = o->kafka ? o->kafka : cfg->broker_list;
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/%s", o->data_dir, cfg->table_name);
    if (!(d = opendir(dir))) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        rc = SL_ENOENT;
        goto done;
    }
    audit_table *t = audit_add_table(m, cfg->table_name);
    struct dirent *de;
    while ((de = readdir(d))) {
        char name[SL_SEGNAME_MAX];
        segname sn;
        if (!segname_of_file(de->d_name, cfg->table_name, name, &sn)) continue;
        audit_seg *s = audit_add_seg(probe__part(t, sn.partition));
        segmeta *sm = &s->m;
        snprintf(sm->segment, sizeof sm->segment, "%s", name);
        sm->partition = sn.partition;
        sm->sequence = sn.sequence;
        sm->status = SEGMETA_DONE;
        char path[PATH_MAX + 300], msg[256];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        int e = 0;
        seg_reader *r = seg_reader_open(path, &e, msg, sizeof msg);
        if (!r) {
            s->store = AUDIT_BAD;
            snprintf(s->store_why, sizeof s->store_why, "fails verification: %s", msg);
            sm->start_offset = sm->end_offset = -1;
            continue;
        }
        s->store = AUDIT_OK;
        sm->start_offset = seg_reader_start_offset(r);
        sm->end_offset = seg_reader_end_offset(r);
        sm->num_rows = (int64_t)seg_reader_rows(r);
        sm->crc = seg_reader_crc(r);
        if (strcmp(seg_reader_name(r), name) != 0 || seg_reader_partition(r) != sn.partition ||
            seg_reader_sequence(r) != sn.sequence) {
            s->record_bad = true;
            snprintf(s->record_why, sizeof s->record_why, "the file holds segment %s",
                     seg_reader_name(r));
        }
        seg_reader_close(r);
    }
    audit_model_sort(m);
    for (size_t pi = 0; pi < t->nparts; pi++) {
        audit_part *p = &t->parts[pi];
        probe__watermarks(&pr, p);
        for (size_t si = 0; o->deep && si < p->nsegs; si++) {
            audit_seg *s = &p->segs[si];
            if (s->store != AUDIT_OK || s->record_bad) continue;
            char path[PATH_MAX + 300];
            snprintf(path, sizeof path, "%s/%s.seg", dir, s->m.segment);
            probe__deep(&pr, p, s, path);
        }
    }
done:
    if (d) closedir(d);
    if (pr.meta) rd_kafka_destroy(pr.meta);
    tcfg_free(cfg);
    schema_free(sch);
    probe__done(&pr);
    return rc;
}
