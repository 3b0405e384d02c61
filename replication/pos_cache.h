/*
 * pos_cache.h - a node's complete positions (store_complete_get) held in
 * memory, with a change log, so that each replication session reads only
 * the positions that moved since it last looked instead of all of them.
 *
 * At the 2025 shape every node holds positions for about 3,400 origins and
 * every write somewhere moves one of them on every node; re-reading them
 * all on every notification made the network's cost grow as N^3.
 *
 * The cache learns of changes from the store's arrival counter (entries
 * added by this process or any other: links, local writes, imports) and
 * from pos_cache_touch (markers applied through links or bundles, which
 * move positions without adding entries). pos_cache_reload re-reads
 * everything and makes every reader start over (after the unit tree
 * changed, since what a session may vouch for depends on it).
 */
#ifndef LT_POS_CACHE_H
#define LT_POS_CACHE_H

#include "storage/store.h"

typedef struct pos_cache pos_cache;

/* The positions of s, loaded. NULL when out of memory or unreadable. The
 * other calls take the same store (the handle may change: a reopened
 * store). */
pos_cache *pos_cache_new(store *s);

/* Frees the cache. NULL is ignored. */
void pos_cache_free(pos_cache *c);

/* Re-reads every position; every reader gets all of them next time.
 * Returns 0 or -1. */
int pos_cache_reload(pos_cache *c, store *s);

/* Re-reads the position of one origin (after markers for it were applied).
 * Returns 0 or -1. */
int pos_cache_touch(pos_cache *c, store *s, const uint8_t origin[ENTRY_KEY_BYTES]);

/* Catches up with entries that arrived in the store since the last look,
 * then calls fn for every position that changed after *since (every
 * position, 0 included, when *since is 0 or older than the log keeps) and
 * sets *since for the next call. Returns 0, -1 on a storage failure, or fn's non-zero
 * return. */
int pos_cache_changed(pos_cache *c, store *s, uint64_t *since,
                      int (*fn)(void *fctx, const uint8_t *origin, uint64_t seq, const char *unit),
                      void *fctx);

#endif
