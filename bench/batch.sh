#!/usr/bin/env bash
# Batch builds (issue 12, item 9): the same ROWS rows as JSON lines, CSV and an Avro object
# container file (deflate) built into a segment by `sluice segment build` (one process, one
# core: the build is single-threaded), against ClickHouse's `INSERT ... FORMAT CSV` and
# `FORMAT JSONEachRow` of the same rows into a MergeTree table, by Debian's clickhouse-server
# started here on loopback with max_threads=1 and max_insert_threads=1 (ClickHouse's CPU is
# its server's and its client's, from /proc and wait4). Interleaved and repeated REPS times;
# the table gives medians, rows/s (wall), CPU-s per million rows, and Sluice's CPU advantage
# (ClickHouse's CPU-s over Sluice's, same format, same run). ClickHouse 18.16 (Debian 12's)
# has no Avro input format, so the Avro row has no ratio. ClickHouse's CSV file writes the
# multi-value column as its array syntax (['a','b']), Sluice's as Pinot's CSV reader reads
# it (a;b): the same rows. Reports figures; asserts none.
# Usage: bench/batch.sh [BUILD_DIR] [REPS] [ROWS]
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build-release}
REPS=${2:-3}
ROWS=${3:-500000}
command -v clickhouse-server >/dev/null || { echo "batch.sh: clickhouse-server is not installed (run deploy/install-deps.sh --bench)"; exit 2; }
W=$(mktemp -d /tmp/sluice-bench-batch.XXXXXX)
CH_PID=
cleanup() { [ -n "$CH_PID" ] && kill "$CH_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT

# ---- the data: one generator, four files of the same rows ----
/usr/bin/python3 - "$W" "$ROWS" <<'PY'
import avro.datafile, avro.io, avro.schema, json, random, sys
w, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(12)
countries = ["US", "FR", "DE", "IN", "BR", "JP", "GB", "CN"]
devices = ["ios", "android", "web", "tv"]
events = ["view", "click", "buy", "scroll", "share"]
tags = ["a", "b", "c", "d", "e", "f"]
schema = {"schemaName": "bevents",
          "dimensionFieldSpecs": [{"name": "user", "dataType": "STRING"},
                                  {"name": "country", "dataType": "STRING"},
                                  {"name": "device", "dataType": "STRING"},
                                  {"name": "event", "dataType": "STRING"},
                                  {"name": "tags", "dataType": "STRING", "singleValueField": False},
                                  {"name": "session", "dataType": "LONG"}],
          "metricFieldSpecs": [{"name": "latency_ms", "dataType": "INT"},
                               {"name": "price", "dataType": "DOUBLE"}],
          "dateTimeFieldSpecs": [{"name": "ts", "dataType": "LONG", "format": "1:MILLISECONDS:EPOCH",
                                  "granularity": "1:MILLISECONDS"}]}
json.dump(schema, open(f"{w}/schema.json", "w"))
json.dump({"tableName": "bevents", "tableType": "OFFLINE",
           "segmentsConfig": {"timeColumnName": "ts", "replication": "1"}}, open(f"{w}/table.json", "w"))
asch = avro.schema.parse(json.dumps({"type": "record", "name": "e", "fields": [
    {"name": "ts", "type": "long"}, {"name": "user", "type": "string"},
    {"name": "country", "type": "string"}, {"name": "device", "type": "string"},
    {"name": "event", "type": "string"}, {"name": "tags", "type": {"type": "array", "items": "string"}},
    {"name": "session", "type": "long"}, {"name": "latency_ms", "type": "int"},
    {"name": "price", "type": "double"}]}))
jl = open(f"{w}/rows.jsonl", "w")
cs = open(f"{w}/rows.csv", "w")
cc = open(f"{w}/rows_ch.csv", "w")
av = avro.datafile.DataFileWriter(open(f"{w}/rows.avro", "wb"), avro.io.DatumWriter(), asch, codec="deflate")
cs.write("ts,user,country,device,event,tags,session,latency_ms,price\n")
for i in range(n):
    r = {"ts": 1700000000000 + i * 10, "user": f"u{rnd.randrange(50000)}",
         "country": rnd.choice(countries), "device": rnd.choice(devices), "event": rnd.choice(events),
         "tags": rnd.sample(tags, rnd.randrange(1, 4)), "session": rnd.randrange(1 << 40),
         "latency_ms": rnd.randrange(2000), "price": round(rnd.random() * 100, 2)}
    jl.write(json.dumps(r, separators=(",", ":")) + "\n")
    base = [str(r["ts"]), r["user"], r["country"], r["device"], r["event"]]
    tail = [str(r["session"]), str(r["latency_ms"]), repr(r["price"])]
    cs.write(",".join(base + [";".join(r["tags"])] + tail) + "\n")
    cc.write(",".join(base + ['"[' + ",".join(f"'{t}'" for t in r["tags"]) + ']"'] + tail) + "\n")
    av.append(r)
av.close()
PY

# ---- ClickHouse, one core's worth ----
mkdir -p "$W/ch/data" "$W/ch/tmp" "$W/ch/log"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$W/ch/config.xml" <<EOF
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$W/ch/log/server.log</log><errorlog>$W/ch/log/err.log</errorlog><console>0</console></logger>
  <listen_host>127.0.0.1</listen_host>
  <tcp_port>$PORT</tcp_port>
  <path>$W/ch/data/</path>
  <tmp_path>$W/ch/tmp/</tmp_path>
  <users_config>$W/ch/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>536870912</mark_cache_size>
</yandex>
EOF
cat > "$W/ch/users.xml" <<'EOF'
<?xml version="1.0"?>
<yandex>
  <profiles><default><max_threads>1</max_threads><max_insert_block_size>1048576</max_insert_block_size></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
EOF
clickhouse-server --config-file="$W/ch/config.xml" >"$W/ch/out.log" 2>&1 &
CH_PID=$!
for _ in $(seq 100); do clickhouse-client --port "$PORT" --query "SELECT 1" >/dev/null 2>&1 && break; sleep 0.2; done

python3 - "$B/sluice" "$W" "$REPS" "$ROWS" "$PORT" "$CH_PID" <<'PY'
import os, resource, statistics, subprocess, sys, time
sys.path.insert(0, "bench")
from benchlib import cpu_of
sl, w, reps, rows, port, ch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], int(sys.argv[6])
def cli(q, stdin=None):
    return subprocess.run(["clickhouse-client", "--port", port, "--query", q], stdin=stdin,
                          check=True, capture_output=True)
cols = ("ts UInt64, user String, country String, device String, event String, tags Array(String), "
        "session UInt64, latency_ms Int32, price Float64")
def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime
def sluice(fmt):
    f = {"json": "rows.jsonl", "csv": "rows.csv", "avro": "rows.avro"}[fmt]
    c0, t0 = children_cpu(), time.time()
    p = subprocess.run([sl, "segment", "build", "--schema", f"{w}/schema.json", "--table-config",
                        f"{w}/table.json", "--input", f"{w}/{f}", "--out", f"{w}/out_{fmt}.seg"],
                       capture_output=True, text=True)
    t1, c1 = time.time(), children_cpu()
    assert p.returncode == 0 and f"rows={rows} rejected=0" in p.stderr, p.stderr
    return t1 - t0, c1 - c0
def clickhouse(fmt):
    f = {"json": "rows.jsonl", "csv": "rows_ch.csv"}[fmt]
    cli("DROP TABLE IF EXISTS e")
    cli(f"CREATE TABLE e ({cols}) ENGINE = MergeTree ORDER BY tuple()")
    s0, c0, t0 = cpu_of(ch), children_cpu(), time.time()
    with open(f"{w}/{f}", "rb") as inp:
        cli("INSERT INTO e FORMAT " + ("JSONEachRow" if fmt == "json" else "CSV"), stdin=inp)
    t1, c1, s1 = time.time(), children_cpu(), cpu_of(ch)
    n = int(cli("SELECT count() FROM e").stdout)
    assert n == rows, n
    return t1 - t0, (c1 - c0) + (s1 - s0)
res = {}
for rep in range(reps):
    order = [("sluice", "json"), ("sluice", "csv"), ("sluice", "avro"), ("clickhouse", "json"), ("clickhouse", "csv")]
    order = order[rep % len(order):] + order[:rep % len(order)]
    for who, fmt in order:
        res.setdefault((who, fmt), []).append((sluice if who == "sluice" else clickhouse)(fmt))
med = lambda v: statistics.median(v)
print(f"{rows} rows, {reps} interleaved repetitions, medians; one core (ClickHouse: max_threads=1)")
print(f"{'format':<12}{'system':<12}{'rows/s':>12}{'CPU-s/M rows':>14}{'ClickHouse CPU / Sluice CPU':>30}")
for fmt in ("json", "csv", "avro"):
    s = res[("sluice", fmt)]
    sc = med([c for _, c in s])
    print(f"{fmt:<12}{'sluice':<12}{rows / med([t for t, _ in s]):>12,.0f}{sc / rows * 1e6:>14.3f}", end="")
    if ("clickhouse", fmt) in res:
        c = res[("clickhouse", fmt)]
        cc = med([x for _, x in c])
        print(f"{cc / sc:>30.2f}")
        print(f"{'':<12}{'clickhouse':<12}{rows / med([t for t, _ in c]):>12,.0f}{cc / rows * 1e6:>14.3f}")
    else:
        print("   (ClickHouse 18.16: no Avro input)")
PY
