/*
 * unit_tree.h - the administrative unit hierarchy as every node knows it
 * from the replicated "units" collection: code -> parent code.
 *
 * Tiers are data: the tree may be two, three or four levels deep, and a
 * unit may move to a new parent (an update of its "units" record; see
 * docs/protocol.md, "Tree changes"). Lookups are O(depth) with a hash
 * table per code. The tree also knows which node keys' certificates ended,
 * how, and from which seq on their entries are refused
 * (unit_tree_key_valid_at).
 *
 * What a node should hold depends on the tree only through its view: its
 * path to the root, the set of units inside its subtree and the merges
 * whose successors stand there (an addressee merged away addresses its
 * successors too: unit_tree_reach). Replication compares views
 * (unit_tree_view) to know when a position vouched under one tree still
 * holds under another.
 */
#ifndef LT_UNIT_TREE_H
#define LT_UNIT_TREE_H

#include "storage/store.h"

#include <stdbool.h>
#include <stddef.h>

#define UNIT_CODE_CAP 33 /* a unit code and its NUL */

typedef struct unit_tree unit_tree;

/* An empty tree. NULL when out of memory. */
unit_tree *unit_tree_new(void);

/* Frees the tree. NULL is ignored. */
void unit_tree_free(unit_tree *t);

/* Sets (or moves) unit code under parent (NULL or "" for a top unit).
 * Returns 0, or -1 when out of memory or a code is too long. */
int unit_tree_set(unit_tree *t, const char *code, size_t code_len, const char *parent,
                  size_t parent_len);

/* Loads the tree from the store, replacing what t held: every live
 * certificate places its unit under its parent_unit, and every live record
 * of collection "units" ({code, parent, ...}) sets its unit's parent.
 * Returns 0 or -1. */
int unit_tree_load(unit_tree *t, store *s);

/* True when anc is unit itself or one of its ancestors. Unknown units have
 * no ancestors but themselves. Cycles (a corrupt tree) end the walk. */
bool unit_tree_within(const unit_tree *t, const char *unit, size_t unit_len, const char *anc,
                      size_t anc_len);

/* What became of a node key's certificate (see docs/protocol.md,
 * "Certificate lifetime"). */
typedef enum {
    KEY_LIVE = 0,   /* certified, or not known to have ended */
    KEY_REVOKED,    /* withdrawn by its issuer or an ancestor (lienthong revoke) */
    KEY_SUPERSEDED, /* replaced by the unit's new key (lienthong rotate) */
} key_state;

/* The state of key's certificate; for an ended one *upto_seq (may be NULL)
 * receives the cut-off: the highest seq of the key's log that stays valid
 * (UINT64_MAX for a revocation of the older form, a deleted certificate,
 * which recorded none). */
key_state unit_tree_key_state(const unit_tree *t, const uint8_t key[ENTRY_KEY_BYTES],
                              uint64_t *upto_seq);

/* THE validity rule for entries of revoked and rotated keys: the entry
 * number seq of origin key is valid unless key's certificate ended
 * (revoked or superseded) with a cut-off below seq. Entries up to the
 * cut-off stay valid for ever; later ones are refused. Keys the tree knows
 * nothing against are valid here (write authority is checked elsewhere). */
bool unit_tree_key_valid_at(const unit_tree *t, const uint8_t key[ENTRY_KEY_BYTES], uint64_t seq);

/* True when the node key's certificate was revoked. */
bool unit_tree_revoked(const unit_tree *t, const uint8_t key[ENTRY_KEY_BYTES]);

/* True when code is in the tree. */
bool unit_tree_known(const unit_tree *t, const char *code, size_t len);

#define UNIT_VIEW_BYTES 16

/* The view of unit in t: a digest of its path to the root, of the sorted
 * codes of every unit inside its subtree and, when there are any, of the
 * units merged away whose successors (unit_tree_merged_into, in turn) stand
 * inside that subtree or on that path, each with how (sorted by code; a
 * tree without such merges gives the view it gave before merges routed).
 * Two trees giving a unit the same view route the same entries to it
 * (route.h: an addressee the sender cannot place is not passed down; one
 * merged away addresses its successors too). */
void unit_tree_view(const unit_tree *t, const char *unit, uint8_t out[UNIT_VIEW_BYTES]);

/* True when unit may have to hold more under cur than under old: its path
 * to the root changed, a unit old knew moved into its subtree, a unit old
 * knew is unknown in cur (conservatively: it may have been re-placed), a
 * unit old did not know is inside its subtree in cur (membership is
 * scoped: it may have moved in from another branch, whose entries
 * addressed to it were not routed here), or a unit merged away, with its
 * successors, now stands inside its subtree or on its path where it did
 * not before (a merge: what is addressed to the merged unit is now for
 * unit too; an ancestor of both places held it already). */
bool unit_tree_grows(const unit_tree *old, const unit_tree *cur, const char *unit);

/* unit_tree_within, the unit placed where it stands now: true when anc is
 * unit, one of its ancestors, or (for a unit merged away) its live
 * successor ("merged_into", followed to the end) or one of the
 * successor's ancestors. A merge keeps the merged unit's "parent" (its node
 * still links up there), so what is addressed to it belongs both there
 * and with its successor: the visibility rule uses it (node/people/access.h),
 * routing the same chain (route.c; docs/protocol.md, "Routing"). */
bool unit_tree_placed_within(const unit_tree *t, const char *unit, size_t unit_len, const char *anc,
                             size_t anc_len);

#define UNIT_BELOW 1u /* inside unit's subtree (unit itself included) */
#define UNIT_ABOVE 2u /* unit itself or one of its ancestors */

/* How code, and the units it was merged into in turn ("merged_into"
 * followed, cycles end it), stand to unit: UNIT_BELOW when one of them is
 * inside unit's subtree, UNIT_ABOVE when one is unit or an ancestor of it
 * (both for unit itself). Only the bits of want are looked for; the walk
 * stops once all of them are found. This is what an addressee "code"
 * (UNIT_BELOW) or "code*" (either) means for unit (route.c). */
unsigned unit_tree_reach(const unit_tree *t, const char *code, size_t len, const char *unit,
                         unsigned want);

/* The unit code was merged into ("merged_into" of its "units" record),
 * held by t (valid until t is loaded or changed again); NULL when it was
 * not merged away (or is unknown). One hash lookup: routing calls it per
 * addressee per entry per link. */
const char *unit_tree_merged_into(const unit_tree *t, const char *code, size_t len);

/* Records that code was merged into successor ("" or NULL: not merged
 * away), as a "units" record's "merged_into" does on load; code must be in
 * the tree. Returns 0, or -1 when code is unknown or a code is too long. */
int unit_tree_set_successor(unit_tree *t, const char *code, size_t len, const char *successor);

/* The unit code was merged into ("merged_into" of its "units" record)
 * into out; false when it was not merged away (or is unknown). */
bool unit_tree_successor(const unit_tree *t, const char *code, size_t len, char *out, size_t cap);

/* The parent of code into out (NODE_CODE_MAX bytes); false when none. */
bool unit_tree_parent(const unit_tree *t, const char *code, char *out, size_t cap);

#endif
