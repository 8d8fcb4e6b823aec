/* Protocol Buffers descriptors and wire format (common/pbdesc.h).
 *
 * Two passes over the set: the first collects every message and enum with its full name
 * (package, then the enclosing messages), the second reads the fields and resolves each
 * field's type name to an index. The descriptor.proto field numbers used are named where they
 * are read. */
#include "common/pbdesc.h"

#include "common/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PBDESC_MAX_FILE (64u << 20)
#define PBDESC_MAX_DEPTH 32

int pbdesc_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (*p >= end) return -1;
        uint8_t b = *(*p)++;
        x |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

static int pbdesc__skip_group(const uint8_t **p, const uint8_t *end, uint32_t number, int depth)
{
    if (depth > PBDESC_MAX_DEPTH) return -1;
    for (;;) {
        uint64_t key;
        if (pbdesc_varint(p, end, &key)) return -1;
        unsigned wt = (unsigned)(key & 7);
        uint64_t n = key >> 3, v;
        if (wt == PBDESC_WT_EGROUP) return n == number ? 0 : -1;
        switch (wt) {
        case PBDESC_WT_VARINT:
            if (pbdesc_varint(p, end, &v)) return -1;
            break;
        case PBDESC_WT_I64:
        case PBDESC_WT_I32:
            if ((size_t)(end - *p) < (wt == PBDESC_WT_I64 ? 8u : 4u)) return -1;
            *p += wt == PBDESC_WT_I64 ? 8 : 4;
            break;
        case PBDESC_WT_LEN:
            if (pbdesc_varint(p, end, &v) || v > (uint64_t)(end - *p)) return -1;
            *p += v;
            break;
        case PBDESC_WT_SGROUP:
            if (n == 0 || n > UINT32_MAX || pbdesc__skip_group(p, end, (uint32_t)n, depth + 1))
                return -1;
            break;
        default:
            return -1;
        }
    }
}

int pbdesc_next(const uint8_t **p, const uint8_t *end, pbdesc_item *it)
{
    for (;;) {
        if (*p >= end) return 0;
        uint64_t key;
        if (pbdesc_varint(p, end, &key)) return -1;
        uint64_t n = key >> 3;
        if (n == 0 || n > 0x1FFFFFFF) return -1;
        it->number = (uint32_t)n;
        it->wt = (unsigned)(key & 7);
        it->v = 0;
        it->p = NULL;
        it->len = 0;
        switch (it->wt) {
        case PBDESC_WT_VARINT:
            return pbdesc_varint(p, end, &it->v) ? -1 : 1;
        case PBDESC_WT_I64:
        case PBDESC_WT_I32: {
            size_t w = it->wt == PBDESC_WT_I64 ? 8 : 4;
            if ((size_t)(end - *p) < w) return -1;
            for (size_t i = 0; i < w; i++) /* little-endian */
                it->v |= (uint64_t)(*p)[i] << (8 * i);
            *p += w;
            return 1;
        }
        case PBDESC_WT_LEN: {
            uint64_t l;
            if (pbdesc_varint(p, end, &l) || l > (uint64_t)(end - *p)) return -1;
            it->p = *p;
            it->len = (size_t)l;
            *p += l;
            return 1;
        }
        case PBDESC_WT_SGROUP: /* a group: skipped (no type here has one) */
            if (pbdesc__skip_group(p, end, it->number, 1)) return -1;
            continue;
        default:
            return -1;
        }
    }
}

/* ---- the descriptor set ---------------------------------------------------------------- */

typedef struct pbdesc__ctx {
    pbdesc *d;
    char *why;
    size_t cap;
} pbdesc__ctx;

static int pbdesc__bad(pbdesc__ctx *c, const char *what)
{
    snprintf(c->why, c->cap, "not a descriptor set (protoc --descriptor_set_out): %s", what);
    return -1;
}

static char *pbdesc__join(const char *scope, const uint8_t *name, size_t n)
{
    return *scope ? sl_xasprintf("%s.%.*s", scope, (int)n, (const char *)name)
                  : sl_xmemdupz(name, n);
}

/* The string field number f of the message at p[0..n), or NULL (n = 0). */
static const uint8_t *pbdesc__str(const uint8_t *p, size_t n, uint32_t f, size_t *len)
{
    const uint8_t *q = p, *end = p + n, *got = NULL;
    pbdesc_item it;
    *len = 0;
    while (pbdesc_next(&q, end, &it) > 0)
        if (it.number == f && it.wt == PBDESC_WT_LEN) {
            got = it.p;
            *len = it.len;
        }
    return got;
}

/* Pass 1: a DescriptorProto (2: fields, 3: nested_type, 4: enum_type) and its nested types.
 * Messages get their index in the order met; fill: pass 2 (read the fields). */
static int pbdesc__message(pbdesc__ctx *c, const uint8_t *p, size_t n, const char *scope,
                           bool proto3, int depth, bool fill, uint32_t *mi, uint32_t *ei);

static int pbdesc__enum(pbdesc__ctx *c, const uint8_t *p, size_t n, const char *scope, bool fill,
                        uint32_t *ei)
{
    uint32_t k = (*ei)++;
    if (!fill) {
        size_t nl;
        const uint8_t *nm = pbdesc__str(p, n, 1, &nl);
        if (!nm) return pbdesc__bad(c, "an enum without a name");
        c->d->enums = sl_xrealloc(c->d->enums, (k + 1) * sizeof *c->d->enums);
        pbdesc_enum *e = &c->d->enums[k];
        memset(e, 0, sizeof *e);
        e->name = pbdesc__join(scope, nm, nl);
        e->simple = sl_xmemdupz(nm, nl);
        c->d->nenums = k + 1;
        const uint8_t *q = p, *end = p + n;
        pbdesc_item it;
        int rc;
        while ((rc = pbdesc_next(&q, end, &it)) > 0) {
            if (it.number != 2 || it.wt != PBDESC_WT_LEN) continue; /* EnumValueDescriptorProto */
            size_t vl;
            const uint8_t *vn = pbdesc__str(it.p, it.len, 1, &vl);
            int32_t num = 0;
            const uint8_t *r = it.p, *re = it.p + it.len;
            pbdesc_item f;
            while (pbdesc_next(&r, re, &f) > 0)
                if (f.number == 2 && f.wt == PBDESC_WT_VARINT) num = (int32_t)f.v;
            e->vnames = sl_xrealloc(e->vnames, (e->nvals + 1) * sizeof *e->vnames);
            e->vnums = sl_xrealloc(e->vnums, (e->nvals + 1) * sizeof *e->vnums);
            e->vnames[e->nvals] = sl_xmemdupz(vn ? vn : (const uint8_t *)"", vn ? vl : 0);
            e->vnums[e->nvals++] = num;
        }
        if (rc < 0) return pbdesc__bad(c, "a malformed enum");
    }
    return 0;
}

static int pbdesc__type_index(pbdesc__ctx *c, const uint8_t *tn, size_t tl, bool msg)
{
    if (tl && tn[0] == '.') tn++, tl--;
    uint32_t n = msg ? c->d->nmsgs : c->d->nenums;
    for (uint32_t i = 0; i < n; i++) {
        const char *name = msg ? c->d->msgs[i].name : c->d->enums[i].name;
        if (strlen(name) == tl && memcmp(name, tn, tl) == 0) return (int)i;
    }
    snprintf(c->why, c->cap,
             "the descriptor set lacks the type %.*s (build it with --include_imports)", (int)tl,
             (const char *)tn);
    return -1;
}

static int pbdesc__field(pbdesc__ctx *c, pbdesc_msg *m, const uint8_t *p, size_t n, bool proto3)
{
    pbdesc_field f = {.msg = -1, .en = -1};
    const uint8_t *q = p, *end = p + n, *tn = NULL;
    size_t tl = 0;
    pbdesc_item it;
    int rc;
    bool oneof = false, p3opt = false;
    uint64_t label = 1;
    while ((rc = pbdesc_next(&q, end, &it)) > 0) {
        if (it.number == 1 && it.wt == PBDESC_WT_LEN) {
            free(f.name);
            f.name = sl_xmemdupz(it.p, it.len);
        } else if (it.number == 3 && it.wt == PBDESC_WT_VARINT) {
            f.number = (uint32_t)it.v;
        } else if (it.number == 4 && it.wt == PBDESC_WT_VARINT) {
            label = it.v;
        } else if (it.number == 5 && it.wt == PBDESC_WT_VARINT) {
            f.type = (uint8_t)it.v;
        } else if (it.number == 6 && it.wt == PBDESC_WT_LEN) {
            tn = it.p;
            tl = it.len;
        } else if (it.number == 9 && it.wt == PBDESC_WT_VARINT) {
            oneof = true;
        } else if (it.number == 17 && it.wt == PBDESC_WT_VARINT) {
            p3opt = it.v != 0;
        }
    }
    if (rc < 0 || !f.name || f.number == 0 || f.type < PBDESC_DOUBLE || f.type > PBDESC_SINT64) {
        free(f.name);
        return pbdesc__bad(c, "a malformed field");
    }
    if (f.type == PBDESC_GROUP) {
        snprintf(c->why, c->cap, "field %s of %s is a group: not supported", f.name, m->name);
        free(f.name);
        return -1;
    }
    f.repeated = label == 3;
    f.required = label == 2;
    f.presence = !f.repeated && (f.type == PBDESC_MESSAGE || oneof || p3opt || !proto3);
    if (f.type == PBDESC_MESSAGE || f.type == PBDESC_ENUM) {
        int k = tn ? pbdesc__type_index(c, tn, tl, f.type == PBDESC_MESSAGE) : -1;
        if (k < 0) {
            if (!tn) pbdesc__bad(c, "a message or enum field without a type name");
            free(f.name);
            return -1;
        }
        if (f.type == PBDESC_MESSAGE)
            f.msg = k;
        else
            f.en = k;
    }
    m->fields = sl_xrealloc(m->fields, (m->nfields + 1) * sizeof *m->fields);
    m->fields[m->nfields++] = f;
    return 0;
}

static int pbdesc__message(pbdesc__ctx *c, const uint8_t *p, size_t n, const char *scope,
                           bool proto3, int depth, bool fill, uint32_t *mi, uint32_t *ei)
{
    if (depth > PBDESC_MAX_DEPTH) return pbdesc__bad(c, "types nested too deep");
    size_t nl;
    const uint8_t *nm = pbdesc__str(p, n, 1, &nl);
    if (!nm) return pbdesc__bad(c, "a message without a name");
    uint32_t k = (*mi)++;
    char *full = pbdesc__join(scope, nm, nl);
    if (!fill) {
        c->d->msgs = sl_xrealloc(c->d->msgs, (k + 1) * sizeof *c->d->msgs);
        pbdesc_msg *m = &c->d->msgs[k];
        memset(m, 0, sizeof *m);
        m->name = full;
        m->proto3 = proto3;
        c->d->nmsgs = k + 1;
    }
    const uint8_t *q = p, *end = p + n;
    pbdesc_item it;
    int rc;
    while ((rc = pbdesc_next(&q, end, &it)) > 0) {
        if (it.wt != PBDESC_WT_LEN) continue;
        int r = 0;
        if (it.number == 3)
            r = pbdesc__message(c, it.p, it.len, c->d->msgs[k].name, proto3, depth + 1, fill, mi,
                                ei);
        else if (it.number == 4)
            r = pbdesc__enum(c, it.p, it.len, c->d->msgs[k].name, fill, ei);
        else if (it.number == 2 && fill)
            r = pbdesc__field(c, &c->d->msgs[k], it.p, it.len, proto3);
        else if (it.number == 7 && !fill) { /* MessageOptions: 7 map_entry */
            const uint8_t *o = it.p, *oe = it.p + it.len;
            pbdesc_item oi;
            while (pbdesc_next(&o, oe, &oi) > 0)
                if (oi.number == 7 && oi.wt == PBDESC_WT_VARINT) c->d->msgs[k].map_entry = oi.v;
        }
        if (r) {
            if (fill) free(full);
            return -1;
        }
    }
    if (fill) free(full);
    return rc < 0 ? pbdesc__bad(c, "a malformed message type") : 0;
}

/* Both passes over every FileDescriptorProto (1: name, 2: package, 4: message_type,
 * 5: enum_type, 12: syntax) of the set (1: file). */
static int pbdesc__files(pbdesc__ctx *c, const uint8_t *buf, size_t len, bool fill)
{
    const uint8_t *q = buf, *end = buf + len;
    pbdesc_item it;
    int rc;
    uint32_t mi = 0, ei = 0, nfiles = 0;
    while ((rc = pbdesc_next(&q, end, &it)) > 0) {
        if (it.number != 1 || it.wt != PBDESC_WT_LEN)
            return pbdesc__bad(c, "not a FileDescriptorSet");
        nfiles++;
        size_t pl, sl;
        const uint8_t *pkg = pbdesc__str(it.p, it.len, 2, &pl);
        const uint8_t *syn = pbdesc__str(it.p, it.len, 12, &sl);
        char *scope = sl_xmemdupz(pkg ? pkg : (const uint8_t *)"", pkg ? pl : 0);
        bool proto3 = syn && sl == 6 && memcmp(syn, "proto3", 6) == 0;
        const uint8_t *r = it.p, *re = it.p + it.len;
        pbdesc_item f;
        int frc, e = 0;
        while (!e && (frc = pbdesc_next(&r, re, &f)) > 0) {
            if (f.wt != PBDESC_WT_LEN) continue;
            if (f.number == 4) e = pbdesc__message(c, f.p, f.len, scope, proto3, 0, fill, &mi, &ei);
            if (f.number == 5) e = pbdesc__enum(c, f.p, f.len, scope, fill, &ei);
        }
        free(scope);
        if (e) return -1;
        if (frc < 0) return pbdesc__bad(c, "a malformed file descriptor");
    }
    if (rc < 0) return pbdesc__bad(c, "malformed bytes");
    if (!nfiles || !c->d->nmsgs) return pbdesc__bad(c, "it declares no message");
    return 0;
}

int pbdesc_parse(const uint8_t *buf, size_t len, pbdesc **out, char *why, size_t cap)
{
    pbdesc *d = sl_xcalloc(1, sizeof *d);
    pbdesc__ctx c = {d, why, cap};
    *out = NULL;
    if (pbdesc__files(&c, buf, len, false) || pbdesc__files(&c, buf, len, true)) {
        pbdesc_free(d);
        return -1;
    }
    for (uint32_t i = 0; i < d->nmsgs; i++) {
        const pbdesc_msg *m = &d->msgs[i];
        if (m->map_entry &&
            (m->nfields != 2 || m->fields[0].number != 1 || m->fields[1].number != 2)) {
            snprintf(why, cap, "map entry %s: not a key and a value", m->name);
            pbdesc_free(d);
            return -1;
        }
    }
    *out = d;
    return 0;
}

int pbdesc_load(const char *path, pbdesc **out, char *why, size_t cap)
{
    *out = NULL;
    if (strncmp(path, "file://", 7) == 0) path += 7;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, cap, "%s: cannot open the descriptor file", path);
        return -1;
    }
    uint8_t *buf = sl_xmalloc(PBDESC_MAX_FILE);
    size_t n = fread(buf, 1, PBDESC_MAX_FILE, f);
    bool more = fgetc(f) != EOF, err = ferror(f);
    fclose(f);
    int rc = -1;
    if (err)
        snprintf(why, cap, "%s: cannot read the descriptor file", path);
    else if (more)
        snprintf(why, cap, "%s: larger than 64 MiB", path);
    else
        rc = pbdesc_parse(buf, n, out, why, cap);
    free(buf);
    return rc;
}

int pbdesc_find(const pbdesc *d, const char *name)
{
    if (!name || !*name) return d->nmsgs ? 0 : -1;
    if (*name == '.') name++;
    for (uint32_t i = 0; i < d->nmsgs; i++)
        if (strcmp(d->msgs[i].name, name) == 0) return (int)i;
    return -1;
}

const pbdesc_field *pbdesc_field_by_number(const pbdesc_msg *m, uint32_t number)
{
    for (uint32_t i = 0; i < m->nfields; i++)
        if (m->fields[i].number == number) return &m->fields[i];
    return NULL;
}

void pbdesc_free(pbdesc *d)
{
    if (!d) return;
    for (uint32_t i = 0; i < d->nmsgs; i++) {
        for (uint32_t j = 0; j < d->msgs[i].nfields; j++)
            free(d->msgs[i].fields[j].name);
        free(d->msgs[i].fields);
        free(d->msgs[i].name);
    }
    free(d->msgs);
    for (uint32_t i = 0; i < d->nenums; i++) {
        for (uint32_t j = 0; j < d->enums[i].nvals; j++)
            free(d->enums[i].vnames[j]);
        free(d->enums[i].vnames);
        free(d->enums[i].vnums);
        free(d->enums[i].name);
        free(d->enums[i].simple);
    }
    free(d->enums);
    free(d);
}
