/* Dead-letter sink: malformed messages and data-loss events as JSON lines in a file.
 *
 *   {"table":"t","partition":3,"offset":42,"reason":"malformed_json","payload":"<base64>"}
 *   {"table":"t","partition":3,"reason":"data_loss","from":100,"to":250}
 *
 * Each record is one write(2) on an O_APPEND descriptor, so records from many partitions
 * and threads never interleave. @locality: any thread. */
#ifndef SL_DLQ_H
#define SL_DLQ_H

#include <stddef.h>
#include <stdint.h>

typedef struct dlq dlq;

/* Open (create or append to) path. NULL with "PATH: reason" in err on failure. Caller frees
 * with dlq_close. */
dlq *dlq_open(const char *path, char *err, size_t errlen);

/* Record a malformed message; payload is copied (padded base64, common/base64.h). Returns 0
 * or SL_EIO. */
int dlq_write_bad(dlq *d, const char *table, int32_t partition, int64_t offset,
                  const char *reason, const uint8_t *payload, size_t len);

/* Record lost offsets [from, to). Returns 0 or SL_EIO. */
int dlq_write_loss(dlq *d, const char *table, int32_t partition, int64_t from, int64_t to);

void dlq_close(dlq *d);

#endif
