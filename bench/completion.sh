#!/usr/bin/env bash
# Completion throughput of one leader: ZooKeeper (Debian's server), kafka-mock, one
# controller, and simulated replicas (chaos/tools/simreplica) completing ROUNDS segments on
# each of PARTITIONS partitions, three replicas each, over real HTTP on loopback. Prints the
# simulator's table: completions/s and RPC round trip p50/p99 (requests answered at once;
# long-polls that waited for other replicas are excluded). Everything it starts is stopped.
# Usage: bench/completion.sh [BUILD_DIR] [PARTITIONS] [ROUNDS] [ROWS]
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
B=${1:-build}
P=${2:-32}
R=${3:-5}
ROWS=${4:-200}
T=$(mktemp -d /tmp/sluice-bench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  # ZooKeeper is not our child (zk-start.sh leaves it to init): stopped by its DIR/zk.pid
  bash deploy/zk-start.sh --stop "$T/zk" >/dev/null 2>&1 || true
  rm -rf "$T"
}
trap cleanup EXIT
eval "$(bash deploy/zk-start.sh "$T/zk" | grep -E '^ZK_(PORT|PID|CONNECT)=')"
"$B/sluice" kafka-mock --brokers 1 --topic events:"$P" > "$T/boot" 2>/dev/null &
PIDS+=($!)
for _ in $(seq 50); do [ -s "$T/boot" ] && break; sleep 0.1; done
# the controller accepts only offsets that Kafka holds: produce what the rounds will report
"$B/sluice" loadgen --bootstrap "$(head -1 "$T/boot")" --topic events --rows $((P * R * ROWS)) \
  --partitions "$P" 2>/dev/null
"$B/sluice" controller --set cluster.name=bench --set zk.connect="$ZK_CONNECT" --set instance.id=c1 \
  --set http.port=0 --set http.bind=127.0.0.1 --set data.dir="$T/store" --set http.threads=4 \
  2> "$T/c1.log" &
PIDS+=($!)
URL=
for _ in $(seq 100); do
  URL=$(grep -o 'url=[^ ]*' "$T/c1.log" | head -1 | cut -d= -f2 || true)
  [ -n "$URL" ] && curl -sf "$URL/health" | grep -q '"leader":true' && break
  sleep 0.1
done
[ -n "$URL" ] || { echo "controller did not start" >&2; exit 1; }
# register runs until its stdin ends: a fifo whose only writer is this shell (fd HOLD; the
# child closes its copy), so it exits with us even when cleanup cannot run
mkfifo "$T/reg.stdin"
exec {HOLD}<>"$T/reg.stdin"
"$B/chaos/simreplica" register --zk "$ZK_CONNECT" --cluster bench --instances s1,s2,s3 \
  > "$T/reg" 2>/dev/null < "$T/reg.stdin" {HOLD}>&- &
PIDS+=($!)
for _ in $(seq 100); do grep -q ready "$T/reg" 2>/dev/null && break; sleep 0.1; done
python3 - "$SRC/deploy/examples/events_table.json" "$(head -1 "$T/boot")" > "$T/table.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
t["segmentsConfig"]["replication"] = "3"
t["ingestionConfig"]["streamIngestionConfig"]["streamConfigMaps"][0]["stream.kafka.broker.list"] = sys.argv[2]
print(json.dumps(t))
PY
"$B/sluice" table add --controller "$URL" --table-config "$T/table.json" \
  --schema deploy/examples/events_schema.json >/dev/null
SIMREPLICA_SCHEMA=deploy/examples/events_schema.json "$B/chaos/simreplica" complete \
  --zk "$ZK_CONNECT" --cluster bench --controller "$URL" --table events --instances s1,s2,s3 \
  --partitions "$P" --rounds "$R" --rows "$ROWS" 2>/dev/null
# pure RPC round trip: the same SegmentConsumed for a committed segment (answered KEEP from the
# cached state machine), one call at a time on one keep-alive connection
SEG=$(curl -sf "$URL/tables/events/segments?partition=0" | python3 -c '
import json, sys
print([s for s in json.load(sys.stdin) if s["status"] == "DONE"][0]["segment"])')
END=$(curl -sf "$URL/tables/events/segments/$SEG" | python3 -c 'import json,sys;print(json.load(sys.stdin)["endOffset"])')
"$B/chaos/simreplica" rtt --controller "$URL" --method SegmentConsumed --segment "$SEG" \
  --instances s1 --offset "$END" --rows 0 --rounds 2000
