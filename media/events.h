/*
 * events.h - events from AI cameras and plate readers (docs/media.md,
 * "Events"). A detector (or its gateway) posts an event to the camera's
 * owning node; it becomes record CAMERA_EVENT_COLL/{time ms}-{8 hex}:
 * "camera", "type" ([a-z0-9_]{1,31}, e.g. red_light, wrong_lane,
 * speeding), "time" (ms), optional "plate" and "description", "unit" and
 * "path" (the camera's), optional "picture" (JPEG bytes, at most
 * EVENT_PICTURE_MAX) and "report" (the field report it opened). Entries
 * travel up to the ancestors like the cameras', so every tier lists the
 * events of its subtree. The event index (evt_index.h) lists them by unit
 * and time and counts them per unit, day and type.
 */
#ifndef LT_MEDIA_EVENTS_H
#define LT_MEDIA_EVENTS_H

#include "lib/error.h"
#include "node/env/config.h"
#include "storage/store.h"

#include <jansson.h>
#include <stdint.h>

#define CAMERA_EVENT_COLL "camera_events"
#define EVENT_ID_MAX 32
#define EVENT_PICTURE_MAX (24 * 1024)           /* an entry holds 32 KiB */
#define EVENT_PAST_MS ((uint64_t)30 * 86400000) /* an event at most 30 days old */
#define EVENT_FUTURE_MS ((uint64_t)300000)      /* clocks 5 minutes ahead are accepted */
#define EVENT_CLIP_BEFORE_MS 30000              /* the clip around an event */
#define EVENT_CLIP_AFTER_MS 30000
#define EVENT_LIST_MAX 500

/* Checks event body (JSON {"type", "time", "plate", "description",
 * "picture": base64 JPEG}) for camera cam (its record) at now_ms, and
 * writes it as a new record authored by node c: 0 with the event's id in
 * id, or -1 with e (camera.event_invalid naming the field, camera.not_owner
 * when cam is not this node's). Nothing is stored on error. */
int camera_event_post(store *s, const node_config *c, const json_t *cam, const json_t *body,
                      uint64_t now_ms, char id[EVENT_ID_MAX], lt_error *e);

/* Sets the field report opened for event id (its "report"). 0 or -1 with
 * e. */
int camera_event_set_report(store *s, const node_config *c, const char *id, const char *report,
                            lt_error *e);

/* Event id as shown by the API (no picture bytes: "picture": true when
 * it has one; "clip": the clip.mp4 path around its time), or NULL with e
 * (camera.not_found). */
json_t *camera_event_get(store *s, const char *id, lt_error *e);

/* A list query: the events of unit's subtree, of camera and type when
 * not NULL, with from_ms <= time <= to_ms, newest first, at most limit
 * (1..EVENT_LIST_MAX) after cursor ("time:id" of the previous page). */
typedef struct {
    const char *unit, *camera, *type, *cursor;
    uint64_t from_ms, to_ms;
    size_t limit;
} event_query;

/* {"events": [...], "next": cursor or null} for q, from the index. NULL
 * with e. */
json_t *camera_events_list(store *s, const event_query *q, lt_error *e);

/* Daily counts of unit's subtree from day from to day to ("YYYY-MM-DD",
 * Vietnam's date): {"unit", "from", "to", "total", "by_type": {type: n},
 * "days": [{"day", "type", "count"}]}. NULL with e. */
json_t *camera_events_counts(store *s, const char *unit, const char *from, const char *to,
                             lt_error *e);

/* The number of events of unit's subtree with from_ms <= time < to_ms
 * (whole Vietnamese days). Returns 0 or -1. */
int camera_events_count(store *s, const char *unit, uint64_t from_ms, uint64_t to_ms, uint64_t *n);

/* The day of ms in Vietnam (UTC+7) as "YYYY-MM-DD" into out (11 bytes). */
void event_day(uint64_t ms, char out[11]);

#endif
