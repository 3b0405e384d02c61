/*
 * metrics.h - GET /metrics: the node's figures in the Prometheus text
 * format (version 0.0.4), names prefixed lienthong_ and following the
 * Prometheus conventions (_total counters, _seconds, _bytes).
 *
 * What it counts: HTTP requests per route, method and status with a
 * latency histogram per route (fed by metrics_observe, the server's
 * observer); entries applied per collection since the node started (from
 * the store's arrival counter) and entries refused (held in quarantine) per
 * collection; each replication link's state and backlog; the LMDB map size
 * and the bytes its file uses; free disk; requests on the thread pool; and
 * any gauge the assembly adds (FFmpeg jobs when cameras exist). The names
 * are listed in docs/operations.md.
 *
 * The store is read on the thread pool; everything else on the loop.
 */
#ifndef LT_METRICS_H
#define LT_METRICS_H

#include "node/env/env.h"
#include "node/http/http.h"

typedef struct metrics metrics;

/* A gauge the assembly provides: fn(ctx) gives its value, on the loop. */
typedef double (*metrics_gauge_fn)(void *ctx);

/* A new, empty registry for the node of env (counting entries from the
 * store's present arrival position on). NULL when out of memory. */
metrics *metrics_new(node_env *env);

/* Frees m. NULL is ignored. */
void metrics_free(metrics *m);

/* Adds gauge name (without the lienthong_ prefix; a string constant) with
 * its help text; at most 8. Call before serving. */
void metrics_add_gauge(metrics *m, const char *name, const char *help, metrics_gauge_fn fn,
                       void *ctx);

/* Counts one answer of the HTTP server (an http_observer body): its route,
 * method, status and latency. Loop thread. */
void metrics_observe(metrics *m, const http_request *req, const http_response *res);

/* GET /metrics for an admin of the node (Bearer token or session). */
void metrics_api_admin(void *ctx, const http_request *req, http_response *res);

/* GET /metrics without login: for the separate address of
 * `serve --metrics-listen`, which serves nothing else. */
void metrics_api_open(void *ctx, const http_request *req, http_response *res);

#endif
