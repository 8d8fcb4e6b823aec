#!/usr/bin/env bash
# Backfill with lineage and hybrid tables (DESIGN §10, docs/batch.md "Backfill with lineage",
# "Hybrid tables"), on ZooKeeper, kafka-mock, a controller and two sidecars:
#   - billing (Apache Pinot's example, OFFLINE, replication 2) pushed as 3 segments, then
#     backfilled with 2 (`sluice push --replace`): no stale segment is left anywhere (listing,
#     store, sidecars) and the sidecars' rows are the backfill's;
#   - while a replacement is IN_PROGRESS readers see only the old segments (the new ones are
#     staged on the sidecars, not served); a controller killed between start and end loses
#     nothing: after its restart the end switches;
#   - a revert leaves the old segments and removes the new; a push that fails inside
#     `--replace` reverts; a client that died after start is recovered by running the same
#     push again (forceCleanup);
#   - airlineStats (Pinot's hybrid example): its OFFLINE half from the two Avro days, the time
#     boundary as Pinot's broker computes it, `--replace-time-range` of one day, and an
#     uploaded-realtime segment in the REALTIME half beside its consuming segment.
source "$(dirname "$0")/lib/harness.sh"
source "$(dirname "$0")/lib/zk.sh"
source "$(dirname "$0")/lib/cluster.sh"
P=$SLUICE_SRC/tests/data/pinot
PY=/usr/bin/python3
cd "$T_TMP"

zk_start "$T_TMP/zk" || { not_ok "zookeeper did not start"; finish; exit 1; }
kmock_start flights-realtime:1
common="--set cluster.name=bf --set zk.connect=$ZK_CONNECT --set http.bind=127.0.0.1"
CTL_SETS="--set repair.interval=1s"
start_ctl c1
require "c1 leads" wait_for 15 is_leader "$CURL"
start_sidecar 1
start_sidecar 2

B_SCHEMA=$P/batch/billing/billing_schema.json
$PY - "$P/batch/billing/billing_offline_table_config.json" billing.json <<'PY'
import json, sys
t = json.load(open(sys.argv[1])); t["segmentsConfig"]["replication"] = "2"
json.dump(t, open(sys.argv[2], "w"))
PY
"$S" table add --controller "$CURL" --table-config billing.json --schema "$B_SCHEMA" >add.out 2>&1
require "the billing OFFLINE table is created" grep -q '"billing_OFFLINE"' add.out

# the first run: 3 files; the backfill of the same data: 2 files, every city renamed
$PY - "$P/batch/billing/rawdata/billing_data.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
head, body = rows[0], [r for r in rows[1:] if len(r) == len(rows[0])]
ci = head.index("city")
def write(name, part):
    with open(name, "w", newline="") as f:
        w = csv.writer(f); w.writerow(head); w.writerows(part)
for i in range(3):
    write(f"run{i}.csv", body[i::3])
fixed = [r[:ci] + ["Backfilled " + r[ci]] + r[ci + 1:] for r in body]
for i in range(2):
    write(f"bf{i}.csv", fixed[i::2])
write("bad.csv", fixed[:5])
PY
build() { # build CSV NAME DIR
  mkdir -p "$3" && "$S" segment build --schema "$B_SCHEMA" --table-config billing.json \
    --input "$1" --out "$3/$2.seg" --name "$2" 2>>build.err
}
for i in 0 1 2; do build run$i.csv billing_$i run; done
for i in 0 1; do build bf$i.csv billing_bf_$i bf; done
for i in 0 1; do build bf$i.csv billing_re_$i re; done
build bf0.csv billing_rv_0 rv
build bf0.csv billing_cr_0 cr
require "the segments of the run and of the backfills are built" \
  bash -c "test \$(ls run/*.seg bf/*.seg re/*.seg rv/*.seg cr/*.seg | wc -l) -eq 9"
"$S" push --controller "$CURL" --table billing run >run.out 2>run.err
require "the first run: 3 segments pushed" bash -c "test \$(grep -c '^pushed ' run.out) -eq 3"

served() { # served NAME...: the listing serves exactly these, ONLINE on both sidecars, whose
  # data dirs hold exactly these files (and no staged ones)
  curl -sf "$CURL/tables/billing_OFFLINE/segments" >segs.json || return 1
  $PY - segs.json "$@" <<'PY'
import glob, json, os, sys
segs, want = json.load(open(sys.argv[1])), sorted(sys.argv[2:])
on = sorted(s["segment"] for s in segs if set(s["replicas"].values()) == {"ONLINE"} and len(s["replicas"]) == 2)
assert on == want, (on, want)
for n in (1, 2):
    files = sorted(os.path.basename(f)[:-4] for f in glob.glob(f"s{n}/billing_OFFLINE/*.seg"))
    assert files == want, (n, files, want)
PY
}
rows_are() { # rows_are CSV... : the rows both sidecars serve are those of these files
  $PY - "$S" "$@" <<'PY'
import csv, glob, json, subprocess, sys
S, files = sys.argv[1], sys.argv[2:]
want = sorted((r["customerId"], r["city"]) for f in files for r in csv.DictReader(open(f, newline="")))
for n in (1, 2):
    got = []
    for seg in glob.glob(f"s{n}/billing_OFFLINE/*.seg"):
        for l in subprocess.check_output([S, "segment", "dump", seg]).decode().splitlines():
            r = json.loads(l); got.append((str(r["customerId"]), r["city"]))
    assert sorted(got) == want, (n, len(got), len(want))
PY
}
gone() { # gone NAME...: no record and no store copy
  for s in "$@"; do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$CURL/tables/billing_OFFLINE/segments/$s")" = 404 ] || return 1
    [ ! -e "c1/billing_OFFLINE/$s.seg" ] || return 1
  done
}
nostaged() { ! ls s1/billing_OFFLINE/*.staged s2/billing_OFFLINE/*.staged >/dev/null 2>&1; }
export -f served rows_are gone nostaged # for the checks that combine them in bash -c
export CURL PY S
check "the first run is served by both sidecars" wait_for 20 served billing_0 billing_1 billing_2
check "... with its rows" rows_are run0.csv run1.csv run2.csv

# ---- a replacement in progress: readers see the old; the controller dies between start and end
curl -sf -X POST "$CURL/segments/billing/startReplaceSegments?type=OFFLINE" \
  -d '{"segmentsFrom":["billing_0","billing_1","billing_2"],"segmentsTo":["billing_bf_0","billing_bf_1"]}' >start.json
ID=$($PY -c 'import json,sys; print(json.load(open("start.json"))["segmentLineageEntryId"])' 2>/dev/null)
require "startReplaceSegments answers an entry id" test -n "$ID"
"$S" push --controller "$CURL" --table billing bf >bf.out 2>bf.err
check "the backfill's segments are pushed" bash -c "test \$(grep -c '^pushed ' bf.out) -eq 2"
staged() {
  for n in 1 2; do
    for i in 0 1; do test -s "s$n/billing_OFFLINE/billing_bf_$i.seg.staged" || return 1; done
  done
  curl -sf "$CURL/tables/billing_OFFLINE/segments" | $PY -c '
import json, sys
s = {x["segment"]: x for x in json.load(sys.stdin)}
assert all(set(s[f"billing_bf_{i}"]["replicas"].values()) == {"STAGED"} for i in (0, 1))'
}
check "IN_PROGRESS: the new segments are staged on both sidecars, reported STAGED" wait_for 20 staged
check "IN_PROGRESS: readers still see exactly the old segments and rows" \
  bash -c "served billing_0 billing_1 billing_2 && rows_are run0.csv run1.csv run2.csv"
check "GET /segments/billing/lineage shows the entry IN_PROGRESS" \
  bash -c "curl -sf '$CURL/segments/billing/lineage?type=OFFLINE' | grep -q '\"$ID\":{\"state\":\"IN_PROGRESS\"'"
check "a second start overlapping it without forceCleanup: 409" \
  bash -c "curl -s -o /dev/null -w '%{http_code}' -X POST '$CURL/segments/billing/startReplaceSegments?type=OFFLINE' \
    -d '{\"segmentsFrom\":[\"billing_0\"],\"segmentsTo\":[\"billing_x\"]}' | grep -qx 409"
check "start with a segmentsFrom that is not served: 400" \
  bash -c "curl -s -o /dev/null -w '%{http_code}' -X POST '$CURL/segments/billing/startReplaceSegments?type=OFFLINE' \
    -d '{\"segmentsFrom\":[\"nosuch\"],\"segmentsTo\":[\"billing_y\"]}' | grep -qx 400"
check "start with a body that is not JSON: 400" \
  bash -c "curl -s -o /dev/null -w '%{http_code}' -X POST '$CURL/segments/billing/startReplaceSegments?type=OFFLINE' -d 'nope' | grep -qx 400"
check "end of an unknown entry: 404" \
  bash -c "curl -s -o /dev/null -w '%{http_code}' -X POST '$CURL/segments/billing/endReplaceSegments?type=OFFLINE&segmentLineageEntryId=0123456789abcdef0123456789abcdef' | grep -qx 404"
signal -KILL "$CPID"
wait "$CPID" 2>/dev/null
start_ctl c1
require "c1, restarted after kill -9, leads" wait_for 15 is_leader "$CURL"
check "the replacement survived the controller's death, still IN_PROGRESS, readers unchanged" \
  bash -c "curl -sf '$CURL/segments/billing/lineage' | grep -q '\"$ID\":{\"state\":\"IN_PROGRESS\"' && served billing_0 billing_1 billing_2"
check "endReplaceSegments: 200 COMPLETED" \
  bash -c "curl -sf -X POST '$CURL/segments/billing/endReplaceSegments?type=OFFLINE&segmentLineageEntryId=$ID' | grep -q COMPLETED"
check "... repeated (a retry whose reply was lost): 200" \
  bash -c "curl -sf -X POST '$CURL/segments/billing/endReplaceSegments?type=OFFLINE&segmentLineageEntryId=$ID' | grep -q COMPLETED"
check "after the switch both sidecars serve only the 2 backfill segments (fewer files: nothing stale)" \
  wait_for 20 served billing_bf_0 billing_bf_1
check "... and their rows are the backfill's" rows_are bf0.csv bf1.csv
check "the replaced segments' records and store copies are deleted" wait_for 10 gone billing_0 billing_1 billing_2
check "a revert of the completed entry: 409" \
  bash -c "curl -s -o /dev/null -w '%{http_code}' -X POST '$CURL/segments/billing/revertReplaceSegments?type=OFFLINE&segmentLineageEntryId=$ID' | grep -qx 409"

# ---- sluice push --replace: the whole protocol from the CLI ----
"$S" push --controller "$CURL" --table billing --type OFFLINE --replace billing_bf_0,billing_bf_1 re >re.out 2>re.err
check "push --replace: pushed and COMPLETED" bash -c "grep -q 'COMPLETED' re.out && test \$(grep -c '^pushed ' re.out) -eq 2"
check "... served alone" wait_for 20 served billing_re_0 billing_re_1

# ---- a revert: the new segment goes, the old stay ----
curl -sf -X POST "$CURL/segments/billing/startReplaceSegments?type=OFFLINE" \
  -d '{"segmentsFrom":["billing_re_0","billing_re_1"],"segmentsTo":["billing_rv_0"]}' >rv.json
RV=$($PY -c 'import json; print(json.load(open("rv.json"))["segmentLineageEntryId"])' 2>/dev/null)
"$S" push --controller "$CURL" --table billing rv >rvp.out 2>rvp.err
check "revert: the new segment is staged" wait_for 20 test -s s1/billing_OFFLINE/billing_rv_0.seg.staged
check "revertReplaceSegments: 200 REVERTED" \
  bash -c "curl -sf -X POST '$CURL/segments/billing/revertReplaceSegments?type=OFFLINE&segmentLineageEntryId=$RV' | grep -q REVERTED"
check "after the revert: the old segments are served, the new one is gone (record, store, staged files)" \
  wait_for 20 bash -c "served billing_re_0 billing_re_1 && gone billing_rv_0 && nostaged"
check "... rows unchanged" rows_are bf0.csv bf1.csv
"$S" push --controller "$CURL" --table billing --attempts 1 rv >rvagain.out 2>rvagain.err
check "a push of a name the revert dropped: 409, never served" \
  bash -c "grep -q 'HTTP 409.*reverted by lineage entry $RV' rvagain.err && gone billing_rv_0"
build bf0.csv lineage reserved
"$S" push --controller "$CURL" --table billing --attempts 1 reserved >res.out 2>res.err
check "a segment named lineage (GET /segments/<t>/lineage's name): 400" grep -q 'HTTP 400.*reserved' res.err

# ---- a failed push inside --replace reverts ----
build bad.csv billing_bad_0 trunc
head -c 3000 trunc/billing_bad_0.seg >trunc/billing_bad_1.seg
rm trunc/billing_bad_0.seg
"$S" push --controller "$CURL" --table billing --attempts 1 --replace billing_re_0,billing_re_1 trunc >trunc.out 2>trunc.err
rc=$?
check "push --replace with a truncated file: exit 2 before anything starts" \
  bash -c "test $rc -eq 2 && ! grep -q 'lineage entry' trunc.err"
build bad.csv billing_bad_0 badrun
sed 's/"billing"/"other"/' billing.json >other.json
"$S" segment build --schema "$B_SCHEMA" --table-config other.json --input bad.csv \
  --out badrun/billing_bad_1.seg --name billing_bad_1 2>>build.err
"$S" push --controller "$CURL" --table billing --attempts 1 --replace billing_re_0,billing_re_1 badrun >fail.out 2>fail.err
rc=$?
check "push --replace where the controller refuses a file (another table's): exit 1, reverted" \
  bash -c "test $rc -eq 1 && grep -q 'HTTP 400' fail.err && grep -q 'reverted, nothing replaced' fail.err"
check "... nothing replaced, nothing half-visible" \
  wait_for 20 bash -c "served billing_re_0 billing_re_1 && gone billing_bad_0 && nostaged"

# ---- a client that died after start: the same push again recovers ----
curl -sf -X POST "$CURL/segments/billing/startReplaceSegments?type=OFFLINE" \
  -d '{"segmentsFrom":["billing_re_0","billing_re_1"],"segmentsTo":["billing_cr_0"]}' >cr.json
CR=$($PY -c 'import json; print(json.load(open("cr.json"))["segmentLineageEntryId"])' 2>/dev/null)
"$S" push --controller "$CURL" --table billing cr >crp.out 2>crp.err # ... and no end: the client died
check "a dead client's replacement leaves readers on the old segments" \
  bash -c "sleep 2; served billing_re_0 billing_re_1"
"$S" push --controller "$CURL" --table billing --replace billing_re_0,billing_re_1 cr >cr2.out 2>cr2.err
check "the same push again: COMPLETED" grep -q COMPLETED cr2.out
check "... the dead client's entry is REVERTED (forceCleanup), the new one served" \
  wait_for 20 bash -c "curl -sf '$CURL/segments/billing/lineage' | grep -q '\"$CR\":{\"state\":\"REVERTED\"' && served billing_cr_0"
check "... with its rows" rows_are bf0.csv

# ---- the hybrid table: airlineStats OFFLINE + REALTIME ----
A=$P/batch/airlineStats
$PY - "$A/airlineStats_offline_table_config.json" "$P/stream/airlineStats/airlineStats_realtime_table_config.json" "$B" <<'PY'
import json, sys
off = json.load(open(sys.argv[1])); off["segmentsConfig"]["replication"] = "2"
json.dump(off, open("air_off.json", "w"))
rt = json.load(open(sys.argv[2])); rt["segmentsConfig"]["replication"] = "2"
m = rt["ingestionConfig"]["streamIngestionConfig"]["streamConfigMaps"][0]
m["stream.kafka.broker.list"] = sys.argv[3]
json.dump(rt, open("air_rt.json", "w"))
PY
"$S" table add --controller "$CURL" --table-config air_off.json --schema "$A/airlineStats_schema.json" >aoff.out 2>&1
"$S" table add --controller "$CURL" --table-config air_rt.json --schema "$P/stream/airlineStats/airlineStats_schema.json" >art.out 2>&1
require "both halves of airlineStats are created" \
  bash -c "grep -q airlineStats_OFFLINE aoff.out && curl -sf '$CURL/tables/airlineStats_REALTIME' | grep -q REALTIME"
mkdir -p air air2 up
for d in 01 02; do
  "$S" segment build --schema "$A/airlineStats_schema.json" --table-config air_off.json \
    --input "$A/rawdata/2014/01/$d/airlineStats_data_2014-01-$d.avro" --out "air/airlineStats_2014-01-$d.seg" \
    --name "airlineStats_2014-01-$d" 2>>build.err
done
"$S" push --controller "$CURL" --table airlineStats --type OFFLINE air >air.out 2>air.err
check "the two Avro days are pushed into the OFFLINE half" bash -c "test \$(grep -c '^pushed ' air.out) -eq 2"
MAXDAY=$("$S" segment info air/airlineStats_2014-01-02.seg | $PY -c 'import json,sys; print(json.load(sys.stdin)["timeRange"]["max"])')
require "the second day's segment has a time range" test -n "$MAXDAY"
tb() { curl -sf "$CURL/tables/airlineStats/timeBoundary" | grep -q "{\"timeColumn\":\"DaysSinceEpoch\",\"timeBoundary\":\"$1\"}"; }
check "timeBoundary: the max end of the ONLINE offline segments less one day ($((MAXDAY - 1)))" \
  wait_for 20 tb $((MAXDAY - 1))
check "... the same under either half's name" \
  bash -c "curl -sf '$CURL/tables/airlineStats_OFFLINE/timeBoundary' | grep -q '\"$((MAXDAY - 1))\"' && curl -sf '$CURL/tables/airlineStats_REALTIME/timeBoundary' | grep -q '\"$((MAXDAY - 1))\"'"
check "timeBoundary of a table without an OFFLINE half: 404" \
  bash -c "curl -s -o /dev/null -w '%{http_code}' '$CURL/tables/billingx/timeBoundary' | grep -qx 404"

# --replace-time-range: the second day rebuilt under another name replaces that day only
"$S" segment build --schema "$A/airlineStats_schema.json" --table-config air_off.json \
  --input "$A/rawdata/2014/01/02/airlineStats_data_2014-01-02.avro" --out air2/airlineStats_2014-01-02_v2.seg \
  --name airlineStats_2014-01-02_v2 2>>build.err
"$S" push --controller "$CURL" --table airlineStats --type OFFLINE --replace-time-range "$MAXDAY,$MAXDAY" air2 >tr.out 2>tr.err
check "--replace-time-range of one day: COMPLETED, replacing 1 segment" \
  bash -c "grep -q COMPLETED tr.out && grep -q 'replacing 1 segment' tr.err"
air_served() {
  curl -sf "$CURL/tables/airlineStats_OFFLINE/segments" | $PY -c '
import json, sys
on = sorted(s["segment"] for s in json.load(sys.stdin) if "ONLINE" in s["replicas"].values())
assert on == ["airlineStats_2014-01-01", "airlineStats_2014-01-02_v2"], on'
}
check "... the other day untouched" wait_for 20 air_served
"$S" push --controller "$CURL" --table airlineStats --type OFFLINE --replace-time-range "$((MAXDAY - 1)),$((MAXDAY - 1))" --attempts 1 air2 >tr2.out 2>tr2.err
check "--replace-time-range with nothing straddling but a name already served: refused" test $? -ne 0

# an uploaded-realtime segment beside the consuming one
UP=up__airlineStats__0__20140102T0000Z__bf
"$S" segment build --schema "$P/stream/airlineStats/airlineStats_schema.json" --table-config air_rt.json \
  --input "$A/rawdata/2014/01/01/airlineStats_data_2014-01-01.avro" --out "up/$UP.seg" --name "$UP" 2>>build.err
"$S" push --controller "$CURL" --table airlineStats --type REALTIME up >up.out 2>up.err
check "an uploaded-realtime segment is pushed into the REALTIME half" grep -q "^pushed $UP " up.out
uprt() {
  curl -sf "$CURL/tables/airlineStats_REALTIME/segments?partition=0" | $PY -c '
import json, sys
s = {x["segment"]: x for x in json.load(sys.stdin)}
up = s["'"$UP"'"]
assert up["status"] == "UPLOADED" and up["partition"] == 0 and set(up["replicas"].values()) == {"ONLINE"}, up
assert any(x["status"] == "IN_PROGRESS" for x in s.values()), s' &&
    test -s "s1/airlineStats/$UP.seg" && test -s "s2/airlineStats/$UP.seg"
}
check "... hosted ONLINE by partition 0's replicas, beside its consuming segment" wait_for 20 uprt
finish
