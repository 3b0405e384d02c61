/*
 * store_positions.c - replication positions: the "complete" position of
 * each origin (every entry of it up to seq that this node should hold is
 * held) and range scans of one origin's log. Written in the same
 * transaction as the entries they describe, so an acknowledged position
 * never runs ahead of the entries.
 */
#include "storage/store_internal.h"

#include <string.h>

#define UNIT_CAP 33

static void complete_parse(const MDB_val *v, uint64_t *seq, char *unit)
{
    const uint8_t *b = v->mv_data;
    *seq = 0;
    for (int i = 7; i >= 0; i--)
        *seq = *seq << 8 | b[i];
    size_t ul = v->mv_size - 8 < UNIT_CAP - 1 ? v->mv_size - 8 : UNIT_CAP - 1;
    memcpy(unit, b + 8, ul);
    unit[ul] = '\0';
}

int store_complete_raise(store *s, MDB_txn *txn, const uint8_t *origin, uint64_t from, uint64_t seq,
                         const char *unit, size_t unit_len)
{
    MDB_val k = {ENTRY_KEY_BYTES, (void *)origin}, v;
    uint64_t cur = 0;
    char held[UNIT_CAP] = "";
    int rc = mdb_get(txn, s->complete, &k, &v);
    if (rc && rc != MDB_NOTFOUND)
        return rc;
    if (!rc) {
        if (v.mv_size < 8)
            return MDB_CORRUPTED;
        complete_parse(&v, &cur, held);
        if (seq <= cur || cur < from)
            return 0;
    } else {
        if (from > 0)
            return 0;
        if (unit_len >= UNIT_CAP)
            unit_len = UNIT_CAP - 1;
        memcpy(held, unit, unit_len);
        held[unit_len] = '\0';
    }
    uint8_t buf[8 + UNIT_CAP];
    size_t hl = strlen(held);
    for (int i = 0; i < 8; i++)
        buf[i] = (uint8_t)((seq > cur ? seq : cur) >> (8 * i));
    memcpy(buf + 8, held, hl);
    v.mv_size = 8 + hl;
    v.mv_data = buf;
    return mdb_put(txn, s->complete, &k, &v, 0);
}

int store_complete_get(store *s, const uint8_t origin[ENTRY_KEY_BYTES], uint64_t *seq, char *unit)
{
    MDB_txn *txn;
    if (store_txn_read(s, &txn))
        return -1;
    MDB_val k = {ENTRY_KEY_BYTES, (void *)origin}, v;
    int rc = mdb_get(txn, s->complete, &k, &v);
    int ret = rc == MDB_NOTFOUND ? 1 : rc || v.mv_size < 8 ? -1 : 0;
    if (!ret)
        complete_parse(&v, seq, unit);
    store_txn_end(s, txn);
    return ret;
}

#define VIEW_KEY "complete_view"

typedef struct {
    bool (*lower)(void *, const uint8_t *, const char *);
    void *ctx;
    const uint8_t *view;
    int lowered;
} lower_job;

static int lower_txn(store *s, MDB_txn *txn, void *ctx)
{
    lower_job *j = ctx;
    j->lowered = 0; /* the transaction may be retried on a bigger map */
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, s->complete, &c);
    if (rc)
        return rc;
    MDB_val k, v;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); !rc; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        uint64_t seq;
        char unit[UNIT_CAP];
        if (k.mv_size != ENTRY_KEY_BYTES || v.mv_size < 8) {
            rc = MDB_CORRUPTED;
            break;
        }
        complete_parse(&v, &seq, unit);
        if (j->lower && !j->lower(j->ctx, k.mv_data, unit))
            continue;
        origin_state os = {0};
        rc = store_origin_read(txn, s, k.mv_data, &os);
        if (rc && rc != MDB_NOTFOUND)
            break;
        uint64_t prefix = os.count == os.max_seq ? os.max_seq : 0;
        if (prefix >= seq)
            continue;
        uint8_t buf[8 + UNIT_CAP];
        memcpy(buf, v.mv_data, v.mv_size);
        for (int i = 0; i < 8; i++)
            buf[i] = (uint8_t)(prefix >> (8 * i));
        MDB_val nv = {v.mv_size, buf};
        rc = mdb_cursor_put(c, &k, &nv, MDB_CURRENT);
        if (rc)
            break;
        j->lowered++;
    }
    mdb_cursor_close(c);
    if (rc != MDB_NOTFOUND)
        return rc;
    MDB_val vk = {sizeof VIEW_KEY - 1, VIEW_KEY}, vv = {16, (void *)j->view};
    return mdb_put(txn, s->meta, &vk, &vv, 0);
}

int store_complete_lower(store *s,
                         bool (*lower)(void *ctx, const uint8_t *origin, const char *unit),
                         void *ctx, const uint8_t view[16], char *err, size_t errlen)
{
    lower_job j = {lower, ctx, view, 0};
    return store_txn_write(s, lower_txn, &j, err, errlen) ? -1 : j.lowered;
}

int store_complete_view(store *s, uint8_t view[16])
{
    MDB_txn *txn;
    if (store_txn_read(s, &txn))
        return -1;
    MDB_val k = {sizeof VIEW_KEY - 1, VIEW_KEY}, v;
    int rc = mdb_get(txn, s->meta, &k, &v);
    int ret = rc == MDB_NOTFOUND ? 1 : rc || v.mv_size != 16 ? -1 : 0;
    if (!ret)
        memcpy(view, v.mv_data, 16);
    store_txn_end(s, txn);
    return ret;
}

typedef struct {
    int (*fn)(void *, const uint8_t *, uint64_t, const char *);
    void *ctx;
} completes_walk;

static int completes_one(void *ctx, MDB_val *k, MDB_val *v)
{
    completes_walk *w = ctx;
    uint64_t seq;
    char unit[UNIT_CAP];
    if (k->mv_size != ENTRY_KEY_BYTES || v->mv_size < 8)
        return -1;
    complete_parse(v, &seq, unit);
    return w->fn(w->ctx, k->mv_data, seq, unit);
}

int store_completes(store *s,
                    int (*fn)(void *ctx, const uint8_t *origin, uint64_t seq, const char *unit),
                    void *ctx)
{
    completes_walk w = {fn, ctx};
    return store_scan(s, s->complete, NULL, 0, NULL, 0, completes_one, &w);
}

typedef struct {
    uint64_t upto;
    int (*fn)(void *, uint64_t, const uint8_t *, size_t);
    void *ctx;
} origin_walk;

static int origin_one(void *ctx, MDB_val *k, MDB_val *v)
{
    origin_walk *w = ctx;
    uint64_t seq = store_get_be64((const uint8_t *)k->mv_data + ENTRY_KEY_BYTES);
    if (seq > w->upto)
        return 1;
    return w->fn(w->ctx, seq, v->mv_data, v->mv_size);
}

int store_scan_origin(store *s, const uint8_t origin[ENTRY_KEY_BYTES], uint64_t after,
                      uint64_t upto,
                      int (*fn)(void *ctx, uint64_t seq, const uint8_t *bytes, size_t len),
                      void *ctx)
{
    uint8_t from[LOG_KEY_BYTES];
    store_log_key(from, origin, after + 1);
    origin_walk w = {upto, fn, ctx};
    int rc = store_scan(s, s->log, from, sizeof from, origin, ENTRY_KEY_BYTES, origin_one, &w);
    return rc < 0 ? -1 : 0;
}
