#!/usr/bin/env bash
# The operator's page (DESIGN §13): GET /ui of a running cluster (ZooKeeper, kafka-mock, a
# controller, three sidecars) loaded in Debian's headless Chromium: once its script has read the
# API, every segment row it shows equals GET /tables/<t>/segments (segment, partition, sequence,
# status, offsets, rows, CRC, replica states), each partition's chain has a box per segment in
# the status's colour, and the lag it shows is what GET /tables/<t>/consumingSegmentsInfo says
# (itself checked against the rows the sidecars consumed). With tokens on, the page loads but
# shows that its data needs one. A screenshot is taken (docs/operator-page.png is one).
source "$(dirname "$0")/lib/harness.sh"
source "$(dirname "$0")/lib/zk.sh"
source "$(dirname "$0")/lib/cluster.sh" # S, EX, start_ctl, start_sidecar, published_to, ...
cd "$T_TMP"

CHROME=$(command -v chromium || true)
require "Debian's chromium is installed (deploy/install-deps.sh)" test -n "$CHROME"
# dom URL OUT: the page after its script ran (virtual time: its fetches and first refreshes)
dom() {
  timeout 60 "$CHROME" --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$T_TMP/chrome" \
    --virtual-time-budget=6000 --dump-dom "$1" >"$2" 2>chrome.err
}

zk_start "$T_TMP/zk" || { not_ok "zookeeper did not start"; finish; exit 1; }
"$S" kafka-mock --brokers 1 --topic events:2 > boot.txt 2>mock.log &
track_pid $!
require "kafka-mock printed its bootstrap line" wait_for 10 test -s boot.txt
B=$(head -1 boot.txt)
common="--set cluster.name=ui --set zk.connect=$ZK_CONNECT --set http.bind=127.0.0.1 --set zk.session.timeout=3s"
start_ctl c1; U=$CURL
require "c1 leads" wait_for 15 is_leader "$U"
for i in 1 2 3; do start_sidecar $i; done
mk_table events events 1000 ""
"$S" table add --controller "$U" --table-config events.json --schema "$EX/events_schema.json" >add.out 2>&1
check "table added" test $? -eq 0
"$S" loadgen --bootstrap "$B" --topic events --rows 4500 --partitions 2 --rate 9000 2>lg.err
check "loadgen delivered 4500 rows" test $? -eq 0
wait_for 60 published_to events 0:2000,1:2000
check "every replica published 2000 rows per partition" test $? -eq 0
# quiet: the consuming segments hold the last 250 rows of each partition, nothing moves
sleep 2

curl -s -D headers.txt -o page.html "$U/ui"
check "GET /ui: 200 text/html, without a token" bash -c "grep -q '^HTTP/1.1 200' headers.txt && grep -qi '^Content-Type: text/html' headers.txt"
check "... with a Content-Security-Policy that allows this origin only" \
  grep -qi "^Content-Security-Policy: default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'" headers.txt
check "... one page, no other asset (no src= or href= to load)" bash -c "! grep -Eq '(src|href)=\"[^#\"]' page.html"

curl -s "$U/tables/events/consumingSegmentsInfo" >info.json
check "consumingSegmentsInfo: each consuming segment on its 3 replicas, CONSUMING, lag 0, rows consumed" \
  python3 - info.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
m = d["_segmentToConsumingInfoMap"]
assert len(m) == 2, m.keys()
for seg, reps in m.items():
    p = seg.split("__")[1]
    assert sorted(r["serverName"] for r in reps) == ["sidecar-1", "sidecar-2", "sidecar-3"], reps
    for r in reps:
        assert r["consumerState"] == "CONSUMING", r
        o = r["partitionOffsetInfo"]
        assert o["currentOffsetsMap"][p] == "2250" and o["recordsLagMap"][p] == "0", r
        assert o["latestUpstreamOffsetMap"][p] == "2250", r
        # every replica consumed the consuming segment's 250 rows; the earlier ones it either
        # consumed or downloaded (DISCARD), so at most all 2250
        assert 250 <= r["rowsConsumed"] <= 2250, r
        assert r["dataLossMessages"] == 0 and r["malformedMessages"] == 0, r
assert all(i["reachable"] and i["divergence"] == 0 for i in d["instances"].values()), d["instances"]
PY

dom "$U/ui" page.dom
"$S" table segments --controller "$U" --table events >segs.json
check "headless Chromium rendered the page (its script loaded the tables)" grep -q 'data-loaded="1"' page.dom
[ -s page.dom ] || cat chrome.err
check "the page shows every segment of GET /tables/events/segments, cell for cell" \
  python3 - page.dom segs.json <<'PY'
import json, sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.rows = {}; self.cur = None; self.cell = None; self.boxes = {}; self.lag = {}; self.lagp = None
    def handle_starttag(self, tag, a):
        a = dict(a)
        if tag == "tr" and "data-row" in a: self.cur = a["data-row"]; self.rows[self.cur] = []
        elif tag == "td" and self.cur: self.cell = ""
        elif tag == "div" and "data-segment" in a: self.boxes[a["data-segment"]] = a.get("data-status")
        elif tag == "span" and "data-lag" in a: self.lagp = a["data-lag"]; self.lag[self.lagp] = ""
    def handle_endtag(self, tag):
        if tag == "td" and self.cell is not None: self.rows[self.cur].append(self.cell); self.cell = None
        elif tag == "tr": self.cur = None
        elif tag == "span": self.lagp = None
    def handle_data(self, d):
        if self.cell is not None: self.cell += d
        if self.lagp is not None: self.lag[self.lagp] += d
p = P(); p.feed(open(sys.argv[1]).read())
segs = json.load(open(sys.argv[2]))
f = lambda v: "–" if v is None else str(v)
want = {s["segment"]: [f(s[k]) for k in ("segment", "partition", "sequence", "status", "startOffset", "endOffset", "numRows", "crc")]
        + [" ".join("%s:%s" % (k, s["replicas"][k]) for k in sorted(s["replicas"]))] for s in segs}
assert len(segs) == 6, len(segs)
assert p.rows == want, (p.rows, want)
assert p.boxes == {s["segment"]: s["status"] for s in segs}, p.boxes
for part in ("0", "1"):
    assert p.lag[part].startswith("lag 0 msgs"), p.lag
print("rows", len(p.rows), "lag", p.lag)
PY

timeout 60 "$CHROME" --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$T_TMP/chrome" \
  --virtual-time-budget=6000 --window-size=1280,720 --screenshot="$T_TMP/ui.png" "$U/ui" >/dev/null 2>>chrome.err
check "a screenshot of the page (PNG)" bash -c "head -c 8 ui.png | od -An -c | grep -q 'P   N   G' && [ \$(stat -c %s ui.png) -gt 10000 ]"
[ -n "${UI_SCREENSHOT:-}" ] && cp ui.png "$UI_SCREENSHOT"

# with tokens: the page itself is public, its data is not
printf 'tok-admin-%s admin\n' "$RANDOM$RANDOM" >tokens
start_ctl c2 --set auth.tokens.file="$T_TMP/tokens"; U2=$CURL
check "GET /ui needs no token" test "$(curl -s -o /dev/null -w '%{http_code}' "$U2/ui")" = 200
check "consumingSegmentsInfo does (401)" \
  test "$(curl -s -o /dev/null -w '%{http_code}' "$U2/tables/events/consumingSegmentsInfo")" = 401
dom "$U2/ui" page2.dom
check "without a token the page says its data needs one" grep -q 'HTTP 401 (a token is needed)' page2.dom
finish
