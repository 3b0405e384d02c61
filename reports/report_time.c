/*
 * report_time.c - the times of the reports API: W3C datetimes in
 * Vietnam's zone (UTC+7, no daylight saving) out, ISO dates and datetimes
 * in (report_time_w3c, report_time_parse in report_query.h).
 */
#include "reports/report_query.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define ZONE_S (7 * 3600)

void report_time_w3c(uint64_t ms, char *out, size_t cap)
{
    time_t t = (time_t)(ms / 1000) + ZONE_S;
    struct tm tm;
    gmtime_r(&t, &tm);
    char buf[40];
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S+07:00", &tm);
    snprintf(out, cap, "%s", buf);
}

/* Reads n digits at *p into *v. */
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

int report_time_parse(const char *s, bool end, uint64_t *ms)
{
    struct tm tm = {0};
    int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0, zone = ZONE_S;
    const char *p = s;
    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
        !digits(&p, 2, &d) || mo < 1 || mo > 12 || d < 1 || d > 31 || y < 1970)
        return -1;
    bool date_only = *p == '\0';
    if (!date_only) {
        if ((*p != 'T' && *p != ' ') || (p++, !digits(&p, 2, &h)) || *p++ != ':' ||
            !digits(&p, 2, &mi) || h > 23 || mi > 59)
            return -1;
        if (*p == ':' && (p++, !digits(&p, 2, &sec) || sec > 60))
            return -1;
        if (*p == '.') {
            p++;
            int nd = 0;
            for (; isdigit((unsigned char)*p); p++, nd++)
                if (nd < 3)
                    frac = frac * 10 + (*p - '0');
            if (!nd)
                return -1;
            for (; nd < 3; nd++)
                frac *= 10;
        }
        if (*p == 'Z') {
            zone = 0;
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1, zh, zm;
            if (!digits(&p, 2, &zh) || *p++ != ':' || !digits(&p, 2, &zm) || zh > 14 || zm > 59)
                return -1;
            zone = sign * (zh * 3600 + zm * 60);
        }
        if (*p)
            return -1;
    }
    struct tm check = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d};
    if (timegm(&check) == (time_t)-1 || check.tm_mday != d)
        return -1; /* 2026-02-31 */
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d + (date_only && end ? 1 : 0);
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    if (t == (time_t)-1 || t < zone)
        return -1;
    *ms = (uint64_t)(t - zone) * 1000 + (uint64_t)frac;
    return 0;
}
