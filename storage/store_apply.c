/*
 * store_apply.c - the write path: applying remote entries and writing
 * local ones. Applying one entry inside the caller's transaction is:
 * shape check, signature, equivocation and hash-link checks against the
 * neighbours held, append to the log and the arrival feed, merge into the
 * record, update the owner index and the collection digest.
 */
#include "storage/digest.h"
#include "storage/entry_run.h"
#include "storage/quarantine.h"
#include "storage/record.h"
#include "storage/store_internal.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t zero_hash[ENTRY_HASH_BYTES];

/* What the digest and the owner index need to know of one record version. */
typedef struct {
    const uint8_t *bytes;
    size_t len;
    bool deleted;
    char owner[64];
} rec_version;

static int rec_version_read(rec_version *v, const uint8_t *bytes, size_t len)
{
    v->bytes = bytes;
    v->len = len;
    return record_summary(bytes, len, &v->deleted, v->owner, sizeof v->owner) ? MDB_CORRUPTED : 0;
}

/* Replaces old (NULL: none) by new in coll's live count and digest. */
static int colls_update(store *s, MDB_txn *txn, const entry_view *e, const rec_version *old,
                        const rec_version *new)
{
    MDB_val k = {e->coll.size, (void *)e->coll.ptr}, v;
    uint8_t row[8 + DIGEST_BYTES] = {0};
    int rc = mdb_get(txn, s->colls, &k, &v);
    if (rc == 0 && v.mv_size != sizeof row)
        return MDB_CORRUPTED;
    if (rc == 0)
        memcpy(row, v.mv_data, sizeof row);
    else if (rc != MDB_NOTFOUND)
        return rc;
    uint64_t live = 0;
    for (int i = 7; i >= 0; i--)
        live = live << 8 | row[i];
    uint8_t h[DIGEST_BYTES];
    if (old) {
        digest_record_hash(e->coll.ptr, e->coll.size, e->id.ptr, e->id.size, old->bytes, old->len,
                           h);
        digest_sub(row + 8, h);
        live -= !old->deleted;
    }
    digest_record_hash(e->coll.ptr, e->coll.size, e->id.ptr, e->id.size, new->bytes, new->len, h);
    digest_add(row + 8, h);
    live += !new->deleted;
    for (int i = 0; i < 8; i++)
        row[i] = (uint8_t)(live >> (8 * i));
    v.mv_size = sizeof row;
    v.mv_data = row;
    return mdb_put(txn, s->colls, &k, &v, 0);
}

/* Adds or removes the owner index row of owner for e's record. */
static int by_unit_set(store *s, MDB_txn *txn, const entry_view *e, const char *owner, bool add)
{
    uint8_t key[64 + 2 + 64 + ENTRY_MAX_NAME];
    size_t ul = strlen(owner);
    memcpy(key, owner, ul);
    key[ul] = 0;
    size_t n =
        ul + 1 + store_record_key(key + ul + 1, e->coll.ptr, e->coll.size, e->id.ptr, e->id.size);
    MDB_val k = {n, key}, v = {0, ""};
    if (add)
        return mdb_put(txn, s->by_unit, &k, &v, 0);
    int rc = mdb_del(txn, s->by_unit, &k, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Merges e into its record and keeps digests and the owner index true. */
static int materialise(store *s, MDB_txn *txn, const entry_view *e, char *detail, size_t dl)
{
    uint8_t key[64 + 1 + ENTRY_MAX_NAME];
    MDB_val k = {store_record_key(key, e->coll.ptr, e->coll.size, e->id.ptr, e->id.size), key};
    MDB_val old = {0, NULL};
    int rc = mdb_get(txn, s->records, &k, &old);
    if (rc && rc != MDB_NOTFOUND)
        return rc;
    msgpack_sbuffer out;
    msgpack_sbuffer_init(&out);
    if (record_merge(old.mv_data, old.mv_size, e, &out, detail, dl)) {
        msgpack_sbuffer_destroy(&out);
        return MDB_CORRUPTED;
    }
    if (old.mv_data && old.mv_size == out.size && !memcmp(old.mv_data, out.data, out.size)) {
        msgpack_sbuffer_destroy(&out);
        return 0;
    }
    /* old points into the map: read what we need of it before the put */
    rec_version before, after;
    uint8_t *copy = NULL;
    rc = 0;
    if (old.mv_data) {
        copy = malloc(old.mv_size);
        if (!copy) {
            msgpack_sbuffer_destroy(&out);
            return ENOMEM;
        }
        memcpy(copy, old.mv_data, old.mv_size);
        rc = rec_version_read(&before, copy, old.mv_size);
    }
    if (!rc)
        rc = rec_version_read(&after, (const uint8_t *)out.data, out.size);
    if (!rc) {
        MDB_val v = {out.size, out.data};
        rc = mdb_put(txn, s->records, &k, &v, 0);
    }
    if (!rc)
        rc = colls_update(s, txn, e, copy ? &before : NULL, &after);
    if (!rc)
        rc = store_index_changed(s, txn, e->coll.ptr, e->coll.size, e->id.ptr, e->id.size, copy,
                                 copy ? old.mv_size : 0, (const uint8_t *)out.data, out.size);
    bool moved = !copy || strcmp(before.owner, after.owner);
    if (!rc && copy && moved)
        rc = by_unit_set(s, txn, e, before.owner, false);
    if (!rc && moved)
        rc = by_unit_set(s, txn, e, after.owner, true);
    free(copy);
    msgpack_sbuffer_destroy(&out);
    return rc;
}

/* Checks e against the entries held at seq-1 and seq+1 of its origin. */
static int check_links(store *s, MDB_txn *txn, const entry_view *e, const origin_state *os,
                       bool known, const uint8_t hash[ENTRY_HASH_BYTES], bool *ok)
{
    *ok = true;
    uint8_t key[LOG_KEY_BYTES];
    MDB_val k = {LOG_KEY_BYTES, key}, v;
    if (e->seq == 1) {
        *ok = !memcmp(e->prev, zero_hash, ENTRY_HASH_BYTES);
    } else if (known && os->max_seq == e->seq - 1) {
        *ok = !memcmp(e->prev, os->hash_at_max, ENTRY_HASH_BYTES);
    } else if (known) {
        store_log_key(key, e->origin, e->seq - 1);
        int rc = mdb_get(txn, s->log, &k, &v);
        if (rc && rc != MDB_NOTFOUND)
            return rc;
        if (!rc) {
            uint8_t h[ENTRY_HASH_BYTES];
            entry_hash(v.mv_data, v.mv_size, h);
            *ok = !memcmp(e->prev, h, ENTRY_HASH_BYTES);
        }
    }
    if (*ok && known && os->max_seq > e->seq) {
        store_log_key(key, e->origin, e->seq + 1);
        int rc = mdb_get(txn, s->log, &k, &v);
        if (rc && rc != MDB_NOTFOUND)
            return rc;
        if (!rc) {
            entry_view next;
            if (entry_decode_held(v.mv_data, v.mv_size, &next))
                return MDB_CORRUPTED;
            *ok = !memcmp(next.prev, hash, ENTRY_HASH_BYTES);
            entry_view_free(&next);
        }
    }
    return 0;
}

static void set_detail(char *detail, size_t dl, const char *fmt, const char *a)
{
    if (detail && dl)
        snprintf(detail, dl, fmt, a);
}

/* Records proof that e's origin signed two entries for one seq. */
static int record_equivocation(store *s, MDB_txn *txn, const entry_view *e, origin_state *os,
                               const uint8_t hash[ENTRY_HASH_BYTES])
{
    uint8_t key[LOG_KEY_BYTES + ENTRY_HASH_BYTES];
    store_log_key(key, e->origin, e->seq);
    memcpy(key + LOG_KEY_BYTES, hash, ENTRY_HASH_BYTES);
    MDB_val k = {sizeof key, key}, v = {e->len, (void *)e->bytes};
    int rc = mdb_put(txn, s->evidence, &k, &v, 0);
    if (rc)
        return rc;
    os->flags |= ORIGIN_FLAG_EQUIVOCATED;
    return store_origin_write(txn, s, e->origin, os);
}

int store_apply_one(store *s, MDB_txn *txn, apply_ctx *ac, const uint8_t *bytes, size_t len,
                    bool preverified, apply_result *result, char *detail, size_t dl)
{
    entry_view e;
    char why[STORE_ERR_LEN] = "";
    /* preverified: entry_run_verify decoded these very bytes in full */
    if (preverified ? entry_decode_held(bytes, len, &e)
                    : entry_decode(bytes, len, &e, why, sizeof why)) {
        *result = APPLY_ERR_SHAPE;
        set_detail(detail, dl, "%s", why);
        return 0;
    }
    int rc = 0;
    if (!preverified && !entry_verify(&e)) {
        *result = APPLY_ERR_SIG;
        set_detail(detail, dl, "%s", "the signature does not match the entry's bytes and origin");
        goto done;
    }
    origin_state os = {0};
    rc = store_origin_read(txn, s, e.origin, &os);
    bool known = rc == 0;
    if (rc && rc != MDB_NOTFOUND)
        goto done;
    rc = 0;

    uint8_t key[LOG_KEY_BYTES];
    store_log_key(key, e.origin, e.seq);
    MDB_val k = {LOG_KEY_BYTES, key}, held;
    int got = mdb_get(txn, s->log, &k, &held);
    if (got && got != MDB_NOTFOUND) {
        rc = got;
        goto done;
    }
    if (!got && held.mv_size == len && !memcmp(held.mv_data, bytes, len)) {
        *result = APPLY_DUPLICATE;
        goto done;
    }
    uint8_t hash[ENTRY_HASH_BYTES];
    entry_hash(bytes, len, hash);
    bool quarantined;
    if ((rc = quarantine_held(s, txn, hash, &quarantined)))
        goto done;
    if (quarantined) {
        *result = APPLY_QUARANTINED;
        set_detail(detail, dl, "%s", "already in quarantine");
        goto done;
    }
    if (!got) {
        *result = APPLY_ERR_EQUIVOCATION;
        set_detail(detail, dl, "%s",
                   "another entry with this origin and seq is held: both kept as evidence, "
                   "further entries from this origin are refused");
        rc = record_equivocation(s, txn, &e, &os, hash);
        goto done;
    }
    if (os.flags & ORIGIN_FLAG_EQUIVOCATED) {
        *result = APPLY_ERR_BANNED;
        set_detail(detail, dl, "%s", "this origin signed two different entries for one seq");
        goto done;
    }
    bool linked;
    rc = check_links(s, txn, &e, &os, known, hash, &linked);
    if (rc)
        goto done;
    if (!linked) {
        *result = APPLY_ERR_LINK;
        set_detail(detail, dl, "%s",
                   "prev does not match the hash of the origin's neighbouring entry held");
        goto done;
    }
    auth_decision auth;
    if ((rc = authority_check(s, txn, ac, &e, &auth)))
        goto done;
    if (auth.verdict != AUTH_OK) {
        bool full;
        if ((rc = quarantine_add(s, txn, &e, hash, &auth, &full)))
            goto done;
        *result = full ? APPLY_ERR_FLOOD : APPLY_QUARANTINED;
        set_detail(detail, dl, "%s", auth.why);
        goto done;
    }

    MDB_val val = {len, (void *)bytes};
    rc = mdb_put(txn, s->log, &k, &val, MDB_NOOVERWRITE);
    if (rc)
        goto done;
    uint8_t apos[8], aval[LOG_KEY_BYTES];
    store_be64(apos, ++ac->arrival);
    memcpy(aval, key, LOG_KEY_BYTES);
    MDB_val ak = {8, apos}, av = {LOG_KEY_BYTES, aval};
    rc = mdb_put(txn, s->arrivals, &ak, &av, MDB_APPEND);
    if (rc)
        goto done;
    os.count++;
    if (e.seq > os.max_seq) {
        os.max_seq = e.seq;
        memcpy(os.hash_at_max, hash, ENTRY_HASH_BYTES);
    }
    rc = store_origin_write(txn, s, e.origin, &os);
    if (!rc)
        rc = store_complete_raise(s, txn, e.origin, 0, os.count == os.max_seq ? os.max_seq : 0,
                                  e.unit.ptr, e.unit.size);
    if (!rc)
        rc = materialise(s, txn, &e, detail, dl);
    if (!rc)
        rc = authority_note(s, txn, ac, &e, auth.enforced);
    if (!rc) {
        ac->hlc = hlc_observe(ac->hlc, e.hlc, hlc_wall_ms());
        *result = APPLY_ADDED;
    }
done:
    entry_view_free(&e);
    return rc;
}

static int apply_ctx_load(store *s, MDB_txn *txn, apply_ctx *ac)
{
    memset(ac, 0, sizeof *ac);
    int rc = store_meta_get_u64(txn, s, "arrival", &ac->arrival);
    return rc ? rc : store_meta_get_u64(txn, s, "hlc", &ac->hlc);
}

/* Re-examines what the transaction's entries may have cured, saves the
 * counters and releases ac; rc is the transaction's code so far. */
static int apply_ctx_finish(store *s, MDB_txn *txn, apply_ctx *ac, int rc)
{
    if (!rc)
        rc = quarantine_retry(s, txn, ac);
    if (!rc)
        rc = store_meta_put_u64(txn, s, "arrival", ac->arrival);
    if (!rc)
        rc = store_meta_put_u64(txn, s, "hlc", ac->hlc);
    free(ac->wake);
    ac->wake = NULL;
    authority_release(ac);
    return rc;
}

typedef struct {
    const store_input *in;
    size_t n;
    const store_mark *marks;
    size_t nmarks;
    bool preverified;
    const bool *verified; /* non-NULL: verified[i] when entry i is authentic */
    apply_result *results;
    char (*details)[STORE_ERR_LEN];
} apply_batch;

/* True when an entry of origin in the batch was refused. */
static bool batch_refused(const apply_batch *b, const uint8_t *origin)
{
    for (size_t i = 0; i < b->n; i++)
        if (b->results[i] != APPLY_ADDED && b->results[i] != APPLY_DUPLICATE &&
            b->in[i].len > 13 + ENTRY_KEY_BYTES &&
            !memcmp(b->in[i].bytes + 13, origin, ENTRY_KEY_BYTES))
            return true;
    return false;
}

static int apply_batch_txn(store *s, MDB_txn *txn, void *ctx)
{
    apply_batch *b = ctx;
    apply_ctx ac;
    int rc = apply_ctx_load(s, txn, &ac);
    for (size_t i = 0; !rc && i < b->n; i++) {
        if (b->details)
            b->details[i][0] = '\0';
        bool pre = b->preverified || (b->verified && b->verified[i]);
        rc = store_apply_one(s, txn, &ac, b->in[i].bytes, b->in[i].len, pre, &b->results[i],
                             b->details ? b->details[i] : NULL, STORE_ERR_LEN);
    }
    for (size_t i = 0; !rc && i < b->nmarks; i++)
        if (!batch_refused(b, b->marks[i].origin))
            rc = store_complete_raise(s, txn, b->marks[i].origin, b->marks[i].from, b->marks[i].seq,
                                      b->marks[i].unit, strlen(b->marks[i].unit));
    rc = apply_ctx_finish(s, txn, &ac, rc);
    /* entries that waited and were cured later in the batch were added */
    for (size_t i = 0; !rc && i < b->n; i++) {
        if (b->results[i] != APPLY_QUARANTINED)
            continue;
        uint8_t hash[ENTRY_HASH_BYTES];
        bool held;
        entry_hash(b->in[i].bytes, b->in[i].len, hash);
        rc = quarantine_held(s, txn, hash, &held);
        if (!rc && !held) {
            b->results[i] = APPLY_ADDED;
            if (b->details)
                b->details[i][0] = '\0';
        }
    }
    return rc;
}

int store_apply_marked(store *s, const store_input *in, size_t n, const store_mark *marks,
                       size_t nmarks, unsigned flags, apply_result *results,
                       char (*details)[STORE_ERR_LEN], char *err, size_t errlen)
{
    apply_batch b = {in, n, marks, nmarks, flags & STORE_PREVERIFIED, NULL, results, details};
    /* one signature per run (entry_run.h); an entry the runs do not vouch
     * for is checked alone by store_apply_one, which names what is wrong */
    bool *verified = NULL;
    if (!b.preverified && n > 1 && (verified = calloc(n, sizeof *verified)))
        entry_run_verify(in, n, verified);
    b.verified = verified;
    int rc = store_txn_write(s, apply_batch_txn, &b, err, errlen);
    free(verified);
    return rc;
}

int store_apply(store *s, const store_input *in, size_t n, unsigned flags, apply_result *results,
                char (*details)[STORE_ERR_LEN], char *err, size_t errlen)
{
    return store_apply_marked(s, in, n, NULL, 0, flags, results, details, err, errlen);
}

typedef struct {
    const store_author *a;
    const store_write *w;
    size_t n;
    uint64_t *seqs;
    char *err;
    size_t errlen;
    int failed; /* the result when the batch failed with err set; 0 = see the txn error */
} write_batch;

static int write_batch_txn(store *s, MDB_txn *txn, void *ctx)
{
    write_batch *b = ctx;
    apply_ctx ac;
    int rc = apply_ctx_load(s, txn, &ac);
    b->failed = 0;
    for (size_t i = 0; !rc && i < b->n; i++) {
        const store_write *w = &b->w[i];
        origin_state os = {0};
        rc = store_origin_read(txn, s, b->a->pk, &os);
        if (rc && rc != MDB_NOTFOUND)
            break;
        rc = 0;
        if (os.flags & ORIGIN_FLAG_EQUIVOCATED) {
            snprintf(b->err, b->errlen,
                     "this node's key is proven to have signed two entries for one seq and is "
                     "refused everywhere: rotate to a new key");
            b->failed = STORE_REFUSED;
            rc = MDB_NOTFOUND; /* abort; reported through b->failed */
            break;
        }
        if (os.count != os.max_seq) {
            snprintf(b->err, b->errlen,
                     "this node's own log is incomplete (%llu of %llu entries): restore it "
                     "from a peer before writing, or it would sign conflicting entries",
                     (unsigned long long)os.count, (unsigned long long)os.max_seq);
            b->failed = STORE_FAILED;
            rc = MDB_NOTFOUND;
            break;
        }
        ac.hlc = hlc_next(ac.hlc, hlc_wall_ms());
        uint8_t *placed; /* the body with its creation place (authority.h) */
        size_t placed_len;
        if ((rc = authority_place_body(s, txn, &ac, w, b->a->unit, ac.hlc, &placed, &placed_len)))
            break;
        entry_fields f = {b->a->pk,
                          os.max_seq + 1,
                          os.max_seq ? os.hash_at_max : NULL,
                          ac.hlc,
                          b->a->unit,
                          w->coll,
                          w->id,
                          w->op,
                          placed ? placed : w->body,
                          placed ? placed_len : w->body_len,
                          w->to,
                          w->to_count};
        uint8_t *bytes;
        size_t len;
        int enc = entry_encode(&f, b->a->sk, &bytes, &len, b->err, b->errlen);
        free(placed);
        if (enc) {
            b->failed = STORE_INVALID;
            rc = MDB_NOTFOUND;
            break;
        }
        apply_result res;
        char detail[STORE_ERR_LEN];
        ac.local = true; /* authority also checks the tree as it is now (authority.h) */
        rc = store_apply_one(s, txn, &ac, bytes, len, true, &res, detail, sizeof detail);
        ac.local = false;
        free(bytes);
        if (!rc && res != APPLY_ADDED) {
            snprintf(b->err, b->errlen, "local write %s/%s refused: %s: %s", w->coll, w->id,
                     apply_result_str(res), detail);
            b->failed = STORE_REFUSED;
            rc = MDB_NOTFOUND;
            break;
        }
        if (b->seqs)
            b->seqs[i] = f.seq;
    }
    return apply_ctx_finish(s, txn, &ac, rc);
}

int store_place_body(store *s, const store_write *w, const char *unit, uint64_t hlc, uint8_t **out,
                     size_t *outlen)
{
    MDB_txn *txn;
    *out = NULL;
    if (store_txn_read(s, &txn))
        return -1;
    apply_ctx ac = {0};
    int rc = authority_place_body(s, txn, &ac, w, unit, hlc, out, outlen);
    authority_release(&ac);
    store_txn_end(s, txn);
    return rc ? -1 : 0;
}

int store_write_local(store *s, const store_author *a, const store_write *w, size_t n,
                      uint64_t *seqs, char *err, size_t errlen)
{
    if (atomic_load(&s->held) && !memcmp(a->pk, s->hold_pk, sizeof s->hold_pk)) {
        snprintf(err, errlen, "%s", s->hold_why);
        return STORE_HELD;
    }
    write_batch b = {a, w, n, seqs, err, errlen, 0};
    char txn_err[STORE_ERR_LEN];
    if (store_txn_write(s, write_batch_txn, &b, txn_err, sizeof txn_err)) {
        if (!b.failed)
            snprintf(err, errlen, "%s", txn_err);
        return b.failed ? b.failed : STORE_FAILED;
    }
    return 0;
}

void store_hold_local(store *s, const uint8_t *pk, const char *why)
{
    if (!pk) {
        atomic_store(&s->held, false);
        return;
    }
    memcpy(s->hold_pk, pk, sizeof s->hold_pk);
    snprintf(s->hold_why, sizeof s->hold_why, "%s", why);
    atomic_store(&s->held, true);
}

lt_errkind store_write_errkind(int rc)
{
    switch (rc) {
    case 0: return LT_OK;
    case STORE_REFUSED: return LT_EFORBIDDEN;
    case STORE_INVALID: return LT_EINVAL;
    case STORE_HELD: return LT_EUNAVAILABLE;
    default: return LT_ESTORAGE;
    }
}
