/*
 * store_verify.c - `lienthong verify`: an fsck for the store.
 *
 * Both passes read one snapshot of the store, so writers running meanwhile
 * (a serving node, an import) cannot make log and state disagree.
 * Pass 1 walks the log in (origin, seq) order and checks every entry's
 * shape, its signature, that it sits under its own key, and its hash link
 * to the previous entry of the same origin when that is held. Pass 2 replays
 * every sound entry into a scratch store and compares, byte for byte, each
 * materialised record and each collection digest with the ones kept, and
 * the owner sets of records.
 */
#include "lib/hex.h"
#include "storage/store_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REPLAY_BATCH 4096

typedef struct {
    store *s;
    MDB_txn *snapshot; /* one read transaction: log and state seen together */
    store *scratch;
    void (*on_problem)(void *, const char *);
    void *rctx;
    long problems;
    bool failed;
    char *err;
    size_t errlen;
    /* pass 1: the previous entry of the walk */
    uint8_t last_origin[ENTRY_KEY_BYTES];
    uint64_t last_seq;
    uint8_t last_hash[ENTRY_HASH_BYTES];
    /* pass 2: the pending replay batch */
    store_input batch[REPLAY_BATCH];
    size_t nbatch;
} verify_ctx;

static void problem(verify_ctx *vc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(verify_ctx *vc, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    vc->problems++;
    vc->on_problem(vc->rctx, msg);
}

static int replay_flush(verify_ctx *vc)
{
    if (!vc->nbatch)
        return 0;
    apply_result res[REPLAY_BATCH];
    int rc = store_apply(vc->scratch, vc->batch, vc->nbatch, STORE_PREVERIFIED, res, NULL, vc->err,
                         vc->errlen);
    for (size_t i = 0; i < vc->nbatch; i++)
        free((void *)vc->batch[i].bytes);
    vc->nbatch = 0;
    if (rc)
        vc->failed = true;
    return rc;
}

/* Queues a copy of an entry for the replay, flushing a full batch. */
static int replay_queue(verify_ctx *vc, const MDB_val *v)
{
    uint8_t *copy = malloc(v->mv_size);
    if (!copy)
        return -1;
    memcpy(copy, v->mv_data, v->mv_size);
    vc->batch[vc->nbatch++] = (store_input){copy, v->mv_size};
    return vc->nbatch == REPLAY_BATCH ? replay_flush(vc) : 0;
}

/* True when the entry after e in its origin's log is held, validly signed
 * and links to e (bytes v): the author signed over e, which one signature
 * per run (storage/entry_run.h) accepts even when e's own is bad. */
static bool signed_over(verify_ctx *vc, const entry_view *e, const MDB_val *v)
{
    uint8_t key[LOG_KEY_BYTES], hash[ENTRY_HASH_BYTES];
    store_log_key(key, e->origin, e->seq + 1);
    MDB_val k = {LOG_KEY_BYTES, key}, nv;
    entry_view next;
    if (mdb_get(vc->snapshot, vc->s->log, &k, &nv) ||
        entry_decode(nv.mv_data, nv.mv_size, &next, NULL, 0))
        return false;
    entry_hash(v->mv_data, v->mv_size, hash);
    bool over = !memcmp(next.prev, hash, ENTRY_HASH_BYTES) && entry_verify(&next);
    entry_view_free(&next);
    return over;
}

/* Reports entry seq of origin, whose own signature fails but which its
 * author signed over: a fault of the author's key, not of this store. */
static void report_signed_over(verify_ctx *vc, const uint8_t *origin, uint64_t seq)
{
    char full[2 * ENTRY_KEY_BYTES + 1];
    hex_encode(origin, ENTRY_KEY_BYTES, full);
    problem(vc,
            "bad entry %.16s…:%llu: its own signature does not verify, but its author signed "
            "entry %llu over it, so these bytes are the author's and every node holding them "
            "holds the same: the key publishes faulty entries; revoke it from an ancestor unit "
            "(lienthong revoke --node %s)",
            full, (unsigned long long)seq, (unsigned long long)seq + 1, full);
}

/* Pass 1 for one stored entry, queueing sound ones for the replay (an
 * entry its author signed over is sound: every holder has its bytes). */
static int verify_entry(verify_ctx *vc, const MDB_val *k, const MDB_val *v)
{
    char hex[17], why[STORE_ERR_LEN];
    const uint8_t *key = k->mv_data;
    uint64_t seq = k->mv_size == LOG_KEY_BYTES ? store_get_be64(key + ENTRY_KEY_BYTES) : 0;
    hex_encode(key, 8, hex);
    entry_view e;
    if (entry_decode(v->mv_data, v->mv_size, &e, why, sizeof why)) {
        problem(vc, "bad entry %s…:%llu: %s", hex, (unsigned long long)seq, why);
        return 0;
    }
    bool sound = true, sig_ok = true;
    if (memcmp(e.origin, key, ENTRY_KEY_BYTES) || e.seq != seq) {
        problem(vc, "bad entry %s…:%llu: stored under another origin or seq", hex,
                (unsigned long long)seq);
        sound = false;
    } else if (!(sig_ok = entry_verify(&e)) && !signed_over(vc, &e, v)) {
        problem(vc, "bad entry %s…:%llu: signature does not verify", hex, (unsigned long long)seq);
        sound = false;
    } else if (seq > 1 && vc->last_seq == seq - 1 &&
               !memcmp(vc->last_origin, key, ENTRY_KEY_BYTES) &&
               memcmp(e.prev, vc->last_hash, ENTRY_HASH_BYTES)) {
        problem(vc, "bad entry %s…:%llu: prev does not match the hash of entry %llu", hex,
                (unsigned long long)seq, (unsigned long long)(seq - 1));
        sound = false;
    }
    if (sound && !sig_ok)
        report_signed_over(vc, key, seq);
    memcpy(vc->last_origin, key, ENTRY_KEY_BYTES);
    vc->last_seq = seq;
    entry_hash(v->mv_data, v->mv_size, vc->last_hash);
    bool membership = entry_is_membership(&e);
    entry_view_free(&e);
    if (!sound || membership) /* membership was replayed first */
        return 0;
    return replay_queue(vc, v);
}

/* Pass 0: queues the sound membership entries, so that the replay knows
 * every author before their entries (write authority, authority.h). */
static int queue_membership(verify_ctx *vc, const MDB_val *v)
{
    entry_view e;
    if (entry_decode(v->mv_data, v->mv_size, &e, NULL, 0))
        return 0;
    bool take = entry_is_membership(&e) && entry_verify(&e);
    entry_view_free(&e);
    if (!take)
        return 0;
    return replay_queue(vc, v);
}

static int walk_log(verify_ctx *vc, bool membership)
{
    MDB_cursor *c;
    if (mdb_cursor_open(vc->snapshot, vc->s->log, &c))
        return -1;
    MDB_val k, v;
    int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST), ret = 0;
    while (!rc && !ret) {
        ret = membership ? queue_membership(vc, &v) : verify_entry(vc, &k, &v);
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(c);
    if (!ret)
        ret = replay_flush(vc);
    return ret || (rc && rc != MDB_NOTFOUND) ? -1 : 0;
}

/* Compares one named database of the store with the scratch replay: its
 * keys, and their values too when `values`. */
static int compare_db(verify_ctx *vc, MDB_dbi a_db, MDB_dbi b_db, const char *what, bool values)
{
    MDB_txn *ta = vc->snapshot, *tb;
    MDB_cursor *ca, *cb;
    if (store_txn_read(vc->scratch, &tb))
        return -1;
    mdb_cursor_open(ta, a_db, &ca);
    mdb_cursor_open(tb, b_db, &cb);
    MDB_val ka, va, kb, vb;
    int ra = mdb_cursor_get(ca, &ka, &va, MDB_FIRST);
    int rb = mdb_cursor_get(cb, &kb, &vb, MDB_FIRST);
    while (!ra || !rb) {
        int c;
        if (ra)
            c = 1;
        else if (rb)
            c = -1;
        else {
            size_t n = ka.mv_size < kb.mv_size ? ka.mv_size : kb.mv_size;
            c = memcmp(ka.mv_data, kb.mv_data, n);
            if (!c)
                c = ka.mv_size < kb.mv_size ? -1 : ka.mv_size > kb.mv_size;
        }
        const MDB_val *kk = c <= 0 ? &ka : &kb;
        char name[300];
        size_t n = kk->mv_size < sizeof name - 1 ? kk->mv_size : sizeof name - 1;
        memcpy(name, kk->mv_data, n);
        name[n] = '\0';
        for (size_t i = 0; i < n; i++)
            if (name[i] == '\0')
                name[i] = '/';
        if (c < 0)
            problem(vc, "%s %s is stored but a fresh replay of the log does not produce it", what,
                    name);
        else if (c > 0)
            problem(vc, "%s %s is missing: a fresh replay of the log produces it", what, name);
        else if (values && (va.mv_size != vb.mv_size || memcmp(va.mv_data, vb.mv_data, va.mv_size)))
            problem(vc, "%s %s differs from a fresh replay of the log", what, name);
        if (c <= 0)
            ra = mdb_cursor_get(ca, &ka, &va, MDB_NEXT);
        if (c >= 0)
            rb = mdb_cursor_get(cb, &kb, &vb, MDB_NEXT);
    }
    mdb_cursor_close(ca);
    mdb_cursor_close(cb);
    store_txn_end(vc->scratch, tb);
    return 0;
}

/* Compares every database of every domain index with the replay's. */
static int compare_indexes(verify_ctx *vc, store *s)
{
    for (size_t i = 0; i < s->nindexes; i++)
        for (size_t d = 0; d < s->indexes[i]->ndbs; d++) {
            char what[96];
            snprintf(what, sizeof what, "%s index row (%s)", s->indexes[i]->name,
                     s->indexes[i]->dbs[d]);
            if (compare_db(vc, s->index_dbs[i][d], vc->scratch->index_dbs[i][d], what, true))
                return -1;
        }
    return 0;
}

static void remove_scratch(const char *dir)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/data.mdb", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/lock.mdb", dir);
    unlink(p);
    rmdir(dir);
}

long store_verify(store *s, const char *scratch_dir, void (*on_problem)(void *ctx, const char *msg),
                  void *ctx, char *err, size_t errlen)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/lt-verify-XXXXXX", scratch_dir);
    if (!mkdtemp(dir)) {
        snprintf(err, errlen, "cannot make a scratch directory under %s", scratch_dir);
        return -1;
    }
    verify_ctx *vc = calloc(1, sizeof *vc);
    if (!vc) {
        rmdir(dir);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    vc->s = s;
    vc->on_problem = on_problem;
    vc->rctx = ctx;
    vc->err = err;
    vc->errlen = errlen;
    long ret = -1;
    store_options so = {.indexes = s->indexes,
                        .nindexes = s->nindexes,
                        .top_tier_collections = s->top_tier,
                        .ntop_tier_collections = s->ntop_tier};
    if (store_open(&vc->scratch, dir, &so, err, errlen))
        goto out;
    if (store_txn_read(s, &vc->snapshot)) {
        snprintf(err, errlen, "cannot read the store");
        goto out;
    }
    if (walk_log(vc, true) || walk_log(vc, false) || vc->failed) {
        if (!vc->failed)
            snprintf(err, errlen, "cannot read the log of the store");
        goto out;
    }
    /* the owner sets by their keys: rows written before first puts were
     * tracked have no value (storage/owners.h) */
    if (compare_db(vc, s->records, vc->scratch->records, "record", true) ||
        compare_db(vc, s->colls, vc->scratch->colls, "collection digest", true) ||
        compare_db(vc, s->by_unit, vc->scratch->by_unit, "owner index row", true) ||
        compare_db(vc, s->owners, vc->scratch->owners, "owner set row", false) ||
        compare_indexes(vc, s)) {
        snprintf(err, errlen, "cannot compare the store with its replay");
        goto out;
    }
    ret = vc->problems;
out:
    if (vc->snapshot)
        store_txn_end(s, vc->snapshot);
    store_close(vc->scratch);
    remove_scratch(dir);
    free(vc);
    return ret;
}
