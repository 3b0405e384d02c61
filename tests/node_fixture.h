/*
 * node_fixture.h - real nodes for in-process tests: a data directory with
 * keys and config, an LMDB store, network membership (root or enrolled
 * under a parent) and the replication ops, plus helpers to write records
 * and to run two sessions against each other until they are quiet.
 */
#ifndef LT_NODE_FIXTURE_H
#define LT_NODE_FIXTURE_H

#include "node/membership/network.h"
#include "replication/repl_node.h"

typedef struct {
    node_config c;
    store *s;
    repl_node rn;
} fx_node;

/* Creates node `unit` of `tier` under base: the trust root when parent is
 * NULL, else enrolled by parent (a mirror when unit and tier are the
 * parent's). Aborts the test on failure. */
void fx_node_make(fx_node *n, const char *base, const char *unit, const char *tier,
                  fx_node *parent);

/* The usual test tree under base: province 40 (the root), district 412,
 * communes 16681 and 16684 under it. */
void fx_tree4(const char *base, fx_node *p, fx_node *d, fx_node *c1, fx_node *c2);

/* Releases the node's replication state and closes its store. */
void fx_node_free(fx_node *n);

/* Writes one record {title} as a local put, addressed to `to` (or none). */
void fx_write(fx_node *n, const char *coll, const char *id, const char *title, const char *to);

/* fx_session over store operations of the test's own (ops outlives the
 * session). */
repl_session *fx_session_ops(fx_node *n, const repl_store_ops *ops, bool initiator,
                             bool defer_verify, uint64_t now);

/* A session of node n. */
repl_session *fx_session(fx_node *n, bool initiator, bool defer_verify, uint64_t now);

/* Moves messages between a and b (running verification jobs inline) until
 * both are quiet; returns the number of messages moved. */
int fx_shuttle(repl_session *a, repl_session *b, uint64_t now);

/* True when n holds record coll/id. */
bool fx_has(fx_node *n, const char *coll, const char *id);

#endif
