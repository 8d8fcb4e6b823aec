/* Allocation that cannot fail: the one out-of-memory policy of Sluice.
 *
 * Running out of memory is not recovered from anywhere (STYLE.md, Redis src/zmalloc.c): these
 * wrappers print "sluice: out of memory (N bytes)" on stderr and abort(), so no caller spends
 * code on a NULL it cannot handle, and the crash names its cause. Memory that comes from
 * elsewhere (a jemalloc arena, simdjson, operator new(nothrow), vasprintf) reports its failure
 * through sl_xoom the same way.
 *
 * Every pointer returned is the caller's, freed with free(). A size of 0 gives a unique
 * pointer (never NULL). @locality: any thread. */
#ifndef SL_XALLOC_H
#define SL_XALLOC_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* malloc(n) that aborts on failure. */
void *sl_xmalloc(size_t n);
/* calloc(n, size) that aborts on failure (an overflowing n * size included). */
void *sl_xcalloc(size_t n, size_t size);
/* realloc(p, n) that aborts on failure; p is never left dangling (it stays valid only when
 * the call returns it). */
void *sl_xrealloc(void *p, size_t n);
/* strdup(s) that aborts on failure. */
char *sl_xstrdup(const char *s);
/* A copy of exactly n bytes at p with a NUL after them (the bytes may hold NULs themselves:
 * a STRING value), as git's xmemdupz; aborts on failure. */
char *sl_xmemdupz(const void *p, size_t n);
/* asprintf / vasprintf that abort on failure: a new formatted string. */
char *sl_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *sl_xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Report that an allocation of n bytes failed, and abort. */
void sl_xoom(size_t n) __attribute__((noreturn));

#ifdef __cplusplus
}
#endif

#endif
