# shellcheck shell=bash
# ZooKeeper for integration tests (sourced after harness.sh). A thin wrapper over
# deploy/zk-start.sh, which is the one implementation (config, classpath, free port, readiness).
#
#   zk_start DIR   start a private server under DIR; exports ZK_PORT, ZK_PID, ZK_CONNECT, ZK_DIR.
#                  The server is not this shell's child (zk-start.sh leaves it to init), so the
#                  harness's kill_child cannot stop it: zk_start registers zk__cleanup with
#                  at_cleanup, which stops every server it started by DIR/zk.pid on exit
#   zk_stop        stop it (SIGCONT first, in case a test froze it; TERM, then KILL)
#   zk_restart     stop and start again on the same port with the same data dir
#   zk_freeze / zk_thaw   SIGSTOP / SIGCONT the server (a "ZooKeeper pause" fault)
#   zk_ruok        true when the server answers imok; zk_pid_gone PID: that process has exited
# Every step is bounded: zk-start.sh waits at most ZK_WAIT_S (default 30) seconds.

ZK_START_SH=${ZK_START_SH:-${SLUICE_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}/deploy/zk-start.sh}

# Read zk-start.sh's KEY=VALUE lines, accepting only the three keys with plain values.
zk__adopt() { # zk__adopt OUTPUT
    local line k v
    ZK_PORT="" ZK_PID="" ZK_CONNECT=""
    while IFS= read -r line; do
        k=${line%%=*}
        v=${line#*=}
        case "$k" in
        ZK_PORT | ZK_PID) case "$v" in '' | *[!0-9]*) continue ;; esac ;;
        ZK_CONNECT) case "$v" in 127.0.0.1:[0-9]*) ;; *) continue ;; esac ;;
        *) continue ;;
        esac
        printf -v "$k" '%s' "$v"
    done <<<"$1"
    [ -n "$ZK_PORT" ] && [ -n "$ZK_PID" ] && [ -n "$ZK_CONNECT" ] || return 1
    export ZK_PORT ZK_PID ZK_CONNECT
    return 0
}

# Every DIR zk_start was given; zk__cleanup stops what runs there (zk-start.sh --stop checks
# that DIR/zk.pid names our server, not a recycled PID, and thaws a frozen one first).
ZK_DIRS=()
zk__cleanup() {
    local d
    for d in "${ZK_DIRS[@]}"; do
        [ -e "$d/zk.pid" ] && bash "$ZK_START_SH" --stop "$d" >/dev/null 2>&1
    done
    return 0
}

zk_start() { # zk_start DIR
    local out dir
    [ $# -eq 1 ] || { echo "usage: zk_start DIR" >&2; return 1; }
    mkdir -p "$1" && dir=$(cd "$1" && pwd) || return 1
    # registered before the start: a start cut short may still leave a server and its zk.pid
    if [ ${#ZK_DIRS[@]} -eq 0 ] && declare -F at_cleanup >/dev/null; then at_cleanup zk__cleanup; fi
    case " ${ZK_DIRS[*]} " in *" $dir "*) ;; *) ZK_DIRS+=("$dir") ;; esac
    out=$(bash "$ZK_START_SH" "$dir") || return 1
    ZK_DIR=$dir
    export ZK_DIR
    zk__adopt "$out"
}

zk_stop() {
    [ -n "${ZK_DIR:-}" ] || return 1
    bash "$ZK_START_SH" --stop "$ZK_DIR"
}

zk_restart() {
    local out
    [ -n "${ZK_DIR:-}" ] && [ -n "${ZK_PORT:-}" ] || return 1
    zk_stop || return 1
    out=$(bash "$ZK_START_SH" --port "$ZK_PORT" "$ZK_DIR") || return 1
    zk__adopt "$out"
}

zk_freeze() { kill -STOP "$ZK_PID"; }
zk_thaw() { kill -CONT "$ZK_PID"; }

# zk_pid_gone PID: the process has exited. A server started by zk-start.sh is re-parented to
# init once the script exits, so after it dies it may linger as a zombie until init reaps it.
zk_pid_gone() {
    local s
    s=$(ps -o stat= -p "$1" 2>/dev/null) || return 0
    case "$s" in Z*) return 0 ;; esac
    return 1
}

# zk_ruok: true when the server answers imok (a frozen server does not).
zk_ruok() { [ "$(echo ruok | nc -N -w 1 127.0.0.1 "$ZK_PORT" 2>/dev/null)" = imok ]; }
