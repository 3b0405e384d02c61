/*
 * cameras.c - the camera registry (media.h): checking, writing, reading
 * and listing camera records; credentials in the node-local table.
 */
#include "lib/mpjson.h"
#include "media/cam_index.h"
#include "media/media.h"
#include "node/env/live_record.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const schemes[] = {"rtsp", "rtsps", "http", "https", "rtmp", "rtmps", "file"};

int camera_url_split(const char *url, camera_url *out, lt_error *e)
{
    memset(out, 0, sizeof *out);
    size_t n = strlen(url);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)url[i] < 0x21 || url[i] == 0x7f)
            return lt_error_set(e, LT_EINVAL, "camera.url",
                                "url: the stream address has a space or control character at "
                                "byte %zu; percent-encode it",
                                i);
    const char *sep = strstr(url, "://");
    if (!sep || (size_t)(sep - url) >= sizeof out->scheme || n >= CAMERA_URL_MAX)
        return lt_error_set(e, LT_EINVAL, "camera.url",
                            "url: give a stream address such as rtsp://host/stream or "
                            "http://host/cam.mjpeg (at most %d bytes)",
                            CAMERA_URL_MAX - 1);
    for (const char *p = url; p < sep; p++)
        out->scheme[p - url] = (char)tolower((unsigned char)*p);
    bool known = false;
    for (size_t i = 0; i < sizeof schemes / sizeof *schemes; i++)
        known = known || !strcmp(out->scheme, schemes[i]);
    if (!known)
        return lt_error_set(e, LT_EINVAL, "camera.url",
                            "url: scheme %s is not supported; use rtsp, rtsps, http, https, rtmp, "
                            "rtmps or file",
                            out->scheme);
    const char *auth = sep + 3, *end = auth + strcspn(auth, "/?#");
    const char *at = NULL;
    for (const char *p = auth; p < end; p++)
        if (*p == '@')
            at = p;
    if (at && (size_t)(at - auth) >= sizeof out->userinfo)
        return lt_error_set(e, LT_EINVAL, "camera.url", "url: the credentials are too long");
    if (at)
        snprintf(out->userinfo, sizeof out->userinfo, "%.*s", (int)(at - auth), auth);
    const char *host = at ? at + 1 : auth;
    if (host == end && strcmp(out->scheme, "file"))
        return lt_error_set(e, LT_EINVAL, "camera.url", "url: the address names no host");
    snprintf(out->pub, sizeof out->pub, "%.*s%s", (int)(auth - url), url, host);
    return 0;
}

void camera_url_join(const char *pub, const char *userinfo, char *out, size_t cap)
{
    const char *sep = strstr(pub, "://");
    if (!userinfo || !*userinfo || !sep)
        snprintf(out, cap, "%s", pub);
    else
        snprintf(out, cap, "%.*s%s@%s", (int)(sep + 3 - pub), pub, userinfo, sep + 3);
}

size_t camera_unit_path(const unit_tree *t, const char *unit, char path[][NODE_CODE_MAX])
{
    char chain[CAMERA_PATH_MAX][NODE_CODE_MAX];
    size_t n = 0;
    if (!t || !unit_tree_known(t, unit, strlen(unit)))
        return 0;
    snprintf(chain[n++], NODE_CODE_MAX, "%s", unit);
    while (unit_tree_parent(t, chain[n - 1], chain[n < CAMERA_PATH_MAX ? n : 0], NODE_CODE_MAX))
        if (++n > CAMERA_PATH_MAX - 1)
            return 0;
    for (size_t i = 0; i < n; i++)
        memcpy(path[i], chain[n - 1 - i], NODE_CODE_MAX);
    return n;
}

static bool field_name_ok(const char *f)
{
    size_t n = strlen(f);
    if (!n || n >= CAMERA_FIELD_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!islower((unsigned char)f[i]) && f[i] != '_' && !isdigit((unsigned char)f[i]))
            return false;
    return true;
}

static bool id_ok(const char *id)
{
    size_t n = strlen(id);
    if (!n || n >= CAMERA_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)id[i]) && !strchr("-_.", id[i]))
            return false;
    return true;
}

int camera_check(const char *id, const json_t *body, json_t **fields, char userinfo[256],
                 lt_error *e)
{
    *fields = NULL;
    if (!id_ok(id))
        return lt_error_set(e, LT_EINVAL, "camera.invalid",
                            "id: a camera id is 1 to %d letters, digits, '-', '_' or '.'",
                            CAMERA_ID_MAX - 1);
    const char *name = json_string_value(json_object_get(body, "name"));
    const char *field = json_string_value(json_object_get(body, "field"));
    const char *url = json_string_value(json_object_get(body, "url"));
    json_t *lat = json_object_get(body, "lat"), *lon = json_object_get(body, "lon");
    json_t *enabled = json_object_get(body, "enabled"), *record = json_object_get(body, "record");
    if (!name || !*name || strlen(name) > 200 || !mpjson_utf8_valid(name, strlen(name)))
        return lt_error_set(e, LT_EINVAL, "camera.invalid",
                            "name: give the camera a name of 1 to 200 bytes of UTF-8");
    if (!field || !field_name_ok(field))
        return lt_error_set(e, LT_EINVAL, "camera.invalid",
                            "field: give the camera's field in lower case, e.g. security, "
                            "traffic, public_service, environment");
    if ((lat || lon) && (!json_is_number(lat) || !json_is_number(lon) ||
                         fabs(json_number_value(lat)) > 90 || fabs(json_number_value(lon)) > 180))
        return lt_error_set(e, LT_EINVAL, "camera.invalid",
                            "lat, lon: give both as decimal degrees (lat -90..90, lon -180..180)");
    if ((enabled && !json_is_boolean(enabled)) || (record && !json_is_boolean(record)))
        return lt_error_set(e, LT_EINVAL, "camera.invalid", "enabled, record: true or false");
    if (!url)
        return lt_error_set(e, LT_EINVAL, "camera.url", "url: give the camera's stream address");
    camera_url u;
    if (camera_url_split(url, &u, e))
        return -1;
    snprintf(userinfo, 256, "%s", u.userinfo);
    *fields =
        json_pack("{s:s, s:s, s:s, s:b, s:b}", "name", name, "field", field, "url", u.pub,
                  "enabled", !enabled || json_is_true(enabled), "record", json_is_true(record));
    if (*fields && lat)
        json_object_set_new(*fields, "lat", json_real(json_number_value(lat))),
            json_object_set_new(*fields, "lon", json_real(json_number_value(lon)));
    return *fields ? 0 : lt_error_set(e, LT_EINTERNAL, NULL, "out of memory");
}

/* The stored credentials of id into out (cap bytes; "" when none). */
static void secret_get(store *s, const char *id, char *out, size_t cap)
{
    uint8_t *v;
    size_t n;
    out[0] = '\0';
    if (!store_local_get(s, CAMERA_SECRET_TABLE, id, strlen(id), &v, &n)) {
        snprintf(out, cap, "%.*s", (int)n, (const char *)v);
        free(v);
    }
}

static int secret_set(store *s, const char *id, const char *userinfo, lt_error *e)
{
    char err[STORE_ERR_LEN];
    if (!*userinfo) {
        return store_local_del(s, CAMERA_SECRET_TABLE, id, strlen(id)) < 0
                   ? lt_error_set(e, LT_ESTORAGE, NULL, "cannot remove the credentials of %s", id)
                   : 0;
    }
    if (store_local_put(s, CAMERA_SECRET_TABLE, id, strlen(id), userinfo, strlen(userinfo), err,
                        sizeof err))
        return lt_error_set(e, LT_ESTORAGE, NULL, "cannot store the credentials of %s: %s", id,
                            err);
    return 0;
}

/* True when every field of want equals the stored one in have. */
static bool fields_same(const json_t *have, const json_t *want)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)want, k,
                        v) if (!json_equal(json_object_get(have, k), v)) return false;
    return true;
}

/* Whether camera id may be written by node c: absent, deleted or c's own.
 * *old receives the live record (or NULL). */
static int owner_check(store *s, const node_config *c, const char *id, json_t **old, lt_error *e)
{
    *old = live_record_read(s, CAMERA_COLL, id, NULL);
    const char *unit = json_string_value(json_object_get(*old, "unit"));
    if (*old && unit && strcmp(unit, c->unit)) {
        lt_error_set(e, LT_ECONFLICT, "camera.not_owner",
                     "camera %s belongs to unit %s: register, change or delete it on that unit's "
                     "node",
                     id, unit);
        json_decref(*old);
        *old = NULL;
        return -1;
    }
    return 0;
}

int cameras_put(store *s, const node_config *c, const unit_tree *t, char *const *ids,
                json_t *const *fields, char (*userinfo)[256], size_t n, size_t *written,
                size_t *unchanged, lt_error *e)
{
    char path[CAMERA_PATH_MAX][NODE_CODE_MAX];
    size_t np = camera_unit_path(t, c->unit, path);
    json_t *jpath = json_array();
    for (size_t i = 0; i < np; i++)
        json_array_append_new(jpath, json_string(path[i]));
    if (!np)
        json_array_append_new(jpath, json_string(c->unit));
    store_write *w = calloc(n ? n : 1, sizeof *w);
    uint8_t **bodies = calloc(n ? n : 1, sizeof *bodies);
    bool *secret_changed = calloc(n ? n : 1, sizeof *secret_changed);
    int rc =
        w && bodies && secret_changed ? 0 : lt_error_set(e, LT_EINTERNAL, NULL, "out of memory");
    size_t nw = 0;
    *written = *unchanged = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        json_t *old, *body = json_deep_copy(fields[i]);
        json_object_set_new(body, "unit", json_string(c->unit));
        json_object_set(body, "path", jpath);
        if (owner_check(s, c, ids[i], &old, e)) {
            json_decref(body);
            rc = -1;
            break;
        }
        char have[256];
        secret_get(s, ids[i], have, sizeof have);
        secret_changed[i] = strcmp(have, userinfo[i]) != 0;
        bool same = old && fields_same(old, body) && !secret_changed[i];
        char err[STORE_ERR_LEN];
        size_t len;
        if (!same && mpjson_pack_object(body, &bodies[nw], &len, err, sizeof err))
            rc = lt_error_set(e, LT_EINVAL, "camera.invalid", "camera %s: %s", ids[i], err);
        else if (!same) {
            w[nw] = (store_write){
                CAMERA_COLL, ids[i], old ? ENTRY_OP_PATCH : ENTRY_OP_PUT, bodies[nw], len, NULL, 0};
            nw++;
        }
        *unchanged += same;
        json_decref(old);
        json_decref(body);
    }
    for (size_t i = 0; !rc && i < n; i++) /* one durable write each: only the changed ones */
        rc = secret_changed[i] ? secret_set(s, ids[i], userinfo[i], e) : 0;
    if (!rc && nw) {
        store_author a = node_author(c);
        char err[STORE_ERR_LEN];
        int wr = store_write_local(s, &a, w, nw, NULL, err, sizeof err);
        if (wr)
            rc =
                lt_error_set(e, store_write_errkind(wr), NULL, "cannot store the cameras: %s", err);
    }
    if (!rc)
        *written = nw;
    for (size_t i = 0; i < nw; i++)
        free(bodies[i]);
    free(bodies);
    free(secret_changed);
    free(w);
    json_decref(jpath);
    return rc;
}

json_t *camera_get(store *s, const char *id, lt_error *e)
{
    json_t *j = live_record_read(s, CAMERA_COLL, id, NULL);
    if (!j)
        lt_error_set(e, LT_ENOTFOUND, "camera.not_found", "no camera %.64s on this node", id);
    return j;
}

int camera_delete(store *s, const node_config *c, const char *id, lt_error *e)
{
    json_t *old;
    if (owner_check(s, c, id, &old, e))
        return -1;
    if (!old)
        return lt_error_set(e, LT_ENOTFOUND, "camera.not_found", "no camera %.64s on this node",
                            id);
    json_decref(old);
    store_author a = node_author(c);
    store_write w = {CAMERA_COLL, id, ENTRY_OP_DELETE, NULL, 0, NULL, 0};
    char err[STORE_ERR_LEN];
    int wr = store_write_local(s, &a, &w, 1, NULL, err, sizeof err);
    if (wr)
        return lt_error_set(e, store_write_errkind(wr), NULL, "cannot delete camera %s: %s", id,
                            err);
    return secret_set(s, id, "", e);
}

const char *camera_status(const json_t *j)
{
    const char *st = json_string_value(json_object_get(j, "status"));
    json_t *on = json_object_get(j, "online");
    return st ? st : json_is_boolean(on) ? (json_is_true(on) ? "online" : "offline") : "unknown";
}

json_t *cameras_list(store *s, const cam_list_query *q, lt_error *e)
{
    json_t *out = json_array();
    char next[CAMERA_CURSOR_MAX];
    if (cam_index_list(s, q, out, next, sizeof next)) {
        json_decref(out);
        lt_error_set(e, LT_ESTORAGE, NULL, "cannot read the camera index; check the node's log");
        return NULL;
    }
    return json_pack("{s:o, s:o}", "cameras", out, "next",
                     next[0] ? json_string(next) : json_null());
}

int camera_stream_url(store *s, const node_config *c, const char *id, char *url, size_t cap,
                      bool *enabled)
{
    json_t *j = live_record_read(s, CAMERA_COLL, id, NULL);
    const char *unit = json_string_value(json_object_get(j, "unit"));
    const char *pub = json_string_value(json_object_get(j, "url"));
    int rc = 1;
    if (j && unit && pub && !strcmp(unit, c->unit)) {
        char secret[256];
        secret_get(s, id, secret, sizeof secret);
        camera_url_join(pub, secret, url, cap);
        *enabled = !json_is_false(json_object_get(j, "enabled"));
        rc = 0;
    }
    json_decref(j);
    return rc;
}

typedef struct {
    bool by_child;
    json_t *rows;
    uint64_t online, total;
} stats_ctx;

static void stats_row(void *ctx, const char *child, const char *field, uint64_t total,
                      uint64_t online)
{
    stats_ctx *st = ctx;
    const char *key = st->by_child ? child : field;
    json_t *row = NULL, *r;
    size_t i;
    json_array_foreach(st->rows, i,
                       r) if (!strcmp(json_string_value(json_object_get(r, "key")), key)) row = r;
    if (!row) {
        row = json_pack("{s:s, s:I, s:I}", "key", key, "online", (json_int_t)0, "total",
                        (json_int_t)0);
        json_array_append_new(st->rows, row);
    }
    json_object_set_new(
        row, "online",
        json_integer(json_integer_value(json_object_get(row, "online")) + (json_int_t)online));
    json_object_set_new(
        row, "total",
        json_integer(json_integer_value(json_object_get(row, "total")) + (json_int_t)total));
    st->online += online;
    st->total += total;
}

json_t *cameras_stats(store *s, const char *unit, bool by_child, lt_error *e)
{
    stats_ctx st = {by_child, json_array(), 0, 0};
    if (cam_index_rows(s, unit, stats_row, &st)) {
        json_decref(st.rows);
        lt_error_set(e, LT_ESTORAGE, NULL, "cannot read the camera index; check the node's log");
        return NULL;
    }
    return json_pack("{s:s, s:s, s:I, s:I, s:o}", "unit", unit, "by", by_child ? "child" : "field",
                     "online", (json_int_t)st.online, "total", (json_int_t)st.total, "rows",
                     st.rows);
}
