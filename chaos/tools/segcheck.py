#!/usr/bin/env python3
"""Checks the published segments of one table in a sidecar data dir (used by integration
tests): per partition the offset chain is contiguous from --start, every event id of the
expected range appears exactly once, and no row came from a malformed message.

usage: segcheck.py SLUICE DATA_DIR TABLE [--ends P:END,...] [--ids LO-HI[,LO-HI...]] [--starts P:OFF,...]
                   [--wait-ends P:END,...]   (exit 3 if not every partition reached its end)
"""
import json, subprocess, sys, os, collections

def args():
    a = sys.argv[1:]
    opts = {"sluice": a[0], "dir": a[1], "table": a[2]}
    i = 3
    while i < len(a):
        opts[a[i].lstrip("-")] = a[i + 1]
        i += 2
    return opts

def pairs(text):
    return {int(p): int(v) for p, v in (x.split(":") for x in text.split(",") if x)}

def main():
    o = args()
    d = os.path.join(o["dir"], o["table"])
    segs = collections.defaultdict(list)
    for f in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        if not f.endswith(".seg"):
            continue
        info = json.loads(subprocess.check_output([o["sluice"], "segment", "info", os.path.join(d, f)]))
        segs[info["partition"]].append((info["sequence"], info["startOffset"], info["endOffset"], f, info["rows"]))
    ends = {p: max(s[2] for s in v) for p, v in segs.items()}
    if "wait-ends" in o:
        want = pairs(o["wait-ends"])
        sys.exit(0 if all(ends.get(p, -1) >= e for p, e in want.items()) else 3)
    errors = []
    starts = pairs(o.get("starts", ""))
    for p, v in segs.items():
        v.sort()
        expect = starts.get(p, 0)
        for seq, (s, start, end, f, rows) in enumerate(v):
            if s != seq:
                errors.append(f"partition {p}: sequence {s} where {seq} was expected ({f})")
            if start != expect:
                errors.append(f"partition {p}: {f} starts at {start}, previous ended at {expect}")
            expect = end
    if "ends" in o:
        for p, e in pairs(o["ends"]).items():
            if ends.get(p) != e:
                errors.append(f"partition {p}: published up to {ends.get(p)}, expected {e}")
    if "ids" in o:
        ranges = [tuple(int(x) for x in r.split("-")) for r in o["ids"].split(",")]
        seen = collections.Counter()
        for p, v in segs.items():
            for (_, _, _, f, _) in v:
                out = subprocess.check_output([o["sluice"], "segment", "dump", os.path.join(d, f)])
                for line in out.splitlines():
                    row = json.loads(line)
                    if row.get("event_id") is None:
                        errors.append(f"{f}: a row without event_id: {line[:120]!r}")
                        continue
                    seen[row["event_id"]] += 1
        missing = [i for lo, hi in ranges for i in range(lo, hi + 1) if seen[i] == 0]
        dup = [i for i, c in seen.items() if c > 1]
        extra = [i for i in seen if not any(lo <= i <= hi for lo, hi in ranges)]
        if missing: errors.append(f"{len(missing)} ids missing, e.g. {missing[:5]}")
        if dup: errors.append(f"{len(dup)} ids duplicated, e.g. {dup[:5]}")
        if extra: errors.append(f"{len(extra)} unexpected ids, e.g. {extra[:5]}")
    for e in errors:
        print("segcheck:", e)
    print(f"segcheck: {sum(len(v) for v in segs.values())} segments, ends {dict(sorted(ends.items()))}")
    sys.exit(1 if errors else 0)

main()
