/* Segment downloads (see segfetch.h). */
#include "completion/segfetch.h"
#include "common/clock.h"
#include "common/fsutil.h"
#include "common/sl_err.h"
#include "segment/seg_reader.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define SEGFETCH_MAX_BYTES (4ull << 30) /* no segment is larger (seg_format.h) */
#define SEGFETCH_TIMEOUT_MS 60000
#define SEGFETCH_REDIRECTS 4

/* The class of a local file failure (errno e): the table directory exists, so a missing one is
 * an I/O error here, not a missing segment. */
static int segfetch__file_err(int e)
{
    int rc = fsutil_errno_err(e);
    return rc == SL_ENOENT ? SL_EIO : rc;
}

int segfetch_file_crc(const char *path, uint32_t *crc)
{
    int err = 0;
    char msg[256];
    seg_reader *sr = seg_reader_open(path, &err, msg, sizeof msg);
    if (!sr) return err ? err : SL_ECORRUPT;
    *crc = seg_reader_crc(sr);
    seg_reader_close(sr);
    return 0;
}

/* A file:// URL's absolute path (after an optional "localhost"), or NULL: a local fetch
 * takes no escapes, queries or "." / ".." components, as deepstore.uri does. */
static const char *segfetch__file_path(const char *url)
{
    if (strncasecmp(url, "file://", 7) != 0) return NULL;
    const char *p = url + 7;
    if (strncmp(p, "localhost/", 10) == 0) p += 9;
    if (p[0] != '/' || strpbrk(p, "%?#")) return NULL;
    for (const char *q = p; *q;) {
        q += strspn(q, "/");
        size_t len = strcspn(q, "/");
        if ((len == 1 && q[0] == '.') || (len == 2 && q[0] == '.' && q[1] == '.')) return NULL;
        q += len;
    }
    return p;
}

/* Copy the local file at path into fd (at most SEGFETCH_MAX_BYTES). */
static int segfetch__copy_file(const char *path, int fd, char *why, size_t whylen)
{
    int in = open(path, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        snprintf(why, whylen, "%s: %s", path, strerror(errno));
        return errno == ENOENT ? SL_ENOENT : SL_EIO;
    }
    char buf[1 << 16];
    uint64_t total = 0;
    int rc = 0;
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            rc = SL_EIO;
            snprintf(why, whylen, "read %s: %s", path, strerror(errno));
            break;
        }
        if (n == 0) break;
        if ((total += (uint64_t)n) > SEGFETCH_MAX_BYTES) {
            rc = SL_ELIMIT;
            snprintf(why, whylen, "%s: larger than any segment", path);
            break;
        }
        int e = 0;
        if ((rc = fsutil_write_fd(fd, buf, (size_t)n, &e)) != 0) {
            snprintf(why, whylen, "write: %s", strerror(e));
            break;
        }
    }
    close(in);
    return rc;
}

int segfetch_webhdfs_rest(const char *url, const char *op, char *out, size_t cap)
{
    bool tls = strncasecmp(url, "swebhdfs://", 11) == 0;
    const char *p = url + (tls ? 11 : 10), *slash = strchr(p, '/'), *at = strchr(p, '@');
    if (!slash || slash == p || strpbrk(slash, "?#")) return SL_EINVAL;
    if (at && at > slash) at = NULL;
    const char *host = at ? at + 1 : p;
    if (host == slash) return SL_EINVAL;
    /* the user becomes a query parameter and the path the request's: only plain user names
     * (no '&doas=' smuggled in, no password) and paths of unreserved characters, '/' and
     * %XX escapes pass; the host is libcurl's to check */
    for (const char *q = p; at && q < at; q++)
        if (!isalnum((unsigned char)*q) && !strchr("._-", *q)) return SL_EINVAL;
    for (const char *q = slash; *q; q++) {
        if (*q == '%' && isxdigit((unsigned char)q[1]) && isxdigit((unsigned char)q[2])) {
            q += 2;
            continue;
        }
        if (!isalnum((unsigned char)*q) && !strchr("/._-~", *q)) return SL_EINVAL;
    }
    int n = at ? snprintf(out, cap, "%s://%.*s/webhdfs/v1%s?op=%s&user.name=%.*s",
                          tls ? "https" : "http", (int)(slash - host), host, slash, op,
                          (int)(at - p), p)
               : snprintf(out, cap, "%s://%.*s/webhdfs/v1%s?op=%s", tls ? "https" : "http",
                          (int)(slash - host), host, slash, op);
    return n > 0 && (size_t)n < cap ? 0 : SL_EINVAL;
}

int segfetch_get_fd(httpc *h, const char *url, int fd, char *why, size_t whylen)
{
    if (strncasecmp(url, "file:", 5) == 0) {
        const char *path = segfetch__file_path(url);
        if (!path) {
            snprintf(why, whylen, "a file URI needs an absolute path without escapes or ..");
            return SL_EINVAL;
        }
        int rc = segfetch__copy_file(path, fd, why, whylen);
        return rc ? rc : fsutil_fsync_fd(fd, "download", why, whylen);
    }
    char hdfs[2048];
    unsigned redirects = httpc_redirects(h);
    if (strncasecmp(url, "webhdfs://", 10) == 0 || strncasecmp(url, "swebhdfs://", 11) == 0) {
        if (segfetch_webhdfs_rest(url, "OPEN", hdfs, sizeof hdfs)) {
            snprintf(why, whylen,
                     "a WebHDFS URI is webhdfs://[user@]host:port/absolute/path (a user "
                     "of [A-Za-z0-9._-], a path of [A-Za-z0-9/._~-] and %%XX escapes)");
            return SL_EINVAL;
        }
        url = hdfs;
    }
    /* WebHDFS's namenode redirects each read to a datanode, object stores and CDNs redirect
     * too: a fetch follows a few whatever h does otherwise */
    if (redirects < SEGFETCH_REDIRECTS) httpc_set_redirects(h, SEGFETCH_REDIRECTS);
    httpc_resp resp;
    httpc_resp_init(&resp, 4096);
    int rc = httpc_get_to_fd(h, url, fd, SEGFETCH_MAX_BYTES, SEGFETCH_TIMEOUT_MS, &resp);
    httpc_set_redirects(h, redirects);
    if (rc) snprintf(why, whylen, "%s", resp.error);
    if (rc == 0 && resp.status != 200) {
        rc = SL_ENOENT;
        snprintf(why, whylen, "HTTP status %ld", resp.status);
    }
    if (rc == 0) rc = fsutil_fsync_fd(fd, "download", why, whylen);
    httpc_resp_free(&resp);
    return rc;
}

int segfetch_url(httpc *h, engine_table *t, const char *segment, const char *url,
                 uint32_t expect_crc, const char *as, diskstate *disk, sl_log_limit *lim)
{
    /* a download file of its own: two threads may fetch the same segment at once (a KEEP
     * healing a divergence while the reconcile finds the file missing), and one must never
     * truncate the file the other is verifying through a mapping (SIGBUS) */
    static atomic_uint_fast64_t seq;
    char tmp[PATH_MAX], suffix[40], why[HTTPC_ERROR_MAX + 64] = "";
    snprintf(suffix, sizeof suffix, ".download.%" PRIuFAST64, atomic_fetch_add(&seq, 1));
    if (!engine_seg_path(t, segment, suffix, tmp)) return SL_EINVAL;
    int rc;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        int e = errno;
        rc = segfetch__file_err(e);
        snprintf(why, sizeof why, "%.200s: create: %s", tmp, strerror(e));
    } else {
        rc = segfetch_get_fd(h, url, fd, why, sizeof why);
        close(fd);
    }
    uint32_t crc = 0;
    if (rc == 0) rc = segfetch_file_crc(tmp, &crc);
    if (rc == 0 && crc != expect_crc) {
        rc = SL_ECORRUPT;
        snprintf(why, sizeof why, "crc %" PRIu32 " where %" PRIu32 " was committed", crc,
                 expect_crc);
    }
    if (rc == 0 && !*as) {
        rc = engine_publish(t, segment, tmp);
    } else if (rc == 0) {
        char to[PATH_MAX];
        if (!engine_seg_path(t, segment, as, to)) {
            rc = SL_EINVAL;
        } else if (rename(tmp, to) != 0) {
            rc = segfetch__file_err(errno);
            snprintf(why, sizeof why, "%.200s: rename: %s", to, strerror(errno));
        } else {
            rc = fsutil_fsync_parent_dir(to, why, sizeof why);
        }
    }
    if (rc) {
        unlink(tmp);
        if (sl_err_is_disk(rc))
            diskstate_fail(disk, "download", segment, rc, why, sl_clock_wall_ms());
        else /* one line per kind and interval: a retry loop over sources stays quiet */
            SL_LOG_LIMITED(lim, "download.failed", SL_LOG_WARN, "replica",
                           "download failed segment=%s url=%s err=\"%s\" why=\"%s\"", segment,
                           url, sluice_strerror(rc), why);
    } else {
        diskstate_ok(disk, "download", sl_clock_wall_ms());
        SL_INFO("replica", "downloaded segment=%s url=%s crc=%" PRIu32, segment, url, crc);
    }
    return rc;
}
