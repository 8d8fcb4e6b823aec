/* A Kafka mock cluster (librdkafka's rdkafka_mock) with a line-command fault-injection interface.
 *
 * `sluice kafka-mock` wraps one; tests can also run one in-process. The brokers listen on
 * 127.0.0.1 only (ephemeral ports) and speak the real protocol, so any client works against
 * kmock_bootstraps(). Faults are driven by one-line text commands (kmock_exec), the same
 * protocol the command serves on stdin and on its TCP control port; see docs/kafka-mock.md:
 *
 *   broker-down ID|all            broker-up ID|all           rtt ID|all MS
 *   request-errors API ERR[*N][,ERR[*N]...]                  clear-errors
 *   leader TOPIC PARTITION ID|-1  create-topic NAME PARTITIONS RF
 *   bootstrap                     help
 *
 * Each command answers exactly one line: "ok" (optionally followed by a space and data) or
 * "error: REASON". The mock keeps only the newest 5 MiB (as stored, i.e. compressed) or 100000
 * batches per partition and has no transactions (DESIGN §7). */
#ifndef SL_KMOCK_H
#define SL_KMOCK_H

#include <stddef.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

typedef struct kmock kmock;

#define KMOCK_MAX_BROKERS 64
#define KMOCK_MAX_PARTITIONS 10000
#define KMOCK_REPLY_MAX 512 /* a reply buffer this large always holds a whole reply */
#define KMOCK_LINE_MAX 1024 /* longest command line the control interfaces accept */

/* Start a cluster of `brokers` brokers (ids 1..brokers) on 127.0.0.1. On failure returns NULL
 * and writes the reason into err (errlen bytes). Caller frees with kmock_destroy. */
kmock *kmock_new(int brokers, char *err, size_t errlen);

/* Stop the brokers and free everything. NULL is a no-op. Not concurrently with kmock_exec. */
void kmock_destroy(kmock *m);

/* Comma-separated "127.0.0.1:PORT" list; owned by m, valid until kmock_destroy. */
const char *kmock_bootstraps(const kmock *m);

/* Number of brokers the cluster was created with. */
int kmock_broker_count(const kmock *m);

/* The underlying librdkafka mock cluster, for faults kmock has no command for; owned by m. */
rd_kafka_mock_cluster_t *kmock_cluster(kmock *m);

/* Create topic `name` with `partitions` partitions and replication factor `rf` (1..brokers).
 * Returns 0, SL_EINVAL (bad argument) or SL_EEXIST, with the reason in err. */
int kmock_topic_create(kmock *m, const char *name, int partitions, int rf, char *err,
                       size_t errlen);

/* Parse a command-line topic spec "NAME:PARTITIONS[:RF]" for a cluster of `brokers` brokers;
 * RF defaults to min(3, brokers), as the mock's own auto-created topics. Writes the name into
 * name (namecap bytes). Returns 0 or SL_EINVAL with the reason in err. */
int kmock_topic_spec_parse(const char *spec, int brokers, char *name, size_t namecap,
                           int *partitions, int *rf, char *err, size_t errlen);

/* Execute one command line (without its newline) and write the one-line reply, without a
 * newline, into reply (cap bytes; KMOCK_REPLY_MAX suffices). Returns 0 when the reply is
 * "ok...", SL_EINVAL for a bad command or argument, SL_EEXIST / SL_ETRANSIENT when the mock
 * refused. Safe from any thread (the mock serialises its own state). */
int kmock_exec(kmock *m, const char *line, char *reply, size_t cap);

#endif
