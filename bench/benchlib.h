/* What the benchmarks share: a result table printed as Markdown, process measurements (CPU
 * seconds, RSS, the allocator's free pages), child processes with bounded waits, the
 * `sluice kafka-mock` and `sluice loadgen` children that feed Kafka benchmarks, and file
 * helpers. Messages on stderr start with the program's name.
 *
 * A benchmark is one process on one thread here (its workers never call these), and an
 * interrupted run unwinds through the caller's cleanup: every wait takes the caller's stop
 * flag (set by its SIGINT/SIGTERM handler) and ends early when it is set. */
#ifndef SL_BENCHLIB_H
#define SL_BENCHLIB_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- the result table ---- */

#define BENCHLIB_MAX_LINES 48 /* a benchmark prints a fixed set of lines; more is a bug */

typedef struct benchlib_line {
    char name[64];
    char rows[16];
    char secs[16];
    char rate[24];
    char note[256];
} benchlib_line;

typedef struct benchlib_table {
    benchlib_line lines[BENCHLIB_MAX_LINES];
    size_t n;
    bool failed; /* a measurement could not be taken (its line says why) */
} benchlib_table;

/* A new line called name, its other cells "-" (aborts past BENCHLIB_MAX_LINES). */
benchlib_line *benchlib_line_add(benchlib_table *t, const char *name);
/* A measurement that could not be taken: the note says why and t->failed is set. */
void benchlib_line_fail(benchlib_table *t, const char *name, const char *why);
/* rows in secs: the rate is rows / secs. */
void benchlib_line_timed(benchlib_table *t, const char *name, int64_t rows, double secs,
                         const char *note);
/* | benchmark | rows | seconds | rows/s | note | on stdout. */
void benchlib_table_print(const benchlib_table *t);

/* ---- measurements ---- */

/* CPU seconds (user + system, all threads) of this process. */
double benchlib_cpu_s(void);
/* Resident set size of this process in bytes (/proc/self/statm), or -1. */
int64_t benchlib_rss(void);
/* Return the pages jemalloc (the process's malloc, librdkafka's too) keeps resident after
 * free for its decay time (10 s), so that an RSS reading shows live memory. */
void benchlib_purge(void);

/* snprintf for text whose truncation is harmless or impossible (messages; paths built from a
 * short temp dir), without -Wformat-truncation's guesses about the sizes. */
void benchlib_fmt(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- files ---- */

/* Remove dir and everything below it (errors are reported, not returned). */
void benchlib_rm_tree(const char *dir);
/* Copy a text file to stderr (a child's log after it failed). */
void benchlib_cat(const char *path);

/* ---- child processes ---- */

/* fork + exec argv with stdin from /dev/null and stdout/stderr appended to the two files.
 * The child dies with us (PR_SET_PDEATHSIG) even if this process is killed without cleanup.
 * Returns the pid or -1. */
pid_t benchlib_spawn(char *const argv[], const char *out_path, const char *err_path);

/* Wait for pid to exit, at most timeout_s (or until *stop is set, when stop is not NULL),
 * then kill it by PID. Returns its exit status, or -1 when it had to be killed. */
int benchlib_wait_child(pid_t pid, double timeout_s, const volatile sig_atomic_t *stop);

/* `sluice kafka-mock` as a child, one broker. */
typedef struct benchlib_mock {
    pid_t pid;           /* 0 when not running */
    char bootstrap[512]; /* its bootstrap list once started */
} benchlib_mock;

/* Start sluice's kafka-mock with the topics ("name:partitions") and read its bootstrap list
 * from --bootstrap-file (written once the brokers listen); its files go to dir. Returns 0, or
 * -1 after printing why (and the mock's log). */
int benchlib_mock_start(benchlib_mock *m, const char *sluice, const char *dir,
                        const char *const *topics, size_t ntopics,
                        const volatile sig_atomic_t *stop);
/* SIGTERM, then wait (5 s) and kill. */
void benchlib_mock_stop(benchlib_mock *m);

/* `sluice loadgen`: rows events from start_id into topic at bootstrap, partition =
 * id % partitions (at most 120 s). Returns 0, or -1 (after printing its log unless *stop). */
int benchlib_loadgen(const char *sluice, const char *dir, const char *bootstrap, const char *topic,
                     int64_t rows, int partitions, int64_t start_id,
                     const volatile sig_atomic_t *stop);

/* ---- defaults ---- */

/* The sluice binary beside the benchmarks: ../sluice next to this program. */
void benchlib_default_sluice(char *buf, size_t cap);
/* deploy/examples under the current dir, else under the source tree this was built from. */
void benchlib_default_examples(char *buf, size_t cap);

#endif
