/* Deterministic rows for any Pinot schema (see rowgen.h). */
#include "chaos/rowgen.h"
#include "common/xalloc.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROWGEN_LONG_STRING 1000
#define ROWGEN_MAX_VALUES 3

typedef enum rowgen_time {
    ROWGEN_TIME_NONE = 0, /* not a date-time field, or a format we do not generate */
    ROWGEN_TIME_EPOCH,
    ROWGEN_TIME_SDF
} rowgen_time;

typedef struct rowgen_field {
    rowgen_time time;
    int64_t unit_ms; /* EPOCH: milliseconds per unit times the size */
    char *pattern;   /* SIMPLE_DATE_FORMAT: the pattern; owned */
} rowgen_field;

struct rowgen {
    const schema *s;
    rowgen_field *f; /* one per schema field */
};

/* The milliseconds of a Pinot time unit name, 0 for another word. */
static int64_t rowgen__unit_ms(const char *u, size_t n)
{
    static const struct {
        const char *name;
        int64_t ms;
    } units[] = {{"MILLISECONDS", 1},
                 {"SECONDS", 1000},
                 {"MINUTES", 60000},
                 {"HOURS", 3600000},
                 {"DAYS", 86400000}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strlen(units[i].name) == n && strncmp(u, units[i].name, n) == 0) return units[i].ms;
    return 0;
}

/* The parts of a format split at sep (at most 4; the last one keeps the rest). */
static int rowgen__split(const char *fmt, char sep, const char *part[4], size_t len[4])
{
    int n = 0;
    const char *p = fmt;
    while (n < 4) {
        const char *e = n < 3 ? strchr(p, sep) : NULL;
        part[n] = p;
        len[n] = e ? (size_t)(e - p) : strlen(p);
        n++;
        if (!e) break;
        p = e + 1;
    }
    return n;
}

/* Parse a dateTimeFieldSpec format, old ("1:DAYS:EPOCH", "1:DAYS:SIMPLE_DATE_FORMAT:yyyyMMdd")
 * or new ("EPOCH|SECONDS|1", "SIMPLE_DATE_FORMAT|yyyy-MM-dd", "TIMESTAMP"). */
static void rowgen__format(const char *fmt, rowgen_field *f)
{
    const char *part[4] = {0};
    size_t len[4] = {0};
    if (!fmt) return;
    if (strchr(fmt, '|') || !strchr(fmt, ':')) {
        int n = rowgen__split(fmt, '|', part, len);
        if (len[0] == 5 && strncmp(part[0], "EPOCH", 5) == 0) {
            int64_t ms = n > 1 ? rowgen__unit_ms(part[1], len[1]) : 1;
            long size = n > 2 ? strtol(part[2], NULL, 10) : 1;
            if (ms > 0 && size > 0) {
                f->time = ROWGEN_TIME_EPOCH;
                f->unit_ms = ms * size;
            }
        } else if (len[0] == 9 && strncmp(part[0], "TIMESTAMP", 9) == 0) {
            f->time = ROWGEN_TIME_EPOCH;
            f->unit_ms = 1;
        } else if (len[0] == 18 && strncmp(part[0], "SIMPLE_DATE_FORMAT", 18) == 0 && n > 1) {
            f->time = ROWGEN_TIME_SDF;
            f->pattern = sl_xmemdupz(part[1], len[1]);
        }
        return;
    }
    int n = rowgen__split(fmt, ':', part, len);
    if (n < 3) return;
    long size = strtol(part[0], NULL, 10);
    int64_t ms = rowgen__unit_ms(part[1], len[1]);
    if (len[2] == 5 && strncmp(part[2], "EPOCH", 5) == 0 && ms > 0 && size > 0) {
        f->time = ROWGEN_TIME_EPOCH;
        f->unit_ms = ms * size;
    } else if (len[2] == 9 && strncmp(part[2], "TIMESTAMP", 9) == 0) {
        f->time = ROWGEN_TIME_EPOCH;
        f->unit_ms = 1;
    } else if (len[2] == 18 && strncmp(part[2], "SIMPLE_DATE_FORMAT", 18) == 0 && n == 4) {
        f->time = ROWGEN_TIME_SDF;
        f->pattern = sl_xmemdupz(part[3], len[3]);
    }
}

rowgen *rowgen_new(const schema *s)
{
    rowgen *g = sl_xcalloc(1, sizeof *g);
    g->s = s;
    g->f = sl_xcalloc(s->nfields ? s->nfields : 1, sizeof *g->f);
    for (uint32_t i = 0; i < s->nfields; i++)
        if (s->fields[i].role == SCHEMA_DATETIME) rowgen__format(s->fields[i].format, &g->f[i]);
    return g;
}

void rowgen_free(rowgen *g)
{
    if (!g) return;
    for (uint32_t i = 0; i < g->s->nfields; i++)
        free(g->f[i].pattern);
    free(g->f);
    free(g);
}

/* splitmix64 of the inputs: the draw number k of field i of row id. */
static uint64_t rowgen__draw(uint64_t seed, uint64_t id, uint32_t i, uint32_t k)
{
    uint64_t z = seed * UINT64_C(0x9E3779B97F4A7C15) ^ id * UINT64_C(0xD1B54A32D192ED03) ^
                 ((uint64_t)i << 32 | k) * UINT64_C(0x94D049BB133111EB);
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* A Java date pattern formatted from tm (ms: the milliseconds), into w as a string: y M (MMM
 * Nov, MMMM November) d H h a m s S, and Z X as UTC ("+0000", "Z"); a quoted 'text' and
 * every other character kept literally. */
static void rowgen__sdf(jsonw *w, const char *pat, const struct tm *tm, int ms)
{
    char out[256];
    size_t o = 0;
    for (const char *p = pat; *p && o + 16 < sizeof out;) {
        if (*p == '\'') {
            for (p++; *p && *p != '\'' && o + 1 < sizeof out; p++)
                out[o++] = *p;
            if (*p) p++;
            continue;
        }
        size_t run = 1;
        while (p[run] == p[0])
            run++;
        static const char *const months[] = {"January", "February", "March",     "April",
                                             "May",     "June",     "July",      "August",
                                             "September", "October", "November", "December"};
        int v = -1, width = (int)run;
        const char *text = NULL;
        size_t tlen = 0;
        switch (*p) {
        case 'y':
            v = tm->tm_year + 1900;
            if (run == 2) v %= 100;
            break;
        case 'M':
            if (run >= 3) { /* Nov, November */
                text = months[tm->tm_mon];
                tlen = run == 3 ? 3 : strlen(text);
            } else {
                v = tm->tm_mon + 1;
            }
            break;
        case 'd': v = tm->tm_mday; break;
        case 'H': v = tm->tm_hour; break;
        case 'h': v = tm->tm_hour % 12 ? tm->tm_hour % 12 : 12; break;
        case 'a':
            text = tm->tm_hour < 12 ? "AM" : "PM";
            tlen = 2;
            break;
        case 'm': v = tm->tm_min; break;
        case 's': v = tm->tm_sec; break;
        case 'S':
            v = ms;
            width = 3;
            break;
        case 'Z': text = "+0000", tlen = 5; break; /* UTC */
        case 'X': text = "Z", tlen = 1; break;
        default: break;
        }
        if (text) {
            for (size_t k = 0; k < tlen && o + 1 < sizeof out; k++) out[o++] = text[k];
        } else if (v < 0) {
            for (size_t k = 0; k < run && o + 1 < sizeof out; k++) out[o++] = *p;
        } else {
            o += (size_t)snprintf(out + o, sizeof out - o, "%0*d", width > 9 ? 9 : width, v);
        }
        p += run;
    }
    jsonw_str(w, out, o);
}

/* One value of field i's type: draw numbers from (seed, id, i, k..). */
static void rowgen__value(const rowgen *g, uint32_t i, uint64_t seed, uint64_t id, uint32_t k,
                          jsonw *w)
{
    const schema_field *f = &g->s->fields[i];
    uint64_t r = rowgen__draw(seed, id, i, k), r2 = rowgen__draw(seed, id, i, k + 1000);
    bool extreme = r2 % 32 == 0;
    int64_t small = (int64_t)(r % 2000001) - 1000000;
    switch (f->type) {
    case SCHEMA_INT: {
        static const int32_t x[] = {INT32_MIN, INT32_MAX, 0, -1};
        jsonw_i64(w, extreme ? x[(r2 >> 8) % 4] : (int32_t)small);
        break;
    }
    case SCHEMA_LONG: {
        static const int64_t x[] = {INT64_MIN, INT64_MAX, 0, -1};
        jsonw_i64(w, extreme ? x[(r2 >> 8) % 4] : small * 1000003);
        break;
    }
    case SCHEMA_FLOAT:
        jsonw_f32(w, (float)((double)small / 1000.0));
        break;
    case SCHEMA_DOUBLE:
        jsonw_f64(w, (double)small / 1000.0);
        break;
    case SCHEMA_BOOLEAN:
        jsonw_bool(w, r & 1);
        break;
    case SCHEMA_TIMESTAMP:
        jsonw_i64(w, ROWGEN_TS_BASE + (int64_t)id * ROWGEN_TS_STEP);
        break;
    case SCHEMA_BYTES: {
        uint8_t b[16];
        size_t n = r2 % 17;
        for (size_t j = 0; j < n; j++)
            b[j] = (uint8_t)(rowgen__draw(seed, id, i, k + 2000 + (uint32_t)j) >> 24);
        jsonw_hex(w, b, n);
        break;
    }
    case SCHEMA_STRING:
    default: {
        char buf[ROWGEN_LONG_STRING + 1];
        size_t n;
        if (r2 % 32 == 1) {
            n = 0;
        } else if (r2 % 64 == 2) {
            n = (size_t)snprintf(buf, sizeof buf, "%.40s \"q\" \\ \xc3\xa9-%u", f->name,
                                 (unsigned)(r % 1000));
        } else if (r2 % 128 == 3) {
            n = ROWGEN_LONG_STRING;
            for (size_t j = 0; j < n; j++)
                buf[j] = (char)('a' + (r + j) % 26);
        } else {
            n = (size_t)snprintf(buf, sizeof buf, "%.64s-%u", f->name, (unsigned)(r % 1000));
        }
        jsonw_str(w, buf, n < sizeof buf ? n : sizeof buf - 1);
        break;
    }
    }
}

void rowgen_row(const rowgen *g, uint64_t seed, uint64_t id, jsonw *w)
{
    int64_t t_ms = ROWGEN_TS_BASE + (int64_t)id * ROWGEN_TS_STEP;
    jsonw_obj_begin(w);
    for (uint32_t i = 0; i < g->s->nfields; i++) {
        const schema_field *f = &g->s->fields[i];
        const rowgen_field *rf = &g->f[i];
        jsonw_key(w, f->name);
        if (rf->time == ROWGEN_TIME_EPOCH) {
            int64_t v = t_ms / rf->unit_ms;
            if (f->type == SCHEMA_STRING) {
                char num[24];
                jsonw_str(w, num, (size_t)snprintf(num, sizeof num, "%lld", (long long)v));
            } else {
                jsonw_i64(w, v);
            }
        } else if (rf->time == ROWGEN_TIME_SDF) {
            time_t secs = (time_t)(t_ms / 1000);
            struct tm tm;
            gmtime_r(&secs, &tm);
            rowgen__sdf(w, rf->pattern, &tm, (int)(t_ms % 1000));
        } else if (!f->single_value) {
            uint32_t n = (uint32_t)(rowgen__draw(seed, id, i, 999) % (ROWGEN_MAX_VALUES + 1));
            jsonw_arr_begin(w);
            for (uint32_t k = 0; k < n; k++)
                rowgen__value(g, i, seed, id, k * 3000, w);
            jsonw_arr_end(w);
        } else {
            rowgen__value(g, i, seed, id, 0, w);
        }
    }
    jsonw_obj_end(w);
}
