/*
 * quarantine_view.h - the quarantine (entries refused by write authority,
 * storage/quarantine.h) as JSON, shared by `lienthong quarantine` and
 * GET /api/v1/quarantine.
 */
#ifndef LT_QUARANTINE_VIEW_H
#define LT_QUARANTINE_VIEW_H

#include "storage/store.h"

#include <jansson.h>

/* {"count": N, "waiting": W, "entries": [{hash, state ("waiting" |
 * "refused"), at_ms, origin, seq, unit, coll, id, op, to, reason}, ...]}
 * with at most `limit` entries, newest first. NULL with err on a storage
 * error. */
json_t *quarantine_view(store *s, size_t limit, char *err, size_t errlen);

#endif
