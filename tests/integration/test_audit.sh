#!/usr/bin/env bash
# sluice audit against a live cluster (the quickstart's: ZooKeeper, kafka-mock, a controller,
# three sidecars): clean, with and without --deep (segments rebuilt from Kafka with the
# committed CRC); then broken on purpose, each break named with its evidence and exit 1: a
# flipped byte in a replica's file (I3), a replica's file replaced by another valid segment
# (I3), a sidecar down (unverified, not a violation); a standalone data dir (the store's
# files): clean, a chain's first file gone (I1), bit rot (I6); a standalone
# sidecar that perturbs a row: --deep names the row and its Kafka offset (I2); bad usage and an
# unreachable cluster exit 2.
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/qs.sh"
SLUICE=$SLUICE_BIN
qs_start

audit() { "$SLUICE" audit --zk "$ZK" --cluster quickstart "$@"; }

audit >"$T_TMP/a1.out" 2>"$T_TMP/a1.err"
rc=$?
check "a clean cluster: exit 0" test $rc -eq 0
check "a clean cluster: verdict ok" grep -q '^verdict: ok (0 violations' "$T_TMP/a1.out"
check "replica copies were compared (I3 checked > 0)" \
  awk '/^I3 replica equality/ { exit !($4 > 0) }' "$T_TMP/a1.out"
check "every DONE segment was downloaded and verified (I6 checked > 0)" \
  awk '/^I6 durability/ { exit !($3 > 0) }' "$T_TMP/a1.out"

audit --deep --json >"$T_TMP/deep.json" 2>"$T_TMP/deep.err"
rc=$?
check "--deep on a clean cluster: exit 0" test $rc -eq 0
check "--deep rebuilt segments from Kafka with their committed CRC" python3 -c "
import json,sys; r=json.load(open('$T_TMP/deep.json'))
assert r['verdict']=='ok' and r['rebuiltFromKafka']>0, r
assert all(u['invariant'] in ('I2','I6') for u in r['unverified']), r['unverified']"

# a replica's file with a flipped byte: I3, naming the instance
SEG2=$(ls "$QS/sidecar2/events/"*.seg | head -1)
NAME2=$(basename "$SEG2" .seg)
python3 -c "import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[200]^=4; open(p,'wb').write(b)" "$SEG2"
audit >"$T_TMP/a2.out" 2>&1
rc=$?
check "bit rot on a replica: exit 1" test $rc -eq 1
check "bit rot on a replica: I3 names the segment and sidecar-2" \
  grep -q "^VIOLATION I3 table=events partition=[0-9] segment=$NAME2 instance=sidecar-2: the replica's file fails verification" "$T_TMP/a2.out"

# the same replica's file replaced by another, valid segment: a CRC mismatch
OTHER=$(ls "$QS/sidecar2/events/"*.seg | sed -n 2p)
cp "$OTHER" "$SEG2"
audit --json >"$T_TMP/a3.json" 2>&1
rc=$?
check "a wrong but valid file on a replica: exit 1" test $rc -eq 1
check "a wrong but valid file: I3 with both CRCs" python3 -c "
import json; r=json.load(open('$T_TMP/a3.json'))
v=[x for x in r['violations'] if x['invariant']=='I3']
assert len(v)==1 and v[0]['segment']=='$NAME2' and v[0]['instance']=='sidecar-2' and 'was committed' in v[0]['evidence'], r"

# sidecar-3 down: what it holds is unverified, never a pass nor a violation of its own
PID3=$(awk '$1=="sidecar-3" {print $2}' "$QS/pids")
require "sidecar-3's PID is recorded" test -n "$PID3"
kill -STOP "$PID3"
audit --timeout 2s >"$T_TMP/a4.out" 2>&1
rc=$?
kill -CONT "$PID3"
check "a sidecar that does not answer: still exit 1 for sidecar-2's file only" test $rc -eq 1
check "a sidecar that does not answer: its copies unverified" \
  grep -q "^unverified I3 .*instance=sidecar-3: sidecar not reachable" "$T_TMP/a4.out"
check "a sidecar that does not answer: one violation (sidecar-2's)" \
  grep -q "^verdict: VIOLATIONS (1 violations" "$T_TMP/a4.out"

# the store's files as a standalone data dir
SCHEMA=$SLUICE_SRC/deploy/examples/events_schema.json
sa_audit() { "$SLUICE" audit --data-dir "$1" --table-config "$QS/events_table.json" --schema "$SCHEMA" "${@:2}"; }
cp -r "$QS/controller" "$T_TMP/store"
sa_audit "$T_TMP/store" >"$T_TMP/s1.out" 2>&1
rc=$?
check "a standalone data dir that is whole: exit 0" test $rc -eq 0
FIRST=$(ls "$T_TMP/store/events/"events__1__0__*.seg)
require "the store holds partition 1's first segment" test -f "$FIRST"
rm "$FIRST"
sa_audit "$T_TMP/store" >"$T_TMP/s2.out" 2>&1
rc=$?
check "the first file of a chain gone: exit 1 with I1 a segment missing" \
  bash -c "[ $rc -eq 1 ] && grep -q '^VIOLATION I1 table=events partition=1 .*a segment is missing' '$T_TMP/s2.out'"
ROT=$(ls "$T_TMP/store/events/"events__2__*.seg | head -1)
python3 -c "import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[64]^=1; open(p,'wb').write(b)" "$ROT"
sa_audit "$T_TMP/store" >"$T_TMP/s3.out" 2>&1
check "bit rot in a standalone file: I6 names it" \
  grep -q "^VIOLATION I6 table=events partition=2 segment=$(basename "$ROT" .seg): the file fails verification" "$T_TMP/s3.out"

# a standalone sidecar whose builds alter row 3: --deep compares every row with Kafka
qs_standalone audit "test.perturb.row = 3"
kill -TERM $SA
wait_exit 30 $SA
check "the standalone sidecar exits 0 on SIGTERM" test $? -eq 0
sa_audit "$T_TMP/sa" --deep --kafka "$KAFKA" >"$T_TMP/s4.out" 2>&1
rc=$?
check "a perturbed row: --deep exits 1" test $rc -eq 1
check "a perturbed row: I2 names stored row 2 and its Kafka offset" \
  grep -q "^VIOLATION I2 table=events partition=0 segment=.*: stored row 2 differs from the message Kafka holds at offset [0-9]" "$T_TMP/s4.out"
sa_audit "$T_TMP/sa" --kafka "$KAFKA" >"$T_TMP/s5.out" 2>&1
rc=$?
check "without --deep the same files pass (the CRC proves nothing of the rows)" test $rc -eq 0

# usage and an unreachable cluster
"$SLUICE" audit --zk "$ZK" >/dev/null 2>&1
check "--zk without --cluster: exit 2" test $? -eq 2
"$SLUICE" audit --zk "$ZK" --cluster quickstart --data-dir /tmp >/dev/null 2>&1
check "--zk with --data-dir: exit 2" test $? -eq 2
"$SLUICE" audit --zk "$ZK" --cluster quickstart --table nosuch >"$T_TMP/u1.out" 2>&1
rc=$?
check "an unknown table: exit 2 naming it" \
  bash -c "[ $rc -eq 2 ] && grep -q 'table nosuch: no such table' '$T_TMP/u1.out'"
"$SLUICE" audit --zk 127.0.0.1:1 --cluster quickstart --timeout 1s >"$T_TMP/u2.out" 2>&1
rc=$?
check "ZooKeeper unreachable: exit 2, cannot audit" \
  bash -c "[ $rc -eq 2 ] && grep -q 'cannot audit' '$T_TMP/u2.out'"
finish
