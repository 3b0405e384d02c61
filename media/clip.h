/*
 * clip.h - GET /api/v1/cameras/{id}/clip.mp4 streamed: a thread of its own
 * remuxes the covering segments (recordings_clip) into a bounded queue
 * (CLIP_QUEUE_MAX) that the loop moves into the streamed answer
 * (http_stream) as the client reads, so memory stays bounded whatever the
 * clip's length and a slow client slows the remux instead of filling
 * memory. At most CLIP_STREAMS_MAX clips per node at once (503
 * camera.busy). An error before the first byte is an ordinary JSON answer
 * (404 camera.no_recording, 413 camera.clip_too_long); a failure after it
 * cuts the answer short (the MP4 is then incomplete, which clients see).
 */
#ifndef LT_MEDIA_CLIP_H
#define LT_MEDIA_CLIP_H

#include "node/http/http.h"
#include "storage/store.h"

#include <stdatomic.h>
#include <stdint.h>
#include <uv.h>

#define CLIP_QUEUE_MAX ((size_t)1 << 20) /* bytes made, not yet handed to the answer */
#define CLIP_STREAMS_MAX 2

/* Answers req (inside its handler) with the clip of camera id over
 * [from_ms, to_ms] from the recordings of store s; *running counts the
 * clips under way on the node (loop). */
void media_clip_serve(uv_loop_t *loop, store *s, const http_request *req, http_response *res,
                      const char *id, uint64_t from_ms, uint64_t to_ms, unsigned *running);

#endif
