/*
 * ind_values.c - entering values: checked against the definition, the
 * unit tree, the caller and the lock day; one entry per value, addressed
 * to its unit, with the unit's tier and path for the roll-up index and a
 * uniquely named history item "h/<hlc>/<origin8>" for every change.
 */
#include "indicators/ind_internal.h"
#include "lib/hex.h"
#include "lib/mpjson.h"
#include "node/env/live_record.h"
#include "storage/hlc.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS (24ull * 3600 * 1000)
#define COMMENT_MAX 1000

/* The path root..u as a JSON array. */
static json_t *unit_path(const ind_units *us, const ind_unit *u)
{
    const ind_unit *chain[64];
    size_t n = 0;
    while (u && n < 64) {
        chain[n++] = u;
        u = u->parent >= 0 ? &us->u[u->parent] : NULL;
    }
    json_t *path = json_array();
    while (n)
        json_array_append_new(path, json_string(chain[--n]->code));
    return path;
}

/* A history name newer than any of cur's, at now. */
static void history_name(indicators *d, const json_t *cur, uint64_t now, char *out, size_t cap)
{
    hlc_t max = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)cur, k, v)
    {
        if (!strncmp(k, "h/", 2) && strtoull(k + 2, NULL, 16) > max)
            max = strtoull(k + 2, NULL, 16);
    }
    char origin[17];
    hex_encode(d->c->pk, 4, origin);
    snprintf(out, cap, "h/%016" PRIx64 "/%s", hlc_next(max, now), origin);
}

/* The checks of who may enter a value for unit u of def. */
static int value_allowed(indicators *d, const ind_units *us, const ind_def *def, const ind_unit *u,
                         const char *unit, const ind_actor *who, const char **field, lt_error *e)
{
    *field = "unit";
    if (!ind_units_served(us, unit, d->c->unit,
                          "enter it at the node of that unit or of a unit above it", e))
        return -1;
    if (!who || who->role < ROLE_STAFF || !who->unit || !ind_units_within(us, unit, who->unit))
        return lt_error_set(e, LT_EFORBIDDEN, "indicator.forbidden",
                            "only staff of unit %s or of a unit above it may enter its values",
                            unit);
    if (!ind_def_reports(def, u->tier))
        return lt_error_set(e, LT_EINVAL, "indicator.tier",
                            "unit %s is a %s; indicator %s is reported by tier(s) %s%s%s", unit,
                            u->tier, def->code, def->tiers[0], def->ntiers > 1 ? ", " : "",
                            def->ntiers > 1 ? def->tiers[1] : "");
    *field = NULL;
    return 0;
}

void ind_batch_start(indicators *d, ind_batch *b)
{
    b->ndefs = 0;
    b->us = ind_units_of(d);
    b->now = d->now(d->now_ctx);
}

/* The definition of code, loaded once per batch (the first
 * IND_BATCH_DEFS codes are kept; more are loaded into the last slot). NULL
 * with *e when unknown. */
static const ind_def *batch_def(indicators *d, ind_batch *b, const char *code, lt_error *e)
{
    for (size_t i = 0; i < b->ndefs; i++)
        if (!strcmp(b->defs[i].code, code))
            return &b->defs[i];
    size_t slot = b->ndefs < IND_BATCH_DEFS ? b->ndefs : IND_BATCH_DEFS - 1;
    if (ind_def_load(d, code, &b->defs[slot], e))
        return NULL;
    b->ndefs = slot + 1;
    return &b->defs[slot];
}

/* The checks of the definition, the period and the value. */
static int value_valid(indicators *d, ind_batch *b, const char *code, const char *period,
                       double value, const char *comment, const ind_def **defp, int *ord,
                       const char **field, lt_error *e)
{
    *field = "indicator";
    const ind_def *def = *defp = batch_def(d, b, code, e);
    if (!def)
        return -1;
    if (def->computed || def->live >= 0)
        return lt_error_set(
            e, LT_EINVAL, "indicator.computed", "indicator %s is %s: nobody enters its values",
            code, def->computed ? "computed from other indicators" : "computed by the node");
    *field = "period";
    static const char *const examples[] = {"2026-11", "2026-Q4", "2026"};
    if (!ind_period_parse(def->ptype, period, ord))
        return lt_error_set(e, LT_EINVAL, "indicator.period",
                            "'%.16s' is not a %s: indicator %s is reported per %s, written like %s",
                            period, ind_ptype_name(def->ptype), code, ind_ptype_name(def->ptype),
                            examples[def->ptype]);
    if (ind_period_start_ms(def->ptype, *ord) > b->now)
        return lt_error_set(e, LT_EINVAL, "indicator.period",
                            "period %s has not begun yet; enter values for the current or past "
                            "periods",
                            period);
    *field = "value";
    if (!isfinite(value) || fabs(value) > IND_VALUE_LIMIT)
        return lt_error_set(e, LT_EINVAL, "indicator.value",
                            "the value must be a number between -1e12 and 1e12");
    *field = "comment";
    if (comment && strlen(comment) > COMMENT_MAX)
        return lt_error_set(e, LT_EINVAL, "indicator.value", "the comment is longer than %d bytes",
                            COMMENT_MAX);
    *field = NULL;
    return 0;
}

static bool same_value(const json_t *cur, double value, const char *comment)
{
    const char *c = json_string_value(json_object_get(cur, "comment"));
    return llround(json_number_value(json_object_get(cur, "value")) * IND_MICRO) ==
               llround(value * IND_MICRO) &&
           !strcmp(c ? c : "", comment ? comment : "");
}

/* The fields of the entry of a change (fields and history item). */
static json_t *value_fields(indicators *d, const json_t *cur, const ind_def *def,
                            const ind_units *us, const ind_unit *u, const char *period, int ord,
                            double value, const char *comment, const ind_actor *who, bool locked,
                            uint64_t now)
{
    double rounded = (double)llround(value * IND_MICRO) / IND_MICRO;
    json_t *hist =
        json_pack("{s:f, s:s, s:s, s:I}", "value", rounded, "by", who->user ? who->user : "",
                  "by_unit", who->unit, "at_ms", (json_int_t)now);
    if (comment && *comment)
        json_object_set_new(hist, "comment", json_string(comment));
    if (locked)
        json_object_set_new(hist, "approved_by", json_string(who->user ? who->user : ""));
    json_t *f = json_deep_copy(hist);
    json_object_set_new(f, "comment", comment && *comment ? json_string(comment) : json_null());
    json_object_set_new(f, "on_behalf", json_boolean(strcmp(who->unit, u->code) != 0));
    if (!cur) {
        uint64_t due = ind_period_end_ms(def->ptype, ord) + (uint64_t)def->due_days * DAY_MS;
        json_object_set_new(f, "indicator", json_string(def->code));
        json_object_set_new(f, "unit", json_string(u->code));
        json_object_set_new(f, "period", json_string(period));
        json_object_set_new(f, "tier", json_string(u->tier));
        json_object_set_new(f, "path", unit_path(us, u));
        json_object_set_new(f, "owner_unit", json_string(u->code));
        json_object_set_new(f, "first_ms", json_integer((json_int_t)now));
        json_object_set_new(f, "late", json_boolean(now > due));
    }
    char hname[64];
    history_name(d, cur ? cur : f, now, hname, sizeof hname);
    json_object_set_new(f, hname, hist);
    return f;
}

int ind_value_check(indicators *d, ind_batch *b, const char *code, const char *unit,
                    const char *period, double value, const char *comment, const ind_actor *who,
                    ind_write *w, const char **field, lt_error *e)
{
    const char *fdummy;
    if (!field)
        field = &fdummy;
    memset(w, 0, sizeof *w);
    const ind_def *def;
    int ord;
    if (value_valid(d, b, code, period, value, comment, &def, &ord, field, e))
        return -1;
    const ind_units *us = b->us;
    const ind_unit *u = ind_units_find(us, unit);
    if (value_allowed(d, us, def, u, unit, who, field, e))
        return -1;
    snprintf(w->id, sizeof w->id, "%s/%s/%s", def->code, u->code, period);
    snprintf(w->unit, sizeof w->unit, "%s", u->code);
    bool io;
    json_t *cur = live_record_read(d->s, INDVALUE_COLL, w->id, &io);
    if (io)
        return lt_error_set(e, LT_ESTORAGE, "indicator.storage",
                            "cannot read value %s; check the node's disk", w->id);
    uint64_t now = b->now;
    bool locked =
        cur && now > ind_period_end_ms(def->ptype, ord) + (uint64_t)def->lock_days * DAY_MS;
    if (cur && same_value(cur, value, comment)) {
        json_decref(cur);
        return 0;
    }
    if (locked && who->role < ROLE_LEADER) {
        json_decref(cur);
        *field = "value";
        return lt_error_set(
            e, LT_ECONFLICT, "indicator.locked",
            "period %s of %s was locked %d days after its end: a correction needs a "
            "leader's approval; ask a leader of unit %s or above to enter it",
            period, code, def->lock_days, unit);
    }
    json_t *f = value_fields(d, cur, def, us, u, period, ord, value, comment, who, locked, now);
    char err[256];
    int rc = mpjson_pack_object(f, &w->body, &w->len, err, sizeof err);
    w->put = !cur;
    json_decref(f);
    json_decref(cur);
    if (rc)
        return lt_error_set(e, LT_EINVAL, "indicator.value", "%s", err);
    return 0;
}

void ind_write_release(ind_write *w)
{
    free(w->body);
    w->body = NULL;
}

void ind_writes_done(ind_write *w, size_t n, int rc, size_t *written, size_t *unchanged)
{
    for (size_t i = 0; i < n; i++) {
        if (!rc)
            *(w[i].body ? written : unchanged) += 1;
        ind_write_release(&w[i]);
    }
    free(w);
}

/* Writes the changed values among w[0..n) in one transaction. */
static int commit_chunk(indicators *d, const ind_write *w, size_t n, store_write *sw,
                        const char **to, lt_error *e)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!w[i].body)
            continue;
        to[m] = w[i].unit;
        sw[m] = (store_write){
            INDVALUE_COLL, w[i].id, w[i].put ? ENTRY_OP_PUT : ENTRY_OP_PATCH, w[i].body, w[i].len,
            &to[m],        1};
        m++;
    }
    char err[256];
    store_author a = node_author(d->c);
    if (m && store_write_local(d->s, &a, sw, m, NULL, err, sizeof err))
        return lt_error_set(e, LT_ESTORAGE, "indicator.storage", "the values were not stored: %s",
                            err);
    return 0;
}

int ind_value_commit(indicators *d, const ind_write *w, size_t n, lt_error *e)
{
    size_t chunk = n < IND_COMMIT_ROWS ? n : IND_COMMIT_ROWS;
    store_write *sw = calloc(chunk ? chunk : 1, sizeof *sw);
    const char **to = calloc(chunk ? chunk : 1, sizeof *to);
    int rc = sw && to ? 0
                      : lt_error_set(e, LT_EUNAVAILABLE, "indicator.storage",
                                     "the node is out of memory; retry later");
    for (size_t i = 0; !rc && i < n; i += chunk)
        rc = commit_chunk(d, w + i, n - i < chunk ? n - i : chunk, sw, to, e);
    free(sw);
    free(to);
    return rc;
}

int indicators_value_put(indicators *d, const char *code, const char *unit, const char *period,
                         double value, const char *comment, const ind_actor *who, lt_error *e)
{
    ind_lock(d);
    ind_write w;
    ind_batch b;
    ind_batch_start(d, &b);
    int rc = ind_value_check(d, &b, code, unit, period, value, comment, who, &w, NULL, e);
    if (!rc)
        rc = ind_value_commit(d, &w, 1, e);
    ind_write_release(&w);
    ind_unlock(d);
    return rc;
}

static int by_key(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Moves the "h/..." fields of j into "history" (oldest first). */
static void history_collect(json_t *j)
{
    size_t n = 0, cap = json_object_size(j);
    const char **keys = malloc((cap ? cap : 1) * sizeof *keys);
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v) if (keys && !strncmp(k, "h/", 2)) keys[n++] = k;
    json_t *hist = json_array();
    if (keys) {
        qsort(keys, n, sizeof *keys, by_key);
        for (size_t i = 0; i < n; i++)
            json_array_append(hist, json_object_get(j, keys[i]));
        char name[64];
        for (size_t i = 0; i < n; i++) {
            snprintf(name, sizeof name, "%s", keys[i]);
            keys[i] = NULL;
            json_object_del(j, name);
        }
    }
    free(keys);
    json_object_set_new(j, "history", hist);
}

json_t *indicators_value_get(indicators *d, const char *code, const char *unit, const char *period,
                             lt_error *e)
{
    char id[IND_ID_MAX];
    snprintf(id, sizeof id, "%s/%s/%s", code, unit, period);
    ind_lock(d);
    bool io;
    json_t *j = live_record_read(d->s, INDVALUE_COLL, id, &io);
    ind_unlock(d);
    if (!j) {
        lt_error_set(e, io ? LT_ESTORAGE : LT_ENOTFOUND,
                     io ? "indicator.storage" : "indicator.unknown",
                     io ? "cannot read value %s; check the node's disk"
                        : "no value of %s has been entered (or has arrived) yet",
                     id);
        return NULL;
    }
    json_object_del(j, "owner_unit");
    history_collect(j);
    return j;
}
