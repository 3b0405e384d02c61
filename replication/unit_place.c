/*
 * unit_place.c - see unit_place.h.
 */
#include "replication/unit_place.h"
#include "storage/record.h"
#include "storage/store_index.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* The live "units" record of code into *rec: 0 found, 1 absent or deleted,
 * -1 on a storage error. */
static int place_get(const unit_place_src *src, const char *code, const uint8_t **rec,
                     size_t *len)
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
