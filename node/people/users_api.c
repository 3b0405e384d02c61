/*
 * users_api.c - see users_api.h.
 *
 * A write with a password is checked on the loop, hashed on the thread
 * pool and stored back on the loop (users_done), so the account record is
 * only ever written by the loop thread.
 */
#include "node/people/users_api.h"
#include "node/http/offload.h"
#include "node/people/access.h"
#include "node/people/auth.h"
#include "node/people/users_csv.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    node_env *d;
    account acct;
    char password[ACCOUNT_PASSWORD_MAX + 1];
    bool created;
    int rc;
} users_job;

static json_t *account_json(const account *a)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:b}", "user", a->name, "unit", a->unit, "role",
                     account_role_name(a->role), "created", (json_int_t)a->created_ms, "disabled",
                     a->disabled);
}

typedef struct {
    const unit_tree *tree;
    const auth_caller *me;
    json_t *list;
} users_listing;

/* Lists a when the caller may manage it (its unit's subtree). */
static int list_one(void *ctx, const account *a)
{
    users_listing *l = ctx;
    if (access_may_manage(l->tree, l->me->unit, l->me->role, a->unit, a->role))
        json_array_append_new(l->list, account_json(a));
    return 0;
}

json_t *users_list(node_env *d, const auth_caller *me)
{
    json_t *list = json_array();
    users_listing l = {auth_tree(d->auth), me, list};
    if (list && account_list(d->store, list_one, &l) < 0) {
        json_decref(list);
        return NULL;
    }
    return list;
}

/* Checks that me may manage an account of unit with role (access.h:
 * access_may_manage); else answers 403. */
static bool manage_ok(node_env *d, const auth_caller *me, const char *unit, account_role role,
                      http_response *res)
{
    if (access_may_manage(auth_tree(d->auth), me->unit, me->role, unit, role))
        return true;
    http_respond_error(res, 403,
                       "your account is an admin of unit %s: it manages accounts of %s and the "
                       "units below it only, not one of unit %s with role %s; ask an admin of "
                       "a unit above",
                       me->unit, me->unit, unit, account_role_name(role));
    return false;
}

/* Checks that unit is the node's or in its subtree; else answers 400. */
static bool unit_ok(node_env *d, const char *unit, http_response *res)
{
    const node_config *c = d->config;
    const unit_tree *t = auth_tree(d->auth);
    if (!strcmp(unit, c->unit) || unit_tree_within(t, unit, strlen(unit), c->unit, strlen(c->unit)))
        return true;
    http_respond_error(res, 400,
                       "unit %s is not in the subtree of this node's unit %s: use %s or one of "
                       "its descendants",
                       unit, c->unit, c->unit);
    return false;
}

static void store_answer(node_env *d, const account *a, bool created, http_response *res)
{
    char err[256];
    if (account_put(d->store, a, err, sizeof err)) {
        http_respond_error(res, 500, "the account could not be stored: %s", err);
        return;
    }
    if (a->disabled)
        cred_purge(d->store, CRED_SESSION, a->name, account_now_ms());
    http_respond_json(res, created ? 201 : 200, account_json(a));
}

static void users_work(void *job, const uint8_t *body, size_t body_len, http_response *res)
{
    (void)body, (void)body_len, (void)res;
    users_job *j = job;
    j->rc = account_hash_password(j->password, strlen(j->password), j->acct.hash);
    sodium_memzero(j->password, sizeof j->password);
}

static void users_done(void *job, http_response *res, http_pending *p, bool ran)
{
    users_job *j = job;
    if (!ran) /* res holds the 503 */
        sodium_memzero(j->password, sizeof j->password);
    else if (j->rc)
        http_respond_error(res, 503, "the password could not be hashed (out of memory); try again");
    else if (http_pending_alive(p))
        store_answer(j->d, &j->acct, j->created, res);
    if (ran && !j->rc && !j->created)
        auth_unlock(j->d->auth, j->acct.name); /* a new password ends its login locks */
    free(j);
}

/* Hashes password on the thread pool, then stores a and answers. */
static void hash_then_store(node_env *d, const http_request *req, http_response *res,
                            const account *a, const char *password, bool created)
{
    size_t len = strlen(password);
    if (len < ACCOUNT_PASSWORD_MIN || len > ACCOUNT_PASSWORD_MAX) {
        http_respond_error(res, 400, "the password must have %d to %d characters",
                           ACCOUNT_PASSWORD_MIN, ACCOUNT_PASSWORD_MAX);
        return;
    }
    users_job *j = calloc(1, sizeof *j);
    if (!j) {
        http_respond_error(res, 503, "the node is out of memory; retry later");
        return;
    }
    j->d = d;
    j->acct = *a;
    j->created = created;
    memcpy(j->password, password, len + 1);
    offload_request(req, res, &(offload_task){d->loop, j, users_work, users_done});
}

static void users_create(node_env *d, const http_request *req, http_response *res,
                         const auth_caller *me, json_t *body)
{
    const char *name = json_string_value(json_object_get(body, "user"));
    const char *pw = json_string_value(json_object_get(body, "password"));
    const char *role = json_string_value(json_object_get(body, "role"));
    const char *unit = json_string_value(json_object_get(body, "unit"));
    account a, old;
    if (!name || !account_name_valid(name)) {
        http_respond_error(res, 400,
                           "\"user\" must be 1 to 64 characters of a-z 0-9 . _ - "
                           "starting with a letter or digit");
        return;
    }
    if (!role || account_role_parse(role) == ROLE_NONE) {
        http_respond_error(res, 400, "\"role\" must be viewer, staff, leader or admin");
        return;
    }
    if (!pw) {
        http_respond_error(res, 400, "\"password\" is required");
        return;
    }
    if (account_get(d->store, name, &old) == 0) {
        http_respond_error(res, 409,
                           "an account %s exists already: PATCH /api/v1/users/%s "
                           "changes it",
                           name, name);
        return;
    }
    memset(&a, 0, sizeof a);
    snprintf(a.name, sizeof a.name, "%s", name);
    snprintf(a.unit, sizeof a.unit, "%s", unit ? unit : d->config->unit);
    a.role = account_role_parse(role);
    a.created_ms = account_now_ms();
    if (unit_ok(d, a.unit, res) && manage_ok(d, me, a.unit, a.role, res))
        hash_then_store(d, req, res, &a, pw, true);
}

static void users_patch(node_env *d, const http_request *req, http_response *res,
                        const auth_caller *me, const char *name, json_t *body)
{
    account a;
    if (account_get(d->store, name, &a)) {
        http_respond_error(res, 404, "no account %s: GET /api/v1/users lists them", name);
        return;
    }
    if (!manage_ok(d, me, a.unit, a.role, res))
        return;
    json_t *role = json_object_get(body, "role"), *unit = json_object_get(body, "unit");
    json_t *disabled = json_object_get(body, "disabled"), *pw = json_object_get(body, "password");
    if ((role && account_role_parse(json_string_value(role)) == ROLE_NONE) ||
        (unit && !json_is_string(unit)) || (disabled && !json_is_boolean(disabled)) ||
        (pw && !json_is_string(pw))) {
        http_respond_error(res, 400,
                           "role must be viewer, staff, leader or admin; unit and "
                           "password strings; disabled true or false");
        return;
    }
    if (role)
        a.role = account_role_parse(json_string_value(role));
    if (unit)
        snprintf(a.unit, sizeof a.unit, "%s", json_string_value(unit));
    if (disabled)
        a.disabled = json_is_true(disabled);
    if (!strcmp(name, me->user) && (a.disabled || a.role != ROLE_ADMIN)) {
        http_respond_error(res, 409,
                           "you cannot disable or demote your own account: ask "
                           "another admin");
        return;
    }
    if (!unit_ok(d, a.unit, res) || !manage_ok(d, me, a.unit, a.role, res))
        return;
    if (pw)
        hash_then_store(d, req, res, &a, json_string_value(pw), false);
    else
        store_answer(d, &a, false, res);
}

void users_api(void *ctx, const http_request *req, http_response *res)
{
    node_env *d = ctx;
    auth_caller me;
    if (auth_require(d->auth, req, res, ROLE_ADMIN, &me))
        return;
    const char *rest = req->path + strlen("/api/v1/users");
    const char *name = *rest == '/' ? rest + 1 : NULL;
    bool get = !strcmp(req->method, "GET") || !strcmp(req->method, "HEAD");
    if (name && (!*name || strchr(name, '/'))) {
        http_respond_code(res, 404, "http.not_found", "no resource at %s: use /api/v1/users/NAME",
                          req->path);
        return;
    }
    if (get && !name && users_csv_answer(d, &me, req, res))
        return;
    if (get && !name) {
        json_t *list = users_list(d, &me);
        if (!list) {
            http_respond_error(res, 500, "the node could not read its accounts; check its log");
            return;
        }
        http_respond_json(res, 200, json_pack("{s:o}", "users", list));
        return;
    }
    if (!strcmp(req->method, "DELETE") && name) {
        if (!strcmp(name, me.user)) {
            http_respond_error(res, 409, "you cannot delete your own account: ask another admin");
            return;
        }
        account old;
        if (account_get(d->store, name, &old) == 0 && !manage_ok(d, &me, old.unit, old.role, res))
            return;
        int rc = account_del(d->store, name);
        if (rc)
            http_respond_error(res, rc > 0 ? 404 : 500, "%s",
                               rc > 0 ? "no such account"
                                      : "the account could not "
                                        "be deleted; check the log");
        else
            http_respond_json(res, 200, json_pack("{s:s}", "deleted", name));
        return;
    }
    bool post = !strcmp(req->method, "POST") && !name;
    bool patch = !strcmp(req->method, "PATCH") && name;
    if (!post && !patch) {
        http_response_header(res, "Allow", name ? "PATCH, DELETE" : "GET, POST");
        http_respond_error(res, 405, "%s is not allowed on %s", req->method, req->path);
        return;
    }
    json_error_t jerr;
    json_t *body = json_loadb((const char *)req->body, req->body_len, 0, &jerr);
    if (!json_is_object(body)) {
        json_decref(body);
        http_respond_error(res, 400, "the body must be a JSON object: %s", jerr.text);
        return;
    }
    if (post)
        users_create(d, req, res, &me, body);
    else
        users_patch(d, req, res, &me, name, body);
    json_decref(body);
}
