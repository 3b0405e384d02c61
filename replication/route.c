/*
 * route.c - the routing rule of route.h.
 */
#include "replication/route.h"

#include <string.h>

link_kind route_link_kind(const unit_tree *t, const char *self, const char *peer)
{
    size_t sl = strlen(self), pl = strlen(peer);
    if (sl == pl && !memcmp(self, peer, sl))
        return LINK_MIRROR;
    if (unit_tree_within(t, self, sl, peer, pl))
        return LINK_UP;
    if (unit_tree_within(t, peer, pl, self, sl))
        return LINK_DOWN;
    return LINK_NONE;
}

/* True when unit falls within e's addressees that this tree can place; an
 * addressee merged away addresses its successors too (unit_tree_reach);
 * *unplaced tells whether e also names a unit the tree does not know. */
static bool addressed_known(const unit_tree *t, const entry_view *e, const char *unit,
                            bool *unplaced)
{
    *unplaced = false;
    for (uint32_t i = 0; i < e->to.size; i++) {
        const msgpack_object_str *a = &e->to.ptr[i].via.str;
        if (a->size == 1 && a->ptr[0] == '*')
            return true;
        size_t n = a->ptr[a->size - 1] == '*' ? a->size - 1 : a->size;
        if (!unit_tree_known(t, a->ptr, n)) {
            /* the author's own unit, not known here, is neither above unit
             * (a node knows its ancestors) nor below it (unless unit holds
             * the entry already): it is not for unit */
            if (n != e->unit.size || memcmp(a->ptr, e->unit.ptr, n))
                *unplaced = true;
        } else if (unit_tree_reach(t, a->ptr, n, unit,
                                   n < a->size ? UNIT_BELOW | UNIT_ABOVE : UNIT_BELOW)) {
            /* "U": U, or a unit U was merged into, is inside unit's subtree;
             * "U*": that subtree also contains unit */
            return true;
        }
    }
    return false;
}

bool route_addressed_to(const unit_tree *t, const entry_view *e, const char *unit, bool blind)
{
    bool unplaced;
    return addressed_known(t, e, unit, &unplaced) || (blind && unplaced);
}

bool route_should_send(const unit_tree *t, const entry_view *e, link_kind k, const char *self,
                       const char *peer)
{
    switch (k) {
    case LINK_MIRROR: return true;
    case LINK_UP: return unit_tree_within(t, e->unit.ptr, e->unit.size, self, strlen(self));
    case LINK_DOWN: {
        if (unit_tree_within(t, e->unit.ptr, e->unit.size, peer, strlen(peer)))
            return false;
        /* an addressee this node cannot place is not for the peer (see route.h) */
        bool unplaced;
        return addressed_known(t, e, peer, &unplaced);
    }
    case LINK_NONE: break;
    }
    return false;
}

bool route_may_vouch(const unit_tree *t, const char *origin_unit, link_kind k, const char *self,
                     const char *peer)
{
    size_t ol = strlen(origin_unit);
    switch (k) {
    case LINK_MIRROR: return true;
    case LINK_UP: return unit_tree_within(t, origin_unit, ol, self, strlen(self));
    case LINK_DOWN: return !unit_tree_within(t, origin_unit, ol, peer, strlen(peer));
    case LINK_NONE: break;
    }
    return false;
}

bool route_news(const unit_tree *t, const entry_view *e, const char *peer)
{
    return entry_is_membership(e) && route_addressed_to(t, e, peer, true);
}
