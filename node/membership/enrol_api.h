/*
 * enrol_api.h - the HTTP side of enrolment (node/membership/enrol.h):
 *
 *   POST /api/v1/enrol/requests                 a node asks to join or to
 *                                               rotate its key (no login: it
 *                                               is only a request)
 *   GET  /api/v1/enrol/requests/{id}            its state, and when approved
 *                                               the membership entries (no
 *                                               login: the id is the node's)
 *   GET  /api/v1/enrol/requests                 the list (admin)
 *   POST /api/v1/enrol/requests/{id}/approve    (admin)
 *   POST /api/v1/enrol/requests/{id}/refuse     {"reason": TEXT} (admin)
 */
#ifndef LT_ENROL_API_H
#define LT_ENROL_API_H

#include "node/env/env.h"
#include "node/http/http.h"

#define ENROL_POSTS_PER_MINUTE 30 /* per remote address */

/* POST under /api/v1/enrol/requests; ctx is the node_env. */
void enrol_api_post(void *ctx, const http_request *req, http_response *res);

/* GET under /api/v1/enrol/requests; ctx is the node_env. */
void enrol_api_get(void *ctx, const http_request *req, http_response *res);

#endif
