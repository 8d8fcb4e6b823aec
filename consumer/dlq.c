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

size_t dlq_base64(const uint8_t *in, size_t len, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0, i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = tab[v >> 18];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = tab[(v >> 6) & 63];
        out[o++] = tab[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0);
        out[o++] = tab[v >> 18];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
    return o;
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
    char *b64 = sl_xmalloc(4 * ((len + 2) / 3) + 1);
    size_t n = dlq_base64(payload, len, b64);
    jsonw_str(&w, b64, n);
    free(b64);
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
