/*
 * api.h - the node's HTTP JSON API under /api/v1 (routes and handlers).
 */
#ifndef LT_API_H
#define LT_API_H

#include "node/daemon.h"
#include "node/http.h"

/* Fills routes (room for cap) with the node's API bound to d; returns how
 * many were written. */
size_t api_routes(node_daemon *d, http_route *routes, size_t cap);

/* True when the caller of req is an admin; otherwise fills res with 401
 * and returns false. The only admin check of the API. */
bool api_require_admin(node_daemon *d, const http_request *req, http_response *res);

#endif
