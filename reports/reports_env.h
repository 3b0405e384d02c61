/*
 * reports_env.h - what the HTTP handlers of the reports domain share: the
 * node's services (node/env/env.h), the domain context and the per-address
 * limits of citizens' submissions and lookups. The daemon makes one at start
 * (reports_env_new) and registers reports_env_routes; nothing outside this
 * folder looks inside.
 */
#ifndef LT_REPORTS_ENV_H
#define LT_REPORTS_ENV_H

#include "node/env/env.h"
#include "node/http/http.h"
#include "node/http/ratelimit.h"
#include "node/people/auth.h"
#include "reports/reports.h"
#include "reports/submit_keys.h"
#include "storage/entry.h"

typedef struct reports_env {
    node_env *node;
    reports *reports;
    ratelimit *submit_limit;  /* public submissions per address (public_api.h) */
    ratelimit *lookup_limit;  /* public lookups without a token per address (public_api.h) */
    submit_keys *submit_keys; /* idempotency keys of public submissions (submit_keys.h) */
} reports_env;

/* The reports domain of the node of env: a reports context over its store
 * and config, and the submission limit. NULL when out of memory. */
reports_env *reports_env_new(node_env *env);

/* Frees what reports_env_new made. NULL is ignored. */
void reports_env_free(reports_env *e);

/* Fills routes (room for cap) with every HTTP route of the domain (the
 * native API, lists and statistics, the citizens' API, Open311), bound to
 * e; returns how many were written. */
size_t reports_env_routes(reports_env *e, http_route *routes, size_t cap);

/* The live event of report entry e for the web UI (an events_source of
 * node/events.h, ctx: the reports_env): {"type": "report", "id", "status",
 * "unit", "action" (the newest history item's)}, with the report's area and
 * owner paths as *scope. */
json_t *reports_env_event(void *ctx, const entry_view *e, json_t **scope);

#endif
