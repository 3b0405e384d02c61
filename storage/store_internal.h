/*
 * store_internal.h - what the store's own files share: the environment, the
 * named databases, key builders and the retrying transaction runner.
 * Nothing outside storage/store_*.c includes this.
 */
#ifndef LT_STORE_INTERNAL_H
#define LT_STORE_INTERNAL_H

#include "storage/store.h"
#include "storage/store_index.h"

#include <lmdb.h>
#include <pthread.h>

struct store {
    MDB_env *env;
    /* Held shared by every transaction of this process from begin to end,
     * exclusively while the map is grown or adopted (store.c). */
    pthread_rwlock_t map_lock;
    /* Growers waiting for map_lock exclusively (under grow_mutex; read
     * without it on the fast path). While it is not 0, a thread that holds
     * no transaction waits on grow_done before it takes map_lock shared, so
     * overlapping readers cannot starve a growth (store.c). */
    _Atomic unsigned grow_pending;
    pthread_mutex_t grow_mutex;
    pthread_cond_t grow_done;
    bool map_lock_ready;
    char *path;
    bool read_only;
    MDB_dbi meta;       /* name -> value (schema, hlc, arrival) */
    MDB_dbi log;        /* origin(32) seq(8 BE) -> entry bytes */
    MDB_dbi origins;    /* origin(32) -> origin_state (52 bytes) */
    MDB_dbi arrivals;   /* pos(8 BE) -> origin(32) seq(8 BE) */
    MDB_dbi records;    /* coll 0x00 id -> canonical record */
    MDB_dbi colls;      /* coll -> live(8 LE) digest(32) */
    MDB_dbi by_unit;    /* unit 0x00 coll 0x00 id -> "" */
    MDB_dbi evidence;   /* origin(32) seq(8 BE) hash(32) -> conflicting entry */
    MDB_dbi blobs;      /* hash(32) chunk(4 BE) -> bytes */
    MDB_dbi blob_info;  /* hash(32) -> size(8 LE) */
    MDB_dbi complete;   /* origin(32) -> seq(8 LE) unit (complete position) */
    MDB_dbi owners;     /* coll 0x00 id 0x00 unit -> flags [stamp] (owners.h) */
    MDB_dbi quarantine; /* entry hash(32) -> quarantine row (quarantine.c) */
    MDB_dbi qwait;      /* wait key, hash(32) -> "" (waiting quarantined entries) */
    MDB_dbi qorigin;    /* origin(32) -> count(8 LE) of its quarantined entries */
    MDB_dbi edges;      /* unit 0x00 parent -> hlc(8 BE): every placement ever applied,
                         * with the newest HLC that made it */
    MDB_dbi places;     /* coll 0x00 id 0x00 hlc(8 BE) path -> "": creation places */
    MDB_dbi readers;    /* coll 0x00 id 0x00 addressee -> "": every "to" a record had */
    MDB_dbi local;      /* table 0x00 key -> value (node-local, never replicated) */
    const store_index *indexes[STORE_INDEXES_MAX]; /* given at open (store_index.h) */
    MDB_dbi index_dbs[STORE_INDEXES_MAX][STORE_INDEX_DBS_MAX];
    size_t nindexes;
    const char *const *top_tier; /* collections only top tiers write (authority.c) */
    size_t ntop_tier;
    bool has_local; /* false: a read-only open of a store made before "local" */
    /* Group commit (store_group.c): writes waiting for the next
     * transaction, whether one is being committed, and what was committed. */
    pthread_mutex_t group_mutex;
    struct store_group_req *group_head, *group_tail;
    bool group_busy;
    bool group_ready;
    /* store_set_commit_hook: told after every commit, from the committing thread */
    void (*_Atomic commit_hook)(void *ctx);
    void *commit_ctx;
    _Atomic uint64_t commits;
    _Atomic uint64_t commit_writes;
    _Atomic uint64_t commit_hist[STORE_GROUP_BUCKETS];
    /* store_hold_local: writes signed by hold_pk fail while held is set */
    _Atomic bool held;
    uint8_t hold_pk[32];
    char hold_why[512];
};

#define STORE_SCHEMA_VERSION 1u
#define ORIGIN_FLAG_EQUIVOCATED 1u
#define LOG_KEY_BYTES (ENTRY_KEY_BYTES + 8)

/* Per-origin bookkeeping in the "origins" database. */
typedef struct {
    uint64_t max_seq;
    uint64_t count;
    uint8_t hash_at_max[ENTRY_HASH_BYTES];
    uint32_t flags;
} origin_state;

/* Runs fn inside a write transaction and commits it: a transaction shared
 * with the writes other threads of the process queued meanwhile (group
 * commit, store_group.c; fn then runs in a nested transaction, and fails
 * alone), unless the calling thread holds a transaction on s. fn may thus
 * run on another thread than the caller's. Retries the whole
 * transaction on a grown map (MDB_MAP_FULL) or after another process grew
 * it (MDB_MAP_RESIZED); fn must therefore be safe to run again. fn returns
 * an LMDB code (0 = commit). Returns 0, or -1 with err filled. The map is
 * never grown while the calling thread holds a read transaction on s (a
 * write from inside a scan callback): that write fails instead. */
int store_txn_write(store *s, int (*fn)(store *s, MDB_txn *txn, void *ctx), void *ctx, char *err,
                    size_t errlen);

/* One write transaction of store_txn_write: the caller's fn and ctx, and
 * its outcome (an LMDB code). */
typedef struct {
    int (*fn)(store *s, MDB_txn *txn, void *ctx);
    void *ctx;
    int rc;
} store_txn_item;

/* Runs items in one write transaction, each inside its own nested
 * transaction when there are several: an item whose fn fails is undone
 * alone and gets its code in rc; the others are committed together with
 * one fsync. A map that must grow (or was grown by another process) runs
 * all of them again. Returns 0 when the transaction committed (items may
 * still have failed alone), else the LMDB code that failed all of them
 * (each rc holds it too). store_group.c uses it; counts the commit. */
int store_txn_run(store *s, store_txn_item *items, size_t n);

/* Fills err with what the LMDB code rc from a write of s means and what
 * to do about it. */
void store_txn_error(store *s, int rc, char *err, size_t errlen);

/* A write waiting in the group-commit queue (in its caller's frame). */
struct store_group_req {
    store_txn_item *item;
    bool done; /* item->rc holds the outcome */
    struct store_group_req *next;
    pthread_cond_t wake; /* signalled when done, or when it is to lead */
};

/* Queues item for the next group (see store.h, "Group commit") and
 * returns when its transaction committed or failed (item->rc). The
 * calling thread must hold no transaction on s. */
void store_group_submit(store *s, store_txn_item *item);

/* Creates and destroys the group-commit queue of s (store_group.c).
 * init returns 0 or -1. */
int store_group_init(store *s);
void store_group_destroy(store *s);

/* Begins a read-only transaction, adopting a map grown by another
 * process, and holds s->map_lock shared until store_txn_end. Returns an
 * LMDB code; on success the transaction must end with store_txn_end, never
 * with mdb_txn_abort alone. */
int store_txn_read(store *s, MDB_txn **txn);

/* Ends a read transaction begun by store_txn_read (aborts it and releases
 * the map lock). */
void store_txn_end(store *s, MDB_txn *txn);

/* Walks db in one read transaction from key `from` (NULL: the first key)
 * while keys start with prefix, calling fn; stops when fn returns non-zero
 * and returns that value (-1 on a storage error). */
int store_scan(store *s, MDB_dbi db, const void *from, size_t fromlen, const void *prefix,
               size_t plen, int (*fn)(void *ctx, MDB_val *k, MDB_val *v), void *ctx);

/* Key helpers. */
void store_log_key(uint8_t key[LOG_KEY_BYTES], const uint8_t *origin, uint64_t seq);

/* Parses a stored origin state (MDB_CORRUPTED when malformed). */
int store_origin_parse(const MDB_val *v, origin_state *st);
/* Reads / writes an origin's state; get returns MDB_NOTFOUND when absent. */
int store_origin_read(MDB_txn *txn, store *s, const uint8_t *origin, origin_state *st);
int store_origin_write(MDB_txn *txn, store *s, const uint8_t *origin, const origin_state *st);

/* Reads / writes a little-endian u64 in "meta"; absent reads as 0. */
int store_meta_get_u64(MDB_txn *txn, store *s, const char *name, uint64_t *v);
int store_meta_put_u64(MDB_txn *txn, store *s, const char *name, uint64_t v);

/* Raises origin's complete position to at least seq (setting its unit if
 * unknown), provided it is at least `from` now (absent counts as 0): a
 * marker only extends a position, it never bridges a gap. */
int store_complete_raise(store *s, MDB_txn *txn, const uint8_t *origin, uint64_t from, uint64_t seq,
                         const char *unit, size_t unit_len);

/* Opens the databases of the indexes opt names (store_index.h) inside the
 * store's first transaction, refuses (read-write) an open without an index
 * the store holds, and rebuilds the outdated ones. Returns 0, or -1 with
 * err. */
int store_index_open_all(store *s, MDB_txn *txn, const store_options *opt, char *err,
                         size_t errlen);

/* Calls the update of every index of collection coll for a record change
 * inside txn. Returns an LMDB code. */
int store_index_changed(store *s, MDB_txn *txn, const char *coll, size_t coll_len, const char *id,
                        size_t idlen, const uint8_t *old, size_t oldlen, const uint8_t *rec,
                        size_t reclen);

/* The running state of one write transaction that applies entries. */
typedef struct {
    uint64_t arrival;     /* last arrival position used */
    uint64_t hlc;         /* the node clock after this transaction */
    bool wake_membership; /* membership changed: re-examine waiting entries */
    uint8_t *wake;        /* record keys whose owners grew: u16 BE len + key, ... */
    size_t wake_len, wake_cap;
    struct auth_net *net; /* the network config as authority read it (authority.c) */
    bool id_ok;           /* the last identity check passed for id_origin/id_unit ... */
    uint8_t id_origin[ENTRY_KEY_BYTES];
    char id_unit[ENTRY_MAX_NAME + 1];
    uint64_t id_upto; /* ... for seqs up to this (UINT64_MAX: no cut-off) */
    bool local;       /* the entry being applied is this node's own write */
} apply_ctx;

/* Applies one entry inside txn (see store_apply). Returns an LMDB code for
 * storage failures; the entry's fate goes to *result (detail if non-NULL). */
int store_apply_one(store *s, MDB_txn *txn, apply_ctx *ac, const uint8_t *bytes, size_t len,
                    bool preverified, apply_result *result, char *detail, size_t detail_len);

#endif
