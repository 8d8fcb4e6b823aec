#!/usr/bin/env bash
# `sluice audit` against builds broken on purpose, and the completion's test knobs (DESIGN §7,
# docs/testing.md). One cluster (ZooKeeper, kafka-mock, a controller at a time, three sidecars):
#   a. healthy: streamed into a 2-partition table with a 2 s time threshold, the audit is clean;
#   b. sidecar-3 with test.perturb.row and test.keep.skip.crc publishes its own divergent build
#      on KEEP: the audit names the segment and sidecar-3 (I3); a normal restart heals it;
#   c. a controller with test.commit.twice writes a DONE record again after its commit: I4;
#   d. test.commit.fault on the committer: exit_before_commit_start (exit 86, the others commit
#      without it, a normal restart converges) and stop_before_commit_end (SIGSTOP with the
#      upload done, another replica commits, SIGCONT: it keeps its equal build).
# Each knob table gets its rows before the table exists, so every replica holds all of them when
# the time threshold ends the segment: the reports tie and the controller picks the smallest
# instance id, sidecar-1 (a row threshold would not do: a lone reporter on the row limit wins at
# once, whichever it is).
source "$(dirname "$0")/lib/harness.sh"
source "$(dirname "$0")/lib/zk.sh"
# commit budget 4 s: a committer that died or froze is replaced within seconds
CTL_SETS="--set completion.hold.time=2s --set completion.commit.timeout=4s"
source "$(dirname "$0")/lib/cluster.sh"
cd "$T_TMP" || exit 1

zk_start "$T_TMP/zk" || { not_ok "zookeeper did not start"; finish; exit 1; }
"$S" kafka-mock --brokers 1 --topic ok:2 --topic div:1 --topic twice:1 --topic crash:1 \
  --topic pause:1 >boot.txt 2>mock.log &
track_pid $!
require "kafka-mock printed its bootstrap line" wait_for 10 test -s boot.txt
B=$(head -1 boot.txt)
common="--set cluster.name=bb --set zk.connect=$ZK_CONNECT --set http.bind=127.0.0.1 --set zk.session.timeout=3s"
ROWS=200
for t in div twice crash pause; do # the knob tables' rows, before their tables exist
  timeout 30 "$S" loadgen --bootstrap "$B" --topic $t --rows $ROWS --partitions 1 2>"lg-$t.err"
  require "loadgen $ROWS rows into $t" test $? -eq 0
done

audit() { # audit NAME [--table T]: NAME.out, exit status in $ARC
  "$S" audit --zk "$ZK_CONNECT" --cluster bb --timeout 5s "${@:2}" >"$1.out" 2>&1
  ARC=$?
}
add_table() { # add_table NAME CONTROLLER_URL: topic NAME, its time threshold 2 s, no row limit
  mk_table "$1" "$1" 0 2s
  "$S" table add --controller "$2" --table-config "$1.json" --schema "$EX/events_schema.json" \
    >"add-$1.out" 2>&1
  require "table $1 added" test $? -eq 0
}
# first TABLE: the name of partition 0's first segment, from sidecar-2's data dir
first() { basename "$(ls s2/"$1"/"$1"__0__0__*.seg 2>/dev/null | head -1)" .seg; }
committer() { # committer TABLE SEGMENT: the DONE record's committer
  "$S" zk dump --zk "$ZK_CONNECT" --cluster bb --path "tables/$1/segments/$2" 2>/dev/null |
    python3 -c 'import json,sys; d=json.load(sys.stdin); r=next(iter(d.values())); print(r["committer"] if r.get("status")=="DONE" else "")'
}
stopped() { [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = T ]; } # stopped PID: SIGSTOPped

start_ctl c1; U1=$CURL; P1=$CPID
require "c1 leads" wait_for 15 is_leader "$U1"
for i in 1 2 3; do start_sidecar $i; done

# --- a. a healthy cluster: the audit is clean -----------------------------------------------
mk_table ok ok 0 2s
"$S" table add --controller "$U1" --table-config ok.json --schema "$EX/events_schema.json" >add-ok.out 2>&1
require "table ok added" test $? -eq 0
timeout 30 "$S" loadgen --bootstrap "$B" --topic ok --rows 3000 --partitions 2 --rate 1500 2>lg-ok.err
check "loadgen ok: 3000 rows while the replicas consume" test $? -eq 0
check "ok: every replica published both partitions to the end" wait_for 30 published_to ok 0:1500,1:1500
check "ok: the replicas hold identical files" identical ok
audit a
check "a healthy cluster: audit exit 0 (got $ARC)" test $ARC -eq 0
check "... verdict ok, replica copies compared" \
  bash -c "grep -q '^verdict: ok (0 violations' a.out && awk '/^I3 replica equality/ { exit !(\$4 > 0) }' a.out"

# --- b. KEEP without the CRC comparison: a divergent replica, I3 -------------------------------
stop_sidecar 3
off3=$(logsize s3.log)
start_sidecar 3 --set test.keep.skip.crc=true --set test.perturb.row=2
check "sidecar-3 warns that test.keep.skip.crc is on" logged s3.log "$off3" "test knob: test.keep.skip.crc is on"
add_table div "$U1"
check "div: every replica published its $ROWS rows" wait_for 30 published_to div 0:$ROWS
DIV=$(first div)
check "div: sidecar-1 committed $DIV (tie broken by instance id)" test "$(committer div "$DIV")" = sidecar-1
check "sidecar-3 published its divergent build of $DIV" \
  logged s3.log "$off3" "test knob: publishing a divergent build segment=$DIV "
audit b --table div
check "a divergent replica: audit exit 1 (got $ARC)" test $ARC -eq 1
check "... VIOLATION I3 names $DIV and sidecar-3" grep -q \
  "^VIOLATION I3 table=div partition=0 segment=$DIV instance=sidecar-3: the replica's file has crc [0-9]* where [0-9]* was committed" b.out
check "... and only that one" grep -q '^verdict: VIOLATIONS (1 violations' b.out
stop_sidecar 3
start_sidecar 3 # a normal restart checks every file's CRC and downloads the committed copy
check "after a normal restart sidecar-3's copy of $DIV is the committed one" wait_for 20 identical div
audit b2 --table div
check "... and the audit of div is clean again (got $ARC)" test $ARC -eq 0

# --- c. a second write of a DONE record: I4 ---------------------------------------------------
start_ctl c2 --set test.commit.twice=true; U2=$CURL; P2=$CPID
kill_child -TERM $P1
wait_exit 30 $P1
rc=$?
check "c1 stopped by SIGTERM: exit 0 (got $rc)" test $rc -eq 0
require "c2 (test.commit.twice) leads" wait_for 20 is_leader "$U2"
add_table twice "$U2"
check "twice: every replica published its $ROWS rows" wait_for 30 published_to twice 0:$ROWS
TW=$(first twice)
check "c2 wrote the DONE record of $TW a second time" grep -q "test knob: DONE record written a second time segment=$TW " c2.log
audit c --table twice
check "a DONE record changed after its commit: audit exit 1 (got $ARC)" test $ARC -eq 1
check "... VIOLATION I4 names $TW" grep -q \
  "^VIOLATION I4 table=twice partition=0 segment=$TW: the DONE record changed after its commit" c.out
start_ctl c3; U3=$CURL
kill_child -TERM $P2
wait_exit 30 $P2
rc=$?
check "c2 stopped by SIGTERM: exit 0 (got $rc)" test $rc -eq 0
require "c3 (no knob) leads" wait_for 20 is_leader "$U3"

# --- d. the committer exits before CommitStart ---------------------------------------------------
stop_sidecar 1
off1=$(logsize s1.log)
start_sidecar 1 --set test.commit.fault=exit_before_commit_start
add_table crash "$U3"
wait_exit 30 "${SPID[1]}"
rc=$?
check "sidecar-1, the committer, exited 86 at the knob (got $rc)" test $rc -eq 86
check "... logging it" logged s1.log "$off1" "test knob: exiting at before_commit_start segment=crash__0__0__"
check "the other replicas committed the segment without it" wait_for 40 published_on crash 0:$ROWS 2 3
CR=$(first crash)
check "... with another committer (sidecar-2)" test "$(committer crash "$CR")" = sidecar-2
start_sidecar 1
check "sidecar-1 restarted normally gets $CR" wait_for 30 published_to crash 0:$ROWS
check "... identical on the three replicas" identical crash
audit d1 --table crash
check "after the crash and restart: audit exit 0 (got $ARC)" test $ARC -eq 0

# --- d. the committer stopped (SIGSTOP) after its upload, before CommitEnd ------------------------
stop_sidecar 1
off1=$(logsize s1.log)
start_sidecar 1 --set test.commit.fault=stop_before_commit_end
add_table pause "$U3"
check "sidecar-1, the committer, stopped itself before CommitEnd" wait_for 30 stopped "${SPID[1]}"
check "... logging it" logged s1.log "$off1" "test knob: stopping at before_commit_end segment=pause__0__0__"
check "the other replicas committed the segment meanwhile" wait_for 40 published_on pause 0:$ROWS 2 3
PA=$(first pause)
check "... with another committer (sidecar-2)" test "$(committer pause "$PA")" = sidecar-2
check "sidecar-1 resumed (SIGCONT)" signal -CONT "${SPID[1]}"
check "sidecar-1 publishes $PA too" wait_for 30 published_to pause 0:$ROWS
check "... identical on the three replicas" wait_for 10 identical pause
check "... and sidecar-1 is still running and healthy" wait_for 20 healthy "${SURL[1]}"
audit d2 --table pause
check "after the stop and resume: audit exit 0 (got $ARC)" test $ARC -eq 0
finish
