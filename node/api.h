/*
 * api.h - the node's HTTP JSON API under /api/v1 (routes and handlers).
 */
#ifndef LT_API_H
#define LT_API_H

#include "node/env/env.h"
#include "node/http/http.h"

/* Fills routes (room for cap) with the node's API bound to d; returns how
 * many were written. */
size_t api_routes(node_env *d, http_route *routes, size_t cap);

#endif
