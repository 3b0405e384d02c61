/*
 * test_http.c - node/http against a real server on 127.0.0.1.
 *
 * The main thread runs the libuv loop with two servers on it (the second
 * with a 1 s timeout and a WebSocket echo endpoint); a second thread plays
 * the client with plain blocking
 * sockets (every read and write bounded by SO_RCVTIMEO / SO_SNDTIMEO), leaves
 * a few connections open mid-request on purpose, then wakes the loop with a
 * uv_async_t, and the main thread shuts down in the order http.h documents,
 * so valgrind and ASan see a clean exit.
 */
#include "node/http/http.h"
#include "tests/check.h"

#include <errno.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_BODY ((size_t)512 * 1024)
#define BIG_RESPONSE ((size_t)3 * 1024 * 1024 + 12345)
#define IO_TIMEOUT_SECS 5

static uint8_t pattern_byte(size_t i)
{
    return (uint8_t)((i * 7 + i / 251) & 0xff);
}

/* ---- handlers ---------------------------------------------------------- */

static void h_health(void *ctx, const http_request *req, http_response *res)
{
    (void)ctx;
    const char *rid = http_request_header(req, "X-Request-Id");
    const char *host = http_request_header(req, "host");
    http_respond_json(
        res, 200,
        json_pack("{s:b,s:s,s:s,s:s,s:s,s:s?,s:s?,s:s?,s:s?,s:s?,s:s?,s:s?}", "ok", 1, "method",
                  req->method, "path", req->path, "query", req->query, "remote", req->remote_addr,
                  "request_id", rid, "host", host, "a", http_request_query_param(req, "a"), "c",
                  http_request_query_param(req, "c"), "f", http_request_query_param(req, "f"), "g",
                  http_request_query_param(req, "g"), "zz", http_request_query_param(req, "zz")));
    http_response_header(res, "X-Test", "yes");
    /* Header injection is refused. */
    if (http_response_header(res, "X-Bad", "a\r\nb") == 0 ||
        http_response_header(res, "X Bad", "a") == 0)
        http_respond_error(res, 500, "http_response_header accepted a bad header");
}

static void h_echo(void *ctx, const http_request *req, http_response *res)
{
    (void)ctx;
    bool intact = req->body[req->body_len] == 0;
    for (size_t i = 0; i < req->body_len && intact; i++)
        intact = req->body[i] == pattern_byte(i);
    http_respond_json(res, 200,
                      json_pack("{s:I,s:b,s:s?}", "len", (json_int_t)req->body_len, "intact",
                                intact, "type", http_request_header(req, "content-type")));
}

static void h_big(void *ctx, const http_request *req, http_response *res)
{
    (void)ctx;
    (void)req;
    res->body = malloc(BIG_RESPONSE);
    if (!res->body) {
        http_respond_error(res, 500, "out of memory");
        return;
    }
    for (size_t i = 0; i < BIG_RESPONSE; i++)
        res->body[i] = (char)pattern_byte(i);
    res->body_len = BIG_RESPONSE;
    res->content_type = "application/octet-stream";
}

static void h_items_delete(void *ctx, const http_request *req, http_response *res)
{
    (void)ctx;
    (void)req;
    res->status = 204;
}

/* ---- deferred answers: work on the thread pool, answer from after_work ---- */

typedef struct {
    uv_work_t work;
    http_pending *p;
    unsigned ms;
} slow_job;

/* What the loop thread saw (read through GET /api/v1/observed). */
static struct {
    int started;       /* deferred requests handed to the pool */
    int observed;      /* answers the observer saw */
    int observed_slow; /* ...of deferred requests, with their data */
    int orphaned;      /* deferred answers whose client had left */
    int finished;      /* deferred answers finished */
    int stream_closed; /* streamed bodies whose consumer was closed */
    int sized_ended;   /* sized streamed answers ended by their owner */
    int held;          /* answers the observer held (http_hold_answer) */
    int released;      /* ...and released */
} seen;

static void slow_work(uv_work_t *w)
{
    slow_job *j = w->data;
    usleep(j->ms * 1000);
}

static void slow_done(uv_work_t *w, int status)
{
    (void)status;
    slow_job *j = w->data;
    if (!http_pending_alive(j->p))
        seen.orphaned++;
    seen.finished++;
    http_respond_json(http_pending_response(j->p), 201, json_pack("{s:b}", "deferred", 1));
    http_pending_finish(j->p);
    free(j);
}

/* GET /api/v1/slow?ms=N: answers after N ms of work on the thread pool. */
static void h_slow(void *ctx, const http_request *req, http_response *res)
{
    const char *ms = http_request_query_param(req, "ms");
    slow_job *j = calloc(1, sizeof *j);
    http_request_set_data(req, strdup("slow-data"), free);
    if (!j || !(j->p = http_defer(req))) {
        free(j);
        http_respond_error(res, 500, "cannot defer");
        return;
    }
    j->ms = ms ? (unsigned)atoi(ms) : 200;
    j->work.data = j;
    if (uv_queue_work(ctx, &j->work, slow_work, slow_done)) {
        http_respond_error(http_pending_response(j->p), 503, "the pool refused the work");
        http_pending_finish(j->p);
        free(j);
        return;
    }
    seen.started++;
}

static void h_observed(void *ctx, const http_request *req, http_response *res)
{
    (void)ctx;
    (void)req;
    http_respond_json(res, 200,
                      json_pack("{s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i}", "started", seen.started,
                                "observed", seen.observed, "observed_slow", seen.observed_slow,
                                "orphaned", seen.orphaned, "finished", seen.finished,
                                "stream_closed", seen.stream_closed, "sized_ended",
                                seen.sized_ended, "held", seen.held, "released", seen.released));
}

/* An answer to GET /api/v1/held, held by the observer for HOLD_MS (as the
 * audit holds an answer until its entry is durable). */
#define HOLD_MS 300
typedef struct {
    uv_timer_t t;
    http_pending *p;
} held_answer;

static void held_closed(uv_handle_t *h)
{
    free(h->data);
}

static void held_release(uv_timer_t *t)
{
    held_answer *h = t->data;
    http_hold_release(h->p);
    seen.released++;
    uv_close((uv_handle_t *)t, held_closed);
}

static void observer(void *ctx, const http_request *req, const http_response *res)
{
    seen.observed++;
    if (!strcmp(req->path, "/api/v1/held")) {
        held_answer *h = calloc(1, sizeof *h);
        if (h && (h->p = http_hold_answer(req))) {
            seen.held++;
            uv_timer_init(ctx, &h->t);
            h->t.data = h;
            uv_timer_start(&h->t, held_release, HOLD_MS, 0);
        } else {
            free(h);
        }
    }
    const char *data = http_request_data(req);
    if (!strcmp(req->path, "/api/v1/slow") && res->status == 201 && data &&
        !strcmp(data, "slow-data"))
        seen.observed_slow++;
}

/* ---- streamed bodies and sized streamed answers ----------------------------- */

/* POST /api/v1/stream: a consumer that checks the pattern as the pieces
 * come, slowly at first (so the queue fills and reading pauses), and
 * refuses after X-Refuse-After bytes when asked. */
typedef struct {
    size_t n, refuse_after, pieces;
    bool intact;
} sink;

static void *sink_open(void *ctx, const http_request *req, http_response *res)
{
    (void)ctx;
    (void)res;
    sink *k = calloc(1, sizeof *k);
    const char *ra = http_request_header(req, "X-Refuse-After");
    if (k)
        *k = (sink){.refuse_after = ra ? strtoul(ra, NULL, 10) : 0, .intact = true};
    else
        http_respond_error(res, 503, "out of memory");
    return k;
}

static int sink_write(void *state, const uint8_t *data, size_t len, http_response *res)
{
    sink *k = state;
    if (k->pieces++ < 50)
        usleep(4000); /* a slow start: 200 ms */
    for (size_t i = 0; i < len; i++)
        k->intact &= data[i] == pattern_byte(k->n + i);
    k->n += len;
    if (k->refuse_after && k->n > k->refuse_after) {
        http_respond_code(res, 422, "test.refused", "refused after %zu bytes", k->n);
        return -1;
    }
    return 0;
}

static void sink_finish(void *state, http_response *res)
{
    sink *k = state;
    http_respond_json(res, 200,
                      json_pack("{s:I,s:b}", "len", (json_int_t)k->n, "intact", k->intact));
}

static void sink_close(void *state)
{
    seen.stream_closed++;
    free(state);
}

static const http_body_consumer sink_consumer = {sink_open, sink_write, sink_finish, sink_close};

/* GET /api/v1/sized: BIG_RESPONSE bytes of the pattern as a sized streamed
 * answer, 256 KiB each time the client has taken the last. */
typedef struct {
    uv_work_t work;
    http_pending *p;
    http_stream *st;
    size_t sent;
} sized_job;

static void sized_nothing(uv_work_t *w)
{
    (void)w;
}

static void sized_drain(void *ctx)
{
    sized_job *j = ctx;
    uint8_t piece[256 * 1024];
    size_t n = BIG_RESPONSE - j->sent < sizeof piece ? BIG_RESPONSE - j->sent : sizeof piece;
    for (size_t i = 0; i < n; i++)
        piece[i] = pattern_byte(j->sent + i);
    if (!http_stream_alive(j->st) || http_stream_write(j->st, piece, n) < 0 ||
        (j->sent += n) == BIG_RESPONSE) {
        http_stream_end(j->st);
        seen.sized_ended++;
        free(j);
    }
}

static void sized_start(uv_work_t *w, int status)
{
    (void)status;
    sized_job *j = w->data;
    http_response_header(http_pending_response(j->p), "X-Sized", "yes");
    j->st = http_pending_stream_sized(j->p, "application/octet-stream", 512 * 1024, BIG_RESPONSE);
    if (!j->st) {
        free(j);
        return;
    }
    http_stream_on_drain(j->st, sized_drain, j);
}

static void h_sized(void *ctx, const http_request *req, http_response *res)
{
    sized_job *j = calloc(1, sizeof *j);
    if (!j || !(j->p = http_defer(req))) {
        free(j);
        http_respond_error(res, 500, "cannot defer");
        return;
    }
    j->work.data = j;
    if (uv_queue_work(ctx, &j->work, sized_nothing, sized_start)) {
        http_respond_error(http_pending_response(j->p), 503, "the pool refused the work");
        http_pending_finish(j->p);
        free(j);
    }
}

static void h_api_fallback(void *ctx, const http_request *req, http_response *res)
{
    (void)ctx;
    http_respond_json(res, 200, json_pack("{s:s,s:s}", "route", "fallback", "path", req->path));
}

/* ---- a tiny blocking client ------------------------------------------- */

typedef struct {
    int fd;
    char buf[65536];
    size_t len;
} conn;

typedef struct {
    int status;
    char headers[8192];
    char *body;
    size_t body_len;
    json_t *json;
} resp;

static int conn_open(conn *c, int port)
{
    c->len = 0;
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0)
        return -1;
    struct timeval tv = {.tv_sec = IO_TIMEOUT_SECS};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    return 0;
}

static void conn_close(conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static int send_all(conn *c, const void *data, size_t n)
{
    const char *p = data;
    while (n) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int fill(conn *c)
{
    if (c->len == sizeof c->buf)
        return -1;
    ssize_t r;
    do
        r = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
    while (r < 0 && errno == EINTR);
    if (r <= 0)
        return -1;
    c->len += (size_t)r;
    return 0;
}

static void consume(conn *c, size_t n)
{
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
}

/* Value of header name in r->headers (case-insensitive), into out. */
static bool resp_header(const resp *r, const char *name, char *out, size_t outlen)
{
    size_t n = strlen(name);
    for (const char *line = r->headers; line && *line;) {
        const char *eol = strstr(line, "\r\n");
        if (!eol)
            break;
        if ((size_t)(eol - line) > n && !strncasecmp(line, name, n) && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ')
                v++;
            snprintf(out, outlen, "%.*s", (int)(eol - v), v);
            return true;
        }
        line = eol + 2;
    }
    return false;
}

static void resp_free(resp *r)
{
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

/* Reads one response (status line, headers, Content-Length body unless
 * it answers a HEAD). */
static int read_response_for(conn *c, resp *r, bool head)
{
    memset(r, 0, sizeof *r);
    char *end;
    while (!(c->len && (end = memmem(c->buf, c->len, "\r\n\r\n", 4))))
        if (fill(c))
            return -1;
    size_t hlen = (size_t)(end - c->buf) + 4;
    if (hlen >= sizeof r->headers)
        return -1;
    memcpy(r->headers, c->buf, hlen);
    r->headers[hlen] = 0;
    consume(c, hlen);
    if (sscanf(r->headers, "HTTP/1.%*d %d", &r->status) != 1)
        return -1;
    char cl[32];
    size_t want = 0;
    if (!head && resp_header(r, "content-length", cl, sizeof cl))
        want = strtoul(cl, NULL, 10);
    r->body = malloc(want + 1);
    if (!r->body)
        return -1;
    while (r->body_len < want) {
        if (!c->len && fill(c))
            return -1;
        size_t n = c->len < want - r->body_len ? c->len : want - r->body_len;
        memcpy(r->body + r->body_len, c->buf, n);
        r->body_len += n;
        consume(c, n);
    }
    r->body[r->body_len] = 0;
    char ct[128];
    if (resp_header(r, "content-type", ct, sizeof ct) && strstr(ct, "json"))
        r->json = json_loadb(r->body, r->body_len, 0, NULL);
    return 0;
}

static int read_response(conn *c, resp *r)
{
    return read_response_for(c, r, false);
}

/* True when the peer has closed the connection (EOF or reset) within the
 * receive timeout; false on data or timeout. */
static bool peer_closed(conn *c)
{
    char b[4096];
    for (;;) {
        ssize_t n = recv(c->fd, b, sizeof b, 0);
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            return true;
        if (n < 0)
            return false;
    }
}

static double now_secs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int send_request(conn *c, const char *method, const char *target, const char *extra,
                        const void *body, size_t body_len)
{
    char head[16384];
    int n = snprintf(head, sizeof head,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s"
                     "Content-Length: %zu\r\n\r\n",
                     method, target, extra ? extra : "",
                     body ? "Content-Type: application/x-test\r\n" : "", body_len);
    if (send_all(c, head, (size_t)n))
        return -1;
    /* A NULL body sends the headers only: the caller sends the body later,
     * or never. */
    return body && body_len ? send_all(c, body, body_len) : 0;
}

/* One request on a fresh connection. */
static int request(int port, const char *method, const char *target, const char *extra,
                   const void *body, size_t body_len, resp *r)
{
    conn *c = malloc(sizeof *c);
    if (!c)
        return -1;
    int rc = -1;
    if (conn_open(c, port) == 0 && send_request(c, method, target, extra, body, body_len) == 0)
        rc = read_response(c, r);
    conn_close(c);
    free(c);
    return rc;
}

/* The error object's message, or "". */
/* The message of r's error body when it has status and machine code
 * code; "" otherwise. */
static const char *error_message(const resp *r, int status, const char *code)
{
    json_t *e = r->json ? json_object_get(r->json, "error") : NULL;
    const char *got = e ? json_string_value(json_object_get(e, "code")) : NULL;
    if (!e || json_integer_value(json_object_get(e, "status")) != status || !got ||
        strcmp(got, code))
        return "";
    const char *m = json_string_value(json_object_get(e, "message"));
    return m ? m : "";
}

/* ---- the client thread ------------------------------------------------- */

typedef struct {
    int port;
    int slow_port; /* server with timeout_secs = 1 */
    uv_async_t *stop;
    conn *left_open[4]; /* closed by main after the shutdown */
} client_arg;

static void client_checks(int port)
{
    resp r;
    char v[256];

    /* 200 + JSON + content type, query, headers, remote address. */
    REQUIRE(request(port, "GET", "/api/v1/health?a=1&b=two", "X-Request-Id: abc-123\r\n", NULL, 0,
                    &r) == 0);
    CHECK(r.status == 200);
    CHECK(resp_header(&r, "content-type", v, sizeof v) && !strcmp(v, "application/json"));
    CHECK(resp_header(&r, "x-test", v, sizeof v) && !strcmp(v, "yes"));
    CHECK(resp_header(&r, "connection", v, sizeof v) && !strcasecmp(v, "close"));
    REQUIRE(r.json != NULL);
    CHECK(json_is_true(json_object_get(r.json, "ok")));
    CHECK(!strcmp(json_string_value(json_object_get(r.json, "method")), "GET"));
    CHECK(!strcmp(json_string_value(json_object_get(r.json, "path")), "/api/v1/health"));
    CHECKF(!strcmp(json_string_value(json_object_get(r.json, "query")), "a=1&b=two"), "query=%s",
           json_string_value(json_object_get(r.json, "query")));
    CHECK(!strcmp(json_string_value(json_object_get(r.json, "remote")), "127.0.0.1"));
    CHECK(json_string_value(json_object_get(r.json, "request_id")) &&
          !strcmp(json_string_value(json_object_get(r.json, "request_id")), "abc-123"));
    CHECK(json_string_value(json_object_get(r.json, "host")) &&
          !strcmp(json_string_value(json_object_get(r.json, "host")), "127.0.0.1"));
    resp_free(&r);

    /* lws decodes the query; we hand it on re-encoded, and decode params. */
    REQUIRE(request(port, "GET", "/api/v1/health?a=1%26b&c=d+e&f=%C3%A9&g", NULL, NULL, 0, &r) ==
            0);
    CHECK(r.status == 200 && r.json);
    CHECKF(r.json && !strcmp(json_string_value(json_object_get(r.json, "query")),
                             "a=1%26b&c=d%20e&f=%C3%A9&g"),
           "body=%s", r.body);
    CHECK(r.json && !strcmp(json_string_value(json_object_get(r.json, "a")), "1&b"));
    CHECK(r.json && !strcmp(json_string_value(json_object_get(r.json, "c")), "d e"));
    CHECK(r.json && !strcmp(json_string_value(json_object_get(r.json, "f")), "\xc3\xa9"));
    CHECK(r.json && !strcmp(json_string_value(json_object_get(r.json, "g")), ""));
    CHECK(r.json && json_is_null(json_object_get(r.json, "zz")));
    resp_free(&r);

    /* No query: "". A missing header: NULL. */
    REQUIRE(request(port, "GET", "/api/v1/health", NULL, NULL, 0, &r) == 0);
    CHECK(r.status == 200 && r.json);
    CHECK(r.json && !strcmp(json_string_value(json_object_get(r.json, "query")), ""));
    CHECKF(r.json && json_is_null(json_object_get(r.json, "request_id")), "body=%s", r.body);
    resp_free(&r);

    /* Unknown path: 404 JSON that says what to do. */
    REQUIRE(request(port, "GET", "/nope", NULL, NULL, 0, &r) == 0);
    CHECK(r.status == 404);
    CHECK(resp_header(&r, "content-type", v, sizeof v) && !strcmp(v, "application/json"));
    CHECKF(strstr(error_message(&r, 404, "http.not_found"), "/nope") != NULL, "body=%s", r.body);
    resp_free(&r);

    /* A prefix without '/' does not match a longer word (so "/api/" takes it). */
    REQUIRE(request(port, "GET", "/api/v1/healthz", NULL, NULL, 0, &r) == 0);
    CHECK(r.status == 200 && r.json &&
          !strcmp(json_string_value(json_object_get(r.json, "route")), "fallback"));
    resp_free(&r);

    /* ...but does match a sub-path; the longest prefix wins over "/api/". */
    REQUIRE(request(port, "GET", "/api/v1/health/deep", NULL, NULL, 0, &r) == 0);
    CHECK(r.status == 200 && r.json &&
          !strcmp(json_string_value(json_object_get(r.json, "path")), "/api/v1/health/deep"));
    resp_free(&r);
    REQUIRE(request(port, "GET", "/api/other", NULL, NULL, 0, &r) == 0);
    CHECK(r.status == 200 && r.json &&
          !strcmp(json_string_value(json_object_get(r.json, "route")), "fallback"));
    resp_free(&r);

    /* Known path, wrong method: 405 with Allow (the body is drained first). */
    REQUIRE(request(port, "PATCH", "/api/v1/echo", NULL, "x", 1, &r) == 0);
    CHECK(r.status == 405);
    CHECKF(resp_header(&r, "allow", v, sizeof v) && !strcmp(v, "POST, GET"), "allow=%s", v);
    CHECKF(strstr(error_message(&r, 405, "http.method_not_allowed"), "POST") != NULL, "body=%s",
           r.body);
    resp_free(&r);
    REQUIRE(request(port, "POST", "/api/v1/health", NULL, NULL, 0, &r) == 0);
    CHECK(r.status == 405);
    CHECKF(resp_header(&r, "allow", v, sizeof v) && !strcmp(v, "GET"), "allow=%s", v);
    resp_free(&r);
    REQUIRE(request(port, "GET", "/other/x", NULL, NULL, 0, &r) == 0);
    CHECK(r.status == 404);
    resp_free(&r);

    /* POST body delivered intact. */
    size_t blen = 200 * 1000;
    uint8_t *body = malloc(MAX_BODY + 1);
    REQUIRE(body != NULL);
    for (size_t i = 0; i < MAX_BODY + 1; i++)
        body[i] = pattern_byte(i);
    REQUIRE(request(port, "POST", "/api/v1/echo", NULL, body, blen, &r) == 0);
    CHECK(r.status == 200 && r.json);
    CHECK(r.json && json_integer_value(json_object_get(r.json, "len")) == (json_int_t)blen);
    CHECK(r.json && json_is_true(json_object_get(r.json, "intact")));
    CHECK(r.json && json_string_value(json_object_get(r.json, "type")) &&
          !strcmp(json_string_value(json_object_get(r.json, "type")), "application/x-test"));
    resp_free(&r);

    /* Exactly max_body is fine; one byte more is 413 (after the body is
     * read, so the client sees the answer, then a clean close). */
    REQUIRE(request(port, "POST", "/api/v1/echo", NULL, body, MAX_BODY, &r) == 0);
    CHECK(r.status == 200 && r.json &&
          json_integer_value(json_object_get(r.json, "len")) == (json_int_t)MAX_BODY);
    resp_free(&r);

    conn *c = malloc(sizeof *c);
    REQUIRE(c && conn_open(c, port) == 0);
    REQUIRE(send_request(c, "POST", "/api/v1/echo", NULL, body, MAX_BODY + 1) == 0);
    REQUIRE(read_response(c, &r) == 0);
    CHECK(r.status == 413);
    CHECKF(strstr(error_message(&r, 413, "http.body_too_large"), "smaller") != NULL, "body=%s",
           r.body);
    CHECK(resp_header(&r, "connection", v, sizeof v) && !strcasecmp(v, "close"));
    resp_free(&r);
    CHECK(peer_closed(c));
    conn_close(c);

    /* A route with its own limit takes more than the server's. */
    uint8_t *big = malloc(2 * MAX_BODY + 1);
    REQUIRE(big);
    for (size_t i = 0; i < 2 * MAX_BODY + 1; i++)
        big[i] = pattern_byte(i);
    REQUIRE(request(port, "POST", "/api/v1/upload", NULL, big, 2 * MAX_BODY, &r) == 0);
    CHECK(r.status == 200 && r.json &&
          json_integer_value(json_object_get(r.json, "len")) == (json_int_t)(2 * MAX_BODY));
    resp_free(&r);
    REQUIRE(request(port, "POST", "/api/v1/upload", NULL, big, 2 * MAX_BODY + 1, &r) == 0);
    CHECK(r.status == 413);
    resp_free(&r);
    free(big);
    REQUIRE(request(port, "GET", "/api/v1/health", NULL, NULL, 0, &r) == 0);
    CHECK(r.status == 200);
    resp_free(&r);

    /* 204: no body and no Content-Length. */
    REQUIRE(conn_open(c, port) == 0);
    REQUIRE(send_request(c, "DELETE", "/api/v1/items/7", NULL, NULL, 0) == 0);
    REQUIRE(read_response(c, &r) == 0);
    CHECK(r.status == 204 && r.body_len == 0);
    CHECK(!resp_header(&r, "content-length", v, sizeof v));
    resp_free(&r);
    CHECK(c->len == 0 && peer_closed(c));
    conn_close(c);

    /* HEAD: the GET route's headers with the length, and no body at all. */
    REQUIRE(conn_open(c, port) == 0);
    REQUIRE(send_request(c, "HEAD", "/api/v1/big", NULL, NULL, 0) == 0);
    REQUIRE(read_response_for(c, &r, true) == 0);
    CHECK(r.status == 200);
    CHECK(resp_header(&r, "content-length", v, sizeof v) && strtoul(v, NULL, 10) == BIG_RESPONSE);
    resp_free(&r);
    CHECK(c->len == 0 && peer_closed(c));
    conn_close(c);

    /* Expect: 100-continue gets "100 Continue" before the body is sent. */
    REQUIRE(conn_open(c, port) == 0);
    REQUIRE(send_request(c, "POST", "/api/v1/echo", "Expect: 100-continue\r\n", NULL, 5000) == 0);
    REQUIRE(read_response(c, &r) == 0);
    CHECK(r.status == 100);
    resp_free(&r);
    REQUIRE(send_all(c, body, 5000) == 0);
    REQUIRE(read_response(c, &r) == 0);
    CHECK(r.status == 200 && r.json && json_integer_value(json_object_get(r.json, "len")) == 5000);
    resp_free(&r);
    conn_close(c);

    /* Pipelining (a request with a body queued behind another) makes lws
     * 4.1.6 spin; the server must answer the first, close, and stay alive. */
    REQUIRE(conn_open(c, port) == 0);
    const char *pipe2 = "GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n"
                        "POST /api/v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc";
    REQUIRE(send_all(c, pipe2, strlen(pipe2)) == 0);
    REQUIRE(read_response(c, &r) == 0);
    CHECK(r.status == 200);
    resp_free(&r);
    CHECK(peer_closed(c));
    conn_close(c);
    double t0 = now_secs();
    REQUIRE(request(port, "GET", "/api/v1/health", NULL, NULL, 0, &r) == 0);
    CHECK(r.status == 200);
    CHECKF(now_secs() - t0 < 1.0, "took %.2f s", now_secs() - t0);
    resp_free(&r);

    /* Upgrades are refused over HTTP/1.1 (this server has no WebSocket
     * endpoints, and there is no HTTP/2). */
    REQUIRE(request(port, "GET", "/api/v1/health",
                    "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
                    NULL, 0, &r) == 0);
    CHECK(r.status == 404);
    CHECKF(strstr(error_message(&r, 404, "http.not_found"), "WebSocket") != NULL, "body=%s",
           r.body);
    resp_free(&r);
    REQUIRE(request(port, "GET", "/api/v1/health",
                    "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                    "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n",
                    NULL, 0, &r) == 0);
    CHECK(r.status == 400);
    CHECKF(strstr(error_message(&r, 400, "http.upgrade_unsupported"), "HTTP/1.1") != NULL,
           "body=%s", r.body);
    resp_free(&r);

    /* ...and a refusal at once, with the connection closed. */
    REQUIRE(conn_open(c, port) == 0);
    REQUIRE(send_request(c, "POST", "/api/v1/echo", "Expect: 100-continue\r\n", NULL,
                         MAX_BODY * 4) == 0);
    REQUIRE(read_response(c, &r) == 0);
    CHECK(r.status == 413);
    CHECK(resp_header(&r, "connection", v, sizeof v) && !strcasecmp(v, "close"));
    resp_free(&r);
    CHECK(peer_closed(c));
    conn_close(c);

    /* Clients that vanish mid-body and mid-response. */
    REQUIRE(conn_open(c, port) == 0);
    REQUIRE(send_request(c, "POST", "/api/v1/echo", NULL, NULL, 100000) == 0);
    REQUIRE(send_all(c, body, 1000) == 0);
    conn_close(c);
    REQUIRE(conn_open(c, port) == 0);
    REQUIRE(send_request(c, "GET", "/api/v1/big", NULL, NULL, 0) == 0);
    REQUIRE(fill(c) == 0);
    conn_close(c);

    /* A body declared far too large is refused before it is sent. */
    REQUIRE(conn_open(c, port) == 0);
    const char *huge = "POST /api/v1/echo HTTP/1.1\r\nHost: x\r\n"
                       "Content-Length: 100000000000\r\n\r\n";
    REQUIRE(send_all(c, huge, strlen(huge)) == 0);
    REQUIRE(send_all(c, body, 4096) == 0);
    REQUIRE(read_response(c, &r) == 0);
    CHECK(r.status == 413);
    CHECK(resp_header(&r, "connection", v, sizeof v) && !strcasecmp(v, "close"));
    resp_free(&r);
    conn_close(c);
    free(c);
    free(body);

    /* The server still answers. */
    REQUIRE(request(port, "GET", "/api/v1/health", NULL, NULL, 0, &r) == 0);
    CHECK(r.status == 200);
    resp_free(&r);

    /* A response larger than 1 MB arrives complete. */
    REQUIRE(request(port, "GET", "/api/v1/big", NULL, NULL, 0, &r) == 0);
    CHECK(r.status == 200);
    CHECK(r.body_len == BIG_RESPONSE);
    bool same = r.body_len == BIG_RESPONSE;
    for (size_t i = 0; same && i < r.body_len; i++)
        same = (uint8_t)r.body[i] == pattern_byte(i);
    CHECK(same);
    resp_free(&r);
}

/* A stalled body is cut off by the server's timeout (1 s on this one). */
static void timeout_checks(int port)
{
    conn *c = malloc(sizeof *c);
    REQUIRE(c && conn_open(c, port) == 0);
    REQUIRE(send_request(c, "POST", "/api/v1/echo", NULL, NULL, 10) == 0);
    REQUIRE(send_all(c, "abc", 3) == 0);
    double t0 = now_secs();
    CHECK(peer_closed(c));
    double dt = now_secs() - t0;
    CHECKF(dt > 0.5 && dt < 4.5, "closed after %.2f s", dt);
    conn_close(c);

    /* That server still works. */
    resp r;
    REQUIRE(request(port, "GET", "/api/v1/health", NULL, NULL, 0, &r) == 0);
    CHECK(r.status == 200);
    resp_free(&r);
    free(c);
}

/* Sends data one byte every 300 ms until the server answers; returns
 * after reading the answer into r (-1 when none came). */
static int trickle(conn *c, const char *data, resp *r)
{
    for (const char *p = data; *p; p++) {
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        if (poll(&pfd, 1, 300) > 0)
            break;
        if (send_all(c, p, 1))
            break;
    }
    return read_response(c, r);
}

/* Slow clients: a head or a body paced to dodge the idle timeout (1 s on
 * this server) still meets the head deadline (1 s) or the body deadline
 * (request_secs, 2 s), with a 408 that says so. */
static void slow_client_checks(int port)
{
    conn *c = malloc(sizeof *c);
    resp r;
    REQUIRE(c && conn_open(c, port) == 0);
    double t0 = now_secs();
    CHECK(trickle(c, "GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaa\r\n\r\n",
                  &r) == 0);
    double dt = now_secs() - t0;
    CHECKF(r.status == 408 &&
               strstr(error_message(&r, 408, "http.timeout"), "head did not arrive within 1 s"),
           "status %d body=%s", r.status, r.body ? r.body : "");
    CHECKF(dt > 0.8 && dt < 3.0, "head cut after %.2f s", dt);
    resp_free(&r);
    conn_close(c);

    REQUIRE(conn_open(c, port) == 0);
    REQUIRE(send_request(c, "POST", "/api/v1/echo", NULL, NULL, 100) == 0);
    t0 = now_secs();
    CHECK(trickle(c, "0123456789012345678901234567890123456789", &r) == 0);
    dt = now_secs() - t0;
    CHECKF(r.status == 408 &&
               strstr(error_message(&r, 408, "http.timeout"), "body did not arrive within 2 s"),
           "status %d body=%s", r.status, r.body ? r.body : "");
    CHECKF(dt > 1.8 && dt < 4.0, "body cut after %.2f s", dt);
    resp_free(&r);
    conn_close(c);
    free(c);

    REQUIRE(request(port, "GET", "/api/v1/health", NULL, NULL, 0, &r) == 0);
    CHECK(r.status == 200);
    resp_free(&r);
}

/* Polls GET /api/v1/observed until its counter key reaches at_least (up to
 * 5 s); the last count seen. */
static long long observed_wait(int port, const char *key, long long at_least)
{
    long long n = -1;
    for (double end = now_secs() + 5; n < at_least && now_secs() < end;) {
        resp r;
        if (request(port, "GET", "/api/v1/observed", NULL, NULL, 0, &r) == 0) {
            n = r.json ? json_integer_value(json_object_get(r.json, key)) : -1;
            resp_free(&r);
        }
        if (n < at_least)
            usleep(20 * 1000);
    }
    return n;
}

/* GET /api/v1/health answers 200 before limit seconds from t0 have passed
 * (while another request waits). */
static void health_within(int port, double t0, double limit)
{
    resp r;
    REQUIRE(request(port, "GET", "/api/v1/health", NULL, NULL, 0, &r) == 0);
    CHECKF(r.status == 200 && now_secs() - t0 < limit, "health took %.2f s", now_secs() - t0);
    resp_free(&r);
}

/* Deferred answers: others are served meanwhile, the observer sees the
 * answer with the request's data, and a client that leaves first costs
 * nothing but the work (leave_open() also leaves one pending through the
 * shutdown). Oversized heads get 431. */
static void deferred_checks(int port)
{
    conn *c = malloc(sizeof *c);
    resp r;
    REQUIRE(c && conn_open(c, port) == 0);
    double t0 = now_secs();
    REQUIRE(send_request(c, "GET", "/api/v1/slow?ms=400", NULL, NULL, 0) == 0);
    health_within(port, t0, 0.3);
    REQUIRE(read_response(c, &r) == 0);
    CHECK(r.status == 201 && r.json && json_is_true(json_object_get(r.json, "deferred")));
    CHECKF(now_secs() - t0 >= 0.39, "deferred answer after %.2f s", now_secs() - t0);
    resp_free(&r);
    conn_close(c);

    REQUIRE(conn_open(c, port) == 0);
    REQUIRE(send_request(c, "GET", "/api/v1/slow?ms=200", NULL, NULL, 0) == 0);
    CHECK(observed_wait(port, "started", 2) == 2); /* the client leaves once it is deferred */
    conn_close(c);
    CHECK(observed_wait(port, "finished", 2) == 2);
    REQUIRE(request(port, "GET", "/api/v1/observed", NULL, NULL, 0, &r) == 0);
    /* (lws notices the close only when it writes the answer) */
    CHECKF(r.json && json_integer_value(json_object_get(r.json, "finished")) == 2 &&
               json_integer_value(json_object_get(r.json, "observed_slow")) >= 1 &&
               json_integer_value(json_object_get(r.json, "observed")) > 10,
           "body=%s", r.body);
    resp_free(&r);

    char *big = malloc(HTTP_MAX_HEADER_BYTES + 200);
    REQUIRE(big != NULL);
    memset(big, 'a', HTTP_MAX_HEADER_BYTES + 100);
    memcpy(big, "X-Big: ", 7);
    memcpy(big + HTTP_MAX_HEADER_BYTES + 100, "\r\n", 3);
    REQUIRE(request(port, "GET", "/api/v1/health", big, NULL, 0, &r) == 0);
    CHECKF(r.status == 431 && strstr(error_message(&r, 431, "http.headers_too_large"), "8192"),
           "status %d body=%s", r.status, r.body ? r.body : "");
    resp_free(&r);
    free(big);
    free(c);
}

/* Held answers (http_hold_answer): the client gets the answer only once
 * the observer releases it, others are served meanwhile, and a client
 * that leaves while held costs nothing but the release. */
static void held_checks(int port)
{
    conn *c = malloc(sizeof *c);
    resp r;
    REQUIRE(c && conn_open(c, port) == 0);
    double t0 = now_secs();
    REQUIRE(send_request(c, "GET", "/api/v1/held", NULL, NULL, 0) == 0);
    CHECK(observed_wait(port, "held", 1) == 1);
    health_within(port, t0, 0.25);
    REQUIRE(read_response(c, &r) == 0);
    CHECK(r.status == 200);
    CHECKF(now_secs() - t0 >= (HOLD_MS - 10) / 1000.0, "held answer after %.2f s", now_secs() - t0);
    resp_free(&r);
    conn_close(c);

    REQUIRE(conn_open(c, port) == 0);
    REQUIRE(send_request(c, "GET", "/api/v1/held", NULL, NULL, 0) == 0);
    CHECK(observed_wait(port, "held", 2) == 2);
    conn_close(c);
    CHECK(observed_wait(port, "released", 2) == 2);
    REQUIRE(request(port, "GET", "/api/v1/health", NULL, NULL, 0, &r) == 0);
    CHECK(r.status == 200);
    resp_free(&r);
    free(c);
}

/* Connections the shutdown must close: mid-headers, mid-body, and
 * mid-response with a client that stopped reading. */
static void leave_open(client_arg *a)
{
    static const char big[] = "GET /api/v1/big HTTP/1.1\r\nHost: x\r\n\r\n";
    for (int i = 0; i < 4; i++) {
        a->left_open[i] = calloc(1, sizeof(conn));
        REQUIRE(a->left_open[i] && conn_open(a->left_open[i], a->port) == 0);
    }
    /* [0] connected but has sent nothing yet. */
    REQUIRE(send_all(a->left_open[0], "GET /api/v1/hea", 15) == 0);
    REQUIRE(send_request(a->left_open[1], "POST", "/api/v1/echo", NULL, NULL, 50000) == 0);
    REQUIRE(send_all(a->left_open[1], "partial", 7) == 0);
    REQUIRE(send_all(a->left_open[2], big, strlen(big)) == 0);
    REQUIRE(fill(a->left_open[2]) == 0); /* the answer has begun */
    /* [3] waits for a deferred answer when the server stops */
    long long started = observed_wait(a->port, "started", 0);
    REQUIRE(send_request(a->left_open[3], "GET", "/api/v1/slow?ms=300", NULL, NULL, 0) == 0);
    /* [3] is deferred on the server; the shutdown closes the others however far they were read */
    CHECK(observed_wait(a->port, "started", started + 1) == started + 1);
}

/* ---- the WebSocket seam: an echo endpoint at /ws/ ------------------------ */

#define ECHO_PROTOCOL "echo.v1"

typedef struct {
    unsigned char buf[LWS_PRE + 125];
    size_t len;
} echo_session;

static int echo_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len)
{
    echo_session *es = user;
    switch (reason) {
    case LWS_CALLBACK_RECEIVE:
        if (len > sizeof es->buf - LWS_PRE)
            return -1;
        memcpy(es->buf + LWS_PRE, in, len);
        es->len = len;
        lws_callback_on_writable(wsi);
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return lws_write(wsi, es->buf + LWS_PRE, es->len, LWS_WRITE_TEXT) < (int)es->len ? -1 : 0;
    default: return 0;
    }
}

static const struct lws_protocols echo_protocol = {
    ECHO_PROTOCOL, echo_callback, sizeof(echo_session), 0, 0, NULL, 0};

/* Sends an upgrade of path asking for protocols; returns the status. */
static int ws_upgrade(conn *c, int port, const char *path, const char *protocols)
{
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\n"
                     "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Protocol: %s\r\n\r\n",
                     path, protocols);
    resp r;
    if (conn_open(c, port) || send_all(c, req, (size_t)n) || read_response_for(c, &r, true))
        return -1;
    int status = r.status;
    char got[64] = "";
    resp_header(&r, "sec-websocket-protocol", got, sizeof got);
    if (status == 101 && strcmp(got, ECHO_PROTOCOL))
        status = -2;
    resp_free(&r);
    return status;
}

static void ws_checks(int port)
{
    conn *c = calloc(1, sizeof *c);
    REQUIRE(c != NULL);
    /* the endpoint's path and subprotocol: upgraded, and it echoes */
    CHECK(ws_upgrade(c, port, "/ws/room", "chat, " ECHO_PROTOCOL) == 101);
    static const unsigned char hello[] = {0x81, 0x82, 1, 2, 3, 4, 'h' ^ 1, 'i' ^ 2};
    CHECK(send_all(c, hello, sizeof hello) == 0);
    while (c->len < 4 && fill(c) == 0) {
    }
    CHECKF(c->len == 4 && !memcmp(c->buf, "\x81\x02hi", 4), "echo of %zu bytes", c->len);
    conn_close(c);
    /* other paths, other subprotocols, and HTTP's own name are refused */
    CHECK(ws_upgrade(c, port, "/api/v1/health", ECHO_PROTOCOL) == 404);
    conn_close(c);
    CHECK(ws_upgrade(c, port, "/ws/room", "chat") == 404);
    conn_close(c);
    CHECK(ws_upgrade(c, port, "/ws/room", "http, " ECHO_PROTOCOL) == 404);
    conn_close(c);
    free(c);
    /* plain HTTP on the same server still works */
    resp r;
    REQUIRE(request(port, "GET", "/api/v1/health", NULL, NULL, 0, &r) == 0);
    CHECK(r.status == 200);
    resp_free(&r);
}

/* Streamed bodies: a large one arrives whole and in order through a slow
 * consumer; a refusal midway is answered once the rest is read; a client
 * that leaves midway gets its consumer closed. A sized streamed answer
 * comes whole with its length; a client that leaves it midway lets its
 * owner end it. */
static void stream_checks(int port)
{
    size_t big = 6u << 20;
    uint8_t *body = malloc(big);
    REQUIRE(body);
    for (size_t i = 0; i < big; i++)
        body[i] = pattern_byte(i);
    resp r;
    REQUIRE(request(port, "POST", "/api/v1/stream", NULL, body, big, &r) == 0);
    CHECKF(r.status == 200 && r.json &&
               json_integer_value(json_object_get(r.json, "len")) == (json_int_t)big &&
               json_is_true(json_object_get(r.json, "intact")),
           "a 6 MiB body through the consumer: %d %s", r.status, r.body);
    resp_free(&r);
    CHECK(observed_wait(port, "stream_closed", 1) == 1);

    REQUIRE(request(port, "POST", "/api/v1/stream", "X-Refuse-After: 65536\r\n", body, 1u << 20,
                    &r) == 0);
    CHECKF(r.status == 422 && strstr(error_message(&r, 422, "test.refused"), "refused after"),
           "a refusal midway reaches the client: %d %s", r.status, r.body);
    resp_free(&r);
    CHECK(observed_wait(port, "stream_closed", 2) == 2);

    conn *c = malloc(sizeof *c);
    REQUIRE(c && conn_open(c, port) == 0);
    REQUIRE(send_request(c, "POST", "/api/v1/stream", NULL, NULL, big) == 0);
    CHECK(send_all(c, body, 100000) == 0);
    conn_close(c);
    CHECKF(observed_wait(port, "stream_closed", 3) == 3, "a client that leaves midway: closed");

    int got = request(port, "GET", "/api/v1/sized", NULL, NULL, 0, &r);
    CHECKF(got == 0, "GET /api/v1/sized answered (%d: %d, %zu bytes, %s)", got, r.status,
           r.body_len, r.headers);
    char h[64] = "";
    bool intact = r.body_len == BIG_RESPONSE;
    for (size_t i = 0; intact && i < BIG_RESPONSE; i++)
        intact = (uint8_t)r.body[i] == pattern_byte(i);
    CHECKF(r.status == 200 && intact && resp_header(&r, "X-Sized", h, sizeof h),
           "a sized streamed answer: %d, %zu bytes", r.status, r.body_len);
    resp_free(&r);
    CHECK(observed_wait(port, "sized_ended", 1) == 1);
    REQUIRE(conn_open(c, port) == 0);
    REQUIRE(send_request(c, "GET", "/api/v1/sized", NULL, NULL, 0) == 0);
    CHECK(fill(c) == 0); /* the answer has begun */
    conn_close(c);
    CHECKF(observed_wait(port, "sized_ended", 2) == 2, "a reader that leaves: the owner ends it");
    free(c);
    free(body);
}

static void *client_main(void *p)
{
    client_arg *a = p;
    double t0 = now_secs();
    client_checks(a->port);
    deferred_checks(a->port);
    held_checks(a->port);
    stream_checks(a->port);
    timeout_checks(a->slow_port);
    slow_client_checks(a->slow_port);
    ws_checks(a->slow_port);
    leave_open(a);
    fprintf(stderr, "client done in %.2f s\n", now_secs() - t0);
    uv_async_send(a->stop);
    return NULL;
}

/* ---- error bodies ------------------------------------------------------ */

/* The error.code and error.status of res's body (code "" when absent). */
static void error_fields(const http_response *res, char code[64], long long *status)
{
    json_t *j = json_loads(res->body ? res->body : "", 0, NULL);
    json_t *e = json_object_get(j, "error");
    snprintf(code, 64, "%s", json_string_value(json_object_get(e, "code")) ?: "");
    *status = json_integer_value(json_object_get(e, "status"));
    json_decref(j);
}

/* Every error body carries a string code: the generic one of its status,
 * the one given, or the typed error's. */
static void error_body_checks(void)
{
    http_response res = {.status = 200};
    char code[64];
    long long status;
    http_respond_error(&res, 404, "no %s", "thing");
    error_fields(&res, code, &status);
    CHECKF(res.status == 404 && status == 404 && !strcmp(code, "not_found"), "%s", res.body);
    http_respond_code(&res, 409, "report.state_conflict", "wrong state");
    error_fields(&res, code, &status);
    CHECKF(res.status == 409 && status == 409 && !strcmp(code, "report.state_conflict"), "%s",
           res.body);
    lt_error e;
    lt_error_set(&e, LT_ESTORAGE, NULL, "the disk is full; free space");
    http_respond_lt(&res, &e);
    error_fields(&res, code, &status);
    CHECKF(res.status == 500 && status == 500 && !strcmp(code, "storage") &&
               strstr(res.body, "the disk is full"),
           "%s", res.body);
    lt_error_set(&e, LT_EFORBIDDEN, "report.authority", "not this node's");
    http_respond_lt(&res, &e);
    error_fields(&res, code, &status);
    CHECKF(res.status == 403 && !strcmp(code, "report.authority"), "%s", res.body);
    free(res.body);
}

/* ---- the loop thread --------------------------------------------------- */

static void on_stop(uv_async_t *h)
{
    uv_stop(h->loop);
}

int main(void)
{
    alarm(120); /* last resort if something hangs */
    error_body_checks();

    uv_loop_t loop;
    REQUIRE(uv_loop_init(&loop) == 0);
    uv_async_t stop;
    REQUIRE(uv_async_init(&loop, &stop, on_stop) == 0);

    http_body_route sink_route = {&sink_consumer, h_health, NULL};
    const http_route routes[] = {
        {"GET", "/api/v1/health", h_health, NULL, 0},
        {"POST", "/api/v1/echo", h_echo, NULL, 0},
        {"POST", "/api/v1/upload", h_echo, NULL, 2 * MAX_BODY},
        {"GET", "/api/v1/big", h_big, NULL, 0},
        {"DELETE", "/api/v1/items/", h_items_delete, NULL, 0},
        {"GET", "/api/v1/slow", h_slow, &loop, 0},
        {"GET", "/api/v1/observed", h_observed, NULL, 0},
        {"GET", "/api/v1/held", h_health, NULL, 0},
        {"GET", "/api/", h_api_fallback, NULL, 0},
        {"POST", "/api/v1/stream", http_body_handler, &sink_route, 8u << 20},
        {"GET", "/api/v1/sized", h_sized, &loop, 0},
    };
    http_limits limits = {.max_body = MAX_BODY, .timeout_secs = 10};
    char err[256] = "";
    http_server *s = http_server_start(&loop, "127.0.0.1", 0, routes,
                                       sizeof routes / sizeof routes[0], &limits, err, sizeof err);
    if (!s)
        fprintf(stderr, "start: %s\n", err);
    REQUIRE(s != NULL);
    int port = http_server_port(s);
    http_server_observe(s, observer, &loop);
    CHECK(port > 0 && port < 65536);

    /* A second server on the same port fails cleanly, with a useful message;
     * so do hosts that are not addresses and routes without a '/'. */
    char err2[256] = "";
    http_server *s2 =
        http_server_start(&loop, "127.0.0.1", port, routes, 1, NULL, err2, sizeof err2);
    CHECK(s2 == NULL);
    CHECKF(strstr(err2, "in use") != NULL, "err=%s", err2);
    err2[0] = 0;
    CHECK(http_server_start(&loop, "eth9", 0, routes, 1, NULL, err2, sizeof err2) == NULL);
    CHECKF(strstr(err2, "numeric") != NULL, "err=%s", err2);
    const http_route bad = {"GET", "api", h_health, NULL, 0};
    err2[0] = 0;
    CHECK(http_server_start(&loop, "127.0.0.1", 0, &bad, 1, NULL, err2, sizeof err2) == NULL);
    CHECKF(strstr(err2, "'/'") != NULL, "err=%s", err2);

    /* WebSocket endpoints need a named protocol with a callback, not "http". */
    const struct lws_protocols named_http = {"http", echo_callback, 0, 0, 0, NULL, 0};
    const http_ws_endpoint bad_ws = {&named_http, "/ws/"};
    err2[0] = 0;
    CHECK(http_server_start_ws(&loop, "127.0.0.1", 0, routes, 1, NULL, &bad_ws, 1, err2,
                               sizeof err2) == NULL);
    CHECKF(strstr(err2, "WebSocket endpoint 0") != NULL, "err=%s", err2);

    /* A second server on the same loop, with a 1 s timeout and an echo
     * WebSocket endpoint under /ws/. */
    http_limits slow_limits = {.max_body = 1024, .timeout_secs = 1, .request_secs = 2};
    const http_ws_endpoint echo = {&echo_protocol, "/ws/"};
    http_server *slow = http_server_start_ws(&loop, "127.0.0.1", 0, routes, 2, &slow_limits, &echo,
                                             1, err, sizeof err);
    REQUIRE(slow != NULL);
    CHECK(http_server_lws_context(slow) != NULL && http_server_lws_vhost(slow) != NULL);

    client_arg arg = {.port = port, .slow_port = http_server_port(slow), .stop = &stop};
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, client_main, &arg) == 0);

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uv_run(&loop, UV_RUN_DEFAULT);
    pthread_join(th, NULL);

    /* The documented shutdown sequence. */
    http_server_stop(s);
    http_server_stop(slow);
    uv_close((uv_handle_t *)&stop, NULL);
    int spins = 0;
    while (uv_run(&loop, UV_RUN_DEFAULT) != 0 && spins < 100)
        spins++;
    CHECK(spins < 100);
    http_server_finish(s);
    http_server_finish(slow);
    CHECK(uv_loop_close(&loop) == 0);

    /* The deferred answer left pending finished without its connection. */
    CHECKF(seen.finished == 3 && seen.orphaned == 1, "finished %d orphaned %d", seen.finished,
           seen.orphaned);

    /* The server side closed the connections left open. */
    for (int i = 0; i < 4; i++) {
        CHECK(peer_closed(arg.left_open[i]));
        conn_close(arg.left_open[i]);
        free(arg.left_open[i]);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    CHECKF(secs < 30, "took %.1f s", secs);
    return check_done();
}
