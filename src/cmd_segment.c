/* `sluice segment build | info | dump | verify` (DESIGN §3 Commands, §10 Build).
 *
 * build: JSON-lines, CSV or Avro files -> filesrc (the row decoder) -> mutable segment ->
 * immutable segment file, the same path a partition consumer takes, so a file built here is
 * byte-identical to one a replica builds from the same rows. Bad rows are skipped and counted
 * per reason (--rejects keeps them, --strict makes the first one fatal). */
#include "common/clock.h"
#include "common/bigdec.h"
#include "common/fsutil.h"
#include "common/httpc.h"
#include "common/jobspec.h"
#include "common/jsonw.h"
#include "common/schema.h"
#include "common/sl_err.h"
#include "common/table_config.h"
#include "common/xalloc.h"
#include "common/xform.h"
#include "consumer/filesrc.h"
#include "consumer/mseg.h"
#include "segment/seg_builder.h"
#include "segment/seg_reader.h"
#include "segment/seg_sort.h"
#include "src/cmds.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_INPUTS 256

static const char segment_usage[] =
    "usage: sluice segment build --schema S.json --input FILE [--input ...] --out FILE\n"
    "                            [--name N] [--table-config T.json] [--rejects FILE] [--strict]\n"
    "                            [--input-format json|csv|avro] [--csv-delimiter C]\n"
    "       sluice segment build --job-spec JOB.yaml [--schema S.json] [--table-config T.json]\n"
    "                            [--list-inputs | --only SEQ]\n"
    "       sluice segment info FILE\n"
    "       sluice segment dump FILE [--format jsonl|csv]\n"
    "       sluice segment verify FILE\n"
    "\n"
    "build   decode JSON lines, CSV (a header row) or Avro container files (by extension:\n"
    "        .json .jsonl .csv .tsv .avro, optionally .gz; else JSON) into a segment; rows\n"
    "        that fail to decode are skipped and counted per reason on stderr (--rejects\n"
    "        keeps them, --strict makes any fatal); --table-config supplies the table's\n"
    "        columns, transforms and time column. --job-spec runs Pinot's\n"
    "        SegmentGenerationJobSpec: one segment per input file (docs/batch.md);\n"
    "        --list-inputs prints the files with their sequence ids, --only SEQ builds one\n"
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

/* One build's inputs, options and counts. */
typedef struct build_job {
    const schema *s;
    const tcfg *t;
    const tcfg_csv *csv; /* NULL: CSVRecordReaderConfig's defaults */
    filesrc_format fmt;  /* FILESRC_NONE: by each file's extension */
    bool strict, tty;
    FILE *rej;
    uint64_t counts[ROWDEC_REASON__COUNT];
    uint64_t rows, bad, filtered;
    double t0, last;
} build_job;

/* A reject into the rejects file: a text record once (whatever it unnests to), an Avro one
 * as where and why. */
static void keep_reject(build_job *b, filesrc *src, const char *input, rowdec_reason why,
                        const char **last)
{
    size_t tl;
    const char *text = filesrc_text(src, &tl);
    if (!text) {
        jsonw w;
        jsonw_init(&w);
        jsonw_obj_begin(&w);
        jsonw_key(&w, "file");
        jsonw_cstr(&w, input);
        jsonw_key(&w, "at");
        jsonw_cstr(&w, filesrc_where(src));
        jsonw_key(&w, "reason");
        jsonw_cstr(&w, rowdec_reason_name(why));
        jsonw_key(&w, "detail");
        jsonw_cstr(&w, rowdec_error_detail(filesrc_rowdec(src)));
        jsonw_obj_end(&w);
        jsonw_text(&w, "\n", 1);
        fwrite(w.buf, 1, w.len, b->rej);
        jsonw_free(&w);
    } else if (text != *last) {
        fwrite(text, 1, tl, b->rej);
        if (!tl || text[tl - 1] != '\n') fputc('\n', b->rej);
        *last = text;
    }
}

/* Every row of one input file into m. 0, or -1 after saying why on stderr. */
static int ingest(build_job *b, const char *input, mseg *m)
{
    char err[1024];
    filesrc_format ff = b->fmt != FILESRC_NONE ? b->fmt : filesrc_format_of_path(input);
    if (ff == FILESRC_NONE) ff = FILESRC_JSON; /* stdin and unknown extensions */
    filesrc *src = filesrc_open(input, ff, b->s, b->t, b->csv, err, sizeof err);
    if (!src) {
        fprintf(stderr, "sluice segment build: %s\n", err);
        return -1;
    }
    const char *last_rejected = NULL;
    const row *r;
    rowdec_reason why;
    filesrc_status st;
    int rc = 0;
    while (rc == 0 && (st = filesrc_next(src, &r, &why)) != FILESRC_END) {
        if (st == FILESRC_ERROR) {
            fprintf(stderr, "sluice segment build: %s: %s\n", input, filesrc_error(src));
            rc = -1;
        } else if (st == FILESRC_ROW) {
            int arc = mseg_append(m, r);
            if (arc != 0) {
                fprintf(stderr, "sluice segment build: %s:%s: %s\n", input, filesrc_where(src),
                        sluice_strerror(arc));
                rc = -1;
            }
            b->rows++;
        } else {
            b->bad++;
            b->counts[why]++;
            rowdec *dec = filesrc_rowdec(src);
            const char *field = rowdec_error_field(dec), *detail = rowdec_error_detail(dec);
            if (b->strict) {
                fprintf(stderr, "sluice segment build: %s:%s: %s%s%s%s%s\n", input,
                        filesrc_where(src), rowdec_reason_name(why), *field ? " in field " : "",
                        field, *detail ? ": " : "", detail);
                rc = -1;
            } else if (b->rej) {
                keep_reject(b, src, input, why, &last_rejected);
            }
        }
        if (b->tty && (b->rows + b->bad) % 65536 == 0 && sl_clock_mono_s() - b->last > 0.5) {
            b->last = sl_clock_mono_s();
            fprintf(stderr, "\r%s: %" PRIu64 " rows, %" PRIu64 " rejected", input, b->rows, b->bad);
        }
    }
    b->filtered += rowdec_filtered(filesrc_rowdec(src));
    filesrc_free(src);
    return rc;
}

static const char *time_column_of(const schema *s, const tcfg *t)
{
    if (t && t->time_column) return t->time_column;
    for (uint32_t i = 0; i < s->nfields; i++)
        if (s->fields[i].role == SCHEMA_DATETIME) return s->fields[i].name;
    return NULL;
}

/* m into the segment file out named name; the summary and the per-reason counts on stderr
 * (counted since the job's last summary). 0, or -1 after saying why. */
static int build_out(build_job *b, mseg *m, const char *name, const char *out)
{
    char err[1024];
    seg_meta_in meta = {.name = name,
                        .table = b->t ? b->t->table_name : b->s->name,
                        .partition = -1,
                        .sequence = -1,
                        .start_offset = -1,
                        .end_offset = -1};
    uint32_t crc = 0;
    uint64_t size = 0;
    double tb = sl_clock_mono_s();
    if (b->tty) fputc('\n', stderr);
    if (mseg_build_file(m, time_column_of(b->s, b->t), &meta, out, &crc, &size, err, sizeof err)) {
        fprintf(stderr, "sluice segment build: %s: %s\n", out, err);
        return -1;
    }
    char ftext[96] = "";
    int fl = b->filtered ? snprintf(ftext, sizeof ftext, " filtered=%" PRIu64, b->filtered) : 0;
    if (mseg_rows(m) != b->rows) /* aggregationConfigs: rows merged by their key columns */
        snprintf(ftext + fl, sizeof ftext - (size_t)fl, " aggregated_to=%" PRIu64, mseg_rows(m));
    fprintf(stderr,
            "built %s: rows=%" PRIu64 " rejected=%" PRIu64 "%s bytes=%" PRIu64 " crc=%" PRIu32
            " decode_s=%.3f build_s=%.3f\n",
            out, b->rows, b->bad, ftext, size, crc, tb - b->t0, sl_clock_mono_s() - tb);
    for (int i = 1; i < ROWDEC_REASON__COUNT; i++)
        if (b->counts[i])
            fprintf(stderr, "rejected reason=%s rows=%" PRIu64 "\n",
                    rowdec_reason_name((rowdec_reason)i), b->counts[i]);
    memset(b->counts, 0, sizeof b->counts);
    b->rows = b->bad = b->filtered = 0;
    b->t0 = sl_clock_mono_s();
    return 0;
}

/* The table config's refused-for-ingestion keys, once. */
static void say_carried(const tcfg *t, const char *src)
{
    if (!t || !t->ncarried) return;
    char text[4096];
    tcfg_carried_text(t, text, sizeof text);
    fprintf(stderr, "sluice segment build: %s: accepted, not used by ingestion: %s\n", src, text);
}

static int cmd_job(const char *spec_path, const char *schema_path, const char *table_path,
                   const char *rejects_path, bool strict, bool list_inputs, long only);

static int cmd_build(int argc, char **argv)
{
    const char *schema_path = NULL, *out = NULL, *name = NULL, *table_path = NULL;
    const char *rejects_path = NULL, *csv_delim = NULL, *job_spec = NULL;
    filesrc_format fmt = FILESRC_NONE;
    const char *inputs[MAX_INPUTS];
    int ninputs = 0, strict = 0;
    bool list_inputs = false;
    long only = -1;
    static const struct option opts[] = {{"schema", required_argument, 0, 's'},
                                         {"input", required_argument, 0, 'i'},
                                         {"out", required_argument, 0, 'o'},
                                         {"name", required_argument, 0, 'n'},
                                         {"table-config", required_argument, 0, 't'},
                                         {"rejects", required_argument, 0, 'r'},
                                         {"strict", no_argument, 0, 'S'},
                                         {"input-format", required_argument, 0, 'F'},
                                         {"csv-delimiter", required_argument, 0, 'D'},
                                         {"job-spec", required_argument, 0, 'J'},
                                         {"list-inputs", no_argument, 0, 'L'},
                                         {"only", required_argument, 0, 'O'},
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
        case 'J':
            job_spec = optarg;
            break;
        case 'L':
            list_inputs = true;
            break;
        case 'O': {
            char *end;
            only = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end || only < 0) {
                fprintf(stderr, "sluice segment build: --only %s: expected a sequence id\n",
                        optarg);
                return 2;
            }
            break;
        }
        case 'h':
            fputs(segment_usage, stdout);
            return 0;
        default:
            fputs(segment_usage, stderr);
            return 2;
        }
    }
    if (job_spec) {
        if (ninputs || out || name || fmt != FILESRC_NONE || csv_delim || optind != argc) {
            fputs("sluice segment build: --job-spec names the inputs, outputs and format itself; "
                  "only --schema, --table-config, --rejects and --strict go with it\n",
                  stderr);
            return 2;
        }
        return cmd_job(job_spec, schema_path, table_path, rejects_path, strict, list_inputs, only);
    }
    if (list_inputs || only >= 0) {
        fputs("sluice segment build: --list-inputs and --only go with --job-spec\n", stderr);
        return 2;
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
    tcfg_csv csvo;
    bool have_csvo = false;
    mseg *m = NULL;
    build_job b = {.fmt = fmt, .strict = strict, .tty = isatty(STDERR_FILENO)};
    char segname[256];

    if (table_path ? tcfg_load_pair(schema_path, table_path, &s, &t, err, sizeof err) != 0
                   : !(s = schema_load(schema_path, err, sizeof err))) {
        fprintf(stderr, "sluice segment build: %s\n", err);
        goto done;
    }
    say_carried(t, table_path);
    if (rejects_path && !(b.rej = fopen(rejects_path, "w"))) {
        perror(rejects_path);
        goto done;
    }
    if (csv_delim) {
        json_t *dm = json_pack("{ss}", "delimiter", csv_delim);
        int crc = tcfg_csv_reader(dm, "--csv-delimiter", "csv", &csvo, err, sizeof err);
        json_decref(dm);
        if (crc) {
            fprintf(stderr, "sluice segment build: %s\n", err);
            goto done;
        }
        have_csvo = true;
        b.csv = &csvo;
    }
    b.s = s;
    b.t = t;
    m = mseg_new(s, t ? t->no_dictionary : NULL);
    if (t && t->agg) mseg_set_aggregation(m, t->agg); /* a REALTIME config's rollup */
    b.t0 = b.last = sl_clock_mono_s();
    for (int f = 0; f < ninputs; f++)
        if (ingest(&b, inputs[f], m)) goto done;
    if (!name) {
        default_name(out, segname, sizeof segname);
        name = segname;
    }
    if (build_out(&b, m, name, out)) goto done;
    rc = 0;
done:
    if (have_csvo) tcfg_csv_free(&csvo);
    if (b.rej) fclose(b.rej);
    mseg_free(m);
    tcfg_free(t);
    schema_free(s);
    return rc;
}

/* ---- --job-spec ------------------------------------------------------------------------- */

/* The text at a job spec's URI: a local path, file://, or http(s):// (GET). NULL after
 * saying why. */
static char *fetch_uri(const char *uri, size_t *len)
{
    if (!strncmp(uri, "http://", 7) || !strncmp(uri, "https://", 8)) {
        httpc *h = httpc_new();
        httpc_set_redirects(h, 3);
        httpc_resp r;
        httpc_resp_init(&r, 16u << 20);
        int rc = httpc_request(h, "GET", uri, NULL, NULL, 0, 10000, &r);
        char *body = NULL;
        if (rc < 0)
            fprintf(stderr, "sluice segment build: GET %s: %s\n", uri, r.error);
        else if (r.status != 200)
            fprintf(stderr, "sluice segment build: GET %s: HTTP %ld: %.200s\n", uri, r.status,
                    r.body ? r.body : "");
        else {
            body = r.body ? r.body : sl_xstrdup("");
            *len = r.len;
            r.body = NULL;
        }
        httpc_resp_free(&r);
        httpc_free(h);
        return body;
    }
    const char *path = !strncmp(uri, "file://", 7) ? uri + 7 : uri;
    char err[512];
    uint8_t *text = NULL;
    if (fsutil_read_file(path, &text, len, err, sizeof err)) {
        fprintf(stderr, "sluice segment build: %s\n", err);
        return NULL;
    }
    return (char *)text;
}

/* The member of a fetched document that is the schema or table config: the document itself,
 * or what Sluice's GET /tables/<t> ({"tableConfig","schema"}) or Pinot's ({"OFFLINE": ...,
 * "REALTIME": ...}) wraps it in. A new string, or NULL. */
static char *unwrap(const char *text, size_t len, const char *which)
{
    json_error_t je;
    json_t *root = json_loadb(text, len, 0, &je);
    if (!json_is_object(root)) {
        json_decref(root);
        return NULL;
    }
    json_t *v = root;
    if (!strcmp(which, "schema")) {
        if (json_is_object(json_object_get(root, "schema"))) v = json_object_get(root, "schema");
    } else if (json_is_object(json_object_get(root, "tableConfig"))) {
        v = json_object_get(root, "tableConfig");
    } else if (json_is_object(json_object_get(root, "OFFLINE"))) {
        v = json_object_get(root, "OFFLINE");
    } else if (json_is_object(json_object_get(root, "REALTIME"))) {
        v = json_object_get(root, "REALTIME");
    }
    char *out = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    return out;
}

/* The table config's push type and frequency, as the normalizedDate generator reads them. */
/* A push jobType's push of the segments just built (paths out[0..n)): `sluice push` to the
 * spec's controller in its mode (Tar: the files; Uri and Metadata: segmentUriPrefix + each
 * file's absolute path + segmentUriSuffix, file://<path> without them), with its attempts,
 * retry interval and parallelism. 0 when every one was pushed. */
static int job_push(const jobspec *j, const tcfg *t, char **out, size_t n)
{
    static const char *const modes[] = {[JOBSPEC_CREATE_TAR_PUSH] = "tar",
                                        [JOBSPEC_CREATE_URI_PUSH] = "uri",
                                        [JOBSPEC_CREATE_META_PUSH] = "metadata"};
    char attempts[16], retry[32], parallel[16];
    snprintf(attempts, sizeof attempts, "%d", j->push_attempts);
    snprintf(parallel, sizeof parallel, "%d", j->push_parallel);
    snprintf(retry, sizeof retry, "%.3f", (double)j->push_retry_ms / 1000);
    const char *fixed[] = {"push",
                           "--controller",
                           j->controller_uri,
                           "--table",
                           t->table_name,
                           "--type",
                           t->type == TCFG_OFFLINE ? "OFFLINE" : "REALTIME",
                           "--mode",
                           modes[j->type],
                           "--attempts",
                           attempts,
                           "--retry-interval",
                           retry,
                           "--parallel",
                           parallel};
    size_t nf = sizeof fixed / sizeof fixed[0];
    char **argv = sl_xcalloc(nf + n + 1, sizeof *argv);
    for (size_t i = 0; i < nf; i++)
        argv[i] = sl_xstrdup(fixed[i]);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        char abs[PATH_MAX];
        bool uri = j->type != JOBSPEC_CREATE_TAR_PUSH && (j->uri_prefix || j->uri_suffix);
        if (uri && !realpath(out[i], abs)) {
            fprintf(stderr, "sluice segment build: %s: %s\n", out[i], strerror(errno));
            rc = 1;
            continue;
        }
        if (uri && asprintf(&argv[nf + i], "%s%s%s", j->uri_prefix ? j->uri_prefix : "", abs,
                            j->uri_suffix ? j->uri_suffix : "") < 0)
            argv[nf + i] = NULL;
        if (!uri) argv[nf + i] = sl_xstrdup(out[i]);
        if (!argv[nf + i]) rc = 1;
    }
    fflush(stdout);
    if (!rc) rc = cmd_push_main((int)(nf + n), argv) != 0;
    for (size_t i = 0; i < nf + n; i++)
        free(argv[i]);
    free(argv);
    return rc;
}

static void push_settings(const char *tjson, char *type, char *freq, size_t cap)
{
    json_error_t je;
    json_t *t = json_loads(tjson, 0, &je);
    json_t *sc = json_object_get(t, "segmentsConfig");
    json_t *bi = json_object_get(json_object_get(t, "ingestionConfig"), "batchIngestionConfig");
    const char *ty = json_string_value(json_object_get(bi, "segmentIngestionType"));
    const char *fr = json_string_value(json_object_get(bi, "segmentIngestionFrequency"));
    if (!ty) ty = json_string_value(json_object_get(sc, "segmentPushType"));
    if (!fr) fr = json_string_value(json_object_get(sc, "segmentPushFrequency"));
    snprintf(type, cap, "%s", ty ? ty : "APPEND");
    snprintf(freq, cap, "%s", fr ? fr : "daily");
    json_decref(t);
}

/* Order of two values of a time column's type (numbers by value, text by bytes). */
static int value_cmp(schema_type ty, const schema_value *a, const schema_value *b)
{
    switch (ty) {
    case SCHEMA_INT:
    case SCHEMA_BOOLEAN:
        return (a->u.i32 > b->u.i32) - (a->u.i32 < b->u.i32);
    case SCHEMA_LONG:
    case SCHEMA_TIMESTAMP:
        return (a->u.i64 > b->u.i64) - (a->u.i64 < b->u.i64);
    case SCHEMA_FLOAT:
        return (a->u.f32 > b->u.f32) - (a->u.f32 < b->u.f32);
    case SCHEMA_DOUBLE:
        return (a->u.f64 > b->u.f64) - (a->u.f64 < b->u.f64);
    default:
        return seg_sort_bytes_cmp(a->u.bytes.ptr, a->u.bytes.len, b->u.bytes.ptr, b->u.bytes.len);
    }
}

/* A time value as Pinot's name generators print it (Java's toString of the value). */
static void value_text(schema_type ty, const schema_value *v, char *out, size_t cap)
{
    char num[64];
    switch (ty) {
    case SCHEMA_INT:
    case SCHEMA_BOOLEAN:
        snprintf(out, cap, "%" PRId32, v->u.i32);
        break;
    case SCHEMA_LONG:
    case SCHEMA_TIMESTAMP:
        snprintf(out, cap, "%" PRId64, v->u.i64);
        break;
    case SCHEMA_FLOAT:
        num[jsonw_fmt_java_f32(num, v->u.f32)] = '\0';
        snprintf(out, cap, "%s", num);
        break;
    case SCHEMA_DOUBLE:
        num[jsonw_fmt_java_f64(num, v->u.f64)] = '\0';
        snprintf(out, cap, "%s", num);
        break;
    default:
        snprintf(out, cap, "%.*s", (int)v->u.bytes.len, (const char *)v->u.bytes.ptr);
    }
}

/* The time column's smallest and largest value in m as text, and in ms when its format says
 * how to read it. false when the column is absent or holds only nulls. */
static bool time_bounds(const schema *s, const tcfg *t, const mseg *m, char *min, char *max,
                        size_t cap, int64_t *min_ms, int64_t *max_ms, bool *have_ms)
{
    const char *tc = time_column_of(s, t);
    int col = tc ? schema_find(s, tc) : -1;
    *have_ms = false;
    if (col < 0 || !s->fields[col].single_value) return false;
    const schema_field *f = &s->fields[col];
    bool any = false;
    schema_value lo = {0}, hi = {0};
    for (uint64_t r = 0; r < mseg_rows(m); r++) {
        if (mseg_read_is_null(m, (uint32_t)col, r)) continue;
        schema_value v;
        mseg_read_value(m, (uint32_t)col, r, &v);
        if (!any) {
            lo = hi = v;
            any = true;
        } else {
            if (value_cmp(f->type, &v, &lo) < 0) lo = v;
            if (value_cmp(f->type, &v, &hi) > 0) hi = v;
        }
    }
    if (!any) return false;
    value_text(f->type, &lo, min, cap);
    value_text(f->type, &hi, max, cap);
    int64_t mul, div;
    char pat[256];
    const char *zone;
    if (f->type == SCHEMA_TIMESTAMP) {
        *min_ms = lo.u.i64;
        *max_ms = hi.u.i64;
        *have_ms = true;
    } else if (schema_time_scale(f, &mul, &div) && f->type != SCHEMA_STRING) {
        double a = f->type == SCHEMA_INT ? lo.u.i32 : f->type == SCHEMA_LONG ? (double)lo.u.i64 : 0;
        double z = f->type == SCHEMA_INT ? hi.u.i32 : f->type == SCHEMA_LONG ? (double)hi.u.i64 : 0;
        *min_ms = (int64_t)(a * (double)div / (double)mul);
        *max_ms = (int64_t)(z * (double)div / (double)mul);
        *have_ms = f->type == SCHEMA_INT || f->type == SCHEMA_LONG;
    } else if (schema_sdf_pattern(f, pat, sizeof pat, &zone)) {
        char e[128];
        *have_ms = xform_parse_time(pat, min, strlen(min), min_ms, e, sizeof e) == 0 &&
                   xform_parse_time(pat, max, strlen(max), max_ms, e, sizeof e) == 0;
    }
    return true;
}

/* Make dirs of path's parent (mkdir -p). */
static int make_parents(const char *path)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return 0;
}

/* `sluice segment build --job-spec`: one segment per input file, named by the spec's
 * generator, written under outputDirURI at the input's relative directory. */
static int cmd_job(const char *spec_path, const char *schema_path, const char *table_path,
                   const char *rejects_path, bool strict, bool list_inputs, long only)
{
    int rc = 1;
    char err[8192];
    size_t len = 0, slen = 0, tlen = 0;
    uint8_t *spec_bytes = NULL;
    char *spec_text =
        fsutil_read_file(spec_path, &spec_bytes, &len, err, sizeof err) ? NULL : (char *)spec_bytes;
    jobspec *j = NULL;
    char *stext = NULL, *ttext = NULL, *sj = NULL, *tj = NULL, **files = NULL;
    size_t nfiles = 0;
    schema *s = NULL;
    tcfg *t = NULL;
    build_job b = {.strict = strict, .tty = isatty(STDERR_FILENO)};
    if (!spec_text || !(j = jobspec_parse(spec_text, len, spec_path, err, sizeof err))) {
        fprintf(stderr, "sluice segment build: %s\n", err);
        goto done;
    }
    if (list_inputs || only >= 0) { /* the files first: a runner lists them without a schema */
        if (jobspec_inputs(j, &files, &nfiles, err, sizeof err)) {
            fprintf(stderr, "sluice segment build: %s\n", err);
            goto done;
        }
        if (list_inputs) {
            for (size_t i = 0; i < nfiles; i++)
                printf("%zu\t%s\n", i, files[i]);
            rc = 0;
            goto done;
        }
        if ((size_t)only >= nfiles) {
            fprintf(stderr, "sluice segment build: --only %ld: the job has %zu input files\n", only,
                    nfiles);
            goto done;
        }
    }
    /* the schema and table config: the command line, else the spec's URIs, else its
     * controller's GET /tables/<t>/schema and GET /tables/<t> */
    char uri[2048];
    if (schema_path) {
        stext = fetch_uri(schema_path, &slen);
    } else if (j->schema_uri || j->controller_uri) {
        if (!j->schema_uri)
            snprintf(uri, sizeof uri, "%s/tables/%s/schema", j->controller_uri, j->table_name);
        stext = fetch_uri(j->schema_uri ? j->schema_uri : uri, &slen);
    } else {
        fprintf(stderr,
                "sluice segment build: %s: no tableSpec.schemaURI, controller or "
                "--schema to read the schema from\n",
                spec_path);
        goto done;
    }
    if (table_path) {
        ttext = fetch_uri(table_path, &tlen);
    } else if (j->table_config_uri || j->controller_uri) {
        if (!j->table_config_uri)
            snprintf(uri, sizeof uri, "%s/tables/%s", j->controller_uri, j->table_name);
        ttext = fetch_uri(j->table_config_uri ? j->table_config_uri : uri, &tlen);
    } else {
        fprintf(stderr,
                "sluice segment build: %s: no tableSpec.tableConfigURI, controller or "
                "--table-config to read the table config from\n",
                spec_path);
        goto done;
    }
    if (!stext || !ttext) goto done;
    sj = unwrap(stext, slen, "schema");
    tj = unwrap(ttext, tlen, "tableConfig");
    if (!sj || !tj) {
        fprintf(stderr, "sluice segment build: the %s is not a JSON object\n",
                !sj ? "schema" : "table config");
        goto done;
    }
    if (tcfg_parse_pair(sj, strlen(sj), schema_path ? schema_path : "schema", tj, strlen(tj),
                        table_path ? table_path : "tableConfig", &s, &t, err, sizeof err)) {
        fprintf(stderr, "sluice segment build: %s\n", err);
        goto done;
    }
    if (strcmp(t->table_name, j->table_name) != 0) {
        fprintf(stderr, "sluice segment build: tableSpec.tableName %s but the table config is %s\n",
                j->table_name, t->table_name);
        goto done;
    }
    say_carried(t, table_path ? table_path : "tableConfig");
    char push_type[32], push_freq[32];
    push_settings(tj, push_type, push_freq, sizeof push_type);
    if (rejects_path && !(b.rej = fopen(rejects_path, "w"))) {
        perror(rejects_path);
        goto done;
    }
    if (!files && jobspec_inputs(j, &files, &nfiles, err, sizeof err)) {
        fprintf(stderr, "sluice segment build: %s\n", err);
        goto done;
    }
    if (nfiles == 0) {
        fprintf(stderr, "sluice segment build: %s: no input file under %s matches\n", spec_path,
                j->input_dir);
        goto done;
    }
    b.s = s;
    b.t = t;
    b.fmt = filesrc_format_named(j->data_format);
    b.csv = b.fmt == FILESRC_CSV ? &j->csv : NULL;
    char in_root[PATH_MAX];
    if (!realpath(j->input_dir, in_root)) goto done;
    char table_with_type[160];
    snprintf(table_with_type, sizeof table_with_type, "%s_%s", t->table_name,
             t->type == TCFG_OFFLINE ? "OFFLINE" : "REALTIME");
    /* every name first: two files must not make the same segment */
    char(*names)[256] = sl_xcalloc(nfiles, sizeof *names);
    char **outs = sl_xcalloc(nfiles, sizeof *outs); /* what a push jobType pushes */
    size_t nouts = 0;
    int failed = 0;
    for (size_t i = only >= 0 ? (size_t)only : 0; i < nfiles && !failed; i++) {
        if (only >= 0 && i != (size_t)only) break;
        mseg *m = mseg_new(s, t->no_dictionary);
        if (t->agg) mseg_set_aggregation(m, t->agg);
        b.t0 = b.last = sl_clock_mono_s();
        if (ingest(&b, files[i], m)) {
            mseg_free(m);
            failed = 1;
            break;
        }
        if (mseg_rows(m) == 0 && j->fail_on_empty) {
            fprintf(stderr, "sluice segment build: %s: no rows (failOnEmptySegment)\n", files[i]);
            mseg_free(m);
            failed = 1;
            break;
        }
        char tmin[128] = "", tmax[128] = "";
        jobspec_name_in in = {.table_with_type = table_with_type,
                              .raw_table = t->table_name,
                              .input = files[i],
                              .seq = (int)i,
                              .push_type = push_type,
                              .push_frequency = push_freq,
                              .now_ms = (int64_t)sl_clock_wall_ms()};
        if (time_bounds(s, t, m, tmin, tmax, sizeof tmin, &in.min_ms, &in.max_ms, &in.have_ms)) {
            in.min_text = tmin;
            in.max_text = tmax;
        }
        if (jobspec_segment_name(j, &in, names[i], sizeof names[i], err, sizeof err)) {
            fprintf(stderr, "sluice segment build: %s: %s\n", files[i], err);
            mseg_free(m);
            failed = 1;
            break;
        }
        for (size_t k = 0; k < i; k++)
            if (!strcmp(names[k], names[i])) {
                fprintf(stderr,
                        "sluice segment build: %s and %s both make segment %s: a name "
                        "generator that tells them apart is needed\n",
                        files[k], files[i], names[i]);
                failed = 1;
            }
        /* the input's directory under inputDirURI, kept under outputDirURI */
        const char *rel = files[i] + strlen(in_root);
        while (*rel == '/')
            rel++;
        const char *slash = strrchr(rel, '/');
        char out[PATH_MAX];
        snprintf(out, sizeof out, "%s/%.*s%s%s.seg", j->output_dir, slash ? (int)(slash - rel) : 0,
                 rel, slash ? "/" : "", names[i]);
        if (!failed && access(out, F_OK) == 0 && !j->overwrite) {
            fprintf(stderr, "sluice segment build: %s exists and overwriteOutput is false\n", out);
            failed = 1;
        }
        if (!failed && make_parents(out)) {
            fprintf(stderr, "sluice segment build: %s: %s\n", out, strerror(errno));
            failed = 1;
        }
        if (!failed && build_out(&b, m, names[i], out)) failed = 1;
        if (!failed) outs[nouts++] = sl_xstrdup(out);
        mseg_free(m);
    }
    free(names);
    if (!failed && j->type != JOBSPEC_CREATE) failed = job_push(j, t, outs, nouts);
    for (size_t i = 0; i < nouts; i++)
        free(outs[i]);
    free(outs);
    if (!failed) {
        fprintf(stderr, "job %s: %zu segment%s in %s\n", spec_path, only >= 0 ? 1 : nfiles,
                only >= 0 || nfiles == 1 ? "" : "s", j->output_dir);
        rc = 0;
    }
done:
    for (size_t i = 0; i < nfiles; i++)
        free(files[i]);
    free(files);
    if (b.rej) fclose(b.rej);
    tcfg_free(t);
    schema_free(s);
    free(sj);
    free(tj);
    free(stext);
    free(ttext);
    free(spec_text);
    jobspec_free(j);
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
