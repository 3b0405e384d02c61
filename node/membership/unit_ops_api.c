/*
 * unit_ops_api.c - see unit_ops_api.h. Planning reads every unit and
 * committing writes many entries: both run on the thread pool.
 */
#include "node/membership/unit_ops_api.h"
#include "node/http/offload.h"
#include "node/membership/unit_ops.h"
#include "node/people/auth.h"
#include "storage/record.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    node_env *d;
    char by[64];
} op_job;

static void op_work(void *job, const uint8_t *body, size_t body_len, http_response *res)
{
    op_job *k = job;
    lt_error e;
    lt_error_clear(&e);
    json_t *req = json_loadb((const char *)body, body_len, 0, NULL);
    unit_op op;
    unit_plan p = {0};
    bool yes = json_is_true(json_object_get(req, "yes"));
    if (!json_is_object(req))
        lt_error_set(&e, LT_EINVAL, "unit.op_invalid",
                     "the body must be a JSON object {\"op\", \"unit\" or \"units\", ...}: see "
                     "docs/openapi.yaml");
    else if (!unit_op_from_json(req, &op, &e) &&
             !unit_ops_plan(k->d->store, k->d->config, &op, k->by, &p, &e) &&
             (!yes || !unit_ops_commit(k->d->store, k->d->config, &p, &e)))
        http_respond_json(
            res, 200,
            json_pack("{s:b, s:O, s:O}", "applied", yes, "op", p.op, "changes", p.changes));
    if (e.kind != LT_OK)
        http_respond_lt(res, &e);
    unit_plan_free(&p);
    json_decref(req);
}

static void op_done(void *job, http_response *res, http_pending *p, bool ran)
{
    (void)res, (void)p, (void)ran;
    free(job);
}

static void op_post(node_env *d, const http_request *req, http_response *res)
{
    auth_caller c;
    if (auth_require_node_admin(d->auth, req, res, &c))
        return;
    op_job *k = calloc(1, sizeof *k);
    if (!k) {
        http_respond_error(res, 503, "the node is out of memory; retry later");
        return;
    }
    k->d = d;
    snprintf(k->by, sizeof k->by, "%s@%s", c.user, c.unit);
    offload_request(req, res, &(offload_task){d->loop, k, op_work, op_done});
}

static int op_one(void *ctx, const char *id, size_t idlen, const uint8_t *rec, size_t len)
{
    char err[128];
    json_t *r =
        record_is_deleted(rec, len) ? NULL : record_to_json(rec, len, id, idlen, err, sizeof err);
    if (r)
        json_array_append_new(ctx, r);
    return 0;
}

static int by_time(const void *a, const void *b)
{
    const char *x = json_string_value(json_object_get(*(json_t *const *)a, "at"));
    const char *y = json_string_value(json_object_get(*(json_t *const *)b, "at"));
    return strcmp(x ? x : "", y ? y : "");
}

/* The unit_ops records, oldest first. */
static void ops_get(node_env *d, const http_request *req, http_response *res)
{
    if (auth_require(d->auth, req, res, ROLE_VIEWER, NULL))
        return;
    json_t *all = json_array();
    if (store_records(d->store, UNIT_OPS_COLLECTION, op_one, all) < 0) {
        json_decref(all);
        http_respond_error(res, 500, "the node could not read its store; check its log");
        return;
    }
    size_t n = json_array_size(all);
    json_t **v = calloc(n ? n : 1, sizeof *v), *sorted = json_array();
    for (size_t i = 0; v && i < n; i++)
        v[i] = json_array_get(all, i);
    if (v)
        qsort(v, n, sizeof *v, by_time);
    for (size_t i = 0; v && i < n; i++)
        json_array_append(sorted, v[i]);
    free(v);
    json_decref(all);
    http_respond_json(res, 200, json_pack("{s:o}", "ops", sorted));
}

void unit_ops_api(void *ctx, const http_request *req, http_response *res)
{
    node_env *d = ctx;
    bool get = !strcmp(req->method, "GET") || !strcmp(req->method, "HEAD");
    if (!strcmp(req->path, "/api/v1/units/ops") && get)
        ops_get(d, req, res);
    else if (!strcmp(req->path, "/api/v1/units") && !strcmp(req->method, "POST"))
        op_post(d, req, res);
    else if (!strcmp(req->path, "/api/v1/units") || !strcmp(req->path, "/api/v1/units/ops"))
        http_respond_code(res, 405, "http.method_not_allowed",
                          "%s is not served at %s: POST /api/v1/units, GET /api/v1/units/ops",
                          req->method, req->path);
    else
        http_respond_code(res, 404, "http.not_found",
                          "no resource at %s: POST /api/v1/units or GET /api/v1/units/ops",
                          req->path);
}
