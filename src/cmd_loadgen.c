/* `sluice loadgen`: produce the deterministic synthetic events of chaos/evgen to Kafka, or
 * with --schema rows of any schema (chaos/rowgen).
 *
 * Event ids start-id .. start-id+rows-1 of stream `seed` are produced in id order; each
 * message's key is the decimal event_id and its value evgen_row_json(seed, id). With
 * --partitions P the partition is set explicitly to id % P; without it librdkafka's
 * murmur2_random partitioner (the Java client's default) hashes the key, which
 * evgen_partition_murmur2 reproduces. The producer is idempotent, so retries after broker
 * faults neither duplicate nor reorder a partition's messages, and batches are zstd-compressed
 * so the mock cluster's 5 MiB-per-partition window holds many rows (DESIGN §7).
 *
 * Exit 0 only when the delivery report of every message said delivered; the counters live
 * in a context handed to librdkafka as its opaque, not in globals. */
#include "common/clock.h"
#include "src/cmds.h"

#include "chaos/evgen.h"
#include "chaos/rowgen.h"
#include "common/jsonw.h"
#include "common/log.h"
#include "common/schema.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#define MAX_SETS 64

typedef struct loadgen {
    uint64_t delivered;
    uint64_t failed;
    rd_kafka_resp_err_t first_err; /* first delivery error, for the final message */
    char first_err_str[256];
} loadgen;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: sluice loadgen --bootstrap B --topic T --rows N [--seed S] [--rate R]\n"
            "                      [--partitions P] [--start-id K] [--timeout SEC]\n"
            "                      [--schema S.json] [--set PROP=VALUE ...]\n"
            "\n"
            "Produce N deterministic synthetic events (deploy/examples/events_schema.json):\n"
            "event ids K..K+N-1, each row a pure function of (seed, id); key = event_id.\n"
            "With --schema, rows of that Pinot schema instead: every field, values by type\n"
            "(extremes included), date-time fields in their format (docs/chaos.md).\n"
            "\n"
            "  --bootstrap B     Kafka bootstrap servers (e.g. the first line of kafka-mock)\n"
            "  --topic T         topic to produce to\n"
            "  --rows N          number of events\n"
            "  --seed S          stream seed (default 1)\n"
            "  --rate R          events per second; 0 = as fast as possible (default 0)\n"
            "  --partitions P    set the partition explicitly to event_id %% P; without it the\n"
            "                    murmur2_random partitioner hashes the key (Java-compatible)\n"
            "  --start-id K      first event id (default 0)\n"
            "  --timeout SEC     give up on a message after SEC seconds (default 120)\n"
            "  --schema S.json   generate rows of this schema instead of the events\n"
            "  --set PROP=VALUE  extra librdkafka producer property (repeatable)\n"
            "  --log-level L     error|warn|info|debug (default warn)\n"
            "\n"
            "Exit 0 only when every event was delivered. A summary line goes to stderr;\n"
            "progress too when stderr is a terminal.\n");
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    if (!s || *s < '0' || *s > '9') return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max) return -1;
    *out = v;
    return 0;
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    loadgen *lg = opaque;
    (void)rk;
    if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        lg->delivered++;
        return;
    }
    if (lg->failed++ == 0) {
        lg->first_err = msg->err;
        snprintf(lg->first_err_str, sizeof lg->first_err_str, "%s", rd_kafka_err2str(msg->err));
    }
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    if (level <= 3)
        SL_ERROR("loadgen", "rdkafka fac=%s msg=\"%s\"", fac, buf);
    else if (level == 4)
        SL_WARN("loadgen", "rdkafka fac=%s msg=\"%s\"", fac, buf);
    else
        SL_DEBUG("loadgen", "rdkafka fac=%s msg=\"%s\"", fac, buf);
}

/* Transient errors (a broker down) are already in the log lines above and librdkafka retries
 * them; only a fatal error (the idempotent producer lost its guarantees) deserves a shout. */
static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL)
        SL_ERROR("loadgen", "rdkafka fatal error reason=\"%s\"", reason);
    else
        SL_DEBUG("loadgen", "rdkafka error err=%s reason=\"%s\"",
                 rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static int conf_set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
    char errstr[512];
    if (rd_kafka_conf_set(conf, k, v, errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "sluice loadgen: producer property %s=%s: %s\n", k, v, errstr);
        return -1;
    }
    return 0;
}

static void progress(bool tty, uint64_t produced, uint64_t rows, const loadgen *lg, double t0,
                     double *next)
{
    if (!tty) return;
    double t = sl_clock_mono_s();
    if (t < *next) return;
    *next = t + 0.5;
    fprintf(stderr,
            "\rloadgen: produced %" PRIu64 "/%" PRIu64 " delivered %" PRIu64 " failed %" PRIu64
            "  %.0f rows/s   ",
            produced, rows, lg->delivered, lg->failed,
            t > t0 ? (double)lg->delivered / (t - t0) : 0.0);
}

int cmd_loadgen_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"bootstrap", required_argument, NULL, 'b'},
        {"topic", required_argument, NULL, 't'},
        {"rows", required_argument, NULL, 'n'},
        {"seed", required_argument, NULL, 's'},
        {"rate", required_argument, NULL, 'r'},
        {"partitions", required_argument, NULL, 'p'},
        {"start-id", required_argument, NULL, 'k'},
        {"timeout", required_argument, NULL, 'T'},
        {"set", required_argument, NULL, 'S'},
        {"schema", required_argument, NULL, 'C'},
        {"log-level", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *bootstrap = NULL, *topic = NULL, *sets[MAX_SETS], *schema_path = NULL;
    uint64_t rows = 0, seed = 1, start_id = 0, partitions = 0, timeout_s = 120;
    double rate = 0;
    bool have_rows = false;
    int nsets = 0, rc = 1;
    loadgen lg = {0};
    rd_kafka_t *rk = NULL;
    char errstr[512], tmp[32];

    sl_log_set_level("warn");
    optind = 1;
    int li = 0;
    for (int c; (c = getopt_long(argc, argv, "h", opts, &li)) != -1;) {
        char *end;
        switch (c) {
        case 'b':
            bootstrap = optarg;
            break;
        case 't':
            topic = optarg;
            break;
        case 'n':
            if (parse_u64(optarg, EVGEN_ID_MAX, &rows)) goto bad_value;
            have_rows = true;
            break;
        case 's':
            if (parse_u64(optarg, UINT64_MAX, &seed)) goto bad_value;
            break;
        case 'r':
            errno = 0;
            rate = strtod(optarg, &end);
            if (*optarg == '\0' || *end || errno || !(rate >= 0) || rate > 1e9) goto bad_value;
            break;
        case 'p':
            if (parse_u64(optarg, 100000, &partitions) || partitions == 0) goto bad_value;
            break;
        case 'k':
            if (parse_u64(optarg, EVGEN_ID_MAX, &start_id)) goto bad_value;
            break;
        case 'T':
            if (parse_u64(optarg, 86400, &timeout_s) || timeout_s == 0) goto bad_value;
            break;
        case 'S':
            if (nsets == MAX_SETS || !strchr(optarg, '=') || *optarg == '=') goto bad_value;
            sets[nsets++] = optarg;
            break;
        case 'C':
            schema_path = optarg;
            break;
        case 'l':
            if (sl_log_set_level(optarg) != 0) goto bad_value;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
        continue;
    bad_value:
        fprintf(stderr, "sluice loadgen: bad value '%s' for --%s (see --help)\n", optarg,
                opts[li].name);
        return 2;
    }
    if (optind < argc) {
        fprintf(stderr, "sluice loadgen: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!bootstrap || !topic || !have_rows) {
        fprintf(stderr, "sluice loadgen: --bootstrap, --topic and --rows are required\n");
        usage(stderr);
        return 2;
    }
    if (start_id + rows > EVGEN_ID_MAX) {
        fprintf(stderr, "sluice loadgen: --start-id + --rows must stay below %" PRIu64 "\n",
                (uint64_t)EVGEN_ID_MAX);
        return 2;
    }

    schema *sch = NULL;
    rowgen *gen = NULL;
    if (schema_path) {
        if (!(sch = schema_load(schema_path, errstr, sizeof errstr))) {
            fprintf(stderr, "sluice loadgen: --schema: %s\n", errstr);
            return 2;
        }
        gen = rowgen_new(sch);
    }
    jsonw row;
    jsonw_init(&row);

    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    snprintf(tmp, sizeof tmp, "%" PRIu64, timeout_s * 1000);
    if (conf_set(conf, "bootstrap.servers", bootstrap) ||
        conf_set(conf, "compression.codec", "zstd") || conf_set(conf, "linger.ms", "10") ||
        conf_set(conf, "batch.num.messages", "10000") || conf_set(conf, "batch.size", "1000000") ||
        conf_set(conf, "queue.buffering.max.messages", "200000") ||
        conf_set(conf, "enable.idempotence", "true") ||
        conf_set(conf, "partitioner", "murmur2_random") ||
        conf_set(conf, "message.timeout.ms", tmp))
        goto fail_conf;
    for (int i = 0; i < nsets; i++) {
        char kv[1024];
        snprintf(kv, sizeof kv, "%s", sets[i]);
        char *eq = strchr(kv, '=');
        *eq = '\0';
        if (conf_set(conf, kv, eq + 1)) goto fail_conf;
    }
    rd_kafka_conf_set_opaque(conf, &lg);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_log_cb(conf, log_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) {
        fprintf(stderr, "sluice loadgen: rd_kafka_new: %s\n", errstr);
        goto fail_conf;
    }
    conf = NULL; /* owned by rk now */

    bool tty = isatty(STDERR_FILENO);
    double t0 = sl_clock_mono_s(), next_progress = t0 + 0.5;
    uint64_t bytes = 0, produced = 0;
    char value[EVGEN_JSON_MAX], key[EVGEN_KEY_MAX];
    for (; produced < rows; produced++) {
        uint64_t id = start_id + produced;
        if (rate > 0) {
            /* Pace against the start time, not the previous row, so rounding never drifts. */
            double due = t0 + (double)produced / rate;
            for (double t = sl_clock_mono_s(); t < due; t = sl_clock_mono_s())
                rd_kafka_poll(rk, (int)((due - t) * 1000) + 1);
        }
        const char *vbuf = value;
        size_t vlen;
        if (gen) {
            jsonw_reset(&row);
            rowgen_row(gen, seed, id, &row);
            vbuf = row.buf;
            vlen = row.len;
        } else {
            vlen = evgen_row_json(seed, id, value, sizeof value);
        }
        size_t klen = evgen_key(id, key, sizeof key);
        int32_t part =
            partitions ? evgen_partition(id, (int32_t)partitions) : RD_KAFKA_PARTITION_UA;
        rd_kafka_resp_err_t err;
        for (;;) {
            err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(part),
                                    RD_KAFKA_V_KEY(key, klen), RD_KAFKA_V_VALUE((void *)vbuf, vlen),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
            if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) break;
            rd_kafka_poll(rk, 20); /* the local queue drains as batches are acknowledged */
            progress(tty, produced, rows, &lg, t0, &next_progress);
        }
        if (err) {
            fprintf(stderr, "\nsluice loadgen: produce event %" PRIu64 " to %s: %s\n", id, topic,
                    rd_kafka_err2str(err));
            break;
        }
        bytes += vlen;
        if ((produced & 1023) == 0) {
            rd_kafka_poll(rk, 0);
            progress(tty, produced, rows, &lg, t0, &next_progress);
        }
    }

    /* Every message gets a delivery report by message.timeout.ms at the latest; wait a
     * little longer than that so none is left uncounted. */
    double flush_deadline = sl_clock_mono_s() + (double)timeout_s + 10;
    while (rd_kafka_outq_len(rk) > 0 && sl_clock_mono_s() < flush_deadline) {
        rd_kafka_flush(rk, 200);
        progress(tty, produced, rows, &lg, t0, &next_progress);
    }
    double secs = sl_clock_mono_s() - t0;
    if (tty) fputc('\n', stderr);

    char fatal[256] = "";
    rd_kafka_resp_err_t ferr = rd_kafka_fatal_error(rk, fatal, sizeof fatal);
    uint64_t lost = rows - lg.delivered;
    fprintf(stderr,
            "loadgen: rows=%" PRIu64 " delivered=%" PRIu64 " failed=%" PRIu64 " bytes=%" PRIu64
            " seconds=%.3f rows_per_sec=%.0f topic=%s seed=%" PRIu64 " start_id=%" PRIu64 "\n",
            rows, lg.delivered, lost, bytes, secs, secs > 0 ? (double)lg.delivered / secs : 0.0,
            topic, seed, start_id);
    if (ferr)
        fprintf(stderr, "sluice loadgen: producer fatal error: %s: %s\n", rd_kafka_err2name(ferr),
                fatal);
    if (lost == 0 && !ferr) {
        rc = 0;
    } else {
        fprintf(stderr, "sluice loadgen: %" PRIu64 " of %" PRIu64 " events not delivered", lost,
                rows);
        if (lg.failed)
            fprintf(stderr, " (first error: %s: %s)", rd_kafka_err2name(lg.first_err),
                    lg.first_err_str);
        else if (produced < rows)
            fprintf(stderr, " (stopped producing at event %" PRIu64 ")", start_id + produced);
        else
            fprintf(stderr, " (no delivery report within %" PRIu64 " s)", timeout_s + 10);
        fputc('\n', stderr);
    }
    rd_kafka_destroy(rk);
    jsonw_free(&row);
    rowgen_free(gen);
    schema_free(sch);
    return rc;

fail_conf:
    if (conf) rd_kafka_conf_destroy(conf);
    jsonw_free(&row);
    rowgen_free(gen);
    schema_free(sch);
    return 1;
}
