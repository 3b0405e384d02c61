/*
 * documents_env.h - what the HTTP handlers of the documents domain share:
 * the node's services and the domain context. The daemon makes one at
 * start and registers documents_env_routes.
 */
#ifndef LT_DOCUMENTS_ENV_H
#define LT_DOCUMENTS_ENV_H

#include "documents/documents.h"
#include "node/env/env.h"
#include "node/http/http.h"

typedef struct documents_env {
    node_env *node;
    documents *docs;
    uv_timer_t deliver_timer; /* looks for new arrivals (documents_env_start) */
    uv_work_t deliver_work;
    bool delivering, started;
    uint64_t deliver_seen; /* the store's arrival counter at the last run */
} documents_env;

/* The documents domain of the node of env. NULL when out of memory. */
documents_env *documents_env_new(node_env *env);

/* Starts the automatic receipt "delivered" on the node's loop: every
 * DOCUMENTS_DELIVER_MS, when entries arrived, documents_deliver runs on the
 * thread pool. */
#define DOCUMENTS_DELIVER_MS 500
void documents_env_start(documents_env *e);

/* Stops the timer of documents_env_start (before the loop's last run). */
void documents_env_stop(documents_env *e);

/* Frees what documents_env_new made. NULL is ignored. */
void documents_env_free(documents_env *e);

/* Fills routes (room for cap) with the domain's HTTP routes, bound to e:
 *   GET  /api/v1/documents ?box=in|out&status&q&type&urgency&from&to&overdue=1&limit POST
 * /api/v1/documents                 issue {type, subject, body, recipients, ...}, or multipart:
 * part "document" (that JSON) and file parts (attachments); on the thread pool GET
 * /api/v1/documents/types           the document types GET  /api/v1/documents/{id}            one
 * document with its recipients' states POST /api/v1/documents/{id}/receipts   {"status", "note"} (a
 * recipient) POST /api/v1/documents/{id}/recall     {"reason"} (the issuing unit) POST
 * /api/v1/documents/{id}/sign       {"password"} (a signer of the issuing unit; pool) GET
 * /api/v1/documents/{id}/verify     who signed, when, whether anything changed (pool) GET
 * /api/v1/documents/{id}/files/{hash}  an attachment GET  /api/v1/documents/{id}/edxml      the
 * document as an edXML message (pool) POST /api/v1/documents/edxml           an edXML message in,
 * as an incoming document (pool) GET  /api/v1/tasks                     ?assignee&overdue=1 POST
 * /api/v1/tasks                     {title, detail, due, assignees, doc} (a leader) GET
 * /api/v1/tasks/{id}                one task with each assignee's progress POST
 * /api/v1/tasks/{id}/progress       {percent, note, done} (staff of an assignee) Returns how many
 * were written. */
size_t documents_env_routes(documents_env *e, http_route *routes, size_t cap);

#endif
