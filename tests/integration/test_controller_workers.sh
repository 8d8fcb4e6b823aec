#!/usr/bin/env bash
# A commit that blocks does not block HTTP. A controller with ONE HTTP thread commits a
# segment that stalls before its ZooKeeper multi-op (test.commit.fault=stall_before_multi, as
# a paused ZooKeeper would): while it stalls, /health, a listing and another segment's whole
# SegmentConsumed (a Kafka watermark check, a long-poll through the hold window, COMMIT) are
# answered, because the commit runs on the controller's own workers; then the stalled commit
# completes. With the commit on the HTTP thread, every one of them waits for the stall.
source "$(dirname "$0")/lib/harness.sh"
source "$(dirname "$0")/lib/zk.sh"
S=$SLUICE_BIN
SIM=${SLUICE_BUILD:-$SLUICE_SRC/build}/chaos/simreplica
EX=$SLUICE_SRC/deploy/examples
export SIMREPLICA_SCHEMA=$EX/events_schema.json
STALL_S=8
cd "$T_TMP"

zk_start "$T_TMP/zk" || { not_ok "zookeeper did not start"; finish; exit 1; }
kmock_start events:2
require "loadgen delivered 4000 rows" "$S" loadgen --bootstrap "$B" --topic events --rows 4000 --partitions 2 2>/dev/null

"$S" controller --set cluster.name=it --set zk.connect="$ZK_CONNECT" --set instance.id=c1 \
  --set http.port=0 --set http.bind=127.0.0.1 --set data.dir="$T_TMP/store" \
  --set http.threads=1 --set completion.hold.time=1s \
  --set test.commit.fault=stall_before_multi --set test.commit.stall=${STALL_S}s \
  > c1.out 2> c1.log &
CPID=$!
track_pid $CPID
require "controller started" wait_for 20 grep -q "sub=controller started" c1.log
U=$(grep -o 'started instance=[^ ]* url=[^ ]*' c1.log | sed 's/.*url=//')
require "controller leads" wait_for 10 bash -c "curl -sf $U/health | grep -q '\"leader\":true'"
spawn_stdin_held "$SIM" register --zk "$ZK_CONNECT" --cluster it --instances s1,s2,s3 > reg.out 2> reg.log
require "simulated sidecars s1,s2,s3 registered" wait_for 10 grep -q ready reg.out
python3 - "$EX/events_table.json" "$B" > table.json <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
t["segmentsConfig"]["replication"] = "3"
t["ingestionConfig"]["streamIngestionConfig"]["streamConfigMaps"][0]["stream.kafka.broker.list"] = sys.argv[2]
print(json.dumps(t))
PY
require "table created" "$S" table add --controller "$U" --table-config table.json --schema "$EX/events_schema.json"
SEG1=$(curl -sf "$U/tables/events/segments?partition=1" | python3 -c 'import json,sys;print(json.load(sys.stdin)[0]["segment"])')
require "partition 1 has its consuming segment" test -n "$SEG1"

# partition 0: a whole completion whose commit stalls on a controller worker
"$SIM" complete --zk "$ZK_CONNECT" --cluster it --controller "$U" --table events \
  --instances s1,s2,s3 --partitions 1 --rounds 1 --rows 500 > sim.out 2> sim.log &
SIMPID=$!
track_pid $SIMPID
require "the commit of partition 0 stalls before its multi-op" wait_for 30 grep -q "test fault: stalling" c1.log
stalling() { ! grep -q "sub=controller committed segment=events__0__0__" c1.log; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 < b + 0) }'; }

out=$(curl -s -o health.json -w '%{http_code} %{time_total}' --max-time 4 "$U/health")
check "/health answers 200 during the stall (took ${out#* } s)" test "${out% *}" = 200
check "... within 1 s" lt "${out#* }" 1
out=$(curl -s -o listing.json -w '%{http_code} %{time_total}' --max-time 4 "$U/tables/events/segments")
check "a listing (ZooKeeper reads, on a worker) answers 200 during the stall (took ${out#* } s)" test "${out% *}" = 200
check "... within 1 s" lt "${out#* }" 1
# partition 1: s1 alone reports 100 (Kafka holds 2000): a watermark check on a worker, a HOLD
# long-poll for the 1 s hold window, woken by that segment's own decision: COMMIT 100
t0=$(date +%s.%N)
r=$("$SIM" rpc --controller "$U" --method SegmentConsumed --segment "$SEG1" --instances s1 \
  --offset 100 --rows 100 --reason 2 2>&1)
t1=$(date +%s.%N)
took=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
is_commit_100() { [[ "$r" == "COMMIT 100 "* ]]; }
check "another segment's SegmentConsumed is answered COMMIT during the stall ($r, $took s)" is_commit_100
check "... after its hold window, not after the stall (0.9 s <= $took s < 4 s)" \
  awk -v t="$took" 'BEGIN { exit !(t >= 0.9 && t < 4) }'
check "... and all of it while the commit still stalled" stalling

wait_exit 60 $SIMPID
rc=$?
check "the stalled completion finished (simreplica exit $rc)" test $rc -eq 0
check "... committed after the stall" grep -q "sub=controller committed segment=events__0__0__" c1.log
check "the controller ran throughout" running $CPID
finish
