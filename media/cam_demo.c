/*
 * cam_demo.c - the demo's cameras (media_demo_seed in media.h): real
 * registry records written through cameras_put, owned by the node that
 * seeds them, on a test stream the node can play: an MJPEG file of moving
 * colour bars made here with libavcodec (the demo needs no ffmpeg CLI),
 * plus one camera on an address nothing answers, so the figures show
 * both states.
 */
#include "media/av_log.h"
#include "media/media.h"
#include "media/probe.h"

#include <libavutil/frame.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEMO_W 640
#define DEMO_H 360
#define DEMO_FRAMES 50

/* Paints frame n of the test pattern (bars, a moving box, a hue per unit). */
static void demo_paint(AVFrame *f, int n, unsigned hue)
{
    for (int y = 0; y < DEMO_H; y++)
        for (int x = 0; x < DEMO_W; x++) {
            bool box = x >= (n * 12) % DEMO_W && x < (n * 12) % DEMO_W + 60 && y > 150 && y < 210;
            f->data[0][y * f->linesize[0] + x] = box ? 235 : (uint8_t)(16 + (x * 8 / DEMO_W) * 27);
        }
    for (int y = 0; y < DEMO_H / 2; y++)
        for (int x = 0; x < DEMO_W / 2; x++) {
            f->data[1][y * f->linesize[1] + x] = (uint8_t)(64 + (hue * 37 + x) % 128);
            f->data[2][y * f->linesize[2] + x] = (uint8_t)(64 + (hue * 91 + y) % 128);
        }
}

/* Writes the demo stream (an MJPEG file) to path. Returns 0 or -1. */
static int demo_stream(const char *path, unsigned hue, char *err, size_t errlen)
{
    AVFrame *f = av_frame_alloc();
    FILE *out = fopen(path, "wb");
    int rc = f && out ? 0 : -1;
    if (!rc) {
        f->format = AV_PIX_FMT_YUV420P;
        f->width = DEMO_W;
        f->height = DEMO_H;
        rc = av_frame_get_buffer(f, 0) < 0 ? -1 : 0;
    }
    for (int n = 0; !rc && n < DEMO_FRAMES; n++) {
        probe_result r = {0};
        demo_paint(f, n, hue);
        rc = probe_jpeg(f, 0, 0, &r) || fwrite(r.jpeg, 1, r.jpeg_len, out) != r.jpeg_len ? -1 : 0;
        free(r.jpeg);
    }
    if (out && fclose(out))
        rc = -1;
    av_frame_free(&f);
    if (rc)
        snprintf(err, errlen, "cannot write the demo camera stream %s", path);
    return rc;
}

int media_demo_seed(store *s, const node_config *c, const unit_tree *t, char *err, size_t errlen)
{
    static const struct {
        const char *suffix, *name, *field;
        bool live;
    } cams[] = {
        {"01", "Ngã tư trung tâm", "traffic", true},
        {"02", "Trụ sở UBND", "security", true},
        {"03", "Bộ phận một cửa", "public_service", true},
        {"04", "Trạm quan trắc", "environment", false},
    };
    media_av_log_route(); /* the demo's thumbnails: FFmpeg's warnings in the log, not raw */
    char file[NODE_PATH_MAX + 32];
    snprintf(file, sizeof file, "%s/demo-camera.mjpeg", c->dir);
    unsigned hue = 0;
    for (const char *p = c->unit; *p; p++)
        hue = hue * 31 + (unsigned char)*p;
    if (demo_stream(file, hue, err, errlen))
        return -1;
    size_t n = sizeof cams / sizeof *cams;
    char ids[4][CAMERA_ID_MAX], *idp[4], userinfo[4][256] = {{0}};
    json_t *fields[4] = {0};
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        char url[NODE_PATH_MAX + 64];
        if (cams[i].live)
            snprintf(url, sizeof url, "file://%s", file);
        else
            snprintf(url, sizeof url, "rtsp://demo:demo@127.0.0.1:9/%s", c->unit);
        snprintf(ids[i], sizeof ids[i], "CAM-%s-%s", c->unit, cams[i].suffix);
        idp[i] = ids[i];
        json_t *body = json_pack(
            "{s:s, s:s, s:f, s:f, s:s, s:b}", "name", cams[i].name, "field", cams[i].field, "lat",
            18.67 + (double)(hue % 300) / 10000.0 + (double)i / 500.0, "lon",
            105.67 + (double)(hue / 300 % 300) / 10000.0, "url", url, "enabled", 1);
        lt_error e = {0};
        rc = camera_check(ids[i], body, &fields[i], userinfo[i], &e);
        json_decref(body);
        if (rc)
            snprintf(err, errlen, "demo camera %s: %s", ids[i], e.message);
    }
    size_t written, unchanged;
    lt_error e = {0};
    if (!rc && cameras_put(s, c, t, idp, fields, userinfo, n, &written, &unchanged, &e)) {
        snprintf(err, errlen, "demo cameras: %s", e.message);
        rc = -1;
    }
    for (size_t i = 0; i < n; i++)
        json_decref(fields[i]);
    return rc;
}
