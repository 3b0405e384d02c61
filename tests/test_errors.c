/*
 * test_errors.c - the table of error kinds (lib/error.h): every kind has an
 * HTTP error status, a CLI exit code and a distinct generic code; a status
 * maps back to a kind of that status; every generic code is listed in the
 * ErrorCode enum of docs/openapi.yaml (the list the web UI translates).
 */
#include "lib/error.h"
#include "tests/check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_table_complete(void)
{
    CHECK(lt_errkind_status(LT_OK) == 200 && lt_errkind_exit(LT_OK) == 0);
    for (int k = LT_OK + 1; k < LT_ERRKIND_COUNT; k++) {
        int st = lt_errkind_status((lt_errkind)k);
        const char *code = lt_errkind_code((lt_errkind)k);
        CHECKF(st >= 400 && st <= 599, "kind %d has status %d", k, st);
        CHECKF(lt_errkind_exit((lt_errkind)k) == (k == LT_EINVAL ? 2 : 1), "kind %d exits %d", k,
               lt_errkind_exit((lt_errkind)k));
        CHECKF(code && *code, "kind %d has no code", k);
        CHECKF(lt_errkind_status(lt_errkind_of_status(st)) == st,
               "status %d of kind %d maps to a kind of status %d", st, k,
               lt_errkind_status(lt_errkind_of_status(st)));
        for (int j = LT_OK + 1; j < k; j++)
            CHECKF(strcmp(code, lt_errkind_code((lt_errkind)j)) != 0,
                   "kinds %d and %d share code %s", j, k, code);
    }
    /* A kind outside the table is an internal error, never a crash. */
    CHECK(lt_errkind_status(LT_ERRKIND_COUNT) == 500);
    CHECK(!strcmp(lt_errkind_code((lt_errkind)999), "internal"));
}

static void test_status_codes(void)
{
    CHECK(!strcmp(lt_error_status_code(400), "invalid"));
    CHECK(!strcmp(lt_error_status_code(401), "unauthenticated"));
    CHECK(!strcmp(lt_error_status_code(403), "forbidden"));
    CHECK(!strcmp(lt_error_status_code(404), "not_found"));
    CHECK(!strcmp(lt_error_status_code(409), "conflict"));
    CHECK(!strcmp(lt_error_status_code(413), "too_large"));
    CHECK(!strcmp(lt_error_status_code(429), "rate_limited"));
    CHECK(!strcmp(lt_error_status_code(500), "internal")); /* not "storage" */
    CHECK(!strcmp(lt_error_status_code(503), "unavailable"));
    /* Statuses of no kind: by class. */
    CHECK(!strcmp(lt_error_status_code(431), "invalid"));
    CHECK(!strcmp(lt_error_status_code(502), "internal"));
}

static void test_set(void)
{
    lt_error e;
    lt_error_clear(&e);
    CHECK(e.kind == LT_OK && !strcmp(lt_error_code(&e), "ok") && !e.message[0]);
    CHECK(lt_error_set(&e, LT_ENOTFOUND, "report.not_found", "no report %s", "X-1") == -1);
    CHECK(e.kind == LT_ENOTFOUND && !strcmp(lt_error_code(&e), "report.not_found") &&
          !strcmp(e.message, "no report X-1"));
    CHECK(lt_error_set(&e, LT_ESTORAGE, NULL, "disk") == -1 &&
          !strcmp(lt_error_code(&e), "storage"));
    CHECK(lt_error_set(NULL, LT_EINVAL, NULL, "ignored") == -1);
    snprintf(e.message, sizeof e.message, "written by a text-only function");
    CHECK(lt_error_mark(&e, LT_EFORBIDDEN, "report.authority") == -1 && e.kind == LT_EFORBIDDEN &&
          !strcmp(lt_error_code(&e), "report.authority") &&
          !strcmp(e.message, "written by a text-only function"));
}

/* The codes of the ErrorCode schema: the "- code" items of its enum. */
static char *openapi_error_codes(void)
{
    const char *src = getenv("LT_SRC");
    char path[4096];
    snprintf(path, sizeof path, "%s/docs/openapi.yaml", src ? src : ".");
    FILE *f = fopen(path, "r");
    REQUIRE(f != NULL);
    static char codes[16384];
    codes[0] = '\0';
    char line[512];
    bool in_schema = false, in_enum = false;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "    ErrorCode:", 14))
            in_schema = true;
        else if (in_schema && !strncmp(line, "      enum:", 11))
            in_enum = true;
        else if (in_enum && !strncmp(line, "        - ", 10)) {
            line[strcspn(line, "\r\n")] = '\0';
            strncat(codes, " ", sizeof codes - strlen(codes) - 1);
            strncat(codes, line + 10, sizeof codes - strlen(codes) - 1);
        } else if (in_enum)
            break;
    }
    fclose(f);
    strncat(codes, " ", sizeof codes - strlen(codes) - 1);
    return codes;
}

static void test_openapi_lists_generic_codes(void)
{
    const char *codes = openapi_error_codes();
    REQUIRE(strlen(codes) > 1);
    for (int k = LT_OK + 1; k < LT_ERRKIND_COUNT; k++) {
        char want[LT_ERROR_CODE_MAX + 2];
        snprintf(want, sizeof want, " %s ", lt_errkind_code((lt_errkind)k));
        CHECKF(strstr(codes, want) != NULL, "docs/openapi.yaml ErrorCode lacks%s", want);
    }
}

int main(void)
{
    test_table_complete();
    test_status_codes();
    test_set();
    test_openapi_lists_generic_codes();
    return check_done();
}
