/*
 * repl_link.c - replication sessions over WebSockets on the node's loop. See
 * repl_link.h for what it does; this comment says how.
 *
 * A repl_conn is one WebSocket connection and its session. Accepted ones are
 * created on LWS_CALLBACK_ESTABLISHED; dialled ones by dial(), before lws
 * has a connection (lws may report a failure from inside
 * lws_client_connect_via_info, so the conn is marked in_dial meanwhile and
 * freed by dial() itself). The lws wsi finds its conn through lws's opaque
 * user data; when lws closes the connection (CLOSED, CLIENT_CLOSED,
 * CLIENT_CONNECTION_ERROR or, failing those, WSI_DESTROY) conn_gone()
 * records why, detaches the conn and frees it, unless verification jobs
 * still run on the thread pool: the last one frees it then.
 *
 * Closing: when the session closes (or the link refuses a message),
 * conn_close() marks the conn LS_CLOSING and asks for WRITEABLE; the
 * callback drains what the session queued (its "err" message) when asked to,
 * then arms the wsi's lws timer, whose callback returns -1 after
 * lws_close_reason(), so the peer gets the reason in the close frame (see
 * close_soon()). A peer that stops reading never makes us writeable again:
 * lws_set_timeout() ends such a connection after CLOSE_GRACE_S.
 *
 * Writing: one message per WRITEABLE callback, copied behind LWS_PRE into
 * the conn's own buffer (a client's lws_write masks the buffer in place, so
 * the session's message is never handed to lws directly).
 *
 * Dialling (plan()): walk the upstreams in order; dial one that is idle and
 * due; stop at the first whose link is open (closing the links to those
 * after it: "switching back"), or at the first not known to be down (its
 * first attempt is under way). An upstream is down after a failed attempt
 * or a lost link; then the next one is tried at once, and the down one
 * again after its backoff.
 *
 * Sessions get wall-clock milliseconds (they check certificate validity
 * with them, and report last_exchange in them); the link's own timers and
 * bookkeeping use uv_now() (monotonic), shown as wall-clock times through
 * wall_base.
 */
#include "node/links/repl_link.h"

#include "lib/hex.h"
#include "lib/log.h"
#include "node/http/tls.h"
#include "node/http/url.h"
#include "node/links/link_follow.h"
#include "node/links/link_media.h"
#include "replication/repl_node.h"

#include <errno.h>
#include <inttypes.h>
#include <libwebsockets.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TICK_MS 1000
#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 30000
#define FALLBACK_RETRY_MAX_MS 10000           /* parent retries while a fallback serves */
#define CONNECT_MS 10000                      /* dialling: TCP and WebSocket upgrade */
#define HANDSHAKE_MS 10000                    /* WebSocket up, session not open yet */
#define BUFFER_KEEP (4 * REPL_LINK_RX_BUFFER) /* larger message buffers are freed after use */
#define STABLE_MS 10000                       /* an open link this old resets the backoff */
#define PENDING_TTL_MS 1000                   /* sync status: pending counts cached this long */
#define CLOSE_GRACE_S 5                       /* a closing link that cannot write is cut */
#define REASON_MAX 123                        /* close frame reason bytes */
#define CTL_MAX 8                             /* text messages queued on one link */

typedef enum { LS_CONNECTING, LS_HANDSHAKE, LS_OPEN, LS_CLOSING } link_state;

typedef struct repl_upstream repl_upstream;

typedef struct repl_conn {
    struct repl_conn *next;
    repl_links *L;
    struct lws *wsi;
    repl_session *s;
    repl_upstream *up; /* dialled: its upstream; NULL when accepted */
    link_state state;
    uint64_t state_ms, opened_ms;
    bool gone, in_dial, drain, planned;
    unsigned jobs; /* verification jobs on the thread pool */
    int close_status;
    char close_reason[REASON_MAX + 1];
    char error[256];      /* why this side closed it */
    char peer_close[200]; /* the peer's close frame */
    char remote[64];
    uint8_t *rx, *tx;
    size_t rx_len, rx_cap, tx_cap;
    bool rx_text;
    uint64_t pending_ms, pending_entries, pending_bytes; /* exact counts, cached */
    uint64_t pending_arrival, pending_sent;              /* the state they were counted at */
    bool pending_ok;
    char *ctl[CTL_MAX]; /* side-channel text messages to send first (link_media.h) */
    size_t nctl;
} repl_conn;

struct repl_upstream {
    char url[NODE_URL_MAX];
    url_parts at;      /* the parsed url */
    char invalid[200]; /* why the URL cannot be dialled; "" when fine */
    repl_conn *conn;
    unsigned failures; /* consecutive failed attempts; > 0: down */
    uint64_t next_try_ms, state_ms;
    char last_error[512];
    /* what earlier connections learnt and did */
    bool peer_known;
    char peer_unit[33];
    uint8_t peer_key[32];
    link_kind kind;
    uint64_t sent, received, last_exchange_ms;
};

struct repl_links {
    uv_loop_t *loop;
    const node_config *c;
    store *store;
    bool enabled;
    char why[300];
    repl_node rn;
    http_server *http;
    struct lws_protocols protocol;
    repl_upstream ups[NODE_MAX_UPSTREAMS];
    size_t nups;
    repl_conn *conns; /* every connection lws still holds */
    uv_timer_t tick, retry;
    bool timers, stopping;
    uint64_t changes_seen, arrival_seen;
    uint64_t tree_seen;    /* rn.gen.tree when the parent was last checked */
    char parent[33];       /* this unit's parent in the tree then */
    bool follow;           /* the parent changed: its advertised URLs not dialled yet */
    char retired_into[33]; /* this unit was merged into it ("" while live) */
    bool retired, drained; /* retired; its backlog up was seen empty */
    uint64_t rx_messages;  /* received on any link (positions may have moved) */
    int64_t wall_base;     /* wall-clock ms minus uv_now() */
    char *sync_written;    /* the last sync.json content (without "updated") */
    bool sync_failed;
    link_media *media; /* the media side channel */
};

/* ---- small helpers ------------------------------------------------------ */

static uint64_t now_ms(const repl_links *L)
{
    return uv_now(L->loop);
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The time given to sessions. */
static uint64_t sess_now(void)
{
    return (uint64_t)wall_ms();
}

/* An ISO-8601 UTC time for wall-clock ms; null for 0 (never). */
static json_t *iso_wall(int64_t w)
{
    if (!w)
        return json_null();
    time_t secs = (time_t)(w / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char buf[40];
    snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(w % 1000));
    return json_string(buf);
}

/* The same for a uv_now() time. */
static json_t *iso_json(const repl_links *L, uint64_t mono)
{
    return mono ? iso_wall(L->wall_base + (int64_t)mono) : json_null();
}

/* in, made safe inside a logfmt "..." value. */
static const char *quoted(char *out, size_t cap, const char *in)
{
    size_t n = 0;
    for (const char *p = in; *p && n + 2 < cap; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch < 0x20) {
            out[n++] = ' ';
            continue;
        }
        if (ch == '"' || ch == '\\')
            out[n++] = '\\';
        out[n++] = (char)ch;
    }
    out[n] = '\0';
    return out;
}

/* Copies at most max bytes of in without splitting a UTF-8 sequence. */
static void utf8_copy(char *out, size_t max, const char *in)
{
    size_t n = strlen(in);
    if (n > max) {
        n = max;
        while (n && ((unsigned char)in[n] & 0xc0) == 0x80)
            n--;
    }
    memcpy(out, in, n);
    out[n] = '\0';
}

static const char *kind_name(link_kind k, bool dialled)
{
    switch (k) {
    case LINK_UP: return "up";
    case LINK_DOWN: return "down";
    case LINK_MIRROR: return "mirror";
    default: return dialled ? "up" : "down";
    }
}

static const char *state_name(link_state st)
{
    switch (st) {
    case LS_CONNECTING: return "connecting";
    case LS_HANDSHAKE: return "handshake";
    case LS_OPEN: return "open";
    default: return "closing";
    }
}

/* "peer_unit=.. direction=.. url=.." (or remote=..) for log lines. */
static const char *conn_label(const repl_conn *c, char *out, size_t cap)
{
    repl_stats st;
    memset(&st, 0, sizeof st);
    if (c->s)
        repl_session_stats(c->s, &st);
    const char *unit = st.peer_unit[0]              ? st.peer_unit
                       : c->up && c->up->peer_known ? c->up->peer_unit
                                                    : "?";
    if (c->up)
        snprintf(out, cap, "peer_unit=%s direction=%s url=%s", unit, kind_name(st.kind, true),
                 c->up->url);
    else
        snprintf(out, cap, "peer_unit=%s direction=%s remote=%s", unit, kind_name(st.kind, false),
                 c->remote);
    return out;
}

/* ---- connections ---------------------------------------------------------- */

static void plan_soon(repl_links *L);
static void membership_refresh(repl_links *L);

static repl_conn *conn_new(repl_links *L)
{
    repl_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->L = L;
    c->state_ms = now_ms(L);
    c->next = L->conns;
    L->conns = c;
    return c;
}

static void conn_free(repl_conn *c)
{
    for (size_t i = 0; i < c->nctl; i++)
        free(c->ctl[i]);
    repl_session_free(c->s);
    free(c->rx);
    free(c->tx);
    free(c);
}

static void conn_set_state(repl_conn *c, link_state st)
{
    c->state = st;
    c->state_ms = now_ms(c->L);
}

static bool conn_start_session(repl_conn *c, bool initiator)
{
    const node_config *nc = c->L->c;
    repl_config cfg = {.pk = nc->pk,
                       .sk = nc->sk,
                       .root_key = nc->root_key,
                       .initiator = initiator,
                       .max_frame = REPL_LINK_MAX_FRAME,
                       .defer_verify = true};
    c->s = repl_session_new(&cfg, &repl_node_ops, &c->L->rn, sess_now());
    return c->s != NULL;
}

/* Starts closing c with a reason for the peer and the log. drain: send what
 * the session queued first (its err message). */
static void conn_close(repl_conn *c, int status, bool drain, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void conn_close(repl_conn *c, int status, bool drain, const char *fmt, ...)
{
    if (c->gone || c->state == LS_CLOSING)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->error, sizeof c->error, fmt, ap);
    va_end(ap);
    utf8_copy(c->close_reason, REASON_MAX, c->error);
    c->close_status = status;
    c->drain = drain;
    bool connecting = c->state == LS_CONNECTING;
    conn_set_state(c, LS_CLOSING);
    if (!c->wsi)
        return;
    if (connecting) {
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        return;
    }
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, CLOSE_GRACE_S);
    lws_callback_on_writable(c->wsi);
}

/* The backoff before the next attempt at u, with jitter. */
static uint64_t backoff_ms(const repl_links *L, const repl_upstream *u)
{
    uint64_t d = BACKOFF_MIN_MS;
    for (unsigned i = 1; i < u->failures && d < BACKOFF_MAX_MS; i++)
        d *= 2;
    uint64_t cap = BACKOFF_MAX_MS;
    for (const repl_upstream *v = u + 1; v < L->ups + L->nups; v++)
        if (v->conn && v->conn->state == LS_OPEN)
            cap = FALLBACK_RETRY_MAX_MS; /* a fallback serves: retry the parent sooner */
    if (d > cap)
        d = cap;
    return d + randombytes_uniform((uint32_t)(d / 4 + 1));
}

/* A dialled connection ended: remember what it did and when to retry. */
static void upstream_ended(repl_links *L, repl_upstream *u, repl_conn *c, const char *reason)
{
    uint64_t now = now_ms(L);
    if (c->s) {
        repl_stats st;
        repl_session_stats(c->s, &st);
        u->sent += st.entries_sent;
        u->received += st.entries_received;
        if (st.last_exchange_ms)
            u->last_exchange_ms = st.last_exchange_ms;
    }
    u->conn = NULL;
    u->state_ms = now;
    if (c->planned) { /* we closed it on purpose: not a failure */
        u->failures = 0;
        u->next_try_ms = 0;
        return;
    }
    bool stable = c->opened_ms && now - c->opened_ms >= STABLE_MS;
    u->failures = stable ? 1 : u->failures + 1;
    snprintf(u->last_error, sizeof u->last_error, "%s", reason);
    uint64_t wait = backoff_ms(L, u);
    u->next_try_ms = now + wait;
    char q[600];
    if (!c->s) /* never got as far as a session: conn_gone logged nothing */
        log_write(LOG_INFO, "repl.dial_failed",
                  "url=%s attempt=%u error=\"%s\" retry_in_ms=%" PRIu64, u->url, u->failures,
                  quoted(q, sizeof q, reason), wait);
}

/* lws is done with c's connection (closed, failed, or destroyed). */
static void conn_gone(repl_conn *c, const char *why)
{
    if (c->gone)
        return;
    repl_links *L = c->L;
    c->gone = true;
    if (c->wsi)
        lws_set_opaque_user_data(c->wsi, NULL);
    c->wsi = NULL;
    for (repl_conn **p = &L->conns; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            break;
        }
    const char *reason = why;
    if (c->error[0])
        reason = c->error;
    else if (c->s && repl_session_state(c->s) == REPL_CLOSED)
        reason = repl_session_error(c->s);
    else if (c->peer_close[0])
        reason = c->peer_close;
    if (c->s) {
        char label[200], q[300];
        repl_stats st;
        repl_session_stats(c->s, &st);
        log_write(LOG_INFO, "repl.link_closed",
                  "%s sent=%" PRIu64 " received=%" PRIu64 " reason=\"%s\"",
                  conn_label(c, label, sizeof label), st.entries_sent, st.entries_received,
                  quoted(q, sizeof q, reason));
    }
    if (c->up)
        upstream_ended(L, c->up, c, reason);
    if (!c->in_dial && !c->jobs)
        conn_free(c);
    plan_soon(L);
}

/* ---- verification on the thread pool ------------------------------------------ */

typedef struct {
    uv_work_t req;
    repl_conn *c;
    repl_verify_job job;
} verify_work;

static void conn_after(repl_conn *c);

static void verify_run(uv_work_t *req)
{
    verify_work *w = req->data;
    repl_verify_job_run(&w->job);
}

static void verify_done(uv_work_t *req, int status)
{
    verify_work *w = req->data;
    repl_conn *c = w->c;
    uint64_t id = w->job.id;
    free(w);
    (void)status; /* never cancelled */
    c->jobs--;
    if (c->gone) {
        if (!c->jobs && !c->in_dial)
            conn_free(c);
        return;
    }
    repl_session_job_done(c->s, id, sess_now());
    conn_after(c);
}

/* A batch of fewer entries is verified on the loop: one signature per run
 * (entry_run_verify) costs less than the trip through the pool. */
#define VERIFY_INLINE_MAX 64

/* Hands the session's verification jobs to the thread pool. */
static void jobs_dispatch(repl_conn *c)
{
    repl_verify_job job;
    while (repl_session_next_job(c->s, &job)) {
        verify_work *w = job.n < VERIFY_INLINE_MAX ? NULL : calloc(1, sizeof *w);
        if (!w) { /* verify here instead */
            repl_verify_job_run(&job);
            repl_session_job_done(c->s, job.id, sess_now());
            continue;
        }
        w->c = c;
        w->job = job;
        w->req.data = w;
        c->jobs++;
        if (uv_queue_work(c->L->loop, &w->req, verify_run, verify_done)) {
            c->jobs--;
            free(w);
            repl_verify_job_run(&job);
            repl_session_job_done(c->s, job.id, sess_now());
        }
    }
}

/* ---- after the session moved ------------------------------------------------- */

/* Closes c if its session closed; asks for WRITEABLE when it has output. */
static void conn_kick(repl_conn *c)
{
    if (c->gone || !c->s)
        return;
    if (repl_session_state(c->s) == REPL_CLOSED && c->state != LS_CLOSING) {
        const char *e = repl_session_error(c->s);
        bool by_peer = !strncmp(e, "peer closed the link", 20);
        conn_close(c, by_peer ? LWS_CLOSE_STATUS_NORMAL : LWS_CLOSE_STATUS_POLICY_VIOLATION, true,
                   "%s", e);
    }
    if (c->wsi && c->state != LS_CONNECTING &&
        (c->state == LS_CLOSING || repl_session_want_write(c->s)))
        lws_callback_on_writable(c->wsi);
}

/* Entries arrived through `from`: every other open session pushes them on. */
static void relay(repl_links *L, const repl_conn *from)
{
    for (repl_conn *o = L->conns; o; o = o->next) {
        if (o == from || !o->s || o->state != LS_OPEN)
            continue;
        repl_session_notify(o->s);
        conn_kick(o);
    }
}

static void conn_opened(repl_conn *c)
{
    repl_links *L = c->L;
    conn_set_state(c, LS_OPEN);
    c->opened_ms = now_ms(L);
    repl_stats st;
    repl_session_stats(c->s, &st);
    char label[200], key[65];
    log_write(LOG_INFO, "repl.link_open", "%s peer_node=%s", conn_label(c, label, sizeof label),
              hex_encode(st.peer_key, 32, key));
    if (c->up) {
        repl_upstream *u = c->up;
        u->peer_known = true;
        snprintf(u->peer_unit, sizeof u->peer_unit, "%s", st.peer_unit);
        memcpy(u->peer_key, st.peer_key, 32);
        u->kind = st.kind;
        plan_soon(L); /* a better upstream answered: drop the fallbacks */
        return;
    }
    /* a node that reconnected replaces its older, perhaps half-dead link */
    for (repl_conn *o = L->conns; o; o = o->next) {
        repl_stats os;
        if (o == c || o->up || !o->s || o->state == LS_CLOSING)
            continue;
        repl_session_stats(o->s, &os);
        if (os.peer_unit[0] && !memcmp(os.peer_key, st.peer_key, 32))
            conn_close(o, LWS_CLOSE_STATUS_GOINGAWAY, false,
                       "replaced by a newer connection from the same node");
    }
}

/* Puts the upstreams with the URLs urls[0..n) first, in that order (new
 * records for URLs not configured), the others after them as fallbacks.
 * A record with a connection is never dropped; the conns follow their
 * records. */
static void upstreams_front(repl_links *L, char (*urls)[NODE_URL_MAX], size_t n)
{
    repl_upstream *old = malloc(sizeof L->ups);
    if (!old)
        return;
    memcpy(old, L->ups, sizeof L->ups);
    size_t nold = L->nups, k = 0, keep = 0;
    bool used[NODE_MAX_UPSTREAMS] = {0};
    for (size_t j = 0; j < nold; j++)
        keep += old[j].conn != NULL;
    for (size_t i = 0; i < n && k < NODE_MAX_UPSTREAMS; i++) {
        size_t j = 0;
        while (j < nold && (used[j] || strcmp(old[j].url, urls[i])))
            j++;
        if (j < nold) {
            used[j] = true;
            keep -= old[j].conn != NULL;
            L->ups[k++] = old[j];
        } else if (k + keep < NODE_MAX_UPSTREAMS) {
            repl_upstream *u = &L->ups[k++];
            memset(u, 0, sizeof *u);
            snprintf(u->url, sizeof u->url, "%s", urls[i]);
            url_parse(u->url, false, &u->at, u->invalid, sizeof u->invalid);
        }
    }
    for (size_t j = 0; j < nold; j++) {
        if (used[j])
            continue;
        if (old[j].conn) /* room was kept for it */
            keep--, L->ups[k++] = old[j];
        else if (k + keep < NODE_MAX_UPSTREAMS)
            L->ups[k++] = old[j];
    }
    L->nups = k;
    for (size_t i = 0; i < k; i++)
        if (L->ups[i].conn)
            L->ups[i].conn->up = &L->ups[i];
    free(old);
}

/* Saves the node's new parent and upstream list in config.json, so that a
 * restart dials them first without finding the move again. A failure is
 * logged: the node goes on with the list it holds in memory. */
static void parent_save(repl_links *L)
{
    char urls[NODE_MAX_UPSTREAMS][NODE_URL_MAX], err[NODE_PATH_MAX + 200], q[NODE_PATH_MAX + 260];
    for (size_t i = 0; i < L->nups; i++)
        memcpy(urls[i], L->ups[i].url, NODE_URL_MAX);
    if (node_config_save_place(L->c->dir, L->parent, (const char(*)[NODE_URL_MAX])urls, L->nups,
                               err, sizeof err))
        log_write(LOG_WARN, "repl.parent_save_failed",
                  "unit=%s parent=%s error=\"%s\" msg=\"the new upstreams are used until the "
                  "node stops; after a restart it finds the move again\"",
                  L->c->unit, L->parent, quoted(q, sizeof q, err));
}

/* Dials the new parent's advertised URLs first (the old upstreams stay as
 * fallbacks until a link to it is up) and saves the new list
 * (parent_save). Clears L->follow once done. */
static void parent_follow(repl_links *L)
{
    char urls[NODE_MAX_UPSTREAMS][NODE_URL_MAX], list[600] = "";
    size_t n = link_follow_advertised(L->store, L->parent, urls, NODE_MAX_UPSTREAMS);
    if (!n)
        return; /* not known yet: tried again when membership arrives */
    L->follow = false;
    upstreams_front(L, urls, n);
    parent_save(L);
    for (size_t i = 0; i < n; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? "," : "", urls[i]);
    log_write(LOG_INFO, "repl.parent_follow", "unit=%s parent=%s urls=%s upstreams=%zu", L->c->unit,
              L->parent, list, L->nups);
    plan_soon(L);
}

/* After the unit tree changed: when this node's unit now sits under
 * another parent (it moved; at start, another than the configured one),
 * dials the new parent's advertised addresses (parent_follow); when its
 * unit was retired, says so. The sessions follow the tree themselves
 * (their kind is recomputed, a link to a unit that is no longer its
 * parent closes). */
static void parent_check(repl_links *L)
{
    if (L->rn.gen.tree == L->tree_seen)
        return;
    bool first = L->tree_seen == 0;
    L->tree_seen = L->rn.gen.tree;
    char parent[33] = "";
    unit_tree_parent(L->rn.tree, L->c->unit, parent, sizeof parent);
    const char *was = first ? L->c->parent_unit : L->parent;
    if (parent[0] && strcmp(parent, was)) {
        log_write(LOG_INFO, "repl.parent_changed",
                  "unit=%s old_parent=%s parent=%s msg=\"this unit moved: dialling the new "
                  "parent's advertised addresses, the old upstreams stay as fallbacks\"",
                  L->c->unit, was[0] ? was : "none", parent);
        L->follow = true;
    }
    memcpy(L->parent, parent, sizeof parent);
    if (!L->retired && link_follow_retired(L->store, L->c->unit, L->retired_into)) {
        L->retired = true;
        log_write(LOG_WARN, "repl.unit_retired",
                  "unit=%s merged_into=%s advice=\"this unit was merged away: the node sends "
                  "what it holds upward, then can be stopped; move its staff accounts to unit "
                  "%s\"",
                  L->c->unit, L->retired_into[0] ? L->retired_into : "none",
                  L->retired_into[0] ? L->retired_into : "its successor");
    }
    if (L->follow)
        parent_follow(L);
}

/* Everything that follows a session step: jobs, state changes, relaying,
 * closing, writing. */
static void conn_after(repl_conn *c)
{
    if (c->gone || !c->s)
        return;
    repl_links *L = c->L;
    parent_check(L);
    jobs_dispatch(c);
    if (repl_session_state(c->s) == REPL_OPEN && c->state == LS_HANDSHAKE)
        conn_opened(c);
    if (L->rn.changes != L->changes_seen) {
        L->changes_seen = L->rn.changes;
        relay(L, c);
    }
    conn_kick(c);
}

/* ---- lws events ------------------------------------------------------------------ */

static void on_rx(repl_conn *c, const uint8_t *in, size_t len)
{
    if (c->gone || !c->s || c->state == LS_CLOSING || !c->wsi)
        return;
    struct lws *wsi = c->wsi;
    if (lws_is_first_fragment(wsi)) {
        c->rx_len = 0;
        c->rx_text = !lws_frame_is_binary(wsi);
    }
    if (len > REPL_LINK_MAX_FRAME - c->rx_len) {
        c->rx_len = 0;
        conn_close(c, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, false,
                   "message larger than %zu bytes refused: the peer must split its batches",
                   REPL_LINK_MAX_FRAME);
        return;
    }
    if (c->rx_len + len > c->rx_cap) {
        size_t cap = c->rx_cap ? c->rx_cap : REPL_LINK_RX_BUFFER;
        while (cap < c->rx_len + len)
            cap *= 2;
        if (cap > REPL_LINK_MAX_FRAME)
            cap = REPL_LINK_MAX_FRAME;
        uint8_t *nb = realloc(c->rx, cap);
        if (!nb) {
            conn_close(c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, false,
                       "this node is out of memory");
            return;
        }
        c->rx = nb;
        c->rx_cap = cap;
    }
    if (len)
        memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += len;
    if (!lws_is_final_fragment(wsi))
        return;
    size_t n = c->rx_len;
    c->rx_len = 0;
    if (c->rx_text) { /* the side channel: only from our upstream, after the handshake */
        if (!c->up || !c->s || link_media_control(c->L->media, &c->up->at, (const char *)c->rx, n))
            conn_close(c, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE, false,
                       "text message refused: the replication protocol sends binary messages");
        return;
    }
    c->L->rx_messages++;
    repl_session_recv(c->s, c->rx, n, sess_now());
    if (c->rx_cap > BUFFER_KEEP) { /* a big message: do not keep 1 MiB per link */
        free(c->rx);
        c->rx = NULL;
        c->rx_cap = 0;
    }
    conn_after(c);
}

/* Closes c's connection from the lws timer callback: lws sends a close
 * frame with the reason set here only when a callback other than WRITEABLE
 * asks for the close (lws 4.1 takes -1 from WRITEABLE for a failed write
 * and drops the socket silently). */
static int close_soon(repl_conn *c)
{
    lws_set_timer_usecs(c->wsi, 1);
    return 0;
}

static int close_now(repl_conn *c)
{
    lws_close_reason(c->wsi, (enum lws_close_status)c->close_status,
                     (unsigned char *)c->close_reason, strlen(c->close_reason));
    return -1;
}

/* Writes c's oldest side-channel text message. Returns 0 or -1. */
static int ctl_write(repl_conn *c)
{
    char *m = c->ctl[0];
    size_t n = strlen(m);
    uint8_t buf[LWS_PRE + 512];
    if (n > sizeof buf - LWS_PRE)
        n = 0;
    memcpy(buf + LWS_PRE, m, n);
    free(m);
    memmove(c->ctl, c->ctl + 1, --c->nctl * sizeof *c->ctl);
    lws_callback_on_writable(c->wsi);
    return lws_write(c->wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT) < (int)n ? -1 : 0;
}

static int on_writable(repl_conn *c)
{
    if (c->gone || !c->wsi)
        return -1;
    if (c->state == LS_CLOSING && !c->drain)
        return close_soon(c);
    if (c->nctl && c->state == LS_OPEN)
        return ctl_write(c);
    const uint8_t *m;
    size_t n;
    if (c->s && repl_session_next_out(c->s, &m, &n)) {
        if (LWS_PRE + n > c->tx_cap) {
            uint8_t *nb = realloc(c->tx, LWS_PRE + n);
            if (!nb) {
                snprintf(c->error, sizeof c->error, "this node is out of memory");
                return -1;
            }
            c->tx = nb;
            c->tx_cap = LWS_PRE + n;
        }
        memcpy(c->tx + LWS_PRE, m, n);
        int w = lws_write(c->wsi, c->tx + LWS_PRE, n, LWS_WRITE_BINARY);
        if (w < (int)n) {
            if (!c->error[0])
                snprintf(c->error, sizeof c->error, "writing to the peer failed");
            return -1;
        }
        if (c->tx_cap > BUFFER_KEEP) {
            free(c->tx);
            c->tx = NULL;
            c->tx_cap = 0;
        }
        if (c->state == LS_CLOSING || repl_session_want_write(c->s))
            lws_callback_on_writable(c->wsi);
        return 0;
    }
    if (c->state == LS_CLOSING)
        return close_soon(c);
    return 0;
}

static int on_accepted(repl_links *L, struct lws *wsi)
{
    if (!L || L->stopping || !L->enabled) {
        static const char why[] = "the node is shutting down";
        lws_close_reason(wsi, LWS_CLOSE_STATUS_GOINGAWAY, (unsigned char *)why, sizeof why - 1);
        return -1;
    }
    repl_conn *c = conn_new(L);
    if (!c)
        return -1;
    c->wsi = wsi;
    lws_set_opaque_user_data(wsi, c);
    if (!lws_get_peer_simple(wsi, c->remote, sizeof c->remote))
        snprintf(c->remote, sizeof c->remote, "?");
    else if (!strncmp(c->remote, "::ffff:", 7))
        memmove(c->remote, c->remote + 7, strlen(c->remote + 7) + 1);
    conn_set_state(c, LS_HANDSHAKE);
    membership_refresh(L);
    if (!conn_start_session(c, false)) {
        snprintf(c->error, sizeof c->error, "this node is out of memory");
        conn_gone(c, c->error);
        return -1;
    }
    log_write(LOG_INFO, "repl.link_accepted", "remote=%s", c->remote);
    conn_after(c);
    return 0;
}

static int on_connected(repl_conn *c)
{
    conn_set_state(c, LS_HANDSHAKE);
    membership_refresh(c->L);
    if (!conn_start_session(c, true)) {
        snprintf(c->error, sizeof c->error, "this node is out of memory");
        return -1;
    }
    log_write(LOG_INFO, "repl.link_connected", "url=%s", c->up ? c->up->url : "?");
    conn_after(c);
    return 0;
}

static void note_peer_close(repl_conn *c, const uint8_t *in, size_t len)
{
    unsigned code = len >= 2 ? (unsigned)in[0] << 8 | in[1] : 1005;
    char text[REASON_MAX + 1] = "";
    if (len > 2) {
        size_t n = len - 2 > REASON_MAX ? REASON_MAX : len - 2;
        memcpy(text, in + 2, n);
        text[n] = '\0';
    }
    snprintf(c->peer_close, sizeof c->peer_close, "the peer closed the connection (%u)%s%s", code,
             text[0] ? ": " : "", text);
}

/* The callback of the REPL_SUBPROTOCOL protocol: server and client events. */
static int link_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len)
{
    (void)user;
    const struct lws_protocols *p = wsi ? lws_get_protocol(wsi) : NULL;
    repl_links *L = p ? p->user : NULL;
    repl_conn *c = wsi ? lws_get_opaque_user_data(wsi) : NULL;
    char why[640];
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED: return on_accepted(L, wsi);
    case LWS_CALLBACK_CLIENT_ESTABLISHED: return c ? on_connected(c) : -1;
    case LWS_CALLBACK_RECEIVE:
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (!c)
            return -1;
        on_rx(c, in, len);
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
    case LWS_CALLBACK_CLIENT_WRITEABLE: return c ? on_writable(c) : -1;
    case LWS_CALLBACK_TIMER: return c && c->wsi && c->state == LS_CLOSING ? close_now(c) : 0;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (c)
            note_peer_close(c, in, len);
        return 0;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (c) {
            const char *e = in ? (const char *)in : "unknown error";
            size_t elen = in && len ? len : strlen(e);
            const char *refused =
                c->up && c->up->at.tls ? tls_verify_error(lws_get_ssl(wsi)) : NULL;
            if (refused)
                snprintf(why, sizeof why,
                         "wss://%s: this node refused the peer's TLS certificate (%s): give "
                         "the CA that signed it with serve --tls-ca (tls_ca_file in "
                         "config.json; default: the system store), or make the peer's "
                         "certificate name %s",
                         c->up->at.hostport, refused, c->up->at.host);
            else if (c->up && c->up->at.tls)
                snprintf(why, sizeof why,
                         "cannot connect to wss://%s (%.*s): check that its node runs with "
                         "HTTPS on that port",
                         c->up->at.hostport, (int)elen, e);
            else
                snprintf(why, sizeof why,
                         "cannot connect to %s (%.*s): check that its node runs and the URL "
                         "is right",
                         c->up ? c->up->at.hostport : "the peer", (int)elen, e);
            conn_gone(c, why);
        }
        return 0;
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP: /* closed during the upgrade: lws 4.1 says only this */
        if (c) {
            snprintf(why, sizeof why,
                     "%s closed the connection before the WebSocket upgrade completed: is it "
                     "a lienthong node?",
                     c->up ? c->up->at.hostport : "the peer");
            conn_gone(c, why);
        }
        return 0;
    case LWS_CALLBACK_CLOSED:
    case LWS_CALLBACK_CLIENT_CLOSED:
    case LWS_CALLBACK_WSI_DESTROY:
        if (c)
            conn_gone(c, c->state == LS_CONNECTING
                             ? "the connection failed"
                             : "the connection was lost (the peer hung up or broke the "
                               "WebSocket protocol)");
        return 0;
    default: return 0;
    }
}

/* ---- dialling ---------------------------------------------------------------- */

static void dial(repl_links *L, repl_upstream *u)
{
    repl_conn *c = conn_new(L);
    if (!c)
        return;
    c->up = u;
    u->conn = c;
    conn_set_state(c, LS_CONNECTING);
    struct lws_client_connect_info i;
    memset(&i, 0, sizeof i);
    i.context = http_server_lws_context(L->http);
    i.vhost = http_server_lws_vhost(L->http);
    i.address = u->at.host;
    i.port = u->at.port;
    i.path = u->at.path;
    i.host = u->at.hostport;
    i.protocol = REPL_SUBPROTOCOL;
    i.local_protocol_name = REPL_SUBPROTOCOL;
    i.ietf_version_or_minus_one = -1;
    i.ssl_connection = u->at.tls ? LCCSCF_USE_SSL : 0; /* chain and host name checked */
    i.pwsi = &c->wsi;
    i.opaque_user_data = c;
    log_write(LOG_DEBUG, "repl.dial", "url=%s attempt=%u", u->url, u->failures + 1);
    c->in_dial = true;
    struct lws *w = i.context ? lws_client_connect_via_info(&i) : NULL;
    c->in_dial = false;
    if (!w && !c->gone) {
        c->wsi = NULL;
        snprintf(c->error, sizeof c->error, "cannot open a connection to %s", u->at.hostport);
        conn_gone(c, c->error);
    }
    if (c->gone && !c->jobs)
        conn_free(c);
}

/* Closes the links to the upstreams after index i: i answers again. */
static void close_fallbacks(repl_links *L, size_t i)
{
    for (size_t j = i + 1; j < L->nups; j++) {
        repl_conn *c = L->ups[j].conn;
        if (!c || c->state == LS_CLOSING)
            continue;
        c->planned = true;
        log_write(LOG_INFO, "repl.switch_back", "url=%s fallback=%s", L->ups[i].url, L->ups[j].url);
        conn_close(c, LWS_CLOSE_STATUS_GOINGAWAY, false, "switching back to %s", L->ups[i].url);
    }
}

static void on_retry(uv_timer_t *t);

/* Dials what should be dialled now and arms the retry timer. */
static void plan(repl_links *L)
{
    if (L->stopping || !L->enabled || !L->http || !L->timers)
        return;
    uint64_t now = now_ms(L), next = 0;
    for (size_t i = 0; i < L->nups; i++) {
        repl_upstream *u = &L->ups[i];
        if (u->invalid[0])
            continue;
        if (!u->conn && now >= u->next_try_ms)
            dial(L, u);
        if (u->conn && u->conn->state == LS_OPEN) {
            close_fallbacks(L, i);
            break;
        }
        if (!u->conn && (!next || u->next_try_ms < next))
            next = u->next_try_ms;
        if (!u->failures)
            break; /* not known to be down: wait for this one */
    }
    if (next)
        uv_timer_start(&L->retry, on_retry, next > now ? next - now : 0, 0);
}

static void on_retry(uv_timer_t *t)
{
    plan(t->data);
}

/* Runs plan() from the loop rather than from inside an lws callback. */
static void plan_soon(repl_links *L)
{
    if (!L->stopping && L->timers)
        uv_timer_start(&L->retry, on_retry, 0, 0);
}

/* ---- status ------------------------------------------------------------------- */

/* A JSON string of text that may hold a peer's bytes: invalid UTF-8 (which
 * jansson refuses) becomes '?'. */
static json_t *json_text(const char *text)
{
    json_t *j = json_string(text);
    if (j)
        return j;
    char *copy = strdup(text);
    if (!copy)
        return json_null();
    for (char *p = copy; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    j = json_string(copy);
    free(copy);
    return j ? j : json_null();
}

static json_t *count_or_null(bool known, uint64_t v)
{
    return known ? json_integer((json_int_t)v) : json_null();
}

/* Sets "mode" ("full", "news_only": the two trees disagree on the link's
 * relation and only membership entries travel; null until the link is open
 * and both positions are exchanged), "waiting_for_tree" and
 * "waiting_reason" (why the link waits for a unit tree one side does not
 * know yet) from st, NULL when the link is not open. */
static void link_json_mode(json_t *j, const repl_stats *st)
{
    bool settled = st && st->positioned;
    bool waiting = settled && st->waiting_for_tree;
    json_object_set_new(j, "mode",
                        settled ? json_string(st->news ? "news_only" : "full") : json_null());
    json_object_set_new(j, "waiting_for_tree", json_boolean(waiting));
    json_object_set_new(j, "waiting_reason", waiting ? json_text(st->wait_reason) : json_null());
}

/* One entry of "links": an upstream record (u, with its connection c if
 * any) or an accepted connection (u NULL). */
static json_t *link_json(repl_links *L, repl_upstream *u, repl_conn *c)
{
    repl_stats st;
    memset(&st, 0, sizeof st);
    if (c && c->s)
        repl_session_stats(c->s, &st);
    bool identified = st.peer_unit[0] != '\0';
    const char *unit = identified ? st.peer_unit : u && u->peer_known ? u->peer_unit : NULL;
    const uint8_t *key = identified ? st.peer_key : u && u->peer_known ? u->peer_key : NULL;
    link_kind kind = identified ? st.kind : u && u->peer_known ? u->kind : LINK_NONE;
    char hex[65];
    const char *state = c               ? state_name(c->state)
                        : u->invalid[0] ? "invalid"
                        : u->failures   ? "waiting"
                                        : "idle";
    bool open = c && c->state == LS_OPEN && c->s;
    if (open) {
        /* exact, and a scan of the backlog: at most once a second, and only
         * when the store or the link moved since the last count */
        uint64_t arrival = store_arrival_last(L->store) + L->rx_messages;
        bool moved =
            !c->pending_ok || arrival != c->pending_arrival || st.bytes_sent != c->pending_sent;
        if (!c->pending_ms || (moved && now_ms(L) - c->pending_ms >= PENDING_TTL_MS)) {
            c->pending_ok = repl_session_pending(c->s, &c->pending_entries, &c->pending_bytes) == 0;
            c->pending_ms = now_ms(L);
            c->pending_arrival = arrival;
            c->pending_sent = st.bytes_sent;
        }
    }
    bool pend = open && c->pending_ok;
    uint64_t last_exchange = st.last_exchange_ms ? st.last_exchange_ms
                             : u                 ? u->last_exchange_ms
                                                 : 0;
    const char *err = u ? (u->invalid[0] ? u->invalid : u->last_error) : "";
    json_t *j = json_object();
    json_object_set_new(j, "peer_unit", unit ? json_string(unit) : json_null());
    json_object_set_new(j, "peer_node", key ? json_string(hex_encode(key, 32, hex)) : json_null());
    json_object_set_new(j, "direction", json_string(kind_name(kind, u != NULL)));
    json_object_set_new(j, "url", u ? json_text(u->url) : json_null());
    json_object_set_new(j, "remote", c && !u ? json_string(c->remote) : json_null());
    json_object_set_new(j, "connected", json_boolean(open));
    json_object_set_new(j, "state", json_string(state));
    json_object_set_new(j, "since", iso_json(L, c ? c->state_ms : u->state_ms));
    json_object_set_new(j, "last_exchange", iso_wall((int64_t)last_exchange));
    link_json_mode(j, open ? &st : NULL);
    json_object_set_new(j, "entries_to_send", count_or_null(pend, c ? c->pending_entries : 0));
    json_object_set_new(j, "bytes_to_send", count_or_null(pend, c ? c->pending_bytes : 0));
    json_object_set_new(j, "entries_to_receive", count_or_null(open, st.to_receive));
    json_object_set_new(j, "entries_sent",
                        json_integer((json_int_t)((u ? u->sent : 0) + st.entries_sent)));
    json_object_set_new(j, "entries_received",
                        json_integer((json_int_t)((u ? u->received : 0) + st.entries_received)));
    json_object_set_new(j, "last_error", err[0] ? json_text(err) : json_null());
    json_object_set_new(j, "attempts", json_integer(u ? (json_int_t)u->failures : 0));
    json_object_set_new(j, "next_retry",
                        u && !c && u->failures ? iso_json(L, u->next_try_ms) : json_null());
    return j;
}

/* "retired": null while this unit lives, else {"merged_into", "drained":
 * an upward link is open with nothing left to send}; logs the first drain. */
static json_t *retired_json(repl_links *L, json_t *links)
{
    if (!L->retired)
        return json_null();
    json_t *l;
    size_t i;
    json_array_foreach(links, i, l)
    {
        json_t *left = json_object_get(l, "entries_to_send");
        if (json_is_true(json_object_get(l, "connected")) && json_is_integer(left) &&
            !json_integer_value(left) &&
            !strcmp(json_string_value(json_object_get(l, "direction")), "up") && !L->drained) {
            L->drained = true;
            log_write(LOG_INFO, "repl.retired_drained",
                      "unit=%s merged_into=%s msg=\"everything this node holds was sent up: "
                      "it may be stopped\"",
                      L->c->unit, L->retired_into);
        }
    }
    return json_pack("{s:s, s:b}", "merged_into", L->retired_into, "drained", L->drained);
}

json_t *repl_links_status(repl_links *L)
{
    char key[65];
    json_t *links = json_array();
    for (size_t i = 0; L->enabled && i < L->nups; i++)
        json_array_append_new(links, link_json(L, &L->ups[i], L->ups[i].conn));
    for (repl_conn *c = L->conns; c; c = c->next)
        if (!c->up)
            json_array_append_new(links, link_json(L, NULL, c));
    json_t *j = json_object();
    json_object_set_new(j, "node", json_string(hex_encode(L->c->pk, 32, key)));
    json_object_set_new(j, "unit", json_string(L->c->unit));
    json_object_set_new(j, "replicating", json_boolean(L->enabled));
    json_object_set_new(j, "reason", L->enabled ? json_null() : json_text(L->why));
    json_object_set_new(j, "links", links);
    json_object_set_new(j, "retired", retired_json(L, links));
    json_object_set_new(j, "updated", iso_wall(wall_ms()));
    return j;
}

uint64_t repl_links_own_held(const repl_links *L, bool *upstream, bool *told)
{
    uint64_t held = 0;
    *upstream = *told = false;
    for (const repl_conn *c = L->conns; c; c = c->next) {
        repl_stats st;
        if (c->state != LS_OPEN || !c->s)
            continue;
        repl_session_stats(c->s, &st);
        if (!st.positioned || st.news)
            continue;
        *told = true;
        /* a failover link to a grandparent may lag the parent: not enough */
        *upstream |=
            (st.kind == LINK_UP && !strcmp(st.peer_unit, L->parent)) || st.kind == LINK_MIRROR;
        held = st.peer_own_seq > held ? st.peer_own_seq : held;
    }
    return held;
}

/* Keeps only the keys of o named in keep[0..n). */
static void keep_keys(json_t *o, const char *const *keep, size_t n)
{
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(o, tmp, k, v)
    {
        size_t i = 0;
        while (i < n && strcmp(k, keep[i]))
            i++;
        if (i == n)
            json_object_del(o, k);
    }
}

json_t *repl_links_summary(repl_links *L)
{
    static const char *const top[] = {"node", "unit", "replicating", "links", "updated"};
    static const char *const link[] = {"peer_unit", "direction", "connected",
                                       "state",     "since",     "last_exchange"};
    json_t *j = repl_links_status(L), *links = json_array(), *l;
    size_t i;
    json_array_foreach(json_object_get(j, "links"), i, l)
    {
        if (json_is_null(json_object_get(l, "peer_unit")))
            continue; /* a handshake not yet identified */
        keep_keys(l, link, sizeof link / sizeof *link);
        json_array_append(links, l);
    }
    json_object_set_new(j, "links", links);
    keep_keys(j, top, sizeof top / sizeof *top);
    return j;
}

/* Writes DIR/sync.json (temp file + rename) when the status changed. */
static void sync_file_update(repl_links *L)
{
    json_t *j = repl_links_status(L);
    json_t *updated = json_incref(json_object_get(j, "updated"));
    json_object_del(j, "updated");
    char *text = json_dumps(j, JSON_COMPACT);
    if (!text || (L->sync_written && !strcmp(text, L->sync_written))) {
        free(text);
        json_decref(updated);
        json_decref(j);
        return;
    }
    json_object_set_new(j, "updated", updated);
    char *full = json_dumps(j, JSON_INDENT(2));
    json_decref(j);
    char path[NODE_PATH_MAX + 16], tmp[NODE_PATH_MAX + 24];
    snprintf(path, sizeof path, "%s/sync.json", L->c->dir);
    snprintf(tmp, sizeof tmp, "%s/sync.json.tmp", L->c->dir);
    FILE *f = full ? fopen(tmp, "w") : NULL;
    bool ok = f && fputs(full, f) >= 0 && fputc('\n', f) != EOF;
    if (f && fclose(f))
        ok = false;
    if (ok && rename(tmp, path))
        ok = false;
    free(full);
    if (!ok) {
        if (!L->sync_failed)
            log_write(LOG_WARN, "repl.sync_file_failed", "path=%s error=\"%s\"", path,
                      strerror(errno));
        L->sync_failed = true;
        unlink(tmp);
        free(text);
        return;
    }
    L->sync_failed = false;
    free(L->sync_written);
    L->sync_written = text;
}

/* ---- the tick ------------------------------------------------------------------ */

static void on_tick(uv_timer_t *t)
{
    repl_links *L = t->data;
    uint64_t now = now_ms(L);
    int64_t base = wall_ms() - (int64_t)now;
    if (base - L->wall_base > 1000 || L->wall_base - base > 1000)
        L->wall_base = base; /* the wall clock was set */
    for (repl_conn *c = L->conns; c; c = c->next) {
        if (c->state == LS_CONNECTING && c->up && now - c->state_ms > CONNECT_MS)
            conn_close(c, LWS_CLOSE_STATUS_GOINGAWAY, false,
                       "no answer from %s within %d s: check the network and the URL",
                       c->up->at.hostport, CONNECT_MS / 1000);
        if (!c->s || c->gone)
            continue;
        repl_session_tick(c->s, sess_now());
        if (c->state == LS_HANDSHAKE && now - c->state_ms > HANDSHAKE_MS)
            conn_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, false,
                       "no replication handshake within %d s: the peer is not a lienthong "
                       "node, or is stuck",
                       HANDSHAKE_MS / 1000);
        conn_after(c);
    }
    link_media_tick(L->media, now);
    sync_file_update(L);
    plan(L);
}

/* ---- membership changes from other processes ------------------------------------- */

static int arrival_membership(void *ctx, uint64_t pos, const uint8_t *bytes, size_t len)
{
    (void)pos;
    entry_head h;
    bool m = !entry_head_read(bytes, len, &h) && entry_is_membership(&h.v); /* from the store */
    if (m)
        *(bool *)ctx = true;
    return m; /* one is enough */
}

/* Reloads the unit tree and chain when entries that arrived since the last
 * look (from any process) include membership: a child enrolled while this
 * node runs is known before its first handshake. */
static void membership_refresh(repl_links *L)
{
    uint64_t last = store_arrival_last(L->store);
    if (last == L->arrival_seen)
        return;
    bool membership = false;
    store_arrivals(L->store, L->arrival_seen, arrival_membership, &membership);
    L->arrival_seen = last;
    char err[256], q[300];
    if (membership && repl_node_reload(&L->rn, err, sizeof err))
        log_write(LOG_WARN, "repl.reload_failed", "error=\"%s\"", quoted(q, sizeof q, err));
    parent_check(L);
}

/* ---- the API ----------------------------------------------------------------------- */

repl_links *repl_links_new(uv_loop_t *loop, const node_config *c, store *s)
{
    repl_links *L = calloc(1, sizeof *L);
    if (!L || !(L->media = link_media_new())) {
        free(L);
        return NULL;
    }
    L->loop = loop;
    L->c = c;
    L->store = s;
    L->wall_base = wall_ms() - (int64_t)uv_now(loop);
    L->arrival_seen = store_arrival_last(s);
    char err[256];
    if (!c->enrolled || !c->has_root_key) {
        snprintf(L->why, sizeof L->why,
                 "this node is not enrolled in a network: run lienthong enroll, then restart it");
    } else if (repl_node_init(&L->rn, s, c->unit, c->pk, err, sizeof err)) {
        snprintf(L->why, sizeof L->why, "cannot prepare replication: %s", err);
    } else {
        L->enabled = true;
    }
    char q[400];
    if (!L->enabled)
        log_write(LOG_WARN, "repl.disabled", "reason=\"%s\" msg=\"serving HTTP only\"",
                  quoted(q, sizeof q, L->why));
    L->protocol.name = REPL_SUBPROTOCOL;
    L->protocol.callback = link_callback;
    L->protocol.per_session_data_size = 0;
    L->protocol.rx_buffer_size = REPL_LINK_RX_BUFFER;
    L->protocol.user = L;
    for (size_t i = 0; i < c->nupstreams && i < NODE_MAX_UPSTREAMS; i++) {
        repl_upstream *u = &L->ups[L->nups++];
        snprintf(u->url, sizeof u->url, "%s", c->upstreams[i]);
        if (url_parse(u->url, false, &u->at, u->invalid, sizeof u->invalid))
            log_write(LOG_WARN, "repl.bad_upstream", "url=%s error=\"%s\"", u->url,
                      quoted(q, sizeof q, u->invalid));
    }
    if (L->enabled)
        parent_check(L); /* after the upstreams: a moved unit puts its new parent first */
    return L;
}

int repl_links_endpoint(repl_links *L, http_ws_endpoint *ep)
{
    if (!L->enabled)
        return 0;
    ep->protocol = &L->protocol;
    ep->path_prefix = "/";
    return 1;
}

int repl_links_media_endpoint(repl_links *L, http_ws_endpoint *ep)
{
    if (!L->enabled)
        return 0;
    ep->protocol = link_media_protocol(L->media);
    ep->path_prefix = "/";
    return 1;
}

void repl_links_set_source(repl_links *L, const link_source_ops *ops, void *ctx)
{
    link_media_set_source(L->media, ops, ctx);
}

/* The open link accepted from a child whose unit is one of path. */
static repl_conn *child_link(repl_links *L, const char (*path)[NODE_CODE_MAX], size_t npath)
{
    for (repl_conn *c = L->conns; c; c = c->next) {
        repl_stats st;
        if (c->up || !c->s || c->state != LS_OPEN || c->gone)
            continue;
        repl_session_stats(c->s, &st);
        for (size_t i = 0; i < npath; i++)
            if (st.peer_unit[0] && !strcmp(st.peer_unit, path[i]))
                return c;
    }
    return NULL;
}

link_feed *repl_links_feed_open(repl_links *L, const char (*path)[NODE_CODE_MAX], size_t npath,
                                const char *name, const link_feed_ops *ops, void *ctx, char *why,
                                size_t cap)
{
    repl_conn *c = L->enabled && !L->stopping ? child_link(L, path, npath) : NULL;
    const char *owner = npath ? path[npath - 1] : "?";
    if (!c) {
        snprintf(why, cap,
                 "no link to the node of unit %s (or a unit between) is up on this node now; its "
                 "latest thumbnail is at thumbnail.jpg, retry when the link is back",
                 owner);
        return NULL;
    }
    if (c->nctl == CTL_MAX) {
        snprintf(why, cap, "too many streams are being opened toward unit %s; retry", owner);
        return NULL;
    }
    char label[80], token[LINK_MEDIA_TOKEN_HEX + 1];
    snprintf(label, sizeof label, "unit %s", owner);
    link_feed *f = link_media_feed_new(L->media, label, ops, ctx, now_ms(L), token);
    json_t *j = json_pack("{s:s, s:s, s:s}", "media", "open", "name", name, "token", token);
    char *msg = f && j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!msg) {
        link_feed_close(f);
        snprintf(why, cap, "this node is out of memory");
        return NULL;
    }
    c->ctl[c->nctl++] = msg;
    lws_callback_on_writable(c->wsi);
    return f;
}

void repl_links_start(repl_links *L, http_server *http)
{
    L->http = http;
    link_media_set_http(L->media, http);
    uv_timer_init(L->loop, &L->tick);
    uv_timer_init(L->loop, &L->retry);
    L->tick.data = L->retry.data = L;
    L->timers = true;
    uv_timer_start(&L->tick, on_tick, TICK_MS, TICK_MS);
    if (L->enabled)
        log_write(LOG_INFO, "repl.started", "unit=%s upstreams=%zu", L->c->unit, L->nups);
    sync_file_update(L);
    plan(L);
}

void repl_links_notify(repl_links *L)
{
    if (!L->enabled)
        return;
    membership_refresh(L);
    for (repl_conn *c = L->conns; c; c = c->next) {
        if (!c->s || c->state != LS_OPEN)
            continue;
        repl_session_notify(c->s);
        conn_kick(c);
    }
}

size_t repl_links_close(repl_links *L)
{
    L->stopping = true;
    link_media_close_all(L->media);
    if (L->timers) {
        uv_timer_stop(&L->tick);
        uv_timer_stop(&L->retry);
    }
    for (repl_conn *c = L->conns; c; c = c->next)
        conn_close(c, LWS_CLOSE_STATUS_GOINGAWAY, false, "the node is shutting down");
    return repl_links_open_count(L);
}

size_t repl_links_open_count(const repl_links *L)
{
    size_t n = 0;
    for (const repl_conn *c = L->conns; c; c = c->next)
        n++;
    return n;
}

void repl_links_stop(repl_links *L)
{
    if (!L)
        return;
    L->stopping = true;
    if (L->timers) {
        uv_close((uv_handle_t *)&L->tick, NULL);
        uv_close((uv_handle_t *)&L->retry, NULL);
        L->timers = false;
    }
}

void repl_links_free(repl_links *L)
{
    if (!L)
        return;
    while (L->conns) { /* lws normally closed them all */
        repl_conn *c = L->conns;
        L->conns = c->next;
        if (!c->jobs)
            conn_free(c);
    }
    if (L->enabled)
        repl_node_release(&L->rn);
    link_media_free(L->media);
    free(L->sync_written);
    free(L);
}
