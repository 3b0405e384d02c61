/*
 * live.h - live previews (GET /api/v1/cameras/{id}/live.mjpeg): one reader
 * thread per camera being watched opens the stream (probe_live), makes
 * LIVE_FPS JPEGs a second at most LIVE_WIDTH px wide, and hands each to
 * the loop (uv_async), which writes it as a part of a multipart/x-mixed-
 * replace answer to every viewer of that camera (http_stream). At most
 * LIVE_VIEWERS_PER_CAMERA viewers per camera and LIVE_VIEWERS_PER_NODE per
 * node; the reader stops when its last viewer leaves. A camera that gives
 * no picture answers 502 camera.unreachable to those waiting.
 */
#ifndef LT_MEDIA_LIVE_H
#define LT_MEDIA_LIVE_H

#include "node/http/http.h"

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

/* The live previews of a node on loop. NULL when out of memory. */
media_live *media_live_new(uv_loop_t *loop);

/* Adds the request being handled (req) as a viewer of camera id at url
 * (credentials included). Answers res at once with 503 camera.busy over
 * the caps; else defers it: the first picture starts the stream, a
 * failure answers 502. Loop thread, inside the handler. */
void media_live_join(media_live *l, const http_request *req, http_response *res, const char *id,
                     const char *url);

/* Stops every reader and ends every viewer; frees l once the readers
 * ended (run the loop dry after this). NULL is ignored. */
void media_live_stop(media_live *l);

#endif
