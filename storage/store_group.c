/*
 * store_group.c - group commit: the writes that threads start while a
 * write transaction is being committed share the next one (the model is
 * Tarantool's WAL writer, which batches the requests that queue while it
 * writes).
 *
 * A writer queues its item and, when no commit is in flight, becomes the
 * leader: it takes the whole queue (up to GROUP_MAX items), runs them in
 * one transaction with store_txn_run (each in a nested transaction, so a
 * failing item is undone alone), commits with one fsync and wakes the
 * others with their outcomes. Writers that arrived meanwhile queue up;
 * the first of them to wake after the commit leads the next group. No
 * item returns before the transaction holding it is durable. The queue
 * lives in the caller's stack frames: an item is linked in until its
 * leader unlinks it.
 */
#include "storage/store_internal.h"

#define GROUP_MAX 256

/* Takes up to GROUP_MAX queued requests off s's queue (under its mutex);
 * fills items and reqs and returns how many. */
static size_t group_take(store *s, store_txn_item *items, struct store_group_req **reqs)
{
    size_t n = 0;
    while (s->group_head && n < GROUP_MAX) {
        struct store_group_req *r = s->group_head;
        s->group_head = r->next;
        reqs[n] = r;
        items[n++] = *r->item;
    }
    if (!s->group_head)
        s->group_tail = NULL;
    return n;
}

/* Leads one group: runs the queue's head in one transaction and hands
 * each request its outcome. Called and returns with s->group_mutex held. */
static void group_lead(store *s)
{
    store_txn_item items[GROUP_MAX];
    struct store_group_req *reqs[GROUP_MAX];
    s->group_busy = true;
    size_t n = group_take(s, items, reqs);
    pthread_mutex_unlock(&s->group_mutex);
    store_txn_run(s, items, n);
    pthread_mutex_lock(&s->group_mutex);
    for (size_t i = 0; i < n; i++) {
        reqs[i]->item->rc = items[i].rc;
        reqs[i]->done = true;
    }
    s->group_busy = false;
    pthread_cond_broadcast(&s->group_done);
}

void store_group_submit(store *s, store_txn_item *item)
{
    struct store_group_req req = {item, false, NULL};
    pthread_mutex_lock(&s->group_mutex);
    if (s->group_tail)
        s->group_tail->next = &req;
    else
        s->group_head = &req;
    s->group_tail = &req;
    while (!req.done) {
        if (!s->group_busy)
            group_lead(s);
        else
            pthread_cond_wait(&s->group_done, &s->group_mutex);
    }
    pthread_mutex_unlock(&s->group_mutex);
}

int store_group_init(store *s)
{
    if (pthread_mutex_init(&s->group_mutex, NULL))
        return -1;
    if (pthread_cond_init(&s->group_done, NULL)) {
        pthread_mutex_destroy(&s->group_mutex);
        return -1;
    }
    s->group_ready = true;
    return 0;
}

void store_group_destroy(store *s)
{
    if (!s->group_ready)
        return;
    pthread_cond_destroy(&s->group_done);
    pthread_mutex_destroy(&s->group_mutex);
    s->group_ready = false;
}
