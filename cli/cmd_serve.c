/*
 * cmd_serve.c - `lienthong serve`: runs a node until SIGINT/SIGTERM.
 */
#include "cli/cli.h"
#include "node/daemon.h"

#include <stdio.h>

static const char usage[] =
    "Usage: lienthong serve --dir DIR [--listen HOST:PORT] [--upstream URL]...\n\n"
    "Runs the node: its HTTP API (GET /api/v1/health, /api/v1/status) on a\n"
    "libuv loop. SIGINT or SIGTERM stop it cleanly. Logs go to stderr, one\n"
    "line per event.\n\n"
    "  --dir DIR           the node's data directory\n"
    "  --listen HOST:PORT  override the configured address (port 0: any free)\n"
    "  --upstream URL      parent, then grandparent node to sync with;\n"
    "                      repeatable; replaces and saves the configured list\n";

int cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, 0, 'd'},
                                         {"listen", required_argument, 0, 'l'},
                                         {"upstream", required_argument, 0, 'U'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *dir = NULL, *listen = NULL;
    const char *ups[NODE_MAX_UPSTREAMS];
    size_t nups = 0;
    int code, ch;
    bool done = false;
    while ((ch = cli_next_opt(argc, argv, opts, "serve", usage, &code, &done)) != -1) {
        if (done)
            return code;
        if (ch == 'd')
            dir = optarg;
        else if (ch == 'l')
            listen = optarg;
        else if (ch == 'U') {
            if (nups == NODE_MAX_UPSTREAMS)
                return cli_usage_error("serve", "at most 8 --upstream URLs");
            ups[nups++] = optarg;
        }
    }
    if (optind < argc)
        return cli_usage_error("serve", "unexpected argument");
    node_config c;
    if ((code = cli_load("serve", dir, &c)))
        return code;
    char err[512];
    if (nups) {
        for (size_t i = 0; i < nups; i++)
            snprintf(c.upstreams[i], NODE_URL_MAX, "%s", ups[i]);
        c.nupstreams = nups;
        if (node_config_save(&c, err, sizeof err))
            return cli_error("serve", CLI_FAIL, "%s", err);
    }
    if (daemon_run(&c, listen, err, sizeof err))
        return cli_error("serve", CLI_FAIL, "%s", err);
    return CLI_OK;
}
