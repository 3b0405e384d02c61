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
 * writers of that group with their outcomes, then the first writer still
 * queued, which leads the next group. Each writer sleeps on its own
 * condition, so a commit wakes only the threads it concerns (a broadcast
 * woke every queued thread after every commit, most of them to sleep
 * again). No item returns before the transaction holding it is durable.
 * The queue lives in the caller's stack frames: an item is linked in
 * until its leader unlinks it.
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

/* Leads one group: runs the queue's head in one transaction, hands each
 * request its outcome and wakes its writer, then wakes the next leader.
 * Called and returns with s->group_mutex held. */
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
        pthread_cond_signal(&reqs[i]->wake);
    }
    s->group_busy = false;
    if (s->group_head)
        pthread_cond_signal(&s->group_head->wake);
}

void store_group_submit(store *s, store_txn_item *item)
{
    struct store_group_req req = {item, false, NULL, PTHREAD_COND_INITIALIZER};
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
            pthread_cond_wait(&req.wake, &s->group_mutex);
    }
    pthread_mutex_unlock(&s->group_mutex);
    pthread_cond_destroy(&req.wake);
}

int store_group_init(store *s)
{
    if (pthread_mutex_init(&s->group_mutex, NULL))
        return -1;
    s->group_ready = true;
    return 0;
}

void store_group_destroy(store *s)
{
    if (!s->group_ready)
        return;
    pthread_mutex_destroy(&s->group_mutex);
    s->group_ready = false;
}
