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
    link_sink *sink;       /* or: the node above, relaying */
    struct live_cam *cam;
    struct viewer *next;
} viewer;

typedef struct live_cam {
    media_live *l;
    char id[CAMERA_ID_MAX];
    char url[CAMERA_URL_MAX + 256];
    uv_thread_t thread;
    bool local;      /* a reader thread; else a feed from the link below */
    link_feed *feed; /* remote: NULL once ended */
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
    repl_links *links;
    live_cam *cams;
    size_t nviewers, ncams;
    bool stopping;
};

media_live *media_live_new(uv_loop_t *loop, repl_links *links)
{
    media_live *l = calloc(1, sizeof *l);
    if (l) {
        l->loop = loop;
        l->links = links;
    }
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
    if (v->sink)
        link_sink_end(v->sink, c->reason);
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
    if (v->sink)
        return link_sink_send(v->sink, jpeg, len) == 0;
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

/* Stops the source of c, which has no viewer left: a reader's thread
 * ends and its wake-up finishes c; a feed is closed (the nodes below stop)
 * and c finished here. */
static void cam_finish(live_cam *c);

static void cam_idle(live_cam *c)
{
    if (c->nviewers)
        return;
    atomic_store(&c->stop, true);
    if (c->local)
        return;
    link_feed_close(c->feed);
    c->feed = NULL;
    snprintf(c->reason, sizeof c->reason, "no viewer left");
    cam_finish(c);
}

/* Picture jpeg to every viewer of c; those gone are dropped. */
static void cam_deliver(live_cam *c, const uint8_t *jpeg, size_t len)
{
    for (viewer **pp = &c->viewers; *pp;) {
        viewer *v = *pp;
        if (!viewer_send(c, v, jpeg, len)) {
            *pp = v->next;
            viewer_end(c, v);
        } else {
            pp = &v->next;
        }
    }
}

/* The source of c ended (c->reason): every viewer is answered or ended, c
 * goes. */
static void cam_finish(live_cam *c)
{
    if (c->finished && !c->local)
        return;
    c->finished = true;
    while (c->viewers) {
        viewer *v = c->viewers;
        c->viewers = v->next;
        viewer_end(c, v);
    }
    if (c->local)
        uv_thread_join(&c->thread);
    log_write(LOG_INFO, "camera.live_stop", "id=%s reason=\"%s\"", c->id, c->reason);
    cam_unlink(c->l, c);
    uv_close((uv_handle_t *)&c->async, cam_closed);
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
    if (jpeg && !finished)
        cam_deliver(c, jpeg, len);
    free(jpeg);
    if (!c->nviewers)
        atomic_store(&c->stop, true);
    if (finished)
        cam_finish(c);
}

/* A picture relayed from the node below (loop thread). */
static void feed_frame(void *ctx, const uint8_t *data, size_t len)
{
    live_cam *c = ctx;
    cam_deliver(c, data, len);
    cam_idle(c);
}

static void feed_ended(void *ctx, const char *reason)
{
    live_cam *c = ctx;
    c->feed = NULL;
    snprintf(c->reason, sizeof c->reason, "%s", reason);
    cam_finish(c);
}

static const link_feed_ops feed_ops = {feed_frame, feed_ended};

/* Starts c's source: a reader thread on the owner, else a feed from the
 * link below. Returns 0, or -1 with why. */
static int cam_source(live_cam *c, const live_source *src, char *why, size_t cap)
{
    if (src->url) {
        c->local = true;
        snprintf(c->url, sizeof c->url, "%s", src->url);
        if (!uv_thread_create(&c->thread, cam_reader, c))
            return 0;
        c->local = false;
        snprintf(why, cap, "cannot start a reader thread; retry later");
        return -1;
    }
    c->feed = c->l->links ? repl_links_feed_open(c->l->links, src->path, src->npath, c->id,
                                                 &feed_ops, c, why, cap)
                          : NULL;
    if (!c->feed && !c->l->links)
        snprintf(why, cap, "this node does not replicate, so it cannot reach the owner");
    return c->feed ? 0 : -1;
}

/* The live camera of src->id, its source started when none runs. NULL
 * with why. */
static live_cam *cam_get(media_live *l, const live_source *src, char *why, size_t cap)
{
    for (live_cam *c = l->cams; c; c = c->next)
        if (!strcmp(c->id, src->id) && !atomic_load(&c->stop))
            return c;
    live_cam *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(why, cap, "the node is out of memory; retry later");
        return NULL;
    }
    c->l = l;
    snprintf(c->id, sizeof c->id, "%s", src->id);
    atomic_init(&c->stop, false);
    uv_mutex_init(&c->mu);
    uv_async_init(l->loop, &c->async, cam_wake);
    c->async.data = c;
    l->ncams++;
    if (cam_source(c, src, why, cap)) {
        uv_close((uv_handle_t *)&c->async, cam_closed);
        return NULL;
    }
    log_write(LOG_INFO, "camera.live_start", "id=%s source=%s%s", c->id,
              c->local ? "local" : "unit ", c->local ? "" : src->path[src->npath - 1]);
    c->next = l->cams;
    l->cams = c;
    return c;
}

/* A new viewer of src->id within the caps (v's kind set by the caller
 * after), or NULL with *busy (the caps) or why. */
static viewer *viewer_add(media_live *l, const live_source *src, bool *busy, char *why, size_t cap)
{
    live_cam *c = NULL;
    for (live_cam *x = l->cams; x; x = x->next)
        if (!strcmp(x->id, src->id) && !atomic_load(&x->stop))
            c = x;
    *busy = l->nviewers >= LIVE_VIEWERS_PER_NODE || (c && c->nviewers >= LIVE_VIEWERS_PER_CAMERA);
    if (*busy) {
        snprintf(why, cap,
                 "%s: at most %d viewers per camera and %d per node watch live; retry later or "
                 "use snapshot.jpg",
                 c && c->nviewers >= LIVE_VIEWERS_PER_CAMERA ? "this camera has its viewers"
                                                             : "this node has its viewers",
                 LIVE_VIEWERS_PER_CAMERA, LIVE_VIEWERS_PER_NODE);
        return NULL;
    }
    viewer *v = calloc(1, sizeof *v);
    if (!v) {
        snprintf(why, cap, "the node is out of memory; retry later");
        return NULL;
    }
    if (!c && !(c = cam_get(l, src, why, cap))) {
        free(v);
        return NULL;
    }
    v->cam = c;
    v->next = c->viewers;
    c->viewers = v;
    c->nviewers++;
    l->nviewers++;
    return v;
}

/* Removes v from its camera without answering it. */
static void viewer_drop(viewer *v)
{
    live_cam *c = v->cam;
    for (viewer **pp = &c->viewers; *pp; pp = &(*pp)->next)
        if (*pp == v) {
            *pp = v->next;
            break;
        }
    c->nviewers--;
    c->l->nviewers--;
    free(v);
    cam_idle(c);
}

void media_live_join(media_live *l, const http_request *req, http_response *res,
                     const live_source *src)
{
    char why[300];
    bool busy;
    viewer *v = viewer_add(l, src, &busy, why, sizeof why);
    if (v && !(v->pending = http_defer(req))) {
        viewer_drop(v);
        v = NULL;
        snprintf(why, sizeof why, "the node is out of memory; retry later");
    }
    if (!v)
        http_respond_code(res, busy ? 503 : 502, busy ? "camera.busy" : "camera.unreachable", "%s",
                          why);
}

void *media_live_sink_open(media_live *l, const live_source *src, link_sink *sink, char *why,
                           size_t cap)
{
    bool busy;
    viewer *v = viewer_add(l, src, &busy, why, cap);
    if (v)
        v->sink = sink;
    return v;
}

void media_live_sink_close(media_live *l, void *handle)
{
    (void)l;
    viewer_drop(handle);
}

void media_live_stop(media_live *l)
{
    if (!l)
        return;
    l->stopping = true;
    for (live_cam *c = l->cams, *next; c; c = next) {
        next = c->next;
        atomic_store(&c->stop, true);
        if (!c->local) { /* a feed: closed here */
            link_feed_close(c->feed);
            c->feed = NULL;
            snprintf(c->reason, sizeof c->reason, "the node is shutting down");
            cam_finish(c);
        }
    }
    if (!l->ncams)
        free(l);
}
