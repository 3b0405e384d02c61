/*
 * store.c - the LMDB environment: opening, named databases, the retrying
 * write-transaction runner and map growth, and the small shared helpers.
 *
 * Map growth: LMDB fails a transaction with MDB_MAP_FULL when the map is
 * full. The runner then aborts, doubles the map with mdb_env_set_mapsize
 * and runs the transaction again. Another process that grew the map makes
 * our next transaction fail with MDB_MAP_RESIZED; we adopt the new size and
 * retry. See docs/storage.md.
 *
 * Threads: mdb_env_set_mapsize unmaps and remaps the file, so it is legal
 * only when no transaction of this process is open, on any thread (the env
 * is MDB_NOTLS; writes run on pool threads while the loop thread reads).
 * s->map_lock, a process-local rwlock, enforces that: every transaction
 * holds it shared from begin to end, and growing or adopting the map takes
 * it exclusively after the caller's own transaction has ended. A thread
 * must never wait for the exclusive lock while holding the shared one, so
 * each thread counts the transactions it holds per store (held_*) and a
 * resize asked for by a thread that still holds one (a write from inside a
 * scan callback) fails with EDEADLK instead of deadlocking. One thread may
 * take the shared lock recursively (a read inside a write, a read inside a
 * scan): glibc's default rwlock prefers readers, so a nested rdlock never
 * queues behind a waiting writer.
 *
 * Growth pending: a reader-preferring lock alone lets readers that always
 * overlap (slow threads, busy nodes) keep a grower out for ever. So a grower
 * first counts itself in s->grow_pending, and a thread that holds no
 * transaction at all (an outermost one) waits on s->grow_done until no
 * growth is pending before it takes the lock shared; a thread that already
 * holds a transaction (on any store) goes straight on, so nesting never
 * waits on a growth that waits on it. The open transactions then drain and
 * the grower gets in. */
#include "storage/store_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define STORE_DEFAULT_MAP (256u * 1024u * 1024u)
#define STORE_MAX_ATTEMPTS 40
#define HELD_SLOTS 8

/* The transactions this thread holds, per store. When more than HELD_SLOTS
 * stores are in use at once, the excess is counted in held_other and every
 * resize on this thread is refused until it drains (slot counts never
 * exceed the truth, so with held_other 0 they are exact). */
static _Thread_local struct {
    const store *s;
    unsigned n;
} held[HELD_SLOTS];
static _Thread_local unsigned held_other;

static void held_add(const store *s)
{
    int free_slot = -1;
    for (int i = 0; i < HELD_SLOTS; i++) {
        if (held[i].s == s) {
            held[i].n++;
            return;
        }
        if (!held[i].s && free_slot < 0)
            free_slot = i;
    }
    if (free_slot < 0) {
        held_other++;
        return;
    }
    held[free_slot].s = s;
    held[free_slot].n = 1;
}

static void held_drop(const store *s)
{
    for (int i = 0; i < HELD_SLOTS; i++)
        if (held[i].s == s) {
            if (!--held[i].n)
                held[i].s = NULL;
            return;
        }
    held_other--;
}

static bool held_any(const store *s)
{
    if (held_other)
        return true;
    for (int i = 0; i < HELD_SLOTS; i++)
        if (held[i].s == s)
            return true;
    return false;
}

/* True when this thread holds no transaction on any store. */
static bool held_none(void)
{
    if (held_other)
        return false;
    for (int i = 0; i < HELD_SLOTS; i++)
        if (held[i].s)
            return false;
    return true;
}

/* An outermost transaction waits while a growth of s is pending. */
static void grow_wait(store *s)
{
    if (!atomic_load(&s->grow_pending) || !held_none())
        return;
    pthread_mutex_lock(&s->grow_mutex);
    while (atomic_load(&s->grow_pending))
        pthread_cond_wait(&s->grow_done, &s->grow_mutex);
    pthread_mutex_unlock(&s->grow_mutex);
}

/* Counts a grower in (delta 1) or out (-1); the last one out wakes the
 * transactions that wait in grow_wait. */
static void grow_pending_add(store *s, int delta)
{
    pthread_mutex_lock(&s->grow_mutex);
    if (delta > 0)
        atomic_fetch_add(&s->grow_pending, 1);
    else if (atomic_fetch_sub(&s->grow_pending, 1) == 1)
        pthread_cond_broadcast(&s->grow_done);
    pthread_mutex_unlock(&s->grow_mutex);
}

static void map_share(store *s)
{
    grow_wait(s);
    pthread_rwlock_rdlock(&s->map_lock);
    held_add(s);
}

static void map_unshare(store *s)
{
    held_drop(s);
    pthread_rwlock_unlock(&s->map_lock);
}

static size_t env_map_size(store *s)
{
    MDB_envinfo info;
    mdb_env_info(s->env, &info);
    return info.me_mapsize;
}

void store_be64(uint8_t out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)v;
        v >>= 8;
    }
}

uint64_t store_get_be64(const uint8_t in[8])
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | in[i];
    return v;
}

static void le64_put(uint8_t out[8], uint64_t v)
{
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t le64_get(const uint8_t in[8])
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | in[i];
    return v;
}

void store_log_key(uint8_t key[LOG_KEY_BYTES], const uint8_t *origin, uint64_t seq)
{
    memcpy(key, origin, ENTRY_KEY_BYTES);
    store_be64(key + ENTRY_KEY_BYTES, seq);
}

size_t store_record_key(uint8_t *key, const char *coll, size_t coll_len, const char *id,
                        size_t id_len)
{
    memcpy(key, coll, coll_len);
    key[coll_len] = 0;
    memcpy(key + coll_len + 1, id, id_len);
    return coll_len + 1 + id_len;
}

int store_origin_parse(const MDB_val *v, origin_state *st)
{
    if (v->mv_size != 52)
        return MDB_CORRUPTED;
    const uint8_t *b = v->mv_data;
    st->max_seq = le64_get(b);
    st->count = le64_get(b + 8);
    memcpy(st->hash_at_max, b + 16, ENTRY_HASH_BYTES);
    st->flags = (uint32_t)(le64_get(b + 44) >> 32); /* bytes 48..51 */
    return 0;
}

int store_origin_read(MDB_txn *txn, store *s, const uint8_t *origin, origin_state *st)
{
    MDB_val k = {ENTRY_KEY_BYTES, (void *)origin}, v;
    int rc = mdb_get(txn, s->origins, &k, &v);
    return rc ? rc : store_origin_parse(&v, st);
}

int store_origin_write(MDB_txn *txn, store *s, const uint8_t *origin, const origin_state *st)
{
    uint8_t b[52] = {0};
    le64_put(b, st->max_seq);
    le64_put(b + 8, st->count);
    memcpy(b + 16, st->hash_at_max, ENTRY_HASH_BYTES);
    b[48] = (uint8_t)st->flags;
    b[49] = (uint8_t)(st->flags >> 8);
    b[50] = (uint8_t)(st->flags >> 16);
    b[51] = (uint8_t)(st->flags >> 24);
    MDB_val k = {ENTRY_KEY_BYTES, (void *)origin}, v = {sizeof b, b};
    return mdb_put(txn, s->origins, &k, &v, 0);
}

int store_meta_get_u64(MDB_txn *txn, store *s, const char *name, uint64_t *out)
{
    MDB_val k = {strlen(name), (void *)name}, v;
    int rc = mdb_get(txn, s->meta, &k, &v);
    *out = 0;
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return rc;
    if (v.mv_size != 8)
        return MDB_CORRUPTED;
    *out = le64_get(v.mv_data);
    return 0;
}

int store_meta_put_u64(MDB_txn *txn, store *s, const char *name, uint64_t val)
{
    uint8_t b[8];
    le64_put(b, val);
    MDB_val k = {strlen(name), (void *)name}, v = {8, b};
    return mdb_put(txn, s->meta, &k, &v, 0);
}

/* With seen 0, adopts the map size another process set; otherwise doubles
 * a map still of size seen (another thread may have grown it meanwhile).
 * Holds the map lock exclusively, so no transaction of this process is
 * open while LMDB remaps; new outermost transactions wait meanwhile (growth
 * pending). Returns an LMDB code, EDEADLK when the calling thread itself
 * holds a transaction on s. */
static int map_resize(store *s, size_t seen)
{
    if (held_any(s))
        return EDEADLK;
    grow_pending_add(s, 1);
    pthread_rwlock_wrlock(&s->map_lock);
    int rc = 0;
    if (!seen)
        rc = mdb_env_set_mapsize(s->env, 0);
    else if (env_map_size(s) == seen)
        rc = mdb_env_set_mapsize(s->env, seen * 2);
    pthread_rwlock_unlock(&s->map_lock);
    grow_pending_add(s, -1);
    return rc;
}

int store_txn_read(store *s, MDB_txn **txn)
{
    for (int attempt = 0;; attempt++) {
        map_share(s);
        int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, txn);
        if (!rc)
            return 0;
        map_unshare(s);
        if (rc != MDB_MAP_RESIZED || attempt == STORE_MAX_ATTEMPTS)
            return rc;
        if ((rc = map_resize(s, 0)))
            return rc;
    }
}

void store_txn_end(store *s, MDB_txn *txn)
{
    mdb_txn_abort(txn);
    map_unshare(s);
}

/* Runs one item inside txn: directly when it is alone, else inside a
 * nested transaction that is undone when its fn fails. */
static int txn_item_run(store *s, MDB_txn *txn, store_txn_item *it, bool alone)
{
    if (alone)
        return it->fn(s, txn, it->ctx);
    MDB_txn *child;
    int rc = mdb_txn_begin(s->env, txn, 0, &child);
    if (rc)
        return rc;
    rc = it->fn(s, child, it->ctx);
    if (rc)
        mdb_txn_abort(child);
    else
        rc = mdb_txn_commit(child);
    return rc;
}

/* Counts a committed transaction that served n writes. */
static void commit_count(store *s, size_t n)
{
    size_t b = 0;
    while (b + 1 < STORE_GROUP_BUCKETS && store_group_bucket_le(b) < n)
        b++;
    atomic_fetch_add(&s->commits, 1);
    atomic_fetch_add(&s->commit_writes, n);
    atomic_fetch_add(&s->commit_hist[b], 1);
}

/* One attempt of store_txn_run: the group-wide LMDB code (0: committed). */
static int txn_attempt(store *s, store_txn_item *items, size_t n, size_t *seen)
{
    MDB_txn *txn;
    map_share(s);
    *seen = env_map_size(s);
    int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (!rc) {
        for (size_t i = 0; !rc && i < n; i++) {
            items[i].rc = txn_item_run(s, txn, &items[i], n == 1);
            if (items[i].rc == MDB_MAP_FULL || items[i].rc == MDB_MAP_RESIZED || n == 1)
                rc = items[i].rc;
        }
        if (!rc)
            rc = mdb_txn_commit(txn);
        else
            mdb_txn_abort(txn);
    }
    map_unshare(s);
    if (!rc) {
        commit_count(s, n);
        void (*hook)(void *) = atomic_load(&s->commit_hook);
        if (hook)
            hook(s->commit_ctx);
    }
    return rc;
}

int store_txn_run(store *s, store_txn_item *items, size_t n)
{
    int rc = 0;
    for (int attempt = 0; attempt < STORE_MAX_ATTEMPTS; attempt++) {
        size_t seen;
        rc = txn_attempt(s, items, n, &seen);
        if (!rc)
            return 0;
        if (rc != MDB_MAP_FULL && rc != MDB_MAP_RESIZED)
            break;
        int grown = map_resize(s, rc == MDB_MAP_FULL ? seen : 0);
        if (grown) {
            rc = grown;
            break;
        }
    }
    for (size_t i = 0; i < n; i++)
        items[i].rc = rc;
    return rc;
}

void store_txn_error(store *s, int rc, char *err, size_t errlen)
{
    if (rc == ENOSPC)
        snprintf(err, errlen,
                 "the disk holding %s is full: nothing was written; free space and retry", s->path);
    else if (rc == EDEADLK)
        snprintf(err, errlen,
                 "the map of %s must grow, but this thread holds a read transaction on it "
                 "(a write from inside a scan callback): nothing was written; write after "
                 "the scan returns",
                 s->path);
    else
        snprintf(err, errlen, "storage error in %s: %s", s->path, mdb_strerror(rc));
}

int store_txn_write(store *s, int (*fn)(store *s, MDB_txn *txn, void *ctx), void *ctx, char *err,
                    size_t errlen)
{
    if (s->read_only) {
        snprintf(err, errlen, "the store at %s is open read-only", s->path);
        return -1;
    }
    store_txn_item it = {fn, ctx, 0};
    /* A thread inside a transaction on s (a write from a scan callback)
     * writes alone: waiting for a group whose map growth waits for this
     * thread's transaction would deadlock. */
    if (held_any(s))
        store_txn_run(s, &it, 1);
    else
        store_group_submit(s, &it);
    if (!it.rc)
        return 0;
    store_txn_error(s, it.rc, err, errlen);
    return -1;
}

uint64_t store_group_bucket_le(size_t i)
{
    return i + 1 < STORE_GROUP_BUCKETS ? (uint64_t)1 << i : UINT64_MAX;
}

void store_set_commit_hook(store *s, void (*fn)(void *ctx), void *ctx)
{
    atomic_store(&s->commit_hook, NULL);
    s->commit_ctx = ctx;
    atomic_store(&s->commit_hook, fn);
}

void store_commit_stats_get(store *s, store_commit_stats *out)
{
    out->commits = atomic_load(&s->commits);
    out->writes = atomic_load(&s->commit_writes);
    for (size_t i = 0; i < STORE_GROUP_BUCKETS; i++)
        out->per_commit[i] = atomic_load(&s->commit_hist[i]);
}

/* Creates the map lock and the growth-pending gate of s. Returns 0, or -1
 * with nothing left to destroy. */
static int map_lock_init(store *s)
{
    if (pthread_rwlock_init(&s->map_lock, NULL))
        return -1;
    if (!pthread_mutex_init(&s->grow_mutex, NULL)) {
        if (!pthread_cond_init(&s->grow_done, NULL))
            return 0;
        pthread_mutex_destroy(&s->grow_mutex);
    }
    pthread_rwlock_destroy(&s->map_lock);
    return -1;
}

/* Opens the named databases. Runs before the store is handed out, so its
 * transaction needs no map lock. */
static int store_open_dbs(store *s, const store_options *opt, char *err, size_t errlen)
{
    static const char *const names[] = {
        "meta",     "log",     "origins",   "arrivals", "records", "colls",  "by_unit",
        "evidence", "blobs",   "blob_info", "complete", "local",   "owners", "quarantine",
        "qwait",    "qorigin", "edges",     "readers",  "places"};
    MDB_dbi *dbis[] = {&s->meta,     &s->log,     &s->origins,  &s->arrivals,   &s->records,
                       &s->colls,    &s->by_unit, &s->evidence, &s->blobs,      &s->blob_info,
                       &s->complete, &s->local,   &s->owners,   &s->quarantine, &s->qwait,
                       &s->qorigin,  &s->edges,   &s->readers,  &s->places};
    MDB_txn *txn;
    int rc = mdb_txn_begin(s->env, NULL, s->read_only ? MDB_RDONLY : 0, &txn);
    if (rc) {
        snprintf(err, errlen, "cannot open a transaction on %s: %s", s->path, mdb_strerror(rc));
        return -1;
    }
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        rc = mdb_dbi_open(txn, names[i], s->read_only ? 0 : MDB_CREATE, dbis[i]);
        if (rc == MDB_NOTFOUND && dbis[i] == &s->local) {
            rc = 0; /* read-only, and older than "local": reads find nothing */
            continue;
        }
        if (dbis[i] == &s->local)
            s->has_local = true;
        if (rc) {
            mdb_txn_abort(txn);
            snprintf(err, errlen, "cannot open database \"%s\" in %s: %s%s", names[i], s->path,
                     mdb_strerror(rc),
                     rc != MDB_NOTFOUND ? ""
                     : i > 11 ? " (made by an older lienthong: start `lienthong serve` on it "
                                "once to upgrade it)"
                              : " (is this a lienthong data directory?)");
            return -1;
        }
    }
    uint64_t schema = 0;
    rc = store_meta_get_u64(txn, s, "schema", &schema);
    if (!rc && schema == 0 && !s->read_only)
        rc = store_meta_put_u64(txn, s, "schema", STORE_SCHEMA_VERSION);
    else if (!rc && schema > STORE_SCHEMA_VERSION) {
        mdb_txn_abort(txn);
        snprintf(err, errlen,
                 "%s holds storage schema %llu, newer than this build understands (%u): "
                 "upgrade lienthong",
                 s->path, (unsigned long long)schema, STORE_SCHEMA_VERSION);
        return -1;
    }
    if (!rc && store_index_open_all(s, txn, opt, err, errlen)) {
        mdb_txn_abort(txn);
        return -1;
    }
    /* Commit even when read-only: DBI handles opened in an aborted
     * transaction are closed with it. */
    if (!rc)
        rc = mdb_txn_commit(txn);
    else
        mdb_txn_abort(txn);
    if (rc) {
        snprintf(err, errlen, "cannot initialise %s: %s", s->path, mdb_strerror(rc));
        return -1;
    }
    return 0;
}

int store_open(store **out, const char *path, const store_options *opt, char *err, size_t errlen)
{
    *out = NULL;
    store *s = calloc(1, sizeof *s);
    if (!s)
        return snprintf(err, errlen, "out of memory"), -1;
    s->path = strdup(path);
    s->read_only = opt && opt->read_only;
    if (opt) {
        s->top_tier = opt->top_tier_collections;
        s->ntop_tier = opt->ntop_tier_collections;
    }
    if (map_lock_init(s)) {
        snprintf(err, errlen, "cannot create the map lock of %s", path);
        store_close(s);
        return -1;
    }
    s->map_lock_ready = true;
    if (store_group_init(s)) {
        snprintf(err, errlen, "cannot create the write queue of %s", path);
        store_close(s);
        return -1;
    }
    if (!s->read_only && mkdir(path, 0700) && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        store_close(s);
        return -1;
    }
    size_t map = opt && opt->map_size ? opt->map_size : STORE_DEFAULT_MAP;
    int rc = mdb_env_create(&s->env);
    if (!rc)
        rc = mdb_env_set_maxdbs(s->env, 64);
    if (!rc)
        rc = mdb_env_set_maxreaders(s->env, 254);
    if (!rc)
        rc = mdb_env_set_mapsize(s->env, map);
    if (!rc)
        rc = mdb_env_open(s->env, path, MDB_NOTLS | (s->read_only ? MDB_RDONLY : 0), 0600);
    if (rc) {
        snprintf(err, errlen, "cannot open the store in %s: %s", path, mdb_strerror(rc));
        store_close(s);
        return -1;
    }
    /* Another process may have grown the map beyond our request. */
    MDB_envinfo info;
    mdb_env_info(s->env, &info);
    if (info.me_mapsize < map)
        mdb_env_set_mapsize(s->env, map);
    if (store_open_dbs(s, opt, err, errlen)) {
        store_close(s);
        return -1;
    }
    *out = s;
    return 0;
}

void store_close(store *s)
{
    if (!s)
        return;
    if (s->env)
        mdb_env_close(s->env);
    if (s->map_lock_ready) {
        pthread_rwlock_destroy(&s->map_lock);
        pthread_cond_destroy(&s->grow_done);
        pthread_mutex_destroy(&s->grow_mutex);
    }
    store_group_destroy(s);
    free(s->path);
    free(s);
}

size_t store_map_size(const store *s)
{
    store *m = (store *)s; /* the lock is not part of the store's value */
    map_share(m);
    size_t size = env_map_size(m);
    map_unshare(m);
    return size;
}

const char *apply_result_str(apply_result r)
{
    switch (r) {
    case APPLY_ADDED: return "added";
    case APPLY_DUPLICATE: return "already held";
    case APPLY_ERR_SHAPE: return "malformed entry";
    case APPLY_ERR_SIG: return "bad signature";
    case APPLY_ERR_LINK: return "broken hash link";
    case APPLY_ERR_EQUIVOCATION: return "equivocation";
    case APPLY_ERR_BANNED: return "origin refused after equivocation";
    case APPLY_QUARANTINED: return "quarantined";
    case APPLY_ERR_FLOOD: return "quarantine full for this origin";
    }
    return "?";
}
