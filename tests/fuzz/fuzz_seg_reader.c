/* libFuzzer target for the segment reader/verifier.
 *
 * Each input is tried twice: as is (exercises magic, header, length and CRC checks), and with
 * its recorded length and both checksums rewritten to match (so mutations reach the structural
 * validation behind the CRC, where a hostile file would attack). When a segment opens, every
 * accessor is driven over every column and (a bounded number of) rows: after a successful
 * open nothing may read out of bounds, which ASan checks. seg_verify_mem and
 * seg_reader_open_mem must agree on the verdict. */
#include "common/sl_err.h"
#include "segment/seg_format.h"
#include "segment/seg_reader.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(const uint8_t *data, size_t size)
{
    char msg[256];
    int err = 0;
    int vrc = seg_verify_mem(data, size, msg, sizeof msg);
    seg_reader *r = seg_reader_open_mem(data, size, &err, msg, sizeof msg);
    if ((r == NULL) != (vrc != 0) || (r == NULL && err != vrc)) {
        fprintf(stderr, "verify (%d) and open (%d) disagree\n", vrc, err);
        abort();
    }
    if (!r) {
        if (err != SL_ECORRUPT && err != SL_ETRUNC && err != SL_EFORMAT) abort();
        return;
    }
    volatile uint64_t sink = 0;
    sink += (uint64_t)strlen(seg_reader_name(r)) + strlen(seg_reader_table(r));
    size_t jl;
    sink += (uint64_t)strlen(seg_reader_schema_json(r, &jl)) + jl;
    int64_t lo, hi;
    if (seg_reader_time_range(r, &lo, &hi)) sink += (uint64_t)(hi - lo);
    uint64_t rows = seg_reader_rows(r);
    if (rows > 4096) rows = 4096;
    schema_value v[16];
    for (uint32_t c = 0; c < seg_reader_ncols(r); c++) {
        const seg_col_info *ci = seg_reader_col(r, c);
        sink += strlen(ci->name);
        if (ci->has_minmax && (ci->type == SCHEMA_STRING || ci->type == SCHEMA_BYTES))
            for (uint32_t k = 0; k < ci->min.u.bytes.len; k++) sink += ci->min.u.bytes.ptr[k];
        if (ci->dict)
            for (uint32_t id = 0; id < ci->cardinality && id < 4096; id++)
                if (seg_reader_dict_value(r, c, id, v) == 0 &&
                    (ci->type == SCHEMA_STRING || ci->type == SCHEMA_BYTES) && v[0].u.bytes.len)
                    sink += v[0].u.bytes.ptr[v[0].u.bytes.len - 1];
        for (uint64_t row = 0; row < rows; row++) {
            sink += seg_reader_is_null(r, c, row);
            int64_t n = ci->single_value ? (seg_reader_value(r, c, row, v) == 0)
                                         : seg_reader_mv(r, c, row, v, 16);
            if (n < 0) abort(); /* valid col/row must be served */
            for (int64_t k = 0; k < n && k < 16; k++) {
                if (ci->type == SCHEMA_STRING || ci->type == SCHEMA_BYTES) {
                    if (v[k].u.bytes.len) sink += v[k].u.bytes.ptr[0] + v[k].u.bytes.ptr[v[k].u.bytes.len - 1];
                } else {
                    sink += (uint64_t)v[k].u.i64;
                }
            }
        }
    }
    (void)sink;
    seg_reader_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    exercise(data, size);
    if (size < SEG_FMT_HDR_LEN + SEG_FMT_TRAILER_LEN || size > (1u << 22)) return 0;
    uint8_t *b = malloc(size);
    if (!b) abort();
    memcpy(b, data, size);
    uint64_t len = size;
    memcpy(b + SEG_FMT_H_FILE_LEN, &len, 8);
    uint32_t version;
    memcpy(&version, b + SEG_FMT_H_VERSION, 4);
    uint32_t h = seg_fmt_header_crc(b, version); /* the rule of the file's version */
    memcpy(b + SEG_FMT_H_HEADER_CRC, &h, 4);
    uint32_t c = seg_fmt_trailer_crc(b, size - 4);
    memcpy(b + size - 4, &c, 4);
    exercise(b, size);
    free(b);
    return 0;
}
