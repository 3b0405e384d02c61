/*
 * reports_env.c - the reports domain as the daemon assembles it: its
 * context, its submission limit and its table of HTTP routes.
 */
#include "reports/reports_env.h"
#include "reports/open311.h"
#include "reports/public_api.h"
#include "reports/reports_api.h"
#include "reports/reports_list_api.h"

#include <stdlib.h>

reports_env *reports_env_new(node_env *env)
{
    reports_env *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->node = env;
    e->reports = reports_new(env->store, env->config);
    e->submit_limit = ratelimit_new(PUBLIC_SUBMIT_MAX, PUBLIC_SUBMIT_WINDOW_MS,
                                    PUBLIC_SUBMIT_WINDOW_MS, PUBLIC_SUBMIT_WINDOW_MS);
    e->lookup_limit = ratelimit_new(PUBLIC_LOOKUP_MAX, PUBLIC_LOOKUP_WINDOW_MS,
                                    PUBLIC_LOOKUP_WINDOW_MS, PUBLIC_LOOKUP_LOCK_MAX_MS);
    e->submit_keys = submit_keys_new();
    if (!e->reports || !e->submit_limit || !e->lookup_limit || !e->submit_keys) {
        reports_env_free(e);
        return NULL;
    }
    return e;
}

void reports_env_free(reports_env *e)
{
    if (!e)
        return;
    reports_free(e->reports);
    ratelimit_free(e->submit_limit);
    ratelimit_free(e->lookup_limit);
    submit_keys_free(e->submit_keys);
    free(e);
}

size_t reports_env_routes(reports_env *e, http_route *routes, size_t cap)
{
    const http_route all[] = {
        {"GET", "/api/v1/reports/stats", reports_stats_api_get, e, 0},
        {"GET", "/api/v1/reports", reports_list_api_get, e, 0},
        {"POST", "/api/v1/reports", reports_api_create, e, PUBLIC_MAX_BODY},
        {NULL, "/api/v1/reports/", reports_api_item, e, PUBLIC_MAX_BODY}, /* resolve photos */
        {"GET", "/api/v1/categories", reports_api_categories, e, 0},
        {"PUT", "/api/v1/categories/", reports_api_category_put, e, 0},
        {"GET", "/api/v1/holidays", reports_api_holidays, e, 0},
        {"PUT", "/api/v1/holidays/", reports_api_holiday_write, e, 0},
        {"DELETE", "/api/v1/holidays/", reports_api_holiday_write, e, 0},
        {NULL, OPEN311_PREFIX, open311_handle, e, PUBLIC_MAX_BODY},
    };
    size_t n = http_routes_copy(routes, cap, all, sizeof all / sizeof *all);
    return n + public_api_routes(e, routes + n, cap - n);
}
