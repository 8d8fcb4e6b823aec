/* Batch input files (consumer/filesrc): CSV files as Pinot's CSVRecordReader reads them
 * (header, quoting across lines, recovery after a bad record, the reader's defaults), Avro
 * object container files written by avro-c (a real encoder) in each codec, and hostile
 * files: a wrong magic, a corrupt block frame, a record that does not decode, gzip. */
#include "common/schema.h"
#include "common/table_config.h"
#include "consumer/filesrc.h"

#include <avro.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cmocka.h>

#include "tests/unit/avro_test_enc.h"

static const char schema_json[] =
    "{\"schemaName\":\"s\",\"dimensionFieldSpecs\":["
    "{\"name\":\"name\",\"dataType\":\"STRING\"},"
    "{\"name\":\"age\",\"dataType\":\"INT\"},"
    "{\"name\":\"tags\",\"dataType\":\"STRING\",\"singleValueField\":false}],"
    "\"metricFieldSpecs\":[{\"name\":\"score\",\"dataType\":\"DOUBLE\"}]}";

static char dir[] = "/tmp/test_filesrc.XXXXXX";

static schema *load_schema(void)
{
    char err[1024];
    schema *s = schema_parse(schema_json, strlen(schema_json), "s", err, sizeof err);
    if (!s) fail_msg("%s", err);
    return s;
}

static char *write_file(const char *name, const void *data, size_t n)
{
    char *path = NULL;
    if (asprintf(&path, "%s/%s", dir, name) < 0) abort();
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
    return path;
}

/* Every row of a file: names (or "!reason"), ages, counted; the text of rejects kept. */
typedef struct got {
    int rows, rejects;
    char name[32][64];
    int32_t age[32];
    bool age_null[32];
    uint32_t ntags[32];
    char tag0[32][32];
    rowdec_reason why[32];
    char where[32][48];
} got;

static filesrc_status drain(filesrc *f, got *g)
{
    memset(g, 0, sizeof *g);
    const row *r;
    rowdec_reason why;
    filesrc_status st;
    int i = 0;
    while ((st = filesrc_next(f, &r, &why)) == FILESRC_ROW || st == FILESRC_REJECT) {
        assert_true(i < 32);
        snprintf(g->where[i], sizeof g->where[i], "%s", filesrc_where(f));
        if (st == FILESRC_REJECT) {
            g->rejects++;
            g->why[i] = why;
            snprintf(g->name[i], sizeof g->name[i], "!%s", rowdec_reason_name(why));
        } else {
            g->rows++;
            const row_col *c = &r->cols[0];
            snprintf(g->name[i], sizeof g->name[i], "%s%.*s", c->is_null ? "(null)" : "",
                     c->is_null ? 0 : (int)c->v.u.bytes.len, (const char *)c->v.u.bytes.ptr);
            g->age[i] = r->cols[1].v.u.i32;
            g->age_null[i] = r->cols[1].is_null;
            g->ntags[i] = r->cols[2].is_null ? 0 : r->cols[2].nvals;
            if (g->ntags[i])
                snprintf(g->tag0[i], sizeof g->tag0[i], "%.*s", (int)r->cols[2].mv[0].u.bytes.len,
                         (const char *)r->cols[2].mv[0].u.bytes.ptr);
        }
        i++;
    }
    return st;
}

static filesrc *open_csv(const char *text, const char *configs, char *err, size_t errlen,
                         tcfg_csv *o)
{
    char *path = write_file("in.csv", text, strlen(text));
    const tcfg_csv *use = NULL;
    if (configs) {
        json_error_t je;
        json_t *m = json_loads(configs, 0, &je);
        assert_non_null(m);
        if (tcfg_csv_reader(m, "t", "configs", o, err, errlen)) fail_msg("%s", err);
        json_decref(m);
        use = o;
    }
    static schema *s;
    if (!s) s = load_schema();
    filesrc *f = filesrc_open(path, FILESRC_CSV, s, NULL, use, err, errlen);
    free(path);
    return f;
}

static void test_csv_reader(void **state)
{
    (void)state;
    char err[512];
    got g;
    tcfg_csv o;
    /* the reader's defaults: ';' splits multi-value cells, spaces around cells go, a quoted
     * cell holds delimiters, quotes and newlines, an empty cell is null, a BOM is skipped */
    filesrc *f = open_csv("\xEF\xBB\xBFname,age,tags,score\n"
                          "alice, 30 ,a;b;c,1.5\n"
                          "\"bob, jr\",41,x,2\n"
                          "\"multi\nline \"\"quoted\"\"\",,,\n"
                          "\n"
                          "carol,7,\"p;q\",3\r\n"
                          "dave,8",
                          NULL, err, sizeof err, NULL);
    assert_non_null(f);
    assert_int_equal(drain(f, &g), FILESRC_END);
    assert_int_equal(g.rows, 5);
    assert_int_equal(g.rejects, 0);
    assert_string_equal(g.name[0], "alice");
    assert_int_equal(g.age[0], 30);
    assert_int_equal(g.ntags[0], 3);
    assert_string_equal(g.tag0[0], "a");
    assert_string_equal(g.name[1], "bob, jr");
    assert_string_equal(g.name[2], "multi\nline \"quoted\"");
    assert_true(g.age_null[2]);
    assert_int_equal(g.ntags[3], 2); /* a quoted cell is split too, as Pinot's extractor does */
    assert_string_equal(g.name[4], "dave");
    assert_int_equal(g.ntags[4], 0); /* a short record: the missing cells are null */
    assert_string_equal(g.where[4], "record 5");
    filesrc_free(f);

    /* a bad record is a reject and reading goes on at the next line (Pinot's recovery) */
    f = open_csv("name,age,tags,score\n"
                 "ok1,1,,\n"
                 "\"bad\" junk,2,,\n"
                 "ok2,abc,,\n"
                 "ok3,3,,\n",
                 NULL, err, sizeof err, NULL);
    assert_non_null(f);
    assert_int_equal(drain(f, &g), FILESRC_END);
    assert_int_equal(g.rows, 2);
    assert_int_equal(g.rejects, 2);
    assert_string_equal(g.name[1], "!malformed_csv");
    assert_string_equal(g.name[2], "!wrong_type");
    assert_string_equal(g.name[3], "ok3");
    filesrc_free(f);

    /* an unterminated quote: only its line is lost, the file goes on */
    f = open_csv("name,age,tags,score\n\"open,1,,\nnext,2,,\n", NULL, err, sizeof err, NULL);
    assert_non_null(f);
    drain(f, &g);
    assert_int_equal(g.rejects, 1);
    assert_int_equal(g.rows, 1);
    assert_string_equal(g.name[1], "next");
    filesrc_free(f);

    /* stopOnError ends the file at the first bad record */
    f = open_csv("name,age,tags,score\n\"x\" y,1,,\nz,2,,\n", "{\"stopOnError\":\"true\"}", err,
                 sizeof err, &o);
    assert_non_null(f);
    drain(f, &g);
    assert_int_equal(g.rows + g.rejects, 0);
    filesrc_free(f);
    tcfg_csv_free(&o);

    /* configured: a delimiter, a header (the file's first line is then data unless
     * skipHeader), a null string, no multi-value splitting */
    f = open_csv("n|a|t|s\nzed|5|u;v|1\nNULL|6|w|2\n",
                 "{\"delimiter\":\"|\",\"header\":\"name|age|tags|score\",\"skipHeader\":\"true\","
                 "\"nullStringValue\":\"NULL\",\"multiValueDelimiterEnabled\":\"false\"}",
                 err, sizeof err, &o);
    assert_non_null(f);
    drain(f, &g);
    assert_int_equal(g.rows, 2);
    assert_string_equal(g.name[0], "zed");
    assert_int_equal(g.ntags[0], 1);
    assert_string_equal(g.tag0[0], "u;v");
    assert_string_equal(g.name[1], "(null)");
    filesrc_free(f);
    tcfg_csv_free(&o);

    /* files refused whole, with the reason */
    assert_null(open_csv("", NULL, err, sizeof err, NULL));
    assert_non_null(strstr(err, "no header record"));
    f = open_csv("name;age;tags\nx;1;a\n", NULL, err, sizeof err, NULL);
    assert_non_null(f); /* one column named "name;age;tags" over one-column records */
    filesrc_free(f);
    assert_null(open_csv("name\tage\nx,1,2\n", NULL, err, sizeof err, NULL));
    assert_non_null(strstr(err, "does not contain the delimiter"));
    assert_null(open_csv("name,,age\nx,1,2\n", NULL, err, sizeof err, NULL));
    assert_non_null(strstr(err, "header column 2 has no name"));

    /* bad reader configs name every key */
    json_error_t je;
    json_t *m =
        json_loads("{\"delimiter\":\"ab\",\"bogus\":\"1\",\"stopOnError\":\"maybe\"}", 0, &je);
    assert_int_not_equal(
        tcfg_csv_reader(m, "job.yaml", "recordReaderSpec.configs", &o, err, sizeof err), 0);
    json_decref(m);
    assert_non_null(strstr(err, "recordReaderSpec.configs.delimiter"));
    assert_non_null(strstr(err, "recordReaderSpec.configs.bogus: unsupported key"));
    assert_non_null(strstr(err, "recordReaderSpec.configs.stopOnError"));
}

static void test_json_lines_and_gzip(void **state)
{
    (void)state;
    char err[512];
    got g;
    schema *s = load_schema();
    const char text[] =
        "{\"name\":\"a\",\"age\":1}\r\n\n   \n{bad\n{\"name\":\"b\",\"tags\":[\"t\"]}";
    /* gzip it with zlib, in two members, as concatenated .gz files are */
    uint8_t gz[512];
    size_t gzn = 0;
    for (int part = 0; part < 2; part++) {
        z_stream z = {0};
        assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
                         Z_OK);
        size_t half = sizeof text / 2;
        z.next_in = (Bytef *)text + (part ? half : 0);
        z.avail_in = (uInt)(part ? sizeof text - 1 - half : half);
        z.next_out = gz + gzn;
        z.avail_out = (uInt)(sizeof gz - gzn);
        assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
        gzn = sizeof gz - z.avail_out;
        deflateEnd(&z);
    }
    const char *names[] = {"in.jsonl", "in.jsonl.gz"};
    for (int k = 0; k < 2; k++) {
        char *path = k ? write_file(names[k], gz, gzn) : write_file(names[k], text, strlen(text));
        assert_int_equal(filesrc_format_of_path(path), FILESRC_JSON);
        filesrc *f = filesrc_open(path, FILESRC_JSON, s, NULL, NULL, err, sizeof err);
        if (!f) fail_msg("%s", err);
        assert_int_equal(drain(f, &g), FILESRC_END);
        assert_int_equal(g.rows, 2);
        assert_int_equal(g.rejects, 1);
        assert_string_equal(g.name[1], "!malformed_json");
        assert_string_equal(g.where[1], "4");
        size_t tl;
        filesrc_free(f);
        f = filesrc_open(path, FILESRC_JSON, s, NULL, NULL, err, sizeof err);
        const row *r;
        rowdec_reason why;
        filesrc_next(f, &r, &why);
        assert_int_equal(filesrc_next(f, &r, &why), FILESRC_REJECT);
        const char *t = filesrc_text(f, &tl);
        assert_int_equal(tl, 4);
        assert_memory_equal(t, "{bad", 4);
        filesrc_free(f);
        free(path);
    }
    /* a truncated gzip file is an error, not a short file */
    char *path = write_file("cut.json.gz", gz, gzn - 5); /* inside the last member's trailer */
    assert_null(filesrc_open(path, FILESRC_JSON, s, NULL, NULL, err, sizeof err));
    assert_non_null(strstr(err, "gzip"));
    free(path);
    schema_free(s);
}

/* JSON files as Pinot's JSONRecordReader reads them: pretty-printed values, a top-level
 * array; a bad value over several lines loses only its first line. */
static void test_json_values(void **state)
{
    (void)state;
    char err[512];
    got g;
    schema *s = load_schema();
    const char pretty[] = "{\n  \"name\": \"a\",\n  \"age\": 1\n}\n{\"name\": \"b{\\\"}\"}\n"
                          "{\"name\": \n{\"name\": \"c\"}\n";
    char *path = write_file("pretty.json", pretty, strlen(pretty));
    filesrc *f = filesrc_open(path, FILESRC_JSON, s, NULL, NULL, err, sizeof err);
    assert_non_null(f);
    assert_int_equal(drain(f, &g), FILESRC_END);
    assert_int_equal(g.rows, 3);
    assert_int_equal(g.rejects, 1);
    assert_string_equal(g.name[0], "a");
    assert_string_equal(g.name[1], "b{\"}"); /* braces and quotes inside strings */
    assert_string_equal(g.name[2], "!malformed_json");
    assert_string_equal(g.where[2], "6");
    assert_string_equal(g.name[3], "c");
    assert_string_equal(g.where[3], "7");
    filesrc_free(f);
    free(path);
    const char arr[] = "\n [ {\"name\": \"x\", \"tags\": [\"p\", \"q\"]},\n {\"name\": \"y\"} ]\n";
    path = write_file("array.json", arr, strlen(arr));
    f = filesrc_open(path, FILESRC_JSON, s, NULL, NULL, err, sizeof err);
    assert_non_null(f);
    assert_int_equal(drain(f, &g), FILESRC_END);
    assert_int_equal(g.rows, 2);
    assert_int_equal(g.rejects, 0);
    assert_string_equal(g.name[0], "x");
    assert_int_equal(g.ntags[0], 2);
    assert_string_equal(g.name[1], "y");
    assert_string_equal(g.where[1], "3");
    filesrc_free(f);
    free(path);
    schema_free(s);
}

/* ---- Avro ---------------------------------------------------------------------------- */

static const char avro_schema_text[] =
    "{\"type\":\"record\",\"name\":\"r\",\"fields\":["
    "{\"name\":\"name\",\"type\":[\"null\",\"string\"]},"
    "{\"name\":\"age\",\"type\":\"int\"},"
    "{\"name\":\"tags\",\"type\":{\"type\":\"array\",\"items\":\"string\"}},"
    "{\"name\":\"when\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}},"
    "{\"name\":\"score\",\"type\":\"double\"}]}";

/* An OCF file of n records by avro-c's writer in codec, small blocks so that there are
 * several; record i: name "n<i>" (null for i % 5 == 4), age i, tags i % 3 of them. */
static char *write_avro(const char *name, const char *codec, int n)
{
    char *path = NULL;
    if (asprintf(&path, "%s/%s", dir, name) < 0) abort();
    unlink(path);
    avro_schema_t sc;
    assert_int_equal(avro_schema_from_json_length(avro_schema_text, strlen(avro_schema_text), &sc),
                     0);
    avro_file_writer_t w;
    if (avro_file_writer_create_with_codec(path, sc, &w, codec, 256))
        fail_msg("avro writer: %s", avro_strerror());
    avro_value_iface_t *iface = avro_generic_class_from_schema(sc);
    avro_value_t rec, fv, br, item;
    avro_generic_value_new(iface, &rec);
    for (int i = 0; i < n; i++) {
        avro_value_reset(&rec);
        avro_value_get_by_index(&rec, 0, &fv, NULL);
        char nm[16];
        snprintf(nm, sizeof nm, "n%d", i);
        if (i % 5 == 4) {
            avro_value_set_branch(&fv, 0, &br);
            avro_value_set_null(&br);
        } else {
            avro_value_set_branch(&fv, 1, &br);
            avro_value_set_string(&br, nm);
        }
        avro_value_get_by_index(&rec, 1, &fv, NULL);
        avro_value_set_int(&fv, i);
        avro_value_get_by_index(&rec, 2, &fv, NULL);
        for (int k = 0; k < i % 3; k++) {
            avro_value_append(&fv, &item, NULL);
            avro_value_set_string(&item, k ? "second" : "first");
        }
        avro_value_get_by_index(&rec, 3, &fv, NULL);
        avro_value_set_long(&fv, 1700000000000LL + i);
        avro_value_get_by_index(&rec, 4, &fv, NULL);
        avro_value_set_double(&fv, i * 0.5);
        assert_int_equal(avro_file_writer_append_value(w, &rec), 0);
    }
    avro_file_writer_close(w);
    avro_value_decref(&rec);
    avro_value_iface_decref(iface);
    avro_schema_decref(sc);
    return path;
}

/* A record whose value does not fit its column is that row's reject only: the record was
 * read, so the rest of its block still is (a malformed record's block is not). */
static void test_avro_row_reject(void **state)
{
    (void)state;
    char err[512], path[256];
    got g;
    schema *s = load_schema();
    snprintf(path, sizeof path, "%s/ages.avro", dir);
    unlink(path);
    const char sj[] =
        "{\"type\":\"record\",\"name\":\"r\",\"fields\":["
        "{\"name\":\"name\",\"type\":\"string\"},{\"name\":\"age\",\"type\":\"string\"}]}";
    avro_schema_t sc;
    assert_int_equal(avro_schema_from_json_length(sj, strlen(sj), &sc), 0);
    avro_file_writer_t w;
    assert_int_equal(avro_file_writer_create_with_codec(path, sc, &w, "null", 4096), 0);
    avro_value_iface_t *iface = avro_generic_class_from_schema(sc);
    avro_value_t rec, fv;
    avro_generic_value_new(iface, &rec);
    const char *ages[] = {"1", "x", "3"};
    for (int i = 0; i < 3; i++) {
        avro_value_get_by_index(&rec, 0, &fv, NULL);
        avro_value_set_string(&fv, ages[i]);
        avro_value_get_by_index(&rec, 1, &fv, NULL);
        avro_value_set_string(&fv, ages[i]);
        assert_int_equal(avro_file_writer_append_value(w, &rec), 0);
    }
    avro_file_writer_close(w);
    avro_value_decref(&rec);
    avro_value_iface_decref(iface);
    avro_schema_decref(sc);
    filesrc *f = filesrc_open(path, FILESRC_AVRO, s, NULL, NULL, err, sizeof err);
    if (!f) fail_msg("%s", err);
    assert_int_equal(drain(f, &g), FILESRC_END);
    assert_int_equal(g.rows, 2);
    assert_int_equal(g.rejects, 1);
    assert_string_equal(g.name[1], "!wrong_type");
    assert_string_equal(g.name[2], "3");
    filesrc_free(f);
    schema_free(s);
}

static void check_avro_rows(const got *g, int n)
{
    assert_int_equal(g->rows, n);
    for (int i = 0; i < n; i++) {
        char nm[16];
        snprintf(nm, sizeof nm, "n%d", i);
        assert_string_equal(g->name[i], i % 5 == 4 ? "(null)" : nm);
        assert_int_equal(g->age[i], i);
        assert_int_equal(g->ntags[i], i % 3);
        if (i % 3) assert_string_equal(g->tag0[i], "first");
    }
}

static void test_avro_codecs(void **state)
{
    (void)state;
    char err[512];
    got g;
    schema *s = load_schema();
    const char *codecs[] = {"null", "deflate", "snappy"};
    for (size_t k = 0; k < 3; k++) {
        char name[32];
        snprintf(name, sizeof name, "in_%s.avro", codecs[k]);
        char *path = write_avro(name, codecs[k], 30);
        assert_int_equal(filesrc_format_of_path(path), FILESRC_AVRO);
        filesrc *f = filesrc_open(path, FILESRC_AVRO, s, NULL, NULL, err, sizeof err);
        if (!f) fail_msg("%s: %s", codecs[k], err);
        assert_int_equal(drain(f, &g), FILESRC_END);
        check_avro_rows(&g, 30);
        assert_int_equal(g.rejects, 0);
        filesrc_free(f);
        free(path);
    }
    /* an empty file of the format has no rows */
    char *path = write_avro("empty.avro", "null", 0);
    filesrc *f = filesrc_open(path, FILESRC_AVRO, s, NULL, NULL, err, sizeof err);
    assert_non_null(f);
    assert_int_equal(drain(f, &g), FILESRC_END);
    assert_int_equal(g.rows + g.rejects, 0);
    filesrc_free(f);
    free(path);
    schema_free(s);
}

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    rewind(f);
    uint8_t *b = malloc(*n + 1);
    assert_int_equal(fread(b, 1, *n, f), *n);
    fclose(f);
    return b;
}

static int64_t get_long(const uint8_t **p)
{
    uint64_t z = 0;
    for (int sh = 0;; sh += 7) {
        uint8_t c = *(*p)++;
        z |= (uint64_t)(c & 0x7f) << sh;
        if (!(c & 0x80)) break;
    }
    return (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
}

/* The null-codec file b[0..n) rewritten with its blocks in zstandard (which avro-c does not
 * write): the same header metadata but avro.codec, the same sync, each block recompressed. */
static uint8_t *to_zstd(const uint8_t *b, size_t n, size_t *out_n)
{
    uint8_t *o = malloc(n * 2 + 4096);
    size_t w = 0;
    const uint8_t *sync = b + n - 16, *p = b + 4;
    memcpy(o, "Obj\x01", 4);
    w = 4;
    w += avro_test_long(o + w, 2);
    const char *keys[] = {"avro.schema", "avro.codec"};
    const char *vals[] = {avro_schema_text, "zstandard"};
    for (int k = 0; k < 2; k++) {
        w += avro_test_long(o + w, (int64_t)strlen(keys[k]));
        memcpy(o + w, keys[k], strlen(keys[k]));
        w += strlen(keys[k]);
        w += avro_test_long(o + w, (int64_t)strlen(vals[k]));
        memcpy(o + w, vals[k], strlen(vals[k]));
        w += strlen(vals[k]);
    }
    w += avro_test_long(o + w, 0);
    memcpy(o + w, sync, 16);
    w += 16;
    while (memcmp(p, sync, 16) != 0) /* to the end of the header */
        p++;
    p += 16;
    while (p < b + n) {
        int64_t count = get_long(&p), size = get_long(&p);
        uint8_t z[8192];
        size_t zn = ZSTD_compress(z, sizeof z, p, (size_t)size, 3);
        assert_false(ZSTD_isError(zn));
        w += avro_test_long(o + w, count);
        w += avro_test_long(o + w, (int64_t)zn);
        memcpy(o + w, z, zn);
        w += zn;
        memcpy(o + w, sync, 16);
        w += 16;
        p += size + 16;
    }
    *out_n = w;
    return o;
}

static void test_avro_zstd(void **state)
{
    (void)state;
    char err[512];
    got g;
    schema *s = load_schema();
    char *path = write_avro("plain.avro", "null", 30);
    size_t n, zn;
    uint8_t *b = slurp(path, &n);
    uint8_t *z = to_zstd(b, n, &zn);
    char *zp = write_file("in_zstd.avro", z, zn);
    filesrc *f = filesrc_open(zp, FILESRC_AVRO, s, NULL, NULL, err, sizeof err);
    if (!f) fail_msg("%s", err);
    assert_int_equal(drain(f, &g), FILESRC_END);
    check_avro_rows(&g, 30);
    filesrc_free(f);
    /* a corrupt compressed block is an error naming the codec */
    z[zn - 20] ^= 0x55;
    free(zp);
    zp = write_file("bad_zstd.avro", z, zn);
    f = filesrc_open(zp, FILESRC_AVRO, s, NULL, NULL, err, sizeof err);
    assert_non_null(f);
    filesrc_status st;
    while ((st = drain(f, &g)) != FILESRC_ERROR && st != FILESRC_END) {
    }
    assert_int_equal(st, FILESRC_ERROR);
    assert_non_null(strstr(filesrc_error(f), "zstd"));
    filesrc_free(f);
    free(zp);
    free(z);
    free(b);
    free(path);
    schema_free(s);
}

static void test_avro_hostile(void **state)
{
    (void)state;
    char err[512];
    got g;
    schema *s = load_schema();
    char *path = write_avro("good.avro", "null", 12);
    size_t n;
    uint8_t *b = slurp(path, &n);

    /* not an Avro file */
    char *p2 = write_file("x.avro", "Obj\x02", 4);
    assert_null(filesrc_open(p2, FILESRC_AVRO, s, NULL, NULL, err, sizeof err));
    assert_non_null(strstr(err, "magic"));
    free(p2);
    /* every truncation of the header is refused or reads as a cut file, never crashes */
    for (size_t cut = 0; cut < n; cut += 7) {
        p2 = write_file("cut.avro", b, cut);
        filesrc *f = filesrc_open(p2, FILESRC_AVRO, s, NULL, NULL, err, sizeof err);
        if (f) {
            filesrc_status st = drain(f, &g);
            assert_true(st == FILESRC_END || st == FILESRC_ERROR);
            filesrc_free(f);
        }
        free(p2);
    }
    /* the sync marker of the first block flipped: an error naming the block */
    uint8_t *bad = malloc(n);
    memcpy(bad, b, n);
    /* the file ends with a sync marker: its first copy ends the header, its second the
     * first block */
    const uint8_t *sync = NULL;
    for (size_t i = 4; i + 16 <= n && !sync; i++)
        if (!memcmp(b + i, b + n - 16, 16)) sync = b + i;
    for (size_t j = (size_t)(sync - b) + 16; j + 16 <= n; j++)
        if (!memcmp(b + j, sync, 16)) {
            bad[j] ^= 0xff;
            break;
        }
    assert_non_null(sync);
    p2 = write_file("sync.avro", bad, n);
    filesrc *f = filesrc_open(p2, FILESRC_AVRO, s, NULL, NULL, err, sizeof err);
    assert_non_null(f);
    assert_int_equal(drain(f, &g), FILESRC_ERROR);
    assert_non_null(strstr(filesrc_error(f), "block 1: wrong sync marker"));
    filesrc_free(f);
    free(p2);

    /* a record whose union branch is out of range: it and the rest of its block are
     * rejected one by one, and the next block reads again */
    memcpy(bad, b, n);
    size_t after_sync = (size_t)(sync - b) + 16; /* the first block: count, size, records */
    size_t q = after_sync;
    while (bad[q] & 0x80)
        q++;
    q++;
    while (bad[q] & 0x80)
        q++;
    q++;
    bad[q] = 0x08; /* branch 4 of a two-branch union */
    p2 = write_file("branch.avro", bad, n);
    f = filesrc_open(p2, FILESRC_AVRO, s, NULL, NULL, err, sizeof err);
    if (!f) fail_msg("%s", err);
    assert_int_equal(drain(f, &g), FILESRC_END);
    assert_true(g.rejects > 0);
    assert_int_equal(g.rows + g.rejects, 12);
    assert_string_equal(g.name[0], "!malformed_avro");
    assert_string_equal(g.where[0], "block 1 record 1");
    filesrc_free(f);
    free(p2);
    free(bad);
    free(b);
    free(path);

    /* a record schema is required, and the codec must be one of ours */
    assert_null(filesrc_open("/nonexistent/x.avro", FILESRC_AVRO, s, NULL, NULL, err, sizeof err));
    assert_non_null(strstr(err, "No such file"));
    schema_free(s);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_reader),      cmocka_unit_test(test_json_lines_and_gzip),
        cmocka_unit_test(test_avro_codecs),     cmocka_unit_test(test_avro_zstd),
        cmocka_unit_test(test_avro_row_reject), cmocka_unit_test(test_json_values),
        cmocka_unit_test(test_avro_hostile),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
