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
#include "common/clock.h"
#include "common/httpc.h"
#include "common/sl_err.h"
#include "common/xalloc.h"
#include "segment/segname.h"
#include "src/cmds.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
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
    "                   [--retry-interval SECONDS] [--timeout SECONDS] FILE|DIR|URI ...\n"
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
    "Prints one line per pushed segment on stdout: pushed <segment> crc=<crc> rows=<rows>\n"
    "[refreshed]. Exit 0 when every segment was pushed, 1 when one failed, 2 on usage.\n";

typedef enum push_mode { PUSH_TAR = 0, PUSH_URI, PUSH_METADATA } push_mode;

typedef struct push_opts {
    const char *controller, *table, *type;
    push_mode mode;
    const char *if_match;
    long attempts, retry_ms, timeout_ms;
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
           strncasecmp(s, "https://", 8) == 0 || strncasecmp(s, "webhdfs://", 10) == 0;
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
    int out;
    if (rc == SL_ENOENT || rc == SL_EIO) { /* the local file */
        snprintf(msg, msglen, "%s", resp.error);
        out = 1;
    } else if (rc) {
        snprintf(msg, msglen, "%s", resp.error[0] ? resp.error : sluice_strerror(rc));
        out = 2;
    } else {
        json_t *j = resp.body ? json_loadb(resp.body, resp.len, 0, NULL) : NULL;
        const char *e = json_string_value(json_object_get(j, "error"));
        if (resp.status == 200 && json_is_object(j)) {
            *reply = j;
            j = NULL;
            out = 0;
        } else {
            snprintf(msg, msglen, "HTTP %ld: %s", resp.status,
                     e           ? e
                     : resp.body ? resp.body
                                 : "no reply body");
            size_t n = strlen(msg);
            while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
                msg[--n] = '\0';
            out = resp.status >= 500 || resp.status == 409 ? 2 : 1;
        }
        json_decref(j);
    }
    httpc_resp_free(&resp);
    return out;
}

int cmd_push_main(int argc, char **argv)
{
    push_opts o = {.attempts = 3, .retry_ms = 1000, .timeout_ms = 300000};
    static const struct option longopts[] = {{"controller", required_argument, NULL, 'c'},
                                             {"table", required_argument, NULL, 't'},
                                             {"type", required_argument, NULL, 'y'},
                                             {"mode", required_argument, NULL, 'm'},
                                             {"if-match", required_argument, NULL, 'i'},
                                             {"attempts", required_argument, NULL, 'a'},
                                             {"retry-interval", required_argument, NULL, 'r'},
                                             {"timeout", required_argument, NULL, 'T'},
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
    double t0 = sl_clock_mono_s();
    for (size_t i = 0; h && i < l.n; i++) {
        char msg[1024] = "";
        json_t *reply = NULL;
        int r = 2;
        for (long a = 0; a < o.attempts && r == 2; a++) {
            if (a) {
                if (tty) fprintf(stderr, "\r\033[K");
                fprintf(stderr, "sluice push: %s: %s; retrying (%ld of %ld)\n", l.item[i], msg,
                        a + 1, o.attempts);
                sl_clock_sleep_ms(o.retry_ms);
            }
            if (tty) fprintf(stderr, "\r\033[K[%zu/%zu] %s", i + 1, l.n, l.item[i]);
            r = push_one(h, &o, l.item[i], url, msg, sizeof msg, &reply);
        }
        if (tty) fprintf(stderr, "\r\033[K");
        if (r == 0) {
            printf("pushed %s crc=%" JSON_INTEGER_FORMAT " rows=%" JSON_INTEGER_FORMAT "%s\n",
                   json_string_value(json_object_get(reply, "segment")),
                   json_integer_value(json_object_get(reply, "crc")),
                   json_integer_value(json_object_get(reply, "numRows")),
                   json_is_true(json_object_get(reply, "refreshed")) ? " refreshed" : "");
            fflush(stdout);
        } else {
            fprintf(stderr, "sluice push: %s: %s\n", l.item[i], msg);
            failed++;
        }
        json_decref(reply);
    }
    if (h && tty)
        fprintf(stderr, "%zu of %zu segments pushed in %.1f s\n", l.n - failed, l.n,
                sl_clock_mono_s() - t0);
    httpc_free(h);
    for (size_t i = 0; i < l.n; i++)
        free(l.item[i]);
    free(l.item);
    return rc ? rc : failed ? 1 : 0;
}
