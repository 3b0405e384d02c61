/*
 * hlc.c - hybrid logical clock arithmetic. See hlc.h.
 */
#include "storage/hlc.h"

#include <stdio.h>
#include <time.h>

hlc_t hlc_next(hlc_t last, uint64_t wall_ms)
{
    if (wall_ms > hlc_ms(last))
        return hlc_make(wall_ms, 0);
    if (last == UINT64_MAX)
        return last; /* no later stamp exists: saturate rather than wrap to 0 */
    if (hlc_counter(last) == 0xffff)
        return hlc_make(hlc_ms(last) + 1, 0);
    return last + 1;
}

hlc_t hlc_observe(hlc_t last, hlc_t remote, uint64_t wall_ms)
{
    hlc_t m = last > remote ? last : remote;
    hlc_t w = hlc_make(wall_ms, 0);
    return m > w ? m : w;
}

uint64_t hlc_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

char *hlc_format(hlc_t t, char *buf, unsigned buflen)
{
    uint64_t ms = hlc_ms(t);
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    snprintf(buf, buflen, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ+%u", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(ms % 1000),
             (unsigned)hlc_counter(t));
    return buf;
}
