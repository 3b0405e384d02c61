/*
 * report_summary.c - see report_summary.h.
 */
#include "reports/report_summary.h"
#include "reports/reports_internal.h"
#include "storage/record.h"

#include <stdlib.h>
#include <string.h>

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* (report_summary.h) */
const char **report_history_keys(json_t *j, size_t *n)
{
    const char **keys = calloc(json_object_size(j) + 1, sizeof *keys);
    const char *k;
    json_t *v;
    *n = 0;
    if (!keys)
        return NULL;
    json_object_foreach(j, k, v) if (!strncmp(k, "h/", 2)) keys[(*n)++] = k;
    qsort(keys, *n, sizeof *keys, key_cmp);
    return keys;
}

/* (report_summary.h) Concurrent escalations at two tiers (say level 1 by
 * the district, level 2 by the province) keep the highest level; an owner
 * change starts again at 0. */
void report_escalation_from_history(json_t *j)
{
    size_t n;
    const char **keys = report_history_keys(j, &n);
    json_int_t level = 0;
    const char *to = "";
    for (size_t i = 0; keys && i < n; i++) {
        json_t *h = json_object_get(j, keys[i]);
        const char *a = report_str(h, "action");
        if (!strcmp(a, "receive") || !strcmp(a, "assign") || !strcmp(a, "transfer")) {
            level = 0;
            to = "";
        } else if (!strcmp(a, "escalate") &&
                   json_integer_value(json_object_get(h, "level")) > level) {
            level = json_integer_value(json_object_get(h, "level"));
            to = report_str(h, "target");
        }
    }
    free(keys);
    json_object_set_new(j, "escalation_level", json_integer(level));
    if (*to)
        json_object_set_new(j, "escalated_to", json_string(to));
    else
        json_object_del(j, "escalated_to");
}

/* Fields copied as they are, in list order. */
static const char *const plain[] = {
    "code", "title",   "category",         "status",       "area_unit", "owner_unit", "lat",
    "lon",  "address", "escalation_level", "escalated_to", "rating",    "channel",    "assignee"};
static const char *const personal_fields[] = {"reporter_name", "reporter_phone", "reporter_email"};

static void copy_field(json_t *out, json_t *rec, const char *name)
{
    json_t *v = json_object_get(rec, name);
    if (v)
        json_object_set(out, name, v);
}

static uint64_t field_ms(json_t *rec, const char *name)
{
    json_t *v = json_object_get(rec, name);
    return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
}

static void set_time(json_t *out, const char *name, uint64_t ms)
{
    char w3c[40];
    if (!ms)
        return;
    report_time_w3c(ms, w3c, sizeof w3c);
    json_object_set_new(out, name, json_string(w3c));
}

json_t *report_summary_json(const uint8_t *rec, size_t len, const char *id, size_t idlen,
                            uint64_t now_ms, bool personal)
{
    char err[128];
    json_t *full = record_to_json(rec, len, id, idlen, err, sizeof err);
    if (!full)
        return NULL;
    json_t *out = json_object();
    report_escalation_from_history(full);
    json_object_set_new(out, "id", json_stringn(id, idlen));
    for (size_t i = 0; i < sizeof plain / sizeof *plain; i++)
        copy_field(out, full, plain[i]);
    for (size_t i = 0; personal && i < sizeof personal_fields / sizeof *personal_fields; i++)
        copy_field(out, full, personal_fields[i]);
    uint64_t deadline = field_ms(full, "deadline_ms");
    set_time(out, "created_at", field_ms(full, "created_ms"));
    set_time(out, "deadline_at", deadline);
    json_t *st = json_object_get(full, "status");
    bool open = json_is_string(st) && report_status_open(json_string_value(st));
    json_object_set_new(out, "overdue", json_boolean(open && deadline && deadline < now_ms));
    json_decref(full);
    return out;
}
