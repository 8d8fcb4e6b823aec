#!/usr/bin/env bash
# Bearer tokens and roles (DESIGN §12): default-deny on a non-loopback bind; a cluster (ZooKeeper,
# kafka-mock, a controller, three sidecars) whose every process checks tokens streams and commits
# byte-identical replicas with the sidecars' own tokens; every unauthenticated, wrong-role or
# forged call is refused with the right status before anything changes; the tokens file is
# re-read on SIGHUP (a broken one keeps the old tokens); no token ever reaches a log.
source "$(dirname "$0")/lib/harness.sh"
source "$(dirname "$0")/lib/zk.sh"
source "$(dirname "$0")/lib/cluster.sh" # S, EX, start_ctl, start_sidecar, published_to, ...
cd "$T_TMP"

# ---- start-up policy (no cluster needed: --check-config runs the same checks) ----------------
base="--set cluster.name=a --set zk.connect=127.0.0.1:1 --set instance.id=c9 --set http.port=0 --set data.dir=$T_TMP/x"
"$S" controller $base --set http.bind=0.0.0.0 --check-config >dd.out 2>&1
rc=$?
check "controller on 0.0.0.0 without auth.tokens.file refuses to start (exit $rc), naming http.bind" \
  bash -c "[ $rc -eq 1 ] && grep -q 'http.bind: 0.0.0.0 takes connections from other hosts' dd.out"
"$S" controller $base --set http.bind=0.0.0.0 --set auth.disabled=true --check-config >/dev/null 2>&1
check "... with auth.disabled = true it starts" test $? -eq 0
"$S" sidecar ${base/instance.id=c9/instance.id=sidecar-9} --set mode=cluster --set http.bind=0.0.0.0 --check-config >sd.out 2>&1
rc=$?
check "sidecar on 0.0.0.0 without tokens refuses too (exit $rc)" bash -c "[ $rc -eq 1 ] && grep -q 'http.bind' sd.out"
"$S" controller $base --check-config >/dev/null 2>&1
check "the default bind (127.0.0.1) needs no tokens" test $? -eq 0

printf 'tok-admin-0123456789abcdef admin\ntok-admin-0123456789abcdef reader\n' >dup.tokens
printf '# comment\ntok-a admin\n\ntok-b superuser\n' >role.tokens
printf 'tok a admin\n' >space.tokens
printf 'tok-\xff admin\n' >char.tokens
printf 'tok-c instance:bad/id\n' >inst.tokens
printf '# nothing\n\n' >empty.tokens
for f in dup:2 role:4 space:1 char:1 inst:1 empty:; do
  n=${f%%:*}; line=${f#*:}
  "$S" controller $base --set auth.tokens.file=$n.tokens --check-config >$n.out 2>&1
  rc=$?
  check "a tokens file with a bad line ($n) fails the start (exit $rc), naming file:line" \
    bash -c "[ $rc -eq 1 ] && grep -q 'auth.tokens.file: $n.tokens${line:+:$line}' $n.out"
done
printf 'tok-a admin\n' >ok.tokens
"$S" controller $base --set auth.tokens.file=ok.tokens --set auth.disabled=true --check-config >both.out 2>&1
check "auth.disabled with auth.tokens.file: refused" bash -c "[ $? -eq 1 ] && grep -q 'choose one' both.out"

# ---- a cluster with tokens everywhere ---------------------------------------------------------
ADMIN=adm-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
READER=rdr-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
for i in 1 2 3 9; do declare "INST$i=in$i-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"; done
cat >tokens <<EOF
# TOKEN ROLE[:INSTANCE]
$ADMIN admin
$READER reader
$INST1 instance:sidecar-1
$INST2 instance:sidecar-2
$INST3 instance:sidecar-3
$INST9 instance:sidecar-9
EOF
chmod 600 tokens
for i in 1 2 3; do v=INST$i; echo "${!v}" >own$i; done
echo "$ADMIN" >admin.tok
echo "$READER" >reader.tok

zk_start "$T_TMP/zk" || { not_ok "zookeeper did not start"; finish; exit 1; }
"$S" kafka-mock --brokers 1 --topic events:2 > boot.txt 2>mock.log &
track_pid $!
require "kafka-mock printed its bootstrap line" wait_for 10 test -s boot.txt
B=$(head -1 boot.txt)
common="--set cluster.name=auth --set zk.connect=$ZK_CONNECT --set http.bind=127.0.0.1 --set zk.session.timeout=3s --set auth.tokens.file=$T_TMP/tokens"
start_ctl c1; U=$CURL; CP=$CPID
require "c1 leads" wait_for 15 is_leader "$U"
for i in 1 2 3; do start_sidecar $i --set auth.token.file=$T_TMP/own$i; done
check "the controller logs auth=tokens" grep -q 'sub=controller started .* auth=tokens' c1.log

# code METHOD URL [TOKEN] [curl args...]: the HTTP status
code() {
  local m=$1 u=$2 t=${3:-}
  shift 3 2>/dev/null || shift $#
  curl -s -o /dev/null -w '%{http_code}' -X "$m" ${t:+-H "Authorization: Bearer $t"} "$@" "$u"
}
check "GET /health needs no token (200)" test "$(code GET "$U/health")" = 200
check "GET /tables without a token: 401" test "$(code GET "$U/tables")" = 401
check "... with WWW-Authenticate: Bearer" bash -c "curl -s -D - -o /dev/null '$U/tables' | grep -qi '^WWW-Authenticate: Bearer'"
check "GET /tables with an unknown token: 401" test "$(code GET "$U/tables" wrong-token)" = 401
check "GET /tables with another scheme (Basic): 401" \
  test "$(curl -s -o /dev/null -w '%{http_code}' -u "x:$READER" "$U/tables")" = 401
check "GET /tables as reader: 200" test "$(code GET "$U/tables" "$READER")" = 200
check "GET /metrics without a token: 401, as reader: 200" \
  bash -c "[ $(code GET "$U/metrics") = 401 ] && [ $(code GET "$U/metrics" "$READER") = 200 ]"

mk_table events events 1500 ""
"$S" table add --controller "$U" --table-config events.json --schema "$EX/events_schema.json" >add0.out 2>&1
rc=$?
check "sluice table add without a token: exit 1, saying 401 (exit $rc)" bash -c "[ $rc -eq 1 ] && grep -q 401 add0.out"
"$S" table add --controller "$U" --token-file reader.tok --table-config events.json --schema "$EX/events_schema.json" >add1.out 2>&1
rc=$?
check "... as reader: exit 1, saying 403 (exit $rc)" bash -c "[ $rc -eq 1 ] && grep -q 403 add1.out"
check "... as an instance: POST /tables is 403" \
  test "$(code POST "$U/tables" "$INST1" -H 'Content-Type: application/json' --data '{}')" = 403
"$S" table add --controller "$U" --token-file admin.tok --table-config events.json --schema "$EX/events_schema.json" >add2.out 2>&1
check "sluice table add --token-file (admin): the table is created" test $? -eq 0
SLUICE_TOKEN_FILE=reader.tok "$S" table segments --controller "$U" --table events >seg0.json 2>seg0.err
check "sluice table segments with \$SLUICE_TOKEN_FILE (reader)" test $? -eq 0

# the sidecars consume and commit with their own tokens
"$S" loadgen --bootstrap "$B" --topic events --rows 6000 --partitions 2 --rate 6000 2>lg.err
check "loadgen delivered 6000 rows" test $? -eq 0
wait_for 60 published_to events 0:3000,1:3000
check "every replica published 3000 rows per partition (RPCs and uploads with the sidecars' tokens)" test $? -eq 0
check "the replicas are byte-identical" identical events

# ---- forged and wrong-role calls on the completion protocol ------------------------------------
SEG=$(python3 -c "import json,sys; print([s['segment'] for s in json.load(open('seg0.json')) if s['partition']==0][0])")
"$S" table segments --controller "$U" --token-file reader.tok --table events >seg1.json
OPEN=$(python3 -c "import json; print([s['segment'] for s in json.load(open('seg1.json')) if s['status']=='IN_PROGRESS' and s['partition']==0][0])")
# rpc_body SEGMENT INSTANCE OFFSET: a CompletionRequest, protobuf-encoded by hand
rpc_body() {
  python3 - "$@" <<'PY'
import sys
def varint(n):
    out = b""
    while True:
        b = n & 0x7F; n >>= 7
        out += bytes([b | (0x80 if n else 0)])
        if not n: return out
seg, inst, off = sys.argv[1].encode(), sys.argv[2].encode(), int(sys.argv[3])
sys.stdout.buffer.write(b"\x0a" + varint(len(seg)) + seg + b"\x12" + varint(len(inst)) + inst + b"\x18" + varint(off))
PY
}
rpc() { # rpc METHOD TOKEN BODYFILE: the HTTP status
  curl -s -o rpc.out -w '%{http_code}' -X POST ${2:+-H "Authorization: Bearer $2"} \
    -H 'Content-Type: application/protobuf' --data-binary @"$3" "$U/twirp/sluice.v1.Completion/$1"
}
rpc_body "$OPEN" sidecar-2 3000 >as2.bin
rpc_body "$OPEN" sidecar-9 3000 >as9.bin
check "an RPC without a token: 401" test "$(rpc SegmentConsumed "" as2.bin)" = 401
check "an RPC as reader: 403" test "$(rpc SegmentConsumed "$READER" as2.bin)" = 403
check "an RPC as admin: 403 (only instances speak the protocol)" test "$(rpc SegmentConsumed "$ADMIN" as2.bin)" = 403
check "sidecar-1's token speaking as sidecar-2 (SegmentConsumed): 403" test "$(rpc SegmentConsumed "$INST1" as2.bin)" = 403
check "... the reply names the mismatch" grep -q 'may not speak as instance sidecar-2' rpc.out
check "a CommitEnd replayed with sidecar-1's token as sidecar-2: 403" test "$(rpc CommitEnd "$INST1" as2.bin)" = 403
check "sidecar-9 (a token, but no replica of the segment) as itself: answered (200) ..." \
  test "$(rpc SegmentConsumed "$INST9" as9.bin)" = 200
check "... with status FAILED, as not a replica" bash -c \
  "python3 -c \"import sys; sys.exit(open('rpc.out','rb').read()[:2] != b'\\x08\\x07')\" && grep -qa 'not a replica' rpc.out"
head -c 4096 /dev/urandom >junk.seg
put() { curl -s -o put.out -w '%{http_code}' -X PUT ${2:+-H "Authorization: Bearer $2"} --data-binary @junk.seg "$U/segments/events/$1"; }
check "a commit upload without a token: 401" test "$(put "$OPEN" "")" = 401
check "a commit upload as reader: 403" test "$(put "$OPEN" "$READER")" = 403
check "a commit upload as admin: 403" test "$(put "$OPEN" "$ADMIN")" = 403
check "a commit upload by sidecar-9, not a replica of the segment: 403" test "$(put "$OPEN" "$INST9")" = 403
check "... naming why" grep -q 'sidecar-9 is not a replica' put.out
"$S" table segments --controller "$U" --token-file reader.tok --table events >seg2.json
check "nothing the refused calls sent changed a segment record" \
  python3 -c "
import json
a = {s['segment']: (s['status'], s['endOffset'], s['crc']) for s in json.load(open('seg1.json'))}
b = {s['segment']: (s['status'], s['endOffset'], s['crc']) for s in json.load(open('seg2.json'))}
assert all(b[k] == v for k, v in a.items() if v[0] != 'IN_PROGRESS'), (a, b)
assert b['$OPEN'][0] in ('IN_PROGRESS', 'COMMITTING', 'DONE')
"
check "admin routes as reader are 403 (forceCommit, pause, lineage, push)" bash -c "
  [ $(code POST "$U/tables/events/forceCommit" "$READER") = 403 ] &&
  [ $(code POST "$U/tables/events/pauseConsumption" "$READER") = 403 ] &&
  [ $(code POST "$U/segments/events/startReplaceSegments" "$READER") = 403 ] &&
  [ $(code POST "$U/v2/segments?tableName=events" "$INST1") = 403 ]"

# every route of the controller's table (completion/controller.c) without a token, and with a
# role that may not call it: 401 and 403, before anything runs (nothing is created below)
ROUTES="POST:/twirp/sluice.v1.Completion/SegmentConsumed:I PUT:/segments/events/$OPEN:I
GET:/segments/events/lineage:R GET:/segments/events/$SEG:R
POST:/segments/events/startReplaceSegments:A POST:/segments/events/endReplaceSegments:A
POST:/segments/events/revertReplaceSegments:A POST:/v2/segments:A
POST:/segments/events/$SEG/reingest:A POST:/segments/events/$SEG/bootstrapCommit:A
GET:/tables:R POST:/tables:A GET:/tables/forceCommitStatus/x:R POST:/tables/events/forceCommit:A
POST:/tables/events/pauseConsumption:A POST:/tables/events/resumeConsumption:A
GET:/tables/events/pauseStatus:R GET:/tables/events:R GET:/tables/events/schema:R
GET:/tables/events/timeBoundary:R GET:/tables/events/segments:R
GET:/tables/events/segments/$SEG:R GET:/tables/events/consumingSegmentsInfo:R GET:/metrics:R"
bad_routes=""
nroutes=0
for r in $ROUTES; do
  m=${r%%:*}; rest=${r#*:}; path=${rest%:*}; need=${rest##*:}
  nroutes=$((nroutes + 1))
  [ "$(code "$m" "$U$path" "" --data-binary x)" = 401 ] || bad_routes="$bad_routes $m:$path(none)"
  case $need in
  A) for t in "$READER" "$INST1"; do [ "$(code "$m" "$U$path" "$t" --data-binary x)" = 403 ] || bad_routes="$bad_routes $m:$path(${t%%-*})"; done ;;
  I) for t in "$READER" "$ADMIN"; do [ "$(code "$m" "$U$path" "$t" --data-binary x)" = 403 ] || bad_routes="$bad_routes $m:$path(${t%%-*})"; done ;;
  esac
done
check "all $nroutes controller routes: 401 without a token, 403 for a role that may not call them${bad_routes:+ (wrong:$bad_routes)}" \
  test -z "$bad_routes"
check "... and the route table has no other route but the public /health and /ui" \
  test "$(grep -c '^    {"\(GET\|POST\|PUT\|DELETE\)", ' "$SLUICE_SRC/completion/controller.c")" -eq $((nroutes + 2))
check "GET /ui needs no token (the page; its data does)" test "$(code GET "$U/ui")" = 200
"$S" table segments --controller "$U" --token-file reader.tok --table events >seg3.json
check "... none of those calls changed a segment record" python3 -c "
import json
a = {s['segment']: (s['status'], s['crc']) for s in json.load(open('seg2.json'))}
b = {s['segment']: (s['status'], s['crc']) for s in json.load(open('seg3.json'))}
assert all(b.get(k) == v for k, v in a.items() if v[0] == 'DONE'), (a, b)
"

# ---- the sidecars' own endpoints ------------------------------------------------------------
S1=${SURL[1]}
check "sidecar: GET /health needs no token" test "$(code GET "$S1/health")" = 200
check "sidecar: GET /segments/events without a token: 401" test "$(code GET "$S1/segments/events")" = 401
check "sidecar: ... as reader: 200" test "$(code GET "$S1/segments/events" "$READER")" = 200
check "sidecar: a peer download as another instance: 200" test "$(code GET "$S1/segments/events/$SEG" "$INST2")" = 200
check "sidecar: a peer download without a token: 401" test "$(code GET "$S1/segments/events/$SEG")" = 401
check "sidecar: GET /metrics without a token: 401, as reader: 200" \
  bash -c "[ $(code GET "$S1/metrics") = 401 ] && [ $(code GET "$S1/metrics" "$READER") = 200 ]"
check "sidecar: a method its routes do not take is 405 before any token check" \
  test "$(code POST "$S1/segments/events" "" --data-binary x)" = 405
check "... and the sidecar's route table has these four routes only" \
  test "$(grep -c '^    {"\(GET\|POST\|PUT\|DELETE\)", ' "$SLUICE_SRC/src/cmd_sidecar.c")" -eq 4

"$S" audit --zk "$ZK_CONNECT" --cluster auth --table events >audit0.out 2>&1
rc=$?
check "sluice audit without a token cannot read the sidecars (exit $rc, not 0)" test $rc -ne 0
"$S" audit --zk "$ZK_CONNECT" --cluster auth --table events --token-file reader.tok >audit1.out 2>&1
rc=$?
check "sluice audit --token-file (reader): no violation (exit $rc)" test $rc -eq 0
[ $rc -eq 0 ] || cat audit1.out

# ---- SIGHUP: the tokens file again ----------------------------------------------------------
NEWR=new-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
check "a token not yet in the file: 401" test "$(code GET "$U/tables" "$NEWR")" = 401
grep -v " reader$" tokens >tokens.new && echo "$NEWR reader" >>tokens.new && mv tokens.new tokens
off=$(logsize c1.log)
kill -HUP "$CP"
check "SIGHUP: the controller re-read the file" wait_for 10 logged c1.log "$off" "tokens re-read"
check "... the new token is accepted (200)" test "$(code GET "$U/tables" "$NEWR")" = 200
check "... the removed one is not (401)" test "$(code GET "$U/tables" "$READER")" = 401
echo "garbage line with four words" >>tokens
off=$(logsize c1.log)
kill -HUP "$CP"
check "SIGHUP with a broken file: logged, the previous tokens stay" wait_for 10 logged c1.log "$off" "previous tokens stay in force"
check "... the new token still works (200)" test "$(code GET "$U/tables" "$NEWR")" = 200
check "the controller survived both SIGHUPs" running "$CP"
off=$(logsize s1.log)
kill -HUP "${SPID[1]}"
check "SIGHUP on a sidecar: logged, it keeps running" bash -c "sleep 1; kill -0 ${SPID[1]}"

# ---- no token in any log -------------------------------------------------------------------
leaked=0
for t in "$ADMIN" "$READER" "$INST1" "$INST2" "$INST3" "$INST9" "$NEWR"; do
  grep -lF -- "$t" ./*.log ./*.out ./*.err 2>/dev/null | grep -v '^./rpc.out$' && leaked=1
done
check "no token appears in any log or output" test $leaked -eq 0
finish
