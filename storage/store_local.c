/*
 * store_local.c - the node-local key-value table ("local" database): data
 * of this node that is not replicated, such as enrolment requests. See
 * store.h.
 */
#include "storage/store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOCAL_KEY_MAX 256

typedef struct {
    const char *key;
    const void *value;
    size_t len;
} local_put_ctx;

static int local_put_txn(store *s, MDB_txn *txn, void *ctx)
{
    local_put_ctx *p = ctx;
    MDB_val k = {strlen(p->key), (void *)p->key}, v = {p->len, (void *)p->value};
    return mdb_put(txn, s->local, &k, &v, 0);
}

int store_local_put(store *s, const char *key, const void *value, size_t len, char *err,
                    size_t errlen)
{
    if (!*key || strlen(key) > LOCAL_KEY_MAX) {
        snprintf(err, errlen, "node-local key of %zu bytes: 1 to %d are allowed", strlen(key),
                 LOCAL_KEY_MAX);
        return -1;
    }
    local_put_ctx p = {key, value, len};
    return store_txn_write(s, local_put_txn, &p, err, errlen);
}

int store_local_get(store *s, const char *key, uint8_t **value, size_t *len)
{
    if (!s->has_local)
        return 1;
    MDB_txn *txn;
    if (store_txn_read(s, &txn))
        return -1;
    MDB_val k = {strlen(key), (void *)key}, v;
    int rc = mdb_get(txn, s->local, &k, &v);
    if (!rc) {
        *value = malloc(v.mv_size + 1);
        if (*value) {
            memcpy(*value, v.mv_data, v.mv_size);
            (*value)[v.mv_size] = '\0';
            *len = v.mv_size;
        }
        rc = *value ? 0 : -1;
    } else {
        rc = rc == MDB_NOTFOUND ? 1 : -1;
    }
    mdb_txn_abort(txn);
    return rc;
}

typedef struct {
    int (*fn)(void *ctx, const char *key, size_t keylen, const uint8_t *value, size_t len);
    void *ctx;
} local_scan_ctx;

static int local_scan_one(void *ctx, MDB_val *k, MDB_val *v)
{
    local_scan_ctx *w = ctx;
    return w->fn(w->ctx, k->mv_data, k->mv_size, v->mv_data, v->mv_size);
}

int store_local_scan(store *s, const char *prefix,
                     int (*fn)(void *ctx, const char *key, size_t keylen, const uint8_t *value,
                               size_t len),
                     void *ctx)
{
    if (!s->has_local)
        return 0;
    local_scan_ctx w = {fn, ctx};
    size_t plen = strlen(prefix);
    return store_scan(s, s->local, plen ? prefix : NULL, plen, plen ? prefix : NULL, plen,
                      local_scan_one, &w);
}
