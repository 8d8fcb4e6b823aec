/* Segment reader and verifier on damaged input: every single-byte flip is rejected as
 * corruption, every truncation as truncation, a newer version as a format error; structural
 * damage behind a recomputed CRC (what a hostile or buggy writer produces) is caught by the
 * up-front validation with an offset in the message. Also file-level errors, accessor
 * argument checks, unaligned buffers, and the golden fuzz seeds in tests/fuzz/corpus/.
 *
 * SLUICE_SEG_WRITE_CORPUS=DIR makes test_corpus_seeds (re)write the seeds into DIR instead of
 * checking them; that is how tests/fuzz/corpus/seg_reader/ was produced. */
#include "common/sl_err.h"
#include "segment/crc32c.h"
#include "segment/seg_builder.h"
#include "segment/seg_format.h"
#include "segment/seg_reader.h"
#include "seg_test_src.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

static uint8_t *build_fixture(size_t *len, bool empty)
{
    ts_src *t = ts_fixture_small();
    seg_src v = *ts_view(t, "ts");
    if (empty) v.rows = 0;
    uint8_t *buf;
    char err[256];
    assert_int_equal(seg_build_mem(&v, &ts_fixture_meta, &buf, len, err, sizeof err), 0);
    ts_free(t);
    return buf;
}

static uint8_t *dup_buf(const uint8_t *b, size_t len)
{
    uint8_t *d = malloc(len + 1);
    assert_non_null(d);
    memcpy(d, b, len);
    return d;
}

/* Recompute both checksums, as a writer with a structural bug would. */
static void refix(uint8_t *b, size_t len)
{
    uint32_t h = crc32c_update(0, b, SEG_FMT_H_HEADER_CRC);
    memcpy(b + SEG_FMT_H_HEADER_CRC, &h, 4);
    uint32_t c = crc32c_update(0, b, len - 4);
    memcpy(b + len - 4, &c, 4);
}

static uint64_t rd64(const uint8_t *b, uint64_t off)
{
    uint64_t v;
    memcpy(&v, b + off, 8);
    return v;
}
static uint32_t rd32(const uint8_t *b, uint64_t off)
{
    uint32_t v;
    memcpy(&v, b + off, 4);
    return v;
}
static void wr64(uint8_t *b, uint64_t off, uint64_t v) { memcpy(b + off, &v, 8); }
static void wr32(uint8_t *b, uint64_t off, uint32_t v) { memcpy(b + off, &v, 4); }

/* File offset of column col's directory entry. */
static uint64_t col_entry(const uint8_t *b, uint32_t col)
{
    return rd64(b, SEG_FMT_H_COLDIR_OFF) + (uint64_t)col * SEG_FMT_COL_LEN;
}
static uint64_t sec_field(const uint8_t *b, uint32_t col, int sec)
{
    return col_entry(b, col) + SEG_FMT_C_SECTIONS + 16 * (uint64_t)sec;
}

/* verify and open_mem agree on the code; returns it. */
static int check_both(const uint8_t *b, size_t len, char *msg, size_t msglen)
{
    int rc = seg_verify_mem(b, len, msg, msglen);
    int err = 12345;
    char m2[256];
    seg_reader *r = seg_reader_open_mem(b, len, &err, m2, sizeof m2);
    if (rc == 0) {
        assert_non_null(r);
        assert_int_equal(err, 0);
        seg_reader_close(r);
    } else {
        assert_null(r);
        assert_int_equal(err, rc);
    }
    return rc;
}

static void test_valid_fixture(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = build_fixture(&len, false);
    char msg[256];
    assert_int_equal(check_both(b, len, msg, sizeof msg), 0);
    assert_string_equal(msg, "ok");
    free(b);
}

/* Every single-byte change anywhere (8 single-bit flips and a full inversion per byte) is
 * reported as corruption by both entry points. */
static void test_every_byte_flip(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = build_fixture(&len, false);
    char msg[256];
    static const uint8_t masks[] = {1, 2, 4, 8, 16, 32, 64, 128, 0xFF, 0x5A};
    for (size_t i = 0; i < len; i++) {
        for (size_t m = 0; m < sizeof masks; m++) {
            b[i] ^= masks[m];
            int rc = check_both(b, len, msg, sizeof msg);
            if (rc != SL_ECORRUPT) fail_msg("flip 0x%02x at %zu: rc %d (%s)", masks[m], i, rc, msg);
            assert_non_null(strstr(msg, "offset "));
            b[i] ^= masks[m];
        }
    }
    assert_int_equal(check_both(b, len, msg, sizeof msg), 0);
    free(b);
}

/* Every proper prefix is a truncation, reported as such; the message names the offset. */
static void test_every_truncation(void **state)
{
    (void)state;
    for (int empty = 0; empty < 2; empty++) {
        size_t len;
        uint8_t *b = build_fixture(&len, empty);
        char msg[256];
        for (size_t n = 0; n < len; n++) {
            uint8_t *p = dup_buf(b, n); /* exact-size copy: ASan catches any overread */
            int rc = check_both(p, n, msg, sizeof msg);
            if (rc != SL_ETRUNC) fail_msg("prefix %zu of %zu: rc %d (%s)", n, len, rc, msg);
            free(p);
        }
        free(b);
    }
}

static void test_extra_bytes_and_garbage(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = build_fixture(&len, false);
    char msg[256];
    uint8_t *p = malloc(len + 8);
    memcpy(p, b, len);
    memset(p + len, 0, 8);
    assert_int_equal(check_both(p, len + 1, msg, sizeof msg), SL_ECORRUPT);
    assert_non_null(strstr(msg, "after the recorded end"));
    free(p);
    const char *junk = "this is not a segment file at all, just some text that goes on and on.......";
    assert_int_equal(check_both((const uint8_t *)junk, strlen(junk), msg, sizeof msg), SL_ECORRUPT);
    assert_non_null(strstr(msg, "magic"));
    assert_int_equal(check_both((const uint8_t *)"SLU", 3, msg, sizeof msg), SL_ETRUNC);
    assert_int_equal(check_both((const uint8_t *)"XY", 2, msg, sizeof msg), SL_ECORRUPT);
    assert_int_equal(check_both(NULL, 0, msg, sizeof msg), SL_ETRUNC);
    free(b);
}

static void test_newer_version(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = build_fixture(&len, false);
    char msg[256];
    wr32(b, SEG_FMT_H_VERSION, 2);
    assert_int_equal(check_both(b, len, msg, sizeof msg), SL_ECORRUPT); /* header CRC now wrong */
    refix(b, len);
    assert_int_equal(check_both(b, len, msg, sizeof msg), SL_EFORMAT);
    assert_non_null(strstr(msg, "version 2"));
    assert_non_null(strstr(msg, "offset 8"));
    free(b);
}

typedef struct mutation {
    const char *name;
    const char *expect; /* substring of the message */
    void (*apply)(uint8_t *b, size_t len);
} mutation;

/* Fixture columns: 0 country STRING dict sv (null at row 3), 1 tags STRING dict mv,
 * 2 clicks INT dict (6 values, 3 bits), 3 ok BOOLEAN dict, 4 price DOUBLE raw (null),
 * 5 ratio FLOAT dict, 6 blob BYTES raw, 7 ids LONG raw mv, 8 ts TIMESTAMP raw. */
static void m_bits33(uint8_t *b, size_t l) { (void)l; b[col_entry(b, 2) + SEG_FMT_C_BITS] = 33; }
static void m_bits0(uint8_t *b, size_t l) { (void)l; b[col_entry(b, 2) + SEG_FMT_C_BITS] = 0; }
static void m_raw_bits(uint8_t *b, size_t l) { (void)l; b[col_entry(b, 4) + SEG_FMT_C_BITS] = 3; }
static void m_id_range(uint8_t *b, size_t l)
{
    (void)l; /* clicks: cardinality 6 in 3 bits; make the first id 7 */
    b[rd64(b, sec_field(b, 2, SEG_FMT_SEC_FWD))] |= 7;
}
static void m_id_range_last(uint8_t *b, size_t l)
{
    (void)l; /* the 6th (last) packed id: bits 15..17 */
    uint64_t o = rd64(b, sec_field(b, 2, SEG_FMT_SEC_FWD));
    uint64_t w = rd64(b, o);
    wr64(b, o, w | ((uint64_t)7 << 15));
}
static void m_sec_oob(uint8_t *b, size_t l) { wr64(b, sec_field(b, 4, SEG_FMT_SEC_FWD), (uint64_t)l & ~7ull); }
static void m_sec_huge(uint8_t *b, size_t l) { (void)l; wr64(b, sec_field(b, 4, SEG_FMT_SEC_FWD), UINT64_MAX - 7); }
static void m_sec_misaligned(uint8_t *b, size_t l)
{
    (void)l;
    uint64_t f = sec_field(b, 8, SEG_FMT_SEC_FWD);
    wr64(b, f, rd64(b, f) + 4);
}
static void m_sec_len(uint8_t *b, size_t l)
{
    (void)l;
    uint64_t f = sec_field(b, 8, SEG_FMT_SEC_FWD) + 8;
    wr64(b, f, rd64(b, f) - 8);
}
static void m_sec_unexpected(uint8_t *b, size_t l)
{
    (void)l; /* a dictionary section on a raw column */
    wr64(b, sec_field(b, 4, SEG_FMT_SEC_DICT), rd64(b, sec_field(b, 4, SEG_FMT_SEC_FWD)));
    wr64(b, sec_field(b, 4, SEG_FMT_SEC_DICT) + 8, 8);
}
static void m_mv_decreasing(uint8_t *b, size_t l)
{
    (void)l;
    uint64_t o = rd64(b, sec_field(b, 7, SEG_FMT_SEC_MV));
    wr32(b, o + 8, 0); /* row 1 ends before row 0 */
}
static void m_mv_end(uint8_t *b, size_t l)
{
    (void)l;
    uint64_t o = rd64(b, sec_field(b, 1, SEG_FMT_SEC_MV));
    wr32(b, o + 6 * 4, 1000);
}
static void m_var_offsets(uint8_t *b, size_t l)
{
    (void)l; /* country dictionary: entry 1 starts far past the bytes */
    uint64_t o = rd64(b, sec_field(b, 0, SEG_FMT_SEC_DICT));
    wr32(b, o + 4, 0x7FFFFFFF);
}
static void m_raw_var_offsets(uint8_t *b, size_t l)
{
    (void)l; /* blob raw offsets: first not zero */
    uint64_t o = rd64(b, sec_field(b, 6, SEG_FMT_SEC_FWD));
    wr32(b, o, 1);
}
static void m_null_count(uint8_t *b, size_t l)
{
    (void)l;
    wr64(b, col_entry(b, 0) + SEG_FMT_C_NULL_COUNT, 2);
}
static void m_null_tail(uint8_t *b, size_t l)
{
    (void)l; /* a null bit past the last row (row 7 of 6), count adjusted */
    uint64_t o = rd64(b, sec_field(b, 0, SEG_FMT_SEC_NULLS));
    b[o] |= 0x80;
    wr64(b, col_entry(b, 0) + SEG_FMT_C_NULL_COUNT, 2);
}
static void m_null_flag(uint8_t *b, size_t l)
{
    (void)l;
    b[col_entry(b, 8) + SEG_FMT_C_FLAGS] |= SEG_FMT_CF_HAS_NULLS;
}
static void m_name_nul(uint8_t *b, size_t l)
{
    (void)l;
    uint64_t e = col_entry(b, 0);
    b[rd64(b, e + SEG_FMT_C_NAME_OFF) + rd32(b, e + SEG_FMT_C_NAME_LEN)] = 'X';
}
static void m_name_oob(uint8_t *b, size_t l) { wr64(b, col_entry(b, 3) + SEG_FMT_C_NAME_OFF, l - 6); }
static void m_time_col(uint8_t *b, size_t l)
{
    (void)l;
    wr32(b, rd64(b, SEG_FMT_H_META_OFF) + SEG_FMT_M_TIME_COL, 99);
}
static void m_meta_strings(uint8_t *b, size_t l)
{
    (void)l;
    wr32(b, rd64(b, SEG_FMT_H_META_OFF) + SEG_FMT_M_SCHEMA_LEN, 0x10000);
}
static void m_meta_oob(uint8_t *b, size_t l) { (void)l; wr32(b, SEG_FMT_H_META_LEN, 0xFFFFFFF0u); }
static void m_ncols(uint8_t *b, size_t l) { (void)l; wr32(b, SEG_FMT_H_NCOLS, 100000); }
static void m_ncols_fit(uint8_t *b, size_t l) { (void)l; wr32(b, SEG_FMT_H_NCOLS, 60); }
static void m_rows(uint8_t *b, size_t l) { (void)l; wr64(b, SEG_FMT_H_ROWS, 7); }
static void m_rows_huge(uint8_t *b, size_t l) { (void)l; wr64(b, SEG_FMT_H_ROWS, (uint64_t)1 << 40); }
static void m_coldir(uint8_t *b, size_t l) { wr64(b, SEG_FMT_H_COLDIR_OFF, l); }
static void m_type(uint8_t *b, size_t l) { (void)l; b[col_entry(b, 5) + SEG_FMT_C_TYPE] = 9; }
static void m_type_width(uint8_t *b, size_t l)
{
    (void)l; /* INT -> LONG: the dictionary no longer has the right length */
    b[col_entry(b, 2) + SEG_FMT_C_TYPE] = SCHEMA_LONG;
}
static void m_flags(uint8_t *b, size_t l) { (void)l; b[col_entry(b, 5) + SEG_FMT_C_FLAGS] |= 0x40; }
static void m_sv_flag(uint8_t *b, size_t l) { (void)l; b[col_entry(b, 7) + SEG_FMT_C_FLAGS] |= SEG_FMT_CF_SINGLE_VALUE; }
static void m_card_zero(uint8_t *b, size_t l) { (void)l; wr32(b, col_entry(b, 8) + SEG_FMT_C_CARDINALITY, 0); }
static void m_max_oob(uint8_t *b, size_t l) { wr64(b, col_entry(b, 0) + SEG_FMT_C_MAX, l - 5); }
static void m_min_int(uint8_t *b, size_t l) { (void)l; wr64(b, col_entry(b, 2) + SEG_FMT_C_MIN, (uint64_t)1 << 40); }
static void m_header_flags(uint8_t *b, size_t l) { (void)l; wr32(b, SEG_FMT_H_FLAGS, 1); }
static void m_file_len_small(uint8_t *b, size_t l) { (void)l; wr64(b, SEG_FMT_H_FILE_LEN, 10); }

static const mutation mutations[] = {
    {"bits 33", "bit width", m_bits33},
    {"bits 0", "bit width", m_bits0},
    {"raw with bits", "raw column", m_raw_bits},
    {"first id >= cardinality", "dictionary id 7", m_id_range},
    {"last id >= cardinality", "dictionary id 7", m_id_range_last},
    {"section past the end", "out of bounds", m_sec_oob},
    {"section offset overflow", "out of bounds", m_sec_huge},
    {"misaligned section", "misaligned", m_sec_misaligned},
    {"section length", "expected", m_sec_len},
    {"unexpected section", "unexpected dictionary", m_sec_unexpected},
    {"mv offsets decreasing", "multi-value offset", m_mv_decreasing},
    {"mv offsets end", "multi-value offset", m_mv_end},
    {"dictionary byte offsets", "byte offset", m_var_offsets},
    {"raw byte offsets", "byte offset", m_raw_var_offsets},
    {"null count", "null bitmap", m_null_count},
    {"null bit past last row", "null bitmap", m_null_tail},
    {"null flag without count", "null count", m_null_flag},
    {"name not terminated", "name", m_name_nul},
    {"name out of bounds", "name", m_name_oob},
    {"time column", "time column", m_time_col},
    {"metadata strings", "metadata strings", m_meta_strings},
    {"metadata bounds", "metadata section", m_meta_oob},
    {"too many columns", "column count", m_ncols},
    {"more columns than written", "", m_ncols_fit},
    {"row count", "values for", m_rows},
    {"row count huge", "row count", m_rows_huge},
    {"column directory", "column directory", m_coldir},
    {"unknown type", "unknown type", m_type},
    {"type width", "expected", m_type_width},
    {"unknown flag", "unknown flags", m_flags},
    {"single-value flag on mv", "values for", m_sv_flag},
    {"cardinality zero", "cardinality", m_card_zero},
    {"max bytes out of bounds", "min/max", m_max_oob},
    {"int min not sign-extended", "min/max", m_min_int},
    {"header flags", "header flags", m_header_flags},
    {"file length too small", "recorded file length", m_file_len_small},
};

/* Structural damage behind valid checksums is caught up front, never by a later access. */
static void test_structural_damage(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = build_fixture(&len, false);
    char msg[256];
    for (size_t i = 0; i < sizeof mutations / sizeof mutations[0]; i++) {
        uint8_t *p = dup_buf(b, len);
        mutations[i].apply(p, len);
        refix(p, len);
        int rc = check_both(p, len, msg, sizeof msg);
        if (rc != SL_ECORRUPT || !strstr(msg, mutations[i].expect) || strncmp(msg, "offset ", 7) != 0)
            fail_msg("%s: rc %d, message '%s'", mutations[i].name, rc, msg);
        free(p);
    }
    free(b);
}

static void test_accessors(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = build_fixture(&len, false);
    seg_reader *r = seg_reader_open_mem(b, len, NULL, NULL, 0);
    assert_non_null(r);
    schema_value v[4];
    assert_int_equal(seg_reader_value(r, 99, 0, v), SL_EINVAL);
    assert_int_equal(seg_reader_value(r, 0, 6, v), SL_EINVAL);
    assert_int_equal(seg_reader_value(r, 1, 0, v), SL_EINVAL); /* multi-value */
    assert_int_equal(seg_reader_mv(r, 0, 0, v, 4), SL_EINVAL); /* single-value */
    assert_int_equal(seg_reader_mv(r, 1, 6, v, 4), SL_EINVAL);
    assert_int_equal(seg_reader_mv(r, 99, 0, v, 4), SL_EINVAL);
    /* tags row 2 has 2 values ("c", "b"): cap 1 returns the count, writes one */
    memset(v, 0xAB, sizeof v);
    assert_int_equal(seg_reader_mv(r, 1, 2, v, 1), 2);
    assert_int_equal(v[0].u.bytes.len, 1);
    assert_memory_equal(v[0].u.bytes.ptr, "c", 1);
    uint8_t pattern[sizeof v[1]];
    memset(pattern, 0xAB, sizeof pattern);
    assert_memory_equal(&v[1], pattern, sizeof pattern);
    assert_int_equal(seg_reader_mv(r, 1, 0, v, 4), 0); /* empty row */
    assert_int_equal(seg_reader_mv(r, 1, 2, NULL, 0), 2);
    assert_int_equal(seg_reader_dict_value(r, 4, 0, v), SL_EINVAL); /* raw */
    assert_int_equal(seg_reader_dict_value(r, 99, 0, v), SL_EINVAL);
    assert_null(seg_reader_col(r, 9));
    assert_int_equal(seg_reader_find_col(r, "nope"), -1);
    assert_int_equal(seg_reader_find_col(r, "ts"), 8);
    assert_false(seg_reader_is_null(r, 0, 100));
    /* values straight from the fixture */
    assert_int_equal(seg_reader_value(r, 0, 4, v), 0);
    assert_int_equal(v[0].u.bytes.len, 5);
    assert_memory_equal(v[0].u.bytes.ptr, "\xc3\xa9t\xc3\xa9", 5);
    assert_int_equal(seg_reader_value(r, 2, 5, v), 0);
    assert_int_equal(v[0].u.i32, 25);
    assert_int_equal(seg_reader_value(r, 8, 5, v), 0);
    assert_int_equal(v[0].u.i64, 1700000005000ll);
    assert_int_equal(seg_reader_mv(r, 7, 1, v, 4), 2);
    assert_int_equal(v[0].u.i64, 1000);
    assert_int_equal(v[1].u.i64, -1);
    const seg_col_info *ci = seg_reader_col(r, 0);
    assert_int_equal(ci->cardinality, 4); /* fr de "" ete */
    assert_int_equal(ci->min.u.bytes.len, 0);
    assert_memory_equal(ci->max.u.bytes.ptr, "\xc3\xa9t\xc3\xa9", 5);
    size_t n;
    assert_ptr_equal(seg_reader_bytes(r, &n), b);
    assert_int_equal(n, len);
    seg_reader_close(r);
    seg_reader_close(NULL);
    free(b);
}

/* Any alignment of a borrowed buffer works. */
static void test_unaligned(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = build_fixture(&len, false);
    uint8_t *p = malloc(len + 8);
    for (size_t a = 1; a < 8; a += 2) {
        memcpy(p + a, b, len);
        seg_reader *r = seg_reader_open_mem(p + a, len, NULL, NULL, 0);
        assert_non_null(r);
        schema_value v;
        assert_int_equal(seg_reader_value(r, 4, 1, &v), 0);
        assert_true(v.u.f64 == -0.75);
        seg_reader_close(r);
    }
    free(p);
    free(b);
}

static char tmpdir[256];

static int setup_dir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_seg_reader.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *path, const uint8_t *b, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, len, f), len);
    fclose(f);
}

static void test_files(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = build_fixture(&len, false);
    char path[512], msg[256];
    int err = 0;
    snprintf(path, sizeof path, "%s/none.seg", tmpdir);
    assert_null(seg_reader_open(path, &err, msg, sizeof msg));
    assert_int_equal(err, SL_ENOENT);
    assert_int_equal(seg_verify_file(path, msg, sizeof msg), SL_ENOENT);
    assert_int_equal(seg_verify_file(tmpdir, msg, sizeof msg), SL_EIO);
    snprintf(path, sizeof path, "%s/empty.seg", tmpdir);
    write_file(path, b, 0);
    assert_int_equal(seg_verify_file(path, msg, sizeof msg), SL_ETRUNC);
    snprintf(path, sizeof path, "%s/half.seg", tmpdir);
    write_file(path, b, len / 2);
    assert_int_equal(seg_verify_file(path, msg, sizeof msg), SL_ETRUNC);
    assert_non_null(strstr(msg, "truncated"));
    snprintf(path, sizeof path, "%s/bad.seg", tmpdir);
    b[len / 2] ^= 1;
    write_file(path, b, len);
    assert_int_equal(seg_verify_file(path, msg, sizeof msg), SL_ECORRUPT);
    assert_non_null(strstr(msg, "CRC"));
    b[len / 2] ^= 1;
    snprintf(path, sizeof path, "%s/good.seg", tmpdir);
    write_file(path, b, len);
    assert_int_equal(seg_verify_file(path, msg, sizeof msg), 0);
    seg_reader *r = seg_reader_open(path, &err, msg, sizeof msg);
    assert_non_null(r);
    assert_int_equal(err, 0);
    assert_int_equal(seg_reader_rows(r), 6);
    assert_string_equal(seg_reader_table(r), "events");
    unlink(path); /* the mapping stays valid */
    schema_value v;
    assert_int_equal(seg_reader_value(r, 0, 0, &v), 0);
    assert_memory_equal(v.u.bytes.ptr, "fr", 2);
    seg_reader_close(r);
    free(b);
}

/* ---- fuzz seeds: tests/fuzz/corpus/seg_reader ---- */

typedef struct seed {
    const char *name;
    int expect;
} seed;

static const seed seeds[] = {
    {"valid_small.seg", 0},          {"valid_empty.seg", 0},
    {"trunc_small_half.seg", SL_ETRUNC}, {"corrupt_small_flip.seg", SL_ECORRUPT},
    {"version_small_v2.seg", SL_EFORMAT}, {"corrupt_small_bits.seg", SL_ECORRUPT},
    {"corrupt_small_id.seg", SL_ECORRUPT}, {"corrupt_small_mvoff.seg", SL_ECORRUPT},
};

static uint8_t *make_seed(const char *name, size_t *len)
{
    size_t l;
    uint8_t *b = build_fixture(&l, strcmp(name, "valid_empty.seg") == 0);
    *len = l;
    if (strcmp(name, "trunc_small_half.seg") == 0) *len = l / 2;
    if (strcmp(name, "corrupt_small_flip.seg") == 0) b[l / 2] ^= 0x20;
    if (strcmp(name, "version_small_v2.seg") == 0) {
        wr32(b, SEG_FMT_H_VERSION, 2);
        refix(b, l);
    }
    if (strcmp(name, "corrupt_small_bits.seg") == 0) {
        m_bits33(b, l);
        refix(b, l);
    }
    if (strcmp(name, "corrupt_small_id.seg") == 0) {
        m_id_range_last(b, l);
        refix(b, l);
    }
    if (strcmp(name, "corrupt_small_mvoff.seg") == 0) {
        m_mv_decreasing(b, l);
        refix(b, l);
    }
    return b;
}

/* The committed seeds are exactly what this build produces (the format and the builder's
 * output are stable) and each one gets its expected verdict. */
static void test_corpus_seeds(void **state)
{
    (void)state;
    const char *out = getenv("SLUICE_SEG_WRITE_CORPUS");
    const char *data = getenv("SLUICE_TEST_DATA");
    char dir[1024], path[1200], msg[256];
    if (out)
        snprintf(dir, sizeof dir, "%s", out);
    else if (data)
        snprintf(dir, sizeof dir, "%s/../fuzz/corpus/seg_reader", data);
    else
        skip();
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        size_t len;
        uint8_t *b = make_seed(seeds[i].name, &len);
        snprintf(path, sizeof path, "%s/%s", dir, seeds[i].name);
        if (out) {
            write_file(path, b, len);
        } else {
            FILE *f = fopen(path, "rb");
            if (!f) fail_msg("missing seed %s", path);
            uint8_t *disk = malloc(len + 1);
            size_t got = fread(disk, 1, len + 1, f);
            fclose(f);
            if (got != len || memcmp(disk, b, len) != 0)
                fail_msg("%s differs from what this build produces", seeds[i].name);
            free(disk);
        }
        int rc = seg_verify_file(path, msg, sizeof msg);
        if (rc != seeds[i].expect) fail_msg("%s: rc %d (%s)", seeds[i].name, rc, msg);
        free(b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_fixture),
        cmocka_unit_test(test_every_byte_flip),
        cmocka_unit_test(test_every_truncation),
        cmocka_unit_test(test_extra_bytes_and_garbage),
        cmocka_unit_test(test_newer_version),
        cmocka_unit_test(test_structural_damage),
        cmocka_unit_test(test_accessors),
        cmocka_unit_test(test_unaligned),
        cmocka_unit_test_setup_teardown(test_files, setup_dir, teardown_dir),
        cmocka_unit_test(test_corpus_seeds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
