/* Table assignment JSON model (see assign.h). */
#include "completion/assign.h"
#include "common/jsonw.h"
#include "common/sl_err.h"
#include "common/xalloc.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const assign_state_names[ASSIGN_STATE__COUNT] = {[ASSIGN_CONSUMING] =
                                                                        "CONSUMING",
                                                                    [ASSIGN_ONLINE] = "ONLINE",
                                                                    [ASSIGN_OFFLINE] = "OFFLINE",
                                                                    [ASSIGN_ERROR] = "ERROR"};

const char *assign_state_name(assign_state s)
{
    return s < ASSIGN_STATE__COUNT ? assign_state_names[s] : "?";
}

int assign_state_parse(const char *name, assign_state *out)
{
    for (int i = 0; i < ASSIGN_STATE__COUNT; i++)
        if (strcmp(name, assign_state_names[i]) == 0) {
            *out = (assign_state)i;
            return 0;
        }
    return SL_EINVAL;
}

static void assign__seg_free(assign_seg *s)
{
    free(s->inst.id);
    free(s->state);
    s->inst.id = NULL;
    s->state = NULL;
    s->inst.n = s->inst.cap = 0;
}

void assign_seg_host(assign_seg *s, const char *id, assign_state st)
{
    if (s->inst.n == s->inst.cap) {
        s->inst.cap = s->inst.cap ? s->inst.cap * 2 : 4;
        s->inst.id = sl_xrealloc(s->inst.id, s->inst.cap * sizeof *s->inst.id);
        s->state = sl_xrealloc(s->state, s->inst.cap * sizeof *s->state);
    }
    snprintf(s->inst.id[s->inst.n], SL_IDENT_MAX + 1, "%s", id);
    s->state[s->inst.n++] = st;
}

void assign_seg_set(assign_seg *s, const assign_list *inst, assign_state st)
{
    s->inst.n = 0;
    for (uint32_t i = 0; i < inst->n; i++)
        assign_seg_host(s, inst->id[i], st);
}

void assign_seg_list(const assign_seg *s, assign_list *out)
{
    memset(out, 0, sizeof *out);
    for (uint32_t i = 0; i < s->inst.n && i < SL_MAX_REPLICATION; i++)
        snprintf(out->id[out->n++], SL_IDENT_MAX + 1, "%s", s->inst.id[i]);
}

void assign_free(assign *a)
{
    free(a->part);
    for (size_t i = 0; i < a->nseg; i++)
        assign__seg_free(&a->seg[i]);
    free(a->seg);
    free(a->force);
    memset(a, 0, sizeof *a);
}

static int assign__id(char *dst, const char *src, char *err, size_t errlen)
{
    size_t n = strlen(src);
    if (n == 0 || n > SL_IDENT_MAX) {
        return sl_fail(err, errlen, SL_ECORRUPT, "instance id of %zu bytes", n);
    }
    memcpy(dst, src, n + 1);
    return 0;
}

assign_seg *assign_add(assign *a, const char *segment, const assign_list *inst, assign_state st)
{
    if (a->nseg == a->capseg) {
        a->capseg = a->capseg ? a->capseg * 2 : 16;
        a->seg = sl_xrealloc(a->seg, a->capseg * sizeof *a->seg);
    }
    assign_seg *s = &a->seg[a->nseg++];
    memset(s, 0, sizeof *s);
    snprintf(s->segment, sizeof s->segment, "%s", segment);
    assign_seg_set(s, inst, st);
    return s;
}

int assign_parse(const char *json, size_t len, assign *a, char *err, size_t errlen)
{
    memset(a, 0, sizeof *a);
    json_error_t je;
    json_t *root = json_loadb(json, len, 0, &je);
    json_t *parts = root ? json_object_get(root, "partitions") : NULL;
    json_t *segs = root ? json_object_get(root, "segments") : NULL;
    if (!json_is_object(parts) || !json_is_object(segs)) {
        snprintf(err, errlen, "assignment: %s", root ? "missing partitions/segments" : je.text);
        json_decref(root);
        return SL_ECORRUPT;
    }
    a->npart = (uint32_t)json_object_size(parts);
    a->part = sl_xcalloc(a->npart, sizeof *a->part);
    const char *key;
    json_t *val;
    json_object_foreach(parts, key, val)
    {
        char *end;
        long p = strtol(key, &end, 10);
        if (*end || p < 0 || p >= (long)a->npart || !json_is_array(val) ||
            json_array_size(val) > SL_MAX_REPLICATION) {
            snprintf(err, errlen, "assignment: bad partition entry \"%s\"", key);
            goto fail;
        }
        assign_list *l = &a->part[p];
        for (size_t i = 0; i < json_array_size(val); i++) {
            json_t *s = json_array_get(val, i);
            if (!json_is_string(s) || assign__id(l->id[l->n++], json_string_value(s), err, errlen))
                goto fail;
        }
    }
    json_object_foreach(segs, key, val)
    {
        if (!json_is_object(val) || json_object_size(val) > ASSIGN_MAX_HOSTS ||
            strlen(key) >= sizeof a->seg[0].segment) {
            snprintf(err, errlen, "assignment: bad segment entry \"%.64s\"", key);
            goto fail;
        }
        assign_list none = {0};
        assign_seg *s = assign_add(a, key, &none, ASSIGN_CONSUMING);
        const char *ik;
        json_t *iv;
        json_object_foreach(val, ik, iv)
        {
            assign_state st;
            size_t il = strlen(ik);
            if (!json_is_string(iv) || il == 0 || il > SL_IDENT_MAX ||
                assign_state_parse(json_string_value(iv), &st) != 0) {
                snprintf(err, errlen, "assignment: segment %.64s: bad replica entry", key);
                goto fail;
            }
            assign_seg_host(s, ik, st);
        }
    }
    json_t *paused = json_object_get(root, "pausedSinceMs");
    if (paused && (!json_is_integer(paused) || json_integer_value(paused) <= 0)) {
        snprintf(err, errlen, "assignment: pausedSinceMs is not a positive integer");
        goto fail;
    }
    a->paused_ms = paused ? (int64_t)json_integer_value(paused) : 0;
    json_t *boot = json_object_get(root, "bootstrapSinceMs");
    if (boot && (!json_is_integer(boot) || json_integer_value(boot) <= 0)) {
        snprintf(err, errlen, "assignment: bootstrapSinceMs is not a positive integer");
        goto fail;
    }
    a->bootstrap_ms = boot ? (int64_t)json_integer_value(boot) : 0;
    json_t *force = json_object_get(root, "forceCommit");
    if (force && !json_is_object(force)) {
        snprintf(err, errlen, "assignment: forceCommit is not an object");
        goto fail;
    }
    json_object_foreach(force, key, val)
    {
        if (!json_is_string(val) || strlen(key) >= sizeof a->force[0].segment ||
            strlen(json_string_value(val)) >= sizeof a->force[0].job) {
            snprintf(err, errlen, "assignment: bad forceCommit entry \"%.64s\"", key);
            goto fail;
        }
        assign_force_add(a, key, json_string_value(val));
    }
    json_decref(root);
    return 0;
fail:
    json_decref(root);
    assign_free(a);
    return SL_ECORRUPT;
}

char *assign_to_json(const assign *a, size_t *len)
{
    jsonw w;
    jsonw_init(&w);
    jsonw_obj_begin(&w);
    jsonw_key(&w, "partitions");
    jsonw_obj_begin(&w);
    for (uint32_t p = 0; p < a->npart; p++) {
        char k[16];
        snprintf(k, sizeof k, "%u", p);
        jsonw_key(&w, k);
        jsonw_arr_begin(&w);
        for (uint32_t i = 0; i < a->part[p].n; i++)
            jsonw_cstr(&w, a->part[p].id[i]);
        jsonw_arr_end(&w);
    }
    jsonw_obj_end(&w);
    jsonw_key(&w, "segments");
    jsonw_obj_begin(&w);
    for (size_t s = 0; s < a->nseg; s++) {
        jsonw_key(&w, a->seg[s].segment);
        jsonw_obj_begin(&w);
        for (uint32_t i = 0; i < a->seg[s].inst.n; i++) {
            jsonw_key(&w, a->seg[s].inst.id[i]);
            jsonw_cstr(&w, assign_state_name(a->seg[s].state[i]));
        }
        jsonw_obj_end(&w);
    }
    jsonw_obj_end(&w);
    if (a->nforce) {
        jsonw_key(&w, "forceCommit");
        jsonw_obj_begin(&w);
        for (size_t i = 0; i < a->nforce; i++) {
            jsonw_key(&w, a->force[i].segment);
            jsonw_cstr(&w, a->force[i].job);
        }
        jsonw_obj_end(&w);
    }
    if (a->paused_ms > 0) {
        jsonw_key(&w, "pausedSinceMs");
        jsonw_i64(&w, a->paused_ms);
    }
    if (a->bootstrap_ms > 0) {
        jsonw_key(&w, "bootstrapSinceMs");
        jsonw_i64(&w, a->bootstrap_ms);
    }
    jsonw_obj_end(&w);
    *len = w.len;
    return w.buf; /* ownership passes to the caller */
}

static int assign__cmp(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

int assign_plan(assign *a, const char *const *live, size_t nlive, uint32_t partitions,
                uint32_t replication)
{
    if (replication == 0 || nlive < replication || replication > SL_MAX_REPLICATION)
        return SL_EINVAL;
    const char **sorted = sl_xmalloc(nlive * sizeof *sorted);
    memcpy(sorted, live, nlive * sizeof *sorted);
    qsort(sorted, nlive, sizeof *sorted, assign__cmp);
    assign_free(a);
    a->npart = partitions;
    a->part = sl_xcalloc(partitions, sizeof *a->part);
    for (uint32_t p = 0; p < partitions; p++) {
        for (uint32_t k = 0; k < replication; k++) {
            const char *id = sorted[(p + k) % nlive];
            snprintf(a->part[p].id[a->part[p].n++], SL_IDENT_MAX + 1, "%s", id);
        }
    }
    free(sorted);
    return 0;
}

/* How many segment entries of a list instance id. */
static size_t assign__load(const assign *a, const char *id)
{
    size_t n = 0;
    for (size_t i = 0; i < a->nseg; i++)
        for (uint32_t k = 0; k < a->seg[i].inst.n; k++)
            if (strcmp(a->seg[i].inst.id[k], id) == 0) n++;
    return n;
}

static bool assign__lists(const assign_hosts *l, const char *id)
{
    for (uint32_t k = 0; k < l->n; k++)
        if (strcmp(l->id[k], id) == 0) return true;
    return false;
}

uint32_t assign_fill(assign *a, size_t seg, const char *const *live, size_t nlive, uint32_t want,
                     assign_state st)
{
    if (want > ASSIGN_MAX_HOSTS) want = ASSIGN_MAX_HOSTS;
    uint32_t added = 0;
    while (a->seg[seg].inst.n < want) {
        const char *best = NULL;
        size_t best_load = 0;
        for (size_t i = 0; i < nlive; i++) {
            if (assign__lists(&a->seg[seg].inst, live[i])) continue;
            size_t load = assign__load(a, live[i]);
            if (!best || load < best_load || (load == best_load && strcmp(live[i], best) < 0)) {
                best = live[i];
                best_load = load;
            }
        }
        if (!best) break;
        assign_seg_host(&a->seg[seg], best, st);
        added++;
    }
    return added;
}

assign_seg *assign_find(assign *a, const char *segment)
{
    for (size_t i = 0; i < a->nseg; i++)
        if (strcmp(a->seg[i].segment, segment) == 0) return &a->seg[i];
    return NULL;
}

int assign_remove(assign *a, const char *segment)
{
    assign_seg *s = assign_find(a, segment);
    if (!s) return SL_ENOENT;
    assign__seg_free(s);
    memmove(s, s + 1, (size_t)(a->seg + a->nseg - (s + 1)) * sizeof *s);
    a->nseg--;
    assign_force_remove(a, segment);
    return 0;
}

const char *assign_force_job(const assign *a, const char *segment)
{
    for (size_t i = 0; i < a->nforce; i++)
        if (strcmp(a->force[i].segment, segment) == 0) return a->force[i].job;
    return NULL;
}

void assign_force_add(assign *a, const char *segment, const char *job)
{
    assign_force_remove(a, segment);
    a->force = sl_xrealloc(a->force, (a->nforce + 1) * sizeof *a->force);
    assign_force *f = &a->force[a->nforce++];
    snprintf(f->segment, sizeof f->segment, "%s", segment);
    snprintf(f->job, sizeof f->job, "%s", job);
}

void assign_force_remove(assign *a, const char *segment)
{
    for (size_t i = 0; i < a->nforce; i++)
        if (strcmp(a->force[i].segment, segment) == 0) {
            memmove(a->force + i, a->force + i + 1, (a->nforce - i - 1) * sizeof *a->force);
            a->nforce--;
            return;
        }
}
