/*
 * report_summary.c - see report_summary.h.
 */
#include "reports/report_summary.h"
#include "storage/record.h"

#include <string.h>

/* Fields copied as they are, in list order. */
static const char *const plain[] = {"code", "title", "category", "status", "area_unit",
                                    "owner_unit", "lat", "lon", "address", "escalation_level",
                                    "escalated_to", "rating", "channel"};
static const char *const personal_fields[] = {"reporter_name", "reporter_phone",
                                              "reporter_email"};

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
