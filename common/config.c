/* Table-driven configuration: defaults, Java-properties file, --set overrides, help and docs.
 *
 * Invariants: config_load never reads the target before writing it (defaults first, for every
 * entry), so any failure after that point can free the target with config_free and leave
 * nothing behind. Each scalar entry remembers where it was set (file line, --set) only during
 * the load, to refuse duplicates and to tell "given" from "defaulted" for required keys. The
 * duration and size syntaxes are the table config's (tcfg_parse_duration/_size), so "6h"
 * means the same thing in a table config and in a process config; a NAME value follows the
 * identifier grammar (common/ident.h: the table part of segment names), so an id that a config
 * accepts is one that ZooKeeper paths, data directories and the completion RPC (instance
 * [A-Za-z0-9_.-]{1,128}) accept too. */
#include "common/config.h"
#include "common/ident.h"
#include "common/jsonw.h"
#include "common/sl_err.h"
#include "common/table_config.h"
#include "common/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONFIG_MAX_FILE (4u << 20)

static const char *const role_names[] = {"sidecar", "controller", "standalone mode",
                                         "cluster mode"};

typedef union cval {
    char *s;
    int64_t i;
    bool b;
    uint64_t u;
    int e;
} cval;

typedef struct lctx {
    const config_def *defs;
    size_t ndefs;
    void *target;
    const char *path;
    int *file_line; /* per def: line of the file that set it, 0 = not set by the file */
    bool *from_set; /* per def: set by --set */
    char *err;
    size_t errlen;
} lctx;

/* ---- values ---- */

static void fmt_duration(uint64_t ms, char *buf, size_t n)
{
    static const struct {
        const char *u;
        uint64_t ms;
    } units[] = {{"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}};
    for (size_t i = 0; i < 4; i++)
        if (ms && ms % units[i].ms == 0) {
            snprintf(buf, n, "%" PRIu64 "%s", ms / units[i].ms, units[i].u);
            return;
        }
    snprintf(buf, n, "%" PRIu64 "ms", ms);
}

static void fmt_size(uint64_t b, char *buf, size_t n)
{
    static const char units[] = "TGMK";
    for (int i = 0; i < 4; i++) {
        uint64_t m = 1ull << (10 * (4 - i));
        if (b && b % m == 0) {
            snprintf(buf, n, "%" PRIu64 "%c", b / m, units[i]);
            return;
        }
    }
    snprintf(buf, n, "%" PRIu64, b);
}

static void fmt_bound(const config_def *d, int64_t v, char *buf, size_t n)
{
    if (d->type == CONFIG_DURATION_MS)
        fmt_duration((uint64_t)v, buf, n);
    else if (d->type == CONFIG_SIZE_BYTES)
        fmt_size((uint64_t)v, buf, n);
    else
        snprintf(buf, n, "%" PRId64, v);
}

static bool bounded(const config_def *d)
{
    return (d->min || d->max) && (d->type == CONFIG_INT64 || d->type == CONFIG_DURATION_MS ||
                                  d->type == CONFIG_SIZE_BYTES);
}

/* "[1, 65535]" or "at least 1" (help) / "(minimum 1)" (errors) */
static void fmt_range(const config_def *d, bool for_error, char *buf, size_t n)
{
    char lo[32], hi[32];
    fmt_bound(d, d->min, lo, sizeof lo);
    fmt_bound(d, d->max, hi, sizeof hi);
    if (d->max == INT64_MAX)
        snprintf(buf, n, for_error ? "(minimum %s)" : "at least %s", lo);
    else
        snprintf(buf, n, "[%s, %s]", lo, hi);
}

static bool parse_bool(const char *t, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"}, *const no[] = {"false", "no",
                                                                                "off", "0"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(t, yes[i]) == 0) return *out = true, true;
        if (strcasecmp(t, no[i]) == 0) return *out = false, true;
    }
    return false;
}

/* CONFIG_NAME: ident_valid decides; the rest only says why a name failed. */
static bool check_name(const char *t, char *why, size_t n)
{
    if (!*t || ident_valid(t)) return true; /* empty: the required-key check names it */
    size_t len = strlen(t);
    const char *bad = t + strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                    "0123456789_.-");
    if (len > SL_IDENT_MAX)
        snprintf(why, n, "\"%.32s...\" is %zu characters long (at most %d)", t, len, SL_IDENT_MAX);
    else if (*bad)
        snprintf(why, n, "\"%s\": character '%c' is not allowed (letters, digits, '_', '.', '-')",
                 t, *bad);
    else if (strstr(t, "__"))
        snprintf(why, n, "\"%s\": \"__\" is reserved as the segment name separator", t);
    else
        snprintf(why, n, "\"%s\" must not start or end with '_' or '.'", t);
    return false;
}

/* Parses text for d into *out (a heap copy for STRING). On failure the reason is in why. */
static bool parse_value(const config_def *d, const char *text, cval *out, char *why, size_t n)
{
    char range[80];
    switch (d->type) {
    case CONFIG_STRING:
        if ((d->flags & CONFIG_NAME) && !check_name(text, why, n)) return false;
        if ((d->flags & CONFIG_FILE) && access(text, R_OK) != 0) {
            snprintf(why, n, "\"%s\": %s", text, strerror(errno));
            return false;
        }
        out->s = sl_xstrdup(text);
        return true;
    case CONFIG_BOOL:
        if (parse_bool(text, &out->b)) return true;
        snprintf(why, n, "\"%s\" is not a boolean (true or false)", text);
        return false;
    case CONFIG_ENUM: {
        jsonw all = {0};
        for (int i = 0; d->enum_values[i].name; i++) {
            if (strcmp(text, d->enum_values[i].name) == 0) {
                free(all.buf);
                out->e = i;
                return true;
            }
            if (i) jsonw_text(&all, ", ", 2);
            jsonw_text(&all, d->enum_values[i].name, strlen(d->enum_values[i].name));
        }
        snprintf(why, n, "\"%s\" is not one of: %s", text, all.buf ? all.buf : "");
        free(all.buf);
        return false;
    }
    case CONFIG_INT64: {
        const char *p = text + (*text == '-' || *text == '+');
        char *end;
        errno = 0;
        out->i = isdigit((unsigned char)*p) ? strtoll(text, &end, 10) : 0;
        if (!isdigit((unsigned char)*p) || errno == ERANGE || *end) {
            snprintf(why, n, "\"%s\" is not an integer", text);
            return false;
        }
        if (bounded(d) && (out->i < d->min || out->i > d->max)) {
            fmt_range(d, true, range, sizeof range);
            snprintf(why, n, "%s out of range %s", text, range);
            return false;
        }
        return true;
    }
    case CONFIG_DURATION_MS:
    case CONFIG_SIZE_BYTES: {
        bool dur = d->type == CONFIG_DURATION_MS;
        if ((dur ? tcfg_parse_duration(text, &out->u) : tcfg_parse_size(text, &out->u)) != 0) {
            snprintf(why, n, "\"%s\" is not a %s", text,
                     dur ? "duration (e.g. 500ms, 90s, 15m, 6h, 2d)"
                         : "size (e.g. 512K, 200M, 1G)");
            return false;
        }
        if (bounded(d) &&
            (out->u > INT64_MAX || (int64_t)out->u < d->min || (int64_t)out->u > d->max)) {
            fmt_range(d, true, range, sizeof range);
            snprintf(why, n, "%s out of range %s", text, range);
            return false;
        }
        return true;
    }
    default:
        snprintf(why, n, "bad type in config table");
        return false;
    }
}

static void *slot(const config_def *d, void *target)
{
    return (char *)target + d->offset;
}

static void store(const config_def *d, void *target, cval v)
{
    void *p = slot(d, target);
    switch (d->type) {
    case CONFIG_STRING:
        free(*(char **)p);
        *(char **)p = v.s;
        break;
    case CONFIG_INT64:
        *(int64_t *)p = v.i;
        break;
    case CONFIG_BOOL:
        *(bool *)p = v.b;
        break;
    case CONFIG_DURATION_MS:
    case CONFIG_SIZE_BYTES:
        *(uint64_t *)p = v.u;
        break;
    case CONFIG_ENUM:
        *(int *)p = v.e;
        break;
    default:
        break;
    }
}

/* ---- the table ---- */

int config_check_defs(const config_def *defs, size_t ndefs, char *err, size_t errlen)
{
    for (size_t i = 0; i < ndefs; i++) {
        const config_def *d = &defs[i];
        const char *nm = d->name ? d->name : "(null)";
        char why[256];
        if (!d->name || !*d->name || !d->desc)
            return sl_fail(err, errlen, SL_EINVAL,
                           "config table: entry %zu: name and description required", i);
        for (size_t j = 0; j < i; j++)
            if (strcmp(defs[j].name, d->name) == 0)
                return sl_fail(err, errlen, SL_EINVAL, "config table: %s: defined twice", nm);
        if ((unsigned)d->type >= CONFIG_TYPE__COUNT)
            return sl_fail(err, errlen, SL_EINVAL, "config table: %s: bad type", nm);
        if (d->min > d->max)
            return sl_fail(err, errlen, SL_EINVAL, "config table: %s: min > max", nm);
        bool req = d->flags & CONFIG_ROLE__MASK;
        if (d->flags & CONFIG_PREFIX) {
            if (d->type != CONFIG_STRING || d->name[strlen(d->name) - 1] != '.' || d->def || req)
                return sl_fail(err, errlen, SL_EINVAL,
                               "config table: %s: a prefix entry is a STRING named "
                               "\"x.\" without default or requirement",
                               nm);
            continue;
        }
        if (req && d->def)
            return sl_fail(err, errlen, SL_EINVAL, "config table: %s: required key with a default",
                           nm);
        if ((d->flags & (CONFIG_NAME | CONFIG_FILE)) && d->type != CONFIG_STRING)
            return sl_fail(err, errlen, SL_EINVAL,
                           "config table: %s: a name or file entry is a STRING", nm);
        if (d->type == CONFIG_ENUM &&
            (!d->enum_values || !d->enum_values[0].name || (!d->def && !req)))
            return sl_fail(err, errlen, SL_EINVAL,
                           "config table: %s: an enum needs values and a default "
                           "or a requirement",
                           nm);
        if (d->def) {
            cval v;
            if (!parse_value(d, d->def, &v, why, sizeof why))
                return sl_fail(err, errlen, SL_EINVAL, "config table: %s: default: %s", nm, why);
            if (d->type == CONFIG_STRING) free(v.s);
        }
    }
    return 0;
}

const config_def *config_find(const config_def *defs, size_t ndefs, const char *key)
{
    const config_def *best = NULL;
    for (size_t i = 0; i < ndefs; i++) {
        const config_def *d = &defs[i];
        if (!(d->flags & CONFIG_PREFIX)) {
            if (strcmp(d->name, key) == 0) return d;
        } else if (strncmp(key, d->name, strlen(d->name)) == 0 &&
                   (!best || strlen(d->name) > strlen(best->name))) {
            best = d;
        }
    }
    return best;
}

void config_free(const config_def *defs, size_t ndefs, void *target)
{
    for (size_t i = 0; i < ndefs; i++) {
        const config_def *d = &defs[i];
        if (d->flags & CONFIG_PREFIX) {
            config_kvs *kv = slot(d, target);
            for (size_t k = 0; k < kv->n; k++) {
                free(kv->items[k].key);
                free(kv->items[k].value);
            }
            free(kv->items);
            kv->items = NULL;
            kv->n = 0;
        } else if (d->type == CONFIG_STRING) {
            free(*(char **)slot(d, target));
            *(char **)slot(d, target) = NULL;
        }
    }
}

/* ---- loading ---- */

/* Levenshtein distance, for "did you mean"; large for long strings (no suggestion). */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[65];
    if (la > 64 || lb > 64) return SIZE_MAX;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* "FILE:LINE: " or "--set " */
static void where(const lctx *c, int line, char *buf, size_t n)
{
    if (line > 0)
        snprintf(buf, n, "%s:%d: ", c->path, line);
    else
        snprintf(buf, n, "--set ");
}

static int apply(lctx *c, const char *key, const char *text, int line)
{
    char at[512], why[512];
    where(c, line, at, sizeof at);
    const config_def *d = config_find(c->defs, c->ndefs, key);
    if (!d) {
        const char *best = NULL;
        size_t bestd = 3; /* suggest only close names */
        for (size_t i = 0; i < c->ndefs; i++) {
            size_t e = edit_distance(key, c->defs[i].name);
            if (!(c->defs[i].flags & CONFIG_HIDDEN) && e < bestd) best = c->defs[i].name, bestd = e;
        }
        if (best)
            return sl_fail(c->err, c->errlen, SL_EINVAL,
                           "%sunknown key \"%s\" (did you mean \"%s\"?)", at, key, best);
        return sl_fail(c->err, c->errlen, SL_EINVAL, "%sunknown key \"%s\"", at, key);
    }
    size_t idx = (size_t)(d - c->defs);
    if (d->flags & CONFIG_PREFIX) {
        const char *suffix = key + strlen(d->name);
        if (!*suffix)
            return sl_fail(c->err, c->errlen, SL_EINVAL,
                           "%s%s: empty property name after the prefix", at, key);
        config_kvs *kv = slot(d, c->target);
        for (size_t k = 0; k < kv->n; k++) {
            config_kv *it = &kv->items[k];
            if (strcmp(it->key, suffix) != 0) continue;
            if ((line > 0) == (it->line > 0)) {
                if (line > 0)
                    return sl_fail(c->err, c->errlen, SL_EINVAL,
                                   "%s%s: duplicate key (first at line %d)", at, key, it->line);
                return sl_fail(c->err, c->errlen, SL_EINVAL, "%s%s: given twice", at, key);
            }
            free(it->value);
            it->value = sl_xstrdup(text);
            it->line = line;
            return 0;
        }
        kv->items = sl_xrealloc(kv->items, (kv->n + 1) * sizeof *kv->items);
        kv->items[kv->n++] = (config_kv){sl_xstrdup(suffix), sl_xstrdup(text), line};
        return 0;
    }
    if (line > 0 && c->file_line[idx])
        return sl_fail(c->err, c->errlen, SL_EINVAL, "%s%s: duplicate key (first at line %d)", at,
                       key, c->file_line[idx]);
    if (line == 0 && c->from_set[idx])
        return sl_fail(c->err, c->errlen, SL_EINVAL, "%s%s: given twice", at, key);
    cval v;
    if (!parse_value(d, text, &v, why, sizeof why))
        return sl_fail(c->err, c->errlen, SL_EINVAL, "%s%s: %s", at, key, why);
    store(d, c->target, v);
    if (line > 0)
        c->file_line[idx] = line;
    else
        c->from_set[idx] = true;
    return 0;
}

static bool is_ws(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\f';
}

/* Decodes the escape at s (s[0] == '\\') into out; returns the characters consumed, or 0 for a
 * malformed \u escape. */
static size_t unescape_one(const char *s, jsonw *out)
{
    char ch = s[1];
    switch (ch) {
    case 't':
        jsonw_text(out, "\t", 1);
        return 2;
    case 'n':
        jsonw_text(out, "\n", 1);
        return 2;
    case 'r':
        jsonw_text(out, "\r", 1);
        return 2;
    case 'f':
        jsonw_text(out, "\f", 1);
        return 2;
    case 'u': {
        unsigned cp = 0;
        for (int i = 2; i < 6; i++) {
            if (!isxdigit((unsigned char)s[i])) return 0;
            cp = cp * 16 + (unsigned)(isdigit((unsigned char)s[i])
                                          ? s[i] - '0'
                                          : (tolower((unsigned char)s[i]) - 'a' + 10));
        }
        if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
        char u[3];
        if (cp < 0x80) {
            u[0] = (char)cp;
            jsonw_text(out, u, 1);
        } else if (cp < 0x800) {
            u[0] = (char)(0xc0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3f));
            jsonw_text(out, u, 2);
        } else {
            u[0] = (char)(0xe0 | cp >> 12), u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
            u[2] = (char)(0x80 | (cp & 0x3f));
            jsonw_text(out, u, 3);
        }
        return 6;
    }
    case '\0':
        return 1; /* a lone trailing backslash (continuation at end of file) */
    default:
        jsonw_text(out, &ch, 1);
        return 2;
    }
}

/* One logical line (leading blanks already removed, not a comment) -> key and value. */
static int parse_line(lctx *c, const char *s, int line)
{
    char at[512];
    jsonw key = {0}, val = {0};
    size_t i = 0, keep = 0;
    int rc = SL_EINVAL;
    where(c, line, at, sizeof at);
    while (s[i] && s[i] != '=' && s[i] != ':' && !is_ws(s[i])) {
        if (s[i] == '\\') {
            size_t k = unescape_one(s + i, &key);
            if (!k) goto bad_escape;
            i += k;
        } else {
            jsonw_text(&key, s + i++, 1);
        }
    }
    while (is_ws(s[i]))
        i++;
    bool sep = s[i] == '=' || s[i] == ':';
    if (sep) i++;
    while (is_ws(s[i]))
        i++;
    if (!key.buf) {
        sl_fail(c->err, c->errlen, SL_EINVAL, "%smalformed line (empty key)", at);
        goto out;
    }
    if (!sep && !s[i]) {
        sl_fail(c->err, c->errlen, SL_EINVAL, "%smalformed line \"%s\" (expected key = value)", at,
                s);
        goto out;
    }
    jsonw_text(&val, "", 0);
    while (s[i]) {
        if (s[i] == '\\') {
            size_t k = unescape_one(s + i, &val);
            if (!k) goto bad_escape;
            i += k;
            keep = val.len; /* an escaped blank is kept even at the end */
        } else {
            jsonw_text(&val, s + i, 1);
            if (!is_ws(s[i])) keep = val.len;
            i++;
        }
    }
    val.buf[keep] = '\0';
    rc = apply(c, key.buf, val.buf, line);
    goto out;
bad_escape:
    sl_fail(c->err, c->errlen, SL_EINVAL, "%smalformed \\u escape", at);
out:
    free(key.buf);
    free(val.buf);
    return rc;
}

static int load_file(lctx *c)
{
    FILE *fp = fopen(c->path, "rb");
    if (!fp) {
        int e = errno;
        sl_fail(c->err, c->errlen, SL_EINVAL, "%s: %s", c->path, strerror(e));
        return e == ENOENT ? SL_ENOENT : SL_EIO;
    }
    jsonw buf = {0}, logical = {0};
    char chunk[4096];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0) {
        jsonw_text(&buf, chunk, n);
        if (buf.len > CONFIG_MAX_FILE) {
            rc = sl_fail(c->err, c->errlen, SL_EINVAL, "%s: larger than %u bytes", c->path,
                         CONFIG_MAX_FILE);
            goto out;
        }
    }
    if (ferror(fp)) {
        sl_fail(c->err, c->errlen, SL_EINVAL, "%s: read error: %s", c->path, strerror(errno));
        rc = SL_EIO;
        goto out;
    }
    if (buf.buf && strlen(buf.buf) != buf.len) {
        rc = sl_fail(c->err, c->errlen, SL_EINVAL, "%s: contains a NUL byte", c->path);
        goto out;
    }
    size_t pos = 0;
    int lineno = 0;
    while (buf.buf && pos < buf.len) {
        /* one physical line, or several joined by trailing backslashes */
        int first = 0;
        logical.len = 0;
        for (;;) {
            size_t end = pos;
            while (end < buf.len && buf.buf[end] != '\n')
                end++;
            size_t a = pos, b = end;
            pos = end < buf.len ? end + 1 : end;
            lineno++;
            if (b > a && buf.buf[b - 1] == '\r') b--;
            while (a < b && is_ws(buf.buf[a]))
                a++;
            if (!first) {
                if (a == b || buf.buf[a] == '#' || buf.buf[a] == '!') break; /* blank or comment */
                first = lineno;
            }
            jsonw_text(&logical, buf.buf + a, b - a);
            size_t bs = 0;
            while (bs < logical.len && logical.buf[logical.len - 1 - bs] == '\\')
                bs++;
            if (bs % 2 == 0 || pos >= buf.len) break;
            logical.buf[--logical.len] = '\0'; /* drop the continuation backslash */
        }
        if (first && (rc = parse_line(c, logical.buf, first)) != 0) goto out;
    }
out:
    fclose(fp);
    free(buf.buf);
    free(logical.buf);
    return rc;
}

int config_load(const config_def *defs, size_t ndefs, void *target, unsigned roles,
                const char *path, char *const *sets, size_t nsets, char *err, size_t errlen)
{
    int rc = config_check_defs(defs, ndefs, err, errlen);
    if (rc) return rc;
    lctx c = {defs,
              ndefs,
              target,
              path,
              sl_xcalloc(ndefs + 1, sizeof(int)),
              sl_xcalloc(ndefs + 1, sizeof(bool)),
              err,
              errlen};
    /* 1. defaults, for every entry, before anything can fail */
    for (size_t i = 0; i < ndefs; i++) {
        const config_def *d = &defs[i];
        cval v;
        memset(&v, 0, sizeof v);
        char why[256];
        if (d->flags & CONFIG_PREFIX) {
            *(config_kvs *)slot(d, target) = (config_kvs){0, NULL};
            continue;
        }
        if (d->def && !parse_value(d, d->def, &v, why, sizeof why)) abort(); /* checked above */
        if (d->type == CONFIG_STRING) *(char **)slot(d, target) = NULL;
        store(d, target, v);
    }
    /* 2. file, 3. --set */
    if (path && (rc = load_file(&c)) != 0) goto fail;
    for (size_t i = 0; i < nsets; i++) {
        const char *eq = strchr(sets[i], '=');
        if (!eq || eq == sets[i]) {
            rc = sl_fail(err, errlen, SL_EINVAL, "--set \"%s\": expected key=value", sets[i]);
            goto fail;
        }
        size_t a = 0, b = (size_t)(eq - sets[i]);
        while (a < b && isspace((unsigned char)sets[i][a]))
            a++;
        while (b > a && isspace((unsigned char)sets[i][b - 1]))
            b--;
        char *key = sl_xmemdupz(sets[i] + a, b - a);
        const char *v = eq + 1;
        while (isspace((unsigned char)*v))
            v++;
        char *val = sl_xstrdup(v);
        size_t vl = strlen(val);
        while (vl && isspace((unsigned char)val[vl - 1]))
            val[--vl] = '\0';
        rc = *key ? apply(&c, key, val, 0)
                  : sl_fail(err, errlen, SL_EINVAL, "--set \"%s\": expected key=value", sets[i]);
        free(key);
        free(val);
        if (rc) goto fail;
    }
    /* 4. roles chosen by enum values, then required keys */
    for (size_t i = 0; i < ndefs; i++)
        if (defs[i].type == CONFIG_ENUM)
            roles |= defs[i].enum_values[*(int *)slot(&defs[i], target)].roles;
    for (size_t i = 0; i < ndefs; i++) {
        const config_def *d = &defs[i];
        unsigned need = d->flags & roles & CONFIG_ROLE__MASK;
        if (!need || (d->flags & CONFIG_PREFIX)) continue;
        bool given = c.file_line[i] || c.from_set[i];
        if (given && d->type == CONFIG_STRING && !**(char **)slot(d, target)) given = false;
        if (!given) {
            int r = __builtin_ctz(need);
            rc = sl_fail(err, errlen, SL_EINVAL,
                         "%s%smissing required key \"%s\" (required for: %s)", path ? path : "",
                         path ? ": " : "", d->name, r < 4 ? role_names[r] : "this process");
            goto fail;
        }
    }
    free(c.file_line);
    free(c.from_set);
    return 0;
fail:
    config_free(defs, ndefs, target);
    free(c.file_line);
    free(c.from_set);
    return rc;
}

/* ---- help and docs ---- */

static void type_text(const config_def *d, char *buf, size_t n)
{
    static const char *const names[] = {"string", "integer", "boolean", "duration", "size", "enum"};
    char range[80] = "";
    if (d->flags & CONFIG_PREFIX) {
        snprintf(buf, n, "string (any %s* key, passed through)", d->name);
        return;
    }
    if (d->flags & CONFIG_NAME) {
        snprintf(buf, n,
                 "name: 1 to %d of A-Z a-z 0-9 _ . - (no \"__\", no leading or "
                 "trailing _ or .)",
                 SL_IDENT_MAX);
        return;
    }
    if (d->flags & CONFIG_FILE) {
        snprintf(buf, n, "path of a readable file");
        return;
    }
    if (d->type == CONFIG_ENUM) {
        size_t len = (size_t)snprintf(buf, n, "one of ");
        for (int i = 0; d->enum_values[i].name && len < n; i++)
            len +=
                (size_t)snprintf(buf + len, n - len, "%s%s", i ? ", " : "", d->enum_values[i].name);
        return;
    }
    if (bounded(d)) {
        fmt_range(d, false, range, sizeof range);
        snprintf(buf, n, "%s, %s%s", names[d->type], d->max == INT64_MAX ? "" : "in ", range);
        return;
    }
    snprintf(buf, n, "%s", names[d->type]);
}

static void roles_text(unsigned flags, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int r = 0; r < 4 && len < n; r++)
        if (flags & (1u << r))
            len += (size_t)snprintf(buf + len, n - len, "%s%s", len ? ", " : "", role_names[r]);
}

void config_print_help(const config_def *defs, size_t ndefs, FILE *out)
{
    fprintf(out, "Configuration keys (file: key = value; command line: --set key=value)\n\n");
    for (size_t i = 0; i < ndefs; i++) {
        const config_def *d = &defs[i];
        if (d->flags & CONFIG_HIDDEN) continue;
        char type[512], roles[128];
        type_text(d, type, sizeof type);
        roles_text(d->flags, roles, sizeof roles);
        fprintf(out, "  %s%s  (%s", d->name, (d->flags & CONFIG_PREFIX) ? "*" : "", type);
        if (*roles) fprintf(out, "; required for: %s", roles);
        if (d->def) fprintf(out, "; default: %s", *d->def ? d->def : "\"\"");
        fprintf(out, ")\n      %s\n", d->desc);
    }
}

static void md_cell(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '|') fputc('\\', out);
        fputc(*s == '\n' ? ' ' : *s, out);
    }
}

int config_write_markdown(const config_def *defs, size_t ndefs, FILE *out)
{
    fprintf(out, "| key | type | default | required for | description |\n|---|---|---|---|---|\n");
    for (size_t i = 0; i < ndefs; i++) {
        const config_def *d = &defs[i];
        if (d->flags & CONFIG_HIDDEN) continue;
        char type[512], roles[128];
        type_text(d, type, sizeof type);
        roles_text(d->flags, roles, sizeof roles);
        fprintf(out, "| `%s%s` | ", d->name, (d->flags & CONFIG_PREFIX) ? "*" : "");
        md_cell(out, type);
        fputs(" | ", out);
        if (d->def) {
            fputc('`', out);
            md_cell(out, d->def);
            fputc('`', out);
        }
        fprintf(out, " | %s | ", roles);
        md_cell(out, d->desc);
        fputs(" |\n", out);
    }
    return ferror(out) ? SL_EIO : 0;
}

/* One comment paragraph: text wrapped at 96 columns, each line "# " (the description). */
static void props_comment(FILE *out, const char *text)
{
    const char *p = text;
    while (*p) {
        size_t n = strlen(p);
        if (n > 94) { /* break at the last space that fits */
            n = 94;
            while (n > 20 && p[n] != ' ')
                n--;
            if (p[n] != ' ') n = 94;
        }
        fprintf(out, "# %.*s\n", (int)n, p);
        p += n;
        while (*p == ' ')
            p++;
    }
}

int config_write_properties(const config_def *defs, size_t ndefs, FILE *out)
{
    for (size_t i = 0; i < ndefs; i++) {
        const config_def *d = &defs[i];
        if (d->flags & CONFIG_HIDDEN) continue;
        char type[512], roles[128], line[800];
        type_text(d, type, sizeof type);
        roles_text(d->flags, roles, sizeof roles);
        fputs("\n", out);
        props_comment(out, d->desc);
        snprintf(line, sizeof line, "%s%s%s", type, *roles ? "; required for: " : "", roles);
        props_comment(out, line);
        if (d->flags & CONFIG_PREFIX)
            fprintf(out, "#%s<property> = ...\n", d->name);
        else
            fprintf(out, "#%s =%s%s\n", d->name, d->def && *d->def ? " " : "",
                    d->def ? d->def : "");
    }
    return ferror(out) ? SL_EIO : 0;
}

int config_args(int argc, char **argv, const config_def *defs, size_t ndefs, const char *prog,
                const char *usage, const char **path, char **sets, size_t *nsets, size_t maxsets,
                bool *check)
{
    *path = NULL;
    *nsets = 0;
    *check = false;
    if (argc >= 2 && strcmp(argv[1], "--help-config") == 0) {
        if (argc >= 4 && strcmp(argv[2], "--format") == 0 && strcmp(argv[3], "markdown") == 0)
            return config_write_markdown(defs, ndefs, stdout) ? 1 : 0;
        if (argc >= 4 && strcmp(argv[2], "--format") == 0 && strcmp(argv[3], "properties") == 0)
            return config_write_properties(defs, ndefs, stdout) ? 1 : 0;
        config_print_help(defs, ndefs, stdout);
        return 0;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(argv[i], "--check-config") == 0) {
            *check = true;
        } else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            *path = argv[++i];
        } else if (strcmp(argv[i], "--set") == 0 && i + 1 < argc && *nsets < maxsets) {
            sets[(*nsets)++] = argv[++i];
        } else {
            fprintf(stderr, "%s: unexpected argument '%s'\n%s", prog, argv[i], usage);
            return 2;
        }
    }
    if (!*path && *nsets == 0) {
        fputs(usage, stderr);
        return 2;
    }
    return -1;
}
