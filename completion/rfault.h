/* The completion client's named failure points: the sidecar's hidden test knob
 * `test.commit.fault` (docs/testing.md), which the chaos suite uses where no real mechanism can
 * hit one step of the protocol.
 *
 * At a point the client exits (_exit(86), with no cleanup, as kill -9 would) or stops the
 * whole process (SIGSTOP, until someone sends SIGCONT), the first time the point is reached
 * in the process's life; a resumed or restarted process goes on normally. Points:
 * before_commit_start (built, before CommitStart); after_upload (the upload returned 200);
 * before_commit_end (before CommitEnd); during_keep (KEEP: built, not yet published);
 * during_discard (DISCARD: before the download). @locality: any thread. */
#ifndef SL_RFAULT_H
#define SL_RFAULT_H

#include <stdatomic.h>
#include <stdbool.h>

/* The knob's values, in the order of the sidecar's value table (src/cmd_sidecar.c). */
typedef enum rfault_kind {
    RFAULT_NONE = 0,
    RFAULT_EXIT_BEFORE_COMMIT_START,
    RFAULT_EXIT_AFTER_UPLOAD,
    RFAULT_EXIT_BEFORE_COMMIT_END,
    RFAULT_STOP_BEFORE_COMMIT_START,
    RFAULT_STOP_AFTER_UPLOAD,
    RFAULT_STOP_BEFORE_COMMIT_END,
    RFAULT_EXIT_DURING_KEEP,
    RFAULT_STOP_DURING_KEEP,
    RFAULT_EXIT_DURING_DISCARD,
    RFAULT_STOP_DURING_DISCARD,
    RFAULT__COUNT
} rfault_kind;

typedef enum rfault_point {
    RFAULT_AT_NONE = 0,
    RFAULT_AT_BEFORE_COMMIT_START,
    RFAULT_AT_AFTER_UPLOAD,
    RFAULT_AT_BEFORE_COMMIT_END,
    RFAULT_AT_DURING_KEEP,
    RFAULT_AT_DURING_DISCARD,
    RFAULT_AT__COUNT
} rfault_point;

/* The client reached `at` for segment: exit or stop there when the knob k names that point
 * and *fired was not yet set (it is set then); otherwise return at once. */
void rfault_at(rfault_kind k, rfault_point at, atomic_bool *fired, const char *segment);

#endif
