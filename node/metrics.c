/*
 * metrics.c - the Prometheus text of a node. See metrics.h.
 *
 * A scrape is one deferred answer: the handler writes what lives on the
 * loop (HTTP counters, links, gauges) into a buffer, the thread pool adds
 * what it reads from the store and the disk, and the answer goes out.
 */
#include "node/metrics.h"
#include "node/http/offload.h"
#include "node/links/repl_link.h"
#include "node/people/auth.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#define METRICS_SERIES_MAX 256 /* (route, method, status) triples */
#define METRICS_ROUTES_MAX 96  /* latency histograms */
#define METRICS_COLLS_MAX 64   /* collections counted */
#define METRICS_GAUGES_MAX 8
#define METRICS_NAME_MAX 64

static const double BUCKETS[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define NBUCKETS (sizeof BUCKETS / sizeof *BUCKETS)

typedef struct {
    char route[METRICS_NAME_MAX];
    char method[16];
    int status;
    uint64_t count;
} http_series;

typedef struct {
    char route[METRICS_NAME_MAX];
    uint64_t buckets[NBUCKETS]; /* cumulative on output, per bucket here */
    uint64_t count;
    double sum;
} latency_series;

typedef struct {
    char name[METRICS_NAME_MAX];
    uint64_t count;
} coll_count;

typedef struct {
    const char *name, *help;
    metrics_gauge_fn fn;
    void *ctx;
} gauge;

struct metrics {
    node_env *env;
    http_series http[METRICS_SERIES_MAX];
    size_t nhttp;
    uint64_t http_dropped; /* answers past METRICS_SERIES_MAX series */
    latency_series lat[METRICS_ROUTES_MAX];
    size_t nlat;
    gauge gauges[METRICS_GAUGES_MAX];
    size_t ngauges;
    pthread_mutex_t lock; /* applied counters: scrapes run on pool threads */
    uint64_t arrival_pos;
    coll_count applied[METRICS_COLLS_MAX];
    size_t napplied;
};

metrics *metrics_new(node_env *env)
{
    metrics *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->env = env;
    pthread_mutex_init(&m->lock, NULL);
    m->arrival_pos = store_arrival_last(env->store);
    return m;
}

void metrics_free(metrics *m)
{
    if (!m)
        return;
    pthread_mutex_destroy(&m->lock);
    free(m);
}

void metrics_add_gauge(metrics *m, const char *name, const char *help, metrics_gauge_fn fn,
                       void *ctx)
{
    if (m && m->ngauges < METRICS_GAUGES_MAX)
        m->gauges[m->ngauges++] = (gauge){name, help, fn, ctx};
}

static latency_series *latency_of(metrics *m, const char *route)
{
    for (size_t i = 0; i < m->nlat; i++)
        if (!strcmp(m->lat[i].route, route))
            return &m->lat[i];
    if (m->nlat == METRICS_ROUTES_MAX)
        return NULL;
    latency_series *l = &m->lat[m->nlat++];
    snprintf(l->route, sizeof l->route, "%s", route);
    return l;
}

static http_series *series_of(metrics *m, const char *route, const char *method, int status)
{
    for (size_t i = 0; i < m->nhttp; i++) {
        http_series *h = &m->http[i];
        if (h->status == status && !strcmp(h->route, route) && !strcmp(h->method, method))
            return h;
    }
    if (m->nhttp == METRICS_SERIES_MAX)
        return NULL;
    http_series *h = &m->http[m->nhttp++];
    snprintf(h->route, sizeof h->route, "%s", route);
    snprintf(h->method, sizeof h->method, "%s", method);
    h->status = status;
    return h;
}

void metrics_observe(metrics *m, const http_request *req, const http_response *res)
{
    const char *route = http_request_route(req);
    route = route ? route : "none";
    http_series *h = series_of(m, route, req->method, res->status);
    if (h)
        h->count++;
    else
        m->http_dropped++;
    latency_series *l = latency_of(m, route);
    if (!l)
        return;
    double secs = (double)(uv_hrtime() - http_request_started_ns(req)) / 1e9;
    size_t b = 0;
    while (b < NBUCKETS && secs > BUCKETS[b])
        b++;
    if (b < NBUCKETS)
        l->buckets[b]++;
    l->count++;
    l->sum += secs;
}

/* A label value with \, " and newlines escaped. */
static void label(FILE *f, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            fputc('\\', f);
        if (*v == '\n')
            fputs("\\n", f);
        else
            fputc(*v, f);
    }
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP lienthong_%s %s\n# TYPE lienthong_%s %s\n", name, help, name, type);
}

static void render_http(const metrics *m, FILE *f)
{
    head(f, "http_requests_total", "counter",
         "HTTP answers by route (path prefix), method and status.");
    for (size_t i = 0; i < m->nhttp; i++) {
        fputs("lienthong_http_requests_total{route=\"", f);
        label(f, m->http[i].route);
        fprintf(f, "\",method=\"%s\",status=\"%d\"} %llu\n", m->http[i].method, m->http[i].status,
                (unsigned long long)m->http[i].count);
    }
    head(f, "http_request_duration_seconds", "histogram",
         "Time from a request's head to its answer, by route.");
    for (size_t i = 0; i < m->nlat; i++) {
        const latency_series *l = &m->lat[i];
        uint64_t cum = 0;
        for (size_t b = 0; b <= NBUCKETS; b++) {
            cum += b < NBUCKETS ? l->buckets[b] : 0;
            fputs("lienthong_http_request_duration_seconds_bucket{route=\"", f);
            label(f, l->route);
            if (b < NBUCKETS)
                fprintf(f, "\",le=\"%g\"} %llu\n", BUCKETS[b], (unsigned long long)cum);
            else
                fprintf(f, "\",le=\"+Inf\"} %llu\n", (unsigned long long)l->count);
        }
        fputs("lienthong_http_request_duration_seconds_sum{route=\"", f);
        label(f, l->route);
        fprintf(f, "\"} %.6f\nlienthong_http_request_duration_seconds_count{route=\"", l->sum);
        label(f, l->route);
        fprintf(f, "\"} %llu\n", (unsigned long long)l->count);
    }
}

static long long json_int_or(json_t *o, const char *k, long long dflt)
{
    json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

/* The labels of link l (one entry of the links status): peer="UNIT",
 * address="URL or remote address", without the closing quote. */
static void link_labels(FILE *f, json_t *l)
{
    const char *peer = json_string_value(json_object_get(l, "peer_unit"));
    const char *url = json_string_value(json_object_get(l, "url"));
    const char *remote = json_string_value(json_object_get(l, "remote"));
    fputs("{peer=\"", f);
    label(f, peer ? peer : "");
    fputs("\",address=\"", f);
    label(f, url ? url : remote ? remote : "");
}

/* One sample per link of a links-status field, labelled by peer. */
static void render_link_field(FILE *f, json_t *links, const char *field, const char *metric)
{
    size_t i;
    json_t *l;
    json_array_foreach(links, i, l)
    {
        long long v = json_int_or(l, field, -1);
        if (v < 0)
            continue; /* unknown while the link is not open */
        fprintf(f, "lienthong_%s", metric);
        link_labels(f, l);
        fprintf(f, "\"} %lld\n", v);
    }
}

static void render_links(const metrics *m, FILE *f)
{
    json_t *st = m->env->links ? repl_links_status(m->env->links) : NULL;
    json_t *links = json_object_get(st, "links");
    head(f, "replication_link_up", "gauge", "1 when the link to the peer is open, else 0.");
    size_t i;
    json_t *l;
    json_array_foreach(links, i, l)
    {
        const char *state = json_string_value(json_object_get(l, "state"));
        fputs("lienthong_replication_link_up", f);
        link_labels(f, l);
        fputs("\",state=\"", f);
        label(f, state ? state : "");
        fprintf(f, "\"} %d\n", json_is_true(json_object_get(l, "connected")));
    }
    head(f, "replication_lag_entries", "gauge",
         "Entries this node still has to send to the peer (its replication lag).");
    render_link_field(f, links, "entries_to_send", "replication_lag_entries");
    head(f, "replication_receive_backlog_entries", "gauge",
         "Entries the peer said it still has to send to this node.");
    render_link_field(f, links, "entries_to_receive", "replication_receive_backlog_entries");
    head(f, "replication_entries_sent_total", "counter", "Entries sent to the peer.");
    render_link_field(f, links, "entries_sent", "replication_entries_sent_total");
    head(f, "replication_entries_received_total", "counter", "Entries received from the peer.");
    render_link_field(f, links, "entries_received", "replication_entries_received_total");
    json_decref(st);
}

static void render_loop_part(const metrics *m, FILE *f)
{
    render_http(m, f);
    render_links(m, f);
    head(f, "threadpool_tasks", "gauge",
         "HTTP requests queued on or running in the thread pool (waiting work).");
    fprintf(f, "lienthong_threadpool_tasks %zu\n", offload_in_flight());
    head(f, "uptime_seconds", "gauge", "Seconds since the node started.");
    fprintf(f, "lienthong_uptime_seconds %.3f\n",
            (double)(uv_now(m->env->loop) - m->env->started_ms) / 1000.0);
    for (size_t i = 0; i < m->ngauges; i++) {
        head(f, m->gauges[i].name, "gauge", m->gauges[i].help);
        fprintf(f, "lienthong_%s %g\n", m->gauges[i].name, m->gauges[i].fn(m->gauges[i].ctx));
    }
}

/* ---- the store part, on the thread pool -------------------------------- */

static void coll_add(coll_count *c, size_t *n, const msgpack_object_str *name)
{
    for (size_t i = 0; i < *n; i++)
        if (strlen(c[i].name) == name->size && !memcmp(c[i].name, name->ptr, name->size)) {
            c[i].count++;
            return;
        }
    if (*n == METRICS_COLLS_MAX || name->size >= METRICS_NAME_MAX)
        return;
    snprintf(c[*n].name, METRICS_NAME_MAX, "%.*s", (int)name->size, name->ptr);
    c[(*n)++].count = 1;
}

static int count_arrival(void *ctx, uint64_t pos, const uint8_t *bytes, size_t len)
{
    metrics *m = ctx;
    entry_view e;
    m->arrival_pos = pos;
    if (entry_decode(bytes, len, &e, NULL, 0))
        return 0;
    coll_add(m->applied, &m->napplied, &e.coll);
    entry_view_free(&e);
    return 0;
}

typedef struct {
    coll_count c[METRICS_COLLS_MAX];
    size_t n;
} coll_counts;

static int count_refused(void *ctx, const store_quarantined *q)
{
    coll_counts *cc = ctx;
    entry_view e;
    if (entry_decode(q->bytes, q->len, &e, NULL, 0))
        return 0;
    coll_add(cc->c, &cc->n, &e.coll);
    entry_view_free(&e);
    return 0;
}

static void render_colls(FILE *f, const char *name, const coll_count *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "lienthong_%s{collection=\"", name);
        label(f, c[i].name);
        fprintf(f, "\"} %llu\n", (unsigned long long)c[i].count);
    }
}

static void render_entries(metrics *m, FILE *f)
{
    pthread_mutex_lock(&m->lock);
    store_arrivals(m->env->store, m->arrival_pos, count_arrival, m);
    head(f, "entries_applied_total", "counter",
         "Entries added to the store since the node started (written here or replicated), by "
         "collection.");
    render_colls(f, "entries_applied_total", m->applied, m->napplied);
    pthread_mutex_unlock(&m->lock);
    coll_counts *refused = calloc(1, sizeof *refused);
    if (refused)
        store_quarantine_scan(m->env->store, count_refused, refused);
    head(f, "entries_refused", "gauge",
         "Entries refused on write authority and held in quarantine, by collection.");
    if (refused)
        render_colls(f, "entries_refused", refused->c, refused->n);
    free(refused);
    head(f, "entries", "gauge", "Entries held in the store (all origins).");
    fprintf(f, "lienthong_entries %llu\n", (unsigned long long)store_entry_count(m->env->store));
}

static void render_disk(metrics *m, FILE *f)
{
    char path[NODE_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/data/data.mdb", m->env->config->dir);
    struct stat sb;
    head(f, "lmdb_map_size_bytes", "gauge",
         "Size of the LMDB memory map (it doubles when full, disk permitting).");
    fprintf(f, "lienthong_lmdb_map_size_bytes %zu\n", store_map_size(m->env->store));
    head(f, "lmdb_used_bytes", "gauge", "Bytes of the LMDB file in use (its high-water mark).");
    fprintf(f, "lienthong_lmdb_used_bytes %lld\n", stat(path, &sb) ? 0LL : (long long)sb.st_size);
    struct statvfs vs;
    snprintf(path, sizeof path, "%s/data", m->env->config->dir);
    if (statvfs(path, &vs) == 0) {
        head(f, "disk_free_bytes", "gauge", "Free bytes on the disk of the data directory.");
        fprintf(f, "lienthong_disk_free_bytes %llu\n",
                (unsigned long long)vs.f_bavail * vs.f_frsize);
        head(f, "disk_size_bytes", "gauge", "Size of the disk of the data directory.");
        fprintf(f, "lienthong_disk_size_bytes %llu\n",
                (unsigned long long)vs.f_blocks * vs.f_frsize);
    }
}

/* The group commit of the store (storage/store.h): commits and how many
 * writes each served, as a histogram. */
static void render_commits(metrics *m, FILE *f)
{
    store_commit_stats st;
    store_commit_stats_get(m->env->store, &st);
    head(f, "store_commits_total", "counter",
         "LMDB write transactions this node committed (one fsync each) since it started.");
    fprintf(f, "lienthong_store_commits_total %llu\n", (unsigned long long)st.commits);
    head(f, "store_writes_per_commit", "histogram",
         "Writes (local writes, applied batches, node-local rows) served by one commit.");
    uint64_t cum = 0;
    for (size_t i = 0; i < STORE_GROUP_BUCKETS; i++) {
        cum += st.per_commit[i];
        if (i + 1 < STORE_GROUP_BUCKETS)
            fprintf(f, "lienthong_store_writes_per_commit_bucket{le=\"%llu\"} %llu\n",
                    (unsigned long long)store_group_bucket_le(i), (unsigned long long)cum);
        else
            fprintf(f, "lienthong_store_writes_per_commit_bucket{le=\"+Inf\"} %llu\n",
                    (unsigned long long)cum);
    }
    fprintf(f, "lienthong_store_writes_per_commit_sum %llu\n", (unsigned long long)st.writes);
    fprintf(f, "lienthong_store_writes_per_commit_count %llu\n", (unsigned long long)st.commits);
}

typedef struct {
    metrics *m;
    char *text; /* the loop part */
    size_t len;
} scrape;

static void scrape_work(void *job, const uint8_t *body, size_t body_len, http_response *res)
{
    scrape *sc = job;
    (void)body;
    (void)body_len;
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (!f) {
        http_respond_error(res, 503, "the node is out of memory; retry later");
        return;
    }
    fwrite(sc->text, 1, sc->len, f);
    render_entries(sc->m, f);
    render_disk(sc->m, f);
    render_commits(sc->m, f);
    fclose(f);
    res->status = 200;
    res->content_type = "text/plain; version=0.0.4; charset=utf-8";
    res->body = out;
    res->body_len = len;
}

static void scrape_done(void *job, http_response *res, http_pending *p, bool ran)
{
    scrape *sc = job;
    (void)res;
    (void)p;
    (void)ran;
    free(sc->text);
    free(sc);
}

static void metrics_scrape(metrics *m, const http_request *req, http_response *res)
{
    scrape *sc = calloc(1, sizeof *sc);
    FILE *f = sc ? open_memstream(&sc->text, &sc->len) : NULL;
    if (!f) {
        free(sc);
        http_respond_error(res, 503, "the node is out of memory; retry later");
        return;
    }
    sc->m = m;
    render_loop_part(m, f);
    fclose(f);
    offload_request(req, res, &(offload_task){m->env->loop, sc, scrape_work, scrape_done});
}

void metrics_api_admin(void *ctx, const http_request *req, http_response *res)
{
    metrics *m = ctx;
    if (!http_path_exact(req, res, "/metrics", "GET /metrics is the only path here") ||
        auth_require_node_admin(m->env->auth, req, res, NULL))
        return;
    metrics_scrape(m, req, res);
}

void metrics_api_open(void *ctx, const http_request *req, http_response *res)
{
    if (http_path_exact(req, res, "/metrics", "GET /metrics is the only path here"))
        metrics_scrape(ctx, req, res);
}
