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
 * size. Beside it, for the list,
 *   camlist  anc 0x00 field 0x00 status 0x00 id -> ""
 * for every unit anc on the path of every readable camera (enabled or
 * not), so a unit's cameras of one field are one prefix read and the
 * status filter reads keys, not records. A record the index cannot read contributes nothing: it
 * never fails the transaction (a failing index would stop replication).
 */
#ifndef LT_CAM_INDEX_H
#define LT_CAM_INDEX_H

#include "storage/store_index.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* The index as the store keeps it; name "cameras". */
extern const store_index camera_index;

/* Calls fn for every row of unit: its child ("" for the unit itself),
 * field and counts. Returns 0 or -1. */
int cam_index_rows(store *s, const char *unit,
                   void (*fn)(void *ctx, const char *child, const char *field, uint64_t total,
                              uint64_t online),
                   void *ctx);

/* A list query: the cameras of unit's subtree, optionally only of field
 * and status (NULL: any), at most limit (0: all) after cursor after
 * ("field:status:id" of the previous page's next; NULL: from the start),
 * in the order field, status, id. */
typedef struct {
    const char *unit, *field, *status, *after;
    size_t limit;
} cam_list_query;

/* Appends to out the camera records q selects (each with "status" set as
 * camera_status() reads it) and writes into next the cursor of the page
 * after ("" when none). Returns 0 or -1. */
int cam_index_list(store *s, const cam_list_query *q, json_t *out, char *next, size_t nextcap);

#endif
