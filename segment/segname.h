/* Segment names (DESIGN §3): `<table>__<partition>__<sequence>__<yyyyMMddTHHmmZ>`.
 *
 * A name is used as a file name, a URL path segment and a ZooKeeper node name, so it is
 * validated against a strict grammar before it touches any of them:
 *   table     an identifier (common/ident.h): 1..128 of [A-Za-z0-9_.-], no "__", not starting
 *             or ending with '_' or '.'
 *   partition decimal 0..2147483647, no leading zeros
 *   sequence  decimal 0..2^53, no leading zeros
 *   time      yyyyMMddTHHmmZ, a real UTC calendar minute
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

/* Whether file (a directory entry) is a published segment of table: `<name>.seg` where name
 * parses and names table. On true, name (SL_SEGNAME_MAX bytes) holds the segment name and *out
 * its parts. Temporaries (`<name>.seg.build`, ...) and other tables' files are false. */
bool segname_of_file(const char *file, const char *table, char *name, segname *out);

#endif
