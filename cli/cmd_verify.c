/*
 * cmd_verify.c - `lienthong verify`: like git fsck for the node's store.
 */
#include "cli/cli.h"

#include <stdio.h>

static const char usage[] =
    "Usage: lienthong verify --dir DIR\n\n"
    "Checks every stored entry's shape, signature and hash links, then replays\n"
    "the whole log into a scratch store (inside DIR) and compares every\n"
    "materialised record and collection digest with the stored ones. Prints\n"
    "each problem, naming the entry (origin key prefix:seq) or record, and\n"
    "exits 1 when there is any.\n\n"
    "  --dir DIR   the node's data directory\n";

static void print_problem(void *ctx, const char *msg)
{
    (void)ctx;
    printf("%s\n", msg);
}

static int count_equivocation(void *ctx, const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    (void)a, (void)al, (void)b, (void)bl;
    ++*(long *)ctx;
    return 0;
}

int cmd_verify(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, 0, 'd'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *dir = NULL;
    int code, ch;
    bool done = false;
    while ((ch = cli_next_opt(argc, argv, opts, "verify", usage, &code, &done)) != -1) {
        if (done)
            return code;
        if (ch == 'd')
            dir = optarg;
    }
    if (optind < argc)
        return cli_usage_error("verify", "unexpected argument");
    node_config c;
    store *s;
    if ((code = cli_load("verify", dir, &c)) || (code = cli_open_store("verify", &c, &s, false)))
        return code;
    char err[512];
    uint64_t entries = store_entry_count(s);
    long problems = store_verify(s, dir, print_problem, NULL, err, sizeof err);
    long equivocations = 0;
    store_equivocations(s, count_equivocation, &equivocations);
    store_close(s);
    if (problems < 0)
        return cli_error("verify", CLI_FAIL, "%s", err);
    if (equivocations)
        printf("note: %ld equivocation proof(s) held (another node signed two entries for one "
               "seq); see lienthong status\n",
               equivocations);
    if (problems) {
        printf("verify: %ld problem(s) in %llu entries\n", problems, (unsigned long long)entries);
        return CLI_FAIL;
    }
    printf("verify: %llu entries, signatures, hash links and materialised state OK\n",
           (unsigned long long)entries);
    return CLI_OK;
}
