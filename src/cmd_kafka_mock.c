/* `sluice kafka-mock`: an embedded Kafka-protocol cluster on 127.0.0.1 for dev and tests.
 *
 * Contract (DESIGN §3, §7): the first stdout line is the bootstrap list, flushed before
 * anything else can be observed (so a script may `read` it); --bootstrap-file publishes the
 * same line atomically; the process runs until SIGTERM or SIGINT and then exits 0.
 *
 * Fault injection (kmock_exec commands) arrives as lines on stdin (replies on stdout) and,
 * with --control-port, on a TCP line server bound to 127.0.0.1 (replies on the connection).
 * One thread serves everything with poll(): the signals arrive through a signalfd (blocked
 * before librdkafka starts its threads, so no thread of the mock can take them), stdin and
 * each client have a line buffer. End of stdin is not a stop request: a backgrounded mock
 * reads /dev/null and must keep running. */
#include "src/cmds.h"

#include "chaos/kmock.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/sl_err.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_TOPICS 64
#define MAX_CLIENTS 32

typedef struct linebuf {
    int fd;     /* -1: slot unused */
    size_t len; /* bytes buffered in buf */
    char buf[KMOCK_LINE_MAX + 2];
} linebuf;

typedef struct mock_srv {
    kmock *mock;
    int sig_fd;
    int listen_fd; /* -1 without --control-port */
    linebuf in;    /* stdin; fd -1 after EOF */
    linebuf clients[MAX_CLIENTS];
} mock_srv;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: sluice kafka-mock [--brokers N] --topic NAME:PARTITIONS[:RF] [--topic ...]\n"
            "                         [--bootstrap-file F] [--control-port P] [--control-file F]\n"
            "\n"
            "Run librdkafka's mock Kafka cluster on 127.0.0.1 until SIGTERM/SIGINT (exit 0).\n"
            "The first stdout line is the bootstrap list.\n"
            "\n"
            "  --brokers N          brokers, ids 1..N (default 3, at most %d)\n"
            "  --topic SPEC         create topic NAME with PARTITIONS partitions and replication\n"
            "                       factor RF (default min(3, N)); repeatable\n"
            "  --bootstrap-file F   also write the bootstrap list to F (atomically)\n"
            "  --control-port P     serve control commands on TCP 127.0.0.1:P (0: any free port)\n"
            "  --control-file F     write the control address HOST:PORT to F (atomically)\n"
            "  --log-level L        error|warn|info|debug (default warn)\n"
            "\n"
            "Control commands (stdin, replies on stdout; or the TCP port), one reply line each,\n"
            "\"ok\" or \"error: REASON\":\n"
            "  broker-down ID|all, broker-up ID|all, rtt ID|all MS,\n"
            "  request-errors API ERR[*N][,ERR[*N]...]   (API: Fetch, Produce, ListOffsets,\n"
            "      Metadata, ... or a number; ERR: NOT_LEADER_FOR_PARTITION, _TRANSPORT, ... or\n"
            "      a number), clear-errors, leader TOPIC PARTITION ID|-1,\n"
            "  create-topic NAME PARTITIONS RF, bootstrap, help\n"
            "See docs/kafka-mock.md.\n",
            KMOCK_MAX_BROKERS);
}

/* Publish one line (plus newline) to path atomically (common/fsutil). */
static int write_file_atomic(const char *path, const char *line)
{
    char buf[4096], err[512];
    int n = snprintf(buf, sizeof buf, "%s\n", line);
    if (n < 0 || n >= (int)sizeof buf) return SL_EINVAL;
    int rc = fsutil_publish(path, buf, (size_t)n, err, sizeof err);
    if (rc) fprintf(stderr, "sluice kafka-mock: cannot write %s\n", err);
    return rc;
}

static int listen_loopback(int port, int *out_port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    socklen_t salen = sizeof sa;
    int one = 1;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) goto fail;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) goto fail;
    if (listen(fd, 16) != 0) goto fail;
    if (getsockname(fd, (struct sockaddr *)&sa, &salen) != 0) goto fail;
    *out_port = ntohs(sa.sin_port);
    return fd;
fail:
    fprintf(stderr, "sluice kafka-mock: control port 127.0.0.1:%d: %s\n", port, strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
}

/* Write all of buf to a client; replies are short, so a blocking wait for room is fine and
 * keeps replies in order. Returns 0, or -1 when the peer is gone. */
static int send_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = send(fd, buf, len, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && errno == EAGAIN) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            if (poll(&p, 1, 5000) <= 0) return -1;
            continue;
        }
        if (w <= 0) return -1;
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Answer one command line on its channel: stdout for stdin, the socket for a client. */
static int answer(mock_srv *s, linebuf *lb, const char *line)
{
    char reply[KMOCK_REPLY_MAX + 1];
    if (line[strspn(line, " \t\r")] == '\0') return 0; /* blank lines get no reply */
    kmock_exec(s->mock, line, reply, sizeof reply - 1);
    if (lb == &s->in) {
        printf("%s\n", reply);
        fflush(stdout);
        return 0;
    }
    size_t n = strlen(reply);
    reply[n++] = '\n';
    return send_all(lb->fd, reply, n);
}

static void linebuf_close(mock_srv *s, linebuf *lb)
{
    if (lb != &s->in) close(lb->fd);
    lb->fd = -1;
    lb->len = 0;
}

/* Read what is available and answer every complete line; closes lb on EOF, error or an
 * over-long line (after answering it with an error). */
static void serve_readable(mock_srv *s, linebuf *lb)
{
    ssize_t r = read(lb->fd, lb->buf + lb->len, sizeof lb->buf - 1 - lb->len);
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (r <= 0) {
        /* A last line without its newline still counts. */
        if (lb->len > 0) {
            lb->buf[lb->len] = '\0';
            answer(s, lb, lb->buf);
        }
        linebuf_close(s, lb);
        return;
    }
    lb->len += (size_t)r;
    for (;;) {
        char *nl = memchr(lb->buf, '\n', lb->len);
        if (!nl) break;
        *nl = '\0';
        if (answer(s, lb, lb->buf) != 0) {
            linebuf_close(s, lb);
            return;
        }
        size_t used = (size_t)(nl + 1 - lb->buf);
        memmove(lb->buf, nl + 1, lb->len - used);
        lb->len -= used;
    }
    if (lb->len >= sizeof lb->buf - 1) {
        const char *msg = "error: line too long\n";
        if (lb == &s->in) {
            fputs(msg, stdout);
            fflush(stdout);
            lb->len = 0; /* stdin stays usable; the rest of that line is answered as garbage */
        } else {
            send_all(lb->fd, msg, strlen(msg));
            linebuf_close(s, lb);
        }
    }
}

static void accept_client(mock_srv *s)
{
    int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;
    for (int i = 0; i < MAX_CLIENTS; i++) {
        if (s->clients[i].fd < 0) {
            s->clients[i].fd = fd;
            s->clients[i].len = 0;
            return;
        }
    }
    const char *msg = "error: too many control connections\n";
    send_all(fd, msg, strlen(msg));
    close(fd);
}

/* Serve until a stop signal. Returns the signal number. */
static int serve(mock_srv *s)
{
    for (;;) {
        struct pollfd pfd[3 + MAX_CLIENTS];
        linebuf *owner[3 + MAX_CLIENTS];
        nfds_t n = 0;
        pfd[n] = (struct pollfd){.fd = s->sig_fd, .events = POLLIN};
        owner[n++] = NULL;
        if (s->listen_fd >= 0) {
            pfd[n] = (struct pollfd){.fd = s->listen_fd, .events = POLLIN};
            owner[n++] = NULL;
        }
        if (s->in.fd >= 0) {
            pfd[n] = (struct pollfd){.fd = s->in.fd, .events = POLLIN};
            owner[n++] = &s->in;
        }
        for (int i = 0; i < MAX_CLIENTS; i++) {
            if (s->clients[i].fd < 0) continue;
            pfd[n] = (struct pollfd){.fd = s->clients[i].fd, .events = POLLIN};
            owner[n++] = &s->clients[i];
        }
        if (poll(pfd, n, -1) < 0) {
            if (errno == EINTR) continue;
            SL_ERROR("kafka-mock", "poll failed err=\"%s\"", strerror(errno));
            return SIGTERM;
        }
        if (pfd[0].revents) {
            struct signalfd_siginfo si;
            if (read(s->sig_fd, &si, sizeof si) == (ssize_t)sizeof si) return (int)si.ssi_signo;
        }
        for (nfds_t i = 1; i < n; i++) {
            if (!pfd[i].revents) continue;
            if (owner[i])
                serve_readable(s, owner[i]);
            else
                accept_client(s);
        }
    }
}

int cmd_kafka_mock_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"brokers", required_argument, NULL, 'b'},
        {"topic", required_argument, NULL, 't'},
        {"bootstrap-file", required_argument, NULL, 'f'},
        {"control-port", required_argument, NULL, 'p'},
        {"control-file", required_argument, NULL, 'c'},
        {"log-level", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *topics[MAX_TOPICS];
    int ntopics = 0, brokers = 3, control_port = -1, rc = 1;
    const char *bootstrap_file = NULL, *control_file = NULL;
    char err[512];
    mock_srv s = {.sig_fd = -1, .listen_fd = -1};
    sigset_t mask;

    s.in.fd = -1;
    for (int i = 0; i < MAX_CLIENTS; i++)
        s.clients[i].fd = -1;
    sl_log_set_level("warn");
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "h", opts, NULL)) != -1;) {
        char *end;
        long v;
        switch (c) {
        case 'b':
            v = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end || v < 1 || v > KMOCK_MAX_BROKERS) {
                fprintf(stderr, "sluice kafka-mock: --brokers: want 1..%d, got '%s'\n",
                        KMOCK_MAX_BROKERS, optarg);
                return 2;
            }
            brokers = (int)v;
            break;
        case 't':
            if (ntopics == MAX_TOPICS) {
                fprintf(stderr, "sluice kafka-mock: at most %d --topic options\n", MAX_TOPICS);
                return 2;
            }
            topics[ntopics++] = optarg;
            break;
        case 'f':
            bootstrap_file = optarg;
            break;
        case 'p':
            v = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end || v < 0 || v > 65535) {
                fprintf(stderr, "sluice kafka-mock: --control-port: want 0..65535, got '%s'\n",
                        optarg);
                return 2;
            }
            control_port = (int)v;
            break;
        case 'c':
            control_file = optarg;
            break;
        case 'l':
            if (sl_log_set_level(optarg) != 0) {
                fprintf(stderr, "sluice kafka-mock: --log-level: want error|warn|info|debug\n");
                return 2;
            }
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "sluice kafka-mock: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (control_file && control_port < 0) {
        fprintf(stderr, "sluice kafka-mock: --control-file needs --control-port\n");
        return 2;
    }
    /* Validate every topic spec before starting anything. */
    for (int i = 0; i < ntopics; i++) {
        char name[256];
        int p, rf;
        if (kmock_topic_spec_parse(topics[i], brokers, name, sizeof name, &p, &rf, err,
                                   sizeof err)) {
            fprintf(stderr, "sluice kafka-mock: --topic: %s\n", err);
            return 2;
        }
    }

    /* Block the stop signals before librdkafka creates threads: they inherit the mask, and
     * the signals then wait in the signalfd for the serving loop. */
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    if (sigprocmask(SIG_BLOCK, &mask, NULL) != 0) goto fail_signals;
    s.sig_fd = signalfd(-1, &mask, SFD_CLOEXEC);
    if (s.sig_fd < 0) goto fail_signals;
    signal(SIGPIPE, SIG_IGN);

    s.mock = kmock_new(brokers, err, sizeof err);
    if (!s.mock) {
        fprintf(stderr, "sluice kafka-mock: %s\n", err);
        goto out;
    }
    for (int i = 0; i < ntopics; i++) {
        char name[256];
        int p, rf;
        kmock_topic_spec_parse(topics[i], brokers, name, sizeof name, &p, &rf, err, sizeof err);
        if (kmock_topic_create(s.mock, name, p, rf, err, sizeof err) != 0) {
            fprintf(stderr, "sluice kafka-mock: --topic %s: %s\n", topics[i], err);
            goto out;
        }
    }
    if (control_port >= 0) {
        int port;
        char addr[64];
        s.listen_fd = listen_loopback(control_port, &port);
        if (s.listen_fd < 0) goto out;
        snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
        SL_INFO("kafka-mock", "control listening addr=%s", addr);
        if (control_file && write_file_atomic(control_file, addr) != 0) goto out;
    }
    if (bootstrap_file && write_file_atomic(bootstrap_file, kmock_bootstraps(s.mock)) != 0)
        goto out;
    printf("%s\n", kmock_bootstraps(s.mock));
    fflush(stdout);

    /* stdin stays blocking (it may be a terminal shared with a shell); poll() says a read
     * will not block, and one read() per wakeup is all serve_readable does. */
    s.in.fd = STDIN_FILENO;

    int sig = serve(&s);
    SL_INFO("kafka-mock", "stopping signal=%s", strsignal(sig));
    rc = 0;
    goto out;

fail_signals:
    fprintf(stderr, "sluice kafka-mock: signal setup: %s\n", strerror(errno));
out:
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (s.clients[i].fd >= 0) close(s.clients[i].fd);
    if (s.listen_fd >= 0) close(s.listen_fd);
    kmock_destroy(s.mock);
    if (s.sig_fd >= 0) close(s.sig_fd);
    return rc;
}
