/*
 * evt_index.c - the camera event index (evt_index.h).
 */
#include "media/evt_index.h"
#include "media/events.h"
#include "media/media.h"
#include "storage/record.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX 200

/* What one event record contributes. */
typedef struct {
    bool valid;
    uint64_t time;
    char type[CAMERA_FIELD_MAX], camera[CAMERA_ID_MAX], day[11];
    char path[CAMERA_PATH_MAX][NODE_CODE_MAX];
    size_t npath;
} evt;

static bool text_ok(const char *s, size_t cap)
{
    return s && *s && strlen(s) < cap;
}

static void evt_read(evt *v, const char *id, size_t idlen, const uint8_t *rec, size_t len)
{
    memset(v, 0, sizeof *v);
    char err[64];
    json_t *j = rec && !record_is_deleted(rec, len)
                    ? record_to_json(rec, len, id, idlen, err, sizeof err)
                    : NULL;
    json_t *path = json_object_get(j, "path"), *t = json_object_get(j, "time");
    const char *type = json_string_value(json_object_get(j, "type"));
    const char *cam = json_string_value(json_object_get(j, "camera"));
    v->valid = json_is_integer(t) && json_integer_value(t) > 0 && text_ok(type, sizeof v->type) &&
               text_ok(cam, sizeof v->camera) && json_is_array(path) && json_array_size(path) &&
               json_array_size(path) <= CAMERA_PATH_MAX;
    for (size_t i = 0; v->valid && i < json_array_size(path); i++) {
        const char *u = json_string_value(json_array_get(path, i));
        v->valid = text_ok(u, NODE_CODE_MAX);
        if (v->valid)
            strcpy(v->path[v->npath++], u);
    }
    if (v->valid) {
        v->time = (uint64_t)json_integer_value(t);
        strcpy(v->type, type);
        strcpy(v->camera, cam);
        event_day(v->time, v->day);
    }
    json_decref(j);
}

static int list_move(const store_index_txn *t, const evt *v, const char *anc, const char *id,
                     size_t idlen, bool add)
{
    uint8_t key[KEY_MAX], val[KEY_MAX];
    size_t a = strlen(anc), tl = strlen(v->type), cl = strlen(v->camera);
    if (a + 9 + idlen > KEY_MAX || tl + 1 + cl > KEY_MAX)
        return 0;
    memcpy(key, anc, a + 1);
    store_be64(key + a + 1, v->time);
    memcpy(key + a + 9, id, idlen);
    memcpy(val, v->type, tl + 1);
    memcpy(val + tl + 1, v->camera, cl);
    MDB_val k = {a + 9 + idlen, key}, d = {tl + 1 + cl, val};
    int rc = add ? mdb_put(t->txn, t->dbs[0], &k, &d, 0) : mdb_del(t->txn, t->dbs[0], &k, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static int day_move(const store_index_txn *t, const evt *v, const char *anc, bool add)
{
    uint8_t key[KEY_MAX];
    size_t a = strlen(anc), tl = strlen(v->type);
    memcpy(key, anc, a + 1);
    memcpy(key + a + 1, v->day, 11); /* with its 0x00 */
    memcpy(key + a + 12, v->type, tl);
    MDB_val k = {a + 12 + tl, key}, d;
    uint64_t n = 0;
    int rc = mdb_get(t->txn, t->dbs[1], &k, &d);
    if (rc && rc != MDB_NOTFOUND)
        return rc;
    if (!rc && d.mv_size == sizeof n)
        memcpy(&n, d.mv_data, sizeof n);
    n = add ? n + 1 : n ? n - 1 : 0;
    if (!n)
        return (rc = mdb_del(t->txn, t->dbs[1], &k, NULL)) == MDB_NOTFOUND ? 0 : rc;
    d = (MDB_val){sizeof n, &n};
    return mdb_put(t->txn, t->dbs[1], &k, &d, 0);
}

static int evt_apply(const store_index_txn *t, const evt *v, const char *id, size_t idlen, bool add)
{
    int rc = 0;
    for (size_t i = 0; v->valid && !rc && i < v->npath; i++) {
        rc = list_move(t, v, v->path[i], id, idlen, add);
        if (!rc)
            rc = day_move(t, v, v->path[i], add);
    }
    return rc;
}

static int evt_index_update(const store_index_txn *t, const char *id, size_t idlen,
                            const uint8_t *old, size_t oldlen, const uint8_t *rec, size_t reclen)
{
    evt *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    int rc = a && b ? 0 : ENOMEM;
    if (!rc) {
        evt_read(a, id, idlen, old, oldlen);
        evt_read(b, id, idlen, rec, reclen);
        if (memcmp(a, b, sizeof *a)) {
            rc = evt_apply(t, a, id, idlen, false);
            if (!rc)
                rc = evt_apply(t, b, id, idlen, true);
        }
    }
    free(a);
    free(b);
    return rc;
}

static const char *const evt_index_dbs[] = {"camevt", "camday"};

const store_index camera_event_index = {
    .name = "camera_events",
    .version = 1,
    .collection = CAMERA_EVENT_COLL,
    .dbs = evt_index_dbs,
    .ndbs = 2,
    .update = evt_index_update,
};
