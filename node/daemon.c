/*
 * daemon.c - the node process: one libuv loop carrying the HTTP server, the
 * replication links, a store watcher and the signal handlers. See daemon.h.
 *
 * Shutdown: the first SIGINT/SIGTERM asks every replication link to close
 * (peers get "the node is shutting down" in the close frame) and stops the
 * loop once they have closed, or after SHUTDOWN_GRACE_MS; a second signal
 * stops it at once. Then daemon_shutdown(): the links' timers, the HTTP
 * server (lws closes what connections remain: their sessions end), our own
 * handles, the loop run dry, lws freed, the links freed, the loop closed;
 * the store is closed last.
 */
#include "node/daemon.h"
#include "lib/hex.h"
#include "lib/log.h"
#include "node/api.h"
#include "node/disk_guard.h"
#include "node/domains.h"
#include "node/events.h"
#include "node/http/http.h"
#include "node/http/redirect.h"
#include "node/links/repl_link.h"
#include "node/membership/unit_advertise.h"
#include "node/metrics.h"
#include "node/people/audit.h"
#include "node/people/auth.h"
#include "node/recovery.h"
#include "node/restore_gate.h"
#include "reports/reports_env.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define WATCH_INTERVAL_MS 250
#define DAEMON_ROUTES_MAX 128  /* every domain's routes and the node's */
#define SHUTDOWN_GRACE_MS 1000 /* for replication links to say goodbye */
#define GRACE_POLL_MS 20

typedef struct {
    node_daemon d;
    uv_loop_t loop;
    uv_signal_t sigint, sigterm, sighup;
    uv_timer_t watch, grace, sweep;
    uv_work_t sweep_work;
    bool sweeping; /* a sweep is on the thread pool */
    size_t swept;  /* escalations of the last sweep */
    char sweep_err[256];
    uint64_t grace_started;
    http_server *http;
    http_server *redirect;     /* --redirect-http: plain HTTP to HTTPS */
    int https_port;            /* the redirect handler's context */
    http_server *metrics_http; /* --metrics-listen, or NULL */
    metrics *metrics;
    audit_writer audit; /* the audit entries of HTTP answers */
    disk_guard guard;
    restore_gate restore; /* restored from a backup: writes held until caught up */
    bool stopping;
    uint64_t arrival_pushed; /* last arrival position the links were told of by a write */
    uv_async_t push;         /* daemon_push_writes, woken by the store's commits */
} daemon_state;

static unsigned camera_probe_s;
static const char *tls_cert_arg, *tls_key_arg;
static int redirect_port = -1;

void daemon_set_tls(const char *cert_file, const char *key_file)
{
    tls_cert_arg = cert_file;
    tls_key_arg = key_file;
}

void daemon_set_redirect_http(int port)
{
    redirect_port = port;
}

static const char *metrics_listen;
static const char *const *advertise_urls;
static size_t nadvertise;

void daemon_set_advertise(const char *const *urls, size_t n)
{
    advertise_urls = urls;
    nadvertise = n;
}

/* Keeps the advertised URLs in the unit's record (unit_advertise.h). */
static void daemon_advertise(const node_config *c, store *s)
{
    char err[512];
    if (!nadvertise)
        return;
    if (!c->enrolled)
        log_write(LOG_WARN, "node.advertise_skipped",
                  "reason=\"this node is not enrolled yet\" advice=\"enrol it, then restart "
                  "it with --advertise\"");
    else if (unit_advertise(s, c, advertise_urls, nadvertise, err, sizeof err))
        log_write(LOG_WARN, "node.advertise_failed", "error=\"%s\"", err);
    else
        log_write(LOG_INFO, "node.advertise", "unit=%s urls=%zu first=%s", c->unit, nadvertise,
                  advertise_urls[0]);
}

void daemon_set_metrics_listen(const char *listen)
{
    metrics_listen = listen;
}

/* After any commit of this process (the store's commit hook, on whichever
 * thread committed: a request's write on the pool, an audit batch, an
 * escalation, an applied batch): when the store gained entries, the links
 * push them now rather than at the store watch's next tick, up to
 * WATCH_INTERVAL_MS later. The watch still logs new entries and notices
 * other processes' writes. Runs on the loop. */
static void daemon_push_writes(uv_async_t *a)
{
    daemon_state *st = a->data;
    uint64_t last = store_arrival_last(st->d.env.store);
    if (last == st->arrival_pushed)
        return;
    st->arrival_pushed = last;
    repl_links_notify(st->d.env.links);
}

/* The store's commit hook: wakes daemon_push_writes on the loop (libuv
 * coalesces the wake-ups of one iteration). Any thread. */
static void daemon_committed(void *ctx)
{
    uv_async_send(ctx);
}

/* The server's observer: the audit trail, the metrics, and the links told
 * of what a write added. */
static void daemon_observe(void *ctx, const http_request *req, const http_response *res)
{
    daemon_state *st = ctx;
    audit_observe(&st->audit, req, res);
    metrics_observe(st->metrics, req, res);
}

/* The observer of the metrics address: its own requests are counted too. */
static void daemon_observe_metrics(void *ctx, const http_request *req, const http_response *res)
{
    metrics_observe(ctx, req, res);
}

/* The FFmpeg jobs of the cameras domain, as metrics gauges. */
static double gauge_probes(void *ctx)
{
    return (double)media_prober_running(((media_env *)ctx)->prober);
}

static double gauge_recordings(void *ctx)
{
    return (double)media_recorder_count(((media_env *)ctx)->recorder);
}

static double gauge_snapshots(void *ctx)
{
    return (double)atomic_load(&((media_env *)ctx)->snapshots);
}

static void daemon_media_gauges(metrics *m, media_env *e)
{
    metrics_add_gauge(m, "ffmpeg_probe_jobs", "Camera probes (FFmpeg) under way.", gauge_probes, e);
    metrics_add_gauge(m, "ffmpeg_recording_jobs",
                      "Cameras being recorded (one FFmpeg reader each).", gauge_recordings, e);
    metrics_add_gauge(m, "ffmpeg_snapshot_jobs", "Camera snapshots (FFmpeg) under way.",
                      gauge_snapshots, e);
}

/* GET /metrics without login on the address of --metrics-listen. Returns
 * 0 (also when not asked for), or -1 with err. */
static int daemon_metrics_server(daemon_state *st, char *err, size_t errlen)
{
    char host[128];
    int port;
    if (!metrics_listen)
        return 0;
    if (daemon_parse_listen(metrics_listen, host, sizeof host, &port, err, errlen))
        return -1;
    http_route r = {"GET", "/", metrics_api_open, st->metrics, 0};
    st->metrics_http = http_server_start(&st->loop, host, port, &r, 1, NULL, err, errlen);
    if (!st->metrics_http)
        return -1;
    http_server_observe(st->metrics_http, daemon_observe_metrics, st->metrics);
    log_write(LOG_INFO, "metrics.listening", "url=http://%s:%d/metrics", host,
              http_server_port(st->metrics_http));
    return 0;
}

void daemon_set_camera_probe_interval(unsigned seconds)
{
    camera_probe_s = seconds;
}

int daemon_parse_listen(const char *listen, char *host, size_t hostcap, int *port, char *err,
                        size_t errlen)
{
    const char *colon = strrchr(listen, ':');
    char *end;
    long p = colon ? strtol(colon + 1, &end, 10) : -1;
    if (!colon || colon == listen || (size_t)(colon - listen) >= hostcap || *end || p < 0 ||
        p > 65535 || colon[1] == '\0') {
        snprintf(err, errlen, "listen address \"%s\" must be HOST:PORT, e.g. 127.0.0.1:8080",
                 listen);
        return -1;
    }
    snprintf(host, hostcap, "%.*s", (int)(colon - listen), listen);
    *port = (int)p;
    return 0;
}

/* The server's gate: writes wait for a restored node's catch-up, then for
 * disk space. */
static bool daemon_gate(void *ctx, const http_request *req, http_response *res)
{
    daemon_state *st = ctx;
    return restore_gate_http(&st->restore, req, res) || disk_guard_gate(&st->guard, req, res);
}

/* Notices entries added to the store by other processes (import, bundle
 * import) or by the links, and tells the links; opens a restored node's
 * writes once it caught up. */
static void daemon_watch(uv_timer_t *t)
{
    daemon_state *st = t->data;
    events_tick(st->d.env.events);
    restore_gate_check(&st->restore, st->d.env.links);
    uint64_t last = store_arrival_last(st->d.env.store);
    if (last != st->d.arrival_seen) {
        log_write(LOG_INFO, "store.new_entries", "count=%llu arrival=%llu",
                  (unsigned long long)(last - st->d.arrival_seen), (unsigned long long)last);
        st->d.arrival_seen = last;
        repl_links_notify(st->d.env.links);
    }
}

/* The escalation sweep of overdue reports runs on the thread pool: it
 * reads every overdue report and writes one durable entry per escalation,
 * which after a long outage can be thousands. One sweep at a time. */
static void daemon_sweep_work(uv_work_t *w)
{
    daemon_state *st = w->data;
    lt_error e = {0};
    st->sweep_err[0] = '\0';
    if (reports_sweep(st->d.reports->reports, reports_now(st->d.reports->reports), &st->swept, &e))
        snprintf(st->sweep_err, sizeof st->sweep_err, "%s",
                 e.message[0] ? e.message : "the sweep failed");
}

static void daemon_sweep_done(uv_work_t *w, int status)
{
    daemon_state *st = w->data;
    st->sweeping = false;
    if (!status && st->sweep_err[0])
        log_write(LOG_WARN, "report.sweep", "error=\"%s\"", st->sweep_err);
}

static void daemon_sweep(uv_timer_t *t)
{
    daemon_state *st = t->data;
    if (st->sweeping || st->stopping)
        return;
    st->sweep_work.data = st;
    st->sweeping = !uv_queue_work(&st->loop, &st->sweep_work, daemon_sweep_work, daemon_sweep_done);
}

/* Stops the loop once the links have closed, or after the grace period. */
static void daemon_grace(uv_timer_t *t)
{
    daemon_state *st = t->data;
    if (!repl_links_open_count(st->d.env.links) ||
        uv_now(&st->loop) - st->grace_started >= SHUTDOWN_GRACE_MS)
        uv_stop(&st->loop);
}

static void daemon_on_signal(uv_signal_t *h, int signum)
{
    daemon_state *st = h->data;
    if (st->stopping) { /* a second signal: no more waiting */
        uv_stop(&st->loop);
        return;
    }
    st->stopping = true;
    log_write(LOG_INFO, "node.stopping", "signal=%s", signum == SIGINT ? "SIGINT" : "SIGTERM");
    if (!repl_links_close(st->d.env.links)) {
        uv_stop(&st->loop);
        return;
    }
    st->grace_started = uv_now(&st->loop);
    uv_timer_start(&st->grace, daemon_grace, GRACE_POLL_MS, GRACE_POLL_MS);
}

/* SIGHUP: serve the certificate and key files again (a renewed
 * certificate), keeping the node and its connections up. */
static void daemon_on_hup(uv_signal_t *h, int signum)
{
    daemon_state *st = h->data;
    char serial[128], err[512];
    (void)signum;
    if (!http_server_tls(st->http))
        log_write(LOG_INFO, "tls.reload_skipped",
                  "msg=\"SIGHUP: the node serves plain HTTP, no "
                  "certificate to reload\"");
    else if (http_server_tls_reload(st->http, serial, sizeof serial, err, sizeof err))
        log_write(LOG_ERROR, "tls.reload_failed",
                  "error=\"%s\" msg=\"the previous certificate stays in use\"", err);
    else
        log_write(LOG_INFO, "tls.reloaded", "serial=%s", serial);
}

static void daemon_shutdown(daemon_state *st)
{
    repl_links_stop(st->d.env.links);
    http_server_stop(st->http);
    http_server_stop(st->redirect);
    if (st->metrics_http)
        http_server_stop(st->metrics_http);
    media_env_free(st->d.media); /* its prober ends with the loop's run below */
    st->d.media = NULL;
    uv_close((uv_handle_t *)&st->sigint, NULL);
    uv_close((uv_handle_t *)&st->sigterm, NULL);
    uv_close((uv_handle_t *)&st->sighup, NULL);
    uv_close((uv_handle_t *)&st->watch, NULL);
    uv_close((uv_handle_t *)&st->grace, NULL);
    uv_close((uv_handle_t *)&st->sweep, NULL);
    store_set_commit_hook(st->d.env.store, NULL, NULL);
    uv_close((uv_handle_t *)&st->push, NULL);
    documents_env_stop(st->d.documents);
    while (uv_run(&st->loop, UV_RUN_DEFAULT) != 0) {
    }
    http_server_finish(st->http);
    http_server_finish(st->redirect);
    http_server_finish(st->metrics_http);
    metrics_free(st->metrics);
    st->metrics = NULL;
    repl_links_free(st->d.env.links);
    st->d.env.links = NULL;
    auth_free(st->d.env.auth); /* after the loop ran dry: no login still hashing */
    st->d.env.auth = NULL;
    events_free(st->d.env.events);
    st->d.env.events = NULL;
    reports_env_free(st->d.reports);
    st->d.reports = NULL;
    indicators_env_free(st->d.indicators);
    st->d.indicators = NULL;
    documents_env_free(st->d.documents);
    st->d.documents = NULL;
    uv_loop_close(&st->loop);
}

/* Takes DIR/serve.lock so that one data directory runs one node. Returns
 * the lock's descriptor (closed at exit), or -1 with err. */
static int daemon_lock(const node_config *c, char *err, size_t errlen)
{
    char path[NODE_PATH_MAX + 16], pid[32] = "";
    snprintf(path, sizeof path, "%s/serve.lock", c->dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB)) {
        ssize_t n = read(fd, pid, sizeof pid - 1);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        snprintf(err, errlen, "a node is already running on %s (pid %s): stop it first", c->dir,
                 pid[0] ? pid : "?");
        close(fd);
        return -1;
    }
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) || write(fd, pid, (size_t)n) != n)
        log_write(LOG_WARN, "node.lock", "path=%s error=\"cannot record the pid\"", path);
    return fd;
}

/* A positive whole number from environment variable name into *out (kept
 * when unset). Returns 0, or -1 with err. */
static int env_size(const char *name, size_t *out, char *err, size_t errlen)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return 0;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || *end || n == 0 || v[0] == '-' || n > SIZE_MAX) {
        snprintf(err, errlen, "%s=\"%s\" is not a positive whole number; set it to one or unset it",
                 name, v);
        return -1;
    }
    *out = (size_t)n;
    return 0;
}

/* The HTTP server's limits: route limits stay the routes' own; the
 * connection caps and body budgets come from LT_HTTP_MAX_CONNS,
 * LT_HTTP_MAX_CONNS_PER_ADDR, LT_HTTP_BODY_BUDGET and
 * LT_HTTP_BODY_BUDGET_PER_ADDR when set (docs/operations.md), else http.h's
 * defaults; requests with a live credential are vouched for by the auth. */
static int daemon_http_limits(auth *a, http_limits *l, char *err, size_t errlen)
{
    size_t conns = 0, per_addr = 0;
    memset(l, 0, sizeof *l);
    if (env_size("LT_HTTP_MAX_CONNS", &conns, err, errlen) ||
        env_size("LT_HTTP_MAX_CONNS_PER_ADDR", &per_addr, err, errlen) ||
        env_size("LT_HTTP_BODY_BUDGET", &l->body_budget, err, errlen) ||
        env_size("LT_HTTP_BODY_BUDGET_PER_ADDR", &l->body_budget_per_addr, err, errlen))
        return -1;
    if (conns > UINT_MAX || per_addr > UINT_MAX) {
        snprintf(err, errlen, "LT_HTTP_MAX_CONNS and LT_HTTP_MAX_CONNS_PER_ADDR must be below %u",
                 UINT_MAX);
        return -1;
    }
    l->max_conns = (unsigned)conns;
    l->max_conns_per_addr = (unsigned)per_addr;
    l->trust = auth_request_known;
    l->trust_ctx = a;
    return 0;
}

/* The TLS files of the node: --tls-cert/--tls-key, else DIR/tls/cert.pem
 * and key.pem when both exist (else plain HTTP), and the CA file of wss://
 * upstreams. Returns 0, or -1 with err. */
static int daemon_tls(const node_config *c, http_tls *t, char *cert, char *key, char *ca,
                      size_t cap, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    if (!tls_cert_arg != !tls_key_arg) {
        snprintf(err, errlen,
                 "give --tls-cert and --tls-key together (the certificate and its key)");
        return -1;
    }
    if (tls_cert_arg) {
        snprintf(cert, cap, "%s", tls_cert_arg);
        snprintf(key, cap, "%s", tls_key_arg);
    } else {
        node_tls_paths(c, cert, key, cap);
    }
    if (tls_cert_arg || (!access(cert, F_OK) && !access(key, F_OK))) {
        t->cert_file = cert;
        t->key_file = key;
    }
    node_tls_ca_path(c, ca, cap);
    t->ca_file = ca[0] ? ca : NULL;
    if (redirect_port >= 0 && !t->cert_file) {
        snprintf(err, errlen,
                 "--redirect-http needs HTTPS: give --tls-cert and --tls-key, or make %s/tls "
                 "with lienthong tls selfsign",
                 c->dir);
        return -1;
    }
    return 0;
}

/* True when this run speaks TLS: it serves HTTPS, has a CA file for wss://
 * upstreams, or dials one. Otherwise the HTTP server skips OpenSSL's set-up
 * and the loading of the system's CA store, which cost tens of milliseconds
 * at every start, before a restarted node can dial its parent. */
static bool daemon_uses_tls(const node_config *c, const http_tls *t)
{
    if (t->cert_file || t->ca_file)
        return true;
    for (size_t i = 0; i < c->nupstreams && i < NODE_MAX_UPSTREAMS; i++)
        if (!strncmp(c->upstreams[i], "wss://", 6))
            return true;
    return false;
}

/* The --redirect-http listener on host, started before the HTTPS server
 * (whose port it learns once that one listens). Returns 0, or -1 with err. */
static int daemon_redirect(daemon_state *st, const char *host, char *err, size_t errlen)
{
    if (redirect_port < 0)
        return 0;
    http_route r = {NULL, "/", redirect_https, &st->https_port, 0};
    st->redirect = http_server_start(&st->loop, host, redirect_port, &r, 1, NULL, err, errlen);
    return st->redirect ? 0 : -1;
}

/* The thread pool's size unless UV_THREADPOOL_SIZE says otherwise. */
#define DAEMON_POOL_SIZE "64"

int daemon_run(node_config *c, const char *listen, char *err, size_t errlen)
{
    char host[128];
    int port;
    if (listen)
        snprintf(c->listen, sizeof c->listen, "%s", listen);
    if (daemon_parse_listen(c->listen, host, sizeof host, &port, err, errlen))
        return -1;
    char pkhex[65];
    int lock = daemon_lock(c, err, errlen);
    if (lock < 0)
        return -1;
    daemon_state *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errlen, "out of memory");
        close(lock);
        return -1;
    }
    st->d.env.config = c;
    recovery_info rec;
    char recs[256];
    recovery_read(c->dir, &rec);
    recovery_describe(&rec, recs, sizeof recs);
    if (rec.first_start || rec.clean)
        log_write(LOG_INFO, "node.recovery", "%s", recs);
    else
        log_write(LOG_WARN, "node.recovery",
                  "%s advice=\"the last run did not stop cleanly (power loss, kill or crash): "
                  "the store holds every transaction committed before, up to last_txn; nothing "
                  "acknowledged is lost. Run lienthong verify --dir DIR if in doubt\"",
                  recs);
    if (disk_guard_init(&st->guard, c->dir, err, errlen)) {
        free(st);
        close(lock);
        return -1;
    }
    if (node_store_open(c, &st->d.env.store, false, err, errlen)) {
        free(st);
        close(lock);
        return -1;
    }
    restore_gate_init(&st->restore, c, st->d.env.store); /* before anything may write */
    /* group commit holds a pool thread per write until its fsync: a pool
     * of 4 (libuv's default) lets 4 writes share a commit. Argon2 stays at
     * most PWGATE_MAX at once (lib/pwgate.h). Read once, at the first
     * uv_queue_work; an operator's UV_THREADPOOL_SIZE wins. */
    setenv("UV_THREADPOOL_SIZE", DAEMON_POOL_SIZE, 0);
    uv_loop_init(&st->loop);
    st->d.env.loop = &st->loop;
    st->d.env.started_ms = uv_now(&st->loop);
    st->d.arrival_seen = store_arrival_last(st->d.env.store);
    st->arrival_pushed = st->d.arrival_seen;

    daemon_advertise(c, st->d.env.store);
    st->d.env.links = repl_links_new(&st->loop, c, st->d.env.store);
    st->d.env.auth = auth_new(&st->loop, c, st->d.env.store);
    st->d.env.events = events_new(&st->d.env);
    st->d.reports = reports_env_new(&st->d.env);
    st->d.indicators = indicators_env_new(&st->d.env);
    st->d.media = media_env_new(&st->d.env);
    if (st->d.media && st->d.reports) {
        st->d.media->report_open = domains_event_report;
        st->d.media->report_ctx = st->d.reports->reports;
    }
    st->d.documents = documents_env_new(&st->d.env);
    if (st->d.indicators)
        domains_live_indicators(st->d.indicators->ind, st->d.env.store,
                                st->d.documents ? st->d.documents->docs : NULL, c->unit);
    if (st->d.env.events && st->d.reports)
        events_add_source(st->d.env.events,
                          &(events_source){REPORT_COLL, reports_env_event, st->d.reports});
    http_ws_endpoint ep[3];
    int nep = st->d.env.links ? repl_links_endpoint(st->d.env.links, &ep[0]) : 0;
    if (nep)
        nep += repl_links_media_endpoint(st->d.env.links, &ep[nep]);
    if (st->d.env.events)
        events_endpoint(st->d.env.events, &ep[nep++]);
    http_route routes[DAEMON_ROUTES_MAX];
    size_t n = st->d.reports ? reports_env_routes(st->d.reports, routes, DAEMON_ROUTES_MAX) : 0;
    n += st->d.indicators
             ? indicators_env_routes(st->d.indicators, routes + n, DAEMON_ROUTES_MAX - n)
             : 0;
    n += st->d.media ? media_env_routes(st->d.media, routes + n, DAEMON_ROUTES_MAX - n) : 0;
    n += st->d.documents ? documents_env_routes(st->d.documents, routes + n, DAEMON_ROUTES_MAX - n)
                         : 0;
    n += api_routes(&st->d.env, routes + n, DAEMON_ROUTES_MAX - n);
    st->metrics = metrics_new(&st->d.env);
    if (st->metrics && st->d.media)
        daemon_media_gauges(st->metrics, st->d.media);
    if (n < DAEMON_ROUTES_MAX)
        routes[n++] = (http_route){"GET", "/metrics", metrics_api_admin, st->metrics, 0};
    bool ok = st->metrics && st->d.env.links && st->d.env.auth && st->d.reports &&
              st->d.indicators && st->d.media && st->d.documents && st->d.env.events &&
              n < DAEMON_ROUTES_MAX;
    http_limits limits;
    http_tls tls;
    char cert[NODE_PATH_MAX + 32], key[NODE_PATH_MAX + 32], ca[2 * NODE_PATH_MAX + 2];
    if (!ok)
        snprintf(err, errlen,
                 n < DAEMON_ROUTES_MAX ? "out of memory"
                                       : "too many HTTP routes: raise DAEMON_ROUTES_MAX");
    else if (daemon_http_limits(st->d.env.auth, &limits, err, errlen) ||
             daemon_tls(c, &tls, cert, key, ca, sizeof cert, err, errlen) ||
             daemon_redirect(st, host, err, errlen))
        ok = false;
    limits.tls = daemon_uses_tls(c, &tls) ? &tls : NULL;
    st->http = ok ? http_server_start_ws(&st->loop, host, port, routes, n, &limits, ep, (size_t)nep,
                                         err, errlen)
                  : NULL;
    if (st->http && daemon_metrics_server(st, err, errlen)) {
        http_server_finish(st->http); /* stops it and lets lws close its handles */
        st->http = NULL;
    }
    st->https_port = http_server_port(st->http);
    if (!st->http && st->redirect) {
        http_server_finish(st->redirect); /* stops it and lets lws close its handles */
        st->redirect = NULL;
    }
    if (st->redirect)
        log_write(LOG_INFO, "http.redirect", "port=%d to_port=%d", http_server_port(st->redirect),
                  st->https_port);
    if (!st->http) {
        metrics_free(st->metrics);
        events_free(st->d.env.events);
        reports_env_free(st->d.reports);
        indicators_env_free(st->d.indicators);
        media_env_free(st->d.media);
        documents_env_free(st->d.documents);
        auth_free(st->d.env.auth);
        repl_links_free(st->d.env.links);
        uv_loop_close(&st->loop);
        store_close(st->d.env.store);
        free(st);
        close(lock);
        return -1;
    }
    audit_writer_init(&st->audit, &st->d.env, &st->loop);
    http_server_observe(st->http, daemon_observe, st);
    http_server_gate(st->http, daemon_gate, st);
    http_server_amend(st->http, disk_guard_amend, &st->guard);
    uv_signal_init(&st->loop, &st->sigint);
    uv_signal_init(&st->loop, &st->sigterm);
    st->sigint.data = st->sigterm.data = st;
    uv_signal_start(&st->sigint, daemon_on_signal, SIGINT);
    uv_signal_start(&st->sigterm, daemon_on_signal, SIGTERM);
    uv_signal_init(&st->loop, &st->sighup);
    st->sighup.data = st;
    uv_signal_start(&st->sighup, daemon_on_hup, SIGHUP);
    uv_timer_init(&st->loop, &st->watch);
    st->watch.data = st;
    uv_async_init(&st->loop, &st->push, daemon_push_writes);
    st->push.data = st;
    store_set_commit_hook(st->d.env.store, daemon_committed, &st->push);
    uv_timer_start(&st->watch, daemon_watch, WATCH_INTERVAL_MS, WATCH_INTERVAL_MS);
    uv_timer_init(&st->loop, &st->grace);
    st->grace.data = st;
    uv_timer_init(&st->loop, &st->sweep);
    st->sweep.data = st;
    uv_timer_start(&st->sweep, daemon_sweep, REPORTS_SWEEP_MS, REPORTS_SWEEP_MS);
    repl_links_start(st->d.env.links, st->http);
    documents_env_start(st->d.documents);
    char merr[256];
    if (media_env_start(st->d.media, camera_probe_s, merr, sizeof merr))
        log_write(LOG_WARN, "camera.start", "error=\"%s: cameras are not probed or recorded\"",
                  merr);

    if (recovery_mark_running(c->dir))
        log_write(LOG_WARN, "node.marker",
                  "path=%s/shutdown.json error=\"cannot record the start: the next start "
                  "cannot tell whether this run stopped cleanly\"",
                  c->dir);
    log_write(LOG_INFO, "node.started", "unit=%s tier=%s node=%s url=%s://%s:%d/ entries=%llu",
              c->unit, c->tier, hex_encode(c->pk, 32, pkhex),
              http_server_tls(st->http) ? "https" : "http", host, http_server_port(st->http),
              (unsigned long long)store_entry_count(st->d.env.store));
    uv_run(&st->loop, UV_RUN_DEFAULT);
    daemon_shutdown(st);
    store_close(st->d.env.store);
    if (recovery_mark_stopped(c->dir))
        log_write(LOG_WARN, "node.marker",
                  "path=%s/shutdown.json error=\"cannot record the clean stop\"", c->dir);
    log_write(LOG_INFO, "node.stopped", "unit=%s", c->unit);
    free(st);
    close(lock);
    return 0;
}
