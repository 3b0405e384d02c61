/*
 * cam_index.h - the camera index, kept inside the store's transactions
 * (storage/store_index.h). Each enabled camera record contributes, as a
 * pure function of its bytes ("path" root..unit, or "unit" alone when a
 * record has no path; "field"; "status", or the legacy "online" flag of
 * demo records; "enabled"), one count to
 *   camstat  anc 0x00 child 0x00 field -> {u64 total, u64 online}
 * for every unit anc on its path, child being the next unit down the path
 * (anc itself for the camera's own unit). So the figures of one unit by
 * field or by child unit are one prefix read, whatever the subtree's
 * size. A record the index cannot read contributes nothing: it never
 * fails the transaction (a failing index would stop replication).
 */
#ifndef LT_CAM_INDEX_H
#define LT_CAM_INDEX_H

#include "storage/store_index.h"

#include <stdint.h>

/* The index as the store keeps it; name "cameras". */
extern const store_index camera_index;

/* Calls fn for every row of unit: its child ("" for the unit itself),
 * field and counts. Returns 0 or -1. */
int cam_index_rows(store *s, const char *unit,
                   void (*fn)(void *ctx, const char *child, const char *field, uint64_t total,
                              uint64_t online),
                   void *ctx);

#endif
