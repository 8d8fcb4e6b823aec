/* Allocation that aborts on failure (see xalloc.h). */
#include "common/xalloc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sl_xoom(size_t n)
{
    /* fprintf may itself need memory; a fixed message through stderr's buffer is the best
     * there is, and abort() follows whatever happens. */
    fprintf(stderr, "sluice: out of memory (%zu bytes)\n", n);
    abort();
}

void *sl_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) sl_xoom(n);
    return p;
}

void *sl_xcalloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) sl_xoom(SIZE_MAX);
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) sl_xoom(n * size);
    return p;
}

void *sl_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) sl_xoom(n);
    return q;
}

char *sl_xstrdup(const char *s)
{
    return sl_xmemdupz(s, strlen(s));
}

char *sl_xmemdupz(const void *p, size_t n)
{
    if (n == SIZE_MAX) sl_xoom(n);
    char *d = sl_xmalloc(n + 1);
    if (n) memcpy(d, p, n);
    d[n] = '\0';
    return d;
}

char *sl_xvasprintf(const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) sl_xoom(0);
    return s;
}

char *sl_xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = sl_xvasprintf(fmt, ap);
    va_end(ap);
    return s;
}
