#!/usr/bin/env python3
"""The example events table (deploy/examples/events_table.json) for a test or a benchmark,
printed as JSON: renamed, pointed at a broker list and a topic, with its flush thresholds and
replication set, and any other stream config added.

usage: mktable.py EXAMPLE_TABLE NAME TOPIC BROKERS [--rows N] [--time T] [--replication R]
                  [--stream KEY=VALUE]...
--rows 0 removes the row threshold; an option not given keeps the example's value."""
import argparse
import json

ap = argparse.ArgumentParser(usage=__doc__)
for a in ("example", "name", "topic", "brokers"):
    ap.add_argument(a)
ap.add_argument("--rows")
ap.add_argument("--time")
ap.add_argument("--replication")
ap.add_argument("--stream", action="append", default=[])
o = ap.parse_args()
t = json.load(open(o.example))
t["tableName"] = o.name
if o.replication:
    t["segmentsConfig"]["replication"] = o.replication
m = t["ingestionConfig"]["streamIngestionConfig"]["streamConfigMaps"][0]
m.update({"stream.kafka.broker.list": o.brokers, "stream.kafka.topic.name": o.topic})
if o.time:
    m["realtime.segment.flush.threshold.time"] = o.time
if o.rows == "0":
    m.pop("realtime.segment.flush.threshold.rows", None)
elif o.rows:
    m["realtime.segment.flush.threshold.rows"] = o.rows
for kv in o.stream:
    k, _, v = kv.partition("=")
    m[k] = v
print(json.dumps(t))
