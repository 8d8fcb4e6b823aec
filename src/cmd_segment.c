/* `sluice segment build | info | dump | verify` (DESIGN §3 Commands, §10 Build).
 *
 * build: JSON-lines, CSV or Avro files -> filesrc (the row decoder) -> mutable segment ->
 * immutable segment file, the same path a partition consumer takes, so a file built here is
 * byte-identical to one a replica builds from the same rows. Bad rows are skipped and counted
 * per reason (--rejects keeps them, --strict makes the first one fatal). */
#include "common/clock.h"
#include "common/bigdec.h"
#include "common/jsonw.h"
#include "common/schema.h"
#include "common/sl_err.h"
#include "common/table_config.h"
#include "common/xalloc.h"
#include "consumer/filesrc.h"
#include "consumer/mseg.h"
#include "segment/seg_builder.h"
#include "segment/seg_reader.h"
#include "src/cmds.h"

#include <getopt.h>
#include <jansson.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_INPUTS 256

static const char segment_usage[] =
    "usage: sluice segment build --schema S.json --input FILE [--input ...] --out FILE\n"
    "                            [--name N] [--table-config T.json] [--rejects FILE] [--strict]\n"
    "                            [--input-format json|csv|avro] [--csv-delimiter C]\n"
    "       sluice segment build --job-spec JOB.yaml [--schema S.json] [--table-config T.json]\n"
    "       sluice segment info FILE\n"
    "       sluice segment dump FILE [--format jsonl|csv]\n"
    "       sluice segment verify FILE\n"
    "\n"
    "build   decode JSON lines, CSV (a header row) or Avro container files (by extension:\n"
    "        .json .jsonl .csv .tsv .avro, optionally .gz; else JSON) into a segment; rows\n"
    "        that fail to decode are skipped and counted per reason on stderr (--rejects\n"
    "        keeps them, --strict makes any fatal); --table-config supplies the table's\n"
    "        columns, transforms and time column. --job-spec runs Pinot's\n"
    "        SegmentGenerationJobSpec: one segment per input file (docs/batch.md)\n"
    "info    metadata as JSON: name, rows, crc, offsets, columns with type, cardinality,\n"
    "        min and max\n"
    "dump    rows in stored order, as JSON lines (default) or CSV\n"
    "verify  structure and CRC check; exit 0 only when valid, 3 when truncated,\n"
    "        1 when corrupt, 4 when the format version is unknown\n";

/* Segment name from the output path: basename without a trailing ".seg". */
static void default_name(const char *out, char *name, size_t cap)
{
    const char *base = strrchr(out, '/');
    base = base ? base + 1 : out;
    size_t n = strlen(base);
    if (n > 4 && strcmp(base + n - 4, ".seg") == 0) n -= 4;
    if (n >= cap) n = cap - 1;
    memcpy(name, base, n);
    name[n] = '\0';
}

static int cmd_build(int argc, char **argv)
{
    const char *schema_path = NULL, *out = NULL, *name = NULL, *table_path = NULL;
    const char *rejects_path = NULL, *csv_delim = NULL;
    filesrc_format fmt = FILESRC_NONE;
    const char *inputs[MAX_INPUTS];
    int ninputs = 0, strict = 0;
    static const struct option opts[] = {{"schema", required_argument, 0, 's'},
                                         {"input", required_argument, 0, 'i'},
                                         {"out", required_argument, 0, 'o'},
                                         {"name", required_argument, 0, 'n'},
                                         {"table-config", required_argument, 0, 't'},
                                         {"rejects", required_argument, 0, 'r'},
                                         {"strict", no_argument, 0, 'S'},
                                         {"input-format", required_argument, 0, 'F'},
                                         {"csv-delimiter", required_argument, 0, 'D'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            schema_path = optarg;
            break;
        case 'i':
            if (ninputs == MAX_INPUTS) {
                fprintf(stderr, "sluice segment build: at most %d --input files\n", MAX_INPUTS);
                return 2;
            }
            inputs[ninputs++] = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'n':
            name = optarg;
            break;
        case 't':
            table_path = optarg;
            break;
        case 'r':
            rejects_path = optarg;
            break;
        case 'S':
            strict = 1;
            break;
        case 'F':
            if ((fmt = filesrc_format_named(optarg)) == FILESRC_NONE) {
                fprintf(stderr,
                        "sluice segment build: --input-format %s: expected json, csv or avro\n",
                        optarg);
                return 2;
            }
            break;
        case 'D':
            csv_delim = optarg;
            break;
        case 'h':
            fputs(segment_usage, stdout);
            return 0;
        default:
            fputs(segment_usage, stderr);
            return 2;
        }
    }
    if (!schema_path || !out || ninputs == 0 || optind != argc) {
        fputs("sluice segment build: --schema, --input and --out are required\n", stderr);
        fputs(segment_usage, stderr);
        return 2;
    }

    int rc = 1;
    char err[4096]; /* every refused key of a config, a line each */
    schema *s = NULL;
    tcfg *t = NULL;
    filesrc *src = NULL;
    tcfg_csv csvo;
    bool have_csvo = false;
    mseg *m = NULL;
    FILE *rej = NULL;
    uint64_t counts[ROWDEC_REASON__COUNT] = {0};
    uint64_t rows = 0, bad = 0, filtered = 0;
    char segname[256];

    if (table_path ? tcfg_load_pair(schema_path, table_path, &s, &t, err, sizeof err) != 0
                   : !(s = schema_load(schema_path, err, sizeof err))) {
        fprintf(stderr, "sluice segment build: %s\n", err);
        goto done;
    }
    if (t) {
        if (t->ncarried) {
            tcfg_carried_text(t, err, sizeof err);
            fprintf(stderr, "sluice segment build: %s: accepted, not used by ingestion: %s\n",
                    table_path, err);
        }
    }
    if (rejects_path && !(rej = fopen(rejects_path, "w"))) {
        perror(rejects_path);
        goto done;
    }
    if (csv_delim) {
        json_t *m = json_pack("{ss}", "delimiter", csv_delim);
        int crc = tcfg_csv_reader(m, "--csv-delimiter", "csv", &csvo, err, sizeof err);
        json_decref(m);
        if (crc) {
            fprintf(stderr, "sluice segment build: %s\n", err);
            goto done;
        }
        have_csvo = true;
    }
    m = mseg_new(s, t ? t->no_dictionary : NULL);
    bool tty = isatty(STDERR_FILENO);
    double t0 = sl_clock_mono_s(), last = t0;
    for (int f = 0; f < ninputs; f++) {
        filesrc_format ff = fmt != FILESRC_NONE ? fmt : filesrc_format_of_path(inputs[f]);
        if (ff == FILESRC_NONE) ff = FILESRC_JSON; /* stdin and unknown extensions */
        src = filesrc_open(inputs[f], ff, s, t, have_csvo ? &csvo : NULL, err, sizeof err);
        if (!src) {
            fprintf(stderr, "sluice segment build: %s\n", err);
            goto done;
        }
        const char *last_rejected = NULL;
        const row *r;
        rowdec_reason why;
        filesrc_status st;
        while ((st = filesrc_next(src, &r, &why)) != FILESRC_END) {
            if (st == FILESRC_ERROR) {
                fprintf(stderr, "sluice segment build: %s: %s\n", inputs[f], filesrc_error(src));
                goto done;
            }
            if (st == FILESRC_ROW) {
                int arc = mseg_append(m, r);
                if (arc != 0) {
                    fprintf(stderr, "sluice segment build: %s:%s: %s\n", inputs[f],
                            filesrc_where(src), sluice_strerror(arc));
                    goto done;
                }
                rows++;
            } else {
                bad++;
                counts[why]++;
                rowdec *dec = filesrc_rowdec(src);
                const char *field = rowdec_error_field(dec);
                if (strict) {
                    fprintf(stderr, "sluice segment build: %s:%s: %s%s%s%s%s\n", inputs[f],
                            filesrc_where(src), rowdec_reason_name(why), *field ? " in field " : "",
                            field, *rowdec_error_detail(dec) ? ": " : "", rowdec_error_detail(dec));
                    goto done;
                }
                size_t tl;
                const char *text = filesrc_text(src, &tl);
                if (rej && !text) { /* Avro: binary records, so where and why */
                    jsonw w;
                    jsonw_init(&w);
                    jsonw_obj_begin(&w);
                    jsonw_key(&w, "file");
                    jsonw_cstr(&w, inputs[f]);
                    jsonw_key(&w, "at");
                    jsonw_cstr(&w, filesrc_where(src));
                    jsonw_key(&w, "reason");
                    jsonw_cstr(&w, rowdec_reason_name(why));
                    jsonw_key(&w, "detail");
                    jsonw_cstr(&w, rowdec_error_detail(dec));
                    jsonw_obj_end(&w);
                    jsonw_text(&w, "\n", 1);
                    fwrite(w.buf, 1, w.len, rej);
                    jsonw_free(&w);
                } else if (rej &&
                           text != last_rejected) { /* a record once, whatever it unnests to */
                    fwrite(text, 1, tl, rej);
                    if (!tl || text[tl - 1] != '\n') fputc('\n', rej);
                    last_rejected = text;
                }
            }
            if (tty && (rows + bad) % 65536 == 0 && sl_clock_mono_s() - last > 0.5) {
                last = sl_clock_mono_s();
                fprintf(stderr, "\r%s: %" PRIu64 " rows, %" PRIu64 " rejected", inputs[f], rows,
                        bad);
            }
        }
        filtered += rowdec_filtered(filesrc_rowdec(src));
        filesrc_free(src);
        src = NULL;
    }
    if (tty) fputc('\n', stderr);

    const char *time_column = t && t->time_column ? t->time_column : NULL;
    for (uint32_t i = 0; !time_column && i < s->nfields; i++)
        if (s->fields[i].role == SCHEMA_DATETIME) time_column = s->fields[i].name;
    if (!name) {
        default_name(out, segname, sizeof segname);
        name = segname;
    }
    seg_meta_in meta = {.name = name,
                        .table = t ? t->table_name : s->name,
                        .partition = -1,
                        .sequence = -1,
                        .start_offset = -1,
                        .end_offset = -1};
    uint32_t crc = 0;
    uint64_t size = 0;
    double tb = sl_clock_mono_s();
    int brc = mseg_build_file(m, time_column, &meta, out, &crc, &size, err, sizeof err);
    if (brc != 0) {
        fprintf(stderr, "sluice segment build: %s: %s\n", out, err);
        goto done;
    }
    char ftext[48] = "";
    if (filtered) snprintf(ftext, sizeof ftext, " filtered=%" PRIu64, filtered);
    fprintf(stderr,
            "built %s: rows=%" PRIu64 " rejected=%" PRIu64 "%s bytes=%" PRIu64 " crc=%" PRIu32
            " decode_s=%.3f build_s=%.3f\n",
            out, rows, bad, ftext, size, crc, tb - t0, sl_clock_mono_s() - tb);
    for (int i = 1; i < ROWDEC_REASON__COUNT; i++)
        if (counts[i])
            fprintf(stderr, "rejected reason=%s rows=%" PRIu64 "\n",
                    rowdec_reason_name((rowdec_reason)i), counts[i]);
    rc = 0;
done:
    filesrc_free(src);
    if (have_csvo) tcfg_csv_free(&csvo);
    if (rej) fclose(rej);
    mseg_free(m);
    tcfg_free(t);
    schema_free(s);
    return rc;
}

static void put_opt_i64(jsonw *w, const char *key, int64_t v)
{
    jsonw_key(w, key);
    if (v < 0)
        jsonw_null(w);
    else
        jsonw_i64(w, v);
}

static seg_reader *open_or_complain(const char *cmd, const char *path)
{
    int err = 0;
    char msg[512];
    seg_reader *r = seg_reader_open(path, &err, msg, sizeof msg);
    if (!r) fprintf(stderr, "sluice segment %s: %s\n", cmd, msg);
    return r;
}

static int cmd_info(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--help") == 0) {
        fputs(segment_usage, stdout);
        return 0;
    }
    if (argc != 2) {
        fputs("usage: sluice segment info FILE\n", stderr);
        return 2;
    }
    seg_reader *r = open_or_complain("info", argv[1]);
    if (!r) return 1;
    jsonw w;
    jsonw_init(&w);
    jsonw_obj_begin(&w);
    jsonw_key(&w, "name");
    jsonw_cstr(&w, seg_reader_name(r));
    jsonw_key(&w, "table");
    jsonw_cstr(&w, seg_reader_table(r));
    put_opt_i64(&w, "partition", seg_reader_partition(r));
    put_opt_i64(&w, "sequence", seg_reader_sequence(r));
    put_opt_i64(&w, "startOffset", seg_reader_start_offset(r));
    put_opt_i64(&w, "endOffset", seg_reader_end_offset(r));
    jsonw_key(&w, "rows");
    jsonw_u64(&w, seg_reader_rows(r));
    jsonw_key(&w, "crc");
    jsonw_u64(&w, seg_reader_crc(r));
    jsonw_key(&w, "sizeBytes");
    jsonw_u64(&w, seg_reader_size(r));
    int32_t tc = seg_reader_time_column(r);
    jsonw_key(&w, "timeColumn");
    if (tc >= 0)
        jsonw_cstr(&w, seg_reader_col(r, (uint32_t)tc)->name);
    else
        jsonw_null(&w);
    int64_t tmin, tmax;
    jsonw_key(&w, "timeRange");
    if (seg_reader_time_range(r, &tmin, &tmax)) {
        jsonw_obj_begin(&w);
        jsonw_key(&w, "min");
        jsonw_i64(&w, tmin);
        jsonw_key(&w, "max");
        jsonw_i64(&w, tmax);
        jsonw_obj_end(&w);
    } else {
        jsonw_null(&w);
    }
    jsonw_key(&w, "columns");
    jsonw_arr_begin(&w);
    for (uint32_t c = 0; c < seg_reader_ncols(r); c++) {
        const seg_col_info *ci = seg_reader_col(r, c);
        jsonw_obj_begin(&w);
        jsonw_key(&w, "name");
        jsonw_cstr(&w, ci->name);
        jsonw_key(&w, "type");
        jsonw_cstr(&w, schema_type_name(ci->type));
        jsonw_key(&w, "singleValue");
        jsonw_bool(&w, ci->single_value);
        jsonw_key(&w, "dictionary");
        jsonw_bool(&w, ci->dict);
        jsonw_key(&w, "cardinality");
        jsonw_u64(&w, ci->cardinality);
        jsonw_key(&w, "nullCount");
        jsonw_u64(&w, ci->null_count);
        jsonw_key(&w, "min");
        if (ci->has_minmax)
            schema_value_json(&w, ci->type, &ci->min, false);
        else
            jsonw_null(&w);
        jsonw_key(&w, "max");
        if (ci->has_minmax)
            schema_value_json(&w, ci->type, &ci->max, false);
        else
            jsonw_null(&w);
        jsonw_obj_end(&w);
    }
    jsonw_arr_end(&w);
    size_t slen;
    const char *sj = seg_reader_schema_json(r, &slen);
    jsonw_key(&w, "schema");
    jsonw_raw(&w, sj, slen);
    jsonw_obj_end(&w);
    jsonw_text(&w, "\n", 1);
    fwrite(w.buf, 1, w.len, stdout);
    jsonw_free(&w);
    seg_reader_close(r);
    return 0;
}

/* Per column of r: whether the segment's schema makes it BIG_DECIMAL (stored as BYTES, shown
 * as its decimal text). Caller frees. */
static bool *big_decimal_cols(const seg_reader *r)
{
    uint32_t ncols = seg_reader_ncols(r);
    bool *bd = sl_xcalloc(ncols ? ncols : 1, sizeof *bd);
    size_t len;
    const char *sj = seg_reader_schema_json(r, &len);
    char err[256];
    schema *s = sj ? schema_parse(sj, len, "segment", err, sizeof err) : NULL;
    for (uint32_t c = 0; s && c < ncols; c++) {
        int f = schema_find(s, seg_reader_col(r, c)->name);
        bd[c] = f >= 0 && s->fields[f].big_decimal;
    }
    schema_free(s);
    return bd;
}

/* A value as plain text (a CSV cell): numbers as in JSON, strings raw, BYTES as hex, a
 * BIG_DECIMAL as its decimal text. */
static void text_value(jsonw *b, schema_type t, const schema_value *v, bool big_decimal)
{
    char num[40];
    size_t n;
    if (big_decimal) {
        char txt[BIGDEC_MAX_DIGITS + BIGDEC_TEXT_EXTRA];
        if (schema_big_decimal_text(v, txt, sizeof txt)) {
            jsonw_text(b, txt, strlen(txt));
            return;
        }
    }
    switch (t) {
    case SCHEMA_STRING:
        jsonw_text(b, (const char *)v->u.bytes.ptr, v->u.bytes.len);
        return;
    case SCHEMA_BYTES:
        jsonw_text_hex(b, v->u.bytes.ptr, v->u.bytes.len);
        return;
    case SCHEMA_FLOAT:
        n = jsonw_fmt_f32(num, v->u.f32);
        break;
    case SCHEMA_DOUBLE:
        n = jsonw_fmt_f64(num, v->u.f64);
        break;
    case SCHEMA_BOOLEAN:
        n = (size_t)snprintf(num, sizeof num, "%s", v->u.i32 ? "true" : "false");
        break;
    case SCHEMA_INT:
        n = (size_t)snprintf(num, sizeof num, "%" PRId32, v->u.i32);
        break;
    default:
        n = (size_t)snprintf(num, sizeof num, "%" PRId64, v->u.i64);
        break;
    }
    jsonw_text(b, num, n);
}

/* CSV field: quoted when it holds a separator, quote or line break (RFC 4180). */
static void csv_field(FILE *out, const char *s, size_t n)
{
    bool quote = false;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    if (!quote) {
        fwrite(s, 1, n, out);
        return;
    }
    fputc('"', out);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') fputc('"', out);
        fputc(s[i], out);
    }
    fputc('"', out);
}

/* Values of one multi-value cell; *mv grows to hold them. Returns the count. */
static int64_t read_mv(const seg_reader *r, uint32_t c, uint64_t row, schema_value **mv,
                       uint32_t *cap)
{
    int64_t k = seg_reader_mv(r, c, row, *mv, *cap);
    if (k > (int64_t)*cap) {
        *cap = (uint32_t)k;
        *mv = sl_xrealloc(*mv, *cap * sizeof **mv);
        k = seg_reader_mv(r, c, row, *mv, *cap);
    }
    return k;
}

static int cmd_dump(int argc, char **argv)
{
    const char *path = NULL;
    int csv = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            fputs(segment_usage, stdout);
            return 0;
        } else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
            const char *f = argv[++i];
            if (strcmp(f, "csv") == 0) {
                csv = 1;
            } else if (strcmp(f, "jsonl") != 0) {
                fprintf(stderr, "sluice segment dump: --format must be jsonl or csv, not '%s'\n",
                        f);
                return 2;
            }
        } else if (!path && argv[i][0] != '-') {
            path = argv[i];
        } else {
            path = NULL;
            break;
        }
    }
    if (!path) {
        fputs("usage: sluice segment dump FILE [--format jsonl|csv]\n", stderr);
        return 2;
    }
    seg_reader *r = open_or_complain("dump", path);
    if (!r) return 1;
    uint32_t ncols = seg_reader_ncols(r), cap = 64;
    schema_value *mv = sl_xmalloc(cap * sizeof *mv);
    bool *bigd = big_decimal_cols(r);
    jsonw w;
    jsonw_init(&w);
    if (csv) {
        for (uint32_t c = 0; c < ncols; c++) {
            const char *n = seg_reader_col(r, c)->name;
            if (c) fputc(',', stdout);
            csv_field(stdout, n, strlen(n));
        }
        fputc('\n', stdout);
    }
    for (uint64_t row = 0; row < seg_reader_rows(r); row++) {
        if (!csv) jsonw_obj_begin(&w);
        for (uint32_t c = 0; c < ncols; c++) {
            const seg_col_info *ci = seg_reader_col(r, c);
            bool isnull = seg_reader_is_null(r, c, row);
            schema_value v;
            if (csv) { /* nulls are empty cells; multi-values joined by ';' as Pinot does */
                jsonw_reset(&w);
                if (!isnull && ci->single_value) {
                    seg_reader_value(r, c, row, &v);
                    text_value(&w, ci->type, &v, bigd[c]);
                } else if (!isnull) {
                    int64_t k = read_mv(r, c, row, &mv, &cap);
                    for (int64_t j = 0; j < k; j++) {
                        if (j) jsonw_text(&w, ";", 1);
                        text_value(&w, ci->type, &mv[j], bigd[c]);
                    }
                }
                if (c) fputc(',', stdout);
                csv_field(stdout, w.buf ? w.buf : "", w.len);
                continue;
            }
            jsonw_key(&w, ci->name);
            if (isnull) {
                jsonw_null(&w);
            } else if (ci->single_value) {
                seg_reader_value(r, c, row, &v);
                if (bigd[c])
                    schema_big_decimal_json(&w, &v); /* a string: every digit kept */
                else
                    schema_value_json(&w, ci->type, &v, false);
            } else {
                int64_t k = read_mv(r, c, row, &mv, &cap);
                jsonw_arr_begin(&w);
                for (int64_t j = 0; j < k; j++)
                    schema_value_json(&w, ci->type, &mv[j], false);
                jsonw_arr_end(&w);
            }
        }
        if (csv) {
            fputc('\n', stdout);
        } else {
            jsonw_obj_end(&w);
            jsonw_text(&w, "\n", 1);
            fwrite(w.buf, 1, w.len, stdout);
            jsonw_reset(&w);
        }
    }
    jsonw_free(&w);
    free(mv);
    free(bigd);
    seg_reader_close(r);
    return ferror(stdout) ? 1 : 0;
}

static int cmd_verify(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--help") == 0) {
        fputs(segment_usage, stdout);
        return 0;
    }
    if (argc != 2) {
        fputs("usage: sluice segment verify FILE\n", stderr);
        return 2;
    }
    char msg[512];
    int rc = seg_verify_file(argv[1], msg, sizeof msg);
    switch (rc) {
    case 0: {
        seg_reader *r = open_or_complain("verify", argv[1]);
        if (!r) return 1;
        printf("ok %s rows=%" PRIu64 " crc=%" PRIu32 "\n", seg_reader_name(r), seg_reader_rows(r),
               seg_reader_crc(r));
        seg_reader_close(r);
        return 0;
    }
    case SL_ETRUNC:
        fprintf(stderr, "truncated: %s\n", msg);
        return 3;
    case SL_EFORMAT:
        fprintf(stderr, "unsupported: %s\n", msg);
        return 4;
    case SL_ECORRUPT:
        fprintf(stderr, "corrupt: %s\n", msg);
        return 1;
    default:
        fprintf(stderr, "error: %s\n", msg);
        return 2;
    }
}

int cmd_segment_main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(segment_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "build") == 0) return cmd_build(argc - 1, argv + 1);
    if (strcmp(sub, "info") == 0) return cmd_info(argc - 1, argv + 1);
    if (strcmp(sub, "dump") == 0) return cmd_dump(argc - 1, argv + 1);
    if (strcmp(sub, "verify") == 0) return cmd_verify(argc - 1, argv + 1);
    fprintf(stderr, "sluice segment: unknown subcommand '%s'\n", sub);
    fputs(segment_usage, stderr);
    return 2;
}
