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
    pos_cache *pos; /* complete positions, read by sessions as changes */
    store_input chain[CHAIN_MAX];
    size_t nchain;
    uint64_t applied; /* entries added through links */
    uint64_t changes; /* batches that added entries or carried markers: when
                       * it moves, the node's other links have news to send */
} repl_node;

/* True when e belongs to a membership collection ("network", "units",
 * "certs": node/network.h). */
bool repl_is_membership(const entry_view *e);

/* The operations, with a repl_node * as their context. */
extern const repl_store_ops repl_node_ops;

/* Prepares n for the node with key pk and unit in store s: loads the unit
 * tree and positions and collects the certificate chain. Returns 0, or -1 with err (e.g.
 * the node is not enrolled). */
int repl_node_init(repl_node *n, store *s, const char *unit, const uint8_t pk[ENTRY_KEY_BYTES],
                   char *err, size_t errlen);

/* Reloads the unit tree, chain and positions (after membership entries
 * changed, or markers were applied outside the sessions). */
int repl_node_reload(repl_node *n, char *err, size_t errlen);

/* Releases what init allocated (not the store). */
void repl_node_release(repl_node *n);

#endif
