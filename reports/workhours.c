/*
 * workhours.c - see workhours.h. Local time is UTC+7; a day is split into
 * the two working windows [08:00, 12:00) and [13:00, 17:00). Whether a day
 * is worked: its calendar entry if it has one (binary search), else
 * Monday to Friday.
 */
#include "reports/workhours.h"

#include <stdio.h>
#include <string.h>

#define HOUR_MS 3600000ull
#define DAY_MS (24 * HOUR_MS)
#define ZONE_MS (7 * HOUR_MS)

static const uint64_t windows[2][2] = {{8 * HOUR_MS, 12 * HOUR_MS}, {13 * HOUR_MS, 17 * HOUR_MS}};

/* Whether local day (day 0 = 1970-01-01, a Thursday) is worked. */
static bool is_workday(const workhours_calendar *cal, uint64_t day)
{
    size_t lo = 0, hi = cal ? cal->n : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cal->days[mid].day == (int64_t)day)
            return !cal->days[mid].off;
        if (cal->days[mid].day < (int64_t)day)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (day + 3) % 7 < 5; /* 0 = Monday */
}

uint64_t workhours_add_hours(const workhours_calendar *cal, uint64_t from_ms, unsigned hours)
{
    uint64_t local = from_ms + ZONE_MS, left = hours * HOUR_MS;
    uint64_t day = local / DAY_MS, t = local % DAY_MS;
    if (!left)
        return from_ms;
    for (;;) {
        if (is_workday(cal, day)) {
            for (int w = 0; w < 2; w++) {
                if (t >= windows[w][1])
                    continue;
                if (t < windows[w][0])
                    t = windows[w][0];
                uint64_t room = windows[w][1] - t;
                if (left <= room)
                    return day * DAY_MS + t + left - ZONE_MS;
                left -= room;
                t = windows[w][1];
            }
        }
        day++;
        t = 0;
    }
}

uint64_t workhours_add_days(const workhours_calendar *cal, uint64_t from_ms, unsigned days)
{
    uint64_t day = (from_ms + ZONE_MS) / DAY_MS;
    while (days) {
        day++;
        if (is_workday(cal, day))
            days--;
    }
    return day * DAY_MS + 17 * HOUR_MS - ZONE_MS;
}

int64_t workhours_day_of(uint64_t ms)
{
    return (int64_t)((ms + ZONE_MS) / DAY_MS);
}

bool workhours_date_parse(const char *s, int64_t *day)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, m, d, n = 0;
    if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 ||
        s[4] != '-' || s[7] != '-' || y < 1970 || m < 1 || m > 12 || d < 1)
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[m - 1] + (m == 2 && leap))
        return false;
    /* days from civil (H. Hinnant), March-based years */
    int64_t yy = m <= 2 ? y - 1 : y, era = yy / 400, yoe = yy - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    *day = era * 146097 + doe - 719468;
    return true;
}
