/*
 * audit.c - writing and listing the audit log of audit.h.
 */
#include "node/people/audit.h"
#include "lib/hex.h"
#include "lib/log.h"
#include "lib/mpjson.h"
#include "node/people/access.h"
#include "node/people/auth.h"
#include "storage/record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AUDIT_DEFAULT_LIMIT 100
#define AUDIT_MAX_LIMIT 1000

/* The body and id of ev's entry: 0, or -1 with err. */
static int audit_entry(const audit_event *ev, char id[48], uint8_t **body, size_t *len, char *err,
                       size_t errlen)
{
    uint64_t now = account_now_ms();
    json_t *j =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:I}", "user", ev->user, "unit",
                  ev->unit, "role", ev->role, "action", ev->action, "method", ev->method, "path",
                  ev->path, "status", ev->status, "remote", ev->remote, "at", (json_int_t)now);
    if (j && ev->target)
        json_object_set_new(j, "target", json_string(ev->target));
    uint8_t rnd[4];
    char hex[9];
    randombytes_buf(rnd, sizeof rnd);
    snprintf(id, 48, "%013llu-%s", (unsigned long long)now, hex_encode(rnd, 4, hex));
    *body = NULL;
    int rc = j ? mpjson_pack_object(j, body, len, err, errlen) : -1;
    if (!j)
        snprintf(err, errlen, "out of memory");
    json_decref(j);
    return rc;
}

int audit_write(store *s, const node_config *c, const audit_event *ev, char *err, size_t errlen)
{
    uint8_t *body;
    size_t len;
    char id[48];
    int rc = audit_entry(ev, id, &body, &len, err, errlen);
    if (!rc) {
        store_write w = {"audit", id, ENTRY_OP_PUT, body, len, NULL, 0};
        store_author a = node_author(c);
        rc = store_write_local(s, &a, &w, 1, NULL, err, errlen);
    }
    free(body);
    return rc;
}

struct audit_item {
    audit_item *next;
    http_pending *hold; /* the answer, sent once the entry is durable */
    char id[48];
    uint8_t *body;
    size_t len;
    char path[128]; /* for the log when the write fails */
};

void audit_writer_init(audit_writer *w, node_env *env, uv_loop_t *loop)
{
    *w = (audit_writer){.env = env, .loop = loop};
    w->work.data = w;
}

/* On the pool: the batch's entries in one local write. */
static void writer_work(uv_work_t *work)
{
    audit_writer *w = work->data;
    size_t n = 0;
    for (audit_item *it = w->batch; it; it = it->next)
        n++;
    store_write *ws = calloc(n, sizeof *ws);
    if (!ws) {
        w->rc = -1;
        snprintf(w->err, sizeof w->err, "out of memory");
        return;
    }
    n = 0;
    for (audit_item *it = w->batch; it; it = it->next)
        ws[n++] = (store_write){"audit", it->id, ENTRY_OP_PUT, it->body, it->len, NULL, 0};
    store_author a = node_author(w->env->config);
    w->rc = store_write_local(w->env->store, &a, ws, n, NULL, w->err, sizeof w->err);
    free(ws);
}

static void writer_start(audit_writer *w);

/* On the loop: sends the batch's answers and starts the next batch. */
static void writer_done(uv_work_t *work, int status)
{
    audit_writer *w = work->data;
    if (status)
        snprintf(w->err, sizeof w->err, "the thread pool refused the audit write");
    for (audit_item *it = w->batch, *next; it; it = next) {
        next = it->next;
        if (w->rc || status)
            log_write(LOG_ERROR, "audit.write_failed", "path=%s err=\"%s\"", it->path, w->err);
        http_hold_release(it->hold);
        free(it->body);
        free(it);
    }
    w->batch = NULL;
    w->busy = false;
    writer_start(w);
}

/* Hands the queue to the pool as one batch, unless a batch is there. */
static void writer_start(audit_writer *w)
{
    if (w->busy || !w->queue)
        return;
    w->batch = w->queue;
    w->queue = w->tail = NULL;
    w->busy = true;
    w->rc = 0;
    if (uv_queue_work(w->loop, &w->work, writer_work, writer_done)) {
        w->rc = -1;
        writer_done(&w->work, -1);
    }
}

/* Queues ev's entry and holds req's answer until it is durable; false
 * when the answer cannot be held or memory is short (nothing queued). */
static bool writer_queue(audit_writer *w, const http_request *req, const audit_event *ev)
{
    audit_item *it = calloc(1, sizeof *it);
    char err[256];
    if (!it || audit_entry(ev, it->id, &it->body, &it->len, err, sizeof err) ||
        !(it->hold = http_hold_answer(req))) {
        if (it)
            free(it->body);
        free(it);
        return false;
    }
    snprintf(it->path, sizeof it->path, "%s", req->path);
    if (w->tail)
        w->tail->next = it;
    else
        w->queue = it;
    w->tail = it;
    writer_start(w);
    return true;
}

void audit_observe(void *ctx, const http_request *req, const http_response *res)
{
    audit_writer *w = ctx;
    const auth_caller *c = auth_request_caller(req);
    if (!strcmp(req->method, "GET") || !strcmp(req->method, "HEAD") ||
        !strcmp(req->method, "OPTIONS"))
        return;
    if (!c || res->status == 429) {
        log_write(LOG_INFO, "audit.skipped", "method=%s path=%s status=%d remote=%s", req->method,
                  req->path, res->status, req->remote_addr);
        return;
    }
    const char *action = !strncmp(req->path, "/api/v1/", 8) ? req->path + 8 : req->path;
    audit_event ev = {c->user,          c->unit,     account_role_name(c->role),
                      action,           req->method, req->path,
                      req->remote_addr, NULL,        res->status};
    if (writer_queue(w, req, &ev))
        return;
    char err[256];
    if (audit_write(w->env->store, w->env->config, &ev, err, sizeof err))
        log_write(LOG_ERROR, "audit.write_failed", "path=%s err=\"%s\"", req->path, err);
}

typedef struct {
    const unit_tree *tree;
    const char *unit; /* the caller's */
    const char *user; /* filter, or NULL */
    json_t *rows;
    char err[256];
} audit_walk;

static int audit_one(void *ctx, const char *id, size_t idlen, const uint8_t *rec, size_t reclen)
{
    audit_walk *w = ctx;
    bool deleted;
    char owner[NODE_CODE_MAX];
    if (record_summary(rec, reclen, &deleted, owner, sizeof owner) || deleted ||
        !access_visible(w->tree, w->unit, owner, NULL, 0))
        return 0;
    json_t *j = record_to_json(rec, reclen, id, idlen, w->err, sizeof w->err);
    if (!j)
        return 0;
    const char *u = json_string_value(json_object_get(j, "user"));
    if (w->user && (!u || strcmp(u, w->user))) {
        json_decref(j);
        return 0;
    }
    json_object_set_new(j, "node_unit", json_string(owner));
    json_array_append_new(w->rows, j);
    return 0;
}

void audit_api_list(void *ctx, const http_request *req, http_response *res)
{
    node_env *d = ctx;
    auth_caller c;
    if (auth_require(d->auth, req, res, ROLE_ADMIN, &c))
        return;
    const char *ls = http_request_query_param(req, "limit");
    long limit = ls ? strtol(ls, NULL, 10) : AUDIT_DEFAULT_LIMIT;
    if (limit < 1 || limit > AUDIT_MAX_LIMIT) {
        http_respond_error(res, 400, "limit must be 1..%d", AUDIT_MAX_LIMIT);
        return;
    }
    audit_walk w = {auth_tree(d->auth), c.unit, http_request_query_param(req, "user"), json_array(),
                    ""};
    if (!w.rows || store_records(d->store, "audit", audit_one, &w) < 0) {
        json_decref(w.rows);
        http_respond_error(res, 500, "the audit log could not be read; check the node's log");
        return;
    }
    /* ids start with the time: the newest are last */
    json_t *out = json_array();
    for (size_t i = json_array_size(w.rows); out && i > 0 && json_array_size(out) < (size_t)limit;
         i--)
        json_array_append(out, json_array_get(w.rows, i - 1));
    json_decref(w.rows);
    http_respond_json(res, 200, json_pack("{s:o}", "entries", out));
}
