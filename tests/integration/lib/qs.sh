# The quickstart's cluster as a test fixture (sourced after harness.sh): ZooKeeper, kafka-mock,
# a controller and three sidecars of deploy/quickstart.sh under $T_TMP/qs, stopped at cleanup,
# and a standalone sidecar of the quickstart's table beside it.

# qs_start [VAR=VALUE...]: run the quickstart (220,000 rows, two segments a partition) with
# the extra environment given, and keep it running; sets QS, ZK, CTL and KAFKA.
qs_start() {
  QS=$T_TMP/qs
  at_cleanup qs__stop
  env QS_SKIP_DEPS=1 SLUICE_BUILD="${SLUICE_BUILD:-$(dirname "$SLUICE_BIN")}" QS_ROWS=220000 \
    QS_SEGMENTS=2 QS_RATE=40000 QS_TIMEOUT=150 "$@" \
    timeout 300 "$SLUICE_SRC/deploy/quickstart.sh" --keep-running --dir "$QS" >"$T_TMP/qs.log" 2>&1
  require "the quickstart cluster runs (log: $T_TMP/qs.log)" test $? -eq 0
  ZK=$(sed -n 's/^ZK_CONNECT=//p' "$QS/state")
  CTL=$(sed -n 's/^CTL_URL=//p' "$QS/state")
  KAFKA=$(cat "$QS/kafka.bootstrap")
}
qs__stop() { "$SLUICE_SRC/deploy/quickstart.sh" --stop --dir "$QS" >/dev/null 2>&1; }

# qs_standalone CLUSTER [CONFIG_LINE...]: a standalone sidecar (instance sa-1) consuming
# partition 0 of the quickstart's table into $T_TMP/sa, its log in $T_TMP/sa.log; sets SA (its
# PID, tracked) and waits until it has published a segment.
qs_standalone() {
  local cluster=$1
  shift
  {
    printf '%s\n' "cluster.name = $cluster" "instance.id = sa-1" "mode = standalone" \
      "http.port = 0" "http.bind = 127.0.0.1" "data.dir = $T_TMP/sa" \
      "table.config = $QS/events_table.json" \
      "table.schema = $SLUICE_SRC/deploy/examples/events_schema.json" "partitions = 0"
    printf '%s\n' "$@"
  } >"$T_TMP/sa.conf"
  "$SLUICE_BIN" sidecar --config "$T_TMP/sa.conf" >"$T_TMP/sa.log" 2>&1 &
  SA=$!
  track_pid $SA
  require "the standalone sidecar publishes a segment" \
    wait_for 60 bash -c "ls '$T_TMP/sa/events/'*.seg >/dev/null 2>&1"
}
