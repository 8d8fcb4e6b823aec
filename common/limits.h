/* Limits that more than one module must agree on, in one place.
 *
 * A limit that only one module knows stays in that module (a file-size cap of the config
 * parser, the RPC body cap). One that is checked in one place and relied on in another (a
 * table config accepts what the assignment and the completion state machine can hold; a name
 * that passed validation fits every buffer sized for it) lives here, so the two cannot drift
 * apart. docs/tables.md and docs/config.md state them to users. */
#ifndef SL_LIMITS_H
#define SL_LIMITS_H

/* Replicas of one partition: segmentsConfig.replication (common/table_config.c), the instance
 * list of a partition or segment in the assignment (completion/assign.h) and the replicas one
 * completion state machine tracks (completion/cfsm.h). Every consuming replica reports each
 * segment and is waited for, and every assignment entry is stored at this size, so the bound
 * is kept small; far above Pinot's usual 2 or 3. */
#define SL_MAX_REPLICATION 16

/* Longest identifier, in bytes without the NUL: table names, cluster.name, instance.id
 * (common/ident.h grammar; table names have a narrower alphabet, common/table_config.c). */
#define SL_IDENT_MAX 128

/* A buffer this large holds any valid segment name and its NUL (segment/segname.h): a
 * realtime <table, at most SL_IDENT_MAX>__<partition>__<sequence>__<yyyyMMddTHHmmZ>, or an
 * uploaded (batch) name of at most 255 bytes of [A-Za-z0-9._-] (DESIGN §10). */
#define SL_SEGNAME_MAX 256

#endif
