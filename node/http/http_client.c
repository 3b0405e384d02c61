/*
 * http_client.c - blocking HTTP/1.1 requests with a deadline (poll on a
 * non-blocking socket). See http_client.h.
 */
#include "node/http/http_client.h"
#include "node/http/tls_client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define REPLY_MAX (4u * 1024 * 1024)

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for fd to be ready for events until deadline; 0, or -1 on timeout. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - mono_ms();
        if (left <= 0)
            return -1;
        struct pollfd p = {fd, events, 0};
        int rc = poll(&p, 1, (int)left);
        if (rc > 0)
            return 0;
        if (rc < 0 && errno != EINTR)
            return -1;
    }
}

static int dial(const url_parts *u, int64_t deadline, char *err, size_t errlen)
{
    char port[8];
    snprintf(port, sizeof port, "%d", u->port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res, *a;
    int rc = getaddrinfo(u->host, port, &hints, &res);
    if (rc) {
        snprintf(err, errlen, "cannot resolve %s: %s", u->host, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) && errno != EINPROGRESS) {
            close(fd);
            fd = -1;
            continue;
        }
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (wait_fd(fd, POLLOUT, deadline) || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) ||
            soerr) {
            errno = soerr ? soerr : ETIMEDOUT;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        snprintf(err, errlen,
                 "cannot connect to %s: %s; check that its node runs (lienthong "
                 "serve) and the URL",
                 u->hostport, strerror(errno));
    return fd;
}

/* A connection: the socket, and its TLS session for https:// URLs. */
typedef struct {
    int fd;
    tls_client *tls;
} conn;

static ssize_t conn_send(conn *c, const char *p, size_t n)
{
    return c->tls ? tls_client_send(c->tls, p, n) : send(c->fd, p, n, MSG_NOSIGNAL);
}

static ssize_t conn_recv(conn *c, char *p, size_t n)
{
    return c->tls ? tls_client_recv(c->tls, p, n) : recv(c->fd, p, n, 0);
}

/* What to wait for after an EAGAIN: TLS may need to read while writing. */
static short conn_wants(const conn *c, short plain)
{
    return c->tls ? tls_client_wants(c->tls) : plain;
}

static int send_all(conn *c, const char *p, size_t n, int64_t deadline)
{
    while (n) {
        ssize_t w = conn_send(c, p, n);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
        } else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (wait_fd(c->fd, conn_wants(c, POLLOUT), deadline))
                return -1;
        } else {
            return -1;
        }
    }
    return 0;
}

/* Reads until the server closes; returns the malloc'd bytes or NULL. */
static char *recv_all(conn *c, int64_t deadline, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        if (n == cap) {
            char *bigger = cap < REPLY_MAX ? realloc(buf, 2 * cap + 1) : NULL;
            if (!bigger)
                break;
            buf = bigger;
            cap *= 2;
        }
        ssize_t r = conn_recv(c, buf + n, cap - n);
        if (r > 0) {
            n += (size_t)r;
        } else if (r == 0) {
            buf[n] = '\0';
            *len = n;
            return buf;
        } else if ((errno != EAGAIN && errno != EINTR) ||
                   wait_fd(c->fd, conn_wants(c, POLLIN), deadline)) {
            break;
        }
    }
    free(buf);
    return NULL;
}

int http_client_json(const url_parts *u, const char *method, const char *path, json_t *body,
                     int timeout_ms, int *status, json_t **reply, char *err, size_t errlen)
{
    int64_t deadline = mono_ms() + timeout_ms;
    *reply = NULL;
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    size_t tlen = text ? strlen(text) : 0;
    char head[1024];
    int hn = snprintf(head, sizeof head,
                      "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: lienthong/" LT_VERSION
                      "\r\nAccept: application/json\r\nConnection: close\r\n"
                      "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                      method, path, u->hostport, tlen);
    conn c = {dial(u, deadline, err, errlen), NULL};
    if (c.fd >= 0 && u->tls &&
        !(c.tls = tls_client_open(c.fd, u->host, u->ca_file, deadline, err, errlen))) {
        close(c.fd);
        c.fd = -1;
    }
    if (c.fd < 0) {
        free(text);
        return -1;
    }
    size_t len = 0;
    char *resp = NULL;
    if (send_all(&c, head, (size_t)hn, deadline) || send_all(&c, text ? text : "", tlen, deadline))
        snprintf(err, errlen, "cannot send the request to %s: %s", u->hostport, strerror(errno));
    else if (!(resp = recv_all(&c, deadline, &len)))
        snprintf(err, errlen, "no complete answer from %s within %d s", u->hostport,
                 timeout_ms / 1000);
    tls_client_free(c.tls);
    close(c.fd);
    free(text);
    if (!resp)
        return -1;
    int code = 0;
    char *sep = strstr(resp, "\r\n\r\n");
    if (sscanf(resp, "HTTP/1.%*[01] %d", &code) != 1 || code < 100 || !sep) {
        snprintf(err, errlen, "%s did not answer in HTTP: is it a lienthong node?", u->hostport);
        free(resp);
        return -1;
    }
    *status = code;
    *reply = json_loadb(sep + 4, len - (size_t)(sep + 4 - resp), 0, NULL);
    free(resp);
    return 0;
}

const char *http_client_error_message(json_t *reply, const char *fallback)
{
    json_t *m = json_object_get(json_object_get(reply, "error"), "message");
    return json_is_string(m) ? json_string_value(m) : fallback;
}
