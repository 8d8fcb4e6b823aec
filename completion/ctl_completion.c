/* The completion manager (DESIGN §4, docs/protocol.md): the table of per-segment completion
 * state machines (completion/cfsm.h) on the leader, the checks every completion RPC passes
 * before its machine sees it, the RPC handler (with its long-poll), and the commit: one
 * version-conditioned ZooKeeper multi-op built by the cluster store. It owns the machines
 * and their pins (ctl_fsm.refs, under c->mu); the controller drops them all when leadership
 * is lost (ctl__drop_all_fsms) and ticks them (ctl__fsms_tick).
 *
 * Threads: the RPC handler runs on an HTTP thread and decides there only what needs nothing
 * but memory; the rest of a decision, and the commit, run on the controller's workers
 * (ctl_jobs.c) while the request is parked (see "HTTP: completion RPCs" below). A long-poll
 * waits on its segment's name, and a machine's change wakes that name only. */
#include "completion/ctl_int.h"
#include "common/sl_err.h"
#include "completion/rpc.h"
#include "consumer/flush.h"
#include "segment/seg_reader.h"
#include "common/xalloc.h"
#include "common/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- next segments ------------------------------------------------------------------ */

/* Metadata of segment seq+1 of prev's partition starting at `start`, thresholds learned
 * from prev when it was committed with rows/size. */
void ctl__next_meta(const ctl_table *t, const segmeta *prev, int64_t start, int64_t rows,
                    int64_t size, uint64_t now, segmeta *next)
{
    memset(next, 0, sizeof *next);
    snprintf(next->table, sizeof next->table, "%s", prev->table);
    next->partition = prev->partition;
    next->sequence = prev->sequence + 1;
    segname_format(next->segment, sizeof next->segment, prev->table, prev->partition,
                   next->sequence, (int64_t)now);
    next->status = SEGMETA_IN_PROGRESS;
    next->start_offset = start;
    next->end_offset = next->num_rows = -1;
    next->creation_time_ms = (int64_t)now;
    next->flush_time_ms = (int64_t)t->cfg->flush_time_ms;
    flush_tuner tu = {.target_bytes = t->cfg->flush_size_bytes,
                      .rows_per_byte = prev->rows_per_byte};
    if (rows > 0 && size > 0) flush_learn(&tu, (uint64_t)rows, (uint64_t)size);
    next->rows_per_byte = tu.rows_per_byte;
    next->flush_rows =
        t->cfg->flush_size_bytes ? (int64_t)flush_next_rows(&tu) : (int64_t)t->cfg->flush_rows;
}

/* ---- input checks -----------------------------------------------------------------------
 * Every completion RPC is checked against what the controller knows before its state machine
 * sees it, because any process that reaches the port can send one:
 *   - the instance must be one that the assignment lists for the segment;
 *   - the offset must lie in [the segment's start, the partition's high watermark]; Kafka is
 *     asked (at most once a second per segment) when a report goes beyond what it confirmed;
 *   - rows must lie in [0, offset - start]: a Kafka offset holds at most one row;
 *   - CommitEnd's file must say what the request says (ctl__check_upload).
 * A refused message gets FAILED with the reason and changes no state. */

/* A librdkafka handle for the table's brokers (consumer properties passed through, but not
 * group.id: these are metadata reads). NULL with the reason, naming the brokers, in err. */
rd_kafka_t *ctl__kafka_open(const tcfg *t, char *err, size_t errlen)
{
    kmeta_prop props[64];
    size_t np = 0;
    for (uint32_t i = 0; i < t->nprops && np < 64; i++)
        if (strcmp(t->props[i].key, "group.id") != 0)
            props[np++] = (kmeta_prop){t->props[i].key, t->props[i].value};
    char e[512];
    rd_kafka_t *rk = kmeta_open(t->broker_list, props, np, e, sizeof e);
    if (!rk) snprintf(err, errlen, "brokers %s: %s", t->broker_list, e);
    return rk;
}

/* High watermark of the table's partition. Returns 0, or SL_ETRANSIENT with the reason. */
static int ctl__high_watermark(ctl *c, const char *table, int32_t partition, int64_t *high,
                               char *why, size_t whylen)
{
    zk *z = ctl__zk(c);
    ctl_table *t = (ctl_table *)ctl__table(c, z, table);
    ctl__zk_done(c);
    if (!t) {
        return sl_fail(why, whylen, SL_ETRANSIENT, "table %s has no usable config", table);
    }
    pthread_mutex_lock(&t->rk_mu);
    if (!t->rk) t->rk = ctl__kafka_open(t->cfg, why, whylen);
    rd_kafka_t *rk = t->rk;
    pthread_mutex_unlock(&t->rk_mu);
    int64_t low;
    if (!rk || kmeta_watermarks(rk, t->cfg->topic, partition, CTL_HWM_TIMEOUT_MS, &low, high)) {
        if (rk)
            snprintf(why, whylen,
                     "Kafka (brokers %s) did not confirm partition %d's offsets; "
                     "retry",
                     t->cfg->broker_list, (int)partition);
        return SL_ETRANSIENT;
    }
    return 0;
}

static bool ctl__member_locked(const ctl_fsm *e, const char *id)
{
    for (uint32_t i = 0; i < e->members.n; i++)
        if (strcmp(e->members.id[i], id) == 0) return true;
    return false;
}

/* Called with mu held and e pinned; drops mu around ZooKeeper and Kafka calls. Returns 0 when
 * the message may reach the state machine, else an error with the reason in why; without
 * may_block, CTL__BLOCKS (having changed nothing) where it would call ZooKeeper or Kafka. */
static int ctl__check_msg(ctl *c, ctl_fsm *e, const char *table, rpc_method meth, const rpc_req *r,
                          uint64_t now, bool may_block, char *why, size_t whylen)
{
    if (!ctl__member_locked(e, r->instance)) { /* the assignment may have moved (repair) */
        if (!may_block) return CTL__BLOCKS;
        pthread_mutex_unlock(&c->mu);
        assign a;
        assign_list l = {0};
        zk *z = ctl__zk(c);
        bool got = ctl__get_assign(c, z, table, &a, NULL) == 0;
        ctl__zk_done(c);
        if (got) {
            assign_seg *as = assign_find(&a, e->segment);
            if (as) assign_seg_list(as, &l);
            assign_free(&a);
        }
        pthread_mutex_lock(&c->mu);
        if (got) e->members = l;
        if (!ctl__member_locked(e, r->instance)) {
            return sl_fail(why, whylen, SL_EINVAL, "instance %s is not a replica of segment %s",
                           r->instance, e->segment);
        }
    }
    if (r->offset < e->start_offset) {
        return sl_fail(why, whylen, SL_EINVAL,
                       "offset %" PRId64 " is before the segment's start %" PRId64, r->offset,
                       e->start_offset);
    }
    if ((meth == RPC_SEGMENT_CONSUMED || meth == RPC_COMMIT_END) &&
        (r->rows < 0 || r->rows > r->offset - e->start_offset)) {
        snprintf(why, whylen,
                 "%" PRId64 " rows cannot come from offsets [%" PRId64 ", %" PRId64 ")", r->rows,
                 e->start_offset, r->offset);
        return SL_EINVAL;
    }
    if (r->offset <= e->known_high) return 0;
    if (now < e->high_asked_ms + CTL_HWM_MIN_GAP_MS) {
        snprintf(why, whylen,
                 "offset %" PRId64 " is beyond what Kafka confirmed (%" PRId64 "); retry",
                 r->offset, e->known_high);
        return SL_ETRANSIENT;
    }
    if (!may_block) return CTL__BLOCKS;
    e->high_asked_ms = now;
    pthread_mutex_unlock(&c->mu);
    int64_t high = -1;
    int rc = ctl__high_watermark(c, table, e->partition, &high, why, whylen);
    pthread_mutex_lock(&c->mu);
    if (rc) return rc;
    if (high > e->known_high) e->known_high = high;
    if (r->offset > e->known_high) {
        return sl_fail(why, whylen, SL_EINVAL,
                       "offset %" PRId64 " is beyond partition %d's high watermark %" PRId64,
                       r->offset, (int)e->partition, e->known_high);
    }
    return 0;
}

/* The file open at fd must be the segment the request describes: its own name, table,
 * partition, sequence and offsets, and the request's rows, size and CRC. It reads that very
 * file (mapped through fd), whatever happens to the names in the store meanwhile. */
static int ctl__check_file(int fd, const char *table, const rpc_req *r, const segmeta *m, char *why,
                           size_t whylen)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        return sl_fail(why, whylen, SL_EIO, "uploaded file unreadable: not a regular file");
    }
    size_t len = (size_t)st.st_size;
    void *map = len ? mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
    if (map == MAP_FAILED) {
        return sl_fail(why, whylen, SL_EIO, "uploaded file unreadable: mmap: %s", strerror(errno));
    }
    char err[256];
    int rc = 0;
    seg_reader *rd = seg_reader_open_mem(map, len, &rc, err, sizeof err);
    if (!rd) {
        if (map) munmap(map, len);
        snprintf(why, whylen, "uploaded file unreadable: %s", err);
        return rc ? rc : SL_EIO;
    }
    const char *what = NULL;
    if (strcmp(seg_reader_name(rd), r->segment) || strcmp(seg_reader_table(rd), table))
        what = "name or table";
    else if (seg_reader_partition(rd) != m->partition || seg_reader_sequence(rd) != m->sequence)
        what = "partition or sequence";
    else if (seg_reader_start_offset(rd) != m->start_offset)
        what = "start offset";
    else if (seg_reader_end_offset(rd) != r->offset)
        what = "end offset";
    else if (seg_reader_rows(rd) != (uint64_t)r->rows)
        what = "row count";
    else if (seg_reader_size(rd) != (uint64_t)r->size_bytes)
        what = "size";
    else if (seg_reader_crc(rd) != r->crc)
        what = "crc";
    if (what)
        snprintf(why, whylen,
                 "uploaded file's %s differs from the CommitEnd (file: rows=%" PRIu64
                 " offsets [%" PRId64 ", %" PRId64 ") crc=%" PRIu32 ")",
                 what, seg_reader_rows(rd), seg_reader_start_offset(rd), seg_reader_end_offset(rd),
                 seg_reader_crc(rd));
    seg_reader_close(rd);
    if (map) munmap(map, len);
    return what ? SL_EINVAL : 0;
}

/* Check the upload a CommitEnd names, then make it the committed file. The check comes first:
 * a file that fails it is never published under the committed name, not even for the moment
 * a check after the promote would take (downloads serve that name, and a committed name is
 * never replaced by another CRC, so a bad file left there by a leader that lost its
 * leadership before the undo would block the segment). What is checked is the pending copy
 * with the request's CRC, or the committed file with it when an earlier attempt promoted it
 * and was not undone, read through a descriptor held across the promote; the committed name
 * must then be that same file (an upload that replaced the pending copy in between, same CRC
 * and other bytes, is not committed unchecked). The pending copy's name is segstore.h's
 * layout. *promoted is set once the promote succeeded (the caller undoes it on a later
 * failure). Returns 0 or an error with the reason in why. */
int ctl__promote_checked(ctl *c, const char *table, const rpc_req *r, const segmeta *m,
                         bool *promoted, char *why, size_t whylen)
{
    *promoted = false;
    char cpath[PATH_MAX], ppath[PATH_MAX + 32], loc[512], err[256];
    if (segstore_path(c->store, table, r->segment, cpath, sizeof cpath) != 0) {
        return sl_fail(why, whylen, SL_EINVAL, "no path for the uploaded file");
    }
    snprintf(ppath, sizeof ppath, "%s.pending.%08x", cpath, (unsigned)r->crc);
    int fd = open(ppath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT) fd = open(cpath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT) { /* as segstore_promote says it */
            snprintf(why, whylen,
                     "uploaded file not accepted: segment %s: no verified upload with crc %08x",
                     r->segment, (unsigned)r->crc);
            return SL_ENOENT;
        }
        return sl_fail(why, whylen, SL_EIO, "uploaded file unreadable: %s: %s", ppath,
                       strerror(errno));
    }
    int rc = ctl__check_file(fd, table, r, m, why, whylen);
    if (rc) goto out;
    rc = segstore_promote(c->store, table, r->segment, r->crc, loc, sizeof loc, err, sizeof err);
    if (rc) {
        snprintf(why, whylen, "uploaded file not accepted: %s", err);
        goto out;
    }
    *promoted = true;
    struct stat checked, committed;
    if (fstat(fd, &checked) != 0 || stat(cpath, &committed) != 0 ||
        checked.st_dev != committed.st_dev || checked.st_ino != committed.st_ino) {
        snprintf(why, whylen,
                 "the uploaded file was replaced while it was committed; upload it "
                 "again");
        rc = SL_ECONFLICT;
    }
out:
    close(fd);
    return rc;
}

/* ---- the commit ---------------------------------------------------------------------- */

/* The first read of a commit or fix round: the table's config (*t, once) and the segment's
 * record at its version. 0, or an error with the reason in why. */
static int ctl__commit_read(ctl *c, zk *z, const char *table, const char *segment,
                            const ctl_table **t, segmeta *m, int32_t *vm, char *why, size_t whylen)
{
    if (!*t && !(*t = ctl__table(c, z, table)))
        return sl_fail(why, whylen, SL_ENOENT, "table %s has no usable config", table);
    int rc = ctl__get_meta(c, z, table, segment, m, vm);
    if (rc) snprintf(why, whylen, "segment metadata unreadable: %s", sluice_strerror(rc));
    return rc;
}

/* Whether a commit or fix multi-op that failed with rc at op `failed` goes for another round
 * (sleeping first when ZooKeeper was unreachable): ZooKeeper unreachable (the next round reads
 * whether it happened), the assignment or N's record changed under it (re-read them: a
 * concurrent attempt of the same step is then found done), or N+1 left by a first attempt
 * whose outcome was unknown. */
static bool ctl__multi_again(int rc, int failed, int attempt)
{
    sl_err_action act = sl_err_action_of(rc);
    bool again = act == SL_ACT_RETRY ||
                 (act == SL_ACT_REFRESH &&
                  (failed == CSTORE_OP_ASSIGNMENT || failed == CSTORE_OP_SEGMENT)) ||
                 (rc == SL_EEXIST && failed == CSTORE_OP_NEXT && attempt == 0);
    if (again && act == SL_ACT_RETRY) sl_clock_sleep_ms(200);
    return again;
}

/* Whether the assignment holds segment m's successor (sequence + 1 of its partition). */
static bool ctl__has_successor(const assign *a, const segmeta *m)
{
    for (size_t i = 0; i < a->nseg; i++) {
        segname sn;
        if (segname_parse(a->seg[i].segment, &sn) == 0 && sn.partition == m->partition &&
            sn.sequence == m->sequence + 1)
            return true;
    }
    return false;
}

static void ctl__fault(ctl *c, ctl_fault at)
{
    if (c->o.fault != at) return;
    if (at == CTL_FAULT_STALL_BEFORE_MULTI) {
        SL_WARN("controller", "test fault: stalling %" PRIu64 " ms before the commit multi-op",
                c->o.fault_stall_ms);
        sl_clock_sleep_ms((int64_t)c->o.fault_stall_ms);
        return;
    }
    SL_WARN("controller", "test fault: exiting at %s",
            at == CTL_FAULT_CRASH_BEFORE_MULTI ? "crash_before_multi" : "crash_after_multi");
    _exit(86);
}

/* test.commit.twice, a broken build on purpose: a second write of the DONE record `done`
 * (version `version`: the multi-op's), the same record one millisecond later, as a second
 * commit of a DONE segment would leave it. */
static void ctl__commit_again(ctl *c, zk *z, const char *table, segmeta *done, int32_t version)
{
    done->commit_time_ms++;
    int rc = cstore_segment_set(c->cs, z, table, done->segment, done, version);
    SL_WARN("controller", "test knob: DONE record written a second time segment=%s rc=%s",
            done->segment, sluice_strerror(rc));
}

/* Verify the upload, promote it and commit in ZooKeeper with one multi-op. replayed: a
 * segment `sluice replay` built for a bootstrapping table (ctl__commit_replayed). Returns 0
 * or an error with the reason in why. */
static int ctl__commit(ctl *c, const char *table, const rpc_req *r, bool replayed, char *why,
                       size_t whylen)
{
    char loc[512], err[256];
    char url[sizeof(((segmeta *)0)->download_url)];
    if (snprintf(url, sizeof url, "%s/segments/%s/%s", c->advertise, table, r->segment) >=
        (int)sizeof url) {
        return sl_fail(why, whylen, SL_EINVAL, "download URL too long");
    }
    zk *z = ctl__zk(c);
    const ctl_table *t = NULL;
    bool promoted = false;
    int rc = SL_ENOENT;
    for (int attempt = 0; attempt < CTL_COMMIT_RETRIES; attempt++) {
        segmeta m, next;
        int32_t vm, va;
        assign a;
        if ((rc = ctl__commit_read(c, z, table, r->segment, &t, &m, &vm, why, whylen))) goto out;
        if (segmeta_committed(&m)) { /* a retry after an unknown outcome */
            if (!promoted) {         /* committed: its file was checked and promoted then */
                rc = segstore_promote(c->store, table, r->segment, r->crc, loc, sizeof loc, err,
                                      sizeof err);
                if (rc) {
                    snprintf(why, whylen, "uploaded file not accepted: %s", err);
                    goto out;
                }
                promoted = true;
            }
            rc = m.crc == r->crc && m.end_offset == r->offset ? 0 : SL_ECONFLICT;
            if (rc) snprintf(why, whylen, "segment already %s", segmeta_status_name(m.status));
            goto out;
        }
        /* pauseless: N was COMMITTING since the decision, and N+1 exists (DESIGN §9) */
        bool fixed = m.status == SEGMETA_COMMITTING;
        if (fixed && m.end_offset != r->offset) {
            snprintf(why, whylen, "offset %" PRId64 " differs from the fixed end offset %" PRId64,
                     r->offset, m.end_offset);
            rc = SL_ECONFLICT;
            goto out;
        }
        if (!promoted && (rc = ctl__promote_checked(c, table, r, &m, &promoted, why, whylen)))
            goto out;
        if ((rc = ctl__get_assign(c, z, table, &a, &va))) {
            snprintf(why, whylen, "assignment unreadable: %s", sluice_strerror(rc));
            goto out;
        }
        if (replayed && !a.bootstrap_ms) {
            assign_free(&a);
            snprintf(why, whylen, "table %s is not bootstrapping (it was resumed)", table);
            rc = SL_ESTATE;
            goto out;
        }
        uint64_t now = sl_clock_wall_ms();
        /* a bootstrap's segments all carry its minute, so the replay knows every name */
        ctl__next_meta(t, &m, r->offset, r->rows, r->size_bytes,
                       replayed ? (uint64_t)m.creation_time_ms : now, &next);
        m.status = SEGMETA_DONE;
        m.end_offset = r->offset;
        m.num_rows = r->rows;
        m.crc = r->crc;
        m.size_bytes = r->size_bytes;
        memcpy(m.download_url, url, sizeof url);
        snprintf(m.committer, sizeof m.committer, "%s", r->instance);
        m.commit_time_ms = (int64_t)now;
        if (fixed) m.commit_version = vm + 1; /* what this set makes it: audit I4 */
        assign_seg *as = assign_find(&a, r->segment);
        if (as)
            for (uint32_t i = 0; i < as->inst.n; i++)
                if (as->state[i] == ASSIGN_CONSUMING) as->state[i] = ASSIGN_ONLINE;
        if (replayed && !as && (uint32_t)m.partition < a.npart) /* the replicas download it */
            assign_add(&a, r->segment, &a.part[m.partition], ASSIGN_ONLINE);
        /* N+1 opens here unless the fix opened it, or the table is paused; a segment fixed
         * while paused and committed after a resume opens it now. A bootstrap's N+1 is
         * created unassigned: the resume that ends the bootstrap assigns it. */
        bool paused = a.paused_ms != 0;
        bool open = !paused && (!fixed || !ctl__has_successor(&a, &m));
        if (open && !replayed && (uint32_t)m.partition < a.npart && !assign_find(&a, next.segment))
            assign_add(&a, next.segment, &a.part[m.partition], ASSIGN_CONSUMING);
        assign_force_remove(&a, r->segment); /* a force commit's request is met */
        ctl__fault(c, CTL_FAULT_CRASH_BEFORE_MULTI);
        if (attempt == 0) ctl__fault(c, CTL_FAULT_STALL_BEFORE_MULTI); /* once per commit */
        int failed = -1;
        rc = cstore_commit(c->cs, z, table, &m, vm, open ? &next : NULL, &a, va, &failed);
        assign_free(&a);
        if (rc == 0) {
            ctl__fault(c, CTL_FAULT_CRASH_AFTER_MULTI);
            if (c->o.commit_twice) ctl__commit_again(c, z, table, &m, vm + 1);
            if (!open)
                SL_INFO("controller",
                        "committed segment=%s end=%" PRId64 " rows=%" PRId64 " crc=%" PRIu32
                        " committer=%s (%s)",
                        r->segment, r->offset, r->rows, r->crc, r->instance,
                        paused ? "paused: no successor"
                               : "pauseless: its successor was opened at the decision");
            else
                SL_INFO("controller",
                        "committed segment=%s end=%" PRId64 " rows=%" PRId64 " crc=%" PRIu32
                        " committer=%s next=%s start=%" PRId64 " flush_rows=%" PRId64,
                        r->segment, r->offset, r->rows, r->crc, r->instance, next.segment,
                        next.start_offset, next.flush_rows);
            goto out;
        }
        if (ctl__multi_again(rc, failed, attempt)) {
            SL_WARN("controller", "commit multi-op retry segment=%s rc=%s failed_op=%d", r->segment,
                    sluice_strerror(rc), failed);
            continue;
        }
        snprintf(why, whylen, "commit multi-op failed at op %d: %s", failed, sluice_strerror(rc));
        goto out;
    }
    snprintf(why, whylen, "commit multi-op kept conflicting");
    rc = SL_ECONFLICT;
out:
    if (rc && promoted) { /* undo the promote only while ZooKeeper shows the commit did not
                           * happen: an unknown outcome or a retried CommitEnd may have
                           * committed it already */
        segmeta m;
        int grc = ctl__get_meta(c, z, table, r->segment, &m, NULL);
        if (grc == 0 && !segmeta_committed(&m) && ctl__leads(c))
            segstore_unpromote(c->store, table, r->segment, r->crc, err, sizeof err);
    }
    ctl__zk_done(c);
    return rc;
}

int ctl__commit_replayed(ctl *c, const char *table, const rpc_req *r, char *why, size_t whylen)
{
    return ctl__commit(c, table, r, true, why, whylen);
}

/* Pauseless completion (DESIGN §9): fix N's end offset at the decision, before anyone is
 * told. One multi-op: N becomes COMMITTING with end_offset = end, N+1 is created IN_PROGRESS
 * at end (thresholds as N's: N's size is not known yet, so the target-size tuner learns from
 * N when N+2 is opened), and the assignment adds N+1 CONSUMING on N's partition's instances;
 * N stays CONSUMING there until CommitEnd. A retry after an unknown outcome finds N
 * COMMITTING at the same end and succeeds. Returns 0 or an error with the reason in why. */
static int ctl__fix(ctl *c, const char *table, const char *segment, int64_t end, char *why,
                    size_t whylen)
{
    zk *z = ctl__zk(c);
    const ctl_table *t = NULL;
    int rc = SL_ENOENT;
    for (int attempt = 0; attempt < CTL_COMMIT_RETRIES; attempt++) {
        segmeta m, next;
        int32_t vm, va;
        assign a;
        if ((rc = ctl__commit_read(c, z, table, segment, &t, &m, &vm, why, whylen))) goto out;
        if (m.status != SEGMETA_IN_PROGRESS) {
            rc = m.status == SEGMETA_COMMITTING && m.end_offset == end ? 0 : SL_ECONFLICT;
            if (rc) snprintf(why, whylen, "segment already %s", segmeta_status_name(m.status));
            goto out;
        }
        if ((rc = ctl__get_assign(c, z, table, &a, &va))) {
            snprintf(why, whylen, "assignment unreadable: %s", sluice_strerror(rc));
            goto out;
        }
        ctl__next_meta(t, &m, end, 0, 0, sl_clock_wall_ms(), &next);
        m.status = SEGMETA_COMMITTING;
        m.end_offset = end;
        bool open = a.paused_ms == 0; /* paused: no successor until a resume */
        if (open && (uint32_t)m.partition < a.npart && !assign_find(&a, next.segment))
            assign_add(&a, next.segment, &a.part[m.partition], ASSIGN_CONSUMING);
        assign_force_remove(&a, segment); /* a force commit's request is met */
        int failed = -1;
        rc = cstore_commit(c->cs, z, table, &m, vm, open ? &next : NULL, &a, va, &failed);
        assign_free(&a);
        if (rc == 0) {
            SL_INFO("controller",
                    "fixed segment=%s end=%" PRId64 " (COMMITTING) next=%s start=%" PRId64
                    " flush_rows=%" PRId64,
                    segment, end, open ? next.segment : "none (paused)", next.start_offset,
                    next.flush_rows);
            goto out;
        }
        if (ctl__multi_again(rc, failed, attempt)) continue;
        snprintf(why, whylen, "fix multi-op failed at op %d: %s", failed, sluice_strerror(rc));
        goto out;
    }
    snprintf(why, whylen, "fix multi-op kept conflicting");
    rc = SL_ECONFLICT;
out:
    ctl__zk_done(c);
    return rc;
}

/* ---- state machines ---------------------------------------------------------------------- */

static void ctl__fsm_unref(ctl_fsm *e)
{
    if (--e->refs == 0 && e->dead) {
        cfsm_free(e->f);
        free(e);
    }
}

/* Remove machine i from the table and mark it dead; whoever holds a pin frees it. */
static ctl_fsm *ctl__fsm_detach_locked(ctl *c, size_t i)
{
    ctl_fsm *e = c->fsms[i];
    c->fsms[i] = c->fsms[--c->nfsms];
    e->dead = true;
    return e;
}

static void ctl__fsm_drop_locked(ctl *c, size_t i)
{
    ctl_fsm *e = ctl__fsm_detach_locked(c, i);
    e->refs++;
    ctl__fsm_unref(e); /* frees it unless a thread holds a pin */
}

static ctl_fsm *ctl__fsm_find_locked(ctl *c, const char *segment)
{
    for (size_t i = 0; i < c->nfsms; i++)
        if (strcmp(c->fsms[i]->segment, segment) == 0) return c->fsms[i];
    return NULL;
}

static bool ctl__instance_live(ctl *c, zk *z, const char *id)
{
    return cstore_instance_exists(c->cs, z, id) == 0;
}

/* The machine for segment, built from ZooKeeper when missing. Returns it with mu held, or
 * NULL (mu not held) and the reason in why; without may_block, NULL with *blocks set when it
 * is missing. */
static ctl_fsm *ctl__fsm_get(ctl *c, const char *table, const char *segment, uint64_t now,
                             bool may_block, bool *blocks, char *why, size_t whylen)
{
    *blocks = false;
    pthread_mutex_lock(&c->mu);
    ctl_fsm *e = ctl__fsm_find_locked(c, segment);
    if (e) return e;
    pthread_mutex_unlock(&c->mu);
    if (!may_block) {
        *blocks = true;
        return NULL;
    }
    zk *z = ctl__zk(c);
    segmeta m;
    assign a;
    assign_list members = {0};
    int rc = ctl__get_meta(c, z, table, segment, &m, NULL);
    cfsm *f = NULL;
    if (rc) {
        snprintf(why, whylen, "unknown segment %s (%s)", segment, sluice_strerror(rc));
    } else if (ctl__get_assign(c, z, table, &a, NULL) != 0) {
        snprintf(why, whylen, "assignment of table %s unreadable", table);
    } else {
        assign_seg *s = assign_find(&a, segment);
        if (s) assign_seg_list(s, &members);
        const ctl_table *t = ctl__table(c, z, table);
        cfsm_cfg cfg = c->o.fsm;
        cfg.pauseless = t && t->cfg->pauseless;
        if (segmeta_committed(&m)) {
            f = cfsm_new_committed(segment, m.end_offset, m.crc, m.download_url, m.committer, &cfg,
                                   now);
        } else {
            const char *live[SL_MAX_REPLICATION];
            size_t nlive = 0;
            /* a consumed segment lists its replicas: at most SL_MAX_REPLICATION */
            for (uint32_t i = 0; s && i < s->inst.n && nlive < SL_MAX_REPLICATION; i++)
                if (ctl__instance_live(c, z, s->inst.id[i])) live[nlive++] = s->inst.id[i];
            f = m.status == SEGMETA_COMMITTING
                    ? cfsm_new_fixed(segment, live, nlive, m.end_offset, &cfg, now)
                    : cfsm_new(segment, live, nlive, &cfg, now);
        }
        assign_free(&a);
    }
    ctl__zk_done(c);
    if (!f) return NULL;
    pthread_mutex_lock(&c->mu);
    if ((e = ctl__fsm_find_locked(c, segment))) { /* another thread built it meanwhile */
        cfsm_free(f);
        return e;
    }
    e = sl_xcalloc(1, sizeof *e);
    snprintf(e->segment, sizeof e->segment, "%s", segment);
    snprintf(e->table, sizeof e->table, "%s", table);
    e->f = f;
    e->touched_ms = now;
    e->partition = m.partition;
    e->start_offset = m.start_offset;
    e->known_high = m.status != SEGMETA_IN_PROGRESS ? m.end_offset : m.start_offset;
    e->members = members;
    if (c->nfsms == c->capfsms) {
        c->capfsms = c->capfsms ? c->capfsms * 2 : 64;
        c->fsms = sl_xrealloc(c->fsms, c->capfsms * sizeof *c->fsms);
    }
    c->fsms[c->nfsms++] = e;
    return e;
}

void ctl__drop_all_fsms(ctl *c)
{
    pthread_mutex_lock(&c->mu);
    while (c->nfsms)
        ctl__fsm_drop_locked(c, c->nfsms - 1);
    pthread_mutex_unlock(&c->mu);
}

/* Tick every machine; drop the finished ones and those COMMITTED and idle for
 * CTL_FSM_IDLE_MS, unless pinned. The requests parked on a machine that changed state are
 * woken (its segment's key), after mu is dropped. */
bool ctl__fsms_tick(ctl *c, uint64_t now)
{
    char(*woken)[SL_SEGNAME_MAX] = NULL;
    size_t nwoken = 0, capwoken = 0;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->nfsms;) {
        ctl_fsm *e = c->fsms[i];
        if (cfsm_tick(e->f, now)) {
            if (nwoken == capwoken) {
                capwoken = capwoken ? capwoken * 2 : 16;
                woken = sl_xrealloc(woken, capwoken * sizeof *woken);
            }
            memcpy(woken[nwoken++], e->segment, sizeof *woken);
        }
        bool idle = cfsm_get_state(e->f) == CFSM_COMMITTED && now > e->touched_ms + CTL_FSM_IDLE_MS;
        if ((cfsm_done(e->f) || idle) && !e->refs)
            ctl__fsm_drop_locked(c, i);
        else
            i++;
    }
    pthread_mutex_unlock(&c->mu);
    for (size_t i = 0; c->http && i < nwoken; i++)
        httpd_wake_key(c->http, woken[i]);
    free(woken);
    return nwoken > 0;
}

/* Halve the row threshold of an IN_PROGRESS segment whose build failed deterministically. */
static void ctl__halve_threshold(ctl *c, const char *table, const rpc_req *r)
{
    zk *z = ctl__zk(c);
    segmeta m;
    int32_t v;
    if (ctl__get_meta(c, z, table, r->segment, &m, &v) == 0 && m.status == SEGMETA_IN_PROGRESS) {
        int64_t old = m.flush_rows > 0 ? m.flush_rows : r->rows;
        int64_t half = (r->rows > 0 && r->rows < old ? r->rows : old) / 2;
        m.flush_rows = half > 1 ? half : 1;
        if (cstore_segment_set(c->cs, z, table, r->segment, &m, v) == 0)
            SL_WARN("controller",
                    "deterministic build failure segment=%s instance=%s: "
                    "flush rows %" PRId64 " -> %" PRId64,
                    r->segment, r->instance, old, m.flush_rows);
    }
    ctl__zk_done(c);
}

/* ---- HTTP: replies ----------------------------------------------------------------------- */

static void ctl__reply_rpc(httpd_resp *resp, const rpc_resp *rr)
{
    uint8_t *buf;
    size_t len;
    char err[128];
    if (rpc_resp_encode(rr, &buf, &len, err, sizeof err) != 0) {
        httpd_resp_text(resp, 500, "cannot encode reply: %s\n", err);
        return;
    }
    httpd_resp_body(resp, 200, RPC_CONTENT_TYPE, buf, len, HTTPD_TAKE);
}

static void ctl__twirp_error(httpd_resp *resp, rpc_twirp_code code, const char *msg)
{
    size_t len;
    char *body = rpc_error_body(code, msg, &len);
    httpd_resp_body(resp, rpc_twirp_http_status(code), "application/json", body, len, HTTPD_TAKE);
}

/* ---- HTTP: completion RPCs -------------------------------------------------------------
 * The handler never blocks. It decodes and validates the request, then decides it at once
 * when all it needs is in memory: the machine exists, the instance is a listed replica, Kafka
 * already confirmed the offset. Otherwise (a machine to build from ZooKeeper, an assignment
 * to re-read, a watermark to ask Kafka, a threshold to halve, and every CommitEnd, whose
 * commit verifies the file and runs the ZooKeeper multi-op) the same decision, the same code,
 * runs on a controller worker (ctl_jobs.c) while the request is parked, and the handler
 * answers when it has run. Deciding inline stops, having changed nothing, where it would
 * block (CTL__BLOCKS). A HOLD that may long-poll parks the request on its segment's name:
 * only a change of that segment's machine (here, on the ticker, after a commit) wakes it. */

/* One RPC being decided. */
typedef struct ctl_rpc {
    rpc_method meth;
    rpc_req r;
    double t0;    /* handling began (the histogram leaves out long-poll waits only) */
    uint64_t seq; /* httpd_wake_seq before the decision: a wake after it is not lost */
    bool counted; /* rr is the state machine's reply: counted in the metrics */
    bool wait;    /* a HOLD that may long-poll */
    rpc_resp rr;
} ctl_rpc;

/* Decide x (x->r validated): the reply in x->rr, x->counted and x->wait. Returns 0, or without
 * may_block CTL__BLOCKS (nothing changed) when deciding needs ZooKeeper, Kafka or the disk. */
static int ctl__rpc_decide(ctl *c, ctl_rpc *x, bool may_block)
{
    const rpc_req *r = &x->r;
    rpc_resp *rr = &x->rr;
    memset(rr, 0, sizeof *rr);
    x->counted = x->wait = false;
    x->seq = c->http ? httpd_wake_seq(c->http) : 0;
    if (!ctl__leads(c)) {
        rr->status = RPC_STATUS_NOT_LEADER;
        pthread_mutex_lock(&c->mu);
        snprintf(rr->leader_url, sizeof rr->leader_url, "%s", c->leader_url);
        pthread_mutex_unlock(&c->mu);
        snprintf(rr->message, sizeof rr->message, "not the leader");
        return 0;
    }
    segname sn;
    segname_parse(r->segment, &sn); /* validated by rpc_req_decode */
    static const cfsm_msg_kind kinds[RPC_METHOD__COUNT] = {
        [RPC_SEGMENT_CONSUMED] = CFSM_MSG_CONSUMED,
        [RPC_COMMIT_START] = CFSM_MSG_COMMIT_START,
        [RPC_COMMIT_END] = CFSM_MSG_COMMIT_END,
        [RPC_EXTEND_BUILD_TIME] = CFSM_MSG_EXTEND,
        [RPC_STOPPED_CONSUMING] = CFSM_MSG_STOPPED};
    cfsm_msg m = {.kind = kinds[x->meth],
                  .instance = r->instance,
                  .offset = r->offset,
                  .reason = (int)r->reason,
                  .crc = r->crc,
                  .rows = r->rows,
                  .size_bytes = r->size_bytes,
                  .location = r->location,
                  .extra_seconds = r->extra_seconds};
    uint64_t now = sl_clock_wall_ms();
    char err[512];
    cfsm_reply fr;
    bool blocks;
    ctl_fsm *e = ctl__fsm_get(c, sn.table, r->segment, now, may_block, &blocks, err, sizeof err);
    if (!e) {
        if (blocks) return CTL__BLOCKS;
        rr->status = RPC_STATUS_FAILED;
        snprintf(rr->message, sizeof rr->message, "%s", err);
        return 0;
    }
    e->refs++; /* pinned until the end: the checks and the commit drop mu */
    int bad = ctl__check_msg(c, e, sn.table, x->meth, r, now, may_block, err, sizeof err);
    bool halve =
        x->meth == RPC_STOPPED_CONSUMING && r->reason == RPC_REASON_ERROR && r->build_millis > 0;
    if (bad == CTL__BLOCKS ||
        (!may_block && !bad && !e->dead && (halve || x->meth == RPC_COMMIT_END))) {
        ctl__fsm_unref(e);
        pthread_mutex_unlock(&c->mu);
        return CTL__BLOCKS;
    }
    if (bad || e->dead) {
        ctl__fsm_unref(e);
        pthread_mutex_unlock(&c->mu);
        if (bad && bad != SL_ETRANSIENT)
            SL_LOG_LIMITED(c->loglim, "rpc.refused", SL_LOG_WARN, "controller",
                           "refused rpc=%s segment=%s instance=%s why=\"%s\"",
                           rpc_method_name(x->meth), r->segment, r->instance, err);
        rr->status = RPC_STATUS_FAILED;
        snprintf(rr->message, sizeof rr->message, "%s", bad ? err : "leadership lost");
        return 0;
    }
    if (halve) {
        pthread_mutex_unlock(&c->mu);
        ctl__halve_threshold(c, sn.table, r);
        pthread_mutex_lock(&c->mu);
    }
    cfsm_state before = cfsm_get_state(e->f);
    e->touched_ms = now;
    cfsm_action act = e->dead ? CFSM_ACT_NONE : cfsm_on_msg(e->f, &m, now, &fr);
    if (act == CFSM_ACT_FIX && !may_block) {
        /* decided again on a worker: the same report, handed in twice, decides the same */
        ctl__fsm_unref(e);
        pthread_mutex_unlock(&c->mu);
        return CTL__BLOCKS;
    }
    bool fixed_now = false;
    if (act == CFSM_ACT_FIX) {
        char fwhy[512] = "";
        int64_t end = cfsm_winning_offset(e->f);
        pthread_mutex_unlock(&c->mu);
        int rc = ctl__fix(c, sn.table, r->segment, end, fwhy, sizeof fwhy);
        pthread_mutex_lock(&c->mu);
        if (rc) SL_WARN("controller", "fix failed segment=%s why=\"%s\"", r->segment, fwhy);
        if (!e->dead) {
            cfsm_fix_done(e->f, rc == 0, fwhy);
            fixed_now = rc == 0;
            if (!cfsm_done(e->f)) act = cfsm_on_msg(e->f, &m, sl_clock_wall_ms(), &fr);
        }
    }
    char why[512] = ""; /* outlives the block: a failed commit's fr.why points here */
    if (act == CFSM_ACT_COMMIT) {
        pthread_mutex_unlock(&c->mu);
        int rc = ctl__commit(c, sn.table, r, false, why, sizeof why);
        metrics_counter_add(rc ? c->m_commit_fail : c->m_commits, 1);
        pthread_mutex_lock(&c->mu);
        if (e->dead) {
            memset(&fr, 0, sizeof fr);
            fr.status = CFSM_FAILED;
            fr.why = "leadership lost during the commit";
        } else {
            cfsm_commit_done(e->f, rc == 0, why, sl_clock_wall_ms(), &fr);
        }
        if (rc) SL_WARN("controller", "commit failed segment=%s why=\"%s\"", r->segment, why);
    } else if (e->dead) {
        memset(&fr, 0, sizeof fr);
        fr.status = CFSM_FAILED;
        fr.why = "leadership lost";
    }
    /* a fix wakes the parked replicas too: those at the end offset move on to N+1 */
    bool changed = !e->dead && (cfsm_get_state(e->f) != before || fixed_now);
    if (!e->dead && cfsm_done(e->f)) fr.wait = false;
    if (!e->dead && cfsm_done(e->f)) { /* ABORTED: forget it; the next message rebuilds */
        for (size_t i = 0; i < c->nfsms; i++)
            if (c->fsms[i] == e) {
                ctl__fsm_detach_locked(c, i); /* our pin frees it just below */
                break;
            }
    }
    /* copied out under mu: fr.why may be the machine's text, and the machine may go */
    x->counted = true;
    x->wait = fr.wait;
    rr->status = (rpc_status)fr.status;
    rr->offset = fr.offset > 0 ? fr.offset : 0;
    rr->build_seconds = fr.build_seconds;
    rr->crc = fr.crc;
    snprintf(rr->segment_location, sizeof rr->segment_location, "%s", fr.location);
    snprintf(rr->message, sizeof rr->message, "%s", fr.why ? fr.why : "");
    ctl__fsm_unref(e); /* may free e */
    pthread_mutex_unlock(&c->mu);
    if (changed && c->http) httpd_wake_key(c->http, r->segment);
    return 0;
}

/* The worker's side of a decision that may block. */
static void ctl__rpc_job(ctl *c, void *arg)
{
    ctl__rpc_decide(c, arg, true);
}

/* Answer a decided RPC, or park it on its segment's name while its HOLD may long-poll. */
static void ctl__rpc_answer(ctl *c, httpd_req *req, httpd_resp *resp, const ctl_rpc *x)
{
    if (x->wait && httpd_req_wait_key_since(req, (unsigned)c->o.longpoll_ms, x->r.segment, x->seq))
        return;
    if (x->counted) {
        const char *labels[] = {rpc_method_name(x->meth), rpc_status_name(x->rr.status)};
        metrics_counter_add(metrics_counter_with(c->m_rpcs, labels), 1);
        const char *ml[] = {rpc_method_name(x->meth)};
        metrics_histogram_observe(metrics_histogram_with(c->m_rpc_seconds, ml),
                                  sl_clock_mono_s() - x->t0);
    }
    ctl__reply_rpc(resp, &x->rr);
}

void ctl__rpc(httpd_req *req, httpd_resp *resp, void *ctx)
{
    ctl *c = ctx;
    ctl_rpc *job = NULL;
    switch (ctl__job_take(req, (void **)&job)) {
    case CTL_JOB_PENDING:
        return;
    case CTL_JOB_CANCELLED:
        httpd_resp_text(resp, 503, "server stopping\n");
        return;
    case CTL_JOB_DONE: /* decided on a worker */
        ctl__rpc_answer(c, req, resp, job);
        free(job);
        return;
    case CTL_JOB_NONE:
        break;
    }
    if (ctl__not_running(c, resp)) return;
    ctl_rpc x = {.t0 = sl_clock_mono_s()};
    if (rpc_method_parse(httpd_req_param(req, "method"), &x.meth) != 0) {
        ctl__twirp_error(resp, RPC_TWIRP_BAD_ROUTE, "no such method");
        return;
    }
    const char *ctype = httpd_req_header(req, "Content-Type");
    if (!rpc_ctype_is_protobuf(ctype)) { /* never parse JSON (or anything else) as protobuf */
        char msg[512]; /* the text (~175 bytes) and at most 200 of the header: never cut */
        snprintf(msg, sizeof msg,
                 "unsupported Content-Type %s%.200s%s: this server speaks Twirp's protobuf "
                 "encoding only (Content-Type: " RPC_CONTENT_TYPE
                 "); Twirp's JSON mapping (application/json) is not supported",
                 ctype ? "'" : "(none)", ctype ? ctype : "", ctype ? "'" : "");
        size_t len;
        char *body = rpc_error_body(RPC_TWIRP_BAD_ROUTE, msg, &len);
        httpd_resp_body(resp, 415, "application/json", body, len, HTTPD_TAKE);
        return;
    }
    size_t blen;
    const void *body = httpd_req_body(req, &blen);
    char err[512];
    if (rpc_req_decode(body, blen, &x.r, err, sizeof err) != 0) {
        ctl__twirp_error(resp, RPC_TWIRP_MALFORMED, err);
        return;
    }
    /* a token (or, without tokens, an mTLS certificate) speaks for its own instance only;
     * whether that instance is a replica of the segment is ctl__check_msg's */
    const char *who = httpd_req_instance(req);
    if (who && strcmp(who, x.r.instance) != 0) {
        snprintf(err, sizeof err,
                 "instance %s (its token or certificate) may not speak as instance %.200s", who,
                 x.r.instance);
        ctl__twirp_error(resp, RPC_TWIRP_PERMISSION_DENIED, err);
        return;
    }
    if (rpc_req_check(x.meth, &x.r, err, sizeof err) != 0) {
        ctl__twirp_error(resp, RPC_TWIRP_INVALID_ARGUMENT, err);
        return;
    }
    if (ctl__rpc_decide(c, &x, false) == CTL__BLOCKS) {
        job = sl_xmalloc(sizeof *job);
        *job = x;
        if (!ctl__job_submit(c, req, ctl__rpc_job, job, free))
            httpd_resp_text(resp, 503, "server stopping\n");
        return;
    }
    ctl__rpc_answer(c, req, resp, &x);
}
