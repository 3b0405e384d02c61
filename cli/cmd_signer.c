/*
 * cmd_signer.c - `lienthong signer add`: an official's personal signing
 * key for documents (documents/documents.h, documents_signer_add).
 */
#include "cli/cli.h"
#include "documents/documents.h"
#include "node/people/accounts.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "Usage: lienthong signer add --dir DIR --user NAME --position TEXT\n\n"
    "Creates a personal Ed25519 signing key for account NAME of the node of\n"
    "DIR, in position TEXT (e.g. \"Chủ tịch UBND xã\"). The password, one line\n"
    "on stdin (at least 8 characters), encrypts the secret key (Argon2id and\n"
    "XSalsa20-Poly1305), which stays on this node; the node certifies the\n"
    "public key with a record every node receives, so anyone can check the\n"
    "official's signatures. The signer signs with POST\n"
    "/api/v1/documents/{id}/sign {\"password\"}. A second key for the same\n"
    "account replaces the first for signing; earlier signatures still verify.\n\n"
    "  --dir DIR        the node's data directory\n"
    "  --user NAME      the official's account on this node\n"
    "  --position TEXT  the official's position\n";

int cmd_signer(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, 0, 'd'},
                                         {"user", required_argument, 0, 'u'},
                                         {"position", required_argument, 0, 'p'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *dir = NULL, *user = NULL, *position = NULL;
    int code, ch;
    bool done = false;
    bool add = argc > 1 && !strcmp(argv[1], "add");
    if (add)
        argc--, argv++;
    while ((ch = cli_next_opt(argc, argv, opts, "signer", usage, &code, &done)) != -1) {
        if (done)
            return code;
        if (ch == 'd')
            dir = optarg;
        else if (ch == 'u')
            user = optarg;
        else if (ch == 'p')
            position = optarg;
    }
    if (!add)
        return cli_usage_error("signer",
                               optind < argc ? argv[optind] : "a missing subcommand (add)");
    if (optind < argc || !user || !position)
        return cli_usage_error("signer", optind < argc ? "unexpected argument"
                                         : !user       ? "no --user"
                                                       : "no --position");
    char pw[ACCOUNT_PASSWORD_MAX + 2];
    if ((code = cli_read_password("signer", pw, sizeof pw)))
        return code;
    node_config c;
    store *s;
    if ((code = cli_load("signer", dir, &c)) || (code = cli_open_store("signer", &c, &s, false)))
        return code;
    documents *d = documents_new(s, &c);
    lt_error e = {0};
    char cert[DOC_CERT_ID_MAX];
    int rc = d ? documents_signer_add(d, user, position, pw, strlen(pw), cert, &e)
               : lt_error_set(&e, LT_EINTERNAL, NULL, "out of memory");
    documents_free(d);
    store_close(s);
    memset(pw, 0, sizeof pw);
    if (rc)
        return cli_error("signer", lt_errkind_exit(e.kind), "%s", e.message);
    printf("signer %s (%s): key certified as %s\n", user, position, cert);
    return CLI_OK;
}
