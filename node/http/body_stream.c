/*
 * body_stream.c - see body_stream.h. The queue is the one thing the loop
 * and the pool share (under mu); the consumer's state and the answer are
 * the pool job's while it runs (busy) and the loop's otherwise.
 */
#include "node/http/body_stream.h"

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

typedef struct piece {
    struct piece *next;
    size_t len;
    uint8_t data[];
} piece;

struct body_stream {
    uv_loop_t *loop;
    struct lws *wsi; /* NULL once cancelled */
    const http_body_consumer *c;
    void *state;
    http_pending *p; /* NULL once answered */
    uv_work_t work;
    uv_mutex_t mu;
    piece *head, *tail; /* under mu */
    size_t queued;      /* under mu */
    bool ended;         /* under mu: the whole body is queued */
    bool busy;          /* a job is on the pool */
    bool paused;        /* the connection's reading is paused */
    bool failed;        /* write() refused (the job's, then the loop's) */
    bool finished;      /* finish() answered (likewise) */
    bool cancelled;
    uint64_t length, drain_max, pushed; /* the body's bytes; pushed: so far */
};

body_stream *body_stream_new(uv_loop_t *loop, struct lws *wsi, const http_body_consumer *c,
                             void *state, http_pending *p, uint64_t length, uint64_t drain_max)
{
    body_stream *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    *b = (body_stream){.loop = loop,
                       .wsi = wsi,
                       .c = c,
                       .state = state,
                       .p = p,
                       .length = length,
                       .drain_max = drain_max};
    if (uv_mutex_init(&b->mu)) {
        free(b);
        return NULL;
    }
    b->work.data = b;
    return b;
}

/* The next piece of the queue (taken off it), or NULL; *end tells whether
 * the body is complete. */
static piece *queue_pop(body_stream *b, bool *end)
{
    uv_mutex_lock(&b->mu);
    piece *pc = b->head;
    if (pc && !(b->head = pc->next))
        b->tail = NULL;
    *end = b->ended;
    uv_mutex_unlock(&b->mu);
    return pc;
}

/* Pool: hands the queued pieces to the consumer, then finish() once the
 * body is complete. */
static void stream_work(uv_work_t *w)
{
    body_stream *b = w->data;
    http_response *res = http_pending_response(b->p);
    bool end;
    piece *pc;
    while ((pc = queue_pop(b, &end))) {
        if (!b->failed && b->c->write(b->state, pc->data, pc->len, res))
            b->failed = true;
        uv_mutex_lock(&b->mu);
        b->queued -= pc->len;
        uv_mutex_unlock(&b->mu);
        free(pc);
    }
    if (end && !b->failed && !b->finished) {
        b->c->finish(b->state, res);
        b->finished = true;
    }
}

static void stream_free(body_stream *b)
{
    piece *pc;
    bool end;
    while ((pc = queue_pop(b, &end)))
        free(pc);
    if (b->p)
        http_pending_finish(b->p); /* the client is gone: only frees it */
    b->c->close(b->state);
    uv_mutex_destroy(&b->mu);
    free(b);
}

static void stream_after(uv_work_t *w, int status);

/* Starts a job when there is work and none runs. */
static void stream_kick(body_stream *b)
{
    if (b->busy || !b->p)
        return;
    uv_mutex_lock(&b->mu);
    bool work = b->head || (b->ended && !b->failed && !b->finished);
    uv_mutex_unlock(&b->mu);
    if (!work)
        return;
    b->busy = true;
    if (uv_queue_work(b->loop, &b->work, stream_work, stream_after)) {
        b->busy = false;
        b->failed = true;
        http_respond_error(http_pending_response(b->p), 503,
                           "the node could not start working on this upload; retry");
        http_pending_finish(b->p);
        b->p = NULL;
    }
}

static void stream_after(uv_work_t *w, int status)
{
    body_stream *b = w->data;
    b->busy = false;
    if (b->cancelled) {
        stream_free(b);
        return;
    }
    if (status && b->p) {
        b->failed = true;
        http_respond_error(http_pending_response(b->p), 503,
                           "the node stopped before finishing this upload; retry");
    }
    uv_mutex_lock(&b->mu);
    bool low = b->queued < HTTP_STREAM_QUEUE / 2, ended = b->ended;
    uv_mutex_unlock(&b->mu);
    if (b->paused && (low || b->failed || b->finished)) {
        b->paused = false; /* lws writes no answer to a connection it does not read */
        lws_rx_flow_control(b->wsi, 1);
    }
    if (b->p && (b->finished || (b->failed && (ended || b->length - b->pushed > b->drain_max)))) {
        http_pending_finish(b->p);
        b->p = NULL;
        return; /* the answer goes out; the connection closes after it */
    }
    stream_kick(b);
}

int body_stream_push(body_stream *b, const void *data, size_t len)
{
    b->pushed += len;
    if (!b->p || !len || (!b->busy && b->failed)) /* refused: the rest is dropped */
        return 0;
    piece *pc = malloc(sizeof *pc + len);
    if (!pc)
        return -1;
    pc->next = NULL;
    pc->len = len;
    memcpy(pc->data, data, len);
    uv_mutex_lock(&b->mu);
    if (b->tail)
        b->tail->next = pc;
    else
        b->head = pc;
    b->tail = pc;
    b->queued += len;
    bool full = b->queued >= HTTP_STREAM_QUEUE;
    uv_mutex_unlock(&b->mu);
    if (full && !b->paused) {
        b->paused = true;
        lws_rx_flow_control(b->wsi, 0);
    }
    stream_kick(b);
    return 0;
}

void body_stream_end(body_stream *b)
{
    uv_mutex_lock(&b->mu);
    b->ended = true;
    uv_mutex_unlock(&b->mu);
    if (!b->busy && b->failed && b->p) { /* a refusal waited for the rest of the body */
        http_pending_finish(b->p);
        b->p = NULL;
        return;
    }
    stream_kick(b);
}

void body_stream_cancel(body_stream *b)
{
    b->cancelled = true;
    b->wsi = NULL;
    if (!b->busy)
        stream_free(b);
}
