#!/usr/bin/env bash
# Replica benchmarks (three cluster-mode sidecars, one controller, ZooKeeper, kafka-mock):
#  - completion overhead per segment: from the first replica reaching the threshold to the
#    last replica ONLINE, minus the committer's build and upload time, p50/p99 over every
#    completion of the run (read from the processes' logs);
#  - rows/s with three replicas against one standalone sidecar over the same data, same run,
#    each timed from its first segment's start (the first "segment start" log line: process
#    start-up and `table add` are not ingestion) to its last file published.
# Usage: bench/replicas.sh [BUILD_DIR] [ROWS_PER_PARTITION] [FLUSH_ROWS]
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
RPP=${2:-30000}
FLUSH=${3:-1500}
P=4
T=$(mktemp -d /tmp/sluice-bench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  bash deploy/zk-start.sh --stop "$T/zk" >/dev/null 2>&1 || true
  rm -rf "$T"
}
trap cleanup EXIT
S=$B/sluice
eval "$(bash deploy/zk-start.sh "$T/zk" | grep -E '^ZK_(PORT|PID|CONNECT)=')"
PIDS+=("$ZK_PID")
"$S" kafka-mock --brokers 1 --topic events:$P --topic solo:$P > "$T/boot" 2>/dev/null &
PIDS+=($!)
for _ in $(seq 50); do [ -s "$T/boot" ] && break; sleep 0.1; done
BOOT=$(head -1 "$T/boot")
"$S" loadgen --bootstrap "$BOOT" --topic events --rows $((RPP * P)) --partitions $P 2>/dev/null
"$S" loadgen --bootstrap "$BOOT" --topic solo --rows $((RPP * P)) --partitions $P 2>/dev/null
mk_table() { # NAME TOPIC
  python3 chaos/tools/mktable.py deploy/examples/events_table.json "$1" "$2" "$BOOT" --replication 3 \
    --rows "$FLUSH"
}
mk_table events events > "$T/events.json"
mk_table solo solo > "$T/solo.json"
common="--set cluster.name=bench --set zk.connect=$ZK_CONNECT --set http.bind=127.0.0.1 --set http.port=0"

# --- one standalone sidecar over the same amount of data ------------------------------
"$S" sidecar $common --set instance.id=solo --set mode=standalone --set data.dir="$T/solo" \
  --set table.config="$T/solo.json" --set table.schema=deploy/examples/events_schema.json \
  --set consumer.threads=2 2> "$T/solo.log" &
SOLO=$!; PIDS+=($SOLO)
want=$((P * (RPP / FLUSH)))
for _ in $(seq 600); do
  [ "$(ls "$T/solo/solo" 2>/dev/null | grep -c '\.seg$')" -ge "$want" ] && break; sleep 0.1
done
t1=$(date +%s.%N)
kill -TERM $SOLO; wait $SOLO 2>/dev/null || true

# --- three replicas under a controller ------------------------------------------------------
"$S" controller $common --set instance.id=c1 --set data.dir="$T/ctl" 2> "$T/c1.log" &
PIDS+=($!)
URL=
for _ in $(seq 100); do
  URL=$(grep -o 'url=[^ ]*' "$T/c1.log" | head -1 | cut -d= -f2 || true)
  [ -n "$URL" ] && curl -sf "$URL/health" | grep -q '"leader":true' && break
  sleep 0.1
done
for i in 1 2 3; do
  "$S" sidecar $common --set instance.id=sidecar-$i --set mode=cluster --set data.dir="$T/s$i" \
    --set consumer.threads=1 2> "$T/s$i.log" &
  PIDS+=($!)
done
for i in 1 2 3; do
  for _ in $(seq 100); do grep -q registered "$T/s$i.log" && break; sleep 0.1; done
done
"$S" table add --controller "$URL" --table-config "$T/events.json" \
  --schema deploy/examples/events_schema.json >/dev/null
for _ in $(seq 1200); do
  n=0
  for i in 1 2 3; do n=$((n + $(ls "$T/s$i/events" 2>/dev/null | grep -c '\.seg$' || true))); done
  [ "$n" -ge $((3 * want)) ] && break; sleep 0.1
done
t3=$(date +%s.%N)
python3 - "$T" "$want" "$RPP" "$P" "$t1" "$t3" <<'PY'
import re, sys, datetime, statistics
T, want, rpp, P = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
t1, t3 = map(float, sys.argv[5:7])  # when every file was there
def ts(line):
    return datetime.datetime.strptime(line[:23], "%Y-%m-%dT%H:%M:%S.%f").timestamp()
full, online, cost = {}, {}, {}
for i in (1, 2, 3):
    for line in open(f"{T}/s{i}.log"):
        m = re.search(r"segment full table=events partition=\d+ segment=(\S+)", line)
        if m: full[m.group(1)] = min(full.get(m.group(1), 1e18), ts(line))
        m = re.search(r"segment=(\S+) \S+ -> ONLINE", line)
        if m: online[m.group(1)] = max(online.get(m.group(1), 0), ts(line))
        m = re.search(r"committed segment=(\S+) build_ms=(\d+) upload_ms=(\d+)", line)
        if m: cost[m.group(1)] = (int(m.group(2)) + int(m.group(3))) / 1000
over = sorted(online[s] - full[s] - cost.get(s, 0) for s in online if s in full)
rows = rpp * P
print("| measure | value |\n|---|---|")
print(f"| completions measured | {len(over)} (segments of {rows // want} rows, 3 replicas) |")
if over:
    print(f"| completion overhead p50 / p99 (threshold -> all ONLINE, minus build+upload) | "
          f"{over[len(over)//2]*1e3:.1f} ms / {over[min(len(over)-1, int(len(over)*0.99))]*1e3:.1f} ms |")
    print(f"| build + upload (committer) p50 | {statistics.median(cost.values())*1e3:.1f} ms |")
def first_start(paths):
    return min(ts(l) for p in paths for l in open(p) if "segment start table=" in l)
t0 = first_start([f"{T}/solo.log"])
t2 = first_start([f"{T}/s{i}.log" for i in (1, 2, 3)])
print(f"| standalone sidecar: {rows} rows -> {want} segments | {rows/(t1-t0):.0f} rows/s |")
print(f"| three replicas + controller: {rows} rows -> {want} segments x 3 | {rows/(t3-t2):.0f} rows/s |")
print(f"| ratio three replicas / standalone | {(rows/(t3-t2))/(rows/(t1-t0)):.2f} |")
PY
