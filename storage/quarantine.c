/*
 * quarantine.c - the quarantine of quarantine.h.
 *
 * "quarantine": hash(32) -> waiting(1) at_ms(8 LE) wait_len(2 LE) wait
 *               why_len(2 LE) why entry-bytes
 * "qwait":      wait key, hash(32) -> ""      (waiting entries only)
 * "qorigin":    origin(32) -> count(8 LE)
 */
#include "storage/quarantine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROW_HEAD 11 /* waiting, at_ms, wait_len */

int quarantine_held(store *s, MDB_txn *txn, const uint8_t hash[ENTRY_HASH_BYTES], bool *held)
{
    MDB_val k = {ENTRY_HASH_BYTES, (void *)hash}, v;
    int rc = mdb_get(txn, s->quarantine, &k, &v);
    *held = rc == 0;
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static int origin_count(store *s, MDB_txn *txn, const uint8_t *origin, int delta, uint64_t *n)
{
    MDB_val k = {ENTRY_KEY_BYTES, (void *)origin}, v;
    uint8_t buf[8] = {0};
    int rc = mdb_get(txn, s->qorigin, &k, &v);
    if (rc == 0 && v.mv_size == 8)
        memcpy(buf, v.mv_data, 8);
    else if (rc && rc != MDB_NOTFOUND)
        return rc;
    *n = 0;
    for (int i = 7; i >= 0; i--)
        *n = *n << 8 | buf[i];
    if (!delta)
        return 0;
    *n = delta > 0 ? *n + 1 : (*n ? *n - 1 : 0);
    if (!*n)
        return (rc = mdb_del(txn, s->qorigin, &k, NULL)) == MDB_NOTFOUND ? 0 : rc;
    for (int i = 0; i < 8; i++)
        buf[i] = (uint8_t)(*n >> (8 * i));
    v = (MDB_val){8, buf};
    return mdb_put(txn, s->qorigin, &k, &v, 0);
}

static int wait_row(store *s, MDB_txn *txn, const uint8_t *wait, size_t wlen, const uint8_t *hash,
                    bool add)
{
    uint8_t key[AUTH_WAIT_MAX + ENTRY_HASH_BYTES];
    memcpy(key, wait, wlen);
    memcpy(key + wlen, hash, ENTRY_HASH_BYTES);
    MDB_val k = {wlen + ENTRY_HASH_BYTES, key}, v = {0, ""};
    if (add)
        return mdb_put(txn, s->qwait, &k, &v, 0);
    int rc = mdb_del(txn, s->qwait, &k, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int quarantine_add(store *s, MDB_txn *txn, const entry_view *e,
                   const uint8_t hash[ENTRY_HASH_BYTES], const auth_decision *d, bool *full)
{
    uint64_t n;
    int rc = origin_count(s, txn, e->origin, 0, &n);
    if (rc)
        return rc;
    *full = n >= QUARANTINE_PER_ORIGIN;
    if (*full)
        return 0;
    bool waiting = d->verdict == AUTH_WAIT;
    size_t wlen = waiting ? d->wait_len : 0, ylen = strlen(d->why);
    size_t len = ROW_HEAD + wlen + 2 + ylen + e->len;
    uint8_t *row = malloc(len), *p = row;
    if (!row)
        return ENOMEM;
    uint64_t at = hlc_wall_ms();
    *p++ = waiting;
    for (int i = 0; i < 8; i++)
        *p++ = (uint8_t)(at >> (8 * i));
    *p++ = (uint8_t)wlen;
    *p++ = (uint8_t)(wlen >> 8);
    memcpy(p, d->wait, wlen);
    p += wlen;
    *p++ = (uint8_t)ylen;
    *p++ = (uint8_t)(ylen >> 8);
    memcpy(p, d->why, ylen);
    p += ylen;
    memcpy(p, e->bytes, e->len);
    MDB_val k = {ENTRY_HASH_BYTES, (void *)hash}, v = {len, row};
    rc = mdb_put(txn, s->quarantine, &k, &v, 0);
    free(row);
    if (!rc && waiting)
        rc = wait_row(s, txn, d->wait, wlen, hash, true);
    return rc ? rc : origin_count(s, txn, e->origin, +1, &n);
}

/* Hashes of waiting entries, collected before any is re-applied. */
typedef struct {
    uint8_t (*h)[ENTRY_HASH_BYTES];
    size_t n, cap;
} hash_list;

static int hash_push(hash_list *l, const uint8_t *h)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        uint8_t(*nh)[ENTRY_HASH_BYTES] = realloc(l->h, cap * sizeof *nh);
        if (!nh)
            return ENOMEM;
        l->h = nh;
        l->cap = cap;
    }
    memcpy(l->h[l->n++], h, ENTRY_HASH_BYTES);
    return 0;
}

/* Collects the hashes waiting under key prefix (all when plen is 0). */
static int collect_waiting(store *s, MDB_txn *txn, const uint8_t *prefix, size_t plen, hash_list *l)
{
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, s->qwait, &c);
    if (rc)
        return rc;
    MDB_val k = {plen, (void *)prefix}, v;
    rc = mdb_cursor_get(c, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST);
    for (; !rc; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size < plen || (plen && memcmp(k.mv_data, prefix, plen)))
            break; /* past the prefix */
        if (k.mv_size < ENTRY_HASH_BYTES || (plen && k.mv_size != plen + ENTRY_HASH_BYTES))
            continue; /* another record key that starts with this one */
        if ((rc = hash_push(l, (const uint8_t *)k.mv_data + k.mv_size - ENTRY_HASH_BYTES)))
            break;
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Takes entry hash out of quarantine and applies it again. */
static int reexamine(store *s, MDB_txn *txn, apply_ctx *ac, const uint8_t *hash)
{
    MDB_val k = {ENTRY_HASH_BYTES, (void *)hash}, v;
    int rc = mdb_get(txn, s->quarantine, &k, &v);
    if (rc)
        return rc == MDB_NOTFOUND ? 0 : rc; /* already re-applied */
    const uint8_t *row = v.mv_data;
    if (v.mv_size < ROW_HEAD || !row[0])
        return v.mv_size < ROW_HEAD ? MDB_CORRUPTED : 0;
    size_t wlen = row[9] | (size_t)row[10] << 8;
    if (v.mv_size < ROW_HEAD + wlen + 2)
        return MDB_CORRUPTED;
    size_t ylen = row[ROW_HEAD + wlen] | (size_t)row[ROW_HEAD + wlen + 1] << 8;
    size_t off = ROW_HEAD + wlen + 2 + ylen;
    if (v.mv_size <= off + 13 + ENTRY_KEY_BYTES)
        return MDB_CORRUPTED;
    size_t len = v.mv_size - off;
    uint8_t *bytes = malloc(len), wait[AUTH_WAIT_MAX];
    if (!bytes)
        return ENOMEM;
    memcpy(bytes, row + off, len);
    memcpy(wait, row + ROW_HEAD, wlen);
    uint64_t n;
    rc = mdb_del(txn, s->quarantine, &k, NULL);
    if (!rc)
        rc = wait_row(s, txn, wait, wlen, hash, false);
    if (!rc)
        rc = origin_count(s, txn, bytes + 13, -1, &n);
    apply_result res;
    if (!rc)
        rc = store_apply_one(s, txn, ac, bytes, len, true, &res, NULL, 0);
    free(bytes);
    return rc;
}

int quarantine_retry(store *s, MDB_txn *txn, apply_ctx *ac)
{
    int rc = 0;
    while (!rc && (ac->wake_membership || ac->wake_len)) {
        hash_list l = {0};
        if (ac->wake_membership) {
            rc = collect_waiting(s, txn, NULL, 0, &l);
        } else {
            for (size_t off = 0; !rc && off + 2 <= ac->wake_len;) {
                size_t klen = (size_t)ac->wake[off] << 8 | ac->wake[off + 1];
                uint8_t prefix[AUTH_WAIT_MAX];
                prefix[0] = 'r';
                memcpy(prefix + 1, ac->wake + off + 2, klen);
                rc = collect_waiting(s, txn, prefix, 1 + klen, &l);
                off += 2 + klen;
            }
        }
        ac->wake_membership = false;
        ac->wake_len = 0;
        for (size_t i = 0; !rc && i < l.n; i++)
            rc = reexamine(s, txn, ac, l.h[i]);
        free(l.h);
    }
    return rc;
}

typedef struct {
    int (*fn)(void *ctx, const store_quarantined *q);
    void *ctx;
} scan_ctx;

static int scan_one(void *ctx, MDB_val *k, MDB_val *v)
{
    scan_ctx *sc = ctx;
    const uint8_t *row = v->mv_data;
    if (k->mv_size != ENTRY_HASH_BYTES || v->mv_size < ROW_HEAD)
        return -1;
    size_t wlen = row[9] | (size_t)row[10] << 8;
    if (v->mv_size < ROW_HEAD + wlen + 2)
        return -1;
    size_t ylen = row[ROW_HEAD + wlen] | (size_t)row[ROW_HEAD + wlen + 1] << 8;
    size_t off = ROW_HEAD + wlen + 2 + ylen;
    if (v->mv_size < off)
        return -1;
    uint64_t at = 0;
    for (int i = 8; i >= 1; i--)
        at = at << 8 | row[i];
    store_quarantined q = {
        k->mv_data, row[0] != 0,     at, (const char *)row + ROW_HEAD + wlen + 2, ylen,
        row + off,  v->mv_size - off};
    return sc->fn(sc->ctx, &q);
}

int store_quarantine_scan(store *s, int (*fn)(void *ctx, const store_quarantined *q), void *ctx)
{
    scan_ctx sc = {fn, ctx};
    return store_scan(s, s->quarantine, NULL, 0, NULL, 0, scan_one, &sc);
}
