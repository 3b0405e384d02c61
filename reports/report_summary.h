/*
 * report_summary.h - one report as an item of a list (GET /api/v1/reports
 * and the pages built on it), and the reading of a report's history that
 * the list and the detail view (reports_get_json) share, so both show the
 * same escalation level.
 */
#ifndef LT_REPORT_SUMMARY_H
#define LT_REPORT_SUMMARY_H

#include "reports/report_query.h"

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
/* The names of rec's history fields ("h/<hlc>/<origin>") in HLC order,
 * malloc'd (the strings are rec's); *n of them. NULL when out of memory. */
const char **report_history_keys(json_t *rec, size_t *n);

/* Sets rec's escalation_level and escalated_to from its history rather
 * than the scalar fields: the highest "escalate" level since the last
 * receive, assign or transfer (0 and no escalated_to when none), so
 * concurrent escalations at two tiers show the same level on every node
 * and in every view, whichever entry carries the newer stamp. */
void report_escalation_from_history(json_t *rec);

json_t *report_summary_json(const uint8_t *rec, size_t len, const char *id, size_t idlen,
                            uint64_t now_ms, bool personal);

#endif
