/* The controller's segment store: uploaded segment files, and the one committed copy of each.
 *
 * Layout under the root (the controller's data.dir, or a `deepstore.uri` file:///abs/path):
 *   <root>/<table>/<segment>.seg                committed: never replaced, never rewritten
 *   <root>/<table>/<segment>.seg.pending.<crc>  a verified upload waiting for CommitEnd
 *   <root>/<table>/<segment>.seg.up.<random>    an upload in progress
 *   <root>/<table>/quarantine/<segment>.seg[.N] a committed file the scrub found bad, kept
 *                                               as evidence (never deleted, never served)
 * An upload streams into its own `.up.` temporary, is fsync-ed, fully verified (structure,
 * CRC, and the file's own name/table equal to the URL's) and renamed to `.pending.<crc>`. At
 * CommitEnd the controller promotes the pending copy with the CRC the committer reported; the
 * committed name is created with link(2) (or renameat2 RENAME_NOREPLACE), which fail when the
 * name exists, so a late or zombie committer can never overwrite a committed file, even from
 * another process on shared storage (Pinot #14786). Names are checked against the segment-name
 * grammar before any path is built, so no request can reach outside <root>/<table>/.
 * Committed bytes never change in place: a committed file the controller's scrub finds bad
 * (ctl_scrub.c) is moved to quarantine/ and a good copy promoted under the name again.
 *
 * Locking: upload handles are private to the thread serving that upload and take no lock
 * (distinct uploads, even of the same segment, write distinct temporaries; a pending name is
 * keyed by CRC, so two uploads publishing the same name carry the same verified trailer).
 * promote, unpromote, quarantine and gc serialize on one store mutex, so a promote never sees
 * a pending copy vanish under it. open_committed and path take no lock. All functions may be
 * called from any thread. */
#ifndef SL_SEGSTORE_H
#define SL_SEGSTORE_H

#include "common/limits.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#define SEGSTORE_DEFAULT_MAX_UPLOAD (2ull << 30) /* 2 GiB */
#define SEGSTORE_QUARANTINE "quarantine"         /* <root>/<table>/quarantine/ */

typedef struct segstore segstore;
typedef struct segstore_upload segstore_upload;

/* What a verified upload's file says of itself. */
typedef struct segstore_info {
    char segment[SL_SEGNAME_MAX];
    uint32_t crc;
    uint64_t rows, size;
    bool has_time_range; /* the time column's range, in its unit (seg_reader_time_range) */
    int64_t min_time, max_time;
} segstore_info;

struct deepstore;
typedef struct segstore_opts {
    uint64_t max_upload_bytes; /* 0 = SEGSTORE_DEFAULT_MAX_UPLOAD */
    struct deepstore *deep;    /* a WebHDFS deep store mirroring the committed files
                                  (completion/deepstore.h: promote, replace and remove are
                                  acknowledged once it has them; a missing local file is
                                  fetched back from it), or NULL; borrowed */
} segstore_opts;

/* Open the store at uri_or_dir: "file:///abs/path" (a deepstore.uri; "file://localhost/..."
 * also accepted) or a plain directory path. The directory is created if missing. Any other
 * scheme, a relative or "."/".."-containing file URI, or a percent escape is SL_EINVAL with err
 * naming deepstore.uri. opts may be NULL. On success *out is the store (caller closes with
 * segstore_close). Returns 0, SL_EINVAL or SL_EIO. */
int segstore_open(const char *uri_or_dir, const segstore_opts *opts, segstore **out, char *err,
                  size_t errlen);

/* Free the store. Every upload handle must have been finished or aborted. NULL is a no-op. */
void segstore_close(segstore *s);

/* Canonical absolute root directory (owned by s). */
const char *segstore_root(const segstore *s);

/* Upload size cap in bytes (e.g. for the HTTP route's max_body). */
uint64_t segstore_max_upload(const segstore *s);

/* Start an upload of table/segment. Both names are validated first (segname_valid_any; a
 * realtime name's table must equal table): SL_EINVAL, and nothing on disk is touched. A
 * NULL segment is a push (DESIGN §10): the name is the file's own, known at finish. Creates the
 * table directory if needed and the `.up.` temporary. On success *out must end in exactly one
 * segstore_upload_finish or segstore_upload_abort. Returns 0, SL_EINVAL, SL_ENOSPACE, SL_EDISK
 * or SL_EIO. */
int segstore_upload_begin(segstore *s, const char *table, const char *segment,
                          segstore_upload **out, char *err, size_t errlen);

/* Append len bytes. Returns 0, SL_ELIMIT (the total would pass the cap; nothing written),
 * SL_ENOSPACE / SL_EDISK (the store's disk is full or failing: the client may retry later) or
 * SL_EIO. After an error the handle is still valid and must be aborted. */
int segstore_upload_write(segstore_upload *u, const void *data, size_t len, char *err,
                          size_t errlen);

/* The upload's file descriptor (owned by u), for a writer that needs one (a download:
 * segfetch_get_fd) instead of segstore_upload_write; the size cap is then the writer's. */
int segstore_upload_fd(const segstore_upload *u);

/* Make segstore_upload_finish refuse (SL_ECORRUPT, nothing published) a file whose CRC is not
 * crc: a copy of a segment whose committed CRC is known before its bytes (the scrub's). */
void segstore_upload_expect_crc(segstore_upload *u, uint32_t crc);

/* fsync, verify the whole file (seg_reader_open: SL_ETRUNC/SL_ECORRUPT/SL_EFORMAT), check that
 * its metadata name and table equal the upload's (else SL_EINVAL; a push takes the file's
 * name, which must be valid, and its table may be the raw name of table `<raw>_OFFLINE`),
 * and publish it as `<segment>.seg.pending.<crc>` (rename + directory fsync). *crc_out (may
 * be NULL) gets the CRC, *info (may be NULL) what the file says of itself. A write that had failed
 * gives its error again (SL_ESTATE after a cap overrun); a full or failing disk at fsync or rename
 * is SL_ENOSPACE / SL_EDISK. Always frees u; on failure the temporary is removed and nothing is
 * published. */
int segstore_upload_finish(segstore_upload *u, uint32_t *crc_out, segstore_info *info, char *err,
                           size_t errlen);

/* The checks of segstore_upload_finish (fsync, full verification, the name and table),
 * without publishing anything: a push learns the file's name and decides before anything is
 * visible (DESIGN §10), then finishes (which does not check again) or aborts (a METADATA
 * push keeps only the URI). *info (may be NULL) gets what the file says of itself. Returns 0
 * or finish's errors; u stays valid either way and must still be finished or aborted. */
int segstore_upload_check(segstore_upload *u, segstore_info *info, char *err, size_t errlen);

/* Discard an upload: close and remove the temporary; frees u. NULL is a no-op. */
void segstore_upload_abort(segstore_upload *u);

/* Make the pending copy of table/segment with this CRC the committed file, durably (link or
 * no-replace rename, then directory fsync), then delete the segment's other pending copies.
 * Already committed with the same CRC: 0 (idempotent). Committed with another CRC:
 * SL_ECONFLICT, nothing changes. No pending copy with this CRC: SL_ENOENT. location (cap bytes,
 * may be NULL) gets "file://<root>/<table>/<segment>.seg". Returns 0, SL_EINVAL, SL_ENOENT,
 * SL_ECONFLICT, SL_ECORRUPT (pending copy's trailer disagrees with its name), SL_ELIMIT (cap
 * too small) or SL_EIO. */
int segstore_promote(segstore *s, const char *table, const char *segment, uint32_t crc,
                     char *location, size_t cap, char *err, size_t errlen);

/* Undo a promote whose ZooKeeper commit is KNOWN to have failed (never after an unknown
 * outcome: a DONE segment must stay readable): the committed file goes back to
 * `.pending.<crc>` only if its CRC is crc. Returns 0, SL_EINVAL, SL_ENOENT (not committed),
 * SL_ECONFLICT (committed with another CRC; left alone) or SL_EIO. */
int segstore_unpromote(segstore *s, const char *table, const char *segment, uint32_t crc,
                       char *err, size_t errlen);

/* A push's refresh (DESIGN §10): the pending copy with this CRC replaces the committed file
 * of an uploaded segment (segname_is_uploaded; a realtime name is SL_EINVAL: completion's
 * files are never replaced) with one rename(2), so a reader sees the old bytes or the new,
 * then directory fsync; a missing committed file is simply created. location as for
 * segstore_promote. Returns 0, SL_EINVAL, SL_ENOENT (no such pending copy), SL_ECORRUPT,
 * SL_ELIMIT, or the disk's error. */
int segstore_replace(segstore *s, const char *table, const char *segment, uint32_t crc,
                     char *location, size_t cap, char *err, size_t errlen);

/* Delete the committed file (and pending copies) of an uploaded segment, durably: a lineage
 * replacement's segmentsFrom once it completed. Realtime names are SL_EINVAL. Returns 0,
 * SL_ENOENT (no committed file), SL_EINVAL or SL_EIO. */
int segstore_remove(segstore *s, const char *table, const char *segment, char *err, size_t errlen);

/* Move the committed file of table/segment into `<root>/<table>/quarantine/` (never over a
 * file there: a second one gets ".1", ...), durably: the scrub found it bad and it is kept as
 * evidence, which also frees the committed name for a promote of a good copy. With seen (may
 * be NULL), only while the committed name is still that file (device and inode of the stat the
 * caller checked), so a copy promoted since is never moved. moved_to (cap bytes, may be NULL)
 * gets its new path. Returns 0, SL_EINVAL, SL_ENOENT (not committed), SL_ECONFLICT (another
 * file than seen), or SL_EIO / SL_EDISK with the reason in err. */
int segstore_quarantine(segstore *s, const char *table, const char *segment,
                        const struct stat *seen, char *moved_to, size_t cap, char *err,
                        size_t errlen);

/* Open the committed file read-only for a download. On success *fd (caller closes; e.g. hand it
 * to httpd_resp_fd) and *size are set. A file missing here is fetched from the deep store, if
 * any, verified and committed first. Returns 0, SL_EINVAL (bad name), SL_ENOENT or SL_EIO. */
int segstore_open_committed(segstore *s, const char *table, const char *segment, int *fd,
                            uint64_t *size);

/* Path of the committed file into buf (cap bytes). Returns 0, SL_EINVAL or SL_ELIMIT. */
int segstore_path(const segstore *s, const char *table, const char *segment, char *buf,
                  size_t cap);

/* Delete `.up.` temporaries and `.pending.` copies whose mtime is older than now_ms -
 * older_than_ms (epoch milliseconds); committed files and files not named by this store are
 * never touched. Pick older_than_ms well above the slowest upload's idle time: a live upload
 * whose temporary is removed fails at finish. Returns the number removed, or SL_EIO. */
int segstore_gc(segstore *s, uint64_t older_than_ms, int64_t now_ms);

#endif
