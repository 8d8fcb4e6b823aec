#!/usr/bin/env bash
# The controller scrubs its segment store (issue 10, item 2): the leader re-verifies every
# committed file of its store every 2 s (store.scrub.interval) against the CRC of the segment's
# ZooKeeper record. A byte flipped in the middle of a committed file is found, counted in
# sluice_store_corrupt_total, logged with table, segment and reason, the rotten file kept in
# <store>/<table>/quarantine/ and the committed copy downloaded from a sidecar: the store's file
# has the committed CRC again and sluice audit is clean. A deleted store file is restored the
# same way. The standby controller does not scrub, and SIGTERM still ends the leader at once.
source "$(dirname "$0")/lib/harness.sh"
source "$(dirname "$0")/lib/zk.sh"
S=$SLUICE_BIN
EX=$SLUICE_SRC/deploy/examples
cd "$T_TMP"

zk_start "$T_TMP/zk" || { not_ok "zookeeper did not start"; finish; exit 1; }
kmock_start events:2
common="--set cluster.name=it --set zk.connect=$ZK_CONNECT --set http.bind=127.0.0.1 --set zk.session.timeout=3s"

ctl_url() { grep -o 'started instance=[^ ]* url=[^ ]*' "$1.log" | tail -1 | sed 's/.*url=//'; }
start_ctl() { # start_ctl NAME: sets CURL and CPID; ends the test unless it answers /health
  "$S" controller $common --set instance.id="$1" --set http.port=0 --set data.dir="$T_TMP/$1" \
    --set completion.hold.time=1s --set store.scrub.interval=2s >"$1.log" 2>&1 &
  CPID=$!; track_pid $CPID
  require "controller $1 started" wait_for 20 grep -q "sub=controller started" "$1.log"
  CURL=$(ctl_url "$1")
  require "controller $1 answers /health" wait_for 5 curl -sf -o /dev/null "$CURL/health"
}
is_leader() { curl -sf "$1/health" | grep -q '"leader":true'; }
start_sidecar() { # start_sidecar N
  "$S" sidecar $common --set instance.id="sidecar-$1" --set mode=cluster --set http.port=0 \
    --set data.dir="$T_TMP/s$1" --set consumer.threads=1 >"s$1.log" 2>&1 &
  track_pid $!
  require "sidecar-$1 registered" wait_for 20 grep -q "sub=replica registered instance=sidecar-$1 " "s$1.log"
}

start_ctl c1; U1=$CURL; P1=$CPID
require "c1 leads" wait_for 15 is_leader "$U1"
start_ctl c2; U2=$CURL; P2=$CPID
for i in 1 2 3; do start_sidecar $i; done
python3 - "$EX/events_table.json" "$B" > events.json <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
t["segmentsConfig"]["replication"] = "3"
m = t["ingestionConfig"]["streamIngestionConfig"]["streamConfigMaps"][0]
m.pop("realtime.segment.flush.threshold.rows", None)
m.update({"stream.kafka.broker.list": sys.argv[2], "realtime.segment.flush.threshold.time": "2s"})
print(json.dumps(t))
PY
"$S" table add --controller "$U1" --table-config events.json --schema "$EX/events_schema.json" >add.out 2>&1
require "table added (2 partitions x 3 replicas, 2 s time threshold)" test $? -eq 0
"$S" loadgen --bootstrap "$B" --topic events --rows 6000 --partitions 2 --rate 2000 2>lg.err
require "loadgen delivered 6000 rows" test $? -eq 0

# settled: each partition committed up to its end (3000), every DONE segment ONLINE on all
# three replicas and in c1's store; prints "<segment> <crc>" of each DONE segment
cat > settled.py <<'PY'
import json, os, sys
segs = json.load(open(sys.argv[1]))
done = [s for s in segs if s["status"] == "DONE"]
ends = {}
for s in done:
    assert len(s["replicas"]) == 3 and set(s["replicas"].values()) == {"ONLINE"}, s
    assert os.path.isfile("%s/%s.seg" % (sys.argv[2], s["segment"])), s["segment"]
    ends[s["partition"]] = max(ends.get(s["partition"], 0), s["endOffset"])
assert ends == {0: 3000, 1: 3000}, ends
assert len(done) >= 2, done
for s in done:
    print(s["segment"], s["crc"])
PY
settled() { curl -sf "$U1/tables/events/segments" > segs.json && python3 settled.py segs.json c1/events > done.txt; }
require "committed up to the end, ONLINE on three replicas, in the store" wait_for 40 settled
read -r SEG1 CRC1 < <(sed -n 1p done.txt)
read -r SEG2 CRC2 < <(sed -n 2p done.txt)
F1=c1/events/$SEG1.seg
F2=c1/events/$SEG2.seg

corrupt_is() { curl -sf "$U1/metrics" | grep -q "^sluice_store_corrupt_total{table=\"events\"} $1\$"; }
has_crc() { # has_crc FILE CRC: the file verifies and has that CRC
  "$S" segment info "$1" 2>/dev/null | python3 -c "import json,sys; assert json.load(sys.stdin)['crc']==$2"
}
audit_clean() {
  "$S" audit --zk "$ZK_CONNECT" --cluster it >"audit.$1.out" 2>&1
  local rc=$?
  check "sluice audit is clean $1 (exit $rc)" test $rc -eq 0
}
check "scrub passes count the store's files" wait_for 10 \
  bash -c "curl -sf '$U1/metrics' | grep -qE '^sluice_store_scrubbed_total\{table=\"events\"\} [1-9]'"
check "nothing corrupt before the rot" bash -c "! curl -sf '$U1/metrics' | grep -q '^sluice_store_corrupt_total'"

# --- a byte flipped in the middle of a committed file ----------------------------------------
# flip FILE: one byte in the middle flipped in place (never a truncated file for a scrub to see)
flip() {
  python3 - "$1" <<'PY'
import os, sys
with open(sys.argv[1], "r+b") as f:
    mid = os.fstat(f.fileno()).st_size // 2
    f.seek(mid); b = f.read(1)[0] ^ 0x20; f.seek(mid); f.write(bytes([b]))
PY
}
cp "$F1" rotten.seg
flip rotten.seg
flip "$F1"
check "the flipped file fails verification" bash -c "! '$S' segment verify rotten.seg >/dev/null 2>&1"
check "sluice_store_corrupt_total{table=\"events\"} becomes 1" wait_for 20 corrupt_is 1
check "the rotten file is kept in the store's quarantine/" \
  wait_for 5 cmp -s rotten.seg "c1/events/quarantine/$SEG1.seg"
check "the store's file is back with the committed CRC" wait_for 20 has_crc "$F1" "$CRC1"
check "logged with table, segment, reason and the sidecar it came from" \
  grep -qE "store file bad table=events partition=[0-9] segment=$SEG1 reason=\"fails verification.* moved_to=.*/quarantine/$SEG1.seg restored_from=http://127.0.0.1:[0-9]+/segments/events/$SEG1" c1.log
check "still 1 after more passes (healed once, counted once)" \
  bash -c "sleep 4; curl -sf '$U1/metrics' | grep -q '^sluice_store_corrupt_total{table=\"events\"} 1\$'"
audit_clean "after the flip"

# --- a committed file deleted ------------------------------------------------------------------
rm -f "$F2"
check "a deleted file is counted: sluice_store_corrupt_total{table=\"events\"} becomes 2" \
  wait_for 20 corrupt_is 2
check "the deleted file is restored with the committed CRC" wait_for 20 has_crc "$F2" "$CRC2"
check "logged as missing" grep -qE "store file bad table=events partition=[0-9] segment=$SEG2 reason=\"missing\" moved_to=- restored_from=http" c1.log
check "nothing else was quarantined" test "$(ls c1/events/quarantine | wc -l)" -eq 1
audit_clean "after the deletion"

# --- no sidecar has a good copy: counted and retried every pass until one has -----------------
read -r SEG3 CRC3 < <(sed -n 3p done.txt)
F3=c1/events/$SEG3.seg
cp "$F3" good3.seg
for i in 1 2 3; do flip "s$i/events/$SEG3.seg"; done
rm -f "$F3"
check "without a good copy it is counted again on each pass (corrupt_total reaches 4)" \
  wait_for 20 corrupt_is 4
check "logged: not restored, the sidecars' copies refused (they fail verification), retried next pass" \
  grep -qE "store file bad table=events partition=[0-9] segment=$SEG3 reason=\"missing\" moved_to=- restored=no why=\"http://127.0.0.1:[0-9]+/segments/events/$SEG3: .*CRC-32C mismatch.*\": retried next pass" c1.log
check "no bad copy was published" test ! -e "$F3"
for i in 2 3; do cp good3.seg "s$i/events/.good3" && mv "s$i/events/.good3" "s$i/events/$SEG3.seg"; done
check "once a sidecar has a good copy again, the next pass restores it" wait_for 20 has_crc "$F3" "$CRC3"
cp good3.seg s1/events/.good3 && mv s1/events/.good3 "s1/events/$SEG3.seg"
audit_clean "after the restore"

# --- a pushed (UPLOADED) segment of an OFFLINE table is scrubbed too ---------------------------
B=$SLUICE_SRC/tests/data/pinot/batch/billing
python3 - "$B/billing_offline_table_config.json" billing.json <<'PY'
import json, sys
t = json.load(open(sys.argv[1])); t["segmentsConfig"]["replication"] = "3"
json.dump(t, open(sys.argv[2], "w"))
PY
"$S" table add --controller "$U1" --table-config billing.json --schema "$B/billing_schema.json" >badd.out 2>&1
"$S" segment build --schema "$B/billing_schema.json" --table-config billing.json \
  --input "$B/rawdata/billing_data.csv" --out bill_0.seg --name bill_0 2>/dev/null
"$S" push --controller "$U1" --table billing bill_0.seg >bpush.out 2>&1
CRCB=$(grep -o 'crc=[0-9]*' bpush.out | cut -d= -f2)
onall() { for i in 1 2 3; do has_crc "s$i/billing_OFFLINE/bill_0.seg" "$CRCB" || return 1; done; }
check "a pushed segment is on the three sidecars" wait_for 20 onall
FB=c1/billing_OFFLINE/bill_0.seg
flip "$FB"
check "a flipped byte in the store's copy of a pushed segment is found and healed from a sidecar" \
  wait_for 20 has_crc "$FB" "$CRCB"
check "... the rotten copy kept in quarantine" bash -c "test \$(ls c1/billing_OFFLINE/quarantine | wc -l) -eq 1"

check "the standby c2 does not scrub" bash -c "! curl -sf '$U2/metrics' | grep -q '^sluice_store_scrubbed_total{'"
check "no upload temporaries or pending copies left in the store" \
  bash -c "! ls c1/events | grep -qE '\\.seg\\.(up|pending)\\.'"
for p in $P1 $P2; do
  kill_child -TERM $p
  wait_exit 5 $p
  rc=$?
  check "controller pid $p exits 0 within 5 s of SIGTERM (got $rc)" test $rc -eq 0
done
finish
