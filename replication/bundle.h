/*
 * bundle.h - sneakernet: replication by file, for a commune whose link is
 * down for weeks. A bundle carries what one unit is missing from this node,
 * chosen by the same routing rule as a live link, with the markers that
 * let the receiver advance its positions.
 *
 * File format: a sequence of msgpack values
 *   {"magic": "lienthong-bundle", "v": 1, "from": bin32 node key,
 *    "unit": sender unit, "for": receiver unit, "created": ms,
 *    "chain": [sender's certificate entries]}
 *   ["e", bin entry] ...            entries, as stored (each signed)
 *   ["m", bin32 origin, seq, unit]  markers
 *   ["end", entries, markers, bin64 sig]
 * sig is the sender's Ed25519 signature over the BLAKE2b-256 of every byte
 * before the "end" value. Not compressed: entries are compact msgpack;
 * compress the file with any tool for transport if wanted.
 */
#ifndef LT_BUNDLE_H
#define LT_BUNDLE_H

#include "replication/repl_node.h"

#include <jansson.h>

typedef struct {
    uint64_t entries, marks, bytes;
} bundle_stats;

/* Writes to path what unit `for_unit` should receive from this node and
 * does not hold according to since (its complete positions: a JSON object
 * {origin hex: seq}, or NULL for "nothing"). Returns 0, or -1 with err. */
int bundle_export(repl_node *n, const uint8_t *sk, const char *for_unit, const json_t *since,
                  const char *path, bundle_stats *st, char *err, size_t errlen);

/* The largest bundle file bundle_import reads. */
#define BUNDLE_IMPORT_MAX ((uint64_t)8 << 30)

/* Verifies the bundle at path (signature, sender's chain to root_key,
 * every entry) and only then applies it in batches. Importing the same
 * bundle twice changes nothing. The file is streamed twice (verify, then
 * apply), never held whole: memory stays near one value of the file (at
 * most 64 MiB) and one batch, and a file over BUNDLE_IMPORT_MAX, or a
 * stream that never ends, is refused. Returns 0, or -1 with err (nothing
 * applied when verification fails; should the file change between the two
 * passes, entries already applied are signed ones and the markers are not
 * applied). */
int bundle_import(repl_node *n, const uint8_t root_key[32], const char *path, bundle_stats *st,
                  char *err, size_t errlen);

#endif
