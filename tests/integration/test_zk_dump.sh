#!/usr/bin/env bash
# `sluice zk dump` against a real ZooKeeper holding a real cluster: a controller (its election
# entry), simulated sidecars (instances/), a table added through the admin API (config,
# schema, assignment, lineage, segment metadata protobufs). Checks the output is one JSON
# object with each node decoded by kind, --path, a node that is not what its place says
# (shown as base64, warned about), and the error exits.
source "$(dirname "$0")/lib/harness.sh"
source "$(dirname "$0")/lib/zk.sh"
S=$SLUICE_BIN
SIM=${SLUICE_BUILD:-$SLUICE_SRC/build}/chaos/simreplica
EX=$SLUICE_SRC/deploy/examples
cd "$T_TMP" || exit 1

zk_start "$T_TMP/zk" || { not_ok "zookeeper did not start"; finish; exit 1; }
"$S" kafka-mock --brokers 1 --topic events:4 > boot.txt 2>mock.log &
track_pid $!
require "kafka-mock printed its bootstrap line" wait_for 10 test -s boot.txt
B=$(head -1 boot.txt)

"$S" controller --set cluster.name=it --set zk.connect="$ZK_CONNECT" --set instance.id=c1 \
  --set http.port=0 --set http.bind=127.0.0.1 --set data.dir="$T_TMP/store" > c1.out 2>c1.log &
track_pid $!
require "controller started" wait_for 20 grep -q "sub=controller started" c1.log
U=$(grep -o 'started instance=[^ ]* url=[^ ]*' c1.log | sed 's/.*url=//')
require "controller leads" wait_for 10 bash -c "curl -sf $U/health | grep -q '\"leader\":true'"

spawn_stdin_held "$SIM" register --zk "$ZK_CONNECT" --cluster it --instances s1,s2,s3 > reg.out 2>reg.log
require "simulated sidecars s1,s2,s3 registered" wait_for 10 grep -q ready reg.out
python3 - "$EX/events_table.json" "$B" > table.json <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
t["segmentsConfig"]["replication"] = "3"
t["ingestionConfig"]["streamIngestionConfig"]["streamConfigMaps"][0]["stream.kafka.broker.list"] = sys.argv[2]
print(json.dumps(t, indent=2))
PY
"$S" table add --controller "$U" --table-config table.json --schema "$EX/events_schema.json" >add.out 2>&1
check "table added" test $? -eq 0

"$S" zk dump --zk "$ZK_CONNECT" --cluster it > dump.json 2>dump.err
check "zk dump exits 0" test $? -eq 0
check "... with nothing on stderr" test ! -s dump.err
check "whole cluster: one JSON object, every node decoded by kind" python3 - dump.json "$U" <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
assert isinstance(d, dict), type(d)
assert d["tables"] is None and d["tables/events"] is None and d["instances"] is None, d
assert d["tables/events/config"]["tableName"] == "events"
assert d["tables/events/config"]["segmentsConfig"]["replication"] == "3"
assert [f["name"] for f in d["tables/events/schema"]["dimensionFieldSpecs"]][0] == "user"
assert d["tables/events/lineage"] == {}, d["tables/events/lineage"]
assert d["tables/events/assignment"] not in (None, {}, []), d["tables/events/assignment"]
assert "base64" not in json.dumps(d)
segs = {k: v for k, v in d.items() if re.fullmatch(r"tables/events/segments/[^/]+", k)}
assert len(segs) == 4, segs
for k, v in segs.items():
    assert k.rsplit("/", 1)[1] == v["segment"] and v["status"] == "IN_PROGRESS", v
    assert v["sequence"] == 0 and v["endOffset"] is None and v["committer"] == "", v
    assert v["flushRows"] == 100000 and v["table"] == "events", v
assert sorted(v["partition"] for v in segs.values()) == [0, 1, 2, 3]
ctl = [v for k, v in d.items() if k.startswith("controllers/")]
assert ctl == [sys.argv[2]], ctl
for s in ("s1", "s2", "s3"):
    assert d["instances/" + s]["host"] == "127.0.0.1", d["instances/" + s]
PY
check "one node per line" test "$(grep -c '^  "' dump.json)" = "$(python3 -c 'import json,sys;print(len(json.load(open(sys.argv[1]))))' dump.json)"
seg=$(python3 -c "import json;print([k for k in json.load(open('dump.json')) if '/segments/' in k][0].rsplit('/', 1)[1])")
check "segment node = the controller's GET /tables/events/segments/<seg>" python3 - dump.json "$seg" \
  "$(curl -sf "$U/tables/events/segments/$seg")" <<'PY'
import json, sys
assert json.load(open(sys.argv[1]))["tables/events/segments/" + sys.argv[2]] == json.loads(sys.argv[3])
PY

"$S" zk dump --zk "$ZK_CONNECT" --cluster it --path /tables/events/config/ > p1.json
check "--path of a leaf: just that node" python3 -c "
import json; d = json.load(open('p1.json')); assert list(d) == ['tables/events/config'] and d['tables/events/config']['tableName'] == 'events', d"
"$S" zk dump --zk "$ZK_CONNECT" --cluster it --path instances > p2.json
check "--path of a subtree: the node and its children" python3 -c "
import json; d = json.load(open('p2.json')); assert sorted(d) == ['instances', 'instances/s1', 'instances/s2', 'instances/s3'], d"

# Nodes that are not what their place in the layout says: written with ZooKeeper's own Java
# client (one JVM, commands on stdin).
printf '%s\n' "create /sluice/it/tables/zz" "create /sluice/it/tables/zz/segments" \
  "create /sluice/it/tables/zz/segments/zz__0__0__20240101T0000Z garbage" \
  "create /sluice/it/instances/bad not-json" "create /sluice/it/tables/zz/config {\"a\":1.10}" quit |
  timeout 60 java -Xmx64m -XX:TieredStopAtLevel=1 -cp /usr/share/java/zookeeper.jar:/usr/share/java/slf4j-nop.jar \
    org.apache.zookeeper.ZooKeeperMain -server "$ZK_CONNECT" > zkcli.out 2>&1
"$S" zk dump --zk "$ZK_CONNECT" --cluster it --path tables/zz > bad.json 2>bad.err
check "undecodable nodes do not fail the dump" test $? -eq 0
check "undecodable segment metadata and JSON shown as base64, number text kept" python3 - bad.json <<'PY'
import base64, json, sys
d = json.load(open(sys.argv[1]))
assert d["tables/zz"] is None and d["tables/zz/segments"] is None, d
assert base64.b64decode(d["tables/zz/segments/zz__0__0__20240101T0000Z"]["base64"]) == b"garbage", d
assert d["tables/zz/config"] == {"a": 1.10}, d
assert '"tables/zz/config": {"a":1.10}' in open(sys.argv[1]).read()
PY
check "... and named in a warning on stderr" grep -q "tables/zz/segments/zz__0__0__20240101T0000Z (7 bytes) shown as base64" bad.err
"$S" zk dump --zk "$ZK_CONNECT" --cluster it --path instances/bad > bad2.json 2>/dev/null
check "instance node that is not JSON -> base64" python3 -c "
import json; assert json.load(open('bad2.json')) == {'instances/bad': {'base64': 'bm90LWpzb24='}}"

# errors
"$S" zk dump --zk "$ZK_CONNECT" --cluster nope > /dev/null 2>e1.err
check "unknown cluster: exit 1" test $? -eq 1
check "... says so" grep -q "no such cluster" e1.err
"$S" zk dump --zk "$ZK_CONNECT" --cluster it --path tables/missing > e2.out 2>e2.err
check "missing path: exit 1, nothing on stdout" bash -c "test $? -eq 1 && test ! -s e2.out && grep -q 'no node /sluice/it/tables/missing' e2.err"
"$S" zk dump --zk "$ZK_CONNECT" --cluster it --path ../x > /dev/null 2>&1
check "--path with .. is a usage error" test $? -eq 2
"$S" zk dump --cluster it > /dev/null 2>&1
check "missing --zk is a usage error" test $? -eq 2
"$S" zk frob > /dev/null 2>&1
check "unknown subcommand is a usage error" test $? -eq 2
"$S" zk dump --help | grep -q "usage: sluice zk dump"
check "zk dump --help" test $? -eq 0
zk_stop
"$S" zk dump --zk "$ZK_CONNECT" --cluster it --timeout 1 > e3.out 2>e3.err
check "ZooKeeper down: exit 1 with a message" bash -c "test $? -eq 1 && test ! -s e3.out && grep -q 'ZooKeeper' e3.err"

finish
