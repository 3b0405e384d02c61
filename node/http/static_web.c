/*
 * static_web.c - serves the embedded web UI; see static_web.h.
 */
#include "node/http/static_web.h"

#include <stdlib.h>
#include <string.h>

#define CACHE_FOREVER "public, max-age=31536000, immutable"

const web_asset *static_web_find(const char *url)
{
    for (size_t i = 0; i < static_web_count; i++)
        if (!strcmp(static_web_assets[i].url, url))
            return &static_web_assets[i];
    return NULL;
}

/* True when the client accepts gzip (Accept-Encoding lists it, q not 0). */
static bool accepts_gzip(const http_request *req)
{
    const char *h = http_request_header(req, "accept-encoding");
    const char *g = h ? strstr(h, "gzip") : NULL;
    return g && strncmp(g + 4, ";q=0", 4) != 0;
}

static void send_asset(const http_request *req, http_response *res, const web_asset *a,
                       const char *cache)
{
    bool gz = a->gz && accepts_gzip(req);
    size_t len = gz ? a->gzlen : a->len;
    res->body = malloc(len ? len : 1);
    if (!res->body) {
        http_respond_error(res, 503, "out of memory; try again");
        return;
    }
    memcpy(res->body, gz ? a->gz : a->data, len);
    res->body_len = len;
    res->status = 200;
    res->content_type = a->type;
    if (gz)
        http_response_header(res, "Content-Encoding", "gzip");
    http_response_header(res, "Vary", "Accept-Encoding");
    http_response_header(res, "Cache-Control", cache);
    http_response_header(res, "X-Content-Type-Options", "nosniff");
}

/* The page itself: "/" and the citizen pages under "/public". */
static bool is_page(const char *path)
{
    return !strcmp(path, "/") || !strcmp(path, "/public") || !strncmp(path, "/public/", 8);
}

/* The page's Content-Security-Policy: everything from the node itself
 * (its WebSocket included: 'self' covers ws: on the same origin), images
 * also as data: and from the tile host, no inline script or style, no
 * framing. */
static void set_csp(http_response *res, const char *tile_origin)
{
    char csp[1024];
    snprintf(csp, sizeof csp,
             "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:%s%s; "
             "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
             "frame-ancestors 'none'",
             tile_origin && *tile_origin ? " " : "", tile_origin ? tile_origin : "");
    http_response_header(res, "Content-Security-Policy", csp);
    http_response_header(res, "X-Frame-Options", "DENY");
}

void static_web_serve(void *ctx, const http_request *req, http_response *res)
{
    static_web_serve_page(req, res, NULL);
}

void static_web_serve_page(const http_request *req, http_response *res, const char *tile_origin)
{
    const char *p = req->path;
    bool get = !strcmp(req->method, "GET") || !strcmp(req->method, "HEAD");
    bool ui = !strncmp(p, "/ui/", 4);
    if (!is_page(p) && !ui) {
        http_respond_code(res, 404, "http.not_found",
                          "no resource at %s: the UI is at /, the API index at /api/v1", p);
        return;
    }
    if (!get) {
        http_response_header(res, "Allow", "GET, HEAD");
        http_respond_code(res, 405, "http.method_not_allowed", "%s is not allowed on %s: use GET",
                          req->method, p);
        return;
    }
    if (!ui) {
        const web_asset *index = static_web_find("index.html");
        if (!index) {
            http_respond_error(res, 500, "this build has no web UI (web/src/index.html)");
            return;
        }
        send_asset(req, res, index, "no-cache");
        set_csp(res, tile_origin);
        return;
    }
    /* /ui/VERSION/FILE */
    const char *ver = p + 4, *slash = strchr(ver, '/');
    const web_asset *a = slash ? static_web_find(slash + 1) : NULL;
    if (!a || !strcmp(a->url, "index.html")) {
        http_respond_code(res, 404, "http.not_found",
                          "no UI file at %s: reload the page (the node may have been "
                          "upgraded)",
                          p);
        return;
    }
    bool current = (size_t)(slash - ver) == strlen(static_web_version) &&
                   !strncmp(ver, static_web_version, (size_t)(slash - ver));
    send_asset(req, res, a, current ? CACHE_FOREVER : "no-cache");
}
