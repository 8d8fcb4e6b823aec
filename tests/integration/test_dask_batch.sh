#!/usr/bin/env bash
# The Dask runner (deploy/batch/dask_job.py, DESIGN §10 "Beyond one machine") on a real
# multi-process LocalCluster of Debian's python3-distributed: Pinot's billing rows split over
# eight CSV files and the two airlineStats days, one build per file spread over three worker
# processes; the segments equal, byte for byte, what `sluice segment build --job-spec` makes
# on one machine; a bad file fails its build (exit 1, the file named) and not the others.
source "$(dirname "$0")/lib/harness.sh"
P=$SLUICE_SRC/tests/data/pinot/batch
S=$SLUICE_BIN
RUN="/usr/bin/python3 $SLUICE_SRC/deploy/batch/dask_job.py --sluice $S"
cd "$T_TMP"

mkdir -p in out1 out2
/usr/bin/python3 - "$P/billing/rawdata/billing_data.csv" in <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines(keepends=True)
head, rows = lines[0], lines[1:]
for k in range(8):
    open(f"{sys.argv[2]}/part_{k}.csv", "w").writelines([head] + rows[k::8])
PY
spec() { # spec OUTDIR
  cat <<EOF
jobType: SegmentCreation
inputDirURI: 'in'
includeFileNamePattern: 'glob:**/*.csv'
outputDirURI: '$1'
overwriteOutput: true
recordReaderSpec:
  dataFormat: 'csv'
tableSpec:
  tableName: 'billing'
EOF
}
spec out1 > dask.yaml
spec out2 > local.yaml
TS=(--schema "$P/billing/billing_schema.json" --table-config "$P/billing/billing_offline_table_config.json")

$RUN --job-spec dask.yaml --workers 3 "${TS[@]}" > dask.out 2> dask.err
check "the Dask job builds every file (exit 0)" test $? -eq 0
check "... eight segments, one per file" test "$(ls out1/*.seg | wc -l)" -eq 8
check "... spread over more than one worker process" \
  bash -c "test \$(cut -f2 dask.out | sort -u | wc -l) -ge 2"
check "... 694 rows in all, as the one billing file has" \
  bash -c "test \$(grep -o 'rows=[0-9]*' dask.out | cut -d= -f2 | paste -sd+ | python3 -c 'print(eval(input()))') -eq 694"
"$S" segment build --job-spec local.yaml "${TS[@]}" 2>local.err
same() {
  for f in out1/*.seg; do cmp "$f" "out2/$(basename "$f")" || return 1; done
}
check "... the segments equal a single-machine build's, byte for byte" same

printf 'a,,b\n1,2,3\n' > in/part_9.csv # a nameless header column: Pinot refuses the file
$RUN --job-spec dask.yaml --workers 2 "${TS[@]}" > bad.out 2> bad.err
check "a bad input fails the job (exit 1)" test $? -eq 1
check "... naming the file, the other builds done" \
  bash -c "grep -q 'FAILED.*part_9.csv' bad.out && test \$(grep -c 'rows=' bad.out) -eq 9"
rm in/part_9.csv

cp -r "$P/airlineStats" air
cat > air.yaml <<'EOF'
jobType: SegmentCreation
inputDirURI: 'air/rawdata'
includeFileNamePattern: 'glob:**/*.avro'
outputDirURI: 'air_out'
overwriteOutput: true
recordReaderSpec:
  dataFormat: 'avro'
tableSpec:
  tableName: 'airlineStats'
EOF
$RUN --job-spec air.yaml --workers 2 --schema air/airlineStats_schema.json \
  --table-config air/airlineStats_offline_table_config.json > air.out 2>air.err
check "Avro job on Dask: Pinot's names, the input's directories kept" bash -c "
  test -f air_out/2014/01/01/airlineStats_OFFLINE_16071_16071_0.seg &&
  test -f air_out/2014/01/02/airlineStats_OFFLINE_16072_16072_1.seg"
finish
