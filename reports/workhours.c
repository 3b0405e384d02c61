/*
 * workhours.c - see workhours.h. Local time is UTC+7; a day is split into
 * the two working windows [08:00, 12:00) and [13:00, 17:00).
 */
#include "reports/workhours.h"

#define HOUR_MS 3600000ull
#define DAY_MS (24 * HOUR_MS)
#define ZONE_MS (7 * HOUR_MS)

static const uint64_t windows[2][2] = {{8 * HOUR_MS, 12 * HOUR_MS}, {13 * HOUR_MS, 17 * HOUR_MS}};

/* Monday..Friday for a local day number (day 0 = 1970-01-01, a Thursday). */
static int is_workday(uint64_t day)
{
    unsigned wd = (unsigned)((day + 3) % 7); /* 0 = Monday */
    return wd < 5;
}

uint64_t workhours_add_hours(uint64_t from_ms, unsigned hours)
{
    uint64_t local = from_ms + ZONE_MS, left = hours * HOUR_MS;
    uint64_t day = local / DAY_MS, t = local % DAY_MS;
    if (!left)
        return from_ms;
    for (;;) {
        if (is_workday(day)) {
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

uint64_t workhours_add_days(uint64_t from_ms, unsigned days)
{
    uint64_t day = (from_ms + ZONE_MS) / DAY_MS;
    while (days) {
        day++;
        if (is_workday(day))
            days--;
    }
    return day * DAY_MS + 17 * HOUR_MS - ZONE_MS;
}
