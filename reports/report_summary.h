/*
 * report_summary.h - one report as an item of a list (GET /api/v1/reports
 * and the pages built on it).
 */
#ifndef LT_REPORT_SUMMARY_H
#define LT_REPORT_SUMMARY_H

#include "storage/report_query.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* {"id", "code", "title", "category", "status", "area_unit", "owner_unit",
 * "lat", "lon", "address", "created_at", "deadline_at" (W3C datetimes in
 * +07:00, absent when unset), "overdue" (open, with a deadline before
 * now_ms), "escalation_level", "escalated_to", "rating", "channel"}, plus
 * "reporter_name", "reporter_phone", "reporter_email" when personal.
 * Unset fields are left out. Returns a new reference, NULL when rec is not
 * a valid record. */
json_t *report_summary_json(const uint8_t *rec, size_t len, const char *id, size_t idlen,
                            uint64_t now_ms, bool personal);

#endif
