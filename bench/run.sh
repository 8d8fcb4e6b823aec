#!/usr/bin/env bash
# Installs what is missing (deploy/install-deps.sh --bench), builds the project (in ./build, or
# $SLUICE_BUILD) when needed, then runs every benchmark in
# turn; each prints its own table. One section per benchmark binary: add yours as another
# `run` line below. A benchmark that fails does not stop the others; the exit status is 1
# when any failed. Benchmarks report figures, they never assert them.
# Usage: bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
B=${SLUICE_BUILD:-build}

deploy/install-deps.sh --bench # what the benchmarks compare against (ClickHouse), too
cmake -S . -B "$B" -DSLUICE_BENCH=ON >/dev/null
cmake --build "$B" -j2

failed=0
run() { # run TITLE BINARY [ARGS...]
  local title=$1
  shift
  echo
  echo "== $title =="
  if ! "$@"; then
    echo "!! $title: $1 exited non-zero" >&2
    failed=1
  fi
}

run "segment engine (a), (c), (b): JSON decode + append, mutable-segment bytes per row, the events segment file built" \
  "$B/bench/bench_ingest"
run "segment engine (b): immutable segment build, synthetic 10-column schema in memory (the events file build is in (a))" "$B/bench/bench_build"
run "segment engine (d): JSON libraries, bare parse vs rowdec; the CSV, Avro and protobuf decoders" "$B/bench/bench_json"
run "consumer: bare librdkafka vs standalone, 16 partitions on 2 cores, RSS per partition" \
  "$B/bench/bench_consume" --sluice "$B/sluice" --examples deploy/examples

run "consumer: start-up at scale, 1 to 10,000 partitions (empty topic)" bench/startup.sh "$B"
run "controller: completions per second and RPC round trip (32 partitions x 3 replicas)" \
  bench/completion.sh "$B" 32 5 200
run "replicas (issue 11 (a)-(c)): controller + 3 replicas beside 3 standalone sidecars, pauseless on/off, freshness, completion overhead" \
  bench/replicas.sh "$B" 1200000 40000
run "side by side (issue 15): bare loop, standalone x1 and x3, controller + 3 replicas, segment build; anchors; partition scaling" \
  bench/sidebyside.sh "$B" 3
run "replay: rows per CPU-second against the standalone sidecar on the same range" \
  bench/replay.sh "$B" 50000 10000 16
run "batch (issue 12): segment build from JSON lines, CSV and Avro against ClickHouse's INSERT" \
  bench/batch.sh "$B" 3 500000
run "push (issue 12): 1,000 small segments pushed (tar, metadata) and loaded by 2 sidecars" \
  bench/push.sh "$B" 1000 20

exit $failed
