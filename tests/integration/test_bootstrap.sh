#!/usr/bin/env bash
# Bootstrapping a new table from Kafka history (DESIGN §9, docs/replay.md "Bootstrap a new
# table") with three cluster-mode sidecars, two controllers, ZooKeeper and kafka-mock:
#   A. `sluice replay --from-offsets smallest` of a 4-partition topic: every partition replayed
#      at once and committed segment by segment (the replicas download each one), then the
#      table consumes in realtime from where the replay ended: ids exactly once across the
#      bootstrap and the realtime segments, the replicas byte-identical, `replay --verify`
#      IDENTICAL on every committed segment, the audit clean;
#   B. `--from-table T` copies T's config under the new name and starts each chain where T's
#      does (T began at the latest offsets, not at 0);
#   C. a bootstrap interrupted (SIGINT) after some commits leaves the table bootstrapping (no
#      replica consumes, the audit says so); the same command goes on from the last commit;
#   D. the controller API by hand: POST /tables with bad startOffsets, bootstrapCommit with
#      bad facts, missing uploads, on a table not bootstrapping; pause, force commit and resume
#      from smallest refused while bootstrapping; the CLI's bad options.
source "$(dirname "$0")/lib/harness.sh"
source "$(dirname "$0")/lib/zk.sh"
source "$(dirname "$0")/lib/cluster.sh" # S, EX, CHECK, start_ctl, start_sidecar, ...
cd "$T_TMP"
SCH=$EX/events_schema.json

zk_start "$T_TMP/zk" || { not_ok "zookeeper did not start"; finish; exit 1; }
"$S" kafka-mock --brokers 1 --topic bs:4 > boot.txt 2>mock.log &
track_pid $!
require "kafka-mock printed its bootstrap line" wait_for 10 test -s boot.txt
B=$(head -1 boot.txt)
common="--set cluster.name=bt --set zk.connect=$ZK_CONNECT --set http.bind=127.0.0.1 --set zk.session.timeout=3s"
start_ctl c1; U1=$CURL
require "c1 leads" wait_for 15 is_leader "$U1"
start_ctl c2; U2=$CURL
for i in 1 2 3; do start_sidecar $i; done

"$S" loadgen --bootstrap "$B" --topic bs --rows 40000 --partitions 4 2>/dev/null
require "loadgen delivered 40000 rows (10000 per partition)" test $? -eq 0
listing() { curl -sf "$U1/tables/$1/segments"; }
audit_json() { # audit_json NAME: the cluster audit's JSON in NAME.out; its exit status
  "$S" audit --zk "$ZK_CONNECT" --cluster bt --timeout 10s --json >"$1.out" 2>"$1.err"
}
bootstrapping() { curl -sf "$U1/tables/$1/pauseStatus" | grep -q '"bootstrapping":true'; }

# --- A. --from-offsets smallest ------------------------------------------------------------
mk_table boot bs 2500
timeout 120 "$S" replay --controller "$U2" --table boot --from-offsets smallest \
  --table-config boot.json --schema "$SCH" >a.out 2>a.err
rc=$?
check "A: bootstrap of boot (4 partitions, 40000 rows) through the standby: exit 0 (got $rc)" test $rc -eq 0
check "A: ... 16 segments committed, consuming from 0:10000 1:10000 2:10000 3:10000" \
  grep -q "^table boot bootstrapped: 16 segments committed in .* consuming in realtime from 0:10000 1:10000 2:10000 3:10000" a.out
check "A: every partition replayed at once (the summary counts 40000 rows)" grep -q "^replayed 40000 offsets into 16 segments, 40000 rows" a.err
check "A: the table is no longer bootstrapping" bash -c "! curl -sf '$U1/tables/boot/pauseStatus' | grep -q '\"bootstrapping\":true'"
check "A: the chain in ZooKeeper: 4 DONE segments per partition from 0, then one IN_PROGRESS at 10000" \
  python3 -c "import json,urllib.request
segs = json.load(urllib.request.urlopen('$U1/tables/boot/segments'))
for p in range(4):
    v = sorted((s for s in segs if s['partition'] == p), key=lambda s: s['sequence'])
    assert [s['status'] for s in v] == ['DONE'] * 4 + ['IN_PROGRESS'], v
    assert v[0]['startOffset'] == 0 and all(a['endOffset'] == b['startOffset'] for a, b in zip(v, v[1:])), v
    assert v[-1]['startOffset'] == 10000, v
r = json.load(urllib.request.urlopen('$U1/tables/boot/segments/' + v[0]['segment']))
assert r['committer'] == 'sluice-replay', r"
wait_for 30 published_to boot 0:10000,1:10000,2:10000,3:10000
check "A: every replica downloaded the 16 bootstrapped segments" test $? -eq 0
"$S" loadgen --bootstrap "$B" --topic bs --rows 10000 --partitions 4 --start-id 40000 2>/dev/null
require "loadgen delivered 10000 more rows" test $? -eq 0
wait_for 60 published_to boot 0:12500,1:12500,2:12500,3:12500
check "A: the replicas consumed on in realtime and committed the next segment (ends 12500)" test $? -eq 0
for i in 1 2 3; do
  check "A: sidecar-$i: the chain from 0 unbroken, ids 0..49999 exactly once" \
    $CHECK "s$i" boot --ids 0-49999 --ends 0:12500,1:12500,2:12500,3:12500
done
check "A: the replicas' files are byte-identical" identical boot
timeout 120 "$S" replay --controller "$U1" --table boot --verify >av.out 2>av.err
check "A: replay --verify: every committed segment IDENTICAL (exit 0)" test $? -eq 0
check "A: ... 20 of them" grep -q "^20 segments: 20 identical" av.out

# --- B. --from-table T ---------------------------------------------------------------------
python3 "$SLUICE_SRC/chaos/tools/mktable.py" "$EX/events_table.json" src bs "$B" --replication 3 \
  --rows 1000 --stream stream.kafka.consumer.prop.auto.offset.reset=largest >src.json
"$S" table add --controller "$U1" --table-config src.json --schema "$SCH" >/dev/null 2>&1
require "B: table src added at the latest offsets (12500 per partition)" test $? -eq 0
"$S" loadgen --bootstrap "$B" --topic bs --rows 4000 --partitions 4 --start-id 50000 2>/dev/null
require "B: loadgen delivered 4000 more rows" test $? -eq 0
wait_for 60 published_to src 0:13500,1:13500,2:13500,3:13500
require "B: src committed [12500, 13500) of every partition" test $? -eq 0
timeout 120 "$S" replay --controller "$U1" --table copy --from-table src >b.out 2>b.err
rc=$?
check "B: bootstrap of copy from src: exit 0 (got $rc)" test $rc -eq 0
check "B: copy's chains start where src's do (12500), not at Kafka's earliest" \
  python3 -c "import json,urllib.request
segs = json.load(urllib.request.urlopen('$U1/tables/copy/segments'))
for p in range(4):
    v = sorted((s for s in segs if s['partition'] == p), key=lambda s: s['sequence'])
    assert v[0]['startOffset'] == 12500 and v[-1]['startOffset'] == 13500, v"
check "B: copy has src's config under its own name" python3 -c "import json,urllib.request
a = json.load(urllib.request.urlopen('$U1/tables/src'))['tableConfig']
b = json.load(urllib.request.urlopen('$U1/tables/copy'))['tableConfig']
assert b['tableName'] == 'copy'; b['tableName'] = 'src'; assert a == b"
wait_for 30 published_to copy 0:13500,1:13500,2:13500,3:13500
check "B: copy's replicas hold ids 50000..53999 exactly once from 12500" \
  $CHECK s1 copy --ids 50000-53999 --starts 0:12500,1:12500,2:12500,3:12500 --ends 0:13500,1:13500,2:13500,3:13500

# --- C. an interrupted bootstrap goes on ---------------------------------------------------
mk_table slow bs 200
"$S" replay --controller "$U1" --table slow --from-offsets smallest --table-config slow.json \
  --schema "$SCH" >c1.out 2>c1.err &
RP=$!; track_pid $RP
wait_for 60 bash -c "curl -sf '$U1/tables/slow/segments' | grep -q '\"status\":\"DONE\"'"
check "C: the bootstrap of slow committed its first segments" test $? -eq 0
kill -INT "$RP"
wait_exit 30 "$RP"
rc=$?
check "C: SIGINT stops it: exit 2 (got $rc)" test $rc -eq 2
check "C: ... it says the table stays bootstrapping and how to go on" grep -q "the same command goes on from there" c1.err
NDONE=$(listing slow | grep -o '"status":"DONE"' | wc -l)
check "C: ... some, not all, of its 272 segments are committed ($NDONE)" test "$NDONE" -gt 0 -a "$NDONE" -lt 272
check "C: slow is still bootstrapping" bootstrapping slow
check "C: nobody consumes it: no CONSUMING replica in its assignment" bash -c "! '$S' zk dump --zk '$ZK_CONNECT' --cluster bt 2>/dev/null | grep -A3 'tables/slow/assignment' | grep -q CONSUMING"
audit_json ca
check "C: the audit names the bootstrap (I5 unverified, no violation)" python3 -c "import json
r = json.load(open('ca.out'))
assert not [v for v in r['violations'] if v['table'] == 'slow'], r['violations']
assert any(u['table'] == 'slow' and 'bootstrapped' in u['evidence'] for u in r['unverified']), r['unverified']"
code=$(curl -s -o cp.json -w '%{http_code}' -X POST "$U1/tables/slow/pauseConsumption")
check "C: pause while bootstrapping -> 409" test "$code" = 409
code=$(curl -s -o cf.json -w '%{http_code}' -X POST "$U1/tables/slow/forceCommit")
check "C: force commit while bootstrapping -> 409" test "$code" = 409
code=$(curl -s -o cr.json -w '%{http_code}' -X POST "$U1/tables/slow/resumeConsumption?consumeFrom=smallest")
check "C: resume from smallest while bootstrapping -> 409 (it resumes where the replay ended)" \
  bash -c "[ $code = 409 ] && grep -q lastConsumed cr.json"
timeout 120 "$S" replay --controller "$U1" --table slow --from-offsets smallest >c2.out 2>c2.err
rc=$?
check "C: the same command again (no config: the table's): exit 0 (got $rc)" test $rc -eq 0
check "C: ... it went on from the last commit" grep -q "going on from its last commit" c2.err
check "C: ... the chain complete and unbroken: 68 DONE per partition from 0, the tail at 13500" \
  python3 -c "import json,urllib.request
segs = json.load(urllib.request.urlopen('$U1/tables/slow/segments'))
for p in range(4):
    v = sorted((s for s in segs if s['partition'] == p), key=lambda s: s['sequence'])
    assert [s['status'] for s in v] == ['DONE'] * 68 + ['IN_PROGRESS'], [s['status'] for s in v]
    assert v[0]['startOffset'] == 0 and all(a['endOffset'] == b['startOffset'] for a, b in zip(v, v[1:]))
    assert v[-1]['startOffset'] == 13500"
wait_for 60 published_to slow 0:13500,1:13500,2:13500,3:13500
check "C: every replica holds ids 0..53999 of slow exactly once" \
  $CHECK s2 slow --ids 0-53999 --ends 0:13500,1:13500,2:13500,3:13500

# --- D. the controller API and the CLI, bad input ------------------------------------------
mk_table hold bs 1000
post_table() { # post_table FILE BOOTSTRAP_JSON: the HTTP status of POST /tables
  python3 -c "import json,sys
print(json.dumps({'tableConfig': json.load(open('$1')), 'schema': json.load(open('$SCH')), 'bootstrap': json.loads(sys.argv[1])}))" "$2" >body.json
  curl -s -o post.out -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data-binary @body.json "$U1/tables"
}
code=$(post_table hold.json '{"startOffsets":[0,0]}')
check "D: startOffsets of 2 partitions for a 4-partition topic -> 400" bash -c "[ $code = 400 ] && grep -q 'has 2 offsets' post.out"
code=$(post_table hold.json '{"startOffsets":[0,0,0,999999]}')
check "D: an offset beyond the partition's end -> 400" bash -c "[ $code = 400 ] && grep -q 'startOffsets\[3\]' post.out"
code=$(post_table hold.json '{"startOffsets":[0,-1,0,0]}')
check "D: a negative offset -> 400" test "$code" = 400
code=$(post_table hold.json '{"startOffsets":"smallest"}')
check "D: startOffsets not an array -> 400" test "$code" = 400
code=$(post_table hold.json '{"startOffsets":[0,0,0,0]}')
check "D: a bootstrapping table hold created by hand -> 201" test "$code" = 201
SEG0=$(listing hold | python3 -c "import json,sys
print([s['segment'] for s in json.load(sys.stdin) if s['partition'] == 0][0])")
MIN=${SEG0##*__}
timeout 60 "$S" replay --kafka "$B" --table-config hold.json --schema "$SCH" --partition 0 \
  --from 0 --to 700 --time "$MIN" --out hd >hd.out 2>&1
require "D: segment $SEG0 built by a range replay" test -f "hd/hold/$SEG0.seg"
read -r ROWS SIZE CRC < <(awk -v s="$SEG0" '$1 == s { print $2, $5, $6 }' hd.out)
bc() { curl -s -o bc.json -w '%{http_code}' -X POST "$U1/segments/hold/$1/bootstrapCommit?$2"; }
code=$(bc "$SEG0" "endOffset=700&rows=$ROWS&sizeBytes=$SIZE&crc=$CRC")
check "D: bootstrapCommit before the upload -> 404 (no verified upload)" test "$code" = 404
code=$(curl -s -o up.out -w '%{http_code}' -X PUT --data-binary @"hd/hold/$SEG0.seg" "$U1/segments/hold/$SEG0")
check "D: the upload -> 200" test "$code" = 200
code=$(bc "$SEG0" "endOffset=700&rows=$ROWS")
check "D: bootstrapCommit without sizeBytes and crc -> 400" test "$code" = 400
code=$(bc "$SEG0" "endOffset=699&rows=$ROWS&sizeBytes=$SIZE&crc=$CRC")
check "D: an end offset the file does not have -> 400" bash -c "[ $code = 400 ] && grep -q 'end offset' bc.json"
code=$(bc "$SEG0" "endOffset=700&rows=$ROWS&sizeBytes=$SIZE&crc=$((CRC ^ 1))")
check "D: another CRC than the upload's -> 404 (no verified upload with that crc)" test "$code" = 404
code=$(bc "${SEG0/__0__0__/__1__0__}" "endOffset=700&rows=$ROWS&sizeBytes=$SIZE&crc=$CRC")
check "D: partition 1's segment with partition 0's facts -> 404 (no upload)" test "$code" = 404
code=$(bc "hold__0__7__$MIN" "endOffset=700&rows=$ROWS&sizeBytes=$SIZE&crc=$CRC")
check "D: a segment that does not exist -> 404" test "$code" = 404
code=$(bc "boot__0__0__$MIN" "endOffset=700&rows=$ROWS&sizeBytes=$SIZE&crc=$CRC")
check "D: another table's segment name -> 400" test "$code" = 400
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$U2/segments/hold/$SEG0/bootstrapCommit?endOffset=700&rows=$ROWS&sizeBytes=$SIZE&crc=$CRC")
check "D: on the standby -> 307 to the leader" test "$code" = 307
code=$(bc "$SEG0" "endOffset=700&rows=$ROWS&sizeBytes=$SIZE&crc=$CRC")
check "D: the right facts -> 200" bash -c "[ $code = 200 ] && grep -q '\"nextStartOffset\":700' bc.json"
code=$(bc "$SEG0" "endOffset=700&rows=$ROWS&sizeBytes=$SIZE&crc=$CRC")
check "D: the same commit again -> 200 (a retry)" test "$code" = 200
wait_for 30 published_to hold 0:700
check "D: every replica downloaded it" test $? -eq 0
BOOTSEG=$(listing boot | python3 -c "import json,sys
print([s['segment'] for s in json.load(sys.stdin) if s['status'] == 'IN_PROGRESS'][0])")
code=$(curl -s -o bn.json -w '%{http_code}' -X POST "$U1/segments/boot/$BOOTSEG/bootstrapCommit?endOffset=1&rows=1&sizeBytes=1&crc=1")
check "D: bootstrapCommit on a table not bootstrapping -> 409" bash -c "[ $code = 409 ] && grep -q 'not being bootstrapped' bn.json"
timeout 120 "$S" replay --controller "$U1" --table hold --from-offsets smallest >hold.out 2>hold.err
check "D: sluice replay finishes the hand-made bootstrap (partition 0 from 700): exit 0" test $? -eq 0
check "D: ... partition 0 went on from 700" python3 -c "import json,urllib.request
segs = json.load(urllib.request.urlopen('$U1/tables/hold/segments'))
v = sorted((s for s in segs if s['partition'] == 0), key=lambda s: s['sequence'])
assert v[0]['endOffset'] == 700 and v[1]['startOffset'] == 700, v[:2]"

bad() { # bad DESCRIPTION PATTERN ARGS...
  local d=$1 p=$2
  shift 2
  timeout 60 "$S" replay "$@" >bad.out 2>&1
  local rc=$?
  check "D: $d: exit 2 (got $rc)" test $rc -eq 2
  check "D: $d: says '$p'" grep -q -- "$p" bad.out
}
bad "a table that exists and is not bootstrapping" "is not being bootstrapped" --controller "$U1" --table boot --from-offsets smallest
bad "--from-offsets largest" "only smallest" --controller "$U1" --table nt --from-offsets largest
bad "--from-table that does not exist" "nosuch" --controller "$U1" --table nt --from-table nosuch
bad "--from-table the table itself" "the new table itself" --controller "$U1" --table nt --from-table nt
bad "a new table without a config" "needs --table-config" --controller "$U1" --table nt --from-offsets smallest
bad "a config named otherwise" "not --table nt" --controller "$U1" --table nt --from-offsets smallest --table-config hold.json --schema "$SCH"
bad "--table-config without --schema" "go together" --controller "$U1" --table nt --from-offsets smallest --table-config hold.json
bad "both --from-table and --from-offsets" "not both" --controller "$U1" --table nt --from-table src --from-offsets smallest
bad "a range option" "no --verify" --controller "$U1" --table nt --from-table src --from 0
bad "an unreachable controller" "cannot bootstrap" --controller http://127.0.0.1:1 --table nt --from-table src
check "D: nothing was created for the refused runs" test "$(curl -s -o /dev/null -w '%{http_code}' "$U1/tables/nt")" = 404

audit_json audit
check "the audit of the whole cluster is clean" python3 -c "import json
r = json.load(open('audit.out')); assert r['verdict'] == 'ok', r['violations']"
finish
