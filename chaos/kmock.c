/* Mock Kafka cluster and its fault-injection command interpreter (see kmock.h).
 *
 * librdkafka's mock cluster needs an rd_kafka_t for bookkeeping only: we create an idle
 * producer with a default configuration (no bootstrap servers, so it never connects
 * anywhere) and route its log lines into ours. The mock runs its own thread; every
 * rd_kafka_mock_* call is a message to that thread, so kmock_exec needs no lock of ours.
 *
 * Commands are parsed strictly: every number is range-checked, every name is looked up, and a
 * command with a wrong argument count is refused, so a typo in a chaos script fails loudly
 * instead of injecting a different fault. */
#include "chaos/kmock.h"

#include "common/log.h"
#include "common/sl_err.h"
#include "common/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct kmock {
    rd_kafka_t *rk;                   /* bookkeeping handle the mock is attached to */
    rd_kafka_mock_cluster_t *cluster; /* owned; destroyed before rk */
    int brokers;
};

/* Kafka protocol API keys by name (the public mock header has no table of its own). */
static const struct {
    const char *name;
    int16_t key;
} api_names[] = {
    {"Produce", 0},
    {"Fetch", 1},
    {"ListOffsets", 2},
    {"Metadata", 3},
    {"OffsetCommit", 8},
    {"OffsetFetch", 9},
    {"FindCoordinator", 10},
    {"JoinGroup", 11},
    {"Heartbeat", 12},
    {"LeaveGroup", 13},
    {"SyncGroup", 14},
    {"DescribeGroups", 15},
    {"ListGroups", 16},
    {"SaslHandshake", 17},
    {"ApiVersions", 18},
    {"CreateTopics", 19},
    {"DeleteTopics", 20},
    {"DeleteRecords", 21},
    {"InitProducerId", 22},
    {"OffsetForLeaderEpoch", 23},
    {"AddPartitionsToTxn", 24},
    {"AddOffsetsToTxn", 25},
    {"EndTxn", 26},
    {"TxnOffsetCommit", 28},
    {"DescribeConfigs", 32},
    {"AlterConfigs", 33},
    {"SaslAuthenticate", 36},
    {"CreatePartitions", 37},
    {"DeleteGroups", 42},
    {"OffsetDelete", 47},
};
#define API_KEY_CLEAR_MAX 80 /* clear-errors clears every key below this (all Kafka 3.x APIs) */
#define ERRORS_MAX 1000      /* most errors one request-errors command may push */

#define HELP_TEXT                                                                                  \
    "commands: broker-down ID|all; broker-up ID|all; rtt ID|all MS; "                              \
    "request-errors API ERR[*N][,ERR[*N]...]; clear-errors; leader TOPIC PARTITION ID|-1; "        \
    "create-topic NAME PARTITIONS RF; bootstrap; help"

static void kmock__log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    if (level <= 3)
        SL_ERROR("kmock", "rdkafka fac=%s msg=\"%s\"", fac, buf);
    else if (level == 4)
        SL_WARN("kmock", "rdkafka fac=%s msg=\"%s\"", fac, buf);
    else if (level <= 6)
        SL_INFO("kmock", "rdkafka fac=%s msg=\"%s\"", fac, buf);
    else
        SL_DEBUG("kmock", "rdkafka fac=%s msg=\"%s\"", fac, buf);
}

kmock *kmock_new(int brokers, char *err, size_t errlen)
{
    char errstr[512];
    rd_kafka_conf_t *conf = NULL;
    kmock *m = sl_xcalloc(1, sizeof *m);
    if (brokers < 1 || brokers > KMOCK_MAX_BROKERS) {
        snprintf(err, errlen, "broker count %d out of range 1..%d", brokers, KMOCK_MAX_BROKERS);
        goto fail;
    }
    m->brokers = brokers;

    conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, kmock__log_cb);
    m->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!m->rk) {
        snprintf(err, errlen, "rd_kafka_new: %s", errstr);
        rd_kafka_conf_destroy(conf);
        goto fail;
    }
    m->cluster = rd_kafka_mock_cluster_new(m->rk, brokers);
    if (!m->cluster) {
        snprintf(err, errlen, "rd_kafka_mock_cluster_new failed (%d brokers)", brokers);
        goto fail;
    }
    SL_INFO("kmock", "cluster up brokers=%d bootstrap=%s", brokers,
            rd_kafka_mock_cluster_bootstraps(m->cluster));
    return m;

fail:
    kmock_destroy(m);
    return NULL;
}

void kmock_destroy(kmock *m)
{
    if (!m) return;
    if (m->cluster) rd_kafka_mock_cluster_destroy(m->cluster);
    if (m->rk) rd_kafka_destroy(m->rk);
    free(m);
}

const char *kmock_bootstraps(const kmock *m)
{
    return rd_kafka_mock_cluster_bootstraps(m->cluster);
}

int kmock_broker_count(const kmock *m)
{
    return m->brokers;
}

rd_kafka_mock_cluster_t *kmock_cluster(kmock *m)
{
    return m->cluster;
}

/* Parse a whole decimal integer within [lo, hi]; no sign games, no trailing bytes. */
static int kmock__parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    if (!s || !*s || isspace((unsigned char)*s)) return SL_EINVAL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi) return SL_EINVAL;
    *out = v;
    return 0;
}

/* Kafka's legal topic name: 1..249 of [a-zA-Z0-9._-], not "." or "..". */
static int kmock__topic_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 249 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!isalnum(c) && c != '.' && c != '_' && c != '-') return 0;
    }
    return 1;
}

int kmock_topic_create(kmock *m, const char *name, int partitions, int rf, char *err, size_t errlen)
{
    if (!kmock__topic_name_ok(name)) {
        return sl_fail(err, errlen, SL_EINVAL, "invalid topic name '%s' (1..249 of [a-zA-Z0-9._-])",
                       name);
    }
    if (partitions < 1 || partitions > KMOCK_MAX_PARTITIONS) {
        return sl_fail(err, errlen, SL_EINVAL, "partition count %d out of range 1..%d", partitions,
                       KMOCK_MAX_PARTITIONS);
    }
    if (rf < 1 || rf > m->brokers) {
        return sl_fail(err, errlen, SL_EINVAL, "replication factor %d out of range 1..%d (brokers)",
                       rf, m->brokers);
    }
    rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(m->cluster, name, partitions, rf);
    if (e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        return sl_fail(err, errlen, SL_EEXIST, "topic '%s' already exists", name);
    }
    if (e) {
        return sl_fail(err, errlen, SL_ETRANSIENT, "create topic '%s': %s", name,
                       rd_kafka_err2str(e));
    }
    SL_INFO("kmock", "topic created topic=%s partitions=%d rf=%d", name, partitions, rf);
    return 0;
}

int kmock_topic_spec_parse(const char *spec, int brokers, char *name, size_t namecap,
                           int *partitions, int *rf, char *err, size_t errlen)
{
    char buf[300];
    long p, r = brokers < 3 ? brokers : 3;
    if (strlen(spec) >= sizeof buf) {
        return sl_fail(err, errlen, SL_EINVAL, "topic spec too long");
    }
    strcpy(buf, spec);
    char *c1 = strchr(buf, ':');
    if (!c1) goto bad;
    *c1++ = '\0';
    char *c2 = strchr(c1, ':');
    if (c2) *c2++ = '\0';
    if (!kmock__topic_name_ok(buf) || strlen(buf) >= namecap) goto bad;
    if (kmock__parse_long(c1, 1, KMOCK_MAX_PARTITIONS, &p)) goto bad;
    if (c2 && kmock__parse_long(c2, 1, brokers, &r)) goto bad;
    strcpy(name, buf);
    *partitions = (int)p;
    *rf = (int)r;
    return 0;
bad:
    snprintf(err, errlen,
             "bad topic spec '%s': want NAME:PARTITIONS[:RF], NAME of [a-zA-Z0-9._-], "
             "PARTITIONS 1..%d, RF 1..%d",
             spec, KMOCK_MAX_PARTITIONS, brokers);
    return SL_EINVAL;
}

/* ---- command interpreter ---------------------------------------------------------------- */

/* A reply line into reply (cap bytes, cut to fit) and its code: "ok ..." with 0, "error: ..."
 * with an SL_E* code. */
#define kmock__reply(reply, cap, rc, ...) sl_fail((reply), (cap), (rc), __VA_ARGS__)

/* A broker id 1..brokers, or "all" (the mock's -1) where allowed. */
static int kmock__broker_arg(const kmock *m, const char *s, int allow_all, int32_t *id)
{
    long v;
    if (allow_all && strcmp(s, "all") == 0) {
        *id = -1;
        return 0;
    }
    if (kmock__parse_long(s, 1, m->brokers, &v)) return SL_EINVAL;
    *id = (int32_t)v;
    return 0;
}

static int kmock__api_key(const char *s, int16_t *key)
{
    long v;
    if (kmock__parse_long(s, 0, 32767, &v) == 0) {
        *key = (int16_t)v;
        return 0;
    }
    for (size_t i = 0; i < sizeof api_names / sizeof api_names[0]; i++) {
        if (strcasecmp(s, api_names[i].name) == 0) {
            *key = api_names[i].key;
            return 0;
        }
    }
    return SL_EINVAL;
}

/* An error by name as rd_kafka_err2name spells it ("NOT_LEADER_FOR_PARTITION", "_TRANSPORT"),
 * optionally with the RD_KAFKA_RESP_ERR_ prefix, or by number; it must be a known code. */
static int kmock__error_code(const char *s, rd_kafka_resp_err_t *out)
{
    const struct rd_kafka_err_desc *descs;
    size_t n;
    long v;
    int by_number = kmock__parse_long(s, -1000, 1000, &v) == 0;
    if (strncasecmp(s, "RD_KAFKA_RESP_ERR_", 18) == 0) s += 18;
    rd_kafka_get_err_descs(&descs, &n);
    for (size_t i = 0; i < n; i++) {
        if (!descs[i].name) continue;
        if (by_number ? (long)descs[i].code == v : strcasecmp(s, descs[i].name) == 0) {
            *out = descs[i].code;
            return 0;
        }
    }
    return SL_EINVAL;
}

static int kmock__cmd_request_errors(kmock *m, char **argv, char *reply, size_t cap)
{
    int16_t key;
    rd_kafka_resp_err_t errs[ERRORS_MAX];
    size_t nerr = 0;
    if (kmock__api_key(argv[1], &key))
        return kmock__reply(reply, cap, SL_EINVAL,
                            "error: unknown API '%s' (a name such as Fetch, Produce, "
                            "ListOffsets, Metadata, or a number)",
                            argv[1]);
    for (char *tok = argv[2], *next; tok; tok = next) {
        next = strchr(tok, ',');
        if (next) *next++ = '\0';
        long count = 1;
        char *star = strchr(tok, '*');
        if (star) {
            *star++ = '\0';
            if (kmock__parse_long(star, 1, ERRORS_MAX, &count))
                return kmock__reply(reply, cap, SL_EINVAL, "error: bad repeat count '%s'", star);
        }
        rd_kafka_resp_err_t e;
        if (kmock__error_code(tok, &e))
            return kmock__reply(reply, cap, SL_EINVAL,
                                "error: unknown error '%s' (a name such as "
                                "NOT_LEADER_FOR_PARTITION or _TRANSPORT, or a number)",
                                tok);
        if (nerr + (size_t)count > ERRORS_MAX)
            return kmock__reply(reply, cap, SL_EINVAL, "error: more than %d errors", ERRORS_MAX);
        for (long i = 0; i < count; i++)
            errs[nerr++] = e;
    }
    rd_kafka_mock_push_request_errors_array(m->cluster, key, nerr, errs);
    SL_INFO("kmock", "request errors pushed api=%d count=%zu", key, nerr);
    return kmock__reply(reply, cap, 0, "ok");
}

static int kmock__mock_result(rd_kafka_resp_err_t e, char *reply, size_t cap, const char *what)
{
    if (e)
        return kmock__reply(reply, cap, SL_ETRANSIENT, "error: %s: %s", what, rd_kafka_err2str(e));
    return kmock__reply(reply, cap, 0, "ok");
}

int kmock_exec(kmock *m, const char *line, char *reply, size_t cap)
{
    char buf[KMOCK_LINE_MAX + 1];
    char *argv[8];
    int argc = 0;
    int32_t id;
    long v, v2;

    if (strlen(line) > KMOCK_LINE_MAX)
        return kmock__reply(reply, cap, SL_EINVAL, "error: line longer than %d bytes",
                            KMOCK_LINE_MAX);
    strcpy(buf, line);
    for (char *save = NULL, *tok = strtok_r(buf, " \t\r\n", &save); tok;
         tok = strtok_r(NULL, " \t\r\n", &save)) {
        if (argc == (int)(sizeof argv / sizeof argv[0]))
            return kmock__reply(reply, cap, SL_EINVAL, "error: too many arguments");
        argv[argc++] = tok;
    }
    if (argc == 0) return kmock__reply(reply, cap, SL_EINVAL, "error: empty command");

    const char *cmd = argv[0];
#define WANT_ARGS(n, usage)                                                                        \
    do {                                                                                           \
        if (argc != (n) + 1)                                                                       \
            return kmock__reply(reply, cap, SL_EINVAL, "error: usage: %s %s", cmd, usage);         \
    } while (0)

    if (strcmp(cmd, "help") == 0) {
        WANT_ARGS(0, "");
        return kmock__reply(reply, cap, 0, "ok " HELP_TEXT);
    }
    if (strcmp(cmd, "bootstrap") == 0) {
        WANT_ARGS(0, "");
        return kmock__reply(reply, cap, 0, "ok %s", kmock_bootstraps(m));
    }
    if (strcmp(cmd, "broker-down") == 0 || strcmp(cmd, "broker-up") == 0) {
        WANT_ARGS(1, "ID|all");
        if (kmock__broker_arg(m, argv[1], 1, &id))
            return kmock__reply(reply, cap, SL_EINVAL, "error: bad broker id '%s' (1..%d or all)",
                                argv[1], m->brokers);
        int down = cmd[7] == 'd';
        rd_kafka_resp_err_t e = down ? rd_kafka_mock_broker_set_down(m->cluster, id)
                                     : rd_kafka_mock_broker_set_up(m->cluster, id);
        SL_INFO("kmock", "broker %s broker=%d", down ? "down" : "up", (int)id);
        return kmock__mock_result(e, reply, cap, cmd);
    }
    if (strcmp(cmd, "rtt") == 0) {
        WANT_ARGS(2, "ID|all MS");
        if (kmock__broker_arg(m, argv[1], 1, &id))
            return kmock__reply(reply, cap, SL_EINVAL, "error: bad broker id '%s' (1..%d or all)",
                                argv[1], m->brokers);
        if (kmock__parse_long(argv[2], 0, 600000, &v))
            return kmock__reply(reply, cap, SL_EINVAL, "error: bad rtt '%s' (0..600000 ms)",
                                argv[2]);
        SL_INFO("kmock", "broker rtt broker=%d rtt_ms=%ld", (int)id, v);
        return kmock__mock_result(rd_kafka_mock_broker_set_rtt(m->cluster, id, (int)v), reply, cap,
                                  cmd);
    }
    if (strcmp(cmd, "request-errors") == 0) {
        WANT_ARGS(2, "API ERR[*N][,ERR[*N]...]");
        return kmock__cmd_request_errors(m, argv, reply, cap);
    }
    if (strcmp(cmd, "clear-errors") == 0) {
        WANT_ARGS(0, "");
        for (int16_t k = 0; k < API_KEY_CLEAR_MAX; k++)
            rd_kafka_mock_clear_request_errors(m->cluster, k);
        SL_INFO("kmock", "request errors cleared");
        return kmock__reply(reply, cap, 0, "ok");
    }
    if (strcmp(cmd, "leader") == 0) {
        WANT_ARGS(3, "TOPIC PARTITION ID|-1");
        if (!kmock__topic_name_ok(argv[1]))
            return kmock__reply(reply, cap, SL_EINVAL, "error: invalid topic name '%s'", argv[1]);
        if (kmock__parse_long(argv[2], 0, KMOCK_MAX_PARTITIONS - 1, &v))
            return kmock__reply(reply, cap, SL_EINVAL, "error: bad partition '%s'", argv[2]);
        if (kmock__parse_long(argv[3], -1, m->brokers, &v2) || v2 == 0)
            return kmock__reply(reply, cap, SL_EINVAL,
                                "error: bad broker id '%s' (1..%d, or -1 for no leader)", argv[3],
                                m->brokers);
        SL_INFO("kmock", "partition leader topic=%s partition=%ld broker=%ld", argv[1], v, v2);
        return kmock__mock_result(
            rd_kafka_mock_partition_set_leader(m->cluster, argv[1], (int32_t)v, (int32_t)v2), reply,
            cap, cmd);
    }
    if (strcmp(cmd, "create-topic") == 0) {
        char err[256];
        WANT_ARGS(3, "NAME PARTITIONS RF");
        if (kmock__parse_long(argv[2], 1, KMOCK_MAX_PARTITIONS, &v))
            return kmock__reply(reply, cap, SL_EINVAL, "error: bad partition count '%s'", argv[2]);
        if (kmock__parse_long(argv[3], 1, m->brokers, &v2))
            return kmock__reply(reply, cap, SL_EINVAL, "error: bad replication factor '%s' (1..%d)",
                                argv[3], m->brokers);
        int rc = kmock_topic_create(m, argv[1], (int)v, (int)v2, err, sizeof err);
        if (rc) return kmock__reply(reply, cap, rc, "error: %s", err);
        return kmock__reply(reply, cap, 0, "ok");
    }
#undef WANT_ARGS
    return kmock__reply(reply, cap, SL_EINVAL, "error: unknown command '%s' (try help)", cmd);
}
