# Shared helpers for integration tests (sourced). Every process a test starts is recorded
# with track_pid and killed by PID on exit; every wait is bounded. A process that is not this
# shell's child (ZooKeeper: deploy/zk-start.sh daemonizes it) is stopped by a function given
# to at_cleanup, by its recorded PID. tests/run.sh fails when anything a test started is still
# alive after the run.
set -u
PASS=0
FAIL=0
PIDS=()
CLEANUP_FNS=()
HELD_FDS=()
T_TMP=$(mktemp -d /tmp/sluice-it.XXXXXX)
SLUICE_BIN=${SLUICE_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/build/sluice}
SLUICE_SRC=${SLUICE_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}

track_pid() { PIDS+=("$1"); }

# at_cleanup FUNC: run FUNC on exit, after the tracked children are gone (latest first).
at_cleanup() { CLEANUP_FNS+=("$1"); }

# spawn_stdin_held CMD...: start CMD in the background (PID in $!, tracked) with its stdin a
# fifo that only this shell writes to, for tools that run until their stdin ends (simreplica
# register). Nothing else is started to hold it open (no `< <(sleep 3600)`, whose sleep outlives
# the tool): the write end is an fd of this shell, so the tool sees EOF and exits by itself when
# this shell is gone, however it died, as long as no later child inherited the fd (children
# started after this one do: stop the tool by PID, which cleanup does). Redirect stdout/stderr
# on the call: `spawn_stdin_held "$SIM" register ... >reg.out 2>reg.log`.
spawn_stdin_held() {
  local fifo fd f
  # the fifo stays in T_TMP: the child opens it after this function has returned
  fifo=$(mktemp -u "$T_TMP/stdin.XXXXXX") && mkfifo "$fifo" || return 1
  exec {fd}<>"$fifo" # read-write: the open does not wait for a reader
  HELD_FDS+=("$fd")
  # the child must not hold any write end itself, or it would never see EOF
  (for f in "${HELD_FDS[@]}"; do exec {f}>&-; done; exec "$@") <"$fifo" &
  track_pid $!
}

# kill_child SIGNAL PID: signal PID only while it is still this shell's child, so a PID that
# the kernel recycled for another process (tests run concurrently) is never hit.
kill_child() {
  local ppid
  ppid=$(awk '{print $4}' "/proc/$2/stat" 2>/dev/null) || return 1
  [ "$ppid" = "$$" ] || return 1
  kill "$1" "$2" 2>/dev/null
}

cleanup() {
  local i
  for p in "${PIDS[@]}"; do kill_child -TERM "$p"; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 1 50); do kill_child -0 "$p" || break; sleep 0.1; done
    kill_child -KILL "$p"
  done
  for ((i = ${#CLEANUP_FNS[@]} - 1; i >= 0; i--)); do "${CLEANUP_FNS[i]}"; done
  if [ "$FAIL" -eq 0 ] && [ -z "${KEEP_TMP:-}" ]; then rm -rf "$T_TMP"; else echo "artifacts kept in $T_TMP"; fi
}
trap cleanup EXIT
# a signal ends the test through exit, so the EXIT trap stops what it started (bash runs no
# EXIT trap when a signal without a trap kills it; SIGKILL, as ctest's timeout sends, is left
# to tests/run.sh's leak check)
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

ok() { PASS=$((PASS + 1)); echo "ok - $*"; }
not_ok() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }
check() { # check "description" command...
  local d=$1; shift
  if "$@"; then ok "$d"; else not_ok "$d"; fi
}

# require "description" command...: a check that the rest of the test depends on (a process
# that must have started, a wait that must have succeeded). When it fails the test ends here:
# not ok, the summary, exit 1 (the EXIT trap stops what was started). Not from a subshell.
require() {
  local d=$1; shift
  if "$@"; then ok "$d"; return 0; fi
  not_ok "$d"
  finish
  exit 1
}

# wait_for TIMEOUT_S command...: poll until the command succeeds or time runs out.
wait_for() {
  local t=$1; shift
  local end=$(( $(date +%s) + t ))
  while [ "$(date +%s)" -lt "$end" ]; do
    "$@" 2>/dev/null && return 0
    sleep 0.2
  done
  return 1
}

# kmock_start TOPIC:PARTITIONS...: a one-broker `sluice kafka-mock` serving these topics (PID
# tracked; boot.txt and mock.log in the current directory); sets B to its bootstrap list, or
# ends the test when none is printed within 10 s.
kmock_start() {
  local t args=()
  for t in "$@"; do args+=(--topic "$t"); done
  "$SLUICE_BIN" kafka-mock --brokers 1 "${args[@]}" >boot.txt 2>mock.log &
  track_pid $!
  require "kafka-mock printed its bootstrap line" wait_for 10 test -s boot.txt
  B=$(head -1 boot.txt)
}

# running PID: PID is this shell's child and has not exited. kill -0 is not enough: it also
# succeeds on a child that has exited but not been reaped yet (a zombie).
running() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  set -- ${stat##*) } # after "(comm)", which may hold spaces: state ppid ...
  [ "$1" != Z ] && [ "$1" != X ] && [ "$2" = "$$" ]
}

# wait_exit TIMEOUT_S PID: wait at most TIMEOUT_S seconds for the child PID to exit and return
# its exit status; 124 (as timeout(1)) if it is still running then (it is left running).
wait_exit() {
  local end=$(( $(date +%s) + $1 ))
  while running "$2"; do
    [ "$(date +%s)" -lt "$end" ] || return 124
    sleep 0.1
  done
  wait "$2"
}

# finish: the summary; success only when something was checked and nothing failed (a test
# that reached its end without a single check proved nothing)
finish() {
  echo "$PASS passed, $FAIL failed"
  [ "$PASS" -gt 0 ] || echo "not ok - no check ran"
  [ "$FAIL" -eq 0 ] && [ "$PASS" -gt 0 ]
}
