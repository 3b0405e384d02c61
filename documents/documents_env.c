/*
 * documents_env.c - the documents domain as the daemon assembles it: its
 * context and its HTTP handlers (routes in documents_env.h). Handlers
 * authenticate, parse and map to documents.h; error bodies carry the
 * domain's machine codes (docs/openapi.yaml).
 */
#include "documents/doc_env_internal.h"
#include "node/http/form.h"
#include "node/http/offload.h"
#include "node/people/auth.h"

#include <stdlib.h>
#include <string.h>

#define PREFIX "/api/v1/documents"
#define TASKS "/api/v1/tasks"
#define JSON_MAX_BODY (64u * 1024u)
#define CREATE_OVERHEAD ((size_t)1 << 20)    /* the JSON and multipart heads beside a file */
#define EDXML_MAX_BODY (72u * 1024u * 1024u) /* the same in base64 inside XML */
#define SEG_MAX 3

static void collection(void *ctx, const http_request *req, http_response *res);

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
    e->create = (http_body_route){&documents_create_consumer, collection, e};
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

json_t *doc_env_body(const http_request *req, http_response *res)
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

void doc_env_answer(http_response *res, json_t *j, const lt_error *e, int status)
{
    if (j)
        http_respond_json(res, status, j);
    else
        http_respond_lt(res, e);
}

/* ---- work on the thread pool: issue, sign, verify ---- */

typedef enum { JOB_CREATE, JOB_SIGN, JOB_VERIFY, JOB_EDXML_OUT, JOB_EDXML_IN } job_kind;

typedef struct {
    documents_env *d;
    auth_caller c;
    job_kind kind;
    char id[ENTRY_MAX_NAME + 1];
    char link[16]; /* a create from .../update or .../replace: "updates" or "replaces" */
    char content_type[256];
} doc_job;

/* The unit tree as the store holds it now: the pool's own copy (the
 * loop's, auth_tree, may be reloaded meanwhile). */
unit_tree *documents_env_tree(store *s)
{
    unit_tree *t = unit_tree_new();
    if (t && unit_tree_load(t, s)) {
        unit_tree_free(t);
        t = NULL;
    }
    return t;
}

/* The JSON object of a create: the body, or its multipart part "document"
 * whose file parts go to f (pointing into form). NULL with *e. */
static json_t *create_input(const doc_job *j, const uint8_t *body, size_t len, form *fm,
                            doc_file *files, size_t *nfiles, lt_error *e)
{
    const char *text = (const char *)body;
    size_t tlen = len;
    *nfiles = 0;
    if (!strncmp(j->content_type, "multipart/form-data", 19)) {
        if (form_parse(j->content_type, body, len, fm, e->message, sizeof e->message)) {
            lt_error_mark(e, LT_EINVAL, "document.field");
            return NULL;
        }
        const form_field *doc = form_get(fm, "document");
        if (!doc) {
            lt_error_set(e, LT_EINVAL, "document.field",
                         "a multipart document needs a part \"document\" holding its JSON");
            return NULL;
        }
        text = doc->value, tlen = doc->len;
        for (size_t i = 0; i < fm->n; i++) {
            if (!fm->v[i].filename)
                continue;
            if (*nfiles == DOC_FILES_MAX) {
                lt_error_set(e, LT_EINVAL, "document.files_too_many",
                             "a document has at most %d attachments", DOC_FILES_MAX);
                return NULL;
            }
            files[(*nfiles)++] = (doc_file){fm->v[i].filename, fm->v[i].type,
                                            (uint8_t *)fm->v[i].value, fm->v[i].len};
        }
    }
    json_error_t je;
    json_t *in = json_loadb(text, tlen, 0, &je);
    if (!json_is_object(in)) {
        json_decref(in);
        lt_error_set(e, LT_EINVAL, "document.field",
                     "the document must be a JSON object (%s at line %d)", je.text, je.line);
        return NULL;
    }
    return in;
}

static json_t *job_create(doc_job *j, const uint8_t *body, size_t len, const unit_tree *t,
                          lt_error *e)
{
    form fm = {0};
    doc_file files[DOC_FILES_MAX];
    size_t nfiles;
    json_t *in = create_input(j, body, len, &fm, files, &nfiles, e);
    if (in && j->id[0]) /* POST .../{id}/update or .../replace: the link names it */
        json_object_set_new(in, j->link, json_string(j->id));
    doc_actor who = actor_of(&j->c);
    json_t *out = in ? documents_create(j->d->docs, in, files, nfiles, &who, t, e) : NULL;
    json_decref(in);
    form_free(&fm);
    return out;
}

static json_t *job_sign(doc_job *j, const uint8_t *body, size_t len, const unit_tree *t,
                        lt_error *e)
{
    json_t *in = json_loadb((const char *)body, len, 0, NULL);
    const char *pw = json_string_value(json_object_get(in, "password"));
    json_t *out = NULL;
    if (!pw)
        lt_error_set(e, LT_EINVAL, "document.field",
                     "send {\"password\": ...}: the signer's password unlocks the signing key");
    else if (!documents_sign(j->d->docs, j->id, j->c.user, pw, strlen(pw), e))
        out = documents_verify(j->d->docs, j->id, j->c.unit, t, e);
    json_decref(in);
    return out;
}

static json_t *job_edxml_in(doc_job *j, const uint8_t *body, size_t len, const unit_tree *t,
                            lt_error *e)
{
    doc_actor who = actor_of(&j->c);
    return documents_edxml_import(j->d->docs, (const char *)body, len, &who, t, e);
}

/* Answers the edXML message of document j->id. */
static void job_edxml_out(doc_job *j, const unit_tree *t, http_response *res)
{
    lt_error e = {0};
    size_t n = 0;
    char *xml = documents_edxml_export(j->d->docs, j->id, j->c.unit, t, &n, &e);
    if (!xml) {
        http_respond_lt(res, &e);
        return;
    }
    res->status = 200;
    res->content_type = "application/xml; charset=utf-8";
    res->body = xml;
    res->body_len = n;
    char disp[200];
    snprintf(disp, sizeof disp, "attachment; filename=\"%s.edxml\"", j->id);
    http_response_header(res, "Content-Disposition", disp);
}

static void job_work(void *job, const uint8_t *body, size_t len, http_response *res)
{
    doc_job *j = job;
    lt_error e = {0};
    unit_tree *t = documents_env_tree(j->d->node->store);
    json_t *out = NULL;
    if (t && j->kind == JOB_EDXML_OUT) {
        job_edxml_out(j, t, res);
        unit_tree_free(t);
        return;
    }
    if (!t)
        lt_error_set(&e, LT_ESTORAGE, NULL, "cannot read the unit tree; check the node's disk");
    else if (j->kind == JOB_CREATE)
        out = job_create(j, body, len, t, &e);
    else if (j->kind == JOB_SIGN)
        out = job_sign(j, body, len, t, &e);
    else if (j->kind == JOB_EDXML_IN)
        out = job_edxml_in(j, body, len, t, &e);
    else
        out = documents_verify(j->d->docs, j->id, j->c.unit, t, &e);
    unit_tree_free(t);
    doc_env_answer(res, out, &e, j->kind == JOB_CREATE || j->kind == JOB_EDXML_IN ? 201 : 200);
}

static void job_done(void *job, http_response *res, http_pending *p, bool ran)
{
    (void)res, (void)p, (void)ran;
    free(job);
}

/* Runs kind for the caller on the thread pool. */
static void job_start(documents_env *d, const http_request *req, const auth_caller *c,
                      job_kind kind, const char *id, http_response *res)
{
    doc_job *j = calloc(1, sizeof *j);
    if (!j) {
        http_respond_error(res, 503, "the node is out of memory; retry later");
        return;
    }
    const char *ct = http_request_header(req, "content-type");
    *j = (doc_job){.d = d, .c = *c, .kind = kind};
    snprintf(j->id, sizeof j->id, "%s", id ? id : "");
    if (id && kind == JOB_CREATE)
        snprintf(j->link, sizeof j->link, "%s",
                 !strcmp(req->path + strlen(req->path) - 7, "/update") ? "updates" : "replaces");
    snprintf(j->content_type, sizeof j->content_type, "%s", ct ? ct : "");
    offload_request(req, res, &(offload_task){d->node->loop, j, job_work, job_done});
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
    if (doc_env_csv(d, req, c, &q, res))
        return;
    lt_error e = {0};
    doc_env_answer(res, documents_list(d->docs, c->unit, &q, auth_tree(d->node->auth), &e), &e,
                   200);
}

static void collection(void *ctx, const http_request *req, http_response *res)
{
    documents_env *d = ctx;
    bool post = !strcmp(req->method, "POST");
    auth_caller c;
    if (auth_require(d->node->auth, req, res, post ? ROLE_STAFF : ROLE_VIEWER, &c))
        return;
    if (post) /* a body goes to documents_create_consumer */
        http_respond_code(res, 400, "document.field",
                          "the body is empty: send the document as JSON, or as multipart with a "
                          "part \"document\" and the attachments");
    else
        list_get(d, req, &c, res);
}

static void receipt_post(documents_env *d, const http_request *req, const auth_caller *c,
                         const char *id, http_response *res)
{
    json_t *in = doc_env_body(req, res);
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
        doc_env_answer(res, documents_get(d->docs, id, c->unit, auth_tree(d->node->auth), &e), &e,
                       200);
}

static void recall_post(documents_env *d, const http_request *req, const auth_caller *c,
                        const char *id, http_response *res)
{
    json_t *in = doc_env_body(req, res);
    if (!in)
        return;
    lt_error e = {0};
    doc_actor who = actor_of(c);
    int rc =
        documents_recall(d->docs, id, json_string_value(json_object_get(in, "reason")), &who, &e);
    json_decref(in);
    if (rc)
        http_respond_lt(res, &e);
    else
        doc_env_answer(res, documents_get(d->docs, id, c->unit, auth_tree(d->node->auth), &e), &e,
                       200);
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
    if (n && !strcmp(seg[0], "register") &&
        ((get && n == 1) ||
         (post && n == 2 && (!strcmp(seg[1], "handover") || !strcmp(seg[1], "takeover")))))
        doc_env_register(d, req, &c, n == 2 ? seg[1] : NULL, res);
    else if (get && n == 1 && !strcmp(seg[0], "types"))
        http_respond_json(res, 200, json_pack("{s:o}", "types", documents_types(d->docs)));
    else if (post && n == 1 && !strcmp(seg[0], "edxml"))
        job_start(d, req, &c, JOB_EDXML_IN, NULL, res);
    else if (get && n == 2 && !strcmp(seg[1], "edxml"))
        job_start(d, req, &c, JOB_EDXML_OUT, seg[0], res);
    else if (get && n == 1)
        doc_env_answer(res, documents_get(d->docs, seg[0], c.unit, auth_tree(d->node->auth), &e),
                       &e, 200);
    else if (post && n == 2 && !strcmp(seg[1], "receipts"))
        receipt_post(d, req, &c, seg[0], res);
    else if (post && n == 2 && !strcmp(seg[1], "recall"))
        recall_post(d, req, &c, seg[0], res);
    else if (post && n == 2 && (!strcmp(seg[1], "update") || !strcmp(seg[1], "replace")))
        job_start(d, req, &c, JOB_CREATE, seg[0], res);
    else if (post && n == 2 && !strcmp(seg[1], "sign"))
        job_start(d, req, &c, JOB_SIGN, seg[0], res);
    else if (get && n == 2 && !strcmp(seg[1], "verify"))
        job_start(d, req, &c, JOB_VERIFY, seg[0], res);
    else if (get && n == 3 && !strcmp(seg[1], "files"))
        documents_file_send(d, req, c.unit, seg[0], seg[2], res);
    else
        http_respond_error(res, n ? 405 : 404,
                           "no %s at %s: see docs/documents.md for the document routes",
                           req->method, req->path);
}

/* ---- tasks ---- */

static void tasks_collection(void *ctx, const http_request *req, http_response *res)
{
    documents_env *d = ctx;
    bool post = !strcmp(req->method, "POST");
    auth_caller c;
    if (auth_require(d->node->auth, req, res, post ? ROLE_LEADER : ROLE_VIEWER, &c))
        return;
    lt_error e = {0};
    if (post) {
        json_t *in = doc_env_body(req, res);
        if (!in)
            return;
        doc_actor who = actor_of(&c);
        doc_env_answer(res, documents_task_create(d->docs, in, &who, auth_tree(d->node->auth), &e),
                       &e, 201);
        json_decref(in);
        return;
    }
    const char *od = http_request_query_param(req, "overdue");
    const char *assignee = http_request_query_param(req, "assignee");
    bool overdue = od && (!strcmp(od, "1") || !strcmp(od, "true"));
    if (doc_env_tasks_csv(d, req, &c, assignee, overdue, res))
        return;
    doc_env_answer(
        res, documents_task_list(d->docs, c.unit, assignee, overdue, auth_tree(d->node->auth), &e),
        &e, 200);
}

static void tasks_item(void *ctx, const http_request *req, http_response *res)
{
    documents_env *d = ctx;
    bool get = !strcmp(req->method, "GET") || !strcmp(req->method, "HEAD");
    bool post = !strcmp(req->method, "POST");
    auth_caller c;
    if (auth_require(d->node->auth, req, res, get ? ROLE_VIEWER : ROLE_STAFF, &c))
        return;
    char rest[512], *seg[SEG_MAX + 1];
    snprintf(rest, sizeof rest, "%s", req->path + strlen(TASKS "/"));
    size_t n = path_split(rest, seg);
    lt_error e = {0};
    const unit_tree *t = auth_tree(d->node->auth);
    if (get && n == 1) {
        doc_env_answer(res, documents_task_get(d->docs, seg[0], c.unit, t, &e), &e, 200);
    } else if (post && n == 2 && !strcmp(seg[1], "progress")) {
        json_t *in = doc_env_body(req, res);
        if (!in)
            return;
        doc_actor who = actor_of(&c);
        int rc = documents_task_progress(d->docs, seg[0], in, &who, t, &e);
        json_decref(in);
        doc_env_answer(res, rc ? NULL : documents_task_get(d->docs, seg[0], c.unit, t, &e), &e,
                       200);
    } else {
        http_respond_error(res, n ? 405 : 404,
                           "no %s at %s: see docs/documents.md for the task routes", req->method,
                           req->path);
    }
}

size_t documents_env_routes(documents_env *e, http_route *routes, size_t cap)
{
    const http_route all[] = {
        {NULL, PREFIX, http_body_handler, &e->create, documents_file_max() + CREATE_OVERHEAD},
        {NULL, PREFIX "/", item, e, JSON_MAX_BODY},
        {"POST", PREFIX "/edxml", item, e, EDXML_MAX_BODY},
        {NULL, "/api/v1/document-types", doc_env_types, e, JSON_MAX_BODY},
        {NULL, "/api/v1/document-types/", doc_env_types, e, JSON_MAX_BODY},
        {NULL, TASKS, tasks_collection, e, JSON_MAX_BODY},
        {NULL, TASKS "/", tasks_item, e, JSON_MAX_BODY},
    };
    size_t n = sizeof all / sizeof *all;
    if (n > cap)
        n = cap;
    for (size_t i = 0; i < n; i++)
        routes[i] = all[i];
    return n;
}
