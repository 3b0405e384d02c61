/*
 * categories.c - report categories: five built-in defaults, overridden
 * field by field by records of collection "categories" (id = the service
 * code; written only at the top tiers, see storage/authority.h), the owner
 * a category gives a report on receipt, and its deadline.
 */
#include "reports/reports_internal.h"
#include "reports/workhours.h"
#include "storage/record.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *code, *name_vi, *name_en, *owner_tier;
    unsigned hours, days;
} category_default;

static const category_default defaults[] = {
    {"construction", "Xây dựng", "Construction", "district", 0, 10},
    {"environment", "Môi trường", "Environment", "district", 0, 5},
    {"public_order", "An ninh trật tự", "Public order", "commune", 24, 0},
    {"smart_services", "Khó khăn khi sử dụng dịch vụ đô thị thông minh",
     "Problems using smart city services", "province", 0, 3},
    {"traffic", "Giao thông", "Traffic", "district", 48, 0},
};
#define NDEFAULTS (sizeof defaults / sizeof *defaults)

static json_t *default_json(const category_default *d)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:s}", "code", d->code, "name_vi",
                          d->name_vi, "name_en", d->name_en, "description_vi", "", "description_en",
                          "", "owner_tier", d->owner_tier, "active", 1, "group", "");
    if (d->hours)
        json_object_set_new(j, "deadline_hours", json_integer(d->hours));
    else
        json_object_set_new(j, "deadline_days", json_integer(d->days));
    return j;
}

static const category_default *default_find(const char *code)
{
    for (size_t i = 0; i < NDEFAULTS; i++)
        if (!strcmp(defaults[i].code, code))
            return &defaults[i];
    return NULL;
}

/* Lays the record's fields over base (the default, or an empty object). */
static json_t *category_merge(const category_default *d, const uint8_t *rec, size_t len,
                              const char *code)
{
    char err[128];
    json_t *j = d ? default_json(d) : json_pack("{s:s, s:b}", "code", code, "active", 1);
    json_t *f = rec && !record_is_deleted(rec, len)
                    ? record_to_json(rec, len, code, strlen(code), err, sizeof err)
                    : NULL;
    if (f) {
        if (json_object_get(f, "deadline_hours") || json_object_get(f, "deadline_days")) {
            json_object_del(j, "deadline_hours");
            json_object_del(j, "deadline_days");
        }
        json_object_del(f, "id");
        json_object_update(j, f);
        json_decref(f);
    }
    return j;
}

json_t *category_get(reports *r, const char *code)
{
    uint8_t *rec = NULL;
    size_t len = 0;
    const category_default *d = default_find(code);
    int rc = store_record_get(r->s, CATEGORY_COLL, code, &rec, &len);
    if (rc != 0 && !d)
        return NULL;
    if (rc == 0 && !d && record_is_deleted(rec, len)) {
        free(rec);
        return NULL;
    }
    json_t *j = category_merge(d, rc == 0 ? rec : NULL, len, code);
    free(rec);
    return j;
}

typedef struct {
    json_t *seen;
} cat_walk;

static int cat_one(void *ctx, const char *id, size_t idlen, const uint8_t *rec, size_t reclen)
{
    cat_walk *w = ctx;
    char code[ENTRY_MAX_NAME + 1];
    snprintf(code, sizeof code, "%.*s", (int)idlen, id);
    if (record_is_deleted(rec, reclen))
        return 0;
    json_object_set_new(w->seen, code, category_merge(default_find(code), rec, reclen, code));
    return 0;
}

static json_t *categories_json_locked(reports *r, bool all)
{
    cat_walk w = {json_object()};
    for (size_t i = 0; i < NDEFAULTS; i++)
        json_object_set_new(w.seen, defaults[i].code, default_json(&defaults[i]));
    store_records(r->s, CATEGORY_COLL, cat_one, &w);
    const char **keys = calloc(json_object_size(w.seen) + 1, sizeof *keys);
    size_t n = 0;
    const char *k;
    json_t *v;
    json_object_foreach(w.seen, k, v) keys[n++] = k;
    for (size_t i = 1; i < n; i++) /* insertion sort: a handful of codes */
        for (size_t j = i; j && strcmp(keys[j - 1], keys[j]) > 0; j--) {
            const char *t = keys[j];
            keys[j] = keys[j - 1];
            keys[j - 1] = t;
        }
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *c = json_object_get(w.seen, keys[i]);
        if (all || json_is_true(json_object_get(c, "active")))
            json_array_append(out, c);
    }
    free(keys);
    json_decref(w.seen);
    return out;
}

json_t *reports_categories_json(reports *r, bool all)
{
    reports_lock(r);
    json_t *rc = categories_json_locked(r, all);
    reports_unlock(r);
    return rc;
}

void category_owner(reports *r, const json_t *cat, const json_t *area_path, char *out, size_t cap)
{
    const char *tier = report_str(cat, "owner_tier");
    size_t n = json_array_size(area_path);
    snprintf(out, cap, "%s", n ? json_string_value(json_array_get(area_path, n - 1)) : "");
    for (size_t i = 0; i < n; i++) {
        const char *u = json_string_value(json_array_get(area_path, i));
        char t[NODE_CODE_MAX];
        if (u && reports_unit_tier(r, u, t, sizeof t) && !strcmp(t, tier)) {
            snprintf(out, cap, "%s", u);
            return;
        }
    }
}

uint64_t category_deadline(reports *r, const json_t *cat, uint64_t from_ms)
{
    json_int_t h = json_integer_value(json_object_get(cat, "deadline_hours"));
    json_int_t d = json_integer_value(json_object_get(cat, "deadline_days"));
    if (h <= 0 && d <= 0)
        return 0;
    workhours_calendar cal;
    holiday_calendar_load(r, &cal);
    uint64_t at = h > 0 ? workhours_add_hours(&cal, from_ms, (unsigned)h)
                        : workhours_add_days(&cal, from_ms, (unsigned)d);
    free((void *)cal.days);
    return at;
}

static bool code_valid(const char *code)
{
    size_t n = strlen(code);
    if (!n || n > 32)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((code[i] >= 'a' && code[i] <= 'z') || (code[i] >= '0' && code[i] <= '9') ||
              code[i] == '_'))
            return false;
    return true;
}

/* Validates the fields of a category record; returns 0 or -1 with *e. */
static int category_fields_check(reports *r, const json_t *f, lt_error *e)
{
    static const char *const strs[] = {"name_vi",        "name_en",    "description_vi",
                                       "description_en", "owner_tier", "group"};
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)f, k, v)
    {
        bool known = false;
        for (size_t i = 0; i < sizeof strs / sizeof *strs; i++)
            if (!strcmp(k, strs[i])) {
                known = true;
                if (!json_is_string(v) || json_string_length(v) > 1000) {
                    return lt_error_set(e, LT_EINVAL, "category.field_invalid",
                                        "%s must be a string of at most 1000 bytes", k);
                }
            }
        if (!strcmp(k, "deadline_hours") || !strcmp(k, "deadline_days")) {
            known = true;
            if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000) {
                return lt_error_set(e, LT_EINVAL, "category.field_invalid",
                                    "%s must be a whole number from 0 to 1000", k);
            }
        }
        if (!strcmp(k, "active")) {
            known = true;
            if (!json_is_boolean(v)) {
                return lt_error_set(e, LT_EINVAL, "category.field_invalid",
                                    "active must be true or false");
            }
        }
        if (!known) {
            return lt_error_set(
                e, LT_EINVAL, "category.field_invalid",
                "unknown category field \"%s\": use name_vi, name_en, description_vi, "
                "description_en, owner_tier, deadline_hours, deadline_days, active, group",
                k);
        }
    }
    const char *tier = json_string_value(json_object_get(f, "owner_tier"));
    if (tier && node_tier_index(r->c, tier) < 0) {
        return lt_error_set(e, LT_EINVAL, "category.tier_unknown",
                            "owner_tier \"%s\" is not a tier of this network", tier);
    }
    return 0;
}

static int category_put_locked(reports *r, const char *code, const json_t *fields,
                               const reports_actor *who, lt_error *e)
{
    if (!code_valid(code))
        return lt_error_set(e, LT_EINVAL, "category.code_invalid",
                            "category code \"%s\" must be 1-32 of a-z 0-9 _", code);
    if (!json_is_object(fields))
        return lt_error_set(e, LT_EINVAL, "category.body_invalid",
                            "the body must be a JSON object of category fields");
    if (top_tier_check(r, who, "categories", e) || category_fields_check(r, fields, e) ||
        top_tier_write(r, CATEGORY_COLL, code, ENTRY_OP_PATCH, fields, e))
        return -1;
    return 0;
}

int reports_category_put(reports *r, const char *code, const json_t *fields,
                         const reports_actor *who, lt_error *e)
{
    reports_lock(r);
    int rc = category_put_locked(r, code, fields, who, e);
    reports_unlock(r);
    return rc;
}
