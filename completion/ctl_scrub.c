/* The store scrub (issue 10 item 2; the sidecar's own is engine.c "the scrub"): while this
 * controller leads, every scrub_interval_ms one thread re-verifies each committed file of the
 * segment store against its segment's ZooKeeper record, reading at most scrub_rate bytes a
 * second, and heals what it finds bad.
 *
 * For a DONE or UPLOADED (pushed) record the store's file is bad when it fails the full check
 * (seg_reader_open, as an upload does), has another CRC than the record, or is missing although the
 * record points at this store (ctl__scrub_ours). A bad file is counted, logged once, moved to
 * <table>/quarantine/ (segstore_quarantine: evidence, never deleted) and replaced from a
 * sidecar the assignment lists for the segment: downloaded into a store upload
 * (segfetch_get_fd), refused unless it verifies with the committed CRC, and published by the
 * commit's own path (segstore_upload_finish, segstore_promote: a no-replace link, then the
 * directory fsync). When no sidecar has a good copy the name stays empty; the next pass counts
 * it again and retries.
 *
 * A module and a thread of its own rather than part of ctl_repair.c on the ticker: a repair
 * round is a few ZooKeeper reads and conditional writes, while a scrub pass reads every byte of
 * the store at a bounded rate (hours for a large store) and downloads from peers, which
 * neither the ticker (deadlines every 100 ms) nor the workers (parked requests) may wait for.
 *
 * Threads: the scrubber owns its httpc and its pass. It holds zk_lock for reading around each
 * ZooKeeper call only, so the ticker can replace an expired session mid-pass. Every wait (the
 * interval, the rate's pauses) ends at once on ctl_shutdown (scrub_cv), and a download within
 * a second (httpc_set_cancel on c->quit). Only the leader scrubs, so a shared store is not
 * healed by every controller; two that briefly both lead are harmless (a quarantine moves only
 * the file that was checked, a promote of the same CRC is idempotent). */
#include "completion/ctl_int.h"
#include "common/clock.h"
#include "common/httpc.h"
#include "common/sl_err.h"
#include "completion/segfetch.h"
#include "segment/seg_reader.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

bool ctl__scrub_ours(const segmeta *m, const char *advertise, bool shared)
{
    size_t n = strlen(advertise);
    if (shared && m->status != SEGMETA_UPLOADED) return true; /* every commit lands here */
    if (shared) { /* a pushed copy is the store's unless a METADATA push left it at its URI */
        char tail[SL_IDENT_MAX + SL_SEGNAME_MAX + 16];
        int t = snprintf(tail, sizeof tail, "/segments/%s/%s", m->table, m->segment);
        size_t u = strlen(m->download_url);
        return t > 0 && (size_t)t < sizeof tail && u > (size_t)t &&
               strcmp(m->download_url + u - (size_t)t, tail) == 0 &&
               strncasecmp(m->download_url, "http", 4) == 0;
    }
    return n && strncmp(m->download_url, advertise, n) == 0 && m->download_url[n] == '/';
}

ctl_scrub_verdict ctl__scrub_verdict(const segmeta *m, bool ours, int vrc, const char *vmsg,
                                     uint32_t crc, char *why, size_t cap)
{
    if (vrc == SL_ENOENT) {
        if (!ours) return CTL_SCRUB_ABSENT;
        snprintf(why, cap, "missing");
    } else if (vrc) {
        snprintf(why, cap, "fails verification (%s): %s", sluice_strerror(vrc), vmsg);
    } else if (crc != m->crc) {
        snprintf(why, cap, "crc %" PRIu32 " where %" PRIu32 " was committed", crc, m->crc);
    } else {
        return CTL_SCRUB_GOOD;
    }
    return CTL_SCRUB_BAD;
}

/* Wait up to ms (0: not at all) unless stopping; true when the controller stops. */
static bool ctl__scrub_wait(ctl *c, uint64_t ms)
{
    pthread_mutex_lock(&c->scrub_mu);
    struct timespec ts = sl_clock_ts((int64_t)(sl_clock_wall_ms() + ms));
    while (ms && !atomic_load(&c->quit) &&
           pthread_cond_timedwait(&c->scrub_cv, &c->scrub_mu, &ts) == 0) {
    }
    pthread_mutex_unlock(&c->scrub_mu);
    return atomic_load(&c->quit);
}

/* Download url into the store as m's committed file: published only with the committed CRC.
 * Returns 0 or the error with its reason in why. */
static int ctl__scrub_fetch(ctl *c, httpc *h, const char *table, const segmeta *m, const char *url,
                            char *why, size_t cap)
{
    segstore_upload *u;
    char err[512];
    int rc = segstore_upload_begin(c->store, table, m->segment, &u, err, sizeof err);
    if (rc == 0) {
        segstore_upload_expect_crc(u, m->crc);
        rc = segfetch_get_fd(h, url, segstore_upload_fd(u), err, sizeof err);
        if (rc)
            segstore_upload_abort(u);
        else /* frees u */
            rc = segstore_upload_finish(u, NULL, NULL, err, sizeof err);
    }
    if (rc == 0)
        rc = segstore_promote(c->store, table, m->segment, m->crc, NULL, 0, err, sizeof err);
    if (sl_err_is_disk(rc))
        diskstate_fail(c->disk, "scrub", m->segment, rc, err, sl_clock_wall_ms());
    else if (rc == 0)
        diskstate_ok(c->disk, "scrub", sl_clock_wall_ms());
    if (rc) snprintf(why, cap, "%.400s: %.500s", url, err);
    return rc;
}

/* Replace m's committed file from the sidecars the assignment lists for it, the first good
 * copy winning. Returns 0 with *from (cap bytes) its URL, or the last error with its reason in
 * why. */
static int ctl__scrub_restore(ctl *c, httpc *h, const char *table, const segmeta *m, char *from,
                              size_t cap, char *why, size_t whylen)
{
    assign a;
    char err[256];
    zk *z = ctl__zk(c);
    int rc = z ? cstore_assign_get(c->cs, z, table, &a, NULL, err, sizeof err) : SL_ESTATE;
    ctl__zk_done(c);
    if (rc) {
        snprintf(why, whylen, "assignment unreadable: %s", sluice_strerror(rc));
        return rc;
    }
    rc = SL_ENOENT;
    snprintf(why, whylen, "the assignment lists no replica of it");
    assign_seg *as = assign_find(&a, m->segment);
    for (uint32_t i = 0; as && rc && i < as->inst.n && !atomic_load(&c->quit); i++) {
        char base[300];
        z = ctl__zk(c);
        rc = z ? cstore_instance_url(c->cs, z, as->inst.id[i], base, sizeof base) : SL_ESTATE;
        ctl__zk_done(c);
        if (rc) {
            snprintf(why, whylen, "%s: not registered (%s)", as->inst.id[i], sluice_strerror(rc));
            continue;
        }
        snprintf(from, cap, "%s/segments/%s/%s", base, table, m->segment);
        rc = ctl__scrub_fetch(c, h, table, m, from, why, whylen);
    }
    assign_free(&a);
    return rc;
}

/* One DONE or UPLOADED segment: check the store's file against m and heal it when bad. Returns the
 * bytes read and written, for the rate. */
static uint64_t ctl__scrub_segment(ctl *c, httpc *h, const char *table, const segmeta *m)
{
    char path[PATH_MAX], msg[256] = "", why[512];
    if (segstore_path(c->store, table, m->segment, path, sizeof path)) return 0;
    struct stat st;
    int vrc = 0;
    uint32_t crc = 0;
    uint64_t bytes = 0;
    bool present = stat(path, &st) == 0;
    if (!present) {
        vrc = errno == ENOENT ? SL_ENOENT : SL_EIO;
        snprintf(msg, sizeof msg, "%s", strerror(errno));
    } else {
        bytes = (uint64_t)st.st_size;
        seg_reader *r = seg_reader_open(path, &vrc, msg, sizeof msg);
        if (r) {
            crc = seg_reader_crc(r);
            seg_reader_close(r);
            vrc = 0;
        } else if (!vrc) {
            vrc = SL_ECORRUPT;
        }
    }
    ctl_scrub_verdict v = ctl__scrub_verdict(m, ctl__scrub_ours(m, c->advertise, c->o.store_shared),
                                             vrc, msg, crc, why, sizeof why);
    if (v == CTL_SCRUB_ABSENT) return 0;
    const char *tl[] = {table};
    metrics_counter_add(metrics_counter_with(c->m_scrubbed, tl), 1);
    if (v == CTL_SCRUB_GOOD) return bytes;
    metrics_counter_add(metrics_counter_with(c->m_scrub_corrupt, tl), 1);
    char moved[PATH_MAX] = "-", err[512], from[1024], fail[1024];
    if (vrc != SL_ENOENT) {
        int qrc = segstore_quarantine(c->store, table, m->segment, present ? &st : NULL, moved,
                                      sizeof moved, err, sizeof err);
        if (qrc == SL_ECONFLICT) { /* another leader healed it meanwhile: the next pass checks */
            SL_WARN("controller", "store file bad table=%s segment=%s reason=\"%s\": %s", table,
                    m->segment, why, err);
            return bytes;
        }
        if (qrc && qrc != SL_ENOENT) { /* the name is still taken: no copy can be promoted */
            SL_ERROR("controller",
                     "store file bad table=%s partition=%d segment=%s reason=\"%s\": cannot "
                     "quarantine it: %s",
                     table, m->partition, m->segment, why, err);
            return bytes;
        }
    }
    if (ctl__scrub_restore(c, h, table, m, from, sizeof from, fail, sizeof fail) == 0) {
        SL_ERROR("controller",
                 "store file bad table=%s partition=%d segment=%s reason=\"%s\" moved_to=%s "
                 "restored_from=%s crc=%" PRIu32,
                 table, m->partition, m->segment, why, moved, from, m->crc);
        return bytes + (uint64_t)m->size_bytes;
    }
    SL_ERROR("controller",
             "store file bad table=%s partition=%d segment=%s reason=\"%s\" moved_to=%s "
             "restored=no why=\"%s\": retried next pass",
             table, m->partition, m->segment, why, moved, fail);
    return bytes;
}

/* One pass over every DONE or UPLOADED segment of every table, while this controller leads; false
 * when the controller stops. */
static bool ctl__scrub_pass(ctl *c, httpc *h)
{
    char **tables = NULL;
    size_t nt = 0;
    zk *z = ctl__zk(c);
    if (z) cstore_tables(c->cs, z, &tables, &nt);
    ctl__zk_done(c);
    uint64_t files = 0, bytes = 0;
    bool stop = false;
    for (size_t i = 0; i < nt && !stop && ctl__leads(c); i++) {
        char **names = NULL;
        size_t n = 0;
        z = ctl__zk(c);
        if (z) cstore_segments(c->cs, z, tables[i], &names, &n);
        ctl__zk_done(c);
        for (size_t k = 0; k < n && !stop && ctl__leads(c); k++) {
            segmeta m;
            char err[256];
            z = ctl__zk(c);
            int rc = z ? ctl__read_meta(c, z, tables[i], names[k], &m, NULL, err, sizeof err)
                       : SL_ESTATE;
            ctl__zk_done(c);
            /* committed or pushed (a METADATA push's URI is not ours: skipped below) */
            if (rc || (m.status != SEGMETA_DONE && m.status != SEGMETA_UPLOADED))
                continue; /* unreadable: repair's */
            uint64_t b = ctl__scrub_segment(c, h, tables[i], &m);
            files++;
            bytes += b;
            /* the I/O budget: b bytes are followed by b / rate seconds */
            stop = ctl__scrub_wait(c, c->o.scrub_rate ? b * 1000u / c->o.scrub_rate : 0);
        }
        zk_free_strings(names, n);
    }
    zk_free_strings(tables, nt);
    SL_DEBUG("controller", "store scrub pass files=%" PRIu64 " bytes=%" PRIu64, files, bytes);
    return !stop;
}

static void *ctl__scrub_main(void *arg)
{
    ctl *c = arg;
    httpc *h = httpc_new();
    httpc_set_cancel(h, &c->quit);
    httpc_set_bearer(h, c->o.token); /* its downloads are from sidecars */
    httpc_set_tls(h, c->o.tls_ca_file, c->o.tls_cert_file, c->o.tls_key_file);
    while (!ctl__scrub_wait(c, c->o.scrub_interval_ms))
        if (ctl__leads(c) && !ctl__scrub_pass(c, h)) break;
    httpc_free(h);
    return NULL;
}

int ctl__scrub_start(ctl *c, char *err, size_t errlen)
{
    if (!c->o.scrub_interval_ms) return 0;
    static const char *const tl[] = {"table"};
    c->m_scrubbed = metrics_family_new(c->o.metrics, METRICS_COUNTER, "sluice_store_scrubbed_total",
                                       "Committed files of the segment store re-verified by the "
                                       "leader's scrub",
                                       tl, 1);
    c->m_scrub_corrupt = metrics_family_new(
        c->o.metrics, METRICS_COUNTER, "sluice_store_corrupt_total",
        "Committed files of the segment store the scrub found bad or missing (quarantined, then "
        "downloaded again from a sidecar)",
        tl, 1);
    int prc = pthread_create(&c->scrubber, NULL, ctl__scrub_main, c);
    if (prc)
        return sl_fail(err, errlen, SL_EIO, "cannot start the store scrub thread: %s",
                       strerror(prc));
    c->scrubbing = true;
    return 0;
}

void ctl__scrub_stop(ctl *c)
{
    if (!c->scrubbing) return;
    pthread_mutex_lock(&c->scrub_mu);
    pthread_cond_broadcast(&c->scrub_cv);
    pthread_mutex_unlock(&c->scrub_mu);
    pthread_join(c->scrubber, NULL);
    c->scrubbing = false;
}
