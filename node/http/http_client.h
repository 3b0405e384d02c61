/*
 * http_client.h - a small blocking HTTP/1.1 client for the command-line
 * tools that talk to a node (enroll, rotate). One request per connection
 * (nodes answer with "connection: close"); bodies are JSON. Not for the
 * daemon's loop: it blocks.
 */
#ifndef LT_HTTP_CLIENT_H
#define LT_HTTP_CLIENT_H

#include "node/http/url.h"

#include <jansson.h>

/* Sends method path (with body when non-NULL, as application/json) to the
 * server of u and waits at most timeout_ms for the whole answer. On 0,
 * *status is the HTTP status and *reply the parsed JSON body (NULL when the
 * body is not JSON). Returns -1 with err when no answer came (cannot
 * connect, timeout, not HTTP). */
int http_client_json(const url_parts *u, const char *method, const char *path, json_t *body,
                     int timeout_ms, int *status, json_t **reply, char *err, size_t errlen);

/* The message of a {"error": {"message": ...}} reply, or fallback. */
const char *http_client_error_message(json_t *reply, const char *fallback);

#endif
