/* Segment name grammar (see segname.h). */
#include "segment/segname.h"
#include "common/sl_err.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define SEGNAME_SEQ_MAX (INT64_C(1) << 53)

bool segname_valid_table(const char *t)
{
    return ident_valid(t);
}

/* Decimal without sign or leading zeros, at most max. */
static bool segname__num(const char *s, size_t n, int64_t max, int64_t *out)
{
    if (n == 0 || n > 19 || (n > 1 && s[0] == '0')) return false;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        if (v > (max - (s[i] - '0')) / 10) return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static bool segname__digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

int segname_format(char *buf, size_t cap, const char *table, int32_t partition,
                   int64_t sequence, int64_t time_ms)
{
    if (!segname_valid_table(table) || partition < 0 || sequence < 0 ||
        sequence > SEGNAME_SEQ_MAX || time_ms < 0)
        return SL_EINVAL;
    time_t secs = (time_t)(time_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    if (tm.tm_year + 1900 > 9999) return SL_EINVAL;
    int n = snprintf(buf, cap, "%s__%" PRId32 "__%" PRId64 "__%04d%02d%02dT%02d%02dZ", table,
                     partition, sequence, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min);
    return n > 0 && (size_t)n < cap ? 0 : SL_EINVAL;
}

int segname_parse(const char *name, segname *out)
{
    size_t n = strnlen(name, SL_SEGNAME_MAX);
    if (n >= SL_SEGNAME_MAX || n < 20) return SL_EINVAL;
    /* the last three "__"-separated parts are fixed-shape; the table is what precedes them */
    const char *tpart = name + n - 14;
    if (tpart < name + 2 || tpart[-1] != '_' || tpart[-2] != '_') return SL_EINVAL;
    /* walk back over the sequence digits, then the partition digits */
    const char *e2 = tpart - 2, *p2 = e2;
    while (p2 > name && p2[-1] >= '0' && p2[-1] <= '9') p2--;
    if (p2 - name < 2 || p2[-1] != '_' || p2[-2] != '_') return SL_EINVAL;
    const char *e1 = p2 - 2, *p1 = e1;
    while (p1 > name && p1[-1] >= '0' && p1[-1] <= '9') p1--;
    if (p1 - name < 3 || p1[-1] != '_' || p1[-2] != '_') return SL_EINVAL;
    size_t tlen = (size_t)(p1 - 2 - name);
    if (tlen > SL_IDENT_MAX) return SL_EINVAL;
    memcpy(out->table, name, tlen);
    out->table[tlen] = '\0';
    if (!segname_valid_table(out->table)) return SL_EINVAL;
    int64_t part, seq;
    if (!segname__num(p1, (size_t)(e1 - p1), INT32_MAX, &part) ||
        !segname__num(p2, (size_t)(e2 - p2), SEGNAME_SEQ_MAX, &seq))
        return SL_EINVAL;
    int y, mo, d, h, mi;
    if (tpart[8] != 'T' || tpart[13] != 'Z' || !segname__digits(tpart, 4, &y) ||
        !segname__digits(tpart + 4, 2, &mo) || !segname__digits(tpart + 6, 2, &d) ||
        !segname__digits(tpart + 9, 2, &h) || !segname__digits(tpart + 11, 2, &mi))
        return SL_EINVAL;
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
        (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59)
        return SL_EINVAL;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
    out->partition = (int32_t)part;
    out->sequence = seq;
    out->time_ms = (int64_t)timegm(&tm) * 1000;
    return 0;
}

bool segname_of_file(const char *file, const char *table, char *name, segname *out)
{
    size_t len = strlen(file);
    if (len < 5 || len - 4 >= SL_SEGNAME_MAX || strcmp(file + len - 4, ".seg") != 0) return false;
    memcpy(name, file, len - 4);
    name[len - 4] = '\0';
    return segname_parse(name, out) == 0 && strcmp(out->table, table) == 0;
}

bool segname_valid_any(const char *name)
{
    size_t n = strnlen(name, SL_SEGNAME_MAX);
    if (n == 0 || n >= SL_SEGNAME_MAX || name[0] == '.') return false;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '-'))
            return false;
    }
    return true;
}

bool segname_is_uploaded(const char *name)
{
    segname sn;
    return segname_valid_any(name) && segname_parse(name, &sn) != 0;
}

int segname_parse_uploaded_realtime(const char *name, segname *out)
{
    if (!segname_valid_any(name)) return SL_EINVAL;
    /* five "__"-separated parts; the table itself has no "__" (ident grammar) */
    const char *part[5];
    size_t len[5], np = 0;
    const char *p = name;
    while (np < 5) {
        const char *sep = strstr(p, "__");
        part[np] = p;
        len[np] = sep ? (size_t)(sep - p) : strlen(p);
        np++;
        if (!sep) break;
        p = sep + 2;
    }
    if (np != 5 || strstr(part[4], "__") || len[0] == 0 || len[4] == 0 || len[1] > SL_IDENT_MAX)
        return SL_EINVAL;
    /* the middle three are a realtime name's table, partition and time with sequence 0 */
    char rt[SL_SEGNAME_MAX];
    int n = snprintf(rt, sizeof rt, "%.*s__%.*s__0__%.*s", (int)len[1], part[1], (int)len[2],
                     part[2], (int)len[3], part[3]);
    if (n <= 0 || (size_t)n >= sizeof rt || segname_parse(rt, out) != 0) return SL_EINVAL;
    out->sequence = -1;
    return 0;
}

bool segname_any_of_file(const char *file, char *name)
{
    size_t len = strlen(file);
    if (len < 5 || len - 4 >= SL_SEGNAME_MAX || strcmp(file + len - 4, ".seg") != 0) return false;
    memcpy(name, file, len - 4);
    name[len - 4] = '\0';
    return segname_valid_any(name);
}
