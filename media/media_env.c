/*
 * media_env.c - the cameras domain's HTTP handlers (media_env.h).
 * Handlers authenticate, check the caller's unit against the camera's and
 * map to media.h; a snapshot opens the stream on the thread pool
 * (node/http/offload.h), never on the loop.
 */
#include "media/media_env.h"
#include "media/av_log.h"
#include "media/cam_csv_env.h"
#include "media/clip.h"
#include "media/events.h"
#include "media/media.h"
#include "media/probe.h"
#include "media/prober.h"
#include "node/http/offload.h"
#include "node/people/auth.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PREFIX "/api/v1/cameras"

static void *link_open(void *ctx, const char *name, link_sink *sink, char *why, size_t cap);
static void link_close(void *ctx, void *handle);

media_env *media_env_new(node_env *env)
{
    media_env *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->node = env;
    atomic_init(&e->snapshots, 0);
    media_av_log_route();
    if (!(e->live = media_live_new(env->loop, env->links))) {
        free(e);
        return NULL;
    }
    if (env->links)
        repl_links_set_source(env->links, &(link_source_ops){link_open, link_close}, e);
    return e;
}

int media_env_start(media_env *e, unsigned probe_interval_s, char *err, size_t errlen)
{
    e->prober =
        media_prober_start(e->node->loop, e->node->store, e->node->config, probe_interval_s);
    if (!e->prober) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    e->recorder = media_recorder_start(e->node->loop, e->node->store, e->node->config, err, errlen);
    return e->recorder ? 0 : -1;
}

void media_env_free(media_env *e)
{
    if (!e)
        return;
    media_prober_stop(e->prober);
    media_recorder_stop(e->recorder);
    media_live_stop(e->live);
    free(e);
}

static bool within(media_env *d, const char *unit, const char *anc)
{
    return unit_tree_within(auth_tree(d->node->auth), unit, strlen(unit), anc, strlen(anc));
}

/* The unit a query is about: ?unit= or the caller's; NULL (403 answered)
 * outside the caller's subtree. */
static const char *query_unit(media_env *d, const http_request *req, const auth_caller *c,
                              http_response *res)
{
    const char *u = http_request_query_param(req, "unit");
    if (!u || !*u)
        u = c->unit;
    if (strcmp(u, c->unit) && !within(d, u, c->unit)) {
        http_respond_code(res, 403, "camera.forbidden",
                          "a user of unit %s sees the cameras of %s and the units below it, not "
                          "of %.40s",
                          c->unit, c->unit, u);
        return NULL;
    }
    return u;
}

/* Answers j (200), or e when j is NULL. */
static void answer(http_response *res, json_t *j, const lt_error *e)
{
    if (j)
        http_respond_json(res, 200, j);
    else
        http_respond_lt(res, e);
}

/* ?limit as 1..max (absent: dflt); false after answering 400. */
static bool limit_parse(const http_request *req, long max, long dflt, size_t *limit,
                        http_response *res)
{
    const char *l = http_request_query_param(req, "limit");
    char *end = NULL;
    long v = l && *l ? strtol(l, &end, 10) : dflt;
    if (l && *l && (*end || v < 1 || v > max)) {
        http_respond_code(res, 400, "camera.invalid", "limit must be 1 to %ld, not %.20s", max, l);
        return false;
    }
    *limit = (size_t)v;
    return true;
}

static void list_get(void *ctx, const http_request *req, http_response *res)
{
    media_env *d = ctx;
    auth_caller c;
    if (auth_require(d->node->auth, req, res, ROLE_VIEWER, &c))
        return;
    const char *unit = query_unit(d, req, &c, res);
    if (!unit)
        return;
    const char *field = http_request_query_param(req, "field");
    const char *status = http_request_query_param(req, "status");
    cam_list_query q = {unit, field && *field ? field : NULL, status && *status ? status : NULL,
                        http_request_query_param(req, "cursor"), 0};
    if (cam_csv_answer(d, &q, req, res))
        return;
    if (!limit_parse(req, CAMERA_LIST_MAX, 0, &q.limit, res))
        return;
    lt_error e = {0};
    answer(res, cameras_list(d->node->store, &q, &e), &e);
}

static void stats_get(void *ctx, const http_request *req, http_response *res)
{
    media_env *d = ctx;
    auth_caller c;
    if (auth_require(d->node->auth, req, res, ROLE_VIEWER, &c))
        return;
    const char *by = http_request_query_param(req, "by");
    if (by && *by && strcmp(by, "field") && strcmp(by, "child")) {
        http_respond_code(res, 400, "camera.invalid", "by must be field or child, not %.20s", by);
        return;
    }
    const char *unit = query_unit(d, req, &c, res);
    if (!unit)
        return;
    lt_error e = {0};
    answer(res, cameras_stats(d->node->store, unit, by && !strcmp(by, "child"), &e), &e);
}

/* Camera id as the caller may see it; NULL after answering 404/403. */
static json_t *camera_visible(media_env *d, const auth_caller *c, const char *id,
                              http_response *res)
{
    lt_error e = {0};
    json_t *j = camera_get(d->node->store, id, &e);
    const char *unit = json_string_value(json_object_get(j, "unit"));
    if (!j) {
        http_respond_lt(res, &e);
        return NULL;
    }
    if (!unit || (strcmp(unit, c->unit) && !within(d, unit, c->unit))) {
        json_decref(j);
        http_respond_code(res, 404, "camera.not_found", "no camera %.64s in unit %s or below it",
                          id, c->unit);
        return NULL;
    }
    return j;
}

static void camera_put(media_env *d, const http_request *req, const char *id, http_response *res)
{
    json_error_t je;
    json_t *in = json_loadb((const char *)req->body, req->body_len, 0, &je);
    if (!json_is_object(in)) {
        json_decref(in);
        http_respond_code(res, 400, "camera.invalid", "the body must be a JSON object (%s)",
                          je.text);
        return;
    }
    lt_error e = {0};
    json_t *fields;
    char userinfo[1][256];
    char *ids[1] = {(char *)id};
    size_t written, unchanged;
    int rc = camera_check(id, in, &fields, userinfo[0], &e);
    json_decref(in);
    if (!rc)
        rc = cameras_put(d->node->store, d->node->config, auth_tree(d->node->auth), ids, &fields,
                         userinfo, 1, &written, &unchanged, &e);
    json_decref(fields);
    answer(res, rc ? NULL : camera_get(d->node->store, id, &e), &e);
}

static void camera_del(media_env *d, const char *id, http_response *res)
{
    lt_error e = {0};
    if (camera_delete(d->node->store, d->node->config, id, &e))
        http_respond_lt(res, &e);
    else
        http_respond_json(res, 200, json_pack("{s:s, s:b}", "id", id, "deleted", 1));
}

static void jpeg_respond(http_response *res, uint8_t *jpeg, size_t len, const char *cache)
{
    res->status = 200;
    res->content_type = "image/jpeg";
    res->body = (char *)jpeg;
    res->body_len = len;
    http_response_header(res, "Cache-Control", cache);
}

static void thumbnail_get(media_env *d, const char *id, http_response *res)
{
    uint8_t *jpeg;
    size_t len;
    uint64_t at;
    int rc = media_thumb_get(d->node->store, id, &jpeg, &len, &at);
    if (rc) {
        http_respond_code(res, rc < 0 ? 500 : 404, rc < 0 ? NULL : "camera.no_picture",
                          rc < 0 ? "cannot read the thumbnail; check the node's log"
                                 : "this node holds no thumbnail of camera %.64s yet: the owning "
                                   "node makes one when the camera answers",
                          id);
        return;
    }
    char at_s[32];
    snprintf(at_s, sizeof at_s, "%llu", (unsigned long long)at);
    jpeg_respond(res, jpeg, len, "private, max-age=60");
    http_response_header(res, "X-Picture-At", at_s);
}

/* A snapshot on the thread pool. */
typedef struct {
    media_env *d;
    char url[CAMERA_URL_MAX + 256];
    bool file;
} snap_job;

static void snap_work(void *job, const uint8_t *body, size_t len, http_response *res)
{
    snap_job *j = job;
    probe_opts o = {PROBE_TIMEOUT_MS, PROBE_TIMEOUT_MS, j->file, 0, 0, NULL};
    probe_result r;
    probe_run(j->url, &o, &r);
    if (r.jpeg)
        jpeg_respond(res, r.jpeg, r.jpeg_len, "no-store");
    else
        http_respond_code(res, 502, "camera.unreachable",
                          "the camera gave no picture (%s): %s; check its address and network",
                          r.status, r.reason);
}

static void snap_done(void *job, http_response *res, http_pending *p, bool ran)
{
    snap_job *j = job;
    atomic_fetch_sub(&j->d->snapshots, 1);
    free(j);
}

static void snapshot_get(media_env *d, const http_request *req, const char *id, const json_t *cam,
                         http_response *res)
{
    const char *unit = json_string_value(json_object_get(cam, "unit"));
    snap_job *j = malloc(sizeof *j);
    bool enabled = false;
    if (!j) {
        http_respond_error(res, 503, "the node is out of memory; retry later");
        return;
    }
    j->d = d;
    if (camera_stream_url(d->node->store, d->node->config, id, j->url, sizeof j->url, &enabled)) {
        free(j);
        http_respond_code(res, 409, "camera.not_owner",
                          "camera %.64s belongs to unit %s: its node makes the snapshots; this "
                          "node shows its thumbnail (thumbnail.jpg)",
                          id, unit ? unit : "?");
        return;
    }
    if (atomic_fetch_add(&d->snapshots, 1) >= MEDIA_SNAPSHOTS_MAX) {
        atomic_fetch_sub(&d->snapshots, 1);
        free(j);
        http_respond_code(res, 503, "camera.busy",
                          "%d snapshots are being made on this node; retry in a few seconds",
                          MEDIA_SNAPSHOTS_MAX);
        return;
    }
    j->file = !strncmp(j->url, "file:", 5);
    offload_request(req, res, &(offload_task){d->node->loop, j, snap_work, snap_done});
}

/* The source of camera id's live view on this node into *src (path and url
 * backed by p and url): the stream itself on the owner, else the owner's
 * path for the link below. Returns 0, or -1 when the record has no owner. */
static int live_source_of(media_env *d, const char *id, const json_t *cam, live_source *src,
                          char (*p)[NODE_CODE_MAX], char *url, size_t cap)
{
    bool enabled;
    *src = (live_source){id, NULL, p, 0};
    if (!camera_stream_url(d->node->store, d->node->config, id, url, cap, &enabled)) {
        src->url = url;
        return 0;
    }
    size_t i;
    json_t *u;
    json_array_foreach(json_object_get(cam, "path"), i,
                       u) if (json_is_string(u) && src->npath < CAMERA_PATH_MAX)
        snprintf(p[src->npath++], NODE_CODE_MAX, "%s", json_string_value(u));
    return src->npath ? 0 : -1;
}

static void live_get(media_env *d, const http_request *req, const char *id, const json_t *cam,
                     http_response *res)
{
    char url[CAMERA_URL_MAX + 256], path[CAMERA_PATH_MAX][NODE_CODE_MAX];
    live_source src;
    if (live_source_of(d, id, cam, &src, path, url, sizeof url)) {
        http_respond_code(res, 502, "camera.unreachable",
                          "camera %.64s has no owning unit this node knows of; it cannot be "
                          "watched live from here",
                          id);
        return;
    }
    media_live_join(d->live, req, res, &src);
}

/* The node above asks for camera name's live view (link_source_ops). */
static void *link_open(void *ctx, const char *name, link_sink *sink, char *why, size_t cap)
{
    media_env *d = ctx;
    lt_error e = {0};
    json_t *cam = camera_get(d->node->store, name, &e);
    char url[CAMERA_URL_MAX + 256], path[CAMERA_PATH_MAX][NODE_CODE_MAX];
    live_source src;
    void *h = NULL;
    if (!cam)
        snprintf(why, cap, "no camera %.64s on the node of unit %s", name, d->node->config->unit);
    else if (live_source_of(d, name, cam, &src, path, url, sizeof url))
        snprintf(why, cap, "camera %.64s has no owning unit", name);
    else
        h = media_live_sink_open(d->live, &src, sink, why, cap);
    json_decref(cam);
    return h;
}

static void link_close(void *ctx, void *handle)
{
    media_env *d = ctx;
    media_live_sink_close(d->live, handle);
}

/* ?from and ?to as ms (absent: the whole range); false after answering 400. */
static bool span_parse(const http_request *req, uint64_t *from, uint64_t *to, http_response *res)
{
    const char *f = http_request_query_param(req, "from"), *t = http_request_query_param(req, "to");
    char *end = NULL;
    *from = 0;
    *to = UINT64_MAX;
    if (f && *f && ((*from = strtoull(f, &end, 10)), *end))
        goto bad;
    if (t && *t && ((*to = strtoull(t, &end, 10)), *end))
        goto bad;
    return true;
bad:
    http_respond_code(res, 400, "camera.invalid",
                      "from and to are times in milliseconds since 1970 (UTC)");
    return false;
}

static void recordings_get(media_env *d, const http_request *req, const char *id,
                           http_response *res)
{
    uint64_t from, to;
    if (!span_parse(req, &from, &to, res))
        return;
    lt_error e = {0};
    answer(res, recordings_list(d->node->store, id, from, to, &e), &e);
}

static void clip_get(media_env *d, const http_request *req, const char *id, http_response *res)
{
    uint64_t from, to;
    if (span_parse(req, &from, &to, res))
        media_clip_serve(d->node->loop, d->node->store, req, res, id, from, to, &d->clips);
}

static uint64_t wall_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Opens the field report an event asks for ("report": {"category", ...})
 * and links it; the event stays when this fails (*e says why). */
static int event_report(media_env *d, const auth_caller *c, const json_t *cam, const json_t *ev,
                        const json_t *want, char *code, size_t cap, lt_error *e)
{
    if (!d->report_open)
        return lt_error_set(e, LT_ECONFLICT, "camera.event_invalid",
                            "this node cannot open reports from events");
    char title[200];
    const char *plate = json_string_value(json_object_get(ev, "plate"));
    snprintf(title, sizeof title, "%s: %s%s%s", json_string_value(json_object_get(cam, "name")),
             json_string_value(json_object_get(ev, "type")), plate ? " " : "", plate ? plate : "");
    json_t *in = json_deep_copy(want);
    if (!json_object_get(in, "title"))
        json_object_set_new(in, "title", json_string(title));
    if (!json_object_get(in, "description")) {
        const char *desc = json_string_value(json_object_get(ev, "description"));
        char text[1400];
        snprintf(text, sizeof text, "%s (camera %s, event %s)%s%s", title,
                 json_string_value(json_object_get(cam, "id")),
                 json_string_value(json_object_get(ev, "id")), desc ? ": " : "", desc ? desc : "");
        json_object_set_new(in, "description", json_string(text));
    }
    const char *keys[] = {"lat", "lon", "unit"};
    for (int i = 0; i < 3; i++)
        if (!json_object_get(in, keys[i]) && json_object_get(cam, keys[i]))
            json_object_set(in, keys[i], json_object_get(cam, keys[i]));
    int rc = d->report_open(d->report_ctx, in, c, code, cap, e);
    json_decref(in);
    return rc ? -1
              : camera_event_set_report(d->node->store, d->node->config,
                                        json_string_value(json_object_get(ev, "id")), code, e);
}

/* POST /api/v1/cameras/{id}/events: a detector's event. */
static void event_post(media_env *d, const http_request *req, const auth_caller *c,
                       const json_t *cam, http_response *res)
{
    json_error_t je;
    json_t *in = json_loadb((const char *)req->body, req->body_len, 0, &je);
    json_t *want = json_object_get(in, "report");
    lt_error e = {0};
    char id[EVENT_ID_MAX], code[64] = "";
    if (want && !json_is_object(want)) {
        json_decref(in);
        http_respond_code(res, 400, "camera.event_invalid",
                          "report must be an object {\"category\": ...} (the report to open)");
        return;
    }
    if (camera_event_post(d->node->store, d->node->config, cam, in, wall_now_ms(), id, &e)) {
        json_decref(in);
        http_respond_lt(res, &e);
        return;
    }
    json_t *ev = camera_event_get(d->node->store, id, &e);
    lt_error re = {0};
    if (ev && want && !event_report(d, c, cam, ev, want, code, sizeof code, &re))
        json_object_set_new(ev, "report", json_string(code));
    else if (ev && want)
        json_object_set_new(
            ev, "report_error",
            json_pack("{s:s, s:s}", "code", re.code ? re.code : "internal", "message", re.message));
    json_decref(in);
    if (ev)
        http_respond_json(res, 201, ev);
    else
        http_respond_lt(res, &e);
}

static bool span_parse(const http_request *req, uint64_t *from, uint64_t *to, http_response *res);

/* The events of unit (and camera, when not NULL) as the query asks. */
static void events_answer(media_env *d, const http_request *req, const char *unit,
                          const char *camera, http_response *res)
{
    event_query q = {unit,
                     camera,
                     http_request_query_param(req, "type"),
                     http_request_query_param(req, "cursor"),
                     0,
                     0,
                     0};
    if (q.type && !*q.type)
        q.type = NULL;
    if (!span_parse(req, &q.from_ms, &q.to_ms, res) ||
        !limit_parse(req, EVENT_LIST_MAX, 100, &q.limit, res))
        return;
    lt_error e = {0};
    answer(res, camera_events_list(d->node->store, &q, &e), &e);
}

/* GET /api/v1/cameras/events?unit&camera&type&from&to&limit&cursor */
static void events_get(void *ctx, const http_request *req, http_response *res)
{
    media_env *d = ctx;
    auth_caller c;
    if (auth_require(d->node->auth, req, res, ROLE_VIEWER, &c))
        return;
    const char *unit = query_unit(d, req, &c, res);
    const char *cam = http_request_query_param(req, "camera");
    if (unit)
        events_answer(d, req, unit, cam && *cam ? cam : NULL, res);
}

static bool day_ok(const char *s)
{
    int y, m, dd;
    char tail;
    return s && strlen(s) == 10 && sscanf(s, "%4d-%2d-%2d%c", &y, &m, &dd, &tail) == 3 && m >= 1 &&
           m <= 12 && dd >= 1 && dd <= 31;
}

/* GET /api/v1/cameras/events/counts?unit&from&to (days, default today) */
static void counts_get(void *ctx, const http_request *req, http_response *res)
{
    media_env *d = ctx;
    auth_caller c;
    if (auth_require(d->node->auth, req, res, ROLE_VIEWER, &c))
        return;
    const char *unit = query_unit(d, req, &c, res);
    if (!unit)
        return;
    char today[11];
    event_day(wall_now_ms(), today);
    const char *from = http_request_query_param(req, "from"),
               *to = http_request_query_param(req, "to");
    from = from && *from ? from : today;
    to = to && *to ? to : from;
    if (!day_ok(from) || !day_ok(to)) {
        http_respond_code(res, 400, "camera.invalid",
                          "from and to must be days YYYY-MM-DD (Vietnam's date), not %.12s..%.12s",
                          from, to);
        return;
    }
    lt_error e = {0};
    answer(res, camera_events_counts(d->node->store, unit, from, to, &e), &e);
}

/* GET /api/v1/cameras/{id}/events/{event}/picture.jpg */
static void event_picture(media_env *d, const char *id, const char *rest, http_response *res)
{
    char eid[EVENT_ID_MAX];
    const char *slash = strchr(rest, '/');
    size_t n = slash ? (size_t)(slash - rest) : 0;
    uint8_t *jpeg = NULL;
    size_t len;
    lt_error e = {0};
    json_t *ev = NULL;
    if (slash && n < sizeof eid && !strcmp(slash, "/picture.jpg")) {
        snprintf(eid, sizeof eid, "%.*s", (int)n, rest);
        ev = camera_event_get(d->node->store, eid, &e);
    }
    const char *cam = json_string_value(json_object_get(ev, "camera"));
    if (!ev || !cam || strcmp(cam, id) ||
        media_record_bin(d->node->store, CAMERA_EVENT_COLL, eid, "picture", &jpeg, &len))
        http_respond_code(res, 404, "camera.no_picture",
                          "no picture of event %.40s of camera %.64s on this node", rest, id);
    else
        jpeg_respond(res, jpeg, len, "private, max-age=86400");
    json_decref(ev);
}

static void item(void *ctx, const http_request *req, http_response *res)
{
    media_env *d = ctx;
    auth_caller c;
    bool get = !strcmp(req->method, "GET") || !strcmp(req->method, "HEAD");
    bool put = !strcmp(req->method, "PUT"), del = !strcmp(req->method, "DELETE");
    char id[CAMERA_ID_MAX + EVENT_ID_MAX + 32];
    snprintf(id, sizeof id, "%s", req->path + strlen(PREFIX "/"));
    char *sub = strchr(id, '/');
    if (sub)
        *sub++ = '\0';
    bool post_event = !strcmp(req->method, "POST") && sub && !strcmp(sub, "events");
    int rc = get || post_event
                 ? auth_require(d->node->auth, req, res, post_event ? ROLE_STAFF : ROLE_VIEWER, &c)
                 : auth_require_node_admin(d->node->auth, req, res, &c);
    if (rc)
        return;
    if (put && !sub) {
        camera_put(d, req, id, res);
        return;
    }
    if (del && !sub) {
        camera_del(d, id, res);
        return;
    }
    if ((!get && !post_event) ||
        (sub && strcmp(sub, "snapshot.jpg") && strcmp(sub, "thumbnail.jpg") &&
         strcmp(sub, "live.mjpeg") && strcmp(sub, "recordings") && strcmp(sub, "clip.mp4") &&
         strcmp(sub, "events") && strncmp(sub, "events/", 7))) {
        http_respond_error(res, 405, "no %s at %s: see docs/media.md for the camera routes",
                           req->method, req->path);
        return;
    }
    json_t *cam = camera_visible(d, &c, id, res);
    if (!cam)
        return;
    if (!sub)
        http_respond_json(res, 200, json_incref(cam));
    else if (!strcmp(sub, "thumbnail.jpg"))
        thumbnail_get(d, id, res);
    else if (!strcmp(sub, "live.mjpeg"))
        live_get(d, req, id, cam, res);
    else if (!strcmp(sub, "recordings"))
        recordings_get(d, req, id, res);
    else if (!strcmp(sub, "clip.mp4"))
        clip_get(d, req, id, res);
    else if (post_event)
        event_post(d, req, &c, cam, res);
    else if (!strcmp(sub, "events"))
        events_answer(d, req, json_string_value(json_object_get(cam, "unit")), id, res);
    else if (!strncmp(sub, "events/", 7))
        event_picture(d, id, sub + 7, res);
    else
        snapshot_get(d, req, id, cam, res);
    json_decref(cam);
}

size_t media_env_routes(media_env *e, http_route *routes, size_t cap)
{
    const http_route all[] = {
        {"GET", PREFIX, list_get, e, 0},
        {"GET", PREFIX "/stats", stats_get, e, 0},
        {"GET", PREFIX "/events", events_get, e, 0},
        {"GET", PREFIX "/events/counts", counts_get, e, 0},
        {NULL, PREFIX "/", item, e, 0},
    };
    size_t n = sizeof all / sizeof *all;
    if (n > cap)
        n = cap;
    for (size_t i = 0; i < n; i++)
        routes[i] = all[i];
    return n;
}
