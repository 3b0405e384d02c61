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

const char *csv_json_text(const json_t *v, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_boolean(v))
        return json_is_true(v) ? "1" : "0";
    if (json_is_integer(v))
        snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, cap, "%.15g", json_real_value(v));
    return buf;
}
