/*
 * offload.h - a request's bulk work on the uv thread pool, its answer from
 * the loop.
 *
 * The rule of the node: never block the loop. A handler whose work is slow
 * (creating a report with photos: parsing up to 26.9 MiB of JSON or
 * multipart, base64, image checks, hashing, signing and writing hundreds of
 * chunk entries; a login's or an account change's Argon2 hash; an
 * enrolment decision's log scan) hands it to offload_request(), the one
 * place the HTTP handlers queue work on the pool:
 * the body is moved out of the request (the session would free it if the
 * client left), the answer is deferred (http_defer), work() runs on a pool
 * thread and fills in the response, then done() runs on the loop for what
 * only the loop may touch (rate limits, the audit's caller) and the answer
 * is sent. The handler does its cheap loop-only checks (login, rate limit)
 * before calling.
 */
#ifndef LT_OFFLOAD_H
#define LT_OFFLOAD_H

#include "node/http/http.h"

#include <stdbool.h>
#include <uv.h>

typedef struct {
    uv_loop_t *loop;
    void *job; /* the handler's; done() frees it */
    /* On a pool thread: answers into res (http_respond_* and
     * http_response_header only allocate). body (body_len bytes,
     * NUL-terminated) is the request's, valid during the call. Must not
     * touch loop-only state (auth, rate limits, uv handles). */
    void (*work)(void *job, const uint8_t *body, size_t body_len, http_response *res);
    /* On the loop, always exactly once: after work() (ran true) or
     * instead of it (ran false: res holds a 503 already). p is the
     * deferred answer (for http_pending_set_data), NULL when the answer
     * could not be deferred. Must free job; must not finish p. */
    void (*done)(void *job, http_response *res, http_pending *p, bool ran);
} offload_task;

/* Runs t for req from a handler (see above); the handler then returns
 * without touching res. Out of memory or a pool that refuses the work:
 * 503 with a message to retry, and done() with ran false. */
void offload_request(const http_request *req, http_response *res, const offload_task *t);

/* Requests handed to the thread pool and not yet answered: queued or
 * running (the pool's queue as the HTTP side sees it). Any thread. */
size_t offload_in_flight(void);

#endif
