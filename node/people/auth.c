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
#include "node/http/ratelimit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TREE_RELOAD_MS 1000

struct auth {
    uv_loop_t *loop;
    const node_config *config;
    store *store;
    ratelimit *by_account, *by_address;
    unit_tree *tree;
    uint64_t tree_arrival; /* store arrival position when the tree was loaded */
    uint64_t tree_loaded_ms;
    bool tree_ok;
};

auth *auth_new(uv_loop_t *loop, const node_config *c, store *s)
{
    auth *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->loop = loop;
    a->config = c;
    a->store = s;
    a->by_account = ratelimit_new(AUTH_ACCOUNT_FAILURES, AUTH_WINDOW_MS, AUTH_LOCK_MS,
                                  AUTH_LOCK_MAX_MS);
    a->by_address = ratelimit_new(AUTH_ADDRESS_FAILURES, AUTH_WINDOW_MS, AUTH_LOCK_MS,
                                  AUTH_LOCK_MAX_MS);
    a->tree = unit_tree_new();
    if (!a->by_account || !a->by_address || !a->tree) {
        auth_free(a);
        return NULL;
    }
    return a;
}

void auth_free(auth *a)
{
    if (!a)
        return;
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

int auth_token_check(auth *a, const char *token, auth_caller *out)
{
    credential cred;
    return caller_of(a, CRED_TOKEN, token, &cred, out);
}

int auth_token_caller(auth *a, const http_request *req, const char *token, auth_caller *out)
{
    int rc = auth_token_check(a, token, out);
    if (rc == 0)
        attach_caller(req, out);
    return rc;
}

int auth_session_caller(auth *a, const char *cookie_header, auth_caller *out)
{
    char secret[ACCOUNT_SECRET_MAX];
    credential cred;
    if (!cookie_in_header(cookie_header, AUTH_COOKIE, secret, sizeof secret))
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
    if (!token && !cookie_value(req, AUTH_COOKIE, secret, sizeof secret))
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
    if (!token && !cookie_value(req, AUTH_COOKIE, secret, sizeof secret)) {
        http_respond_error(res, 401,
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
        http_respond_error(res, 401,
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
            http_respond_error(res, 403,
                               "missing or wrong X-CSRF-Token header: send the csrf_token "
                               "that login returned with every %s",
                               req->method);
            return -1;
        }
        if (!origin_ok(req)) {
            http_respond_error(res, 403,
                               "the Origin header does not match this node's address: "
                               "requests from other sites are refused");
            return -1;
        }
    }
    if (c.role < min) {
        http_respond_error(res, 403, "%s needs the %s role or higher; %s has %s", req->path,
                           account_role_name(min), c.user, account_role_name(c.role));
        return -1;
    }
    if (out)
        *out = c;
    return 0;
}

/* ---- login -------------------------------------------------------------- */

typedef struct {
    uv_work_t work;
    auth *a;
    http_pending *p;
    auth_caller *caller; /* the request's; valid while p is alive */
    char user[ACCOUNT_NAME_MAX + 1];
    char remote[64];
    char password[ACCOUNT_PASSWORD_MAX + 1];
    size_t pwlen;
    char hash[ACCOUNT_HASH_MAX];
    bool matches;
} login_job;

static void login_keys(const login_job *j, char *acct_key, char *addr_key)
{
    snprintf(acct_key, RATELIMIT_KEY_MAX, "u:%s", j->user);
    snprintf(addr_key, RATELIMIT_KEY_MAX, "a:%s", j->remote);
}

static void login_work(uv_work_t *w)
{
    login_job *j = w->data;
    j->matches = account_password_matches(j->hash, j->password, j->pwlen);
    sodium_memzero(j->password, sizeof j->password);
}

static void login_cookie(http_response *res, const char *secret)
{
    char cookie[ACCOUNT_SECRET_MAX + 96];
    snprintf(cookie, sizeof cookie, "%s=%s; HttpOnly; SameSite=Strict; Path=/", AUTH_COOKIE,
             secret);
    http_response_header(res, "Set-Cookie", cookie);
    http_response_header(res, "Cache-Control", "no-store");
}

static void login_done(uv_work_t *w, int status)
{
    login_job *j = w->data;
    auth *a = j->a;
    http_response *res = http_pending_response(j->p);
    char acct_key[RATELIMIT_KEY_MAX], addr_key[RATELIMIT_KEY_MAX];
    login_keys(j, acct_key, addr_key);
    account acct;
    /* the account is read again: it may have changed while hashing */
    bool ok = status == 0 && j->matches && account_get(a->store, j->user, &acct) == 0 &&
              !acct.disabled && !strcmp(acct.hash, j->hash);
    if (ok) {
        ratelimit_clear(a->by_account, acct_key);
        ratelimit_undo(a->by_address, addr_key);
        char secret[ACCOUNT_SECRET_MAX], err[256];
        credential cred;
        uint64_t now = account_now_ms();
        cred_purge(a->store, CRED_SESSION, NULL, now);
        if (cred_create(a->store, CRED_SESSION, acct.name, now, secret, &cred, err, sizeof err)) {
            http_respond_error(res, 500, "the session could not be stored: %s", err);
        } else {
            login_cookie(res, secret);
            http_respond_json(res, 200,
                              json_pack("{s:s, s:s, s:s, s:s}", "user", acct.name, "unit",
                                        acct.unit, "role", account_role_name(acct.role),
                                        "csrf_token", cred.csrf));
            if (http_pending_alive(j->p) && j->caller)
                j->caller->role = acct.role; /* the audit sees a successful login */
        }
        sodium_memzero(secret, sizeof secret);
        log_write(LOG_INFO, "auth.login", "user=%s remote=%s", acct.name, j->remote);
    } else {
        http_respond_error(res, 401, "wrong user name or password");
        log_write(LOG_INFO, "auth.login_failed", "user=%s remote=%s", j->user, j->remote);
    }
    http_pending_finish(j->p);
    free(j);
}

/* 429 when the account or the address is locked. */
static bool login_locked(auth *a, const login_job *j, http_response *res)
{
    char acct_key[RATELIMIT_KEY_MAX], addr_key[RATELIMIT_KEY_MAX];
    login_keys(j, acct_key, addr_key);
    uint64_t now = uv_now(a->loop);
    uint64_t wa = ratelimit_wait(a->by_account, acct_key, now);
    uint64_t wr = ratelimit_wait(a->by_address, addr_key, now);
    uint64_t wait = wa > wr ? wa : wr;
    if (!wait)
        return false;
    char secs[32];
    snprintf(secs, sizeof secs, "%llu", (unsigned long long)((wait + 999) / 1000));
    http_respond_error(res, 429,
                       "too many failed logins for %s; wait %s s before trying again "
                       "(or ask an admin to reset the password)",
                       wa >= wr ? "this account" : "this address", secs);
    http_response_header(res, "Retry-After", secs);
    log_write(LOG_WARN, "auth.login_locked", "user=%s remote=%s retry_s=%s", j->user, j->remote,
              secs);
    return true;
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
        http_respond_error(res, 403,
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
    char acct_key[RATELIMIT_KEY_MAX], addr_key[RATELIMIT_KEY_MAX];
    login_keys(j, acct_key, addr_key);
    uint64_t now = uv_now(a->loop);
    ratelimit_fail(a->by_account, acct_key, now); /* taken back on success */
    ratelimit_fail(a->by_address, addr_key, now);
    j->work.data = j;
    if (!(j->p = http_defer(req)) || uv_queue_work(a->loop, &j->work, login_work, login_done)) {
        if (j->p) {
            http_respond_error(http_pending_response(j->p), 503,
                               "the node could not start checking the password; retry");
            http_pending_finish(j->p);
        } else {
            http_respond_error(res, 503, "the node is out of memory; retry later");
        }
        sodium_memzero(j->password, sizeof j->password);
        free(j);
    }
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
    if (cookie_value(req, AUTH_COOKIE, secret, sizeof secret))
        cred_delete(a->store, CRED_SESSION, secret);
    sodium_memzero(secret, sizeof secret);
    http_response_header(res, "Set-Cookie",
                         AUTH_COOKIE "=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    http_respond_json(res, 200, json_pack("{s:b}", "logged_out", 1));
}

void auth_me(void *ctx, const http_request *req, http_response *res)
{
    auth *a = ctx;
    auth_caller c;
    if (auth_require(a, req, res, ROLE_VIEWER, &c))
        return;
    http_respond_json(res, 200,
                      json_pack("{s:s, s:s, s:s, s:s, s:b}", "user", c.user, "unit", c.unit,
                                "role", account_role_name(c.role), "node_unit",
                                a->config->unit, "via_token", c.via_token));
}
