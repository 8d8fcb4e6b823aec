/* YAML -> jansson DOM (common/yamljson.h), by libyaml's events: a stack of open containers,
 * each event adding its value to the innermost one (under the pending key of a mapping). */
#include "common/yamljson.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#define YJ_MAX_DEPTH 64

typedef struct yj_frame {
    json_t *v; /* an object or an array */
    char *key; /* a mapping's pending key (owned), or NULL */
} yj_frame;

/* Add v (a new reference, taken) to the innermost container, or make it the root. For a
 * mapping with no pending key, v is the key: it must be a string. */
static int yj_add(yj_frame *st, int depth, json_t **root, json_t *v, const char **why)
{
    if (depth == 0) {
        *root = v;
        return 0;
    }
    yj_frame *f = &st[depth - 1];
    if (json_is_array(f->v)) return json_array_append_new(f->v, v);
    if (!f->key) {
        if (!json_is_string(v)) {
            *why = "a mapping key must be a plain string";
            json_decref(v);
            return -1;
        }
        f->key = strdup(json_string_value(v));
        json_decref(v);
        return f->key ? 0 : -1;
    }
    int rc = json_object_set_new(f->v, f->key, v);
    free(f->key);
    f->key = NULL;
    return rc;
}

json_t *yamljson_parse(const char *text, size_t len, const char *src, char *err, size_t errlen)
{
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        snprintf(err, errlen, "%s: libyaml: out of memory", src);
        return NULL;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    yj_frame st[YJ_MAX_DEPTH];
    int depth = 0;
    json_t *root = NULL;
    const char *why = NULL;
    bool done = false;
    size_t line = 0;
    while (!done) {
        yaml_event_t e;
        if (!yaml_parser_parse(&p, &e)) {
            snprintf(err, errlen, "%s:%zu: %s", src, p.problem_mark.line + 1,
                     p.problem ? p.problem : "not YAML");
            goto fail;
        }
        line = e.start_mark.line + 1;
        json_t *v = NULL;
        switch (e.type) {
        case YAML_SCALAR_EVENT: {
            const char *s = (const char *)e.data.scalar.value;
            size_t n = e.data.scalar.length;
            bool plain = e.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
            if (e.data.scalar.anchor) why = "anchors and aliases are not supported";
            if (plain && (n == 0 || (n == 1 && s[0] == '~') || (n == 4 && !memcmp(s, "null", 4))))
                v = json_null();
            else
                v = json_stringn(s, n);
            if (why)
                json_decref(v);
            else if (!v || yj_add(st, depth, &root, v, &why))
                why = why ? why : "not UTF-8";
            break;
        }
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if (depth == YJ_MAX_DEPTH) {
                why = "nested deeper than 64";
                break;
            }
            if ((e.type == YAML_SEQUENCE_START_EVENT ? e.data.sequence_start.anchor
                                                     : e.data.mapping_start.anchor)) {
                why = "anchors and aliases are not supported";
                break;
            }
            v = e.type == YAML_SEQUENCE_START_EVENT ? json_array() : json_object();
            if (yj_add(st, depth, &root, json_incref(v), &why)) {
                json_decref(v);
                break;
            }
            st[depth].v = v; /* the parent (or root) holds the reference */
            json_decref(v);
            st[depth++].key = NULL;
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            free(st[--depth].key);
            break;
        case YAML_ALIAS_EVENT:
            why = "anchors and aliases are not supported";
            break;
        case YAML_DOCUMENT_END_EVENT: /* only the first document */
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        default:
            break;
        }
        yaml_event_delete(&e);
        if (why) {
            snprintf(err, errlen, "%s:%zu: %s", src, line, why);
            goto fail;
        }
    }
    yaml_parser_delete(&p);
    if (!root || json_is_null(root)) {
        json_decref(root);
        return json_object();
    }
    return root;
fail:
    while (depth > 0)
        free(st[--depth].key);
    json_decref(root);
    yaml_parser_delete(&p);
    return NULL;
}
