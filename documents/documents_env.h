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
    uint64_t deliver_seen;  /* the store's arrival counter at the last run */
    http_body_route create; /* POST /api/v1/documents: bodies streamed in */
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

/* Fills routes (room for cap) with the domain's HTTP routes, bound to e
 * (docs/documents.md, "HTTP API"): /api/v1/documents (GET lists; POST
 * issues, its body streamed to documents_create_consumer), its items
 * (types, {id}, receipts, recall, sign, verify, files/{hash} streamed,
 * edxml) and /api/v1/tasks. Returns how many were written. */
size_t documents_env_routes(documents_env *e, http_route *routes, size_t cap);

/* The unit tree as the store s holds it now, for work on the thread pool
 * (the loop's copy may be reloaded meanwhile); the caller frees it. NULL
 * when it cannot be read. */
unit_tree *documents_env_tree(store *s);

/* The consumer of the bodies of POST /api/v1/documents (doc_files_api.c):
 * JSON, or multipart with part "document" (the JSON) and file parts, each
 * attachment staged as it arrives (doc_upload). Its ctx is the
 * documents_env. */
extern const http_body_consumer documents_create_consumer;

/* Answers GET /api/v1/documents/{id}/files/{hash} for a user of unit: the
 * attachment streamed as it is read, a few chunks at a time on the thread
 * pool, at the client's pace (doc_files_api.c). */
void documents_file_send(documents_env *d, const http_request *req, const char *unit,
                         const char *id, const char *hash, http_response *res);

#endif
