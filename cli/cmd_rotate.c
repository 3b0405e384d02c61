/*
 * cmd_rotate.c - `lienthong rotate`: the node moves to a new key. Its
 * parent certifies the new key for the same unit and marks the old key's
 * certificate superseded with a cut-off (the last seq written with it), so
 * the entries signed by the old key stay valid and the log continues under
 * the new key from seq 1. Records keep their owner: ownership follows the
 * unit, not the key (storage/record.h).
 */
#include "cli/cli.h"
#include "cli/enrol_client.h"
#include "node/membership/enrol.h"
#include "node/membership/fingerprint.h"
#include "node/membership/network.h"
#include "node/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "Usage: lienthong rotate --dir DIR [--parent URL | --parent-dir PARENT] [--timeout SECS]\n\n"
    "Replaces the node's key. A new key is made (kept in DIR/node.key.new until\n"
    "the rotation ends), the request is signed with both keys and sent to the\n"
    "parent, which certifies the new key for the same unit at once when the\n"
    "current key's certificate is live there (otherwise an admin approves it\n"
    "with lienthong approve). The old key's certificate ends (superseded, not\n"
    "revoked): every entry it signed so far stays valid. The old key is kept as\n"
    "DIR/node.key.old-<time>. Running the command again resumes a rotation.\n"
    "A running node keeps its old key until it is restarted.\n\n"
    "  --dir DIR          this node's data directory\n"
    "  --parent URL       the parent node (default: the first --upstream)\n"
    "  --parent-dir DIR   the parent's data directory, on this machine\n"
    "  --timeout SECS     how long to wait for a decision (default 900)\n";

/* The parent on this machine decides the request at once (tests, and a
 * parent that is not running). */
static int rotate_local(const char *pdir, json_t *body, json_t **rec)
{
    node_config p;
    store *ps;
    int code;
    if ((code = cli_load("rotate", pdir, &p)) || (code = cli_open_store("rotate", &p, &ps, false)))
        return code;
    char *text = json_dumps(body, JSON_COMPACT), err[512];
    enrol_request r;
    int status = 500;
    if (text && !enrol_request_open((const uint8_t *)text, strlen(text), &r, err, sizeof err))
        status = enrol_submit(&p, ps, &r, "local", rec, err, sizeof err);
    free(text);
    store_close(ps);
    const char *state = json_string_value(json_object_get(*rec, "state"));
    if (status < 300 && state && !strcmp(state, "approved"))
        return CLI_OK;
    json_decref(*rec);
    *rec = NULL;
    return cli_error("rotate", CLI_FAIL, "the parent refused the rotation: %s",
                     status < 300 ? "it is not approved" : err);
}

static int rotate(node_config *c, const char *url, const char *pdir, int timeout)
{
    char err[512], fp[FINGERPRINT_LEN], oldfp[FINGERPRINT_LEN];
    if (c->root)
        return cli_error("rotate", CLI_FAIL,
                         "the trust root's key anchors the network and "
                         "cannot be rotated this way");
    if (!c->enrolled)
        return cli_error("rotate", CLI_FAIL,
                         "%s is not enrolled yet: enrol it (its key is "
                         "new anyway)",
                         c->dir);
    if (!url && !pdir && !c->nupstreams)
        return cli_usage_error("rotate", "no upstream is configured: give --parent URL");
    url_parts u;
    if (!pdir && url_parse(url ? url : c->upstreams[0], true, &u, err, sizeof err))
        return cli_usage_error("rotate", err);
    char ca_path[2 * NODE_PATH_MAX + 2];
    node_tls_ca_path(c, ca_path, sizeof ca_path);
    u.ca_file = ca_path[0] ? ca_path : NULL; /* an https:// parent: the configured CAs */
    enrol_request r = {.kind = ENROL_ROTATE, .at_ms = hlc_wall_ms()};
    uint8_t new_sk[ENTRY_SECRET_BYTES];
    store *s;
    store_origin o;
    int code = cli_open_store("rotate", c, &s, true);
    if (code)
        return code;
    int rc = store_origin_get(s, c->pk, &o);
    store_close(s);
    if (rc < 0)
        return cli_error("rotate", CLI_FAIL, "cannot read this node's log position");
    if (node_key_next(c, r.new_key, new_sk, err, sizeof err))
        return cli_error("rotate", CLI_FAIL, "%s", err);
    r.upto_seq = rc == 0 ? o.max_seq : 0;
    memcpy(r.key, c->pk, 32);
    snprintf(r.unit, sizeof r.unit, "%s", c->unit);
    snprintf(r.name, sizeof r.name, "%s", c->name);
    snprintf(r.tier, sizeof r.tier, "%s", c->tier);
    snprintf(r.parent_unit, sizeof r.parent_unit, "%s", c->parent_unit);
    printf("rotating unit %s from key %s to key %s (entries up to seq %llu stay valid)\n", c->unit,
           fingerprint_key(c->pk, oldfp), fingerprint_key(r.new_key, fp),
           (unsigned long long)r.upto_seq);
    json_t *body = enrol_request_sign(&r, c->sk, new_sk), *rec = NULL;
    if (!body)
        return cli_error("rotate", CLI_FAIL, "out of memory");
    code = pdir ? rotate_local(pdir, body, &rec)
                : enrol_client_send("rotate", &u, body, timeout, true, &rec);
    json_decref(body);
    if (code)
        return code;
    store_input *in;
    size_t n;
    memcpy(c->pk, r.new_key, 32);
    memcpy(c->sk, new_sk, sizeof new_sk);
    code = CLI_FAIL;
    if (enrol_client_entries(rec, &in, &n, err, sizeof err) == 0) {
        if (!network_join(c, in, n, NULL, err, sizeof err) && !node_key_swap(c, err, sizeof err))
            code = CLI_OK;
        enrol_client_entries_free(in, n);
    }
    json_decref(rec);
    if (code)
        return cli_error("rotate", CLI_FAIL, "%s", err);
    printf("rotated: node key %s is certified for unit %s; the old key is kept as "
           "node.key.old-*\n",
           fp, c->unit);
    if (status_node_running(c->dir))
        printf("the running node still uses the old key: restart it (lienthong serve) to link "
               "with the new one\n");
    return CLI_OK;
}

int cmd_rotate(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, 0, 'd'},
                                         {"parent", required_argument, 0, 'u'},
                                         {"parent-dir", required_argument, 0, 'p'},
                                         {"timeout", required_argument, 0, 't'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *dir = NULL, *url = NULL, *pdir = NULL;
    int code, ch, timeout = 900;
    bool done = false;
    while ((ch = cli_next_opt(argc, argv, opts, "rotate", usage, &code, &done)) != -1) {
        if (done)
            return code;
        if (ch == 'd')
            dir = optarg;
        else if (ch == 'u')
            url = optarg;
        else if (ch == 'p')
            pdir = optarg;
        else if (ch == 't' && cli_timeout("rotate", optarg, &timeout))
            return CLI_USAGE;
    }
    if (optind < argc)
        return cli_usage_error("rotate", "unexpected argument");
    if (url && pdir)
        return cli_usage_error("rotate", "give --parent URL or --parent-dir DIR, not both");
    node_config c;
    if ((code = cli_load("rotate", dir, &c)))
        return code;
    return rotate(&c, url, pdir, timeout);
}
