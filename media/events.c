/*
 * events.c - events from AI cameras: checks, writes, reads (events.h).
 */
#include "media/events.h"
#include "lib/mpjson.h"
#include "media/evt_index.h"
#include "media/media.h"
#include "storage/record.h"
#include "storage/store_index.h"

#include <ctype.h>
#include <msgpack.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define VN_OFFSET_S (7 * 3600)

void event_day(uint64_t ms, char out[11])
{
    time_t t = (time_t)(ms / 1000) + VN_OFFSET_S;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

static bool type_ok(const char *t)
{
    size_t n = t ? strlen(t) : 0;
    if (!n || n >= CAMERA_FIELD_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!islower((unsigned char)t[i]) && !isdigit((unsigned char)t[i]) && t[i] != '_')
            return false;
    return true;
}

/* An optional text field of at most max bytes without control characters;
 * false (e set) when present and wrong. */
static bool text_field(const json_t *body, const char *name, size_t max, lt_error *e)
{
    const json_t *v = json_object_get(body, name);
    const char *s = json_string_value(v);
    bool ok = !v || json_is_null(v) || (s && strlen(s) <= max);
    for (const char *p = s; ok && p && *p; p++)
        ok = (unsigned char)*p >= 0x20;
    if (!ok)
        lt_error_set(e, LT_EINVAL, "camera.event_invalid",
                     "%s must be text of at most %zu bytes without control characters", name, max);
    return ok;
}

/* The picture of body (base64 JPEG) into *pic; false (e set) when wrong. */
static bool picture_field(const json_t *body, uint8_t **pic, size_t *len, lt_error *e)
{
    const char *b64 = json_string_value(json_object_get(body, "picture"));
    *pic = NULL;
    *len = 0;
    if (!json_object_get(body, "picture") || json_is_null(json_object_get(body, "picture")))
        return true;
    size_t cap = b64 ? strlen(b64) / 4 * 3 + 3 : 0;
    if (!b64 || cap > EVENT_PICTURE_MAX + 3 || !(*pic = malloc(cap ? cap : 1)) ||
        sodium_base642bin(*pic, cap, b64, strlen(b64), " \n", len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) ||
        *len > EVENT_PICTURE_MAX || *len < 4 || (*pic)[0] != 0xFF || (*pic)[1] != 0xD8) {
        free(*pic);
        *pic = NULL;
        lt_error_set(e, LT_EINVAL, "camera.event_invalid",
                     "picture must be a JPEG of at most %d KiB in standard base64 (send a "
                     "smaller or cropped picture)",
                     EVENT_PICTURE_MAX / 1024);
        return false;
    }
    return true;
}

/* Checks body; on success *fields holds type, time and the optional
 * texts. */
static int event_check(const json_t *body, uint64_t now_ms, json_t **fields, lt_error *e)
{
    const char *type = json_string_value(json_object_get(body, "type"));
    json_t *t = json_object_get(body, "time");
    if (!json_is_object(body))
        return lt_error_set(e, LT_EINVAL, "camera.event_invalid",
                            "the body must be a JSON object {type, time, plate, description, "
                            "picture}");
    if (!type_ok(type))
        return lt_error_set(e, LT_EINVAL, "camera.event_invalid",
                            "type must be 1 to 31 of a-z 0-9 _ (e.g. red_light), not %.40s",
                            type ? type : "(missing)");
    if (!json_is_integer(t) || json_integer_value(t) <= 0 ||
        (uint64_t)json_integer_value(t) + EVENT_PAST_MS < now_ms ||
        (uint64_t)json_integer_value(t) > now_ms + EVENT_FUTURE_MS)
        return lt_error_set(e, LT_EINVAL, "camera.event_invalid",
                            "time must be the event's time in milliseconds since 1970, within "
                            "the last 30 days and not ahead of this node's clock");
    if (!text_field(body, "plate", 20, e) || !text_field(body, "description", 1000, e))
        return -1;
    *fields = json_pack("{s:s, s:I}", "type", type, "time", json_integer_value(t));
    const char *names[] = {"plate", "description"};
    for (int i = 0; i < 2; i++) {
        const char *v = json_string_value(json_object_get(body, names[i]));
        if (v && *v)
            json_object_set_new(*fields, names[i], json_string(v));
    }
    return 0;
}

/* The entry body: fields, then "picture" as msgpack bin. */
static int event_pack(const json_t *fields, const uint8_t *pic, size_t plen, msgpack_sbuffer *sb)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, json_object_size(fields) + (pic ? 1 : 0));
    const char *k;
    json_t *v;
    char err[64];
    json_object_foreach((json_t *)fields, k, v)
    {
        msgpack_pack_str_with_body(&pk, k, strlen(k));
        if (mpjson_pack(&pk, v, err, sizeof err))
            return -1;
    }
    if (pic) {
        msgpack_pack_str_with_body(&pk, "picture", 7);
        msgpack_pack_bin_with_body(&pk, pic, plen);
    }
    return 0;
}

int camera_event_post(store *s, const node_config *c, const json_t *cam, const json_t *body,
                      uint64_t now_ms, char id[EVENT_ID_MAX], lt_error *e)
{
    const char *cid = json_string_value(json_object_get(cam, "id"));
    const char *unit = json_string_value(json_object_get(cam, "unit"));
    if (!cid || !unit || strcmp(unit, c->unit))
        return lt_error_set(e, LT_ECONFLICT, "camera.not_owner",
                            "camera %.64s belongs to unit %s: its detector posts events to that "
                            "unit's node",
                            cid ? cid : "?", unit ? unit : "?");
    json_t *fields = NULL;
    uint8_t *pic = NULL;
    size_t plen = 0;
    if (event_check(body, now_ms, &fields, e) || !picture_field(body, &pic, &plen, e)) {
        json_decref(fields);
        return -1;
    }
    json_object_set_new(fields, "camera", json_string(cid));
    json_object_set_new(fields, "unit", json_string(unit));
    json_object_set(fields, "path", json_object_get(cam, "path"));
    uint8_t rnd[4];
    randombytes_buf(rnd, sizeof rnd);
    snprintf(id, EVENT_ID_MAX, "%llu-%02x%02x%02x%02x",
             (unsigned long long)json_integer_value(json_object_get(fields, "time")), rnd[0],
             rnd[1], rnd[2], rnd[3]);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    int rc = event_pack(fields, pic, plen, &sb)
                 ? lt_error_set(e, LT_EINVAL, "camera.event_invalid", "the event cannot be packed")
                 : 0;
    if (!rc) {
        store_write w = {CAMERA_EVENT_COLL, id, ENTRY_OP_PUT, (uint8_t *)sb.data, sb.size, NULL, 0};
        store_author a = node_author(c);
        char err[STORE_ERR_LEN];
        int wr = store_write_local(s, &a, &w, 1, NULL, err, sizeof err);
        if (wr)
            rc = lt_error_set(e, store_write_errkind(wr), NULL, "cannot store the event: %s", err);
    }
    msgpack_sbuffer_destroy(&sb);
    free(pic);
    json_decref(fields);
    return rc;
}

int camera_event_set_report(store *s, const node_config *c, const char *id, const char *report,
                            lt_error *e)
{
    json_t *j = json_pack("{s:s}", "report", report);
    uint8_t *b = NULL;
    size_t len;
    char err[STORE_ERR_LEN];
    int rc = mpjson_pack_object(j, &b, &len, err, sizeof err);
    json_decref(j);
    if (!rc) {
        store_write w = {CAMERA_EVENT_COLL, id, ENTRY_OP_PATCH, b, len, NULL, 0};
        store_author a = node_author(c);
        int wr = store_write_local(s, &a, &w, 1, NULL, err, sizeof err);
        rc = wr ? lt_error_set(e, store_write_errkind(wr), NULL, "cannot link the report: %s", err)
                : 0;
    } else {
        rc = lt_error_set(e, LT_EINTERNAL, NULL, "cannot link the report: %s", err);
    }
    free(b);
    return rc;
}

/* An event record as the API shows it. */
static json_t *event_shown(json_t *j)
{
    bool pic = json_object_get(j, "picture") != NULL;
    json_object_del(j, "picture");
    json_object_set_new(j, "picture", json_boolean(pic));
    const char *cam = json_string_value(json_object_get(j, "camera"));
    json_int_t t = json_integer_value(json_object_get(j, "time"));
    char clip[200];
    snprintf(clip, sizeof clip, "/api/v1/cameras/%s/clip.mp4?from=%lld&to=%lld", cam ? cam : "",
             (long long)(t - EVENT_CLIP_BEFORE_MS), (long long)(t + EVENT_CLIP_AFTER_MS));
    json_object_set_new(j, "clip", json_string(clip));
    return j;
}

/* Record id read in transaction t (or on its own when t is NULL). */
static json_t *event_read(store *s, const store_index_txn *t, const char *id, size_t idlen)
{
    char err[64];
    uint8_t *rec = NULL;
    size_t len = 0;
    json_t *j = NULL;
    if (t) {
        uint8_t key[300];
        MDB_val k = {store_record_key(key, CAMERA_EVENT_COLL, strlen(CAMERA_EVENT_COLL), id, idlen),
                     key},
                v;
        if (!mdb_get(t->txn, t->records, &k, &v) && !record_is_deleted(v.mv_data, v.mv_size))
            j = record_to_json(v.mv_data, v.mv_size, id, idlen, err, sizeof err);
    } else if (!store_record_get(s, CAMERA_EVENT_COLL, id, &rec, &len)) {
        if (!record_is_deleted(rec, len))
            j = record_to_json(rec, len, id, idlen, err, sizeof err);
        free(rec);
    }
    return j ? event_shown(j) : NULL;
}

json_t *camera_event_get(store *s, const char *id, lt_error *e)
{
    json_t *j = strlen(id) < EVENT_ID_MAX ? event_read(s, NULL, id, strlen(id)) : NULL;
    if (!j)
        lt_error_set(e, LT_ENOTFOUND, "camera.not_found", "no camera event %.40s on this node", id);
    return j;
}

/* Whether the camevt value (type 0x00 camera) passes q's filters. */
static bool event_wanted(const event_query *q, const MDB_val *v)
{
    const char *p = v->mv_data;
    const char *z = memchr(p, 0, v->mv_size);
    if (!z)
        return false;
    size_t tl = (size_t)(z - p), cl = v->mv_size - tl - 1;
    return (!q->type || (strlen(q->type) == tl && !memcmp(p, q->type, tl))) &&
           (!q->camera || (strlen(q->camera) == cl && !memcmp(z + 1, q->camera, cl)));
}

json_t *camera_events_list(store *s, const event_query *q, lt_error *e)
{
    store_index_txn t;
    if (store_index_read(s, camera_event_index.name, &t)) {
        lt_error_set(e, LT_ESTORAGE, NULL, "cannot read the event index; check the node's log");
        return NULL;
    }
    json_t *out = json_array();
    char next[EVENT_ID_MAX + 24] = "", last[EVENT_ID_MAX + 24] = "";
    size_t ul = strlen(q->unit), n = 0;
    uint8_t key[256];
    unsigned long long ct = 0;
    char cid[EVENT_ID_MAX] = "";
    uint64_t top = q->to_ms;
    if (q->cursor && sscanf(q->cursor, "%llu:%31s", &ct, cid) == 2 && ct < top)
        top = ct; /* resume at the cursor's event, exclusive */
    bool cursor = q->cursor && cid[0];
    MDB_cursor *cur;
    int rc = ul + 9 < sizeof key - 64 ? mdb_cursor_open(t.txn, t.dbs[0], &cur) : MDB_NOTFOUND;
    if (!rc) {
        memcpy(key, q->unit, ul + 1);
        store_be64(key + ul + 1, top == UINT64_MAX ? top : top + 1); /* just past the newest */
        MDB_val k = {ul + 9, key}, v;
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        rc = rc == MDB_NOTFOUND ? mdb_cursor_get(cur, &k, &v, MDB_LAST)
                                : mdb_cursor_get(cur, &k, &v, MDB_PREV);
        for (; !rc; rc = mdb_cursor_get(cur, &k, &v, MDB_PREV)) {
            if (k.mv_size <= ul + 9 || memcmp(k.mv_data, q->unit, ul + 1))
                break;
            uint64_t tm = store_get_be64((const uint8_t *)k.mv_data + ul + 1);
            const char *id = (const char *)k.mv_data + ul + 9;
            size_t idlen = k.mv_size - ul - 9;
            if (tm < q->from_ms)
                break;
            if (tm > q->to_ms || !event_wanted(q, &v) ||
                (cursor && tm == ct && (idlen > strlen(cid) || memcmp(id, cid, idlen) >= 0)))
                continue;
            if (n == q->limit) { /* more: the next page starts after the last shown */
                snprintf(next, sizeof next, "%s", last);
                break;
            }
            json_t *j = event_read(s, &t, id, idlen);
            if (j) {
                json_array_append_new(out, j);
                n++;
                snprintf(last, sizeof last, "%llu:%.*s", (unsigned long long)tm, (int)idlen, id);
            }
        }
        mdb_cursor_close(cur);
    }
    store_index_end(s, &t);
    if (rc && rc != MDB_NOTFOUND) {
        json_decref(out);
        lt_error_set(e, LT_ESTORAGE, NULL, "cannot read the event index; check the node's log");
        return NULL;
    }
    return json_pack("{s:o, s:o}", "events", out, "next",
                     next[0] ? json_string(next) : json_null());
}

/* Calls fn for each camday row of unit with from <= day <= to. */
static int days_scan(store *s, const char *unit, const char *from, const char *to,
                     void (*fn)(void *ctx, const char *day, const char *type, uint64_t n),
                     void *ctx)
{
    store_index_txn t;
    if (store_index_read(s, camera_event_index.name, &t))
        return -1;
    size_t ul = strlen(unit);
    uint8_t key[128];
    MDB_cursor *cur;
    int rc = ul + 12 < sizeof key ? mdb_cursor_open(t.txn, t.dbs[1], &cur) : MDB_NOTFOUND;
    if (!rc) {
        memcpy(key, unit, ul + 1);
        memcpy(key + ul + 1, from, 11);
        MDB_val k = {ul + 12, key}, v;
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); !rc;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            const char *p = (const char *)k.mv_data;
            if (k.mv_size <= ul + 12 || memcmp(p, unit, ul + 1) || memcmp(p + ul + 1, to, 10) > 0)
                break;
            char day[11], type[CAMERA_FIELD_MAX];
            uint64_t n;
            if (v.mv_size != sizeof n || k.mv_size - ul - 12 >= sizeof type)
                continue;
            memcpy(&n, v.mv_data, sizeof n);
            snprintf(day, sizeof day, "%.10s", p + ul + 1);
            snprintf(type, sizeof type, "%.*s", (int)(k.mv_size - ul - 12), p + ul + 12);
            fn(ctx, day, type, n);
        }
        mdb_cursor_close(cur);
    }
    store_index_end(s, &t);
    return rc == MDB_NOTFOUND || !rc ? 0 : -1;
}

typedef struct {
    json_t *days, *by_type;
    uint64_t total;
} counts_ctx;

static void counts_row(void *ctx, const char *day, const char *type, uint64_t n)
{
    counts_ctx *c = ctx;
    json_array_append_new(
        c->days, json_pack("{s:s, s:s, s:I}", "day", day, "type", type, "count", (json_int_t)n));
    json_int_t had = json_integer_value(json_object_get(c->by_type, type));
    json_object_set_new(c->by_type, type, json_integer(had + (json_int_t)n));
    c->total += n;
}

json_t *camera_events_counts(store *s, const char *unit, const char *from, const char *to,
                             lt_error *e)
{
    counts_ctx c = {json_array(), json_object(), 0};
    if (days_scan(s, unit, from, to, counts_row, &c)) {
        json_decref(c.days);
        json_decref(c.by_type);
        lt_error_set(e, LT_ESTORAGE, NULL, "cannot read the event index; check the node's log");
        return NULL;
    }
    return json_pack("{s:s, s:s, s:s, s:I, s:o, s:o}", "unit", unit, "from", from, "to", to,
                     "total", (json_int_t)c.total, "by_type", c.by_type, "days", c.days);
}

static void count_add(void *ctx, const char *day, const char *type, uint64_t n)
{
    (void)day;
    (void)type;
    *(uint64_t *)ctx += n;
}

int camera_events_count(store *s, const char *unit, uint64_t from_ms, uint64_t to_ms, uint64_t *n)
{
    char from[11], to[11];
    event_day(from_ms, from);
    event_day(to_ms > from_ms ? to_ms - 1 : from_ms, to);
    *n = 0;
    return days_scan(s, unit, from, to, count_add, n);
}
