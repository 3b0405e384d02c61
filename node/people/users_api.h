/*
 * users_api.h - the node's accounts over HTTP, for the web UI's admin page
 * (the CLI equivalent is `lienthong user`). Admins only.
 *
 *   GET    /api/v1/users          {"users": [{"user", "unit", "role", "created", "disabled"}]}
 *   GET    /api/v1/users?format=csv  the same as CSV (users_csv.h)
 *   POST   /api/v1/users          {"user", "password", "role", "unit"?} -> 201 the account
 *   PATCH  /api/v1/users/{name}   any of {"role", "unit", "disabled", "password"} -> the account
 *   DELETE /api/v1/users/{name}   -> {"deleted": name}; ends its sessions and tokens
 *
 * unit defaults to the node's own and must be it or a unit of its subtree.
 * A caller sees, creates, changes and deletes only accounts of its own
 * unit's subtree, and grants no role above its own (access_may_manage):
 * an admin of commune 16684 hosted on the province's node manages the
 * commune's accounts, not the province's; otherwise 403.
 * Passwords are hashed on the uv thread pool (Argon2id, about 0.1 s). An
 * admin cannot delete, disable or demote their own account (ask another
 * admin), so a node never loses its last admin by a slip.
 */
#ifndef LT_USERS_API_H
#define LT_USERS_API_H

#include "node/env/env.h"
#include "node/http/http.h"
#include "node/people/auth.h"

/* The handler of every method above (ctx: the node_env). */
void users_api(void *ctx, const http_request *req, http_response *res);

/* The accounts me may manage (its unit's subtree), as a JSON array of
 * {"user", "unit", "role", "created", "disabled"} (never a password hash),
 * or NULL when the store cannot be read. */
json_t *users_list(node_env *d, const auth_caller *me);

#endif
