/* Process configuration as one table (STYLE.md "Configuration is one table").
 *
 * A process (sidecar, controller) describes every key once, in a config_def array: name, type,
 * where the value lives in its own struct (offsetof), bounds, default, description and flags.
 * This module derives everything else from that table: parsing of the Java-properties file and
 * of `--set key=value` overrides, validation with messages naming the key, the `--help-config`
 * text and the docs/config.md table. It holds no state of its own.
 *
 * File syntax (java.util.Properties, as Pinot operators write it): `key = value`, `key=value`,
 * `key: value` or `key value`; lines whose first non-blank character is `#` or `!` are comments
 * (a `#` later in a line is part of the value); blank lines are skipped; whitespace around key
 * and value is trimmed; a line ending in an odd number of backslashes continues on the next;
 * escapes `\t \n \r \f \\ \uXXXX` and `\X` (= X) are decoded. A key given twice in the file is
 * an error, so is a key given twice with --set; --set overrides the file. */
#ifndef SL_CONFIG_H
#define SL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Value types and the C type each stores at def->offset in the target struct. */
typedef enum config_type {
    CONFIG_STRING = 0,  /* char *, heap-owned by the target (config_free); NULL = unset */
    CONFIG_INT64,       /* int64_t; decimal text */
    CONFIG_BOOL,        /* bool; true/false, yes/no, on/off, 1/0 (any case) */
    CONFIG_DURATION_MS, /* uint64_t milliseconds; "90s", "6h", "1h30m", "500ms", bare = ms */
    CONFIG_SIZE_BYTES,  /* uint64_t bytes; "200M", "1G", "512K", bare = bytes (powers of 1024) */
    CONFIG_ENUM,        /* int: index into def->enum_values */
    CONFIG_TYPE__COUNT
} config_type;

/* Roles: a process passes the roles it plays to config_load; a key is required when its
 * flags share a role bit with them. ENUM values can add roles (mode = standalone). */
enum {
    CONFIG_ROLE_SIDECAR = 1u << 0,
    CONFIG_ROLE_CONTROLLER = 1u << 1,
    CONFIG_ROLE_STANDALONE = 1u << 2, /* a sidecar without ZooKeeper/controller */
    CONFIG_ROLE_CLUSTERED = 1u << 3,  /* a process that talks to ZooKeeper */
    CONFIG_ROLE__MASK = 0xffu,
};

/* def->flags */
enum {
    CONFIG_REQUIRED_SIDECAR = CONFIG_ROLE_SIDECAR,
    CONFIG_REQUIRED_CONTROLLER = CONFIG_ROLE_CONTROLLER,
    CONFIG_REQUIRED_STANDALONE = CONFIG_ROLE_STANDALONE,
    CONFIG_REQUIRED_CLUSTERED = CONFIG_ROLE_CLUSTERED,
    CONFIG_HIDDEN = 1u << 8, /* test knob: accepted, but left out of --help-config and docs */
    CONFIG_PREFIX = 1u << 9, /* name ends in '.'; every "name<suffix>" key is collected, as
                                (suffix, value), into a config_kvs at offset (type STRING) */
    CONFIG_NAME = 1u << 10,  /* STRING that becomes a ZooKeeper node, a directory and an RPC
                                field (cluster.name, instance.id): it must follow the
                                identifier grammar (common/ident.h, the table part of segment
                                names), 1 to 128 of [A-Za-z0-9_.-], no "__", not starting or
                                ending with '_' or '.' (so never "/" or ".."). An empty value
                                counts as not given. */
    CONFIG_FILE = 1u << 11,  /* STRING naming a file this process must be able to read (a CA
                                bundle, a netrc): checked when the config is loaded */
};

typedef struct config_enum_value {
    const char *name;
    unsigned roles; /* roles added when this value is chosen (0 = none) */
} config_enum_value;

typedef struct config_def {
    const char *name;
    config_type type;
    size_t offset;    /* offsetof(target struct, member) */
    int64_t min, max; /* inclusive bounds of INT64/DURATION_MS/SIZE_BYTES in stored units
                         (ms, bytes); both 0 = unbounded; max INT64_MAX = no upper bound */
    const char *def;  /* default as text (parsed like a file value), or NULL for none */
    const char *desc; /* one line, for --help-config and docs */
    unsigned flags;   /* CONFIG_REQUIRED_* | CONFIG_HIDDEN | CONFIG_PREFIX | CONFIG_NAME */
    const config_enum_value *enum_values; /* ENUM: terminated by {NULL, 0} */
} config_def;

/* One pass-through entry of a PREFIX key. */
typedef struct config_kv {
    char *key; /* suffix after the prefix ("sasl.mechanism" for "kafka.sasl.mechanism") */
    char *value;
    int line; /* line in the config file, 0 = from --set */
} config_kv;

typedef struct config_kvs {
    size_t n;
    config_kv *items; /* in order of first appearance */
} config_kvs;

/* Checks the table itself: unique names, defaults that parse and fit the bounds, required
 * keys without defaults, enums with values and a default or a requirement, prefix names ending
 * in '.', NAME entries that are strings with a valid default. Returns 0 or SL_EINVAL with the
 * reason in err. config_load calls it first. */
int config_check_defs(const config_def *defs, size_t ndefs, char *err, size_t errlen);

/* Fills target from defaults, then the file at path (NULL = no file), then the nsets
 * "key=value" strings of --set. roles (CONFIG_ROLE_*) selects the required keys, together
 * with the roles of chosen ENUM values. Target contents are overwritten, not read or freed.
 * Returns 0, or a negative SL_E* code with "FILE:LINE: KEY: REASON" (or "--set KEY: REASON")
 * in err; on error nothing allocated is left in target. On success the caller frees the
 * target's strings and lists with config_free. */
int config_load(const config_def *defs, size_t ndefs, void *target, unsigned roles,
                const char *path, char *const *sets, size_t nsets, char *err, size_t errlen);

/* Frees the STRING values and PREFIX lists that config_load put in target, and NULLs them. */
void config_free(const config_def *defs, size_t ndefs, void *target);

/* The definition matching key (exact name, or a PREFIX entry it starts with), or NULL. */
const config_def *config_find(const config_def *defs, size_t ndefs, const char *key);

/* `--help-config`: every non-hidden key with type, bounds, default, roles and description. */
void config_print_help(const config_def *defs, size_t ndefs, FILE *out);

/* A process command line: `--config FILE`, `--set key=value` (repeatable, at most maxsets),
 * `--check-config` (*check: load and validate, then exit), `--help` (prints usage),
 * `--help-config [--format markdown|properties]` (the key table, or a properties file with
 * every key commented). Fills *path and sets[0..nsets) (borrowed from argv). Returns -1 to go
 * on, or the exit code to return at once (0 after help, 2 on a usage error, reported on stderr
 * with `prog`). */
int config_args(int argc, char **argv, const config_def *defs, size_t ndefs, const char *prog,
                const char *usage, const char **path, char **sets, size_t *nsets, size_t maxsets,
                bool *check);

/* Every non-hidden key as a Java-properties template: its description and type as comments,
 * then `#key = default` (commented out). Returns 0 or SL_EIO. */
int config_write_properties(const config_def *defs, size_t ndefs, FILE *out);

/* The docs table (Markdown), non-hidden keys in table order. Returns 0 or SL_EIO. A test can
 * compare it with docs/config.md so the page never drifts from the code. */
int config_write_markdown(const config_def *defs, size_t ndefs, FILE *out);

#endif
