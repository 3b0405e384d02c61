/*
 * cmd_export.c - `lienthong export`: a collection's materialised records
 * as JSON Lines, in id order, the format `import` reads. A domain's
 * collection (node/domains.h) gives the lines its importer reads back.
 */
#include "cli/cli.h"
#include "node/domains.h"
#include "storage/record.h"

#include <stdio.h>

static const char usage[] =
    "Usage: lienthong export --dir DIR --collection C [--raw]\n\n"
    "Prints every live record of collection C as one JSON object per line\n"
    "({\"id\": ..., fields...}), in id order. Deleted records are left out.\n"
    "Collection reports gives the lines `import --collection reports` reads\n"
    "back into the same reports (the API's field names, no history).\n\n"
    "  --dir DIR         the node's data directory\n"
    "  --collection C    the collection to export\n"
    "  --raw             (a domain's collection) the stored records, every field\n";

typedef struct {
    const domain_importer *im; /* NULL: the records as stored */
    char err[256];
} export_ctx;

static int export_one(void *ctx, const char *id, size_t idlen, const uint8_t *rec, size_t len)
{
    export_ctx *x = ctx;
    if (record_is_deleted(rec, len))
        return 0;
    json_t *j = record_to_json(rec, len, id, idlen, x->err, sizeof x->err);
    if (!j)
        return -2;
    if (x->im) {
        json_t *line = x->im->export_line(j);
        json_decref(j);
        j = line;
    }
    json_dumpf(j, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    putchar('\n');
    json_decref(j);
    return 0;
}

int cmd_export(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, 0, 'd'},
                                         {"collection", required_argument, 0, 'c'},
                                         {"raw", no_argument, 0, 'r'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *dir = NULL, *coll = NULL;
    int code, ch;
    bool done = false, raw = false;
    while ((ch = cli_next_opt(argc, argv, opts, "export", usage, &code, &done)) != -1) {
        if (done)
            return code;
        if (ch == 'd')
            dir = optarg;
        else if (ch == 'c')
            coll = optarg;
        else if (ch == 'r')
            raw = true;
    }
    if (optind < argc)
        return cli_usage_error("export", "unexpected argument");
    if (!dir || !coll)
        return cli_usage_error("export", "--dir and --collection are required");
    node_config c;
    store *s;
    if ((code = cli_load("export", dir, &c)) || (code = cli_open_store("export", &c, &s, false)))
        return code;
    export_ctx x = {raw ? NULL : domains_importer(coll), ""};
    int rc = store_records(s, coll, export_one, &x);
    store_close(s);
    if (rc)
        return cli_error("export", CLI_FAIL, "cannot export %s: %s", coll,
                         x.err[0] ? x.err : "storage error");
    return fflush(stdout) ? CLI_FAIL : CLI_OK;
}
