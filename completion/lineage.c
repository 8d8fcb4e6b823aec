/* Segment lineage: parse, serialize and the rules of its one state machine (lineage.h). */
#include "completion/lineage.h"

#include "common/jsonw.h"
#include "common/log.h"
#include "segment/segname.h"
#include "common/sl_err.h"
#include "common/xalloc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const lineage_state_names[LINEAGE_STATE__COUNT] = {
    [LINEAGE_IN_PROGRESS] = "IN_PROGRESS",
    [LINEAGE_COMPLETED] = "COMPLETED",
    [LINEAGE_REVERTED] = "REVERTED",
};

const char *lineage_state_name(lineage_state s)
{
    return (unsigned)s < LINEAGE_STATE__COUNT ? lineage_state_names[s] : "?";
}

static void lineage__entry_free(lineage_entry *e)
{
    for (size_t i = 0; i < e->nfrom; i++)
        free(e->from[i]);
    for (size_t i = 0; i < e->nto; i++)
        free(e->to[i]);
    free(e->from);
    free(e->to);
}

void lineage_free(lineage *l)
{
    for (size_t i = 0; i < l->n; i++)
        lineage__entry_free(&l->e[i]);
    free(l->e);
    l->e = NULL;
    l->n = 0;
}

static bool lineage__id_ok(const char *id)
{
    if (strlen(id) != LINEAGE_ID_LEN) return false;
    for (const char *p = id; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return false;
    return true;
}

/* A JSON array of segment names into *names and *n; false when it is not one. */
static bool lineage__names(json_t *arr, char ***names, size_t *n)
{
    if (!json_is_array(arr) || json_array_size(arr) > LINEAGE_MAX_SEGMENTS) return false;
    *n = json_array_size(arr);
    *names = sl_xcalloc(*n ? *n : 1, sizeof **names);
    for (size_t i = 0; i < *n; i++) {
        json_t *s = json_array_get(arr, i);
        if (!json_is_string(s) || !segname_valid_any(json_string_value(s))) {
            *n = i;
            return false;
        }
        (*names)[i] = sl_xstrdup(json_string_value(s));
    }
    return true;
}

int lineage_parse(const char *json, size_t len, lineage *l, char *err, size_t errlen)
{
    memset(l, 0, sizeof *l);
    json_error_t je;
    json_t *root = json_loadb(json, len, 0, &je);
    json_t *ents = root ? json_object_get(root, "lineageEntries") : NULL;
    if (!json_is_object(root) || (ents && !json_is_object(ents))) {
        snprintf(err, errlen, "lineage: %s", root ? "lineageEntries is not an object" : je.text);
        json_decref(root);
        return SL_ECORRUPT;
    }
    const char *id;
    json_t *v;
    l->e = sl_xcalloc(ents && json_object_size(ents) ? json_object_size(ents) : 1, sizeof *l->e);
    json_object_foreach(ents, id, v)
    {
        lineage_entry *e = &l->e[l->n++];
        json_t *st = json_object_get(v, "state"), *ts = json_object_get(v, "timestamp");
        size_t s = 0;
        while (json_is_string(st) && s < LINEAGE_STATE__COUNT &&
               strcmp(json_string_value(st), lineage_state_names[s]) != 0)
            s++;
        bool ok = lineage__id_ok(id) && json_is_string(st) && s < LINEAGE_STATE__COUNT &&
                  json_is_integer(ts);
        ok = lineage__names(json_object_get(v, "segmentsFrom"), &e->from, &e->nfrom) && ok;
        ok = lineage__names(json_object_get(v, "segmentsTo"), &e->to, &e->nto) && ok;
        if (!ok) {
            snprintf(err, errlen, "lineage: bad entry \"%.40s\"", id);
            json_decref(root);
            lineage_free(l);
            return SL_ECORRUPT;
        }
        snprintf(e->id, sizeof e->id, "%s", id);
        e->state = (lineage_state)s;
        e->timestamp_ms = json_integer_value(ts);
    }
    json_decref(root);
    return 0;
}

char *lineage_to_json(const lineage *l, size_t *len)
{
    jsonw w;
    jsonw_init(&w);
    jsonw_obj_begin(&w);
    jsonw_key(&w, "lineageEntries");
    jsonw_obj_begin(&w);
    for (size_t i = 0; i < l->n; i++) {
        const lineage_entry *e = &l->e[i];
        jsonw_key(&w, e->id);
        jsonw_obj_begin(&w);
        jsonw_key(&w, "state");
        jsonw_cstr(&w, lineage_state_name(e->state));
        jsonw_key(&w, "segmentsFrom");
        jsonw_arr_begin(&w);
        for (size_t k = 0; k < e->nfrom; k++)
            jsonw_cstr(&w, e->from[k]);
        jsonw_arr_end(&w);
        jsonw_key(&w, "segmentsTo");
        jsonw_arr_begin(&w);
        for (size_t k = 0; k < e->nto; k++)
            jsonw_cstr(&w, e->to[k]);
        jsonw_arr_end(&w);
        jsonw_key(&w, "timestamp");
        jsonw_i64(&w, e->timestamp_ms);
        jsonw_obj_end(&w);
    }
    jsonw_obj_end(&w);
    jsonw_obj_end(&w);
    *len = w.len;
    return w.buf;
}

lineage_entry *lineage_find(const lineage *l, const char *id)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->e[i].id, id) == 0) return &l->e[i];
    return NULL;
}

static bool lineage__has(char *const *names, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0) return true;
    return false;
}

const lineage_entry *lineage_pending_to(const lineage *l, const char *segment)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->e[i].state == LINEAGE_IN_PROGRESS && lineage__has(l->e[i].to, l->e[i].nto, segment))
            return &l->e[i];
    return NULL;
}

const lineage_entry *lineage_reverted_to(const lineage *l, const char *segment)
{
    if (lineage_pending_to(l, segment)) return NULL;
    for (size_t i = 0; i < l->n; i++)
        if (l->e[i].state == LINEAGE_REVERTED && lineage__has(l->e[i].to, l->e[i].nto, segment))
            return &l->e[i];
    return NULL;
}

int lineage_move(lineage_entry *e, lineage_state to, int64_t now_ms)
{
    if (e->state != LINEAGE_IN_PROGRESS || (to != LINEAGE_COMPLETED && to != LINEAGE_REVERTED)) {
        SL_WARN("lineage", "illegal move entry=%s %s -> %s", e->id, lineage_state_name(e->state),
                lineage_state_name(to));
        return SL_ESTATE;
    }
    SL_INFO("lineage", "entry=%s %s -> %s from=%zu to=%zu", e->id, lineage_state_name(e->state),
            lineage_state_name(to), e->nfrom, e->nto);
    e->state = to;
    e->timestamp_ms = now_ms;
    return 0;
}

/* Whether any name of a (n of them) is on either side of e. */
static const char *lineage__overlap(const lineage_entry *e, const char *const *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lineage__has(e->from, e->nfrom, a[i]) || lineage__has(e->to, e->nto, a[i])) return a[i];
    return NULL;
}

static char **lineage__copy(const char *const *names, size_t n)
{
    char **c = sl_xcalloc(n ? n : 1, sizeof *c);
    for (size_t i = 0; i < n; i++)
        c[i] = sl_xstrdup(names[i]);
    return c;
}

int lineage_start(lineage *l, const char *id, const char *const *from, size_t nfrom,
                  const char *const *to, size_t nto, bool force_cleanup, int64_t now_ms,
                  char ***cleanup, size_t *ncleanup, char *err, size_t errlen)
{
    if (nfrom > LINEAGE_MAX_SEGMENTS || nto > LINEAGE_MAX_SEGMENTS) {
        snprintf(err, errlen, "more than %d segments on a side", LINEAGE_MAX_SEGMENTS);
        return SL_ELIMIT;
    }
    /* no name twice: on one side, or on both */
    for (size_t i = 0; i < nfrom + nto; i++) {
        const char *s = i < nfrom ? from[i] : to[i - nfrom];
        for (size_t j = i + 1; j < nfrom + nto; j++)
            if (strcmp(s, j < nfrom ? from[j] : to[j - nfrom]) == 0) {
                snprintf(err, errlen,
                         "segment %s is named twice (segmentsFrom and segmentsTo "
                         "must be distinct names)",
                         s);
                return SL_ECONFLICT;
            }
    }
    for (size_t i = 0; i < l->n; i++) {
        lineage_entry *e = &l->e[i];
        if (e->state != LINEAGE_IN_PROGRESS) continue;
        const char *s = lineage__overlap(e, from, nfrom);
        if (!s) s = lineage__overlap(e, to, nto);
        if (!s) continue;
        if (!force_cleanup) {
            snprintf(err, errlen,
                     "segment %s is in replacement %s, still IN_PROGRESS (end or revert it, or "
                     "start with forceCleanup=true)",
                     s, e->id);
            return SL_ECONFLICT;
        }
    }
    /* checks passed: the forced reverts, then the entry */
    for (size_t i = 0; force_cleanup && i < l->n; i++) {
        lineage_entry *e = &l->e[i];
        if (e->state != LINEAGE_IN_PROGRESS ||
            (!lineage__overlap(e, from, nfrom) && !lineage__overlap(e, to, nto)))
            continue;
        lineage_move(e, LINEAGE_REVERTED, now_ms);
        /* its segmentsTo that the new entry reuses stay: the retry pushes them again */
        size_t keep = 0;
        for (size_t k = 0; k < e->nto; k++) {
            bool reused = false;
            for (size_t j = 0; j < nto && !reused; j++)
                reused = strcmp(e->to[k], to[j]) == 0;
            if (reused) {
                free(e->to[k]);
                continue;
            }
            e->to[keep++] = e->to[k];
            *cleanup = sl_xrealloc(*cleanup, (*ncleanup + 1) * sizeof **cleanup);
            (*cleanup)[(*ncleanup)++] = sl_xstrdup(e->to[keep - 1]);
        }
        e->nto = keep;
    }
    l->e = sl_xrealloc(l->e, (l->n + 1) * sizeof *l->e);
    lineage_entry *e = &l->e[l->n++];
    memset(e, 0, sizeof *e);
    snprintf(e->id, sizeof e->id, "%s", id);
    e->state = LINEAGE_IN_PROGRESS;
    e->from = lineage__copy(from, nfrom);
    e->nfrom = nfrom;
    e->to = lineage__copy(to, nto);
    e->nto = nto;
    e->timestamp_ms = now_ms;
    /* what cannot be pruned must fit the node */
    lineage open = {.e = sl_xcalloc(l->n, sizeof *l->e), .n = 0};
    for (size_t i = 0; i < l->n; i++)
        if (l->e[i].state == LINEAGE_IN_PROGRESS) open.e[open.n++] = l->e[i];
    size_t bytes;
    free(lineage_to_json(&open, &bytes));
    free(open.e); /* borrowed entries */
    if (bytes > LINEAGE_MAX_BYTES) {
        snprintf(err, errlen,
                 "the table's replacements in progress would take %zu bytes of lineage, more than "
                 "%u: end or revert some, or replace fewer segments at once",
                 bytes, LINEAGE_MAX_BYTES);
        return SL_ELIMIT;
    }
    SL_INFO("lineage", "entry=%s started from=%zu to=%zu", id, nfrom, nto);
    return 0;
}

void lineage_prune(lineage *l)
{
    size_t finished = 0;
    for (size_t i = 0; i < l->n; i++)
        finished += l->e[i].state != LINEAGE_IN_PROGRESS;
    size_t drop = finished > LINEAGE_KEEP_FINISHED ? finished - LINEAGE_KEEP_FINISHED : 0, k = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (drop && l->e[i].state != LINEAGE_IN_PROGRESS) { /* oldest first: creation order */
            lineage__entry_free(&l->e[i]);
            drop--;
            continue;
        }
        l->e[k++] = l->e[i];
    }
    l->n = k;
    /* and by size, oldest finished first */
    for (;;) {
        size_t bytes;
        free(lineage_to_json(l, &bytes));
        size_t i = 0;
        while (i < l->n && l->e[i].state == LINEAGE_IN_PROGRESS)
            i++;
        if (bytes <= LINEAGE_MAX_BYTES || i == l->n) break;
        lineage__entry_free(&l->e[i]);
        memmove(&l->e[i], &l->e[i + 1], (l->n - i - 1) * sizeof *l->e);
        l->n--;
    }
}
