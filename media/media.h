/*
 * media.h - the cameras domain (docs/media.md): the registry of cameras,
 * their health as the owning node probes it, thumbnails, and the figures
 * of every tier.
 *
 * A camera is record CAMERA_COLL/{id}: "name", "field" (security, traffic,
 * public_service, environment, ...), "unit" (the owning unit, the node
 * that registered it), "path" (root..unit), "lat", "lon", "url" (the
 * stream address WITHOUT credentials), "enabled", "record" (continuous
 * recording on the owner, recorder.h), and the fields the
 * owner's probe writes when the status changes: "status" (online,
 * degraded, offline), "status_since" (ms), "reason", "codec", "width",
 * "height", "fps", "bitrate", and "history" (the last CAMERA_HISTORY_MAX
 * changes, newest first: {"status", "at", "reason"}). The credentials of the address stay in this
 * node's local table CAMERA_SECRET_TABLE: never in an entry.
 * A thumbnail is record CAMERA_THUMB_COLL/{id}: {"data": JPEG bytes, "at"}.
 */
#ifndef LT_MEDIA_H
#define LT_MEDIA_H

#include "lib/error.h"
#include "media/cam_index.h"
#include "node/env/config.h"
#include "replication/unit_tree.h"
#include "storage/store.h"

#include <jansson.h>
#include <stdbool.h>

#define CAMERA_COLL "cameras"
#define CAMERA_THUMB_COLL "camera_thumbs"
#define CAMERA_SECRET_TABLE "camera_secrets"
#define CAMERA_ID_MAX 64
#define CAMERA_URL_MAX 1024
#define CAMERA_FIELD_MAX 32
#define CAMERA_PATH_MAX 12
#define CAMERA_HISTORY_MAX 10 /* status changes kept in a camera's "history" */
#define CAMERA_CURSOR_MAX 160 /* field:status:id */
#define CAMERA_LIST_MAX 1000  /* ?limit= at most */

/* A camera's stream address split into what may replicate and what may
 * not. */
typedef struct {
    char pub[CAMERA_URL_MAX]; /* scheme://host[:port]/path?query, no userinfo */
    char userinfo[256];       /* "user:pass" percent-encoded as given, "" when none */
    char scheme[16];          /* rtsp, rtsps, http, https, rtmp, file */
} camera_url;

/* Splits url into *out. Returns 0, or -1 with e (camera.url): a scheme
 * other than rtsp, rtsps, http, https, rtmp, rtmps, file, a missing host,
 * control characters or an address too long. */
int camera_url_split(const char *url, camera_url *out, lt_error *e);

/* The full address (with credentials) of public address pub and userinfo
 * into out (cap bytes). */
void camera_url_join(const char *pub, const char *userinfo, char *out, size_t cap);

/* The units from the root down to unit (itself last) in tree t into path;
 * returns how many (0 when unit is unknown or the tree deeper than
 * CAMERA_PATH_MAX). */
size_t camera_unit_path(const unit_tree *t, const char *unit, char path[][NODE_CODE_MAX]);

/* Checks body (the JSON of PUT /api/v1/cameras/{id} or a CSV row) for
 * camera id into *fields (new reference: name, field, lat, lon, url without
 * credentials, enabled, record) and *userinfo (the credentials, "" when none).
 * Returns 0, or -1 with e naming the field at fault (camera.invalid,
 * camera.url). Writes nothing. */
int camera_check(const char *id, const json_t *body, json_t **fields, char userinfo[256],
                 lt_error *e);

/* Registers or updates n checked cameras (ids[i], fields[i],
 * userinfo[i]) of node c in one transaction: the unit and path come from
 * the node (tree t), credentials go to the local table. A camera that
 * another unit owns is refused (camera.not_owner) and nothing is written.
 * A camera stored with the same content counts in *unchanged. Returns 0,
 * or -1 with e. */
int cameras_put(store *s, const node_config *c, const unit_tree *t, char *const *ids,
                json_t *const *fields, char (*userinfo)[256], size_t n, size_t *written,
                size_t *unchanged, lt_error *e);

/* The camera id as JSON (its record, credentials never in it), or NULL
 * with e (camera.not_found). */
json_t *camera_get(store *s, const char *id, lt_error *e);

/* Deletes camera id (owned by node c) and its credentials. Returns 0, or
 * -1 with e (camera.not_found, camera.not_owner). */
int camera_delete(store *s, const node_config *c, const char *id, lt_error *e);

/* A camera's status: "status", else the legacy "online" flag of demo
 * records, else "unknown". */
const char *camera_status(const json_t *j);

/* The cameras q selects (cam_index.h: the unit's subtree, field, status,
 * a page of limit after a cursor), from the camera index:
 * {"cameras": [...], "next": cursor or null}. NULL with e. */
json_t *cameras_list(store *s, const cam_list_query *q, lt_error *e);

/* The full stream address of camera id of node c (credentials joined
 * back) into url, and whether it is enabled. Returns 0, 1 when absent or
 * owned by another unit, -1 on error. */
int camera_stream_url(store *s, const node_config *c, const char *id, char *url, size_t cap,
                      bool *enabled);

/* Online and total enabled cameras of unit's subtree, from the index:
 * {"unit", "by", "online", "total", "rows": [{"key", "online", "total"}]}
 * with rows per field (by_child false) or per child unit (true; key "" is
 * the unit's own cameras). NULL with e. */
json_t *cameras_stats(store *s, const char *unit, bool by_child, lt_error *e);

/* The CSV import of `lienthong cameras import`: header
 * id,name,field,lat,lon,url[,enabled]; every row is checked first (a bad
 * row names its line and column and stores nothing), then all are written
 * in one transaction. Returns 0, or -1 with e. */
int cameras_csv_import(store *s, const node_config *c, const unit_tree *t, const char *csv,
                       size_t len, size_t *written, size_t *unchanged, lt_error *e);

/* The demo's cameras of node c (dir c->dir): four cameras owned by its unit
 * (tree t gives their path), three on a test stream written to
 * c->dir/demo-camera.mjpeg (moving colour bars, MJPEG) and one on an
 * address nothing answers. Returns 0, or -1 with err. */
int media_demo_seed(store *s, const node_config *c, const unit_tree *t, char *err, size_t errlen);

#endif
