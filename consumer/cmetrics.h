/* The partition consumer's Prometheus metric families, registered once per process.
 *
 * Every family is labeled {table, partition} (decode errors add {reason}); pcons creates
 * its children when it starts and removes them when freed, so a partition that moves away
 * leaves no stale series. Names are the contract of docs/metrics.md. */
#ifndef SL_CMETRICS_H
#define SL_CMETRICS_H

#include "common/metrics.h"

typedef struct cmetrics {
    metrics_family *rows;          /* sluice_rows_consumed_total */
    metrics_family *bytes;         /* sluice_bytes_consumed_total */
    metrics_family *filtered;      /* sluice_rows_filtered_total (filterConfig) */
    metrics_family *bad;           /* sluice_decode_errors_total{reason} */
    metrics_family *lost_ranges;   /* sluice_data_loss_ranges_total */
    metrics_family *lost_messages; /* sluice_data_loss_messages_total */
    metrics_family *lag;           /* sluice_partition_lag (callback) */
    metrics_family *lag_seconds;   /* sluice_partition_lag_seconds (callback) */
    metrics_family *next_offset;   /* sluice_partition_next_offset (callback) */
    metrics_family *seg_rows;      /* sluice_consuming_segment_rows (callback) */
    metrics_family *seg_bytes;     /* sluice_consuming_segment_bytes (callback) */
    metrics_family *builds;        /* sluice_segments_built_total */
    metrics_family *build_fail;    /* sluice_segment_build_failures_total */
    metrics_family *build_seconds; /* sluice_segment_build_seconds (histogram) */
} cmetrics;

/* Register the families in r (which must outlive m's use). Returns 0 or SL_EEXIST when
 * they are already registered in r. */
int cmetrics_register(cmetrics *m, metrics_registry *r);

#endif
