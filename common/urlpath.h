/* URL path decoding and exact route patterns for httpd. Pure functions: no I/O, no globals,
 * so the rules that keep "../" out of file paths are fuzzed and unit-tested on their own.
 *
 * A path "/a/b%20c" is split on '/' into segments, each percent-decoded exactly once
 * ("a", "b c"). Decoding refuses (URLPATH_EBAD, answered 400) a path not starting with '/', a
 * malformed escape, a raw control byte, a segment that decodes to something containing '/' or
 * NUL, and the segments "." and "..". Empty segments are kept ("/a/" is "a", ""), so a trailing
 * slash never folds into another route.
 *
 * A pattern is literal segments and `{name}` captures: "/segments/{table}/{segment}". It
 * matches a path with the same number of segments whose literals are equal byte for byte;
 * a capture matches any non-empty segment. Never prefix or substring matching. */
#ifndef SL_URLPATH_H
#define SL_URLPATH_H

#include <stdbool.h>
#include <stddef.h>

#define URLPATH_MAX_SEGS 16

enum {
    URLPATH_EBAD = -1,  /* the path is malformed or hostile */
    URLPATH_ELONG = -2, /* more than URLPATH_MAX_SEGS segments: matches no route */
};

typedef struct urlpath_pat {
    char *buf;                         /* owned; seg[] point into it */
    const char *seg[URLPATH_MAX_SEGS]; /* literal text, or the capture's name */
    bool is_param[URLPATH_MAX_SEGS];
    size_t nseg;
} urlpath_pat;

/* Split and decode raw (NUL-terminated, without the query string) into out, which needs
 * strlen(raw) + 2 bytes; segs[i] point into out. Returns the segment count (>= 1),
 * URLPATH_EBAD or URLPATH_ELONG. */
int urlpath_split(const char *raw, char *out, const char **segs);

/* Compile pattern into p (caller frees with urlpath_pat_free). Capture names are
 * [A-Za-z0-9_]+ and distinct; literals may not contain '{', '}' or '%' and may not be "." or "..".
 * Returns 0 or URLPATH_EBAD (p is then empty). */
int urlpath_compile(urlpath_pat *p, const char *pattern);
void urlpath_pat_free(urlpath_pat *p);

/* Whether the decoded segments match p exactly. */
bool urlpath_match(const urlpath_pat *p, const char *const *segs, size_t nseg);

/* The segment captured as `name` by a path that matched p, or NULL if p has no such name. */
const char *urlpath_param(const urlpath_pat *p, const char *const *segs, const char *name);

#endif
