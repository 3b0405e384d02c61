/*
 * cmd_user.c - `lienthong user add|list|del|passwd` and `lienthong token`:
 * the node-local accounts of node/people/accounts.h. Passwords come from stdin
 * (one line), never from the command line where `ps` would show them.
 * `lienthong open311-key add|list|revoke`: the Open311 keys of
 * node/people/open311_keys.h.
 * Every change is written to the audit log (node/people/audit.h).
 */
#include "cli/cli.h"
#include "node/people/accounts.h"
#include "node/people/audit.h"
#include "node/people/open311_keys.h"
#include "replication/unit_tree.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char user_usage[] =
    "Usage: lienthong user add    --dir DIR --user NAME --role ROLE [--unit CODE]\n"
    "       lienthong user passwd --dir DIR --user NAME\n"
    "       lienthong user del    --dir DIR --user NAME\n"
    "       lienthong user list   --dir DIR [--json]\n\n"
    "Manages the accounts of this node (they stay on it: never replicated).\n"
    "add and passwd read the password from stdin, one line, at least 8\n"
    "characters. del also ends the account's sessions and API tokens.\n\n"
    "  --dir DIR     the node's data directory\n"
    "  --user NAME   account name: a-z 0-9 . _ - (up to 64, starting with a\n"
    "                letter or digit)\n"
    "  --role ROLE   viewer, staff, leader or admin\n"
    "  --unit CODE   the account's unit: the node's own (default) or a unit\n"
    "                of its subtree that runs no node of its own\n"
    "  --json        list as JSON Lines\n";

static const char token_usage[] =
    "Usage: lienthong token --dir DIR --user NAME [--revoke]\n\n"
    "Prints a new API token for account NAME, once: scripts send it as\n"
    "\"Authorization: Bearer TOKEN\". The node keeps only its hash. With\n"
    "--revoke, deletes every token of the account instead.\n\n"
    "  --dir DIR     the node's data directory\n"
    "  --user NAME   the account\n"
    "  --revoke      revoke the account's tokens\n";

/* Records a CLI change in the audit log. */
static void audit_cli(store *s, const node_config *c, const char *action, const char *target)
{
    char path[64], err[256], who[96];
    const struct passwd *pw = getpwuid(getuid());
    /* "cli:" + the system user: account names cannot hold ':' */
    snprintf(who, sizeof who, "cli:%s", pw && pw->pw_name ? pw->pw_name : "?");
    snprintf(path, sizeof path, "lienthong %s", action);
    for (char *p = path; *p; p++)
        if (*p == '.')
            *p = ' ';
    audit_event ev = {who, c->unit, "", action, "CLI", path, "local", target, 0};
    if (audit_write(s, c, &ev, err, sizeof err))
        fprintf(stderr, "lienthong: warning: the audit entry was not written: %s\n", err);
}

/* Checks that unit is the node's or in its subtree (cmd: for the message). */
static int check_unit(const char *cmd, store *s, const node_config *c, const char *unit)
{
    if (!strcmp(unit, c->unit))
        return CLI_OK;
    unit_tree *t = unit_tree_new();
    bool ok = t && !unit_tree_load(t, s) &&
              unit_tree_within(t, unit, strlen(unit), c->unit, strlen(c->unit));
    unit_tree_free(t);
    if (!ok)
        return cli_error(cmd, CLI_USAGE,
                         "unit %s is not in the subtree of this node's unit %s: use %s or one "
                         "of its descendants (a unit without a node of its own needs a "
                         "\"units\" record here first: lienthong import --collection units)",
                         unit, c->unit, c->unit);
    return CLI_OK;
}

static int user_add(store *s, const node_config *c, const char *name, const char *role,
                    const char *unit, bool replace)
{
    account a;
    char pw[ACCOUNT_PASSWORD_MAX + 2], err[512];
    int code;
    int have = account_get(s, name, &a);
    if (have < 0)
        return cli_error("user", CLI_FAIL, "cannot read the accounts of this node");
    if (!replace && have == 0)
        return cli_error("user", CLI_FAIL,
                         "account %s exists: change its password with lienthong user passwd", name);
    if (replace && have == 1)
        return cli_error("user", CLI_FAIL, "no account %s on this node (lienthong user list)",
                         name);
    if (!replace) {
        memset(&a, 0, sizeof a);
        snprintf(a.name, sizeof a.name, "%s", name);
        snprintf(a.unit, sizeof a.unit, "%s", unit ? unit : c->unit);
        a.role = account_role_parse(role);
        a.created_ms = account_now_ms();
        if ((code = check_unit("user", s, c, a.unit)))
            return code;
    }
    if ((code = cli_read_password("user", pw, sizeof pw)))
        return code;
    int hrc = account_hash_password(pw, strlen(pw), a.hash);
    sodium_memzero(pw, sizeof pw);
    if (hrc)
        return cli_error("user", CLI_FAIL, "out of memory while hashing the password");
    if (account_put(s, &a, err, sizeof err))
        return cli_error("user", CLI_FAIL, "%s", err);
    if (replace)
        cred_purge(s, CRED_SESSION, name, 0); /* a new password ends the sessions */
    audit_cli(s, c, replace ? "user.passwd" : "user.add", name);
    if (replace)
        printf("password of %s changed; its sessions have ended\n", name);
    else
        printf("account %s created: role %s, unit %s\n", name, account_role_name(a.role), a.unit);
    return CLI_OK;
}

static int list_one(void *ctx, const account *a)
{
    bool json = *(bool *)ctx;
    if (json) {
        json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:b}", "user", a->name, "unit", a->unit, "role",
                              account_role_name(a->role), "created", (json_int_t)a->created_ms,
                              "disabled", a->disabled);
        char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;
        if (t)
            puts(t);
        free(t);
        json_decref(j);
    } else {
        printf("%-24s %-8s %s%s\n", a->name, account_role_name(a->role), a->unit,
               a->disabled ? " (disabled)" : "");
    }
    return 0;
}

int cmd_user(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, 0, 'd'},
                                         {"user", required_argument, 0, 'u'},
                                         {"role", required_argument, 0, 'r'},
                                         {"unit", required_argument, 0, 'n'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *dir = NULL, *name = NULL, *role = NULL, *unit = NULL, *sub = NULL;
    bool json = false, done = false;
    int code, ch;
    if (argc >= 2 && argv[1][0] != '-') {
        sub = argv[1];
        argc--;
        argv++;
    }
    while ((ch = cli_next_opt(argc, argv, opts, "user", user_usage, &code, &done)) != -1) {
        if (done)
            return code;
        if (ch == 'd')
            dir = optarg;
        else if (ch == 'u')
            name = optarg;
        else if (ch == 'r')
            role = optarg;
        else if (ch == 'n')
            unit = optarg;
        else if (ch == 'j')
            json = true;
    }
    bool add = sub && !strcmp(sub, "add"), passwd = sub && !strcmp(sub, "passwd");
    bool del = sub && !strcmp(sub, "del"), list = sub && !strcmp(sub, "list");
    if (!add && !passwd && !del && !list)
        return cli_usage_error("user", "name a subcommand: add, passwd, del or list");
    if (optind < argc)
        return cli_usage_error("user", "unexpected argument");
    if (!list && !name)
        return cli_usage_error("user", "--user NAME is required");
    if (name && !account_name_valid(name))
        return cli_usage_error("user", "--user must be 1-64 characters of a-z 0-9 . _ - "
                                       "starting with a letter or digit");
    if (add && !role)
        return cli_usage_error("user", "--role is required: viewer, staff, leader or admin");
    if (add && account_role_parse(role) == ROLE_NONE)
        return cli_usage_error("user", "--role must be viewer, staff, leader or admin");
    if ((role || unit) && !add)
        return cli_usage_error("user", "--role and --unit go with user add");
    node_config c;
    store *s;
    if ((code = cli_load("user", dir, &c)) || (code = cli_open_store("user", &c, &s, list)))
        return code;
    if (add || passwd) {
        code = user_add(s, &c, name, role, unit, passwd);
    } else if (del) {
        int rc = account_del(s, name);
        code = rc == 0   ? CLI_OK
               : rc == 1 ? cli_error("user", CLI_FAIL, "no account %s on this node", name)
                         : cli_error("user", CLI_FAIL, "cannot delete account %s", name);
        if (!code) {
            audit_cli(s, &c, "user.del", name);
            printf("account %s deleted, with its sessions and tokens\n", name);
        }
    } else {
        code = account_list(s, list_one, &json) < 0
                   ? cli_error("user", CLI_FAIL, "cannot read the accounts of this node")
                   : CLI_OK;
    }
    store_close(s);
    return code;
}

int cmd_token(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, 0, 'd'},
                                         {"user", required_argument, 0, 'u'},
                                         {"revoke", no_argument, 0, 'r'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *dir = NULL, *name = NULL;
    bool revoke = false, done = false;
    int code, ch;
    while ((ch = cli_next_opt(argc, argv, opts, "token", token_usage, &code, &done)) != -1) {
        if (done)
            return code;
        if (ch == 'd')
            dir = optarg;
        else if (ch == 'u')
            name = optarg;
        else if (ch == 'r')
            revoke = true;
    }
    if (optind < argc)
        return cli_usage_error("token", "unexpected argument");
    if (!name)
        return cli_usage_error("token", "--user NAME is required");
    node_config c;
    store *s;
    account a;
    char secret[ACCOUNT_SECRET_MAX], err[512];
    if ((code = cli_load("token", dir, &c)) || (code = cli_open_store("token", &c, &s, false)))
        return code;
    if (account_get(s, name, &a)) {
        code = cli_error("token", CLI_FAIL,
                         "no account %s on this node: create it with lienthong user add", name);
    } else if (revoke) {
        long n = cred_purge(s, CRED_TOKEN, name, 0);
        code =
            n < 0 ? cli_error("token", CLI_FAIL, "cannot revoke the tokens of %s", name) : CLI_OK;
        if (!code) {
            audit_cli(s, &c, "token.revoke", name);
            printf("revoked %ld token%s of %s\n", n, n == 1 ? "" : "s", name);
        }
    } else if (cred_create(s, CRED_TOKEN, name, account_now_ms(), secret, NULL, err, sizeof err)) {
        code = cli_error("token", CLI_FAIL, "%s", err);
    } else {
        audit_cli(s, &c, "token.create", name);
        puts(secret);
        sodium_memzero(secret, sizeof secret);
    }
    store_close(s);
    return code;
}

static const char key_usage[] =
    "Usage: lienthong open311-key add    --dir DIR --name NAME [--unit CODE]\n"
    "       lienthong open311-key list   --dir DIR\n"
    "       lienthong open311-key revoke --dir DIR --id ID\n\n"
    "Manages the keys city apps send as Open311's api_key (never an account's\n"
    "API token). add prints the key once; the node keeps only its hash. A key\n"
    "acts as a staff member of its unit, for Open311 only.\n\n"
    "  --dir DIR     the node's data directory\n"
    "  --name NAME   what the key is for: a-z 0-9 . _ - (up to 64)\n"
    "  --unit CODE   the key's unit: the node's own (default) or one of its\n"
    "                subtree\n"
    "  --id ID       the key to revoke, as list shows it\n";

static int key_print(void *ctx, const open311_key *k)
{
    (void)ctx;
    printf("%s  %-24s %s\n", k->id, k->name, k->unit);
    return 0;
}

/* add, list or revoke on the open store s. */
static int key_run(store *s, const node_config *c, const char *sub, const char *name,
                   const char *unit, const char *id)
{
    char secret[ACCOUNT_SECRET_MAX];
    open311_key k;
    lt_error e;
    int code, rc;
    if (!strcmp(sub, "list"))
        return open311_key_list(s, key_print, NULL)
                   ? cli_error("open311-key", CLI_FAIL, "cannot read the Open311 keys")
                   : CLI_OK;
    if (!strcmp(sub, "revoke")) {
        if ((rc = open311_key_revoke(s, id)))
            return cli_error("open311-key", CLI_FAIL, "%s %s",
                             rc > 0 ? "no Open311 key with id" : "cannot revoke the key", id);
        audit_cli(s, c, "open311_key.revoke", id);
        printf("Open311 key %s revoked\n", id);
        return CLI_OK;
    }
    if ((code = check_unit("open311-key", s, c, unit ? unit : c->unit)))
        return code;
    if (open311_key_create(s, name, unit ? unit : c->unit, account_now_ms(), secret, &k, &e))
        return cli_fail("open311-key", &e);
    audit_cli(s, c, "open311_key.add", k.id);
    fprintf(stderr, "Open311 key %s (%s, unit %s); shown once:\n", k.id, k.name, k.unit);
    puts(secret);
    sodium_memzero(secret, sizeof secret);
    return CLI_OK;
}

int cmd_open311_key(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, 0, 'd'},  {"name", required_argument, 0, 'n'},
        {"unit", required_argument, 0, 'u'}, {"id", required_argument, 0, 'i'},
        {"help", no_argument, 0, 'h'},       {0, 0, 0, 0}};
    const char *dir = NULL, *name = NULL, *unit = NULL, *id = NULL, *sub = NULL;
    bool done = false;
    int code, ch;
    if (argc >= 2 && argv[1][0] != '-') {
        sub = argv[1];
        argc--;
        argv++;
    }
    while ((ch = cli_next_opt(argc, argv, opts, "open311-key", key_usage, &code, &done)) != -1) {
        if (done)
            return code;
        if (ch == 'd')
            dir = optarg;
        else if (ch == 'n')
            name = optarg;
        else if (ch == 'u')
            unit = optarg;
        else if (ch == 'i')
            id = optarg;
    }
    if (!sub || (strcmp(sub, "add") && strcmp(sub, "list") && strcmp(sub, "revoke")))
        return cli_usage_error("open311-key", "name a subcommand: add, list or revoke");
    if (optind < argc)
        return cli_usage_error("open311-key", "unexpected argument");
    if (!strcmp(sub, "add") && !name)
        return cli_usage_error("open311-key", "--name NAME is required");
    if (!strcmp(sub, "revoke") && !id)
        return cli_usage_error("open311-key", "--id ID is required (open311-key list)");
    node_config c;
    store *s;
    if ((code = cli_load("open311-key", dir, &c)) ||
        (code = cli_open_store("open311-key", &c, &s, !strcmp(sub, "list"))))
        return code;
    code = key_run(s, &c, sub, name, unit, id);
    store_close(s);
    return code;
}
