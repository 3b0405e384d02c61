/*
 * recorder.h - continuous recording of the cameras this node owns whose
 * record has "record": true (and enabled): one thread per camera copies
 * the stream's packets (no transcoding) into time-named MPEG-TS segments
 * DIR/recordings/{id}/{start ms}.ts, cut on a video keyframe once a
 * segment is REC_SEGMENT_S long, and indexes each finished segment in the
 * node-local table REC_TABLE (key id 0x00 be64 start -> be64 end, be64
 * bytes, file). Retention after each segment: segments older than the
 * age limit go, then the oldest of all cameras while the total is over
 * the disk budget. Limits: LT_RECORDING_SEGMENT_S (60),
 * LT_RECORDING_MAX_DAYS (7), LT_RECORDING_MAX_BYTES (20 GiB) in the
 * environment of `serve`.
 */
#ifndef LT_MEDIA_RECORDER_H
#define LT_MEDIA_RECORDER_H

#include "lib/error.h"
#include "node/env/config.h"
#include "storage/store.h"

#include <jansson.h>
#include <uv.h>

#define REC_TABLE "camera_recordings"
#define REC_SEGMENT_S 60
#define REC_MAX_DAYS 7
#define REC_MAX_BYTES ((uint64_t)20 << 30)
#define REC_RETRY_MS 5000 /* after a camera's stream fails */
#define REC_SCAN_MS 5000  /* how often the cameras to record are looked up */
#define CLIP_MAX_BYTES ((size_t)256 << 20)

typedef struct media_recorder media_recorder;

/* Starts recording the cameras of node c that ask for it (looked up every
 * REC_SCAN_MS). NULL when out of memory or a limit in the environment is
 * not a positive number (err says which). */
media_recorder *media_recorder_start(uv_loop_t *loop, store *s, const node_config *c, char *err,
                                     size_t errlen);

/* Stops every recording (each closes its segment) and frees r. NULL is
 * ignored. */
void media_recorder_stop(media_recorder *r);

/* Cameras being recorded now (one FFmpeg reader thread each); 0 for
 * NULL. Loop thread. */
size_t media_recorder_count(const media_recorder *r);

/* The indexed segments of camera id overlapping [from_ms, to_ms]:
 * {"recordings": [{"start", "end", "bytes"}]} in time order. NULL with e. */
json_t *recordings_list(store *s, const char *id, uint64_t from_ms, uint64_t to_ms, lt_error *e);

/* One MP4 (fragmented, so it can be written in one pass) of the segments
 * of camera id overlapping [from_ms, to_ms], remuxed: 0 with *mp4
 * (malloc'd), or -1 with e (camera.no_recording, camera.clip_too_long). */
int recordings_clip(store *s, const char *id, uint64_t from_ms, uint64_t to_ms, uint8_t **mp4,
                    size_t *len, lt_error *e);

#endif
