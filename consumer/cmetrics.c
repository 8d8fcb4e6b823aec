/* Consumer metric families (see cmetrics.h). */
#include "consumer/cmetrics.h"
#include "common/sl_err.h"

int cmetrics_register(cmetrics *m, metrics_registry *r)
{
    static const char *const tp[] = {"table", "partition"};
    static const char *const tpr[] = {"table", "partition", "reason"};
    static const double build_bounds[] = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60};
    m->rows = metrics_family_new(r, METRICS_COUNTER, "sluice_rows_consumed_total",
                                 "Rows appended to consuming segments", tp, 2);
    m->bytes = metrics_family_new(r, METRICS_COUNTER, "sluice_bytes_consumed_total",
                                  "Kafka message bytes consumed", tp, 2);
    m->filtered = metrics_family_new(r, METRICS_COUNTER, "sluice_rows_filtered_total",
                                     "Messages the table's filterConfig dropped", tp, 2);
    m->bad = metrics_family_new(r, METRICS_COUNTER, "sluice_decode_errors_total",
                                "Malformed messages skipped, by reason", tpr, 3);
    m->lost_ranges =
        metrics_family_new(r, METRICS_COUNTER, "sluice_data_loss_ranges_total",
                           "Offset ranges lost to retention before consumption", tp, 2);
    m->lost_messages = metrics_family_new(r, METRICS_COUNTER, "sluice_data_loss_messages_total",
                                          "Offsets lost to retention before consumption", tp, 2);
    m->lag = metrics_family_new(r, METRICS_GAUGE, "sluice_partition_lag",
                                "High watermark minus the next offset to consume", tp, 2);
    m->lag_seconds = metrics_family_new(
        r, METRICS_GAUGE, "sluice_partition_lag_seconds",
        "While behind: seconds since the Kafka timestamp of the last message consumed (0 when "
        "caught up)",
        tp, 2);
    m->next_offset = metrics_family_new(r, METRICS_GAUGE, "sluice_partition_next_offset",
                                        "Next offset the consuming segment expects", tp, 2);
    m->seg_rows = metrics_family_new(r, METRICS_GAUGE, "sluice_consuming_segment_rows",
                                     "Rows in the consuming (mutable) segment", tp, 2);
    m->seg_bytes = metrics_family_new(r, METRICS_GAUGE, "sluice_consuming_segment_bytes",
                                      "Memory held by the consuming (mutable) segment", tp, 2);
    m->builds = metrics_family_new(r, METRICS_COUNTER, "sluice_segments_built_total",
                                   "Immutable segments built and published", tp, 2);
    m->build_fail = metrics_family_new(r, METRICS_COUNTER, "sluice_segment_build_failures_total",
                                       "Segment builds or publishes that failed", tp, 2);
    m->build_seconds = metrics_histogram_new(
        r, "sluice_segment_build_seconds", "Time to build and publish a segment", tp, 2,
        build_bounds, sizeof build_bounds / sizeof build_bounds[0]);
    if (!m->rows || !m->bytes || !m->filtered || !m->bad || !m->lost_ranges || !m->lost_messages ||
        !m->lag || !m->lag_seconds || !m->next_offset || !m->seg_rows || !m->seg_bytes ||
        !m->builds || !m->build_fail || !m->build_seconds)
        return SL_EEXIST;
    return 0;
}
