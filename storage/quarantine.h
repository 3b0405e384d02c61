/*
 * quarantine.h - entries refused by write authority (authority.h), kept
 * with the reason instead of being dropped, so admins see what a node (or
 * an attacker with a valid certificate) tried.
 *
 * A quarantined entry is not in the log: it is not applied, not forwarded
 * and not counted as held. An entry that waits (its author's certificate
 * or its record's owner may still arrive) is re-examined, inside the same
 * transaction, when the entries it waits for are applied; it then leaves
 * the quarantine and is applied like any other. Receiving a quarantined
 * entry again changes nothing. Each origin may have at most
 * QUARANTINE_PER_ORIGIN entries in quarantine: beyond that its refused
 * entries are not kept (a flood fills nothing).
 */
#ifndef LT_QUARANTINE_H
#define LT_QUARANTINE_H

#include "storage/authority.h"

#define QUARANTINE_PER_ORIGIN 100000

/* *held when the entry with this hash is in quarantine. LMDB code. */
int quarantine_held(store *s, MDB_txn *txn, const uint8_t hash[ENTRY_HASH_BYTES], bool *held);

/* Keeps entry e (hash) in quarantine with decision d; *full when its
 * origin's quarantine is full and nothing was kept. LMDB code. */
int quarantine_add(store *s, MDB_txn *txn, const entry_view *e,
                   const uint8_t hash[ENTRY_HASH_BYTES], const auth_decision *d, bool *full);

/* Re-examines the waiting entries that what ac records as applied may have
 * cured, repeatedly until nothing more is cured; clears ac's wake-ups.
 * LMDB code. */
int quarantine_retry(store *s, MDB_txn *txn, apply_ctx *ac);

#endif
