/* URL path decoding and exact route patterns (see urlpath.h).
 *
 * Security rule: a decoded segment is used as ONE name (a table, a segment file) by the
 * handlers, so it must never carry a path separator or be a relative step; checking here,
 * before any route runs, means no handler can forget it (Flink CVE-2020-17519 was a REST path
 * decoded into "../"). Decoding happens once: "%252F" becomes the literal "%2F", never "/". */
#include "common/urlpath.h"

#include "common/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int urlpath__hex(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static bool urlpath__is_dots(const char *s)
{
    return strcmp(s, ".") == 0 || strcmp(s, "..") == 0;
}

int urlpath_split(const char *raw, char *out, const char **segs)
{
    if (raw[0] != '/') return URLPATH_EBAD;
    int n = 0;
    const char *p = raw + 1;
    for (;;) {
        if (n == URLPATH_MAX_SEGS) return URLPATH_ELONG;
        char *start = out;
        for (; *p && *p != '/'; p++) {
            unsigned char c = (unsigned char)*p;
            if (c < 0x20 || c == 0x7f) return URLPATH_EBAD;
            if (c == '%') {
                int hi = urlpath__hex(p[1]), lo = hi < 0 ? -1 : urlpath__hex(p[2]);
                if (lo < 0) return URLPATH_EBAD;
                c = (unsigned char)(hi * 16 + lo);
                if (c == '/' || c == '\0') return URLPATH_EBAD; /* "a%2Fb" is not one name */
                p += 2;
            }
            *out++ = (char)c;
        }
        *out++ = '\0';
        if (urlpath__is_dots(start)) return URLPATH_EBAD;
        segs[n++] = start;
        if (!*p) return n;
        p++; /* the '/' */
    }
}

int urlpath_compile(urlpath_pat *p, const char *pattern)
{
    memset(p, 0, sizeof *p);
    if (!pattern || pattern[0] != '/') return URLPATH_EBAD;
    size_t n = strlen(pattern);
    p->buf = sl_xmalloc(n);
    memcpy(p->buf, pattern + 1, n); /* includes the NUL */
    char *s = p->buf;
    for (;;) {
        if (p->nseg == URLPATH_MAX_SEGS) goto bad;
        char *slash = strchr(s, '/');
        if (slash) *slash = '\0';
        size_t len = strlen(s);
        bool param = len >= 2 && s[0] == '{' && s[len - 1] == '}';
        if (param) {
            s[len - 1] = '\0';
            s++;
            if (!*s || strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                 "0123456789_") != strlen(s))
                goto bad;
            for (size_t i = 0; i < p->nseg; i++)
                if (p->is_param[i] && strcmp(p->seg[i], s) == 0) goto bad; /* duplicate name */
        } else if (strpbrk(s, "{}%") || urlpath__is_dots(s)) {
            goto bad;
        }
        p->is_param[p->nseg] = param;
        p->seg[p->nseg++] = s;
        if (!slash) return 0;
        s = slash + 1;
    }
bad:
    urlpath_pat_free(p);
    return URLPATH_EBAD;
}

void urlpath_pat_free(urlpath_pat *p)
{
    free(p->buf);
    memset(p, 0, sizeof *p);
}

bool urlpath_match(const urlpath_pat *p, const char *const *segs, size_t nseg)
{
    if (p->nseg != nseg) return false;
    for (size_t i = 0; i < nseg; i++) {
        if (p->is_param[i] ? segs[i][0] == '\0' : strcmp(p->seg[i], segs[i]) != 0) return false;
    }
    return true;
}

const char *urlpath_param(const urlpath_pat *p, const char *const *segs, const char *name)
{
    for (size_t i = 0; i < p->nseg; i++)
        if (p->is_param[i] && strcmp(p->seg[i], name) == 0) return segs[i];
    return NULL;
}
