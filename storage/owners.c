/*
 * owners.c - the owner sets of records (owners.h): the first put's unit,
 * which a lower-stamped put takes over, and the units entries gave.
 */
#include "storage/owners.h"
#include "storage/record.h"

#include <string.h>

#define OWNER_GIVEN 1
#define OWNER_FIRST 2
#define FIRST_VALUE (1 + 8 + ENTRY_KEY_BYTES) /* flags, hlc(8 BE), origin */
#define UNIT_CAP (ENTRY_MAX_NAME + 1)

/* What the owner rows of one record say of its first put. */
typedef struct {
    bool found;  /* a row holds the first put: unit, hlc, origin */
    bool legacy; /* a row predates first-put tracking (empty value) */
    char unit[UNIT_CAP];
    uint64_t hlc;
    uint8_t origin[ENTRY_KEY_BYTES];
} first_row;

size_t owners_prefix(uint8_t *key, const entry_view *e)
{
    size_t n = store_record_key(key, e->coll.ptr, e->coll.size, e->id.ptr, e->id.size);
    key[n++] = 0;
    return n;
}

/* True when e's stamp is lower than (hlc, origin). */
static bool stamp_lower(const entry_view *e, uint64_t hlc, const uint8_t *origin)
{
    return e->hlc < hlc || (e->hlc == hlc && memcmp(e->origin, origin, ENTRY_KEY_BYTES) < 0);
}

/* Reads what the rows under prefix say of the record's first put. */
static int first_find(store *s, MDB_txn *txn, const uint8_t *prefix, size_t plen, first_row *f)
{
    memset(f, 0, sizeof *f);
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, s->owners, &c);
    if (rc)
        return rc;
    MDB_val k = {plen, (void *)prefix}, v;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); !rc;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size <= plen || memcmp(k.mv_data, prefix, plen) || k.mv_size - plen >= UNIT_CAP)
            break;
        const uint8_t *val = v.mv_data;
        f->legacy = f->legacy || !v.mv_size;
        if (v.mv_size != FIRST_VALUE || !(val[0] & OWNER_FIRST))
            continue;
        f->found = true;
        memcpy(f->unit, (const uint8_t *)k.mv_data + plen, k.mv_size - plen);
        f->unit[k.mv_size - plen] = '\0';
        f->hlc = store_get_be64(val + 1);
        memcpy(f->origin, val + 9, ENTRY_KEY_BYTES);
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* The creator stamp of e's record (its lowest entry held); *held false
 * when the record is not held. */
static int record_first(store *s, MDB_txn *txn, const entry_view *e, bool *held, uint64_t *hlc,
                        uint8_t origin[ENTRY_KEY_BYTES])
{
    uint8_t key[OWNERS_PREFIX_MAX];
    MDB_val k = {store_record_key(key, e->coll.ptr, e->coll.size, e->id.ptr, e->id.size), key}, v;
    int rc = mdb_get(txn, s->records, &k, &v);
    *held = rc == 0;
    if (rc)
        return rc == MDB_NOTFOUND ? 0 : rc;
    bool has_put;
    return record_creation(v.mv_data, v.mv_size, &has_put, hlc, origin) ? MDB_CORRUPTED : 0;
}

int owners_first_put(store *s, MDB_txn *txn, const entry_view *e, bool *yes)
{
    *yes = false;
    if (e->op != ENTRY_OP_PUT)
        return 0;
    uint8_t prefix[OWNERS_PREFIX_MAX];
    first_row f;
    int rc = first_find(s, txn, prefix, owners_prefix(prefix, e), &f);
    if (rc)
        return rc;
    if (f.found || !f.legacy) {
        *yes = !f.found || stamp_lower(e, f.hlc, f.origin);
        return 0;
    }
    /* rows from before first puts were tracked: lower than every entry held */
    bool held;
    uint64_t hlc;
    uint8_t origin[ENTRY_KEY_BYTES];
    if ((rc = record_first(s, txn, e, &held, &hlc, origin)))
        return rc;
    *yes = !held || stamp_lower(e, hlc, origin);
    return 0;
}

/* Sets flag on unit's row under prefix (for OWNER_FIRST with e's stamp);
 * *added when the row is new. A row from before first-put tracking (empty
 * value) is already given for ever and stays as it is. */
static int row_mark(store *s, MDB_txn *txn, const uint8_t *prefix, size_t plen, const char *unit,
                    size_t ulen, uint8_t flag, const entry_view *e, bool *added)
{
    uint8_t key[OWNERS_PREFIX_MAX + ENTRY_MAX_NAME], val[FIRST_VALUE] = {0};
    memcpy(key, prefix, plen);
    memcpy(key + plen, unit, ulen);
    MDB_val k = {plen + ulen, key}, v;
    int rc = mdb_get(txn, s->owners, &k, &v);
    if (rc && rc != MDB_NOTFOUND)
        return rc;
    bool fresh = rc == MDB_NOTFOUND;
    size_t n = 1;
    if (!fresh && !v.mv_size && flag == OWNER_GIVEN)
        return 0;
    if (!fresh && v.mv_size) {
        if (v.mv_size != 1 && v.mv_size != FIRST_VALUE)
            return MDB_CORRUPTED;
        memcpy(val, v.mv_data, v.mv_size);
        n = v.mv_size;
    } else if (!fresh) {
        val[0] = OWNER_GIVEN;
    }
    val[0] |= flag;
    if (flag == OWNER_FIRST) {
        store_be64(val + 1, e->hlc);
        memcpy(val + 9, e->origin, ENTRY_KEY_BYTES);
        n = FIRST_VALUE;
    }
    if (!fresh && v.mv_size == n && !memcmp(v.mv_data, val, n))
        return 0;
    MDB_val nv = {n, val};
    rc = mdb_put(txn, s->owners, &k, &nv, 0);
    *added = *added || (fresh && !rc);
    return rc;
}

/* Takes the first put's place from unit's row under prefix: the row goes
 * unless an entry gave the unit too. */
static int row_unfirst(store *s, MDB_txn *txn, const uint8_t *prefix, size_t plen, const char *unit)
{
    uint8_t key[OWNERS_PREFIX_MAX + ENTRY_MAX_NAME];
    size_t ulen = strlen(unit);
    memcpy(key, prefix, plen);
    memcpy(key + plen, unit, ulen);
    MDB_val k = {plen + ulen, key}, v;
    int rc = mdb_get(txn, s->owners, &k, &v);
    if (rc || v.mv_size != FIRST_VALUE)
        return rc == MDB_NOTFOUND ? 0 : rc;
    uint8_t flags = ((const uint8_t *)v.mv_data)[0] & ~OWNER_FIRST;
    if (!flags)
        return mdb_del(txn, s->owners, &k, NULL);
    MDB_val nv = {1, &flags};
    return mdb_put(txn, s->owners, &k, &nv, 0);
}

int owners_note_put(store *s, MDB_txn *txn, const entry_view *e, bool *added)
{
    uint8_t prefix[OWNERS_PREFIX_MAX];
    size_t plen = owners_prefix(prefix, e);
    first_row f;
    int rc = first_find(s, txn, prefix, plen, &f);
    if (rc || (f.found && !stamp_lower(e, f.hlc, f.origin)))
        return rc;
    if (!f.found && f.legacy) { /* first only when no entry held is older */
        bool held;
        uint64_t hlc;
        uint8_t origin[ENTRY_KEY_BYTES];
        if ((rc = record_first(s, txn, e, &held, &hlc, origin)))
            return rc;
        if (!held || hlc != e->hlc || memcmp(origin, e->origin, ENTRY_KEY_BYTES))
            return 0;
    }
    bool same =
        f.found && strlen(f.unit) == e->unit.size && !memcmp(f.unit, e->unit.ptr, e->unit.size);
    if (f.found && !same && (rc = row_unfirst(s, txn, prefix, plen, f.unit)))
        return rc;
    return row_mark(s, txn, prefix, plen, e->unit.ptr, e->unit.size, OWNER_FIRST, e, added);
}

int owners_give(store *s, MDB_txn *txn, const uint8_t *prefix, size_t plen, const char *unit,
                size_t ulen, bool *added)
{
    return row_mark(s, txn, prefix, plen, unit, ulen, OWNER_GIVEN, NULL, added);
}
