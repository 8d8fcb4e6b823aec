/* Segment store (see segstore.h for the layout and the locking rules).
 *
 * Invariants:
 * - No path is built from a name that has not passed segname_valid_table / segname_parse with
 *   the segment's table equal to the table, so every path stays inside <root>/<table>/.
 * - `<segment>.seg` is only ever created by link(2) or renameat2(RENAME_NOREPLACE) from a
 *   pending copy whose name and trailer both say the CRC being committed; neither can replace an
 *   existing file, so once committed, the bytes at that name change only by an explicit
 *   unpromote (known-failed ZooKeeper commit) or a quarantine (the scrub found them bad; the
 *   copy promoted after it has the committed CRC), never by a second upload (Pinot #14786).
 * - A pending copy exists only after fsync + full verification + a matching embedded name, so
 *   promote needs just the 4-byte trailer to check it.
 * - promote runs the directory fsync before returning: the ZooKeeper commit that follows it
 *   (DONE) must never point at a file a crash could lose (DESIGN §8 invariant 6). */
#include "completion/segstore.h"
#include "completion/deepstore.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/sl_err.h"
#include "common/xalloc.h"
#include "segment/seg_reader.h"
#include "segment/segname.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

/* Room left after the root for "/<table 128>/<segment 191>.seg.pending.<8 hex>" and NUL. */
#define SS__ROOT_MAX (PATH_MAX - 512)
#define SS__UP ".seg.up."
#define SS__PENDING ".seg.pending."
#define SS__PUSH "_push" /* the placeholder name of a push's temporary (gc removes it) */

struct segstore {
    char *root;
    uint64_t max_upload;
    struct deepstore *deep; /* segstore_opts.deep: borrowed, or NULL */
    pthread_mutex_t lock; /* promote / unpromote / quarantine / gc */
};

struct segstore_upload {
    segstore *s;
    int fd;
    bool failed; /* a write failed or hit the cap: the file is not what the client sent */
    int write_rc; /* the failed write's class (SL_ENOSPACE, SL_EDISK, SL_EIO), or 0 */
    bool expect;  /* segstore_upload_expect_crc: only a file with expect_crc is published */
    bool checked; /* segstore_upload_check passed: info holds what the file says */
    segstore_info info;
    uint32_t expect_crc;
    uint64_t size;
    char table[SL_IDENT_MAX + 1];
    char segment[SL_SEGNAME_MAX];
    char tmp[PATH_MAX];
};

/* Names are checked before anything else; the rejected text is not echoed (it may hold
 * control bytes or be very long). */
static int ss__check(const char *table, const char *segment, char *err, size_t errlen)
{
    segname n;
    if (!table || !segname_valid_table(table))
        return sl_fail(err, errlen, SL_EINVAL, "invalid table name");
    if (!segment || !segname_valid_any(segment))
        return sl_fail(err, errlen, SL_EINVAL, "invalid segment name");
    /* a realtime name says its table; an uploaded one is the table's by where it is put */
    if (segname_parse(segment, &n) == 0 && strcmp(n.table, table) != 0)
        return sl_fail(err, errlen, SL_EINVAL, "segment %s does not belong to table %s", segment,
                       table);
    return 0;
}

/* "<root>/<table>/<segment><suffix>"; cannot overflow for checked names (SS__ROOT_MAX). */
static void ss__path(const segstore *s, const char *table, const char *segment,
                     const char *suffix, char *buf)
{
    snprintf(buf, PATH_MAX, "%s/%s/%s%s", s->root, table, segment, suffix);
}

static void ss__pending_path(const segstore *s, const char *table, const char *segment,
                             uint32_t crc, char *buf)
{
    char suffix[32];
    snprintf(suffix, sizeof suffix, SS__PENDING "%08x", (unsigned)crc);
    ss__path(s, table, segment, suffix, buf);
}

/* Give `from`'s file the name `to` unless `to` exists. link(2) keeps `from` (*moved = false);
 * where the file system has no hard links, renameat2(RENAME_NOREPLACE) (glibc >= 2.28) moves
 * it (*moved = true). Returns 0, SL_EEXIST, SL_ENOENT or SL_EIO. Never replaces `to`. */
static int ss__name_noreplace(const char *from, const char *to, bool *moved, char *err,
                              size_t errlen)
{
    *moved = false;
    if (link(from, to) == 0) return 0;
    int e = errno;
    if (e == EEXIST) return SL_EEXIST;
    if (e == ENOENT) return sl_fail(err, errlen, SL_ENOENT, "%s: %s", from, strerror(e));
    if (e != EPERM && e != EOPNOTSUPP && e != ENOSYS && e != EMLINK && e != EXDEV)
        return sl_fail(err, errlen, SL_EIO, "link %s: %s", to, strerror(e));
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0) {
        *moved = true;
        return 0;
    }
    if (errno == EEXIST) return SL_EEXIST;
    if (errno == EINVAL || errno == ENOSYS)
        return sl_fail(err, errlen, SL_EIO,
                       "%s: file system supports neither link(2) nor RENAME_NOREPLACE; the "
                       "store cannot commit without overwrite protection",
                       to);
    return sl_fail(err, errlen, SL_EIO, "rename %s: %s", to, strerror(errno));
}

int segstore_open(const char *uri, const segstore_opts *opts, segstore **out, char *err,
                  size_t errlen)
{
    *out = NULL;
    if (!uri || !*uri) return sl_fail(err, errlen, SL_EINVAL, "deepstore.uri/data.dir is empty");
    const char *path = uri, *sep = strstr(uri, "://");
    if (sep && !memchr(uri, '/', (size_t)(sep - uri))) { /* "scheme://": a URI, not a path */
        int n = (int)(sep - uri);
        if (n != 4 || strncasecmp(uri, "file", 4) != 0)
            return sl_fail(err, errlen, SL_EINVAL,
                           "deepstore.uri: scheme '%.*s' is not supported (use "
                           "file:///absolute/path, a local directory, or webhdfs://)",
                           n, uri);
        path = sep + 3;
        if (strncmp(path, "localhost/", 10) == 0) path += 9;
        if (path[0] != '/')
            return sl_fail(err, errlen, SL_EINVAL,
                           "deepstore.uri '%s': needs an absolute path (file:///abs/path)", uri);
        if (strpbrk(path, "%?#"))
            return sl_fail(err, errlen, SL_EINVAL,
                           "deepstore.uri '%s': escapes, queries and fragments are not supported",
                           uri);
        for (const char *p = path; *p;) { /* no "." or ".." components */
            p += strspn(p, "/");
            size_t len = strcspn(p, "/");
            if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
                return sl_fail(err, errlen, SL_EINVAL,
                               "deepstore.uri '%s': '.' and '..' are not allowed", uri);
            p += len;
        }
    }
    if (strlen(path) > SS__ROOT_MAX)
        return sl_fail(err, errlen, SL_EINVAL, "segment store root is too long");
    int rc = fsutil_mkdirs(path, err, errlen);
    if (rc) return rc;
    char *root = realpath(path, NULL);
    if (!root) return sl_fail(err, errlen, SL_EIO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (stat(root, &st) != 0 || !S_ISDIR(st.st_mode) || access(root, W_OK | X_OK) != 0) {
        rc = sl_fail(err, errlen, SL_EIO, "%s: not a writable directory", root);
        goto fail;
    }
    if (strlen(root) > SS__ROOT_MAX) {
        rc = sl_fail(err, errlen, SL_EINVAL, "%s: segment store root is too long", root);
        goto fail;
    }
    segstore *s = sl_xcalloc(1, sizeof *s);
    s->root = root;
    s->deep = opts ? opts->deep : NULL;
    s->max_upload = opts && opts->max_upload_bytes ? opts->max_upload_bytes
                                                   : SEGSTORE_DEFAULT_MAX_UPLOAD;
    pthread_mutex_init(&s->lock, NULL);
    *out = s;
    SL_INFO("segstore", "opened root=%s max_upload=%llu", root,
            (unsigned long long)s->max_upload);
    return 0;
fail:
    free(root);
    return rc;
}

void segstore_close(segstore *s)
{
    if (!s) return;
    pthread_mutex_destroy(&s->lock);
    free(s->root);
    free(s);
}

const char *segstore_root(const segstore *s) { return s->root; }
uint64_t segstore_max_upload(const segstore *s) { return s->max_upload; }

int segstore_upload_begin(segstore *s, const char *table, const char *segment,
                          segstore_upload **out, char *err, size_t errlen)
{
    *out = NULL;
    /* a push's name is only known from the file: its temporary carries a placeholder */
    int rc = ss__check(table, segment ? segment : SS__PUSH, err, errlen);
    if (rc) return rc;
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/%s", s->root, table);
    if (mkdir(dir, 0755) == 0) {
        /* a new table directory must itself survive a crash before files in it can */
        rc = fsutil_fsync_parent_dir(dir, err, errlen);
        if (rc) return rc;
    } else if (errno != EEXIST) {
        int e = errno, rc2 = fsutil_errno_err(e);
        return sl_fail(err, errlen, rc2 == SL_ENOENT ? SL_EIO : rc2, "mkdir %s: %s", dir,
                       strerror(e));
    }
    segstore_upload *u = sl_xcalloc(1, sizeof *u);
    u->s = s;
    u->fd = -1;
    snprintf(u->table, sizeof u->table, "%s", table);
    snprintf(u->segment, sizeof u->segment, "%s", segment ? segment : "");
    int e = EEXIST;
    /* random suffix (not pid/clock): a zombie and the real committer never share a temp */
    for (int attempt = 0; attempt < 16 && u->fd < 0 && e == EEXIST; attempt++) {
        uint64_t rnd = 0;
        if (getrandom(&rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
            e = errno;
            break;
        }
        char suffix[32];
        snprintf(suffix, sizeof suffix, SS__UP "%016llx", (unsigned long long)rnd);
        ss__path(s, table, segment ? segment : SS__PUSH, suffix, u->tmp);
        u->fd = open(u->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (u->fd < 0) e = errno;
    }
    if (u->fd < 0) {
        free(u);
        int rc2 = fsutil_errno_err(e);
        return sl_fail(err, errlen, rc2 == SL_ENOENT ? SL_EIO : rc2,
                       "create upload temporary in %s: %s", dir, strerror(e));
    }
    *out = u;
    return 0;
}

int segstore_upload_write(segstore_upload *u, const void *data, size_t len, char *err,
                          size_t errlen)
{
    if (u->failed) return sl_fail(err, errlen, SL_ESTATE, "upload already failed");
    if (len > u->s->max_upload - u->size) {
        u->failed = true;
        return sl_fail(err, errlen, SL_ELIMIT, "segment %s: upload exceeds %llu bytes", u->segment,
                       (unsigned long long)u->s->max_upload);
    }
    int e = 0, rc = fsutil_write_fd(u->fd, data, len, &e);
    if (rc) {
        u->failed = true;
        u->write_rc = rc;
        return sl_fail(err, errlen, rc, "write %s: %s", u->tmp, strerror(e));
    }
    u->size += len;
    return 0;
}

int segstore_upload_fd(const segstore_upload *u) { return u->fd; }

void segstore_upload_expect_crc(segstore_upload *u, uint32_t crc)
{
    u->expect = true;
    u->expect_crc = crc;
}

/* Whether a file's metadata table `file_table` is store table `table`: the same name, or an
 * OFFLINE table's key `<raw>_OFFLINE` (DESIGN §10) holding a file that names its raw table. */
static bool ss__same_table(const char *file_table, const char *table)
{
    size_t n = strlen(file_table);
    return strcmp(file_table, table) == 0 ||
           (strncmp(file_table, table, n) == 0 && strcmp(table + n, "_OFFLINE") == 0);
}

int segstore_upload_check(segstore_upload *u, segstore_info *info, char *err, size_t errlen)
{
    int rc;
    if (u->checked) goto done;
    if (u->failed) /* a failed write keeps its disk class, so the reply can say 507 */
        return sl_fail(err, errlen, u->write_rc ? u->write_rc : SL_ESTATE,
                       "segment %s: upload had failed", u->segment);
    struct stat st; /* the size, also of what a writer wrote through segstore_upload_fd */
    rc = fsutil_fsync_fd(u->fd, u->tmp, err, errlen);
    if (rc) return rc;
    if (fstat(u->fd, &st) != 0)
        return sl_fail(err, errlen, fsutil_errno_err(errno), "stat %s: %s", u->tmp,
                       strerror(errno));
    u->size = (uint64_t)st.st_size;
    int fd = u->fd;
    u->fd = -1;
    if (close(fd) != 0)
        return sl_fail(err, errlen, fsutil_errno_err(errno), "close %s: %s", u->tmp,
                       strerror(errno));
    /* seg_reader_open is seg_verify_file's full check (structure + CRC), and gives the
     * metadata in the same pass */
    char msg[256] = "unreadable";
    int vrc = 0;
    seg_reader *r = seg_reader_open(u->tmp, &vrc, msg, sizeof msg);
    if (!r)
        return sl_fail(err, errlen, vrc ? vrc : SL_ECORRUPT, "segment %s: rejected upload: %s",
                       u->segment[0] ? u->segment : "push", msg);
    bool named = u->segment[0] != '\0';
    if (!named) { /* a push: the file names itself, within the same whitelist */
        if (!segname_valid_any(seg_reader_name(r))) {
            seg_reader_close(r);
            return sl_fail(err, errlen, SL_EINVAL,
                           "rejected upload: the file's segment name is not 1-255 bytes of "
                           "[A-Za-z0-9._-]");
        }
        snprintf(u->segment, sizeof u->segment, "%s", seg_reader_name(r));
    }
    bool same =
        strcmp(seg_reader_name(r), u->segment) == 0 &&
        /* a consumed segment names its table exactly; a pushed one (a push, or
         * the scrub's restore of one) may name the raw table of `<raw>_OFFLINE` */
        (named && !segname_is_uploaded(u->segment) ? strcmp(seg_reader_table(r), u->table) == 0
                                                   : ss__same_table(seg_reader_table(r), u->table));
    segstore_info *got = &u->info;
    *got = (segstore_info){
        .crc = seg_reader_crc(r), .rows = seg_reader_rows(r), .size = seg_reader_size(r)};
    got->has_time_range = seg_reader_time_range(r, &got->min_time, &got->max_time);
    snprintf(got->segment, sizeof got->segment, "%s", u->segment);
    seg_reader_close(r);
    if (!same)
        return sl_fail(err, errlen, SL_EINVAL,
                       "segment %s: uploaded file's metadata names another segment or table",
                       u->segment);
    if (u->expect && got->crc != u->expect_crc)
        return sl_fail(err, errlen, SL_ECORRUPT, "segment %s: crc %08x where %08x was expected",
                       u->segment, (unsigned)got->crc, (unsigned)u->expect_crc);
    u->checked = true;
done:
    if (info) *info = u->info;
    return 0;
}

int segstore_upload_finish(segstore_upload *u, uint32_t *crc_out, segstore_info *info, char *err,
                           size_t errlen)
{
    char pending[PATH_MAX] = "";
    int rc = segstore_upload_check(u, NULL, err, errlen);
    if (rc) goto fail;
    uint32_t crc = u->info.crc;
    ss__pending_path(u->s, u->table, u->segment, crc, pending);
    if (rename(u->tmp, pending) != 0) {
        int e = errno;
        rc = sl_fail(err, errlen, fsutil_errno_err(e) == SL_ENOENT ? SL_EIO : fsutil_errno_err(e),
                     "rename %s: %s", pending, strerror(e));
        pending[0] = 0;
        goto fail;
    }
    rc = fsutil_fsync_parent_dir(pending, err, errlen);
    if (rc) goto fail;
    SL_INFO("segstore", "upload verified table=%s segment=%s crc=%08x size=%llu", u->table,
            u->segment, (unsigned)crc, (unsigned long long)u->size);
    if (crc_out) *crc_out = crc;
    if (info) *info = u->info;
    free(u);
    return 0;
fail:
    if (!sl_err_is_disk(rc)) /* a full or failing store is logged, rate-limited, by the caller */
        SL_WARN("segstore", "upload failed table=%s segment=%s err=%s", u->table, u->segment,
                sluice_strerror(rc));
    if (pending[0]) unlink(pending);
    segstore_upload_abort(u);
    return rc;
}

void segstore_upload_abort(segstore_upload *u)
{
    if (!u) return;
    if (u->fd >= 0) close(u->fd);
    unlink(u->tmp);
    free(u);
}

/* Whether name is "<prefix><hexlen hex digits>" and returns the prefix length, else 0. */
static size_t ss__suffix(const char *name, const char *mark, size_t hexlen)
{
    size_t n = strlen(name), m = strlen(mark);
    if (n < m + hexlen + 1) return 0;
    const char *h = name + n - hexlen;
    if (strspn(h, "0123456789abcdef") != hexlen || memcmp(h - m, mark, m) != 0) return 0;
    return n - hexlen - m;
}

/* Delete every pending copy of table/segment (lock held). Left-overs are only disk space:
 * gc removes them later, so failures are logged, not returned. */
static void ss__drop_pending(segstore *s, const char *table, const char *segment)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/%s", s->root, table);
    DIR *d = opendir(dir);
    if (!d) return;
    size_t sl = strlen(segment);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (ss__suffix(e->d_name, SS__PENDING, 8) == sl && memcmp(e->d_name, segment, sl) == 0 &&
            unlinkat(dirfd(d), e->d_name, 0) != 0 && errno != ENOENT)
            SL_WARN("segstore", "unlink failed file=%s/%s errno=%d", dir, e->d_name, errno);
    }
    closedir(d);
}

static int ss__promote(segstore *s, const char *table, const char *segment, uint32_t crc,
                       char *location, size_t cap, char *err, size_t errlen, bool mirror);

int segstore_promote(segstore *s, const char *table, const char *segment, uint32_t crc,
                     char *location, size_t cap, char *err, size_t errlen)
{
    return ss__promote(s, table, segment, crc, location, cap, err, errlen, true);
}

/* The committed file of table/segment into the deep store (after a promote or replace, out of
 * the lock: network I/O). 0 without one. */
static int ss__mirror(segstore *s, const char *table, const char *segment, char *err, size_t errlen)
{
    if (!s->deep) return 0;
    char cpath[PATH_MAX];
    ss__path(s, table, segment, ".seg", cpath);
    return deepstore_put(s->deep, table, segment, cpath, err, errlen);
}

static int ss__promote(segstore *s, const char *table, const char *segment, uint32_t crc,
                       char *location, size_t cap, char *err, size_t errlen, bool mirror)
{
    int rc = ss__check(table, segment, err, errlen);
    if (rc) return rc;
    char cpath[PATH_MAX], ppath[PATH_MAX];
    ss__path(s, table, segment, ".seg", cpath);
    ss__pending_path(s, table, segment, crc, ppath);
    if (location && cap && (size_t)snprintf(location, cap, "file://%s", cpath) >= cap)
        return sl_fail(err, errlen, SL_ELIMIT, "location buffer too small");
    bool moved = false;
    pthread_mutex_lock(&s->lock);
    for (int attempt = 0;; attempt++) {
        uint32_t have = 0;
        rc = seg_reader_trailer(cpath, &have);
        if (rc == 0 && have == crc) { /* idempotent: a retried CommitEnd */
            ss__drop_pending(s, table, segment);
            goto out;
        }
        if (rc == 0 || rc == SL_ECORRUPT) {
            SL_WARN("segstore", "promote refused table=%s segment=%s committed_crc=%08x crc=%08x",
                    table, segment, (unsigned)have, (unsigned)crc);
            rc = sl_fail(err, errlen, SL_ECONFLICT,
                         "segment %s is already committed with crc %08x, not %08x", segment,
                         (unsigned)have, (unsigned)crc);
            goto out;
        }
        if (rc != SL_ENOENT || attempt > 0) {
            rc = sl_fail(err, errlen, SL_EIO, "%s: cannot read the committed file", cpath);
            goto out;
        }
        uint32_t pcrc = 0;
        rc = seg_reader_trailer(ppath, &pcrc);
        if (rc == SL_ENOENT) {
            rc = sl_fail(err, errlen, SL_ENOENT, "segment %s: no verified upload with crc %08x",
                         segment, (unsigned)crc);
            goto out;
        }
        if (rc == 0 && pcrc != crc) rc = SL_ECORRUPT;
        if (rc) {
            rc = sl_fail(err, errlen, rc, "%s: unreadable or trailer disagrees", ppath);
            goto out;
        }
        rc = ss__name_noreplace(ppath, cpath, &moved, err, errlen);
        if (rc != SL_EEXIST) break; /* else someone committed meanwhile: compare with it */
    }
    if (rc) goto out;
    rc = fsutil_fsync_parent_dir(cpath, err, errlen);
    if (rc) { /* not durable: undo, so the caller neither commits nor sees a stale conflict */
        if (moved ? rename(cpath, ppath) : unlink(cpath))
            SL_ERROR("segstore", "undo failed file=%s errno=%d", cpath, errno);
        goto out;
    }
    ss__drop_pending(s, table, segment);
    SL_INFO("segstore", "promoted table=%s segment=%s crc=%08x", table, segment, (unsigned)crc);
out:
    pthread_mutex_unlock(&s->lock);
    /* acknowledged once the deep store has it too (also a retried, idempotent promote: the
     * put that failed before is made again) */
    if (rc == 0 && mirror) rc = ss__mirror(s, table, segment, err, errlen);
    return rc;
}

int segstore_unpromote(segstore *s, const char *table, const char *segment, uint32_t crc,
                       char *err, size_t errlen)
{
    int rc = ss__check(table, segment, err, errlen);
    if (rc) return rc;
    char cpath[PATH_MAX], ppath[PATH_MAX];
    ss__path(s, table, segment, ".seg", cpath);
    ss__pending_path(s, table, segment, crc, ppath);
    pthread_mutex_lock(&s->lock);
    uint32_t have = 0;
    rc = seg_reader_trailer(cpath, &have);
    if (rc == SL_ENOENT) {
        rc = sl_fail(err, errlen, SL_ENOENT, "segment %s is not committed", segment);
        goto out;
    }
    if (rc == 0 && have != crc) rc = SL_ECONFLICT;
    if (rc) {
        rc = sl_fail(err, errlen, rc, "segment %s: committed file is not crc %08x", segment,
                     (unsigned)crc);
        goto out;
    }
    bool moved = false;
    rc = ss__name_noreplace(cpath, ppath, &moved, err, errlen);
    if (rc == SL_EEXIST) rc = 0; /* a pending copy with this CRC is already there */
    if (rc) goto out;
    if (!moved && unlink(cpath) != 0) {
        rc = sl_fail(err, errlen, SL_EIO, "unlink %s: %s", cpath, strerror(errno));
        goto out;
    }
    rc = fsutil_fsync_parent_dir(cpath, err, errlen);
    SL_INFO("segstore", "unpromoted table=%s segment=%s crc=%08x", table, segment, (unsigned)crc);
out:
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int segstore_replace(segstore *s, const char *table, const char *segment, uint32_t crc,
                     char *location, size_t cap, char *err, size_t errlen)
{
    int rc = ss__check(table, segment, err, errlen);
    if (rc) return rc;
    segname sn;
    if (segname_parse(segment, &sn) == 0)
        return sl_fail(err, errlen, SL_EINVAL,
                       "segment %s: a consumed segment's committed file is never replaced",
                       segment);
    char cpath[PATH_MAX], ppath[PATH_MAX];
    ss__path(s, table, segment, ".seg", cpath);
    ss__pending_path(s, table, segment, crc, ppath);
    if (location && cap && (size_t)snprintf(location, cap, "file://%s", cpath) >= cap)
        return sl_fail(err, errlen, SL_ELIMIT, "location buffer too small");
    pthread_mutex_lock(&s->lock);
    uint32_t pcrc = 0;
    rc = seg_reader_trailer(ppath, &pcrc);
    if (rc == 0 && pcrc != crc) rc = SL_ECORRUPT;
    if (rc) {
        rc = sl_fail(err, errlen, rc, "segment %s: no verified upload with crc %08x", segment,
                     (unsigned)crc);
        goto out;
    }
    /* rename(2) swaps the name atomically: a reader has the old file open or the new one */
    if (rename(ppath, cpath) != 0) {
        int e = errno;
        rc = sl_fail(err, errlen, fsutil_errno_err(e) == SL_ENOENT ? SL_EIO : fsutil_errno_err(e),
                     "rename %s: %s", cpath, strerror(e));
        goto out;
    }
    rc = fsutil_fsync_parent_dir(cpath, err, errlen);
    if (rc == 0) {
        ss__drop_pending(s, table, segment);
        SL_INFO("segstore", "replaced table=%s segment=%s crc=%08x", table, segment, (unsigned)crc);
    }
out:
    pthread_mutex_unlock(&s->lock);
    if (rc == 0) rc = ss__mirror(s, table, segment, err, errlen);
    return rc;
}

int segstore_remove(segstore *s, const char *table, const char *segment, char *err, size_t errlen)
{
    int rc = ss__check(table, segment, err, errlen);
    if (rc) return rc;
    segname sn;
    if (segname_parse(segment, &sn) == 0)
        return sl_fail(err, errlen, SL_EINVAL,
                       "segment %s: a consumed segment's committed file is never removed", segment);
    char cpath[PATH_MAX];
    ss__path(s, table, segment, ".seg", cpath);
    pthread_mutex_lock(&s->lock);
    if (unlink(cpath) != 0)
        rc = errno == ENOENT
                 ? SL_ENOENT
                 : sl_fail(err, errlen, SL_EIO, "unlink %s: %s", cpath, strerror(errno));
    if (rc == 0) rc = fsutil_fsync_parent_dir(cpath, err, errlen);
    ss__drop_pending(s, table, segment);
    pthread_mutex_unlock(&s->lock);
    if ((rc == 0 || rc == SL_ENOENT) && s->deep) { /* gone here: gone there too */
        int drc = deepstore_remove(s->deep, table, segment, err, errlen);
        if (drc) rc = drc;
    }
    return rc;
}

int segstore_quarantine(segstore *s, const char *table, const char *segment,
                        const struct stat *seen, char *moved_to, size_t cap, char *err,
                        size_t errlen)
{
    int rc = ss__check(table, segment, err, errlen);
    if (rc) return rc;
    char cpath[PATH_MAX], qdir[PATH_MAX], to[PATH_MAX], name[SL_SEGNAME_MAX + 8];
    ss__path(s, table, segment, ".seg", cpath);
    snprintf(qdir, sizeof qdir, "%s/%s/" SEGSTORE_QUARANTINE, s->root, table);
    snprintf(name, sizeof name, "%s.seg", segment);
    pthread_mutex_lock(&s->lock); /* a promote cannot slip in between the check and the move */
    struct stat now;
    if (seen && lstat(cpath, &now) == 0 &&
        (now.st_dev != seen->st_dev || now.st_ino != seen->st_ino)) {
        rc = sl_fail(err, errlen, SL_ECONFLICT, "%s was replaced since it was checked", cpath);
        goto out;
    }
    if (fsutil_move_aside(cpath, qdir, name, to) != 0) {
        int e = errno;
        rc = sl_fail(err, errlen, e == ENOENT ? SL_ENOENT : SL_EIO, "move %s to %s/: %s", cpath,
                     qdir, strerror(e));
        goto out;
    }
    if (moved_to && cap) snprintf(moved_to, cap, "%s", to);
    rc = fsutil_fsync_parent_dir(to, err, errlen);
    if (rc == 0) rc = fsutil_fsync_parent_dir(cpath, err, errlen);
out:
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* A committed file missing here, fetched back from the deep store: into an upload, verified
 * (structure, name, table), committed with the CRC it has (no put back). 0, or the error. */
static int ss__restore(segstore *s, const char *table, const char *segment)
{
    char err[512];
    segstore_upload *u;
    int rc = segstore_upload_begin(s, table, segment, &u, err, sizeof err);
    if (rc) return rc;
    rc = deepstore_get(s->deep, table, segment, segstore_upload_fd(u), err, sizeof err);
    if (rc) {
        segstore_upload_abort(u);
        if (rc != SL_ENOENT)
            SL_WARN("segstore", "deep store read failed table=%s segment=%s err=\"%s\"", table,
                    segment, err);
        return rc;
    }
    uint32_t crc = 0;
    rc = segstore_upload_finish(u, &crc, NULL, err, sizeof err);
    if (rc == 0) rc = ss__promote(s, table, segment, crc, NULL, 0, err, sizeof err, false);
    if (rc)
        SL_WARN("segstore", "deep store copy refused table=%s segment=%s err=\"%s\"", table,
                segment, err);
    else
        SL_INFO("segstore", "restored from the deep store table=%s segment=%s crc=%08x", table,
                segment, (unsigned)crc);
    return rc;
}

int segstore_open_committed(segstore *s, const char *table, const char *segment, int *fd,
                            uint64_t *size)
{
    char path[PATH_MAX];
    if (ss__check(table, segment, NULL, 0)) return SL_EINVAL;
    ss__path(s, table, segment, ".seg", path);
    int f = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (f < 0 && errno == ENOENT && s->deep) {
        /* not here, and not (readable) in the deep store: missing, so the reader goes on to
         * its next source (a sidecar's peers) */
        if (ss__restore(s, table, segment) != 0) return SL_ENOENT;
        f = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    }
    if (f < 0) return errno == ENOENT ? SL_ENOENT : SL_EIO;
    struct stat st;
    if (fstat(f, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(f);
        return SL_EIO;
    }
    *fd = f;
    *size = (uint64_t)st.st_size;
    return 0;
}

int segstore_path(const segstore *s, const char *table, const char *segment, char *buf,
                  size_t cap)
{
    if (ss__check(table, segment, NULL, 0)) return SL_EINVAL;
    char path[PATH_MAX];
    ss__path(s, table, segment, ".seg", path);
    if (strlen(path) >= cap) return SL_ELIMIT;
    memcpy(buf, path, strlen(path) + 1);
    return 0;
}

/* gc of one table directory (lock held): only files named exactly as this store names its
 * temporaries and pending copies, for segments of this table. */
static int ss__gc_dir(int dfd, const char *table, int64_t cutoff_ms)
{
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return 0;
    }
    int removed = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t pre = ss__suffix(e->d_name, SS__UP, 16);
        if (!pre) pre = ss__suffix(e->d_name, SS__PENDING, 8);
        char seg[SL_SEGNAME_MAX];
        segname n;
        struct stat st;
        if (!pre || pre >= sizeof seg) continue;
        memcpy(seg, e->d_name, pre);
        seg[pre] = 0;
        if (!segname_valid_any(seg) || (segname_parse(seg, &n) == 0 && strcmp(n.table, table)))
            continue;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue;
        int64_t mtime_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
        if (mtime_ms >= cutoff_ms) continue;
        if (unlinkat(dirfd(d), e->d_name, 0) == 0) {
            removed++;
            SL_INFO("segstore", "gc removed table=%s file=%s", table, e->d_name);
        }
    }
    closedir(d);
    return removed;
}

int segstore_gc(segstore *s, uint64_t older_than_ms, int64_t now_ms)
{
    int64_t cutoff = older_than_ms > (uint64_t)INT64_MAX ? INT64_MIN
                                                        : now_ms - (int64_t)older_than_ms;
    pthread_mutex_lock(&s->lock);
    int removed = 0;
    DIR *root = opendir(s->root);
    if (!root) {
        removed = SL_EIO;
        goto out;
    }
    struct dirent *e;
    while ((e = readdir(root)) != NULL) {
        if (!segname_valid_table(e->d_name)) continue;
        int dfd = openat(dirfd(root), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd >= 0) removed += ss__gc_dir(dfd, e->d_name, cutoff);
    }
    closedir(root);
out:
    pthread_mutex_unlock(&s->lock);
    return removed;
}
