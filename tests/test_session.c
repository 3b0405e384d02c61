/*
 * test_session.c - the replication session between real nodes (real LMDB
 * stores, real keys and certificates) connected in memory: handshake,
 * catch-up in both directions, routing (a commune gets what is addressed
 * to it and nothing of its neighbour's), relay through a district, resume
 * without duplicates, refusal of forged entries and of outsiders, and a
 * commune moved to another district while it was offline, and quiet
 * markers (no message per write for origins the link carries nothing of).
 */
#include "cli/demo_data.h"
#include "lib/hex.h"
#include "lib/mpjson.h"
#include "node/membership/network.h"
#include "replication/repl_node.h"
#include "storage/store_internal.h"
#include "tests/check.h"
#include "tests/node_fixture.h"

#include <sodium.h>
#include <string.h>
#include <sys/stat.h>

typedef fx_node tnode;

static bool deferred; /* run sessions with verification jobs */

static repl_session *open_session(tnode *n, bool initiator, uint64_t now)
{
    return fx_session(n, initiator, deferred, now);
}

static void sync_pair(tnode *lower, tnode *upper, uint64_t now)
{
    repl_session *a = open_session(lower, true, now), *b = open_session(upper, false, now);
    fx_shuttle(a, b, now);
    CHECKF(repl_session_state(a) == REPL_OPEN, "%s: %s", lower->c.unit, repl_session_error(a));
    CHECKF(repl_session_state(b) == REPL_OPEN, "%s: %s", upper->c.unit, repl_session_error(b));
    repl_session_free(a);
    repl_session_free(b);
}

static int digest_of(void *ctx, const char *coll, uint64_t live, const uint8_t *d)
{
    (void)live;
    if (!strcmp(coll, "reports"))
        memcpy(ctx, d, 32);
    return 0;
}

typedef struct {
    const uint8_t *origin;
    uint64_t seq;
} flip_target;

/* Flips one bit of a stored entry's signature (a forged entry). */
static int flip_txn(store *s, MDB_txn *txn, void *ctx)
{
    flip_target *t = ctx;
    uint8_t key[LOG_KEY_BYTES];
    store_log_key(key, t->origin, t->seq);
    MDB_val k = {LOG_KEY_BYTES, key}, v;
    int rc = mdb_get(txn, s->log, &k, &v);
    if (rc)
        return rc;
    uint8_t *copy = malloc(v.mv_size);
    memcpy(copy, v.mv_data, v.mv_size);
    copy[v.mv_size - 10] ^= 0x01; /* inside the signature: decodes, fails to verify */
    MDB_val nv = {v.mv_size, copy};
    rc = mdb_put(txn, s->log, &k, &nv, 0);
    free(copy);
    return rc;
}

/* A province and a commune in base/name; the commune has written n
 * reports titled title. */
static void pair_make(const char *base, const char *name, tnode *p, tnode *c, int n,
                      const char *title)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", base, name);
    REQUIRE(mkdir(dir, 0700) == 0);
    fx_node_make(p, dir, "40", "province", NULL);
    fx_node_make(c, dir, "16681", "commune", p);
    for (int i = 0; i < n; i++) {
        char id[16];
        snprintf(id, sizeof id, "PA-%d", i);
        fx_write(c, "reports", id, title, NULL);
    }
}

/* A forged entry inside an authenticated batch closes the link and none
 * of the batch is applied. */
static void test_forged_batch(const char *base)
{
    tnode p, c;
    char err[256];
    pair_make(base, "forged", &p, &c, 5, "Ổ gà");
    store_origin o;
    REQUIRE(store_origin_get(c.s, c.c.pk, &o) == 0);
    flip_target t = {c.c.pk, o.max_seq - 1};
    REQUIRE(store_txn_write(c.s, flip_txn, &t, err, sizeof err) == 0);
    uint64_t before = store_entry_count(p.s), now = hlc_wall_ms();
    repl_session *a = open_session(&c, true, now), *b = open_session(&p, false, now);
    fx_shuttle(a, b, now);
    CHECK(repl_session_state(b) == REPL_CLOSED);
    CHECKF(strstr(repl_session_error(b), "nothing of the batch was applied") ||
               strstr(repl_session_error(b), "nothing applied"),
           "%s", repl_session_error(b));
    CHECKF(store_entry_count(p.s) == before, "%llu != %llu",
           (unsigned long long)store_entry_count(p.s), (unsigned long long)before);
    repl_session_free(a);
    repl_session_free(b);
    fx_node_free(&p);
    fx_node_free(&c);
}

/* A sender that replays: its scan ignores where the link stands and starts
 * from the origin's first entry, so old entries travel again. */
static int replay_scan(void *ctx, const uint8_t *origin, uint64_t after, uint64_t upto,
                       int (*fn)(void *fctx, uint64_t seq, const uint8_t *bytes, size_t len),
                       void *fctx)
{
    (void)after;
    return repl_node_ops.scan(ctx, origin, 0, upto, fn, fctx);
}

/* Replayed entries inside an authenticated session are duplicates: the
 * link stays open and nothing changes but the one new entry. */
static void test_replayed_batch(const char *base)
{
    tnode p, c;
    pair_make(base, "replayed", &p, &c, 5, "Ổ gà");
    uint64_t now = hlc_wall_ms();
    sync_pair(&c, &p, now);
    CHECK(fx_has(&p, "reports", "PA-4"));
    fx_write(&c, "reports", "PA-5", "Ổ gà mới", NULL);
    uint64_t before = store_entry_count(p.s);
    repl_store_ops replay = repl_node_ops;
    replay.scan = replay_scan;
    repl_session *a = fx_session_ops(&c, &replay, true, deferred, now);
    repl_session *b = open_session(&p, false, now);
    fx_shuttle(a, b, now);
    repl_stats st;
    repl_session_stats(b, &st);
    CHECKF(repl_session_state(b) == REPL_OPEN, "%s", repl_session_error(b));
    CHECKF(st.entries_received >= 6, "only %llu entries arrived: nothing was replayed",
           (unsigned long long)st.entries_received);
    CHECKF(store_entry_count(p.s) == before + 1, "%llu != %llu + 1",
           (unsigned long long)store_entry_count(p.s), (unsigned long long)before);
    CHECK(fx_has(&p, "reports", "PA-5"));
    uint8_t dc[32] = {0}, dp[32] = {1};
    store_collections(c.s, digest_of, dc);
    store_collections(p.s, digest_of, dp);
    CHECK(!memcmp(dc, dp, 32));
    repl_session_free(a);
    repl_session_free(b);
    fx_node_free(&p);
    fx_node_free(&c);
}

/* A scan that counts the entries it hands on (test_pending_down). */
static uint64_t counted_entries;
static int (*counted_fn)(void *fctx, uint64_t seq, const uint8_t *bytes, size_t len);

static int count_one(void *fctx, uint64_t seq, const uint8_t *bytes, size_t len)
{
    counted_entries++;
    return counted_fn(fctx, seq, bytes, len);
}

static int counting_scan(void *ctx, const uint8_t *origin, uint64_t after, uint64_t upto,
                         int (*fn)(void *fctx, uint64_t seq, const uint8_t *bytes, size_t len),
                         void *fctx)
{
    counted_fn = fn;
    return repl_node_ops.scan(ctx, origin, after, upto, count_one, fctx);
}

/* On a down link, the log of a commune below the peer is never sent back
 * to the peer: counting what is left to send must not read it. The old
 * count read it whole on every call (a province relaying a busy commune
 * read hundreds of thousands of entries a second for its status file). */
static void test_pending_down(const char *base)
{
    tnode p, d, c, c2;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/pending-down", base);
    REQUIRE(mkdir(dir, 0700) == 0);
    fx_tree4(dir, &p, &d, &c, &c2);
    uint64_t now = hlc_wall_ms();
    sync_pair(&c, &d, now);
    sync_pair(&d, &p, now);
    repl_store_ops counting = repl_node_ops;
    counting.scan = counting_scan;
    repl_session *a = open_session(&d, true, now);
    repl_session *b = fx_session_ops(&p, &counting, false, deferred, now); /* the province's */
    fx_shuttle(a, b, now);
    REQUIRE(repl_session_state(b) == REPL_OPEN);
    for (int i = 0; i < 200; i++) {
        char id[16];
        snprintf(id, sizeof id, "PD-%d", i);
        fx_write(&c, "reports", id, "Ổ gà trên đường", NULL);
    }
    sync_pair(&c, &d, now);
    sync_pair(&d, &p, now);                 /* over another link: b learns of them when it counts */
    CHECK(fx_has(&p, "reports", "PD-199")); /* barrier: the province holds them */
    uint64_t entries = 99, bytes = 99;
    counted_entries = 0;
    REQUIRE(repl_session_pending(b, &entries, &bytes) == 0);
    CHECKF(entries == 0, "%llu entries to send back down", (unsigned long long)entries);
    CHECKF(counted_entries < 10, "counting read %llu entries of the commune's log",
           (unsigned long long)counted_entries);
    repl_session_free(a);
    repl_session_free(b);
    fx_node_free(&p);
    fx_node_free(&d);
    fx_node_free(&c);
    fx_node_free(&c2);
}

/* Moves every queued message from one session to the other. */
static void move_all(repl_session *from, repl_session *to, uint64_t now)
{
    const uint8_t *m;
    size_t len;
    while (repl_session_next_out(from, &m, &len))
        repl_session_recv(to, m, len, now);
}

/* repl_session_pending is exact: what it counts at a pause is what the
 * peer then receives beyond the batches already queued. */
static void test_pending_exact(const char *base)
{
    tnode p, c;
    pair_make(base, "pending", &p, &c, 0, "");
    uint64_t now = hlc_wall_ms();
    sync_pair(&c, &p, now);
    for (int i = 0; i < 100; i++) {
        char id[16];
        snprintf(id, sizeof id, "PA-%d", i);
        fx_write(&c, "reports", id, "Ổ gà trên đường", NULL);
    }
    repl_session *a = open_session(&c, true, now);
    repl_session *b = open_session(&p, false, now);
    uint64_t entries = 99, bytes = 99;
    CHECK(repl_session_pending(a, &entries, &bytes) == -1 && entries == 0); /* not open yet */
    repl_stats st;
    for (int round = 0; round < 10; round++) { /* handshake, positions: stop before batches */
        move_all(a, b, now);
        repl_session_stats(a, &st);
        if (st.entries_sent)
            break;
        move_all(b, a, now);
        repl_session_stats(a, &st);
        if (st.entries_sent)
            break;
    }
    uint64_t queued = st.entries_sent;
    REQUIRE(repl_session_pending(a, &entries, &bytes) == 0);
    CHECKF(queued > 0 && entries > 0 && queued + entries == 100,
           "queued %llu + pending %llu != 100 new entries", (unsigned long long)queued,
           (unsigned long long)entries);
    CHECK(bytes > entries * 100);
    fx_shuttle(a, b, now);
    repl_session_stats(b, &st);
    CHECKF(st.entries_received == queued + entries, "received %llu",
           (unsigned long long)st.entries_received);
    CHECK(repl_session_pending(a, &entries, &bytes) == 0 && entries == 0 && bytes == 0);
    CHECK(repl_session_pending(b, &entries, &bytes) == 0 && entries == 0);
    repl_session_free(a);
    repl_session_free(b);
    fx_node_free(&p);
    fx_node_free(&c);
}

/* The commune's complete position of the province's origin equals the
 * province's own: every marker for it arrived. */
static bool position_reached(tnode *p, tnode *c)
{
    store_origin o;
    uint64_t seq = 0;
    char unit[64];
    REQUIRE(store_origin_get(p->s, p->c.pk, &o) == 0);
    return store_complete_get(c->s, p->c.pk, &seq, unit) == 0 && seq == o.max_seq;
}

/* Quiet markers (docs/protocol.md): writes the link carries nothing of
 * send no message until the writes pause (marks_idle_ms, 200 ms) or the
 * first waited marks_max_ms (2 s); then one marker covers them all. An
 * entry for the peer leaves at once and takes the waiting marker along. */
static void test_quiet_markers(const char *base)
{
    tnode p, c;
    pair_make(base, "quiet", &p, &c, 0, "");
    uint64_t now = hlc_wall_ms();
    repl_session *a = open_session(&c, true, now), *b = open_session(&p, false, now);
    fx_shuttle(a, b, now);
    REQUIRE(repl_session_state(a) == REPL_OPEN && repl_session_state(b) == REPL_OPEN);
    repl_session_tick(b, now + 300); /* whatever the catch-up left waiting */
    fx_shuttle(a, b, now + 300);
    now += 300;
    repl_stats st;
    for (int i = 0; i < 3; i++) { /* tasks of the province's own, not for the commune */
        char id[16];
        snprintf(id, sizeof id, "T-Q%d", i);
        repl_session_tick(b, now + 100 * (uint64_t)i);
        fx_write(&p, "tasks", id, "Việc nội bộ", NULL);
        repl_session_notify(b);
        CHECKF(!repl_session_want_write(b), "a message for write %d the link carries nothing of",
               i);
    }
    repl_session_stats(b, &st);
    CHECKF(st.marks_waiting == 1, "%llu origins waiting", (unsigned long long)st.marks_waiting);
    CHECK(!position_reached(&p, &c));
    repl_session_tick(b, now + 200 + 199); /* 199 ms after the last write */
    CHECK(!repl_session_want_write(b));
    repl_session_tick(b, now + 200 + 200); /* the writes paused 200 ms */
    CHECK(repl_session_want_write(b));
    CHECKF(fx_shuttle(a, b, now + 400) == 2, "one batch of markers and its ack");
    CHECK(position_reached(&p, &c));
    repl_session_stats(b, &st);
    CHECK(st.marks_waiting == 0);
    now += 400;

    /* writes that never pause: the marker goes once the first waited 2 s */
    for (uint64_t t = 0; t < 2000; t += 100) {
        char id[16];
        snprintf(id, sizeof id, "T-R%llu", (unsigned long long)t);
        repl_session_tick(b, now + t);
        fx_write(&p, "tasks", id, "Việc nội bộ", NULL);
        repl_session_notify(b);
        CHECKF(!repl_session_want_write(b), "a message %llu ms into steady writes",
               (unsigned long long)t);
    }
    repl_session_tick(b, now + 2000);
    CHECK(repl_session_want_write(b));
    fx_shuttle(a, b, now + 2000);
    CHECK(position_reached(&p, &c));
    now += 2000;

    /* a quiet write, then an entry for the commune: both at once */
    fx_write(&p, "tasks", "T-S", "Việc nội bộ", NULL);
    repl_session_notify(b);
    CHECK(!repl_session_want_write(b));
    fx_write(&p, "documents", "9/TB-UBND", "Thông báo cho phường", "16681");
    repl_session_notify(b);
    CHECK(repl_session_want_write(b));
    fx_shuttle(a, b, now);
    CHECK(fx_has(&c, "documents", "9/TB-UBND"));
    CHECK(!fx_has(&c, "tasks", "T-S"));
    CHECK(position_reached(&p, &c));
    repl_session_stats(b, &st);
    CHECK(st.marks_waiting == 0);
    repl_session_free(a);
    repl_session_free(b);
    fx_node_free(&p);
    fx_node_free(&c);
}

/* The root moves unit `unit` under `parent` (a put of its "units" record,
 * addressed to everyone) and reloads its tree. */
static void move_unit(tnode *root, const char *unit, const char *parent, const char *tier)
{
    char err[256];
    uint8_t *body;
    size_t len;
    json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "code", unit, "name", unit, "parent", parent,
                          "tier", tier);
    REQUIRE(mpjson_pack_object(j, &body, &len, err, sizeof err) == 0);
    json_decref(j);
    const char *everyone[1] = {"*"};
    store_write w = {"units", unit, ENTRY_OP_PUT, body, len, everyone, 1};
    store_author a = node_author(&root->c);
    CHECKF(store_write_local(root->s, &a, &w, 1, NULL, err, sizeof err) == 0, "%s", err);
    free(body);
    CHECKF(repl_node_reload(&root->rn, err, sizeof err) == 0, "%s", err);
}

/* What one side of a link reported, after any message, about waiting for
 * a unit tree (repl_stats.waiting_for_tree): in news mode, or in full mode
 * with markers that do not count yet; and what it reports at the end. */
typedef struct {
    bool news, views;
    repl_stats last;
} wait_seen;

static void wait_note(repl_session *s, wait_seen *w)
{
    repl_session_stats(s, &w->last);
    if (!w->last.positioned || !w->last.waiting_for_tree || !w->last.wait_reason[0])
        return;
    if (w->last.news)
        w->news = true;
    else
        w->views = true;
}

/* sync_pair, one message at a time (verification inline), noting after each
 * what both sides report in wl (lower) and wu (upper). */
static void sync_pair_noting(tnode *lower, tnode *upper, uint64_t now, wait_seen *wl, wait_seen *wu)
{
    REQUIRE(!deferred);
    memset(wl, 0, sizeof *wl);
    memset(wu, 0, sizeof *wu);
    repl_session *a = open_session(lower, true, now), *b = open_session(upper, false, now);
    for (bool progress = true; progress;) {
        const uint8_t *m;
        size_t len;
        progress = false;
        if (repl_session_next_out(a, &m, &len)) {
            repl_session_recv(b, m, len, now);
            progress = true;
        }
        wait_note(a, wl);
        wait_note(b, wu);
        if (repl_session_next_out(b, &m, &len)) {
            repl_session_recv(a, m, len, now);
            progress = true;
        }
        wait_note(a, wl);
        wait_note(b, wu);
    }
    CHECKF(repl_session_state(a) == REPL_OPEN, "%s: %s", lower->c.unit, repl_session_error(a));
    CHECKF(repl_session_state(b) == REPL_OPEN, "%s: %s", upper->c.unit, repl_session_error(b));
    repl_session_free(a);
    repl_session_free(b);
}

/* Once synced, a side reports full mode and no wait. */
static bool wait_over(const wait_seen *w)
{
    return w->last.positioned && !w->last.news && !w->last.waiting_for_tree &&
           !w->last.wait_reason[0];
}

/* The tree of the move tests in base/name: province 40 with districts 412
 * and 413, commune 16681 under 412 (it moves to 413). */
static void move_tree(const char *base, const char *name, tnode *p, tnode *d1, tnode *d2, tnode *c)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/%s", base, name);
    REQUIRE(mkdir(dir, 0700) == 0);
    fx_node_make(p, dir, "40", "province", NULL);
    fx_node_make(d1, dir, "412", "district", p);
    fx_node_make(d2, dir, "413", "district", p);
    fx_node_make(c, dir, "16681", "commune", d1);
}

/* Commune 16681 moves from district 412 to 413 while it is switched off.
 * Dialling 413, which it still thinks unrelated, it learns the move over
 * that link (membership news), lowers its positions and then receives what
 * its new district's subtree was sent before the move; the link to its old
 * district closes once both sides know. */
static void test_move_offline(const char *base)
{
    tnode p, d1, d2, c;
    move_tree(base, "move", &p, &d1, &d2, &c);
    fx_write(&p, "documents", "D-413", "Cho huyện 413", "413*");
    fx_write(&c, "reports", "R-1", "Báo cáo trước khi sáp nhập", NULL);
    uint64_t now = hlc_wall_ms();
    sync_pair(&c, &d1, now);
    sync_pair(&d1, &p, now);
    sync_pair(&d2, &p, now);
    sync_pair(&c, &d1, now);
    CHECK(!fx_has(&c, "documents", "D-413"));
    CHECK(!fx_has(&d2, "reports", "R-1"));

    move_unit(&p, "16681", "413", "commune");
    wait_seen wl, wu;
    sync_pair_noting(&d2, &p, now, &wl, &wu); /* 413 learns: 16681 is now inside its subtree */
    /* until 413 learns, the province's markers (chosen with 16681 in 413's
     * subtree) cannot count there: the sync status says so, then clears */
    CHECKF(wu.views && !wu.news, "province: views %d news %d", wu.views, wu.news);
    CHECK(!wl.news);
    CHECKF(wait_over(&wl) && wait_over(&wu), "still waiting: %s / %s", wl.last.wait_reason,
           wu.last.wait_reason);
    uint64_t seq = 0;
    char unit[33];
    CHECK(store_complete_get(d2.s, c.c.pk, &seq, unit) != 0 || seq == 0);
    /* the commune, still unaware, dials its new district: news only, both
     * sides say they wait for a tree, until the move reached the commune */
    sync_pair_noting(&c, &d2, now, &wl, &wu);
    CHECK(wl.news && wu.news);
    CHECKF(wait_over(&wl) && wait_over(&wu), "still waiting: %s / %s", wl.last.wait_reason,
           wu.last.wait_reason);
    CHECK(fx_has(&c, "units", "16681"));
    CHECK(fx_has(&c, "documents", "D-413"));
    CHECK(fx_has(&d2, "reports", "R-1"));
    sync_pair(&d2, &p, now);
    CHECK(fx_has(&p, "reports", "R-1"));

    /* the old district learns too; then the two refuse each other */
    sync_pair(&d1, &p, now);
    repl_session *a = open_session(&c, true, now), *b = open_session(&d1, false, now);
    fx_shuttle(a, b, now);
    CHECK(repl_session_state(a) == REPL_CLOSED && repl_session_state(b) == REPL_CLOSED);
    CHECKF(strstr(repl_session_error(b), "is neither an ancestor") != NULL, "%s",
           repl_session_error(b));
    repl_session_free(a);
    repl_session_free(b);
    fx_node_free(&c);
    fx_node_free(&d2);
    fx_node_free(&d1);
    fx_node_free(&p);
}

/* Lowers every complete position of n to what it holds without markers,
 * as a reload lowers them when a unit it could not place moved into its
 * subtree, and reloads its replication state. */
static void lower_all(tnode *n)
{
    char err[256];
    uint8_t view[UNIT_VIEW_BYTES];
    unit_tree_view(n->rn.tree, n->c.unit, view);
    CHECKF(store_complete_lower(n->s, NULL, NULL, view, err, sizeof err) >= 0, "%s", err);
    CHECKF(repl_node_reload(&n->rn, err, sizeof err) == 0, "%s", err);
}

/* True when n's tree places unit under parent. */
static bool placed_under(tnode *n, const char *unit, const char *parent)
{
    char par[64];
    return unit_tree_parent(n->rn.tree, unit, par, sizeof par) && !strcmp(par, parent);
}

/* Issue 20: the commune moved while offline dials its new district; both
 * hold the root's log with gaps and their positions for it are 0 (lowered
 * by earlier moves, not refilled yet). The news must still carry the move:
 * a session scans every origin its node holds, not only those with a
 * position above 0, or the link stays quiet in news mode for ever. */
static void test_move_news_at_zero(const char *base)
{
    tnode p, d1, d2, c;
    move_tree(base, "move-zero", &p, &d1, &d2, &c);
    /* each district misses one document of the root's: their logs of it have gaps */
    fx_write(&p, "documents", "D-412", "Cho huyện 412", "412*");
    fx_write(&p, "documents", "D-413", "Cho huyện 413", "413*");
    fx_write(&p, "documents", "D-all", "Cho mọi đơn vị", "*");
    uint64_t now = hlc_wall_ms();
    sync_pair(&d1, &p, now);
    sync_pair(&d2, &p, now);
    sync_pair(&c, &d1, now);
    REQUIRE(fx_has(&c, "documents", "D-all") && !fx_has(&c, "documents", "D-413"));

    move_unit(&p, "16681", "413", "commune");
    sync_pair(&d2, &p, now);
    REQUIRE(placed_under(&d2, "16681", "413") && !placed_under(&c, "16681", "413"));
    lower_all(&d2);
    lower_all(&c);
    uint64_t seq_d2 = 99, seq_c = 99;
    char unit[33];
    CHECK(store_complete_get(d2.s, p.c.pk, &seq_d2, unit) == 0 && seq_d2 == 0);
    CHECK(store_complete_get(c.s, p.c.pk, &seq_c, unit) == 0 && seq_c == 0);

    wait_seen wl, wu;
    sync_pair_noting(&c, &d2, now, &wl, &wu);
    CHECK(wl.news && wu.news);
    CHECK(placed_under(&c, "16681", "413"));
    CHECKF(wait_over(&wl) && wait_over(&wu), "still waiting: %s / %s", wl.last.wait_reason,
           wu.last.wait_reason);
    /* the district forwards what its position vouches for once its parent refilled it */
    sync_pair(&d2, &p, now);
    sync_pair(&c, &d2, now);
    CHECK(fx_has(&c, "documents", "D-413"));
    fx_node_free(&c);
    fx_node_free(&d2);
    fx_node_free(&d1);
    fx_node_free(&p);
}

static int run(const char *base);

int main(void)
{
    REQUIRE(sodium_init() >= 0);
    const char *base = check_tmpdir();
    char dir[512];
    run(base);
    /* the same scenario with verification handed out as jobs */
    deferred = true;
    snprintf(dir, sizeof dir, "%s/deferred", base);
    REQUIRE(mkdir(dir, 0700) == 0);
    run(dir);
    deferred = false;
    test_forged_batch(base);
    deferred = true;
    snprintf(dir, sizeof dir, "%s/deferred-forged", base);
    REQUIRE(mkdir(dir, 0700) == 0);
    test_forged_batch(dir);
    deferred = false;
    test_replayed_batch(base);
    test_pending_exact(base);
    test_pending_down(base);
    test_quiet_markers(base);
    test_move_offline(base);
    test_move_news_at_zero(base);
    return check_done();
}

static int run(const char *base)
{
    tnode p, d, c1, c2, d2, c3;
    fx_tree4(base, &p, &d, &c1, &c2);
    fx_node_make(&d2, base, "413", "district", &p);
    fx_node_make(&c3, base, "16700", "commune", &d2);

    for (int i = 0; i < 40; i++) {
        char id[32];
        snprintf(id, sizeof id, "PA-16681-%02d", i);
        fx_write(&c1, "reports", id, "Đường ngập nước", NULL);
    }
    fx_write(&c2, "reports", "PA-16684-01", "Rác thải", NULL);
    fx_write(&d, "tasks", "T-1", "Giao việc cho phường Bến Thủy", "16681");
    fx_write(&p, "documents", "129/QĐ-UBND", "Quyết định", "*");
    fx_write(&p, "documents", "56/KH-UBND", "Kế hoạch cho xã Nghi Liên", "16684");
    /* to a commune of another district, which district 413 cannot place */
    fx_write(&d2, "documents", "7/CV-UBND", "Công văn gửi phường Bến Thủy", "16681");

    uint64_t now = hlc_wall_ms();
    sync_pair(&c1, &d, now);
    sync_pair(&c2, &d, now);
    sync_pair(&c3, &d2, now);
    sync_pair(&d2, &p, now);
    sync_pair(&d, &p, now);
    sync_pair(&c3, &d2, now);
    sync_pair(&c1, &d, now);
    sync_pair(&c2, &d, now);

    CHECK(fx_has(&d, "reports", "PA-16681-39"));
    CHECK(fx_has(&p, "reports", "PA-16681-00"));
    CHECK(fx_has(&p, "reports", "PA-16684-01"));
    CHECK(fx_has(&c1, "tasks", "T-1"));
    CHECK(!fx_has(&c2, "tasks", "T-1"));
    CHECK(fx_has(&c1, "documents", "129/QĐ-UBND"));
    CHECK(fx_has(&c2, "documents", "129/QĐ-UBND"));
    CHECK(!fx_has(&c1, "documents", "56/KH-UBND"));
    CHECK(fx_has(&c2, "documents", "56/KH-UBND"));
    CHECK(!fx_has(&c1, "reports", "PA-16684-01"));
    CHECK(fx_has(&c1, "documents", "7/CV-UBND"));
    CHECK(!fx_has(&c2, "documents", "7/CV-UBND"));
    CHECK(!fx_has(&c3, "documents", "7/CV-UBND"));
    /* membership is scoped: siblings, parents' siblings and the subtree */
    CHECK(fx_has(&c1, "units", "16684"));
    CHECK(fx_has(&c1, "units", "413"));
    CHECK(!fx_has(&c1, "units", "16700"));
    CHECK(!fx_has(&c3, "units", "16681"));
    CHECK(!fx_has(&d2, "units", "16681"));
    CHECK(fx_has(&p, "units", "16700"));

    uint8_t dc[32] = {0}, dp[32] = {1};
    store_collections(d.s, digest_of, dc);
    store_collections(p.s, digest_of, dp);
    CHECK(!memcmp(dc, dp, 32));

    /* a second sync moves nothing but handshake, positions and keep-alive */
    uint64_t before = store_entry_count(p.s);
    repl_session *a = open_session(&d, true, now), *b = open_session(&p, false, now);
    int moved = fx_shuttle(a, b, now);
    CHECKF(moved <= 6, "moved %d messages on an idle resync", moved);
    CHECK(store_entry_count(p.s) == before);

    /* live push: a new entry at the district reaches the open session */
    fx_write(&d, "tasks", "T-2", "Báo cáo", NULL);
    repl_session_notify(a);
    fx_shuttle(a, b, now);
    CHECK(fx_has(&p, "tasks", "T-2"));
    repl_session_free(a);
    repl_session_free(b);

    /* an outsider: a key with no certificate chain is refused */
    tnode x;
    memset(&x, 0, sizeof x);
    x.c = c1.c;
    crypto_sign_keypair(x.c.pk, x.c.sk);
    x.rn = c1.rn;
    memcpy(x.rn.pk, x.c.pk, 32);
    a = open_session(&x, true, now);
    b = open_session(&d, false, now);
    fx_shuttle(a, b, now);
    CHECK(repl_session_state(b) == REPL_CLOSED);
    CHECKF(strstr(repl_session_error(b), "refused") != NULL, "%s", repl_session_error(b));
    repl_session_free(a);
    repl_session_free(b);

    repl_node_release(&p.rn);
    repl_node_release(&d.rn);
    repl_node_release(&c1.rn);
    repl_node_release(&c2.rn);
    repl_node_release(&d2.rn);
    repl_node_release(&c3.rn);
    store_close(p.s);
    store_close(d.s);
    store_close(c1.s);
    store_close(c2.s);
    store_close(d2.s);
    store_close(c3.s);
    return 0;
}
