/*
 * cli.c - shared conventions of the subcommands. See cli.h.
 */
#include "cli/cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_error(const char *cmd, int code, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "lienthong %s: error: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

int cli_fail(const char *cmd, const lt_error *e)
{
    int code = lt_errkind_exit(e->kind);
    return cli_error(cmd, code ? code : CLI_FAIL, "%s", e->message);
}

int cli_usage_error(const char *cmd, const char *what)
{
    fprintf(stderr, "lienthong %s: error: %s\nRun 'lienthong %s --help' for usage.\n", cmd, what,
            cmd);
    return CLI_USAGE;
}

int cli_next_opt(int argc, char **argv, const struct option *opts, const char *cmd,
                 const char *usage, int *exit_code, bool *done)
{
    opterr = 0;
    int c = getopt_long(argc, argv, "+h", opts, NULL);
    if (c == 'h') {
        fputs(usage, stdout);
        *exit_code = CLI_OK;
        *done = true;
    } else if (c == '?') {
        char what[256];
        if (optopt)
            snprintf(what, sizeof what, "option -%c is unknown or needs a value", optopt);
        else
            snprintf(what, sizeof what, "option %s is unknown or needs a value", argv[optind - 1]);
        *exit_code = cli_usage_error(cmd, what);
        *done = true;
    }
    return c;
}

int cli_timeout(const char *cmd, const char *arg, int *secs)
{
    char *end;
    long t = strtol(arg, &end, 10);
    if (*end || end == arg || t < 1 || t > 86400)
        return cli_usage_error(cmd, "--timeout must be 1 to 86400 seconds");
    *secs = (int)t;
    return CLI_OK;
}

int cli_load(const char *cmd, const char *dir, node_config *c)
{
    char err[512];
    if (!dir)
        return cli_usage_error(cmd, "--dir DIR is required");
    if (node_config_load(c, dir, err, sizeof err))
        return cli_error(cmd, CLI_FAIL, "%s", err);
    return CLI_OK;
}

int cli_open_store(const char *cmd, const node_config *c, store **s, bool read_only)
{
    char err[512];
    if (node_store_open(c, s, read_only, err, sizeof err))
        return cli_error(cmd, CLI_FAIL, "%s", err);
    return CLI_OK;
}
