/*
 * events.c - see events.h.
 *
 * Each connection (lws per-session data) holds its caller and a FIFO of
 * messages; the hub keeps the list of connections, the store arrival
 * position it has pushed up to and a fingerprint of the link states.
 */
#include "node/events.h"
#include "lib/log.h"
#include "node/links/repl_link.h"
#include "node/people/access.h"
#include "node/people/auth.h"
#include "storage/entry.h"

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

typedef struct ev_msg {
    struct ev_msg *next;
    size_t len;
    unsigned char buf[]; /* LWS_PRE bytes, then the text */
} ev_msg;

typedef struct ev_client {
    struct ev_client *next;
    struct lws *wsi;
    auth_caller caller;
    ev_msg *head, *tail;
    size_t queued;
    bool overflow; /* messages were dropped: one "reports" is queued */
} ev_client;

struct events {
    node_env *d;
    struct lws_protocols protocol;
    ev_client *clients;
    uint64_t arrival; /* pushed up to */
    char *links_seen; /* fingerprint of the link states last pushed */
    events_source sources[EVENTS_SOURCES_MAX];
    size_t nsources;
};

static void client_push(ev_client *c, const char *text)
{
    if (c->overflow)
        return;
    if (c->queued >= EVENTS_QUEUE_MAX) {
        c->overflow = true;
        text = "{\"type\":\"reports\",\"count\":0}";
    }
    size_t len = strlen(text);
    ev_msg *m = malloc(sizeof *m + LWS_PRE + len);
    if (!m)
        return;
    m->next = NULL;
    m->len = len;
    memcpy(m->buf + LWS_PRE, text, len);
    if (c->tail)
        c->tail->next = m;
    else
        c->head = m;
    c->tail = m;
    c->queued++;
    lws_callback_on_writable(c->wsi);
}

static void client_push_json(ev_client *c, json_t *j)
{
    char *text = json_dumps(j, JSON_COMPACT);
    if (text)
        client_push(c, text);
    free(text);
    json_decref(j);
}

/* Header t of the upgrade request, whole, malloc'd: NULL and *present
 * false when absent; NULL and *present true when it cannot be copied. */
static char *header_copy(struct lws *wsi, enum lws_token_indexes t, bool *present)
{
    int len = lws_hdr_total_length(wsi, t);
    *present = len > 0;
    if (len <= 0)
        return NULL;
    char *v = malloc((size_t)len + 1);
    if (v && lws_hdr_copy(wsi, v, len + 1, t) < 0) {
        free(v);
        v = NULL;
    }
    return v;
}

/* True when the upgrade's Origin is absent or this node's own host; an
 * Origin or Host that cannot be read whole is refused. */
static bool origin_is_own(struct lws *wsi)
{
    bool present;
    char *origin = header_copy(wsi, WSI_TOKEN_ORIGIN, &present);
    if (!present)
        return true;
    char *host = origin ? header_copy(wsi, WSI_TOKEN_HOST, &present) : NULL;
    const char *rest = !origin                           ? NULL
                       : !strncmp(origin, "http://", 7)  ? origin + 7
                       : !strncmp(origin, "https://", 8) ? origin + 8
                                                         : NULL;
    bool own = rest && host && !strcasecmp(rest, host);
    free(origin);
    free(host);
    return own;
}

static int on_established(events *ev, struct lws *wsi, ev_client *c)
{
    bool present;
    memset(c, 0, sizeof *c);
    c->wsi = wsi;
    char *cookie = header_copy(wsi, WSI_TOKEN_HTTP_COOKIE, &present);
    bool ok = origin_is_own(wsi) && cookie && !auth_session_caller(ev->d->auth, cookie, &c->caller);
    free(cookie);
    if (!ok) {
        log_write(LOG_INFO, "events.refused", "reason=\"no live session or foreign origin\"");
        lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, (unsigned char *)"log in first",
                         12);
        c->wsi = NULL;
        return -1;
    }
    c->next = ev->clients;
    ev->clients = c;
    client_push_json(c,
                     json_pack("{s:s, s:s, s:s, s:s}", "type", "hello", "user", c->caller.user,
                               "unit", c->caller.unit, "role", account_role_name(c->caller.role)));
    return 0;
}

static int on_writable(ev_client *c)
{
    ev_msg *m = c->head;
    if (!m)
        return 0;
    c->head = m->next;
    if (!c->head)
        c->tail = NULL;
    c->queued--;
    int n = lws_write(c->wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT);
    free(m);
    if (n < 0)
        return -1;
    if (!c->head)
        c->overflow = false;
    else
        lws_callback_on_writable(c->wsi);
    return 0;
}

static void on_closed(events *ev, ev_client *c)
{
    for (ev_client **p = &ev->clients; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            break;
        }
    while (c->head) {
        ev_msg *m = c->head;
        c->head = m->next;
        free(m);
    }
    c->tail = NULL;
    c->wsi = NULL;
}

static int events_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                           size_t len)
{
    const struct lws_protocols *p = lws_get_protocol(wsi);
    events *ev = p ? p->user : NULL;
    ev_client *c = user;
    if (!ev)
        return 0;
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED: return on_established(ev, wsi, c);
    case LWS_CALLBACK_SERVER_WRITEABLE: return c->wsi ? on_writable(c) : -1;
    case LWS_CALLBACK_CLOSED:
        if (c && c->wsi)
            on_closed(ev, c);
        return 0;
    default: return 0;
    }
}

events *events_new(node_env *d)
{
    events *ev = calloc(1, sizeof *ev);
    if (!ev)
        return NULL;
    ev->d = d;
    ev->arrival = store_arrival_last(d->store);
    ev->protocol.name = EVENTS_SUBPROTOCOL;
    ev->protocol.callback = events_callback;
    ev->protocol.per_session_data_size = sizeof(ev_client);
    ev->protocol.rx_buffer_size = 1024;
    ev->protocol.user = ev;
    return ev;
}

void events_endpoint(events *ev, http_ws_endpoint *ep)
{
    ep->protocol = &ev->protocol;
    ep->path_prefix = EVENTS_PATH;
}

typedef struct {
    events *ev;
    const unit_tree *tree;
    size_t seen; /* entries of the sources seen this tick */
} arrivals_ctx;

/* True when unit is one of the strings of the array a. */
static bool scope_has(json_t *a, const char *unit)
{
    size_t i;
    json_t *v;
    json_array_foreach(a, i,
                       v) if (json_is_string(v) && !strcmp(json_string_value(v), unit)) return true;
    return false;
}

/* One entry of a source's collection: its event to each client whose unit
 * is in the event's scope or who may see the entry by the access rule. */
static void push_entry(arrivals_ctx *ac, const events_source *src, const entry_view *e)
{
    json_t *scope = NULL, *msg = src->describe(src->ctx, e, &scope);
    if (!msg)
        return;
    for (ev_client *c = ac->ev->clients; c; c = c->next)
        if (scope_has(scope, c->caller.unit) || access_entry_visible(ac->tree, c->caller.unit, e))
            client_push_json(c, json_incref(msg));
    json_decref(msg);
    json_decref(scope);
}

/* The source of e's collection, or NULL. */
static const events_source *source_of(const events *ev, const entry_view *e)
{
    for (size_t i = 0; i < ev->nsources; i++)
        if (e->coll.size == strlen(ev->sources[i].collection) &&
            !memcmp(e->coll.ptr, ev->sources[i].collection, e->coll.size))
            return &ev->sources[i];
    return NULL;
}

static int arrival_one(void *ctx, uint64_t pos, const uint8_t *bytes, size_t len)
{
    arrivals_ctx *ac = ctx;
    entry_view e;
    char err[128];
    ac->ev->arrival = pos;
    if (entry_decode(bytes, len, &e, err, sizeof err))
        return 0;
    const events_source *src = source_of(ac->ev, &e);
    if (src && ++ac->seen <= EVENTS_BATCH_MAX)
        push_entry(ac, src, &e);
    entry_view_free(&e);
    return 0;
}

/* Pushes the link states when they changed (state, peer, error: not the
 * counters, which move all the time). */
static void push_sync(events *ev)
{
    json_t *st = repl_links_status(ev->d->links);
    json_t *fp = json_array(), *l;
    size_t i;
    json_array_foreach(json_object_get(st, "links"), i, l) json_array_append_new(
        fp, json_pack("[O?, O?, O?]", json_object_get(l, "peer_unit"), json_object_get(l, "state"),
                      json_object_get(l, "last_error")));
    char *text = json_dumps(fp, JSON_COMPACT);
    json_decref(fp);
    if (text && (!ev->links_seen || strcmp(text, ev->links_seen))) {
        free(ev->links_seen);
        ev->links_seen = text;
        text = NULL;
        json_object_set_new(st, "type", json_string("sync"));
        for (ev_client *c = ev->clients; c; c = c->next)
            client_push_json(c, json_incref(st));
    }
    free(text);
    json_decref(st);
}

void events_tick(events *ev)
{
    if (!ev->clients) { /* nobody listens: skip ahead */
        ev->arrival = store_arrival_last(ev->d->store);
        free(ev->links_seen);
        ev->links_seen = NULL;
        return;
    }
    push_sync(ev);
    uint64_t last = store_arrival_last(ev->d->store);
    if (last == ev->arrival)
        return;
    if (last - ev->arrival > EVENTS_SCAN_MAX) { /* a bulk import: do not decode it on the loop */
        for (ev_client *c = ev->clients; c; c = c->next)
            client_push_json(c, json_pack("{s:s, s:I}", "type", "reports", "count",
                                          (json_int_t)(last - ev->arrival)));
        ev->arrival = last;
        return;
    }
    arrivals_ctx ac = {ev, auth_tree(ev->d->auth), 0};
    store_arrivals(ev->d->store, ev->arrival, arrival_one, &ac);
    if (ac.seen > EVENTS_BATCH_MAX)
        for (ev_client *c = ev->clients; c; c = c->next)
            client_push_json(
                c, json_pack("{s:s, s:I}", "type", "reports", "count", (json_int_t)ac.seen));
}

int events_add_source(events *ev, const events_source *src)
{
    if (ev->nsources == EVENTS_SOURCES_MAX)
        return -1;
    ev->sources[ev->nsources++] = *src;
    return 0;
}

void events_free(events *ev)
{
    if (!ev)
        return;
    free(ev->links_seen);
    free(ev);
}
