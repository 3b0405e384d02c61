/*
 * restore_gate.h - a node restored from a backup signs nothing until it
 * holds its own log again.
 *
 * The entries the node signed after its backup are held by its parent
 * (and mirrors); replication sends a node the part of its own log it lacks
 * (replication/session.c, own_tail). Until it holds it, a new entry signed
 * with its key would reuse one of those seqs: an equivocation, which gets
 * the key refused everywhere. So while DIR/restored.json names the node's
 * key (node/recovery.h), the gate holds:
 *   - every local write signed with the key (store_hold_local): audit
 *     entries, escalations, camera states, live indicator values;
 *   - HTTP requests that may write: 503 with the code node.catching_up.
 * It opens once a link to a server of its parent unit or to a mirror (not
 * a failover link to a grandparent, whose copy may lag) is open and has sent its
 * positions (for the root, which has no upstream: any link), and the node
 * holds its own log, without a gap, up to the highest seq any open
 * neighbour says it holds (0 when none knows of the node: nothing it
 * signed after the backup reached them). Then it removes
 * DIR/restored.json and logs node.caught_up.
 */
#ifndef LT_RESTORE_GATE_H
#define LT_RESTORE_GATE_H

#include "node/env/config.h"
#include "node/http/http.h"
#include "node/links/repl_link.h"
#include "storage/store.h"

#include <stdbool.h>
#include <stdint.h>

#define RESTORE_GATE_CODE "node.catching_up"

typedef struct {
    const node_config *c;
    store *s;
    bool holding;    /* restored and not caught up yet */
    uint64_t target; /* the highest seq of its own log a neighbour holds */
    uint64_t held;   /* the contiguous part of its own log it holds */
    bool upstream;   /* a parent or mirror has told its positions */
} restore_gate;

/* Sets g up for the node c with store s: holding, with s's local writes
 * of c's key held, when DIR/restored.json names c's key. */
void restore_gate_init(restore_gate *g, const node_config *c, store *s);

/* Looks at the links (call it on a timer): opens the gate when the node
 * caught up (see above). Returns true when it opened now. */
bool restore_gate_check(restore_gate *g, const repl_links *L);

/* An http_gate_fn (ctx: a restore_gate): true, with a 503 in res, when
 * the gate holds and req may write. */
bool restore_gate_http(void *ctx, const http_request *req, http_response *res);

/* Puts the gate's message (what is going on and what to do) into buf. */
void restore_gate_describe(const restore_gate *g, char *buf, size_t cap);

#endif
