/*
 * tls_client.c - the client side of TLS for the command-line tools. See
 * tls_client.h.
 */
#include "node/http/tls_client.h"
#include "node/http/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct tls_client {
    SSL_CTX *ctx;
    SSL *ssl;
    short wants;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Maps an SSL_* result r of t to send()/recv() conventions. */
static ssize_t io_result(tls_client *t, int r)
{
    if (r > 0)
        return r;
    int e = SSL_get_error(t->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        t->wants = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
        errno = EAGAIN;
        return -1;
    }
    ERR_clear_error();
    if (e == SSL_ERROR_ZERO_RETURN)
        return 0;
    if (e != SSL_ERROR_SYSCALL || !errno)
        errno = EPROTO;
    return -1;
}

/* The host name check and SNI for host. Returns 0, or -1. */
static int set_host(SSL *ssl, const char *host)
{
    unsigned char a[16];
    X509_VERIFY_PARAM *p = SSL_get0_param(ssl);
    if (inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1)
        return X509_VERIFY_PARAM_set1_ip_asc(p, host) == 1 ? 0 : -1;
    return SSL_set_tlsext_host_name(ssl, host) == 1 && SSL_set1_host(ssl, host) == 1 ? 0 : -1;
}

/* Runs the handshake until it completes or deadline passes. */
static int handshake(tls_client *t, int fd, const char *host, int64_t deadline, char *err,
                     size_t errlen)
{
    for (;;) {
        ssize_t r = io_result(t, SSL_connect(t->ssl));
        if (r > 0)
            return 0;
        int64_t left = deadline - now_ms();
        struct pollfd p = {fd, t->wants, 0};
        if (r < 0 && errno == EAGAIN && left > 0 && poll(&p, 1, (int)left) >= 0)
            continue;
        const char *refused = tls_verify_error(t->ssl);
        if (refused)
            snprintf(err, errlen,
                     "this node refused the TLS certificate of %s (%s): give the CA that "
                     "signed it with --tls-ca FILE, or use the name the certificate was "
                     "made for",
                     host, refused);
        else
            snprintf(err, errlen,
                     "no TLS session with %s (%s): check that the URL's port serves HTTPS", host,
                     left > 0 ? strerror(errno) : "timed out");
        return -1;
    }
}

tls_client *tls_client_open(int fd, const char *host, const char *ca_file, int64_t deadline_ms,
                            char *err, size_t errlen)
{
    tls_client *t = calloc(1, sizeof *t);
    if (!t || !(t->ctx = SSL_CTX_new(TLS_client_method()))) {
        snprintf(err, errlen, "out of memory for a TLS session");
        free(t);
        return NULL;
    }
    SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_options(t->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF); /* servers may just close */
    if (tls_ctx_trust(t->ctx, ca_file, err, errlen)) {
        tls_client_free(t);
        return NULL;
    }
    t->ssl = SSL_new(t->ctx);
    if (!t->ssl || SSL_set_fd(t->ssl, fd) != 1 || set_host(t->ssl, host)) {
        snprintf(err, errlen, "cannot set up TLS for %s", host);
        tls_client_free(t);
        return NULL;
    }
    if (handshake(t, fd, host, deadline_ms, err, errlen)) {
        tls_client_free(t);
        return NULL;
    }
    return t;
}

ssize_t tls_client_send(tls_client *t, const void *buf, size_t len)
{
    return io_result(t, SSL_write(t->ssl, buf, (int)(len > INT32_MAX ? INT32_MAX : len)));
}

ssize_t tls_client_recv(tls_client *t, void *buf, size_t len)
{
    return io_result(t, SSL_read(t->ssl, buf, (int)(len > INT32_MAX ? INT32_MAX : len)));
}

short tls_client_wants(const tls_client *t)
{
    return t->wants;
}

void tls_client_free(tls_client *t)
{
    if (!t)
        return;
    SSL_free(t->ssl);
    SSL_CTX_free(t->ctx);
    free(t);
}
