#!/usr/bin/env bash
# The standalone restart checkpoint comes from each file's own metadata, checked against its
# name and its neighbours, never from the newest file name alone. A copy of segment 1 saved
# under segment 8's name, and a corrupted older segment, must each be moved to
# <table>/quarantine/ (not deleted), the chain cut there, and consumption resumed from the
# last consistent end offset: `sluice segment info` on every published file then shows one
# chain without gap or overlap, and every event id is published exactly once.
source "$(dirname "$0")/lib/harness.sh"
S=$SLUICE_BIN
EX=$SLUICE_SRC/deploy/examples
CHECK="python3 $SLUICE_SRC/chaos/tools/segcheck.py $S"
cd "$T_TMP" || exit 1

"$S" kafka-mock --brokers 1 --topic ck:1 > boot.txt 2>mock.log &
track_pid $!
wait_for 10 test -s boot.txt || { not_ok "kafka-mock did not start"; finish; exit 1; }
B=$(head -1 boot.txt)
# segment k holds offsets [50k, 50k+50)
python3 "$SLUICE_SRC/chaos/tools/mktable.py" "$EX/events_table.json" ck ck "$B" --rows 50 --time 1h > ck.table.json
cat > ck.conf <<CONF
cluster.name = it
instance.id = sa-ck
mode = standalone
http.port = 0
http.bind = 127.0.0.1
data.dir = $T_TMP/data
table.config = $T_TMP/ck.table.json
table.schema = $EX/events_schema.json
consumer.threads = 1
CONF
D=$T_TMP/data/ck
Q=$D/quarantine
SC_PID=
start_sidecar() {
  : > ck.log
  "$S" sidecar --config ck.conf >>ck.out 2>>ck.log &
  SC_PID=$!
  track_pid $SC_PID
}
stop_sidecar() { # SIGTERM; the sidecar's exit status, or 124 when it is still running after 30 s
  kill_child -TERM $SC_PID
  wait_exit 30 $SC_PID
}
seg() { ls "$D" | grep "^ck__0__$1__.*\.seg$" | head -1; } # file of sequence N
health() {
  local port
  port=$(grep -o 'http=127.0.0.1:[0-9]*' ck.log | tail -1 | cut -d: -f2)
  curl -s "127.0.0.1:${port:-1}/health"
}
# every file left in the table dir verifies (no corrupt file stays published)
all_verify() { for f in "$D"/*.seg; do "$S" segment verify "$f" >/dev/null 2>&1 || return 1; done; }

"$S" loadgen --bootstrap "$B" --topic ck --rows 450 --partitions 1 2>/dev/null
check "loadgen delivered (--rows 450 --partitions 1)" test $? -eq 0
start_sidecar
wait_for 60 $CHECK data ck --wait-ends 0:450
check "segments 0..8 published ([0, 450))" $CHECK data ck --ends 0:450 --ids 0-449
check "sidecar stopped (SIGTERM: exit 0 within 30 s)" stop_sidecar

# --- a copy of segment 1 saved under segment 8's name ------------------------------------
S1=$(seg 1)
S8=$(seg 8)
cp "$D/$S1" "$D/$S8"
"$S" loadgen --bootstrap "$B" --topic ck --rows 50 --partitions 1 --start-id 450 2>/dev/null
check "loadgen delivered (--rows 50 --partitions 1 --start-id 450)" test $? -eq 0
start_sidecar
wait_for 60 $CHECK data ck --wait-ends 0:500
check "misnamed: consumption went on to 500" test $? -eq 0
check "misnamed: one chain, no offset published twice, ids 0..499 once" \
  $CHECK data ck --ends 0:500 --ids 0-499
check "misnamed: the copy is quarantined, not deleted" cmp -s "$D/$S1" "$Q/$S8"
check "misnamed: the quarantined file is the copy of segment 1" \
  bash -c "'$S' segment info '$Q/$S8' | grep -q '\"sequence\":1'"
check "misnamed: logged with the reason" grep -q "quarantined table=ck partition=0 segment=${S8%.seg} .*misnamed" ck.log
check "misnamed: resumed after segment 7 at offset 400" grep -q "resume table=ck partition=0 after=$(seg 7 | sed 's/\.seg$//') start=400" ck.log
check "misnamed: health ok and counts the quarantined file" \
  bash -c "h=\$(cat); echo \"\$h\" | grep -q '\"quarantinedFiles\":1' && echo \"\$h\" | grep -q '\"status\":\"ok\"'" <<<"$(health)"
check "sidecar stopped (SIGTERM: exit 0 within 30 s)" stop_sidecar

# --- a corrupted older segment -------------------------------------------------------------
S3=$(seg 3)
size=$(stat -c %s "$D/$S3")
printf '\xff\xfe' | dd of="$D/$S3" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
cp "$D/$S3" corrupt3.seg
check "the corrupted file fails verify" bash -c "! '$S' segment verify '$D/$S3' >/dev/null 2>&1"
"$S" loadgen --bootstrap "$B" --topic ck --rows 50 --partitions 1 --start-id 500 2>/dev/null
check "loadgen delivered (--rows 50 --partitions 1 --start-id 500)" test $? -eq 0
start_sidecar
wait_for 60 $CHECK data ck --wait-ends 0:550
check "corrupt: consumption went on to 550" test $? -eq 0
check "corrupt: one chain, no offset published twice, ids 0..549 once" \
  $CHECK data ck --ends 0:550 --ids 0-549
check "corrupt: no corrupt file stays published" all_verify
check "corrupt: the corrupted file is quarantined as it was" cmp -s "$Q/$S3" corrupt3.seg
check "corrupt: quarantined with the verification failure" grep -q "quarantined table=ck partition=0 segment=${S3%.seg} .*fails verification" ck.log
check "corrupt: the 6 later files (4..9) moved aside too, after the cut" \
  test "$(grep -c "reason=\"after the cut at ${S3%.seg}\"" ck.log)" -eq 6
check "corrupt: resumed after segment 2 at offset 150" grep -q "resume table=ck partition=0 after=$(seg 2 | sed 's/\.seg$//') start=150" ck.log
check "corrupt: health ok, 7 files quarantined" \
  bash -c "h=\$(cat); echo \"\$h\" | grep -q '\"quarantinedFiles\":7' && echo \"\$h\" | grep -q '\"status\":\"ok\"'" <<<"$(health)"
check "nothing was deleted: 8 files in quarantine/" test "$(ls "$Q" | wc -l)" -eq 8
check "sidecar stopped (SIGTERM: exit 0 within 30 s)" stop_sidecar

# --- a clean restart quarantines nothing and resumes after the newest -----------------------
start_sidecar
wait_for 20 grep -q "resume table=ck" ck.log
check "clean restart: resumed at 550" grep -q "resume table=ck partition=0 after=.* start=550" ck.log
check "clean restart: nothing quarantined" bash -c "! grep -q quarantined ck.log"
stop_sidecar
check "SIGTERM exits 0" test $? -eq 0

# --- a file that cannot be moved aside stops the start instead of staying published ----------
mv "$Q" "$D/quarantine.kept"
: > "$Q" # a plain file where the directory should be
LAST=$(seg 10)
size=$(stat -c %s "$D/$LAST")
printf '\xff\xfe' | dd of="$D/$LAST" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
timeout 30 "$S" sidecar --config ck.conf > /dev/null 2> nomove.log
check "cannot quarantine: the sidecar refuses to start" test $? -eq 1
check "cannot quarantine: the reason names the file" grep -q "cannot move ${LAST} to quarantine/" nomove.log
check "cannot quarantine: the file was left where it was" test -f "$D/$LAST"
finish
