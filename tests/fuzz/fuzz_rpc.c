/* Fuzz the completion RPC decoders (completion/rpc). Beyond "no crash": a decoder returns only
 * its documented codes, always explains a failure, and whatever it accepts re-encodes, decodes
 * again to the same struct, and re-encodes to the same bytes (decode -> encode -> decode is an
 * identity; encode is canonical). The same input is fed to the request and the response
 * decoder.
 *
 * Seeds (tests/fuzz/corpus/rpc/): valid requests for each method as rpc_req_encode writes
 * them (req_*), valid responses for each status family (resp_*), and hostile inputs (bad_*):
 * truncated, NUL inside a string, unknown enum values, negative offsets, group wire types,
 * an overlong varint, random bytes. */
#include "completion/rpc.h"
#include "common/sl_err.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_rpc: property violated: %s\n", what);
        abort();
    }
}

static int same_req(const rpc_req *a, const rpc_req *b)
{
    return strcmp(a->segment, b->segment) == 0 && strcmp(a->instance, b->instance) == 0 &&
           a->offset == b->offset && a->reason == b->reason && a->rows == b->rows &&
           a->memory_bytes == b->memory_bytes && a->crc == b->crc &&
           a->size_bytes == b->size_bytes && strcmp(a->location, b->location) == 0 &&
           a->extra_seconds == b->extra_seconds && a->build_millis == b->build_millis;
}

static int same_resp(const rpc_resp *a, const rpc_resp *b)
{
    return a->status == b->status && a->offset == b->offset &&
           a->build_seconds == b->build_seconds && strcmp(a->leader_url, b->leader_url) == 0 &&
           strcmp(a->segment_location, b->segment_location) == 0 && a->crc == b->crc &&
           strcmp(a->message, b->message) == 0;
}

static int known_rc(int rc)
{
    return rc == 0 || rc == SL_ELIMIT || rc == SL_ETRUNC || rc == SL_ECORRUPT || rc == SL_EINVAL ||
           rc == SL_EFORMAT;
}

static void fuzz_req(const uint8_t *data, size_t size)
{
    static rpc_req a, b;
    char err[256] = "";
    int rc = rpc_req_decode(data, size, &a, err, sizeof err);
    check(known_rc(rc) && rc != SL_EFORMAT, "request decode result");
    if (rc != 0) {
        check(err[0] != '\0', "request failure explained");
        return;
    }
    check(strlen(a.segment) < sizeof a.segment && a.segment[0], "segment present");
    check(a.instance[0] != '\0', "instance present");
    check(a.offset >= 0 && a.rows >= 0, "non-negative counts");
    uint8_t *e1, *e2;
    size_t n1, n2;
    check(rpc_req_encode(&a, &e1, &n1, err, sizeof err) == 0, "accepted request encodes");
    check(n1 <= RPC_MAX_BODY, "encoding within the cap");
    check(rpc_req_decode(e1, n1, &b, err, sizeof err) == 0, "re-encoded request decodes");
    check(same_req(&a, &b), "request round trip");
    check(rpc_req_encode(&b, &e2, &n2, err, sizeof err) == 0, "second encode");
    check(n1 == n2 && memcmp(e1, e2, n1) == 0, "request encoding canonical");
    free(e1);
    free(e2);
}

static void fuzz_resp(const uint8_t *data, size_t size)
{
    static rpc_resp a, b;
    char err[256] = "";
    int rc = rpc_resp_decode(data, size, &a, err, sizeof err);
    check(known_rc(rc), "response decode result");
    if (rc != 0) {
        check(err[0] != '\0', "response failure explained");
        return;
    }
    check(a.status > RPC_STATUS_UNSPECIFIED && a.status < RPC_STATUS__COUNT, "status known");
    check(strlen(a.message) <= RPC_MESSAGE_MAX, "message cut");
    uint8_t *e1, *e2;
    size_t n1, n2;
    check(rpc_resp_encode(&a, &e1, &n1, err, sizeof err) == 0, "accepted response encodes");
    check(rpc_resp_decode(e1, n1, &b, err, sizeof err) == 0, "re-encoded response decodes");
    check(same_resp(&a, &b), "response round trip");
    check(rpc_resp_encode(&b, &e2, &n2, err, sizeof err) == 0, "second encode");
    check(n1 == n2 && memcmp(e1, e2, n1) == 0, "response encoding canonical");
    free(e1);
    free(e2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_req(data, size);
    fuzz_resp(data, size);
    return 0;
}
