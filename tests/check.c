/*
 * check.c - totals and temp dirs for the C tests. See check.h.
 */
#include "tests/check.h"
#include "node/domains.h"

#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int check_passed, check_failed;

static char *dirs[64];
static int ndirs;
static pid_t owner;

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void cleanup(void)
{
    if (getpid() != owner)
        return;
    for (int i = 0; i < ndirs; i++) {
        if (!getenv("LT_KEEP_TMP"))
            nftw(dirs[i], rm_one, 16, FTW_DEPTH | FTW_PHYS);
        free(dirs[i]);
    }
    ndirs = 0;
}

const char *check_tmpdir(void)
{
    if (!owner) {
        owner = getpid();
        atexit(cleanup);
    }
    const char *base = getenv("TMPDIR");
    char tmpl[512];
    snprintf(tmpl, sizeof tmpl, "%s/lt-test-XXXXXX", base ? base : "/tmp");
    if (!mkdtemp(tmpl) || ndirs == 64) {
        perror("mkdtemp");
        exit(2);
    }
    dirs[ndirs] = strdup(tmpl);
    return dirs[ndirs++];
}

int check_done(void)
{
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed ? 1 : 0;
}

/* Every test program opens its node stores with the node's domains, as
 * the lienthong binary does (node/domains.h). */
__attribute__((constructor)) static void check_domains(void)
{
    domains_install();
}
