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

#endif
