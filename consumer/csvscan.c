/* CSV field scanner (consumer/csvscan.h): Commons CSV's lexer rules, as Pinot's
 * CSVMessageDecoder runs it, over one message.
 *
 * A run copies the message (as Java's UTF-8 reader decodes it: invalid bytes become U+FFFD),
 * reads the header record when the config gives none, then the first data record, whose
 * cells are unescaped into `cell` text. Each wanted field takes the cell of its column. */
#include "consumer/csvscan.h"

#include "common/jsonw.h"
#include "common/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct csvscan_cell {
    uint32_t off, len; /* in s->cell */
    bool quoted;
} csvscan_cell;

struct csvscan {
    const tcfg_csv *o;
    uint32_t n;   /* wanted fields */
    char **names; /* wanted names, owned */
    uint32_t *lens;
    int32_t *col_of; /* with a configured or a file's header: per column its wanted field or -1 */
    uint32_t ncol_of;
    size_t text_cells; /* text mode: the s->cell bytes the file's header keeps */
    size_t rec_start;  /* text mode: where the last record read began */
    scanvals sv;     /* the values of the message (the selected row) */
    char *buf;       /* the message as UTF-8 text */
    size_t buf_cap, len, pos;
    char *cell; /* the cells' unescaped text */
    size_t cell_cap, cell_used;
    csvscan_cell *cells; /* the record read last */
    uint32_t ncells, cells_cap;
    csvscan_cell *hdr; /* a message's own header record (no header configured) */
    uint32_t nhdr, hdr_cap;
    char err[160];
};

/* col_of for a header of n names (names[c], lens[c] bytes; lens NULL: NUL-terminated).
 * Commons CSV maps a repeated header name to its last column. */
static void map_columns(csvscan *s, const char *const *names, const uint32_t *lens, uint32_t n)
{
    free(s->col_of);
    s->col_of = sl_xcalloc(n ? n : 1, sizeof *s->col_of);
    s->ncol_of = n;
    for (uint32_t c = 0; c < n; c++) {
        size_t lc = lens ? lens[c] : strlen(names[c]);
        s->col_of[c] = -1;
        bool later = false;
        for (uint32_t c2 = c + 1; c2 < n; c2++)
            later |=
                (lens ? lens[c2] : strlen(names[c2])) == lc && memcmp(names[c], names[c2], lc) == 0;
        for (uint32_t i = 0; i < s->n && !later; i++)
            if (s->col_of[c] < 0 && lc == s->lens[i] && memcmp(names[c], s->names[i], lc) == 0)
                s->col_of[c] = (int32_t)i;
    }
}

csvscan *csvscan_new(const char *const *names, const uint32_t *lens, uint32_t n, const tcfg_csv *o)
{
    csvscan *s = sl_xcalloc(1, sizeof *s);
    s->o = o;
    s->n = n;
    s->names = sl_xcalloc(n ? n : 1, sizeof *s->names);
    s->lens = sl_xcalloc(n ? n : 1, sizeof *s->lens);
    scanvals_init(&s->sv, n);
    for (uint32_t i = 0; i < n; i++) {
        s->names[i] = sl_xmemdupz(names[i], lens[i]);
        s->lens[i] = lens[i];
    }
    if (o->header) map_columns(s, (const char *const *)o->header, NULL, o->nheader);
    return s;
}

void csvscan_free(csvscan *s)
{
    if (!s) return;
    for (uint32_t i = 0; i < s->n; i++)
        free(s->names[i]);
    free(s->names);
    free(s->lens);
    free(s->col_of);
    scanvals_free(&s->sv);
    free(s->buf);
    free(s->cell);
    free(s->cells);
    free(s->hdr);
    free(s);
}

const scanvals *csvscan_vals(const csvscan *s)
{
    return &s->sv;
}

const char *csvscan_error_text(const csvscan *s)
{
    return s->err;
}

/* ---- the lexer ------------------------------------------------------------------------- */

#define CSV_EOF (-1)

static int peek(const csvscan *s)
{
    return s->pos < s->len ? (unsigned char)s->buf[s->pos] : CSV_EOF;
}

static int next(csvscan *s)
{
    return s->pos < s->len ? (unsigned char)s->buf[s->pos++] : CSV_EOF;
}

/* Java's Character.isWhitespace over ASCII. */
static bool is_space(int c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1C && c <= 0x1F);
}

/* c ends a line (CR, LF, or CR LF, whose LF is consumed). */
static bool end_of_line(csvscan *s, int c)
{
    if (c == '\r' && peek(s) == '\n') s->pos++;
    return c == '\r' || c == '\n';
}

static void put(csvscan *s, int c)
{
    s->cell[s->cell_used++] = (char)c; /* cell_cap >= the message: text only shrinks */
}

/* After the escape character: what it stands for (Commons CSV's readEscape). -1 at the end of
 * the text; -2 for a character it does not escape, which is then kept with the escape. */
static int escaped(csvscan *s)
{
    int c = next(s);
    const tcfg_csv *o = s->o;
    switch (c) {
    case 'r':
        return '\r';
    case 'n':
        return '\n';
    case 't':
        return '\t';
    case 'b':
        return '\b';
    case 'f':
        return '\f';
    case '\r':
    case '\n':
    case '\t':
    case '\b':
    case '\f':
        return c;
    case CSV_EOF:
        return -1;
    default:
        if (c == o->delimiter || c == o->escape || c == o->quote || c == o->comment) return c;
        return -2;
    }
}

static int put_escape(csvscan *s)
{
    int e = escaped(s);
    if (e == -1) {
        snprintf(s->err, sizeof s->err, "the text ends after an escape character");
        return -1;
    }
    if (e == -2) {
        put(s, s->o->escape);
        put(s, (unsigned char)s->buf[s->pos - 1]);
    } else {
        put(s, e);
    }
    return 0;
}

typedef enum csv_end { CSV_END_CELL, CSV_END_RECORD, CSV_END_TEXT } csv_end;

/* One quoted cell after its opening quote; *end says what follows it. */
static int quoted_cell(csvscan *s, csv_end *end)
{
    const tcfg_csv *o = s->o;
    for (;;) {
        int c = next(s);
        if (c == CSV_EOF) {
            snprintf(s->err, sizeof s->err, "the text ends inside a quoted value");
            return -1;
        }
        if (c == o->escape) {
            if (put_escape(s)) return -1;
        } else if (c == o->quote) {
            if (peek(s) == o->quote) {
                put(s, next(s));
                continue;
            }
            for (;;) { /* only whitespace may follow the closing quote */
                c = next(s);
                if (c == o->delimiter) {
                    *end = CSV_END_CELL;
                    return 0;
                }
                if (c == CSV_EOF) {
                    *end = CSV_END_TEXT;
                    return 0;
                }
                if (end_of_line(s, c)) {
                    *end = CSV_END_RECORD;
                    return 0;
                }
                if (!is_space(c)) {
                    snprintf(s->err, sizeof s->err,
                             "invalid character between a closing quote and the delimiter");
                    return -1;
                }
            }
        } else {
            put(s, c);
        }
    }
}

/* One unquoted cell starting at c. */
static int simple_cell(csvscan *s, int c, csv_end *end)
{
    const tcfg_csv *o = s->o;
    size_t start = s->cell_used;
    for (;; c = next(s)) {
        if (c == CSV_EOF) {
            *end = CSV_END_TEXT;
            break;
        }
        if (c == o->delimiter) {
            *end = CSV_END_CELL;
            break;
        }
        if (end_of_line(s, c)) {
            *end = CSV_END_RECORD;
            break;
        }
        if (c == o->escape) {
            if (put_escape(s)) return -1;
        } else {
            put(s, c);
        }
    }
    if (o->ignore_surrounding_spaces)
        while (s->cell_used > start && is_space((unsigned char)s->cell[s->cell_used - 1]))
            s->cell_used--;
    return 0;
}

/* The next record into s->cells; *got false at the end of the text. */
static int read_record(csvscan *s, bool *got)
{
    const tcfg_csv *o = s->o;
    *got = false;
    s->ncells = 0;
    for (;;) { /* skip comment lines and, if so configured, empty ones */
        int c = peek(s);
        if (c == CSV_EOF) return 0;
        if (o->comment >= 0 && c == o->comment) {
            while ((c = next(s)) != CSV_EOF && !end_of_line(s, c)) {
            }
            continue;
        }
        if (o->ignore_empty_lines && (c == '\r' || c == '\n')) {
            end_of_line(s, next(s));
            continue;
        }
        break;
    }
    for (;;) {
        if (s->ncells == s->cells_cap) {
            s->cells_cap = s->cells_cap ? s->cells_cap * 2 : 16;
            s->cells = sl_xrealloc(s->cells, s->cells_cap * sizeof *s->cells);
        }
        csvscan_cell *cell = &s->cells[s->ncells++];
        cell->off = (uint32_t)s->cell_used;
        cell->quoted = false;
        int c = next(s);
        while (o->ignore_surrounding_spaces && is_space(c) && c != o->delimiter && c != '\r' &&
               c != '\n')
            c = next(s);
        csv_end end;
        if (c == o->delimiter) {
            end = CSV_END_CELL;
        } else if (c != CSV_EOF && end_of_line(s, c)) {
            end = CSV_END_RECORD;
        } else if (c != CSV_EOF && c == o->quote) {
            cell->quoted = true;
            if (quoted_cell(s, &end)) return -1;
        } else if (c == CSV_EOF) {
            end = CSV_END_TEXT; /* an empty last cell after a delimiter */
        } else if (simple_cell(s, c, &end)) {
            return -1;
        }
        cell->len = (uint32_t)(s->cell_used - cell->off);
        if (end != CSV_END_CELL) break;
    }
    *got = true;
    return 0;
}

/* ---- values ---------------------------------------------------------------------------- */

/* A cell as Pinot's extractor gives it: null when empty or the nullStringValue, else its
 * text, split at the multi-value delimiter (empty parts dropped) when that leaves two or
 * more values (one value: the cell as it is, delimiters and all). */
static void cell_value(csvscan *s, const csvscan_cell *c, jsonscan_val *v)
{
    const tcfg_csv *o = s->o;
    const char *p = s->cell + c->off;
    memset(v, 0, sizeof *v);
    v->kind = JSONSCAN_NULL;
    if (c->len == 0) return;
    if (o->null_string && strlen(o->null_string) == c->len &&
        memcmp(o->null_string, p, c->len) == 0 && !(c->quoted && o->strict_quote))
        return;
    v->kind = JSONSCAN_STRING;
    v->text = p;
    v->len = c->len;
    if (o->mv_delimiter < 0) return;
    uint32_t parts = 0;
    for (uint32_t i = 0; i < c->len;) {
        while (i < c->len && p[i] == (char)o->mv_delimiter)
            i++;
        if (i < c->len) parts++;
        while (i < c->len && p[i] != (char)o->mv_delimiter)
            i++;
    }
    if (parts < 2) return;
    uint32_t first = s->sv.nelems;
    for (uint32_t i = 0; i < c->len;) {
        while (i < c->len && p[i] == (char)o->mv_delimiter)
            i++;
        uint32_t b = i;
        while (i < c->len && p[i] != (char)o->mv_delimiter)
            i++;
        if (i > b) {
            jsonscan_val *e = scanvals_push(&s->sv);
            memset(e, 0, sizeof *e);
            e->kind = JSONSCAN_STRING;
            e->text = p + b;
            e->len = i - b;
        }
    }
    v->kind = JSONSCAN_LIST;
    v->text = NULL;
    v->len = 0;
    v->v.list.first = first;
    v->v.list.count = parts;
}

/* msg as the text to read: as Java's reader decodes it, invalid UTF-8 becomes U+FFFD (3
 * bytes for 1 at most); a leading BOM is skipped. */
static void load(csvscan *s, const uint8_t *msg, size_t len)
{
    s->err[0] = '\0';
    size_t need = len * 3 + 1;
    if (need > s->buf_cap) {
        s->buf_cap = need;
        s->buf = sl_xrealloc(s->buf, need);
        s->cell_cap = need;
        s->cell = sl_xrealloc(s->cell, need);
    }
    s->len = jsonw_utf8_java(msg, len, s->buf);
    s->pos = 0;
    s->cell_used = 0;
    if (s->len >= 3 && memcmp(s->buf, "\xEF\xBB\xBF", 3) == 0) s->pos = 3; /* a BOM */
}

/* The record just read (s->cells) as the values of the wanted fields, by s->col_of. */
static void record_values(csvscan *s)
{
    scanvals_clear(&s->sv, JSONSCAN_NULL);
    for (uint32_t c = 0; c < s->ncells && c < s->ncol_of; c++)
        if (s->col_of[c] >= 0) cell_value(s, &s->cells[c], &s->sv.vals[s->col_of[c]]);
}

int csvscan_run(csvscan *s, const uint8_t *msg, size_t len)
{
    load(s, msg, len);

    bool got;
    const csvscan_cell *names = NULL;
    uint32_t nnames = 0;
    if (!s->o->header || s->o->skip_header) {
        if (read_record(s, &got)) return -1;
        if (!got) {
            snprintf(s->err, sizeof s->err, "no header record in the message");
            return -1;
        }
        if (!s->o->header) { /* the cells stay in s->cell: the data's go after them */
            if (s->ncells > s->hdr_cap) {
                s->hdr_cap = s->ncells;
                s->hdr = sl_xrealloc(s->hdr, s->hdr_cap * sizeof *s->hdr);
            }
            memcpy(s->hdr, s->cells, s->ncells * sizeof *s->cells);
            s->nhdr = s->ncells;
            names = s->hdr;
            nnames = s->nhdr;
        }
    }
    if (read_record(s, &got)) return -1;
    if (!got) {
        snprintf(s->err, sizeof s->err, "no record in the message");
        return -1;
    }
    if (s->o->header) {
        record_values(s);
        return 0;
    }
    scanvals_clear(&s->sv, JSONSCAN_NULL);
    for (uint32_t i = 0; i < s->n; i++) { /* a repeated name: its last column */
        int col = -1;
        for (uint32_t c = 0; c < nnames; c++)
            if (names[c].len == s->lens[i] &&
                memcmp(s->cell + names[c].off, s->names[i], s->lens[i]) == 0)
                col = (int)c;
        if (col >= 0 && (uint32_t)col < s->ncells) cell_value(s, &s->cells[col], &s->sv.vals[i]);
    }
    return 0;
}

/* ---- text mode: a whole file --------------------------------------------------------- */

/* After a bad record: resume at the line after the one it began on, as Pinot's reader
 * recovers (it re-opens the file and skips that many lines). */
static void skip_bad_line(csvscan *s)
{
    s->pos = s->rec_start;
    while (s->pos < s->len && s->buf[s->pos] != '\n' && s->buf[s->pos] != '\r')
        s->pos++;
    if (s->pos < s->len) end_of_line(s, next(s));
}

int csvscan_load(csvscan *s, const uint8_t *text, size_t len)
{
    load(s, text, len);
    s->text_cells = 0;
    bool got;
    if (!s->o->header || s->o->skip_header) {
        if (read_record(s, &got)) return -1;
        if (!got) {
            snprintf(s->err, sizeof s->err, "no header record");
            return -1;
        }
    }
    if (!s->o->header) { /* the file's own header: its names stay at the front of s->cell */
        if (s->ncells > s->hdr_cap) {
            s->hdr_cap = s->ncells;
            s->hdr = sl_xrealloc(s->hdr, s->hdr_cap * sizeof *s->hdr);
        }
        memcpy(s->hdr, s->cells, s->ncells * sizeof *s->cells);
        s->nhdr = s->ncells;
        const char **names = sl_xcalloc(s->nhdr, sizeof *names);
        uint32_t *lens = sl_xcalloc(s->nhdr, sizeof *lens);
        for (uint32_t c = 0; c < s->nhdr; c++) {
            names[c] = s->cell + s->hdr[c].off;
            lens[c] = s->hdr[c].len;
        }
        map_columns(s, names, lens, s->nhdr);
        free(names);
        free(lens);
        for (uint32_t c = 0; c < s->nhdr; c++)
            if (s->hdr[c].len == 0) { /* Commons CSV refuses a nameless column */
                snprintf(s->err, sizeof s->err, "header column %u has no name", c + 1);
                return -1;
            }
        s->text_cells = s->cell_used;
        /* Pinot refuses a one-column header over records of several (a wrong delimiter) */
        size_t at = s->pos;
        if (s->nhdr <= 1 && read_record(s, &got) == 0 && got && s->ncells > 1) {
            snprintf(s->err, sizeof s->err,
                     "the header has one column and the first record %u: the header does not "
                     "contain the delimiter '%c'",
                     s->ncells, s->o->delimiter);
            return -1;
        }
        s->pos = at;
        s->cell_used = s->text_cells;
        s->err[0] = '\0';
    }
    return 0;
}

int csvscan_next(csvscan *s)
{
    s->err[0] = '\0';
    s->cell_used = s->text_cells;
    s->rec_start = s->pos;
    bool got;
    if (read_record(s, &got)) {
        skip_bad_line(s);
        return -1;
    }
    if (!got) return 0;
    record_values(s);
    return 1;
}

void csvscan_span(const csvscan *s, const char **p, size_t *n)
{
    *p = s->buf + s->rec_start;
    *n = s->pos - s->rec_start;
}
