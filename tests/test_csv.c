/*
 * test_csv.c - the shared CSV writer of the list exports (lib/csv.h):
 * quoting of commas, quotes and line breaks, the formula guard, the byte
 * order mark and header, and which requests ask for CSV.
 */
#include "check.h"
#include "lib/csv.h"

#include <stdlib.h>
#include <string.h>

/* What csv_field writes for s. */
static char *field(const char *s, bool text)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    csv_field(f, s, text);
    fclose(f);
    return buf;
}

static void check_field(const char *in, bool text, const char *want)
{
    char *got = field(in, text);
    CHECKF(!strcmp(got, want), "field [%s] -> [%s], want [%s]", in, got, want);
    free(got);
}

int main(void)
{
    check_field("plain", true, "plain");
    check_field("", true, "");
    check_field("a,b", true, "\"a,b\"");
    check_field("say \"hi\"", true, "\"say \"\"hi\"\"\"");
    check_field("line1\nline2", true, "\"line1\nline2\"");
    check_field("cr\rlf", true, "\"cr\rlf\"");
    check_field("Xã Hưng Lộc", true, "Xã Hưng Lộc");
    /* the formula guard: texts starting with = + - @ */
    check_field("=HYPERLINK(\"x\")", true, "\"'=HYPERLINK(\"\"x\"\")\"");
    check_field("+1", true, "'+1");
    check_field("-2+3", true, "'-2+3");
    check_field("@SUM(A1)", true, "'@SUM(A1)");
    check_field("a=b", true, "a=b");
    /* a number is not guarded: a negative stays a number */
    check_field("-5.5", false, "-5.5");

    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    const char *cols[] = {"id", "name"}, *row[] = {"=1", NULL};
    csv_header(f, cols, 2);
    csv_record(f, row, 2);
    fclose(f);
    CHECKF(!strcmp(buf, "\xEF\xBB\xBFid,name\r\n'=1,\r\n"), "got [%s]", buf);
    free(buf);

    char cell[32];
    json_t *n = json_integer(-7), *r = json_real(21.5);
    CHECK(!strcmp(csv_json_text(n, cell, sizeof cell), "-7"));
    CHECK(!strcmp(csv_json_text(r, cell, sizeof cell), "21.5"));
    json_decref(n);
    json_decref(r);
    CHECK(!strcmp(csv_json_text(json_true(), cell, sizeof cell), "1"));
    CHECK(!strcmp(csv_json_text(json_null(), cell, sizeof cell), ""));

    CHECK(csv_wanted("csv", NULL));
    CHECK(csv_wanted(NULL, "text/csv, */*;q=0.1"));
    CHECK(!csv_wanted("json", "application/json"));
    CHECK(!csv_wanted(NULL, NULL));
    return check_done();
}
