/*
 * static_web.h - the web UI, served by the node from assets embedded in
 * the binary (docs/web.md).
 *
 *   GET /, GET /public    the single page (index.html), Cache-Control: no-cache
 *   GET /ui/VERSION/FILE  an asset of the page; with the build's VERSION it
 *                         may be cached for a year (immutable), with another
 *                         one it is served too but must be revalidated
 *
 * Assets are sent gzip-compressed to clients that accept it (the copies are
 * made at build time by web/tools/embed_gen.c). Other paths get the JSON
 * 404 of the API, so nothing that asks for JSON sees HTML by mistake.
 */
#ifndef LT_STATIC_WEB_H
#define LT_STATIC_WEB_H

#include "node/http/http.h"

#include <stddef.h>

/* One embedded file (the generated web_assets.c holds the table). */
typedef struct {
    const char *url;  /* relative to /ui/VERSION/, e.g. "app.js" */
    const char *type; /* MIME type */
    const unsigned char *data;
    size_t len;
    const unsigned char *gz; /* gzip copy, or NULL when it would not be smaller */
    size_t gzlen;
} web_asset;

extern const web_asset static_web_assets[];
extern const size_t static_web_count;
extern const char static_web_version[]; /* hash of the assets, 16 hex digits */

/* The embedded file at url, or NULL. */
const web_asset *static_web_find(const char *url);

/* The route handler for "/" (any method) and "/ui/" (ctx unused): the
 * page allows images from no host but the node's own. */
void static_web_serve(void *ctx, const http_request *req, http_response *res);

/* static_web_serve, the page's Content-Security-Policy also allowing
 * images from tile_origin ("https://tiles.example.vn" or a wildcard host;
 * NULL or "" for none). The page (not the assets) answers with
 * Content-Security-Policy "default-src 'self'; script-src 'self';
 * style-src 'self'; img-src 'self' data: [tile_origin]; connect-src
 * 'self'; object-src 'none'; base-uri 'none'; form-action 'self';
 * frame-ancestors 'none'" and X-Frame-Options DENY. */
void static_web_serve_page(const http_request *req, http_response *res, const char *tile_origin);

#endif
