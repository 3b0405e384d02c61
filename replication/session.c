/*
 * session.c - the sans-IO replication session. See session.h for the API
 * and docs/protocol.md for the messages.
 *
 * Sending: the session keeps, per origin, this node's complete position
 * ("mine"), the peer's ("peer": from its pos message, raised when an ack
 * shows a marker counted) and a cursor: how far this link has considered
 * the origin. A batch is filled by scanning each vouchable origin's log
 * from its cursor, keeping the entries the routing rule sends over this
 * link and skipping the rest, and ends with markers for the cursors it
 * advanced. Nothing is held in memory beyond the batch being built: a
 * backlog of 100,000 entries costs only the cursors. Only positions that
 * changed are re-read (ops->positions), and only origins with something
 * left to consider are visited (the work list): with thousands of origins,
 * one write must not cost a pass over all of them on every link of the
 * network. When the unit tree changes, cursors restart from "peer" and
 * every origin is considered again (see tree_sync).
 *
 * Receiving: every entry of a batch is shape-checked and verified before
 * any is applied (a forged entry closes the link and applies nothing);
 * then entries and markers are applied in one transaction and acked.
 */
#include "replication/session.h"
#include "lib/hex.h"
#include "lib/mpjson.h"
#include "replication/chain.h"
#include "replication/msg.h"
#include "replication/outbox.h"
#include "storage/entry_run.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ORIGIN_UNIT_CAP 33
#define AUTH_CONTEXT "lienthong-repl.1 auth"

typedef struct {
    uint8_t origin[ENTRY_KEY_BYTES];
    uint64_t mine, peer, cursor;
    uint64_t marked; /* markers sent up to (at most the cursor) */
    uint64_t ahead;  /* membership news considered beyond the cursor, up to */
    char unit[ORIGIN_UNIT_CAP];
    bool used, vouch, queued; /* queued: on the work list */
    bool waiting;             /* on the list of quiet markers */
    bool ahead_done;          /* news scanned to the end of what is held */
} origin_slot;

/* The peer's position of an origin the link does not carry (an up link
 * outside this node's subtree): kept for repl_stats.to_receive and for
 * the slot the origin gets if the link comes to carry it. */
typedef struct {
    uint8_t origin[ENTRY_KEY_BYTES];
    uint64_t peer, mine;
} far_pos;

/* A batch sent and not acknowledged yet: its markers, to learn from the
 * ack how far the peer's positions went. */
typedef struct sent_mark {
    uint8_t origin[ENTRY_KEY_BYTES];
    uint64_t from, to;
} sent_mark;

typedef struct sent_batch {
    struct sent_batch *next;
    uint8_t view[UNIT_VIEW_BYTES];
    size_t n;
    sent_mark marks[];
} sent_batch;

typedef struct out_frame {
    struct out_frame *next;
    size_t len;
    uint8_t data[];
} out_frame;

struct repl_session {
    repl_config cfg;
    const repl_store_ops *ops;
    void *ctx;
    repl_state state;
    char error[256];
    char self_unit[ORIGIN_UNIT_CAP];
    /* handshake */
    uint8_t kx_pk[crypto_kx_PUBLICKEYBYTES], kx_sk[crypto_kx_SECRETKEYBYTES];
    uint8_t challenge[32];
    uint8_t peer_kx[crypto_kx_PUBLICKEYBYTES], peer_challenge[32];
    bool got_hello;
    crypto_secretstream_xchacha20poly1305_state tx, rx;
    bool tx_ready, rx_ready;
    /* origins */
    origin_slot *slots;
    size_t cap, used;
    uint8_t (*work)[ENTRY_KEY_BYTES]; /* origins that may have something to send, */
    size_t nwork, capwork;            /* in turn: a batch starts where the last filled */
    far_pos *far; /* sorted by origin, from the peer's pos (see slots_for_all) */
    size_t nfar;
    uint8_t (*quiet)[ENTRY_KEY_BYTES]; /* origins whose markers wait (see quiet_due) */
    size_t nquiet, capquiet;
    uint64_t quiet_first_ms, quiet_last_ms; /* when the first and the last joined */
    bool peer_pos_done;
    uint64_t mine_seen; /* the version of this node's positions last read */
    /* received batches waiting for verification or for their turn */
    struct rx_batch *rx_head, *rx_tail;
    uint64_t next_job_id, jobs_handed;
    /* the unit tree as this session last followed it (tree_sync) */
    repl_generation gen;
    uint8_t own_view[UNIT_VIEW_BYTES];     /* this node's view */
    uint8_t peer_view[UNIT_VIEW_BYTES];    /* the peer's own view, from its pos */
    uint8_t view_of_peer[UNIT_VIEW_BYTES]; /* the peer's view by this node's tree */
    uint8_t rx_view[UNIT_VIEW_BYTES];      /* this node's view in the peer's last marked batch */
    bool rx_view_set;                      /* since either tree last changed (a pos, tree_sync) */
    uint64_t news_ms;                      /* when the sides last made progress while disagreeing */
    /* flow */
    uint64_t next_batch_id;
    unsigned in_flight;
    sent_batch *sent_head, *sent_tail;
    out_frame *out_head, *out_tail, *out_cur;
    uint64_t last_recv_ms, last_send_ms, now_ms;
    repl_stats stats;
};

/* ---- small helpers ---------------------------------------------------------- */

static int session_fail(repl_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void queue_plain(repl_session *s, const uint8_t *data, size_t len);

/* Queues the finished message and releases its buffer. */
static void msg_send(repl_session *s, msg_out *m)
{
    queue_plain(s, (const uint8_t *)m->sb.data, m->sb.size);
    msg_release(m);
}

static void send_err(repl_session *s)
{
    msg_out msg;
    msgpack_packer *pk = msg_begin(&msg, "err", 1);
    msgpack_pack_str_with_body(pk, s->error, strlen(s->error));
    msg_send(s, &msg);
}

static int session_fail(repl_session *s, const char *fmt, ...)
{
    if (s->state == REPL_CLOSED)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->error, sizeof s->error, fmt, ap);
    va_end(ap);
    send_err(s);
    s->state = REPL_CLOSED;
    return -1;
}

/* Queues a message, encrypting it once the outgoing stream is set up. */
static void queue_plain(repl_session *s, const uint8_t *data, size_t len)
{
#ifdef LT_FUZZ
    if (repl_session_fuzz_tap)
        repl_session_fuzz_tap(data, len);
#endif
    size_t flen = s->tx_ready ? len + crypto_secretstream_xchacha20poly1305_ABYTES : len;
    out_frame *f = malloc(sizeof *f + flen);
    if (!f)
        return;
    f->next = NULL;
    f->len = flen;
    if (s->tx_ready)
        crypto_secretstream_xchacha20poly1305_push(
            &s->tx, f->data, NULL, data, len, NULL, 0,
            crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
    else
        memcpy(f->data, data, len);
    if (s->out_tail)
        s->out_tail->next = f;
    else
        s->out_head = f;
    s->out_tail = f;
    s->stats.bytes_sent += flen;
    s->last_send_ms = s->now_ms;
}

#ifdef LT_FUZZ
void (*repl_session_fuzz_tap)(const uint8_t *msg, size_t len);

void repl_session_fuzz_send(repl_session *s, const uint8_t *msg, size_t len)
{
    queue_plain(s, msg, len);
}
#endif

static void pack_bin(msgpack_packer *pk, const uint8_t *b, size_t n)
{
    msgpack_pack_bin(pk, n);
    msgpack_pack_bin_body(pk, b, n);
}

static void pack_cstr(msgpack_packer *pk, const char *str)
{
    msgpack_pack_str_with_body(pk, str, strlen(str));
}

static bool obj_is_str(const msgpack_object *o, const char *v)
{
    return o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(v) &&
           !memcmp(o->via.str.ptr, v, o->via.str.size);
}

static bool obj_is_bin(const msgpack_object *o, size_t n)
{
    return o->type == MSGPACK_OBJECT_BIN && o->via.bin.size == n;
}

static const msgpack_object *map_get(const msgpack_object *m, const char *key)
{
    if (m->type != MSGPACK_OBJECT_MAP)
        return NULL;
    for (uint32_t i = 0; i < m->via.map.size; i++)
        if (obj_is_str(&m->via.map.ptr[i].key, key))
            return &m->via.map.ptr[i].val;
    return NULL;
}

/* ---- the origin table --------------------------------------------------------- */

static uint64_t origin_hash(const uint8_t *o)
{
    uint64_t h;
    memcpy(&h, o, sizeof h);
    return h;
}

static origin_slot *origin_get(repl_session *s, const uint8_t *origin, bool create)
{
    if (create && 2 * (s->used + 1) > s->cap) {
        size_t ncap = s->cap ? 2 * s->cap : 64;
        origin_slot *n = calloc(ncap, sizeof *n);
        if (!n)
            return NULL;
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->slots[i].used)
                continue;
            size_t j = origin_hash(s->slots[i].origin) & (ncap - 1);
            while (n[j].used)
                j = (j + 1) & (ncap - 1);
            n[j] = s->slots[i];
        }
        free(s->slots);
        s->slots = n;
        s->cap = ncap;
    }
    if (!s->cap)
        return NULL;
    size_t i = origin_hash(origin) & (s->cap - 1);
    while (s->slots[i].used) {
        if (!memcmp(s->slots[i].origin, origin, ENTRY_KEY_BYTES))
            return &s->slots[i];
        i = (i + 1) & (s->cap - 1);
    }
    if (!create)
        return NULL;
    origin_slot *slot = &s->slots[i];
    memset(slot, 0, sizeof *slot);
    slot->used = true;
    memcpy(slot->origin, origin, ENTRY_KEY_BYTES);
    s->used++;
    return slot;
}

/* True when membership news travel ahead of the markers on this link:
 * always in news mode, and down or to a mirror (see send_batch). */
static bool news_ahead(const repl_session *s)
{
    return s->stats.news || s->stats.kind == LINK_DOWN || s->stats.kind == LINK_MIRROR;
}

/* True when o's log from the cursor up to this node's complete position
 * is still to be considered for the peer (not in news mode). */
static bool log_wanted(const repl_session *s, const origin_slot *o)
{
    return !s->stats.news && o->vouch && o->mine > o->cursor;
}

/* True when o has membership news left to scan beyond what is vouched for
 * (news_ahead); *from is where that scan starts. */
static bool news_wanted(const repl_session *s, const origin_slot *o, uint64_t *from)
{
    if (!news_ahead(s) || o->ahead_done)
        return false;
    *from = s->stats.news ? o->cursor : o->mine;
    if (o->ahead > *from)
        *from = o->ahead;
    return true;
}

/* True when the session may scan origin o for the peer: the origins it may
 * vouch for up to this node's complete position (not in news mode), and
 * every origin for membership news beyond it (news_ahead). */
static bool slot_wanted(const repl_session *s, const origin_slot *o)
{
    if (!o->used)
        return false;
    return log_wanted(s, o) || (news_ahead(s) && !o->ahead_done);
}

/* True when the session needs a slot for every origin: down and mirror
 * links may carry entries of any origin and pass membership news ahead,
 * and so does an up link in news mode. An up link otherwise carries only
 * origins of this node's subtree (route_may_vouch): the others keep only
 * the peer's position (far_pos). */
static bool slots_for_all(const repl_session *s)
{
    return news_ahead(s) || s->stats.kind != LINK_UP;
}

static int far_cmp(const void *a, const void *b)
{
    return memcmp(a, b, ENTRY_KEY_BYTES);
}

static far_pos *far_find(repl_session *s, const uint8_t *origin)
{
    return s->nfar ? bsearch(origin, s->far, s->nfar, sizeof *s->far, far_cmp) : NULL;
}

static int work_add(repl_session *s, origin_slot *o);

/* True when origin is the peer's own key and the peer is below this node:
 * the part of its own log it lacks (it was restored from an older backup)
 * is sent back to it, whatever the routing rule says of entries authored
 * in its subtree (docs/protocol.md, "A restored node's own log"). Its
 * markers for that origin keep the cursor at what it holds (rx_own_marks),
 * so what it writes is never echoed back. */
static bool own_tail(const repl_session *s, const uint8_t *origin)
{
    return s->stats.kind == LINK_DOWN && !memcmp(origin, s->stats.peer_key, ENTRY_KEY_BYTES);
}

/* The kind whose rule scans origin o: a mirror's (every entry) for the
 * peer's own log (own_tail), the link's kind otherwise. */
static link_kind slot_kind(const repl_session *s, const origin_slot *o)
{
    return own_tail(s, o->origin) ? LINK_MIRROR : s->stats.kind;
}

static int refresh_one(void *fctx, const uint8_t *origin, uint64_t seq, const char *unit)
{
    repl_session *s = fctx;
    bool vouch =
        s->state == REPL_OPEN && (route_may_vouch(s->ops->tree(s->ctx), unit, s->stats.kind,
                                                  s->self_unit, s->stats.peer_unit) ||
                                  own_tail(s, origin));
    origin_slot *o = origin_get(s, origin, false);
    if (!o) {
        far_pos *f = far_find(s, origin);
        if (!vouch && !slots_for_all(s)) {
            if (f)
                f->mine = seq;
            return 0;
        }
        if (!(o = origin_get(s, origin, true)))
            return -1;
        if (f) { /* the link carries it now: start where the peer is */
            o->peer = o->cursor = o->marked = f->peer;
            f->peer = 0;
        }
    }
    o->mine = seq;
    o->ahead_done = false;
    snprintf(o->unit, sizeof o->unit, "%s", unit);
    o->vouch = vouch;
    return work_add(s, o);
}

/* Puts o on the work list when the session may have something to send for
 * it and it is not there yet. Returns 0, or -1 when out of memory. */
static int work_add(repl_session *s, origin_slot *o)
{
    if (!slot_wanted(s, o) || o->queued)
        return 0;
    if (s->nwork == s->capwork) {
        size_t ncap = s->capwork ? 2 * s->capwork : 64;
        void *nw = realloc(s->work, ncap * sizeof *s->work);
        if (!nw)
            return -1;
        s->work = nw;
        s->capwork = ncap;
    }
    memcpy(s->work[s->nwork++], o->origin, ENTRY_KEY_BYTES);
    o->queued = true;
    return 0;
}

/* Puts every origin that may have something to send on the work list
 * (after cursors went back or the link's mode or kind changed). */
static int work_requeue(repl_session *s)
{
    for (size_t i = 0; i < s->cap; i++) {
        s->slots[i].ahead = 0;
        s->slots[i].ahead_done = false;
        if (s->slots[i].used && work_add(s, &s->slots[i]))
            return session_fail(s, "out of memory");
    }
    return 0;
}

/* Reloads this node's complete positions that changed since the last look. */
static void refresh_mine(repl_session *s)
{
    s->ops->positions(s->ctx, &s->mine_seen, refresh_one, s);
}

/* ---- sending batches ---------------------------------------------------------- */

typedef struct {
    size_t limit;
    store_input *entries;
    size_t n, cap, bytes;
} batch_fill;

/* Appends bytes (owned by b from now on) to b's entries. Returns 0 or -1. */
static int fill_push(batch_fill *b, const uint8_t *bytes, size_t len)
{
    if (b->n == b->cap) {
        size_t ncap = b->cap ? 2 * b->cap : 64;
        store_input *ni = realloc(b->entries, ncap * sizeof *ni);
        if (!ni)
            return -1;
        b->entries = ni;
        b->cap = ncap;
    }
    b->entries[b->n++] = (store_input){bytes, len};
    b->bytes += len;
    return 0;
}

/* outbox take(): copies the entry into the batch while it has room. */
static int batch_take(void *ctx, const uint8_t *bytes, size_t len)
{
    batch_fill *b = ctx;
    if (b->n && b->bytes + len > b->limit)
        return 1;
    uint8_t *copy = malloc(len);
    if (!copy)
        return -1;
    memcpy(copy, bytes, len);
    if (fill_push(b, copy, len)) {
        free(copy);
        return -1;
    }
    return 0;
}

/* The outbox rule of this link now: the routing rule of its kind, or only
 * membership news while the two sides disagree on their relation. */
static outbox_scan scan_rule(repl_session *s, int (*take)(void *, const uint8_t *, size_t),
                             void *ctx)
{
    return (outbox_scan){.tree = s->ops->tree(s->ctx),
                         .kind = s->stats.kind,
                         .self = s->self_unit,
                         .peer = s->stats.peer_unit,
                         .take = take,
                         .ctx = ctx,
                         .news = s->stats.news};
}

/* Queues b (a batch just sent) until its ack. */
static void sent_push(repl_session *s, sent_batch *b)
{
    b->next = NULL;
    memcpy(b->view, s->view_of_peer, sizeof b->view);
    if (s->sent_tail)
        s->sent_tail->next = b;
    else
        s->sent_head = b;
    s->sent_tail = b;
}

/* The ack of the oldest batch: its markers counted at the peer when they
 * extend what the peer is known to hold and, where the peer checks views
 * (it is below or a mirror), this node's view of it is the one it
 * announced. A wrong guess is corrected by the peer's next pos, which
 * follows every change of its tree. */
static void sent_acked(repl_session *s)
{
    sent_batch *b = s->sent_head;
    if (!b)
        return;
    s->sent_head = b->next;
    if (!s->sent_head)
        s->sent_tail = NULL;
    bool counted = s->stats.kind == LINK_UP || !memcmp(b->view, s->peer_view, sizeof b->view);
    for (size_t i = 0; counted && i < b->n; i++) {
        origin_slot *o = origin_get(s, b->marks[i].origin, false);
        if (o && o->peer >= b->marks[i].from && o->peer < b->marks[i].to)
            o->peer = b->marks[i].to;
    }
    free(b);
}

/* True when the peer holds or will hold certificate entry c by the routing
 * rule: addressed into its part of the tree, or authored in its subtree. */
static bool cert_reaches(const repl_session *s, const store_input *c)
{
    entry_head h;
    if (entry_head_read(c->bytes, c->len, &h)) /* from the store */
        return false;
    const unit_tree *t = s->ops->tree(s->ctx);
    const char *peer = s->stats.peer_unit;
    return route_addressed_to(t, &h.v, peer, false) ||
           unit_tree_within(t, h.v.unit.ptr, h.v.unit.size, peer, strlen(peer));
}

/* Rebuilds b's entries with, ahead of the first entry of each origin whose
 * certificate chain the routing rule does not carry to the peer (membership
 * is scoped to the issuer's subtree), that chain, root first: without it
 * the peer's write authority would keep the entry waiting for ever. The
 * certificates are sent as they are; duplicates are harmless. Returns 0 or
 * -1 (out of memory). */
static int chains_prepend(repl_session *s, batch_fill *b)
{
    if (!b->n || !s->ops->chain_of)
        return 0;
    batch_fill out = {0};
    uint8_t(*seen)[ENTRY_KEY_BYTES] = malloc(b->n * sizeof *seen);
    size_t nseen = 0, i = 0;
    int rc = seen ? 0 : -1;
    for (; i < b->n && !rc; i++) {
        entry_head h;
        bool fresh = false;
        uint8_t origin[ENTRY_KEY_BYTES];
        if (!entry_head_read(b->entries[i].bytes, b->entries[i].len, &h)) { /* from the store */
            memcpy(origin, h.v.origin, ENTRY_KEY_BYTES);
            fresh = true;
            for (size_t j = 0; j < nseen && fresh; j++)
                fresh = memcmp(seen[j], origin, ENTRY_KEY_BYTES) != 0;
        }
        if (fresh) {
            memcpy(seen[nseen++], origin, ENTRY_KEY_BYTES);
            store_input certs[CHAIN_MAX];
            int nc = s->ops->chain_of(s->ctx, origin, certs);
            bool need = false;
            for (int j = 0; j < nc && !need; j++)
                need = !cert_reaches(s, &certs[j]);
            for (int j = nc - 1; j >= 0; j--) {
                if (need && !rc && !fill_push(&out, certs[j].bytes, certs[j].len))
                    continue;
                rc = need ? -1 : rc;
                free((void *)certs[j].bytes);
            }
        }
        if (!rc && !(rc = fill_push(&out, b->entries[i].bytes, b->entries[i].len)))
            b->entries[i].bytes = NULL;
    }
    free(seen);
    for (size_t j = 0; j < b->n; j++)
        free((void *)b->entries[j].bytes);
    free(b->entries);
    *b = out;
    return rc;
}

/* Scans origin o's entries in (after, upto] into ob. Returns 0, or -1
 * when the session failed (a corrupt entry or a store error). */
static int origin_scan(repl_session *s, const origin_slot *o, uint64_t after, uint64_t upto,
                       outbox_scan *ob)
{
    if (s->ops->scan(s->ctx, o->origin, after, upto, outbox_scan_entry, ob) >= 0)
        return 0;
    char hex[17];
    if (ob->corrupt)
        session_fail(s,
                     "entry %s…:%llu in this node's store is corrupt: run "
                     "lienthong verify and restore the store",
                     hex_encode(o->origin, 8, hex), (unsigned long long)ob->corrupt);
    else
        session_fail(s, "cannot read this node's store: see its log");
    return -1;
}

/* Puts o on the list of origins whose markers wait: its cursor advanced
 * past what the peer was told. Returns 0, or -1 when out of memory. */
static int quiet_add(repl_session *s, origin_slot *o)
{
    s->quiet_last_ms = s->now_ms;
    if (o->waiting)
        return 0;
    if (s->nquiet == s->capquiet) {
        size_t ncap = s->capquiet ? 2 * s->capquiet : 16;
        void *nq = realloc(s->quiet, ncap * sizeof *s->quiet);
        if (!nq)
            return -1;
        s->quiet = nq;
        s->capquiet = ncap;
    }
    if (!s->nquiet)
        s->quiet_first_ms = s->now_ms;
    memcpy(s->quiet[s->nquiet++], o->origin, ENTRY_KEY_BYTES);
    o->waiting = true;
    return 0;
}

/* True when the waiting markers must go without entries to carry them:
 * no marker joined for marks_idle_ms (the writes stopped), the first has
 * waited marks_max_ms, or the link would otherwise send a keep-alive. */
static bool quiet_due(const repl_session *s)
{
    return s->nquiet && (s->now_ms - s->quiet_last_ms >= s->cfg.marks_idle_ms ||
                         s->now_ms - s->quiet_first_ms >= s->cfg.marks_max_ms ||
                         s->now_ms - s->last_send_ms >= s->cfg.keepalive_ms);
}

/* Moves the waiting markers (cursors beyond what the peer was told) into
 * marks[] (room for s->nquiet) and empties the list; returns their count. */
static size_t quiet_take(repl_session *s, sent_mark *marks, origin_slot **slots)
{
    size_t n = 0;
    for (size_t i = 0; i < s->nquiet; i++) {
        origin_slot *o = origin_get(s, s->quiet[i], false);
        if (!o)
            continue;
        o->waiting = false;
        if (o->marked >= o->cursor) /* the cursor went back (tree_sync, on_pos) */
            continue;
        memcpy(marks[n].origin, o->origin, ENTRY_KEY_BYTES);
        marks[n].from = o->marked;
        marks[n].to = o->cursor;
        slots[n++] = o;
        o->marked = o->cursor;
    }
    s->nquiet = 0;
    return n;
}

/* Builds and queues one batch; returns false when there was nothing to send.
 * Markers ride on batches with entries; markers of origins this link
 * carried nothing of wait for one, or for quiet_due (docs/protocol.md,
 * "Quiet markers"): one write must not cost a message on every link. */
static bool send_batch(repl_session *s)
{
    batch_fill b = {.limit = s->cfg.batch_bytes};
    outbox_scan ob = scan_rule(s, batch_take, &b);
    size_t k = 0, kept = 0;
    /* the work list: origins done leave it, the one that filled the batch
     * stays first, the ones not reached stay after it */
    for (; k < s->nwork && !ob.full; k++) {
        origin_slot *o = origin_get(s, s->work[k], false);
        if (!o || !slot_wanted(s, o)) {
            if (o)
                o->queued = false;
            continue;
        }
        if (log_wanted(s, o)) {
            ob.membership = false;
            ob.considered = o->cursor;
            ob.kind = slot_kind(s, o);
            int rc = origin_scan(s, o, o->cursor, o->mine, &ob);
            ob.kind = s->stats.kind;
            if (rc)
                break;
            if (!ob.full)
                ob.considered = o->mine;
            if (ob.considered > o->cursor && own_tail(s, o->origin)) {
                o->cursor = ob.considered; /* no marker: the peer vouches for its own log */
            } else if (ob.considered > o->cursor) {
                o->cursor = ob.considered;
                if (quiet_add(s, o)) {
                    session_fail(s, "out of memory");
                    break;
                }
            }
        }
        /* membership entries beyond what was vouched for, by the link's
         * rule: they vouch for nothing, so they need not wait for the
         * complete position (a node whose position waits for a moved
         * subtree it does not know yet must still pass the move on, or
         * nobody learns it) */
        uint64_t from;
        if (!ob.full && news_wanted(s, o, &from)) {
            ob.membership = true; /* in news mode, ob.news already says so */
            ob.considered = from;
            if (origin_scan(s, o, from, UINT64_MAX, &ob))
                break;
            o->ahead = ob.considered;
            o->ahead_done = !ob.full;
        }
        if (slot_wanted(s, o))
            memmove(s->work[kept++], o->origin, ENTRY_KEY_BYTES);
        else
            o->queued = false;
    }
    if (k < s->nwork) /* work is NULL until the first origin is queued */
        memmove(s->work + kept, s->work + k, (s->nwork - k) * sizeof *s->work);
    s->nwork = kept + s->nwork - k;
    if (!s->stats.news && chains_prepend(s, &b))
        session_fail(s, "out of memory");
    bool sent = s->state == REPL_OPEN && (b.n || quiet_due(s));
    sent_batch *sb = sent ? malloc(sizeof *sb + s->nquiet * sizeof *sb->marks) : NULL;
    origin_slot **mslots = sent ? malloc((s->nquiet + 1) * sizeof *mslots) : NULL;
    if (sent && (!sb || !mslots)) {
        session_fail(s, "out of memory");
        sent = false;
    }
    size_t nmarks = sent ? quiet_take(s, sb->marks, mslots) : 0;
    sent = sent && (b.n || nmarks);
    if (sent) {
        sb->n = nmarks;
        msg_out msg;
        msgpack_packer *pk = msg_begin(&msg, "batch", 4);
        msgpack_pack_uint64(pk, ++s->next_batch_id);
        msgpack_pack_array(pk, b.n);
        for (size_t i = 0; i < b.n; i++)
            pack_bin(pk, b.entries[i].bytes, b.entries[i].len);
        msgpack_pack_array(pk, nmarks);
        for (size_t i = 0; i < nmarks; i++) {
            msgpack_pack_array(pk, 4);
            pack_bin(pk, sb->marks[i].origin, ENTRY_KEY_BYTES);
            msgpack_pack_uint64(pk, sb->marks[i].from);
            msgpack_pack_uint64(pk, sb->marks[i].to);
            pack_cstr(pk, mslots[i]->unit);
        }
        pack_bin(pk, s->view_of_peer, sizeof s->view_of_peer);
        msg_send(s, &msg);
        s->in_flight++;
        s->stats.entries_sent += b.n;
        sent_push(s, sb);
        if (s->stats.news && b.n)
            s->news_ms = s->now_ms;
    } else {
        free(sb);
    }
    for (size_t i = 0; i < b.n; i++)
        free((void *)b.entries[i].bytes);
    free(b.entries);
    free(mslots);
    return sent;
}

/* A batch of fewer entries than this waits while another is in flight. */
#define PUMP_SMALL 256

/* True when the link owes at least PUMP_SMALL entries by its cursors (an
 * upper estimate: the routing rule may keep some of them back). */
static bool pump_much(repl_session *s)
{
    uint64_t owed = 0;
    for (size_t k = 0; k < s->nwork && owed < PUMP_SMALL; k++) {
        origin_slot *o = origin_get(s, s->work[k], false);
        if (o && o->vouch && o->mine > o->cursor)
            owed += o->mine - o->cursor;
    }
    return owed >= PUMP_SMALL;
}

/* Sends batches while the window allows and there is something to send.
 * While a batch is in flight, a small one waits for its ack and takes
 * along what was written meanwhile (Nagle's rule): under a stream of
 * single writes each hop then commits one transaction per round trip, not
 * one per write; a backlog still fills the whole window. */
static void pump(repl_session *s)
{
    if (s->state != REPL_OPEN || !s->peer_pos_done)
        return;
    while (s->in_flight < s->cfg.window && (!s->in_flight || pump_much(s)) && send_batch(s)) {
    }
}

/* ---- handshake ---------------------------------------------------------------- */

static void send_hello(repl_session *s)
{
    const store_input *chain = NULL;
    size_t n = 0;
    s->ops->chain(s->ctx, &chain, &n);
    msg_out msg;
    msgpack_packer *pk = msg_begin(&msg, "hello", 1);
    msgpack_pack_map(pk, 5);
    pack_cstr(pk, "v");
    msgpack_pack_uint8(pk, REPL_VERSION);
    pack_cstr(pk, "node");
    pack_bin(pk, s->cfg.pk, ENTRY_KEY_BYTES);
    pack_cstr(pk, "kx");
    pack_bin(pk, s->kx_pk, sizeof s->kx_pk);
    pack_cstr(pk, "challenge");
    pack_bin(pk, s->challenge, sizeof s->challenge);
    pack_cstr(pk, "chain");
    msgpack_pack_array(pk, n);
    for (size_t i = 0; i < n; i++)
        pack_bin(pk, chain[i].bytes, chain[i].len);
    msg_send(s, &msg);
}

/* The bytes each side signs: context, the signer's role, the challenge it
 * answers and both ephemeral keys (signer's first). */
static void auth_transcript(uint8_t out[22 + 1 + 32 + 64], bool initiator, const uint8_t *challenge,
                            const uint8_t *kx_own, const uint8_t *kx_other)
{
    memcpy(out, AUTH_CONTEXT, 22);
    out[22] = initiator ? 'I' : 'R';
    memcpy(out + 23, challenge, 32);
    memcpy(out + 55, kx_own, 32);
    memcpy(out + 87, kx_other, 32);
}

static int on_hello(repl_session *s, const msgpack_object *body)
{
    const msgpack_object *v = map_get(body, "v"), *node = map_get(body, "node"),
                         *kx = map_get(body, "kx"), *ch = map_get(body, "challenge"),
                         *chain = map_get(body, "chain");
    if (!v || v->type != MSGPACK_OBJECT_POSITIVE_INTEGER || !node || !obj_is_bin(node, 32) || !kx ||
        !obj_is_bin(kx, 32) || !ch || !obj_is_bin(ch, 32) || !chain ||
        chain->type != MSGPACK_OBJECT_ARRAY || chain->via.array.size > CHAIN_MAX)
        return session_fail(s, "malformed hello: expected v, node, kx, challenge and chain");
    if (v->via.u64 != REPL_VERSION)
        return session_fail(s,
                            "protocol version %llu is not supported (this node speaks %d): "
                            "upgrade the older node",
                            (unsigned long long)v->via.u64, REPL_VERSION);
    store_input certs[CHAIN_MAX];
    for (uint32_t i = 0; i < chain->via.array.size; i++) {
        const msgpack_object *c = &chain->via.array.ptr[i];
        if (c->type != MSGPACK_OBJECT_BIN)
            return session_fail(s, "malformed hello: chain items must be binary entries");
        certs[i] = (store_input){(const uint8_t *)c->via.bin.ptr, c->via.bin.size};
    }
    char why[200];
    const uint8_t *peer = (const uint8_t *)node->via.bin.ptr;
    if (!memcmp(peer, s->cfg.pk, ENTRY_KEY_BYTES))
        return session_fail(s, "the peer presented this node's own key: a loop or a copied key");
    if (chain_verify(certs, chain->via.array.size, peer, s->cfg.root_key, s->now_ms,
                     s->stats.peer_unit, why, sizeof why))
        return session_fail(s, "peer refused: %s", why);
    memcpy(s->stats.peer_key, peer, ENTRY_KEY_BYTES);
    /* the chain's certificates are signed membership entries: keeping them
     * teaches this node where a unit it has not heard of yet sits */
    apply_result res[CHAIN_MAX];
    if (s->ops->apply(s->ctx, certs, chain->via.array.size, NULL, 0, res))
        return session_fail(s, "this node could not store the peer's certificates: see its log");
    const unit_tree *tree = s->ops->tree(s->ctx);
    for (uint32_t i = 0; i < chain->via.array.size; i++) {
        /* the peer's own key must be live; no issuer above it may be
         * revoked; a superseded (rotated) issuer's certificates stay valid
         * when it wrote them before its cut-off */
        const uint8_t *key = i == 0 ? peer : certs[i - 1].bytes + 13;
        char hex[17];
        key_state st = unit_tree_key_state(tree, key, NULL);
        hex_encode(key, 8, hex);
        if (st == KEY_REVOKED)
            return session_fail(s,
                                "peer refused: node %s… in its certificate chain was "
                                "revoked: it must be enrolled again",
                                hex);
        if (st == KEY_SUPERSEDED && i == 0)
            return session_fail(s,
                                "peer refused: node key %s… was replaced by a new key of "
                                "its unit (lienthong rotate): restart that node so that it "
                                "uses its new key",
                                hex);
        entry_view e;
        if (st == KEY_SUPERSEDED &&
            !entry_decode(certs[i - 1].bytes, certs[i - 1].len, &e, NULL, 0)) {
            bool valid = unit_tree_key_valid_at(tree, key, e.seq);
            entry_view_free(&e);
            if (!valid)
                return session_fail(s,
                                    "peer refused: its certificate was issued by node %s… "
                                    "after that key was replaced: enrol it again",
                                    hex);
        }
    }
    /* the kind (even none: this side's tree may be the older one) is
     * settled once both pos messages are in, see mode_check */
    s->stats.kind = route_link_kind(tree, s->self_unit, s->stats.peer_unit);
    memcpy(s->peer_kx, kx->via.bin.ptr, 32);
    memcpy(s->peer_challenge, ch->via.bin.ptr, 32);
    s->got_hello = true;

    uint8_t transcript[119], sig[crypto_sign_BYTES];
    auth_transcript(transcript, s->cfg.initiator, s->peer_challenge, s->kx_pk, s->peer_kx);
    crypto_sign_detached(sig, NULL, transcript, sizeof transcript, s->cfg.sk);
    uint8_t rx_key[crypto_kx_SESSIONKEYBYTES], tx_key[crypto_kx_SESSIONKEYBYTES];
    int rc = s->cfg.initiator
                 ? crypto_kx_client_session_keys(rx_key, tx_key, s->kx_pk, s->kx_sk, s->peer_kx)
                 : crypto_kx_server_session_keys(rx_key, tx_key, s->kx_pk, s->kx_sk, s->peer_kx);
    if (rc)
        return session_fail(s, "key exchange failed: the peer's ephemeral key is invalid");
    uint8_t header[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
    crypto_secretstream_xchacha20poly1305_init_push(&s->tx, header, tx_key);
    /* keep rx_key until the peer's header arrives */
    memcpy(s->kx_sk, rx_key, sizeof rx_key);

    msg_out msg;
    msgpack_packer *pk = msg_begin(&msg, "auth", 1);
    msgpack_pack_map(pk, 2);
    pack_cstr(pk, "sig");
    pack_bin(pk, sig, sizeof sig);
    pack_cstr(pk, "stream");
    pack_bin(pk, header, sizeof header);
    msg_send(s, &msg);
    s->tx_ready = true;
    sodium_memzero(tx_key, sizeof tx_key);
    sodium_memzero(rx_key, sizeof rx_key);
    return 0;
}

static int pos_one(void *fctx, const uint8_t *origin, uint64_t seq, const char *unit)
{
    msgpack_packer *pk = fctx;
    (void)unit;
    if (!seq)
        return 0;
    msgpack_pack_array(pk, 2);
    pack_bin(pk, origin, ENTRY_KEY_BYTES);
    msgpack_pack_uint64(pk, seq);
    return 0;
}

static int count_one(void *fctx, const uint8_t *origin, uint64_t seq, const char *unit)
{
    (void)origin, (void)unit;
    *(size_t *)fctx += seq > 0;
    return 0;
}

static void send_positions(repl_session *s)
{
    size_t n = 0;
    uint64_t all = 0;
    s->ops->positions(s->ctx, &all, count_one, &n);
    msg_out msg;
    msgpack_packer *pk = msg_begin(&msg, "pos", 3);
    msgpack_pack_array(pk, n);
    all = 0;
    s->ops->positions(s->ctx, &all, pos_one, pk);
    msgpack_pack_uint8(pk, (uint8_t)s->stats.kind);
    pack_bin(pk, s->own_view, sizeof s->own_view);
    msg_send(s, &msg);
}

static const char *kind_word(link_kind k)
{
    return k == LINK_UP ? "up" : k == LINK_DOWN ? "down" : k == LINK_MIRROR ? "mirror" : "none";
}

/* Reads the tree: the link's kind and the views. */
static void tree_read(repl_session *s)
{
    const unit_tree *t = s->ops->tree(s->ctx);
    if (s->ops->generation)
        s->gen = s->ops->generation(s->ctx);
    s->stats.kind = route_link_kind(t, s->self_unit, s->stats.peer_unit);
    unit_tree_view(t, s->self_unit, s->own_view);
    unit_tree_view(t, s->stats.peer_unit, s->view_of_peer);
}

/* True when the two sides' kinds describe one relation. */
static bool kinds_agree(link_kind mine, link_kind peer)
{
    return (mine == LINK_UP && peer == LINK_DOWN) || (mine == LINK_DOWN && peer == LINK_UP) ||
           (mine == LINK_MIRROR && peer == LINK_MIRROR);
}

/* Settles the link's mode once both kinds are known: normal sync when they
 * agree, membership news while they do not, closed when both sides say the
 * units are unrelated. Returns -1 when the session closed. */
static int mode_check(repl_session *s)
{
    if (!s->peer_pos_done)
        return 0;
    if (s->stats.kind == LINK_NONE && s->stats.peer_kind == LINK_NONE)
        return session_fail(s,
                            "unit %s is neither an ancestor, a descendant nor a mirror of "
                            "unit %s: check the --upstream addresses",
                            s->stats.peer_unit, s->self_unit);
    bool news = !kinds_agree(s->stats.kind, s->stats.peer_kind);
    if (news && !s->stats.news)
        s->news_ms = s->now_ms;
    s->stats.news = news;
    return 0;
}

/* Follows a change of the node's unit tree (see session.h): new kind and
 * views, cursors back to what the peer is known to hold (the routing rule
 * that advanced them may have changed), and a new pos for the peer (this
 * node's positions may have gone down, and its view and kind changed). */
static void tree_sync(repl_session *s)
{
    if (s->state != REPL_OPEN || !s->ops->generation)
        return;
    repl_generation g = s->ops->generation(s->ctx);
    if (g.tree == s->gen.tree && g.lowered == s->gen.lowered)
        return;
    tree_read(s);
    s->rx_view_set = false; /* the peer's markers are judged afresh under the new tree */
    for (size_t i = 0; i < s->cap; i++)
        if (s->slots[i].used) {
            s->slots[i].cursor = s->slots[i].marked = s->slots[i].peer;
            s->slots[i].mine = 0; /* until the full read below says otherwise */
        }
    s->mine_seen = 0; /* every position again: what may be vouched for changed */
    send_positions(s);
    if (mode_check(s))
        return;
    refresh_mine(s); /* after mode_check: news mode wants every origin (slots_for_all) */
    if (!work_requeue(s))
        pump(s);
}

static int on_auth(repl_session *s, const msgpack_object *body)
{
    const msgpack_object *sig = map_get(body, "sig"), *stream = map_get(body, "stream");
    if (!s->got_hello)
        return session_fail(s, "auth before hello");
    if (!sig || !obj_is_bin(sig, crypto_sign_BYTES) || !stream ||
        !obj_is_bin(stream, crypto_secretstream_xchacha20poly1305_HEADERBYTES))
        return session_fail(s, "malformed auth: expected sig and stream");
    uint8_t transcript[119];
    auth_transcript(transcript, !s->cfg.initiator, s->challenge, s->peer_kx, s->kx_pk);
    if (crypto_sign_verify_detached((const uint8_t *)sig->via.bin.ptr, transcript,
                                    sizeof transcript, s->stats.peer_key))
        return session_fail(s, "peer refused: it could not prove it holds the key of its "
                               "certificate");
    if (crypto_secretstream_xchacha20poly1305_init_pull(
            &s->rx, (const uint8_t *)stream->via.bin.ptr, s->kx_sk))
        return session_fail(s, "cannot set up the encrypted stream");
    sodium_memzero(s->kx_sk, sizeof s->kx_sk);
    s->rx_ready = true;
    s->state = REPL_OPEN;
    tree_read(s);
    refresh_mine(s);
    send_positions(s);
    return 0;
}

/* ---- receiving --------------------------------------------------------------- */

static int on_pos(repl_session *s, const msgpack_object *a)
{
    const msgpack_object *list = &a[1], *kind = &a[2], *view = &a[3];
    if (list->type != MSGPACK_OBJECT_ARRAY || kind->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
        kind->via.u64 > LINK_MIRROR || !obj_is_bin(view, UNIT_VIEW_BYTES))
        return session_fail(s, "malformed pos: expected a list of [origin, seq], a kind and "
                               "a view");
    /* a later pos replaces the earlier one: the peer's tree changed */
    for (size_t i = 0; i < s->cap; i++)
        if (s->slots[i].used)
            s->slots[i].peer = s->slots[i].cursor = s->slots[i].marked = 0;
    s->stats.peer_kind = (link_kind)kind->via.u64;
    memcpy(s->peer_view, view->via.bin.ptr, UNIT_VIEW_BYTES);
    s->rx_view_set = false; /* its next markers are chosen with its new tree */
    s->peer_pos_done = true;
    if (mode_check(s))
        return -1;
    bool all = slots_for_all(s);
    free(s->far);
    s->nfar = 0;
    s->far = all || !list->via.array.size ? NULL : malloc(list->via.array.size * sizeof *s->far);
    if (!all && list->via.array.size && !s->far)
        return session_fail(s, "out of memory");
    for (uint32_t i = 0; i < list->via.array.size; i++) {
        const msgpack_object *p = &list->via.array.ptr[i];
        if (p->type != MSGPACK_OBJECT_ARRAY || p->via.array.size != 2 ||
            !obj_is_bin(&p->via.array.ptr[0], 32) ||
            p->via.array.ptr[1].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
            return session_fail(s, "malformed pos item %u", i);
        const uint8_t *origin = (const uint8_t *)p->via.array.ptr[0].via.bin.ptr;
        uint64_t seq = p->via.array.ptr[1].via.u64;
        origin_slot *o = origin_get(s, origin, all);
        if (o) {
            o->peer = o->cursor = o->marked = seq;
        } else if (all) {
            return session_fail(s, "out of memory");
        } else {
            memcpy(s->far[s->nfar].origin, origin, ENTRY_KEY_BYTES);
            s->far[s->nfar].peer = seq;
            s->far[s->nfar++].mine = 0; /* the read below fills it in */
        }
    }
    if (s->nfar)
        qsort(s->far, s->nfar, sizeof *s->far, far_cmp);
    s->mine_seen = 0; /* every position again: the mode may have changed */
    refresh_mine(s);
    if (work_requeue(s))
        return -1;
    pump(s);
    return 0;
}

/* A received batch: parsed, then verified (inline or as a job on the
 * caller's thread pool), then applied in arrival order and acknowledged. */
typedef struct rx_batch {
    struct rx_batch *next;
    uint64_t id, job;
    store_input *in;
    size_t n;
    store_mark *marks;
    char (*units)[ORIGIN_UNIT_CAP];
    size_t nmarks;
    uint8_t view[UNIT_VIEW_BYTES]; /* the sender's view of this node */
    bool *ok;
    bool verified;
    uint8_t *plain;      /* owns the bytes in[] and marks[] point into */
    msgpack_unpacked up; /* owns the parsed message */
} rx_batch;

static void rx_batch_free(rx_batch *b)
{
    if (!b)
        return;
    free(b->in);
    free(b->marks);
    free(b->units);
    free(b->ok);
    msgpack_unpacked_destroy(&b->up);
    free(b->plain);
    free(b);
}

/* Parses a batch message into b (entries, markers and the view). */
static int rx_batch_parse(repl_session *s, const msgpack_object *a, rx_batch *b)
{
    const msgpack_object *id = &a->via.array.ptr[1], *entries = &a->via.array.ptr[2],
                         *marks = &a->via.array.ptr[3], *view = &a->via.array.ptr[4];
    if (id->type != MSGPACK_OBJECT_POSITIVE_INTEGER || entries->type != MSGPACK_OBJECT_ARRAY ||
        marks->type != MSGPACK_OBJECT_ARRAY || !obj_is_bin(view, UNIT_VIEW_BYTES))
        return session_fail(s, "malformed batch");
    memcpy(b->view, view->via.bin.ptr, UNIT_VIEW_BYTES);
    b->id = id->via.u64;
    b->n = entries->via.array.size;
    size_t nm = marks->via.array.size;
    b->in = calloc(b->n + 1, sizeof *b->in);
    b->ok = calloc(b->n + 1, sizeof *b->ok);
    b->marks = calloc(nm + 1, sizeof *b->marks);
    b->units = calloc(nm + 1, sizeof *b->units);
    if (!b->in || !b->ok || !b->marks || !b->units)
        return session_fail(s, "out of memory");
    for (size_t i = 0; i < b->n; i++) {
        const msgpack_object *e = &entries->via.array.ptr[i];
        if (e->type != MSGPACK_OBJECT_BIN)
            return session_fail(s, "batch entry %zu is not binary", i);
        b->in[i] = (store_input){(const uint8_t *)e->via.bin.ptr, e->via.bin.size};
    }
    for (size_t i = 0; i < nm; i++) {
        const msgpack_object *m = &marks->via.array.ptr[i], *f = m->via.array.ptr;
        if (m->type != MSGPACK_OBJECT_ARRAY || m->via.array.size != 4 || !obj_is_bin(&f[0], 32) ||
            f[1].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
            f[2].type != MSGPACK_OBJECT_POSITIVE_INTEGER || f[3].type != MSGPACK_OBJECT_STR ||
            !entry_unit_valid(f[3].via.str.ptr, f[3].via.str.size))
            return session_fail(s, "malformed marker %zu", i);
        char *unit = b->units[b->nmarks];
        memcpy(unit, f[3].via.str.ptr, f[3].via.str.size);
        unit[f[3].via.str.size] = '\0';
        b->marks[b->nmarks++] =
            (store_mark){(const uint8_t *)f[0].via.bin.ptr, f[1].via.u64, f[2].via.u64, unit};
    }
    return 0;
}

/* Keeps the markers of b this node may take, judged with its tree at the
 * moment of applying: only where the peer can hold all this node should
 * (route_may_vouch), and, from a parent or a mirror, only when the peer
 * chose the entries with this node's own view (an older tree may have
 * skipped entries this node should now hold). None while the sides
 * disagree on their relation. */
static void rx_marks_filter(repl_session *s, rx_batch *b)
{
    link_kind back = s->stats.kind == LINK_UP     ? LINK_DOWN
                     : s->stats.kind == LINK_DOWN ? LINK_UP
                                                  : s->stats.kind;
    bool view_ok = s->stats.kind == LINK_DOWN || !memcmp(b->view, s->own_view, UNIT_VIEW_BYTES);
    if (b->nmarks) {
        memcpy(s->rx_view, b->view, UNIT_VIEW_BYTES);
        s->rx_view_set = true;
    }
    size_t kept = 0;
    for (size_t i = 0; i < b->nmarks && view_ok && !s->stats.news; i++)
        if (route_may_vouch(s->ops->tree(s->ctx), b->marks[i].unit, back, s->stats.peer_unit,
                            s->self_unit))
            b->marks[kept++] = b->marks[i];
    b->nmarks = kept;
}

/* Markers of the peer for its own log (own_tail): it holds that log up to
 * their seq, so this link's cursor and the peer's known position follow,
 * and nothing it wrote is sent back to it. */
static void rx_own_marks(repl_session *s, const rx_batch *b)
{
    for (size_t i = 0; i < b->nmarks; i++) {
        if (!own_tail(s, b->marks[i].origin))
            continue;
        origin_slot *o = origin_get(s, b->marks[i].origin, true);
        if (!o)
            continue; /* out of memory: at worst entries it holds are sent again */
        if (o->cursor < b->marks[i].seq)
            o->cursor = b->marks[i].seq;
        if (o->peer < b->marks[i].seq)
            o->peer = b->marks[i].seq;
    }
}

static bool entry_is_held(apply_result r)
{
    return r == APPLY_ADDED || r == APPLY_DUPLICATE || r == APPLY_QUARANTINED;
}

/* Applies and acknowledges b, whose entries are all verified. */
static int rx_batch_apply(repl_session *s, rx_batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        if (!b->ok[i])
            return session_fail(s,
                                "batch entry %zu is malformed or has a bad signature: "
                                "nothing of the batch was applied",
                                i);
    apply_result *res = calloc(b->n + 1, sizeof *res);
    if (!res)
        return session_fail(s, "out of memory");
    tree_sync(s);
    if (s->state == REPL_CLOSED) {
        free(res);
        return -1;
    }
    rx_marks_filter(s, b);
    if (s->stats.news && b->n)
        s->news_ms = s->now_ms;
    if (s->ops->apply(s->ctx, b->in, b->n, b->marks, b->nmarks, res)) {
        free(res);
        return session_fail(s, "this node could not store the batch (disk full or storage "
                               "error): see its log");
    }
    rx_own_marks(s, b);
    /* a quarantined entry is held (in the quarantine, with its reason for
     * this node's admins): not an error of the link */
    size_t nerr = 0;
    for (size_t i = 0; i < b->n; i++)
        nerr += !entry_is_held(res[i]);
    msg_out msg;
    msgpack_packer *pk = msg_begin(&msg, "ack", 2);
    msgpack_pack_uint64(pk, b->id);
    msgpack_pack_array(pk, nerr);
    for (size_t i = 0; i < b->n; i++) {
        if (entry_is_held(res[i]))
            continue;
        msgpack_pack_array(pk, 2);
        msgpack_pack_uint64(pk, i);
        pack_cstr(pk, apply_result_str(res[i]));
    }
    free(res);
    msg_send(s, &msg);
    s->stats.entries_received += b->n;
    s->stats.last_exchange_ms = s->now_ms;
    if (b->n || b->nmarks)
        refresh_mine(s);
    tree_sync(s); /* the batch may have moved a unit */
    return s->state == REPL_CLOSED ? -1 : 0;
}

/* Applies verified batches from the head of the queue, in arrival order. */
static int rx_drain(repl_session *s)
{
    while (s->rx_head && s->rx_head->verified && s->state != REPL_CLOSED) {
        rx_batch *b = s->rx_head;
        s->rx_head = b->next;
        if (!s->rx_head)
            s->rx_tail = NULL;
        int rc = rx_batch_apply(s, b);
        rx_batch_free(b);
        if (rc)
            return rc;
    }
    return 0;
}

static int on_batch(repl_session *s, const msgpack_object *a, uint8_t **plain, msgpack_unpacked *up)
{
    rx_batch *b = calloc(1, sizeof *b);
    if (!b)
        return session_fail(s, "out of memory");
    if (rx_batch_parse(s, a, b)) {
        rx_batch_free(b); /* b->up is zeroed: destroying it is a no-op */
        return -1;
    }
    /* keep the message's bytes and parse alive as long as b */
    b->plain = *plain;
    b->up = *up;
    *plain = NULL;
    msgpack_unpacked_init(up);
    b->job = ++s->next_job_id;
    if (s->rx_tail)
        s->rx_tail->next = b;
    else
        s->rx_head = b;
    s->rx_tail = b;
    if (!s->cfg.defer_verify) {
        entry_run_verify(b->in, b->n, b->ok);
        b->verified = true;
        return rx_drain(s);
    }
    return 0;
}

int repl_session_next_job(repl_session *s, repl_verify_job *job)
{
    for (rx_batch *b = s->rx_head; b; b = b->next) {
        if (b->verified || b->job <= s->jobs_handed)
            continue;
        s->jobs_handed = b->job;
        *job = (repl_verify_job){b->job, b->in, b->n, b->ok};
        return 1;
    }
    return 0;
}

void repl_verify_job_run(const repl_verify_job *job)
{
    entry_run_verify(job->entries, job->n, job->ok);
}

int repl_session_job_done(repl_session *s, uint64_t job_id, uint64_t now_ms)
{
    s->now_ms = now_ms;
    for (rx_batch *b = s->rx_head; b; b = b->next)
        if (b->job == job_id)
            b->verified = true;
    return s->state == REPL_CLOSED ? -1 : rx_drain(s);
}

static int on_message(repl_session *s, const msgpack_object *m, uint8_t **plain,
                      msgpack_unpacked *up)
{
    if (m->type != MSGPACK_OBJECT_ARRAY || m->via.array.size < 1 ||
        m->via.array.ptr[0].type != MSGPACK_OBJECT_STR)
        return session_fail(s, "malformed message: expected [type, ...]");
    const msgpack_object *a = m->via.array.ptr;
    size_t n = m->via.array.size;
    if (obj_is_str(&a[0], "err") && n == 2 && a[1].type == MSGPACK_OBJECT_STR) {
        snprintf(s->error, sizeof s->error, "peer closed the link: %.*s", (int)a[1].via.str.size,
                 a[1].via.str.ptr);
        s->state = REPL_CLOSED;
        return -1;
    }
    if (s->state == REPL_HANDSHAKE) {
        if (!s->got_hello && obj_is_str(&a[0], "hello") && n == 2)
            return on_hello(s, &a[1]);
        if (s->got_hello && obj_is_str(&a[0], "auth") && n == 2)
            return on_auth(s, &a[1]);
        return session_fail(s, "unexpected message during the handshake");
    }
    if (obj_is_str(&a[0], "pos") && n == 4)
        return on_pos(s, a);
    if (obj_is_str(&a[0], "batch") && n == 5)
        return on_batch(s, m, plain, up);
    if (obj_is_str(&a[0], "ack") && n == 3) {
        if (!s->in_flight)
            return session_fail(s, "ack without a batch in flight");
        s->in_flight--;
        sent_acked(s);
        s->stats.last_exchange_ms = s->now_ms;
        if (a[2].type == MSGPACK_OBJECT_ARRAY && a[2].via.array.size)
            return session_fail(s, "the peer refused %u entries of a batch", a[2].via.array.size);
        pump(s);
        return 0;
    }
    if (obj_is_str(&a[0], "ping") && n == 2) {
        uint8_t pong[] = {0x92, 0xa4, 'p', 'o', 'n', 'g', 0x00};
        queue_plain(s, pong, sizeof pong);
        return 0;
    }
    if (obj_is_str(&a[0], "pong"))
        return 0;
    return session_fail(s, "unknown message type %.*s", (int)a[0].via.str.size, a[0].via.str.ptr);
}

int repl_session_recv(repl_session *s, const uint8_t *msg, size_t len, uint64_t now_ms)
{
    s->now_ms = now_ms;
    if (s->state == REPL_CLOSED)
        return -1;
    s->last_recv_ms = now_ms;
    s->stats.bytes_received += len;
    tree_sync(s);
    if (s->state == REPL_CLOSED)
        return -1;
    if (len > s->cfg.max_frame)
        return session_fail(s, "message of %zu bytes exceeds the %zu-byte limit", len,
                            s->cfg.max_frame);
    uint8_t *plain = NULL;
    const uint8_t *data = msg;
    size_t dlen = len;
    if (s->rx_ready) {
        if (len < crypto_secretstream_xchacha20poly1305_ABYTES)
            return session_fail(s, "encrypted message too short");
        plain = malloc(len);
        unsigned long long plen;
        uint8_t tag;
        if (!plain || crypto_secretstream_xchacha20poly1305_pull(&s->rx, plain, &plen, &tag, msg,
                                                                 len, NULL, 0)) {
            free(plain);
            return session_fail(s, "a message failed authentication: the link was tampered "
                                   "with or lost a message");
        }
        data = plain;
        dlen = (size_t)plen;
    }
    size_t used;
    char why[160];
    int rc;
    int bad = mpjson_scan(data, dlen, &used, why, sizeof why);
    if (bad || used != dlen) {
        rc = session_fail(s, "malformed message: %s", bad ? why : "trailing bytes");
    } else {
        msgpack_unpacked up;
        msgpack_unpacked_init(&up);
        size_t off = 0;
        if (msgpack_unpack_next(&up, (const char *)data, dlen, &off) != MSGPACK_UNPACK_SUCCESS)
            rc = session_fail(s, "malformed message: not msgpack");
        else
            rc = on_message(s, &up.data, &plain, &up);
        msgpack_unpacked_destroy(&up);
    }
    free(plain);
    return rc;
}

/* ---- the rest of the API --------------------------------------------------------- */

repl_session *repl_session_new(const repl_config *cfg, const repl_store_ops *ops, void *store_ctx,
                               uint64_t now_ms)
{
    repl_session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->cfg = *cfg;
    if (!s->cfg.max_frame)
        s->cfg.max_frame = 1u << 20;
    if (!s->cfg.batch_bytes)
        s->cfg.batch_bytes = 256u << 10;
    if (s->cfg.batch_bytes > s->cfg.max_frame / 2)
        s->cfg.batch_bytes = s->cfg.max_frame / 2;
    if (!s->cfg.window)
        s->cfg.window = 4;
    if (!s->cfg.keepalive_ms)
        s->cfg.keepalive_ms = 10000;
    if (!s->cfg.marks_idle_ms)
        s->cfg.marks_idle_ms = 200;
    if (!s->cfg.marks_max_ms)
        s->cfg.marks_max_ms = 2000;
    if (!s->cfg.timeout_ms)
        s->cfg.timeout_ms = 30000;
    s->ops = ops;
    s->ctx = store_ctx;
    s->now_ms = s->last_recv_ms = s->last_send_ms = now_ms;
    snprintf(s->self_unit, sizeof s->self_unit, "%s", ops->unit(store_ctx));
    crypto_kx_keypair(s->kx_pk, s->kx_sk);
    randombytes_buf(s->challenge, sizeof s->challenge);
    send_hello(s);
    return s;
}

void repl_session_free(repl_session *s)
{
    if (!s)
        return;
    free(s->work);
    free(s->quiet);
    free(s->far);
    free(s->out_cur);
    for (out_frame *f = s->out_head, *next; f; f = next) {
        next = f->next;
        free(f);
    }
    for (rx_batch *b = s->rx_head, *next; b; b = next) {
        next = b->next;
        rx_batch_free(b);
    }
    for (sent_batch *b = s->sent_head, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    free(s->slots);
    sodium_memzero(s, sizeof *s);
    free(s);
}

int repl_session_next_out(repl_session *s, const uint8_t **msg, size_t *len)
{
    free(s->out_cur);
    s->out_cur = s->out_head;
    if (!s->out_cur)
        return 0;
    s->out_head = s->out_cur->next;
    if (!s->out_head)
        s->out_tail = NULL;
    *msg = s->out_cur->data;
    *len = s->out_cur->len;
    return 1;
}

void repl_session_tick(repl_session *s, uint64_t now_ms)
{
    s->now_ms = now_ms;
    if (s->state == REPL_CLOSED)
        return;
    /* the wall clock may step back: measure silence from the later time */
    if (now_ms < s->last_recv_ms)
        s->last_recv_ms = now_ms;
    if (now_ms < s->last_send_ms)
        s->last_send_ms = now_ms;
    if (now_ms - s->last_recv_ms > s->cfg.timeout_ms) {
        session_fail(s, "no message from the peer for %llu ms: link considered dead",
                     (unsigned long long)(now_ms - s->last_recv_ms));
        return;
    }
    tree_sync(s);
    if (s->state == REPL_OPEN && s->stats.news) {
        if (now_ms < s->news_ms)
            s->news_ms = now_ms;
        if (now_ms - s->news_ms > s->cfg.timeout_ms) {
            session_fail(s,
                         "units %s and %s disagree on their relation (%s here, %s there: one "
                         "side does not know a unit's move yet) and exchanged no membership "
                         "entry for %llu ms: check the --upstream addresses",
                         s->self_unit, s->stats.peer_unit, kind_word(s->stats.kind),
                         kind_word(s->stats.peer_kind), (unsigned long long)(now_ms - s->news_ms));
            return;
        }
    }
    if (s->state == REPL_OPEN && s->peer_pos_done && quiet_due(s))
        pump(s);
    if (s->state == REPL_OPEN && now_ms - s->last_send_ms >= s->cfg.keepalive_ms) {
        uint8_t ping[] = {0x92, 0xa4, 'p', 'i', 'n', 'g', 0x00};
        queue_plain(s, ping, sizeof ping);
    }
}

void repl_session_notify(repl_session *s)
{
    tree_sync(s);
    if (s->state != REPL_OPEN || !s->peer_pos_done)
        return;
    refresh_mine(s);
    pump(s);
}

bool repl_session_want_write(const repl_session *s)
{
    return s->out_head != NULL;
}

repl_state repl_session_state(const repl_session *s)
{
    return s->state;
}

const char *repl_session_error(const repl_session *s)
{
    return s->error;
}

/* Fills st->waiting_for_tree and st->wait_reason: whether this link waits
 * for a unit tree one side does not know yet, and why (see repl_stats). */
static void stats_tree_wait(const repl_session *s, repl_stats *st)
{
    const char *self = s->self_unit, *peer = s->stats.peer_unit;
    size_t cap = sizeof st->wait_reason;
    st->waiting_for_tree = false;
    st->wait_reason[0] = '\0';
    if (s->state != REPL_OPEN || !s->peer_pos_done)
        return;
    bool marks_there = s->stats.kind == LINK_DOWN || s->stats.kind == LINK_MIRROR;
    bool marks_here = s->stats.kind == LINK_UP || s->stats.kind == LINK_MIRROR;
    if (s->stats.news)
        snprintf(st->wait_reason, cap,
                 "units %s and %s disagree on their relation (%s here, %s there): one side "
                 "does not know a unit's move yet, so only membership entries travel",
                 self, peer, kind_word(s->stats.kind), kind_word(s->stats.peer_kind));
    else if (marks_there && memcmp(s->view_of_peer, s->peer_view, UNIT_VIEW_BYTES))
        snprintf(st->wait_reason, cap,
                 "this node's unit tree and %s's differ about %s's part of the tree (a unit "
                 "move is on its way): markers sent from here do not count there yet",
                 peer, peer);
    else if (marks_here && s->rx_view_set && memcmp(s->rx_view, s->own_view, UNIT_VIEW_BYTES))
        snprintf(st->wait_reason, cap,
                 "%s's unit tree and this node's differ about %s's part of the tree (a unit "
                 "move is on its way): markers from %s do not count here yet",
                 peer, self, peer);
    st->waiting_for_tree = st->wait_reason[0] != '\0';
}

void repl_session_stats(const repl_session *s, repl_stats *st)
{
    *st = s->stats;
    st->positioned = s->state == REPL_OPEN && s->peer_pos_done;
    stats_tree_wait(s, st);
    st->state = s->state;
    st->batches_in_flight = s->in_flight;
    st->marks_waiting = s->nquiet;
    st->origin_slots = s->used;
    st->origin_bytes = s->cap * sizeof *s->slots + s->nfar * sizeof *s->far;
    st->to_send = st->to_receive = 0;
    const origin_slot *own = origin_get((repl_session *)s, s->cfg.pk, false);
    st->peer_own_seq = own ? own->peer : 0;
    for (size_t i = 0; i < s->cap; i++) {
        const origin_slot *o = &s->slots[i];
        if (!o->used)
            continue;
        if (slot_wanted(s, o) && o->mine > o->cursor)
            st->to_send += o->mine - o->cursor;
        if (o->peer > o->mine)
            st->to_receive += o->peer - o->mine;
    }
    for (size_t i = 0; i < s->nfar; i++)
        if (s->far[i].peer > s->far[i].mine)
            st->to_receive += s->far[i].peer - s->far[i].mine;
}

/* outbox take() for repl_session_pending: counts, keeps nothing. */
typedef struct {
    uint64_t entries, bytes;
} pending_count;

static int pending_take(void *ctx, const uint8_t *bytes, size_t len)
{
    pending_count *p = ctx;
    (void)bytes;
    p->entries++;
    p->bytes += len;
    return 0;
}

int repl_session_pending(repl_session *s, uint64_t *entries, uint64_t *bytes)
{
    *entries = *bytes = 0;
    tree_sync(s);
    if (s->state != REPL_OPEN || !s->peer_pos_done)
        return -1;
    refresh_mine(s);
    pending_count pc = {0, 0};
    outbox_scan ob = scan_rule(s, pending_take, &pc);
    for (size_t i = 0; i < s->cap; i++) {
        const origin_slot *o = &s->slots[i];
        if (!slot_wanted(s, o))
            continue;
        /* the ranges send_batch scans: the log up to the complete position
         * where the link vouches, membership news beyond it (an origin the
         * link does not vouch for, such as a commune's below the peer on a
         * province's down link, costs no pass over its log) */
        if (log_wanted(s, o)) {
            ob.membership = false;
            ob.considered = o->cursor;
            ob.kind = slot_kind(s, o);
            if (s->ops->scan(s->ctx, o->origin, o->cursor, o->mine, outbox_scan_entry, &ob) < 0)
                return -1;
            ob.kind = s->stats.kind;
        }
        uint64_t from;
        if (news_wanted(s, o, &from)) {
            ob.membership = true;
            ob.considered = from;
            if (s->ops->scan(s->ctx, o->origin, from, UINT64_MAX, outbox_scan_entry, &ob) < 0)
                return -1;
        }
    }
    *entries = pc.entries;
    *bytes = pc.bytes;
    return 0;
}
