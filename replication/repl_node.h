/*
 * repl_node.h - a node's side of replication: the store operations a
 * session needs (repl_store_ops), backed by the node's LMDB store, its unit
 * tree and its certificate chain. One repl_node serves every link of the
 * node; the WebSocket binding and the simulator both use it.
 */
#ifndef LT_REPL_NODE_H
#define LT_REPL_NODE_H

#include "replication/chain.h"
#include "replication/pos_cache.h"
#include "replication/session.h"

typedef struct {
    store *store;
    char unit[33];
    uint8_t pk[ENTRY_KEY_BYTES];
    unit_tree *tree;
    unit_tree *spare;    /* the previous tree, while a reload compares the two */
    repl_generation gen; /* tree reloads and lowerings of complete positions */
    pos_cache *pos;      /* complete positions, read by sessions as changes */
    store_input chain[CHAIN_MAX];
    size_t nchain;
    uint64_t applied; /* entries added through links */
    uint64_t changes; /* batches that added entries or carried markers: when
                       * it moves, the node's other links have news to send */
} repl_node;

/* The operations, with a repl_node * as their context. */
extern const repl_store_ops repl_node_ops;

/* Prepares n for the node with key pk and unit in store s: loads the unit
 * tree and positions and collects the certificate chain. Returns 0, or -1 with err (e.g.
 * the node is not enrolled). */
int repl_node_init(repl_node *n, store *s, const char *unit, const uint8_t pk[ENTRY_KEY_BYTES],
                   char *err, size_t errlen);

/* Reloads the unit tree and chain (after membership entries changed).
 * When the new tree gives this node more to hold than the old one (it or
 * an ancestor moved, a unit moved into its subtree, a unit's origin is
 * now inside its subtree), lowers the complete positions that were vouched
 * under the old tree (store_complete_lower), so its links fetch what it now
 * lacks; sessions notice through repl_store_ops.generation. On the first
 * load, positions recorded under another view (a crash between an apply
 * and its reload) are all lowered. Then reloads the in-memory complete
 * positions (also after markers were applied outside the sessions). */
int repl_node_reload(repl_node *n, char *err, size_t errlen);

/* Releases what init allocated (not the store). */
void repl_node_release(repl_node *n);

#endif
