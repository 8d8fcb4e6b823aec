#!/usr/bin/env bash
# `sluice table add | segments` without a real controller: usage errors exit 2, invalid files
# (a replication over the limit among them) exit 1 naming the file and the key before any
# network traffic, and against two stub controllers (a follower and a leader, in Python) both
# commands find the leader: POST through a 307 redirect with the body re-sent, GET through a
# 503 {"leader":...} hint, and the server's error message printed with exit 1; a 503 without a
# leader hint (an election) is retried.
source "$(dirname "$0")/lib/harness.sh"
S=$SLUICE_BIN
E=$SLUICE_SRC/deploy/examples
cd "$T_TMP"

# ---- usage: exit 2 ----
"$S" table >/dev/null 2>&1; check "no subcommand exits 2" test $? -eq 2
"$S" table frobnicate >/dev/null 2>&1; check "unknown subcommand exits 2" test $? -eq 2
"$S" table add --controller http://127.0.0.1:1 --schema "$E/events_schema.json" 2>add.err
check "add without --table-config exits 2" test $? -eq 2
check "add names the required options" grep -q -- "--table-config" add.err
"$S" table segments --table events >/dev/null 2>&1
check "segments without --controller exits 2" test $? -eq 2
"$S" table segments --controller http://127.0.0.1:1 --table events --timeout soon >/dev/null 2>&1
check "bad --timeout exits 2" test $? -eq 2
"$S" table add --controller http://127.0.0.1:1 --table-config a --schema b extra >/dev/null 2>&1
check "stray argument exits 2" test $? -eq 2
"$S" table add --help > help.out; check "add --help exits 0" test $? -eq 0
check "--help documents the redirect contract" grep -q "307 Temporary Redirect" help.out
"$S" --help | grep -q "^  table "; check "table is listed by sluice --help" test $? -eq 0

# ---- local validation: exit 1, file and key named, no network ----
# The controller URL is a port nobody listens on: a validation error must come first.
DEAD=http://127.0.0.1:1
sed 's/"STRING"/"STRNG"/' "$E/events_schema.json" > bad_schema.json
"$S" table add --controller $DEAD --table-config "$E/events_table.json" --schema bad_schema.json 2>err1
check "bad schema exits 1" test $? -eq 1
check "bad schema error names the file and the key" \
  grep -q 'bad_schema.json: dimensionFieldSpecs\[0\].dataType: unsupported type "STRNG"' err1
check "bad schema: no connection attempted" bash -c "! grep -qi connect err1"

python3 - "$E/events_table.json" <<'PY' > bad_table.json
import json, sys
t = json.load(open(sys.argv[1]))
t["segmentsConfig"]["replicaz"] = 3
print(json.dumps(t))
PY
"$S" table add --controller $DEAD --table-config bad_table.json --schema "$E/events_schema.json" 2>err2
check "bad table config exits 1" test $? -eq 1
check "bad table config error names the key" grep -q 'bad_table.json: segmentsConfig.replicaz' err2

# a bad schema and a bad table config: both reported in the one run
"$S" table add --controller $DEAD --table-config bad_table.json --schema bad_schema.json 2>err2b
check "bad schema and bad table config exit 1" test $? -eq 1
check "bad schema and bad table config: the schema's error" grep -q 'bad_schema.json: dimensionFieldSpecs\[0\].dataType' err2b
check "bad schema and bad table config: the table's error too" grep -q 'bad_table.json: segmentsConfig.replicaz: unsupported key' err2b

python3 - "$E/events_table.json" <<'PY' > wide_table.json
import json, sys
t = json.load(open(sys.argv[1]))
t["segmentsConfig"]["replication"] = "17"
print(json.dumps(t))
PY
"$S" table add --controller $DEAD --table-config wide_table.json --schema "$E/events_schema.json" 2>err7
check "replication over the limit exits 1" test $? -eq 1
check "replication over the limit names the key and the limit (16)" grep -q \
  'wide_table.json: segmentsConfig.replication: 17 replicas per partition; Sluice supports at most 16' err7
check "replication over the limit: no connection attempted" bash -c "! grep -qi connect err7"

printf '{"schemaName": "events", ' > truncated.json
"$S" table add --controller $DEAD --table-config "$E/events_table.json" --schema truncated.json 2>err3
check "truncated schema exits 1" test $? -eq 1
check "truncated schema error names the file" grep -q 'truncated.json' err3
"$S" table add --controller $DEAD --table-config missing.json --schema "$E/events_schema.json" 2>err4
check "missing table config exits 1" test $? -eq 1
check "missing file is named" grep -q 'missing.json' err4
"$S" table segments --controller $DEAD --table 'a/b' 2>err5
check "invalid table name exits 1" test $? -eq 1

# Valid files, nobody listening: the request is attempted and fails with exit 1.
"$S" table add --controller $DEAD --table-config "$E/events_table.json" --schema "$E/events_schema.json" 2>err6
check "unreachable controller exits 1" test $? -eq 1
check "unreachable controller is reported" grep -q "127.0.0.1:1/tables" err6

# ---- leader discovery against stub controllers ----
cat > stub.py <<'PY'
# Two stub controllers: the follower redirects POSTs (307) and answers GETs 503 + leader hint;
# the leader records POST /tables bodies and serves a segment list.
import http.server, json, sys, threading
body_file = sys.argv[1]
class Leader(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def reply(self, code, obj):
        b = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def do_POST(self):
        data = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path != "/tables": return self.reply(404, {"error": "no route"})
        open(body_file, "wb").write(data)
        t = json.loads(data)["tableConfig"]["tableName"]
        if t == "events": return self.reply(201, {"status": "created", "table": t})
        return self.reply(409, {"error": "table %s already exists" % t})
    flaky = 0
    def do_GET(self):
        if self.path == "/tables/flaky/segments":  # an election: 503 without a hint, twice
            Leader.flaky += 1
            if Leader.flaky <= 2:
                b = b"no controller leads right now; retry\n"
                self.send_response(503)
                self.send_header("Content-Length", str(len(b)))
                self.end_headers()
                return self.wfile.write(b)
            return self.reply(200, [])
        if self.path == "/tables/events/segments":
            return self.reply(200, [{"segment": "events__0__0__20240101T0000Z", "partition": 0,
                                     "sequence": 0, "status": "IN_PROGRESS", "startOffset": 0,
                                     "endOffset": None, "numRows": None, "crc": None,
                                     "downloadUrl": None, "replicas": {"s1": "CONSUMING"}}])
        return self.reply(404, {"error": "table not found"})
leader = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Leader)
LURL = "http://127.0.0.1:%d" % leader.server_address[1]
class Follower(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_POST(self):
        self.send_response(307)
        self.send_header("Location", LURL + self.path)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def do_GET(self):
        b = json.dumps({"leader": LURL}).encode()
        self.send_response(503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
follower = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Follower)
threading.Thread(target=leader.serve_forever, daemon=True).start()
print("http://127.0.0.1:%d" % follower.server_address[1], flush=True)
follower.serve_forever()
PY
python3 stub.py posted.json > stub.url 2>stub.err &
track_pid $!
wait_for 10 test -s stub.url
FOLLOWER=$(head -1 stub.url)
check "stub controllers started" test -n "$FOLLOWER"

"$S" table add --controller "$FOLLOWER/" --table-config "$E/events_table.json" \
  --schema "$E/events_schema.json" > add.out 2> add.err
check "add through a 307 follower exits 0" test $? -eq 0
check "add prints the leader's reply" grep -q '"created"' add.out
check "the leader got both files' JSON unchanged" python3 - posted.json "$E/events_table.json" "$E/events_schema.json" <<'PY'
import json, sys
got = json.load(open(sys.argv[1]))
assert set(got) == {"tableConfig", "schema"}, got.keys()
assert got["tableConfig"] == json.load(open(sys.argv[2]))
assert got["schema"] == json.load(open(sys.argv[3]))
PY

python3 - "$E/events_table.json" <<'PY' > other_table.json
import json, sys
t = json.load(open(sys.argv[1])); t["tableName"] = "other"; print(json.dumps(t))
PY
"$S" table add --controller "$FOLLOWER" --table-config other_table.json \
  --schema "$E/events_schema.json" 2> conflict.err
check "a server refusal exits 1" test $? -eq 1
check "the server's message is printed" grep -q "HTTP 409: table other already exists" conflict.err

"$S" table segments --controller "$FOLLOWER" --table events > segs.json 2> segs.err
check "segments through a 503 leader hint exits 0" test $? -eq 0
check "the hint was followed" grep -q "is not the leader" segs.err
check "segments prints the JSON array" python3 -c "
import json; a = json.load(open('segs.json'))
assert isinstance(a, list) and a[0]['status'] == 'IN_PROGRESS' and a[0]['endOffset'] is None"
"$S" table segments --controller "$FOLLOWER" --table events --pretty > pretty.json 2>/dev/null
check "--pretty output is the same JSON, indented" python3 -c "
import json; assert json.load(open('pretty.json')) == json.load(open('segs.json'))
assert len(open('pretty.json').read().splitlines()) > 5"
"$S" table segments --controller "$FOLLOWER" --table nope 2> nope.err
check "unknown table exits 1" test $? -eq 1
check "unknown table message printed" grep -q "HTTP 404: table not found" nope.err

# A leader being elected: 503 without a hint is retried until the answer comes.
"$S" table segments --controller "$FOLLOWER" --table flaky > flaky.json 2> flaky.err
check "503 without a leader hint is retried" test $? -eq 0
check "the retry is announced once" test "$(grep -c 'no leader yet' flaky.err)" -eq 1
check "the eventual answer is printed" test "$(cat flaky.json)" = "[]"

finish
