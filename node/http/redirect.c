/*
 * redirect.c - plain HTTP to HTTPS. See redirect.h.
 */
#include "node/http/redirect.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The host part of a Host header value ("h", "h:p", "[v6]:p") into out,
 * [v6] kept in brackets. Returns 0, or -1 when it is empty, too long or
 * holds characters no host name has. */
static int host_only(const char *v, char *out, size_t cap)
{
    size_t n = v[0] == '[' ? strcspn(v, "]") + 1 : strcspn(v, ":");
    if (!n || n >= cap || (v[0] == '[' && v[n - 1] != ']'))
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)v[i]) && !strchr("-._[]:", v[i]))
            return -1;
    memcpy(out, v, n);
    out[n] = '\0';
    return 0;
}

/* path %-encoded again (lws decoded it) into out; NULL when it does not
 * fit. */
static char *path_encode(const char *path, char *out, size_t cap)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if (o + 4 > cap)
            return NULL;
        if (isalnum(*p) || strchr("/-._~!$&'()*+,;=:@", *p))
            out[o++] = (char)*p;
        else
            o += (size_t)snprintf(out + o, cap - o, "%%%02X", *p);
    }
    out[o] = '\0';
    return out;
}

void redirect_https(void *ctx, const http_request *req, http_response *res)
{
    int port = *(const int *)ctx;
    const char *hv = http_request_header(req, "host");
    char host[256], path[4096], where[4608];
    if (!hv || host_only(hv, host, sizeof host)) {
        http_respond_code(res, 400, "http.bad_request",
                          "this port serves only redirects to HTTPS and the request has no "
                          "usable Host header; use the node's https:// address");
        return;
    }
    if (!path_encode(req->path, path, sizeof path)) {
        http_respond_code(res, 400, "http.bad_request",
                          "the path is too long to redirect; use the node's https:// address");
        return;
    }
    snprintf(where, sizeof where, "https://%s:%d%s%s%s", host, port, path, req->query[0] ? "?" : "",
             req->query);
    bool safe = !strcmp(req->method, "GET") || !strcmp(req->method, "HEAD");
    http_response_header(res, "Location", where);
    size_t cap = strlen(where) + 64;
    res->body = malloc(cap);
    if (!res->body) {
        http_respond_error(res, 500, "out of memory; use the node's https:// address");
        return;
    }
    snprintf(res->body, cap, "this node serves HTTPS: use %s\n", where);
    res->status = safe ? 301 : 308;
    res->content_type = "text/plain; charset=utf-8";
}
