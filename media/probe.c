/*
 * probe.c - bounded libavformat opens, keyframe decoding and JPEG
 * encoding (probe.h).
 */
#include "media/probe.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define PROBE_MAX_PACKETS 2000

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

typedef struct {
    uint64_t deadline;
    const atomic_bool *stop;
} probe_clock;

static int probe_interrupt(void *ctx)
{
    const probe_clock *c = ctx;
    return mono_ms() > c->deadline || (c->stop && atomic_load(c->stop));
}

/* The protocols a camera of url's scheme may use; NULL when none may. */
static const char *probe_whitelist(const char *url, bool allow_file)
{
    if (!strncmp(url, "rtsp", 4))
        return "rtsp,rtsps,rtp,udp,tcp,tls";
    if (!strncmp(url, "http", 4))
        return "http,https,tcp,tls,crypto";
    if (!strncmp(url, "rtmp", 4))
        return "rtmp,rtmps,tcp,tls";
    if (!strncmp(url, "file:", 5) && allow_file)
        return "file";
    return NULL;
}

static void fail(probe_result *r, const char *status, const char *fmt, const char *detail)
{
    r->status = status;
    snprintf(r->reason, sizeof r->reason, fmt, detail);
}

static AVFormatContext *probe_open(const char *url, const probe_opts *o, probe_clock *clk,
                                   probe_result *r)
{
    const char *wl = probe_whitelist(url, o->allow_file);
    if (!wl) {
        fail(r, "offline", "%s",
             "the address's scheme is not allowed on this node (file:// "
             "needs the admin's permission)");
        return NULL;
    }
    AVFormatContext *fc = avformat_alloc_context();
    if (!fc) {
        fail(r, "offline", "%s", "out of memory");
        return NULL;
    }
    fc->interrupt_callback = (AVIOInterruptCB){probe_interrupt, clk};
    AVDictionary *d = NULL;
    char us[32];
    snprintf(us, sizeof us, "%llu", (unsigned long long)o->timeout_ms * 1000ull);
    av_dict_set(&d, "protocol_whitelist", wl, 0);
    av_dict_set(&d, "rw_timeout", us, 0);
    if (!strncmp(url, "rtsp", 4)) {
        av_dict_set(&d, "rtsp_transport", "tcp", 0);
        av_dict_set(&d, "timeout", us, 0);
    }
    av_dict_set_int(&d, "probesize", PROBE_PROBESIZE, 0);
    av_dict_set_int(&d, "analyzeduration", PROBE_ANALYZE_US, 0);
    int rc = avformat_open_input(&fc, url, NULL, &d);
    av_dict_free(&d);
    if (rc < 0) {
        char msg[128];
        av_strerror(rc, msg, sizeof msg);
        fail(r, "offline", "cannot open the stream: %s", msg);
        return NULL; /* avformat_open_input freed fc */
    }
    if ((rc = avformat_find_stream_info(fc, NULL)) < 0) {
        char msg[128];
        av_strerror(rc, msg, sizeof msg);
        fail(r, "offline", "cannot read the stream's parameters: %s", msg);
        avformat_close_input(&fc);
        return NULL;
    }
    return fc;
}

/* The stream's parameters into r. */
static void probe_params(AVFormatContext *fc, int vs, probe_result *r)
{
    const AVStream *st = fc->streams[vs];
    const AVCodecParameters *p = st->codecpar;
    snprintf(r->codec, sizeof r->codec, "%s", avcodec_get_name(p->codec_id));
    r->width = p->width;
    r->height = p->height;
    AVRational fr = st->avg_frame_rate.num ? st->avg_frame_rate : st->r_frame_rate;
    r->fps = fr.den ? av_q2d(fr) : 0;
    r->bitrate = p->bit_rate ? p->bit_rate : fc->bit_rate;
}

int probe_jpeg(const AVFrame *f, int w, size_t max, probe_result *r)
{
    if (w <= 0 || w > f->width)
        w = f->width;
    int h = (int)((int64_t)f->height * w / f->width) & ~1;
    w &= ~1;
    if (w < 2 || h < 2)
        return -1;
    const AVCodec *enc = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
    struct SwsContext *sws = sws_getContext(f->width, f->height, f->format, w, h,
                                            AV_PIX_FMT_YUVJ420P, SWS_BICUBIC, NULL, NULL, NULL);
    AVFrame *out = av_frame_alloc();
    AVPacket *pkt = av_packet_alloc();
    int rc = enc && sws && out && pkt ? 0 : -1;
    if (!rc) {
        out->format = AV_PIX_FMT_YUVJ420P;
        out->width = w;
        out->height = h;
        out->color_range = AVCOL_RANGE_JPEG;
        rc = av_frame_get_buffer(out, 0) < 0 ? -1 : 0;
    }
    if (!rc)
        sws_scale(sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, out->data,
                  out->linesize);
    static const int qualities[] = {3, 6, 10, 16, 24, 31};
    for (size_t qi = 0; !rc && qi < sizeof qualities / sizeof *qualities; qi++) {
        AVCodecContext *ec = avcodec_alloc_context3(enc);
        if (!ec) {
            rc = -1;
            break;
        }
        ec->width = w;
        ec->height = h;
        ec->pix_fmt = AV_PIX_FMT_YUVJ420P;
        ec->color_range = AVCOL_RANGE_JPEG;
        ec->time_base = (AVRational){1, 25};
        ec->flags |= AV_CODEC_FLAG_QSCALE;
        ec->global_quality = FF_QP2LAMBDA * qualities[qi];
        out->quality = ec->global_quality;
        out->pict_type = AV_PICTURE_TYPE_I;
        rc = avcodec_open2(ec, enc, NULL) < 0 || avcodec_send_frame(ec, out) < 0 ||
                     avcodec_receive_packet(ec, pkt) < 0
                 ? -1
                 : 0;
        if (!rc && (!max || (size_t)pkt->size <= max)) {
            free(r->jpeg);
            r->jpeg = malloc((size_t)pkt->size);
            if (r->jpeg)
                memcpy(r->jpeg, pkt->data, (size_t)pkt->size);
            r->jpeg_len = r->jpeg ? (size_t)pkt->size : 0;
            av_packet_unref(pkt);
            avcodec_free_context(&ec);
            break;
        }
        av_packet_unref(pkt);
        avcodec_free_context(&ec);
    }
    av_packet_free(&pkt);
    av_frame_free(&out);
    sws_freeContext(sws);
    return rc || !r->jpeg ? -1 : 0;
}

/* Reads to the first keyframe of stream vs and decodes a picture from it
 * into f. Returns 0, or -1 with r's reason. */
static int probe_keyframe(AVFormatContext *fc, int vs, AVFrame *f, probe_result *r)
{
    const AVCodecParameters *p = fc->streams[vs]->codecpar;
    const AVCodec *dec = avcodec_find_decoder(p->codec_id);
    AVCodecContext *dc = dec ? avcodec_alloc_context3(dec) : NULL;
    AVPacket *pkt = av_packet_alloc();
    int rc = -1;
    if (!dc || !pkt || avcodec_parameters_to_context(dc, p) < 0 ||
        avcodec_open2(dc, dec, NULL) < 0) {
        fail(r, "degraded", "no decoder for codec %s", avcodec_get_name(p->codec_id));
        goto done;
    }
    bool keyed = false, drained = false;
    for (int i = 0; rc && i < PROBE_MAX_PACKETS && !drained; i++) {
        int rr = av_read_frame(fc, pkt);
        if (rr < 0) {
            drained = true;
            if (!keyed)
                break;
            avcodec_send_packet(dc, NULL);
        } else if (pkt->stream_index != vs || (!keyed && !(pkt->flags & AV_PKT_FLAG_KEY))) {
            av_packet_unref(pkt);
            continue;
        } else {
            keyed = true;
            avcodec_send_packet(dc, pkt);
            av_packet_unref(pkt);
        }
        if (avcodec_receive_frame(dc, f) == 0)
            rc = 0;
    }
    if (rc)
        fail(r, "degraded", "%s",
             keyed ? "the keyframe could not be decoded" : "no keyframe in time");
done:
    av_packet_free(&pkt);
    avcodec_free_context(&dc);
    return rc;
}

void probe_run(const char *url, const probe_opts *o, probe_result *r)
{
    memset(r, 0, sizeof *r);
    uint64_t t0 = mono_ms();
    probe_clock clk = {t0 + o->timeout_ms, o->stop};
    AVFormatContext *fc = probe_open(url, o, &clk, r);
    if (!fc) {
        r->elapsed_ms = mono_ms() - t0;
        return;
    }
    int vs = av_find_best_stream(fc, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    AVFrame *f = av_frame_alloc();
    if (vs < 0) {
        fail(r, "degraded", "%s", "the stream has no video");
    } else if (f) {
        probe_params(fc, vs, r);
        if (!probe_keyframe(fc, vs, f, r)) {
            r->status = "online";
            if (o->image_width >= 0 && probe_jpeg(f, o->image_width, o->image_max, r))
                fail(r, "degraded", "%s", "the picture could not be encoded as JPEG");
        }
    }
    av_frame_free(&f);
    avformat_close_input(&fc);
    r->elapsed_ms = mono_ms() - t0;
    if (r->status && !strcmp(r->status, "online") && r->elapsed_ms > o->slow_ms) {
        char ms[32];
        snprintf(ms, sizeof ms, "%llu", (unsigned long long)r->elapsed_ms);
        fail(r, "degraded", "too slow: %s ms to the first picture", ms);
    }
    if (!r->status)
        fail(r, "offline", "%s", "out of memory");
}

/* Decodes the packets of stream vs of fc and calls fn with a picture at
 * most fps times a second. Returns 0 when fn ended it, -1 with r's reason. */
static int live_loop(AVFormatContext *fc, int vs, probe_clock *clk, const probe_opts *o,
                     unsigned fps, probe_picture_fn fn, void *ctx, probe_result *r)
{
    const AVCodecParameters *par = fc->streams[vs]->codecpar;
    const AVCodec *dec = avcodec_find_decoder(par->codec_id);
    AVCodecContext *dc = dec ? avcodec_alloc_context3(dec) : NULL;
    AVPacket *pkt = av_packet_alloc();
    AVFrame *f = av_frame_alloc();
    int rc = -1;
    uint64_t next = 0, gap = 1000u / (fps ? fps : 1);
    if (!dc || !pkt || !f || avcodec_parameters_to_context(dc, par) < 0 ||
        avcodec_open2(dc, dec, NULL) < 0) {
        fail(r, "degraded", "no decoder for codec %s", avcodec_get_name(par->codec_id));
        goto done;
    }
    for (;;) {
        clk->deadline = mono_ms() + o->timeout_ms;
        int rr = av_read_frame(fc, pkt);
        if (rr < 0) {
            char msg[128];
            av_strerror(rr, msg, sizeof msg);
            if (o->stop && atomic_load(o->stop))
                rc = 0;
            else
                fail(r, "offline", "the stream ended: %s", msg);
            break;
        }
        if (pkt->stream_index == vs && avcodec_send_packet(dc, pkt) >= 0) {
            while (avcodec_receive_frame(dc, f) == 0) {
                uint64_t now = mono_ms();
                if (now < next)
                    continue;
                next = now + gap;
                free(r->jpeg);
                r->jpeg = NULL;
                if (!probe_jpeg(f, o->image_width, o->image_max, r) &&
                    fn(ctx, r->jpeg, r->jpeg_len)) {
                    rc = 0;
                    goto done;
                }
            }
        }
        av_packet_unref(pkt);
    }
done:
    av_packet_free(&pkt);
    av_frame_free(&f);
    avcodec_free_context(&dc);
    return rc;
}

int probe_live(const char *url, const probe_opts *o, unsigned fps, probe_picture_fn fn, void *ctx,
               char *reason, size_t cap)
{
    probe_result r;
    memset(&r, 0, sizeof r);
    probe_clock clk = {mono_ms() + o->timeout_ms, o->stop};
    AVFormatContext *fc = probe_open(url, o, &clk, &r);
    int rc = -1;
    if (fc) {
        int vs = av_find_best_stream(fc, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
        if (vs < 0)
            fail(&r, "degraded", "%s", "the stream has no video");
        else
            rc = live_loop(fc, vs, &clk, o, fps, fn, ctx, &r);
        avformat_close_input(&fc);
    }
    free(r.jpeg);
    snprintf(reason, cap, "%s", r.reason);
    return rc;
}

int probe_packets(const char *url, const probe_opts *o, probe_packet_fn fn, void *ctx, char *reason,
                  size_t cap)
{
    probe_result r;
    memset(&r, 0, sizeof r);
    probe_clock clk = {mono_ms() + o->timeout_ms, o->stop};
    AVFormatContext *fc = probe_open(url, o, &clk, &r);
    AVPacket *pkt = av_packet_alloc();
    int rc = -1;
    while (fc && pkt) {
        clk.deadline = mono_ms() + o->timeout_ms;
        int rr = av_read_frame(fc, pkt);
        if (rr < 0) {
            char msg[128];
            av_strerror(rr, msg, sizeof msg);
            if (o->stop && atomic_load(o->stop))
                rc = 0;
            else
                fail(&r, "offline", "the stream ended: %s", msg);
            break;
        }
        int stop = fn(ctx, fc, pkt);
        av_packet_unref(pkt);
        if (stop) {
            rc = 0;
            break;
        }
    }
    av_packet_free(&pkt);
    avformat_close_input(&fc);
    snprintf(reason, cap, "%s", r.reason);
    return rc;
}
