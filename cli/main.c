/*
 * main.c - the `lienthong` binary: dispatches to a subcommand.
 */
#include "cli/cli.h"
#include "node/domains.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

static const cli_command commands[] = {
    {"init", cmd_init, "create a node: data dir, key pair, config"},
    {"enroll", cmd_enroll, "join the network: request to the parent node, or certify locally"},
    {"approve", cmd_approve, "list, approve or refuse enrolment requests at the parent"},
    {"rotate", cmd_rotate, "replace this node's key, keeping its unit and history"},
    {"serve", cmd_serve, "run a node: HTTP API on its libuv loop"},
    {"status", cmd_status, "identity, entries per origin, digests per collection"},
    {"import", cmd_import, "write records from a JSON Lines file as signed entries"},
    {"export", cmd_export, "print a collection's records as JSON Lines"},
    {"verify", cmd_verify, "check signatures, hash links and materialised state"},
    {"log", cmd_log, "print entries readably"},
    {"unit", cmd_unit, "tree changes by the root: move, merge, retire-tier, rename units"},
    {"revoke", cmd_revoke, "revoke a node's certificate (issuer or ancestor)"},
    {"quarantine", cmd_quarantine, "list entries refused on write authority, with reasons"},
    {"bundle", cmd_bundle, "replicate by file: export for a unit, import"},
    {"user", cmd_user, "manage this node's accounts: add, passwd, del, list"},
    {"token", cmd_token, "print a new API token for an account (or revoke them)"},
    {"open311-key", cmd_open311_key, "Open311 api_keys for city apps: add, list, revoke"},
    {"reports", cmd_reports, "field reports: run the overdue escalation sweep"},
    {"indicators", cmd_indicators, "indicators: import values from a CSV file"},
    {"cameras", cmd_cameras, "cameras: import the camera registry from a CSV file"},
    {"signer", cmd_signer, "documents: an official's signing key (add)"},
    {"tls", cmd_tls, "HTTPS certificates: selfsign for a closed network"},
    {"register", cmd_register,
     "documents: the unit's numbering register (show, handover, takeover)"},
    {"backup", cmd_backup, "copy the store, key and configuration to a file while serving"},
    {"restore", cmd_restore, "restore a node from a file of lienthong backup"},
    {"doctor", cmd_doctor, "check a node's health and say what to do about each problem"},
    {"demo", cmd_demo, "start a sample network on 127.0.0.1"},
};

static void usage(FILE *out)
{
    fprintf(out,
            "lienthong %s - smart-city operations nodes connected across tiers\n\n"
            "Usage: lienthong COMMAND [OPTIONS]\n\nCommands:\n",
            LT_VERSION);
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nRun 'lienthong COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return CLI_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("lienthong %s\n", LT_VERSION);
        return CLI_OK;
    }
    domains_install();
    if (sodium_init() < 0) {
        fprintf(stderr, "lienthong: error: libsodium failed to initialise\n");
        return CLI_FAIL;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "lienthong: error: unknown command \"%s\"\n\n", argv[1]);
    usage(stderr);
    return CLI_USAGE;
}
