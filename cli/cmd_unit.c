/*
 * cmd_unit.c - `lienthong unit move|merge|retire-tier|rename`: tree changes
 * issued by the trust root (node/membership/unit_ops.h). Each prints what
 * it will change; only with --yes are the entries written.
 */
#include "cli/cli.h"
#include "node/membership/unit_ops.h"
#include "node/membership/unit_staff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "Usage: lienthong unit move        --dir DIR --unit CODE --parent CODE [--yes]\n"
    "       lienthong unit merge       --dir DIR --units A,B --into C [--name NAME]\n"
    "                                  [--parent CODE] [--yes]\n"
    "       lienthong unit retire-tier --dir DIR --tier TIER [--yes]\n"
    "       lienthong unit rename      --dir DIR --unit CODE --name NAME [--yes]\n"
    "       lienthong unit move-staff  --dir DIR --to-dir DIR2 [--yes]\n\n"
    "Changes the administrative tree. Run on the trust root's node (the top\n"
    "tier): the changes are signed entries every node applies. Without --yes\n"
    "the command prints what it would change and writes nothing.\n\n"
    "  move         puts unit CODE under a new parent (a unit of a higher tier)\n"
    "  merge        merges units A, B... (one tier) into C, a new code (give\n"
    "               --name; it goes under their common parent or --parent) or\n"
    "               an existing unit; their children move under C\n"
    "  retire-tier  merges every unit of TIER into its parent; their children\n"
    "               move to that parent\n"
    "  rename       gives unit CODE a new name\n"
    "  move-staff   moves the accounts of units merged away from the node at DIR\n"
    "               (theirs) to the node at DIR2, which serves the unit they were\n"
    "               merged into: same names, roles and passwords\n\n"
    "  --dir DIR    the root node's data directory\n"
    "  --yes        write the change (without it: only show it)\n";

static const struct {
    const char *name;
    unit_op_kind kind;
} subcommands[] = {{"move", UNIT_OP_MOVE},
                   {"merge", UNIT_OP_MERGE},
                   {"retire-tier", UNIT_OP_RETIRE_TIER},
                   {"rename", UNIT_OP_RENAME}};

/* Copies optarg into a field of op; false when too long. */
static bool opt_copy(char *out, size_t cap)
{
    if (strlen(optarg) >= cap)
        return false;
    snprintf(out, cap, "%s", optarg);
    return true;
}

/* Plans op on the node at dir, prints the plan and, with yes, writes it. */
static int unit_run(const char *dir, const unit_op *op, bool yes)
{
    node_config c;
    store *s;
    int code;
    if ((code = cli_load("unit", dir, &c)) || (code = cli_open_store("unit", &c, &s, false)))
        return code;
    lt_error e;
    lt_error_clear(&e);
    unit_plan p;
    char by[NODE_CODE_MAX + 16];
    snprintf(by, sizeof by, "cli@%s", c.unit);
    if (unit_ops_plan(s, &c, op, by, &p, &e)) {
        store_close(s);
        return cli_fail("unit", &e);
    }
    char *text = unit_plan_text(&p);
    fputs(text ? text : "", stdout);
    free(text);
    if (!yes) {
        printf("nothing written: run again with --yes to apply this change\n");
        code = CLI_OK;
    } else if (unit_ops_commit(s, &c, &p, &e)) {
        code = cli_fail("unit", &e);
    } else {
        printf("applied: operation %s written (%zu units changed); every node applies it as "
               "it arrives\n",
               json_string_value(json_object_get(p.op, "id")), json_array_size(p.changes));
        code = CLI_OK;
    }
    unit_plan_free(&p);
    store_close(s);
    return code;
}

/* Splits the --units list into op (comma-separated). */
static bool units_parse(const char *list, unit_op *op)
{
    json_t *req = json_pack("{s:s, s:s}", "op", unit_op_name(op->kind), "units", list);
    unit_op parsed;
    lt_error e;
    bool ok = !unit_op_from_json(req, &parsed, &e);
    json_decref(req);
    if (ok) {
        memcpy(op->units, parsed.units, sizeof op->units);
        op->nunits = parsed.nunits;
    }
    return ok;
}

/* The options of one subcommand into op; returns -1 when all is read, or
 * an exit code. */
static int unit_options(int argc, char **argv, unit_op *op, const char **dir, bool *yes)
{
    static const struct option opts[] = {
        {"dir", required_argument, 0, 'd'},   {"unit", required_argument, 0, 'u'},
        {"units", required_argument, 0, 'U'}, {"parent", required_argument, 0, 'p'},
        {"into", required_argument, 0, 'i'},  {"name", required_argument, 0, 'n'},
        {"tier", required_argument, 0, 't'},  {"yes", no_argument, 0, 'y'},
        {"help", no_argument, 0, 'h'},        {0, 0, 0, 0}};
    int code, ch;
    bool done = false, ok = true;
    while ((ch = cli_next_opt(argc, argv, opts, "unit", usage, &code, &done)) != -1) {
        if (done || ch == '?')
            return done ? code : CLI_USAGE;
        if (ch == 'd')
            *dir = optarg;
        else if (ch == 'y')
            *yes = true;
        else if (ch == 'u')
            ok = op->nunits == 0 && opt_copy(op->units[op->nunits++], NODE_CODE_MAX);
        else if (ch == 'U')
            ok = units_parse(optarg, op);
        else if (ch == 'p')
            ok = opt_copy(op->parent, sizeof op->parent);
        else if (ch == 'i')
            ok = opt_copy(op->into, sizeof op->into);
        else if (ch == 'n')
            ok = opt_copy(op->name, sizeof op->name);
        else if (ch == 't')
            ok = opt_copy(op->tier, sizeof op->tier);
        if (!ok)
            return cli_usage_error("unit", "a unit code, tier or name is too long (or --unit "
                                           "given twice)");
    }
    if (optind < argc)
        return cli_usage_error("unit", "unexpected argument");
    return -1;
}

/* The options each subcommand needs, checked before the node is opened. */
static int unit_required(const unit_op *op)
{
    bool ok = op->kind == UNIT_OP_MOVE     ? op->nunits && op->parent[0]
              : op->kind == UNIT_OP_MERGE  ? op->nunits && op->into[0]
              : op->kind == UNIT_OP_RENAME ? op->nunits && op->name[0]
                                           : op->tier[0] != '\0';
    static const char *const needs[] = {
        "move needs --unit CODE and --parent CODE", "merge needs --units A,B and --into C",
        "retire-tier needs --tier TIER", "rename needs --unit CODE and --name NAME"};
    return ok ? -1 : cli_usage_error("unit", needs[op->kind]);
}

/* Prints the staff plan and, with yes, moves the accounts. */
static int staff_run(const char *dir, const char *to_dir, bool yes)
{
    node_config c, tc;
    store *s = NULL, *ts = NULL;
    int code;
    if ((code = cli_load("unit", dir, &c)) || (code = cli_load("unit", to_dir, &tc)) ||
        (code = cli_open_store("unit", &c, &s, false)) ||
        (code = cli_open_store("unit", &tc, &ts, false))) {
        store_close(s);
        return code;
    }
    lt_error e;
    lt_error_clear(&e);
    json_t *out = NULL, *a;
    if (unit_staff_move(s, ts, &tc, yes, &out, &e)) {
        code = cli_fail("unit", &e);
    } else {
        size_t i;
        json_array_foreach(out, i, a)
        {
            const char *why = json_string_value(json_object_get(a, "why"));
            printf("  %s (%s): unit %s -> %s%s%s\n", json_string_value(json_object_get(a, "user")),
                   json_string_value(json_object_get(a, "role")),
                   json_string_value(json_object_get(a, "from")),
                   json_string_value(json_object_get(a, "to")), why ? ": stays, " : "",
                   why ? why : "");
        }
        printf(json_array_size(out) ? (yes ? "accounts moved to %s\n"
                                           : "nothing written: run again with --yes to move "
                                             "them to %s\n")
                                    : "no account of a unit merged away on this node (%s "
                                      "unchanged)\n",
               tc.dir);
        code = CLI_OK;
    }
    json_decref(out);
    store_close(s);
    store_close(ts);
    return code;
}

static int staff_cmd(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, 0, 'd'},
                                         {"to-dir", required_argument, 0, 't'},
                                         {"yes", no_argument, 0, 'y'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *dir = NULL, *to = NULL;
    bool yes = false, done = false;
    int code, ch;
    while ((ch = cli_next_opt(argc, argv, opts, "unit", usage, &code, &done)) != -1) {
        if (done || ch == '?')
            return done ? code : CLI_USAGE;
        if (ch == 'd')
            dir = optarg;
        else if (ch == 't')
            to = optarg;
        else if (ch == 'y')
            yes = true;
    }
    if (optind < argc)
        return cli_usage_error("unit", "unexpected argument");
    if (!to)
        return cli_usage_error("unit", "move-staff needs --to-dir DIR2, the data directory of "
                                       "the node of the unit the accounts go to");
    return staff_run(dir, to, yes);
}

int cmd_unit(int argc, char **argv)
{
    const char *action = argc > 1 ? argv[1] : "";
    unit_op op;
    memset(&op, 0, sizeof op);
    if (!strcmp(action, "move-staff"))
        return staff_cmd(argc - 1, argv + 1);
    int found = -1;
    for (size_t i = 0; i < sizeof subcommands / sizeof *subcommands; i++)
        if (!strcmp(action, subcommands[i].name))
            found = (int)i;
    if (found < 0) {
        if (!strcmp(action, "--help") || !strcmp(action, "-h")) {
            fputs(usage, stdout);
            return CLI_OK;
        }
        return cli_usage_error("unit", *action ? action
                                               : "a missing subcommand (move, merge, retire-tier, "
                                                 "rename, move-staff)");
    }
    op.kind = subcommands[found].kind;
    const char *dir = NULL;
    bool yes = false;
    int code = unit_options(argc - 1, argv + 1, &op, &dir, &yes);
    if (code < 0)
        code = unit_required(&op);
    return code >= 0 ? code : unit_run(dir, &op, yes);
}
