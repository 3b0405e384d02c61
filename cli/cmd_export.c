/*
 * cmd_export.c - `lienthong export`: a collection's materialised records
 * as JSON Lines, in id order, the format `import` reads.
 */
#include "cli/cli.h"
#include "storage/record.h"

#include <stdio.h>

static const char usage[] =
    "Usage: lienthong export --dir DIR --collection C\n\n"
    "Prints every live record of collection C as one JSON object per line\n"
    "({\"id\": ..., fields...}), in id order. Deleted records are left out.\n\n"
    "  --dir DIR         the node's data directory\n"
    "  --collection C    the collection to export\n";

static int export_one(void *ctx, const char *id, size_t idlen, const uint8_t *rec, size_t len)
{
    char *err = ctx;
    if (record_is_deleted(rec, len))
        return 0;
    json_t *j = record_to_json(rec, len, id, idlen, err, 256);
    if (!j)
        return -2;
    json_dumpf(j, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    putchar('\n');
    json_decref(j);
    return 0;
}

int cmd_export(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, 0, 'd'},
                                         {"collection", required_argument, 0, 'c'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *dir = NULL, *coll = NULL;
    int code, ch;
    bool done = false;
    while ((ch = cli_next_opt(argc, argv, opts, "export", usage, &code, &done)) != -1) {
        if (done)
            return code;
        if (ch == 'd')
            dir = optarg;
        else if (ch == 'c')
            coll = optarg;
    }
    if (optind < argc)
        return cli_usage_error("export", "unexpected argument");
    if (!dir || !coll)
        return cli_usage_error("export", "--dir and --collection are required");
    node_config c;
    store *s;
    if ((code = cli_load("export", dir, &c)) || (code = cli_open_store("export", &c, &s, false)))
        return code;
    char err[256] = "";
    int rc = store_records(s, coll, export_one, err);
    store_close(s);
    if (rc)
        return cli_error("export", CLI_FAIL, "cannot export %s: %s", coll,
                         err[0] ? err : "storage error");
    return fflush(stdout) ? CLI_FAIL : CLI_OK;
}
