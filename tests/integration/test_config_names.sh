#!/usr/bin/env bash
# Ids that become ZooKeeper nodes, directories and RPC fields (cluster.name, instance.id) and
# librdkafka pass-through keys (kafka.*) are checked when a process starts, against a real
# ZooKeeper so that a process that wrongly accepts them would visibly run: each bad value
# must make the sidecar (cluster mode too) or the controller exit at once, naming the key and
# where it was given (FILE:LINE or --set), never blaming zk.connect, before anything is
# registered and before /health is served. Valid names of every allowed shape still start.
source "$(dirname "$0")/lib/harness.sh"
source "$(dirname "$0")/lib/zk.sh"
S=$SLUICE_BIN
cd "$T_TMP" || exit 1

zk_start "$T_TMP/zk" || { not_ok "zookeeper did not start"; finish; exit 1; }
LONG=$(printf 'a%.0s' $(seq 1 200))
MAX=$(printf 'b%.0s' $(seq 1 128))

# refused DESCRIPTION EXPECT_REGEX PROCESS ARGS...: the process exits non-zero within 15 s,
# stderr matches EXPECT_REGEX and does not mention zk.connect.
refused() {
  local d=$1 want=$2; shift 2
  timeout 15 "$S" "$@" > out.txt 2> err.txt
  local rc=$?
  if [ "$rc" -eq 124 ]; then not_ok "$d: still running after 15 s ($(tail -1 err.txt))"; return; fi
  if [ "$rc" -eq 0 ]; then not_ok "$d: exited 0"; return; fi
  if ! grep -Eq -- "$want" err.txt; then not_ok "$d: stderr was: $(tail -1 err.txt)"; return; fi
  if grep -q 'zk.connect' err.txt; then not_ok "$d: blames zk.connect: $(tail -1 err.txt)"; return; fi
  ok "$d"
}

cat > side.conf <<CONF
cluster.name = it
zk.connect = $ZK_CONNECT
http.port = 0
http.bind = 127.0.0.1
data.dir = $T_TMP/side
CONF
cp side.conf space.conf
echo 'instance.id = side car' >> space.conf
cp side.conf kafka.conf
printf 'instance.id = s1\nkafka.no.such.property = 1\n' >> kafka.conf

# --- sidecar, cluster mode ----------------------------------------------------------------
refused "sidecar: instance.id with a space names file, line and key" \
  "config: space.conf:6: instance.id: .*' ' is not allowed" sidecar --config space.conf
refused "sidecar: 200-character instance.id is refused with the limit" \
  "config: --set instance.id: .*200 characters long \(at most 128\)" \
  sidecar --config side.conf --set instance.id="$LONG"
refused "sidecar: instance.id with '/'" "instance.id: .*'/' is not allowed" \
  sidecar --config side.conf --set instance.id=a/b
refused "sidecar: instance.id '..'" "instance.id: \"\.\.\" must not start or end" \
  sidecar --config side.conf --set instance.id=..
refused "sidecar: instance.id with '__' (the segment name separator)" "instance.id: .*\"__\"" \
  sidecar --config side.conf --set instance.id=a__b
refused "sidecar: cluster.name with '/'" "config: --set cluster.name: .*'/' is not allowed" \
  sidecar --config side.conf --set instance.id=s1 --set cluster.name=it/x
refused "sidecar: cluster.name '..'" "cluster.name: \"\.\.\" must not start or end" \
  sidecar --config side.conf --set instance.id=s1 --set cluster.name=..
refused "sidecar: cluster.name with a space" "cluster.name: .*' ' is not allowed" \
  sidecar --config side.conf --set instance.id=s1 --set "cluster.name=my cluster"
refused "sidecar, cluster mode: unknown kafka.* key fails at start with file and line" \
  "config: kafka.conf:7: kafka.no.such.property: No such configuration property" \
  sidecar --config kafka.conf
refused "sidecar, cluster mode: bad kafka.* value (--set)" \
  "config: --set kafka.security.protocol: Invalid value" \
  sidecar --config side.conf --set instance.id=s1 --set kafka.security.protocol=bogus
refused "sidecar, cluster mode: kafka.* combination librdkafka refuses" "config: kafka consumer: ssl.ca.location" \
  sidecar --config side.conf --set instance.id=s1 --set kafka.security.protocol=ssl \
  --set kafka.ssl.ca.location=/nonexistent/ca.pem
refused "sidecar, standalone mode: bad instance.id too" "instance.id: .*' ' is not allowed" \
  sidecar --config side.conf --set mode=standalone --set "instance.id=x y" \
  --set table.config=x.json --set table.schema=y.json

# --- controller ------------------------------------------------------------------------------
cat > ctl.conf <<CONF
cluster.name = it
zk.connect = $ZK_CONNECT
http.port = 0
http.bind = 127.0.0.1
data.dir = $T_TMP/ctl
instance.id = controller 1
CONF
refused "controller: instance.id with a space names file, line and key" \
  "config: ctl.conf:6: instance.id: .*' ' is not allowed" controller --config ctl.conf
refused "controller: 200-character instance.id" "instance.id: .*at most 128" \
  controller --config side.conf --set instance.id="$LONG"
refused "controller: cluster.name with '/'" "cluster.name: .*'/' is not allowed" \
  controller --config side.conf --set instance.id=c1 --set cluster.name=a/b
refused "controller: cluster.name '..'" "cluster.name: \"\.\.\" must not start or end" \
  controller --config side.conf --set instance.id=c1 --set cluster.name=..

# nothing above reached ZooKeeper: no instance registered, no controller ran, no other root
"$S" zk dump --zk "$ZK_CONNECT" --cluster it > it.json 2> it.err
check "refused processes created nothing in ZooKeeper" bash -c "! grep -q '\"it\"\|instances\|controllers' it.json && grep -qi 'no such' it.err"
"$S" zk dump --zk "$ZK_CONNECT" --cluster a > a.json 2>a.err
rc=$? # 1 and "no such": any other failure (usage, ZooKeeper down) would prove nothing
check "cluster.name a/b did not create /sluice/a (zk dump exit $rc)" \
  bash -c "[ $rc -eq 1 ] && grep -qi 'no such' a.err"

# --- valid names of every allowed shape still start ----------------------------------------
"$S" controller --config side.conf --set instance.id="c-1.A_z" > c.out 2> c.log &
track_pid $!
wait_for 20 grep -q "sub=controller started" c.log
check "controller with instance.id c-1.A_z starts" grep -q "sub=controller started" c.log
"$S" sidecar --config side.conf --set instance.id="$MAX" --set kafka.fetch.wait.max.ms=50 > s.out 2> s.log &
SPID=$!
track_pid $SPID
wait_for 20 grep -q "registered instance=$MAX" s.log
check "sidecar with a 128-character instance.id and a valid kafka.* key registers" \
  grep -q "registered instance=$MAX" s.log
PORT=$(grep -o 'http=127.0.0.1:[0-9]*' s.log | tail -1 | cut -d: -f2)
check "its /health is ok" bash -c "curl -sf 127.0.0.1:${PORT:-1}/health | grep -q '\"status\":\"ok\"'"
kill_child -TERM $SPID; wait_exit 30 $SPID
rc=$?
check "SIGTERM exits 0 within 30 s (got $rc)" test $rc -eq 0
finish
