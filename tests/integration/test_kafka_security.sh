#!/usr/bin/env bash
# Kafka security passes through to librdkafka (DESIGN §12), as far as librdkafka's mock cluster
# allows: it speaks neither SASL nor TLS, so a sidecar configured for SASL/PLAIN or SSL must fail
# exactly where librdkafka's SASL handshake or TLS handshake starts, proving the settings reached
# librdkafka (a client left on PLAINTEXT would consume). Both ways in are checked: the sidecar's
# kafka.* keys and the table config's stream.kafka.consumer.prop.* keys. The password never
# reaches a log. The same settings against a real SASL cluster: docs/security.md#kafka.
source "$(dirname "$0")/lib/harness.sh"
S=$SLUICE_BIN
EX=$SLUICE_SRC/deploy/examples
cd "$T_TMP"

"$S" kafka-mock --brokers 1 --topic events:1 > boot.txt 2>mock.log &
track_pid $!
require "kafka-mock printed its bootstrap line" wait_for 10 test -s boot.txt
B=$(head -1 boot.txt)
"$S" loadgen --bootstrap "$B" --topic events --rows 100 --partitions 1 2>lg.err
check "100 rows in the topic" test $? -eq 0
PW=pw-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')

# run NAME [--set ...]: a standalone sidecar of the example table on this broker for a few
# seconds; its log in NAME.log, its data in NAME/
run() {
  local n=$1
  shift
  python3 "$SLUICE_SRC/chaos/tools/mktable.py" "$EX/events_table.json" events events "$B" --rows 50 >"$n.table.json"
  "$S" sidecar --set cluster.name=it --set instance.id=sa-$n --set mode=standalone --set http.port=0 \
    --set http.bind=127.0.0.1 --set data.dir="$T_TMP/$n" --set table.config="$T_TMP/$n.table.json" \
    --set table.schema="$EX/events_schema.json" --set log.level=debug "$@" >"$n.log" 2>&1 &
  local pid=$!
  track_pid $pid
  wait_for 15 grep -q "$WANT" "$n.log"
  check "$n: librdkafka says: $WANT" grep -q "$WANT" "$n.log"
  check "$n: the sidecar keeps running, nothing consumed" bash -c "kill -0 $pid && ! ls $T_TMP/$n/events/*.seg >/dev/null 2>&1"
  kill_child -TERM $pid
  wait_exit 20 $pid
}
WANT="SASL Handshake not supported by broker (required by mechanism PLAIN)"
run sasl --set kafka.security.protocol=SASL_PLAINTEXT --set kafka.sasl.mechanism=PLAIN \
  --set kafka.sasl.username=sluice --set kafka.sasl.password="$PW"
WANT="SSL handshake failed"
run ssl --set kafka.security.protocol=SSL

# the table config's consumer properties take the same way
python3 - "$EX/events_table.json" "$B" "$PW" >tprop.table.json <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
m = t["ingestionConfig"]["streamIngestionConfig"]["streamConfigMaps"][0]
m["stream.kafka.broker.list"] = sys.argv[2]
m["stream.kafka.consumer.prop.security.protocol"] = "SASL_PLAINTEXT"
m["stream.kafka.consumer.prop.sasl.mechanism"] = "PLAIN"
m["stream.kafka.consumer.prop.sasl.username"] = "sluice"
m["stream.kafka.consumer.prop.sasl.password"] = sys.argv[3]
json.dump(t, sys.stdout)
PY
"$S" sidecar --set cluster.name=it --set instance.id=sa-tprop --set mode=standalone --set http.port=0 \
  --set http.bind=127.0.0.1 --set data.dir="$T_TMP/tprop" --set table.config="$T_TMP/tprop.table.json" \
  --set table.schema="$EX/events_schema.json" --set log.level=debug >tprop.log 2>&1 &
P=$!
track_pid $P
WANT="SASL Handshake not supported by broker (required by mechanism PLAIN)"
wait_for 15 grep -q "$WANT" tprop.log
check "the table config's stream.kafka.consumer.prop.* SASL settings reach librdkafka" grep -q "$WANT" tprop.log
kill_child -TERM $P
wait_exit 20 $P

check "the SASL password appears in no log" bash -c "! grep -lF -- '$PW' ./*.log"

# and without them the same sidecar consumes (the failures above are the settings')
WANT="segment full"
python3 "$SLUICE_SRC/chaos/tools/mktable.py" "$EX/events_table.json" events events "$B" --rows 50 >plain.table.json
"$S" sidecar --set cluster.name=it --set instance.id=sa-plain --set mode=standalone --set http.port=0 \
  --set http.bind=127.0.0.1 --set data.dir="$T_TMP/plain" --set table.config="$T_TMP/plain.table.json" \
  --set table.schema="$EX/events_schema.json" >plain.log 2>&1 &
P=$!
track_pid $P
check "on PLAINTEXT the same sidecar publishes segments" wait_for 20 bash -c "ls $T_TMP/plain/events/*.seg >/dev/null 2>&1"
kill_child -TERM $P
wait_exit 20 $P
finish
