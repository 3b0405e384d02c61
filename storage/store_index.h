/*
 * store_index.h - indexes that a domain keeps inside the store's own
 * transactions. The store names no domain: whoever opens it passes the
 * indexes (store_options.indexes), and the store
 *   - opens each index's LMDB databases next to its own;
 *   - calls update() inside every transaction that changes a record of the
 *     index's collection (remote apply and local write alike), with the
 *     record before (NULL when new) and after, so an index is a pure
 *     function of the records and equal on every node; and watched() for
 *     a record of the collection it watches, if any;
 *   - rebuilds an index at open when its version in meta ("index/<name>")
 *     differs from the one given (a new index, or a new layout);
 *   - rebuilds every index in store_verify's scratch store and compares.
 * A store that holds an index refuses a read-write open without it, so a
 * program that forgot a domain cannot let the index fall behind.
 */
#ifndef LT_STORE_INDEX_H
#define LT_STORE_INDEX_H

#include "storage/store.h"

#include <lmdb.h>

#define STORE_INDEX_DBS_MAX 8
#define STORE_INDEXES_MAX 8

/* What an index's code gets: a transaction (read-write inside update,
 * read-only from store_index_read), its own databases in the order of
 * store_index.dbs, and the store's records (coll 0x00 id -> record), which
 * it may only read. */
typedef struct {
    MDB_txn *txn;
    MDB_dbi dbs[STORE_INDEX_DBS_MAX];
    MDB_dbi records;
} store_index_txn;

typedef struct store_index {
    const char *name;       /* unique in the store */
    uint32_t version;       /* a change rebuilds the index at the next open */
    const char *collection; /* the collection whose records it follows */
    const char *const *dbs; /* names of its LMDB databases, unique in the store */
    size_t ndbs;            /* at most STORE_INDEX_DBS_MAX */
    /* Moves the index of record id from old (NULL, 0 when new) to rec.
     * Neither points into the map. Returns an LMDB code (or errno); a
     * failure aborts the whole transaction. */
    int (*update)(const store_index_txn *t, const char *id, size_t idlen, const uint8_t *old,
                  size_t oldlen, const uint8_t *rec, size_t reclen);
    /* Optional: another collection the index depends on (say, the unit
     * tree an index places records by) and the call, with the index's own
     * databases, inside every transaction that changes one of its records
     * (old NULL when new). It must leave the index as a rebuild from the
     * records would, so the index stays a pure function of the records. */
    const char *watch;
    int (*watched)(const store_index_txn *t, const char *id, size_t idlen, const uint8_t *old,
                   size_t oldlen, const uint8_t *rec, size_t reclen);
} store_index;

/* Begins a read transaction over index name of s and fills t. Returns 0,
 * or an LMDB code (MDB_NOTFOUND when s has no such index). End it with
 * store_index_end. */
int store_index_read(store *s, const char *name, store_index_txn *t);

/* Ends a transaction begun by store_index_read. */
void store_index_end(store *s, store_index_txn *t);

/* Big-endian u64 helpers for index keys. */
void store_be64(uint8_t out[8], uint64_t v);
uint64_t store_get_be64(const uint8_t in[8]);

/* The key of a record in the records database: coll 0x00 id. Returns its
 * length (cap of key must be >= 256). */
size_t store_record_key(uint8_t *key, const char *coll, size_t coll_len, const char *id,
                        size_t id_len);

#endif
