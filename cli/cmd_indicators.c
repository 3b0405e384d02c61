/*
 * cmd_indicators.c - `lienthong indicators import`: a CSV file of
 * indicator values (indicator,unit,period,value[,comment]) written into a
 * node's store with the rules of POST /api/v1/indicators/values.csv, as
 * an operator of the node's unit.
 */
#include "cli/cli.h"
#include "indicators/indicators.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "Usage: lienthong indicators import --dir DIR --file F.csv [--user NAME]\n\n"
    "Imports indicator values from a CSV file with the header\n"
    "indicator,unit,period,value,comment (UTF-8, with or without BOM; ',' or ';';\n"
    "a decimal comma is accepted) into the node of DIR, as an operator of the\n"
    "node's unit (recorded as NAME, default \"cli\"; corrections after the lock\n"
    "day are recorded as approved by NAME). Every row is checked first: a bad\n"
    "row stores nothing and is named with its column. A rerun writes nothing.\n\n"
    "  --dir DIR      the node's data directory\n"
    "  --file F.csv   the values\n"
    "  --user NAME    who is recorded as entering them\n";

int cmd_indicators(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, 0, 'd'},
                                         {"file", required_argument, 0, 'f'},
                                         {"user", required_argument, 0, 'u'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *dir = NULL, *file = NULL, *user = "cli";
    int code, ch;
    bool done = false;
    bool import = argc > 1 && !strcmp(argv[1], "import");
    if (import)
        argc--, argv++;
    while ((ch = cli_next_opt(argc, argv, opts, "indicators", usage, &code, &done)) != -1) {
        if (done)
            return code;
        if (ch == 'd')
            dir = optarg;
        else if (ch == 'f')
            file = optarg;
        else if (ch == 'u')
            user = optarg;
    }
    size_t len;
    char *text;
    node_config c;
    store *s;
    if ((code = cli_import_open("indicators", import, argc, argv, dir, file, &c, &s, &text, &len)))
        return code;
    indicators *d = indicators_new(s, &c);
    ind_actor who = {user, c.unit, ROLE_ADMIN};
    lt_error e = {0};
    size_t written = 0, unchanged = 0;
    int rc = d ? indicators_csv_import(d, text, len, &who, &written, &unchanged, &e)
               : lt_error_set(&e, LT_EINTERNAL, NULL, "out of memory");
    indicators_free(d);
    store_close(s);
    free(text);
    if (rc) {
        lt_error out = e;
        snprintf(out.message, sizeof out.message, "%s: %s (nothing stored)", file, e.message);
        return cli_fail("indicators", &out);
    }
    printf("indicators import: %zu written, %zu unchanged\n", written, unchanged);
    return CLI_OK;
}
