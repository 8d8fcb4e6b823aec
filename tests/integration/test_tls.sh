#!/usr/bin/env bash
# TLS and mTLS (DESIGN §12) on every HTTP server and client: a cluster (ZooKeeper, kafka-mock, a
# controller, three sidecars) serving HTTPS with client certificates required (CN = instance id)
# and bearer tokens streams and commits byte-identical replicas; plain HTTP, a missing or
# foreign client certificate and a certificate of another instance are refused; the CLIs take
# --ca-file/--cert/--key; the certificate is re-read on SIGHUP (a broken one keeps the old); bad
# TLS settings fail the start naming the key. Certificates are made here with openssl.
source "$(dirname "$0")/lib/harness.sh"
source "$(dirname "$0")/lib/zk.sh"
source "$(dirname "$0")/lib/cluster.sh" # S, EX, start_ctl, start_sidecar, published_to, ...
cd "$T_TMP"

# ---- certificates: a CA, one per process (CN = its id, SAN 127.0.0.1), an admin client, a
# foreign CA's client ------------------------------------------------------------------------
mkca() { # mkca NAME
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.pem" -days 2 \
    -subj "/CN=$1" >/dev/null 2>&1
}
mkcert() { # mkcert CA CN [FILE]
  local f=${3:-$2}
  openssl req -newkey rsa:2048 -nodes -keyout "$f.key" -out "$f.csr" -subj "/CN=$2" >/dev/null 2>&1 &&
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' >"$f.ext" &&
    openssl x509 -req -in "$f.csr" -CA "$1.pem" -CAkey "$1.key" -CAcreateserial -out "$f.pem" \
      -days 2 -extfile "$f.ext" >/dev/null 2>&1
}
mkca ca && mkca other-ca
for n in c1 sidecar-1 sidecar-2 sidecar-3 admin; do mkcert ca $n; done
mkcert other-ca sidecar-1 foreign
check "openssl made a CA and the certificates" test -s ca.pem -a -s c1.pem -a -s sidecar-3.pem -a -s foreign.pem

# ---- bad settings fail the start, naming the key ----------------------------------------------
base="--set cluster.name=t --set zk.connect=127.0.0.1:1 --set instance.id=c1 --set http.port=0 --set data.dir=$T_TMP/x"
bad() { # bad DESCRIPTION PATTERN SETS...
  local what=$1 pat=$2 rc
  shift 2
  "$S" controller $base "$@" >bad.out 2>&1 &
  local pid=$!
  track_pid $pid
  wait_exit 10 $pid
  rc=$?
  check "$what: exit 1 naming it (exit $rc)" bash -c "[ $rc -eq 1 ] && grep -q -- '$pat' bad.out"
}
bad "http.tls.cert without http.tls.key" "http.tls.key: needed" --set http.tls.cert=c1.pem
bad "http.tls.key without http.tls.cert" "http.tls.cert: needed" --set http.tls.key=c1.key
bad "a key that is not the certificate's" "does not go with" --set http.tls.cert=c1.pem --set http.tls.key=admin.key
printf 'junk\n' >junk.pem
bad "a certificate file that is not PEM" "not a PEM certificate" --set http.tls.cert=junk.pem --set http.tls.key=c1.key
bad "a client CA with no certificate in it" "http.tls.client.ca: .*no PEM certificate" --set http.tls.cert=c1.pem --set http.tls.key=c1.key --set http.tls.client.ca=junk.pem

# ---- tokens -------------------------------------------------------------------------------------
rnd() { head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
ADMIN=adm-$(rnd); READER=rdr-$(rnd)
{
  echo "$ADMIN admin"; echo "$READER reader"
  for i in 1 2 3; do v=in$i-$(rnd); echo "$v instance:sidecar-$i"; echo "$v" >own$i; done
} >tokens
chmod 600 tokens
echo "$ADMIN" >admin.tok

zk_start "$T_TMP/zk" || { not_ok "zookeeper did not start"; finish; exit 1; }
"$S" kafka-mock --brokers 1 --topic events:2 > boot.txt 2>mock.log &
track_pid $!
require "kafka-mock printed its bootstrap line" wait_for 10 test -s boot.txt
B=$(head -1 boot.txt)
export CURL_CA_BUNDLE=$T_TMP/ca.pem # the harness's own curl calls (/health)
SCHEME=https
tlsset() { echo "--set http.tls.cert=$T_TMP/$1.pem --set http.tls.key=$T_TMP/$1.key --set http.tls.client.ca=$T_TMP/ca.pem --set tls.ca.file=$T_TMP/ca.pem"; }
common="--set cluster.name=tls --set zk.connect=$ZK_CONNECT --set http.bind=127.0.0.1 --set zk.session.timeout=3s --set auth.tokens.file=$T_TMP/tokens"
start_ctl c1 $(tlsset c1); U=$CURL; CP=$CPID
check "the controller advertises https://" bash -c "[[ '$U' == https://127.0.0.1:* ]]"
check "its log says tls=mtls" grep -q 'sub=httpd listening .* tls=mtls tokens=on' c1.log
require "c1 leads" wait_for 15 is_leader "$U"
for i in 1 2 3; do start_sidecar $i $(tlsset sidecar-$i) --set auth.token.file=$T_TMP/own$i; done
"$S" zk dump --zk "$ZK_CONNECT" --cluster tls --path instances >inst.json 2>&1
check "the sidecars registered \"scheme\":\"https\"" bash -c "[ \$(grep -o '\"scheme\":\"https\"' inst.json | wc -l) -eq 3 ]"

# code URL [curl args...]: the HTTP status (000: no HTTP reply)
code() { local u=$1; shift; curl -s -o code.out -w '%{http_code}' "$@" "$u"; }
ADM=(--cert admin.pem --key admin.key -H "Authorization: Bearer $ADMIN")
check "plain HTTP to the HTTPS port gets no HTTP reply" test "$(code "${U/https/http}/tables" --max-time 5)" = 000
check "GET /health needs no client certificate (200)" test "$(code "$U/health")" = 200
check "GET /tables with a token but no client certificate: 403" \
  test "$(code "$U/tables" -H "Authorization: Bearer $READER")" = 403
check "... saying why" grep -q 'no client certificate' code.out
check "a client certificate of another CA: refused" \
  bash -c "c=\$(curl -s -o /dev/null -w '%{http_code}' --cert foreign.pem --key foreign.key -H 'Authorization: Bearer $READER' '$U/tables'); [ \"\$c\" = 403 ] || [ \"\$c\" = 000 ]"
check "the admin's certificate and token: 200" test "$(code "$U/tables" "${ADM[@]}")" = 200
check "the admin's certificate without a token: 401" test "$(code "$U/tables" --cert admin.pem --key admin.key)" = 401
check "sidecar-1's certificate with sidecar-2's token: 403 (CN is not the instance)" \
  test "$(code "$U/tables" --cert sidecar-1.pem --key sidecar-1.key -H "Authorization: Bearer $(cat own2)")" = 403
check "... saying so" grep -q "CN sidecar-1 is not instance sidecar-2" code.out
check "a curl that does not trust the CA cannot connect" \
  bash -c "CURL_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt curl -s -o /dev/null '$U/health'; [ \$? -ne 0 ]"

mk_table events events 1500 ""
"$S" table add --controller "$U" --table-config events.json --schema "$EX/events_schema.json" \
  --token-file admin.tok >add0.out 2>&1
check "sluice table add without --ca-file: exit 1 (the CA is not trusted)" test $? -eq 1
"$S" table add --controller "$U" --table-config events.json --schema "$EX/events_schema.json" \
  --token-file admin.tok --ca-file ca.pem >add1.out 2>&1
check "... with --ca-file but no client certificate: exit 1, 403" bash -c "[ $? -eq 1 ] && grep -q 403 add1.out"
"$S" table add --controller "$U" --table-config events.json --schema "$EX/events_schema.json" \
  --token-file admin.tok --ca-file ca.pem --cert admin.pem --key admin.key >add2.out 2>&1
check "... with --ca-file, --cert and --key: the table is created" test $? -eq 0

"$S" loadgen --bootstrap "$B" --topic events --rows 6000 --partitions 2 --rate 6000 2>lg.err
check "loadgen delivered 6000 rows" test $? -eq 0
wait_for 60 published_to events 0:3000,1:3000
check "every replica published 3000 rows per partition over HTTPS with client certificates" test $? -eq 0
check "the replicas are byte-identical" identical events
SLUICE_TOKEN_FILE=admin.tok SLUICE_CA_FILE=ca.pem SLUICE_CERT_FILE=admin.pem SLUICE_KEY_FILE=admin.key \
  "$S" audit --zk "$ZK_CONNECT" --cluster tls --table events >audit.out 2>&1
rc=$?
check "sluice audit with the credentials from the environment: no violation (exit $rc)" test $rc -eq 0
[ $rc -eq 0 ] || cat audit.out
S1=${SURL[1]}
check "a sidecar's listing over HTTPS with a client certificate and a token: 200" \
  test "$(code "$S1/segments/events" "${ADM[@]}")" = 200
check "... without a client certificate: 403" test "$(code "$S1/segments/events" -H "Authorization: Bearer $ADMIN")" = 403

# ---- SIGHUP: the certificate again -------------------------------------------------------------
subject() { openssl s_client -connect "${U#https://}" -servername localhost </dev/null 2>/dev/null | openssl x509 -noout -subject 2>/dev/null; }
export U
export -f subject
check "the controller presents CN=c1" bash -c "subject | grep -q 'CN *= *c1\$'"
mkcert ca c1-renewed renewed && cp renewed.pem c1.pem && cp renewed.key c1.key
off=$(logsize c1.log)
kill -HUP "$CP"
check "SIGHUP: the certificate re-read" wait_for 10 logged c1.log "$off" "certificate re-read cn=c1-renewed"
check "... new handshakes get it" bash -c "subject | grep -q 'CN *= *c1-renewed'"
check "... and requests still work (200)" test "$(code "$U/tables" "${ADM[@]}")" = 200
echo broken >c1.pem
off=$(logsize c1.log)
kill -HUP "$CP"
check "SIGHUP with a broken certificate: logged, the previous one stays" \
  wait_for 10 logged c1.log "$off" "the previous certificate stays in force"
check "... requests still work (200)" test "$(code "$U/tables" "${ADM[@]}")" = 200
check "the controller survived" running "$CP"

# mTLS without tokens: the certificate alone binds an RPC to its instance (a standby answers
# the protocol's checks too)
with_tokens=$common
common=${common/--set auth.tokens.file=$T_TMP\/tokens/}
start_ctl c2 $(tlsset renewed); U2=$CURL # c1.pem is broken by now
common=$with_tokens
python3 -c "
import sys
seg, inst = b'events__0__0__20260101T0000Z', b'sidecar-2'
sys.stdout.buffer.write(b'\x0a' + bytes([len(seg)]) + seg + b'\x12' + bytes([len(inst)]) + inst + b'\x18\x01')" >as2.bin
rpc2() { curl -s -o rpc2.out -w '%{http_code}' --cert "$1.pem" --key "$1.key" -H 'Content-Type: application/protobuf' \
  --data-binary @as2.bin "$U2/twirp/sluice.v1.Completion/SegmentConsumed"; }
check "mTLS, no tokens: sidecar-1's certificate speaking as sidecar-2 is 403" test "$(rpc2 sidecar-1)" = 403
check "... saying so" grep -q 'may not speak as instance sidecar-2' rpc2.out
check "... sidecar-2's certificate as itself passes that check" test "$(rpc2 sidecar-2)" != 403

# ---- the quickstart with tokens and TLS on (two segments a partition, as lib/qs.sh runs it) --
env -u CURL_CA_BUNDLE QS_SKIP_DEPS=1 SLUICE_BUILD="$(dirname "$SLUICE_BIN")" QS_ROWS=220000 \
  QS_SEGMENTS=2 QS_RATE=40000 QS_TIMEOUT=150 \
  timeout 300 "$SLUICE_SRC/deploy/quickstart.sh" --secure --dir "$T_TMP/qs" >qs.log 2>&1
rc=$?
check "deploy/quickstart.sh --secure: every replica ONLINE with the committed CRC (exit $rc)" \
  bash -c "[ $rc -eq 0 ] && grep -q 'quickstart: OK' qs.log"
[ $rc -eq 0 ] || tail -20 qs.log
check "... over https://, refusing a call without a token (401) or a client certificate (403)" \
  bash -c "grep -q 'https://127.0.0.1:[0-9]*/tables without a token: 401; with the admin.s token but' qs.log && grep -q 'no client certificate: 403; with both: 200' qs.log"
check "... its configs name the tokens file and the certificates" \
  bash -c "grep -q '^auth.tokens.file = ' '$T_TMP/qs/controller.conf' && grep -q '^http.tls.client.ca = ' '$T_TMP/qs/sidecar1.conf'"
finish
