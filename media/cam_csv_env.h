/*
 * cam_csv_env.h - the cameras list as CSV: GET /api/v1/cameras?format=csv
 * (or Accept: text/csv). Contract: docs/media.md "CSV export".
 */
#ifndef LT_CAM_CSV_ENV_H
#define LT_CAM_CSV_ENV_H

#include "media/cam_index.h"
#include "media/media_env.h"
#include "node/http/http.h"

/* When req asks CSV (?format=csv or Accept: text/csv), answers it with
 * every camera q selects (q's limit and cursor are ignored) as UTF-8 CSV
 * with a byte order mark, on the thread pool; the stream address without
 * credentials (they never leave the owning node's local table). Returns
 * false, answering nothing, when req asks JSON. */
bool cam_csv_answer(media_env *d, const cam_list_query *q, const http_request *req,
                    http_response *res);

#endif
