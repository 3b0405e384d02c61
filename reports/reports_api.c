/*
 * reports_api.c - see reports_api.h. The handlers authenticate, parse and
 * map to reports/reports.h; the domain rules live there.
 *
 * POST /api/v1/reports runs on the uv thread pool (node/http/offload.h): its
 * body may hold 26.9 MiB of base64 photos, whose parsing, decoding,
 * checking and writing would stall the loop for most of a second. The
 * login check stays on the loop, before.
 */
#include "reports/reports_api.h"
#include "node/http/offload.h"
#include "node/people/auth.h"
#include "reports/public_api.h"

#include <stdlib.h>
#include <string.h>

#define ITEM_PREFIX "/api/v1/reports/"
#define CATEGORY_PREFIX "/api/v1/categories/"
#define HOLIDAY_PREFIX "/api/v1/holidays/"

static reports_actor actor_of(const auth_caller *c)
{
    return (reports_actor){c->user, c->unit, c->role, false, NULL};
}

/* A request body as a JSON object; NULL after answering 400. */
static json_t *body_json(const uint8_t *body, size_t len, http_response *res)
{
    json_error_t je;
    json_t *j = json_loadb((const char *)body, len, 0, &je);
    if (!json_is_object(j)) {
        json_decref(j);
        http_respond_code(res, 400, "http.bad_json", "the body must be a JSON object (%s)",
                          j ? "got another JSON value" : je.text);
        return NULL;
    }
    return j;
}

static report_view view_of(const auth_caller *c)
{
    return c->role >= ROLE_STAFF ? REPORT_VIEW_STAFF : REPORT_VIEW_VIEWER;
}

/* Answers with the report as the caller may see it; a new report with its
 * citizen token (token, else NULL) and tracking link, to hand on to the
 * citizen (docs/reports.md). */
static void respond_report(reports_env *d, const auth_caller *c, const char *code,
                           const char *token, int status, http_response *res)
{
    int st;
    json_t *j = reports_get_json(d->reports, code, view_of(c), &st);
    if (!j) {
        http_respond_error(res, st, "report %s cannot be read now; try again", code);
        return;
    }
    if (token)
        public_token_attach(j, code, token);
    if (c)
        json_object_set_new(j, "handled_here",
                            json_boolean(reports_handles(d->reports, j, c->unit)));
    http_respond_json(res, status, j);
}

/* A report being created on the thread pool. */
typedef struct {
    reports_env *d;
    auth_caller c;
} create_job;

static void create_work(void *job, const uint8_t *body, size_t len, http_response *res)
{
    create_job *j = job;
    json_t *in = body_json(body, len, res);
    if (!in)
        return;
    const char *channel = json_string_value(json_object_get(in, "channel"));
    reports_actor who = actor_of(&j->c);
    char code[REPORT_CODE_MAX], token[REPORT_TOKEN_MAX];
    lt_error e;
    if (reports_create(j->d->reports, in, channel ? channel : "hotline", &who, code, token, &e))
        http_respond_lt(res, &e);
    else
        respond_report(j->d, &j->c, code, token, 201, res);
    json_decref(in);
}

static void create_done(void *job, http_response *res, http_pending *p, bool ran)
{
    (void)res, (void)p, (void)ran;
    free(job);
}

void reports_api_create(void *ctx, const http_request *req, http_response *res)
{
    reports_env *d = ctx;
    auth_caller c;
    if (!http_path_exact(req, res, "/api/v1/reports", "POST /api/v1/reports creates a report"))
        return;
    if (auth_require(d->node->auth, req, res, ROLE_STAFF, &c))
        return;
    create_job *j = malloc(sizeof *j);
    if (!j) {
        http_respond_error(res, 503, "the node is out of memory; retry later");
        return;
    }
    *j = (create_job){d, c};
    offload_request(req, res, &(offload_task){d->node->loop, j, create_work, create_done});
}

void reports_api_photo(reports_env *d, const char *code, const char *hash, const char *cache,
                       http_response *res)
{
    uint8_t *data;
    size_t len;
    const char *type;
    int rc = reports_photo_get(d->reports, code, hash, &data, &len, &type);
    if (rc) {
        http_respond_error(res, rc > 0 ? 404 : 500,
                           rc > 0 ? "report %s has no photo %s (or its chunks have not arrived "
                                    "yet): check the hash in the report's photos"
                                  : "cannot read photo %s of %s; check the node's log",
                           code, hash);
        return;
    }
    res->status = 200;
    res->content_type = type;
    res->body = (char *)data;
    res->body_len = len;
    http_response_header(res, "Cache-Control", cache);
    http_response_header(res, "X-Content-Type-Options", "nosniff"); /* never run as a page */
}

/* An action being taken on the thread pool: a resolve may carry photos
 * (base64 decoding and image checks, chunk entries). */
typedef struct {
    reports_env *d;
    auth_caller c;
    char code[REPORT_CODE_MAX];
} act_job;

static void act_work(void *job, const uint8_t *body, size_t len, http_response *res)
{
    act_job *j = job;
    json_t *in = body_json(body, len, res);
    reports_actor who = actor_of(&j->c);
    lt_error e;
    if (in && reports_act(j->d->reports, j->code, in, &who, &e))
        http_respond_lt(res, &e);
    else if (in)
        respond_report(j->d, &j->c, j->code, NULL, 200, res);
    json_decref(in);
}

static void act_offload(reports_env *d, const auth_caller *c, const char *code,
                        const http_request *req, http_response *res)
{
    act_job *j = malloc(sizeof *j);
    if (!j) {
        http_respond_error(res, 503, "the node is out of memory; retry later");
        return;
    }
    *j = (act_job){d, *c, ""};
    snprintf(j->code, sizeof j->code, "%s", code);
    offload_request(req, res, &(offload_task){d->node->loop, j, act_work, create_done});
}

void reports_api_item(void *ctx, const http_request *req, http_response *res)
{
    reports_env *d = ctx;
    auth_caller c;
    char code[REPORT_CODE_MAX], rest[160] = "";
    const char *p = req->path + strlen(ITEM_PREFIX), *slash = strchr(p, '/');
    size_t idlen = slash ? (size_t)(slash - p) : strlen(p);
    if (slash)
        snprintf(rest, sizeof rest, "%s", slash);
    char id[REPORT_CODE_MAX] = "";
    if (idlen < sizeof id)
        snprintf(id, sizeof id, "%.*s", (int)idlen, p);
    bool get = !strcmp(req->method, "GET") || !strcmp(req->method, "HEAD");
    account_role min = get ? ROLE_VIEWER : ROLE_STAFF;
    if (!strcmp(rest, "/actions"))
        min = ROLE_VIEWER; /* the action's own role applies */
    if (auth_require(d->node->auth, req, res, min, &c))
        return;
    if (!reports_code_norm(id, code) || !reports_visible(d->reports, code, c.unit)) {
        http_respond_code(res, 404, "report.not_found",
                          "no report %s that you may see: check the tracking code", id);
        return;
    }
    reports_actor who = actor_of(&c);
    lt_error e;
    if (!*rest && get) {
        respond_report(d, &c, code, NULL, 200, res);
    } else if (!*rest && !strcmp(req->method, "PATCH")) {
        json_t *in = body_json(req->body, req->body_len, res);
        if (in && reports_patch(d->reports, code, in, &who, &e))
            http_respond_lt(res, &e);
        else if (in)
            respond_report(d, &c, code, NULL, 200, res);
        json_decref(in);
    } else if (!strcmp(rest, "/actions") && !strcmp(req->method, "POST")) {
        act_offload(d, &c, code, req, res);
    } else if (!strncmp(rest, "/photos/", 8) && get) {
        reports_api_photo(d, code, rest + 8, "private, max-age=86400", res);
    } else if (!*rest || !strcmp(rest, "/actions") || !strncmp(rest, "/photos/", 8)) {
        const char *allow = !*rest ? "GET, PATCH" : *rest == '/' && rest[1] == 'a' ? "POST" : "GET";
        http_response_header(res, "Allow", allow);
        http_respond_error(res, 405, "%s is not allowed on %s: use %s", req->method, req->path,
                           allow);
    } else {
        http_respond_code(res, 404, "http.not_found", "no resource at %s: see docs/openapi.yaml",
                          req->path);
    }
}

void reports_api_categories(void *ctx, const http_request *req, http_response *res)
{
    reports_env *d = ctx;
    if (!http_path_exact(req, res, "/api/v1/categories", "GET /api/v1/categories lists them"))
        return;
    auth_caller c;
    if (auth_require(d->node->auth, req, res, ROLE_VIEWER, &c))
        return;
    const char *all = http_request_query_param(req, "all");
    reports_actor who = actor_of(&c);
    http_respond_json(res, 200,
                      json_pack("{s:o, s:b}", "categories",
                                reports_categories_json(d->reports, all && !strcmp(all, "1")),
                                "editable", reports_may_define(d->reports, &who)));
}

void reports_api_category_put(void *ctx, const http_request *req, http_response *res)
{
    reports_env *d = ctx;
    auth_caller c;
    if (auth_require(d->node->auth, req, res, ROLE_ADMIN, &c))
        return;
    const char *code = req->path + strlen(CATEGORY_PREFIX);
    json_t *in = body_json(req->body, req->body_len, res);
    if (!in)
        return;
    reports_actor who = actor_of(&c);
    lt_error e;
    if (reports_category_put(d->reports, code, in, &who, &e)) {
        http_respond_lt(res, &e);
    } else {
        json_t *all = reports_categories_json(d->reports, true), *one = NULL, *v;
        size_t i;
        json_array_foreach(all, i, v) if (!strcmp(json_string_value(json_object_get(v, "code")),
                                                  code)) one = json_incref(v);
        json_decref(all);
        http_respond_json(res, 200, one ? one : json_object());
    }
    json_decref(in);
}

/* The year of query parameter (or a date's first 4 digits) into *year:
 * 0 when absent. False after answering 400. */
static bool year_of(const char *v, int *year, http_response *res)
{
    char *end;
    long y = v ? strtol(v, &end, 10) : 0;
    if (v && (end != v + 4 || y < 1970)) {
        http_respond_error(res, 400, "year \"%s\" must be four digits, e.g. year=2026", v);
        return false;
    }
    *year = (int)y;
    return true;
}

void reports_api_holidays(void *ctx, const http_request *req, http_response *res)
{
    reports_env *d = ctx;
    int year;
    if (!http_path_exact(req, res, "/api/v1/holidays", "GET /api/v1/holidays?year=YYYY lists them"))
        return;
    if (auth_require(d->node->auth, req, res, ROLE_VIEWER, NULL) ||
        !year_of(http_request_query_param(req, "year"), &year, res))
        return;
    http_respond_json(res, 200,
                      json_pack("{s:o}", "holidays", reports_holidays_json(d->reports, year)));
}

void reports_api_holiday_write(void *ctx, const http_request *req, http_response *res)
{
    reports_env *d = ctx;
    auth_caller c;
    if (auth_require(d->node->auth, req, res, ROLE_ADMIN, &c))
        return;
    const char *date = req->path + strlen(HOLIDAY_PREFIX);
    bool put = !strcmp(req->method, "PUT");
    json_t *in = put ? body_json(req->body, req->body_len, res) : NULL;
    if (put && !in)
        return;
    reports_actor who = actor_of(&c);
    lt_error e;
    int rc = put ? reports_holiday_put(d->reports, date, in, &who, &e)
                 : reports_holiday_delete(d->reports, date, &who, &e);
    json_decref(in);
    if (rc) {
        http_respond_lt(res, &e);
        return;
    }
    /* the date parsed, so its first four characters are the year */
    http_respond_json(
        res, 200, json_pack("{s:o}", "holidays", reports_holidays_json(d->reports, atoi(date))));
}
