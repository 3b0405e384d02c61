/*
 * clip.c - streamed clips (clip.h).
 *
 * The thread (clip_thread) writes the muxer's bytes into job->q under mu,
 * waiting on cond while the queue holds CLIP_QUEUE_MAX; each write wakes
 * the loop (async). The loop (clip_wake) turns the deferred answer into a
 * stream at the first byte, moves the queue into it while the stream takes
 * it (http_stream_write 0), and is woken again by the stream's drain hook
 * when the client has read it. A client that leaves sets abort, which the
 * thread sees at its next write; the job ends when the thread ended and
 * the queue is out.
 */
#include "media/clip.h"
#include "lib/log.h"
#include "media/media.h"
#include "media/recorder.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uv_loop_t *loop;
    store *s;
    char id[CAMERA_ID_MAX];
    uint64_t from, to;
    unsigned *running;
    uv_thread_t thread;
    uv_async_t async;
    uv_mutex_t mu;
    uv_cond_t cond;
    uint8_t *q; /* under mu: bytes not yet in the answer */
    size_t qlen;
    bool done, abort; /* under mu: the thread ended; stop writing */
    lt_error err;     /* the thread's error, read after done */
    bool failed, started;
    http_pending *pending; /* until the first byte */
    http_stream *stream;   /* after it */
} clip_job;

/* The thread: one piece of the MP4 into the queue, waiting for room. */
static int clip_put(void *ctx, const uint8_t *data, size_t len)
{
    clip_job *j = ctx;
    uv_mutex_lock(&j->mu);
    while (!j->abort && j->qlen && j->qlen + len > CLIP_QUEUE_MAX)
        uv_cond_wait(&j->cond, &j->mu);
    uint8_t *nq = j->abort ? NULL : realloc(j->q, j->qlen + len);
    if (nq) {
        memcpy(nq + j->qlen, data, len);
        j->q = nq;
        j->qlen += len;
    }
    uv_mutex_unlock(&j->mu);
    uv_async_send(&j->async);
    return nq ? 0 : -1;
}

static void clip_thread(void *arg)
{
    clip_job *j = arg;
    clip_writer w = {clip_put, j};
    lt_error e = {0};
    bool failed = recordings_clip(j->s, j->id, j->from, j->to, &w, &e) != 0;
    uv_mutex_lock(&j->mu);
    j->err = e;
    j->failed = failed;
    j->done = true;
    uv_mutex_unlock(&j->mu);
    uv_async_send(&j->async);
}

static void clip_closed(uv_handle_t *h)
{
    clip_job *j = h->data;
    uv_mutex_destroy(&j->mu);
    uv_cond_destroy(&j->cond);
    free(j->q);
    (*j->running)--;
    free(j);
}

static void clip_drained(void *ctx)
{
    clip_job *j = ctx;
    uv_async_send(&j->async);
}

/* Loop: moves the queue into the answer while it takes it. Returns false
 * when the client left. */
static bool clip_move(clip_job *j)
{
    if (!j->stream && j->qlen) {
        /* room for a whole queue (CLIP_QUEUE_MAX and one piece) when empty */
        j->stream = http_pending_stream(j->pending, "video/mp4", 2 * CLIP_QUEUE_MAX);
        j->pending = NULL;
        if (!j->stream)
            return false;
        http_stream_on_drain(j->stream, clip_drained, j);
    }
    if (!j->qlen)
        return true;
    int rc = http_stream_write(j->stream, j->q, j->qlen);
    if (rc < 0)
        return false;
    if (rc == 0)
        j->qlen = 0; /* else: the stream is full, its drain wakes us */
    return true;
}

/* Loop: the job's end, the thread having ended and the queue being out. */
static void clip_end(clip_job *j)
{
    if (j->started)
        uv_thread_join(&j->thread);
    if (j->pending) { /* nothing was sent: an ordinary answer */
        http_response *res = http_pending_response(j->pending);
        if (j->failed)
            http_respond_lt(res, &j->err);
        else
            http_respond_error(res, 500, "the clip came out empty; check the node's log");
        http_pending_finish(j->pending);
    } else if (j->stream) {
        if (j->failed)
            log_write(LOG_WARN, "camera.clip", "id=%s msg=\"clip cut short: %s\"", j->id,
                      j->err.message);
        http_stream_on_drain(j->stream, NULL, NULL);
        http_stream_end(j->stream);
    }
    uv_close((uv_handle_t *)&j->async, clip_closed);
}

static void clip_wake(uv_async_t *a)
{
    clip_job *j = a->data;
    uv_mutex_lock(&j->mu);
    bool ok = clip_move(j);
    if (!ok)
        j->abort = true;
    bool done = j->done && (!j->qlen || j->abort);
    uv_cond_signal(&j->cond);
    uv_mutex_unlock(&j->mu);
    if (done)
        clip_end(j);
}

void media_clip_serve(uv_loop_t *loop, store *s, const http_request *req, http_response *res,
                      const char *id, uint64_t from_ms, uint64_t to_ms, unsigned *running)
{
    if (*running >= CLIP_STREAMS_MAX) {
        http_respond_code(res, 503, "camera.busy",
                          "%d clips are being sent by this node; retry in a minute",
                          CLIP_STREAMS_MAX);
        return;
    }
    clip_job *j = calloc(1, sizeof *j);
    if (!j || !(j->pending = http_defer(req))) {
        free(j);
        http_respond_error(res, 503, "the node is out of memory; retry later");
        return;
    }
    j->loop = loop;
    j->s = s;
    snprintf(j->id, sizeof j->id, "%s", id);
    j->from = from_ms;
    j->to = to_ms;
    j->running = running;
    uv_mutex_init(&j->mu);
    uv_cond_init(&j->cond);
    uv_async_init(loop, &j->async, clip_wake);
    j->async.data = j;
    (*running)++;
    j->started = !uv_thread_create(&j->thread, clip_thread, j);
    if (!j->started) {
        j->failed = true;
        lt_error_set(&j->err, LT_EINTERNAL, NULL, "cannot start the clip's thread; retry later");
        j->done = true;
        uv_async_send(&j->async);
    }
}
