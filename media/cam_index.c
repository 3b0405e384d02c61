/*
 * cam_index.c - the camera index (cam_index.h) and its reads.
 */
#include "media/cam_index.h"
#include "media/media.h"
#include "storage/record.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX 127

/* What one camera record contributes. */
typedef struct {
    bool valid, online;
    char field[CAMERA_FIELD_MAX];
    char path[CAMERA_PATH_MAX][NODE_CODE_MAX];
    size_t npath;
} contrib;

static bool unit_ok(const char *u)
{
    return u && *u && strlen(u) < NODE_CODE_MAX && !memchr(u, 0, strlen(u));
}

/* Reads what record rec contributes; anything unreadable contributes
 * nothing (valid false). Never fails. */
static void contrib_read(contrib *c, const char *id, size_t idlen, const uint8_t *rec, size_t len)
{
    memset(c, 0, sizeof *c);
    if (!rec || record_is_deleted(rec, len))
        return;
    char err[64];
    json_t *j = record_to_json(rec, len, id, idlen, err, sizeof err);
    if (!j)
        return;
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
    if (json_is_false(json_object_get(j, "enabled")))
        c->valid = false;
    json_decref(j);
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

static int contrib_apply(const store_index_txn *t, const contrib *c, bool add)
{
    int rc = 0;
    for (size_t i = 0; c->valid && !rc && i < c->npath; i++)
        rc = row_move(t, c, i, add);
    return rc;
}

/* The store's call: moves camera id from record old to rec. */
static int cam_index_update(const store_index_txn *t, const char *id, size_t idlen,
                            const uint8_t *old, size_t oldlen, const uint8_t *rec, size_t reclen)
{
    contrib *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    int rc = a && b ? 0 : ENOMEM;
    if (!rc) {
        contrib_read(a, id, idlen, old, oldlen);
        contrib_read(b, id, idlen, rec, reclen);
        if (a->valid != b->valid || (a->valid && memcmp(a, b, sizeof *a))) {
            rc = contrib_apply(t, a, false);
            if (!rc)
                rc = contrib_apply(t, b, true);
        }
    }
    free(a);
    free(b);
    return rc;
}

static const char *const cam_index_dbs[] = {"camstat"};

const store_index camera_index = {
    .name = "cameras",
    .version = 1,
    .collection = CAMERA_COLL,
    .dbs = cam_index_dbs,
    .ndbs = 1,
    .update = cam_index_update,
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
