#!/usr/bin/env bash
# The protocol's own cost, side by side in one run (issue 11 (a)-(c)): for each segment size
# (25 k and 100 k rows) and with pauseless completion on and off, a controller with three
# cluster-mode replicas and three standalone sidecars run at the same moment on the same live
# stream (loadgen at RATE rows/s over 4 partitions, ROWS rows; the mock's 5 MiB window is why
# the data is streamed, not produced beforehand). Every system is timed from the same event:
# the first produced row.
#  (a) wall (first produced row -> its last file published) and CPU seconds (/proc, the
#      controller included) of each system; rows per CPU-s of the cluster per replica over
#      that of one standalone sidecar (goal >= 0.95);
#  (b) freshness: every 20 ms each process's /health gives each partition's next offset; the
#      row before it was produced at (its event id / RATE) after the first row, so now minus
#      that is how long the newest readable row waited; p50 / p99 / max over the stream,
#      segment ends included (the goal: no step at segment ends);
#  (c) completion overhead from the replicas' logs: the last replica reaching the segment's end
#      -> every replica ONLINE (goal p99 <= 50 ms), and the first replica full -> the last
#      ONLINE.
#  The last two runs put the cluster alone on the machine at half the rate (freshness and
#  completion overhead without the standalone sidecars competing for the 2 cores).
# Usage: bench/replicas.sh [BUILD_DIR] [ROWS] [RATE]
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
ROWS=${2:-1200000}
RATE=${3:-40000}
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
python3 - "$B/sluice" "$T" "$ZK_CONNECT" "$ROWS" "$RATE" <<'PY'
import datetime, json, os, re, subprocess, sys, threading, time, urllib.request
S, T, ZK, ROWS, RATE = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
P = 4
schema = "deploy/examples/events_schema.json"
sys.path.insert(0, "bench")
from benchlib import cpu_of, segs, wait_log
procs = []
http = urllib.request.build_opener(urllib.request.ProxyHandler({}))

def spawn(args, log):
    p = subprocess.Popen([S] + args, stdout=subprocess.DEVNULL, stderr=open(log, "w"))
    procs.append(p)
    return p


def ts(line):
    return datetime.datetime.strptime(line[:23], "%Y-%m-%dT%H:%M:%S.%f").replace(
        tzinfo=datetime.timezone.utc).timestamp()

def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * q))] if v else float("nan")

boot_path = f"{T}/boot"
mock = subprocess.Popen([S, "kafka-mock", "--brokers", "1"] + sum((["--topic", f"r{k}:{P}"] for k in range(6)), []),
                        stdout=open(boot_path, "w"), stderr=open(f"{T}/mock.log", "w"))
procs.append(mock)
import atexit
atexit.register(lambda: [p.kill() for p in procs])
for _ in range(100):
    if os.path.getsize(boot_path): break
    time.sleep(0.05)
BOOT = open(boot_path).readline().strip()

results = []
# (flush rows, pauseless, with the standalone sidecars beside): the last two runs are the
# cluster alone at half the rate, so that freshness is not a measure of a saturated machine
RUNS = [(25000, True, True), (25000, False, True), (100000, True, True), (100000, False, True),
        (25000, True, False), (25000, False, False)]
for k, (flush, pauseless, beside) in enumerate(RUNS):
    rate = RATE if beside else RATE // 2
    topic, cluster = f"r{k}", f"b{k}"
    rows = ROWS - ROWS % (flush * P)  # every partition ends on a segment boundary
    want = rows // flush
    tc = json.loads(subprocess.run(
        ["python3", "chaos/tools/mktable.py", "deploy/examples/events_table.json", topic, topic, BOOT,
         "--replication", "3", "--rows", str(flush), "--time", "1h",
         "--stream", f"realtime.segment.pauseless.enabled={'true' if pauseless else 'false'}"],
        capture_output=True, text=True, check=True).stdout)
    json.dump(tc, open(f"{T}/{topic}.json", "w"))
    common = ["--set", f"cluster.name={cluster}", "--set", f"zk.connect={ZK}", "--set", "http.bind=127.0.0.1",
              "--set", "http.port=0"]
    ctl = spawn(["controller"] + common + ["--set", f"instance.id=c{k}", "--set", f"data.dir={T}/c{k}",
                 "--set", "completion.hold.time=1s"], f"{T}/c{k}.log")
    url = wait_log(f"{T}/c{k}.log", r"started instance=\S+ url=(\S+)").group(1)
    for _ in range(100):
        try:
            if b'"leader":true' in http.open(url + "/health", timeout=2).read(): break
        except Exception: pass
        time.sleep(0.1)
    reps, sas = [], []
    for i in (1, 2, 3):
        reps.append(spawn(["sidecar"] + common + ["--set", f"instance.id=r{k}-{i}", "--set", "mode=cluster",
                           "--set", f"data.dir={T}/{cluster}/s{i}", "--set", "consumer.threads=1"],
                          f"{T}/{cluster}-s{i}.log"))
    for i in (1, 2, 3):
        wait_log(f"{T}/{cluster}-s{i}.log", r"registered instance=")
    subprocess.run([S, "table", "add", "--controller", url, "--table-config", f"{T}/{topic}.json",
                    "--schema", schema], capture_output=True, check=True)
    for i in (1, 2, 3) if beside else ():
        sas.append(spawn(["sidecar"] + common + ["--set", f"instance.id=sa{k}-{i}", "--set", "mode=standalone",
                          "--set", f"data.dir={T}/{cluster}/a{i}", "--set", f"table.config={T}/{topic}.json",
                          "--set", f"table.schema={schema}", "--set", "consumer.threads=1"],
                         f"{T}/{cluster}-a{i}.log"))
    urls = {}
    for i in (1, 2, 3):
        for kind in ("s", "a") if beside else ("s",):
            log = f"{T}/{cluster}-{kind}{i}.log"
            wait_log(log, r"segment start table=" + topic)  # consuming: the stream may begin
            urls[f"{kind}{i}"] = "http://" + wait_log(log, r"http=(127\.0\.0\.1:\d+)").group(1)
    fresh = {name: [] for name in urls}
    t0 = time.time()
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            for name, u in urls.items():
                try:
                    h = json.loads(http.open(u + "/health", timeout=1).read())
                except Exception:
                    continue
                now = time.time()
                for p in h.get("partitions", []):
                    if p.get("table") != topic or p.get("nextOffset", 0) <= 0: continue
                    eid = (p["nextOffset"] - 1) * P + p["partition"]
                    fresh[name].append(now - (t0 + eid / rate))
            time.sleep(0.02)
    th = threading.Thread(target=sample)
    th.start()
    subprocess.run([S, "loadgen", "--bootstrap", BOOT, "--topic", topic, "--rows", str(rows),
                    "--partitions", str(P), "--rate", str(rate)], capture_output=True, check=True)
    t_prod = time.time()
    done = {}
    deadline = time.time() + 300
    nsys = 6 if beside else 3
    while len(done) < nsys and time.time() < deadline:
        for kind, ps in (("s", reps), ("a", sas)):
            for i, p in enumerate(ps, 1):
                key = f"{kind}{i}"
                if key not in done and len(segs(f"{T}/{cluster}/{kind}{i}/{topic}")) >= want:
                    done[key] = (time.time() - t0, cpu_of(p.pid))
        time.sleep(0.02)
    stop.set(); th.join()
    if len(done) < nsys:
        sys.exit(f"run {k}: only {sorted(done)} published all {want} segments in 300 s")
    cpu_ctl = cpu_of(ctl.pid)
    for p in reps + sas + [ctl]:
        p.terminate()
    for p in reps + sas + [ctl]:
        p.wait()
        procs.remove(p)
    # (c) from the replicas' logs
    full, online = {}, {}
    for i in (1, 2, 3):
        last_full = {}
        for line in open(f"{T}/{cluster}-s{i}.log"):
            m = re.search(r"segment full table=\S+ partition=\d+ segment=(\S+)", line)
            if m: last_full[m.group(1)] = ts(line)
            m = re.search(r"segment=(\S+) \S+ -> ONLINE", line)
            if m: online.setdefault(m.group(1), []).append(ts(line))
        for s, t in last_full.items():
            full.setdefault(s, []).append(t)
    over, skew = [], []
    for s, on in online.items():
        if len(on) == 3 and len(full.get(s, [])) == 3:
            over.append(max(on) - max(full[s]))
            skew.append(max(on) - min(full[s]))
    rep_wall = max(done[f"s{i}"][0] for i in (1, 2, 3))
    sa_wall = max(done[f"a{i}"][0] for i in (1, 2, 3)) if beside else 0
    rep_cpu = sum(done[f"s{i}"][1] for i in (1, 2, 3)) + cpu_ctl
    sa_cpu = sum(done[f"a{i}"][1] for i in (1, 2, 3)) if beside else 0
    results.append(dict(flush=flush, pauseless=pauseless, beside=beside, rate=rate, rows=rows,
                        segs=want, prod=t_prod - t0,
                        rep_wall=rep_wall, sa_wall=sa_wall, rep_cpu=rep_cpu, sa_cpu=sa_cpu, ctl_cpu=cpu_ctl,
                        fr_rep=sum((fresh[f"s{i}"] for i in (1, 2, 3)), []),
                        fr_sa=sum((fresh.get(f"a{i}", []) for i in (1, 2, 3)), []), over=over,
                        skew=skew))

print(f"(a) {P} partitions, live stream at {RATE} rows/s; wall from the first produced row to the system's "
      "last file; CPU-s of the three processes (the cluster's with its controller)")
print("| segment rows | pauseless | rows | produced in s | 3 standalone: wall s / CPU-s | controller + 3 replicas: wall s / CPU-s "
      "| rows per CPU-s, replicas / standalone (goal >= 0.95) |")
print("|---|---|---|---|---|---|---|")
for r in (r for r in results if r['beside']):
    print(f"| {r['flush']} | {'on' if r['pauseless'] else 'off'} | {r['rows']} | {r['prod']:.1f} | "
          f"{r['sa_wall']:.2f} / {r['sa_cpu']:.2f} | {r['rep_wall']:.2f} / {r['rep_cpu']:.2f} (controller {r['ctl_cpu']:.2f}) | "
          f"{r['sa_cpu'] / r['rep_cpu']:.2f} |")
print()
print("(b) freshness: how long the newest readable row had waited, sampled every 20 ms on every process "
      "(the producer's own batching is in every figure)")
print("| segment rows | pauseless | stream | replicas p50 / p99 / max ms | standalone p50 / p99 / max ms |")
print("|---|---|---|---|---|")
for r in results:
    f = lambda v: f"{pct(v, .5) * 1e3:.0f} / {pct(v, .99) * 1e3:.0f} / {max(v) * 1e3:.0f}" if v else "-"
    what = f"{r['rate']} rows/s, " + ("beside 3 standalone" if r['beside'] else "cluster alone")
    print(f"| {r['flush']} | {'on' if r['pauseless'] else 'off'} | {what} | {f(r['fr_rep'])} | {f(r['fr_sa'])} |")
print()
print("(c) completion overhead per segment, from the replicas' logs")
print("| segment rows | pauseless | stream | completions | last replica at the end -> all ONLINE p50 / p99 ms (goal p99 <= 50) "
      "| first replica full -> last ONLINE p50 / p99 ms |")
print("|---|---|---|---|---|---|")
for r in results:
    what = f"{r['rate']} rows/s, " + ("beside 3 standalone" if r['beside'] else "alone")
    print(f"| {r['flush']} | {'on' if r['pauseless'] else 'off'} | {what} | {len(r['over'])} | "
          f"{pct(r['over'], .5) * 1e3:.0f} / {pct(r['over'], .99) * 1e3:.0f} | "
          f"{pct(r['skew'], .5) * 1e3:.0f} / {pct(r['skew'], .99) * 1e3:.0f} |")
PY
