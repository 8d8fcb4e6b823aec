/* Segment lineage (DESIGN §10, docs/batch.md "Backfill with lineage"): the atomic replacement
 * of a set of pushed segments by another, stored as JSON at
 * /sluice/<cluster>/tables/<t>/lineage in Pinot's shape:
 *
 *   {"lineageEntries":{"<id>":{"state":"IN_PROGRESS","segmentsFrom":["a","b"],
 *                              "segmentsTo":["c"],"timestamp":1700000000000},...}}
 *
 * One entry's states (lineage_move is the one transition):
 *
 *   IN_PROGRESS --end--> COMPLETED      readers see segmentsTo, segmentsFrom are deleted
 *        \------revert--> REVERTED      readers keep segmentsFrom, segmentsTo are deleted
 *
 * While IN_PROGRESS readers see segmentsFrom and never segmentsTo: the controller places
 * segmentsTo on sidecars as OFFLINE (downloaded, not served; they report STAGED), and the end
 * is one multi-op on
 * this node and the assignment. The rules a new entry must pass are lineage_start's. Entries
 * are kept in creation order, so the same lineage always serializes to the same bytes; old
 * finished entries are pruned (lineage_prune). Plain data, no locking. */
#ifndef SL_LINEAGE_H
#define SL_LINEAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LINEAGE_ID_LEN 32         /* hex digits of an entry id */
#define LINEAGE_MAX_SEGMENTS 1000 /* per side of one entry: the node stays under 1 MB */
#define LINEAGE_KEEP_FINISHED 100 /* finished entries kept for GET .../lineage */
#define LINEAGE_MAX_BYTES                                                                          \
    (256u << 10) /* the node's JSON at most: it is written in one ZooKeeper                        \
                    multi-op with the assignment (1 MB for both) */

typedef enum lineage_state {
    LINEAGE_IN_PROGRESS = 0,
    LINEAGE_COMPLETED,
    LINEAGE_REVERTED,
    LINEAGE_STATE__COUNT
} lineage_state;

typedef struct lineage_entry {
    char id[LINEAGE_ID_LEN + 1];
    lineage_state state;
    char **from, **to; /* owned names */
    size_t nfrom, nto;
    int64_t timestamp_ms; /* of the last move */
} lineage_entry;

typedef struct lineage {
    lineage_entry *e; /* owned, in creation order */
    size_t n;
} lineage;

/* "IN_PROGRESS", "COMPLETED", "REVERTED" ("?" for another value). */
const char *lineage_state_name(lineage_state s);

/* Parse the node's JSON ("{}" is an empty lineage) into *l (caller frees with lineage_free).
 * 0, or SL_ECORRUPT with the reason in err. */
int lineage_parse(const char *json, size_t len, lineage *l, char *err, size_t errlen);

/* The lineage as JSON (caller frees), *len its length; the same lineage gives the same bytes. */
char *lineage_to_json(const lineage *l, size_t *len);

void lineage_free(lineage *l);

/* The entry with id, or NULL. Borrowed from l. */
lineage_entry *lineage_find(const lineage *l, const char *id);

/* The IN_PROGRESS entry whose segmentsTo names segment, or NULL: a segment the readers must
 * not see yet. Borrowed from l. */
const lineage_entry *lineage_pending_to(const lineage *l, const char *segment);

/* The REVERTED entry whose segmentsTo names segment, unless an IN_PROGRESS one names it too
 * (a retry that reuses the name), or NULL: a segment a revert dropped, which is never served.
 * Borrowed from l. */
const lineage_entry *lineage_reverted_to(const lineage *l, const char *segment);

/* Add an IN_PROGRESS entry `id` replacing from by to (copied) at now_ms. Refused (SL_ECONFLICT,
 * reason in err) when a name is on both sides or twice on one, or a name of either side is on
 * either side of another IN_PROGRESS entry, unless force_cleanup: then each such entry is
 * reverted first (as Pinot's forceCleanup: the retry of a failed backfill), and the names of
 * its segmentsTo that the new entry does not reuse are appended to *cleanup (caller frees the
 * array and names). SL_ELIMIT for more than LINEAGE_MAX_SEGMENTS on a side, or when the IN_PROGRESS
 * entries would pass LINEAGE_MAX_BYTES (finished ones can be pruned; l is then not to be written).
 * The caller checks the names against the table (from exist, to do not). */
int lineage_start(lineage *l, const char *id, const char *const *from, size_t nfrom,
                  const char *const *to, size_t nto, bool force_cleanup, int64_t now_ms,
                  char ***cleanup, size_t *ncleanup, char *err, size_t errlen);

/* The one transition: e to state `to` at now_ms, logged. SL_ESTATE (nothing changes) unless
 * e is IN_PROGRESS and to is COMPLETED or REVERTED. */
int lineage_move(lineage_entry *e, lineage_state to, int64_t now_ms);

/* Drop the oldest finished entries beyond LINEAGE_KEEP_FINISHED, and more while the JSON is
 * over LINEAGE_MAX_BYTES. */
void lineage_prune(lineage *l);

#endif
