/*
 * auth.c - sessions, tokens, CSRF, roles and logins of auth.h.
 *
 * A login is checked in three steps: on the loop, the rate limits (a locked
 * account or address gets 429 at once) and the account lookup; on the
 * thread pool, the Argon2id verification (against a dummy hash for an
 * unknown name); back on the loop (login_done), the session. The attempt is
 * counted as a failure before hashing and taken back if it succeeds, so
 * parallel guesses cannot outrun the limits.
 */
#include "node/people/auth.h"
#include "lib/log.h"
#include "node/http/offload.h"
#include "node/http/ratelimit.h"
#include "node/people/access.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TREE_RELOAD_MS 1000

struct auth {
    uv_loop_t *loop;
    const node_config *config;
    store *store;
    ratelimit *by_pair, *by_account, *by_address; /* account+address, account, address */
    unit_tree *tree;
    uint64_t tree_arrival; /* store arrival position when the tree was loaded */
    uint64_t tree_loaded_ms;
    bool tree_ok;
    char cookie[64]; /* the session cookie's name: AUTH_COOKIE "_" unit (auth.h) */
};

void auth_cookie_name(const char *unit, char *out, size_t cap)
{
    size_t n = (size_t)snprintf(out, cap, "%s_%s", AUTH_COOKIE, unit);
    for (size_t i = strlen(AUTH_COOKIE) + 1; i < n && i < cap; i++)
        if (!isalnum((unsigned char)out[i]) && out[i] != '-')
            out[i] = '_';
}

auth *auth_new(uv_loop_t *loop, const node_config *c, store *s)
{
    auth *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->loop = loop;
    a->config = c;
    a->store = s;
    auth_cookie_name(c->unit, a->cookie, sizeof a->cookie);
    a->by_pair = ratelimit_new(AUTH_PAIR_FAILURES, AUTH_WINDOW_MS, AUTH_LOCK_MS, AUTH_LOCK_MAX_MS);
    a->by_account =
        ratelimit_new(AUTH_ACCOUNT_FAILURES, AUTH_WINDOW_MS, AUTH_LOCK_MS, AUTH_LOCK_MAX_MS);
    a->by_address =
        ratelimit_new(AUTH_ADDRESS_FAILURES, AUTH_WINDOW_MS, AUTH_LOCK_MS, AUTH_LOCK_MAX_MS);
    a->tree = unit_tree_new();
    if (!a->by_pair || !a->by_account || !a->by_address || !a->tree) {
        auth_free(a);
        return NULL;
    }
    return a;
}

void auth_free(auth *a)
{
    if (!a)
        return;
    ratelimit_free(a->by_pair);
    ratelimit_free(a->by_account);
    ratelimit_free(a->by_address);
    unit_tree_free(a->tree);
    free(a);
}

const unit_tree *auth_tree(auth *a)
{
    uint64_t now = uv_now(a->loop), arrival = store_arrival_last(a->store);
    if (!a->tree_ok || (arrival != a->tree_arrival && now >= a->tree_loaded_ms + TREE_RELOAD_MS)) {
        if (unit_tree_load(a->tree, a->store) == 0) {
            a->tree_ok = true;
            a->tree_arrival = arrival;
        } else {
            log_write(LOG_ERROR, "auth.tree_load_failed", "msg=\"unit tree not reloaded\"");
        }
        a->tree_loaded_ms = now;
    }
    return a->tree;
}

/* ---- the caller ------------------------------------------------------- */

/* Attaches a copy of c to req (owned by the request); returns it. */
static auth_caller *attach_caller(const http_request *req, const auth_caller *c)
{
    auth_caller *copy = malloc(sizeof *copy);
    if (copy) {
        *copy = *c;
        http_request_set_data(req, copy, free);
    }
    return copy;
}

const auth_caller *auth_request_caller(const http_request *req)
{
    return http_request_data(req);
}

/* The value of cookie name in the Cookie header h (may be NULL), into out. */
static bool cookie_in_header(const char *h, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    for (const char *p = h; p && *p;) {
        while (*p == ' ' || *p == ';')
            p++;
        size_t len = strcspn(p, ";");
        if (len > n && !strncmp(p, name, n) && p[n] == '=') {
            size_t vlen = len - n - 1;
            if (vlen >= cap)
                return false;
            memcpy(out, p + n + 1, vlen);
            out[vlen] = 0;
            return true;
        }
        p += len;
    }
    return false;
}

static bool cookie_value(const http_request *req, const char *name, char *out, size_t cap)
{
    return cookie_in_header(http_request_header(req, "cookie"), name, out, cap);
}

static bool bearer_token(const http_request *req, char *out, size_t cap)
{
    const char *h = http_request_header(req, "authorization");
    if (!h || strncasecmp(h, "Bearer ", 7))
        return false;
    h += 7;
    while (*h == ' ')
        h++;
    size_t n = strcspn(h, " ");
    if (!n || n >= cap)
        return false;
    memcpy(out, h, n);
    out[n] = 0;
    return true;
}

bool auth_has_credential(const auth *a, const http_request *req)
{
    char secret[ACCOUNT_SECRET_MAX];
    bool has = bearer_token(req, secret, sizeof secret) ||
               cookie_value(req, a->cookie, secret, sizeof secret);
    sodium_memzero(secret, sizeof secret);
    return has;
}

/* True when the Origin header is absent or names the request's own host
 * (http:// or https://). */
static bool origin_ok(const http_request *req)
{
    const char *origin = http_request_header(req, "origin");
    const char *host = http_request_header(req, "host");
    if (!origin)
        return true;
    if (!host)
        return false;
    const char *rest = !strncmp(origin, "http://", 7)    ? origin + 7
                       : !strncmp(origin, "https://", 8) ? origin + 8
                                                         : NULL;
    return rest && !strcasecmp(rest, host);
}

static bool safe_method(const char *m)
{
    return !strcmp(m, "GET") || !strcmp(m, "HEAD") || !strcmp(m, "OPTIONS");
}

/* The enabled account behind credential secret of kind k, into *c (and
 * the credential into *cred): 0, 1 when there is none, -1 on a storage
 * error. */
static int caller_of(auth *a, cred_kind k, const char *secret, credential *cred, auth_caller *c)
{
    int rc = cred_lookup(a->store, k, secret, account_now_ms(), cred);
    account acct;
    if (rc)
        return rc;
    if (account_get(a->store, cred->user, &acct) || acct.disabled)
        return 1;
    memset(c, 0, sizeof *c);
    snprintf(c->user, sizeof c->user, "%s", acct.name);
    snprintf(c->unit, sizeof c->unit, "%s", acct.unit);
    c->role = acct.role;
    c->via_token = k == CRED_TOKEN;
    return 0;
}

int auth_session_caller(auth *a, const char *cookie_header, auth_caller *out)
{
    char secret[ACCOUNT_SECRET_MAX];
    credential cred;
    if (!cookie_in_header(cookie_header, a->cookie, secret, sizeof secret))
        return 1;
    int rc = caller_of(a, CRED_SESSION, secret, &cred, out);
    sodium_memzero(secret, sizeof secret);
    return rc;
}

bool auth_request_known(void *ctx, const http_request *req)
{
    auth *a = ctx;
    char secret[ACCOUNT_SECRET_MAX];
    credential cred;
    auth_caller c;
    bool token = bearer_token(req, secret, sizeof secret);
    if (!token && !cookie_value(req, a->cookie, secret, sizeof secret))
        return false;
    int rc = caller_of(a, token ? CRED_TOKEN : CRED_SESSION, secret, &cred, &c);
    sodium_memzero(secret, sizeof secret);
    return rc == 0;
}

void auth_pending_caller(http_pending *p, const auth_caller *c)
{
    auth_caller *copy = malloc(sizeof *copy);
    if (copy) {
        *copy = *c;
        http_pending_set_data(p, copy, free);
    }
}

int auth_require(auth *a, const http_request *req, http_response *res, account_role min,
                 auth_caller *out)
{
    char secret[ACCOUNT_SECRET_MAX];
    credential cred;
    auth_caller c;
    bool token = bearer_token(req, secret, sizeof secret);
    if (!token && !cookie_value(req, a->cookie, secret, sizeof secret)) {
        http_respond_code(res, 401, "auth.login_required",
                          "log in first: POST /api/v1/login, or send an API token as "
                          "\"Authorization: Bearer TOKEN\" (lienthong token)");
        return -1;
    }
    int rc = caller_of(a, token ? CRED_TOKEN : CRED_SESSION, secret, &cred, &c);
    sodium_memzero(secret, sizeof secret);
    if (rc < 0) {
        http_respond_error(res, 500, "the node could not read its sessions; check its log");
        return -1;
    }
    if (rc) {
        http_respond_code(res, 401, token ? "auth.token_invalid" : "auth.session_expired",
                          token ? "the API token is not valid (revoked, or its account was "
                                  "deleted or disabled); ask an admin for a new one"
                                : "the session has ended (logged out or expired); log in again");
        return -1;
    }
    attach_caller(req, &c);
    if (!token && !safe_method(req->method)) {
        const char *csrf = http_request_header(req, "x-csrf-token");
        if (!csrf || strlen(csrf) != strlen(cred.csrf) ||
            sodium_memcmp(csrf, cred.csrf, strlen(csrf))) {
            http_respond_code(res, 403, "auth.csrf",
                              "missing or wrong X-CSRF-Token header: send the csrf_token "
                              "that login returned with every %s",
                              req->method);
            return -1;
        }
        if (!origin_ok(req)) {
            http_respond_code(res, 403, "auth.origin",
                              "the Origin header does not match this node's address: "
                              "requests from other sites are refused");
            return -1;
        }
    }
    if (c.role < min) {
        http_respond_code(res, 403, "auth.role_required",
                          "%s needs the %s role or higher; %s has %s", req->path,
                          account_role_name(min), c.user, account_role_name(c.role));
        return -1;
    }
    if (out)
        *out = c;
    return 0;
}

int auth_require_node_admin(auth *a, const http_request *req, http_response *res, auth_caller *out)
{
    auth_caller c;
    if (auth_require(a, req, res, ROLE_ADMIN, &c))
        return -1;
    if (!access_is_node_admin(c.unit, c.role, a->config->unit)) {
        http_respond_error(res, 403,
                           "%s %s needs an admin of this node's unit %s; %s is an admin of unit "
                           "%s: ask an admin of unit %s",
                           req->method, req->path, a->config->unit, c.user, c.unit,
                           a->config->unit);
        return -1;
    }
    if (out)
        *out = c;
    return 0;
}

/* ---- login -------------------------------------------------------------- */

typedef struct {
    auth *a;
    auth_caller *caller; /* the request's; valid while p is alive */
    char user[ACCOUNT_NAME_MAX + 1];
    char remote[64];
    char password[ACCOUNT_PASSWORD_MAX + 1];
    size_t pwlen;
    char hash[ACCOUNT_HASH_MAX];
    bool matches;
    bool tls; /* the login came over HTTPS: the cookie is Secure */
} login_job;

typedef struct {
    char pair[RATELIMIT_KEY_MAX], acct[RATELIMIT_KEY_MAX], addr[RATELIMIT_KEY_MAX];
} login_keys_t;

/* The rate limit keys of a login: "p:USER|ADDRESS", "u:USER", "a:ADDRESS"
 * (an address has no '|', so the last one splits a pair). */
static login_keys_t login_keys(const login_job *j)
{
    login_keys_t k;
    snprintf(k.pair, sizeof k.pair, "p:%s|%s", j->user, j->remote);
    snprintf(k.acct, sizeof k.acct, "u:%s", j->user);
    snprintf(k.addr, sizeof k.addr, "a:%s", j->remote);
    return k;
}

static void login_work(void *job, const uint8_t *body, size_t body_len, http_response *res)
{
    (void)body, (void)body_len, (void)res;
    login_job *j = job;
    j->matches = account_password_matches(j->hash, j->password, j->pwlen);
    sodium_memzero(j->password, sizeof j->password);
}

/* The session cookie; Secure over HTTPS, so a browser never sends it in
 * the clear. */
static void login_cookie(const auth *a, http_response *res, const char *secret, bool tls)
{
    char cookie[ACCOUNT_SECRET_MAX + 160];
    snprintf(cookie, sizeof cookie, "%s=%s; HttpOnly; SameSite=Strict; Path=/%s", a->cookie, secret,
             tls ? "; Secure" : "");
    http_response_header(res, "Set-Cookie", cookie);
    http_response_header(res, "Cache-Control", "no-store");
}

static void login_done(void *job, http_response *res, http_pending *p, bool ran)
{
    login_job *j = job;
    auth *a = j->a;
    if (!ran) { /* res holds the 503 */
        sodium_memzero(j->password, sizeof j->password);
        free(j);
        return;
    }
    login_keys_t k = login_keys(j);
    account acct;
    /* the account is read again: it may have changed while hashing */
    bool ok = j->matches && account_get(a->store, j->user, &acct) == 0 && !acct.disabled &&
              !strcmp(acct.hash, j->hash);
    if (ok) {
        ratelimit_clear(a->by_pair, k.pair);
        ratelimit_undo(a->by_account, k.acct);
        ratelimit_undo(a->by_address, k.addr);
        char secret[ACCOUNT_SECRET_MAX], err[256];
        credential cred;
        uint64_t now = account_now_ms();
        cred_purge(a->store, CRED_SESSION, NULL, now);
        if (cred_create(a->store, CRED_SESSION, acct.name, now, secret, &cred, err, sizeof err)) {
            http_respond_error(res, 500, "the session could not be stored: %s", err);
        } else {
            login_cookie(j->a, res, secret, j->tls);
            http_respond_json(res, 200,
                              json_pack("{s:s, s:s, s:s, s:s}", "user", acct.name, "unit",
                                        acct.unit, "role", account_role_name(acct.role),
                                        "csrf_token", cred.csrf));
            if (http_pending_alive(p) && j->caller)
                j->caller->role = acct.role; /* the audit sees a successful login */
        }
        sodium_memzero(secret, sizeof secret);
        log_write(LOG_INFO, "auth.login", "user=%s remote=%s", acct.name, j->remote);
    } else {
        http_respond_code(res, 401, "auth.login_failed", "wrong user name or password");
        log_write(LOG_INFO, "auth.login_failed", "user=%s remote=%s", j->user, j->remote);
    }
    free(j);
}

/* 429 when the account or the address is locked. */
static bool login_locked(auth *a, const login_job *j, http_response *res)
{
    login_keys_t k = login_keys(j);
    uint64_t now = uv_now(a->loop);
    uint64_t wp = ratelimit_wait(a->by_pair, k.pair, now);
    uint64_t wa = ratelimit_wait(a->by_account, k.acct, now);
    uint64_t wr = ratelimit_wait(a->by_address, k.addr, now);
    uint64_t wait = wp > wa ? wp : wa;
    const char *what = wp >= wa ? "this account from this address" : "this account";
    if (wr > wait) {
        wait = wr;
        what = "this address";
    }
    if (!wait)
        return false;
    char secs[32];
    snprintf(secs, sizeof secs, "%llu", (unsigned long long)((wait + 999) / 1000));
    http_respond_code(res, 429, "auth.rate_limited",
                      "too many failed logins for %s; wait %s s before trying again "
                      "(or ask an admin to set a new password, which ends the lock)",
                      what, secs);
    http_response_header(res, "Retry-After", secs);
    log_write(LOG_WARN, "auth.login_locked", "user=%s remote=%s retry_s=%s", j->user, j->remote,
              secs);
    return true;
}

void auth_unlock(auth *a, const char *user)
{
    char key[RATELIMIT_KEY_MAX];
    snprintf(key, sizeof key, "u:%s", user);
    ratelimit_clear(a->by_account, key);
    snprintf(key, sizeof key, "p:%s|", user);
    ratelimit_clear_prefix(a->by_pair, key);
}

typedef struct {
    auth *a;
    const auth_caller *me;
    bool node_admin;
    uint64_t wall_ms;
    json_t *list;
} locks_walk;

/* True when the caller of w may see the lock of account name user (""
 * for an address lock). */
static bool lock_visible(const locks_walk *w, const char *user)
{
    account acct;
    if (!user[0] || account_get(w->a->store, user, &acct))
        return w->node_admin;
    return access_may_manage(auth_tree(w->a), w->me->unit, w->me->role, acct.unit, acct.role);
}

static void lock_one(void *ctx, const char *key, unsigned failures, uint64_t wait_ms)
{
    locks_walk *w = ctx;
    char user[RATELIMIT_KEY_MAX] = "", addr[RATELIMIT_KEY_MAX] = "";
    snprintf(key[0] == 'a' ? addr : user, RATELIMIT_KEY_MAX, "%s", key + 2);
    char *bar = key[0] == 'p' ? strrchr(user, '|') : NULL;
    if (bar) {
        *bar = 0;
        snprintf(addr, sizeof addr, "%s", bar + 1);
    }
    if (!lock_visible(w, user))
        return;
    json_array_append_new(w->list, json_pack("{s:o, s:o, s:i, s:I, s:I}", "user",
                                             user[0] ? json_string(user) : json_null(), "address",
                                             addr[0] ? json_string(addr) : json_null(), "failures",
                                             (int)failures, "retry_after_s",
                                             (json_int_t)((wait_ms + 999) / 1000), "locked_until",
                                             (json_int_t)(w->wall_ms + wait_ms)));
}

void auth_locks(void *ctx, const http_request *req, http_response *res)
{
    auth *a = ctx;
    auth_caller me;
    if (!http_path_exact(req, res, "/api/v1/login/locks", "GET /api/v1/login/locks"))
        return;
    if (auth_require(a, req, res, ROLE_ADMIN, &me))
        return;
    locks_walk w = {a, &me, access_is_node_admin(me.unit, me.role, a->config->unit),
                    account_now_ms(), json_array()};
    uint64_t now = uv_now(a->loop);
    ratelimit_locks(a->by_pair, now, lock_one, &w);
    ratelimit_locks(a->by_account, now, lock_one, &w);
    ratelimit_locks(a->by_address, now, lock_one, &w);
    http_respond_json(res, 200, json_pack("{s:o}", "locks", w.list));
}

void auth_login(void *ctx, const http_request *req, http_response *res)
{
    auth *a = ctx;
    json_t *body = json_loadb((const char *)req->body, req->body_len, 0, NULL);
    const char *user = NULL, *password = NULL;
    if (!body || json_unpack(body, "{s:s, s:s}", "user", &user, "password", &password) ||
        strlen(password) > ACCOUNT_PASSWORD_MAX || strlen(user) > ACCOUNT_NAME_MAX) {
        json_decref(body);
        http_respond_error(res, 400,
                           "send a JSON object {\"user\": NAME, \"password\": PASSWORD} "
                           "(password at most %d bytes)",
                           ACCOUNT_PASSWORD_MAX);
        return;
    }
    if (!origin_ok(req)) {
        json_decref(body);
        http_respond_code(res, 403, "auth.origin",
                          "the Origin header does not match this node's address: "
                          "logins from other sites are refused");
        return;
    }
    login_job *j = calloc(1, sizeof *j);
    if (!j) {
        json_decref(body);
        http_respond_error(res, 503, "the node is out of memory; retry later");
        return;
    }
    j->a = a;
    snprintf(j->user, sizeof j->user, "%s", user);
    snprintf(j->remote, sizeof j->remote, "%s", req->remote_addr);
    j->tls = http_request_tls(req);
    j->pwlen = strlen(password);
    memcpy(j->password, password, j->pwlen);
    sodium_memzero((char *)password, j->pwlen); /* jansson's copy */
    json_decref(body);

    account acct;
    auth_caller c;
    memset(&c, 0, sizeof c);
    snprintf(c.user, sizeof c.user, "%s", j->user);
    bool exists = account_get(a->store, j->user, &acct) == 0;
    if (exists)
        snprintf(c.unit, sizeof c.unit, "%s", acct.unit);
    j->caller = attach_caller(req, &c); /* role NONE until it succeeds */
    if (login_locked(a, j, res)) {
        sodium_memzero(j->password, sizeof j->password);
        free(j);
        return;
    }
    snprintf(j->hash, sizeof j->hash, "%s", exists ? acct.hash : account_dummy_hash());
    login_keys_t k = login_keys(j);
    uint64_t now = uv_now(a->loop);
    ratelimit_fail(a->by_pair, k.pair, now); /* taken back on success */
    ratelimit_fail(a->by_account, k.acct, now);
    ratelimit_fail(a->by_address, k.addr, now);
    offload_request(req, res, &(offload_task){a->loop, j, login_work, login_done});
}

/* ---- logout and me -------------------------------------------------------- */

void auth_logout(void *ctx, const http_request *req, http_response *res)
{
    auth *a = ctx;
    auth_caller c;
    char secret[ACCOUNT_SECRET_MAX];
    if (auth_require(a, req, res, ROLE_VIEWER, &c))
        return;
    if (c.via_token) {
        http_respond_error(res, 400,
                           "logout ends a browser session; API tokens are revoked with "
                           "lienthong token --revoke");
        return;
    }
    if (cookie_value(req, a->cookie, secret, sizeof secret))
        cred_delete(a->store, CRED_SESSION, secret);
    sodium_memzero(secret, sizeof secret);
    char gone[128];
    snprintf(gone, sizeof gone, "%s=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0%s", a->cookie,
             http_request_tls(req) ? "; Secure" : "");
    http_response_header(res, "Set-Cookie", gone);
    http_respond_json(res, 200, json_pack("{s:b}", "logged_out", 1));
}

void auth_me(void *ctx, const http_request *req, http_response *res)
{
    auth *a = ctx;
    auth_caller c;
    if (!auth_has_credential(a, req)) { /* the UI's first look: no error in its console */
        http_respond_json(res, 200,
                          json_pack("{s:n, s:s, s:s}", "user", "node_unit", a->config->unit,
                                    "node_unit_name", a->config->name));
        return;
    }
    if (auth_require(a, req, res, ROLE_VIEWER, &c))
        return;
    http_respond_json(res, 200,
                      json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "user", c.user, "unit", c.unit,
                                "role", account_role_name(c.role), "node_unit", a->config->unit,
                                "node_unit_name", a->config->name, "via_token", c.via_token));
}
