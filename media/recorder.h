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
#define CLIP_MAX_SPAN_MS ((uint64_t)24 * 3600 * 1000) /* one clip covers at most a day */
#define CLIP_IO_BUFFER (64 * 1024)

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

/* Where a clip's bytes go, in order: fn returns 0, or < 0 to stop (the
 * client left). Called on the clip's own thread. */
typedef struct {
    int (*fn)(void *ctx, const uint8_t *data, size_t len);
    void *ctx;
} clip_writer;

/* Remuxes the segments of camera id overlapping [from_ms, to_ms] into one
 * fragmented MP4 (written in one pass) handed to w piece by piece, one
 * segment at a time: memory stays bounded (CLIP_IO_BUFFER and the muxer's
 * current fragment) whatever the clip's length. Blocking: a thread of its
 * own. Returns 0, or -1 with e: camera.no_recording (nothing before any
 * byte), camera.clip_too_long (the segments span more than
 * CLIP_MAX_SPAN_MS; nothing written), or the writer stopped it. */
int recordings_clip(store *s, const char *id, uint64_t from_ms, uint64_t to_ms,
                    const clip_writer *w, lt_error *e);

#endif
