/*
 * doc_register_env.c - the HTTP handlers of the numbering register:
 *   GET  /api/v1/documents/register            who holds it, the unit's servers
 *   POST /api/v1/documents/register/handover   {"to": node key, "reason"} (an admin, on the holder)
 *   POST /api/v1/documents/register/takeover   {"reason"} (an admin, on the node taking it)
 */
#include "documents/doc_env_internal.h"

#include <string.h>

void doc_env_register(documents_env *d, const http_request *req, const auth_caller *c,
                      const char *action, http_response *res)
{
    lt_error e = {0};
    if (!action) {
        doc_env_answer(res, documents_register_get(d->docs, &e), &e, 200);
        return;
    }
    json_t *in = doc_env_body(req, res);
    if (!in)
        return;
    doc_actor who = {c->user, c->unit, c->role};
    const char *reason = json_string_value(json_object_get(in, "reason"));
    int rc = !strcmp(action, "handover")
                 ? documents_register_handover(
                       d->docs, json_string_value(json_object_get(in, "to")), reason, &who, &e)
                 : documents_register_takeover(d->docs, reason, &who, &e);
    json_decref(in);
    doc_env_answer(res, rc ? NULL : documents_register_get(d->docs, &e), &e, 200);
}
