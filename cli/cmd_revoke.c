/*
 * cmd_revoke.c - `lienthong revoke`: withdraws a node's certificate. The
 * revocation is a replicated entry (a patch of the certificate record with
 * the cut-off seq, node/membership/network.h), addressed like the certificate, so
 * every node that holds the key learns it, refuses the key at the handshake
 * and its entries after the cut-off.
 */
#include "cli/cli.h"
#include "lib/hex.h"
#include "node/membership/network.h"
#include "replication/repl_node.h"
#include "storage/record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "Usage: lienthong revoke --dir DIR --node KEY [--reason TEXT]\n\n"
    "Revokes the certificate of node KEY (64 hex digits, see `lienthong status`\n"
    "on that node). Only a node of an ancestor unit (or the issuer) may revoke.\n"
    "Every node that receives the revocation refuses the key's links. The\n"
    "revocation records the highest seq of the key's log held here: entries\n"
    "up to it stay valid, later ones are refused everywhere.\n\n"
    "  --dir DIR       this node's data directory\n"
    "  --node KEY      the key to revoke\n"
    "  --reason TEXT   why (kept in the certificate record)\n";

static int revoke(const node_config *c, store *s, const char *hex, const char *reason)
{
    uint8_t key[ENTRY_KEY_BYTES], *rec;
    size_t len;
    char err[512], unit[33];
    if (hex_decode(hex, key, ENTRY_KEY_BYTES))
        return cli_usage_error("revoke", "--node must be a node key of 64 hex digits");
    if (!memcmp(key, c->pk, ENTRY_KEY_BYTES))
        return cli_error("revoke", CLI_FAIL, "a node cannot revoke its own key");
    if (store_record_get(s, "certs", hex, &rec, &len))
        return cli_error("revoke", CLI_FAIL, "no certificate of node %s is known here", hex);
    bool deleted;
    uint8_t issuer[ENTRY_KEY_BYTES];
    int bad = record_summary(rec, len, &deleted, unit, sizeof unit) ||
              record_last_putter(rec, len, issuer);
    json_t *j = bad ? NULL : record_to_json(rec, len, hex, strlen(hex), err, sizeof err);
    free(rec);
    const char *subject_unit = j ? json_string_value(json_object_get(j, "unit")) : NULL;
    char aud[NETWORK_AUDIENCE_MAX], issuer_unit[NODE_CODE_MAX];
    repl_node rn;
    int rc = CLI_FAIL;
    if (!bad && deleted)
        cli_error("revoke", CLI_FAIL, "node %s is already revoked", hex);
    else if (bad || !subject_unit)
        cli_error("revoke", CLI_FAIL, "the certificate record of %s is damaged", hex);
    else if (network_unit_of_key(s, issuer, issuer_unit) || network_audience(s, issuer_unit, aud))
        cli_error("revoke", CLI_FAIL,
                  "the certificate of %s's issuer or the network configuration is not held "
                  "here: this store is damaged; restore it from a backup",
                  hex);
    else if (repl_node_init(&rn, s, c->unit, c->pk, err, sizeof err))
        cli_error("revoke", CLI_FAIL, "%s", err);
    else {
        bool allowed = !memcmp(issuer, c->pk, ENTRY_KEY_BYTES) ||
                       (strcmp(subject_unit, c->unit) &&
                        unit_tree_within(rn.tree, subject_unit, strlen(subject_unit), c->unit,
                                         strlen(c->unit)));
        bool ended = unit_tree_key_state(rn.tree, key, NULL) == KEY_REVOKED;
        repl_node_release(&rn);
        uint64_t upto;
        if (ended)
            cli_error("revoke", CLI_FAIL, "node %s is already revoked", hex);
        else if (!allowed)
            cli_error("revoke", CLI_FAIL,
                      "node %s serves unit %s, outside unit %s's subtree: only its issuer or a "
                      "node of an ancestor unit may revoke it",
                      hex, subject_unit, c->unit);
        else if (network_end_cert(c, s, key, aud, reason, &upto, err, sizeof err))
            cli_error("revoke", CLI_FAIL, "%s", err);
        else {
            printf("revoked node %s (unit %s); its entries up to seq %llu stay valid, later "
                   "ones are refused; the revocation replicates to every node that holds the "
                   "key\n",
                   hex, subject_unit, (unsigned long long)upto);
            rc = CLI_OK;
        }
    }
    json_decref(j);
    return rc;
}

int cmd_revoke(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, 0, 'd'},
                                         {"node", required_argument, 0, 'n'},
                                         {"reason", required_argument, 0, 'r'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *dir = NULL, *node = NULL, *reason = NULL;
    int code, ch;
    bool done = false;
    while ((ch = cli_next_opt(argc, argv, opts, "revoke", usage, &code, &done)) != -1) {
        if (done)
            return code;
        if (ch == 'd')
            dir = optarg;
        else if (ch == 'n')
            node = optarg;
        else if (ch == 'r')
            reason = optarg;
    }
    if (optind < argc)
        return cli_usage_error("revoke", "unexpected argument");
    if (!node)
        return cli_usage_error("revoke", "--node KEY is required");
    node_config c;
    store *s;
    if ((code = cli_load("revoke", dir, &c)) || (code = cli_open_store("revoke", &c, &s, false)))
        return code;
    code = revoke(&c, s, node, reason);
    store_close(s);
    return code;
}
