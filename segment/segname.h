/* Segment names (DESIGN §3): `<table>__<partition>__<sequence>__<yyyyMMddTHHmmZ>`.
 *
 * A name is used as a file name, a URL path segment and a ZooKeeper node name, so it is
 * validated against a strict grammar before it touches any of them:
 *   table     an identifier (common/ident.h): 1..128 of [A-Za-z0-9_.-], no "__", not starting
 *             or ending with '_' or '.'
 *   partition decimal 0..2147483647, no leading zeros
 *   sequence  decimal 0..2^53, no leading zeros
 *   time      yyyyMMddTHHmmZ, a real UTC calendar minute
 * Uploaded (batch) segments have free names within the character whitelist below.
 * @locality: any thread (pure functions). */
#ifndef SL_SEGNAME_H
#define SL_SEGNAME_H

#include "common/ident.h"
#include "common/limits.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct segname {
    char table[SL_IDENT_MAX + 1];
    int32_t partition;
    int64_t sequence;
    int64_t time_ms; /* the minute, as epoch milliseconds (UTC) */
} segname;

/* Whether table is a valid table name (the grammar above; ident_valid). */
bool segname_valid_table(const char *table);

/* Format a name into buf (SL_SEGNAME_MAX bytes); time_ms is truncated to the minute.
 * Returns 0, or SL_EINVAL when a part is out of the grammar. */
int segname_format(char *buf, size_t cap, const char *table, int32_t partition,
                   int64_t sequence, int64_t time_ms);

/* Parse and validate a name. Returns 0 and fills *out, or SL_EINVAL. */
int segname_parse(const char *name, segname *out);

/* Whether name is a valid segment name of any kind: 1..255 bytes of [A-Za-z0-9._-], not
 * starting with '.' (so never "." or ".."). Realtime names are a subset; an uploaded (batch)
 * segment's name need only be this (DESIGN §10), so it is what guards every path, URL and
 * ZooKeeper node built from a name that did not come from completion. */
bool segname_valid_any(const char *name);

/* Whether name is an uploaded name: valid (segname_valid_any) and not of the realtime grammar
 * (segname_parse fails), so completion never touches it. */
bool segname_is_uploaded(const char *name);

/* Pinot's uploaded-realtime name, `<prefix>__<table>__<partition>__<yyyyMMddTHHmmZ>__<suffix>`
 * (DESIGN §10): an offline-built segment of a REALTIME table's partition. prefix and suffix
 * are non-empty and free of "__". Returns 0 and fills *out (sequence -1), or SL_EINVAL. */
int segname_parse_uploaded_realtime(const char *name, segname *out);

/* Whether file (a directory entry) is `<name>.seg` with name valid (segname_valid_any): a
 * published file of any kind. On true, name (SL_SEGNAME_MAX bytes) holds the segment name. */
bool segname_any_of_file(const char *file, char *name);

/* Whether file (a directory entry) is a published segment of table: `<name>.seg` where name
 * parses and names table. On true, name (SL_SEGNAME_MAX bytes) holds the segment name and *out
 * its parts. Temporaries (`<name>.seg.build`, ...) and other tables' files are false. */
bool segname_of_file(const char *file, const char *table, char *name, segname *out);

#endif
