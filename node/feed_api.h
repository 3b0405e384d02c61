/*
 * feed_api.h - GET /api/v1/feed?since=CURSOR&limit=N: the changes this
 * node applied, as JSON Lines, for an analytics engine (ClickHouse,
 * Kafka: docs/operations.md).
 *
 * One line per entry, in the order the store received them:
 *   {"cursor": "1234", "collection": "reports", "id": "…", "unit": "…",
 *    "op": "put", "record": {…the entry's fields…}, "origin": "<hex>",
 *    "seq": 7, "hlc": 123}
 * "since" takes the cursor of the last line read (default: from the
 * start); the answer holds at most "limit" lines (default FEED_LIMIT,
 * at most FEED_LIMIT_MAX) and ends at the newest entry. A consumer that
 * stops anywhere and asks again with its last complete line's cursor gets
 * every later entry exactly once. For an admin of the node (Bearer token).
 * The answer is streamed in pieces read on the thread pool, never built
 * whole in memory.
 */
#ifndef LT_FEED_API_H
#define LT_FEED_API_H

#include "node/http/http.h"

#define FEED_LIMIT 10000
#define FEED_LIMIT_MAX 1000000

/* The handler (ctx: the node_env). */
void feed_api_get(void *ctx, const http_request *req, http_response *res);

#endif
