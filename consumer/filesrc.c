/* Batch input files -> rows (consumer/filesrc.h).
 *
 * The whole file is mapped (or read, for stdin, or inflated, for gzip) once. JSON lines are
 * decoded a line at a time; CSV goes through csvscan's text mode (its header, then a record
 * at a time); an Avro object container file is walked block by block (Avro 1.x spec, "Object
 * Container Files"): the header's metadata map gives the writer schema and the codec, each
 * block is inflated into one buffer, and its records are decoded where they lie, each
 * decode saying how many bytes its record took. */
#include "consumer/filesrc.h"

#include "common/xalloc.h"

#include <avro.h>
#include <errno.h>
#include <jansson.h>
#include <fcntl.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

typedef enum avro_codec { CODEC_NULL, CODEC_DEFLATE, CODEC_SNAPPY, CODEC_ZSTD } avro_codec;

struct filesrc {
    filesrc_format fmt;
    rowdec *dec;
    tcfg view;    /* CSV and Avro: t's copy as the decoder sees it (never tcfg_free-d) */
    bool own_csv; /* view.csv holds the reader's defaults, owned here */
    void *map;    /* the mapped file, or NULL */
    size_t map_len;
    uint8_t *own; /* the file read (stdin) or inflated (gzip), or NULL */
    const uint8_t *data;
    size_t len, pos;
    uint64_t recno; /* records read */
    uint64_t line;  /* JSON: the line at pos (from 1) */
    bool in_array;  /* JSON: inside the file's top-level array */
    bool more;      /* the last message has rows left (complexTypeConfig) */
    /* Avro */
    char *schema_json;
    avro_codec codec;
    uint8_t sync[16];
    uint8_t *blk; /* the inflated block */
    size_t blk_cap;
    const uint8_t *bp;           /* the block's next record */
    size_t brest;                /* its bytes left */
    uint64_t block, bleft, bidx; /* block number (from 1), records left in it, record index */
    bool bbad;                   /* a record of the block did not decode: the rest are rejects */
    const char *text;            /* the record's text for filesrc_text */
    size_t text_len;
    char where[64];
    char err[256];
};

filesrc_format filesrc_format_named(const char *name)
{
    if (!strcasecmp(name, "json")) return FILESRC_JSON;
    if (!strcasecmp(name, "csv")) return FILESRC_CSV;
    if (!strcasecmp(name, "avro")) return FILESRC_AVRO;
    return FILESRC_NONE;
}

filesrc_format filesrc_format_of_path(const char *path)
{
    size_t n = strlen(path);
    if (n > 3 && !strcasecmp(path + n - 3, ".gz")) n -= 3;
    static const struct {
        const char *ext;
        filesrc_format f;
    } exts[] = {{".json", FILESRC_JSON}, {".jsonl", FILESRC_JSON}, {".ndjson", FILESRC_JSON},
                {".csv", FILESRC_CSV},   {".tsv", FILESRC_CSV},    {".avro", FILESRC_AVRO}};
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        size_t e = strlen(exts[i].ext);
        if (n > e && !strncasecmp(path + n - e, exts[i].ext, e)) return exts[i].f;
    }
    return FILESRC_NONE;
}

/* ---- reading the bytes ---------------------------------------------------------------- */

static int read_all(filesrc *f, int fd, const char *path, char *err, size_t errlen)
{
    size_t cap = 1 << 16, n = 0;
    uint8_t *b = sl_xmalloc(cap);
    for (;;) {
        if (n == cap) b = sl_xrealloc(b, cap *= 2);
        ssize_t r = read(fd, b + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            free(b);
            return -1;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    f->own = b;
    f->data = b;
    f->len = n;
    return 0;
}

/* A gzip file's content (any number of members, as Java's GZIPInputStream reads them). */
static int gunzip(filesrc *f, const char *path, char *err, size_t errlen)
{
    z_stream z = {0};
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
        snprintf(err, errlen, "%s: zlib: out of memory", path);
        return -1;
    }
    size_t cap = f->len * 4 + 4096, n = 0;
    uint8_t *out = sl_xmalloc(cap);
    z.next_in = (Bytef *)f->data;
    z.avail_in = 0;
    size_t in_left = f->len;
    int rc = Z_OK;
    while (rc != Z_STREAM_END || in_left || z.avail_in) {
        if (rc == Z_STREAM_END) { /* another member follows */
            if (z.avail_in == 0 && in_left == 0) break;
            inflateReset(&z);
        }
        if (z.avail_in == 0) {
            uInt take = in_left > (1u << 30) ? (1u << 30) : (uInt)in_left;
            z.avail_in = take;
            in_left -= take;
        }
        if (n == cap) out = sl_xrealloc(out, cap *= 2);
        size_t room = cap - n > (1u << 30) ? (1u << 30) : cap - n;
        z.next_out = out + n;
        z.avail_out = (uInt)room;
        rc = inflate(&z, Z_NO_FLUSH);
        n += room - z.avail_out;
        if (rc != Z_OK && rc != Z_STREAM_END && !(rc == Z_BUF_ERROR && z.avail_out == 0)) {
            snprintf(err, errlen, "%s: not a valid gzip file at byte %lu: %s", path,
                     (unsigned long)z.total_in, z.msg ? z.msg : "truncated");
            inflateEnd(&z);
            free(out);
            return -1;
        }
        if (rc == Z_BUF_ERROR && z.avail_in == 0 && in_left == 0) {
            snprintf(err, errlen, "%s: the gzip file is truncated", path);
            inflateEnd(&z);
            free(out);
            return -1;
        }
    }
    inflateEnd(&z);
    if (f->map) munmap(f->map, f->map_len);
    f->map = NULL;
    free(f->own);
    f->own = out;
    f->data = out;
    f->len = n;
    return 0;
}

static int load_bytes(filesrc *f, const char *path, char *err, size_t errlen)
{
    if (!strcmp(path, "-")) {
        if (read_all(f, STDIN_FILENO, "stdin", err, errlen)) return -1;
    } else {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) != 0) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            if (fd >= 0) close(fd);
            return -1;
        }
        if (!S_ISREG(st.st_mode)) {
            int rc = read_all(f, fd, path, err, errlen);
            close(fd);
            if (rc) return -1;
        } else if (st.st_size > 0) {
            f->map_len = (size_t)st.st_size;
            f->map = mmap(NULL, f->map_len, PROT_READ, MAP_PRIVATE, fd, 0);
            close(fd);
            if (f->map == MAP_FAILED) {
                f->map = NULL;
                snprintf(err, errlen, "%s: %s", path, strerror(errno));
                return -1;
            }
            madvise(f->map, f->map_len, MADV_SEQUENTIAL);
            f->data = f->map;
            f->len = f->map_len;
        } else {
            close(fd);
            f->data = (const uint8_t *)"";
        }
    }
    if (f->len >= 2 && f->data[0] == 0x1f && f->data[1] == 0x8b)
        return gunzip(f, path, err, errlen);
    return 0;
}

/* ---- Avro object container files -------------------------------------------------------- */

/* A zig-zag varint at *p (Avro's long), at most 10 bytes. */
static int ocf_long(const uint8_t **p, const uint8_t *end, int64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (*p >= end) return -1;
        uint8_t b = *(*p)++;
        if (shift == 63 && b > 1) return -1;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
            return 0;
        }
    }
    return -1;
}

/* Avro bytes or string: a length, then that many bytes, all inside [*p, end). */
static int ocf_bytes(const uint8_t **p, const uint8_t *end, const uint8_t **b, size_t *n)
{
    int64_t l;
    if (ocf_long(p, end, &l) || l < 0 || l > end - *p) return -1;
    *b = *p;
    *n = (size_t)l;
    *p += l;
    return 0;
}

static int avro_header(filesrc *f, const char *path, char *err, size_t errlen)
{
    const uint8_t *p = f->data, *end = f->data + f->len;
    if (f->len < 4 || memcmp(p, "Obj\x01", 4) != 0) {
        snprintf(err, errlen, "%s: not an Avro object container file (no \"Obj\\x01\" magic)",
                 path);
        return -1;
    }
    p += 4;
    const uint8_t *codec = (const uint8_t *)"null";
    size_t codec_len = 4;
    for (;;) { /* the metadata map: blocks of key/value pairs, a 0 count ends it */
        int64_t count, size;
        if (ocf_long(&p, end, &count)) goto bad;
        if (count == 0) break;
        if (count < 0) {
            if (count == INT64_MIN || ocf_long(&p, end, &size)) goto bad;
            count = -count;
        }
        for (int64_t i = 0; i < count; i++) {
            const uint8_t *k, *v;
            size_t kn, vn;
            if (ocf_bytes(&p, end, &k, &kn) || ocf_bytes(&p, end, &v, &vn)) goto bad;
            if (kn == 11 && !memcmp(k, "avro.schema", 11)) {
                free(f->schema_json);
                f->schema_json = sl_xmemdupz(v, vn);
            } else if (kn == 10 && !memcmp(k, "avro.codec", 10)) {
                codec = v;
                codec_len = vn;
            }
        }
    }
    if (end - p < 16) goto bad;
    memcpy(f->sync, p, 16);
    p += 16;
    f->pos = (size_t)(p - f->data);
    if (!f->schema_json) {
        snprintf(err, errlen, "%s: the Avro file's header has no avro.schema", path);
        return -1;
    }
    static const struct {
        const char *name;
        avro_codec c;
    } codecs[] = {{"null", CODEC_NULL},
                  {"deflate", CODEC_DEFLATE},
                  {"snappy", CODEC_SNAPPY},
                  {"zstandard", CODEC_ZSTD}};
    for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++)
        if (codec_len == strlen(codecs[i].name) && !memcmp(codec, codecs[i].name, codec_len)) {
            f->codec = codecs[i].c;
            return 0;
        }
    snprintf(err, errlen,
             "%s: Avro codec \"%.*s\" is not supported (null, deflate, snappy, zstandard are)",
             path, (int)(codec_len > 32 ? 32 : codec_len), (const char *)codec);
    return -1;
bad:
    snprintf(err, errlen, "%s: the Avro file's header is corrupt at byte %zu", path,
             (size_t)(p - f->data));
    return -1;
}

static void blk_room(filesrc *f, size_t need)
{
    if (need > f->blk_cap) {
        f->blk_cap = need;
        f->blk = sl_xrealloc(f->blk, need);
    }
}

/* Inflate a deflate or zstandard block into f->blk, growing it up to FILESRC_MAX_BLOCK. */
static int inflate_block(filesrc *f, const uint8_t *in, size_t n, size_t *out)
{
    size_t got = 0;
    blk_room(f, n * 4 + 4096);
    if (f->codec == CODEC_DEFLATE) {
        z_stream z = {0};
        if (inflateInit2(&z, -MAX_WBITS) != Z_OK) return -1;
        z.next_in = (Bytef *)in;
        z.avail_in = (uInt)n;
        int rc;
        do {
            if (got == f->blk_cap) {
                if (f->blk_cap >= FILESRC_MAX_BLOCK) break;
                blk_room(f,
                         f->blk_cap * 2 > FILESRC_MAX_BLOCK ? FILESRC_MAX_BLOCK : f->blk_cap * 2);
            }
            z.next_out = f->blk + got;
            z.avail_out = (uInt)(f->blk_cap - got);
            rc = inflate(&z, Z_NO_FLUSH);
            got = f->blk_cap - z.avail_out;
        } while (rc == Z_OK || (rc == Z_BUF_ERROR && z.avail_out == 0));
        inflateEnd(&z);
        if (rc != Z_STREAM_END) return -1;
    } else {
        ZSTD_DStream *z = ZSTD_createDStream();
        ZSTD_inBuffer zi = {in, n, 0};
        size_t rc = 1;
        while (rc != 0) {
            if (got == f->blk_cap) {
                if (f->blk_cap >= FILESRC_MAX_BLOCK) break;
                blk_room(f,
                         f->blk_cap * 2 > FILESRC_MAX_BLOCK ? FILESRC_MAX_BLOCK : f->blk_cap * 2);
            }
            ZSTD_outBuffer zo = {f->blk, f->blk_cap, got};
            rc = ZSTD_decompressStream(z, &zo, &zi);
            got = zo.pos;
            if (ZSTD_isError(rc) || (zi.pos == zi.size && zo.pos < zo.size && rc != 0)) {
                rc = 1;
                break;
            }
        }
        ZSTD_freeDStream(z);
        if (rc != 0) return -1;
    }
    *out = got;
    return 0;
}

/* The next block's frame: its record count, its bytes (inflated), its sync marker. */
static filesrc_status avro_block(filesrc *f)
{
    const uint8_t *p = f->data + f->pos, *end = f->data + f->len;
    int64_t count, size;
    if (p == end) return FILESRC_END;
    f->block++;
    if (ocf_long(&p, end, &count) || count < 0 || ocf_long(&p, end, &size) || size < 0 ||
        size > end - p || end - p - size < 16) {
        snprintf(f->err, sizeof f->err, "block %llu: corrupt block header at byte %zu",
                 (unsigned long long)f->block, f->pos);
        return FILESRC_ERROR;
    }
    const uint8_t *data = p;
    if (memcmp(p + size, f->sync, 16) != 0) {
        snprintf(f->err, sizeof f->err, "block %llu: wrong sync marker at byte %zu",
                 (unsigned long long)f->block, (size_t)(p + size - f->data));
        return FILESRC_ERROR;
    }
    f->pos = (size_t)(p + size + 16 - f->data);
    size_t n = (size_t)size;
    if (f->codec == CODEC_NULL) {
        f->bp = data;
        f->brest = n;
    } else if (f->codec == CODEC_SNAPPY) { /* snappy, then the CRC-32 of the plain bytes */
        size_t plain;
        if (n < 4 || snappy_uncompressed_length((const char *)data, n - 4, &plain) != SNAPPY_OK ||
            plain > FILESRC_MAX_BLOCK)
            goto bad;
        blk_room(f, plain ? plain : 1);
        if (snappy_uncompress((const char *)data, n - 4, (char *)f->blk, &plain) != SNAPPY_OK)
            goto bad;
        uint32_t want = (uint32_t)data[n - 4] << 24 | (uint32_t)data[n - 3] << 16 |
                        (uint32_t)data[n - 2] << 8 | data[n - 1];
        if ((uint32_t)crc32(crc32(0, NULL, 0), f->blk, (uInt)plain) != want) goto bad;
        f->bp = f->blk;
        f->brest = plain;
    } else {
        size_t plain;
        if (inflate_block(f, data, n, &plain)) goto bad;
        f->bp = f->blk;
        f->brest = plain;
    }
    f->bleft = (uint64_t)count;
    f->bidx = 0;
    f->bbad = false;
    return FILESRC_ROW;
bad:
    snprintf(f->err, sizeof f->err, "block %llu: the %s data does not decompress (byte %zu)",
             (unsigned long long)f->block,
             f->codec == CODEC_SNAPPY    ? "snappy"
             : f->codec == CODEC_DEFLATE ? "deflate"
                                         : "zstd",
             (size_t)(data - f->data));
    return FILESRC_ERROR;
}

/* ---- the source ----------------------------------------------------------------------- */

filesrc *filesrc_open(const char *path, filesrc_format fmt, const schema *s, const tcfg *t,
                      const tcfg_csv *csv, char *err, size_t errlen)
{
    if (fmt == FILESRC_CSV && t && t->complex) {
        snprintf(err, errlen,
                 "%s: complexTypeConfig unnests JSON and Avro input only; this file is CSV", path);
        return NULL;
    }
    filesrc *f = sl_xcalloc(1, sizeof *f);
    f->fmt = fmt;
    if (load_bytes(f, path, err, errlen)) goto fail;
    if (t) f->view = *t;
    f->view.decoder = fmt == FILESRC_CSV ? TCFG_DECODER_CSV : TCFG_DECODER_AVRO;
    if (fmt == FILESRC_JSON) {
        f->dec = rowdec_new_as(s, t, TCFG_DECODER_JSON, FILESRC_MAX_BLOCK);
        f->line = 1;
        if (f->len >= 3 && !memcmp(f->data, "\xEF\xBB\xBF", 3)) f->pos = 3; /* a BOM */
        size_t i = f->pos;
        while (i < f->len && (f->data[i] == ' ' || f->data[i] == '\t' || f->data[i] == '\r' ||
                              f->data[i] == '\n'))
            f->line += f->data[i++] == '\n';
        if (i < f->len && f->data[i] == '[') { /* one array of the records */
            f->in_array = true;
            f->pos = i + 1;
        } else {
            f->line = 1;
        }
    } else if (fmt == FILESRC_CSV) {
        if (!csv) { /* CSVRecordReaderConfig's defaults: an empty map */
            json_t *none = json_object();
            tcfg_csv_reader(none, path, "csv", &f->view.csv, err, errlen); /* cannot fail */
            json_decref(none);
            f->own_csv = true;
        } else {
            f->view.csv = *csv; /* borrowed, as the caller's */
        }
        f->dec = rowdec_new_as(s, &f->view, TCFG_DECODER_CSV, FILESRC_MAX_BLOCK);
        if (rowdec_csv_load(f->dec, f->data, f->len, f->err, sizeof f->err)) {
            snprintf(err, errlen, "%s: %s", path, f->err);
            goto fail;
        }
    } else {
        if (avro_header(f, path, err, errlen)) goto fail;
        char why[256];
        avro_schema_t sc;
        if (avro_schema_from_json_length(f->schema_json, strlen(f->schema_json), &sc)) {
            snprintf(err, errlen, "%s: the file's avro.schema does not parse: %s", path,
                     avro_strerror());
            goto fail;
        }
        int rec = avro_typeof(sc) == AVRO_RECORD;
        snprintf(why, sizeof why, "%s", avro_schema_type_name(sc));
        avro_schema_decref(sc);
        if (!rec) {
            snprintf(err, errlen, "%s: the file's schema is a %s, not a record", path, why);
            goto fail;
        }
        f->view.avro_schema = f->schema_json;
        f->view.avro_skip = 0;
        f->dec = rowdec_new_as(s, &f->view, TCFG_DECODER_AVRO, FILESRC_MAX_BLOCK);
        rowdec_avro_in_place(f->dec);
    }
    return f;
fail:
    filesrc_free(f);
    return NULL;
}

/* The next record of an Avro file: decoded where it lies in its block. */
static filesrc_status next_avro(filesrc *f, const row **r, rowdec_reason *why)
{
    while (f->bleft == 0) {
        filesrc_status st = avro_block(f);
        if (st != FILESRC_ROW) return st;
    }
    f->bleft--;
    f->bidx++;
    f->recno++;
    snprintf(f->where, sizeof f->where, "block %llu record %llu", (unsigned long long)f->block,
             (unsigned long long)f->bidx);
    if (f->bbad) {
        *why = ROWDEC_MALFORMED_AVRO; /* after a bad record no later one can be found */
        return FILESRC_REJECT;
    }
    *why = rowdec_decode(f->dec, f->bp, f->brest, r);
    if (*why != ROWDEC_MALFORMED_AVRO && *why != ROWDEC_EMPTY && *why != ROWDEC_OVERSIZED) {
        /* the record was read (a value that does not fit its column is the row's reject):
         * the next one starts after it */
        size_t used = rowdec_used(f->dec);
        f->bp += used;
        f->brest -= used;
        return FILESRC_ROW;
    }
    f->bbad = true;
    *why = ROWDEC_MALFORMED_AVRO; /* (empty: the block's bytes ran out) */
    return FILESRC_REJECT;
}

/* The end of the JSON value at p[0..n): past its closing brace or bracket (strings and their
 * escapes skipped), or n when it does not close; anything else (no object: a reject) ends at
 * its line's end, or in an array at a comma or the closing bracket. */
static size_t json_value_end(const uint8_t *p, size_t n, bool in_array)
{
    size_t i = 0;
    if (p[0] != '{' && p[0] != '[') {
        while (i < n && p[i] != '\n' && !(in_array && (p[i] == ',' || p[i] == ']')))
            i++;
        return i ? i : 1;
    }
    int depth = 0;
    bool str = false;
    for (; i < n; i++) {
        uint8_t c = p[i];
        if (str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                str = false;
        } else if (c == '"') {
            str = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if ((c == '}' || c == ']') && --depth == 0) {
            return i + 1;
        }
    }
    return n;
}

/* The next JSON value of the file, as Jackson's readValues gives Pinot's JSONRecordReader
 * them: values one after another (one a line, or pretty-printed over several), or the
 * elements of one top-level array. A value that does not parse and spans lines loses only
 * its first line: the next record may start on the next one (JSON lines' robustness). */
static filesrc_status next_json(filesrc *f, const row **r, rowdec_reason *why)
{
    for (;;) {
        while (f->pos < f->len) { /* whitespace, and an array's commas */
            uint8_t c = f->data[f->pos];
            if (c == '\n')
                f->line++;
            else if (!(c == ' ' || c == '\t' || c == '\r' || (f->in_array && c == ',')))
                break;
            f->pos++;
        }
        if (f->pos >= f->len) return FILESRC_END;
        if (f->in_array && f->data[f->pos] == ']') {
            f->in_array = false;
            f->pos++;
            continue;
        }
        const uint8_t *p = f->data + f->pos;
        size_t n = json_value_end(p, f->len - f->pos, f->in_array);
        *why = rowdec_decode(f->dec, p, n, r);
        const uint8_t *nl = memchr(p, '\n', n);
        if (*why == ROWDEC_MALFORMED_JSON && nl) {
            n = (size_t)(nl - p);
            *r = NULL;
        }
        f->recno++;
        snprintf(f->where, sizeof f->where, "%llu", (unsigned long long)f->line);
        for (const uint8_t *q = p; (q = memchr(q, '\n', (size_t)(p + n - q))); q++)
            f->line++;
        f->pos += n;
        f->text = (const char *)p;
        f->text_len = n && p[n - 1] == '\r' ? n - 1 : n;
        return FILESRC_ROW;
    }
}

filesrc_status filesrc_next(filesrc *f, const row **r, rowdec_reason *why)
{
    for (;;) {
        *r = NULL;
        *why = ROWDEC_OK;
        filesrc_status st;
        if (f->more) { /* the last record's next unnested row */
            f->more = rowdec_next(f->dec, why, r);
            if (!f->more) continue;
            st = FILESRC_ROW;
        } else if (f->fmt == FILESRC_JSON) {
            st = next_json(f, r, why);
            f->more = st == FILESRC_ROW; /* complexTypeConfig may unnest it into more */
        } else if (f->fmt == FILESRC_CSV) {
            bool end;
            f->text = NULL;
            *why = rowdec_csv_next(f->dec, r, &end);
            if (end) return FILESRC_END;
            f->recno++;
            snprintf(f->where, sizeof f->where, "record %llu", (unsigned long long)f->recno);
            st = FILESRC_ROW;
            if (*why != ROWDEC_OK && f->view.csv.stop_on_error) return FILESRC_END;
        } else {
            f->text = NULL;
            st = next_avro(f, r, why);
            f->more = st == FILESRC_ROW && !f->bbad; /* complexTypeConfig may unnest more */
        }
        if (st != FILESRC_ROW) return st;
        if (*why != ROWDEC_OK) return FILESRC_REJECT;
        if (*r) return FILESRC_ROW;
        /* the filter dropped it: on to the next */
    }
}

const char *filesrc_where(filesrc *f)
{
    return f->where;
}

const char *filesrc_text(const filesrc *f, size_t *len)
{
    if (f->fmt == FILESRC_CSV) {
        const char *p;
        rowdec_csv_span(f->dec, &p, len);
        return p;
    }
    *len = f->text ? f->text_len : 0;
    return f->text;
}

const char *filesrc_error(const filesrc *f)
{
    return f->err;
}

rowdec *filesrc_rowdec(filesrc *f)
{
    return f->dec;
}

void filesrc_free(filesrc *f)
{
    if (!f) return;
    rowdec_free(f->dec);
    if (f->own_csv) tcfg_csv_free(&f->view.csv);
    if (f->map) munmap(f->map, f->map_len);
    free(f->own);
    free(f->schema_json);
    free(f->blk);
    free(f);
}
