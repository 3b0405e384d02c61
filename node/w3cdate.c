/*
 * w3cdate.c - see w3cdate.h. Civil dates to days and back with Howard
 * Hinnant's algorithms (proleptic Gregorian, any year 0000..9999), so no
 * libc time zone state is involved.
 */
#include "node/w3cdate.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>


/* Days since 1970-01-01 of y-m-d. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static int month_days(int y, int m)
{
    static const int n[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : n[m - 1];
}

void w3cdate_format(int64_t ms, int offset_min, char out[W3CDATE_MAX])
{
    int64_t secs = (ms >= 0 ? ms : ms - 999) / 1000 + (int64_t)offset_min * 60;
    int64_t days = (secs >= 0 ? secs : secs - 86399) / 86400;
    int64_t sod = secs - days * 86400;
    int y, m, d;
    civil_from_days(days, &y, &m, &d);
    int off = offset_min < 0 ? -offset_min : offset_min;
    if (offset_min == 0)
        snprintf(out, W3CDATE_MAX, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, (int)(sod / 3600),
                 (int)(sod / 60 % 60), (int)(sod % 60));
    else
        snprintf(out, W3CDATE_MAX, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", y, m, d,
                 (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60),
                 offset_min < 0 ? '-' : '+', off / 60, off % 60);
}

/* Reads exactly n digits at *p into *v; advances *p. */
static bool digits(const char **p, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (!isdigit((unsigned char)**p))
            return false;
        *v = *v * 10 + (**p - '0');
    }
    return true;
}

static bool expect(const char **p, char c)
{
    if (**p != c)
        return false;
    (*p)++;
    return true;
}

int w3cdate_parse(const char *s, int date_offset_min, int64_t *ms, char *err, size_t errlen)
{
    const char *p = s;
    int y, mo, d, h = 0, mi = 0, sec = 0, frac_ms = 0, off = date_offset_min;
    if (!digits(&p, 4, &y) || !expect(&p, '-') || !digits(&p, 2, &mo) || !expect(&p, '-') ||
        !digits(&p, 2, &d))
        goto bad;
    if (mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo)) {
        snprintf(err, errlen, "\"%s\" is not a real date; write e.g. 2026-11-23", s);
        return -1;
    }
    if (*p == 'T') {
        p++;
        if (!digits(&p, 2, &h) || !expect(&p, ':') || !digits(&p, 2, &mi))
            goto bad;
        if (*p == ':') {
            p++;
            if (!digits(&p, 2, &sec))
                goto bad;
            if (*p == '.') {
                p++;
                int scale = 100;
                if (!isdigit((unsigned char)*p))
                    goto bad;
                for (; isdigit((unsigned char)*p); p++, scale /= 10)
                    frac_ms += (*p - '0') * scale;
            }
        }
        if (h > 23 || mi > 59 || sec > 59) {
            snprintf(err, errlen, "\"%s\" is not a real time of day; write e.g. "
                                  "2026-11-23T16:20:00+07:00", s);
            return -1;
        }
        if (*p == 'Z') {
            p++;
            off = 0;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1, oh, om;
            if (!digits(&p, 2, &oh) || !expect(&p, ':') || !digits(&p, 2, &om) || oh > 23 ||
                om > 59)
                goto bad;
            off = sign * (oh * 60 + om);
        } else {
            snprintf(err, errlen, "\"%s\" has no time zone: end it with Z or an offset "
                                  "such as +07:00", s);
            return -1;
        }
    }
    if (*p)
        goto bad;
    *ms = (days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - (int64_t)off * 60) *
              1000 + frac_ms;
    return 0;
bad:
    snprintf(err, errlen, "\"%s\" is not a W3C datetime; write e.g. 2026-11-23T16:20:00+07:00 "
                          "or 2026-11-23", s);
    return -1;
}
