/*
 * doc_deliver_env.c - runs documents_deliver (doc_deliver.c) on the thread
 * pool when new entries have arrived, one run at a time.
 */
#include "documents/documents_env.h"
#include "lib/log.h"

static void deliver_work(uv_work_t *w)
{
    documents_env *e = w->data;
    lt_error err = {0};
    size_t written = 0;
    unit_tree *t = unit_tree_new();
    if (!t || unit_tree_load(t, e->node->store))
        lt_error_set(&err, LT_ESTORAGE, NULL, "cannot read the unit tree");
    else if (!documents_deliver(e->docs, t, &written, &err) && written)
        log_write(LOG_INFO, "document.delivered", "receipts=%zu", written);
    if (err.message[0])
        log_write(LOG_WARN, "document.deliver", "error=\"%s\"", err.message);
    unit_tree_free(t);
}

static void deliver_done(uv_work_t *w, int status)
{
    (void)status;
    documents_env *e = w->data;
    e->delivering = false;
}

static void deliver_tick(uv_timer_t *t)
{
    documents_env *e = t->data;
    uint64_t now = store_arrival_last(e->node->store);
    if (e->delivering || now == e->deliver_seen)
        return;
    e->deliver_seen = now;
    e->deliver_work.data = e;
    e->delivering = !uv_queue_work(e->node->loop, &e->deliver_work, deliver_work, deliver_done);
}

void documents_env_start(documents_env *e)
{
    if (!e || e->started)
        return;
    uv_timer_init(e->node->loop, &e->deliver_timer);
    e->deliver_timer.data = e;
    uv_timer_start(&e->deliver_timer, deliver_tick, DOCUMENTS_DELIVER_MS, DOCUMENTS_DELIVER_MS);
    e->started = true;
}

void documents_env_stop(documents_env *e)
{
    if (!e || !e->started)
        return;
    uv_close((uv_handle_t *)&e->deliver_timer, NULL);
    e->started = false;
}
