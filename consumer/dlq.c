/* Dead-letter sink (see dlq.h). */
#include "consumer/dlq.h"
#include "common/jsonw.h"
#include "common/sl_err.h"
#include "common/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct dlq {
    int fd;
};

dlq *dlq_open(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    dlq *d = sl_xmalloc(sizeof *d);
    d->fd = fd;
    return d;
}

static int dlq__emit(dlq *d, jsonw *w)
{
    jsonw_text(w, "\n", 1);
    ssize_t n = write(d->fd, w->buf, w->len);
    int rc = n == (ssize_t)w->len ? 0 : SL_EIO;
    jsonw_free(w);
    return rc;
}

int dlq_write_bad(dlq *d, const char *table, int32_t partition, int64_t offset,
                  const char *reason, const uint8_t *payload, size_t len)
{
    jsonw w;
    jsonw_init(&w);
    jsonw_obj_begin(&w);
    jsonw_key(&w, "table");
    jsonw_cstr(&w, table);
    jsonw_key(&w, "partition");
    jsonw_i64(&w, partition);
    jsonw_key(&w, "offset");
    jsonw_i64(&w, offset);
    jsonw_key(&w, "reason");
    jsonw_cstr(&w, reason);
    jsonw_key(&w, "payload");
    jsonw_base64(&w, payload, len);
    jsonw_obj_end(&w);
    return dlq__emit(d, &w);
}

int dlq_write_loss(dlq *d, const char *table, int32_t partition, int64_t from, int64_t to)
{
    jsonw w;
    jsonw_init(&w);
    jsonw_obj_begin(&w);
    jsonw_key(&w, "table");
    jsonw_cstr(&w, table);
    jsonw_key(&w, "partition");
    jsonw_i64(&w, partition);
    jsonw_key(&w, "reason");
    jsonw_cstr(&w, "data_loss");
    jsonw_key(&w, "from");
    jsonw_i64(&w, from);
    jsonw_key(&w, "to");
    jsonw_i64(&w, to);
    jsonw_obj_end(&w);
    return dlq__emit(d, &w);
}

void dlq_close(dlq *d)
{
    if (!d) return;
    close(d->fd);
    free(d);
}
