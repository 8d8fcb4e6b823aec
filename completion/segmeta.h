/* Segment metadata: the ZooKeeper record of one segment (protobuf sluice.meta.v1.
 * SegmentMetadata at tables/<t>/segments/<segment>, DESIGN §5) as a plain C struct.
 * Decoding validates everything a controller later relies on (name grammar, the name's
 * table/partition/sequence agreeing with the fields, status, offsets). A pushed segment
 * (DESIGN §10) is UPLOADED under a free name (segname_is_uploaded): no sequence (-1) nor
 * offsets (-1), partition -1 for an OFFLINE table or the name's for an uploaded-realtime one.
 * Pure functions. */
#ifndef SL_SEGMETA_H
#define SL_SEGMETA_H

#include "common/jsonw.h"
#include "common/limits.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SEGMETA_MAX_BYTES 65536 /* a record larger than this is corrupt */

typedef enum segmeta_status {
    SEGMETA_IN_PROGRESS = 1,
    SEGMETA_DONE = 2,
    SEGMETA_UPLOADED = 3,
    SEGMETA_COMMITTING = 4, /* pauseless (DESIGN §9): end offset fixed, N+1 open, not DONE yet */
} segmeta_status;

typedef struct segmeta {
    char segment[SL_SEGNAME_MAX];
    char table[SL_IDENT_MAX + 1];
    int32_t partition;
    int64_t sequence;
    segmeta_status status;
    int64_t start_offset;
    int64_t end_offset;      /* -1 while IN_PROGRESS; fixed from COMMITTING on */
    int64_t num_rows;        /* -1 until committed (DONE, UPLOADED) */
    uint32_t crc;
    char download_url[512];
    int64_t creation_time_ms;
    int64_t flush_rows;
    int64_t flush_time_ms;
    int64_t size_bytes;
    char committer[SL_IDENT_MAX + 1];
    int64_t commit_time_ms;
    double rows_per_byte;
    int32_t commit_version; /* pauseless: this record's ZooKeeper version as DONE (audit I4) */
    char consume_from[16];  /* "smallest"/"largest": a resume did not start it at its
                               predecessor's end (audit I1); "" otherwise */
    bool has_time_range;    /* uploaded: min_time/max_time hold the time column's range */
    int64_t min_time, max_time; /* ... in the column's own unit */
} segmeta;

/* Name of a status as the contract spells it ("IN_PROGRESS", "DONE", "UPLOADED",
 * "COMMITTING"). */
const char *segmeta_status_name(segmeta_status s);

/* Whether m is committed: DONE or UPLOADED (end offset, rows, CRC and URL final). */
bool segmeta_committed(const segmeta *m);

/* Encode m; caller frees *out with free(). Returns 0 or SL_EINVAL (invalid fields). */
int segmeta_encode(const segmeta *m, uint8_t **out, size_t *len);

/* Decode and validate. Returns 0, or SL_ECORRUPT with the reason in err. */
int segmeta_decode(const uint8_t *buf, size_t len, segmeta *m, char *err, size_t errlen);

/* The DESIGN §3 listing object of one segment, without "replicas" (the caller adds it):
 * {"segment","partition","sequence","status","startOffset","endOffset","numRows","crc",
 *  "downloadUrl", ...} with endOffset null while IN_PROGRESS, numRows/crc/downloadUrl null
 *  until committed, and "minTime"/"maxTime" for a pushed segment with a time range. Leaves the
 * object open so the caller can add keys, then closes it with jsonw_obj_end. */
void segmeta_json_open(const segmeta *m, jsonw *w);

/* The whole record as one closed JSON object: segmeta_json_open's keys plus "table",
 * "sizeBytes", "creationTimeMs", "commitTimeMs", "committer", "flushRows", "flushTimeMs",
 * "rowsPerByte". The controller's GET /tables/<t>/segments/<segment> and `sluice zk dump`
 * both print it, so the two never disagree. */
void segmeta_json_full(const segmeta *m, jsonw *w);

#endif
