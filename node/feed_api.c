/*
 * feed_api.c - the analytics feed. See feed_api.h.
 *
 * A feed is a deferred answer turned into a stream: a piece of at most
 * FEED_PIECE lines is read and formatted on the thread pool, queued on the
 * stream on the loop, and the next piece starts; when the client reads
 * slowly (the queue is full) the piece waits on a timer and is queued
 * again, so memory stays bounded by the queue and one piece.
 */
#include "node/feed_api.h"
#include "lib/hex.h"
#include "lib/mpjson.h"
#include "node/env/env.h"
#include "node/people/auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FEED_PIECE 500
#define FEED_QUEUE ((size_t)4 << 20)
#define FEED_RETRY_MS 10

typedef struct {
    node_env *env;
    http_pending *pending; /* until the first piece turns it into stream */
    http_stream *stream;
    uv_work_t work;
    uv_timer_t retry;
    uint64_t pos;  /* cursor of the last line formatted */
    uint64_t left; /* lines still allowed */
    char *piece;   /* formatted lines waiting to be queued */
    size_t piece_len, piece_lines;
    bool failed; /* the store could not be read */
} feed;

/* One entry as one JSON line appended to f. */
static void feed_line(FILE *f, uint64_t pos, const entry_view *e)
{
    char origin[65], cursor[24];
    snprintf(cursor, sizeof cursor, "%llu", (unsigned long long)pos);
    msgpack_object body = {.type = MSGPACK_OBJECT_MAP, .via.map = e->body};
    json_t *rec = mpjson_to_json(&body, NULL, 0);
    json_t *j = json_pack("{s:s, s:s%, s:s%, s:s%, s:s, s:o, s:s, s:I, s:I}", "cursor", cursor,
                          "collection", e->coll.ptr, (size_t)e->coll.size, "id", e->id.ptr,
                          (size_t)e->id.size, "unit", e->unit.ptr, (size_t)e->unit.size, "op",
                          entry_op_name(e->op), "record", rec ? rec : json_null(), "origin",
                          hex_encode(e->origin, 32, origin), "seq", (json_int_t)e->seq, "hlc",
                          (json_int_t)e->hlc);
    if (j && json_dumpf(j, f, JSON_COMPACT) == 0)
        fputc('\n', f);
    json_decref(j);
}

typedef struct {
    feed *fd;
    FILE *f;
} piece_ctx;

static int piece_entry(void *ctx, uint64_t pos, const uint8_t *bytes, size_t len)
{
    piece_ctx *pc = ctx;
    entry_view e;
    if (entry_decode(bytes, len, &e, NULL, 0) == 0) {
        feed_line(pc->f, pos, &e);
        entry_view_free(&e);
    }
    pc->fd->pos = pos;
    pc->fd->piece_lines++;
    return pc->fd->piece_lines >= FEED_PIECE || pc->fd->piece_lines >= pc->fd->left;
}

static void piece_work(uv_work_t *w)
{
    feed *fd = w->data;
    piece_ctx pc = {fd, open_memstream(&fd->piece, &fd->piece_len)};
    fd->piece_lines = 0;
    if (!pc.f) {
        fd->failed = true;
        return;
    }
    fd->failed = store_arrivals(fd->env->store, fd->pos, piece_entry, &pc) < 0;
    fclose(pc.f);
}

static void feed_free(uv_handle_t *h)
{
    feed *fd = h->data;
    free(fd->piece);
    free(fd);
}

/* Ends the answer: the stream (or, before any piece, an error). */
static void feed_end(feed *fd)
{
    if (fd->stream)
        http_stream_end(fd->stream);
    else if (fd->pending) {
        http_respond_error(http_pending_response(fd->pending), 500,
                           "cannot read the store of %s; check the node's log and run "
                           "lienthong verify",
                           fd->env->config->dir);
        http_pending_finish(fd->pending);
    }
    uv_close((uv_handle_t *)&fd->retry, feed_free);
}

static void piece_done(uv_work_t *w, int status);
static void retry_fire(uv_timer_t *t);

/* Queues the formatted piece; starts the next one, waits for a slow
 * reader, or ends. */
static void piece_push(feed *fd)
{
    if (!fd->stream) {
        fd->stream = http_pending_stream(fd->pending, "application/x-ndjson", FEED_QUEUE);
        fd->pending = NULL;
    }
    int rc = fd->stream && fd->piece_len ? http_stream_write(fd->stream, fd->piece, fd->piece_len)
             : fd->stream                ? 0
                                         : -1;
    if (rc == 1) {
        uv_timer_start(&fd->retry, retry_fire, FEED_RETRY_MS, 0);
        return;
    }
    free(fd->piece);
    fd->piece = NULL;
    fd->piece_len = 0;
    fd->left -= fd->piece_lines < fd->left ? fd->piece_lines : fd->left;
    if (rc < 0 || !fd->left || fd->piece_lines < FEED_PIECE ||
        uv_queue_work(fd->env->loop, &fd->work, piece_work, piece_done))
        feed_end(fd);
}

static void retry_fire(uv_timer_t *t)
{
    piece_push(t->data);
}

static void piece_done(uv_work_t *w, int status)
{
    feed *fd = w->data;
    if (status || fd->failed) {
        free(fd->piece);
        fd->piece = NULL;
        feed_end(fd);
        return;
    }
    piece_push(fd);
}

/* A whole decimal number of at most 19 digits into *v; false if not. */
static bool parse_count(const char *s, uint64_t *v)
{
    size_t n = strspn(s, "0123456789");
    if (!n || s[n] || n > 19)
        return false;
    *v = strtoull(s, NULL, 10);
    return true;
}

void feed_api_get(void *ctx, const http_request *req, http_response *res)
{
    node_env *env = ctx;
    if (!http_path_exact(req, res, "/api/v1/feed", NULL) ||
        auth_require_node_admin(env->auth, req, res, NULL))
        return;
    const char *since = http_request_query_param(req, "since");
    const char *limit = http_request_query_param(req, "limit");
    uint64_t pos = 0, left = FEED_LIMIT;
    if (since && *since && !parse_count(since, &pos)) {
        http_respond_code(res, 400, "feed.cursor",
                          "since=\"%s\" is not a feed cursor: give the \"cursor\" of the last "
                          "line you read, or leave it out to start from the beginning",
                          since);
        return;
    }
    if (limit && (!parse_count(limit, &left) || left < 1 || left > FEED_LIMIT_MAX)) {
        http_respond_code(res, 400, "feed.limit", "limit must be a whole number from 1 to %d",
                          FEED_LIMIT_MAX);
        return;
    }
    feed *fd = calloc(1, sizeof *fd);
    http_pending *p = fd ? http_defer(req) : NULL;
    if (!p) {
        free(fd);
        http_respond_error(res, 503, "the node is out of memory; retry later");
        return;
    }
    *fd = (feed){.env = env, .pending = p, .pos = pos, .left = left};
    fd->work.data = fd;
    uv_timer_init(env->loop, &fd->retry);
    fd->retry.data = fd;
    if (uv_queue_work(env->loop, &fd->work, piece_work, piece_done))
        feed_end(fd);
}
