/* Identifiers: the names that become a file or directory name, a URL path segment and a
 * ZooKeeper node name at once (table names, cluster.name, instance.id), so the grammar keeps
 * "/", ".." and the segment-name separator "__" out of them:
 *   1..IDENT_MAX of [A-Za-z0-9_.-], no "__", not starting or ending with '_' or '.'
 * It is the table part of a segment name (segment/segname.h) and the CONFIG_NAME grammar of
 * the process config (common/config.h); it lives here because both need it.
 * @locality: any thread (pure function). */
#ifndef SL_IDENT_H
#define SL_IDENT_H

#include <stdbool.h>

#define IDENT_MAX 128 /* bytes, without the NUL */

/* Whether s (NUL-terminated) follows the grammar above. */
bool ident_valid(const char *s);

#endif
