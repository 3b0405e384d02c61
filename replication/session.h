/*
 * session.h - the replication protocol as a sans-IO state machine (the
 * nghttp2 shape): fed with received messages and the current time, it
 * emits messages to send and applies entries through the store operations
 * it is given. It holds no sockets and no timers, so the same code runs
 * over a WebSocket (node/links/repl_link.c) and inside the deterministic
 * simulator (tests/sim). The protocol is specified in docs/protocol.md.
 *
 * One session is one link between two nodes. Both sides run the same
 * code; `initiator` only decides the roles in the key exchange.
 *
 * Time: every now_ms argument is wall-clock time in milliseconds since the
 * Unix epoch (hlc_wall_ms() in a node, virtual time in the simulator). It
 * checks certificate validity and drives keep-alives and timeouts; a
 * monotonic clock such as uv_now() would make every certificate look
 * expired.
 *
 *   hello   plaintext: version, node key, ephemeral X25519 key, a fresh
 *           challenge and the certificate chain up to the trust root
 *   auth    plaintext: Ed25519 signature over the peer's challenge and
 *           both ephemeral keys, and this side's secretstream header;
 *           everything after it is encrypted (X25519 + secretstream)
 *   pos     this node's "complete" position per origin, the link kind as
 *           this side sees it and this node's view (unit_tree_view); sent
 *           when the session opens and again whenever the unit tree changed
 *   batch   entries the peer should hold, markers (origin, from, to, unit):
 *           "everything of origin in (from, to] you should hold is sent",
 *           and the sender's view of the receiver
 *   ack     the batch is durable at the receiver
 *   ping / pong, err
 *
 * Tree changes (a unit moved, see docs/protocol.md): the session watches
 * the node's tree generation. When it moves, the session recomputes the
 * link kind and its views, restarts its cursors from what the peer is
 * known to hold and sends a new pos; the peer restarts its cursors from
 * that pos, so positions the node lowered are filled again. A marker
 * counts only when the sender's view of the receiver is the receiver's own
 * (a parent or mirror with an older tree may not have sent everything) and
 * the receiver's position reaches its `from`. When the two sides disagree
 * on their relation (one of them does not know a move yet) the link
 * carries only membership entries (route_news) until they agree; when both
 * say they are unrelated, or they still disagree after timeout_ms, it
 * closes. Down, to a mirror and in news mode, the membership entries
 * addressed to the peer that lie beyond this node's complete position
 * follow the vouched ones, without markers, so a move travels even while
 * the complete position waits for it (docs/protocol.md, "Tree changes").
 */
#ifndef LT_REPL_SESSION_H
#define LT_REPL_SESSION_H

#include "replication/route.h"
#include "storage/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REPL_SUBPROTOCOL "lienthong-repl.1"
#define REPL_VERSION 2 /* 2: pos carries kind and view, markers a from, batches a view */

typedef struct repl_session repl_session;

/* How far the node's unit tree has moved: tree counts reloads, lowered the
 * reloads that lowered complete positions (see repl_node_reload). */
typedef struct {
    uint64_t tree, lowered;
} repl_generation;

typedef struct {
    const uint8_t *pk; /* this node's Ed25519 key pair */
    const uint8_t *sk;
    const uint8_t *root_key; /* the network's trust root */
    bool initiator;          /* this side dialled */
    size_t max_frame;        /* largest message accepted (default 1 MiB) */
    size_t batch_bytes;      /* target batch size (default 256 KiB) */
    unsigned window;         /* batches in flight (default 4) */
    uint64_t keepalive_ms;   /* ping after this much silence (default 10 s) */
    uint64_t timeout_ms;     /* give up after this much silence (default 30 s) */
    /* Markers of origins this link carried no entries of ("quiet markers")
     * ride on the next batch with entries, or go alone once no marker
     * joined them for marks_idle_ms (default 200 ms) or the first waited
     * marks_max_ms (default 2 s); see docs/protocol.md. */
    uint64_t marks_idle_ms, marks_max_ms;
    bool defer_verify; /* hand signature checks out as jobs (see below) */
} repl_config;

/* How a session reaches the node's store. Every call is synchronous. */
typedef struct {
    /* This node's unit code (NUL-terminated). */
    const char *(*unit)(void *ctx);
    /* This node's certificate chain: raw cert entries, its own first, the
     * root's self-certificate last. */
    int (*chain)(void *ctx, const store_input **certs, size_t *n);
    /* The unit tree used for routing. */
    const unit_tree *(*tree)(void *ctx);
    /* Calls fn for every origin whose complete position changed after
     * *since, a version this call set before (0: every origin this node
     * holds entries of, those at position 0 included: membership news
     * beyond the positions must reach them too), and sets *since. */
    int (*positions)(void *ctx, uint64_t *since,
                     int (*fn)(void *fctx, const uint8_t *origin, uint64_t seq, const char *unit),
                     void *fctx);
    /* Calls fn for each entry of origin with after < seq <= upto in seq
     * order; fn returns non-zero to stop early. */
    int (*scan)(void *ctx, const uint8_t *origin, uint64_t after, uint64_t upto,
                int (*fn)(void *fctx, uint64_t seq, const uint8_t *bytes, size_t len), void *fctx);
    /* Applies verified entries and markers in one durable transaction;
     * results[i] per entry. Returns 0, or -1 on a storage failure. */
    int (*apply)(void *ctx, const store_input *in, size_t n, const store_mark *marks, size_t nmarks,
                 apply_result *results);
    /* The tree's generation; it changes whenever tree() may answer
     * differently or positions went down. NULL: the tree never changes. */
    repl_generation (*generation)(void *ctx);
    /* The certificate chain of node key subject as chain_collect gives it
     * (at most CHAIN_MAX malloc'd copies in certs, its own first): sent
     * ahead of its entries to a peer the certificates are not routed to.
     * Returns the count, or -1. NULL: entries travel without chains. */
    int (*chain_of)(void *ctx, const uint8_t *subject, store_input *certs);
} repl_store_ops;

typedef enum {
    REPL_HANDSHAKE = 0, /* hello/auth in progress */
    REPL_OPEN,          /* authenticated and encrypted: syncing */
    REPL_CLOSED,        /* failed or closed: see repl_session_error */
} repl_state;

/* What a session has done, for the sync status API. */
typedef struct {
    repl_state state;
    link_kind kind;      /* as this side's tree says */
    link_kind peer_kind; /* as the peer's tree says (LINK_NONE until its pos) */
    bool positioned;     /* the peer's pos arrived: kind and mode are settled */
    bool news;           /* the sides disagree: only membership entries travel */
    /* The link waits for a unit tree one side does not know yet (a move on
     * its way): in news mode, or the two trees give the receiver of markers
     * different views, so markers do not count and positions stay short.
     * wait_reason says which, in words for an operator ("" when not). */
    bool waiting_for_tree;
    char wait_reason[256];
    char peer_unit[33];
    uint8_t peer_key[32];
    uint64_t entries_sent, entries_received, bytes_sent, bytes_received;
    uint64_t batches_in_flight;
    uint64_t marks_waiting;    /* origins whose quiet markers wait (see repl_config) */
    uint64_t origin_slots;     /* origins the session tracks */
    uint64_t origin_bytes;     /* memory of its origin table */
    uint64_t last_exchange_ms; /* last ack received or batch applied */
    uint64_t to_send;          /* entries of vouchable origins not yet considered (upper bound) */
    uint64_t to_receive;       /* entries the peer holds beyond ours, by position */
    /* How far the peer holds this node's own log (cfg.pk): its position
     * for that origin in its pos, raised by counted markers (0: none). A
     * node restored from a backup waits for its parent's before it writes
     * (node/restore_gate.h). */
    uint64_t peer_own_seq;
} repl_stats;

/* A new session; copies cfg. NULL when out of memory. */
repl_session *repl_session_new(const repl_config *cfg, const repl_store_ops *ops, void *store_ctx,
                               uint64_t now_ms);

/* Frees the session. NULL is ignored. */
void repl_session_free(repl_session *s);

/* Feeds one received message. Returns 0, or -1 when the session closed
 * because of it (the reason is in repl_session_error and an "err" message
 * for the peer is queued). */
int repl_session_recv(repl_session *s, const uint8_t *msg, size_t len, uint64_t now_ms);

/* The next message to send: 1 with *msg and *len set (valid until the next call),
 * 0 when there is nothing to send now. */
int repl_session_next_out(repl_session *s, const uint8_t **msg, size_t *len);

/* Advances time: keep-alives, silence timeouts. */
void repl_session_tick(repl_session *s, uint64_t now_ms);

/* Tells the session the store gained entries or positions (a local write,
 * another link): it will push what the peer should receive. */
void repl_session_notify(repl_session *s);

/* True when next_out has something. */
bool repl_session_want_write(const repl_session *s);

/* The session's state; a closed session never reopens. */
repl_state repl_session_state(const repl_session *s);

/* Why the session closed ("" while it is not closed). */
const char *repl_session_error(const repl_session *s);

/* Fills *st. */
void repl_session_stats(const repl_session *s, repl_stats *st);

#ifdef LT_FUZZ
/* Fuzz builds only (-DLT_FUZZ=ON): queues msg as this side's next message,
 * encrypted like every other once the session is open, so that fuzzed
 * plaintext reaches the peer's message handling past the handshake
 * (tests/fuzz/fuzz_session.c). */
void repl_session_fuzz_send(repl_session *s, const uint8_t *msg, size_t len);

/* Fuzz builds only: when set, called with every plaintext message any
 * session queues (to record a seed corpus of real messages). */
extern void (*repl_session_fuzz_tap)(const uint8_t *msg, size_t len);
#endif

/* Exactly what this link still has to send: walks every origin the session
 * may vouch for from the link's cursor to this node's complete position
 * (refreshed from the store first), applying the routing rule as a batch
 * would (replication/outbox.h) but taking nothing. *bytes counts entry
 * bytes, not framing. Costs one scan of the backlog: throttle callers.
 * Returns 0, or -1 (both 0) when the session is not open and synced yet
 * or the store could not be read. */
int repl_session_pending(repl_session *s, uint64_t *entries, uint64_t *bytes);

/* Verification jobs. With cfg.defer_verify, a received batch is not
 * checked inside repl_session_recv: the session hands out a job, the
 * caller runs repl_verify_job_run on any thread (a libuv thread pool: it
 * touches only the job's memory) and reports it done on the session's
 * thread. Batches are applied and acknowledged in arrival order once
 * verified, so verification of later batches overlaps the apply of
 * earlier ones. The job's memory stays valid until repl_session_free; a
 * session must not be freed while one of its jobs runs. */
typedef struct {
    uint64_t id;
    const store_input *entries;
    size_t n;
    bool *ok; /* out: ok[i] when entry i is well-formed and correctly signed */
} repl_verify_job;

/* The next verification job: 1 with *job filled, 0 when there is none. */
int repl_session_next_job(repl_session *s, repl_verify_job *job);

/* Checks every entry of the job: its shape, and its signature one per run
 * of hash-linked entries of one origin (entry_run_verify), entry by entry
 * where a run fails. Thread-safe. */
void repl_verify_job_run(const repl_verify_job *job);

/* Reports job_id done; applies what is now ready. Returns 0, or -1 when
 * the session closed (a forged entry: nothing of that batch applied). */
int repl_session_job_done(repl_session *s, uint64_t job_id, uint64_t now_ms);

#endif
