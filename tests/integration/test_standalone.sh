#!/usr/bin/env bash
# Standalone sidecar end to end on kafka-mock: loadgen and kcat produce, 4 partitions are
# consumed into segment files; every event id lands exactly once, offsets chain without gap
# or overlap, malformed messages are counted and dead-lettered, never stored. Then the
# faults: broker down mid-stream, kill -9 mid-segment and restart, and retention trimming
# while the sidecar is stopped (an exact data-loss range).
source "$(dirname "$0")/lib/harness.sh"
S=$SLUICE_BIN
EX=$SLUICE_SRC/deploy/examples
CHECK="python3 $SLUICE_SRC/chaos/tools/segcheck.py $S"
cd "$T_TMP"

"$S" kafka-mock --brokers 1 --topic events:4 --topic lossy:1 --topic subset:3 --control-port 0 \
  --control-file ctl.addr > boot.txt 2>mock.log &
track_pid $!
wait_for 10 test -s ctl.addr || { not_ok "kafka-mock did not start"; finish; exit 1; }
B=$(head -1 boot.txt)
CTL=$(cat ctl.addr)
ctl() { # one control command over TCP, prints the reply line
  exec 3<>/dev/tcp/${CTL%:*}/${CTL#*:}; echo "$1" >&3; head -1 <&3; exec 3>&-
}

mk_table() { # mk_table NAME TOPIC: example table with fast thresholds and this broker
  python3 "$SLUICE_SRC/chaos/tools/mktable.py" "$EX/events_table.json" "$1" "$2" "$B" --rows 3000 --time 1s > "$1.table.json"
  sed "s/\"schemaName\": *\"events\"/\"schemaName\": \"events\"/" "$EX/events_schema.json" > "$1.schema.json"
  cat > "$1.conf" <<CONF
cluster.name = it
instance.id = sa-$1
mode = standalone
http.port = 0
http.bind = 127.0.0.1
data.dir = $T_TMP/data
table.config = $T_TMP/$1.table.json
table.schema = $EX/events_schema.json
consumer.threads = 2
consumer.dead.letter.file = $T_TMP/$1.dlq.jsonl
CONF
}
SC_PID=
start_sidecar() { # start_sidecar NAME
  "$S" sidecar --config "$1.conf" >>"$1.out" 2>>"$1.log" &
  SC_PID=$!
  track_pid $SC_PID
}
mk_table events events
mk_table lossy lossy
mk_table subset subset

# --- exactly once, malformed messages --------------------------------------------------
"$S" loadgen --bootstrap "$B" --topic events --rows 20000 --partitions 4 2>/dev/null
check "loadgen delivered 20000 rows" test $? -eq 0
printf 'not json\n[1,2]\n{"event_id":"abc"}\n' | kcat -P -b "$B" -t events -p 1
check "kcat produced 3 malformed messages" test $? -eq 0
start_sidecar events
wait_for 60 $CHECK data events --wait-ends 0:5000,1:5003,2:5000,3:5000
check "all 20003 offsets published within 60s" test $? -eq 0
check "chain contiguous, ids 0..19999 exactly once" $CHECK data events --ends 0:5000,1:5003,2:5000,3:5000 --ids 0-19999
check "3 malformed messages dead-lettered" test "$(grep -c '"partition":1,"offset":500[012]' events.dlq.jsonl)" -eq 3
PORT=$(grep -o 'http=127.0.0.1:[0-9]*' events.log | tail -1 | cut -d: -f2)
curl -s "127.0.0.1:$PORT/metrics" > m1.txt
check "metric: malformed_json counted" grep -q 'sluice_decode_errors_total{table="events",partition="1",reason="malformed_json"} 1' m1.txt
check "metric: not_object counted" grep -q 'reason="not_object"} 1' m1.txt
check "metric: wrong_type counted" grep -q 'reason="wrong_type"} 1' m1.txt
check "metric: rows per partition" grep -q 'sluice_rows_consumed_total{table="events",partition="0"} 5000' m1.txt
check "health is ok" bash -c "curl -sf 127.0.0.1:$PORT/health | grep -q '\"status\":\"ok\"'"
seg=$(ls data/events | head -1)
curl -sf -o dl.seg "127.0.0.1:$PORT/segments/events/${seg%.seg}"
check "GET /segments serves the file" cmp -s dl.seg "data/events/$seg"
check "GET /segments with traversal is 400" test "$(curl -s -o /dev/null -w '%{http_code}' "127.0.0.1:$PORT/segments/events/..%2F..%2Fetc")" = 400

# --- broker down for seconds mid-stream ------------------------------------------------
"$S" loadgen --bootstrap "$B" --topic events --rows 20000 --partitions 4 --start-id 20000 --rate 10000 2>lg2.err &
LG=$!
track_pid $LG
sleep 1
check "control: broker down" test "$(ctl 'broker-down all')" = ok
sleep 3
check "control: broker up" test "$(ctl 'broker-up all')" = ok
wait_exit 60 $LG
rc=$?
check "loadgen delivered through the outage (exit $rc)" test $rc -eq 0
wait_for 60 $CHECK data events --wait-ends 0:10000,1:10003,2:10000,3:10000
check "consumption caught up after the outage" test $? -eq 0
check "after outage: ids 0..39999 exactly once" $CHECK data events --ends 0:10000,1:10003,2:10000,3:10000 --ids 0-39999

# --- kill -9 mid-segment, restart -------------------------------------------------------
"$S" loadgen --bootstrap "$B" --topic events --rows 20000 --partitions 4 --start-id 40000 --rate 10000 2>/dev/null &
LG=$!
track_pid $LG
sleep 1
check "sidecar killed (kill -9) mid-segment" kill_child -9 $SC_PID
wait_exit 60 $LG
rc=$?
check "loadgen finished while the sidecar was down (exit $rc)" test $rc -eq 0
start_sidecar events
wait_for 60 $CHECK data events --wait-ends 0:15000,1:15003,2:15000,3:15000
check "restarted sidecar caught up" test $? -eq 0
check "after kill -9: ids 0..59999 exactly once" $CHECK data events --ends 0:15000,1:15003,2:15000,3:15000 --ids 0-59999
check "no temp file left behind" test -z "$(find data -name '*.tmp.*')"
kill_child -TERM $SC_PID; wait_exit 30 $SC_PID
rc=$?
check "SIGTERM exits 0 within 30 s (got $rc)" test $rc -eq 0

# --- retention trims while the sidecar is stopped: exact data-loss range ----------------
"$S" loadgen --bootstrap "$B" --topic lossy --rows 1000 --partitions 1 2>/dev/null
check "lossy: loadgen delivered 1000 rows" test $? -eq 0
start_sidecar lossy
wait_for 30 $CHECK data lossy --wait-ends 0:1000
check "lossy: first 1000 rows published" test $? -eq 0
kill_child -TERM $SC_PID; wait_exit 30 $SC_PID
rc=$?
check "lossy: the sidecar stopped on SIGTERM, exit 0 within 30 s (got $rc)" test $rc -eq 0
"$S" loadgen --bootstrap "$B" --topic lossy --rows 300000 --partitions 1 --start-id 1000 2>/dev/null
check "lossy: loadgen delivered 300000 rows while it was stopped" test $? -eq 0
LOW=$(kcat -C -b "$B" -t lossy -p 0 -o beginning -c 1 -e -f '%o\n' 2>/dev/null)
check "the mock trimmed the partition (low watermark $LOW > 1000)" test "${LOW:-0}" -gt 1000
start_sidecar lossy
wait_for 30 grep -q data_loss lossy.dlq.jsonl
check "data loss recorded" test $? -eq 0
check "data-loss range is exactly [1000, $LOW)" grep -q "\"reason\":\"data_loss\",\"from\":1000,\"to\":$LOW}" lossy.dlq.jsonl
check "data loss logged with the range" grep -q "data_loss table=lossy partition=0 from=1000 to=$LOW" lossy.log
wait_for 60 $CHECK data lossy --wait-ends 0:301000
check "lossy: consumed to the end after the loss" test $? -eq 0
check "lossy: chain still contiguous, surviving ids present once" $CHECK data lossy --ends 0:301000 --ids "0-999,$LOW-300999"

# --- stream.kafka.partition.ids: the table consumes partitions 2 and 0 of three -----------------
kill_child -TERM $SC_PID; wait_exit 30 $SC_PID
python3 - subset.table.json <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
sc = t.get("tableIndexConfig", {}).get("streamConfigs") or \
    t["ingestionConfig"]["streamIngestionConfig"]["streamConfigMaps"][0]
sc["stream.kafka.partition.ids"] = "2,0"
json.dump(t, open(sys.argv[1], "w"))
PY
"$S" loadgen --bootstrap "$B" --topic subset --rows 3000 --partitions 3 2>/dev/null
check "subset: loadgen delivered 1000 rows to each of 3 partitions" test $? -eq 0
start_sidecar subset
wait_for 30 $CHECK data subset --wait-ends 0:1000,2:1000
check "subset: partitions 0 and 2 published to their ends, chains contiguous" $CHECK data subset --ends 0:1000,2:1000
check "subset: nothing of partition 1" bash -c "! ls data/subset/ | grep -q '^subset__1__'"
check "subset: the log names the two partitions consumed" grep -q "table=subset topic=subset partitions=2" subset.log
kill_child -TERM $SC_PID; wait_exit 30 $SC_PID
sed -i 's/^table.config = .*/&\npartitions = 1/' subset.conf
"$S" sidecar --config subset.conf >subset1.out 2>subset1.err
check "subset: a sidecar partitions option outside the table's list fails at start, naming it" \
  grep -q "partitions: 1 is not one of the table's stream.kafka.partition.ids" subset1.err
finish
