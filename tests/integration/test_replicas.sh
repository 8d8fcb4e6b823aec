#!/usr/bin/env bash
# Three cluster-mode sidecars, two controllers, ZooKeeper (Debian's server) and kafka-mock:
# replicas converge on byte-identical, contiguous, exactly-once segments, also when a sidecar
# joins late, when one is killed mid-stream and restarted, when the controller leader dies,
# and when one replica builds different bytes (the perturb knob): that divergence is
# detected by CRC, counted and healed by download.
source "$(dirname "$0")/lib/harness.sh"
source "$(dirname "$0")/lib/zk.sh"
S=$SLUICE_BIN
EX=$SLUICE_SRC/deploy/examples
CHECK="python3 $SLUICE_SRC/chaos/tools/segcheck.py $S"
cd "$T_TMP"

zk_start "$T_TMP/zk" || { not_ok "zookeeper did not start"; finish; exit 1; }
"$S" kafka-mock --brokers 1 --topic events:4 --topic div:1 > boot.txt 2>mock.log &
track_pid $!
wait_for 10 test -s boot.txt
B=$(head -1 boot.txt)
common="--set cluster.name=it --set zk.connect=$ZK_CONNECT --set http.bind=127.0.0.1 --set zk.session.timeout=3s"

start_ctl() { # start_ctl NAME
  "$S" controller $common --set instance.id="$1" --set http.port=0 --set data.dir="$T_TMP/$1" \
    --set completion.hold.time=1s >>"$1.log" 2>&1 &
  CPID=$!; track_pid $CPID
  wait_for 20 grep -q "sub=controller started" "$1.log"
  CURL=$(grep -o 'started instance=[^ ]* url=[^ ]*' "$1.log" | tail -1 | sed 's/.*url=//')
}
declare -A SPID
start_sidecar() { # start_sidecar N [extra --set ...]
  local n=$1; shift
  "$S" sidecar $common --set instance.id="sidecar-$n" --set mode=cluster --set http.port=0 \
    --set data.dir="$T_TMP/s$n" --set consumer.threads=1 "$@" >>"s$n.log" 2>&1 &
  SPID[$n]=$!; track_pid ${SPID[$n]}
  wait_for 20 grep -q "registered instance=sidecar-$n" "s$n.log"
}
is_leader() { curl -sf "$1/health" | grep -q '"leader":true'; }
mk_table() { # mk_table NAME TOPIC ROWS TIME
  python3 - "$EX/events_table.json" "$B" "$1" "$2" "$3" "$4" > "$1.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
t["tableName"] = sys.argv[3]
t["segmentsConfig"]["replication"] = "3"
m = t["ingestionConfig"]["streamIngestionConfig"]["streamConfigMaps"][0]
m.update({"stream.kafka.broker.list": sys.argv[2], "stream.kafka.topic.name": sys.argv[4],
          "realtime.segment.flush.threshold.time": sys.argv[6]})
if sys.argv[5] == "0": m.pop("realtime.segment.flush.threshold.rows", None)
else: m["realtime.segment.flush.threshold.rows"] = sys.argv[5]
print(json.dumps(t))
PY
}
identical() { # identical TABLE: every committed file is the same in the three data dirs
  local ok=0 n=0
  for f in s1/"$1"/*.seg; do
    n=$((n + 1))
    local b; b=$(basename "$f")
    [ -f "s2/$1/$b" ] && [ -f "s3/$1/$b" ] || { echo "missing replica of $b"; ok=1; continue; }
    [ "$(sha256sum < "$f")" = "$(sha256sum < "s2/$1/$b")" ] && [ "$(sha256sum < "$f")" = "$(sha256sum < "s3/$1/$b")" ] \
      || { echo "differs: $b"; ok=1; }
  done
  [ $n -gt 0 ] && return $ok
}
published_to() { # published_to TABLE P:END,...  (in every data dir)
  for i in 1 2 3; do $CHECK "s$i" "$1" --wait-ends "$2" || return 1; done
}

start_ctl c1; U1=$CURL; P1=$CPID
wait_for 15 is_leader "$U1"
start_ctl c2; U2=$CURL; P2=$CPID
start_sidecar 1
start_sidecar 2
start_sidecar 3
check "three sidecars registered" test -n "${SPID[3]}"
mk_table events events 0 2s      # time threshold: replicas stop at different offsets
"$S" table add --controller "$U2" --table-config events.json --schema "$EX/events_schema.json" >add.out 2>&1
check "table added (4 partitions x 3 replicas)" test $? -eq 0

# --- streaming; a sidecar killed mid-stream and restarted; one paused for seconds -----------
"$S" loadgen --bootstrap "$B" --topic events --rows 24000 --partitions 4 --rate 6000 2>lg1.err &
LG=$!; track_pid $LG
sleep 2
kill_child -9 "${SPID[2]}"
kill_child -STOP "${SPID[3]}"   # misses its time threshold and catches up afterwards
sleep 1
start_sidecar 2
sleep 2
kill_child -CONT "${SPID[3]}"
wait $LG
check "loadgen phase 1 delivered" test $? -eq 0
wait_for 90 published_to events 0:6000,1:6000,2:6000,3:6000
check "every replica published up to the end (6000 per partition)" test $? -eq 0
check "sidecar-1: contiguous chain, ids 0..23999 exactly once" $CHECK s1 events --ends 0:6000,1:6000,2:6000,3:6000 --ids 0-23999
check "all committed segments byte-identical on the three replicas" identical events
curl -s "$U1/metrics" > ctl1.metrics
check "controller committed segments" grep -qE '^sluice_commits_total [1-9]' ctl1.metrics
for i in 1 2 3; do curl -s "$(grep -o 'http=127.0.0.1:[0-9]*' s$i.log | tail -1 | sed 's/http=/http:\/\//')/metrics"; done > side.metrics
check "the paused replica was brought back by CATCH_UP or DISCARD" grep -qE 'decision="(catch_up|discard)"} [1-9]' side.metrics
check "replicas kept their own builds (KEEP with equal CRC)" grep -qE 'decision="keep"} [1-9]' side.metrics
"$S" table segments --controller "$U1" --table events > segs.json
check "listing: every DONE segment is ONLINE on all three replicas" python3 - segs.json <<'PY'
import json, sys
for s in json.load(open(sys.argv[1])):
    if s["status"] == "DONE":
        assert len(s["replicas"]) == 3 and set(s["replicas"].values()) == {"ONLINE"}, s
PY

# --- the controller leader dies mid-stream; the standby takes over -------------------
"$S" loadgen --bootstrap "$B" --topic events --rows 16000 --partitions 4 --rate 6000 --start-id 24000 2>lg2.err &
LG=$!; track_pid $LG
sleep 1
kill_child -9 $P1
wait_for 20 is_leader "$U2"
check "standby leads after kill -9 of the leader" is_leader "$U2"
wait $LG
wait_for 90 published_to events 0:10000,1:10000,2:10000,3:10000
check "commits continued: every replica published up to 10000" test $? -eq 0
check "after failover: contiguous, ids 0..39999 exactly once" $CHECK s2 events --ends 0:10000,1:10000,2:10000,3:10000 --ids 0-39999
check "after failover: replicas identical" identical events

# --- a late sidecar joins; restart recovery fills its data dir -------------------------
kill_child -TERM "${SPID[3]}"; wait "${SPID[3]}" 2>/dev/null
rm -rf s3
start_sidecar 3
wait_for 60 bash -c "ls s3/events/*.seg 2>/dev/null | wc -l | grep -qx $(ls s1/events/*.seg | wc -l)"
check "a sidecar with an empty data dir downloaded every committed segment" identical events

# --- divergence: sidecar-3 builds different bytes; detected by CRC and healed -------------
kill_child -TERM "${SPID[3]}"; wait "${SPID[3]}" 2>/dev/null
start_sidecar 3 --set test.perturb.row=3
mk_table div div 0 2s
"$S" table add --controller "$U2" --table-config div.json --schema "$EX/events_schema.json" >add2.out 2>&1
check "second table added" test $? -eq 0
"$S" loadgen --bootstrap "$B" --topic div --rows 300 --partitions 1 2>/dev/null
wait_for 60 published_to div 0:300
check "div: all replicas published its rows" test $? -eq 0
check "sidecar-3 perturbed a row" grep -q "test knob: perturbed" s3.log
check "the divergence was detected by CRC" grep -q "divergence table=div" s3.log
S3M=$(grep -o 'http=127.0.0.1:[0-9]*' s3.log | tail -1 | sed 's/http=/http:\/\//')
check "... and counted" bash -c "curl -s $S3M/metrics | grep -qE 'sluice_replica_divergence_total\{table=\"div\"\} [1-9]'"
check "... and healed: the replicas hold identical bytes" identical div

# --- a long build: the committer extends its build time past the commit budget ------------
kill_child -9 $P2 2>/dev/null; wait $P2 2>/dev/null
"$S" controller $common --set instance.id=c3 --set http.port=0 --set data.dir="$T_TMP/c3" \
  --set completion.hold.time=1s --set completion.commit.timeout=3s >>c3.log 2>&1 &
track_pid $!
wait_for 20 grep -q "leader=yes" c3.log
for i in 1 2 3; do            # every build now takes 5 s (and sidecar-3 no longer perturbs)
  kill_child -TERM "${SPID[$i]}"; wait "${SPID[$i]}" 2>/dev/null
  start_sidecar $i --set test.build.delay=5s
done
"$S" loadgen --bootstrap "$B" --topic div --rows 200 --partitions 1 --start-id 300 2>/dev/null
wait_for 60 published_to div 0:500
check "the slow build still committed (budget 3 s, build 5 s)" test $? -eq 0
check "... because the committer extended its build time" grep -q "build time extended" s1.log s2.log s3.log
check "... and the replicas are identical" identical div
finish
