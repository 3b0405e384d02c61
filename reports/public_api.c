/*
 * public_api.c - see public_api.h. The domain rules (validation, states,
 * write authority) are reports/reports.h's; this file turns HTTP into calls
 * of it and answers with public views only.
 *
 * A submission (POST /api/v1/public/reports) checks the per-address limit
 * on the loop and runs the rest on the uv thread pool (node/http/offload.h):
 * its body may carry 26.9 MiB of base64 photos.
 */
#include "reports/public_api.h"
#include "node/http/offload.h"
#include "node/http/ratelimit.h"
#include "node/people/auth.h"
#include "reports/report_query.h"
#include "reports/reports.h"
#include "reports/reports_api.h"
#include "storage/record.h"

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX "/api/v1/public/"
#define MAP_PAGES 10 /* pages of REPORT_QUERY_LIMIT_MAX a map request reads at most */

/* A citizen: no account, no unit. */
static const reports_actor citizen = {
    .user = NULL, .unit = NULL, .role = ROLE_NONE, .citizen = true};

bool public_time(const json_t *o, const char *name, char *out, size_t cap)
{
    json_t *v = json_object_get(o, name);
    if (!json_is_integer(v) || json_integer_value(v) <= 0 || cap < PUBLIC_TIME_MAX)
        return false;
    report_time_w3c((uint64_t)json_integer_value(v), out, cap);
    return true;
}

/* Copies the listed members of from into to (those present). */
static void copy_fields(json_t *to, const json_t *from, const char *const *keys, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_object_get(from, keys[i]);
        if (v)
            json_object_set(to, keys[i], v);
    }
}

/* Sets the W3C datetimes of the ms fields of from as NAME_at in to. */
static void copy_times(json_t *to, const json_t *from)
{
    static const char *const t[][2] = {
        {"created_ms", "created_at"},   {"received_ms", "received_at"},
        {"resolved_ms", "resolved_at"}, {"closed_ms", "closed_at"},
        {"updated_ms", "updated_at"},   {"deadline_ms", "deadline_at"},
    };
    char w[PUBLIC_TIME_MAX];
    for (size_t i = 0; i < sizeof t / sizeof *t; i++)
        if (public_time(from, t[i][0], w, sizeof w))
            json_object_set_new(to, t[i][1], json_string(w));
}

static bool report_public(const json_t *rep)
{
    return !json_is_false(json_object_get(rep, "public"));
}

/* The photo list key of rep (hash, type, width, height of each) into v,
 * when the report is public. */
static void photos_view(json_t *v, const json_t *rep, const char *key)
{
    json_t *photos = json_object_get(rep, key);
    if (!json_is_array(photos) || !report_public(rep))
        return;
    json_t *out = json_array();
    size_t i;
    json_t *p;
    json_array_foreach(photos, i, p)
    {
        static const char *const pk[] = {"hash", "type", "width", "height"};
        json_t *o = json_object();
        copy_fields(o, p, pk, sizeof pk / sizeof *pk);
        json_array_append_new(out, o);
    }
    json_object_set_new(v, key, out);
}

json_t *public_report_view(const json_t *rep)
{
    static const char *const keys[] = {"code",   "title",   "description",  "category", "status",
                                       "answer", "reason",  "duplicate_of", "rating",   "lat",
                                       "lon",    "address", "overdue"};
    json_t *v = json_object();
    copy_fields(v, rep, keys, sizeof keys / sizeof *keys);
    copy_times(v, rep);
    photos_view(v, rep, "photos");
    photos_view(v, rep, "resolution_photos");
    json_t *hist = json_object_get(rep, "history");
    if (json_is_array(hist)) {
        json_t *out = json_array();
        size_t i;
        json_t *h;
        json_array_foreach(hist, i, h)
        {
            static const char *const hk[] = {"action", "from", "to"};
            json_t *o = json_object();
            char w[PUBLIC_TIME_MAX];
            copy_fields(o, h, hk, sizeof hk / sizeof *hk);
            if (public_time(h, "at_ms", w, sizeof w))
                json_object_set_new(o, "at", json_string(w));
            json_array_append_new(out, o);
        }
        json_object_set_new(v, "history", out);
    }
    return v;
}

/* What the public map shows of report rep (a record as JSON): code,
 * title, category, status, answer, address and the dates but the
 * deadline. id is the record's id, for a record without "code". */
static json_t *map_properties(const json_t *rep, const char *id, size_t idlen)
{
    static const char *const keys[] = {"code", "title", "category", "status", "answer", "address"};
    json_t *props = json_object();
    copy_fields(props, rep, keys, sizeof keys / sizeof *keys);
    if (!json_object_get(props, "code"))
        json_object_set_new(props, "code", json_stringn(id, idlen));
    copy_times(props, rep);
    json_object_del(props, "deadline_at");
    return props;
}

void public_token_attach(json_t *o, const char *code, const char *token)
{
    json_object_set_new(o, "token", json_string(token));
    json_object_set_new(o, "tracking_url", json_sprintf("/public#/track/%s?token=%s", code, token));
}

/* The tracking code that starts at path (up to the next '/'), into code;
 * *rest points after it. Answers 404 and returns false when it is none. */
static bool path_code(const char *path, http_response *res, char code[REPORT_CODE_MAX],
                      const char **rest)
{
    char seg[REPORT_CODE_MAX + 1];
    size_t n = strcspn(path, "/");
    *rest = path + n;
    if (n && n < sizeof seg) {
        memcpy(seg, path, n);
        seg[n] = 0;
        if (reports_code_norm(seg, code))
            return true;
    }
    http_respond_error(res, 404, "\"%.*s\" is not a tracking code; it looks like 26734-17",
                       (int)(n > 64 ? 64 : n), path);
    return false;
}

/* A request body as a JSON object, or NULL with a 400 answered. */
static json_t *body_object(const uint8_t *body, size_t len, http_response *res)
{
    json_error_t je;
    json_t *j = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(j)) {
        if (j)
            http_respond_code(res, 400, "http.bad_json", "the body must be a JSON object");
        else
            http_respond_code(res, 400, "http.bad_json",
                              "the body is not valid JSON (%s at line %d); send a "
                              "JSON object",
                              je.text, je.line);
        json_decref(j);
        return NULL;
    }
    return j;
}

/* 400 and false when j has a member not in allowed. */
static bool only_keys(const json_t *j, const char *const *allowed, size_t n, const char *list,
                      http_response *res)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)j, k, v)
    {
        size_t i = 0;
        while (i < n && strcmp(k, allowed[i]))
            i++;
        if (i == n) {
            http_respond_error(res, 400, "unknown field \"%.64s\"; a report takes %s", k, list);
            return false;
        }
    }
    return true;
}

static void public_categories(void *ctx, const http_request *req, http_response *res)
{
    reports_env *d = ctx;
    if (strcmp(req->path, PREFIX "categories")) {
        http_respond_code(res, 404, "http.not_found",
                          "no resource at %s; GET %scategories lists the categories", req->path,
                          PREFIX);
        return;
    }
    http_respond_json(res, 200,
                      json_pack("{s:o}", "categories", reports_categories_json(d->reports, false)));
}

/* A report as the answer: the public view to the holder of its citizen
 * token (token; NULL for none), with the token and its tracking link when
 * new (fresh); to anyone else what the public map shows of a public
 * report, and 404 like an absent report for one marked not public.
 * Returns the status answered. */
static int respond_report(reports_env *d, const char *code, const char *token, bool fresh,
                          int status, http_response *res)
{
    int st = 500;
    json_t *rep = reports_get_json(d->reports, code, REPORT_VIEW_PUBLIC, &st);
    bool holder = rep && reports_token_ok(d->reports, code, token);
    if (rep && !holder && !report_public(rep)) {
        json_decref(rep);
        rep = NULL;
        st = 404;
    }
    if (!rep) {
        if (st == 404)
            http_respond_error(res, 404,
                               "no report with tracking code %s on this node; check "
                               "the code (and the token of the tracking link), or ask "
                               "the node it was submitted to",
                               code);
        else
            http_respond_error(res, 500, "the node could not read report %s; try again later",
                               code);
        return st;
    }
    json_t *v;
    if (holder) {
        v = public_report_view(rep);
        if (fresh)
            public_token_attach(v, code, token);
    } else {
        v = map_properties(rep, code, strlen(code));
        copy_fields(v, rep, (const char *const[]){"lat", "lon"}, 2);
    }
    json_decref(rep);
    http_respond_json(res, status, v);
    return status;
}

/* 429 with Retry-After and true when req gave no valid citizen token of
 * code and its address has used up its lookups without one
 * (PUBLIC_LOOKUP_MAX in PUBLIC_LOOKUP_WINDOW_MS); otherwise counts such a
 * lookup against the address. The holder of the token is never held up. */
static bool lookup_limited(reports_env *d, const http_request *req, const char *code,
                           const char *token, http_response *res)
{
    if (reports_token_ok(d->reports, code, token))
        return false;
    uint64_t now = uv_now(d->node->loop);
    uint64_t wait = ratelimit_wait(d->lookup_limit, req->remote_addr, now);
    if (!wait) {
        ratelimit_fail(d->lookup_limit, req->remote_addr, now);
        return false;
    }
    char secs[24];
    snprintf(secs, sizeof secs, "%llu", (unsigned long long)(wait + 999) / 1000);
    http_response_header(res, "Retry-After", secs);
    http_respond_error(res, 429,
                       "too many report lookups without a valid token from this "
                       "address; try again in %s seconds, or open the tracking link "
                       "given when the report was submitted",
                       secs);
    return true;
}

/* A citizen's report being created on the thread pool. */
typedef struct {
    reports_env *d;
    char remote[64];
    char key[SUBMIT_KEY_MAX + 1]; /* its Idempotency-Key; "" for none */
    char code[REPORT_CODE_MAX];   /* the report stored (or, repeated, the first one) */
    char token[REPORT_TOKEN_MAX];
    bool repeat; /* a repeated key: answer the first report */
} submit_job;

json_t *public_report_fields(const uint8_t *body, size_t len, const char **channel,
                             http_response *res)
{
    static const char *const keys[] = {
        "title",         "description",    "category",       "lat",    "lon",    "address", "unit",
        "reporter_name", "reporter_phone", "reporter_email", "public", "photos", "channel"};
    json_t *in = body_object(body, len, res);
    if (!in)
        return NULL;
    json_t *ch = json_object_get(in, "channel"), *fields = NULL;
    if (only_keys(in, keys, sizeof keys / sizeof *keys,
                  "title, description, category, lat, lon, address, unit, reporter_name, "
                  "reporter_phone, reporter_email, public, photos, channel",
                  res)) {
        if (ch && (!json_is_string(ch) || (strcmp(json_string_value(ch), "web") &&
                                           strcmp(json_string_value(ch), "app")))) {
            http_respond_error(res, 400, "channel must be \"web\" or \"app\"");
        } else {
            *channel = ch && !strcmp(json_string_value(ch), "app") ? "app" : "web";
            fields = json_deep_copy(in);
            json_object_del(fields, "channel");
        }
    }
    json_decref(in);
    return fields;
}

static void submit_work(void *job, const uint8_t *body, size_t len, http_response *res)
{
    submit_job *j = job;
    if (j->repeat) {
        respond_report(j->d, j->code, j->token, true, 200, res);
        return;
    }
    const char *channel;
    json_t *fields = public_report_fields(body, len, &channel, res);
    if (!fields)
        return;
    lt_error e;
    if (reports_create(j->d->reports, fields, channel, &citizen, j->code, j->token, &e))
        http_respond_lt(res, &e);
    else
        respond_report(j->d, j->code, j->token, true, 201, res);
    json_decref(fields);
}

/* Only a stored report counts against the address: the slot taken when
 * the work started is given back otherwise. The report stored is kept
 * with the submission's idempotency key; a failure forgets the key. */
static void submit_done(void *job, http_response *res, http_pending *p, bool ran)
{
    submit_job *j = job;
    (void)p;
    bool stored = ran && res->status == 201;
    if (!stored && !j->repeat)
        ratelimit_undo(j->d->submit_limit, j->remote);
    if (*j->key && !j->repeat)
        submit_keys_finish(j->d->submit_keys, j->remote, j->key, stored ? j->code : NULL, j->token);
    sodium_memzero(j, sizeof *j);
    free(j);
}

/* The Idempotency-Key of req into j->key (and a repeat into j->repeat,
 * j->code, j->token); false after answering 400 (a malformed key) or 409
 * (the first submission with the key is still being stored). */
static bool submit_key(reports_env *d, const http_request *req, submit_job *j, http_response *res)
{
    const char *key = http_request_header(req, "idempotency-key");
    *j->key = 0;
    j->repeat = false;
    if (!key)
        return true;
    if (!submit_keys_valid(key)) {
        http_respond_code(res, 400, "report.bad_idempotency_key",
                          "the Idempotency-Key header must be 1 to %d letters, digits, '-' or "
                          "'_'; send a fresh random key with each new report",
                          SUBMIT_KEY_MAX);
        return false;
    }
    snprintf(j->key, sizeof j->key, "%s", key);
    switch (submit_keys_claim(d->submit_keys, j->remote, key, uv_now(d->node->loop), j->code,
                              j->token)) {
    case SUBMIT_KEY_PENDING:
        http_respond_code(res, 409, "report.submission_pending",
                          "a report with this Idempotency-Key is still being stored; send the "
                          "same request again in a moment to get it");
        return false;
    case SUBMIT_KEY_DONE: j->repeat = true; return true;
    default: return true;
    }
}

/* POST /api/v1/public/reports: the rate limit on the loop, the rest on the
 * thread pool (node/http/offload.h). The limit's slot is taken before the work
 * starts, so concurrent submissions from one address cannot pass it. */
static void submit(reports_env *d, const http_request *req, http_response *res)
{
    submit_job *j = calloc(1, sizeof *j);
    if (!j) {
        http_respond_error(res, 503, "the node is out of memory; retry later");
        return;
    }
    j->d = d;
    snprintf(j->remote, sizeof j->remote, "%s", req->remote_addr);
    if (!submit_key(d, req, j, res)) {
        free(j);
        return;
    }
    if (j->repeat) {
        offload_request(req, res, &(offload_task){d->node->loop, j, submit_work, submit_done});
        return;
    }
    uint64_t now = uv_now(d->node->loop);
    uint64_t wait = ratelimit_wait(d->submit_limit, req->remote_addr, now);
    if (wait) {
        char secs[24];
        snprintf(secs, sizeof secs, "%llu", (unsigned long long)(wait + 999) / 1000);
        http_response_header(res, "Retry-After", secs);
        http_respond_code(res, 429, "report.rate_limited",
                          "too many reports from this address (at most %d in %llu "
                          "minutes); try again in %s seconds",
                          PUBLIC_SUBMIT_MAX, (unsigned long long)(PUBLIC_SUBMIT_WINDOW_MS / 60000),
                          secs);
        if (*j->key)
            submit_keys_finish(d->submit_keys, j->remote, j->key, NULL, NULL);
        free(j);
        return;
    }
    ratelimit_fail(d->submit_limit, j->remote, now);
    offload_request(req, res, &(offload_task){d->node->loop, j, submit_work, submit_done});
}

/* POST /api/v1/public/reports/{code}/rating?token=T: only the holder of
 * the report's citizen token (reports_act checks it). */
static void rate(reports_env *d, const char *code, const http_request *req, http_response *res)
{
    static const char *const keys[] = {"rating", "comment", "reopen"};
    const char *token = http_request_query_param(req, "token");
    if (lookup_limited(d, req, code, token, res))
        return;
    json_t *in = body_object(req->body, req->body_len, res);
    if (!in)
        return;
    if (only_keys(in, keys, 3, "rating, comment, reopen", res)) {
        json_t *act = json_deep_copy(in);
        lt_error e;
        reports_actor holder = citizen;
        holder.token = token;
        json_object_set_new(act, "action", json_string("rate"));
        if (reports_act(d->reports, code, act, &holder, &e))
            http_respond_lt(res, &e);
        else
            respond_report(d, code, token, false, 200, res);
        json_decref(act);
    }
    json_decref(in);
}

static void public_post(void *ctx, const http_request *req, http_response *res)
{
    reports_env *d = ctx;
    const char *p = req->path + strlen(PREFIX "reports");
    char code[REPORT_CODE_MAX];
    const char *rest;
    if (!*p)
        submit(d, req, res);
    else if (path_code(p + 1, res, code, &rest)) {
        if (!strcmp(rest, "/rating"))
            rate(d, code, req, res);
        else
            http_respond_code(res, 404, "http.not_found",
                              "no resource at %s; POST %sreports/{code}/rating rates "
                              "a report",
                              req->path, PREFIX);
    }
}

/* GET /api/v1/public/reports/{code}/photos/{hash}: photos of a public report. */
static void photo(reports_env *d, const char *code, const char *hash, http_response *res)
{
    int st = 500;
    json_t *rep = reports_get_json(d->reports, code, REPORT_VIEW_PUBLIC, &st);
    bool shown = rep && report_public(rep);
    json_decref(rep);
    if (shown)
        reports_api_photo(d, code, hash, "public, max-age=86400", res);
    else
        http_respond_error(res, 404, "no public photo %s of report %s", hash, code);
}

static void public_get_report(void *ctx, const http_request *req, http_response *res)
{
    reports_env *d = ctx;
    const char *p = req->path + strlen(PREFIX "reports");
    char code[REPORT_CODE_MAX];
    const char *rest;
    if (p[0] != '/' || !path_code(p + 1, res, code, &rest)) {
        if (p[0] != '/')
            http_respond_error(res, 404,
                               "GET %sreports/{code} follows one report; there is no "
                               "public list (see %smap)",
                               PREFIX, PREFIX);
        return;
    }
    if (!*rest) {
        const char *token = http_request_query_param(req, "token");
        if (!lookup_limited(d, req, code, token, res))
            respond_report(d, code, token, false, 200, res);
    } else if (!strncmp(rest, "/photos/", 8) && strlen(rest + 8) == 64 && !strchr(rest + 8, '/'))
        photo(d, code, rest + 8, res);
    else
        http_respond_code(res, 404, "http.not_found", "no resource at %s", req->path);
}

/* ---- the map ------------------------------------------------------------ */

typedef struct {
    double w, s, e, n;
    bool bbox;
    json_t *features;
    size_t count;
} map_ctx;

static int map_one(void *ctx, const char *id, size_t idlen, const uint8_t *rec, size_t reclen)
{
    map_ctx *m = ctx;
    char err[128];
    json_t *r = record_to_json(rec, reclen, id, idlen, err, sizeof err);
    json_t *lat = json_object_get(r, "lat"), *lon = json_object_get(r, "lon");
    if (r && report_public(r) && json_is_number(lat) && json_is_number(lon)) {
        double y = json_number_value(lat), x = json_number_value(lon);
        if (!m->bbox || (x >= m->w && x <= m->e && y >= m->s && y <= m->n)) {
            json_t *props = map_properties(r, id, idlen);
            json_array_append_new(m->features, json_pack("{s:s, s:{s:s, s:[f,f]}, s:o}", "type",
                                                         "Feature", "geometry", "type", "Point",
                                                         "coordinates", x, y, "properties", props));
            m->count++;
        }
    }
    json_decref(r);
    return m->count >= PUBLIC_MAP_MAX ? 2 : 0; /* 2: full (1 means a bad query) */
}

/* Parses "W,S,E,N" (degrees) into m; false when malformed. */
static bool parse_bbox(const char *s, map_ctx *m)
{
    char *end;
    double v[4];
    for (int i = 0; i < 4; i++) {
        v[i] = strtod(s, &end);
        if (end == s || !isfinite(v[i]) || *end != (i < 3 ? ',' : '\0'))
            return false;
        s = end + 1;
    }
    m->w = v[0], m->s = v[1], m->e = v[2], m->n = v[3];
    m->bbox = true;
    return m->w <= m->e && m->s <= m->n && m->w >= -180 && m->e <= 180 && m->s >= -90 && m->n <= 90;
}

static void public_map(void *ctx, const http_request *req, http_response *res)
{
    reports_env *d = ctx;
    static const char *const done[] = {"resolved", "closed"};
    static const char *const open[] = {"new",         "received",    "assigned",
                                       "transferred", "in_progress", "reopened"};
    map_ctx m = {.bbox = false};
    const char *bbox = http_request_query_param(req, "bbox");
    const char *status = http_request_query_param(req, "status");
    if (strcmp(req->path, PREFIX "map")) {
        http_respond_code(res, 404, "http.not_found", "no resource at %s", req->path);
        return;
    }
    if (status && strcmp(status, "open") && strcmp(status, "done")) {
        http_respond_error(res, 400,
                           "status must be \"done\" (resolved and closed reports, the default) "
                           "or \"open\" (those still being handled), not \"%s\"",
                           status);
        return;
    }
    bool want_open = status && !strcmp(status, "open");
    if (bbox && !parse_bbox(bbox, &m)) {
        http_respond_error(res, 400,
                           "bbox must be WEST,SOUTH,EAST,NORTH in degrees with "
                           "west <= east and south <= north, e.g. "
                           "bbox=105.6,18.6,105.8,18.8");
        return;
    }
    m.features = json_array();
    char cursor[REPORT_CURSOR_MAX] = "", next[REPORT_CURSOR_MAX], err[256];
    report_query q = {.unit = d->node->config->unit,
                      .statuses = want_open ? open : done,
                      .nstatuses = want_open ? sizeof open / sizeof *open : 2,
                      .sort = REPORT_SORT_NEWEST,
                      .limit = REPORT_QUERY_LIMIT_MAX};
    for (int page = 0; page < MAP_PAGES; page++) {
        q.cursor = cursor;
        int rc = report_query_run(d->node->store, &q, map_one, &m, next, err, sizeof err);
        if (rc == -1 || rc == 1) {
            json_decref(m.features);
            http_respond_error(res, 500,
                               "the node could not read its reports (%s); try again "
                               "later",
                               rc == 1 ? err : "storage error");
            return;
        }
        if (rc || !next[0])
            break;
        snprintf(cursor, sizeof cursor, "%s", next);
    }
    http_respond_json(res, 200,
                      json_pack("{s:s, s:o}", "type", "FeatureCollection", "features", m.features));
}

size_t public_api_routes(reports_env *d, http_route *routes, size_t cap)
{
    const http_route all[] = {
        {"GET", PREFIX "categories", public_categories, d, 0},
        {"POST", PREFIX "reports", public_post, d, PUBLIC_MAX_BODY},
        {"GET", PREFIX "reports", public_get_report, d, 0},
        {"GET", PREFIX "map", public_map, d, 0},
    };
    return http_routes_copy(routes, cap, all, sizeof all / sizeof *all);
}
