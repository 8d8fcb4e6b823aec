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

/* Record a malformed message; payload is copied (base64). Returns 0 or SL_EIO. */
int dlq_write_bad(dlq *d, const char *table, int32_t partition, int64_t offset,
                  const char *reason, const uint8_t *payload, size_t len);

/* Record lost offsets [from, to). Returns 0 or SL_EIO. */
int dlq_write_loss(dlq *d, const char *table, int32_t partition, int64_t from, int64_t to);

/* Standard base64 (RFC 4648, padded) of in[0..len) into out, which must hold
 * 4 * ((len + 2) / 3) + 1 bytes; returns the length written (NUL not counted). */
size_t dlq_base64(const uint8_t *in, size_t len, char *out);

void dlq_close(dlq *d);

#endif
