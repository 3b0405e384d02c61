/*
 * auth.h - who is calling the HTTP API: login sessions (cookie lt_session,
 * HttpOnly, SameSite=Strict, Path=/), CSRF protection, API tokens
 * (Authorization: Bearer TOKEN), roles, and login rate limits. Every
 * handler that needs a user calls auth_require(); see docs/security.md.
 *
 * Login (POST /api/v1/login) hashes on the uv thread pool (Argon2id, about
 * 0.1 s), never on the loop. Rate limits, counted in the node's memory:
 * AUTH_ACCOUNT_FAILURES failures of one account, or AUTH_ADDRESS_FAILURES
 * from one client address, within AUTH_WINDOW_MS lock that account or
 * address for AUTH_LOCK_MS, doubling with every further failure up to
 * AUTH_LOCK_MAX_MS; locked attempts get 429 with Retry-After and cost no
 * hashing. Unknown accounts cost the same hashing as wrong passwords.
 */
#ifndef LT_AUTH_H
#define LT_AUTH_H

#include "node/people/accounts.h"
#include "node/http/http.h"
#include "replication/unit_tree.h"

#include <uv.h>

#define AUTH_ACCOUNT_FAILURES 5
#define AUTH_ADDRESS_FAILURES 20
#define AUTH_WINDOW_MS (15ull * 60 * 1000)
#define AUTH_LOCK_MS (60ull * 1000)
#define AUTH_LOCK_MAX_MS (60ull * 60 * 1000)
#define AUTH_COOKIE "lt_session"

typedef struct auth auth;

/* The caller of a request. */
typedef struct {
    char user[ACCOUNT_NAME_MAX + 1];
    char unit[NODE_CODE_MAX];
    account_role role; /* ROLE_NONE: not authenticated (a failed login) */
    bool via_token;
} auth_caller;

/* The node's authentication state on loop. NULL when out of memory. */
auth *auth_new(uv_loop_t *loop, const node_config *c, store *s);

/* Frees a. Call once the loop has run dry (no login still hashing). */
void auth_free(auth *a);

/* Authenticates req: 0 with *out (also attached to the request, see
 * auth_request_caller) when it carries a live session cookie or API token
 * of an enabled account with at least role min, and, for a cookie on any
 * method but GET and HEAD, an X-CSRF-Token header equal to the session's
 * token and no Origin header other than the request's own host. Otherwise
 * -1 with res set: 401 without a live credential, 403 for a role below min
 * or a failed CSRF check. */
int auth_require(auth *a, const http_request *req, http_response *res, account_role min,
                 auth_caller *out);

/* The caller of a live session whose cookie is in cookie_header (a
 * Cookie header's value; NULL allowed), for WebSocket upgrades: 0 with
 * *out, 1 without a live session of an enabled account, -1 on a storage
 * error. */
int auth_session_caller(auth *a, const char *cookie_header, auth_caller *out);

/* The enabled account whose API token is token (e.g. an Open311 api_key)
 * into *out, also attached to req like auth_require's. Returns 0, 1 when
 * the token is not a live one of an enabled account, -1 on a storage
 * error. The caller checks the role. */
int auth_token_caller(auth *a, const http_request *req, const char *token, auth_caller *out);

/* auth_token_caller without attaching: reads only the store, so it may run
 * on a uv pool thread (a deferred Open311 POST, whose api_key is in the
 * body). Attach the caller afterwards with auth_pending_caller. */
int auth_token_check(auth *a, const char *token, auth_caller *out);

/* Whether req carries a live session cookie or API token of an enabled
 * account (no role or CSRF check; nothing attached): the http_trust_fn of
 * the node's HTTP server (ctx: the auth), whose body budget gives such
 * requests more room than anonymous ones. Reads the store; loop thread. */
bool auth_request_known(void *ctx, const http_request *req);

/* Attaches a copy of c to the deferred request p (loop thread), as
 * auth_token_caller does for a request still in its handler. */
void auth_pending_caller(http_pending *p, const auth_caller *c);

/* The caller attached to req (by auth_require, or by a login attempt, with
 * role ROLE_NONE when it failed), or NULL. */
const auth_caller *auth_request_caller(const http_request *req);

/* The unit tree of the node's store, reloaded when entries arrived (at most
 * once a second). */
const unit_tree *auth_tree(auth *a);

/* Handlers (ctx: the auth): POST /api/v1/login {"user", "password"} ->
 * {"user", "unit", "role", "csrf_token"} and the session cookie;
 * POST /api/v1/logout ends the session; GET /api/v1/me -> the caller. */
void auth_login(void *ctx, const http_request *req, http_response *res);
void auth_logout(void *ctx, const http_request *req, http_response *res);
void auth_me(void *ctx, const http_request *req, http_response *res);

#endif
