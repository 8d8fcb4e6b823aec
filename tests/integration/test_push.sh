#!/usr/bin/env bash
# Push (DESIGN §10, docs/batch.md "Push"): an OFFLINE table made from Apache Pinot's billing
# example, its CSV built into segments and pushed with `sluice push` in each mode (tar, uri,
# metadata) to a cluster of ZooKeeper, a controller and three sidecars:
#   - each segment lands on `replication` sidecars, balanced, verified, reported ONLINE, and
#     the rows each sidecar stores equal the input's;
#   - a refresh (same name, other rows) replaces the file on its sidecars; If-Match with the
#     wrong CRC is 412 and changes nothing; a second push of a name while one is in flight
#     is 409;
#   - bad pushes are refused with Pinot's statuses and leave nothing: a corrupt file, a file
#     of another table, a consumed segment's name, a missing DOWNLOAD_URI, an unknown table;
#   - a sidecar that starts after the push downloads its assignment (the repair round places
#     segments that had too few live sidecars), and a dimension table is on every sidecar.
source "$(dirname "$0")/lib/harness.sh"
source "$(dirname "$0")/lib/zk.sh"
source "$(dirname "$0")/lib/cluster.sh"
P=$SLUICE_SRC/tests/data/pinot/batch/billing
PY=/usr/bin/python3
cd "$T_TMP"

zk_start "$T_TMP/zk" || { not_ok "zookeeper did not start"; finish; exit 1; }
common="--set cluster.name=push --set zk.connect=$ZK_CONNECT --set http.bind=127.0.0.1"
CTL_SETS="--set repair.interval=1s --set test.push.stall=3s"
start_ctl c1
require "c1 leads" wait_for 15 is_leader "$CURL"
start_sidecar 1
start_sidecar 2

# the billing table with replication 2
$PY - "$P/billing_offline_table_config.json" billing.json <<'PY'
import json, sys
t = json.load(open(sys.argv[1])); t["segmentsConfig"]["replication"] = "2"
json.dump(t, open(sys.argv[2], "w"))
PY
"$S" table add --controller "$CURL" --table-config billing.json --schema "$P/billing_schema.json" >add.out 2>&1
check "the OFFLINE table is created under its key billing_OFFLINE" grep -q '"billing_OFFLINE"' add.out
check "GET /tables/billing resolves the bare name to the OFFLINE table" \
  bash -c "curl -sf '$CURL/tables/billing' | grep -q '\"OFFLINE\"'"

# three inputs from the billing CSV, built into segments named by --name
$PY - "$P/rawdata/billing_data.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
head, body = rows[0], rows[1:]
for i in range(3):
    with open(f"part{i}.csv", "w", newline="") as f:
        w = csv.writer(f); w.writerow(head); w.writerows(body[i::3])
with open("part0_small.csv", "w", newline="") as f:
    w = csv.writer(f); w.writerow(head); w.writerows(body[0::3][:10])
PY
mkdir -p built small
for i in 0 1 2; do
  "$S" segment build --schema "$P/billing_schema.json" --table-config billing.json \
    --input part$i.csv --out built/billing_$i.seg --name billing_$i 2>build$i.err
done
"$S" segment build --schema "$P/billing_schema.json" --table-config billing.json \
  --input part0_small.csv --out small/billing_0.seg --name billing_0 2>build_small.err
check "three segments and a smaller refresh of the first are built" \
  bash -c "ls built/*.seg | wc -l | grep -qx 3 && test -s small/billing_0.seg"

# ---- each mode ----
"$S" push --controller "$CURL" --table billing built/billing_0.seg >p0.out 2>p0.err
check "tar mode: pushed" grep -q '^pushed billing_0 crc=[0-9]* rows=' p0.out
"$S" push --controller "$CURL" --table billing --type OFFLINE --mode uri built/billing_1.seg >p1.out 2>p1.err
check "uri mode (file://): pushed" grep -q '^pushed billing_1 ' p1.out
"$S" push --controller "$CURL" --table billing --mode metadata "file://$T_TMP/built/billing_2.seg" >p2.out 2>p2.err
check "metadata mode: pushed" grep -q '^pushed billing_2 ' p2.out
check "metadata mode: the download URL is the pushed URI" \
  bash -c "curl -sf '$CURL/tables/billing_OFFLINE/segments/billing_2' | grep -q '\"downloadUrl\":\"file://$T_TMP/built/billing_2.seg\"'"

# placed ONLINE on two sidecars each; every sidecar's files are the ones the listing names,
# with the record's CRC, and their rows are the input's
placed() { # placed N...: each segment on 2 of these sidecars, reported ONLINE, files verified
  curl -sf "$CURL/tables/billing_OFFLINE/segments" >segs.json || return 1
  $PY - segs.json "$S" "$@" <<'PY'
import json, os, subprocess, sys
segs, S, ns = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3:]
assert segs, segs
for s in segs:
    assert s["status"] == "UPLOADED" and s["partition"] is None and s["startOffset"] is None, s
    reps = s["replicas"]
    assert len(reps) == 2 and set(reps.values()) == {"ONLINE"}, s
    for n in ns:
        f = f"s{n}/billing_OFFLINE/{s['segment']}.seg"
        if f"sidecar-{n}" in reps:
            info = json.loads(subprocess.check_output([S, "segment", "info", f]))
            assert info["crc"] == s["crc"] and info["rows"] == s["numRows"], (f, info, s)
        else:
            assert not os.path.exists(f), f
PY
}
check "each segment is ONLINE on two sidecars, which hold it with its CRC (and no other does)" \
  wait_for 20 placed 1 2
rows_match() { # rows_match SIDECAR SEGMENT CSV
  "$S" segment dump "s$1/billing_OFFLINE/$2.seg" >dump.jsonl &&
    $PY - "$3" dump.jsonl <<'PY'
import csv, json, sys
want = list(csv.DictReader(open(sys.argv[1], newline="")))
got = [json.loads(l) for l in open(sys.argv[2])]
assert len(want) == len(got), (len(want), len(got))
for w, g in zip(want, got):
    assert str(g["customerId"]) == w["customerId"] and g["city"] == w["city"], (w, g)
PY
}
holder() { $PY -c "import json,sys; print(sorted(s['replicas'] for s in json.load(open('segs.json')) if s['segment']==sys.argv[1])[0].popitem()[0].split('-')[1])" "$1"; }
check "the rows a sidecar stores are the pushed CSV's (tar)" rows_match "$(holder billing_0)" billing_0 part0.csv
check "... (uri)" rows_match "$(holder billing_1)" billing_1 part1.csv
check "... (metadata)" rows_match "$(holder billing_2)" billing_2 part2.csv
check "placement is balanced: 3 segments x 2 replicas on 2 sidecars is 3 each" \
  bash -c "test \$(ls s1/billing_OFFLINE/*.seg | wc -l) -eq 3 && test \$(ls s2/billing_OFFLINE/*.seg | wc -l) -eq 3"

# ---- refresh, If-Match ----
OLD=$(grep -o 'crc=[0-9]*' p0.out | cut -d= -f2)
"$S" push --controller "$CURL" --table billing --if-match 12345 small/billing_0.seg >p412.out 2>p412.err
check "If-Match with another CRC: 412, exit 1" bash -c "grep -q 'HTTP 412' p412.err && ! test -s p412.out"
check "... and the segment is unchanged" \
  bash -c "curl -sf '$CURL/tables/billing_OFFLINE/segments/billing_0' | grep -q '\"crc\":$OLD,'"
"$S" push --controller "$CURL" --table billing --if-match "$OLD" small/billing_0.seg >pr.out 2>pr.err
check "a refresh with the right If-Match: pushed, refreshed" grep -q '^pushed billing_0 .* rows=10 refreshed' pr.out
NEW=$(grep -o 'crc=[0-9]*' pr.out | cut -d= -f2)
refreshed() {
  for n in 1 2; do
    [ "$("$S" segment info s$n/billing_OFFLINE/billing_0.seg 2>/dev/null | $PY -c 'import json,sys; print(json.load(sys.stdin)["crc"])')" = "$NEW" ] || return 1
  done
}
check "both sidecars swap in the refreshed file" wait_for 20 refreshed
check "... whose rows are the refresh's" rows_match 1 billing_0 part0_small.csv

# ---- a second push of a name while one is in flight (test.push.stall holds it 3 s) ----
"$S" push --controller "$CURL" --table billing --attempts 1 built/billing_1.seg >pa.out 2>pa.err &
PA=$!
sleep 1
"$S" push --controller "$CURL" --table billing --attempts 1 built/billing_1.seg >pb.out 2>pb.err
check "a parallel push of the same name is 409" grep -q 'HTTP 409' pb.err
wait $PA
check "... while the first one is pushed" grep -q '^pushed billing_1 .* refreshed' pa.out

# ---- bad pushes ----
head -c 5000 built/billing_2.seg >trunc.seg
"$S" push --controller "$CURL" --table billing --attempts 1 trunc.seg >bad1.out 2>bad1.err
check "a truncated file: 400" grep -q 'HTTP 400' bad1.err
cp built/billing_2.seg flipped.seg
printf 'X' | dd of=flipped.seg bs=1 seek=3000 conv=notrunc status=none
"$S" push --controller "$CURL" --table billing --attempts 1 flipped.seg >bad2.out 2>bad2.err
check "a file with a flipped byte: 400" grep -q 'HTTP 400' bad2.err
sed 's/"billing"/"other"/' billing.json >other.json
"$S" segment build --schema "$P/billing_schema.json" --table-config other.json --input part0.csv \
  --out other.seg --name other_0 2>/dev/null
"$S" push --controller "$CURL" --table billing --attempts 1 other.seg >bad3.out 2>bad3.err
check "a file of another table: 400" grep -q 'HTTP 400' bad3.err
"$S" segment build --schema "$P/billing_schema.json" --table-config billing.json --input part0.csv \
  --out rt.seg --name billing__0__0__20240101T0000Z 2>/dev/null
"$S" push --controller "$CURL" --table billing --attempts 1 rt.seg >bad4.out 2>bad4.err
check "a consumed segment's name: 403" grep -q 'HTTP 403' bad4.err
check "no table: 404" bash -c "curl -s -o /dev/null -w '%{http_code}' -X POST '$CURL/v2/segments?tableName=nosuch' \
  --data-binary @built/billing_2.seg | grep -qx 404"
check "URI mode without DOWNLOAD_URI: 400" bash -c "curl -s -o /dev/null -w '%{http_code}' -X POST \
  -H 'UPLOAD_TYPE: URI' '$CURL/v2/segments?tableName=billing' | grep -qx 400"
check "a DOWNLOAD_URI that is not there: 400" bash -c "curl -s -o /dev/null -w '%{http_code}' -X POST \
  -H 'UPLOAD_TYPE: URI' -H 'DOWNLOAD_URI: file://$T_TMP/nothing.seg' '$CURL/v2/segments?tableName=billing' | grep -qx 400"
check "a relative file URI: 400" bash -c "curl -s -o /dev/null -w '%{http_code}' -X POST \
  -H 'UPLOAD_TYPE: METADATA' -H 'DOWNLOAD_URI: file://../built/billing_2.seg' '$CURL/v2/segments?tableName=billing' | grep -qx 400"
curl -sf "$CURL/tables/billing_OFFLINE/segments" >after_bad.json
check "the bad pushes left three segments and no other file in the store" \
  bash -c "curl -sf '$CURL/tables/billing_OFFLINE/segments' | $PY -c 'import json,sys; assert sorted(s[\"segment\"] for s in json.load(sys.stdin))==[\"billing_0\",\"billing_1\",\"billing_2\"]' &&
           test \"\$(ls c1/billing_OFFLINE)\" = \"\$(printf 'billing_0.seg\nbilling_1.seg')\""

# ---- job specs that push (Pinot's SegmentCreationAnd*Push), and the same job on Dask ----
mkdir -p jin din
cp part0.csv jin/j0.csv
cp part1.csv jin/j1.csv
for i in 0 1 2; do cp part$i.csv din/d$i.csv; done
jobspec() { # jobspec JOBTYPE INPUT OUTPUT PREFIX
  cat <<EOF
executionFrameworkSpec:
  name: 'standalone'
  segmentGenerationJobRunnerClassName: 'org.apache.pinot.plugin.ingestion.batch.standalone.SegmentGenerationJobRunner'
jobType: $1
inputDirURI: '$2'
includeFileNamePattern: 'glob:**/*.csv'
outputDirURI: '$3'
overwriteOutput: true
recordReaderSpec:
  dataFormat: 'csv'
tableSpec:
  tableName: 'billing'
  schemaURI: '$CURL/tables/billing/schema'
  tableConfigURI: '$CURL/tables/billing'
segmentNameGeneratorSpec:
  type: simple
  configs:
    segment.name.prefix: '$4'
pinotClusterSpecs:
  - controllerURI: '$CURL'
pushJobSpec:
  pushAttempts: 2
  pushRetryIntervalMillis: 200
  pushParallelism: 2
EOF
}
jobspec SegmentCreationAndTarPush jin jout jobtar >tarpush.yaml
jobspec SegmentCreationAndMetadataPush jin jmeta jobmeta >metapush.yaml
jobspec SegmentCreationAndTarPush din dout dask >daskpush.yaml
"$S" segment build --job-spec tarpush.yaml >jt.out 2>jt.err
check "a SegmentCreationAndTarPush job builds and pushes each file" \
  bash -c "test \$(grep -c '^pushed jobtar_' jt.out) -eq 2"
"$S" segment build --job-spec metapush.yaml >jm.out 2>jm.err
check "a SegmentCreationAndMetadataPush job: pushed, the output files' URIs recorded" \
  bash -c "test \$(grep -c '^pushed jobmeta_' jm.out) -eq 2 &&
           curl -sf '$CURL/tables/billing_OFFLINE/segments' | grep -q '\"downloadUrl\":\"file://$T_TMP/jmeta/jobmeta_'"
$PY "$SLUICE_SRC/deploy/batch/dask_job.py" --sluice "$S" --job-spec daskpush.yaml --workers 2 >dk.out 2>dk.err
check "the same push job on a Dask LocalCluster (2 worker processes): one build + push per file" \
  bash -c "test \$(grep -c 'rows=' dk.out) -eq 3"
jobs_online() {
  curl -sf "$CURL/tables/billing_OFFLINE/segments" | $PY -c '
import json, sys
segs = [s for s in json.load(sys.stdin) if s["segment"].startswith(("jobtar_", "jobmeta_", "dask_"))]
assert len(segs) == 7, [s["segment"] for s in segs]
assert all(len(s["replicas"]) == 2 and set(s["replicas"].values()) == {"ONLINE"} for s in segs), segs'
}
check "... every segment the jobs pushed is ONLINE on two sidecars" wait_for 30 jobs_online
sed "s|- controllerURI: .*|- controllerURI: 'http://127.0.0.1:1'|" tarpush.yaml >deadctl.yaml
"$S" segment build --job-spec deadctl.yaml >jd.out 2>jd.err
rc=$?
check "a push job whose controller does not answer: exit 1, after pushAttempts tries" \
  bash -c "test $rc -eq 1 && ! grep -q '^pushed' jd.out && grep -q 'retrying (2 of 2)' jd.err"

# ---- a sidecar that starts after the push; a dimension table on every sidecar ----
$PY - "$P/billing_offline_table_config.json" dim.json <<'PY'
import json, sys
t = json.load(open(sys.argv[1])); t["tableName"] = "dimbilling"; t["isDimTable"] = True
json.dump(t, open(sys.argv[2], "w"))
PY
"$S" table add --controller "$CURL" --table-config dim.json --schema "$P/billing_schema.json" >dadd.out 2>&1
"$S" segment build --schema "$P/billing_schema.json" --table-config dim.json \
  --input part1.csv --out dim.seg --name dim_0 2>/dev/null
"$S" push --controller "$CURL" --table dimbilling dim.seg >dp.out 2>dp.err
check "a dimension table's segment is pushed" grep -q '^pushed dim_0 ' dp.out
start_sidecar 3 --set segment.scrub.interval=1s
on3() {
  curl -sf "$CURL/tables/dimbilling_OFFLINE/segments" | grep -q '"sidecar-3":"ONLINE"' &&
    test -s s3/dimbilling_OFFLINE/dim_0.seg && test -s s1/dimbilling_OFFLINE/dim_0.seg &&
    test -s s2/dimbilling_OFFLINE/dim_0.seg
}
check "a sidecar that started after the push gets the dimension table's segment (every sidecar has it)" \
  wait_for 20 on3
stop_sidecar 2
"$S" push --controller "$CURL" --table billing --if-match "$NEW" built/billing_0.seg >late.out 2>late.err
check "a refresh while sidecar-2 is down" grep -q 'refreshed' late.out
start_sidecar 2
check "sidecar-2, restarted, swaps in what was pushed while it was down" \
  wait_for 20 bash -c "$S segment info s2/billing_OFFLINE/billing_0.seg | grep -q '\"crc\":$OLD'"
DIMCRC=$(grep -o 'crc=[0-9]*' dp.out | cut -d= -f2)
cp s3/dimbilling_OFFLINE/dim_0.seg dim_good.seg
printf 'X' | dd of=s3/dimbilling_OFFLINE/dim_0.seg bs=1 seek=4000 conv=notrunc status=none
healed3() {
  [ "$("$S" segment info s3/dimbilling_OFFLINE/dim_0.seg 2>/dev/null | $PY -c 'import json,sys; print(json.load(sys.stdin)["crc"])')" = "$DIMCRC" ] &&
    ls s3/dimbilling_OFFLINE/quarantine/dim_0.seg* >/dev/null 2>&1
}
check "a flipped byte in a sidecar's pushed file: its scrub quarantines it and the committed copy comes back" \
  wait_for 20 healed3
finish
