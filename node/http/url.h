/*
 * url.h - the node URLs users type: ws://HOST[:PORT][/PATH] or
 * wss://HOST[:PORT][/PATH] (TLS, default port 443) for --upstream and,
 * where an HTTP request is made (enrol, rotate), http://HOST[:PORT]/ as
 * well. Both name the same server: a node serves its API and its
 * replication WebSocket on one port.
 */
#ifndef LT_URL_H
#define LT_URL_H

/* The longest URL a node keeps (config upstreams, enrolment parents). */
#define NODE_URL_MAX 256

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char host[NODE_URL_MAX];         /* without [] for IPv6 */
    int port;                        /* 80 when absent */
    char path[NODE_URL_MAX];         /* "/" when absent */
    char hostport[NODE_URL_MAX + 8]; /* for a Host header: "h:p" or "[v6]:p" */
    bool tls;                        /* wss:// or https:// */
    const char *ca_file;             /* TLS: the CAs to check the server against, NULL:
                                        the system store; set by the caller, borrowed */
} url_parts;

/* Splits url into u. ws:// and wss:// are always accepted, http:// and
 * https:// too when http_ok; wss:// and https:// set u->tls (default port
 * 443). Returns 0, or -1 with err saying what is wrong and what a good URL
 * looks like. */
int url_parse(const char *url, bool http_ok, url_parts *u, char *err, size_t errlen);

/* The replication URL of the same server: ws://HOSTPORT/, or wss:// when
 * u->tls, into out. */
void url_ws(const url_parts *u, char *out, size_t cap);

#endif
