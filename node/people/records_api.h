/*
 * records_api.h - reading records over HTTP, under the visibility rule
 * (node/people/access.h): GET /api/v1/records/{coll} and
 * GET /api/v1/records/{coll}/{id}. Domain APIs (reports, documents, ...)
 * add their own filters on top; this is the generic read path the web UI
 * and scripts use, and every record it returns has passed access_visible.
 */
#ifndef LT_RECORDS_API_H
#define LT_RECORDS_API_H

#include "node/env/env.h"
#include "node/http/http.h"

/* The handler of both paths (ctx: the node_env). Needs a logged-in
 * viewer. A record the caller may not see answers 404 like an absent one,
 * so that its existence does not leak. Reporter name and phone are left
 * out for viewers. */
void records_api_get(void *ctx, const http_request *req, http_response *res);

#endif
