/*
 * sim.h - a deterministic network simulator for replication, in the
 * FoundationDB style: many real nodes in one process, one seeded PRNG
 * driving everything, and a virtual clock.
 *
 * Each node is a real LMDB store (reopened on restart), a real node_config
 * with its key and certificate (enrolled with network_enroll_local), and a
 * repl_node. A link joins a lower node to one of its upstreams, in order of
 * preference: its parent unit's server(s), then its grandparent (failover,
 * dialled while the parent cannot be reached; the primary is probed and
 * the failover link closed once it is back). A unit may have a second
 * server (a mirror). A connected link is a pair of repl_sessions; their
 * messages travel through a priority queue of timed events, each after the
 * line is free (bandwidth) plus a random latency, in FIFO order per link
 * direction (sessions need in-order delivery, as over TCP), so reordering
 * only happens between links. Deferred verification jobs finish after
 * random delays, out of order. Faults: connection drops, cut links
 * (partitions: messages wait for the end of the cut, or the sessions time
 * out), latency spikes, node crashes (sessions freed, store closed and
 * reopened), clock skew, and units moving to new parents. After
 * sim_heal, sim_settle runs until the network is quiet and sim_check
 * compares every node with what the routing rule says it must hold.
 *
 * Virtual time starts at 0 when sim_start returns; a node's clock (for its
 * sessions and, when skewed, its HLCs) is the wall time of that moment
 * plus the virtual time plus its skew.
 *
 * Replay: with sim_random_install() called before sodium_init(), every key,
 * challenge and nonce comes from the seed as well, so one seed replays the
 * same run event for event (only HLC values of unskewed writes, taken from
 * the wall clock inside store_write_local, differ between runs).
 */
#ifndef LT_SIM_H
#define LT_SIM_H

#include "storage/entry.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct sim sim;

#define SIM_MAX_DEPTH 8 /* tiers, as NODE_MAX_TIERS */

typedef struct {
    uint64_t seed;
    size_t map_size;                         /* initial LMDB map per store */
    size_t batch_bytes;                      /* session batch target */
    size_t max_frame;                        /* largest message a session accepts */
    unsigned window;                         /* session batches in flight */
    uint64_t keepalive_ms, timeout_ms;       /* session timers */
    uint32_t latency_min_ms, latency_max_ms; /* per-message delay */
    uint32_t spike_permille;                 /* chance of a long delay on a message */
    uint32_t spike_max_ms;                   /* longest such delay */
    uint64_t tick_ms;                        /* how often sessions are ticked */
    uint64_t notify_ms;                      /* relay notifications are coalesced this long */
    uint64_t probe_ms;            /* on failover, how often the primary upstream is retried */
    uint64_t overlap_ms;          /* failover link kept this long after the primary is back */
    uint64_t backoff_max_ms;      /* longest wait between failed dials */
    uint32_t kbps[SIM_MAX_DEPTH]; /* bandwidth (kbit/s) of links whose lower node is
                                     at depth d, per direction; 0 = unlimited */
    uint32_t defer_permille;      /* sessions verifying batches as deferred jobs */
    uint32_t job_max_ms;          /* a job finishes 0..this after it is handed out, so
                                     jobs of one session finish out of order */
    FILE *trace;                  /* event trace (NULL: none) */
} sim_config;

typedef struct {
    uint64_t delivered, bytes, dropped_msgs; /* messages delivered / lost with a connection */
    uint64_t entries_moved;                  /* entries carried by batches */
    uint64_t connects, dial_failures, teardowns, timeouts;
    uint64_t crashes, cuts, writes, notifies, jobs;
    uint64_t refused;        /* changes write authority refused at the writer: an honest
                                node that has not learnt a move or merge yet (the entry
                                never exists, on any node) */
    uint64_t moves;          /* units moved to a new parent (sim_move) */
    uint64_t restores;       /* disks lost and restored from an older copy (sim_restore) */
    uint64_t merges;         /* units merged away (sim_merge, sim_retire_tier) */
    uint64_t session_errors; /* sessions closed for a reason other than a timeout */
    uint64_t nudges;         /* sessions that had something to send only when sim_settle's
                                final notification asked, all else being idle */
    uint64_t sessions;       /* open sessions now, */
    uint64_t origin_slots;   /* the origins they track */
    uint64_t origin_bytes;   /* and the memory of their origin tables */
} sim_stats;

/* Fills cfg with the defaults for seed (8 MiB maps, 4 KiB batches, window 4,
 * 10 s / 30 s timers, 1-40 ms latency, no spikes, 500 ms ticks, inline
 * verification). */
void sim_config_default(sim_config *cfg, uint64_t seed);

/* A new, empty simulation whose node directories go under dir (created)
 * and whose network uses the given tier list. NULL when out of memory. */
sim *sim_new(const sim_config *cfg, const char *dir, const char *const *tiers, size_t ntiers);

/* Frees everything: sessions, pending messages, repl_nodes, stores. The
 * directories stay. NULL is ignored. */
void sim_free(sim *s);

/* Adds a node of unit code `unit` under node `parent` (-1 for the root,
 * which must come first; parents before children). Its tier is the tier
 * list's entry at its depth. Returns the node's index, or -1. */
int sim_add_node(sim *s, const char *unit, int parent);

/* Adds a second server of node `of`'s unit (a mirror: same unit and tier,
 * enrolled by `of`, which must be a unit's first server without a mirror
 * yet). It dials `of` (a mirror link carrying everything), then the parent
 * unit; the children of the unit dial one of its two servers first (at
 * random), then the other, then their grandparent. Returns its index, or -1. */
int sim_add_mirror(sim *s, int of);

/* Creates every node's data dir, makes node 0 the trust root, enrols every
 * other node with its parent (network_enroll_local), opens all stores and
 * starts dialling. Returns 0, or -1 with err. */
int sim_start(sim *s, char *err, size_t errlen);

/* The virtual time in ms. */
uint64_t sim_now(const sim *s);

/* Processes every event up to virtual time t, then sets the clock to t. */
void sim_run_until(sim *s, uint64_t t);

/* Runs (after sim_heal) until the network is quiet: every node up and
 * connected to its primary upstream, no failover link left, no batch or
 * handshake message in flight, and a notification of every session sends
 * nothing. Returns true when quiet within max_ms (then *took_ms, if
 * non-NULL, is the virtual time it took). */
bool sim_settle(sim *s, uint64_t max_ms, uint64_t *took_ms);

/* Prints why the network is not quiet: nodes down or off their primary,
 * failover links, messages in flight, sessions with work left, and the
 * unexpected session errors so far. */
void sim_explain(sim *s, FILE *f);

/* ---- faults ---------------------------------------------------------------- */

/* Crashes node i (its sessions vanish, its store is closed) and restarts it
 * (store reopened, repl_node_init) after down_ms. */
void sim_crash(sim *s, int i, uint64_t down_ms);

/* Cuts node i's links for ms: only those to its upstreams, or, with
 * isolate, those to its children too. Messages on a cut link wait for the
 * end of the cut (sessions may time out meanwhile); dials fail. */
void sim_cut(sim *s, int i, bool isolate, uint64_t ms);

/* Drops node i's open upstream connections (as a reset TCP connection
 * would): both sessions are freed and the node dials again after backoff. */
void sim_drop(sim *s, int i);

/* Gives node i a clock off by skew_ms: its writes then carry HLCs from the
 * skewed clock (written with entry_encode + store_apply). */
void sim_set_skew(sim *s, int i, int64_t skew_ms);

/* Allows (true) or stops (false) latency spikes. */
void sim_set_spikes(sim *s, bool on);

/* Backs node i's store up (a copy of its LMDB file, taken between
 * events, so consistent), replacing its previous backup. 0, or -1 when
 * the node is down or the copy failed. */
int sim_backup(sim *s, int i);

/* Node i loses its disk and is restored from its last sim_backup: its
 * store is replaced by that copy and it restarts after down_ms. Until it
 * holds its own log again as far as its neighbours do (a server of its
 * parent unit or a mirror has told its positions), it signs nothing, as
 * node/restore_gate.h does: sim_write at it fails quietly. Done only when
 * every upstream and mirror of the node holds its whole log (the case
 * docs/operations.md, "Restore", covers without a rotation) and no
 * neighbour of it is itself restored and catching up; while it catches
 * up, its unit does not move (sim_move). Returns 0 when done, -1 when not
 * (no backup, node down, log not yet up, a neighbour catching up). */
int sim_restore(sim *s, int i, uint64_t down_ms);

/* Ends every cut, restarts every crashed node now and stops spikes. */
void sim_heal(sim *s);

/* Moves node i (and its subtree) under node np, of a tier above its own
 * (neither with a second server; np a unit's first server): the
 * root writes the unit's new "units" record and node i's upstreams (and
 * its children's failover links) are reconfigured at once, as operators
 * would; nodes whose tree does not know the move yet learn it over their
 * links. One move at a time: returns -1 while one is pending (not yet in
 * every running node's tree), or when the root is down. */
int sim_move(sim *s, int i, int np);

/* Merges node x's unit into node c's (first servers of live units of one
 * tier, not the root), as `lienthong unit merge` does
 * (node/membership/unit_ops.h): the root patches x's "units" record (its
 * place, merged_into, retired) and writes the operation in "unit_ops",
 * both to everyone, and rewrites the records of x's children under c, one
 * after the other; their nodes are relinked as sim_move does. x's node
 * keeps running under its parent. Returns 0, or -1 (nothing written) when
 * the units do not fit, a child cannot move (it has a second server), a
 * move is pending or the root is down. */
int sim_merge(sim *s, int x, int c);

/* Retires the tier at depth, as `lienthong unit retire-tier`: every live
 * unit of it is merged into its parent as sim_merge does, its children
 * moving under that parent, all at once (even while a move is pending).
 * Returns how many units were merged. */
int sim_retire_tier(sim *s, int depth);

/* True while a unit move (of sim_move, sim_merge or sim_retire_tier) is
 * not yet in every running node's tree. */
bool sim_move_pending(const sim *s);

/* True when node i's unit was merged away. */
bool sim_node_retired(const sim *s, int i);

/* ---- writes ----------------------------------------------------------------- */

/* Writes one entry at node i (store_write_local, or the skewed path) with
 * a small body {"title": text, "by": unit}, then notifies the node's open
 * sessions. Returns 0, or -1 (node down or write refused: printed). */
int sim_write(sim *s, int i, const char *coll, const char *id, entry_op op, const char *const *to,
              size_t nto, const char *text);

/* A random write fitting node i's place in the tree: a leaf writes
 * reports (going up only, sometimes addressed to a sibling) and patches or
 * deletes its own; higher nodes write documents addressed to "*", to a
 * unit's subtree ("U*"), to one unit ("U"), now and then to a unit in
 * another branch or to an unknown unit, and patch reports of their
 * subtree addressed back to the reporting unit. Returns 0 or -1. */
int sim_write_random(sim *s, int i);

/* ---- checks ----------------------------------------------------------------- */

typedef struct {
    unsigned verify_nodes; /* store_verify this many random nodes (and the root) */
    unsigned fresh_nodes;  /* rebuild this many random nodes' expected sets in fresh stores
                              (and the root's) and compare digests */
    unsigned max_report;   /* problems printed (the rest only counted); 0 = 40 */
} sim_check_opts;

/* Checks the settled network: every node holds exactly the entries the
 * routing rule gives it over the final unit tree (both servers of a unit
 * the same set), with no duplicates and no equivocation; nodes holding the
 * same entries of a collection have equal digests and live counts; fresh
 * replays match (the root's: of every entry); store_verify finds nothing;
 * every open session has nothing left to send; no session closed for an
 * unexpected reason; and settling never needed a nudge (sim_stats).
 * After unit moves, entries that an earlier tree routed to a node may
 * stay there. Prints each problem (node, origin, seq) to stderr and
 * returns their number (-1 on an internal error). */
long sim_check(sim *s, const sim_check_opts *opts);

/* ---- inspection and randomness ------------------------------------------- */

/* Counters so far. */
void sim_stats_get(const sim *s, sim_stats *st);

/* Number of nodes, and node i's unit code, name (the unit, or "U-m" for a
 * second server), its unit's first server, parent (the parent unit's first
 * server; -1 for the root), depth and whether it is up (not crashed). */
int sim_node_count(const sim *s);
const char *sim_node_unit(const sim *s, int i);
const char *sim_node_name(const sim *s, int i);
int sim_node_first(const sim *s, int i);
int sim_node_parent(const sim *s, int i);
int sim_node_depth(const sim *s, int i);
bool sim_node_is_up(const sim *s, int i);

/* Total entries held by all nodes, and held by the root. */
uint64_t sim_entries_total(sim *s);
uint64_t sim_entries_root(sim *s);

/* The simulation's PRNG (xoshiro256**, seeded from cfg.seed). */
uint64_t sim_rand(sim *s);
/* Uniform in [0, n); 0 when n is 0. */
uint64_t sim_below(sim *s, uint64_t n);

/* Replaces libsodium's randombytes with a seeded generator, so keys,
 * challenges and nonces replay. Call once, before sodium_init(). */
void sim_random_install(void);

/* Reseeds that generator (call before sim_start of each seed). */
void sim_random_seed(uint64_t seed);

/* Picks the directory for simulator data: $TMPDIR when set, else /dev/shm
 * when writable (every LMDB commit is synced: tmpfs makes that free), else
 * /tmp. Sets TMPDIR accordingly, for check_tmpdir(). */
void sim_pick_tmpdir(void);

/* Removes directory path and everything under it. */
void sim_rmtree(const char *path);

/* Seconds of the monotonic clock (wall time of the scale runs). */
double sim_wall_s(void);

/* This process's peak resident set, MiB. */
long sim_peak_rss_mb(void);

#endif
