/*
 * cmd_serve.c - `lienthong serve`: runs a node until SIGINT/SIGTERM.
 */
#include "cli/cli.h"
#include "lib/log.h"
#include "node/daemon.h"

#include <stdio.h>
#include <stdlib.h>

static const char usage[] =
    "Usage: lienthong serve --dir DIR [--listen HOST:PORT] [--upstream URL]...\n\n"
    "Runs the node on a libuv loop: its HTTP API (GET /api/v1/health,\n"
    "/api/v1/status, /api/v1/sync) and replication: children connect to its\n"
    "WebSocket endpoint on the same port, and it dials its upstreams (the\n"
    "first that answers, retrying the parent with backoff). SIGINT or SIGTERM\n"
    "stop it cleanly. Logs go to stderr, one line per event.\n\n"
    "  --dir DIR           the node's data directory\n"
    "  --listen HOST:PORT  override the configured address (port 0: any free)\n"
    "  --upstream URL      parent, then grandparent node to sync with, e.g.\n"
    "                      ws://10.0.0.1:8080/; repeatable; replaces and saves\n"
    "                      the configured list\n"
    "  --camera-probe-interval SECONDS\n"
    "                      how often the node probes the cameras it owns\n"
    "                      (default 60)\n"
    "  --metrics-listen HOST:PORT\n"
    "                      also serve GET /metrics (Prometheus) without login\n"
    "                      on this address, e.g. 127.0.0.1:9464\n"
    "  --log-format logfmt|json\n"
    "                      one line per event on stderr (default logfmt)\n"
    "  --log-level debug|info|warn|error\n"
    "                      the lowest level written (default info, or LT_LOG)\n";

int cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, 0, 'd'},
                                         {"listen", required_argument, 0, 'l'},
                                         {"upstream", required_argument, 0, 'U'},
                                         {"camera-probe-interval", required_argument, 0, 'P'},
                                         {"metrics-listen", required_argument, 0, 'M'},
                                         {"log-format", required_argument, 0, 'F'},
                                         {"log-level", required_argument, 0, 'V'},
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
        } else if (ch == 'P') {
            char *end;
            unsigned long v = strtoul(optarg, &end, 10);
            if (*end || !*optarg || optarg[0] == '-' || v < 1 || v > 86400)
                return cli_usage_error("serve", "--camera-probe-interval takes 1 to 86400 seconds");
            daemon_set_camera_probe_interval((unsigned)v);
        } else if (ch == 'M')
            daemon_set_metrics_listen(optarg);
        else if (ch == 'F' || ch == 'V') {
            log_format f;
            log_level l;
            if (ch == 'F' && log_format_parse(optarg, &f))
                return cli_usage_error("serve", "--log-format takes logfmt or json");
            if (ch == 'V' && log_level_parse(optarg, &l))
                return cli_usage_error("serve", "--log-level takes debug, info, warn or error");
            if (ch == 'F')
                log_set_format(f);
            else
                log_set_level(l);
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
