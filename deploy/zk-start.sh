#!/usr/bin/env bash
# Start (or stop) a private ZooKeeper 3.8 server from Debian's `zookeeper` package: one standalone
# server on 127.0.0.1 with its own config and data under DIR. The quickstart and every
# integration test start ZooKeeper through this script, so there is one way to do it.
#
#   zk-start.sh [--port N] [--foreground] DIR    start; prints ZK_PORT=, ZK_PID=, ZK_CONNECT= lines
#   zk-start.sh --stop DIR                       stop the server recorded in DIR/zk.pid
#
# Without --port a free port is picked (and re-picked if another process wins the race for it).
# Restarting with the same DIR and --port keeps the data: DIR/zoo.cfg is rewritten identically.
# Files: DIR/zoo.cfg, DIR/data/ (snapshots and transaction log), DIR/zk.log (server log),
# DIR/zk.pid. The server outlives this script (it is re-parented to init): stop it by the
# printed PID or with --stop. With --foreground the script exec's java (for systemd).
#
# Classpath: zookeeper.jar's manifest already names its runtime jars (jute, netty, metrics-core,
# snappy, commons-*, slf4j-api, ...) by absolute /usr/share/java path, so the classpath is just
# that jar plus exactly ONE slf4j binding. Globbing /usr/share/java pulls in log4j-over-slf4j and
# slf4j-log4j12 together, which makes slf4j recurse and the server die at start.
#
# Environment: ZK_HEAP (default 128m), ZK_LOG_LEVEL (slf4j-simple level, default info),
# ZK_WAIT_S (readiness deadline, default 30), ZK_MAX_SESSION_MS (default 60000),
# ZK_TICK_MS (default 500: sessions as short as 1 s are allowed, which tests need).
set -u

die() { echo "zk-start: $*" >&2; exit 1; }

JAVA=${JAVA:-/usr/bin/java}
ZK_JAR=/usr/share/java/zookeeper.jar
HEAP=${ZK_HEAP:-128m}
LOG_LEVEL=${ZK_LOG_LEVEL:-info}
WAIT_S=${ZK_WAIT_S:-30}
MAX_SESSION_MS=${ZK_MAX_SESSION_MS:-60000}
TICK_MS=${ZK_TICK_MS:-500}

# The one slf4j binding: slf4j-simple writes to stderr (our DIR/zk.log) with a level switch;
# slf4j-nop as a fallback would still run, silently.
slf4j_binding() {
    local b
    for b in /usr/share/java/slf4j-simple.jar /usr/share/java/slf4j-nop.jar; do
        [ -r "$b" ] && { echo "$b"; return 0; }
    done
    return 1
}

# 4-letter command on the client port; prints the reply. nc -N closes our side after the
# command so the server answers and hangs up; -w bounds a frozen server.
four_letter() { echo "$2" | nc -N -w 1 127.0.0.1 "$1" 2>/dev/null; }

# A port in 20000..31999: below Linux's ephemeral range, so outgoing connections of other
# processes never take it between our check and the server's bind.
pick_port() {
    local p
    for _ in $(seq 1 50); do
        p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
        nc -z -w 1 127.0.0.1 "$p" 2>/dev/null || { echo "$p"; return 0; }
    done
    return 1
}

write_cfg() { # write_cfg DIR PORT
    cat >"$1/zoo.cfg.tmp" <<EOF
# Written by deploy/zk-start.sh; rewritten on every start.
tickTime=$TICK_MS
initLimit=10
syncLimit=5
dataDir=$1/data
clientPort=$2
clientPortAddress=127.0.0.1
minSessionTimeout=$((2 * TICK_MS))
maxSessionTimeout=$MAX_SESSION_MS
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=ruok,srvr,stat,mntr
autopurge.snapRetainCount=3
autopurge.purgeInterval=1
EOF
    mv "$1/zoo.cfg.tmp" "$1/zoo.cfg"
}

java_args() { # java_args DIR
    local binding
    binding=$(slf4j_binding) || die "no slf4j binding (slf4j-simple or slf4j-nop) in /usr/share/java"
    # Serial GC and C1 only: a test server needs neither, and both cut start time and CPU on a
    # shared 2-core box. No -Dcom.sun.management.jmxremote: JMX stays local-only and unused.
    JARGS=(-Xmx"$HEAP" -Xms32m -XX:+UseSerialGC -XX:TieredStopAtLevel=1
        -Djava.net.preferIPv4Stack=true
        -Dorg.slf4j.simpleLogger.defaultLogLevel="$LOG_LEVEL"
        -Dorg.slf4j.simpleLogger.showDateTime=true
        -Dorg.slf4j.simpleLogger.dateTimeFormat="yyyy-MM-dd'T'HH:mm:ss.SSSZ"
        -Dzookeeper.log.dir="$1"
        -cp "$ZK_JAR:$binding"
        org.apache.zookeeper.server.quorum.QuorumPeerMain "$1/zoo.cfg")
}

# Is PID a ZooKeeper server started for DIR? Guards --stop against a recycled PID.
is_our_server() { # is_our_server PID DIR
    local cmd
    cmd=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
    case "$cmd" in *QuorumPeerMain*"$2/zoo.cfg"*) return 0 ;; esac
    return 1
}

do_stop() { # do_stop DIR
    local dir=$1 pid
    [ -r "$dir/zk.pid" ] || die "no $dir/zk.pid"
    pid=$(cat "$dir/zk.pid")
    case "$pid" in '' | *[!0-9]*) die "bad pid in $dir/zk.pid" ;; esac
    if is_our_server "$pid" "$dir"; then
        kill -CONT "$pid" 2>/dev/null # a test may have frozen it
        kill -TERM "$pid" 2>/dev/null
        for _ in $(seq 1 100); do
            is_our_server "$pid" "$dir" || break
            sleep 0.1
        done
        is_our_server "$pid" "$dir" && kill -KILL "$pid" 2>/dev/null
        for _ in $(seq 1 50); do
            is_our_server "$pid" "$dir" || break
            sleep 0.1
        done
    fi
    rm -f "$dir/zk.pid"
}

# Start one server on PORT; 0 = serving, 1 = failed, 2 = port taken (caller may retry).
start_on() { # start_on DIR PORT
    local dir=$1 port=$2 pid end reply mark
    write_cfg "$dir" "$port"
    java_args "$dir"
    touch "$dir/zk.log"
    mark=$(wc -l <"$dir/zk.log")
    echo "=== start $(date -u +%Y-%m-%dT%H:%M:%SZ) port=$port" >>"$dir/zk.log"
    # stdin/stdout/stderr detached: a caller reading our stdout through $(...) must not wait
    # for the server to exit.
    "$JAVA" "${JARGS[@]}" </dev/null >>"$dir/zk.log" 2>&1 &
    pid=$!
    echo "$pid" >"$dir/zk.pid"
    end=$((SECONDS + WAIT_S))
    while [ $SECONDS -lt "$end" ]; do
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid" 2>/dev/null
            rm -f "$dir/zk.pid"
            tail -n +"$((mark + 1))" "$dir/zk.log" | grep -q 'Address already in use' && return 2
            return 1
        fi
        # `ruok` answers imok ~0.3 s before the server accepts sessions (measured here);
        # `srvr` reporting a Mode means it serves requests.
        reply=$(four_letter "$port" ruok)
        if [ "$reply" = imok ] && four_letter "$port" srvr | grep -q '^Mode: standalone'; then
            ZK_PID=$pid
            return 0
        fi
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    rm -f "$dir/zk.pid"
    echo "zk-start: server not serving on 127.0.0.1:$port within ${WAIT_S}s; log: $dir/zk.log" >&2
    return 1
}

PORT=""
FOREGROUND=0
STOP=0
while [ $# -gt 0 ]; do
    case "$1" in
    --port) [ $# -ge 2 ] || die "--port needs a value"; PORT=$2; shift 2 ;;
    --foreground) FOREGROUND=1; shift ;;
    --stop) STOP=1; shift ;;
    -h | --help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) break ;;
    esac
done
[ $# -eq 1 ] || die "usage: zk-start.sh [--port N] [--foreground] DIR | --stop DIR"
mkdir -p "$1" || die "cannot create $1"
DIR=$(cd "$1" && pwd)

if [ $STOP -eq 1 ]; then
    do_stop "$DIR"
    exit 0
fi

[ -x "$JAVA" ] || die "$JAVA not found (apt-get install default-jre-headless)"
[ -r "$ZK_JAR" ] || die "$ZK_JAR not found (apt-get install zookeeper)"
command -v nc >/dev/null || die "nc not found (apt-get install netcat-openbsd)"
if [ -n "$PORT" ]; then
    case "$PORT" in '' | *[!0-9]*) die "bad port $PORT" ;; esac
fi
mkdir -p "$DIR/data" || die "cannot create $DIR/data"
if [ -r "$DIR/zk.pid" ] && is_our_server "$(cat "$DIR/zk.pid")" "$DIR"; then
    die "a server for $DIR is already running (pid $(cat "$DIR/zk.pid"))"
fi

if [ $FOREGROUND -eq 1 ]; then
    [ -n "$PORT" ] || PORT=2181
    write_cfg "$DIR" "$PORT"
    java_args "$DIR"
    echo "$$" >"$DIR/zk.pid"
    exec "$JAVA" "${JARGS[@]}"
fi

rc=1
for _ in 1 2 3 4 5; do
    port=$PORT
    [ -n "$port" ] || port=$(pick_port) || die "no free port found"
    start_on "$DIR" "$port"
    rc=$?
    [ $rc -eq 0 ] && break
    [ $rc -eq 2 ] && [ -z "$PORT" ] && continue
    [ $rc -eq 2 ] && die "port $port is in use"
    die "server failed to start; log: $DIR/zk.log"
done
[ "$rc" -eq 0 ] || die "no port could be bound after 5 attempts"
echo "ZK_PORT=$port"
echo "ZK_PID=$ZK_PID"
echo "ZK_CONNECT=127.0.0.1:$port"
