/* Segment metadata codec (see segmeta.h). */
#include "completion/segmeta.h"
#include "common/sl_err.h"
#include "common/xalloc.h"
#include "proto/metadata.pb-c.h"
#include "segment/segname.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *segmeta_status_name(segmeta_status s)
{
    switch (s) {
    case SEGMETA_IN_PROGRESS:
        return "IN_PROGRESS";
    case SEGMETA_DONE:
        return "DONE";
    case SEGMETA_UPLOADED:
        return "UPLOADED";
    case SEGMETA_COMMITTING:
        return "COMMITTING";
    }
    return "?";
}

bool segmeta_committed(const segmeta *m)
{
    return m->status == SEGMETA_DONE || m->status == SEGMETA_UPLOADED;
}

int segmeta_encode(const segmeta *m, uint8_t **out, size_t *len)
{
    Sluice__Meta__V1__SegmentMetadata pb = SLUICE__META__V1__SEGMENT_METADATA__INIT;
    pb.segment = (char *)m->segment;
    pb.table = (char *)m->table;
    pb.partition = m->partition;
    pb.sequence = m->sequence;
    pb.status = (Sluice__Meta__V1__SegmentStatus)m->status;
    pb.start_offset = m->start_offset;
    pb.end_offset = m->end_offset;
    pb.num_rows = m->num_rows;
    pb.crc = m->crc;
    pb.download_url = (char *)m->download_url;
    pb.creation_time_ms = m->creation_time_ms;
    pb.flush_rows = m->flush_rows;
    pb.flush_time_ms = m->flush_time_ms;
    pb.size_bytes = m->size_bytes;
    pb.committer = (char *)m->committer;
    pb.commit_time_ms = m->commit_time_ms;
    pb.rows_per_byte = m->rows_per_byte;
    pb.commit_version = m->commit_version;
    pb.consume_from = (char *)m->consume_from;
    pb.has_time_range = m->has_time_range;
    pb.min_time = m->min_time;
    pb.max_time = m->max_time;
    *len = sluice__meta__v1__segment_metadata__get_packed_size(&pb);
    *out = sl_xmalloc(*len);
    sluice__meta__v1__segment_metadata__pack(&pb, *out);
    return 0;
}

static int segmeta__copy(char *dst, size_t cap, const char *src, const char *what, char *err,
                         size_t errlen)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= cap) {
        return sl_fail(err, errlen, SL_ECORRUPT, "%s too long", what);
    }
    memcpy(dst, src ? src : "", n + 1);
    return 0;
}

int segmeta_decode(const uint8_t *buf, size_t len, segmeta *m, char *err, size_t errlen)
{
    if (len > SEGMETA_MAX_BYTES) {
        return sl_fail(err, errlen, SL_ECORRUPT, "segment metadata of %zu bytes", len);
    }
    Sluice__Meta__V1__SegmentMetadata *pb =
        sluice__meta__v1__segment_metadata__unpack(NULL, len, buf);
    if (!pb) {
        return sl_fail(err, errlen, SL_ECORRUPT,
                       "segment metadata is not a SegmentMetadata protobuf");
    }
    int rc = SL_ECORRUPT;
    memset(m, 0, sizeof *m);
    if (segmeta__copy(m->segment, sizeof m->segment, pb->segment, "segment", err, errlen) ||
        segmeta__copy(m->table, sizeof m->table, pb->table, "table", err, errlen) ||
        segmeta__copy(m->download_url, sizeof m->download_url, pb->download_url, "downloadUrl", err,
                      errlen) ||
        segmeta__copy(m->committer, sizeof m->committer, pb->committer, "committer", err, errlen) ||
        segmeta__copy(m->consume_from, sizeof m->consume_from, pb->consume_from, "consumeFrom", err,
                      errlen))
        goto done;
    m->partition = pb->partition;
    m->sequence = pb->sequence;
    m->status = (segmeta_status)pb->status;
    m->start_offset = pb->start_offset;
    m->end_offset = pb->end_offset;
    m->num_rows = pb->num_rows;
    m->crc = pb->crc;
    m->creation_time_ms = pb->creation_time_ms;
    m->flush_rows = pb->flush_rows;
    m->flush_time_ms = pb->flush_time_ms;
    m->size_bytes = pb->size_bytes;
    m->commit_time_ms = pb->commit_time_ms;
    m->rows_per_byte = pb->rows_per_byte;
    m->commit_version = pb->commit_version;
    m->has_time_range = pb->has_time_range;
    m->min_time = pb->min_time;
    m->max_time = pb->max_time;
    segname sn;
    if (segname_is_uploaded(m->segment)) {
        /* pushed: no chain position; the partition is the uploaded-realtime name's, if any */
        int32_t part = segname_parse_uploaded_realtime(m->segment, &sn) == 0 ? sn.partition : -1;
        if (m->status != SEGMETA_UPLOADED || m->partition != part || m->sequence != -1 ||
            m->start_offset != -1 || m->end_offset != -1 || m->num_rows < 0 ||
            (part >= 0 && strcmp(sn.table, m->table) != 0)) {
            snprintf(err, errlen, "uploaded segment %s: fields of a consumed segment", m->segment);
            goto done;
        }
        rc = 0;
        goto done;
    }
    if (segname_parse(m->segment, &sn) != 0 || strcmp(sn.table, m->table) != 0 ||
        sn.partition != m->partition || sn.sequence != m->sequence) {
        snprintf(err, errlen, "segment name %s disagrees with its fields", m->segment);
        goto done;
    }
    if (m->status < SEGMETA_IN_PROGRESS || m->status > SEGMETA_COMMITTING) {
        snprintf(err, errlen, "segment %s: unknown status %d", m->segment, (int)m->status);
        goto done;
    }
    if (m->start_offset < 0 ||
        (m->status != SEGMETA_IN_PROGRESS && m->end_offset < m->start_offset) ||
        (segmeta_committed(m) && m->num_rows < 0)) {
        snprintf(err, errlen, "segment %s: offsets [%lld, %lld) are not valid for %s", m->segment,
                 (long long)m->start_offset, (long long)m->end_offset,
                 segmeta_status_name(m->status));
        goto done;
    }
    rc = 0;
done:
    sluice__meta__v1__segment_metadata__free_unpacked(pb, NULL);
    return rc;
}

void segmeta_json_open(const segmeta *m, jsonw *w)
{
    bool done = segmeta_committed(m);
    jsonw_obj_begin(w);
    jsonw_key(w, "segment");
    jsonw_cstr(w, m->segment);
    /* a pushed segment has no chain position: its partition (OFFLINE), sequence and
     * offsets are null */
    jsonw_key(w, "partition");
    if (m->partition >= 0)
        jsonw_i64(w, m->partition);
    else
        jsonw_null(w);
    jsonw_key(w, "sequence");
    if (m->sequence >= 0)
        jsonw_i64(w, m->sequence);
    else
        jsonw_null(w);
    jsonw_key(w, "status");
    jsonw_cstr(w, segmeta_status_name(m->status));
    jsonw_key(w, "startOffset");
    if (m->start_offset >= 0)
        jsonw_i64(w, m->start_offset);
    else
        jsonw_null(w);
    jsonw_key(w, "endOffset");
    if (m->status != SEGMETA_IN_PROGRESS && m->end_offset >= 0)
        jsonw_i64(w, m->end_offset);
    else
        jsonw_null(w);
    jsonw_key(w, "numRows");
    if (done)
        jsonw_i64(w, m->num_rows);
    else
        jsonw_null(w);
    jsonw_key(w, "crc");
    if (done)
        jsonw_u64(w, m->crc);
    else
        jsonw_null(w);
    jsonw_key(w, "downloadUrl");
    if (done && m->download_url[0])
        jsonw_cstr(w, m->download_url);
    else
        jsonw_null(w);
    if (m->has_time_range) { /* a pushed segment's time range, in the time column's unit */
        jsonw_key(w, "minTime");
        jsonw_i64(w, m->min_time);
        jsonw_key(w, "maxTime");
        jsonw_i64(w, m->max_time);
    }
}

void segmeta_json_full(const segmeta *m, jsonw *w)
{
    segmeta_json_open(m, w);
    jsonw_key(w, "table");
    jsonw_cstr(w, m->table);
    jsonw_key(w, "sizeBytes");
    jsonw_i64(w, m->size_bytes);
    jsonw_key(w, "creationTimeMs");
    jsonw_i64(w, m->creation_time_ms);
    jsonw_key(w, "commitTimeMs");
    jsonw_i64(w, m->commit_time_ms);
    jsonw_key(w, "committer");
    jsonw_cstr(w, m->committer);
    jsonw_key(w, "flushRows");
    jsonw_i64(w, m->flush_rows);
    jsonw_key(w, "flushTimeMs");
    jsonw_i64(w, m->flush_time_ms);
    jsonw_key(w, "rowsPerByte");
    jsonw_f64(w, m->rows_per_byte);
    if (m->consume_from[0]) {
        jsonw_key(w, "consumeFrom");
        jsonw_cstr(w, m->consume_from);
    }
    if (m->commit_version) {
        jsonw_key(w, "commitVersion");
        jsonw_i64(w, m->commit_version);
    }
    jsonw_obj_end(w);
}
