/*
 * daemon.h - `lienthong serve`: one node on one libuv loop.
 *
 * The loop carries the HTTP API and the replication links (libwebsockets
 * on the same loop, node/links/repl_link.h), a timer that notices entries other
 * processes (e.g. `lienthong import`) added to the store and tells the
 * links, and SIGINT/SIGTERM handlers that stop everything cleanly: links
 * closed with a reason, connections closed, handles closed, LMDB closed,
 * nothing leaked. Every REPORTS_SWEEP_MS a timer runs the escalation sweep
 * of overdue reports (reports_sweep).
 */
#ifndef LT_DAEMON_H
#define LT_DAEMON_H

#include "documents/documents_env.h"
#include "indicators/indicators_env.h"
#include "media/media_env.h"
#include "node/env/env.h"
#include "reports/reports_env.h"

#include <uv.h>

typedef struct node_daemon node_daemon;

#define REPORTS_SWEEP_MS 60000

/* A running node: the services its handlers share and its domains. */
struct node_daemon {
    node_env env;
    reports_env *reports;       /* field reports (reports/reports_env.h) */
    indicators_env *indicators; /* indicators (indicators/indicators_env.h) */
    media_env *media;           /* cameras (media/media_env.h) */
    documents_env *documents;   /* documents (documents/documents_env.h) */
    uint64_t arrival_seen;      /* last arrival position noticed */
};

/* Runs the node until SIGINT or SIGTERM. listen ("HOST:PORT") overrides
 * the configured address when non-NULL. Returns 0 after a clean stop, or
 * -1 with err when it cannot start. */
int daemon_run(node_config *c, const char *listen, char *err, size_t errlen);

/* Sets how often the node probes its cameras (`serve --camera-probe-interval`);
 * 0 keeps PROBER_DEFAULT_INTERVAL_S. Call before daemon_run. */
void daemon_set_camera_probe_interval(unsigned seconds);

/* Serves HTTPS with these PEM files (`serve --tls-cert --tls-key`); both
 * NULL: DIR/tls/cert.pem and DIR/tls/key.pem when both exist, else plain
 * HTTP. SIGHUP makes the node read the files again. Call before
 * daemon_run; the strings must outlive it. */
void daemon_set_tls(const char *cert_file, const char *key_file);

/* Also listens on port (0..65535) of the same host for plain HTTP and
 * redirects every request to HTTPS (`serve --redirect-http PORT`); -1: no
 * such listener. daemon_run fails when the node does not serve HTTPS. */
void daemon_set_redirect_http(int port);

/* Serves GET /metrics without login on listen ("HOST:PORT", kept as
 * given) besides the node's own address (`serve --metrics-listen`); NULL:
 * not. Call before daemon_run. */
void daemon_set_metrics_listen(const char *listen);

/* Keeps urls[0..n) (ws:// or wss:// URLs where this node's children can
 * reach it) in the unit's "units" record as "advertise" when the node
 * starts (`serve --advertise URL`), so a unit moved under this one dials
 * them by itself. The array must outlive daemon_run. */
void daemon_set_advertise(const char *const *urls, size_t n);

/* Splits "HOST:PORT" into host and port. Returns 0, or -1 with err. */
int daemon_parse_listen(const char *listen, char *host, size_t hostcap, int *port, char *err,
                        size_t errlen);

#endif
