/* libFuzzer target for the batch file readers (consumer/filesrc): the first input byte picks
 * the format (its value mod 3: JSON lines, CSV, Avro object container file), the rest is the
 * file, handed over through a memfd so that the real open, map and (for gzip magic) inflate
 * paths run. Every record is read to the end or to the file's error; each file is read twice
 * and must give the same sequence of rows, rejects and errors (no state is left behind). The
 * sanitizers see any bad pointer or length. */
#include "common/schema.h"
#include "consumer/filesrc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static const char schema_json[] =
    "{\"schemaName\":\"f\",\"dimensionFieldSpecs\":["
    "{\"name\":\"a\",\"dataType\":\"STRING\"},{\"name\":\"b\",\"dataType\":\"INT\"},"
    "{\"name\":\"c\",\"dataType\":\"STRING\",\"singleValueField\":false},"
    "{\"name\":\"m\",\"dataType\":\"JSON\"}],"
    "\"metricFieldSpecs\":[{\"name\":\"e\",\"dataType\":\"DOUBLE\"}]}";

static schema *S;

/* A digest of every outcome of reading the file: rows (their first column's length and
 * value count), rejects with their reason, the end or error. */
static uint64_t read_all(const char *path, filesrc_format fmt)
{
    char err[512];
    filesrc *f = filesrc_open(path, fmt, S, NULL, NULL, err, sizeof err);
    if (!f) return 1;
    uint64_t h = 1469598103934665603ull;
    const row *r;
    rowdec_reason why;
    filesrc_status st;
    while ((st = filesrc_next(f, &r, &why)) == FILESRC_ROW || st == FILESRC_REJECT) {
        uint64_t x = st == FILESRC_ROW ? (uint64_t)r->cols[0].v.u.bytes.len << 8 | r->cols[2].nvals
                                       : 0xdead0000ull | why;
        if (st == FILESRC_ROW && !r->cols[0].is_null && r->cols[0].v.u.bytes.len)
            x ^= r->cols[0].v.u.bytes.ptr[r->cols[0].v.u.bytes.len - 1]; /* readable */
        size_t tl;
        const char *t = filesrc_text(f, &tl);
        if (t && tl) x ^= (uint64_t)(unsigned char)t[tl - 1] << 40;
        h = (h ^ x) * 1099511628211ull;
    }
    h ^= st == FILESRC_ERROR ? 0x5555 : 0x7777;
    filesrc_free(f);
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!S) {
        char err[512];
        S = schema_parse(schema_json, strlen(schema_json), "f", err, sizeof err);
        if (!S) abort();
    }
    if (size == 0) return 0;
    int fd = memfd_create("fuzz_filesrc", 0);
    if (fd < 0) abort();
    if (size > 1 && write(fd, data + 1, size - 1) != (ssize_t)(size - 1)) abort();
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    filesrc_format fmt = (filesrc_format)(data[0] % 3);
    uint64_t a = read_all(path, fmt), b = read_all(path, fmt);
    close(fd);
    if (a != b) abort(); /* no state is left behind */
    return 0;
}
