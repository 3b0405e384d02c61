/*
 * unit_staff.h - the staff accounts of a unit merged away follow it: the
 * accounts a node holds for retired units move to the node that serves
 * their successor (`lienthong unit move-staff`), keeping their names,
 * roles and password hashes (node/people/accounts.h). Accounts are local
 * to a node, so both data directories must be on this machine.
 */
#ifndef LT_UNIT_STAFF_H
#define LT_UNIT_STAFF_H

#include "lib/error.h"
#include "node/env/config.h"

#include <jansson.h>

/* Plans, and with apply does, the move of every account in `from` whose
 * unit was retired (its "units" record held in from says so; merged_into
 * followed to a live unit, the successor) to the store `to` of node tc,
 * which must serve the successor (tc's unit or an ancestor of it, in to's
 * tree). An account whose name `to` already holds stays where it is.
 * *out receives [{"user", "role", "from", "to", "moved": bool, "why"}].
 * Returns 0, or -1 with e. */
int unit_staff_move(store *from, store *to, const node_config *tc, bool apply, json_t **out,
                    lt_error *e);

#endif
