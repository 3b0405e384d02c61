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

/* The HTTP observer (ctx: the node_env): audits the requests described
 * above. */
void audit_observe(void *ctx, const http_request *req, const http_response *res);

/* GET /api/v1/audit?limit=N&user=NAME (ctx: the node_env; admin only):
 * the newest N (default 100, at most 1000) audit records the caller may
 * see, newest first. */
void audit_api_list(void *ctx, const http_request *req, http_response *res);

#endif
