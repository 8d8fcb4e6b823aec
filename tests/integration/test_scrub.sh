#!/usr/bin/env bash
# Bit rot is found and healed (issue 10, item 2): sidecars that re-verify their published files
# every 2 s (segment.scrub.interval). A flipped byte in a replica's file is found, counted in
# sluice_segments_corrupt_total, the file moved to quarantine/, and the committed copy
# downloaded again: sluice audit is clean again and the file has the committed CRC. A standalone
# sidecar has no other copy: its rotten file is quarantined and counted in its health.
. "$(dirname "$0")/lib/harness.sh"
. "$(dirname "$0")/lib/qs.sh"
SLUICE=$SLUICE_BIN
qs_start QS_SIDECAR_CONF="segment.scrub.interval = 2s"
SC2=$(sed -n 's/^SC_URL=//p' "$QS/state" | sed -n 2p)

SEG=$(ls "$QS/sidecar2/events/"*.seg | head -1)
NAME=$(basename "$SEG" .seg)
CRC=$(curl -s "$CTL/tables/events/segments" |
  python3 -c "import json,sys; print([s['crc'] for s in json.load(sys.stdin) if s['segment']=='$NAME'][0])")
require "the committed CRC of $NAME is known" test -n "$CRC"
python3 -c "import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[300]^=8; open(p,'wb').write(b)" "$SEG"
corrupt_counted() {
  curl -s "$SC2/metrics" | grep -q '^sluice_segments_corrupt_total{table="events"} 1$'
}
check "sidecar-2 counts the rotten file" wait_for 30 corrupt_counted
check "the rotten file is kept in quarantine/" \
  wait_for 10 test -f "$QS/sidecar2/events/quarantine/$NAME.seg"
healed() {
  "$SLUICE" segment info "$SEG" 2>/dev/null |
    python3 -c "import json,sys; assert json.load(sys.stdin)['crc']==$CRC"
}
check "the committed copy is downloaded again" wait_for 30 healed
check "sidecar-2 logged it" \
  grep -q "segment file quarantined table=events partition=[0-9]* segment=$NAME" "$QS/logs/sidecar-2.log"
"$SLUICE" audit --zk "$ZK" --cluster quickstart >"$T_TMP/audit.out" 2>&1
rc=$?
check "sluice audit is clean again (exit $rc)" test $rc -eq 0

# standalone: the same rot, no other copy
qs_standalone scrub "segment.scrub.interval = 1s"
F=$(ls "$T_TMP/sa/events/"*.seg | head -1)
python3 -c "import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[100]^=1; open(p,'wb').write(b)" "$F"
check "the standalone sidecar quarantines its rotten file" \
  wait_for 20 test -f "$T_TMP/sa/events/quarantine/$(basename "$F")"
PORT=$(sed -n 's/.*started instance=sa-1 mode=standalone http=[0-9.]*:\([0-9]*\).*/\1/p' "$T_TMP/sa.log")
quarantined_one() {
  curl -s "http://127.0.0.1:$PORT/health" | python3 -c "
import json,sys; h=json.load(sys.stdin); assert [p['quarantinedFiles'] for p in h['partitions']]==[1], h"
}
check "its health counts it (quarantinedFiles 1)" quarantined_one
kill -TERM $SA
wait_exit 30 $SA
check "the standalone sidecar exits 0 on SIGTERM" test $? -eq 0
finish
