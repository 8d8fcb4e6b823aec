/* Mock cluster in-process: loopback bootstraps, topic specs, every control command and its
 * refusals, and that the injected faults really reach a client (leader change visible in
 * metadata, a down broker stops deliveries until it is up again, pushed Produce errors fail
 * exactly that many requests, clear-errors removes the rest), and that kmeta_watermarks follows
 * a leader change (it used to ask the old leader forever: found by `sluice chaos`). */
#include "chaos/kmock.h"
#include "common/log.h"
#include "common/sl_err.h"
#include "consumer/kmeta.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static kmock *mk(int brokers)
{
    char err[256];
    kmock *m = kmock_new(brokers, err, sizeof err);
    if (!m) fail_msg("kmock_new: %s", err);
    return m;
}

static int run(kmock *m, const char *line, char *reply)
{
    return kmock_exec(m, line, reply, KMOCK_REPLY_MAX);
}

static void test_new_and_bootstraps(void **state)
{
    (void)state;
    char err[256];
    assert_null(kmock_new(0, err, sizeof err));
    assert_non_null(strstr(err, "out of range"));
    assert_null(kmock_new(KMOCK_MAX_BROKERS + 1, err, sizeof err));

    kmock *m = mk(3);
    assert_int_equal(kmock_broker_count(m), 3);
    assert_non_null(kmock_cluster(m));
    /* Three brokers, each on the loopback address and nowhere else. */
    char bs[512];
    snprintf(bs, sizeof bs, "%s", kmock_bootstraps(m));
    int n = 0;
    for (char *save = NULL, *t = strtok_r(bs, ",", &save); t; t = strtok_r(NULL, ",", &save), n++)
        assert_int_equal(strncmp(t, "127.0.0.1:", 10), 0);
    assert_int_equal(n, 3);
    kmock_destroy(m);
    kmock_destroy(NULL);
}

static void test_topic_specs(void **state)
{
    (void)state;
    char name[64], err[256];
    int p, rf;
    assert_int_equal(
        kmock_topic_spec_parse("events:4", 5, name, sizeof name, &p, &rf, err, sizeof err), 0);
    assert_string_equal(name, "events");
    assert_int_equal(p, 4);
    assert_int_equal(rf, 3); /* min(3, brokers) */
    assert_int_equal(
        kmock_topic_spec_parse("a.b-c_d:2:2", 2, name, sizeof name, &p, &rf, err, sizeof err), 0);
    assert_int_equal(rf, 2);
    assert_int_equal(kmock_topic_spec_parse("x:1", 1, name, sizeof name, &p, &rf, err, sizeof err),
                     0);
    assert_int_equal(rf, 1);

    static const char *const bad[] = {"events",       "events:",    "events:0",   "events:-1",
                                      "events:x",     "events:4:0", "events:4:3", "events:4:2:1",
                                      ":4",           "bad name:4", "bad/name:4", "events:4x",
                                      "events:100001"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        if (kmock_topic_spec_parse(bad[i], 2, name, sizeof name, &p, &rf, err, sizeof err) !=
            SL_EINVAL)
            fail_msg("spec '%s' accepted", bad[i]);
        assert_non_null(strstr(err, "NAME:PARTITIONS"));
    }
    /* A name that does not fit the caller's buffer is refused, not truncated. */
    assert_int_equal(kmock_topic_spec_parse("abcdefgh:1", 1, name, 8, &p, &rf, err, sizeof err),
                     SL_EINVAL);
}

static void test_commands(void **state)
{
    (void)state;
    char reply[KMOCK_REPLY_MAX], err[256];
    kmock *m = mk(3);

    assert_int_equal(kmock_topic_create(m, "t1", 4, 2, err, sizeof err), 0);
    assert_int_equal(kmock_topic_create(m, "t1", 4, 2, err, sizeof err), SL_EEXIST);
    assert_int_equal(kmock_topic_create(m, "t2", 4, 4, err, sizeof err), SL_EINVAL);
    assert_int_equal(kmock_topic_create(m, "t2", 0, 1, err, sizeof err), SL_EINVAL);
    assert_int_equal(kmock_topic_create(m, "t 2", 1, 1, err, sizeof err), SL_EINVAL);

    static const char *const ok[] = {
        "help",
        "bootstrap",
        "broker-down 2",
        "broker-up 2",
        "broker-down all",
        "broker-up all",
        "  rtt 1 50 ",
        "rtt all 0",
        "request-errors Fetch NOT_LEADER_FOR_PARTITION",
        "request-errors fetch _TRANSPORT*3,NOT_LEADER_FOR_PARTITION",
        "request-errors 2 6",
        "request-errors Metadata RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE",
        "request-errors Produce -195*2",
        "clear-errors",
        "leader t1 0 2",
        "leader t1 3 -1",
        "leader t1 3 3",
        "create-topic t3 2 3",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int rc = run(m, ok[i], reply);
        if (rc != 0 || strncmp(reply, "ok", 2) != 0)
            fail_msg("'%s' -> rc %d '%s'", ok[i], rc, reply);
    }
    run(m, "bootstrap", reply);
    assert_string_equal(reply + 3, kmock_bootstraps(m));
    run(m, "help", reply);
    assert_non_null(strstr(reply, "request-errors"));

    static const char *const bad[] = {
        "",
        "   ",
        "frobnicate",
        "broker-down",
        "broker-down 0",
        "broker-down 4",
        "broker-down -1",
        "broker-down x",
        "broker-down 1 2",
        "rtt 1",
        "rtt 1 -5",
        "rtt 1 600001",
        "rtt 9 10",
        "request-errors Fetch",
        "request-errors Bogus 6",
        "request-errors Fetch NOPE",
        "request-errors Fetch 6*0",
        "request-errors Fetch 6*1001",
        "request-errors Fetch 6,,7",
        "request-errors Fetch 99999",
        "request-errors -1 6",
        "clear-errors now",
        "leader t1 0",
        "leader t1 0 0",
        "leader t1 0 4",
        "leader t1 x 1",
        "leader bad/topic 0 1",
        "leader t1 99 1",
        "create-topic t3 2 3",
        "create-topic t4 2 4",
        "create-topic t4 0 1",
        "create-topic t4 2",
        "help me",
        "a b c d e f g h i",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = run(m, bad[i], reply);
        if (rc == 0 || strncmp(reply, "error: ", 7) != 0)
            fail_msg("'%s' -> rc %d '%s'", bad[i], rc, reply);
    }
    assert_int_equal(run(m, "create-topic t3 2 3", reply), SL_EEXIST);

    char longline[KMOCK_LINE_MAX + 10];
    memset(longline, 'a', sizeof longline - 1);
    longline[sizeof longline - 1] = '\0';
    assert_int_equal(run(m, longline, reply), SL_EINVAL);
    assert_non_null(strstr(reply, "longer than"));

    /* A reply buffer smaller than the reply is truncated, never overrun. */
    char tiny[8];
    memset(tiny, 'X', sizeof tiny);
    kmock_exec(m, "frobnicate", tiny, sizeof tiny);
    assert_int_equal(tiny[sizeof tiny - 1], '\0');
    kmock_destroy(m);
}

/* ---- faults as a client sees them ------------------------------------------------------- */

typedef struct dr_count {
    int ok, failed;
    rd_kafka_resp_err_t last_err;
} dr_count;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    (void)rk;
    dr_count *c = opaque;
    if (msg->err) {
        c->failed++;
        c->last_err = msg->err;
    } else {
        c->ok++;
    }
}

static rd_kafka_t *producer(kmock *m, dr_count *c, const char *timeout_ms)
{
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    assert_int_equal(
        rd_kafka_conf_set(conf, "bootstrap.servers", kmock_bootstraps(m), errstr, sizeof errstr),
        RD_KAFKA_CONF_OK);
    assert_int_equal(
        rd_kafka_conf_set(conf, "message.timeout.ms", timeout_ms, errstr, sizeof errstr),
        RD_KAFKA_CONF_OK);
    assert_int_equal(rd_kafka_conf_set(conf, "retries", "0", errstr, sizeof errstr),
                     RD_KAFKA_CONF_OK);
    assert_int_equal(rd_kafka_conf_set(conf, "linger.ms", "0", errstr, sizeof errstr),
                     RD_KAFKA_CONF_OK);
    assert_int_equal(rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof errstr),
                     RD_KAFKA_CONF_OK);
    /* Reconnect quickly once a downed broker is back (the default backoff reaches 10 s). */
    assert_int_equal(
        rd_kafka_conf_set(conf, "reconnect.backoff.max.ms", "100", errstr, sizeof errstr),
        RD_KAFKA_CONF_OK);
    rd_kafka_conf_set_opaque(conf, c);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    assert_non_null(rk);
    return rk;
}

/* Produce one message to partition 0 and wait for its delivery report. */
static void produce_one(rd_kafka_t *rk, dr_count *c, const char *topic)
{
    int before = c->ok + c->failed;
    assert_int_equal(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
                                       RD_KAFKA_V_VALUE("v", 1),
                                       RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END),
                     0);
    for (int i = 0; i < 200 && c->ok + c->failed == before; i++)
        rd_kafka_poll(rk, 50);
    assert_int_equal(c->ok + c->failed, before + 1);
}

static int32_t leader_of(rd_kafka_t *rk, const char *topic, int32_t partition)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md;
    int32_t leader = -2;
    assert_int_equal(rd_kafka_metadata(rk, 0, rkt, &md, 5000), 0);
    for (int p = 0; p < md->topics[0].partition_cnt; p++)
        if (md->topics[0].partitions[p].id == partition)
            leader = md->topics[0].partitions[p].leader;
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    return leader;
}

static void test_faults_reach_clients(void **state)
{
    (void)state;
    char reply[KMOCK_REPLY_MAX], err[256];
    dr_count c = {0};
    kmock *m = mk(2);
    assert_int_equal(kmock_topic_create(m, "f", 2, 1, err, sizeof err), 0);
    rd_kafka_t *rk = producer(m, &c, "1500");

    assert_int_equal(run(m, "leader f 0 2", reply), 0);
    assert_int_equal(leader_of(rk, "f", 0), 2);
    assert_int_equal(run(m, "leader f 0 1", reply), 0);
    assert_int_equal(leader_of(rk, "f", 0), 1);

    produce_one(rk, &c, "f");
    assert_int_equal(c.ok, 1);

    /* Pushed errors fail exactly as many Produce requests as were pushed. */
    assert_int_equal(run(m, "request-errors Produce MSG_SIZE_TOO_LARGE*2", reply), 0);
    produce_one(rk, &c, "f");
    produce_one(rk, &c, "f");
    assert_int_equal(c.failed, 2);
    assert_int_equal(c.last_err, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
    produce_one(rk, &c, "f");
    assert_int_equal(c.ok, 2);

    /* clear-errors drops what is still stacked. */
    assert_int_equal(run(m, "request-errors Produce MSG_SIZE_TOO_LARGE*5", reply), 0);
    assert_int_equal(run(m, "clear-errors", reply), 0);
    produce_one(rk, &c, "f");
    assert_int_equal(c.ok, 3);
    assert_int_equal(c.failed, 2);

    /* The leader's broker down: the message times out; up again: deliveries resume. */
    assert_int_equal(run(m, "broker-down 1", reply), 0);
    produce_one(rk, &c, "f");
    assert_int_equal(c.failed, 3);
    assert_int_equal(c.last_err, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT);
    assert_int_equal(run(m, "broker-up 1", reply), 0);
    produce_one(rk, &c, "f");
    assert_int_equal(c.ok, 4);

    rd_kafka_destroy(rk);
    kmock_destroy(m);
}

/* The controller's watermark handle consumes nothing: after the partition's leader moved, the
 * query must find the new leader, not fail with "not leader" until the handle is recreated. */
static void test_watermarks_follow_the_leader(void **state)
{
    (void)state;
    char reply[KMOCK_REPLY_MAX], err[256];
    dr_count c = {0};
    kmock *m = mk(3);
    assert_int_equal(kmock_topic_create(m, "w", 1, 3, err, sizeof err), 0);
    rd_kafka_t *p = producer(m, &c, "5000");
    produce_one(p, &c, "w");
    produce_one(p, &c, "w");
    assert_int_equal(c.ok, 2);
    rd_kafka_t *q = kmeta_open(kmock_bootstraps(m), NULL, 0, err, sizeof err);
    assert_non_null(q);
    int64_t low = -1, high = -1;
    assert_int_equal(kmeta_watermarks(q, "w", 0, 5000, &low, &high), 0);
    assert_int_equal(high, 2);
    for (int b = 2; b <= 3; b++) { /* move it twice: each query after a move must succeed */
        char cmd[32];
        snprintf(cmd, sizeof cmd, "leader w 0 %d", b);
        assert_int_equal(run(m, cmd, reply), 0);
        produce_one(p, &c, "w");
        high = -1;
        assert_int_equal(kmeta_watermarks(q, "w", 0, 5000, &low, &high), 0);
        assert_int_equal(high, 2 + (b - 1));
    }
    rd_kafka_destroy(q);
    rd_kafka_destroy(p);
    kmock_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_and_bootstraps),
        cmocka_unit_test(test_topic_specs),
        cmocka_unit_test(test_commands),
        cmocka_unit_test(test_faults_reach_clients),
        cmocka_unit_test(test_watermarks_follow_the_leader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
