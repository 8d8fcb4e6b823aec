/* libFuzzer target for the CSV and Avro stream decoders (consumer/csvscan, consumer/avroscan
 * through rowdec_decode).
 *
 * The first input byte picks the decoder (its value mod 4): CSVMessageDecoder with a header,
 * quoting, an escape, a comment marker and a multi-value delimiter; SimpleAvroMessageDecoder
 * with a writer schema holding every Avro type (unions, arrays of records, maps, nested arrays,
 * fixed, enum), so every branch of the binary reader is reachable; the JSON decoder under a
 * complexTypeConfig that unnests two fields, one inside the other, and renames a prefix;
 * ProtoBufMessageDecoder over tests/data/proto/events.desc (scalars of every kind, nested and
 * repeated messages, a map, oneof, proto3 optional). The
 * rest is the message; every row of it is taken.
 * Each message is decoded twice: the second decode must give the same reason and the same
 * row (no state is left behind). Every accepted row is checked: a value's length fits what
 * was reserved, a multi-value column has its values, a BYTES value lies in the decoder's
 * memory. The sanitizers see any bad pointer or length. */
#include "common/schema.h"
#include "common/table_config.h"
#include "consumer/rowdec.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char schema_json[] =
    "{\"schemaName\":\"f\",\"dimensionFieldSpecs\":["
    "{\"name\":\"a\",\"dataType\":\"STRING\"},{\"name\":\"b\",\"dataType\":\"INT\"},"
    "{\"name\":\"c\",\"dataType\":\"STRING\",\"singleValueField\":false},"
    "{\"name\":\"d\",\"dataType\":\"BYTES\"},{\"name\":\"e\",\"dataType\":\"DOUBLE\"},"
    "{\"name\":\"g\",\"dataType\":\"LONG\",\"singleValueField\":false},"
    "{\"name\":\"h\",\"dataType\":\"JSON\"},{\"name\":\"k\",\"dataType\":\"BOOLEAN\"},"
    "{\"name\":\"m\",\"dataType\":\"FLOAT\"},"
    /* events.proto's names, for the Protocol Buffers decoder */
    "{\"name\":\"id\",\"dataType\":\"LONG\"},{\"name\":\"name\",\"dataType\":\"STRING\"},"
    "{\"name\":\"ratio\",\"dataType\":\"STRING\"},{\"name\":\"raw\",\"dataType\":\"BYTES\"},"
    "{\"name\":\"tags\",\"dataType\":\"STRING\",\"singleValueField\":false},"
    "{\"name\":\"counts\",\"dataType\":\"LONG\",\"singleValueField\":false},"
    "{\"name\":\"inner\",\"dataType\":\"STRING\"},{\"name\":\"attrs\",\"dataType\":\"JSON\"},"
    "{\"name\":\"items\",\"dataType\":\"STRING\",\"singleValueField\":false},"
    "{\"name\":\"color\",\"dataType\":\"STRING\"},{\"name\":\"maybe\",\"dataType\":\"INT\"}]}";

static const char avro_schema[] =
    "{\"type\":\"record\",\"name\":\"R\",\"fields\":["
    "{\"name\":\"a\",\"type\":[\"null\",\"string\",\"bytes\",{\"type\":\"fixed\",\"name\":\"X\","
    "\"size\":3}]},"
    "{\"name\":\"b\",\"type\":[\"int\",\"long\",\"float\",\"double\",\"boolean\"]},"
    "{\"name\":\"c\",\"type\":{\"type\":\"array\",\"items\":[\"null\",\"string\",{\"type\":"
    "\"array\",\"items\":\"int\"},{\"type\":\"map\",\"values\":\"long\"}]}},"
    "{\"name\":\"skip\",\"type\":{\"type\":\"map\",\"values\":{\"type\":\"array\",\"items\":"
    "{\"type\":\"record\",\"name\":\"Q\",\"fields\":[{\"name\":\"q\",\"type\":\"string\"}]}}}},"
    "{\"name\":\"d\",\"type\":[\"bytes\",\"string\"]},"
    "{\"name\":\"e\",\"type\":[\"double\",{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\","
    "\"B\"]}]},"
    "{\"name\":\"g\",\"type\":{\"type\":\"array\",\"items\":\"long\"}},"
    "{\"name\":\"h\",\"type\":[\"null\",\"Q\",{\"type\":\"map\",\"values\":\"bytes\"}]},"
    "{\"name\":\"k\",\"type\":\"boolean\"},{\"name\":\"m\",\"type\":\"float\"}]}";

static schema *S;
static tcfg *T[4];
static rowdec *D[4];

static tcfg *make_table(const char *cls, const char *props)
{
    char tj[8192], err[2048];
    snprintf(tj, sizeof tj,
             "{\"tableName\":\"f\",\"tableType\":\"REALTIME\",\"tableIndexConfig\":{"
             "\"streamConfigs\":{\"stream.kafka.topic.name\":\"f\","
             "\"stream.kafka.broker.list\":\"h:1\",\"stream.kafka.decoder.class.name\":"
             "\"org.apache.pinot.plugin.inputformat.%s\",%s}}}",
             cls, props);
    tcfg *t = tcfg_parse(tj, strlen(tj), "fuzz", S, err, sizeof err);
    if (!t) {
        fprintf(stderr, "%s\n", err);
        abort();
    }
    return t;
}

static void init(void)
{
    char err[2048];
    S = schema_parse(schema_json, strlen(schema_json), "fuzz", err, sizeof err);
    if (!S) {
        fprintf(stderr, "%s\n", err);
        abort();
    }
    T[0] = make_table("csv.CSVMessageDecoder",
                      "\"stream.kafka.decoder.prop.header\":\"a,b,c,d,e,g,h,k,m\","
                      "\"stream.kafka.decoder.prop.delimiter\":\",\","
                      "\"stream.kafka.decoder.prop.escapeCharacter\":\"\\\\\","
                      "\"stream.kafka.decoder.prop.commentMarker\":\"#\","
                      "\"stream.kafka.decoder.prop.nullStringValue\":\"N\","
                      "\"stream.kafka.decoder.prop.multiValueDelimiter\":\";\"");
    json_t *js = json_string(avro_schema);
    char *esc = json_dumps(js, JSON_ENCODE_ANY);
    json_decref(js);
    char props[4096];
    snprintf(props, sizeof props, "\"stream.kafka.decoder.prop.schema\":%s", esc);
    free(esc);
    T[1] = make_table("avro.SimpleAvroMessageDecoder", props);
    T[2] = make_table("json.JSONMessageDecoder",
                      "\"realtime.segment.flush.threshold.rows\":\"10\"}},\"ingestionConfig\":{"
                      "\"complexTypeConfig\":{\"fieldsToUnnest\":[\"c\",\"c.g\"],"
                      "\"prefixesToRename\":{\"c.\":\"\"}");
    /* the descriptor beside this source: tests/data/proto/events.desc */
    char desc[2048];
    snprintf(desc, sizeof desc, "%s", __FILE__);
    char *slash = strrchr(desc, '/');
    snprintf(slash ? slash + 1 : desc, sizeof desc - (size_t)(slash ? slash + 1 - desc : 0),
             "../data/proto/events.desc");
    snprintf(props, sizeof props,
             "\"stream.kafka.decoder.prop.descriptorFile\":\"%s\","
             "\"stream.kafka.decoder.prop.protoClassName\":\"sluice.test.Event\"",
             desc);
    T[3] = make_table("protobuf.ProtoBufMessageDecoder", props);
    for (int k = 0; k < 4; k++)
        D[k] = rowdec_new_cfg(S, T[k], 1 << 16);
}

static void check_row(const row *r)
{
    for (uint32_t i = 0; i < r->ncols; i++) {
        const row_col *c = &r->cols[i];
        if (c->nvals == 0 || !c->mv) abort();
        if (S->fields[i].single_value && c->nvals != 1) abort();
        for (uint32_t v = 0; v < c->nvals; v++) {
            schema_type ty = S->fields[i].type;
            if (ty == SCHEMA_STRING || ty == SCHEMA_BYTES) {
                const schema_value *x = &c->mv[v];
                if (x->u.bytes.len > (1u << 20)) abort();
                volatile uint8_t sum = 0; /* every byte must be readable */
                for (uint32_t j = 0; j < x->u.bytes.len; j++)
                    sum ^= x->u.bytes.ptr[j];
                (void)sum;
            }
        }
    }
}

/* A row's values, flattened for comparing two decodes. */
static size_t flatten(const row *r, uint8_t *out, size_t cap)
{
    size_t n = 0;
    for (uint32_t i = 0; i < r->ncols; i++) {
        const row_col *c = &r->cols[i];
        schema_type ty = S->fields[i].type;
        for (uint32_t v = 0; v < c->nvals && n + 16 < cap; v++) {
            out[n++] = c->is_null;
            if (ty == SCHEMA_STRING || ty == SCHEMA_BYTES) {
                size_t l = c->mv[v].u.bytes.len;
                if (l > cap - n - 8) l = cap - n - 8;
                memcpy(out + n, c->mv[v].u.bytes.ptr, l);
                n += l;
            } else {
                memcpy(out + n, &c->mv[v].u.i64, 8);
                n += 8;
            }
        }
    }
    return n;
}

/* Every row of the message, each checked, flattened one after another into out; the reasons
 * too. Returns the bytes written. */
static size_t decode_all(rowdec *d, const uint8_t *msg, size_t len, uint8_t *out, size_t cap)
{
    const row *r;
    rowdec_reason why = rowdec_decode(d, msg, len, &r);
    size_t n = 0;
    do {
        if (n < cap) out[n++] = (uint8_t)why;
        if (why == ROWDEC_OK && r) {
            check_row(r);
            n += flatten(r, out + n, cap - n);
        }
    } while (rowdec_next(d, &why, &r));
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!S) init();
    if (size == 0) return 0;
    rowdec *d = D[data[0] % 4];
    static uint8_t a[1 << 17], b[1 << 17];
    size_t na = decode_all(d, data + 1, size - 1, a, sizeof a);
    size_t nb = decode_all(d, data + 1, size - 1, b, sizeof b);
    if (na != nb || memcmp(a, b, na)) abort(); /* no state is left behind */
    return 0;
}
