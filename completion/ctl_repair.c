/* Repair (DESIGN §5), run by the leader's ticker every repair_interval_ms: a partition
 * whose newest segment is DONE without a successor gets one, a consuming segment that lost
 * every replica is restarted on live instances (with a COMMITTING predecessor, which the new
 * instances rebuild from Kafka), and a segment record that does not decode
 * is rewritten from what is known for certain (or left, reported, for an operator). Every
 * write is version-conditioned, so a round that races a commit or another leader loses
 * and the next round re-reads. It also runs the segment store's GC. */
#include "completion/ctl_int.h"
#include "common/sl_err.h"
#include "segment/seg_reader.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A segment record that does not decode is rewritten from what is known for certain: the
 * committed file in the store (its own metadata says offsets, rows and CRC) makes it DONE;
 * without one, a record whose predecessor is DONE becomes IN_PROGRESS at that segment's end
 * (the chain invariant). Anything else is left for an operator, and stays reported as
 * CORRUPT by the listing. The write is conditioned on the version read. */
static void ctl__repair_record(ctl *c, zk *z, const ctl_table *t, const char *table,
                               const char *name, int32_t version, char **names, size_t n,
                               uint64_t now)
{
    segname sn;
    if (segname_parse(name, &sn) != 0) return;
    segmeta m;
    memset(&m, 0, sizeof m);
    const char *how = NULL;
    char path[PATH_MAX], err[256];
    seg_reader *rd = NULL;
    if (segstore_path(c->store, table, name, path, sizeof path) == 0 && access(path, F_OK) == 0)
        rd = seg_reader_open(path, NULL, err, sizeof err);
    if (rd && strcmp(seg_reader_name(rd), name) == 0 && seg_reader_partition(rd) == sn.partition &&
        seg_reader_sequence(rd) == sn.sequence && seg_reader_start_offset(rd) >= 0 &&
        seg_reader_end_offset(rd) >= seg_reader_start_offset(rd)) {
        snprintf(m.segment, sizeof m.segment, "%s", name);
        snprintf(m.table, sizeof m.table, "%s", table);
        m.partition = sn.partition;
        m.sequence = sn.sequence;
        m.status = SEGMETA_DONE;
        m.start_offset = seg_reader_start_offset(rd);
        m.end_offset = seg_reader_end_offset(rd);
        m.num_rows = (int64_t)seg_reader_rows(rd);
        m.crc = seg_reader_crc(rd);
        m.size_bytes = (int64_t)seg_reader_size(rd);
        if (snprintf(m.download_url, sizeof m.download_url, "%s/segments/%s/%s", c->advertise,
                     table, name) < (int)sizeof m.download_url)
            how = "DONE from the committed file";
        m.creation_time_ms = sn.time_ms;
        m.commit_time_ms = (int64_t)now;
        m.flush_rows = (int64_t)t->cfg->flush_rows;
        m.flush_time_ms = (int64_t)t->cfg->flush_time_ms;
    } else if (sn.sequence > 0) {
        for (size_t i = 0; i < n && !how; i++) {
            segname pn;
            segmeta prev;
            if (segname_parse(names[i], &pn) || pn.partition != sn.partition ||
                pn.sequence != sn.sequence - 1 ||
                ctl__read_meta(c, z, table, names[i], &prev, NULL, err, sizeof err) ||
                prev.status == SEGMETA_IN_PROGRESS)
                continue;
            ctl__next_meta(t, &prev, prev.end_offset, prev.num_rows, prev.size_bytes, now, &m);
            snprintf(m.segment, sizeof m.segment, "%s", name); /* the name replicas know */
            how = "IN_PROGRESS at its predecessor's end";
        }
    }
    seg_reader_close(rd);
    if (!how) {
        SL_LOG_LIMITED(c->loglim, "repair.unrebuildable", SL_LOG_ERROR, "controller",
                       "repair table=%s segment=%s: record unreadable and not rebuildable (no "
                       "committed file, no committed predecessor)",
                       table, name);
        return;
    }
    int rc = cstore_segment_set(c->cs, z, table, name, &m, version);
    if (rc == 0)
        SL_WARN("controller",
                "repair table=%s segment=%s: unreadable record rewritten as %s "
                "start=%" PRId64,
                table, name, how, m.start_offset);
}

/* One table: a partition whose newest segment is DONE without a successor gets one; a
 * partition whose consuming segment lost every replica (gone or ERROR) gets a fresh segment
 * from that segment's start offset on live instances. Nothing younger than the commit
 * budget is touched; every write is one version-checked multi-op. */
static void ctl__repair_table(ctl *c, zk *z, const char *table, uint64_t now)
{
    const ctl_table *t = ctl__table(c, z, table);
    if (t) ctl__lineage_cleanup(c, z, table);
    if (t && t->cfg->type == TCFG_OFFLINE) ctl__push_top_up(c, z, table);
    if (!t || t->cfg->type != TCFG_REALTIME) return;
    char **names = NULL, **live = NULL;
    size_t n = 0, nlive = 0;
    if (cstore_segments(c->cs, z, table, &names, &n)) return;
    cstore_instances(c->cs, z, &live, &nlive);
    for (size_t i = 0; i < n; i++) { /* unreadable records first: the rest relies on them */
        segmeta m;
        int32_t v;
        char err[256];
        if (ctl__read_meta(c, z, table, names[i], &m, &v, err, sizeof err) == SL_ECORRUPT)
            ctl__repair_record(c, z, t, table, names[i], v, names, n, now);
    }
    assign a;
    int32_t va;
    if (ctl__get_assign(c, z, table, &a, &va)) goto out;
    /* bootstrapping: nothing consumes on purpose until `sluice replay` resumes the table */
    for (uint32_t p = 0; p < a.npart && !a.bootstrap_ms; p++) {
        segmeta newest, m;
        int32_t vnewest = -1, v;
        bool found = false;
        for (size_t i = 0; i < n; i++) {
            segname sn;
            if (segname_parse(names[i], &sn) || (uint32_t)sn.partition != p) continue;
            if (found && sn.sequence <= newest.sequence) continue;
            if (ctl__get_meta(c, z, table, names[i], &m, &v) == 0) {
                newest = m;
                vnewest = v;
                found = true;
            }
        }
        if (!found) continue;
        uint64_t budget = c->o.fsm.commit_budget_ms;
        segmeta next;
        const char *why = NULL;
        assign_list inst = a.part[p];
        if (newest.status == SEGMETA_COMMITTING) continue; /* its successor came with it */
        if (segmeta_committed(&newest)) {
            if (a.paused_ms) continue; /* paused: no successor until a resume */
            if (now < (uint64_t)newest.commit_time_ms + budget) continue;
            ctl__next_meta(t, &newest, newest.end_offset, newest.num_rows, newest.size_bytes, now,
                           &next);
            why = "committed segment has no successor";
        } else {
            if (now < (uint64_t)newest.creation_time_ms + budget) continue;
            assign_seg *as = assign_find(&a, newest.segment);
            bool any_alive = false;
            for (uint32_t j = 0; as && j < as->inst.n; j++) {
                bool up = false;
                for (size_t k = 0; k < nlive; k++)
                    up |= strcmp(live[k], as->inst.id[j]) == 0;
                any_alive |= up && as->state[j] != ASSIGN_ERROR && as->state[j] != ASSIGN_OFFLINE;
            }
            if (any_alive) continue;
            assign plan = {0};
            if (assign_plan(&plan, (const char *const *)live, nlive, a.npart,
                            t->cfg->replication)) {
                SL_WARN("controller", "repair table=%s partition=%u: not enough live sidecars",
                        table, p);
                continue;
            }
            inst = plan.part[p];
            a.part[p] = inst;
            assign_free(&plan);
            for (uint32_t j = 0; as && j < as->inst.n; j++)
                as->state[j] = ASSIGN_OFFLINE;
            /* pauseless: a COMMITTING predecessor nobody alive holds goes to the new
             * instances too, which rebuild it from Kafka and commit it */
            for (size_t i = 0; i < n; i++) {
                segname sn;
                segmeta pm;
                assign_seg *ps;
                if (segname_parse(names[i], &sn) || (uint32_t)sn.partition != p ||
                    sn.sequence >= newest.sequence || !(ps = assign_find(&a, names[i])) ||
                    ctl__get_meta(c, z, table, names[i], &pm, NULL) ||
                    pm.status != SEGMETA_COMMITTING)
                    continue;
                bool held = false;
                for (uint32_t j = 0; j < ps->inst.n; j++)
                    for (size_t k = 0; k < nlive; k++)
                        held |= strcmp(live[k], ps->inst.id[j]) == 0;
                if (held) continue;
                assign_seg_set(ps, &inst, ASSIGN_CONSUMING);
                SL_WARN("controller",
                        "repair table=%s partition=%u: COMMITTING %s moves to the "
                        "new instances (rebuilt from Kafka)",
                        table, p, names[i]);
            }
            ctl__next_meta(t, &newest, newest.start_offset, 0, 0, now, &next);
            next.rows_per_byte = newest.rows_per_byte;
            why = "every replica of the consuming segment is gone or in ERROR";
        }
        assign_seg *stale = assign_find(&a, next.segment); /* a deleted segment's entry */
        if (stale) {
            assign_seg_set(stale, &inst, ASSIGN_CONSUMING);
        } else {
            assign_add(&a, next.segment, &inst, ASSIGN_CONSUMING);
        }
        int rc = cstore_repair(c->cs, z, table, newest.segment, vnewest, &next, &a, va, NULL);
        if (rc == 0) {
            va++;
            SL_WARN("controller",
                    "repair table=%s partition=%u created=%s start=%" PRId64 " why=\"%s\"", table,
                    p, next.segment, next.start_offset, why);
        } else {
            SL_INFO("controller", "repair table=%s partition=%u skipped: %s", table, p,
                    sluice_strerror(rc));
            break; /* the assignment moved on: next round re-reads it */
        }
    }
    assign_free(&a);
out:
    zk_free_strings(names, n);
    zk_free_strings(live, nlive);
}

void ctl__repair(ctl *c, uint64_t now)
{
    char **tables = NULL;
    size_t n = 0;
    zk *z = ctl__zk(c);
    if (z && cstore_tables(c->cs, z, &tables, &n) == 0)
        for (size_t i = 0; i < n && ctl__leads(c); i++)
            ctl__repair_table(c, z, tables[i], now);
    ctl__zk_done(c);
    zk_free_strings(tables, n);
    int removed = segstore_gc(c->store, 3600 * 1000, (int64_t)now);
    if (removed > 0) SL_INFO("controller", "segment store gc removed=%d", removed);
}
