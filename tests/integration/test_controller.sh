#!/usr/bin/env bash
# Controllers against a real ZooKeeper server (Debian's package) and kafka-mock, driven over
# real HTTP by simulated replicas (chaos/tools/simreplica): table creation through a
# standby (redirect), whole completions with CATCH_UP and KEEP (CRC compared), NOT_LEADER
# following, failover, commits interrupted at each failure point (ZooKeeper is wholly before
# or wholly after), and a paused (SIGSTOP) leader that cannot write after SIGCONT.
source "$(dirname "$0")/lib/harness.sh"
source "$(dirname "$0")/lib/zk.sh"
S=$SLUICE_BIN
SIM=${SLUICE_BUILD:-$SLUICE_SRC/build}/chaos/simreplica
EX=$SLUICE_SRC/deploy/examples
export SIMREPLICA_SCHEMA=$EX/events_schema.json
cd "$T_TMP"

zk_start "$T_TMP/zk" || { not_ok "zookeeper did not start"; finish; exit 1; }
kmock_start events:4
# the controller accepts only offsets Kafka holds: 8000 events per partition cover every
# simulated completion below
require "loadgen delivered 32000 rows" "$S" loadgen --bootstrap "$B" --topic events --rows 32000 --partitions 4 2>/dev/null

CPID=()
start_ctl() { # start_ctl NAME [--set k=v ...]: controller NAME; URL in $CURL. Ends the test
  local n=$1; shift                                        # unless it started and runs
  "$S" controller --set cluster.name=it --set zk.connect="$ZK_CONNECT" --set instance.id="$n" \
    --set http.port=0 --set http.bind=127.0.0.1 --set data.dir="$T_TMP/store" \
    --set zk.session.timeout=2s --set completion.hold.time=1s --set repair.interval=1s "$@" \
    >"$n.out" 2>"$n.log" &
  CPID_LAST=$!
  track_pid $CPID_LAST
  require "controller $n started" wait_for 20 grep -q "sub=controller started" "$n.log"
  CURL=$(grep -o 'started instance=[^ ]* url=[^ ]*' "$n.log" | sed 's/.*url=//')
  require "... $n is running and logged its URL" ctl_ok
}
ctl_ok() { [ -n "$CURL" ] && running "$CPID_LAST"; }
is_leader() { curl -sf "$1/health" | grep -q '"leader":true'; }
segments() { "$S" table segments --controller "$1" --table events; }

start_ctl c1 && U1=$CURL && P1=$CPID_LAST
check "controller c1 started" test -n "$U1"
wait_for 10 is_leader "$U1"
check "c1 leads" is_leader "$U1"
start_ctl c2 && U2=$CURL && P2=$CPID_LAST
check "c2 started as standby" bash -c "curl -sf $U2/health | grep -q '\"leader\":false'"
check "standby knows the leader's URL" bash -c "curl -sf $U2/health | grep -q '\"leaderUrl\":\"$U1\"'"

spawn_stdin_held "$SIM" register --zk "$ZK_CONNECT" --cluster it --instances s1,s2,s3 > reg.out 2>reg.log
REG1=$!
wait_for 10 grep -q ready reg.out
check "simulated sidecars registered" grep -q ready reg.out

python3 - "$EX/events_table.json" "$B" 3 > table.json <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
t["segmentsConfig"]["replication"] = sys.argv[3]
t["ingestionConfig"]["streamIngestionConfig"]["streamConfigMaps"][0]["stream.kafka.broker.list"] = sys.argv[2]
print(json.dumps(t))
PY
sed 's/"replication": *"3"/"replication": "4"/' table.json > table4.json
"$S" table add --controller "$U2" --table-config table4.json --schema "$EX/events_schema.json" >add4.out 2>&1
check "replication beyond the live sidecars is refused" test $? -ne 0
check "... and says why" grep -q "live sidecars" add4.out
python3 - table.json > tablesub.json <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
t["ingestionConfig"]["streamIngestionConfig"]["streamConfigMaps"][0]["stream.kafka.partition.ids"] = "1,9"
print(json.dumps(t))
PY
"$S" table add --controller "$U2" --table-config tablesub.json --schema "$EX/events_schema.json" >addsub.out 2>&1
check "stream.kafka.partition.ids naming a partition the topic lacks is refused, naming the key" \
  bash -c "[ $? -ne 0 ] && grep -q 'stream.kafka.partition.ids: topic events has 4 partitions, no partition 9' addsub.out"
"$S" table add --controller "$U2" --table-config table.json --schema "$EX/events_schema.json" >add.out 2>&1
check "table add through the standby (redirected to the leader)" test $? -eq 0
"$S" table add --controller "$U1" --table-config table.json --schema "$EX/events_schema.json" >add2.out 2>&1
check "adding it again fails (exists)" test $? -ne 0
segments "$U2" > seg0.json
check "4 partitions open segment 0 IN_PROGRESS on 3 replicas" python3 - seg0.json <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
assert len(a) == 4 and all(s["status"] == "IN_PROGRESS" and s["sequence"] == 0 for s in a), a
assert all(s["endOffset"] is None and s["crc"] is None and len(s["replicas"]) == 3 for s in a)
assert all(set(s["replicas"].values()) == {"CONSUMING"} for s in a)
PY

# bad input to the RPC and upload endpoints
code=$(curl -s -o bad.json -w '%{http_code}' -X POST -H 'Content-Type: application/protobuf' \
  --data-binary 'not a protobuf at all' "$U1/twirp/sluice.v1.Completion/SegmentConsumed")
check "malformed RPC body -> 400" test "$code" = 400
check "... with a Twirp error body" grep -q '"code"' bad.json
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary 'x' "$U1/twirp/sluice.v1.Completion/Nope")
check "unknown RPC method -> 404" test "$code" = 404
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary 'junk' "$U1/segments/events/not-a-name")
check "upload with a bad segment name -> 400" test "$code" = 400
seg0=$(python3 -c "import json;print(json.load(open('seg0.json'))[0]['segment'])")
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary 'junk' "$U1/segments/events/$seg0")
check "upload of a corrupt file -> 400" test "$code" = 400

# check_chain URL [settling]: contiguous chains, committed rows, one consuming segment each, and
# every committed segment's replicas ONLINE; with "settling" (replicas may still be completing
# the newest commit, so their reports may lag it) the replicas' states are not checked
check_chain() {
  segments "$1" > chain.json && python3 - chain.json "${2:-}" <<'PY'
import json, sys
segs = json.load(open(sys.argv[1]))
settling = sys.argv[2] == "settling"
by = {}
for s in segs: by.setdefault(s["partition"], []).append(s)
for p, v in by.items():
    v.sort(key=lambda s: s["sequence"])
    assert [s["sequence"] for s in v] == list(range(len(v))), (p, v)
    assert sum(s["status"] == "IN_PROGRESS" for s in v) == 1 and v[-1]["status"] == "IN_PROGRESS", (p, v)
    for a, b in zip(v, v[1:]):
        assert a["status"] == "DONE" and a["endOffset"] == b["startOffset"], (a, b)
        assert a["numRows"] == a["endOffset"] - a["startOffset"] and a["crc"] is not None
        assert settling or set(a["replicas"].values()) == {"ONLINE"}, a
print(sum(s["status"] == "DONE" for s in segs))
PY
}

"$SIM" complete --zk "$ZK_CONNECT" --cluster it --controller "$U2" --table events \
  --instances s1,s2,s3 --partitions 4 --rounds 3 --rows 500 --lag 7 > sim1.out 2>sim1.log
check "simulated replicas complete 12 segments, no protocol violation" test $? -eq 0
check "replicas were told NOT_LEADER by the standby and followed" grep -q "NOT_LEADER replies followed | [1-9]" sim1.out
check "laggards got CATCH_UP" grep -qE "CATCH_UP [1-9]" sim1.out
check "KEEP replicas built the committed CRC" grep -qE "KEEP [1-9]" sim1.out
check "chains are contiguous with 12 DONE segments" test "$(check_chain "$U1")" = 12
url=$(python3 -c "
import json; s=[x for x in json.load(open('chain.json')) if x['status']=='DONE'][0]; print(s['downloadUrl'], s['crc'])")
curl -sf -o dl.seg "${url% *}"
check "downloadUrl serves the committed file" "$S" segment verify dl.seg
check "... whose CRC is the committed one" test "$("$S" segment info dl.seg | python3 -c 'import json,sys;print(json.load(sys.stdin)["crc"])')" = "${url#* }"

# --- failover: the leader dies, the standby takes over, commits continue -------------------
check "leader c1 killed (kill -9)" kill_child -9 $P1
wait_for 15 is_leader "$U2"
check "standby became leader after kill -9 of the leader" is_leader "$U2"
"$SIM" complete --zk "$ZK_CONNECT" --cluster it --controller "$U2" --table events \
  --instances s1,s2,s3 --partitions 4 --rounds 2 --rows 500 > sim2.out 2>sim2.log
check "commits continue on the new leader" test $? -eq 0
check "chains still contiguous (20 DONE)" test "$(check_chain "$U2")" = 20

# --- a commit interrupted at each failure point ----------------------------------------
for fault in crash_before_multi crash_after_multi; do
  kill_child -9 $P2 2>/dev/null; wait $P2 2>/dev/null
  start_ctl "f_$fault" --set test.commit.fault=$fault && UF=$CURL && PF=$CPID_LAST
  require "$fault: f_$fault leads" wait_for 15 is_leader "$UF"
  "$SIM" complete --zk "$ZK_CONNECT" --cluster it --controller "$UF" --table events \
    --instances s1,s2,s3 --partitions 1 --rounds 1 --rows 500 > "sim_$fault.out" 2>&1 &
  SIMPID=$!; track_pid $SIMPID
  wait_exit 30 $PF
  rc=$? # the fault's _exit(86), not a crash elsewhere or no exit at all (124)
  check "$fault: the controller died at the failure point (exit $rc)" \
    bash -c "[ $rc -eq 86 ] && grep -q 'test fault: exiting at $fault' 'f_$fault.log'"
  start_ctl "r_$fault" && UR=$CURL && P2=$CPID_LAST
  require "$fault: r_$fault leads" wait_for 15 is_leader "$UR"
  # the replicas are retrying meanwhile: the new leader may be committing the segment right now
  # (a listing is not a snapshot, and the replicas' reports lag the commit), so look again
  # briefly; a commit that was cut in half would stay so (repair waits a whole commit budget)
  chain_settled() { test -n "$(check_chain "$UR" settling)"; }
  check "$fault: ZooKeeper is wholly before or after the commit" wait_for 5 chain_settled
  wait_exit 60 $SIMPID
  rc=$?
  check "$fault: the replicas' retry completes the segment on the new leader (exit $rc)" test $rc -eq 0
  check "$fault: still contiguous after the retry" test -n "$(check_chain "$UR")"
done
U2=$UR

# --- a paused old leader cannot write after SIGCONT ----------------------------------
kill_child -9 $P2 2>/dev/null; wait $P2 2>/dev/null
start_ctl zombie --set test.commit.fault=stall_before_multi --set test.commit.stall=6s && UZ=$CURL && PZ=$CPID_LAST
require "zombie leads" wait_for 15 is_leader "$UZ"
start_ctl heir && UH=$CURL && PH=$CPID_LAST
"$SIM" complete --zk "$ZK_CONNECT" --cluster it --controller "$UZ" --table events \
  --instances s1,s2,s3 --partitions 1 --rounds 1 --rows 500 > sim_zombie.out 2>&1 &
SIMPID=$!; track_pid $SIMPID
check "the leader stalls before its commit multi-op" wait_for 30 grep -q "test fault: stalling" zombie.log
check "... and is paused there (SIGSTOP)" kill_child -STOP $PZ
wait_for 20 is_leader "$UH"
check "the heir took over while the old leader was paused" is_leader "$UH"
check "the old leader resumed (SIGCONT)" kill_child -CONT $PZ
wait_exit 60 $SIMPID
rc=$?
check "the completion finished through the heir (exit $rc)" test $rc -eq 0
wait_for 20 grep -q "commit failed" zombie.log
check "the resumed old leader's commit was refused by ZooKeeper" grep -q "commit failed" zombie.log
check "metadata stayed consistent (contiguous, one commit per segment)" test -n "$(check_chain "$UH")"

consuming() { # consuming URL PARTITION: "segment startOffset replicas states" of the newest open segment
  curl -sf "$1/tables/events/segments?partition=$2" | python3 -c '
import json, sys
s = max((x for x in json.load(sys.stdin) if x["status"] == "IN_PROGRESS"), key=lambda x: x["sequence"])
print(s["segment"], s["startOffset"], ",".join(sorted(s["replicas"])), ",".join(sorted(set(s["replicas"].values()))))'
}
field() { curl -sf "$1/tables/events/segments/$2" | python3 -c "import json,sys;print(json.load(sys.stdin)['$3'])"; }

# --- a deterministic build failure halves the row threshold -------------------------------
read -r SEG1 START1 _ <<<"$(consuming "$UH" 1)"
before=$(field "$UH" "$SEG1" flushRows)
reply=$("$SIM" rpc --controller "$UH" --method StoppedConsuming --segment "$SEG1" --instances s1 \
  --offset "$START1" --reason 6 --rows 400 --build-millis 5)
check "StoppedConsuming(ERROR) after a build is PROCESSED" test "${reply%% *}" = PROCESSED
check "the row threshold was halved ($before -> 200)" test "$(field "$UH" "$SEG1" flushRows)" = 200

# --- repair: a consuming segment deleted from ZooKeeper is recreated -------------------
kill_child -9 $PH; wait $PH 2>/dev/null
kill_child -9 $PZ; wait $PZ 2>/dev/null
start_ctl fixer --set completion.commit.timeout=2s && UX=$CURL
require "fixer leads" wait_for 15 is_leader "$UX"
read -r SEG0 START0 _ <<<"$(consuming "$UX" 0)"
delete_seg0() {
  /usr/share/zookeeper/bin/zkCli.sh -server "$ZK_CONNECT" delete "/sluice/it/tables/events/segments/$SEG0" >/dev/null 2>&1
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$UX/tables/events/segments/$SEG0")" = 404 ]
}
wait_for 30 delete_seg0
check "segment $SEG0 deleted by hand" test $? -eq 0
wait_for 20 bash -c "curl -sf '$UX/tables/events/segments?partition=0' | grep -q IN_PROGRESS"
check "repair recreated partition 0's consuming segment" test "$(consuming "$UX" 0 | cut -d' ' -f2)" = "$START0"

# --- repair: every replica gone -> a fresh segment from the same start on live sidecars ----
read -r SEG2 START2 REPS2 _ <<<"$(consuming "$UX" 2)"
kill_child -TERM $REG1
wait_exit 10 $REG1
rc=$?
check "the simulated sidecars s1,s2,s3 stopped on SIGTERM within 10 s (exit $rc)" test $rc -ne 124
wait_for 20 bash -c "/usr/share/zookeeper/bin/zkCli.sh -server $ZK_CONNECT ls /sluice/it/instances 2>/dev/null | grep -q '^\[\]'"
check "the old sidecars' instance znodes are gone" test $? -eq 0
spawn_stdin_held "$SIM" register --zk "$ZK_CONNECT" --cluster it --instances s4,s5,s6 > reg2.out 2>reg2.log
on_new_sidecars() { consuming "$UX" 2 | grep -q s4,s5,s6; }
wait_for 30 on_new_sidecars
read -r NSEG2 NSTART2 NREPS2 _ <<<"$(consuming "$UX" 2)"
check "repair moved partition 2 to the live sidecars ($NREPS2)" test "$NREPS2" = s4,s5,s6
check "... in a new segment starting where the failed one started" test "$NSTART2" = "$START2" -a "$NSEG2" != "$SEG2"
check "... and the failed segment's replicas are OFFLINE" bash -c "curl -sf '$UX/tables/events/segments?partition=2' | grep -q '\"$SEG2\".*OFFLINE'"
finish
