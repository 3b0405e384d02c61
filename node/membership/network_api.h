/*
 * network_api.h - GET /api/v1/network: the hierarchy as the caller may see
 * it, with the state of every node in it, for the web UI's network page.
 *
 * {"unit": this node's unit, "caller_unit",
 *  "units": [{"code", "name", "tier", "parent"}]  the caller's subtree and
 *           its ancestors, from the replicated "units" records,
 *  "origins": [{"node", "unit", "max_seq", "count", "last_ms"}]  every node
 *           whose entries this node holds, with the wall time (from the HLC)
 *           of its newest entry held: "last heard of" for nodes this node has
 *           no direct link to,
 *  "sync": GET /api/v1/sync (this node's own links: state, backlog both
 *          ways, errors)}
 * Viewers and above. A commune that goes offline shows on the node it links
 * to (its link closes within seconds); higher tiers see its "last_ms" age.
 */
#ifndef LT_NETWORK_API_H
#define LT_NETWORK_API_H

#include "node/env/env.h"
#include "node/http/http.h"

/* The handler (ctx: the node_env). */
void network_api_get(void *ctx, const http_request *req, http_response *res);

#endif
