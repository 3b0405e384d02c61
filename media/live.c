/*
 * live.c - live previews (live.h).
 */
#include "media/live.h"
#include "lib/log.h"
#include "media/media.h"
#include "media/probe.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct viewer {
    http_pending *pending; /* until the first picture */
    http_stream *stream;   /* after it */
    struct viewer *next;
} viewer;

typedef struct live_cam {
    media_live *l;
    char id[CAMERA_ID_MAX];
    char url[CAMERA_URL_MAX + 256];
    uv_thread_t thread;
    uv_async_t async;
    uv_mutex_t mu;
    uint8_t *frame; /* the newest picture, under mu */
    size_t frame_len;
    bool finished; /* the reader ended, under mu */
    char reason[200];
    atomic_bool stop;
    viewer *viewers;
    size_t nviewers;
    struct live_cam *next;
} live_cam;

struct media_live {
    uv_loop_t *loop;
    live_cam *cams;
    size_t nviewers, ncams;
    bool stopping;
};

media_live *media_live_new(uv_loop_t *loop)
{
    media_live *l = calloc(1, sizeof *l);
    if (l)
        l->loop = loop;
    return l;
}

/* Reader thread: a picture under mu, then a wake-up of the loop. */
static int cam_picture(void *ctx, const uint8_t *jpeg, size_t len)
{
    live_cam *c = ctx;
    uint8_t *copy = malloc(len);
    if (copy) {
        memcpy(copy, jpeg, len);
        uv_mutex_lock(&c->mu);
        free(c->frame);
        c->frame = copy;
        c->frame_len = len;
        uv_mutex_unlock(&c->mu);
        uv_async_send(&c->async);
    }
    return atomic_load(&c->stop);
}

static void cam_reader(void *arg)
{
    live_cam *c = arg;
    probe_opts o = {PROBE_TIMEOUT_MS, PROBE_TIMEOUT_MS, !strncmp(c->url, "file:", 5), LIVE_WIDTH, 0,
                    &c->stop};
    char reason[200];
    if (probe_live(c->url, &o, LIVE_FPS, cam_picture, c, reason, sizeof reason))
        log_write(LOG_INFO, "camera.live", "id=%s msg=\"the stream ended: %s\"", c->id, reason);
    uv_mutex_lock(&c->mu);
    c->finished = true;
    snprintf(c->reason, sizeof c->reason, "%s", reason[0] ? reason : "the stream ended");
    uv_mutex_unlock(&c->mu);
    uv_async_send(&c->async);
}

static void cam_closed(uv_handle_t *h)
{
    live_cam *c = h->data;
    media_live *l = c->l;
    uv_mutex_destroy(&c->mu);
    free(c->frame);
    free(c);
    l->ncams--;
    if (l->stopping && !l->ncams)
        free(l);
}

/* Answers or ends viewer v (the camera gave no more pictures). */
static void viewer_end(live_cam *c, viewer *v)
{
    if (v->pending) {
        http_response *res = http_pending_response(v->pending);
        http_respond_code(res, 502, "camera.unreachable",
                          "the camera gave no picture: %s; check its address and network",
                          c->reason);
        http_pending_finish(v->pending);
    }
    http_stream_end(v->stream);
    c->l->nviewers--;
    c->nviewers--;
    free(v);
}

/* Sends picture jpeg to v; false when v left (then ended). */
static bool viewer_send(live_cam *c, viewer *v, const uint8_t *jpeg, size_t len)
{
    if (v->pending) {
        if (!http_pending_alive(v->pending)) {
            http_pending_finish(v->pending);
            v->pending = NULL;
            return false;
        }
        v->stream = http_pending_stream(
            v->pending, "multipart/x-mixed-replace; boundary=" LIVE_BOUNDARY, LIVE_QUEUE_MAX);
        v->pending = NULL;
        if (!v->stream)
            return false;
    }
    char head[128];
    int n = snprintf(
        head, sizeof head,
        "--" LIVE_BOUNDARY "\r\nContent-Type: image/jpeg\r\nContent-Length: %zu\r\n\r\n", len);
    if (!http_stream_alive(v->stream))
        return false;
    size_t part = (size_t)n + len + 2;
    uint8_t *buf = malloc(part);
    if (!buf)
        return true;
    memcpy(buf, head, (size_t)n);
    memcpy(buf + n, jpeg, len);
    memcpy(buf + n + len, "\r\n", 2);
    int rc = http_stream_write(v->stream, buf, part); /* 1: a slow reader skips this one */
    free(buf);
    return rc >= 0;
}

static void cam_unlink(media_live *l, live_cam *c)
{
    for (live_cam **pp = &l->cams; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            return;
        }
}

/* Loop: a new picture, or the reader ended. */
static void cam_wake(uv_async_t *a)
{
    live_cam *c = a->data;
    uv_mutex_lock(&c->mu);
    uint8_t *jpeg = c->frame;
    size_t len = c->frame_len;
    bool finished = c->finished;
    c->frame = NULL;
    uv_mutex_unlock(&c->mu);
    for (viewer **pp = &c->viewers; *pp;) {
        viewer *v = *pp;
        if (jpeg && !finished && !viewer_send(c, v, jpeg, len)) {
            *pp = v->next;
            viewer_end(c, v);
        } else {
            pp = &v->next;
        }
    }
    free(jpeg);
    if (!c->nviewers)
        atomic_store(&c->stop, true);
    if (!finished)
        return;
    while (c->viewers) {
        viewer *v = c->viewers;
        c->viewers = v->next;
        viewer_end(c, v);
    }
    uv_thread_join(&c->thread);
    cam_unlink(c->l, c);
    uv_close((uv_handle_t *)&c->async, cam_closed);
}

/* The reader of camera id, started when none runs. NULL when out of memory. */
static live_cam *cam_get(media_live *l, const char *id, const char *url)
{
    for (live_cam *c = l->cams; c; c = c->next)
        if (!strcmp(c->id, id) && !atomic_load(&c->stop))
            return c;
    live_cam *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->l = l;
    snprintf(c->id, sizeof c->id, "%s", id);
    snprintf(c->url, sizeof c->url, "%s", url);
    atomic_init(&c->stop, false);
    uv_mutex_init(&c->mu);
    uv_async_init(l->loop, &c->async, cam_wake);
    c->async.data = c;
    l->ncams++;
    if (uv_thread_create(&c->thread, cam_reader, c)) {
        uv_close((uv_handle_t *)&c->async, cam_closed);
        return NULL;
    }
    c->next = l->cams;
    l->cams = c;
    return c;
}

void media_live_join(media_live *l, const http_request *req, http_response *res, const char *id,
                     const char *url)
{
    live_cam *c = NULL;
    for (live_cam *x = l->cams; x; x = x->next)
        if (!strcmp(x->id, id) && !atomic_load(&x->stop))
            c = x;
    if (l->nviewers >= LIVE_VIEWERS_PER_NODE || (c && c->nviewers >= LIVE_VIEWERS_PER_CAMERA)) {
        http_respond_code(res, 503, "camera.busy",
                          "%s: at most %d viewers per camera and %d per node watch live; retry "
                          "later or use snapshot.jpg",
                          c && c->nviewers >= LIVE_VIEWERS_PER_CAMERA
                              ? "this camera has its viewers"
                              : "this node has its viewers",
                          LIVE_VIEWERS_PER_CAMERA, LIVE_VIEWERS_PER_NODE);
        return;
    }
    viewer *v = calloc(1, sizeof *v);
    if (v && !c)
        c = cam_get(l, id, url);
    if (!v || !c || !(v->pending = http_defer(req))) {
        free(v);
        http_respond_error(res, 503, "the node is out of memory; retry later");
        return;
    }
    v->next = c->viewers;
    c->viewers = v;
    c->nviewers++;
    l->nviewers++;
}

void media_live_stop(media_live *l)
{
    if (!l)
        return;
    l->stopping = true;
    for (live_cam *c = l->cams; c; c = c->next)
        atomic_store(&c->stop, true);
    if (!l->ncams)
        free(l);
}
