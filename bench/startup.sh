#!/usr/bin/env bash
# Start-up at scale: a standalone sidecar over an empty topic of P partitions, from spawn to the
# last partition's first segment started (its "segment start" log line), with its RSS and
# thread count then. One table row per P (default 1 16 256 1000 10000).
# Usage: bench/startup.sh [BUILD_DIR] [P ...]
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
shift || true
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(1 16 256 1000 10000)
S=$B/sluice
T=$(mktemp -d /tmp/sluice-bench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$T"
}
trap cleanup EXIT
echo "| partitions | start-up (s) | RSS after (MiB) | threads |"
echo "|---|---|---|---|"
for P in "${SIZES[@]}"; do
  W=$T/p$P
  mkdir -p "$W"
  "$S" kafka-mock --brokers 1 --topic "ev:$P" > "$W/boot" 2>/dev/null &
  KP=$!
  PIDS+=($KP)
  for _ in $(seq 100); do [ -s "$W/boot" ] && break; sleep 0.1; done
  python3 chaos/tools/mktable.py deploy/examples/events_table.json ev ev "$(head -1 "$W/boot")" \
    > "$W/table.json"
  t0=$(date +%s.%N)
  "$S" sidecar --set cluster.name=bench --set zk.connect=127.0.0.1:1 --set mode=standalone \
    --set instance.id=startup --set data.dir="$W/data" --set table.config="$W/table.json" \
    --set table.schema=deploy/examples/events_schema.json --set http.bind=127.0.0.1 \
    --set http.port=0 2> "$W/sidecar.log" &
  SP=$!
  PIDS+=($SP)
  ok=1
  while [ "$(grep -c 'segment start' "$W/sidecar.log" || true)" -lt "$P" ]; do
    if ! kill -0 $SP 2>/dev/null; then ok=0; break; fi
    sleep 0.02
  done
  t1=$(date +%s.%N)
  if [ $ok = 1 ]; then
    rss=$(awk '/^VmRSS/ {printf "%.0f", $2 / 1024}' /proc/$SP/status)
    thr=$(awk '/^Threads/ {print $2}' /proc/$SP/status)
    echo "| $P | $(python3 -c "print(f'{$t1 - $t0:.2f}')") | $rss | $thr |"
  else
    echo "| $P | exited: $(tail -1 "$W/sidecar.log") | | |"
  fi
  kill -9 $SP $KP 2>/dev/null || true
  wait $SP $KP 2>/dev/null || true
  rm -rf "$W"
done
