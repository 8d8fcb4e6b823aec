/* Admission control of the HTTP server (see httpd_admit.h for what it owns and its locking).
 *
 * Invariants (all under a->mu):
 *   - a record is on a->waiting iff hc->waiting; the list is in wait_ms order (the clock is
 *     monotonic and every insertion is at the tail with "now" read under the lock);
 *   - a->nlive and ip->n count the records not evicted; ip->refs counts every record pointing
 *     at ip, which is freed when it drops to 0;
 *   - an evicted record is never on the list again: its socket is shut down and MHD closes it
 *     (CLOSED notification) soon after. The fd cannot have been reused meanwhile: MHD notifies
 *     CLOSED (httpd_admit_closed takes a->mu) before it closes the fd. */
#include "common/httpd_admit.h"

#include "common/log.h"
#include "common/clock.h"
#include "common/xalloc.h"

#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define HTTPD_ADMIT_IP_BUCKETS 256
#define HTTPD_FD_RESERVE 256 /* descriptors left for the rest of the process */

/* "Waiting" = no complete request header yet: just connected, or kept alive after a reply.
 * Only waiting connections are evicted or hit the header deadline; a connection inside a
 * request (body upload, handler, parked long-poll) never is. */
struct httpd_admit_conn {
    struct httpd_admit *a;
    struct httpd_admit_conn *wnext, *wprev; /* a->waiting, oldest wait_ms first */
    struct httpd_admit_ip *ip;
    int fd;
    int64_t wait_ms; /* when it started waiting (valid while waiting) */
    bool waiting;
    bool evicted; /* shut down by us; no longer counted in nlive / ip->n */
};

/* Connections of one client address (family byte + 16 address bytes). */
typedef struct httpd_admit_ip {
    struct httpd_admit_ip *next; /* hash chain */
    uint8_t key[17];
    unsigned n;    /* live (not evicted) connections */
    unsigned refs; /* records pointing here; freed at 0 */
} httpd_admit_ip;

struct httpd_admit {
    void *owner;
    pthread_mutex_t mu;
    unsigned conn_limit, per_ip_limit;
    int64_t header_ms;
    unsigned nlive;                    /* connections not evicted */
    httpd_admit_conn *waiting, *wtail; /* waiting for a request header, oldest first */
    httpd_admit_ip *ips[HTTPD_ADMIT_IP_BUCKETS];
    httpd_stats st, st_logged; /* counters; st_logged = as of the last summary */
    int64_t next_log_ms;
    _Atomic uint64_t mhd_refused; /* refused by MHD's own limit (into st.refused) */
};

httpd_admit *httpd_admit_new(unsigned conn_limit, unsigned per_ip_limit, int64_t header_ms,
                             void *owner)
{
    httpd_admit *a = sl_xcalloc(1, sizeof *a);
    a->owner = owner;
    pthread_mutex_init(&a->mu, NULL);
    a->conn_limit = conn_limit;
    a->per_ip_limit = per_ip_limit;
    a->header_ms = header_ms;
    return a;
}

void httpd_admit_free(httpd_admit *a)
{
    if (!a) return;
    for (size_t i = 0; i < HTTPD_ADMIT_IP_BUCKETS; i++) /* empty once every record closed */
        for (httpd_admit_ip *ip = a->ips[i], *nx; ip; ip = nx) {
            nx = ip->next;
            free(ip);
        }
    pthread_mutex_destroy(&a->mu);
    free(a);
}

/* Each connection is a descriptor: raise the soft RLIMIT_NOFILE (up to the hard one) so that
 * `limit` connections fit beside the process's other files (Kafka, ZooKeeper, segments:
 * HTTPD_FD_RESERVE), or lower the limit to what fits. */
unsigned httpd_admit_fit_fd_limit(unsigned limit)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return limit;
    /* MHD may hold up to a quarter more (sockets being closed), see httpd_start. */
    rlim_t need = (rlim_t)limit + limit / 4 + HTTPD_FD_RESERVE;
    if (rl.rlim_cur >= need) return limit;
    rlim_t want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? need : rl.rlim_max;
    if (want > rl.rlim_cur) {
        struct rlimit nl = {.rlim_cur = want, .rlim_max = rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &nl) == 0) {
            SL_INFO("httpd", "raised the open-file limit from %llu to %llu",
                    (unsigned long long)rl.rlim_cur, (unsigned long long)want);
            rl.rlim_cur = want;
        }
    }
    if (rl.rlim_cur >= need) return limit;
    unsigned fit = rl.rlim_cur > 2 * HTTPD_FD_RESERVE
                       ? (unsigned)((rl.rlim_cur - HTTPD_FD_RESERVE) * 4 / 5)
                       : (unsigned)(rl.rlim_cur / 4 + 1);
    SL_WARN("httpd",
            "open-file limit %llu is too low for max_connections=%u; serving at most %u "
            "(raise ulimit -n)",
            (unsigned long long)rl.rlim_cur, limit, fit);
    return fit;
}

/* ---- the address table ---- */

/* Client address as a hash key; IPv4-mapped IPv6 counts as the IPv4 address. */
static bool httpd_admit__ip_key(const struct sockaddr *sa, uint8_t key[17])
{
    memset(key, 0, 17);
    if (!sa) return false;
    if (sa->sa_family == AF_INET) {
        key[0] = 4;
        memcpy(key + 1, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a6)) {
            key[0] = 4;
            memcpy(key + 1, a6->s6_addr + 12, 4);
        } else {
            key[0] = 6;
            memcpy(key + 1, a6->s6_addr, 16);
        }
        return true;
    }
    return false; /* not IP: shares the all-zero key */
}

static httpd_admit_ip **httpd_admit__ip_slot(httpd_admit *a, const uint8_t key[17])
{
    uint32_t x = 2166136261u; /* FNV-1a */
    for (int i = 0; i < 17; i++)
        x = (x ^ key[i]) * 16777619u;
    httpd_admit_ip **pp = &a->ips[x % HTTPD_ADMIT_IP_BUCKETS];
    while (*pp && memcmp((*pp)->key, key, 17) != 0)
        pp = &(*pp)->next;
    return pp;
}

/* @locks a->mu */
static void httpd_admit__ip_unref(httpd_admit *a, httpd_admit_ip *ip)
{
    if (--ip->refs) return;
    httpd_admit_ip **pp = httpd_admit__ip_slot(a, ip->key);
    *pp = ip->next;
    free(ip);
}

/* ---- the waiting list ---- */

/* The connection starts waiting for a request header now (at the tail; now is read under
 * a->mu, which keeps the list in deadline order). Returns true when it is the only waiting
 * one, i.e. its deadline is the earliest. @locks a->mu */
static bool httpd_admit__wait_start(httpd_admit *a, httpd_admit_conn *hc, int64_t now)
{
    if (hc->waiting || hc->evicted) return false;
    hc->waiting = true;
    hc->wait_ms = now;
    hc->wnext = NULL;
    hc->wprev = a->wtail;
    if (a->wtail)
        a->wtail->wnext = hc;
    else
        a->waiting = hc;
    a->wtail = hc;
    return a->waiting == hc;
}

/* @locks a->mu */
static void httpd_admit__wait_end(httpd_admit *a, httpd_admit_conn *hc)
{
    if (!hc->waiting) return;
    if (hc->wprev)
        hc->wprev->wnext = hc->wnext;
    else
        a->waiting = hc->wnext;
    if (hc->wnext)
        hc->wnext->wprev = hc->wprev;
    else
        a->wtail = hc->wprev;
    hc->wnext = hc->wprev = NULL;
    hc->waiting = false;
}

/* Close a waiting connection from any thread. MHD gives no call for that, so the socket is
 * shut down: its worker sees EOF at its next poll and closes it as if the client had.
 * @locks a->mu */
static void httpd_admit__evict(httpd_admit *a, httpd_admit_conn *hc)
{
    httpd_admit__wait_end(a, hc);
    hc->evicted = true;
    hc->ip->n--;
    a->nlive--;
    if (hc->fd >= 0) shutdown(hc->fd, SHUT_RDWR);
}

/* The oldest waiting connection, of address ip when ip is not NULL. @locks a->mu */
static httpd_admit_conn *httpd_admit__oldest_waiting(httpd_admit *a, const httpd_admit_ip *ip)
{
    httpd_admit_conn *hc = a->waiting;
    while (hc && ip && hc->ip != ip)
        hc = hc->wnext;
    return hc;
}

/* ---- public ---- */

/* Two workers accepting at once may overshoot a limit by one each; MHD's hard limit (set
 * above ours, see httpd_start) absorbs that and the evicted sockets not yet closed. */
bool httpd_admit_accept(httpd_admit *a, const struct sockaddr *addr)
{
    uint8_t key[17];
    httpd_admit__ip_key(addr, key);
    pthread_mutex_lock(&a->mu);
    httpd_admit_ip *ip = *httpd_admit__ip_slot(a, key);
    httpd_admit_conn *v_ip = NULL, *v_all = NULL;
    bool ok = true;
    if (a->per_ip_limit && ip && ip->n >= a->per_ip_limit) {
        v_ip = httpd_admit__oldest_waiting(a, ip);
        ok = v_ip != NULL;
    }
    if (ok && a->nlive - (v_ip ? 1 : 0) >= a->conn_limit) {
        v_all = httpd_admit__oldest_waiting(a, NULL);
        if (v_all == v_ip) v_all = NULL;
        ok = v_all != NULL || v_ip != NULL;
    }
    if (ok) {
        if (v_ip) {
            httpd_admit__evict(a, v_ip);
            a->st.evicted++;
        }
        if (v_all) {
            httpd_admit__evict(a, v_all);
            a->st.evicted++;
        }
    } else {
        a->st.refused++;
    }
    pthread_mutex_unlock(&a->mu);
    return ok;
}

httpd_admit_conn *httpd_admit_opened(httpd_admit *a, int fd, const struct sockaddr *addr,
                                     bool *kick)
{
    httpd_admit_conn *hc = sl_xcalloc(1, sizeof *hc);
    hc->a = a;
    hc->fd = fd;
    uint8_t key[17];
    httpd_admit__ip_key(addr, key);
    pthread_mutex_lock(&a->mu);
    httpd_admit_ip **pp = httpd_admit__ip_slot(a, key);
    if (!*pp) {
        *pp = sl_xcalloc(1, sizeof **pp);
        memcpy((*pp)->key, key, 17);
    }
    hc->ip = *pp;
    hc->ip->refs++;
    hc->ip->n++;
    a->nlive++;
    *kick = httpd_admit__wait_start(a, hc, sl_clock_mono_ms());
    pthread_mutex_unlock(&a->mu);
    return hc;
}

void *httpd_admit_conn_owner(const httpd_admit_conn *hc)
{
    return hc->a->owner;
}

void httpd_admit_closed(httpd_admit *a, httpd_admit_conn *hc)
{
    pthread_mutex_lock(&a->mu);
    httpd_admit__wait_end(a, hc);
    if (!hc->evicted) {
        hc->ip->n--;
        a->nlive--;
    }
    httpd_admit__ip_unref(a, hc->ip);
    pthread_mutex_unlock(&a->mu);
    free(hc);
}

void httpd_admit_wait_end(httpd_admit *a, httpd_admit_conn *hc)
{
    pthread_mutex_lock(&a->mu);
    httpd_admit__wait_end(a, hc);
    pthread_mutex_unlock(&a->mu);
}

bool httpd_admit_wait_start(httpd_admit *a, httpd_admit_conn *hc)
{
    pthread_mutex_lock(&a->mu);
    bool kick = httpd_admit__wait_start(a, hc, sl_clock_mono_ms());
    pthread_mutex_unlock(&a->mu);
    return kick;
}

/* At most one summary line per 10 s while connections are being refused or closed for the
 * limits, instead of one line per connection (a flood would flood the log). @locks a->mu */
static void httpd_admit__log_pressure(httpd_admit *a, int64_t now)
{
    if (now < a->next_log_ms) return;
    a->next_log_ms = now + 10000;
    a->st.refused += atomic_exchange(&a->mhd_refused, 0);
    httpd_stats d = {
        .header_timeouts = a->st.header_timeouts - a->st_logged.header_timeouts,
        .evicted = a->st.evicted - a->st_logged.evicted,
        .refused = a->st.refused - a->st_logged.refused,
    };
    if (!d.header_timeouts && !d.evicted && !d.refused) return;
    a->st_logged = a->st;
    SL_WARN("httpd",
            "connections closed or refused in the last 10s: header_timeout=%" PRIu64
            " evicted=%" PRIu64 " refused=%" PRIu64 " open=%u limit=%u per_ip_limit=%u",
            d.header_timeouts, d.evicted, d.refused, a->nlive, a->conn_limit, a->per_ip_limit);
}

int64_t httpd_admit_tick(httpd_admit *a, int64_t now_ms)
{
    pthread_mutex_lock(&a->mu);
    while (a->waiting && a->waiting->wait_ms + a->header_ms <= now_ms) {
        httpd_admit__evict(a, a->waiting);
        a->st.header_timeouts++;
    }
    int64_t next = a->waiting ? a->waiting->wait_ms + a->header_ms : INT64_MAX;
    httpd_admit__log_pressure(a, now_ms);
    pthread_mutex_unlock(&a->mu);
    return next;
}

void httpd_admit_refused_by_mhd(httpd_admit *a)
{
    atomic_fetch_add(&a->mhd_refused, 1);
}

void httpd_admit_stats(httpd_admit *a, httpd_stats *out)
{
    pthread_mutex_lock(&a->mu);
    a->st.refused += atomic_exchange(&a->mhd_refused, 0);
    *out = a->st;
    out->connections = a->nlive;
    pthread_mutex_unlock(&a->mu);
}
