/*
 * cmd_init.c - `lienthong init`: creates a node's data directory.
 */
#include "cli/cli.h"
#include "lib/hex.h"
#include "node/daemon.h"
#include "node/membership/network.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "Usage: lienthong init --dir DIR --unit CODE --name NAME --tier TIER\n"
    "                      [--root [--tiers T1,T2,...]] [--parent-unit CODE]\n"
    "                      [--listen HOST:PORT] [--upstream URL]...\n\n"
    "Creates a new node: the data directory, an Ed25519 key pair (node.key, mode\n"
    "0600) and config.json.\n\n"
    "  --dir DIR           data directory to create\n"
    "  --unit CODE         official unit code (province 2 digits, district 3,\n"
    "                      commune 5), e.g. 40, 412, 16681\n"
    "  --name NAME         unit name, e.g. \"Thành phố Vinh\"\n"
    "  --tier TIER         this unit's tier, one of the network's tiers (a child's\n"
    "                      tier is checked against its network when it enrols)\n"
    "  --root              make this node the trust root of a new network\n"
    "  --tiers LIST        with --root: the network's tiers, top first\n"
    "                      (default national,province,district,commune)\n"
    "  --parent-unit CODE  the unit this node's unit belongs to\n"
    "  --listen HOST:PORT  address `serve` listens on (default 127.0.0.1:8080)\n"
    "  --upstream URL      a parent (then grandparent) node to sync with;\n"
    "                      repeatable, tried in order\n";

int cmd_init(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, 0, 'd'},
                                         {"unit", required_argument, 0, 'u'},
                                         {"name", required_argument, 0, 'n'},
                                         {"tier", required_argument, 0, 't'},
                                         {"root", no_argument, 0, 'r'},
                                         {"tiers", required_argument, 0, 'T'},
                                         {"parent-unit", required_argument, 0, 'p'},
                                         {"listen", required_argument, 0, 'l'},
                                         {"upstream", required_argument, 0, 'U'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    node_config c;
    memset(&c, 0, sizeof c);
    node_config_default_tiers(&c);
    snprintf(c.listen, sizeof c.listen, "127.0.0.1:8080");
    const char *dir = NULL, *unit = NULL, *name = NULL, *tier = NULL, *tiers = NULL;
    char err[512];
    int code, ch;
    bool done = false;
    while ((ch = cli_next_opt(argc, argv, opts, "init", usage, &code, &done)) != -1) {
        if (done)
            return code;
        switch (ch) {
        case 'd': dir = optarg; break;
        case 'u': unit = optarg; break;
        case 'n': name = optarg; break;
        case 't': tier = optarg; break;
        case 'r': c.root = true; break;
        case 'T': tiers = optarg; break;
        case 'p': snprintf(c.parent_unit, sizeof c.parent_unit, "%s", optarg); break;
        case 'l': snprintf(c.listen, sizeof c.listen, "%s", optarg); break;
        case 'U':
            if (c.nupstreams == NODE_MAX_UPSTREAMS)
                return cli_usage_error("init", "at most 8 --upstream URLs");
            snprintf(c.upstreams[c.nupstreams++], NODE_URL_MAX, "%s", optarg);
            break;
        }
    }
    if (optind < argc)
        return cli_usage_error("init", "unexpected argument; every value goes with an option");
    if (!dir || !unit || !name || !tier)
        return cli_usage_error("init", "--dir, --unit, --name and --tier are required");
    if (!entry_unit_valid(unit, strlen(unit)) || strlen(unit) >= NODE_CODE_MAX)
        return cli_usage_error("init", "--unit must be a code of letters and digits, e.g. 412");
    if (strlen(name) >= NODE_NAME_MAX || !*name)
        return cli_usage_error("init", "--name must be 1-255 bytes");
    if (tiers && !c.root)
        return cli_usage_error("init", "--tiers goes with --root: children take the "
                                       "network's tiers when they enrol");
    if (tiers && node_config_parse_tiers(&c, tiers, err, sizeof err))
        return cli_usage_error("init", err);
    if (c.root && c.parent_unit[0])
        return cli_usage_error("init", "a --root node has no --parent-unit");
    if (!entry_unit_valid(tier, strlen(tier)) || strlen(tier) >= NODE_CODE_MAX)
        return cli_usage_error("init", "--tier must be a name of letters, digits, - or _");
    if (c.root && node_tier_index(&c, tier) < 0) {
        snprintf(err, sizeof err, "unknown tier \"%s\": the tiers are %s%s%s%s%s%s%s", tier,
                 c.tiers[0], c.ntiers > 1 ? ", " : "", c.ntiers > 1 ? c.tiers[1] : "",
                 c.ntiers > 2 ? ", " : "", c.ntiers > 2 ? c.tiers[2] : "",
                 c.ntiers > 3 ? ", ..." : "", tiers ? "" : " (set others with --tiers)");
        return cli_usage_error("init", err);
    }
    char host[128];
    int port;
    if (daemon_parse_listen(c.listen, host, sizeof host, &port, err, sizeof err))
        return cli_usage_error("init", err);
    snprintf(c.dir, sizeof c.dir, "%s", dir);
    snprintf(c.unit, sizeof c.unit, "%s", unit);
    snprintf(c.name, sizeof c.name, "%s", name);
    snprintf(c.tier, sizeof c.tier, "%s", tier);
    if (node_config_create(&c, err, sizeof err))
        return cli_error("init", CLI_FAIL, "%s", err);
    store *s;
    if (node_store_create(&c, &s, err, sizeof err))
        return cli_error("init", CLI_FAIL, "%s", err);
    int rc = CLI_OK;
    if (c.root &&
        (network_init_root(&c, s, err, sizeof err) || node_config_save(&c, err, sizeof err)))
        rc = cli_error("init", CLI_FAIL, "%s", err);
    store_close(s);
    if (rc)
        return rc;
    char key[65];
    printf("initialised %s: unit %s (%s), tier %s%s\nnode key %s\n", dir, unit, name, tier,
           c.root ? ", trust root" : "", hex_encode(c.pk, 32, key));
    if (!c.root)
        printf("next: lienthong enroll --dir %s --parent-dir PARENT_DIR\n", dir);
    return CLI_OK;
}
