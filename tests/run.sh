#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test:
#   1. the RelWithDebInfo build and all ctest tests (unit, fuzz-corpus replay, integration);
#   2. the Release build (-O3, benchmarks included: the optimizer's extra -Werror warnings such
#      as -Wformat-truncation only show there) and its unit tests;
#   3. an ASan+UBSan build and its unit tests;
#   4. a libFuzzer build (clang), each fuzz target run briefly from its corpus.
# Then, on every exit path, the leak check: every process started from here carries
# SLUICE_TESTRUN=<this run's id> in its environment; one still alive at the end (a ZooKeeper a
# test did not stop, a helper re-parented to init) is listed with its command line, killed, and
# the run fails.
# Usage: tests/run.sh [--quick]   (--quick skips stages 2 to 4)
# Environment: JOBS (parallel jobs, 2), SLUICE_FUZZ_SECONDS (per target, 10),
# SLUICE_RUN_BUILD (build dir prefix, default build: build, build-release, build-asan,
# build-fuzz), SLUICE_CTEST_ARGS (extra ctest arguments for every stage, e.g. "-R zk").
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
JOBS=${JOBS:-2}
FUZZ_SECONDS=${SLUICE_FUZZ_SECONDS:-10}
B=${SLUICE_RUN_BUILD:-build}
read -r -a CTEST_ARGS <<<"${SLUICE_CTEST_ARGS:-}"
quick=0
[ "${1:-}" = "--quick" ] && quick=1

# ---- the leak check -----------------------------------------------------------------------
# The marker is inherited by everything started below (ctest, the tests, daemons such as
# ZooKeeper that are re-parented to init) and by nothing else on the machine, so processes of
# concurrent runs are never touched. /proc/PID/environ is the environment the process was
# exec'd with, so the scanner itself runs with the marker removed.
SLUICE_TESTRUN=$(cat /proc/sys/kernel/random/uuid)
export SLUICE_TESTRUN
has_marker() { env -u SLUICE_TESTRUN grep -qsxzF "SLUICE_TESTRUN=$SLUICE_TESTRUN" "/proc/$1/environ"; }
leak_check() {
  local rc=$? scan f p live=() left
  trap - EXIT
  # grep is exec'd by env without the marker and the PID list is expanded before it starts,
  # and no subshell runs meanwhile: every match is a process of this run other than this shell
  scan=$(mktemp)
  env -u SLUICE_TESTRUN grep -lsxzF "SLUICE_TESTRUN=$SLUICE_TESTRUN" /proc/[0-9]*/environ >"$scan" || true
  while IFS= read -r f; do
    p=${f#/proc/}
    p=${p%/environ}
    [ "$p" != "$$" ] && live+=("$p")
  done <"$scan"
  rm -f "$scan"
  if [ ${#live[@]} -eq 0 ]; then
    echo "== leak check: no process of this run is left =="
    exit "$rc"
  fi
  echo "== leak check FAILED: ${#live[@]} process(es) started by this run are still alive ==" >&2
  for p in "${live[@]}"; do
    printf '  pid %s ppid %s: %s\n' "$p" "$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null)" \
      "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-300)" >&2
  done
  # by PID, and only while the PID still carries the marker (never a recycled one); SIGCONT
  # first in case a test froze it
  for p in "${live[@]}"; do has_marker "$p" && kill -CONT "$p" 2>/dev/null && kill -TERM "$p" 2>/dev/null; done
  for _ in $(seq 1 50); do
    left=0
    for p in "${live[@]}"; do has_marker "$p" && left=1; done
    [ $left -eq 0 ] && break
    sleep 0.1
  done
  for p in "${live[@]}"; do has_marker "$p" && kill -KILL "$p" 2>/dev/null; done
  echo "tests/run.sh: killed them; the run fails" >&2
  exit 1
}
trap leak_check EXIT

SECONDS=0
stage_time() { echo "-- $1 done at ${SECONDS}s"; }

deploy/install-deps.sh

echo "== build (RelWithDebInfo: $B) =="
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$B" -j"$JOBS"

echo "== ctest (RelWithDebInfo) =="
(cd "$B" && ctest --output-on-failure -j"$JOBS" --timeout 900 "${CTEST_ARGS[@]}")
stage_time "stage 1"

[ $quick -eq 1 ] && exit 0

echo "== build (Release: $B-release) =="
cmake -S . -B "$B-release" -DCMAKE_BUILD_TYPE=Release -DSLUICE_BENCH=ON >/dev/null
cmake --build "$B-release" -j"$JOBS"
echo "== ctest (Release, unit tests) =="
(cd "$B-release" && ctest --output-on-failure -j"$JOBS" -L unit --timeout 900 "${CTEST_ARGS[@]}")
stage_time "stage 2"

echo "== build (ASan+UBSan: $B-asan) =="
cmake -S . -B "$B-asan" -DCMAKE_BUILD_TYPE=Debug -DSLUICE_SANITIZE=ON -DSLUICE_BENCH=OFF >/dev/null
cmake --build "$B-asan" -j"$JOBS"
echo "== ctest (ASan+UBSan, unit tests) =="
(cd "$B-asan" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --output-on-failure -j"$JOBS" -L unit --timeout 900 "${CTEST_ARGS[@]}")
stage_time "stage 3"

echo "== build (libFuzzer: $B-fuzz) =="
CC=clang CXX=clang++ cmake -S . -B "$B-fuzz" -DCMAKE_BUILD_TYPE=Debug -DSLUICE_FUZZ=ON -DSLUICE_BENCH=OFF >/dev/null
cmake --build "$B-fuzz" -j"$JOBS"
echo "== fuzz (${FUZZ_SECONDS}s per target) =="
for f in "$B-fuzz"/tests/fuzz_*; do
  [ -x "$f" ] || continue
  case "$f" in *_replay) continue ;; esac
  name=$(basename "$f"); corpus="$ROOT/tests/fuzz/corpus/${name#fuzz_}"
  work=$(mktemp -d); cp -r "$corpus"/. "$work"/
  echo "-- $name"
  "$f" -max_total_time="$FUZZ_SECONDS" -max_len=65536 -print_final_stats=0 "$work" 2>&1 | tail -n 2
  rm -rf "$work"
done
stage_time "stage 4"
echo "tests/run.sh: all stages passed"
