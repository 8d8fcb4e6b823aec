#!/usr/bin/env bash
# The deep store (DESIGN §10, docs/batch.md "Deep store"): a controller with
# deepstore.uri=webhdfs://... against the WebHDFS TEST RESPONDER (lib/webhdfs_responder.py:
# Debian has no HDFS; CREATE and OPEN are redirected from a "namenode" port to a "datanode"
# port, as HDFS does), three sidecars and kafka-mock:
#   - every committed segment, and a pushed one, is in the deep store with its record's CRC
#     (two-step CREATE: no bytes to the namenode), and a lineage replacement deletes the old one;
#   - the controller loses its data dir: restarted empty, it serves a sidecar that lost its own
#     data dir, whose peers are down, from the deep store (fetched back and verified);
#   - the deep store down: a commit is not acknowledged until the file is there, and completes
#     when it is back;
#   - a bad deepstore.uri fails the start naming the key;
#   - the same over HTTP: Debian's nginx with WebDAV PUT/DELETE behind basic auth (the
#     credentials in fetcher.netrc.file), for a second cluster's controller: a push lands there,
#     an empty controller serves it back from there, a replacement deletes it there.
source "$(dirname "$0")/lib/harness.sh"
source "$(dirname "$0")/lib/zk.sh"
source "$(dirname "$0")/lib/cluster.sh"
source "$(dirname "$0")/lib/nginx.sh"
PY=/usr/bin/python3
BILL=$SLUICE_SRC/tests/data/pinot/batch/billing
cd "$T_TMP"

mkdir -p hdfs
start_hdfs() { # start_hdfs [NAMENODE_PORT DATANODE_PORT]
  rm -f webhdfs.ports
  $PY "$SLUICE_SRC/tests/integration/lib/webhdfs_responder.py" "$T_TMP/hdfs" "$T_TMP/webhdfs.log" "$T_TMP/webhdfs.ports" "$@" &
  HPID=$!
  track_pid $HPID
  require "the WebHDFS test responder is up" wait_for 10 test -s webhdfs.ports
  read -r NN DN <webhdfs.ports
}
start_hdfs
zk_start "$T_TMP/zk" || { not_ok "zookeeper did not start"; finish; exit 1; }
kmock_start events:2
DEEP="webhdfs://sluice@127.0.0.1:$NN/warehouse/sluice"
common="--set cluster.name=deep --set zk.connect=$ZK_CONNECT --set http.bind=127.0.0.1 --set zk.session.timeout=3s"
CTL_SETS="--set completion.hold.time=1s --set repair.interval=1s --set deepstore.uri=$DEEP"

"$S" controller $common --set instance.id=bad --set http.port=0 --set data.dir="$T_TMP/bad" \
  --set deepstore.uri="webhdfs://x&doas=root@127.0.0.1:$NN/p" >bad.out 2>&1
check "a deepstore.uri that is not a valid WebHDFS URI: exit 1, naming the key" \
  bash -c "test $? -eq 1 && grep -q 'deepstore.uri' bad.out"

start_ctl c1
require "c1 leads" wait_for 15 is_leader "$CURL"
for i in 1 2 3; do start_sidecar $i; done
mk_table events events 400 ""
"$S" table add --controller "$CURL" --table-config events.json --schema "$EX/events_schema.json" >add.out 2>&1
require "the events table is added" test $? -eq 0
"$S" loadgen --bootstrap "$B" --topic events --rows 2000 --partitions 2 2>lg.err
require "2000 rows produced" test $? -eq 0
done_segs() { # done_segs N: at least N DONE segments; done.txt: "segment crc" each
  curl -sf "$CURL/tables/events/segments" | $PY -c '
import json, sys
d = [s for s in json.load(sys.stdin) if s["status"] == "DONE"]
assert len(d) >= int(sys.argv[1]), len(d)
print("\n".join("%s %s" % (s["segment"], s["crc"]) for s in d))' "$1" >done.txt
}
check "segments commit (at least 4 DONE)" wait_for 60 done_segs 4
in_deep() { # in_deep TABLE: every segment of done.txt is in the deep store with its CRC
  while read -r seg crc; do
    [ "$("$S" segment info "hdfs/warehouse/sluice/$1/$seg.seg" 2>/dev/null | $PY -c 'import json,sys; print(json.load(sys.stdin)["crc"])')" = "$crc" ] || return 1
  done <done.txt
}
export -f done_segs in_deep # for the checks that combine them in bash -c
export CURL PY S
check "every committed segment is in the deep store, with its record's CRC" wait_for 20 in_deep events
check "... written in two steps: no bytes to the namenode, the file to the datanode" \
  bash -c "grep -q '\"role\": \"namenode\", \"method\": \"PUT\", .*\"op\": \"CREATE\", \"user\": \"sluice\", \"bytes\": 0' webhdfs.log &&
           grep -q '\"role\": \"datanode\", \"method\": \"PUT\", .*\"op\": \"CREATE\", \"user\": \"sluice\", \"bytes\": [1-9]' webhdfs.log"

# a pushed segment, then replaced with lineage: the new one in the deep store, the old one gone
python3 - "$BILL/billing_offline_table_config.json" billing.json <<'PYT'
import json, sys
t = json.load(open(sys.argv[1])); t["segmentsConfig"]["replication"] = "2"
json.dump(t, open(sys.argv[2], "w"))
PYT
"$S" table add --controller "$CURL" --table-config billing.json --schema "$BILL/billing_schema.json" >badd.out 2>&1
mkdir -p b1 b2
"$S" segment build --schema "$BILL/billing_schema.json" --table-config billing.json \
  --input "$BILL/rawdata/billing_data.csv" --out b1/bill_a.seg --name bill_a 2>/dev/null
"$S" segment build --schema "$BILL/billing_schema.json" --table-config billing.json \
  --input "$BILL/rawdata/billing_data.csv" --out b2/bill_b.seg --name bill_b 2>/dev/null
"$S" push --controller "$CURL" --table billing b1 >p1.out 2>p1.err
check "a pushed segment is in the deep store" test -s hdfs/warehouse/sluice/billing_OFFLINE/bill_a.seg
"$S" push --controller "$CURL" --table billing --replace bill_a b2 >p2.out 2>p2.err
check "a replacement: the new segment in the deep store, the replaced one deleted from it" \
  wait_for 20 bash -c "grep -q COMPLETED p2.out && test -s hdfs/warehouse/sluice/billing_OFFLINE/bill_b.seg &&
                       test ! -e hdfs/warehouse/sluice/billing_OFFLINE/bill_a.seg"

# the controller's data dir is lost; a sidecar loses its own and its peers are down
signal -KILL "$CPID"
wait "$CPID" 2>/dev/null
rm -rf c1
start_ctl c1
require "c1, restarted on an empty data dir, leads" wait_for 15 is_leader "$CURL"
stop_sidecar 1
stop_sidecar 3
stop_sidecar 2
rm -rf s2
start_sidecar 2
restored() { # sidecar-2 holds every committed segment it is a replica of, with the record's CRC
  local n=0 seg crc
  while read -r seg crc; do
    f=s2/events/$seg.seg
    [ "$("$S" segment info "$f" 2>/dev/null | $PY -c 'import json,sys; print(json.load(sys.stdin)["crc"])')" = "$crc" ] || return 1
    n=$((n + 1))
  done <done.txt
  [ $n -gt 0 ]
}
check "sidecar-2 gets every committed segment from the new controller, which fetched them from the deep store" \
  wait_for 60 restored
check "... logged as restored from the deep store" grep -q 'restored from the deep store table=events' c1.log
check "... into the controller's own store again" bash -c "test \$(ls c1/events/*.seg | wc -l) -ge 4"

# the deep store down: a commit waits for it
start_sidecar 1
start_sidecar 3
kill -9 "$HPID"
wait "$HPID" 2>/dev/null
NDONE=$(wc -l <done.txt)
"$S" loadgen --bootstrap "$B" --topic events --rows 1000 --partitions 2 2>lg2.err
sleep 6
done_segs 0 >/dev/null
check "while the deep store is down no new segment commits" test "$(wc -l <done.txt)" -eq "$NDONE"
check "... the failed put is logged" grep -q 'deep store CREATE' c1.log
start_hdfs "$NN" "$DN"
check "once the deep store is back, the segments commit (and are in it)" \
  wait_for 60 bash -c "done_segs $((NDONE + 1)) && in_deep events"
# ---- the same over HTTP (WebDAV), a second cluster ----
DP=$($PY -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
mkdir -p dav
echo 'store:{PLAIN}d4v' >htpasswd
printf 'machine 127.0.0.1 login store password d4v\n' >netrc
chmod 600 netrc
nginx_start application/octet-stream "
  server {
    listen 127.0.0.1:$DP; root $T_TMP/dav; client_max_body_size 0;
    location /store/ { dav_methods PUT DELETE; create_full_put_path on;
                       auth_basic \"store\"; auth_basic_user_file $T_TMP/htpasswd; }
  }"
require "nginx (WebDAV) answers" wait_for 10 bash -c "curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$DP/store/ | grep -qx 401"
common="--set cluster.name=deephttp --set zk.connect=$ZK_CONNECT --set http.bind=127.0.0.1 --set zk.session.timeout=3s"
CTL_SETS="--set repair.interval=1s --set deepstore.uri=http://127.0.0.1:$DP/store --set fetcher.netrc.file=$T_TMP/netrc"
start_ctl h1
require "h1 leads its cluster" wait_for 15 is_leader "$CURL"
start_sidecar 4 # serves the pushed segment (a replacement replaces served segments only)
"$S" table add --controller "$CURL" --table-config billing.json --schema "$BILL/billing_schema.json" >hadd.out 2>&1
"$S" push --controller "$CURL" --table billing b1 >hp1.out 2>hp1.err
check "HTTP deep store: a push is PUT there (with the netrc's credentials)" \
  bash -c "grep -q '^pushed bill_a' hp1.out && cmp -s b1/bill_a.seg dav/store/billing_OFFLINE/bill_a.seg"
signal -KILL "$CPID"
wait "$CPID" 2>/dev/null
rm -rf h1
start_ctl h1
require "h1, restarted on an empty data dir, leads" wait_for 15 is_leader "$CURL"
check "... serves the pushed file back from the HTTP deep store" \
  bash -c "curl -sf -o got_a.seg '$CURL/segments/billing_OFFLINE/bill_a' && cmp -s got_a.seg b1/bill_a.seg"
"$S" push --controller "$CURL" --table billing --replace bill_a b2 >hp2.out 2>hp2.err
check "... a replacement PUTs the new file and DELETEs the replaced one there" \
  wait_for 20 bash -c "grep -q COMPLETED hp2.out && test -s dav/store/billing_OFFLINE/bill_b.seg && test ! -e dav/store/billing_OFFLINE/bill_a.seg"
finish
