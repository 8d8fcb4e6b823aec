#!/usr/bin/env bash
# The ZooKeeper layer against Debian's real ZooKeeper 3.8: start a private server with
# tests/integration/lib/zk.sh (deploy/zk-start.sh underneath), run the cmocka program
# test_zk with SLUICE_ZK_CONNECT / SLUICE_ZK_PID set (it freezes the server itself for the
# fencing test; without them it fails, and ctest's unit.test_zk_no_server runs only its
# server-free tests), then check the harness: a second start in the same dir is refused, data
# survives zk_restart on the same port, zk_stop leaves no process and frees the port.
# Bounded: the C program runs under `timeout`; the whole script takes ~20-30 s.
source "$(dirname "${BASH_SOURCE[0]}")/lib/harness.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/zk.sh"

BUILD=${SLUICE_BUILD:-$SLUICE_SRC/build}
TEST_BIN=$BUILD/tests/test_zk
[ -x "$TEST_BIN" ] || { echo "missing $TEST_BIN (build the tests first)"; exit 1; }

t0=$(date +%s%N)
check "zk_start brings up a server" zk_start "$T_TMP/zk"
echo "# server pid=$ZK_PID connect=$ZK_CONNECT ready in $((($(date +%s%N) - t0) / 1000000)) ms"
[ -n "${ZK_PORT:-}" ] || { finish; exit 1; }
check "server answers ruok" zk_ruok
check "config is loopback-only on the chosen port" \
    grep -qx "clientPortAddress=127.0.0.1" "$ZK_DIR/zoo.cfg"
check "exactly one slf4j binding on the classpath" \
    bash -c "tr '\\0' '\\n' </proc/$ZK_PID/cmdline | grep -A1 -x -- -cp | tail -1 | tr ':' '\\n' | grep -c 'slf4j' | grep -qx 1"
check "no logging-bridge clash in the server log" bash -c "! grep -q 'Detected both' '$ZK_DIR/zk.log'"
check "a second server for the same dir is refused" bash -c "! bash '$ZK_START_SH' '$ZK_DIR' 2>/dev/null"

env SLUICE_ZK_CONNECT="$ZK_CONNECT" SLUICE_ZK_PID="$ZK_PID" SLUICE_ZK_LEAVE_MARK=1 \
    timeout 120 "$TEST_BIN" >"$T_TMP/test_zk.out" 2>&1
rc=$?
cat "$T_TMP/test_zk.out"
check "test_zk passes against the real server (exit $rc)" test $rc -eq 0
# both groups ran to the end, 2 tests without the server and 10 against it, none skipped
all_ran() {
    grep -qx '\[  PASSED  \] 2 test(s)\.' "$T_TMP/test_zk.out" &&
        grep -qx '\[  PASSED  \] 10 test(s)\.' "$T_TMP/test_zk.out" &&
        ! grep -q SKIPPED "$T_TMP/test_zk.out"
}
check "... every test ran: 2 without the server, 10 against it, none skipped" all_ran
# test_zk must not have left the server frozen
check "server still answers after the fault tests" zk_ruok

count_nodes() { echo mntr | nc -N -w 1 127.0.0.1 "$ZK_PORT" | awk '$1 == "zk_znode_count" {print $2}'; }
before=$(count_nodes)
old_pid=$ZK_PID
old_port=$ZK_PORT
check "zk_restart" zk_restart
check "restart keeps the port" test "$ZK_PORT" = "$old_port"
check "restart is a new process" test "$ZK_PID" != "$old_pid"
check "old process is gone" zk_pid_gone "$old_pid"
after=$(count_nodes)
echo "# znodes before restart: $before, after: $after"
check "data survives the restart (mark node included)" test -n "$before" -a "$before" = "$after" -a "${before:-0}" -gt 5

pid=$ZK_PID
check "zk_stop" zk_stop
check "server process gone after zk_stop" zk_pid_gone "$pid"
check "port closed after zk_stop" bash -c "! nc -z -w 1 127.0.0.1 $ZK_PORT"
check "pid file removed" test ! -e "$ZK_DIR/zk.pid"
finish
