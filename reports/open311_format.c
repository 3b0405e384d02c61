/*
 * open311_format.c - see open311_format.h.
 */
#include "reports/open311_format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Significant digits of reals in both forms: 12 keeps coordinates to a
 * millimetre and prints 18.6734 as 18.6734, not 18.673400000000001. */
#define REAL_FLAGS (JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(12))

const char *open311_item_name(const char *key)
{
    static const char *const pairs[][2] = {
        {"attributes", "attribute"}, {"values", "value"}, {"service_requests", "request"},
        {"services", "service"},     {"errors", "error"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++)
        if (!strcmp(key, pairs[i][0]))
            return pairs[i][1];
    return "item";
}

typedef struct {
    char *buf;
    size_t len, cap;
    bool oom;
} sbuf;

static void put(sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *nb = realloc(b->buf, cap);
        if (!nb) {
            b->oom = true;
            return;
        }
        b->buf = nb;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    b->buf[b->len] = 0;
}

static void puts_(sbuf *b, const char *s)
{
    put(b, s, strlen(s));
}

static void put_escaped(sbuf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '&': puts_(b, "&amp;"); break;
        case '<': puts_(b, "&lt;"); break;
        case '>': puts_(b, "&gt;"); break;
        case '"': puts_(b, "&quot;"); break;
        case '\'': puts_(b, "&apos;"); break;
        default:
            if (c >= 0x20 || c == '\t' || c == '\n' || c == '\r')
                put(b, s + i, 1);
        }
    }
}

static void put_scalar(sbuf *b, const json_t *v)
{
    if (json_is_string(v)) {
        put_escaped(b, json_string_value(v), json_string_length(v));
    } else if (!json_is_null(v)) {
        char *t = json_dumps(v, REAL_FLAGS);
        if (t)
            puts_(b, t);
        else
            b->oom = true;
        free(t);
    }
}

static void put_element(sbuf *b, const char *name, const json_t *v);

/* The members of object o, each as an element. */
static void put_members(sbuf *b, const json_t *o)
{
    const char *k;
    json_t *m;
    json_object_foreach((json_t *)o, k, m) put_element(b, k, m);
}

static void put_element(sbuf *b, const char *name, const json_t *v)
{
    puts_(b, "<");
    puts_(b, name);
    puts_(b, ">");
    if (json_is_object(v)) {
        put_members(b, v);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *it;
        json_array_foreach(v, i, it) put_element(b, open311_item_name(name), it);
    } else {
        put_scalar(b, v);
    }
    puts_(b, "</");
    puts_(b, name);
    puts_(b, ">");
}

char *open311_render(const json_t *doc, open311_format fmt, const char *root, const char *item,
                     size_t *len)
{
    if (fmt == OPEN311_JSON) {
        char *s = json_dumps(doc, REAL_FLAGS);
        if (s)
            *len = strlen(s);
        return s;
    }
    sbuf b = {0};
    puts_(&b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<");
    puts_(&b, root);
    puts_(&b, ">");
    if (json_is_array(doc)) {
        size_t i;
        json_t *it;
        json_array_foreach(doc, i, it) put_element(&b, item, it);
    } else {
        put_members(&b, doc);
    }
    puts_(&b, "</");
    puts_(&b, root);
    puts_(&b, ">\n");
    if (b.oom) {
        free(b.buf);
        return NULL;
    }
    *len = b.len;
    return b.buf;
}

void open311_respond(http_response *res, int status, json_t *doc, open311_format fmt,
                     const char *root, const char *item)
{
    size_t len = 0;
    char *s = doc ? open311_render(doc, fmt, root, item, &len) : NULL;
    json_decref(doc);
    if (!s) {
        http_respond_error(res, 500, "out of memory rendering the answer; try again");
        return;
    }
    free(res->body);
    res->status = status;
    res->body = s;
    res->body_len = len;
    res->content_type =
        fmt == OPEN311_JSON ? "application/json; charset=utf-8" : "text/xml; charset=utf-8";
}

void open311_error(http_response *res, int status, open311_format fmt, const char *msgfmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, msgfmt);
    vsnprintf(msg, sizeof msg, msgfmt, ap);
    va_end(ap);
    size_t n = strlen(msg);
    if (n == sizeof msg - 1) /* cut short: drop a split UTF-8 sequence */
        while (n && ((unsigned char)msg[n - 1] & 0xC0) == 0x80)
            msg[--n] = 0;
    if (n && (unsigned char)msg[n - 1] >= 0xC0)
        msg[--n] = 0;
    json_t *doc = json_pack("[{s:i, s:s}]", "code", status, "description", msg);
    if (!doc) /* the message quoted text that is not UTF-8 */
        doc = json_pack("[{s:i, s:s}]", "code", status, "description",
                        "the request holds text that is not UTF-8; send UTF-8");
    open311_respond(res, status, doc, fmt, "errors", "error");
}
