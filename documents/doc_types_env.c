/*
 * doc_types_env.c - the HTTP handler of the document types:
 *   GET /api/v1/document-types          the list (viewer)
 *   PUT /api/v1/document-types/{code}   {symbol, name_vi, name_en, active} (an admin of a top tier)
 */
#include "documents/doc_env_internal.h"

#include <string.h>

#define TYPES "/api/v1/document-types"

void doc_env_types(void *ctx, const http_request *req, http_response *res)
{
    documents_env *d = ctx;
    bool get = !strcmp(req->method, "GET") || !strcmp(req->method, "HEAD");
    bool put = !strcmp(req->method, "PUT");
    const char *code =
        !strncmp(req->path, TYPES "/", strlen(TYPES "/")) ? req->path + strlen(TYPES "/") : NULL;
    auth_caller c;
    if ((get && code) || (!get && !put) || (put && !code)) {
        http_respond_error(res, 405, "%s %s: GET %s lists the types, PUT %s/{code} defines one",
                           req->method, req->path, TYPES, TYPES);
        return;
    }
    if (auth_require(d->node->auth, req, res, get ? ROLE_VIEWER : ROLE_ADMIN, &c))
        return;
    if (get) {
        http_respond_json(res, 200, json_pack("{s:o}", "types", documents_types(d->docs)));
        return;
    }
    json_t *in = doc_env_body(req, res);
    if (!in)
        return;
    lt_error e = {0};
    doc_actor who = {c.user, c.unit, c.role};
    int rc = documents_type_put(d->docs, code, in, &who, &e);
    json_decref(in);
    doc_env_answer(res, rc ? NULL : json_pack("{s:o}", "types", documents_types(d->docs)), &e, 200);
}
