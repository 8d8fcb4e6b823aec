#!/usr/bin/env bash
# Three cluster-mode sidecars, two controllers, ZooKeeper (Debian's server) and kafka-mock:
# replicas converge on byte-identical, contiguous, exactly-once segments, also when a sidecar
# joins late, when one is killed mid-stream and restarted, when the controller leader dies,
# and when one replica builds different bytes (the perturb knob): that divergence is
# detected by CRC, counted and healed by download. Every start is checked (this start's log
# lines, the process still running, /health, the ZooKeeper registration) and ends the test when
# it fails; every wait and every loadgen is checked.
source "$(dirname "$0")/lib/harness.sh"
source "$(dirname "$0")/lib/zk.sh"
S=$SLUICE_BIN
EX=$SLUICE_SRC/deploy/examples
CHECK="python3 $SLUICE_SRC/chaos/tools/segcheck.py $S"
cd "$T_TMP"

zk_start "$T_TMP/zk" || { not_ok "zookeeper did not start"; finish; exit 1; }
"$S" kafka-mock --brokers 1 --topic events:4 --topic div:1 > boot.txt 2>mock.log &
track_pid $!
require "kafka-mock printed its bootstrap line" wait_for 10 test -s boot.txt
B=$(head -1 boot.txt)
common="--set cluster.name=it --set zk.connect=$ZK_CONNECT --set http.bind=127.0.0.1 --set zk.session.timeout=3s"

# Logs are appended across restarts: a start is judged by the lines written after it began.
logsize() { stat -c %s "$1" 2>/dev/null || echo 0; }
since() { tail -c +"$(($2 + 1))" "$1" 2>/dev/null; } # since FILE OFFSET: the lines after OFFSET
logged() { since "$1" "$2" | grep -q "$3"; }           # logged FILE OFFSET PATTERN
up() { running "$1" && curl -sf -o /dev/null "$2/health"; } # up PID URL: alive, /health 200
# began PID FILE OFFSET PATTERN: this start logged PATTERN, or the process is gone (no use waiting)
began() { logged "$2" "$3" "$4" || ! running "$1"; }
ctl_up() { # ctl_up NAME OFFSET: this start logged its URL (CURL), runs and answers /health
  wait_for 20 began "$CPID" "$1.log" "$2" "sub=controller started"
  logged "$1.log" "$2" "sub=controller started" || return 1
  CURL=$(since "$1.log" "$2" | grep -o 'started instance=[^ ]* url=[^ ]*' | tail -1 | sed 's/.*url=//')
  [ -n "$CURL" ] && wait_for 5 up "$CPID" "$CURL"
}
start_ctl() { # start_ctl NAME [extra --set ...]: ends the test unless the controller is up
  local n=$1 off
  shift
  off=$(logsize "$n.log")
  "$S" controller $common --set instance.id="$n" --set http.port=0 --set data.dir="$T_TMP/$n" \
    --set completion.hold.time=1s "$@" >>"$n.log" 2>&1 &
  CPID=$!; track_pid $CPID
  require "controller $n up (started, running, /health 200)" ctl_up "$n" "$off"
}
declare -A SPID SURL
# healthy URL: a sidecar's /health is 200 with status ok
healthy() { curl -sf "$1/health" | grep -q '"status":"ok"'; }
sidecar_up() { # sidecar_up N OFFSET: this start registered, logged its URL (SURL[N]), is healthy
  wait_for 20 began "${SPID[$1]}" "s$1.log" "$2" "sub=sidecar started instance=sidecar-$1 "
  logged "s$1.log" "$2" "sub=sidecar started instance=sidecar-$1 " || return 1
  logged "s$1.log" "$2" "sub=replica registered instance=sidecar-$1 " || return 1
  SURL[$1]=http://$(since "s$1.log" "$2" | grep -o 'http=127.0.0.1:[0-9]*' | tail -1 | cut -d= -f2)
  running "${SPID[$1]}" && wait_for 5 healthy "${SURL[$1]}"
}
start_sidecar() { # start_sidecar N [extra --set ...]: ends the test unless the sidecar is up
  local n=$1 off
  shift
  off=$(logsize "s$n.log")
  "$S" sidecar $common --set instance.id="sidecar-$n" --set mode=cluster --set http.port=0 \
    --set data.dir="$T_TMP/s$n" --set consumer.threads=1 "$@" >>"s$n.log" 2>&1 &
  SPID[$n]=$!; track_pid ${SPID[$n]}
  require "sidecar-$n up (registered, running, /health ok)" sidecar_up "$n" "$off"
}
stop_sidecar() { # stop_sidecar N: SIGTERM; it must exit 0 within 30 s (docs/cli.md)
  local rc
  kill_child -TERM "${SPID[$1]}"
  wait_exit 30 "${SPID[$1]}"
  rc=$?
  check "sidecar-$1 stopped by SIGTERM: exit 0 within 30 s (got $rc)" test $rc -eq 0
}
# signal SIG PID: send SIG to a child that is still running (not one that already died)
signal() { running "$2" && kill_child "$1" "$2"; }
# registered N...: ZooKeeper's instances/sidecar-N names the port each of these sidecars serves
registered() {
  "$S" zk dump --zk "$ZK_CONNECT" --cluster it --path instances >instances.json 2>instances.err || return 1
  local n
  for n in "$@"; do
    python3 - instances.json "sidecar-$n" "${SURL[$n]##*:}" <<'PY' || return 1
import json, sys
d = json.load(open(sys.argv[1]))
node = d.get("instances/" + sys.argv[2])
assert node and node["port"] == int(sys.argv[3]), (sys.argv[2], sys.argv[3], d)
PY
  done
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
require "c1 leads" wait_for 15 is_leader "$U1"
start_ctl c2; U2=$CURL; P2=$CPID
start_sidecar 1
start_sidecar 2
start_sidecar 3
check "three sidecars registered in ZooKeeper, each with the port it serves" registered 1 2 3
mk_table events events 0 2s      # time threshold: replicas stop at different offsets
"$S" table add --controller "$U2" --table-config events.json --schema "$EX/events_schema.json" >add.out 2>&1
check "table added (4 partitions x 3 replicas)" test $? -eq 0

# --- streaming; a sidecar killed mid-stream and restarted; one paused for seconds -----------
"$S" loadgen --bootstrap "$B" --topic events --rows 24000 --partitions 4 --rate 6000 2>lg1.err &
LG=$!; track_pid $LG
sleep 2
check "sidecar-2 killed (kill -9) mid-stream" signal -9 "${SPID[2]}"
check "sidecar-3 paused (SIGSTOP) mid-stream" signal -STOP "${SPID[3]}" # misses its time threshold and catches up afterwards
sleep 1
start_sidecar 2
sleep 2
check "sidecar-3 resumed (SIGCONT)" signal -CONT "${SPID[3]}"
wait_exit 60 $LG
rc=$?
check "loadgen phase 1 delivered (exit $rc)" test $rc -eq 0
wait_for 90 published_to events 0:6000,1:6000,2:6000,3:6000
check "every replica published up to the end (6000 per partition)" test $? -eq 0
check "sidecar-1: contiguous chain, ids 0..23999 exactly once" $CHECK s1 events --ends 0:6000,1:6000,2:6000,3:6000 --ids 0-23999
check "all committed segments byte-identical on the three replicas" identical events
curl -s "$U1/metrics" > ctl1.metrics
check "controller committed segments" grep -qE '^sluice_commits_total [1-9]' ctl1.metrics
for i in 1 2 3; do curl -sf "${SURL[$i]}/metrics" || echo "# no metrics from sidecar-$i"; done > side.metrics
check "metrics from all three sidecars" bash -c "! grep -q '^# no metrics' side.metrics"
# sidecar-3 missed a segment's end while stopped: the controller answered CATCH_UP or DISCARD,
# or its reconcile saw the commit first and downloaded the committed copy (both are correct)
curl -sf "${SURL[3]}/metrics" > s3.metrics
check "the paused replica was brought back by CATCH_UP, DISCARD or a download" \
    grep -qE '(decision="(catch_up|discard)"|^sluice_segment_downloads_total\{[^}]*\}) [1-9]' s3.metrics
check "replicas kept their own builds (KEEP with equal CRC)" grep -qE 'decision="keep"} [1-9]' side.metrics
cat > all_online.py <<'PY'
import json, sys
done = [s for s in json.load(open(sys.argv[1])) if s["status"] == "DONE"]
assert done, "no DONE segment listed"
for s in done:
    assert len(s["replicas"]) == 3 and set(s["replicas"].values()) == {"ONLINE"}, s
PY
"$S" table segments --controller "$U1" --table events > segs.json
check "table segments exits 0" test $? -eq 0
# a replica writes its ONLINE record after publishing the file: give the records a moment
listed_online() { "$S" table segments --controller "$U1" --table events > segs.json && python3 all_online.py segs.json; }
wait_for 20 listed_online
check "listing: every DONE segment (there are some) is ONLINE on all three replicas" python3 all_online.py segs.json

# --- the controller leader dies mid-stream; the standby takes over -------------------
"$S" loadgen --bootstrap "$B" --topic events --rows 16000 --partitions 4 --rate 6000 --start-id 24000 2>lg2.err &
LG=$!; track_pid $LG
sleep 1
check "controller leader c1 killed (kill -9) mid-stream" signal -9 $P1
wait_for 20 is_leader "$U2"
check "standby leads after kill -9 of the leader" is_leader "$U2"
wait_exit 60 $LG
rc=$?
check "loadgen phase 2 delivered (exit $rc)" test $rc -eq 0
wait_for 90 published_to events 0:10000,1:10000,2:10000,3:10000
check "commits continued: every replica published up to 10000" test $? -eq 0
check "after failover: contiguous, ids 0..39999 exactly once" $CHECK s2 events --ends 0:10000,1:10000,2:10000,3:10000 --ids 0-39999
check "after failover: replicas identical" identical events

# --- a late sidecar joins; restart recovery fills its data dir -------------------------
stop_sidecar 3
rm -rf s3
start_sidecar 3
check "a sidecar with an empty data dir has as many segment files as sidecar-1 within 60 s" \
  wait_for 60 bash -c "ls s3/events/*.seg 2>/dev/null | wc -l | grep -qx $(ls s1/events/*.seg | wc -l)"
check "... the same files: it downloaded every committed segment" identical events

# --- divergence: sidecar-3 builds different bytes; detected by CRC and healed -------------
stop_sidecar 3
start_sidecar 3 --set test.perturb.row=3
mk_table div div 0 2s
"$S" table add --controller "$U2" --table-config div.json --schema "$EX/events_schema.json" >add2.out 2>&1
check "second table added" test $? -eq 0
timeout 60 "$S" loadgen --bootstrap "$B" --topic div --rows 300 --partitions 1 2>lg3.err
check "loadgen div 300 rows delivered" test $? -eq 0
wait_for 60 published_to div 0:300
check "div: all replicas published its rows" test $? -eq 0
check "sidecar-3 perturbed a row" grep -q "test knob: perturbed" s3.log
check "the divergence was detected by CRC" grep -q "divergence table=div" s3.log
check "... and counted" bash -c "curl -sf ${SURL[3]}/metrics | grep -qE 'sluice_replica_divergence_total\{table=\"div\"\} [1-9]'"
check "... and healed: the replicas hold identical bytes" identical div

# --- a long build: the committer extends its build time past the commit budget ------------
check "controller c2 killed (kill -9)" signal -9 $P2
wait_exit 10 $P2
start_ctl c3 --set completion.commit.timeout=3s; U3=$CURL
require "c3 leads" wait_for 20 is_leader "$U3"
for i in 1 2 3; do            # every build now takes 5 s (and sidecar-3 no longer perturbs)
  stop_sidecar $i
  start_sidecar $i --set test.build.delay=5s
done
timeout 60 "$S" loadgen --bootstrap "$B" --topic div --rows 200 --partitions 1 --start-id 300 2>lg4.err
check "loadgen div 200 more rows delivered" test $? -eq 0
wait_for 60 published_to div 0:500
check "the slow build still committed (budget 3 s, build 5 s)" test $? -eq 0
check "... because the committer extended its build time" grep -q "build time extended" s1.log s2.log s3.log
check "... and the replicas are identical" identical div
finish
