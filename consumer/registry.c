/* Confluent schema registry client (consumer/registry.h). */
#include "consumer/registry.h"

#include "common/clock.h"
#include "common/httpc.h"
#include "common/xalloc.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct reg_entry {
    int32_t id;
    char *text; /* NULL: the fetch failed */
    size_t len;
    char type[16];
    int64_t retry_at; /* a failure: when to ask again */
    char why[128];
} reg_entry;

struct registry {
    char *url; /* with the percent-encoded userinfo in it, no trailing '/' */
    reg_entry cache[REGISTRY_CACHE];
    uint32_t n; /* oldest first */
    httpc *http;
    httpc_resp resp;
};

/* userinfo percent-encoded for a URL's user:password@ part */
static void url_userinfo(char *out, size_t cap, const char *ui)
{
    size_t k = 0;
    for (const char *p = ui; *p && k + 4 < cap; p++) {
        unsigned char c = (unsigned char)*p;
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     strchr("-._~", c) || (c == ':' && p == strchr(ui, ':'));
        k += (size_t)(plain ? snprintf(out + k, cap - k, "%c", c)
                            : snprintf(out + k, cap - k, "%%%02X", c));
    }
    out[k] = '\0';
}

registry *registry_new(const char *url, const char *userinfo)
{
    registry *r = sl_xcalloc(1, sizeof *r);
    size_t bl = strlen(url);
    while (bl && url[bl - 1] == '/')
        bl--;
    const char *rest = strstr(url, "://");
    rest = rest ? rest + 3 : url;
    char ui[512] = "", buf[2048];
    if (userinfo) url_userinfo(ui, sizeof ui, userinfo);
    snprintf(buf, sizeof buf, "%.*s%s%s%.*s", (int)(rest - url), url, ui, *ui ? "@" : "",
             (int)(bl - (size_t)(rest - url)), rest);
    r->url = sl_xstrdup(buf);
    r->http = httpc_new();
    httpc_resp_init(&r->resp, 4u << 20);
    return r;
}

void registry_free(registry *r)
{
    if (!r) return;
    for (uint32_t i = 0; i < r->n; i++)
        free(r->cache[i].text);
    httpc_resp_free(&r->resp);
    httpc_free(r->http);
    free(r->url);
    free(r);
}

static void fetch(registry *r, reg_entry *e)
{
    char url[2304];
    snprintf(url, sizeof url, "%s/schemas/ids/%" PRId32, r->url, e->id);
    int rc = httpc_request(r->http, "GET", url, NULL, NULL, 0, REGISTRY_TIMEOUT_MS, &r->resp);
    if (rc < 0) {
        snprintf(e->why, sizeof e->why, "schema registry: %.100s", r->resp.error);
        return;
    }
    if (r->resp.status != 200) {
        snprintf(e->why, sizeof e->why, "schema registry: HTTP %ld for schema id %" PRId32,
                 r->resp.status, e->id);
        return;
    }
    json_error_t je;
    json_t *doc = json_loadb(r->resp.body ? r->resp.body : "", r->resp.len, 0, &je);
    const json_t *sj = json_object_get(doc, "schema");
    const json_t *ty = json_object_get(doc, "schemaType");
    if (!json_is_string(sj)) {
        snprintf(e->why, sizeof e->why, "schema registry: no \"schema\" string for id %" PRId32,
                 e->id);
    } else {
        e->text = sl_xmemdupz(json_string_value(sj), json_string_length(sj));
        e->len = json_string_length(sj);
        snprintf(e->type, sizeof e->type, "%s",
                 json_is_string(ty) ? json_string_value(ty) : "AVRO");
    }
    json_decref(doc);
}

int registry_schema(registry *r, int32_t id, const char **text, size_t *len, const char **type,
                    char *why, size_t cap)
{
    int64_t now = sl_clock_mono_ms();
    reg_entry *e = NULL;
    for (uint32_t i = 0; i < r->n && !e; i++) {
        if (r->cache[i].id != id) continue;
        if (r->cache[i].text || now < r->cache[i].retry_at) {
            e = &r->cache[i];
        } else { /* a failure whose time is up: ask again in its place */
            memmove(&r->cache[i], &r->cache[i + 1], (r->n - i - 1) * sizeof *e);
            r->n--;
        }
    }
    if (!e) {
        if (r->n == REGISTRY_CACHE) { /* the oldest goes */
            free(r->cache[0].text);
            memmove(&r->cache[0], &r->cache[1], (REGISTRY_CACHE - 1) * sizeof *e);
            r->n--;
        }
        e = &r->cache[r->n++];
        memset(e, 0, sizeof *e);
        e->id = id;
        e->retry_at = now + REGISTRY_RETRY_MS;
        fetch(r, e);
    }
    if (!e->text) {
        snprintf(why, cap, "%s", e->why);
        return -1;
    }
    *text = e->text;
    *len = e->len;
    *type = e->type;
    return 0;
}

int registry_wire(const uint8_t *msg, size_t len, int32_t *id, const uint8_t **payload,
                  size_t *plen)
{
    if (len < 5 || msg[0] != 0) return -1;
    *id =
        (int32_t)((uint32_t)msg[1] << 24 | (uint32_t)msg[2] << 16 | (uint32_t)msg[3] << 8 | msg[4]);
    *payload = msg + 5;
    *plen = len - 5;
    return 0;
}
