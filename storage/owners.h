/*
 * owners.h - the owner set of each record (database "owners", key
 * coll 0x00 id 0x00 unit), kept as a function of the entries held, so
 * that every arrival order and a fresh replay of the log build the same
 * set: the unit of the record's first put (its put with the lowest
 * (hlc, origin) stamp) plus every unit an accepted entry gave it
 * ("owner_unit", "owners"). A put that was first when it arrived and is
 * later found not to be (a lower-stamped put arrives) hands the first
 * put's place on: its unit leaves the set unless an entry gave it.
 *
 * A row's value says why the unit is there: flags(1), bit 0 given by an
 * entry, bit 1 the first put's unit, then for the first put its stamp
 * hlc(8 BE) origin(32). An empty value is a row written before first puts
 * were tracked: it stays for ever, like a given one.
 */
#ifndef LT_OWNERS_H
#define LT_OWNERS_H

#include "storage/store_internal.h"

/* Room for an owners key prefix (coll 0x00 id 0x00). */
#define OWNERS_PREFIX_MAX (64 + 2 + ENTRY_MAX_NAME)

/* Writes the owners key prefix of e's record (coll 0x00 id 0x00) into key
 * and returns its length. */
size_t owners_prefix(uint8_t *key, const entry_view *e);

/* *yes when e is a put stamped lower than every put held of its record:
 * its first put, whatever the arrival order. Returns an LMDB code. */
int owners_first_put(store *s, MDB_txn *txn, const entry_view *e, bool *yes);

/* Notes the applied put e (after its merge into the record): when it is
 * the record's first put now, its unit takes the first put's place.
 * *added is set when a unit joined the set. Returns an LMDB code. */
int owners_note_put(store *s, MDB_txn *txn, const entry_view *e, bool *added);

/* Adds unit (ulen bytes), given by an accepted entry, to the owner set of
 * the record under prefix (owners_prefix); *added is set when it was not
 * there. Returns an LMDB code. */
int owners_give(store *s, MDB_txn *txn, const uint8_t *prefix, size_t plen, const char *unit,
                size_t ulen, bool *added);

#endif
