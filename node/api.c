/*
 * api.c - the HTTP JSON API of a node.
 *
 *   GET /, /ui/...        the web UI (node/http/static_web.h)
 *   GET /api/v1, /api     an index of the API
 *   GET /api/v1/health    liveness, no login: node key, unit, tier, version
 *   GET /api/v1/status    the status document (see status.h), with "sync"
 *   GET /api/v1/sync      the replication links (see repl_link.h), no login
 *   GET /api/v1/quarantine entries refused on write authority, admins
 *   GET /api/v1/records/{coll}[/{id}]  records under the visibility rule
 *   POST /api/v1/login, POST /api/v1/logout, GET /api/v1/me   (node/people/auth.h)
 *   GET /api/v1/audit     the audit log, admins (node/people/audit.h)
 *   GET /api/v1/feed      applied changes as JSON Lines, admins (feed_api.h)
 *   GET /metrics          Prometheus metrics, admins (metrics.h; daemon.c)
 *   GET /api/v1/network   the hierarchy with each node's state (network_api.h)
 *   /api/v1/units         tree changes by the root: POST an operation, GET
 *                         /api/v1/units/ops the operations (unit_ops_api.h)
 *   /api/v1/users         accounts, admins (users_api.h)
 *   /api/v1/boundaries, /api/v1/ui/settings  what maps draw (map_api.h)
 *   /basemap.pmtiles  the maps' base layer, byte ranges (basemap.h)
 *   /api/v1/public/geocode  an address to a unit's place (geocode.h)
 *   /api/v1/events        WebSocket live updates for the UI (events.h)
 *   /api/v1/reports, /api/v1/categories, /api/v1/holidays
 *                                       field reports (reports_api.h)
 *   /api/v1/enrol/requests enrolment and key rotation requests (enrol_api.h):
 *                         submitting and polling need no login, the rest admins
 *   /api/v1/public/...    the citizens' API, no login (public_api.h)
 *   /open311/v2/...       Open311 GeoReport v2 (open311.h): reading needs no
 *                         login, submitting an api_key
 *
 * Everything else but health, sync, login and the index needs a logged-in user or
 * an API token (auth_require).
 *
 * Later features add their routes here. The OpenAPI description is in
 * docs/openapi.yaml.
 */
#include "node/api.h"
#include "lib/hex.h"
#include "node/basemap.h"
#include "node/feed_api.h"
#include "node/geocode.h"
#include "node/http/static_web.h"
#include "node/links/repl_link.h"
#include "node/map_api.h"
#include "node/membership/enrol_api.h"
#include "node/membership/network_api.h"
#include "node/membership/quarantine_view.h"
#include "node/membership/unit_ops_api.h"
#include "node/people/audit.h"
#include "node/people/auth.h"
#include "node/people/open311_keys.h"
#include "node/people/records_api.h"
#include "node/people/users_api.h"
#include "node/status.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* True when req->path is exactly path; otherwise answers 404. Routes
 * match by prefix, so handlers of single resources check this first. */
static void api_index(void *ctx, const http_request *req, http_response *res)
{
    node_env *d = ctx;
    if (strcmp(req->path, "/api") && !http_path_exact(req, res, "/api/v1", NULL))
        return; /* any method: unknown paths under /api/v1 are 404s */
    if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) {
        http_response_header(res, "Allow", "GET");
        http_respond_error(res, 405, "%s is not allowed on %s: use GET", req->method, req->path);
        return;
    }
    http_respond_json(
        res, 200,
        json_pack("{s:s, s:s, s:s, s:[s,s,s,s,s,s,s,s,s,s], s:s}", "service", "lienthong", "unit",
                  d->config->unit, "name", d->config->name, "endpoints", "GET /api/v1/health",
                  "GET /api/v1/status", "GET /api/v1/sync", "GET /api/v1/quarantine",
                  "GET /api/v1/records/{coll}", "POST /api/v1/login", "POST /api/v1/logout",
                  "GET /api/v1/me", "GET /api/v1/audit", "POST /api/v1/enrol/requests", "docs",
                  "docs/openapi.yaml in the source tree"));
}

/* The wall clock in milliseconds (for clock-skew checks, lienthong doctor). */
static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void api_health(void *ctx, const http_request *req, http_response *res)
{
    node_env *d = ctx;
    const node_config *c = d->config;
    char key[65];
    if (!http_path_exact(req, res, "/api/v1/health", NULL))
        return;
    http_respond_json(
        res, 200,
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:I, s:I}", "status", "ok", "node",
                  hex_encode(c->pk, 32, key), "unit", c->unit, "name", c->name, "tier", c->tier,
                  "parent", c->parent_unit[0] ? json_string(c->parent_unit) : json_null(),
                  "version", LT_VERSION, "uptime_ms", (json_int_t)(uv_now(d->loop) - d->started_ms),
                  "time_ms", (json_int_t)wall_ms()));
}

static void api_status(void *ctx, const http_request *req, http_response *res)
{
    node_env *d = ctx;
    char err[256];
    if (!http_path_exact(req, res, "/api/v1/status", NULL) ||
        auth_require(d->auth, req, res, ROLE_VIEWER, NULL))
        return;
    json_t *j = status_build(d->config, d->store, err, sizeof err);
    if (!j) {
        http_respond_error(res, 500, "%s; check the node's log and run lienthong verify", err);
        return;
    }
    json_t *sync = repl_links_status(d->links);
    json_object_set_new(sync, "running", json_true());
    json_object_set_new(sync, "age_ms", json_integer(0));
    json_object_set_new(j, "sync", sync);
    http_respond_json(res, 200, j);
}

static void api_sync(void *ctx, const http_request *req, http_response *res)
{
    node_env *d = ctx;
    if (!http_path_exact(req, res, "/api/v1/sync", NULL))
        return;
    if (!auth_has_credential(d->auth, req)) { /* like health: link states for monitoring */
        http_respond_json(res, 200, repl_links_summary(d->links));
        return;
    }
    if (auth_require(d->auth, req, res, ROLE_VIEWER, NULL) == 0)
        http_respond_json(res, 200, repl_links_status(d->links));
}

static void api_quarantine(void *ctx, const http_request *req, http_response *res)
{
    node_env *d = ctx;
    char err[256];
    if (!http_path_exact(req, res, "/api/v1/quarantine", NULL) ||
        auth_require_node_admin(d->auth, req, res, NULL))
        return;
    long limit = 100;
    const char *limit_s = http_request_query_param(req, "limit");
    if (limit_s) {
        char *end;
        limit = strtol(limit_s, &end, 10);
        if (*end || limit < 1 || limit > 10000) {
            http_respond_error(res, 400, "limit must be a number from 1 to 10000");
            return;
        }
    }
    json_t *j = quarantine_view(d->store, (size_t)limit, err, sizeof err);
    if (!j)
        http_respond_error(res, 500, "%s", err);
    else
        http_respond_json(res, 200, j);
}

size_t api_routes(node_env *d, http_route *routes, size_t cap)
{
    const http_route all[] = {
        {"GET", "/api/v1/health", api_health, d, 0},
        {"GET", "/api/v1/status", api_status, d, 0},
        {"GET", "/api/v1/sync", api_sync, d, 0},
        {"GET", "/api/v1/quarantine", api_quarantine, d, 0},
        {"GET", "/api/v1/records", records_api_get, d, 0},
        {"GET", "/api/v1/login/locks", auth_locks, d->auth, 0},
        {"POST", "/api/v1/login", auth_login, d->auth, 0},
        {"POST", "/api/v1/logout", auth_logout, d->auth, 0},
        {"GET", "/api/v1/me", auth_me, d->auth, 0},
        {"GET", "/api/v1/audit", audit_api_list, d, 0},
        {"GET", "/api/v1/feed", feed_api_get, d, 0},
        {"GET", "/api/v1/enrol/requests", enrol_api_get, d, 0},
        {"GET", "/api/v1/network", network_api_get, d, 0},
        {NULL, "/api/v1/users", users_api, d, 0},
        {NULL, "/api/v1/open311/keys", open311_keys_api, d, 0},
        {NULL, "/api/v1/boundaries", map_api_boundaries, d, MAP_BOUNDARY_MAX_BODY},
        {NULL, "/api/v1/ui/settings", map_api_settings, d, 0},
        {"GET", "/basemap.pmtiles", basemap_serve, d, 0},
        {"GET", "/api/v1/public/boundaries", map_api_public_boundaries, d, 0},
        {"GET", "/api/v1/public/geocode", geocode_api, d, 0},
        {"POST", "/api/v1/enrol/requests", enrol_api_post, d, 0},
        {NULL, "/api/v1/units", unit_ops_api, d, 0},
        {NULL, "/api/v1", api_index, d, 0},
        {NULL, "/api", api_index, d, 0},
        {"GET", "/ui/", static_web_serve, NULL, 0},
        {NULL, "/", map_api_page, d, 0},
    };
    return http_routes_copy(routes, cap, all, sizeof all / sizeof *all);
}
