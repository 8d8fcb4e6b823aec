/* Segment downloads: a committed segment fetched over HTTP into a replica's table directory
 * (segfetch_url), or into a file the caller publishes itself (segfetch_get_fd: the controller's
 * segment store, whose own upload path verifies and publishes it).
 *
 * The file is written to `<segment>.seg.download.<n>` (one per call), fsync-ed, verified (the
 * full check of `sluice segment verify`) and published as `<segment>.seg` only when its CRC-32C
 * is the committed one, so a published file is always whole and always the committed bytes.
 * Where to download from (the segment store, the leader, the peers) is the caller's choice
 * (completion/replica.c); this module knows only how.
 *
 * Threads: any; concurrent downloads of different segments are fine. */
#ifndef SL_SEGFETCH_H
#define SL_SEGFETCH_H

#include "common/diskstate.h"
#include "common/httpc.h"
#include "common/log.h"
#include "consumer/engine.h"

#include <stdint.h>

/* Download url as `segment` of t and publish it if its CRC is expect_crc: as
 * `<segment>.seg<as>`, so "" is the served file and ".staged" a replacement's segmentsTo held
 * back until the switch (DESIGN §10). Returns 0; SL_ENOENT
 * (not 200), SL_ECORRUPT (not a valid segment, or another CRC), a transfer error, or a local
 * file error (SL_ENOSPACE, SL_EDISK, SL_EIO: reported to disk, as every success is). Failures
 * other than the disk's are logged through lim (one line per kind and interval). h, t, disk
 * and lim are borrowed. */
int segfetch_url(httpc *h, engine_table *t, const char *segment, const char *url,
                 uint32_t expect_crc, const char *as, diskstate *disk, sl_log_limit *lim);

/* GET url into fd (the caller's: written at its position, left open) and fsync it; no
 * verification, which is the caller's. url is http(s)://, webhdfs://[user@]host:port/path
 * (swebhdfs:// over TLS: the WebHDFS REST API's OPEN, whose redirect to a datanode is
 * followed; h's CA and netrc apply, httpc_set_fetch_auth) or file:///abs/path (a pushed
 * segment's DOWNLOAD_URI, DESIGN §10; a missing file is SL_ENOENT, a relative or escaped
 * path SL_EINVAL). Returns 0, SL_ENOENT (a reply other than 200), a
 * transfer error (httpc.h: SL_ESTATE when h was cancelled) or a local file error (SL_ENOSPACE,
 * SL_EDISK, SL_EIO); why (whylen bytes) gets the reason. h is borrowed. */
int segfetch_get_fd(httpc *h, const char *url, int fd, char *why, size_t whylen);

/* A webhdfs:// (swebhdfs://: over TLS) URI as the WebHDFS REST call of op ("OPEN",
 * "CREATE", "DELETE", ...) into out (cap bytes): `webhdfs://[user@]host:port/path` ->
 * `http://host:port/webhdfs/v1/path?op=OP[&user.name=user]`. The user must be [A-Za-z0-9._-]
 * and the path [A-Za-z0-9/._~-] with %XX escapes (nothing smuggled into the query). 0, or
 * SL_EINVAL. */
int segfetch_webhdfs_rest(const char *url, const char *op, char *out, size_t cap);

/* The CRC-32C of the valid segment file at path into *crc: 0, or the reader's error (a
 * missing, corrupt or truncated file). */
int segfetch_file_crc(const char *path, uint32_t *crc);

#endif
