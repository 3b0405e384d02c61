/*
 * ind_period.c - periods of indicators: "2026-11" (month), "2026-Q4"
 * (quarter), "2026" (year), as ordinals and as Vietnam-time (UTC+7)
 * boundaries.
 */
#include "indicators/ind_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define VN_OFFSET_MS (7ull * 3600 * 1000)
#define DAY_MS (24ull * 3600 * 1000)

static const char *const ptype_names[] = {"month", "quarter", "year"};

int ind_ptype_parse(const char *name)
{
    for (int i = 0; i < 3; i++)
        if (name && !strcmp(name, ptype_names[i]))
            return i;
    return -1;
}

const char *ind_ptype_name(ind_ptype t)
{
    return ptype_names[t];
}

static bool digits(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)p[i]))
            return false;
    return true;
}

bool ind_period_parse(ind_ptype t, const char *p, int *ord)
{
    size_t n = strlen(p);
    if (n < 4 || !digits(p, 4))
        return false;
    int y = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
    if (y < 1900 || y > 2200)
        return false;
    if (t == PER_YEAR && n == 4) {
        *ord = y;
        return true;
    }
    if (t == PER_MONTH && n == 7 && p[4] == '-' && digits(p + 5, 2)) {
        int m = (p[5] - '0') * 10 + (p[6] - '0');
        if (m < 1 || m > 12)
            return false;
        *ord = y * 12 + m - 1;
        return true;
    }
    if (t == PER_QUARTER && n == 7 && p[4] == '-' && p[5] == 'Q' && p[6] >= '1' && p[6] <= '4') {
        *ord = y * 4 + (p[6] - '1');
        return true;
    }
    return false;
}

void ind_period_name(ind_ptype t, int ord, char out[IND_PERIOD_MAX])
{
    if (t == PER_MONTH)
        snprintf(out, IND_PERIOD_MAX, "%04d-%02d", ord / 12, ord % 12 + 1);
    else if (t == PER_QUARTER)
        snprintf(out, IND_PERIOD_MAX, "%04d-Q%d", ord / 4, ord % 4 + 1);
    else
        snprintf(out, IND_PERIOD_MAX, "%04d", ord);
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The first month (ordinal of months) of period ord. */
static int first_month(ind_ptype t, int ord)
{
    return t == PER_MONTH ? ord : t == PER_QUARTER ? ord * 3 : ord * 12;
}

static uint64_t month_start_ms(int mord)
{
    return (uint64_t)days_from_civil(mord / 12, mord % 12 + 1, 1) * DAY_MS - VN_OFFSET_MS;
}

uint64_t ind_period_start_ms(ind_ptype t, int ord)
{
    return month_start_ms(first_month(t, ord));
}

uint64_t ind_period_end_ms(ind_ptype t, int ord)
{
    return ind_period_start_ms(t, ord + 1);
}
