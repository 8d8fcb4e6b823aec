#!/usr/bin/env bash
# `sluice kafka-mock` and `sluice loadgen` end to end, with kcat as the independent client:
# bootstrap line and file, loopback-only listeners, kcat round trip, 20000 loadgen rows over
# 4 partitions counted back per partition, deterministic regeneration across processes, the
# control interface over TCP and stdin (each fault checked for its effect on a client),
# CLI refusals, and a clean exit 0 on SIGTERM and SIGINT. On the shared harness: every
# process is tracked and stopped by PID on exit, every client runs under `timeout` and every
# wait for a process has a deadline. Exit 0 = every check passed.
source "$(dirname "$0")/lib/harness.sh"
S=$SLUICE_BIN
cd "$T_TMP" || exit 1
require "kcat is installed" command -v kcat

has_lines() { [ "$(wc -l <"$1")" -ge "$2" ]; } # has_lines FILE N

# ---- start the mock ------------------------------------------------------------------------
mkdir pub # the mock's published files, alone in their directory (the .tmp check below)
"$S" kafka-mock --brokers 3 --topic events:4 --topic small:1:1 --topic det:1 \
    --topic hashed:4:2 --bootstrap-file pub/bootstrap --control-port 0 \
    --control-file pub/control >mock.out 2>mock.err &
MOCK=$!
track_pid "$MOCK"
wait_for 10 test -s mock.out || cat mock.err
require "kafka-mock prints a bootstrap line" test -s mock.out
require "... and is running" running "$MOCK"
BS=$(head -n1 mock.out)
CTL=$(cat pub/control)
CTL_PORT=${CTL##*:}
echo "# bootstrap $BS control $CTL"

check "bootstrap line lists 3 brokers on 127.0.0.1" \
    grep -Eq '^127\.0\.0\.1:[0-9]+(,127\.0\.0\.1:[0-9]+){2}$' <<<"$BS"
check "bootstrap file equals the stdout line" test "$(cat pub/bootstrap)" = "$BS"
check "control file names a 127.0.0.1 port" grep -Eq '^127\.0\.0\.1:[0-9]+$' pub/control
check "no temporary files left beside the published files" \
    test "$(ls pub | grep -vxc -e bootstrap -e control)" = 0

# Every listening socket of the mock is on 127.0.0.1 (from /proc: no dependency on ss).
listeners() {
    local inodes inode
    inodes=$(for f in /proc/"$MOCK"/fd/*; do readlink "$f"; done 2>/dev/null |
        sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p')
    for inode in $inodes; do
        awk -v ino="$inode" '$4 == "0A" && $10 == ino { print FILENAME, $2 }' \
            /proc/net/tcp /proc/net/tcp6
    done
}
LISTEN=$(listeners)
check "mock listens on 4 sockets (3 brokers + control)" test "$(grep -c . <<<"$LISTEN")" = 4
check "every listener is 127.0.0.1 (IPv4 loopback)" \
    test "$(grep -vc '^/proc/net/tcp 0100007F:' <<<"$LISTEN")" = 0

# ---- kcat round trip -----------------------------------------------------------------------
printf 'm1\nm2\nm3\n' | timeout 20 kcat -P -b "$BS" -t small -p 0 2>kcat.err
check "kcat produces to the mock" test $? = 0
GOT=$(timeout 20 kcat -C -b "$BS" -t small -p 0 -e -o beginning -q -f '%o:%s\n' 2>>kcat.err)
check "kcat consumes the same messages back" test "$GOT" = $'0:m1\n1:m2\n2:m3'

# ---- loadgen: 20000 rows over 4 partitions ---------------------------------------------------
timeout 40 "$S" loadgen --bootstrap "$BS" --topic events --rows 20000 --partitions 4 \
    --seed 11 2>loadgen.err
check "loadgen 20000 rows exits 0" test $? = 0
check "loadgen prints a summary line" \
    grep -Eq '^loadgen: rows=20000 delivered=20000 failed=0 bytes=[0-9]+ seconds=' loadgen.err
timeout 30 kcat -C -b "$BS" -t events -e -o beginning -q -f '%p %o %k\n' >events.txt
check "all 20000 rows are in the topic" test "$(wc -l <events.txt)" = 20000
for p in 0 1 2 3; do
    # 5000 rows each, offsets exactly 0..4999, every key (event_id) congruent to p mod 4
    check "partition $p holds offsets 0..4999 with keys = $p mod 4" awk -v p="$p" '
        $1 == p { n++; if ($2 != n - 1 || $3 % 4 != p) bad++ }
        END { exit !(n == 5000 && bad == 0) }' events.txt
done
check "event ids 0..19999 each appear once" \
    test "$(awk '{print $3}' events.txt | sort -n | uniq | awk 'NR-1 != $1 {bad++} END {print NR, bad+0}')" = "20000 0"
ROW=$(timeout 20 kcat -C -b "$BS" -t events -p 1 -o 0 -c 1 -e -q -f '%s')
check "row 1 is generated JSON with ts = base + 10*id" \
    grep -Eq '^\{"ts":1700000000010,"user":"u[0-9]+",.*"event_id":1\}$' <<<"$ROW"

# Deterministic across processes: rows [0,100) once, then [0,60) + [60,100) again.
timeout 20 "$S" loadgen --bootstrap "$BS" --topic det --rows 100 --seed 5 2>/dev/null &&
    timeout 20 "$S" loadgen --bootstrap "$BS" --topic det --rows 60 --seed 5 2>/dev/null &&
    timeout 20 "$S" loadgen --bootstrap "$BS" --topic det --rows 40 --start-id 60 --seed 5 \
        2>/dev/null
check "three deterministic loadgen runs exit 0" test $? = 0
timeout 20 kcat -C -b "$BS" -t det -e -o beginning -q -f '%k %s\n' >det.txt
check "a second run (split by --start-id) reproduces the first byte for byte" \
    cmp -s <(head -n 100 det.txt) <(tail -n +101 det.txt)
check "det topic holds exactly 200 rows" test "$(wc -l <det.txt)" = 200
timeout 20 "$S" loadgen --bootstrap "$BS" --topic det --rows 3 --seed 6 2>/dev/null
check "loadgen with another seed exits 0" test $? = 0
timeout 20 kcat -C -b "$BS" -t det -o 200 -e -q -f '%s\n' >det6.txt
# with its 3 rows there: an empty read must not pass as "different"
check "another seed gives different rows" \
    test "$(wc -l <det6.txt)" = 3 -a "$(head -n1 det6.txt)" != "$(sed -n 1p det.txt | cut -d' ' -f2-)"

# Without --partitions the key is hashed (murmur2): all partitions get rows.
timeout 20 "$S" loadgen --bootstrap "$BS" --topic hashed --rows 1000 2>/dev/null
check "loadgen with the hashing partitioner exits 0" test $? = 0
HASHED=$(timeout 20 kcat -C -b "$BS" -t hashed -e -o beginning -q -f '%p\n' | sort | uniq -c |
    awk '{n++; t += $1} END {print n, t}')
check "hashed rows spread over all 4 partitions" test "$HASHED" = "4 1000"

# ---- control interface over TCP -------------------------------------------------------------
# ctl LINE: send one command on a fresh connection and print the one-line reply.
ctl() {
    local reply
    exec 3<>"/dev/tcp/127.0.0.1/$CTL_PORT" || return 1
    printf '%s\n' "$1" >&3
    IFS= read -r -t 5 reply <&3
    exec 3>&-
    printf '%s\n' "$reply"
}
check "help answers ok with the command list" grep -q '^ok commands: broker-down' <<<"$(ctl help)"
check "bootstrap command answers the bootstrap list" test "$(ctl bootstrap)" = "ok $BS"
check "unknown command answers error:" grep -q '^error: unknown command' <<<"$(ctl frobnicate)"
check "bad broker id answers error:" grep -q '^error: bad broker id' <<<"$(ctl 'broker-down 9')"
check "wrong argument count answers error:" grep -q '^error: usage' <<<"$(ctl 'rtt 1')"
check "unknown API answers error:" grep -q '^error: unknown API' <<<"$(ctl 'request-errors Nope 6')"

# Several commands on one connection get their replies in order.
R=""
if exec 4<>"/dev/tcp/127.0.0.1/$CTL_PORT"; then
    printf 'rtt 1 20\nrtt all 0\nbogus\n' >&4
    for _ in 1 2 3; do IFS= read -r -t 5 line <&4 && R+="$line;"; done
    exec 4>&-
fi
check "pipelined commands: replies in order" grep -q '^ok;ok;error: unknown command' <<<"$R"

# Leader change, visible in the metadata any client gets.
check "leader events 0 3 answers ok" test "$(ctl 'leader events 0 3')" = ok
check "kcat metadata shows broker 3 leading events/0" \
    grep -Eq 'partition 0, leader 3,' <<<"$(timeout 20 kcat -L -b "$BS" -t events 2>&1)"

# Broker down: the partition it leads cannot take writes; broker up: it can again.
check "leader small 0 2 answers ok" test "$(ctl 'leader small 0 2')" = ok
check "broker-down 2 answers ok" test "$(ctl 'broker-down 2')" = ok
timeout 20 "$S" loadgen --bootstrap "$BS" --topic small --rows 5 --partitions 1 --timeout 2 \
    2>down.err
rc=$?
# loadgen's own failure (1), not timeout's 124 or a crash
check "loadgen to a partition led by a down broker fails (exit 1, got $rc)" test $rc = 1
check "... and says how many events were not delivered" \
    grep -q 'sluice loadgen: 5 of 5 events not delivered' down.err
check "broker-up 2 answers ok" test "$(ctl 'broker-up 2')" = ok
timeout 30 "$S" loadgen --bootstrap "$BS" --topic small --rows 5 --partitions 1 2>up.err
check "after broker-up the same loadgen succeeds" test $? = 0

# Retriable request errors are absorbed by the idempotent producer's retries.
check "request-errors Produce answers ok" \
    test "$(ctl 'request-errors Produce NOT_LEADER_FOR_PARTITION*2,_TRANSPORT')" = ok
timeout 30 "$S" loadgen --bootstrap "$BS" --topic small --rows 10 --partitions 1 \
    --start-id 100 2>errs.err
check "loadgen succeeds through injected retriable Produce errors" test $? = 0
check "clear-errors answers ok" test "$(ctl clear-errors)" = ok
check "create-topic answers ok, then error for a duplicate" \
    test "$(ctl 'create-topic late 2 1')|$(ctl 'create-topic late 2 1' | cut -c1-6)" = "ok|error:"
check "small/0 holds exactly the 3 + 5 + 10 delivered messages" \
    test "$(timeout 20 kcat -C -b "$BS" -t small -e -o beginning -q -f '%o\n' | wc -l)" = 18

# ---- SIGTERM ends the mock with exit 0 ------------------------------------------------------
check "kafka-mock still running before SIGTERM" running "$MOCK"
kill_child -TERM "$MOCK"
wait_exit 10 "$MOCK"
rc=$?
check "SIGTERM ends kafka-mock with exit 0 within 10 s (got $rc)" test $rc = 0

# ---- stdin control, CLI refusals -----------------------------------------------------------
# stdin is a fifo whose only writer is this shell (the harness's spawn_stdin_held)
spawn_stdin_held "$S" kafka-mock --brokers 1 >stdin.out 2>stdin.err
STDIN_MOCK=$!
IN=${HELD_FDS[${#HELD_FDS[@]} - 1]}
printf 'help\nbroker-down 1\nfrobnicate\n' >&"$IN"
check "stdin commands answered within 10 s" wait_for 10 has_lines stdin.out 4
check "stdin commands: bootstrap line first, then one reply per command" \
    awk 'NR == 1 && /^127\.0\.0\.1:[0-9]+$/ {a++} NR == 2 && /^ok commands:/ {a++}
         NR == 3 && $0 == "ok" {a++} NR == 4 && /^error: unknown command/ {a++}
         END {exit !(a == 4 && NR == 4)}' stdin.out
exec {IN}>&- # end of stdin is not a stop request
# the mock logs nothing on EOF: give it a moment in which an exit would show
sleep 0.5
check "kafka-mock keeps running after stdin ends" running "$STDIN_MOCK"
kill_child -INT "$STDIN_MOCK"
wait_exit 10 "$STDIN_MOCK"
rc=$?
check "SIGINT ends kafka-mock with exit 0 within 10 s (got $rc)" test $rc = 0

timeout 10 "$S" kafka-mock --topic bad >/dev/null 2>cli.err
check "kafka-mock refuses a bad topic spec (exit 2)" test $? = 2
check "... naming the spec" grep -q "bad topic spec 'bad'" cli.err
timeout 10 "$S" kafka-mock --brokers 3 --topic t:2:4 >/dev/null 2>&1
check "kafka-mock refuses RF > brokers" test $? = 2
timeout 10 "$S" kafka-mock --help >help.txt
check "kafka-mock --help exits 0" test $? = 0
check "... and documents the control commands" grep -q 'request-errors' help.txt
timeout 10 "$S" loadgen --topic x --rows 1 >/dev/null 2>&1
check "loadgen without --bootstrap exits 2" test $? = 2
timeout 10 "$S" loadgen --bootstrap "$BS" --topic x --rows -5 >/dev/null 2>&1
check "loadgen refuses a negative row count" test $? = 2
timeout 10 "$S" loadgen --bootstrap "$BS" --topic x --rows 1 --rate fast >/dev/null 2>&1
check "loadgen refuses a non-numeric rate" test $? = 2
timeout 10 "$S" loadgen --help >lhelp.txt
check "loadgen --help exits 0" test $? = 0
check "... and documents its options" grep -q -- '--start-id' lhelp.txt
finish
