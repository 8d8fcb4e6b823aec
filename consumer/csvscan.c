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
    int32_t *col_of; /* with a configured header: per header column its wanted field or -1 */
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
    if (o->header) {
        /* Commons CSV maps a repeated header name to its last column */
        s->col_of = sl_xcalloc(o->nheader, sizeof *s->col_of);
        for (uint32_t c = 0; c < o->nheader; c++) {
            s->col_of[c] = -1;
            bool later = false;
            for (uint32_t c2 = c + 1; c2 < o->nheader; c2++)
                later |= strcmp(o->header[c], o->header[c2]) == 0;
            for (uint32_t i = 0; i < n && !later; i++)
                if (s->col_of[c] < 0 && strlen(o->header[c]) == lens[i] &&
                    memcmp(o->header[c], names[i], lens[i]) == 0)
                    s->col_of[c] = (int32_t)i;
        }
    }
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

int csvscan_run(csvscan *s, const uint8_t *msg, size_t len)
{
    s->err[0] = '\0';
    /* Java's reader: invalid UTF-8 becomes U+FFFD (3 bytes for 1 at most) */
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
    scanvals_clear(&s->sv, JSONSCAN_NULL);
    if (s->o->header) {
        for (uint32_t c = 0; c < s->ncells && c < s->o->nheader; c++)
            if (s->col_of[c] >= 0) cell_value(s, &s->cells[c], &s->sv.vals[s->col_of[c]]);
        return 0;
    }
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
