#!/usr/bin/env bash
# Real material: Apache Pinot's githubEvents sample (tests/data/github, values up to 35 KB)
# through `sluice segment build` and through a standalone sidecar fed by kcat. Every stored
# row is compared with the input (a CRC alone proves nothing about the rows), builds repeat
# byte for byte, and a build without a table config works too.
source "$(dirname "$0")/lib/harness.sh"
S=$SLUICE_BIN
D=$SLUICE_SRC/tests/data/github
IN=$D/githubEvents_2021-07-21_first120.json
SCHEMA=$D/githubEvents_payload_schema.json
cd "$T_TMP"

same_rows() { # same_rows DUMP.jsonl INPUT.jsonl: every stored row equals its input row
  python3 - "$1" "$2" <<'PY'
import json, sys
got = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
want = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
assert len(got) == len(want), (len(got), len(want))
bad = 0
for i, (g, w) in enumerate(zip(got, want)):
    try:
        ok = (g["id"] == w["id"] and g["type"] == w["type"] and g["public"] == w["public"]
              and g["created_at"] == w["created_at"]
              and all((json.loads(g[k]) if g[k] is not None else None) == w.get(k)
                      for k in ("actor", "repo", "payload", "org")))
    except ValueError:
        ok = False
    bad += not ok
assert bad == 0, f"{bad} of {len(want)} rows differ"
PY
}

"$S" segment build --schema "$SCHEMA" --input "$IN" --out a.seg --name gh__0__0__20210721T0600Z 2> a.log
rc=$?
check "githubEvents: 120 rows built without a table config (exit $rc)" \
  bash -c "[ $rc -eq 0 ] && grep -q 'rows=120 rejected=0' a.log"
"$S" segment build --schema "$SCHEMA" --input "$IN" --out b.seg --name gh__0__0__20210721T0600Z 2> b.log
check "a second build exits 0" test $? -eq 0
check "... and gives the same bytes" cmp -s a.seg b.seg
check "verify ok" "$S" segment verify a.seg
"$S" segment dump a.seg > a.jsonl
check "dump exits 0" test $? -eq 0
# 120 lines: an empty dump would be "valid JSON lines" too
check "dump is 120 valid UTF-8 JSON lines" python3 -c "import json,sys;assert len([json.loads(l) for l in open(sys.argv[1],encoding='utf-8')]) == 120" a.jsonl
check "every stored row equals its input row (payloads up to 35 KB)" same_rows a.jsonl "$IN"

# --- created_at (SIMPLE_DATE_FORMAT) as the time column: parsed, a bad value rejected ------------
cat > sdf.table.json <<'JSON'
{"tableName": "gh", "tableType": "OFFLINE",
 "segmentsConfig": {"schemaName": "githubEvents", "timeColumnName": "created_at"}}
JSON
{ cat "$IN"; echo '{"id":"x1","type":"PushEvent","created_at":"yesterday"}'; } >sdf.jsonl
"$S" segment build --schema "$SCHEMA" --table-config sdf.table.json --input sdf.jsonl --out sdf.seg \
  --name gh --rejects sdf.rej 2>sdf.log
check "a SIMPLE_DATE_FORMAT time column: the row whose created_at is \"yesterday\" is rejected (wrong_type)" \
  bash -c "grep -q 'rows=120 rejected=1' sdf.log && grep -q 'reason=wrong_type rows=1' sdf.log && grep -q yesterday sdf.rej"
check "... the other 120 rows are stored" bash -c "\"$S\" segment info sdf.seg | grep -q '\"rows\":120'"

# --- the same through a standalone sidecar, produced by kcat --------------------------------
"$S" kafka-mock --brokers 1 --topic gh:1 > boot.txt 2> mock.log &
track_pid $!
require "kafka-mock printed its bootstrap line" wait_for 10 test -s boot.txt
B=$(head -1 boot.txt)
kcat -P -b "$B" -t gh -p 0 -l "$IN" 2> kcat.log
check "kcat produced the 120 events" test $? -eq 0
cat > gh.table.json <<JSON
{"tableName": "gh", "tableType": "REALTIME",
 "segmentsConfig": {"schemaName": "githubEvents", "replication": "1"},
 "tableIndexConfig": {"noDictionaryColumns": ["payload"]},
 "ingestionConfig": {"streamIngestionConfig": {"streamConfigMaps": [{
   "streamType": "kafka", "stream.kafka.topic.name": "gh", "stream.kafka.broker.list": "$B",
   "stream.kafka.decoder.class.name": "org.apache.pinot.plugin.inputformat.json.JSONMessageDecoder",
   "stream.kafka.consumer.prop.auto.offset.reset": "smallest",
   "realtime.segment.flush.threshold.rows": "50", "realtime.segment.flush.threshold.time": "1s"}]}}}
JSON
cat > gh.conf <<CONF
cluster.name = it
instance.id = gh1
mode = standalone
http.port = 0
http.bind = 127.0.0.1
data.dir = $T_TMP/data
table.config = $T_TMP/gh.table.json
table.schema = $SCHEMA
CONF
"$S" sidecar --config gh.conf > gh.out 2> gh.log &
track_pid $!
all_published() { # the published segments end at offset 120
  local f end=0
  for f in data/gh/*.seg; do
    [ -e "$f" ] || return 1
    e=$("$S" segment info "$f" | python3 -c 'import json,sys;print(json.load(sys.stdin)["endOffset"])')
    [ "$e" -gt "$end" ] && end=$e
  done
  [ "$end" -eq 120 ]
}
wait_for 30 all_published
check "the sidecar published segments up to offset 120" all_published
: > side.jsonl
for f in $(for g in data/gh/*.seg; do echo "$("$S" segment info "$g" | python3 -c 'import json,sys;print(json.load(sys.stdin)["startOffset"])') $g"; done | sort -n | cut -d' ' -f2); do
  "$S" segment dump "$f" >> side.jsonl
done
check "the sidecar's rows, in offset order, equal the input" same_rows side.jsonl "$IN"
finish
