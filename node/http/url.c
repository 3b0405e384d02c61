/*
 * url.c - parsing node URLs. See url.h.
 */
#include "node/http/url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int url_parse(const char *url, bool http_ok, url_parts *u, char *err, size_t errlen)
{
    const char *p = url;
    const char *example = http_ok ? "http://10.0.0.1:8080/" : "ws://10.0.0.1:8080/";
    memset(u, 0, sizeof *u);
    const char *schemes = http_ok ? "http://, https://, ws:// or wss://" : "ws:// or wss://";
    size_t skip = !strncmp(p, "ws://", 5)                 ? 5
                  : !strncmp(p, "wss://", 6)              ? 6
                  : http_ok && !strncmp(p, "http://", 7)  ? 7
                  : http_ok && !strncmp(p, "https://", 8) ? 8
                                                          : 0;
    if (!skip) {
        snprintf(err, errlen, "the URL must start with %s, e.g. %s", schemes, example);
        return -1;
    }
    u->tls = skip == 6 || skip == 8; /* wss:// and https:// */
    p += skip;
    size_t hl;
    const char *rest;
    if (*p == '[') {
        const char *close = strchr(p, ']');
        if (!close || (size_t)(close - p) >= sizeof u->host) {
            snprintf(err, errlen, "unterminated [IPv6] address in the URL");
            return -1;
        }
        hl = (size_t)(close - p - 1);
        memcpy(u->host, p + 1, hl);
        rest = close + 1;
    } else {
        hl = strcspn(p, ":/");
        if (hl >= sizeof u->host)
            hl = sizeof u->host - 1;
        memcpy(u->host, p, hl);
        rest = p + hl;
    }
    u->host[hl] = '\0';
    if (!hl) {
        snprintf(err, errlen, "the URL has no host, e.g. %s", example);
        return -1;
    }
    u->port = u->tls ? 443 : 80;
    if (*rest == ':') {
        char *end;
        long port = strtol(rest + 1, &end, 10);
        if (end == rest + 1 || port < 1 || port > 65535 || (*end && *end != '/')) {
            snprintf(err, errlen, "the URL's port must be 1-65535");
            return -1;
        }
        u->port = (int)port;
        rest = end;
    }
    snprintf(u->path, sizeof u->path, "%s", *rest ? rest : "/");
    snprintf(u->hostport, sizeof u->hostport, strchr(u->host, ':') ? "[%s]:%d" : "%s:%d", u->host,
             u->port);
    return 0;
}

void url_ws(const url_parts *u, char *out, size_t cap)
{
    snprintf(out, cap, "%s://%s/", u->tls ? "wss" : "ws", u->hostport);
}
