/*
 * doc_index.c - the index of documents (doc_index.h), kept by the store
 * inside every transaction that changes a record of "documents", and its
 * reads.
 *
 * A record that is not a document (a generic record of the collection,
 * written by `lienthong import` or the simulator, or one this code cannot
 * read) contributes nothing: the update never fails on a record's
 * content, since a failing update would abort the transaction and with
 * it replication.
 */
#include "documents/doc_index.h"
#include "documents/doc_internal.h"
#include "storage/record.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX 511
#define KEYS_MAX (DOC_RECIPIENTS_MAX + 3)

static const char *const doc_index_dbs[] = {"docbox", "docnum"};

/* The keys one record contributes: docbox (kind 0x00 unit 0x00 be64
 * created_at id; kind "o" for the issuing unit, "i" for each recipient and
 * the unit that imported it) and docnum (unit 0x00 type 0x00 year 0x00
 * be64 number id). */
typedef struct {
    uint8_t key[KEYS_MAX][KEY_MAX];
    size_t len[KEYS_MAX];
    int db[KEYS_MAX];
    size_t n;
} doc_keys;

static void key_add(doc_keys *k, int db, const char *const *parts, size_t nparts,
                    const uint8_t *be, size_t belen, const char *id, size_t idlen)
{
    size_t len = 0;
    uint8_t *out = k->key[k->n];
    for (size_t i = 0; i < nparts; i++) {
        size_t l = strlen(parts[i]);
        if (len + l + 1 + belen + idlen > KEY_MAX || k->n == KEYS_MAX)
            return;
        memcpy(out + len, parts[i], l);
        len += l;
        out[len++] = 0;
    }
    memcpy(out + len, be, belen);
    memcpy(out + len + belen, id, idlen);
    k->len[k->n] = len + belen + idlen;
    k->db[k->n++] = db;
}

static void keys_of(doc_keys *k, const char *id, size_t idlen, const uint8_t *rec, size_t len)
{
    k->n = 0;
    if (!rec || record_is_deleted(rec, len))
        return;
    json_t *doc = record_to_json(rec, len, id, idlen, NULL, 0);
    const char *unit = doc ? doc_str(doc, "unit") : NULL, *type = doc ? doc_str(doc, "type") : NULL;
    const char *date = doc ? doc_str(doc, "date") : NULL, *src = doc ? doc_str(doc, "source") : NULL;
    const json_t *number = json_object_get(doc, "number"), *at = json_object_get(doc, "created_at");
    const json_t *rcp = json_object_get(doc, "recipients");
    if (unit && type && date && strlen(date) >= 4 && json_is_integer(number) &&
        json_is_integer(at) && json_is_array(rcp) && doc_str(doc, "notation")) {
        uint8_t be[8], nb[8];
        store_be64(be, (uint64_t)json_integer_value(at));
        store_be64(nb, (uint64_t)json_integer_value(number));
        bool imported = src && !strcmp(src, "edxml");
        const char *out[] = {"o", unit};
        if (!imported)
            key_add(k, 0, out, 2, be, 8, id, idlen);
        size_t i;
        const json_t *v;
        json_array_foreach(rcp, i, v) {
            const char *in[] = {"i", json_string_value(v)};
            if (in[1])
                key_add(k, 0, in, 2, be, 8, id, idlen);
        }
        const char *rby = doc_str(doc, "received_by");
        const char *in[] = {"i", rby};
        if (rby)
            key_add(k, 0, in, 2, be, 8, id, idlen);
        char year[5] = {date[0], date[1], date[2], date[3], 0};
        const char *num[] = {unit, type, year};
        if (!imported)
            key_add(k, 1, num, 3, nb, 8, id, idlen);
    }
    json_decref(doc);
}

static int doc_index_update(const store_index_txn *t, const char *id, size_t idlen,
                            const uint8_t *old, size_t oldlen, const uint8_t *rec, size_t reclen)
{
    doc_keys *k = malloc(sizeof *k);
    if (!k)
        return ENOMEM;
    int rc = 0;
    keys_of(k, id, idlen, old, oldlen);
    for (size_t i = 0; i < k->n && !rc; i++) {
        MDB_val key = {k->len[i], k->key[i]};
        rc = mdb_del(t->txn, t->dbs[k->db[i]], &key, NULL);
        rc = rc == MDB_NOTFOUND ? 0 : rc;
    }
    keys_of(k, id, idlen, rec, reclen);
    for (size_t i = 0; i < k->n && !rc; i++) {
        MDB_val key = {k->len[i], k->key[i]}, val = {0, ""};
        rc = mdb_put(t->txn, t->dbs[k->db[i]], &key, &val, 0);
    }
    free(k);
    return rc;
}

const store_index doc_index = {
    .name = DOC_COLL,
    .version = 1,
    .collection = DOC_COLL,
    .dbs = doc_index_dbs,
    .ndbs = 2,
    .update = doc_index_update,
};

/* ---- reads ---- */

/* The prefix parts[0] 0x00 ... parts[n-1] 0x00 into out; its length. */
static size_t prefix_of(uint8_t *out, const char *const *parts, size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(parts[i]);
        if (len + l + 1 > KEY_MAX)
            return 0;
        memcpy(out + len, parts[i], l);
        len += l;
        out[len++] = 0;
    }
    return len;
}

int doc_index_walk(store *s, const char *kind, const char *unit,
                   int (*fn)(void *ctx, const char *id, size_t idlen), void *ctx)
{
    store_index_txn t;
    if (store_index_read(s, DOC_COLL, &t))
        return -1;
    uint8_t pre[KEY_MAX + 1];
    const char *parts[] = {kind, unit};
    size_t plen = prefix_of(pre, parts, 2);
    MDB_cursor *c = NULL;
    int rc = plen ? mdb_cursor_open(t.txn, t.dbs[0], &c) : -1, ret = 0;
    MDB_val k = {plen + 1, pre}, v;
    pre[plen] = 0xff; /* past every key of the prefix (unit codes are text) */
    if (!rc) {
        rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
        rc = rc == MDB_NOTFOUND ? mdb_cursor_get(c, &k, &v, MDB_LAST)
                                : mdb_cursor_get(c, &k, &v, MDB_PREV);
    }
    for (; !rc && !ret; rc = mdb_cursor_get(c, &k, &v, MDB_PREV)) {
        if (k.mv_size < plen + 8 || memcmp(k.mv_data, pre, plen))
            break;
        ret = fn(ctx, (const char *)k.mv_data + plen + 8, k.mv_size - plen - 8);
    }
    if (c)
        mdb_cursor_close(c);
    store_index_end(s, &t);
    return rc && rc != MDB_NOTFOUND ? -1 : ret;
}

int doc_index_max_number(store *s, const char *unit, const char *type, const char *year,
                         uint64_t *max)
{
    *max = 0;
    store_index_txn t;
    if (store_index_read(s, DOC_COLL, &t))
        return -1;
    uint8_t pre[KEY_MAX + 1];
    const char *parts[] = {unit, type, year};
    size_t plen = prefix_of(pre, parts, 3);
    MDB_cursor *c = NULL;
    int rc = plen ? mdb_cursor_open(t.txn, t.dbs[1], &c) : -1;
    MDB_val k = {plen + 1, pre}, v;
    pre[plen] = 0xff;
    if (!rc) {
        rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
        rc = rc == MDB_NOTFOUND ? mdb_cursor_get(c, &k, &v, MDB_LAST)
                                : mdb_cursor_get(c, &k, &v, MDB_PREV);
    }
    if (!rc && k.mv_size >= plen + 8 && !memcmp(k.mv_data, pre, plen))
        *max = store_get_be64((const uint8_t *)k.mv_data + plen);
    if (c)
        mdb_cursor_close(c);
    store_index_end(s, &t);
    return rc && rc != MDB_NOTFOUND ? -1 : 0;
}
