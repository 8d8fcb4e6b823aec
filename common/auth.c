/* Bearer tokens (see auth.h). The table is an array of (token, principal) swapped whole by a
 * reload under the write lock; a lookup walks all of it under the read lock. */
#include "common/auth.h"

#include "common/fsutil.h"
#include "common/httpc.h"
#include "common/ident.h"
#include "common/log.h"
#include "common/sl_err.h"
#include "common/xalloc.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static const char *const auth__role_names[AUTH_ROLE__COUNT] = {
    [AUTH_ROLE_READER] = "reader",
    [AUTH_ROLE_INSTANCE] = "instance",
    [AUTH_ROLE_ADMIN] = "admin",
};

typedef struct auth__entry {
    char *token;
    size_t len;
    int line; /* where the file lists it */
    auth_principal who;
} auth__entry;

struct auth {
    char *path;
    pthread_rwlock_t lock;
    auth__entry *e; /* under lock */
    size_t n;
};

const char *auth_role_name(auth_role r)
{
    return (unsigned)r < AUTH_ROLE__COUNT ? auth__role_names[r] : "?";
}

bool auth_equal(const char *a, size_t alen, const char *b, size_t blen)
{
    if (blen == 0) return alen == 0;
    unsigned diff = alen != blen;
    for (size_t i = 0; i < alen; i++)
        diff |= (unsigned char)a[i] ^ (unsigned char)b[i % blen];
    return diff == 0;
}

/* RFC 6750 b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
static bool auth__b64token(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && (isalnum((unsigned char)s[i]) || strchr("-._~+/", s[i]) != NULL) && s[i])
        i++;
    if (i == 0) return false;
    while (i < n && s[i] == '=')
        i++;
    return i == n;
}

static void auth__free_entries(auth__entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        memset(e[i].token, 0, e[i].len); /* no token left in freed memory */
        free(e[i].token);
    }
    free(e);
}

/* The file's bytes (caller wipes and frees), or an error naming path. */
static int auth__read(const char *path, uint8_t **data, size_t *len, char *err, size_t errlen)
{
    char why[256];
    int rc = fsutil_read_file(path, data, len, why, sizeof why);
    if (rc) snprintf(err, errlen, "%s: %s", path, why);
    return rc;
}

/* Parse one ROLE[:INSTANCE] word. */
static bool auth__role(const char *w, auth_principal *p)
{
    memset(p, 0, sizeof *p);
    if (strcmp(w, "admin") == 0) {
        p->role = AUTH_ROLE_ADMIN;
        return true;
    }
    if (strcmp(w, "reader") == 0) {
        p->role = AUTH_ROLE_READER;
        return true;
    }
    if (strncmp(w, "instance:", 9) == 0 && ident_valid(w + 9) &&
        strlen(w + 9) < sizeof p->instance) {
        p->role = AUTH_ROLE_INSTANCE;
        memcpy(p->instance, w + 9, strlen(w + 9) + 1);
        return true;
    }
    return false;
}

/* Parse the whole file into a new entry array. */
static int auth__parse(const char *path, auth__entry **out, size_t *nout, char *err, size_t errlen)
{
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = auth__read(path, &data, &len, err, errlen);
    if (rc) return rc;
    struct stat st;
    if (stat(path, &st) == 0 && (st.st_mode & 077))
        SL_WARN("auth", "tokens file %s may be read by other users (mode %03o): chmod 600 it", path,
                (unsigned)(st.st_mode & 0777));
    auth__entry *e = NULL;
    size_t n = 0, cap = 0;
    char *text = (char *)data;
    int line = 0;
    rc = 0;
    for (char *p = text, *nl; p < text + len && !rc; p = nl + 1) {
        nl = memchr(p, '\n', (size_t)(text + len - p));
        if (!nl) nl = text + len;
        *nl = '\0';
        line++;
        if (memchr(p, '\0', (size_t)(nl - p))) {
            snprintf(err, errlen, "%s:%d: a NUL byte", path, line);
            rc = SL_EINVAL;
            break;
        }
        char *tok = p;
        while (*tok == ' ' || *tok == '\t' || *tok == '\r')
            tok++;
        if (!*tok || *tok == '#') continue;
        char *tend = tok;
        while (*tend && *tend != ' ' && *tend != '\t' && *tend != '\r')
            tend++;
        char *role = tend;
        while (*role == ' ' || *role == '\t')
            role++;
        char *rend = role;
        while (*rend && *rend != ' ' && *rend != '\t' && *rend != '\r')
            rend++;
        char *rest = rend;
        while (*rest == ' ' || *rest == '\t' || *rest == '\r')
            rest++;
        size_t tlen = (size_t)(tend - tok);
        *tend = '\0';
        *rend = '\0';
        auth_principal who;
        if (tlen > AUTH_TOKEN_MAX || !auth__b64token(tok, tlen)) {
            snprintf(err, errlen,
                     "%s:%d: the token is not a bearer token (1 to %d of A-Z a-z 0-9 - . _ ~ + /, "
                     "then '=' padding)",
                     path, line, AUTH_TOKEN_MAX);
            rc = SL_EINVAL;
        } else if (!*role || *rest) {
            snprintf(err, errlen, "%s:%d: expected TOKEN ROLE[:INSTANCE]", path, line);
            rc = SL_EINVAL;
        } else if (!auth__role(role, &who)) {
            snprintf(err, errlen,
                     "%s:%d: unknown role '%.140s' (admin, reader, or instance:<id> with an "
                     "instance id of [A-Za-z0-9_.-])",
                     path, line, role);
            rc = SL_EINVAL;
        } else {
            for (size_t i = 0; i < n && !rc; i++)
                if (e[i].len == tlen && memcmp(e[i].token, tok, tlen) == 0) {
                    snprintf(err, errlen, "%s:%d: the token of line %d is listed again", path, line,
                             e[i].line);
                    rc = SL_EINVAL;
                }
            if (!rc) {
                if (n == cap) {
                    cap = cap ? cap * 2 : 8;
                    e = sl_xrealloc(e, cap * sizeof *e);
                }
                e[n++] =
                    (auth__entry){.token = sl_xstrdup(tok), .len = tlen, .line = line, .who = who};
            }
        }
        if (tlen) memset(tok, 0, tlen);
    }
    memset(data, 0, len);
    free(data);
    if (!rc && n == 0) {
        snprintf(err, errlen, "%s: no token in it", path);
        rc = SL_EINVAL;
    }
    if (rc) {
        auth__free_entries(e, n);
        return rc;
    }
    *out = e;
    *nout = n;
    return 0;
}

auth *auth_open(const char *path, char *err, size_t errlen)
{
    auth__entry *e;
    size_t n;
    if (auth__parse(path, &e, &n, err, errlen)) return NULL;
    auth *a = sl_xcalloc(1, sizeof *a);
    a->path = sl_xstrdup(path);
    pthread_rwlock_init(&a->lock, NULL);
    a->e = e;
    a->n = n;
    return a;
}

int auth_reload(auth *a, char *err, size_t errlen)
{
    auth__entry *e;
    size_t n;
    int rc = auth__parse(a->path, &e, &n, err, errlen);
    if (rc) return rc;
    pthread_rwlock_wrlock(&a->lock);
    auth__entry *old = a->e;
    size_t nold = a->n;
    a->e = e;
    a->n = n;
    pthread_rwlock_unlock(&a->lock);
    auth__free_entries(old, nold);
    return 0;
}

size_t auth_count(auth *a)
{
    pthread_rwlock_rdlock(&a->lock);
    size_t n = a->n;
    pthread_rwlock_unlock(&a->lock);
    return n;
}

bool auth_check(auth *a, const char *authorization, auth_principal *out)
{
    if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0) return false;
    const char *tok = authorization + 7;
    while (*tok == ' ')
        tok++;
    size_t len = strlen(tok);
    while (len && (tok[len - 1] == ' ' || tok[len - 1] == '\t'))
        len--;
    if (len == 0 || len > AUTH_TOKEN_MAX) return false;
    pthread_rwlock_rdlock(&a->lock);
    size_t found = a->n;
    for (size_t i = 0; i < a->n; i++) /* no early exit: every token is compared */
        if (auth_equal(tok, len, a->e[i].token, a->e[i].len)) found = i;
    bool ok = found < a->n;
    if (ok) *out = a->e[found].who;
    pthread_rwlock_unlock(&a->lock);
    return ok;
}

void auth_sighup(auth *a)
{
    if (!a) {
        SL_INFO("auth", "SIGHUP: no auth.tokens.file to re-read");
        return;
    }
    char err[512];
    if (auth_reload(a, err, sizeof err) == 0)
        SL_INFO("auth", "SIGHUP: tokens re-read from %s tokens=%zu", a->path, auth_count(a));
    else
        SL_ERROR("auth", "SIGHUP: %s: the previous tokens stay in force", err);
}

void auth_close(auth *a)
{
    if (!a) return;
    auth__free_entries(a->e, a->n);
    pthread_rwlock_destroy(&a->lock);
    free(a->path);
    free(a);
}

int auth_token_read(const char *path, char **token, char *err, size_t errlen)
{
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = auth__read(path, &data, &len, err, errlen);
    if (rc) return rc;
    char *text = (char *)data, *found = NULL;
    size_t flen = 0;
    for (char *p = text, *nl; p < text + len && !found; p = nl + 1) {
        nl = memchr(p, '\n', (size_t)(text + len - p));
        if (!nl) nl = text + len;
        char *s = p, *end = nl;
        while (s < end && (*s == ' ' || *s == '\t' || *s == '\r'))
            s++;
        while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
            end--;
        if (s == end || *s == '#') continue;
        found = s;
        flen = (size_t)(end - s);
    }
    rc = 0;
    if (!found) {
        snprintf(err, errlen, "%s: no token in it", path);
        rc = SL_EINVAL;
    } else if (flen > AUTH_TOKEN_MAX || !auth__b64token(found, flen)) {
        snprintf(err, errlen,
                 "%s: its first line is not a bearer token (1 to %d of A-Z a-z 0-9 - . _ ~ + /, "
                 "then '=' padding)",
                 path, AUTH_TOKEN_MAX);
        rc = SL_EINVAL;
    } else {
        *token = sl_xmalloc(flen + 1);
        memcpy(*token, found, flen);
        (*token)[flen] = '\0';
    }
    memset(data, 0, len);
    free(data);
    return rc;
}

int auth_cli_parse(int *argc, char **argv, auth_cli *out, char *err, size_t errlen)
{
    static const struct {
        const char *opt, *env;
    } k[] = {{"--token-file", "SLUICE_TOKEN_FILE"},
             {"--ca-file", "SLUICE_CA_FILE"},
             {"--cert", "SLUICE_CERT_FILE"},
             {"--key", "SLUICE_KEY_FILE"}};
    const char *v[4] = {NULL, NULL, NULL, NULL};
    memset(out, 0, sizeof *out);
    int kept = 1;
    for (int i = 1; i < *argc; i++) {
        size_t o = 0;
        for (; o < 4; o++) {
            size_t n = strlen(k[o].opt);
            if (strcmp(argv[i], k[o].opt) == 0) {
                if (i + 1 >= *argc) {
                    snprintf(err, errlen, "%s needs a file", k[o].opt);
                    return SL_EINVAL;
                }
                v[o] = argv[++i];
                break;
            }
            if (strncmp(argv[i], k[o].opt, n) == 0 && argv[i][n] == '=') {
                v[o] = argv[i] + n + 1;
                break;
            }
        }
        if (o == 4) argv[kept++] = argv[i];
    }
    *argc = kept;
    argv[kept] = NULL;
    for (size_t o = 0; o < 4; o++)
        if (!v[o] || !*v[o]) v[o] = getenv(k[o].env);
    for (size_t o = 0; o < 4; o++)
        if (v[o] && !*v[o]) v[o] = NULL;
    out->ca_file = v[1];
    out->cert_file = v[2];
    out->key_file = v[3];
    if (out->key_file && !out->cert_file) {
        snprintf(err, errlen, "--key needs --cert");
        return SL_EINVAL;
    }
    return v[0] ? auth_token_read(v[0], &out->token, err, errlen) : 0;
}

void auth_cli_free(auth_cli *a)
{
    if (a->token) memset(a->token, 0, strlen(a->token));
    free(a->token);
    a->token = NULL;
}

void auth_cli_apply(const auth_cli *a, httpc *c)
{
    httpc_set_bearer(c, a->token);
    httpc_set_tls(c, a->ca_file, a->cert_file, a->key_file);
}

int auth_cli_main(int argc, char **argv, const char *cmd, auth_cli_fn fn)
{
    auth_cli cred;
    char err[512];
    if (auth_cli_parse(&argc, argv, &cred, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", cmd, err);
        return 2;
    }
    int rc = fn(argc, argv, &cred);
    auth_cli_free(&cred);
    return rc;
}

bool auth_bind_is_loopback(const char *bind)
{
    if (!bind || !*bind) return false;
    if (strcmp(bind, "localhost") == 0 || strcmp(bind, "::1") == 0) return true;
    unsigned a, b, c, d;
    char tail;
    return sscanf(bind, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) == 4 && a == 127 && b < 256 &&
           c < 256 && d < 256;
}

int auth_server_open(const char *bind, const char *tokens_file, bool disabled, auth **out,
                     char *err, size_t errlen)
{
    *out = NULL;
    if (tokens_file && disabled) {
        snprintf(err, errlen, "auth.disabled: true, and auth.tokens.file is set: choose one");
        return SL_EINVAL;
    }
    if (tokens_file) {
        char why[512];
        *out = auth_open(tokens_file, why, sizeof why);
        if (!*out) {
            snprintf(err, errlen, "auth.tokens.file: %s", why);
            return SL_EINVAL;
        }
        return 0;
    }
    if (disabled || auth_bind_is_loopback(bind)) return 0;
    snprintf(err, errlen,
             "http.bind: %s takes connections from other hosts, and no auth.tokens.file is set: "
             "set one (bearer tokens, DESIGN §12), bind 127.0.0.1, or set auth.disabled = true",
             bind && *bind ? bind : "0.0.0.0");
    return SL_EINVAL;
}
