/*
 * status.h - the node's status document, shared by `lienthong status
 * --json` and GET /api/v1/status. Its fields are a stable interface for
 * scripts (documented in docs/operations.md): fields are added, never
 * renamed.
 */
#ifndef LT_STATUS_H
#define LT_STATUS_H

#include "node/env/config.h"

#include <jansson.h>

/* Builds {"node", "unit", "name", "tier", "parent", "root", "enrolled",
 * "tiers", "entries", "origins": {key: max seq}, "origin_units": {key:
 * unit}, "partial_origins": {key: count held when not 1..max}, "complete":
 * {key: seq up to which everything this node should hold is held}, "records":
 * {coll: live count}, "digests": {coll: hex}, "equivocations": [...],
 * "version"} from the store. NULL with err on failure. */
json_t *status_build(const node_config *c, store *s, char *err, size_t errlen);

/* The sync state of the node in dir as a running `lienthong serve` last
 * wrote it (DIR/sync.json, see node/links/repl_link.h), for `lienthong status`:
 * that document plus "running": true and "age_ms" (since it was written;
 * the node rewrites it within a second of any change), or {"running":
 * false, "message": ...} when no node holds DIR/serve.lock. */
json_t *status_sync(const char *dir);

/* True when a process holds DIR/serve.lock (a node runs on dir). */
bool status_node_running(const char *dir);

#endif
