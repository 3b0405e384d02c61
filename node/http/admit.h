/*
 * admit.h - the HTTP server's admission control (http.c): how many
 * connections each peer address and all of them may hold, and how many
 * request-body bytes may be in flight, in all and per address for requests
 * no credential vouches for. The rules are those of http_limits (http.h).
 *
 * Connections are opaque pointers (lws wsis to http.c); addresses are 16
 * bytes, IPv4 as IPv4-mapped IPv6. Loop thread only; no locking.
 */
#ifndef LT_HTTP_ADMIT_H
#define LT_HTTP_ADMIT_H

#include "node/http/http.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct http_admit http_admit;

/* The admission state for limits (NULL: all defaults), with the defaults
 * of http.h filled in; max_conns defaults to RLIMIT_NOFILE less
 * HTTP_FD_RESERVE. NULL when out of memory. */
http_admit *admit_new(const http_limits *limits);

/* Frees a (NULL ignored). */
void admit_free(http_admit *a);

/* The limits in force, defaults resolved. */
unsigned admit_max_conns(const http_admit *a);
unsigned admit_max_conns_per_addr(const http_admit *a);

/* Decides on a new connection from addr before it is tracked. Returns 0 to
 * take it, with *shed set to the oldest idle connection to close to make
 * room (NULL when there is room already); that one stops counting at once.
 * Returns -1 to refuse it, with the reason in why. */
int admit_conn(http_admit *a, const uint8_t addr[16], void **shed, char *why, size_t whylen);

/* Counts conn, of addr, as open and idle (no request yet). */
int admit_conn_open(http_admit *a, void *conn, const uint8_t addr[16]);

/* Marks conn busy (a request under way, or a WebSocket): never shed. */
void admit_conn_busy(http_admit *a, void *conn);

/* Forgets conn (closed). Unknown connections are ignored. */
void admit_conn_gone(http_admit *a, void *conn);

/* The number of connections counted (not shed), for tests and logs. */
size_t admit_conn_count(const http_admit *a);

/* Reserves n body bytes for a request from addr, vouched for by a
 * credential or not. Returns 0, or -1 with the reason (which budget is
 * spent, and what to do) in why. */
int admit_body(http_admit *a, const uint8_t addr[16], size_t n, bool vouched, char *why,
               size_t whylen);

/* Gives back a reservation admit_body made with the same arguments. */
void admit_body_release(http_admit *a, const uint8_t addr[16], size_t n, bool vouched);

/* addr as 16 bytes from a socket address (IPv4 mapped); false for other
 * families. */
bool admit_addr(const struct sockaddr *sa, uint8_t addr[16]);

/* addr as text ("127.0.0.1", "::1") into out. */
void admit_addr_text(const uint8_t addr[16], char *out, size_t outlen);

#endif
