/*
 * cli.c - shared conventions of the subcommands. See cli.h.
 */
#include "cli/cli.h"
#include "lib/hex.h"
#include "node/http/tls.h"
#include "node/people/accounts.h"
#include "node/recovery.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

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
    char key[65], why[512];
    if (!read_only && recovery_restored_key(c->dir, hex_encode(c->pk, 32, key))) {
        snprintf(why, sizeof why,
                 "%s was restored from a backup and has not yet got back from its parent the "
                 "entries it signed after that backup: nothing is signed with its key until "
                 "then. Start it (lienthong serve --dir %s) and wait until lienthong doctor no "
                 "longer reports \"restored\"; if no parent or mirror can be reached, run "
                 "lienthong rotate --dir %s",
                 c->dir, c->dir, c->dir);
        store_hold_local(*s, c->pk, why);
    }
    return CLI_OK;
}

char *cli_file_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0;
    *len = 0;
    for (;;) {
        if (*len + 65536 > cap) {
            char *nb = realloc(buf, cap = cap * 2 + 65536);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t n = fread(buf + *len, 1, cap - *len - 1, f);
        *len += n;
        if (!n)
            break;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    buf[*len] = '\0';
    return buf;
}

int cli_read_password(const char *cmd, char *pw, size_t cap)
{
    struct termios old, quiet;
    bool tty = isatty(STDIN_FILENO) && !tcgetattr(STDIN_FILENO, &old);
    if (tty) {
        fprintf(stderr, "Password: ");
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    bool got = fgets(pw, (int)cap, stdin) != NULL;
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (!got)
        return cli_error(cmd, CLI_USAGE, "no password on stdin: pipe it in, one line");
    size_t n = strcspn(pw, "\r\n");
    if (pw[n] == '\0' && n == cap - 1)
        return cli_error(cmd, CLI_USAGE, "the password is longer than %d bytes",
                         ACCOUNT_PASSWORD_MAX);
    pw[n] = '\0';
    if (n < ACCOUNT_PASSWORD_MIN)
        return cli_error(cmd, CLI_USAGE, "the password must have at least %d characters",
                         ACCOUNT_PASSWORD_MIN);
    return CLI_OK;
}

int cli_import_open(const char *cmd, bool import, int argc, char **argv, const char *dir,
                    const char *file, node_config *c, store **s, char **text, size_t *len)
{
    if (!import)
        return cli_usage_error(cmd, optind < argc ? argv[optind] : "a missing subcommand (import)");
    if (optind < argc || !file)
        return cli_usage_error(cmd, optind < argc ? "unexpected argument" : "no --file");
    if (!(*text = cli_file_read(file, len)))
        return cli_error(cmd, CLI_FAIL, "cannot read %s; check the path", file);
    int code;
    if ((code = cli_load(cmd, dir, c)) || (code = cli_open_store(cmd, c, s, false))) {
        free(*text);
        *text = NULL;
        return code;
    }
    return CLI_OK;
}

int cli_tls_ca(const char *cmd, const char *arg, node_config *c)
{
    char *abs = realpath(arg, NULL);
    if (!abs)
        return cli_error(cmd, CLI_USAGE, "--tls-ca %s: %s; give the path of the CA file", arg,
                         strerror(errno));
    char err[512];
    int code = CLI_OK;
    if (strlen(abs) >= sizeof c->tls_ca_file)
        code = cli_usage_error(cmd, "--tls-ca: the path is too long");
    else if (tls_ca_file_check(abs, err, sizeof err))
        code = cli_error(cmd, CLI_USAGE, "--tls-ca: %s", err);
    else
        snprintf(c->tls_ca_file, sizeof c->tls_ca_file, "%s", abs);
    free(abs);
    return code;
}
