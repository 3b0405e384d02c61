/*
 * map_api.h - what the web UI's maps draw besides points: unit boundaries
 * an admin uploads, and the optional tile server.
 *
 *   GET    /api/v1/boundaries          FeatureCollection of every stored
 *                                      boundary, each feature's properties
 *                                      with "unit" (viewers and above)
 *   PUT    /api/v1/boundaries/{unit}   a GeoJSON FeatureCollection, Feature,
 *                                      Polygon or MultiPolygon (admins of the node's unit)
 *   DELETE /api/v1/boundaries/{unit}   (admins of the node's unit)
 *   GET    /api/v1/public/boundaries   the same FeatureCollection without login
 *                                      (the citizens' page draws it)
 *   GET    /api/v1/ui/settings         {"tile_url": string|null} (no login:
 *                                      the public map uses it too)
 *   PUT    /api/v1/ui/settings         {"tile_url": "https://.../{z}/{x}/{y}.png"
 *                                      or null} (admins of the node's unit)
 *
 * Both are node-local (store_local_*), not replicated: each node's admin
 * uploads the boundaries of the area it shows (docs/web.md says why).
 */
#ifndef LT_MAP_API_H
#define LT_MAP_API_H

#include "node/env/env.h"
#include "node/http/http.h"

/* The node-local table of boundaries: key the unit code, value its GeoJSON. */
#define MAP_BOUNDARIES_TABLE "boundaries"

/* The largest boundary upload: a province's communes in detail. */
#define MAP_BOUNDARY_MAX_BODY (16u * 1024u * 1024u)

/* Every stored boundary as one FeatureCollection whose features'
 * properties carry "unit" (and the uploaded "name", if any). */
json_t *map_boundaries_load(store *s);

/* What a handler answers from every boundary (a FeatureCollection, as
 * map_boundaries_load gives) and its argument; on a pool thread, where it
 * may read more of store s. */
typedef void (*map_boundaries_answer)(store *s, json_t *fc, const char *arg, http_response *res);
#define MAP_ANSWER_ARG_MAX 512

/* Reads every boundary on the thread pool (a province's are megabytes of
 * JSON) and answers with answer(fc, arg, res); arg is copied (at most
 * MAP_ANSWER_ARG_MAX bytes). */
void map_boundaries_offload(node_env *d, const http_request *req, http_response *res,
                            map_boundaries_answer answer, const char *arg);

/* Handlers (ctx: the node_env). */
void map_api_boundaries(void *ctx, const http_request *req, http_response *res);
void map_api_public_boundaries(void *ctx, const http_request *req, http_response *res);
void map_api_settings(void *ctx, const http_request *req, http_response *res);

/* The web UI's page (static_web_serve_page) whose Content-Security-Policy
 * allows images from the origin of the tile_url setting, when it has a
 * plain http(s) origin ("{s}." becomes "*."). Route "/" with the node_env. */
void map_api_page(void *ctx, const http_request *req, http_response *res);

#endif
