/*
 * geocode.h - a typed address to a place, against the node's own unit
 * names (docs/web.md, "The citizens' page"): no geocoding service, no
 * internet.
 *
 *   GET /api/v1/public/geocode?q=TEXT   {"results": [{"unit", "name", "lat",
 *                                       "lon"}, ...]} (no login)
 *
 * A unit matches when every word of its name but the word for its kind
 * (tỉnh, thành phố, quận, huyện, thị xã, thị trấn, phường, xã) appears in
 * q, both folded (lib/fold.h: "ben thuy" finds "Phường Bến Thủy"). The units
 * are those with a stored boundary (map_api.h), their point the average
 * of the vertices of the boundary's first outer ring. The most specific
 * match comes first: most words matched, then the smallest area. At most
 * GEOCODE_MAX results; none is an empty list. The boundaries are read on
 * the thread pool (map_boundaries_offload).
 */
#ifndef LT_GEOCODE_H
#define LT_GEOCODE_H

#include "node/http/http.h"

#include <jansson.h>

#define GEOCODE_MAX 5
#define GEOCODE_Q_MAX 300

/* The results of query q against boundaries (a FeatureCollection as
 * map_boundaries_load gives): a JSON array, best first. */
json_t *geocode_match(const json_t *boundaries, const char *q);

/* The route handler (ctx: the node_env). */
void geocode_api(void *ctx, const http_request *req, http_response *res);

#endif
