/*
 * cmd_enroll.c - `lienthong enroll`: a node joins the network, certified by
 * the node of its parent unit: over the network (--parent URL: a request
 * that an admin at the parent approves, node/membership/enrol.h) or with both data
 * directories on this machine (--parent-dir).
 */
#include "cli/cli.h"
#include "cli/enrol_client.h"
#include "lib/hex.h"
#include "node/membership/enrol.h"
#include "node/membership/fingerprint.h"
#include "node/membership/network.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "Usage: lienthong enroll --dir DIR --parent URL [--tls-ca FILE] [--timeout SECS] [--no-wait]\n"
    "                        [--again]\n"
    "       lienthong enroll --dir CHILD --parent-dir PARENT\n\n"
    "Makes the node at DIR (see lienthong init) a member of the network,\n"
    "certified by the node of its parent unit.\n\n"
    "With --parent URL the node sends an enrolment request to the running\n"
    "parent node, prints the request id and its key's fingerprint, and waits\n"
    "until an admin there approves it (lienthong approve) or refuses it.\n"
    "Compare the fingerprint with the admin by phone before they approve. On\n"
    "approval the node stores its certificate and the network's membership\n"
    "entries, and the parent becomes its first upstream. Running the command\n"
    "again resumes the same request; after a refusal it shows the reason,\n"
    "and --again sends a new request.\n\n"
    "With --parent-dir the parent certifies the child directly: both data\n"
    "directories must be on this machine; the nodes may be running.\n\n"
    "  --dir DIR          the new node's data directory\n"
    "  --parent URL       the parent node, http://HOST:PORT/ or ws://HOST:PORT/, or\n"
    "                     https:// (wss://) when it serves HTTPS; becomes the upstream\n"
    "  --tls-ca FILE      the CA certificates an https:// parent's certificate must\n"
    "                     chain to (default: the system store); saved as tls_ca_file\n"
    "  --timeout SECS     how long to wait for the decision (default 900)\n"
    "  --no-wait          send (or look up) the request and return at once\n"
    "  --again            ask again after a refusal\n"
    "  --parent-dir DIR   the data directory of the node of its parent unit\n";

static int enroll_local(const char *dir, const char *pdir)
{
    node_config child, parent;
    int code;
    if ((code = cli_load("enroll", dir, &child)) || (code = cli_load("enroll", pdir, &parent)))
        return code;
    char err[512], key[65];
    if (network_enroll_local(&child, &parent, err, sizeof err))
        return cli_error("enroll", CLI_FAIL, "%s", err);
    printf("enrolled unit %s (%s, %s) under %s (%s)\nnode key %s\n", child.unit, child.name,
           child.tier, parent.unit, parent.name, hex_encode(child.pk, 32, key));
    return CLI_OK;
}

static int enroll_remote(const char *dir, const char *url, const char *ca, int timeout, bool wait,
                         bool again)
{
    node_config c;
    url_parts u;
    char err[512], ws[NODE_URL_MAX + 16], fp[FINGERPRINT_LEN];
    int code;
    if (url_parse(url, true, &u, err, sizeof err))
        return cli_usage_error("enroll", err);
    if ((code = cli_load("enroll", dir, &c)) || (ca && (code = cli_tls_ca("enroll", ca, &c))))
        return code;
    char ca_path[2 * NODE_PATH_MAX + 2];
    node_tls_ca_path(&c, ca_path, sizeof ca_path);
    u.ca_file = ca_path[0] ? ca_path : NULL;
    if (c.enrolled || c.root)
        return cli_error("enroll", CLI_FAIL, "%s (unit %s) is already a member of a network", dir,
                         c.unit);
    enrol_request r = {.kind = ENROL_ENROL, .at_ms = hlc_wall_ms(), .again = again};
    memcpy(r.key, c.pk, 32);
    snprintf(r.unit, sizeof r.unit, "%s", c.unit);
    snprintf(r.name, sizeof r.name, "%s", c.name);
    snprintf(r.tier, sizeof r.tier, "%s", c.tier);
    snprintf(r.parent_unit, sizeof r.parent_unit, "%s", c.parent_unit);
    json_t *body = enrol_request_sign(&r, c.sk, NULL), *rec = NULL;
    printf("enrolling unit %s (%s, %s), node key fingerprint %s\n", c.unit, c.name, c.tier,
           fingerprint_key(c.pk, fp));
    code = body ? enrol_client_send("enroll", &u, body, timeout, wait, &rec) : CLI_FAIL;
    json_decref(body);
    if (code == ENROL_PENDING)
        return CLI_OK;
    if (code)
        return code;
    store_input *in;
    size_t n;
    url_ws(&u, ws, sizeof ws);
    if (enrol_client_entries(rec, &in, &n, err, sizeof err) == 0) {
        code = network_join(&c, in, n, ws, err, sizeof err) ? CLI_FAIL : CLI_OK;
        enrol_client_entries_free(in, n);
    } else {
        code = CLI_FAIL;
    }
    json_decref(rec);
    if (code)
        return cli_error("enroll", CLI_FAIL, "%s", err);
    printf("enrolled unit %s (%s, %s) under %s; upstream %s\nstart it: lienthong serve --dir "
           "%s\n",
           c.unit, c.name, c.tier, c.parent_unit[0] ? c.parent_unit : "-", c.upstreams[0], dir);
    return CLI_OK;
}

int cmd_enroll(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, 0, 'd'},
                                         {"parent-dir", required_argument, 0, 'p'},
                                         {"parent", required_argument, 0, 'u'},
                                         {"timeout", required_argument, 0, 't'},
                                         {"no-wait", no_argument, 0, 'n'},
                                         {"again", no_argument, 0, 'a'},
                                         {"tls-ca", required_argument, 0, 'c'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *dir = NULL, *pdir = NULL, *url = NULL, *ca = NULL;
    int code, ch, timeout = 900;
    bool done = false, wait = true, again = false;
    while ((ch = cli_next_opt(argc, argv, opts, "enroll", usage, &code, &done)) != -1) {
        if (done)
            return code;
        if (ch == 'd')
            dir = optarg;
        else if (ch == 'p')
            pdir = optarg;
        else if (ch == 'u')
            url = optarg;
        else if (ch == 'n')
            wait = false;
        else if (ch == 'a')
            again = true;
        else if (ch == 'c')
            ca = optarg;
        else if (ch == 't' && cli_timeout("enroll", optarg, &timeout))
            return CLI_USAGE;
    }
    if (optind < argc)
        return cli_usage_error("enroll", "unexpected argument");
    if (!dir || !!pdir == !!url)
        return cli_usage_error("enroll", "--dir and one of --parent URL or --parent-dir DIR "
                                         "are required");
    return url ? enroll_remote(dir, url, ca, timeout, wait, again) : enroll_local(dir, pdir);
}
