/* Fuzz the HTTP path decoder and route patterns (common/urlpath). Beyond "no crash", it checks
 * the security properties handlers rely on: an accepted path's segments never contain '/',
 * are never "." or "..", and fit the output buffer; a compiled pattern matches the path
 * spelled from its own literals (captures filled with "x") and not that path minus a segment. */
#include "common/urlpath.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_urlpath: property violated: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096) return 0;
    char *raw = malloc(size + 1);
    memcpy(raw, data, size);
    raw[size] = '\0'; /* the server sees a C string: anything after a NUL is gone */
    size_t rawlen = strlen(raw);

    char *out = malloc(rawlen + 2);
    const char *segs[URLPATH_MAX_SEGS];
    int n = urlpath_split(raw, out, segs);
    check(n == URLPATH_EBAD || n == URLPATH_ELONG || (n >= 1 && n <= URLPATH_MAX_SEGS),
          "split result range");
    size_t used = 0;
    for (int i = 0; i < n; i++) {
        check(segs[i] >= out && segs[i] < out + rawlen + 2, "segment inside buffer");
        check(strchr(segs[i], '/') == NULL, "no '/' in a segment");
        check(strcmp(segs[i], ".") != 0 && strcmp(segs[i], "..") != 0, "no dot segment");
        used += strlen(segs[i]) + 1;
    }
    check(used <= rawlen + 2, "decoded fits");

    urlpath_pat p;
    if (urlpath_compile(&p, raw) == 0) {
        check(p.nseg >= 1 && p.nseg <= URLPATH_MAX_SEGS, "pattern size");
        /* Spell a path from the pattern: it must split back and match. */
        char *path = malloc(rawlen + 2 * URLPATH_MAX_SEGS + 2);
        size_t len = 0;
        for (size_t i = 0; i < p.nseg; i++) {
            path[len++] = '/';
            const char *s = p.is_param[i] ? "x" : p.seg[i];
            memcpy(path + len, s, strlen(s));
            len += strlen(s);
        }
        path[len] = '\0';
        char *dec = malloc(len + 2);
        const char *ps[URLPATH_MAX_SEGS];
        int pn = urlpath_split(path, dec, ps);
        /* Literals may hold bytes that the decoder refuses (controls): then no match is fine. */
        if (pn > 0) {
            check(urlpath_match(&p, ps, (size_t)pn), "pattern matches its own spelling");
            check(!urlpath_match(&p, ps, (size_t)pn - 1), "no match with a segment fewer");
            for (size_t i = 0; i < p.nseg; i++) {
                const char *v = p.is_param[i] ? urlpath_param(&p, ps, p.seg[i]) : "x";
                check(v && strcmp(v, "x") == 0, "capture value");
            }
        }
        if (n > 0) (void)urlpath_match(&p, segs, (size_t)n);
        free(dec);
        free(path);
        urlpath_pat_free(&p);
    }
    free(out);
    free(raw);
    return 0;
}
