/*
 * cmd_bundle.c - `lienthong bundle export|import`: replication carried by
 * file (a USB stick) between nodes that cannot connect.
 */
#include "cli/cli.h"
#include "replication/bundle.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "Usage: lienthong bundle export --dir DIR --for UNIT --out FILE [--since STATUS.json]\n"
    "       lienthong bundle import --dir DIR FILE\n\n"
    "Replication by file for units whose link is down. export writes what unit\n"
    "UNIT should receive from this node (the same choice a live link makes),\n"
    "signed by this node; import checks the signature, the sender's certificate\n"
    "chain and every entry, and only then applies it. Importing a bundle twice\n"
    "changes nothing.\n\n"
    "  --dir DIR           this node's data directory\n"
    "  --for UNIT          the unit the bundle is for (above or below this one)\n"
    "  --out FILE          where to write the bundle\n"
    "  --since FILE        the receiver's `lienthong status --json` output (or a\n"
    "                      JSON object {origin: seq}): leave out what it holds;\n"
    "                      without it, everything UNIT should hold is written\n";

static int bundle_open(const char *dir, node_config *c, store **s, repl_node *rn)
{
    int code;
    char err[512];
    if ((code = cli_load("bundle", dir, c)) || (code = cli_open_store("bundle", c, s, false)))
        return code;
    if (repl_node_init(rn, *s, c->unit, c->pk, err, sizeof err)) {
        store_close(*s);
        return cli_error("bundle", CLI_FAIL, "%s", err);
    }
    return CLI_OK;
}

static int bundle_export_cmd(const char *dir, const char *for_unit, const char *out,
                             const char *since_path)
{
    json_t *since = NULL;
    if (since_path) {
        json_error_t je;
        json_t *j = json_load_file(since_path, 0, &je);
        if (!j)
            return cli_error("bundle", CLI_FAIL, "%s line %d: %s", since_path, je.line, je.text);
        since = json_object_get(j, "complete") ? json_incref(json_object_get(j, "complete")) : j;
        if (since != j)
            json_decref(j);
        if (!json_is_object(since)) {
            json_decref(since);
            return cli_error("bundle", CLI_FAIL,
                             "%s must be `lienthong status --json` output or {origin: seq}",
                             since_path);
        }
    }
    node_config c;
    store *s;
    repl_node rn;
    int code = bundle_open(dir, &c, &s, &rn);
    if (code) {
        json_decref(since);
        return code;
    }
    char err[512];
    bundle_stats st;
    int rc = bundle_export(&rn, c.sk, for_unit, since, out, &st, err, sizeof err);
    repl_node_release(&rn);
    store_close(s);
    json_decref(since);
    if (rc)
        return cli_error("bundle", CLI_FAIL, "%s", err);
    printf("wrote %s for unit %s: %llu entries, %llu positions, %llu bytes\n", out, for_unit,
           (unsigned long long)st.entries, (unsigned long long)st.marks,
           (unsigned long long)st.bytes);
    return CLI_OK;
}

static int bundle_import_cmd(const char *dir, const char *file)
{
    node_config c;
    store *s;
    repl_node rn;
    int code = bundle_open(dir, &c, &s, &rn);
    if (code)
        return code;
    char err[512];
    bundle_stats st;
    int rc = c.has_root_key ? bundle_import(&rn, c.root_key, file, &st, err, sizeof err) : -1;
    if (!c.has_root_key)
        snprintf(err, sizeof err, "this node is not enrolled in a network yet");
    repl_node_release(&rn);
    store_close(s);
    if (rc)
        return cli_error("bundle", CLI_FAIL, "%s", err);
    printf("imported %s: %llu new entries, %llu positions\n", file, (unsigned long long)st.entries,
           (unsigned long long)st.marks);
    return CLI_OK;
}

int cmd_bundle(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, 0, 'd'}, {"for", required_argument, 0, 'f'},
        {"out", required_argument, 0, 'o'}, {"since", required_argument, 0, 's'},
        {"help", no_argument, 0, 'h'},      {0, 0, 0, 0}};
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(usage, stdout);
        return CLI_OK;
    }
    if (argc < 2 || (strcmp(argv[1], "export") && strcmp(argv[1], "import")))
        return cli_usage_error("bundle", "say `bundle export` or `bundle import`");
    const char *verb = argv[1], *dir = NULL, *for_unit = NULL, *out = NULL, *since = NULL;
    int code, ch;
    bool done = false;
    while ((ch = cli_next_opt(argc - 1, argv + 1, opts, "bundle", usage, &code, &done)) != -1) {
        if (done)
            return code;
        if (ch == 'd')
            dir = optarg;
        else if (ch == 'f')
            for_unit = optarg;
        else if (ch == 'o')
            out = optarg;
        else if (ch == 's')
            since = optarg;
    }
    int rest = argc - 1 - optind;
    if (!strcmp(verb, "export")) {
        if (rest)
            return cli_usage_error("bundle", "unexpected argument");
        if (!dir || !for_unit || !out)
            return cli_usage_error("bundle", "export needs --dir, --for and --out");
        return bundle_export_cmd(dir, for_unit, out, since);
    }
    if (rest != 1 || for_unit || out || since)
        return cli_usage_error("bundle", "import takes --dir DIR and one FILE");
    if (!dir)
        return cli_usage_error("bundle", "--dir DIR is required");
    return bundle_import_cmd(dir, argv[1 + optind]);
}
