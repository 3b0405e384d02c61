/*
 * access.h - who may see what: the visibility rule every list, search,
 * export and blob download of the API applies.
 *
 * A user of unit U sees what was authored in U's subtree (U and every unit
 * below it) and what is addressed to U: an addressee "*", "A*" for A an
 * ancestor of U or inside U's subtree, or "A" for A inside U's subtree (a
 * unit merged away counts inside its live successor's subtree too:
 * unit_tree_placed_within).
 * Nothing else, even on a higher tier's node that holds far more. Unlike
 * routing (replication/route.h), an addressee this node does not know
 * grants nothing. Citizens' personal data (name, phone) in reports is shown
 * to staff and above (staff, leader, admin), never to viewers.
 */
#ifndef LT_ACCESS_H
#define LT_ACCESS_H

#include "node/people/accounts.h"
#include "replication/unit_tree.h"

#include <stdbool.h>
#include <stddef.h>

/* True when one addressee (addr[0..len): "*", "A*" or "A") reaches unit. */
bool access_addressed(const unit_tree *t, const char *unit, const char *addr, size_t len);

/* True when a user of unit may see something authored by author_unit and
 * addressed to to[0..nto). The author counts where it stands now: a unit
 * that moved is seen by its new ancestors and no longer by its former
 * ones, a unit merged away by its live successor and the successor's
 * ancestors (unit_tree_successor). */
bool access_visible(const unit_tree *t, const char *unit, const char *author_unit,
                    const char *const *to, size_t nto);

/* True when unit is now, or was merged away (in one or more steps) into
 * now: what unit issued is now's. */
bool access_became(const unit_tree *t, const char *unit, const char *now);

/* access_visible for a decoded entry (its unit and "to"). */
bool access_entry_visible(const unit_tree *t, const char *unit, const entry_view *e);

/* True when role may see citizens' personal data (name, phone). */
bool access_personal(account_role role);

/* True when a caller of caller_unit with caller_role may create, change,
 * delete or see an account (or an Open311 key) of target_unit with
 * target_role: the caller is an admin, target_unit is caller_unit or lies
 * below it, and target_role is not above caller_role. An admin of a commune
 * hosted on its province's node therefore manages its commune's accounts
 * only, never the province's, and never grants a role above its own. */
bool access_may_manage(const unit_tree *t, const char *caller_unit, account_role caller_role,
                       const char *target_unit, account_role target_role);

/* True when the caller is an admin of the node's own unit (node_unit):
 * only such an account changes what the node defines for itself or for the
 * network (categories, holidays, boundaries, UI settings, enrolment
 * decisions, the quarantine view). An admin of a unit below the node's is
 * not. caller_unit NULL (a citizen) is never. */
bool access_is_node_admin(const char *caller_unit, account_role caller_role, const char *node_unit);

#endif
