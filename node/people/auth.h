/*
 * auth.h - who is calling the HTTP API: login sessions (cookie lt_session,
 * HttpOnly, SameSite=Strict, Path=/), CSRF protection, API tokens
 * (Authorization: Bearer TOKEN), roles, and login rate limits. Every
 * handler that needs a user calls auth_require(); see docs/security.md.
 *
 * Login (POST /api/v1/login) hashes on the uv thread pool (Argon2id, about
 * 0.1 s), never on the loop. Rate limits, counted in the node's memory:
 * AUTH_PAIR_FAILURES failures of one account from one client address lock
 * that account for that address only; AUTH_ACCOUNT_FAILURES of one account
 * from any addresses lock the account; AUTH_ADDRESS_FAILURES from one
 * address lock the address; each within AUTH_WINDOW_MS, for AUTH_LOCK_MS,
 * doubling with every further failure up to AUTH_LOCK_MAX_MS. Locked
 * attempts get 429 with Retry-After and cost no hashing. So one client
 * cannot lock another's account, and many clients guessing one account
 * still meet a limit. Unknown accounts cost the same hashing as wrong
 * passwords. Admins see the locks (GET /api/v1/login/locks).
 */
#ifndef LT_AUTH_H
#define LT_AUTH_H

#include "node/http/http.h"
#include "node/people/accounts.h"
#include "replication/unit_tree.h"

#include <uv.h>

#define AUTH_PAIR_FAILURES 5
#define AUTH_ACCOUNT_FAILURES 50
#define AUTH_ADDRESS_FAILURES 20
#define AUTH_WINDOW_MS (15ull * 60 * 1000)
#define AUTH_LOCK_MS (60ull * 1000)
#define AUTH_LOCK_MAX_MS (60ull * 60 * 1000)
#define AUTH_COOKIE "lt_session" /* the prefix: each node names its cookie auth_cookie_name() */

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

/* auth_require(ROLE_ADMIN) for what belongs to the node itself or to the
 * network (categories, holidays, boundaries, UI settings, enrolment, the
 * quarantine view): also 403 unless the caller's unit is the node's own
 * (access_is_node_admin), so an admin of a unit below, hosted here, is
 * refused. */
int auth_require_node_admin(auth *a, const http_request *req, http_response *res, auth_caller *out);

/* True when req carries a credential (this node's session cookie or a
 * Bearer token), live or not: for endpoints that answer a public summary
 * without one and the details after auth_require with one. */
bool auth_has_credential(const auth *a, const http_request *req);

/* The session cookie's name of the node of unit into out (cap bytes):
 * "lt_session_UNIT", any character of UNIT other than a letter, digit or
 * '-' made '_'. Each node has its own, so nodes on one host (127.0.0.1 on
 * different ports, which browsers do not tell apart for cookies) keep
 * their sessions apart. */
void auth_cookie_name(const char *unit, char *out, size_t cap);

/* The caller of a live session whose cookie is in cookie_header (a
 * Cookie header's value; NULL allowed), for WebSocket upgrades: 0 with
 * *out, 1 without a live session of an enabled account, -1 on a storage
 * error. */
int auth_session_caller(auth *a, const char *cookie_header, auth_caller *out);

/* Whether req carries a live session cookie or API token of an enabled
 * account (no role or CSRF check; nothing attached): the http_trust_fn of
 * the node's HTTP server (ctx: the auth), whose body budget gives such
 * requests more room than anonymous ones. Reads the store; loop thread. */
bool auth_request_known(void *ctx, const http_request *req);

/* Attaches a copy of c to the deferred request p (loop thread), as
 * auth_require does for a request still in its handler (e.g. the Open311
 * key behind a deferred POST, for the audit). */
void auth_pending_caller(http_pending *p, const auth_caller *c);

/* The caller attached to req (by auth_require, or by a login attempt, with
 * role ROLE_NONE when it failed), or NULL. */
const auth_caller *auth_request_caller(const http_request *req);

/* The unit tree of the node's store, reloaded when entries arrived (at most
 * once a second). */
const unit_tree *auth_tree(auth *a);

/* Ends the login locks of account user (after an admin set its password). */
void auth_unlock(auth *a, const char *user);

/* Handlers (ctx: the auth): POST /api/v1/login {"user", "password"} ->
 * {"user", "unit", "role", "csrf_token"} and the session cookie;
 * POST /api/v1/logout ends the session; GET /api/v1/me -> the caller;
 * GET /api/v1/login/locks (admins) -> {"locks": [{"user", "address",
 * "failures", "retry_after_s", "locked_until"}]}: the locks in force, of
 * the accounts the caller may manage (access_may_manage), and, for an
 * admin of the node's unit, also of addresses and of unknown names. */
void auth_locks(void *ctx, const http_request *req, http_response *res);
void auth_login(void *ctx, const http_request *req, http_response *res);
void auth_logout(void *ctx, const http_request *req, http_response *res);
/* GET /api/v1/me: the caller (user, unit, role, node_unit, node_unit_name,
 * via_token); without any credential 200 {"user": null, "node_unit",
 * "node_unit_name"} (a first visit is no error), with a dead one 401. */
void auth_me(void *ctx, const http_request *req, http_response *res);

#endif
