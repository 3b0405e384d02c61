/*
 * redirect.h - the plain-HTTP listener of `serve --redirect-http PORT`:
 * every request is sent to the same path on the node's HTTPS port.
 */
#ifndef LT_REDIRECT_H
#define LT_REDIRECT_H

#include "node/http/http.h"

/* An http_handler (ctx: an int *, the HTTPS port) answering every request
 * with a redirect to https://HOST:PORT/PATH?QUERY, HOST taken from the
 * request's Host header (without its port): 301 for GET and HEAD, 308
 * (method and body kept) for the others. A request without a usable Host
 * header gets 400 saying to use the https:// address. */
void redirect_https(void *ctx, const http_request *req, http_response *res);

#endif
