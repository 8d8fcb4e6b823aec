/* Streaming JSON writer into a growable buffer, for command output (segment info/dump,
 * admin API replies). It inserts commas itself and prints numbers exactly: integers as
 * integers, doubles and floats in the shortest form that reads back to the same value,
 * non-finite values as the strings "Infinity", "-Infinity", "NaN" (JSON has no literal).
 * One writer belongs to one thread. */
#ifndef SL_JSONW_H
#define SL_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSONW_MAX_DEPTH 32

typedef struct jsonw {
    char *buf; /* NUL-terminated text so far; owned, freed by jsonw_free or taken */
    size_t len;
    size_t cap;
    int depth;
    bool first[JSONW_MAX_DEPTH]; /* nothing written yet in this container */
    bool after_key;
} jsonw;

void jsonw_init(jsonw *w);
void jsonw_free(jsonw *w);
/* Forget the text but keep the buffer (for writing one line at a time). */
void jsonw_reset(jsonw *w);

void jsonw_obj_begin(jsonw *w);
void jsonw_obj_end(jsonw *w);
void jsonw_arr_begin(jsonw *w);
void jsonw_arr_end(jsonw *w);
void jsonw_key(jsonw *w, const char *key);
void jsonw_str(jsonw *w, const char *s, size_t len); /* escapes; bytes are written as given */
void jsonw_cstr(jsonw *w, const char *s);
void jsonw_i64(jsonw *w, int64_t v);
void jsonw_u64(jsonw *w, uint64_t v);
void jsonw_f64(jsonw *w, double v);
void jsonw_f32(jsonw *w, float v);
void jsonw_bool(jsonw *w, bool v);
void jsonw_null(jsonw *w);
/* Insert already-serialized JSON as one value. */
void jsonw_raw(jsonw *w, const char *json, size_t len);
/* Append bytes with no JSON structure (e.g. a newline between lines). */
void jsonw_text(jsonw *w, const char *s, size_t len);

/* The canonical form of the JSON document p[0..n) (surrounding whitespace allowed) as one
 * value, as Jackson writes what it parsed (what a Pinot JSON column stores: docs/json-decoding.md):
 * no whitespace; strings decoded and escaped again (only '"', '\\' and control characters:
 * \b \t \n \f \r or \u00XX; '/' and every other character as UTF-8); integers as written (-0
 * as 0); numbers with a fraction or an exponent as the double they read as, in Java's
 * Double.toString form ("1.5", "100.0", "1.0E-4"), or with JSONW_CANON_DECIMAL as Java's
 * BigDecimal without trailing zeros ("1.5", "1E+2"); object keys in their order, or with
 * JSONW_CANON_SORT_KEYS sorted (by their UTF-8 bytes) at every level, the last of equal keys
 * kept. 0, or -1 with nothing written when the text is not one JSON document (or nests deeper
 * than 256, or holds a lone UTF-16 surrogate). */
#define JSONW_CANON_SORT_KEYS 0x1u
#define JSONW_CANON_DECIMAL 0x2u
int jsonw_canonical(jsonw *w, const char *p, size_t n, unsigned flags);
/* The UTF-8 bytes of code point cp (<= 0x10FFFF) into out (room for 4); returns their count. */
size_t jsonw_utf8_put(char *out, uint32_t cp);

/* The UTF-8 text s[0..n) as one JSON string value, escaped as jsonw_canonical escapes. */
void jsonw_canonical_str(jsonw *w, const char *s, size_t n);

/* Bytes as a JSON string: their lowercase hex (how Pinot shows BYTES), or their padded
 * base64 (common/base64.h). */
void jsonw_hex(jsonw *w, const uint8_t *p, size_t n);
void jsonw_base64(jsonw *w, const uint8_t *p, size_t n);
/* The lowercase hex of the bytes with no JSON structure (a CSV cell). */
void jsonw_text_hex(jsonw *w, const uint8_t *p, size_t n);

/* Shortest round-trip text of a double/float into buf (>= 32 bytes); returns the length.
 * (Tries precisions upward until strtod reads the value back: fine for output paths,
 * not meant for a per-message hot path.)
 * Non-finite values give "Infinity", "-Infinity" or "NaN". */
size_t jsonw_fmt_f64(char *buf, double v);
size_t jsonw_fmt_f32(char *buf, float v);
/* Java's Double.toString of v into buf (>= 40 bytes): the shortest digits that read back to
 * v, plain for 1e-3 <= |v| < 1e7 ("100.0", "0.001"), else "1.0E7", "1.5E-5"; "NaN",
 * "Infinity", "-Infinity". */
size_t jsonw_fmt_java_f64(char *buf, double v);
/* v in decimal into buf (>= 21 bytes, NUL-terminated), as "%" PRId64 / PRIu64 print it,
 * without printf; returns the length. */
size_t jsonw_fmt_i64(char *buf, int64_t v);
size_t jsonw_fmt_u64(char *buf, uint64_t v);
/* Java's Float.toString of v, the same way: the shortest digits that read back to
 * the float ("0.1", "1.0E10"). */
size_t jsonw_fmt_java_f32(char *buf, float v);

/* The bytes p[0..n) as Java's new String(bytes, UTF_8) reads them, as UTF-8 into out (room
 * for 3 * n): each byte of an invalid sequence becomes U+FFFD. Returns the bytes written. */
size_t jsonw_utf8_java(const uint8_t *p, size_t n, char *out);

#endif
