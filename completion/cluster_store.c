/* The cluster store (see cluster_store.h): ZooKeeper paths and node encodings of DESIGN §5.
 *
 * Paths are built here and nowhere else, into ZK_PATH_MAX buffers; a path that would not fit
 * is SL_ELIMIT, never a truncated (and so different) path. Encodings: segment records are
 * segmeta protobuf, the assignment is assign JSON, an instance is {"host":..,"port":..},
 * replicas/<id> is a flat JSON object of segment -> state. The three multi-ops (create a
 * table, commit, repair) are built only here. */
#include "completion/cluster_store.h"

#include "common/clock.h"
#include "common/sl_err.h"
#include "common/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CSTORE_REPLICA_ATTEMPTS 5

struct cstore {
    char root[ZK_PATH_MAX];
};

static const char *const cstore_rel[] = {
    [CSTORE_ROOT] = "",
    [CSTORE_CONTROLLERS] = "/controllers",
    [CSTORE_INSTANCES] = "/instances",
    [CSTORE_INSTANCE] = "/instances/%s",
    [CSTORE_TABLES] = "/tables",
    [CSTORE_TABLE] = "/tables/%s",
    [CSTORE_CONFIG] = "/tables/%s/config",
    [CSTORE_SCHEMA] = "/tables/%s/schema",
    [CSTORE_SEGMENTS] = "/tables/%s/segments",
    [CSTORE_SEGMENT] = "/tables/%s/segments/%s",
    [CSTORE_ASSIGNMENT] = "/tables/%s/assignment",
    [CSTORE_REPLICAS] = "/tables/%s/replicas",
    [CSTORE_REPLICA] = "/tables/%s/replicas/%s",
    [CSTORE_LINEAGE] = "/tables/%s/lineage",
    [CSTORE_JOBS] = "/tables/%s/jobs",
    [CSTORE_JOB] = "/tables/%s/jobs/%s",
};

/* ---- paths ----------------------------------------------------------------------------- */

cstore *cstore_new(const char *cluster)
{
    if (!cluster) return NULL;
    cstore *s = sl_xcalloc(1, sizeof *s);
    int n = snprintf(s->root, sizeof s->root, "/sluice/%s", cluster);
    if (n < 0 || (size_t)n >= sizeof s->root) {
        free(s);
        return NULL;
    }
    return s;
}

void cstore_free(cstore *s)
{
    free(s);
}

const char *cstore_root(const cstore *s)
{
    return s->root;
}

int cstore_path(const cstore *s, cstore_node node, const char *table, const char *name, char *buf,
                size_t cap)
{
    if ((size_t)node >= sizeof cstore_rel / sizeof cstore_rel[0] || cap == 0) return SL_EINVAL;
    const char *fmt = cstore_rel[node];
    bool has_table = node >= CSTORE_TABLE;
    bool has_name = node == CSTORE_INSTANCE || node == CSTORE_SEGMENT || node == CSTORE_REPLICA ||
                    node == CSTORE_JOB;
    const char *first = node == CSTORE_INSTANCE ? name : table;
    if ((has_table || has_name) && !first) return SL_EINVAL;
    if (has_table && has_name && !name) return SL_EINVAL;
    char rel[ZK_PATH_MAX];
    int n = has_table && has_name   ? snprintf(rel, sizeof rel, fmt, table, name)
            : has_table || has_name ? snprintf(rel, sizeof rel, fmt, first)
                                    : snprintf(rel, sizeof rel, "%s", fmt);
    if (n < 0 || (size_t)n >= sizeof rel) return SL_ELIMIT;
    n = snprintf(buf, cap, "%s%s", s->root, rel);
    return n < 0 || (size_t)n >= cap ? SL_ELIMIT : 0;
}

cstore_encoding cstore_encoding_of(const char *rel)
{
    const char *c[6];
    size_t lens[6], n = 0;
    for (const char *p = rel; *p && n < 6;) {
        size_t l = strcspn(p, "/");
        c[n] = p;
        lens[n++] = l;
        p += l;
        if (*p == '/') p++;
    }
#define IS(i, s) (lens[i] == sizeof(s) - 1 && memcmp(c[i], s, sizeof(s) - 1) == 0)
    if (n == 2 && IS(0, "controllers")) return CSTORE_ENC_ELECTION;
    if (n == 4 && IS(0, "tables") && IS(2, "segments")) return CSTORE_ENC_SEGMETA;
#undef IS
    return CSTORE_ENC_JSON;
}

bool cstore_cluster_name_ok(const char *cluster)
{
    return cluster && *cluster && !strchr(cluster, '/') && strcmp(cluster, ".") != 0 &&
           strcmp(cluster, "..") != 0;
}

#define PATH_OR_RETURN(buf, node, table, name)                                                     \
    char buf[ZK_PATH_MAX];                                                                         \
    do {                                                                                           \
        int prc_ = cstore_path(s, node, table, name, buf, sizeof buf);                             \
        if (prc_) return prc_;                                                                     \
    } while (0)

/* ---- base nodes, tables ------------------------------------------------------------------- */

int cstore_ensure(const cstore *s, zk *z, cstore_node node)
{
    PATH_OR_RETURN(path, node, NULL, NULL);
    return zk_ensure_path(z, path);
}

int cstore_ensure_base(const cstore *s, zk *z)
{
    int rc = cstore_ensure(s, z, CSTORE_INSTANCES);
    int rc2 = cstore_ensure(s, z, CSTORE_TABLES);
    return rc ? rc : rc2;
}

int cstore_table_exists(const cstore *s, zk *z, const char *table)
{
    PATH_OR_RETURN(path, CSTORE_TABLE, table, NULL);
    return zk_exists(z, path, NULL);
}

int cstore_tables(const cstore *s, zk *z, char ***names, size_t *n)
{
    *names = NULL;
    *n = 0;
    PATH_OR_RETURN(path, CSTORE_TABLES, NULL, NULL);
    return zk_children(z, path, names, n);
}

int cstore_table_read(const cstore *s, zk *z, const char *table, char **config, size_t *config_len,
                      char **schema, size_t *schema_len)
{
    *config = *schema = NULL;
    PATH_OR_RETURN(ps, CSTORE_SCHEMA, table, NULL);
    PATH_OR_RETURN(pc, CSTORE_CONFIG, table, NULL);
    uint8_t *sj = NULL, *tj = NULL;
    int rc = zk_get(z, ps, &sj, schema_len, NULL);
    if (rc) return rc;
    if ((rc = zk_get(z, pc, &tj, config_len, NULL))) {
        free(sj);
        return rc;
    }
    *schema = (char *)sj; /* NUL-terminated by zk_get */
    *config = (char *)tj;
    return 0;
}

int cstore_table_create(const cstore *s, zk *z, const char *table, const char *config_json,
                        const char *schema_json, const segmeta *segs, size_t nseg, const assign *a,
                        int *failed_op)
{
    if (failed_op) *failed_op = -1;
    static const cstore_node fixed[] = {CSTORE_TABLE,    CSTORE_CONFIG,   CSTORE_SCHEMA,
                                        CSTORE_SEGMENTS, CSTORE_REPLICAS, CSTORE_LINEAGE};
    const char *val[] = {NULL, config_json, schema_json, NULL, NULL, "{}"};
    size_t nfixed = sizeof fixed / sizeof fixed[0];
    size_t nops = 0, cap = nfixed + nseg + 1;
    zk_op *ops = sl_xcalloc(cap, sizeof *ops);
    char(*paths)[ZK_PATH_MAX] = sl_xcalloc(cap, sizeof *paths);
    uint8_t **bufs = sl_xcalloc(cap, sizeof *bufs);
    int rc = 0;
    for (size_t i = 0; i < nfixed && !rc; i++) {
        rc = cstore_path(s, fixed[i], table, NULL, paths[nops], sizeof paths[nops]);
        ops[nops] = zk_op_create(paths[nops], val[i], val[i] ? strlen(val[i]) : 0, 0);
        nops++;
    }
    for (size_t i = 0; i < nseg && !rc; i++) {
        size_t l = 0;
        rc =
            cstore_path(s, CSTORE_SEGMENT, table, segs[i].segment, paths[nops], sizeof paths[nops]);
        if (!rc) rc = segmeta_encode(&segs[i], &bufs[nops], &l);
        ops[nops] = zk_op_create(paths[nops], bufs[nops], l, 0);
        nops++;
    }
    if (!rc) {
        size_t alen;
        char *aj = assign_to_json(a, &alen);
        bufs[nops] = (uint8_t *)aj;
        rc = cstore_path(s, CSTORE_ASSIGNMENT, table, NULL, paths[nops], sizeof paths[nops]);
        ops[nops] = zk_op_create(paths[nops], aj, alen, 0);
        nops++;
    }
    if (!rc) {
        char pt[ZK_PATH_MAX];
        if (cstore_path(s, CSTORE_TABLES, NULL, NULL, pt, sizeof pt) == 0) zk_ensure_path(z, pt);
        rc = zk_multi(z, ops, nops, failed_op);
    }
    for (size_t i = 0; i < nops; i++)
        free(bufs[i]);
    free(ops);
    free(paths);
    free(bufs);
    return rc;
}

/* ---- segments ---------------------------------------------------------------------------- */

int cstore_segment_get(const cstore *s, zk *z, const char *table, const char *name, segmeta *m,
                       int32_t *version, char *err, size_t errlen)
{
    zk_stat st = {.version = -1};
    int rc = cstore_segment_stat(s, z, table, name, m, &st, err, errlen);
    if (version && (rc == 0 || rc == SL_ECORRUPT)) *version = st.version;
    return rc;
}

int cstore_segment_stat(const cstore *s, zk *z, const char *table, const char *name, segmeta *m,
                        zk_stat *st, char *err, size_t errlen)
{
    PATH_OR_RETURN(path, CSTORE_SEGMENT, table, name);
    uint8_t *data;
    size_t len;
    int rc = zk_get_stat(z, path, &data, &len, st);
    if (rc) return rc;
    rc = segmeta_decode(data, len, m, err, errlen);
    free(data);
    return rc;
}

int cstore_segment_set(const cstore *s, zk *z, const char *table, const char *name,
                       const segmeta *m, int32_t version)
{
    PATH_OR_RETURN(path, CSTORE_SEGMENT, table, name);
    uint8_t *b;
    size_t l;
    int rc = segmeta_encode(m, &b, &l);
    if (rc) return rc;
    rc = zk_set(z, path, b, l, version, NULL);
    free(b);
    return rc;
}

int cstore_segment_delete_checked(const cstore *s, zk *z, const char *table, const char *name,
                                  int32_t lineage_version, int32_t assign_version)
{
    PATH_OR_RETURN(path, CSTORE_SEGMENT, table, name);
    PATH_OR_RETURN(pl, CSTORE_LINEAGE, table, NULL);
    PATH_OR_RETURN(pa, CSTORE_ASSIGNMENT, table, NULL);
    zk_op ops[3] = {zk_op_check(pl, lineage_version), zk_op_check(pa, assign_version),
                    zk_op_delete(path, -1)};
    int failed = -1;
    int rc = zk_multi(z, ops, 3, &failed);
    /* a check that failed is a version moved; the delete's is a record already gone */
    if (rc && failed >= 0 && failed < 2) return SL_ECONFLICT;
    return rc;
}

int cstore_lineage_get(const cstore *s, zk *z, const char *table, lineage *l, int32_t *version,
                       char *err, size_t errlen)
{
    PATH_OR_RETURN(path, CSTORE_LINEAGE, table, NULL);
    uint8_t *data = NULL;
    size_t len = 0;
    int32_t v = -1;
    int rc = zk_get(z, path, &data, &len, &v);
    if (rc == SL_ENOENT) {
        memset(l, 0, sizeof *l);
        if (version) *version = -1;
        return 0;
    }
    if (rc) return rc;
    rc = lineage_parse((const char *)data, len, l, err, errlen);
    free(data);
    if (!rc && version) *version = v;
    return rc;
}

int cstore_lineage_set(const cstore *s, zk *z, const char *table, const lineage *l, int32_t version,
                       const assign *a, int32_t assign_version)
{
    PATH_OR_RETURN(pl, CSTORE_LINEAGE, table, NULL);
    PATH_OR_RETURN(pa, CSTORE_ASSIGNMENT, table, NULL);
    size_t ll, al = 0;
    char *lj = lineage_to_json(l, &ll), *aj = a ? assign_to_json(a, &al) : NULL;
    zk_op ops[2] = {version < 0 ? zk_op_create(pl, lj, ll, 0) : zk_op_set(pl, lj, ll, version),
                    zk_op_set(pa, aj, al, assign_version)};
    int rc = zk_multi(z, ops, a ? 2 : 1, NULL);
    free(lj);
    free(aj);
    return rc;
}

int cstore_segments(const cstore *s, zk *z, const char *table, char ***names, size_t *n)
{
    *names = NULL;
    *n = 0;
    PATH_OR_RETURN(path, CSTORE_SEGMENTS, table, NULL);
    return zk_children(z, path, names, n);
}

/* ---- assignment ---------------------------------------------------------------------------- */

int cstore_assign_get(const cstore *s, zk *z, const char *table, assign *a, int32_t *version,
                      char *err, size_t errlen)
{
    PATH_OR_RETURN(path, CSTORE_ASSIGNMENT, table, NULL);
    uint8_t *data;
    size_t len;
    int rc = zk_get(z, path, &data, &len, version);
    if (rc) return rc;
    rc = assign_parse((const char *)data, len, a, err, errlen);
    free(data);
    return rc;
}

int cstore_watch_assignment(const cstore *s, zk *z, const char *table,
                            void (*cb)(void *ctx, const char *path), void *ctx, uint64_t *id)
{
    PATH_OR_RETURN(path, CSTORE_ASSIGNMENT, table, NULL);
    return zk_watch(z, path, ZK_WATCH_DATA, cb, ctx, id);
}

int cstore_watch_tables(const cstore *s, zk *z, void (*cb)(void *ctx, const char *path), void *ctx,
                        uint64_t *id)
{
    PATH_OR_RETURN(path, CSTORE_TABLES, NULL, NULL);
    return zk_watch(z, path, ZK_WATCH_CHILDREN, cb, ctx, id);
}

/* ---- the commit and repair multi-ops ----------------------------------------------------------
 */

/* ops[0] is `first` on segments/<first_name>, then create segments/<next> (unless next is
 * NULL), set assignment. *failed_op is reported as the CSTORE_OP_* of the failing op. */
static int cstore__three_ops(const cstore *s, zk *z, const char *table, zk_op_type first,
                             const char *first_name, const segmeta *first_meta,
                             int32_t first_version, const segmeta *next, const assign *a,
                             int32_t assign_version, int *failed_op)
{
    if (failed_op) *failed_op = -1;
    PATH_OR_RETURN(pm, CSTORE_SEGMENT, table, first_name);
    PATH_OR_RETURN(pn, CSTORE_SEGMENT, table, next ? next->segment : first_name);
    PATH_OR_RETURN(pa, CSTORE_ASSIGNMENT, table, NULL);
    uint8_t *mb = NULL, *nb = NULL;
    size_t ml = 0, nl = 0, al = 0;
    int rc = first_meta ? segmeta_encode(first_meta, &mb, &ml) : 0;
    if (rc) return rc;
    if (next && (rc = segmeta_encode(next, &nb, &nl))) {
        free(mb);
        return rc;
    }
    char *aj = assign_to_json(a, &al);
    zk_op ops[3];
    int kinds[3];
    size_t n = 0;
    kinds[n] = CSTORE_OP_SEGMENT;
    ops[n++] =
        first == ZK_OP_SET ? zk_op_set(pm, mb, ml, first_version) : zk_op_check(pm, first_version);
    if (next) {
        kinds[n] = CSTORE_OP_NEXT;
        ops[n++] = zk_op_create(pn, nb, nl, 0);
    }
    kinds[n] = CSTORE_OP_ASSIGNMENT;
    ops[n++] = zk_op_set(pa, aj, al, assign_version);
    int failed = -1;
    rc = zk_multi(z, ops, n, &failed);
    if (failed_op && failed >= 0 && (size_t)failed < n) *failed_op = kinds[failed];
    free(mb);
    free(nb);
    free(aj);
    return rc;
}

int cstore_commit(const cstore *s, zk *z, const char *table, const segmeta *done,
                  int32_t done_version, const segmeta *next, const assign *a,
                  int32_t assign_version, int *failed_op)
{
    return cstore__three_ops(s, z, table, ZK_OP_SET, done->segment, done, done_version, next, a,
                             assign_version, failed_op);
}

int cstore_repair(const cstore *s, zk *z, const char *table, const char *newest,
                  int32_t newest_version, const segmeta *next, const assign *a,
                  int32_t assign_version, int *failed_op)
{
    return cstore__three_ops(s, z, table, ZK_OP_CHECK, newest, NULL, newest_version, next, a,
                             assign_version, failed_op);
}

int cstore_assign_open(const cstore *s, zk *z, const char *table, const segmeta *segs,
                       const int32_t *versions, size_t n, const assign *a, int32_t assign_version)
{
    if (n + 1 > ZK_MULTI_MAX) return SL_ELIMIT;
    zk_op *ops = sl_xcalloc(n + 1, sizeof *ops);
    char(*paths)[ZK_PATH_MAX] = sl_xcalloc(n + 1, sizeof *paths);
    uint8_t **bufs = sl_xcalloc(n + 1, sizeof *bufs);
    int rc = 0;
    size_t i = 0;
    for (; i < n && !rc; i++) {
        size_t l = 0;
        rc = cstore_path(s, CSTORE_SEGMENT, table, segs[i].segment, paths[i], sizeof paths[i]);
        if (!rc) rc = segmeta_encode(&segs[i], &bufs[i], &l);
        ops[i] = versions ? zk_op_set(paths[i], bufs[i], l, versions[i])
                          : zk_op_create(paths[i], bufs[i], l, 0);
    }
    size_t al;
    char *aj = assign_to_json(a, &al);
    if (!rc) rc = cstore_path(s, CSTORE_ASSIGNMENT, table, NULL, paths[n], sizeof paths[n]);
    ops[n] = zk_op_set(paths[n], aj, al, assign_version);
    if (!rc) rc = zk_multi(z, ops, n + 1, NULL);
    for (size_t k = 0; k < i; k++)
        free(bufs[k]);
    free(aj);
    free(bufs);
    free(paths);
    free(ops);
    return rc;
}

int cstore_job_create(const cstore *s, zk *z, const char *table, const char *id, const char *json,
                      const assign *a, int32_t assign_version)
{
    PATH_OR_RETURN(pd, CSTORE_JOBS, table, NULL);
    PATH_OR_RETURN(pj, CSTORE_JOB, table, id);
    PATH_OR_RETURN(pa, CSTORE_ASSIGNMENT, table, NULL);
    int rc = zk_ensure_path(z, pd);
    if (rc) return rc;
    size_t al;
    char *aj = assign_to_json(a, &al);
    zk_op ops[2] = {zk_op_create(pj, json, strlen(json), 0), zk_op_set(pa, aj, al, assign_version)};
    rc = zk_multi(z, ops, 2, NULL);
    free(aj);
    return rc;
}

int cstore_job_get(const cstore *s, zk *z, const char *table, const char *id, char **json,
                   size_t *len)
{
    *json = NULL;
    PATH_OR_RETURN(pj, CSTORE_JOB, table, id);
    uint8_t *data;
    int rc = zk_get(z, pj, &data, len, NULL);
    if (rc) return rc;
    *json = sl_xrealloc(data, *len + 1);
    (*json)[*len] = '\0';
    return 0;
}

/* ---- instances --------------------------------------------------------------------------------
 */

int cstore_instance_register(const cstore *s, zk *z, const char *id, const char *host,
                             unsigned port, bool tls, bool replace)
{
    PATH_OR_RETURN(path, CSTORE_INSTANCE, NULL, id);
    char data[300];
    int n = snprintf(data, sizeof data, "{\"host\":\"%s\",\"port\":%u%s}", host, port,
                     tls ? ",\"scheme\":\"https\"" : "");
    if (n < 0 || (size_t)n >= sizeof data) return SL_ELIMIT;
    int rc = zk_create(z, path, data, (size_t)n, ZK_EPHEMERAL, NULL, 0);
    if (rc == SL_EEXIST && replace) { /* our previous session's node may linger until it expires */
        zk_delete(z, path, -1);
        rc = zk_create(z, path, data, (size_t)n, ZK_EPHEMERAL, NULL, 0);
    }
    return rc;
}

int cstore_instance_exists(const cstore *s, zk *z, const char *id)
{
    PATH_OR_RETURN(path, CSTORE_INSTANCE, NULL, id);
    return zk_exists(z, path, NULL);
}

int cstore_instances(const cstore *s, zk *z, char ***names, size_t *n)
{
    *names = NULL;
    *n = 0;
    PATH_OR_RETURN(path, CSTORE_INSTANCES, NULL, NULL);
    return zk_children(z, path, names, n);
}

int cstore_instance_url(const cstore *s, zk *z, const char *id, char *url, size_t cap)
{
    PATH_OR_RETURN(path, CSTORE_INSTANCE, NULL, id);
    uint8_t *data;
    size_t len;
    int rc = zk_get(z, path, &data, &len, NULL);
    if (rc) return rc;
    json_t *inst = json_loadb((const char *)data, len, 0, NULL);
    free(data);
    const char *h = json_string_value(json_object_get(inst, "host"));
    json_int_t p = json_integer_value(json_object_get(inst, "port"));
    const char *scheme = json_string_value(json_object_get(inst, "scheme"));
    bool https = scheme && strcmp(scheme, "https") == 0;
    int n = h && p > 0 && p < 65536 && (!scheme || https)
                ? snprintf(url, cap, "%s://%s:%lld", https ? "https" : "http", h, (long long)p)
                : -1;
    rc = n > 0 && (size_t)n < cap ? 0 : SL_ECORRUPT;
    json_decref(inst);
    return rc;
}

/* ---- replicas/<id> ------------------------------------------------------------------------------
 */

int cstore_replica_record(const cstore *s, zk *z, const char *table, const char *id,
                          const char *segment, const char *state)
{
    PATH_OR_RETURN(path, CSTORE_REPLICA, table, id);
    int rc = 0;
    for (int attempt = 0; attempt < CSTORE_REPLICA_ATTEMPTS; attempt++) {
        uint8_t *data = NULL;
        size_t len = 0;
        int32_t version = -1;
        rc = zk_get(z, path, &data, &len, &version);
        json_t *obj = rc == 0 ? json_loadb((const char *)data, len, 0, NULL) : NULL;
        free(data);
        if (!json_is_object(obj)) {
            json_decref(obj);
            obj = json_object();
        }
        const char *prev = json_string_value(json_object_get(obj, segment));
        if (state ? prev && strcmp(prev, state) == 0 : !prev) { /* already recorded */
            json_decref(obj);
            return 0;
        }
        if (state)
            json_object_set_new(obj, segment, json_string(state));
        else
            json_object_del(obj, segment);
        char *out = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(obj);
        rc = rc == SL_ENOENT ? zk_create(z, path, out, strlen(out), 0, NULL, 0)
                             : zk_set(z, path, out, strlen(out), version, NULL);
        free(out);
        if (rc == 0) return 0;
        /* a set that lost its compare-and-set, or a create that lost to another replica's
         * (SL_EEXIST here is the same lost race): read the record again and retry */
        sl_err_action act = rc == SL_EEXIST ? SL_ACT_REFRESH : sl_err_action_of(rc);
        if (act != SL_ACT_REFRESH || attempt == CSTORE_REPLICA_ATTEMPTS - 1) return rc;
        sl_clock_sleep_ms(20);
    }
    return rc;
}

int cstore_replica_ids(const cstore *s, zk *z, const char *table, char ***names, size_t *n)
{
    *names = NULL;
    *n = 0;
    PATH_OR_RETURN(path, CSTORE_REPLICAS, table, NULL);
    return zk_children(z, path, names, n);
}

int cstore_replica_get(const cstore *s, zk *z, const char *table, const char *id, json_t **obj)
{
    *obj = NULL;
    PATH_OR_RETURN(path, CSTORE_REPLICA, table, id);
    uint8_t *d;
    size_t dl;
    int rc = zk_get(z, path, &d, &dl, NULL);
    if (rc) return rc;
    *obj = json_loadb((const char *)d, dl, 0, NULL);
    free(d);
    return 0;
}

/* ---- controllers/ ------------------------------------------------------------------------------
 */

zk_election *cstore_election_join(const cstore *s, zk *z, const char *my_url,
                                  void (*on_change)(void *ctx, bool is_leader,
                                                    const char *leader_url),
                                  void *ctx, int *err)
{
    char dir[ZK_PATH_MAX];
    int rc = cstore_path(s, CSTORE_CONTROLLERS, NULL, NULL, dir, sizeof dir);
    if (rc) {
        if (err) *err = rc;
        return NULL;
    }
    return zk_election_join(z, dir, my_url, on_change, ctx, err);
}

int cstore_leader_peek(const cstore *s, zk *z, char **url)
{
    *url = NULL;
    PATH_OR_RETURN(dir, CSTORE_CONTROLLERS, NULL, NULL);
    return zk_election_peek(z, dir, url);
}
