/*
 * ind_defs.c - indicator definitions: checked, written by an admin of a
 * top-tier node to every node ("*"), read back (stored and operational
 * ones alike).
 */
#include "indicators/ind_internal.h"
#include "lib/mpjson.h"
#include "storage/record.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PIN_PREFIX "pin/" /* a definition's field "pin/<unit>": that unit's choice */

static const char *const agg_names[] = {"sum", "average", "min", "max", "count"};
static const char *const tagg_names[] = {"sum", "average", "last"};

static int name_index(const char *const *names, int n, const char *s)
{
    for (int i = 0; s && i < n; i++)
        if (!strcmp(names[i], s))
            return i;
    return -1;
}

bool ind_code_valid(const char *code)
{
    size_t n = strlen(code);
    if (!n || n >= IND_CODE_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)code[i];
        if (!isalnum(ch) && ch != '_' && ch != '.' && ch != '-')
            return false;
    }
    return true;
}

bool ind_def_reports(const ind_def *def, const char *tier)
{
    for (size_t i = 0; i < def->ntiers; i++)
        if (!strcmp(def->tiers[i], tier))
            return true;
    return false;
}

/* Fills def's tiers and count tier from JSON tiers and counts. */
static int def_tiers(indicators *d, ind_def *def, const json_t *tiers, const char *counts,
                     lt_error *e)
{
    size_t i;
    json_t *t;
    int lo = -1, hi = -1;
    def->ntiers = 0;
    json_array_foreach(tiers, i, t)
    {
        const char *name = json_string_value(t);
        int ix = name ? node_tier_index(d->c, name) : -1;
        if (ix < 0 || def->ntiers >= NODE_MAX_TIERS)
            return lt_error_set(e, LT_EINVAL, "indicator.definition",
                                "tiers[%zu] is not a tier of this network; use the names of "
                                "GET /api/v1/network (e.g. \"commune\")",
                                i);
        snprintf(def->tiers[def->ntiers++], NODE_CODE_MAX, "%s", name);
        if (lo < 0 || ix > lo)
            lo = ix;
        if (hi < 0 || ix < hi)
            hi = ix;
    }
    if (!def->ntiers)
        return lt_error_set(e, LT_EINVAL, "indicator.definition",
                            "tiers must name at least one tier that reports the indicator, e.g. "
                            "[\"commune\"]");
    bool self = counts && !strcmp(counts, "self");
    snprintf(def->count_tier, NODE_CODE_MAX, "%s", d->c->tiers[self ? hi : lo]);
    return 0;
}

/* Parses definition JSON j (a stored record or a request) into def. */
static int def_parse(indicators *d, const char *code, const json_t *j, ind_def *def, lt_error *e)
{
    memset(def, 0, sizeof *def);
    snprintf(def->code, sizeof def->code, "%s", code);
    def->live = -1;
    def->factor = 1;
    int pt = ind_ptype_parse(json_string_value(json_object_get(j, "period")));
    if (pt < 0)
        return lt_error_set(e, LT_EINVAL, "indicator.definition",
                            "period must be \"month\", \"quarter\" or \"year\"");
    def->ptype = (ind_ptype)pt;
    const char *num = json_string_value(json_object_get(j, "numerator"));
    const char *den = json_string_value(json_object_get(j, "denominator"));
    if (num || den) {
        def->computed = true;
        if (!num || !den || !ind_code_valid(num) || !ind_code_valid(den))
            return lt_error_set(e, LT_EINVAL, "indicator.definition",
                                "a computed indicator names both numerator and denominator (codes "
                                "of other indicators)");
        snprintf(def->num, sizeof def->num, "%s", num);
        snprintf(def->den, sizeof def->den, "%s", den);
        json_t *f = json_object_get(j, "factor");
        if (f && (!json_is_number(f) || !isfinite(json_number_value(f))))
            return lt_error_set(e, LT_EINVAL, "indicator.definition",
                                "factor must be a number, e.g. 100");
        if (f)
            def->factor = json_number_value(f);
        return 0;
    }
    json_t *agg = json_object_get(j, "aggregation"), *tagg = json_object_get(j, "time_aggregation");
    int a = agg ? name_index(agg_names, 5, json_string_value(agg)) : AGG_SUM;
    if (a < 0)
        return lt_error_set(e, LT_EINVAL, "indicator.definition",
                            "aggregation must be sum, average, min, max or count");
    def->agg = (ind_agg)a;
    int ta = tagg                             ? name_index(tagg_names, 3, json_string_value(tagg))
             : a == AGG_SUM || a == AGG_COUNT ? TAGG_SUM
             : a == AGG_AVERAGE               ? TAGG_AVERAGE
                                              : TAGG_LAST;
    if (ta < 0)
        return lt_error_set(e, LT_EINVAL, "indicator.definition",
                            "time_aggregation must be sum, average or last");
    def->tagg = (ind_tagg)ta;
    const char *counts = json_string_value(json_object_get(j, "counts"));
    if (json_object_get(j, "counts") &&
        (!counts || (strcmp(counts, "self") && strcmp(counts, "children"))))
        return lt_error_set(e, LT_EINVAL, "indicator.definition",
                            "counts must be \"children\" (the lowest reporting tier counts) or "
                            "\"self\" (the highest reporting tier counts)");
    if (def_tiers(d, def, json_object_get(j, "tiers"), counts, e))
        return -1;
    json_t *due = json_object_get(j, "due_days"), *lock = json_object_get(j, "lock_days");
    def->due_days = due ? (int)json_integer_value(due) : 10;
    def->lock_days = lock ? (int)json_integer_value(lock) : 30;
    if ((due && !json_is_integer(due)) || (lock && !json_is_integer(lock)) || def->due_days < 0 ||
        def->due_days > 366 || def->lock_days < def->due_days || def->lock_days > 3660)
        return lt_error_set(e, LT_EINVAL, "indicator.definition",
                            "due_days (0..366) and lock_days (due_days..3660) are whole days after "
                            "the period's end");
    return 0;
}

/* The stored definition JSON of code, or NULL (*missing when absent). */
static json_t *def_record(indicators *d, const char *code, bool *missing)
{
    uint8_t *rec;
    size_t len;
    char err[64];
    *missing = false;
    int rc = store_record_get(d->s, INDICATOR_COLL, code, &rec, &len);
    json_t *known = rc > 0 ? json_object_get(d->known_defs, code) : NULL;
    if (known) {
        json_t *j = json_deep_copy(known);
        json_object_set_new(j, "code", json_string(code));
        return j;
    }
    if (rc) {
        *missing = rc > 0;
        return NULL;
    }
    json_t *j = record_is_deleted(rec, len)
                    ? NULL
                    : record_to_json(rec, len, code, strlen(code), err, sizeof err);
    *missing = !j && record_is_deleted(rec, len);
    free(rec);
    if (j) {
        json_object_del(j, "id");
        json_object_set_new(j, "code", json_string(code));
    }
    return j;
}

static int live_find(indicators *d, const char *code)
{
    for (size_t i = 0; i < d->nlive; i++)
        if (!strcmp(d->live[i].code, code))
            return (int)i;
    return -1;
}

static int def_load_depth(indicators *d, const char *code, ind_def *def, int depth, lt_error *e)
{
    if (!ind_code_valid(code))
        return lt_error_set(e, LT_EINVAL, "indicator.bad_code",
                            "'%.40s' is not an indicator code: 1 to 32 of A-Z a-z 0-9 _ . -", code);
    int li = live_find(d, code);
    if (li >= 0) {
        memset(def, 0, sizeof *def);
        snprintf(def->code, sizeof def->code, "%s", code);
        def->live = li;
        def->ptype = PER_MONTH;
        return 0;
    }
    bool missing;
    json_t *j = def_record(d, code, &missing);
    if (!j)
        return lt_error_set(e, missing ? LT_ENOTFOUND : LT_ESTORAGE,
                            missing ? "indicator.unknown" : "indicator.storage",
                            missing ? "no indicator %s: GET /api/v1/indicators lists them"
                                    : "cannot read indicator %s; check the node's disk",
                            code);
    int rc = def_parse(d, code, j, def, e);
    json_decref(j);
    if (rc || !def->computed)
        return rc;
    ind_def num;
    if (depth > 0)
        return lt_error_set(e, LT_EINVAL, "indicator.definition",
                            "indicator %s is computed from computed indicators; a numerator and "
                            "denominator must be entered ones",
                            code);
    if (def_load_depth(d, def->num, &num, depth + 1, e))
        return -1;
    memcpy(def->tiers, num.tiers, sizeof def->tiers);
    def->ntiers = num.ntiers;
    memcpy(def->count_tier, num.count_tier, sizeof def->count_tier);
    def->due_days = num.due_days;
    def->lock_days = num.lock_days;
    return 0;
}

int ind_def_load(indicators *d, const char *code, ind_def *def, lt_error *e)
{
    return def_load_depth(d, code, def, 0, e);
}

/* Checks the fields of a definition request: names, types, known keys. */
static int define_fields(const json_t *in, lt_error *e)
{
    static const char *const known[] = {
        "name_vi", "name_en", "measure",  "period",     "aggregation", "time_aggregation",
        "tiers",   "counts",  "due_days", "lock_days",  "numerator",   "denominator",
        "factor",  "group",   "pinned",   "description"};
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)in, k, v)
    {
        if (name_index(known, sizeof known / sizeof *known, k) < 0)
            return lt_error_set(
                e, LT_EINVAL, "indicator.definition",
                "unknown field \"%.40s\"; a definition takes name_vi, name_en, "
                "measure, period, aggregation, time_aggregation, tiers, counts, "
                "due_days, lock_days, numerator, denominator, factor, group, pinned, "
                "description",
                k);
    }
    const char *name = json_string_value(json_object_get(in, "name_vi"));
    if (!name || !*name || strlen(name) > 200)
        return lt_error_set(e, LT_EINVAL, "indicator.definition",
                            "name_vi is required: the indicator's name in Vietnamese (at most 200 "
                            "bytes)");
    static const char *const strs[] = {"name_en", "measure", "group", "description"};
    for (size_t i = 0; i < 4; i++) {
        json_t *s = json_object_get(in, strs[i]);
        if (s && (!json_is_string(s) || json_string_length(s) > 1000))
            return lt_error_set(e, LT_EINVAL, "indicator.definition", "%s must be a string",
                                strs[i]);
    }
    json_t *p = json_object_get(in, "pinned");
    if (p && !json_is_boolean(p))
        return lt_error_set(e, LT_EINVAL, "indicator.definition", "pinned must be true or false");
    return 0;
}

/* May who define or pin indicators on this node? (admin, top tier) */
static int define_allowed(indicators *d, const ind_actor *who, lt_error *e)
{
    if (!who || who->role < ROLE_ADMIN)
        return lt_error_set(e, LT_EFORBIDDEN, "indicator.forbidden",
                            "only an admin of the province or national node may define or pin "
                            "indicators");
    int tier = node_tier_index(d->c, d->c->tier);
    int max = d->c->ntiers > 3 ? (int)d->c->ntiers - 3 : 0;
    if (tier > max)
        return lt_error_set(e, LT_EFORBIDDEN, "indicator.forbidden",
                            "indicators are defined at the top tiers only (at most %d levels below "
                            "the root); this node is tier %s: ask an admin of the province or "
                            "national node",
                            max, d->c->tier);
    return 0;
}

/* Copies the pins ("pin/<unit>" fields) of the stored definition of code
 * into j, so that redefining an indicator keeps the tiers' choices. */
static void pins_carry(indicators *d, const char *code, json_t *j)
{
    bool missing;
    json_t *old = def_record(d, code, &missing);
    const char *k;
    json_t *v;
    json_object_foreach(old, k, v)
    {
        if (!strncmp(k, PIN_PREFIX, strlen(PIN_PREFIX)))
            json_object_set(j, k, v);
    }
    json_decref(old);
}

static int define_locked(indicators *d, const char *code, const json_t *in, const ind_actor *who,
                         lt_error *e)
{
    if (!ind_code_valid(code))
        return lt_error_set(e, LT_EINVAL, "indicator.bad_code",
                            "'%.40s' is not an indicator code: 1 to 32 of A-Z a-z 0-9 _ . -", code);
    if (define_allowed(d, who, e) || define_fields(in, e))
        return -1;
    if (live_find(d, code) >= 0)
        return lt_error_set(e, LT_EINVAL, "indicator.computed",
                            "%s is an operational indicator the node computes itself; choose "
                            "another code",
                            code);
    ind_def def, part;
    if (def_parse(d, code, in, &def, e))
        return -1;
    if (def.computed) {
        const char *parts[] = {def.num, def.den};
        for (int i = 0; i < 2; i++) {
            if (!strcmp(parts[i], code))
                return lt_error_set(e, LT_EINVAL, "indicator.definition",
                                    "a computed indicator cannot name itself");
            if (ind_def_load(d, parts[i], &part, e))
                return -1;
            if (part.computed || part.live >= 0 || part.ptype != def.ptype)
                return lt_error_set(e, LT_EINVAL, "indicator.definition",
                                    "%s must be an entered indicator of period %s to be a %s of %s",
                                    parts[i], ind_ptype_name(def.ptype),
                                    i ? "denominator" : "numerator", code);
        }
    }
    json_t *full = json_deep_copy(in);
    pins_carry(d, code, full);
    uint8_t *body = NULL;
    size_t len = 0;
    char err[256];
    int packed = mpjson_pack_object(full, &body, &len, err, sizeof err);
    json_decref(full);
    if (packed)
        return lt_error_set(e, LT_EINVAL, "indicator.definition", "%s", err);
    const char *to[] = {"*"};
    store_write w = {INDICATOR_COLL, code, ENTRY_OP_PUT, body, len, to, 1};
    store_author a = node_author(d->c);
    int rc = store_write_local(d->s, &a, &w, 1, NULL, err, sizeof err);
    free(body);
    if (rc)
        return lt_error_set(e, LT_ESTORAGE, "indicator.storage", "indicator %s was not stored: %s",
                            code, err);
    return 0;
}

int indicators_define(indicators *d, const char *code, const json_t *in, const ind_actor *who,
                      lt_error *e)
{
    ind_lock(d);
    int rc = define_locked(d, code, in, who, e);
    ind_unlock(d);
    return rc;
}

static json_t *live_json(const ind_live_source *l)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "code", l->code, "name_vi", l->name_vi,
                     "name_en", l->name_en, "measure", l->measure, "period", "month", "live", 1);
}

/* Moves the "pin/<unit>" fields of definition j into "pins" and sets
 * "pinned" to what unit's dashboard shows: the choice of the nearest of
 * unit and its ancestors that made one, else the definition's own. */
static void pins_resolve(const ind_units *us, json_t *j, const char *unit)
{
    json_t *pins = json_object();
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(j, tmp, k, v)
    {
        if (strncmp(k, PIN_PREFIX, strlen(PIN_PREFIX)))
            continue;
        if (json_is_boolean(v))
            json_object_set(pins, k + strlen(PIN_PREFIX), v);
        json_object_del(j, k);
    }
    const ind_unit *u = unit ? ind_units_find(us, unit) : NULL;
    for (size_t depth = 0; u && depth < 64; depth++) {
        json_t *choice = json_object_get(pins, u->code);
        if (choice) {
            json_object_set(j, "pinned", choice);
            break;
        }
        u = u->parent >= 0 ? &us->u[u->parent] : NULL;
    }
    if (!json_is_boolean(json_object_get(j, "pinned")))
        json_object_set_new(j, "pinned", json_false());
    json_object_set_new(j, "pins", pins);
}

int indicators_pin(indicators *d, const char *code, bool pinned, const ind_actor *who, lt_error *e)
{
    ind_lock(d);
    ind_def def;
    int rc = ind_def_load(d, code, &def, e);
    if (!rc && def.live >= 0)
        rc = lt_error_set(e, LT_EINVAL, "indicator.computed",
                          "%s is an operational indicator the node computes itself; only the "
                          "defined indicators (GET /api/v1/indicators) can be pinned",
                          code);
    if (!rc)
        rc = define_allowed(d, who, e);
    char field[sizeof PIN_PREFIX + NODE_CODE_MAX];
    snprintf(field, sizeof field, PIN_PREFIX "%s", d->c->unit);
    json_t *patch = json_pack("{s:b}", field, pinned);
    uint8_t *body = NULL;
    size_t len = 0;
    char err[256];
    if (!rc && mpjson_pack_object(patch, &body, &len, err, sizeof err))
        rc = lt_error_set(e, LT_EINVAL, "indicator.definition", "%s", err);
    json_decref(patch);
    if (!rc) {
        const char *to[] = {"*"};
        store_write w = {INDICATOR_COLL, code, ENTRY_OP_PATCH, body, len, to, 1};
        store_author a = node_author(d->c);
        if (store_write_local(d->s, &a, &w, 1, NULL, err, sizeof err))
            rc = lt_error_set(e, LT_ESTORAGE, "indicator.storage",
                              "the pin of %s was not stored: %s", code, err);
    }
    free(body);
    ind_unlock(d);
    return rc;
}

json_t *indicators_get(indicators *d, const char *code, const char *unit, lt_error *e)
{
    ind_lock(d);
    json_t *j = NULL;
    ind_def def;
    if (!ind_def_load(d, code, &def, e)) {
        bool missing;
        j = def.live >= 0 ? live_json(&d->live[def.live]) : def_record(d, code, &missing);
        if (j && def.live < 0) {
            json_object_set_new(j, "counts_tier", json_string(def.count_tier));
            json_object_set_new(j, "computed", json_boolean(def.computed));
            pins_resolve(ind_units_of(d), j, unit ? unit : d->c->unit);
        }
    }
    ind_unlock(d);
    return j;
}

static int list_one(void *ctx, const char *id, size_t idlen, const uint8_t *rec, size_t len)
{
    char err[64];
    if (record_is_deleted(rec, len))
        return 0;
    json_t *j = record_to_json(rec, len, id, idlen, err, sizeof err);
    if (j) {
        json_object_set(j, "code", json_object_get(j, "id"));
        json_object_del(j, "id");
        json_object_set_new(j, "computed", json_boolean(json_object_get(j, "numerator") != NULL));
        json_array_append_new(ctx, j);
    }
    return 0;
}

static int by_code(const void *a, const void *b)
{
    return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "code")),
                  json_string_value(json_object_get(*(json_t *const *)b, "code")));
}

json_t *indicators_list(indicators *d, const char *unit)
{
    ind_lock(d);
    json_t *all = json_array();
    store_records(d->s, INDICATOR_COLL, list_one, all);
    const ind_units *us = ind_units_of(d);
    size_t i;
    json_t *j;
    json_array_foreach(all, i, j) pins_resolve(us, j, unit ? unit : d->c->unit);
    for (size_t l = 0; l < d->nlive; l++)
        json_array_append_new(all, live_json(&d->live[l]));
    ind_unlock(d);
    size_t n = json_array_size(all);
    json_t **items = malloc((n ? n : 1) * sizeof *items);
    json_t *sorted = json_array();
    if (items) {
        for (size_t k = 0; k < n; k++)
            items[k] = json_array_get(all, k);
        qsort(items, n, sizeof *items, by_code);
        for (size_t k = 0; k < n; k++)
            json_array_append(sorted, items[k]);
    }
    free(items);
    json_decref(all);
    return sorted;
}
