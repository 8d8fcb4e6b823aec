/* Atomic publish and whole-file read (see fsutil.h).
 *
 * The temporary's random suffix comes from getrandom(2), never from the clock or the pid, so
 * two writers racing for the same path cannot pick the same temporary; O_EXCL makes a
 * collision an error that is retried with a new suffix. */
#include "common/fsutil.h"
#include "common/sl_err.h"
#include "common/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

struct fsutil_atomic {
    int fd;
    bool fault; /* test: this publication fails with ENOSPC at its first write */
    char *path; /* final name */
    char *tmp;  /* temporary name */
};

/* The test fault (fsutil_fault_configure): written once before any writer thread starts. */
static struct {
    char *full_file;
    int64_t after;
    uint64_t count;
    _Atomic uint64_t seen;
    int64_t eio_after; /* fsyncs of file data numbered from this one fail with EIO; -1 off */
    uint64_t eio_count;
    _Atomic uint64_t fsyncs;
} fsutil__fault = {.after = -1, .eio_after = -1};

int fsutil_errno_err(int e)
{
    switch (e) {
    case ENOENT:
    case ENOTDIR: return SL_ENOENT;
    case ENOSPC:
    case EDQUOT: return SL_ENOSPACE;
    case EIO:
    case EROFS: return SL_EDISK;
    default: return SL_EIO;
    }
}

static int fsutil__fail(char *err, size_t errlen, const char *what, const char *path, int e)
{
    if (err && errlen) snprintf(err, errlen, "%s: %s: %s", path, what, strerror(e));
    return fsutil_errno_err(e);
}

void fsutil_fault_configure(const char *full_file, int64_t after, uint64_t count)
{
    free(fsutil__fault.full_file);
    fsutil__fault.full_file = NULL;
    if (full_file && *full_file) {
        fsutil__fault.full_file = sl_xstrdup(full_file);
    }
    fsutil__fault.after = after;
    fsutil__fault.count = count;
    atomic_store(&fsutil__fault.seen, 0);
}

void fsutil_fault_fsync_configure(int64_t after, uint64_t count)
{
    fsutil__fault.eio_after = after;
    fsutil__fault.eio_count = count;
    atomic_store(&fsutil__fault.fsyncs, 0);
}

/* Whether this fsync is one the counted EIO fault fails. */
static bool fsutil__fault_eio(void)
{
    if (fsutil__fault.eio_after < 0) return false;
    uint64_t n = atomic_fetch_add(&fsutil__fault.fsyncs, 1);
    uint64_t from = (uint64_t)fsutil__fault.eio_after;
    return n >= from && (fsutil__fault.eio_count == 0 || n - from < fsutil__fault.eio_count);
}

int fsutil_fsync_fd(int fd, const char *path, char *err, size_t errlen)
{
    if (fsutil__fault_eio())
        return fsutil__fail(err, errlen, "fsync (test.fsync.eio: injected)", path, EIO);
    if (fsync(fd) != 0) return fsutil__fail(err, errlen, "fsync", path, errno);
    return 0;
}

/* The test's "disk full" switch file exists. */
static bool fsutil__fault_full(void)
{
    return fsutil__fault.full_file && access(fsutil__fault.full_file, F_OK) == 0;
}

/* Whether the publication being started is one the counted fault fails. */
static bool fsutil__fault_nth(void)
{
    if (fsutil__fault.after < 0) return false;
    uint64_t n = atomic_fetch_add(&fsutil__fault.seen, 1);
    uint64_t from = (uint64_t)fsutil__fault.after;
    return n >= from && (fsutil__fault.count == 0 || n - from < fsutil__fault.count);
}

int fsutil_write_fd(int fd, const void *buf, size_t len, int *os_errno)
{
    const uint8_t *p = buf;
    int e = 0;
    if (fsutil__fault_full()) e = ENOSPC;
    while (!e && len > 0) {
        size_t chunk = len > ((size_t)1 << 30) ? ((size_t)1 << 30) : len;
        ssize_t w = write(fd, p, chunk);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) e = errno;
        else if (w == 0) e = ENOSPC;
        else {
            p += w;
            len -= (size_t)w;
        }
    }
    if (os_errno) *os_errno = e;
    return e ? fsutil_errno_err(e) : 0;
}

int fsutil_atomic_begin(const char *path, fsutil_atomic **out, char *err, size_t errlen)
{
    *out = NULL;
    size_t plen = strlen(path);
    char *tmp = sl_xmalloc(plen + 32);
    int fd = -1;
    int e = EEXIST;
    for (int attempt = 0; attempt < 16 && fd < 0; attempt++) {
        uint64_t rnd = 0;
        if (getrandom(&rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
            e = errno;
            break;
        }
        snprintf(tmp, plen + 32, "%s.tmp.%016llx", path, (unsigned long long)rnd);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0) {
            e = errno;
            if (e != EEXIST) break;
        }
    }
    if (fd < 0) {
        free(tmp);
        return fsutil__fail(err, errlen, "create temporary", path, e);
    }
    fsutil_atomic *a = sl_xmalloc(sizeof *a);
    a->fd = fd;
    a->fault = fsutil__fault_nth();
    a->path = sl_xstrdup(path);
    a->tmp = tmp;
    *out = a;
    return 0;
}

const char *fsutil_atomic_tmp_path(const fsutil_atomic *a)
{
    return a->tmp;
}

int fsutil_atomic_write(fsutil_atomic *a, const void *buf, size_t len, char *err, size_t errlen)
{
    int e = 0;
    if (a->fault) {
        a->fault = false;
        e = ENOSPC;
    }
    int rc = e ? fsutil_errno_err(e) : fsutil_write_fd(a->fd, buf, len, &e);
    return rc ? fsutil__fail(err, errlen, "write", a->tmp, e) : 0;
}

static void fsutil__free(fsutil_atomic *a)
{
    free(a->path);
    free(a->tmp);
    free(a);
}

void fsutil_atomic_abort(fsutil_atomic *a)
{
    if (!a) return;
    if (a->fd >= 0) close(a->fd);
    unlink(a->tmp);
    fsutil__free(a);
}

int fsutil_fsync_parent_dir(const char *path, char *err, size_t errlen)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    if (!slash) {
        dir = sl_xstrdup(".");
    } else if (slash == path) {
        dir = sl_xstrdup("/");
    } else {
        dir = sl_xmemdupz(path, (size_t)(slash - path));
    }
    int rc = 0;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        rc = fsutil__fail(err, errlen, "open directory", dir, errno);
    } else {
        if (fsync(fd) != 0) rc = fsutil__fail(err, errlen, "fsync directory", dir, errno);
        close(fd);
    }
    free(dir);
    return rc == SL_ENOENT ? SL_EIO : rc;
}

int fsutil_atomic_commit(fsutil_atomic *a, char *err, size_t errlen)
{
    /* After a failed fsync the kernel may have dropped the dirty pages: the temporary is
     * never trusted again, the caller writes the file anew. */
    int rc = fsutil_fsync_fd(a->fd, a->tmp, err, errlen);
    if (rc) goto fail;
    int fd = a->fd;
    a->fd = -1;
    if (close(fd) != 0) {
        rc = fsutil__fail(err, errlen, "close", a->tmp, errno);
        goto fail;
    }
    if (rename(a->tmp, a->path) != 0) {
        rc = fsutil__fail(err, errlen, "rename into place", a->path, errno);
        goto fail;
    }
    /* The file is in place; a failed directory fsync only weakens durability of the rename,
     * but callers report the commit as durable, so it is still an error. */
    rc = fsutil_fsync_parent_dir(a->path, err, errlen);
    fsutil__free(a);
    return rc;
fail:
    fsutil_atomic_abort(a);
    return rc == SL_ENOENT ? SL_EIO : rc;
}

int fsutil_publish(const char *path, const void *buf, size_t len, char *err, size_t errlen)
{
    fsutil_atomic *a;
    int rc = fsutil_atomic_begin(path, &a, err, errlen);
    if (rc) return rc;
    rc = fsutil_atomic_write(a, buf, len, err, errlen);
    if (rc) {
        fsutil_atomic_abort(a);
        return rc;
    }
    return fsutil_atomic_commit(a, err, errlen);
}

int fsutil_read_file(const char *path, uint8_t **out, size_t *len, char *err, size_t errlen)
{
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fsutil__fail(err, errlen, "open", path, errno);
    int rc;
    uint8_t *buf = NULL;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = fsutil__fail(err, errlen, "stat", path, errno);
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = fsutil__fail(err, errlen, "open", path, EISDIR);
        goto fail;
    }
    /* The size is only a hint: the file may grow or shrink while we read it. */
    size_t cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 4096;
    size_t n = 0;
    buf = sl_xmalloc(cap + 1);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            buf = sl_xrealloc(buf, cap + 1);
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0) {
            if (errno == EINTR) continue;
            rc = fsutil__fail(err, errlen, "read", path, errno);
            goto fail;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = 0;
    *out = buf;
    *len = n;
    return 0;
fail:
    free(buf);
    close(fd);
    return rc;
}

int fsutil_move_aside(const char *from, const char *dir, const char *name, char *to)
{
    to[0] = '\0';
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) return SL_EIO;
    for (int k = 0; k < 1000; k++) {
        int n = k ? snprintf(to, PATH_MAX, "%s/%s.%d", dir, name, k)
                  : snprintf(to, PATH_MAX, "%s/%s", dir, name);
        if (n <= 0 || n >= PATH_MAX) {
            errno = ENAMETOOLONG;
            break;
        }
        if (link(from, to) == 0) {
            if (unlink(from) == 0) return 0;
            int e = errno;
            unlink(to); /* one name only: the file stays where it was */
            errno = e;
            break;
        }
        if (errno != EEXIST) break;
    }
    to[0] = '\0';
    return SL_EIO;
}

int fsutil_mkdirs(const char *path, char *err, size_t errlen)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return sl_fail(err, errlen, SL_EIO, "cannot create %.64s...: path too long", path);
    size_t n = strlen(buf);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return sl_fail(err, errlen, SL_EIO, "cannot create %s: %s", buf, strerror(errno));
        buf[i] = c;
    }
    return 0;
}

/* nftw has no user pointer: the first failure of the walk in progress (one walk per thread). */
static _Thread_local int fsutil__rm_errno;
static _Thread_local char fsutil__rm_path[256];

static int fsutil__rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)ftw;
    if ((flag == FTW_DP ? rmdir(path) : unlink(path)) != 0 && errno != ENOENT &&
        !fsutil__rm_errno) {
        fsutil__rm_errno = errno;
        snprintf(fsutil__rm_path, sizeof fsutil__rm_path, "%s", path);
    }
    return 0;
}

int fsutil_remove_tree(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : fsutil__fail(err, errlen, "stat", path, errno);
    fsutil__rm_errno = 0;
    if (nftw(path, fsutil__rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0 && !fsutil__rm_errno) {
        fsutil__rm_errno = errno;
        snprintf(fsutil__rm_path, sizeof fsutil__rm_path, "%s", path);
    }
    if (!fsutil__rm_errno) return 0;
    fsutil__fail(err, errlen, "remove", fsutil__rm_path, fsutil__rm_errno);
    return SL_EIO;
}
