#!/usr/bin/env bash
# sluice replay of offset ranges on kafka-mock: a whole topic (smallest..largest, every
# partition) into a contiguous, exactly-once chain cut by the table's rows; a second replay
# with the same --time builds the same bytes; a sub-range starts and ends exactly where asked
# with the given sequence; `audit --data-dir --deep` accepts the output; a range that
# retention trimmed is replayed from the earliest offset left with the exact lost range
# logged (exit 1); an empty topic makes no segment; bad ranges, partitions, times and brokers
# exit 2 with the reason.
# (`replay --verify` of committed segments is in test_replicas.sh.)
source "$(dirname "$0")/lib/harness.sh"
S=$SLUICE_BIN
EX=$SLUICE_SRC/deploy/examples
CHECK="python3 $SLUICE_SRC/chaos/tools/segcheck.py $S"
cd "$T_TMP"

kmock_start events:2 lossy:1
python3 "$SLUICE_SRC/chaos/tools/mktable.py" "$EX/events_table.json" events events "$B" --rows 4000 --time 1s >t.json
python3 "$SLUICE_SRC/chaos/tools/mktable.py" "$EX/events_table.json" lossy lossy "$B" --rows 4000 --time 1s >lossy.json
"$S" loadgen --bootstrap "$B" --topic events --rows 30000 --partitions 2 2>/dev/null
require "loadgen delivered 30000 rows" test $? -eq 0
printf 'not json\n' | kcat -P -b "$B" -t events -p 1
require "kcat produced a malformed message" test $? -eq 0

replay() { timeout 60 "$S" replay --kafka "$B" --schema "$EX/events_schema.json" "$@"; }

replay --table-config t.json --partition all --from smallest --to largest --out a \
  --time 20240101T0000Z >a.out 2>a.err
rc=$?
check "a whole topic: exit 0 (got $rc)" test $rc -eq 0
check "... contiguous from 0, ids 0..29999 exactly once, the malformed message not stored" \
  $CHECK a events --ends 0:15000,1:15001 --ids 0-29999
check "... cut by the table's 4000 rows: partition 0 in 4 segments" \
  test "$(ls a/events/events__0__*__20240101T0000Z.seg | wc -l)" -eq 4
check "... the summary counts the rows and the malformed message" \
  grep -q "^replayed 30001 offsets into 8 segments, 30000 rows, .*malformed 1; lost to retention 0" a.out

replay --table-config t.json --partition 0,1 --from 0 --to largest --out b --time 20240101T0000Z >b.out 2>&1
check "the same replay again: exit 0" test $? -eq 0
check "... the same bytes, file by file" diff -r a/events b/events

replay --table-config t.json --partition 1 --from 1234 --to 9000 --sequence 5 --out c \
  --time 20240101T0000Z >c.out 2>&1
check "a sub-range: exit 0" test $? -eq 0
check "... [1234, 9000) as sequences 5 and 6, named from --sequence" awk '
  $1 == "events__1__5__20240101T0000Z" && $3 == 1234 && $4 == 5234 { a = 1 }
  $1 == "events__1__6__20240101T0000Z" && $3 == 5234 && $4 == 9000 { b = 1 }
  END { exit !(a && b) }' c.out
check "... the files published" test -f c/events/events__1__5__20240101T0000Z.seg -a \
  -f c/events/events__1__6__20240101T0000Z.seg

"$S" audit --data-dir a --table-config t.json --schema "$EX/events_schema.json" --deep >audit.out 2>&1
check "audit --deep of the output: clean (every segment rebuilt with its CRC)" \
  grep -q "^verdict: ok (0 violations, 0 unverified)" audit.out

# retention: 300,000 more rows trim the partition; the replay reports what it lost, exactly
"$S" loadgen --bootstrap "$B" --topic lossy --rows 300000 --partitions 1 2>/dev/null
require "lossy: loadgen delivered 300000 rows" test $? -eq 0
LOW=$(kcat -C -b "$B" -t lossy -p 0 -o beginning -c 1 -e -f '%o\n' 2>/dev/null)
require "the mock trimmed the partition (low watermark ${LOW:-none} > 0)" test "${LOW:-0}" -gt 0
replay --table-config lossy.json --partition 0 --from 0 --to 300000 --out d >d.out 2>d.err
rc=$?
check "a trimmed range: exit 1 (got $rc)" test $rc -eq 1
check "... the loss logged as the exact range [0, $LOW)" grep -q "data_loss table=lossy partition=0 from=0 to=$LOW" d.err
check "... counted in the summary" grep -q "lost to retention $LOW messages in 1 ranges" d.out
check "... the rest replayed: ids $LOW..299999 once, the chain from 0" \
  $CHECK d lossy --ends 0:300000 --ids "$LOW-299999"

# bad input: exit 2, the reason named, nothing left consuming
bad() { # bad DESCRIPTION PATTERN ARGS...
  local d=$1 p=$2
  shift 2
  "$S" replay "$@" >bad.out 2>&1
  local rc=$?
  check "$d: exit 2 (got $rc)" test $rc -eq 2
  check "$d: says '$p'" grep -q -- "$p" bad.out
}
bad "--to beyond the end" "partition 0 ends at 15000" --kafka "$B" --table-config t.json \
  --schema "$EX/events_schema.json" --partition 0 --from 0 --to 15001 --out e
bad "--to before --from" "before --from" --kafka "$B" --table-config t.json \
  --schema "$EX/events_schema.json" --partition 0 --from 10 --to 5 --out e
bad "an unknown partition" "has partitions 0..1: 7" --kafka "$B" --table-config t.json \
  --schema "$EX/events_schema.json" --partition 7 --from 0 --to 5 --out e
bad "a symbolic --from that is not one" "an offset or smallest" --kafka "$B" --table-config t.json \
  --schema "$EX/events_schema.json" --partition 0 --from largest --to 5 --out e
bad "a missing --out" "needs --kafka" --kafka "$B" --table-config t.json \
  --schema "$EX/events_schema.json" --partition 0 --from 0 --to 5
bad "a bad --time" "yyyyMMddTHHmmZ" --kafka "$B" --table-config t.json \
  --schema "$EX/events_schema.json" --partition 0 --from 0 --to 5 --out e --time 2024
start=$(date +%s)
bad "an unreachable broker" "metadata unavailable at 127.0.0.1:1" --kafka 127.0.0.1:1 \
  --table-config t.json --schema "$EX/events_schema.json" --partition 0 --from 0 --to 5 --out e
check "... within 30 s" test $(($(date +%s) - start)) -lt 30
# the mock creates a topic when asked for it: an empty one, replayed, makes no segment
python3 "$SLUICE_SRC/chaos/tools/mktable.py" "$EX/events_table.json" events empty "$B" >empty.json
replay --table-config empty.json --partition all --from smallest --to largest --out f >f.out 2>&1
check "an empty topic: exit 0" test $? -eq 0
check "... nothing replayed, no segment" grep -q "^replayed 0 offsets into 0 segments" f.out
bad "--verify without a controller" "needs --controller" --table events --verify
bad "--verify with a range option" "no --table-config" --controller http://127.0.0.1:1 \
  --table events --verify --from 0
start=$(date +%s)
bad "an unreachable controller" "cannot verify" --controller http://127.0.0.1:1 --table events --verify
check "... within 40 s" test $(($(date +%s) - start)) -lt 40
check "nothing was written for the refused runs" test ! -e e
finish
