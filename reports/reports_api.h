/*
 * reports_api.h - the native HTTP API of field reports (login required;
 * docs/reports.md, docs/openapi.yaml):
 *
 *   POST  /api/v1/reports                     staff: a report taken by phone
 *   GET   /api/v1/reports/{id}                the report with its history
 *   PATCH /api/v1/reports/{id}                staff: edit fields
 *   POST  /api/v1/reports/{id}/actions        one action of the state machine
 *   GET   /api/v1/reports/{id}/photos/{hash}  a photo's bytes
 *   GET   /api/v1/categories                  the categories
 *   PUT   /api/v1/categories/{code}           admin at a top tier
 *   GET   /api/v1/holidays?year=YYYY          the holiday calendar
 *   PUT, DELETE /api/v1/holidays/{date}       admin at a top tier
 *
 * A report is visible to a user whose unit is an ancestor-or-self of its
 * area unit or of its owner; anyone else gets 404. Handler ctx: the
 * reports_env. The lists and statistics (GET /api/v1/reports and
 * /api/v1/reports/stats) are reports/reports_list_api.c's; the longest-prefix
 * rule of node/http/http.h sends /api/v1/reports/{id}... here.
 */
#ifndef LT_REPORTS_API_H
#define LT_REPORTS_API_H

#include "node/http/http.h"
#include "reports/reports_env.h"

/* Answers with the bytes of photo hash of report code (its Content-Type,
 * the given Cache-Control), or 404/500 saying what is missing. The caller
 * has decided that the requester may see the report. */
void reports_api_photo(reports_env *d, const char *code, const char *hash, const char *cache,
                       http_response *res);

void reports_api_create(void *ctx, const http_request *req, http_response *res);
void reports_api_item(void *ctx, const http_request *req, http_response *res);
void reports_api_categories(void *ctx, const http_request *req, http_response *res);
void reports_api_category_put(void *ctx, const http_request *req, http_response *res);
void reports_api_holidays(void *ctx, const http_request *req, http_response *res);
/* PUT (body {name_vi, name_en, off}) or DELETE of /api/v1/holidays/{date};
 * answers with that year's holidays after the change. */
void reports_api_holiday_write(void *ctx, const http_request *req, http_response *res);

#endif
