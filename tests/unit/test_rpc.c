/* Completion RPC codec and client: names and paths, round trips of every field of both
 * messages, the size cap (checked before parsing, with the exact boundary), truncated input
 * told from corrupt input at every cut, field validation naming the field, unknown enum values
 * from a newer peer, proto3 defaults for missing fields, method-specific checks, Twirp error
 * bodies, and rpc_call against an in-process server: success, NOT_LEADER, Twirp errors, bad
 * replies, 503, timeouts, and a request refused before it is sent. */
#include "completion/rpc.h"
#include "common/httpc.h"
#include "common/httpd.h"
#include "common/sl_err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#define SEG "events__3__17__20231114T2213Z"

/* ---- hand-made protobuf, to send what our encoder never would ---- */

typedef struct pb {
    uint8_t b[RPC_MAX_BODY + 64];
    size_t n;
} pb;

static void pb_varint(pb *p, uint64_t v)
{
    do {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        p->b[p->n++] = byte | (v ? 0x80 : 0);
    } while (v);
}

static void pb_key(pb *p, unsigned field, unsigned wt)
{
    pb_varint(p, (uint64_t)field << 3 | wt);
}

static void pb_str(pb *p, unsigned field, const char *s, size_t len)
{
    pb_key(p, field, 2);
    pb_varint(p, len);
    memcpy(p->b + p->n, s, len);
    p->n += len;
}

static void pb_int(pb *p, unsigned field, uint64_t v)
{
    pb_key(p, field, 0);
    pb_varint(p, v);
}

static void base_req(pb *p)
{
    p->n = 0;
    pb_str(p, 1, SEG, strlen(SEG));
    pb_str(p, 2, "server-1", 8);
}

static rpc_req full_req(void)
{
    rpc_req r;
    memset(&r, 0, sizeof r);
    strcpy(r.segment, "t1__2147483647__9007199254740992__20240229T2359Z");
    memset(r.instance, 'i', SL_IDENT_MAX); /* longest allowed id */
    r.instance[0] = 'A';
    r.instance[1] = '.';
    r.instance[2] = '-';
    r.instance[3] = '_';
    r.offset = INT64_MAX;
    r.reason = RPC_REASON_FORCE_COMMIT;
    r.rows = 123456789012LL;
    r.memory_bytes = 1LL << 40;
    r.crc = 0xFFFFFFFFu;
    r.size_bytes = 987654321;
    memset(r.location, 'x', RPC_URL_MAX);
    memcpy(r.location, "http://h:1/", 11);
    r.extra_seconds = RPC_EXTRA_SECONDS_MAX;
    r.build_millis = 4567;
    return r;
}

static void assert_req_equal(const rpc_req *a, const rpc_req *b)
{
    assert_string_equal(a->segment, b->segment);
    assert_string_equal(a->instance, b->instance);
    assert_true(a->offset == b->offset);
    assert_int_equal(a->reason, b->reason);
    assert_true(a->rows == b->rows);
    assert_true(a->memory_bytes == b->memory_bytes);
    assert_int_equal(a->crc, b->crc);
    assert_true(a->size_bytes == b->size_bytes);
    assert_string_equal(a->location, b->location);
    assert_int_equal(a->extra_seconds, b->extra_seconds);
    assert_true(a->build_millis == b->build_millis);
}

/* ---- names ---- */

static void test_names(void **state)
{
    (void)state;
    static const char *const want[] = {"SegmentConsumed", "CommitStart", "CommitEnd",
                                       "ExtendBuildTime", "StoppedConsuming"};
    for (int m = 0; m < RPC_METHOD__COUNT; m++) {
        assert_string_equal(rpc_method_name((rpc_method)m), want[m]);
        char path[128];
        snprintf(path, sizeof path, "/twirp/sluice.v1.Completion/%s", want[m]);
        assert_string_equal(rpc_method_path((rpc_method)m), path);
        rpc_method got;
        assert_int_equal(rpc_method_parse(want[m], &got), 0);
        assert_int_equal(got, m);
    }
    rpc_method got;
    assert_int_equal(rpc_method_parse("segmentconsumed", &got), SL_ENOENT);
    assert_int_equal(rpc_method_parse("", &got), SL_ENOENT);
    assert_null(rpc_method_name(RPC_METHOD__COUNT));
    assert_null(rpc_method_path((rpc_method)-1));
    /* Only the protobuf encoding: JSON (Twirp's other mapping) and anything else answer 415. */
    assert_true(rpc_ctype_is_protobuf("application/protobuf"));
    assert_true(rpc_ctype_is_protobuf("Application/Protobuf"));
    assert_true(rpc_ctype_is_protobuf("application/protobuf; proto=sluice.v1"));
    assert_false(rpc_ctype_is_protobuf(NULL));
    assert_false(rpc_ctype_is_protobuf(""));
    assert_false(rpc_ctype_is_protobuf("application/json"));
    assert_false(rpc_ctype_is_protobuf("application/protobufx"));
    assert_false(rpc_ctype_is_protobuf("application/x-www-form-urlencoded"));

    static const char *const st[] = {
        "UNSPECIFIED", "HOLD",   "CATCH_UP",        "COMMIT",         "KEEP",     "DISCARD",
        "NOT_LEADER",  "FAILED", "COMMIT_CONTINUE", "COMMIT_SUCCESS", "PROCESSED"};
    for (int s = 0; s < RPC_STATUS__COUNT; s++)
        assert_string_equal(rpc_status_name((rpc_status)s), st[s]);
    assert_string_equal(rpc_status_name(RPC_STATUS__COUNT), "?");
    assert_string_equal(rpc_reason_name(RPC_REASON_ROW_LIMIT), "ROW_LIMIT");
    assert_string_equal(rpc_reason_name(RPC_REASON_END_OF_PARTITION), "END_OF_PARTITION");
    assert_string_equal(rpc_reason_name((rpc_reason)99), "?");

    assert_string_equal(rpc_twirp_code_name(RPC_TWIRP_MALFORMED), "malformed");
    assert_int_equal(rpc_twirp_http_status(RPC_TWIRP_MALFORMED), 400);
    assert_int_equal(rpc_twirp_http_status(RPC_TWIRP_UNAVAILABLE), 503);
    assert_int_equal(rpc_twirp_http_status(RPC_TWIRP_BAD_ROUTE), 404);
    assert_int_equal(rpc_twirp_http_status(RPC_TWIRP__COUNT), 500);
    for (int c = 0; c < RPC_TWIRP__COUNT; c++)
        assert_non_null(rpc_twirp_code_name(c));
    assert_int_equal(rpc_twirp_code_for_err(SL_ECORRUPT), RPC_TWIRP_MALFORMED);
    assert_int_equal(rpc_twirp_code_for_err(SL_ETRUNC), RPC_TWIRP_MALFORMED);
    assert_int_equal(rpc_twirp_code_for_err(SL_ELIMIT), RPC_TWIRP_MALFORMED);
    assert_int_equal(rpc_twirp_code_for_err(SL_EINVAL), RPC_TWIRP_INVALID_ARGUMENT);
    assert_int_equal(rpc_twirp_code_for_err(SL_EIO), RPC_TWIRP_INTERNAL);
}

/* ---- requests ---- */

static void test_req_round_trip(void **state)
{
    (void)state;
    char err[256];
    rpc_req in = full_req(), out;
    for (int reason = 0; reason < RPC_REASON__COUNT; reason++) {
        in.reason = (rpc_reason)reason;
        uint8_t *buf;
        size_t len;
        assert_int_equal(rpc_req_encode(&in, &buf, &len, err, sizeof err), 0);
        assert_true(len > 0 && len <= RPC_MAX_BODY);
        assert_int_equal(rpc_req_decode(buf, len, &out, err, sizeof err), 0);
        assert_req_equal(&in, &out);
        free(buf);
    }
    /* The smallest request: just the two required fields; everything else defaults. */
    rpc_req min;
    memset(&min, 0, sizeof min);
    strcpy(min.segment, SEG);
    strcpy(min.instance, "server-1");
    uint8_t *buf;
    size_t len;
    assert_int_equal(rpc_req_encode(&min, &buf, &len, err, sizeof err), 0);
    pb p;
    base_req(&p);
    assert_int_equal(len, p.n); /* proto3: zero values are not on the wire */
    assert_memory_equal(buf, p.b, p.n);
    free(buf);
    memset(&out, 0xAB, sizeof out); /* decode must overwrite everything */
    assert_int_equal(rpc_req_decode(p.b, p.n, &out, err, sizeof err), 0);
    assert_req_equal(&min, &out);
}

static void test_req_missing_and_bad_fields(void **state)
{
    (void)state;
    char err[256];
    rpc_req out;
    pb p;
    p.n = 0; /* empty body: segment is the first thing missing */
    assert_int_equal(rpc_req_decode(p.b, 0, &out, err, sizeof err), SL_EINVAL);
    assert_string_equal(err, "segment: missing");
    pb_str(&p, 1, SEG, strlen(SEG));
    assert_int_equal(rpc_req_decode(p.b, p.n, &out, err, sizeof err), SL_EINVAL);
    assert_string_equal(err, "instance: missing");

    static const char *const bad_segs[] = {"events",
                                           "events__3__17",
                                           "events__-1__0__20231114T2213Z",
                                           "a__b__0__0__20231114T2213Z",
                                           "events__3__17__20231314T2213Z",
                                           "../x"};
    for (size_t i = 0; i < sizeof bad_segs / sizeof bad_segs[0]; i++) {
        p.n = 0;
        pb_str(&p, 1, bad_segs[i], strlen(bad_segs[i]));
        pb_str(&p, 2, "s1", 2);
        assert_int_equal(rpc_req_decode(p.b, p.n, &out, err, sizeof err), SL_EINVAL);
        assert_true(strncmp(err, "segment: ", 9) == 0);
    }
    /* a segment name longer than any valid one */
    char longseg[SL_SEGNAME_MAX + 10];
    memset(longseg, 'a', sizeof longseg);
    p.n = 0;
    pb_str(&p, 1, longseg, sizeof longseg);
    pb_str(&p, 2, "s1", 2);
    assert_int_equal(rpc_req_decode(p.b, p.n, &out, err, sizeof err), SL_EINVAL);
    assert_non_null(strstr(err, "segment: longer than"));

    static const char *const bad_ids[] = {"a b", "a/b", "é", "a:b", ""};
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        p.n = 0;
        pb_str(&p, 1, SEG, strlen(SEG));
        if (bad_ids[i][0]) pb_str(&p, 2, bad_ids[i], strlen(bad_ids[i]));
        assert_int_equal(rpc_req_decode(p.b, p.n, &out, err, sizeof err), SL_EINVAL);
        assert_true(strncmp(err, "instance: ", 10) == 0);
    }
    char id[SL_IDENT_MAX + 2];
    memset(id, 'a', sizeof id);
    p.n = 0;
    pb_str(&p, 1, SEG, strlen(SEG));
    pb_str(&p, 2, id, SL_IDENT_MAX);
    assert_int_equal(rpc_req_decode(p.b, p.n, &out, err, sizeof err), 0);
    p.n = 0;
    pb_str(&p, 1, SEG, strlen(SEG));
    pb_str(&p, 2, id, SL_IDENT_MAX + 1);
    assert_int_equal(rpc_req_decode(p.b, p.n, &out, err, sizeof err), SL_EINVAL);

    /* Negative counts (int64 -1 is ten bytes on the wire), by field number. */
    static const struct {
        unsigned field;
        const char *name;
    } nonneg[] = {
        {3, "offset"}, {5, "rows"}, {6, "memory_bytes"}, {8, "size_bytes"}, {11, "build_millis"}};
    for (size_t i = 0; i < sizeof nonneg / sizeof nonneg[0]; i++) {
        base_req(&p);
        pb_int(&p, nonneg[i].field, (uint64_t)-1);
        assert_int_equal(rpc_req_decode(p.b, p.n, &out, err, sizeof err), SL_EINVAL);
        char want[64];
        snprintf(want, sizeof want, "%s: negative (-1)", nonneg[i].name);
        assert_string_equal(err, want);
    }
    /* extra_seconds bounds: 0 and the max pass, -1 and max + 1 do not. */
    const int64_t extras[] = {0, RPC_EXTRA_SECONDS_MAX, -1, RPC_EXTRA_SECONDS_MAX + 1};
    for (size_t i = 0; i < 4; i++) {
        base_req(&p);
        pb_int(&p, 10, (uint64_t)extras[i]);
        assert_int_equal(rpc_req_decode(p.b, p.n, &out, err, sizeof err), i < 2 ? 0 : SL_EINVAL);
        if (i < 2) assert_int_equal(out.extra_seconds, extras[i]);
    }
    /* location: printable, no spaces, bounded */
    base_req(&p);
    pb_str(&p, 9, "file:///a b", 11);
    assert_int_equal(rpc_req_decode(p.b, p.n, &out, err, sizeof err), SL_EINVAL);
    assert_true(strncmp(err, "location: ", 10) == 0);
    char loc[RPC_URL_MAX + 1];
    memset(loc, 'l', sizeof loc);
    base_req(&p);
    pb_str(&p, 9, loc, RPC_URL_MAX + 1);
    assert_int_equal(rpc_req_decode(p.b, p.n, &out, err, sizeof err), SL_EINVAL);

    /* The encoder refuses the same things (a client cannot send what a server rejects). */
    rpc_req r = full_req();
    uint8_t *buf = (uint8_t *)"x";
    size_t len = 9;
    r.offset = -5;
    assert_int_equal(rpc_req_encode(&r, &buf, &len, err, sizeof err), SL_EINVAL);
    assert_null(buf);
    assert_int_equal(len, 0);
    r = full_req();
    strcpy(r.segment, "nope");
    assert_int_equal(rpc_req_encode(&r, &buf, &len, err, sizeof err), SL_EINVAL);
    r = full_req();
    r.reason = (rpc_reason)42;
    assert_int_equal(rpc_req_encode(&r, &buf, &len, err, sizeof err), SL_EINVAL);
    r = full_req();
    memset(r.instance, 'a', sizeof r.instance); /* no NUL in the buffer */
    assert_int_equal(rpc_req_encode(&r, &buf, &len, err, sizeof err), SL_EINVAL);
}

static void test_req_unknown_values(void **state)
{
    (void)state;
    char err[256];
    rpc_req out;
    pb p;
    /* A stop reason from a newer client: the request is still usable. */
    base_req(&p);
    pb_int(&p, 4, 42);
    pb_int(&p, 3, 1000);
    assert_int_equal(rpc_req_decode(p.b, p.n, &out, err, sizeof err), 0);
    assert_int_equal(out.reason, RPC_REASON_UNSPECIFIED);
    assert_true(out.offset == 1000);
    /* Unknown fields of every wire type are skipped. */
    base_req(&p);
    pb_int(&p, 99, 7);
    pb_str(&p, 100, "new", 3);
    pb_key(&p, 101, 5);
    memcpy(p.b + p.n, "\1\2\3\4", 4);
    p.n += 4;
    pb_key(&p, 102, 1);
    memcpy(p.b + p.n, "\1\2\3\4\5\6\7\0", 8);
    p.n += 8;
    pb_int(&p, 5, 3);
    assert_int_equal(rpc_req_decode(p.b, p.n, &out, err, sizeof err), 0);
    assert_true(out.rows == 3);
    /* A repeated scalar field: the last one wins, as protobuf says. */
    base_req(&p);
    pb_int(&p, 3, 5);
    pb_int(&p, 3, 6);
    assert_int_equal(rpc_req_decode(p.b, p.n, &out, err, sizeof err), 0);
    assert_true(out.offset == 6);
}

static void test_size_cap(void **state)
{
    (void)state;
    char err[256];
    rpc_req out;
    static pb p;
    /* A valid request padded with an unknown field to exactly the cap decodes... */
    base_req(&p);
    size_t head = p.n + 1 + 3; /* key + 3-byte length */
    size_t pad = RPC_MAX_BODY - head;
    char *junk = malloc(pad + 1);
    memset(junk, 'j', pad + 1);
    pb_str(&p, 15, junk, pad);
    assert_int_equal(p.n, RPC_MAX_BODY);
    assert_int_equal(rpc_req_decode(p.b, p.n, &out, err, sizeof err), 0);
    /* ...one byte more is refused before any parsing (even garbage gets SL_ELIMIT). */
    base_req(&p);
    pb_str(&p, 15, junk, pad + 1);
    assert_int_equal(rpc_req_decode(p.b, p.n, &out, err, sizeof err), SL_ELIMIT);
    memset(p.b, 0xFF, RPC_MAX_BODY + 1);
    assert_int_equal(rpc_req_decode(p.b, RPC_MAX_BODY + 1, &out, err, sizeof err), SL_ELIMIT);
    rpc_resp rout;
    assert_int_equal(rpc_resp_decode(p.b, RPC_MAX_BODY + 1, &rout, err, sizeof err), SL_ELIMIT);
    free(junk);
}

static void test_truncated_vs_corrupt(void **state)
{
    (void)state;
    char err[256];
    rpc_req in = full_req(), out;
    uint8_t *buf;
    size_t len;
    assert_int_equal(rpc_req_encode(&in, &buf, &len, err, sizeof err), 0);
    /* Every cut is either at a field boundary (decodes, perhaps failing validation) or
     * truncated; never "corrupt". */
    int truncs = 0;
    for (size_t cut = 0; cut < len; cut++) {
        int rc = rpc_req_decode(buf, cut, &out, err, sizeof err);
        assert_true(rc == 0 || rc == SL_EINVAL || rc == SL_ETRUNC);
        if (rc == SL_ETRUNC) {
            truncs++;
            assert_non_null(strstr(err, "offset "));
        }
    }
    assert_true(truncs > (int)len / 2);
    free(buf);

    pb p;
    /* wire types 3, 4 (groups), 6, 7 */
    for (unsigned wt = 3; wt <= 7; wt++) {
        if (wt == 5) continue;
        base_req(&p);
        pb_key(&p, 20, wt);
        p.b[p.n++] = 0;
        assert_int_equal(rpc_req_decode(p.b, p.n, &out, err, sizeof err), SL_ECORRUPT);
    }
    /* field number 0 */
    base_req(&p);
    pb_key(&p, 0, 0);
    p.b[p.n++] = 1;
    assert_int_equal(rpc_req_decode(p.b, p.n, &out, err, sizeof err), SL_ECORRUPT);
    /* an 11-byte varint */
    base_req(&p);
    pb_key(&p, 3, 0);
    memset(p.b + p.n, 0xFF, 10);
    p.n += 10;
    p.b[p.n++] = 0;
    assert_int_equal(rpc_req_decode(p.b, p.n, &out, err, sizeof err), SL_ECORRUPT);
    /* a known scalar field sent as a string: protobuf-c refuses it */
    base_req(&p);
    pb_str(&p, 3, "12", 2);
    assert_int_equal(rpc_req_decode(p.b, p.n, &out, err, sizeof err), SL_ECORRUPT);
    /* a NUL inside a string would cut it silently: refused */
    p.n = 0;
    pb_str(&p, 1, SEG "\0evil", strlen(SEG) + 5);
    pb_str(&p, 2, "s1", 2);
    assert_int_equal(rpc_req_decode(p.b, p.n, &out, err, sizeof err), SL_ECORRUPT);
    assert_non_null(strstr(err, "NUL"));
    /* a length running past the end */
    base_req(&p);
    pb_key(&p, 9, 2);
    pb_varint(&p, 50);
    assert_int_equal(rpc_req_decode(p.b, p.n, &out, err, sizeof err), SL_ETRUNC);
}

static void test_req_check(void **state)
{
    (void)state;
    char err[256];
    rpc_req r = full_req();
    for (int m = 0; m < RPC_METHOD__COUNT; m++)
        assert_int_equal(rpc_req_check(m, &r, err, sizeof err), 0);
    r.location[0] = '\0';
    assert_int_equal(rpc_req_check(RPC_COMMIT_END, &r, err, sizeof err), SL_EINVAL);
    assert_int_equal(rpc_req_check(RPC_SEGMENT_CONSUMED, &r, err, sizeof err), 0);
    r = full_req();
    r.size_bytes = 0;
    assert_int_equal(rpc_req_check(RPC_COMMIT_END, &r, err, sizeof err), SL_EINVAL);
    r = full_req();
    r.extra_seconds = 0;
    assert_int_equal(rpc_req_check(RPC_EXTEND_BUILD_TIME, &r, err, sizeof err), SL_EINVAL);
    assert_int_equal(rpc_req_check(RPC_COMMIT_START, &r, err, sizeof err), 0);
    assert_int_equal(rpc_req_check(RPC_METHOD__COUNT, &r, err, sizeof err), SL_EINVAL);
}

/* ---- responses ---- */

static void test_resp_round_trip(void **state)
{
    (void)state;
    char err[256];
    for (int s = 1; s < RPC_STATUS__COUNT; s++) {
        rpc_resp in, out;
        memset(&in, 0, sizeof in);
        in.status = (rpc_status)s;
        in.offset = INT64_MAX - s;
        in.build_seconds = 120 + s;
        snprintf(in.leader_url, sizeof in.leader_url, "http://10.0.0.%d:9000", s);
        snprintf(in.segment_location, sizeof in.segment_location, "http://deep/segments/events/%s",
                 SEG);
        in.crc = 0xDEADBEEFu + (uint32_t)s;
        memset(in.message, 'm', RPC_MESSAGE_MAX);
        uint8_t *buf;
        size_t len;
        assert_int_equal(rpc_resp_encode(&in, &buf, &len, err, sizeof err), 0);
        assert_int_equal(rpc_resp_decode(buf, len, &out, err, sizeof err), 0);
        assert_int_equal(out.status, in.status);
        assert_true(out.offset == in.offset);
        assert_int_equal(out.build_seconds, in.build_seconds);
        assert_string_equal(out.leader_url, in.leader_url);
        assert_string_equal(out.segment_location, in.segment_location);
        assert_int_equal(out.crc, in.crc);
        assert_string_equal(out.message, in.message);
        free(buf);
    }
    /* Only a status: everything else defaults. */
    pb p;
    p.n = 0;
    pb_int(&p, 1, RPC_STATUS_HOLD);
    rpc_resp out;
    assert_int_equal(rpc_resp_decode(p.b, p.n, &out, err, sizeof err), 0);
    assert_int_equal(out.status, RPC_STATUS_HOLD);
    assert_true(out.offset == 0 && out.build_seconds == 0 && out.crc == 0);
    assert_string_equal(out.leader_url, "");
    assert_string_equal(out.message, "");
}

static void test_resp_unknown_and_bad(void **state)
{
    (void)state;
    char err[256];
    rpc_resp out;
    pb p;
    /* missing status, unknown status: the client cannot act on it */
    p.n = 0;
    pb_int(&p, 2, 5);
    assert_int_equal(rpc_resp_decode(p.b, p.n, &out, err, sizeof err), SL_EFORMAT);
    assert_string_equal(err, "status: missing");
    p.n = 0;
    pb_int(&p, 1, 11);
    assert_int_equal(rpc_resp_decode(p.b, p.n, &out, err, sizeof err), SL_EFORMAT);
    assert_string_equal(err, "status: unknown value 11");
    /* negative offset, non-printable URL */
    p.n = 0;
    pb_int(&p, 1, RPC_STATUS_KEEP);
    pb_int(&p, 2, (uint64_t)-3);
    assert_int_equal(rpc_resp_decode(p.b, p.n, &out, err, sizeof err), SL_EINVAL);
    p.n = 0;
    pb_int(&p, 1, RPC_STATUS_NOT_LEADER);
    pb_str(&p, 4, "http://a\tb", 10);
    assert_int_equal(rpc_resp_decode(p.b, p.n, &out, err, sizeof err), SL_EINVAL);
    assert_true(strncmp(err, "leader_url: ", 12) == 0);
    /* A long message is cut at a UTF-8 boundary, not refused. */
    char msg[3000];
    size_t n = 0;
    while (n + 2 <= sizeof msg)
        msg[n++] = (char)0xC3, msg[n++] = (char)0xA9; /* "é" */
    p.n = 0;
    pb_int(&p, 1, RPC_STATUS_FAILED);
    pb_str(&p, 7, msg, n);
    assert_int_equal(rpc_resp_decode(p.b, p.n, &out, err, sizeof err), 0);
    size_t got = strlen(out.message);
    assert_true(got <= RPC_MESSAGE_MAX && got >= RPC_MESSAGE_MAX - 1);
    assert_int_equal(got % 2, 0);
    /* The encoder refuses an UNSPECIFIED or unknown status. */
    rpc_resp r;
    memset(&r, 0, sizeof r);
    uint8_t *buf;
    size_t len;
    assert_int_equal(rpc_resp_encode(&r, &buf, &len, err, sizeof err), SL_EINVAL);
    r.status = (rpc_status)77;
    assert_int_equal(rpc_resp_encode(&r, &buf, &len, err, sizeof err), SL_EINVAL);
    r.status = RPC_STATUS_COMMIT;
    r.build_seconds = -1;
    assert_int_equal(rpc_resp_encode(&r, &buf, &len, err, sizeof err), SL_EINVAL);
}

/* ---- Twirp errors ---- */

static void test_error_body(void **state)
{
    (void)state;
    size_t len;
    char *b = rpc_error_body(RPC_TWIRP_MALFORMED, "offset 3: \"bad\"\n\x01\xff", &len);
    assert_string_equal(b, "{\"code\":\"malformed\",\"msg\":\"offset 3: \\\"bad\\\"???\"}");
    assert_int_equal(len, strlen(b));
    rpc_twirp_code code;
    char msg[64];
    assert_int_equal(rpc_error_parse(b, len, &code, msg, sizeof msg), 0);
    assert_int_equal(code, RPC_TWIRP_MALFORMED);
    assert_string_equal(msg, "offset 3: \"bad\"???");
    free(b);
    for (int c = 0; c < RPC_TWIRP__COUNT; c++) {
        b = rpc_error_body((rpc_twirp_code)c, "m", &len);
        assert_int_equal(rpc_error_parse(b, len, &code, msg, sizeof msg), 0);
        assert_int_equal(code, c);
        free(b);
    }
    const char odd[] = "{\"code\":\"from_the_future\",\"msg\":\"x\",\"meta\":{}}";
    assert_int_equal(rpc_error_parse(odd, strlen(odd), &code, msg, sizeof msg), 0);
    assert_int_equal(code, RPC_TWIRP_UNKNOWN);
    assert_int_equal(rpc_error_parse("oops", 4, &code, msg, sizeof msg), SL_EINVAL);
    assert_int_equal(rpc_error_parse("{\"msg\":\"x\"}", 11, &code, msg, sizeof msg), SL_EINVAL);
    assert_int_equal(rpc_error_parse("[1]", 3, &code, msg, sizeof msg), SL_EINVAL);
}

/* ---- rpc_call against a server ---- */

static httpd *H;
static char BASE[64];

/* The server side as the controller will write it: decode, check, answer. The instance id
 * picks a behaviour. */
static void h_rpc(httpd_req *req, httpd_resp *resp, void *ctx)
{
    (void)ctx;
    rpc_method m;
    if (rpc_method_parse(httpd_req_param(req, "method"), &m) != 0) {
        size_t n;
        char *b = rpc_error_body(RPC_TWIRP_BAD_ROUTE, "no such method", &n);
        httpd_resp_body(resp, 404, "application/json", b, n, HTTPD_TAKE);
        return;
    }
    size_t len;
    const uint8_t *body = httpd_req_body(req, &len);
    rpc_req r;
    char err[256];
    int rc = rpc_req_decode(body ? body : (const uint8_t *)"", len, &r, err, sizeof err);
    if (rc == 0) rc = rpc_req_check(m, &r, err, sizeof err);
    if (rc != 0 || strcmp(r.instance, "reject") == 0) {
        rpc_twirp_code code = rc ? rpc_twirp_code_for_err(rc) : RPC_TWIRP_INVALID_ARGUMENT;
        size_t n;
        char *b = rpc_error_body(code, rc ? err : "rejected on purpose", &n);
        httpd_resp_body(resp, rpc_twirp_http_status(code), "application/json", b, n, HTTPD_TAKE);
        return;
    }
    if (strcmp(r.instance, "slow") == 0 && httpd_req_wait(req, 3000)) return;
    if (strcmp(r.instance, "busy") == 0) {
        httpd_resp_text(resp, 503, "starting up");
        return;
    }
    if (strcmp(r.instance, "texty") == 0) {
        httpd_resp_text(resp, 200, "hello");
        return;
    }
    if (strcmp(r.instance, "garbage") == 0) {
        httpd_resp_body(resp, 200, RPC_CONTENT_TYPE, "\x0f\x01\x02", 3,
                        HTTPD_STATIC); /* wire type 7 */
        return;
    }
    rpc_resp out;
    memset(&out, 0, sizeof out);
    if (strcmp(r.instance, "follower") == 0) {
        out.status = RPC_STATUS_NOT_LEADER;
        strcpy(out.leader_url, "http://127.0.0.1:1");
    } else {
        out.status = m == RPC_COMMIT_END ? RPC_STATUS_COMMIT_SUCCESS : RPC_STATUS_COMMIT;
        out.offset = r.offset;
        out.crc = r.crc;
        out.build_seconds = 120 + r.extra_seconds;
        snprintf(out.message, sizeof out.message, "%s %s %s", rpc_method_name(m), r.segment,
                 rpc_reason_name(r.reason));
    }
    uint8_t *b;
    size_t n;
    if (rpc_resp_encode(&out, &b, &n, err, sizeof err) != 0) {
        httpd_resp_text(resp, 500, "%s", err);
        return;
    }
    httpd_resp_body(resp, 200, RPC_CONTENT_TYPE, b, n, HTTPD_TAKE);
}

static const httpd_route routes[] = {
    {"POST", RPC_ROUTE_PATTERN, h_rpc, RPC_MAX_BODY, 0, NULL, HTTPD_PUBLIC},
};

static rpc_req call_req(const char *instance)
{
    rpc_req r;
    memset(&r, 0, sizeof r);
    strcpy(r.segment, SEG);
    strcpy(r.instance, instance);
    r.offset = 4242;
    r.reason = RPC_REASON_ROW_LIMIT;
    r.crc = 77;
    return r;
}

static void test_call(void **state)
{
    (void)state;
    httpc *c = httpc_new();
    rpc_resp out;
    rpc_req r = call_req("server-1");
    char base_slash[80];
    snprintf(base_slash, sizeof base_slash, "%s/", BASE);

    assert_int_equal(rpc_call(c, base_slash, RPC_SEGMENT_CONSUMED, &r, 5000, &out), 0);
    assert_int_equal(out.status, RPC_STATUS_COMMIT);
    assert_true(out.offset == 4242);
    assert_int_equal(out.crc, 77);
    assert_string_equal(out.message, "SegmentConsumed " SEG " ROW_LIMIT");

    r.extra_seconds = 60;
    assert_int_equal(rpc_call(c, BASE, RPC_EXTEND_BUILD_TIME, &r, 5000, &out), 0);
    assert_int_equal(out.build_seconds, 180);
    assert_string_equal(out.message, "ExtendBuildTime " SEG " ROW_LIMIT");

    /* NOT_LEADER is a protocol answer, not a call failure. */
    r = call_req("follower");
    assert_int_equal(rpc_call(c, BASE, RPC_COMMIT_START, &r, 5000, &out), 0);
    assert_int_equal(out.status, RPC_STATUS_NOT_LEADER);
    assert_string_equal(out.leader_url, "http://127.0.0.1:1");
    assert_int_equal(httpc_connections_opened(c), 1); /* one kept-alive connection */

    /* The server refuses: Twirp JSON becomes the error and the message. */
    r = call_req("reject");
    assert_int_equal(rpc_call(c, BASE, RPC_SEGMENT_CONSUMED, &r, 5000, &out), SL_EINVAL);
    assert_non_null(strstr(out.message, "HTTP 400 invalid_argument: rejected on purpose"));

    /* Transient server trouble, a reply that is not protobuf, an undecodable reply. */
    r = call_req("busy");
    assert_int_equal(rpc_call(c, BASE, RPC_SEGMENT_CONSUMED, &r, 5000, &out), SL_ETRANSIENT);
    assert_non_null(strstr(out.message, "HTTP 503"));
    r = call_req("texty");
    assert_int_equal(rpc_call(c, BASE, RPC_SEGMENT_CONSUMED, &r, 5000, &out), SL_EFORMAT);
    r = call_req("garbage");
    assert_int_equal(rpc_call(c, BASE, RPC_SEGMENT_CONSUMED, &r, 5000, &out), SL_ECORRUPT);

    /* No such route on that server (a sidecar's port, say). */
    char wrong[96];
    snprintf(wrong, sizeof wrong, "%s/elsewhere", BASE);
    r = call_req("server-1");
    assert_int_equal(rpc_call(c, wrong, RPC_SEGMENT_CONSUMED, &r, 5000, &out), SL_EFORMAT);

    /* A long-poll that outlives the caller's deadline. */
    r = call_req("slow");
    assert_int_equal(rpc_call(c, BASE, RPC_SEGMENT_CONSUMED, &r, 300, &out), SL_ETIMEDOUT);
    assert_true(out.message[0] != '\0');

    /* A bad request never leaves the client: the dead port would give ETRANSIENT. */
    r = call_req("server-1");
    strcpy(r.segment, "not a segment");
    assert_int_equal(rpc_call(c, "http://127.0.0.1:1", RPC_SEGMENT_CONSUMED, &r, 5000, &out),
                     SL_EINVAL);
    assert_non_null(strstr(out.message, "segment"));
    r = call_req("server-1");
    assert_int_equal(rpc_call(c, BASE, RPC_COMMIT_END, &r, 5000, &out), SL_EINVAL);
    assert_non_null(strstr(out.message, "location"));
    assert_int_equal(rpc_call(c, "http://127.0.0.1:1", RPC_SEGMENT_CONSUMED, &r, 5000, &out),
                     SL_ETRANSIENT);
    httpc_free(c);
}

/* What a raw client sending garbage gets: 400 with Twirp's malformed JSON. */
static void test_server_malformed_reply(void **state)
{
    (void)state;
    httpc *c = httpc_new();
    httpc_resp hr;
    httpc_resp_init(&hr, 0);
    char url[128];
    snprintf(url, sizeof url, "%s%s", BASE, rpc_method_path(RPC_COMMIT_START));
    assert_int_equal(httpc_request(c, "POST", url, RPC_CONTENT_TYPE, "\x0a\x50zz", 4, 5000, &hr),
                     0);
    assert_int_equal(hr.status, 400);
    assert_string_equal(hr.content_type, "application/json");
    rpc_twirp_code code;
    char msg[128];
    assert_int_equal(rpc_error_parse(hr.body, hr.len, &code, msg, sizeof msg), 0);
    assert_int_equal(code, RPC_TWIRP_MALFORMED);
    assert_non_null(strstr(msg, "truncated"));
    httpc_resp_free(&hr);
    httpc_free(c);
}

static int setup(void **state)
{
    (void)state;
    char err[256];
    H = httpd_start("127.0.0.1", 0, routes, 1, NULL, NULL, err, sizeof err);
    if (!H) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    snprintf(BASE, sizeof BASE, "http://127.0.0.1:%u", httpd_port(H));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    httpd_stop(H);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_req_round_trip),
        cmocka_unit_test(test_req_missing_and_bad_fields),
        cmocka_unit_test(test_req_unknown_values),
        cmocka_unit_test(test_size_cap),
        cmocka_unit_test(test_truncated_vs_corrupt),
        cmocka_unit_test(test_req_check),
        cmocka_unit_test(test_resp_round_trip),
        cmocka_unit_test(test_resp_unknown_and_bad),
        cmocka_unit_test(test_error_body),
        cmocka_unit_test(test_call),
        cmocka_unit_test(test_server_malformed_reply),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
