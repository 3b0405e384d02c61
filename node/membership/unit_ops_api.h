/*
 * unit_ops_api.h - tree changes over HTTP for the web UI's admin page
 * (the same operations as `lienthong unit`, node/membership/unit_ops.h):
 *
 *   POST /api/v1/units  {"op": "move"|"merge"|"retire-tier"|"rename",
 *                        "unit", "units": ["A","B"] or "A,B", "parent",
 *                        "into", "name", "tier", "yes": bool}
 *       200 {"applied": false, "op": {...}, "changes": [...]}: the plan,
 *           nothing written; with "yes": true it is written and
 *           "applied" is true. Admins of the trust root's own unit only.
 *   GET /api/v1/units/ops  {"ops": [the unit_ops records, oldest first]}:
 *       why units moved or merged. Viewers and above.
 *
 * Errors: the unit.* codes of unit_ops_plan, 400 unit.op_invalid for a
 * body that is not such an object.
 */
#ifndef LT_UNIT_OPS_API_H
#define LT_UNIT_OPS_API_H

#include "node/env/env.h"
#include "node/http/http.h"

/* The handler of /api/v1/units (ctx: the node_env). */
void unit_ops_api(void *ctx, const http_request *req, http_response *res);

#endif
