#!/usr/bin/env bash
# Apache Pinot's own example tables (tests/data/pinot, copied unchanged) as a user brings them:
# each table config with its schema either loads as is and builds a segment, or is refused
# naming the unsupported feature tests/data/pinot/EXPECTED.tsv records for it (so the list of
# what does not load is kept honest: a config that starts to load, or fails for another
# reason, fails this test). Then Pinot's githubEvents stream table, with its transform
# fromDateTime(created_at, 'yyyy-MM-dd''T''HH:mm:ssZ'), built from the first 120 lines of
# Pinot's sample data: every row's created_at_timestamp is the instant its created_at names.
source "$(dirname "$0")/lib/harness.sh"
S=$SLUICE_BIN
P=$SLUICE_SRC/tests/data/pinot
cd "$T_TMP"
: >empty.json

loads=0 total=0
while IFS=$'\t' read -r cfg want why; do
  total=$((total + 1))
  d=$(dirname "$P/$cfg")
  sch=$(ls "$d"/*schema*.json 2>/dev/null | head -1)
  [ -n "$sch" ] || sch=$(ls "$d"/../*schema*.json | head -1)
  "$S" segment build --schema "$sch" --table-config "$P/$cfg" --input empty.json --out x.seg >out.txt 2>&1
  rc=$?
  if [ "$want" = loads ]; then
    loads=$((loads + 1))
    check "$cfg: loads as is and builds (exit $rc)" test $rc -eq 0
  else
    check "$cfg: refused (exit $rc), naming $why" bash -c "[ $rc -ne 0 ] && grep -qF -- '$why' out.txt"
  fi
done <"$P/EXPECTED.tsv"
check "every example table config is listed ($total of them)" \
  test "$total" -eq "$(cd "$P" && find . -name '*table_config*.json' | wc -l)"
echo "# $loads of $total Pinot example table configs load as they are"

# githubEvents (stream): Pinot's config, schema and sample rows
G=$P/stream/githubEvents
"$S" segment build --schema "$G/githubEvents_schema.json" --table-config "$G/githubEvents_realtime_table_config.json" \
  --input "$SLUICE_SRC/tests/data/github/githubEvents_2021-07-21_first120.json" --name gh --out gh.seg >gh.out 2>&1
check "githubEvents: Pinot's stream table builds from its sample data (120 rows)" grep -q "rows=120 rejected=0" gh.out
"$S" segment dump gh.seg >gh.jsonl
check "githubEvents: created_at_timestamp is fromDateTime(created_at) on every row" python3 - gh.jsonl <<'PY'
import json, sys, datetime
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 120
for r in rows:
    want = int(datetime.datetime.strptime(r["created_at"], "%Y-%m-%dT%H:%M:%S%z").timestamp() * 1000)
    assert r["created_at_timestamp"] == want, (r, want)
PY
"$S" segment build --schema "$G/githubEvents_schema.json" --table-config "$G/githubEvents_realtime_table_config.json" \
  --input "$SLUICE_SRC/tests/data/github/githubEvents_2021-07-21_first120.json" --name gh --out gh2.seg >/dev/null 2>&1
check "githubEvents: the same rows build the same bytes" cmp -s gh.seg gh2.seg
# githubEvents (batch): actor, repo and payload are JSON columns. Each stores the canonical
# text of the input's object (Jackson's: compact, keys sorted as Pinot writes a map, "\/" unescaped, numbers as
# Java prints them): the same value as the input, with no whitespace outside strings.
B=$P/batch/githubEvents
"$S" segment build --schema "$B/githubEvents_schema.json" --table-config "$B/githubEvents_offline_table_config.json" \
  --input "$SLUICE_SRC/tests/data/github/githubEvents_2021-07-21_first120.json" --name ghb --out ghb.seg >ghb.out 2>&1
check "githubEvents batch: JSON columns load and build from the sample (120 rows)" grep -q "rows=120 rejected=0" ghb.out
"$S" segment dump ghb.seg >ghb.jsonl
check "githubEvents batch: every JSON column holds its input object, canonical" python3 - ghb.jsonl \
  "$SLUICE_SRC/tests/data/github/githubEvents_2021-07-21_first120.json" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
src = [json.loads(l) for l in open(sys.argv[2])]
assert len(rows) == len(src) == 120
for r, m in zip(rows, src):
    for col in ("actor", "repo", "payload"):
        text = r[col]
        assert json.loads(text) == m[col], (col, text[:80])
        # compact, keys sorted (a map), non-ASCII as UTF-8: what json.dumps writes so
        assert text == json.dumps(m[col], separators=(",", ":"), ensure_ascii=False, sort_keys=True), (col, text[:120])
PY
# billing (batch): ten BIG_DECIMAL metrics. Values given as strings keep every digit and their
# scale; the dump shows each as Java's BigDecimal text.
BL=$P/batch/billing
python3 - >billing.jsonl <<'PY'
import json
money = ["0.00", "1234567890123456789.987654321", "-0.05", "100", "7.10", "0.000000001", "3",
         "42.4242", "-99999999999999999999.99", "1.50"]
names = ["overdueBalance", "baseUsage", "alternateUsage", "standingCharge", "baseCharge",
         "alternateCharge", "levy", "tax", "totalNet", "totalToPay"]
for i in range(3):
    row = {"customerId": i, "city": "Leeds", "billingMonth": "2024-0%d" % (i + 1)}
    row.update({n: money[(k + i) % len(money)] for k, n in enumerate(names)})
    print(json.dumps(row))
PY
"$S" segment build --schema "$BL/billing_schema.json" --table-config "$BL/billing_offline_table_config.json" \
  --input billing.jsonl --name billing --out billing.seg >billing.out 2>&1
check "billing: BIG_DECIMAL metrics build from decimal strings (3 rows)" grep -q "rows=3 rejected=0" billing.out
"$S" segment dump billing.seg >billing.dump.jsonl
check "billing: every BIG_DECIMAL is stored exactly, its scale kept" python3 - billing.jsonl billing.dump.jsonl <<'PY'
import json, sys
src = [json.loads(l) for l in open(sys.argv[1])]
got = [json.loads(l) for l in open(sys.argv[2])]
assert len(got) == 3
for s, g in zip(src, got):
    for k, v in s.items():
        if k in ("customerId", "city", "billingMonth"):
            continue
        want = v
        if "E" not in want and want.startswith("0.0000000"):  # Java prints tiny values scientifically
            want = "1E-9"
        assert g[k] == want, (k, g[k], want)
PY
# dailySales (stream): Pinot's ingestion aggregation (aggregationConfigs SUM(price) and COUNT(*)
# over product_name and daysSinceEpoch = toEpochDays(timestamp)), from Pinot's 10 sample rows:
# built from the file, then consumed from Kafka by a standalone sidecar in 4-message segments
DS=$P/stream/dailySales
cat >ds_expect.py <<'PYX'
import json
def groups(rows):  # Pinot's rollup: first-seen order, metrics summed, one row per key
    out = {}
    for r in rows:
        k = (r["product_name"], r["timestamp"] // 86400000)
        g = out.setdefault(k, {"product_name": k[0], "sales_count": 0, "total_sales": 0.0, "daysSinceEpoch": k[1]})
        g["sales_count"] += 1
        g["total_sales"] += r["price"]
    return list(out.values())
def same(got, want):
    assert len(got) == len(want), (got, want)
    for g, w in zip(got, want):
        assert (g["product_name"], g["sales_count"], g["daysSinceEpoch"]) == (w["product_name"], w["sales_count"], w["daysSinceEpoch"]), (g, w)
        assert abs(g["total_sales"] - w["total_sales"]) < 1e-9, (g, w)
PYX
"$S" segment build --schema "$DS/dailySales_schema.json" --table-config "$DS/dailySales_realtime_table_config.json" \
  --input "$DS/rawdata/dailySales.json" --name ds --out ds.seg >ds.out 2>&1
check "dailySales: Pinot's 10 sample rows build, aggregated to 6" grep -q "rows=10 rejected=0 aggregated_to=6" ds.out
"$S" segment dump ds.seg >ds.jsonl
check "dailySales: one row per (product_name, day), total_sales = SUM(price), sales_count = COUNT(*)" \
  python3 -c "
import json, sys; sys.path.insert(0, '.'); from ds_expect import groups, same
same([json.loads(l) for l in open('ds.jsonl')], groups([json.loads(l) for l in open('$DS/rawdata/dailySales.json')]))"

"$S" kafka-mock --brokers 1 --topic dailySales:1 --topic ds2:2 >ds.boot 2>ds.mock.log &
track_pid $!
wait_for 10 test -s ds.boot
DB=$(head -1 ds.boot)
python3 - "$DS/dailySales_realtime_table_config.json" "$DB" >ds.table.json <<'PYX'
import json, sys
t = json.load(open(sys.argv[1]))
m = t["ingestionConfig"]["streamIngestionConfig"]["streamConfigMaps"][0]
m["stream.kafka.broker.list"] = sys.argv[2]
del m["realtime.segment.flush.threshold.size"]
m["realtime.segment.flush.threshold.rows"] = "4"  # messages: the rollup makes fewer rows
json.dump(t, sys.stdout)
PYX
kcat -P -b "$DB" -t dailySales -p 0 -l "$DS/rawdata/dailySales.json" 2>ds.kcat.err
check "dailySales: Pinot's 10 sample rows produced to Kafka (kcat)" test $? -eq 0
"$S" sidecar --set cluster.name=it --set instance.id=sa-ds --set mode=standalone --set http.port=0 \
  --set http.bind=127.0.0.1 --set data.dir="$T_TMP/ds" --set table.config="$T_TMP/ds.table.json" \
  --set table.schema="$DS/dailySales_schema.json" >ds.side.log 2>&1 &
DSP=$!
track_pid $DSP
wait_for 30 bash -c "[ \$(ls $T_TMP/ds/dailySales/*.seg 2>/dev/null | wc -l) -ge 2 ]"
check "dailySales: the sidecar published two segments of 4 messages each" \
  bash -c "[ \$(ls $T_TMP/ds/dailySales/*.seg 2>/dev/null | wc -l) -ge 2 ]"
for seq in 0 1; do
  f=$(ls "$T_TMP"/ds/dailySales/dailySales__0__${seq}__*.seg 2>/dev/null | head -1)
  "$S" segment dump "$f" >ds$seq.jsonl 2>/dev/null
  "$S" segment info "$f" >ds$seq.info 2>/dev/null
  check "dailySales: segment $seq (offsets $((seq * 4)) to $((seq * 4 + 4))) holds its 4 messages rolled up" \
    python3 -c "
import json, sys; sys.path.insert(0, '.'); from ds_expect import groups, same
raw = [json.loads(l) for l in open('$DS/rawdata/dailySales.json')][$((seq * 4)):$((seq * 4 + 4))]
got = [json.loads(l) for l in open('ds$seq.jsonl')]
same(got, groups(raw))
i = json.load(open('ds$seq.info'))
assert (i['startOffset'], i['endOffset'], i['rows']) == ($((seq * 4)), $((seq * 4 + 4)), len(got)), i"
done
kill_child -TERM $DSP
wait_exit 20 $DSP

# ... and on three replicas of a cluster: the rollup is the same bytes on each (KEEP compares
# their CRC with the committer's)
source "$SLUICE_SRC/tests/integration/lib/zk.sh"
source "$SLUICE_SRC/tests/integration/lib/cluster.sh"
if zk_start "$T_TMP/zk"; then
  common="--set cluster.name=ds --set zk.connect=$ZK_CONNECT --set http.bind=127.0.0.1"
  start_ctl c1
  require "c1 leads" wait_for 15 is_leader "$CURL"
  for i in 1 2 3; do start_sidecar $i; done
  python3 - ds.table.json >ds3.table.json <<'PYX'
import json, sys
t = json.load(open(sys.argv[1]))
t["segmentsConfig"]["replication"] = "3"
json.dump(t, sys.stdout)
PYX
  "$S" table add --controller "$CURL" --table-config ds3.table.json --schema "$DS/dailySales_schema.json" >ds3.add 2>&1
  check "dailySales: added to a cluster, replication 3" test $? -eq 0
  wait_for 30 published_to dailySales 0:8
  check "dailySales: every replica published segments 0 and 1 (offsets 0 to 8)" test $? -eq 0
  check "dailySales: the three replicas' rollups are byte-identical" identical dailySales
  "$S" table segments --controller "$CURL" --table dailySales >ds3.json
  check "dailySales: the committed numRows are the rolled-up rows (3 and 3 of 4 messages each)" python3 -c "
import json
s = sorted((x for x in json.load(open('ds3.json')) if x['status'] == 'DONE'), key=lambda x: x['sequence'])
assert [(x['startOffset'], x['endOffset'], x['numRows']) for x in s[:2]] == [(0, 4, 3), (4, 8, 3)], s"
  # stream.kafka.partition.ids on a cluster: the same table over partition 1 of a 2-partition
  # topic; partition 0 has messages too, and nothing consumes them
  python3 - ds3.table.json >dsp.table.json <<'PYX'
import json, sys
t = json.load(open(sys.argv[1]))
t["tableName"] = "dsp"
m = t["ingestionConfig"]["streamIngestionConfig"]["streamConfigMaps"][0]
m["stream.kafka.topic.name"] = "ds2"
m["stream.kafka.partition.ids"] = "1"
json.dump(t, sys.stdout)
PYX
  sed 's/"schemaName": *"dailySales"/"schemaName": "dsp"/' "$DS/dailySales_schema.json" >dsp.schema.json
  kcat -P -b "$DB" -t ds2 -p 1 -l "$DS/rawdata/dailySales.json" 2>>ds.kcat.err
  kcat -P -b "$DB" -t ds2 -p 0 -l "$DS/rawdata/dailySales.json" 2>>ds.kcat.err
  "$S" table add --controller "$CURL" --table-config dsp.table.json --schema dsp.schema.json >dsp.add 2>&1
  check "stream.kafka.partition.ids \"1\": the cluster takes the table" test $? -eq 0
  wait_for 30 published_to dsp 1:8
  check "... every replica publishes partition 1's segments" test $? -eq 0
  "$S" table segments --controller "$CURL" --table dsp >dsp.json
  check "... and partition 0 has no segment" python3 -c "
import json
s = json.load(open('dsp.json'))
assert s and all(x['partition'] == 1 for x in s), s"
  "$S" audit --zk "$ZK_CONNECT" --cluster ds --table dsp >dsp.audit 2>&1
  rc=$?
  check "... sluice audit: no violation, partition 0 not expected (exit $rc)" test $rc -eq 0
  [ $rc -eq 0 ] || cat dsp.audit
else
  not_ok "zookeeper did not start"
fi
finish
