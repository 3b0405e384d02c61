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
#include "node/domains.h"
#include "node/events.h"
#include "node/http/http.h"
#include "node/links/repl_link.h"
#include "node/people/audit.h"
#include "node/people/auth.h"
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
    uv_signal_t sigint, sigterm;
    uv_timer_t watch, grace, sweep;
    uv_work_t sweep_work;
    bool sweeping; /* a sweep is on the thread pool */
    size_t swept;  /* escalations of the last sweep */
    char sweep_err[256];
    uint64_t grace_started;
    http_server *http;
    bool stopping;
} daemon_state;

static unsigned camera_probe_s;

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

/* Notices entries added to the store by other processes (import, bundle
 * import) or by the links, and tells the links. */
static void daemon_watch(uv_timer_t *t)
{
    daemon_state *st = t->data;
    events_tick(st->d.env.events);
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

static void daemon_shutdown(daemon_state *st)
{
    repl_links_stop(st->d.env.links);
    http_server_stop(st->http);
    media_env_free(st->d.media); /* its prober ends with the loop's run below */
    st->d.media = NULL;
    uv_close((uv_handle_t *)&st->sigint, NULL);
    uv_close((uv_handle_t *)&st->sigterm, NULL);
    uv_close((uv_handle_t *)&st->watch, NULL);
    uv_close((uv_handle_t *)&st->grace, NULL);
    uv_close((uv_handle_t *)&st->sweep, NULL);
    while (uv_run(&st->loop, UV_RUN_DEFAULT) != 0) {
    }
    http_server_finish(st->http);
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

int daemon_run(node_config *c, const char *listen, char *err, size_t errlen)
{
    char host[128];
    int port;
    if (listen)
        snprintf(c->listen, sizeof c->listen, "%s", listen);
    if (daemon_parse_listen(c->listen, host, sizeof host, &port, err, errlen))
        return -1;
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
    if (node_store_open(c, &st->d.env.store, false, err, errlen)) {
        free(st);
        close(lock);
        return -1;
    }
    uv_loop_init(&st->loop);
    st->d.env.loop = &st->loop;
    st->d.env.started_ms = uv_now(&st->loop);
    st->d.arrival_seen = store_arrival_last(st->d.env.store);

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
                                st->d.documents ? st->d.documents->docs : NULL);
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
    bool ok = st->d.env.links && st->d.env.auth && st->d.reports && st->d.indicators &&
              st->d.media && st->d.documents && st->d.env.events && n < DAEMON_ROUTES_MAX;
    http_limits limits;
    if (!ok)
        snprintf(err, errlen,
                 n < DAEMON_ROUTES_MAX ? "out of memory"
                                       : "too many HTTP routes: raise DAEMON_ROUTES_MAX");
    else if (daemon_http_limits(st->d.env.auth, &limits, err, errlen))
        ok = false;
    st->http = ok ? http_server_start_ws(&st->loop, host, port, routes, n, &limits, ep, (size_t)nep,
                                         err, errlen)
                  : NULL;
    if (!st->http) {
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
    http_server_observe(st->http, audit_observe, &st->d.env);
    uv_signal_init(&st->loop, &st->sigint);
    uv_signal_init(&st->loop, &st->sigterm);
    st->sigint.data = st->sigterm.data = st;
    uv_signal_start(&st->sigint, daemon_on_signal, SIGINT);
    uv_signal_start(&st->sigterm, daemon_on_signal, SIGTERM);
    uv_timer_init(&st->loop, &st->watch);
    st->watch.data = st;
    uv_timer_start(&st->watch, daemon_watch, WATCH_INTERVAL_MS, WATCH_INTERVAL_MS);
    uv_timer_init(&st->loop, &st->grace);
    st->grace.data = st;
    uv_timer_init(&st->loop, &st->sweep);
    st->sweep.data = st;
    uv_timer_start(&st->sweep, daemon_sweep, REPORTS_SWEEP_MS, REPORTS_SWEEP_MS);
    repl_links_start(st->d.env.links, st->http);
    char merr[256];
    if (media_env_start(st->d.media, camera_probe_s, merr, sizeof merr))
        log_write(LOG_WARN, "camera.start", "error=\"%s: cameras are not probed or recorded\"",
                  merr);

    char key[65];
    log_write(LOG_INFO, "node.started", "unit=%s tier=%s node=%s url=http://%s:%d/ entries=%llu",
              c->unit, c->tier, hex_encode(c->pk, 32, key), host, http_server_port(st->http),
              (unsigned long long)store_entry_count(st->d.env.store));
    uv_run(&st->loop, UV_RUN_DEFAULT);
    daemon_shutdown(st);
    store_close(st->d.env.store);
    log_write(LOG_INFO, "node.stopped", "unit=%s", c->unit);
    free(st);
    close(lock);
    return 0;
}
