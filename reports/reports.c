/*
 * reports.c - the reports context (store, node, clock, unit tree) and the
 * read side: loading a report, its JSON views and who may see it.
 */
#include "reports/report_summary.h"
#include "reports/reports_internal.h"
#include "storage/hlc.h"
#include "storage/record.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static uint64_t wall_now(void *ctx)
{
    (void)ctx;
    return hlc_wall_ms();
}

reports *reports_new(store *s, const node_config *c)
{
    reports *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->s = s;
    r->c = c;
    r->now = wall_now;
    if (!(r->tree = unit_tree_new())) {
        free(r);
        return NULL;
    }
    if (uv_mutex_init_recursive(&r->lock)) {
        unit_tree_free(r->tree);
        free(r);
        return NULL;
    }
    if (uv_mutex_init(&r->code_lock)) {
        uv_mutex_destroy(&r->lock);
        unit_tree_free(r->tree);
        free(r);
        return NULL;
    }
    return r;
}

void reports_free(reports *r)
{
    if (!r)
        return;
    unit_tree_free(r->tree);
    uv_mutex_destroy(&r->lock);
    uv_mutex_destroy(&r->code_lock);
    free(r);
}

void reports_lock(reports *r)
{
    uv_mutex_lock(&r->lock);
}

void reports_unlock(reports *r)
{
    uv_mutex_unlock(&r->lock);
}

void reports_set_clock(reports *r, uint64_t (*now_ms)(void *ctx), void *ctx)
{
    r->now = now_ms ? now_ms : wall_now;
    r->now_ctx = ctx;
}

uint64_t reports_now(const reports *r)
{
    return r->now(r->now_ctx);
}

const unit_tree *reports_tree(reports *r)
{
    uint64_t last = store_arrival_last(r->s);
    if (!r->tree_loaded || last != r->tree_arrival) {
        unit_tree *t = unit_tree_new();
        if (t && unit_tree_load(t, r->s) == 0) {
            unit_tree_free(r->tree);
            r->tree = t;
            r->tree_arrival = last;
            r->tree_loaded = true;
        } else {
            unit_tree_free(t);
        }
    }
    return r->tree;
}

json_t *reports_path(reports *r, const char *unit)
{
    const unit_tree *t = reports_tree(r);
    char chain[REPORT_PATH_MAX][NODE_CODE_MAX];
    size_t n = 0;
    snprintf(chain[n++], NODE_CODE_MAX, "%s", unit);
    while (n < REPORT_PATH_MAX && unit_tree_parent(t, chain[n - 1], chain[n], NODE_CODE_MAX))
        n++;
    json_t *path = json_array();
    while (n)
        json_array_append_new(path, json_string(chain[--n]));
    return path;
}

bool reports_within(reports *r, const char *unit, const char *anc)
{
    return unit_tree_within(reports_tree(r), unit, strlen(unit), anc, strlen(anc));
}

bool reports_serves(reports *r, const char *unit)
{
    reports_lock(r);
    bool yes = reports_within(r, unit, r->c->unit);
    reports_unlock(r);
    return yes;
}

bool reports_unit_tier(reports *r, const char *unit, char *out, size_t cap)
{
    uint8_t *rec;
    size_t len;
    if (store_record_get(r->s, "units", unit, &rec, &len) != 0)
        return false;
    bool ok = record_field_str(rec, len, "tier", out, cap) == 0;
    free(rec);
    return ok;
}

const char *report_str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

bool reports_code_norm(const char *in, char out[REPORT_CODE_MAX])
{
    while (*in == ' ')
        in++;
    size_t n = strlen(in);
    while (n && in[n - 1] == ' ')
        n--;
    if (!n || n >= REPORT_CODE_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)in[i];
        if (!isalnum(ch) && ch != '-' && ch != '_')
            return false;
        out[i] = (char)toupper(ch);
    }
    out[n] = '\0';
    return true;
}

json_t *report_load(reports *r, const char *code, int *status)
{
    char id[REPORT_CODE_MAX], err[128];
    uint8_t *rec;
    size_t len;
    if (!reports_code_norm(code, id)) {
        *status = 404;
        return NULL;
    }
    int rc = store_record_get(r->s, REPORT_COLL, id, &rec, &len);
    if (rc) {
        *status = rc > 0 ? 404 : 500;
        return NULL;
    }
    json_t *j = record_is_deleted(rec, len)
                    ? NULL
                    : record_to_json(rec, len, id, strlen(id), err, sizeof err);
    free(rec);
    *status = j ? 200 : 404;
    if (j)
        report_escalation_from_history(j);
    return j;
}

/* Moves the "h/..." fields of j into a "history" array in name (HLC) order. */
static void history_collect(json_t *j, report_view view)
{
    size_t n;
    const char **keys = report_history_keys(j, &n);
    json_t *hist = json_array();
    for (size_t i = 0; keys && i < n; i++) {
        json_t *item = json_deep_copy(json_object_get(j, keys[i]));
        if (view == REPORT_VIEW_PUBLIC) {
            json_t *p = json_object();
            static const char *const shown[] = {"action", "from", "to", "at_ms"};
            for (size_t f = 0; f < sizeof shown / sizeof *shown; f++)
                if (json_object_get(item, shown[f]))
                    json_object_set(p, shown[f], json_object_get(item, shown[f]));
            json_decref(item);
            item = p;
        }
        json_array_append_new(hist, item);
    }
    for (size_t i = 0; keys && i < n; i++)
        json_object_del(j, keys[i]);
    free(keys);
    json_object_set_new(j, "history", hist);
}

static json_t *get_json_locked(reports *r, const char *code, report_view view, int *status)
{
    json_t *j = report_load(r, code, status);
    if (!j)
        return NULL;
    history_collect(j, view);
    json_object_del(j, "owners");             /* write authority's, not the report's */
    json_object_del(j, "citizen_token_hash"); /* the citizen's secret, hashed */
    if (view != REPORT_VIEW_STAFF) {
        json_object_del(j, "reporter_name");
        json_object_del(j, "reporter_phone");
        json_object_del(j, "reporter_email");
    }
    uint64_t deadline = (uint64_t)json_integer_value(json_object_get(j, "deadline_ms"));
    bool overdue =
        report_status_open(report_str(j, "status")) && deadline && reports_now(r) > deadline;
    json_object_set_new(j, "overdue", json_boolean(overdue));
    return j;
}

json_t *reports_get_json(reports *r, const char *code, report_view view, int *status)
{
    reports_lock(r);
    json_t *rc = get_json_locked(r, code, view, status);
    reports_unlock(r);
    return rc;
}

static bool visible_locked(reports *r, const char *code, const char *unit)
{
    int status;
    json_t *j = report_load(r, code, &status);
    if (!j || !unit)
        return json_decref(j), false;
    bool yes = reports_within(r, report_str(j, "area_unit"), unit) ||
               reports_within(r, report_str(j, "owner_unit"), unit);
    json_decref(j);
    return yes;
}

bool reports_visible(reports *r, const char *code, const char *unit)
{
    reports_lock(r);
    bool rc = visible_locked(r, code, unit);
    reports_unlock(r);
    return rc;
}

bool reports_handles(reports *r, const json_t *j, const char *unit)
{
    const char *owner = report_str(j, "owner_unit");
    reports_lock(r);
    bool rc = !*owner || (unit && reports_within(r, owner, unit));
    reports_unlock(r);
    return rc;
}
