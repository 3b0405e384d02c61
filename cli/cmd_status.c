/*
 * cmd_status.c - `lienthong status`: the node's identity, its entries per
 * origin, a digest per collection and, when the node runs, the state of its
 * replication links (DIR/sync.json), as text or as JSON for scripts.
 */
#include "cli/cli.h"
#include "node/status.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "Usage: lienthong status --dir DIR [--json]\n\n"
    "Prints the node's identity, unit, tier and parent, the entries held per\n"
    "origin, a state digest per collection and, when the node is running, its\n"
    "replication links. Works whether or not the node is running.\n\n"
    "  --dir DIR   the node's data directory\n"
    "  --json      print the status document (stable fields, see\n"
    "              docs/operations.md): node, unit, tier, entries, origins,\n"
    "              digests, ..., and \"sync\" (the links)\n";

/* A count that may be null (unknown). */
static const char *count_text(json_t *v, char *buf, size_t cap)
{
    if (!json_is_integer(v))
        return "?";
    snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
    return buf;
}

static const char *str_or(json_t *v, const char *dflt)
{
    return json_is_string(v) ? json_string_value(v) : dflt;
}

static void print_sync(json_t *sync)
{
    printf("\nsync:\n");
    if (!json_is_true(json_object_get(sync, "running"))) {
        printf("  %s\n", str_or(json_object_get(sync, "message"), "unknown"));
        return;
    }
    if (json_is_string(json_object_get(sync, "message"))) {
        printf("  %s\n", json_string_value(json_object_get(sync, "message")));
        return;
    }
    printf("  as of %.1f s ago (the node rewrites it within a second of a change)\n",
           (double)json_integer_value(json_object_get(sync, "age_ms")) / 1000.0);
    if (!json_is_true(json_object_get(sync, "replicating"))) {
        printf("  not replicating: %s\n", str_or(json_object_get(sync, "reason"), "?"));
        return;
    }
    size_t i;
    json_t *l;
    if (!json_array_size(json_object_get(sync, "links")))
        printf("  no links (no upstream configured and no peer connected)\n");
    json_array_foreach(json_object_get(sync, "links"), i, l)
    {
        char a[32], b[32];
        printf("  %-6s %-8s %-10s %s\n", str_or(json_object_get(l, "direction"), "?"),
               str_or(json_object_get(l, "peer_unit"), "?"),
               str_or(json_object_get(l, "state"), "?"),
               str_or(json_object_get(l, "url"), str_or(json_object_get(l, "remote"), "")));
        printf("         since %s, to send %s, to receive %s, sent %lld, received %lld\n",
               str_or(json_object_get(l, "since"), "-"),
               count_text(json_object_get(l, "entries_to_send"), a, sizeof a),
               count_text(json_object_get(l, "entries_to_receive"), b, sizeof b),
               (long long)json_integer_value(json_object_get(l, "entries_sent")),
               (long long)json_integer_value(json_object_get(l, "entries_received")));
        json_t *err = json_object_get(l, "last_error"), *retry = json_object_get(l, "next_retry");
        json_t *wait = json_object_get(l, "waiting_reason");
        bool news = !strcmp(str_or(json_object_get(l, "mode"), ""), "news_only");
        if (json_is_string(wait))
            printf("         %s: %s\n", news ? "news only" : "waiting for the tree",
                   json_string_value(wait));
        if (json_is_string(err))
            printf("         last error: %s\n", json_string_value(err));
        if (json_is_string(retry))
            printf("         next retry: %s\n", json_string_value(retry));
    }
}

static void print_text(json_t *j)
{
    const char *k;
    json_t *v;
    json_t *parent = json_object_get(j, "parent");
    printf("node      %s\nfingerprint %s\nunit      %s (%s)\ntier      %s\nparent    %s\n"
           "member    %s\nentries   %lld\n",
           json_string_value(json_object_get(j, "node")),
           json_string_value(json_object_get(j, "fingerprint")),
           json_string_value(json_object_get(j, "unit")),
           json_string_value(json_object_get(j, "name")),
           json_string_value(json_object_get(j, "tier")),
           json_is_string(parent) ? json_string_value(parent) : "-",
           json_is_true(json_object_get(j, "root"))       ? "trust root"
           : json_is_true(json_object_get(j, "enrolled")) ? "enrolled"
                                                          : "not enrolled",
           (long long)json_integer_value(json_object_get(j, "entries")));
    printf("\norigins (highest seq held):\n");
    json_t *units = json_object_get(j, "origin_units");
    json_object_foreach(json_object_get(j, "origins"), k, v)
    {
        json_t *u = json_object_get(units, k);
        printf("  %s  %-8s %lld\n", k, u ? json_string_value(u) : "?",
               (long long)json_integer_value(v));
    }
    printf("\ncollections (live records, digest):\n");
    json_t *records = json_object_get(j, "records");
    json_object_foreach(json_object_get(j, "digests"), k, v)
    {
        printf("  %-12s %8lld  %s\n", k, (long long)json_integer_value(json_object_get(records, k)),
               json_string_value(v));
    }
    size_t n = json_array_size(json_object_get(j, "equivocations"));
    if (n)
        printf("\nWARNING: %zu equivocation proof(s) held: see lienthong status --json\n", n);
    print_sync(json_object_get(j, "sync"));
}

int cmd_status(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, 0, 'd'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *dir = NULL;
    bool as_json = false, done = false;
    int code, ch;
    while ((ch = cli_next_opt(argc, argv, opts, "status", usage, &code, &done)) != -1) {
        if (done)
            return code;
        if (ch == 'd')
            dir = optarg;
        else if (ch == 'j')
            as_json = true;
    }
    if (optind < argc)
        return cli_usage_error("status", "unexpected argument");
    node_config c;
    store *s;
    if ((code = cli_load("status", dir, &c)) || (code = cli_open_store("status", &c, &s, false)))
        return code;
    char err[512];
    json_t *j = status_build(&c, s, err, sizeof err);
    store_close(s);
    if (!j)
        return cli_error("status", CLI_FAIL, "%s", err);
    json_object_set_new(j, "sync", status_sync(c.dir));
    if (as_json) {
        json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        putchar('\n');
    } else {
        print_text(j);
    }
    json_decref(j);
    return CLI_OK;
}
