/*
 * reports_csv_api.h - the reports list as CSV: GET /api/v1/reports?format=csv
 * (or Accept: text/csv). The same filters and visibility as the JSON list
 * (reports_list_api.h), every matching report in the list's order, not one
 * page. Contract: docs/reports.md "CSV export".
 */
#ifndef LT_REPORTS_CSV_API_H
#define LT_REPORTS_CSV_API_H

#include "node/http/http.h"
#include "reports/report_query.h"
#include "reports/reports_env.h"

/* Answers req with every report q matches (q's limit and cursor are
 * ignored) as UTF-8 CSV with a byte order mark (Excel reads the
 * Vietnamese right), one header row, unit names beside unit codes;
 * personal adds the reporter's fields. The work runs on the thread pool
 * (offload.h); q's strings are copied first. */
void reports_csv_answer(reports_env *d, const report_query *q, bool personal,
                        const http_request *req, http_response *res);

#endif
