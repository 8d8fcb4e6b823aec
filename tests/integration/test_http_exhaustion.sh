#!/usr/bin/env bash
# Connection exhaustion (slowloris) against a controller and a standalone sidecar. 500 clients
# trickling a request header one byte a second and 500 idle connections (chaos/tools/
# slowclients) must not delay a normal request (< 2 s) nor a whole completion run
# (chaos/tools/simreplica); they are closed by http.header.timeout although the slow ones
# keep sending; from one address they are held to http.max.connections.per.ip, the oldest
# making room for the newest. Also: an RPC whose Content-Type is not application/protobuf
# (JSON, none, form) is answered 415 and never parsed as protobuf.
source "$(dirname "$0")/lib/harness.sh"
source "$(dirname "$0")/lib/zk.sh"
S=$SLUICE_BIN
BUILD=${SLUICE_BUILD:-$SLUICE_SRC/build}
SIM=$BUILD/chaos/simreplica
SLOW=$BUILD/chaos/slowclients
EX=$SLUICE_SRC/deploy/examples
export SIMREPLICA_SCHEMA=$EX/events_schema.json
HDR_S=5 # http.header.timeout for the servers under test (default 10s; shorter keeps it quick)
cd "$T_TMP"

lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 < b + 0) }'; }
# probe URL N: N GETs of URL on fresh connections; prints the slowest time (s), fails on non-200
probe() {
  local worst=0 out code t
  for _ in $(seq 1 "$2"); do
    out=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 30 "$1") || return 1
    code=${out% *} t=${out#* }
    [ "$code" = 200 ] || return 1
    lt "$worst" "$t" && worst=$t
    sleep 0.2
  done
  echo "$worst"
}
# junk NAME PORT SOURCE ARGS...: slowclients in the background; ends the test unless every
# connect finished within 20 s (what is measured beside them needs them there)
junk() {
  local n=$1 port=$2 src=$3; shift 3
  "$SLOW" --port "$port" --source "$src" --interval-ms 1000 --duration-s $((HDR_S + 20)) "$@" \
    >"$n.out" 2>"$n.err" &
  track_pid $!
  eval "${n}_PID=$!"
  require "$n: every connection opened within 20 s (ready, none failed)" \
    wait_for 20 grep -q '^ready .* failed=0 ' "$n.out"
}
field() { grep '^done' "$1.out" | grep -o " $2=[0-9.]*" | cut -d= -f2; }
max_open() { grep '^t=' "$1.out" | grep -o ' open=[0-9]*' | cut -d= -f2 | sort -n | tail -1; }

zk_start "$T_TMP/zk" || { not_ok "zookeeper did not start"; finish; exit 1; }
"$S" kafka-mock --brokers 1 --topic events:4 > boot.txt 2>mock.log &
track_pid $!
require "kafka-mock printed its bootstrap line" wait_for 10 test -s boot.txt
B=$(head -1 boot.txt)
# the controller accepts only offsets Kafka holds: 2000 events per partition cover the runs
require "loadgen delivered 8000 rows" "$S" loadgen --bootstrap "$B" --topic events --rows 8000 --partitions 4 2>/dev/null

"$S" controller --set cluster.name=it --set zk.connect="$ZK_CONNECT" --set instance.id=c1 \
  --set http.port=0 --set http.bind=127.0.0.1 --set data.dir="$T_TMP/store" \
  --set completion.hold.time=1s --set http.header.timeout=${HDR_S}s >c1.out 2>c1.log &
track_pid $!
require "controller started" wait_for 20 grep -q "sub=controller started" c1.log
U=$(grep -o 'started instance=[^ ]* url=[^ ]*' c1.log | sed 's/.*url=//')
P=${U##*:}
require "... and logged its URL" test -n "$U"
require "... and leads" wait_for 10 bash -c "curl -sf $U/health | grep -q '\"leader\":true'"
check "the limits are logged at start" grep -q "max_connections=1024 per_ip=512 header_timeout_ms=$((HDR_S * 1000))" c1.log

spawn_stdin_held "$SIM" register --zk "$ZK_CONNECT" --cluster it --instances s1,s2,s3 > reg.out 2>reg.log
require "simulated sidecars registered" wait_for 10 grep -q ready reg.out
python3 - "$EX/events_table.json" "$B" > table.json <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
t["segmentsConfig"]["replication"] = "3"
t["ingestionConfig"]["streamIngestionConfig"]["streamConfigMaps"][0]["stream.kafka.broker.list"] = sys.argv[2]
print(json.dumps(t))
PY
"$S" table add --controller "$U" --table-config table.json --schema "$EX/events_schema.json" >add.out 2>&1
check "table added" test $? -eq 0

# --- RPCs must be protobuf: anything else is 415, never parsed ------------------------------
rpc=$U/twirp/sluice.v1.Completion/SegmentConsumed
code=$(curl -s -o j.json -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
  --data-binary '{"segment":"events__0__0__20240101T0000Z","instance":"s1","offset":5}' "$rpc")
check "JSON body with Content-Type application/json -> 415" test "$code" = 415
check "... a Twirp error saying the JSON mapping is not supported" \
  grep -q '"code":"bad_route".*JSON mapping (application/json) is not supported' j.json
code=$(curl -s -o n.json -w '%{http_code}' -X POST -H 'Content-Type:' --data-binary 'x' "$rpc")
check "no Content-Type -> 415" test "$code" = 415
check "... naming the missing header" grep -q "unsupported Content-Type (none)" n.json
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary 'x' "$rpc")
check "form Content-Type (curl's default) -> 415" test "$code" = 415
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/protobuf' \
  --data-binary 'not a protobuf at all' "$rpc")
check "application/protobuf is still decoded (malformed -> 400)" test "$code" = 400

# --- baseline -------------------------------------------------------------------------------
t0=$(date +%s.%N)
"$SIM" complete --zk "$ZK_CONNECT" --cluster it --controller "$U" --table events \
  --instances s1,s2,s3 --partitions 4 --rounds 1 --rows 500 > sim0.out 2>sim0.log
rc=$?
base=$(echo "$(date +%s.%N) - $t0" | bc)
check "baseline completion run (${base}s)" test $rc -eq 0
base_probe=$(probe "$U/health" 3)
echo "# baseline: /health ${base_probe}s, completion run ${base}s"

# --- 500 slow (from 127.0.0.2) + 500 idle (from 127.0.0.3): under every limit, so they live
# until the header deadline ------------------------------------------------------------------
junk slow1 "$P" 127.0.0.2 --slow 500
junk idle1 "$P" 127.0.0.3 --idle 500
check "500 slow + 500 idle connections open" bash -c "grep -q 'ready slow=500 idle=0 failed=0' slow1.out && grep -q 'ready slow=0 idle=500 failed=0' idle1.out"
t=$(probe "$U/health" 3)
check "controller: /health under 1000 junk connections in ${t}s (< 2s)" lt "${t:-99}" 2
t0=$(date +%s.%N)
"$SIM" complete --zk "$ZK_CONNECT" --cluster it --controller "$U" --table events \
  --instances s1,s2,s3 --partitions 4 --rounds 1 --rows 500 > sim1.out 2>sim1.log
rc=$?
took=$(echo "$(date +%s.%N) - $t0" | bc)
check "controller: a completion run under the junk connections succeeds" test $rc -eq 0
check "... in ${took}s (baseline ${base}s + 2s)" lt "$took" "$(echo "$base + 2" | bc)"
wait_for $((HDR_S + 15)) bash -c "grep -q '^done' slow1.out && grep -q '^done' idle1.out"
check "every slow connection was closed by the server" test "$(field slow1 slow_closed)" = 500
check "every idle connection was closed by the server" test "$(field idle1 idle_closed)" = 500
for n in slow1 idle1; do
  mn=$(field $n min_close_s) mx=$(field $n max_close_s)
  check "$n: closed by the ${HDR_S}s header deadline (after ${mn}..${mx}s)" \
    bash -c "$(declare -f lt); lt $((HDR_S - 1)) $mn && lt $mx $((HDR_S + 2))"
done
echo "# controller, 500 slow + 500 idle from other addresses: /health ${t}s, completion ${took}s"

# --- the same from 127.0.0.1, beside the legitimate clients: over the per-address limit (512),
# so newcomers displace the oldest waiting connections ---------------------------------------
junk slow2 "$P" 127.0.0.1 --slow 500
junk idle2 "$P" 127.0.0.1 --idle 500
t=$(probe "$U/health" 3)
check "controller: /health beside 1000 same-address junk connections in ${t}s (< 2s)" lt "${t:-99}" 2
"$SIM" complete --zk "$ZK_CONNECT" --cluster it --controller "$U" --table events \
  --instances s1,s2,s3 --partitions 4 --rounds 1 --rows 500 > sim2.out 2>sim2.log
check "controller: a completion run beside them succeeds" test $? -eq 0
wait_for $((HDR_S + 15)) bash -c "grep -q '^done' slow2.out && grep -q '^done' idle2.out"
o=$(( $(max_open slow2) + $(max_open idle2) ))
check "at most about 512 of them were ever open together (max seen: $o)" test "$o" -le 560
check "all 1000 were closed" test $(( $(field slow2 closed) + $(field idle2 closed) )) = 1000
wait_for 12 grep -q 'connections closed or refused in the last 10s.*evicted=[1-9]' c1.log
check "the evictions and deadline closes were summed up in a log line" \
  grep -q 'connections closed or refused in the last 10s.*evicted=[1-9]' c1.log
check "... not logged one by one" test "$(grep -c 'sub=httpd' c1.log)" -lt 20

# --- a standalone sidecar, same attack from its clients' address -----------------------------
cat > sa.conf <<CONF
cluster.name = it
instance.id = sa-1
mode = standalone
http.port = 0
http.bind = 127.0.0.1
http.header.timeout = ${HDR_S}s
data.dir = $T_TMP/sa-data
table.config = $T_TMP/table.json
table.schema = $EX/events_schema.json
consumer.threads = 2
CONF
"$S" sidecar --config sa.conf >sa.out 2>sa.log &
track_pid $!
wait_for 20 grep -q 'http=127.0.0.1:[0-9]' sa.log
SP=$(grep -o 'http=127.0.0.1:[0-9]*' sa.log | tail -1 | cut -d: -f2)
require "standalone sidecar started" test -n "$SP"
junk slow3 "$SP" 127.0.0.2 --slow 500
junk idle3 "$SP" 127.0.0.2 --idle 500
t=$(probe "127.0.0.1:$SP/health" 3)
check "sidecar: /health under 1000 junk connections in ${t}s (< 2s)" lt "${t:-99}" 2
wait_for $((HDR_S + 15)) bash -c "grep -q '^done' slow3.out && grep -q '^done' idle3.out"
check "sidecar: all 1000 were closed" test $(( $(field slow3 closed) + $(field idle3 closed) )) = 1000
check "sidecar: one address never held more than about 512 (max seen: $(( $(max_open slow3) + $(max_open idle3) )))" \
  test $(( $(max_open slow3) + $(max_open idle3) )) -le 560
echo "# sidecar, 1000 junk connections from one address: /health ${t}s"
finish
