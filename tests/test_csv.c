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

/* Each field, whether it is a text, and what csv_field writes for it. */
static const struct {
    const char *in;
    bool text;
    const char *want;
} fields[] = {
    {"plain", true, "plain"},
    {"", true, ""},
    {"a,b", true, "\"a,b\""},
    {"say \"hi\"", true, "\"say \"\"hi\"\"\""},
    {"line1\nline2", true, "\"line1\nline2\""},
    {"cr\rlf", true, "\"cr\rlf\""},
    {"Xã Hưng Lộc", true, "Xã Hưng Lộc"},
    /* the formula guard: texts starting with = + - @ */
    {"=HYPERLINK(\"x\")", true, "\"'=HYPERLINK(\"\"x\"\")\""},
    {"+1", true, "'+1"},
    {"-2+3", true, "'-2+3"},
    {"@SUM(A1)", true, "'@SUM(A1)"},
    {"a=b", true, "a=b"},
    /* a number is not guarded: a negative stays a number */
    {"-5.5", false, "-5.5"},
};

int main(void)
{
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        char *got = field(fields[i].in, fields[i].text);
        CHECKF(!strcmp(got, fields[i].want), "field [%s] -> [%s], want [%s]", fields[i].in, got,
               fields[i].want);
        free(got);
    }

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
