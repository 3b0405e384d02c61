/*
 * indicators_env.h - what the HTTP handlers of the indicators domain
 * share: the node's services and the domain context. The daemon makes one
 * at start and registers indicators_env_routes.
 */
#ifndef LT_INDICATORS_ENV_H
#define LT_INDICATORS_ENV_H

#include "indicators/indicators.h"
#include "node/env/env.h"
#include "node/http/http.h"

typedef struct indicators_env {
    node_env *node;
    indicators *ind;
} indicators_env;

/* The indicators domain of the node of env. NULL when out of memory. */
indicators_env *indicators_env_new(node_env *env);

/* Frees what indicators_env_new made. NULL is ignored. */
void indicators_env_free(indicators_env *e);

/* Fills routes (room for cap) with the domain's HTTP routes, bound to e:
 *   GET  /api/v1/indicators                     the definitions
 *   GET  /api/v1/indicators/{code}              one definition
 *   PUT  /api/v1/indicators/{code}              define (admin, top tier)
 *   PUT  /api/v1/indicators/{code}/pinned       {"pinned": bool} for the subtree (same)
 *   GET  /api/v1/indicators/{code}/values[.csv] ?unit&from&to&by=period|child|unit
 *   GET  /api/v1/indicators/{code}/values/{unit}/{period}   one value, its history
 *   PUT  /api/v1/indicators/{code}/values/{unit}/{period}   {"value", "comment"}
 *   GET  /api/v1/indicators/{code}/template.csv ?unit&period
 *   POST /api/v1/indicators/values.csv          import (text/csv, thread pool)
 *   GET  /api/v1/completeness[.csv]             ?indicator&period&unit
 * Returns how many were written. */
size_t indicators_env_routes(indicators_env *e, http_route *routes, size_t cap);

#endif
