/* Completion RPC codec and client call (see rpc.h for the contract).
 *
 * protobuf-c does the packing and unpacking, but it answers any bad input with a bare NULL and
 * hands strings back as C strings. So before unpacking, wire_scan walks the tag/length
 * structure itself with bounds-checked reads: that is what lets us report truncated input
 * apart from corrupt input, with the byte offset, and refuse a NUL inside a string field
 * (protobuf-c would keep it, and every strlen after would silently cut the value). The
 * generated code is used only in this file; callers see the plain structs of rpc.h.
 *
 * One validation function per message serves both directions (decode after unpacking,
 * encode before packing), which is what makes decode -> encode -> decode an identity (the
 * property tests/fuzz/fuzz_rpc.c checks). */
#include "completion/rpc.h"

#include "common/jsonw.h"
#include "common/sl_err.h"
#include "common/xalloc.h"
#include "proto/completion.pb-c.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The C enums are the wire numbers: a cast converts, these keep it true. */
#define SAME_VALUE(a, b) _Static_assert((int)(a) == (int)(b), #a " differs from the wire")
SAME_VALUE(RPC_REASON_ROW_LIMIT, SLUICE__V1__STOP_REASON__REASON_ROW_LIMIT);
SAME_VALUE(RPC_REASON_TIME_LIMIT, SLUICE__V1__STOP_REASON__REASON_TIME_LIMIT);
SAME_VALUE(RPC_REASON_SIZE_LIMIT, SLUICE__V1__STOP_REASON__REASON_SIZE_LIMIT);
SAME_VALUE(RPC_REASON_END_OF_PARTITION, SLUICE__V1__STOP_REASON__REASON_END_OF_PARTITION);
SAME_VALUE(RPC_REASON_FORCE_COMMIT, SLUICE__V1__STOP_REASON__REASON_FORCE_COMMIT);
SAME_VALUE(RPC_REASON_ERROR, SLUICE__V1__STOP_REASON__REASON_ERROR);
SAME_VALUE(RPC_STATUS_HOLD, SLUICE__V1__STATUS__STATUS_HOLD);
SAME_VALUE(RPC_STATUS_CATCH_UP, SLUICE__V1__STATUS__STATUS_CATCH_UP);
SAME_VALUE(RPC_STATUS_COMMIT, SLUICE__V1__STATUS__STATUS_COMMIT);
SAME_VALUE(RPC_STATUS_KEEP, SLUICE__V1__STATUS__STATUS_KEEP);
SAME_VALUE(RPC_STATUS_DISCARD, SLUICE__V1__STATUS__STATUS_DISCARD);
SAME_VALUE(RPC_STATUS_NOT_LEADER, SLUICE__V1__STATUS__STATUS_NOT_LEADER);
SAME_VALUE(RPC_STATUS_FAILED, SLUICE__V1__STATUS__STATUS_FAILED);
SAME_VALUE(RPC_STATUS_COMMIT_CONTINUE, SLUICE__V1__STATUS__STATUS_COMMIT_CONTINUE);
SAME_VALUE(RPC_STATUS_COMMIT_SUCCESS, SLUICE__V1__STATUS__STATUS_COMMIT_SUCCESS);
SAME_VALUE(RPC_STATUS_PROCESSED, SLUICE__V1__STATUS__STATUS_PROCESSED);

/* String fields, as bit masks of field numbers, for the NUL check of wire_scan. */
#define REQ_STRING_FIELDS ((1u << 1) | (1u << 2) | (1u << 9))
#define RESP_STRING_FIELDS ((1u << 4) | (1u << 5) | (1u << 7))

static const char *const method_names[RPC_METHOD__COUNT] = {
    "SegmentConsumed", "CommitStart", "CommitEnd", "ExtendBuildTime", "StoppedConsuming"};
static const char *const method_paths[RPC_METHOD__COUNT] = {
    RPC_PATH_PREFIX "SegmentConsumed", RPC_PATH_PREFIX "CommitStart", RPC_PATH_PREFIX "CommitEnd",
    RPC_PATH_PREFIX "ExtendBuildTime", RPC_PATH_PREFIX "StoppedConsuming"};
static const char *const status_names[RPC_STATUS__COUNT] = {
    "UNSPECIFIED", "HOLD",   "CATCH_UP",        "COMMIT",         "KEEP",     "DISCARD",
    "NOT_LEADER",  "FAILED", "COMMIT_CONTINUE", "COMMIT_SUCCESS", "PROCESSED"};
static const char *const reason_names[RPC_REASON__COUNT] = {
    "UNSPECIFIED",      "ROW_LIMIT",    "TIME_LIMIT", "SIZE_LIMIT",
    "END_OF_PARTITION", "FORCE_COMMIT", "ERROR"};
static const struct {
    const char *name;
    unsigned http;
} twirp[RPC_TWIRP__COUNT] = {
    [RPC_TWIRP_CANCELED] = {"canceled", 408},
    [RPC_TWIRP_UNKNOWN] = {"unknown", 500},
    [RPC_TWIRP_INVALID_ARGUMENT] = {"invalid_argument", 400},
    [RPC_TWIRP_MALFORMED] = {"malformed", 400},
    [RPC_TWIRP_DEADLINE_EXCEEDED] = {"deadline_exceeded", 408},
    [RPC_TWIRP_NOT_FOUND] = {"not_found", 404},
    [RPC_TWIRP_BAD_ROUTE] = {"bad_route", 404},
    [RPC_TWIRP_ALREADY_EXISTS] = {"already_exists", 409},
    [RPC_TWIRP_PERMISSION_DENIED] = {"permission_denied", 403},
    [RPC_TWIRP_UNAUTHENTICATED] = {"unauthenticated", 401},
    [RPC_TWIRP_RESOURCE_EXHAUSTED] = {"resource_exhausted", 429},
    [RPC_TWIRP_FAILED_PRECONDITION] = {"failed_precondition", 412},
    [RPC_TWIRP_ABORTED] = {"aborted", 409},
    [RPC_TWIRP_OUT_OF_RANGE] = {"out_of_range", 400},
    [RPC_TWIRP_UNIMPLEMENTED] = {"unimplemented", 501},
    [RPC_TWIRP_INTERNAL] = {"internal", 500},
    [RPC_TWIRP_UNAVAILABLE] = {"unavailable", 503},
    [RPC_TWIRP_DATALOSS] = {"dataloss", 500},
};

/* ---- names ---- */

const char *rpc_method_name(rpc_method m)
{
    return (unsigned)m < RPC_METHOD__COUNT ? method_names[m] : NULL;
}

const char *rpc_method_path(rpc_method m)
{
    return (unsigned)m < RPC_METHOD__COUNT ? method_paths[m] : NULL;
}

int rpc_method_parse(const char *name, rpc_method *out)
{
    for (unsigned i = 0; i < RPC_METHOD__COUNT; i++)
        if (strcmp(name, method_names[i]) == 0) {
            *out = (rpc_method)i;
            return 0;
        }
    return SL_ENOENT;
}

const char *rpc_status_name(rpc_status s)
{
    return (unsigned)s < RPC_STATUS__COUNT ? status_names[s] : "?";
}

const char *rpc_reason_name(rpc_reason r)
{
    return (unsigned)r < RPC_REASON__COUNT ? reason_names[r] : "?";
}

const char *rpc_twirp_code_name(rpc_twirp_code c)
{
    return (unsigned)c < RPC_TWIRP__COUNT ? twirp[c].name : NULL;
}

unsigned rpc_twirp_http_status(rpc_twirp_code c)
{
    return (unsigned)c < RPC_TWIRP__COUNT ? twirp[c].http : 500;
}

rpc_twirp_code rpc_twirp_code_for_err(int err)
{
    switch (err) {
    case SL_ELIMIT:
    case SL_ETRUNC:
    case SL_ECORRUPT:
        return RPC_TWIRP_MALFORMED;
    case SL_EINVAL:
    case SL_EFORMAT:
        return RPC_TWIRP_INVALID_ARGUMENT;
    default:
        return RPC_TWIRP_INTERNAL;
    }
}

/* ---- helpers ---- */

/* A peer's string made safe to put in a message: printable ASCII, at most 48 bytes. */
static const char *shown(const char *s, char buf[64])
{
    size_t i = 0;
    for (; s[i] && i < 48; i++)
        buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    if (s[i]) memcpy(buf + i, "...", 3), i += 3;
    buf[i] = '\0';
    return buf;
}

static bool is_url_text(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f) return false;
    return true;
}

static bool is_instance(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return false;
    }
    return n >= 1 && n <= SL_IDENT_MAX;
}

/* ---- wire structure scan ---- */

static int wire_varint(const uint8_t *b, size_t len, size_t *pos, uint64_t *v)
{
    uint64_t r = 0;
    for (unsigned i = 0; i < 10; i++) {
        if (*pos >= len) return SL_ETRUNC;
        uint8_t byte = b[(*pos)++];
        if (i == 9 && byte > 1) return SL_ECORRUPT; /* more than 64 bits */
        r |= (uint64_t)(byte & 0x7f) << (7 * i);
        if (!(byte & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return SL_ECORRUPT;
}

/* Walk every field of a message; string_mask has bit N set for string field N. */
static int wire_scan(const uint8_t *b, size_t len, uint32_t string_mask, char *err, size_t errlen)
{
    size_t pos = 0;
    while (pos < len) {
        size_t at = pos;
        uint64_t key, v;
        int rc = wire_varint(b, len, &pos, &key);
        if (rc)
            return sl_fail(err, errlen, rc, "offset %zu: %s field key", at,
                           rc == SL_ETRUNC ? "truncated" : "overlong");
        uint64_t field = key >> 3;
        unsigned wt = (unsigned)(key & 7);
        if (field == 0 || field > 536870911u)
            return sl_fail(err, errlen, SL_ECORRUPT, "offset %zu: bad field number", at);
        switch (wt) {
        case 0:
            rc = wire_varint(b, len, &pos, &v);
            if (rc)
                return sl_fail(err, errlen, rc, "offset %zu: field %llu: %s varint", at,
                               (unsigned long long)field,
                               rc == SL_ETRUNC ? "truncated" : "overlong");
            break;
        case 1:
        case 5: {
            size_t n = wt == 1 ? 8 : 4;
            if (len - pos < n)
                return sl_fail(err, errlen, SL_ETRUNC, "offset %zu: field %llu: truncated fixed%zu",
                               at, (unsigned long long)field, n * 8);
            pos += n;
            break;
        }
        case 2:
            rc = wire_varint(b, len, &pos, &v);
            if (rc)
                return sl_fail(err, errlen, rc, "offset %zu: field %llu: %s length", at,
                               (unsigned long long)field,
                               rc == SL_ETRUNC ? "truncated" : "overlong");
            if (v > len - pos)
                return sl_fail(err, errlen, SL_ETRUNC,
                               "offset %zu: field %llu: truncated, %llu bytes declared, %zu left",
                               at, (unsigned long long)field, (unsigned long long)v, len - pos);
            if (field < 32 && (string_mask & (1u << field)) && memchr(b + pos, 0, (size_t)v))
                return sl_fail(err, errlen, SL_ECORRUPT, "offset %zu: field %llu: NUL in a string",
                               at, (unsigned long long)field);
            pos += (size_t)v;
            break;
        default:
            return sl_fail(err, errlen, SL_ECORRUPT, "offset %zu: field %llu: wire type %u", at,
                           (unsigned long long)field, wt);
        }
    }
    return 0;
}

/* Copy a decoded string into a fixed buffer; too long is an error naming the field. */
static int take_str(char *dst, size_t cap, const char *src, const char *field, char *err,
                    size_t errlen)
{
    size_t n = strlen(src);
    if (n >= cap)
        return sl_fail(err, errlen, SL_EINVAL, "%s: longer than %zu bytes", field, cap - 1);
    memcpy(dst, src, n + 1);
    return 0;
}

/* A fixed buffer the caller filled must hold a NUL (encode side). */
static bool terminated(const char *buf, size_t cap)
{
    return memchr(buf, 0, cap) != NULL;
}

/* ---- requests ---- */

static int req_validate(const rpc_req *r, char *err, size_t errlen)
{
    char b[64];
    if (!terminated(r->segment, sizeof r->segment) ||
        !terminated(r->instance, sizeof r->instance) ||
        !terminated(r->location, sizeof r->location))
        return sl_fail(err, errlen, SL_EINVAL, "string field without NUL terminator");
    if (!r->segment[0]) return sl_fail(err, errlen, SL_EINVAL, "segment: missing");
    segname sn;
    if (segname_parse(r->segment, &sn) != 0)
        return sl_fail(err, errlen, SL_EINVAL, "segment: '%s' is not a valid segment name",
                       shown(r->segment, b));
    if (!r->instance[0]) return sl_fail(err, errlen, SL_EINVAL, "instance: missing");
    if (!is_instance(r->instance))
        return sl_fail(err, errlen, SL_EINVAL, "instance: '%s' is not [A-Za-z0-9_.-]{1,128}",
                       shown(r->instance, b));
    const struct {
        const char *name;
        int64_t v;
    } nonneg[] = {{"offset", r->offset},
                  {"rows", r->rows},
                  {"memory_bytes", r->memory_bytes},
                  {"size_bytes", r->size_bytes},
                  {"build_millis", r->build_millis}};
    for (size_t i = 0; i < sizeof nonneg / sizeof nonneg[0]; i++)
        if (nonneg[i].v < 0)
            return sl_fail(err, errlen, SL_EINVAL, "%s: negative (%lld)", nonneg[i].name,
                           (long long)nonneg[i].v);
    if (r->extra_seconds < 0 || r->extra_seconds > RPC_EXTRA_SECONDS_MAX)
        return sl_fail(err, errlen, SL_EINVAL, "extra_seconds: %d outside [0, %d]",
                       (int)r->extra_seconds, RPC_EXTRA_SECONDS_MAX);
    if ((unsigned)r->reason >= RPC_REASON__COUNT)
        return sl_fail(err, errlen, SL_EINVAL, "reason: unknown value %d", (int)r->reason);
    if (!is_url_text(r->location))
        return sl_fail(err, errlen, SL_EINVAL,
                       "location: '%s' is not printable ASCII without spaces",
                       shown(r->location, b));
    return 0;
}

int rpc_req_decode(const uint8_t *buf, size_t len, rpc_req *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (len > RPC_MAX_BODY)
        return sl_fail(err, errlen, SL_ELIMIT, "request of %zu bytes, over the %u byte cap", len,
                       RPC_MAX_BODY);
    int rc = wire_scan(buf, len, REQ_STRING_FIELDS, err, errlen);
    if (rc) return rc;
    Sluice__V1__CompletionRequest *m = sluice__v1__completion_request__unpack(NULL, len, buf);
    if (!m) return sl_fail(err, errlen, SL_ECORRUPT, "not a CompletionRequest");
    if ((rc = take_str(out->segment, sizeof out->segment, m->segment, "segment", err, errlen)) ||
        (rc =
             take_str(out->instance, sizeof out->instance, m->instance, "instance", err, errlen)) ||
        (rc = take_str(out->location, sizeof out->location, m->location, "location", err, errlen)))
        goto fail;
    out->offset = m->offset;
    /* A reason from a newer peer only informs the decision: keep the request, drop the hint. */
    out->reason =
        (unsigned)m->reason < RPC_REASON__COUNT ? (rpc_reason)m->reason : RPC_REASON_UNSPECIFIED;
    out->rows = m->rows;
    out->memory_bytes = m->memory_bytes;
    out->crc = m->crc;
    out->size_bytes = m->size_bytes;
    out->extra_seconds = m->extra_seconds;
    out->build_millis = m->build_millis;
    rc = req_validate(out, err, errlen);
fail:
    sluice__v1__completion_request__free_unpacked(m, NULL);
    return rc;
}

int rpc_req_encode(const rpc_req *req, uint8_t **buf, size_t *len, char *err, size_t errlen)
{
    *buf = NULL;
    *len = 0;
    int rc = req_validate(req, err, errlen);
    if (rc) return rc;
    Sluice__V1__CompletionRequest m = SLUICE__V1__COMPLETION_REQUEST__INIT;
    /* protobuf-c's fields are char *, but packing only reads them. */
    m.segment = (char *)req->segment;
    m.instance = (char *)req->instance;
    m.offset = req->offset;
    m.reason = (Sluice__V1__StopReason)req->reason;
    m.rows = req->rows;
    m.memory_bytes = req->memory_bytes;
    m.crc = req->crc;
    m.size_bytes = req->size_bytes;
    m.location = (char *)req->location;
    m.extra_seconds = req->extra_seconds;
    m.build_millis = req->build_millis;
    size_t n = sluice__v1__completion_request__get_packed_size(&m);
    uint8_t *b = sl_xmalloc(n);
    *len = sluice__v1__completion_request__pack(&m, b);
    *buf = b;
    return 0;
}

int rpc_req_check(rpc_method m, const rpc_req *req, char *err, size_t errlen)
{
    switch (m) {
    case RPC_COMMIT_END:
        if (!req->location[0])
            return sl_fail(err, errlen, SL_EINVAL, "CommitEnd: location missing");
        if (req->size_bytes <= 0)
            return sl_fail(err, errlen, SL_EINVAL, "CommitEnd: size_bytes must be > 0");
        return 0;
    case RPC_EXTEND_BUILD_TIME:
        if (req->extra_seconds < 1)
            return sl_fail(err, errlen, SL_EINVAL, "ExtendBuildTime: extra_seconds must be >= 1");
        return 0;
    case RPC_SEGMENT_CONSUMED:
    case RPC_COMMIT_START:
    case RPC_STOPPED_CONSUMING:
        return 0;
    case RPC_METHOD__COUNT:
        break;
    }
    return sl_fail(err, errlen, SL_EINVAL, "unknown method %d", (int)m);
}

/* ---- responses ---- */

/* decoding: the status error is SL_EFORMAT (a newer peer), encoding: SL_EINVAL (our bug). */
static int resp_validate(const rpc_resp *r, int status_err, char *err, size_t errlen)
{
    char b[64];
    if (!terminated(r->leader_url, sizeof r->leader_url) ||
        !terminated(r->segment_location, sizeof r->segment_location) ||
        !terminated(r->message, sizeof r->message))
        return sl_fail(err, errlen, SL_EINVAL, "string field without NUL terminator");
    if (r->status == RPC_STATUS_UNSPECIFIED)
        return sl_fail(err, errlen, status_err, "status: missing");
    if ((unsigned)r->status >= RPC_STATUS__COUNT)
        return sl_fail(err, errlen, status_err, "status: unknown value %d", (int)r->status);
    if (r->offset < 0)
        return sl_fail(err, errlen, SL_EINVAL, "offset: negative (%lld)", (long long)r->offset);
    if (r->build_seconds < 0)
        return sl_fail(err, errlen, SL_EINVAL, "build_seconds: negative (%d)",
                       (int)r->build_seconds);
    if (!is_url_text(r->leader_url))
        return sl_fail(err, errlen, SL_EINVAL, "leader_url: '%s' is not printable ASCII",
                       shown(r->leader_url, b));
    if (!is_url_text(r->segment_location))
        return sl_fail(err, errlen, SL_EINVAL, "segment_location: '%s' is not printable ASCII",
                       shown(r->segment_location, b));
    return 0;
}

int rpc_resp_decode(const uint8_t *buf, size_t len, rpc_resp *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (len > RPC_MAX_BODY)
        return sl_fail(err, errlen, SL_ELIMIT, "response of %zu bytes, over the %u byte cap", len,
                       RPC_MAX_BODY);
    int rc = wire_scan(buf, len, RESP_STRING_FIELDS, err, errlen);
    if (rc) return rc;
    Sluice__V1__CompletionResponse *m = sluice__v1__completion_response__unpack(NULL, len, buf);
    if (!m) return sl_fail(err, errlen, SL_ECORRUPT, "not a CompletionResponse");
    if ((rc = take_str(out->leader_url, sizeof out->leader_url, m->leader_url, "leader_url", err,
                       errlen)) ||
        (rc = take_str(out->segment_location, sizeof out->segment_location, m->segment_location,
                       "segment_location", err, errlen)))
        goto fail;
    /* The message is for humans: cut it rather than refuse the reply, at a UTF-8 boundary. */
    size_t n = strlen(m->message);
    if (n > RPC_MESSAGE_MAX) {
        n = RPC_MESSAGE_MAX;
        while (n > 0 && ((unsigned char)m->message[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(out->message, m->message, n);
    out->message[n] = '\0';
    out->status = (rpc_status)m->status;
    out->offset = m->offset;
    out->build_seconds = m->build_seconds;
    out->crc = m->crc;
    rc = resp_validate(out, SL_EFORMAT, err, errlen);
fail:
    sluice__v1__completion_response__free_unpacked(m, NULL);
    return rc;
}

int rpc_resp_encode(const rpc_resp *resp, uint8_t **buf, size_t *len, char *err, size_t errlen)
{
    *buf = NULL;
    *len = 0;
    int rc = resp_validate(resp, SL_EINVAL, err, errlen);
    if (rc) return rc;
    Sluice__V1__CompletionResponse m = SLUICE__V1__COMPLETION_RESPONSE__INIT;
    m.status = (Sluice__V1__Status)resp->status;
    m.offset = resp->offset;
    m.build_seconds = resp->build_seconds;
    m.leader_url = (char *)resp->leader_url;
    m.segment_location = (char *)resp->segment_location;
    m.crc = resp->crc;
    m.message = (char *)resp->message;
    size_t n = sluice__v1__completion_response__get_packed_size(&m);
    uint8_t *b = sl_xmalloc(n);
    *len = sluice__v1__completion_response__pack(&m, b);
    *buf = b;
    return 0;
}

/* ---- Twirp errors ---- */

char *rpc_error_body(rpc_twirp_code code, const char *msg, size_t *len)
{
    const char *name = rpc_twirp_code_name(code);
    if (!name) name = "internal";
    if (!msg) msg = "";
    size_t n = strlen(msg);
    char *safe = sl_xmalloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)msg[i];
        safe[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    safe[n] = '\0';
    jsonw w;
    jsonw_init(&w);
    jsonw_obj_begin(&w);
    jsonw_key(&w, "code");
    jsonw_cstr(&w, name);
    jsonw_key(&w, "msg");
    jsonw_str(&w, safe, n);
    jsonw_obj_end(&w);
    free(safe);
    if (len) *len = w.len;
    return w.buf; /* taken from the writer: the caller frees it */
}

int rpc_error_parse(const char *body, size_t len, rpc_twirp_code *code, char *msg, size_t msgcap)
{
    if (msgcap) msg[0] = '\0';
    json_error_t jerr;
    json_t *root = json_loadb(body, len, 0, &jerr);
    if (!root) return SL_EINVAL;
    int rc = SL_EINVAL;
    json_t *c = json_object_get(root, "code"), *m = json_object_get(root, "msg");
    if (!json_is_object(root) || !json_is_string(c)) goto fail;
    *code = RPC_TWIRP_UNKNOWN;
    for (unsigned i = 0; i < RPC_TWIRP__COUNT; i++)
        if (strcmp(json_string_value(c), twirp[i].name) == 0) *code = (rpc_twirp_code)i;
    if (msgcap && json_is_string(m)) snprintf(msg, msgcap, "%s", json_string_value(m));
    rc = 0;
fail:
    json_decref(root);
    return rc;
}

/* ---- client ---- */

static int err_of_twirp(rpc_twirp_code c)
{
    switch (c) {
    case RPC_TWIRP_MALFORMED:
    case RPC_TWIRP_INVALID_ARGUMENT:
    case RPC_TWIRP_OUT_OF_RANGE:
    case RPC_TWIRP_PERMISSION_DENIED:
    case RPC_TWIRP_UNAUTHENTICATED:
        return SL_EINVAL;
    case RPC_TWIRP_BAD_ROUTE:
    case RPC_TWIRP_UNIMPLEMENTED:
        return SL_EFORMAT;
    case RPC_TWIRP_NOT_FOUND:
        return SL_ENOENT;
    case RPC_TWIRP_ALREADY_EXISTS:
        return SL_EEXIST;
    case RPC_TWIRP_FAILED_PRECONDITION:
        return SL_ESTATE;
    case RPC_TWIRP_ABORTED:
        return SL_ECONFLICT;
    case RPC_TWIRP_CANCELED:
    case RPC_TWIRP_DEADLINE_EXCEEDED:
        return SL_ETIMEDOUT;
    case RPC_TWIRP_RESOURCE_EXHAUSTED:
    case RPC_TWIRP_UNAVAILABLE:
    case RPC_TWIRP_INTERNAL:
    case RPC_TWIRP_UNKNOWN:
    case RPC_TWIRP_DATALOSS:
        return SL_ETRANSIENT;
    case RPC_TWIRP__COUNT:
        break;
    }
    return SL_ETRANSIENT;
}

static int err_of_http(long status)
{
    if (status >= 300 && status < 400) return SL_ENOTLEADER;
    switch (status) {
    case 421:
        return SL_ENOTLEADER;
    case 404:
        return SL_EFORMAT;
    case 408:
    case 504:
        return SL_ETIMEDOUT;
    case 413:
        return SL_ELIMIT;
    case 429:
        return SL_ETRANSIENT;
    }
    if (status >= 500) return SL_ETRANSIENT;
    return SL_EINVAL;
}

bool rpc_ctype_is_protobuf(const char *ct)
{
    size_t n = strlen(RPC_CONTENT_TYPE);
    return ct && strncasecmp(ct, RPC_CONTENT_TYPE, n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t');
}

int rpc_call(httpc *c, const char *base_url, rpc_method m, const rpc_req *req, long timeout_ms,
             rpc_resp *out)
{
    memset(out, 0, sizeof *out);
    char err[256];
    uint8_t *body = NULL;
    size_t blen = 0;
    httpc_resp hr;
    httpc_resp_init(&hr, RPC_MAX_BODY);
    int rc = rpc_req_check(m, req, err, sizeof err);
    if (rc == 0) rc = rpc_req_encode(req, &body, &blen, err, sizeof err);
    if (rc) {
        sl_fail(out->message, sizeof out->message, rc, "bad request: %s", err);
        goto done;
    }
    size_t bl = strlen(base_url);
    while (bl > 0 && base_url[bl - 1] == '/')
        bl--;
    char url[RPC_URL_MAX + 64];
    if (bl > RPC_URL_MAX) {
        rc = sl_fail(out->message, sizeof out->message, SL_EINVAL, "base URL longer than %d bytes",
                     RPC_URL_MAX);
        goto done;
    }
    snprintf(url, sizeof url, "%.*s%s", (int)bl, base_url, rpc_method_path(m));

    rc = httpc_request(c, "POST", url, RPC_CONTENT_TYPE, body, blen, timeout_ms, &hr);
    if (rc) {
        sl_fail(out->message, sizeof out->message, rc, "%s", hr.error);
        goto done;
    }
    if (hr.status == 200) {
        if (!rpc_ctype_is_protobuf(hr.content_type)) {
            rc = sl_fail(out->message, sizeof out->message, SL_EFORMAT,
                         "%s: 200 reply of type '%s', not %s", url, hr.content_type,
                         RPC_CONTENT_TYPE);
            goto done;
        }
        rc = rpc_resp_decode(hr.body ? (const uint8_t *)hr.body : (const uint8_t *)"", hr.len, out,
                             err, sizeof err);
        if (rc) sl_fail(out->message, sizeof out->message, rc, "%s: bad reply: %s", url, err);
        goto done;
    }
    rpc_twirp_code code;
    char msg[512];
    if (hr.body && rpc_error_parse(hr.body, hr.len, &code, msg, sizeof msg) == 0) {
        rc = sl_fail(out->message, sizeof out->message, err_of_twirp(code), "%s: HTTP %ld %s: %s",
                     url, hr.status, rpc_twirp_code_name(code), msg);
    } else {
        rc = sl_fail(out->message, sizeof out->message, err_of_http(hr.status),
                     "%s: HTTP %ld%s%.200s", url, hr.status, hr.len ? ": " : "",
                     hr.body ? hr.body : "");
    }
done:
    free(body);
    httpc_resp_free(&hr);
    return rc;
}
