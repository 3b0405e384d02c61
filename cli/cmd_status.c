/*
 * cmd_status.c - `lienthong status`: the node's identity, its entries per
 * origin and a digest per collection, as text or as JSON for scripts.
 */
#include "cli/cli.h"
#include "node/status.h"

#include <stdio.h>

static const char usage[] =
    "Usage: lienthong status --dir DIR [--json]\n\n"
    "Prints the node's identity, unit, tier and parent, the entries held per\n"
    "origin and a state digest per collection. Works whether or not the node\n"
    "is running.\n\n"
    "  --dir DIR   the node's data directory\n"
    "  --json      print the status document (stable fields, see\n"
    "              docs/operations.md): node, unit, tier, entries, origins,\n"
    "              digests, ...\n";

static void print_text(json_t *j)
{
    const char *k;
    json_t *v;
    json_t *parent = json_object_get(j, "parent");
    printf("node      %s\nunit      %s (%s)\ntier      %s\nparent    %s\nmember    %s\n"
           "entries   %lld\n",
           json_string_value(json_object_get(j, "node")),
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
    if (as_json) {
        json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        putchar('\n');
    } else {
        print_text(j);
    }
    json_decref(j);
    return CLI_OK;
}
