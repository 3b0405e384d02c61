/*
 * basemap.h - the maps' base layer without internet (docs/web.md, "Maps
 * offline"): the node answers byte ranges of a PMTiles v3 archive of
 * vector tiles, which the browser draws with protomaps-leaflet.
 *
 *   GET /basemap.pmtiles   Range: bytes=A-B -> 206 with those bytes (at most
 *                          BASEMAP_RANGE_MAX); no Range -> 200 with the whole
 *                          archive when it is at most that size, else 416.
 *                          No login: the public page draws it too.
 *
 * The archive is the file named by `serve --basemap FILE`, else
 * DIR/basemap.pmtiles when the operator placed one there, else the
 * Vietnam outline built into the binary (web/tools/basemap.mjs). Files are
 * read on the thread pool, opened per request, so an operator may replace
 * DIR/basemap.pmtiles while the node runs.
 */
#ifndef LT_BASEMAP_H
#define LT_BASEMAP_H

#include "node/http/http.h"

#include <stdint.h>

#define BASEMAP_RANGE_MAX (8u << 20)
#define BASEMAP_FILE_NAME "basemap.pmtiles"

/* Checks that path is a readable PMTiles v3 archive and makes it the
 * basemap of every later request. Returns 0, or -1 with err saying what is
 * wrong with the file (blocking: call before the loop runs). */
int basemap_set_file(const char *path, char *err, size_t errlen);

/* Parses a Range header value ("bytes=A-B", "bytes=A-", "bytes=-N") of a
 * file of size bytes into *off and *len. Returns 0, or -1 when it is not
 * one satisfiable byte range. */
int basemap_range_parse(const char *value, uint64_t size, uint64_t *off, uint64_t *len);

/* The route handler of GET /basemap.pmtiles; ctx is the node_env. */
void basemap_serve(void *ctx, const http_request *req, http_response *res);

#endif
