/*
 * csv.c - see csv.h.
 */
#include "lib/csv.h"

#include <string.h>

bool csv_wanted(const char *format, const char *accept)
{
    return (format && !strcmp(format, "csv")) || (accept && strstr(accept, "text/csv"));
}

void csv_field(FILE *out, const char *s, bool text)
{
    bool quote = strpbrk(s, ",\"\r\n") != NULL;
    if (quote)
        fputc('"', out);
    if (text && *s && strchr("=+-@", *s))
        fputc('\'', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    if (quote)
        fputc('"', out);
}

void csv_header(FILE *out, const char *const *cols, size_t n)
{
    fputs("\xEF\xBB\xBF", out);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s%s", i ? "," : "", cols[i]);
    fputs("\r\n", out);
}

void csv_record(FILE *out, const char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputc(',', out);
        csv_field(out, v[i] ? v[i] : "", true);
    }
    fputs("\r\n", out);
}
