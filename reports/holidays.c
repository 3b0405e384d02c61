/*
 * holidays.c - the public holiday calendar that working-time deadlines
 * count with: collection "holidays", id = a Vietnam date "YYYY-MM-DD",
 * fields name_vi, name_en, off (true = a public holiday, ngày nghỉ lễ;
 * false = a compensating working day, ngày làm bù). Written only at the
 * top tiers (see top_tier.c, storage/authority.h) and addressed "*", so
 * every node counts deadlines with the same calendar. Dates move every
 * year with the lunar calendar and the government's decisions, so they
 * are records an admin enters, never code.
 */
#include "reports/reports_internal.h"
#include "storage/record.h"

#include <stdlib.h>
#include <string.h>

/* The record as {date, name_vi, name_en, off}, or NULL when deleted,
 * unreadable or not under a date id. New reference. */
static json_t *holiday_json(const char *id, size_t idlen, const uint8_t *rec, size_t len)
{
    char date[11], err[128];
    int64_t day;
    if (idlen != 10 || record_is_deleted(rec, len))
        return NULL;
    memcpy(date, id, 10);
    date[10] = 0;
    json_t *f = workhours_date_parse(date, &day)
                    ? record_to_json(rec, len, id, idlen, err, sizeof err)
                    : NULL;
    if (!f)
        return NULL;
    json_t *off = json_object_get(f, "off");
    json_t *j = json_pack("{s:s, s:s, s:s, s:b}", "date", date, "name_vi", report_str(f, "name_vi"),
                          "name_en", report_str(f, "name_en"), "off", !json_is_false(off));
    json_decref(f);
    return j;
}

typedef struct {
    json_t *out;    /* array of holiday_json */
    char prefix[6]; /* "YYYY-" or "" */
} holiday_walk;

static int holiday_one(void *ctx, const char *id, size_t idlen, const uint8_t *rec, size_t len)
{
    holiday_walk *w = ctx;
    size_t pn = strlen(w->prefix);
    if (idlen < pn || memcmp(id, w->prefix, pn))
        return 0;
    json_t *j = holiday_json(id, idlen, rec, len);
    if (j)
        json_array_append_new(w->out, j);
    return 0;
}

static int date_cmp(const void *a, const void *b)
{
    return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "date")),
                  json_string_value(json_object_get(*(json_t *const *)b, "date")));
}

/* The holidays whose date starts with prefix, sorted by date. */
static json_t *holidays_locked(reports *r, const char *prefix)
{
    holiday_walk w = {json_array(), ""};
    snprintf(w.prefix, sizeof w.prefix, "%s", prefix);
    store_records(r->s, HOLIDAY_COLL, holiday_one, &w);
    size_t n = json_array_size(w.out);
    json_t **v = calloc(n + 1, sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(w.out, i));
    qsort(v, n, sizeof *v, date_cmp);
    json_array_clear(w.out);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(w.out, v[i]);
    free(v);
    return w.out;
}

json_t *reports_holidays_json(reports *r, int year)
{
    char prefix[6] = "";
    if (year > 0)
        snprintf(prefix, sizeof prefix, "%04d-", year % 10000);
    reports_lock(r);
    json_t *j = holidays_locked(r, prefix);
    reports_unlock(r);
    return j;
}

void holiday_calendar_load(reports *r, workhours_calendar *cal)
{
    reports_lock(r);
    json_t *all = holidays_locked(r, "");
    size_t n = json_array_size(all), k = 0;
    workhours_day *days = n ? calloc(n, sizeof *days) : NULL;
    json_t *h;
    size_t i;
    json_array_foreach(all, i, h)
    {
        if (days && workhours_date_parse(report_str(h, "date"), &days[k].day)) {
            days[k].off = json_is_true(json_object_get(h, "off"));
            k++;
        }
    }
    json_decref(all);
    reports_unlock(r);
    *cal = (workhours_calendar){days, k};
}

/* The date is a real "YYYY-MM-DD"? 0, or -1 with *e. */
static int date_check(const char *date, lt_error *e)
{
    int64_t day;
    if (workhours_date_parse(date, &day))
        return 0;
    return lt_error_set(
        e, LT_EINVAL, "holiday.date_invalid",
        "\"%s\" is not a date: give the Vietnam date as YYYY-MM-DD, e.g. 2026-09-02", date);
}

/* The stored body of a holiday from the request's fields: 0, or -1 with *e. */
static int holiday_fields(const json_t *in, json_t *out, lt_error *e)
{
    const char *k;
    json_t *v;
    if (!json_is_object(in)) {
        return lt_error_set(e, LT_EINVAL, "holiday.body_invalid",
                            "the body must be a JSON object {name_vi, name_en, off}");
    }
    json_object_foreach((json_t *)in, k, v)
    {
        if (!strcmp(k, "off")) {
            if (!json_is_boolean(v)) {
                return lt_error_set(e, LT_EINVAL, "holiday.field_invalid",
                                    "off must be true (a day off) or false (a working day)");
            }
        } else if (!strcmp(k, "name_vi") || !strcmp(k, "name_en")) {
            if (!json_is_string(v) || json_string_length(v) > 200) {
                return lt_error_set(e, LT_EINVAL, "holiday.field_invalid",
                                    "%s must be a string of at most 200 bytes", k);
            }
        } else {
            return lt_error_set(e, LT_EINVAL, "holiday.field_invalid",
                                "unknown holiday field \"%s\": use name_vi, name_en, off", k);
        }
    }
    const char *vi = json_string_value(json_object_get(in, "name_vi"));
    if (!vi || !*vi) {
        return lt_error_set(e, LT_EINVAL, "holiday.name_missing",
                            "name_vi is required: the holiday's name, e.g. \"Quốc khánh\"");
    }
    json_object_update(out, (json_t *)in);
    if (!json_object_get(out, "name_en"))
        json_object_set_new(out, "name_en", json_string(""));
    if (!json_object_get(out, "off"))
        json_object_set_new(out, "off", json_true());
    return 0;
}

/* PUT (fields) or DELETE (fields NULL) of holiday date. */
static int holiday_write_locked(reports *r, const char *date, const json_t *fields,
                                const reports_actor *who, lt_error *e)
{
    int st;
    if (date_check(date, e) || top_tier_check(r, who, "holidays", e))
        return -1;
    if (!fields) {
        uint8_t *rec = NULL;
        size_t len = 0;
        bool held = store_record_get(r->s, HOLIDAY_COLL, date, &rec, &len) == 0 &&
                    !record_is_deleted(rec, len);
        free(rec);
        if (!held) {
            return lt_error_set(
                e, LT_ENOTFOUND, "holiday.not_found",
                "%s is not a listed holiday: GET /api/v1/holidays?year=%.4s lists them", date,
                date);
        }
        return top_tier_write(r, HOLIDAY_COLL, date, ENTRY_OP_DELETE, NULL, e);
    }
    json_t *body = json_object();
    if (!(st = holiday_fields(fields, body, e)))
        st = top_tier_write(r, HOLIDAY_COLL, date, ENTRY_OP_PUT, body, e);
    json_decref(body);
    return st;
}

static int holiday_write(reports *r, const char *date, const json_t *fields,
                         const reports_actor *who, lt_error *e)
{
    reports_lock(r);
    int st = holiday_write_locked(r, date, fields, who, e);
    reports_unlock(r);
    return st ? -1 : 0;
}

int reports_holiday_put(reports *r, const char *date, const json_t *fields,
                        const reports_actor *who, lt_error *e)
{
    if (!fields) /* NULL would mean a delete below */
        return lt_error_set(e, LT_EINVAL, "holiday.body_invalid",
                            "the body must be a JSON object {name_vi, name_en, off}");
    return holiday_write(r, date, fields, who, e);
}

int reports_holiday_delete(reports *r, const char *date, const reports_actor *who, lt_error *e)
{
    return holiday_write(r, date, NULL, who, e);
}
