/*
 * link_media.h - the media side channel between a node and the node above
 * it (internal to node/links; the public calls are in repl_link.h).
 *
 * The replication link stays as it is: binary messages of the sans-IO
 * protocol. Beside them the parent may send, on the link its child dialled,
 * one kind of text message:
 *     {"media": "open", "name": "<what>", "token": "<32 hex>"}
 * The child then dials the same upstream a second WebSocket with the
 * subprotocol LINK_MEDIA_SUBPROTOCOL (the parent usually cannot dial the
 * child), sends the token as its first (text) message, and then one binary
 * message per picture of the stream that its source (link_source_ops)
 * gives for name. Either side ends the stream by closing that WebSocket,
 * with the reason in the close frame: the parent when its last viewer left,
 * the child when the stream ended or could not start. The token (128
 * random bits, sent over the authenticated replication link) is what ties
 * the media connection to the feed that asked for it; an unknown token
 * closes the connection.
 */
#ifndef LT_LINK_MEDIA_H
#define LT_LINK_MEDIA_H

#include "node/http/http.h"
#include "node/http/url.h"
#include "node/links/repl_link.h"

#include <uv.h>

#define LINK_MEDIA_MAX_MESSAGE ((size_t)4 << 20) /* one picture */
#define LINK_MEDIA_OPEN_MS 15000                 /* the child's media connection must come */
#define LINK_MEDIA_TOKEN_HEX 32

typedef struct link_media link_media;

/* The side channel of a node. NULL when out of memory. */
link_media *link_media_new(void);

/* The lws protocol of the media connections (for the server's endpoints
 * and for dialling). */
const struct lws_protocols *link_media_protocol(link_media *m);

/* The server whose lws context dials the media connections. */
void link_media_set_http(link_media *m, http_server *http);

/* The source of the streams the parent asks this node for. */
void link_media_set_source(link_media *m, const link_source_ops *ops, void *ctx);

/* A new feed waiting for its media connection; writes its token
 * (LINK_MEDIA_TOKEN_HEX + 1 bytes) into token. NULL when out of memory. */
link_feed *link_media_feed_new(link_media *m, const char *label, const link_feed_ops *ops,
                               void *ctx, uint64_t now_ms, char *token);

/* A text message that the upstream at (a parent) sent on the replication
 * link: opens the media connection it asks for. Returns 0, or -1 when the
 * message is not a media request (the caller closes the link). */
int link_media_control(link_media *m, const url_parts *at, const char *msg, size_t len);

/* Ends the feeds whose media connection did not come in time. */
void link_media_tick(link_media *m, uint64_t now_ms);

/* Shutdown: ends every feed (ended() called) and closes every media
 * connection. */
void link_media_close_all(link_media *m);

/* Frees m (after the server stopped). NULL is ignored. */
void link_media_free(link_media *m);

#endif
