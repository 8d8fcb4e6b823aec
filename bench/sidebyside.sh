#!/usr/bin/env bash
# Side by side, in one invocation (issue 15): the same Kafka data (the example events, ROWS rows
# over 4 partitions, produced beforehand: the mock keeps about 100 k of these rows per
# partition) consumed by
#   bare         a bare librdkafka loop (bench_consume --bare: the pool's fetch settings, 2
#                handles as the pool's 2 workers, touching one byte of each message)
#   standalone   one standalone sidecar (Kafka -> published segment files)
#   3 standalone three standalone sidecars at once, each reading every row
#   cluster      a controller (started before, its CPU during the run counted) and three
#                cluster-mode replicas of a replication-3 table
#   build        `sluice segment build` over the same rows as one JSON-lines file
# interleaved (the order rotates every round) and repeated REPS times. Every system is timed
# from the same event, the spawn of its first process, to its last file (the bare loop and the
# build: to their exit); CPU-s are user + system of its processes, from /proc (or wait4 for the
# ones that exit). The table gives medians and ranges, CPU-s per million rows (rows a system
# ingested: three standalone sidecars ingest every row three times; the cluster's replicas
# hold ROWS table rows each, and its figure is per table row) and the ratio to the bare loop.
# Then the physical anchors (bench_json: simdjson's bare parse of the same kind of messages,
# CRC-32C and memcpy rates) and a partition-scaling table: one standalone sidecar over
# 1, 16, 256, 1000 and 10000 partitions, (a) consuming every row with no segment completing
# and (b) each partition publishing one segment: rows/s, CPU-s per million rows, peak RSS and
# threads. Reports figures; asserts none.
# ClickHouse's Kafka engine is not in this table: see bench/README.md.
# Usage: bench/sidebyside.sh [BUILD_DIR] [REPS] [ROWS] [FLUSH_ROWS]
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
REPS=${2:-5}
ROWS=${3:-400000}
FLUSH=${4:-25000}
T=$(mktemp -d /tmp/sluice-bench.XXXXXX)
ZKPID=
cleanup() {
  pkill -9 -f "data.dir=$T/" 2>/dev/null || true
  [ -n "$ZKPID" ] && bash deploy/zk-start.sh --stop "$T/zk" >/dev/null 2>&1 || true
  rm -rf "$T"
}
trap cleanup EXIT
eval "$(bash deploy/zk-start.sh "$T/zk" | grep -E '^ZK_(PORT|PID|CONNECT)=')"
ZKPID=$ZK_PID
python3 - "$B" "$T" "$ZK_CONNECT" "$REPS" "$ROWS" "$FLUSH" <<'PY'
import atexit, json, os, re, statistics, subprocess, sys, time
BUILD, T, ZK, REPS, ROWS, FLUSH = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
S = f"{BUILD}/sluice"
P = 4
ROWS -= ROWS % (P * FLUSH)  # every partition ends on a segment boundary
WANT = ROWS // FLUSH        # files per system
schema = "deploy/examples/events_schema.json"
sys.path.insert(0, "bench")
from benchlib import cpu_of, segs, wait_log
procs = []
atexit.register(lambda: [p.kill() for p in procs if p.poll() is None])

def spawn(args, log, exe=S):
    p = subprocess.Popen([exe] + args, stdout=subprocess.PIPE if log is None else subprocess.DEVNULL,
                         stderr=open(log, "w") if log else subprocess.DEVNULL, text=True)
    procs.append(p)
    return p


def hwm_of(pid):
    st = open(f"/proc/{pid}/status").read()
    return int(re.search(r"VmHWM:\s+(\d+)", st).group(1)) / 1024, int(re.search(r"Threads:\s+(\d+)", st).group(1))

def reap(p):
    """Wait for an exiting child; its CPU-s from wait4."""
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    procs.remove(p)
    return ru.ru_utime + ru.ru_stime

def stop(ps):
    for p in ps: p.kill()
    for p in ps:
        p.wait()
        procs.remove(p)

def nsegs(d):
    return len(segs(d))

def table(name, topic, boot, rows=FLUSH, repl=1):
    out = subprocess.run(["python3", "chaos/tools/mktable.py", "deploy/examples/events_table.json", name, topic,
                          boot, "--rows", str(rows), "--time", "1h", "--replication", str(repl)],
                         capture_output=True, text=True, check=True).stdout
    path = f"{T}/{name}.json"
    open(path, "w").write(out)
    return path

boot_path = f"{T}/boot"
scale = [1, 16, 256, 1000, 10000]
mock = subprocess.Popen([S, "kafka-mock", "--brokers", "1", "--topic", f"ev:{P}"] +
                        sum((["--topic", f"sc{n}:{n}"] for n in scale), []),
                        stdout=open(boot_path, "w"), stderr=open(f"{T}/mock.log", "w"))
procs.append(mock)
for _ in range(200):
    if os.path.getsize(boot_path): break
    time.sleep(0.05)
BOOT = open(boot_path).readline().strip()
subprocess.run([S, "loadgen", "--bootstrap", BOOT, "--topic", "ev", "--rows", str(ROWS), "--partitions", str(P)],
               capture_output=True, check=True)
jsonl = f"{T}/ev.jsonl"
with open(jsonl, "w") as f:
    subprocess.run(["kcat", "-C", "-b", BOOT, "-t", "ev", "-o", "beginning", "-e", "-q", "-f", "%s\n"],
                   stdout=f, check=True)
dumped = sum(1 for _ in open(jsonl))
if dumped != ROWS:
    sys.exit(f"the topic holds {dumped} rows, not {ROWS} (the mock keeps about 100 k per partition)")
sa_table = table("ev", "ev", BOOT)
common = ["--set", "zk.connect=" + ZK, "--set", "http.bind=127.0.0.1", "--set", "http.port=0"]
runs = 0
def standalone(n):
    global runs
    runs += 1
    dirs = [f"{T}/sa{runs}-{i}" for i in range(n)]
    t0 = time.time()
    ps = [spawn(["sidecar", "--set", "cluster.name=sbs", "--set", f"instance.id=sa{runs}-{i}", "--set", "mode=standalone",
                 "--set", f"data.dir={d}", "--set", f"table.config={sa_table}", "--set", f"table.schema={schema}"] + common,
                f"{d}.log") for i, d in enumerate(dirs)]
    cpu = {}
    while len(cpu) < n:
        for i, (p, d) in enumerate(zip(ps, dirs)):
            if i not in cpu and nsegs(f"{d}/ev") >= WANT: cpu[i] = cpu_of(p.pid)
        if time.time() - t0 > 120 or any(p.poll() is not None for p in ps): sys.exit(f"standalone x{n} did not finish")
        time.sleep(0.01)
    wall = time.time() - t0
    stop(ps)
    return wall, sum(cpu.values()), n * ROWS

def cluster():
    """A cluster of its own per run (a controller started and leading before the clock starts),
    so no earlier table's repair work lands on these replicas."""
    global runs
    runs += 1
    name = f"cl{runs}"
    tpath = table(name, "ev", BOOT, repl=3)
    cl = ["--set", f"cluster.name=sbs{runs}"] + common
    ctl = spawn(["controller", "--set", f"instance.id=ctl{runs}", "--set", f"data.dir={T}/ctl{runs}",
                 "--set", "completion.hold.time=1s"] + cl, f"{T}/ctl{runs}.log")
    url = wait_log(f"{T}/ctl{runs}.log", r"started instance=\S+ url=(\S+)").group(1)
    for _ in range(100):
        if '"leader":true' in subprocess.run(["curl", "-s", url + "/health"], capture_output=True, text=True).stdout:
            break
        time.sleep(0.1)
    dirs = [f"{T}/{name}-{i}" for i in range(3)]
    c0 = cpu_of(ctl.pid)
    t0 = time.time()
    ps = [spawn(["sidecar", "--set", f"instance.id={name}-{i}", "--set", "mode=cluster",
                 "--set", f"data.dir={d}"] + cl, f"{d}.log") for i, d in enumerate(dirs)]
    for d in dirs: wait_log(f"{d}.log", r"registered instance=")
    subprocess.run([S, "table", "add", "--controller", url, "--table-config", tpath, "--schema", schema],
                   capture_output=True, check=True)
    cpu = {}
    while len(cpu) < 3:
        for i, (p, d) in enumerate(zip(ps, dirs)):
            if i not in cpu and nsegs(f"{d}/{name}") >= WANT: cpu[i] = cpu_of(p.pid)
        if time.time() - t0 > 180: sys.exit("cluster did not finish")
        time.sleep(0.01)
    wall = time.time() - t0
    c1 = cpu_of(ctl.pid)
    stop(ps + [ctl])
    return wall, sum(cpu.values()) + (c1 - c0), ROWS

def bare():
    t0 = time.time()
    p = spawn(["--bare", BOOT, "--topic", "ev", "--partitions", str(P)], None, exe=f"{BUILD}/bench/bench_consume")
    out = p.stdout.read()
    cpu = reap(p)
    if p.returncode != 0 or f"rows={ROWS} " not in out: sys.exit(f"bare loop: {out!r}")
    return time.time() - t0, cpu, ROWS

def build():
    out = f"{T}/build.seg"
    t0 = time.time()
    p = spawn(["segment", "build", "--schema", schema, "--table-config", sa_table, "--input", jsonl, "--out", out],
              f"{T}/build.log")
    cpu = reap(p)
    if p.returncode != 0: sys.exit("segment build failed: " + open(f"{T}/build.log").read())
    wall = time.time() - t0
    os.remove(out)
    return wall, cpu, ROWS

systems = [("bare librdkafka loop (2 handles)", bare), ("standalone sidecar", lambda: standalone(1)),
           ("3 standalone sidecars at once", lambda: standalone(3)), ("controller + 3 replicas", cluster),
           ("sluice segment build (JSON lines file)", build)]
res = {name: [] for name, _ in systems}
for r in range(REPS):
    for k in range(len(systems)):
        name, fn = systems[(k + r) % len(systems)]
        res[name].append(fn())

def mr(v, fmt):
    return f"{fmt % statistics.median(v)} ({fmt % min(v)}-{fmt % max(v)})"

print(f"{ROWS} events over {P} partitions ({os.path.getsize(jsonl) / ROWS:.0f} B of JSON each), segments of {FLUSH} rows, "
      f"{REPS} interleaved rounds; medians (range)")
print("| system | rows ingested | wall s | CPU-s | CPU-s per M rows | rows/s | CPU per row / bare's |")
print("|---|---:|---:|---:|---:|---:|---:|")
bare_pm = statistics.median(c / n * 1e6 for _, c, n in res[systems[0][0]])
for name, _ in systems:
    v = res[name]
    n = v[0][2]
    pm = [c / n * 1e6 for _, c, n in v]
    print(f"| {name} | {n} | {mr([w for w, _, _ in v], '%.2f')} | {mr([c for _, c, _ in v], '%.2f')} | "
          f"{mr(pm, '%.2f')} | {statistics.median(n / w for w, _, _ in v):.0f} | {statistics.median(pm) / bare_pm:.2f} |")
sys.stdout.flush()

print()
print("Physical anchors (one core, this machine, now):")
sys.stdout.flush()
subprocess.run([f"{BUILD}/bench/bench_json", "--anchors", jsonl], check=False)

print()
print("Partition scaling: one standalone sidecar from spawn (a) until every row is consumed, no segment completing "
      "(the row threshold off; rows counted by sluice_rows_consumed_total), and (b) until every partition published "
      "its one segment of all its rows")
print("| partitions | rows | (a) wall s | (a) rows/s | (a) CPU-s per M rows | (b) wall s | (b) CPU-s per M rows "
      "| peak RSS MiB | threads |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
sys.stdout.flush()

def consumed(url, name):
    try:
        out = subprocess.run(["curl", "-s", "--max-time", "5", url + "/metrics"], capture_output=True, text=True).stdout
    except Exception:
        return 0
    return sum(float(m.group(1)) for m in re.finditer(
        r'^sluice_rows_consumed_total\{[^}]*table="' + name + r'"[^}]*\} (\S+)$', out, re.M))

def scale_run(n, rows, name, flush, until_files):
    tp = table(f"{name}", f"sc{n}", BOOT, rows=flush)
    d = f"{T}/{name}"
    t0 = time.time()
    p = spawn(["sidecar", "--set", "cluster.name=sbs", "--set", f"instance.id={name}", "--set", "mode=standalone",
               "--set", f"data.dir={d}", "--set", f"table.config={tp}", "--set", f"table.schema={schema}"] + common,
              f"{d}.log")
    url = None
    poll = 0.02 if n <= 1000 else 0.2
    res = None
    while time.time() - t0 < 300 and p.poll() is None:
        if until_files:
            if nsegs(f"{d}/{name}") >= n:
                res = time.time() - t0
                break
        else:
            if url is None:
                m = re.search(r"http=(127\.0\.0\.1:\d+)", open(f"{d}.log").read())
                url = "http://" + m.group(1) if m else None
            if url and consumed(url, name) >= rows:
                res = time.time() - t0
                break
        time.sleep(poll)
    out = (res, cpu_of(p.pid) if res is not None else 0, *hwm_of(p.pid)) if p.poll() is None else (None, 0, 0, 0)
    stop([p])
    subprocess.run(["rm", "-rf", d])
    return out

for n in scale:
    rows = min(100000 * n, ROWS)
    rows -= rows % n
    subprocess.run([S, "loadgen", "--bootstrap", BOOT, "--topic", f"sc{n}", "--rows", str(rows), "--partitions", str(n)],
                   capture_output=True, check=True)
    wa, ca, _, _ = scale_run(n, rows, f"sca{n}", 0, False)
    wb, cb, rss, thr = scale_run(n, rows, f"scb{n}", rows // n, True)
    fa = f"{wa:.2f} | {rows / wa:.0f} | {ca / rows * 1e6:.2f}" if wa else "did not finish in 300 s | |"
    fb = f"{wb:.2f} | {cb / rows * 1e6:.2f}" if wb else "did not finish in 300 s |"
    print(f"| {n} | {rows} | {fa} | {fb} | {rss:.0f} | {thr} |")
    sys.stdout.flush()
PY
