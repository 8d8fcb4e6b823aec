# Shared helpers for integration tests (sourced). Every process a test starts is recorded
# with track_pid and killed by PID on exit; every wait is bounded.
set -u
PASS=0
FAIL=0
PIDS=()
T_TMP=$(mktemp -d /tmp/sluice-it.XXXXXX)
SLUICE_BIN=${SLUICE_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/build/sluice}
SLUICE_SRC=${SLUICE_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}

track_pid() { PIDS+=("$1"); }

# kill_child SIGNAL PID: signal PID only while it is still this shell's child, so a PID that
# the kernel recycled for another process (tests run concurrently) is never hit.
kill_child() {
  local ppid
  ppid=$(awk '{print $4}' "/proc/$2/stat" 2>/dev/null) || return 1
  [ "$ppid" = "$$" ] || return 1
  kill "$1" "$2" 2>/dev/null
}

cleanup() {
  for p in "${PIDS[@]}"; do kill_child -TERM "$p"; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 1 50); do kill_child -0 "$p" || break; sleep 0.1; done
    kill_child -KILL "$p"
  done
  if [ "$FAIL" -eq 0 ] && [ -z "${KEEP_TMP:-}" ]; then rm -rf "$T_TMP"; else echo "artifacts kept in $T_TMP"; fi
}
trap cleanup EXIT

ok() { PASS=$((PASS + 1)); echo "ok - $*"; }
not_ok() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }
check() { # check "description" command...
  local d=$1; shift
  if "$@"; then ok "$d"; else not_ok "$d"; fi
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

finish() {
  echo "$PASS passed, $FAIL failed"
  [ "$FAIL" -eq 0 ]
}
