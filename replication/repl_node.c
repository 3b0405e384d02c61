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

bool repl_is_membership(const entry_view *e)
{
    return (e->coll.size == 5 &&
            (!memcmp(e->coll.ptr, "units", 5) || !memcmp(e->coll.ptr, "certs", 5))) ||
           (e->coll.size == 7 && !memcmp(e->coll.ptr, "network", 7));
}

/* True when entry bytes belong to a membership collection. */
static bool is_membership(const uint8_t *bytes, size_t len)
{
    entry_view e;
    if (entry_decode(bytes, len, &e, NULL, 0))
        return false;
    bool m = repl_is_membership(&e);
    entry_view_free(&e);
    return m;
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

const repl_store_ops repl_node_ops = {node_unit,  node_chain, node_tree,
                                     node_positions, node_scan, node_apply};

static void chain_release(repl_node *n)
{
    for (size_t i = 0; i < n->nchain; i++)
        free((void *)n->chain[i].bytes);
    n->nchain = 0;
}

int repl_node_reload(repl_node *n, char *err, size_t errlen)
{
    if (unit_tree_load(n->tree, n->store) || pos_cache_reload(n->pos, n->store)) {
        snprintf(err, errlen, "cannot read the unit tree or positions from the store");
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
    n->pos = pos_cache_new(s);
    if (!n->tree || !n->pos) {
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
    n->tree = NULL;
    pos_cache_free(n->pos);
    n->pos = NULL;
}
