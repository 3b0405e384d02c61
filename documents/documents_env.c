/*
 * documents_env.c - the documents domain as the daemon assembles it: its
 * context and its HTTP handlers (routes in documents_env.h). Handlers
 * authenticate, parse and map to documents.h; error bodies carry the
 * domain's machine codes (docs/openapi.yaml).
 */
#include "documents/documents_env.h"
#include "node/people/auth.h"

#include <stdlib.h>
#include <string.h>

#define PREFIX "/api/v1/documents"
#define JSON_MAX_BODY (64u * 1024u)
#define SEG_MAX 3

documents_env *documents_env_new(node_env *env)
{
    documents_env *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->node = env;
    if (!(e->docs = documents_new(env->store, env->config))) {
        free(e);
        return NULL;
    }
    return e;
}

void documents_env_free(documents_env *e)
{
    if (!e)
        return;
    documents_free(e->docs);
    free(e);
}

static doc_actor actor_of(const auth_caller *c)
{
    return (doc_actor){c->user, c->unit, c->role};
}

/* The request body as a JSON object, or NULL after answering 400. */
static json_t *body_object(const http_request *req, http_response *res)
{
    json_error_t je;
    json_t *in = json_loadb((const char *)req->body, req->body_len, 0, &je);
    if (!json_is_object(in)) {
        json_decref(in);
        http_respond_code(res, 400, "document.field",
                          "the body must be a JSON object (%s at line %d)", je.text, je.line);
        return NULL;
    }
    return in;
}

static void answer(http_response *res, json_t *j, const lt_error *e, int status)
{
    if (j)
        http_respond_json(res, status, j);
    else
        http_respond_lt(res, e);
}

static void create_post(documents_env *d, const http_request *req, const auth_caller *c,
                        http_response *res)
{
    json_t *in = body_object(req, res);
    if (!in)
        return;
    lt_error e = {0};
    doc_actor who = actor_of(c);
    json_t *j = documents_create(d->docs, in, &who, auth_tree(d->node->auth), &e);
    json_decref(in);
    answer(res, j, &e, 201);
}

static size_t limit_param(const http_request *req)
{
    const char *s = http_request_query_param(req, "limit");
    long v = s ? strtol(s, NULL, 10) : 0;
    return v > 0 ? (size_t)v : 0;
}

static void list_get(documents_env *d, const http_request *req, const auth_caller *c,
                     http_response *res)
{
    const char *od = http_request_query_param(req, "overdue");
    doc_query q = {
        .box = http_request_query_param(req, "box"),
        .status = http_request_query_param(req, "status"),
        .q = http_request_query_param(req, "q"),
        .type = http_request_query_param(req, "type"),
        .urgency = http_request_query_param(req, "urgency"),
        .from = http_request_query_param(req, "from"),
        .to = http_request_query_param(req, "to"),
        .overdue = od && (!strcmp(od, "1") || !strcmp(od, "true")),
        .limit = limit_param(req),
    };
    lt_error e = {0};
    answer(res, documents_list(d->docs, c->unit, &q, auth_tree(d->node->auth), &e), &e, 200);
}

static void collection(void *ctx, const http_request *req, http_response *res)
{
    documents_env *d = ctx;
    bool post = !strcmp(req->method, "POST");
    auth_caller c;
    if (auth_require(d->node->auth, req, res, post ? ROLE_STAFF : ROLE_VIEWER, &c))
        return;
    if (post)
        create_post(d, req, &c, res);
    else
        list_get(d, req, &c, res);
}

static void receipt_post(documents_env *d, const http_request *req, const auth_caller *c,
                         const char *id, http_response *res)
{
    json_t *in = body_object(req, res);
    if (!in)
        return;
    lt_error e = {0};
    doc_actor who = actor_of(c);
    int rc = documents_receipt(d->docs, id, json_string_value(json_object_get(in, "status")),
                               json_string_value(json_object_get(in, "note")), &who,
                               auth_tree(d->node->auth), &e);
    json_decref(in);
    if (rc)
        http_respond_lt(res, &e);
    else
        answer(res, documents_get(d->docs, id, c->unit, auth_tree(d->node->auth), &e), &e, 200);
}

static void recall_post(documents_env *d, const http_request *req, const auth_caller *c,
                        const char *id, http_response *res)
{
    json_t *in = body_object(req, res);
    if (!in)
        return;
    lt_error e = {0};
    doc_actor who = actor_of(c);
    int rc = documents_recall(d->docs, id, json_string_value(json_object_get(in, "reason")), &who,
                              &e);
    json_decref(in);
    if (rc)
        http_respond_lt(res, &e);
    else
        answer(res, documents_get(d->docs, id, c->unit, auth_tree(d->node->auth), &e), &e, 200);
}

/* Splits the path after PREFIX "/" into at most SEG_MAX segments. */
static size_t path_split(char *rest, char **seg)
{
    size_t n = 0;
    for (char *tok = strtok(rest, "/"); tok; tok = strtok(NULL, "/"))
        if (n < SEG_MAX + 1)
            seg[n++] = tok;
    return n;
}

static void item(void *ctx, const http_request *req, http_response *res)
{
    documents_env *d = ctx;
    bool get = !strcmp(req->method, "GET") || !strcmp(req->method, "HEAD");
    bool post = !strcmp(req->method, "POST");
    auth_caller c;
    if (auth_require(d->node->auth, req, res, get ? ROLE_VIEWER : ROLE_STAFF, &c))
        return;
    char rest[512], *seg[SEG_MAX + 1];
    snprintf(rest, sizeof rest, "%s", req->path + strlen(PREFIX "/"));
    size_t n = path_split(rest, seg);
    lt_error e = {0};
    if (get && n == 1 && !strcmp(seg[0], "types"))
        http_respond_json(res, 200, json_pack("{s:o}", "types", documents_types()));
    else if (get && n == 1)
        answer(res, documents_get(d->docs, seg[0], c.unit, auth_tree(d->node->auth), &e), &e,
               200);
    else if (post && n == 2 && !strcmp(seg[1], "receipts"))
        receipt_post(d, req, &c, seg[0], res);
    else if (post && n == 2 && !strcmp(seg[1], "recall"))
        recall_post(d, req, &c, seg[0], res);
    else
        http_respond_error(res, n ? 405 : 404,
                           "no %s at %s: see docs/documents.md for the document routes",
                           req->method, req->path);
}

size_t documents_env_routes(documents_env *e, http_route *routes, size_t cap)
{
    const http_route all[] = {
        {NULL, PREFIX, collection, e, JSON_MAX_BODY},
        {NULL, PREFIX "/", item, e, JSON_MAX_BODY},
    };
    size_t n = sizeof all / sizeof *all;
    if (n > cap)
        n = cap;
    for (size_t i = 0; i < n; i++)
        routes[i] = all[i];
    return n;
}
