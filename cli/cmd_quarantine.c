/*
 * cmd_quarantine.c - `lienthong quarantine`: lists the entries this node
 * refused on write authority, with the reason (node/membership/quarantine_view.h).
 */
#include "cli/cli.h"
#include "node/membership/quarantine_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "Usage: lienthong quarantine --dir DIR [--limit N] [--json]\n\n"
    "Lists the entries this node refused because their author may not write\n"
    "them (writing as another unit, changing another unit's record, issuing\n"
    "what only a higher tier may issue, a revoked key, ...), newest first.\n"
    "They were not applied and not forwarded. \"waiting\" entries lack\n"
    "something that may still arrive (e.g. their author's certificate) and\n"
    "are applied by themselves when it does; \"refused\" ones never will be.\n\n"
    "  --dir DIR    the node's data directory\n"
    "  --limit N    at most N entries (default 100)\n"
    "  --json       the whole list as one JSON document\n";

static void print_text(const json_t *v)
{
    printf("%lld entries in quarantine (%lld waiting)\n",
           (long long)json_integer_value(json_object_get(v, "count")),
           (long long)json_integer_value(json_object_get(v, "waiting")));
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(v, "entries"), i, e)
    {
        printf("%-8s %.12s… seq %lld unit %s %s %s/%s\n         %s\n",
               json_string_value(json_object_get(e, "state")),
               json_string_value(json_object_get(e, "origin")),
               (long long)json_integer_value(json_object_get(e, "seq")),
               json_string_value(json_object_get(e, "unit")),
               json_string_value(json_object_get(e, "op")),
               json_string_value(json_object_get(e, "coll")),
               json_string_value(json_object_get(e, "id")),
               json_string_value(json_object_get(e, "reason")));
    }
}

int cmd_quarantine(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, 0, 'd'},
                                         {"limit", required_argument, 0, 'l'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *dir = NULL;
    long limit = 100;
    bool json = false;
    int code, ch;
    bool done = false;
    while ((ch = cli_next_opt(argc, argv, opts, "quarantine", usage, &code, &done)) != -1) {
        if (done)
            return code;
        if (ch == 'd') {
            dir = optarg;
        } else if (ch == 'j') {
            json = true;
        } else if (ch == 'l') {
            char *end;
            limit = strtol(optarg, &end, 10);
            if (*end || limit < 1)
                return cli_usage_error("quarantine", "--limit must be a positive number");
        }
    }
    if (optind < argc)
        return cli_usage_error("quarantine", "unexpected argument");
    node_config c;
    store *s;
    if ((code = cli_load("quarantine", dir, &c)) ||
        (code = cli_open_store("quarantine", &c, &s, true)))
        return code;
    char err[256];
    json_t *v = quarantine_view(s, (size_t)limit, err, sizeof err);
    store_close(s);
    if (!v)
        return cli_error("quarantine", CLI_FAIL, "%s", err);
    if (json) {
        json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        putchar('\n');
    } else {
        print_text(v);
    }
    json_decref(v);
    return CLI_OK;
}
