/* JSON-lines history of a chaos run (history.h). */
#include "chaos/history.h"
#include "common/clock.h"
#include "common/jsonw.h"
#include "common/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

struct hist {
    FILE *f;
    int64_t t0; /* monotonic ms at hist_open */
};

hist *hist_open(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) return NULL;
    hist *h = sl_xcalloc(1, sizeof *h);
    h->f = f;
    h->t0 = sl_clock_mono_ms();
    return h;
}

int64_t hist_elapsed_ms(const hist *h)
{
    return sl_clock_mono_ms() - h->t0;
}

void hist_add(hist *h, const char *kind, const char *target, const char *fmt, ...)
{
    if (!h) return;
    va_list ap;
    va_start(ap, fmt);
    char *detail = sl_xvasprintf(fmt, ap);
    va_end(ap);
    jsonw w;
    jsonw_init(&w);
    jsonw_obj_begin(&w);
    jsonw_key(&w, "t_ms");
    jsonw_i64(&w, hist_elapsed_ms(h));
    jsonw_key(&w, "kind");
    jsonw_cstr(&w, kind);
    jsonw_key(&w, "target");
    jsonw_cstr(&w, target ? target : "");
    jsonw_key(&w, "detail");
    jsonw_cstr(&w, detail);
    jsonw_obj_end(&w);
    fprintf(h->f, "%s\n", w.buf);
    fflush(h->f);
    jsonw_free(&w);
    free(detail);
}

void hist_close(hist *h)
{
    if (!h) return;
    fclose(h->f);
    free(h);
}
