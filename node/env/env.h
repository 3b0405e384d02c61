/*
 * env.h - the services of a running node that request handlers share:
 * its configuration, its store, its loop, its people (accounts and
 * sessions), its replication links and its live events. The daemon
 * (node/daemon.c) fills one at start; handlers outside node/ get it as
 * their context (or inside a context of their own, as domains do). It
 * names no domain, and holds the services as pointers to incomplete types,
 * so including it pulls in none of their folders.
 */
#ifndef LT_NODE_ENV_H
#define LT_NODE_ENV_H

#include "node/env/config.h"

#include <stdint.h>
#include <uv.h>

struct auth;
struct repl_links;
struct events;

typedef struct node_env {
    node_config *config;
    store *store;
    uv_loop_t *loop;
    struct auth *auth;        /* accounts, sessions, tokens (node/people/auth.h) */
    struct repl_links *links; /* replication, NULL when not enrolled (node/links) */
    struct events *events;    /* live updates for the web UI (node/events.h) */
    uint64_t started_ms;
} node_env;

#endif
