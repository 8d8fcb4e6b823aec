/* The completion RPC codec (DESIGN §4 "Wire"), shared by the controller (server side) and the
 * sidecar's completion client (client side).
 *
 * Transport, Twirp style: `POST /twirp/sluice.v1.Completion/<Method>` with
 * `Content-Type: application/protobuf`; the body is a CompletionRequest, a 200 reply body a
 * CompletionResponse. A request the server cannot use is answered with a Twirp error: HTTP 400
 * and `{"code":"malformed","msg":"..."}` (undecodable body) or `{"code":"invalid_argument",...}`
 * (decodable, but a field is out of its domain); rpc_error_body builds that JSON.
 *
 * The C mirror (rpc_req, rpc_resp) is plain data with FIXED buffers for strings: no
 * allocation, no free, safe to copy with `=`. Every string is NUL-terminated within its buffer.
 * Decoding is bounds-checked in three layers, so a hostile body costs at most RPC_MAX_BODY:
 *   1. the size cap, before anything is parsed (SL_ELIMIT);
 *   2. a scan of the protobuf wire structure that tells truncated input (SL_ETRUNC) from
 *      corrupt input (SL_ECORRUPT) and refuses NUL bytes inside string fields (a C string
 *      would silently drop what follows);
 *   3. protobuf-c unpacking, then validation of each field's domain (SL_EINVAL), naming the
 *      field: segment names by segname_parse, instance ids [A-Za-z0-9_.-]{1,128}, offsets and
 *      counts >= 0, extra_seconds in [0, RPC_EXTRA_SECONDS_MAX], URLs printable ASCII.
 * Encoding applies the same validation, so whatever encodes also decodes.
 *
 * Unknown enum values (a newer peer): a request's unknown stop reason decodes as
 * RPC_REASON_UNSPECIFIED (the reason only informs the decision; the request stays useful);
 * a response's unknown or missing status fails with SL_EFORMAT (a client cannot act on a
 * status it does not know). Missing fields take proto3 defaults (0, "").
 * @locality: pure functions, any thread; rpc_call uses the caller's httpc (its thread). */
#ifndef SL_RPC_H
#define SL_RPC_H

#include "common/httpc.h"
#include "common/limits.h"
#include "segment/segname.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RPC_PATH_PREFIX "/twirp/sluice.v1.Completion/"
#define RPC_ROUTE_PATTERN "/twirp/sluice.v1.Completion/{method}" /* for httpd routes */
#define RPC_CONTENT_TYPE "application/protobuf"
#define RPC_MAX_BODY (64u << 10)   /* cap on an encoded request or response */
#define RPC_URL_MAX 2048           /* location, leader_url, segment_location */
#define RPC_MESSAGE_MAX 1024       /* longer response messages are cut (UTF-8 safe) */
#define RPC_EXTRA_SECONDS_MAX 1800 /* ExtendBuildTime: the 30 min ceiling of DESIGN §4 */

typedef enum rpc_method {
    RPC_SEGMENT_CONSUMED = 0,
    RPC_COMMIT_START,
    RPC_COMMIT_END,
    RPC_EXTEND_BUILD_TIME,
    RPC_STOPPED_CONSUMING,
    RPC_METHOD__COUNT
} rpc_method;

/* Values equal the wire's StopReason numbers. */
typedef enum rpc_reason {
    RPC_REASON_UNSPECIFIED = 0,
    RPC_REASON_ROW_LIMIT = 1,
    RPC_REASON_TIME_LIMIT = 2,
    RPC_REASON_SIZE_LIMIT = 3,
    RPC_REASON_END_OF_PARTITION = 4,
    RPC_REASON_FORCE_COMMIT = 5,
    RPC_REASON_ERROR = 6,
    RPC_REASON__COUNT
} rpc_reason;

/* Values equal the wire's Status numbers. */
typedef enum rpc_status {
    RPC_STATUS_UNSPECIFIED = 0,
    RPC_STATUS_HOLD = 1,
    RPC_STATUS_CATCH_UP = 2,
    RPC_STATUS_COMMIT = 3,
    RPC_STATUS_KEEP = 4,
    RPC_STATUS_DISCARD = 5,
    RPC_STATUS_NOT_LEADER = 6,
    RPC_STATUS_FAILED = 7,
    RPC_STATUS_COMMIT_CONTINUE = 8,
    RPC_STATUS_COMMIT_SUCCESS = 9,
    RPC_STATUS_PROCESSED = 10,
    RPC_STATUS__COUNT
} rpc_status;

/* Twirp error codes (https://twitchtv.github.io/twirp/docs/spec_v7.html), each with its
 * fixed HTTP status (rpc_twirp_http_status). */
typedef enum rpc_twirp_code {
    RPC_TWIRP_CANCELED = 0,        /* 408 */
    RPC_TWIRP_UNKNOWN,             /* 500 */
    RPC_TWIRP_INVALID_ARGUMENT,    /* 400 */
    RPC_TWIRP_MALFORMED,           /* 400 */
    RPC_TWIRP_DEADLINE_EXCEEDED,   /* 408 */
    RPC_TWIRP_NOT_FOUND,           /* 404 */
    RPC_TWIRP_BAD_ROUTE,           /* 404 */
    RPC_TWIRP_ALREADY_EXISTS,      /* 409 */
    RPC_TWIRP_PERMISSION_DENIED,   /* 403 */
    RPC_TWIRP_UNAUTHENTICATED,     /* 401 */
    RPC_TWIRP_RESOURCE_EXHAUSTED,  /* 429 */
    RPC_TWIRP_FAILED_PRECONDITION, /* 412 */
    RPC_TWIRP_ABORTED,             /* 409 */
    RPC_TWIRP_OUT_OF_RANGE,        /* 400 */
    RPC_TWIRP_UNIMPLEMENTED,       /* 501 */
    RPC_TWIRP_INTERNAL,            /* 500 */
    RPC_TWIRP_UNAVAILABLE,         /* 503 */
    RPC_TWIRP_DATALOSS,            /* 500 */
    RPC_TWIRP__COUNT
} rpc_twirp_code;

/* CompletionRequest. Which fields matter depends on the method (rpc_req_check). */
typedef struct rpc_req {
    char segment[SL_SEGNAME_MAX];        /* required: a valid segment name */
    char instance[SL_IDENT_MAX + 1];     /* required: [A-Za-z0-9_.-]{1,128} */
    int64_t offset;                      /* >= 0: next offset the replica would consume */
    rpc_reason reason;
    int64_t rows;                   /* >= 0 */
    int64_t memory_bytes;           /* >= 0 */
    uint32_t crc;                   /* CommitEnd: CRC-32C of the uploaded file */
    int64_t size_bytes;             /* >= 0; CommitEnd: file size, > 0 */
    char location[RPC_URL_MAX + 1]; /* CommitEnd: where the file was uploaded */
    int32_t extra_seconds;          /* ExtendBuildTime: 1..RPC_EXTRA_SECONDS_MAX */
    int64_t build_millis;           /* >= 0 */
} rpc_req;

/* CompletionResponse. */
typedef struct rpc_resp {
    rpc_status status;                      /* never UNSPECIFIED once decoded */
    int64_t offset;                         /* >= 0; CATCH_UP/KEEP/DISCARD: the end offset */
    int32_t build_seconds;                  /* >= 0; COMMIT: the build budget */
    char leader_url[RPC_URL_MAX + 1];       /* NOT_LEADER: the leader's base URL */
    char segment_location[RPC_URL_MAX + 1]; /* KEEP/DISCARD: committed file's URL */
    uint32_t crc;                           /* KEEP: the committed CRC */
    char message[RPC_MESSAGE_MAX + 1];      /* human-readable detail, or a call's error text */
} rpc_resp;

/* ---- names ---- */
/* "SegmentConsumed", ...; NULL when out of range. */
const char *rpc_method_name(rpc_method m);
/* Full route path "/twirp/sluice.v1.Completion/SegmentConsumed"; NULL when out of range. */
const char *rpc_method_path(rpc_method m);
/* Method from its exact name (case-sensitive, as Twirp routes are). 0, or SL_ENOENT. */
int rpc_method_parse(const char *name, rpc_method *out);
/* True when a Content-Type names the protobuf encoding (RPC_CONTENT_TYPE, any case, optional
 * parameters). Anything else, or NULL, is false: a server answers it 415 (Twirp's JSON
 * mapping is not implemented; a JSON body must never be read as protobuf). */
bool rpc_ctype_is_protobuf(const char *ctype);
/* "HOLD", "CATCH_UP", ... (DESIGN §4 spelling); "?" when out of range. */
const char *rpc_status_name(rpc_status s);
/* "ROW_LIMIT", ...; "?" when out of range. */
const char *rpc_reason_name(rpc_reason r);
/* "malformed", "invalid_argument", ...; NULL when out of range. */
const char *rpc_twirp_code_name(rpc_twirp_code c);
/* The HTTP status Twirp fixes for a code (500 when out of range). */
unsigned rpc_twirp_http_status(rpc_twirp_code c);
/* The Twirp code a server answers for a decode error: ELIMIT/ETRUNC/ECORRUPT -> malformed,
 * EINVAL/EFORMAT -> invalid_argument, anything else -> internal. */
rpc_twirp_code rpc_twirp_code_for_err(int err);

/* ---- codec ---- */
/* Decode a request body (borrowed). Fills *out (zeroed first) and returns 0, or SL_ELIMIT
 * (over RPC_MAX_BODY, checked before parsing), SL_ETRUNC, SL_ECORRUPT, SL_EINVAL (a field out
 * of its domain) with "FIELD: reason" or "offset N: reason" in err. */
int rpc_req_decode(const uint8_t *buf, size_t len, rpc_req *out, char *err, size_t errlen);
/* Validate req and encode it. *buf is malloc'd (caller frees with free()), *len its length.
 * Returns 0 or SL_EINVAL with the field in err. */
int rpc_req_encode(const rpc_req *req, uint8_t **buf, size_t *len, char *err, size_t errlen);
/* Method-specific requirements on a decoded request: CommitEnd needs location and
 * size_bytes > 0; ExtendBuildTime needs extra_seconds >= 1. Returns 0 or SL_EINVAL. */
int rpc_req_check(rpc_method m, const rpc_req *req, char *err, size_t errlen);

/* Decode a response body; as rpc_req_decode, plus SL_EFORMAT for a missing or unknown status.
 * message is cut to RPC_MESSAGE_MAX bytes. */
int rpc_resp_decode(const uint8_t *buf, size_t len, rpc_resp *out, char *err, size_t errlen);
/* Validate (status known and not UNSPECIFIED, offset/build_seconds >= 0, URLs printable)
 * and encode; *buf malloc'd, caller frees with free(). Returns 0 or SL_EINVAL. */
int rpc_resp_encode(const rpc_resp *resp, uint8_t **buf, size_t *len, char *err, size_t errlen);

/* ---- Twirp errors ---- */
/* The JSON body of a Twirp error: {"code":"<code>","msg":"<msg>"} (bytes outside printable
 * ASCII in msg become '?'). Returns a malloc'd NUL-terminated string, caller frees with free();
 * *len (may be NULL) gets its length. Serve it with rpc_twirp_http_status(code) and
 * Content-Type application/json. */
char *rpc_error_body(rpc_twirp_code code, const char *msg, size_t *len);
/* Parse a Twirp error body. Returns 0 with *code and msg (cut to msgcap), or SL_EINVAL when
 * it is not one (msg then holds nothing useful). An unknown code string gives
 * RPC_TWIRP_UNKNOWN. */
int rpc_error_parse(const char *body, size_t len, rpc_twirp_code *code, char *msg, size_t msgcap);

/* ---- client ---- */
/* POST req to base_url + rpc_method_path(m) and decode the reply into *out. base_url is the
 * controller's "http://host:port" (a trailing '/' is ignored). timeout_ms bounds the call and
 * must exceed the server's long-poll hold (~5 s). Returns 0 for any decoded 200 reply (the
 * protocol status, NOT_LEADER included, is in out->status), or:
 *   transport errors of httpc_request (SL_ETIMEDOUT, SL_ETRANSIENT, ...);
 *   SL_EINVAL   the request fails rpc_req_check/encode, or the server said 400/invalid;
 *   SL_ENOTLEADER  a 3xx or 421 reply (an HTTP-level redirect to the leader);
 *   SL_ETRANSIENT  503, 429, other 5xx and Twirp unavailable/internal/unknown;
 *   SL_EFORMAT  404 bad_route, a 200 that is not application/protobuf, an unknown status;
 *   SL_ECORRUPT/SL_ETRUNC  an undecodable 200 body;
 *   SL_ELIMIT   413 (the server's body cap);
 * other Twirp codes map to the matching SL_E* (not_found ENOENT, already_exists EEXIST,
 * failed_precondition ESTATE, aborted ECONFLICT, deadline_exceeded/canceled ETIMEDOUT,
 * resource_exhausted ETRANSIENT). On failure out->message holds "URL: HTTP 400 malformed: ..."
 * or the transport error text. */
int rpc_call(httpc *c, const char *base_url, rpc_method m, const rpc_req *req, long timeout_ms,
             rpc_resp *out);

#endif
