#!/usr/bin/env bash
# The CSV, Confluent Avro, Confluent JSON Schema and Protocol Buffers stream decoders end to
# end: kcat produces into `sluice kafka-mock`, a standalone sidecar consumes, and every stored
# row is compared with what was produced. The registry's schemas come from its REST paths
# served by Debian's nginx (GET /schemas/ids/<id>), two Avro schema versions in one topic and a
# JSON Schema; bad messages of each kind are counted per reason and never stop the partition.
source "$(dirname "$0")/lib/harness.sh"
source "$(dirname "$0")/lib/nginx.sh"
S=$SLUICE_BIN
cd "$T_TMP"

kmock_start csvt:1 avrot:1 pbt:1 jsont:1

# ---- CSV: Pinot's CSVMessageDecoder with a header, a multi-value delimiter, nulls ------------
python3 - >csv.txt 2>csv.expect <<'PY'
import json, sys
exp = []
for i in range(40):
    item = f"item {i}" if i % 3 else f"\"item, {i}\""   # a quoted cell holding the delimiter
    tags = ";".join(f"t{j}" for j in range(i % 4))       # 0 to 3 values
    qty = "" if i % 7 == 0 else str(i * 2)             # empty: null
    if i == 10:
        print('40,"unterminated,2,x')                 # malformed_csv
        print("41,fine,1e3,a")                         # wrong_type: 1e3 is no INT
    print(f"{i},{item},{qty},{tags}")
    exp.append({"id": i, "item": f"item {i}" if i % 3 else f"item, {i}",
                "qty": None if i % 7 == 0 else i * 2,
                "tags": None if i % 4 == 0 else [f"t{j}" for j in range(i % 4)]})
for r in exp:
    sys.stderr.write(json.dumps(r) + "\n")
PY
kcat -P -b "$B" -t csvt -p 0 -l csv.txt 2>kcat.log
check "kcat produced 42 CSV messages" test $? -eq 0
cat >csv.schema.json <<'JSON'
{"schemaName": "orders", "dimensionFieldSpecs": [
  {"name": "id", "dataType": "LONG"}, {"name": "item", "dataType": "STRING"},
  {"name": "tags", "dataType": "STRING", "singleValueField": false}],
 "metricFieldSpecs": [{"name": "qty", "dataType": "INT"}]}
JSON
table_json() { # table_json NAME TOPIC PROPS: a standalone REALTIME table, 20-row segments
  cat <<JSON
{"tableName": "$1", "tableType": "REALTIME", "segmentsConfig": {"replication": "1"},
 "tableIndexConfig": {"streamConfigs": {"streamType": "kafka", "stream.kafka.topic.name": "$2",
   "stream.kafka.broker.list": "$B", "stream.kafka.consumer.prop.auto.offset.reset": "smallest",
   $3,
   "realtime.segment.flush.threshold.rows": "20", "realtime.segment.flush.threshold.time": "1s"}}}
JSON
}
table_json orders csvt '"stream.kafka.decoder.class.name": "org.apache.pinot.plugin.inputformat.csv.CSVMessageDecoder",
   "stream.kafka.decoder.prop.header": "id,item,qty,tags", "stream.kafka.decoder.prop.delimiter": ",",
   "stream.kafka.decoder.prop.multiValueDelimiter": ";"' >csv.table.json
conf() { # conf NAME TABLE SCHEMA
  cat <<CONF
cluster.name = it
instance.id = $1
mode = standalone
http.port = 0
http.bind = 127.0.0.1
data.dir = $T_TMP/data-$1
table.config = $T_TMP/$2
table.schema = $T_TMP/$3
CONF
}
sidecar() { # sidecar NAME TABLE SCHEMA: a standalone sidecar on them, data in data-NAME/
  conf "$1" "$2" "$3" >"$1.conf"
  "$S" sidecar --config "$1.conf" >"$1.out" 2>"$1.log" &
  track_pid $!
}
sidecar c1 csv.table.json csv.schema.json

end_offset() { # end_offset DIR: the highest end offset of the segments published in DIR
  local f e end=0
  for f in "$1"/*.seg; do
    [ -e "$f" ] || continue
    e=$("$S" segment info "$f" | python3 -c 'import json,sys;print(json.load(sys.stdin)["endOffset"])')
    [ "$e" -gt "$end" ] && end=$e
  done
  echo "$end"
}
at_end() { [ "$(end_offset "$1")" -eq "$2" ]; } # at_end DIR N: published up to offset N
dump_all() { # dump_all DIR: every stored row, in offset order
  local f
  for f in $(for g in "$1"/*.seg; do echo "$("$S" segment info "$g" | python3 -c 'import json,sys;print(json.load(sys.stdin)["startOffset"])') $g"; done | sort -n | cut -d' ' -f2); do
    "$S" segment dump "$f"
  done
}
same_rows() { # same_rows GOT.jsonl WANT.jsonl: the same rows, column by column
  python3 - "$1" "$2" <<'PY'
import json, sys
got = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
want = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
assert len(got) == len(want), (len(got), len(want))
for g, w in zip(got, want):
    for k, v in w.items():
        assert g.get(k) == v, (k, g, w)
PY
}
wait_for 30 at_end data-c1/orders 42
check "CSV: segments published up to offset 42" at_end data-c1/orders 42
dump_all data-c1/orders >csv.got
check "CSV: the 40 good rows, in order, equal what was produced (quoted delimiters, nulls, 0-3 values)" \
  same_rows csv.got csv.expect
PORT=$(grep -o 'http=127.0.0.1:[0-9]*' c1.log | tail -1 | cut -d: -f2)
check "CSV: one malformed_csv and one wrong_type counted" bash -c \
  "[ \"\$(curl -s 127.0.0.1:$PORT/metrics | grep -F 'reason=\"malformed_csv\"' | awk '{print \$2}')\" = 1 ] &&
   [ \"\$(curl -s 127.0.0.1:$PORT/metrics | grep -F 'reason=\"wrong_type\"' | awk '{print \$2}')\" = 1 ]"

# ---- Avro with a schema registry (nginx) ----------------------------------------------------
mkdir -p reg/schemas/ids
REG_PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
python3 - reg/schemas/ids avro.bin avro.expect <<'PY'
import json, sys, struct
ids, out, exp = sys.argv[1:4]
v1 = {"type": "record", "name": "Order", "fields": [
    {"name": "id", "type": "long"}, {"name": "item", "type": "string"},
    {"name": "qty", "type": "int"}, {"name": "tags", "type": {"type": "array", "items": "string"}}]}
v2 = {"type": "record", "name": "Order", "fields": [
    {"name": "id", "type": "long"}, {"name": "note", "type": ["null", "string"], "default": None},
    {"name": "item", "type": "string"}, {"name": "qty", "type": "int"},
    {"name": "tags", "type": {"type": "array", "items": "string"}}]}
for i, sc in ((1, v1), (2, v2)):
    json.dump({"schema": json.dumps(sc)}, open(f"{ids}/{i}", "w"))
def zz(n):
    n = (n << 1) ^ (n >> 63)
    b = bytearray()
    while True:
        if n < 0x80:
            b.append(n); return bytes(b)
        b.append((n & 0x7F) | 0x80); n >>= 7
def s(x):
    x = x.encode(); return zz(len(x)) + x
def arr(xs):
    return (zz(len(xs)) + b"".join(s(x) for x in xs) if xs else b"") + zz(0)
msgs, rows = [], []
for i in range(40):
    tags = [f"t{j}" for j in range(i % 3)]
    item = f"caf\u00e9 {i}"
    if i < 20:
        body = zz(i) + s(item) + zz(i - 5) + arr(tags); sid = 1; note = None
    else:
        note = f"n{i}" if i % 2 else None
        body = zz(i) + (zz(1) + s(note) if note else zz(0)) + s(item) + zz(i - 5) + arr(tags); sid = 2
    msgs.append(b"\0" + struct.pack(">I", sid) + body)
    rows.append({"id": i, "item": item, "qty": i - 5, "tags": tags or None, "note": note})
good = msgs[:]
msgs.insert(10, b"\x01not avro")                               # malformed_avro: magic byte
msgs.insert(20, b"\0" + struct.pack(">I", 99) + zz(1))         # schema_unavailable: no id 99
msgs.insert(30, good[5][:-3])                                  # malformed_avro: truncated
delim = b"\x1e\x1d\x1c\x1b"
assert not any(delim in m for m in msgs)
open(out, "wb").write(delim.join(msgs))
with open(exp, "w") as f:
    for r in rows:
        f.write(json.dumps(r) + "\n")
PY
echo 'reader:{PLAIN}s3cr%t' >htpasswd
nginx_start application/vnd.schemaregistry.v1+json "
  server {
    listen 127.0.0.1:$REG_PORT; root $T_TMP/reg;
    location /secure/ { alias $T_TMP/reg/; auth_basic \"registry\"; auth_basic_user_file $T_TMP/htpasswd; }
  }"
require "nginx serves the registry's GET /schemas/ids/1" \
  wait_for 10 bash -c "curl -sf 127.0.0.1:$REG_PORT/schemas/ids/1 | grep -q Order"
kcat -P -b "$B" -t avrot -p 0 -D $'\x1e\x1d\x1c\x1b' <avro.bin 2>>kcat.log
check "kcat produced 43 Avro messages" test $? -eq 0
sed -e 's/"name": "item", "dataType": "STRING"}/&, {"name": "note", "dataType": "STRING"}/' \
  -e 's/"orders"/"ordersavro"/' csv.schema.json >avro.schema.json
table_json ordersavro avrot "\"stream.kafka.decoder.class.name\": \"org.apache.pinot.plugin.inputformat.avro.confluent.KafkaConfluentSchemaRegistryAvroMessageDecoder\",
   \"stream.kafka.decoder.prop.schema.registry.rest.url\": \"http://127.0.0.1:$REG_PORT\"" >avro.table.json
sidecar a1 avro.table.json avro.schema.json
wait_for 30 at_end data-a1/ordersavro 43
check "Avro: segments published up to offset 43" at_end data-a1/ordersavro 43
dump_all data-a1/ordersavro >avro.got
check "Avro: the 40 good rows of two schema versions, in order, equal what was produced" \
  same_rows avro.got avro.expect
PORT=$(grep -o 'http=127.0.0.1:[0-9]*' a1.log | tail -1 | cut -d: -f2)
check "Avro: two malformed_avro and one schema_unavailable counted" bash -c \
  "[ \"\$(curl -s 127.0.0.1:$PORT/metrics | grep -F 'reason=\"malformed_avro\"' | awk '{print \$2}')\" = 2 ] &&
   [ \"\$(curl -s 127.0.0.1:$PORT/metrics | grep -F 'reason=\"schema_unavailable\"' | awk '{print \$2}')\" = 1 ]"
check "Avro: the registry was asked once per schema id (cached), and for the unknown id" \
  bash -c "[ \$(grep -c 'GET /schemas/ids/1 .*\"sluice\"' $NGX/access.log) -eq 1 ] &&
           [ \$(grep -c 'GET /schemas/ids/2 .*\"sluice\"' $NGX/access.log) -eq 1 ] &&
           grep -q 'GET /schemas/ids/99 .* 404' $NGX/access.log"

# the same registry behind HTTP basic authentication: with the configured user the schemas come,
# with a wrong password every message is schema_unavailable (and nothing else is stored)
for who in "reader:s3cr%t" "reader:wrong"; do
  n=$([ "$who" = "reader:wrong" ] && echo a3 || echo a2)
  sed -e "s#\"http://127.0.0.1:$REG_PORT\"#\"http://127.0.0.1:$REG_PORT/secure\",\n   \"stream.kafka.decoder.prop.schema.registry.basic.auth.credentials.source\": \"USER_INFO\",\n   \"stream.kafka.decoder.prop.schema.registry.basic.auth.user.info\": \"$who\"#" \
    avro.table.json >$n.table.json
  sidecar $n $n.table.json avro.schema.json
done
wait_for 30 at_end data-a2/ordersavro 43
check "Avro over basic auth: the 40 rows, the user's credentials sent (the password holds a %)" \
  bash -c "[ \$(grep -c 'GET /secure/schemas/ids/1 .* 200 ' $NGX/access.log) -ge 1 ]"
dump_all data-a2/ordersavro >a2.got
check "... and they equal what was produced" same_rows a2.got avro.expect
P3=$(grep -o 'http=127.0.0.1:[0-9]*' a3.log | tail -1 | cut -d: -f2)
wait_for 20 bash -c "[ \"\$(curl -s 127.0.0.1:$P3/metrics | grep -F 'reason=\"schema_unavailable\"' | awk '{print \$2}')\" = 42 ]"
check "Avro with a wrong password: every message with a schema id is schema_unavailable (42), none stored" \
  bash -c "[ \"\$(curl -s 127.0.0.1:$P3/metrics | grep -F 'reason=\"schema_unavailable\"' | awk '{print \$2}')\" = 42 ] && ! ls data-a3/ordersavro/*.seg 2>/dev/null | grep -q ."

# ---- JSON Schema with the same registry (Confluent's wire format, a JSON payload) -----------
python3 - reg/schemas/ids json.bin json.expect <<'PY'
import json, sys, struct
ids, out, exp = sys.argv[1:4]
schema = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
          "properties": {"id": {"type": "integer"}, "item": {"type": "string"}}}
json.dump({"schemaType": "JSON", "schema": json.dumps(schema)}, open(f"{ids}/3", "w"))
msgs, rows = [], []
for i in range(30):
    r = {"id": i, "item": f"j{i}", "qty": i * 3, "tags": [f"t{i % 2}"] if i % 3 else None}
    msgs.append(b"\0" + struct.pack(">I", 3) + json.dumps({k: v for k, v in r.items() if v is not None}).encode())
    rows.append(dict(r, note=None))
msgs.insert(5, b'{"id": 1}')                                      # malformed_json: no header
msgs.insert(15, b"\0" + struct.pack(">I", 1) + b'{"id": 2}')      # schema_unavailable: id 1 is Avro
msgs.insert(25, b"\0" + struct.pack(">I", 98) + b'{"id": 3}')     # schema_unavailable: no id 98
open(out, "wb").write(b"\x1e\x1d\x1c\x1b".join(msgs))
with open(exp, "w") as f:
    for r in rows:
        f.write(json.dumps(r) + "\n")
PY
kcat -P -b "$B" -t jsont -p 0 -D $'\x1e\x1d\x1c\x1b' <json.bin 2>>kcat.log
check "kcat produced 33 JSON Schema messages" test $? -eq 0
sed -e 's/"ordersavro"/"ordersjson"/' avro.schema.json >json.schema.json
table_json ordersjson jsont "\"stream.kafka.decoder.class.name\": \"org.apache.pinot.plugin.inputformat.json.confluent.KafkaConfluentSchemaRegistryJsonMessageDecoder\",
   \"stream.kafka.decoder.prop.schema.registry.rest.url\": \"http://127.0.0.1:$REG_PORT\",
   \"stream.kafka.decoder.prop.cached.schema.map.capacity\": \"100\"" >json.table.json
sidecar j1 json.table.json json.schema.json
wait_for 30 at_end data-j1/ordersjson 33
check "JSON Schema: segments published up to offset 33" at_end data-j1/ordersjson 33
dump_all data-j1/ordersjson >json.got
check "JSON Schema: the 30 good rows, in order, equal what was produced" same_rows json.got json.expect
PJ=$(grep -o 'http=127.0.0.1:[0-9]*' j1.log | tail -1 | cut -d: -f2)
check "JSON Schema: one malformed_json (no header), two schema_unavailable (an Avro id, an unknown id)" bash -c \
  "[ \"\$(curl -s 127.0.0.1:$PJ/metrics | grep -F 'reason=\"malformed_json\"' | awk '{print \$2}')\" = 1 ] &&
   [ \"\$(curl -s 127.0.0.1:$PJ/metrics | grep -F 'reason=\"schema_unavailable\"' | awk '{print \$2}')\" = 2 ]"
check "JSON Schema: the registry was asked once for id 3 (cached)" \
  bash -c "[ \$(grep -c 'GET /schemas/ids/3 .*\"sluice\"' $NGX/access.log) -eq 1 ]"

# ---- Protocol Buffers: a descriptor set, messages encoded by protoc-c -----------------------
PROTO=$SLUICE_SRC/tests/data/proto
: >pb.bin
: >pb.expect
for i in $(seq 0 29); do
  tags=""; for j in $(seq 1 $((i % 3))); do tags="$tags tags: \"t$j\""; done
  opt=""; [ $((i % 2)) -eq 0 ] && opt="maybe: $i"
  echo "id: $i name: \"n$i\" score: $i.5 color: $([ $((i % 3)) -eq 0 ] && echo GREEN || echo RED) $tags inner { note: \"x$i\" } $opt" |
    protoc-c --proto_path="$PROTO" --encode=sluice.test.Event "$PROTO/events.proto" >one.bin || break
  cat one.bin >>pb.bin
  printf '\x1e\x1d\x1c\x1b' >>pb.bin
  python3 -c "
import json,sys; i=int(sys.argv[1])
print(json.dumps({'id': i, 'name': f'n{i}', 'score': i + 0.5, 'color': 'GREEN' if i % 3 == 0 else 'RED',
  'tags': [f't{j}' for j in range(1, i % 3 + 1)] or None, 'inner': json.dumps({'note': f'x{i}'}, separators=(',', ':')),
  'maybe': i if i % 2 == 0 else None}))" "$i" >>pb.expect
done
printf '\x12\x7f' >>pb.bin    # malformed_protobuf: a length past the end
check "protoc-c encoded 30 Event messages" test "$(wc -l <pb.expect)" -eq 30
kcat -P -b "$B" -t pbt -p 0 -D $'\x1e\x1d\x1c\x1b' <pb.bin 2>>kcat.log
check "kcat produced 31 Protocol Buffers messages" test $? -eq 0
cat >pb.schema.json <<'JSON'
{"schemaName": "events", "dimensionFieldSpecs": [
  {"name": "id", "dataType": "LONG"}, {"name": "name", "dataType": "STRING"},
  {"name": "color", "dataType": "STRING"}, {"name": "inner", "dataType": "STRING"},
  {"name": "tags", "dataType": "STRING", "singleValueField": false},
  {"name": "maybe", "dataType": "INT"}],
 "metricFieldSpecs": [{"name": "score", "dataType": "DOUBLE"}]}
JSON
table_json events pbt "\"stream.kafka.decoder.class.name\": \"org.apache.pinot.plugin.inputformat.protobuf.ProtoBufMessageDecoder\",
   \"stream.kafka.decoder.prop.descriptorFile\": \"$PROTO/events.desc\",
   \"stream.kafka.decoder.prop.protoClassName\": \"sluice.test.Event\"" >pb.table.json
sidecar p1 pb.table.json pb.schema.json
wait_for 30 at_end data-p1/events 31
check "Protocol Buffers: segments published up to offset 31" at_end data-p1/events 31
PORT=$(grep -o 'http=127.0.0.1:[0-9]*' p1.log | tail -1 | cut -d: -f2)
wait_for 10 bash -c "curl -s 127.0.0.1:$PORT/metrics | grep -F 'reason=\"malformed_protobuf\"' | grep -q ' 1$'"
check "Protocol Buffers: one malformed_protobuf counted" \
  bash -c "curl -s 127.0.0.1:$PORT/metrics | grep -F 'reason=\"malformed_protobuf\"' | grep -q ' 1$'"
dump_all data-p1/events >pb.got
check "Protocol Buffers: the 30 rows equal what protoc-c encoded (enums by name, a nested message as JSON, proto3 optional null when unset)" \
  same_rows pb.got pb.expect
finish
