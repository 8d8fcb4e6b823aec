#!/usr/bin/env bash
# Batch builds from files (DESIGN §10 Build, docs/batch.md) with Apache Pinot's own example
# data and job specs (tests/data/pinot/batch):
#   A. Avro object container files (airlineStats, clientSalaryNulls) in every codec avro-c
#      writes: the stored rows equal what Debian's python3-avro (an independent reader)
#      reads; the bytes do not depend on the codec;
#   B. CSV (billing, dimBaseballTeams): the stored rows equal Python's csv module's reading;
#      quoted delimiters, embedded newlines, a bad record in the middle (counted, kept, the
#      rest read); gzip;
#   C. `--job-spec` with Pinot's ingestionJobSpec.yaml: one segment per file, named as
#      Pinot names them (airlineStats_OFFLINE_16071_16071_0), the input's directories kept,
#      overwriteOutput, the other name generators, every bad key in one run, and every job
#      spec Pinot ships with its data, each record a row;
#   D. the same job spec reading the schema and table config from a live controller's
#      GET /tables/<t>/schema and GET /tables/<t>, as Pinot's specs say.
source "$(dirname "$0")/lib/harness.sh"
source "$(dirname "$0")/lib/zk.sh"
source "$(dirname "$0")/lib/cluster.sh"
P=$SLUICE_SRC/tests/data/pinot/batch
PY=/usr/bin/python3 # Debian's, with python3-avro
cd "$T_TMP"

# ---- A. Avro ----
AIR=$P/airlineStats
AIRSCH=$AIR/airlineStats_schema.json
AIRTBL=$AIR/airlineStats_offline_table_config.json
AVRO1=$AIR/rawdata/2014/01/01/airlineStats_data_2014-01-01.avro
cat > cmp_avro.py <<'PY'
import avro.datafile, avro.io, json, sys
recs = list(avro.datafile.DataFileReader(open(sys.argv[1], 'rb'), avro.io.DatumReader()))
rows = [json.loads(l) for l in open(sys.argv[2])]
assert len(recs) == len(rows), (len(recs), len(rows))
def norm(x):
    if x == []: return None            # an empty multi-value is null (docs/json-decoding.md M3)
    if isinstance(x, str): return x.split('\0')[0]  # Pinot ends a string at its first NUL
    return x
for i, (a, b) in enumerate(zip(recs, rows)):
    for k, v in b.items():
        if k not in a: continue
        x = norm(a[k])
        if isinstance(x, float) and isinstance(v, (int, float)) and abs(x - v) <= 1e-6 * max(1, abs(x)): continue
        assert x == v, (i, k, x, v)
print(len(rows))
PY
for codec in null deflate snappy; do
  avromod --codec=$codec --block-size=2048 "$AVRO1" "air_$codec.avro"
  "$S" segment build --schema "$AIRSCH" --table-config "$AIRTBL" --input "air_$codec.avro" \
    --out "air_$codec.seg" --name air 2>"air_$codec.err"
  check "Avro ($codec codec) builds 289 rows" grep -q "rows=289 rejected=0" "air_$codec.err"
done
check "the segment's bytes do not depend on the codec" \
  bash -c "cmp air_null.seg air_deflate.seg && cmp air_null.seg air_snappy.seg"
"$S" segment dump air_snappy.seg > air.jsonl
check "airlineStats: every stored row equals python3-avro's reading" $PY cmp_avro.py "$AVRO1" air.jsonl
CSN=$P/clientSalaryNulls
"$S" segment build --schema "$CSN/clientSalaryNulls_schema.json" \
  --table-config "$CSN/clientSalaryNulls_offline_table_config.json" \
  --input "$CSN/rawdata/clientSalaryNulls_data.avro" --out csn.seg 2>csn.err
"$S" segment dump csn.seg > csn.jsonl
check "clientSalaryNulls (unions with null): rows equal python3-avro's" \
  $PY cmp_avro.py "$CSN/rawdata/clientSalaryNulls_data.avro" csn.jsonl
head -c 30000 "$AVRO1" > cut.avro
"$S" segment build --schema "$AIRSCH" --input cut.avro --out cut.seg 2>cut.err
check "a truncated Avro file fails the build, naming the block" \
  bash -c "! test -e cut.seg && grep -q 'block 1' cut.err"
printf 'Obj\001nothing' > bad.avro
"$S" segment build --schema "$AIRSCH" --input bad.avro --out bad.seg 2>bad.err
check "a file that is no Avro container is refused" grep -q "header is corrupt" bad.err

# ---- B. CSV ----
cat > cmp_csv.py <<'PY'
import csv, json, sys
schema = json.load(open(sys.argv[3]))
types = {f['name']: f['dataType'] for k in ('dimensionFieldSpecs', 'metricFieldSpecs', 'dateTimeFieldSpecs') for f in schema.get(k, [])}
src = list(csv.DictReader(open(sys.argv[1], newline='')))
rows = [json.loads(l) for l in open(sys.argv[2])]
assert len(src) == len(rows), (len(src), len(rows))
for i, (a, b) in enumerate(zip(src, rows)):
    for k, v in b.items():
        x = a.get(k, '').strip()
        if x == '': assert v is None, (i, k, v); continue
        t = types[k]
        if t == 'BOOLEAN': x = x.lower() in ('true', '1')
        elif t in ('INT', 'LONG'): x = int(float(x))
        elif t in ('FLOAT', 'DOUBLE'): x = float(x); v = float(v)
        if t == 'FLOAT': assert abs(x - v) <= 1e-6 * max(1, abs(x)), (i, k, x, v); continue
        assert x == v, (i, k, x, v)
print(len(rows))
PY
for ex in billing dimBaseballTeams; do
  csv=$(ls "$P/$ex/rawdata/"*.csv)
  "$S" segment build --schema "$P/$ex/${ex}_schema.json" \
    --table-config "$P/$ex/${ex}_offline_table_config.json" --input "$csv" --out "$ex.seg" 2>"$ex.err"
  "$S" segment dump "$ex.seg" > "$ex.jsonl"
  check "$ex: every stored row equals Python's csv reading" \
    $PY cmp_csv.py "$csv" "$ex.jsonl" "$P/$ex/${ex}_schema.json"
done
cat > edge_schema.json <<'EOF'
{"schemaName":"edge","dimensionFieldSpecs":[{"name":"id","dataType":"INT"},
 {"name":"txt","dataType":"STRING"},{"name":"tags","dataType":"STRING","singleValueField":false}]}
EOF
printf 'id,txt,tags\n1,"a, quoted",x;y\n2,"two\nlines",\n3,"bad" tail,z\n4,,\n5,"say ""hi""",w\n' > edge.csv
"$S" segment build --schema edge_schema.json --input edge.csv --out edge.seg --rejects edge.rej 2>edge.err
check "CSV edge cases: 4 rows, 1 malformed record counted" \
  bash -c "grep -q 'rows=4 rejected=1' edge.err && grep -q 'reason=malformed_csv rows=1' edge.err"
check "... the bad record is kept in --rejects" grep -q '^3,"bad" tail,z$' edge.rej
"$S" segment dump edge.seg > edge.jsonl
check "... quoted delimiters, newlines, quotes, nulls and ';' lists stored as read" $PY - <<'PY'
import json
r = [json.loads(l) for l in open('edge.jsonl')]
assert [x['id'] for x in r] == [1, 2, 4, 5], r
assert r[0]['txt'] == 'a, quoted' and r[0]['tags'] == ['x', 'y']
assert r[1]['txt'] == 'two\nlines' and r[1]['tags'] is None
assert r[2]['txt'] is None and r[3]['txt'] == 'say "hi"'
PY
gzip -c edge.csv > edge.csv.gz
"$S" segment build --schema edge_schema.json --input edge.csv.gz --out edgegz.seg --name edge 2>/dev/null
check "a gzip-compressed CSV builds the same bytes" cmp edge.seg edgegz.seg
printf 'id|txt\n7|pipe\n' > pipes.txt
"$S" segment build --schema edge_schema.json --input pipes.txt --input-format csv \
  --csv-delimiter '|' --out pipes.seg 2>pipes.err
check "--input-format csv --csv-delimiter '|'" grep -q "rows=1 rejected=0" pipes.err
printf 'id|txt\n7,pipe,x\n' > pipes2.txt
"$S" segment build --schema edge_schema.json --input pipes2.txt --input-format csv --out p2.seg 2>p2.err
check "a header without the delimiter over wider records is refused, as Pinot does" \
  grep -q "does not contain the delimiter" p2.err

# ---- C. job specs ----
mkdir -p job/examples && cp -r "$P" job/examples/batch && cd job
sed 's/SegmentCreationAndTarPush/SegmentCreation/' examples/batch/airlineStats/ingestionJobSpec.yaml > air.yaml
"$S" segment build --job-spec air.yaml --schema "$AIRSCH" --table-config "$AIRTBL" 2>air.err
check "Pinot's airlineStats job spec: a segment per file, named as Pinot names them" \
  bash -c "test -f examples/batch/airlineStats/segments/2014/01/01/airlineStats_OFFLINE_16071_16071_0.seg &&
           test -f examples/batch/airlineStats/segments/2014/01/02/airlineStats_OFFLINE_16072_16072_1.seg"
cp examples/batch/airlineStats/segments/2014/01/01/airlineStats_OFFLINE_16071_16071_0.seg first.seg
"$S" segment build --job-spec air.yaml --schema "$AIRSCH" --table-config "$AIRTBL" 2>air2.err
check "overwriteOutput: true builds the same bytes again" \
  cmp examples/batch/airlineStats/segments/2014/01/01/airlineStats_OFFLINE_16071_16071_0.seg first.seg
sed 's/overwriteOutput: true/overwriteOutput: false/' air.yaml > air_no.yaml
"$S" segment build --job-spec air_no.yaml --schema "$AIRSCH" --table-config "$AIRTBL" 2>air3.err
check "overwriteOutput: false refuses an existing segment" grep -q "overwriteOutput is false" air3.err
cat > names.yaml <<'EOF'
jobType: SegmentCreation
inputDirURI: 'examples/batch/airlineStats/rawdata'
includeFileNamePattern: 'glob:**/*.avro'
excludeFileNamePattern: 'glob:**/*01-02.avro'
outputDirURI: 'out_names'
overwriteOutput: true
recordReaderSpec:
  dataFormat: 'avro'
  className: 'org.apache.pinot.plugin.inputformat.avro.AvroRecordReader'
tableSpec:
  tableName: 'airlineStats'
segmentNameGeneratorSpec:
  type: normalizedDate
  configs:
    segment.name.prefix: 'air'
    exclude.sequence.id: 'true'
EOF
"$S" segment build --job-spec names.yaml --schema "$AIRSCH" --table-config "$AIRTBL" 2>names.err
check "normalizedDate (APPEND, daily) and excludeFileNamePattern" \
  bash -c "ls out_names/2014/01/01/air_2014-01-01_2014-01-01.seg && ! test -d out_names/2014/01/02"
sed -e 's/type: normalizedDate/type: inputFile/' \
    -e "s/    segment.name.prefix: 'air'/    file.path.pattern: '.*data_(.*)-(.*)-(.*).avro'/" \
    -e "s/    exclude.sequence.id: 'true'/    segment.name.template: 'air_\${filePathPattern:\\\\3}\${filePathPattern:\\\\2}'/" \
    names.yaml > infile.yaml
"$S" segment build --job-spec infile.yaml --schema "$AIRSCH" --table-config "$AIRTBL" 2>infile.err
check "inputFile: the name from the path's groups" test -f out_names/2014/01/01/air_0101.seg
cat > bad.yaml <<'EOF'
jobType: SegmentCreationAndPushEverything
inputDirURI: 'examples/batch/billing/rawdata'
includeFileNamePattern: '*.csv'
outputDirURI: 'out'
overwriteOutput: perhaps
recordReaderSpec:
  dataFormat: 'parquet'
tableSpec:
  tableName: 'billing'
  schemaFile: 'x'
segmentNameGeneratorSpec:
  type: fixed
EOF
"$S" segment build --job-spec bad.yaml 2>bad.err
check "a bad job spec names every bad key in one run" bash -c "
  grep -q 'jobType' bad.err && grep -q 'includeFileNamePattern' bad.err &&
  grep -q 'overwriteOutput' bad.err && grep -q 'dataFormat' bad.err &&
  grep -q 'tableSpec.schemaFile: unknown key' bad.err && grep -q 'segment.name: required' bad.err"
printf 'jobType: SegmentCreation\n  bad: [indent\n' > broken.yaml
"$S" segment build --job-spec broken.yaml 2>broken.err
check "YAML that does not parse names the line" grep -q "broken.yaml:2:" broken.err

# every job spec Pinot ships with its data, as it is (but for the push): each segment holds as
# many rows as its input file has records
for spec in examples/batch/*/ingestionJobSpec.yaml examples/batch/*/*/ingestionJobSpec.yaml; do
  [ -f "$spec" ] || continue
  ex=$(dirname "$spec")
  ls "$ex"/rawdata >/dev/null 2>&1 || continue
  sed 's/SegmentCreationAnd[A-Za-z]*Push/SegmentCreation/' "$spec" > this.yaml
  "$S" segment build --job-spec this.yaml --schema "$(ls "$ex"/*_schema.json | head -1)" \
    --table-config "$(ls "$ex"/*_table_config.json | head -1)" 2>this.err
  check "Pinot's $ex job spec builds a segment per input file, every record a row" $PY - "$ex" this.err <<'PY'
import avro.datafile, avro.io, csv, glob, os, re, sys
ex, err = sys.argv[1], open(sys.argv[2]).read()
built = {os.path.basename(m[0]): int(m[1]) for m in re.findall(r"^built (\S+): rows=(\d+) rejected=0 ", err, re.M)}
inputs = sorted(glob.glob(f"{ex}/rawdata/**/*.*", recursive=True))
assert inputs and len(built) == len(inputs), (inputs, built, err[-500:])
want = sorted(sum(1 for _ in avro.datafile.DataFileReader(open(f, "rb"), avro.io.DatumReader()))
              if f.endswith(".avro") else sum(1 for _ in csv.DictReader(open(f, newline="")))
              for f in inputs)
assert sorted(built.values()) == want, (built, want)
PY
done
cd ..

# ---- D. the schema and table config from a live controller ----
zk_start "$T_TMP/zk" || { not_ok "zookeeper did not start"; finish; exit 1; }
common="--set cluster.name=bb --set zk.connect=$ZK_CONNECT --set http.bind=127.0.0.1"
start_ctl c1
require "c1 leads" wait_for 15 is_leader "$CURL"
"$S" table add --controller "$CURL" --table-config "$P/billing/billing_offline_table_config.json" \
  --schema "$P/billing/billing_schema.json" >add.out 2>&1
check "the OFFLINE billing table is created" test $? -eq 0
check "GET /tables/billing/schema is the schema alone" \
  bash -c "curl -sf '$CURL/tables/billing/schema' | python3 -c 'import json,sys; assert json.load(sys.stdin)[\"schemaName\"]==\"billing\"'"
cd job
sed -e 's/SegmentCreationAndTarPush/SegmentCreation/' -e "s#http://localhost:9000#$CURL#g" \
  examples/batch/billing/ingestionJobSpec.yaml > billing.yaml
"$S" segment build --job-spec billing.yaml 2>billing.err
check "Pinot's billing job spec reads schemaURI and tableConfigURI from the controller" \
  bash -c "grep -q 'rows=694 rejected=0' billing.err && test -f examples/batch/billing/segments/billing_OFFLINE_0.seg"
cd ..
finish
