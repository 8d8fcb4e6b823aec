# shellcheck shell=bash
# A cluster of controllers and cluster-mode sidecars for integration tests (sourced after
# harness.sh and zk.sh; the test runs in $T_TMP). Every start is checked (this start's log
# lines, the process still running, /health, the ZooKeeper registration) and ends the test
# when it fails; every process is tracked by PID.
#
# The test sets before the first start: `common` (the --set options of every process: cluster
# name, zk.connect, ...) and B (the kafka-mock bootstrap, for mk_table); SCHEME=https when the
# sidecars serve TLS (curl then needs CURL_CA_BUNDLE). CTL_SETS: --set options
# every controller start gets (default `--set completion.hold.time=1s`).
#   start_ctl NAME [--set ...]   controller NAME, log NAME.log, data dir NAME/; CURL, CPID
#   start_sidecar N [--set ...]  sidecar-N, log sN.log, data dir sN/; SURL[N], SPID[N]
#   stop_sidecar N               SIGTERM; checks it exits 0 within 30 s
#   mk_table NAME TOPIC ROWS TIME   NAME.json: the example table, replication 3, these thresholds
#   identical TABLE; published_to TABLE P:END,...   (the data dirs s1 s2 s3)
#   published_on TABLE P:END,... N...              (the data dirs of these sidecars)
S=${S:-$SLUICE_BIN}
EX=${EX:-$SLUICE_SRC/deploy/examples}
CHECK=${CHECK:-python3 $SLUICE_SRC/chaos/tools/segcheck.py $S}
CTL_SETS=${CTL_SETS---set completion.hold.time=1s}

# Logs are appended across restarts: a start is judged by the lines written after it began.
logsize() { stat -c %s "$1" 2>/dev/null || echo 0; }
since() { tail -c +"$(($2 + 1))" "$1" 2>/dev/null; } # since FILE OFFSET: the lines after OFFSET
logged() { since "$1" "$2" | grep -q "$3"; }           # logged FILE OFFSET PATTERN
up() { running "$1" && curl -sf -o /dev/null "$2/health"; } # up PID URL: alive, /health 200
# began PID FILE OFFSET PATTERN: this start logged PATTERN, or the process is gone (no use waiting)
began() { logged "$2" "$3" "$4" || ! running "$1"; }
ctl_up() { # ctl_up NAME OFFSET: this start logged its URL (CURL), runs and answers /health
  wait_for 20 began "$CPID" "$1.log" "$2" "sub=controller started"
  logged "$1.log" "$2" "sub=controller started" || return 1
  CURL=$(since "$1.log" "$2" | grep -o 'started instance=[^ ]* url=[^ ]*' | tail -1 | sed 's/.*url=//')
  [ -n "$CURL" ] && wait_for 5 up "$CPID" "$CURL"
}
start_ctl() { # start_ctl NAME [extra --set ...]: ends the test unless the controller is up
  local n=$1 off
  shift
  off=$(logsize "$n.log")
  "$S" controller $common --set instance.id="$n" --set http.port=0 --set data.dir="$T_TMP/$n" \
    $CTL_SETS "$@" >>"$n.log" 2>&1 &
  CPID=$!; track_pid $CPID
  require "controller $n up (started, running, /health 200)" ctl_up "$n" "$off"
}
declare -A SPID SURL
# healthy URL: a sidecar's /health is 200 with status ok
healthy() { curl -sf "$1/health" | grep -q '"status":"ok"'; }
sidecar_up() { # sidecar_up N OFFSET: this start registered, logged its URL (SURL[N]), is healthy
  wait_for 20 began "${SPID[$1]}" "s$1.log" "$2" "sub=sidecar started instance=sidecar-$1 "
  logged "s$1.log" "$2" "sub=sidecar started instance=sidecar-$1 " || return 1
  logged "s$1.log" "$2" "sub=replica registered instance=sidecar-$1 " || return 1
  SURL[$1]=${SCHEME:-http}://$(since "s$1.log" "$2" | grep -o 'http=127.0.0.1:[0-9]*' | tail -1 | cut -d= -f2)
  running "${SPID[$1]}" && wait_for 5 healthy "${SURL[$1]}"
}
start_sidecar() { # start_sidecar N [extra --set ...]: ends the test unless the sidecar is up
  local n=$1 off
  shift
  off=$(logsize "s$n.log")
  "$S" sidecar $common --set instance.id="sidecar-$n" --set mode=cluster --set http.port=0 \
    --set data.dir="$T_TMP/s$n" --set consumer.threads=1 "$@" >>"s$n.log" 2>&1 &
  SPID[$n]=$!; track_pid ${SPID[$n]}
  require "sidecar-$n up (registered, running, /health ok)" sidecar_up "$n" "$off"
}
stop_sidecar() { # stop_sidecar N: SIGTERM; it must exit 0 within 30 s (docs/cli.md)
  local rc
  kill_child -TERM "${SPID[$1]}"
  wait_exit 30 "${SPID[$1]}"
  rc=$?
  check "sidecar-$1 stopped by SIGTERM: exit 0 within 30 s (got $rc)" test $rc -eq 0
}
# signal SIG PID: send SIG to a child that is still running (not one that already died)
signal() { running "$2" && kill_child "$1" "$2"; }
is_leader() { curl -sf "$1/health" | grep -q '"leader":true'; }
mk_table() { # mk_table NAME TOPIC ROWS TIME
  python3 "$SLUICE_SRC/chaos/tools/mktable.py" "$EX/events_table.json" "$1" "$2" "$B" --replication 3 --rows "$3" ${4:+--time "$4"} > "$1.json"
}
identical() { # identical TABLE: every committed file is the same in the three data dirs
  local ok=0 n=0
  for f in s1/"$1"/*.seg; do
    n=$((n + 1))
    local b; b=$(basename "$f")
    [ -f "s2/$1/$b" ] && [ -f "s3/$1/$b" ] || { echo "missing replica of $b"; ok=1; continue; }
    [ "$(sha256sum < "$f")" = "$(sha256sum < "s2/$1/$b")" ] && [ "$(sha256sum < "$f")" = "$(sha256sum < "s3/$1/$b")" ] \
      || { echo "differs: $b"; ok=1; }
  done
  [ $n -gt 0 ] && return $ok
}
published_on() { # published_on TABLE P:END,... N...: sidecar-N's data dir has the ends
  local t=$1 ends=$2 i
  shift 2
  for i in "$@"; do $CHECK "s$i" "$t" --wait-ends "$ends" || return 1; done
}
published_to() { published_on "$1" "$2" 1 2 3; } # published_to TABLE P:END,...  (every data dir)

