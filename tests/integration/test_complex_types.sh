#!/usr/bin/env bash
# complexTypeConfig with real material: Apache Pinot's githubComplexTypeEvents table config and
# schema, as they ship (they unnest payload.commits and flatten payload's fields), over the
# githubEvents sample (tests/data/github: 120 events, 58 of them with 1-20 commits, 170 rows
# in all). Through `sluice segment build` and through a standalone sidecar fed by kcat, every
# stored row is compared with a reference written from Pinot's ComplexTypeTransformer rules.
source "$(dirname "$0")/lib/harness.sh"
S=$SLUICE_BIN
P=$SLUICE_SRC/tests/data/pinot/batch/githubComplexTypeEvents
IN=$SLUICE_SRC/tests/data/github/githubEvents_2021-07-21_first120.json
cd "$T_TMP"

# The rows Pinot makes of the input (its unnest, flatten and transforms), then compared with a
# dump column by column. STRING values are cut at 512 UTF-16 units, Pinot's default maxLength.
same_as_pinot() { # same_as_pinot DUMP.jsonl
  python3 - "$1" "$IN" <<'PY'
import json, sys, datetime
got = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
want = []
def cut(s):
    if s is None: return None
    u = s.encode("utf-16-le")
    return u[:1024].decode("utf-16-le", "ignore") if len(u) > 1024 else s
for line in open(sys.argv[2], encoding="utf-8"):
    e = json.loads(line)
    p = e.get("payload") if isinstance(e.get("payload"), dict) else {}
    commits = p.get("commits")
    base = {"id": e["id"], "type": e["type"], "created_at": e["created_at"],
            "payload.push_id": p.get("push_id"), "payload.size": p.get("size"),
            "payload.distinct_size": p.get("distinct_size"), "payload.ref": cut(p.get("ref")),
            "payload.head": cut(p.get("head")), "payload.before": cut(p.get("before")),
            "head_sha": cut(p.get("head")),
            "commits_url": cut(commits[0]["url"]) if isinstance(commits, list) and commits else None,
            "created_at_timestamp": int(datetime.datetime.strptime(e["created_at"], "%Y-%m-%dT%H:%M:%SZ")
                                        .replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)}
    for c in (commits if isinstance(commits, list) and commits else [None]):
        r = dict(base)
        c = c or {}
        a = c.get("author") or {}
        r.update({"payload.commits.sha": cut(c.get("sha")), "payload.commits.message": cut(c.get("message")),
                  "payload.commits.distinct": c.get("distinct"), "payload.commits.url": cut(c.get("url")),
                  "payload.commits.author.name": cut(a.get("name")),
                  "payload.commits.author.email": cut(a.get("email"))})
        want.append((r, p))
assert len(got) == len(want) == 170, (len(got), len(want))
for i, (g, (w, p)) in enumerate(zip(got, want)):
    for k, v in w.items():
        assert g.get(k) == v, (i, k, g.get(k), v)
    assert json.loads(g["payload"]) == p, (i, "payload")      # the object stays a JSON column
    if len(g["payload_str"]) < 500:                          # jsonFormat(payload), when not cut
        assert json.loads(g["payload_str"]) == p, (i, "payload_str")
PY
}

"$S" segment build --schema "$P/githubComplexTypeEvents_schema.json" \
  --table-config "$P/githubComplexTypeEvents_offline_table_config.json" --input "$IN" \
  --out a.seg --name githubComplexTypeEvents_0 2>a.log
rc=$?
check "Pinot's githubComplexTypeEvents config builds the sample: 170 rows from 120 events (exit $rc)" \
  bash -c "[ $rc -eq 0 ] && grep -q 'rows=170 rejected=0' a.log"
"$S" segment build --schema "$P/githubComplexTypeEvents_schema.json" \
  --table-config "$P/githubComplexTypeEvents_offline_table_config.json" --input "$IN" \
  --out b.seg --name githubComplexTypeEvents_0 2>/dev/null
check "... a second build gives the same bytes" cmp -s a.seg b.seg
"$S" segment dump a.seg >a.jsonl
check "every row equals the row Pinot's unnest, flatten and transforms make" same_as_pinot a.jsonl

# ---- Pinot's testUnnest: an enricher makes a JSON text column an array, then unnested ------
U=$SLUICE_SRC/tests/data/pinot/batch/testUnnest
python3 - >u.jsonl <<'PY'
import json
for i in range(5):
    items = [{"name": f"n{i}.{j}"} for j in range(i)]   # 0 to 4 items: 0 leaves the row as it is
    print(json.dumps({"key": f"k{i}", "event_time": 1700000000000 + i,
                      "data_for_unnesting": json.dumps(items) if i != 3 else "not json"}))
PY
"$S" segment build --schema "$U/testUnnest_schema.json" --table-config "$U/testUnnest_offline_table_config.json" \
  --input u.jsonl --out u.seg --name testUnnest_0 2>u.log
check "Pinot's testUnnest builds 9 rows from 5 events: an item a row, one for none or bad JSON" \
  grep -q 'rows=9 rejected=0' u.log
"$S" segment dump u.seg >u.dump
check "... its rows: every item's name under recordArray||name, one null row for no items or bad JSON" python3 - u.dump <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
got = [(r["key"], r["recordArray||name"]) for r in rows]
want = [("k0", None), ("k1", "n1.0"), ("k2", "n2.0"), ("k2", "n2.1"), ("k3", None)] + [("k4", f"n4.{j}") for j in range(4)]
assert got == want, got
PY

# ---- the same through a standalone sidecar: a message of many rows goes in whole -----------
kmock_start ghc:1
kcat -P -b "$B" -t ghc -p 0 -l "$IN" 2>kcat.log
check "kcat produced the 120 events" test $? -eq 0
python3 - "$P/githubComplexTypeEvents_offline_table_config.json" "$B" >ghc.table.json <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
t["tableType"] = "REALTIME"
t["ingestionConfig"]["streamIngestionConfig"] = {"streamConfigMaps": [{
    "streamType": "kafka", "stream.kafka.topic.name": "ghc", "stream.kafka.broker.list": sys.argv[2],
    "stream.kafka.decoder.class.name": "org.apache.pinot.plugin.stream.kafka.KafkaJSONMessageDecoder",
    "stream.kafka.consumer.prop.auto.offset.reset": "smallest",
    "realtime.segment.flush.threshold.rows": "40", "realtime.segment.flush.threshold.time": "1s"}]}
print(json.dumps(t))
PY
cat >ghc.conf <<CONF
cluster.name = it
instance.id = ghc1
mode = standalone
http.port = 0
http.bind = 127.0.0.1
data.dir = $T_TMP/data
table.config = $T_TMP/ghc.table.json
table.schema = $P/githubComplexTypeEvents_schema.json
CONF
"$S" sidecar --config ghc.conf >ghc.out 2>ghc.log &
track_pid $!
ends_at() { # ends_at N: the published segments reach offset N
  local f e end=0
  for f in data/githubComplexTypeEvents/*.seg; do
    [ -e "$f" ] || return 1
    e=$("$S" segment info "$f" | python3 -c 'import json,sys;print(json.load(sys.stdin)["endOffset"])')
    [ "$e" -gt "$end" ] && end=$e
  done
  [ "$end" -eq "$1" ]
}
wait_for 30 ends_at 120
check "the sidecar published segments up to offset 120" ends_at 120
: >side.jsonl
for f in $(for g in data/githubComplexTypeEvents/*.seg; do echo "$("$S" segment info "$g" | python3 -c 'import json,sys;print(json.load(sys.stdin)["startOffset"])') $g"; done | sort -n | cut -d' ' -f2); do
  "$S" segment dump "$f" >>side.jsonl
done
check "the sidecar's rows, in offset order, equal Pinot's" same_as_pinot side.jsonl
check "no segment splits an event's rows: each segment's rows are whole events" python3 - data/githubComplexTypeEvents "$S" <<'PY'
import json, os, subprocess, sys
d, s = sys.argv[1:3]
for f in os.listdir(d):
    if not f.endswith(".seg"): continue
    info = json.loads(subprocess.check_output([s, "segment", "info", os.path.join(d, f)]))
    rows = [json.loads(l) for l in subprocess.check_output([s, "segment", "dump", os.path.join(d, f)]).decode().splitlines()]
    ids = [r["id"] for r in rows]
    assert len(set(ids)) == info["endOffset"] - info["startOffset"], (f, len(set(ids)), info)
PY
finish
