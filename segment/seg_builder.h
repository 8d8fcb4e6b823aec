/* Segment builder: a columnar view of rows (seg_src) -> one immutable segment file.
 *
 * The output is a pure function of the rows (values, in order, with their null marks), the
 * schema and seg_meta_in: the builder sorts every dictionary by value and remaps ids, so the
 * source's first-seen id order, unused dictionary entries, the thread, host and clock cannot
 * change a byte. This is what lets replicas compare CRCs (DESIGN §4, §6). The format is in
 * segment/seg_format.h and docs/segment-format.md.
 *
 * Thread-safety: the builder keeps no state between calls; concurrent builds are fine. The
 * source view must not change during a build (a prefix of a growing mutable segment is fine:
 * only the first src->rows rows and the values they reference are read). */
#ifndef SL_SEG_BUILDER_H
#define SL_SEG_BUILDER_H

#include "segment/seg_src.h"

#include <stddef.h>
#include <stdint.h>

/* Build a segment in memory. On success *out is a malloc'ed buffer of *out_len bytes (caller
 * frees with free()). src and meta are borrowed. Returns 0, SL_EINVAL for an inconsistent
 * source (dictionary id out of range, decreasing multi-value offsets, unknown time column,
 * ...) or SL_ELIMIT (more than UINT32_MAX rows/values, or over 4 GiB of bytes in a column);
 * err (errlen bytes) then says why. */
int seg_build_mem(const seg_src *src, const seg_meta_in *meta, uint8_t **out, size_t *out_len,
                  char *err, size_t errlen);

/* Build a segment and publish it atomically at path (path.tmp.<random> -> write -> fsync ->
 * rename -> fsync directory; on failure nothing is left at either name). *crc_out and
 * *size_out (either may be NULL) receive the file's CRC-32C trailer and length. Returns 0,
 * the seg_build_mem errors (SL_EINVAL, SL_ELIMIT: the rows themselves cannot be built,
 * sl_err_is_deterministic), or a failure of the disk, which the same rows may survive on a
 * retry: SL_ENOSPACE (ENOSPC, EDQUOT), SL_EDISK (EIO, EROFS), SL_ENOENT (directory missing)
 * or SL_EIO (fsutil_errno_err). */
int seg_build_file(const seg_src *src, const seg_meta_in *meta, const char *path,
                   uint32_t *crc_out, uint64_t *size_out, char *err, size_t errlen);

#endif
