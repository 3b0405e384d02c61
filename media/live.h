/*
 * live.h - live previews (GET /api/v1/cameras/{id}/live.mjpeg): one reader
 * thread per camera being watched opens the stream (probe_live), makes
 * LIVE_FPS JPEGs a second at most LIVE_WIDTH px wide, and hands each to
 * the loop (uv_async), which writes it as a part of a multipart/x-mixed-
 * replace answer to every viewer of that camera (http_stream). At most
 * LIVE_VIEWERS_PER_CAMERA viewers per camera and LIVE_VIEWERS_PER_NODE per
 * node; the reader stops when its last viewer leaves. A camera that gives
 * no picture answers 502 camera.unreachable to those waiting.
 *
 * A node above the owner relays: the first viewer of such a camera opens a
 * feed from the child link toward the owner (repl_links_feed_open, the
 * media side channel of node/links), whose pictures go to this node's
 * viewers the same way; the node below serves the feed as one more viewer
 * of its own (a link_sink), relaying further down when it is not the owner
 * either. So the caps apply at each hop, credentials stay on the owner
 * (only pictures travel), and the last viewer leaving closes the feed,
 * which stops the nodes below in turn.
 */
#ifndef LT_MEDIA_LIVE_H
#define LT_MEDIA_LIVE_H

#include "node/env/config.h"
#include "node/http/http.h"
#include "node/links/repl_link.h"

#include <uv.h>

#define LIVE_FPS 5
#define LIVE_WIDTH 640
#define LIVE_VIEWERS_PER_CAMERA 4
#define LIVE_VIEWERS_PER_NODE 16
#define LIVE_QUEUE_MAX                                                                             \
    ((size_t)1 << 20) /* unwritten bytes per viewer: frames are skipped beyond                     \
                       */
#define LIVE_BOUNDARY "ltframe"

typedef struct media_live media_live;

/* The live previews of a node on loop, relaying over links (NULL: owned
 * cameras only). NULL when out of memory. */
media_live *media_live_new(uv_loop_t *loop, repl_links *links);

/* Where a camera's pictures come from: url (credentials included) on the
 * owning node, else the owner's units path[0..npath-1] from the root. */
typedef struct {
    const char *id;
    const char *url; /* NULL: not owned here */
    const char (*path)[NODE_CODE_MAX];
    size_t npath;
} live_source;

/* Adds the request being handled (req) as a viewer of camera src->id.
 * Answers res at once with 503 camera.busy over the caps, 502
 * camera.unreachable when no link leads to the owner; else defers it: the
 * first picture starts the stream, a failure answers 502. Loop thread,
 * inside the handler. */
void media_live_join(media_live *l, const http_request *req, http_response *res,
                     const live_source *src);

/* Adds sink (the node above asking) as a viewer of camera src->id: the
 * handle for media_live_sink_close, or NULL with why (caps, no link). */
void *media_live_sink_open(media_live *l, const live_source *src, link_sink *sink, char *why,
                           size_t cap);

/* The node above closed the sink of handle: it is no viewer any more. */
void media_live_sink_close(media_live *l, void *handle);

/* Stops every reader and ends every viewer; frees l once the readers
 * ended (run the loop dry after this). NULL is ignored. */
void media_live_stop(media_live *l);

#endif
