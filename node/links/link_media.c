/*
 * link_media.c - the media side channel (link_media.h).
 *
 * Parent side: a link_feed waits (m->feeds) for the media connection that
 * brings its token; an accepted media connection (mconn) is bound to it by
 * its first message, then hands each binary message to the feed's frame().
 * Child side: a link_sink is one dialled media connection; it writes the
 * token, then the newest picture its source queued (older unsent ones are
 * replaced, so memory per stream is one picture).
 */
#include "node/links/link_media.h"

#include "lib/hex.h"
#include "lib/log.h"

#include <jansson.h>
#include <libwebsockets.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REASON_MAX 123

typedef struct mconn mconn;

struct link_feed {
    link_media *m;
    link_feed *next;
    char token[LINK_MEDIA_TOKEN_HEX + 1];
    char label[80]; /* for messages: "unit 16681" */
    link_feed_ops ops;
    void *ctx;
    uint64_t since_ms;
    mconn *conn; /* bound media connection, NULL while waiting */
};

enum { KIND_CONN = 1, KIND_SINK = 2 }; /* what a wsi's opaque user data is */

/* An accepted media connection (parent side). */
struct mconn {
    int kind; /* KIND_CONN */
    link_media *m;
    struct lws *wsi;
    link_feed *feed;
    uint8_t *rx;
    size_t rx_len;
    bool rx_text, closing;
    char reason[REASON_MAX + 1]; /* ours, for the close frame */
    char peer[REASON_MAX + 1];   /* the peer's close frame */
};

struct link_sink {
    int kind; /* KIND_SINK */
    link_media *m;
    link_sink *next;
    struct lws *wsi;
    char token[LINK_MEDIA_TOKEN_HEX + 1];
    char name[128];
    void *handle; /* the source's, NULL once ended or not opened */
    bool token_sent, closing, in_dial, failed;
    char reason[REASON_MAX + 1];
    uint8_t *frame; /* LWS_PRE + frame_len bytes, the picture to write next */
    size_t frame_len;
};

struct link_media {
    struct lws_protocols protocol;
    http_server *http;
    link_source_ops src;
    void *src_ctx;
    link_feed *feeds; /* every feed, bound or waiting */
    link_sink *sinks;
};

/* ---- small helpers ---------------------------------------------------------- */

static void reason_copy(char *out, const char *in)
{
    size_t n = strlen(in);
    if (n > REASON_MAX) { /* cut on a UTF-8 boundary */
        n = REASON_MAX;
        while (n && ((unsigned char)in[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(out, in, n);
    out[n] = '\0';
}

static void peer_reason(char *out, const uint8_t *in, size_t len)
{
    out[0] = '\0';
    if (len > 2) {
        size_t n = len - 2 > REASON_MAX ? REASON_MAX : len - 2;
        memcpy(out, in + 2, n);
        out[n] = '\0';
    }
}

/* ---- parent side: feeds ------------------------------------------------------ */

static void feed_unlink(link_feed *f)
{
    for (link_feed **pp = &f->m->feeds; *pp; pp = &(*pp)->next)
        if (*pp == f) {
            *pp = f->next;
            return;
        }
}

/* Ends feed f for reason: its owner is told, f is freed. */
static void feed_end(link_feed *f, const char *reason)
{
    feed_unlink(f);
    if (f->conn)
        f->conn->feed = NULL;
    f->ops.ended(f->ctx, reason);
    free(f);
}

link_feed *link_media_feed_new(link_media *m, const char *label, const link_feed_ops *ops,
                               void *ctx, uint64_t now_ms, char *token)
{
    link_feed *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    uint8_t raw[LINK_MEDIA_TOKEN_HEX / 2];
    randombytes_buf(raw, sizeof raw);
    hex_encode(raw, sizeof raw, f->token);
    memcpy(token, f->token, sizeof f->token);
    snprintf(f->label, sizeof f->label, "%s", label);
    f->m = m;
    f->ops = *ops;
    f->ctx = ctx;
    f->since_ms = now_ms;
    f->next = m->feeds;
    m->feeds = f;
    return f;
}

/* Starts closing media connection c with reason (written on WRITEABLE). */
static void mconn_close(mconn *c, const char *reason)
{
    if (c->closing || !c->wsi)
        return;
    c->closing = true;
    reason_copy(c->reason, reason);
    lws_callback_on_writable(c->wsi);
}

void link_feed_close(link_feed *f)
{
    if (!f)
        return;
    feed_unlink(f);
    if (f->conn) {
        f->conn->feed = NULL;
        mconn_close(f->conn, "no viewer left");
    }
    free(f);
}

void link_media_tick(link_media *m, uint64_t now_ms)
{
    for (link_feed *f = m->feeds, *next; f; f = next) {
        next = f->next;
        if (!f->conn && now_ms - f->since_ms > LINK_MEDIA_OPEN_MS) {
            char why[200];
            snprintf(why, sizeof why,
                     "the node of %s did not open the media channel within %d s; check that it "
                     "runs this version and can reach this node",
                     f->label, LINK_MEDIA_OPEN_MS / 1000);
            feed_end(f, why);
        }
    }
}

/* The first message of media connection c: its token binds it to a feed. */
static void mconn_bind(mconn *c, const uint8_t *msg, size_t len)
{
    for (link_feed *f = c->m->feeds; f; f = f->next)
        if (!f->conn && len == LINK_MEDIA_TOKEN_HEX && !memcmp(f->token, msg, len)) {
            f->conn = c;
            c->feed = f;
            lws_set_timeout(c->wsi, NO_PENDING_TIMEOUT, 0);
            return;
        }
    mconn_close(c, "no stream waits for this token (its viewers left, or it timed out)");
}

static void mconn_message(mconn *c, const uint8_t *msg, size_t len, bool text)
{
    if (c->closing)
        return;
    if (!c->feed && text)
        mconn_bind(c, msg, len);
    else if (c->feed && !text)
        c->feed->ops.frame(c->feed->ctx, msg, len);
    else
        mconn_close(c, "unexpected message on the media channel");
}

static void mconn_rx(mconn *c, const uint8_t *in, size_t len)
{
    if (lws_is_first_fragment(c->wsi)) {
        c->rx_len = 0;
        c->rx_text = !lws_frame_is_binary(c->wsi);
    }
    if (len > LINK_MEDIA_MAX_MESSAGE - c->rx_len) {
        mconn_close(c, "picture larger than 4 MiB refused");
        return;
    }
    uint8_t *nb = realloc(c->rx, c->rx_len + len + 1);
    if (!nb) {
        mconn_close(c, "this node is out of memory");
        return;
    }
    c->rx = nb;
    memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += len;
    if (!lws_is_final_fragment(c->wsi))
        return;
    mconn_message(c, c->rx, c->rx_len, c->rx_text);
    free(c->rx);
    c->rx = NULL;
    c->rx_len = 0;
}

static void mconn_gone(mconn *c)
{
    if (c->feed) {
        char why[300];
        snprintf(why, sizeof why, "the node of %s ended the stream: %s", c->feed->label,
                 c->peer[0] ? c->peer : "the media connection was lost");
        feed_end(c->feed, why);
    }
    lws_set_opaque_user_data(c->wsi, NULL);
    free(c->rx);
    free(c);
}

/* ---- child side: sinks -------------------------------------------------------- */

static void sink_unlink(link_sink *s)
{
    for (link_sink **pp = &s->m->sinks; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            return;
        }
}

/* The media connection of s is gone: the source stops, s is freed. */
static void sink_gone(link_sink *s)
{
    sink_unlink(s);
    if (s->wsi)
        lws_set_opaque_user_data(s->wsi, NULL);
    void *h = s->handle;
    s->handle = NULL;
    if (h)
        s->m->src.close(s->m->src_ctx, h);
    free(s->frame);
    free(s);
}

int link_sink_send(link_sink *s, const uint8_t *data, size_t len)
{
    if (s->closing || !s->wsi)
        return -1;
    uint8_t *b = malloc(LWS_PRE + len);
    if (!b)
        return 0; /* this picture is skipped */
    memcpy(b + LWS_PRE, data, len);
    free(s->frame);
    s->frame = b;
    s->frame_len = len;
    lws_callback_on_writable(s->wsi);
    return 0;
}

void link_sink_end(link_sink *s, const char *reason)
{
    s->handle = NULL;
    if (s->closing)
        return;
    s->closing = true;
    reason_copy(s->reason, reason);
    if (s->wsi)
        lws_callback_on_writable(s->wsi);
}

/* The media connection of s is up: the token, and the stream starts. */
static void sink_established(link_sink *s)
{
    char why[200] = "";
    lws_callback_on_writable(s->wsi);
    s->handle = s->m->src.open ? s->m->src.open(s->m->src_ctx, s->name, s, why, sizeof why) : NULL;
    if (!s->handle && !s->closing)
        link_sink_end(s, why[0] ? why : "this node serves no streams");
}

static int sink_writeable(link_sink *s)
{
    if (s->closing && s->token_sent && !s->frame) {
        /* lws 4.1 sends the reason only when a callback other than
         * WRITEABLE closes: the timer's (LWS_CALLBACK_TIMER) does */
        lws_set_timer_usecs(s->wsi, 1);
        return 0;
    }
    if (!s->token_sent) {
        uint8_t buf[LWS_PRE + LINK_MEDIA_TOKEN_HEX];
        memcpy(buf + LWS_PRE, s->token, LINK_MEDIA_TOKEN_HEX);
        if (lws_write(s->wsi, buf + LWS_PRE, LINK_MEDIA_TOKEN_HEX, LWS_WRITE_TEXT) <
            LINK_MEDIA_TOKEN_HEX)
            return -1;
        s->token_sent = true;
    } else if (s->frame) {
        int w = lws_write(s->wsi, s->frame + LWS_PRE, s->frame_len, LWS_WRITE_BINARY);
        free(s->frame);
        s->frame = NULL;
        if (w < 0)
            return -1;
    }
    if (s->frame || s->closing)
        lws_callback_on_writable(s->wsi);
    return 0;
}

/* Dials the media connection of s to the upstream at. */
static void sink_dial(link_sink *s, const url_parts *at)
{
    struct lws_client_connect_info i;
    memset(&i, 0, sizeof i);
    i.context = http_server_lws_context(s->m->http);
    i.vhost = http_server_lws_vhost(s->m->http);
    i.address = at->host;
    i.port = at->port;
    i.path = "/";
    i.host = at->hostport;
    i.protocol = LINK_MEDIA_SUBPROTOCOL;
    i.local_protocol_name = LINK_MEDIA_SUBPROTOCOL;
    i.ietf_version_or_minus_one = -1;
    i.pwsi = &s->wsi;
    i.opaque_user_data = s;
    s->in_dial = true;
    struct lws *w = i.context ? lws_client_connect_via_info(&i) : NULL;
    s->in_dial = false;
    if (w && !s->failed)
        return;
    log_write(LOG_WARN, "link.media_dial_failed", "name=%s upstream=%s", s->name,
              at->hostport); /* the parent times the feed out */
    s->wsi = NULL;
    sink_gone(s);
}

int link_media_control(link_media *m, const url_parts *at, const char *msg, size_t len)
{
    json_error_t je;
    json_t *j = json_loadb(msg, len, 0, &je);
    const char *what = json_string_value(json_object_get(j, "media"));
    const char *name = json_string_value(json_object_get(j, "name"));
    const char *token = json_string_value(json_object_get(j, "token"));
    int rc = -1;
    link_sink *s = NULL;
    if (what && !strcmp(what, "open") && name && strlen(name) < sizeof s->name && token &&
        strlen(token) == LINK_MEDIA_TOKEN_HEX && m->http) {
        rc = 0;
        if ((s = calloc(1, sizeof *s))) {
            s->kind = KIND_SINK;
            s->m = m;
            snprintf(s->name, sizeof s->name, "%s", name);
            memcpy(s->token, token, sizeof s->token);
            s->next = m->sinks;
            m->sinks = s;
            log_write(LOG_INFO, "link.media_open", "name=%s upstream=%s", name, at->hostport);
            sink_dial(s, at);
        }
    }
    json_decref(j);
    return rc;
}

/* ---- the lws protocol --------------------------------------------------------- */

static int media_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                          size_t len)
{
    (void)user;
    const struct lws_protocols *p = wsi ? lws_get_protocol(wsi) : NULL;
    link_media *m = p ? p->user : NULL;
    int *o = wsi ? lws_get_opaque_user_data(wsi) : NULL;
    mconn *c = o && *o == KIND_CONN ? (mconn *)o : NULL;
    link_sink *s = o && *o == KIND_SINK ? (link_sink *)o : NULL;
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
        if (!m || !(c = calloc(1, sizeof *c)))
            return -1;
        c->kind = KIND_CONN;
        c->m = m;
        c->wsi = wsi;
        lws_set_opaque_user_data(wsi, c);
        /* its token must come soon: a connection that sends none is cut */
        lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LINK_MEDIA_OPEN_MS / 1000);
        return 0;
    case LWS_CALLBACK_RECEIVE:
        if (c)
            mconn_rx(c, in, len);
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        if (c && c->closing) {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_GOINGAWAY, (unsigned char *)c->reason,
                             strlen(c->reason));
            return -1;
        }
        return 0;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (c)
            peer_reason(c->peer, in, len);
        return 0;
    case LWS_CALLBACK_CLOSED:
        if (c)
            mconn_gone(c);
        return 0;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        if (s)
            sink_established(s);
        return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE: return s ? sink_writeable(s) : -1;
    case LWS_CALLBACK_TIMER:
        if (!s || !s->closing)
            return 0;
        lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, (unsigned char *)s->reason,
                         strlen(s->reason));
        return -1;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    case LWS_CALLBACK_CLIENT_CLOSED:
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
        if (s && s->in_dial) {
            s->failed = true; /* sink_dial frees it */
        } else if (s) {
            s->wsi = NULL;
            sink_gone(s);
        }
        return 0;
    default: return 0;
    }
}

/* ---- the whole --------------------------------------------------------------- */

link_media *link_media_new(void)
{
    link_media *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->protocol.name = LINK_MEDIA_SUBPROTOCOL;
    m->protocol.callback = media_callback;
    m->protocol.rx_buffer_size = 64 * 1024;
    m->protocol.user = m;
    return m;
}

const struct lws_protocols *link_media_protocol(link_media *m)
{
    return &m->protocol;
}

void link_media_set_http(link_media *m, http_server *http)
{
    m->http = http;
}

void link_media_set_source(link_media *m, const link_source_ops *ops, void *ctx)
{
    m->src = *ops;
    m->src_ctx = ctx;
}

void link_media_close_all(link_media *m)
{
    m->src.open = NULL; /* no new stream from now on */
    while (m->feeds)
        feed_end(m->feeds, "the node is shutting down");
    for (link_sink *s = m->sinks; s; s = s->next) {
        void *h = s->handle;
        s->handle = NULL;
        if (h)
            m->src.close(m->src_ctx, h);
        link_sink_end(s, "the node is shutting down");
    }
}

void link_media_free(link_media *m)
{
    if (!m)
        return;
    while (m->sinks) { /* lws normally closed them all; their wsi are gone */
        m->sinks->wsi = NULL;
        sink_gone(m->sinks);
    }
    free(m);
}
