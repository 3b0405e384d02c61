/*
 * evt_index.h - the camera event index, kept inside the store's
 * transactions (storage/store_index.h), a pure function of the event
 * records (events.h). For every unit anc on an event's path:
 *   camevt  anc 0x00 be64(time) id -> type 0x00 camera
 *   camday  anc 0x00 day 0x00 type  -> u64 count      (day: YYYY-MM-DD, UTC+7)
 * so a unit's events newest first (filtered by camera and type from the
 * value, without reading records) and its daily counts per type are prefix
 * reads. A record it cannot read contributes nothing and never fails the
 * transaction.
 */
#ifndef LT_EVT_INDEX_H
#define LT_EVT_INDEX_H

#include "storage/store_index.h"

#include <stdint.h>

/* The index as the store keeps it; name "camera_events". */
extern const store_index camera_event_index;

#endif
