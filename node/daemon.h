/*
 * daemon.h - `lienthong serve`: one node on one libuv loop.
 *
 * The loop carries the HTTP API and the replication links (libwebsockets
 * on the same loop, node/repl_link.h), a timer that notices entries other
 * processes (e.g. `lienthong import`) added to the store and tells the
 * links, and SIGINT/SIGTERM handlers that stop everything cleanly: links
 * closed with a reason, connections closed, handles closed, LMDB closed,
 * nothing leaked. Every REPORTS_SWEEP_MS a timer runs the escalation sweep
 * of overdue reports (reports_sweep).
 */
#ifndef LT_DAEMON_H
#define LT_DAEMON_H

#include "node/auth.h"
#include "node/config.h"
#include "node/ratelimit.h"
#include "node/repl_link.h"
#include "reports/reports.h"

#include <uv.h>

typedef struct node_daemon node_daemon;

#define REPORTS_SWEEP_MS 60000

/* The pieces of a running node that request handlers use. */
struct node_daemon {
    node_config *config;
    store *store;
    uv_loop_t *loop;
    repl_links *links;     /* replication (disabled when not enrolled) */
    auth *auth;            /* accounts, sessions, tokens (node/auth.h) */
    struct events *events; /* live updates for the web UI (node/events.h) */
    reports *reports;      /* field reports (reports/reports.h) */
    ratelimit *submit_limit; /* public submissions per address (node/public_api.h) */
    uint64_t arrival_seen; /* last arrival position noticed */
    uint64_t started_ms;
};

/* Runs the node until SIGINT or SIGTERM. listen ("HOST:PORT") overrides
 * the configured address when non-NULL. Returns 0 after a clean stop, or
 * -1 with err when it cannot start. */
int daemon_run(node_config *c, const char *listen, char *err, size_t errlen);

/* Splits "HOST:PORT" into host and port. Returns 0, or -1 with err. */
int daemon_parse_listen(const char *listen, char *host, size_t hostcap, int *port, char *err,
                        size_t errlen);

#endif
