/* Identifiers: the names that become a file or directory name, a URL path segment and a
 * ZooKeeper node name at once (table names, cluster.name, instance.id), so the grammar keeps
 * "/", ".." and the segment-name separator "__" out of them:
 *   1..SL_IDENT_MAX (common/limits.h) of [A-Za-z0-9_.-], no "__", not starting or ending with '_'
 * or '.' It is the table part of a segment name (segment/segname.h) and the CONFIG_NAME grammar of
 * the process config (common/config.h); it lives here because both need it.
 * @locality: any thread (pure function). */
#ifndef SL_IDENT_H
#define SL_IDENT_H

#include "common/limits.h"

#include <stdbool.h>

/* Whether s (NUL-terminated) follows the grammar above. */
bool ident_valid(const char *s);

#endif
