/*
 * enrol_api.c - enrolment requests over HTTP. See enrol_api.h; the
 * decisions are node/membership/enrol.c's, the admin check is auth_require_node_admin.
 *
 * Unauthenticated POSTs are limited: ENROL_BODY_MAX bytes each,
 * ENROL_POSTS_PER_MINUTE per remote address (a small table of recent
 * senders; the oldest slot is reused), and ENROL_PENDING_MAX waiting.
 */
#include "node/membership/enrol_api.h"
#include "lib/log.h"
#include "node/http/offload.h"
#include "node/membership/enrol.h"
#include "node/people/auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX "/api/v1/enrol/requests"
#define RATE_SLOTS 64
#define RATE_WINDOW_MS 60000

typedef struct {
    char addr[64];
    uint64_t window_start;
    unsigned count;
} rate_slot;

static rate_slot rate[RATE_SLOTS]; /* the loop thread's only */

/* True when addr may post now (and counts the post). */
static bool rate_allow(const char *addr, uint64_t now)
{
    rate_slot *s = NULL, *oldest = &rate[0];
    for (size_t i = 0; i < RATE_SLOTS && !s; i++) {
        if (!strcmp(rate[i].addr, addr))
            s = &rate[i];
        else if (rate[i].window_start < oldest->window_start)
            oldest = &rate[i];
    }
    if (!s) {
        s = oldest;
        snprintf(s->addr, sizeof s->addr, "%s", addr);
        s->window_start = now;
        s->count = 0;
    }
    if (now - s->window_start >= RATE_WINDOW_MS) {
        s->window_start = now;
        s->count = 0;
    }
    return ++s->count <= ENROL_POSTS_PER_MINUTE;
}

/* Splits PREFIX/{id}[/action] into id and action ("" when none); false
 * when the path has another shape. */
static bool parse_path(const char *path, char *id, char *action, size_t cap)
{
    const char *p = path + strlen(PREFIX);
    if (!*p) {
        id[0] = action[0] = '\0';
        return true;
    }
    if (*p++ != '/')
        return false;
    size_t n = strcspn(p, "/");
    if (!n || n >= cap)
        return false;
    memcpy(id, p, n);
    id[n] = '\0';
    p += n;
    snprintf(action, cap, "%s", *p ? p + 1 : "");
    return !strchr(action, '/');
}

static void respond_record(http_response *res, int status, json_t *rec, bool admin)
{
    http_respond_json(res, status, admin ? json_incref(rec) : enrol_public(rec));
}

static void submit(node_env *d, const http_request *req, http_response *res)
{
    char err[512];
    if (req->body_len > ENROL_BODY_MAX) {
        http_respond_error(res, 413, "an enrolment request is at most %d bytes, this one is %zu",
                           ENROL_BODY_MAX, req->body_len);
        return;
    }
    if (!rate_allow(req->remote_addr, uv_now(d->loop))) {
        http_respond_error(res, 429,
                           "more than %d enrolment requests a minute from %s: wait a "
                           "minute and retry",
                           ENROL_POSTS_PER_MINUTE, req->remote_addr);
        return;
    }
    enrol_request r;
    if (enrol_request_open(req->body, req->body_len, &r, err, sizeof err)) {
        http_respond_error(res, 400, "%s", err);
        return;
    }
    json_t *rec = NULL;
    int status = enrol_submit(d->config, d->store, &r, req->remote_addr, &rec, err, sizeof err);
    if (rec) {
        log_write(LOG_INFO, "enrol.request", "id=%s kind=%s unit=%s state=%s remote=%s",
                  json_string_value(json_object_get(rec, "id")),
                  json_string_value(json_object_get(rec, "kind")), r.unit,
                  json_string_value(json_object_get(rec, "state")), req->remote_addr);
        respond_record(res, status, rec, false);
    } else {
        log_write(LOG_INFO, "enrol.refused", "unit=%s remote=%s status=%d", r.unit,
                  req->remote_addr, status);
        http_respond_error(res, status, "%s", err);
    }
    json_decref(rec);
}

/* A decision in flight: made on the thread pool (approving certifies and
 * scans the log for the child's membership entries), answered on the loop. */
typedef struct {
    node_env *d;
    bool approve;
    char id[32];
    char reason[256];
    int rc;
    json_t *rec;
    char err[512];
} decision;

static void decide_work(void *job, const uint8_t *body, size_t body_len, http_response *res)
{
    (void)body, (void)body_len, (void)res;
    decision *k = job;
    k->rc = k->approve
                ? enrol_approve(k->d->config, k->d->store, k->id, &k->rec, k->err, sizeof k->err)
                : enrol_refuse(k->d->store, k->id, k->reason, &k->rec, k->err, sizeof k->err);
}

static void decide_done(void *job, http_response *res, http_pending *p, bool ran)
{
    (void)p;
    decision *k = job;
    if (!ran) { /* res holds the 503 */
        free(k);
        return;
    }
    if (k->rc == 1)
        http_respond_error(res, 404, "%s", k->err);
    else if (k->rc)
        http_respond_error(res, 409, "%s", k->err);
    else
        respond_record(res, 200, k->rec, true);
    json_decref(k->rec);
    free(k);
}

/* An admin decides request id (action "approve" or "refuse"), off the loop. */
static void decide(node_env *d, const http_request *req, http_response *res, const char *id,
                   const char *action)
{
    if (!(auth_require_node_admin(d->auth, req, res, NULL) == 0))
        return;
    decision *k = calloc(1, sizeof *k);
    if (!k) {
        http_respond_error(res, 503, "the node is out of memory; retry later");
        return;
    }
    k->d = d;
    k->approve = !strcmp(action, "approve");
    snprintf(k->id, sizeof k->id, "%s", id);
    json_t *body = json_loadb((const char *)req->body, req->body_len, 0, NULL);
    const char *reason = json_string_value(json_object_get(body, "reason"));
    snprintf(k->reason, sizeof k->reason, "%s", reason ? reason : "");
    json_decref(body);
    offload_request(req, res, &(offload_task){d->loop, k, decide_work, decide_done});
}

void enrol_api_post(void *ctx, const http_request *req, http_response *res)
{
    char id[32], action[32];
    if (!parse_path(req->path, id, action, sizeof id))
        http_respond_code(res, 404, "http.not_found", "no resource at %s: see docs/openapi.yaml",
                          req->path);
    else if (!id[0])
        submit(ctx, req, res);
    else if (!strcmp(action, "approve") || !strcmp(action, "refuse"))
        decide(ctx, req, res, id, action);
    else
        http_respond_code(res, 404, "http.not_found",
                          "no resource at %s: POST .../{id}/approve or "
                          ".../{id}/refuse",
                          req->path);
}

static void list_one(void *ctx, json_t *rec)
{
    json_object_del(rec, "entries");
    json_array_append(ctx, rec);
}

void enrol_api_get(void *ctx, const http_request *req, http_response *res)
{
    node_env *d = ctx;
    char id[32], action[32];
    json_t *rec = NULL;
    if (!parse_path(req->path, id, action, sizeof id) || action[0]) {
        http_respond_code(res, 404, "http.not_found", "no resource at %s: see docs/openapi.yaml",
                          req->path);
    } else if (!id[0]) {
        if (!(auth_require_node_admin(d->auth, req, res, NULL) == 0))
            return;
        json_t *all = json_array();
        if (enrol_list(d->store, list_one, all)) {
            json_decref(all);
            http_respond_error(res, 500,
                               "cannot read the enrolment requests; run lienthong "
                               "verify");
        } else {
            http_respond_json(res, 200, json_pack("{s:o}", "requests", all));
        }
    } else {
        int rc = enrol_find(d->store, id, &rec);
        if (rc == 1)
            http_respond_error(res, 404,
                               "no enrolment request %s here: send it again "
                               "(lienthong enroll)",
                               id);
        else if (rc)
            http_respond_error(res, 500, "cannot read enrolment request %s", id);
        else
            respond_record(res, 200, rec, false);
        json_decref(rec);
    }
}
