/* The history of a chaos run: every operation and fault with its time, as JSON lines.
 *
 * One object per line: {"t_ms":<ms since the run began>,"kind":"<what>","target":"<who>",
 * "detail":"<free text>"}; kinds are the runner's (start, load, fault, heal, restart, quiesce,
 * audit, verdict, ...). The file is what reproduces and explains a run next to its seed: a
 * reader sees what was done to which process and when. Lines are flushed as they are written,
 * so a runner that dies leaves everything it did. @locality: one thread (the runner). */
#ifndef SL_HISTORY_H
#define SL_HISTORY_H

#include <stdint.h>

typedef struct hist hist;

/* Create (truncate) path. Returns NULL with errno set when it cannot be opened; the caller
 * owns the result (hist_close). */
hist *hist_open(const char *path);

/* Append one event; fmt (printf) gives the detail. Write errors are ignored: a history is
 * evidence, never a reason to stop a run. */
void hist_add(hist *h, const char *kind, const char *target, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Milliseconds since hist_open (the t_ms of the next event). */
int64_t hist_elapsed_ms(const hist *h);

/* Close and free h (NULL: nothing). */
void hist_close(hist *h);

#endif
