/*
 * map_api.c - see map_api.h.
 */
#include "node/map_api.h"
#include "node/http/offload.h"
#include "node/http/static_web.h"
#include "node/people/auth.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BOUNDARIES_TABLE MAP_BOUNDARIES_TABLE
#define SETTINGS_TABLE "ui_settings"
#define TILE_URL_MAX 512

/* The polygons of a stored GeoJSON value as features tagged with unit,
 * appended to features. */
static void add_features(json_t *features, json_t *g, const char *unit)
{
    const char *type = json_string_value(json_object_get(g, "type"));
    if (!type)
        return;
    if (!strcmp(type, "FeatureCollection")) {
        size_t i;
        json_t *f;
        json_array_foreach(json_object_get(g, "features"), i, f) add_features(features, f, unit);
        return;
    }
    json_t *geom = !strcmp(type, "Feature") ? json_object_get(g, "geometry") : g;
    json_t *props = json_object_get(g, "properties");
    json_t *p = json_is_object(props) ? json_deep_copy(props) : json_object();
    json_object_set_new(p, "unit", json_string(unit));
    json_array_append_new(features, json_pack("{s:s, s:O, s:o}", "type", "Feature", "geometry",
                                              geom, "properties", p));
}

static int boundary_one(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    char unit[NODE_CODE_MAX];
    json_t *g = json_loadb((const char *)val, vlen, 0, NULL);
    snprintf(unit, sizeof unit, "%.*s", (int)klen, (const char *)key);
    if (g)
        add_features(ctx, g, unit);
    json_decref(g);
    return 0;
}

/* True when a polygon-ish GeoJSON value: a FeatureCollection of Features
 * whose geometries are Polygons or MultiPolygons, one such Feature, or one
 * such geometry. */
static bool geojson_ok(json_t *g, int depth)
{
    const char *type = json_string_value(json_object_get(g, "type"));
    if (!type || depth > 2)
        return false;
    if (!strcmp(type, "Polygon") || !strcmp(type, "MultiPolygon"))
        return json_is_array(json_object_get(g, "coordinates"));
    if (!strcmp(type, "Feature"))
        return geojson_ok(json_object_get(g, "geometry"), 2);
    if (strcmp(type, "FeatureCollection") || depth > 0)
        return false;
    json_t *fs = json_object_get(g, "features"), *f;
    size_t i;
    if (!json_is_array(fs))
        return false;
    json_array_foreach(fs, i, f) if (!geojson_ok(f, 1)) return false;
    return true;
}

json_t *map_boundaries_load(store *s)
{
    json_t *features = json_array();
    store_local_scan(s, BOUNDARIES_TABLE, boundary_one, features);
    return json_pack("{s:s, s:o}", "type", "FeatureCollection", "features", features);
}

typedef struct {
    store *store;
    map_boundaries_answer answer;
    char arg[MAP_ANSWER_ARG_MAX + 1];
} boundaries_job;

static void boundaries_work(void *job, const uint8_t *body, size_t len, http_response *res)
{
    boundaries_job *j = job;
    (void)body;
    (void)len;
    json_t *fc = map_boundaries_load(j->store);
    j->answer(j->store, fc, j->arg, res);
    json_decref(fc);
}

static void boundaries_done(void *job, http_response *res, http_pending *p, bool ran)
{
    (void)res;
    (void)p;
    (void)ran;
    free(job);
}

void map_boundaries_offload(node_env *d, const http_request *req, http_response *res,
                            map_boundaries_answer answer, const char *arg)
{
    boundaries_job *j = calloc(1, sizeof *j);
    if (!j) {
        http_respond_error(res, 503, "the node is out of memory; retry later");
        return;
    }
    *j = (boundaries_job){.store = d->store, .answer = answer};
    snprintf(j->arg, sizeof j->arg, "%s", arg ? arg : "");
    offload_request(req, res, &(offload_task){d->loop, j, boundaries_work, boundaries_done});
}

static void answer_all(store *s, json_t *fc, const char *arg, http_response *res)
{
    (void)s;
    (void)arg;
    http_respond_json(res, 200, json_incref(fc));
}

void map_api_public_boundaries(void *ctx, const http_request *req, http_response *res)
{
    if (http_path_exact(req, res, "/api/v1/public/boundaries", NULL))
        map_boundaries_offload(ctx, req, res, answer_all, NULL);
}

void map_api_boundaries(void *ctx, const http_request *req, http_response *res)
{
    node_env *d = ctx;
    const char *rest = req->path + strlen("/api/v1/boundaries");
    const char *unit = *rest == '/' ? rest + 1 : NULL;
    bool get = !strcmp(req->method, "GET") || !strcmp(req->method, "HEAD");
    if (get && !unit) {
        if (auth_require(d->auth, req, res, ROLE_VIEWER, NULL))
            return;
        http_respond_json(res, 200, map_boundaries_load(d->store));
        return;
    }
    if (!unit || (strcmp(req->method, "PUT") && strcmp(req->method, "DELETE"))) {
        http_response_header(res, "Allow", unit ? "PUT, DELETE" : "GET");
        http_respond_error(res, 405,
                           "%s is not allowed on %s: GET /api/v1/boundaries, "
                           "PUT or DELETE /api/v1/boundaries/UNIT",
                           req->method, req->path);
        return;
    }
    if (auth_require_node_admin(d->auth, req, res, NULL))
        return;
    const unit_tree *t = auth_tree(d->auth);
    if (!unit_tree_known(t, unit, strlen(unit))) {
        http_respond_error(res, 404,
                           "unit %s is not known to this node: use a unit code of "
                           "the network (GET /api/v1/network lists them)",
                           unit);
        return;
    }
    if (!strcmp(req->method, "DELETE")) {
        int rc = store_local_del(d->store, BOUNDARIES_TABLE, unit, strlen(unit));
        if (rc)
            http_respond_error(res, rc > 0 ? 404 : 500, "no boundary stored for unit %s", unit);
        else
            http_respond_json(res, 200, json_pack("{s:s}", "deleted", unit));
        return;
    }
    json_error_t jerr;
    json_t *g = json_loadb((const char *)req->body, req->body_len, 0, &jerr);
    char err[256];
    if (!geojson_ok(g, 0)) {
        json_decref(g);
        http_respond_error(res, 400,
                           "the body must be GeoJSON: a FeatureCollection of "
                           "Polygon/MultiPolygon features, one such Feature or "
                           "geometry (%s)",
                           g ? "wrong type" : jerr.text);
        return;
    }
    char *text = json_dumps(g, JSON_COMPACT);
    int rc = text ? store_local_put(d->store, BOUNDARIES_TABLE, unit, strlen(unit), text,
                                    strlen(text), err, sizeof err)
                  : -1;
    free(text);
    json_t *features = json_array();
    add_features(features, g, unit);
    json_decref(g);
    if (rc) {
        json_decref(features);
        http_respond_error(res, 500, "the boundary could not be stored; check the node's log");
        return;
    }
    http_respond_json(
        res, 200,
        json_pack("{s:s, s:I}", "unit", unit, "features", (json_int_t)json_array_size(features)));
    json_decref(features);
}

void map_api_settings(void *ctx, const http_request *req, http_response *res)
{
    node_env *d = ctx;
    char err[256];
    if (!http_path_exact(req, res, "/api/v1/ui/settings", NULL))
        return;
    if (!strcmp(req->method, "PUT")) {
        if (auth_require_node_admin(d->auth, req, res, NULL))
            return;
        json_t *b = json_loadb((const char *)req->body, req->body_len, 0, NULL);
        json_t *u = json_object_get(b, "tile_url");
        const char *s = json_string_value(u);
        bool ok = json_is_object(b) &&
                  (json_is_null(u) ||
                   (s && strlen(s) < TILE_URL_MAX &&
                    (!strncmp(s, "http://", 7) || !strncmp(s, "https://", 8)) && strstr(s, "{z}")));
        if (!ok) {
            json_decref(b);
            http_respond_error(res, 400,
                               "tile_url must be null (no tiles) or an http(s) URL "
                               "template with {z}, {x} and {y}");
            return;
        }
        int rc = s ? store_local_put(d->store, SETTINGS_TABLE, "tile_url", 8, s, strlen(s), err,
                                     sizeof err)
                   : store_local_del(d->store, SETTINGS_TABLE, "tile_url", 8) < 0;
        json_decref(b);
        if (rc) {
            http_respond_error(res, 500, "the setting could not be stored; check the log");
            return;
        }
    } else if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) {
        http_response_header(res, "Allow", "GET, PUT");
        http_respond_error(res, 405, "%s is not allowed on %s: use GET or PUT", req->method,
                           req->path);
        return;
    }
    uint8_t *val = NULL;
    size_t len = 0;
    int rc = store_local_get(d->store, SETTINGS_TABLE, "tile_url", 8, &val, &len);
    http_respond_json(
        res, 200,
        json_pack("{s:o}", "tile_url", rc == 0 ? json_stringn((char *)val, len) : json_null()));
    free(val);
}

/* The origin of tile URL template url ("https://{s}.tile.host:8080/{z}/x"
 * gives "https://" "*.tile.host:8080") into out, or "" when it is not a plain
 * http(s) origin of letters, digits, '.', '-' and ':' (nothing that could
 * end a CSP source expression). */
static void tile_origin_of(const char *url, char *out, size_t cap)
{
    const char *host = !strncmp(url, "https://", 8)  ? url + 8
                       : !strncmp(url, "http://", 7) ? url + 7
                                                     : NULL;
    size_t n = 0;
    *out = 0;
    if (!host || cap < 16)
        return;
    n = (size_t)snprintf(out, cap, "%.*s", (int)(host - url), url);
    if (!strncmp(host, "{s}.", 4)) {
        n += (size_t)snprintf(out + n, cap - n, "*.");
        host += 4;
    }
    for (; *host && *host != '/' && n + 1 < cap; host++) {
        if (!isalnum((unsigned char)*host) && !strchr(".-:", *host)) {
            *out = 0;
            return;
        }
        out[n++] = *host;
    }
    out[n] = 0;
    if (*host && *host != '/')
        *out = 0; /* too long for out */
}

void map_api_page(void *ctx, const http_request *req, http_response *res)
{
    node_env *d = ctx;
    uint8_t *val = NULL;
    size_t len = 0;
    char url[TILE_URL_MAX + 1] = "", origin[TILE_URL_MAX + 16];
    if (store_local_get(d->store, SETTINGS_TABLE, "tile_url", 8, &val, &len) == 0 &&
        len < sizeof url)
        memcpy(url, val, len);
    free(val);
    tile_origin_of(url, origin, sizeof origin);
    static_web_serve_page(req, res, origin);
}
