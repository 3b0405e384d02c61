/*
 * geocode.h - a typed address to a place, against the node's own unit
 * names (docs/web.md, "The citizens' page"): no geocoding service, no
 * internet.
 *
 *   GET /api/v1/public/geocode?q=TEXT   {"results": [{"unit", "name", "lat",
 *                                       "lon"[, "street"]}, ...]} (no login)
 *
 * A unit matches when every word of its name but the word for its kind
 * (tỉnh, thành phố, quận, huyện, thị xã, thị trấn, phường, xã) appears in
 * q, both folded (lib/fold.h: "ben thuy" finds "Phường Bến Thủy"). The units
 * are those with a stored boundary (map_api.h), their point the average
 * of the vertices of the boundary's first outer ring. The most specific
 * match comes first: most words matched, then the smallest area. At most
 * GEOCODE_MAX results; none is an empty list.
 *
 * Streets (node/streets.h, the replicated collection "streets") match the
 * same way, on every word of their name or of one of their "aliases"
 * (kind words included: "Trường Thi" needs "thi"); a result of a street
 * carries "street" (its name), "unit" (its unit), "name" ("street, unit
 * name") and its point. Streets come before units; among streets, those
 * of a unit the query names too come first ("12 Quang Trung, Bến Thủy").
 * Boundaries and streets are read on the thread pool
 * (map_boundaries_offload); every request scans every street (a node
 * holds at most a few thousand).
 */
#ifndef LT_GEOCODE_H
#define LT_GEOCODE_H

#include "node/http/http.h"

#include <jansson.h>

#define GEOCODE_MAX 5
#define GEOCODE_Q_MAX 300

/* The results of query q against boundaries (a FeatureCollection as
 * map_boundaries_load gives) and streets (an array as streets_load gives,
 * node/streets.h): a JSON array, best first. A linear scan: a few
 * thousand streets per request take well under a millisecond each. */
json_t *geocode_match(const json_t *boundaries, const json_t *streets, const char *q);

/* The route handler (ctx: the node_env). */
void geocode_api(void *ctx, const http_request *req, http_response *res);

#endif
