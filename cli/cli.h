/*
 * cli.h - what the `lienthong` subcommands share: their entry points, the
 * error and usage conventions, and option parsing helpers.
 *
 * Exit codes: 0 success; 1 the command ran and failed (or found problems,
 * as verify does); 2 the command line or its input (a bad line of an
 * imported file) was wrong. A failure with a typed error (lib/error.h)
 * exits with the code the one error table gives its kind (cli_fail).
 */
#ifndef LT_CLI_H
#define LT_CLI_H

#include "lib/error.h"
#include "node/env/config.h"

#include <getopt.h>
#include <stdbool.h>

#define CLI_OK 0
#define CLI_FAIL 1
#define CLI_USAGE 2

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} cli_command;

int cmd_init(int argc, char **argv);
int cmd_enroll(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_bundle(int argc, char **argv);
int cmd_revoke(int argc, char **argv);
int cmd_unit(int argc, char **argv);
int cmd_quarantine(int argc, char **argv);
int cmd_user(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_open311_key(int argc, char **argv);
int cmd_approve(int argc, char **argv);
int cmd_rotate(int argc, char **argv);
int cmd_reports(int argc, char **argv);
int cmd_indicators(int argc, char **argv);
int cmd_cameras(int argc, char **argv);
int cmd_signer(int argc, char **argv);
int cmd_tls(int argc, char **argv);
int cmd_register(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_doctor(int argc, char **argv);

/* Reads a password of ACCOUNT_PASSWORD_MIN..ACCOUNT_PASSWORD_MAX bytes, one
 * line from stdin (without echo on a terminal), into pw (cap bytes).
 * Returns CLI_OK, or CLI_USAGE after printing what was wrong. */
int cli_read_password(const char *cmd, char *pw, size_t cap);

/* Prints "lienthong CMD: error: ..." to stderr and returns code. */
int cli_error(const char *cmd, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prints "lienthong CMD: error: MESSAGE" (e's message) to stderr and
 * returns the exit code of e's kind (lt_errkind_exit: 2 when the input was
 * wrong, 1 for any other failure; 1 also for LT_OK, never 0). */
int cli_fail(const char *cmd, const lt_error *e);

/* Reports an unknown option or stray argument: prints the error and a
 * pointer to --help; returns CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *what);

/* Runs getopt_long with the conventions of every command (--help prints
 * usage and makes *done true with CLI_OK). Returns the option character, -1
 * at the end, or '?' after printing an error. */
int cli_next_opt(int argc, char **argv, const struct option *opts, const char *cmd,
                 const char *usage, int *exit_code, bool *done);

/* Parses a --timeout SECS value (1 to 86400) into *secs; on a bad value
 * prints the usage error and returns CLI_USAGE. */
int cli_timeout(const char *cmd, const char *arg, int *secs);

/* Sets c->tls_ca_file to the absolute path of the CA file arg (--tls-ca;
 * config.json resolves relative paths against the data directory). Returns
 * CLI_OK, or CLI_USAGE after printing why (the file cannot be found or
 * holds no PEM certificate) with c unchanged. */
int cli_tls_ca(const char *cmd, const char *arg, node_config *c);

/* Loads the node at dir, printing an error on failure. */
int cli_load(const char *cmd, const char *dir, node_config *c);

/* Opens the node's store, printing an error on failure. */
int cli_open_store(const char *cmd, const node_config *c, store **s, bool read_only);

/* The whole file at path into a malloc'd, NUL-terminated buffer of *len
 * bytes; NULL when it cannot be read. */
char *cli_file_read(const char *path, size_t *len);

/* The common part of `lienthong CMD import --dir DIR --file F` once its
 * options are parsed (import: the subcommand was given; optind/argc: what
 * is left): checks the command line, reads F into *text (*len bytes,
 * NUL-terminated, the caller frees it), loads DIR's config into *c and
 * opens its store read-write into *s. Returns CLI_OK, or the exit code
 * after printing what was wrong (nothing left open). */
int cli_import_open(const char *cmd, bool import, int argc, char **argv, const char *dir,
                    const char *file, node_config *c, store **s, char **text, size_t *len);

#endif
