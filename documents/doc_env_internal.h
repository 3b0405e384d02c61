/*
 * doc_env_internal.h - what the HTTP handler files of the documents domain
 * share (documents_env.c and the handlers of one part each).
 */
#ifndef LT_DOC_ENV_INTERNAL_H
#define LT_DOC_ENV_INTERNAL_H

#include "documents/documents_env.h"
#include "node/people/auth.h"

/* The request body as a JSON object, or NULL after answering 400. */
json_t *doc_env_body(const http_request *req, http_response *res);

/* Answers j (stolen) with status, or the error e when j is NULL. */
void doc_env_answer(http_response *res, json_t *j, const lt_error *e, int status);

/* The numbering register (doc_register_env.c): GET when action is NULL,
 * else POST .../handover or .../takeover. */
void doc_env_register(documents_env *d, const http_request *req, const auth_caller *c,
                      const char *action, http_response *res);

/* The document types (doc_types_env.c): GET /api/v1/document-types and
 * PUT /api/v1/document-types/{code}. */
void doc_env_types(void *ctx, const http_request *req, http_response *res);

/* Answers the list q as CSV when req asks it (?format=csv or Accept:
 * text/csv; doc_csv_env.c): every match, on the thread pool. Returns
 * false, answering nothing, when req asks JSON. */
bool doc_env_csv(documents_env *d, const http_request *req, const auth_caller *c,
                 const doc_query *q, http_response *res);

/* The same for the tasks list (GET /api/v1/tasks?format=csv): the tasks
 * documents_task_list gives for assignee and overdue, every one. */
bool doc_env_tasks_csv(documents_env *d, const http_request *req, const auth_caller *c,
                       const char *assignee, bool overdue, http_response *res);

#endif
