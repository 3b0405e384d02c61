/*
 * cmd_cameras.c - `lienthong cameras import`: a CSV file of cameras
 * (id,name,field,lat,lon,url[,enabled]) registered on the node of DIR
 * with the rules of PUT /api/v1/cameras/{id}: all rows or none.
 */
#include "cli/cli.h"
#include "media/media.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "Usage: lienthong cameras import --dir DIR --file cams.csv\n\n"
    "Registers the cameras of a CSV file with the header\n"
    "id,name,field,lat,lon,url[,enabled] (UTF-8, with or without BOM) on the\n"
    "node of DIR, as cameras of the node's unit. Credentials in a url\n"
    "(rtsp://user:pass@host/...) stay on this node; the registry replicates the\n"
    "address without them. Every row is checked first: a bad row stores\n"
    "nothing and is named with its line and column. A rerun writes nothing.\n\n"
    "  --dir DIR        the node's data directory\n"
    "  --file cams.csv  the cameras\n";

int cmd_cameras(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, 0, 'd'},
                                         {"file", required_argument, 0, 'f'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *dir = NULL, *file = NULL;
    int code, ch;
    bool done = false;
    bool import = argc > 1 && !strcmp(argv[1], "import");
    if (import)
        argc--, argv++;
    while ((ch = cli_next_opt(argc, argv, opts, "cameras", usage, &code, &done)) != -1) {
        if (done)
            return code;
        if (ch == 'd')
            dir = optarg;
        else if (ch == 'f')
            file = optarg;
    }
    size_t len;
    char *text;
    node_config c;
    store *s;
    if ((code = cli_import_open("cameras", import, argc, argv, dir, file, &c, &s, &text, &len)))
        return code;
    unit_tree *t = unit_tree_new();
    lt_error e = {0};
    size_t written = 0, unchanged = 0;
    int rc = !t || unit_tree_load(t, s)
                 ? lt_error_set(&e, LT_ESTORAGE, NULL, "cannot load the unit tree")
                 : cameras_csv_import(s, &c, t, text, len, &written, &unchanged, &e);
    unit_tree_free(t);
    store_close(s);
    free(text);
    if (rc)
        return cli_error("cameras", lt_errkind_exit(e.kind), "%s: %s (nothing stored)", file,
                         e.message);
    printf("cameras import: %zu written, %zu unchanged\n", written, unchanged);
    return CLI_OK;
}
