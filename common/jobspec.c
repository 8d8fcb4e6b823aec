/* Pinot's SegmentGenerationJobSpec (common/jobspec.h): the YAML as a jansson DOM
 * (common/yamljson), checked member by member against the keys Pinot's spec classes have. */
#include "common/jobspec.h"

#include "common/sl_err.h"
#include "common/xalloc.h"
#include "common/xform.h"
#include "common/yamljson.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct jctx {
    const char *src;
    char *err;
    size_t errlen;
    int nerr;
} jctx;

static int jfail(jctx *c, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int jfail(jctx *c, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sl_vfail_append(c->err, c->errlen, &c->nerr, c->src, key, fmt, ap);
    va_end(ap);
    return -1;
}

static bool member_of(const char *k, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(k, *list)) return true;
    return false;
}

/* Every member of object o (at path) is one of known; the others are reported. */
static void known_keys(jctx *c, const json_t *o, const char *path, const char *const *known)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v)
    {
        if (member_of(k, known)) continue;
        char key[256];
        snprintf(key, sizeof key, "%s%s%s", path, *path ? "." : "", k);
        jfail(c, key, "unknown key (a typo, or not part of Pinot's job spec)");
    }
}

/* A string member (NULL when absent or null); a non-string is reported. */
static const char *str(jctx *c, const json_t *o, const char *path, const char *k)
{
    const json_t *v = json_object_get(o, k);
    if (!v || json_is_null(v)) return NULL;
    if (!json_is_string(v)) {
        char key[256];
        snprintf(key, sizeof key, "%s%s%s", path, *path ? "." : "", k);
        jfail(c, key, "expected a string");
        return NULL;
    }
    return json_string_value(v);
}

static bool boolean(jctx *c, const json_t *o, const char *path, const char *k, bool dflt)
{
    const char *s = str(c, o, path, k);
    if (!s) return dflt;
    if (!strcasecmp(s, "true")) return true;
    if (!strcasecmp(s, "false")) return false;
    char key[256];
    snprintf(key, sizeof key, "%s%s%s", path, *path ? "." : "", k);
    jfail(c, key, "\"%s\": expected true or false", s);
    return dflt;
}

static int64_t integer(jctx *c, const json_t *o, const char *path, const char *k, int64_t dflt,
                       int64_t lo, int64_t hi)
{
    const char *s = str(c, o, path, k);
    if (!s) return dflt;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        char key[256];
        snprintf(key, sizeof key, "%s%s%s", path, *path ? "." : "", k);
        jfail(c, key, "\"%s\": expected an integer from %" PRId64 " to %" PRId64, s, lo, hi);
        return dflt;
    }
    return v;
}

/* An object member (NULL when absent or null); anything else is reported. */
static const json_t *obj(jctx *c, const json_t *o, const char *path, const char *k)
{
    const json_t *v = json_object_get(o, k);
    if (!v || json_is_null(v)) return NULL;
    if (!json_is_object(v)) {
        char key[256];
        snprintf(key, sizeof key, "%s%s%s", path, *path ? "." : "", k);
        jfail(c, key, "expected a mapping");
        return NULL;
    }
    return v;
}

/* A local path from a URI: a plain path, or file:// (file:///x and file:/x). */
static char *local_path(jctx *c, const char *key, const char *uri)
{
    if (!strncmp(uri, "file://", 7)) return sl_xstrdup(uri + 7);
    if (!strncmp(uri, "file:", 5)) return sl_xstrdup(uri + 5);
    if (strstr(uri, "://")) {
        jfail(c, key, "\"%s\": only local directories (a path or file://) are read", uri);
        return NULL;
    }
    return sl_xstrdup(uri);
}

/* Java's glob syntax as a POSIX extended regex matching a whole path: `**` crosses
 * directories, `*` and `?` do not, `{a,b}` is either, `[...]` a class (`[!...]` negated). */
static void glob_regex(const char *g, char *out, size_t cap)
{
    size_t n = 0;
    int braces = 0;
#define PUT(s)                                                                                     \
    do {                                                                                           \
        const char *s_ = (s);                                                                      \
        size_t l_ = strlen(s_);                                                                    \
        if (n + l_ < cap) {                                                                        \
            memcpy(out + n, s_, l_);                                                               \
            n += l_;                                                                               \
        }                                                                                          \
    } while (0)
    PUT("^");
    for (const char *p = g; *p; p++) {
        char ch[3] = {*p, 0, 0};
        if (p[0] == '*' && p[1] == '*') {
            PUT(".*");
            p++;
        } else if (*p == '*') {
            PUT("[^/]*");
        } else if (*p == '?') {
            PUT("[^/]");
        } else if (*p == '{') {
            PUT("(");
            braces++;
        } else if (*p == '}' && braces) {
            PUT(")");
            braces--;
        } else if (*p == ',' && braces) {
            PUT("|");
        } else if (*p == '[') {
            PUT("[");
            if (p[1] == '!') {
                PUT("^");
                p++;
            }
            while (p[1] && p[1] != ']') {
                char c1[2] = {*++p, 0};
                PUT(c1);
            }
            if (p[1]) p++;
            PUT("]");
        } else if (*p == '\\' && p[1]) {
            ch[0] = '\\';
            ch[1] = *++p;
            PUT(ch);
        } else if (strchr(".^$+()|\\", *p)) {
            ch[0] = '\\';
            ch[1] = *p;
            PUT(ch);
        } else {
            PUT(ch);
        }
    }
    PUT("$");
    out[n] = '\0';
#undef PUT
}

/* A file name pattern "glob:..." or "regex:..." (Java's PathMatcher syntax) compiled. */
static bool pattern(jctx *c, const char *key, const char *pat, regex_t *re)
{
    char rx[2048];
    if (!strncmp(pat, "glob:", 5)) {
        glob_regex(pat + 5, rx, sizeof rx);
    } else if (!strncmp(pat, "regex:", 6)) {
        snprintf(rx, sizeof rx, "^(%s)$", pat + 6);
    } else {
        jfail(c, key, "\"%s\": expected glob:PATTERN or regex:PATTERN", pat);
        return false;
    }
    int rc = regcomp(re, rx, REG_EXTENDED | REG_NOSUB);
    if (rc) {
        char why[128];
        regerror(rc, re, why, sizeof why);
        jfail(c, key, "\"%s\": %s", pat, why);
        return false;
    }
    return true;
}

static void parse_reader(jctx *c, const json_t *rr, jobspec *j)
{
    static const char *const known[] = {"dataFormat", "className", "configClassName", "configs",
                                        NULL};
    known_keys(c, rr, "recordReaderSpec", known);
    const char *df = str(c, rr, "recordReaderSpec", "dataFormat");
    if (!df) {
        jfail(c, "recordReaderSpec.dataFormat", "required: csv, json or avro");
        return;
    }
    static const char *const formats[] = {"csv", "json", "avro", NULL};
    char lower[16];
    snprintf(lower, sizeof lower, "%s", df);
    for (char *p = lower; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    if (!member_of(lower, formats)) {
        jfail(c, "recordReaderSpec.dataFormat", "\"%s\": not supported (csv, json, avro are)", df);
        return;
    }
    j->data_format = sl_xstrdup(lower);
    const json_t *cf = json_object_get(rr, "configs");
    if (cf && !json_is_null(cf) && !json_is_object(cf)) {
        jfail(c, "recordReaderSpec.configs", "expected a mapping");
        return;
    }
    bool empty = !cf || json_is_null(cf) || json_object_size(cf) == 0;
    if (!strcmp(lower, "csv")) {
        json_t *none = json_object();
        char e[2048];
        if (tcfg_csv_reader(empty ? none : cf, c->src, "recordReaderSpec.configs", &j->csv, e,
                            sizeof e))
            jfail(c, "recordReaderSpec.configs", "%s", e);
        json_decref(none);
    } else if (!empty) {
        /* JSON and Avro readers have configs of their own (e.g. Avro's enableLogicalTypes):
         * none is implemented, so none is silently taken */
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)cf, k, v)
        {
            char key[256];
            snprintf(key, sizeof key, "recordReaderSpec.configs.%s", k);
            jfail(c, key, "not supported for the %s reader", lower);
        }
    }
}

static void parse_namer(jctx *c, const json_t *ng, jobspec *j)
{
    static const char *const known[] = {"type", "configs", NULL};
    known_keys(c, ng, "segmentNameGeneratorSpec", known);
    const char *ty = str(c, ng, "segmentNameGeneratorSpec", "type");
    static const struct {
        const char *name;
        jobspec_namer n;
    } types[] = {{"simple", JOBSPEC_NAME_SIMPLE},
                 {"normalizedDate", JOBSPEC_NAME_NORMALIZED_DATE},
                 {"fixed", JOBSPEC_NAME_FIXED},
                 {"inputFile", JOBSPEC_NAME_INPUT_FILE},
                 {"uploadedRealtime", JOBSPEC_NAME_UPLOADED_REALTIME}};
    bool found = !ty;
    for (size_t i = 0; ty && i < sizeof types / sizeof types[0]; i++)
        if (!strcasecmp(ty, types[i].name)) {
            j->namer = types[i].n;
            found = true;
        }
    if (!found)
        jfail(c, "segmentNameGeneratorSpec.type",
              "\"%s\": expected simple, normalizedDate, fixed, inputFile or uploadedRealtime", ty);
    const json_t *cf = obj(c, ng, "segmentNameGeneratorSpec", "configs");
    const char *p = "segmentNameGeneratorSpec.configs";
    static const char *const known_cf[] = {"segment.name.prefix",
                                           "segment.name.postfix",
                                           "exclude.sequence.id",
                                           "exclude.time.in.segment.name",
                                           "segment.name",
                                           "file.path.pattern",
                                           "segment.name.template",
                                           "segment.partitionId",
                                           "segment.uploadTimeMs",
                                           "append.uuid.to.segment.name",
                                           NULL};
    if (!cf) return;
    known_keys(c, cf, p, known_cf);
    const char *s;
    if ((s = str(c, cf, p, "segment.name.prefix"))) j->name_prefix = sl_xstrdup(s);
    if ((s = str(c, cf, p, "segment.name.postfix"))) j->name_postfix = sl_xstrdup(s);
    j->exclude_seq = boolean(c, cf, p, "exclude.sequence.id", false);
    j->exclude_time = boolean(c, cf, p, "exclude.time.in.segment.name", false);
    if (boolean(c, cf, p, "append.uuid.to.segment.name", false))
        jfail(c, "segmentNameGeneratorSpec.configs.append.uuid.to.segment.name",
              "a random name part is not supported: a rerun of the job must make the same names");
    if ((s = str(c, cf, p, "segment.name"))) j->fixed_name = sl_xstrdup(s);
    if ((s = str(c, cf, p, "segment.name.template"))) j->name_template = sl_xstrdup(s);
    if ((s = str(c, cf, p, "file.path.pattern"))) {
        char rx[2048];
        snprintf(rx, sizeof rx, "^(%s)$", s);
        /* the template's ${filePathPattern:\N} are the pattern's own groups: shift by one */
        int rc = regcomp(&j->path_pattern, rx, REG_EXTENDED);
        if (rc) {
            char why[128];
            regerror(rc, &j->path_pattern, why, sizeof why);
            jfail(c, "segmentNameGeneratorSpec.configs.file.path.pattern", "\"%s\": %s", s, why);
        } else {
            j->has_path_pattern = true;
        }
    }
    j->partition = (int32_t)integer(c, cf, p, "segment.partitionId", -1, 0, INT32_MAX);
    j->upload_ms = integer(c, cf, p, "segment.uploadTimeMs", -1, 1, INT64_MAX);
}

jobspec *jobspec_parse(const char *text, size_t len, const char *src, char *err, size_t errlen)
{
    err[0] = '\0';
    json_t *root = yamljson_parse(text, len, src, err, errlen);
    if (!root) return NULL;
    jctx c = {.src = src, .err = err, .errlen = errlen};
    jobspec *j = sl_xcalloc(1, sizeof *j);
    j->partition = -1;
    j->upload_ms = -1;
    j->push_attempts = 1;
    j->push_retry_ms = 1000;
    j->push_parallel = 1;
    if (!json_is_object(root)) {
        jfail(&c, "(document)", "expected a mapping of the job spec's keys");
        goto out;
    }
    static const char *const known[] = {"executionFrameworkSpec",
                                        "jobType",
                                        "inputDirURI",
                                        "searchRecursively",
                                        "includeFileNamePattern",
                                        "excludeFileNamePattern",
                                        "outputDirURI",
                                        "overwriteOutput",
                                        "pinotFSSpecs",
                                        "recordReaderSpec",
                                        "tableSpec",
                                        "segmentNameGeneratorSpec",
                                        "pinotClusterSpecs",
                                        "pushJobSpec",
                                        "segmentCreationJobParallelism",
                                        "failOnEmptySegment",
                                        "cleanUpOutputDir",
                                        "createMetadataTarGz",
                                        "authToken",
                                        "tlsSpec",
                                        NULL};
    known_keys(&c, root, "", known);
    static const struct {
        const char *name;
        jobspec_type t;
    } types[] = {{"SegmentCreation", JOBSPEC_CREATE},
                 {"SegmentCreationAndTarPush", JOBSPEC_CREATE_TAR_PUSH},
                 {"SegmentCreationAndUriPush", JOBSPEC_CREATE_URI_PUSH},
                 {"SegmentCreationAndMetadataPush", JOBSPEC_CREATE_META_PUSH}};
    const char *jt = str(&c, root, "", "jobType");
    bool found = false;
    for (size_t i = 0; jt && i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(jt, types[i].name)) {
            j->type = types[i].t;
            found = true;
        }
    if (!found)
        jfail(&c, "jobType",
              jt ? "\"%s\": expected SegmentCreation, SegmentCreationAndTarPush, "
                   "SegmentCreationAndUriPush or SegmentCreationAndMetadataPush"
                 : "required%s",
              jt ? jt : "");
    const char *s;
    if ((s = str(&c, root, "", "inputDirURI")))
        j->input_dir = local_path(&c, "inputDirURI", s);
    else
        jfail(&c, "inputDirURI", "required");
    if ((s = str(&c, root, "", "outputDirURI")))
        j->output_dir = local_path(&c, "outputDirURI", s);
    else
        jfail(&c, "outputDirURI", "required");
    j->recursive = boolean(&c, root, "", "searchRecursively", true);
    if ((s = str(&c, root, "", "includeFileNamePattern")))
        j->has_include = pattern(&c, "includeFileNamePattern", s, &j->include);
    if ((s = str(&c, root, "", "excludeFileNamePattern")))
        j->has_exclude = pattern(&c, "excludeFileNamePattern", s, &j->exclude);
    j->overwrite = boolean(&c, root, "", "overwriteOutput", false);
    j->fail_on_empty = boolean(&c, root, "", "failOnEmptySegment", false);
    boolean(&c, root, "", "cleanUpOutputDir", false);
    if (boolean(&c, root, "", "createMetadataTarGz", false))
        jfail(&c, "createMetadataTarGz", "metadata tarballs are not made: a segment is one file");
    if (str(&c, root, "", "authToken") || json_object_get(root, "tlsSpec"))
        jfail(&c, json_object_get(root, "tlsSpec") ? "tlsSpec" : "authToken",
              "not supported yet (DESIGN §12)");
    integer(&c, root, "", "segmentCreationJobParallelism", 0, 0, 1 << 16);

    const json_t *rr = obj(&c, root, "", "recordReaderSpec");
    if (rr)
        parse_reader(&c, rr, j);
    else
        jfail(&c, "recordReaderSpec", "required (its dataFormat)");
    const json_t *ts = obj(&c, root, "", "tableSpec");
    if (ts) {
        static const char *const tk[] = {"tableName", "schemaURI", "tableConfigURI", NULL};
        known_keys(&c, ts, "tableSpec", tk);
        if ((s = str(&c, ts, "tableSpec", "tableName"))) {
            size_t n = strlen(s);
            if (n > 8 && !strcmp(s + n - 8, "_OFFLINE"))
                n -= 8;
            else if (n > 9 && !strcmp(s + n - 9, "_REALTIME"))
                n -= 9;
            j->table_name = sl_xmemdupz(s, n);
        } else {
            jfail(&c, "tableSpec.tableName", "required");
        }
        if ((s = str(&c, ts, "tableSpec", "schemaURI"))) j->schema_uri = sl_xstrdup(s);
        if ((s = str(&c, ts, "tableSpec", "tableConfigURI"))) j->table_config_uri = sl_xstrdup(s);
    } else {
        jfail(&c, "tableSpec", "required (its tableName)");
    }
    const json_t *ng = obj(&c, root, "", "segmentNameGeneratorSpec");
    if (ng) parse_namer(&c, ng, j);
    const json_t *cs = json_object_get(root, "pinotClusterSpecs");
    if (json_is_array(cs) && json_array_size(cs) > 0) {
        const json_t *c0 = json_array_get(cs, 0);
        if (!json_is_object(c0)) {
            jfail(&c, "pinotClusterSpecs[0]", "expected a mapping");
        } else {
            static const char *const ck[] = {"controllerURI", NULL};
            known_keys(&c, c0, "pinotClusterSpecs[0]", ck);
            if ((s = str(&c, c0, "pinotClusterSpecs[0]", "controllerURI")))
                j->controller_uri = sl_xstrdup(s);
        }
    } else if (cs && !json_is_null(cs) && !json_is_array(cs)) {
        jfail(&c, "pinotClusterSpecs", "expected a list");
    }
    const json_t *pj = obj(&c, root, "", "pushJobSpec");
    if (pj) {
        static const char *const pk[] = {"pushAttempts",
                                         "pushParallelism",
                                         "pushRetryIntervalMillis",
                                         "segmentUriPrefix",
                                         "segmentUriSuffix",
                                         "copyToDeepStoreForMetadataPush",
                                         "preferMetadataTarGz",
                                         NULL};
        known_keys(&c, pj, "pushJobSpec", pk);
        j->push_attempts = (int)integer(&c, pj, "pushJobSpec", "pushAttempts", 1, 1, 1000);
        j->push_retry_ms =
            integer(&c, pj, "pushJobSpec", "pushRetryIntervalMillis", 1000, 0, 3600 * 1000);
        j->push_parallel = (int)integer(&c, pj, "pushJobSpec", "pushParallelism", 1, 1, 64);
        const char *u;
        if ((u = str(&c, pj, "pushJobSpec", "segmentUriPrefix"))) j->uri_prefix = sl_xstrdup(u);
        if ((u = str(&c, pj, "pushJobSpec", "segmentUriSuffix"))) j->uri_suffix = sl_xstrdup(u);
    }
    if (j->type != JOBSPEC_CREATE && !j->controller_uri)
        jfail(&c, "pinotClusterSpecs[0].controllerURI", "a push jobType needs the controller");
    /* what each generator needs */
    if (j->namer == JOBSPEC_NAME_FIXED && !j->fixed_name)
        jfail(&c, "segmentNameGeneratorSpec.configs.segment.name", "required by the fixed type");
    if (j->namer == JOBSPEC_NAME_INPUT_FILE && (!j->has_path_pattern || !j->name_template))
        jfail(&c, "segmentNameGeneratorSpec.configs",
              "the inputFile type needs file.path.pattern and segment.name.template");
    if (j->namer == JOBSPEC_NAME_UPLOADED_REALTIME && j->partition < 0)
        jfail(&c, "segmentNameGeneratorSpec.configs.segment.partitionId",
              "required by the uploadedRealtime type");
    if (j->namer == JOBSPEC_NAME_UPLOADED_REALTIME &&
        (!j->name_prefix || !*j->name_prefix || strstr(j->name_prefix, "__")))
        jfail(&c, "segmentNameGeneratorSpec.configs.segment.name.prefix",
              "required by the uploadedRealtime type, without \"__\"");
out:
    json_decref(root);
    if (c.nerr) {
        jobspec_free(j);
        return NULL;
    }
    return j;
}

void jobspec_free(jobspec *j)
{
    if (!j) return;
    free(j->input_dir);
    free(j->output_dir);
    if (j->has_include) regfree(&j->include);
    if (j->has_exclude) regfree(&j->exclude);
    if (j->has_path_pattern) regfree(&j->path_pattern);
    free(j->data_format);
    tcfg_csv_free(&j->csv);
    free(j->table_name);
    free(j->schema_uri);
    free(j->table_config_uri);
    free(j->uri_prefix);
    free(j->uri_suffix);
    free(j->controller_uri);
    free(j->name_prefix);
    free(j->name_postfix);
    free(j->fixed_name);
    free(j->name_template);
    free(j);
}

/* ---- inputs --------------------------------------------------------------------------- */

typedef struct jlist {
    char **v;
    size_t n, cap;
} jlist;

static int walk(const jobspec *j, const char *dir, jlist *out, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "inputDirURI %s: %s", dir, strerror(errno));
        return -1;
    }
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char path[PATH_MAX];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= sizeof path) continue;
        struct stat st;
        if (stat(path, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            if (j->recursive) rc = walk(j, path, out, err, errlen);
            continue;
        }
        if (!S_ISREG(st.st_mode)) continue;
        if (j->has_include && regexec(&j->include, path, 0, NULL, 0) != 0) continue;
        if (j->has_exclude && regexec(&j->exclude, path, 0, NULL, 0) == 0) continue;
        if (out->n == out->cap) {
            out->cap = out->cap ? out->cap * 2 : 16;
            out->v = sl_xrealloc(out->v, out->cap * sizeof *out->v);
        }
        out->v[out->n++] = sl_xstrdup(path);
    }
    closedir(d);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int jobspec_inputs(const jobspec *j, char ***paths, size_t *n, char *err, size_t errlen)
{
    char abs[PATH_MAX];
    if (!realpath(j->input_dir, abs)) {
        snprintf(err, errlen, "inputDirURI %s: %s", j->input_dir, strerror(errno));
        return -1;
    }
    jlist l = {0};
    if (walk(j, abs, &l, err, errlen)) {
        for (size_t i = 0; i < l.n; i++)
            free(l.v[i]);
        free(l.v);
        return -1;
    }
    if (l.n) qsort(l.v, l.n, sizeof *l.v, cmp_str);
    *paths = l.v;
    *n = l.n;
    return 0;
}

/* ---- names ---------------------------------------------------------------------------- */

/* Joiner.on(sep).skipNulls(): append part (NULL skipped) to out[*n..cap). */
static void join(char *out, size_t cap, size_t *n, const char *sep, const char *part)
{
    if (!part) return;
    int w = snprintf(out + *n, cap - *n, "%s%s", *n ? sep : "", part);
    if (w > 0) *n = *n + (size_t)w >= cap ? cap - 1 : *n + (size_t)w;
}

static bool name_ok(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '_' || *s == '-'))
            return false;
    return true;
}

int jobspec_segment_name(const jobspec *j, const jobspec_name_in *in, char *out, size_t cap,
                         char *err, size_t errlen)
{
    char seq[24], a[64], b[64];
    snprintf(seq, sizeof seq, "%d", in->seq);
    const char *seqp = in->seq >= 0 && !j->exclude_seq ? seq : NULL;
    size_t n = 0;
    out[0] = '\0';
    switch (j->namer) {
    case JOBSPEC_NAME_SIMPLE:
        join(out, cap, &n, "_", j->name_prefix ? j->name_prefix : in->table_with_type);
        if (!j->exclude_time) {
            join(out, cap, &n, "_", in->min_text);
            join(out, cap, &n, "_", in->max_text);
        }
        join(out, cap, &n, "_", j->name_postfix);
        join(out, cap, &n, "_", seqp);
        break;
    case JOBSPEC_NAME_NORMALIZED_DATE: {
        join(out, cap, &n, "_", j->name_prefix ? j->name_prefix : in->table_with_type);
        bool append = !in->push_type || !strcasecmp(in->push_type, "APPEND");
        if (append) {
            if (!in->have_ms) {
                snprintf(err, errlen,
                         "normalizedDate names an APPEND table's segments by its time column: "
                         "the table has none, or the file's rows hold no time value");
                return -1;
            }
            const char *pat = in->push_frequency && !strcasecmp(in->push_frequency, "hourly")
                                  ? "yyyy-MM-dd-HH"
                                  : "yyyy-MM-dd";
            xform_format_time(pat, in->min_ms, a, sizeof a);
            xform_format_time(pat, in->max_ms, b, sizeof b);
            join(out, cap, &n, "_", a);
            join(out, cap, &n, "_", b);
        }
        join(out, cap, &n, "_", j->name_postfix);
        join(out, cap, &n, "_", seqp);
        break;
    }
    case JOBSPEC_NAME_FIXED:
        join(out, cap, &n, "_", j->fixed_name);
        break;
    case JOBSPEC_NAME_INPUT_FILE: {
        regmatch_t m[10];
        if (regexec(&j->path_pattern, in->input, 10, m, 0) != 0) {
            /* Pinot: the path with its leading slashes dropped and '/' and '.' made '_' */
            const char *p = in->input;
            while (*p == '/')
                p++;
            for (; *p && n + 1 < cap; p++)
                out[n++] = *p == '/' || *p == '.' ? '_' : *p;
            out[n] = '\0';
            break;
        }
        for (const char *t = j->name_template; *t && n + 1 < cap;) {
            unsigned g;
            int used = 0;
            if (sscanf(t, "${filePathPattern:\\%u}%n", &g, &used) == 1 && used > 0 && g >= 1 &&
                g <= 8) {
                regmatch_t *mg = &m[g + 1]; /* group 1 is the whole-path wrapper */
                if (mg->rm_so >= 0)
                    for (regoff_t k = mg->rm_so; k < mg->rm_eo && n + 1 < cap; k++)
                        out[n++] = in->input[k];
                t += used;
            } else {
                out[n++] = *t++;
            }
        }
        out[n] = '\0';
        break;
    }
    case JOBSPEC_NAME_UPLOADED_REALTIME: {
        time_t secs = (time_t)((j->upload_ms >= 0 ? j->upload_ms : in->now_ms) / 1000);
        struct tm tm;
        gmtime_r(&secs, &tm);
        strftime(a, sizeof a, "%Y%m%dT%H%MZ", &tm);
        char part[16];
        snprintf(part, sizeof part, "%d", j->partition);
        join(out, cap, &n, "__", j->name_prefix);
        join(out, cap, &n, "__", in->raw_table);
        join(out, cap, &n, "__", part);
        join(out, cap, &n, "__", a);
        join(out, cap, &n, "__", j->name_postfix ? j->name_postfix : seq);
        break;
    }
    }
    if (!*out || strlen(out) > 255 || n + 1 >= cap || !name_ok(out)) {
        snprintf(err, errlen, "segment name \"%s\" is not 1 to 255 characters of [A-Za-z0-9._-]%s",
                 out,
                 j->namer == JOBSPEC_NAME_SIMPLE && !j->exclude_time
                     ? " (the simple type puts the time column's values in the name: "
                       "normalizedDate or exclude.time.in.segment.name avoid that)"
                     : "");
        return -1;
    }
    return 0;
}
