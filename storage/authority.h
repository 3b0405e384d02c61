/*
 * authority.h - write authority, checked on apply at every node (not only
 * where an entry was written): may this entry's author change what it
 * changes? The rules read only what the applying transaction holds:
 *
 *   identity   the origin key has a certificate (collection "certs") for
 *              the entry's unit; a revoked certificate stops its key;
 *   membership certificates and "units" records are written by an
 *              ancestor of the unit concerned (or by the unit itself for a
 *              mirror's certificate or a change that keeps its parent);
 *              the network config only by the trust root;
 *   tier       definitions that only a higher tier may issue (the
 *              collections the domains name in store_options'
 *              top_tier_collections) come from the top tiers: at most
 *              tiers-3 levels below the root (national and province in a
 *              4-tier network, the root alone in a 2- or 3-tier one);
 *   ownership  every other record belongs to the units in its owner set:
 *              the unit of its first put, plus every "owner_unit" value an
 *              accepted entry gave it; only those units and the units above
 *              them may change it (a district reassigns a commune's record,
 *              a neighbouring commune may not). "Above" follows the tree,
 *              and only forward: a record's first put carries its creation
 *              place ("created_in": the HLC and the path from the top down
 *              to its unit, a merged unit's successors included, which
 *              store_write_local adds); for an owner
 *              that created the record there, the units on that path (or
 *              above its top unit) and the units the owner was placed
 *              under by an entry newer than the creation, with everything
 *              above them, may change it, and a unit the owner left before
 *              does not; for an owner without a creation place (older
 *              records, reassigned owners), any unit it was ever placed
 *              under. Placements ("edges", each with the newest HLC that
 *              made it), places and owner sets only grow, so the rule is a
 *              monotone function of the entries held (docs/protocol.md,
 *              "Records after a tree change"); and a node's own write must
 *              also come from an owner or an ancestor of one in the tree as
 *              it is now: a district a commune left writes no more to the
 *              commune's records.
 *
 * An entry that fails is not applied: it goes to the quarantine (see
 * quarantine.h) with the reason. Failures that later entries can cure (an
 * author whose certificate has not arrived yet, an owner set, places or
 * placements that may still grow, a change of a record whose first put has
 * not arrived) wait there and are re-examined when membership or the
 * record's owners change, so the outcome does not depend on arrival order;
 * the others are refused for good. A store that holds no network config
 * (not enrolled: unit tests, tools) checks nothing.
 */
#ifndef LT_AUTHORITY_H
#define LT_AUTHORITY_H

#include "storage/store_internal.h"

typedef enum { AUTH_OK = 0, AUTH_WAIT, AUTH_DENY } auth_verdict;

/* "m" (membership) or "r" followed by the record key (coll 0x00 id). */
#define AUTH_WAIT_MAX (1 + 64 + 1 + ENTRY_MAX_NAME)

typedef struct {
    auth_verdict verdict;
    uint8_t wait[AUTH_WAIT_MAX]; /* what a waiting entry waits for */
    size_t wait_len;
    char why[STORE_ERR_LEN]; /* the reason, for admins */
    bool enforced;           /* the store holds a network config */
} auth_decision;

/* Decides whether e may be applied, from what txn holds (the network
 * config is read once per transaction and kept in ac). Returns an LMDB
 * code for storage failures; the decision goes to *d. */
int authority_check(store *s, MDB_txn *txn, apply_ctx *ac, const entry_view *e, auth_decision *d);

/* The body a node's own write w (signed as unit, with this HLC) must carry:
 * a put that creates a record with owners (no put of it held here) gets
 * "created_in" = {"hlc": hlc, "path": [the units from the top down to
 * unit, as this node's tree has them now]}; a patch or delete of a record
 * created with a place repeats it (the oldest, when several), so that a
 * node that does not hold the put yet can judge the change. Any
 * "created_in" the caller gave is replaced. *out is then a new body (free
 * it), else NULL (keep w's). Only in a store that holds a network config.
 * Returns an LMDB code. */
int authority_place_body(store *s, MDB_txn *txn, apply_ctx *ac, const store_write *w,
                         const char *unit, uint64_t hlc, uint8_t **out, size_t *outlen);

/* Releases what authority kept in ac. */
void authority_release(apply_ctx *ac);

/* Records what the applied entry e adds to authority (owner sets, kept
 * only when `enforced`, from its decision) and what it may cure (wake-ups
 * in ac). Returns an LMDB code. */
int authority_note(store *s, MDB_txn *txn, apply_ctx *ac, const entry_view *e, bool enforced);

#endif
