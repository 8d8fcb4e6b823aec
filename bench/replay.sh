#!/usr/bin/env bash
# Replay against the standalone sidecar on the same range (issue 11 (d)): kafka-mock holds
# ROWS_PER_PARTITION events in each of PARTITIONS (16); a standalone sidecar consumes them all
# into FLUSH_ROWS-row segments, then `sluice replay --partition all --from smallest --to
# largest` rebuilds the same range. Each is timed from its own start to its last file, with
# its CPU seconds (the sidecar's from /proc when its last file is there: it keeps running
# after; replay's from its rusage). Rows per CPU-second, and the ratio replay / standalone.
# Usage: bench/replay.sh [BUILD_DIR] [ROWS_PER_PARTITION] [FLUSH_ROWS] [PARTITIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
RPP=${2:-50000}
FLUSH=${3:-10000}
P=${4:-16}
T=$(mktemp -d /tmp/sluice-bench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$T"
}
trap cleanup EXIT
S=$B/sluice
"$S" kafka-mock --brokers 1 --topic events:$P > "$T/boot" 2>/dev/null &
PIDS+=($!)
for _ in $(seq 50); do [ -s "$T/boot" ] && break; sleep 0.1; done
BOOT=$(head -1 "$T/boot")
"$S" loadgen --bootstrap "$BOOT" --topic events --rows $((RPP * P)) --partitions $P 2>/dev/null
python3 chaos/tools/mktable.py deploy/examples/events_table.json events events "$BOOT" \
  --rows "$FLUSH" --time 1h > "$T/events.json"
python3 - "$S" "$T" "$P" "$RPP" "$FLUSH" <<'PY'
import os, resource, subprocess, sys, time
S, T, P, rpp, flush = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
schema = "deploy/examples/events_schema.json"
rows = P * rpp
want = P * -(-rpp // flush)
sys.path.insert(0, "bench")
from benchlib import cpu_of, segs


t0 = time.monotonic()
sa = subprocess.Popen([S, "sidecar", "--set", "cluster.name=bench", "--set", "instance.id=sa",
                       "--set", "mode=standalone", "--set", "http.bind=127.0.0.1", "--set", "http.port=0",
                       "--set", f"data.dir={T}/sa", "--set", f"table.config={T}/events.json",
                       "--set", f"table.schema={schema}", "--set", "consumer.threads=2"],
                      stderr=open(f"{T}/sa.log", "w"))
while len(segs(f"{T}/sa/events")) < want and time.monotonic() - t0 < 300:
    time.sleep(0.02)
sa_wall, sa_cpu = time.monotonic() - t0, cpu_of(sa.pid)
sa.terminate(); sa.wait()
if len(segs(f"{T}/sa/events")) < want:
    sys.exit("standalone sidecar did not publish every segment in 300 s")

before = resource.getrusage(resource.RUSAGE_CHILDREN)
t0 = time.monotonic()
r = subprocess.run([S, "replay", "--kafka", open(f"{T}/boot").readline().strip(),
                    "--table-config", f"{T}/events.json", "--schema", schema, "--partition", "all",
                    "--from", "smallest", "--to", "largest", "--out", f"{T}/rp", "--workers", "2"],
                   stdout=subprocess.PIPE, stderr=open(f"{T}/rp.log", "w"), text=True)
rp_wall = time.monotonic() - t0
after = resource.getrusage(resource.RUSAGE_CHILDREN)
rp_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
if r.returncode != 0 or len(segs(f"{T}/rp/events")) != want:
    sys.exit(f"replay failed (exit {r.returncode}): {open(T + '/rp.log').read()[-500:]}")
print(f"| replay vs standalone sidecar: {rows} rows, {P} partitions, {flush}-row segments, 2 threads | wall s | CPU s | rows per CPU-s |")
print("|---|---|---|---|")
print(f"| standalone sidecar (start to last file) | {sa_wall:.2f} | {sa_cpu:.2f} | {rows/sa_cpu:.0f} |")
print(f"| sluice replay (start to exit) | {rp_wall:.2f} | {rp_cpu:.2f} | {rows/rp_cpu:.0f} |")
print(f"| ratio replay / standalone (rows per CPU-s; goal >= 1.0) | {sa_wall/rp_wall:.2f} (wall) | | {sa_cpu/rp_cpu:.2f} |")
PY
