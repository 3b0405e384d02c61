/*
 * store_blob.c - content-addressed blobs (photos, attachments, thumbnails)
 * stored in LMDB in 64 KiB chunks under their BLAKE2b-256 hash, so entries
 * stay small and refer to content by hash.
 */
#include "storage/store_internal.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOB_CHUNK (64u * 1024u)

/* Sets the chunk number (big-endian) after the hash in a chunk key. */
static void blob_chunk_key(uint8_t key[36], size_t chunk)
{
    key[32] = (uint8_t)(chunk >> 24);
    key[33] = (uint8_t)(chunk >> 16);
    key[34] = (uint8_t)(chunk >> 8);
    key[35] = (uint8_t)chunk;
}

typedef struct {
    const uint8_t *data;
    size_t len;
    const uint8_t *hash;
} blob_put_ctx;

static int blob_put_txn(store *s, MDB_txn *txn, void *ctx)
{
    blob_put_ctx *b = ctx;
    MDB_val k = {32, (void *)b->hash}, v;
    int rc = mdb_get(txn, s->blob_info, &k, &v);
    if (rc != MDB_NOTFOUND)
        return rc; /* 0: already stored */
    uint8_t key[36];
    memcpy(key, b->hash, 32);
    for (size_t off = 0, chunk = 0; off < b->len || chunk == 0; off += BLOB_CHUNK, chunk++) {
        blob_chunk_key(key, chunk);
        size_t n = b->len - off < BLOB_CHUNK ? b->len - off : BLOB_CHUNK;
        MDB_val ck = {sizeof key, key}, cv = {n, (void *)(b->data + off)};
        rc = mdb_put(txn, s->blobs, &ck, &cv, 0);
        if (rc)
            return rc;
    }
    uint8_t size[8];
    for (int i = 0; i < 8; i++)
        size[i] = (uint8_t)((uint64_t)b->len >> (8 * i));
    v.mv_size = 8;
    v.mv_data = size;
    return mdb_put(txn, s->blob_info, &k, &v, 0);
}

int store_blob_put(store *s, const uint8_t *data, size_t len, uint8_t hash[32], char *err,
                   size_t errlen)
{
    if (len > STORE_BLOB_MAX) {
        snprintf(err, errlen, "blob is %zu bytes, over the %u-byte limit", len, STORE_BLOB_MAX);
        return -1;
    }
    crypto_generichash(hash, 32, data, len, NULL, 0);
    blob_put_ctx b = {data, len, hash};
    return store_txn_write(s, blob_put_txn, &b, err, errlen);
}

int store_blob_get(store *s, const uint8_t hash[32], uint8_t **data, size_t *len)
{
    MDB_txn *txn;
    if (store_txn_read(s, &txn))
        return -1;
    MDB_val k = {32, (void *)hash}, v;
    int rc = mdb_get(txn, s->blob_info, &k, &v);
    if (rc) {
        store_txn_end(s, txn);
        return rc == MDB_NOTFOUND ? 1 : -1;
    }
    uint64_t size = 0;
    for (int i = 7; i >= 0; i--)
        size = size << 8 | ((uint8_t *)v.mv_data)[i];
    uint8_t *buf = malloc(size ? size : 1);
    int ret = buf ? 0 : -1;
    uint8_t key[36];
    memcpy(key, hash, 32);
    for (size_t off = 0, chunk = 0; !ret && off < size; chunk++) {
        blob_chunk_key(key, chunk);
        MDB_val ck = {sizeof key, key}, cv;
        if (mdb_get(txn, s->blobs, &ck, &cv) || cv.mv_size > size - off) {
            ret = -1;
            break;
        }
        memcpy(buf + off, cv.mv_data, cv.mv_size);
        off += cv.mv_size;
    }
    store_txn_end(s, txn);
    if (ret) {
        free(buf);
        return -1;
    }
    *data = buf;
    *len = size;
    return 0;
}
