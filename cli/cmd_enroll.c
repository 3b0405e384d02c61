/*
 * cmd_enroll.c - `lienthong enroll`: the parent certifies a child whose
 * data directory is on the same machine.
 */
#include "cli/cli.h"
#include "node/network.h"
#include "storage/hex.h"

#include <stdio.h>

static const char usage[] =
    "Usage: lienthong enroll --dir CHILD --parent-dir PARENT\n\n"
    "The parent node certifies the child's key, unit and tier: it writes the\n"
    "child's unit and certificate into its own log, and the child receives the\n"
    "network's membership entries (tiers, units, certificates). Both data\n"
    "directories must be on this machine; the nodes may be running.\n\n"
    "  --dir CHILD         the new node's data directory (lienthong init)\n"
    "  --parent-dir DIR    the data directory of the node of its parent unit\n";

int cmd_enroll(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, 0, 'd'},
                                         {"parent-dir", required_argument, 0, 'p'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *dir = NULL, *pdir = NULL;
    int code, ch;
    bool done = false;
    while ((ch = cli_next_opt(argc, argv, opts, "enroll", usage, &code, &done)) != -1) {
        if (done)
            return code;
        if (ch == 'd')
            dir = optarg;
        else if (ch == 'p')
            pdir = optarg;
    }
    if (optind < argc)
        return cli_usage_error("enroll", "unexpected argument");
    if (!dir || !pdir)
        return cli_usage_error("enroll", "--dir and --parent-dir are required");
    node_config child, parent;
    if ((code = cli_load("enroll", dir, &child)) || (code = cli_load("enroll", pdir, &parent)))
        return code;
    char err[512], key[65];
    if (network_enroll_local(&child, &parent, err, sizeof err))
        return cli_error("enroll", CLI_FAIL, "%s", err);
    printf("enrolled unit %s (%s, %s) under %s (%s)\nnode key %s\n", child.unit, child.name,
           child.tier, parent.unit, parent.name, hex_encode(child.pk, 32, key));
    return CLI_OK;
}
