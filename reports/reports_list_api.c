/*
 * reports_list_api.c - see reports_list_api.h.
 *
 * Both handlers parse and check every parameter before reading anything,
 * answer 400 naming the parameter and what it takes, and read the store
 * through reports/report_query.h: the list from the indexes (the records
 * only of the reports returned), the figures from the day counters.
 */
#include "reports/reports_list_api.h"
#include "node/http/csv_answer.h"
#include "node/people/access.h"
#include "node/people/auth.h"
#include "replication/unit_place.h"
#include "reports/report_query.h"
#include "reports/report_summary.h"
#include "reports/reports_csv_api.h"
#include "storage/record.h"

#include <stdlib.h>
#include <string.h>

#define LIST_DEFAULT_LIMIT 50
#define LIST_MAX_LIMIT 200
#define Q_MAX 200
#define STATUS_LIST_MAX 256

/* The unit a request names (default: the caller's), or NULL after a 403. */
static const char *scope_unit(reports_env *d, const auth_caller *c, const http_request *req,
                              http_response *res)
{
    const char *unit = http_request_query_param(req, "unit");
    if (!unit || !*unit)
        return c->unit;
    if (strlen(unit) >= NODE_CODE_MAX ||
        !unit_tree_within(auth_tree(d->node->auth), unit, strlen(unit), c->unit, strlen(c->unit))) {
        http_respond_error(res, 403,
                           "unit %.40s is not %s or a unit below it: you may list the reports of "
                           "your own unit's subtree only",
                           unit, c->unit);
        return NULL;
    }
    return unit;
}

/* Reads from/to (ISO dates or datetimes). Returns false after a 400. */
static bool time_range(const http_request *req, http_response *res, uint64_t *from, uint64_t *to)
{
    const char *f = http_request_query_param(req, "from"), *t = http_request_query_param(req, "to");
    *from = *to = 0;
    if (f && *f && report_time_parse(f, false, from)) {
        http_respond_error(res, 400,
                           "from \"%.40s\" is not a date: use 2026-11-23 or "
                           "2026-11-23T08:00:00+07:00",
                           f);
        return false;
    }
    if (t && *t && report_time_parse(t, true, to)) {
        http_respond_error(res, 400,
                           "to \"%.40s\" is not a date: use 2026-11-23 (included) or "
                           "2026-11-23T17:00:00+07:00",
                           t);
        return false;
    }
    if (*to && *to <= *from) {
        http_respond_error(res, 400, "to must be after from");
        return false;
    }
    return true;
}

typedef struct {
    json_t *rows;
    uint64_t now;
    bool personal;
} list_out;

static int list_one(void *ctx, const char *id, size_t idlen, const uint8_t *rec, size_t reclen)
{
    list_out *o = ctx;
    json_t *j = report_summary_json(rec, reclen, id, idlen, o->now, o->personal);
    if (j)
        json_array_append_new(o->rows, j);
    return 0;
}

/* Splits the status comma list into q (pointers into buf). */
static bool statuses(const http_request *req, http_response *res, char *buf, const char **out,
                     report_query *q)
{
    const char *s = http_request_query_param(req, "status");
    if (!s || !*s)
        return true;
    if (strlen(s) >= STATUS_LIST_MAX) {
        http_respond_error(res, 400, "status is too long: give at most %d statuses",
                           REPORT_NSTATUS);
        return false;
    }
    strcpy(buf, s);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (q->nstatuses == REPORT_NSTATUS) {
            http_respond_error(res, 400, "give at most %d statuses", REPORT_NSTATUS);
            return false;
        }
        out[q->nstatuses++] = t;
    }
    q->statuses = out;
    return true;
}

/* The user a person filter (assignee, created_by) names: "me" is the
 * caller; another user only for a leader or above (the visibility rule is
 * the unit's subtree either way). NULL when the filter is left out; false
 * after a 403/400. */
static bool person_param(const http_request *req, http_response *res, const auth_caller *c,
                         const char *name, const char **out)
{
    const char *v = http_request_query_param(req, name);
    *out = NULL;
    if (!v || !*v)
        return true;
    if (!strcmp(v, "me")) {
        *out = c->user;
        return true;
    }
    if (strlen(v) >= REPORT_USER_MAX) {
        http_respond_error(res, 400, "%s must be me or a user name (at most %d characters)", name,
                           REPORT_USER_MAX - 1);
        return false;
    }
    if (c->role < ROLE_LEADER && strcmp(v, c->user)) {
        http_respond_error(res, 403,
                           "%s=%.40s lists another officer's reports, which only a leader may: "
                           "use %s=me",
                           name, v, name);
        return false;
    }
    *out = v;
    return true;
}

static bool list_params(const http_request *req, http_response *res, report_query *q)
{
    const char *ls = http_request_query_param(req, "limit");
    char *end = NULL;
    long limit = ls ? strtol(ls, &end, 10) : LIST_DEFAULT_LIMIT;
    if ((ls && (!*ls || *end)) || limit < 1 || limit > LIST_MAX_LIMIT) {
        http_respond_error(res, 400, "limit must be a number from 1 to %d", LIST_MAX_LIMIT);
        return false;
    }
    q->limit = (size_t)limit;
    const char *sort = http_request_query_param(req, "sort");
    if (!sort || !*sort || !strcmp(sort, "newest"))
        q->sort = REPORT_SORT_NEWEST;
    else if (!strcmp(sort, "oldest"))
        q->sort = REPORT_SORT_OLDEST;
    else if (!strcmp(sort, "deadline"))
        q->sort = REPORT_SORT_DEADLINE;
    else {
        http_respond_error(res, 400, "sort must be newest, oldest or deadline");
        return false;
    }
    const char *od = http_request_query_param(req, "overdue");
    if (od && *od && strcmp(od, "0") && strcmp(od, "1") && strcmp(od, "true") &&
        strcmp(od, "false")) {
        http_respond_error(res, 400, "overdue must be 1 or 0");
        return false;
    }
    q->overdue = od && (!strcmp(od, "1") || !strcmp(od, "true"));
    q->category = http_request_query_param(req, "category");
    if (q->category && !*q->category)
        q->category = NULL;
    if (q->category && strlen(q->category) > REPORT_CATEGORY_MAX) {
        http_respond_error(res, 400, "category must be a category code (at most %d characters)",
                           REPORT_CATEGORY_MAX);
        return false;
    }
    q->q = http_request_query_param(req, "q");
    if (q->q && strlen(q->q) > Q_MAX) {
        http_respond_error(res, 400, "q is longer than %d bytes: search with fewer words", Q_MAX);
        return false;
    }
    q->cursor = http_request_query_param(req, "cursor");
    return time_range(req, res, &q->from_ms, &q->to_ms);
}

void reports_list_api_get(void *ctx, const http_request *req, http_response *res)
{
    reports_env *d = ctx;
    if (strcmp(req->path, "/api/v1/reports") && strcmp(req->path, "/api/v1/reports/")) {
        http_respond_error(res, 404,
                           "no such path: see GET /api/v1/reports and "
                           "GET /api/v1/reports/{code}");
        return;
    }
    auth_caller c;
    if (auth_require(d->node->auth, req, res, ROLE_VIEWER, &c))
        return;
    report_query q = {.now_ms = hlc_wall_ms()};
    char buf[STATUS_LIST_MAX];
    const char *sts[REPORT_NSTATUS];
    if (!(q.unit = scope_unit(d, &c, req, res)) || !statuses(req, res, buf, sts, &q) ||
        !list_params(req, res, &q) || !person_param(req, res, &c, "assignee", &q.assignee) ||
        !person_param(req, res, &c, "created_by", &q.created_by))
        return;
    if (csv_answer_wanted(req)) {
        reports_csv_answer(d, &q, access_personal(c.role), req, res);
        return;
    }
    list_out o = {json_array(), q.now_ms, access_personal(c.role)};
    char next[REPORT_CURSOR_MAX], err[STORE_ERR_LEN];
    int rc = report_query_run(d->node->store, &q, list_one, &o, next, err, sizeof err);
    if (rc) {
        json_decref(o.rows);
        if (rc > 0)
            http_respond_error(res, 400, "%s", err);
        else
            http_respond_error(res, 500,
                               "the reports could not be read (%s); check the node's "
                               "log",
                               err);
        return;
    }
    http_respond_json(res, 200,
                      json_pack("{s:o, s:o}", "reports", o.rows, "next",
                                next[0] ? json_string(next) : json_null()));
}

/* ---- statistics --------------------------------------------------------- */

typedef struct {
    reports_env *d;
    const char *unit;
    bool subtree;
    uint64_t from, to;
    const char *category;
    json_t *children;
    int failed;
} child_walk;

static int child_one(void *ctx, const char *id, size_t idlen, const uint8_t *rec, size_t reclen)
{
    child_walk *w = ctx;
    char parent[NODE_CODE_MAX], name[256] = "", code[NODE_CODE_MAX];
    if (idlen >= NODE_CODE_MAX || unit_place_retired(rec, reclen) ||
        record_field_str(rec, reclen, "parent", parent, sizeof parent) || strcmp(parent, w->unit))
        return 0;
    memcpy(code, id, idlen);
    code[idlen] = '\0';
    record_field_str(rec, reclen, "name", name, sizeof name);
    report_stats st;
    char err[STORE_ERR_LEN];
    if (report_stats_get_category(w->d->node->store, code, w->subtree, w->from, w->to, w->category,
                                  &st, err, sizeof err)) {
        w->failed = 1;
        return 1;
    }
    json_t *j = report_stats_json(&st);
    json_object_set_new(j, "name", json_string(name));
    json_object_del(j, "from");
    json_object_del(j, "to");
    json_object_del(j, "scope");
    json_array_append_new(w->children, j);
    return 0;
}

void reports_stats_api_get(void *ctx, const http_request *req, http_response *res)
{
    reports_env *d = ctx;
    auth_caller c;
    if (auth_require(d->node->auth, req, res, ROLE_VIEWER, &c))
        return;
    const char *unit = scope_unit(d, &c, req, res);
    if (!unit)
        return;
    const char *scope = http_request_query_param(req, "scope");
    const char *by = http_request_query_param(req, "by");
    if (scope && *scope && strcmp(scope, "subtree") && strcmp(scope, "unit")) {
        http_respond_error(res, 400,
                           "scope must be subtree (the unit and every unit below it) "
                           "or unit (the reports it owns)");
        return;
    }
    if (by && *by && strcmp(by, "child")) {
        http_respond_error(res, 400, "by must be child (figures per child unit) or left out");
        return;
    }
    bool subtree = !scope || !*scope || !strcmp(scope, "subtree");
    uint64_t from, to;
    if (!time_range(req, res, &from, &to))
        return;
    const char *category = http_request_query_param(req, "category");
    report_stats st;
    char err[STORE_ERR_LEN];
    int rc = report_stats_get_category(d->node->store, unit, subtree, from, to, category, &st, err,
                                       sizeof err);
    if (rc) {
        http_respond_error(res, rc > 0 ? 400 : 500, "%s", err);
        return;
    }
    json_t *j = report_stats_json(&st);
    if (category && *category)
        json_object_set_new(j, "category", json_string(category));
    if (by && *by) {
        child_walk w = {d, unit, subtree, from, to, category, json_array(), 0};
        if (store_records(d->node->store, "units", child_one, &w) < 0 || w.failed) {
            json_decref(w.children);
            json_decref(j);
            http_respond_error(res, 500,
                               "the unit figures could not be read; check the node's "
                               "log");
            return;
        }
        json_object_set_new(j, "children", w.children);
    }
    http_respond_json(res, 200, j);
}
