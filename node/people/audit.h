/*
 * audit.h - the audit log: who did what, where, when.
 *
 * Every state-changing HTTP request (POST, PUT, PATCH, DELETE) answered for
 * a known caller (a logged-in user, a token, or a login attempt) and every
 * account or token change made with the CLI becomes one entry of collection
 * "audit", authored and signed by the node, with body {"user", "unit",
 * "role", "action", "method", "path", "status", "remote", "at"} (plus
 * "target" for account changes). Its "to" is empty, so it replicates
 * upward only: every ancestor's node holds it, and an admin there sees it
 * through GET /api/v1/audit under the visibility rule (node/people/access.h).
 * Requests refused before any credential was found (401) and locked-out
 * logins (429) are only logged by the node, so that they cannot flood the
 * replicated log.
 */
#ifndef LT_AUDIT_H
#define LT_AUDIT_H

#include "node/env/env.h"
#include "node/http/http.h"

typedef struct {
    const char *user, *unit, *role; /* the actor */
    const char *action;             /* e.g. "login", "user.add" */
    const char *method, *path;      /* "CLI" and the command for the CLI */
    const char *remote;             /* client address, or "local" */
    const char *target;             /* the account changed, or NULL */
    int status;                     /* HTTP status; 0 for the CLI */
} audit_event;

/* Writes ev as a new "audit" entry of this node (id "<ms>-<random hex>").
 * Returns 0, or -1 with err. */
int audit_write(store *s, const node_config *c, const audit_event *ev, char *err, size_t errlen);

/* Writes the audit entries of HTTP answers off the loop: the entries of
 * the answers that arrive while a batch is being written form the next
 * batch, one store_write_local on the thread pool (which joins the
 * store's group commit), and each answer is held (http_hold_answer) until
 * its entry is durable, so an answer never goes out before its audit
 * entry. Loop thread only; the loop's last run finishes what is queued. */
typedef struct audit_item audit_item;
typedef struct {
    node_env *env;
    uv_loop_t *loop;
    uv_work_t work;
    bool busy;                /* a batch is on the thread pool */
    audit_item *queue, *tail; /* waiting for the next batch, oldest first */
    audit_item *batch;        /* the batch on the pool */
    int rc;                   /* its store_write_local result */
    char err[256];
} audit_writer;

/* Readies w (no allocation; nothing to free once the loop ran dry). */
void audit_writer_init(audit_writer *w, node_env *env, uv_loop_t *loop);

/* The HTTP observer (ctx: an audit_writer): audits the requests described
 * above through it; an answer that cannot be held waits for its entry's
 * write on the loop, as a last resort. */
void audit_observe(void *ctx, const http_request *req, const http_response *res);

/* GET /api/v1/audit?limit=N&user=NAME (ctx: the node_env; admin only):
 * the newest N (default 100, at most 1000) audit records the caller may
 * see, newest first. */
void audit_api_list(void *ctx, const http_request *req, http_response *res);

#endif
