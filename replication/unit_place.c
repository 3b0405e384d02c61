/*
 * unit_place.c - see unit_place.h.
 */
#include "replication/unit_place.h"
#include "storage/record.h"
#include "storage/store_index.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The live "units" record of code into *rec: 0 found, 1 absent or deleted,
 * -1 on a storage error. */
static int place_get(const unit_place_src *src, const char *code, const uint8_t **rec, size_t *len)
{
    if (src->as_code && !strcmp(src->as_code, code)) {
        *rec = src->as_rec;
        *len = src->as_len;
    } else {
        uint8_t key[256];
        size_t n = strlen(code);
        if (n > ENTRY_MAX_NAME)
            return 1;
        MDB_val k = {store_record_key(key, "units", 5, code, n), key}, v;
        int rc = mdb_get(src->txn, src->records, &k, &v);
        if (rc == MDB_NOTFOUND)
            return 1;
        if (rc)
            return -1;
        *rec = v.mv_data;
        *len = v.mv_size;
    }
    return *rec && !record_is_deleted(*rec, *len) ? 0 : 1;
}

/* Field name of code's record into out ("" when unset); 1 when code is
 * unknown, -1 on a storage error. */
static int place_field(const unit_place_src *src, const char *code, const char *name,
                       char out[UNIT_CODE_CAP])
{
    const uint8_t *rec;
    size_t len;
    int rc = place_get(src, code, &rec, &len);
    out[0] = '\0';
    if (rc)
        return rc;
    if (record_field_str(rec, len, name, out, UNIT_CODE_CAP))
        out[0] = '\0';
    return 0;
}

int unit_place_path(const unit_place_src *src, const char *code,
                    char path[UNIT_PLACE_DEPTH][UNIT_CODE_CAP], bool *complete)
{
    char cur[UNIT_CODE_CAP], next[UNIT_CODE_CAP];
    *complete = false;
    if (strlen(code) >= UNIT_CODE_CAP)
        return 0;
    snprintf(cur, sizeof cur, "%s", code);
    int rc;
    for (int hop = 0;; hop++) { /* the live successor */
        if ((rc = place_field(src, cur, "merged_into", next)))
            return rc < 0 ? -1 : 0;
        if (!next[0] || hop == UNIT_PLACE_DEPTH)
            break;
        snprintf(cur, sizeof cur, "%s", next);
    }
    char up[UNIT_PLACE_DEPTH][UNIT_CODE_CAP];
    size_t n = 0;
    snprintf(up[n++], UNIT_CODE_CAP, "%s", cur);
    while (n < UNIT_PLACE_DEPTH) {
        rc = place_field(src, up[n - 1], "parent", next);
        if (rc < 0)
            return -1;
        if (rc) /* a unit whose record is not held: the path above it is unknown here */
            break;
        if (!next[0]) {
            *complete = true;
            break;
        }
        bool cycle = false;
        for (size_t i = 0; i < n && !cycle; i++)
            cycle = !strcmp(up[i], next);
        if (cycle)
            break;
        snprintf(up[n++], UNIT_CODE_CAP, "%s", next);
    }
    for (size_t i = 0; i < n; i++)
        memcpy(path[i], up[n - 1 - i], UNIT_CODE_CAP);
    return (int)n;
}

int unit_place_record_path(const unit_place_src *src, const char *unit,
                           char path[UNIT_PLACE_DEPTH][UNIT_CODE_CAP])
{
    bool complete;
    int n = unit_place_path(src, unit, path, &complete);
    if (n <= 0 || !strcmp(path[n - 1], unit))
        return n;
    if (n == UNIT_PLACE_DEPTH)
        return 0;
    snprintf(path[n], UNIT_CODE_CAP, "%s", unit);
    return n + 1;
}

int unit_place_rewrite(const unit_place_src *src, char *rows, size_t max, size_t width, size_t *n)
{
    char path[UNIT_PLACE_DEPTH][UNIT_CODE_CAP];
    int got = *n ? unit_place_record_path(src, rows + (*n - 1) * width, path) : 0;
    if (got <= 0 || (size_t)got > max)
        return got < 0 ? -1 : 0;
    memset(rows, 0, max * width);
    for (int i = 0; i < got; i++)
        snprintf(rows + (size_t)i * width, width, "%s", path[i]);
    *n = (size_t)got;
    return 0;
}

int unit_place_successor(const unit_place_src *src, const char *code, char out[UNIT_CODE_CAP])
{
    char path[UNIT_PLACE_DEPTH][UNIT_CODE_CAP];
    bool complete;
    int n = unit_place_path(src, code, path, &complete);
    if (n <= 0)
        return n;
    memcpy(out, path[n - 1], UNIT_CODE_CAP);
    return strcmp(out, code) != 0;
}

bool unit_place_retired(const uint8_t *rec, size_t len)
{
    char into[UNIT_CODE_CAP];
    if (record_is_deleted(rec, len))
        return true;
    if (!record_field_str(rec, len, "merged_into", into, sizeof into) && into[0])
        return true;
    char err[64];
    json_t *j = record_to_json(rec, len, "", 0, err, sizeof err);
    bool retired = j && json_is_true(json_object_get(j, "retired"));
    json_decref(j);
    return retired;
}

bool unit_place_changed(const uint8_t *old, size_t oldlen, const uint8_t *rec, size_t reclen)
{
    static const char *const fields[] = {"parent", "merged_into"};
    bool gone_before = !old || record_is_deleted(old, oldlen),
         gone_after = !rec || record_is_deleted(rec, reclen);
    if (gone_before || gone_after)
        return gone_before != gone_after;
    for (size_t i = 0; i < 2; i++) {
        char a[UNIT_CODE_CAP], b[UNIT_CODE_CAP];
        int ra = record_field_str(old, oldlen, fields[i], a, sizeof a),
            rb = record_field_str(rec, reclen, fields[i], b, sizeof b);
        if (ra != rb || (!ra && strcmp(a, b)))
            return true;
    }
    return false;
}

int unit_place_ids_add(unit_place_ids *l, const void *id, size_t idlen)
{
    if (idlen > ENTRY_MAX_NAME)
        return 0;
    if (l->len + 2 + idlen > l->cap) {
        size_t cap = 2 * (l->cap + idlen) + 1024;
        uint8_t *n = realloc(l->buf, cap);
        if (!n)
            return ENOMEM;
        l->buf = n;
        l->cap = cap;
    }
    l->buf[l->len++] = (uint8_t)(idlen >> 8);
    l->buf[l->len++] = (uint8_t)idlen;
    memcpy(l->buf + l->len, id, idlen);
    l->len += idlen;
    return 0;
}

void unit_place_ids_free(unit_place_ids *l)
{
    free(l->buf);
    *l = (unit_place_ids){0};
}

size_t unit_place_key_tail(void *ctx, const uint8_t *key, size_t klen, size_t plen, char *id,
                           size_t cap)
{
    size_t at = plen + *(const size_t *)ctx;
    if (klen <= at || klen - at >= cap)
        return 0;
    memcpy(id, key + at, klen - at);
    return klen - at;
}

int unit_place_ids_scan(const store_index_txn *t, MDB_dbi db, const uint8_t *prefix, size_t plen,
                        unit_place_key_id key_id, void *ctx, unit_place_ids *ids)
{
    MDB_cursor *c;
    int rc = mdb_cursor_open(t->txn, db, &c);
    if (rc)
        return rc;
    MDB_val k = {plen, (void *)prefix}, v;
    for (rc = mdb_cursor_get(c, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST); !rc;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size < plen || (plen && memcmp(k.mv_data, prefix, plen)))
            break;
        char id[ENTRY_MAX_NAME + 1];
        size_t n = key_id(ctx, k.mv_data, k.mv_size, plen, id, sizeof id);
        if (n && (rc = unit_place_ids_add(ids, id, n)))
            break;
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* fn for record coll/id as held, from tree before to tree now. */
static int again_one(const store_index_txn *t, const char *coll, const char *id, size_t idlen,
                     const unit_place_src *before, const unit_place_src *now, unit_place_reindex fn)
{
    uint8_t key[512];
    MDB_val k = {store_record_key(key, coll, strlen(coll), id, idlen), key}, v;
    int rc = mdb_get(t->txn, t->records, &k, &v);
    if (rc)
        return rc == MDB_NOTFOUND ? 0 : rc;
    uint8_t *rec = malloc(v.mv_size); /* the index writes: nothing may point into the map */
    if (!rec)
        return ENOMEM;
    memcpy(rec, v.mv_data, v.mv_size);
    rc = fn(t, id, idlen, rec, v.mv_size, before, rec, v.mv_size, now);
    free(rec);
    return rc;
}

int unit_place_again(const store_index_txn *t, const char *coll, const unit_place_ids *ids,
                     const char *unit, const uint8_t *old, size_t oldlen, unit_place_reindex fn)
{
    unit_place_src before = {t->txn, t->records, unit, old, oldlen},
                   now = {t->txn, t->records, NULL, NULL, 0};
    int rc = 0;
    for (size_t at = 0; !rc && at + 2 <= ids->len;) {
        size_t idlen = (size_t)ids->buf[at] << 8 | ids->buf[at + 1];
        rc = again_one(t, coll, (const char *)ids->buf + at + 2, idlen, &before, &now, fn);
        at += 2 + idlen;
    }
    return rc;
}

int unit_place_watched(const store_index_txn *t, const char *code, size_t codelen,
                       const uint8_t *old, size_t oldlen, const uint8_t *rec, size_t reclen,
                       const char *coll, unit_place_collect collect, unit_place_reindex fn)
{
    char unit[UNIT_CODE_CAP];
    if (!codelen || codelen >= sizeof unit || memchr(code, 0, codelen) ||
        !unit_place_changed(old, oldlen, rec, reclen))
        return 0;
    memcpy(unit, code, codelen);
    unit[codelen] = '\0';
    unit_place_ids ids = {0};
    int rc = collect(t, unit, &ids);
    if (!rc)
        rc = unit_place_again(t, coll, &ids, unit, old, oldlen, fn);
    unit_place_ids_free(&ids);
    return rc;
}
