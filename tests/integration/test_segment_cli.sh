#!/usr/bin/env bash
# `sluice segment build | info | dump | verify` driven as a user would: bad rows counted and
# kept, dump round trip rebuilding byte-identical files, damage told apart (corrupt vs
# truncated), hostile files never crash a command.
source "$(dirname "$0")/lib/harness.sh"
D=$SLUICE_SRC/tests/data
S=$SLUICE_BIN
cd "$T_TMP"

"$S" segment build --schema "$D/alltypes_schema.json" --table-config "$D/alltypes_table.json" \
  --input "$D/alltypes.jsonl" --out a.seg --name a --rejects rej.jsonl 2>build.err
check "build exits 0 with bad rows present" test $? -eq 0
check "build reports 6 rows and 4 rejected" grep -q "rows=6 rejected=4" build.err
for r in malformed_json not_object wrong_type overflow; do
  check "rejection reason $r counted" grep -q "reason=$r rows=1" build.err
done
check "--rejects keeps the 4 bad lines" test "$(wc -l < rej.jsonl)" -eq 4
check "verify accepts the file" "$S" segment verify a.seg

"$S" segment info a.seg > info.json
check "info is JSON with the contract's keys" python3 - info.json <<'PY'
import json, sys
i = json.load(open(sys.argv[1]))
assert i["name"] == "a" and i["rows"] == 6 and isinstance(i["crc"], int)
assert "startOffset" in i and "endOffset" in i
cols = {c["name"]: c for c in i["columns"]}
assert cols["i"]["type"] == "INT" and cols["i"]["min"] == -2147483648 and cols["i"]["max"] == 2147483647
assert cols["raw_s"]["dictionary"] is False and cols["s"]["dictionary"] is True
assert cols["tags"]["singleValue"] is False and cols["tags"]["cardinality"] == 6  # a b é "x y" solo + the default "null"
assert all(k in c for c in i["columns"] for k in ("cardinality", "min", "max", "type"))
PY
size=$(stat -c %s a.seg)
crc_tail=$(tail -c 4 a.seg | od -An -tu4 | tr -d ' ')
check "crc in info is the file's last 4 bytes" python3 -c "import json;assert json.load(open('info.json'))['crc']==$crc_tail"

"$S" segment dump a.seg > dump.jsonl
check "dump has 6 rows" test "$(wc -l < dump.jsonl)" -eq 6
check "dump matches the accepted input rows" python3 - "$D/alltypes.jsonl" dump.jsonl <<'PY'
import json, struct, sys
good = []
for line in open(sys.argv[1]):
    if not line.strip(): continue
    try: o = json.loads(line)
    except ValueError: continue
    if isinstance(o, dict) and o.get("i") not in ("not a number", 4294967296): good.append(o)
dump = [json.loads(l) for l in open(sys.argv[2])]
assert len(good) == len(dump), (len(good), len(dump))
mv = {"tags", "nums"}
def f32(x): return struct.unpack("f", struct.pack("f", x))[0]
for g, d in zip(good, dump):
    for k, v in g.items():
        if k == "unknown_field": continue
        if v is None or v == []: assert d[k] is None, (k, d[k]); continue
        if k in mv and not isinstance(v, list): v = [v]
        if k == "f": assert f32(d[k]) == f32(v), (k, v, d[k]); continue
        if k == "by": assert d[k] == v.lower(), (k, v, d[k]); continue
        assert d[k] == v, (k, v, d[k])
PY

"$S" segment build --schema "$D/alltypes_schema.json" --table-config "$D/alltypes_table.json" \
  --input dump.jsonl --out b.seg --name a 2>/dev/null
check "rebuilding from the dump gives identical bytes" cmp -s a.seg b.seg
"$S" segment build --schema "$D/alltypes_schema.json" --table-config "$D/alltypes_table.json" \
  --input "$D/alltypes.jsonl" --out c.seg --name a 2>/dev/null
check "same input twice: same sha256" test "$(sha256sum < a.seg)" = "$(sha256sum < c.seg)"

"$S" segment dump a.seg --format csv > dump.csv
check "csv has a header and 6 rows" python3 -c "
import csv; r=list(csv.reader(open('dump.csv'))); assert len(r)==7 and r[0][0]=='s' and r[1][7]=='a;b', r[:2]"

"$S" segment build --schema "$D/alltypes_schema.json" --input "$D/alltypes.jsonl" --out s.seg --strict 2>strict.err
check "--strict fails on the first bad row" test $? -ne 0
check "--strict names the line and reason" grep -q "alltypes.jsonl:7: malformed_json" strict.err
check "--strict publishes nothing" test ! -e s.seg

# damage: a flipped byte is corrupt (exit 1), a cut file is truncated (exit 3)
cp a.seg flip.seg
printf '\x5a' | dd of=flip.seg bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
"$S" segment verify flip.seg 2>flip.err; rc=$?
check "verify: flipped byte -> exit 1 corrupt" test $rc -eq 1
check "verify names corruption" grep -q "^corrupt" flip.err
head -c $((size - 100)) a.seg > cut.seg
"$S" segment verify cut.seg 2>cut.err; rc=$?
check "verify: truncated file -> exit 3" test $rc -eq 3
check "verify names truncation" grep -q "^truncated" cut.err
: > empty.seg
"$S" segment verify empty.seg 2>/dev/null; rc=$?
check "verify: empty file is rejected" test $rc -ne 0 -a $rc -lt 128
head -c 5000 /dev/urandom > junk.seg
for cmd in verify info dump; do
  "$S" segment $cmd junk.seg >/dev/null 2>&1; rc=$?
  check "segment $cmd on random bytes fails cleanly" test $rc -ne 0 -a $rc -lt 128
  "$S" segment $cmd flip.seg >/dev/null 2>&1; rc=$?
  check "segment $cmd on a damaged file fails cleanly" test $rc -ne 0 -a $rc -lt 128
done
"$S" segment info missing.seg 2>/dev/null
check "info on a missing file fails" test $? -ne 0

echo '{"schemaName":"x","dimensionFieldSpecs":[{"name":"a","dataType":"MAP"}]}' > bad_schema.json
"$S" segment build --schema bad_schema.json --input "$D/alltypes.jsonl" --out x.seg 2>bad.err
check "bad schema: non-zero exit" test $? -ne 0
check "bad schema: names file, key and reason" grep -q "bad_schema.json: dimensionFieldSpecs\[0\].dataType" bad.err
"$S" segment build --input x 2>/dev/null
check "missing required options: exit 2" test $? -eq 2
"$S" segment --help | grep -q "sluice segment build"
check "segment --help prints usage" test $? -eq 0

# Pinot's query-side and operations keys: accepted, listed once, and the same bytes
python3 - "$D/alltypes_table.json" >pinot_table.json <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
t["tenants"] = {"broker": "DefaultTenant", "server": "DefaultTenant"}
t["routing"] = {"segmentPrunerTypes": ["time"]}
t.setdefault("segmentsConfig", {}).update(retentionTimeUnit="DAYS", retentionTimeValue="3",
                                          segmentPushType="APPEND")
t.setdefault("tableIndexConfig", {})["loadMode"] = "MMAP"
json.dump(t, sys.stdout)
PY
"$S" segment build --schema "$D/alltypes_schema.json" --table-config pinot_table.json \
  --input "$D/alltypes.jsonl" --out p.seg --name a 2>pbuild.err
check "a table config with Pinot's query-side keys builds" test $? -eq 0
check "... and names them once as accepted, not used by ingestion" grep -q \
  "pinot_table.json: accepted, not used by ingestion: tenants, routing, segmentsConfig.retentionTimeUnit, segmentsConfig.retentionTimeValue, segmentsConfig.segmentPushType, tableIndexConfig.loadMode" pbuild.err
check "... the same bytes as without them" cmp a.seg p.seg

finish
