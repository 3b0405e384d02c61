/*
 * photo_check.c - a report photo checked by content before it is stored
 * and replicated to every tier (docs/security.md, "Photos"): the type by
 * its magic bytes, then the whole image decoded by libavcodec with the
 * decoder's own pixel cap (AVCodecContext.max_pixels), so a header that
 * claims 30000 x 30000 or 0xFFFFFFFF pixels is refused before any frame
 * is allocated, and a damaged image is refused because it does not decode.
 * Separate from photos.c so that a fuzz target can call it alone.
 */
#include "reports/reports_internal.h"

#include <libavcodec/avcodec.h>
#include <libavutil/log.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

/* The decoder of the type the magic bytes of d name, and that type. */
static enum AVCodecID photo_codec(const uint8_t *d, size_t len, const char **mime)
{
    if (len >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) {
        *mime = "image/jpeg";
        return AV_CODEC_ID_MJPEG;
    }
    if (len >= 8 && !memcmp(d, "\x89PNG\r\n\x1a\n", 8)) {
        *mime = "image/png";
        return AV_CODEC_ID_PNG;
    }
    if (len >= 12 && !memcmp(d, "RIFF", 4) && !memcmp(d + 8, "WEBP", 4)) {
        *mime = "image/webp";
        return AV_CODEC_ID_WEBP;
    }
    return AV_CODEC_ID_NONE;
}

static pthread_once_t log_once = PTHREAD_ONCE_INIT;

/* Set on this thread when a decoder refused the picture size: the only
 * sign that tells "too large" from "damaged" (both are AVERROR(EINVAL)). */
static _Thread_local bool size_refused;

/* FFmpeg's log: nothing printed (every refused photo would fill stderr);
 * av_image_check_size2's "Picture size WxH is invalid" is noted. */
static void photo_log(void *avcl, int level, const char *fmt, va_list ap)
{
    (void)avcl, (void)level, (void)ap;
    if (fmt && !strncmp(fmt, "Picture size", 12))
        size_refused = true;
}

static void log_init(void)
{
    av_log_set_callback(photo_log);
}

/* Decodes the single image d[0..len) with decoder id into the first
 * frame's width and height. 0, or an AVERROR when it does not decode
 * (size_refused set when for its size: decoders check max_pixels before
 * they allocate a frame). */
static int photo_decode(enum AVCodecID id, const uint8_t *d, size_t len, unsigned *w, unsigned *h)
{
    size_refused = false;
    const AVCodec *codec = avcodec_find_decoder(id);
    AVCodecContext *ctx = codec ? avcodec_alloc_context3(codec) : NULL;
    AVPacket *pkt = av_packet_alloc();
    AVFrame *frame = av_frame_alloc();
    int rc = AVERROR(ENOMEM);
    if (!ctx || !pkt || !frame || av_new_packet(pkt, (int)len))
        goto done;
    memcpy(pkt->data, d, len); /* av_new_packet pads it as decoders need */
    ctx->max_pixels = PHOTO_PIXELS_MAX;
    ctx->thread_count = 1; /* already on a pool thread */
    ctx->err_recognition = AV_EF_EXPLODE;
    if ((rc = avcodec_open2(ctx, codec, NULL)) < 0 || (rc = avcodec_send_packet(ctx, pkt)) < 0 ||
        (rc = avcodec_send_packet(ctx, NULL)) < 0 || (rc = avcodec_receive_frame(ctx, frame)) < 0)
        goto done;
    *w = (unsigned)frame->width;
    *h = (unsigned)frame->height;
done:
    av_frame_free(&frame);
    av_packet_free(&pkt);
    avcodec_free_context(&ctx);
    return rc;
}

int photo_check(const uint8_t *d, size_t len, photo_info *p, lt_error *e)
{
    memset(p, 0, sizeof *p);
    if (len > REPORT_PHOTO_BYTES_MAX)
        return lt_error_set(e, LT_EINVAL, "report.photo_too_large",
                            "a photo is %zu bytes; the limit is %u (4 MiB): send a smaller one",
                            len, REPORT_PHOTO_BYTES_MAX);
    enum AVCodecID id = photo_codec(d, len, &p->mime);
    if (id == AV_CODEC_ID_NONE)
        return lt_error_set(e, LT_EINVAL, "report.photo_invalid",
                            "a photo is not a JPEG, PNG or WebP image (checked by content): "
                            "send one of those");
    pthread_once(&log_once, log_init);
    int rc = photo_decode(id, d, len, &p->width, &p->height);
    if ((rc && size_refused) || (!rc && (p->width > PHOTO_SIDE_MAX || p->height > PHOTO_SIDE_MAX)))
        return lt_error_set(e, LT_EINVAL, "report.photo_too_big",
                            "a photo is larger than %u megapixels or %u pixels on a side (or "
                            "its header says so): scale it down, e.g. to 4000 x 3000",
                            PHOTO_PIXELS_MAX / 1000000, PHOTO_SIDE_MAX);
    if (rc == AVERROR(ENOMEM))
        return lt_error_set(e, LT_EUNAVAILABLE, "report.photo_no_memory",
                            "the node ran out of memory checking a photo; try again later");
    if (rc || !p->width || !p->height)
        return lt_error_set(e, LT_EINVAL, "report.photo_invalid",
                            "a photo claims to be %s but does not decode (damaged or cut "
                            "short): send the original file",
                            p->mime);
    p->data = d;
    p->len = len;
    crypto_generichash(p->hash, 32, d, len, NULL, 0);
    return 0;
}
