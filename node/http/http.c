/*
 * http.c - the HTTP/1.1 server of http.h on libwebsockets (foreign libuv loop).
 *
 * One lws context with one vhost per server. All HTTP traffic goes through
 * http_callback() (protocols[0]): LWS_CALLBACK_HTTP parses the request line
 * and routes it, HTTP_BODY collects the body, HTTP_BODY_COMPLETION calls the
 * handler, HTTP_WRITEABLE writes the headers and then the body in chunks of
 * HTTP_WRITE_CHUNK (asking for another WRITEABLE after each), and
 * CLOSED_HTTP frees what the connection still holds. A route whose handler
 * is http_body_handler gets its body through a body_stream instead
 * (body_stream.h): HTTP_BODY queues each piece for the consumer's job on
 * the pool, pausing the socket (lws_rx_flow_control) while the queue is
 * full, and the answer comes from the consumer like a deferred one.
 *
 * A request the module refuses (404, 405, 413 up to HTTP_DRAIN_MAX) still has
 * its body read and thrown away before the answer goes out, so the client
 * reads the answer rather than a connection reset. A body declared larger
 * than HTTP_DRAIN_MAX, or one the client holds back for "100 Continue", is
 * answered at once and the connection closed.
 *
 * No keep-alive (HTTP_KEEP_ALIVE): every answer says "connection: close".
 * lws 4.1.6 mishandles a request that arrives pipelined behind another one
 * when it has a body: on the libuv loop it spins for ever inside
 * lws_service_do_ripe_rxflow() (one packet from any client freezes the
 * node), with its own poll loop it answers 403. Closing after each answer
 * means lws never parses buffered pipelined input. tests/test_http.c sends
 * such a pipeline; try it before turning keep-alive back on with a newer lws.
 *
 * Upgrades: lws would switch an "Upgrade: h2c" request to HTTP/2, where large
 * bodies and POSTs break, and accept any WebSocket upgrade onto protocols[0].
 * on_upgrade() refuses both with a JSON answer over HTTP/1.1, except a
 * WebSocket upgrade to one of the caller's endpoints (http_ws_endpoint): its
 * path must match the endpoint's prefix and the first subprotocol of the
 * client's list that this vhost knows must be the endpoint's. The vhost's
 * protocols are built per server in server_protocols(): HTTP keeps
 * protocols[0], where lws sends plain HTTP, and the endpoints follow it.
 */
#include "node/http/http.h"

#include "lib/log.h"
#include "node/http/admit.h"
#include "node/http/body_stream.h"
#include "node/http/tls.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>
#include <utf8proc.h>

#define HTTP_DEFAULT_MAX_BODY ((size_t)1 << 20)
#define HTTP_DEFAULT_TIMEOUT 30u
#define HTTP_DEFAULT_REQUEST 120u
/* Bytes handed to lws_write per WRITEABLE callback. */
#define HTTP_WRITE_CHUNK ((size_t)64 * 1024)
/* Bodies of refused requests up to this size are read and discarded before
 * the answer, so that closing does not reset the connection under the
 * client's feet; larger ones get their answer at once. */
#define HTTP_DRAIN_MAX ((uint64_t)16 << 20)
/* lws's buffer for a request head. Heads up to HTTP_MAX_HEADER_BYTES are
 * served; larger ones that fit here get a 431 (head_too_large); lws drops
 * still larger ones without an answer (it offers no hook there). */
#define HTTP_HEAD_BUFFER (4 * HTTP_MAX_HEADER_BYTES)
/* The first body buffer; it doubles as the body comes. */
#define HTTP_BODY_FIRST ((size_t)64 * 1024)
/* See the top of the file before turning this on. */
#define HTTP_KEEP_ALIVE 0

/* A WebSocket endpoint as the server keeps it. */
typedef struct {
    char *path_prefix;
    const char *name; /* points into the protocols array */
} ws_endpoint;

struct http_server {
    uv_loop_t *loop;
    void *foreign_loops[1];
    struct lws_context *ctx;
    struct lws_context *live; /* == ctx until lws has freed it (info.pcontext) */
    struct lws_vhost *vhost;
    http_route *routes; /* copies, with strdup'd method and prefix */
    size_t nroutes;
    struct lws_protocols *protocols; /* http, the endpoints', terminator */
    ws_endpoint *ws;
    size_t nws;
    size_t max_body;
    unsigned timeout_secs;
    unsigned request_secs;
    int port;
    bool stopped;
    http_observer observer;
    void *observer_ctx;
    http_gate_fn gate; /* http_server_gate() */
    void *gate_ctx;
    http_amend_fn amend; /* http_server_amend() */
    void *amend_ctx;
    http_admit *admit; /* connection caps and body budgets */
    http_trust_fn trust;
    void *trust_ctx;
    bool tls;       /* serving HTTPS */
    char *tls_cert; /* limits->tls copies; NULL when not given */
    char *tls_key;
    char *tls_ca;
    void *server_ssl; /* the HTTPS vhost's SSL_CTX (for reloads) */
};

typedef enum {
    SS_IDLE = 0, /* between requests */
    SS_BODY,     /* collecting the body for a handler */
    SS_DRAIN,    /* discarding the body of a refused request */
    SS_PENDING,  /* the handler deferred its answer (http_defer) */
    SS_WRITE,    /* answer ready; writing on WRITEABLE */
    SS_STREAM,   /* an answer of no known length (http_pending_stream) */
} session_state;

/* A string kept alive until the end of the request (header lookups). */
typedef struct keep_str {
    struct keep_str *next;
    char s[];
} keep_str;

/* Per-connection state, allocated and zeroed by lws (per_session_data_size).
 * Everything per request is reset by session_reset(). */
typedef struct {
    session_state state;
    const http_route *route;
    char method[16];
    char *path;
    char *query;
    char remote[64];
    uint8_t *body;
    size_t body_len;
    uint64_t content_length;
    bool close_after; /* close the connection once the answer is out */
    bool head;        /* HEAD: headers only */
    http_response res;
    char *content_type;
    size_t sent;
    bool headers_sent;
    keep_str *kept;
    struct lws *wsi;     /* for http_request_header() during the handler */
    unsigned char *wbuf; /* LWS_PRE + HTTP_WRITE_CHUNK */
    uint64_t received;   /* body bytes read (kept or drained) */
    bool in_handler;
    bool observing;        /* inside the observer of answer_handled: it may hold the answer */
    http_pending *pending; /* a deferred answer not yet finished */
    void *data;            /* http_request_set_data() */
    void (*data_free)(void *);
    http_server *srv;           /* set with the request head */
    uint8_t addr[16];           /* the peer, as admit.h keeps it */
    size_t reserved;            /* body bytes reserved from the budget */
    bool vouched;               /* the reservation was a vouched one */
    size_t body_cap;            /* bytes allocated at body */
    struct http_stream *stream; /* SS_STREAM: its queue */
    body_stream *bstream;       /* a body going to the route's consumer */
    uint64_t started_ns;        /* uv_hrtime() when the head arrived */
} http_session;

/* A deferred answer. ss is NULL once the connection is gone. */
struct http_pending {
    http_session *ss;
    http_server *s;
    struct lws *wsi;
    http_response res;
};

/* A streamed answer: bytes queued by its owner, written on WRITEABLE. ss
 * is NULL once the connection is gone; the owner frees it with
 * http_stream_end. */
struct http_stream {
    http_session *ss;
    http_server *s;
    struct lws *wsi;
    uint8_t *buf;
    size_t len, off, cap, max_queued;
    bool ended;
    bool sized; /* http_pending_stream_sized: length is sent */
    uint64_t length;
    http_response headers; /* the extra headers of a sized stream */
    void (*drain)(void *ctx);
    void *drain_ctx;
};

/* ---- small helpers ---------------------------------------------------- */

static void answer_fd(int fd, int status, const char *reason, const char *code, const char *msg);

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static void response_clear(http_response *res)
{
    free(res->body);
    for (size_t i = 0; i < res->nheaders; i++) {
        free(res->headers[i].name);
        free(res->headers[i].value);
    }
    memset(res, 0, sizeof *res);
}

static void response_init(http_response *res)
{
    memset(res, 0, sizeof *res);
    res->status = 200;
    res->content_type = "application/json";
}

static void stream_free(struct http_stream *st)
{
    response_clear(&st->headers);
    free(st->buf);
    free(st);
}

/* Stops the body going to a consumer (the client left, or the request is
 * refused): its answer is orphaned and the stream frees itself. */
static void session_stream_drop(http_session *ss)
{
    if (!ss->bstream)
        return;
    if (ss->pending) {
        ss->pending->ss = NULL;
        ss->pending = NULL;
    }
    body_stream_cancel(ss->bstream);
    ss->bstream = NULL;
}

/* Forgets the current request; keeps the write buffer. A deferred answer
 * still being worked on is orphaned: its finish only frees it. */
static void session_reset(http_session *ss)
{
    session_stream_drop(ss);
    if (ss->reserved && ss->srv)
        admit_body_release(ss->srv->admit, ss->addr, ss->reserved, ss->vouched);
    if (ss->pending)
        ss->pending->ss = NULL;
    if (ss->stream && ss->stream->ended) {
        stream_free(ss->stream);
    } else if (ss->stream) {
        struct http_stream *st = ss->stream;
        st->ss = NULL; /* its owner frees it (http_stream_end) */
        if (st->drain)
            st->drain(st->drain_ctx); /* tells the owner, who may end it now */
    }
    if (ss->data_free)
        ss->data_free(ss->data);
    free(ss->path);
    free(ss->query);
    free(ss->body);
    free(ss->content_type);
    response_clear(&ss->res);
    while (ss->kept) {
        keep_str *k = ss->kept;
        ss->kept = k->next;
        free(k);
    }
    unsigned char *wbuf = ss->wbuf;
    memset(ss, 0, sizeof *ss);
    ss->wbuf = wbuf;
}

static void session_free(http_session *ss)
{
    session_reset(ss);
    free(ss->wbuf);
    ss->wbuf = NULL;
}

static const char *kept_dup(http_session *ss, const char *s, size_t n)
{
    keep_str *k = malloc(sizeof *k + n + 1);
    if (!k)
        return NULL;
    memcpy(k->s, s, n);
    k->s[n] = '\0';
    k->next = ss->kept;
    ss->kept = k;
    return k->s;
}

/* ---- lws logging through log.h -------------------------------------- */

static void http_lws_log(int level, const char *line)
{

    char msg[512];
    size_t n = 0;
    for (const char *p = line; *p && n < sizeof msg - 2; p++) {
        char c = *p;
        if (c == '\n' || c == '\r')
            continue;
        if (c == '"' || c == '\\')
            msg[n++] = '\\';
        msg[n++] = c;
    }
    msg[n] = '\0';
    log_write((level & LLL_ERR) ? LOG_ERROR : LOG_WARN, "http.lws", "msg=\"%s\"", msg);
}

/* ---- responses ------------------------------------------------------- */

void http_respond_json(http_response *res, int status, json_t *body)
{
    free(res->body);
    res->body = NULL;
    res->body_len = 0;
    if (!body) {
        http_respond_error(res, 500,
                           "the server could not build the response (out of memory?); "
                           "retry, and report it if it persists");
        return;
    }
    char *text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(body);
    if (!text) {
        http_respond_error(res, 500,
                           "the server could not encode the response; "
                           "retry, and report it if it persists");
        return;
    }
    res->status = status;
    res->content_type = "application/json";
    res->body = text;
    res->body_len = strlen(text);
}

/* Replaces each byte of s that is not part of a valid UTF-8 sequence
 * (a client's bytes quoted in a message, or a sequence cut by truncation)
 * with '?', so the message is a valid JSON string. */
static void utf8_scrub(char *s)
{
    utf8proc_uint8_t *p = (utf8proc_uint8_t *)s;
    while (*p) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p, -1, &cp);
        if (n < 1) {
            *p++ = '?';
            continue;
        }
        p += n;
    }
}

/* The compact JSON text of the error body {"error": {"code", "status",
 * "message"}} (malloc'd), or NULL when out of memory. code NULL = the
 * generic code of status. Bytes of msg that are not UTF-8 become '?'. */
static char *error_body_text(int status, const char *code, const char *msg)
{
    char text_msg[1024];
    snprintf(text_msg, sizeof text_msg, "%s", msg);
    utf8_scrub(text_msg);
    json_t *j =
        json_pack("{s:{s:s,s:i,s:s}}", "error", "code", code ? code : lt_error_status_code(status),
                  "status", status, "message", text_msg);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return text;
}

/* Sets res to the error body of status, code and msg. */
static void respond_error_body(http_response *res, int status, const char *code, const char *msg)
{
    free(res->body);
    res->status = status;
    res->content_type = "application/json";
    res->body = error_body_text(status, code, msg); /* NULL: the status alone has to do */
    res->body_len = res->body ? strlen(res->body) : 0;
}

void http_respond_verror(http_response *res, int status, const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    respond_error_body(res, status, NULL, msg);
}

void http_respond_error(http_response *res, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    http_respond_verror(res, status, fmt, ap);
    va_end(ap);
}

void http_respond_code(http_response *res, int status, const char *code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    respond_error_body(res, status, code, msg);
}

bool http_path_exact(const http_request *req, http_response *res, const char *path,
                     const char *hint)
{
    if (!strcmp(req->path, path))
        return true;
    http_respond_code(res, 404, "http.not_found", "no resource at %s: %s", req->path,
                      hint ? hint : "GET /api/v1 lists the endpoints");
    return false;
}

size_t http_routes_copy(http_route *dst, size_t cap, const http_route *src, size_t n)
{
    if (n > cap)
        n = cap;
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i];
    return n;
}

void http_respond_lt(http_response *res, const lt_error *e)
{
    respond_error_body(res, lt_errkind_status(e->kind), lt_error_code(e), e->message);
}

int http_response_header(http_response *res, const char *name, const char *value)
{
    if (res->nheaders >= HTTP_MAX_EXTRA_HEADERS || !name || !*name || !value)
        return -1;
    for (const char *p = name; *p; p++)
        if (*p <= ' ' || *p == ':' || *p == 0x7f)
            return -1;
    if (strpbrk(value, "\r\n"))
        return -1;
    char *n = strdup(name), *v = strdup(value);
    if (!n || !v) {
        free(n);
        free(v);
        return -1;
    }
    res->headers[res->nheaders].name = n;
    res->headers[res->nheaders].value = v;
    res->nheaders++;
    return 0;
}

/* ---- request headers ------------------------------------------------- */

const char *http_request_header(const http_request *req, const char *name)
{
    http_session *ss = req ? req->priv_ : NULL;
    if (!ss || !ss->wsi || !name || !*name)
        return NULL;
    char lname[128];
    size_t n = strlen(name);
    if (n + 2 > sizeof lname)
        return NULL;
    for (size_t i = 0; i < n; i++)
        lname[i] = (char)tolower((unsigned char)name[i]);
    lname[n] = ':';
    lname[n + 1] = '\0';

    /* Headers lws knows are stored by token, the rest by name. */
    for (int t = 0; t < WSI_TOKEN_COUNT; t++) {
        const unsigned char *tn = lws_token_to_string((enum lws_token_indexes)t);
        if (!tn || strcmp((const char *)tn, lname) != 0)
            continue;
        int len = lws_hdr_total_length(ss->wsi, (enum lws_token_indexes)t);
        if (len <= 0)
            return NULL;
        char *buf = malloc((size_t)len + 1);
        if (!buf)
            return NULL;
        const char *out = NULL;
        if (lws_hdr_copy(ss->wsi, buf, len + 1, (enum lws_token_indexes)t) >= 0)
            out = kept_dup(ss, buf, strlen(buf));
        free(buf);
        return out;
    }
    int len = lws_hdr_custom_length(ss->wsi, lname, (int)n + 1);
    if (len < 0)
        return NULL;
    char *buf = malloc((size_t)len + 1);
    if (!buf)
        return NULL;
    const char *out = NULL;
    if (lws_hdr_custom_copy(ss->wsi, buf, len + 1, lname, (int)n + 1) >= 0)
        out = kept_dup(ss, buf, strlen(buf));
    free(buf);
    return out;
}

/* ---- query string ---------------------------------------------------- */

static bool query_char_plain(unsigned char c)
{
    return isalnum(c) || strchr("-._~!$'()*,;:@/?", c) != NULL;
}

/* Appends one argument lws has already %-decoded, encoded again so that
 * '&', '%', '+', '#', a second '=' and bytes outside ASCII survive. */
static size_t query_encode(char *out, const char *arg)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    bool seen_eq = false;
    for (const unsigned char *p = (const unsigned char *)arg; *p; p++) {
        if (query_char_plain(*p) || (*p == '=' && !seen_eq)) {
            seen_eq |= *p == '=';
            out[n++] = (char)*p;
        } else {
            out[n++] = '%';
            out[n++] = hex[*p >> 4];
            out[n++] = hex[*p & 15];
        }
    }
    return n;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* %-decodes s[0..n) into out (n + 1 bytes); '+' is a space. */
static void query_decode(char *out, const char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < n && (hi = hexval(s[i + 1])) >= 0 &&
            (lo = hexval(s[i + 2])) >= 0) {
            out[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            out[o++] = s[i] == '+' ? ' ' : s[i];
        }
    }
    out[o] = '\0';
}

const char *http_request_query_param(const http_request *req, const char *name)
{
    http_session *ss = req ? req->priv_ : NULL;
    if (!ss || !name || !req->query)
        return NULL;
    const char *q = req->query;
    while (*q) {
        size_t len = strcspn(q, "&");
        const char *eq = memchr(q, '=', len);
        size_t klen = eq ? (size_t)(eq - q) : len;
        char *key = malloc(klen + 1);
        if (!key)
            return NULL;
        query_decode(key, q, klen);
        bool hit = !strcmp(key, name);
        free(key);
        if (hit) {
            size_t vlen = eq ? len - klen - 1 : 0;
            char *val = malloc(vlen + 1);
            if (!val)
                return NULL;
            query_decode(val, eq ? eq + 1 : q + len, vlen);
            const char *out = kept_dup(ss, val, strlen(val));
            free(val);
            return out;
        }
        q += len;
        if (*q == '&')
            q++;
    }
    return NULL;
}

/* ---- routing --------------------------------------------------------- */

static bool prefix_matches(const char *prefix, const char *path)
{
    size_t n = strlen(prefix);
    if (strncmp(prefix, path, n) != 0)
        return false;
    if (n > 0 && prefix[n - 1] == '/')
        return true;
    return path[n] == '\0' || path[n] == '/';
}

static bool method_fits(const char *route_method, const char *method)
{
    return !route_method || !strcmp(route_method, method) ||
           (!strcmp(method, "HEAD") && !strcmp(route_method, "GET"));
}

/* The route for method+path, or NULL; *path_known tells whether the path
 * has an owner that does not take this method (405 rather than 404). The
 * longest matching prefix owns a path; on equal prefixes the earlier route
 * wins. */
/* The body limit of route r: its own, else the server's. */
static size_t route_max_body(const http_server *s, const http_route *r)
{
    return r->max_body ? r->max_body : s->max_body;
}

void http_body_handler(void *binding, const http_request *req, http_response *res)
{
    const http_body_route *b = binding;
    b->fn(b->ctx, req, res);
}

static const http_body_route *route_binding(const http_route *r)
{
    return r->fn == http_body_handler ? r->ctx : NULL;
}

/* The consumer of a streaming route, or NULL. */
static const http_body_consumer *route_consumer(const http_route *r)
{
    return route_binding(r) ? route_binding(r)->consumer : NULL;
}

static const http_route *route_find(const http_server *s, const char *method, const char *path,
                                    bool *path_known)
{
    /* the longest matching prefix owns the path; among its routes, the
     * first whose method fits answers, and if none fits it is a 405 */
    size_t longest = 0;
    *path_known = false;
    for (size_t i = 0; i < s->nroutes; i++) {
        const http_route *r = &s->routes[i];
        size_t n = strlen(r->path_prefix);
        if (prefix_matches(r->path_prefix, path) && (!*path_known || n > longest)) {
            longest = n;
            *path_known = true;
        }
    }
    for (size_t i = 0; *path_known && i < s->nroutes; i++) {
        const http_route *r = &s->routes[i];
        if (strlen(r->path_prefix) == longest && prefix_matches(r->path_prefix, path) &&
            method_fits(r->method, method))
            return r;
    }
    return NULL;
}

/* "GET, POST" for the Allow header of a 405. */
static void allowed_methods(const http_server *s, const char *path, char *out, size_t outlen)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < s->nroutes; i++) {
        const http_route *r = &s->routes[i];
        if (!r->method || !prefix_matches(r->path_prefix, path))
            continue;
        bool dup = false;
        for (size_t j = 0; j < i; j++)
            if (s->routes[j].method && !strcmp(s->routes[j].method, r->method) &&
                prefix_matches(s->routes[j].path_prefix, path))
                dup = true;
        if (dup)
            continue;
        int m = snprintf(out + n, outlen - n, "%s%s", n ? ", " : "", r->method);
        if (m < 0 || (size_t)m >= outlen - n)
            break;
        n += (size_t)m;
    }
}

/* ---- the request cycle ----------------------------------------------- */

static const char *method_name(int m)
{
    switch (m) {
    case LWSHUMETH_GET: return "GET";
    case LWSHUMETH_POST: return "POST";
    case LWSHUMETH_OPTIONS: return "OPTIONS";
    case LWSHUMETH_PUT: return "PUT";
    case LWSHUMETH_PATCH: return "PATCH";
    case LWSHUMETH_DELETE: return "DELETE";
    case LWSHUMETH_CONNECT: return "CONNECT";
    case LWSHUMETH_HEAD: return "HEAD";
    default: return NULL;
    }
}

/* Marks the answer in ss->res ready and asks for WRITEABLE. */
static void answer(http_session *ss, struct lws *wsi)
{
    http_response *res = &ss->res;
    if (res->status < 100 || res->status > 599) {
        log_write(LOG_ERROR, "http.bad_status", "path=%s status=%d", ss->path ? ss->path : "",
                  res->status);
        http_respond_error(res, 500,
                           "the handler for %s produced an invalid status; "
                           "report this server bug",
                           ss->path ? ss->path : "?");
    }
    if (res->body && res->body_len == 0)
        res->body_len = strlen(res->body);
    if (!res->body)
        res->body_len = 0;
    free(ss->content_type);
    ss->content_type = res->content_type ? strdup(res->content_type) : NULL;
    res->content_type = NULL;
    ss->state = SS_WRITE;
    ss->sent = 0;
    ss->headers_sent = false;
    lws_callback_on_writable(wsi);
}

/* The request as handlers and the observer see it. */
static http_request session_request(http_session *ss)
{
    static const uint8_t empty[1] = {0};
    http_request req = {
        .method = ss->method,
        .path = ss->path,
        .query = ss->query ? ss->query : "",
        .body = ss->body ? ss->body : empty,
        .body_len = ss->body_len,
        .remote_addr = ss->remote,
        .priv_ = ss,
    };
    return req;
}

static http_pending *pending_new(http_session *ss);

/* Shows the handler's answer to the observer, then sends it (unless the
 * observer held it). */
static void answer_handled(http_server *s, http_session *ss, struct lws *wsi)
{
    if (s->amend) {
        http_request req = session_request(ss);
        s->amend(s->amend_ctx, &req, &ss->res);
    }
    if (s->observer) {
        http_request req = session_request(ss);
        ss->wsi = wsi;
        ss->observing = true;
        s->observer(s->observer_ctx, &req, &ss->res);
        ss->observing = false;
        ss->wsi = NULL;
        if (ss->pending) {
            /* held (http_hold_answer): sent by http_hold_release() */
            ss->state = SS_PENDING;
            lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, (int)s->timeout_secs);
            return;
        }
    }
    answer(ss, wsi);
}

http_pending *http_hold_answer(const http_request *req)
{
    http_session *ss = req ? req->priv_ : NULL;
    if (!ss || !ss->observing || ss->pending)
        return NULL;
    return pending_new(ss);
}

void http_hold_release(http_pending *p)
{
    if (!p)
        return;
    http_session *ss = p->ss;
    struct lws *wsi = p->wsi;
    bool alive = ss && !p->s->stopped;
    if (ss)
        ss->pending = NULL;
    response_clear(&p->res);
    free(p);
    if (!alive)
        return;
    lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
    answer(ss, wsi);
}

static void call_handler(http_server *s, http_session *ss, struct lws *wsi)
{
    http_request req = session_request(ss);
    response_init(&ss->res);
    ss->wsi = wsi;
    if (s->gate && s->gate(s->gate_ctx, &req, &ss->res)) {
        ss->wsi = NULL;
        answer_handled(s, ss, wsi);
        return;
    }
    ss->in_handler = true;
    ss->route->fn(ss->route->ctx, &req, &ss->res);
    ss->in_handler = false;
    ss->wsi = NULL;
    if (ss->pending) {
        /* Deferred: the connection waits (bounded by the network timeout)
         * for http_pending_finish(). */
        ss->state = SS_PENDING;
        lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, (int)s->timeout_secs);
        return;
    }
    answer_handled(s, ss, wsi);
}

/* A deferred answer of ss (whose wsi is set), or NULL when out of memory. */
static http_pending *pending_new(http_session *ss)
{
    http_pending *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    response_init(&p->res);
    p->ss = ss;
    p->wsi = ss->wsi;
    p->s = lws_context_user(lws_get_context(ss->wsi));
    ss->pending = p;
    return p;
}

http_pending *http_defer(const http_request *req)
{
    http_session *ss = req ? req->priv_ : NULL;
    if (!ss || !ss->in_handler || ss->pending)
        return NULL;
    return pending_new(ss);
}

http_response *http_pending_response(http_pending *p)
{
    return &p->res;
}

bool http_pending_alive(const http_pending *p)
{
    return p && p->ss && !p->s->stopped;
}

void http_pending_finish(http_pending *p)
{
    if (!p)
        return;
    http_session *ss = p->ss;
    if (!ss || p->s->stopped) {
        if (ss)
            ss->pending = NULL;
        response_clear(&p->res);
        free(p);
        return;
    }
    http_server *s = p->s;
    struct lws *wsi = p->wsi;
    ss->pending = NULL;
    response_clear(&ss->res);
    ss->res = p->res; /* moved */
    free(p);
    if (ss->in_handler)
        return; /* finished before the handler returned: call_handler sends it */
    lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
    answer_handled(s, ss, wsi);
}

http_stream *http_pending_stream(http_pending *p, const char *content_type, size_t max_queued)
{
    http_session *ss = p ? p->ss : NULL;
    http_stream *st = ss && !p->s->stopped && !ss->in_handler ? calloc(1, sizeof *st) : NULL;
    if (!st) {
        if (p)
            http_pending_finish(p); /* the client is gone: only frees p */
        return NULL;
    }
    *st = (http_stream){.ss = ss, .s = p->s, .wsi = p->wsi, .max_queued = max_queued};
    ss->pending = NULL;
    st->headers = p->res; /* its extra headers, for a sized stream */
    free(st->headers.body);
    st->headers.body = NULL;
    free(p);
    free(ss->content_type);
    ss->content_type = content_type ? strdup(content_type) : NULL;
    ss->res.status = 200;
    ss->stream = st;
    ss->state = SS_STREAM;
    ss->headers_sent = false;
    if (st->s->observer) {
        http_request req = session_request(ss);
        ss->wsi = st->wsi;
        st->s->observer(st->s->observer_ctx, &req, &ss->res);
        ss->wsi = NULL;
    }
    lws_set_timeout(st->wsi, NO_PENDING_TIMEOUT, 0);
    lws_callback_on_writable(st->wsi);
    return st;
}

http_stream *http_pending_stream_sized(http_pending *p, const char *content_type, size_t max_queued,
                                       uint64_t length)
{
    http_stream *st = http_pending_stream(p, content_type, max_queued);
    if (st) {
        st->sized = true;
        st->length = length;
    }
    return st;
}

void http_stream_on_drain(http_stream *st, void (*fn)(void *ctx), void *ctx)
{
    st->drain = fn;
    st->drain_ctx = ctx;
    if (st->ss && st->len == st->off)
        lws_callback_on_writable(st->wsi); /* calls fn from the writeable callback */
}

int http_stream_write(http_stream *st, const void *data, size_t len)
{
    if (!st->ss || st->s->stopped || st->ended)
        return -1;
    if (st->len - st->off + len > st->max_queued)
        return 1;
    if (st->off) { /* move the unwritten rest to the front */
        memmove(st->buf, st->buf + st->off, st->len - st->off);
        st->len -= st->off;
        st->off = 0;
    }
    if (st->len + len > st->cap) {
        size_t cap = st->len + len;
        uint8_t *b = realloc(st->buf, cap);
        if (!b)
            return 1;
        st->buf = b;
        st->cap = cap;
    }
    memcpy(st->buf + st->len, data, len);
    st->len += len;
    lws_callback_on_writable(st->wsi);
    return 0;
}

bool http_stream_alive(const http_stream *st)
{
    return st && st->ss && !st->s->stopped;
}

void http_stream_end(http_stream *st)
{
    if (!st)
        return;
    if (st->ss && !st->s->stopped) {
        st->ended = true; /* the session writes the rest, closes and frees st */
        lws_callback_on_writable(st->wsi);
        return;
    }
    if (st->ss)
        st->ss->stream = NULL;
    stream_free(st);
}

void http_server_observe(http_server *s, http_observer fn, void *ctx)
{
    s->observer = fn;
    s->observer_ctx = ctx;
}

void http_server_gate(http_server *s, http_gate_fn fn, void *ctx)
{
    s->gate = fn;
    s->gate_ctx = ctx;
}

void http_server_amend(http_server *s, http_amend_fn fn, void *ctx)
{
    s->amend = fn;
    s->amend_ctx = ctx;
}

const char *http_request_route(const http_request *req)
{
    const http_session *ss = req->priv_;
    return ss && ss->route ? ss->route->path_prefix : NULL;
}

uint64_t http_request_started_ns(const http_request *req)
{
    const http_session *ss = req->priv_;
    return ss ? ss->started_ns : 0;
}

void http_request_set_data(const http_request *req, void *data, void (*free_fn)(void *))
{
    http_session *ss = req ? req->priv_ : NULL;
    if (!ss)
        return;
    if (ss->data_free)
        ss->data_free(ss->data);
    ss->data = data;
    ss->data_free = free_fn;
}

void *http_request_data(const http_request *req)
{
    http_session *ss = req ? req->priv_ : NULL;
    return ss ? ss->data : NULL;
}

void http_pending_set_data(http_pending *p, void *data, void (*free_fn)(void *))
{
    if (p && p->ss) {
        http_request req = session_request(p->ss);
        http_request_set_data(&req, data, free_fn);
    } else if (free_fn) {
        free_fn(data);
    }
}

uint8_t *http_request_take_body(const http_request *req, size_t *len)
{
    http_session *ss = req ? req->priv_ : NULL;
    uint8_t *body = ss ? ss->body : NULL;
    *len = ss ? ss->body_len : 0;
    if (!body) {
        body = calloc(1, 1);
        *len = 0;
    }
    if (ss) {
        ss->body = NULL;
        ss->body_len = 0;
    }
    return body;
}

/* The query string rebuilt from lws's arguments. lws splits the query at
 * '&' and then %-decodes each piece ('+' too), so the pieces are exact but
 * joining them raw would not be: each is encoded again. */
static char *copy_query(struct lws *wsi)
{
    int total = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS);
    if (total <= 0)
        return strdup("");
    char *frag = malloc((size_t)total + 1);
    size_t cap = (size_t)total * 3 + 64; /* every byte may grow to %XX */
    char *q = malloc(cap);
    if (!frag || !q) {
        free(frag);
        free(q);
        return NULL;
    }
    size_t n = 0;
    for (int i = 0;; i++) {
        int flen = lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (flen <= 0 || n + (size_t)flen * 3 + 2 > cap)
            break;
        if (lws_hdr_copy_fragment(wsi, frag, total + 1, WSI_TOKEN_HTTP_URI_ARGS, i) < 0)
            break;
        if (n)
            q[n++] = '&';
        n += query_encode(q + n, frag);
    }
    q[n] = '\0';
    free(frag);
    return q;
}

/* Whether the client waits for "100 Continue" before sending the body. */
static bool expects_continue(struct lws *wsi)
{
    char v[64];
    int len = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_EXPECT);
    if (len <= 0 || len >= (int)sizeof v ||
        lws_hdr_copy(wsi, v, sizeof v, WSI_TOKEN_HTTP_EXPECT) < 0)
        return false;
    return strcasestr(v, "100-continue") != NULL;
}

/* Starts the clock on the body: it must be complete within request_secs,
 * however the client paces it (lws's own timeout restarts on every
 * packet). */
static void request_timer(const http_server *s, struct lws *wsi)
{
    lws_set_timer_usecs(wsi, (lws_usec_t)s->request_secs * LWS_US_PER_SEC);
}

/* LWS_CALLBACK_TIMER: the body is late. Answers 408 and closes. */
static int on_request_late(http_server *s, http_session *ss, struct lws *wsi)
{
    if (ss->state != SS_BODY && ss->state != SS_DRAIN)
        return 0;
    log_write(LOG_INFO, "http.request_timeout",
              "method=%s path=%s remote=%s received=%" PRIu64 " length=%" PRIu64 " limit_s=%u",
              ss->method, ss->path, ss->remote, ss->received, ss->content_length, s->request_secs);
    session_stream_drop(ss);
    free(ss->body);
    ss->body = NULL;
    ss->body_len = 0;
    ss->close_after = true;
    http_respond_code(&ss->res, 408, "http.timeout",
                      "the request body did not arrive within %u s (%" PRIu64 " of %" PRIu64
                      " bytes came); send it faster, or smaller",
                      s->request_secs, ss->received, ss->content_length);
    answer(ss, wsi);
    return 0;
}

/* A lower bound of the request head's size: what the connection has
 * received so far, less the body that may have come along. lws has no
 * public measure of the head (its custom headers cannot be listed). */
static uint64_t head_bytes(struct lws *wsi, uint64_t content_length)
{
    /* Linux's struct tcp_info has tcpi_bytes_received (u64) at offset 128
     * since 4.1; glibc's copy of the struct stops before it. */
    enum { BYTES_RECEIVED_AT = 128 };
    uint8_t ti[256];
    socklen_t tl = sizeof ti;
    int fd = lws_get_socket_fd(wsi);
    uint64_t got;
    if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, ti, &tl) ||
        tl < BYTES_RECEIVED_AT + sizeof got)
        return 0;
    memcpy(&got, ti + BYTES_RECEIVED_AT, sizeof got);
    return got > content_length ? got - content_length : 0;
}

/* Reserves the declared body from the budgets (admit.h), vouched for when
 * the server's trust function knows the request's credential. Returns 0,
 * or -1 with the 503 in ss->res. */
static int body_admit(http_server *s, http_session *ss, struct lws *wsi)
{
    char why[512];
    size_t need = (size_t)ss->content_length + 1;
    if (route_consumer(ss->route) && need > HTTP_STREAM_QUEUE)
        need = HTTP_STREAM_QUEUE; /* a streamed body holds no more than its queue */
    bool vouched = false;
    if (s->trust) {
        http_request req = session_request(ss);
        ss->wsi = wsi;
        vouched = s->trust(s->trust_ctx, &req);
        ss->wsi = NULL;
    }
    if (admit_body(s->admit, ss->addr, need, vouched, why, sizeof why)) {
        log_write(LOG_WARN, "http.body_budget",
                  "method=%s path=%s remote=%s length=%" PRIu64 " vouched=%d", ss->method, ss->path,
                  ss->remote, ss->content_length, vouched);
        http_respond_code(&ss->res, 503, "http.body_budget", "%s", why);
        http_response_header(&ss->res, "retry-after", "30");
        return -1;
    }
    ss->reserved = need;
    ss->vouched = vouched;
    return 0;
}

/* The peer of wsi into addr (admit.h's form); zeros when unknown. */
static void peer_addr(struct lws *wsi, uint8_t addr[16])
{
    struct sockaddr_storage sa;
    socklen_t sl = sizeof sa;
    int fd = lws_get_socket_fd(wsi);
    memset(addr, 0, 16);
    if (fd >= 0 && !getpeername(fd, (struct sockaddr *)&sa, &sl))
        admit_addr((struct sockaddr *)&sa, addr);
}

/* Hands the body of the request to its route's consumer (http.h): open()
 * decides on the head, then a body_stream carries the pieces. Returns 0,
 * or -1 with the refusal in ss->res. */
static int stream_open(http_server *s, http_session *ss, struct lws *wsi)
{
    http_request req = session_request(ss);
    response_init(&ss->res);
    ss->wsi = wsi;
    ss->in_handler = true;
    void *state = route_consumer(ss->route)->open(route_binding(ss->route)->ctx, &req, &ss->res);
    ss->in_handler = false;
    http_pending *p = state ? pending_new(ss) : NULL;
    ss->wsi = NULL;
    if (p && (ss->bstream = body_stream_new(s->loop, wsi, route_consumer(ss->route), state, p,
                                            ss->content_length, HTTP_DRAIN_MAX))) {
        response_clear(&ss->res); /* the answer is p's */
        return 0;
    }
    if (state) {
        if (p) {
            ss->pending = NULL;
            response_clear(&p->res);
            free(p);
        }
        route_consumer(ss->route)->close(state);
        http_respond_error(&ss->res, 503, "the node is out of memory; retry later");
    } else if (ss->res.status < 400) {
        http_respond_error(&ss->res, 500,
                           "the upload was refused without a reason; report this "
                           "server bug");
    }
    return -1;
}

static int on_request(http_server *s, http_session *ss, struct lws *wsi, const char *in, size_t len)
{
    session_reset(ss);
    if (s->stopped)
        return -1;
    ss->srv = s;
    ss->started_ns = uv_hrtime();
    peer_addr(wsi, ss->addr);
    admit_conn_busy(s->admit, wsi);
    lws_set_timer_usecs(wsi, LWS_SET_TIMER_USEC_CANCEL); /* the head is in */

    char *uri = NULL;
    int uri_len = 0;
    const char *m = method_name(lws_http_get_uri_and_method(wsi, &uri, &uri_len));
    (void)uri; /* the path comes as `in`, already cleaned by lws */
    snprintf(ss->method, sizeof ss->method, "%s", m ? m : "?");
    ss->path = in && len ? strndup(in, len) : strdup("/");
    ss->query = copy_query(wsi);
    if (!ss->path || !ss->query)
        return -1;
    if (lws_get_peer_simple(wsi, ss->remote, sizeof ss->remote)) {
        if (!strncmp(ss->remote, "::ffff:", 7))
            memmove(ss->remote, ss->remote + 7, strlen(ss->remote + 7) + 1);
    } else {
        snprintf(ss->remote, sizeof ss->remote, "?");
    }

    /* How much body follows. */
    ss->content_length = 0;
    bool bad_length = false;
    int cl_len = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
    if (cl_len > 0) {
        char cl[32];
        if (cl_len >= (int)sizeof cl ||
            lws_hdr_copy(wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) < 0) {
            bad_length = true;
        } else {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(cl, &end, 10);
            if (errno || end == cl || *end || cl[0] == '-')
                bad_length = true;
            else
                ss->content_length = v;
        }
    }
    bool chunked = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0;

    log_write(LOG_DEBUG, "http.request", "method=%s path=%s remote=%s length=%" PRIu64, ss->method,
              ss->path, ss->remote, ss->content_length);

    /* Bodies lws cannot delimit: answer at once, then close. */
    if (bad_length) {
        ss->close_after = true;
        http_respond_code(&ss->res, 400, "http.bad_request",
                          "the Content-Length header is not a decimal number; "
                          "send the exact body size in bytes");
        answer(ss, wsi);
        return 0;
    }
    /* Under TLS the socket's byte count includes the handshake: no measure. */
    uint64_t head = s->tls ? 0 : head_bytes(wsi, ss->content_length);
    if (head > HTTP_MAX_HEADER_BYTES) {
        ss->close_after = true;
        log_write(LOG_INFO, "http.head_too_large", "method=%s remote=%s bytes=%" PRIu64, ss->method,
                  ss->remote, head);
        http_respond_code(&ss->res, 431, "http.headers_too_large",
                          "the request head is %" PRIu64 " bytes, more than the %d this "
                          "server accepts; send fewer or shorter headers (cookies, long URLs)",
                          head, HTTP_MAX_HEADER_BYTES);
        answer(ss, wsi);
        return 0;
    }
    if (chunked && cl_len <= 0) {
        ss->close_after = true;
        http_respond_code(&ss->res, 411, "http.length_required",
                          "chunked request bodies are not supported; "
                          "send the body with a Content-Length header");
        answer(ss, wsi);
        return 0;
    }

    bool path_known;
    ss->head = !strcmp(ss->method, "HEAD");
    ss->route = route_find(s, ss->method, ss->path, &path_known);
    if (!ss->route) {
        if (path_known) {
            char allow[128];
            allowed_methods(s, ss->path, allow, sizeof allow);
            http_respond_code(&ss->res, 405, "http.method_not_allowed",
                              "method %s is not allowed on %s; use %s", ss->method, ss->path,
                              allow[0] ? allow : "another method");
            if (allow[0])
                http_response_header(&ss->res, "allow", allow);
        } else {
            http_respond_code(&ss->res, 404, "http.not_found",
                              "no such endpoint: %s %s; check the path "
                              "against the API documentation",
                              ss->method, ss->path);
        }
    } else if (ss->content_length > route_max_body(s, ss->route)) {
        size_t max = route_max_body(s, ss->route);
        http_respond_code(&ss->res, 413, "http.body_too_large",
                          "the request body is %" PRIu64 " bytes but %s accepts at most %zu; "
                          "send a smaller body (split the upload or trim the payload)",
                          ss->content_length, ss->path, max);
        log_write(LOG_INFO, "http.too_large",
                  "method=%s path=%s remote=%s length=%" PRIu64 " max=%zu", ss->method, ss->path,
                  ss->remote, ss->content_length, max);
    } else if (ss->content_length > 0) {
        body_admit(s, ss, wsi);
    }

    if (ss->content_length == 0) {
        if (ss->route && ss->res.status == 0) {
            call_handler(s, ss, wsi);
        } else {
            answer(ss, wsi);
        }
        return 0;
    }

    bool wants_continue = expects_continue(wsi);
    if (ss->res.status != 0) { /* refused, but a body may be on its way */
        if (wants_continue || ss->content_length > HTTP_DRAIN_MAX) {
            /* The client waits for our word (or the body is too big to
             * read for nothing): answer now, close once it is written. */
            ss->close_after = true;
            answer(ss, wsi);
        } else {
            ss->state = SS_DRAIN;
            request_timer(s, wsi);
        }
        return 0;
    }
    if (route_consumer(ss->route) && stream_open(s, ss, wsi)) {
        ss->close_after = true; /* refused before its body: not read */
        answer(ss, wsi);
        return 0;
    }
    if (wants_continue) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        unsigned char buf[LWS_PRE + sizeof cont];
        memcpy(buf + LWS_PRE, cont, sizeof cont - 1);
        if (lws_write(wsi, buf + LWS_PRE, sizeof cont - 1, LWS_WRITE_HTTP_HEADERS) !=
            (int)sizeof cont - 1)
            return -1;
    }

    if (ss->bstream) {
        ss->state = SS_BODY;
        request_timer(s, wsi);
        return 0;
    }
    /* the buffer grows as the body comes (on_body) */
    ss->body_cap = (size_t)ss->content_length + 1;
    if (ss->body_cap > HTTP_BODY_FIRST)
        ss->body_cap = HTTP_BODY_FIRST;
    ss->body = malloc(ss->body_cap);
    if (!ss->body) {
        log_write(LOG_ERROR, "http.oom", "path=%s length=%" PRIu64, ss->path, ss->content_length);
        return -1;
    }
    ss->body[0] = 0;
    ss->state = SS_BODY;
    request_timer(s, wsi);
    return 0;
}

/* Makes room in ss->body for len more bytes and the NUL, doubling up to
 * the declared length. Returns 0 or -1. */
static int body_grow(http_session *ss, size_t len)
{
    size_t want = ss->body_len + len + 1;
    if (want <= ss->body_cap)
        return 0;
    size_t cap = ss->body_cap * 2 > want ? ss->body_cap * 2 : want;
    if (cap > (size_t)ss->content_length + 1)
        cap = (size_t)ss->content_length + 1;
    uint8_t *b = realloc(ss->body, cap);
    if (!b) {
        log_write(LOG_ERROR, "http.oom", "path=%s length=%" PRIu64, ss->path, ss->content_length);
        return -1;
    }
    ss->body = b;
    ss->body_cap = cap;
    return 0;
}

static int on_body(http_session *ss, const void *in, size_t len)
{
    ss->received += len;
    if (ss->state == SS_BODY && ss->bstream)
        return body_stream_push(ss->bstream, in, len);
    if (ss->state == SS_BODY) {
        if (ss->body_len + len > ss->content_length)
            return -1; /* lws never delivers more than Content-Length */
        if (body_grow(ss, len))
            return -1;
        memcpy(ss->body + ss->body_len, in, len);
        ss->body_len += len;
        ss->body[ss->body_len] = 0;
    }
    /* else SS_DRAIN, or SS_WRITE of an early answer: thrown away */
    return 0;
}

static int on_body_done(http_server *s, http_session *ss, struct lws *wsi)
{
    if (ss->state == SS_BODY || ss->state == SS_DRAIN)
        lws_set_timer_usecs(wsi, LWS_SET_TIMER_USEC_CANCEL);
    if (ss->state == SS_BODY && ss->bstream) {
        /* the consumer answers once the queue is written (its finish) */
        ss->state = SS_PENDING;
        lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, (int)s->request_secs);
        body_stream_end(ss->bstream);
    } else if (ss->state == SS_BODY) {
        if (s->stopped)
            return -1;
        call_handler(s, ss, wsi);
    } else if (ss->state == SS_DRAIN) {
        answer(ss, wsi);
    }
    return 0;
}

/* Adds the extra headers of res (http_response_header). Returns 0 or
 * non-zero when they do not fit. */
static int extra_headers(struct lws *wsi, const http_response *res, unsigned char **p,
                         unsigned char *end)
{
    int rc = 0;
    for (size_t i = 0; !rc && i < res->nheaders; i++) {
        char name[128];
        snprintf(name, sizeof name, "%s:", res->headers[i].name);
        for (char *c = name; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        rc = lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                         (const unsigned char *)res->headers[i].value,
                                         (int)strlen(res->headers[i].value), p, end);
    }
    return rc;
}

/* Writes a stream's headers, or the next chunk of its queue; -1 closes
 * the connection (the stream ended and its queue is out). */
static int stream_writeable(http_server *s, http_session *ss, struct lws *wsi)
{
    http_stream *st = ss->stream;
    if (!ss->headers_sent) {
        unsigned char buf[LWS_PRE + 4096];
        unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf;
        const char *ct = ss->content_type ? ss->content_type : "application/octet-stream";
        int rc =
            lws_add_http_header_status(wsi, 200, &p, end) ||
            lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
                                         (const unsigned char *)ct, (int)strlen(ct), &p, end) ||
            (st && st->sized &&
             (lws_add_http_header_content_length(wsi, (lws_filepos_t)st->length, &p, end) ||
              extra_headers(wsi, &st->headers, &p, end))) ||
            lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
                                         (const unsigned char *)"no-store", 8, &p, end) ||
            lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION, (const unsigned char *)"close",
                                         5, &p, end) ||
            lws_finalize_write_http_header(wsi, start, &p, end);
        if (rc)
            return -1;
        ss->headers_sent = true;
        if (ss->head) /* HEAD: the headers only; the owner learns it through drain */
            return -1;
    } else if (st && st->off < st->len) {
        if (!ss->wbuf && !(ss->wbuf = malloc(LWS_PRE + HTTP_WRITE_CHUNK)))
            return -1;
        size_t n = st->len - st->off;
        if (n > HTTP_WRITE_CHUNK)
            n = HTTP_WRITE_CHUNK;
        memcpy(ss->wbuf + LWS_PRE, st->buf + st->off, n);
        int w = lws_write(wsi, ss->wbuf + LWS_PRE, n, LWS_WRITE_HTTP);
        if (w < 0 || (size_t)w != n)
            return -1;
        st->off += n;
        if (st->off == st->len)
            st->off = st->len = 0;
    }
    if (st && st->len) {
        /* A reader that stops reading is dropped after timeout_secs. */
        lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, (int)s->timeout_secs);
        lws_callback_on_writable(wsi);
        return 0;
    }
    lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
    if (st && !st->ended && st->drain && ss->headers_sent) {
        st->drain(st->drain_ctx); /* its owner queues the next part, and may end st */
        if (st->len > st->off)
            return 0; /* written on the next WRITEABLE, which the write asked for */
    }
    return st && !st->ended ? 0 : -1;
}

/* Writes the headers, or the next chunk of the body. */
static int on_writeable(http_server *s, http_session *ss, struct lws *wsi)
{
    if (ss->state == SS_STREAM)
        return stream_writeable(s, ss, wsi);
    if (ss->state != SS_WRITE)
        return 0;
    http_response *res = &ss->res;

    if (!ss->headers_sent) {
        size_t cap = 1024 + (ss->content_type ? strlen(ss->content_type) : 0);
        for (size_t i = 0; i < res->nheaders; i++)
            cap += strlen(res->headers[i].name) + strlen(res->headers[i].value) + 8;
        unsigned char *buf = malloc(LWS_PRE + cap);
        if (!buf)
            return -1;
        unsigned char *start = buf + LWS_PRE, *p = start, *end = start + cap;
        /* 1xx, 204 and 304 carry neither body nor length; HEAD gets the
         * length of the body it does not get. */
        bool no_body = res->status < 200 || res->status == 204 || res->status == 304;
        if (no_body)
            res->body_len = 0;
        /* (lws_add_http_common_headers would add "connection: close" when
         * there is no length, so bodiless answers get the status line alone.) */
        int rc = no_body ? lws_add_http_header_status(wsi, (unsigned)res->status, &p, end)
                         : lws_add_http_common_headers(wsi, (unsigned)res->status, ss->content_type,
                                                       (lws_filepos_t)res->body_len, &p, end);
        rc = rc || extra_headers(wsi, res, &p, end);
        if (!rc && (ss->close_after || !HTTP_KEEP_ALIVE))
            rc = lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION,
                                              (const unsigned char *)"close", 5, &p, end);
        if (!rc)
            rc = lws_finalize_write_http_header(wsi, start, &p, end);
        free(buf);
        if (rc)
            return -1;
        ss->headers_sent = true;
        log_write(LOG_DEBUG, "http.response", "method=%s path=%s status=%d length=%zu", ss->method,
                  ss->path, res->status, res->body_len);
        if (res->body_len && !ss->head) {
            lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, (int)s->timeout_secs);
            lws_callback_on_writable(wsi);
            return 0;
        }
    } else if (ss->sent < res->body_len) {
        if (!ss->wbuf && !(ss->wbuf = malloc(LWS_PRE + HTTP_WRITE_CHUNK)))
            return -1;
        size_t n = res->body_len - ss->sent;
        if (n > HTTP_WRITE_CHUNK)
            n = HTTP_WRITE_CHUNK;
        bool last = ss->sent + n == res->body_len;
        memcpy(ss->wbuf + LWS_PRE, res->body + ss->sent, n);
        int w = lws_write(wsi, ss->wbuf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP);
        if (w < 0 || (size_t)w != n)
            return -1;
        ss->sent += n;
        if (!last) {
            /* A reader that stops reading is dropped after timeout_secs. */
            lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, (int)s->timeout_secs);
            lws_callback_on_writable(wsi);
            return 0;
        }
    }

    /* The answer is out. */
    lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
    bool close_now = ss->close_after || !HTTP_KEEP_ALIVE;
    session_reset(ss);
    if (close_now)
        return -1;
    if (lws_http_transaction_completed(wsi))
        return -1;
    return 0;
}

/* Writes a small answer at once (inside the callback) with
 * "connection: close". Returns 0 or -1. */
static int write_now(struct lws *wsi, const http_response *res)
{
    unsigned char buf[LWS_PRE + 2048];
    unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf;
    if (res->body_len > sizeof buf - LWS_PRE - 512)
        return -1;
    if (lws_add_http_common_headers(wsi, (unsigned)res->status, "application/json",
                                    (lws_filepos_t)res->body_len, &p, end) ||
        lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION, (const unsigned char *)"close", 5,
                                     &p, end) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    memcpy(start, res->body, res->body_len);
    if (lws_write(wsi, start, res->body_len, LWS_WRITE_HTTP_FINAL) != (int)res->body_len)
        return -1;
    return 0;
}

/* Writes a small JSON answer straight to socket fd of a connection that
 * has no request yet (so no session, and nothing in lws's write path), just
 * before it is closed. What the client sent is drained first, so that the
 * close does not turn into a reset that destroys the answer. Nothing is
 * written to a client that has already closed. */
static void answer_fd(int fd, int status, const char *reason, const char *code, const char *msg)
{
    char buf[4096];
    if (fd < 0)
        return;
    for (int i = 0; i < 64; i++) {
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0)
            return; /* the client is gone */
        if (n < 0)
            break;
    }
    char *body = error_body_text(status, code, msg);
    if (!body)
        return;
    int n = snprintf(buf, sizeof buf,
                     "HTTP/1.1 %d %s\r\nserver: lienthong\r\ncontent-type: application/json\r\n"
                     "content-length: %zu\r\nconnection: close\r\n\r\n%s",
                     status, reason, strlen(body), body);
    free(body);
    if (n > 0 && (size_t)n < sizeof buf &&
        send(fd, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
        log_write(LOG_DEBUG, "http.raw_answer_lost", "status=%d err=\"%s\"", status,
                  strerror(errno));
}

/* LWS_CALLBACK_TIMER before the request head was complete: it took
 * longer than timeout_secs. Says so with a 408 and closes. */
static int on_head_late(http_server *s, struct lws *wsi)
{
    char msg[256];
    snprintf(msg, sizeof msg,
             "the request head did not arrive within %u s of connecting; send the whole "
             "request at once",
             s->timeout_secs);
    log_write(LOG_INFO, "http.head_timeout", "limit_s=%u", s->timeout_secs);
    if (!s->tls) /* raw bytes would break a TLS stream: just close */
        answer_fd(lws_get_socket_fd(wsi), 408, "Request Timeout", "http.timeout", msg);
    return -1;
}

/* Which WebSocket endpoint takes an upgrade of path asking for the
 * subprotocols in list (the Sec-WebSocket-Protocol header): the first
 * name in the list this vhost knows decides, as it does inside lws. NULL
 * when none, or when that name is HTTP's own. */
static const ws_endpoint *ws_find(const http_server *s, const char *path, const char *list)
{
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        size_t n = strcspn(p, ", \t");
        if (!n)
            break;
        if (n == strlen(s->protocols[0].name) && !strncmp(p, s->protocols[0].name, n))
            return NULL;
        for (size_t i = 0; i < s->nws; i++)
            if (n == strlen(s->ws[i].name) && !strncmp(p, s->ws[i].name, n))
                return prefix_matches(s->ws[i].path_prefix, path) ? &s->ws[i] : NULL;
        p += n;
    }
    return NULL;
}

/* LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: proto is "websocket" or "h2c". Returns
 * 0 to let lws upgrade a WebSocket request to one of the endpoints; every
 * other upgrade gets a JSON refusal and the connection closes. */
static int on_upgrade(http_server *s, struct lws *wsi, const char *proto)
{
    char path[256] = "?", wanted[256] = "";
    if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0)
        lws_hdr_copy(wsi, path, sizeof path, WSI_TOKEN_GET_URI);
    int wlen = lws_hdr_total_length(wsi, WSI_TOKEN_PROTOCOL);
    if (wlen > 0 && wlen < (int)sizeof wanted)
        lws_hdr_copy(wsi, wanted, sizeof wanted, WSI_TOKEN_PROTOCOL);
    bool websocket = proto && !strcasecmp(proto, "websocket");
    if (websocket && s && !s->stopped && ws_find(s, path, wanted)) {
        log_write(LOG_DEBUG, "http.upgrade", "path=%s protocol=\"%s\"", path, wanted);
        lws_set_timer_usecs(wsi, LWS_SET_TIMER_USEC_CANCEL);
        admit_conn_busy(s->admit, wsi);
        return 0;
    }
    http_response res;
    response_init(&res);
    if (websocket && wanted[0])
        http_respond_code(&res, 404, "http.not_found",
                          "no WebSocket endpoint at %s for subprotocol \"%s\"; check the URL "
                          "and the subprotocol against the documentation",
                          path, wanted);
    else if (websocket)
        http_respond_code(&res, 404, "http.not_found",
                          "no WebSocket endpoint at %s; check the URL against the "
                          "API documentation (WebSocket clients must name a subprotocol)",
                          path);
    else
        http_respond_code(&res, 400, "http.upgrade_unsupported",
                          "upgrading to %s is not supported; send the request as "
                          "plain HTTP/1.1 without an Upgrade header (for curl, "
                          "drop --http2)",
                          proto ? proto : "?");
    log_write(LOG_INFO, "http.upgrade_refused", "proto=%s path=%s protocol=\"%s\"",
              proto ? proto : "?", path, wanted);
    if (res.body)
        write_now(wsi, &res);
    response_clear(&res);
    return -1; /* hang up once the answer is written */
}

/* LWS_CALLBACK_FILTER_NETWORK_CONNECTION: a connection was accepted on
 * fd. Takes it (returns 0), closing the oldest idle one to make room when
 * a cap is reached, or refuses it with a JSON 503 (returns 1: lws closes
 * fd). Refusals are logged; log.c folds repeated lines. */
static int on_connect(http_server *s, const struct lws_filter_network_conn_args *a, int fd)
{
    uint8_t addr[16];
    char why[256], text[64];
    void *shed;
    if (!a || !admit_addr((const struct sockaddr *)&a->cli_addr, addr))
        return 0;
    admit_addr_text(addr, text, sizeof text);
    if (admit_conn(s->admit, addr, &shed, why, sizeof why)) {
        log_write(LOG_WARN, "http.conn_refused", "remote=%s reason=\"%s\"", text, why);
        if (!s->tls) /* before the TLS handshake: a plain answer cannot be read */
            answer_fd(fd, 503, "Service Unavailable", "http.overloaded", why);
        return 1;
    }
    if (shed) {
        log_write(LOG_INFO, "http.conn_shed",
                  "remote=%s reason=\"a cap was reached; the oldest idle "
                  "connection makes room\"",
                  text);
        lws_set_timeout(shed, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
    return 0;
}

/* LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED: counts the connection
 * on_connect took. Returns 0, or -1 (close it) when out of memory. */
static int on_connected(http_server *s, struct lws *wsi)
{
    uint8_t addr[16];
    peer_addr(wsi, addr);
    return admit_conn_open(s->admit, wsi, addr) ? -1 : 0;
}

/* LWS_CALLBACK_OPENSSL_LOAD_EXTRA_CLIENT_VERIFY_CERTS: the client SSL_CTX
 * of wss:// connections trusts the configured CA file or the system store.
 * Returns 0, or 1 (lws then fails to start) when the CAs do not load. */
static int on_client_ssl(http_server *s, void *ssl_ctx)
{
    char err[512];
    if (!s || !ssl_ctx || !tls_ctx_trust(ssl_ctx, s->tls_ca, err, sizeof err))
        return 0;
    log_write(LOG_ERROR, "tls.ca_failed", "error=\"%s\"", err);
    return 1;
}

/* The one callback of protocols[0]: all plain HTTP comes here. */
static int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len)
{
    http_session *ss = user;
    http_server *s = NULL;
    if (wsi)
        s = lws_context_user(lws_get_context(wsi));

    switch (reason) {
    case LWS_CALLBACK_HTTP:
        if (!ss || !s)
            return -1;
        return on_request(s, ss, wsi, in, len);
    case LWS_CALLBACK_HTTP_BODY:
        if (!ss)
            return -1;
        return on_body(ss, in, len);
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (!ss || !s)
            return -1;
        return on_body_done(s, ss, wsi);
    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (!ss || !s)
            return -1;
        return on_writeable(s, ss, wsi);
    case LWS_CALLBACK_TIMER:
        if (!s)
            return 0;
        return ss ? on_request_late(s, ss, wsi) : on_head_late(s, wsi);
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: return on_upgrade(s, wsi, in);
    case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS:
        if (s)
            s->server_ssl = user; /* lws passes the vhost's SSL_CTX */
        return 0;
    case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_CLIENT_VERIFY_CERTS: return on_client_ssl(s, user);
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
        return s ? on_connect(s, user, (int)(intptr_t)in) : 0;
    case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
        if (!s)
            break;
        /* the head's deadline (lws's own, a little later, only closes) */
        lws_set_timer_usecs(wsi, (lws_usec_t)s->timeout_secs * LWS_US_PER_SEC);
        return on_connected(s, wsi);
    case LWS_CALLBACK_WSI_DESTROY:
        if (s)
            admit_conn_gone(s->admit, wsi);
        return 0;
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (ss)
            session_free(ss);
        return 0;
    default: break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* The HTTP protocol: always protocols[0] of the vhost, where lws sends
 * plain HTTP. */
static const struct lws_protocols http_protocol = {
    "http", http_callback, sizeof(http_session), 0, 0, NULL, 0};

/* Builds s->protocols, the vhost's list, in this one place: HTTP first,
 * then a copy of each endpoint's protocol, then the terminator. Returns 0,
 * or -1 with err. */
static int server_protocols(http_server *s, const http_ws_endpoint *ws, size_t nws, char *err,
                            size_t errlen)
{
    s->protocols = calloc(nws + 2, sizeof *s->protocols);
    s->ws = nws ? calloc(nws, sizeof *s->ws) : NULL;
    if (!s->protocols || (nws && !s->ws)) {
        set_err(err, errlen, "http: out of memory");
        return -1;
    }
    s->protocols[0] = http_protocol;
    for (size_t i = 0; i < nws; i++) {
        const struct lws_protocols *p = ws[i].protocol;
        if (!p || !p->name || !p->name[0] || !p->callback || !strcmp(p->name, "http") ||
            !ws[i].path_prefix || ws[i].path_prefix[0] != '/') {
            set_err(err, errlen,
                    "http: WebSocket endpoint %zu needs a protocol with a name other than "
                    "\"http\", a callback and a path prefix starting with '/'",
                    i);
            return -1;
        }
        s->protocols[i + 1] = *p;
        s->ws[i].name = p->name;
        s->ws[i].path_prefix = strdup(ws[i].path_prefix);
        s->nws = i + 1;
        if (!s->ws[i].path_prefix) {
            set_err(err, errlen, "http: out of memory");
            return -1;
        }
    }
    return 0;
}

/* ---- lifecycle ------------------------------------------------------- */

static void server_free(http_server *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nroutes; i++) {
        free((char *)s->routes[i].method);
        free((char *)s->routes[i].path_prefix);
    }
    free(s->routes);
    for (size_t i = 0; i < s->nws; i++)
        free(s->ws[i].path_prefix);
    free(s->ws);
    free(s->protocols);
    admit_free(s->admit);
    free(s->tls_cert);
    free(s->tls_key);
    free(s->tls_ca);
    free(s);
}

static void count_closing(uv_handle_t *h, void *arg)
{
    if (uv_is_closing(h))
        (*(int *)arg)++;
}

/* Runs the loop without blocking until no handle is left half-closed. lws
 * closes its uv handles in two waves (the polls, then from their close
 * callbacks its idle and timer), and freeing its context while any close is
 * pending is a use-after-free. A no-op when the loop has already run dry. */
static void loop_settle(uv_loop_t *loop)
{
    for (int i = 0; i < 64; i++) {
        int closing = 0;
        uv_walk(loop, count_closing, &closing);
        if (!closing)
            return;
        uv_run(loop, UV_RUN_NOWAIT);
    }
    log_write(LOG_WARN, "http.settle", "msg=\"handles still closing after 64 loop passes\"");
}

/* Copies the TLS settings of tls (may be NULL) into s, checking that a
 * certificate and key given load and match, so that a bad file is named
 * here rather than as a failed lws start. Returns 0, or -1 with err. */
static int server_tls(http_server *s, const http_tls *tls, char *err, size_t errlen)
{
    if (!tls)
        return 0;
    if (!tls->cert_file != !tls->key_file) {
        set_err(err, errlen, "https: give both a certificate and its key, or neither");
        return -1;
    }
    if ((tls->cert_file &&
         (!(s->tls_cert = strdup(tls->cert_file)) || !(s->tls_key = strdup(tls->key_file)))) ||
        (tls->ca_file && !(s->tls_ca = strdup(tls->ca_file)))) {
        set_err(err, errlen, "http: out of memory");
        return -1;
    }
    if (s->tls_cert && tls_pair_check(s->tls_cert, s->tls_key, err, errlen))
        return -1;
    if (s->tls_ca && tls_ca_file_check(s->tls_ca, err, errlen))
        return -1;
    s->tls = s->tls_cert != NULL;
    return 0;
}

/* Tries to bind host:port as lws will, so the usual failure (port taken,
 * address not on this machine) is reported before lws is involved: lws 4.1
 * leaves a context whose listener failed half-closed on the loop. Returns 0,
 * or an errno. iface NULL (all interfaces) is probed as 0.0.0.0. */
static int probe_bind(const char *iface, int port)
{
    if (port == 0)
        return 0;
    struct sockaddr_storage ss;
    socklen_t sl;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    if (!iface) {
        in4->sin_family = AF_INET;
        in4->sin_addr.s_addr = htonl(INADDR_ANY);
        in4->sin_port = htons((uint16_t)port);
        sl = sizeof *in4;
    } else if (inet_pton(AF_INET, iface, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        sl = sizeof *in4;
    } else if (inet_pton(AF_INET6, iface, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        sl = sizeof *in6;
    } else {
        return 0;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ss.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    int rc = bind(fd, (struct sockaddr *)&ss, sl) == 0 ? 0 : errno;
    close(fd);
    return rc;
}

http_server *http_server_start(uv_loop_t *loop, const char *host, int port,
                               const http_route *routes, size_t nroutes, const http_limits *limits,
                               char *err, size_t errlen)
{
    return http_server_start_ws(loop, host, port, routes, nroutes, limits, NULL, 0, err, errlen);
}

http_server *http_server_start_ws(uv_loop_t *loop, const char *host, int port,
                                  const http_route *routes, size_t nroutes,
                                  const http_limits *limits, const http_ws_endpoint *ws, size_t nws,
                                  char *err, size_t errlen)
{
    const char *shown = host && *host ? host : "*";
    if (!loop || port < 0 || port > 65535 || (nroutes && !routes) || (nws && !ws)) {
        set_err(err, errlen, "http: bad arguments (loop missing or port %d outside 0..65535)",
                port);
        return NULL;
    }
    http_server *s = calloc(1, sizeof *s);
    if (!s || (nroutes && !(s->routes = calloc(nroutes, sizeof *s->routes)))) {
        free(s);
        set_err(err, errlen, "http: out of memory");
        return NULL;
    }
    for (size_t i = 0; i < nroutes; i++) {
        const http_route *r = &routes[i];
        if (!r->path_prefix || r->path_prefix[0] != '/' || !r->fn) {
            set_err(err, errlen,
                    "http: route %zu needs a path prefix starting with '/' and a "
                    "handler",
                    i);
            server_free(s);
            return NULL;
        }
        s->routes[i] = *r;
        s->routes[i].method = r->method ? strdup(r->method) : NULL;
        s->routes[i].path_prefix = strdup(r->path_prefix);
        s->nroutes = i + 1;
        if ((r->method && !s->routes[i].method) || !s->routes[i].path_prefix) {
            set_err(err, errlen, "http: out of memory");
            server_free(s);
            return NULL;
        }
    }
    if (server_protocols(s, ws, nws, err, errlen)) {
        server_free(s);
        return NULL;
    }
    s->loop = loop;
    if (!(s->admit = admit_new(limits))) {
        set_err(err, errlen, "http: out of memory");
        server_free(s);
        return NULL;
    }
    s->trust = limits ? limits->trust : NULL;
    s->trust_ctx = limits ? limits->trust_ctx : NULL;
    s->max_body = limits && limits->max_body ? limits->max_body : HTTP_DEFAULT_MAX_BODY;
    s->timeout_secs = limits && limits->timeout_secs ? limits->timeout_secs : HTTP_DEFAULT_TIMEOUT;
    s->request_secs = limits && limits->request_secs ? limits->request_secs : HTTP_DEFAULT_REQUEST;
    s->foreign_loops[0] = loop;
    if (server_tls(s, limits ? limits->tls : NULL, err, errlen)) {
        server_free(s);
        return NULL;
    }

    /* lws reads iface as a numeric address or an interface name; a name it
     * cannot find makes a vhost that listens nowhere, so only addresses are
     * accepted. An IPv4 address must not get an IPv6 socket; NULL, "", "::"
     * and "0.0.0.0" mean all interfaces. */
    const char *iface = host && *host ? host : NULL;
    uint64_t options = LWS_SERVER_OPTION_LIBUV;
    if (limits && limits->tls) /* HTTPS, or wss:// clients on this context */
        options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    struct in_addr a4;
    struct in6_addr a6;
    if (iface && !strcmp(iface, "localhost"))
        iface = "127.0.0.1";
    const char *probe_host = iface;
    if (iface && !strcmp(iface, "0.0.0.0")) {
        iface = NULL;
        options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    } else if (iface && !strcmp(iface, "::")) {
        iface = NULL;
    } else if (iface && inet_pton(AF_INET, iface, &a4) == 1) {
        options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    } else if (iface && inet_pton(AF_INET6, iface, &a6) != 1) {
        set_err(err, errlen,
                "http: host \"%s\" is not a numeric address; use an IP address "
                "of this machine such as 127.0.0.1, or 0.0.0.0 for all",
                host);
        server_free(s);
        return NULL;
    }

    int perr = probe_bind(probe_host, port);
    if (perr) {
        set_err(err, errlen, "http: cannot listen on %s:%d: %s%s", shown, port, strerror(perr),
                perr == EADDRINUSE ? " (another process has the port; stop it or choose another "
                                     "port)"
                : perr == EADDRNOTAVAIL ? " (the address is not on this machine; use one of its "
                                          "addresses or 0.0.0.0)"
                                        : "");
        log_write(LOG_ERROR, "http.listen_failed", "host=%s port=%d err=\"%s\"", shown, port,
                  strerror(perr));
        server_free(s);
        return NULL;
    }

    lws_set_log_level(LLL_ERR | LLL_WARN, http_lws_log);

    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.options = options;
    info.foreign_loops = s->foreign_loops;
    info.port = port;
    info.iface = iface;
    info.protocols = s->protocols;
    info.user = s;
    info.max_http_header_data = HTTP_HEAD_BUFFER;
    info.timeout_secs = s->timeout_secs;
    info.timeout_secs_ah_idle = s->timeout_secs + 5; /* our 408 comes first */
    /* lws reads at most this much per callback, whatever a protocol's
     * rx_buffer_size says: make room for the largest. */
    info.pt_serv_buf_size = 32 * 1024;
    for (size_t i = 1; i <= s->nws; i++)
        if (s->protocols[i].rx_buffer_size > info.pt_serv_buf_size)
            info.pt_serv_buf_size = (unsigned)s->protocols[i].rx_buffer_size;
    info.server_string = "lienthong";
    info.vhost_name = "lienthong";
    info.gid = -1;
    info.uid = -1;
    info.pcontext = &s->live;
    info.ssl_cert_filepath = s->tls ? s->tls_cert : NULL;
    info.ssl_private_key_filepath = s->tls ? s->tls_key : NULL;
    info.alpn = "http/1.1"; /* lws would offer h2, which this server does not speak */

    s->ctx = lws_create_context(&info);
    s->live = s->ctx;
    s->vhost = s->ctx ? lws_get_vhost_by_name(s->ctx, "lienthong") : NULL;
    if (!s->vhost) {
        if (s->ctx)
            set_err(err, errlen,
                    "http: cannot listen on %s:%d (see the http.lws log lines; "
                    "free the port or choose another)",
                    shown, port);
        else
            set_err(err, errlen,
                    "http: libwebsockets could not start on the libuv loop; "
                    "install the libwebsockets-evlib-uv package");
        log_write(LOG_ERROR, "http.listen_failed", "host=%s port=%d", shown, port);
        if (s->ctx) {
            /* The context exists but its listener failed, and lws has begun
             * closing its handles: let that finish before each destroy (the
             * first one usually frees it all). */
            s->stopped = true;
            loop_settle(loop);
            if (s->live)
                lws_context_destroy(s->ctx);
            loop_settle(loop);
            if (s->live)
                lws_context_destroy(s->ctx);
        }
        server_free(s);
        return NULL;
    }
    s->port = lws_get_vhost_listen_port(s->vhost);
    log_write(LOG_INFO, "http.listen", "host=%s port=%d tls=%d max_conns=%u max_conns_per_addr=%u",
              shown, s->port, s->tls, admit_max_conns(s->admit),
              admit_max_conns_per_addr(s->admit));
    return s;
}

int http_server_port(const http_server *s)
{
    return s ? s->port : -1;
}

bool http_server_tls(const http_server *s)
{
    return s && s->tls;
}

int http_server_tls_reload(http_server *s, char *serial, size_t cap, char *err, size_t errlen)
{
    if (!s || !s->tls || !s->server_ssl || s->stopped) {
        set_err(err, errlen, "this server does not serve HTTPS: nothing to reload");
        return -1;
    }
    return tls_ctx_load_pair(s->server_ssl, s->tls_cert, s->tls_key, serial, cap, err, errlen);
}

bool http_request_tls(const http_request *req)
{
    const http_session *ss = req ? req->priv_ : NULL;
    return ss && ss->srv && ss->srv->tls;
}

struct lws_context *http_server_lws_context(const http_server *s)
{
    return s && !s->stopped ? s->ctx : NULL;
}

struct lws_vhost *http_server_lws_vhost(const http_server *s)
{
    return s && !s->stopped ? s->vhost : NULL;
}

void http_server_stop(http_server *s)
{
    if (!s || s->stopped)
        return;
    s->stopped = true;
    log_write(LOG_INFO, "http.stop", "port=%d", s->port);
    if (s->live)
        lws_context_destroy(s->ctx); /* first pass: closes wsis, starts uv_close()s */
}

void http_server_finish(http_server *s)
{
    if (!s)
        return;
    http_server_stop(s);
    /* The caller ran the loop dry (the documented sequence): nothing to do.
     * If not, finish lws's closes here rather than free handles still on
     * the loop. */
    loop_settle(s->loop);
    if (s->live)
        lws_context_destroy(s->ctx); /* second pass: frees the context */
    if (s->live)
        log_write(LOG_WARN, "http.finish", "msg=\"lws context not freed\"");
    s->ctx = NULL;
    server_free(s);
}
