/*
 * ind_index.h - the roll-up index of indicator values, kept inside the
 * store's transactions (storage/store_index.h). Each value record
 * contributes, as a pure function of its bytes (id code/unit/period, its
 * "value", "tier", "path" root..unit and "late"), to
 *   ixleaf  code 0x00 tier 0x00 period 0x00 path-joined-by-'/' -> value (i64 micro)
 *   ixagg   code 0x00 tier 0x00 anc 0x00 period -> ind_agg_row
 *           for every unit anc on its path (itself included),
 * so the roll-up of one unit over N periods is one range read of N rows,
 * whatever the size of its subtree. Sums are exact (integers of
 * micro-units), so the rows are equal on every node whatever the order
 * of arrival; min and max are recomputed from the leaves under anc when a
 * value that was an extreme leaves.
 */
#ifndef LT_IND_INDEX_H
#define LT_IND_INDEX_H

#include "storage/store_index.h"

/* The index as the store keeps it; name "indicators". */
extern const store_index ind_value_index;

#endif
