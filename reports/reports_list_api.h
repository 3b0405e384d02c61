/*
 * reports_list_api.h - listing and counting field reports over HTTP:
 * GET /api/v1/reports (filters, text search, cursor pages) and
 * GET /api/v1/reports/stats (figures of a unit or its subtree, optionally
 * per child unit). Login required; the unit asked for must be the caller's
 * unit or inside its subtree. Contract: docs/reports.md.
 */
#ifndef LT_REPORTS_LIST_API_H
#define LT_REPORTS_LIST_API_H

#include "node/http/http.h"
#include "reports/reports_env.h"

/* GET /api/v1/reports exactly (ctx: the reports_env); other paths under
 * it answer 404 (they belong to the one-report handlers). */
void reports_list_api_get(void *ctx, const http_request *req, http_response *res);

/* GET /api/v1/reports/stats (ctx: the reports_env). */
void reports_stats_api_get(void *ctx, const http_request *req, http_response *res);

#endif
