#include "common/clock.h"
#include "common/xalloc.h"
/* Slow and idle HTTP clients, for the connection-exhaustion tests (slowloris).
 *
 *   slowclients --port P [--host 127.0.0.1] [--source ADDR] [--slow N] [--idle M]
 *               [--interval-ms 5000] [--duration-s 60] [--connect-ms 100]
 *
 * Opens N "slow" connections that send a request header one byte every interval (a request
 * line, then an endless "X-Slow: aaaa..." header, so the header never completes), and M
 * "idle" connections that send nothing. Connections are opened --connect-ms apart in total
 * (spread evenly) and never reopened; the tool watches which ones the server closes and when.
 * --source binds the client side to another loopback address (127.0.0.2, ...) so a
 * per-address limit can be told apart from the global one.
 *
 * Output (stdout, one line each, flushed): "ready slow=N idle=M failed=F t=S" once every
 * connect finished, then every second "t=S open=O closed=C" and finally
 *   "done open=O closed=C slow_closed=A idle_closed=B max_close_s=X min_close_s=Y"
 * where the close times are measured from each connection's own connect. Exits after
 * --duration-s, when every connection is closed, or on SIGTERM/SIGINT (the summary is still
 * printed). Not a test by itself: tests/integration/test_http_exhaustion.sh drives it. */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct sc_conn {
    int fd;
    bool slow, open, connected;
    double t_open, t_close, t_next;
    size_t sent;
} sc_conn;

static volatile sig_atomic_t sc_stop;

static void sc_on_signal(int sig)
{
    (void)sig;
    sc_stop = 1;
}

static void sc_usage(void)
{
    fprintf(stderr, "usage: slowclients --port P [--host H] [--source ADDR] [--slow N] [--idle M]\n"
                    "                   [--interval-ms MS] [--duration-s S] [--connect-ms MS]\n");
    exit(2);
}

static const char SC_PREFIX[] = "GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ";

/* The byte a slow connection sends after `sent` bytes: the prefix, then 'a' forever. */
static char sc_byte(size_t sent)
{
    return sent < sizeof SC_PREFIX - 1 ? SC_PREFIX[sent] : 'a';
}

static int sc_open(const struct sockaddr_in *dst, const char *source)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (source) {
        struct sockaddr_in src = {.sin_family = AF_INET};
        if (inet_pton(AF_INET, source, &src.sin_addr) != 1 ||
            bind(fd, (struct sockaddr *)&src, sizeof src) != 0) {
            fprintf(stderr, "slowclients: cannot bind %s: %s\n", source, strerror(errno));
            exit(2);
        }
    }
    if (connect(fd, (const struct sockaddr *)dst, sizeof *dst) != 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *source = NULL;
    long port = 0, nslow = 0, nidle = 0, interval_ms = 5000, duration_s = 60, connect_ms = 100;
    for (int i = 1; i < argc; i += 2) { /* --option value pairs */
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) sc_usage();
        if (strcmp(a, "--host") == 0)
            host = v;
        else if (strcmp(a, "--source") == 0)
            source = v;
        else if (strcmp(a, "--port") == 0)
            port = atol(v);
        else if (strcmp(a, "--slow") == 0)
            nslow = atol(v);
        else if (strcmp(a, "--idle") == 0)
            nidle = atol(v);
        else if (strcmp(a, "--interval-ms") == 0)
            interval_ms = atol(v);
        else if (strcmp(a, "--duration-s") == 0)
            duration_s = atol(v);
        else if (strcmp(a, "--connect-ms") == 0)
            connect_ms = atol(v);
        else
            sc_usage();
    }
    if (port <= 0 || port > 65535 || nslow < 0 || nidle < 0 || nslow + nidle == 0 ||
        interval_ms <= 0 || duration_s <= 0 || connect_ms < 0)
        sc_usage();
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &dst.sin_addr) != 1) sc_usage();
    size_t n = (size_t)(nslow + nidle);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < n + 64 && rl.rlim_max >= n + 64) {
        rl.rlim_cur = n + 64;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGTERM, sc_on_signal);
    signal(SIGINT, sc_on_signal);
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);

    sc_conn *c = sl_xcalloc(n, sizeof *c);
    struct pollfd *pf = sl_xcalloc(n, sizeof *pf);
    size_t *idx = sl_xcalloc(n, sizeof *idx);
    double t0 = sl_clock_mono_s(), spacing = n > 1 ? (double)connect_ms / 1e3 / (double)(n - 1) : 0;
    size_t opened = 0, failed = 0;
    bool ready = false;
    double next_status = t0 + 1, end = t0 + (double)duration_s;
    /* Interleave slow and idle connections so both kinds spread over the connect window. */
    for (size_t i = 0; i < n; i++)
        c[i].slow = (size_t)nslow * (i + 1) / n > (size_t)nslow * i / n;

    while (!sc_stop) {
        double now = sl_clock_mono_s();
        if (now >= end) break;
        for (; opened < n && now >= t0 + spacing * (double)opened; opened++) {
            sc_conn *k = &c[opened];
            k->fd = sc_open(&dst, source);
            k->t_open = now;
            if (k->fd < 0) {
                failed++;
                continue;
            }
            k->open = true;
            k->t_next = now;
        }
        size_t np = 0, nopen = 0, nconnecting = 0;
        double wake = now + 0.2;
        for (size_t i = 0; i < opened; i++) {
            sc_conn *k = &c[i];
            if (!k->open) continue;
            nopen++;
            short ev = POLLIN;
            if (!k->connected) {
                ev |= POLLOUT;
                nconnecting++;
            } else if (k->slow) {
                if (k->t_next <= now) {
                    char b = sc_byte(k->sent);
                    if (send(k->fd, &b, 1, MSG_NOSIGNAL) == 1) k->sent++;
                    k->t_next = now + (double)interval_ms / 1e3;
                }
                if (k->t_next < wake) wake = k->t_next;
            }
            pf[np] = (struct pollfd){.fd = k->fd, .events = ev};
            idx[np++] = i;
        }
        if (!ready && opened == n && nconnecting == 0) {
            ready = true;
            printf("ready slow=%ld idle=%ld failed=%zu t=%.2f\n", nslow, nidle, failed, now - t0);
        }
        if (opened == n && nopen == 0) break;
        if (opened < n && t0 + spacing * (double)opened < wake)
            wake = t0 + spacing * (double)opened;
        int ms = (int)((wake - now) * 1e3);
        if (poll(pf, np, ms < 0 ? 0 : ms) < 0 && errno != EINTR) break;
        now = sl_clock_mono_s();
        for (size_t j = 0; j < np; j++) {
            sc_conn *k = &c[idx[j]];
            if (!pf[j].revents) continue;
            if (!k->connected && (pf[j].revents & POLLOUT)) {
                int err = 0;
                socklen_t el = sizeof err;
                getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &err, &el);
                if (err == 0) k->connected = true;
            }
            if (pf[j].revents & (POLLIN | POLLHUP | POLLERR)) {
                char buf[4096];
                ssize_t r = recv(k->fd, buf, sizeof buf, 0);
                if (r > 0) continue; /* an error reply; the close follows */
                if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
                close(k->fd);
                k->fd = -1;
                k->open = false;
                k->t_close = now;
            }
        }
        if (now >= next_status) {
            size_t o = 0;
            for (size_t i = 0; i < opened; i++)
                o += c[i].open;
            printf("t=%.1f open=%zu closed=%zu\n", now - t0, o, opened - failed - o);
            next_status += 1;
        }
    }
    size_t o = 0, sclosed = 0, iclosed = 0;
    double maxc = 0, minc = -1;
    for (size_t i = 0; i < opened; i++) {
        if (c[i].open) {
            o++;
            close(c[i].fd);
        } else if (c[i].fd == -1 && c[i].t_close > 0) {
            double d = c[i].t_close - c[i].t_open;
            if (d > maxc) maxc = d;
            if (minc < 0 || d < minc) minc = d;
            if (c[i].slow)
                sclosed++;
            else
                iclosed++;
        }
    }
    printf("done open=%zu closed=%zu slow_closed=%zu idle_closed=%zu max_close_s=%.2f "
           "min_close_s=%.2f failed=%zu\n",
           o, sclosed + iclosed, sclosed, iclosed, maxc, minc < 0 ? 0 : minc, failed);
    free(c);
    free(pf);
    free(idx);
    return 0;
}
