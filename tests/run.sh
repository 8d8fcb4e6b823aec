#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test:
#   1. the release build and all ctest tests (unit, fuzz-corpus replay, integration);
#   2. an ASan+UBSan build and its unit tests;
#   3. a libFuzzer build (clang), each fuzz target run briefly from its corpus.
# Usage: tests/run.sh [--quick]   (--quick skips stages 2 and 3)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
JOBS=${JOBS:-2}
FUZZ_SECONDS=${SLUICE_FUZZ_SECONDS:-10}
quick=0
[ "${1:-}" = "--quick" ] && quick=1

deploy/install-deps.sh

echo "== build (release) =="
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$JOBS"

echo "== ctest (release) =="
(cd build && ctest --output-on-failure -j"$JOBS" --timeout 900)

[ $quick -eq 1 ] && exit 0

echo "== build (ASan+UBSan) =="
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSLUICE_SANITIZE=ON -DSLUICE_BENCH=OFF >/dev/null
cmake --build build-asan -j"$JOBS"
echo "== ctest (ASan+UBSan, unit tests) =="
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --output-on-failure -j"$JOBS" -L unit --timeout 900)

echo "== build (libFuzzer) =="
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DSLUICE_FUZZ=ON -DSLUICE_BENCH=OFF >/dev/null
cmake --build build-fuzz -j"$JOBS"
echo "== fuzz (${FUZZ_SECONDS}s per target) =="
for f in build-fuzz/tests/fuzz_*; do
  [ -x "$f" ] || continue
  case "$f" in *_replay) continue ;; esac
  name=$(basename "$f"); corpus="$ROOT/tests/fuzz/corpus/${name#fuzz_}"
  work=$(mktemp -d); cp -r "$corpus"/. "$work"/
  echo "-- $name"
  "$f" -max_total_time="$FUZZ_SECONDS" -max_len=65536 -print_final_stats=0 "$work" 2>&1 | tail -n 2
  rm -rf "$work"
done
echo "tests/run.sh: all stages passed"
