/*
 * body_stream.h - a request body on its way to an http_body_consumer
 * (http.h): the pieces the loop receives wait in a queue of at most
 * HTTP_STREAM_QUEUE bytes (reading pauses while it is full) and one job at
 * a time on the uv thread pool hands them to the consumer in order. Used
 * by http.c only; loop thread unless said otherwise.
 */
#ifndef LT_BODY_STREAM_H
#define LT_BODY_STREAM_H

#include "node/http/http.h"

struct lws;

typedef struct body_stream body_stream;

/* A stream of the body of connection wsi (length bytes) to consumer c
 * (its state from open()), answering through p (consumed: finished by the
 * stream). A refusal is answered once the body is in when at most
 * drain_max bytes of it are left (read and dropped, so the client reads
 * the answer rather than a reset), else at once. NULL when out of memory
 * (p is then still the caller's). */
body_stream *body_stream_new(uv_loop_t *loop, struct lws *wsi, const http_body_consumer *c,
                             void *state, http_pending *p, uint64_t length, uint64_t drain_max);

/* Queues len bytes (copied) for the consumer, pausing the connection's
 * reading while the queue is full. Bytes after a refusal are dropped.
 * Returns 0, or -1 when out of memory. */
int body_stream_push(body_stream *b, const void *data, size_t len);

/* The body is complete: once the queue is written, finish() answers. */
void body_stream_end(body_stream *b);

/* The connection is gone (or the request was refused meanwhile): no more
 * calls to the consumer but close(); the answer is dropped. Frees b, at
 * once or when its job returns. */
void body_stream_cancel(body_stream *b);

#endif
