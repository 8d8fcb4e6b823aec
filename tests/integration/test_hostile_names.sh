#!/usr/bin/env bash
# Hostile names in every name-bearing path of both servers (issue 14 item 4, the part that
# needs no tokens): each route of the controller and the sidecar with its {table}, {segment}
# or {jobId} replaced by traversal and garbage (`..`, `.`, encoded `/`, `..`, NUL and space,
# an over-long name, a name that escapes through a realtime segment's grammar) and each query
# name parameter of the push and lineage routes the same. Every answer must be a refusal
# (400, 404, 405, 413), never a 5xx and never the bytes of a file outside the data (the test
# plants a marker file next to the data dirs), and both servers must stay healthy.
source "$(dirname "$0")/lib/harness.sh"
source "$(dirname "$0")/lib/zk.sh"
source "$(dirname "$0")/lib/cluster.sh"
PY=/usr/bin/python3
cd "$T_TMP"

zk_start "$T_TMP/zk" || { not_ok "zookeeper did not start"; finish; exit 1; }
kmock_start events:1
common="--set cluster.name=hostile --set zk.connect=$ZK_CONNECT --set http.bind=127.0.0.1"
start_ctl c1
require "c1 leads" wait_for 15 is_leader "$CURL"
start_sidecar 1
mk_table events events 100 ""
$PY -c 'import json; t=json.load(open("events.json")); t["segmentsConfig"]["replication"]="1"; json.dump(t,open("events.json","w"))'
"$S" table add --controller "$CURL" --table-config events.json --schema "$EX/events_schema.json" >add.out 2>&1
require "a table exists (so that a valid name resolves)" test $? -eq 0
echo "SECRET-MARKER-$RANDOM$RANDOM" >"$T_TMP/secret.seg"
mkdir -p "$T_TMP/c1" "$T_TMP/s1"
cp "$T_TMP/secret.seg" "$T_TMP/c1/secret.seg"
cp "$T_TMP/secret.seg" "$T_TMP/s1/secret.seg"

$PY - "$CURL" "${SURL[1]}" "$(cat secret.seg)" >sweep.out 2>&1 <<'PYS'
import http.client, sys, urllib.parse
ctl, sc, secret = sys.argv[1], sys.argv[2], sys.argv[3].encode()
ctl_routes = [
    ("PUT", "/segments/{table}/{segment}"), ("GET", "/segments/{table}/lineage"),
    ("GET", "/segments/{table}/{segment}"), ("POST", "/segments/{table}/startReplaceSegments"),
    ("POST", "/segments/{table}/endReplaceSegments"), ("POST", "/segments/{table}/revertReplaceSegments"),
    ("POST", "/segments/{table}/{segment}/reingest"), ("POST", "/segments/{table}/{segment}/bootstrapCommit"),
    ("GET", "/tables/forceCommitStatus/{jobId}"), ("POST", "/tables/{table}/forceCommit"),
    ("POST", "/tables/{table}/pauseConsumption"), ("POST", "/tables/{table}/resumeConsumption"),
    ("GET", "/tables/{table}/pauseStatus"), ("GET", "/tables/{table}"), ("GET", "/tables/{table}/schema"),
    ("GET", "/tables/{table}/timeBoundary"), ("GET", "/tables/{table}/segments"),
    ("GET", "/tables/{table}/segments/{segment}"),
]
sc_routes = [("GET", "/segments/{table}"), ("GET", "/segments/{table}/{segment}")]
bad = ["", "..", ".", "%2e%2e", "%2E", "a%2Fb", "..%2F..%2Fsecret", "%2F", "a%00b", "%00", "a%20b",
       "a" * 300, "%", "%zz", "events%2F..", "events__0__0__20240101T0000Z%2F..%2F..%2Fsecret",
       "secret", "..%5csecret", "%C0%AE%C0%AE", "-", "_"]
names = ("{table}", "{segment}", "{jobId}")
ok_status = {400, 404, 405, 409, 413}
fails, n = [], 0
def call(base, method, path, body=b""):
    u = urllib.parse.urlsplit(base)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    c.putrequest(method, path, skip_accept_encoding=True)
    c.putheader("Content-Length", str(len(body)))
    c.endheaders(body)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data
for base, routes in ((ctl, ctl_routes), (sc, sc_routes)):
    for method, pat in routes:
        for cap in names:
            if cap not in pat:
                continue
            for b in bad:
                path = pat
                for other in names:  # the other captures get a valid-looking value
                    path = path.replace(other, b if other == cap else ("events" if other == "{table}" else "events__0__0__20240101T0000Z"))
                st, data = call(base, method, path, b"{}" if method != "GET" else b"")
                n += 1
                if st not in ok_status or secret in data:
                    fails.append(f"{method} {path} -> {st} {data[:80]!r}")
# the query names of the push and lineage routes
for b in bad:
    for method, path in (("POST", f"/v2/segments?tableName={b}"),
                         ("POST", f"/v2/segments?tableName=events&tableType={b}"),
                         ("POST", f"/segments/events/endReplaceSegments?segmentLineageEntryId={b}"),
                         ("GET", f"/tables/events/segments?partition={b}"),
                         ("GET", f"/tables/events/segments?partition=+{b}")):
        st, data = call(ctl, method, path, b"x" if method == "POST" else b"")
        n += 1
        if st not in ok_status or secret in data:
            fails.append(f"{method} {path} -> {st} {data[:80]!r}")
print(n, "requests")
print("\n".join(fails))
sys.exit(1 if fails else 0)
PYS
rc=$?
cat sweep.out | head -40
check "every hostile name on every route of both servers is refused (4xx), and no file outside the data is served" \
  test $rc -eq 0
check "the controller is still healthy" curl -sf -o /dev/null "$CURL/health"
check "the sidecar is still healthy" healthy "${SURL[1]}"
check "... and nothing was written outside the table directories" \
  bash -c "! ls c1 s1 | grep -q '^\\.\\.\\|%'"
finish
