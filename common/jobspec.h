/* Pinot's SegmentGenerationJobSpec (the YAML of `pinot-admin LaunchDataIngestionJob`), the
 * subset of DESIGN §10 and docs/batch.md: which files to read, how, where the segments go
 * and how they are named. Parsed once, every refused key or value reported in one run;
 * runner class names, file system specs and parallelism are accepted and not used.
 *
 * Segment names follow Pinot's generators, with the sequence id of a file its index in the
 * sorted list of input files (Pinot's standalone runner numbers them the same way; the sort
 * makes it the same on every machine). */
#ifndef SL_JOBSPEC_H
#define SL_JOBSPEC_H

#include "common/table_config.h"

#include <jansson.h>
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum jobspec_type {
    JOBSPEC_CREATE = 0,       /* SegmentCreation */
    JOBSPEC_CREATE_TAR_PUSH,  /* SegmentCreationAndTarPush */
    JOBSPEC_CREATE_URI_PUSH,  /* SegmentCreationAndUriPush */
    JOBSPEC_CREATE_META_PUSH, /* SegmentCreationAndMetadataPush */
} jobspec_type;

typedef enum jobspec_namer {
    JOBSPEC_NAME_SIMPLE = 0,
    JOBSPEC_NAME_NORMALIZED_DATE,
    JOBSPEC_NAME_FIXED,
    JOBSPEC_NAME_INPUT_FILE,
    JOBSPEC_NAME_UPLOADED_REALTIME,
} jobspec_namer;

typedef struct jobspec {
    jobspec_type type;
    char *input_dir; /* a local directory (a file:// URI's path; relative to the working dir) */
    bool recursive;  /* searchRecursively (default true) */
    regex_t include, exclude; /* includeFileNamePattern, excludeFileNamePattern (glob: or regex:) */
    bool has_include, has_exclude;
    char *output_dir;
    bool overwrite;
    bool fail_on_empty;     /* failOnEmptySegment */
    char *data_format;      /* recordReaderSpec.dataFormat: "json", "csv" or "avro" */
    tcfg_csv csv;           /* recordReaderSpec.configs for csv */
    char *table_name;       /* tableSpec.tableName, without a type suffix */
    char *schema_uri;       /* tableSpec.schemaURI, or NULL */
    char *table_config_uri; /* tableSpec.tableConfigURI, or NULL */
    char *controller_uri;   /* pinotClusterSpecs[0].controllerURI, or NULL */
    jobspec_namer namer;
    char *name_prefix, *name_postfix; /* segment.name.prefix / .postfix, or NULL */
    bool exclude_seq, exclude_time;   /* exclude.sequence.id, exclude.time.in.segment.name */
    char *fixed_name;                 /* fixed: segment.name */
    regex_t path_pattern;             /* inputFile: file.path.pattern */
    bool has_path_pattern;
    char *name_template;   /* inputFile: segment.name.template */
    int32_t partition;     /* uploadedRealtime: segment.partitionId */
    int64_t upload_ms;     /* uploadedRealtime: segment.uploadTimeMs (-1: now) */
    int push_attempts;     /* pushJobSpec.pushAttempts (default 1) */
    int64_t push_retry_ms; /* pushJobSpec.pushRetryIntervalMillis (default 1000) */
    int push_parallel;     /* pushJobSpec.pushParallelism (default 1; sluice push takes <= 64) */
    char *uri_prefix, *uri_suffix; /* pushJobSpec.segmentUriPrefix/Suffix (URI and METADATA
                                      pushes: prefix + the output file's absolute path +
                                      suffix), or NULL: file://<path> */
} jobspec;

/* Parse the YAML job spec text[0..len) (src names it in errors). NULL with every refused key
 * in err, a line each. Caller frees with jobspec_free. */
jobspec *jobspec_parse(const char *text, size_t len, const char *src, char *err, size_t errlen);
void jobspec_free(jobspec *j);

/* The input files: regular files under input_dir (recursively unless searchRecursively is
 * false) whose absolute paths the include pattern matches and the exclude pattern does not,
 * sorted by path. *paths (n strings) is the caller's: free each and the array. 0, or -1
 * with the reason in err. */
int jobspec_inputs(const jobspec *j, char ***paths, size_t *n, char *err, size_t errlen);

/* What a segment name is made of: the table's name with its type ("t_OFFLINE"), the input
 * file, its sequence id, the time column's min and max as text (NULL: no time column or no
 * value) and in ms since the epoch, and the table's push type and frequency (NULL: APPEND,
 * daily). */
typedef struct jobspec_name_in {
    const char *table_with_type;
    const char *raw_table;
    const char *input;
    int seq;
    const char *min_text, *max_text;
    int64_t min_ms, max_ms;
    bool have_ms;
    const char *push_type, *push_frequency;
    int64_t now_ms; /* uploadedRealtime's creation time without segment.uploadTimeMs */
} jobspec_name_in;

/* The segment's name by the spec's generator into out[0..cap). 0, or -1 with the reason in
 * err (a part that leaves [A-Za-z0-9._-] or makes the name longer than 255 bytes, a time
 * value normalizedDate cannot read). */
int jobspec_segment_name(const jobspec *j, const jobspec_name_in *in, char *out, size_t cap,
                         char *err, size_t errlen);

#endif
