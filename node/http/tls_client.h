/*
 * tls_client.h - TLS over a connected non-blocking socket, for the blocking
 * HTTP client of the command-line tools (http_client.c): the server's
 * certificate must chain to the given CA file (or the system store) and
 * name the host.
 */
#ifndef LT_TLS_CLIENT_H
#define LT_TLS_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct tls_client tls_client;

/* Runs the TLS handshake on fd (connected, non-blocking) with host (a DNS
 * name or an IP address, checked against the certificate), trusting
 * ca_file (NULL: the system store), until deadline_ms (CLOCK_MONOTONIC
 * milliseconds). Returns the session, or NULL with err saying why (a
 * refused certificate names OpenSSL's reason and what to do). fd stays the
 * caller's. */
tls_client *tls_client_open(int fd, const char *host, const char *ca_file, int64_t deadline_ms,
                            char *err, size_t errlen);

/* Like send() and recv() on the socket: bytes moved, 0 from recv at the
 * end of the stream, or -1 with errno EAGAIN (wait for tls_client_wants)
 * or another error. */
ssize_t tls_client_send(tls_client *t, const void *buf, size_t len);
ssize_t tls_client_recv(tls_client *t, void *buf, size_t len);

/* After an EAGAIN: POLLIN or POLLOUT, what the session waits for. */
short tls_client_wants(const tls_client *t);

/* Frees t (without closing the socket). NULL is ignored. */
void tls_client_free(tls_client *t);

#endif
