#!/usr/bin/env bash
# Sluice quickstart: one command from a fresh checkout to a converged cluster on this machine.
#
#   deploy/quickstart.sh [--keep-running] [--dir DIR]   install, build, start, stream, check, summarise
#   deploy/quickstart.sh --check [--dir DIR]             check and summarise it again while it runs
#   deploy/quickstart.sh --stop [--dir DIR]              stop what a --keep-running run left up
#   deploy/quickstart.sh --secure ...                    the same with tokens and TLS on
#
# Steps: install missing Debian packages (deploy/install-deps.sh); build build/sluice when it is
# missing or older than a source file; start ZooKeeper (deploy/zk-start.sh), the embedded Kafka
# broker (`sluice kafka-mock`, topic events with 4 partitions), one controller and three
# cluster-mode sidecars, all on 127.0.0.1; register the example table (deploy/examples/, with
# replication 3 and 25000-row segments); stream 400000 synthetic events (`sluice loadgen`) at a
# rate the sidecars keep up with (the mock keeps only the newest ~100k batches per partition);
# wait until every partition has at least 3 committed (DONE) segments; then print each
# committed segment (offsets, rows, CRC, committer) and check the invariants a user can see:
# the chain (segment k+1 starts where k ended, the first at offset 0), every replica ONLINE, and
# every replica's file <sidecar data.dir>/events/<segment>.seg carrying the committed CRC.
# With --secure every process checks bearer tokens and serves HTTPS with client certificates
# required (mTLS, docs/security.md): DIR/tls holds a CA and a certificate per process made with
# openssl, DIR/tokens the tokens (admin, reader, one per sidecar); the script's own calls use
# the admin's, and it shows that a call without them is refused.
# Exit status: 0 all consistent; 1 a failure or an inconsistency (named on stderr); 2 usage.
#
# Everything lives in DIR (default /tmp/sluice-quickstart, recreated on each run; a DIR this
# script did not create is never deleted): configs, data dirs, logs/ (one per process),
# pids (NAME PID per line). Every process is stopped by its recorded PID on every exit path
# unless --keep-running is given; then they stay up (ignoring SIGHUP) until --stop, and
# --check re-runs the checks and the summary against them (DIR/state says where they are).
#
# Ports: controller 9000 and sidecars 8101-8103 when free, otherwise free ports picked at
# random; ZooKeeper and Kafka always on free ports.
#
# Environment (tuning and tests): SLUICE_BUILD (build dir, default <repo>/build), QS_ROWS
# (400000), QS_RATE (rows/s, 20000), QS_SEGMENTS (DONE segments wanted per partition, 3),
# QS_TIMEOUT (seconds to wait for them, 240), QS_SETTLE (seconds replicas get to converge
# after that, 60), QS_SIDECARS (sidecars to start, 3; fewer makes the table add fail:
# a test of that path), QS_SKIP_DEPS=1 (do not run install-deps.sh), QS_SIDECAR_CONF (lines
# appended to every sidecar's config, e.g. "segment.scrub.interval = 2s").
set -uo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${SLUICE_BUILD:-$SRC/build}
SLUICE=$BUILD/sluice
EX=$SRC/deploy/examples
CLUSTER=quickstart
TABLE=events
PARTITIONS=4
REPLICATION=3
ROWS=${QS_ROWS:-400000}
RATE=${QS_RATE:-20000}
WANT=${QS_SEGMENTS:-3}
TIMEOUT_S=${QS_TIMEOUT:-240}
SETTLE_S=${QS_SETTLE:-60}
NSIDECARS=${QS_SIDECARS:-3}
FLUSH_ROWS=25000

DIR=/tmp/sluice-quickstart
KEEP=0
STOP=0
CHECK=0
SECURE=0
usage() {
    sed -n '2,7p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    echo "Options: --keep-running (leave everything up), --dir DIR (default $DIR), --secure (tokens"
    echo "and TLS on), --check, --stop, --help."
    echo "Details: the comment at the top of deploy/quickstart.sh."
}
while [ $# -gt 0 ]; do
    case "$1" in
    --keep-running) KEEP=1 ;;
    --stop) STOP=1 ;;
    --check) CHECK=1 ;;
    --secure) SECURE=1 ;;
    --dir)
        [ $# -ge 2 ] && [ -n "$2" ] || { echo "quickstart: --dir needs a directory" >&2; exit 2; }
        DIR=$2
        shift
        ;;
    --dir=*) DIR=${1#--dir=} ;;
    -h | --help) usage; exit 0 ;;
    *) echo "quickstart: unexpected argument '$1'" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
for v in ROWS RATE WANT TIMEOUT_S SETTLE_S NSIDECARS; do
    case "${!v}" in '' | *[!0-9]*) echo "quickstart: $v must be a number" >&2; exit 2 ;; esac
done
case "$DIR" in /*) ;; *) DIR=$PWD/$DIR ;; esac
DIR=${DIR%/}
[ -n "$DIR" ] && [ "$DIR" != / ] || { echo "quickstart: refusing --dir /" >&2; exit 2; }
MARK=$DIR/.sluice-quickstart

TTY=0
[ -t 1 ] && TTY=1
say() { echo "quickstart: $*"; }
warn() { echo "quickstart: $*" >&2; }

# ---- processes: started, recorded, stopped by PID ---------------------------------------

# Is PID still the process recorded as NAME for this DIR? Guards against a recycled PID.
# loadgen's command line does not name DIR; the others' all do (config or control file).
is_ours() { # is_ours NAME PID
    local cmd
    cmd=$({ tr '\0' ' ' <"/proc/$2/cmdline"; } 2>/dev/null) || return 1
    case "$1" in
    loadgen) case "$cmd" in *sluice\ loadgen*) return 0 ;; esac ;;
    *) case "$cmd" in *sluice\ *"$DIR/"*) return 0 ;; esac ;;
    esac
    return 1
}

# Stop everything recorded in DIR/pids (TERM together, KILL after 15 s), then ZooKeeper.
stop_all() {
    local name pid live=() left
    if [ -r "$DIR/pids" ]; then
        while read -r name pid; do
            case "$pid" in '' | *[!0-9]*) continue ;; esac
            if is_ours "$name" "$pid"; then
                kill -TERM "$pid" 2>/dev/null && live+=("$name:$pid")
            fi
        done <"$DIR/pids"
        for _ in $(seq 1 150); do
            left=0
            for e in "${live[@]}"; do is_ours "${e%%:*}" "${e#*:}" && left=1; done
            [ $left -eq 0 ] && break
            sleep 0.1
        done
        for e in "${live[@]}"; do
            if is_ours "${e%%:*}" "${e#*:}"; then
                warn "${e%%:*} (pid ${e#*:}) ignored SIGTERM for 15 s: SIGKILL"
                kill -KILL "${e#*:}" 2>/dev/null
            fi
        done
        : >"$DIR/pids"
    fi
    [ -r "$DIR/zk/zk.pid" ] && bash "$SRC/deploy/zk-start.sh" --stop "$DIR/zk" 2>/dev/null
    return 0
}

if [ $STOP -eq 1 ]; then
    [ -e "$MARK" ] || { warn "$DIR is not a quickstart directory (no $MARK)"; exit 1; }
    stop_all
    say "stopped everything recorded in $DIR"
    exit 0
fi

STARTED=0 # set once DIR belongs to this run: from then on the EXIT trap cleans up
RESULT=1
on_exit() {
    [ $STARTED -eq 1 ] || return
    [ $TTY -eq 1 ] && printf '\n'
    if [ $KEEP -eq 1 ]; then
        echo
        say "everything is still running (--keep-running). Stop it with:"
        echo "    $SRC/deploy/quickstart.sh --stop --dir $DIR"
    else
        stop_all
        [ $RESULT -eq 0 ] && say "stopped everything (--keep-running leaves it up)"
    fi
    if [ $INTERRUPTED -eq 1 ]; then
        warn "interrupted; logs are in $DIR/logs/"
    elif [ $RESULT -ne 0 ]; then
        warn "FAILED; logs are in $DIR/logs/"
    fi
}
INTERRUPTED=0
trap on_exit EXIT
trap 'INTERRUPTED=1; exit 130' INT
trap 'INTERRUPTED=1; exit 143' TERM

die() {
    warn "$*"
    exit 1
}

# The last lines of a log, indented, for a failure message.
log_tail() { [ -r "$1" ] && tail -n "${2:-5}" "$1" | sed 's/^/    | /' >&2; }

# spawn NAME LOG CMD...: start CMD in the background, stdout+stderr to LOG, record its PID in
# $SPAWNED and DIR/pids. With --keep-running it ignores SIGHUP so closing the terminal does
# not stop it (a background job of a script is in the terminal's process group).
spawn() {
    local name=$1 log=$2
    shift 2
    if [ $KEEP -eq 1 ]; then
        (trap '' HUP; exec "$@") </dev/null >"$log" 2>&1 &
    else
        "$@" </dev/null >"$log" 2>&1 &
    fi
    SPAWNED=$!
    echo "$name $SPAWNED" >>"$DIR/pids"
}

# The exit status of a child that has exited is read with `wait PID; st=$?` in this shell
# (not in a $(...) subshell, which has no such child).
LOADGEN_PID=""

# ---- ports --------------------------------------------------------------------------------

TAKEN_PORTS=" "
port_free() { # nothing listens on 127.0.0.1:P and we did not hand it out already
    case "$TAKEN_PORTS" in *" $1 "*) return 1 ;; esac
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
# pick_port PREFERRED: sets PORT to PREFERRED if free, else to a free port in 20000..31999
# (below Linux's ephemeral range, so no outgoing connection takes it before the server binds).
pick_port() {
    PORT=$1
    if ! port_free "$PORT"; then
        for _ in $(seq 1 100); do
            PORT=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
            port_free "$PORT" && break
        done
        port_free "$PORT" || die "no free port found"
    fi
    TAKEN_PORTS="$TAKEN_PORTS$PORT "
}

# The checks on a listing (`sluice table segments` JSON), in one place:
#   qs_check progress FILE                 "p0=2 p1=3 ..." ; exit 0 when each has >= WANT DONE
#   qs_check verify FILE [--summary]       chain, replica states and files; exit 0 consistent,
#                                          1 broken for good (a chain gap), 2 replicas not there yet
qs_check() {
    QC_SECURE=$SECURE QC_TLS=$DIR/tls QC_WANT=$WANT QC_PARTITIONS=$PARTITIONS QC_REPLICATION=$REPLICATION QC_SLUICE=$SLUICE \
        QC_CTL=$CTL_URL QC_DIR=$DIR QC_TABLE=$TABLE QC_SIDECARS=$NSIDECARS python3 - "$@" <<'PY'
import json, os, subprocess, sys, urllib.request
mode, path, summary = sys.argv[1], sys.argv[2], "--summary" in sys.argv[3:]
E = os.environ
want, nparts, repl, nsc = (int(E[k]) for k in ("QC_WANT", "QC_PARTITIONS", "QC_REPLICATION", "QC_SIDECARS"))
sluice, ctl, qdir, table = E["QC_SLUICE"], E["QC_CTL"], E["QC_DIR"], E["QC_TABLE"]
segs = json.load(open(path))
by = {p: [] for p in range(nparts)}
for s in segs:
    by.setdefault(s["partition"], []).append(s)
for v in by.values():
    v.sort(key=lambda s: s["sequence"])
done = {p: sum(s["status"] == "DONE" for s in v) for p, v in by.items()}
if mode == "progress":
    print(" ".join("p%d=%d/%d" % (p, min(done[p], want), want) for p in sorted(done)))
    sys.exit(0 if all(d >= want for d in done.values()) else 1)

dirs = {"sidecar-%d" % i: os.path.join(qdir, "sidecar%d" % i) for i in range(1, nsc + 1)}
handlers = [urllib.request.ProxyHandler({})]
if E["QC_SECURE"] == "1":  # --secure: the admin's certificate and token, the quickstart's CA
    import ssl
    tls = E["QC_TLS"]
    ctx = ssl.create_default_context(cafile=os.path.join(tls, "ca.pem"))
    ctx.load_cert_chain(os.path.join(tls, "admin.pem"), os.path.join(tls, "admin.key"))
    handlers.append(urllib.request.HTTPSHandler(context=ctx))
opener = urllib.request.build_opener(*handlers)
if E["QC_SECURE"] == "1":
    opener.addheaders = [("Authorization", "Bearer " + open(os.path.join(tls, "admin.token")).read().strip())]
hard, soft = [], []

def file_crc(path):
    r = subprocess.run([sluice, "segment", "info", path], capture_output=True, text=True)
    if r.returncode != 0:
        return None, (r.stderr.strip().splitlines() or ["segment info failed"])[-1]
    return json.loads(r.stdout)["crc"], None

rows = []  # (partition, seq, segment, offsets, rows, crc, committer, replicas)
for p in sorted(by):
    v = by[p]
    if [s["sequence"] for s in v] != list(range(len(v))):
        hard.append("partition %d: sequences %s are not 0..%d" % (p, [s["sequence"] for s in v], len(v) - 1))
    if v and v[0]["startOffset"] != 0:
        hard.append("partition %d: the first segment starts at %s, not 0" % (p, v[0]["startOffset"]))
    for a, b in zip(v, v[1:]):
        # pauseless: a COMMITTING segment's end is fixed and its successor already consumes
        if a["status"] not in ("DONE", "COMMITTING") or b["startOffset"] != a["endOffset"]:
            hard.append("partition %d: %s [%s, %s) %s is followed by %s starting at %s" % (
                p, a["segment"], a["startOffset"], a["endOffset"], a["status"], b["segment"], b["startOffset"]))
    for s in v:
        seg = s["segment"]
        if s["status"] != "DONE":
            rows.append((p, s["sequence"], seg, "[%d, %s)" % (s["startOffset"], "..." if s["endOffset"] is None else s["endOffset"]),
                         "consuming" if s["status"] == "IN_PROGRESS" else s["status"], "", "",
                         ", ".join("%s %s" % kv for kv in sorted(s["replicas"].items()))))
            continue
        committer = ""
        if summary:
            try:
                with opener.open("%s/tables/%s/segments/%s" % (ctl, table, seg), timeout=10) as r:
                    committer = json.load(r).get("committer") or "?"
            except Exception as e:
                committer = "?"
                hard.append("%s: GET %s/tables/%s/segments/%s: %s" % (seg, ctl, table, seg, e))
        if len(s["replicas"]) != repl:
            hard.append("%s: %d replicas, the table asks for %d" % (seg, len(s["replicas"]), repl))
        reps, bad = [], 0
        for inst, state in sorted(s["replicas"].items()):
            note = "ok"
            if state != "ONLINE":
                note = state
                soft.append("%s: replica %s is %s, not ONLINE" % (seg, inst, state))
            elif inst not in dirs:
                note = "unknown instance"
                hard.append("%s: replica %s is not one of the quickstart's sidecars" % (seg, inst))
            else:
                f = os.path.join(dirs[inst], table, seg + ".seg")
                if not os.path.exists(f):
                    note = "file missing"
                    soft.append("%s: %s has no %s" % (seg, inst, f))
                else:
                    crc, err = file_crc(f)
                    if crc != s["crc"]:
                        note = "CRC %s" % crc if err is None else "unreadable file"
                        soft.append("%s: %s holds %s with %s, the committed CRC is %s" % (
                            seg, inst, f, "CRC %s" % crc if err is None else "an error (%s)" % err, s["crc"]))
            bad += note != "ok"
            reps.append("%s %s" % (inst, note))
        rep = "%d/%d ONLINE, files match" % (len(reps), repl) if not bad and len(reps) == repl else ", ".join(reps)
        rows.append((p, s["sequence"], seg, "[%d, %d)" % (s["startOffset"], s["endOffset"]),
                     str(s["numRows"]), str(s["crc"]), committer, rep))
if summary:
    head = ("part", "seq", "segment", "offsets", "rows", "crc", "committer", "replicas")
    w = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    fmt = "  {0:>%d}  {1:>%d}  {2:<%d}  {3:<%d}  {4:>%d}  {5:>%d}  {6:<%d}  {7}" % tuple(w[:7])
    print(fmt.format(*head))
    for i, r in enumerate(rows):
        if i and r[0] != rows[i - 1][0]:
            print()
        print(fmt.format(*r))
for m in hard + soft:
    print("INCONSISTENT: " + m, file=sys.stderr)
sys.exit(1 if hard else 2 if soft else 0)
PY
}

# report SETTLE_S: wait up to SETTLE_S seconds for the replicas of every committed segment to
# be ONLINE with the committed CRC (non-committing replicas build or download their copy
# after the commit), then print the summary and the URLs. Returns 0 when consistent.
report() {
    local end=$((SECONDS + $1)) st
    while :; do
        [ $CHECK -eq 1 ] || check_alive
        st=2 # a listing that fails is tried again
        if "$SLUICE" table segments --controller "$CTL_URL" --table "$TABLE" >"$LIST.tmp" 2>"$DIR/logs/segments.err"; then
            mv "$LIST.tmp" "$LIST"
            qs_check verify "$LIST" 2>/dev/null
            st=$?
        fi
        [ $st -eq 0 ] || [ $st -eq 1 ] || [ $SECONDS -ge $end ] && break
        sleep 1
    done
    [ -s "$LIST" ] || { log_tail "$DIR/logs/segments.err" 3; die "no segment listing from $CTL_URL"; }
    echo
    echo "Table $TABLE: $PARTITIONS partitions, replication $REPLICATION, $FLUSH_ROWS rows per segment"
    echo "(offsets [start, end); crc: CRC-32C of the segment file; replicas: state, local file check)"
    echo
    qs_check verify "$LIST" --summary
    st=$?
    if [ "$SECURE" -eq 1 ]; then # what a caller without the credentials gets
        local c0 c1 c2
        c0=$(curl -s -o /dev/null -w '%{http_code}' --cert "$DIR/tls/admin.pem" --key "$DIR/tls/admin.key" "$CTL_URL/tables")
        c1=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(cat "$DIR/tls/admin.token")" "$CTL_URL/tables")
        c2=$(curl -s -o /dev/null -w '%{http_code}' "${CURL_AUTH[@]}" "$CTL_URL/tables")
        echo
        echo "Security (--secure): GET $CTL_URL/tables without a token: $c0; with the admin's token but"
        echo "no client certificate: $c1; with both: $c2"
        if [ "$c0" != 401 ] || [ "$c1" != 403 ] || [ "$c2" != 200 ]; then
            warn "the controller should answer 401, 403 and 200 there"
            st=1
        fi
    fi
    echo
    echo "Look around:"
    echo "  controller   $CTL_URL/ui (the operator's page)   $CTL_URL/tables/$TABLE/segments   $CTL_URL/metrics"
    for i in $(seq 1 "$NSIDECARS"); do
        printf '  sidecar-%d    %s/health   %s/metrics\n' "$i" "${SC_URLS[$((i - 1))]}" "${SC_URLS[$((i - 1))]}"
    done
    echo "  segments     $SLUICE table segments --controller $CTL_URL --table $TABLE"
    echo "  ZooKeeper    $SLUICE zk dump --zk $ZK_CONNECT --cluster $CLUSTER"
    echo "  files        $DIR/sidecar*/$TABLE/*.seg   ($SLUICE segment info|dump|verify FILE)"
    echo "  logs         $DIR/logs/"
    [ "$SECURE" -eq 1 ] && echo "  credentials  curl --cacert $DIR/tls/ca.pem --cert $DIR/tls/admin.pem --key $DIR/tls/admin.key -H \"Authorization: Bearer \$(cat $DIR/tls/admin.token)\" ...; the sluice commands read SLUICE_TOKEN_FILE, SLUICE_CA_FILE, SLUICE_CERT_FILE, SLUICE_KEY_FILE (docs/security.md)"
    echo
    [ $st -eq 0 ] || { warn "the cluster is INCONSISTENT (see the lines above)"; return 1; }
    say "OK: chains contiguous, every replica ONLINE with the committed CRC"
    return 0
}

# What --check needs to find a running quickstart again; read back by load_state.
save_state() {
    {
        echo "SLUICE=$SLUICE"
        echo "CTL_URL=$CTL_URL"
        echo "ZK_CONNECT=$ZK_CONNECT"
        echo "NSIDECARS=$NSIDECARS"
        echo "SECURE=$SECURE"
        for u in "${SC_URLS[@]}"; do echo "SC_URL=$u"; done
    } >"$DIR/state"
}
# Only the known keys, only plain values: the file is data, never evaluated.
load_state() {
    local k v
    SC_URLS=()
    [ -r "$DIR/state" ] || die "no $DIR/state: nothing was started in $DIR"
    while IFS='=' read -r k v; do
        case "$k" in
        SLUICE) SLUICE=$v ;;
        CTL_URL | SC_URL) case "$v" in http://127.0.0.1:[0-9]* | https://127.0.0.1:[0-9]*) ;; *) die "bad $k in $DIR/state" ;; esac
            [ "$k" = CTL_URL ] && CTL_URL=$v || SC_URLS+=("$v") ;;
        ZK_CONNECT) ZK_CONNECT=$v ;;
        NSIDECARS) case "$v" in '' | *[!0-9]*) die "bad NSIDECARS in $DIR/state" ;; esac
            NSIDECARS=$v ;;
        SECURE) case "$v" in 0 | 1) SECURE=$v ;; *) die "bad SECURE in $DIR/state" ;; esac ;;
        esac
    done <"$DIR/state"
    [ -n "${CTL_URL:-}" ] && [ "${#SC_URLS[@]}" -eq "$NSIDECARS" ] || die "incomplete $DIR/state"
    [ "$SECURE" -eq 1 ] && secure_env
    return 0
}

# --secure: the credentials of this script's own calls (curl, sluice, the checks' urllib)
secure_env() {
    export CURL_CA_BUNDLE=$DIR/tls/ca.pem SLUICE_CA_FILE=$DIR/tls/ca.pem
    export SLUICE_CERT_FILE=$DIR/tls/admin.pem SLUICE_KEY_FILE=$DIR/tls/admin.key
    export SLUICE_TOKEN_FILE=$DIR/tls/admin.token
    CURL_AUTH=(--cert "$DIR/tls/admin.pem" --key "$DIR/tls/admin.key" -H "Authorization: Bearer $(cat "$DIR/tls/admin.token")")
}
CURL_AUTH=()
SCHEME=http

# --secure: a CA, a certificate per process (CN = its instance id, for 127.0.0.1), the admin's
# client certificate, and the tokens file.
make_secrets() {
    local t=$DIR/tls n i
    mkdir -p "$t" && chmod 700 "$t" || die "cannot create $t"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$t/ca.key" -out "$t/ca.pem" -days 30 \
        -subj "/CN=sluice quickstart CA" >"$DIR/logs/openssl.log" 2>&1 || die "openssl: cannot make the CA (see $DIR/logs/openssl.log)"
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' >"$t/ext"
    for n in controller-1 admin $(for i in $(seq 1 "$NSIDECARS"); do echo sidecar-$i; done); do
        openssl req -newkey rsa:2048 -nodes -keyout "$t/$n.key" -out "$t/$n.csr" -subj "/CN=$n" \
            >>"$DIR/logs/openssl.log" 2>&1 &&
            openssl x509 -req -in "$t/$n.csr" -CA "$t/ca.pem" -CAkey "$t/ca.key" -CAcreateserial \
                -out "$t/$n.pem" -days 30 -extfile "$t/ext" >>"$DIR/logs/openssl.log" 2>&1 ||
            die "openssl: cannot make the certificate of $n (see $DIR/logs/openssl.log)"
    done
    tok() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
    (
        umask 077
        echo "# TOKEN ROLE[:INSTANCE], written by deploy/quickstart.sh --secure" >"$DIR/tokens"
        for n in admin reader; do
            v=$(tok); echo "$v $n" >>"$DIR/tokens"; echo "$v" >"$t/$n.token"
        done
        for i in $(seq 1 "$NSIDECARS"); do
            v=$(tok); echo "$v instance:sidecar-$i" >>"$DIR/tokens"; echo "$v" >"$t/sidecar-$i.token"
        done
    )
    secure_env
    SCHEME=https
}
# secure_conf NAME TOKEN: the config lines of a process's TLS and tokens
secure_conf() {
    [ "$SECURE" -eq 1 ] || return 0
    cat <<EOF
auth.tokens.file = $DIR/tokens
auth.token.file = $DIR/tls/$2.token
http.tls.cert = $DIR/tls/$1.pem
http.tls.key = $DIR/tls/$1.key
http.tls.client.ca = $DIR/tls/ca.pem
tls.ca.file = $DIR/tls/ca.pem
EOF
}

if [ $CHECK -eq 1 ]; then
    [ -e "$MARK" ] || die "$DIR is not a quickstart directory (no $MARK)"
    load_state
    LIST=$DIR/segments.json
    report "${QS_SETTLE:-10}"
    exit $?
fi

# ---- 1. directory -------------------------------------------------------------------------

if [ -e "$DIR" ]; then
    if [ -e "$MARK" ]; then
        if [ -s "$DIR/pids" ] || [ -r "$DIR/zk/zk.pid" ]; then
            say "stopping the previous quickstart in $DIR"
            stop_all
        fi
        rm -rf "$DIR" || die "cannot remove $DIR"
    elif [ -d "$DIR" ] && [ -z "$(ls -A "$DIR" 2>/dev/null)" ]; then
        :
    else
        die "$DIR exists and was not made by the quickstart; remove it or pass another --dir"
    fi
fi
mkdir -p "$DIR/logs" || die "cannot create $DIR"
: >"$MARK"
: >"$DIR/pids"
STARTED=1

# ---- 2. dependencies and build --------------------------------------------------------------

if [ "${QS_SKIP_DEPS:-0}" != 1 ]; then
    "$SRC/deploy/install-deps.sh" >"$DIR/logs/install-deps.log" 2>&1 || {
        log_tail "$DIR/logs/install-deps.log" 10
        die "installing the Debian packages failed (deploy/install-deps.sh)"
    }
fi

needs_build() {
    [ -x "$SLUICE" ] || return 0
    [ -n "$(find "$SRC/CMakeLists.txt" "$SRC/src" "$SRC/common" "$SRC/completion" \
        "$SRC/consumer" "$SRC/segment" "$SRC/proto" -type f -newer "$SLUICE" -print -quit \
        2>/dev/null)" ]
}
if needs_build; then
    say "building $SLUICE (log: $DIR/logs/build.log)"
    {
        cmake -S "$SRC" -B "$BUILD" && cmake --build "$BUILD" -j2
    } 2>&1 | tee "$DIR/logs/build.log" | {
        # on a terminal, one line of progress ("[ 42%]"); otherwise quiet
        if [ $TTY -eq 1 ]; then
            while IFS= read -r l; do
                case "$l" in "["*"%]"*) printf '\r  %s' "${l:0:7}" ;; esac
            done
            printf '\r'
        else
            cat >/dev/null
        fi
    }
    [ "${PIPESTATUS[0]}" -eq 0 ] && [ -x "$SLUICE" ] || {
        log_tail "$DIR/logs/build.log" 15
        die "the build failed"
    }
fi

# ---- 3. ZooKeeper, Kafka --------------------------------------------------------------------

say "starting ZooKeeper"
ZK_OUT=$(bash "$SRC/deploy/zk-start.sh" "$DIR/zk" 2>"$DIR/logs/zk-start.log") || {
    log_tail "$DIR/logs/zk-start.log"
    die "ZooKeeper did not start (log: $DIR/zk/zk.log)"
}
ZK_CONNECT=$(sed -n 's/^ZK_CONNECT=\(127\.0\.0\.1:[0-9][0-9]*\)$/\1/p' <<<"$ZK_OUT")
[ -n "$ZK_CONNECT" ] || die "zk-start.sh printed no ZK_CONNECT"

say "starting the embedded Kafka broker (topic $TABLE, $PARTITIONS partitions)"
spawn kafka-mock "$DIR/logs/kafka-mock.log" "$SLUICE" kafka-mock --brokers 1 \
    --topic "$TABLE:$PARTITIONS" --control-port 0 --control-file "$DIR/kafka.ctl" \
    --bootstrap-file "$DIR/kafka.bootstrap"
MOCK_PID=$SPAWNED
BOOTSTRAP=""
for _ in $(seq 1 100); do
    [ -s "$DIR/kafka.bootstrap" ] && BOOTSTRAP=$(head -1 "$DIR/kafka.bootstrap") && break
    kill -0 "$MOCK_PID" 2>/dev/null || break
    sleep 0.1
done
[ -n "$BOOTSTRAP" ] || {
    log_tail "$DIR/logs/kafka-mock.log"
    die "sluice kafka-mock did not start"
}

# ---- 4. controller, sidecars ----------------------------------------------------------------

# wait_healthy NAME PID URL: GET URL/health answers 200 within 30 s, and the process lives.
wait_healthy() {
    local name=$1 pid=$2 url=$3
    for _ in $(seq 1 150); do
        if ! kill -0 "$pid" 2>/dev/null; then
            local st
            wait "$pid" 2>/dev/null
            st=$?
            log_tail "$DIR/logs/$name.log"
            die "$name exited at start (status $st); its log: $DIR/logs/$name.log"
        fi
        curl -sf -o /dev/null --max-time 2 "$url/health" && return 0
        sleep 0.2
    done
    log_tail "$DIR/logs/$name.log"
    die "$name did not become healthy at $url/health within 30 s"
}

[ "$SECURE" -eq 1 ] && make_secrets
pick_port 9000
CTL_PORT=$PORT
CTL_URL=$SCHEME://127.0.0.1:$CTL_PORT
cat >"$DIR/controller.conf" <<EOF
# written by deploy/quickstart.sh
cluster.name = $CLUSTER
zk.connect = $ZK_CONNECT
instance.id = controller-1
http.port = $CTL_PORT
http.bind = 127.0.0.1
data.dir = $DIR/controller
$(secure_conf controller-1 reader)
EOF
say "starting the controller at $CTL_URL"
spawn controller "$DIR/logs/controller.log" "$SLUICE" controller --config "$DIR/controller.conf"
CTL_PID=$SPAWNED
wait_healthy controller "$CTL_PID" "$CTL_URL"
for _ in $(seq 1 100); do
    curl -sf --max-time 2 "$CTL_URL/health" | grep -q '"leader":true' && break
    sleep 0.2
done

SC_URLS=()
SC_PIDS=()
for i in $(seq 1 "$NSIDECARS"); do
    pick_port $((8100 + i))
    port=$PORT
    cat >"$DIR/sidecar$i.conf" <<EOF
# written by deploy/quickstart.sh
cluster.name = $CLUSTER
zk.connect = $ZK_CONNECT
instance.id = sidecar-$i
mode = cluster
http.port = $port
http.bind = 127.0.0.1
data.dir = $DIR/sidecar$i
$(secure_conf sidecar-$i sidecar-$i)
EOF
    [ -n "${QS_SIDECAR_CONF:-}" ] && printf '%s\n' "$QS_SIDECAR_CONF" >>"$DIR/sidecar$i.conf"
    spawn "sidecar-$i" "$DIR/logs/sidecar-$i.log" "$SLUICE" sidecar --config "$DIR/sidecar$i.conf"
    SC_PIDS+=("$SPAWNED")
    SC_URLS+=("$SCHEME://127.0.0.1:$port")
done
[ "$NSIDECARS" -gt 0 ] && say "starting $NSIDECARS sidecars at ${SC_URLS[*]}"
for i in $(seq 1 "$NSIDECARS"); do
    wait_healthy "sidecar-$i" "${SC_PIDS[$((i - 1))]}" "${SC_URLS[$((i - 1))]}"
done
save_state

# ---- 5. the table ---------------------------------------------------------------------------

python3 - "$EX/events_table.json" "$BOOTSTRAP" "$REPLICATION" "$FLUSH_ROWS" >"$DIR/events_table.json" <<'PY' ||
import json, sys
t = json.load(open(sys.argv[1]))
t["segmentsConfig"]["replication"] = sys.argv[3]
m = t["ingestionConfig"]["streamIngestionConfig"]["streamConfigMaps"][0]
m["stream.kafka.broker.list"] = sys.argv[2]
m["realtime.segment.flush.threshold.rows"] = sys.argv[4]
m["realtime.segment.flush.threshold.time"] = "6h"
json.dump(t, sys.stdout, indent=2)
print()
PY
    die "cannot write $DIR/events_table.json"

say "adding table $TABLE (replication $REPLICATION, $FLUSH_ROWS-row segments)"
# The sidecars register in ZooKeeper as they start; until all have, the controller answers
# "needs N live sidecars", so that answer is retried for a few seconds.
end=$((SECONDS + 15))
while :; do
    "$SLUICE" table add --controller "$CTL_URL" --table-config "$DIR/events_table.json" \
        --schema "$EX/events_schema.json" >"$DIR/logs/table-add.log" 2>&1 && break
    if ! grep -q "live sidecars" "$DIR/logs/table-add.log" || [ $SECONDS -ge $end ]; then
        log_tail "$DIR/logs/table-add.log"
        die "sluice table add failed"
    fi
    sleep 0.5
done

# ---- 6. stream, wait ------------------------------------------------------------------------

say "streaming $ROWS events at $RATE/s into topic $TABLE"
spawn loadgen "$DIR/logs/loadgen.log" "$SLUICE" loadgen --bootstrap "$BOOTSTRAP" --topic "$TABLE" \
    --rows "$ROWS" --partitions "$PARTITIONS" --rate "$RATE"
LOADGEN_PID=$SPAWNED

# A process that must stay up has exited: fail with its log.
check_alive() {
    local i st
    for i in $(seq 1 "$NSIDECARS"); do
        if ! kill -0 "${SC_PIDS[$((i - 1))]}" 2>/dev/null; then
            wait "${SC_PIDS[$((i - 1))]}" 2>/dev/null
            st=$?
            log_tail "$DIR/logs/sidecar-$i.log"
            die "sidecar-$i exited (status $st)"
        fi
    done
    kill -0 "$CTL_PID" 2>/dev/null || { log_tail "$DIR/logs/controller.log"; die "the controller exited"; }
    kill -0 "$MOCK_PID" 2>/dev/null || { log_tail "$DIR/logs/kafka-mock.log"; die "kafka-mock exited"; }
    if [ -n "$LOADGEN_PID" ] && ! kill -0 "$LOADGEN_PID" 2>/dev/null; then
        wait "$LOADGEN_PID" 2>/dev/null
        st=$?
        LOADGEN_PID=""
        if [ "$st" -ne 0 ]; then
            log_tail "$DIR/logs/loadgen.log"
            die "sluice loadgen failed (status $st)"
        fi
    fi
}

say "waiting (at most ${TIMEOUT_S}s) until every partition has $WANT committed segments"
LIST=$DIR/segments.json
t0=$SECONDS
while :; do
    check_alive
    if "$SLUICE" table segments --controller "$CTL_URL" --table "$TABLE" >"$LIST.tmp" 2>"$DIR/logs/segments.err"; then
        mv "$LIST.tmp" "$LIST"
        prog=$(qs_check progress "$LIST") && break
        [ $TTY -eq 1 ] && printf '\r  %3ds  DONE segments: %s ' $((SECONDS - t0)) "$prog"
    fi
    if [ $((SECONDS - t0)) -ge "$TIMEOUT_S" ]; then
        [ $TTY -eq 1 ] && printf '\n'
        log_tail "$DIR/logs/segments.err" 3
        die "timed out after ${TIMEOUT_S}s waiting for $WANT DONE segments per partition (${prog:-no listing})"
    fi
    sleep 1
done
[ $TTY -eq 1 ] && printf '\r%-78s\r' ""
say "every partition has $WANT committed segments ($((SECONDS - t0))s)"

# ---- 7. check, summarise ----------------------------------------------------------------------

report "$SETTLE_S" || exit 1
RESULT=0
exit 0
