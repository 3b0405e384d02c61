/*
 * ind_index.c - the roll-up index of indicator values (ind_index.h) and
 * its reads (ind_index_rows in ind_internal.h).
 */
#include "indicators/ind_index.h"
#include "indicators/ind_internal.h"
#include "replication/unit_place.h"
#include "storage/record.h"

#include <errno.h>
#include <math.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#define PATH_MAX_UNITS 16
#define KEY_MAX 511

/* What one value record contributes. */
typedef struct {
    bool valid;
    char code[IND_CODE_MAX], period[IND_PERIOD_MAX], tier[NODE_CODE_MAX];
    char path[PATH_MAX_UNITS][NODE_CODE_MAX];
    size_t npath;
    int64_t micro;
    bool on_time;
} contrib;

/* Splits id "code/unit/period" into c (unit only checked against the path). */
static bool id_split(const char *id, size_t idlen, contrib *c, char *unit, size_t cap)
{
    const char *a = memchr(id, '/', idlen);
    const char *b = a ? memchr(a + 1, '/', idlen - (size_t)(a + 1 - id)) : NULL;
    if (!a || !b || (size_t)(a - id) >= IND_CODE_MAX || (size_t)(b - a - 1) >= cap ||
        idlen - (size_t)(b + 1 - id) >= IND_PERIOD_MAX)
        return false;
    memcpy(c->code, id, (size_t)(a - id));
    c->code[a - id] = '\0';
    memcpy(unit, a + 1, (size_t)(b - a - 1));
    unit[b - a - 1] = '\0';
    size_t pl = idlen - (size_t)(b + 1 - id);
    memcpy(c->period, b + 1, pl);
    c->period[pl] = '\0';
    return true;
}

static bool key_is(const msgpack_object *k, const char *s)
{
    size_t n = strlen(s);
    return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n && !memcmp(k->via.str.ptr, s, n);
}

/* Copies string o into out (cap); false when it is not a non-empty string
 * that fits without a NUL or a '/'. */
static bool str_copy(const msgpack_object *o, char *out, size_t cap)
{
    if (o->type != MSGPACK_OBJECT_STR || !o->via.str.size || o->via.str.size >= cap ||
        memchr(o->via.str.ptr, 0, o->via.str.size) || memchr(o->via.str.ptr, '/', o->via.str.size))
        return false;
    memcpy(out, o->via.str.ptr, o->via.str.size);
    out[o->via.str.size] = '\0';
    return true;
}

/* The number of o into *x; false when it is not a number. */
static bool num_of(const msgpack_object *o, double *x)
{
    switch (o->type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER: *x = (double)o->via.u64; return true;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: *x = (double)o->via.i64; return true;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: *x = o->via.f64; return isfinite(o->via.f64); /* NaN: none */
    default: return false;
    }
}

/* Reads the fields value, tier, path and late of a record's field map
 * (each field [hlc, origin, value]) into c. */
static void contrib_fields(contrib *c, const msgpack_object_map *fm)
{
    bool has_value = false, has_tier = false, path_ok = false;
    for (uint32_t i = 0; i < fm->size; i++) {
        const msgpack_object *k = &fm->ptr[i].key, *a = &fm->ptr[i].val;
        if (a->type != MSGPACK_OBJECT_ARRAY || a->via.array.size != 3)
            continue;
        const msgpack_object *v = &a->via.array.ptr[2];
        double x;
        if (key_is(k, "value") && num_of(v, &x) && fabs(x) <= IND_VALUE_LIMIT) {
            c->micro = llround(x * IND_MICRO);
            has_value = true;
        } else if (key_is(k, "tier")) {
            has_tier = v->type == MSGPACK_OBJECT_STR && v->via.str.size < sizeof c->tier &&
                       !memchr(v->via.str.ptr, 0, v->via.str.size);
            if (has_tier) {
                memcpy(c->tier, v->via.str.ptr, v->via.str.size);
                c->tier[v->via.str.size] = '\0';
            }
        } else if (key_is(k, "path") && v->type == MSGPACK_OBJECT_ARRAY && v->via.array.size &&
                   v->via.array.size <= PATH_MAX_UNITS) {
            path_ok = true;
            for (uint32_t j = 0; j < v->via.array.size && path_ok; j++)
                path_ok = str_copy(&v->via.array.ptr[j], c->path[j], NODE_CODE_MAX);
            c->npath = path_ok ? v->via.array.size : 0;
        } else if (key_is(k, "late")) {
            c->on_time = !(v->type == MSGPACK_OBJECT_BOOLEAN && v->via.boolean);
        }
    }
    c->valid = has_value && has_tier && path_ok;
}

/* Replaces c's path as written by the path its unit is counted along now
 * (unit_place_record_path: a merged unit's values aggregate into its
 * successor's past periods). A unit the tree here does not know keeps the
 * path as written. */
static int contrib_place(contrib *c, const unit_place_src *src)
{
    return unit_place_rewrite(src, c->path[0], PATH_MAX_UNITS, NODE_CODE_MAX, &c->npath)
               ? MDB_CORRUPTED
               : 0;
}

/* Reads what record rec of id contributes, straight from its msgpack (no
 * JSON: the index runs for every value written), placed in the tree of
 * src; a deleted, partial or foreign record contributes nothing (valid
 * false). A deleted record has no fields, so it has no value. */
static int contrib_read(contrib *c, const char *id, size_t idlen, const uint8_t *rec, size_t len,
                        const unit_place_src *src)
{
    memset(c, 0, sizeof *c);
    c->on_time = true;
    char unit[NODE_CODE_MAX];
    if (!rec || !id_split(id, idlen, c, unit, sizeof unit))
        return 0;
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    int rc = 0;
    if (msgpack_unpack_next(&up, (const char *)rec, len, &off) != MSGPACK_UNPACK_SUCCESS ||
        up.data.type != MSGPACK_OBJECT_MAP || up.data.via.map.size != 3 ||
        up.data.via.map.ptr[1].val.type != MSGPACK_OBJECT_MAP)
        rc = MDB_CORRUPTED;
    else
        contrib_fields(c, &up.data.via.map.ptr[1].val.via.map);
    msgpack_unpacked_destroy(&up);
    c->valid = c->valid && !strcmp(c->path[c->npath - 1], unit);
    if (!c->valid)
        memset(c, 0, sizeof *c);
    else if (!rc)
        rc = contrib_place(c, src);
    return rc;
}

static bool contrib_same(const contrib *a, const contrib *b)
{
    return a->valid == b->valid && (!a->valid || !memcmp(a, b, sizeof *a));
}

/* key = parts joined by 0x00; returns its length (0 when too long). */
static size_t key_join(uint8_t *key, const char *const *parts, size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(parts[i]);
        if (len + l + 1 > KEY_MAX)
            return 0;
        if (i)
            key[len++] = 0;
        memcpy(key + len, parts[i], l);
        len += l;
    }
    return len;
}

/* The '/'-joined path units 0..upto (inclusive) into out. */
static void path_join(const contrib *c, size_t upto, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i <= upto && len < cap; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? "/" : "", c->path[i]);
}

static size_t leaf_key(uint8_t *key, const contrib *c, size_t upto)
{
    char path[PATH_MAX_UNITS * NODE_CODE_MAX];
    path_join(c, upto, path, sizeof path);
    const char *parts[] = {c->code, c->tier, c->period, path};
    return key_join(key, parts, 4);
}

static size_t agg_key(uint8_t *key, const char *code, const char *tier, const char *anc,
                      const char *period)
{
    const char *parts[] = {code, tier, anc, period};
    return key_join(key, parts, 4);
}

/* Recomputes min and max of row from the leaves under path[0..upto]. */
static int extremes_recompute(const store_index_txn *t, const contrib *c, size_t upto,
                              ind_agg_row *row)
{
    uint8_t prefix[KEY_MAX + 1];
    size_t plen = leaf_key(prefix, c, upto);
    MDB_cursor *cur;
    int rc = mdb_cursor_open(t->txn, t->dbs[0], &cur);
    if (rc)
        return rc;
    MDB_val k = {plen, prefix}, v;
    bool first = true;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); !rc;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen))
            break;
        if (k.mv_size > plen && ((const uint8_t *)k.mv_data)[plen] != '/')
            continue; /* a sibling whose code starts like this one */
        int64_t x;
        if (v.mv_size != sizeof x)
            continue;
        memcpy(&x, v.mv_data, sizeof x);
        if (first || x < row->min)
            row->min = x;
        if (first || x > row->max)
            row->max = x;
        first = false;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Adds (add) or removes c's value to/from the row of path[i]. */
static int agg_move(const store_index_txn *t, const contrib *c, size_t i, bool add)
{
    uint8_t key[KEY_MAX + 1];
    MDB_val k = {agg_key(key, c->code, c->tier, c->path[i], c->period), key}, v;
    if (!k.mv_size)
        return 0;
    ind_agg_row row;
    memset(&row, 0, sizeof row);
    int rc = mdb_get(t->txn, t->dbs[1], &k, &v);
    if (rc && rc != MDB_NOTFOUND)
        return rc;
    if (!rc && v.mv_size == sizeof row)
        memcpy(&row, v.mv_data, sizeof row);
    if (add) {
        if (!row.count || c->micro < row.min)
            row.min = c->micro;
        if (!row.count || c->micro > row.max)
            row.max = c->micro;
        row.count++;
        row.on_time += c->on_time;
        row.sum += c->micro;
    } else {
        if (!row.count)
            return 0;
        row.count--;
        row.on_time -= c->on_time && row.on_time;
        row.sum -= c->micro;
        if (!row.count)
            return mdb_del(t->txn, t->dbs[1], &k, NULL);
        if ((c->micro == row.min || c->micro == row.max) &&
            (rc = extremes_recompute(t, c, i, &row)))
            return rc;
    }
    v = (MDB_val){sizeof row, &row};
    return mdb_put(t->txn, t->dbs[1], &k, &v, 0);
}

static int contrib_apply(const store_index_txn *t, const contrib *c, bool add)
{
    if (!c->valid)
        return 0;
    uint8_t key[KEY_MAX + 1];
    MDB_val k = {leaf_key(key, c, c->npath - 1), key};
    if (!k.mv_size)
        return 0;
    int rc;
    if (add) {
        MDB_val v = {sizeof c->micro, (void *)&c->micro};
        rc = mdb_put(t->txn, t->dbs[0], &k, &v, 0);
    } else {
        rc = mdb_del(t->txn, t->dbs[0], &k, NULL);
        if (rc == MDB_NOTFOUND)
            rc = 0;
    }
    for (size_t i = 0; !rc && i < c->npath; i++)
        rc = agg_move(t, c, i, add);
    return rc;
}

/* Moves value id from record old placed in tree src_old to record rec
 * placed in tree src_new. */
static int ind_reindex(const store_index_txn *t, const char *id, size_t idlen, const uint8_t *old,
                       size_t oldlen, const unit_place_src *src_old, const uint8_t *rec,
                       size_t reclen, const unit_place_src *src_new)
{
    contrib *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    int rc = a && b ? 0 : ENOMEM;
    if (!rc)
        rc = contrib_read(a, id, idlen, old, oldlen, src_old);
    if (!rc)
        rc = contrib_read(b, id, idlen, rec, reclen, src_new);
    if (!rc && !contrib_same(a, b)) {
        rc = contrib_apply(t, a, false);
        if (!rc)
            rc = contrib_apply(t, b, true);
    }
    free(a);
    free(b);
    return rc;
}

/* The store's call: moves value id from record old to rec. */
static int ind_index_update(const store_index_txn *t, const char *id, size_t idlen,
                            const uint8_t *old, size_t oldlen, const uint8_t *rec, size_t reclen)
{
    unit_place_src src = {t->txn, t->records, NULL, NULL, 0};
    return ind_reindex(t, id, idlen, old, oldlen, &src, rec, reclen, &src);
}

/* True when unit is one of the '/'-separated units of path (len bytes). */
static bool path_holds(const char *path, size_t len, const char *unit)
{
    size_t ul = strlen(unit);
    for (size_t at = 0; at <= len;) {
        const char *slash = memchr(path + at, '/', len - at);
        size_t end = slash ? (size_t)(slash - path) : len;
        if (end - at == ul && !memcmp(path + at, unit, ul))
            return true;
        at = end + 1;
    }
    return false;
}

/* The id (code/unit/period) of the leaf key (code 0x00 tier 0x00 period
 * 0x00 path) when its path holds unit (ctx), else 0 (unit_place_key_id). */
static size_t leaf_id(void *ctx, const uint8_t *k, size_t klen, size_t prefix, char *id, size_t cap)
{
    const char *key = (const char *)k, *part[4];
    size_t plen[4], at = prefix, np = 0;
    while (np < 4 && at <= klen) {
        const char *z = np < 3 ? memchr(key + at, 0, klen - at) : NULL;
        size_t end = z ? (size_t)(z - key) : klen;
        part[np] = key + at;
        plen[np++] = end - at;
        at = end + 1;
    }
    if (np < 4 || !path_holds(part[3], plen[3], ctx))
        return 0;
    const char *leaf = memrchr(part[3], '/', plen[3]);
    leaf = leaf ? leaf + 1 : part[3];
    int n = snprintf(id, cap, "%.*s/%.*s/%.*s", (int)plen[0], part[0],
                     (int)(plen[3] - (size_t)(leaf - part[3])), leaf, (int)plen[2], part[2]);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* The ids of the values whose leaf path holds unit, into ids: one pass
 * over the leaves. */
static int ids_under(const store_index_txn *t, const char *unit, unit_place_ids *ids)
{
    return unit_place_ids_scan(t, t->dbs[0], NULL, 0, leaf_id, (void *)unit, ids);
}

/* The store's call (store_index.watched) when the "units" record of unit
 * code changes: every value whose path holds code is placed again, so the
 * index stays what a rebuild from the records gives. */
static int ind_index_units_changed(const store_index_txn *t, const char *code, size_t codelen,
                                   const uint8_t *old, size_t oldlen, const uint8_t *rec,
                                   size_t reclen)
{
    return unit_place_watched(t, code, codelen, old, oldlen, rec, reclen, INDVALUE_COLL, ids_under,
                              ind_reindex);
}

static const char *const ind_index_dbs[] = {"ixleaf", "ixagg"};

const store_index ind_value_index = {
    .name = "indicators",
    .version = 2,
    .collection = INDVALUE_COLL,
    .dbs = ind_index_dbs,
    .ndbs = 2,
    .update = ind_index_update,
    .watch = "units",
    .watched = ind_index_units_changed,
};

int ind_index_rows(store *s, const char *code, const char *tier, const char *unit, const char *from,
                   const char *to,
                   void (*fn)(void *ctx, const char *period, const ind_agg_row *row), void *ctx)
{
    store_index_txn t;
    if (store_index_read(s, ind_value_index.name, &t))
        return -1;
    uint8_t key[KEY_MAX + 1];
    const char *parts[] = {code, tier, unit, ""};
    size_t plen = key_join(key, parts, 4); /* ends with the 0x00 before the period */
    size_t klen = agg_key(key, code, tier, unit, from);
    MDB_cursor *cur;
    int rc = plen ? mdb_cursor_open(t.txn, t.dbs[1], &cur) : MDB_NOTFOUND;
    if (!rc) {
        MDB_val k = {klen, key}, v;
        uint8_t prefix[KEY_MAX + 1];
        memcpy(prefix, key, plen);
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); !rc;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            if (k.mv_size <= plen || memcmp(k.mv_data, prefix, plen))
                break;
            char period[IND_PERIOD_MAX];
            size_t pl = k.mv_size - plen;
            if (pl >= sizeof period || v.mv_size != sizeof(ind_agg_row))
                continue;
            memcpy(period, (const char *)k.mv_data + plen, pl);
            period[pl] = '\0';
            if (strcmp(period, to) > 0)
                break;
            ind_agg_row row;
            memcpy(&row, v.mv_data, sizeof row);
            fn(ctx, period, &row);
        }
        mdb_cursor_close(cur);
    }
    store_index_end(s, &t);
    return rc == MDB_NOTFOUND || rc == 0 ? 0 : -1;
}
