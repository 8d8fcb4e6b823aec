/* Protocol Buffers descriptors and wire format, for ProtoBufMessageDecoder.
 *
 * A descriptor file is what `protoc --descriptor_set_out=F.desc` (or protoc-c) writes: a
 * FileDescriptorSet, itself a protobuf message. pbdesc reads it with its own wire reader into
 * the messages and enums it declares (full names, fields with their numbers, types, labels,
 * presence, map entries), so a decoder can walk any message of those types without generated
 * code. The wire reader is shared with the message decoder (consumer/pbscan.c): every length
 * and varint is checked against the bytes left.
 *
 * A pbdesc is immutable once parsed and may be shared by threads. */
#ifndef SL_PBDESC_H
#define SL_PBDESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* FieldDescriptorProto.Type, by descriptor.proto's numbers. */
typedef enum pbdesc_type {
    PBDESC_DOUBLE = 1,
    PBDESC_FLOAT = 2,
    PBDESC_INT64 = 3,
    PBDESC_UINT64 = 4,
    PBDESC_INT32 = 5,
    PBDESC_FIXED64 = 6,
    PBDESC_FIXED32 = 7,
    PBDESC_BOOL = 8,
    PBDESC_STRING = 9,
    PBDESC_GROUP = 10,
    PBDESC_MESSAGE = 11,
    PBDESC_BYTES = 12,
    PBDESC_UINT32 = 13,
    PBDESC_ENUM = 14,
    PBDESC_SFIXED32 = 15,
    PBDESC_SFIXED64 = 16,
    PBDESC_SINT32 = 17,
    PBDESC_SINT64 = 18,
} pbdesc_type;

typedef struct pbdesc_field {
    char *name; /* owned */
    uint32_t number;
    uint8_t type;  /* pbdesc_type */
    bool repeated; /* LABEL_REPEATED (a map field is a repeated map entry message) */
    bool required; /* proto2 LABEL_REQUIRED */
    bool presence; /* unset is distinguishable from the default: messages, proto2 optional,
                    * proto3 optional, oneof members */
    int32_t msg;   /* PBDESC_MESSAGE: index in pbdesc.msgs */
    int32_t en;    /* PBDESC_ENUM: index in pbdesc.enums */
} pbdesc_field;

typedef struct pbdesc_msg {
    char *name;           /* full name without the leading dot ("pkg.Outer.Inner"); owned */
    pbdesc_field *fields; /* declaration order; owned */
    uint32_t nfields;
    bool map_entry; /* a map<K, V> field's entry type: field 1 the key, 2 the value */
    bool proto3;    /* declared in a proto3 file: a string must be valid UTF-8 */
} pbdesc_msg;

typedef struct pbdesc_enum {
    char *name;    /* full name; owned */
    char *simple;  /* the last component; owned */
    char **vnames; /* owned */
    int32_t *vnums;
    uint32_t nvals;
} pbdesc_enum;

typedef struct pbdesc {
    pbdesc_msg *msgs;
    uint32_t nmsgs;
    pbdesc_enum *enums;
    uint32_t nenums;
} pbdesc;

/* Parse a FileDescriptorSet (buf[0..len), borrowed). 0 with *out (caller frees with
 * pbdesc_free), or -1 with the reason in why: not a descriptor set, a type name that no file
 * of the set declares (build it with --include_imports), an unsupported field type (groups). */
int pbdesc_parse(const uint8_t *buf, size_t len, pbdesc **out, char *why, size_t cap);

/* Read a descriptor file (at most 64 MiB) and parse it. */
int pbdesc_load(const char *path, pbdesc **out, char *why, size_t cap);

/* The message named name (its full name, with or without a leading dot), or with name NULL
 * or "" the first message the set declares; -1 when there is none. */
int pbdesc_find(const pbdesc *d, const char *name);

/* The field of message m with that number, or NULL. */
const pbdesc_field *pbdesc_field_by_number(const pbdesc_msg *m, uint32_t number);

void pbdesc_free(pbdesc *d);

/* ---- the wire format ------------------------------------------------------------------- */

enum {
    PBDESC_WT_VARINT = 0,
    PBDESC_WT_I64 = 1,
    PBDESC_WT_LEN = 2,
    PBDESC_WT_SGROUP = 3,
    PBDESC_WT_EGROUP = 4,
    PBDESC_WT_I32 = 5
};

/* One field of an encoded message, read by pbdesc_next. */
typedef struct pbdesc_item {
    uint32_t number;
    unsigned wt;      /* wire type */
    uint64_t v;       /* VARINT, I64, I32: the value's bits */
    const uint8_t *p; /* LEN: the bytes */
    size_t len;
} pbdesc_item;

/* The next field at *p (before end) into it, moving *p past it; a group is skipped whole
 * (nested at most 32 deep). 1 with it filled, 0 at end, -1 when the bytes are not a protobuf
 * message (a truncated varint or value, a length past the end, wire type 6 or 7, field 0). */
int pbdesc_next(const uint8_t **p, const uint8_t *end, pbdesc_item *it);

/* A varint at *p (at most 10 bytes); 0 or -1. */
int pbdesc_varint(const uint8_t **p, const uint8_t *end, uint64_t *v);

#endif
