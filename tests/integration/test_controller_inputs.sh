#!/usr/bin/env bash
# Hostile and nonsensical input to a controller (real ZooKeeper, kafka-mock, real HTTP): an
# instance that is no replica, offsets outside [start, high watermark], row counts that do not
# fit the offsets, a hand-built file committed as a segment, uploads for tables and segments
# that do not exist or are committed, unreadable segment records (reported, then repaired),
# and table creation against a wrong broker list. Every refusal must leave the metadata as it
# was, and honest replicas must still commit afterwards.
source "$(dirname "$0")/lib/harness.sh"
source "$(dirname "$0")/lib/zk.sh"
S=$SLUICE_BIN
SIM=${SLUICE_BUILD:-$SLUICE_SRC/build}/chaos/simreplica
EX=$SLUICE_SRC/deploy/examples
ZKCLI=/usr/share/zookeeper/bin/zkCli.sh
export SIMREPLICA_SCHEMA=$EX/events_schema.json
cd "$T_TMP"

zk_start "$T_TMP/zk" || { not_ok "zookeeper did not start"; finish; exit 1; }
kmock_start events:2
# 1000 events per partition before the table exists (it starts at the end: "largest")
"$S" loadgen --bootstrap "$B" --topic events --rows 2000 --partitions 2 2>/dev/null
check "1000 events per partition produced" test $? -eq 0

"$S" controller --set cluster.name=it --set zk.connect="$ZK_CONNECT" --set instance.id=c1 \
  --set http.port=0 --set http.bind=127.0.0.1 --set data.dir="$T_TMP/store" \
  --set completion.hold.time=1s --set repair.interval=1s > c1.out 2> c1.log &
track_pid $!
require "controller started" wait_for 20 grep -q "sub=controller started" c1.log
U=$(grep -o 'started instance=[^ ]* url=[^ ]*' c1.log | sed 's/.*url=//')
require "controller leads" wait_for 10 bash -c "curl -sf $U/health | grep -q '\"leader\":true'"

# the simulated sidecars live while this shell holds their stdin open (the harness's fifo: an
# open that cannot block, even when the tool died before opening its end)
spawn_stdin_held "$SIM" register --zk "$ZK_CONNECT" --cluster it --instances s1,s2,s3 > reg.out 2> reg.log
require "simulated sidecars s1,s2,s3 registered" wait_for 10 grep -q ready reg.out

mktable() { # mktable BROKERS [NAME [--stream KEY=VALUE ...]]
  local b=$1 n=${2:-events}
  shift $(($# < 2 ? $# : 2))
  python3 "$SLUICE_SRC/chaos/tools/mktable.py" "$EX/events_table.json" "$n" events "$b" \
    --replication 3 --stream stream.kafka.consumer.prop.auto.offset.reset=largest "$@"
}
mktable "$B" > table.json
"$S" table add --controller "$U" --table-config table.json --schema "$EX/events_schema.json" > add.out 2>&1
check "table created" test $? -eq 0
"$S" loadgen --bootstrap "$B" --topic events --rows 2000 --partitions 2 --start-id 2000 2>/dev/null
check "1000 more events per partition (high watermark 2000)" test $? -eq 0

seginfo() { # seginfo PARTITION FIELD: FIELD of the partition's newest segment
  curl -sf "$U/tables/events/segments?partition=$1" | python3 -c "
import json, sys
s = max(json.load(sys.stdin), key=lambda x: x['sequence']); print(s['$2'])"
}
SEG=$(seginfo 0 segment)
START=$(seginfo 0 startOffset)
check "segment 0 starts at the end of what was there (1000)" test "$START" = 1000
FLUSH=$(curl -sf "$U/tables/events/segments/$SEG" | python3 -c 'import json,sys;print(json.load(sys.stdin)["flushRows"])')
reply_is() { [[ "$1" == "$2 "* && "$1" == *"$3"* ]]; } # reply_is REPLY STATUS TEXT
rpc() { "$SIM" rpc --controller "$U" --segment "$SEG" "$@" 2>&1; }

# --- who may speak, and what offsets and rows can be true -------------------------------
r=$(rpc --method SegmentConsumed --instances nobody --offset 1005 --rows 5)
check "an instance the assignment does not list is refused ($r)" reply_is "$r" FAILED "not a replica"
r=$(rpc --method SegmentConsumed --instances s1 --offset 9223372036854775807 --rows 5)
check "an offset beyond the high watermark is refused ($r)" reply_is "$r" FAILED "high watermark 2000"
r=$(rpc --method SegmentConsumed --instances s1 --offset 5 --rows 5)
check "an offset before the segment's start is refused ($r)" reply_is "$r" FAILED "before the segment"
r=$(rpc --method SegmentConsumed --instances s1 --offset 1100 --rows 500)
check "more rows than offsets is refused ($r)" reply_is "$r" FAILED "rows cannot come"
r=$(rpc --method StoppedConsuming --instances nobody --offset 1000 --reason 6 --rows 400 --build-millis 5)
check "a forged build failure is refused ($r)" reply_is "$r" FAILED "not a replica"
check "... and the row threshold is unchanged ($FLUSH)" test "$(curl -sf "$U/tables/events/segments/$SEG" | python3 -c 'import json,sys;print(json.load(sys.stdin)["flushRows"])')" = "$FLUSH"
check "the segment is still consuming" test "$(seginfo 0 status)" = IN_PROGRESS

# --- a hand-built file offered as the segment --------------------------------------------
for id in s1 s2 s3; do
  rpc --method SegmentConsumed --instances $id --offset 1100 --rows 100 > "sc_$id.out" &
  track_pid $!
done
wait_for 15 grep -q COMMIT sc_s1.out
check "s1 is the committer at 1100" grep -q "^COMMIT 1100" sc_s1.out
r=$(rpc --method CommitStart --instances s1 --offset 1100 --rows 100)
check "CommitStart accepted" reply_is "$r" COMMIT_CONTINUE ""
python3 - > rows.jsonl <<'PY'
import json
for i in range(100):
    print(json.dumps({"ts": 1700000000000 + i, "user": "forged", "country": "XX", "device": "web",
                      "event": "view", "tags": [], "latency_ms": 1, "price": 0.0, "session": 1,
                      "flag": False, "event_id": i}))
PY
"$S" segment build --schema "$EX/events_schema.json" --input rows.jsonl --out forged.seg --name "$SEG" 2>/dev/null
CRC=$("$S" segment info forged.seg | python3 -c 'import json,sys;print(json.load(sys.stdin)["crc"])')
SIZE=$(stat -c %s forged.seg)
code=$(curl -s -o up.json -w '%{http_code}' -X PUT --data-binary @forged.seg "$U/segments/events/$SEG")
check "the forged file uploads (it is a valid segment file)" test "$code" = 200
r=$(rpc --method CommitEnd --instances s1 --offset 1100 --rows 100 --crc "$CRC" --size "$SIZE" --location "$U/segments/events/$SEG")
check "CommitEnd with a file whose metadata disagrees is refused ($r)" reply_is "$r" FAILED "partition or sequence differs"
# pauseless completion fixed the end offset at the decision: the segment waits for a commit
check "the segment is not committed: COMMITTING [1000, 1100), its successor consuming at 1100" test "$(curl -sf "$U/tables/events/segments/$SEG" | python3 -c 'import json,sys;s=json.load(sys.stdin);print(s["status"],s["startOffset"],s["endOffset"])') $(seginfo 0 status) $(seginfo 0 startOffset)" = "COMMITTING 1000 1100 IN_PROGRESS 1100"
check "the forged file is not served as committed" test "$(curl -s -o /dev/null -w '%{http_code}' "$U/segments/events/$SEG")" = 404

# --- honest replicas still commit ---------------------------------------------------------
"$SIM" complete --zk "$ZK_CONNECT" --cluster it --controller "$U" --table events \
  --instances s1,s2,s3 --partitions 2 --rounds 2 --rows 400 > sim.out 2> sim.log
check "honest replicas complete 4 segments afterwards" test $? -eq 0
curl -sf "$U/tables/events/segments" > chain.json
check "chains contiguous from 1000, rows = offsets, committed by s1..s3" python3 - chain.json <<'PY'
import json, sys
segs = json.load(open(sys.argv[1]))
for p in (0, 1):
    v = sorted((s for s in segs if s["partition"] == p), key=lambda s: s["sequence"])
    assert v[0]["startOffset"] == 1000, v
    assert [s["status"] for s in v] == ["DONE", "DONE", "IN_PROGRESS"], v
    for a, b in zip(v, v[1:]):
        assert a["endOffset"] == b["startOffset"] and a["numRows"] == a["endOffset"] - a["startOffset"], (a, b)
PY
DONE0=$(python3 -c "import json;print([s['segment'] for s in json.load(open('chain.json')) if s['partition']==1 and s['sequence']==0][0])")
CRC0=$(python3 -c "import json;print([s['crc'] for s in json.load(open('chain.json')) if s['partition']==1 and s['sequence']==0][0])")

# --- uploads only for consuming segments of existing tables -------------------------------
code=$(curl -s -o up404.txt -w '%{http_code}' -X PUT --data-binary @forged.seg "$U/segments/nosuch/nosuch__0__0__20260101T0000Z")
check "upload for a table that does not exist -> 404" test "$code" = 404
check "... and nothing was created for it in the store" test ! -e "$T_TMP/store/nosuch"
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary @forged.seg "$U/segments/events/events__0__77__20260101T0000Z")
check "upload for a segment that does not exist -> 404" test "$code" = 404
code=$(curl -s -o up409.txt -w '%{http_code}' -X PUT --data-binary @forged.seg "$U/segments/events/$DONE0")
check "a second upload of a committed segment -> 409" test "$code" = 409
check "... and no pending copy was left" bash -c "! ls '$T_TMP/store/events/' | grep -q '^$DONE0.seg.pending'"

# --- unreadable records are reported, then repaired --------------------------------------
zkcli() { "$ZKCLI" -server "$ZK_CONNECT" "$@" > /dev/null 2>&1; }
zkset() { zkcli set "/sluice/it/tables/events/segments/$1" "not a protobuf"; }
# a record nothing can rebuild (no committed file, no predecessor) stays reported
LOST=events__1__9__20260101T0000Z
zkcli create "/sluice/it/tables/events/segments/$LOST" "not a protobuf"
code=$(curl -s -o listing.json -w '%{http_code}' "$U/tables/events/segments")
check "a listing with an unreadable record answers 200 (not 503)" test "$code" = 200
check "... and reports the record as CORRUPT" grep -q "\"segment\":\"$LOST\",[^}]*\"status\":\"CORRUPT\"" listing.json
wait_for 10 grep -q "segment=$LOST: record unreadable and not rebuildable" c1.log
check "... and repair says it cannot rebuild it" grep -q "segment=$LOST: record unreadable and not rebuildable" c1.log
zkcli delete "/sluice/it/tables/events/segments/$LOST"
zkset "$DONE0"
corrupt_listed() {
  curl -sf "$U/tables/events/segments" | python3 -c "
import json, sys
s = [x for x in json.load(sys.stdin) if x['segment'] == '$DONE0'][0]
assert s['status'] == '$1', s"
}
wait_for 15 corrupt_listed DONE
check "repair rewrote the committed segment's record from its file" corrupt_listed DONE
check "... with the committed CRC" test "$(curl -sf "$U/tables/events/segments/$DONE0" | python3 -c 'import json,sys;print(json.load(sys.stdin)["crc"])')" = "$CRC0"
NEWEST=$(seginfo 1 segment)
PREV_END=$(python3 -c "import json;print([s['endOffset'] for s in json.load(open('chain.json')) if s['partition']==1 and s['sequence']==1][0])")
zkset "$NEWEST"
consuming_at() { test "$(seginfo 1 status) $(seginfo 1 startOffset)" = "IN_PROGRESS $PREV_END"; }
wait_for 15 consuming_at
check "repair rewrote the consuming segment's record at its predecessor's end ($PREV_END)" consuming_at

# --- table creation: the brokers it tried, quickly -----------------------------------------
mktable 127.0.0.1:1 other > bad_brokers.json
t0=$(date +%s)
"$S" table add --controller "$U" --table-config bad_brokers.json --schema "$EX/events_schema.json" > badb.out 2>&1
rc=$?
t1=$(date +%s)
check "a table on unreachable brokers is refused" test $rc -ne 0
check "... naming the brokers it tried ($(head -c 200 badb.out))" grep -q "127.0.0.1:1" badb.out
check "... within 6 s (took $((t1 - t0)) s)" test $((t1 - t0)) -le 6
mktable "$B" other --stream stream.kafka.consumer.prop.bootstrap.servers=10.0.0.1:9092 > override.json
"$S" table add --controller "$U" --table-config override.json --schema "$EX/events_schema.json" > ovr.out 2>&1
check "a consumer property overriding the broker list is refused" test $? -ne 0
check "... naming the key" grep -q "consumer.prop.bootstrap.servers" ovr.out
finish
