/*
 * store.h - the node's LMDB store: the signed log, materialised records,
 * their indexes and digests, and content-addressed blobs.
 *
 * One store is one LMDB environment (a directory with data.mdb/lock.mdb).
 * Several processes may open it at once (the daemon and `lienthong import`);
 * LMDB serialises writers and never blocks readers. Every write below is one
 * LMDB write transaction (or a nested one inside a transaction shared with
 * the writes of other threads: "Group commit" below), committed durably
 * before the call returns 0: a result reported as added is acknowledged and
 * survives kill -9. When the
 * map fills, the transaction is retried on a doubled map; when the disk is
 * full, the call fails and nothing of it is written.
 *
 * Threads: a store may be used by several threads at once (the daemon
 * writes on pool threads while the loop thread reads and writes). Every
 * call is one transaction; growing the map waits until no thread of the
 * process is inside one, and while a growth waits, a thread that holds no
 * transaction waits before starting one, so readers cannot starve it
 * (store.c; docs/storage.md, "Map growth and threads"). So a callback
 * given to a scan below must not write to the store (a write that needs a
 * bigger map then fails) and must not wait for a lock that a writer may
 * hold while writing (a domain's lock): that would deadlock with a growth.
 * Reads may nest: a thread that holds a transaction never waits for a
 * pending growth.
 *
 * Key layouts of every named database are in docs/storage.md.
 */
#ifndef LT_STORE_H
#define LT_STORE_H

#include "lib/error.h"
#include "storage/entry.h"
#include "storage/hlc.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct store store;

#define STORE_DIGEST_BYTES 32
#define STORE_ERR_LEN 256

struct store_index;

typedef struct {
    size_t map_size; /* initial map size in bytes; 0 = 256 MiB */
    bool read_only;
    /* The domains' indexes (storage/store_index.h) and the collections
     * only the top tiers may write (authority.h); both arrays must outlive
     * the store. */
    const struct store_index *const *indexes;
    size_t nindexes;
    const char *const *top_tier_collections;
    size_t ntop_tier_collections;
} store_options;

/* Opens (creating if needed) the store in directory path. Returns 0, or -1
 * with the reason in err. */
int store_open(store **out, const char *path, const store_options *opt, char *err, size_t errlen);

/* Closes the store; no transaction may be open. NULL is ignored. */
void store_close(store *s);

/* The current LMDB map size in bytes. */
size_t store_map_size(const store *s);

/* ---- Group commit ----------------------------------------------------------- */

/* Every write below joins a group: writes that threads of this process
 * start while a commit is in flight wait for it and are then committed
 * together in the next transaction, with one fsync; each call returns
 * only after its transaction is durable. A write that fails (bad input,
 * refused by the rules) is undone alone, inside a nested transaction, and
 * fails alone; a failure of the commit (disk full, I/O) fails every write
 * of that group and nothing of it is written. */

/* Buckets of the writes-per-commit histogram: at most 1, 2, 4, ..., 256
 * writes, and more. */
#define STORE_GROUP_BUCKETS 10

typedef struct {
    uint64_t commits;                         /* write transactions committed by this process */
    uint64_t writes;                          /* write calls they served */
    uint64_t per_commit[STORE_GROUP_BUCKETS]; /* commits by writes served (not cumulative) */
} store_commit_stats;

/* The upper bound of histogram bucket i (UINT64_MAX for the last). */
uint64_t store_group_bucket_le(size_t i);

/* Calls fn(ctx) after every write transaction this process commits to s,
 * on the committing thread (any thread, the store's locks released), until
 * it is replaced; NULL removes it. fn must be quick and thread-safe (for
 * example uv_async_send). Set it before other threads write, or accept
 * that a commit in flight may still call the previous hook. */
void store_set_commit_hook(store *s, void (*fn)(void *ctx), void *ctx);

/* What this process committed to s since it opened it. Any thread. */
void store_commit_stats_get(store *s, store_commit_stats *out);

/* ---- Applying entries --------------------------------------------------- */

typedef enum {
    APPLY_ADDED = 0,        /* new: appended, materialised, indexed */
    APPLY_DUPLICATE,        /* already held: nothing changed */
    APPLY_ERR_SHAPE,        /* malformed, oversized or invalid field */
    APPLY_ERR_SIG,          /* signature does not verify */
    APPLY_ERR_LINK,         /* prev hash disagrees with a neighbour held */
    APPLY_ERR_EQUIVOCATION, /* a different entry holds this (origin, seq) */
    APPLY_ERR_BANNED,       /* origin refused after equivocating */
    APPLY_QUARANTINED,      /* refused by write authority: kept in the quarantine */
    APPLY_ERR_FLOOD,        /* refused by authority, quarantine full for its origin */
} apply_result;

/* A short, human-readable name for a result ("added", "bad signature", ...). */
const char *apply_result_str(apply_result r);

typedef struct {
    const uint8_t *bytes;
    size_t len;
} store_input;

/* Flags for store_apply. */
/* The caller checked each entry's shape with entry_decode and its signature
 * (entry_run_verify, on the thread pool): the apply decodes them with
 * entry_decode_held and does not verify again. */
#define STORE_PREVERIFIED 1u

/* Applies n entries in one write transaction: each is shape-checked,
 * verified (both unless STORE_PREVERIFIED), hash-linked against neighbours held,
 * appended, merged into its record, indexed and counted in the collection
 * digest. results[i] says what happened to entry i (errors never abort the
 * others; if details is non-NULL, details[i] receives a message for errors).
 * Returns 0 when committed, -1 on a storage failure (err says why; nothing
 * of the batch was written). */
int store_apply(store *s, const store_input *in, size_t n, unsigned flags, apply_result *results,
                char (*details)[STORE_ERR_LEN], char *err, size_t errlen);

/* A replication marker: the sender vouches that every entry of origin
 * with from < seq' <= seq that the receiver should hold has been sent.
 * unit is the origin's unit code. */
typedef struct {
    const uint8_t *origin;
    uint64_t from, seq;
    const char *unit;
} store_mark;

/* store_apply plus markers, in the same transaction: after the entries,
 * each marker raises the origin's complete position (see
 * store_complete_get) to seq when it is at least `from` (so a marker never
 * bridges a gap, e.g. after the position was lowered), unless an entry of
 * that origin in this batch was refused. */
int store_apply_marked(store *s, const store_input *in, size_t n, const store_mark *marks,
                       size_t nmarks, unsigned flags, apply_result *results,
                       char (*details)[STORE_ERR_LEN], char *err, size_t errlen);

/* ---- Replication positions --------------------------------------------------- */

/* The complete position of an origin: every entry of it up to seq that this
 * node should hold is held (raised by markers, and by holding a contiguous
 * prefix 1..seq). unit (33 bytes) receives the origin's unit code. Returns
 * 0, 1 when nothing is known of the origin, -1 on error. */
int store_complete_get(store *s, const uint8_t origin[ENTRY_KEY_BYTES], uint64_t *seq, char *unit);

/* Lowers, in one transaction, the complete position of every origin for
 * which lower(ctx, origin, unit) returns true (lower NULL: every origin)
 * to what the node holds without any marker: the contiguous prefix 1..N
 * when it holds one, else 0. Records view (UNIT_VIEW_BYTES, see
 * replication/unit_tree.h) as the view the remaining positions are valid
 * for. Used when the unit tree changed so that the node should now hold
 * entries it was told it had all of. Returns how many positions went
 * down, or -1 with err. */
int store_complete_lower(store *s,
                         bool (*lower)(void *ctx, const uint8_t *origin, const char *unit),
                         void *ctx, const uint8_t view[16], char *err, size_t errlen);

/* The view recorded by the last store_complete_lower. Returns 0, 1 when
 * none was recorded, -1 on error. */
int store_complete_view(store *s, uint8_t view[16]);

/* Calls fn for every origin with a complete position, in key order. */
int store_completes(store *s,
                    int (*fn)(void *ctx, const uint8_t *origin, uint64_t seq, const char *unit),
                    void *ctx);

/* Calls fn for every stored entry of origin with after < seq <= upto, in
 * seq order; stops when fn returns non-zero. Bytes valid during the call. */
int store_scan_origin(store *s, const uint8_t origin[ENTRY_KEY_BYTES], uint64_t after,
                      uint64_t upto,
                      int (*fn)(void *ctx, uint64_t seq, const uint8_t *bytes, size_t len),
                      void *ctx);

/* ---- Local writes -------------------------------------------------------- */

typedef struct {
    const uint8_t *pk; /* ENTRY_KEY_BYTES public key */
    const uint8_t *sk; /* ENTRY_SECRET_BYTES secret key */
    const char *unit;  /* the node's unit code */
} store_author;

typedef struct {
    const char *coll;
    const char *id;
    entry_op op;
    const uint8_t *body; /* packed msgpack map, NULL for {} */
    size_t body_len;
    const char *const *to;
    size_t to_count;
} store_write;

/* What a failed store_write_local returns (err says why and what to do). */
#define STORE_FAILED (-1)  /* the store failed: disk full, I/O, read-only, own log incomplete */
#define STORE_REFUSED (-2) /* the rules refused an entry: write authority, this node's key */
#define STORE_INVALID (-3) /* an entry cannot be built: names, size, nesting of its body */
#define STORE_HELD (-4)    /* local writes of this author are held (store_hold_local) */

/* The body store_write_local would sign for w written as unit with this
 * HLC (its creation place added, storage/authority.h): *out is a new body
 * (free it), or NULL when w's body is signed as it is. For callers that
 * sign entries themselves (the simulator's skewed clocks). Returns 0, or
 * -1 on a storage failure. */
int store_place_body(store *s, const store_write *w, const char *unit, uint64_t hlc, uint8_t **out,
                     size_t *outlen);

/* Builds, signs and applies n local entries in one transaction: each gets
 * the author's next seq, the hash of its previous entry and a fresh HLC.
 * If seqs is non-NULL, seqs[i] receives entry i's seq. Returns 0 when
 * committed, or STORE_FAILED, STORE_REFUSED or STORE_INVALID (err says
 * why, nothing written). */
int store_write_local(store *s, const store_author *a, const store_write *w, size_t n,
                      uint64_t *seqs, char *err, size_t errlen);

/* Holds, in this process, every store_write_local signed by key pk
 * (ENTRY_KEY_BYTES): they fail with STORE_HELD and why as their message,
 * writing nothing, until store_hold_local(s, NULL, NULL) releases them.
 * A node restored from a backup holds its own key's writes until it has
 * caught up its own log (node/restore_gate.h). Thread-safe. */
void store_hold_local(store *s, const uint8_t *pk, const char *why);

/* The error kind of a store_write_local result: LT_OK, LT_ESTORAGE,
 * LT_EFORBIDDEN, LT_EINVAL or LT_EUNAVAILABLE (held). */
lt_errkind store_write_errkind(int rc);

/* ---- Reading ------------------------------------------------------------- */

typedef struct {
    uint8_t origin[ENTRY_KEY_BYTES];
    uint64_t max_seq; /* highest seq held */
    uint64_t count;   /* entries held (may be < max_seq if partial) */
    bool equivocated; /* proven to have signed two entries for one seq */
} store_origin;

/* Calls fn for every origin held, in key order. Stops early if fn returns
 * non-zero and returns that value; returns -1 on a storage error. */
int store_origins(store *s, int (*fn)(void *ctx, const store_origin *o), void *ctx);

/* Fills *o for one origin. Returns 0, 1 when unknown, -1 on error. */
int store_origin_get(store *s, const uint8_t origin[ENTRY_KEY_BYTES], store_origin *o);

/* Calls fn for every collection with its live record count and digest. */
int store_collections(store *s,
                      int (*fn)(void *ctx, const char *coll, uint64_t live,
                                const uint8_t digest[STORE_DIGEST_BYTES]),
                      void *ctx);

/* Calls fn with the bytes of every stored entry, ordered by (origin, seq);
 * origin may be NULL for all. Bytes are valid only during the call. */
int store_log_scan(store *s, const uint8_t *origin,
                   int (*fn)(void *ctx, const uint8_t *bytes, size_t len), void *ctx);

/* Copies entry (origin, seq) into *bytes (malloc'd). 0, 1 if absent, -1. */
int store_entry_get(store *s, const uint8_t origin[ENTRY_KEY_BYTES], uint64_t seq, uint8_t **bytes,
                    size_t *len);

/* Total entries held (all origins). */
uint64_t store_entry_count(store *s);

/* The arrival counter: increases by one for every entry added to this
 * store, whichever process added it. Cheap; used to notice new entries. */
uint64_t store_arrival_last(store *s);

/* Calls fn for entries that arrived after position `after`, in arrival
 * order, with their arrival position. */
int store_arrivals(store *s, uint64_t after,
                   int (*fn)(void *ctx, uint64_t pos, const uint8_t *bytes, size_t len), void *ctx);

/* Copies the materialised record coll/id (canonical msgpack, see record.h).
 * Returns 0, 1 when absent, -1 on error. */
int store_record_get(store *s, const char *coll, const char *id, uint8_t **bytes, size_t *len);

/* Calls fn for every record of coll in id order, deleted ones included
 * (record_is_deleted tells). */
int store_records(store *s, const char *coll,
                  int (*fn)(void *ctx, const char *id, size_t idlen, const uint8_t *rec,
                            size_t reclen),
                  void *ctx);

/* Calls fn for every record of coll whose owner unit is `unit`. */
int store_records_by_unit(store *s, const char *unit, const char *coll,
                          int (*fn)(void *ctx, const char *id, size_t idlen), void *ctx);

/* Who a record concerns, for visibility: fn gets each unit of its owner
 * set (owner true: the unit of its first put and every "owner_unit" given
 * to it; on a store without a network config, its creator's unit) and
 * each addressee any of its entries had (owner false: "*", "U*" or "U").
 * Returns 0, 1 when the record is absent, -1 on error. */
int store_record_scope(store *s, const char *coll, const char *id,
                       int (*fn)(void *ctx, bool owner, const char *unit), void *ctx);

/* Calls fn for every equivocation proof held: the entry first stored and the
 * conflicting one. */
int store_equivocations(store *s,
                        int (*fn)(void *ctx, const uint8_t *held, size_t held_len,
                                  const uint8_t *other, size_t other_len),
                        void *ctx);

/* ---- Quarantine (entries refused by write authority) --------------------- */

typedef struct {
    const uint8_t *hash; /* the entry's BLAKE2b-256 */
    bool waiting;        /* re-examined when what it lacks arrives */
    uint64_t at_ms;      /* wall time it was (last) examined */
    const char *reason;  /* why, for admins; reason_len bytes, not NUL-terminated */
    size_t reason_len;
    const uint8_t *bytes; /* the entry as received */
    size_t len;
} store_quarantined;

/* Calls fn for every quarantined entry, in hash order, from one snapshot;
 * stops when fn returns non-zero and returns that value (-1: storage
 * error). Pointers are valid during the call only. */
int store_quarantine_scan(store *s, int (*fn)(void *ctx, const store_quarantined *q), void *ctx);

/* ---- Blobs ----------------------------------------------------------------- */

#define STORE_BLOB_MAX (32u * 1024u * 1024u)

/* Stores data content-addressed; hash receives its BLAKE2b-256. Storing the
 * same content twice is a no-op. Returns 0 or -1 (err: e.g. too large). */
int store_blob_put(store *s, const uint8_t *data, size_t len, uint8_t hash[32], char *err,
                   size_t errlen);

/* Reads a blob into a malloc'd buffer. Returns 0, 1 when absent, -1. */
int store_blob_get(store *s, const uint8_t hash[32], uint8_t **data, size_t *len);

/* ---- Node-local data --------------------------------------------------------- */

/* A small key-value space of this node alone: never signed, logged,
 * replicated, exported or verified (accounts, sessions, API tokens). table
 * names a namespace ([a-z_]{1,32}); keys are 1..STORE_LOCAL_KEY_MAX bytes.
 * Each write is one durable transaction, like every other write. */
#define STORE_LOCAL_KEY_MAX 256

/* Sets table/key to val. Returns 0, or -1 with err. */
int store_local_put(store *s, const char *table, const void *key, size_t klen, const void *val,
                    size_t vlen, char *err, size_t errlen);

/* Raises the counter table/key (a decimal string; absent = 0) by one in
 * one write transaction and gives the new value in *value, so concurrent
 * callers (threads or processes) never get the same number. Returns 0, or
 * -1 with err (nothing changed). */
int store_local_incr(store *s, const char *table, const void *key, size_t klen, uint64_t *value,
                     char *err, size_t errlen);

/* Raises the counter table/key (as store_local_incr keeps it) by `by` in
 * one write transaction and gives the new value in *value: the numbers
 * *value-by+1..*value are the caller's alone (a block handed out from
 * memory, one durable write for many). Returns 0, or -1 with err. */
int store_local_add(store *s, const char *table, const void *key, size_t klen, uint64_t by,
                    uint64_t *value, char *err, size_t errlen);

/* Raises the counter table/key (as store_local_incr keeps it) to at least
 * at_least in one write transaction; a counter already there stays. So a
 * number taken from elsewhere (an imported tracking code) is never handed
 * out again by store_local_incr. Returns 0, or -1 with err. */
int store_local_raise(store *s, const char *table, const void *key, size_t klen, uint64_t at_least,
                      char *err, size_t errlen);

/* Copies table/key's value into *val (malloc'd, NUL-terminated beyond
 * *vlen). Returns 0, 1 when absent, -1 on error. */
int store_local_get(store *s, const char *table, const void *key, size_t klen, uint8_t **val,
                    size_t *vlen);

/* Removes table/key. Returns 0, 1 when absent, -1 on error. */
int store_local_del(store *s, const char *table, const void *key, size_t klen);

/* Calls fn for every key of table in key order; stops when fn returns
 * non-zero and returns that value (-1 on a storage error). Bytes are valid
 * only during the call; fn must not write to the store. */
int store_local_scan(store *s, const char *table,
                     int (*fn)(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val,
                               size_t vlen),
                     void *ctx);

/* ---- Checking -------------------------------------------------------------- */

/* Checks every stored entry (shape, signature, hash links with neighbours
 * held) and compares the materialised records and digests with a fresh
 * replay of the log into a scratch store under scratch_dir. Calls on_problem for
 * each problem found. Returns the number of problems, or -1 on error. */
long store_verify(store *s, const char *scratch_dir, void (*on_problem)(void *ctx, const char *msg),
                  void *ctx, char *err, size_t errlen);

#endif
