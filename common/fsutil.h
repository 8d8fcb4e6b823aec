/* File-system helpers: atomic publication of a file and whole-file reads.
 *
 * Publication follows the classic durable sequence (Redis rdb.c): write to a temporary
 * `<path>.tmp.<random>` in the same directory (created with O_EXCL), fsync it, rename it
 * over `<path>`, fsync the directory. Readers of `<path>` therefore see either the old file
 * or the complete new one, never a prefix, and after success the new file survives a crash.
 * On any failure the temporary is unlinked, so nothing is left behind.
 *
 * Errors keep the class of the errno behind them (fsutil_errno_err), so a caller can tell a
 * full or failing disk (SL_ENOSPACE, SL_EDISK: retry once the disk is back) from anything else.
 *
 * All functions are thread-safe (no shared state but the test fault below); an fsutil_atomic
 * belongs to one thread. */
#ifndef SL_FSUTIL_H
#define SL_FSUTIL_H

#include <stddef.h>
#include <stdint.h>

typedef struct fsutil_atomic fsutil_atomic;

/* The SL_E* class of an errno: ENOENT/ENOTDIR -> SL_ENOENT, ENOSPC/EDQUOT -> SL_ENOSPACE,
 * EIO/EROFS -> SL_EDISK, anything else -> SL_EIO. */
int fsutil_errno_err(int e);

/* Start publishing path: creates the temporary file. On success *out is the handle, which
 * must end in exactly one fsutil_atomic_commit or fsutil_atomic_abort (both free it).
 * Returns 0, SL_ENOENT (directory missing), SL_ENOSPACE, SL_EDISK or SL_EIO; err gets
 * "PATH: reason". */
int fsutil_atomic_begin(const char *path, fsutil_atomic **out, char *err, size_t errlen);

/* Append len bytes to the temporary. Returns 0, SL_ENOSPACE, SL_EDISK or SL_EIO (the handle
 * stays valid: abort it). */
int fsutil_atomic_write(fsutil_atomic *a, const void *buf, size_t len, char *err, size_t errlen);

/* fsync the temporary, rename it to the final path, fsync the directory; frees a. On failure
 * the temporary is removed and nothing new is at path. Returns 0, SL_ENOSPACE, SL_EDISK or
 * SL_EIO. */
int fsutil_atomic_commit(fsutil_atomic *a, char *err, size_t errlen);

/* Discard: close and unlink the temporary; frees a. NULL is a no-op. */
void fsutil_atomic_abort(fsutil_atomic *a);

/* Name of the temporary file (owned by a, valid until commit/abort). */
const char *fsutil_atomic_tmp_path(const fsutil_atomic *a);

/* Atomically replace path with buf[0..len): begin + write + commit. Returns 0 or SL_E*. */
int fsutil_publish(const char *path, const void *buf, size_t len, char *err, size_t errlen);

/* fsync the directory that contains path ("." when path has no slash). Returns 0, SL_EDISK
 * or SL_EIO. */
int fsutil_fsync_parent_dir(const char *path, char *err, size_t errlen);

/* Write all len bytes to fd at its position (EINTR and short writes retried). Returns 0 or
 * the class of the failure (SL_ENOSPACE, SL_EDISK, SL_EIO) with its errno in *os_errno (may be
 * NULL). Used for every file Sluice writes that is not published by fsutil_atomic (downloads,
 * uploads into the segment store), so the test fault below covers them too. */
int fsutil_write_fd(int fd, const void *buf, size_t len, int *os_errno);

/* Test fault injection (hidden knobs test.disk.full.*; DESIGN §7), process-wide like the disk
 * it stands for; set once at start, before any thread writes. While full_file (may be NULL)
 * exists, every fsutil_atomic_write and fsutil_write_fd fails with ENOSPC. With after >= 0,
 * publications are counted from 0 (fsutil_atomic_begin) and the ones numbered after ..
 * after + count - 1 (count 0: all from after on) fail with ENOSPC at their first write.
 * after < 0 and full_file NULL switch it off. The path is copied. */
void fsutil_fault_configure(const char *full_file, int64_t after, uint64_t count);

/* Test fault injection (hidden knobs test.fsync.eio.*): the fsyncs of file data that go through
 * fsutil_fsync_fd are counted from 0, and the ones numbered after .. after + count - 1 (count 0:
 * all from after on) fail with EIO without calling fsync. after < 0 switches it off. Set once at
 * start, like fsutil_fault_configure. */
void fsutil_fault_fsync_configure(int64_t after, uint64_t count);

/* fsync(fd), the file's data made durable; path names it in err. Returns 0 or the class of the
 * failure (SL_EDISK for EIO, ...). After a failure the file's contents are not to be trusted:
 * callers discard it. Every fsync of a file Sluice publishes, downloads or stores goes here. */
int fsutil_fsync_fd(int fd, const char *path, char *err, size_t errlen);

/* rm -rf path: remove the file or directory tree at path (symbolic links are removed, not
 * followed). 0 when nothing is left (also when path did not exist), else SL_EIO with the first
 * failure in err (may be NULL). */
int fsutil_remove_tree(const char *path, char *err, size_t errlen);

/* mkdir -p path (mode 0755 for each directory made). Returns 0, or SL_EIO with
 * "cannot create DIR: REASON" in err. */
int fsutil_mkdirs(const char *path, char *err, size_t errlen);

/* Move the file at `from` into directory dir (created if missing, not its parents) as `name`,
 * or as `name.1`, `name.2`, ... up to .999 when taken: never over a file already there (link(2),
 * then unlink). to (PATH_MAX bytes) gets the new path. Returns 0, or SL_EIO with errno set
 * and the file left where it was. Not yet durable: the caller fsyncs both directories
 * (fsutil_fsync_parent_dir of from and of to). For evidence kept aside (quarantine/). */
int fsutil_move_aside(const char *from, const char *dir, const char *name, char *to);

/* Read a whole regular file. On success *out is a malloc'ed buffer of *len bytes plus a
 * trailing NUL not counted in *len (so text can be parsed in place); caller frees with free().
 * Returns 0, SL_ENOENT or SL_EIO. */
int fsutil_read_file(const char *path, uint8_t **out, size_t *len, char *err, size_t errlen);

#endif
