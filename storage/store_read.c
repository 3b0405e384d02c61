/*
 * store_read.c - read-only queries over the store: origins, collections
 * and digests, the log, the arrival feed, records and the owner index.
 * Each call is one read transaction, so it sees one consistent snapshot and
 * never blocks the writer.
 */
#include "storage/record.h"
#include "storage/store_internal.h"

#include <stdlib.h>
#include <string.h>

int store_scan(store *s, MDB_dbi db, const void *from, size_t fromlen, const void *prefix,
               size_t plen, int (*fn)(void *ctx, MDB_val *k, MDB_val *v), void *ctx)
{
    MDB_txn *txn;
    MDB_cursor *c;
    int rc = store_txn_read(s, &txn);
    if (rc)
        return -1;
    rc = mdb_cursor_open(txn, db, &c);
    if (rc) {
        store_txn_end(s, txn);
        return -1;
    }
    MDB_val k = {fromlen, (void *)from}, v;
    int ret = 0;
    rc = mdb_cursor_get(c, &k, &v, from ? MDB_SET_RANGE : MDB_FIRST);
    while (rc == 0) {
        if (plen && (k.mv_size < plen || memcmp(k.mv_data, prefix, plen)))
            break;
        ret = fn(ctx, &k, &v);
        if (ret)
            break;
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    }
    if (rc && rc != MDB_NOTFOUND)
        ret = -1;
    mdb_cursor_close(c);
    store_txn_end(s, txn);
    return ret;
}

/* Copies the value of key in db into a malloc'd buffer: 0, 1 when absent,
 * -1 on error. */
static int get_copy(store *s, MDB_dbi db, const void *key, size_t keylen, uint8_t **bytes,
                    size_t *len)
{
    MDB_txn *txn;
    if (store_txn_read(s, &txn))
        return -1;
    MDB_val k = {keylen, (void *)key}, v;
    int rc = mdb_get(txn, db, &k, &v);
    int ret = rc == MDB_NOTFOUND ? 1 : rc ? -1 : 0;
    if (!ret) {
        *bytes = malloc(v.mv_size ? v.mv_size : 1);
        if (*bytes) {
            memcpy(*bytes, v.mv_data, v.mv_size);
            *len = v.mv_size;
        } else {
            ret = -1;
        }
    }
    store_txn_end(s, txn);
    return ret;
}

typedef struct {
    int (*fn)(void *, const store_origin *);
    void *ctx;
    store *s;
} origins_walk;

static int origins_one(void *ctx, MDB_val *k, MDB_val *v)
{
    origins_walk *w = ctx;
    origin_state st;
    if (k->mv_size != ENTRY_KEY_BYTES || store_origin_parse(v, &st))
        return -1;
    store_origin o = {.max_seq = st.max_seq,
                      .count = st.count,
                      .equivocated = st.flags & ORIGIN_FLAG_EQUIVOCATED};
    memcpy(o.origin, k->mv_data, ENTRY_KEY_BYTES);
    return w->fn(w->ctx, &o);
}

int store_origins(store *s, int (*fn)(void *ctx, const store_origin *o), void *ctx)
{
    origins_walk w = {fn, ctx, s};
    return store_scan(s, s->origins, NULL, 0, NULL, 0, origins_one, &w);
}

int store_origin_get(store *s, const uint8_t origin[ENTRY_KEY_BYTES], store_origin *o)
{
    MDB_txn *txn;
    if (store_txn_read(s, &txn))
        return -1;
    origin_state st;
    int rc = store_origin_read(txn, s, origin, &st);
    store_txn_end(s, txn);
    if (rc == MDB_NOTFOUND)
        return 1;
    if (rc)
        return -1;
    memcpy(o->origin, origin, ENTRY_KEY_BYTES);
    o->max_seq = st.max_seq;
    o->count = st.count;
    o->equivocated = st.flags & ORIGIN_FLAG_EQUIVOCATED;
    return 0;
}

typedef struct {
    int (*fn)(void *, const char *, uint64_t, const uint8_t *);
    void *ctx;
} colls_walk;

static int colls_one(void *ctx, MDB_val *k, MDB_val *v)
{
    colls_walk *w = ctx;
    if (v->mv_size != 8 + STORE_DIGEST_BYTES || k->mv_size >= 128)
        return -1;
    char name[128];
    memcpy(name, k->mv_data, k->mv_size);
    name[k->mv_size] = '\0';
    const uint8_t *b = v->mv_data;
    uint64_t live = 0;
    for (int i = 7; i >= 0; i--)
        live = live << 8 | b[i];
    return w->fn(w->ctx, name, live, b + 8);
}

int store_collections(store *s,
                      int (*fn)(void *ctx, const char *coll, uint64_t live,
                                const uint8_t digest[STORE_DIGEST_BYTES]),
                      void *ctx)
{
    colls_walk w = {fn, ctx};
    return store_scan(s, s->colls, NULL, 0, NULL, 0, colls_one, &w);
}

typedef struct {
    int (*fn)(void *, const uint8_t *, size_t);
    void *ctx;
} log_walk;

static int log_one(void *ctx, MDB_val *k, MDB_val *v)
{
    log_walk *w = ctx;
    (void)k;
    return w->fn(w->ctx, v->mv_data, v->mv_size);
}

int store_log_scan(store *s, const uint8_t *origin,
                   int (*fn)(void *ctx, const uint8_t *bytes, size_t len), void *ctx)
{
    log_walk w = {fn, ctx};
    return store_scan(s, s->log, origin, origin ? ENTRY_KEY_BYTES : 0, origin,
                      origin ? ENTRY_KEY_BYTES : 0, log_one, &w);
}

int store_entry_get(store *s, const uint8_t origin[ENTRY_KEY_BYTES], uint64_t seq, uint8_t **bytes,
                    size_t *len)
{
    uint8_t key[LOG_KEY_BYTES];
    store_log_key(key, origin, seq);
    return get_copy(s, s->log, key, sizeof key, bytes, len);
}

uint64_t store_entry_count(store *s)
{
    MDB_txn *txn;
    MDB_stat st;
    if (store_txn_read(s, &txn))
        return 0;
    int rc = mdb_stat(txn, s->log, &st);
    store_txn_end(s, txn);
    return rc ? 0 : st.ms_entries;
}

uint64_t store_arrival_last(store *s)
{
    MDB_txn *txn;
    uint64_t v = 0;
    if (store_txn_read(s, &txn))
        return 0;
    store_meta_get_u64(txn, s, "arrival", &v);
    store_txn_end(s, txn);
    return v;
}

int store_arrivals(store *s, uint64_t after,
                   int (*fn)(void *ctx, uint64_t pos, const uint8_t *bytes, size_t len), void *ctx)
{
    MDB_txn *txn;
    MDB_cursor *c;
    if (store_txn_read(s, &txn))
        return -1;
    if (mdb_cursor_open(txn, s->arrivals, &c)) {
        store_txn_end(s, txn);
        return -1;
    }
    uint8_t from[8];
    store_be64(from, after + 1);
    MDB_val k = {8, from}, v;
    int ret = 0;
    int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    while (rc == 0) {
        MDB_val lk = v, entry;
        if (mdb_get(txn, s->log, &lk, &entry)) {
            ret = -1;
            break;
        }
        ret = fn(ctx, store_get_be64(k.mv_data), entry.mv_data, entry.mv_size);
        if (ret)
            break;
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    }
    if (rc && rc != MDB_NOTFOUND)
        ret = -1;
    mdb_cursor_close(c);
    store_txn_end(s, txn);
    return ret;
}

int store_record_get(store *s, const char *coll, const char *id, uint8_t **bytes, size_t *len)
{
    size_t cl = strlen(coll), il = strlen(id);
    if (cl > 64 || il > ENTRY_MAX_NAME)
        return 1;
    uint8_t key[64 + 1 + ENTRY_MAX_NAME];
    size_t kl = store_record_key(key, coll, cl, id, il);
    return get_copy(s, s->records, key, kl, bytes, len);
}

typedef struct {
    int (*fn)(void *, const char *, size_t, const uint8_t *, size_t);
    void *ctx;
    size_t plen;
} records_walk;

static int records_one(void *ctx, MDB_val *k, MDB_val *v)
{
    records_walk *w = ctx;
    return w->fn(w->ctx, (const char *)k->mv_data + w->plen, k->mv_size - w->plen, v->mv_data,
                 v->mv_size);
}

int store_records(store *s, const char *coll,
                  int (*fn)(void *ctx, const char *id, size_t idlen, const uint8_t *rec,
                            size_t reclen),
                  void *ctx)
{
    uint8_t prefix[66];
    size_t cl = strlen(coll);
    if (cl > 64)
        return 0;
    memcpy(prefix, coll, cl);
    prefix[cl] = 0;
    records_walk w = {fn, ctx, cl + 1};
    return store_scan(s, s->records, prefix, cl + 1, prefix, cl + 1, records_one, &w);
}

typedef struct {
    int (*fn)(void *, const char *, size_t);
    void *ctx;
    size_t plen;
} by_unit_walk;

static int by_unit_one(void *ctx, MDB_val *k, MDB_val *v)
{
    by_unit_walk *w = ctx;
    (void)v;
    return w->fn(w->ctx, (const char *)k->mv_data + w->plen, k->mv_size - w->plen);
}

int store_records_by_unit(store *s, const char *unit, const char *coll,
                          int (*fn)(void *ctx, const char *id, size_t idlen), void *ctx)
{
    uint8_t prefix[132];
    size_t ul = strlen(unit), cl = strlen(coll);
    if (ul > 64 || cl > 64)
        return 0;
    memcpy(prefix, unit, ul);
    prefix[ul] = 0;
    memcpy(prefix + ul + 1, coll, cl);
    prefix[ul + 1 + cl] = 0;
    by_unit_walk w = {fn, ctx, ul + cl + 2};
    return store_scan(s, s->by_unit, prefix, w.plen, prefix, w.plen, by_unit_one, &w);
}

typedef struct {
    int (*fn)(void *, const uint8_t *, size_t, const uint8_t *, size_t);
    void *ctx;
    store *s;
} evidence_walk;

static int evidence_one(void *ctx, MDB_val *k, MDB_val *v)
{
    evidence_walk *w = ctx;
    uint8_t *held = NULL;
    size_t held_len = 0;
    if (k->mv_size < LOG_KEY_BYTES)
        return -1;
    int rc = store_entry_get(w->s, k->mv_data, store_get_be64((uint8_t *)k->mv_data + 32), &held,
                             &held_len);
    if (rc < 0)
        return -1;
    rc = w->fn(w->ctx, held, held_len, v->mv_data, v->mv_size);
    free(held);
    return rc;
}

int store_equivocations(store *s,
                        int (*fn)(void *ctx, const uint8_t *held, size_t held_len,
                                  const uint8_t *other, size_t other_len),
                        void *ctx)
{
    evidence_walk w = {fn, ctx, s};
    return store_scan(s, s->evidence, NULL, 0, NULL, 0, evidence_one, &w);
}

/* Calls fn for every unit listed after prefix in db. */
static int scope_rows(MDB_txn *txn, MDB_dbi db, const uint8_t *prefix, size_t plen, bool owner,
                      int (*fn)(void *ctx, bool owner, const char *unit), void *ctx)
{
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, db, &c);
    if (rc)
        return -1;
    MDB_val k = {plen, (void *)prefix}, v;
    int ret = 0;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); !rc && !ret;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size <= plen || memcmp(k.mv_data, prefix, plen) ||
            k.mv_size - plen > ENTRY_MAX_NAME + 1)
            break;
        char unit[ENTRY_MAX_NAME + 2];
        memcpy(unit, (const uint8_t *)k.mv_data + plen, k.mv_size - plen);
        unit[k.mv_size - plen] = '\0';
        ret = fn(ctx, owner, unit);
    }
    mdb_cursor_close(c);
    return ret ? ret : (rc && rc != MDB_NOTFOUND ? -1 : 0);
}

int store_record_scope(store *s, const char *coll, const char *id,
                       int (*fn)(void *ctx, bool owner, const char *unit), void *ctx)
{
    uint8_t key[64 + 2 + ENTRY_MAX_NAME];
    size_t n = store_record_key(key, coll, strlen(coll), id, strlen(id));
    MDB_txn *txn;
    if (store_txn_read(s, &txn))
        return -1;
    MDB_val k = {n, key}, v;
    int rc = mdb_get(txn, s->records, &k, &v), ret;
    if (rc) {
        store_txn_end(s, txn);
        return rc == MDB_NOTFOUND ? 1 : -1;
    }
    char creator[ENTRY_MAX_NAME + 1];
    bool deleted;
    ret = record_summary(v.mv_data, v.mv_size, &deleted, creator, sizeof creator)
              ? -1
              : fn(ctx, true, creator);
    key[n++] = 0;
    if (!ret)
        ret = scope_rows(txn, s->owners, key, n, true, fn, ctx);
    if (!ret)
        ret = scope_rows(txn, s->readers, key, n, false, fn, ctx);
    store_txn_end(s, txn);
    return ret;
}
