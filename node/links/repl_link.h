/*
 * repl_link.h - replication over WebSockets inside the daemon: the binding
 * of the sans-IO repl_session (replication/session.h) to libwebsockets on
 * the node's own libuv loop, and the sync status built from it.
 *
 * One repl_links per node holds every link:
 *   - accepted: a peer (usually a child) opened a WebSocket with the
 *     subprotocol REPL_SUBPROTOCOL on the node's HTTP listener; its session
 *     does not initiate;
 *   - dialled: one record per configured upstream (config.upstreams: the
 *     parent first, then the grandparent...). The node dials the first
 *     upstream; when it is unreachable, the next one, while it retries the
 *     first with exponential backoff (250 ms doubling to 30 s, at most 10 s
 *     while a fallback is in use, plus random jitter) and switches back when
 *     it answers. Per-origin positions make the double path harmless.
 *
 * Messages are WebSocket binary messages, one protocol message each, at
 * most REPL_LINK_MAX_FRAME bytes (reassembled from fragments; a larger one
 * closes the link). Signatures of received batches are checked on the libuv
 * thread pool. A 1 s tick drives keep-alives and timeouts, refreshes the
 * sync status and writes DIR/sync.json (temp file + rename) when it changed.
 * Whenever a link applies entries, every other link is told at once, so
 * entries from a child flow on to the parent without waiting.
 *
 * Only enrolled nodes replicate: for any other node repl_links_new() still
 * succeeds, logs why (event=repl.disabled) and the node serves HTTP only.
 *
 * Lifecycle (see daemon.c for the whole shutdown sequence):
 *     L = repl_links_new(loop, config, store);
 *     http = http_server_start_ws(..., repl_links_endpoint(L, &ep) ? &ep : NULL, ...);
 *     repl_links_start(L, http);
 *     ... uv_run ...  repl_links_notify(L) when the store changed
 *     repl_links_close(L);    // on SIGTERM: GOING_AWAY to every peer
 *     repl_links_stop(L);     // after uv_run returned: closes the timers
 *     http_server_stop(http); // lws closes the connections: sessions end
 *     ... run the loop dry, http_server_finish(http) ...
 *     repl_links_free(L);
 */
#ifndef LT_REPL_LINK_H
#define LT_REPL_LINK_H

#include "node/env/config.h"
#include "node/http/http.h"

#include <jansson.h>
#include <stdbool.h>
#include <uv.h>

#define REPL_LINK_MAX_FRAME ((size_t)1 << 20) /* largest message accepted */
#define REPL_LINK_RX_BUFFER ((size_t)64 * 1024)

typedef struct repl_links repl_links;

/* Prepares replication for the node c with store s on loop (nothing runs
 * yet). c and s must outlive it. NULL only when out of memory. */
repl_links *repl_links_new(uv_loop_t *loop, const node_config *c, store *s);

/* Fills *ep with the WebSocket endpoint to pass to http_server_start_ws();
 * returns 1, or 0 when replication is disabled (no endpoint). */
int repl_links_endpoint(repl_links *L, http_ws_endpoint *ep);

/* Starts the tick and dials the upstreams through http's lws context. */
void repl_links_start(repl_links *L, http_server *http);

/* The store gained entries (another process, e.g. `lienthong import`):
 * reloads membership when it changed and lets every session push. */
void repl_links_notify(repl_links *L);

/* The sync status document (GET /api/v1/sync; see docs/openapi.yaml).
 * Pending counts are exact and at most about a second old. */
json_t *repl_links_status(repl_links *L);

/* The public part of the sync status (GET /api/v1/sync without a login):
 * node, unit, replicating, updated, and per identified link only
 * peer_unit, direction, connected, state, since and last_exchange; no
 * URLs, addresses, errors, counts or unidentified handshakes. */
json_t *repl_links_summary(repl_links *L);

/* Shutdown, first step (loop still running): stops dialling and asks every
 * connection to close with "the node is shutting down". Returns how many
 * connections are still open; repl_links_open_count() tells later. */
size_t repl_links_close(repl_links *L);

/* Connections not yet closed. */
size_t repl_links_open_count(const repl_links *L);

/* How far this node's neighbours hold its own log (session.h,
 * repl_stats.peer_own_seq): the highest seq any open link whose peer has
 * sent its positions holds; *told is true when there is such a link, and
 * *upstream when one of them goes to a server of the parent unit or a
 * mirror (whose whole copy of this node's log it sends back; a failover
 * link to a grandparent does not count: its copy may lag the parent's). For a node restored from a
 * backup (node/restore_gate.h). */
uint64_t repl_links_own_held(const repl_links *L, bool *upstream, bool *told);

/* Shutdown, second step (before http_server_stop): closes the timers. */
void repl_links_stop(repl_links *L);

/* Frees everything, after http_server_finish(). NULL is ignored. */
void repl_links_free(repl_links *L);

/* ---- the media side channel (link_media.h says how it travels) ---------- */

#define LINK_MEDIA_SUBPROTOCOL "lienthong-media.1"

/* Parent side: a stream of messages (pictures) from a node below. */
typedef struct link_feed link_feed;
typedef struct {
    void (*frame)(void *ctx, const uint8_t *data, size_t len); /* one message, loop thread */
    /* The feed ended (the child closed it, the link or the child never
     * answered): called once; the feed is freed right after. */
    void (*ended)(void *ctx, const char *reason);
} link_feed_ops;

/* Child side: the connection a stream is sent on. */
typedef struct link_sink link_sink;
typedef struct {
    /* The parent asks for stream name: start it, sending with
     * link_sink_send; returns a handle, or NULL with why (the parent's
     * viewers read it). */
    void *(*open)(void *ctx, const char *name, link_sink *sink, char *why, size_t cap);
    /* The parent closed the stream (or the connection broke): stop sending
     * on sink, which is gone. */
    void (*close)(void *ctx, void *handle);
} link_source_ops;

/* Fills *ep with the media side channel's WebSocket endpoint; returns 1, or
 * 0 when replication is disabled. */
int repl_links_media_endpoint(repl_links *L, http_ws_endpoint *ep);

/* Sets what answers the parent's requests for streams (ops copied). */
void repl_links_set_source(repl_links *L, const link_source_ops *ops, void *ctx);

/* Asks the node below that owns stream name for it: the open link of a
 * child whose unit is one of path[0..npath-1] (the owner's units from the
 * root down) carries the request. Returns the feed, or NULL with why when
 * no such link is up. Loop thread. */
link_feed *repl_links_feed_open(repl_links *L, const char (*path)[NODE_CODE_MAX], size_t npath,
                                const char *name, const link_feed_ops *ops, void *ctx, char *why,
                                size_t cap);

/* Ends feed f from this side (its last viewer left): ended() is not
 * called; the child is told by the close of the media connection. */
void link_feed_close(link_feed *f);

/* Queues data (a picture, copied) on sink; a picture not yet written is
 * replaced (a slow link skips pictures). Returns 0, or -1 when the sink is
 * closing. */
int link_sink_send(link_sink *sink, const uint8_t *data, size_t len);

/* The stream of sink ended (reason goes to the parent): close() will not
 * be called for it. */
void link_sink_end(link_sink *sink, const char *reason);

#endif
