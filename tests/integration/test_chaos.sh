#!/usr/bin/env bash
# sluice chaos (issue 10): the CI subset. Every named scenario once with one fixed seed and a
# short load, each ending with PASS (the fault happened, the cluster caught up, audit --deep
# found no violation); a random composition; the suite failing on builds broken on purpose
# (the KEEP CRC check skipped: I3; a DONE record written twice: I4); usage errors exit 2.
. "$(dirname "$0")/lib/harness.sh"
S=$SLUICE_BIN
W=$T_TMP/chaos
cd "$T_TMP"
# chaos runs stop every process they start; a run cut short by the timeout leaves its ZooKeeper
stop_zk() {
  for z in "$W"/*/zk "$W"/*/zk-*; do
    [ -e "$z/zk.pid" ] && bash "$SLUICE_SRC/deploy/zk-start.sh" --stop "$z" >/dev/null 2>&1
  done
  return 0
}
at_cleanup stop_zk

"$S" chaos list >list.out 2>&1
check "chaos list exits 0" test $? -eq 0
N=$(tail -n +2 list.out | grep -vc '^(--random)')
check "chaos list names the scenarios ($N)" test "$N" -ge 25
"$S" chaos run >/dev/null 2>&1
check "run without --scenario or --random: exit 2" test $? -eq 2
"$S" chaos run --scenario nosuch >u.out 2>&1
check "an unknown scenario: exit 2 naming it" bash -c "[ $? -eq 2 ] && grep -q 'unknown scenario nosuch' u.out"
"$S" chaos run --scenario none --random >/dev/null 2>&1
check "--scenario with --random: exit 2" test $? -eq 2
"$S" chaos run --scenario none --duration 1s >/dev/null 2>&1
check "--duration below 5s: exit 2" test $? -eq 2

"$S" chaos run --scenario none --jobs 9 >/dev/null 2>&1
check "--jobs above 8: exit 2" test $? -eq 2

# every named scenario once, seed 1, two clusters at a time (most runs wait out sessions)
timeout 900 "$S" chaos run --scenario all --seed 1 --duration 6s --jobs 2 --work "$W/all" >all.out 2>&1
rc=$?
cat all.out
# a run that did not pass: its history and its processes' warnings, for CI's log (the
# artifacts stay on the machine that ran it)
for h in $(awk '$4 != "PASS" && $4 != "SKIPPED" && $NF ~ /history.jsonl$/ {print $NF}' all.out); do
    d=$(dirname "$h")
    echo "---- $h"
    cut -c1-300 "$h"
    for l in "$d"/s?.log "$d"/c?.log; do
        [ -f "$l" ] && grep -E 'level=(warn|error)' "$l" | tail -40 | sed "s|^|$(basename "$l"): |" | cut -c1-300
    done
done
check "every named scenario passes (exit $rc)" test $rc -eq 0
check "... one PASS (or SKIPPED: no root for a tmpfs) row per scenario" \
  test "$(grep -cE '^[0-9]+ +[a-z-]+ +[0-9]+ +(PASS|SKIPPED) ' all.out)" -eq "$N"
check "... each job had its own ZooKeeper" test -d "$W/all/zk" -a -d "$W/all/zk-2"
check "... each row names its history file" \
  bash -c "for h in \$(awk '/ (PASS|SKIPPED) /{print \$NF}' all.out); do test -s \"\$h\" || exit 1; done"

timeout 300 "$S" chaos run --random --runs 2 --seed 5 --duration 6s --work "$W/random" >random.out 2>&1
rc=$?
cat random.out
check "two random runs pass (exit $rc)" test $rc -eq 0
check "... each injected a fault" bash -c "awk '/ PASS /{ if (\$7 < 1) bad=1 } END { exit bad }' random.out"
check "... the summary counts the faults by kind (as many as the rows' FAULTS) and no violation" \
  python3 - random.out <<'PY'
import re, sys
text = open(sys.argv[1]).read()
rows = sum(int(m.group(1)) for m in re.finditer(r"^\d+ +random +\d+ +PASS +\d+ +\d+ +(\d+)", text, re.M))
m = re.search(r"faults injected by kind:(.*); violations (\d+)", text)
kinds = sum(int(n) for n in re.findall(r" [a-z-]+ (\d+)", m.group(1))) if m else -1
sys.exit(0 if m and kinds == rows and m.group(2) == "0" else 1)
PY

# your own table config and schema: the load is rows of that schema, every one decoded
D=$SLUICE_SRC/tests/data
timeout 300 "$S" chaos run --scenario kill-sidecar --seed 2 --duration 6s --work "$W/own" \
  --table-config "$D/alltypes_realtime_table.json" --schema "$D/alltypes_schema.json" >own.out 2>&1
rc=$?
cat own.out
check "your own table and schema: PASS (exit $rc)" bash -c "[ $rc -eq 0 ] && grep -q ' PASS ' own.out"
check "... loadgen produced rows of that schema, no message malformed, rows rebuilt from Kafka" \
  bash -c "grep -q 'topic=alltypes' $W/own/run-1-kill-sidecar/loadgen.log &&
           grep -q 'malformed_messages=0' $W/own/run-1-kill-sidecar/audit.txt &&
           grep -Eq 'rebuilt_from_kafka=[1-9]' $W/own/run-1-kill-sidecar/audit.txt"
echo '{"schemaName":"x","dimensionFieldSpecs":[{"name":"a","dataType":"NOPE"}]}' >bad_schema.json
"$S" loadgen --bootstrap 127.0.0.1:1 --topic t --rows 1 --schema bad_schema.json 2>lg.err
check "loadgen --schema with a bad schema: exit 2 naming it" \
  bash -c "[ $? -eq 2 ] && grep -q 'schema' lg.err"

# builds broken on purpose: the suite must fail them
timeout 300 "$S" chaos run --scenario replica-diverges --seed 1 --duration 6s --work "$W/skipcrc" \
  --sidecar-set test.keep.skip.crc=true >skip.out 2>&1
rc=$?
cat skip.out
check "KEEP without its CRC check: FAIL, exit 1, I3 named" \
  bash -c "[ $rc -eq 1 ] && grep -q ' FAIL ' skip.out && grep -q '^VIOLATION I3' $W/skipcrc/run-1-replica-diverges/audit.txt"
timeout 300 "$S" chaos run --scenario none --seed 1 --duration 6s --work "$W/twice" \
  --controller-set test.commit.twice=true >twice.out 2>&1
rc=$?
cat twice.out
check "a DONE record written twice: FAIL, exit 1, I4 named" \
  bash -c "[ $rc -eq 1 ] && grep -q ' FAIL ' twice.out && grep -q '^VIOLATION I4' $W/twice/run-1-none/audit.txt"
finish
