/*
 * cmd_register.c - `lienthong register`: the numbering register of the
 * node's unit (documents/documents.h): which server numbers the unit's
 * documents, a hand-over to another server, a take-over when the holder
 * is lost (docs/documents.md, "Numbering").
 */
#include "cli/cli.h"
#include "documents/documents.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "Usage: lienthong register show|handover|takeover --dir DIR [--to KEY] [--reason TEXT]\n\n"
    "The numbering register of the unit of the node of DIR: only the server that\n"
    "holds it numbers the unit's documents (12/QĐ-UBND); another server of the\n"
    "unit refuses to issue (409 document.register_elsewhere).\n\n"
    "  show      who holds it, and the unit's servers (--json: as GET\n"
    "            /api/v1/documents/register answers)\n"
    "  handover  on the holder: hands it to server --to KEY with the last number\n"
    "            of every series (--reason required)\n"
    "  takeover  on this server, when the holder is lost (--reason required).\n"
    "            Risk: numbers the lost holder gave that never arrived here are\n"
    "            given again; take over only when it is truly gone\n\n"
    "  --dir DIR      the node's data directory\n"
    "  --to KEY       handover: the node key of the other server (64 hex)\n"
    "  --reason TEXT  why (kept in the register's record)\n"
    "  --json         show: the register as JSON\n";

/* Prints the register r in words: who holds it and what to do. */
static void register_print(const json_t *r)
{
    const char *holder = json_string_value(json_object_get(r, "holder"));
    bool here = json_is_true(json_object_get(r, "held_here"));
    printf("unit %s: the numbering register is held by node %s (%s)\n",
           json_string_value(json_object_get(r, "unit")), holder,
           json_string_value(json_object_get(r, "how")));
    if (here)
        printf("this node holds it: documents of the unit are numbered here\n");
    else
        printf("this node (%s) does not hold it: issue documents on node %.16s, or hand the\n"
               "register over from there (lienthong register handover --to %s);\n"
               "if that server is lost, take it over here (lienthong register takeover)\n",
               json_string_value(json_object_get(r, "this_node")), holder,
               json_string_value(json_object_get(r, "this_node")));
    size_t i;
    const json_t *s;
    json_array_foreach(json_object_get(r, "servers"), i, s)
    {
        printf("  server %s %s%s\n", json_string_value(json_object_get(s, "node")),
               json_string_value(json_object_get(s, "name")),
               json_is_true(json_object_get(s, "live")) ? "" : " (certificate ended)");
    }
}

/* Runs action on the register of the node's unit as the CLI (an admin). */
static int register_run(const char *action, const char *dir, const char *to, const char *reason,
                        bool json)
{
    node_config c;
    store *s;
    int code;
    bool show = !strcmp(action, "show");
    if ((code = cli_load("register", dir, &c)) || (code = cli_open_store("register", &c, &s, show)))
        return code;
    documents *d = documents_new(s, &c);
    lt_error e = {0};
    doc_actor who = {"lienthong-cli", c.unit, ROLE_ADMIN};
    int rc = !d                            ? lt_error_set(&e, LT_EINTERNAL, NULL, "out of memory")
             : show                        ? 0
             : !strcmp(action, "handover") ? documents_register_handover(d, to, reason, &who, &e)
                                           : documents_register_takeover(d, reason, &who, &e);
    json_t *r = rc ? NULL : documents_register_get(d, &e);
    documents_free(d);
    store_close(s);
    if (!r)
        return cli_error("register", lt_errkind_exit(e.kind), "%s", e.message);
    if (json)
        json_dumpf(r, stdout, JSON_INDENT(2)), printf("\n");
    else
        register_print(r);
    json_decref(r);
    return CLI_OK;
}

int cmd_register(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, 0, 'd'},    {"to", required_argument, 0, 't'},
        {"reason", required_argument, 0, 'r'}, {"json", no_argument, 0, 'j'},
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    const char *dir = NULL, *to = NULL, *reason = NULL, *action = argc > 1 ? argv[1] : "";
    bool json = false, done = false;
    int code, ch;
    bool known =
        !strcmp(action, "show") || !strcmp(action, "handover") || !strcmp(action, "takeover");
    if (known)
        argc--, argv++;
    while ((ch = cli_next_opt(argc, argv, opts, "register", usage, &code, &done)) != -1) {
        if (done)
            return code;
        if (ch == 'd')
            dir = optarg;
        else if (ch == 't')
            to = optarg;
        else if (ch == 'r')
            reason = optarg;
        else if (ch == 'j')
            json = true;
    }
    if (!known)
        return cli_usage_error("register", *action ? action
                                                   : "a missing subcommand (show, handover, "
                                                     "takeover)");
    if (optind < argc)
        return cli_usage_error("register", "unexpected argument");
    return register_run(action, dir, to, reason, json);
}
