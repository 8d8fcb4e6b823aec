#!/usr/bin/env python3
"""Run a Pinot job spec's segment builds on a Spark cluster, with RDD.pipe.

The same fan-out as dask_job.py: `sluice segment build --job-spec JOB --list-inputs` names
the input files and their sequence ids, and each Spark task pipes its sequence ids through
`sluice segment build --job-spec JOB --only SEQ`. The executors need the sluice binary, the
job spec and the input and output directories at the same paths (a shared file system).
NOT RUN on the build machine: Debian has no Spark package (deploy/batch/README.md).

Usage: spark-submit deploy/batch/spark_job.py JOB.yaml [SLUICE] [EXTRA sluice args...]"""
import shlex
import subprocess
import sys

from pyspark import SparkContext


def main():
    spec = sys.argv[1]
    sluice = sys.argv[2] if len(sys.argv) > 2 else "sluice"
    extra = " ".join(shlex.quote(x) for x in sys.argv[3:])
    ls = subprocess.run([sluice, "segment", "build", "--job-spec", spec, "--list-inputs"],
                        capture_output=True, text=True, check=True)
    seqs = [line.split("\t", 1)[0] for line in ls.stdout.splitlines() if line]
    sc = SparkContext(appName="sluice-segment-build")
    # one sequence id a line on each task's stdin; the build's summary (or error) comes back
    cmd = ("sh -c 'while read seq; do "
           f"{shlex.quote(sluice)} segment build --job-spec {shlex.quote(spec)} --only \"$seq\" {extra} 2>&1 "
           "|| echo \"FAILED $seq\"; done'")
    out = sc.parallelize(seqs, len(seqs)).pipe(cmd).collect()
    sc.stop()
    for line in out:
        print(line)
    sys.exit(1 if any(line.startswith("FAILED") for line in out) else 0)


if __name__ == "__main__":
    main()
