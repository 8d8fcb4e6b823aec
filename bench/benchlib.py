"""What the benchmark scripts' Python share (bench/*.sh run it from the repository root):
process CPU seconds from /proc, waiting for a log line, and the segment files of a directory."""
import os
import re
import sys
import time

_TICK = os.sysconf("SC_CLK_TCK")


def cpu_of(pid):
    """User + system CPU seconds of a running process, all its threads."""
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / _TICK


def wait_log(path, pat, secs=30, step=0.02):
    """The first match of regex pat in the file at path, waiting up to secs; exits otherwise."""
    end = time.time() + secs
    while time.time() < end:
        m = re.search(pat, open(path).read()) if os.path.exists(path) else None
        if m:
            return m
        time.sleep(step)
    sys.exit(f"{path}: no {pat!r} within {secs} s")


def segs(d):
    """The published segment files in directory d, sorted (none when it does not exist)."""
    return sorted(f for f in os.listdir(d) if f.endswith(".seg")) if os.path.isdir(d) else []
