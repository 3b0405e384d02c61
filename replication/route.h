/*
 * route.h - which entries travel over which link: a pure function of the
 * entry's own fields and the unit tree, so every relay decides the same
 * way and a commune reached through its district, or directly through the
 * province after a failover, receives the same set.
 *
 * A link joins this node (unit `self`) and a peer (unit `peer`):
 *   up      the peer is an ancestor of self: every entry authored in
 *           self's subtree goes up;
 *   down    the peer is a descendant of self: entries addressed into the
 *           peer's part of the tree ("*", "U*" for U on the peer's path to
 *           the root or inside its subtree, "U" for U inside its subtree),
 *           except those authored in the peer's subtree (it has them;
 *           a peer restored from an older backup gets the missing part
 *           of its own log back by a rule of the session, not of this
 *           function: replication/session.c, own_tail).
 *           A node knows the units of its own subtree and of its
 *           ancestors' children only (node/membership/network.h), so an addressee U
 *           it cannot place is not inside the peer's subtree nor on its
 *           path (both of which it knows) and is not passed down; the
 *           root knows every unit, so an entry addressed only to units
 *           nobody serves stays on its author's path up. U's membership
 *           entries still on the way are caught by the views: the peer
 *           that knows U has another view than this node gives it, so
 *           this node's markers do not count there until both agree
 *           (session.h). The rule depends on the tree only through the
 *           peer's view (unit_tree_view); a failover link, which skips a
 *           node, carries what the path through that node would.
 *           An addressee U that the tree knows was merged away
 *           ("merged_into" C, C perhaps merged into E later) addresses
 *           its successors as well: "U" is also "C" and "E", "U*" also
 *           "C*" and "E*" (unit_tree_reach), so the node of a successor
 *           receives what is addressed to its predecessors, before the
 *           merge and after; the views carry the merges (unit_tree_view);
 *   mirror  the peer serves the same unit: everything;
 *   none    unrelated units never sync directly.
 *
 * Markers ("everything of origin O up to seq N that you should hold has
 * been sent") may only cross a link when the sender holds everything of O
 * the receiver should hold: up, for origins authored in self's subtree;
 * down, for origins not authored in the peer's subtree; mirror, always.
 */
#ifndef LT_ROUTE_H
#define LT_ROUTE_H

#include "replication/unit_tree.h"
#include "storage/entry.h"

typedef enum { LINK_NONE = 0, LINK_UP, LINK_DOWN, LINK_MIRROR } link_kind;

/* The kind of the link between units self and peer. */
link_kind route_link_kind(const unit_tree *t, const char *self, const char *peer);

/* True when entry e must be sent over a link of kind k to peer. */
bool route_should_send(const unit_tree *t, const entry_view *e, link_kind k, const char *self,
                       const char *peer);

/* True when markers for an origin authored by origin_unit may be sent
 * over a link of kind k to peer (see above). */
bool route_may_vouch(const unit_tree *t, const char *origin_unit, link_kind k, const char *self,
                     const char *peer);

/* True when e is a membership entry addressed into peer's part of the tree: all that a link whose
 * two sides disagree on their relation carries (see session.h), so that
 * the side with the older tree learns where the units sit now. */
bool route_news(const unit_tree *t, const entry_view *e, const char *peer);

/* True when unit (an entry's reader) falls within the addressees of e: the
 * downward part of the routing rule, also used for visibility. An
 * addressee the tree does not know counts when blind is true. */
bool route_addressed_to(const unit_tree *t, const entry_view *e, const char *unit, bool blind);

#endif
