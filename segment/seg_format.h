/* On-disk layout constants of a segment file, shared by the builder and the reader.
 *
 * docs/segment-format.md describes the format byte by byte; this header is its machine form.
 * Every multi-byte field is little-endian. Every section starts at a multiple of 8 bytes from
 * the start of the file and all padding is zero, so the same rows always give the same bytes
 * and a reader can mmap the file and load typed values in place.
 *
 *   [header 64 B][column directory ncols x 144 B][metadata][column sections ...][CRC-32C 4 B]
 *
 * Invariants a reader may rely on once seg_reader validated a file: every section lies inside
 * [0, file_len - 4), every bit width is 1..32, every dictionary id is < cardinality, every
 * offset array is non-decreasing and ends at its data's length.
 *
 * The trailer (the segment's `crc` everywhere in Sluice) is the CRC-32C of every byte before it
 * (DESIGN §3), computed by seg_fmt_trailer_crc(); the header CRC by seg_fmt_header_crc(), by
 * the rule of the file's version. Nowhere else, so the builder, the reader and every tool
 * agree. */
#ifndef SL_SEG_FORMAT_H
#define SL_SEG_FORMAT_H

#include "segment/crc32c.h"

#include <stdint.h>

#define SEG_FMT_MAGIC "SLUICESG" /* 8 bytes, no NUL stored */
#define SEG_FMT_MAGIC_LEN 8
#define SEG_FMT_VERSION_1 1u /* header CRC: CRC-32C of [0, 60); read only */
#define SEG_FMT_VERSION_2 2u /* header CRC: CRC-32C of [0, 64) with bytes [60, 64) zero */
#define SEG_FMT_VERSION SEG_FMT_VERSION_2 /* what the builder writes */
#define SEG_FMT_ALIGN 8u
#define SEG_FMT_TRAILER_LEN 4u /* CRC-32C, see seg_fmt_trailer_crc() */

/* Header (SEG_FMT_HDR_LEN bytes at offset 0). The magic, the version and the header CRC
 * (offset 60, over bytes [0, 60)) keep their places in every version, so a reader can tell
 * "newer version" (header CRC good, version unknown) from "damaged header". */
#define SEG_FMT_HDR_LEN 64u
#define SEG_FMT_H_MAGIC 0              /* 8  "SLUICESG" */
#define SEG_FMT_H_VERSION 8            /* u32 */
#define SEG_FMT_H_HEADER_LEN 12        /* u32, 64 in versions 1 and 2 */
#define SEG_FMT_H_FILE_LEN 16          /* u64, whole file including the trailer */
#define SEG_FMT_H_ROWS 24              /* u64 */
#define SEG_FMT_H_NCOLS 32             /* u32 */
#define SEG_FMT_H_FLAGS 36             /* u32, 0 in versions 1 and 2 */
#define SEG_FMT_H_COLDIR_OFF 40        /* u64 */
#define SEG_FMT_H_META_OFF 48          /* u64 */
#define SEG_FMT_H_META_LEN 56          /* u32 */
#define SEG_FMT_H_HEADER_CRC 60        /* u32, CRC-32C of bytes [0, 60) */

/* Column directory entry (SEG_FMT_COL_LEN bytes each, ncols entries at coldir_off). */
#define SEG_FMT_COL_LEN 144u
#define SEG_FMT_C_NAME_OFF 0           /* u64, file offset of the NUL-terminated name */
#define SEG_FMT_C_NAME_LEN 8           /* u32, without the NUL */
#define SEG_FMT_C_TYPE 12              /* u8, schema_type */
#define SEG_FMT_C_FLAGS 13             /* u8, SEG_FMT_CF_* */
#define SEG_FMT_C_BITS 14              /* u8, dictionary id width 1..32; 0 for raw columns */
#define SEG_FMT_C_RESERVED0 15         /* u8, 0 */
#define SEG_FMT_C_CARDINALITY 16       /* u32, distinct values */
#define SEG_FMT_C_MIN_LEN 20           /* u32, STRING/BYTES: byte length of min, else 0 */
#define SEG_FMT_C_MAX_LEN 24           /* u32, STRING/BYTES: byte length of max, else 0 */
#define SEG_FMT_C_RESERVED1 28         /* u32, 0 */
#define SEG_FMT_C_NVALUES 32           /* u64, values stored (== rows for single-value) */
#define SEG_FMT_C_NULL_COUNT 40        /* u64, rows marked null */
#define SEG_FMT_C_MIN 48               /* u64, value bits (fixed types) or file offset (var) */
#define SEG_FMT_C_MAX 56               /* u64, likewise */
#define SEG_FMT_C_SECTIONS 64          /* SEG_FMT_SEC__COUNT x (u64 offset, u64 length) */

/* Section slots of a column, in the order they appear in the file. */
typedef enum seg_fmt_sec {
    SEG_FMT_SEC_DICT = 0, /* sorted dictionary: fixed values, or u32 offsets[card+1] (var) */
    SEG_FMT_SEC_BYTES,    /* var types: concatenated bytes of the dictionary or raw values */
    SEG_FMT_SEC_FWD,      /* packed ids (dict), fixed raw values, or u32 offsets[n+1] (raw var) */
    SEG_FMT_SEC_MV,       /* multi-value: u32 offsets[rows+1] into the values */
    SEG_FMT_SEC_NULLS,    /* null bitmap: u64 words, bit r&63 of word r>>6 */
    SEG_FMT_SEC__COUNT
} seg_fmt_sec;

/* Column flags. */
#define SEG_FMT_CF_SINGLE_VALUE 0x01u
#define SEG_FMT_CF_DICT 0x02u
#define SEG_FMT_CF_HAS_NULLS 0x04u
#define SEG_FMT_CF_HAS_MINMAX 0x08u /* set iff n_values > 0 */
#define SEG_FMT_CF__ALL 0x0Fu

/* Metadata section (at meta_off, meta_len bytes): a fixed part, then NUL-terminated strings
 * (segment name, table, schema JSON, column names). */
#define SEG_FMT_META_FIXED_LEN 64u
#define SEG_FMT_M_PARTITION 0          /* i32 */
#define SEG_FMT_M_TIME_COL 4           /* i32, column index or -1 */
#define SEG_FMT_M_SEQUENCE 8           /* i64 */
#define SEG_FMT_M_START_OFFSET 16      /* i64 */
#define SEG_FMT_M_END_OFFSET 24        /* i64 */
#define SEG_FMT_M_TIME_MIN 32          /* i64 */
#define SEG_FMT_M_TIME_MAX 40          /* i64 */
#define SEG_FMT_M_NAME_LEN 48          /* u32 */
#define SEG_FMT_M_TABLE_LEN 52         /* u32 */
#define SEG_FMT_M_SCHEMA_LEN 56        /* u32 */
#define SEG_FMT_M_FLAGS 60             /* u32, SEG_FMT_MF_* */
#define SEG_FMT_MF_TIME_RANGE 0x01u    /* time_min/time_max are valid */
#define SEG_FMT_MF__ALL 0x01u

/* Limits: offsets inside the file are u32 for offset arrays, so a column holds at most
 * UINT32_MAX values and UINT32_MAX bytes of variable-length data. */
#define SEG_FMT_MAX_ROWS UINT32_MAX
#define SEG_FMT_MAX_COLS 65535u

/* The header CRC stored at SEG_FMT_H_HEADER_CRC, by the rule of the file's `version` (read
 * from the header before its CRC is checked; versions after 2 keep version 2's rule). buf
 * holds at least SEG_FMT_HDR_LEN bytes.
 *
 * Version 1 stores CRC(H) of H = bytes [0, 60). The trailer then covers H || CRC(H), and since
 * CRC(X || CRC(X)) is one constant for every X of a given length, the trailer did not depend
 * on the header at all: two files differing only in [0, 60) (header CRC fixed up) had the same
 * trailer. Version 2 stores CRC(H || 0 0 0 0), the CRC of the whole 64-byte header computed
 * with its CRC field zero. That value is not the running CRC of H, so H || CRC(H || 0000) no
 * longer cancels: the trailer changes with every header byte, as with every other byte. */
static inline uint32_t seg_fmt_header_crc(const uint8_t *buf, uint32_t version)
{
    uint32_t crc = crc32c_update(0, buf, SEG_FMT_H_HEADER_CRC);
    if (version == SEG_FMT_VERSION_1) return crc;
    static const uint8_t zero[4];
    return crc32c_update(crc, zero, sizeof zero);
}

/* The CRC-32C trailer of a segment whose trailer starts at data_end (= file_len - 4): the
 * CRC-32C of every byte before it, the value stored in the last 4 bytes (every version). */
static inline uint32_t seg_fmt_trailer_crc(const uint8_t *buf, uint64_t data_end)
{
    return crc32c_update(0, buf, data_end);
}

#endif
