/* `sluice push` (DESIGN §10, docs/batch.md "Push"): send built segments to a controller's
 * POST /v2/segments, one request per segment, in each of Pinot's upload modes:
 *   tar       the file is the body (UPLOAD_TYPE SEGMENT; Pinot's "tar push")
 *   uri       DOWNLOAD_URI names it; the controller fetches a copy (UPLOAD_TYPE URI)
 *   metadata  DOWNLOAD_URI names it; the controller verifies it and keeps the URI as the
 *             segment's download location (UPLOAD_TYPE METADATA)
 * A directory argument pushes every `*.seg` below it (sorted, so a rerun pushes in the same
 * order). A local path in uri/metadata mode becomes `file://<absolute path>`, which the
 * controller (and later every sidecar) must be able to read: a shared file system.
 *
 * Each push is retried (--attempts, --retry-interval) when nothing was decided: no reply, a
 * 5xx, or 409 (another push of the same name was in flight). A 4xx other than 409 is final:
 * the file or the request is wrong, and the same request would fail again. Leader discovery
 * is the controller's 307 redirect, followed with the body re-sent. */
#include "common/auth.h"
#include "common/clock.h"
#include "common/httpc.h"
#include "common/sl_err.h"
#include "common/xalloc.h"
#include "common/jsonw.h"
#include "segment/seg_reader.h"
#include "segment/segname.h"
#include "src/cmds.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define PUSH_URL_MAX 2048
#define PUSH_REPLY_MAX (1u << 20)

static const char push_usage[] =
    "usage: sluice push --controller URL --table NAME [--type OFFLINE|REALTIME]\n"
    "                   [--mode tar|uri|metadata] [--if-match CRC] [--attempts N]\n"
    "                   [--retry-interval SECONDS] [--timeout SECONDS] [--parallel N]\n"
    "                   [--replace SEG[,SEG...] | --replace-time-range FROM,TO]\n"
    "                   [--token-file F] [--ca-file F] [--cert F --key F] FILE|DIR|URI ...\n"
    "\n"
    "Push built segments to the table (POST URL/v2/segments). A DIR pushes every *.seg\n"
    "below it. Pushing a name the table has replaces that segment atomically (refresh).\n"
    "  --mode tar       the file is the request body (default)\n"
    "  --mode uri       send its URI (file:// for a local path, or http(s)://); the\n"
    "                   controller fetches and stores a copy\n"
    "  --mode metadata  send its URI; the controller verifies it there and sidecars\n"
    "                   download it from that URI\n"
    "  --type           the half of a hybrid table (default: the table the name names)\n"
    "  --if-match CRC   refuse (412) to replace a segment whose current CRC is another\n"
    "  --attempts N     tries per segment when no answer came, a 5xx or a 409 (default 3)\n"
    "  --retry-interval seconds between tries (default 1)\n"
    "  --timeout        seconds per request (default 300)\n"
    "  --parallel N     pushes in flight at once, each on its own connection (default 1)\n"
    "  --replace SEGS   a backfill with lineage: these served segments are replaced by the\n"
    "                   pushed ones in one switch (startReplaceSegments, the pushes,\n"
    "                   endReplaceSegments); until then readers see only the old ones, and a\n"
    "                   failed push reverts the replacement\n"
    "  --replace-time-range FROM,TO\n"
    "                   the same for every pushed segment whose time range lies within\n"
    "                   [FROM, TO] (the time column's unit); one that straddles it is an error\n"
    "Prints one line per pushed segment on stdout: pushed <segment> crc=<crc> rows=<rows>\n"
    "[refreshed]. Exit 0 when every segment was pushed, 1 when one failed, 2 on usage.\n";

typedef enum push_mode { PUSH_TAR = 0, PUSH_URI, PUSH_METADATA } push_mode;

typedef struct push_opts {
    const char *controller, *table, *type;
    push_mode mode;
    const char *if_match;
    long attempts, retry_ms, timeout_ms;
    long parallel;       /* --parallel: requests in flight */
    const char *replace; /* --replace: comma-separated names */
    bool has_range;      /* --replace-time-range */
    long long range_from, range_to;
    const auth_cli *cred; /* --token-file, --ca-file, --cert, --key */
} push_opts;

typedef struct push_list {
    char **item;
    size_t n, cap;
} push_list;

static void push_list_add(push_list *l, const char *s)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->item = sl_xrealloc(l->item, l->cap * sizeof *l->item);
    }
    l->item[l->n++] = sl_xstrdup(s);
}

static int push_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.seg below dir, into l. Returns 0 or -1 (reported). */
static int push_walk(const char *dir, push_list *l)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "sluice push: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[PATH_MAX];
        struct stat st;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path ||
            stat(path, &st) != 0)
            continue;
        size_t n = strlen(e->d_name);
        if (S_ISDIR(st.st_mode))
            rc = push_walk(path, l);
        else if (S_ISREG(st.st_mode) && n > 4 && strcmp(e->d_name + n - 4, ".seg") == 0)
            push_list_add(l, path);
    }
    closedir(d);
    return rc;
}

static bool push_is_uri(const char *s)
{
    return strncasecmp(s, "file://", 7) == 0 || strncasecmp(s, "http://", 7) == 0 ||
           strncasecmp(s, "https://", 8) == 0 || strncasecmp(s, "webhdfs://", 10) == 0 ||
           strncasecmp(s, "swebhdfs://", 11) == 0;
}

/* A reply (rc: httpc's) as 0 with *reply (200 and a JSON object), 1 final failure, 2 worth
 * another try (no reply, a 5xx, 409: another push of the name in flight); msg gets why. */
static int push_reply(int rc, const httpc_resp *resp, char *msg, size_t msglen, json_t **reply)
{
    int out;
    if (rc == SL_ENOENT || rc == SL_EIO) { /* the local file */
        snprintf(msg, msglen, "%s", resp->error);
        return 1;
    }
    if (rc) {
        snprintf(msg, msglen, "%s", resp->error[0] ? resp->error : sluice_strerror(rc));
        return 2;
    }
    json_t *j = resp->body ? json_loadb(resp->body, resp->len, 0, NULL) : NULL;
    const char *e = json_string_value(json_object_get(j, "error"));
    if (resp->status == 200 && (json_is_object(j) || json_is_array(j))) {
        *reply = j;
        return 0;
    }
    snprintf(msg, msglen, "HTTP %ld: %s", resp->status,
             e            ? e
             : resp->body ? resp->body
                          : "no reply body");
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    out = resp->status >= 500 || resp->status == 409 ? 2 : 1;
    json_decref(j);
    return out;
}

/* One segment, once: 0 pushed, 1 final failure, 2 worth another try. */
static int push_one(httpc *h, const push_opts *o, const char *what, const char *url, char *msg,
                    size_t msglen, json_t **reply)
{
    char hmode[64], huri[PUSH_URL_MAX + 32], hmatch[64];
    const char *hdrs[4];
    size_t nh = 0;
    static const char *const mode_names[] = {"SEGMENT", "URI", "METADATA"};
    snprintf(hmode, sizeof hmode, "UPLOAD_TYPE: %s", mode_names[o->mode]);
    hdrs[nh++] = hmode;
    if (o->mode != PUSH_TAR) {
        snprintf(huri, sizeof huri, "DOWNLOAD_URI: %s", what);
        hdrs[nh++] = huri;
    }
    if (o->if_match) {
        snprintf(hmatch, sizeof hmatch, "If-Match: %s", o->if_match);
        hdrs[nh++] = hmatch;
    }
    hdrs[nh] = NULL;
    httpc_set_headers(h, hdrs);
    httpc_resp resp;
    httpc_resp_init(&resp, PUSH_REPLY_MAX);
    int rc = o->mode == PUSH_TAR
                 ? httpc_send_file(h, "POST", url, what, o->timeout_ms, &resp)
                 : httpc_request(h, "POST", url, NULL, NULL, 0, o->timeout_ms, &resp);
    httpc_set_headers(h, NULL);
    int out = push_reply(rc, &resp, msg, msglen, reply);
    httpc_resp_free(&resp);
    return out;
}

/* A JSON call to the controller (the lineage routes, the listing), retried as a push is:
 * 0 with *reply (caller decrefs), 1 final failure, 2 no decision after every attempt. */
static int push_call(httpc *h, const push_opts *o, const char *method, const char *url,
                     const char *body, json_t **reply, char *msg, size_t msglen)
{
    int r = 2;
    for (long a = 0; a < o->attempts && r == 2; a++) {
        if (a) sl_clock_sleep_ms(o->retry_ms);
        httpc_resp resp;
        httpc_resp_init(&resp, PUSH_REPLY_MAX);
        int rc = httpc_request(h, method, url, body ? "application/json" : NULL, body,
                               body ? strlen(body) : 0, o->timeout_ms, &resp);
        r = push_reply(rc, &resp, msg, msglen, reply);
        httpc_resp_free(&resp);
    }
    return r;
}

/* The pushes of one run, shared by its threads (--parallel): the next item, the counts, and
 * mu over both and over stdout/stderr, so lines never interleave. */
typedef struct push_run {
    const push_opts *o;
    const push_list *l;
    const char *url;
    bool tty;
    pthread_mutex_t mu;
    size_t next, done, failed;
} push_run;

/* One thread's loop: take the next item, push it with retries, print its line. */
static void *push_worker(void *arg)
{
    push_run *run = arg;
    const push_opts *o = run->o;
    httpc *h = httpc_new();
    httpc_set_redirects(h, 5); /* a follower's 307 to the leader */
    auth_cli_apply(o->cred, h);
    for (;;) {
        pthread_mutex_lock(&run->mu);
        size_t i = run->next++;
        pthread_mutex_unlock(&run->mu);
        if (i >= run->l->n) break;
        const char *item = run->l->item[i];
        char msg[1024] = "";
        json_t *reply = NULL;
        int r = 2;
        for (long a = 0; a < o->attempts && r == 2; a++) {
            if (a) {
                pthread_mutex_lock(&run->mu);
                if (run->tty) fprintf(stderr, "\r\033[K");
                fprintf(stderr, "sluice push: %s: %s; retrying (%ld of %ld)\n", item, msg, a + 1,
                        o->attempts);
                pthread_mutex_unlock(&run->mu);
                sl_clock_sleep_ms(o->retry_ms);
            }
            r = push_one(h, o, item, run->url, msg, sizeof msg, &reply);
        }
        pthread_mutex_lock(&run->mu);
        run->done++;
        if (run->tty) fprintf(stderr, "\r\033[K");
        if (r == 0) {
            printf("pushed %s crc=%" JSON_INTEGER_FORMAT " rows=%" JSON_INTEGER_FORMAT "%s\n",
                   json_string_value(json_object_get(reply, "segment")),
                   json_integer_value(json_object_get(reply, "crc")),
                   json_integer_value(json_object_get(reply, "numRows")),
                   json_is_true(json_object_get(reply, "refreshed")) ? " refreshed" : "");
            fflush(stdout);
        } else {
            fprintf(stderr, "sluice push: %s: %s\n", item, msg);
            run->failed++;
        }
        if (run->tty) fprintf(stderr, "[%zu/%zu] %s", run->done, run->l->n, item);
        pthread_mutex_unlock(&run->mu);
        json_decref(reply);
    }
    httpc_free(h);
    return NULL;
}

/* ---- backfill with lineage ---------------------------------------------------------------- */

/* The name of the segment a local file (or file:// URI) holds, into name (SL_SEGNAME_MAX). */
static bool push_file_segment(const char *item, char *name)
{
    if (push_is_uri(item) && strncasecmp(item, "file://", 7) != 0) {
        fprintf(stderr,
                "sluice push: %s: a replacement needs the segment files here (their names "
                "are in them)\n",
                item);
        return false;
    }
    const char *path = strncasecmp(item, "file://", 7) == 0 ? item + 7 : item;
    char err[256];
    int e;
    seg_reader *r = seg_reader_open(path, &e, err, sizeof err);
    if (!r) {
        fprintf(stderr, "sluice push: %s: %s\n", path, err);
        return false;
    }
    snprintf(name, SL_SEGNAME_MAX, "%s", seg_reader_name(r));
    seg_reader_close(r);
    return true;
}

/* Whether listing entry s is served (ONLINE on a replica). */
static bool push_served(json_t *s)
{
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(s, "replicas"), k, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), "ONLINE") == 0) return true;
    }
    return false;
}

/* --replace-time-range: the served pushed segments within [from, to], appended to w (a JSON
 * array being written). 0, or 2 (message printed): the listing failed or a segment straddles
 * the range (replacing it would drop its rows outside the range, keeping it would double the
 * ones inside). */
static int push_range_from(httpc *h, const push_opts *o, const char *list_url, jsonw *w, size_t *n)
{
    char msg[1024];
    json_t *segs = NULL;
    if (push_call(h, o, "GET", list_url, NULL, &segs, msg, sizeof msg) || !json_is_array(segs)) {
        fprintf(stderr, "sluice push: %s: %s\n", list_url, segs ? "not a segment list" : msg);
        json_decref(segs);
        return 2;
    }
    int rc = 0;
    size_t i;
    json_t *s;
    json_array_foreach(segs, i, s)
    {
        json_t *lo = json_object_get(s, "minTime"), *hi = json_object_get(s, "maxTime");
        const char *name = json_string_value(json_object_get(s, "segment"));
        const char *st = json_string_value(json_object_get(s, "status"));
        if (!name || !st || strcmp(st, "UPLOADED") != 0 || !push_served(s) ||
            !json_is_integer(lo) || !json_is_integer(hi))
            continue;
        long long a = json_integer_value(lo), b = json_integer_value(hi);
        if (a >= o->range_from && b <= o->range_to) {
            jsonw_cstr(w, name);
            (*n)++;
        } else if (b >= o->range_from && a <= o->range_to) {
            fprintf(stderr,
                    "sluice push: segment %s [%lld, %lld] straddles the range [%lld, %lld]: "
                    "name it with --replace, or widen the range\n",
                    name, a, b, o->range_from, o->range_to);
            rc = 2;
        }
    }
    json_decref(segs);
    return rc;
}

/* Whether every one of the n segments has been staged (reported STAGED: downloaded, verified,
 * not served) by each replica it is assigned to. */
static bool push_staged(httpc *h, const push_opts *o, const char *list_url, char **names, size_t n)
{
    char msg[1024];
    json_t *segs = NULL;
    if (push_call(h, o, "GET", list_url, NULL, &segs, msg, sizeof msg)) return false;
    size_t ok = 0, i;
    json_t *s;
    json_array_foreach(segs, i, s)
    {
        const char *name = json_string_value(json_object_get(s, "segment"));
        bool mine = false;
        for (size_t k = 0; name && k < n && !mine; k++)
            mine = strcmp(names[k], name) == 0;
        json_t *reps = json_object_get(s, "replicas");
        if (!mine || !json_object_size(reps)) continue;
        bool all = true;
        const char *k;
        json_t *v;
        json_object_foreach(reps, k, v)
        {
            all &= json_is_string(v) && strcmp(json_string_value(v), "STAGED") == 0;
        }
        ok += all;
    }
    json_decref(segs);
    return ok == n;
}

/* start: the names the files hold (segmentsTo), what they replace (segmentsFrom), and
 * startReplaceSegments with forceCleanup (a rerun of a failed backfill reverts its entry).
 * 0 with *to (l->n names, caller frees) and the entry id, or 1/2 with the message printed. */
static int push_start(httpc *h, const push_opts *o, const push_list *l, const char *list_url,
                      const char *lin_url, char ***to, char *entry)
{
    *to = sl_xcalloc(l->n, sizeof **to);
    for (size_t i = 0; i < l->n; i++) {
        (*to)[i] = sl_xcalloc(1, SL_SEGNAME_MAX);
        if (!push_file_segment(l->item[i], (*to)[i])) return 2;
    }
    jsonw w;
    jsonw_init(&w);
    jsonw_obj_begin(&w);
    jsonw_key(&w, "segmentsFrom");
    jsonw_arr_begin(&w);
    size_t nfrom = 0;
    int rc = 0;
    if (o->replace) {
        char *names = sl_xstrdup(o->replace), *save = NULL;
        for (char *t = strtok_r(names, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            if (!segname_valid_any(t)) {
                fprintf(stderr, "sluice push: --replace: %s is not a segment name\n", t);
                rc = 2;
            }
            jsonw_cstr(&w, t);
            nfrom++;
        }
        free(names);
    } else {
        rc = push_range_from(h, o, list_url, &w, &nfrom);
    }
    jsonw_arr_end(&w);
    jsonw_key(&w, "segmentsTo");
    jsonw_arr_begin(&w);
    for (size_t i = 0; i < l->n; i++)
        jsonw_cstr(&w, (*to)[i]);
    jsonw_arr_end(&w);
    jsonw_obj_end(&w);
    char url[PUSH_URL_MAX + 64], msg[1024];
    json_t *reply = NULL;
    snprintf(url, sizeof url, lin_url, "startReplaceSegments");
    snprintf(url + strlen(url), sizeof url - strlen(url), "forceCleanup=true");
    if (!rc && (rc = push_call(h, o, "POST", url, w.buf, &reply, msg, sizeof msg)) != 0)
        fprintf(stderr, "sluice push: startReplaceSegments: %s\n", msg);
    const char *id = json_string_value(json_object_get(reply, "segmentLineageEntryId"));
    if (!rc && (!id || strlen(id) >= 64)) {
        fprintf(stderr,
                "sluice push: startReplaceSegments: no segmentLineageEntryId in the reply\n");
        rc = 1;
    }
    if (!rc) {
        snprintf(entry, 64, "%s", id);
        fprintf(stderr, "sluice push: replacing %zu segment(s) by %zu: lineage entry %s\n", nfrom,
                l->n, entry);
    }
    json_decref(reply);
    jsonw_free(&w);
    return rc == 2 ? 2 : rc ? 1 : 0;
}

/* end: after every push, once the new segments are staged on their replicas (bounded by
 * --timeout), endReplaceSegments; after a failed push, revertReplaceSegments. 0 or 1. */
static int push_finish(httpc *h, const push_opts *o, const char *lin_url, const char *list_url,
                       char **to, size_t nto, const char *entry, bool failed)
{
    char url[PUSH_URL_MAX + 128], msg[1024];
    if (!failed) {
        double deadline = sl_clock_mono_s() + (double)o->timeout_ms / 1000;
        while (!push_staged(h, o, list_url, to, nto) && sl_clock_mono_s() < deadline)
            sl_clock_sleep_ms(300);
    }
    snprintf(url, sizeof url, lin_url, failed ? "revertReplaceSegments" : "endReplaceSegments");
    snprintf(url + strlen(url), sizeof url - strlen(url), "segmentLineageEntryId=%s", entry);
    json_t *reply = NULL;
    int r = push_call(h, o, "POST", url, NULL, &reply, msg, sizeof msg);
    json_decref(reply);
    if (r) {
        fprintf(stderr,
                "sluice push: %s of lineage entry %s: %s (readers still see the old segments; "
                "run the same push again)\n",
                failed ? "revertReplaceSegments" : "endReplaceSegments", entry, msg);
        return 1;
    }
    if (failed)
        fprintf(stderr, "sluice push: a push failed: lineage entry %s reverted, nothing replaced\n",
                entry);
    else
        printf("replaced: lineage entry %s COMPLETED\n", entry);
    return 0;
}

static int push_main(int argc, char **argv, const auth_cli *cred)
{
    push_opts o = {
        .attempts = 3, .retry_ms = 1000, .timeout_ms = 300000, .parallel = 1, .cred = cred};
    static const struct option longopts[] = {{"controller", required_argument, NULL, 'c'},
                                             {"table", required_argument, NULL, 't'},
                                             {"type", required_argument, NULL, 'y'},
                                             {"mode", required_argument, NULL, 'm'},
                                             {"if-match", required_argument, NULL, 'i'},
                                             {"attempts", required_argument, NULL, 'a'},
                                             {"retry-interval", required_argument, NULL, 'r'},
                                             {"timeout", required_argument, NULL, 'T'},
                                             {"replace", required_argument, NULL, 'R'},
                                             {"parallel", required_argument, NULL, 'P'},
                                             {"replace-time-range", required_argument, NULL, 'G'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        char *end = NULL;
        double v;
        switch (ch) {
        case 'c':
            o.controller = optarg;
            break;
        case 't':
            o.table = optarg;
            break;
        case 'y':
            if (strcasecmp(optarg, "OFFLINE") && strcasecmp(optarg, "REALTIME")) {
                fprintf(stderr, "sluice push: --type: OFFLINE or REALTIME\n");
                return 2;
            }
            o.type = optarg;
            break;
        case 'm':
            if (!strcasecmp(optarg, "tar") || !strcasecmp(optarg, "segment"))
                o.mode = PUSH_TAR;
            else if (!strcasecmp(optarg, "uri"))
                o.mode = PUSH_URI;
            else if (!strcasecmp(optarg, "metadata"))
                o.mode = PUSH_METADATA;
            else {
                fprintf(stderr, "sluice push: --mode: tar, uri or metadata\n");
                return 2;
            }
            break;
        case 'i':
            o.if_match = optarg;
            break;
        case 'a':
            o.attempts = strtol(optarg, &end, 10);
            if (*end || o.attempts < 1 || o.attempts > 1000) {
                fprintf(stderr, "sluice push: --attempts: 1 to 1000\n");
                return 2;
            }
            break;
        case 'r':
        case 'T':
            v = strtod(optarg, &end);
            if (*end || !(v >= 0) || v > 86400) {
                fprintf(stderr, "sluice push: --%s: seconds from 0 to 86400\n",
                        ch == 'r' ? "retry-interval" : "timeout");
                return 2;
            }
            *(ch == 'r' ? &o.retry_ms : &o.timeout_ms) = (long)(v * 1000);
            break;
        case 'R':
            o.replace = optarg;
            break;
        case 'P':
            o.parallel = strtol(optarg, &end, 10);
            if (*end || o.parallel < 1 || o.parallel > 64) {
                fprintf(stderr, "sluice push: --parallel: 1 to 64\n");
                return 2;
            }
            break;
        case 'G': {
            char *comma = NULL;
            o.range_from = strtoll(optarg, &comma, 10);
            o.range_to = comma && *comma == ',' ? strtoll(comma + 1, &end, 10) : 0;
            if (!comma || *comma != ',' || comma == optarg || *end || end == comma + 1 ||
                o.range_from > o.range_to) {
                fprintf(stderr, "sluice push: --replace-time-range: FROM,TO (integers, FROM <= TO, "
                                "in the time column's unit)\n");
                return 2;
            }
            o.has_range = true;
            break;
        }
        case 'h':
            fputs(push_usage, stdout);
            return 0;
        default:
            fputs(push_usage, stderr);
            return 2;
        }
    }
    if (!o.controller || !o.table || optind >= argc) {
        fprintf(stderr, "sluice push: --controller, --table and a FILE, DIR or URI are needed\n%s",
                push_usage);
        return 2;
    }
    if (o.replace && o.has_range) {
        fprintf(stderr, "sluice push: --replace and --replace-time-range: one or the other\n");
        return 2;
    }
    if (!segname_valid_table(o.table)) {
        fprintf(stderr, "sluice push: --table: not a table name\n");
        return 2;
    }
    push_list l = {0};
    int rc = 0;
    for (int i = optind; i < argc && rc == 0; i++) {
        struct stat st;
        if (push_is_uri(argv[i])) {
            if (o.mode == PUSH_TAR && strncasecmp(argv[i], "file://", 7) != 0) {
                fprintf(stderr,
                        "sluice push: %s: tar mode sends a local file (--mode uri sends "
                        "a URI)\n",
                        argv[i]);
                rc = 2;
            } else {
                push_list_add(&l, o.mode == PUSH_TAR ? argv[i] + 7 : argv[i]);
            }
        } else if (strstr(argv[i], "://")) {
            fprintf(stderr,
                    "sluice push: %s: no fetcher for that scheme (file, http, https, webhdfs, "
                    "swebhdfs)\n",
                    argv[i]);
            rc = 2;
        } else if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "sluice push: %s: %s\n", argv[i], strerror(errno));
            rc = 2;
        } else if (S_ISDIR(st.st_mode)) {
            size_t from = l.n;
            if (push_walk(argv[i], &l)) rc = 2;
            if (l.n > from) qsort(l.item + from, l.n - from, sizeof *l.item, push_cmp);
        } else {
            push_list_add(&l, argv[i]);
        }
    }
    /* uri and metadata modes send what the controller can open: an absolute file URI */
    for (size_t i = 0; rc == 0 && o.mode != PUSH_TAR && i < l.n; i++) {
        if (push_is_uri(l.item[i])) continue;
        char *abs = realpath(l.item[i], NULL), *u = NULL;
        if (!abs || asprintf(&u, "file://%s", abs) < 0) {
            fprintf(stderr, "sluice push: %s: %s\n", l.item[i], strerror(errno));
            rc = 2;
        } else {
            free(l.item[i]);
            l.item[i] = u;
        }
        free(abs);
    }
    if (rc == 0 && l.n == 0) {
        fprintf(stderr, "sluice push: no segment files (*.seg) to push\n");
        rc = 2;
    }
    char url[PUSH_URL_MAX];
    size_t cl = strlen(o.controller);
    while (cl && o.controller[cl - 1] == '/')
        cl--;
    if (rc == 0 &&
        snprintf(url, sizeof url, "%.*s/v2/segments?tableName=%s%s%s", (int)cl, o.controller,
                 o.table, o.type ? "&tableType=" : "", o.type ? o.type : "") >= (int)sizeof url) {
        fprintf(stderr, "sluice push: --controller: URL too long\n");
        rc = 2;
    }
    bool tty = isatty(STDERR_FILENO);
    size_t failed = 0;
    httpc *h = rc == 0 ? httpc_new() : NULL;
    if (h) httpc_set_redirects(h, 5); /* a follower's 307 to the leader */
    if (h) auth_cli_apply(o.cred, h);
    bool replacing = o.replace || o.has_range;
    char **to = NULL, entry[64] = "", list_url[PUSH_URL_MAX], lin_url[PUSH_URL_MAX];
    if (h && replacing) {
        /* the listing of the half the push names; the lineage routes take the type as Pinot's */
        size_t tn = strlen(o.table);
        bool suffixed = (tn > 8 && !strcmp(o.table + tn - 8, "_OFFLINE")) ||
                        (tn > 9 && !strcmp(o.table + tn - 9, "_REALTIME"));
        snprintf(list_url, sizeof list_url, "%.*s/tables/%s%s/segments", (int)cl, o.controller,
                 o.table, o.type && !suffixed && !strcasecmp(o.type, "OFFLINE") ? "_OFFLINE" : "");
        snprintf(lin_url, sizeof lin_url, "%.*s/segments/%s/%%s?%s%s%s", (int)cl, o.controller,
                 o.table, o.type ? "type=" : "", o.type ? o.type : "", o.type ? "&" : "");
        rc = push_start(h, &o, &l, list_url, lin_url, &to, entry);
        if (rc) {
            httpc_free(h);
            h = NULL;
        }
    }
    double t0 = sl_clock_mono_s();
    push_run run = {.o = &o, .l = &l, .url = url, .tty = tty};
    pthread_mutex_init(&run.mu, NULL);
    if (h) {
        /* --parallel N: N requests in flight, each thread with its own connection */
        size_t nt = (size_t)o.parallel < l.n ? (size_t)o.parallel : l.n;
        pthread_t *th = sl_xcalloc(nt ? nt : 1, sizeof *th);
        size_t started = 0;
        for (; started + 1 < nt; started++)
            if (pthread_create(&th[started], NULL, push_worker, &run) != 0) break;
        push_worker(&run); /* this thread is one of them */
        for (size_t i = 0; i < started; i++)
            pthread_join(th[i], NULL);
        free(th);
        failed = run.failed;
    }
    pthread_mutex_destroy(&run.mu);
    if (h && tty)
        fprintf(stderr, "%zu of %zu segments pushed in %.1f s\n", l.n - failed, l.n,
                sl_clock_mono_s() - t0);
    if (h && replacing) {
        int r = push_finish(h, &o, lin_url, list_url, to, l.n, entry, failed > 0);
        if (r && !failed) rc = r;
    }
    for (size_t i = 0; to && i < l.n; i++)
        free(to[i]);
    free(to);
    httpc_free(h);
    for (size_t i = 0; i < l.n; i++)
        free(l.item[i]);
    free(l.item);
    return rc ? rc : failed ? 1 : 0;
}

int cmd_push_main(int argc, char **argv)
{
    return auth_cli_main(argc, argv, "sluice push", push_main);
}
