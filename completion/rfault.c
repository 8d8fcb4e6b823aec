/* The completion client's named failure points (rfault.h). */
#include "completion/rfault.h"
#include "common/log.h"

#include <signal.h>
#include <unistd.h>

static const char *const rfault_point_names[RFAULT_AT__COUNT] = {
    [RFAULT_AT_NONE] = "none",
    [RFAULT_AT_BEFORE_COMMIT_START] = "before_commit_start",
    [RFAULT_AT_AFTER_UPLOAD] = "after_upload",
    [RFAULT_AT_BEFORE_COMMIT_END] = "before_commit_end",
    [RFAULT_AT_DURING_KEEP] = "during_keep",
    [RFAULT_AT_DURING_DISCARD] = "during_discard",
};

/* each knob value: a point and an action */
static const struct {
    rfault_point at;
    bool stop; /* SIGSTOP; else _exit(86) */
} rfault_kinds[RFAULT__COUNT] = {
    [RFAULT_NONE] = {RFAULT_AT_NONE, false},
    [RFAULT_EXIT_BEFORE_COMMIT_START] = {RFAULT_AT_BEFORE_COMMIT_START, false},
    [RFAULT_EXIT_AFTER_UPLOAD] = {RFAULT_AT_AFTER_UPLOAD, false},
    [RFAULT_EXIT_BEFORE_COMMIT_END] = {RFAULT_AT_BEFORE_COMMIT_END, false},
    [RFAULT_STOP_BEFORE_COMMIT_START] = {RFAULT_AT_BEFORE_COMMIT_START, true},
    [RFAULT_STOP_AFTER_UPLOAD] = {RFAULT_AT_AFTER_UPLOAD, true},
    [RFAULT_STOP_BEFORE_COMMIT_END] = {RFAULT_AT_BEFORE_COMMIT_END, true},
    [RFAULT_EXIT_DURING_KEEP] = {RFAULT_AT_DURING_KEEP, false},
    [RFAULT_STOP_DURING_KEEP] = {RFAULT_AT_DURING_KEEP, true},
    [RFAULT_EXIT_DURING_DISCARD] = {RFAULT_AT_DURING_DISCARD, false},
    [RFAULT_STOP_DURING_DISCARD] = {RFAULT_AT_DURING_DISCARD, true},
};

void rfault_at(rfault_kind k, rfault_point at, atomic_bool *fired, const char *segment)
{
    if ((unsigned)k >= RFAULT__COUNT || at == RFAULT_AT_NONE || rfault_kinds[k].at != at ||
        atomic_exchange(fired, true))
        return;
    if (rfault_kinds[k].stop) {
        SL_WARN("replica", "test knob: stopping at %s segment=%s", rfault_point_names[at],
                segment);
        raise(SIGSTOP);
        return;
    }
    SL_WARN("replica", "test knob: exiting at %s segment=%s", rfault_point_names[at], segment);
    _exit(86);
}
