/* The nemesis of `sluice chaos` (DESIGN §11): named fault scenarios and random compositions
 * of faults, applied to a running local cluster (chaos/cluster.h) while it ingests.
 *
 * A scenario has settings for the processes it starts with (a hidden test knob where no real
 * mechanism can hit a protocol step: a sidecar that exits or stops at a named point of the
 * completion) and a schedule that runs during the load: signals (kill -9, SIGSTOP/SIGCONT,
 * SIGTERM), ZooKeeper stopped and restarted, a session expired by pausing a process past its
 * ZooKeeper session, the mock broker's faults (broker down, leader change, round-trip time),
 * a byte flipped in a published file, a data dir emptied. Every schedule heals what it broke
 * before it returns (nem_heal makes sure: every process running, nothing paused, brokers up).
 * Each fault is recorded in the history with its time, and counted: a scenario whose fault
 * never happened (a knob whose protocol step was never reached) says so, so a run cannot pass
 * without having been tested. @locality: the runner's thread. */
#ifndef SL_NEMESIS_H
#define SL_NEMESIS_H

#include "chaos/cluster.h"
#include "chaos/history.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct nem_run {
    ccl *c;
    ccl_zk *zk;
    hist *h;
    uint64_t rng;       /* the run's random state (seeded): targets, times */
    int64_t window_ms;  /* how long the load runs: faults fall inside it */
    unsigned injected;  /* faults that happened */
    char kinds[256];    /* nem_random: the faults that happened, "kind:count,..." */
    unsigned crashes;   /* processes that exited by themselves, not by a knob */
    char why_not[256];  /* a scenario that could not inject its fault: why */
    char violated[512]; /* an invariant the schedule checked itself and found broken */
    char skipped[256];  /* a fault this machine cannot make (no root for tmpfs): why */
    char mounts[2][4096]; /* tmpfs mounted by the run, unmounted by nem_cleanup */
} nem_run;

typedef struct nem_scenario {
    const char *name;
    const char *summary;
    /* process settings at start (NULL-terminated `key=value` lists; NULL: none) */
    const char *const *sidecar_sets; /* every sidecar */
    const char *const *controller_sets;
    const char *const *sidecar3_sets; /* sidecar s3 only (in addition) */
    /* the schedule: runs while the load runs; returns 0, or an error that ends the run */
    int (*run)(nem_run *r);
    /* a knob scenario: the log line that proves the fault happened ("" for others) */
    const char *proof;
    /* the segments' row threshold instead of the runner's (0: the runner's; -1: none, the
     * time threshold ends every segment) */
    int64_t flush_rows;
    /* the shortest load this scenario can prove its fault in (0: any --duration): a protocol
     * step that only some segment ends reach needs several of them */
    int64_t min_duration_ms;
} nem_scenario;

/* The named scenarios, in `sluice chaos list` order; *n receives the count. */
const nem_scenario *nem_scenarios(size_t *n);

/* The scenario called name, or NULL. */
const nem_scenario *nem_find(const char *name);

/* The random scenario (`--random`): 1 to 3 faults of the composable kinds, drawn from r->rng,
 * one after another at random times inside the window. */
int nem_random(nem_run *r);

/* Supervise once: a process that exited by itself (a knob's exit, or a crash: counted) is
 * restarted without its knobs after 2 s, one that stopped itself is continued after 5 s. The
 * runner calls it while it waits for quiescence too, since a knob may fire after the heal.
 * 0, or the error of a restart. */
int nem_supervise(nem_run *r);

/* Heal everything: restart processes that exited, continue paused ones, ZooKeeper up, brokers
 * up with no added latency. 0, or an error when a process cannot be brought back. */
int nem_heal(nem_run *r);

/* Undo what outlives the processes (tmpfs mounts). Call after the cluster is stopped. */
void nem_cleanup(nem_run *r);

/* A 64-bit random number from *state (splitmix64): reproducible from the seed. */
uint64_t nem_rand(uint64_t *state);

#endif
