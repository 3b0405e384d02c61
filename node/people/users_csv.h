/*
 * users_csv.h - the node's accounts as CSV for the admin page:
 * GET /api/v1/users?format=csv (or Accept: text/csv), admins only, the
 * accounts the JSON list shows (users_list). Contract: docs/web.md.
 */
#ifndef LT_USERS_CSV_H
#define LT_USERS_CSV_H

#include "node/env/env.h"
#include "node/http/http.h"
#include "node/people/auth.h"

/* When req asks CSV, answers it on the thread pool with the columns user,
 * unit, role, created, disabled (UTF-8 with a byte order mark) and
 * returns true; false, answering nothing, when req asks JSON. */
bool users_csv_answer(node_env *d, const auth_caller *me, const http_request *req,
                      http_response *res);

#endif
