#!/usr/bin/python3
"""Run a Pinot job spec's segment builds on a Dask cluster (Debian's python3-distributed).

Build is stateless per input file (DESIGN §10), so the job fans out one
`sluice segment build --job-spec JOB --only SEQ` per input file over the cluster's workers;
`sluice segment build --job-spec JOB --list-inputs` says which files there are, so the
file selection, the sequence ids and the segment names are Sluice's own on every worker.
Workers need the sluice binary, the job spec and the input and output directories at the
same paths (a shared file system, as Pinot's standalone and Spark runners assume).

Usage:
  dask_job.py --job-spec JOB.yaml [--sluice PATH] [--scheduler tcp://HOST:PORT | --workers N]
              [--schema S.json] [--table-config T.json] [--json]
Without --scheduler a LocalCluster of N worker processes (default 2, one thread each) is
started and stopped. Prints one line per input file (sequence id, worker, segment, rows) and
exits 0 when every build succeeded, 1 otherwise (each failure with sluice's message)."""
import argparse
import json
import os
import re
import subprocess
import sys


def build_one(sluice, spec, seq, extra, cwd):
    """One input file's build, on a worker: what it built, or why not."""
    p = subprocess.run([sluice, "segment", "build", "--job-spec", spec, "--only", str(seq)] + extra,
                       cwd=cwd, capture_output=True, text=True)
    built = re.findall(r"^built (\S+): rows=(\d+) rejected=(\d+)", p.stderr, re.M)
    return {"seq": seq, "rc": p.returncode, "pid": os.getpid(), "host": os.uname().nodename,
            "segment": built[0][0] if built else None,
            "rows": int(built[0][1]) if built else 0,
            "rejected": int(built[0][2]) if built else 0,
            "error": "" if p.returncode == 0 else
            " | ".join(l for l in p.stderr.splitlines() if "accepted, not used" not in l)[-2000:]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--job-spec", required=True)
    ap.add_argument("--sluice", default="sluice")
    ap.add_argument("--scheduler")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--schema")
    ap.add_argument("--table-config")
    ap.add_argument("--json", action="store_true", help="one JSON object per file on stdout")
    a = ap.parse_args()
    sluice = os.path.abspath(a.sluice) if os.sep in a.sluice else a.sluice
    spec = os.path.abspath(a.job_spec)
    cwd = os.getcwd()
    extra = []
    if a.schema:
        extra += ["--schema", os.path.abspath(a.schema)]
    if a.table_config:
        extra += ["--table-config", os.path.abspath(a.table_config)]
    ls = subprocess.run([sluice, "segment", "build", "--job-spec", spec, "--list-inputs"],
                        cwd=cwd, capture_output=True, text=True)
    if ls.returncode != 0:
        sys.exit(ls.stderr.strip() or "listing the job's inputs failed")
    seqs = [int(line.split("\t", 1)[0]) for line in ls.stdout.splitlines() if line]
    if not seqs:
        sys.exit(f"{a.job_spec}: no input file matches")

    from distributed import Client, LocalCluster
    cluster = None
    if a.scheduler:
        client = Client(a.scheduler)
    else:
        cluster = LocalCluster(n_workers=a.workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, host="127.0.0.1")
        client = Client(cluster)
    try:
        futures = [client.submit(build_one, sluice, spec, s, extra, cwd, key=f"sluice-build-{s}",
                                 pure=False) for s in seqs]
        results = sorted(client.gather(futures), key=lambda r: r["seq"])
    finally:
        client.close()
        if cluster:
            cluster.close()
    failed = [r for r in results if r["rc"] != 0]
    seen = {}
    for r in results:
        if r["segment"] and os.path.basename(r["segment"]) in seen:
            r["rc"] = 1
            r["error"] = f"same segment as input {seen[os.path.basename(r['segment'])]}"
            failed.append(r)
        elif r["segment"]:
            seen[os.path.basename(r["segment"])] = r["seq"]
    for r in results:
        if a.json:
            print(json.dumps(r))
        else:
            print(f"{r['seq']}\t{r['host']}:{r['pid']}\t{r['segment'] or '-'}\trows={r['rows']}"
                  f"\trejected={r['rejected']}" + (f"\tFAILED: {r['error']}" if r["rc"] else ""))
    print(f"{len(results) - len(failed)} of {len(results)} segments built on "
          f"{len({(r['host'], r['pid']) for r in results})} worker processes", file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
