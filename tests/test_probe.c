/*
 * test_probe.c - the snapshot path (probe_run, media/probe.c) on corrupt
 * files: a valid MJPEG stream made here (probe_jpeg on a painted frame),
 * then every truncation at 97-byte steps, 300 seeded random byte flips,
 * random garbage, an empty file and MPEG-TS sync bytes around garbage.
 * Each probe must end within its bound with a status and a reason, never
 * crash, and (in the ASan build) leak nothing. The valid file gives an
 * online camera with a JPEG of the asked width.
 */
#include "check.h"
#include "lib/splitmix.h"
#include "media/probe.h"

#include <libavutil/frame.h>
#include <libavutil/log.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char path[512];

static void write_file(const uint8_t *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(b, 1, n, f);
        fclose(f);
    }
}

/* A valid MJPEG stream of 5 frames of 320x180 into *out. */
static size_t make_stream(uint8_t **out)
{
    AVFrame *f = av_frame_alloc();
    f->format = AV_PIX_FMT_YUV420P;
    f->width = 320;
    f->height = 180;
    size_t n = 0;
    *out = NULL;
    if (av_frame_get_buffer(f, 0) < 0)
        return 0;
    for (int k = 0; k < 5; k++) {
        for (int y = 0; y < 180; y++)
            memset(f->data[0] + y * f->linesize[0], (y + k * 20) & 0xff, 320);
        memset(f->data[1], 90, (size_t)f->linesize[1] * 90);
        memset(f->data[2], 160, (size_t)f->linesize[2] * 90);
        probe_result r = {0};
        if (!probe_jpeg(f, 0, 0, &r)) {
            *out = realloc(*out, n + r.jpeg_len);
            memcpy(*out + n, r.jpeg, r.jpeg_len);
            n += r.jpeg_len;
        }
        free(r.jpeg);
    }
    av_frame_free(&f);
    return n;
}

/* Probes the file as it is now; checks the bound and the verdict. */
static void probe_once(const char *what, bool want_online)
{
    char url[600];
    snprintf(url, sizeof url, "file://%s", path);
    probe_opts o = {2000, 2000, true, 160, 0, NULL};
    probe_result r;
    probe_run(url, &o, &r);
    CHECKF(r.status && (!strcmp(r.status, "online") || !strcmp(r.status, "degraded") ||
                        !strcmp(r.status, "offline")),
           "%s: no status", what);
    CHECKF(r.elapsed_ms < 2000 + 500, "%s: %llu ms", what, (unsigned long long)r.elapsed_ms);
    CHECKF(!strcmp(r.status, "online") || r.reason[0], "%s: %s without a reason", what, r.status);
    if (want_online)
        CHECKF(!strcmp(r.status, "online") && r.jpeg && r.width == 320 && r.height == 180,
               "%s: %s (%s)", what, r.status, r.reason);
    free(r.jpeg);
}

int main(void)
{
    av_log_set_level(AV_LOG_QUIET);
    snprintf(path, sizeof path, "%s/cam.mjpeg", check_tmpdir());
    uint8_t *good;
    size_t n = make_stream(&good);
    REQUIRE(n > 1000);
    write_file(good, n);
    probe_once("the valid stream", true);
    write_file(good, 0);
    probe_once("an empty file", false);
    for (size_t cut = 1; cut < n; cut += 97) {
        write_file(good, cut);
        probe_once("a truncated stream", false);
    }
    uint64_t rng = 16;
    uint8_t *bad = malloc(n);
    REQUIRE(bad);
    for (int i = 0; i < 300; i++) {
        memcpy(bad, good, n);
        for (int k = 0; k < 1 + i % 8; k++)
            bad[splitmix_next(&rng) % n] = (uint8_t)splitmix_next(&rng);
        write_file(bad, n);
        probe_once("flipped bytes", false);
    }
    for (size_t i = 0; i < n; i++)
        bad[i] = (uint8_t)splitmix_next(&rng);
    write_file(bad, n);
    probe_once("random garbage", false);
    for (size_t i = 0; i < n; i += 188)
        bad[i] = 0x47; /* MPEG-TS sync bytes around garbage */
    write_file(bad, n);
    probe_once("a fake MPEG-TS", false);
    free(bad);
    free(good);
    return check_done();
}
