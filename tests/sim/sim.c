/*
 * sim.c - the deterministic replication simulator. See sim.h.
 *
 * Layout: PRNGs (the sim's, and the seeded randombytes for libsodium); the
 * event heap; the store operations (repl_node's, with a hook after apply);
 * nodes, mirrors and links (dial, connect, service, teardown, the failover
 * plan); faults; the event loop and settling; writes; unit moves; the
 * checks (an oracle built from the authors' own logs and the sim's own
 * tree versions, independent of what the relays did, cross-checked with
 * route.c).
 */
#include "tests/sim/sim.h"
#include "node/domains.h"

#include "lib/hex.h"
#include "node/membership/network.h"
#include "replication/repl_node.h"

#include <errno.h>
#include <ftw.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Encrypted size of a ping, a pong, or an ack of a batch id < 128 (7 bytes
 * + the 17-byte tag): messages that do not keep the network busy (an ack's
 * batch still counts as in flight at its sender). */
#define CHATTER_LEN 24
#define MAX_ERRORS_KEPT 200

/* ---- PRNGs: xoshiro256** seeded by splitmix64 --------------------------------- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t xoshiro_next(uint64_t st[4])
{
    uint64_t r = rotl(st[1] * 5, 7) * 9, t = st[1] << 17;
    st[2] ^= st[0];
    st[3] ^= st[1];
    st[1] ^= st[2];
    st[0] ^= st[3];
    st[2] ^= t;
    st[3] = rotl(st[3], 45);
    return r;
}

static void xoshiro_seed(uint64_t st[4], uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        st[i] = splitmix64(&seed);
}

static uint64_t rb_state[4] = {1, 2, 3, 4};

static const char *rb_name(void)
{
    return "lienthong-sim";
}

static uint32_t rb_random(void)
{
    return (uint32_t)(xoshiro_next(rb_state) >> 32);
}

static void rb_buf(void *const buf, const size_t size)
{
    uint8_t *p = buf;
    for (size_t i = 0; i < size; i += 8) {
        uint64_t r = xoshiro_next(rb_state);
        memcpy(p + i, &r, size - i < 8 ? size - i : 8);
    }
}

static randombytes_implementation sim_randombytes = {rb_name, rb_random, NULL, NULL, rb_buf, NULL};

void sim_random_install(void)
{
    randombytes_set_implementation(&sim_randombytes);
}

void sim_random_seed(uint64_t seed)
{
    xoshiro_seed(rb_state, seed ^ 0x5eed5eed5eed5eedull);
}

/* ---- structures ------------------------------------------------------------------ */

enum { EV_DELIVER = 1, EV_TICK, EV_DIAL, EV_CLOSE, EV_RESTART, EV_NOTIFY, EV_JOB };

typedef struct {
    uint64_t at, order;
    int kind;
    int a, b;     /* link and destination side, or node and rank */
    uint64_t gen; /* connection / dial / crash generation the event belongs to */
    uint8_t *msg;
    size_t len;
    repl_verify_job *job; /* EV_JOB: valid while the connection (gen) lives */
} sim_event;

typedef struct sim_node sim_node;

typedef struct {
    int lo, hi;           /* lower node dials its upstream hi */
    int rank;             /* 0: primary (parent), 1: failover (grandparent) */
    repl_session *ses[2]; /* [0] at lo, [1] at hi; NULL when not connected */
    uint64_t gen;
    uint64_t cut_until;
    uint64_t last_at[2]; /* latest scheduled delivery towards side i (FIFO) */
    uint64_t busy;       /* messages of this connection in flight, chatter aside */
    uint64_t free_us[2]; /* when the line towards side i is free again (bandwidth) */
    bool close_pending;
    bool opened;  /* both sessions reached REPL_OPEN on this connection */
    bool retired; /* replaced after a unit moved: never used again */
} sim_link;

#define MAX_UP 3 /* upstreams: the parent unit's two servers and the grandparent */

/* One version of the sim's own model of the unit tree (the "units" records
 * as the root wrote them), per node index (a unit's first server stands
 * for it): the oracle routes with it, independently of route.c. */
typedef struct {
    int *parent; /* the parent unit's first server, or -1 */
    int *succ;   /* the unit it was merged into ("merged_into"), or -1 */
} sim_tree;

struct sim_node {
    node_config c;
    store *st;
    repl_node rn;
    char unit[NODE_CODE_MAX];
    char name[NODE_CODE_MAX + 8]; /* unit, or unit-m for a second server */
    int parent, depth;            /* parent: the parent unit's first server */
    int canon;         /* the first server of this node's unit (itself, or for a mirror) */
    bool unit_retired; /* its unit was merged away (sim_merge): a parent no more */
    int mirror;        /* a first server's second server, or -1 */
    int *children;     /* first servers of the child units (first servers only) */
    size_t nchildren;
    int up[MAX_UP]; /* upstream link indexes, in order of preference */
    int nup;
    int *links; /* every link touching this node */
    size_t nlinks;
    bool alive;
    uint64_t crash_gen;
    uint64_t changes_seen; /* rn.changes when its links were last notified */
    bool notify_pending;
    uint64_t dial_gen;
    unsigned failures;
    int next_rank;
    int64_t skew_ms;
    hlc_t last_hlc;
    unsigned nreports, ndocs;
    bool has_backup; /* sim_backup made DIR/backup.mdb */
    bool restoring;  /* restored: signs nothing until it caught up (restore_caught_up) */
};

struct sim {
    sim_config cfg;
    char *dir;
    char tiers[NODE_MAX_TIERS][NODE_CODE_MAX];
    size_t ntiers;
    uint64_t rng[4];
    uint64_t now, base_ms, order;
    sim_event *heap;
    size_t nheap, capheap;
    uint64_t busy_msgs; /* messages in flight other than keep-alive chatter */
    uint64_t notifies_pending;
    uint64_t jobs_pending;
    sim_node *nodes;
    int nnodes, capnodes;
    sim_link *links;
    int nlinks, caplinks;
    sim_tree *hist; /* the tree, per version (unit moves and merges) */
    size_t nhist;
    int move_node, move_parent; /* a move written but not yet known everywhere */
    uint64_t merges;
    uint64_t moves;
    bool started, spikes;
    sim_stats stats;
    char **errors; /* unexpected session errors (the first MAX_ERRORS_KEPT) */
    size_t nerrors;
    uint64_t errors_seen;
};

/* ---- small helpers ------------------------------------------------------------- */

uint64_t sim_rand(sim *s)
{
    return xoshiro_next(s->rng);
}

uint64_t sim_below(sim *s, uint64_t n)
{
    return n ? sim_rand(s) % n : 0;
}

static void trace(sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void trace(sim *s, const char *fmt, ...)
{
    if (!s->cfg.trace)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(s->cfg.trace, "[%8llu] ", (unsigned long long)s->now);
    vfprintf(s->cfg.trace, fmt, ap);
    fputc('\n', s->cfg.trace);
    va_end(ap);
}

static void note_error(sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note_error(sim *s, const char *fmt, ...)
{
    char buf[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    trace(s, "ERROR %s", buf);
    s->errors_seen++;
    if (s->nerrors == MAX_ERRORS_KEPT)
        return;
    char **n = realloc(s->errors, (s->nerrors + 1) * sizeof *n);
    if (!n)
        return;
    s->errors = n;
    s->errors[s->nerrors++] = strdup(buf);
}

static uint64_t vclock(const sim *s)
{
    return s->base_ms + s->now;
}

/* Node n's wall clock: the virtual clock plus its skew. */
static uint64_t node_clock(const sim *s, const sim_node *n)
{
    int64_t t = (int64_t)vclock(s) + n->skew_ms;
    return t > 0 ? (uint64_t)t : 0;
}

static char *store_path(const sim_node *n, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/data", n->c.dir);
    return buf;
}

/* ---- the event heap ------------------------------------------------------------ */

static bool ev_before(const sim_event *a, const sim_event *b)
{
    return a->at < b->at || (a->at == b->at && a->order < b->order);
}

static void ev_push(sim *s, sim_event ev)
{
    if (s->nheap == s->capheap) {
        size_t ncap = s->capheap ? 2 * s->capheap : 1024;
        sim_event *h = realloc(s->heap, ncap * sizeof *h);
        if (!h) {
            fprintf(stderr, "sim: out of memory\n");
            abort();
        }
        s->heap = h;
        s->capheap = ncap;
    }
    ev.order = ++s->order;
    size_t i = s->nheap++;
    while (i) {
        size_t p = (i - 1) / 2;
        if (!ev_before(&ev, &s->heap[p]))
            break;
        s->heap[i] = s->heap[p];
        i = p;
    }
    s->heap[i] = ev;
}

static sim_event ev_pop(sim *s)
{
    sim_event top = s->heap[0], last = s->heap[--s->nheap];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const sim_event *best = &last;
        if (l < s->nheap && ev_before(&s->heap[l], best))
            m = l, best = &s->heap[l];
        if (r < s->nheap && ev_before(&s->heap[r], best))
            m = r;
        if (m == i)
            break;
        s->heap[i] = s->heap[m];
        i = m;
    }
    if (s->nheap)
        s->heap[i] = last;
    return top;
}

/* ---- store operations: repl_node's, with a hook after apply ------------------- */

/* ---- creating the simulation -------------------------------------------------- */

void sim_config_default(sim_config *cfg, uint64_t seed)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->seed = seed;
    cfg->map_size = 8u << 20;
    cfg->batch_bytes = 4096;
    cfg->window = 4;
    cfg->keepalive_ms = 10000;
    cfg->timeout_ms = 30000;
    cfg->latency_min_ms = 1;
    cfg->latency_max_ms = 40;
    cfg->spike_permille = 0;
    cfg->spike_max_ms = 45000;
    cfg->tick_ms = 500;
    cfg->notify_ms = 2;
    cfg->probe_ms = 10000;
    cfg->overlap_ms = 2000;
    cfg->backoff_max_ms = 5000;
    cfg->defer_permille = 0;
    cfg->job_max_ms = 20;
}

sim *sim_new(const sim_config *cfg, const char *dir, const char *const *tiers, size_t ntiers)
{
    if (ntiers < 2 || ntiers > NODE_MAX_TIERS)
        return NULL;
    sim *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->cfg = *cfg;
    s->dir = strdup(dir);
    s->ntiers = ntiers;
    for (size_t i = 0; i < ntiers; i++)
        snprintf(s->tiers[i], NODE_CODE_MAX, "%s", tiers[i]);
    xoshiro_seed(s->rng, cfg->seed);
    s->spikes = cfg->spike_permille > 0;
    s->move_node = -1;
    if (!s->dir || (mkdir(dir, 0700) && errno != EEXIST)) {
        free(s->dir);
        free(s);
        return NULL;
    }
    return s;
}

int sim_add_node(sim *s, const char *unit, int parent)
{
    if (s->started || (parent < 0) != (s->nnodes == 0) || parent >= s->nnodes ||
        strlen(unit) >= NODE_CODE_MAX)
        return -1;
    int depth = parent < 0 ? 0 : s->nodes[parent].depth + 1;
    if ((size_t)depth >= s->ntiers)
        return -1;
    if (s->nnodes == s->capnodes) {
        int ncap = s->capnodes ? 2 * s->capnodes : 32;
        sim_node *n = realloc(s->nodes, (size_t)ncap * sizeof *n);
        if (!n)
            return -1;
        s->nodes = n;
        s->capnodes = ncap;
    }
    if (parent >= 0 && s->nodes[parent].canon != parent)
        return -1; /* children hang under a unit's first server */
    sim_node *n = &s->nodes[s->nnodes];
    memset(n, 0, sizeof *n);
    snprintf(n->unit, sizeof n->unit, "%s", unit);
    snprintf(n->name, sizeof n->name, "%s", unit);
    n->parent = parent;
    n->depth = depth;
    n->canon = s->nnodes;
    n->mirror = -1;
    return s->nnodes++;
}

int sim_add_mirror(sim *s, int of)
{
    if (s->started || of < 0 || of >= s->nnodes || s->nodes[of].canon != of ||
        s->nodes[of].mirror >= 0)
        return -1;
    int i = sim_add_node(s, s->nodes[of].unit, s->nodes[of].parent >= 0 ? s->nodes[of].parent : 0);
    if (i < 0)
        return -1;
    sim_node *n = &s->nodes[i], *first = &s->nodes[of];
    snprintf(n->name, sizeof n->name, "%s-m", first->unit);
    n->parent = first->parent;
    n->depth = first->depth;
    n->canon = of;
    first->mirror = i;
    return i;
}

static int add_link(sim *s, int lo, int hi, int rank)
{
    if (s->nlinks == s->caplinks) {
        int ncap = s->caplinks ? 2 * s->caplinks : 64;
        sim_link *nl = realloc(s->links, (size_t)ncap * sizeof *nl);
        if (!nl)
            abort();
        s->links = nl; /* events and nodes refer to links by index */
        s->caplinks = ncap;
    }
    sim_link *l = &s->links[s->nlinks];
    memset(l, 0, sizeof *l);
    l->lo = lo;
    l->hi = hi;
    l->rank = rank;
    sim_node *n = &s->nodes[lo];
    n->up[n->nup++] = s->nlinks;
    return s->nlinks++;
}

/* Node i's upstream links, in order of preference. A second server: its
 * unit's first server (a mirror link), then its parent unit. Others: the
 * parent unit's servers (the first or, at random, its mirror first), then
 * the grandparent unit. */
static void add_upstreams(sim *s, int i)
{
    sim_node *n = &s->nodes[i];
    int rank = 0;
    if (n->canon != i) {
        add_link(s, i, n->canon, rank++);
        if (n->parent >= 0)
            add_link(s, i, n->parent, rank++);
        return;
    }
    int p = n->parent, m = s->nodes[p].mirror;
    bool mirror_first = m >= 0 && sim_below(s, 2);
    add_link(s, i, mirror_first ? m : p, rank++);
    if (m >= 0)
        add_link(s, i, mirror_first ? p : m, rank++);
    if (s->nodes[p].parent >= 0)
        add_link(s, i, s->nodes[p].parent, rank++);
}

/* Every node's list of the (not retired) links touching it. */
static int build_link_lists(sim *s)
{
    size_t *nl = calloc((size_t)s->nnodes, sizeof *nl);
    if (!nl)
        return -1;
    for (int k = 0; k < s->nlinks; k++)
        if (!s->links[k].retired)
            nl[s->links[k].lo]++, nl[s->links[k].hi]++;
    for (int i = 0; i < s->nnodes; i++) {
        free(s->nodes[i].links);
        s->nodes[i].nlinks = 0;
        s->nodes[i].links = calloc(nl[i] + 1, sizeof(int));
        if (!s->nodes[i].links)
            return free(nl), -1;
    }
    free(nl);
    for (int k = 0; k < s->nlinks; k++) {
        if (s->links[k].retired)
            continue;
        sim_node *a = &s->nodes[s->links[k].lo], *b = &s->nodes[s->links[k].hi];
        a->links[a->nlinks++] = k;
        b->links[b->nlinks++] = k;
    }
    return 0;
}

/* Adds a version of the logical tree (the "units" records as written): a
 * copy of the last one (the first: the nodes' parents, nothing merged),
 * returned for the caller to change. sim_check routes with the last
 * version and accepts entries an earlier one routed. NULL when out of
 * memory. */
static sim_tree *push_version(sim *s)
{
    sim_tree *h = realloc(s->hist, (s->nhist + 1) * sizeof *h);
    if (!h)
        return NULL;
    s->hist = h;
    sim_tree *v = &s->hist[s->nhist];
    v->parent = malloc((size_t)s->nnodes * sizeof(int));
    v->succ = malloc((size_t)s->nnodes * sizeof(int));
    if (!v->parent || !v->succ) {
        free(v->parent);
        free(v->succ);
        return NULL;
    }
    for (int k = 0; k < s->nnodes; k++) {
        v->parent[k] = s->nhist ? v[-1].parent[k] : s->nodes[k].parent;
        v->succ[k] = s->nhist ? v[-1].succ[k] : -1;
    }
    s->nhist++;
    return v;
}

/* A version of the tree with node i's unit under parent (i < 0: as the
 * nodes are now). */
static int push_tree(sim *s, int i, int parent)
{
    sim_tree *v = push_version(s);
    if (v && i >= 0)
        v->parent[i] = parent;
    return v ? 0 : -1;
}

/* A version of the tree with unit x merged into unit c. */
static int push_merge(sim *s, int x, int c)
{
    sim_tree *v = push_version(s);
    if (v)
        v->succ[x] = c;
    return v ? 0 : -1;
}

/* Children, links and per-node link lists, built once the node set is final. */
static int build_index(sim *s)
{
    for (int i = 1; i < s->nnodes; i++)
        add_upstreams(s, i);
    size_t *nch = calloc((size_t)s->nnodes, sizeof *nch);
    if (!nch)
        return -1;
    for (int i = 1; i < s->nnodes; i++)
        if (s->nodes[i].canon == i)
            nch[s->nodes[i].parent]++;
    for (int i = 0; i < s->nnodes; i++) {
        s->nodes[i].children = calloc(nch[i] + 1, sizeof(int));
        if (!s->nodes[i].children)
            return free(nch), -1;
    }
    free(nch);
    for (int i = 1; i < s->nnodes; i++) {
        if (s->nodes[i].canon != i)
            continue;
        sim_node *p = &s->nodes[s->nodes[i].parent];
        p->children[p->nchildren++] = i;
    }
    return build_link_lists(s) || push_tree(s, -1, 0) ? -1 : 0;
}

static int node_open(sim *s, sim_node *n, char *err, size_t errlen)
{
    char path[NODE_PATH_MAX + 8];
    store_options opt = {.map_size = s->cfg.map_size};
    domains_store_options(&opt);
    if (store_open(&n->st, store_path(n, path, sizeof path), &opt, err, errlen))
        return -1;
    if (repl_node_init(&n->rn, n->st, n->c.unit, n->c.pk, err, errlen)) {
        store_close(n->st);
        n->st = NULL;
        return -1;
    }
    n->alive = true;
    return 0;
}

static void schedule_dial(sim *s, sim_node *n, int rank, uint64_t delay);

int sim_start(sim *s, char *err, size_t errlen)
{
    if (s->started || !s->nnodes) {
        snprintf(err, errlen, "sim_start: no nodes, or started twice");
        return -1;
    }
    if (build_index(s)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->started = true;
    store_options opt = {.map_size = s->cfg.map_size};
    domains_store_options(&opt);
    for (int i = 0; i < s->nnodes; i++) {
        sim_node *n = &s->nodes[i];
        node_config *c = &n->c;
        node_config_default_tiers(c);
        if (i == 0) {
            c->ntiers = s->ntiers;
            memcpy(c->tiers, s->tiers, sizeof c->tiers);
        }
        snprintf(c->dir, sizeof c->dir, "%s/%s", s->dir, n->name);
        snprintf(c->unit, sizeof c->unit, "%s", n->unit);
        snprintf(c->name, sizeof c->name, "Unit %s", n->unit);
        snprintf(c->tier, sizeof c->tier, "%s", s->tiers[n->depth]);
        snprintf(c->parent_unit, sizeof c->parent_unit, "%s",
                 n->parent >= 0 ? s->nodes[n->parent].unit : "");
        int issuer = n->canon != i ? n->canon : n->parent; /* a mirror: its first server */
        snprintf(c->listen, sizeof c->listen, "127.0.0.1:0");
        if (node_config_create(c, err, errlen))
            return -1;
        char path[NODE_PATH_MAX + 8];
        store *st;
        if (store_open(&st, store_path(n, path, sizeof path), &opt, err, errlen))
            return -1;
        int rc = i == 0 ? network_init_root(c, st, err, errlen) : 0;
        store_close(st);
        if (rc)
            return -1;
        if (i > 0 && network_enroll_local(c, &s->nodes[issuer].c, err, errlen))
            return -1;
    }
    for (int i = 0; i < s->nnodes; i++)
        if (node_open(s, &s->nodes[i], err, errlen))
            return -1;
    s->base_ms = hlc_wall_ms();
    s->now = 0;
    for (int i = 1; i < s->nnodes; i++)
        schedule_dial(s, &s->nodes[i], 0, 1 + sim_below(s, 100));
    ev_push(s, (sim_event){.at = s->cfg.tick_ms, .kind = EV_TICK});
    return 0;
}

/* ---- links ---------------------------------------------------------------------- */

static bool link_connected(const sim_link *l)
{
    return l->ses[0] != NULL;
}

static bool link_reachable(const sim *s, const sim_link *l)
{
    return s->nodes[l->lo].alive && s->nodes[l->hi].alive && l->cut_until <= s->now;
}

static void node_plan(sim *s, sim_node *n);

/* True for a session error the faults explain: silence from a cut or slow
 * link, and, once units have moved, a node whose tree is not updated yet
 * refusing its new parent or child. Everything else is a finding. */
static bool error_expected(const sim *s, const char *e)
{
    return !*e || strstr(e, "link considered dead") != NULL ||
           (s->moves && (strstr(e, "is neither an ancestor, a descendant nor a mirror") ||
                         strstr(e, "disagree on their relation")));
}

/* Closes the connection: both sessions freed, in-flight messages lost. */
static void link_teardown(sim *s, sim_link *l, const char *why)
{
    if (!link_connected(l))
        return;
    for (int side = 0; side < 2; side++) {
        repl_session *r = l->ses[side];
        const char *e = repl_session_error(r);
        repl_stats st;
        repl_session_stats(r, &st);
        s->stats.entries_moved += st.entries_received;
        if (repl_session_state(r) == REPL_CLOSED) {
            if (strstr(e, "link considered dead"))
                s->stats.timeouts++;
            if (!error_expected(s, e)) {
                s->stats.session_errors++;
                note_error(s, "session %s->%s at %s closed: %s", s->nodes[l->lo].name,
                           s->nodes[l->hi].name, s->nodes[side ? l->hi : l->lo].name, e);
            }
        }
        if (*e)
            trace(s, "session %s->%s at %s: %s", s->nodes[l->lo].name, s->nodes[l->hi].name,
                  s->nodes[side ? l->hi : l->lo].name, e);
        repl_session_free(r);
        l->ses[side] = NULL;
    }
    trace(s, "teardown %s->%s (%s)", s->nodes[l->lo].name, s->nodes[l->hi].name, why);
    sim_node *lo = &s->nodes[l->lo];
    if (!l->opened && lo->nup) {
        /* refused in the handshake: a failed dial, try the next upstream */
        lo->failures++;
        lo->next_rank = (l->rank + 1) % lo->nup;
    }
    l->opened = false;
    s->busy_msgs -= l->busy; /* lost with the connection */
    l->busy = 0;
    l->gen++;
    l->close_pending = false;
    s->stats.teardowns++;
    node_plan(s, &s->nodes[l->lo]);
}

static uint64_t latency(sim *s)
{
    uint64_t d =
        s->cfg.latency_min_ms + sim_below(s, s->cfg.latency_max_ms - s->cfg.latency_min_ms + 1);
    if (s->spikes && sim_below(s, 1000) < s->cfg.spike_permille)
        d += sim_below(s, s->cfg.spike_max_ms + 1);
    return d;
}

/* Hands side `from`'s new verification jobs to the "thread pool": each
 * finishes after its own random delay. */
static void link_jobs(sim *s, sim_link *l, int from)
{
    repl_verify_job job;
    while (l->ses[from] && repl_session_next_job(l->ses[from], &job)) {
        repl_verify_job *copy = malloc(sizeof *copy);
        if (!copy)
            abort();
        *copy = job;
        s->jobs_pending++;
        ev_push(s, (sim_event){.at = s->now + sim_below(s, (uint64_t)s->cfg.job_max_ms + 1),
                               .kind = EV_JOB,
                               .a = (int)(l - s->links),
                               .b = from,
                               .gen = l->gen,
                               .job = copy});
    }
}

/* Queues what side `from` of l has to send, keeping FIFO order per direction. */
static void link_flush(sim *s, sim_link *l, int from)
{
    int k = (int)(l - s->links);
    const uint8_t *m;
    size_t len;
    link_jobs(s, l, from);
    uint32_t kbps = s->cfg.kbps[s->nodes[l->lo].depth < SIM_MAX_DEPTH ? s->nodes[l->lo].depth
                                                                      : SIM_MAX_DEPTH - 1];
    while (l->ses[from] && repl_session_next_out(l->ses[from], &m, &len)) {
        int to = !from;
        /* the message leaves when the line is free (and the cut over), takes
           len / bandwidth to send, then the latency to arrive */
        uint64_t start_us = 1000 * (s->now > l->cut_until ? s->now : l->cut_until);
        if (start_us < l->free_us[to])
            start_us = l->free_us[to];
        l->free_us[to] = start_us + (kbps ? (uint64_t)len * 8000 / kbps : 0);
        uint64_t at = (l->free_us[to] + 999) / 1000 + latency(s);
        if (at < l->last_at[to])
            at = l->last_at[to];
        l->last_at[to] = at;
        uint8_t *copy = malloc(len ? len : 1);
        if (!copy)
            abort();
        memcpy(copy, m, len);
        if (len != CHATTER_LEN)
            s->busy_msgs++, l->busy++;
        ev_push(s, (sim_event){.at = at,
                               .kind = EV_DELIVER,
                               .a = k,
                               .b = to,
                               .gen = l->gen,
                               .msg = copy,
                               .len = len});
    }
}

/* Flushes both sides, then tears the link down if a session closed. */
static void link_service(sim *s, sim_link *l)
{
    if (!link_connected(l))
        return;
    link_flush(s, l, 0);
    link_flush(s, l, 1);
    if (repl_session_state(l->ses[0]) == REPL_CLOSED ||
        repl_session_state(l->ses[1]) == REPL_CLOSED) {
        link_teardown(s, l, "session closed");
    } else if (!l->opened && repl_session_state(l->ses[0]) == REPL_OPEN &&
               repl_session_state(l->ses[1]) == REPL_OPEN) {
        l->opened = true; /* only now does the dial count as a success */
        s->nodes[l->lo].failures = 0;
        s->nodes[l->lo].next_rank = 0;
    }
}

static void link_connect(sim *s, sim_link *l)
{
    for (int side = 0; side < 2; side++) {
        sim_node *n = &s->nodes[side ? l->hi : l->lo];
        repl_config rc = {.pk = n->c.pk,
                          .sk = n->c.sk,
                          .root_key = n->c.root_key,
                          .initiator = side == 0,
                          .max_frame = s->cfg.max_frame,
                          .batch_bytes = s->cfg.batch_bytes,
                          .window = s->cfg.window,
                          .keepalive_ms = s->cfg.keepalive_ms,
                          .timeout_ms = s->cfg.timeout_ms,
                          .defer_verify = sim_below(s, 1000) < s->cfg.defer_permille};
        l->ses[side] = repl_session_new(&rc, &repl_node_ops, &n->rn, node_clock(s, n));
        if (!l->ses[side])
            abort();
    }
    l->last_at[0] = l->last_at[1] = s->now;
    l->free_us[0] = l->free_us[1] = s->now * 1000;
    l->close_pending = false;
    s->stats.connects++;
    trace(s, "connect %s->%s (%s)", s->nodes[l->lo].name, s->nodes[l->hi].name,
          l->rank ? "failover" : "primary");
    link_service(s, l);
}

/* ---- dialling and failover ------------------------------------------------------ */

static void schedule_dial(sim *s, sim_node *n, int rank, uint64_t delay)
{
    n->dial_gen++;
    ev_push(s, (sim_event){.at = s->now + delay,
                           .kind = EV_DIAL,
                           .a = (int)(n - s->nodes),
                           .b = rank,
                           .gen = n->dial_gen});
}

static uint64_t backoff(sim *s, sim_node *n)
{
    unsigned f = n->failures < 6 ? n->failures : 6;
    uint64_t d = 100ull << f;
    if (d > s->cfg.backoff_max_ms)
        d = s->cfg.backoff_max_ms;
    return d + sim_below(s, 100);
}

/* Decides what node n does next about its upstreams: nothing while the
 * primary is up (closing a failover link after the overlap), probing the
 * primary while on failover, dialling after backoff when unconnected. */
static bool node_on_failover(const sim *s, const sim_node *n)
{
    for (int r = 1; r < n->nup; r++)
        if (link_connected(&s->links[n->up[r]]))
            return true;
    return false;
}

static void node_plan(sim *s, sim_node *n)
{
    if (!n->alive || !n->nup)
        return;
    if (link_connected(&s->links[n->up[0]])) {
        n->dial_gen++; /* cancel a pending dial */
        for (int r = 1; r < n->nup; r++) {
            sim_link *l = &s->links[n->up[r]];
            if (link_connected(l) && !l->close_pending) {
                l->close_pending = true;
                ev_push(s, (sim_event){.at = s->now + s->cfg.overlap_ms,
                                       .kind = EV_CLOSE,
                                       .a = n->up[r],
                                       .gen = l->gen});
            }
        }
        return;
    }
    if (node_on_failover(s, n)) {
        schedule_dial(s, n, 0, s->cfg.probe_ms);
        return;
    }
    schedule_dial(s, n, n->next_rank, backoff(s, n));
}

static void on_dial(sim *s, sim_node *n, int rank, uint64_t gen)
{
    if (gen != n->dial_gen || !n->alive)
        return;
    sim_link *l = &s->links[n->up[rank]];
    if (link_connected(l)) {
        node_plan(s, n);
        return;
    }
    if (link_reachable(s, l)) {
        link_connect(s, l);
        node_plan(s, n);
        return;
    }
    s->stats.dial_failures++;
    n->failures++;
    n->next_rank = (rank + 1) % n->nup;
    trace(s, "dial %s->%s failed", n->name, s->nodes[l->hi].name);
    if (node_on_failover(s, n))
        schedule_dial(s, n, 0, s->cfg.probe_ms);
    else
        schedule_dial(s, n, n->next_rank, backoff(s, n));
}

/* ---- notifications -------------------------------------------------------------- */

/* Tells every open session of n that the store changed, and flushes. */
static void node_notify(sim *s, sim_node *n)
{
    for (size_t k = 0; k < n->nlinks; k++) {
        sim_link *l = &s->links[n->links[k]];
        if (!link_connected(l))
            continue;
        repl_session_notify(l->ses[l->hi == (int)(n - s->nodes)]);
        s->stats.notifies++;
        link_service(s, l);
    }
}

static void mark_notify(sim *s, sim_node *n)
{
    if (n->rn.changes == n->changes_seen || n->notify_pending || !n->alive)
        return;
    n->notify_pending = true;
    s->notifies_pending++;
    ev_push(s, (sim_event){.at = s->now + s->cfg.notify_ms,
                           .kind = EV_NOTIFY,
                           .a = (int)(n - s->nodes),
                           .gen = n->crash_gen});
}

/* ---- faults --------------------------------------------------------------------- */

static void node_down(sim *s, sim_node *n)
{
    n->alive = false;
    for (size_t k = 0; k < n->nlinks; k++)
        link_teardown(s, &s->links[n->links[k]], "crash");
    repl_node_release(&n->rn);
    store_close(n->st);
    n->st = NULL;
    n->crash_gen++;
    n->changes_seen = 0; /* the reopened node's repl_node counts from 0 */
    if (n->notify_pending) {
        n->notify_pending = false;
        s->notifies_pending--;
    }
}

static void node_restart(sim *s, sim_node *n)
{
    char err[STORE_ERR_LEN];
    if (n->alive)
        return;
    if (node_open(s, n, err, sizeof err)) {
        note_error(s, "restart of %s failed: %s", n->name, err);
        return;
    }
    trace(s, "restart %s", n->name);
    n->failures = 0;
    n->next_rank = 0;
    if (n->nup)
        schedule_dial(s, n, 0, 1 + sim_below(s, 50));
}

void sim_crash(sim *s, int i, uint64_t down_ms)
{
    sim_node *n = &s->nodes[i];
    if (!n->alive)
        return;
    trace(s, "crash %s for %llu ms", n->name, (unsigned long long)down_ms);
    s->stats.crashes++;
    node_down(s, n);
    ev_push(s,
            (sim_event){.at = s->now + down_ms, .kind = EV_RESTART, .a = i, .gen = n->crash_gen});
}

void sim_cut(sim *s, int i, bool isolate, uint64_t ms)
{
    sim_node *n = &s->nodes[i];
    trace(s, "cut %s%s for %llu ms", n->name, isolate ? " (isolated)" : "", (unsigned long long)ms);
    s->stats.cuts++;
    for (size_t k = 0; k < n->nlinks; k++) {
        sim_link *l = &s->links[n->links[k]];
        if ((isolate || l->lo == i) && l->cut_until < s->now + ms)
            l->cut_until = s->now + ms;
    }
}

void sim_drop(sim *s, int i)
{
    sim_node *n = &s->nodes[i];
    for (int r = 0; r < n->nup; r++)
        link_teardown(s, &s->links[n->up[r]], "dropped");
}

void sim_set_skew(sim *s, int i, int64_t skew_ms)
{
    s->nodes[i].skew_ms = skew_ms;
}

void sim_set_spikes(sim *s, bool on)
{
    s->spikes = on && s->cfg.spike_permille > 0;
}

void sim_heal(sim *s)
{
    trace(s, "heal");
    s->spikes = false;
    for (int k = 0; k < s->nlinks; k++)
        if (s->links[k].cut_until > s->now) {
            /* the partition ends now: what it held would come in at the old end,
               so reset the connection, as a long partition would have */
            s->links[k].cut_until = s->now;
            link_teardown(s, &s->links[k], "partition healed");
        }
    for (int i = 0; i < s->nnodes; i++)
        if (!s->nodes[i].alive) {
            s->nodes[i].crash_gen++; /* the scheduled restart is void */
            node_restart(s, &s->nodes[i]);
        }
}

/* ---- the event loop ------------------------------------------------------------ */

static void on_deliver(sim *s, sim_event *ev)
{
    sim_link *l = &s->links[ev->a];
    if (ev->gen == l->gen && ev->len != CHATTER_LEN)
        s->busy_msgs--, l->busy--;
    if (ev->gen != l->gen || !link_connected(l)) {
        s->stats.dropped_msgs++;
        free(ev->msg);
        return;
    }
    s->stats.delivered++;
    s->stats.bytes += ev->len;
    sim_node *n = &s->nodes[ev->b ? l->hi : l->lo];
    repl_session_recv(l->ses[ev->b], ev->msg, ev->len, node_clock(s, n));
    free(ev->msg);
    link_service(s, l);
    mark_notify(s, n);
}

static void move_progress(sim *s);

static void on_tick(sim *s)
{
    move_progress(s);
    for (int k = 0; k < s->nlinks; k++) {
        sim_link *l = &s->links[k];
        if (!link_connected(l))
            continue;
        repl_session_tick(l->ses[0], node_clock(s, &s->nodes[l->lo]));
        repl_session_tick(l->ses[1], node_clock(s, &s->nodes[l->hi]));
        link_service(s, l);
    }
    ev_push(s, (sim_event){.at = s->now + s->cfg.tick_ms, .kind = EV_TICK});
}

static void handle(sim *s, sim_event *ev)
{
    switch (ev->kind) {
    case EV_DELIVER: on_deliver(s, ev); break;
    case EV_TICK: on_tick(s); break;
    case EV_DIAL: on_dial(s, &s->nodes[ev->a], ev->b, ev->gen); break;
    case EV_CLOSE: {
        sim_link *l = &s->links[ev->a];
        if (l->gen == ev->gen && link_connected(l) && l->close_pending)
            link_teardown(s, l, "primary is back");
        break;
    }
    case EV_RESTART: {
        sim_node *n = &s->nodes[ev->a];
        if (ev->gen == n->crash_gen)
            node_restart(s, n);
        break;
    }
    case EV_JOB: {
        sim_link *l = &s->links[ev->a];
        s->jobs_pending--;
        if (ev->gen == l->gen && link_connected(l)) {
            /* the session (and the job's memory) still exists */
            repl_verify_job_run(ev->job);
            s->stats.jobs++;
            repl_session_job_done(l->ses[ev->b], ev->job->id,
                                  node_clock(s, &s->nodes[ev->b ? l->hi : l->lo]));
            link_service(s, l);
            mark_notify(s, &s->nodes[ev->b ? l->hi : l->lo]);
        }
        free(ev->job);
        break;
    }
    case EV_NOTIFY: {
        sim_node *n = &s->nodes[ev->a];
        if (ev->gen != n->crash_gen || !n->notify_pending)
            break;
        n->notify_pending = false;
        s->notifies_pending--;
        n->changes_seen = n->rn.changes;
        node_notify(s, n);
        break;
    }
    }
}

uint64_t sim_now(const sim *s)
{
    return s->now;
}

void sim_run_until(sim *s, uint64_t t)
{
    while (s->nheap && s->heap[0].at <= t) {
        sim_event ev = ev_pop(s);
        if (ev.at > s->now)
            s->now = ev.at;
        handle(s, &ev);
    }
    if (t > s->now)
        s->now = t;
}

/* The quiet test of sim_settle (see sim.h). */
static bool quiet(sim *s)
{
    if (s->busy_msgs || s->notifies_pending || s->jobs_pending || s->move_node >= 0)
        return false;
    for (int i = 0; i < s->nnodes; i++) {
        sim_node *n = &s->nodes[i];
        if (!n->alive)
            return false;
        if (n->nup && !link_connected(&s->links[n->up[0]]))
            return false;
        for (int r = 1; r < n->nup; r++)
            if (link_connected(&s->links[n->up[r]]))
                return false;
    }
    for (int k = 0; k < s->nlinks; k++) {
        sim_link *l = &s->links[k];
        for (int side = 0; l->ses[0] && side < 2; side++) {
            repl_stats st;
            repl_session_stats(l->ses[side], &st);
            if (st.state != REPL_OPEN || st.batches_in_flight || st.marks_waiting ||
                repl_session_want_write(l->ses[side]))
                return false;
        }
    }
    /* Everything is idle. A notification now should find nothing to send:
       if it does, the network only got here because of this nudge (the
       daemon notifies on writes and applies only), so it is counted. */
    bool moved = false;
    for (int k = 0; k < s->nlinks; k++) {
        sim_link *l = &s->links[k];
        if (!link_connected(l))
            continue;
        repl_session_notify(l->ses[0]);
        repl_session_notify(l->ses[1]);
        bool m = repl_session_want_write(l->ses[0]) || repl_session_want_write(l->ses[1]);
        if (m) {
            s->stats.nudges++;
            note_error(s,
                       "link %s->%s had something to send only when nudged, all else idle "
                       "(a missed pump: a daemon would stall here)",
                       s->nodes[l->lo].name, s->nodes[l->hi].name);
        }
        moved = moved || m;
        link_service(s, l);
    }
    return !moved;
}

bool sim_settle(sim *s, uint64_t max_ms, uint64_t *took_ms)
{
    uint64_t start = s->now;
    while (s->now - start <= max_ms) {
        sim_run_until(s, s->now + s->cfg.tick_ms);
        if (quiet(s)) {
            if (took_ms)
                *took_ms = s->now - start;
            return true;
        }
    }
    return false;
}

/* True when node j is down, knows unit under parent, or need not know it:
 * membership is scoped (node/network.h), so a node that cannot place the
 * new parent cannot place the unit either. */
static bool move_known(sim *s, int j, const char *unit, const char *parent)
{
    const unit_tree *t = s->nodes[j].rn.tree;
    char par[NODE_CODE_MAX];
    return !s->nodes[j].alive || !unit_tree_known(t, parent, strlen(parent)) ||
           (unit_tree_parent(t, unit, par, sizeof par) && !strcmp(par, parent));
}

typedef struct {
    FILE *f;
    const char *node;
} quarantine_print;

/* store_quarantine_scan(): one line per entry a node keeps waiting. */
static int explain_quarantined(void *ctx, const store_quarantined *q)
{
    const quarantine_print *p = ctx;
    fprintf(p->f, "  node %s quarantined: %.*s\n", p->node, (int)q->reason_len, q->reason);
    return 0;
}

void sim_explain(sim *s, FILE *f)
{
    fprintf(f,
            "  at %llu ms: %llu messages in flight, %llu notifications and %llu jobs "
            "pending\n",
            (unsigned long long)s->now, (unsigned long long)s->busy_msgs,
            (unsigned long long)s->notifies_pending, (unsigned long long)s->jobs_pending);
    if (s->move_node >= 0) {
        const char *u = s->nodes[s->move_node].unit, *p = s->nodes[s->move_parent].unit;
        fprintf(f, "  the move of %s under %s is not known at:", u, p);
        for (int j = 0; j < s->nnodes; j++) {
            char par[NODE_CODE_MAX] = "?";
            if (!move_known(s, j, u, p)) {
                unit_tree_parent(s->nodes[j].rn.tree, u, par, sizeof par);
                fprintf(f, " %s (parent %s)", s->nodes[j].name, par);
            }
        }
        fputc('\n', f);
    }
    for (int i = 0; i < s->nnodes; i++) {
        sim_node *n = &s->nodes[i];
        if (n->alive) {
            quarantine_print qp = {f, n->name};
            store_quarantine_scan(n->st, explain_quarantined, &qp);
        }
        if (!n->alive)
            fprintf(f, "  node %s is down\n", n->name);
        else if (n->nup && !link_connected(&s->links[n->up[0]]))
            fprintf(f, "  node %s is not connected to its parent (%u failed dials)\n", n->name,
                    n->failures);
    }
    for (int k = 0; k < s->nlinks; k++) {
        sim_link *l = &s->links[k];
        for (int side = 0; l->ses[0] && side < 2; side++) {
            repl_stats st;
            repl_session_stats(l->ses[side], &st);
            if (l->rank || st.state != REPL_OPEN || st.batches_in_flight || st.to_send)
                fprintf(f,
                        "  %s link %s->%s at %s: state %d, %llu batches in flight, %llu to "
                        "send, %llu to receive\n",
                        l->rank ? "failover" : "primary", s->nodes[l->lo].name,
                        s->nodes[l->hi].name, s->nodes[side ? l->hi : l->lo].name, (int)st.state,
                        (unsigned long long)st.batches_in_flight, (unsigned long long)st.to_send,
                        (unsigned long long)st.to_receive);
            if (st.waiting_for_tree)
                fprintf(f, "  link %s->%s at %s waits for a tree (%s): %s\n", s->nodes[l->lo].name,
                        s->nodes[l->hi].name, s->nodes[side ? l->hi : l->lo].name,
                        st.news ? "news only" : "full", st.wait_reason);
        }
    }
    for (size_t k = 0; k < s->nerrors && k < 10; k++)
        fprintf(f, "  %s\n", s->errors[k]);
    if (s->errors_seen > 10)
        fprintf(f, "  ... %llu unexpected errors in all\n", (unsigned long long)s->errors_seen);
}

/* ---- writes --------------------------------------------------------------------- */

static int pack_body(const char *text, const char *unit, entry_op op, uint8_t **out, size_t *len)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    if (op == ENTRY_OP_DELETE) {
        msgpack_pack_map(&pk, 0);
    } else {
        msgpack_pack_map(&pk, 2);
        msgpack_pack_str_with_body(&pk, "by", 2);
        msgpack_pack_str_with_body(&pk, unit, strlen(unit));
        msgpack_pack_str_with_body(&pk, op == ENTRY_OP_PATCH ? "status" : "title",
                                   op == ENTRY_OP_PATCH ? 6 : 5);
        msgpack_pack_str_with_body(&pk, text, strlen(text));
    }
    *out = (uint8_t *)sb.data;
    *len = sb.size;
    return sb.data ? 0 : -1;
}

/* A local write with an HLC from the node's skewed clock. */
static int write_skewed(sim *s, sim_node *n, const store_write *w, char *err, size_t errlen)
{
    store_origin o;
    int rc = store_origin_get(n->st, n->c.pk, &o);
    if (rc < 0) {
        snprintf(err, errlen, "cannot read the node's own origin");
        return -1;
    }
    uint64_t seq = rc == 0 ? o.max_seq + 1 : 1;
    uint8_t prev[ENTRY_HASH_BYTES];
    if (seq > 1) {
        uint8_t *bytes;
        size_t len;
        if (store_entry_get(n->st, n->c.pk, seq - 1, &bytes, &len)) {
            snprintf(err, errlen, "the node's own entry %llu is missing",
                     (unsigned long long)(seq - 1));
            return -1;
        }
        entry_hash(bytes, len, prev);
        free(bytes);
    }
    n->last_hlc = hlc_next(n->last_hlc, node_clock(s, n));
    uint8_t *placed; /* the body store_write_local would sign (its creation place) */
    size_t placed_len;
    if (store_place_body(n->st, w, n->c.unit, n->last_hlc, &placed, &placed_len)) {
        snprintf(err, errlen, "cannot read the store to place the write");
        return -1;
    }
    entry_fields f = {n->c.pk,
                      seq,
                      seq > 1 ? prev : NULL,
                      n->last_hlc,
                      n->c.unit,
                      w->coll,
                      w->id,
                      w->op,
                      placed ? placed : w->body,
                      placed ? placed_len : w->body_len,
                      w->to,
                      w->to_count};
    uint8_t *bytes;
    size_t len;
    int enc = entry_encode(&f, n->c.sk, &bytes, &len, err, errlen);
    free(placed);
    if (enc)
        return -1;
    apply_result res;
    store_input in = {bytes, len};
    rc = store_apply(n->st, &in, 1, 0, &res, NULL, err, errlen);
    free(bytes);
    if (!rc && res != APPLY_ADDED) {
        snprintf(err, errlen, "skewed write refused: %s", apply_result_str(res));
        rc = -1;
    }
    return rc;
}

/* Writes w at node n (store_write_local, or the skewed path) and notifies. */
static bool restore_caught_up(sim *s, sim_node *n);

static int write_one(sim *s, sim_node *n, const store_write *w)
{
    if (n->restoring && !restore_caught_up(s, n))
        return -1; /* held, as node/restore_gate.h holds it: not an error */
    char err[STORE_ERR_LEN];
    const char *coll = w->coll, *id = w->id;
    entry_op op = w->op;
    size_t nto = w->to_count;
    int rc;
    if (n->skew_ms) {
        rc = write_skewed(s, n, w, err, sizeof err);
    } else {
        store_author a = node_author(&n->c);
        rc = store_write_local(n->st, &a, w, 1, NULL, err, sizeof err);
    }
    if (rc == STORE_REFUSED && op != ENTRY_OP_PUT && strcmp(coll, "units")) {
        s->stats.refused++; /* sim_stats: the same verdict every node would reach */
        trace(s, "refused %s %s/%s %s: %s", n->name, coll, id, entry_op_name(op), err);
        return -1;
    }
    if (rc) {
        note_error(s, "write %s/%s at %s failed: %s", coll, id, n->name, err);
        return -1;
    }
    s->stats.writes++;
    trace(s, "write %s %s/%s %s to %zu", n->name, coll, id, entry_op_name(op), nto);
    if (!strcmp(coll, "units") || !strcmp(coll, "certs") || !strcmp(coll, "network")) {
        /* as the daemon does for membership arriving from any process
           (node/repl_link.c, membership_refresh) */
        if (repl_node_reload(&n->rn, err, sizeof err))
            note_error(s, "reload at %s failed: %s", n->name, err);
    }
    node_notify(s, n);
    return 0;
}

int sim_write(sim *s, int i, const char *coll, const char *id, entry_op op, const char *const *to,
              size_t nto, const char *text)
{
    sim_node *n = &s->nodes[i];
    uint8_t *body;
    size_t blen;
    if (!n->alive || pack_body(text, n->unit, op, &body, &blen))
        return -1;
    store_write w = {coll, id, op, body, blen, to, nto};
    int rc = write_one(s, n, &w);
    free(body);
    return rc;
}

/* ---- a lost disk, restored from an older copy ------------------------------------ */

static int file_copy(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
    char buf[65536];
    size_t k;
    int rc = in && out ? 0 : -1;
    while (!rc && (k = fread(buf, 1, sizeof buf, in)) > 0)
        rc = fwrite(buf, 1, k, out) == k ? 0 : -1;
    if (in && ferror(in))
        rc = -1;
    if (in)
        fclose(in);
    if (out && fclose(out))
        rc = -1;
    return rc;
}

static void backup_paths(const sim_node *n, char *data, char *copy, size_t cap)
{
    snprintf(data, cap, "%s/data/data.mdb", n->c.dir);
    snprintf(copy, cap, "%s/backup.mdb", n->c.dir);
}

int sim_backup(sim *s, int i)
{
    sim_node *n = &s->nodes[i];
    char data[NODE_PATH_MAX + 32], copy[NODE_PATH_MAX + 32];
    if (!n->alive)
        return -1;
    backup_paths(n, data, copy, sizeof data);
    if (file_copy(data, copy)) {
        note_error(s, "backup of %s failed", n->name);
        return -1;
    }
    n->has_backup = true;
    trace(s, "backup %s", n->name);
    return 0;
}

/* The neighbours whose copy of n's log a restore relies on: its upstreams
 * and its mirror. */
static bool log_holder(const sim *s, const sim_node *n, const sim_link *l)
{
    int i = (int)(n - s->nodes), other = l->lo == i ? l->hi : l->lo;
    return l->lo == i || s->nodes[other].canon == n->canon;
}

/* True when every upstream and mirror of n holds n's whole log. */
static bool log_is_up(sim *s, sim_node *n)
{
    store_origin o;
    int rc = store_origin_get(n->st, n->c.pk, &o);
    if (rc)
        return rc == 1;
    for (size_t k = 0; k < n->nlinks; k++) {
        const sim_link *l = &s->links[n->links[k]];
        int i = (int)(n - s->nodes);
        const sim_node *u = &s->nodes[l->lo == i ? l->hi : l->lo];
        uint64_t seq;
        char unit[NODE_CODE_MAX];
        if (l->retired || !log_holder(s, n, l))
            continue;
        if (!u->alive || store_complete_get(u->st, n->c.pk, &seq, unit) || seq < o.max_seq)
            return false;
    }
    return true;
}

/* True when a neighbour of n was restored and has not caught up: it relies
 * on n's copy of its log, which an older copy of n's store may lack. */
static bool neighbour_restoring(const sim *s, const sim_node *n)
{
    int i = (int)(n - s->nodes);
    for (size_t k = 0; k < n->nlinks; k++) {
        const sim_link *l = &s->links[n->links[k]];
        if (s->nodes[l->lo == i ? l->hi : l->lo].restoring)
            return true;
    }
    return false;
}

int sim_restore(sim *s, int i, uint64_t down_ms)
{
    sim_node *n = &s->nodes[i];
    char data[NODE_PATH_MAX + 32], copy[NODE_PATH_MAX + 32];
    store_origin o = {.max_seq = 0};
    if (i == 0 || !n->alive || !n->has_backup || !log_is_up(s, n) || neighbour_restoring(s, n) ||
        store_origin_get(n->st, n->c.pk, &o) < 0)
        return -1;
    trace(s, "restore %s (own log %llu) from its backup, down for %llu ms", n->name,
          (unsigned long long)o.max_seq, (unsigned long long)down_ms);
    s->stats.restores++;
    node_down(s, n);
    backup_paths(n, data, copy, sizeof data);
    if (file_copy(copy, data))
        note_error(s, "restore of %s failed", n->name);
    n->restoring = true;
    ev_push(s,
            (sim_event){.at = s->now + down_ms, .kind = EV_RESTART, .a = i, .gen = n->crash_gen});
    return 0;
}

/* restore_gate_check of node/restore_gate.c over n's sessions: true (and
 * n writes again) once a server of its parent unit or a mirror has told
 * its positions and n holds its own log, without a gap, as far as any
 * neighbour that told does. */
static bool restore_caught_up(sim *s, sim_node *n)
{
    int i = (int)(n - s->nodes);
    bool upstream = false;
    uint64_t target = 0, held = 0;
    for (size_t k = 0; k < n->nlinks; k++) {
        sim_link *l = &s->links[n->links[k]];
        repl_session *ses = l->ses[l->lo == i ? 0 : 1];
        repl_stats st;
        if (!ses)
            continue;
        repl_session_stats(ses, &st);
        if (st.state != REPL_OPEN || !st.positioned || st.news)
            continue;
        upstream |= (st.kind == LINK_UP && !strcmp(st.peer_unit, s->nodes[n->parent].unit)) ||
                    st.kind == LINK_MIRROR;
        target = st.peer_own_seq > target ? st.peer_own_seq : target;
    }
    store_origin o;
    int rc = store_origin_get(n->st, n->c.pk, &o);
    if (rc < 0 || (!rc && o.count != o.max_seq))
        return false;
    held = rc ? 0 : o.max_seq;
    if (!upstream || held < target)
        return false;
    n->restoring = false;
    trace(s, "caught up %s: own log %llu, neighbours hold %llu", n->name, (unsigned long long)held,
          (unsigned long long)target);
    return true;
}

/* ---- unit moves ------------------------------------------------------------------- */

static void move_relink(sim *s, int i, int np);

/* True when a server of node i's unit was restored and has not caught up:
 * its new parent would not hold the entries it signed after its backup
 * (docs/operations.md, "Restore"), so the simulation does not move it. */
static bool unit_restoring(const sim *s, int i)
{
    for (int k = 0; k < s->nnodes; k++)
        if (s->nodes[k].canon == s->nodes[i].canon && s->nodes[k].restoring)
            return true;
    return false;
}

/* True when node i may move under np (a pending move aside): neither
 * merged away (`lienthong unit move` refuses a retired unit, and the put
 * below would drop its "merged_into"). */
static bool move_fits(sim *s, int i, int np)
{
    sim_node *n = &s->nodes[i];
    return i > 0 && i < s->nnodes && np >= 0 && np < s->nnodes && np != n->parent &&
           !n->unit_retired && s->nodes[np].depth < n->depth && s->nodes[0].alive &&
           n->canon == i && n->mirror < 0 && s->nodes[np].canon == np &&
           !s->nodes[np].unit_retired && !unit_restoring(s, i);
}

/* The root rewrites unit i's record under np (as network.c wrote it at
 * enrolment) and the sim follows: i is the pending move. */
static int move_one(sim *s, int i, int np)
{
    sim_node *n = &s->nodes[i], *root = &s->nodes[0];
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    const char *kv[4][2] = {
        {"code", n->unit}, {"name", n->c.name}, {"parent", s->nodes[np].unit}, {"tier", n->c.tier}};
    msgpack_pack_map(&pk, 4);
    for (int k = 0; k < 4; k++) {
        msgpack_pack_str_with_body(&pk, kv[k][0], strlen(kv[k][0]));
        msgpack_pack_str_with_body(&pk, kv[k][1], strlen(kv[k][1]));
    }
    const char *const everyone[] = {"*"};
    store_write w = {"units",  n->unit, ENTRY_OP_PUT, (const uint8_t *)sb.data, sb.size,
                     everyone, 1};
    int rc = write_one(s, root, &w);
    msgpack_sbuffer_destroy(&sb);
    if (rc)
        return -1;
    trace(s, "move %s from %s to %s: written", n->name, s->nodes[n->parent].name,
          s->nodes[np].unit);
    s->moves++;
    s->move_node = i;
    s->move_parent = np;
    if (push_tree(s, i, np))
        return -1;
    move_relink(s, i, np);
    return 0;
}

int sim_move(sim *s, int i, int np)
{
    return s->move_node >= 0 || !move_fits(s, i, np) ? -1 : move_one(s, i, np);
}

/* Packs the string pairs kv[0..n) as a msgpack map into sb. */
static void pack_strings(msgpack_sbuffer *sb, const char *const (*kv)[2], size_t n)
{
    msgpack_packer pk;
    msgpack_sbuffer_init(sb);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, n);
    for (size_t k = 0; k < n; k++) {
        msgpack_pack_str_with_body(&pk, kv[k][0], strlen(kv[k][0]));
        msgpack_pack_str_with_body(&pk, kv[k][1], strlen(kv[k][1]));
    }
}

/* The root writes what the merge of x into c says (node/membership/unit_ops.h):
 * x's record patched with its place (code, name, tier, parent: nodes that
 * held no record of x apply it too) and merged_into (and retired, as the
 * string "true": the sim checks routing, not field types), and the
 * operation's record in unit_ops, addressed to everyone. */
static int merge_write(sim *s, sim_node *x, sim_node *c)
{
    const char *const everyone[] = {"*"};
    char id[80];
    snprintf(id, sizeof id, "sim-%llu-merge-%s", (unsigned long long)s->merges, x->unit);
    const char *const patch[][2] = {{"code", x->unit},        {"name", x->c.name},
                                    {"tier", x->c.tier},      {"parent", s->nodes[x->parent].unit},
                                    {"merged_into", c->unit}, {"retired", "true"}};
    const char *const op[][2] = {{"op", "merge"}, {"units", x->unit}, {"into", c->unit}};
    msgpack_sbuffer a, b;
    pack_strings(&a, patch, 6);
    pack_strings(&b, op, 3);
    store_write w1 = {"units",  x->unit, ENTRY_OP_PATCH, (const uint8_t *)a.data, a.size,
                      everyone, 1};
    store_write w2 = {"unit_ops", id, ENTRY_OP_PUT, (const uint8_t *)b.data, b.size, everyone, 1};
    int rc = write_one(s, &s->nodes[0], &w1) || write_one(s, &s->nodes[0], &w2) ? -1 : 0;
    msgpack_sbuffer_destroy(&a);
    msgpack_sbuffer_destroy(&b);
    return rc;
}

/* True when every live child of x may move under c (a child merged away
 * keeps its parent, as in node/membership/unit_ops.c). */
static bool children_fit(sim *s, int x, int c)
{
    for (size_t k = 0; k < s->nodes[x].nchildren; k++) {
        int kid = s->nodes[x].children[k];
        if (!s->nodes[kid].unit_retired && !move_fits(s, kid, c))
            return false;
    }
    return true;
}

/* Merges x into c: its record patched, its children moved under c, all
 * written by the root at once (one move after the other, as one
 * operation's entries). */
static void merge_into(sim *s, int x, int c)
{
    sim_node *nx = &s->nodes[x];
    if (merge_write(s, nx, &s->nodes[c]))
        return;
    trace(s, "merge %s into %s: %zu children move", nx->name, s->nodes[c].name, nx->nchildren);
    if (push_merge(s, x, c))
        abort();
    nx->unit_retired = true;
    s->merges++;
    int *kids = malloc((nx->nchildren + 1) * sizeof *kids);
    size_t nk = nx->nchildren;
    if (!kids)
        abort();
    memcpy(kids, nx->children, nk * sizeof *kids); /* move_relink edits the list */
    for (size_t k = 0; k < nk; k++)
        if (!s->nodes[kids[k]].unit_retired)
            move_one(s, kids[k], c);
    free(kids);
}

/* True when x may be merged now into c (c's tier, or x's parent). */
static bool merge_fits(sim *s, int x, int c)
{
    return x > 0 && c > 0 && x < s->nnodes && c < s->nnodes && x != c && s->move_node < 0 &&
           s->nodes[0].alive && s->nodes[x].canon == x && s->nodes[c].canon == c &&
           !s->nodes[x].unit_retired && !s->nodes[c].unit_retired && children_fit(s, x, c);
}

int sim_merge(sim *s, int x, int c)
{
    if (!merge_fits(s, x, c) || s->nodes[x].depth != s->nodes[c].depth)
        return -1;
    merge_into(s, x, c);
    return 0;
}

int sim_retire_tier(sim *s, int depth)
{
    int n = 0;
    for (int i = 1; i < s->nnodes; i++)
        if (s->nodes[i].depth == depth && s->nodes[i].canon == i && !s->nodes[i].unit_retired &&
            s->nodes[0].alive && children_fit(s, i, s->nodes[i].parent)) {
            s->move_node = -1; /* the moves of one operation are written together */
            merge_into(s, i, s->nodes[i].parent);
            n++;
        }
    return n;
}

bool sim_move_pending(const sim *s)
{
    return s->move_node >= 0;
}

bool sim_node_retired(const sim *s, int i)
{
    return s->nodes[i].unit_retired;
}

/* Replaces node i's upstream links by links to its (new) parent and grandparent. */
static void relink(sim *s, int i)
{
    sim_node *n = &s->nodes[i];
    int old[MAX_UP], nold = n->nup;
    memcpy(old, n->up, sizeof old);
    n->nup = 0; /* so that the teardowns plan nothing on the old links */
    for (int r = 0; r < nold; r++) {
        s->links[old[r]].retired = true;
        link_teardown(s, &s->links[old[r]], "unit moved");
    }
    n->failures = 0;
    n->next_rank = 0;
    add_upstreams(s, i);
}

/* Reconfigures the moved node's upstreams and its children's failover
 * links, as their operators would as soon as the move is decided: nodes
 * whose tree does not know the move yet learn it over these links
 * (membership news, see replication/session.h). */
static void move_relink(sim *s, int i, int np)
{
    sim_node *n = &s->nodes[i];
    sim_node *op = &s->nodes[n->parent], *pp = &s->nodes[np];
    for (size_t k = 0; k < op->nchildren; k++)
        if (op->children[k] == i) {
            op->children[k] = op->children[--op->nchildren];
            break;
        }
    int *nc = realloc(pp->children, (pp->nchildren + 2) * sizeof *nc);
    if (!nc)
        abort();
    pp->children = nc;
    pp->children[pp->nchildren++] = i;
    trace(s, "move %s from %s to %s: relinking", n->name, op->name, pp->name);
    n->parent = np;
    relink(s, i);
    for (size_t k = 0; k < n->nchildren; k++)
        relink(s, n->children[k]);
    if (build_link_lists(s))
        abort();
    if (n->alive)
        schedule_dial(s, n, 0, 1 + sim_below(s, 50));
    for (size_t k = 0; k < n->nchildren; k++)
        if (s->nodes[n->children[k]].alive)
            node_plan(s, &s->nodes[n->children[k]]);
}

/* The pending move ends once every running node's tree knows it. */
static void move_progress(sim *s)
{
    if (s->move_node < 0)
        return;
    const char *unit = s->nodes[s->move_node].unit, *parent = s->nodes[s->move_parent].unit;
    for (int j = 0; j < s->nnodes; j++)
        if (!move_known(s, j, unit, parent))
            return;
    trace(s, "move %s under %s: known everywhere", unit, parent);
    s->move_node = -1;
}

/* A random node of i's subtree (i included), uniformly over a walk down. */
static int random_descendant(sim *s, int i)
{
    i = s->nodes[i].canon;
    for (;;) {
        sim_node *n = &s->nodes[i];
        if (!n->nchildren || sim_below(s, 3) == 0)
            return i;
        i = n->children[sim_below(s, n->nchildren)];
    }
}

/* A random leaf under i that has written reports and that i's own tree
 * places under it (an operator acts on what the node shows: a unit moved
 * in is not its to patch before the move arrives), or -1. */
static int random_reporter(sim *s, int i)
{
    const sim_node *n = &s->nodes[i];
    for (int tries = 0; tries < 8; tries++) {
        int k = n->canon;
        while (s->nodes[k].nchildren)
            k = s->nodes[k].children[sim_below(s, s->nodes[k].nchildren)];
        /* the node's own view, where a unit merged away stands at its live
         * successor (as the write authority sees it, storage/authority.c) */
        char u[UNIT_CODE_CAP], next[UNIT_CODE_CAP];
        snprintf(u, sizeof u, "%s", s->nodes[k].unit);
        for (int hops = 0;
             hops < 16 && unit_tree_successor(n->rn.tree, u, strlen(u), next, sizeof next); hops++)
            memcpy(u, next, sizeof u);
        if (s->nodes[k].nreports &&
            unit_tree_within(n->rn.tree, u, strlen(u), n->unit, strlen(n->unit)))
            return k;
    }
    return -1;
}

/* True when node n holds record coll/id. */
static bool sim_holds(sim_node *n, const char *coll, const char *id)
{
    uint8_t *rec;
    size_t len;
    if (store_record_get(n->st, coll, id, &rec, &len))
        return false;
    free(rec);
    return true;
}

int sim_write_random(sim *s, int i)
{
    sim_node *n = &s->nodes[i], *first = &s->nodes[n->canon];
    char id[96], text[12 * 1024 + 32], addr[NODE_CODE_MAX + 2];
    const char *to[1] = {addr};
    uint64_t r = sim_below(s, 100);
    int tl = snprintf(text, sizeof text, "v%llu", (unsigned long long)sim_below(s, 1000000));
    if (sim_below(s, 30) == 0) { /* now and then a large entry: a batch of its own */
        size_t big = 1024 + sim_below(s, 11 * 1024);
        memset(text + tl, 'x', big);
        text[tl + big] = '\0';
    }
    if (!first->nchildren) {
        if (n->nreports && r < 15) {
            snprintf(id, sizeof id, "R-%s-%u", n->unit, 1 + (unsigned)sim_below(s, n->nreports));
            return sim_write(s, i, "reports", id, ENTRY_OP_PATCH, NULL, 0, text);
        }
        if (n->nreports && r < 20) {
            snprintf(id, sizeof id, "R-%s-%u", n->unit, 1 + (unsigned)sim_below(s, n->nreports));
            return sim_write(s, i, "reports", id, ENTRY_OP_DELETE, NULL, 0, text);
        }
        snprintf(id, sizeof id, "R-%s-%u", n->unit, ++n->nreports);
        if (r < 30 && n->parent >= 0 && s->nodes[n->parent].nchildren > 1) {
            sim_node *p = &s->nodes[n->parent];
            int sib = p->children[sim_below(s, p->nchildren)];
            if (sib != i) {
                snprintf(addr, sizeof addr, "%s", s->nodes[sib].unit);
                return sim_write(s, i, "reports", id, ENTRY_OP_PUT, to, 1, text);
            }
        }
        return sim_write(s, i, "reports", id, ENTRY_OP_PUT, NULL, 0, text);
    }
    if (r < 12) {
        int c = random_reporter(s, i);
        if (c >= 0) {
            snprintf(id, sizeof id, "R-%s-%u", s->nodes[c].unit,
                     1 + (unsigned)sim_below(s, s->nodes[c].nreports));
            snprintf(addr, sizeof addr, "%s", s->nodes[c].unit);
            /* as the reports API: a node changes only a report it holds */
            if (sim_holds(n, "reports", id))
                return sim_write(s, i, "reports", id, ENTRY_OP_PATCH, to, 1, text);
        }
    }
    if (n->ndocs && r < 22) {
        snprintf(id, sizeof id, "D-%s-%u", n->unit, 1 + (unsigned)sim_below(s, n->ndocs));
        snprintf(addr, sizeof addr, "*");
        return sim_write(s, i, "documents", id, sim_below(s, 4) ? ENTRY_OP_PATCH : ENTRY_OP_DELETE,
                         to, 1, text);
    }
    snprintf(id, sizeof id, "D-%s-%u", n->unit, ++n->ndocs);
    if (r < 45) {
        snprintf(addr, sizeof addr, "*");
    } else if (r < 65) {
        snprintf(addr, sizeof addr, "%s*", s->nodes[random_descendant(s, i)].unit);
    } else if (r < 85) {
        snprintf(addr, sizeof addr, "%s", s->nodes[random_descendant(s, i)].unit);
    } else if (r < 97) {
        /* a unit anywhere: another branch's document, relayed over the top */
        snprintf(addr, sizeof addr, "%s", s->nodes[random_descendant(s, 0)].unit);
    } else {
        snprintf(addr, sizeof addr, "Z%llu", (unsigned long long)sim_below(s, 100));
    }
    return sim_write(s, i, "documents", id, ENTRY_OP_PUT, to, 1, text);
}

/* ---- inspection --------------------------------------------------------------- */

void sim_stats_get(const sim *s, sim_stats *st)
{
    *st = s->stats;
    st->moves = s->moves;
    st->merges = s->merges;
    for (int k = 0; k < s->nlinks; k++)
        for (int side = 0; s->links[k].ses[0] && side < 2; side++) {
            repl_stats rs;
            repl_session_stats(s->links[k].ses[side], &rs);
            st->entries_moved += rs.entries_received;
            st->sessions++;
            st->origin_slots += rs.origin_slots;
            st->origin_bytes += rs.origin_bytes;
        }
}

int sim_node_count(const sim *s)
{
    return s->nnodes;
}

const char *sim_node_unit(const sim *s, int i)
{
    return s->nodes[i].unit;
}

const char *sim_node_name(const sim *s, int i)
{
    return s->nodes[i].name;
}

int sim_node_first(const sim *s, int i)
{
    return s->nodes[i].canon;
}

int sim_node_parent(const sim *s, int i)
{
    return s->nodes[i].parent;
}

int sim_node_depth(const sim *s, int i)
{
    return s->nodes[i].depth;
}

bool sim_node_is_up(const sim *s, int i)
{
    return s->nodes[i].alive;
}

uint64_t sim_entries_total(sim *s)
{
    uint64_t t = 0;
    for (int i = 0; i < s->nnodes; i++)
        if (s->nodes[i].alive)
            t += store_entry_count(s->nodes[i].st);
    return t;
}

uint64_t sim_entries_root(sim *s)
{
    return s->nodes[0].alive ? store_entry_count(s->nodes[0].st) : 0;
}

void sim_free(sim *s)
{
    if (!s)
        return;
    for (int k = 0; k < s->nlinks; k++)
        for (int side = 0; side < 2; side++)
            repl_session_free(s->links[k].ses[side]);
    for (size_t i = 0; i < s->nheap; i++) {
        free(s->heap[i].msg);
        free(s->heap[i].job);
    }
    for (int i = 0; i < s->nnodes; i++) {
        sim_node *n = &s->nodes[i];
        if (n->alive) {
            repl_node_release(&n->rn);
            store_close(n->st);
        }
        free(n->children);
        free(n->links);
    }
    for (size_t i = 0; i < s->nerrors; i++)
        free(s->errors[i]);
    free(s->errors);
    for (size_t v = 0; v < s->nhist; v++) {
        free(s->hist[v].parent);
        free(s->hist[v].succ);
    }
    free(s->hist);
    free(s->heap);
    free(s->nodes);
    free(s->links);
    free(s->dir);
    free(s);
}

/* ---- files ------------------------------------------------------------------------ */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

void sim_rmtree(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void sim_pick_tmpdir(void)
{
    if (getenv("TMPDIR"))
        return;
    struct stat st;
    if (!stat("/dev/shm", &st) && S_ISDIR(st.st_mode) && !access("/dev/shm", W_OK))
        setenv("TMPDIR", "/dev/shm", 1);
    else
        setenv("TMPDIR", "/tmp", 1);
}

/* ---- checks ----------------------------------------------------------------------- */

#define CHECK_MAX_COLLS 16

/* Per node and collection: digest and live count as stored, and the
 * fingerprint and number of the entries held. */
typedef struct coll_state {
    uint8_t digest[STORE_DIGEST_BYTES];
    uint64_t live;
    uint64_t fp, n;
} coll_state;

/* One entry of the universe: every entry some node authored, read from
 * the author's own log. */
typedef struct {
    int author;
    uint64_t seq;
    uint8_t *bytes;
    size_t len;
    entry_view v;
    uint64_t h64; /* first 8 bytes of the entry hash: set fingerprints */
    int coll;
} univ_entry;

typedef struct {
    sim *s;
    univ_entry *u;
    size_t nu, capu;
    size_t *base;    /* per node: universe index of its seq 1 */
    uint64_t *count; /* per node: entries it authored */
    char colls[CHECK_MAX_COLLS][72];
    int ncolls;
    unit_tree *tree; /* the oracle: the sim's own tree */
    int *okeys;      /* origin key -> node index (open addressing) */
    size_t ocap;
    int *ukeys; /* unit code -> node index (open addressing, ocap slots) */
    long problems;
    unsigned max_report;
    /* per node being checked */
    int node;
    uint8_t *seen;
    uint64_t *held;         /* per author: entries of it held */
    struct coll_state *row; /* the node's collections */
    uint64_t stale;         /* entries held that only an earlier tree routed there */
    uint64_t chains;        /* certificates held only as the chain of an entry's author */
} checker;

static void problem(checker *ck, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(checker *ck, const char *fmt, ...)
{
    if (++ck->problems > ck->max_report)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "  seed %llu: ", (unsigned long long)ck->s->cfg.seed);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static uint64_t key64(const uint8_t *k)
{
    uint64_t h;
    memcpy(&h, k, sizeof h);
    return h;
}

static int origin_lookup(const checker *ck, const uint8_t *origin)
{
    size_t i = key64(origin) & (ck->ocap - 1);
    while (ck->okeys[i] >= 0) {
        if (!memcmp(ck->s->nodes[ck->okeys[i]].c.pk, origin, ENTRY_KEY_BYTES))
            return ck->okeys[i];
        i = (i + 1) & (ck->ocap - 1);
    }
    return -1;
}

static uint64_t unit_hash(const char *u, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)u[i]) * 1099511628211ull;
    return h;
}

static int unit_lookup(const checker *ck, const char *u, size_t n)
{
    size_t i = unit_hash(u, n) & (ck->ocap - 1);
    while (ck->ukeys[i] >= 0) {
        const char *v = ck->s->nodes[ck->ukeys[i]].unit;
        if (strlen(v) == n && !memcmp(v, u, n))
            return ck->ukeys[i];
        i = (i + 1) & (ck->ocap - 1);
    }
    return -1;
}

/* True when node x is anc or below it, walking the parent links of one
 * version of the sim's own tree. */
static bool sim_within(const int *parent, int x, int anc)
{
    for (int depth = 0; x >= 0 && depth <= SIM_MAX_DEPTH; x = parent[x], depth++)
        if (x == anc)
            return true;
    return false;
}

/* True when addressee u (a unit's first server; its subtree when star)
 * names node c's part of tree t: c is u or above it, or for "U*" in u's
 * subtree; or the same for a unit u was merged into, in turn (the sim
 * never merges into a unit merged away, so the chain ends). */
static bool oracle_names(const sim_tree *t, int u, bool star, int c, int nnodes)
{
    for (int hop = 0; u >= 0 && hop < nnodes; u = t->succ[u], hop++)
        if (sim_within(t->parent, u, c) || (star && sim_within(t->parent, c, u)))
            return true;
    return false;
}

/* True when the node above (pa, a unit's first server) passes e down to
 * node c: "*"; "U*" when c is in U's subtree or above U; "U" when c is U
 * or above it; a U merged away as each unit it was merged into too; never
 * for a U no node serves. */
static bool oracle_passes(const checker *ck, const univ_entry *e, int pa, int c, const sim_tree *t)
{
    for (uint32_t i = 0; i < e->v.to.size; i++) {
        const msgpack_object_str *a = &e->v.to.ptr[i].via.str;
        if (a->size == 1 && a->ptr[0] == '*')
            return true;
        bool star = a->size > 1 && a->ptr[a->size - 1] == '*';
        int u = unit_lookup(ck, a->ptr, a->size - star);
        if (u >= 0 && oracle_names(t, u, star, c, ck->s->nnodes))
            return true;
    }
    return false;
}

/* The routing rule restated from route.h, on the sim's own tree and without
 * route.c: a node holds what its subtree authored, and what the node above
 * it holds and passes down (oracle_passes). Both servers of a unit hold the
 * same (the walk uses each unit's first server). */
static bool oracle_holds(const checker *ck, const univ_entry *e, int node, const sim_tree *t)
{
    node = ck->s->nodes[node].canon; /* a unit's servers hold the same */
    if (sim_within(t->parent, ck->s->nodes[e->author].canon, node))
        return true;
    int pa = t->parent[node];
    return pa >= 0 && oracle_holds(ck, e, pa, t) && oracle_passes(ck, e, pa, node, t);
}

static int coll_index(checker *ck, const msgpack_object_str *c)
{
    for (int i = 0; i < ck->ncolls; i++)
        if (strlen(ck->colls[i]) == c->size && !memcmp(ck->colls[i], c->ptr, c->size))
            return i;
    if (ck->ncolls == CHECK_MAX_COLLS || c->size >= sizeof ck->colls[0])
        return -1;
    memcpy(ck->colls[ck->ncolls], c->ptr, c->size);
    ck->colls[ck->ncolls][c->size] = '\0';
    return ck->ncolls++;
}

static int coll_lookup(const checker *ck, const char *name)
{
    for (int i = 0; i < ck->ncolls; i++)
        if (!strcmp(ck->colls[i], name))
            return i;
    return -1;
}

/* "reports/R-x-1 (put, to [a,b]) origin 1a2b3c4d (node X) seq 7" */
static char *describe(const checker *ck, const univ_entry *e, char *buf, size_t cap)
{
    char to[160] = "", hex[65];
    size_t off = 0;
    for (uint32_t i = 0; i < e->v.to.size && off < sizeof to - 40; i++)
        off += (size_t)snprintf(to + off, sizeof to - off, "%s%.*s", i ? "," : "",
                                (int)e->v.to.ptr[i].via.str.size, e->v.to.ptr[i].via.str.ptr);
    hex_encode(e->v.origin, ENTRY_KEY_BYTES, hex);
    snprintf(buf, cap, "%.*s/%.*s (%s, to [%s]) origin %.8s (node %s) seq %llu",
             (int)e->v.coll.size, e->v.coll.ptr, (int)e->v.id.size, e->v.id.ptr,
             entry_op_name(e->v.op), to, hex, ck->s->nodes[e->author].name,
             (unsigned long long)e->seq);
    return buf;
}

typedef struct {
    checker *ck;
    int author;
} own_scan;

static int universe_one(void *ctx, const uint8_t *bytes, size_t len)
{
    own_scan *os = ctx;
    checker *ck = os->ck;
    if (ck->nu == ck->capu) {
        size_t ncap = ck->capu ? 2 * ck->capu : 1024;
        univ_entry *nu = realloc(ck->u, ncap * sizeof *nu);
        if (!nu)
            return -1;
        ck->u = nu;
        ck->capu = ncap;
    }
    univ_entry *e = &ck->u[ck->nu];
    memset(e, 0, sizeof *e);
    e->bytes = malloc(len);
    if (!e->bytes)
        return -1;
    memcpy(e->bytes, bytes, len);
    e->len = len;
    e->author = os->author;
    char why[STORE_ERR_LEN];
    if (entry_decode(e->bytes, len, &e->v, why, sizeof why)) {
        problem(ck, "node %s holds an undecodable entry of its own: %s",
                ck->s->nodes[os->author].unit, why);
        free(e->bytes);
        return 0;
    }
    e->seq = e->v.seq;
    const char *au = ck->s->nodes[os->author].unit;
    if (e->v.unit.size != strlen(au) || memcmp(e->v.unit.ptr, au, e->v.unit.size))
        problem(ck, "node %s wrote seq %llu under unit %.*s", au, (unsigned long long)e->seq,
                (int)e->v.unit.size, e->v.unit.ptr);
    uint8_t h[ENTRY_HASH_BYTES];
    entry_hash(bytes, len, h);
    e->h64 = key64(h);
    e->coll = coll_index(ck, &e->v.coll);
    uint64_t want = ck->count[os->author] + 1;
    if (e->seq != want) {
        problem(ck, "node %s's own log is not contiguous: seq %llu where %llu was expected",
                ck->s->nodes[os->author].unit, (unsigned long long)e->seq,
                (unsigned long long)want);
        entry_view_free(&e->v);
        free(e->bytes);
        return 0;
    }
    ck->count[os->author]++;
    ck->nu++;
    return 0;
}

/* What route.c gives unit: e's author unit is within the node's subtree, or
 * the unit above holds e and route_should_send sends it down (over the
 * sim's final tree). Only compared with the reference model (oracle_holds),
 * which decides what a node must hold. */
static bool route_c_gives(const checker *ck, const univ_entry *e, const char *unit)
{
    char up[NODE_CODE_MAX];
    if (unit_tree_within(ck->tree, e->v.unit.ptr, e->v.unit.size, unit, strlen(unit)))
        return true;
    return unit_tree_parent(ck->tree, unit, up, sizeof up) && route_c_gives(ck, e, up) &&
           route_should_send(ck->tree, &e->v, LINK_DOWN, up, unit);
}

static int checker_init(checker *ck, sim *s, const sim_check_opts *o)
{
    memset(ck, 0, sizeof *ck);
    ck->s = s;
    ck->max_report = o && o->max_report ? o->max_report : 40;
    size_t nn = (size_t)s->nnodes;
    ck->base = calloc(nn, sizeof *ck->base);
    ck->count = calloc(nn, sizeof *ck->count);
    ck->held = calloc(nn, sizeof *ck->held);
    ck->tree = unit_tree_new();
    for (ck->ocap = 16; ck->ocap < 2 * nn; ck->ocap *= 2) {
    }
    ck->okeys = malloc(ck->ocap * sizeof *ck->okeys);
    ck->ukeys = malloc(ck->ocap * sizeof *ck->ukeys);
    if (!ck->base || !ck->count || !ck->held || !ck->tree || !ck->okeys || !ck->ukeys)
        return -1;
    memset(ck->okeys, -1, ck->ocap * sizeof *ck->okeys);
    memset(ck->ukeys, -1, ck->ocap * sizeof *ck->ukeys);
    const sim_tree *final = &s->hist[s->nhist - 1];
    for (int i = 0; i < s->nnodes; i++) {
        sim_node *n = &s->nodes[i];
        const char *p = final->parent[i] >= 0 ? s->nodes[final->parent[i]].unit : "";
        if (unit_tree_set(ck->tree, n->unit, strlen(n->unit), p, strlen(p)))
            return -1;
        size_t k = key64(n->c.pk) & (ck->ocap - 1);
        while (ck->okeys[k] >= 0)
            k = (k + 1) & (ck->ocap - 1);
        ck->okeys[k] = i;
        if (n->canon != i)
            continue; /* a unit's code names its first server */
        k = unit_hash(n->unit, strlen(n->unit)) & (ck->ocap - 1);
        while (ck->ukeys[k] >= 0)
            k = (k + 1) & (ck->ocap - 1);
        ck->ukeys[k] = i;
    }
    for (int i = 0; i < s->nnodes; i++) { /* route.c's tree knows the merges too */
        int c = final->succ[i];
        if (c >= 0 && unit_tree_set_successor(ck->tree, s->nodes[i].unit, strlen(s->nodes[i].unit),
                                              s->nodes[c].unit))
            return -1;
    }
    for (int i = 0; i < s->nnodes; i++) {
        own_scan os = {ck, i};
        ck->base[i] = ck->nu;
        if (store_log_scan(s->nodes[i].st, s->nodes[i].c.pk, universe_one, &os))
            return -1;
    }
    ck->seen = calloc(ck->nu + 1, 1);
    return ck->seen ? 0 : -1;
}

static void checker_free(checker *ck)
{
    for (size_t i = 0; i < ck->nu; i++) {
        entry_view_free(&ck->u[i].v);
        free(ck->u[i].bytes);
    }
    free(ck->u);
    free(ck->base);
    free(ck->count);
    free(ck->held);
    free(ck->okeys);
    free(ck->ukeys);
    free(ck->seen);
    unit_tree_free(ck->tree);
}

static int held_one(void *ctx, const uint8_t *bytes, size_t len)
{
    checker *ck = ctx;
    sim_node *n = &ck->s->nodes[ck->node];
    entry_view v;
    char why[STORE_ERR_LEN], hex[65];
    if (entry_decode(bytes, len, &v, why, sizeof why)) {
        problem(ck, "node %s holds an undecodable entry: %s", n->name, why);
        return 0;
    }
    int a = origin_lookup(ck, v.origin);
    uint64_t seq = v.seq;
    hex_encode(v.origin, ENTRY_KEY_BYTES, hex);
    entry_view_free(&v);
    if (a < 0) {
        problem(ck, "node %s holds seq %llu of origin %.8s, which no node is", n->name,
                (unsigned long long)seq, hex);
        return 0;
    }
    if (seq < 1 || seq > ck->count[a]) {
        problem(ck,
                "node %s holds seq %llu of origin %.8s (unit %s), beyond its author's log "
                "(%llu entries)",
                n->name, (unsigned long long)seq, hex, ck->s->nodes[a].unit,
                (unsigned long long)ck->count[a]);
        return 0;
    }
    size_t idx = ck->base[a] + seq - 1;
    univ_entry *e = &ck->u[idx];
    char d[400];
    if (e->len != len || memcmp(e->bytes, bytes, len)) {
        problem(ck, "node %s holds a different entry than its author for %s", n->name,
                describe(ck, e, d, sizeof d));
        return 0;
    }
    if (ck->seen[idx]) {
        problem(ck, "node %s holds %s twice", n->unit, describe(ck, e, d, sizeof d));
        return 0;
    }
    ck->seen[idx] = 1;
    ck->held[a]++;
    if (e->coll >= 0) {
        ck->row[e->coll].fp += e->h64;
        ck->row[e->coll].n++;
    }
    if (!oracle_holds(ck, e, ck->node, &ck->s->hist[ck->s->nhist - 1])) {
        bool earlier = false; /* an earlier tree (before a unit moved) routed it here */
        for (size_t t = 0; t + 1 < ck->s->nhist && !earlier; t++)
            earlier = oracle_holds(ck, e, ck->node, &ck->s->hist[t]);
        bool cert = e->v.coll.size == 5 && !memcmp(e->v.coll.ptr, "certs", 5);
        if (earlier)
            ck->stale++;
        else if (cert) /* sent ahead of an entry of its subject (session.c) */
            ck->chains++;
        else
            problem(ck, "node %s holds %s, which the routing rule does not give it", n->name,
                    describe(ck, e, d, sizeof d));
    }
    return 0;
}

static int origin_count_one(void *ctx, const store_origin *o)
{
    checker *ck = ctx;
    sim_node *n = &ck->s->nodes[ck->node];
    char hex[65];
    hex_encode(o->origin, ENTRY_KEY_BYTES, hex);
    int a = origin_lookup(ck, o->origin);
    if (a < 0)
        return 0; /* reported by held_one */
    if (o->count != ck->held[a])
        problem(ck,
                "node %s: origin %.8s (unit %s) counts %llu entries but %llu distinct seqs "
                "are held",
                n->name, hex, ck->s->nodes[a].unit, (unsigned long long)o->count,
                (unsigned long long)ck->held[a]);
    if (o->equivocated)
        problem(ck, "node %s: origin %.8s (unit %s) is flagged as an equivocator", n->name, hex,
                ck->s->nodes[a].unit);
    return 0;
}

static int evidence_one(void *ctx, const uint8_t *held, size_t hl, const uint8_t *other, size_t ol)
{
    checker *ck = ctx;
    (void)held, (void)hl, (void)other, (void)ol;
    problem(ck, "node %s holds an equivocation proof", ck->s->nodes[ck->node].name);
    return 0;
}

typedef struct {
    checker *ck;
    coll_state *row;
} coll_scan;

static int coll_one(void *ctx, const char *coll, uint64_t live,
                    const uint8_t digest[STORE_DIGEST_BYTES])
{
    coll_scan *cs = ctx;
    int c = coll_lookup(cs->ck, coll);
    if (c < 0) {
        problem(cs->ck, "node %s has collection %s, which no author wrote",
                cs->ck->s->nodes[cs->ck->node].name, coll);
        return 0;
    }
    memcpy(cs->row[c].digest, digest, STORE_DIGEST_BYTES);
    cs->row[c].live = live;
    return 0;
}

/* Checks node i's entries against the oracle and fills its collection row. */
static void check_node(checker *ck, int i, coll_state *row)
{
    sim_node *n = &ck->s->nodes[i];
    ck->node = i;
    ck->row = row;
    memset(ck->seen, 0, ck->nu);
    memset(ck->held, 0, (size_t)ck->s->nnodes * sizeof *ck->held);
    if (store_log_scan(n->st, NULL, held_one, ck))
        problem(ck, "node %s: cannot scan its log", n->name);
    char d[400];
    for (size_t k = 0; k < ck->nu; k++) {
        univ_entry *e = &ck->u[k];
        bool want = oracle_holds(ck, e, i, &ck->s->hist[ck->s->nhist - 1]);
        if (want != route_c_gives(ck, e, n->unit))
            problem(ck, "node %s: the rule as route.h states it %s %s, but route.c %s", n->name,
                    want ? "gives it" : "does not give it", describe(ck, e, d, sizeof d),
                    want ? "does not" : "does");
        if (!want)
            continue;
        if (!ck->seen[k])
            problem(ck, "node %s lacks %s", n->unit, describe(ck, e, d, sizeof d));
    }
    store_origins(n->st, origin_count_one, ck);
    store_equivocations(n->st, evidence_one, ck);
    coll_scan cs = {ck, row};
    store_collections(n->st, coll_one, &cs);
}

typedef struct {
    coll_state *rows;
    int ncolls, coll;
} group_ctx;

static int group_cmp(const void *a, const void *b, void *ctx)
{
    const group_ctx *g = ctx;
    const coll_state *x = &g->rows[*(const int *)a * g->ncolls + g->coll];
    const coll_state *y = &g->rows[*(const int *)b * g->ncolls + g->coll];
    if (x->fp != y->fp)
        return x->fp < y->fp ? -1 : 1;
    if (x->n != y->n)
        return x->n < y->n ? -1 : 1;
    return *(const int *)a - *(const int *)b;
}

/* Nodes holding the same set of a collection's entries must have the same
 * digest and live count. */
static void check_groups(checker *ck, coll_state *rows)
{
    int nn = ck->s->nnodes;
    int *order = malloc((size_t)nn * sizeof *order);
    if (!order)
        return;
    for (int c = 0; c < ck->ncolls; c++) {
        group_ctx g = {rows, ck->ncolls, c};
        for (int i = 0; i < nn; i++)
            order[i] = i;
        qsort_r(order, (size_t)nn, sizeof *order, group_cmp, &g);
        for (int k = 1; k < nn; k++) {
            const coll_state *x = &rows[order[k] * ck->ncolls + c];
            const coll_state *y = &rows[order[k - 1] * ck->ncolls + c];
            if (x->fp != y->fp || x->n != y->n || !x->n)
                continue;
            if (memcmp(y->digest, x->digest, STORE_DIGEST_BYTES) || y->live != x->live)
                problem(ck,
                        "nodes %s and %s hold the same %llu entries of %s, but their "
                        "digests (live %llu vs %llu) differ",
                        ck->s->nodes[order[k - 1]].name, ck->s->nodes[order[k]].name,
                        (unsigned long long)x->n, ck->colls[c], (unsigned long long)y->live,
                        (unsigned long long)x->live);
        }
    }
    free(order);
}

/* Replays the entries node i holds (ck->seen, right after check_node; for
 * the root: every entry of every author) into a fresh store, shuffled and
 * in random batches, and compares every collection digest with node i's. */
static int count_quarantined(void *ctx, const store_quarantined *q)
{
    (void)q;
    ++*(size_t *)ctx;
    return 0;
}

static int print_quarantined(void *ctx, const store_quarantined *q)
{
    (void)ctx;
    fprintf(stderr, "    quarantined: %.*s\n", (int)q->reason_len, q->reason);
    return 0;
}

static void check_fresh(checker *ck, int i, const coll_state *row)
{
    sim *s = ck->s;
    sim_node *n = &s->nodes[i];
    char dir[NODE_PATH_MAX + 64], err[STORE_ERR_LEN];
    snprintf(dir, sizeof dir, "%s/fresh-%s", s->dir, n->name);
    size_t *idx = malloc((ck->nu + 1) * sizeof *idx), m = 0;
    if (!idx)
        return;
    for (size_t k = 0; k < ck->nu; k++)
        if (i == 0 || ck->seen[k])
            idx[m++] = k;
    for (size_t k = m; k > 1; k--) {
        size_t j = sim_below(s, k), t = idx[k - 1];
        idx[k - 1] = idx[j];
        idx[j] = t;
    }
    store *fresh;
    store_options opt = {.map_size = s->cfg.map_size};
    domains_store_options(&opt);
    if (store_open(&fresh, dir, &opt, err, sizeof err)) {
        problem(ck, "cannot open a fresh store: %s", err);
        free(idx);
        return;
    }
    store_input in[64];
    apply_result res[64];
    for (size_t k = 0; k < m;) {
        size_t b = 1 + sim_below(s, 64);
        if (b > m - k)
            b = m - k;
        for (size_t j = 0; j < b; j++)
            in[j] = (store_input){ck->u[idx[k + j]].bytes, ck->u[idx[k + j]].len};
        if (store_apply(fresh, in, b, 0, res, NULL, err, sizeof err)) {
            problem(ck, "fresh replay for %s failed: %s", n->name, err);
            break;
        }
        for (size_t j = 0; j < b; j++)
            if (res[j] != APPLY_ADDED && res[j] != APPLY_QUARANTINED) {
                char d[400];
                problem(ck, "fresh replay for %s: %s was %s", n->name,
                        describe(ck, &ck->u[idx[k + j]], d, sizeof d), apply_result_str(res[j]));
            }
        k += b;
    }
    /* an entry may wait in quarantine for one that comes later; none may
     * be left waiting once all are applied */
    size_t left = 0;
    store_quarantine_scan(fresh, count_quarantined, &left);
    if (left && getenv("SIM_QDEBUG"))
        store_quarantine_scan(fresh, print_quarantined, NULL);
    if (left)
        problem(ck, "fresh replay for %s: %zu entries left in quarantine", n->name, left);
    coll_state *frow = calloc((size_t)ck->ncolls + 1, sizeof *frow);
    coll_scan cs = {ck, frow};
    int saved = ck->node;
    ck->node = i;
    if (frow)
        store_collections(fresh, coll_one, &cs);
    for (int c = 0; frow && c < ck->ncolls; c++)
        if (memcmp(frow[c].digest, row[c].digest, STORE_DIGEST_BYTES) ||
            frow[c].live != row[c].live)
            problem(ck,
                    "node %s: collection %s differs from a fresh replay of its %zu entries "
                    "(live %llu vs %llu)",
                    n->name, ck->colls[c], m, (unsigned long long)row[c].live,
                    (unsigned long long)frow[c].live);
    ck->node = saved;
    free(frow);
    store_close(fresh);
    sim_rmtree(dir);
    free(idx);
}

static void verify_report(void *ctx, const char *msg)
{
    checker *ck = ctx;
    problem(ck, "node %s: store_verify: %s", ck->s->nodes[ck->node].name, msg);
}

static void check_verify(checker *ck, int i)
{
    char err[STORE_ERR_LEN];
    ck->node = i;
    long p = store_verify(ck->s->nodes[i].st, ck->s->dir, verify_report, ck, err, sizeof err);
    if (p < 0)
        problem(ck, "node %s: store_verify failed: %s", ck->s->nodes[i].name, err);
    size_t q = 0; /* honest nodes: nothing is refused by write authority */
    store_quarantine_scan(ck->s->nodes[i].st, count_quarantined, &q);
    if (q && getenv("SIM_QDEBUG"))
        store_quarantine_scan(ck->s->nodes[i].st, print_quarantined, NULL);
    if (q)
        problem(ck, "node %s: %zu entries in quarantine", ck->s->nodes[i].name, q);
}

long sim_check(sim *s, const sim_check_opts *o)
{
    checker ck;
    long ret = -1;
    coll_state *rows = NULL;
    uint8_t *fresh = NULL;
    for (int i = 0; i < s->nnodes; i++)
        if (!s->nodes[i].alive) {
            fprintf(stderr, "  seed %llu: node %s is down: heal before checking\n",
                    (unsigned long long)s->cfg.seed, s->nodes[i].name);
            return -1;
        }
    if (checker_init(&ck, s, o))
        goto out;
    rows = calloc((size_t)s->nnodes * (size_t)(ck.ncolls + 1), sizeof *rows);
    if (!rows)
        goto out;
    unsigned nf = o ? o->fresh_nodes : 0, nv = o ? o->verify_nodes : 0;
    fresh = calloc((size_t)s->nnodes, 1);
    if (!fresh)
        goto out;
    fresh[0] = 1;
    for (unsigned k = 0; k < nf && s->nnodes > 1; k++)
        fresh[1 + sim_below(s, (uint64_t)s->nnodes - 1)] = 1;
    for (int i = 0; i < s->nnodes; i++) {
        check_node(&ck, i, &rows[(size_t)i * (size_t)ck.ncolls]);
        if (fresh[i])
            check_fresh(&ck, i, &rows[(size_t)i * (size_t)ck.ncolls]);
    }
    check_groups(&ck, rows);
    check_verify(&ck, 0);
    for (unsigned k = 0; k < nv && s->nnodes > 1; k++)
        check_verify(&ck, 1 + (int)sim_below(s, (uint64_t)s->nnodes - 1));
    for (int k = 0; k < s->nlinks; k++) {
        sim_link *l = &s->links[k];
        for (int side = 0; l->ses[0] && side < 2; side++) {
            repl_stats st;
            repl_session_stats(l->ses[side], &st);
            if (st.state != REPL_OPEN || st.to_send)
                problem(&ck, "session %s->%s at %s: state %d, %llu entries still to send",
                        s->nodes[l->lo].name, s->nodes[l->hi].name,
                        s->nodes[side ? l->hi : l->lo].name, (int)st.state,
                        (unsigned long long)st.to_send);
        }
    }
    for (size_t k = 0; k < s->nerrors; k++)
        problem(&ck, "%s", s->errors[k]);
    if (s->errors_seen > s->nerrors) {
        problem(&ck, "... and %llu more unexpected errors",
                (unsigned long long)(s->errors_seen - s->nerrors));
        ck.problems += (long)(s->errors_seen - s->nerrors - 1);
    }
    ret = ck.problems;
    if (ck.problems > ck.max_report)
        fprintf(stderr, "  seed %llu: ... %ld problems in all\n", (unsigned long long)s->cfg.seed,
                ck.problems);
out:
    free(rows);
    free(fresh);
    checker_free(&ck);
    return ret;
}

double sim_wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

long sim_peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024;
}
