/*
 * store_local.c - the node-local key-value space of store.h: one named
 * database "local" keyed table 0x00 key. Nothing here touches the log,
 * the records or their digests, so nothing here ever leaves the node.
 */
#include "storage/store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TABLE_MAX 32

/* table 0x00 key into out; returns its length, or 0 when table or key is
 * not acceptable. */
static size_t local_key(uint8_t out[TABLE_MAX + 1 + STORE_LOCAL_KEY_MAX], const char *table,
                        const void *key, size_t klen)
{
    size_t tl = table ? strlen(table) : 0;
    if (!tl || tl > TABLE_MAX || !klen || klen > STORE_LOCAL_KEY_MAX)
        return 0;
    for (size_t i = 0; i < tl; i++)
        if (!((table[i] >= 'a' && table[i] <= 'z') || table[i] == '_'))
            return 0;
    memcpy(out, table, tl);
    out[tl] = 0;
    memcpy(out + tl + 1, key, klen);
    return tl + 1 + klen;
}

typedef struct {
    MDB_val k, v;
    bool del;
} local_op;

static int local_write(store *s, MDB_txn *txn, void *ctx)
{
    local_op *op = ctx;
    if (op->del) {
        int rc = mdb_del(txn, s->local, &op->k, NULL);
        return rc == MDB_NOTFOUND ? 0 : rc;
    }
    return mdb_put(txn, s->local, &op->k, &op->v, 0);
}

/* local_key for a write: 0 with err when the key is bad or the store is
 * read-only. */
static size_t local_write_key(store *s, uint8_t out[TABLE_MAX + 1 + STORE_LOCAL_KEY_MAX],
                              const char *table, const void *key, size_t klen, char *err,
                              size_t errlen)
{
    size_t n = local_key(out, table, key, klen);
    if (!n) {
        snprintf(err, errlen, "local data: bad table name or key length (%zu bytes)", klen);
        return 0;
    }
    if (!s->has_local) {
        snprintf(err, errlen, "the store at %s is open read-only", s->path);
        return 0;
    }
    return n;
}

int store_local_put(store *s, const char *table, const void *key, size_t klen, const void *val,
                    size_t vlen, char *err, size_t errlen)
{
    uint8_t kb[TABLE_MAX + 1 + STORE_LOCAL_KEY_MAX];
    size_t n = local_write_key(s, kb, table, key, klen, err, errlen);
    if (!n)
        return -1;
    local_op op = {{n, kb}, {vlen, (void *)val}, false};
    return store_txn_write(s, local_write, &op, err, errlen);
}

typedef struct {
    MDB_val k;
    uint64_t value;
    uint64_t at_least; /* 0: raise by `by`; else raise to at least this */
    uint64_t by;
} local_incr_op;

/* The counter is a decimal string; absent or unparsable counts as 0. */
static int local_incr(store *s, MDB_txn *txn, void *ctx)
{
    local_incr_op *op = ctx;
    MDB_val v;
    char buf[24];
    uint64_t n = 0;
    int rc = mdb_get(txn, s->local, &op->k, &v);
    if (rc && rc != MDB_NOTFOUND)
        return rc;
    if (!rc && v.mv_size < sizeof buf) {
        memcpy(buf, v.mv_data, v.mv_size);
        buf[v.mv_size] = 0;
        n = strtoull(buf, NULL, 10);
    }
    if (op->at_least && n >= op->at_least) {
        op->value = n;
        return 0;
    }
    op->value = op->at_least ? op->at_least : n + op->by;
    int len = snprintf(buf, sizeof buf, "%llu", (unsigned long long)op->value);
    MDB_val nv = {(size_t)len, buf};
    return mdb_put(txn, s->local, &op->k, &nv, 0);
}

int store_local_incr(store *s, const char *table, const void *key, size_t klen, uint64_t *value,
                     char *err, size_t errlen)
{
    return store_local_add(s, table, key, klen, 1, value, err, errlen);
}

int store_local_add(store *s, const char *table, const void *key, size_t klen, uint64_t by,
                    uint64_t *value, char *err, size_t errlen)
{
    uint8_t kb[TABLE_MAX + 1 + STORE_LOCAL_KEY_MAX];
    size_t n = local_write_key(s, kb, table, key, klen, err, errlen);
    if (!n)
        return -1;
    local_incr_op op = {{n, kb}, 0, 0, by};
    if (store_txn_write(s, local_incr, &op, err, errlen))
        return -1;
    *value = op.value;
    return 0;
}

int store_local_raise(store *s, const char *table, const void *key, size_t klen, uint64_t at_least,
                      char *err, size_t errlen)
{
    uint8_t kb[TABLE_MAX + 1 + STORE_LOCAL_KEY_MAX];
    size_t n = local_write_key(s, kb, table, key, klen, err, errlen);
    if (!n)
        return -1;
    local_incr_op op = {{n, kb}, 0, at_least ? at_least : 1, 0};
    return store_txn_write(s, local_incr, &op, err, errlen) ? -1 : 0;
}

int store_local_get(store *s, const char *table, const void *key, size_t klen, uint8_t **val,
                    size_t *vlen)
{
    uint8_t kb[TABLE_MAX + 1 + STORE_LOCAL_KEY_MAX];
    size_t n = local_key(kb, table, key, klen);
    *val = NULL;
    *vlen = 0;
    if (!n)
        return -1;
    if (!s->has_local)
        return 1;
    MDB_txn *txn;
    if (store_txn_read(s, &txn))
        return -1;
    MDB_val k = {n, kb}, v;
    int rc = mdb_get(txn, s->local, &k, &v), ret = -1;
    if (rc == MDB_NOTFOUND) {
        ret = 1;
    } else if (!rc && (*val = malloc(v.mv_size + 1))) {
        memcpy(*val, v.mv_data, v.mv_size);
        (*val)[v.mv_size] = 0;
        *vlen = v.mv_size;
        ret = 0;
    }
    store_txn_end(s, txn);
    return ret;
}

int store_local_del(store *s, const char *table, const void *key, size_t klen)
{
    uint8_t kb[TABLE_MAX + 1 + STORE_LOCAL_KEY_MAX], *old;
    size_t n = local_key(kb, table, key, klen), oldlen;
    char err[STORE_ERR_LEN];
    if (!n)
        return -1;
    int got = store_local_get(s, table, key, klen, &old, &oldlen);
    free(old);
    if (got)
        return got;
    local_op op = {{n, kb}, {0, NULL}, true};
    return store_txn_write(s, local_write, &op, err, sizeof err) ? -1 : 0;
}

typedef struct {
    size_t skip; /* the table prefix */
    int (*fn)(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen);
    void *ctx;
} local_walk;

static int local_one(void *ctx, MDB_val *k, MDB_val *v)
{
    local_walk *w = ctx;
    return w->fn(w->ctx, (const uint8_t *)k->mv_data + w->skip, k->mv_size - w->skip, v->mv_data,
                 v->mv_size);
}

int store_local_scan(store *s, const char *table,
                     int (*fn)(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val,
                               size_t vlen),
                     void *ctx)
{
    uint8_t kb[TABLE_MAX + 1 + STORE_LOCAL_KEY_MAX];
    size_t n = local_key(kb, table, "", 1); /* table 0x00 "" */
    if (!n)
        return -1;
    if (!s->has_local)
        return 0;
    local_walk w = {n - 1, fn, ctx};
    return store_scan(s, s->local, kb, n - 1, kb, n - 1, local_one, &w);
}
