/*
 * ind_csv.c - indicator values as CSV, in the shape spreadsheet users keep:
 * a header row indicator,unit,period,value[,comment]; UTF-8 with or
 * without BOM; ',' or ';' between fields (the header decides); fields may
 * be quoted ("" for a quote); a decimal comma is accepted ("12,5", and
 * "1.234,5" with dots between thousands). Import is all or nothing: every
 * row is checked first, a bad one is named with its column.
 */
#include "indicators/ind_internal.h"
#include "storage/record.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CSV_COLS 5
#define FIELD_MAX 1024

static const char *const columns[CSV_COLS] = {"indicator", "unit", "period", "value", "comment"};

typedef struct {
    const char *p, *end;
    char sep;
    size_t line;
} csv_reader;

/* Reads one field into out; *eol when it ended its line. Returns 0, or -1
 * when a field is too long or a quote is not closed. */
static int csv_field(csv_reader *r, char *out, size_t cap, bool *eol)
{
    size_t n = 0;
    bool quoted = r->p < r->end && *r->p == '"';
    if (quoted)
        r->p++;
    for (;;) {
        if (r->p >= r->end) {
            if (quoted)
                return -1;
            *eol = true;
            break;
        }
        char ch = *r->p;
        if (quoted && ch == '"') {
            if (r->p + 1 < r->end && r->p[1] == '"') {
                r->p += 2;
                if (n + 1 >= cap)
                    return -1;
                out[n++] = '"';
                continue;
            }
            quoted = false;
            r->p++;
            continue;
        }
        if (!quoted && (ch == r->sep || ch == '\n' || ch == '\r')) {
            r->p++;
            *eol = ch != r->sep;
            if (ch == '\r' && r->p < r->end && *r->p == '\n')
                r->p++;
            break;
        }
        if (ch == '\n')
            r->line++;
        if (n + 1 >= cap)
            return -1;
        out[n++] = ch;
        r->p++;
    }
    while (n && (out[n - 1] == ' ' || out[n - 1] == '\t'))
        n--;
    out[n] = '\0';
    size_t lead = strspn(out, " \t");
    memmove(out, out + lead, n - lead + 1);
    return 0;
}

/* Reads one row into f (at most CSV_COLS fields, the rest ignored).
 * Returns the number of fields, 0 for a blank line, -1 on a bad field. */
static int csv_row(csv_reader *r, char f[CSV_COLS][FIELD_MAX])
{
    int n = 0;
    bool eol = false;
    char extra[FIELD_MAX];
    while (!eol) {
        if (csv_field(r, n < CSV_COLS ? f[n] : extra, FIELD_MAX, &eol))
            return -1;
        n++;
    }
    r->line++;
    for (int i = n; i < CSV_COLS; i++)
        f[i][0] = '\0';
    return n == 1 && !f[0][0] ? 0 : n;
}

bool ind_number_parse(const char *s, double *out)
{
    char buf[64];
    size_t n = strlen(s);
    if (!n || n >= sizeof buf)
        return false;
    const char *comma = strrchr(s, ','), *dot = strrchr(s, '.');
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (comma && dot && dot < comma && ch == '.')
            continue; /* 1.234,5: dots between thousands */
        if (comma && dot && comma < dot && ch == ',')
            continue; /* 1,234.5 */
        buf[k++] = ch == ',' ? '.' : ch;
    }
    buf[k] = '\0';
    for (size_t i = 0; i < k; i++)
        if (!isdigit((unsigned char)buf[i]) && !strchr("+-.eE", buf[i]))
            return false;
    char *end;
    *out = strtod(buf, &end);
    return end != buf && !*end && isfinite(*out);
}

/* Checks the header row; fills *ncols. */
static int csv_header(csv_reader *r, int *ncols, lt_error *e)
{
    if (r->end - r->p >= 3 && !memcmp(r->p, "\xEF\xBB\xBF", 3))
        r->p += 3;
    const char *eol = memchr(r->p, '\n', (size_t)(r->end - r->p));
    size_t commas = 0, semis = 0;
    for (const char *q = r->p; q < (eol ? eol : r->end); q++)
        commas += *q == ',', semis += *q == ';';
    r->sep = semis > commas ? ';' : ',';
    char f[CSV_COLS][FIELD_MAX];
    int n = csv_row(r, f);
    for (int i = 0; i < 4; i++)
        if (n < 4 || strcasecmp(f[i], columns[i]))
            return lt_error_set(
                e, LT_EINVAL, "indicator.csv",
                "row 1 must be the header indicator,unit,period,value,comment (column "
                "%d is '%.40s'); download a template from "
                "GET /api/v1/indicators/{code}/template.csv",
                i + 1, n > i ? f[i] : "");
    *ncols = n >= 5 && !strcasecmp(f[4], "comment") ? 5 : 4;
    return 0;
}

static int by_id(const void *a, const void *b)
{
    return strcmp(((const ind_write *)a)->id, ((const ind_write *)b)->id);
}

/* Checks the row f (read from line) into *w. */
static int csv_check_row(indicators *d, ind_batch *b, char f[CSV_COLS][FIELD_MAX], int nf,
                         int ncols, size_t line, const ind_actor *who, ind_write *w, lt_error *e)
{
    if (nf < 4)
        return lt_error_set(e, LT_EINVAL, "indicator.csv",
                            "row %zu has %s: a row is indicator,unit,period,value[,comment]", line,
                            nf < 0 ? "an unclosed quote or a field over 1023 bytes"
                                   : "too few fields");
    double v;
    if (!ind_number_parse(f[3], &v))
        return lt_error_set(e, LT_EINVAL, "indicator.csv",
                            "row %zu, column value: '%.40s' is not a number (write 12.5 or 12,5)",
                            line, f[3]);
    const char *field = NULL;
    if (ind_value_check(d, b, f[0], f[1], f[2], v, ncols > 4 ? f[4] : NULL, who, w, &field, e)) {
        char msg[sizeof e->message];
        snprintf(msg, sizeof msg, "%s", e->message);
        snprintf(e->message, sizeof e->message, "row %zu, column %s: %s", line,
                 field ? field : "indicator", msg);
        return -1;
    }
    return 0;
}

/* Checks every row into *w (grown as needed); *n rows checked. One batch
 * serves the whole file: each definition and the unit catalogue are read
 * once. */
static int csv_check_rows(indicators *d, csv_reader *r, int ncols, const ind_actor *who,
                          ind_write **w, size_t *n, lt_error *e)
{
    size_t cap = 0;
    char f[CSV_COLS][FIELD_MAX];
    *w = NULL;
    *n = 0;
    ind_batch *b = malloc(sizeof *b);
    int rc =
        b ? 0 : lt_error_set(e, LT_EUNAVAILABLE, "indicator.storage", "out of memory; retry later");
    if (b)
        ind_batch_start(d, b);
    while (!rc && r->p < r->end) {
        size_t line = r->line + 1;
        int nf = csv_row(r, f);
        if (nf == 0)
            continue;
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 1024;
            ind_write *nw = realloc(*w, nc * sizeof *nw);
            if (!nw) {
                rc = lt_error_set(e, LT_EUNAVAILABLE, "indicator.storage",
                                  "out of memory; retry later");
                break;
            }
            *w = nw;
            cap = nc;
        }
        rc = csv_check_row(d, b, f, nf, ncols, line, who, &(*w)[*n], e);
        if (!rc)
            (*n)++;
    }
    free(b);
    return rc;
}

/* A row that repeats another's indicator, unit and period: -1 with *e. */
static int csv_duplicates(ind_write *w, size_t n, lt_error *e)
{
    ind_write *sorted = malloc((n ? n : 1) * sizeof *sorted);
    if (!sorted)
        return lt_error_set(e, LT_EUNAVAILABLE, "indicator.storage", "out of memory; retry later");
    memcpy(sorted, w, n * sizeof *w);
    qsort(sorted, n, sizeof *sorted, by_id);
    int rc = 0;
    for (size_t i = 1; i < n && !rc; i++)
        if (!strcmp(sorted[i].id, sorted[i - 1].id))
            rc = lt_error_set(e, LT_EINVAL, "indicator.csv",
                              "%s appears twice in the file: keep one row per indicator, unit and "
                              "period",
                              sorted[i].id);
    free(sorted);
    return rc;
}

int indicators_csv_import(indicators *d, const char *text, size_t len, const ind_actor *who,
                          size_t *written, size_t *unchanged, lt_error *e)
{
    csv_reader r = {text, text + len, ',', 0};
    int ncols;
    ind_write *w = NULL;
    size_t n = 0;
    *written = *unchanged = 0;
    ind_lock(d);
    int rc = csv_header(&r, &ncols, e);
    if (!rc)
        rc = csv_check_rows(d, &r, ncols, who, &w, &n, e);
    if (!rc && !n)
        rc = lt_error_set(e, LT_EINVAL, "indicator.csv", "the file has a header and no rows");
    if (!rc)
        rc = csv_duplicates(w, n, e);
    if (!rc)
        rc = ind_value_commit(d, w, n, e);
    ind_unlock(d);
    ind_writes_done(w, n, rc, written, unchanged);
    return rc;
}

/* ---- writing CSV ---- */

typedef struct {
    char *buf;
    size_t len, cap;
    bool oom;
} csv_out;

static void out_add(csv_out *o, const char *s, size_t n)
{
    if (o->oom)
        return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = (o->cap + n + 1) * 2;
        char *b = realloc(o->buf, cap);
        if (!b) {
            o->oom = true;
            return;
        }
        o->buf = b;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

/* Appends one field, quoted when it holds a separator, quote or newline. */
static void out_field(csv_out *o, const char *s, bool last)
{
    if (strpbrk(s, ",;\"\r\n")) {
        out_add(o, "\"", 1);
        for (const char *q = s; *q; q++) {
            out_add(o, q, 1);
            if (*q == '"')
                out_add(o, "\"", 1); /* a quote is doubled */
        }
        out_add(o, "\"", 1);
    } else {
        out_add(o, s, strlen(s));
    }
    out_add(o, last ? "\r\n" : ",", last ? 2 : 1);
}

static void out_value(csv_out *o, const json_t *v, bool last)
{
    char num[64] = "";
    if (json_is_integer(v))
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(num, sizeof num, "%.10g", json_real_value(v));
    out_field(o, json_is_string(v) ? json_string_value(v) : num, last);
}

char *indicators_csv_table(const json_t *rows, const char *const *cols, size_t ncols)
{
    csv_out o = {0};
    for (size_t c = 0; c < ncols; c++)
        out_field(&o, cols[c], c + 1 == ncols);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        for (size_t c = 0; c < ncols; c++)
            out_value(&o, json_object_get(row, cols[c]), c + 1 == ncols);
    }
    if (o.oom) {
        free(o.buf);
        return NULL;
    }
    return o.buf ? o.buf : strdup("");
}

typedef struct {
    indicators *d;
    const char *code, *period;
    json_t *rows;
} template_ctx;

static void template_one(void *ctx, const ind_unit *u)
{
    template_ctx *t = ctx;
    lt_error e;
    json_t *v = indicators_value_get(t->d, t->code, u->code, t->period, &e);
    json_t *row =
        json_pack("{s:s, s:s, s:s}", "indicator", t->code, "unit", u->code, "period", t->period);
    if (v) {
        json_object_set(row, "value", json_object_get(v, "value"));
        json_object_set(row, "comment", json_object_get(v, "comment"));
    }
    json_decref(v);
    json_array_append_new(t->rows, row);
}

char *indicators_csv_template(indicators *d, const char *code, const char *unit, const char *period,
                              lt_error *e)
{
    ind_lock(d);
    ind_def def;
    int ord;
    char *csv = NULL;
    const ind_units *us = ind_units_of(d);
    const ind_unit *u = ind_units_find(us, unit);
    if (ind_def_load(d, code, &def, e)) {
    } else if (def.computed || def.live >= 0) {
        lt_error_set(e, LT_EINVAL, "indicator.computed", "nobody enters the values of %s", code);
    } else if (!ind_period_parse(def.ptype, period, &ord)) {
        lt_error_set(e, LT_EINVAL, "indicator.period", "'%.16s' is not a %s", period,
                     ind_ptype_name(def.ptype));
    } else if (!u || !ind_units_within(us, unit, d->c->unit)) {
        lt_error_set(e, LT_ENOTFOUND, "indicator.unit", "unit %.40s is not in this node's subtree",
                     unit);
    } else {
        template_ctx t = {d, def.code, period, json_array()};
        for (size_t i = 0; i < def.ntiers; i++)
            ind_units_walk(us, u, def.tiers[i], template_one, &t);
        csv = indicators_csv_table(t.rows, columns, CSV_COLS);
        json_decref(t.rows);
        if (!csv)
            lt_error_set(e, LT_EUNAVAILABLE, "indicator.storage", "out of memory; retry later");
    }
    ind_unlock(d);
    return csv;
}
