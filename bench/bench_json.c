/* JSON decoding benchmark: why simdjson On-Demand, and how fast rowdec_decode is.
 *
 * Generates N (default 1,000,000) realistic ~250-byte, 10-field events in memory (ts LONG
 * millis, user STRING ~100k distinct, country STRING ~50, device STRING ~5, event STRING ~10,
 * latency INT, price DOUBLE, session STRING, flag BOOLEAN, id LONG unique), then times on one
 * thread (its CPU time), best of 3 runs each:
 *   1. simdjson On-Demand (through jsonscan) parsing and reading every field of every event,
 *      keeping nothing (a scanner that wants no field still validates every value);
 *   2. the same, keeping the 10 fields as tagged slots (what rowdec builds on);
 *   3. cJSON: parse to a tree, visit every field, free;
 *   4. jansson: the same;
 *   5. rowdec_decode: the full decoder, producing typed rows;
 *   6. rowdec_decode over the same events as CSV lines (CSVMessageDecoder), as Avro records
 *      (SimpleAvroMessageDecoder) and as protobuf messages (ProtoBufMessageDecoder, with a
 *      descriptor set written by hand into a temporary file): the other stream decoders.
 * Usage: bench_json [N [ONLY]]: ONLY runs just the rows whose name contains it (for profiling,
 * e.g. `perf record bench_json 300000 rowdec`). Prints a table of rows/s and MB/s.
 *
 * bench_json --anchors FILE: the physical anchors of bench/sidebyside.sh over the messages of
 * a JSON-lines file (one message per line, as consumed from Kafka): simdjson's bare parse,
 * CRC-32C and memcpy of the same bytes, one thread, best of 3. */
#include "common/table_config.h"
#include "common/xalloc.h"
#include "consumer/jsonscan.h"
#include "consumer/rowdec.h"
#include "segment/crc32c.h"

#include <jansson.h>

#if defined(__has_include)
#if __has_include(<cjson/cJSON.h>)
#include <cjson/cJSON.h>
#define HAVE_CJSON 1
#endif
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct corpus {
    char *data;
    size_t *off; /* n + 1 offsets */
    size_t n, bytes;
} corpus;

/* xorshift64*: deterministic, so every run benchmarks the same bytes */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static void generate(corpus *c, size_t n)
{
    static const char *countries[50] = {"US", "DE", "FR", "GB", "JP", "CN", "IN", "BR", "CA", "AU",
                                        "ES", "IT", "NL", "SE", "NO", "DK", "FI", "PL", "CZ", "AT",
                                        "CH", "BE", "IE", "PT", "GR", "TR", "RU", "UA", "MX", "AR",
                                        "CL", "CO", "PE", "ZA", "EG", "NG", "KE", "IL", "SA", "AE",
                                        "SG", "MY", "TH", "VN", "ID", "PH", "KR", "TW", "NZ", "HK"};
    static const char *devices[5] = {"android", "ios", "web", "desktop", "tablet"};
    static const char *events[10] = {"page_view", "click", "add_to_cart", "checkout", "purchase",
                                     "search",    "login", "logout",      "signup",   "video_play"};
    c->n = n;
    c->off = sl_xmalloc((n + 1) * sizeof *c->off);
    size_t cap = n * 300 + 4096;
    c->data = sl_xmalloc(cap);
    uint64_t s = 0x9E3779B97F4A7C15ULL;
    size_t p = 0;
    for (size_t i = 0; i < n; i++) {
        c->off[i] = p;
        uint64_t a = rnd(&s), b = rnd(&s), d = rnd(&s);
        int len = snprintf(c->data + p, cap - p,
                           "{\"ts\":%lld,\"user\":\"user-%06u@example.com\",\"country\":\"%s\","
                           "\"device\":\"%s\",\"event\":\"%s\",\"latency\":%u,\"price\":%u.%02u,"
                           "\"session\":\"%08x-%04x-%04x-%04x-%012llx\",\"flag\":%s,\"id\":%zu,"
                           "\"referrer\":\"https://www.example.com/landing?campaign=%u\"}",
                           1700000000000LL + (long long)i * 3 + (long long)(a % 3),
                           (unsigned)(a % 100000), countries[(a >> 20) % 50],
                           devices[(a >> 30) % 5], events[(a >> 40) % 10], (unsigned)(b % 5000),
                           (unsigned)(b >> 16) % 1000, (unsigned)(b >> 32) % 100,
                           (unsigned)(d >> 32), (unsigned)(d >> 16) & 0xffff, (unsigned)d & 0xffff,
                           (unsigned)(b >> 48), (unsigned long long)(d ^ b) & 0xffffffffffffULL,
                           (b >> 7) & 1 ? "true" : "false", i, (unsigned)(d % 1000));
        p += (size_t)len;
    }
    c->off[n] = p;
    c->bytes = p;
}

/* Thread CPU time, not wall time: the benchmark asks what one core can do, and on a shared
 * machine wall time also counts the time other processes held the core. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Each runner returns a checksum so the work cannot be optimised away, or -1 on failure. */
typedef long (*runner)(const corpus *c, void *ctx);

static long run_jsonscan(const corpus *c, void *ctx)
{
    jsonscan *js = ctx;
    long sum = 0;
    for (size_t i = 0; i < c->n; i++) {
        const uint8_t *m = (const uint8_t *)c->data + c->off[i];
        if (jsonscan_run(js, m, c->off[i + 1] - c->off[i]) != JSONSCAN_OK) return -1;
        sum += jsonscan_get(js, 0)->kind;
    }
    return sum;
}

#ifdef HAVE_CJSON
static long run_cjson(const corpus *c, void *ctx)
{
    (void)ctx;
    long sum = 0;
    for (size_t i = 0; i < c->n; i++) {
        cJSON *root = cJSON_ParseWithLength(c->data + c->off[i], c->off[i + 1] - c->off[i]);
        if (!root) return -1;
        for (cJSON *f = root->child; f; f = f->next) {
            if (cJSON_IsString(f))
                sum += f->valuestring[0];
            else if (cJSON_IsNumber(f))
                sum += (long)f->valuedouble;
            else
                sum += cJSON_IsTrue(f);
        }
        cJSON_Delete(root);
    }
    return sum;
}
#endif

static long run_jansson(const corpus *c, void *ctx)
{
    (void)ctx;
    long sum = 0;
    for (size_t i = 0; i < c->n; i++) {
        json_error_t err;
        json_t *root = json_loadb(c->data + c->off[i], c->off[i + 1] - c->off[i], 0, &err);
        if (!root) return -1;
        const char *k;
        json_t *v;
        json_object_foreach(root, k, v)
        {
            if (json_is_string(v))
                sum += json_string_value(v)[0];
            else if (json_is_integer(v))
                sum += (long)json_integer_value(v);
            else if (json_is_real(v))
                sum += (long)json_real_value(v);
            else
                sum += json_is_true(v);
        }
        json_decref(root);
    }
    return sum;
}

static long run_rowdec(const corpus *c, void *ctx)
{
    rowdec *d = ctx;
    long sum = 0;
    for (size_t i = 0; i < c->n; i++) {
        const row *r;
        const uint8_t *m = (const uint8_t *)c->data + c->off[i];
        if (rowdec_decode(d, m, c->off[i + 1] - c->off[i], &r) != ROWDEC_OK) return -1;
        sum += r->cols[5].v.u.i32;
    }
    return sum;
}

/* ---- the same events in the other formats --------------------------------------------- */

/* The 11 fields of a generated event, in order, and their wire types. */
static const struct {
    const char *name;
    char kind; /* l: long, i: int, d: double, s: string, b: boolean */
} ev_fields[11] = {{"ts", 'l'},    {"user", 's'},    {"country", 's'}, {"device", 's'},
                   {"event", 's'}, {"latency", 'i'}, {"price", 'd'},   {"session", 's'},
                   {"flag", 'b'},  {"id", 'l'},      {"referrer", 's'}};

typedef struct wbuf {
    uint8_t *p;
    size_t n, cap;
} wbuf;

static void w_bytes(wbuf *w, const void *p, size_t n)
{
    if (w->n + n > w->cap) {
        w->cap = (w->n + n) * 2 + 64;
        w->p = sl_xrealloc(w->p, w->cap);
    }
    memcpy(w->p + w->n, p, n);
    w->n += n;
}

static void w_varint(wbuf *w, uint64_t v)
{
    uint8_t b[10];
    size_t k = 0;
    do {
        b[k++] = (uint8_t)((v & 0x7F) | (v >= 0x80 ? 0x80 : 0));
        v >>= 7;
    } while (v);
    w_bytes(w, b, k);
}

static void w_zz(wbuf *w, int64_t v) /* Avro's zig-zag long */
{
    w_varint(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static void w_pbstr(wbuf *w, unsigned field, const char *s, size_t n)
{
    w_varint(w, (uint64_t)field << 3 | 2);
    w_varint(w, n);
    w_bytes(w, s, n);
}

/* Re-encodes every event of src as format f ('c' CSV, 'a' Avro, 'p' protobuf) into dst. */
static void reencode(const corpus *src, corpus *dst, char f)
{
    wbuf w = {0};
    dst->n = src->n;
    dst->off = sl_xmalloc((src->n + 1) * sizeof *dst->off);
    for (size_t i = 0; i < src->n; i++) {
        dst->off[i] = w.n;
        json_t *o = json_loadb(src->data + src->off[i], src->off[i + 1] - src->off[i], 0, NULL);
        for (unsigned k = 0; k < 11; k++) {
            json_t *v = json_object_get(o, ev_fields[k].name);
            char num[48];
            int nl = 0;
            if (f == 'c' && k) w_bytes(&w, ",", 1);
            switch (ev_fields[k].kind) {
            case 's': {
                const char *t = json_string_value(v);
                size_t tl = json_string_length(v);
                if (f == 'c') w_bytes(&w, t, tl);
                if (f == 'a') w_zz(&w, (int64_t)tl), w_bytes(&w, t, tl);
                if (f == 'p') w_pbstr(&w, k + 1, t, tl);
                break;
            }
            case 'd': {
                double x = json_number_value(v);
                if (f == 'c')
                    nl = snprintf(num, sizeof num, "%.17g", x), w_bytes(&w, num, (size_t)nl);
                if (f == 'a') w_bytes(&w, &x, 8);
                if (f == 'p') w_varint(&w, (uint64_t)(k + 1) << 3 | 1), w_bytes(&w, &x, 8);
                break;
            }
            case 'b': {
                bool b = json_is_true(v);
                if (f == 'c') w_bytes(&w, b ? "true" : "false", b ? 4 : 5);
                if (f == 'a') w_bytes(&w, b ? "\1" : "\0", 1);
                if (f == 'p' && b) w_varint(&w, (uint64_t)(k + 1) << 3), w_varint(&w, 1);
                break;
            }
            default: {
                int64_t x = json_integer_value(v);
                if (f == 'c')
                    nl = snprintf(num, sizeof num, "%lld", (long long)x),
                    w_bytes(&w, num, (size_t)nl);
                if (f == 'a') w_zz(&w, x);
                if (f == 'p' && x) w_varint(&w, (uint64_t)(k + 1) << 3), w_varint(&w, (uint64_t)x);
                break;
            }
            }
        }
        json_decref(o);
    }
    dst->off[src->n] = w.n;
    dst->bytes = w.n;
    dst->data = (char *)w.p;
}

/* A FileDescriptorSet declaring message b.E with the 11 fields (proto3), into path. */
static int write_descriptor(const char *path)
{
    static const uint8_t types[] = {['l'] = 3, ['i'] = 5, ['d'] = 1, ['s'] = 9, ['b'] = 8};
    wbuf msg = {0}, file = {0}, set = {0};
    w_pbstr(&msg, 1, "E", 1);
    for (unsigned k = 0; k < 11; k++) {
        wbuf fd = {0};
        w_pbstr(&fd, 1, ev_fields[k].name, strlen(ev_fields[k].name));
        w_varint(&fd, 3 << 3), w_varint(&fd, k + 1);                         /* number */
        w_varint(&fd, 4 << 3), w_varint(&fd, 1);                             /* optional */
        w_varint(&fd, 5 << 3), w_varint(&fd, types[(int)ev_fields[k].kind]); /* type */
        w_pbstr(&msg, 2, (const char *)fd.p, fd.n);
        free(fd.p);
    }
    w_pbstr(&file, 1, "b.proto", 7);
    w_pbstr(&file, 2, "b", 1);
    w_pbstr(&file, 4, (const char *)msg.p, msg.n);
    w_pbstr(&file, 12, "proto3", 6);
    w_pbstr(&set, 1, (const char *)file.p, file.n);
    FILE *f = fopen(path, "wb");
    int rc = !f || fwrite(set.p, 1, set.n, f) != set.n;
    if (f) rc |= fclose(f) != 0;
    free(msg.p);
    free(file.p);
    free(set.p);
    return rc ? -1 : 0;
}

/* A table config for the decoder (class suffix and its properties). */
static tcfg *table_for(const schema *s, const char *cls, const char *props)
{
    char *tj =
        sl_xasprintf("{\"tableName\":\"b\",\"tableType\":\"REALTIME\",\"tableIndexConfig\":{"
                     "\"streamConfigs\":{\"stream.kafka.topic.name\":\"b\","
                     "\"stream.kafka.broker.list\":\"h:1\",\"stream.kafka.decoder.class.name\":"
                     "\"org.apache.pinot.plugin.inputformat.%s\",%s}}}",
                     cls, props);
    char err[1024];
    tcfg *t = tcfg_parse(tj, strlen(tj), "bench", s, err, sizeof err);
    if (!t) fprintf(stderr, "bench_json: %s\n", err);
    free(tj);
    return t;
}

static const char *only; /* set once from argv; read-only afterwards */

static void measure(const char *name, const corpus *c, runner fn, void *ctx)
{
    if (only && !strstr(name, only)) return;
    double best = 1e99;
    for (int run = 0; run < 3; run++) {
        double t0 = now();
        long sum = fn(c, ctx);
        double t = now() - t0;
        if (sum == -1) {
            printf("| %-44s | %12s | %9s |\n", name, "FAILED", "-");
            return;
        }
        if (t < best) best = t;
    }
    printf("| %-44s | %12.0f | %9.1f |\n", name, (double)c->n / best,
           (double)c->bytes / best / 1e6);
}

static long run_crc32c(const corpus *c, void *ctx)
{
    (void)ctx;
    uint32_t crc = 0;
    for (size_t i = 0; i < c->n; i++)
        crc = crc32c_update(crc, c->data + c->off[i], c->off[i + 1] - c->off[i]);
    return (long)(crc & 0xffff);
}

static long run_memcpy(const corpus *c, void *ctx)
{
    char *dst = ctx;
    for (size_t i = 0; i < c->n; i++)
        memcpy(dst + c->off[i], c->data + c->off[i], c->off[i + 1] - c->off[i]);
    return dst[c->bytes / 2];
}

/* --anchors FILE: messages from a JSON-lines file. */
static int anchors(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    corpus c = {0};
    size_t cap = 1 << 20, ncap = 1024;
    c.data = sl_xmalloc(cap);
    c.off = sl_xmalloc(ncap * sizeof *c.off);
    c.off[0] = 0;
    char *line = NULL;
    size_t lcap = 0;
    for (ssize_t len; (len = getline(&line, &lcap, f)) > 0;) {
        if (line[len - 1] == '\n') len--;
        while (c.bytes + (size_t)len > cap)
            c.data = sl_xrealloc(c.data, cap *= 2);
        if (c.n + 2 > ncap) c.off = sl_xrealloc(c.off, (ncap *= 2) * sizeof *c.off);
        memcpy(c.data + c.bytes, line, (size_t)len);
        c.bytes += (size_t)len;
        c.off[++c.n] = c.bytes;
    }
    free(line);
    fclose(f);
    printf("| %-44s | %12s | %9s |\n", "anchor (1 thread, CPU time, best of 3)", "messages/s",
           "MB/s");
    printf("|%s|%s|%s|\n", "----------------------------------------------", "--------------",
           "-----------");
    jsonscan *bare = jsonscan_new(NULL, NULL, NULL, 0);
    measure("simdjson On-Demand: parse + read all fields", &c, run_jsonscan, bare);
    jsonscan_free(bare);
    measure("CRC-32C of the messages", &c, run_crc32c, NULL);
    char *dst = sl_xmalloc(c.bytes + 1);
    measure("memcpy of the messages", &c, run_memcpy, dst);
    free(dst);
    free(c.data);
    free(c.off);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--anchors") == 0) return anchors(argv[2]);
    size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    only = argc > 2 ? argv[2] : NULL;
    if (n == 0) n = 1;
    corpus c;
    generate(&c, n);

    /* The table's schema, built by hand so the benchmark needs no schema file. */
    static const struct {
        const char *name;
        schema_type type;
    } cols[10] = {
        {"ts", SCHEMA_LONG},       {"user", SCHEMA_STRING},    {"country", SCHEMA_STRING},
        {"device", SCHEMA_STRING}, {"event", SCHEMA_STRING},   {"latency", SCHEMA_INT},
        {"price", SCHEMA_DOUBLE},  {"session", SCHEMA_STRING}, {"flag", SCHEMA_BOOLEAN},
        {"id", SCHEMA_LONG},
    };
    schema_field fields[10];
    memset(fields, 0, sizeof fields);
    const char *names[10];
    uint32_t lens[10];
    for (int k = 0; k < 10; k++) {
        fields[k].name = (char *)cols[k].name;
        fields[k].type = cols[k].type;
        fields[k].single_value = true;
        names[k] = cols[k].name;
        lens[k] = (uint32_t)strlen(cols[k].name);
    }
    schema s = {.name = "bench", .nfields = 10, .fields = fields};

    char kernel[96];
    jsonscan_kernel(kernel, sizeof kernel);
    printf("bench_json: %zu events, %.1f bytes/event average, simdjson %s\n\n", c.n,
           (double)c.bytes / (double)c.n, kernel);
    printf("| %-44s | %12s | %9s |\n", "decoder (1 thread, CPU time, best of 3)", "rows/s", "MB/s");
    printf("|%s|%s|%s|\n", "----------------------------------------------", "--------------",
           "-----------");

    jsonscan *bare = jsonscan_new(NULL, NULL, NULL, 0);
    measure("simdjson On-Demand: parse + read all fields", &c, run_jsonscan, bare);
    jsonscan_free(bare);
    jsonscan *keep = jsonscan_new(names, lens, NULL, 10);
    measure("simdjson On-Demand: + keep 10 field slots", &c, run_jsonscan, keep);
    jsonscan_free(keep);
#ifdef HAVE_CJSON
    measure("cJSON 1.7: parse tree + visit + free", &c, run_cjson, NULL);
#else
    printf("| %-44s | %12s | %9s |\n", "cJSON (not installed)", "-", "-");
#endif
    measure("jansson 2.14: parse tree + visit + free", &c, run_jansson, NULL);
    rowdec *d = rowdec_new(&s, 0);
    measure("rowdec_decode: typed row (Pinot semantics)", &c, run_rowdec, d);
    rowdec_free(d);

    /* the other stream decoders over the same events (their bytes per event differ) */
    char hdr[256] = "", desc[64], *avsc = NULL, *props;
    for (unsigned k = 0; k < 11; k++) {
        strcat(hdr, k ? "," : "");
        strcat(hdr, ev_fields[k].name);
    }
    avsc =
        sl_xasprintf("%s", "{\\\"type\\\":\\\"record\\\",\\\"name\\\":\\\"E\\\",\\\"fields\\\":[");
    for (unsigned k = 0; k < 11; k++) {
        static const char *const at[] = {
            ['l'] = "long", ['i'] = "int", ['d'] = "double", ['s'] = "string", ['b'] = "boolean"};
        char *n2 = sl_xasprintf("%s%s{\\\"name\\\":\\\"%s\\\",\\\"type\\\":\\\"%s\\\"}", avsc,
                                k ? "," : "", ev_fields[k].name, at[(int)ev_fields[k].kind]);
        free(avsc);
        avsc = n2;
    }
    snprintf(desc, sizeof desc, "/tmp/bench_json.%d.desc", (int)getpid());
    const struct {
        char f;
        const char *label, *cls;
        char *props;
    } other[] = {
        {'c', "rowdec_decode: CSV line (CSVMessageDecoder)", "csv.CSVMessageDecoder",
         sl_xasprintf("\"stream.kafka.decoder.prop.header\":\"%s\","
                      "\"stream.kafka.decoder.prop.delimiter\":\",\"",
                      hdr)},
        {'a', "rowdec_decode: Avro record (SimpleAvro...)", "avro.SimpleAvroMessageDecoder",
         sl_xasprintf("\"stream.kafka.decoder.prop.schema\":\"%s]}\"", avsc)},
        {'p', "rowdec_decode: protobuf (ProtoBufMessage...)", "protobuf.ProtoBufMessageDecoder",
         sl_xasprintf("\"stream.kafka.decoder.prop.descriptorFile\":\"%s\"", desc)},
    };
    free(avsc);
    if (write_descriptor(desc)) fprintf(stderr, "bench_json: cannot write %s\n", desc);
    for (size_t k = 0; k < sizeof other / sizeof other[0]; k++) {
        props = other[k].props;
        tcfg *t = table_for(&s, other[k].cls, props);
        free(props);
        if (!t) {
            printf("| %-44s | %12s | %9s |\n", other[k].label, "FAILED", "-");
            continue;
        }
        corpus oc;
        reencode(&c, &oc, other[k].f);
        rowdec *od = rowdec_new_cfg(&s, t, 0);
        measure(other[k].label, &oc, run_rowdec, od);
        rowdec_free(od);
        tcfg_free(t);
        free(oc.data);
        free(oc.off);
    }
    unlink(desc);

    free(c.data);
    free(c.off);
    return 0;
}
