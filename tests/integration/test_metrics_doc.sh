#!/usr/bin/env bash
# docs/metrics.md against the real /metrics of a running controller and cluster sidecar (both
# with their scrubs on, rows flowing and segments committed): the same families with the same
# types in each process, both ways, and the label names of every family that has samples.
source "$(dirname "$0")/lib/harness.sh"
source "$(dirname "$0")/lib/zk.sh"
source "$(dirname "$0")/lib/cluster.sh"
PY=/usr/bin/python3
cd "$T_TMP"

zk_start "$T_TMP/zk" || { not_ok "zookeeper did not start"; finish; exit 1; }
kmock_start events:2
common="--set cluster.name=met --set zk.connect=$ZK_CONNECT --set http.bind=127.0.0.1"
CTL_SETS="--set completion.hold.time=1s --set store.scrub.interval=1s"
start_ctl c1
require "c1 leads" wait_for 15 is_leader "$CURL"
start_sidecar 1 --set segment.scrub.interval=1s
mk_table events events 200 ""
$PY -c 'import json,sys; t=json.load(open("events.json")); t["segmentsConfig"]["replication"]="1"; json.dump(t,open("events.json","w"))'
"$S" table add --controller "$CURL" --table-config events.json --schema "$EX/events_schema.json" >add.out 2>&1
require "the table is added" test $? -eq 0
"$S" loadgen --bootstrap "$B" --topic events --rows 1000 --partitions 2 2>lg.err
committed() { curl -sf "$CURL/tables/events/segments" | grep -q '"status":"DONE"'; }
require "a segment commits" wait_for 60 committed
sleep 2 # a scrub pass
curl -sf "$CURL/metrics" >controller.metrics
curl -sf "${SURL[1]}/metrics" >sidecar.metrics
$PY - "$SLUICE_SRC/docs/metrics.md" controller.metrics sidecar.metrics >cmp.out 2>&1 <<'PYM'
import re, sys
doc, ctl, sc = sys.argv[1:4]
rows = {}
for line in open(doc):
    m = re.match(r"^\| `(sluice_[a-z_]+)` \| (\w+) \| ([^|]*) \| ([^|]*) \|", line)
    if m:
        labels = set(re.findall(r"`(\w+)`", m.group(3)))
        procs = m.group(4)
        rows[m.group(1)] = (m.group(2), labels, procs)
assert len(rows) > 20, len(rows)
def scrape(path):
    fams, labels = {}, {}
    for line in open(path):
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split()
            fams[name] = typ
        elif line.strip() and not line.startswith("#"):
            m = re.match(r"^([a-z_]+)(?:\{([^}]*)\})? ", line)
            name = m.group(1)
            for suf in ("_bucket", "_sum", "_count"):
                if name.endswith(suf) and name[: -len(suf)] in fams:
                    name = name[: -len(suf)]
            ls = set(re.findall(r'(\w+)="', m.group(2) or "")) - {"le"}
            labels.setdefault(name, ls)
            assert labels[name] == ls, (name, labels[name], ls)
    return fams, labels
bad = []
for proc, path in (("controller", ctl), ("sidecar", sc)):
    fams, labels = scrape(path)
    want = {n for n, (_, _, p) in rows.items() if proc in p}
    for n in sorted(set(fams) - want):
        bad.append(f"{proc}: {n} is served but not documented for it")
    for n in sorted(want - set(fams)):
        bad.append(f"{proc}: {n} is documented but not served")
    for n in sorted(set(fams) & want):
        if fams[n] != rows[n][0]:
            bad.append(f"{n}: type {fams[n]}, documented {rows[n][0]}")
        if n in labels and labels[n] != rows[n][1]:
            bad.append(f"{n}: labels {sorted(labels[n])}, documented {sorted(rows[n][1])}")
    print(proc, len(fams), "families,", sum(1 for n in fams if n in labels), "with samples")
print("\n".join(bad))
sys.exit(1 if bad else 0)
PYM
rc=$?
cat cmp.out
check "docs/metrics.md lists exactly the families, types and labels the controller and the sidecar serve" \
  test $rc -eq 0
finish
