/*
 * authority.c - the write-authority rules of authority.h, evaluated inside
 * the applying transaction. The only storage module that knows the
 * membership collections ("network", "units", "certs") and the owner set
 * of records ("owners" database: record key 0x00 unit -> "").
 */
#include "storage/authority.h"
#include "lib/hex.h"
#include "storage/owners.h"
#include "storage/record.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_CAP (ENTRY_MAX_NAME + 1)
#define TREE_MAX_DEPTH 32

typedef struct auth_net {
    bool present;
    char root_key[2 * ENTRY_KEY_BYTES + 1];
    char root_unit[NAME_CAP];
    size_t ntiers;
} net_config;

static bool str_is(msgpack_object_str s, const char *lit)
{
    return s.size == strlen(lit) && !memcmp(s.ptr, lit, s.size);
}

static void str_copy(char *out, msgpack_object_str s)
{
    memcpy(out, s.ptr, s.size);
    out[s.size] = '\0';
}

/* The body value of key, or NULL. */
static const msgpack_object *body_get(const entry_view *e, const char *key)
{
    for (uint32_t i = 0; i < e->body.size; i++)
        if (e->body.ptr[i].key.type == MSGPACK_OBJECT_STR &&
            str_is(e->body.ptr[i].key.via.str, key))
            return &e->body.ptr[i].val;
    return NULL;
}

/* Copies string body field key into out; false when absent or not a short string. */
static bool body_str(const entry_view *e, const char *key, char *out)
{
    const msgpack_object *v = body_get(e, key);
    if (!v || v->type != MSGPACK_OBJECT_STR || v->via.str.size >= NAME_CAP)
        return false;
    str_copy(out, v->via.str);
    return true;
}

/* Reads record coll/id; MDB_NOTFOUND when absent. */
static int rec_get(store *s, MDB_txn *txn, const char *coll, const char *id, size_t idlen,
                   MDB_val *v)
{
    uint8_t key[64 + 1 + ENTRY_MAX_NAME];
    MDB_val k = {store_record_key(key, coll, strlen(coll), id, idlen), key};
    return mdb_get(txn, s->records, &k, v);
}

/* Reads string field of record coll/id into out: *found false when the
 * record or the field is missing. */
static int rec_str(store *s, MDB_txn *txn, const char *coll, const char *id, const char *field,
                   char *out, size_t cap, bool *found)
{
    MDB_val v;
    *found = false;
    int rc = rec_get(s, txn, coll, id, strlen(id), &v);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return rc;
    int r = record_field_str(v.mv_data, v.mv_size, field, out, cap);
    if (r < 0)
        return MDB_CORRUPTED;
    *found = r == 0;
    return 0;
}

static int net_read(store *s, MDB_txn *txn, net_config *nc)
{
    memset(nc, 0, sizeof *nc);
    MDB_val v;
    int rc = rec_get(s, txn, "network", "config", 6, &v);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return rc;
    char err[64];
    json_t *j = record_to_json(v.mv_data, v.mv_size, "config", 6, err, sizeof err);
    if (!j)
        return MDB_CORRUPTED;
    const char *rk = json_string_value(json_object_get(j, "root_key"));
    const char *ru = json_string_value(json_object_get(j, "root_unit"));
    if (rk && ru && strlen(rk) < sizeof nc->root_key && strlen(ru) < sizeof nc->root_unit) {
        nc->present = true;
        strcpy(nc->root_key, rk);
        strcpy(nc->root_unit, ru);
        nc->ntiers = json_array_size(json_object_get(j, "tiers"));
    }
    json_decref(j);
    return 0;
}

/* The parent of unit: *known false when no "units" record places it; out
 * is "" for a top unit. */
static int unit_parent(store *s, MDB_txn *txn, const char *unit, char *out, bool *known)
{
    MDB_val v;
    *known = false;
    out[0] = '\0';
    int rc = rec_get(s, txn, "units", unit, strlen(unit), &v);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return rc;
    if (record_is_deleted(v.mv_data, v.mv_size))
        return 0;
    int r = record_field_str(v.mv_data, v.mv_size, "parent", out, NAME_CAP);
    if (r < 0)
        return MDB_CORRUPTED;
    if (r)
        out[0] = '\0';
    *known = true;
    return 0;
}

/* Walks up from unit: *within when anc is unit or an ancestor; *depth the
 * number of steps to the top; *complete false when an unknown unit ended
 * the walk before the top. */
static int tree_walk(store *s, MDB_txn *txn, const char *unit, const char *anc, bool *within,
                     size_t *depth, bool *complete)
{
    char cur[NAME_CAP], parent[NAME_CAP];
    snprintf(cur, sizeof cur, "%s", unit);
    *within = false;
    *depth = 0;
    *complete = false;
    for (int i = 0; i < TREE_MAX_DEPTH; i++) {
        if (anc && !strcmp(cur, anc))
            *within = true;
        bool known;
        int rc = unit_parent(s, txn, cur, parent, &known);
        if (rc || !known)
            return rc;
        if (!parent[0]) {
            *complete = true;
            return 0;
        }
        snprintf(cur, sizeof cur, "%s", parent);
        ++*depth;
    }
    return 0; /* a cycle: incomplete */
}

/* *yes when anc is unit or one of its ancestors; *unsure when the tree
 * held cannot tell yet (an unknown unit on the way). */
static int within(store *s, MDB_txn *txn, const char *unit, const char *anc, bool *yes,
                  bool *unsure)
{
    size_t depth;
    bool complete;
    int rc = tree_walk(s, txn, unit, anc, yes, &depth, &complete);
    *unsure = !*yes && !complete;
    return rc;
}

#define EVER_MAX 64

/* The HLC an "edges" value holds: the newest placement entry that made the
 * edge (8 bytes big-endian); rows written before edges kept one hold
 * nothing and count as 0, older than every creation. */
static uint64_t edge_hlc(const MDB_val *v)
{
    uint64_t h = 0;
    for (size_t i = 0; v->mv_size == 8 && i < 8; i++)
        h = h << 8 | ((const uint8_t *)v->mv_data)[i];
    return h;
}

/* *yes when anc is unit or was ever one of its ancestors: a walk up every
 * placement ever applied ("edges"), which only grows, so the answer never
 * turns from yes to no when units move. When after is not NULL, the first
 * step up from unit only takes placements made by an entry with an HLC
 * above *after (the steps above it take any): where unit went after that
 * time, and everything above there. The HLCs only grow, so that answer
 * never turns from yes to no either. */
static int within_ever(store *s, MDB_txn *txn, const char *unit, const char *anc,
                       const uint64_t *after, bool *yes)
{
    char seen[EVER_MAX][NAME_CAP];
    size_t n = 1, next = 0;
    snprintf(seen[0], NAME_CAP, "%s", unit);
    *yes = false;
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, s->edges, &c);
    if (rc)
        return rc;
    while (next < n && !*yes) {
        bool first_step = next == 0;
        const char *cur = seen[next++];
        if (!strcmp(cur, anc)) {
            *yes = true;
            break;
        }
        uint8_t prefix[NAME_CAP + 1];
        size_t plen = strlen(cur) + 1;
        memcpy(prefix, cur, plen);
        MDB_val k = {plen, prefix}, v;
        for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); !rc;
             rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
            if (k.mv_size <= plen || memcmp(k.mv_data, prefix, plen) ||
                k.mv_size - plen >= NAME_CAP)
                break;
            if (n == EVER_MAX)
                break;
            if (first_step && after && edge_hlc(&v) <= *after)
                continue;
            memcpy(seen[n], (const uint8_t *)k.mv_data + plen, k.mv_size - plen);
            seen[n][k.mv_size - plen] = '\0';
            bool dup = false;
            for (size_t i = 0; i < n && !dup; i++)
                dup = !strcmp(seen[i], seen[n]);
            n += !dup;
        }
        if (rc && rc != MDB_NOTFOUND)
            break;
        rc = 0;
    }
    mdb_cursor_close(c);
    return rc;
}

/* Remembers that unit was placed under parent by an entry with this HLC
 * (keeping the newest HLC of the edge). */
static int edge_add(store *s, MDB_txn *txn, msgpack_object_str unit, const msgpack_object *parent,
                    uint64_t hlc)
{
    if (!parent || parent->type != MSGPACK_OBJECT_STR || !parent->via.str.size ||
        unit.size + 1 + parent->via.str.size > 2 * NAME_CAP)
        return 0;
    uint8_t key[2 * NAME_CAP + 1], val[8];
    memcpy(key, unit.ptr, unit.size);
    key[unit.size] = 0;
    memcpy(key + unit.size + 1, parent->via.str.ptr, parent->via.str.size);
    MDB_val k = {unit.size + 1 + parent->via.str.size, key}, v;
    int rc = mdb_get(txn, s->edges, &k, &v);
    if (rc && rc != MDB_NOTFOUND)
        return rc;
    if (!rc && edge_hlc(&v) >= hlc)
        return 0;
    store_be64(val, hlc);
    v = (MDB_val){8, val};
    return mdb_put(txn, s->edges, &k, &v, 0);
}

/* *yes when anc is unit or above it in the tree as it is now: each step up
 * goes to the unit's successor when it was merged away ("merged_into"),
 * else to its parent. *unsure when a unit on the way has no "units"
 * record here. */
static int within_now(store *s, MDB_txn *txn, const char *unit, const char *anc, bool *yes,
                      bool *unsure)
{
    char cur[NAME_CAP], up[NAME_CAP];
    snprintf(cur, sizeof cur, "%s", unit);
    *yes = *unsure = false;
    for (int i = 0; i < TREE_MAX_DEPTH; i++) {
        if (!strcmp(cur, anc)) {
            *yes = true;
            return 0;
        }
        bool known;
        int rc = unit_parent(s, txn, cur, up, &known);
        if (rc)
            return rc;
        if (!known) {
            *unsure = true;
            return 0;
        }
        char into[NAME_CAP];
        if ((rc = rec_str(s, txn, "units", cur, "merged_into", into, sizeof into, &known)))
            return rc;
        if (known && into[0])
            strcpy(up, into);
        if (!up[0])
            return 0;
        strcpy(cur, up);
    }
    return 0;
}

static void decide(auth_decision *d, auth_verdict v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void decide(auth_decision *d, auth_verdict v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->why, sizeof d->why, fmt, ap);
    va_end(ap);
    d->verdict = v;
    if (v == AUTH_WAIT && !d->wait_len) {
        d->wait[0] = 'm';
        d->wait_len = 1;
    }
}

static int check_network(const net_config *nc, const entry_view *e, const char *origin_hex,
                         auth_decision *d)
{
    char rk[2 * ENTRY_KEY_BYTES + 1];
    if (!nc->present) {
        if (!body_str(e, "root_key", rk) || strcmp(rk, origin_hex))
            decide(d, AUTH_DENY, "a network config must be written by the trust root it names");
        return 0;
    }
    if (strcmp(origin_hex, nc->root_key))
        decide(d, AUTH_DENY, "only the trust root may change the network config");
    else if (body_str(e, "root_key", rk) && strcmp(rk, nc->root_key))
        decide(d, AUTH_DENY, "the trust root of a network cannot be replaced");
    return 0;
}

/* The author's key must be certified for the entry's unit. */
static int check_identity(store *s, MDB_txn *txn, const net_config *nc, const entry_view *e,
                          const char *origin_hex, const char *unit, uint64_t *upto,
                          auth_decision *d)
{
    MDB_val v;
    int rc = rec_get(s, txn, "certs", origin_hex, 2 * ENTRY_KEY_BYTES, &v);
    if (rc == MDB_NOTFOUND) {
        if (!strcmp(origin_hex, nc->root_key) && !strcmp(unit, nc->root_unit))
            return 0;
        decide(d, AUTH_WAIT,
               "no certificate is known yet for key %.16s… of unit %s: the entry waits for it",
               origin_hex, unit);
        return 0;
    }
    if (rc)
        return rc;
    char certified[NAME_CAP], ended[16];
    int r = record_field_str(v.mv_data, v.mv_size, "unit", certified, sizeof certified);
    if (r < 0)
        return MDB_CORRUPTED;
    if (r) /* the older form of revocation, a deleted certificate, recorded no cut-off:
            * its entries stay valid (unit_tree_key_valid_at), its links are refused */
        return 0;
    if (record_field_str(v.mv_data, v.mv_size, "ended", ended, sizeof ended) == 0) {
        *upto = 0;
        if (record_field_u64(v.mv_data, v.mv_size, "upto_seq", upto) || e->seq > *upto) {
            decide(d, AUTH_DENY,
                   "key %.16s… was %s after its entry %llu: its later entries are refused",
                   origin_hex, ended, (unsigned long long)*upto);
            return 0;
        }
    }
    if (strcmp(certified, unit))
        decide(d, AUTH_DENY,
               "key %.16s… is certified for unit %s but wrote as unit %s: a node writes only "
               "as its own unit",
               origin_hex, certified, unit);
    (void)e;
    return 0;
}

/* True when the patch e only ends a certificate (network_end_cert). */
static bool cert_end_only(const entry_view *e)
{
    static const char *const fields[] = {"ended",    "upto_seq",  "ended_by",
                                         "ended_at", "successor", "reason"};
    if (!body_get(e, "ended"))
        return false;
    for (uint32_t i = 0; i < e->body.size; i++) {
        bool known = false;
        for (size_t k = 0; k < sizeof fields / sizeof *fields && !known; k++)
            known = str_is(e->body.ptr[i].key.via.str, fields[k]);
        if (!known)
            return false;
    }
    return true;
}

/* Certificates: issued by an ancestor of the subject's parent (or by the
 * unit itself for a mirror), revoked by an ancestor of the subject. */
static int check_cert(store *s, MDB_txn *txn, const net_config *nc, const entry_view *e,
                      const char *author, auth_decision *d)
{
    char id[NAME_CAP], held[NAME_CAP], subject[NAME_CAP], parent[NAME_CAP] = "";
    str_copy(id, e->id);
    bool found, yes, unsure;
    int rc = rec_str(s, txn, "certs", id, "unit", held, sizeof held, &found);
    if (rc)
        return rc;
    if (e->op == ENTRY_OP_PATCH && !cert_end_only(e)) {
        decide(d, AUTH_DENY,
               "a certificate is issued whole (put); a patch may only end it "
               "(revoked or superseded)");
        return 0;
    }
    if (e->op != ENTRY_OP_PUT) { /* ending it: revocation or rotation */
        if (!found) {
            decide(d, AUTH_WAIT, "revocation of a certificate not held yet: it waits for it");
            return 0;
        }
        if ((rc = within(s, txn, held, author, &yes, &unsure)) || yes)
            return rc;
        decide(d, unsure ? AUTH_WAIT : AUTH_DENY,
               "unit %s may not revoke a certificate of unit %s: only its ancestors may", author,
               held);
        return 0;
    }
    char key[2 * ENTRY_KEY_BYTES + 1];
    if (!body_str(e, "unit", subject) || !body_str(e, "key", key) || strcmp(key, id)) {
        decide(d, AUTH_DENY, "a certificate needs \"unit\" and a \"key\" equal to its id");
        return 0;
    }
    if (found && strcmp(held, subject)) {
        decide(d, AUTH_DENY, "key %.16s… is already certified for unit %s, not %s", id, held,
               subject);
        return 0;
    }
    body_str(e, "parent_unit", parent);
    if (!parent[0]) { /* a top unit: only the root certifies it, itself */
        if (strcmp(subject, nc->root_unit) || strcmp(author, nc->root_unit))
            decide(d, AUTH_DENY, "only the trust root certifies the top unit %s", nc->root_unit);
        return 0;
    }
    if ((rc = within(s, txn, parent, author, &yes, &unsure)) || yes)
        return rc;
    if (!strcmp(author, subject)) { /* a mirror: same unit, same parent */
        char own_parent[NAME_CAP];
        bool known;
        if ((rc = unit_parent(s, txn, author, own_parent, &known)))
            return rc;
        if (!known) { /* a unit out of this node's scope: the issuer's own certificate */
            char ohex[2 * ENTRY_KEY_BYTES + 1];
            hex_encode(e->origin, ENTRY_KEY_BYTES, ohex);
            if ((rc = rec_str(s, txn, "certs", ohex, "parent_unit", own_parent, sizeof own_parent,
                              &known)))
                return rc;
        }
        if (known && !strcmp(own_parent, parent))
            return 0;
        unsure = unsure || !known;
    }
    decide(d, unsure ? AUTH_WAIT : AUTH_DENY,
           "unit %s may not certify unit %s under %s: only that parent and its ancestors may",
           author, subject, parent);
    return 0;
}

/* "units" records: placed (or moved) by an ancestor of the old and the new
 * parent; a unit may edit its own record if it keeps its parent. */
static int check_unit(store *s, MDB_txn *txn, const net_config *nc, const entry_view *e,
                      const char *author, auth_decision *d)
{
    char code[NAME_CAP], old_parent[NAME_CAP], new_parent[NAME_CAP];
    str_copy(code, e->id);
    bool exists, yes, unsure;
    int rc = unit_parent(s, txn, code, old_parent, &exists);
    if (rc)
        return rc;
    if (!strcmp(code, nc->root_unit)) {
        if (strcmp(author, nc->root_unit) || e->op == ENTRY_OP_DELETE)
            decide(d, AUTH_DENY, "only the trust root may change the top unit %s", code);
        return 0;
    }
    const msgpack_object *p = e->op == ENTRY_OP_DELETE ? NULL : body_get(e, "parent");
    if (p && p->type == MSGPACK_OBJECT_STR && p->via.str.size < NAME_CAP)
        str_copy(new_parent, p->via.str);
    else if (!p && exists)
        strcpy(new_parent, old_parent);
    else
        new_parent[0] = '\0';
    if (e->op != ENTRY_OP_DELETE && !new_parent[0]) {
        /* a patch that does not place the unit (its advertised addresses,
         * the root's merge fields) may arrive before the unit's placement */
        if (!exists && e->op == ENTRY_OP_PATCH)
            decide(d, AUTH_WAIT, "unit %s is not placed here yet: this change waits for its record",
                   code);
        else
            decide(d, AUTH_DENY, "unit %s needs a parent: only the top unit %s has none", code,
                   nc->root_unit);
        return 0;
    }
    /* the old parent must agree only when this entry moves the unit now: an
     * older placement arriving after a newer one changes nothing */
    bool moves_now = exists && strcmp(old_parent, new_parent);
    if (moves_now) {
        MDB_val v;
        if ((rc = rec_get(s, txn, "units", code, strlen(code), &v)))
            return rc;
        moves_now = record_field_newer(v.mv_data, v.mv_size, "parent", e->hlc, e->origin);
    }
    const char *check[2] = {e->op == ENTRY_OP_DELETE ? old_parent : new_parent,
                            moves_now ? old_parent : NULL};
    if (exists && !strcmp(author, code) && e->op != ENTRY_OP_DELETE &&
        !strcmp(old_parent, new_parent))
        return 0;
    /* the top unit is an ancestor of every unit, also of those this node's
     * scoped membership cannot place */
    if (!strcmp(author, nc->root_unit))
        return 0;
    for (int i = 0; i < 2; i++) {
        if (!check[i] || !check[i][0])
            continue;
        if ((rc = within(s, txn, check[i], author, &yes, &unsure)))
            return rc;
        if (!yes) {
            decide(d, unsure ? AUTH_WAIT : AUTH_DENY,
                   "unit %s may not place unit %s under %s: only ancestors of the old and the "
                   "new parent may",
                   author, code, new_parent[0] ? new_parent : old_parent);
            return 0;
        }
    }
    return 0;
}

/* True when e's collection is one only the top tiers may write (given by
 * the domains at store_open). */
static bool top_tier_coll(const store *s, const entry_view *e)
{
    for (size_t i = 0; i < s->ntop_tier; i++)
        if (str_is(e->coll, s->top_tier[i]))
            return true;
    return false;
}

/* True when records of collection coll have owners (not membership, not
 * a top-tier collection). */
static bool owned_coll(const store *s, const char *coll)
{
    if (!strcmp(coll, "network") || !strcmp(coll, "units") || !strcmp(coll, "certs"))
        return false;
    for (size_t i = 0; i < s->ntop_tier; i++)
        if (!strcmp(coll, s->top_tier[i]))
            return false;
    return true;
}

static int check_tier(store *s, MDB_txn *txn, const net_config *nc, const entry_view *e,
                      const char *author, auth_decision *d)
{
    bool yes, complete;
    size_t depth, max = nc->ntiers > 3 ? nc->ntiers - 3 : 0;
    int rc = tree_walk(s, txn, author, NULL, &yes, &depth, &complete);
    if (rc)
        return rc;
    if (!complete)
        decide(d, AUTH_WAIT, "the tier of unit %s is not known yet", author);
    else if (depth > max)
        decide(d, AUTH_DENY,
               "unit %s (%zu levels below the root) may not write %.*s: only units at most %zu "
               "levels below the root issue it",
               author, depth, (int)e->coll.size, e->coll.ptr, max);
    return 0;
}

/* ---- creation places ("created_in", "places") ---------------------------- */

#define PLACE_FIELD "created_in"
#define PLACE_PATH_MAX 256 /* bytes of "a/b/c": keeps a places key within LMDB's 511 */

/* A creation place: the HLC of the record's first put and the path of its
 * owner unit then, root first, joined by '/'. */
typedef struct {
    uint64_t hlc;
    char path[PLACE_PATH_MAX + 1];
} place;

/* Reads e's "created_in" ({"hlc": uint, "path": [unit, ...]}, root first);
 * false when absent or not of that form. */
static bool place_of_entry(const entry_view *e, place *pl)
{
    const msgpack_object *v = body_get(e, PLACE_FIELD);
    if (!v || v->type != MSGPACK_OBJECT_MAP)
        return false;
    const msgpack_object *h = NULL, *path = NULL;
    for (uint32_t i = 0; i < v->via.map.size; i++) {
        const msgpack_object_kv *kv = &v->via.map.ptr[i];
        if (kv->key.type == MSGPACK_OBJECT_STR && str_is(kv->key.via.str, "hlc"))
            h = &kv->val;
        else if (kv->key.type == MSGPACK_OBJECT_STR && str_is(kv->key.via.str, "path"))
            path = &kv->val;
    }
    if (!h || h->type != MSGPACK_OBJECT_POSITIVE_INTEGER || !path ||
        path->type != MSGPACK_OBJECT_ARRAY || !path->via.array.size ||
        path->via.array.size > TREE_MAX_DEPTH)
        return false;
    size_t len = 0;
    for (uint32_t i = 0; i < path->via.array.size; i++) {
        const msgpack_object *u = &path->via.array.ptr[i];
        if (u->type != MSGPACK_OBJECT_STR || !entry_unit_valid(u->via.str.ptr, u->via.str.size) ||
            len + (i > 0) + u->via.str.size > PLACE_PATH_MAX)
            return false;
        if (i)
            pl->path[len++] = '/';
        memcpy(pl->path + len, u->via.str.ptr, u->via.str.size);
        len += u->via.str.size;
    }
    pl->path[len] = '\0';
    pl->hlc = h->via.u64;
    return true;
}

/* The last unit of a place's path: the record's owner unit at creation. */
static const char *place_unit(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* True when unit is one of path's units. */
static bool place_holds(const char *path, const char *unit)
{
    size_t ul = strlen(unit);
    for (const char *p = path; *p;) {
        const char *end = strchr(p, '/');
        size_t l = end ? (size_t)(end - p) : strlen(p);
        if (l == ul && !memcmp(p, unit, ul))
            return true;
        p += l + (end != NULL);
    }
    return false;
}

/* Adds e's creation place (if it carries one) to its record's places;
 * *added when it was new. prefix is the record key followed by 0x00. */
static int place_add(store *s, MDB_txn *txn, const entry_view *e, const uint8_t *prefix,
                     size_t plen, bool *added)
{
    place pl;
    if (!place_of_entry(e, &pl))
        return 0;
    uint8_t key[64 + 2 + ENTRY_MAX_NAME + 8 + PLACE_PATH_MAX];
    size_t pathlen = strlen(pl.path);
    memcpy(key, prefix, plen);
    store_be64(key + plen, pl.hlc);
    memcpy(key + plen + 8, pl.path, pathlen);
    MDB_val k = {plen + 8 + pathlen, key}, v = {0, ""};
    int rc = mdb_put(txn, s->places, &k, &v, MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST)
        return 0;
    *added = *added || rc == 0;
    return rc;
}

/* What the record's places say of its owner unit (NULL: of any): created
 * when some place names owner as the unit that created the record; then in_path
 * when author (if not NULL) is on one of those paths, since the lowest
 * creation HLC among them and path that place's path. */
typedef struct {
    bool created, in_path;
    uint64_t since;
    char path[PLACE_PATH_MAX + 1];
} owner_place;

static int owner_place_read(store *s, MDB_txn *txn, const uint8_t *prefix, size_t plen,
                            const char *owner, const char *author, owner_place *op)
{
    memset(op, 0, sizeof *op);
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, s->places, &c);
    if (rc)
        return rc;
    MDB_val k = {plen, (void *)prefix}, v;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); !rc;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size <= plen + 8 || memcmp(k.mv_data, prefix, plen) ||
            k.mv_size - plen - 8 > PLACE_PATH_MAX)
            break;
        const uint8_t *kb = k.mv_data;
        char path[PLACE_PATH_MAX + 1];
        memcpy(path, kb + plen + 8, k.mv_size - plen - 8);
        path[k.mv_size - plen - 8] = '\0';
        if (owner && strcmp(place_unit(path), owner))
            continue;
        uint64_t h = 0;
        for (int i = 0; i < 8; i++)
            h = h << 8 | kb[plen + i];
        if (!op->created || h < op->since) {
            op->since = h;
            strcpy(op->path, path);
        }
        op->created = true;
        op->in_path = op->in_path || (author && place_holds(path, author));
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* *yes when author was ever above the top unit of op's path: a path the
 * creator could not follow to the top (scoped membership: a unit merged
 * into a successor in another province does not know where the successor
 * stands) is continued by the placements held here; a path that reaches
 * the top unit has nothing above it. */
static int place_above(store *s, MDB_txn *txn, const owner_place *op, const char *author, bool *yes)
{
    char top[NAME_CAP];
    size_t l = strcspn(op->path, "/");
    *yes = false;
    if (l >= NAME_CAP || !op->path[l])
        return 0; /* the owner alone: its own placements are the rule's first step */
    memcpy(top, op->path, l);
    top[l] = '\0';
    return within_ever(s, txn, top, author, NULL, yes);
}

/* The rule for an owner that created the record at op's place: *allowed
 * when author is on the path, above its top unit, or above where the owner
 * went after it created the record; else *left when author was above the
 * owner only before. */
static int place_judge(store *s, MDB_txn *txn, const owner_place *op, const char *owner,
                       const char *author, bool *allowed, bool *left)
{
    *left = false;
    *allowed = op->in_path;
    int rc = 0;
    if (!*allowed)
        rc = within_ever(s, txn, owner, author, &op->since, allowed);
    if (!rc && !*allowed)
        rc = place_above(s, txn, op, author, allowed);
    if (!rc && !*allowed)
        rc = within_ever(s, txn, owner, author, NULL, left);
    return rc;
}

/* How one owner unit bears on author's change of the record. */
typedef struct {
    bool allowed; /* author is the owner, above it, or on its creation path */
    bool left;    /* not allowed, but was above owner before it created the record */
    bool former;  /* allowed, but (a local write) not above owner now */
    owner_place op;
} owner_verdict;

/* The rule of authority.h, "ownership", for one owner: with a creation
 * place, author must be on the path, above its top unit, or above where
 * the owner went after it created the record; without one (older
 * entries), above the owner ever. */
static int owner_judge(store *s, MDB_txn *txn, const uint8_t *prefix, size_t plen,
                       const char *owner, const char *author, bool local, owner_verdict *ov)
{
    memset(ov, 0, sizeof *ov);
    int rc = owner_place_read(s, txn, prefix, plen, owner, author, &ov->op);
    if (rc)
        return rc;
    if (ov->op.created)
        rc = place_judge(s, txn, &ov->op, owner, author, &ov->allowed, &ov->left);
    else
        rc = within_ever(s, txn, owner, author, NULL, &ov->allowed);
    if (rc)
        return rc;
    bool now = true, unsure = false;
    if (ov->allowed && local && (rc = within_now(s, txn, owner, author, &now, &unsure)))
        return rc;
    ov->former = ov->allowed && !now && !unsure;
    return 0;
}

/* True when e hands on an owner set ("owners": a snapshot for a unit that
 * never held the record's first put). */
static bool hands_owners(const entry_view *e)
{
    const msgpack_object *os = body_get(e, "owners");
    return os && os->type == MSGPACK_OBJECT_ARRAY && os->via.array.size;
}

/* The verdict when the record holds no owner: a put (nothing of the
 * record is held: it creates it), a record that holds a put (applied
 * before the network config), an entry that hands on the owner set, or
 * one whose "created_in" (the record's creation place, which every honest
 * change of a record created with one repeats) authorises its author
 * passes; any other patch or delete waits for the record's first put,
 * which says who may change it. */
static int check_unowned(store *s, MDB_txn *txn, const entry_view *e, const uint8_t *prefix,
                         size_t plen, auth_decision *d)
{
    char coll[ENTRY_MAX_NAME + 1];
    MDB_val v;
    str_copy(coll, e->coll);
    int rc = rec_get(s, txn, coll, e->id.ptr, e->id.size, &v);
    if (rc && rc != MDB_NOTFOUND)
        return rc;
    bool has_put = false;
    uint64_t hlc;
    uint8_t origin[ENTRY_KEY_BYTES];
    if (!rc && record_creation(v.mv_data, v.mv_size, &has_put, &hlc, origin))
        return MDB_CORRUPTED;
    if (e->op == ENTRY_OP_PUT || has_put || hands_owners(e))
        return 0;
    place claim;
    if (place_of_entry(e, &claim)) { /* judged by the place it says the record was created at */
        owner_place op = {.created = true, .since = claim.hlc};
        char author[NAME_CAP], owner[NAME_CAP];
        bool allowed, left;
        str_copy(author, e->unit);
        snprintf(owner, sizeof owner, "%s", place_unit(claim.path));
        memcpy(op.path, claim.path, sizeof op.path);
        op.in_path = place_holds(claim.path, author);
        if ((rc = place_judge(s, txn, &op, owner, author, &allowed, &left)) || allowed)
            return rc;
    }
    memcpy(d->wait, "r", 1);
    memcpy(d->wait + 1, prefix, plen - 1);
    d->wait_len = plen;
    decide(d, AUTH_WAIT,
           "%.*s/%.*s is not held here yet: this change waits for the record's first put, which "
           "says who may change it",
           (int)e->coll.size, e->coll.ptr, (int)e->id.size, e->id.ptr);
    return 0;
}

/* Other records: the author must be an owner, on the owner's creation
 * path, or above where the owner went after creating the record (older
 * records without a creation place: above it ever); a node's own write
 * (local) must also be above an owner now, so a unit that a commune left,
 * or a unit merged away, writes no more to its records (authority.h,
 * "only forward"). */
static int check_owner(store *s, MDB_txn *txn, const entry_view *e, const char *author, bool local,
                       auth_decision *d)
{
    bool put_first; /* the record's first put, whatever the arrival order (owners.h) */
    int frc = owners_first_put(s, txn, e, &put_first);
    if (frc || put_first)
        return frc;
    uint8_t prefix[64 + 2 + ENTRY_MAX_NAME];
    size_t plen = owners_prefix(prefix, e);
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, s->owners, &c);
    if (rc)
        return rc;
    MDB_val k = {plen, prefix}, v;
    size_t nowners = 0;
    char first[NAME_CAP] = "", former[NAME_CAP] = "", left[NAME_CAP] = "";
    owner_place left_place = {0};
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); !rc;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size <= plen || memcmp(k.mv_data, prefix, plen) || k.mv_size - plen >= NAME_CAP)
            break;
        char owner[NAME_CAP];
        memcpy(owner, (const uint8_t *)k.mv_data + plen, k.mv_size - plen);
        owner[k.mv_size - plen] = '\0';
        if (!nowners++)
            strcpy(first, owner);
        owner_verdict ov;
        if ((rc = owner_judge(s, txn, prefix, plen, owner, author, local, &ov)))
            break;
        if (ov.allowed && !ov.former) {
            mdb_cursor_close(c);
            return 0;
        }
        if (ov.former && !former[0])
            strcpy(former, owner);
        if (ov.left && !left[0]) {
            strcpy(left, owner);
            left_place = ov.op;
        }
    }
    mdb_cursor_close(c);
    if (rc && rc != MDB_NOTFOUND)
        return rc;
    if (!nowners)
        return check_unowned(s, txn, e, prefix, plen, d);
    if (former[0]) {
        decide(d, AUTH_DENY,
               "unit %s no longer holds unit %s, which owns %.*s/%.*s (it moved or merged "
               "away): what %s wrote before stays valid, it may not change the record now",
               author, former, (int)e->coll.size, e->coll.ptr, (int)e->id.size, e->id.ptr, author);
        return 0;
    }
    memcpy(d->wait, "r", 1);
    memcpy(d->wait + 1, prefix, plen - 1);
    d->wait_len = plen;
    if (left[0])
        decide(d, AUTH_WAIT,
               "unit %s held unit %s only before %s created %.*s/%.*s (it was then at %s): a unit "
               "that a commune left may not change what the commune created afterwards; this "
               "waits in case an owner reassignment or a later move authorises it",
               author, left, left, (int)e->coll.size, e->coll.ptr, (int)e->id.size, e->id.ptr,
               left_place.path);
    else
        decide(d, AUTH_WAIT,
               "unit %s may not change %.*s/%.*s, which belongs to unit %s%s: only the owner "
               "units and their ancestors may",
               author, (int)e->coll.size, e->coll.ptr, (int)e->id.size, e->id.ptr, first,
               nowners > 1 ? " and others" : "");
    return 0;
}

void authority_release(apply_ctx *ac)
{
    free(ac->net);
    ac->net = NULL;
}

/* Reads the network config into ac once per transaction. LMDB code. */
static int net_load(store *s, MDB_txn *txn, apply_ctx *ac)
{
    if (ac->net)
        return 0;
    if (!(ac->net = malloc(sizeof *ac->net)))
        return ENOMEM;
    int rc = net_read(s, txn, ac->net);
    if (rc)
        authority_release(ac);
    return rc;
}

int authority_check(store *s, MDB_txn *txn, apply_ctx *ac, const entry_view *e, auth_decision *d)
{
    memset(d, 0, sizeof *d);
    int rc = net_load(s, txn, ac);
    if (rc)
        return rc;
    const net_config nc = *ac->net;
    char origin_hex[2 * ENTRY_KEY_BYTES + 1], author[NAME_CAP];
    hex_encode(e->origin, ENTRY_KEY_BYTES, origin_hex);
    str_copy(author, e->unit);
    if (str_is(e->coll, "network"))
        return check_network(&nc, e, origin_hex, d);
    if (!nc.present)
        return 0;
    d->enforced = true;
    bool known = ac->id_ok && !memcmp(ac->id_origin, e->origin, ENTRY_KEY_BYTES) &&
                 !strcmp(ac->id_unit, author) && e->seq <= ac->id_upto;
    if (!known) {
        uint64_t upto = UINT64_MAX;
        if ((rc = check_identity(s, txn, &nc, e, origin_hex, author, &upto, d)) || d->verdict)
            return rc;
        ac->id_ok = true; /* a batch holds runs of one origin: check each once */
        memcpy(ac->id_origin, e->origin, ENTRY_KEY_BYTES);
        strcpy(ac->id_unit, author);
        ac->id_upto = upto;
    }
    if (str_is(e->coll, "certs"))
        return check_cert(s, txn, &nc, e, author, d);
    if (str_is(e->coll, "units"))
        return check_unit(s, txn, &nc, e, author, d);
    if (top_tier_coll(s, e))
        return check_tier(s, txn, &nc, e, author, d);
    /* the top unit is above every unit, on every creation path, also
     * where this node's scoped membership cannot place the owner */
    if (!strcmp(author, nc.root_unit))
        return 0;
    return check_owner(s, txn, e, author, ac->local, d);
}

static int wake_record(apply_ctx *ac, const uint8_t *key, size_t len)
{
    if (ac->wake_len + 2 + len > ac->wake_cap) {
        size_t cap = ac->wake_cap ? 2 * ac->wake_cap : 1024;
        while (cap < ac->wake_len + 2 + len)
            cap *= 2;
        uint8_t *n = realloc(ac->wake, cap);
        if (!n)
            return ENOMEM;
        ac->wake = n;
        ac->wake_cap = cap;
    }
    ac->wake[ac->wake_len++] = (uint8_t)(len >> 8);
    ac->wake[ac->wake_len++] = (uint8_t)len;
    memcpy(ac->wake + ac->wake_len, key, len);
    ac->wake_len += len;
    return 0;
}

/* Adds unit to the record's set in db (readers); *added when it was not
 * there. */
static int owner_add(MDB_txn *txn, MDB_dbi db, const uint8_t *prefix, size_t plen, const char *unit,
                     size_t ulen, bool *added)
{
    uint8_t key[64 + 2 + 2 * ENTRY_MAX_NAME];
    memcpy(key, prefix, plen);
    memcpy(key + plen, unit, ulen);
    MDB_val k = {plen + ulen, key}, v = {0, ""};
    int rc = mdb_put(txn, db, &k, &v, MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST)
        return 0;
    *added = *added || rc == 0;
    return rc;
}

int authority_note(store *s, MDB_txn *txn, apply_ctx *ac, const entry_view *e, bool enforced)
{
    if (entry_is_membership(e)) {
        ac->wake_membership = true;
        ac->id_ok = false; /* a certificate may have changed */
        if (str_is(e->coll, "network"))
            authority_release(ac); /* read the config again */
        if (str_is(e->coll, "units") && e->op != ENTRY_OP_DELETE) {
            int rc = edge_add(s, txn, e->id, body_get(e, "parent"), e->hlc);
            return rc ? rc : edge_add(s, txn, e->id, body_get(e, "merged_into"), e->hlc);
        }
        if (str_is(e->coll, "certs") && e->op == ENTRY_OP_PUT) {
            const msgpack_object *u = body_get(e, "unit");
            return u && u->type == MSGPACK_OBJECT_STR
                       ? edge_add(s, txn, u->via.str, body_get(e, "parent_unit"), e->hlc)
                       : 0;
        }
        return 0;
    }
    uint8_t prefix[OWNERS_PREFIX_MAX];
    size_t plen = owners_prefix(prefix, e);
    bool added = false;
    int rc = 0;
    for (uint32_t i = 0; !rc && i < e->to.size; i++) /* the record's readers */
        rc = owner_add(txn, s->readers, prefix, plen, e->to.ptr[i].via.str.ptr,
                       e->to.ptr[i].via.str.size, &added);
    added = false;
    if (rc || !enforced || top_tier_coll(s, e))
        return rc;
    if (e->op == ENTRY_OP_PUT)
        rc = owners_note_put(s, txn, e, &added);
    const msgpack_object *o = body_get(e, "owner_unit");
    if (!rc && o && o->type == MSGPACK_OBJECT_STR &&
        entry_unit_valid(o->via.str.ptr, o->via.str.size))
        rc = owners_give(s, txn, prefix, plen, o->via.str.ptr, o->via.str.size, &added);
    /* "owners": the owner set an accepted entry hands on (a snapshot for a
     * unit that never held the record's first put), each like an owner_unit */
    const msgpack_object *os = body_get(e, "owners");
    for (uint32_t i = 0; !rc && os && os->type == MSGPACK_OBJECT_ARRAY && i < os->via.array.size;
         i++) {
        const msgpack_object *u = &os->via.array.ptr[i];
        if (u->type == MSGPACK_OBJECT_STR && entry_unit_valid(u->via.str.ptr, u->via.str.size))
            rc = owners_give(s, txn, prefix, plen, u->via.str.ptr, u->via.str.size, &added);
    }
    place claim; /* a creator's own claim makes its unit an owner, like its first put */
    if (!rc && place_of_entry(e, &claim) && str_is(e->unit, place_unit(claim.path)))
        rc = owners_give(s, txn, prefix, plen, e->unit.ptr, e->unit.size, &added);
    if (!rc)
        rc = place_add(s, txn, e, prefix, plen, &added);
    if (!rc && added)
        rc = wake_record(ac, prefix, plen - 1);
    return rc;
}

/* Walks up from unit (not included) into chain[*n...]: each step to the
 * parent, or, when now, to the successor of a unit merged away (as
 * within_now); stops at a unit with no "units" record here, at the top and
 * at a unit already in chain. LMDB code. */
static int place_walk(store *s, MDB_txn *txn, const char *unit, bool now, char chain[][NAME_CAP],
                      size_t *n)
{
    char cur[NAME_CAP];
    snprintf(cur, sizeof cur, "%s", unit);
    while (*n < TREE_MAX_DEPTH) {
        char up[NAME_CAP], into[NAME_CAP];
        bool known, merged = false;
        int rc = unit_parent(s, txn, cur, up, &known);
        if (!rc && known && now)
            rc = rec_str(s, txn, "units", cur, "merged_into", into, sizeof into, &merged);
        if (rc)
            return rc;
        if (merged && into[0])
            strcpy(up, into);
        bool seen = !strcmp(up, unit);
        for (size_t i = 0; i < *n && !seen; i++)
            seen = !strcmp(chain[i], up);
        if (!known || !up[0] || seen)
            return 0;
        strcpy(chain[(*n)++], up);
        strcpy(cur, up);
    }
    return 0;
}

/* The creation place of a record unit creates now, into pl->path (root
 * first, unit last): the units above it in the tree as this node has it,
 * by its parents, then the successors a merge gave it with what this node
 * knows above them (a unit merged away keeps its parent, whose chain this
 * node always holds, while its successor may stand where this node's
 * scoped membership cannot follow). *ok false when the path is too long
 * to keep. LMDB code. */
static int place_now(store *s, MDB_txn *txn, const char *unit, place *pl, bool *ok)
{
    char chain[TREE_MAX_DEPTH][NAME_CAP];
    size_t n = 0, parents;
    *ok = false;
    int rc = place_walk(s, txn, unit, false, chain, &n);
    parents = n;
    if (!rc)
        rc = place_walk(s, txn, unit, true, chain, &n);
    if (rc)
        return rc;
    size_t len = 0; /* parents top down, then the successors' units top down, then unit */
    for (size_t k = 0; k <= n; k++) {
        size_t i = k < parents ? parents - 1 - k : k < n ? n - 1 - (k - parents) : SIZE_MAX;
        const char *u = i == SIZE_MAX ? unit : chain[i];
        size_t l = strlen(u);
        if (len + l + 1 > PLACE_PATH_MAX)
            return 0;
        memcpy(pl->path + len, u, l);
        len += l;
        pl->path[len++] = k < n ? '/' : '\0';
    }
    *ok = true;
    return 0;
}

/* Packs body (a map, NULL for {}) without its "created_in" and with
 * created_in = {"hlc": pl->hlc, "path": [units of pl->path]} into out. */
static int place_pack(const uint8_t *body, size_t len, const place *pl, msgpack_sbuffer *out)
{
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    const msgpack_object_map *m = NULL;
    if (body && msgpack_unpack_next(&up, (const char *)body, len, &off) == MSGPACK_UNPACK_SUCCESS &&
        up.data.type == MSGPACK_OBJECT_MAP)
        m = &up.data.via.map;
    else if (body) {
        msgpack_unpacked_destroy(&up);
        return -1; /* not a map: entry_encode names what is wrong */
    }
    uint32_t keep = 0;
    for (uint32_t i = 0; m && i < m->size; i++)
        keep += !(m->ptr[i].key.type == MSGPACK_OBJECT_STR &&
                  str_is(m->ptr[i].key.via.str, PLACE_FIELD));
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, keep + 1);
    for (uint32_t i = 0; m && i < m->size; i++) {
        if (m->ptr[i].key.type == MSGPACK_OBJECT_STR && str_is(m->ptr[i].key.via.str, PLACE_FIELD))
            continue;
        msgpack_pack_object(&pk, m->ptr[i].key);
        msgpack_pack_object(&pk, m->ptr[i].val);
    }
    msgpack_unpacked_destroy(&up);
    msgpack_pack_str_with_body(&pk, PLACE_FIELD, strlen(PLACE_FIELD));
    msgpack_pack_map(&pk, 2);
    msgpack_pack_str_with_body(&pk, "hlc", 3);
    msgpack_pack_uint64(&pk, pl->hlc);
    msgpack_pack_str_with_body(&pk, "path", 4);
    uint32_t nunits = 1;
    for (const char *p = pl->path; *p; p++)
        nunits += *p == '/';
    msgpack_pack_array(&pk, nunits);
    for (const char *p = pl->path; *p;) {
        const char *end = strchr(p, '/');
        size_t l = end ? (size_t)(end - p) : strlen(p);
        msgpack_pack_str_with_body(&pk, p, l);
        p += l + (end != NULL);
    }
    return 0;
}

int authority_place_body(store *s, MDB_txn *txn, apply_ctx *ac, const store_write *w,
                         const char *unit, uint64_t hlc, uint8_t **out, size_t *outlen)
{
    *out = NULL;
    *outlen = 0;
    if (!owned_coll(s, w->coll))
        return 0;
    int rc = net_load(s, txn, ac);
    if (rc || !ac->net->present)
        return rc;
    MDB_val v;
    rc = rec_get(s, txn, w->coll, w->id, strlen(w->id), &v);
    if (rc && rc != MDB_NOTFOUND)
        return rc;
    bool has_put = false, ok = false;
    uint64_t first;
    uint8_t origin[ENTRY_KEY_BYTES];
    if (!rc && record_creation(v.mv_data, v.mv_size, &has_put, &first, origin))
        return MDB_CORRUPTED;
    place pl = {.hlc = hlc};
    rc = 0;
    if (w->op == ENTRY_OP_PUT && !has_put) {
        rc = place_now(s, txn, unit, &pl, &ok);
    } else if (w->op != ENTRY_OP_PUT) { /* a change repeats the record's creation place */
        uint8_t prefix[64 + 2 + ENTRY_MAX_NAME];
        size_t plen = store_record_key(prefix, w->coll, strlen(w->coll), w->id, strlen(w->id));
        prefix[plen++] = 0;
        owner_place op;
        rc = owner_place_read(s, txn, prefix, plen, NULL, NULL, &op);
        ok = op.created;
        pl.hlc = op.since;
        memcpy(pl.path, op.path, sizeof pl.path);
    }
    if (rc || !ok)
        return rc;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    if (place_pack(w->body, w->body_len, &pl, &sb)) {
        msgpack_sbuffer_destroy(&sb);
        return 0;
    }
    *out = (uint8_t *)sb.data;
    *outlen = sb.size;
    return 0;
}
