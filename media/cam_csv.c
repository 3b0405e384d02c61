/*
 * cam_csv.c - the CSV import of cameras (cameras_csv_import in media.h).
 */
#include "media/media.h"

#include <stdlib.h>
#include <string.h>

#define CSV_COLS 7

static const char *const cols[CSV_COLS] = {"id", "name", "field", "lat", "lon", "url", "enabled"};

/* Splits the line at *p (ending at end) into at most CSV_COLS fields
 * (quotes allowed, "" inside quotes for one); advances *p past the line.
 * Returns the number of fields, or -1 for more than CSV_COLS. */
static int csv_line(const char **p, const char *end, char out[CSV_COLS][CAMERA_URL_MAX])
{
    int n = 0;
    size_t len = 0;
    bool quoted = false, any = false;
    const char *s = *p;
    for (; s < end; s++) {
        char ch = *s;
        if (quoted && ch == '"' && s + 1 < end && s[1] == '"')
            ch = *++s;
        else if (ch == '"') {
            quoted = !quoted;
            continue;
        } else if (!quoted && (ch == ',' || ch == '\n' || ch == '\r')) {
            if (n >= CSV_COLS)
                return -1;
            out[n++][len] = '\0';
            len = 0;
            if (ch != ',') {
                s += ch == '\r' && s + 1 < end && s[1] == '\n';
                s++;
                break;
            }
            continue;
        }
        any = true;
        if (n < CSV_COLS && len + 1 < CAMERA_URL_MAX)
            out[n][len++] = ch;
    }
    if (s >= end && (len || any || n) && (n == 0 || s[-1] != '\n')) {
        if (n >= CSV_COLS)
            return -1;
        if (len || any || n)
            out[n++][len] = '\0';
    }
    *p = s;
    return n;
}

/* The JSON body of one row (lat, lon numbers; enabled bool). */
static json_t *row_body(char row[CSV_COLS][CAMERA_URL_MAX], int n, const char **col)
{
    json_t *b = json_pack("{s:s, s:s, s:s}", "name", row[1], "field", row[2], "url", row[5]);
    for (int i = 3; i <= 4; i++) {
        if (!row[i][0])
            continue;
        char *e;
        double x = strtod(row[i], &e);
        if (*e) {
            *col = cols[i];
            json_decref(b);
            return NULL;
        }
        json_object_set_new(b, cols[i], json_real(x));
    }
    if (n > 6 && row[6][0]) {
        bool t = !strcmp(row[6], "true") || !strcmp(row[6], "1");
        if (!t && strcmp(row[6], "false") && strcmp(row[6], "0")) {
            *col = cols[6];
            json_decref(b);
            return NULL;
        }
        json_object_set_new(b, "enabled", json_boolean(t));
    }
    return b;
}

typedef struct {
    char **ids;
    json_t **fields;
    char (*userinfo)[256];
    size_t n, cap;
} rows;

static void rows_free(rows *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->ids[i]);
        json_decref(r->fields[i]);
    }
    free(r->ids);
    free(r->fields);
    free(r->userinfo);
}

static int rows_grow(rows *r)
{
    if (r->n < r->cap)
        return 0;
    size_t cap = r->cap ? r->cap * 2 : 64;
    char **ids = realloc(r->ids, cap * sizeof *ids);
    if (ids)
        r->ids = ids;
    json_t **f = realloc(r->fields, cap * sizeof *f);
    if (f)
        r->fields = f;
    char(*u)[256] = realloc(r->userinfo, cap * sizeof *u);
    if (u)
        r->userinfo = u;
    if (!ids || !f || !u)
        return -1;
    r->cap = cap;
    return 0;
}

/* Checks the header line. */
static int header_check(char row[CSV_COLS][CAMERA_URL_MAX], int n, lt_error *e)
{
    for (int i = 0; i < 6; i++)
        if (n < 6 || strcmp(row[i], cols[i]))
            return lt_error_set(e, LT_EINVAL, "camera.csv",
                                "line 1: the header must be id,name,field,lat,lon,url[,enabled] "
                                "(column %d is \"%s\")",
                                i + 1, i < n ? row[i] : "");
    return n == 6 || !strcmp(row[6], "enabled")
               ? 0
               : lt_error_set(e, LT_EINVAL, "camera.csv",
                              "line 1: the 7th column may only be enabled");
}

int cameras_csv_import(store *s, const node_config *c, const unit_tree *t, const char *csv,
                       size_t len, size_t *written, size_t *unchanged, lt_error *e)
{
    char(*row)[CAMERA_URL_MAX] = calloc(CSV_COLS, CAMERA_URL_MAX);
    rows r = {0};
    const char *p = csv, *end = csv + len;
    if (len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
        p += 3;
    int rc = row ? 0 : lt_error_set(e, LT_EINTERNAL, NULL, "out of memory");
    int n = rc ? 0 : csv_line(&p, end, row);
    if (!rc)
        rc = header_check(row, n, e);
    for (size_t line = 2; !rc && p < end; line++) {
        n = csv_line(&p, end, row);
        if (n <= 1 && (n <= 0 || !row[0][0])) {
            if (n < 0)
                rc = lt_error_set(e, LT_EINVAL, "camera.csv", "line %zu: more than %d columns",
                                  line, CSV_COLS);
            continue;
        }
        if (n < 6) {
            rc = lt_error_set(e, LT_EINVAL, "camera.csv",
                              "line %zu: %d columns; give id,name,field,lat,lon,url", line, n);
            break;
        }
        const char *col = NULL;
        json_t *body = row_body(row, n, &col);
        if (!body) {
            rc = lt_error_set(e, LT_EINVAL, "camera.csv",
                              "line %zu, column %s: not a number (or true/false)", line, col);
            break;
        }
        lt_error ce = {0};
        if (rows_grow(&r))
            rc = lt_error_set(e, LT_EINTERNAL, NULL, "out of memory");
        else if (camera_check(row[0], body, &r.fields[r.n], r.userinfo[r.n], &ce))
            rc = lt_error_set(e, LT_EINVAL, "camera.csv", "line %zu, column %s", line, ce.message);
        else if (!(r.ids[r.n++] = strdup(row[0])))
            rc = lt_error_set(e, LT_EINTERNAL, NULL, "out of memory");
        json_decref(body);
        for (size_t i = 0; !rc && i + 1 < r.n; i++)
            if (!strcmp(r.ids[i], row[0]))
                rc = lt_error_set(e, LT_EINVAL, "camera.csv",
                                  "line %zu, column id: camera %s is already on an earlier line",
                                  line, row[0]);
    }
    if (!rc)
        rc = cameras_put(s, c, t, r.ids, r.fields, r.userinfo, r.n, written, unchanged, e);
    rows_free(&r);
    free(row);
    return rc;
}
