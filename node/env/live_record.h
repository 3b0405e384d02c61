/*
 * live_record.h - a record as the services read it: the live record as
 * JSON, or nothing when it is absent, deleted or unreadable.
 */
#ifndef LT_LIVE_RECORD_H
#define LT_LIVE_RECORD_H

#include "storage/store.h"

#include <jansson.h>

/* The live record coll/id as JSON {"id": id, field: value, ...}: a new
 * reference, or NULL when the record is absent, deleted or unreadable;
 * *failed (when given) tells a storage failure from those. */
json_t *live_record_read(store *s, const char *coll, const char *id, bool *failed);

#endif
