/* JSON field scanner over simdjson On-Demand (see jsonscan.h for the contract).
 *
 * This is the project's only C++ translation unit. It keeps to a C-like subset: no
 * exceptions are thrown or caught (simdjson's error_code API only, every entry point is
 * noexcept), no standard containers, plain malloc'd arrays that grow and are reused, and
 * allocation failure aborts as everywhere else in Sluice.
 *
 * Why On-Demand: a Kafka event is small (~250 bytes) and the decoder wants ~10 fields, each
 * exactly once. On-Demand validates UTF-8 and finds the structure in one pass (stage 1) and
 * then lets us walk the fields in document order without building a tape or a DOM, so each
 * value is converted straight into its slot. bench/bench_json.c measures it against cJSON
 * and jansson.
 *
 * Kernels: stage 1 (UTF-8 validation, structural index) is libsimdjson's, dispatched at run
 * time to the best kernel for the CPU (icelake/haswell/westmere). The On-Demand walk is header
 * code compiled for the build target; a generic x86-64 build gets the portable "fallback"
 * walk, which is fine: the walk is scalar by nature.
 *
 * Speed: per field, keys without a backslash are hashed and compared in the message itself
 * (no unescaping copy), strings without a backslash are taken in place, and integers of up to
 * 18 digits are read from their text; everything else goes through simdjson's getters.
 *
 * Validation: On-Demand only checks what it is asked to read. To judge a message the way a
 * full parser does, values of unwanted fields are still read (walk()): escaped strings are
 * unescaped, numbers parsed, atoms checked; and after the top-level object the document must
 * be at its end. A number literal that is well formed but beyond int64/uint64/binary64 (simdjson's
 * NUMBER_ERROR) is not malformed: it is recorded as BIGNUM so rowdec can say "overflow" (or
 * keep its text for a STRING column). */
#include "consumer/jsonscan.h"

#include "common/xalloc.h"

#include <simdjson.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

namespace od = simdjson::ondemand;
using simdjson::error_code;

namespace
{

/* Nesting levels, the top-level object being level 1 and its field values level 2. Deeper
 * is rejected as malformed: this bounds our recursion in walk() on any thread stack (simdjson
 * gets one level of slack so that this check, not its own, decides). Events are flat; 64
 * levels is generous. */
constexpr size_t kMaxDepth = 64;
constexpr size_t kInitialCapacity = 4096;

struct hslot {
    uint32_t hash;
    uint32_t idx1; /* field index + 1; 0 = empty */
};

inline uint64_t load8(const char *p)
{
    uint64_t x;
    memcpy(&x, p, 8);
    return x;
}

/* Key hash from at most two 8-byte loads (first and last 8 bytes) and the length, so hashing
 * costs the same for every key instead of a multiply per byte. p must be readable for
 * max(n, 8) bytes: message keys sit inside the padded buffer, names in a padded arena. */
inline uint32_t key_hash(const char *p, size_t n)
{
    uint64_t a, b;
    if (n >= 8) {
        a = load8(p);
        b = load8(p + n - 8);
    } else {
        a = load8(p) & ((1ULL << (8 * n)) - 1); /* little-endian: the first n bytes */
        b = 0;
    }
    uint64_t h = a * 0x9E3779B97F4A7C15ULL ^ (b + n) * 0xC2B2AE3D27D4EB4FULL;
    return (uint32_t)(h >> 29) ^ (uint32_t)h;
}

/* Same hash for a key that may not have 8 readable bytes (an unescaped key). */
inline uint32_t key_hash_copy(const char *p, size_t n)
{
    if (n >= 8) return key_hash(p, n);
    char tmp[8] = {0};
    memcpy(tmp, p, n);
    return key_hash(tmp, n);
}

/* Offset of the first '"' or '\\' at or after p, eight bytes at a time (SWAR). The caller
 * guarantees one exists and that reading up to 7 bytes past it stays in the buffer. */
inline size_t find_quote_or_backslash(const char *p)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    for (size_t n = 0;; n += 8) {
        uint64_t x = load8(p + n);
        uint64_t q = x ^ (ones * '"'), bs = x ^ (ones * '\\');
        /* the lowest flagged byte is exact, which is all ctz looks at */
        uint64_t m = ((q - ones) & ~q & highs) | ((bs - ones) & ~bs & highs);
        if (m) return n + ((size_t)__builtin_ctzll(m) >> 3);
    }
}

inline bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* raw_json_token() includes the whitespace up to the next token; drop it. */
inline size_t trimmed_len(const char *p, size_t n)
{
    while (n > 0 && is_ws(p[n - 1]))
        n--;
    return n;
}

inline bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* RFC 8259 number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? . Used only to tell
 * an out-of-range literal (well formed) from a malformed one after NUMBER_ERROR. */
bool number_grammar_ok(const char *p, size_t n, bool *int_literal)
{
    size_t i = 0;
    *int_literal = true;
    if (i < n && p[i] == '-') i++;
    if (i >= n || !is_digit(p[i])) return false;
    if (p[i] == '0') {
        i++;
    } else {
        while (i < n && is_digit(p[i]))
            i++;
    }
    if (i < n && p[i] == '.') {
        *int_literal = false;
        i++;
        if (i >= n || !is_digit(p[i])) return false;
        while (i < n && is_digit(p[i]))
            i++;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        *int_literal = false;
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-')) i++;
        if (i >= n || !is_digit(p[i])) return false;
        while (i < n && is_digit(p[i]))
            i++;
    }
    return i == n;
}

int hex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* simdjson reports a bad escape and a lone surrogate alike (STRING_ERROR). A lone surrogate
 * is well-formed JSON syntax whose text cannot be UTF-8, so it is reported as invalid UTF-8.
 * tok is the raw string token, quotes included. */
bool has_lone_surrogate(const char *tok, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if (tok[i] != '\\') continue;
        if (tok[i + 1] != 'u') {
            i++; /* skip the escaped character (it may itself be a backslash) */
            continue;
        }
        if (i + 6 > n) return false;
        int cu = hex4(tok + i + 2);
        if (cu < 0) return false;
        if (cu >= 0xDC00 && cu <= 0xDFFF) return true;
        if (cu >= 0xD800 && cu <= 0xDBFF) {
            if (i + 12 > n || tok[i + 6] != '\\' || tok[i + 7] != 'u') return true;
            int lo = hex4(tok + i + 8);
            if (lo < 0xDC00 || lo > 0xDFFF) return true;
            i += 6;
        }
        i += 5;
    }
    return false;
}

} // namespace

struct jsonscan {
    od::parser parser;
    size_t parser_cap;

    /* wanted fields */
    uint32_t n;
    char *arena;        /* the names, each followed by 8 zero bytes (for key_hash loads) */
    const char **names; /* into arena */
    uint32_t *lens;
    uint8_t *flags;
    hslot *table;
    uint32_t mask;

    /* per message; vals[i] is meaningful only when gen_of[i] == gen */
    jsonscan_val *vals;
    uint32_t *gen_of;
    uint32_t gen;
    jsonscan_val *elems;
    uint32_t nelems, elems_cap;
    char *buf; /* padded copy of the message */
    size_t buf_cap, len;

    int err_index;
    const char *err_text;
};

namespace
{

/* Defence in depth: a token simdjson hands back must lie inside the message. */
bool token_inside(const jsonscan *s, std::string_view tok)
{
    return tok.data() >= s->buf && tok.data() + tok.size() <= s->buf + s->len;
}

/* Byte compare inline: keys are a few bytes, a libc memcmp call costs more than the loop. */
inline bool same_bytes(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i]) return false;
    return true;
}

int lookup_hashed(const jsonscan *s, const char *k, size_t n, uint32_t h)
{
    for (uint32_t i = h & s->mask;; i = (i + 1) & s->mask) {
        const hslot *e = &s->table[i];
        if (e->idx1 == 0) return -1;
        uint32_t f = e->idx1 - 1;
        if (e->hash == h && s->lens[f] == n && same_bytes(s->names[f], k, n)) return (int)f;
    }
}

/* k need not have 8 readable bytes (unescaped keys, names at construction). */
int lookup(const jsonscan *s, const char *k, size_t n)
{
    return lookup_hashed(s, k, n, key_hash_copy(k, n));
}

uint32_t push_elem(jsonscan *s)
{
    if (s->nelems == s->elems_cap) {
        s->elems_cap = s->elems_cap ? s->elems_cap * 2 : 64;
        s->elems = (jsonscan_val *)sl_xrealloc(s->elems, s->elems_cap * sizeof *s->elems);
    }
    return s->nelems++;
}

error_code walk(const jsonscan *s, od::value v, size_t depth);
error_code scan_number(const jsonscan *s, od::value &v, jsonscan_val *out);

/* A string token without a backslash needs no unescaping: stage 1 has already checked its
 * UTF-8, its control characters and its closing quote, so its bytes are taken straight from
 * the message and the unread value is skipped by the iterator. Otherwise simdjson unescapes
 * (and validates the escapes) into its string buffer. */
error_code read_string(const jsonscan *s, od::value &v, const char **text, size_t *len)
{
    std::string_view tok = v.raw_json_token();
    if (!token_inside(s, tok)) return simdjson::TAPE_ERROR;
    size_t n = trimmed_len(tok.data(), tok.size());
    if (n >= 2 && tok[0] == '"' && tok[n - 1] == '"' && !memchr(tok.data() + 1, '\\', n - 2)) {
        *text = tok.data() + 1;
        *len = n - 2;
        return simdjson::SUCCESS;
    }
    std::string_view sv;
    error_code e = v.get_string().get(sv);
    if (e == simdjson::STRING_ERROR && has_lone_surrogate(tok.data(), n))
        return simdjson::UTF8_ERROR;
    if (e) return e;
    *text = sv.data();
    *len = sv.size();
    return simdjson::SUCCESS;
}

error_code walk_object(const jsonscan *s, od::object o, size_t depth)
{
    for (auto r : o) {
        std::string_view k;
        error_code e = r.unescaped_key().get(k);
        if (e) return e;
        od::value fv;
        if ((e = r.value().get(fv))) return e;
        if ((e = walk(s, fv, depth + 1))) return e;
    }
    return simdjson::SUCCESS;
}

error_code walk_array(const jsonscan *s, od::array a, size_t depth)
{
    for (auto r : a) {
        od::value ev;
        error_code e = r.get(ev);
        if (e) return e;
        if ((e = walk(s, ev, depth + 1))) return e;
    }
    return simdjson::SUCCESS;
}

/* Read (and so validate) one value completely, keeping nothing. */
error_code walk(const jsonscan *s, od::value v, size_t depth)
{
    if (depth > kMaxDepth) return simdjson::DEPTH_ERROR;
    od::json_type t;
    error_code e = v.type().get(t);
    if (e) return e;
    switch (t) {
    case od::json_type::object: {
        od::object o;
        if ((e = v.get_object().get(o))) return e;
        return walk_object(s, o, depth);
    }
    case od::json_type::array: {
        od::array a;
        if ((e = v.get_array().get(a))) return e;
        return walk_array(s, a, depth);
    }
    case od::json_type::number: {
        jsonscan_val ignored;
        return scan_number(s, v, &ignored);
    }
    case od::json_type::string: {
        const char *text;
        size_t len;
        return read_string(s, v, &text, &len);
    }
    case od::json_type::boolean: {
        bool b;
        return v.get_bool().get(b);
    }
    case od::json_type::null: {
        bool is_null = false;
        if ((e = v.is_null().get(is_null))) return e;
        return is_null ? simdjson::SUCCESS : simdjson::N_ATOM_ERROR;
    }
    }
    return simdjson::TAPE_ERROR;
}

/* simdjson 3.0.1's get_number() returns 0 for a fractional literal with more than 19
 * significant digits (simdjson issue #2099, fixed upstream in 3.6.x): the slow path writes
 * into a copy of the number. get_number_type() plus the typed getters are correct, so they are
 * used instead. Any getter error on a literal that is nevertheless well formed means "out of
 * range" (BIGNUM); otherwise the literal is malformed. */
error_code scan_number(const jsonscan *s, od::value &v, jsonscan_val *out)
{
    std::string_view tok = v.raw_json_token();
    if (!token_inside(s, tok)) return simdjson::TAPE_ERROR;
    out->text = tok.data();
    out->len = (uint32_t)trimmed_len(tok.data(), tok.size());

    /* Fast path: -?[1-9][0-9]{0,17} or 0 cannot overflow int64 and is read here directly;
     * anything longer, fractional or odd goes to simdjson. */
    const char *p = out->text;
    size_t n = out->len, i = p[0] == '-';
    if (n > i && n - i <= 18 && (p[i] != '0' || n - i == 1)) {
        int64_t mag = 0;
        for (; i < n && is_digit(p[i]); i++)
            mag = mag * 10 + (p[i] - '0');
        if (i == n && !(p[0] == '-' && n == 1)) {
            out->kind = JSONSCAN_INT64;
            out->int_literal = true;
            out->v.i64 = p[0] == '-' ? -mag : mag;
            return simdjson::SUCCESS;
        }
    }

    od::number_type nt;
    error_code e = v.get_number_type().get(nt);
    if (!e) {
        switch (nt) {
        case od::number_type::signed_integer:
            out->kind = JSONSCAN_INT64;
            out->int_literal = true;
            e = v.get_int64().get(out->v.i64);
            break;
        case od::number_type::unsigned_integer:
            out->kind = JSONSCAN_UINT64;
            out->int_literal = true;
            e = v.get_uint64().get(out->v.u64);
            break;
        default:
            out->kind = JSONSCAN_DOUBLE;
            out->int_literal = false;
            e = v.get_double().get(out->v.f64);
            break;
        }
        if (!e) return simdjson::SUCCESS;
    }
    bool il;
    if (number_grammar_ok(out->text, out->len, &il)) {
        out->kind = JSONSCAN_BIGNUM;
        out->int_literal = il;
        return simdjson::SUCCESS;
    }
    return e;
}

/* Object or array kept as its raw text: validate it by walking, then take the bytes from its
 * first token to the next token after it. */
error_code scan_raw(jsonscan *s, od::document &doc, od::value &v, jsonscan_kind kind, size_t depth,
                    jsonscan_val *out)
{
    std::string_view tok = v.raw_json_token();
    if (!token_inside(s, tok)) return simdjson::TAPE_ERROR;
    const char *start = tok.data();
    error_code e = walk(s, v, depth);
    if (e) return e;
    const char *end;
    if (doc.current_location().get(end))
        end = s->buf + s->len; /* cannot happen inside the top-level object; be safe */
    out->kind = (uint8_t)kind;
    out->text = start;
    out->len = (uint32_t)trimmed_len(start, (size_t)(end - start));
    return simdjson::SUCCESS;
}

error_code scan_value(jsonscan *s, od::document &doc, od::value &v, bool list, size_t depth,
                      jsonscan_val *out);

error_code scan_list(jsonscan *s, od::document &doc, od::value &v, size_t depth, jsonscan_val *out)
{
    od::array a;
    error_code e = v.get_array().get(a);
    if (e) return e;
    uint32_t first = s->nelems, count = 0;
    for (auto r : a) {
        od::value ev;
        if ((e = r.get(ev))) return e;
        /* Elements are scanned with list=false, so they never push elements themselves:
         * the pointer taken after push_elem stays valid across the call. */
        uint32_t k = push_elem(s);
        if ((e = scan_value(s, doc, ev, false, depth + 1, &s->elems[k]))) return e;
        count++;
    }
    out->kind = JSONSCAN_LIST;
    out->int_literal = false;
    out->text = nullptr;
    out->len = 0;
    out->v.list.first = first;
    out->v.list.count = count;
    return simdjson::SUCCESS;
}

error_code scan_value(jsonscan *s, od::document &doc, od::value &v, bool list, size_t depth,
                      jsonscan_val *out)
{
    if (depth > kMaxDepth) return simdjson::DEPTH_ERROR;
    od::json_type t;
    error_code e = v.type().get(t);
    if (e) return e;
    out->int_literal = false;
    out->nul_free = true;
    out->text = nullptr;
    out->len = 0;
    switch (t) {
    case od::json_type::object:
        return scan_raw(s, doc, v, JSONSCAN_OBJECT, depth, out);
    case od::json_type::array:
        if (list) return scan_list(s, doc, v, depth, out);
        return scan_raw(s, doc, v, JSONSCAN_ARRAY, depth, out);
    case od::json_type::number:
        return scan_number(s, v, out);
    case od::json_type::string: {
        const char *text;
        size_t len;
        if ((e = read_string(s, v, &text, &len))) return e;
        out->kind = JSONSCAN_STRING;
        out->nul_free = text >= s->buf && text < s->buf + s->len; /* not unescaped */
        out->text = text;
        out->len = (uint32_t)len;
        return simdjson::SUCCESS;
    }
    case od::json_type::boolean: {
        bool b;
        if ((e = v.get_bool().get(b))) return e;
        out->kind = JSONSCAN_BOOL;
        out->v.b = b;
        return simdjson::SUCCESS;
    }
    case od::json_type::null: {
        bool is_null = false;
        if ((e = v.is_null().get(is_null))) return e;
        if (!is_null) return simdjson::N_ATOM_ERROR;
        out->kind = JSONSCAN_NULL;
        return simdjson::SUCCESS;
    }
    }
    return simdjson::TAPE_ERROR;
}

/* After the top-level value: anything but whitespace left is trailing content. */
bool at_document_end(od::document &doc)
{
    const char *loc;
    return doc.current_location().get(loc) != simdjson::SUCCESS;
}

/* The top level is not an object: read it whole, trailing content included, to tell "valid
 * but not an object" from "not JSON at all". Rare path. */
error_code validate_non_object(const jsonscan *s, od::document &doc, od::json_type t)
{
    error_code e;
    switch (t) {
    case od::json_type::array: {
        od::value v;
        if ((e = doc.get_value().get(v))) return e;
        e = walk(s, v, 1);
        break;
    }
    case od::json_type::number: {
        std::string_view tok;
        if ((e = doc.raw_json_token().get(tok))) return e;
        if (!token_inside(s, tok)) return simdjson::TAPE_ERROR;
        double x;
        e = doc.get_double().get(x);
        if (e == simdjson::SUCCESS) break;
        /* Out of range but well formed: the getter did not move past the token, so judge
         * the rest of the buffer directly (raw_json_token runs up to the next token). */
        bool il;
        if (!number_grammar_ok(tok.data(), trimmed_len(tok.data(), tok.size()), &il)) return e;
        return tok.data() + tok.size() == s->buf + s->len ? simdjson::SUCCESS
                                                          : simdjson::TRAILING_CONTENT;
    }
    case od::json_type::string: {
        std::string_view sv;
        e = doc.get_string().get(sv);
        if (e == simdjson::STRING_ERROR) {
            std::string_view tok;
            if (!doc.raw_json_token().get(tok) && token_inside(s, tok) &&
                has_lone_surrogate(tok.data(), tok.size()))
                return simdjson::UTF8_ERROR;
        }
        break;
    }
    case od::json_type::boolean: {
        bool b;
        e = doc.get_bool().get(b);
        break;
    }
    case od::json_type::null: {
        bool is_null = false;
        if ((e = doc.is_null().get(is_null))) return e;
        e = is_null ? simdjson::SUCCESS : simdjson::N_ATOM_ERROR;
        break;
    }
    default:
        return simdjson::TAPE_ERROR;
    }
    if (e) return e;
    return at_document_end(doc) ? simdjson::SUCCESS : simdjson::TRAILING_CONTENT;
}

jsonscan_status fail(jsonscan *s, error_code e)
{
    s->err_text = simdjson::error_message(e);
    return e == simdjson::UTF8_ERROR ? JSONSCAN_INVALID_UTF8 : JSONSCAN_MALFORMED;
}

void ensure_capacity(jsonscan *s, size_t len)
{
    size_t need = len + simdjson::SIMDJSON_PADDING;
    if (need > s->buf_cap) {
        size_t cap = s->buf_cap * 2 > need ? s->buf_cap * 2 : need;
        s->buf = (char *)sl_xrealloc(s->buf, cap);
        /* simdjson may read the padding; keep it defined. */
        memset(s->buf, 0, cap);
        s->buf_cap = cap;
    }
    if (len > s->parser_cap) {
        size_t cap = s->parser_cap * 2 > len ? s->parser_cap * 2 : len;
        if (s->parser.allocate(cap, kMaxDepth + 1) != simdjson::SUCCESS) sl_xoom(cap);
        s->parser_cap = cap;
    }
}

} // namespace

extern "C" {

jsonscan *jsonscan_new(const char *const *names, const uint32_t *lens, const uint8_t *flags,
                       uint32_t n) noexcept
{
    jsonscan *s = new (std::nothrow) jsonscan();
    if (!s) sl_xoom(sizeof *s);
    s->n = n;
    size_t arena_len = 8;
    for (uint32_t i = 0; i < n; i++)
        arena_len += (size_t)lens[i] + 8;
    s->arena = (char *)sl_xcalloc(arena_len, 1);
    s->names = (const char **)sl_xmalloc(n * sizeof *s->names);
    for (size_t i = 0, off = 0; i < n; off += (size_t)lens[i] + 8, i++) {
        memcpy(s->arena + off, names[i], lens[i]);
        s->names[i] = s->arena + off;
    }
    s->lens = (uint32_t *)sl_xmalloc(n * sizeof *s->lens);
    s->flags = (uint8_t *)sl_xmalloc(n);
    s->vals = (jsonscan_val *)sl_xcalloc(n, sizeof *s->vals);
    s->gen_of = (uint32_t *)sl_xcalloc(n, sizeof *s->gen_of);
    s->gen = 1;

    /* Load factor <= 1/2 keeps probe sequences to one or two slots. */
    uint32_t size = 8;
    while (size < 2 * n)
        size *= 2;
    s->mask = size - 1;
    s->table = (hslot *)sl_xcalloc(size, sizeof *s->table);
    for (uint32_t i = 0; i < n; i++) {
        s->lens[i] = lens[i];
        s->flags[i] = flags ? flags[i] : 0;
        if (lookup(s, s->names[i], lens[i]) >= 0)
            continue; /* repeated name: the first index wins */
        uint32_t h = key_hash(s->names[i], lens[i]);
        uint32_t j = h & s->mask;
        while (s->table[j].idx1 != 0)
            j = (j + 1) & s->mask;
        s->table[j].hash = h;
        s->table[j].idx1 = i + 1;
    }

    s->parser_cap = 0;
    s->buf_cap = 0;
    ensure_capacity(s, kInitialCapacity);
    s->err_index = -1;
    s->err_text = "";
    return s;
}

jsonscan_status jsonscan_run(jsonscan *s, const uint8_t *msg, size_t len) noexcept
{
    s->err_index = -1;
    s->err_text = "";
    s->nelems = 0;
    if (++s->gen == 0) { /* wrapped: forget every stale mark */
        memset(s->gen_of, 0, s->n * sizeof *s->gen_of);
        s->gen = 1;
    }
    ensure_capacity(s, len);
    if (len > 0) memcpy(s->buf, msg, len);
    /* On an unclosed document On-Demand peeks at the byte after the end as if it were a token:
     * zero padding makes that a clean error instead of a replay of an older, longer message. */
    memset(s->buf + len, 0, simdjson::SIMDJSON_PADDING);
    s->len = len;

    od::document doc;
    error_code e = s->parser.iterate(s->buf, len, s->buf_cap).get(doc);
    if (e) return fail(s, e);
    od::json_type t;
    if ((e = doc.type().get(t))) return fail(s, e);
    if (t != od::json_type::object) {
        if ((e = validate_non_object(s, doc, t))) return fail(s, e);
        s->err_text = "top level is not an object";
        return JSONSCAN_NOT_OBJECT;
    }

    od::object obj;
    if ((e = doc.get_object().get(obj))) return fail(s, e);
    for (auto r : obj) {
        /* Work on the field in place: copying the field or its value out of the result costs
         * a store-forwarding stall per field (GCC writes 8+4 bytes, reads 16), measured at
         * ~10% of a whole decode. */
        if ((e = r.error())) return fail(s, e);
        od::field &fld = r.value_unsafe();
        /* Keys without a backslash are hashed and compared in place (stage 1 has validated
         * them); the others are unescaped first, so "caf\u00e9" finds "café". */
        const char *k = fld.key().raw();
        size_t kn = find_quote_or_backslash(k);
        int idx;
        if (k[kn] == '"') {
            idx = lookup_hashed(s, k, kn, key_hash(k, kn));
        } else {
            std::string_view key;
            if ((e = fld.unescaped_key().get(key))) return fail(s, e);
            idx = lookup(s, key.data(), key.size());
        }
        od::value &v = fld.value();
        if (idx < 0) {
            if ((e = walk(s, v, 2))) return fail(s, e);
            continue;
        }
        e = scan_value(s, doc, v, (s->flags[idx] & JSONSCAN_F_LIST) != 0, 2, &s->vals[idx]);
        if (e) {
            s->err_index = idx;
            return fail(s, e);
        }
        s->gen_of[idx] = s->gen;
    }
    if (!at_document_end(doc)) return fail(s, simdjson::TRAILING_CONTENT);
    return JSONSCAN_OK;
}

const jsonscan_val *jsonscan_get(const jsonscan *s, uint32_t i) noexcept
{
    static const jsonscan_val absent = {};
    if (i >= s->n || s->gen_of[i] != s->gen) return &absent;
    return &s->vals[i];
}

const jsonscan_val *jsonscan_elems(const jsonscan *s) noexcept
{
    return s->elems;
}

uint32_t jsonscan_nelems(const jsonscan *s) noexcept
{
    return s->nelems;
}

int jsonscan_error_index(const jsonscan *s) noexcept
{
    return s->err_index;
}

const char *jsonscan_error_text(const jsonscan *s) noexcept
{
    return s->err_text;
}

void jsonscan_kernel(char *buf, size_t len) noexcept
{
    /* Stage 1 comes from libsimdjson, dispatched at run time to the best kernel for this CPU;
     * the On-Demand walk is header code compiled for the build's target. */
    snprintf(buf, len, "stage1=%s walk=%s", simdjson::get_active_implementation()->name().c_str(),
             SIMDJSON_STRINGIFY(SIMDJSON_BUILTIN_IMPLEMENTATION));
}

void jsonscan_free(jsonscan *s) noexcept
{
    if (!s) return;
    free(s->arena);
    free(s->names);
    free(s->lens);
    free(s->flags);
    free(s->vals);
    free(s->gen_of);
    free(s->table);
    free(s->elems);
    free(s->buf);
    delete s;
}

} // extern "C"
