/*
 * probe.h - opening a camera's stream with libavformat under hard bounds,
 * and a picture of it (decoded keyframe, scaled with libswscale, encoded
 * as JPEG by libavcodec's mjpeg encoder). Blocking: call it on the thread
 * pool only, never on the loop.
 */
#ifndef LT_MEDIA_PROBE_H
#define LT_MEDIA_PROBE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROBE_TIMEOUT_MS 10000 /* the whole probe, open to JPEG */
#define PROBE_SLOW_MS 5000     /* slower than this: degraded */
#define PROBE_PROBESIZE 1000000
#define PROBE_ANALYZE_US 3000000

typedef struct {
    unsigned timeout_ms;     /* the hard bound of the whole probe */
    unsigned slow_ms;        /* slower than this: degraded */
    bool allow_file;         /* the file protocol (a file:// camera the admin registered) */
    int image_width;         /* -1: no image; 0: the stream's size; N: scaled to N px wide */
    size_t image_max;        /* the JPEG's largest size (0: any); quality drops to fit */
    const atomic_bool *stop; /* when set (shutdown), the probe ends at once; may be NULL */
} probe_opts;

typedef struct {
    const char *status; /* "online", "degraded", "offline" */
    char reason[200];   /* why degraded or offline; "" when online */
    char codec[32];
    int width, height;
    double fps;
    int64_t bitrate; /* bits per second, 0 when unknown */
    uint64_t elapsed_ms;
    uint8_t *jpeg; /* malloc'd when an image was asked for and made */
    size_t jpeg_len;
} probe_result;

/* Encodes frame f (any size and format) as a JPEG of width w (0: its own)
 * no larger than max (0: any) into r->jpeg (malloc'd). Returns 0 or -1. */
struct AVFrame;
int probe_jpeg(const struct AVFrame *f, int w, size_t max, probe_result *r);

/* Opens url (credentials included) under o's bounds (interrupt callback
 * with a deadline, rw_timeout/timeout, small probesize and analyzeduration,
 * a protocol whitelist by scheme), reads the stream's parameters and reads
 * to the first keyframe of the video stream, decodes it and, when asked,
 * encodes the picture. Fills *r (free r->jpeg). Never fails: a camera it
 * cannot reach is "offline" with the reason. */
void probe_run(const char *url, const probe_opts *o, probe_result *r);

/* Called by probe_live with each picture (a JPEG, valid during the call);
 * non-zero stops the stream. */
typedef int (*probe_picture_fn)(void *ctx, const uint8_t *jpeg, size_t len);

/* Opens url with probe_run's bounds (o->timeout_ms then bounds each wait
 * for data, not the whole stream) and calls fn with a JPEG of at most
 * o->image_width px wide (0: the stream's size) at most fps times a
 * second, until fn returns non-zero, o->stop is set or the stream fails.
 * Returns 0 when fn or stop ended it, or -1 with reason (cap bytes). */
int probe_live(const char *url, const probe_opts *o, unsigned fps, probe_picture_fn fn, void *ctx,
               char *reason, size_t cap);

struct AVFormatContext;
struct AVPacket;

/* Called by probe_packets with every packet read (fc: the opened input,
 * for its streams); non-zero stops the reading. */
typedef int (*probe_packet_fn)(void *ctx, struct AVFormatContext *fc, struct AVPacket *pkt);

/* Opens url with probe_run's bounds (o->timeout_ms bounding each wait for
 * data) and calls fn with each packet until fn returns non-zero, o->stop
 * is set or the stream fails. Returns 0 when fn or stop ended it, or -1
 * with reason (cap bytes). */
int probe_packets(const char *url, const probe_opts *o, probe_packet_fn fn, void *ctx, char *reason,
                  size_t cap);

#endif
