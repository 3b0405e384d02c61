/*
 * cmd_tls.c - `lienthong tls selfsign`: a certificate for HTTPS on a closed
 * network, in DIR/tls where `serve` finds it.
 */
#include "cli/cli.h"
#include "node/http/tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TLS_MAX_HOSTS 16

static const char usage[] =
    "Usage: lienthong tls selfsign --dir DIR --host NAME [--host NAME]... [--days N]\n\n"
    "Makes a self-signed certificate for the node's HTTPS (serve uses\n"
    "DIR/tls/cert.pem and DIR/tls/key.pem when both exist). Give every name\n"
    "and address browsers and child nodes use to reach this node. Replaces\n"
    "an existing pair; a running node takes the new one on SIGHUP. Child\n"
    "nodes trust it with serve --tls-ca (a copy of cert.pem); browsers must\n"
    "be told to trust it. With an organisation's CA, give its certificate to\n"
    "serve --tls-cert/--tls-key instead (docs/operations.md).\n\n"
    "  --dir DIR     the node's data directory\n"
    "  --host NAME   a DNS name or IP address of the node; repeatable (at most 16)\n"
    "  --days N      validity in days (default 825)\n";

static int tls_selfsign_cmd(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, 0, 'd'},
                                         {"host", required_argument, 0, 'H'},
                                         {"days", required_argument, 0, 'D'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *dir = NULL, *hosts[TLS_MAX_HOSTS];
    size_t nhosts = 0;
    int days = 825, code, ch;
    bool done = false;
    while ((ch = cli_next_opt(argc, argv, opts, "tls selfsign", usage, &code, &done)) != -1) {
        if (done)
            return code;
        if (ch == 'd')
            dir = optarg;
        else if (ch == 'H') {
            if (nhosts == TLS_MAX_HOSTS)
                return cli_usage_error("tls selfsign", "at most 16 --host names");
            if (!*optarg || strlen(optarg) > 253)
                return cli_usage_error("tls selfsign", "--host takes a name or address");
            hosts[nhosts++] = optarg;
        } else if (ch == 'D') {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || !*optarg || v < 1 || v > 3650)
                return cli_usage_error("tls selfsign", "--days takes 1 to 3650");
            days = (int)v;
        }
    }
    if (optind < argc)
        return cli_usage_error("tls selfsign", "unexpected argument");
    if (!nhosts)
        return cli_usage_error("tls selfsign", "give at least one --host NAME");
    node_config c;
    if ((code = cli_load("tls selfsign", dir, &c)))
        return code;
    char tdir[NODE_PATH_MAX + 8], cert[NODE_PATH_MAX + 32], key[NODE_PATH_MAX + 32], err[512];
    snprintf(tdir, sizeof tdir, "%s/tls", c.dir);
    if (mkdir(tdir, 0700) && errno != EEXIST)
        return cli_error("tls selfsign", CLI_FAIL, "cannot create %s: %s", tdir, strerror(errno));
    node_tls_paths(&c, cert, key, sizeof cert);
    if (tls_selfsign(cert, key, hosts, nhosts, days, err, sizeof err))
        return cli_error("tls selfsign", CLI_FAIL, "%s", err);
    printf("certificate %s\nkey %s\nvalid %d days for", cert, key, days);
    for (size_t i = 0; i < nhosts; i++)
        printf(" %s", hosts[i]);
    printf("\n");
    return CLI_OK;
}

int cmd_tls(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "selfsign"))
        return tls_selfsign_cmd(argc - 1, argv + 1);
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(usage, stdout);
        return CLI_OK;
    }
    return cli_usage_error("tls", argc < 2 ? "give a subcommand: selfsign" : "unknown subcommand");
}
