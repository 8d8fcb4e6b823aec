#!/usr/bin/env bash
# The segment fetchers (DESIGN §10, docs/batch.md "Fetchers") for URI and METADATA pushes and
# for sidecars loading the pushed segments: Debian's nginx serving the files over HTTP (one
# location behind basic auth, its credentials in a netrc: fetcher.netrc.file) and HTTPS (a
# certificate of a CA made here: fetcher.https.ca.file; and one of an untrusted CA, refused),
# and webhdfs:// against a TEST RESPONDER of the WebHDFS REST API (lib/webhdfs_responder.py:
# Debian has no HDFS; it redirects each read from a "namenode" port to a "datanode" port, as
# HDFS does). A file changed at its URI after the push fails the sidecar's CRC check and is
# never published: the sidecar takes the committed bytes from a peer.
source "$(dirname "$0")/lib/harness.sh"
source "$(dirname "$0")/lib/zk.sh"
source "$(dirname "$0")/lib/cluster.sh"
source "$(dirname "$0")/lib/nginx.sh"
P=$SLUICE_SRC/tests/data/pinot/batch/billing
PY=/usr/bin/python3
cd "$T_TMP"
command -v openssl >/dev/null || { echo "not ok - openssl is not installed (deploy/install-deps.sh)"; exit 1; }
freeport() { $PY -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# ---- a CA, a server certificate it signs for 127.0.0.1, and one of another CA ----
q() { "$@" >>openssl.log 2>&1; }
q openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=Sluice test CA"
q openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj "/CN=127.0.0.1"
printf 'subjectAltName=IP:127.0.0.1\n' >san.ext
q openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile san.ext
q openssl req -x509 -newkey rsa:2048 -nodes -keyout rogue.key -out rogue.pem -days 2 -subj "/CN=127.0.0.1" \
  -addext subjectAltName=IP:127.0.0.1
require "test certificates are made (openssl)" test -s srv.pem -a -s rogue.pem

# ---- segments, served by nginx and by the WebHDFS test responder ----
$PY - "$P/rawdata/billing_data.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
head, body = rows[0], [r for r in rows[1:] if len(r) == len(rows[0])]
for i in range(5):
    with open(f"part{i}.csv", "w", newline="") as f:
        w = csv.writer(f); w.writerow(head); w.writerows(body[i::5])
PY
$PY - "$P/billing_offline_table_config.json" billing.json <<'PY'
import json, sys
t = json.load(open(sys.argv[1])); t["segmentsConfig"]["replication"] = "2"
json.dump(t, open(sys.argv[2], "w"))
PY
mkdir -p www/seg www/private hdfs/seg
for i in 0 1 2 3 4; do
  "$S" segment build --schema "$P/billing_schema.json" --table-config billing.json \
    --input part$i.csv --out www/seg/billing_$i.seg --name billing_$i 2>>build.err
done
cp www/seg/billing_4.seg www/private/
cp www/seg/billing_2.seg hdfs/seg/
"$S" segment build --schema "$P/billing_schema.json" --table-config billing.json \
  --input part0.csv --out other_3.seg --name billing_3 2>>build.err # the same name, other rows
require "five segments are built" bash -c "test \$(ls www/seg/*.seg | wc -l) -eq 5 && test -s other_3.seg"
HP=$(freeport) SP=$(freeport) RP=$(freeport)
echo 'loader:{PLAIN}s3cret' >htpasswd
nginx_start application/octet-stream "
  server {
    listen 127.0.0.1:$HP; root $T_TMP/www;
    location /private/ { auth_basic \"segments\"; auth_basic_user_file $T_TMP/htpasswd; }
  }
  server { listen 127.0.0.1:$SP ssl; ssl_certificate $T_TMP/srv.pem; ssl_certificate_key $T_TMP/srv.key; root $T_TMP/www; }
  server { listen 127.0.0.1:$RP ssl; ssl_certificate $T_TMP/rogue.pem; ssl_certificate_key $T_TMP/rogue.key; root $T_TMP/www; }"
require "nginx serves the segments over HTTP and HTTPS" \
  wait_for 10 bash -c "curl -sf -o /dev/null http://127.0.0.1:$HP/seg/billing_0.seg && curl -sf --cacert ca.pem -o /dev/null https://127.0.0.1:$SP/seg/billing_0.seg"
check "... the private location wants credentials (401 without)" \
  bash -c "curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$HP/private/billing_4.seg | grep -qx 401"
$PY "$SLUICE_SRC/tests/integration/lib/webhdfs_responder.py" "$T_TMP/hdfs" "$T_TMP/webhdfs.log" "$T_TMP/webhdfs.ports" &
track_pid $!
require "the WebHDFS test responder is up" wait_for 10 test -s webhdfs.ports
read -r NN DN <webhdfs.ports
printf 'machine 127.0.0.1 login loader password s3cret\n' >netrc
chmod 600 netrc

# ---- the cluster, every process with the CA and the netrc ----
zk_start "$T_TMP/zk" || { not_ok "zookeeper did not start"; finish; exit 1; }
FETCH="--set fetcher.https.ca.file=$T_TMP/ca.pem --set fetcher.netrc.file=$T_TMP/netrc"
common="--set cluster.name=fetch --set zk.connect=$ZK_CONNECT --set http.bind=127.0.0.1 $FETCH"
CTL_SETS="--set repair.interval=1s"
start_ctl c1
require "c1 leads" wait_for 15 is_leader "$CURL"
start_sidecar 1
start_sidecar 2
"$S" table add --controller "$CURL" --table-config billing.json --schema "$P/billing_schema.json" >add.out 2>&1
require "the table is created" grep -q billing_OFFLINE add.out

push() { # push MODE URI: sluice push, one attempt
  "$S" push --controller "$CURL" --table billing --attempts 1 --mode "$1" "$2"
}
push uri "http://127.0.0.1:$HP/seg/billing_0.seg" >p0.out 2>p0.err
check "URI push from http://: pushed" grep -q '^pushed billing_0 ' p0.out
push metadata "https://127.0.0.1:$SP/seg/billing_1.seg" >p1.out 2>p1.err
check "METADATA push of an https:// URI (certificate of the configured CA): pushed" grep -q '^pushed billing_1 ' p1.out
push metadata "webhdfs://hdfsuser@127.0.0.1:$NN/seg/billing_2.seg" >p2.out 2>p2.err
check "METADATA push of a webhdfs:// URI: pushed" grep -q '^pushed billing_2 ' p2.out
push uri "http://127.0.0.1:$HP/private/billing_4.seg" >p4.out 2>p4.err
check "URI push from a location behind basic auth, credentials from fetcher.netrc.file: pushed" \
  grep -q '^pushed billing_4 ' p4.out
push metadata "https://127.0.0.1:$SP/seg/billing_3.seg" >p3.out 2>p3.err
check "METADATA push of billing_3 over https: pushed" grep -q '^pushed billing_3 ' p3.out

online() { # online: every segment ONLINE on both sidecars, each file with its record's CRC
  curl -sf "$CURL/tables/billing_OFFLINE/segments" >segs.json || return 1
  $PY - segs.json "$S" <<'PY'
import json, subprocess, sys
segs, S = json.load(open(sys.argv[1])), sys.argv[2]
assert sorted(s["segment"] for s in segs) == [f"billing_{i}" for i in range(5)], segs
for s in segs:
    assert s["replicas"] == {"sidecar-1": "ONLINE", "sidecar-2": "ONLINE"}, s
    for n in (1, 2):
        info = json.loads(subprocess.check_output([S, "segment", "info", f"s{n}/billing_OFFLINE/{s['segment']}.seg"]))
        assert info["crc"] == s["crc"], (n, s["segment"])
PY
}
check "both sidecars load every segment, each from its URI, with the record's CRC" wait_for 30 online
check "the METADATA segments keep their URIs as download URLs" \
  bash -c "curl -sf '$CURL/tables/billing_OFFLINE/segments' | grep -q '\"downloadUrl\":\"webhdfs://hdfsuser@127.0.0.1:$NN/seg/billing_2.seg\"'"
check "the WebHDFS reads were redirected to the datanode, as user hdfsuser (controller and sidecars)" \
  bash -c "test \$(grep -c '\"role\": \"datanode\", \"path\": \"/webhdfs/v1/seg/billing_2.seg\", \"op\": \"OPEN\", \"user\": \"hdfsuser\"' webhdfs.log) -ge 3"
check "the https segment was fetched by the sidecars from nginx (access log)" \
  bash -c "test \$(grep -c 'GET /seg/billing_1.seg' $NGX/access.log) -ge 3"

# ---- refusals: nothing is recorded ----
push metadata "https://127.0.0.1:$RP/seg/billing_0.seg" >bad1.out 2>bad1.err
check "an https:// URI whose certificate no configured CA signed: refused (502)" grep -q 'HTTP 502' bad1.err
push uri "ftp://127.0.0.1/seg/billing_0.seg" >bad2.out 2>bad2.err
check "a scheme no fetcher has: sluice push refuses it (exit 2)" grep -q 'no fetcher for that scheme' bad2.err
check "... and so does the controller: 400" bash -c "curl -s -o /dev/null -w '%{http_code}' -X POST \
  -H 'UPLOAD_TYPE: URI' -H 'DOWNLOAD_URI: ftp://127.0.0.1/seg/billing_0.seg' '$CURL/v2/segments?tableName=billing' | grep -qx 400"
push metadata "webhdfs://127.0.0.1:$NN" >bad3.out 2>bad3.err
check "a webhdfs:// URI without a path: 400" grep -q 'HTTP 400' bad3.err
push metadata "webhdfs://x&doas=hdfs@127.0.0.1:$NN/seg/billing_2.seg" >bad5.out 2>bad5.err
check "a webhdfs:// user that would smuggle a parameter (doas): 400" grep -q 'HTTP 400' bad5.err
push uri "http://127.0.0.1:$HP/seg/nothing.seg" >bad4.out 2>bad4.err
check "a URI that is not there (404): refused" bash -c "grep -q 'HTTP [45]0[0-9]' bad4.err && ! test -s bad4.out"
check "... and the table still has its 5 segments" \
  bash -c "curl -sf '$CURL/tables/billing_OFFLINE/segments' | $PY -c 'import json,sys; assert len(json.load(sys.stdin)) == 5'"

# ---- a file changed at its URI after the push: the CRC check refuses it ----
CRC3=$(grep -o 'crc=[0-9]*' p3.out | cut -d= -f2)
stop_sidecar 2
rm -f s2/billing_OFFLINE/billing_3.seg
cp other_3.seg www/seg/billing_3.seg
off=$(logsize s2.log)
export -f since
start_sidecar 2
healed() {
  [ "$("$S" segment info s2/billing_OFFLINE/billing_3.seg 2>/dev/null | $PY -c 'import json,sys; print(json.load(sys.stdin)["crc"])')" = "$CRC3" ]
}
check "sidecar-2 refuses the changed file at the URI (its CRC is not the record's) ..." \
  wait_for 30 bash -c "since s2.log $off | grep -q 'download failed segment=billing_3 url=https://127.0.0.1:$SP/seg/billing_3.seg .*crc'"
check "... publishes only the committed bytes, taken from its peer" wait_for 30 healed
finish
