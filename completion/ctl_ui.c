/* The operator's surfaces of the controller (DESIGN §13): GET /ui, one page embedded in the
 * binary (completion/ui/operator.html, made into ui_assets.c at build time: no file to
 * install, no CDN), and the JSON it reads besides the admin API,
 * GET /tables/<t>/consumingSegmentsInfo (Pinot's name and shape): per consuming segment and
 * replica, the consumer's offset, Kafka's, the lag in messages and time, with the rows,
 * malformed messages and data loss each sidecar counts, and per sidecar its divergences. Those
 * numbers live in the sidecars: a worker reads each live replica's GET /metrics (with this
 * controller's own token and certificate) and picks the table's families out of it. */
#include "completion/ctl_int.h"

#include "common/httpc.h"
#include "common/jsonw.h"
#include "common/sl_err.h"
#include "common/xalloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const unsigned char ctl_ui_html[];
extern const size_t ctl_ui_html_len;

#define CTL_UI_METRICS_MAX (8u << 20)
#define CTL_UI_TIMEOUT_MS 3000L
#define CTL_UI_MAX_PARTS 4096

/* GET /ui: the page. Its script calls the API from this origin only (the CSP says so), with the
 * bearer token the user typed (kept in the tab's sessionStorage, never in a URL). */
void ctl__ui_get(httpd_req *req, httpd_resp *resp, void *ctx)
{
    (void)req, (void)ctx;
    httpd_resp_body(resp, 200, "text/html; charset=utf-8", ctl_ui_html, ctl_ui_html_len,
                    HTTPD_STATIC);
    httpd_resp_header(resp, "Content-Security-Policy",
                      "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                      "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; "
                      "frame-ancestors 'none'");
    httpd_resp_header(resp, "X-Content-Type-Options", "nosniff");
    httpd_resp_header(resp, "Referrer-Policy", "no-referrer");
    httpd_resp_header(resp, "Cache-Control", "no-store");
}

/* One sidecar's numbers for the table, per partition. */
typedef struct ctl_ui_part {
    bool seen; /* the sidecar consumes it (its gauges exist) */
    int64_t next, lag, lag_ms;
    double rows, loss, malformed;
} ctl_ui_part;

typedef struct ctl_ui_inst {
    char id[SL_IDENT_MAX + 1];
    bool reachable;
    char why[160];
    double divergence;
    ctl_ui_part *p; /* [nparts] */
} ctl_ui_inst;

/* The value of label `name` in a Prometheus label set `{a="x",b="y"}` (escapes left as they
 * are: table names and partitions have none), into out; false when absent. */
static bool ctl__ui_label(const char *labels, const char *end, const char *name, char *out,
                          size_t cap)
{
    size_t n = strlen(name);
    for (const char *p = labels; p && p < end; p++) {
        if ((p == labels || p[-1] == '{' || p[-1] == ',') && strncmp(p, name, n) == 0 &&
            p[n] == '=' && p[n + 1] == '"') {
            const char *v = p + n + 2, *q = memchr(v, '"', (size_t)(end - v));
            if (!q || (size_t)(q - v) >= cap) return false;
            memcpy(out, v, (size_t)(q - v));
            out[q - v] = '\0';
            return true;
        }
    }
    return false;
}

/* Pick the table's families out of a /metrics text into in. */
static void ctl__ui_parse(const char *text, size_t len, const char *table, ctl_ui_inst *in,
                          uint32_t nparts)
{
    static const char *const fam[] = {
        "sluice_partition_next_offset",    "sluice_partition_lag",
        "sluice_partition_lag_seconds",    "sluice_rows_consumed_total",
        "sluice_data_loss_messages_total", "sluice_decode_errors_total",
        "sluice_replica_divergence_total"};
    const char *end = text + len;
    for (const char *line = text, *nl; line < end; line = nl + 1) {
        nl = memchr(line, '\n', (size_t)(end - line));
        if (!nl) nl = end;
        if (*line == '#' || line == nl) continue;
        const char *brace = memchr(line, '{', (size_t)(nl - line));
        const char *close = brace ? memchr(brace, '}', (size_t)(nl - brace)) : NULL;
        if (!close) continue;
        size_t nlen = (size_t)(brace - line);
        int f = -1;
        for (int i = 0; i < (int)(sizeof fam / sizeof fam[0]) && f < 0; i++)
            if (strlen(fam[i]) == nlen && strncmp(line, fam[i], nlen) == 0) f = i;
        char t[SL_IDENT_MAX + 1], ps[16];
        if (f < 0 || !ctl__ui_label(brace + 1, close, "table", t, sizeof t) || strcmp(t, table))
            continue;
        double v = strtod(close + 1, NULL);
        if (f == 6) {
            in->divergence += v;
            continue;
        }
        char *pe;
        if (!ctl__ui_label(brace + 1, close, "partition", ps, sizeof ps)) continue;
        unsigned long p = strtoul(ps, &pe, 10);
        if (*pe || p >= nparts) continue;
        ctl_ui_part *pp = &in->p[p];
        switch (f) {
        case 0:
            pp->seen = true;
            pp->next = (int64_t)v;
            break;
        case 1:
            pp->lag = (int64_t)v;
            break;
        case 2:
            pp->lag_ms = (int64_t)(v * 1000.0);
            break;
        case 3:
            pp->rows = v;
            break;
        case 4:
            pp->loss = v;
            break;
        default:
            pp->malformed += v;
            break;
        }
    }
}

static void ctl__ui_kv(jsonw *w, const char *key, int32_t partition, int64_t v)
{
    char ps[16], vs[32];
    snprintf(ps, sizeof ps, "%d", (int)partition);
    snprintf(vs, sizeof vs, "%" PRId64, v);
    jsonw_key(w, key);
    jsonw_obj_begin(w);
    jsonw_key(w, ps);
    jsonw_cstr(w, vs); /* Pinot's maps hold strings */
    jsonw_obj_end(w);
}

/* Worker: read the assignment, then each consuming replica's metrics; answer the JSON. */
static void ctl__consuming_info(ctl *c, void *arg, httpd_resp *resp)
{
    const char *table = ctl__call_table(arg);
    assign a;
    zk *z = ctl__zk(c);
    int rc = ctl__get_assign(c, z, table, &a, NULL);
    if (rc) {
        ctl__zk_done(c);
        ctl__json_error(resp, rc == SL_ENOENT ? 404 : 503,
                        rc == SL_ENOENT ? "no such table" : sluice_strerror(rc));
        return;
    }
    uint32_t nparts = a.npart < CTL_UI_MAX_PARTS ? a.npart : CTL_UI_MAX_PARTS;
    ctl_ui_inst *ins = NULL;
    size_t nins = 0, cap = 0;
    char(*url)[300] = NULL;
    for (size_t s = 0; s < a.nseg; s++)
        for (uint32_t i = 0; i < a.seg[s].inst.n; i++) {
            if (a.seg[s].state[i] != ASSIGN_CONSUMING) continue;
            size_t k = 0;
            while (k < nins && strcmp(ins[k].id, a.seg[s].inst.id[i]) != 0)
                k++;
            if (k < nins) continue;
            if (nins == cap) {
                cap = cap ? cap * 2 : 8;
                ins = sl_xrealloc(ins, cap * sizeof *ins);
                url = sl_xrealloc(url, cap * sizeof *url);
            }
            memset(&ins[nins], 0, sizeof ins[nins]);
            snprintf(ins[nins].id, sizeof ins[nins].id, "%s", a.seg[s].inst.id[i]);
            ins[nins].p = sl_xcalloc(nparts ? nparts : 1, sizeof *ins[nins].p);
            if (cstore_instance_url(c->cs, z, ins[nins].id, url[nins], sizeof url[nins]) != 0)
                url[nins][0] = '\0';
            nins++;
        }
    ctl__zk_done(c);
    httpc *h = httpc_new();
    httpc_set_bearer(h, c->o.token);
    httpc_set_tls(h, c->o.tls_ca_file, c->o.tls_cert_file, c->o.tls_key_file);
    for (size_t k = 0; k < nins; k++) {
        if (!url[k][0]) {
            snprintf(ins[k].why, sizeof ins[k].why, "not registered");
            continue;
        }
        char u[400];
        snprintf(u, sizeof u, "%s/metrics", url[k]);
        httpc_resp r;
        httpc_resp_init(&r, CTL_UI_METRICS_MAX);
        int hrc = httpc_request(h, "GET", u, NULL, NULL, 0, CTL_UI_TIMEOUT_MS, &r);
        if (hrc)
            snprintf(ins[k].why, sizeof ins[k].why, "%.150s", r.error);
        else if (r.status != 200)
            snprintf(ins[k].why, sizeof ins[k].why, "GET /metrics answered %ld", r.status);
        else {
            ins[k].reachable = true;
            ctl__ui_parse(r.body ? r.body : "", r.len, table, &ins[k], nparts);
        }
        httpc_resp_free(&r);
    }
    httpc_free(h);

    jsonw w;
    jsonw_init(&w);
    jsonw_obj_begin(&w);
    jsonw_key(&w, "table");
    jsonw_cstr(&w, table);
    jsonw_key(&w, "instances");
    jsonw_obj_begin(&w);
    for (size_t k = 0; k < nins; k++) {
        jsonw_key(&w, ins[k].id);
        jsonw_obj_begin(&w);
        jsonw_key(&w, "reachable");
        jsonw_bool(&w, ins[k].reachable);
        if (!ins[k].reachable) {
            jsonw_key(&w, "error");
            jsonw_cstr(&w, ins[k].why);
        }
        jsonw_key(&w, "divergence");
        jsonw_u64(&w, (uint64_t)ins[k].divergence);
        jsonw_obj_end(&w);
    }
    jsonw_obj_end(&w);
    jsonw_key(&w, "_segmentToConsumingInfoMap");
    jsonw_obj_begin(&w);
    for (size_t s = 0; s < a.nseg; s++) {
        segname sn;
        if (segname_parse(a.seg[s].segment, &sn) || sn.partition < 0 ||
            (uint32_t)sn.partition >= nparts)
            continue;
        bool any = false;
        for (uint32_t i = 0; i < a.seg[s].inst.n && !any; i++)
            any = a.seg[s].state[i] == ASSIGN_CONSUMING;
        if (!any) continue;
        jsonw_key(&w, a.seg[s].segment);
        jsonw_arr_begin(&w);
        for (uint32_t i = 0; i < a.seg[s].inst.n; i++) {
            if (a.seg[s].state[i] != ASSIGN_CONSUMING) continue;
            size_t k = 0;
            while (k < nins && strcmp(ins[k].id, a.seg[s].inst.id[i]) != 0)
                k++;
            if (k == nins) continue;
            const ctl_ui_part *pp = &ins[k].p[sn.partition];
            jsonw_obj_begin(&w);
            jsonw_key(&w, "serverName");
            jsonw_cstr(&w, ins[k].id);
            jsonw_key(&w, "consumerState");
            jsonw_cstr(&w, !ins[k].reachable ? "UNREACHABLE"
                           : pp->seen        ? "CONSUMING"
                                             : "NOT_CONSUMING");
            if (ins[k].reachable && pp->seen) {
                ctl__ui_kv(&w, "partitionToOffsetMap", sn.partition, pp->next);
                jsonw_key(&w, "partitionOffsetInfo");
                jsonw_obj_begin(&w);
                ctl__ui_kv(&w, "currentOffsetsMap", sn.partition, pp->next);
                ctl__ui_kv(&w, "latestUpstreamOffsetMap", sn.partition, pp->next + pp->lag);
                ctl__ui_kv(&w, "recordsLagMap", sn.partition, pp->lag);
                ctl__ui_kv(&w, "availabilityLagMsMap", sn.partition, pp->lag_ms);
                jsonw_obj_end(&w);
                jsonw_key(&w, "rowsConsumed");
                jsonw_u64(&w, (uint64_t)pp->rows);
                jsonw_key(&w, "malformedMessages");
                jsonw_u64(&w, (uint64_t)pp->malformed);
                jsonw_key(&w, "dataLossMessages");
                jsonw_u64(&w, (uint64_t)pp->loss);
            }
            jsonw_obj_end(&w);
        }
        jsonw_arr_end(&w);
    }
    jsonw_obj_end(&w);
    jsonw_obj_end(&w);
    jsonw_text(&w, "\n", 1);
    httpd_resp_body(resp, 200, "application/json", w.buf, w.len, HTTPD_TAKE);
    for (size_t k = 0; k < nins; k++)
        free(ins[k].p);
    free(ins);
    free(url);
    assign_free(&a);
}

/* GET /tables/<t>/consumingSegmentsInfo */
void ctl__consuming_info_get(httpd_req *req, httpd_resp *resp, void *ctx)
{
    ctl__table_read(req, resp, ctx, ctl__consuming_info);
}
