#!/usr/bin/env bash
# Push throughput (issue 12): N small segments of Pinot's billing example (ROWS rows each,
# built by one SegmentCreation job spec) pushed to one controller with `sluice push DIR`, in
# tar mode (the files are the request bodies, copied into the store) and metadata mode (the
# controller verifies each file at its file:// URI and records the URI), into two OFFLINE
# tables, with two cluster sidecars loading them (replication 2), one request at a time and
# four in flight (`--parallel 4`). Prints segments/s of the push and of the load (until
# every segment is ONLINE on both sidecars, from the push's start). Everything it starts is
# stopped.
# Usage: bench/push.sh [BUILD_DIR] [SEGMENTS] [ROWS]
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
B=${1:-build}
N=${2:-1000}
ROWS=${3:-20}
T=$(mktemp -d /tmp/sluice-bench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  bash deploy/zk-start.sh --stop "$T/zk" >/dev/null 2>&1 || true
  rm -rf "$T"
}
trap cleanup EXIT
BILL=$SRC/tests/data/pinot/batch/billing
eval "$(bash deploy/zk-start.sh "$T/zk" | grep -E '^ZK_(PORT|PID|CONNECT)=')"
common="--set cluster.name=bench --set zk.connect=$ZK_CONNECT --set http.bind=127.0.0.1 --set http.port=0"
"$B/sluice" controller $common --set instance.id=c1 --set data.dir="$T/store" --set http.threads=4 \
  2>"$T/c1.log" &
PIDS+=($!)
URL=
for _ in $(seq 100); do
  URL=$(grep -o 'url=[^ ]*' "$T/c1.log" | head -1 | cut -d= -f2 || true)
  [ -n "$URL" ] && curl -sf "$URL/health" | grep -q '"leader":true' && break
  sleep 0.1
done
[ -n "$URL" ] || { echo "controller did not start" >&2; exit 1; }
for i in 1 2; do
  "$B/sluice" sidecar $common --set instance.id="sidecar-$i" --set mode=cluster \
    --set data.dir="$T/s$i" --set log.level=warn 2>"$T/s$i.log" &
  PIDS+=($!)
done
CONFIGS="tar:1 tar:4 metadata:1 metadata:4"
tname() { echo "b_${1%%:*}_${1##*:}"; }
for c in $CONFIGS; do
  t=$(tname "$c")
  python3 - "$BILL/billing_offline_table_config.json" "$T/$t.json" "$t" <<'PY'
import json, sys
t = json.load(open(sys.argv[1])); t["tableName"] = sys.argv[3]; t["segmentsConfig"]["replication"] = "2"
json.dump(t, open(sys.argv[2], "w"))
PY
  "$B/sluice" table add --controller "$URL" --table-config "$T/$t.json" \
    --schema "$BILL/billing_schema.json" >/dev/null 2>&1
done
# N input files of ROWS rows each, one segment per file
python3 - "$BILL/rawdata/billing_data.csv" "$T/in" "$N" "$ROWS" <<'PY'
import csv, os, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
head, body = rows[0], [r for r in rows[1:] if len(r) == len(rows[0])]
out, n, k = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
os.makedirs(out)
for i in range(n):
    with open(f"{out}/p{i:05d}.csv", "w", newline="") as f:
        w = csv.writer(f); w.writerow(head)
        w.writerows(body[(i * k + j) % len(body)] for j in range(k))
PY
for c in $CONFIGS; do
  t=$(tname "$c")
  cat >"$T/$t.yaml" <<EOF
jobType: SegmentCreation
inputDirURI: '$T/in'
includeFileNamePattern: 'glob:**/*.csv'
outputDirURI: '$T/out_$t'
overwriteOutput: true
recordReaderSpec:
  dataFormat: 'csv'
tableSpec:
  tableName: '$t'
segmentNameGeneratorSpec:
  type: simple
  configs:
    segment.name.prefix: '$t'
EOF
  "$B/sluice" segment build --job-spec "$T/$t.yaml" --schema "$BILL/billing_schema.json" \
    --table-config "$T/$t.json" 2>/dev/null
done
online() { # online TABLE: how many segments are ONLINE on both sidecars
  curl -sf "$URL/tables/${1}_OFFLINE/segments" | python3 -c '
import json, sys
print(sum(1 for s in json.load(sys.stdin) if list(s["replicas"].values()) == ["ONLINE", "ONLINE"]))'
}
echo "| mode | parallel | segments | rows each | push s | pushed segments/s | all ONLINE on 2 sidecars s | loaded segments/s |"
echo "|---|---|---|---|---|---|---|---|"
for c in $CONFIGS; do
  t=$(tname "$c") mode=${c%%:*} PAR=${c##*:}
  t0=$(date +%s.%N)
  "$B/sluice" push --controller "$URL" --table "$t" --mode "$mode" --parallel "$PAR" "$T/out_$t" >"$T/push_$t.out" 2>"$T/push_$t.err"
  t1=$(date +%s.%N)
  pushed=$(grep -c '^pushed ' "$T/push_$t.out" || true)
  end=$(($(date +%s) + 600))
  while [ "$(online $t)" -lt "$N" ] && [ "$(date +%s)" -lt "$end" ]; do sleep 0.5; done
  t2=$(date +%s.%N)
  python3 -c "
p, l = $t1 - $t0, $t2 - $t0
print(f'| $mode | $PAR | $pushed | $ROWS | {p:.1f} | {$pushed / p:,.0f} | {l:.1f} | {$(online $t) / l:,.0f} |')"
done
