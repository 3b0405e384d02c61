/*
 * store_index.c - the domains' indexes inside the store (store_index.h):
 * opening their databases, rebuilding an outdated index, the call inside
 * every record change, and read transactions over an index.
 */
#include "storage/store_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define META_PREFIX "index/"

static void meta_name(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, META_PREFIX "%s", name);
}

/* Empties index i and feeds it every record of its collection. */
static int index_rebuild(store *s, MDB_txn *txn, size_t i)
{
    const store_index *ix = s->indexes[i];
    store_index_txn t = {.txn = txn, .records = s->records};
    int rc = 0;
    for (size_t d = 0; d < ix->ndbs && !rc; d++) {
        t.dbs[d] = s->index_dbs[i][d];
        rc = mdb_drop(txn, t.dbs[d], 0);
    }
    MDB_cursor *c;
    if (rc || (rc = mdb_cursor_open(txn, s->records, &c)))
        return rc;
    const size_t plen = strlen(ix->collection) + 1; /* coll 0x00 */
    MDB_val k = {plen, (void *)ix->collection}, v;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); !rc;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size <= plen || memcmp(k.mv_data, ix->collection, plen))
            break;
        uint8_t *rec = malloc(v.mv_size);
        if (!rec) {
            rc = ENOMEM;
            break;
        }
        memcpy(rec, v.mv_data, v.mv_size); /* update may write: nothing may point into the map */
        rc = ix->update(&t, (const char *)k.mv_data + plen, k.mv_size - plen, NULL, 0, rec,
                        v.mv_size);
        free(rec);
        if (rc)
            break;
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Refuses a read-write open that leaves out an index the store holds. */
static int index_check_held(store *s, MDB_txn *txn, char *err, size_t errlen)
{
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, s->meta, &c);
    if (rc)
        return rc;
    const size_t plen = strlen(META_PREFIX);
    MDB_val k = {plen, META_PREFIX}, v;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); !rc;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size <= plen || memcmp(k.mv_data, META_PREFIX, plen))
            break;
        const char *name = (const char *)k.mv_data + plen;
        size_t nlen = k.mv_size - plen, i = 0;
        while (i < s->nindexes &&
               (strlen(s->indexes[i]->name) != nlen || memcmp(s->indexes[i]->name, name, nlen)))
            i++;
        if (i == s->nindexes) {
            snprintf(err, errlen,
                     "%s keeps the index \"%.*s\" of a domain this program did not open it "
                     "with: open it with lienthong itself, so the index stays current",
                     s->path, (int)nlen, name);
            mdb_cursor_close(c);
            return -1;
        }
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_index_open_all(store *s, MDB_txn *txn, const store_options *opt, char *err, size_t errlen)
{
    size_t n = opt ? opt->nindexes : 0;
    if (n > STORE_INDEXES_MAX) {
        snprintf(err, errlen, "too many indexes (%zu, at most %d)", n, STORE_INDEXES_MAX);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const store_index *ix = opt->indexes[i];
        if (ix->ndbs > STORE_INDEX_DBS_MAX) {
            snprintf(err, errlen, "index %s has too many databases", ix->name);
            return -1;
        }
        s->indexes[i] = ix;
        for (size_t d = 0; d < ix->ndbs; d++) {
            int rc =
                mdb_dbi_open(txn, ix->dbs[d], s->read_only ? 0 : MDB_CREATE, &s->index_dbs[i][d]);
            if (rc) {
                snprintf(err, errlen, "cannot open database \"%s\" of index %s in %s: %s%s",
                         ix->dbs[d], ix->name, s->path, mdb_strerror(rc),
                         rc == MDB_NOTFOUND ? " (start `lienthong serve` on it once to build it)"
                                            : "");
                return -1;
            }
        }
    }
    s->nindexes = n;
    if (s->read_only)
        return 0;
    int rc = index_check_held(s, txn, err, errlen);
    if (rc < 0)
        return -1;
    for (size_t i = 0; i < n && !rc; i++) {
        char name[128];
        uint64_t version = 0;
        meta_name(name, sizeof name, s->indexes[i]->name);
        rc = store_meta_get_u64(txn, s, name, &version);
        if (!rc && version != s->indexes[i]->version) {
            rc = index_rebuild(s, txn, i);
            if (!rc)
                rc = store_meta_put_u64(txn, s, name, s->indexes[i]->version);
        }
    }
    if (rc)
        snprintf(err, errlen, "cannot build the indexes of %s: %s", s->path, mdb_strerror(rc));
    return rc ? -1 : 0;
}

int store_index_changed(store *s, MDB_txn *txn, const char *coll, size_t coll_len, const char *id,
                        size_t idlen, const uint8_t *old, size_t oldlen, const uint8_t *rec,
                        size_t reclen)
{
    int rc = 0;
    for (size_t i = 0; i < s->nindexes && !rc; i++) {
        const store_index *ix = s->indexes[i];
        bool own = strlen(ix->collection) == coll_len && !memcmp(ix->collection, coll, coll_len);
        bool watched = ix->watch && ix->watched && strlen(ix->watch) == coll_len &&
                       !memcmp(ix->watch, coll, coll_len);
        if (!own && !watched)
            continue;
        store_index_txn t = {.txn = txn, .records = s->records};
        memcpy(t.dbs, s->index_dbs[i], sizeof t.dbs);
        rc = (own ? ix->update : ix->watched)(&t, id, idlen, old, oldlen, rec, reclen);
    }
    return rc;
}

int store_index_read(store *s, const char *name, store_index_txn *t)
{
    size_t i = 0;
    while (i < s->nindexes && strcmp(s->indexes[i]->name, name))
        i++;
    if (i == s->nindexes)
        return MDB_NOTFOUND;
    memset(t, 0, sizeof *t);
    memcpy(t->dbs, s->index_dbs[i], sizeof t->dbs);
    t->records = s->records;
    return store_txn_read(s, &t->txn);
}

void store_index_end(store *s, store_index_txn *t)
{
    store_txn_end(s, t->txn);
    t->txn = NULL;
}
