/*
 * cmd_serve.c - `lienthong serve`: runs a node until SIGINT/SIGTERM.
 */
#include "cli/cli.h"
#include "documents/documents.h"
#include "lib/log.h"
#include "node/basemap.h"
#include "node/daemon.h"
#include "node/http/url.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "Usage: lienthong serve --dir DIR [--listen HOST:PORT] [--upstream URL]...\n"
    "       [--tls-cert FILE --tls-key FILE] [--redirect-http PORT] [--tls-ca FILE]\n\n"
    "Runs the node on a libuv loop: its HTTP API (GET /api/v1/health,\n"
    "/api/v1/status, /api/v1/sync) and replication: children connect to its\n"
    "WebSocket endpoint on the same port, and it dials its upstreams (the\n"
    "first that answers, retrying the parent with backoff). SIGINT or SIGTERM\n"
    "stop it cleanly. Logs go to stderr, one line per event.\n\n"
    "  --dir DIR           the node's data directory\n"
    "  --listen HOST:PORT  override the configured address (port 0: any free)\n"
    "  --upstream URL      parent, then grandparent node to sync with, e.g.\n"
    "                      ws://10.0.0.1:8080/ or wss://province.example:8443/;\n"
    "                      repeatable; replaces and saves the configured list\n"
    "  --advertise URL     where this node's children reach it, e.g.\n"
    "                      wss://province.example:8443/; repeatable; kept in the\n"
    "                      unit's record, so a unit moved under this one dials it\n"
    "                      by itself\n"
    "  --tls-cert FILE     serve HTTPS with this PEM certificate (chain)...\n"
    "  --tls-key FILE      ...and its PEM key; without both, DIR/tls/cert.pem and\n"
    "                      DIR/tls/key.pem when present (lienthong tls selfsign),\n"
    "                      else plain HTTP. SIGHUP reloads the files.\n"
    "  --redirect-http PORT  also answer plain HTTP on PORT of the same host with a\n"
    "                      redirect to HTTPS\n"
    "  --tls-ca FILE       the CA certificates wss:// upstreams must chain to\n"
    "                      (default: the system store); saved as tls_ca_file in\n"
    "                      config.json\n"
    "  --camera-probe-interval SECONDS\n"
    "                      how often the node probes the cameras it owns\n"
    "                      (default 60)\n"
    "  --attachment-max MIB\n"
    "                      the largest attachment of a document this node\n"
    "                      takes, in MiB (default 200; 1 to 4096); uploads\n"
    "                      stream to disk, so memory does not grow with it\n"
    "  --metrics-listen HOST:PORT\n"
    "                      also serve GET /metrics (Prometheus) without login\n"
    "                      on this address, e.g. 127.0.0.1:9464\n"
    "  --log-format logfmt|json\n"
    "                      one line per event on stderr (default logfmt)\n"
    "  --log-level debug|info|warn|error\n"
    "                      the lowest level written (default info, or LT_LOG)\n"
    "  --basemap FILE      the PMTiles archive the maps draw (default DIR/basemap.pmtiles\n"
    "                      when present, else the built-in outline of Vietnam)\n";

int cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, 0, 'd'},
                                         {"listen", required_argument, 0, 'l'},
                                         {"upstream", required_argument, 0, 'U'},
                                         {"advertise", required_argument, 0, 'a'},
                                         {"camera-probe-interval", required_argument, 0, 'P'},
                                         {"tls-cert", required_argument, 0, 'C'},
                                         {"tls-key", required_argument, 0, 'K'},
                                         {"tls-ca", required_argument, 0, 'A'},
                                         {"redirect-http", required_argument, 0, 'R'},
                                         {"attachment-max", required_argument, 0, 'M'},
                                         {"metrics-listen", required_argument, 0, 'L'},
                                         {"log-format", required_argument, 0, 'F'},
                                         {"log-level", required_argument, 0, 'V'},
                                         {"basemap", required_argument, 0, 'B'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *dir = NULL, *listen = NULL, *cert = NULL, *key = NULL, *ca = NULL;
    const char *ups[NODE_MAX_UPSTREAMS];
    static const char *adv[NODE_MAX_UPSTREAMS];
    size_t nups = 0, nadv = 0;
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
        } else if (ch == 'a') {
            url_parts at;
            char why[200];
            if (nadv == NODE_MAX_UPSTREAMS)
                return cli_usage_error("serve", "at most 8 --advertise URLs");
            if (url_parse(optarg, false, &at, why, sizeof why))
                return cli_usage_error("serve", why);
            adv[nadv++] = optarg;
        } else if (ch == 'P') {
            char *end;
            unsigned long v = strtoul(optarg, &end, 10);
            if (*end || !*optarg || optarg[0] == '-' || v < 1 || v > 86400)
                return cli_usage_error("serve", "--camera-probe-interval takes 1 to 86400 seconds");
            daemon_set_camera_probe_interval((unsigned)v);
        } else if (ch == 'C')
            cert = optarg;
        else if (ch == 'K')
            key = optarg;
        else if (ch == 'A')
            ca = optarg;
        else if (ch == 'R') {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || !*optarg || v < 0 || v > 65535)
                return cli_usage_error("serve", "--redirect-http takes a port, 0 to 65535");
            daemon_set_redirect_http((int)v);
        } else if (ch == 'M') {
            char *end;
            unsigned long v = strtoul(optarg, &end, 10);
            if (*end || !*optarg || optarg[0] == '-' || v < 1 || v > 4096)
                return cli_usage_error("serve", "--attachment-max takes 1 to 4096 (MiB)");
            documents_set_file_max((size_t)v << 20);
        } else if (ch == 'L')
            daemon_set_metrics_listen(optarg);
        else if (ch == 'B') {
            char berr[PATH_MAX + 160];
            if (basemap_set_file(optarg, berr, sizeof berr))
                return cli_usage_error("serve", berr);
        } else if (ch == 'F' || ch == 'V') {
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
    if (!cert != !key)
        return cli_usage_error("serve", "give --tls-cert and --tls-key together");
    daemon_set_tls(cert, key);
    if (optind < argc)
        return cli_usage_error("serve", "unexpected argument");
    node_config c;
    if ((code = cli_load("serve", dir, &c)))
        return code;
    char err[512];
    if (ca && (code = cli_tls_ca("serve", ca, &c)))
        return code;
    if (nups || ca) {
        for (size_t i = 0; i < nups; i++)
            snprintf(c.upstreams[i], NODE_URL_MAX, "%s", ups[i]);
        c.nupstreams = nups ? nups : c.nupstreams;
        if (node_config_save(&c, err, sizeof err))
            return cli_error("serve", CLI_FAIL, "%s", err);
    }
    daemon_set_advertise(adv, nadv);
    if (daemon_run(&c, listen, err, sizeof err))
        return cli_error("serve", CLI_FAIL, "%s", err);
    return CLI_OK;
}
