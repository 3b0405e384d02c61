/*
 * open311.c - see open311.h. Each response is described once as the JSON
 * of the spec and rendered by open311_format.h in the asked format.
 *
 * POST requests runs on the uv thread pool (node/http/offload.h): its api_key
 * and media are in a body of up to 26.9 MiB, so the parsing, the key
 * check (open311_key_check: store reads only) and the create all run
 * there; the loop then attaches the caller for the audit.
 */
#include "reports/open311.h"
#include "lib/log.h"
#include "node/http/form.h"
#include "node/http/offload.h"
#include "node/people/auth.h"
#include "node/people/open311_keys.h"
#include "reports/open311_format.h"
#include "reports/public_api.h"
#include "reports/report_query.h"
#include "reports/reports.h"
#include "storage/record.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS 86400000ull
#define MAX_PAGES 20 /* pages of REPORT_QUERY_LIMIT_MAX a list reads at most */
#define TITLE_MAX 100

/* One request being answered. */
typedef struct {
    reports_env *d;
    const http_request *req;
    http_response *res;
    open311_format fmt;
    json_t *categories; /* reports_categories_json(all), loaded on first use */
} call;

/* ---- helpers ------------------------------------------------------------ */

/* The string member key of o, or def. */
static const char *str_of(const json_t *o, const char *key, const char *def)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : def;
}

static json_t *categories(call *c)
{
    if (!c->categories)
        c->categories = reports_categories_json(c->d->reports, true);
    return c->categories;
}

/* The category object of code (active or not), or NULL. */
static json_t *category(call *c, const char *code)
{
    size_t i;
    json_t *cat;
    json_array_foreach(categories(c), i, cat)
    {
        if (!strcmp(str_of(cat, "code", ""), code))
            return cat;
    }
    return NULL;
}

static json_t *str_or_null(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) && json_string_length(v) ? json_copy(v) : json_null();
}

static json_t *time_or_null(const json_t *o, const char *key)
{
    char w[PUBLIC_TIME_MAX];
    return public_time(o, key, w, sizeof w) ? json_string(w) : json_null();
}

/* "Thời hạn xử lý: N giờ làm việc / ngày làm việc" of a category, or null. */
static json_t *service_notice(const json_t *cat)
{
    json_int_t h = json_integer_value(json_object_get(cat, "deadline_hours"));
    json_int_t dd = json_integer_value(json_object_get(cat, "deadline_days"));
    if (h > 0)
        return json_sprintf("Thời hạn xử lý: %lld giờ làm việc", (long long)h);
    if (dd > 0)
        return json_sprintf("Thời hạn xử lý: %lld ngày làm việc", (long long)dd);
    return json_null();
}

/* The name of unit code, "Name (code)", or the code alone. */
static json_t *unit_label(reports_env *d, const char *code)
{
    uint8_t *rec = NULL;
    size_t len = 0;
    char name[256];
    json_t *out;
    if (store_record_get(d->node->store, "units", code, &rec, &len) == 0 &&
        record_field_str(rec, len, "name", name, sizeof name) == 0)
        out = json_sprintf("%s (%s)", name, code);
    else
        out = json_string(code);
    free(rec);
    return out;
}

static bool is_closed(const char *status)
{
    return report_status_processed(status);
}

/* The spec's service_request of report fields rep (a record as JSON). */
static json_t *request_doc(call *c, const json_t *rep)
{
    const char *code = str_of(rep, "code", str_of(rep, "id", ""));
    const char *status = str_of(rep, "status", "new");
    const char *cat_code = str_of(rep, "category", "");
    const char *owner = json_string_value(json_object_get(rep, "owner_unit"));
    json_t *cat = category(c, cat_code);

    json_t *notes = str_or_null(rep, "answer");
    if (json_is_null(notes) && !strcmp(status, "rejected"))
        notes = str_or_null(rep, "reason");
    if (json_is_null(notes) && !strcmp(status, "duplicate") &&
        json_is_string(json_object_get(rep, "duplicate_of")))
        notes = json_sprintf("Trùng với phản ánh %s",
                             json_string_value(json_object_get(rep, "duplicate_of")));

    json_t *media = json_null();
    json_t *photo = json_array_get(json_object_get(rep, "photos"), 0);
    const char *host = http_request_header(c->req, "host");
    if (photo && host && !json_is_false(json_object_get(rep, "public")) &&
        json_is_string(json_object_get(photo, "hash")))
        media = json_sprintf("http://%s/api/v1/public/reports/%s/photos/%s", host, code,
                             json_string_value(json_object_get(photo, "hash")));

    json_t *lat = json_object_get(rep, "lat"), *lon = json_object_get(rep, "lon");
    return json_pack(
        "{s:s, s:s, s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:n, s:n, s:o, s:o, s:o}",
        "service_request_id", code, "status", is_closed(status) ? "closed" : "open", "status_notes",
        notes, "service_name", cat ? str_or_null(cat, "name_vi") : json_null(), "service_code",
        cat_code, "description", str_or_null(rep, "description"), "agency_responsible",
        owner ? unit_label(c->d, owner) : json_null(), "service_notice",
        cat ? service_notice(cat) : json_null(), "requested_datetime",
        time_or_null(rep, "created_ms"), "updated_datetime", time_or_null(rep, "updated_ms"),
        "expected_datetime", time_or_null(rep, "deadline_ms"), "address",
        str_or_null(rep, "address"), "address_id", "zipcode", "lat",
        json_is_number(lat) ? json_copy(lat) : json_null(), "long",
        json_is_number(lon) ? json_copy(lon) : json_null(), "media_url", media);
}

/* The record of report code as JSON, or NULL when absent or deleted. */
static json_t *report_fields(reports_env *d, const char *code)
{
    uint8_t *rec = NULL;
    size_t len = 0;
    char err[128];
    json_t *j = NULL;
    if (store_record_get(d->node->store, REPORT_COLL, code, &rec, &len) == 0 &&
        !record_is_deleted(rec, len))
        j = record_to_json(rec, len, code, strlen(code), err, sizeof err);
    free(rec);
    return j;
}

static void respond_list(call *c, int status, json_t *list)
{
    open311_respond(c->res, status, list, c->fmt, "service_requests", "request");
}

/* jurisdiction_id (query or form value v) checked against this node's
 * subtree into *unit (NULL when absent). False with a 400 answered. */
static bool jurisdiction(call *c, const char *v, const char **unit)
{
    *unit = NULL;
    if (!v || !v[0])
        return true;
    const char *mine = c->d->node->config->unit;
    if (!reports_serves(c->d->reports, v)) {
        open311_error(c->res, 400, c->fmt,
                      "jurisdiction_id \"%.64s\" is not served by this node; use the code of "
                      "unit %s or of a unit below it, or leave it out",
                      v, mine);
        return false;
    }
    *unit = v;
    return true;
}

/* ---- services ------------------------------------------------------------ */

/* Answers status for a service_code that is not an active service (NULL:
 * none given). */
static void no_service(call *c, int status, const char *code)
{
    const char *ext = c->fmt == OPEN311_XML ? "xml" : "json";
    if (code)
        open311_error(c->res, status, c->fmt,
                      "service_code \"%.64s\" is not a service of this node; GET services.%s "
                      "lists them",
                      code, ext);
    else
        open311_error(c->res, status, c->fmt,
                      "service_code is required; GET services.%s lists the services", ext);
}

static void services(call *c)
{
    json_t *list = json_array();
    size_t i;
    json_t *cat;
    json_array_foreach(categories(c), i, cat)
    {
        if (json_is_false(json_object_get(cat, "active")))
            continue;
        json_array_append_new(list,
                              json_pack("{s:O, s:o, s:o, s:b, s:s, s:o, s:o}", "service_code",
                                        json_object_get(cat, "code"), "service_name",
                                        str_or_null(cat, "name_vi"), "description",
                                        str_or_null(cat, "description_vi"), "metadata", 0, "type",
                                        "realtime", "keywords", str_or_null(cat, "name_en"),
                                        "group", str_or_null(cat, "group")));
    }
    open311_respond(c->res, 200, list, c->fmt, "services", "service");
}

static void service_definition(call *c, const char *code)
{
    json_t *cat = category(c, code);
    if (!cat || json_is_false(json_object_get(cat, "active"))) {
        no_service(c, 404, code);
        return;
    }
    open311_respond(c->res, 200, json_pack("{s:s, s:[]}", "service_code", code, "attributes"),
                    c->fmt, "service_definition", NULL);
}

/* ---- GET requests ----------------------------------------------------------- */

typedef struct {
    char **codes; /* service codes to keep; NULL = all */
    size_t ncodes;
    json_t *found; /* record JSONs */
} list_ctx;

/* Whether a report may appear in a list: not when it was marked not
 * public (it is still found by its own code, like on the status page). */
static bool listed(const json_t *rep)
{
    return !json_is_false(json_object_get(rep, "public"));
}

/* Whether the GET of c may show report rep (a record as JSON) by its id:
 * a public one to anyone, one marked not public only to an Open311 key
 * (api_key in the query; it acts as staff of its unit) whose unit sees the
 * report. */
static bool shown_by_id(call *c, const json_t *rep)
{
    if (listed(rep))
        return true;
    const char *key = http_request_query_param(c->req, "api_key");
    open311_key k;
    return key && *key && open311_key_check(c->d->node->store, key, &k) == 0 &&
           reports_visible(c->d->reports, str_of(rep, "code", ""), k.unit);
}

static int list_one(void *ctx, const char *id, size_t idlen, const uint8_t *rec, size_t reclen)
{
    list_ctx *l = ctx;
    char err[128], cat[REPORT_CATEGORY_MAX + 1] = "";
    bool keep = !l->codes;
    if (!keep && record_field_str(rec, reclen, "category", cat, sizeof cat) == 0)
        for (size_t i = 0; i < l->ncodes && !keep; i++)
            keep = !strcmp(cat, l->codes[i]);
    json_t *j = keep ? record_to_json(rec, reclen, id, idlen, err, sizeof err) : NULL;
    if (j && listed(j))
        json_array_append_new(l->found, j);
    else
        json_decref(j);
    return json_array_size(l->found) >= OPEN311_MAX_RESULTS ? 2 : 0;
}

/* Splits a comma list into a NULL-terminated malloc'd array of at most max
 * non-empty items (the strings live in one block with it). */
static char **split_list(const char *s, size_t max, size_t *n)
{
    size_t len = strlen(s);
    char **v = malloc((max + 1) * sizeof *v + len + 1);
    if (!v)
        return NULL;
    char *buf = (char *)(v + max + 1), *save = NULL;
    memcpy(buf, s, len + 1);
    *n = 0;
    for (char *t = strtok_r(buf, ",", &save); t && *n < max; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ')
            t++;
        if (*t)
            v[(*n)++] = t;
    }
    v[*n] = NULL;
    return v;
}

static void requests_by_id(call *c, const char *ids)
{
    size_t n = 0;
    char **v = split_list(ids, OPEN311_MAX_RESULTS, &n);
    json_t *list = json_array();
    for (size_t i = 0; v && i < n; i++) {
        char code[REPORT_CODE_MAX];
        json_t *rep = reports_code_norm(v[i], code) ? report_fields(c->d, code) : NULL;
        if (rep && shown_by_id(c, rep))
            json_array_append_new(list, request_doc(c, rep));
        json_decref(rep);
    }
    free(v);
    respond_list(c, 200, list);
}

/* A date parameter (a W3C datetime or a date; a date as end_date includes
 * that day) into *ms; false with a 400 answered when malformed. */
static bool date_param(call *c, const char *name, bool end, int64_t *ms, bool *given)
{
    const char *v = http_request_query_param(c->req, name);
    uint64_t u = 0;
    *given = v != NULL;
    if (v && report_time_parse(v, end, &u)) {
        open311_error(c->res, 400, c->fmt,
                      "%s \"%.64s\" is not a W3C datetime; write e.g. "
                      "2026-11-23T16:20:00+07:00 or 2026-11-23",
                      name, v);
        return false;
    }
    *ms = (int64_t)u;
    return true;
}

static void requests_list(call *c)
{
    const char *ids = http_request_query_param(c->req, "service_request_id");
    if (ids) {
        requests_by_id(c, ids);
        return;
    }
    const char *unit;
    if (!jurisdiction(c, http_request_query_param(c->req, "jurisdiction_id"), &unit))
        return;
    int64_t start = 0, end = 0, window = (int64_t)OPEN311_WINDOW_DAYS * DAY_MS;
    bool has_start, has_end;
    if (!date_param(c, "start_date", false, &start, &has_start) ||
        !date_param(c, "end_date", true, &end, &has_end))
        return;
    if (!has_end)
        end = has_start && start + window < (int64_t)reports_now(c->d->reports)
                  ? start + window
                  : (int64_t)reports_now(c->d->reports);
    if (!has_start)
        start = end - window;
    if (start > end || end - start > window) {
        open311_error(c->res, 400, c->fmt,
                      "start_date must not be after end_date, and they may be at most %d days "
                      "apart; ask for shorter ranges",
                      OPEN311_WINDOW_DAYS);
        return;
    }

    /* statuses: open, closed or both */
    const char *st = http_request_query_param(c->req, "status");
    bool want_open = !st, want_closed = !st;
    size_t nst = 0;
    char **sv = st ? split_list(st, 4, &nst) : NULL;
    for (size_t i = 0; i < nst; i++) {
        if (!strcmp(sv[i], "open"))
            want_open = true;
        else if (!strcmp(sv[i], "closed"))
            want_closed = true;
        else {
            open311_error(c->res, 400, c->fmt, "status \"%.32s\" is unknown; use open or closed",
                          sv[i]);
            free(sv);
            return;
        }
    }
    free(sv);
    const char *statuses[REPORT_NSTATUS];
    size_t nstatuses = 0;
    for (size_t i = 0; i < REPORT_NSTATUS; i++)
        if (report_status_processed(report_statuses[i]) ? want_closed : want_open)
            statuses[nstatuses++] = report_statuses[i];

    /* service codes: each must be a service */
    list_ctx l = {.codes = NULL, .found = json_array()};
    const char *sc = http_request_query_param(c->req, "service_code");
    if (sc) {
        l.codes = split_list(sc, REPORT_STATS_CATEGORIES, &l.ncodes);
        for (size_t i = 0; l.codes && i < l.ncodes; i++)
            if (!category(c, l.codes[i])) {
                no_service(c, 400, l.codes[i]);
                free(l.codes);
                json_decref(l.found);
                return;
            }
    }

    char cursor[REPORT_CURSOR_MAX] = "", next[REPORT_CURSOR_MAX], err[256];
    report_query q = {.unit = unit ? unit : c->d->node->config->unit,
                      .statuses = statuses,
                      .nstatuses = nstatuses,
                      .from_ms = (uint64_t)(start > 0 ? start : 0),
                      .to_ms = (uint64_t)end,
                      .sort = REPORT_SORT_NEWEST,
                      .limit = REPORT_QUERY_LIMIT_MAX};
    int rc = 0;
    for (int page = 0; page < MAX_PAGES && nstatuses; page++) {
        q.cursor = cursor;
        rc = report_query_run(c->d->node->store, &q, list_one, &l, next, err, sizeof err);
        if (rc || !next[0])
            break;
        snprintf(cursor, sizeof cursor, "%s", next);
    }
    free(l.codes);
    if (rc == -1 || rc == 1) {
        json_decref(l.found);
        open311_error(c->res, 500, c->fmt,
                      "the node could not read its reports (%s); try "
                      "again later",
                      rc == 1 ? err : "storage error");
        return;
    }
    json_t *list = json_array();
    size_t i;
    json_t *rep;
    json_array_foreach(l.found, i, rep) json_array_append_new(list, request_doc(c, rep));
    json_decref(l.found);
    respond_list(c, 200, list);
}

/* GET requests/{id} and tokens/{token} (here the token is the tracking
 * code; the citizen token of a POST answer is for the public API). A
 * request marked not public answers 404 like an absent one, but to a
 * staff api_key (shown_by_id). */
static void request_one(call *c, const char *id, bool token)
{
    char code[REPORT_CODE_MAX];
    json_t *rep = reports_code_norm(id, code) ? report_fields(c->d, code) : NULL;
    if (rep && !shown_by_id(c, rep)) {
        json_decref(rep);
        rep = NULL;
    }
    if (!rep) {
        open311_error(c->res, 404, c->fmt, "no service request with %s \"%.64s\" on this node",
                      token ? "token" : "service_request_id", id);
        return;
    }
    json_t *doc = token ? json_pack("{s:s, s:s}", "service_request_id", code, "token", code)
                        : request_doc(c, rep);
    json_decref(rep);
    respond_list(c, 200, json_pack("[o]", doc));
}

/* ---- POST requests ----------------------------------------------------------- */

/* A POST being answered on the thread pool (node/http/offload.h): c.req is
 * NULL there, so what the work needs of the request is copied here. */
typedef struct {
    call c;
    char *content_type; /* the request's Content-Type, or NULL */
    char *query_key;    /* api_key from the query string, or NULL */
    auth_caller who;
    bool who_known; /* api_key is a live Open311 key: the audit names it */
} post_job;

/* The caller behind api_key (form field, else query); false with 403/500
 * answered. */
static bool api_key_caller(post_job *j, const form *f, auth_caller *who)
{
    call *c = &j->c;
    const form_field *k = form_get(f, "api_key");
    const char *key = k ? k->value : j->query_key;
    if (!key || !key[0]) {
        open311_error(c->res, 403, c->fmt,
                      "api_key was not provided; a city app gets an Open311 key from the "
                      "node's admin (POST /api/v1/open311/keys, lienthong open311-key add)");
        return false;
    }
    open311_key ok;
    int rc = open311_key_check(c->d->node->store, key, &ok);
    j->who_known = rc == 0;
    if (rc < 0) {
        open311_error(c->res, 500, c->fmt, "the node could not check the api_key; try again");
        return false;
    }
    if (rc) {
        open311_error(c->res, 403, c->fmt,
                      "api_key is not an Open311 key of this node (revoked, or an account's "
                      "API token, which Open311 does not take); ask the node's admin for an "
                      "Open311 key (lienthong open311-key add)");
        return false;
    }
    memset(who, 0, sizeof *who); /* the key acts as a staff member of its unit */
    snprintf(who->user, sizeof who->user, "open311:%s", ok.name);
    snprintf(who->unit, sizeof who->unit, "%s", ok.unit);
    who->role = ROLE_STAFF;
    who->via_token = true;
    return true;
}

/* A coordinate field into *v; false with a 400 answered. */
static bool coordinate(call *c, const form *f, const char *name, double lo, double hi, double *v)
{
    const form_field *x = form_get(f, name);
    char *end = NULL;
    if (!x || !x->value[0]) {
        open311_error(c->res, 400, c->fmt,
                      "lat and long are required: this server places every request by its "
                      "coordinates (WGS84 degrees), not by address_string or address_id");
        return false;
    }
    *v = strtod(x->value, &end);
    if (*end || !isfinite(*v) || *v < lo || *v > hi) {
        open311_error(c->res, 400, c->fmt, "%s \"%.32s\" is not a number from %g to %g", name,
                      x->value, lo, hi);
        return false;
    }
    return true;
}

/* The title of a request: the first line of its description, at most
 * TITLE_MAX bytes cut on a character boundary, or the service's name. */
static json_t *title_of(const char *desc, const json_t *cat)
{
    size_t n = desc ? strcspn(desc, "\r\n") : 0;
    while (n && desc[n - 1] == ' ')
        n--;
    if (!n)
        return str_or_null(cat, "name_vi");
    if (n > TITLE_MAX) {
        n = TITLE_MAX;
        while (n && ((unsigned char)desc[n] & 0xC0) == 0x80)
            n--;
    }
    return json_stringn(desc, n);
}

static const char *const post_fields[] = {
    "api_key",    "jurisdiction_id", "service_code", "lat",        "long",       "address_string",
    "address_id", "email",           "device_id",    "account_id", "first_name", "last_name",
    "phone",      "description",     "media_url",    "media"};

/* Sets the string member key of in to form field name when given. */
static void put_field(json_t *in, const char *key, const form *f, const char *name)
{
    const form_field *x = form_get(f, name);
    if (x && x->len)
        json_object_set_new(in, key, json_stringn(x->value, x->len));
}

/* Checks the fields and builds the report: the JSON for reports_create and
 * the photos (pointers into f). False with a 400 answered. */
static bool request_input(call *c, const form *f, json_t *in, reports_photo *photos,
                          size_t *nphotos)
{
    *nphotos = 0;
    for (size_t i = 0; i < f->n; i++) {
        const form_field *x = &f->v[i];
        size_t k = 0, nf = sizeof post_fields / sizeof *post_fields;
        while (k < nf && strcmp(x->name, post_fields[k]))
            k++;
        if (!strncmp(x->name, "attribute[", 10)) {
            open311_error(c->res, 400, c->fmt,
                          "%.64s: the services of this node define no attributes (see "
                          "services/{code}); leave it out",
                          x->name);
            return false;
        }
        if (k == nf) {
            open311_error(c->res, 400, c->fmt,
                          "unknown field \"%.64s\"; see the GeoReport v2 "
                          "POST Service Request parameters",
                          x->name);
            return false;
        }
        if (x->filename && strcmp(x->name, "media")) {
            open311_error(c->res, 400, c->fmt,
                          "%s must be text, not a file; send files as "
                          "media",
                          x->name);
            return false;
        }
        if (!strcmp(x->name, "media")) {
            if (!x->filename) {
                open311_error(c->res, 400, c->fmt,
                              "media must be a file part of a multipart/form-data body; to "
                              "link a photo elsewhere use media_url");
                return false;
            }
            if (*nphotos == REPORT_PHOTOS_MAX) {
                open311_error(c->res, 400, c->fmt, "at most %d media files per request",
                              REPORT_PHOTOS_MAX);
                return false;
            }
            photos[(*nphotos)++] = (reports_photo){(const uint8_t *)x->value, x->len, x->type};
        }
    }
    const form_field *sc = form_get(f, "service_code");
    json_t *cat = sc ? category(c, sc->value) : NULL;
    if (!cat || json_is_false(json_object_get(cat, "active"))) {
        no_service(c, 400, sc ? sc->value : NULL);
        return false;
    }
    double lat, lon;
    if (!coordinate(c, f, "lat", -90, 90, &lat) || !coordinate(c, f, "long", -180, 180, &lon))
        return false;
    const form_field *mu = form_get(f, "media_url");
    if (mu && mu->len &&
        (mu->len > 1000 ||
         (strncmp(mu->value, "http://", 7) && strncmp(mu->value, "https://", 8)))) {
        open311_error(c->res, 400, c->fmt,
                      "media_url must be an http:// or https:// URL of at "
                      "most 1000 characters");
        return false;
    }
    const form_field *desc = form_get(f, "description");
    json_object_set_new(in, "category", json_string(sc->value));
    json_object_set_new(in, "lat", json_real(lat));
    json_object_set_new(in, "lon", json_real(lon));
    json_object_set_new(in, "title", title_of(desc ? desc->value : NULL, cat));
    put_field(in, "description", f, "description");
    put_field(in, "address", f, "address_string");
    put_field(in, "reporter_phone", f, "phone");
    put_field(in, "reporter_email", f, "email");
    const form_field *fn = form_get(f, "first_name"), *ln = form_get(f, "last_name");
    const char *fv = fn ? fn->value : "", *lv = ln ? ln->value : "";
    if (fv[0] || lv[0])
        json_object_set_new(in, "reporter_name",
                            json_sprintf("%s%s%s", fv, fv[0] && lv[0] ? " " : "", lv));
    return true;
}

bool open311_form_input(reports_env *d, const form *f, open311_format fmt, json_t *in,
                        reports_photo photos[REPORT_PHOTOS_MAX], size_t *nphotos,
                        http_response *res)
{
    call c = {.d = d, .req = NULL, .res = res, .fmt = fmt};
    bool ok = request_input(&c, f, in, photos, nphotos);
    json_decref(c.categories);
    return ok;
}

static void post_work(void *job, const uint8_t *body, size_t len, http_response *res)
{
    post_job *j = job;
    call *c = &j->c;
    c->res = res;
    form f;
    char err[512];
    if (form_parse(j->content_type, body, len, &f, err, sizeof err)) {
        open311_error(c->res, 400, c->fmt, "%s", err);
        return;
    }
    const char *unit;
    json_t *in = json_object();
    reports_photo photos[REPORT_PHOTOS_MAX];
    size_t nphotos = 0;
    const form_field *jur = form_get(&f, "jurisdiction_id");
    if (api_key_caller(j, &f, &j->who) && jurisdiction(c, jur ? jur->value : NULL, &unit) &&
        request_input(c, &f, in, photos, &nphotos)) {
        reports_actor actor = {
            .user = j->who.user, .unit = j->who.unit, .role = j->who.role, .citizen = false};
        char code[REPORT_CODE_MAX], token[REPORT_TOKEN_MAX];
        lt_error e;
        if (unit)
            json_object_set_new(in, "unit", json_string(unit));
        if (reports_create_raw(c->d->reports, in, photos, nphotos, "open311", &actor, code, token,
                               &e)) {
            open311_error(c->res, lt_errkind_status(e.kind), c->fmt, "%s", e.message);
        } else {
            const form_field *mu = form_get(&f, "media_url");
            if (mu && mu->len) {
                json_t *note =
                    json_pack("{s:s, s:s+}", "action", "comment", "note", "media_url: ", mu->value);
                if (reports_act(c->d->reports, code, note, &actor, &e))
                    log_write(LOG_WARN, "open311.media_url_not_kept", "code=%s msg=\"%s\"", code,
                              e.message);
                json_decref(note);
            }
            json_t *cat = category(c, json_string_value(json_object_get(in, "category")));
            json_t *doc = json_pack("{s:s, s:s, s:o, s:n}", "service_request_id", code, "token",
                                    token, "service_notice", service_notice(cat), "account_id");
            public_token_attach(doc, code, token); /* the citizen's token, once */
            respond_list(c, 200, json_pack("[o]", doc));
        }
    }
    json_decref(in);
    form_free(&f);
}

static void post_job_free(post_job *j)
{
    json_decref(j->c.categories);
    free(j->content_type);
    free(j->query_key);
    free(j);
}

static void post_done(void *job, http_response *res, http_pending *p, bool ran)
{
    post_job *j = job;
    (void)res;
    if (ran && p && j->who_known)
        auth_pending_caller(p, &j->who); /* the audit names the account */
    post_job_free(j);
}

/* POST requests.{fmt}: everything on the thread pool, since the api_key
 * and the media are in the body (up to 26.9 MiB of multipart). */
static void request_post(call *c)
{
    post_job *j = calloc(1, sizeof *j);
    const char *ct = http_request_header(c->req, "content-type");
    const char *qk = http_request_query_param(c->req, "api_key");
    if (j) {
        j->c = (call){.d = c->d, .fmt = c->fmt};
        j->content_type = ct ? strdup(ct) : NULL;
        j->query_key = qk ? strdup(qk) : NULL;
    }
    if (!j || (ct && !j->content_type) || (qk && !j->query_key)) {
        if (j)
            post_job_free(j);
        open311_error(c->res, 503, c->fmt, "the node is out of memory; retry later");
        return;
    }
    offload_request(c->req, c->res, &(offload_task){c->d->node->loop, j, post_work, post_done});
}

/* ---- routing ------------------------------------------------------------------ */

static bool method_is(const http_request *req, const char *m)
{
    return !strcmp(req->method, m) || (!strcmp(m, "GET") && !strcmp(req->method, "HEAD"));
}

void open311_handle(void *ctx, const http_request *req, http_response *res)
{
    call c = {.d = ctx, .req = req, .res = res, .fmt = OPEN311_JSON};
    const char *p = req->path + strlen(OPEN311_PREFIX) - 1;
    p += *p == '/';
    const char *dot = strrchr(p, '.');
    char name[REPORT_CODE_MAX + 16];
    size_t n = dot ? (size_t)(dot - p) : 0;
    if (dot && !strcmp(dot, ".xml"))
        c.fmt = OPEN311_XML;
    if (!dot || (strcmp(dot, ".xml") && strcmp(dot, ".json")) || n >= sizeof name) {
        open311_error(res, 404, OPEN311_JSON,
                      "no Open311 resource at %s; end the path with .json or .xml, e.g. "
                      "%sservices.json",
                      req->path, OPEN311_PREFIX);
        return;
    }
    memcpy(name, p, n);
    name[n] = 0;
    bool is_list = !strcmp(name, "requests");
    const char *allow = is_list ? "GET, POST" : "GET";
    if (!method_is(req, "GET") && !(is_list && method_is(req, "POST"))) {
        http_response_header(res, "Allow", allow);
        open311_error(res, 405, c.fmt, "%s is not allowed on %s; use %s", req->method, req->path,
                      allow);
        return;
    }
    if (!strcmp(name, "services"))
        services(&c);
    else if (!strncmp(name, "services/", 9) && name[9] && !strchr(name + 9, '/'))
        service_definition(&c, name + 9);
    else if (is_list && method_is(req, "POST"))
        request_post(&c);
    else if (is_list)
        requests_list(&c);
    else if (!strncmp(name, "requests/", 9) && name[9] && !strchr(name + 9, '/'))
        request_one(&c, name + 9, false);
    else if (!strncmp(name, "tokens/", 7) && name[7] && !strchr(name + 7, '/'))
        request_one(&c, name + 7, true);
    else
        open311_error(res, 404, c.fmt,
                      "no Open311 resource at %s; the resources are services, "
                      "services/{code}, requests, requests/{id} and tokens/{token}",
                      req->path);
    json_decref(c.categories);
}
