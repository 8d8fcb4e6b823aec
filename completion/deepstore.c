/* Deep store on WebHDFS (see deepstore.h). */
#include "completion/deepstore.h"
#include "common/httpc.h"
#include "common/log.h"
#include "common/sl_err.h"
#include "common/xalloc.h"
#include "completion/segfetch.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEEPSTORE_TIMEOUT_MS 120000L
#define DEEPSTORE_URL_MAX 2048

struct deepstore {
    char *uri; /* without a trailing '/' */
    bool http; /* http(s)://: PUT, GET and DELETE of each file's URL; else WebHDFS */
    char *ca_file, *netrc_file;
};

static bool deepstore__is_http(const char *uri)
{
    return strncasecmp(uri, "http://", 7) == 0 || strncasecmp(uri, "https://", 8) == 0;
}

int deepstore_is_uri(const char *uri)
{
    return uri && (strncasecmp(uri, "webhdfs://", 10) == 0 ||
                   strncasecmp(uri, "swebhdfs://", 11) == 0 || deepstore__is_http(uri));
}

static char *deepstore__dup(const char *s)
{
    return s ? sl_xstrdup(s) : NULL;
}

int deepstore_open(const char *uri, const char *ca_file, const char *netrc_file, deepstore **out,
                   char *err, size_t errlen)
{
    char probe[DEEPSTORE_URL_MAX];
    bool http = uri && deepstore__is_http(uri);
    const char *host = http ? strstr(uri, "://") + 3 : NULL;
    /* an HTTP one: a host and a path, no query, fragment or credentials (the netrc has them) */
    if (http ? (!*host || *host == '/' || strpbrk(uri, "?#@ ") || !strchr(host, '/'))
             : (!deepstore_is_uri(uri) ||
                segfetch_webhdfs_rest(uri, "GETFILESTATUS", probe, sizeof probe)))
        return sl_fail(err, errlen, SL_EINVAL,
                       "deepstore.uri: %s: not webhdfs://[user@]host:port/absolute/path nor "
                       "http(s)://host[:port]/path (no query, fragment or credentials: "
                       "fetcher.netrc.file has those)",
                       uri ? uri : "");
    deepstore *d = sl_xcalloc(1, sizeof *d);
    d->uri = sl_xstrdup(uri);
    d->http = http;
    size_t n = strlen(d->uri);
    while (n && d->uri[n - 1] == '/')
        d->uri[--n] = '\0';
    d->ca_file = deepstore__dup(ca_file);
    d->netrc_file = deepstore__dup(netrc_file);
    *out = d;
    return 0;
}

void deepstore_close(deepstore *d)
{
    if (!d) return;
    free(d->uri);
    free(d->ca_file);
    free(d->netrc_file);
    free(d);
}

/* The URI of table/segment's file into file (DEEPSTORE_URL_MAX bytes), and a
 * client set up for the store (caller frees); NULL when the URI would not fit. */
static httpc *deepstore__file(const deepstore *d, const char *table, const char *segment,
                              char *file)
{
    int n = snprintf(file, DEEPSTORE_URL_MAX, "%s/%s/%s.seg", d->uri, table, segment);
    if (n < 0 || n >= DEEPSTORE_URL_MAX) return NULL;
    httpc *h = httpc_new();
    httpc_set_fetch_auth(h, d->ca_file, d->netrc_file);
    return h;
}

/* The REST URL of op on table/segment's file, and the client (deepstore__file). */
static httpc *deepstore__call(const deepstore *d, const char *table, const char *segment,
                              const char *op, char *url, size_t cap)
{
    char file[DEEPSTORE_URL_MAX];
    httpc *h = deepstore__file(d, table, segment, file);
    if (h && segfetch_webhdfs_rest(file, op, url, cap)) {
        httpc_free(h);
        return NULL;
    }
    return h;
}

/* An HTTP deep store's put: a PUT of the file to its URL (WebDAV; nginx's dav_methods PUT). */
static int deepstore__put_http(deepstore *d, const char *table, const char *segment,
                               const char *path, char *err, size_t errlen)
{
    char file[DEEPSTORE_URL_MAX];
    httpc *h = deepstore__file(d, table, segment, file);
    if (!h)
        return sl_fail(err, errlen, SL_EINVAL, "deep store path of %s/%s too long", table, segment);
    httpc_resp r;
    httpc_resp_init(&r, 0);
    int rc = httpc_put_file(h, file, path, DEEPSTORE_TIMEOUT_MS, &r);
    if (rc == SL_ENOENT || rc == SL_EIO)
        rc = sl_fail(err, errlen, SL_EIO, "%s: %s", path, r.error);
    else if (rc || (r.status != 200 && r.status != 201 && r.status != 204))
        rc = sl_fail(err, errlen, SL_ETRANSIENT, "deep store PUT %s: %s (HTTP %ld)", file,
                     rc ? r.error : "refused", r.status);
    httpc_resp_free(&r);
    httpc_free(h);
    if (rc == 0) SL_INFO("deepstore", "stored table=%s segment=%s", table, segment);
    return rc;
}

int deepstore_put(deepstore *d, const char *table, const char *segment, const char *path, char *err,
                  size_t errlen)
{
    if (d->http) return deepstore__put_http(d, table, segment, path, err, errlen);
    char url[DEEPSTORE_URL_MAX + 32];
    httpc *h = deepstore__call(d, table, segment, "CREATE&overwrite=true", url, sizeof url);
    if (!h)
        return sl_fail(err, errlen, SL_EINVAL, "deep store path of %s/%s too long", table, segment);
    /* two steps, as HDFS wants: no bytes to the namenode, which answers where they go */
    httpc_resp r;
    httpc_resp_init(&r, 0);
    int rc = httpc_request(h, "PUT", url, NULL, NULL, 0, DEEPSTORE_TIMEOUT_MS, &r);
    char loc[HTTPC_LOCATION_MAX];
    snprintf(loc, sizeof loc, "%s", r.location);
    if (rc == 0 && r.status == 307 && loc[0]) {
        httpc_resp_free(&r);
        rc = httpc_put_file(h, loc, path, DEEPSTORE_TIMEOUT_MS, &r);
        if (rc == SL_ENOENT || rc == SL_EIO) {
            rc = sl_fail(err, errlen, SL_EIO, "%s: %s", path, r.error);
        } else if (rc || (r.status != 201 && r.status != 200)) {
            rc = sl_fail(err, errlen, SL_ETRANSIENT, "deep store CREATE %s/%s at the datanode: %s",
                         table, segment, rc ? r.error : "unexpected status");
        }
    } else {
        rc = sl_fail(err, errlen, SL_ETRANSIENT,
                     "deep store CREATE %s/%s: %s (HTTP %ld, want a 307 to a datanode)", table,
                     segment, rc ? r.error : "no redirect", r.status);
    }
    httpc_resp_free(&r);
    httpc_free(h);
    if (rc == 0) SL_INFO("deepstore", "stored table=%s segment=%s", table, segment);
    return rc;
}

int deepstore_get(deepstore *d, const char *table, const char *segment, int fd, char *err,
                  size_t errlen)
{
    char file[DEEPSTORE_URL_MAX];
    httpc *h = deepstore__file(d, table, segment, file);
    if (!h)
        return sl_fail(err, errlen, SL_EINVAL, "deep store path of %s/%s too long", table, segment);
    int rc = segfetch_get_fd(h, file, fd, err, errlen);
    httpc_free(h);
    return rc;
}

int deepstore_remove(deepstore *d, const char *table, const char *segment, char *err, size_t errlen)
{
    char url[DEEPSTORE_URL_MAX + 32];
    httpc *h = d->http ? deepstore__file(d, table, segment, url)
                       : deepstore__call(d, table, segment, "DELETE", url, sizeof url);
    if (!h)
        return sl_fail(err, errlen, SL_EINVAL, "deep store path of %s/%s too long", table, segment);
    httpc_resp r;
    httpc_resp_init(&r, 0);
    int rc = httpc_request(h, "DELETE", url, NULL, NULL, 0, DEEPSTORE_TIMEOUT_MS, &r);
    /* WebHDFS's {"boolean":false} (200) and HTTP's 404 are a file that was not there: removed
     * either way */
    if (rc || (r.status != 200 && r.status != 202 && r.status != 204 && r.status != 404))
        rc = sl_fail(err, errlen, SL_ETRANSIENT, "deep store DELETE %s/%s: %s (HTTP %ld)", table,
                     segment, rc ? r.error : "refused", r.status);
    httpc_resp_free(&r);
    httpc_free(h);
    return rc;
}
