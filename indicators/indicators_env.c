/*
 * indicators_env.c - the indicators domain as the daemon assembles it: its
 * context and its HTTP handlers (routes in indicators_env.h). Handlers
 * authenticate, parse and map to indicators.h; a CSV import runs on the
 * uv thread pool (node/http/offload.h). Error bodies carry the domain's
 * machine codes (ind_internal.h, docs/openapi.yaml).
 */
#include "indicators/indicators_env.h"
#include "node/http/offload.h"
#include "node/people/auth.h"

#include <stdlib.h>
#include <string.h>

#define PREFIX "/api/v1/indicators"
#define CSV_MAX_BODY (16u * 1024u * 1024u)
#define SEG_MAX 4

indicators_env *indicators_env_new(node_env *env)
{
    indicators_env *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->node = env;
    if (!(e->ind = indicators_new(env->store, env->config))) {
        free(e);
        return NULL;
    }
    return e;
}

void indicators_env_free(indicators_env *e)
{
    if (!e)
        return;
    indicators_free(e->ind);
    free(e);
}

static ind_actor actor_of(const auth_caller *c)
{
    return (ind_actor){c->user, c->unit, c->role};
}

/* True when the client asked for CSV (a .csv path or Accept: text/csv). */
static bool wants_csv(const http_request *req, const char *path)
{
    size_t n = strlen(path);
    const char *accept = http_request_header(req, "accept");
    return (n > 4 && !strcmp(path + n - 4, ".csv")) || (accept && strstr(accept, "text/csv"));
}

static void respond_csv(http_response *res, char *csv, const char *filename)
{
    if (!csv) {
        http_respond_error(res, 503, "the node is out of memory; retry later");
        return;
    }
    res->status = 200;
    res->content_type = "text/csv; charset=utf-8";
    res->body = csv;
    char disp[160];
    snprintf(disp, sizeof disp, "attachment; filename=\"%s\"", filename);
    http_response_header(res, "Content-Disposition", disp);
}

/* The unit a query is about: ?unit= or the caller's; 403 (answered) when
 * the caller may not see it. NULL after answering. */
static const char *query_unit(indicators_env *d, const http_request *req, const auth_caller *c,
                              http_response *res)
{
    const char *u = http_request_query_param(req, "unit");
    if (!u || !*u)
        u = indicators_serves(d->ind, c->unit) ? c->unit : d->node->config->unit;
    if (!indicators_within(d->ind, u, c->unit)) {
        http_respond_code(res, 403, "indicator.forbidden",
                          "a user of unit %s sees the figures of %s and the units below it, not "
                          "of %.40s",
                          c->unit, c->unit, u);
        return NULL;
    }
    return u;
}

static void list_get(void *ctx, const http_request *req, http_response *res)
{
    indicators_env *d = ctx;
    auth_caller c;
    if (auth_require(d->node->auth, req, res, ROLE_VIEWER, &c))
        return;
    const char *unit = query_unit(d, req, &c, res);
    if (unit)
        http_respond_json(res, 200,
                          json_pack("{s:o}", "indicators", indicators_list(d->ind, unit)));
}

static void definition(indicators_env *d, const http_request *req, const auth_caller *c,
                       const char *code, http_response *res)
{
    lt_error e = {0};
    if (!strcmp(req->method, "PUT")) {
        json_error_t je;
        json_t *in = json_loadb((const char *)req->body, req->body_len, 0, &je);
        if (!json_is_object(in)) {
            json_decref(in);
            http_respond_error(res, 400, "the body must be a JSON object (%s)", je.text);
            return;
        }
        ind_actor who = actor_of(c);
        int rc = indicators_define(d->ind, code, in, &who, &e);
        json_decref(in);
        if (rc) {
            http_respond_lt(res, &e);
            return;
        }
    }
    const char *unit = strcmp(req->method, "PUT") ? query_unit(d, req, c, res) : NULL;
    if (strcmp(req->method, "PUT") && !unit)
        return;
    json_t *j = indicators_get(d->ind, code, unit, &e);
    if (j)
        http_respond_json(res, 200, j);
    else
        http_respond_lt(res, &e);
}

/* PUT {code}/pinned {"pinned": bool}: a top-tier admin's choice for the
 * dashboards of its unit's subtree. */
static void pinned_put(indicators_env *d, const http_request *req, const auth_caller *c,
                       const char *code, http_response *res)
{
    json_t *in = json_loadb((const char *)req->body, req->body_len, 0, NULL);
    json_t *p = json_object_get(in, "pinned");
    if (!json_is_boolean(p)) {
        json_decref(in);
        http_respond_code(res, 400, "indicator.definition",
                          "the body must be {\"pinned\": true} or {\"pinned\": false}");
        return;
    }
    ind_actor who = actor_of(c);
    lt_error e = {0};
    int rc = indicators_pin(d->ind, code, json_is_true(p), &who, &e);
    json_decref(in);
    json_t *j = rc ? NULL : indicators_get(d->ind, code, NULL, &e);
    if (j)
        http_respond_json(res, 200, j);
    else
        http_respond_lt(res, &e);
}

static void value_item(indicators_env *d, const http_request *req, const auth_caller *c,
                       char *const *seg, http_response *res)
{
    lt_error e = {0};
    if (!strcmp(req->method, "PUT")) {
        json_t *in = json_loadb((const char *)req->body, req->body_len, 0, NULL);
        json_t *v = json_object_get(in, "value"), *cm = json_object_get(in, "comment");
        if (!json_is_number(v) || (cm && !json_is_string(cm) && !json_is_null(cm))) {
            json_decref(in);
            http_respond_code(res, 400, "indicator.value",
                              "the body must be {\"value\": a number, \"comment\": text (may be "
                              "left out)}");
            return;
        }
        ind_actor who = actor_of(c);
        int rc = indicators_value_put(d->ind, seg[0], seg[2], seg[3], json_number_value(v),
                                      json_string_value(cm), &who, &e);
        json_decref(in);
        if (rc) {
            http_respond_lt(res, &e);
            return;
        }
    } else if (!indicators_within(d->ind, seg[2], c->unit)) {
        http_respond_code(res, 403, "indicator.forbidden",
                          "a user of unit %s sees only the values of its subtree", c->unit);
        return;
    }
    json_t *j = indicators_value_get(d->ind, seg[0], seg[2], seg[3], &e);
    if (j)
        http_respond_json(res, 200, j);
    else
        http_respond_lt(res, &e);
}

static bool by_parse(const char *s, ind_by *by)
{
    if (!s || !*s || !strcmp(s, "period"))
        *by = IND_BY_PERIOD;
    else if (!strcmp(s, "child"))
        *by = IND_BY_CHILD;
    else if (!strcmp(s, "unit"))
        *by = IND_BY_UNIT;
    else
        return false;
    return true;
}

static void values_get(indicators_env *d, const http_request *req, const auth_caller *c,
                       const char *code, http_response *res)
{
    ind_by by;
    if (!by_parse(http_request_query_param(req, "by"), &by)) {
        http_respond_error(res, 400, "by must be period, child or unit");
        return;
    }
    const char *unit = query_unit(d, req, c, res);
    if (!unit)
        return;
    lt_error e = {0};
    json_t *j = indicators_rollup(d->ind, code, unit, http_request_query_param(req, "from"),
                                  http_request_query_param(req, "to"), by, &e);
    if (!j) {
        http_respond_lt(res, &e);
        return;
    }
    if (wants_csv(req, req->path)) {
        static const char *const cols[] = {"unit",     "name",     "period", "value",
                                           "reported", "expected", "on_time"};
        char name[96];
        snprintf(name, sizeof name, "%s-%s.csv", code, unit);
        respond_csv(res, indicators_csv_table(json_object_get(j, "rows"), cols, 7), name);
        json_decref(j);
    } else {
        http_respond_json(res, 200, j);
    }
}

static void template_get(indicators_env *d, const http_request *req, const auth_caller *c,
                         const char *code, http_response *res)
{
    const char *unit = query_unit(d, req, c, res);
    if (!unit)
        return;
    const char *period = http_request_query_param(req, "period");
    lt_error e = {0};
    char *csv = indicators_csv_template(d->ind, code, unit, period ? period : "", &e);
    if (!csv) {
        http_respond_lt(res, &e);
        return;
    }
    char name[96];
    snprintf(name, sizeof name, "%s-%s-%s.csv", code, unit, period ? period : "");
    respond_csv(res, csv, name);
}

/* A CSV import on the thread pool. */
typedef struct {
    indicators_env *d;
    auth_caller c;
} import_job;

static void import_work(void *job, const uint8_t *body, size_t len, http_response *res)
{
    import_job *j = job;
    ind_actor who = actor_of(&j->c);
    lt_error e = {0};
    size_t written, unchanged;
    if (indicators_csv_import(j->d->ind, (const char *)body, len, &who, &written, &unchanged, &e))
        http_respond_lt(res, &e);
    else
        http_respond_json(res, 200,
                          json_pack("{s:I, s:I}", "written", (json_int_t)written, "unchanged",
                                    (json_int_t)unchanged));
}

static void import_done(void *job, http_response *res, http_pending *p, bool ran)
{
    (void)res, (void)p, (void)ran;
    free(job);
}

static void import_post(indicators_env *d, const http_request *req, const auth_caller *c,
                        http_response *res)
{
    import_job *j = malloc(sizeof *j);
    if (!j) {
        http_respond_error(res, 503, "the node is out of memory; retry later");
        return;
    }
    *j = (import_job){d, *c};
    offload_request(req, res, &(offload_task){d->node->loop, j, import_work, import_done});
}

/* Splits the path after PREFIX "/" into at most SEG_MAX segments. */
static size_t path_split(char *rest, char **seg)
{
    size_t n = 0;
    for (char *tok = strtok(rest, "/"); tok; tok = strtok(NULL, "/"))
        if (n < SEG_MAX + 1)
            seg[n++] = tok;
    return n;
}

static void item(void *ctx, const http_request *req, http_response *res)
{
    indicators_env *d = ctx;
    auth_caller c;
    bool get = !strcmp(req->method, "GET") || !strcmp(req->method, "HEAD");
    bool put = !strcmp(req->method, "PUT"), post = !strcmp(req->method, "POST");
    if (auth_require(d->node->auth, req, res, get ? ROLE_VIEWER : ROLE_STAFF, &c))
        return;
    char rest[512], *seg[SEG_MAX + 1];
    snprintf(rest, sizeof rest, "%s", req->path + strlen(PREFIX "/"));
    size_t n = path_split(rest, seg);
    if (post && n == 1 && !strcmp(seg[0], "values.csv"))
        import_post(d, req, &c, res);
    else if ((get || put) && n == 1)
        definition(d, req, &c, seg[0], res);
    else if (get && n == 2 && (!strcmp(seg[1], "values") || !strcmp(seg[1], "values.csv")))
        values_get(d, req, &c, seg[0], res);
    else if (put && n == 2 && !strcmp(seg[1], "pinned"))
        pinned_put(d, req, &c, seg[0], res);
    else if (get && n == 2 && !strcmp(seg[1], "template.csv"))
        template_get(d, req, &c, seg[0], res);
    else if ((get || put) && n == 4 && !strcmp(seg[1], "values"))
        value_item(d, req, &c, seg, res);
    else
        http_respond_error(res, n ? 405 : 404,
                           "no %s at %s: see docs/indicators.md for the indicator routes",
                           req->method, req->path);
}

static void completeness_get(void *ctx, const http_request *req, http_response *res)
{
    indicators_env *d = ctx;
    auth_caller c;
    if (auth_require(d->node->auth, req, res, ROLE_VIEWER, &c))
        return;
    const char *code = http_request_query_param(req, "indicator");
    if (!code || !*code) {
        http_respond_code(res, 400, "indicator.bad_code",
                          "name the indicator: ?indicator=CODE&period=P&unit=U");
        return;
    }
    const char *unit = query_unit(d, req, &c, res);
    if (!unit)
        return;
    lt_error e = {0};
    json_t *j =
        indicators_completeness(d->ind, code, unit, http_request_query_param(req, "period"), &e);
    if (!j) {
        http_respond_lt(res, &e);
        return;
    }
    if (wants_csv(req, req->path)) {
        const char *table = http_request_query_param(req, "table");
        bool missing = table && !strcmp(table, "missing");
        static const char *const cols[] = {"unit", "name", "expected", "received", "on_time"};
        char name[96];
        snprintf(name, sizeof name, "completeness-%s-%s.csv", code, unit);
        respond_csv(res,
                    indicators_csv_table(json_object_get(j, missing ? "missing" : "children"), cols,
                                         missing ? 2 : 5),
                    name);
        json_decref(j);
    } else {
        http_respond_json(res, 200, j);
    }
}

size_t indicators_env_routes(indicators_env *e, http_route *routes, size_t cap)
{
    const http_route all[] = {
        {"GET", PREFIX, list_get, e, 0},
        {NULL, PREFIX "/", item, e, CSV_MAX_BODY},
        {"GET", "/api/v1/completeness", completeness_get, e, 0},
        {"GET", "/api/v1/completeness.csv", completeness_get, e, 0},
    };
    return http_routes_copy(routes, cap, all, sizeof all / sizeof *all);
}
