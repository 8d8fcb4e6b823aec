/* Issue targets (a) and (c): JSON decode + append rows/s on one core for the example
 * ~250-byte, 11-field event, and mutable-segment bytes per row against raw JSON bytes per
 * row; then the immutable build of that same segment as a sidecar does it (sorted
 * dictionaries, the file written and fsync-ed under a temporary name and renamed: the
 * bench_build figure is a synthetic schema built in memory). Events are sluice loadgen's
 * (chaos/evgen.h), so the figures describe real traffic.
 *
 * Also (c) at 25,000-row segments, the size the memory goal names: the first segment of
 * a partition, and the one after it (mseg_new_like: sized from the first).
 *
 * usage: bench_ingest [SCHEMA.json TABLE.json] [ROWS]   (defaults: deploy/examples, 1000000) */
#include "chaos/evgen.h"
#include "common/clock.h"
#include "common/schema.h"
#include "common/table_config.h"
#include "common/xalloc.h"
#include "consumer/mseg.h"
#include "consumer/rowdec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    const char *sp = argc > 2 ? argv[1] : "deploy/examples/events_schema.json";
    const char *tp = argc > 2 ? argv[2] : "deploy/examples/events_table.json";
    size_t rows = argc == 2  ? strtoull(argv[1], NULL, 10)
                  : argc > 3 ? strtoull(argv[3], NULL, 10)
                             : 1000000;
    char err[512];
    schema *s = schema_load(sp, err, sizeof err);
    tcfg *t = s ? tcfg_load(tp, s, err, sizeof err) : NULL;
    if (!s || !t) {
        fprintf(stderr, "bench_ingest: %s\n", err);
        return 1;
    }
    /* the messages, back to back, as a consumer would see them */
    size_t *off = sl_xmalloc((rows + 1) * sizeof *off);
    char *buf = sl_xmalloc(rows * EVGEN_JSON_MAX);
    off[0] = 0;
    for (size_t i = 0; i < rows; i++)
        off[i + 1] = off[i] + evgen_row_json(1, i, buf + off[i], EVGEN_JSON_MAX);
    double raw_per_row = (double)off[rows] / (double)rows;

    rowdec *d = rowdec_new(s, 0);
    double best_all = 1e30, best_dec = 1e30;
    size_t mem = 0;
    double best_build = 1e30;
    uint64_t file_bytes = 0;
    char path[] = "/tmp/sluice-bench-ingest.XXXXXX";
    int tmpfd = mkstemp(path);
    if (tmpfd < 0) {
        perror("bench_ingest: mkstemp");
        return 1;
    }
    close(tmpfd);
    for (int run = 0; run < 3; run++) {
        /* decode only */
        double t0 = sl_clock_mono_s();
        for (size_t i = 0; i < rows; i++) {
            const row *r;
            if (rowdec_decode(d, (const uint8_t *)buf + off[i], off[i + 1] - off[i], &r)) return 1;
        }
        double t1 = sl_clock_mono_s();
        if (t1 - t0 < best_dec) best_dec = t1 - t0;
        /* decode + append */
        mseg *m = mseg_new(s, t->no_dictionary);
        t0 = sl_clock_mono_s();
        for (size_t i = 0; i < rows; i++) {
            const row *r;
            rowdec_decode(d, (const uint8_t *)buf + off[i], off[i + 1] - off[i], &r);
            mseg_append(m, r);
        }
        t1 = sl_clock_mono_s();
        if (t1 - t0 < best_all) best_all = t1 - t0;
        mem = mseg_memory_bytes(m);
        /* the immutable build of the events segment, file and fsync included */
        seg_meta_in meta = {.name = "events__0__0__20240101T0000Z",
                            .table = "events",
                            .partition = 0,
                            .sequence = 0,
                            .start_offset = 0,
                            .end_offset = (int64_t)rows};
        uint32_t crc = 0;
        t0 = sl_clock_mono_s();
        if (mseg_build_file(m, t->time_column, &meta, path, &crc, &file_bytes, err, sizeof err)) {
            fprintf(stderr, "bench_ingest: build: %s\n", err);
            unlink(path);
            return 1;
        }
        t1 = sl_clock_mono_s();
        if (t1 - t0 < best_build) best_build = t1 - t0;
        mseg_free(m);
    }
    unlink(path);
    /* (c) at small segments: bytes per row of a first and a following 25 k-row segment */
    enum { SMALL = 25000 };
    double small_first = 0, small_next = 0;
    if (rows >= 2 * SMALL) {
        mseg *first = mseg_new(s, t->no_dictionary), *next = NULL;
        for (size_t k = 0; k < 2; k++) {
            mseg *m = k ? (next = mseg_new_like(first)) : first;
            for (size_t i = k * SMALL; i < (k + 1) * SMALL; i++) {
                const row *r;
                rowdec_decode(d, (const uint8_t *)buf + off[i], off[i + 1] - off[i], &r);
                mseg_append(m, r);
            }
            *(k ? &small_next : &small_first) = (double)mseg_memory_bytes(m) / SMALL;
        }
        mseg_free(first);
        mseg_free(next);
    }
    double mseg_per_row = (double)mem / (double)rows;
    printf("| measure (%zu rows, best of 3, one core) | value | target |\n|---|---|---|\n", rows);
    printf("| (a) JSON decode + append | %.0f rows/s | >= 1000000 rows/s |\n", rows / best_all);
    printf("|     decode only (rowdec) | %.0f rows/s | |\n", rows / best_dec);
    printf("|     append only (derived) | %.0f rows/s | |\n",
           rows / (best_all - best_dec > 1e-9 ? best_all - best_dec : 1e-9));
    printf("| raw JSON bytes per row | %.1f | |\n", raw_per_row);
    printf("| (c) mutable segment bytes per row | %.1f | |\n", mseg_per_row);
    printf("| (c) ratio mutable / raw | %.3f | <= 0.3 |\n", mseg_per_row / raw_per_row);
    if (small_first > 0) {
        printf(
            "| (c) at 25000-row segments: the first, bytes per row | %.1f (%.3f of raw) | <= 0.3 "
            "of raw |\n",
            small_first, small_first / raw_per_row);
        printf(
            "| (c) at 25000-row segments: the next (sized like the first) | %.1f (%.3f of raw) | "
            "<= 0.3 of raw |\n",
            small_next, small_next / raw_per_row);
    }
    printf("| (b) events segment build, file written and fsync-ed | %.0f rows/s | |\n",
           rows / best_build);
    printf("|     segment file bytes per row | %.1f | |\n", (double)file_bytes / (double)rows);
    rowdec_free(d);
    tcfg_free(t);
    schema_free(s);
    free(buf);
    free(off);
    return 0;
}
