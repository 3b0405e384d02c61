/*
 * repl_node.c - store operations for replication sessions. See
 * repl_node.h.
 */
#include "replication/repl_node.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *node_unit(void *ctx)
{
    return ((repl_node *)ctx)->unit;
}

static int node_chain(void *ctx, const store_input **certs, size_t *n)
{
    repl_node *rn = ctx;
    *certs = rn->chain;
    *n = rn->nchain;
    return 0;
}

static const unit_tree *node_tree(void *ctx)
{
    return ((repl_node *)ctx)->tree;
}

static int node_positions(void *ctx, uint64_t *since,
                          int (*fn)(void *fctx, const uint8_t *origin, uint64_t seq,
                                    const char *unit),
                          void *fctx)
{
    repl_node *rn = ctx;
    return pos_cache_changed(rn->pos, rn->store, since, fn, fctx);
}

static int node_scan(void *ctx, const uint8_t *origin, uint64_t after, uint64_t upto,
                     int (*fn)(void *fctx, uint64_t seq, const uint8_t *bytes, size_t len),
                     void *fctx)
{
    return store_scan_origin(((repl_node *)ctx)->store, origin, after, upto, fn, fctx);
}

/* True when entry bytes belong to a membership collection. */
static bool is_membership(const uint8_t *bytes, size_t len)
{
    entry_head h;
    return !entry_head_read(bytes, len, &h) && entry_is_membership(&h.v); /* applied just before */
}

static int node_apply(void *ctx, const store_input *in, size_t n, const store_mark *marks,
                      size_t nmarks, apply_result *results)
{
    repl_node *rn = ctx;
    char err[STORE_ERR_LEN];
    if (store_apply_marked(rn->store, in, n, marks, nmarks, STORE_PREVERIFIED, results, NULL, err,
                           sizeof err))
        return -1;
    bool membership = false;
    for (size_t i = 0; i < n; i++) {
        if (results[i] != APPLY_ADDED)
            continue;
        rn->applied++;
        membership = membership || is_membership(in[i].bytes, in[i].len);
    }
    bool added = false;
    for (size_t i = 0; i < n && !added; i++)
        added = results[i] == APPLY_ADDED;
    if (added || nmarks)
        rn->changes++;
    /* markers move positions without adding entries: the cache learns of
     * added entries from the store's arrivals, of these here */
    for (size_t i = 0; i < nmarks; i++)
        if (pos_cache_touch(rn->pos, rn->store, marks[i].origin))
            return -1;
    if (membership)
        repl_node_reload(rn, err, sizeof err);
    return 0;
}

static repl_generation node_generation(void *ctx)
{
    return ((repl_node *)ctx)->gen;
}

static int node_chain_of(void *ctx, const uint8_t *subject, store_input *certs)
{
    char err[128];
    return chain_collect(((repl_node *)ctx)->store, subject, certs, err, sizeof err);
}

const repl_store_ops repl_node_ops = {node_unit, node_chain, node_tree,       node_positions,
                                      node_scan, node_apply, node_generation, node_chain_of};

static void chain_release(repl_node *n)
{
    for (size_t i = 0; i < n->nchain; i++)
        free((void *)n->chain[i].bytes);
    n->nchain = 0;
}

typedef struct {
    const repl_node *n;
    bool all;
} lower_rule;

/* store_complete_lower(): a position vouched under the old tree (spare)
 * may be short under the new one when the node's view grew, or when the
 * origin's unit is now inside its subtree (it should hold all of it). */
static bool lower_one(void *ctx, const uint8_t *origin, const char *unit)
{
    const lower_rule *r = ctx;
    size_t ul = strlen(unit), sl = strlen(r->n->unit);
    (void)origin;
    return r->all || (unit_tree_within(r->n->tree, unit, ul, r->n->unit, sl) &&
                      !unit_tree_within(r->n->spare, unit, ul, r->n->unit, sl));
}

static bool lower_none(void *ctx, const uint8_t *origin, const char *unit)
{
    (void)ctx, (void)origin, (void)unit;
    return false;
}

/* Makes the complete positions valid under the tree just loaded into
 * n->tree (the one before is in n->spare, or none on the first load). */
static int positions_follow(repl_node *n, bool first, char *err, size_t errlen)
{
    uint8_t view[UNIT_VIEW_BYTES], held[UNIT_VIEW_BYTES];
    unit_tree_view(n->tree, n->unit, view);
    int had = store_complete_view(n->store, held);
    if (had < 0) {
        snprintf(err, errlen, "cannot read this node's positions");
        return -1;
    }
    lower_rule r = {n, false};
    if (first) {
        if (had == 0 && !memcmp(view, held, sizeof view))
            return 0;
        /* a store without a recorded view predates it: its positions were
         * vouched under the tree it holds; another view: lower them all */
        r.all = had == 0;
        return store_complete_lower(n->store, r.all ? NULL : lower_none, NULL, view, err, errlen) <
                       0
                   ? -1
                   : 0;
    }
    r.all = unit_tree_grows(n->spare, n->tree, n->unit);
    /* the same view means the same subtree (no origin moved inside it) and
     * the same routing to this node (unit_tree_view) */
    if (!r.all && had == 0 && !memcmp(view, held, sizeof view))
        return 0;
    int lowered = store_complete_lower(n->store, lower_one, &r, view, err, errlen);
    if (lowered < 0)
        return -1;
    if (lowered)
        n->gen.lowered++;
    return 0;
}

int repl_node_reload(repl_node *n, char *err, size_t errlen)
{
    bool first = n->gen.tree == 0;
    unit_tree *old = n->tree;
    if (unit_tree_load(n->spare, n->store)) {
        snprintf(err, errlen, "cannot read the unit tree from the store");
        return -1;
    }
    n->tree = n->spare;
    n->spare = old;
    n->gen.tree++;
    if (positions_follow(n, first, err, errlen))
        return -1;
    if (pos_cache_reload(n->pos, n->store)) {
        snprintf(err, errlen, "cannot read the complete positions from the store");
        return -1;
    }
    store_input chain[CHAIN_MAX];
    int c = chain_collect(n->store, n->pk, chain, err, errlen);
    if (c < 0)
        return -1;
    chain_release(n);
    memcpy(n->chain, chain, (size_t)c * sizeof *chain);
    n->nchain = (size_t)c;
    return 0;
}

int repl_node_init(repl_node *n, store *s, const char *unit, const uint8_t pk[ENTRY_KEY_BYTES],
                   char *err, size_t errlen)
{
    memset(n, 0, sizeof *n);
    n->store = s;
    snprintf(n->unit, sizeof n->unit, "%s", unit);
    memcpy(n->pk, pk, ENTRY_KEY_BYTES);
    n->tree = unit_tree_new();
    n->spare = unit_tree_new();
    n->pos = pos_cache_new(s);
    if (!n->tree || !n->spare || !n->pos) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (repl_node_reload(n, err, errlen)) {
        repl_node_release(n);
        return -1;
    }
    return 0;
}

void repl_node_release(repl_node *n)
{
    chain_release(n);
    unit_tree_free(n->tree);
    unit_tree_free(n->spare);
    n->tree = n->spare = NULL;
    pos_cache_free(n->pos);
    n->pos = NULL;
}
