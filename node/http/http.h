/*
 * http.h - a small HTTP/1.1 server on libwebsockets, run on the caller's
 * libuv loop.
 *
 * The node's API and (later) its WebSocket links share one lws context that
 * lives on the node's own uv_loop_t (lws "foreign loop"). Requests are routed
 * by method and path prefix to plain C handlers that fill in a response; the
 * module collects the request body (or hands it piece by piece to a
 * consumer on the thread pool: http_body_consumer), enforces the limits,
 * writes the headers and streams large bodies without blocking the loop. Errors the module
 * produces itself (400, 404, 405, 411, 413, 500) are JSON bodies of the form
 * {"error": {"code": N, "message": "what was wrong; what to do"}}.
 *
 * Everything runs on the loop thread: handlers are called from inside
 * uv_run() and must not block. A handler with slow work (password hashing,
 * media) defers its answer with http_defer(), hands the work to the uv
 * thread pool and finishes the answer later from the loop thread with
 * http_pending_finish(); the connection is kept until then, and a client
 * that leaves meanwhile costs nothing but the wasted work.
 *
 * Limits (http_limits): request head at most HTTP_MAX_HEADER_BYTES (431),
 * the head within timeout_secs of connecting (408), the body at most
 * max_body bytes (413) and complete within request_secs of the head (408),
 * a client that stops reading the answer dropped after timeout_secs. Each
 * refusal is a JSON error, and the server goes on serving.
 *
 * HTTPS: with limits->tls naming a certificate and key, the same listener
 * speaks TLS only (ALPN http/1.1), http_request_tls() is true, and
 * http_server_tls_reload() serves renewed files to new connections. The
 * refusals written straight to the socket before lws has a request (the
 * connection cap's 503, the late head's 408) become plain closes, and the
 * 431 for heads between HTTP_MAX_HEADER_BYTES and lws's buffer is not given
 * (the socket's byte count includes the handshake); lws's buffer still
 * bounds them.
 *
 * Every answer closes its connection ("connection: close"): lws 4.1.6 spins
 * for ever on some pipelined requests (see http.c). HTTP/2 upgrades, and
 * WebSocket upgrades to anything but the caller's endpoints
 * (http_ws_endpoint, e.g. node/links/repl_link.c), are refused with a JSON error
 * over HTTP/1.1.
 *
 * Start and stop (the exact calling sequence; lws on a foreign loop needs its
 * context destroyed twice with the loop run in between, or it crashes or
 * leaks):
 *
 *     http_server *s = http_server_start(loop, "127.0.0.1", 0, routes, n,
 *                                        NULL, err, sizeof err);
 *     uv_run(loop, UV_RUN_DEFAULT);   // until a signal handler calls uv_stop()
 *     http_server_stop(s);            // 1. closes connections and listener,
 *                                     //    starts closing lws's uv handles
 *     uv_close(&my_signal, NULL);     // 2. close the caller's own handles
 *     while (uv_run(loop, UV_RUN_DEFAULT) != 0) {}  // 3. let every close finish
 *     http_server_finish(s);          // 4. frees the rest of lws and s
 *     uv_loop_close(loop);            // 5. now returns 0
 *
 * http_server_stop() may also be called while the loop is running (from a
 * callback on the loop thread, never from inside a handler); steps 3-5 stay
 * the same. Several servers may share a loop: stop them all, run the loop,
 * finish them all.
 */
#ifndef LT_HTTP_H
#define LT_HTTP_H

#include "lib/error.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

typedef struct http_server http_server;

struct lws_protocols;
struct lws_context;
struct lws_vhost;

/* One request as a handler sees it. All pointers stay valid until the handler
 * returns; copy what must live longer. */
typedef struct {
    const char *method;  /* "GET", "POST", "PATCH", "DELETE", "PUT", "HEAD", ... */
    const char *path;    /* full path, e.g. "/api/v1/health" (no query); lws has
                            already %-decoded it and removed "..", "//" */
    const char *query;   /* query string without '?', "" if none. lws decodes the
                            arguments before we see them, so this is rebuilt:
                            each argument %-encoded again (a=1%26b stays
                            a=1%26b, c=d+e becomes c=d%20e). Decode it with any
                            standard parser or use http_request_query_param(). */
    const uint8_t *body; /* request body, NUL-terminated; "" when empty */
    size_t body_len;
    const char *remote_addr; /* peer IP as text, e.g. "127.0.0.1" */
    void *priv_;             /* the module's; use http_request_header() */
} http_request;

#define HTTP_MAX_EXTRA_HEADERS 8

/* What a handler fills in. It arrives preset to 200, "application/json" and
 * no body. Bodies of 1xx, 204 and 304 answers are not sent, and neither is a
 * Content-Length; HEAD gets the headers (with the length) and no body. */
typedef struct {
    int status;               /* 100..599; anything else is sent as 500 */
    const char *content_type; /* copied when the handler returns; NULL = none */
    char *body;               /* malloc'd; the server frees it */
    size_t body_len;          /* 0 with a non-NULL body means strlen(body) */
    size_t nheaders;          /* extra headers, set via http_response_header() */
    struct {
        char *name;
        char *value;
    } headers[HTTP_MAX_EXTRA_HEADERS];
} http_response;

/* Fills in res for req. A GET handler also answers HEAD (req->method is
 * "HEAD"; the body it makes is measured, not sent). */
typedef void (*http_handler)(void *ctx, const http_request *req, http_response *res);

/* A route. method NULL = any method; GET routes also take HEAD. Of the
 * routes whose path_prefix matches the path and whose method fits, the
 * longest prefix wins (the earlier route on a tie). A prefix ending in '/'
 * matches any path that starts with it; any other prefix matches the path
 * exactly or followed by '/' ("/api/v1/health" matches "/api/v1/health" and
 * "/api/v1/health/x", never "/api/v1/healthz"). A path some route matches but
 * none with this method gets 405 with an Allow header; a path no route
 * matches gets 404. */
typedef struct {
    const char *method;
    const char *path_prefix;
    http_handler fn;
    void *ctx;
    size_t max_body; /* the largest body this route takes; 0: the server's limit */
} http_route;

/* True when the path of req is path exactly; otherwise answers 404
 * (http.not_found) "no resource at PATH: HINT" and returns false. hint
 * says where to look instead (NULL: GET /api/v1 lists the endpoints). */
bool http_path_exact(const http_request *req, http_response *res, const char *path,
                     const char *hint);

/* Copies the n routes of src into dst, which has room for cap, and returns
 * how many it copied (n, or cap when that is less): the tail of a folder's
 * *_routes function, which fills the node's route table. */
size_t http_routes_copy(http_route *dst, size_t cap, const http_route *src, size_t n);

/* The most request head (request line and headers) a client may send. */
#define HTTP_MAX_HEADER_BYTES 8192

/* Connections from one peer address at once, by default. */
#define HTTP_DEFAULT_CONNS_PER_ADDR 256u
/* Descriptors left for the store, links and files when the connection cap
 * comes from RLIMIT_NOFILE. */
#define HTTP_FD_RESERVE 128u
/* Request-body bytes in flight, by default: all requests together, and the
 * share of one address's requests that carry no known credential. */
#define HTTP_DEFAULT_BODY_BUDGET ((size_t)512 << 20)
#define HTTP_DEFAULT_BODY_PER_ADDR ((size_t)64 << 20)

/* Whether req (its headers; no body yet) carries a credential the caller
 * knows, e.g. a live session or API token: such requests may use the whole
 * body budget, others only their address's share. Loop thread. */
typedef bool (*http_trust_fn)(void *ctx, const http_request *req);

/* Zero fields take the defaults: 1 MiB bodies, 30 s network timeouts,
 * 120 s for a request body, RLIMIT_NOFILE less HTTP_FD_RESERVE connections
 * (HTTP_DEFAULT_CONNS_PER_ADDR from one address), HTTP_DEFAULT_BODY_BUDGET
 * and HTTP_DEFAULT_BODY_PER_ADDR.
 *
 * Connections: one over max_conns_per_addr from its address, or over
 * max_conns in total, first sheds the oldest idle connection (no request
 * head yet) of that address, or of all; with none idle, the new one gets a
 * JSON 503 and is closed, as is any new one while more than 32 shed ones
 * still wait for lws to close them. WebSockets and connections with a
 * request under way are never shed.
 *
 * Bodies: a request's declared Content-Length is reserved from body_budget
 * when its head arrives and released when its connection ends; the buffer
 * grows as bytes come. A request trust() does not vouch for may in
 * addition use only body_budget_per_addr with the other such requests of
 * its address, and all of them together three quarters of body_budget. A
 * request over budget gets a JSON 503 with the reason. */
/* TLS of a server and of the WebSocket client connections made from its
 * lws context (http_server_lws_context). Paths are copied at start. */
typedef struct {
    const char *cert_file; /* PEM certificate chain; with key_file: serve HTTPS */
    const char *key_file;  /* PEM private key of cert_file */
    const char *ca_file;   /* PEM CAs that wss:// peers' certificates must chain to;
                              NULL: the system's CA store */
} http_tls;

typedef struct {
    size_t max_body;
    unsigned timeout_secs;       /* the request head must arrive within this of
                                    connecting; idle reads and writes */
    unsigned request_secs;       /* the whole body must arrive within this of the
                                    head (slow clients trickling bytes) */
    unsigned max_conns;          /* open connections in total */
    unsigned max_conns_per_addr; /* from one peer address */
    size_t body_budget;          /* request-body bytes in flight */
    size_t body_budget_per_addr; /* of unvouched requests from one address */
    http_trust_fn trust;         /* NULL: no request is vouched for */
    void *trust_ctx;
    const http_tls *tls; /* NULL: plain HTTP and no wss:// clients */
} http_limits;

/* Starts listening on host:port with the given routes (copied) on the
 * caller's loop. host is a numeric IPv4 or IPv6 address, or "localhost"
 * (127.0.0.1); NULL, "", "0.0.0.0" and "::" mean all interfaces. port 0 lets
 * the kernel pick a free port. limits may be NULL. Returns NULL and a
 * message in err on failure, with nothing left on the loop. A busy port or a
 * foreign address is found before lws is involved; should lws itself still
 * fail, the loop is run with UV_RUN_NOWAIT to let lws close its handles, so
 * call this outside loop callbacks. */
http_server *http_server_start(uv_loop_t *loop, const char *host, int port,
                               const http_route *routes, size_t nroutes, const http_limits *limits,
                               char *err, size_t errlen);

/* A WebSocket endpoint served by the same listener as the routes. An
 * upgrade request goes to protocol (a libwebsockets protocol: its name is
 * the subprotocol, with its callback, per-session size and rx buffer size)
 * when its path matches path_prefix (the rules of http_route) and the first
 * subprotocol of the client's Sec-WebSocket-Protocol list this server knows
 * is protocol->name. Every other upgrade is refused with a JSON 404. The
 * callback runs on the loop thread and must not block; it receives every
 * lws reason of its connections, server and client ones. */
typedef struct {
    const struct lws_protocols *protocol; /* copied; name must not be "http" */
    const char *path_prefix;              /* copied */
} http_ws_endpoint;

/* http_server_start() with WebSocket endpoints as well (ws may be NULL when
 * nws is 0). */
http_server *http_server_start_ws(uv_loop_t *loop, const char *host, int port,
                                  const http_route *routes, size_t nroutes,
                                  const http_limits *limits, const http_ws_endpoint *ws, size_t nws,
                                  char *err, size_t errlen);

/* The lws context and vhost of a running server, for WebSocket client
 * connections on the same loop (lws_client_connect_via_info with .context,
 * .vhost and .local_protocol_name naming an endpoint's protocol). NULL once
 * http_server_stop() was called. */
struct lws_context *http_server_lws_context(const http_server *s);
struct lws_vhost *http_server_lws_vhost(const http_server *s);

/* The port the server actually listens on. */
int http_server_port(const http_server *s);

/* True when s serves HTTPS (limits->tls with a certificate and key). */
bool http_server_tls(const http_server *s);

/* Reads the certificate and key files s was started with again and serves
 * them to new connections (a renewed certificate; open connections keep
 * theirs). Files that do not load, or a key that does not match the
 * certificate, change nothing: returns -1 with err saying which file and
 * why. On success returns 0 and the new certificate's serial number in
 * hex into serial (cap bytes). Loop thread. */
int http_server_tls_reload(http_server *s, char *serial, size_t cap, char *err, size_t errlen);

/* True when req came over TLS (HTTPS): a handler marks cookies Secure. */
bool http_request_tls(const http_request *req);

/* Shutdown, part 1: closes every connection and the listener and starts
 * closing lws's handles on the loop. Call on the loop thread (or with the loop
 * not running). The caller must then run the loop until uv_run() returns 0
 * and call http_server_finish(); see the sequence at the top of this file.
 * Handlers are no longer called. A second call does nothing. */
void http_server_stop(http_server *s);

/* Shutdown, part 2: after the loop has run dry, frees what lws still holds
 * and s itself. Call it outside loop callbacks and before uv_loop_close().
 * Tolerates a caller who skipped steps 1-3: it then stops the server and
 * runs the loop with UV_RUN_NOWAIT until lws's handles are closed (which may
 * run the caller's ready callbacks too). NULL is ignored. */
void http_server_finish(http_server *s);

/* Called for every answer a route handler gave (also a deferred one), on
 * the loop thread just before it is sent: for logs and audit trails. req is
 * as the handler saw it (http_request_data() included); res is final. */
typedef void (*http_observer)(void *ctx, const http_request *req, const http_response *res);

/* Sets the server's observer (one; NULL removes it). */
void http_server_observe(http_server *s, http_observer fn, void *ctx);

/* Called before a route's handler, on the loop thread: returns true when
 * it answered req itself into res (the handler is then not called), e.g.
 * a 507 for a write while the disk is full. */
typedef bool (*http_gate_fn)(void *ctx, const http_request *req, http_response *res);

/* Sets the server's gate (one; NULL removes it). */
void http_server_gate(http_server *s, http_gate_fn fn, void *ctx);

/* Called with every answer a route handler (or the gate) gave, before the
 * observer sees it: may change res, e.g. a storage failure while the disk
 * is full into a 507. Loop thread. */
typedef void (*http_amend_fn)(void *ctx, const http_request *req, http_response *res);

/* Sets the server's amender (one; NULL removes it). */
void http_server_amend(http_server *s, http_amend_fn fn, void *ctx);

/* The path_prefix of the route req was given to (for metrics labels that
 * stay few), or NULL. */
const char *http_request_route(const http_request *req);

/* uv_hrtime() when req's head arrived (latency = now - this). */
uint64_t http_request_started_ns(const http_request *req);

/* ---- deferred answers ----------------------------------------------------- */

typedef struct http_pending http_pending;

/* Called by a handler that will answer later: returns the handle to answer
 * through, or NULL when out of memory (the handler then answers at once).
 * The handler returns without touching res; req's pointers die with it, so
 * copy what the work needs first. http_request_data() stays with the
 * request until the answer is sent. */
http_pending *http_defer(const http_request *req);

/* The response to fill in, preset like a handler's. Belongs to p. */
http_response *http_pending_response(http_pending *p);

/* False once the client has gone (or the server stopped): the answer will
 * be thrown away. */
bool http_pending_alive(const http_pending *p);

/* Sends the filled-in response (the observer sees it first) and frees p.
 * Call on the loop thread, exactly once per handle, e.g. from a uv_work_t's
 * after-work callback. With the client gone it only frees p. */
void http_pending_finish(http_pending *p);

/* From inside the observer (loop thread): holds req's answer, which then
 * goes out only at http_hold_release(), e.g. once an audit entry of it is
 * durable; the connection waits as for a deferred answer (bounded by the
 * network timeout). NULL when the answer cannot be held (an observer of
 * a streamed answer, out of memory): it goes out when the observer
 * returns. */
http_pending *http_hold_answer(const http_request *req);

/* Sends a held answer and frees p (loop thread); when the client left or
 * the server stopped meanwhile, only frees p. NULL is ignored. */
void http_hold_release(http_pending *p);

/* ---- streamed answers ----------------------------------------------------- */

/* An answer of no known length (a live picture stream): the status line,
 * the content type, "cache-control: no-store" and "connection: close",
 * then the bytes its owner queues, until the owner ends it or the client
 * leaves. Loop thread only. */
typedef struct http_stream http_stream;

/* Turns deferred answer p into a stream of content_type (copied) that
 * queues at most max_queued unwritten bytes; consumes p (do not finish
 * it). The observer sees a 200. NULL when the client is gone or the server
 * stopped (p is freed all the same), or when called inside the handler. */
http_stream *http_pending_stream(http_pending *p, const char *content_type, size_t max_queued);

/* http_pending_stream for an answer of known length (a file): the headers
 * also carry Content-Length length and the extra headers set on p's
 * response (http_response_header) before the call; the connection closes
 * once length bytes are out (the owner still ends st). A stream ended
 * short of length tells the client by closing early. */
http_stream *http_pending_stream_sized(http_pending *p, const char *content_type, size_t max_queued,
                                       uint64_t length);

/* Calls fn(ctx) on the loop each time everything queued on st has been
 * written, so its owner queues the next part (a file read piece by piece
 * at the pace of the client); once right away if nothing is queued; and
 * once more when the client leaves (http_stream_alive is then false), so
 * the owner ends st. NULL fn removes it. */
void http_stream_on_drain(http_stream *st, void (*fn)(void *ctx), void *ctx);

/* Queues len bytes (copied) of st. Returns 0; 1 when the queue would
 * exceed max_queued (a slow reader: the caller skips this piece); -1 when
 * the client is gone (the caller then ends st). A reader that reads
 * nothing for the server's timeout is dropped. */
int http_stream_write(http_stream *st, const void *data, size_t len);

/* False once the client has gone or the server stopped. */
bool http_stream_alive(const http_stream *st);

/* Ends st: what is queued is written, then the connection closes. Frees
 * st (at once when the client is gone, else once the rest is out). Call
 * exactly once per stream. */
void http_stream_end(http_stream *st);

/* ---- streamed request bodies ---------------------------------------------- */

/* A consumer of large request bodies (an upload of hundreds of MiB): the
 * server hands the body over piece by piece, in order, to write() on the
 * uv thread pool, queueing at most HTTP_STREAM_QUEUE bytes: while the
 * queue is full it stops reading the socket (TCP holds the client back),
 * so memory stays bounded whatever the body's size, and the loop never
 * waits on the consumer's disk. Only the route's max_body bytes of body
 * are taken (413 otherwise, before open()); the body budget reserves
 * HTTP_STREAM_QUEUE for it, not its length. */
#define HTTP_STREAM_QUEUE ((size_t)1 << 20)

typedef struct http_body_consumer {
    /* Loop thread, once the head is in: checks the request (auth, headers;
     * no body yet) and returns the consumer's state, or NULL after filling
     * res with the refusal (then sent, and the body not read). ctx is the
     * binding's (http_body_route). */
    void *(*open)(void *ctx, const http_request *req, http_response *res);
    /* Pool thread, for each piece in order: returns 0, or -1 after filling
     * res with a refusal, which is sent at once (the rest of the body is
     * not read: the connection closes after the answer); no more calls but
     * close(). */
    int (*write)(void *state, const uint8_t *data, size_t len, http_response *res);
    /* Pool thread, after the last piece was written: fills res (the
     * answer). Not called after a refusal or when the client left. */
    void (*finish)(void *state, http_response *res);
    /* Loop thread, exactly once per open() that returned a state, when no
     * other call of it runs or will run: frees the state (and undoes what
     * an unfinished upload left). */
    void (*close)(void *state);
} http_body_consumer;

/* What a streaming route binds: its consumer, and the handler (with its
 * ctx) of the route's requests that carry no body (a GET on the same
 * path). */
typedef struct {
    const http_body_consumer *consumer;
    http_handler fn;
    void *ctx;
} http_body_route;

/* The handler of a streaming route: {method, prefix, http_body_handler,
 * &binding (an http_body_route that outlives the server), max_body}. A
 * request with a body goes to binding.consumer as it arrives (never held
 * whole); one without goes to binding.fn. */
void http_body_handler(void *binding, const http_request *req, http_response *res);

/* ---- per-request application data ----------------------------------------- */

/* Attaches data to the request (e.g. the authenticated caller, for the
 * observer); free_fn (may be NULL) releases it when the request ends. A
 * second call releases the first data. */
void http_request_set_data(const http_request *req, void *data, void (*free_fn)(void *));

/* The data attached to the request, or NULL. */
void *http_request_data(const http_request *req);

/* http_request_set_data() for a deferred request, on the loop thread
 * before http_pending_finish(): the observer then sees it. With the client
 * gone, data is released at once. */
void http_pending_set_data(http_pending *p, void *data, void (*free_fn)(void *));

/* Moves the request body (NUL-terminated, *len bytes) to the caller, who
 * frees it; the request then has an empty body. For a handler that defers
 * and hands the body to another thread: the session would free it when
 * the client leaves. NULL only when out of memory. */
uint8_t *http_request_take_body(const http_request *req, size_t *len);

/* The value of request header name (any case), or NULL when absent. Valid
 * until the handler returns. */
const char *http_request_header(const http_request *req, const char *name);

/* The %-decoded value of query argument name ("" for a bare "?name"), or
 * NULL when absent. The first occurrence wins. Valid until the handler
 * returns. */
const char *http_request_query_param(const http_request *req, const char *name);

/* Adds a response header (name without ':'); both strings are copied.
 * Returns 0, or -1 when HTTP_MAX_EXTRA_HEADERS are already set, the name is
 * empty or holds spaces, ':' or control characters, or the value holds CR
 * or LF. */
int http_response_header(http_response *res, const char *name, const char *value);

/* Sets res to status and the compact JSON of body, content type
 * application/json. Steals the reference to body; a NULL body (say, a
 * failed json_pack) becomes a 500 error. Frees any body res already had. */
void http_respond_json(http_response *res, int status, json_t *body);

/* Sets res to status and {"error": {"code": <the generic code of status,
 * lib/error.h>, "status": status, "message": <fmt...>}}. The message
 * should say what was wrong and what to do about it. */
void http_respond_error(http_response *res, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The same with a va_list. */
void http_respond_verror(http_response *res, int status, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* http_respond_error with a specific stable code (docs/openapi.yaml,
 * ErrorCode), e.g. "http.method_not_allowed"; NULL = the generic one. */
void http_respond_code(http_response *res, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Answers the typed error e: the status of its kind, its code (or the
 * kind's generic code) and its message. */
void http_respond_lt(http_response *res, const lt_error *e);

#endif
