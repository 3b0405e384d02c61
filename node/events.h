/*
 * events.h - live updates for the web UI: a WebSocket endpoint
 * (/api/v1/events, subprotocol "lt-events") that pushes JSON text messages
 * to logged-in browsers, so pages change without reloading.
 *
 *   {"type": "hello", "user", "unit", "role"}     on connecting
 *   {"type": <a domain's>, ...}                   an entry of a domain's collection
 *                                                 arrived (written here or replicated)
 *                                                 that the user may see; the domain
 *                                                 describes it (events_source), e.g.
 *                                                 {"type": "report", "id", "status",
 *                                                 "unit", "action"} (reports/report_events.c)
 *   {"type": "reports", "count"}                  many arrived at once (a bulk import
 *                                                 or a catch-up): reload what is shown;
 *                                                 count is of the domains' entries, or of
 *                                                 all entries when more than
 *                                                 EVENTS_SCAN_MAX arrived
 *   {"type": "sync", ...GET /api/v1/sync}         a replication link changed state
 *
 * The upgrade must carry the session cookie of a live login and, when the
 * browser sends an Origin, this node's own host; otherwise the connection
 * is closed at once (policy violation). Clients send nothing (what they
 * send is ignored). A client that cannot keep up (EVENTS_QUEUE_MAX
 * messages waiting) gets a single {"type": "reports"} in place of the
 * rest. events_tick() runs from the daemon's store watcher (every 250 ms).
 */
#ifndef LT_EVENTS_H
#define LT_EVENTS_H

#include "node/env/env.h"
#include "node/http/http.h"
#include "storage/entry.h"

#include <jansson.h>

#define EVENTS_SUBPROTOCOL "lt-events"
#define EVENTS_PATH "/api/v1/events"
#define EVENTS_QUEUE_MAX 256
#define EVENTS_BATCH_MAX 200 /* domain entries per tick sent one by one */
#define EVENTS_SOURCES_MAX 8
#define EVENTS_SCAN_MAX 5000 /* more entries in one tick are not looked at */

typedef struct events events;

/* A domain's live events: for each arrived entry of collection, describe
 * returns the message to push (a new reference with "type"), or NULL for
 * none, and sets *scope to a JSON array of the units whose users may see
 * it besides those the access rule admits (or leaves it NULL). */
typedef struct {
    const char *collection;
    json_t *(*describe)(void *ctx, const entry_view *e, json_t **scope);
    void *ctx;
} events_source;

/* The hub for daemon d. NULL when out of memory. */
events *events_new(node_env *d);

/* The WebSocket endpoint to pass to http_server_start_ws(). */
void events_endpoint(events *ev, http_ws_endpoint *ep);

/* Pushes what arrived in the store since the last tick and link state
 * changes to the connected clients. Call on the loop thread. */
void events_tick(events *ev);

/* Adds a domain's source (the daemon does, at start). Returns 0, or -1
 * when EVENTS_SOURCES_MAX are already there. */
int events_add_source(events *ev, const events_source *src);

/* Frees ev after the HTTP server has stopped (its connections closed). */
void events_free(events *ev);

#endif
