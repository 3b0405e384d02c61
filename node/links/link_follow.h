/*
 * link_follow.h - what a node reads from the replicated "units" records to
 * follow the tree by itself (docs/protocol.md, "Tree changes"): where its
 * parent's nodes can be reached ("advertise", written by `serve
 * --advertise`) and whether its own unit was retired ("retired",
 * "merged_into", written by the root's tree changes,
 * node/membership/unit_ops.h).
 */
#ifndef LT_LINK_FOLLOW_H
#define LT_LINK_FOLLOW_H

#include "node/env/config.h"

#include <jansson.h>

/* The fields of unit's "units" record (a JSON object to json_decref), NULL
 * when none is held or it is deleted. */
json_t *link_follow_unit(store *s, const char *unit);

/* The URLs unit advertises (its "units" record's "advertise" strings that
 * fit NODE_URL_MAX), at most max, into urls. Returns how many. */
size_t link_follow_advertised(store *s, const char *unit, char (*urls)[NODE_URL_MAX], size_t max);

/* True when unit's record says it was retired; into (NODE_CODE_MAX bytes)
 * receives the unit it was merged into ("" when none is named). */
bool link_follow_retired(store *s, const char *unit, char *into);

#endif
