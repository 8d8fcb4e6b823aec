#!/usr/bin/env bash
# docs/config.md must list exactly the keys `sluice sidecar|controller --help-config` knows, and
# bad configuration must fail at start, exit 1 (docs/cli.md), naming the key. Every command's
# exit status is checked: a generator that fails or prints nothing, or a docs section whose
# markers are gone, is a failure, not an empty diff. Every command runs under `timeout`.
source "$(dirname "$0")/lib/harness.sh"
S=$SLUICE_BIN
DOC=$SLUICE_SRC/docs/config.md
cd "$T_TMP" || exit 1

# section NAME: the table between docs/config.md's NAME-config markers (without them)
section() { sed -n "/<!-- $1-config:begin -->/,/<!-- $1-config:end -->/p" "$DOC" | sed '1d;$d'; }
# rows FILE: FILE is a markdown key table with at least one key row
rows() { grep -q '^| `[a-z]' "$1"; }

for cmd in sidecar controller; do
  section "$cmd" >"$cmd.doc.md"
  check "docs/config.md has a $cmd table between its markers" rows "$cmd.doc.md"
  timeout 20 "$S" "$cmd" --help-config --format markdown >"$cmd.code.md" 2>"$cmd.code.err"
  rc=$?
  check "$cmd --help-config --format markdown exits 0 (got $rc)" test "$rc" -eq 0
  check "... and prints a key table" rows "$cmd.code.md"
  diff -u "$cmd.doc.md" "$cmd.code.md" >"$cmd.diff"
  rc=$?
  [ "$rc" -eq 0 ] || cat "$cmd.diff"
  check "docs/config.md $cmd table equals --help-config (diff exit $rc)" test "$rc" -eq 0
done
timeout 20 "$S" sidecar --help-config >plain.txt 2>plain.err
rc=$?
check "--help-config (plain) exits 0 (got $rc)" test "$rc" -eq 0
check "... and lists keys" grep -q consumer.threads plain.txt

# refused DESCRIPTION TEXT CMD...: CMD is a start with bad configuration: it must exit 1 within
# 20 s (a hang, a crash or a start would not) and name TEXT on stderr.
n=0
refused() {
  local d=$1 text=$2 rc
  shift 2
  n=$((n + 1))
  timeout 20 "$@" >"r$n.out" 2>"r$n.err"
  rc=$?
  check "$d: exits 1 (got $rc)" test "$rc" -eq 1
  check "$d: stderr names $text" grep -qF -- "$text" "r$n.err"
}
ctl="--set cluster.name=c --set instance.id=i --set http.port=0"
refused "controller: missing zk.connect" zk.connect "$S" controller $ctl --set data.dir=d
refused "controller: bad duration" completion.hold.time \
  "$S" controller $ctl --set data.dir=d --set zk.connect=127.0.0.1:1 --set completion.hold.time=soon
refused "controller: unsupported deepstore.uri scheme" deepstore.uri \
  "$S" controller $ctl --set data.dir=/tmp --set zk.connect=127.0.0.1:1 --set deepstore.uri=s3://bucket/x
refused "controller: a fetcher CA file that is not there" fetcher.https.ca.file \
  "$S" controller $ctl --set data.dir=d --set zk.connect=127.0.0.1:1 --set fetcher.https.ca.file=/nonexistent/ca.pem
refused "sidecar: a netrc file that is not there" fetcher.netrc.file \
  "$S" sidecar $ctl --set data.dir=d --set zk.connect=127.0.0.1:1 --set mode=cluster --set fetcher.netrc.file=/nonexistent/netrc
# a hidden key is a real key (its bounds are checked) that neither table lists
refused "controller: hidden test.commit.fault is a key" test.commit.fault \
  "$S" controller $ctl --set data.dir=d --set zk.connect=127.0.0.1:1 --set test.commit.fault=nonsense
check "... but the controller table lists no test.* key" bash -c "! grep -q '^| \`test\.' controller.code.md"

base="--set cluster.name=c --set instance.id=i --set http.port=0 --set data.dir=$T_TMP/d --set mode=standalone"
refused "missing required key" table.schema "$S" sidecar $base --set table.config=x.json
refused "unknown key" no.such.key "$S" sidecar $base --set table.config=x --set table.schema=y --set no.such.key=1
# http.port only once: a key given twice is refused too, naming the key, so a second
# --set http.port would pass the name check without testing the range
refused "out-of-range value" "http.port: 70000 out of range" \
  "$S" sidecar ${base/--set http.port=0/} --set table.config=x --set table.schema=y --set http.port=70000
check "... with its bounds" grep -qF "[0, 65535]" "r$n.err"
refused "sidecar: hidden test.perturb.row is a key" test.perturb.row \
  "$S" sidecar $base --set table.config=x --set table.schema=y --set test.perturb.row=-1
check "... but the sidecar table lists no test.* key" bash -c "! grep -q '^| \`test\.' sidecar.code.md"
printf 'cluster.name = c\nbogus = 1\n' >bad.conf
refused "unknown key in a file" bad.conf:2 "$S" sidecar --config bad.conf
refused "bad enum value" consumer.data.loss \
  "$S" sidecar $base --set table.config=x --set table.schema=y --set consumer.data.loss=maybe
refused "unreadable table config" /nonexistent.json \
  "$S" sidecar $base --set table.config=/nonexistent.json --set table.schema="$SLUICE_SRC/deploy/examples/events_schema.json"
refused "cluster mode without ZooKeeper" zk.connect \
  "$S" sidecar --set cluster.name=c --set instance.id=i --set http.port=0 --set data.dir=d --set zk.connect=127.0.0.1:1
finish
