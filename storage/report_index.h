/*
 * report_index.h - the indexes and statistics of field reports, kept inside
 * the apply transaction (docs/reports.md, key layouts in docs/storage.md).
 *
 * Every index entry is a pure function of a report record's bytes, so a
 * change is "remove what the old record contributed, add what the new one
 * contributes": equal entries give equal index bytes on every node, in any
 * order of arrival, and store_verify can rebuild and compare them.
 */
#ifndef LT_REPORT_INDEX_H
#define LT_REPORT_INDEX_H

#include "storage/store_internal.h"

/* The collection whose records are indexed. */
#define REPORT_COLL "reports"

/* Moves the indexes of report id from record old (NULL when new) to record
 * rec (the canonical bytes just stored) inside txn. Neither may point into
 * the map. Returns an LMDB code (MDB_CORRUPTED for an unreadable record). */
int report_index_update(store *s, MDB_txn *txn, const char *id, size_t idlen, const uint8_t *old,
                        size_t oldlen, const uint8_t *rec, size_t reclen);

#endif
