/*
 * cam_index.c - the camera index (cam_index.h) and its reads.
 */
#include "media/cam_index.h"
#include "media/media.h"
#include "replication/unit_place.h"
#include "storage/record.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX 200 /* unit, field, status and id fit */

/* What one camera record contributes. */
typedef struct {
    bool valid, online; /* valid: counted in camstat (enabled and readable) */
    bool listed;        /* in camlist (readable, enabled or not) */
    char field[CAMERA_FIELD_MAX];
    char status[16];
    char path[CAMERA_PATH_MAX][NODE_CODE_MAX];
    size_t npath;
} contrib;

static bool unit_ok(const char *u)
{
    return u && *u && strlen(u) < NODE_CODE_MAX && !memchr(u, 0, strlen(u));
}

/* Replaces c's path as written by the path its unit is counted along now
 * (unit_place_record_path: a merged unit's cameras count under its
 * successor). A unit the tree here does not know keeps the path as
 * written. Returns 0 or an LMDB code. */
static int contrib_place(contrib *c, const unit_place_src *src)
{
    return unit_place_rewrite(src, c->path[0], CAMERA_PATH_MAX, NODE_CODE_MAX, &c->npath)
               ? MDB_CORRUPTED
               : 0;
}

/* Reads what record rec contributes, placed in the tree of src; anything
 * unreadable contributes nothing (valid false). Fails only on a storage
 * error. */
static int contrib_read(contrib *c, const char *id, size_t idlen, const uint8_t *rec, size_t len,
                        const unit_place_src *src)
{
    memset(c, 0, sizeof *c);
    if (!rec || record_is_deleted(rec, len))
        return 0;
    char err[64];
    json_t *j = record_to_json(rec, len, id, idlen, err, sizeof err);
    if (!j)
        return 0;
    json_t *path = json_object_get(j, "path");
    const char *unit = json_string_value(json_object_get(j, "unit"));
    if (json_is_array(path) && json_array_size(path) && json_array_size(path) <= CAMERA_PATH_MAX) {
        c->valid = true;
        for (size_t i = 0; i < json_array_size(path) && c->valid; i++) {
            const char *u = json_string_value(json_array_get(path, i));
            c->valid = unit_ok(u);
            if (c->valid)
                strcpy(c->path[c->npath++], u);
        }
    } else if (unit_ok(unit)) {
        c->valid = true;
        strcpy(c->path[c->npath++], unit);
    }
    const char *field = json_string_value(json_object_get(j, "field"));
    snprintf(c->field, sizeof c->field, "%s", field && *field ? field : "other");
    const char *status = json_string_value(json_object_get(j, "status"));
    c->online = status ? !strcmp(status, "online") : json_is_true(json_object_get(j, "online"));
    snprintf(c->status, sizeof c->status, "%s", camera_status(j));
    c->listed = c->valid;
    if (json_is_false(json_object_get(j, "enabled")))
        c->valid = false;
    json_decref(j);
    return c->listed ? contrib_place(c, src) : 0;
}

static size_t row_key(uint8_t *key, const char *anc, const char *child, const char *field)
{
    size_t a = strlen(anc), b = strlen(child), f = strlen(field);
    if (a + b + f + 2 > KEY_MAX)
        return 0;
    memcpy(key, anc, a);
    key[a] = 0;
    memcpy(key + a + 1, child, b);
    key[a + 1 + b] = 0;
    memcpy(key + a + 2 + b, field, f);
    return a + b + f + 2;
}

/* Adds (add) or removes c's camera to/from the row of path[i]. */
static int row_move(const store_index_txn *t, const contrib *c, size_t i, bool add)
{
    uint8_t key[KEY_MAX + 1];
    const char *child = i + 1 < c->npath ? c->path[i + 1] : "";
    MDB_val k = {row_key(key, c->path[i], child, c->field), key}, v;
    if (!k.mv_size)
        return 0;
    uint64_t row[2] = {0, 0};
    int rc = mdb_get(t->txn, t->dbs[0], &k, &v);
    if (rc && rc != MDB_NOTFOUND)
        return rc;
    if (!rc && v.mv_size == sizeof row)
        memcpy(row, v.mv_data, sizeof row);
    if (add) {
        row[0]++;
        row[1] += c->online;
    } else {
        if (!row[0])
            return 0;
        row[0]--;
        row[1] -= c->online && row[1];
        if (!row[0])
            return mdb_del(t->txn, t->dbs[0], &k, NULL);
    }
    v = (MDB_val){sizeof row, row};
    return mdb_put(t->txn, t->dbs[0], &k, &v, 0);
}

/* The camlist key of c's camera id under unit anc: anc 0x00 field 0x00
 * status 0x00 id. 0 when too long. */
static size_t list_key(uint8_t *key, const char *anc, const contrib *c, const char *id,
                       size_t idlen)
{
    size_t a = strlen(anc), f = strlen(c->field), s = strlen(c->status);
    if (a + f + s + idlen + 3 > KEY_MAX)
        return 0;
    memcpy(key, anc, a + 1);
    memcpy(key + a + 1, c->field, f + 1);
    memcpy(key + a + f + 2, c->status, s + 1);
    memcpy(key + a + f + s + 3, id, idlen);
    return a + f + s + 3 + idlen;
}

/* Adds or removes the camlist keys of c's camera id, one per unit of its
 * path. */
static int list_move(const store_index_txn *t, const contrib *c, const char *id, size_t idlen,
                     bool add)
{
    int rc = 0;
    for (size_t i = 0; c->listed && !rc && i < c->npath; i++) {
        uint8_t key[KEY_MAX + 1];
        MDB_val k = {list_key(key, c->path[i], c, id, idlen), key}, v = {0, ""};
        if (!k.mv_size)
            continue;
        rc = add ? mdb_put(t->txn, t->dbs[1], &k, &v, 0) : mdb_del(t->txn, t->dbs[1], &k, NULL);
        rc = rc == MDB_NOTFOUND ? 0 : rc;
    }
    return rc;
}

static int contrib_apply(const store_index_txn *t, const contrib *c, const char *id, size_t idlen,
                         bool add)
{
    int rc = list_move(t, c, id, idlen, add);
    for (size_t i = 0; c->valid && !rc && i < c->npath; i++)
        rc = row_move(t, c, i, add);
    return rc;
}

/* Moves camera id from record old placed in tree src_old to record rec
 * placed in tree src_new. */
static int cam_reindex(const store_index_txn *t, const char *id, size_t idlen, const uint8_t *old,
                       size_t oldlen, const unit_place_src *src_old, const uint8_t *rec,
                       size_t reclen, const unit_place_src *src_new)
{
    contrib *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    int rc = a && b ? 0 : ENOMEM;
    if (!rc)
        rc = contrib_read(a, id, idlen, old, oldlen, src_old);
    if (!rc)
        rc = contrib_read(b, id, idlen, rec, reclen, src_new);
    if (!rc && memcmp(a, b, sizeof *a)) {
        rc = contrib_apply(t, a, id, idlen, false);
        if (!rc)
            rc = contrib_apply(t, b, id, idlen, true);
    }
    free(a);
    free(b);
    return rc;
}

/* The store's call: moves camera id from record old to rec. */
static int cam_index_update(const store_index_txn *t, const char *id, size_t idlen,
                            const uint8_t *old, size_t oldlen, const uint8_t *rec, size_t reclen)
{
    unit_place_src src = {t->txn, t->records, NULL, NULL, 0};
    return cam_reindex(t, id, idlen, old, oldlen, &src, rec, reclen, &src);
}

/* The id of a camlist key (anc 0x00 field 0x00 status 0x00 id), past the
 * prefix anc 0x00 (unit_place_key_id). */
static size_t camlist_id(void *ctx, const uint8_t *key, size_t klen, size_t plen, char *out,
                         size_t cap)
{
    (void)ctx;
    const uint8_t *id = klen > plen ? key + plen : NULL;
    for (int z = 0; z < 2 && id; z++) { /* past field and status */
        id = memchr(id, 0, klen - (size_t)(id - key));
        id = id ? id + 1 : NULL;
    }
    size_t n = id ? klen - (size_t)(id - key) : 0;
    if (!id || n >= cap)
        return 0;
    memcpy(out, id, n);
    return n;
}

/* The ids of the cameras listed under unit, into ids. */
static int ids_under(const store_index_txn *t, const char *unit, unit_place_ids *ids)
{
    uint8_t prefix[NODE_CODE_MAX + 1];
    size_t plen = strlen(unit) + 1;
    memcpy(prefix, unit, plen);
    return unit_place_ids_scan(t, t->dbs[1], prefix, plen, camlist_id, NULL, ids);
}

/* The store's call (store_index.watched) when the "units" record of unit
 * code changes: every camera listed under code is placed again, so the
 * index stays what a rebuild from the records gives. */
static int cam_index_units_changed(const store_index_txn *t, const char *code, size_t codelen,
                                   const uint8_t *old, size_t oldlen, const uint8_t *rec,
                                   size_t reclen)
{
    return unit_place_watched(t, code, codelen, old, oldlen, rec, reclen, CAMERA_COLL, ids_under,
                              cam_reindex);
}

static const char *const cam_index_dbs[] = {"camstat", "camlist"};

const store_index camera_index = {
    .name = "cameras",
    .version = 3,
    .collection = CAMERA_COLL,
    .dbs = cam_index_dbs,
    .ndbs = 2,
    .update = cam_index_update,
    .watch = "units",
    .watched = cam_index_units_changed,
};

int cam_index_rows(store *s, const char *unit,
                   void (*fn)(void *ctx, const char *child, const char *field, uint64_t total,
                              uint64_t online),
                   void *ctx)
{
    store_index_txn t;
    if (store_index_read(s, camera_index.name, &t))
        return -1;
    size_t plen = strlen(unit) + 1;
    uint8_t prefix[KEY_MAX + 1];
    MDB_cursor *cur;
    int rc = plen < KEY_MAX ? mdb_cursor_open(t.txn, t.dbs[0], &cur) : MDB_NOTFOUND;
    if (!rc) {
        memcpy(prefix, unit, plen); /* with its 0x00 */
        MDB_val k = {plen, prefix}, v;
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); !rc;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            if (k.mv_size <= plen || memcmp(k.mv_data, prefix, plen))
                break;
            const char *rest = (const char *)k.mv_data + plen;
            size_t rl = k.mv_size - plen;
            const char *z = memchr(rest, 0, rl);
            uint64_t row[2];
            char child[NODE_CODE_MAX], field[CAMERA_FIELD_MAX];
            if (!z || v.mv_size != sizeof row || (size_t)(z - rest) >= sizeof child ||
                rl - (size_t)(z - rest) - 1 >= sizeof field)
                continue;
            memcpy(row, v.mv_data, sizeof row);
            snprintf(child, sizeof child, "%.*s", (int)(z - rest), rest);
            snprintf(field, sizeof field, "%.*s", (int)(rl - (size_t)(z - rest) - 1), z + 1);
            fn(ctx, child, field, row[0], row[1]);
        }
        mdb_cursor_close(cur);
    }
    store_index_end(s, &t);
    return rc == MDB_NOTFOUND || rc == 0 ? 0 : -1;
}

/* Splits camlist key k (after unit prefix plen) into field, status, id;
 * false when it is not of that shape. */
static bool list_key_split(const MDB_val *k, size_t plen, const char **parts, size_t *lens)
{
    const char *p = (const char *)k->mv_data + plen, *end = (const char *)k->mv_data + k->mv_size;
    for (int i = 0; i < 2; i++) {
        const char *z = memchr(p, 0, (size_t)(end - p));
        if (!z)
            return false;
        parts[i] = p;
        lens[i] = (size_t)(z - p);
        p = z + 1;
    }
    parts[2] = p;
    lens[2] = (size_t)(end - p);
    return lens[2] > 0;
}

/* The record of camera id (the read transaction of t) as JSON, NULL when
 * absent or unreadable. */
static json_t *list_record(const store_index_txn *t, const char *id, size_t idlen)
{
    uint8_t key[300];
    MDB_val k = {store_record_key(key, CAMERA_COLL, strlen(CAMERA_COLL), id, idlen), key}, v;
    char err[64];
    if (mdb_get(t->txn, t->records, &k, &v) || record_is_deleted(v.mv_data, v.mv_size))
        return NULL;
    return record_to_json(v.mv_data, v.mv_size, id, idlen, err, sizeof err);
}

int cam_index_list(store *s, const cam_list_query *q, json_t *out, char *next, size_t nextcap)
{
    store_index_txn t;
    next[0] = '\0';
    if (store_index_read(s, camera_index.name, &t))
        return -1;
    uint8_t prefix[KEY_MAX + 1], start[KEY_MAX + 1];
    size_t ul = strlen(q->unit), fl = q->field ? strlen(q->field) : 0;
    size_t plen = ul + 1 + (q->field ? fl + 1 : 0);
    MDB_cursor *cur = NULL;
    int rc = plen < KEY_MAX ? mdb_cursor_open(t.txn, t.dbs[1], &cur) : MDB_NOTFOUND;
    size_t n = 0;
    char last[KEY_MAX + 1] = "";
    if (!rc) {
        memcpy(prefix, q->unit, ul + 1);
        if (q->field)
            memcpy(prefix + ul + 1, q->field, fl + 1);
        size_t slen = plen;
        memcpy(start, prefix, plen);
        if (q->after && *q->after && ul + 1 + strlen(q->after) < KEY_MAX) {
            slen = ul + 1 + strlen(q->after) + 1; /* just past the cursor's key */
            memcpy(start + ul + 1, q->after, slen - ul - 2);
            start[slen - 1] = 0;
            for (uint8_t *c = start + ul + 1; c < start + slen - 1; c++)
                *c = *c == ':' ? 0 : *c;
            if (slen < plen || memcmp(start, prefix, plen))
                slen = 0; /* a cursor of another filter: an empty page */
        }
        MDB_val k = {slen, start}, v;
        for (rc = slen ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) : MDB_NOTFOUND; !rc;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            const char *parts[3];
            size_t lens[3];
            if (k.mv_size <= plen || memcmp(k.mv_data, prefix, plen))
                break;
            if (!list_key_split(&k, ul + 1, parts, lens) ||
                (q->status &&
                 (lens[1] != strlen(q->status) || memcmp(parts[1], q->status, lens[1]))))
                continue;
            if (q->limit && n == q->limit) { /* more: the next page starts after the last shown */
                snprintf(next, nextcap, "%s", last);
                break;
            }
            json_t *j = list_record(&t, parts[2], lens[2]);
            if (!j)
                continue;
            json_object_set_new(j, "status", json_string(camera_status(j)));
            json_array_append_new(out, j);
            n++;
            snprintf(last, sizeof last, "%.*s:%.*s:%.*s", (int)lens[0], parts[0], (int)lens[1],
                     parts[1], (int)lens[2], parts[2]);
        }
        mdb_cursor_close(cur);
    }
    store_index_end(s, &t);
    return rc == MDB_NOTFOUND || rc == 0 ? 0 : -1;
}
