/*
 * offload.c - see offload.h.
 */
#include "node/http/offload.h"

#include <stdatomic.h>
#include <stdlib.h>

static atomic_size_t in_flight; /* queued or running */

size_t offload_in_flight(void)
{
    return atomic_load(&in_flight);
}

typedef struct {
    uv_work_t work;
    offload_task t;
    http_pending *p;
    uint8_t *body;
    size_t len;
} offload;

static void offload_work(uv_work_t *w)
{
    offload *o = w->data;
    o->t.work(o->t.job, o->body, o->len, http_pending_response(o->p));
}

static void offload_after(uv_work_t *w, int status)
{
    offload *o = w->data;
    http_response *res = http_pending_response(o->p);
    atomic_fetch_sub(&in_flight, 1);
    if (status)
        http_respond_error(res, 503, "the node stopped before finishing this request; retry");
    o->t.done(o->t.job, res, o->p, status == 0);
    http_pending_finish(o->p);
    free(o->body);
    free(o);
}

void offload_request(const http_request *req, http_response *res, const offload_task *t)
{
    offload *o = calloc(1, sizeof *o);
    if (!o || !(o->p = http_defer(req))) {
        http_respond_error(res, 503, "the node is out of memory; retry later");
        t->done(t->job, res, NULL, false);
        free(o);
        return;
    }
    o->t = *t;
    o->work.data = o;
    o->body = http_request_take_body(req, &o->len);
    atomic_fetch_add(&in_flight, 1);
    if (!o->body || uv_queue_work(t->loop, &o->work, offload_work, offload_after)) {
        atomic_fetch_sub(&in_flight, 1);
        http_response *pres = http_pending_response(o->p);
        http_respond_error(pres, 503, "the node could not start working on this request; retry");
        t->done(t->job, pres, o->p, false);
        http_pending_finish(o->p);
        free(o->body);
        free(o);
    }
}
