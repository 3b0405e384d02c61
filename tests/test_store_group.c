/*
 * test_store_group.c - group commit (storage/store_group.c): writes that
 * threads start while a commit is in flight share the next transaction.
 *
 * Gated: one write holds its transaction open until every other writer
 * has queued behind it; those then commit together in exactly one more
 * transaction, and a bad write among them (an entry that cannot be built,
 * a failing fn) fails alone while the others are committed. Unguided: many
 * threads write to this node's own log at once; fewer commits than writes,
 * every seq 1..N handed out once, and store_verify finds the log's hash
 * links and the records intact. Without grouping every write is its own
 * commit (commits == writes).
 */
#include "storage/store_internal.h"
#include "tests/check.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define QUEUED 6 /* writers that queue behind the gate */
#define BAD_WRITER 2
#define FAILING_WRITER 4
#define THREADS 8
#define WRITES 40

typedef struct {
    store *s;
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    uint8_t sk[crypto_sign_SECRETKEYBYTES];
} node_key;

/* Requests queued on s's write queue right now. */
static size_t queued(store *s)
{
    size_t n = 0;
    pthread_mutex_lock(&s->group_mutex);
    for (struct store_group_req *r = s->group_head; r; r = r->next)
        n++;
    pthread_mutex_unlock(&s->group_mutex);
    return n;
}

static atomic_bool gate_entered;

/* The gate's transaction: writes a row, then waits (inside the open
 * transaction) until QUEUED writers wait behind it. */
static int gate_fn(store *s, MDB_txn *txn, void *ctx)
{
    (void)ctx;
    MDB_val k = {6, "\0gate"}, v = {1, "g"};
    int rc = mdb_put(txn, s->local, &k, &v, 0);
    atomic_store(&gate_entered, true);
    while (queued(s) < QUEUED)
        sched_yield();
    return rc;
}

static char gate_err[STORE_ERR_LEN];
static int gate_rc;

static void *gate_run(void *arg)
{
    gate_rc = store_txn_write(arg, gate_fn, NULL, gate_err, sizeof gate_err);
    return NULL;
}

static int failing_fn(store *s, MDB_txn *txn, void *ctx)
{
    (void)ctx;
    MDB_val k = {8, "\0failing"}, v = {1, "f"};
    int rc = mdb_put(txn, s->local, &k, &v, 0);
    return rc ? rc : MDB_KEYEXIST; /* what a refused write returns */
}

typedef struct {
    node_key *key;
    int i;
    int rc;
    uint64_t seq;
    char err[STORE_ERR_LEN];
} queued_writer;

static void *queued_run(void *arg)
{
    queued_writer *q = arg;
    store *s = q->key->s;
    if (q->i == FAILING_WRITER) {
        q->rc = store_txn_write(s, failing_fn, NULL, q->err, sizeof q->err);
        return NULL;
    }
    char id[16];
    snprintf(id, sizeof id, "r%d", q->i);
    store_author a = {q->key->pk, q->key->sk, "hn"};
    store_write w = {q->i == BAD_WRITER ? "" : "notes", id, ENTRY_OP_PUT, NULL, 0, NULL, 0};
    q->rc = store_write_local(s, &a, &w, 1, &q->seq, q->err, sizeof q->err);
    return NULL;
}

static store *open_fresh(void)
{
    store_options o = {0};
    store *s = NULL;
    char err[STORE_ERR_LEN];
    CHECKF(store_open(&s, check_tmpdir(), &o, err, sizeof err) == 0, "%s", err);
    REQUIRE(s != NULL);
    return s;
}

static void test_gated(void)
{
    node_key key;
    key.s = open_fresh();
    crypto_sign_keypair(key.pk, key.sk);
    pthread_t gate, t[QUEUED];
    queued_writer q[QUEUED];
    atomic_store(&gate_entered, false);
    REQUIRE(pthread_create(&gate, NULL, gate_run, key.s) == 0);
    while (!atomic_load(&gate_entered))
        sched_yield();
    for (int i = 0; i < QUEUED; i++) {
        q[i] = (queued_writer){.key = &key, .i = i};
        REQUIRE(pthread_create(&t[i], NULL, queued_run, &q[i]) == 0);
    }
    pthread_join(gate, NULL);
    CHECKF(gate_rc == 0, "%s", gate_err);
    for (int i = 0; i < QUEUED; i++)
        pthread_join(t[i], NULL);

    store_commit_stats st;
    store_commit_stats_get(key.s, &st);
    CHECKF(st.commits == 2 && st.writes == 1 + QUEUED, "commits %llu writes %llu",
           (unsigned long long)st.commits, (unsigned long long)st.writes);
    CHECK(st.per_commit[0] == 1 && st.per_commit[3] == 1); /* 1, and 5..8 writes */
    bool seen[QUEUED] = {0};
    for (int i = 0; i < QUEUED; i++) {
        if (i == BAD_WRITER) {
            CHECKF(q[i].rc == STORE_INVALID && q[i].err[0], "bad writer: %d %s", q[i].rc, q[i].err);
        } else if (i == FAILING_WRITER) {
            CHECKF(q[i].rc == -1 && strstr(q[i].err, "MDB_KEYEXIST"), "failing: %d %s", q[i].rc,
                   q[i].err);
        } else {
            CHECKF(q[i].rc == 0, "writer %d: %s", i, q[i].err);
            REQUIRE(q[i].seq >= 1 && q[i].seq <= QUEUED);
            CHECK(!seen[q[i].seq - 1]);
            seen[q[i].seq - 1] = true;
        }
    }
    /* the good ones are held, the bad and the failing left nothing */
    CHECK(store_entry_count(key.s) == QUEUED - 2);
    for (int i = 0; i < QUEUED; i++) {
        char id[16];
        snprintf(id, sizeof id, "r%d", i);
        uint8_t *rec;
        size_t len;
        int rc = store_record_get(key.s, "notes", id, &rec, &len);
        CHECKF(rc == (i == BAD_WRITER || i == FAILING_WRITER ? 1 : 0), "record %s: %d", id, rc);
        if (!rc)
            free(rec);
    }
    MDB_txn *txn;
    REQUIRE(store_txn_read(key.s, &txn) == 0);
    MDB_val k = {6, "\0gate"}, f = {8, "\0failing"}, out;
    CHECK(mdb_get(txn, key.s->local, &k, &out) == 0);
    CHECK(mdb_get(txn, key.s->local, &f, &out) == MDB_NOTFOUND);
    store_txn_end(key.s, txn);
    store_close(key.s);
}

typedef struct {
    node_key *key;
    int t;
    uint64_t seqs[WRITES];
    int failures;
    char err[STORE_ERR_LEN];
} busy_writer;

static void *busy_run(void *arg)
{
    busy_writer *b = arg;
    store_author a = {b->key->pk, b->key->sk, "hn"};
    for (int i = 0; i < WRITES; i++) {
        char id[24];
        snprintf(id, sizeof id, "t%d-%d", b->t, i);
        store_write w = {"notes", id, ENTRY_OP_PUT, NULL, 0, NULL, 0};
        if (store_write_local(b->key->s, &a, &w, 1, &b->seqs[i], b->err, sizeof b->err))
            b->failures++;
    }
    return NULL;
}

static void on_problem(void *ctx, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "verify: %s\n", msg);
}

static void test_busy(void)
{
    node_key key;
    key.s = open_fresh();
    crypto_sign_keypair(key.pk, key.sk);
    static busy_writer b[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        b[i] = (busy_writer){.key = &key, .t = i};
        REQUIRE(pthread_create(&t[i], NULL, busy_run, &b[i]) == 0);
    }
    static bool seen[THREADS * WRITES];
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        CHECKF(b[i].failures == 0, "thread %d: %d failures, last: %s", i, b[i].failures, b[i].err);
        for (int j = 0; j < WRITES; j++) {
            uint64_t q = b[i].seqs[j];
            CHECKF(q >= 1 && q <= THREADS * WRITES && !seen[q - 1], "seq %llu",
                   (unsigned long long)q);
            if (q >= 1 && q <= THREADS * WRITES)
                seen[q - 1] = true;
        }
    }
    store_commit_stats st;
    store_commit_stats_get(key.s, &st);
    CHECKF(st.writes == THREADS * WRITES && st.commits < st.writes, "%llu commits for %llu writes",
           (unsigned long long)st.commits, (unsigned long long)st.writes);
    uint64_t hist = 0;
    for (size_t i = 0; i < STORE_GROUP_BUCKETS; i++)
        hist += st.per_commit[i];
    CHECK(hist == st.commits);
    printf("%d threads x %d writes: %llu commits\n", THREADS, WRITES,
           (unsigned long long)st.commits);
    CHECK(store_entry_count(key.s) == THREADS * WRITES);
    char err[STORE_ERR_LEN];
    long problems = store_verify(key.s, check_tmpdir(), on_problem, NULL, err, sizeof err);
    CHECKF(problems == 0, "%ld problems: %s", problems, err);
    store_close(key.s);
}

int main(void)
{
    REQUIRE(sodium_init() >= 0);
    test_gated();
    test_busy();
    return check_done();
}
