#!/usr/bin/env bash
# docs/config.md must list exactly the keys `sluice sidecar --help-config` knows, and bad
# configuration must fail at start naming the key.
source "$(dirname "$0")/lib/harness.sh"
S=$SLUICE_BIN
cd "$T_TMP"
sed -n '/<!-- sidecar-config:begin -->/,/<!-- sidecar-config:end -->/p' "$SLUICE_SRC/docs/config.md" \
  | sed '1d;$d' > doc.md
"$S" sidecar --help-config --format markdown > code.md
check "docs/config.md sidecar table equals --help-config" diff -u doc.md code.md
sed -n '/<!-- controller-config:begin -->/,/<!-- controller-config:end -->/p' "$SLUICE_SRC/docs/config.md" \
  | sed '1d;$d' > cdoc.md
"$S" controller --help-config --format markdown > ccode.md
check "docs/config.md controller table equals --help-config" diff -u cdoc.md ccode.md
"$S" controller --set cluster.name=c --set instance.id=i --set http.port=0 --set data.dir=d 2>c1.txt
check "controller: missing zk.connect is named" grep -q "zk.connect" c1.txt
"$S" controller --set cluster.name=c --set instance.id=i --set http.port=0 --set data.dir=d \
  --set zk.connect=127.0.0.1:1 --set completion.hold.time=soon 2>c2.txt
check "controller: bad duration is named" grep -q "completion.hold.time" c2.txt
"$S" controller --set cluster.name=c --set instance.id=i --set http.port=0 --set data.dir=/tmp \
  --set zk.connect=127.0.0.1:1 --set deepstore.uri=s3://bucket/x 2>c3.txt
check "controller: unsupported deepstore.uri scheme is named" grep -q "deepstore.uri" c3.txt
check "--help-config lists keys" bash -c "'$S' sidecar --help-config | grep -q consumer.threads"
check "hidden keys are not listed" bash -c "! grep -q '^| \`test\.' code.md"

base="--set cluster.name=c --set instance.id=i --set http.port=0 --set data.dir=$T_TMP/d --set mode=standalone"
"$S" sidecar $base --set table.config=x.json 2>e1.txt
check "missing required key is named" grep -q "table.schema" e1.txt
"$S" sidecar $base --set table.config=x --set table.schema=y --set no.such.key=1 2>e2.txt
check "unknown key is named" grep -q "no.such.key" e2.txt
"$S" sidecar $base --set table.config=x --set table.schema=y --set http.port=70000 2>e3.txt
check "out-of-range value names key and bounds" grep -q "http.port" e3.txt
printf 'cluster.name = c\nbogus = 1\n' > bad.conf
"$S" sidecar --config bad.conf 2>e4.txt
check "unknown key in a file names file and line" grep -q "bad.conf:2" e4.txt
"$S" sidecar $base --set table.config=x --set table.schema=y --set consumer.data.loss=maybe 2>e5.txt
check "bad enum value is named" grep -q "consumer.data.loss" e5.txt
"$S" sidecar $base --set table.config=/nonexistent.json --set table.schema=$SLUICE_SRC/deploy/examples/events_schema.json 2>e6.txt
check "unreadable table config names the file" grep -q "/nonexistent.json" e6.txt
"$S" sidecar --set cluster.name=c --set instance.id=i --set http.port=0 --set data.dir=d --set zk.connect=127.0.0.1:1 2>e7.txt
check "cluster mode cannot start without ZooKeeper and says so" grep -q "zk.connect" e7.txt
finish
