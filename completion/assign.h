/* Table assignment: which instances host each partition, and the target state of every
 * segment on each of its instances (Pinot's IdealState), stored as JSON at
 * /sluice/<cluster>/tables/<t>/assignment:
 *
 *   {"partitions":{"0":["s1","s2","s3"],...},
 *    "segments":{"t__0__0__20240101T0000Z":{"s1":"ONLINE","s2":"ONLINE","s3":"ONLINE"},...},
 *    "forceCommit":{"t__1__4__20240101T0100Z":"<job id>",...},
 *    "pausedSinceMs":1700000000000,
 *    "bootstrapSinceMs":1700000000000}
 *
 * forceCommit (only written when not empty): consuming segments a force commit asked to end
 * now (DESIGN §9), each with its job; the replicas consuming one end it at their next tick,
 * and its commit removes the entry. pausedSinceMs (only while paused, DESIGN §9): consumption
 * is paused; commits open no successor until a resume. bootstrapSinceMs (only while `sluice
 * replay` bootstraps the table, DESIGN §9): no segment is consumed; each partition's newest
 * segment is IN_PROGRESS and not in "segments" until the resume that ends the bootstrap.
 *
 * Order is kept as written (partitions ascending, segments in creation order), so the same
 * assignment always serializes to the same bytes. Plain data, no locking. */
#ifndef SL_ASSIGN_H
#define SL_ASSIGN_H

#include "common/limits.h"

#include <stddef.h>
#include <stdint.h>

typedef enum assign_state {
    ASSIGN_CONSUMING = 0,
    ASSIGN_ONLINE,
    ASSIGN_OFFLINE,
    ASSIGN_ERROR,
    ASSIGN_STATE__COUNT
} assign_state;

typedef struct assign_list {
    uint32_t n;
    char id[SL_MAX_REPLICATION][SL_IDENT_MAX + 1];
} assign_list;

/* Most instances one segment lists: a pushed dimension table's segment is on every live
 * sidecar; a consumed segment on its partition's replicas (at most SL_MAX_REPLICATION). */
#define ASSIGN_MAX_HOSTS 4096

/* The instances of one segment: grown as needed (assign_seg_host), owned by its assignment. */
typedef struct assign_hosts {
    uint32_t n, cap;
    char (*id)[SL_IDENT_MAX + 1]; /* n of them */
} assign_hosts;

typedef struct assign_seg {
    char segment[SL_SEGNAME_MAX];
    assign_hosts inst;
    assign_state *state; /* per inst.id[i]; owned */
} assign_seg;

/* A consuming segment a force commit asked to end, and the job that asked. */
typedef struct assign_force {
    char segment[SL_SEGNAME_MAX];
    char job[64];
} assign_force;

typedef struct assign {
    uint32_t npart;
    assign_list *part; /* instances of partition p at part[p]; owned */
    size_t nseg, capseg;
    assign_seg *seg; /* owned */
    size_t nforce;
    assign_force *force;  /* owned */
    int64_t paused_ms;    /* pauseConsumption's time; 0 = consuming */
    int64_t bootstrap_ms; /* the bootstrap's start; 0 = not bootstrapping */
} assign;

const char *assign_state_name(assign_state s);
/* Parse a state name; returns 0 or SL_EINVAL. */
int assign_state_parse(const char *name, assign_state *out);

/* Parse JSON into a (zeroed first). Returns 0 or SL_ECORRUPT with the reason in err. */
int assign_parse(const char *json, size_t len, assign *a, char *err, size_t errlen);

/* Serialize; caller frees with free(). */
char *assign_to_json(const assign *a, size_t *len);

void assign_free(assign *a);

/* Balanced, deterministic placement: partition p goes to `replication` of the sorted live
 * instances starting at index p (round robin), so every instance gets P*R/N partitions,
 * +-1. Returns 0 or SL_EINVAL when fewer live instances than replication. live is copied
 * and sorted; a is reset. */
int assign_plan(assign *a, const char *const *live, size_t nlive, uint32_t partitions,
                uint32_t replication);

/* Give segment entry a->seg[seg] more instances, until it has want (at most
 * ASSIGN_MAX_HOSTS) or live has no other: each time the live instance with the fewest
 * segment entries in a, ties to the smaller id, so placement is balanced and the same for
 * the same input (an uploaded segment's, DESIGN §10), each in state st (ONLINE; OFFLINE for a
 * replacement's segmentsTo not yet switched in). Returns how many were added. */
uint32_t assign_fill(assign *a, size_t seg, const char *const *live, size_t nlive, uint32_t want,
                     assign_state st);

/* The segment entry, or NULL. */
assign_seg *assign_find(assign *a, const char *segment);

/* Append a segment on instances `inst`, every replica in state st. */
assign_seg *assign_add(assign *a, const char *segment, const assign_list *inst, assign_state st);

/* Make s's instances exactly inst's, each in state st. */
void assign_seg_set(assign_seg *s, const assign_list *inst, assign_state st);

/* List instance id on segment s in state st (s grows; id must fit SL_IDENT_MAX). */
void assign_seg_host(assign_seg *s, const char *id, assign_state st);

/* The first SL_MAX_REPLICATION instances of s as a partition-sized list (a consumed segment's
 * are its replicas, never more), into *out (the caller's, by value). */
void assign_seg_list(const assign_seg *s, assign_list *out);

/* Remove a segment entry (and its force-commit request); returns 0 or SL_ENOENT. */
int assign_remove(assign *a, const char *segment);

/* The job id that asked segment to be force-committed, or NULL. */
const char *assign_force_job(const assign *a, const char *segment);

/* Ask for segment to be force-committed by job (replaces an earlier request). */
void assign_force_add(assign *a, const char *segment, const char *job);

/* Forget segment's force-commit request (its commit). */
void assign_force_remove(assign *a, const char *segment);

#endif
