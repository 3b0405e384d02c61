/*
 * prober.h - the owning node's health probes and thumbnails: a uv timer
 * that, every interval, probes each enabled camera this node owns with
 * probe_run on the thread pool (at most PROBER_CONCURRENCY at once) and
 * writes a patch of the camera record only when its status changed
 * ("status", "status_since", "reason", "codec", "width", "height", "fps",
 * "bitrate"): a steady state writes nothing. A camera that answers gets a
 * thumbnail (THUMB_WIDTH px wide, at most THUMB_MAX bytes) at most every
 * THUMB_INTERVAL_S, as record CAMERA_THUMB_COLL/{id}, which travels up
 * the tree like every entry.
 */
#ifndef LT_MEDIA_PROBER_H
#define LT_MEDIA_PROBER_H

#include "node/env/config.h"
#include "storage/store.h"

#include <stdint.h>
#include <uv.h>

#define PROBER_DEFAULT_INTERVAL_S 60
#define PROBER_CONCURRENCY 2
#define THUMB_WIDTH 320
#define THUMB_MAX (24u * 1024u) /* an entry holds at most 32 KiB */
#define THUMB_INTERVAL_S 300

typedef struct media_prober media_prober;

/* Starts probing the cameras node c owns in s every interval_s seconds
 * (the first round at once). NULL when out of memory. */
media_prober *media_prober_start(uv_loop_t *loop, store *s, const node_config *c,
                                 unsigned interval_s);

/* Stops the timer and asks probes under way to end; frees p once the last
 * one has (the caller then runs the loop dry). NULL is ignored. */
void media_prober_stop(media_prober *p);

/* Probes (FFmpeg opens) under way now; 0 for NULL. Loop thread. */
size_t media_prober_running(const media_prober *p);

/* The binary field (msgpack bin) of record coll/id: 0 with *data
 * (malloc'd) and *len, 1 when absent, -1 on error. */
int media_record_bin(store *s, const char *coll, const char *id, const char *field, uint8_t **data,
                     size_t *len);

/* The stored thumbnail of camera id: 0 with *jpeg (malloc'd) and *at_ms,
 * 1 when none, -1 on error. */
int media_thumb_get(store *s, const char *id, uint8_t **jpeg, size_t *len, uint64_t *at_ms);

#endif
