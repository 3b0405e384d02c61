/*
 * unit_place.h - where a unit stands now in the tree of the "units"
 * records a store holds, read inside a transaction: a unit merged away
 * ("merged_into") stands where its live successor stands, and every path
 * is computed from the current "parent" fields, never from what a record
 * wrote down when it was created. Domain indexes use it so a report,
 * document or camera of a moved or merged unit is counted where the unit
 * is now (docs/protocol.md, "Records after a tree change").
 */
#ifndef LT_UNIT_PLACE_H
#define LT_UNIT_PLACE_H

#include "replication/unit_tree.h"
#include "storage/store_index.h"

#include <lmdb.h>
#include <stdbool.h>
#include <stddef.h>

#define UNIT_PLACE_DEPTH 16 /* longest path kept; merge chains are as long at most */

/* The units records to read: those of txn's records database, except that
 * the record of unit `as_code` (when set) is taken to be as_rec (NULL:
 * absent), so an index hook can compute the place a unit had before the
 * change it is told about. */
typedef struct {
    MDB_txn *txn;
    MDB_dbi records;
    const char *as_code;
    const uint8_t *as_rec;
    size_t as_len;
} unit_place_src;

/* The place of unit code: follows "merged_into" to the live successor
 * (cycles end the chain), then writes the successor's path, root first and
 * the successor last, into path (at most UNIT_PLACE_DEPTH codes). Returns
 * the number of codes: 0 when code has no live "units" record (an unknown
 * unit); *complete is false when the walk up met a unit whose record is
 * not held (the path then starts at that unit) or a cycle. -1 on a
 * storage error. */
int unit_place_path(const unit_place_src *src, const char *code,
                    char path[UNIT_PLACE_DEPTH][UNIT_CODE_CAP], bool *complete);

/* The path a record of unit is counted along, root first, into path: the
 * unit's current path (unit_place_path), or, for a unit merged away, its
 * live successor's path with the unit itself below it, so the successor
 * aggregates its predecessors' records while each stays apart. Returns the
 * number of codes, 0 when unit is unknown here (or the path too long), -1
 * on a storage error. */
int unit_place_record_path(const unit_place_src *src, const char *unit,
                           char path[UNIT_PLACE_DEPTH][UNIT_CODE_CAP]);

/* Rewrites a path a record wrote down, kept as up to `max` rows of `width`
 * bytes (rows; *n codes, root first, the record's unit last), as the path
 * the record is counted along now (unit_place_record_path). A unit the
 * tree here does not know, or a path longer than `max`, keeps the path as
 * written. Returns 0, or -1 on a storage error. */
int unit_place_rewrite(const unit_place_src *src, char *rows, size_t max, size_t width, size_t *n);

/* The live successor of a unit merged away into out: 1 when code was
 * merged (out differs from code), 0 when it was not or is unknown here, -1
 * on a storage error. */
int unit_place_successor(const unit_place_src *src, const char *code, char out[UNIT_CODE_CAP]);

/* True when the "units" record rec (of len bytes) is no live unit: deleted,
 * "retired" or merged away. */
bool unit_place_retired(const uint8_t *rec, size_t len);

/* True when a change of a "units" record from old to rec (NULL: none) may
 * move what is placed by it: the unit appeared or went, or its "parent" or
 * "merged_into" changed. A rename changes nothing placed. */
bool unit_place_changed(const uint8_t *old, size_t oldlen, const uint8_t *rec, size_t reclen);

/* The ids of the records an index must place again after a units change:
 * each a u16 BE length and its bytes. Zero-initialise; free with
 * unit_place_ids_free. */
typedef struct {
    uint8_t *buf;
    size_t len, cap;
} unit_place_ids;

/* Adds id (idlen bytes) to l. Returns 0 or ENOMEM. */
int unit_place_ids_add(unit_place_ids *l, const void *id, size_t idlen);

/* Releases what l holds. */
void unit_place_ids_free(unit_place_ids *l);

/* Reads the record id an index key names: key (klen bytes) lies under a
 * scanned prefix of plen bytes; writes the id into id (cap bytes) and
 * returns its length, 0 to pass the key over. ctx is the scan's. */
typedef size_t (*unit_place_key_id)(void *ctx, const uint8_t *key, size_t klen, size_t plen,
                                    char *id, size_t cap);

/* A unit_place_key_id for keys that end with the id, *(size_t *)ctx bytes
 * past the prefix (a sort key between them). */
size_t unit_place_key_tail(void *ctx, const uint8_t *key, size_t klen, size_t plen, char *id,
                           size_t cap);

/* Adds to ids the id (key_id) of every key of db under prefix (plen bytes,
 * 0: every key): an index's list of the records it counts under a unit.
 * Returns 0 or an LMDB code. */
int unit_place_ids_scan(const store_index_txn *t, MDB_dbi db, const uint8_t *prefix, size_t plen,
                        unit_place_key_id key_id, void *ctx, unit_place_ids *ids);

/* An index's move of record id from old placed in tree src_old to rec
 * placed in tree src_new (LMDB code). */
typedef int (*unit_place_reindex)(const store_index_txn *t, const char *id, size_t idlen,
                                  const uint8_t *old, size_t oldlen, const unit_place_src *src_old,
                                  const uint8_t *rec, size_t reclen, const unit_place_src *src_new);

/* Places again every record of coll named in ids after the "units" record
 * of unit changed from old (NULL: none): for each record held (a copy, as
 * the index writes), fn from the tree with unit's record old to the tree
 * held now. Returns 0 or an LMDB code. */
int unit_place_again(const store_index_txn *t, const char *coll, const unit_place_ids *ids,
                     const char *unit, const uint8_t *old, size_t oldlen, unit_place_reindex fn);

/* An index's list of the records it counts under unit (into ids). */
typedef int (*unit_place_collect)(const store_index_txn *t, const char *unit, unit_place_ids *ids);

/* The body of an index's store_index.watched for "units": when the record
 * of unit code changed its place (unit_place_changed), the records of coll
 * that collect lists under code are placed again with fn
 * (unit_place_again). Returns 0 or an LMDB code. */
int unit_place_watched(const store_index_txn *t, const char *code, size_t codelen,
                       const uint8_t *old, size_t oldlen, const uint8_t *rec, size_t reclen,
                       const char *coll, unit_place_collect collect, unit_place_reindex fn);

#endif
