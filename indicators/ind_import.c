/*
 * ind_import.c - values from `lienthong import --collection ind_values`
 * lines and back (indicators.h, the import section): each line
 * {"indicator", "unit", "period", "value", "comment"} goes through the
 * checks of the CSV rows and of PUT .../values/{unit}/{period}
 * (ind_value_check), so a line the API would refuse is refused here too.
 */
#include "indicators/ind_internal.h"

#include <stdlib.h>
#include <string.h>

static const char *const line_keys[] = {"id", "indicator", "unit", "period", "value", "comment"};

/* The string field key of line, or NULL with *e. */
static const char *line_string(const json_t *line, const char *key, const char **field, lt_error *e)
{
    const char *s = json_string_value(json_object_get(line, key));
    if (!s || !*s) {
        *field = key;
        lt_error_set(e, LT_EINVAL, "indicator.value",
                     "a value line needs \"%s\" as a string: a line is {\"indicator\", \"unit\", "
                     "\"period\", \"value\", \"comment\"}",
                     key);
    }
    return s;
}

/* The number of the line's "value" (a JSON number, or text with a decimal
 * point or comma as in the CSV), false with *e when it is none. */
static bool line_value(const json_t *line, const char *id, double *v, lt_error *e)
{
    const json_t *j = json_object_get(line, "value");
    if (json_is_number(j)) {
        *v = json_number_value(j);
        return true;
    }
    if (json_is_string(j) && ind_number_parse(json_string_value(j), v))
        return true;
    char shown[48] = "";
    if (json_is_string(j))
        snprintf(shown, sizeof shown, "'%.40s' ", json_string_value(j));
    lt_error_set(e, LT_EINVAL, "indicator.value",
                 "record %s: the value %sis not a number (write 12.5, or \"12,5\")", id, shown);
    return false;
}

/* Refuses a key that is not a value line's. */
static int line_keys_check(const json_t *line, const char **field, lt_error *e)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)line, k, v)
    {
        bool known = false;
        for (size_t i = 0; i < sizeof line_keys / sizeof *line_keys; i++)
            known |= !strcmp(k, line_keys[i]);
        if (!known) {
            *field = k;
            return lt_error_set(e, LT_EINVAL, "indicator.value",
                                "not a field of a value line: use indicator, unit, period, value "
                                "and comment (and id = indicator/unit/period)");
        }
    }
    return 0;
}

/* Reads and checks line into its parts and the packed write *w. */
static int line_check(indicators *d, const ind_actor *who, const json_t *line, ind_write *w,
                      json_t **fields, const char **field, lt_error *e)
{
    memset(w, 0, sizeof *w);
    if (line_keys_check(line, field, e))
        return -1;
    const char *code = line_string(line, "indicator", field, e);
    const char *unit = code ? line_string(line, "unit", field, e) : NULL;
    const char *period = unit ? line_string(line, "period", field, e) : NULL;
    if (!period)
        return -1;
    char id[IND_ID_MAX];
    snprintf(id, sizeof id, "%s/%s/%s", code, unit, period);
    const char *given = json_string_value(json_object_get(line, "id"));
    if (json_object_get(line, "id") && (!given || strcmp(given, id))) {
        *field = "id";
        return lt_error_set(e, LT_EINVAL, "indicator.value",
                            "the id must be indicator/unit/period, here %s: correct or drop it",
                            id);
    }
    const json_t *cj = json_object_get(line, "comment");
    if (cj && !json_is_null(cj) && !json_is_string(cj)) {
        *field = "comment";
        return lt_error_set(e, LT_EINVAL, "indicator.value",
                            "record %s: the comment must be a string", id);
    }
    double v;
    *field = "value";
    if (!line_value(line, id, &v, e))
        return -1;
    ind_batch b;
    ind_batch_start(d, &b);
    const char *comment = json_string_value(cj);
    if (ind_value_check(d, &b, code, unit, period, v, comment, who, w, field, e)) {
        char msg[sizeof e->message];
        snprintf(msg, sizeof msg, "%s", e->message);
        snprintf(e->message, sizeof e->message, "record %s: %s", id, msg);
        return -1;
    }
    *fields = json_pack("{s:s, s:s, s:s, s:f}", "indicator", code, "unit", unit, "period", period,
                        "value", v);
    if (comment && *comment)
        json_object_set_new(*fields, "comment", json_string(comment));
    return 0;
}

int indicators_import_check(indicators *d, const ind_actor *who, const json_t *line,
                            json_t **fields, char *id, size_t idcap, const char **field,
                            lt_error *e)
{
    ind_write w;
    *fields = NULL;
    *field = "";
    ind_lock(d);
    int rc = line_check(d, who, line, &w, fields, field, e);
    ind_unlock(d);
    if (!rc)
        snprintf(id, idcap, "%s", w.id);
    ind_write_release(&w);
    return rc;
}

int indicators_import_write(indicators *d, const ind_actor *who, json_t *const *fields, size_t n,
                            size_t *written, size_t *unchanged, lt_error *e)
{
    ind_write *w = calloc(n ? n : 1, sizeof *w);
    if (!w)
        return lt_error_set(e, LT_EUNAVAILABLE, "indicator.storage", "out of memory; retry later");
    size_t checked = 0;
    int rc = 0;
    const char *field;
    json_t *again = NULL;
    ind_lock(d);
    for (; !rc && checked < n; checked++) {
        rc = line_check(d, who, fields[checked], &w[checked], &again, &field, e);
        json_decref(again);
        again = NULL;
    }
    if (!rc)
        rc = ind_value_commit(d, w, n, e);
    ind_unlock(d);
    ind_writes_done(w, checked, rc, written, unchanged);
    return rc;
}

json_t *indicators_export_line(const json_t *rec)
{
    json_t *line = json_object();
    static const char *const keep[] = {"id", "indicator", "unit", "period", "value", "comment"};
    for (size_t i = 0; i < sizeof keep / sizeof *keep; i++) {
        json_t *v = json_object_get(rec, keep[i]);
        if (v && !json_is_null(v))
            json_object_set(line, keep[i], v);
    }
    return line;
}
