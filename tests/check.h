/*
 * check.h - the tiny assertion kit of the C tests (run by ctest).
 *
 * CHECK(cond) records a failure with file:line and goes on; REQUIRE(cond)
 * stops the test. check_done() prints "N passed, N failed" and returns the
 * exit code. Temp dirs come from check_tmpdir() and are removed at exit
 * unless LT_KEEP_TMP is set.
 */
#ifndef LT_CHECK_H
#define LT_CHECK_H

#include <stdio.h>
#include <stdlib.h>

extern int check_passed, check_failed;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond) {                                                                                \
            check_passed++;                                                                        \
        } else {                                                                                   \
            check_failed++;                                                                        \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#define CHECKF(cond, ...)                                                                          \
    do {                                                                                           \
        if (cond) {                                                                                \
            check_passed++;                                                                        \
        } else {                                                                                   \
            check_failed++;                                                                        \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);               \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
        }                                                                                          \
    } while (0)

#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: required: %s\n", __FILE__, __LINE__, #cond);                   \
            check_failed++;                                                                        \
            exit(check_done());                                                                    \
        }                                                                                          \
        check_passed++;                                                                            \
    } while (0)

/* Prints the totals; returns 0 when nothing failed. */
int check_done(void);

/* Makes a fresh temp directory (removed at exit); returns its path. */
const char *check_tmpdir(void);

#endif
