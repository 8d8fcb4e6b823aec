#!/usr/bin/env bash
# consumer.type = highlevel: the sidecar's workers join a Kafka consumer group and commit
# offsets only after the segment holding the rows before them is published. Proof: wipe the
# data dir after a run; the restarted sidecar (no files to resume from) must start exactly
# where the last published segment ended, i.e. at the committed offset.
source "$(dirname "$0")/lib/harness.sh"
S=$SLUICE_BIN
EX=$SLUICE_SRC/deploy/examples
CHECK="python3 $SLUICE_SRC/chaos/tools/segcheck.py $S"
cd "$T_TMP"

"$S" kafka-mock --brokers 1 --topic hl:2 > boot.txt 2>mock.log &
track_pid $!
wait_for 10 test -s boot.txt || { not_ok "kafka-mock did not start"; finish; exit 1; }
B=$(head -1 boot.txt)
python3 "$SLUICE_SRC/chaos/tools/mktable.py" "$EX/events_table.json" hl hl "$B" --rows 1000 --time 1h \
  --stream stream.kafka.consumer.type=highlevel --stream stream.kafka.consumer.prop.group.id=hl-group \
  --stream stream.kafka.consumer.prop.session.timeout.ms=6000 \
  --stream stream.kafka.consumer.prop.heartbeat.interval.ms=500 > hl.table.json
cat > hl.conf <<CONF
cluster.name = it
instance.id = hl1
mode = standalone
http.port = 0
http.bind = 127.0.0.1
data.dir = $T_TMP/data
table.config = $T_TMP/hl.table.json
table.schema = $EX/events_schema.json
consumer.threads = 2
CONF

"$S" loadgen --bootstrap "$B" --topic hl --rows 5500 --partitions 2 2>/dev/null
check "loadgen delivered" test $? -eq 0
"$S" sidecar --config hl.conf 2>hl1.log &
SC=$!; track_pid $SC
# 2750 rows per partition, 1000-row segments: 2 segments each (end 2000), 750 rows consuming
wait_for 60 $CHECK data hl --wait-ends 0:2000,1:2000
check "group members consumed both partitions" test $? -eq 0
check "ids published once so far" $CHECK data hl --ends 0:2000,1:2000 --ids 0-3999
check "log shows group assignment" grep -q "group assigned" hl1.log
kill_child -TERM $SC; wait_exit 30 $SC
rc=$?
check "SIGTERM exits 0 within 30 s (got $rc)" test $rc -eq 0

rm -rf data  # only the group's committed offsets remain
"$S" loadgen --bootstrap "$B" --topic hl --rows 500 --partitions 2 --start-id 5500 2>/dev/null
check "loadgen delivered 500 more" test $? -eq 0
"$S" sidecar --config hl.conf 2>hl2.log &
SC=$!; track_pid $SC
wait_for 60 $CHECK data hl --wait-ends 0:3000,1:3000 --starts 0:2000,1:2000
check "restart resumed from the committed offsets (2000), not from 0 or 2750" test $? -eq 0
check "resumed segments start at 2000 and chain" $CHECK data hl --starts 0:2000,1:2000 --ends 0:3000,1:3000 --ids 4000-5999
kill_child -TERM $SC; wait_exit 30 $SC
rc=$?
check "... and SIGTERM exits 0 again (got $rc)" test $rc -eq 0
finish
