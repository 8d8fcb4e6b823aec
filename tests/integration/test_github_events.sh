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
check "... and the segment's time range is created_at's earliest and latest instant, in ms" \
  python3 - sdf.seg "$IN" "$S" <<'PY'
import datetime, json, subprocess, sys
info = json.loads(subprocess.check_output([sys.argv[3], "segment", "info", sys.argv[1]]))
ms = [int(datetime.datetime.strptime(json.loads(l)["created_at"], "%Y-%m-%dT%H:%M:%SZ")
          .replace(tzinfo=datetime.timezone.utc).timestamp() * 1000) for l in open(sys.argv[2])]
assert info["timeRange"] == {"min": min(ms), "max": max(ms)}, (info["timeRange"], min(ms), max(ms))
PY

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
all_published() { # all_published DIR: the segments published in DIR end at offset 120
  local f end=0
  for f in "$1"/*.seg; do
    [ -e "$f" ] || return 1
    e=$("$S" segment info "$f" | python3 -c 'import json,sys;print(json.load(sys.stdin)["endOffset"])')
    [ "$e" -gt "$end" ] && end=$e
  done
  [ "$end" -eq 120 ]
}
wait_for 30 all_published data/gh
check "the sidecar published segments up to offset 120" all_published data/gh
: > side.jsonl
for f in $(for g in data/gh/*.seg; do echo "$("$S" segment info "$g" | python3 -c 'import json,sys;print(json.load(sys.stdin)["startOffset"])') $g"; done | sort -n | cut -d' ' -f2); do
  "$S" segment dump "$f" >> side.jsonl
done
check "the sidecar's rows, in offset order, equal the input" same_rows side.jsonl "$IN"

# --- Kafka metadata columns, a JSON column and a filter on the consuming path -----------------
# stream.kafka.metadata.populate: __key, __metadata$offset, __metadata$recordTimestamp,
# __metadata$partition, __metadata$recordSerializedValueSize and __header$trace take what Kafka
# holds for each message (read back with kcat), actor is a JSON column, and the
# filterConfig drops the PushEvents (their offsets are consumed all the same).
"$S" kafka-mock --brokers 1 --topic ghm:1 > bootm.txt 2> mockm.log &
track_pid $!
require "a second kafka-mock printed its bootstrap line" wait_for 10 test -s bootm.txt
BM=$(head -1 bootm.txt)
python3 - "$IN" >keyed.txt <<'PY'
import json, sys
for i, l in enumerate(open(sys.argv[1], encoding="utf-8")):
    e = json.loads(l)
    key = "" if i % 10 == 9 else e["id"]   # every tenth message with an empty key
    print(key + "\t" + l.rstrip("\n"))
PY
# the first half with one trace header, the second with two (the last one is the row's) and no
# header at all for a message in between
head -60 keyed.txt > keyed1.txt
sed -n 61p keyed.txt > keyed2.txt
tail -n +62 keyed.txt > keyed3.txt
kcat -P -b "$BM" -t ghm -p 0 -K $'\t' -H trace=first -l keyed1.txt 2> kcatm.log &&
  kcat -P -b "$BM" -t ghm -p 0 -K $'\t' -l keyed2.txt 2>> kcatm.log &&
  kcat -P -b "$BM" -t ghm -p 0 -K $'\t' -H trace=x -H trace=second -l keyed3.txt 2>> kcatm.log
check "kcat produced 120 keyed events" test $? -eq 0
cat > ghm.schema.json <<'JSON'
{"schemaName": "ghm", "dimensionFieldSpecs": [
  {"name": "__key", "dataType": "STRING"}, {"name": "__metadata$offset", "dataType": "LONG"},
  {"name": "__metadata$recordTimestamp", "dataType": "LONG"}, {"name": "id", "dataType": "STRING"},
  {"name": "__metadata$partition", "dataType": "INT"}, {"name": "__header$trace", "dataType": "STRING"},
  {"name": "__metadata$recordSerializedValueSize", "dataType": "INT"},
  {"name": "type", "dataType": "STRING"}, {"name": "actor", "dataType": "JSON"}]}
JSON
sed -e 's/"gh"/"ghm"/g' -e 's/"githubEvents"/"ghm"/' -e "s/$B/$BM/" \
  -e 's/\["payload"\]/["actor"]/' -e 's/"realtime.segment.flush.threshold.rows"/"stream.kafka.metadata.populate": "true", "realtime.segment.flush.threshold.rows"/' \
  -e 's/"ingestionConfig": {/"ingestionConfig": {"filterConfig": {"filterFunction": "\\"type\\" = '"'PushEvent'"'"}, /' \
  gh.table.json >ghm.table.json
sed -e 's/instance.id = gh1/instance.id = ghm1/' -e "s#data.dir = .*#data.dir = $T_TMP/datam#" \
  -e "s#table.config = .*#table.config = $T_TMP/ghm.table.json#" \
  -e "s#table.schema = .*#table.schema = $T_TMP/ghm.schema.json#" gh.conf >ghm.conf
"$S" sidecar --config ghm.conf > ghm.out 2> ghm.log &
track_pid $!
wait_for 30 all_published datam/ghm
check "metadata table: segments up to offset 120" all_published datam/ghm
: > m.jsonl
for f in datam/ghm/*.seg; do "$S" segment dump "$f" >> m.jsonl; done
kcat -C -b "$BM" -t ghm -p 0 -o beginning -e -f '%o\t%k\t%T\t%S\t%h\n' > kcat_meta.txt 2>/dev/null
PORTM=$(grep -o 'http=127.0.0.1:[0-9]*' ghm.log | tail -1 | cut -d: -f2)
PUSH=$(grep -c '"type":"PushEvent"' "$IN")
check "the filter's count is exported: sluice_rows_filtered_total = $PUSH PushEvents" \
  bash -c "curl -s 127.0.0.1:$PORTM/metrics | grep -qx 'sluice_rows_filtered_total{table=\"ghm\",partition=\"0\"} $PUSH'"
check "every kept row's __key, __metadata\$offset, recordTimestamp, partition, recordSerializedValueSize and __header\$trace (hex of the last trace header) are Kafka's, actor is canonical JSON; no PushEvent stored" \
  python3 - m.jsonl kcat_meta.txt "$IN" <<'PY'
import json, sys
rows = {r["__metadata$offset"]: r for r in map(json.loads, open(sys.argv[1], encoding="utf-8"))}
meta = [l.rstrip("\n").split("\t") for l in open(sys.argv[2], encoding="utf-8")]
src = [json.loads(l) for l in open(sys.argv[3], encoding="utf-8")]
assert len(meta) == 120, len(meta)
kept = [i for i, e in enumerate(src) if e["type"] != "PushEvent"]
assert 0 < len(kept) < 120 and sorted(rows) == kept, (len(rows), len(kept))
for off, key, ts, size, hdrs in meta:
    if int(off) not in rows:
        continue
    r = rows[int(off)]
    # kcat prints an empty key and a missing key alike; Pinot reads an empty key as ""
    assert (r["__key"] or "") == key, (off, r["__key"], key)
    assert r["__metadata$recordTimestamp"] == int(ts), (off, r, ts)
    assert r["__metadata$partition"] == 0 and r["__metadata$recordSerializedValueSize"] == int(size), (off, r, size)
    traces = [h.split("=", 1)[1] for h in hdrs.split(",") if h.startswith("trace=")]
    want = traces[-1].encode().hex() if traces else None
    assert r["__header$trace"] == want, (off, r["__header$trace"], hdrs)
    assert want == {True: "first", False: "second"}[int(off) < 60].encode().hex() or (int(off) == 60 and want is None), (off, hdrs)
    e = src[int(off)]
    assert r["id"] == e["id"]
    assert r["actor"] == json.dumps(e["actor"], separators=(",", ":"), ensure_ascii=False, sort_keys=True)
PY
finish
